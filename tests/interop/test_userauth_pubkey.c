/*
 * Interop: amiko's user authentication engine (src/auth) against a real
 * OpenSSH sshd with publickey (RFC 4252 §7): Ed25519, ECDSA P-256 and
 * P-521, RSA (and DSA where sshd still has ssh-dss) keys that amiko
 * generates and the fixture authorizes, and ssh-keygen's key file; the
 * engine's signed request sent at once (its default: sshd postpones
 * nothing) and the query (PK_OK) then signed request; RSA signed with
 * rsa-sha2-512 chosen from sshd's server-sig-algs (RFC 8332 §3.2), which
 * sshd's log confirms; a key sshd does not know refused,
 * after which another key (asked first) still works; a banner (RFC 4252 §5.4) with an
 * escape sequence arrives sanitised. Blocking and non-blocking sessions.
 */
#include "test_helper.h"

#include <sys/stat.h>
#include <unistd.h>

#include "auth/userauth_int.h"
#include "auth_driver.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "transport/transport.h"
#include "io/session.h"

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *k_ed25519, *k_p256, *k_p521, *k_rsa, *k_unknown;

static int
authorize(struct amk_key *k)
{
    char *line = NULL;
    int r;

    if (amk_key_public_line(k, &line) != AMK_OK)
        return -1;
    r = sshd_fixture_authorize(&fx, line);
    free(line);
    return r;
}

static int
group_setup(void **state)
{
    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH (sshd, ssh, ssh-keygen) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    if (amk_key_generate(AMK_PKEY_ED25519, 0, &k_ed25519) != AMK_OK ||
        amk_key_generate(AMK_PKEY_ECDSA_P256, 0, &k_p256) != AMK_OK ||
        amk_key_generate(AMK_PKEY_ECDSA_P521, 0, &k_p521) != AMK_OK ||
        amk_key_generate(AMK_PKEY_RSA, 3072, &k_rsa) != AMK_OK ||
        amk_key_generate(AMK_PKEY_ED25519, 0, &k_unknown) != AMK_OK)
        return -1;
    if (authorize(k_ed25519) != 0 || authorize(k_p256) != 0 || authorize(k_p521) != 0 ||
        authorize(k_rsa) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    amk_key_free(k_ed25519);
    amk_key_free(k_p256);
    amk_key_free(k_p521);
    amk_key_free(k_rsa);
    amk_key_free(k_unknown);
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    return 0;
}

static int
start_sshd(void **state)
{
    return sshd_fixture_start(&fx, NULL);
}

static int
stop_sshd(void **state)
{
    sshd_fixture_stop(&fx);
    return 0;
}

/* Lines of sshd's log with @p needle. */
static int
log_lines(const char *needle)
{
    int n = 0;

    (void)sshd_fixture_log_count(&fx, needle, &n);
    return n;
}

/* Authenticates with @p key (asking first when @p query_first) and checks
 * the outcome and, in sshd's log, whether sshd answered a query: it logs
 * "Postponed publickey" when it sends PK_OK. */
static void
pubkey_login_as(struct amk_key *key, int blocking, const char *want_alg, int query_first)
{
    struct auth_run ar;
    int r, accepted = log_lines("Accepted publickey for"),
        postponed = log_lines("Postponed publickey");

    ASSERT_OK(auth_open(&ar, &fx, &hk, fx.user, blocking));
    ar.ua->pubkey_query_first = query_first;
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    assert_true(amk_userauth_client_method_allowed(ar.ua, "publickey"));
    assert_non_null(amk_transport_server_sig_algs(amk_session_transport(ar.s)));
    ASSERT_OK(amk_userauth_client_publickey(ar.ua, key));
    assert_string_equal(ar.ua->pk_alg, want_alg);
    r = auth_pump(&ar);
    if (r != AMK_OK || !amk_userauth_client_authenticated(ar.ua)) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("%s: %s: %s", want_alg, amk_errname(r), amk_userauth_client_last_error(ar.ua));
    }
    assert_int_equal(amk_userauth_client_last_result(ar.ua), AMK_USERAUTH_RESULT_SUCCESS);
    auth_close(&ar);
    for (int i = 0; i < 100 && log_lines("Accepted publickey for") == accepted; i++)
        usleep(50 * 1000);
    assert_int_equal(log_lines("Accepted publickey for"), accepted + 1);
    if (query_first)
        assert_int_equal(log_lines("Postponed publickey"), postponed + 1);
    else
        assert_int_equal(log_lines("Postponed publickey"), postponed);
}

/* The engine's default: the signed request at once. */
static void
pubkey_login(struct amk_key *key, int blocking, const char *want_alg)
{
    pubkey_login_as(key, blocking, want_alg, 0);
}

static void
test_userauth_interop_ed25519(void **state)
{
    pubkey_login(k_ed25519, 1, "ssh-ed25519");
    assert_true(auth_wait_log(&fx, "Accepted publickey for"));
    assert_true(auth_wait_log(&fx, ": ED25519 SHA256:"));
}

static void
test_userauth_interop_ed25519_nonblocking(void **state)
{
    pubkey_login(k_ed25519, 0, "ssh-ed25519");
}

static void
test_userauth_interop_query_first_then_signed(void **state)
{
    pubkey_login_as(k_ed25519, 1, "ssh-ed25519", 1);
    pubkey_login_as(k_rsa, 0, "rsa-sha2-512", 1);
}

