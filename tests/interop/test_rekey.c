/*
 * Interop: data keeps flowing across key exchanges that sshd starts.
 *
 * sshd runs with "RekeyLimit 32K". OpenSSH never rekeys before user
 * authentication (packet.c ssh_packet_need_rekeying: "client can't cope
 * with rekeying pre-auth"), so the test first authenticates with publickey
 * (RFC 4252 §7) using a key amiko generates and the fixture authorizes.
 * Then it sends, for many rounds, a 4000-byte SSH_MSG_IGNORE (RFC 4253
 * §11.2) followed by SSH_MSG_GLOBAL_REQUEST "keepalive@openssh.com" with
 * want-reply (RFC 4254 §4), and waits for sshd's REQUEST_FAILURE. These
 * are the messages sshd accepts without opening a channel; the IGNOREs push
 * sshd's inbound byte count past the limit, and sshd starts a key exchange
 * when it next sends. The host-key callback runs once per key exchange, so
 * its call count proves the rekeys happened; sshd's log is checked too.
 * Blocking and non-blocking mode, for an AEAD cipher, chacha20-poly1305,
 * a CTR cipher with an EtM MAC, and with zlib@openssh.com compression.
 */
#include "test_helper.h"

#include "interop_client.h"
#include "io/session.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "transport/transport.h"
#include "util/base64.h"
#include "util/buf.h"

#define ROUNDS 64
#define IGNORE_BYTES 4000

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *user_key;

static void
rekey_run_with(const char *cipher, const char *mac, const char *compression, int blocking)
{
    struct interop_algs algs = { .cipher = cipher, .mac = mac, .compression = compression };
    struct amk_session *s = NULL;
    char config[256];
    int r, rekeys_logged = 0;

    snprintf(config, sizeof(config), "RekeyLimit 32K\nCompression %s\nCiphers %s%s%s",
        compression != NULL ? "delayed" : "no", cipher,
        mac != NULL ? "\nMACs " : "", mac != NULL ? mac : "");
    assert_int_equal(sshd_fixture_start(&fx, config), 0);
    hk.calls = 0;
    ASSERT_OK(interop_session(&s, &fx, &hk, &algs, blocking));
    r = interop_handshake(s);
    if (r != AMK_OK)
        fail_msg("handshake: %s: %s", amk_errname(r), amk_session_last_error(s));
    r = interop_auth_publickey(s, fx.user, user_key, "ssh-ed25519");
    if (r != AMK_OK) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("auth: %s: %s", amk_errname(r), amk_session_last_error(s));
    }
    if (compression != NULL) {
        const char *got = NULL;
        ASSERT_OK(amk_session_algorithm(s, AMK_ALG_COMPRESSION, &got));
        assert_string_equal(got, compression);
    }
    for (int i = 0; i < ROUNDS; i++) {
        ASSERT_OK(amk_transport_send_ignore(amk_session_transport(s), IGNORE_BYTES));
        r = interop_keepalive(s);
        if (r != AMK_OK) {
            sshd_fixture_dump_log(&fx, 3000);
            fail_msg("round %d: %s: %s", i, amk_errname(r), amk_session_last_error(s));
        }
    }
    /* ROUNDS * IGNORE_BYTES is 8x the limit: sshd rekeyed several times */
    if (hk.calls < 3) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("%s: only %d key exchanges", cipher, hk.calls);
    }
    /* sshd really compressed (packet.c logs when it starts) */
    if (compression != NULL)
        assert_true(sshd_fixture_log_count(&fx, "Enabling compression", NULL));
    sshd_fixture_log_count(&fx, "SSH2_MSG_NEWKEYS received", &rekeys_logged);
    assert_true(rekeys_logged >= 3);
    print_message("    %s%s%s%s%s (%s): %d key exchanges, sshd logged %d\n", cipher,
        mac != NULL ? " + " : "", mac != NULL ? mac : "",
        compression != NULL ? " + " : "", compression != NULL ? compression : "",
        blocking ? "blocking" : "non-blocking", hk.calls, rekeys_logged);
    ASSERT_OK(interop_disconnect(s, "interop done"));
    amk_session_free(s);
    sshd_fixture_stop(&fx);
}

static void
rekey_run(const char *cipher, const char *mac, int blocking)
{
    rekey_run_with(cipher, mac, NULL, blocking);
}

static void
test_rekey_aes_gcm(void **state)
{
    rekey_run("aes128-gcm@openssh.com", NULL, 1);
    rekey_run("aes256-gcm@openssh.com", NULL, 0);
}

static void
test_rekey_chacha20_poly1305(void **state)
{
    rekey_run("chacha20-poly1305@openssh.com", NULL, 1);
    rekey_run("chacha20-poly1305@openssh.com", NULL, 0);
}

static void
test_rekey_aes_ctr_etm(void **state)
{
    rekey_run("aes128-ctr", "hmac-sha2-256-etm@openssh.com", 1);
    rekey_run("aes256-ctr", "hmac-sha2-512", 0);
}

static void
test_rekey_zlib_openssh_delayed(void **state)
{
    /* zlib@openssh.com starts after USERAUTH_SUCCESS and must survive rekeys */
    rekey_run_with("aes128-gcm@openssh.com", NULL, "zlib@openssh.com", 1);
    rekey_run_with("chacha20-poly1305@openssh.com", NULL, "zlib@openssh.com", 0);
}

static int
group_setup(void **state)
{
    struct amk_buf *blob = amk_buf_new(), *line = amk_buf_new();
    int ok;

    ok = sshd_fixture_init(&fx) == 0 && interop_hostkeys_load(&hk, &fx) == 0 &&
        blob != NULL && line != NULL &&
        amk_key_generate(AMK_PKEY_ED25519, 0, &user_key) == AMK_OK &&
        amk_key_to_blob(user_key, blob) == AMK_OK &&
        amk_buf_put(line, "ssh-ed25519 ", 12) == AMK_OK &&
        amk_base64_encode(amk_buf_ptr(blob), amk_buf_len(blob), 1, line) == AMK_OK &&
        amk_buf_put(line, "", 1) == AMK_OK &&
        sshd_fixture_authorize(&fx, (const char *)amk_buf_ptr(line)) == 0;
    amk_buf_free(blob);
    amk_buf_free(line);
    return ok ? 0 : -1;
}

static int
group_teardown(void **state)
{
    amk_key_free(user_key);
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rekey_aes_gcm),
        cmocka_unit_test(test_rekey_chacha20_poly1305),
        cmocka_unit_test(test_rekey_aes_ctr_etm),
        cmocka_unit_test(test_rekey_zlib_openssh_delayed),
    };
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
