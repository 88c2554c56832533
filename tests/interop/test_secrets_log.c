/*
 * Interop: nothing secret reaches amiko's log at any level (issue 9,
 * "Secrets"). A full client session against the real sshd with TRACE
 * logging, once with password authentication (a throwaway account, as
 * test_userauth_password does) and once with publickey authentication
 * (the fixture's Ed25519 key), each running a command and rekeying. The
 * captured log must not hold the password, the private key's seed or any
 * 12-byte run of it in hex or base64, any line of the key file's base64
 * body, and no long hex or base64 run at all except the public keys and
 * fingerprints it may legitimately name (session keys and KEX secrets
 * would show up as such runs).
 *
 * The password half needs root (useradd); without root only the publickey
 * half runs.
 */
#include "test_helper.h"

#include <unistd.h>

#include <amiko/client.h>

#include "auth_driver.h"
#include "keys/key.h"
#include "secrets_scan.h"
#include "sshd_fixture.h"
#include "util/buf.h"

#define PASSWORD "Amk-s3cret-Pw%42"

static struct sshd_fixture fx;
static char user[32];
static int have_user;

/* Everything the client logged, one line each. */
static struct amk_buf logbuf;

static int
group_setup(void **state)
{
    (void)state;
    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH (sshd, ssh, ssh-keygen) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (sshd_fixture_init(&fx) != 0)
        return -1;
    if (geteuid() == 0 && throwaway_user_create(user, sizeof(user), PASSWORD) == 0)
        have_user = 1;
    amk_buf_init(&logbuf);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    if (have_user)
        throwaway_user_remove();
    sshd_fixture_cleanup(&fx);
    amk_buf_release(&logbuf);
    return 0;
}

/* --- what the log may not contain ---------------------------------------- */

static const char *
log_text(void)
{
    /* NUL-terminate without counting it. */
    if (amk_buf_put(&logbuf, "", 1) != AMK_OK || amk_buf_consume_end(&logbuf, 1) != AMK_OK)
        abort();
    return (const char *)amk_buf_ptr(&logbuf);
}

/* --- a session ----------------------------------------------------------- */

static void
run_session(const char *who, const char *password, const char *key_file)
{
    struct amk_client *c = NULL;
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0, log_lines = 0;
    int status = -1, r;

    amk_buf_reset(&logbuf);
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_log(c, secrets_log_to_buf, &logbuf, AMK_LOG_TRACE));
    ASSERT_OK(amk_client_load_host_keys(c, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_connect_timeout(c, 20000));
    ASSERT_OK(amk_client_set_timeout(c, 60000));
    if (key_file != NULL)
        ASSERT_OK(amk_client_add_key_file(c, key_file));
    ASSERT_OK(amk_client_set_auth_methods(c, key_file != NULL, password != NULL));
    r = amk_client_connect(c, "127.0.0.1", fx.port, who, password);
    if (r != AMK_OK) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    /* A command whose 400 KB of output make sshd rekey (RekeyLimit 64K)
     * several times, then a close. */
    r = amk_client_run(c, "head -c 300000 /dev/urandom | base64", &out, &outlen,
        &err, &errlen, &status);
    if (r != AMK_OK) {
        fprintf(stderr, "%s", log_text());
        sshd_fixture_dump_log(&fx, 2000);
        fail_msg("run: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    assert_int_equal(status, 0);
    free(out);
    free(err);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    for (const char *p = log_text(); (p = strchr(p, '\n')) != NULL; p++)
        log_lines++;
    print_message("    %zu log lines captured\n", log_lines);
    if (getenv("AMK_SHOW_LOG") != NULL)
        fprintf(stderr, "%s", log_text());
    assert_true(log_lines > 10);
}

static void
check_log(const char *password, const char *key_file)
{
    const char *text = log_text();
    char pub[FIXTURE_PATH_MAX + 8];
    const char *pubs[] = { pub };
    char *allowed[32];
    size_t nallowed = 0;

    if (password != NULL)
        secrets_must_not_contain(text, password, "the password");
    secrets_check_key_not_logged(text, fx.user_key);
    (void)key_file;
    snprintf(pub, sizeof(pub), "%s.pub", fx.user_key);
    secrets_allowed_runs(fx.known_hosts, pubs, 1, allowed, 32, &nallowed);
    secrets_no_unexplained_runs(text, (const char *const *)allowed, nallowed);
    for (size_t i = 0; i < nallowed; i++)
        free(allowed[i]);
}

static void
test_secrets_log_publickey(void **state)
{
    (void)state;
    if (sshd_fixture_start(&fx, "RekeyLimit 64K\n") != 0)
        fail_msg("sshd did not start");
    run_session(fx.user, NULL, fx.user_key);
    check_log(NULL, fx.user_key);
    sshd_fixture_stop(&fx);
}

static void
test_secrets_log_password(void **state)
{
    (void)state;
    if (!have_user) {
        print_message("    skipped: needs root for a throwaway account\n");
        skip();
    }
    if (sshd_fixture_start(&fx, "PasswordAuthentication yes\nRekeyLimit 64K\n") != 0)
        fail_msg("sshd did not start");
    run_session(user, PASSWORD, NULL);
    check_log(PASSWORD, NULL);
    sshd_fixture_stop(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_log_publickey),
        cmocka_unit_test(test_secrets_log_password),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
