/*
 * Unit tests for src/keys/key_pem.c and src/crypto/pem.c: PEM (PKCS#1,
 * SEC1, DSA, legacy Proc-Type/DEK-Info encryption) and PKCS#8 keys that
 * ssh-keygen and openssl write load with the right fingerprint; keys amiko
 * writes are read by ssh-keygen -y (and openssl for Ed25519, which
 * OpenSSH 9.2 cannot read from PEM); wrong passphrases, corruption and
 * hostile parameters give their own codes.
 */
#include "key_test_util.h"

#include <openssl/asn1.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "crypto/pem.h"
#include "keys/key.h"
#include "keys/keyfile.h"

#define PASS "secret phrase"

static const struct {
    const char *args;
    enum amk_key_type type;
} types[] = {
    { "-t ecdsa -b 256", AMK_KEY_ECDSA_P256 },
    { "-t ecdsa -b 384", AMK_KEY_ECDSA_P384 },
    { "-t ecdsa -b 521", AMK_KEY_ECDSA_P521 },
    { "-t rsa -b 2048", AMK_KEY_RSA },
    { "-t dsa", AMK_KEY_DSA },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

static const char *formats[] = { "PEM", "PKCS8" };

static char *dir;

/* ssh-keygen writes <fmt><i> (plain) and <fmt>e<i> (encrypted) for each type;
 * openssl writes the forms ssh-keygen does not. */
static int
setup_dir(void **state)
{
    dir = ktu_mkdtemp();
    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < NTYPES; i++) {
            if (ktu_run(NULL, "ssh-keygen -q %s -m %s -N '' -C c -f %s/%s%zu", types[i].args,
                    formats[f], dir, formats[f], i) != 0 ||
                ktu_run(NULL, "ssh-keygen -q %s -m %s -N '" PASS "' -C c -f %s/%se%zu",
                    types[i].args, formats[f], dir, formats[f], i) != 0)
                return -1;
        }
    }
    if (ktu_run(NULL, "cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
            "-out o_rsa 2>/dev/null && "
            "openssl pkey -in o_rsa -traditional -des3 -passout pass:'" PASS "' -out o_des3 && "
            "openssl pkey -in o_rsa -traditional -aes256 -passout pass:'" PASS "' -out o_aes256 && "
            "openssl pkey -in o_rsa -traditional -aes192 -passout pass:'" PASS "' -out o_aes192 && "
            "openssl pkcs8 -topk8 -in o_rsa -scrypt -passout pass:'" PASS "' -out o_scrypt && "
            "openssl ecparam -genkey -name prime256v1 -out o_ecparams && "
            "openssl genpkey -algorithm ed25519 -out o_ed && "
            "openssl pkcs8 -topk8 -in o_ed -v2 aes-128-cbc -passout pass:'" PASS "' -out o_ed_enc && "
            "ssh-keygen -y -f o_rsa > o_rsa.pub && ssh-keygen -y -f o_ecparams > o_ecparams.pub",
            dir) != 0)
        return -1;
    return 0;
}

static int
teardown_dir(void **state)
{
    ktu_rmdir(dir);
    dir = NULL;
    return 0;
}

static int
good_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", PASS);
    return AMK_OK;
}

static int
bad_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "secret phrasf");
    return AMK_OK;
}

/* Asserts @p k's SHA256 fingerprint is the one ssh-keygen -l gives for @p pub. */
static void
assert_fp_matches(const struct amk_key *k, const char *pub)
{
    char *out = NULL, *want, *fp = NULL;

    assert_int_equal(ktu_run(&out, "ssh-keygen -l -f %s", pub), 0);
    want = ktu_field(out, 1);
    assert_non_null(want);
    ASSERT_OK(amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp));
    assert_string_equal(fp, want);
    free(fp);
    free(want);
    free(out);
}

