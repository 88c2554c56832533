/*
 * Unit tests for src/crypto/pkey_pem.c through the keys API: PEM (PKCS#1,
 * SEC1, DSA, legacy encryption) and PKCS#8 keys written by ssh-keygen and
 * openssl load; keys amiko exports are read by ssh-keygen -y / openssl.
 */
#include "key_test_util.h"

#include "crypto/pkey_pem.h"
#include "keys/key.h"

static const struct {
    const char *args;
    enum amk_key_type type;
} pem_types[] = {
    { "-t rsa -b 2048", AMK_KEY_RSA },
    { "-t ecdsa -b 256", AMK_KEY_ECDSA_P256 },
    { "-t ecdsa -b 384", AMK_KEY_ECDSA_P384 },
    { "-t ecdsa -b 521", AMK_KEY_ECDSA_P521 },
    { "-t dsa", AMK_KEY_DSA },
};

#define NPEM (sizeof(pem_types) / sizeof(pem_types[0]))

static char *dir;

static int
setup(void **state)
{
    dir = ktu_mkdtemp();
    return 0;
}

static int
teardown(void **state)
{
    ktu_rmdir(dir);
    return 0;
}

static int
good_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "pass phrase");
    return AMK_OK;
}

static int
bad_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "wrong phrase");
    return AMK_OK;
}

/* Loads @p path (with @p fn) and checks it against @p path.pub. */
static void
assert_loads_like_pub(const char *path, amk_passphrase_fn fn)
{
    struct amk_key *k = NULL, *pub = NULL;
    char pubpath[4300];
    struct amk_buf *sig = amk_buf_new();
    static const uint8_t msg[] = "m";

    ASSERT_OK(amk_key_load_file(path, fn, NULL, &k));
    assert_true(amk_key_has_private(k));
    snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
    ASSERT_OK(amk_key_load_file(pubpath, NULL, NULL, &pub));
    assert_true(amk_key_equal_public(k, pub));
    ASSERT_OK(amk_key_sign(k, NULL, msg, sizeof(msg), sig));
    ASSERT_OK(amk_key_verify(pub, NULL, amk_buf_ptr(sig), amk_buf_len(sig), msg, sizeof(msg)));
    amk_buf_free(sig);
    amk_key_free(k);
    amk_key_free(pub);
}

static void
test_amk_key_load_ssh_keygen_pem_and_pkcs8(void **state)
{
    static const char *formats[] = { "PEM", "PKCS8" };
    char path[4200];

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < NPEM; i++) {
            char *text;
            struct amk_key *k = NULL;

            snprintf(path, sizeof(path), "%s/%s%zu", dir, formats[f], i);
            assert_int_equal(ktu_run(NULL, "ssh-keygen -q %s -m %s -N '' -f %s",
                pem_types[i].args, formats[f], path), 0);
            text = ktu_read(path, NULL);
            assert_non_null(strstr(text, f == 0 ? "-----BEGIN " : "-----BEGIN PRIVATE KEY-----"));
            free(text);
            assert_loads_like_pub(path, NULL);

            snprintf(path, sizeof(path), "%s/%s%zu_enc", dir, formats[f], i);
            assert_int_equal(ktu_run(NULL, "ssh-keygen -q %s -m %s -N 'pass phrase' -f %s",
                pem_types[i].args, formats[f], path), 0);
            assert_loads_like_pub(path, good_pass);
            ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_file(path, bad_pass, NULL, &k));
            ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_file(path, NULL, NULL, &k));
            ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_public_file(path, &k));
            assert_null(k);
        }
    }
}

/* Legacy PEM with DES-EDE3-CBC and AES-256-CBC, and Ed25519 PKCS#8, from openssl(1). */
static void
test_amk_key_load_openssl_legacy_and_ed25519(void **state)
{
    char path[4200], path2[4300];
    struct amk_key *k = NULL;
    char *text;

    snprintf(path, sizeof(path), "%s/ossl_rsa", dir);
    assert_int_equal(ktu_run(NULL, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
        " -out %s 2>/dev/null", path), 0);
    static const char *legacy[] = { "-des3", "-aes256" };
    for (size_t c = 0; c < 2; c++) {
        snprintf(path2, sizeof(path2), "%s/ossl_rsa_legacy%zu", dir, c);
        assert_int_equal(ktu_run(NULL, "openssl rsa -in %s -traditional %s -passout"
            " 'pass:pass phrase' -out %s 2>/dev/null", path, legacy[c], path2), 0);
        text = ktu_read(path2, NULL);
        assert_non_null(strstr(text, "Proc-Type: 4,ENCRYPTED"));
        free(text);
        ASSERT_OK(amk_key_load_file(path2, good_pass, NULL, &k));
        assert_string_equal(amk_key_type_name(k), "ssh-rsa");
        amk_key_free(k);
        k = NULL;
        ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_file(path2, bad_pass, NULL, &k));
    }
    snprintf(path, sizeof(path), "%s/ossl_ed", dir);
    assert_int_equal(ktu_run(NULL, "openssl genpkey -algorithm ed25519 -out %s", path), 0);
    ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
    assert_string_equal(amk_key_type_name(k), "ssh-ed25519");
    amk_key_free(k);
    k = NULL;
    /* Encrypted PKCS#8 Ed25519. */
    snprintf(path2, sizeof(path2), "%s/ossl_ed_enc", dir);
    assert_int_equal(ktu_run(NULL, "openssl pkcs8 -topk8 -in %s -passout 'pass:pass phrase'"
        " -out %s", path, path2), 0);
    ASSERT_OK(amk_key_load_file(path2, good_pass, NULL, &k));
    amk_key_free(k);
    k = NULL;
    /* X25519 is not an SSH key type. */
    snprintf(path, sizeof(path), "%s/ossl_x", dir);
    assert_int_equal(ktu_run(NULL, "openssl genpkey -algorithm x25519 -out %s", path), 0);
    ASSERT_AMK(AMK_ENOTSUP, amk_key_load_file(path, NULL, NULL, &k));
    assert_null(k);
}

