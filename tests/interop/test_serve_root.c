/*
 * Interop: SFTP root confinement of `amiko serve --root D`, through
 * OpenSSH's real sftp (and scp): "..", absolute paths, symlinks pointing
 * out (absolute and relative, made inside the root by the test), links,
 * renames and symlinks made toward the outside; nothing outside is read,
 * written or changed. `--read-only` refuses every change and still
 * serves reads. `--sftp-only` refuses `ssh host cmd` and a shell (nothing
 * runs) while sftp still works; so do `--root` and `--read-only` alone
 * (a command would read and change files outside the root, or write under
 * --read-only), unless `--allow-exec` asks for commands too.
 *
 * The root is opened once, at start-up: swapped for a symlink afterwards,
 * it still confines new sessions to the original directory. (The race
 * that swaps a directory for a symlink while the server walks it is
 * test_sftp_server's, against the same engine and backend.)
 */
#include "test_helper.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve_fixture.h"

#define RUN_MS 40000

static struct serve_fixture fx;
static char root[FIXTURE_PATH_MAX], outside[FIXTURE_PATH_MAX];
static char out_path[FIXTURE_PATH_MAX], err_path[FIXTURE_PATH_MAX];

static int
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static void
path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    assert_true(n > 0 && (size_t)n < cap);
}

static void
show_failure(const char *what)
{
    char *o = serve_slurp(out_path, NULL), *e = serve_slurp(err_path, NULL);

    fprintf(stderr, "%s\n--- output ---\n%s\n--- stderr ---\n%s\n", what, o, e);
    free(o);
    free(e);
    serve_fixture_dump_log(&fx, 3000);
}

static void
start_args(const char *const *args)
{
    if (serve_fixture_start(&fx, SERVE_HK_ED25519, args) != 0)
        fail_msg("amiko serve %s %s did not start", args[0], args[1] != NULL ? args[1] : "");
}

static void
start(const char *flag)
{
    const char *args[] = { "--root", root, flag, NULL };

    start_args(args);
}

/* sftp -b @p batch; output (stdout and stderr) to out_path; its status. */
static int
sftp_batch(const char *batch)
{
    char bfile[FIXTURE_PATH_MAX];
    struct serve_argv a;

    serve_fixture_path(&fx, "batch", bfile, sizeof(bfile));
    assert_int_equal(serve_write_file(bfile, batch, strlen(batch)), 0);
    serve_argv_client(&a, &fx, SFTP_PATH, NULL);
    serve_argv_add(&a, "-b");
    serve_argv_add(&a, bfile);
    serve_argv_add(&a, fx.dest);
    return serve_run(&fx, a.v, NULL, out_path, out_path, NULL, RUN_MS);
}

static void
expect_output(const char *needle)
{
    char *o = serve_slurp(out_path, NULL);
    int found = strstr(o, needle) != NULL;

    free(o);
    if (!found) {
        show_failure("missing output");
        fail_msg("sftp's output lacks \"%s\"", needle);
    }
}

