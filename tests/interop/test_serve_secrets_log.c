/*
 * Interop: nothing secret reaches a log on either side when amiko's
 * client logs in to `amiko serve` by password (issue 9, "Secrets"). No
 * root is needed (the password is serve's own --password), so this runs
 * wherever the suite does, unlike the password half of test_secrets_log.
 *
 * `amiko serve -v` (debug logging) takes a wrong password, then the
 * right one, and runs a command with 300 KB of output; the client logs at
 * TRACE. Neither the client's log nor serve.log may hold either password,
 * 12 bytes of any host private key (raw, hex, base64), a line of a host
 * key file, or a long hex/base64 run other than public keys and
 * fingerprints. And `ps` (/proc/PID/cmdline) no longer shows the password
 * given on serve's command line.
 */
#include "test_helper.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko/client.h>

#include "secrets_scan.h"
#include "serve_fixture.h"
#include "util/buf.h"

#define WRONG_PASSWORD "Wr0ng-Pw-Amk!zq"

static struct serve_fixture fx;
static struct amk_buf logbuf;

static struct amk_client *
client_new(void)
{
    struct amk_client *c = NULL;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_log(c, secrets_log_to_buf, &logbuf, AMK_LOG_TRACE));
    ASSERT_OK(amk_client_load_host_keys(c, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_auth_methods(c, 0, 1));
    ASSERT_OK(amk_client_set_connect_timeout(c, 20000));
    ASSERT_OK(amk_client_set_timeout(c, 60000));
    return c;
}

/* The host key files serve was given, by the fixture's names. */
static const char *const HOST_KEY_FILES[] = { "host_ed25519", "host_ecdsa256", "host_ecdsa384",
    "host_ecdsa521", "host_rsa" };
#define N_HOST_KEY_FILES (sizeof(HOST_KEY_FILES) / sizeof(HOST_KEY_FILES[0]))

static void
check_text(const char *text, const char *whose)
{
    char path[FIXTURE_PATH_MAX], pub[FIXTURE_PATH_MAX + 8];
    const char *pubs[] = { pub };
    char *allowed[64];
    size_t nallowed = 0;

    print_message("    checking %s's log (%zu bytes)\n", whose, strlen(text));
    secrets_must_not_contain(text, SERVE_PASSWORD, "the password");
    secrets_must_not_contain(text, WRONG_PASSWORD, "the wrong password");
    for (size_t i = 0; i < N_HOST_KEY_FILES; i++) {
        serve_fixture_path(&fx, HOST_KEY_FILES[i], path, sizeof(path));
        secrets_check_key_not_logged(text, path);
    }
    snprintf(pub, sizeof(pub), "%s.pub", fx.user_key);
    secrets_allowed_runs(fx.known_hosts, pubs, 1, allowed, 64, &nallowed);
    secrets_no_unexplained_runs(text, (const char *const *)allowed, nallowed);
    for (size_t i = 0; i < nallowed; i++)
        free(allowed[i]);
}

static void
test_serve_secrets_log_password(void **state)
{
    const char *args[] = { "-v", "--password", serve_fixture_password_arg(&fx), NULL };
    char cmdline_path[64], *cmdline, *serve_log, *out = NULL, *err = NULL;
    size_t cmdline_len = 0, outlen = 0, errlen = 0;
    struct amk_client *c;
    int status = -1, r;

    (void)state;
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ALL, args), 0);

    /* ps: the password given on the command line is gone from it (not
     * under a wrapper such as valgrind, whose guest argv is not the
     * process's) */
    if (getenv("AMK_SERVE_WRAPPER") == NULL) {
        snprintf(cmdline_path, sizeof(cmdline_path), "/proc/%d/cmdline", (int)fx.pid);
        cmdline = tf_read(cmdline_path, &cmdline_len);
        assert_true(cmdline_len > 0);
        if (memmem(cmdline, cmdline_len, SERVE_PASSWORD, strlen(SERVE_PASSWORD)) != NULL)
            fail_msg("amiko serve's command line still shows the password");
        assert_non_null(memmem(cmdline, cmdline_len, ":xxxx", 5));
        free(cmdline);
    }

    /* a wrong password, refused */
    c = client_new();
    r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, WRONG_PASSWORD);
    assert_int_equal(r, AMK_EAUTH);
    amk_client_free(c);

    /* the right one, and a command */
    c = client_new();
    r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, SERVE_PASSWORD);
    if (r != AMK_OK) {
        serve_fixture_dump_log(&fx, 3000);
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    ASSERT_OK(amk_client_run(c, "head -c 300000 /dev/urandom | base64", &out, &outlen, &err,
        &errlen, &status));
    assert_int_equal(status, 0);
    assert_true(outlen > 400000);
    free(out);
    free(err);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    assert_int_equal(serve_fixture_stop(&fx), 0);

    /* the logs: both sides logged the logins, neither a secret */
    ASSERT_OK(amk_buf_put(&logbuf, "", 1));
    assert_true(amk_buf_len(&logbuf) > 1000);
    check_text((const char *)amk_buf_ptr(&logbuf), "the client");
    serve_log = tf_read(fx.log, NULL);
    assert_non_null(strstr(serve_log, "password"));
    check_text(serve_log, "amiko serve");
    free(serve_log);
}

/* --password-file: logins work from it, nothing secret on the command
 * line; a file others can read is refused at start. */
static void
test_serve_secrets_password_file(void **state)
{
    char path[FIXTURE_PATH_MAX], line[128];
    const char *args[] = { "--password-file", path, NULL };
    struct amk_client *c;
    FILE *f;
    int r;

    (void)state;
    serve_fixture_path(&fx, "passwords", path, sizeof(path));
    assert_non_null(f = fopen(path, "w"));
    snprintf(line, sizeof(line), "# users\n\nnobody-here:other-pw\n%s:%s\n", fx.user,
        SERVE_PASSWORD);
    fputs(line, f);
    assert_int_equal(fclose(f), 0);
    /* readable by others: refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ED25519, args), -1);
    assert_true(serve_fixture_log_count(&fx, "too open", NULL));
    /* 0600: serves, and the password works */
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ED25519, args), 0);
    c = client_new();
    r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, SERVE_PASSWORD);
    if (r != AMK_OK) {
        serve_fixture_dump_log(&fx, 3000);
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    c = client_new();
    assert_int_equal(amk_client_connect(c, "127.0.0.1", fx.port, fx.user, "other-pw"), AMK_EAUTH);
    amk_client_free(c);
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static int
group_setup(void **state)
{
    (void)state;
    if (!serve_fixture_available()) {
        fprintf(stderr, "skipped: amiko or ssh-keygen missing\n");
        exit(FIXTURE_SKIP);
    }
    amk_buf_init(&logbuf);
    return serve_fixture_init(&fx);
}

static int
group_teardown(void **state)
{
    (void)state;
    serve_fixture_cleanup(&fx);
    amk_buf_release(&logbuf);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_secrets_log_password),
        cmocka_unit_test(test_serve_secrets_password_file),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
