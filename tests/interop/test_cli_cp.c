/*
 * Interop: `amiko cp` run as a process against a real OpenSSH sshd (its
 * sftp-server): both directions, files of 0, 1, 32767, 32768, 32769 and
 * 1 MiB + 1 bytes compared by SHA-256, several sources into a directory,
 * a wildcard in a remote source (and one matching nothing taken as a name,
 * as scp: "file[1].txt"),
 * -r with nested directories and symlinks, -p checked with stat,
 * --resume after a killed transfer (both directions) giving an identical
 * file, an interrupted put leaving no file under the final name, exit
 * codes 1 (transfer errors) and 255 (connection and authentication), the
 * user name from the password database when USER is unset, a server's
 * name with control characters escaped in messages, no
 * progress output when stdout is not a terminal and, as scp, a progress
 * bar on stdout under a pty (script -qc) whose last figure is the file's
 * size, put and get (a finished file once counted twice showed 2x the
 * size), also with stderr in a file, and none with stdout in one. Files live in
 * a temporary directory under /dev/shm when present; the server sees the
 * same file system.
 * The amiko binary is AMK_TOOL_PATH (set by CMake); argv[1] picks a case.
 */
#include "test_helper.h"

/* paths are built in fixed buffers far larger than the temporary directory */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_run.h"
#include "sshd_fixture.h"

#define MIB ((size_t)1024 * 1024)
#define RESUME_SIZE (4 * MIB)
#define RESUME_LIMIT "8000"          /* Kbit/s: ~1 MB/s, so the kill lands mid-file */
#define KILL_AT ((off_t)MIB)

static struct sshd_fixture fx;
static const char *amiko;
static char base[256], work[512], remote_prefix[128];

static void
use_dir(const char *name)
{
    char cmd[1200];

    snprintf(work, sizeof(work), "%s/%s", base, name);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/l' '%s/r'", work, work, work);
    assert_int_equal(system(cmd), 0);
}

/* "WORK/l/NAME" (local side) or "user@127.0.0.1:WORK/r/NAME" (remote side). */
static void
lpath(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/l/%s", work, name);
}

static void
rpath(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/r/%s", work, name);
}

static void
rspec(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s%s/r/%s", remote_prefix, work, name);
}

