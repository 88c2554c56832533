/*
 * Secrets are wiped before their memory is freed: this test replaces
 * free() for the whole program (amiko and OpenSSL alike) with one that
 * looks through each block for the secrets the test knows, then frees it.
 * Checked: packet-cipher and MAC keys (every cipher family), ECDH and DH
 * private values, X25519 private keys, private keys of every type through
 * load, sign, save and free, and a host key used by an in-memory
 * transport session (client and server engines, KEX, data, rekey).
 * Blocks OpenSSL frees itself (through CRYPTO_free, hooked with
 * CRYPTO_set_mem_functions, or free() called from libcrypto) are
 * reported, not failed: OpenSSL 3.0 frees
 * some temporary copies (raw-key OSSL_PARAMs, i2d buffers) uncleansed.
 * Not built into sanitizer runs: ASan owns malloc/free there (exit 77).
 */
#include "transport_pair.h"

#include <dlfcn.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <signal.h>

#include "crypto/cipher.h"
#include "crypto/kex.h"
#include "crypto/pkey.h"
#include "keys/key.h"
#include "util/secure.h"

#if defined(__SANITIZE_ADDRESS__)
#define SECRETS_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECRETS_SKIP 1
#endif
#endif

#ifndef SECRETS_SKIP

/* --- the scanning free() ------------------------------------------------ */

extern void __libc_free(void *p);

#define MAX_SECRETS 8
#define WINDOW 12       /* bytes that must match to count as a leak */

static struct {
    uint8_t bytes[1024];
    size_t len;
    const char *what;
} secrets[MAX_SECRETS];
static size_t nsecrets;
static int scanning;
static size_t leaks;
static size_t ossl_leaks;       /* blocks OpenSSL freed without cleansing */
static int in_ossl;             /* inside OpenSSL's CRYPTO_free */
static size_t scanned;          /* blocks looked at: proves free() is ours */
static const char *leak_what;

void free(void *p);

/* 1 when @p ret (a return address) lies in libcrypto. */
static int
from_openssl(void *ret)
{
    Dl_info info;

    return dladdr(ret, &info) != 0 && info.dli_fname != NULL &&
        strstr(info.dli_fname, "libcrypto") != NULL;
}

void
free(void *p)
{
    if (p != NULL && scanning) {
        int ossl = in_ossl || from_openssl(__builtin_return_address(0));
        size_t n = malloc_usable_size(p);
        const uint8_t *b = p;
        scanned++;
        for (size_t s = 0; s < nsecrets; s++) {
            /* Any WINDOW-byte run of the secret, at any offset of the block. */
            for (size_t off = 0; off + WINDOW <= secrets[s].len; off += WINDOW / 2) {
                if (memmem(b, n, secrets[s].bytes + off, WINDOW) != NULL) {
                    if (ossl) {
                        ossl_leaks++;
                        break;
                    }
                    leaks++;
                    leak_what = secrets[s].what;
                    /* SECRETS_TRAP=1 under gdb: stop where the block is freed. */
                    if (getenv("SECRETS_TRAP") != NULL)
                        raise(SIGTRAP);
                    break;
                }
            }
        }
    }
    __libc_free(p);
}

/* OpenSSL's allocations, so its frees are told apart from amiko's. */
static void *
ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    in_ossl++;
    free(p);
    in_ossl--;
}

static void
watch(const char *what, const void *p, size_t len)
{
    assert_true(nsecrets < MAX_SECRETS);
    assert_true(len >= WINDOW && len <= sizeof(secrets[0].bytes));
    memcpy(secrets[nsecrets].bytes, p, len);
    secrets[nsecrets].len = len;
    secrets[nsecrets].what = what;
    nsecrets++;
}

static void
scan_start(void)
{
    leaks = 0;
    ossl_leaks = 0;
    scanned = 0;
    leak_what = NULL;
    scanning = 1;
}

/* Stops scanning and forgets the secrets; fails if one was seen in a
 * freed block. */
static void
scan_end(const char *label)
{
    scanning = 0;
    nsecrets = 0;
    memset(secrets, 0, sizeof(secrets));
    if (leaks != 0)
        fail_msg("%s: %zu freed block(s) still held %s", label, leaks, leak_what);
    if (scanned == 0)
        fail_msg("%s: no block went through the scanning free()", label);
    if (ossl_leaks != 0)
        print_message("    %s: OpenSSL freed %zu block(s) holding it without cleansing"
            " (its own buffers, outside amiko)\n", label, ossl_leaks);
}

