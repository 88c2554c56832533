/* Unit tests for src/crypto/pkey.c and the pkey_*.c key families. */
#include "test_helper.h"

#include "crypto/pkey.h"
#include "util/secure.h"

/* Builds a key from hex components indexed by part (NULL: absent). */
static int
key_from_hex(struct amk_pkey **out, enum amk_pkey_type type, const char *const hex[AMK_PART_COUNT])
{
    struct amk_bytes parts[AMK_PART_COUNT];
    uint8_t *bufs[AMK_PART_COUNT] = { NULL };
    int r;

    memset(parts, 0, sizeof(parts));
    for (int i = 0; i < AMK_PART_COUNT; i++) {
        if (hex[i] == NULL)
            continue;
        bufs[i] = test_unhex(hex[i], &parts[i].len);
        parts[i].p = bufs[i];
    }
    r = amk_pkey_from_parts(out, type, parts);
    for (int i = 0; i < AMK_PART_COUNT; i++)
        free(bufs[i]);
    return r;
}

static struct amk_pkey *
must_key(enum amk_pkey_type type, const char *const hex[AMK_PART_COUNT])
{
    struct amk_pkey *k = NULL;

    ASSERT_OK(key_from_hex(&k, type, hex));
    return k;
}

/* Asserts @p sig verifies over @p data, and fails after bit flips, with
 * other data, and truncated or extended. */
static void
check_verify_strict(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
    uint8_t *bad = malloc(siglen + 1), *other = malloc(len + 1);
    size_t positions[] = { 0, siglen / 2, siglen - 1 };

    assert_non_null(bad);
    assert_non_null(other);
    ASSERT_OK(amk_pkey_verify(k, hash, data, len, sig, siglen));
    for (size_t i = 0; i < 3; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(bad, sig, siglen);
            bad[positions[i]] ^= (uint8_t)(1u << bit);
            ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(k, hash, data, len, bad, siglen));
        }
    }
    memcpy(other, data, len);
    other[len] = 'x';
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(k, hash, other, len + 1, sig, siglen));
    if (len > 0) {
        other[0] ^= 1;
        ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(k, hash, other, len, sig, siglen));
    }
    memcpy(bad, sig, siglen);
    bad[siglen] = 0;
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(k, hash, data, len, bad, siglen + 1));
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(k, hash, data, len, sig, 0));
    free(bad);
    free(other);
}

/* ---- Ed25519: RFC 8032 §7.1 ---- */

static const struct {
    const char *name, *secret, *public, *message, *signature;
} kat_ed25519[] = {
    {
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    {
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    {
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
    {
        "TEST SHA(abc)",    /* the message is SHA-512("abc") */
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
        "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    },
};

static void
test_amk_pkey_sign_ed25519_rfc8032(void **state)
{
    for (size_t i = 0; i < sizeof(kat_ed25519) / sizeof(kat_ed25519[0]); i++) {
        const char *h[AMK_PART_COUNT] = {
            [AMK_PART_PUBLIC] = kat_ed25519[i].public,
            [AMK_PART_PRIVATE] = kat_ed25519[i].secret,
        };
        const char *hpub[AMK_PART_COUNT] = { [AMK_PART_PUBLIC] = kat_ed25519[i].public };
        struct amk_pkey *k = must_key(AMK_PKEY_ED25519, h), *pub = must_key(AMK_PKEY_ED25519, hpub);
        size_t mlen, siglen;
        uint8_t *msg = test_unhex(kat_ed25519[i].message, &mlen), *sig;

        assert_int_equal(amk_pkey_type(k), AMK_PKEY_ED25519);
        assert_true(amk_pkey_has_private(k));
        assert_false(amk_pkey_has_private(pub));
        assert_int_equal(amk_pkey_bits(k), 256);
        ASSERT_OK(amk_pkey_sign(k, AMK_HASH_SHA512, msg, mlen, &sig, &siglen));
        ASSERT_HEX(kat_ed25519[i].signature, sig, siglen);
        check_verify_strict(pub, AMK_HASH_SHA256, msg, mlen, sig, siglen);
        ASSERT_OK(amk_pkey_verify(k, AMK_HASH_SHA1, msg, mlen, sig, siglen));
        assert_true(amk_pkey_equal_public(k, pub));
        free(sig);
        free(msg);
        amk_pkey_free(k);
        amk_pkey_free(pub);
    }
}

static void
test_amk_pkey_from_parts_ed25519_inconsistent(void **state)
{
    struct amk_pkey *k = (struct amk_pkey *)1;
    const char *mismatch[AMK_PART_COUNT] = {
        [AMK_PART_PUBLIC] = kat_ed25519[1].public,
        [AMK_PART_PRIVATE] = kat_ed25519[0].secret,
    };
    const char *short_pub[AMK_PART_COUNT] = {
        [AMK_PART_PUBLIC] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f70751",
    };
    const char *short_seed[AMK_PART_COUNT] = {
        [AMK_PART_PUBLIC] = kat_ed25519[0].public,
        [AMK_PART_PRIVATE] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f",
    };
    const char *no_pub[AMK_PART_COUNT] = { [AMK_PART_PRIVATE] = kat_ed25519[0].secret };
    const char *foreign[AMK_PART_COUNT] = {
        [AMK_PART_PUBLIC] = kat_ed25519[0].public,
        [AMK_PART_RSA_N] = "00ff",
    };

    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ED25519, mismatch));
    assert_null(k);
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ED25519, short_pub));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ED25519, short_seed));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ED25519, no_pub));
    ASSERT_AMK(AMK_EINVAL, key_from_hex(&k, AMK_PKEY_ED25519, foreign));
    ASSERT_AMK(AMK_ENOTSUP, key_from_hex(&k, (enum amk_pkey_type)42, short_pub));
}