static void
test_userauth_interop_ecdsa_p256(void **state)
{
    pubkey_login(k_p256, 1, "ecdsa-sha2-nistp256");
    assert_true(auth_wait_log(&fx, ": ECDSA SHA256:"));
}

static void
test_userauth_interop_ecdsa_p521(void **state)
{
    pubkey_login(k_p521, 0, "ecdsa-sha2-nistp521");
}

static void
test_userauth_interop_rsa_sha2_512(void **state)
{
    pubkey_login(k_rsa, 1, "rsa-sha2-512");
    /* sshd's debug log names the algorithm the signature was checked with */
    if (!auth_wait_log(&fx, "publickey have rsa-sha2-512 signature for RSA") ||
        !auth_wait_log(&fx, "Accepted publickey for"))
        fail_msg("sshd did not log rsa-sha2-512");
}

static void
test_userauth_interop_ssh_keygen_key_file(void **state)
{
    struct amk_key *k = NULL;

    /* the fixture's user key, written by ssh-keygen and authorized by it */
    ASSERT_OK(amk_key_load_file(fx.user_key, NULL, NULL, &k));
    pubkey_login(k, 1, "ssh-ed25519");
    amk_key_free(k);
}

static void
test_userauth_interop_dsa_when_enabled(void **state)
{
    char sigs[4096];
    struct amk_key *k = NULL;

    /* ssh-dss is off by default in OpenSSH and gone from newer builds */
    if (sshd_fixture_query(&fx, "key-sig", sigs, sizeof(sigs)) != 0 ||
        strstr(sigs, "ssh-dss") == NULL) {
        print_message("    skipped: this OpenSSH has no ssh-dss\n");
        skip();
    }
    ASSERT_OK(amk_key_generate(AMK_PKEY_DSA, 0, &k));
    assert_int_equal(authorize(k), 0);
    sshd_fixture_stop(&fx);
    assert_int_equal(sshd_fixture_start(&fx, "PubkeyAcceptedAlgorithms +ssh-dss"), 0);
    pubkey_login(k, 1, "ssh-dss");
    amk_key_free(k);
}

static void
test_userauth_interop_unknown_key_refused(void **state)
{
    struct auth_run ar;

    ASSERT_OK(auth_open(&ar, &fx, &hk, fx.user, 1));
    ASSERT_OK(amk_userauth_client_publickey(ar.ua, k_unknown));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    assert_int_equal(amk_userauth_client_last_result(ar.ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_true(amk_userauth_client_method_allowed(ar.ua, "publickey"));
    assert_non_null(strstr(amk_userauth_client_last_error(ar.ua), "publickey refused"));
    /* the same connection goes on with a key sshd knows, asked first */
    ar.ua->pubkey_query_first = 1;
    ASSERT_OK(amk_userauth_client_publickey(ar.ua, k_ed25519));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 1);
    auth_close(&ar);
}

static void
test_userauth_interop_rsa_with_restricted_algorithms(void **state)
{
    struct auth_run ar;
    char alg[AMK_NAME_MAX + 1];
    int r;

    /* sshd that accepts only rsa-sha2-256 for RSA: the engine still picks
     * from server-sig-algs, and sshd refuses or accepts accordingly. */
    sshd_fixture_stop(&fx);
    assert_int_equal(sshd_fixture_start(&fx,
        "PubkeyAcceptedAlgorithms rsa-sha2-256,ssh-ed25519"), 0);
    ASSERT_OK(auth_open(&ar, &fx, &hk, fx.user, 1));
    ASSERT_OK(amk_userauth_client_publickey(ar.ua, k_rsa));
    snprintf(alg, sizeof(alg), "%s", ar.ua->pk_alg);
    r = auth_pump(&ar);
    print_message("    server-sig-algs: %s; chose %s; authenticated: %d\n",
        amk_transport_server_sig_algs(amk_session_transport(ar.s)), alg,
        amk_userauth_client_authenticated(ar.ua));
    ASSERT_OK(r);
    if (strcmp(alg, "rsa-sha2-256") == 0)
        assert_int_equal(amk_userauth_client_authenticated(ar.ua), 1);
    else
        assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    auth_close(&ar);
}

static void
test_userauth_interop_banner_sanitised(void **state)
{
    struct auth_run ar;
    char path[FIXTURE_PATH_MAX], config[FIXTURE_PATH_MAX + 16];
    FILE *fp;

    sshd_fixture_path(&fx, "banner.txt", path, sizeof(path));
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("Authorized use only\x1b[31m!\r\n", fp);
    fclose(fp);
    sshd_fixture_stop(&fx);
    snprintf(config, sizeof(config), "Banner %s", path);
    assert_int_equal(sshd_fixture_start(&fx, config), 0);
    ASSERT_OK(auth_open(&ar, &fx, &hk, fx.user, 1));
    assert_int_equal(ar.banners, 1);
    assert_string_equal(ar.banner, "Authorized use only?[31m!\n");
    ASSERT_OK(amk_userauth_client_publickey(ar.ua, k_ed25519));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 1);
    auth_close(&ar);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_userauth_interop_ed25519, start_sshd, stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_ed25519_nonblocking, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_query_first_then_signed,
            start_sshd, stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_ecdsa_p256, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_ecdsa_p521, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_rsa_sha2_512, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_ssh_keygen_key_file, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_dsa_when_enabled, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_unknown_key_refused, start_sshd,
            stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_rsa_with_restricted_algorithms,
            start_sshd, stop_sshd),
        cmocka_unit_test_setup_teardown(test_userauth_interop_banner_sanitised, start_sshd,
            stop_sshd),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
