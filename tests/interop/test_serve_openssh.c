/*
 * Interop: OpenSSH's own clients against `amiko serve` (serve_fixture.h),
 * as issue 7's "Done when" lists them.
 *
 * - ssh exec: remote exit codes 0, 1, 7 and 255 (told apart from ssh's own
 *   255 by the output), stdout and stderr apart, 1 MiB of stdin through
 *   `cat` checksummed.
 * - ssh -tt: a shell on a pty driven by the test through pipes (commands
 *   sent, output and a prompt read back), `exit 3` gives ssh status 3.
 * - sftp -b: every batch command, files of 0, 1, 32767, 32768, 32769 and
 *   1 MiB + 1 bytes checksummed both ways; errors (missing file,
 *   permission denied, directory not empty) as sftp reports them.
 * - ssh-keyscan lists every host key (also each ECDSA size alone) and the
 *   keys match the files; the fingerprints serve prints match ssh-keygen.
 * - scp (SFTP mode, with the fixture's ssh_config) both ways and -r.
 * - password and keyboard-interactive through SSH_ASKPASS; a wrong
 *   password and an unknown user refused.
 * - UpdateHostKeys=yes: ssh learns every host key (hostkeys-00@openssh.com).
 * - SIGTERM: serve exits 0.
 *
 * argv[1] picks a part: "exec" (what starts the user's shell: exec, -tt,
 * askpass logins) or "files" (sftp, scp, keyscan, UpdateHostKeys); CTest
 * runs each as its own test.
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/wait.h"
#include "serve_fixture.h"

#define RUN_MS 40000            /* one client run, generous for ASan on 2 loaded cores */
#define MIB ((size_t)1024 * 1024)

static struct serve_fixture fx;
static char out_path[FIXTURE_PATH_MAX], err_path[FIXTURE_PATH_MAX], in_path[FIXTURE_PATH_MAX];

static void
start_default(void)
{
    const char *args[] = { "--password", serve_fixture_password_arg(&fx), NULL };

    if (serve_fixture_start(&fx, SERVE_HK_ALL, args) != 0)
        fail_msg("amiko serve did not start");
}

/* Runs the client in @p a; stdout/stderr to out_path/err_path. */
static int
run(struct serve_argv *a, const char *in, char *const env[])
{
    return serve_run(&fx, a->v, in, out_path, err_path, env, RUN_MS);
}

static void
show_failure(const char *what)
{
    char *o = serve_slurp(out_path, NULL), *e = serve_slurp(err_path, NULL);

    fprintf(stderr, "%s\n--- stdout ---\n%s\n--- stderr ---\n%s\n", what, o, e);
    free(o);
    free(e);
    serve_fixture_dump_log(&fx, 3000);
}

/* Shows what the client printed and serve's log, then fails. */
static void
fail_with(const char *what)
{
    show_failure(what);
    fail_msg("%s failed", what);
}

static void
expect_in(const char *path, const char *needle)
{
    char *s = serve_slurp(path, NULL);
    int found = strstr(s, needle) != NULL;

    free(s);
    if (!found) {
        show_failure("missing output");
        fail_msg("%s lacks \"%s\"", path, needle);
    }
}

/* @p text contains @p needle, or the test fails showing it. */
static void
expect_text(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL) {
        fprintf(stderr, "output:\n%s\n", text);
        serve_fixture_dump_log(&fx, 2000);
        fail_msg("the output lacks \"%s\"", needle);
    }
}

static int
count_in(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ssh DEST CMD with the defaults (publickey); its exit status. */
static int
ssh_cmd(const char *cmd, const char *in)
{
    struct serve_argv a;

    serve_argv_client(&a, &fx, SSH_PATH, NULL);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, cmd);
    return run(&a, in, NULL);
}

/* --- ssh exec ------------------------------------------------------------ */

static void
test_ssh_exec_exit_codes_and_streams(void **state)
{
    static const int codes[] = { 0, 1, 7, 255 };

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char cmd[128], want[64];
        char *o, *e;
        int rc;

        snprintf(cmd, sizeof(cmd), "echo out-%d; echo err-%d >&2; exit %d", codes[i], codes[i],
            codes[i]);
        rc = ssh_cmd(cmd, NULL);
        if (rc != codes[i]) {
            show_failure(cmd);
            fail_msg("ssh exited %d, the remote command %d", rc, codes[i]);
        }
        /* stdout holds exactly the command's stdout: 255 came from the
         * remote command, not from an ssh failure */
        o = serve_slurp(out_path, NULL);
        e = serve_slurp(err_path, NULL);
        snprintf(want, sizeof(want), "out-%d\n", codes[i]);
        assert_string_equal(o, want);
        snprintf(want, sizeof(want), "err-%d\n", codes[i]);
        assert_non_null(strstr(e, want));
        assert_null(strstr(e, "out-"));
        free(o);
        free(e);
    }
    /* the log names the authentication (user and method) */
    assert_true(serve_fixture_log_count(&fx, fx.user, NULL));
    assert_true(serve_fixture_log_count(&fx, "publickey", NULL));
}