/* ---- ECDSA: RFC 6979 §A.2.5 (P-256), §A.2.6 (P-384), §A.2.7 (P-521), message "sample" ---- */

static const struct {
    enum amk_pkey_type type;
    const char *x, *q, *r, *s;    /* q = 04 || Ux || Uy */
} kat_ecdsa[] = {
    {
        AMK_PKEY_ECDSA_P256,
        "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
        "04"
        "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
        "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
        "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
    },
    {
        AMK_PKEY_ECDSA_P384,
        "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D8"
        "96D5724E4C70A825F872C9EA60D2EDF5",
        "04"
        "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64"
        "DEF8F0EA9055866064A254515480BC13"
        "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1"
        "288B231C3AE0D4FE7344FD2533264720",
        "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
        "81A648152E44ACF96E36DD1E80FABE46",
        "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
        "A329C145786E679E7B82C71A38628AC8",
    },
    {
        AMK_PKEY_ECDSA_P521,
        "00FAD06DAA62BA3B25D2FB40133DA757205DE67F5BB0018FEE8C86E1B68C7E75C"
        "AA896EB32F1F47C70855836A6D16FCC1466F6D8FBEC67DB89EC0C08B0E996B83538",
        "04"
        "01894550D0785932E00EAA23B694F213F8C3121F86DC97A04E5A7167DB4E5BCD3"
        "71123D46E45DB6B5D5370A7F20FB633155D38FFA16D2BD761DCAC474B9A2F5023A4"
        "00493101C962CD4D2FDDF782285E64584139C2F91B47F87FF82354D6630F746A2"
        "8A0DB25741B5B34A828008B22ACC23F924FAAFBD4D33F81EA66956DFEAA2BFDFCF5",
        "00C328FAFCBD79DD77850370C46325D987CB525569FB63C5D3BC53950E6D4C5F1"
        "74E25A1EE9017B5D450606ADD152B534931D7D4E8455CC91F9B15BF05EC36E377FA",
        "00617CCE7CF5064806C467F678D3B4080D6F1CC50AF26CA209417308281B68AF2"
        "82623EAA63E5B5C0723D8B8C37FF0777B1A20F8CCB1DCCC43997F1EE0E44DA4A67A",
    },
};

#define NECDSA (sizeof(kat_ecdsa) / sizeof(kat_ecdsa[0]))

static uint8_t *
concat_hex(const char *a, const char *b, size_t *len)
{
    size_t alen, blen;
    uint8_t *pa = test_unhex(a, &alen), *pb = test_unhex(b, &blen);
    uint8_t *out = malloc(alen + blen);

    assert_non_null(out);
    memcpy(out, pa, alen);
    memcpy(out + alen, pb, blen);
    *len = alen + blen;
    free(pa);
    free(pb);
    return out;
}

static void
test_amk_pkey_verify_ecdsa_rfc6979(void **state)
{
    static const char sample[] = "sample";

    for (size_t i = 0; i < NECDSA; i++) {
        const char *hpub[AMK_PART_COUNT] = { [AMK_PART_PUBLIC] = kat_ecdsa[i].q };
        struct amk_pkey *k = must_key(kat_ecdsa[i].type, hpub);
        size_t siglen;
        uint8_t *sig = concat_hex(kat_ecdsa[i].r, kat_ecdsa[i].s, &siglen);

        assert_false(amk_pkey_has_private(k));
        check_verify_strict(k, AMK_HASH_SHA1, (const uint8_t *)sample, 6, sig, siglen);
        free(sig);
        amk_pkey_free(k);
    }
}

static void
test_amk_pkey_sign_ecdsa_rfc6979_key(void **state)
{
    static const char msg[] = "sample";
    static const unsigned bits[] = { 256, 384, 521 };

    for (size_t i = 0; i < NECDSA; i++) {
        const char *h[AMK_PART_COUNT] = {
            [AMK_PART_PUBLIC] = kat_ecdsa[i].q,
            [AMK_PART_PRIVATE] = kat_ecdsa[i].x,
        };
        struct amk_pkey *k = must_key(kat_ecdsa[i].type, h);
        uint8_t *sig, *d;
        size_t siglen, dlen;

        assert_true(amk_pkey_has_private(k));
        assert_int_equal(amk_pkey_bits(k), bits[i]);
        ASSERT_OK(amk_pkey_sign(k, AMK_HASH_SHA1, (const uint8_t *)msg, 6, &sig, &siglen));
        assert_int_equal(siglen, 2 * amk_ec_field_len((enum amk_ec_curve)(i + 1)));
        check_verify_strict(k, AMK_HASH_SHA1, (const uint8_t *)msg, 6, sig, siglen);
        free(sig);
        /* the scalar comes back padded to the field length */
        ASSERT_OK(amk_pkey_get_part(k, AMK_PART_PRIVATE, &d, &dlen));
        ASSERT_HEX(kat_ecdsa[i].x, d, dlen);
        amk_free_wiped(d, dlen);
        amk_pkey_free(k);
    }
}