/* Runs amiko cp with the connection arguments and @p extra (NULL-terminated). */
static int
cp(const char *const *extra)
{
    const char *argv[CLI_MAX_ARGS];
    int n = cli_args(argv, "cp");

    for (size_t i = 0; extra[i] != NULL && n < CLI_MAX_ARGS - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return cli_run(argv, NULL);
}

static void
expect_cp(int want, const char *const *extra)
{
    int got = cp(extra);

    if (got != want) {
        char *e = tf_read(cli_err_path, NULL);
        fail_msg("amiko cp exited %d, expected %d; stderr:\n%s", got, want, e);
    }
}

/* --- Sizes, both directions --------------------------------------------- */

static void
test_cp_sizes_both_ways(void **state)
{
    static const size_t sizes[] = { 0, 1, 32767, 32768, 32769, MIB + 1 };
    const char *argv[16];
    char names[6][1024], rdir[1100], ldir[1024], a[1024], b[1024], spec[1100];
    size_t n = sizeof(sizes) / sizeof(sizes[0]), k = 0;

    (void)state;
    use_dir("sizes");
    /* one file to a new name, and back */
    lpath(a, sizeof(a), "single");
    tf_make(a, MIB + 1, 3);
    rspec(spec, sizeof(spec), "single.copy");
    expect_cp(0, (const char *[]){ a, spec, NULL });
    rpath(b, sizeof(b), "single.copy");
    assert_true(tf_same(a, b));
    /* no progress output: stdout is not a terminal */
    assert_int_equal(tf_size(cli_err_path), 0);
    assert_int_equal(tf_size(cli_out_path), 0);
    lpath(b, sizeof(b), "single.back");
    expect_cp(0, (const char *[]){ spec, b, NULL });
    assert_true(tf_same(a, b));
    assert_int_equal(tf_size(cli_err_path), 0);

    /* every size, several sources into a remote directory */
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%zu", sizes[i]);
        lpath(names[i], sizeof(names[i]), name);
        tf_make(names[i], sizes[i], (uint32_t)(i + 7));
        argv[k++] = names[i];
    }
    rspec(rdir, sizeof(rdir), "");
    argv[k++] = rdir;
    argv[k] = NULL;
    expect_cp(0, argv);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%zu", sizes[i]);
        rpath(b, sizeof(b), name);
        assert_true(tf_same(names[i], b));
    }
    /* and back from the server into a local directory */
    {
        char specs[6][1100];
        k = 0;
        for (size_t i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof(name), "f%zu", sizes[i]);
            rspec(specs[i], sizeof(specs[i]), name);
            argv[k++] = specs[i];
        }
        lpath(ldir, sizeof(ldir), "back");
        assert_int_equal(mkdir(ldir, 0755), 0);
        argv[k++] = ldir;
        argv[k] = NULL;
        expect_cp(0, argv);
        for (size_t i = 0; i < n; i++) {
            char name[64];
            snprintf(name, sizeof(name), "back/f%zu", sizes[i]);
            lpath(b, sizeof(b), name);
            assert_true(tf_same(names[i], b));
        }
    }
    /* several sources and a target that is not a directory: 1 */
    expect_cp(1, (const char *[]){ names[0], names[1], spec, NULL });
    /* a wildcard in a remote source, as scp: matched on the server */
    {
        char glob[1100], gdir[1024];
        rspec(glob, sizeof(glob), "f3276?");
        lpath(gdir, sizeof(gdir), "globbed");
        assert_int_equal(mkdir(gdir, 0755), 0);
        expect_cp(0, (const char *[]){ glob, gdir, NULL });
        lpath(a, sizeof(a), "globbed/f32767");
        assert_true(tf_same(names[2], a));
        lpath(a, sizeof(a), "globbed/f32768");
        assert_true(tf_same(names[3], a));
        lpath(a, sizeof(a), "globbed/f32769");
        assert_true(tf_same(names[4], a));
        lpath(a, sizeof(a), "globbed/f1");
        assert_int_equal(tf_size(a), -1);
        rspec(glob, sizeof(glob), "nomatch*");
        expect_cp(1, (const char *[]){ glob, gdir, NULL });
        /* a pattern that matches nothing is the name itself, as scp
         * (GLOB_NOCHECK): "file[1].txt" ("[1]" matches only "1") */
        rpath(a, sizeof(a), "file[1].txt");
        tf_make(a, 100, 21);
        rspec(glob, sizeof(glob), "file[1].txt");
        expect_cp(0, (const char *[]){ glob, gdir, NULL });
        lpath(b, sizeof(b), "globbed/file[1].txt");
        assert_true(tf_same(a, b));
        /* escaped, as scp's glob: the same file, to a new name */
        rspec(glob, sizeof(glob), "file\\[1\\].txt");
        lpath(b, sizeof(b), "globbed/escaped");
        expect_cp(0, (const char *[]){ glob, b, NULL });
        assert_true(tf_same(a, b));
    }
}

/* --- -r and -p ------------------------------------------------------------ */

static void
check_attrs(const char *path, mode_t mode, time_t mtime)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        fail_msg("%s: %s", path, strerror(errno));
    if ((st.st_mode & 07777) != mode)
        fail_msg("%s: mode %o, expected %o", path, (unsigned)(st.st_mode & 07777), (unsigned)mode);
    if (mtime != 0 && st.st_mtime != mtime)
        fail_msg("%s: mtime %ld, expected %ld", path, (long)st.st_mtime, (long)mtime);
}