static void
test_ssh_exec_stdin_1mib(void **state)
{
    uint8_t *data = malloc(MIB);
    char back[FIXTURE_PATH_MAX], cmd[3 * FIXTURE_PATH_MAX];

    (void)state;
    assert_non_null(data);
    tf_fill(data, MIB, 1234);
    assert_int_equal(serve_write_file(in_path, data, MIB), 0);
    free(data);
    /* through cat to ssh's stdout, and with tee into a file on the server
     * (one session: each one starts the user's shell, which may be slow) */
    serve_fixture_work_path(&fx, "stdin.copy", back, sizeof(back));
    snprintf(cmd, sizeof(cmd), "cat | tee '%s'", back);
    if (ssh_cmd(cmd, in_path) != 0)
        fail_with("ssh cat | tee");
    assert_true(tf_same(in_path, out_path));
    assert_true(tf_same(in_path, back));
    unlink(back);
}

/* --- ssh -tt: a shell driven through pipes -------------------------------- */

struct tty_session {
    pid_t pid;
    int to, from;
    char buf[65536];
    size_t len;
    size_t mark;            /* output before this was matched already */
};

static void
tty_send(struct tty_session *t, const char *line)
{
    size_t n = strlen(line);

    while (n > 0) {
        ssize_t w = write(t->to, line, n);

        if (w < 0 && errno == EINTR)
            continue;
        assert_true(w > 0);
        line += w;
        n -= (size_t)w;
    }
}