static void
test_amk_pkey_from_parts_ecdsa_invalid(void **state)
{
    struct amk_pkey *k = NULL;
    size_t len;
    uint8_t *q = test_unhex(kat_ecdsa[0].q, &len);
    struct amk_bytes parts[AMK_PART_COUNT];
    uint8_t d[32];
    /* The P-256 group order n (FIPS 186-4 D.1.2.3). */
    const char *at_n[AMK_PART_COUNT] = {
        [AMK_PART_PUBLIC] = kat_ecdsa[0].q,
        [AMK_PART_PRIVATE] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
    };
    const char *wrong_priv[AMK_PART_COUNT] = {
        [AMK_PART_PUBLIC] = kat_ecdsa[0].q,
        [AMK_PART_PRIVATE] = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6722",
    };
    const char *wrong_curve[AMK_PART_COUNT] = { [AMK_PART_PUBLIC] = kat_ecdsa[1].q };

    memset(parts, 0, sizeof(parts));
    parts[AMK_PART_PUBLIC].p = q;
    parts[AMK_PART_PUBLIC].len = len;
    q[len - 1] ^= 1;    /* off the curve */
    ASSERT_AMK(AMK_EKEY, amk_pkey_from_parts(&k, AMK_PKEY_ECDSA_P256, parts));
    assert_null(k);
    q[len - 1] ^= 1;
    q[0] = 0x02;        /* compressed tag */
    parts[AMK_PART_PUBLIC].len = 33;
    ASSERT_AMK(AMK_EKEY, amk_pkey_from_parts(&k, AMK_PKEY_ECDSA_P256, parts));
    q[0] = 0x04;
    parts[AMK_PART_PUBLIC].len = len - 1;
    ASSERT_AMK(AMK_EKEY, amk_pkey_from_parts(&k, AMK_PKEY_ECDSA_P256, parts));
    memset(q + 1, 0, len - 1);    /* (0, 0) */
    parts[AMK_PART_PUBLIC].len = len;
    ASSERT_AMK(AMK_EKEY, amk_pkey_from_parts(&k, AMK_PKEY_ECDSA_P256, parts));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ECDSA_P256, wrong_curve));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ECDSA_P256, at_n));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_ECDSA_P256, wrong_priv));
    free(q);
    /* scalar 0 */
    q = test_unhex(kat_ecdsa[0].q, &len);
    memset(d, 0, sizeof(d));
    parts[AMK_PART_PUBLIC].p = q;
    parts[AMK_PART_PRIVATE].p = d;
    parts[AMK_PART_PRIVATE].len = sizeof(d);
    ASSERT_AMK(AMK_EKEY, amk_pkey_from_parts(&k, AMK_PKEY_ECDSA_P256, parts));
    free(q);
}

/* ---- DSA: RFC 6979 §A.2.1 (1024-bit p, 160-bit q), SHA-1, message "sample" ---- */

#define DSA_P \
    "86F5CA03DCFEB225063FF830A0C769B9DD9D6153AD91D7CE27F787C43278B447" \
    "E6533B86B18BED6E8A48B784A14C252C5BE0DBF60B86D6385BD2F12FB763ED88" \
    "73ABFD3F5BA2E0A8C0A59082EAC056935E529DAF7C610467899C77ADEDFC846C" \
    "881870B7B19B2B58F9BE0521A17002E3BDD6B86685EE90B3D9A1B02B782B1779"
#define DSA_Q "996F967F6C8E388D9E28D01E205FBA957A5698B1"
#define DSA_G \
    "07B0F92546150B62514BB771E2A0C0CE387F03BDA6C56B505209FF25FD3C133D" \
    "89BBCD97E904E09114D9A7DEFDEADFC9078EA544D2E401AEECC40BB9FBBF78FD" \
    "87995A10A1C27CB7789B594BA7EFB5C4326A9FE59A070E136DB77175464ADCA4" \
    "17BE5DCE2F40D10A46A3A3943F26AB7FD9C0398FF8C76EE0A56826A8A88F1DBD"
#define DSA_X "411602CB19A6CCC34494D79D98EF1E7ED5AF25F7"
#define DSA_Y \
    "5DF5E01DED31D0297E274E1691C192FE5868FEF9E19A84776454B100CF16F653" \
    "92195A38B90523E2542EE61871C0440CB87C322FC4B4D2EC5E1E7EC766E1BE8D" \
    "4CE935437DC11C3C8FD426338933EBFE739CB3465F4D3668C5E473508253B1E6" \
    "82F65CBDC4FAE93C2EA212390E54905A86E2223170B44EAA7DA5DD9FFCFB7F3B"
#define DSA_SHA1_SAMPLE_R "2E1A0C2562B2912CAAF89186FB0F42001585DA55"
#define DSA_SHA1_SAMPLE_S "29EFB6B0AFF2D7A68EB70CA313022253B9A88DF5"

static void
test_amk_pkey_verify_dsa_rfc6979(void **state)
{
    const char *hpub[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q,
        [AMK_PART_DSA_G] = DSA_G, [AMK_PART_DSA_Y] = DSA_Y,
    };
    const char *hpriv[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q,
        [AMK_PART_DSA_G] = DSA_G, [AMK_PART_DSA_Y] = DSA_Y, [AMK_PART_DSA_X] = DSA_X,
    };
    struct amk_pkey *pub = must_key(AMK_PKEY_DSA, hpub), *k = must_key(AMK_PKEY_DSA, hpriv);
    size_t siglen;
    uint8_t *sig = concat_hex(DSA_SHA1_SAMPLE_R, DSA_SHA1_SAMPLE_S, &siglen), *s2;

    assert_int_equal(amk_pkey_bits(k), 1024);
    check_verify_strict(pub, AMK_HASH_SHA256, (const uint8_t *)"sample", 6, sig, siglen);
    ASSERT_OK(amk_pkey_sign(k, AMK_HASH_SHA1, (const uint8_t *)"sample", 6, &s2, &siglen));
    assert_int_equal(siglen, 40);
    check_verify_strict(pub, AMK_HASH_SHA1, (const uint8_t *)"sample", 6, s2, siglen);
    assert_true(amk_pkey_equal_public(k, pub));
    free(s2);
    free(sig);
    amk_pkey_free(pub);
    amk_pkey_free(k);
}