static void
test_amk_pem_parse_ssh_keygen_plain(void **state)
{
    char path[4200];

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < NTYPES; i++) {
            struct amk_key *k = NULL;
            snprintf(path, sizeof(path), "%s/%s%zu", dir, formats[f], i);
            ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
            assert_true(amk_key_has_private(k));
            strcat(path, ".pub");
            assert_fp_matches(k, path);
            amk_key_free(k);
        }
    }
}

static void
test_amk_pem_parse_ssh_keygen_encrypted(void **state)
{
    char path[4200];

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < NTYPES; i++) {
            struct amk_key *k = NULL;
            snprintf(path, sizeof(path), "%s/%se%zu", dir, formats[f], i);
            ASSERT_OK(amk_key_load_file(path, good_pass, NULL, &k));
            strcat(path, ".pub");
            assert_fp_matches(k, path);
            amk_key_free(k);
        }
    }
}

static void
test_amk_pem_parse_wrong_passphrase(void **state)
{
    char path[4200];

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < NTYPES; i++) {
            struct amk_key *k = NULL;
            snprintf(path, sizeof(path), "%s/%se%zu", dir, formats[f], i);
            ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_file(path, bad_pass, NULL, &k));
            assert_null(k);
            ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_file(path, NULL, NULL, &k));
            assert_null(k);
        }
    }
}

static void
test_amk_pem_parse_openssl_forms(void **state)
{
    static const char *rsa_files[] = { "o_rsa", "o_des3", "o_aes256", "o_aes192", "o_scrypt" };
    char path[4200], pub[4200];
    struct amk_key *k = NULL, *k2 = NULL;
    char *out = NULL;
    struct amk_buf *blob = amk_buf_new();

    snprintf(pub, sizeof(pub), "%s/o_rsa.pub", dir);
    for (size_t i = 0; i < sizeof(rsa_files) / sizeof(rsa_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, rsa_files[i]);
        ASSERT_OK(amk_key_load_file(path, good_pass, NULL, &k));
        assert_fp_matches(k, pub);
        amk_key_free(k);
        k = NULL;
        if (i > 0)
            ASSERT_AMK(AMK_EPASSPHRASE, amk_key_load_file(path, bad_pass, NULL, &k));
    }
    /* An "EC PARAMETERS" block before the key. */
    snprintf(path, sizeof(path), "%s/o_ecparams", dir);
    snprintf(pub, sizeof(pub), "%s/o_ecparams.pub", dir);
    ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
    assert_fp_matches(k, pub);
    amk_key_free(k);
    /* Ed25519 in PKCS#8 (RFC 8410), plain and encrypted: the public key is
     * the one openssl derives. */
    snprintf(path, sizeof(path), "%s/o_ed", dir);
    ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
    snprintf(path, sizeof(path), "%s/o_ed_enc", dir);
    ASSERT_OK(amk_key_load_file(path, good_pass, NULL, &k2));
    assert_true(amk_key_equal_public(k, k2));
    assert_int_equal(ktu_run(&out, "openssl pkey -in %s/o_ed -pubout -outform DER | tail -c 32 | "
        "base64", dir), 0);
    ASSERT_OK(amk_key_to_blob(k, blob));
    ASSERT_OK(amk_buf_consume(blob, amk_buf_len(blob) - 32));
    {
        struct amk_buf *enc = amk_buf_new();
        ASSERT_OK(amk_base64_encode(amk_buf_ptr(blob), 32, 1, enc));
        ASSERT_OK(amk_buf_put_u8(enc, '\n'));
        ASSERT_OK(amk_buf_put_u8(enc, '\0'));
        assert_string_equal(out, (const char *)amk_buf_ptr(enc));
        amk_buf_free(enc);
    }
    free(out);
    amk_buf_free(blob);
    amk_key_free(k);
    amk_key_free(k2);
}

