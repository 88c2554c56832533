/*
 * Interop: for every key exchange, host-key, cipher and MAC algorithm that
 * both amiko and the installed OpenSSH support, restrict sshd to it (its
 * sshd_config), then complete the handshake and the ssh-userauth service
 * request (RFC 4253 §10) with amiko, in blocking and in non-blocking mode,
 * and check what was negotiated.
 *
 * Run with one argument (kex, hostkey, cipher, mac) to test one kind; CTest
 * runs each kind as its own test.
 */
#include "test_helper.h"

#include "interop_client.h"
#include "sshd_fixture.h"

/* What amiko implements (DESIGN.md / the transport issue), legacy ones included. */
static const char *const KEX[] = {
    "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1", NULL
};
static const char *const HOSTKEY[] = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-dss", NULL
};
static const char *const CIPHER[] = {
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc", NULL
};
static const char *const MAC[] = {
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
    "hmac-sha2-512", "hmac-sha1", "hmac-sha1-etm@openssh.com", NULL
};

static struct sshd_fixture fx;
static struct interop_hostkeys hk;

/* Whether @p name is an element of the comma-separated @p list. */
static int
in_list(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

/* One connection: handshake, check @p kind negotiated @p want, service request, disconnect. */
static void
connect_once(const struct interop_algs *algs, enum amk_alg_kind kind, const char *want,
    int blocking)
{
    struct amk_session *s = NULL;
    const char *got = NULL;
    int r, calls = hk.calls;

    ASSERT_OK(interop_session(&s, &fx, &hk, algs, blocking));
    r = interop_handshake(s);
    if (r != AMK_OK) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("%s (%s): handshake: %s: %s", want, blocking ? "blocking" : "non-blocking",
            amk_errname(r), amk_session_last_error(s));
    }
    assert_int_equal(hk.calls, calls + 1);
    ASSERT_OK(amk_session_algorithm(s, kind, &got));
    assert_string_equal(got, want);
    if (kind == AMK_ALG_HOSTKEY)
        assert_string_equal(hk.last_alg, want);
    r = interop_service_request(s, "ssh-userauth");
    if (r != AMK_OK)
        fail_msg("%s: service request: %s: %s", want, amk_errname(r), amk_session_last_error(s));
    ASSERT_OK(interop_disconnect(s, "interop done"));
    amk_session_free(s);
}

/*
 * For each name in @p names that `ssh -Q @p query` lists: sshd gets
 * "@p keyword name" (after @p extra), the client the same restriction.
 */
static void
each_algorithm(const char *const *names, const char *query, const char *keyword,
    enum amk_alg_kind kind, const char *extra)
{
    char offered[8192], config[512];
    int tested = 0;

    assert_int_equal(sshd_fixture_query(&fx, query, offered, sizeof(offered)), 0);
    for (size_t i = 0; names[i] != NULL; i++) {
        struct interop_algs algs = { 0 };

        if (!in_list(offered, names[i])) {
            print_message("    %s: not offered by this OpenSSH, skipped\n", names[i]);
            continue;
        }
        snprintf(config, sizeof(config), "%s%s %s", extra != NULL ? extra : "", keyword,
            names[i]);
        assert_int_equal(sshd_fixture_start(&fx, config), 0);
        switch (kind) {
        case AMK_ALG_KEX: algs.kex = names[i]; break;
        case AMK_ALG_HOSTKEY: algs.hostkey = names[i]; break;
        case AMK_ALG_CIPHER: algs.cipher = names[i]; break;
        case AMK_ALG_MAC: algs.cipher = "aes128-ctr"; algs.mac = names[i]; break;
        default: fail();
        }
        connect_once(&algs, kind, names[i], 1);
        connect_once(&algs, kind, names[i], 0);
        sshd_fixture_stop(&fx);
        print_message("    %s: ok (blocking and non-blocking)\n", names[i]);
        tested++;
    }
    assert_true(tested > 0);
}

static void
test_algorithms_kex(void **state)
{
    each_algorithm(KEX, "kex", "KexAlgorithms", AMK_ALG_KEX, NULL);
}

static void
test_algorithms_hostkey(void **state)
{
    each_algorithm(HOSTKEY, "key-sig", "HostKeyAlgorithms", AMK_ALG_HOSTKEY, NULL);
}

static void
test_algorithms_cipher(void **state)
{
    each_algorithm(CIPHER, "cipher", "Ciphers", AMK_ALG_CIPHER, NULL);
}

static void
test_algorithms_mac(void **state)
{
    /* a MAC is only used with a cipher that is not AEAD */
    each_algorithm(MAC, "mac", "MACs", AMK_ALG_MAC, "Ciphers aes128-ctr\n");
}

static int
group_setup(void **state)
{
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_algorithms_kex),
        cmocka_unit_test(test_algorithms_hostkey),
        cmocka_unit_test(test_algorithms_cipher),
        cmocka_unit_test(test_algorithms_mac),
    };

    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    test_filter_from_argv(argc, argv, "test_algorithms_", "");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