static void
test_amk_pkey_from_parts_dsa_inconsistent(void **state)
{
    struct amk_pkey *k = NULL;
    /* x + 1: y no longer g^x */
    const char *wrong_x[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q, [AMK_PART_DSA_G] = DSA_G,
        [AMK_PART_DSA_Y] = DSA_Y, [AMK_PART_DSA_X] = "411602CB19A6CCC34494D79D98EF1E7ED5AF25F8",
    };
    /* x = q */
    const char *x_is_q[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q, [AMK_PART_DSA_G] = DSA_G,
        [AMK_PART_DSA_Y] = DSA_Y, [AMK_PART_DSA_X] = DSA_Q,
    };
    /* g = 1 */
    const char *g_one[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q, [AMK_PART_DSA_G] = "01",
        [AMK_PART_DSA_Y] = DSA_Y,
    };
    /* y = 2: not in the order-q subgroup */
    const char *y_two[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q, [AMK_PART_DSA_G] = DSA_G,
        [AMK_PART_DSA_Y] = "02",
    };
    /* a 152-bit q */
    const char *short_q[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = "6F967F6C8E388D9E28D01E205FBA957A5698B1",
        [AMK_PART_DSA_G] = DSA_G, [AMK_PART_DSA_Y] = DSA_Y,
    };
    /* missing g */
    const char *no_g[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q, [AMK_PART_DSA_Y] = DSA_Y,
    };
    /* a 512-bit p */
    const char *small_p[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = "86F5CA03DCFEB225063FF830A0C769B9DD9D6153AD91D7CE27F787C43278B447"
                           "E6533B86B18BED6E8A48B784A14C252C5BE0DBF60B86D6385BD2F12FB763ED89",
        [AMK_PART_DSA_Q] = DSA_Q, [AMK_PART_DSA_G] = "02", [AMK_PART_DSA_Y] = "03",
    };

    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, wrong_x));
    assert_null(k);
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, x_is_q));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, g_one));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, y_two));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, short_q));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, no_g));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_DSA, small_p));
}

/* ---- RSA: a fixed 2048-bit key ---- */

/*
 * Generated once with `openssl genrsa 2048` (OpenSSL 3.0.19); components
 * from `openssl rsa -noout -text`. The signatures below are of the 6-byte
 * message "sample", made with `openssl dgst -sha1|-sha256|-sha512 -sign
 * key.pem` (RSASSA-PKCS1-v1_5, deterministic) and checked with
 * `openssl dgst -verify`.
 */
static const char rsa_n[] =
    "f0b3cfef583c1fed77a7f05958f84ad35f42cd2e289d2656239dfffb822f0c59"
    "377011ec1dba43e86da50370c19fc5e6929578693f53589960c2361e303715e3"
    "cbd4d60b28de41690a4bfdd95bd9173f6180db288b0433a1bcdb38c5565c9493"
    "835922e4090cf16920e5e3d75654ac68b3436479bc090fb6dfac1ab42f801dc2"
    "889b81fa952541b796e9d41403d7c2ff53cba01cee83ec7254e08daef4ff939e"
    "57a2d372ddc69fa42762c8dbf0019fc4849a79c4b81bdb0fe10971574f083364"
    "8303377fb6f42c3fb1c7eb2d97aaad634edbee0aa54ec16528d1de611f1b32eb"
    "1fc719a0c89e95588f7f29248922c99ae0c2f163db670a681fb8eab9d6f9bfbf";
static const char rsa_e[] = "010001";
static const char rsa_d[] =
    "2a7e742d3b14924668237be92a2ddb77e98f6f8dc099cdd4d340e79a4d6764f4"
    "b336d3d32d845eccbfdeabf6d21814e619e6cd75373acd9f7657931a4d44cc56"
    "84fbb4361026fcc140921de4abb46dc840bc70f47d66667f1d4a4e817837abfb"
    "46eb0b9fda81307570db6517f523c9b44a4191917442dd4559c3968b4cff7f41"
    "2b1ae0411279771c0816412a59f156e734d6f1812afe5773a7014323079d13b0"
    "416e136b431571f0517c9106f0bcf0057ad567dab1b8d2d0349edd75d33cd8a3"
    "4867782aaee741a3e32a08c199e98d125c40f97322e8e5e4c8b98fb6c1b402a3"
    "00a44ddb45d10bb2dee635613c7fd1edda582235030e02d3036604fcb13d6031";
static const char rsa_p[] =
    "f853179dfa58e7a573d68dc20dfa7d5e8fe8b00c1dfafa211ea5737a0eeb3f57"
    "6de90c8139fd23ad16ff2fec1d81e71b3f044ce68230ac82a07d9c8e21c8277e"
    "9062f69b7d385cf97825d135581a57ab43d1c1ebe95f81907685c90189057816"
    "7e01c244f62811ff4c3d3b3fc19fe2d7f787005919e938225832f55048e35a3d";
