/*
 * Interop: `amiko cp` and `amiko sftp` as processes against a hostile
 * SFTP server (fake_sftp_server.h: amiko's SSH server with a scripted
 * sftp subsystem), for what a real sshd cannot send. Its /dir lists
 * "zzgood" (a file) and "zzescape/.." (a directory holding "pwned"):
 * fnmatch without FNM_PATHNAME lets "z*" match the second, whose last
 * component is "..", so copying it "into" a target directory would write
 * next to the target. Both commands MUST leave it out, naming the
 * suspect path as OpenSSH does ("Server sent suspect path ... during
 * readdir"), and refuse a source whose own name is "..", while the honest
 * file still copies: amiko cp's and amiko sftp's wildcards and ls skip
 * the name and go on, as scp and OpenSSH's sftp do (compared with them on
 * the same server); recursive copies (amiko cp -r, get -r) skip such
 * names below the top, with that message and status 0, as scp -r and
 * OpenSSH's sftp do, and use the first entry of a name listed twice
 * (/twice), with the same files and status. The amiko binary is
 * AMK_TOOL_PATH (set by CMake).
 */
#include "test_helper.h"

/* paths are built in fixed buffers far larger than the temporary directory */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "fake_sftp_server.h"
#include "sshd_fixture.h"

#define BUF 1200

static const struct fake_sftp_entry tree[] = {
    { "/", "dir", 1, NULL },
    { "/dir", "zzgood", 0, "good\n" },
    { "/dir", "zzescape/..", 1, NULL },
    { "/dir/zzescape/..", "pwned", 0, "pwned\n" },
    /* for recursive copies: a suspect name at the top and one level down */
    { "/", "deep", 1, NULL },
    { "/deep", "sub", 1, NULL },
    { "/deep", "x/y", 0, "xy\n" },
    { "/deep/sub", "a/b", 0, "ab\n" },
    { "/deep/sub", "ok", 0, "ok\n" },
    /* for recursive gets: a file and a directory listed twice */
    { "/", "twice", 1, NULL },
    { "/twice", "f", 0, "one\n" },
    { "/twice", "f", 0, "one\n" },
    { "/twice", "ok", 0, "ok\n" },
    { "/twice", "d", 1, NULL },
    { "/twice", "d", 1, NULL },
    { "/twice/d", "in", 0, "in\n" },
};

static struct sshd_fixture fx;      /* its directory and user key; sshd never runs */
static struct fake_sftp_server srv;
static char base[256], host[128];

/* A fresh directory WORK = base/@p name with an empty WORK/t in it. */
static void
use_dir(char *work, size_t cap, const char *name)
{
    char cmd[BUF * 2];

    snprintf(work, cap, "%s/%s", base, name);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/t'", work, work);
    assert_int_equal(system(cmd), 0);
}