/* A recognisable pattern that is not all one byte. */
static void
pattern(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + 37 * i + (i >> 3));
}

/* The scanner itself: a block freed with a secret in it is found. */
static void
test_secrets_scanner_finds_unwiped_block(void **state)
{
    /* Through volatile pointers, so the compiler cannot drop the copy. */
    void *(*volatile alloc)(size_t) = malloc;
    void (*volatile release)(void *) = free;
    uint8_t key[32];
    uint8_t *copy;

    (void)state;
    pattern(key, sizeof(key), 1);
    watch("the test's key", key, sizeof(key));
    scan_start();
    copy = alloc(100);
    assert_non_null(copy);
    memcpy(copy + 40, key, sizeof(key));
    release(copy);
    scanning = 0;
    assert_int_equal(leaks, 1);
    copy = alloc(100);
    assert_non_null(copy);
    memcpy(copy + 40, key, sizeof(key));
    scan_start();
    amk_free_wiped(copy, 100);
    scan_end("amk_free_wiped");
}

/* --- packet ciphers and MACs ------------------------------------------- */

static void
test_secrets_packet_cipher_keys_wiped(void **state)
{
    static const char *const pairs[][2] = {
        { "chacha20-poly1305@openssh.com", NULL },
        { "aes128-gcm@openssh.com", NULL },
        { "aes256-gcm@openssh.com", NULL },
        { "aes128-ctr", "hmac-sha2-256" },
        { "aes256-ctr", "hmac-sha2-512-etm@openssh.com" },
        { "aes192-ctr", "hmac-sha1" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const struct amk_cipher_info *ci = amk_cipher_info_find(pairs[i][0]);
        const struct amk_mac_info *mi = pairs[i][1] ? amk_mac_info_find(pairs[i][1]) : NULL;
        uint8_t key[64], iv[16], mk[64];
        struct amk_pkt_cipher *c = NULL;

        assert_non_null(ci);
        pattern(key, sizeof(key), (uint8_t)(10 + i));
        pattern(iv, sizeof(iv), (uint8_t)(50 + i));
        pattern(mk, sizeof(mk), (uint8_t)(90 + i));
        watch("a cipher key", key, ci->key_len);
        if (mi != NULL)
            watch("a MAC key", mk, mi->key_len);
        scan_start();
        for (int enc = 0; enc <= 1; enc++) {
            ASSERT_OK(amk_pkt_cipher_new(&c, pairs[i][0], pairs[i][1], enc, key, iv, mk));
            amk_pkt_cipher_free(c);
            c = NULL;
        }
        scan_end(pairs[i][0]);
    }
}

/* --- key agreement --------------------------------------------------------- */

static void
test_secrets_kex_private_values_wiped(void **state)
{
    static const enum amk_ec_curve curves[] = { AMK_EC_P256, AMK_EC_P384, AMK_EC_P521 };
    uint8_t priv[AMK_X25519_LEN], pub[AMK_X25519_LEN], peer[AMK_X25519_LEN];
    uint8_t shared[AMK_X25519_LEN], ppub[AMK_X25519_LEN];
    uint8_t x[64];

    (void)state;
    /* X25519 */
    pattern(priv, sizeof(priv), 3);
    pattern(peer, sizeof(peer), 4);
    ASSERT_OK(amk_x25519_public(peer, ppub));
    watch("an X25519 private key", priv, sizeof(priv));
    scan_start();
    ASSERT_OK(amk_x25519_public(priv, pub));
    ASSERT_OK(amk_x25519_shared(priv, ppub, shared));
    scan_end("x25519");

    /* ECDH: a private scalar, then a shared secret with a fresh peer. */
    for (size_t i = 0; i < 3; i++) {
        struct amk_ecdh *e = NULL, *p = NULL;
        const uint8_t *pp;
        size_t pplen, slen = 0, flen = i == 0 ? 32 : i == 1 ? 48 : 66;
        uint8_t d[66], s[66];

        pattern(d, sizeof(d), (uint8_t)(20 + i));
        d[0] = 0x01;    /* below the group order */
        watch("an ECDH private scalar", d, flen);
        scan_start();
        ASSERT_OK(amk_ecdh_new_from_private(&e, curves[i], d, flen));
        ASSERT_OK(amk_ecdh_new(&p, curves[i], NULL));
        amk_ecdh_public(p, &pp, &pplen);
        ASSERT_OK(amk_ecdh_shared(e, pp, pplen, s, &slen));
        amk_ecdh_free(e);
        amk_ecdh_free(p);
        scan_end("ecdh");
    }

    /* Finite-field DH (group 14) with a known exponent. */
    {
        struct amk_dh *a = NULL, *b = NULL;
        const uint8_t *bp;
        size_t bplen, klen = 0;
        uint8_t k[1024];

        pattern(x, sizeof(x), 7);
        x[0] = 0x11;
        watch("a DH private exponent", x, sizeof(x));
        scan_start();
        ASSERT_OK(amk_dh_new_group(&a, 14));
        ASSERT_OK(amk_dh_set_private(a, x, sizeof(x)));
        ASSERT_OK(amk_dh_new_group(&b, 14));
        ASSERT_OK(amk_dh_generate(b, 128, NULL));
        amk_dh_public(b, &bp, &bplen);
        ASSERT_OK(amk_dh_shared(a, bp, bplen, k, sizeof(k), &klen));
        amk_dh_free(a);
        amk_dh_free(b);
        scan_end("dh group14");
    }
}

/* --- private keys ------------------------------------------------------------ */

/* The key's private part (seed, scalar or RSA d), for watch(). */
static size_t
private_part(const struct amk_key *k, uint8_t *out, size_t cap)
{
    const struct amk_pkey *pk = amk_key_pkey(k);
    enum amk_pkey_part part = amk_pkey_type(pk) == AMK_PKEY_RSA ? AMK_PART_RSA_D :
        amk_pkey_type(pk) == AMK_PKEY_DSA ? AMK_PART_DSA_X : AMK_PART_PRIVATE;
    uint8_t *p = NULL;
    size_t len = 0;

    ASSERT_OK(amk_pkey_get_part(pk, part, &p, &len));
    assert_true(len <= cap);
    memcpy(out, p, len);
    amk_free_wiped(p, len);
    return len;
}

static void
test_secrets_private_keys_wiped(void **state)
{
    static const enum amk_key_type types[] = {
        AMK_KEY_ED25519, AMK_KEY_ECDSA_P256, AMK_KEY_ECDSA_P384, AMK_KEY_ECDSA_P521,
        AMK_KEY_RSA, AMK_KEY_DSA
    };

    (void)state;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct amk_key *k = NULL, *k2 = NULL;
        uint8_t priv[512];
        size_t plen;

        ASSERT_OK(amk_key_create(types[i], types[i] == AMK_KEY_RSA ? 2048 : 0, &k));
        plen = private_part(k, priv, sizeof(priv));
        watch("a private key", priv, plen);
        scan_start();
        for (int f = AMK_KEY_FORMAT_OPENSSH; f <= AMK_KEY_FORMAT_PPK; f++) {
            char *text = NULL;
            size_t tlen = 0;
            struct amk_buf sig;
            const char *alg = types[i] == AMK_KEY_RSA ? "rsa-sha2-256" : amk_key_type_name(k);

            ASSERT_OK(amk_key_save_format(k, (enum amk_key_format)f, NULL, &text, &tlen));
            ASSERT_OK(amk_key_load(text, tlen, NULL, NULL, &k2));
            amk_free_wiped(text, tlen);
            amk_buf_init(&sig);
            ASSERT_OK(amk_key_sign(k2, alg, (const uint8_t *)"data", 4, &sig));
            amk_buf_release(&sig);
            amk_key_free(k2);
            k2 = NULL;
        }
        {
            char name[64];
            snprintf(name, sizeof(name), "%s key", amk_key_type_name(k));
            amk_key_free(k);
            scan_end(name);
        }
    }
}

