/*
 * Unit tests for src/keys/key_ppk.c and src/crypto/argon2.c: PuTTY .ppk
 * files v2 (SHA-1 key derivation, HMAC-SHA-1) and v3 (Argon2id/i/d,
 * HMAC-SHA-256) for every key type, from the published files in
 * tests/vectors/ppk (see its README); wrong passphrases, tampering,
 * hostile Argon2 parameters and malformed text. Keys loaded from .ppk
 * files are written back in OpenSSH format and read by ssh-keygen; when
 * puttygen is installed, its keys are compared with ssh-keygen's view.
 */
#include "key_test_util.h"

#include "crypto/argon2.h"
#include "keys/key.h"
#include "keys/keyfile.h"

#define PPK_DIR AMK_VECTORS_DIR "/ppk/"
#define PASS "Test Passphrase"
/* RFC 8032 §7.1 TEST 1 public key, as ssh-keygen -l prints its fingerprint. */
#define ED25519_TV1_FP "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8"

static int
pass_cb(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", user != NULL ? (const char *)user : PASS);
    return AMK_OK;
}

static char *
vector(const char *name, size_t *len)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s%s", PPK_DIR, name);
    return ktu_read(path, len);
}

static int
load_text(const char *text, const char *pass, struct amk_key **k)
{
    return amk_key_load(text, strlen(text), pass_cb, (void *)(uintptr_t)pass, k);
}

static int
load_vector(const char *name, const char *pass, struct amk_key **k)
{
    char *text = vector(name, NULL);
    int r = load_text(text, pass, k);

    free(text);
    return r;
}

static void
assert_fp(const struct amk_key *k, const char *want)
{
    char *fp = NULL;

    ASSERT_OK(amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp));
    assert_string_equal(fp, want);
    free(fp);
}

/* Signs and verifies, so the private half is proven to fit the public one. */
static void
assert_signs(const struct amk_key *k)
{
    static const uint8_t msg[] = "ppk";
    struct amk_buf *sig = amk_buf_new();

    ASSERT_OK(amk_key_sign(k, NULL, msg, sizeof(msg), sig));
    ASSERT_OK(amk_key_verify(k, NULL, amk_buf_ptr(sig), amk_buf_len(sig), msg, sizeof(msg)));
    amk_buf_free(sig);
}

static void
test_amk_ppk_parse_rsa_v2_v3_match_pem(void **state)
{
    struct amk_key *pem = NULL, *v2 = NULL, *v3 = NULL;

    ASSERT_OK(amk_key_load_file(PPK_DIR "rsa-2048.pem", NULL, NULL, &pem));
    ASSERT_OK(load_vector("rsa-2048-encrypted-format-2.ppk", PASS, &v2));
    ASSERT_OK(load_vector("rsa-2048-encrypted-format-3.ppk", PASS, &v3));
    assert_true(amk_key_equal_public(pem, v2));
    assert_true(amk_key_equal_public(pem, v3));
    assert_true(amk_key_has_private(v2) && amk_key_has_private(v3));
    assert_string_equal(amk_key_comment(v2), "2048 bit RSA key");
    assert_string_equal(amk_key_comment(v3), "2048 bit RSA key");
    assert_signs(v2);
    assert_signs(v3);
    amk_key_free(pem);
    amk_key_free(v2);
    amk_key_free(v3);
}