/* What amiko exports, ssh-keygen -y reads (Ed25519 PKCS#8: openssl reads). */
static void
test_amk_key_export_read_by_ssh_keygen(void **state)
{
    static const enum amk_key_format fmts[] = { AMK_KEY_FORMAT_PEM, AMK_KEY_FORMAT_PKCS8 };
    char path[4200];

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < NPEM; i++) {
            for (int enc = 0; enc < 2; enc++) {
                struct amk_key *k = NULL, *back = NULL;
                char *line = NULL, *out = NULL, *a, *b;

                ASSERT_OK(amk_key_create(pem_types[i].type,
                    pem_types[i].type == AMK_KEY_RSA ? 2048 : 0, &k));
                snprintf(path, sizeof(path), "%s/x%zu_%zu_%d", dir, f, i, enc);
                ASSERT_OK(amk_key_export_file(k, path, fmts[f], enc ? "pass phrase" : NULL));
                ASSERT_OK(amk_key_public_line(k, &line));
                assert_int_equal(ktu_run(&out, "ssh-keygen -y %s -f %s",
                    enc ? "-P 'pass phrase'" : "", path), 0);
                a = ktu_field(out, 1);
                b = ktu_field(line, 1);
                assert_string_equal(a, b);
                ASSERT_OK(amk_key_load_file(path, good_pass, NULL, &back));
                assert_true(amk_key_equal_public(k, back));
                free(a);
                free(b);
                free(out);
                free(line);
                amk_key_free(back);
                amk_key_free(k);
            }
        }
    }
}

static void
test_amk_key_export_ed25519(void **state)
{
    struct amk_key *k = NULL, *back = NULL;
    char *text = NULL, *out = NULL;
    char path[4200];
    size_t len;

    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    ASSERT_AMK(AMK_ENOTSUP, amk_key_export(k, AMK_KEY_FORMAT_PEM, NULL, &text, &len));
    assert_null(text);
    ASSERT_OK(amk_key_export(k, AMK_KEY_FORMAT_PKCS8, NULL, &text, &len));
    assert_int_equal(strncmp(text, "-----BEGIN PRIVATE KEY-----", 27), 0);
    ASSERT_OK(amk_key_load(text, len, NULL, NULL, &back));
    assert_true(amk_key_equal_public(k, back));
    amk_key_free(back);
    free(text);
    snprintf(path, sizeof(path), "%s/ed_p8_enc", dir);
    ASSERT_OK(amk_key_export_file(k, path, AMK_KEY_FORMAT_PKCS8, "pass phrase"));
    assert_int_equal(ktu_run(&out, "openssl pkey -in %s -passin 'pass:pass phrase' -noout -text",
        path), 0);
    assert_non_null(strstr(out, "ED25519"));
    free(out);
    ASSERT_AMK(AMK_EINVAL, amk_key_export(k, (enum amk_key_format)9, NULL, &text, &len));
    amk_key_free(k);
}

static void
test_amk_key_load_pem_malformed(void **state)
{
    char path[4200];
    struct amk_key *k = NULL;
    size_t len;
    char *text;

    snprintf(path, sizeof(path), "%s/bad", dir);
    assert_int_equal(ktu_run(NULL, "ssh-keygen -q -t ecdsa -m PEM -N '' -f %s", path), 0);
    text = ktu_read(path, &len);
    /* Truncated. */
    ASSERT_AMK(AMK_EFORMAT, amk_key_load(text, len / 2, NULL, NULL, &k));
    /* A corrupted base64 character in the middle. */
    text[len / 2] = text[len / 2] == 'A' ? 'B' : 'A';
    {
        int r = amk_key_load(text, len, NULL, NULL, &k);
        assert_true(r == AMK_EFORMAT || r == AMK_EKEY);
    }
    assert_null(k);
    /* Only the header line. */
    ASSERT_AMK(AMK_EFORMAT, amk_key_load("-----BEGIN EC PRIVATE KEY-----\n", 31, NULL, NULL, &k));
    assert_true(amk_pem_is_private_key("\n-----BEGIN PRIVATE KEY-----", 28));
    assert_false(amk_pem_is_private_key("-----BEGIN PUBLIC KEY-----", 26));
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_key_load_ssh_keygen_pem_and_pkcs8),
        cmocka_unit_test(test_amk_key_load_openssl_legacy_and_ed25519),
        cmocka_unit_test(test_amk_key_export_read_by_ssh_keygen),
        cmocka_unit_test(test_amk_key_export_ed25519),
        cmocka_unit_test(test_amk_key_load_pem_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