static int
count_output(const char *needle)
{
    char *o = serve_slurp(out_path, NULL);
    int n = 0;

    for (const char *p = o; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(o);
    return n;
}

/* The contents of @p path equal @p want. */
static void
expect_file(const char *path, const char *want)
{
    char *s = serve_slurp(path, NULL);

    if (strcmp(s, want) != 0)
        fail_msg("%s holds \"%s\", expected \"%s\"", path, s, want);
    free(s);
}

static void
test_root_escapes_refused(void **state)
{
    char batch[16384], p[3 * FIXTURE_PATH_MAX], got[FIXTURE_PATH_MAX];
    struct stat st;

    (void)state;
    start(NULL);
    serve_fixture_work_path(&fx, "got", got, sizeof(got));
    assert_int_equal(mkdir(got, 0755), 0);
    snprintf(batch, sizeof(batch),
        "pwd\n"
        "cd ..\npwd\n"
        "cd /../../..\npwd\n"
        "-get ../out/secret %s/g1\n"
        "-get /../out/secret %s/g2\n"
        "-get %s/secret %s/g3\n"            /* the outside's absolute path */
        "-get abs/secret %s/g4\n"           /* symlink -> the outside, absolute */
        "-get rel/secret %s/g5\n"           /* symlink -> ../out */
        "-get sub/up%s/secret %s/g6\n"      /* symlink -> far above */
        "-ls abs/\n"
        "-ls rel/\n"
        "-ls ../out\n"
        "-put %s/file ../out/new\n"
        "-put %s/file abs/new\n"
        "-put %s/file rel/new\n"
        "-put %s/file %s/new\n"
        "-mkdir abs/dir\n"
        "-mkdir %s/dir\n"
        "-rename file ../out/moved\n"
        "-rename file abs/moved\n"
        "-ln abs/secret stolen\n"           /* a hard link to the outside file */
        "-ln file rel/planted\n"
        "-ln -s file abs/sym\n"
        "-chmod 777 abs/secret\n"
        "-chmod 777 ../out/secret\n"
        "-rm abs/secret\n"
        "-rm rel/secret\n"
        "-rm ../out/secret\n"
        "-rmdir ../out\n"
        "ln -s %s/secret mine\n"            /* a symlink out, made through sftp */
        "-get mine %s/g7\n"
        "-get made_by_test %s/g8\n"         /* one made by the test */
        "get file %s/inside\n",
        got, got, outside, got, got, got, outside, got,
        root, root, root, root, outside, outside,
        outside, got, got, got);
    if (sftp_batch(batch) != 0) {
        show_failure("sftp --root");
        fail_msg("sftp failed");
    }
    /* the root is "/" to the client, and ".." stays there */
    assert_int_equal(count_output("Remote working directory: /\n"), 3);
    /* nothing was read from outside */
    for (int i = 1; i <= 8; i++) {
        snprintf(p, sizeof(p), "%s/g%d", got, i);
        if (exists(p)) {
            char *s = serve_slurp(p, NULL);

            if (strstr(s, "outside") != NULL)
                fail_msg("%s was read from outside the root", p);
            free(s);
        }
    }
    snprintf(p, sizeof(p), "%s/inside", got);
    expect_file(p, "inside");
    /* nothing outside was written, moved, linked or changed */
    path_in(p, sizeof(p), outside, "secret");
    expect_file(p, "outside");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(st.st_nlink, 1);
    {
        static const char *const never[] = { "new", "dir", "moved", "planted", "sym" };

        for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
            path_in(p, sizeof(p), outside, never[i]);
            if (exists(p))
                fail_msg("%s was created outside the root", p);
        }
    }
    /* the file it tried to move is still inside; "new" landed inside only */
    path_in(p, sizeof(p), root, "file");
    expect_file(p, "inside");
    /* the symlink made inside keeps the target it was given, unresolved */
    path_in(p, sizeof(p), root, "mine");
    {
        char t[FIXTURE_PATH_MAX + 16], want[FIXTURE_PATH_MAX + 16];
        ssize_t n = readlink(p, t, sizeof(t) - 1);

        assert_true(n > 0);
        t[n] = '\0';
        snprintf(want, sizeof(want), "%s/secret", outside);
        assert_string_equal(t, want);
    }
    assert_int_equal(unlink(p), 0);
}

/* scp under --root: an absolute path is the root's, "../" goes nowhere. */
static void
test_root_scp_confined(void **state)
{
    char src[3 * FIXTURE_PATH_MAX], dst[3 * FIXTURE_PATH_MAX], p[3 * FIXTURE_PATH_MAX];
    struct serve_argv a;

    (void)state;
    start(NULL);
    path_in(src, sizeof(src), root, "file");
    serve_argv_client(&a, &fx, SCP_PATH, NULL);
    serve_argv_add(&a, src);
    snprintf(dst, sizeof(dst), "%s:/scp_copy", fx.dest);
    serve_argv_add(&a, dst);
    if (serve_run(&fx, a.v, NULL, out_path, err_path, NULL, RUN_MS) != 0) {
        show_failure("scp to /scp_copy");
        fail_msg("scp failed");
    }
    /* "/" is the root */
    path_in(p, sizeof(p), root, "scp_copy");
    expect_file(p, "inside");
    assert_int_equal(unlink(p), 0);
    serve_argv_client(&a, &fx, SCP_PATH, NULL);
    serve_argv_add(&a, src);
    snprintf(dst, sizeof(dst), "%s:../out/scp_new", fx.dest);
    serve_argv_add(&a, dst);
    (void)serve_run(&fx, a.v, NULL, out_path, err_path, NULL, RUN_MS);
    path_in(p, sizeof(p), outside, "scp_new");
    assert_false(exists(p));
}