static void
test_amk_ppk_parse_every_type(void **state)
{
    static const struct {
        const char *file;
        const char *pass;
        const char *type;
        unsigned bits;
    } cases[] = {
        { "dss-1024-format-2.ppk", NULL, "ssh-dss", 1024 },
        { "dss-1024-encrypted-format-3.ppk", PASS, "ssh-dss", 1024 },
        { "ecdsa-sha2-nistp256-encrypted-format-2.ppk", PASS, "ecdsa-sha2-nistp256", 256 },
        { "ecdsa-sha2-nistp384-encrypted-format-3.ppk", PASS, "ecdsa-sha2-nistp384", 384 },
        { "ecdsa-sha2-nistp521-format-3.ppk", NULL, "ecdsa-sha2-nistp521", 521 },
        { "ed25519-rfc8032-format-3.ppk", NULL, "ssh-ed25519", 256 },
        { "ed25519-rfc8032-encrypted-format-3.ppk", "test1", "ssh-ed25519", 256 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct amk_key *k = NULL;
        ASSERT_OK(load_vector(cases[i].file, cases[i].pass, &k));
        assert_string_equal(amk_key_type_name(k), cases[i].type);
        assert_int_equal(amk_key_bits(k), cases[i].bits);
        assert_true(amk_key_has_private(k));
        assert_signs(k);
        amk_key_free(k);
    }
}

static void
test_amk_ppk_parse_ed25519_rfc8032_key(void **state)
{
    struct amk_key *plain = NULL, *enc = NULL;

    ASSERT_OK(load_vector("ed25519-rfc8032-format-3.ppk", NULL, &plain));
    ASSERT_OK(load_vector("ed25519-rfc8032-encrypted-format-3.ppk", "test1", &enc));
    assert_fp(plain, ED25519_TV1_FP);
    assert_fp(enc, ED25519_TV1_FP);
    assert_string_equal(amk_key_comment(enc), "RFC8032 7.1 Test Vector 1");
    amk_key_free(plain);
    amk_key_free(enc);
}

static void
test_amk_ppk_parse_argon2_types(void **state)
{
    /* The MAC over a "test" key checks out only when Argon2d/Argon2i (with
     * 3 lanes) derive the right key; the key type is then unknown. */
    struct amk_key *k = NULL;

    ASSERT_AMK(AMK_ENOTSUP, load_vector("test-encrypted-type-d-format-3.ppk", PASS, &k));
    ASSERT_AMK(AMK_ENOTSUP, load_vector("test-encrypted-type-i-format-3.ppk", PASS, &k));
    ASSERT_AMK(AMK_EPASSPHRASE, load_vector("test-encrypted-type-d-format-3.ppk", "Test", &k));
    ASSERT_AMK(AMK_EPASSPHRASE, load_vector("test-encrypted-type-i-format-3.ppk", "Test", &k));
    assert_null(k);
}

static void
test_amk_ppk_parse_wrong_passphrase(void **state)
{
    static const char *files[] = {
        "rsa-2048-encrypted-format-2.ppk", "rsa-2048-encrypted-format-3.ppk",
        "dss-1024-encrypted-format-3.ppk", "ecdsa-sha2-nistp256-encrypted-format-2.ppk",
        "ecdsa-sha2-nistp384-encrypted-format-3.ppk", "ed25519-rfc8032-encrypted-format-3.ppk",
    };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct amk_key *k = NULL;
        char *text = vector(files[i], NULL);
        ASSERT_AMK(AMK_EPASSPHRASE, load_text(text, "Test Passphrasf", &k));
        ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load(text, strlen(text), NULL, NULL, &k));
        assert_null(k);
        free(text);
    }
}

/* Replaces the first @p from in @p s with @p to (allocated). */
static char *
replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    char *out;

    assert_non_null(at);
    out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
    assert_non_null(out);
    memcpy(out, s, (size_t)(at - s));
    strcpy(out + (at - s), to);
    strcat(out, at + strlen(from));
    return out;
}

static void
expect(int want, const char *text, const char *pass)
{
    struct amk_key *k = NULL;
    int r = load_text(text, pass, &k);

    if (r != want)
        fail_msg("got %s, expected %s for:\n%s", amk_errname(r), amk_errname(want), text);
    assert_null(k);
}