/* Runs amiko @p sub with the connection arguments and @p extra; its status. */
static int
run(const char *sub, const char *const *extra)
{
    const char *argv[CLI_MAX_ARGS];
    int n = cli_args(argv, sub);

    for (size_t i = 0; extra[i] != NULL && n < CLI_MAX_ARGS - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return cli_run(argv, NULL);
}

static void
expect_status(int want, int got)
{
    if (got != want) {
        char *e = tf_read(cli_err_path, NULL);
        print_message("stderr:\n%s", e);
        free(e);
        fail_msg("amiko exited %d, expected %d", got, want);
    }
}

/* Nothing was written beside the target directory. */
static void
expect_no_escape(const char *work)
{
    char p[BUF];

    snprintf(p, sizeof(p), "%s/pwned", work);
    if (access(p, F_OK) == 0)
        fail_msg("%s was written: the copy left its target directory", p);
}

static void
expect_stderr(const char *needle)
{
    char *e = tf_read(cli_err_path, NULL);

    int found = strstr(e, needle) != NULL;

    if (!found)
        print_message("stderr:\n%s", e);
    free(e);
    if (!found)
        fail_msg("stderr does not say \"%s\"", needle);
}

static void
test_cli_hostile_cp_suspect_names(void **state)
{
    char work[BUF], t[BUF], src[BUF], p[BUF];

    (void)state;
    use_dir(work, sizeof(work), "cp");
    snprintf(t, sizeof(t), "%s/t/", work);
    /* the honest file copies: the server works */
    snprintf(src, sizeof(src), "%s:/dir/zzgood", host);
    expect_status(0, run("cp", (const char *[]){ "-r", src, t, NULL }));
    snprintf(p, sizeof(p), "%s/t/zzgood", work);
    assert_int_equal(tf_size(p), 5);
    /* a wildcard matching "zzescape/..": that name is left out with its
     * message and the rest copies, as scp -r (SFTP mode) does on the same
     * input: the same status and stderr (scp names itself "/usr/bin/scp: "
     * and ends its lines with "\r\n") */
    snprintf(src, sizeof(src), "%s:/dir/z*", host);
    {
        const char *argv[CLI_MAX_ARGS];
        char *err[2], *w;
        int st[2], n;
        for (int amiko = 0; amiko < 2; amiko++) {
            use_dir(work, sizeof(work), amiko ? "cp_glob_amk" : "cp_glob_scp");
            snprintf(t, sizeof(t), "%s/t/", work);
            n = amiko ? cli_args(argv, "cp") : cli_openssh_args(argv, "/usr/bin/scp");
            argv[n++] = "-r";
            argv[n++] = src;
            argv[n++] = t;
            argv[n] = NULL;
            st[amiko] = cli_run(argv, NULL);
            err[amiko] = tf_read(cli_err_path, NULL);
            expect_no_escape(work);
            snprintf(p, sizeof(p), "%s/t/zzgood", work);
            if (tf_size(p) != 5)
                fail_msg("%s did not copy zzgood:\n%s", amiko ? "amiko cp" : "scp", err[amiko]);
            snprintf(p, sizeof(p), "%s/t/zzescape", work);
            assert_int_equal(access(p, F_OK), -1);
        }
        w = err[0];
        for (const char *r = err[0]; *r != '\0';) {
            if (strncmp(r, "/usr/bin/scp: ", 14) == 0) {
                memcpy(w, "amiko cp: ", 10);
                w += 10;
                r += 14;
            } else if (*r == '\r') {
                r++;
            } else {
                *w++ = *r++;
            }
        }
        *w = '\0';
        if (st[0] != st[1] || strcmp(err[0], err[1]) != 0)
            fail_msg("scp exited %d:\n%s\namiko cp exited %d:\n%s", st[0], err[0], st[1],
                err[1]);
        assert_int_equal(st[1], 0);
        assert_string_equal(err[1], "amiko cp: Server sent suspect path \"zzescape/..\" during "
            "readdir of \"/dir/\"\n");
        free(err[0]);
        free(err[1]);
    }
    use_dir(work, sizeof(work), "cp");
    snprintf(t, sizeof(t), "%s/t/", work);
    /* a source whose own name is "..": refused */
    snprintf(src, sizeof(src), "%s:/dir/zzescape/..", host);
    expect_status(1, run("cp", (const char *[]){ "-r", src, t, NULL }));
    expect_no_escape(work);
    expect_stderr("\"..\"");
    /* a recursive copy leaves the suspect names out, says so in OpenSSH's
     * words and copies the rest with status 0, as scp -r (SFTP mode) does */
    snprintf(src, sizeof(src), "%s:/deep", host);
    expect_status(0, run("cp", (const char *[]){ "-r", src, t, NULL }));
    expect_stderr("amiko cp: Server sent suspect path \"x/y\" during readdir of \"/deep/\"\n"
        "amiko cp: Server sent suspect path \"a/b\" during readdir of \"/deep/sub\"\n");
    snprintf(p, sizeof(p), "%s/t/deep/sub/ok", work);
    assert_int_equal(tf_size(p), 3);
    snprintf(p, sizeof(p), "%s/t/deep/x", work);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof(p), "%s/t/deep/sub/a", work);
    assert_int_equal(access(p, F_OK), -1);
}

static void
test_cli_hostile_sftp_suspect_names(void **state)
{
    char work[BUF], batch[BUF], p[BUF];
    FILE *f;

    (void)state;
    use_dir(work, sizeof(work), "sftp");
    snprintf(batch, sizeof(batch), "%s/batch", work);
    assert_non_null(f = fopen(batch, "w"));
    fprintf(f, "lcd %s/t\n-get -r /dir/z*\n-get -r /dir/zzescape/..\nget /dir/zzgood\n", work);
    assert_int_equal(fclose(f), 0);
    expect_status(0, run("sftp", (const char *[]){ "-b", batch, host, NULL }));
    expect_no_escape(work);
    expect_stderr("suspect path \"zzescape/..\"");
    expect_stderr("\"..\"");
    snprintf(p, sizeof(p), "%s/t/zzgood", work);
    assert_int_equal(tf_size(p), 5);
}