static void
set_time(const char *path, time_t t)
{
    struct timespec ts[2] = { { .tv_sec = t - 100 }, { .tv_sec = t } };

    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
test_cp_recursive_preserve(void **state)
{
    char p[1024], q[1024], spec[1100], link[1024];
    const time_t t1 = 1000000000, t2 = 1200000000, t3 = 1300000000;

    (void)state;
    use_dir("recursive");
    lpath(p, sizeof(p), "tree");
    assert_int_equal(mkdir(p, 0755), 0);
    lpath(p, sizeof(p), "tree/sub");
    assert_int_equal(mkdir(p, 0755), 0);
    lpath(p, sizeof(p), "tree/sub/deep");
    assert_int_equal(mkdir(p, 0755), 0);
    lpath(p, sizeof(p), "tree/empty");
    assert_int_equal(mkdir(p, 0750), 0);
    lpath(p, sizeof(p), "tree/a");
    tf_make(p, 70000, 1);
    assert_int_equal(chmod(p, 0640), 0);
    set_time(p, t1);
    lpath(p, sizeof(p), "tree/sub/b");
    tf_make(p, 5, 2);
    assert_int_equal(chmod(p, 0600), 0);
    set_time(p, t2);
    lpath(p, sizeof(p), "tree/sub/deep/c");
    tf_make(p, 0, 3);
    assert_int_equal(chmod(p, 0604), 0);
    lpath(p, sizeof(p), "tree/link");
    assert_int_equal(symlink("sub/b", p), 0);
    lpath(p, sizeof(p), "tree/sub");
    assert_int_equal(chmod(p, 0711), 0);
    set_time(p, t3);

    /* without -r a directory is refused */
    lpath(p, sizeof(p), "tree");
    rspec(spec, sizeof(spec), "copy");
    expect_cp(1, (const char *[]){ p, spec, NULL });
    expect_cp(0, (const char *[]){ "-r", "-p", p, spec, NULL });
    rpath(q, sizeof(q), "copy/a");
    lpath(p, sizeof(p), "tree/a");
    assert_true(tf_same(p, q));
    check_attrs(q, 0640, t1);
    rpath(q, sizeof(q), "copy/sub/b");
    check_attrs(q, 0600, t2);
    rpath(q, sizeof(q), "copy/sub/deep/c");
    assert_int_equal(tf_size(q), 0);
    check_attrs(q, 0604, 0);
    rpath(q, sizeof(q), "copy/sub");
    check_attrs(q, 0711, t3);
    rpath(q, sizeof(q), "copy/empty");
    check_attrs(q, 0750, 0);
    rpath(q, sizeof(q), "copy/link");
    {
        ssize_t n = readlink(q, link, sizeof(link) - 1);
        assert_true(n > 0);
        link[n] = '\0';
        assert_string_equal(link, "sub/b");
    }
    /* into an existing directory: under the source's name */
    rpath(q, sizeof(q), "exists");
    assert_int_equal(mkdir(q, 0755), 0);
    rspec(spec, sizeof(spec), "exists");
    lpath(p, sizeof(p), "tree");
    expect_cp(0, (const char *[]){ "-rp", p, spec, NULL });
    rpath(q, sizeof(q), "exists/tree/sub/b");
    check_attrs(q, 0600, t2);

    /* and back */
    rspec(spec, sizeof(spec), "copy");
    lpath(q, sizeof(q), "back");
    expect_cp(0, (const char *[]){ "-r", "-p", spec, q, NULL });
    lpath(q, sizeof(q), "back/a");
    lpath(p, sizeof(p), "tree/a");
    assert_true(tf_same(p, q));
    check_attrs(q, 0640, t1);
    lpath(q, sizeof(q), "back/sub");
    check_attrs(q, 0711, t3);
    lpath(q, sizeof(q), "back/link");
    {
        ssize_t n = readlink(q, link, sizeof(link) - 1);
        assert_true(n > 0);
        link[n] = '\0';
        assert_string_equal(link, "sub/b");
    }
}

/* --- --resume ------------------------------------------------------------- */

/* Starts a rate-limited cp, kills it once @p watch holds KILL_AT bytes. */
static void
kill_midway(const char *src, const char *dst, const char *watch)
{
    const char *argv[CLI_MAX_ARGS];
    int n = cli_args(argv, "cp"), status;
    pid_t pid;

    argv[n++] = "-l";
    argv[n++] = RESUME_LIMIT;
    argv[n++] = src;
    argv[n++] = dst;
    argv[n] = NULL;
    pid = cli_spawn(argv, NULL);
    for (int i = 0; i < 20000 && tf_size(watch) < KILL_AT; i++)
        usleep(1000);
    kill(pid, SIGKILL);
    status = cli_wait(pid);
    assert_int_equal(status, 128 + SIGKILL);
    assert_true(tf_size(watch) >= KILL_AT);
    assert_true(tf_size(watch) < (off_t)RESUME_SIZE);
}

static void
test_cp_resume_after_kill(void **state)
{
    char l[1024], r[1024], part[1024], spec[1100], back[1024];

    (void)state;
    use_dir("resume");
    lpath(l, sizeof(l), "big");
    tf_make(l, RESUME_SIZE, 99);
    rpath(r, sizeof(r), "big");
    rpath(part, sizeof(part), ".big.amkpart");
    rspec(spec, sizeof(spec), "big");

    /* put: killed midway, the final name does not exist, the part does */
    kill_midway(l, spec, part);
    assert_int_equal(tf_size(r), -1);
    expect_cp(0, (const char *[]){ "--resume", l, spec, NULL });
    assert_true(tf_same(l, r));
    assert_int_equal(tf_size(part), -1);

    /* get: killed midway, resumed to an identical file */
    lpath(back, sizeof(back), "big.back");
    kill_midway(spec, back, back);
    expect_cp(0, (const char *[]){ "--resume", spec, back, NULL });
    assert_true(tf_same(l, back));

}

/* --- Exit codes ----------------------------------------------------------- */

static void
test_cp_exit_codes(void **state)
{
    char l[1024], spec[1100], kh[FIXTURE_PATH_MAX + 40], port[16];
    char *e;

    (void)state;
    use_dir("exits");
    lpath(l, sizeof(l), "x");
    tf_make(l, 10, 5);
    /* a missing remote source: 1, named with the server's message */
    rspec(spec, sizeof(spec), "missing");
    expect_cp(1, (const char *[]){ spec, l, NULL });
    e = tf_read(cli_err_path, NULL);
    if (strstr(e, "missing") == NULL || strstr(e, "No such file") == NULL)
        fail_msg("stderr: %s", e);
    free(e);
    /* one missing local source of two: the other is still copied, exit 1 */
    {
        char ok[1024], dir[1100], r[1024];
        lpath(l, sizeof(l), "nothere");
        lpath(ok, sizeof(ok), "x");
        rspec(dir, sizeof(dir), "");
        expect_cp(1, (const char *[]){ l, ok, dir, NULL });
        rpath(r, sizeof(r), "x");
        assert_true(tf_same(ok, r));
    }
    /* a server's name with ESC and BEL (here a directory copied without
     * -r) is named in the message escaped, never raw */
    {
        char d[1024], ldir[1024];
        rpath(d, sizeof(d), "d\033]0;t\007");
        assert_int_equal(mkdir(d, 0755), 0);
        rspec(spec, sizeof(spec), "d*");
        lpath(ldir, sizeof(ldir), "");
        expect_cp(1, (const char *[]){ spec, ldir, NULL });
        e = tf_read(cli_err_path, NULL);
        if (strstr(e, "/d\\033]0;t\\007") == NULL || strchr(e, '\033') != NULL ||
            strchr(e, '\007') != NULL)
            fail_msg("the name is not escaped: %zu bytes of stderr", strlen(e));
        free(e);
    }
    /* a remote target in a missing directory: 1 */
    lpath(l, sizeof(l), "x");
    rspec(spec, sizeof(spec), "no/such/dir/x");
    expect_cp(1, (const char *[]){ l, spec, NULL });
    /* connection refused: 255 */
    {
        const char *argv[] = { amiko, "cp", "-P", "1", "-o", "BatchMode=yes", l,
            "127.0.0.1:x", NULL };
        assert_int_equal(cli_run(argv, NULL), 255);
    }
    /* an unknown host key with StrictHostKeyChecking=yes: 255 */
    {
        const char *argv[] = { amiko, "cp", "-P", port, "-i", fx.user_key, "-o",
            "StrictHostKeyChecking=yes", "-o", kh, "-o", "BatchMode=yes", l, spec, NULL };
        char empty[FIXTURE_PATH_MAX];
        sshd_fixture_path(&fx, "empty_known_hosts", empty, sizeof(empty));
        tf_write(empty, "", 0);
        snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", empty);
        snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
        assert_int_equal(cli_run(argv, NULL), 255);
    }
    /* no acceptable key (BatchMode: no prompt): 255 */
    {
        const char *argv[] = { amiko, "cp", "-P", port, "-o", kh, "-o", "BatchMode=yes",
            "-o", "PubkeyAuthentication=no", l, spec, NULL };
        snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", fx.known_hosts);
        assert_int_equal(cli_run(argv, NULL), 255);
    }
    /* an unknown -o option: 255, as ssh */
    expect_cp(255, (const char *[]){ "-o", "NoSuchOption=1", l, spec, NULL });
    /* USER and LOGNAME unset and no user@ in the operand: the user this
     * runs as (getpwuid), as scp, not "no user name" */
    {
        char *const env[] = { "USER", "LOGNAME", NULL };
        const char *argv[CLI_MAX_ARGS];
        char nouser[1100], r[1024];
        int n = cli_args(argv, "cp"), st;
        lpath(l, sizeof(l), "x");
        snprintf(nouser, sizeof(nouser), "127.0.0.1:%s/r/nouser", work);
        argv[n++] = l;
        argv[n++] = nouser;
        argv[n] = NULL;
        st = cli_wait(cli_spawn_env(argv, NULL, env));
        e = tf_read(cli_err_path, NULL);
        if (st != 0)
            fail_msg("amiko cp without USER exited %d:\n%s", st, e);
        free(e);
        rpath(r, sizeof(r), "nouser");
        assert_true(tf_same(l, r));
    }
}

/* --- Progress under a pty -------------------------------------------------- */

/* The shell command line of amiko cp @p l to @p spec (with -q when
 * @p quiet), then @p redirect (shell redirections, may be ""). */
static void
script_cmd(char *cmd, size_t cap, const char *l, const char *spec, int quiet,
    const char *redirect)
{
    const char *argv[CLI_MAX_ARGS];
    int n = cli_args(argv, "cp");

    snprintf(cmd, cap, "HOME='%s'", fx.dir);
    for (int i = 0; i < n; i++)
        snprintf(cmd + strlen(cmd), cap - strlen(cmd), " '%s'", argv[i]);
    snprintf(cmd + strlen(cmd), cap - strlen(cmd), "%s '%s' '%s' %s", quiet ? " -q" : "", l, spec,
        redirect);
}

/* The last line drawn in @p out (after the last '\r') shows @p size as
 * the bytes done: not more (bytes counted twice), not less. */
static void
expect_final_size(const char *out, const char *size)
{
    const char *last = strrchr(out, '\r');
    char pat[32];

    /* script(1) turns each newline into "\r\n": skip a trailing one */
    while (last != NULL && last > out && (last[1] == '\n' || last[1] == '\0')) {
        const char *p = last - 1;
        while (p > out && *p != '\r')
            p--;
        last = *p == '\r' ? p : NULL;
    }
    snprintf(pat, sizeof(pat), " %s ", size);
    if (last == NULL || strstr(last, "100%") == NULL || strstr(last, pat) == NULL)
        fail_msg("the final progress line does not show %s:\n%s", size, out);
}

static void
test_cp_progress_on_a_terminal(void **state)
{
    char l[1024], spec[1100], cmd[4000], log[1024];
    const char *sargv[] = { "/usr/bin/script", "-qec", cmd, log, NULL };
    char *out;

    (void)state;
    use_dir("progress");
    if (access("/usr/bin/script", X_OK) != 0) {
        print_message("skipped: script(1) is not installed\n");
        return;
    }
    lpath(l, sizeof(l), "p");
    tf_make(l, 3 * MIB, 11);
    rspec(spec, sizeof(spec), "p");
    lpath(log, sizeof(log), "typescript");
    /* stdout is the pty script(1) made: a bar, ending at 100% */
    script_cmd(cmd, sizeof(cmd), l, spec, 0, "");
    assert_int_equal(cli_run(sargv, NULL), 0);
    out = tf_read(log, NULL);
    if (strstr(out, "100%") == NULL || strstr(out, "/s") == NULL || strstr(out, "3.0MB") == NULL)
        fail_msg("no progress bar on the terminal:\n%s", out);
    expect_final_size(out, "3.0MB");
    free(out);
    /* and back (a get): the last figure is the file's size too */
    {
        char back[1024];
        lpath(back, sizeof(back), "p.back");
        script_cmd(cmd, sizeof(cmd), spec, back, 0, "");
        assert_int_equal(cli_run(sargv, NULL), 0);
        out = tf_read(log, NULL);
        expect_final_size(out, "3.0MB");
        free(out);
    }
    /* -q: none */
    script_cmd(cmd, sizeof(cmd), l, spec, 1, "");
    assert_int_equal(cli_run(sargv, NULL), 0);
    out = tf_read(log, NULL);
    if (strstr(out, "100%") != NULL)
        fail_msg("progress despite -q:\n%s", out);
    free(out);
    /* as scp, the bar is on stdout: still drawn with stderr in a file,
     * and nothing goes to that file */
    {
        char errf[1024], redirect[1100];
        lpath(errf, sizeof(errf), "stderr");
        snprintf(redirect, sizeof(redirect), "2>'%s'", errf);
        script_cmd(cmd, sizeof(cmd), l, spec, 0, redirect);
        assert_int_equal(cli_run(sargv, NULL), 0);
        out = tf_read(log, NULL);
        expect_final_size(out, "3.0MB");
        free(out);
        assert_int_equal(tf_size(errf), 0);
        /* and none with stdout in a file, though stderr is the terminal */
        snprintf(redirect, sizeof(redirect), ">'%s'", errf);
        script_cmd(cmd, sizeof(cmd), l, spec, 0, redirect);
        assert_int_equal(cli_run(sargv, NULL), 0);
        out = tf_read(log, NULL);
        if (strstr(out, "100%") != NULL)
            fail_msg("progress with stdout in a file:\n%s", out);
        free(out);
        assert_int_equal(tf_size(errf), 0);
    }
}

/* --- Fixture -------------------------------------------------------------- */

static int
group_setup(void **state)
{
    (void)state;
    if (cli_setup(&fx, base, sizeof(base), "cp", amiko) != 0)
        return -1;
    snprintf(remote_prefix, sizeof(remote_prefix), "%s@127.0.0.1:", fx.user);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    cli_teardown(&fx, base);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cp_sizes_both_ways),
        cmocka_unit_test(test_cp_recursive_preserve),
        cmocka_unit_test(test_cp_resume_after_kill),
        cmocka_unit_test(test_cp_exit_codes),
        cmocka_unit_test(test_cp_progress_on_a_terminal),
    };

    /* argv[1]: the one case to run (CTest runs each as its own test) */
    amiko = AMK_TOOL_PATH;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