static void
test_amk_ppk_parse_tampered(void **state)
{
    char *plain = vector("ecdsa-sha2-nistp521-format-3.ppk", NULL);
    char *enc = vector("rsa-2048-encrypted-format-2.ppk", NULL);
    char *bad;

    /* C.5: the MAC covers the comment, the public key and the private data. */
    bad = replace(plain, "Comment: ECDSA", "Comment: ECDSB");
    expect(AMK_EFORMAT, bad, NULL);
    free(bad);
    bad = replace(plain, "C/5rByU7", "C/5rByU8");
    expect(AMK_EFORMAT, bad, NULL);
    free(bad);
    bad = replace(plain, "AAAAQgCdsLUo", "AAAAQgCdsLUp");
    expect(AMK_EFORMAT, bad, NULL);
    free(bad);
    bad = replace(plain, "Private-MAC: 4926", "Private-MAC: 4927");
    expect(AMK_EFORMAT, bad, NULL);
    free(bad);
    /* Encrypted: tampering looks like a wrong passphrase. */
    bad = replace(enc, "Comment: 2048", "Comment: 4096");
    expect(AMK_EPASSPHRASE, bad, PASS);
    free(bad);
    bad = replace(enc, "Ph1M5YzO", "Ph1M5YzP");
    expect(AMK_EPASSPHRASE, bad, PASS);
    free(bad);
    /* The algorithm line is covered too. */
    bad = replace(enc, "File-2: ssh-rsa", "File-2: ssh-dss");
    expect(AMK_EPASSPHRASE, bad, PASS);
    free(bad);
    free(plain);
    free(enc);
}

static void
test_amk_ppk_parse_line_endings(void **state)
{
    char *text = vector("ecdsa-sha2-nistp521-format-3.ppk", NULL);
    size_t n = strlen(text);
    char *crlf = malloc(2 * n + 1), *cr = strdup(text);
    size_t o = 0;
    struct amk_key *k = NULL;

    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = text[i];
        if (cr[i] == '\n')
            cr[i] = '\r';
    }
    crlf[o] = '\0';
    ASSERT_OK(load_text(crlf, NULL, &k));
    amk_key_free(k);
    ASSERT_OK(load_text(cr, NULL, &k));
    amk_key_free(k);
    /* No final line end. */
    text[n - 1] = '\0';
    ASSERT_OK(load_text(text, NULL, &k));
    amk_key_free(k);
    free(crlf);
    free(cr);
    free(text);
}

static void
test_amk_ppk_parse_bad_headers(void **state)
{
    char *plain = vector("ecdsa-sha2-nistp521-format-3.ppk", NULL);
    char *enc = vector("dss-1024-encrypted-format-3.ppk", NULL);
    static const struct {
        int enc;
        const char *from, *to;
        int want;
    } cases[] = {
        { 0, "File-3", "File-1", AMK_ENOTSUP },
        { 0, "File-3", "File-4", AMK_ENOTSUP },
        { 0, "File-3: ", "File-3:", AMK_EFORMAT },
        { 0, "Encryption: none", "Encryption: aes128-cbc", AMK_ENOTSUP },
        { 0, "Encryption: none", "Encrypted: none", AMK_EFORMAT },
        { 0, "Public-Lines: 4", "Public-Lines: 5", AMK_EFORMAT },
        { 0, "Public-Lines: 4", "Public-Lines: 3", AMK_EFORMAT },
        { 0, "Public-Lines: 4", "Public-Lines: 04", AMK_EFORMAT },
        { 0, "Public-Lines: 4", "Public-Lines: -4", AMK_EFORMAT },
        { 0, "Public-Lines: 4", "Public-Lines: 99999999999", AMK_EFORMAT },
        { 0, "Private-Lines: 2", "Private-Lines: 3", AMK_EFORMAT },
        { 0, "Private-MAC: 4926", "Private-MAC: 49", AMK_EFORMAT },
        { 0, "Private-MAC: 4926", "Private-MAC: zz26", AMK_EFORMAT },
        { 0, "Private-MAC: ", "Private-Hash: ", AMK_EFORMAT },
        { 0, "AAAAQgCdsLUo", "AAAAQgCdsL*o", AMK_EFORMAT },
        { 1, "Key-Derivation: Argon2id", "Key-Derivation: scrypt", AMK_ENOTSUP },
        { 1, "Argon2-Memory: 8192", "Argon2-Memory: 4194304", AMK_ELIMIT },
        { 1, "Argon2-Memory: 8192", "Argon2-Memory: 0", AMK_EFORMAT },
        { 1, "Argon2-Memory: 8192", "Argon2-Memory: 4", AMK_EFORMAT },
        { 1, "Argon2-Passes: 13", "Argon2-Passes: 100000", AMK_ELIMIT },
        { 1, "Argon2-Parallelism: 1", "Argon2-Parallelism: 0", AMK_EFORMAT },
        { 1, "Argon2-Parallelism: 1", "Argon2-Parallelism: 65", AMK_ELIMIT },
        { 1, "Argon2-Salt: 1a215742bf63ed4eefed21dd07683640", "Argon2-Salt: 1a2157", AMK_EFORMAT },
        { 1, "Argon2-Salt: 1a21", "Argon2-Salt: 1a2", AMK_EFORMAT },
        { 1, "Key-Derivation: Argon2id\n", "", AMK_EFORMAT },
        /* A private blob that is not a whole number of cipher blocks. */
        { 1, "D+Otg+Te1dxaORdPq2bfnEsb6W9ot5ZOkfj0ykzUcFE=", "D+Otg+Te1dxaORdPq2bfnEsb6W9ot5ZOkfj0ykzU", AMK_EFORMAT },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *bad = replace(cases[i].enc ? enc : plain, cases[i].from, cases[i].to);
        expect(cases[i].want, bad, PASS);
        free(bad);
    }
    {
        char *bad = malloc(strlen(plain) + 16);
        sprintf(bad, "%sjunk\n", plain);
        expect(AMK_EFORMAT, bad, NULL);
        free(bad);
    }
    free(plain);
    free(enc);
}

