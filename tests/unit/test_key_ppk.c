/*
 * Unit tests for src/keys/key_ppk.c and src/crypto/argon2.c: PuTTY .ppk
 * files v2 (SHA-1 key derivation, HMAC-SHA-1) and v3 (Argon2id/i/d,
 * HMAC-SHA-256) for every key type, from the published files in
 * tests/vectors/ppk (see its README); wrong passphrases, tampering,
 * hostile Argon2 parameters and malformed text. Keys loaded from .ppk
 * files are written back in OpenSSH format and read by ssh-keygen; when
 * puttygen is installed, the keys it writes are read with its fingerprints
 * and it reads the keys amiko writes.
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

/* The public half of an encrypted .ppk without the passphrase, and the
 * same checks on it as on the whole file. */
static void
test_amk_ppk_load_public(void **state)
{
    struct amk_key *k = NULL, *pub = NULL;
    char *text = vector("ecdsa-sha2-nistp384-encrypted-format-3.ppk", NULL), *bad;

    ASSERT_OK(amk_key_load_public(text, strlen(text), &pub));
    assert_false(amk_key_has_private(pub));
    ASSERT_OK(load_vector("ecdsa-sha2-nistp384-encrypted-format-3.ppk", PASS, &k));
    assert_true(amk_key_equal_public(k, pub));
    assert_string_equal(amk_key_comment(pub), amk_key_comment(k));
    amk_key_free(pub);
    amk_key_free(k);
    pub = NULL;
    /* The header names another type than the public blob. */
    bad = replace(text, "File-3: ecdsa-sha2-nistp384", "File-3: ecdsa-sha2-nistp256");
    ASSERT_AMK(AMK_EFORMAT, amk_key_load_public(bad, strlen(bad), &pub));
    assert_null(pub);
    free(bad);
    /* Truncated inside the public lines. */
    ASSERT_AMK(AMK_EFORMAT, amk_key_load_public(text, strstr(text, "Public-Lines") - text + 40, &pub));
    assert_null(pub);
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
test_amk_ppk_write_matches_published(void **state)
{
    /* Unencrypted v3 files have no random parts: amiko writes them byte
     * for byte as the published ones. */
    static const char *files[] = { "ed25519-rfc8032-format-3.ppk",
        "ecdsa-sha2-nistp521-format-3.ppk" };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct amk_key *k = NULL;
        char *want = vector(files[i], NULL), *got = NULL;
        ASSERT_OK(load_text(want, NULL, &k));
        ASSERT_OK(amk_key_save_format(k, AMK_KEY_FORMAT_PPK, NULL, &got, NULL));
        assert_string_equal(got, want);
        free(got);
        free(want);
        amk_key_free(k);
    }
}

static int
fixed_rng(void *user, uint8_t *out, size_t len)
{
    memset(out, 0x5a, len);
    return AMK_OK;
}

static void
test_amk_ppk_write_encrypted_round_trip(void **state)
{
    static const enum amk_key_type types[] = { AMK_KEY_ED25519, AMK_KEY_ECDSA_P256,
        AMK_KEY_ECDSA_P384, AMK_KEY_ECDSA_P521, AMK_KEY_RSA, AMK_KEY_DSA };
    const struct amk_rng rng = { .fill = fixed_rng, .user = NULL };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct amk_key *k = NULL, *back = NULL;
        struct amk_buf *text = amk_buf_new();
        ASSERT_OK(amk_key_create(types[i], 0, &k));
        ASSERT_OK(amk_key_set_comment(k, "round trip"));
        ASSERT_OK(amk_ppk_write(k, "new phrase", &rng, text));
        ASSERT_OK(amk_buf_put_u8(text, '\0'));
        assert_non_null(strstr((const char *)amk_buf_ptr(text),
            "Encryption: aes256-cbc\nComment: round trip\n"));
        assert_non_null(strstr((const char *)amk_buf_ptr(text),
            "Key-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 13\n"
            "Argon2-Parallelism: 1\nArgon2-Salt: 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"));
        ASSERT_OK(load_text((const char *)amk_buf_ptr(text), "new phrase", &back));
        assert_true(amk_key_equal_public(k, back));
        assert_true(amk_key_has_private(back));
        assert_string_equal(amk_key_comment(back), "round trip");
        assert_signs(back);
        amk_key_free(back);
        back = NULL;
        ASSERT_AMK(AMK_EPASSPHRASE, load_text((const char *)amk_buf_ptr(text), "new phrasf", &back));
        assert_null(back);
        amk_buf_free(text);
        amk_key_free(k);
    }
}