/* Reads until @p want appears after the last match (bounded). */
static void
tty_expect(struct tty_session *t, const char *want)
{
    int64_t deadline = amk_io_deadline(RUN_MS);

    for (;;) {
        struct pollfd p = { .fd = t->from, .events = POLLIN };
        char *hit;
        ssize_t n;

        t->buf[t->len] = '\0';
        if ((hit = strstr(t->buf + t->mark, want)) != NULL) {
            t->mark = (size_t)(hit - t->buf) + strlen(want);
            return;
        }
        if (amk_io_remaining_ms(deadline) == 0 || t->len + 1 >= sizeof(t->buf))
            break;
        if (poll(&p, 1, amk_io_remaining_ms(deadline)) <= 0)
            continue;
        n = read(t->from, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        t->len += (size_t)n;
    }
    fprintf(stderr, "shell output so far:\n%s\n", t->buf);
    serve_fixture_dump_log(&fx, 3000);
    fail_msg("the shell never printed \"%s\"", want);
}

static void
test_ssh_tt_shell(void **state)
{
    struct tty_session t;
    struct serve_argv a;
    char *env[] = { (char *)"TERM=xterm-amk-test", NULL };
    int rc;

    (void)state;
    memset(&t, 0, sizeof(t));
    serve_argv_client(&a, &fx, SSH_PATH, NULL);
    serve_argv_add(&a, "-tt");
    serve_argv_add(&a, fx.dest);
    t.pid = serve_spawn(&fx, a.v, &t.to, &t.from, err_path, env);
    assert_true(t.pid > 0);
    /* the shell evaluates what it is sent: the typed text (echoed by the
     * pty) differs from what the shell prints */
    tty_send(&t, "echo MARK$((6*7))\n");
    tty_expect(&t, "MARK42");
    /* a prompt of our own, then each command's output before it */
    tty_send(&t, "PS1='amk''-prompt> '\n");
    tty_expect(&t, "amk-prompt> ");
    tty_send(&t, "echo T=$TERM; tty\n");
    tty_expect(&t, "T=xterm-amk-test");
    tty_expect(&t, "/dev/pts/");
    tty_expect(&t, "amk-prompt> ");
    tty_send(&t, "cd / && echo \"in $(pwd)\" && test -t 0 && echo tty-$((40+2))\n");
    tty_expect(&t, "in /");
    tty_expect(&t, "tty-42");
    tty_expect(&t, "amk-prompt> ");
    tty_send(&t, "exit 3\n");
    rc = proc_wait(t.pid, RUN_MS);
    close(t.to);
    close(t.from);
    if (rc != 3) {
        fprintf(stderr, "shell output:\n%s\n", t.buf);
        show_failure("ssh -tt");
        fail_msg("ssh -tt exited %d, the shell 3", rc);
    }
}

/* --- sftp -b ------------------------------------------------------------- */

static const size_t SIZES[] = { 0, 1, 32767, 32768, 32769, MIB + 1 };
#define N_SIZES (sizeof(SIZES) / sizeof(SIZES[0]))

static int
sftp_batch(const char *batch)
{
    char bfile[FIXTURE_PATH_MAX];
    struct serve_argv a;
    int rc;

    serve_fixture_path(&fx, "batch", bfile, sizeof(bfile));
    assert_int_equal(serve_write_file(bfile, batch, strlen(batch)), 0);
    serve_argv_client(&a, &fx, SFTP_PATH, NULL);
    serve_argv_add(&a, "-b");
    serve_argv_add(&a, bfile);
    serve_argv_add(&a, fx.dest);
    /* sftp -b echoes the commands and their output to stdout, errors to stderr */
    rc = serve_run(&fx, a.v, NULL, out_path, out_path, NULL, RUN_MS);
    return rc;
}

static int
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static void
mkdir_work(const char *name, char *out, size_t cap)
{
    serve_fixture_work_path(&fx, name, out, cap);
    assert_int_equal(mkdir(out, 0755), 0);
}

static void
test_sftp_batch_every_command(void **state)
{
    char dir[FIXTURE_PATH_MAX], p[FIXTURE_PATH_MAX + 64], q[FIXTURE_PATH_MAX + 64];
    char *batch = malloc(16384), *o;
    uint8_t *data = malloc(MIB + 1);
    size_t n = 0;
    struct stat st;

    (void)state;
    assert_non_null(batch);
    assert_non_null(data);
    mkdir_work("batch", dir, sizeof(dir));
    /* local files l_i; the server works in dir/remote, the client in dir/local */
    snprintf(p, sizeof(p), "%s/local", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    for (size_t i = 0; i < N_SIZES; i++) {
        snprintf(p, sizeof(p), "%s/local/l_%zu", dir, i);
        tf_fill(data, SIZES[i], (uint32_t)i + 11);
        assert_int_equal(serve_write_file(p, data, SIZES[i]), 0);
    }
    /* partial copies to resume: reput (remote side) and reget (local side) */
    snprintf(p, sizeof(p), "%s/remote", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/remote/partial", dir);
    assert_int_equal(serve_write_file(p, data, (MIB + 1) / 3), 0);
    snprintf(p, sizeof(p), "%s/local/partial", dir);
    assert_int_equal(serve_write_file(p, data, (MIB + 1) / 2), 0);
    free(data);
    /* for put -p: a mode and a time of its own */
    snprintf(p, sizeof(p), "%s/local/l_0", dir);
    assert_int_equal(chmod(p, 0604), 0);
    {
        struct timespec ts[2] = { { .tv_sec = 1234567890 }, { .tv_sec = 1234567890 } };

        assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
    }

#define B(...) (n += (size_t)snprintf(batch + n, 16384 - n, __VA_ARGS__))
    B("version\nhelp\nprogress\nprogress\n");
    B("pwd\ncd %s/remote\npwd\n", dir);
    B("lcd %s/local\nlpwd\nlls\nlmkdir lsub\nlumask 022\n", dir);
    B("mkdir sub\n");
    for (size_t i = 0; i < N_SIZES; i++)
        B("put l_%zu r_%zu\nget r_%zu b_%zu\n", i, i, i, i);
    B("ls\nls -l\nls -la\nls -n\nls -1 sub\n");
    B("rename r_1 sub/moved\n");
    B("ln -s sub/moved sym\n");         /* ln -s */
    B("symlink r_2 sym2\n");            /* symlink */
    B("ln r_3 hard\n");                 /* hard link (hardlink@openssh.com) */
    B("ls -l sym\nls -l\n");           /* the link as a link (lstat in the listing) */
    B("chmod 600 hard\n");
    B("chown %u hard\n", (unsigned)getuid());
    B("chgrp %u hard\n", (unsigned)getgid());
    B("copy r_4 copied\ncp r_4 copied2\n");   /* copy-data */
    B("df\ndf -h\ndf -i\n");
    B("-rmdir sub\n");                  /* not empty */
    B("rm sym\nrm sym2\nrm hard\nrm sub/moved\nrmdir sub\n");
    B("reput l_%zu partial\n", N_SIZES - 1);
    B("reget r_%zu partial\n", N_SIZES - 1);
    B("put -p l_0 preserved\nget -p preserved preserved_back\n");
    B("put -R lsub\nmkdir tree\nmkdir tree/a\nput l_2 tree/a/f\nget -R tree tree_back\n");
    B("!echo local-shell-ran\n");
    B("ls -l\n");
    B("bye\n");
#undef B
    assert_true(n < 16384);
    if (sftp_batch(batch) != 0)
        fail_with("sftp -b");
    free(batch);

    o = serve_slurp(out_path, NULL);
    snprintf(p, sizeof(p), "Remote working directory: %s/remote\n", dir);
    expect_text(o, p);
    snprintf(p, sizeof(p), "Local working directory: %s/local\n", dir);
    expect_text(o, p);
    expect_text(o, "SFTP protocol version 3");
    expect_text(o, "lrwx");            /* ls -l of the symlink */
    expect_text(o, "Avail");           /* df */
    expect_text(o, "Inodes");          /* df -i */
    expect_text(o, "local-shell-ran");
    expect_text(o, "Failure");         /* rmdir of a non-empty directory */
    free(o);
    for (size_t i = 0; i < N_SIZES; i++) {
        snprintf(p, sizeof(p), "%s/local/l_%zu", dir, i);
        snprintf(q, sizeof(q), "%s/local/b_%zu", dir, i);
        if (!tf_same(p, q))
            fail_msg("get of %zu bytes differs", SIZES[i]);
        if (i == 1)
            continue;                   /* moved, then removed */
        snprintf(q, sizeof(q), "%s/remote/r_%zu", dir, i);
        if (!tf_same(p, q))
            fail_msg("put of %zu bytes differs", SIZES[i]);
    }
    /* the resumed transfers are whole */
    snprintf(p, sizeof(p), "%s/local/l_%zu", dir, N_SIZES - 1);
    snprintf(q, sizeof(q), "%s/remote/partial", dir);
    assert_true(tf_same(p, q));
    snprintf(q, sizeof(q), "%s/local/partial", dir);
    assert_true(tf_same(p, q));
    /* copy-data */
    snprintf(p, sizeof(p), "%s/remote/r_4", dir);
    snprintf(q, sizeof(q), "%s/remote/copied", dir);
    assert_true(tf_same(p, q));
    snprintf(q, sizeof(q), "%s/remote/copied2", dir);
    assert_true(tf_same(p, q));
    /* recursive put and get */
    snprintf(p, sizeof(p), "%s/remote/lsub", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(p, sizeof(p), "%s/local/l_2", dir);
    snprintf(q, sizeof(q), "%s/local/tree_back/a/f", dir);
    assert_true(tf_same(p, q));
    /* removed things are gone, the rest is in place */
    static const char *const gone[] = { "sub", "sym", "sym2", "hard", "r_1" };
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        snprintf(p, sizeof(p), "%s/remote/%s", dir, gone[i]);
        if (exists(p))
            fail_msg("%s still exists", p);
    }
    snprintf(p, sizeof(p), "%s/local/lsub", dir);
    assert_int_equal(stat(p, &st), 0);
    /* put -p and get -p kept the local file's mode and time */
    snprintf(p, sizeof(p), "%s/remote/preserved", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0604);
    assert_int_equal(st.st_mtime, 1234567890);
    snprintf(p, sizeof(p), "%s/local/preserved_back", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0604);
    assert_int_equal(st.st_mtime, 1234567890);
}

static void
test_sftp_errors(void **state)
{
    char dir[FIXTURE_PATH_MAX], p[FIXTURE_PATH_MAX + 64], batch[4096];
    char *o;
    int denied_cases = 0;

    (void)state;
    mkdir_work("errors", dir, sizeof(dir));
    snprintf(p, sizeof(p), "%s/full", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/full/x", dir);
    assert_int_equal(serve_write_file(p, "x", 1), 0);
    snprintf(p, sizeof(p), "%s/secret", dir);
    assert_int_equal(serve_write_file(p, "secret", 6), 0);
    assert_int_equal(chmod(p, 0), 0);
    {
        size_t n = 0;
#define B(...) (n += (size_t)snprintf(batch + n, sizeof(batch) - n, __VA_ARGS__))
        B("cd %s\nlcd %s\n", dir, dir);
        B("-get missing got_missing\n");
        B("-rm missing\n");
        B("-cd missing\n");
        B("-ls missing\n");
        B("-rename missing other\n");
        B("-rmdir full\n");
        B("-mkdir full\n");
        if (getuid() == 0) {
            /* root passes permission bits; sysfs refuses writing a
             * read-only attribute even to root */
            if (access("/sys/kernel/notes", F_OK) == 0) {
                B("-put full/x /sys/kernel/notes\n");
                denied_cases++;
            }
        } else {
            B("-get secret got_secret\n");
            B("-put full/x secret\n");
            denied_cases += 2;
        }
        B("ls\n");
#undef B
        assert_true(n < sizeof(batch));
    }
    if (sftp_batch(batch) != 0)
        fail_with("sftp -b errors");
    o = serve_slurp(out_path, NULL);
    if (strstr(o, "\"missing\" not found") == NULL && strstr(o, "/missing\" not found") == NULL)
        fail_msg("no \"not found\" for the missing get:\n%s", o);
    if (strstr(o, "No such file or directory") == NULL)
        fail_msg("no ENOENT text:\n%s", o);
    if (count_in(o, "Failure") < 1)         /* rmdir of a non-empty directory */
        fail_msg("no Failure for the non-empty rmdir:\n%s", o);
    if (count_in(o, "Permission denied") < denied_cases)
        fail_msg("expected %d permission refusals:\n%s", denied_cases, o);
    free(o);
    snprintf(p, sizeof(p), "%s/full/x", dir);
    assert_true(exists(p));
    snprintf(p, sizeof(p), "%s/got_missing", dir);
    assert_false(exists(p));
    /* without "-" the first error ends the batch with status 1 */
    snprintf(batch, sizeof(batch), "cd %s\nrmdir full\necho never\n", dir);
    assert_int_equal(sftp_batch(batch), 1);
    expect_in(out_path, "Failure");
    snprintf(p, sizeof(p), "%s/secret", dir);
    assert_int_equal(chmod(p, 0600), 0);
}

/* --- ssh-keyscan ---------------------------------------------------------- */

/* "type base64" of a .pub file (the comment dropped). */
static void
pub_key_of(const char *file, char *out, size_t cap)
{
    char path[FIXTURE_PATH_MAX + 16];
    char *s, *sp;

    snprintf(path, sizeof(path), "%s/%s.pub", fx.dir, file);
    s = serve_slurp(path, NULL);
    s[strcspn(s, "\r\n")] = '\0';
    sp = strchr(s, ' ');
    assert_non_null(sp);
    sp = strchr(sp + 1, ' ');
    if (sp != NULL)
        *sp = '\0';
    snprintf(out, cap, "%s", s);
    free(s);
}

/* Keyscans with -t @p types; asserts each line is "[127.0.0.1]:port KEY"
 * with a KEY of one of @p files, and that @p want_lines came. */
static void
keyscan_expect(const char *types, const char *const *files, size_t n_files, int want_lines)
{
    char port[16], prefix[64], key[4096];
    char *argv[] = { (char *)SSH_KEYSCAN_PATH, (char *)"-p", port, (char *)"-t", (char *)types,
        (char *)"-T", (char *)"20", (char *)"127.0.0.1", NULL };
    char *o;
    int lines = 0, rc;

    snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
    snprintf(prefix, sizeof(prefix), "[127.0.0.1]:%u ", (unsigned)fx.port);
    rc = serve_run(&fx, argv, NULL, out_path, err_path, NULL, RUN_MS);
    if (rc != 0)
        fail_with("ssh-keyscan");
    o = serve_slurp(out_path, NULL);
    for (char *line = strtok(o, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int matched = 0;

        if (line[0] == '#')
            continue;
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            fail_msg("keyscan line \"%s\" lacks \"%s\"", line, prefix);
        for (size_t i = 0; i < n_files && !matched; i++) {
            pub_key_of(files[i], key, sizeof(key));
            matched = strcmp(line + strlen(prefix), key) == 0;
        }
        if (!matched)
            fail_msg("keyscan returned a key that is not a host key: %s", line);
        lines++;
    }
    free(o);
    if (lines != want_lines) {
        show_failure("ssh-keyscan");
        fail_msg("%d keys for -t %s, expected %d", lines, types, want_lines);
    }
}

/* serve.log's "host key TYPE SHA256:..." matches ssh-keygen -l for @p file. */
static void
expect_fingerprint_logged(const char *file)
{
    char pub[FIXTURE_PATH_MAX + 16], want[256], fp[128], type[32];
    char *argv[] = { (char *)SSH_KEYGEN_PATH, (char *)"-l", (char *)"-E", (char *)"sha256",
        (char *)"-f", pub, NULL };
    char *o, *paren;

    snprintf(pub, sizeof(pub), "%s/%s.pub", fx.dir, file);
    assert_int_equal(serve_run(&fx, argv, NULL, out_path, err_path, NULL, RUN_MS), 0);
    o = serve_slurp(out_path, NULL);
    /* "256 SHA256:abc... comment (ED25519)" */
    assert_int_equal(sscanf(o, "%*u %127s", fp), 1);
    paren = strrchr(o, '(');
    assert_non_null(paren);
    assert_int_equal(sscanf(paren, "(%31[^)])", type), 1);
    free(o);
    snprintf(want, sizeof(want), "host key %s %s", type, fp);
    if (!serve_fixture_log_count(&fx, want, NULL)) {
        serve_fixture_dump_log(&fx, 3000);
        fail_msg("serve.log lacks \"%s\"", want);
    }
}

static void
test_keyscan_lists_every_host_key(void **state)
{
    static const char *const all[] = { "host_ed25519", "host_ecdsa256", "host_ecdsa384",
        "host_ecdsa521", "host_rsa" };
    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        expect_fingerprint_logged(all[i]);
    /* one key per type: keyscan asks for "ecdsa" as one type, and the
     * server picks one of its three (any of them is right) */
    keyscan_expect("ed25519,ecdsa,rsa", all, 5, 3);
    /* each ECDSA size alone */
    for (unsigned bit = SERVE_HK_ECDSA256; bit <= SERVE_HK_ECDSA521; bit <<= 1) {
        const char *file = bit == SERVE_HK_ECDSA256 ? "host_ecdsa256" :
            bit == SERVE_HK_ECDSA384 ? "host_ecdsa384" : "host_ecdsa521";

        assert_int_equal(serve_fixture_start(&fx, bit, NULL), 0);
        keyscan_expect("ecdsa", &file, 1, 1);
    }
    start_default();
}

/* --- scp ------------------------------------------------------------------ */

static void
test_scp_both_ways_and_recursive(void **state)
{
    char dir[FIXTURE_PATH_MAX], src[FIXTURE_PATH_MAX + 32], dst[3 * FIXTURE_PATH_MAX];
    char back[FIXTURE_PATH_MAX + 32], p[3 * FIXTURE_PATH_MAX], q[3 * FIXTURE_PATH_MAX];
    uint8_t *data = malloc(MIB + 1);
    struct serve_argv a;
    struct stat st;

    (void)state;
    assert_non_null(data);
    mkdir_work("scp", dir, sizeof(dir));
    snprintf(src, sizeof(src), "%s/src.bin", dir);
    tf_fill(data, MIB + 1, 77);
    assert_int_equal(serve_write_file(src, data, MIB + 1), 0);
    assert_int_equal(chmod(src, 0640), 0);
    /* the fixture's ssh_config, host alias and all; -s: the SFTP protocol */
    serve_argv_init(&a, SCP_PATH);      /* the config carries the rest */
    serve_argv_add(&a, "-F");
    serve_argv_add(&a, fx.ssh_config);
    serve_argv_add(&a, "-s");
    serve_argv_add(&a, "-p");
    serve_argv_add(&a, src);
    snprintf(dst, sizeof(dst), SERVE_HOST_ALIAS ":%s/up.bin", dir);
    serve_argv_add(&a, dst);
    if (run(&a, NULL, NULL) != 0)
        fail_with("scp up");
    snprintf(p, sizeof(p), "%s/up.bin", dir);
    assert_true(tf_same(src, p));
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);      /* -p */
    /* down, with the default argv this time */
    serve_argv_client(&a, &fx, SCP_PATH, NULL);
    snprintf(dst, sizeof(dst), "%s:%s/up.bin", fx.dest, dir);
    serve_argv_add(&a, dst);
    snprintf(back, sizeof(back), "%s/down.bin", dir);
    serve_argv_add(&a, back);
    if (run(&a, NULL, NULL) != 0)
        fail_with("scp down");
    assert_true(tf_same(src, back));
    /* -r both ways: a tree with an empty file and a nested directory */
    snprintf(p, sizeof(p), "%s/tree", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/tree/sub", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/tree/sub/deep", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/tree/empty", dir);
    assert_int_equal(serve_write_file(p, "", 0), 0);
    snprintf(p, sizeof(p), "%s/tree/sub/deep/big", dir);
    assert_int_equal(serve_write_file(p, data, MIB + 1), 0);
    snprintf(p, sizeof(p), "%s/tree/sub/small", dir);
    assert_int_equal(serve_write_file(p, data, 32769), 0);
    free(data);
    serve_argv_client(&a, &fx, SCP_PATH, NULL);
    serve_argv_add(&a, "-r");
    snprintf(p, sizeof(p), "%s/tree", dir);
    serve_argv_add(&a, p);
    snprintf(dst, sizeof(dst), "%s:%s/tree_up", fx.dest, dir);
    serve_argv_add(&a, dst);
    if (run(&a, NULL, NULL) != 0)
        fail_with("scp -r up");
    serve_argv_client(&a, &fx, SCP_PATH, NULL);
    serve_argv_add(&a, "-r");
    snprintf(dst, sizeof(dst), "%s:%s/tree_up", fx.dest, dir);
    serve_argv_add(&a, dst);
    snprintf(p, sizeof(p), "%s/tree_down", dir);
    serve_argv_add(&a, p);
    if (run(&a, NULL, NULL) != 0)
        fail_with("scp -r down");
    static const char *const files[] = { "empty", "sub/small", "sub/deep/big" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/tree/%s", dir, files[i]);
        snprintf(q, sizeof(q), "%s/tree_up/%s", dir, files[i]);
        if (!tf_same(p, q))
            fail_msg("scp -r up: %s differs", files[i]);
        snprintf(q, sizeof(q), "%s/tree_down/%s", dir, files[i]);
        if (!tf_same(p, q))
            fail_msg("scp -r down: %s differs", files[i]);
    }
    /* a missing remote file is scp's error, status 1 */
    serve_argv_client(&a, &fx, SCP_PATH, NULL);
    snprintf(dst, sizeof(dst), "%s:%s/no-such-file", fx.dest, dir);
    serve_argv_add(&a, dst);
    serve_argv_add(&a, back);
    assert_int_equal(run(&a, NULL, NULL), 1);
    expect_in(err_path, "No such file");
}

/* --- password and keyboard-interactive ------------------------------------- */

/* ssh with @p method and SSH_ASKPASS answering @p answer (NULL: the
 * password); runs @p cmd, or with NULL the sftp subsystem (no shell). */
static int
ssh_askpass(const char *method, const char *user, const char *answer, const char *cmd)
{
    const char *first[] = { "BatchMode=no", "PubkeyAuthentication=no",
        "NumberOfPasswordPrompts=1", NULL, NULL };
    char pref[64], askpass[FIXTURE_PATH_MAX + 16], answer_env[128], dest[128];
    char *env[] = { askpass, (char *)"SSH_ASKPASS_REQUIRE=force", NULL, NULL };
    struct serve_argv a;

    snprintf(pref, sizeof(pref), "PreferredAuthentications=%s", method);
    first[3] = pref;
    snprintf(askpass, sizeof(askpass), "SSH_ASKPASS=%s", fx.askpass);
    if (answer != NULL) {
        snprintf(answer_env, sizeof(answer_env), "AMK_ASKPASS_ANSWER=%s", answer);
        env[2] = answer_env;
    }
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", user);
    serve_argv_client(&a, &fx, SSH_PATH, first);
    if (cmd == NULL)
        serve_argv_add(&a, "-s");
    serve_argv_add(&a, dest);
    serve_argv_add(&a, cmd != NULL ? cmd : "sftp");
    return run(&a, NULL, env);
}

static void
test_password_and_kbdint_via_askpass(void **state)
{
    char want[128];
    char *log;
    int rc;

    (void)state;
    snprintf(want, sizeof(want), "logged-in-as-%s\n", fx.user);
    unlink(fx.askpass_log);
    if ((rc = ssh_askpass("password", fx.user, NULL,
        "echo logged-in-as-$(id -un)")) != 0)
        fail_with("password login");
    expect_in(out_path, want);
    log = serve_slurp(fx.askpass_log, NULL);
    /* ssh's own prompt for the password method */
    assert_non_null(strstr(log, "password:"));
    assert_int_equal(count_in(log, "\n"), 1);
    free(log);
    if ((rc = ssh_askpass("keyboard-interactive", fx.user, NULL, NULL)) != 0)
        fail_with("keyboard-interactive login");
    /* one more prompt: the server's, shown by askpass */
    log = serve_slurp(fx.askpass_log, NULL);
    assert_int_equal(count_in(log, "\n"), 2);
    free(log);
    assert_true(serve_fixture_log_count(&fx, "keyboard-interactive", NULL));
    /* a wrong password, and the right one for a user serve does not know */
    assert_int_equal(ssh_askpass("password", fx.user, "wrong-password", NULL), 255);
    expect_in(err_path, "Permission denied");
    assert_int_equal(ssh_askpass("keyboard-interactive", fx.user, "wrong-password", NULL),
        255);
    assert_int_equal(ssh_askpass("password", "amk-nosuchuser", NULL, NULL), 255);
    expect_in(err_path, "Permission denied");
}

/* --- UpdateHostKeys -------------------------------------------------------- */

static void
test_update_host_keys_learns_all(void **state)
{
    static const char *const algs[] = { "ssh-ed25519", "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512" };
    char kh[FIXTURE_PATH_MAX], opt[FIXTURE_PATH_MAX + 32], key[4096], line[4200];
    const char *first[] = { opt, "UpdateHostKeys=yes", NULL };
    struct serve_argv a;
    char *learned;

    (void)state;
    /* a known_hosts with the ed25519 key only */
    serve_fixture_path(&fx, "partial_known_hosts", kh, sizeof(kh));
    pub_key_of("host_ed25519", key, sizeof(key));
    snprintf(line, sizeof(line), "[127.0.0.1]:%u %s\n", (unsigned)fx.port, key);
    assert_int_equal(serve_write_file(kh, line, strlen(line)), 0);
    snprintf(opt, sizeof(opt), "UserKnownHostsFile=%s", kh);
    serve_argv_client(&a, &fx, SSH_PATH, first);
    serve_argv_add(&a, "-vvv");
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "true");
    if (run(&a, NULL, NULL) != 0)
        fail_with("ssh UpdateHostKeys=yes");
    {
        char *e = serve_slurp(err_path, NULL);
        int sent = strstr(e, "hostkeys-00@openssh.com") != NULL;

        free(e);
        if (!sent) {
            print_message("amiko serve sent no hostkeys-00@openssh.com: not implemented\n");
            skip();
        }
    }
    learned = serve_slurp(kh, NULL);
    static const char *const files[] = { "host_ed25519", "host_ecdsa256", "host_ecdsa384",
        "host_ecdsa521", "host_rsa" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        pub_key_of(files[i], key, sizeof(key));
        if (strstr(learned, key) == NULL) {
            show_failure("UpdateHostKeys");
            fail_msg("ssh did not learn %s:\n%s", files[i], learned);
        }
    }
    free(learned);
    /* and the learned file verifies each key type strictly */
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char hka[64];
        const char *f2[] = { opt, hka, NULL };

        snprintf(hka, sizeof(hka), "HostKeyAlgorithms=%s", algs[i]);
        /* the sftp subsystem: no shell to start */
        serve_argv_client(&a, &fx, SSH_PATH, f2);
        serve_argv_add(&a, "-s");
        serve_argv_add(&a, fx.dest);
        serve_argv_add(&a, "sftp");
        if (run(&a, NULL, NULL) != 0)
            fail_with(algs[i]);
    }
}

/* --- shutdown --------------------------------------------------------------- */

static void
test_sigterm_exits_0(void **state)
{
    (void)state;
    assert_int_equal(serve_fixture_stop(&fx), 0);
    start_default();
}

static int
group_setup(void **state)
{
    static const char *const peers[] = { SSH_PATH, SFTP_PATH, SCP_PATH, SSH_KEYSCAN_PATH,
        SSH_KEYGEN_PATH };

    (void)state;
    if (serve_fixture_need(peers, sizeof(peers) / sizeof(peers[0])) != 0)
        return -1;
    if (serve_fixture_init(&fx) != 0)
        return -1;
    serve_fixture_path(&fx, "client.out", out_path, sizeof(out_path));
    serve_fixture_path(&fx, "client.err", err_path, sizeof(err_path));
    serve_fixture_path(&fx, "client.in", in_path, sizeof(in_path));
    {
        const char *args[] = { "--password", serve_fixture_password_arg(&fx), NULL };

        return serve_fixture_start(&fx, SERVE_HK_ALL, args);
    }
}

static int
group_teardown(void **state)
{
    (void)state;
    serve_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    /* exec: the parts that start the user's shell (its rc files may take
     * seconds each); files: SFTP, scp, keyscan and host keys */
    const struct CMUnitTest exec[] = {
        cmocka_unit_test(test_ssh_exec_exit_codes_and_streams),
        cmocka_unit_test(test_ssh_exec_stdin_1mib),
        cmocka_unit_test(test_ssh_tt_shell),
        cmocka_unit_test(test_password_and_kbdint_via_askpass),
        cmocka_unit_test(test_sigterm_exits_0),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_sftp_batch_every_command),
        cmocka_unit_test(test_sftp_errors),
        cmocka_unit_test(test_keyscan_lists_every_host_key),
        cmocka_unit_test(test_scp_both_ways_and_recursive),
        cmocka_unit_test(test_update_host_keys_learns_all),
        cmocka_unit_test(test_sigterm_exits_0),
    };
    const char *part = argc > 1 ? argv[1] : "all";
    int failed = 0;

    if (strcmp(part, "files") != 0)
        failed += cmocka_run_group_tests_name("exec", exec, group_setup, group_teardown);
    if (strcmp(part, "exec") != 0)
        failed += cmocka_run_group_tests_name("files", files, group_setup, group_teardown);
    return failed;
}