static void
test_read_only_refuses_changes(void **state)
{
    char batch[8192], p[3 * FIXTURE_PATH_MAX], got[FIXTURE_PATH_MAX + 16];
    struct stat st;

    (void)state;
    start("--read-only");
    serve_fixture_work_path(&fx, "ro_copy", got, sizeof(got));
    snprintf(batch, sizeof(batch),
        "ls -l\n"
        "get file %s\n"
        "-put %s/secret new\n"
        "-put %s/secret file\n"
        "-mkdir d\n"
        "-rmdir sub\n"
        "-rm file\n"
        "-rename file other\n"
        "-ln -s file l\n"
        "-ln file h\n"
        "-chmod 600 file\n"
        "-chown %u file\n",
        got, outside, outside, (unsigned)getuid());
    if (sftp_batch(batch) != 0) {
        show_failure("sftp --read-only");
        fail_msg("sftp failed");
    }
    expect_file(got, "inside");
    if (count_output("Permission denied") < 6) {
        show_failure("read-only refusals");
        fail_msg("expected a refusal per change");
    }
    path_in(p, sizeof(p), root, "file");
    expect_file(p, "inside");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    {
        static const char *const never[] = { "new", "d", "other", "l", "h" };

        for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
            path_in(p, sizeof(p), root, never[i]);
            if (exists(p))
                fail_msg("read-only serve created %s", p);
        }
    }
    path_in(p, sizeof(p), root, "sub");
    assert_true(exists(p));
    unlink(got);
}

/*
 * Neither `ssh host cmd` nor a shell (with a pty) runs anything: the
 * command reads the file outside the root and touches a marker; ssh
 * fails, prints nothing of the file, and the marker is never made.
 * sftp still works. @p what names the serve flags for messages.
 */
static void
expect_no_commands(const char *what)
{
    char marker[FIXTURE_PATH_MAX + 16], cmd[4 * FIXTURE_PATH_MAX];
    struct serve_argv a;
    int rc;

    serve_fixture_work_path(&fx, "no_cmd_marker", marker, sizeof(marker));
    (void)unlink(marker);
    snprintf(cmd, sizeof(cmd), "cat '%s/secret'; touch '%s'", outside, marker);
    serve_argv_client(&a, &fx, SSH_PATH, NULL);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, cmd);
    rc = serve_run(&fx, a.v, NULL, out_path, err_path, NULL, RUN_MS);
    if (rc == 0 || exists(marker) || count_output("outside") != 0) {
        show_failure(what);
        fail_msg("%s: ssh exited %d; the command %s", what, rc,
            exists(marker) ? "ran" : "did not run");
    }
    /* a shell, with a pty */
    serve_argv_client(&a, &fx, SSH_PATH, NULL);
    serve_argv_add(&a, "-tt");
    serve_argv_add(&a, fx.dest);
    {
        char in[FIXTURE_PATH_MAX], script[3 * FIXTURE_PATH_MAX];

        serve_fixture_path(&fx, "shell.in", in, sizeof(in));
        snprintf(script, sizeof(script), "touch '%s'\nexit 0\n", marker);
        assert_int_equal(serve_write_file(in, script, strlen(script)), 0);
        rc = serve_run(&fx, a.v, in, out_path, err_path, NULL, RUN_MS);
    }
    if (rc == 0 || exists(marker)) {
        show_failure(what);
        fail_msg("%s: a shell ran (ssh -tt exited %d)", what, rc);
    }
    /* sftp still works */
    if (sftp_batch("pwd\nls\n") != 0) {
        show_failure(what);
        fail_msg("%s: sftp failed", what);
    }
    expect_output("Remote working directory: /");
}

static void
test_sftp_only_refuses_exec_and_shell(void **state)
{
    (void)state;
    start("--sftp-only");
    expect_no_commands("--root --sftp-only");
}

/* --root alone: a command would read outside the root, so none runs. */
static void
test_root_refuses_exec_and_shell(void **state)
{
    (void)state;
    start(NULL);
    expect_no_commands("--root");
}

/* --read-only alone (no root): a command could write, so none runs. */
static void
test_read_only_refuses_exec_and_shell(void **state)
{
    const char *args[] = { "--read-only", NULL };

    (void)state;
    start_args(args);
    expect_no_commands("--read-only");
}