static void
test_amk_ppk_write_errors(void **state)
{
    struct amk_key *k = NULL, *pub = NULL;
    struct amk_buf *text = amk_buf_new();

    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    ASSERT_OK(amk_key_public_copy(k, &pub));
    ASSERT_AMK(AMK_EKEY, amk_ppk_write(pub, NULL, NULL, text));
    ASSERT_OK(amk_key_set_comment(k, "two\nlines"));
    ASSERT_AMK(AMK_EINVAL, amk_ppk_write(k, NULL, NULL, text));
    /* Nothing is left behind on failure. */
    assert_int_equal(amk_buf_len(text), 0);
    amk_buf_free(text);
    amk_key_free(pub);
    amk_key_free(k);
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

/* ---- interop with PuTTY's puttygen (skipped when it is not installed) ---- */

static const struct {
    const char *puttygen;   /* puttygen -t/-b */
    enum amk_key_type type;
    unsigned bits;
} PUTTY_TYPES[] = {
    { "ed25519", AMK_KEY_ED25519, 0 },
    { "ecdsa -b 256", AMK_KEY_ECDSA_P256, 0 },
    { "ecdsa -b 384", AMK_KEY_ECDSA_P384, 0 },
    { "ecdsa -b 521", AMK_KEY_ECDSA_P521, 0 },
    { "rsa -b 2048", AMK_KEY_RSA, 2048 },
    { "dsa -b 1024", AMK_KEY_DSA, 1024 },
};

/* A temporary directory with the passphrase file "pass" (PASS) for
 * puttygen's --old-passphrase/--new-passphrase, or NULL to skip. */
static char *
puttygen_dir(void)
{
    char path[4200];
    char *dir;
    FILE *f;

    if (ktu_run(NULL, "command -v puttygen >/dev/null") != 0)
        return NULL;    /* putty-tools is not installed (scripts/deps check) */
    dir = ktu_mkdtemp();
    /* puttygen keeps its random seed in the passwd entry's ~/.putty
     * (not $HOME's) unless PUTTYDIR names another directory: this one */
    assert_int_equal(setenv("PUTTYDIR", dir, 1), 0);
    snprintf(path, sizeof(path), "%s/pass", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", PASS);
    assert_int_equal(fclose(f), 0);
    return dir;
}

/* "type base64" of @p k, allocated. */
static char *
type_and_blob(const struct amk_key *k)
{
    char *line = NULL, *type, *b64, *out;

    ASSERT_OK(amk_key_public_line(k, &line));
    type = ktu_field(line, 0);
    b64 = ktu_field(line, 1);
    out = malloc(strlen(type) + strlen(b64) + 2);
    assert_non_null(out);
    sprintf(out, "%s %s", type, b64);
    free(type);
    free(b64);
    free(line);
    return out;
}

/* Asserts that `puttygen path -O public-openssh` gives @p k's public key. */
static void
assert_puttygen_reads(const char *dir, const char *path, const struct amk_key *k, int enc)
{
    char *out = NULL, *type, *b64, got[16384], *want = type_and_blob(k);

    if (ktu_run(&out, "puttygen '%s' -O public-openssh %s%s%s 2>&1", path,
            enc ? "--old-passphrase '" : "", enc ? dir : "", enc ? "/pass'" : "") != 0)
        fail_msg("puttygen cannot read %s: %s", path, out);
    type = ktu_field(out, 0);
    b64 = ktu_field(out, 1);
    assert_non_null(b64);
    snprintf(got, sizeof(got), "%s %s", type, b64);
    if (strcmp(got, want) != 0)
        fail_msg("%s: puttygen gives\n%s\namiko wrote\n%s", path, got, want);
    free(type);
    free(b64);
    free(out);
    free(want);
}

/* Keys puttygen writes, v2 and v3 (small Argon2 parameters), plain and
 * encrypted, load with the fingerprints `puttygen -l` prints. */
static void
test_amk_ppk_parse_puttygen_keys(void **state)
{
    char *dir = puttygen_dir(), path[4200], pass[4200];

    if (dir == NULL)
        skip();
    snprintf(pass, sizeof(pass), "%s/pass", dir);
    for (size_t i = 0; i < sizeof(PUTTY_TYPES) / sizeof(PUTTY_TYPES[0]); i++) {
        for (int v = 2; v <= 3; v++) {
            for (int enc = 0; enc < 2; enc++) {
                struct amk_key *k = NULL, *pub = NULL;
                enum amk_key_fp_hash hashes[] = { AMK_KEY_FP_SHA256, AMK_KEY_FP_MD5 };
                snprintf(path, sizeof(path), "%s/p%zu_v%d_%d.ppk", dir, i, v, enc);
                assert_int_equal(ktu_run(NULL, "puttygen -q -t %s -C 'putty %zu' -o %s "
                    "--ppk-param version=%d%s --new-passphrase %s", PUTTY_TYPES[i].puttygen, i,
                    path, v, v == 3 ? ",memory=64,passes=1" : "",
                    enc ? pass : "/dev/null"), 0);
                ASSERT_OK(amk_key_load_file(path, pass_cb, NULL, &k));
                assert_true(amk_key_has_private(k));
                {
                    char want_comment[32];
                    snprintf(want_comment, sizeof(want_comment), "putty %zu", i);
                    assert_string_equal(amk_key_comment(k), want_comment);
                }
                for (size_t h = 0; h < 2; h++) {
                    char *out = NULL, *fp = NULL, *got;
                    assert_int_equal(ktu_run(&out, "puttygen -l -E %s %s --old-passphrase %s",
                        hashes[h] == AMK_KEY_FP_MD5 ? "md5" : "sha256", path, pass), 0);
                    got = ktu_field(out, 2);
                    ASSERT_OK(amk_key_fingerprint(k, hashes[h], &fp));
                    if (hashes[h] == AMK_KEY_FP_MD5)
                        assert_string_equal(got, fp + strlen("MD5:"));
                    else
                        assert_string_equal(got, fp);
                    free(got);
                    free(fp);
                    free(out);
                }
                /* The wrong passphrase is refused as such. */
                if (enc)
                    ASSERT_AMK(AMK_EPASSPHRASE,
                        amk_key_load_file(path, pass_cb, (void *)"wrong", &pub));
                /* The public half and comment alone, without a passphrase. */
                ASSERT_OK(amk_key_load_public_file(path, &pub));
                assert_true(amk_key_equal_public(k, pub));
                assert_false(amk_key_has_private(pub));
                assert_string_equal(amk_key_comment(pub), amk_key_comment(k));
                amk_key_free(pub);
                amk_key_free(k);
            }
        }
    }
    ktu_rmdir(dir);
}

/* puttygen reads the .ppk files (v3, plain and encrypted) amiko writes. */
static void
test_amk_ppk_write_read_by_puttygen(void **state)
{
    char *dir = puttygen_dir(), path[4200];

    if (dir == NULL)
        skip();
    for (size_t i = 0; i < sizeof(PUTTY_TYPES) / sizeof(PUTTY_TYPES[0]); i++) {
        struct amk_key *k = NULL;
        ASSERT_OK(amk_key_create(PUTTY_TYPES[i].type, PUTTY_TYPES[i].bits, &k));
        ASSERT_OK(amk_key_set_comment(k, "from amiko"));
        for (int enc = 0; enc < 2; enc++) {
            char *out = NULL, *fp = NULL, *got;
            snprintf(path, sizeof(path), "%s/a%zu_%d.ppk", dir, i, enc);
            ASSERT_OK(amk_key_save_file_format(k, path, AMK_KEY_FORMAT_PPK, enc ? PASS : NULL));
            assert_puttygen_reads(dir, path, k, enc);
            assert_int_equal(ktu_run(&out, "puttygen -l %s --old-passphrase %s/pass", path, dir),
                0);
            got = ktu_field(out, 2);
            ASSERT_OK(amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp));
            assert_string_equal(got, fp);
            free(got);
            free(fp);
            free(out);
        }
        amk_key_free(k);
    }
    ktu_rmdir(dir);
}

/*
 * puttygen reads the OpenSSH and PEM files amiko writes, plain and
 * encrypted. Not PKCS#8: puttygen 0.78 imports no PKCS#8 file at all (its
 * importers are OpenSSH PEM, openssh-key-v1 and ssh.com), and amiko writes
 * Ed25519 "PEM" as PKCS#8, there being no other PEM form for it.
 */
static void
test_amk_key_save_read_by_puttygen(void **state)
{
    static const enum amk_key_format formats[] = { AMK_KEY_FORMAT_OPENSSH, AMK_KEY_FORMAT_PEM };
    char *dir = puttygen_dir(), path[4200];

    if (dir == NULL)
        skip();
    for (size_t i = 0; i < sizeof(PUTTY_TYPES) / sizeof(PUTTY_TYPES[0]); i++) {
        struct amk_key *k = NULL;
        ASSERT_OK(amk_key_create(PUTTY_TYPES[i].type, PUTTY_TYPES[i].bits, &k));
        for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
            if (formats[f] == AMK_KEY_FORMAT_PEM && PUTTY_TYPES[i].type == AMK_KEY_ED25519)
                continue;
            for (int enc = 0; enc < 2; enc++) {
                snprintf(path, sizeof(path), "%s/o%zu_%zu_%d", dir, i, f, enc);
                ASSERT_OK(amk_key_save_file_format(k, path, formats[f], enc ? PASS : NULL));
                assert_puttygen_reads(dir, path, k, enc);
            }
        }
        amk_key_free(k);
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
        cmocka_unit_test(test_amk_ppk_load_public),
        cmocka_unit_test(test_amk_argon2_reference_vectors),
        cmocka_unit_test(test_amk_ppk_write_matches_published),
        cmocka_unit_test(test_amk_ppk_write_encrypted_round_trip),
        cmocka_unit_test(test_amk_ppk_write_errors),
        cmocka_unit_test(test_amk_ppk_keys_read_by_ssh_keygen),
        cmocka_unit_test(test_amk_ppk_parse_puttygen_keys),
        cmocka_unit_test(test_amk_ppk_write_read_by_puttygen),
        cmocka_unit_test(test_amk_key_save_read_by_puttygen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