static const char rsa_q[] =
    "f824688118c5db1f35910321b3677414b64c34e02b92ac16be8d5d496a4d9b73"
    "18ab8da6d797478800d63e739c6cda5f4ea386361aef766515605fa270c3b336"
    "af6f2a3b1d0f369f603917a1e5a96777511b20a7ff3dde37963bc9f5d603398c"
    "079c6592b3c9fbd98981a582520aca7dc86630bd7698057e8189942c91faedab";
static const char rsa_iqmp[] =
    "b7a9fa9426b2c276145f9c87559ef469bf46c9c54913db0276e69160b552e255"
    "f1d70b8f48703a07924fc239ecaff8faecb50b44add3e9d5ec14b39f2b29cb79"
    "b095eee4c9ece7c5fa102e8b6b35068fda7dfd40582c878ca67fd7bc6a41be84"
    "8f48dd7d12fe46e6adb214f2efc4f64ad98609f6f652d50a5b827dc1701425b3";
static const char rsa_sig_sha1[] =
    "c1f9922c549c591a90c742ecdf67b6ac32b3a64861a3042a8f680922f471c2e9"
    "75bd4f8361e55b21a858de7a10f32ad49f14a256b83f56ee128bfd5272473d04"
    "af08104a37e1c1aceb4de2866cb426b1a9e8178d1cb1c0600dbd6f3c76e9f587"
    "8e6fb9f588c57713b76564d03be1587cba479aa2d830cae0c1470aa9c0a33eba"
    "57f43c6bdbee68f26ac470147d8a725989499eefd0c59d8221ccabe0a74c8904"
    "1cd536677730268d9cf4fd067762bd57613ff142e4602df09bda9e811ed7c3ed"
    "bffeff7f6e5b8a4da386b389a0d66f2623eccbd6ea80f4f81d4575c0e0a17b6d"
    "941acfcc9be204a29c7e95c148a785e0d16cdbb4add0900d74db0ff6248d3f10";
static const char rsa_sig_sha256[] =
    "44fcca24d5cb0e592295c0dc92018ad3ce4669783a96b15d7a5a7541480adf56"
    "4eaa06576d4a9c087a6592098d15abd09b9ca29fb78d7cc2ad4a9e83823c7375"
    "ab721c8a2e503615b098e32f37ffeed54375c17c26431ee47c0e47072e0a5e2c"
    "d9b4d6ac08a0b1ebfd385a44fb0dd092d5bba2fe3128f3f29164c22fb84d4219"
    "902b3109a835d63d911f29d656e84bbaa2004ab36746ccb531e84216c1f0b717"
    "6b6c16e1bed698467b972121363ea0929654a7106db251ffc336b650ebb25ea2"
    "cf5dd893d409a9caf881ca0d7f8add87061121a5acda92e2211f6b0fb1d4076f"
    "2edeffdba460086bdd598a91eb10aa106c255a440d457f752e91f9fc55f61468";
static const char rsa_sig_sha512[] =
    "8d8fb230f36028f466fd0d7726ca0e51b405246803a7e38dcc95062e8fe4f353"
    "24b1b925c94575e2a5da4d96b308a66a6bbd7e4f9ce85261f031a33e22076121"
    "f42f22c36f5121a7d2016b28ca447191a3f0e7cda8f26b406a3ebd2a3ee35c12"
    "9c5f1381f46478dd4767ebd4ac5d3c30bcb5a693f62d0ffcbfd12e0d930ed77c"
    "dc8cf259b7d37ca520827d3a49971a7d593c17da95afecea1770bcc92ce50603"
    "091159a7374d4148ea6c0fa31948f6cfb73502b4d3fe08358877ac301946214b"
    "6c5361425eda9d21c850252f96c31fa518f974823df573b3cd6ac20aef721b37"
    "5855833a27f575a65fc9243c51c1def81f3bb68885611b0f85b821c830e99f01";

/* Moduli of 512- and 768-bit keys from `openssl genrsa 512|768`. */
static const char rsa512_n[] =
    "9E4ADE37A433AB6299692A69FB587A5B4C253F98CA3B18E91C848C3B78A9D719"
    "1140463D87EAF843F571E7AF8F54718079AFA3471CCB4968EBED94FE0E46D327";
static const char rsa768_n[] =
    "ECE3FE9C180E7647A2713DB0EC1D04474820732B8711F8A9C101DC1DD180FEC1"
    "18A69B7FDCA920572B325ABB106D22022BE1AE92EF6107B1BE370171F7E3811D"
    "675305F8A27B2185B4040124BFCECDFAA4D43D85CF02638317F03EF33787CACF";

static struct amk_pkey *
rsa_kat_key(int with_private, int with_iqmp)
{
    const char *h[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_e };

    if (with_private) {
        h[AMK_PART_RSA_D] = rsa_d;
        h[AMK_PART_RSA_P] = rsa_p;
        h[AMK_PART_RSA_Q] = rsa_q;
        if (with_iqmp)
            h[AMK_PART_RSA_IQMP] = rsa_iqmp;
    }
    return must_key(AMK_PKEY_RSA, h);
}