static void
test_amk_key_save_format_read_by_ssh_keygen(void **state)
{
    static const enum amk_key_format fmts[] = { AMK_KEY_FORMAT_PEM, AMK_KEY_FORMAT_PKCS8 };
    static const char *labels[][2] = {
        { "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----" },
        { "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----" },
        { "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----" },
        { "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----" },
        { "-----BEGIN DSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----" },
    };
    char path[4200];

    for (size_t i = 0; i < NTYPES; i++) {
        struct amk_key *k = NULL, *back = NULL;
        char *fp = NULL;
        ASSERT_OK(amk_key_create(types[i].type, 0, &k));
        ASSERT_OK(amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp));
        for (size_t f = 0; f < 2; f++) {
            for (int enc = 0; enc < 2; enc++) {
                char *out = NULL, *text, *got;
                snprintf(path, sizeof(path), "%s/w%zu_%zu_%d", dir, i, f, enc);
                ASSERT_OK(amk_key_save_file_format(k, path, fmts[f], enc ? PASS : NULL));
                text = ktu_read(path, NULL);
                if (enc && f == 1)
                    assert_memory_equal(text, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37);
                else
                    assert_memory_equal(text, labels[i][f], strlen(labels[i][f]));
                if (enc && f == 0)
                    assert_non_null(strstr(text, "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"));
                free(text);
                assert_int_equal(ktu_run(&out, "ssh-keygen -y -P '%s' -f %s | ssh-keygen -l -f -",
                    enc ? PASS : "", path), 0);
                got = ktu_field(out, 1);
                assert_string_equal(got, fp);
                free(got);
                free(out);
                /* And back through amiko. */
                ASSERT_OK(amk_key_load_file(path, good_pass, NULL, &back));
                assert_true(amk_key_equal_public(k, back));
                assert_true(amk_key_has_private(back));
                amk_key_free(back);
                back = NULL;
            }
        }
        free(fp);
        amk_key_free(k);
    }
}

static void
test_amk_key_save_format_ed25519_pkcs8(void **state)
{
    struct amk_key *k = NULL, *back = NULL;
    char path[4200];
    char *text;

    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    for (int f = AMK_KEY_FORMAT_PEM; f <= AMK_KEY_FORMAT_PKCS8; f++) {
        for (int enc = 0; enc < 2; enc++) {
            snprintf(path, sizeof(path), "%s/ed_%d_%d", dir, f, enc);
            ASSERT_OK(amk_key_save_file_format(k, path, (enum amk_key_format)f,
                enc ? PASS : NULL));
            text = ktu_read(path, NULL);
            assert_non_null(strstr(text, enc ? "-----BEGIN ENCRYPTED PRIVATE KEY-----" :
                "-----BEGIN PRIVATE KEY-----"));
            free(text);
            /* OpenSSL reads it (OpenSSH 9.2 reads no Ed25519 PEM). */
            assert_int_equal(ktu_run(NULL, "openssl pkey -in %s -passin pass:'" PASS "' -noout",
                path), 0);
            ASSERT_OK(amk_key_load_file(path, good_pass, NULL, &back));
            assert_true(amk_key_equal_public(k, back));
            amk_key_free(back);
            back = NULL;
        }
    }
    amk_key_free(k);
}

static void
test_amk_key_save_format_errors(void **state)
{
    struct amk_key *k = NULL, *pub = NULL;
    char *out = (char *)1;
    size_t len = 7;

    ASSERT_OK(amk_key_create(AMK_KEY_ECDSA_P256, 0, &k));
    ASSERT_AMK(AMK_EINVAL, amk_key_save_format(k, (enum amk_key_format)9, NULL, &out, &len));
    assert_null(out);
    assert_int_equal(len, 0);
    ASSERT_OK(amk_key_public_copy(k, &pub));
    ASSERT_AMK(AMK_EKEY, amk_key_save_format(pub, AMK_KEY_FORMAT_PEM, NULL, &out, NULL));
    ASSERT_AMK(AMK_EKEY, amk_key_save_format(pub, AMK_KEY_FORMAT_PKCS8, PASS, &out, NULL));
    assert_null(out);
    amk_key_free(pub);
    amk_key_free(k);
}