/* --- a whole transport session --------------------------------------------- */

static void
test_secrets_transport_session_wipes_host_key(void **state)
{
    struct test_pair p;
    struct amk_key *hk = NULL;
    uint8_t seed[32];
    uint8_t msg[200];

    (void)state;
    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &hk));
    private_part(hk, seed, sizeof(seed));
    watch("the host key's seed", seed, sizeof(seed));
    scan_start();
    pair_init(&p);
    pair_add_key(&p, hk);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    memset(msg, 0x61, sizeof(msg));
    msg[0] = 94;
    ASSERT_OK(amk_transport_send(p.c.t, msg, sizeof(msg)));
    ASSERT_OK(pair_run(&p, NULL));
    ASSERT_OK(amk_transport_rekey(p.s.t));
    ASSERT_OK(pair_run(&p, NULL));
    pair_free(&p);      /* frees hk too */
    scan_end("transport session");
}

/* --- passwords and passphrases ------------------------------------------ */

static int
give_passphrase(void *user, char *buf, size_t cap)
{
    const char *pp = user;

    if (strlen(pp) >= cap)
        return AMK_EINVAL;
    memcpy(buf, pp, strlen(pp) + 1);
    return AMK_OK;
}

/* A password crosses an encrypted session in a USERAUTH_REQUEST (RFC 4252
 * §8), then a rekey: neither engine frees a block that still holds it
 * (packet buffers, plaintext and ciphertext queues). */