/* --allow-exec: commands run again (unconfined, as documented). */
static void
test_allow_exec_runs_commands(void **state)
{
    char cmd[2 * FIXTURE_PATH_MAX];
    struct serve_argv a;

    (void)state;
    start("--allow-exec");
    snprintf(cmd, sizeof(cmd), "cat '%s/secret'", outside);
    serve_argv_client(&a, &fx, SSH_PATH, NULL);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, cmd);
    if (serve_run(&fx, a.v, NULL, out_path, err_path, NULL, RUN_MS) != 0) {
        show_failure("--root --allow-exec");
        fail_msg("ssh cmd failed under --allow-exec");
    }
    expect_output("outside");
}

/*
 * The root is the directory that was there at start-up: its path renamed
 * and replaced by a symlink to the outside afterwards (by whoever can
 * write its parent), new sessions still see the old directory, not the
 * outside. Before, each session reopened the root by its path.
 */
static void
test_root_swapped_after_start(void **state)
{
    char moved[FIXTURE_PATH_MAX + 8];
    int st, swapped;

    (void)state;
    start(NULL);
    snprintf(moved, sizeof(moved), "%s.moved", root);
    swapped = rename(root, moved) == 0 && symlink(outside, root) == 0;
    st = swapped ? sftp_batch("ls -1 /\n") : -1;
    /* put the fixture back before any assertion, for the tests after */
    (void)unlink(root);
    if (rename(moved, root) != 0 || !swapped)
        fail_msg("could not swap %s for a symlink", root);
    if (st != 0) {
        show_failure("sftp ls after the swap");
        fail_msg("sftp failed after the root was swapped");
    }
    expect_output("made_by_test");      /* the original root's entries */
    if (count_output("secret") != 0) {
        show_failure("the outside was listed");
        fail_msg("the swapped-in symlink moved the confinement to %s", outside);
    }
}

static int
group_setup(void **state)
{
    static const char *const peers[] = { SSH_PATH, SFTP_PATH, SCP_PATH, SSH_KEYGEN_PATH };
    char p[3 * FIXTURE_PATH_MAX];

    (void)state;
    if (serve_fixture_need(peers, sizeof(peers) / sizeof(peers[0])) != 0)
        return -1;
    if (serve_fixture_init(&fx) != 0)
        return -1;
    serve_fixture_path(&fx, "client.out", out_path, sizeof(out_path));
    serve_fixture_path(&fx, "client.err", err_path, sizeof(err_path));
    /* work/root (served) and work/out (beside it, never to be reached) */
    serve_fixture_work_path(&fx, "root", root, sizeof(root));
    serve_fixture_work_path(&fx, "out", outside, sizeof(outside));
    if (mkdir(root, 0755) != 0 || mkdir(outside, 0755) != 0)
        return -1;
    path_in(p, sizeof(p), outside, "secret");
    if (serve_write_file(p, "outside", 7) != 0 || chmod(p, 0644) != 0)
        return -1;
    path_in(p, sizeof(p), root, "file");
    if (serve_write_file(p, "inside", 6) != 0 || chmod(p, 0644) != 0)
        return -1;
    /* symlinks pointing out, made inside by the test */
    path_in(p, sizeof(p), root, "abs");
    if (symlink(outside, p) != 0)
        return -1;
    path_in(p, sizeof(p), root, "rel");
    if (symlink("../out", p) != 0)
        return -1;
    path_in(p, sizeof(p), root, "made_by_test");
    {
        char target[3 * FIXTURE_PATH_MAX];

        path_in(target, sizeof(target), outside, "secret");
        if (symlink(target, p) != 0)
            return -1;
    }
    path_in(p, sizeof(p), root, "sub");
    if (mkdir(p, 0755) != 0)
        return -1;
    path_in(p, sizeof(p), root, "sub/up");
    if (symlink("../../../../../../../../..", p) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    serve_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_escapes_refused),
        cmocka_unit_test(test_root_scp_confined),
        cmocka_unit_test(test_read_only_refuses_changes),
        cmocka_unit_test(test_sftp_only_refuses_exec_and_shell),
        cmocka_unit_test(test_root_refuses_exec_and_shell),
        cmocka_unit_test(test_read_only_refuses_exec_and_shell),
        cmocka_unit_test(test_allow_exec_runs_commands),
        cmocka_unit_test(test_root_swapped_after_start),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