/* Loads @p text (a modified copy of a file) and expects @p want. */
static void
expect_load(int want, const char *text, amk_passphrase_fn fn)
{
    struct amk_key *k = NULL;

    ASSERT_AMK(want, amk_key_load(text, strlen(text), fn, NULL, &k));
    assert_null(k);
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
test_amk_pem_parse_bad_armor(void **state)
{
    char path[4200];
    char *text, *bad, *end;
    size_t len;

    snprintf(path, sizeof(path), "%s/PEM3", dir);     /* RSA */
    text = ktu_read(path, &len);
    /* No END line, a different END label, text after the END line. */
    end = strstr(text, "-----END");
    bad = strndup(text, (size_t)(end - text));
    expect_load(AMK_EFORMAT, bad, NULL);
    free(bad);
    bad = replace(text, "-----END RSA", "-----END DSA");
    expect_load(AMK_EFORMAT, bad, NULL);
    free(bad);
    bad = replace(text, "-----END RSA PRIVATE KEY-----\n", "-----END RSA PRIVATE KEY-----\nx\n");
    expect_load(AMK_EFORMAT, bad, NULL);
    free(bad);
    /* Bad base64, truncated DER, and an RSA body under the EC label. */
    bad = replace(text, "\n", "\n*");
    expect_load(AMK_EFORMAT, bad, NULL);
    free(bad);
    {
        char *cut = strdup(text), *nl = strstr(cut, "-----END");
        /* Drop the last four body lines. */
        for (int i = 0; i < 5; i++) {
            nl--;
            while (*nl != '\n')
                nl--;
        }
        nl[1] = '\0';
        bad = malloc(strlen(cut) + 64);
        sprintf(bad, "%s-----END RSA PRIVATE KEY-----\n", cut);
        expect_load(AMK_EFORMAT, bad, NULL);
        free(bad);
        free(cut);
    }
    bad = replace(text, "BEGIN RSA", "BEGIN EC");
    end = bad;
    bad = replace(end, "END RSA", "END EC");
    free(end);
    expect_load(AMK_EFORMAT, bad, NULL);
    free(bad);
    free(text);
}

static void
test_amk_pem_parse_bad_dek_info(void **state)
{
    char path[4200];
    char *text, *bad, *dek, *eol, *line;

    snprintf(path, sizeof(path), "%s/PEMe0", dir);    /* EC, AES-128-CBC */
    text = ktu_read(path, NULL);
    dek = strstr(text, "DEK-Info: ");
    eol = strchr(dek, '\n');
    line = strndup(dek, (size_t)(eol - dek));
    /* Proc-Type without DEK-Info, and the reverse. */
    bad = replace(text, line, "X-Other: 1");
    expect_load(AMK_EFORMAT, bad, good_pass);
    free(bad);
    bad = replace(text, "Proc-Type: 4,ENCRYPTED", "X-Other: 1");
    expect_load(AMK_EFORMAT, bad, good_pass);
    free(bad);
    bad = replace(text, "Proc-Type: 4,ENCRYPTED", "Proc-Type: 4,MIC-ONLY");
    expect_load(AMK_EFORMAT, bad, good_pass);
    free(bad);
    /* Unknown cipher, short IV, IV that is not hex. */
    bad = replace(text, "AES-128-CBC", "CAMELLIA-128-CBC");
    expect_load(AMK_ENOTSUP, bad, good_pass);
    free(bad);
    bad = replace(text, "AES-128-CBC,", "AES-128-CBC,00");
    expect_load(AMK_EFORMAT, bad, good_pass);
    free(bad);
    bad = replace(text, "AES-128-CBC,", "AES-128-CBC,ZZ");
    {
        char *zz = strstr(bad, "ZZ");
        memmove(zz + 2, zz + 4, strlen(zz + 4) + 1);  /* same length, two non-hex digits */
        expect_load(AMK_EFORMAT, bad, good_pass);
    }
    free(bad);
    /* The wrong IV decrypts to garbage: indistinguishable from a wrong passphrase. */
    {
        char *iv = strchr(line, ',') + 1;
        char *b2, *flipped = strdup(line);
        char *fiv = strchr(flipped, ',') + 1;
        fiv[0] = iv[0] == '0' ? '1' : '0';
        b2 = replace(text, line, flipped);
        expect_load(AMK_EPASSPHRASE, b2, good_pass);
        free(b2);
        free(flipped);
    }
    free(line);
    free(text);
}

/* Re-encodes the EncryptedPrivateKeyInfo of @p text with PBKDF2 iteration
 * count @p iter, without re-encrypting. */
static char *
with_iterations(const char *text, long iter)
{
    struct amk_buf *der = amk_buf_new(), *b64 = amk_buf_new();
    const char *begin = strchr(text, '\n') + 1, *end = strstr(text, "-----END");
    const unsigned char *p;
    unsigned char *out = NULL;
    X509_SIG *sig;
    const X509_ALGOR *alg;
    const ASN1_OCTET_STRING *digest;
    PBE2PARAM *pbe2;
    PBKDF2PARAM *kdf;
    char *res;
    int n;

    ASSERT_OK(amk_base64_decode(begin, (size_t)(end - begin), der));
    p = amk_buf_ptr(der);
    assert_non_null(sig = d2i_X509_SIG(NULL, &p, (long)amk_buf_len(der)));
    X509_SIG_get0(sig, &alg, &digest);
    assert_non_null(pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
    assert_non_null(kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
        pbe2->keyfunc->parameter));
    assert_int_equal(ASN1_INTEGER_set(kdf->iter, iter), 1);
    assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf,
        &pbe2->keyfunc->parameter));
    assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), pbe2,
        &((X509_ALGOR *)alg)->parameter));
    assert_true((n = i2d_X509_SIG(sig, &out)) > 0);
    ASSERT_OK(amk_base64_encode(out, (size_t)n, 1, b64));
    res = malloc(amk_buf_len(b64) + 128);
    sprintf(res, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n%.*s\n-----END ENCRYPTED PRIVATE KEY-----\n",
        (int)amk_buf_len(b64), (const char *)amk_buf_ptr(b64));
    OPENSSL_free(out);
    PBKDF2PARAM_free(kdf);
    PBE2PARAM_free(pbe2);
    X509_SIG_free(sig);
    amk_buf_free(der);
    amk_buf_free(b64);
    return res;
}