static void
test_amk_pkey_sign_rsa_known(void **state)
{
    static const struct {
        enum amk_hash_alg hash;
        const char *sig;
    } cases[] = {
        { AMK_HASH_SHA1, rsa_sig_sha1 },
        { AMK_HASH_SHA256, rsa_sig_sha256 },
        { AMK_HASH_SHA512, rsa_sig_sha512 },
    };
    struct amk_pkey *k = rsa_kat_key(1, 1), *pub = rsa_kat_key(0, 0);

    assert_int_equal(amk_pkey_bits(k), 2048);
    assert_true(amk_pkey_has_private(k));
    assert_false(amk_pkey_has_private(pub));
    for (size_t i = 0; i < 3; i++) {
        uint8_t *sig;
        size_t siglen;

        ASSERT_OK(amk_pkey_sign(k, cases[i].hash, (const uint8_t *)"sample", 6, &sig, &siglen));
        ASSERT_HEX(cases[i].sig, sig, siglen);
        check_verify_strict(pub, cases[i].hash, (const uint8_t *)"sample", 6, sig, siglen);
        /* the same signature under another digest is refused */
        ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(pub, cases[(i + 1) % 3].hash,
            (const uint8_t *)"sample", 6, sig, siglen));
        free(sig);
    }
    amk_pkey_free(k);
    amk_pkey_free(pub);
}

static void
test_amk_pkey_rsa_unsupported_hash(void **state)
{
    struct amk_pkey *k = rsa_kat_key(1, 1);
    uint8_t *sig, dummy[256] = { 1 };
    size_t siglen;

    ASSERT_AMK(AMK_EINVAL, amk_pkey_sign(k, AMK_HASH_MD5, dummy, 1, &sig, &siglen));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_sign(k, AMK_HASH_SHA384, dummy, 1, &sig, &siglen));
    assert_null(sig);
    ASSERT_AMK(AMK_EINVAL, amk_pkey_verify(k, AMK_HASH_MD5, dummy, 1, dummy, sizeof(dummy)));
    amk_pkey_free(k);
}

static void
test_amk_pkey_from_parts_rsa_computes_iqmp(void **state)
{
    struct amk_pkey *k = rsa_kat_key(1, 0);
    uint8_t *iqmp, *sig;
    size_t len, siglen;

    ASSERT_OK(amk_pkey_get_part(k, AMK_PART_RSA_IQMP, &iqmp, &len));
    ASSERT_HEX(rsa_iqmp, iqmp, len);
    amk_free_wiped(iqmp, len);
    ASSERT_OK(amk_pkey_sign(k, AMK_HASH_SHA256, (const uint8_t *)"sample", 6, &sig, &siglen));
    ASSERT_HEX(rsa_sig_sha256, sig, siglen);
    free(sig);
    amk_pkey_free(k);
}

/* A signature whose leading octet is zero, sent without it, still verifies. */
static void
test_amk_pkey_verify_rsa_short_signature(void **state)
{
    struct amk_pkey *k = rsa_kat_key(1, 1);
    char msg[32];
    uint8_t *sig = NULL;
    size_t siglen = 0, n;
    int found = 0;

    for (int i = 0; i < 4096 && !found; i++) {
        n = (size_t)snprintf(msg, sizeof(msg), "message %d", i);
        free(sig);
        ASSERT_OK(amk_pkey_sign(k, AMK_HASH_SHA256, (const uint8_t *)msg, n, &sig, &siglen));
        found = sig[0] == 0;
    }
    assert_true(found);
    ASSERT_OK(amk_pkey_verify(k, AMK_HASH_SHA256, (const uint8_t *)msg, n, sig + 1, siglen - 1));
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(k, AMK_HASH_SHA256, (const uint8_t *)msg, n,
        sig + 2, siglen - 2));
    free(sig);
    amk_pkey_free(k);
}

static void
test_amk_pkey_from_parts_rsa_inconsistent(void **state)
{
    struct amk_pkey *k = NULL;
    /* p and q swapped with d from another key: use q for p (n != p*q) */
    const char *bad_factor[AMK_PART_COUNT] = {
        [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_e, [AMK_PART_RSA_D] = rsa_d,
        [AMK_PART_RSA_P] = rsa_q, [AMK_PART_RSA_Q] = rsa_q,
    };
    /* d replaced by p: not e^-1 */
    const char *bad_d[AMK_PART_COUNT] = {
        [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_e, [AMK_PART_RSA_D] = rsa_p,
        [AMK_PART_RSA_P] = rsa_p, [AMK_PART_RSA_Q] = rsa_q,
    };
    /* iqmp replaced by p */
    const char *bad_iqmp[AMK_PART_COUNT] = {
        [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_e, [AMK_PART_RSA_D] = rsa_d,
        [AMK_PART_RSA_P] = rsa_p, [AMK_PART_RSA_Q] = rsa_q, [AMK_PART_RSA_IQMP] = rsa_q,
    };
    const char *no_q[AMK_PART_COUNT] = {
        [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_e, [AMK_PART_RSA_D] = rsa_d,
        [AMK_PART_RSA_P] = rsa_p,
    };
    const char *iqmp_only[AMK_PART_COUNT] = {
        [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_e, [AMK_PART_RSA_IQMP] = rsa_iqmp,
    };
    const char *even_e[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = "010000" };
    const char *e_one[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = "01" };
    const char *e_big[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa_n, [AMK_PART_RSA_E] = rsa_n };
    const char *no_e[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa_n };

    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, bad_factor));
    assert_null(k);
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, bad_d));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, bad_iqmp));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, no_q));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, iqmp_only));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, even_e));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, e_one));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, e_big));
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, no_e));
}

