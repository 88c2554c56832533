/*
 * Interop: paramiko (Debian's python3-paramiko, under /usr/bin/python3,
 * not the pyenv python3 on PATH) against `amiko serve`. The client side is
 * tests/interop/serve_paramiko.py (AMK_SERVE_PARAMIKO_PY): password, Ed25519
 * and RSA key authentication with known_hosts checking, exec (exit status,
 * stdout, stderr), SFTP (1 MiB + 1 put/get checksummed, listdir, stat,
 * rename, symlink/readlink/lstat, remove, mkdir/rmdir), a wrong password
 * refused. Here: the script's status (77, paramiko missing, skips),
 * serve's log of each method and of the SYMLINK order, and what is left
 * in the work directory.
 */
#include "test_helper.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include "serve_fixture.h"

#define PYTHON "/usr/bin/python3"
#define RUN_MS 50000

static struct serve_fixture fx;

static void
test_paramiko_against_serve(void **state)
{
    /* -v: serve logs the SYMLINK order of each SFTP session */
    const char *args[] = { "-v", "--password", serve_fixture_password_arg(&fx), NULL };
    char port[16], out[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)PYTHON, (char *)AMK_SERVE_PARAMIKO_PY, port, fx.user,
        (char *)SERVE_PASSWORD, fx.user_key, fx.user_key_rsa, fx.known_hosts, fx.work, NULL };
    int rc, n = 0;
    DIR *d;
    struct dirent *e;
    char *o;

    (void)state;
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ALL, args), 0);
    snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
    serve_fixture_path(&fx, "paramiko.out", out, sizeof(out));
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
        fail_msg("serve_paramiko.py exited %d", rc);
    }
    assert_non_null(strstr(o, "rsa key + sftp: ok"));
    free(o);
    /* serve logged the logins: by password, and by the two keys */
    assert_true(serve_fixture_log_count(&fx, "password", NULL));
    assert_true(serve_fixture_log_count(&fx, "publickey", &n));
    assert_true(n >= 2);
    /* Paramiko sends SYMLINK target first: read in OpenSSH's order */
    assert_false(serve_fixture_log_count(&fx, "SYMLINK read linkpath first", NULL));
    n = 0;
    /* the script cleaned up after itself: renamed and removed, nothing left */
    d = opendir(fx.work);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            fprintf(stderr, "left in the work dir: %s\n", e->d_name);
            n++;
        }
    }
    closedir(d);
    assert_int_equal(n, 0);
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static int
group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (access(PYTHON, X_OK) != 0 || access(SSH_KEYGEN_PATH, X_OK) != 0) {
        fprintf(stderr, "skipped: %s or ssh-keygen is not installed\n", PYTHON);
        exit(FIXTURE_SKIP);
    }
    if (access(AMIKO_PATH, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", AMIKO_PATH);
        return -1;
    }
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
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paramiko_against_serve),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
