/*
 * Interop: other SSH libraries' clients against `amiko serve`, one CTest
 * test per peer (argv[1]), as test_sftp_peers runs amiko's client against
 * their servers. AsyncSSH and libssh send SFTP SYMLINK's fields in the
 * draft's order (linkpath first) to a server whose banner does not name
 * OpenSSH, so serve must read them so for them (doc/PROTOCOL.md); libssh2
 * always sends target first:
 *  - asyncssh: AsyncSSH's client (Debian's python3-asyncssh, under
 *    /usr/bin/python3, not the pyenv python3 on PATH) in serve_asyncssh.py
 *    (AMK_SERVE_ASYNCSSH_PY; 77, asyncssh missing, skips): password and
 *    Ed25519 key with known_hosts checked, exec, SFTP put/get of
 *    1 MiB + 1, rename, symlink/readlink/lstat, listdir, remove, a wrong
 *    password refused; a connection under libssh2's banner sends target
 *    first and must be read so.
 *  - libssh: libssh's client in serve_libssh.c, a program on libssh only
 *    (AMK_SERVE_LIBSSH_PATH; built when pkg-config finds libssh, which
 *    scripts/deps check installs; skipped without it): Ed25519 key with
 *    known_hosts checked, put/get of 1 MiB + 1, sftp_symlink() then
 *    sftp_readlink() and sftp_lstat().
 *  - libssh2: libssh2's client (1.10) in serve_libssh2.c, the same way
 *    (AMK_SERVE_LIBSSH2_PATH; pkg-config libssh2, libssh2-1-dev in
 *    scripts/deps check): host key checked with libssh2_knownhost_checkp(),
 *    Ed25519 key from files, exec status, SFTP put/stat/rename/get of
 *    1 MiB + 1, mkdir/rmdir, symlink + readlink + lstat, listdir. It sends
 *    SYMLINK target first (OpenSSH's order), and its banner
 *    ("libssh2_") keeps serve reading that order.
 * Here: the client's status and report, serve's log (serve runs with -v,
 * so it logs each SFTP session that reads linkpath first), and the files
 * and links left in the work directory.
 */
#include "test_helper.h"

#include <errno.h>
#include <unistd.h>

#include "file_util.h"
#include "serve_fixture.h"

#define PYTHON "/usr/bin/python3"
#define RUN_MS 60000
#define FILE_SIZE ((uint64_t)1024 * 1024 + 1)
#define LINKPATH_FIRST "SYMLINK read linkpath first"

static struct serve_fixture fx;
static char port[16];

/* Skips the test (exit 77) unless @p ok, saying @p why. */
static void
skip_unless(int ok, const char *why)
{
    if (ok)
        return;
    fprintf(stderr, "skipped: %s\n", why);
    serve_fixture_cleanup(&fx);
    exit(FIXTURE_SKIP);
}

/* Makes @p name (FILE_SIZE bytes, its path in @p src) in the work
 * directory and starts serve with debug logging and a password. */
static void
start(const char *name, char src[FIXTURE_PATH_MAX])
{
    const char *args[] = { "-v", "--password", serve_fixture_password_arg(&fx), NULL };

    serve_fixture_work_path(&fx, name, src, FIXTURE_PATH_MAX);
    tf_make(src, FILE_SIZE, 61);
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ALL, args), 0);
    snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
}

/* Runs the client @p argv with its output into @p out_name and prints it;
 * its output (free it). It exiting 77 skips the test. */
static char *
run_client(char *const argv[], const char *out_name)
{
    char out[FIXTURE_PATH_MAX];
    char *o;
    int rc;

    serve_fixture_path(&fx, out_name, out, sizeof(out));
    rc = serve_run(&fx, argv, NULL, out, out, NULL, RUN_MS);
    o = serve_slurp(out, NULL);
    fprintf(stderr, "%s", o);
    if (rc == FIXTURE_SKIP) {
        free(o);
        serve_fixture_cleanup(&fx);
        exit(FIXTURE_SKIP);
    }
    if (rc != 0) {
        serve_fixture_dump_log(&fx, 4000);
        fail_msg("%s exited %d", argv[0], rc);
    }
    return o;
}

/* The symlink @p name in the work directory holds the absolute path of
 * work-directory file @p target. */
static void
assert_work_link(const char *name, const char *target)
{
    char path[FIXTURE_PATH_MAX], want[FIXTURE_PATH_MAX], got[FIXTURE_PATH_MAX];
    ssize_t n;

    serve_fixture_work_path(&fx, name, path, sizeof(path));
    serve_fixture_work_path(&fx, target, want, sizeof(want));
    n = readlink(path, got, sizeof(got) - 1);
    if (n < 0)
        fail_msg("%s is not a symlink: %s", path, strerror(errno));
    got[n] = '\0';
    assert_string_equal(got, want);
}

/* Work-directory file @p name has the bytes of @p src. */
static void
assert_work_same(const char *src, const char *name)
{
    char path[FIXTURE_PATH_MAX];

    serve_fixture_work_path(&fx, name, path, sizeof(path));
    assert_true(tf_same(src, path));
}