/*
 * OpenSSH's sftp drops a listed name with '/' and goes on with the rest
 * ("Server sent suspect path ... during readdir of \"/dir/\"", do_lsreaddir):
 * a wildcard get still fetches zzgood and exits 0, ls and chmod skip the
 * name, and so does a recursive get (get -r /dir, get -r /deep: its top
 * "/deep/", its subdirectory "/deep/sub"). amiko sftp MUST do the same: the same batch with both clients,
 * each in its own directory, gives the same status, stdout and stderr
 * (ls -l is left out: OpenSSH prints this server's long lines as sent).
 */
static void
test_cli_hostile_sftp_suspect_names_as_openssh(void **state)
{
    char work[2][BUF], batch[BUF], *out[2], *err[2], p[BUF];
    const char *argv[CLI_MAX_ARGS];
    int st[2];
    FILE *f;

    (void)state;
    for (int amiko = 0; amiko < 2; amiko++) {
        int n;
        /* names of one length: the directory shows in stdout */
        use_dir(work[amiko], sizeof(work[amiko]), amiko ? "skip_a" : "skip_o");
        snprintf(batch, sizeof(batch), "%s/batch", work[amiko]);
        assert_non_null(f = fopen(batch, "w"));
        fprintf(f, "lcd %s/t\nget /dir/z*\nls /dir\nls /dir/z*\ncd /dir\nls\nls z*\n"
            "chmod 600 z*\nget -r *\nget -r /dir\nget -r /deep\n", work[amiko]);
        assert_int_equal(fclose(f), 0);
        n = amiko ? cli_args(argv, "sftp") : cli_openssh_args(argv, "/usr/bin/sftp");
        argv[n++] = "-b";
        argv[n++] = batch;
        argv[n++] = host;
        argv[n] = NULL;
        st[amiko] = cli_run(argv, NULL);
        out[amiko] = tf_read(cli_out_path, NULL);
        err[amiko] = tf_read(cli_err_path, NULL);
        expect_no_escape(work[amiko]);
        snprintf(p, sizeof(p), "%s/t/zzgood", work[amiko]);
        assert_int_equal(tf_size(p), 5);
        snprintf(p, sizeof(p), "%s/t/deep/sub/ok", work[amiko]);
        assert_int_equal(tf_size(p), 3);
    }
    /* OpenSSH's sftp names each directory of a recursive get on stdout
     * ("Retrieving /deep/sub"), which amiko sftp does not */
    {
        char *w = out[0];
        for (const char *r = out[0]; *r != '\0';) {
            size_t len = strcspn(r, "\n") + (r[strcspn(r, "\n")] != '\0');
            if (strncmp(r, "Retrieving ", 11) != 0) {
                memmove(w, r, len);
                w += len;
            }
            r += len;
        }
        *w = '\0';
    }
    /* OpenSSH's log ends its stderr lines with "\r\n" */
    {
        char *w = err[0];
        for (const char *r = err[0]; *r != '\0'; r++)
            if (*r != '\r')
                *w++ = *r;
        *w = '\0';
    }
    /* the directories differ in their last letter only */
    for (char *q = out[1]; (q = strstr(q, "/skip_a/")) != NULL; q++)
        q[6] = 'o';
    if (st[0] != st[1] || strcmp(out[0], out[1]) != 0 || strcmp(err[0], err[1]) != 0) {
        print_message("OpenSSH's sftp exited %d:\n%s", st[0], out[0]);
        print_message("%s\n", err[0]);
        print_message("amiko sftp exited %d:\n%s", st[1], out[1]);
        print_message("%s\n", err[1]);
        fail_msg("the clients differ");
    }
    assert_int_equal(st[1], 0);
    assert_non_null(strstr(err[1], "Server sent suspect path \"zzescape/..\" during readdir "
        "of \"/dir/\""));
    /* the recursive get of /deep: both names, each with its directory */
    assert_non_null(strstr(err[1], "Server sent suspect path \"x/y\" during readdir of "
        "\"/deep/\"\nServer sent suspect path \"a/b\" during readdir of \"/deep/sub\"\n"));
    for (int k = 0; k < 2; k++) {
        free(out[k]);
        free(err[k]);
    }
}

/* What @p dir holds below it, a line a path: "./p TYPE SIZE". */
static char *
listing_of(const char *dir)
{
    char cmd[BUF * 2], out[BUF];

    snprintf(out, sizeof(out), "%s.list", dir);
    snprintf(cmd, sizeof(cmd), "cd '%s' && find . -printf '%%p %%y %%s\\n' | grep -v '^\\. ' | "
        "sort > '%s'", dir, out);
    assert_int_equal(system(cmd), 0);
    return tf_read(out, NULL);
}