static void
test_amk_pem_parse_pkcs8_hostile(void **state)
{
    char path[4200];
    char *text, *bad;

    snprintf(path, sizeof(path), "%s/PKCS8e0", dir);
    text = ktu_read(path, NULL);
    /* A work factor over the cap is refused before any work is done. */
    bad = with_iterations(text, (long)AMK_PKCS8_MAX_ITER + 1);
    expect_load(AMK_ELIMIT, bad, good_pass);
    free(bad);
    bad = with_iterations(text, 0);
    expect_load(AMK_ELIMIT, bad, good_pass);
    free(bad);
    /* The same count it had still decrypts, a different one does not. */
    bad = with_iterations(text, 2048);
    {
        struct amk_key *k = NULL;
        ASSERT_OK(amk_key_load(bad, strlen(bad), good_pass, NULL, &k));
        amk_key_free(k);
    }
    free(bad);
    bad = with_iterations(text, 2047);
    expect_load(AMK_EPASSPHRASE, bad, good_pass);
    free(bad);
    /* An ENCRYPTED label on a plain PrivateKeyInfo, and the reverse. */
    free(text);
    snprintf(path, sizeof(path), "%s/PKCS80", dir);
    text = ktu_read(path, NULL);
    bad = replace(text, "BEGIN PRIVATE", "BEGIN ENCRYPTED PRIVATE");
    {
        char *b2 = replace(bad, "END PRIVATE", "END ENCRYPTED PRIVATE");
        expect_load(AMK_EFORMAT, b2, good_pass);
        free(b2);
    }
    free(bad);
    free(text);
    snprintf(path, sizeof(path), "%s/PKCS8e0", dir);
    text = ktu_read(path, NULL);
    bad = replace(text, "BEGIN ENCRYPTED PRIVATE", "BEGIN PRIVATE");
    {
        char *b2 = replace(bad, "END ENCRYPTED PRIVATE", "END PRIVATE");
        expect_load(AMK_EFORMAT, b2, NULL);
        free(b2);
    }
    free(bad);
    free(text);
}