static void
test_amk_ppk_parse_truncated(void **state)
{
    char *text = vector("dss-1024-encrypted-format-3.ppk", NULL);
    size_t n = strlen(text);

    /* Every prefix that ends a line short of the MAC line is refused. */
    for (size_t i = 0; i + 1 < n; i++) {
        struct amk_key *k = NULL;
        int r;
        if (text[i] != '\n' || strstr(text + i + 1, "Private-MAC") == NULL)
            continue;
        r = amk_ppk_parse(text, i + 1, pass_cb, NULL, &k);
        assert_true(r == AMK_EFORMAT);
        assert_null(k);
    }
    free(text);
}

static void
test_amk_ppk_parse_key_mismatch(void **state)
{
    /* An unencrypted file whose public key is not its private key's: only
     * a writer with the MAC key could make it, and amk_pkey catches it.
     * Here: the header names another type than the blob. */
    char *text = vector("ed25519-rfc8032-format-3.ppk", NULL);
    char *bad = replace(text, "File-3: ssh-ed25519", "File-3: ssh-rsa");

    expect(AMK_EFORMAT, bad, NULL);
    free(bad);
    free(text);
}

static void
test_amk_argon2_reference_vectors(void **state)
{
    /* The reference implementation's answers for "password", "somesalt"
     * (phc-winner-argon2 src/test.c for t=2, m=2^16, p=1; its README for
     * the 24-byte Argon2i hash with p=4). RFC 9106 §5 needs a secret and
     * associated data, which PPK never uses. */
    static const struct {
        enum amk_argon2_type type;
        uint32_t lanes;
        size_t len;
        const char *hex;
    } cases[] = {
        { AMK_ARGON2I, 1, 32, "c1628832147d9720c5bd1cfd61367078729f6dfb6f8fea9ff98158e0d7816ed0" },
        { AMK_ARGON2ID, 1, 32, "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7" },
        { AMK_ARGON2I, 4, 24, "45d7ac72e76f242b20b77b9bf9bf9d5915894e669a24e6c6" },
    };
    uint8_t out[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ASSERT_OK(amk_argon2(cases[i].type, "password", 8, (const uint8_t *)"somesalt", 8,
            1u << 16, 2, cases[i].lanes, out, cases[i].len));
        ASSERT_HEX(cases[i].hex, out, cases[i].len);
    }
    /* Too short a salt, too little memory, an unknown type. */
    ASSERT_AMK(AMK_EINVAL, amk_argon2(AMK_ARGON2ID, "password", 8, (const uint8_t *)"salt", 4,
        64, 2, 1, out, sizeof(out)));
    ASSERT_AMK(AMK_EINVAL, amk_argon2(AMK_ARGON2ID, "password", 8, (const uint8_t *)"somesalt", 8,
        4, 2, 1, out, sizeof(out)));
    ASSERT_AMK(AMK_EINVAL, amk_argon2((enum amk_argon2_type)7, "password", 8,
        (const uint8_t *)"somesalt", 8, 64, 2, 1, out, sizeof(out)));
}