/*
 * /twice lists "f" (a file) and "d" (a directory) twice each. OpenSSH's
 * sftp (get -r) and scp -r copy each entry in turn, the same file and
 * directory twice, and exit 0. amiko sftp and amiko cp use the first entry
 * of each name (a later one could be a symlink made to write through),
 * say so ("Server sent \"f\" again during readdir of \"/twice/\": the
 * first one is used", where OpenSSH says nothing) and exit 0 with the
 * same files.
 */
static void
test_cli_hostile_names_listed_twice(void **state)
{
    static const char *const want =
        "Server sent \"f\" again during readdir of \"/twice/\": the first one is used\n"
        "Server sent \"d\" again during readdir of \"/twice/\": the first one is used\n";
    const char *argv[CLI_MAX_ARGS];
    char work[4][BUF], t[BUF], batch[BUF], src[BUF], *files[4], *err[4];
    int st[4];
    FILE *f;

    (void)state;
    snprintf(src, sizeof(src), "%s:/twice", host);
    /* 0: OpenSSH's sftp, 1: amiko sftp, 2: scp, 3: amiko cp */
    for (int k = 0; k < 4; k++) {
        int n, amiko = k % 2;
        use_dir(work[k], sizeof(work[k]), (const char *[]){ "tw_sftp", "tw_asftp", "tw_scp",
            "tw_acp" }[k]);
        snprintf(t, sizeof(t), "%s/t", work[k]);
        if (k < 2) {
            snprintf(batch, sizeof(batch), "%s/batch", work[k]);
            assert_non_null(f = fopen(batch, "w"));
            fprintf(f, "lcd %s\nget -r /twice\n", t);
            assert_int_equal(fclose(f), 0);
            n = amiko ? cli_args(argv, "sftp") : cli_openssh_args(argv, "/usr/bin/sftp");
            argv[n++] = "-b";
            argv[n++] = batch;
            argv[n++] = host;
        } else {
            n = amiko ? cli_args(argv, "cp") : cli_openssh_args(argv, "/usr/bin/scp");
            argv[n++] = "-r";
            argv[n++] = src;
            argv[n++] = t;
        }
        argv[n] = NULL;
        st[k] = cli_run(argv, NULL);
        err[k] = tf_read(cli_err_path, NULL);
        files[k] = listing_of(t);
        expect_no_escape(work[k]);
    }
    for (int k = 0; k < 4; k += 2) {
        if (st[k] != 0 || st[k + 1] != 0 || strcmp(files[k], files[k + 1]) != 0)
            fail_msg("OpenSSH's %s exited %d:\n%s%s\namiko's exited %d:\n%s%s",
                k == 0 ? "sftp" : "scp", st[k], files[k], err[k], st[k + 1], files[k + 1],
                err[k + 1]);
        assert_string_equal(err[k], "");
    }
    assert_string_equal(files[1], "./twice d 100\n./twice/d d 60\n./twice/d/in f 3\n"
        "./twice/f f 4\n./twice/ok f 3\n");
    assert_string_equal(err[1], want);
    /* amiko cp names itself first, as its other messages */
    assert_non_null(strstr(err[3], "amiko cp: Server sent \"f\" again during readdir of "
        "\"/twice/\""));
    for (int k = 0; k < 4; k++) {
        free(err[k]);
        free(files[k]);
    }
}

static int
group_setup(void **state)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH (ssh-keygen) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    snprintf(base, sizeof(base), "%s/amiko-hostile-XXXXXX", dir);
    if (mkdtemp(base) == NULL || sshd_fixture_init(&fx) != 0 ||
        fake_sftp_start(&srv, tree, sizeof(tree) / sizeof(tree[0]), fx.known_hosts) != 0)
        return -1;
    fx.port = srv.port;
    cli_init(AMK_TOOL_PATH, &fx, base);
    snprintf(host, sizeof(host), "%s@127.0.0.1", fx.user);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    fake_sftp_stop(&srv);
    cli_teardown(&fx, base);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_hostile_cp_suspect_names),
        cmocka_unit_test(test_cli_hostile_sftp_suspect_names),
        cmocka_unit_test(test_cli_hostile_sftp_suspect_names_as_openssh),
        cmocka_unit_test(test_cli_hostile_names_listed_twice),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