static void
test_amk_pkey_from_parts_rsa_small_modulus(void **state)
{
    struct amk_pkey *k = NULL;
    const char *n512[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa512_n, [AMK_PART_RSA_E] = rsa_e };
    const char *n768[AMK_PART_COUNT] = { [AMK_PART_RSA_N] = rsa768_n, [AMK_PART_RSA_E] = rsa_e };

    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, n512));
    assert_null(k);
    ASSERT_AMK(AMK_EKEY, key_from_hex(&k, AMK_PKEY_RSA, n768));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_generate(&k, AMK_PKEY_RSA, 512));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_generate(&k, AMK_PKEY_RSA, 768));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_generate(&k, AMK_PKEY_RSA, 16385));
    assert_null(k);
}

/* Out-of-range signature values: zero, all ones (>= the group order or
 * the modulus), and for RSA the modulus itself. */
static void
test_amk_pkey_verify_hostile_values(void **state)
{
    const char *hed[AMK_PART_COUNT] = { [AMK_PART_PUBLIC] = kat_ed25519[0].public };
    const char *hdsa[AMK_PART_COUNT] = {
        [AMK_PART_DSA_P] = DSA_P, [AMK_PART_DSA_Q] = DSA_Q,
        [AMK_PART_DSA_G] = DSA_G, [AMK_PART_DSA_Y] = DSA_Y,
    };
    struct amk_pkey *keys[5];
    static const size_t siglens[5] = { 64, 64, 96, 132, 40 };
    uint8_t buf[132], *n;
    size_t nlen;
    struct amk_pkey *rsa = rsa_kat_key(0, 0);

    keys[0] = must_key(AMK_PKEY_ED25519, hed);
    for (size_t i = 0; i < NECDSA; i++) {
        const char *h[AMK_PART_COUNT] = { [AMK_PART_PUBLIC] = kat_ecdsa[i].q };

        keys[1 + i] = must_key(kat_ecdsa[i].type, h);
    }
    keys[4] = must_key(AMK_PKEY_DSA, hdsa);
    for (size_t i = 0; i < 5; i++) {
        memset(buf, 0, sizeof(buf));
        ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(keys[i], AMK_HASH_SHA256,
            (const uint8_t *)"sample", 6, buf, siglens[i]));
        memset(buf, 0xff, sizeof(buf));
        ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(keys[i], AMK_HASH_SHA256,
            (const uint8_t *)"sample", 6, buf, siglens[i]));
        ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(keys[i], AMK_HASH_SHA256,
            (const uint8_t *)"sample", 6, buf, 1));
        amk_pkey_free(keys[i]);
    }
    n = test_unhex(rsa_n, &nlen);
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(rsa, AMK_HASH_SHA256,
        (const uint8_t *)"sample", 6, n, nlen));
    memset(n, 0, nlen);
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(rsa, AMK_HASH_SHA256,
        (const uint8_t *)"sample", 6, n, nlen));
    free(n);
    amk_pkey_free(rsa);
}

/* ---- every type: generate, parts, copies, sign and verify ---- */

static void
roundtrip(enum amk_pkey_type type, unsigned bits, unsigned want_bits)
{
    static const uint8_t msg[] = "the quick brown fox";
    struct amk_pkey *k, *rebuilt, *pub, *other;
    struct amk_bytes parts[AMK_PART_COUNT];
    uint8_t *bufs[AMK_PART_COUNT] = { NULL }, *sig, *sig2;
    size_t lens[AMK_PART_COUNT] = { 0 }, siglen, sig2len;
    enum amk_hash_alg hash = type == AMK_PKEY_RSA ? AMK_HASH_SHA512 : AMK_HASH_SHA256;

    ASSERT_OK(amk_pkey_generate(&k, type, bits));
    assert_int_equal(amk_pkey_type(k), type);
    assert_true(amk_pkey_has_private(k));
    assert_int_equal(amk_pkey_bits(k), want_bits);

    /* every applicable part, back through from_parts */
    memset(parts, 0, sizeof(parts));
    for (int i = 0; i < AMK_PART_COUNT; i++) {
        int r = amk_pkey_get_part(k, (enum amk_pkey_part)i, &bufs[i], &lens[i]);

        if (r == AMK_EINVAL) {
            assert_null(bufs[i]);
            continue;
        }
        ASSERT_OK(r);
        assert_true(lens[i] > 0);
        parts[i].p = bufs[i];
        parts[i].len = lens[i];
    }
    ASSERT_OK(amk_pkey_from_parts(&rebuilt, type, parts));
    assert_true(amk_pkey_has_private(rebuilt));
    assert_true(amk_pkey_equal_public(k, rebuilt));

    ASSERT_OK(amk_pkey_public_copy(k, &pub));
    assert_false(amk_pkey_has_private(pub));
    assert_true(amk_pkey_equal_public(k, pub));
    assert_int_equal(amk_pkey_bits(pub), want_bits);
    ASSERT_AMK(AMK_EINVAL, amk_pkey_sign(pub, hash, msg, sizeof(msg), &sig, &siglen));
    for (int i = 0; i < AMK_PART_COUNT; i++) {
        uint8_t *p;
        size_t len;
        int r = amk_pkey_get_part(pub, (enum amk_pkey_part)i, &p, &len);

        if (r == AMK_OK) {
            assert_int_equal(len, lens[i]);
            assert_memory_equal(p, bufs[i], len);
            free(p);
        } else {
            ASSERT_AMK(AMK_EINVAL, r);
        }
    }

    ASSERT_OK(amk_pkey_sign(k, hash, msg, sizeof(msg), &sig, &siglen));
    check_verify_strict(pub, hash, msg, sizeof(msg), sig, siglen);
    ASSERT_OK(amk_pkey_sign(rebuilt, hash, msg, sizeof(msg), &sig2, &sig2len));
    ASSERT_OK(amk_pkey_verify(k, hash, msg, sizeof(msg), sig2, sig2len));

    /* another key of the same type is different and rejects the signature */
    ASSERT_OK(amk_pkey_generate(&other, type, bits));
    assert_false(amk_pkey_equal_public(k, other));
    ASSERT_AMK(AMK_ESIGNATURE, amk_pkey_verify(other, hash, msg, sizeof(msg), sig, siglen));

    free(sig);
    free(sig2);
    for (int i = 0; i < AMK_PART_COUNT; i++)
        amk_free_wiped(bufs[i], lens[i]);
    amk_pkey_free(k);
    amk_pkey_free(rebuilt);
    amk_pkey_free(pub);
    amk_pkey_free(other);
}