static void
test_amk_ppk_keys_read_by_ssh_keygen(void **state)
{
    static const char *files[] = {
        "rsa-2048-encrypted-format-3.ppk", "dss-1024-format-2.ppk",
        "ecdsa-sha2-nistp384-encrypted-format-3.ppk", "ed25519-rfc8032-format-3.ppk",
    };
    static const char *passes[] = { PASS, NULL, PASS, NULL };
    char *dir = ktu_mkdtemp();
    char path[4200];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct amk_key *k = NULL;
        char *out = NULL, *fp = NULL, *got;
        ASSERT_OK(load_vector(files[i], passes[i], &k));
        snprintf(path, sizeof(path), "%s/k%zu", dir, i);
        ASSERT_OK(amk_key_save_file(k, path, NULL));
        assert_int_equal(ktu_run(&out, "ssh-keygen -y -f %s | ssh-keygen -l -f -", path), 0);
        got = ktu_field(out, 1);
        ASSERT_OK(amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp));
        assert_string_equal(got, fp);
        free(got);
        free(fp);
        free(out);
        amk_key_free(k);
    }
    ktu_rmdir(dir);
}

static void
test_amk_ppk_parse_puttygen(void **state)
{
    static const char *types[] = { "ed25519", "ecdsa -b 256", "ecdsa -b 384", "ecdsa -b 521",
        "rsa -b 2048", "dsa" };
    char *dir, path[4200];

    if (ktu_run(NULL, "command -v puttygen >/dev/null") != 0)
        skip();     /* putty-tools is not installed (scripts/deps check) */
    dir = ktu_mkdtemp();
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        for (int v = 2; v <= 3; v++) {
            for (int enc = 0; enc < 2; enc++) {
                struct amk_key *k = NULL;
                char *out = NULL, *fp = NULL, *got;
                snprintf(path, sizeof(path), "%s/p%zu_%d_%d", dir, i, v, enc);
                assert_int_equal(ktu_run(NULL, "puttygen -q -t %s -C c -o %s.ppk "
                    "--ppk-param version=%d %s", types[i], path, v,
                    enc ? "--new-passphrase /dev/stdin <<'E'\n" PASS "\nE" : "--no-passphrase"), 0);
                assert_int_equal(ktu_run(NULL, "puttygen %s.ppk -O private-openssh -o %s "
                    "--old-passphrase /dev/stdin <<'E'\n" PASS "\nE", path, path), 0);
                strcat(path, ".ppk");
                ASSERT_OK(amk_key_load_file(path, pass_cb, NULL, &k));
                path[strlen(path) - 4] = '\0';
                assert_int_equal(ktu_run(&out, "ssh-keygen -l -f %s", path), 0);
                got = ktu_field(out, 1);
                ASSERT_OK(amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp));
                assert_string_equal(got, fp);
                free(got);
                free(fp);
                free(out);
                amk_key_free(k);
            }
        }
    }
    ktu_rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_ppk_parse_rsa_v2_v3_match_pem),
        cmocka_unit_test(test_amk_ppk_parse_every_type),
        cmocka_unit_test(test_amk_ppk_parse_ed25519_rfc8032_key),
        cmocka_unit_test(test_amk_ppk_parse_argon2_types),
        cmocka_unit_test(test_amk_ppk_parse_wrong_passphrase),
        cmocka_unit_test(test_amk_ppk_parse_tampered),
        cmocka_unit_test(test_amk_ppk_parse_line_endings),
        cmocka_unit_test(test_amk_ppk_parse_bad_headers),
        cmocka_unit_test(test_amk_ppk_parse_truncated),
        cmocka_unit_test(test_amk_ppk_parse_key_mismatch),
        cmocka_unit_test(test_amk_argon2_reference_vectors),
        cmocka_unit_test(test_amk_ppk_keys_read_by_ssh_keygen),
        cmocka_unit_test(test_amk_ppk_parse_puttygen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