static void
test_amk_der_private_decode_bad(void **state)
{
    static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
    struct amk_pkey *pk = NULL;

    ASSERT_AMK(AMK_EFORMAT, amk_der_private_decode(AMK_DER_RSA, junk, sizeof(junk), &pk));
    ASSERT_AMK(AMK_EFORMAT, amk_der_private_decode(AMK_DER_EC, junk, sizeof(junk), &pk));
    ASSERT_AMK(AMK_EFORMAT, amk_der_private_decode(AMK_DER_DSA, junk, sizeof(junk), &pk));
    ASSERT_AMK(AMK_EFORMAT, amk_der_private_decode(AMK_DER_PKCS8, junk, sizeof(junk), &pk));
    ASSERT_AMK(AMK_EFORMAT, amk_der_private_decode(AMK_DER_RSA, junk, 0, &pk));
    assert_null(pk);
    {
        uint8_t *plain = NULL;
        size_t plen = 0;
        ASSERT_AMK(AMK_EFORMAT, amk_der_pkcs8_decrypt(junk, sizeof(junk), "x", 1, &plain, &plen));
        assert_null(plain);
    }
    assert_int_equal(amk_pem_legacy_iv_len("AES-256-CBC"), 16);
    assert_int_equal(amk_pem_legacy_iv_len("DES-EDE3-CBC"), 8);
    assert_int_equal(amk_pem_legacy_iv_len("RC4"), 0);
}

static void
test_amk_pem_parse_trailing_der(void **state)
{
    struct amk_key *k = NULL;
    char *pem = NULL;
    struct amk_buf *der = amk_buf_new(), *b64 = amk_buf_new();
    const char *begin, *end;
    char *bad;

    /* An RSA key with a byte appended inside the armor. */
    ASSERT_OK(amk_key_create(AMK_KEY_RSA, 2048, &k));
    ASSERT_OK(amk_key_save_format(k, AMK_KEY_FORMAT_PEM, NULL, &pem, NULL));
    begin = strchr(pem, '\n') + 1;
    end = strstr(pem, "-----END");
    ASSERT_OK(amk_base64_decode(begin, (size_t)(end - begin), der));
    ASSERT_OK(amk_buf_put_u8(der, 0));
    ASSERT_OK(amk_base64_encode(amk_buf_ptr(der), amk_buf_len(der), 1, b64));
    bad = malloc(amk_buf_len(b64) + 128);
    sprintf(bad, "-----BEGIN RSA PRIVATE KEY-----\n%.*s\n-----END RSA PRIVATE KEY-----\n",
        (int)amk_buf_len(b64), (const char *)amk_buf_ptr(b64));
    expect_load(AMK_EFORMAT, bad, NULL);
    free(bad);
    free(pem);
    amk_buf_free(der);
    amk_buf_free(b64);
    amk_key_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_pem_parse_ssh_keygen_plain),
        cmocka_unit_test(test_amk_pem_parse_ssh_keygen_encrypted),
        cmocka_unit_test(test_amk_pem_parse_wrong_passphrase),
        cmocka_unit_test(test_amk_pem_parse_openssl_forms),
        cmocka_unit_test(test_amk_key_save_format_read_by_ssh_keygen),
        cmocka_unit_test(test_amk_key_save_format_ed25519_pkcs8),
        cmocka_unit_test(test_amk_key_save_format_errors),
        cmocka_unit_test(test_amk_pem_parse_bad_armor),
        cmocka_unit_test(test_amk_pem_parse_bad_dek_info),
        cmocka_unit_test(test_amk_pem_parse_pkcs8_hostile),
        cmocka_unit_test(test_amk_der_private_decode_bad),
        cmocka_unit_test(test_amk_pem_parse_trailing_der),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