static void
assert_work_gone(const char *name)
{
    char path[FIXTURE_PATH_MAX];

    serve_fixture_work_path(&fx, name, path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1);
}

static void
test_asyncssh(void **state)
{
    char src[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)PYTHON, (char *)AMK_SERVE_ASYNCSSH_PY, port, fx.user,
        (char *)SERVE_PASSWORD, fx.user_key, fx.known_hosts, fx.work, NULL };
    int n = 0;
    char *o;

    (void)state;
    skip_unless(access(PYTHON, X_OK) == 0, PYTHON " is not installed");
    start("as_src", src);
    o = run_client(argv, "asyncssh.out");
    assert_non_null(strstr(o, "password + exec: ok"));
    assert_non_null(strstr(o, "symlink: as_link -> as_file"));
    assert_non_null(strstr(o, "libssh2 banner symlink: as_link2 -> as_file"));
    assert_non_null(strstr(o, "wrong password refused: ok"));
    free(o);
    /* both methods, and the draft's order for AsyncSSH's SFTP session
     * only (not for the one under libssh2's banner) */
    assert_true(serve_fixture_log_count(&fx, "method password", NULL));
    assert_true(serve_fixture_log_count(&fx, "method publickey", NULL));
    assert_true(serve_fixture_log_count(&fx, LINKPATH_FIRST, &n));
    assert_int_equal(n, 1);
    /* on disk: the links point at the file, whose bytes are the source's */
    assert_work_link("as_link", "as_file");
    assert_work_link("as_link2", "as_file");
    assert_work_same(src, "as_file");
    assert_work_same(src, "as_back");
    assert_work_same(src, "as_link");
    assert_work_gone("as_remote");
    assert_work_gone("as_tmp");
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static void
test_libssh(void **state)
{
    char src[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)AMK_SERVE_LIBSSH_PATH, port, fx.user, fx.user_key,
        fx.known_hosts, fx.work, NULL };
    int n = 0;
    char *o;

    (void)state;
    skip_unless(AMK_SERVE_LIBSSH_PATH[0] != '\0', "libssh's development files were not "
        "found at build time (scripts/deps check installs libssh-dev)");
    start("ls_src", src);
    o = run_client(argv, "libssh.out");
    /* libssh took serve for not OpenSSH: it sent the draft's order */
    assert_non_null(strstr(o, "openssh version of the server: 0"));
    assert_non_null(strstr(o, "put + get: ok"));
    assert_non_null(strstr(o, "symlink: ls_link -> ls_file"));
    assert_non_null(strstr(o, "symlink + readlink + lstat: ok"));
    free(o);
    assert_true(serve_fixture_log_count(&fx, "method publickey", NULL));
    assert_true(serve_fixture_log_count(&fx, LINKPATH_FIRST, &n));
    assert_int_equal(n, 1);
    assert_work_link("ls_link", "ls_file");
    assert_work_same(src, "ls_file");
    assert_work_same(src, "ls_back");
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static void
test_libssh2(void **state)
{
    char src[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)AMK_SERVE_LIBSSH2_PATH, port, fx.user, fx.user_key,
        fx.known_hosts, fx.work, NULL };
    char *o;

    (void)state;
    skip_unless(AMK_SERVE_LIBSSH2_PATH[0] != '\0', "libssh2's development files were not "
        "found at build time (scripts/deps check installs libssh2-1-dev)");
    start("l2_src", src);
    o = run_client(argv, "libssh2.out");
    assert_non_null(strstr(o, "publickey: ok"));
    assert_non_null(strstr(o, "exec: exit 7, stdout and stderr apart: ok"));
    assert_non_null(strstr(o, "put + stat + rename + get: ok"));
    assert_non_null(strstr(o, "mkdir + rmdir: ok"));
    assert_non_null(strstr(o, "symlink: l2_link -> l2_file"));
    assert_non_null(strstr(o, "symlink + readlink + lstat: ok"));
    assert_non_null(strstr(o, "listdir: ok"));
    free(o);
    assert_true(serve_fixture_log_count(&fx, "method publickey", NULL));
    /* libssh2 sends target first, as OpenSSH does: read so */
    assert_false(serve_fixture_log_count(&fx, LINKPATH_FIRST, NULL));
    assert_work_link("l2_link", "l2_file");
    assert_work_same(src, "l2_file");
    assert_work_same(src, "l2_back");
    assert_work_gone("l2_tmp");
    assert_work_gone("l2_dir");
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static int
group_setup(void **state)
{
    static const char *const need[] = { SSH_KEYGEN_PATH };

    (void)state;
    if (serve_fixture_need(need, sizeof(need) / sizeof(need[0])) != 0)
        return -1;
    return serve_fixture_init(&fx);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asyncssh),
        cmocka_unit_test(test_libssh),
        cmocka_unit_test(test_libssh2),
    };

    /* argv[1]: the peer, "asyncssh", "libssh" or "libssh2" (a CTest test each) */
    test_filter_from_argv(argc, argv, "test_", "");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