static void
test_amk_pkey_generate_ed25519(void **state)
{
    roundtrip(AMK_PKEY_ED25519, 0, 256);
}

static void
test_amk_pkey_generate_ecdsa(void **state)
{
    roundtrip(AMK_PKEY_ECDSA_P256, 0, 256);
    roundtrip(AMK_PKEY_ECDSA_P384, 0, 384);
    roundtrip(AMK_PKEY_ECDSA_P521, 0, 521);
}

static void
test_amk_pkey_generate_rsa(void **state)
{
    roundtrip(AMK_PKEY_RSA, 1024, 1024);
}

static void
test_amk_pkey_generate_dsa(void **state)
{
    struct amk_pkey *k = NULL;

    roundtrip(AMK_PKEY_DSA, 1024, 1024);
    ASSERT_AMK(AMK_EINVAL, amk_pkey_generate(&k, AMK_PKEY_DSA, 2048));
    assert_null(k);
}

static void
test_amk_pkey_generate_unknown_type(void **state)
{
    struct amk_pkey *k = NULL;

    ASSERT_AMK(AMK_ENOTSUP, amk_pkey_generate(&k, (enum amk_pkey_type)0, 0));
    ASSERT_AMK(AMK_ENOTSUP, amk_pkey_generate(&k, (enum amk_pkey_type)7, 0));
    assert_null(k);
}

static void
test_amk_pkey_get_part_not_applicable(void **state)
{
    const char *h[AMK_PART_COUNT] = { [AMK_PART_PUBLIC] = kat_ed25519[0].public };
    struct amk_pkey *ed = must_key(AMK_PKEY_ED25519, h), *rsa = rsa_kat_key(0, 0);
    uint8_t *p = (uint8_t *)1;
    size_t len = 1;

    ASSERT_AMK(AMK_EINVAL, amk_pkey_get_part(ed, AMK_PART_RSA_N, &p, &len));
    assert_null(p);
    assert_int_equal(len, 0);
    ASSERT_AMK(AMK_EINVAL, amk_pkey_get_part(ed, AMK_PART_PRIVATE, &p, &len));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_get_part(ed, AMK_PART_COUNT, &p, &len));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_get_part(rsa, AMK_PART_RSA_D, &p, &len));
    ASSERT_AMK(AMK_EINVAL, amk_pkey_get_part(rsa, AMK_PART_PUBLIC, &p, &len));
    ASSERT_OK(amk_pkey_get_part(rsa, AMK_PART_RSA_E, &p, &len));
    ASSERT_HEX(rsa_e, p, len);
    free(p);
    assert_false(amk_pkey_equal_public(ed, rsa));
    assert_false(amk_pkey_equal_public(ed, NULL));
    amk_pkey_free(ed);
    amk_pkey_free(rsa);
    amk_pkey_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_pkey_sign_ed25519_rfc8032),
        cmocka_unit_test(test_amk_pkey_from_parts_ed25519_inconsistent),
        cmocka_unit_test(test_amk_pkey_verify_ecdsa_rfc6979),
        cmocka_unit_test(test_amk_pkey_sign_ecdsa_rfc6979_key),
        cmocka_unit_test(test_amk_pkey_from_parts_ecdsa_invalid),
        cmocka_unit_test(test_amk_pkey_verify_dsa_rfc6979),
        cmocka_unit_test(test_amk_pkey_from_parts_dsa_inconsistent),
        cmocka_unit_test(test_amk_pkey_sign_rsa_known),
        cmocka_unit_test(test_amk_pkey_rsa_unsupported_hash),
        cmocka_unit_test(test_amk_pkey_from_parts_rsa_computes_iqmp),
        cmocka_unit_test(test_amk_pkey_verify_rsa_short_signature),
        cmocka_unit_test(test_amk_pkey_from_parts_rsa_inconsistent),
        cmocka_unit_test(test_amk_pkey_from_parts_rsa_small_modulus),
        cmocka_unit_test(test_amk_pkey_verify_hostile_values),
        cmocka_unit_test(test_amk_pkey_generate_ed25519),
        cmocka_unit_test(test_amk_pkey_generate_ecdsa),
        cmocka_unit_test(test_amk_pkey_generate_rsa),
        cmocka_unit_test(test_amk_pkey_generate_dsa),
        cmocka_unit_test(test_amk_pkey_generate_unknown_type),
        cmocka_unit_test(test_amk_pkey_get_part_not_applicable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