static void
test_secrets_password_in_transport_wiped(void **state)
{
    static const char password[] = "Amk-Pw-in-transit-4711";
    struct test_pair p;
    struct amk_key *hk = NULL;
    struct amk_buf req;

    (void)state;
    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &hk));
    watch("the password", password, strlen(password));
    scan_start();
    pair_init(&p);
    pair_add_key(&p, hk);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    amk_buf_init(&req);
    ASSERT_OK(amk_buf_put_u8(&req, 50));   /* SSH_MSG_USERAUTH_REQUEST */
    ASSERT_OK(amk_buf_put_cstring(&req, "user"));
    ASSERT_OK(amk_buf_put_cstring(&req, "ssh-connection"));
    ASSERT_OK(amk_buf_put_cstring(&req, "password"));
    ASSERT_OK(amk_buf_put_bool(&req, 0));
    ASSERT_OK(amk_buf_put_cstring(&req, password));
    ASSERT_OK(amk_transport_send(p.c.t, amk_buf_ptr(&req), amk_buf_len(&req)));
    amk_buf_release(&req);      /* wipes */
    ASSERT_OK(pair_run(&p, NULL));
    ASSERT_OK(amk_transport_rekey(p.c.t));
    ASSERT_OK(pair_run(&p, NULL));
    /* it arrived (the pair's record of it is an amk_buf: wiped when freed) */
    assert_non_null(memmem(amk_buf_ptr(&p.s.got), amk_buf_len(&p.s.got), password,
        strlen(password)));
    pair_free(&p);
    scan_end("a password through a session");
}

/* Encrypted private keys saved and loaded in every format that takes a
 * passphrase: neither the passphrase nor the private key is left in a
 * block amiko frees. */
static void
test_secrets_passphrase_wiped(void **state)
{
    static const char passphrase[] = "Amk-Passphrase-0123456789";
    static const enum amk_key_format formats[] = {
        AMK_KEY_FORMAT_OPENSSH, AMK_KEY_FORMAT_PKCS8, AMK_KEY_FORMAT_PPK, AMK_KEY_FORMAT_PEM
    };
    static const char *const names[] = {
        "openssh-key-v1 with a passphrase", "PKCS#8 with a passphrase",
        "PPK v3 with a passphrase", "PEM with a passphrase"
    };
    struct amk_key *k = NULL;
    uint8_t priv[64];
    size_t plen;

    (void)state;
    ASSERT_OK(amk_key_create(AMK_KEY_ECDSA_P256, 0, &k));
    plen = private_part(k, priv, sizeof(priv));
    for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
        struct amk_key *k2 = NULL;
        struct amk_buf sig;
        char *text = NULL;
        size_t tlen = 0;

        watch("the passphrase", passphrase, strlen(passphrase));
        watch("the private key", priv, plen);
        scan_start();
        ASSERT_OK(amk_key_save_format(k, formats[f], passphrase, &text, &tlen));
        ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load(text, tlen, give_passphrase,
            (void *)"a wrong passphrase", &k2));
        ASSERT_OK(amk_key_load(text, tlen, give_passphrase, (void *)passphrase, &k2));
        amk_free_wiped(text, tlen);
        amk_buf_init(&sig);
        ASSERT_OK(amk_key_sign(k2, amk_key_type_name(k2), (const uint8_t *)"data", 4, &sig));
        amk_buf_release(&sig);
        amk_key_free(k2);
        scan_end(names[f]);
    }
    amk_key_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_scanner_finds_unwiped_block),
        cmocka_unit_test(test_secrets_packet_cipher_keys_wiped),
        cmocka_unit_test(test_secrets_kex_private_values_wiped),
        cmocka_unit_test(test_secrets_private_keys_wiped),
        cmocka_unit_test(test_secrets_transport_session_wipes_host_key),
        cmocka_unit_test(test_secrets_password_in_transport_wiped),
        cmocka_unit_test(test_secrets_passphrase_wiped),
    };

    /* Before OpenSSL allocates anything. */
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "test_transport_secrets: cannot hook OpenSSL's allocator\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int
main(void)
{
    fprintf(stderr, "test_transport_secrets: skipped under AddressSanitizer (it owns free())\n");
    return 77;
}

#endif
