/*
 * Unit tests for the packet ciphers: src/crypto/pkt_cipher.c and the
 * constructions behind it (cipher_chachapoly.c, cipher_aesgcm.c,
 * cipher_aes.c, mac.c), plus the raw primitives in primitives.c.
 *
 * The raw primitives are checked against published vectors (RFC 8439,
 * NIST SP 800-38A, McGrew & Viega's GCM test cases); the SSH constructions
 * are then checked against compositions of those primitives written out
 * here, and for round trips, tampering, sequence numbers and lengths.
 */
#include "test_helper.h"

#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "crypto/primitives.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* 1 when the @p len bytes at @p got equal the hex string @p hex. */
static int
hex_equal(const char *hex, const uint8_t *got, size_t len)
{
    size_t n;
    uint8_t *want = test_unhex(hex, &n);
    int eq = n == len && memcmp(want, got, len) == 0;

    free(want);
    return eq;
}

/* ---------- known answers for the raw primitives ---------- */

struct chacha_kat {
    const char *source;
    const char *key;
    const char *state_iv;       /* state words 12..15, little-endian bytes */
    const char *plain;
    const char *cipher;
};

#define RFC8439_SUNSCREEN \
    "4c616469657320616e642047656e746c656d656e206f662074686520636c6173" \
    "73206f66202739393a204966204920636f756c64206f6666657220796f75206f" \
    "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73" \
    "637265656e20776f756c642062652069742e"

static const struct chacha_kat KAT_CHACHA20[] = {
    /* RFC 8439 §2.4.2: counter 1, nonce 00:00:00:00:00:00:00:4a:00:00:00:00 */
    { "RFC 8439 2.4.2",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "01000000" "000000000000004a00000000",
      RFC8439_SUNSCREEN,
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
      "5af90bbf74a35be6b40b8eedf2785e42874d" },
    /* RFC 8439 §2.6.2: Poly1305 key generation = block 0 keystream */
    { "RFC 8439 2.6.2",
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
      "00000000" "000000000001020304050607",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646" },
    /* RFC 8439 A.1 test vector #1: all-zero key, nonce, counter */
    { "RFC 8439 A.1 #1",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "00000000" "000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000",
      "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
      "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586" },
};

struct poly_kat {
    const char *source;
    const char *key;
    const char *msg;
    const char *tag;
};

static const struct poly_kat KAT_POLY1305[] = {
    /* RFC 8439 §2.5.2 */
    { "RFC 8439 2.5.2",
      "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
      "43727970746f6772617068696320466f72756d2052657365617263682047726f7570",
      "a8061dc1305136c6c22b8baf0c0127a9" },
    /* RFC 8439 A.3 test vector #1: zero key, zero message */
    { "RFC 8439 A.3 #1",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000",
      "00000000000000000000000000000000" },
};

/* NIST SP 800-38A Appendix F: one plaintext for all AES mode examples. */
#define SP800_38A_PLAIN \
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" \
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
#define SP800_38A_K128 "2b7e151628aed2a6abf7158809cf4f3c"
#define SP800_38A_K192 "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"
#define SP800_38A_K256 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"

struct aes_kat {
    const char *source;
    const char *key;
    const char *iv;
    const char *cipher;
};

static const struct aes_kat KAT_AES_CTR[] = {
    { "SP 800-38A F.5.1", SP800_38A_K128, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
      "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
      "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee" },
    { "SP 800-38A F.5.3", SP800_38A_K192, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
      "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e94"
      "1e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050" },
    { "SP 800-38A F.5.5", SP800_38A_K256, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
      "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
      "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6" },
};

static const struct aes_kat KAT_AES_CBC[] = {
    { "SP 800-38A F.2.1", SP800_38A_K128, "000102030405060708090a0b0c0d0e0f",
      "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
      "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7" },
    { "SP 800-38A F.2.3", SP800_38A_K192, "000102030405060708090a0b0c0d0e0f",
      "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
      "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd" },
    { "SP 800-38A F.2.5", SP800_38A_K256, "000102030405060708090a0b0c0d0e0f",
      "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
      "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
};

struct gcm_kat {
    const char *source;
    const char *key;
    const char *iv;
    const char *aad;
    const char *plain;
    const char *cipher;
    const char *tag;
};

/* McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B. */
#define GCM_K3 "feffe9928665731c6d6a8f9467308308"
#define GCM_IV3 "cafebabefacedbaddecaf888"
#define GCM_A4 "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_P3_60 \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_P3 GCM_P3_60 "1aafd255"
#define GCM_C3_60 \
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" \
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
#define GCM_C15_60 \
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

static const struct gcm_kat KAT_GCM[] = {
    { "GCM paper test case 1", "00000000000000000000000000000000", "000000000000000000000000",
      "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
    { "GCM paper test case 2", "00000000000000000000000000000000", "000000000000000000000000",
      "", "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
      "ab6e47d42cec13bdf53a67b21257bddf" },
    { "GCM paper test case 3", GCM_K3, GCM_IV3, "", GCM_P3, GCM_C3_60 "473f5985",
      "4d5c2af327cd64a62cf35abd2ba6fab4" },
    { "GCM paper test case 4", GCM_K3, GCM_IV3, GCM_A4, GCM_P3_60, GCM_C3_60,
      "5bc94fbc3221a5db94fae95ae7121a47" },
    { "GCM paper test case 13",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
    { "GCM paper test case 14",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "000000000000000000000000", "", "00000000000000000000000000000000",
      "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
    { "GCM paper test case 15", GCM_K3 GCM_K3, GCM_IV3, "", GCM_P3, GCM_C15_60 "898015ad",
      "b094dac5d93471bdec1a502270e3cc6c" },
    { "GCM paper test case 16", GCM_K3 GCM_K3, GCM_IV3, GCM_A4, GCM_P3_60, GCM_C15_60,
      "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void
test_amk_chacha20_xor_kat(void **state)
{
    for (size_t i = 0; i < NELEM(KAT_CHACHA20); i++) {
        size_t kl, il, pl, cl;
        uint8_t *key = test_unhex(KAT_CHACHA20[i].key, &kl);
        uint8_t *iv = test_unhex(KAT_CHACHA20[i].state_iv, &il);
        uint8_t *plain = test_unhex(KAT_CHACHA20[i].plain, &pl);
        uint8_t *ct = test_unhex(KAT_CHACHA20[i].cipher, &cl);
        uint8_t *out = malloc(pl + 1);

        print_message("%s\n", KAT_CHACHA20[i].source);
        assert_int_equal(kl, 32);
        assert_int_equal(il, 16);
        assert_int_equal(pl, cl);
        ASSERT_OK(amk_chacha20_xor(key, iv, plain, out, pl));
        assert_memory_equal(out, ct, cl);
        /* A stream cipher is its own inverse, also in place. */
        ASSERT_OK(amk_chacha20_xor(key, iv, out, out, pl));
        assert_memory_equal(out, plain, pl);
        free(key); free(iv); free(plain); free(ct); free(out);
    }
}

static void
test_amk_chacha20_xor_counter_and_nonce_matter(void **state)
{
    static const uint8_t key[32] = { 1 };
    uint8_t iv[16] = { 0 }, a[64], b[64], z[64] = { 0 };

    ASSERT_OK(amk_chacha20_xor(key, iv, z, a, sizeof(a)));
    iv[0] = 1;      /* block counter 1 */
    ASSERT_OK(amk_chacha20_xor(key, iv, z, b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));
    iv[0] = 0;
    iv[15] = 1;     /* last nonce byte */
    ASSERT_OK(amk_chacha20_xor(key, iv, z, b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_amk_poly1305_kat(void **state)
{
    uint8_t tag[16];

    for (size_t i = 0; i < NELEM(KAT_POLY1305); i++) {
        size_t kl, ml;
        uint8_t *key = test_unhex(KAT_POLY1305[i].key, &kl);
        uint8_t *msg = test_unhex(KAT_POLY1305[i].msg, &ml);

        print_message("%s\n", KAT_POLY1305[i].source);
        assert_int_equal(kl, 32);
        ASSERT_OK(amk_poly1305(key, msg, ml, tag));
        ASSERT_HEX(KAT_POLY1305[i].tag, tag, 16);
        /* One flipped message bit changes the tag (r = 0 in A.3 #1 makes it constant). */
        if (i == 0) {
            msg[0] ^= 1;
            ASSERT_OK(amk_poly1305(key, msg, ml, tag));
            assert_false(hex_equal(KAT_POLY1305[i].tag, tag, 16));
        }
        free(key); free(msg);
    }
}

static void
test_amk_aes_ctr_xor_kat(void **state)
{
    size_t pl;
    uint8_t *plain = test_unhex(SP800_38A_PLAIN, &pl);
    uint8_t out[64];

    for (size_t i = 0; i < NELEM(KAT_AES_CTR); i++) {
        size_t kl, il;
        uint8_t *key = test_unhex(KAT_AES_CTR[i].key, &kl);
        uint8_t *iv = test_unhex(KAT_AES_CTR[i].iv, &il);

        print_message("%s\n", KAT_AES_CTR[i].source);
        ASSERT_OK(amk_aes_ctr_xor(key, kl, iv, plain, out, pl));
        ASSERT_HEX(KAT_AES_CTR[i].cipher, out, pl);
        /* SP 800-38A F.5.2/F.5.4/F.5.6: decryption is the same operation. */
        ASSERT_OK(amk_aes_ctr_xor(key, kl, iv, out, out, pl));
        assert_memory_equal(out, plain, pl);
        free(key); free(iv);
    }
    free(plain);
}

static void
test_amk_aes_cbc_kat(void **state)
{
    size_t pl;
    uint8_t *plain = test_unhex(SP800_38A_PLAIN, &pl);
    uint8_t out[64];

    for (size_t i = 0; i < NELEM(KAT_AES_CBC); i++) {
        size_t kl, il;
        uint8_t *key = test_unhex(KAT_AES_CBC[i].key, &kl);
        uint8_t *iv = test_unhex(KAT_AES_CBC[i].iv, &il);

        print_message("%s\n", KAT_AES_CBC[i].source);
        ASSERT_OK(amk_aes_cbc(key, kl, iv, 1, plain, out, pl));
        ASSERT_HEX(KAT_AES_CBC[i].cipher, out, pl);
        /* SP 800-38A F.2.2/F.2.4/F.2.6 */
        ASSERT_OK(amk_aes_cbc(key, kl, iv, 0, out, out, pl));
        assert_memory_equal(out, plain, pl);
        free(key); free(iv);
    }
    free(plain);
}

static void
test_amk_aes_primitives_reject_bad_sizes(void **state)
{
    uint8_t key[32] = { 0 }, iv[16] = { 0 }, buf[32] = { 0 }, tag[16];

    ASSERT_AMK(AMK_ENOTSUP, amk_aes_ctr_xor(key, 20, iv, buf, buf, 16));
    ASSERT_AMK(AMK_EINVAL, amk_aes_cbc(key, 16, iv, 1, buf, buf, 15));
    ASSERT_AMK(AMK_ENOTSUP, amk_aes_gcm_seal(key, 8, iv, NULL, 0, buf, buf, 16, tag));
}

static void
test_amk_aes_gcm_kat(void **state)
{
    uint8_t out[64], tag[16];

    for (size_t i = 0; i < NELEM(KAT_GCM); i++) {
        size_t kl, il, al, pl, cl;
        uint8_t *key = test_unhex(KAT_GCM[i].key, &kl);
        uint8_t *iv = test_unhex(KAT_GCM[i].iv, &il);
        uint8_t *aad = test_unhex(KAT_GCM[i].aad, &al);
        uint8_t *plain = test_unhex(KAT_GCM[i].plain, &pl);
        uint8_t *ct = test_unhex(KAT_GCM[i].cipher, &cl);
        size_t tl;
        uint8_t *want_tag = test_unhex(KAT_GCM[i].tag, &tl);

        print_message("%s\n", KAT_GCM[i].source);
        assert_int_equal(il, 12);
        assert_int_equal(pl, cl);
        ASSERT_OK(amk_aes_gcm_seal(key, kl, iv, aad, al, plain, out, pl, tag));
        assert_memory_equal(out, ct, cl);
        assert_memory_equal(tag, want_tag, 16);
        ASSERT_OK(amk_aes_gcm_open(key, kl, iv, aad, al, ct, out, cl, want_tag));
        assert_memory_equal(out, plain, pl);
        /* A wrong tag fails and leaves no plaintext behind. */
        want_tag[15] ^= 0x80;
        ASSERT_AMK(AMK_EMAC, amk_aes_gcm_open(key, kl, iv, aad, al, ct, out, cl, want_tag));
        for (size_t j = 0; j < pl; j++)
            assert_int_equal(out[j], 0);
        free(key); free(iv); free(aad); free(plain); free(ct); free(want_tag);
    }
}

/* ---------- the SSH packet constructions ---------- */

#define PKT_BUF_LEN (32768 + 256)

struct combo {
    char cipher[64];
    char mac[64];       /* "" for AEAD */
};

/* Every supported cipher, with every MAC when it needs one. */
static size_t
all_combos(struct combo *out, size_t cap)
{
    char ciphers[512], macs[512];
    size_t n = 0;
    char *save1 = NULL;

    snprintf(ciphers, sizeof(ciphers), "%s", amk_cipher_names());
    for (char *c = strtok_r(ciphers, ",", &save1); c != NULL; c = strtok_r(NULL, ",", &save1)) {
        const struct amk_cipher_info *ci = amk_cipher_info_find(c);
        char *save2 = NULL;

        assert_non_null(ci);
        if (ci->tag_len > 0) {
            assert_true(n < cap);
            snprintf(out[n].cipher, sizeof(out[n].cipher), "%s", c);
            out[n++].mac[0] = '\0';
            continue;
        }
        snprintf(macs, sizeof(macs), "%s", amk_mac_names());
        for (char *m = strtok_r(macs, ",", &save2); m != NULL; m = strtok_r(NULL, ",", &save2)) {
            assert_true(n < cap);
            snprintf(out[n].cipher, sizeof(out[n].cipher), "%s", c);
            snprintf(out[n++].mac, sizeof(out[n].mac), "%s", m);
        }
    }
    return n;
}

struct pair {
    struct amk_pkt_cipher *enc, *dec;
    const struct amk_cipher_info *ci;
    const struct amk_mac_info *mi;
    uint8_t key[AMK_CIPHER_MAX_KEY_LEN], iv[AMK_CIPHER_MAX_IV_LEN], mkey[AMK_MAC_MAX_KEY_LEN];
};

static void
fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 31 + seed * 17 + 3);
}

static void
pair_new(struct pair *p, const struct combo *c)
{
    memset(p, 0, sizeof(*p));
    p->ci = amk_cipher_info_find(c->cipher);
    assert_non_null(p->ci);
    p->mi = c->mac[0] != '\0' ? amk_mac_info_find(c->mac) : NULL;
    fill_pattern(p->key, sizeof(p->key), 1);
    fill_pattern(p->iv, sizeof(p->iv), 2);
    fill_pattern(p->mkey, sizeof(p->mkey), 3);
    ASSERT_OK(amk_pkt_cipher_new(&p->enc, c->cipher, p->mi ? c->mac : NULL, 1,
        p->key, p->iv, p->mkey));
    ASSERT_OK(amk_pkt_cipher_new(&p->dec, c->cipher, p->mi ? c->mac : NULL, 0,
        p->key, p->iv, p->mkey));
}

static void
pair_free(struct pair *p)
{
    amk_pkt_cipher_free(p->enc);
    amk_pkt_cipher_free(p->dec);
}

/*
 * Lays out an RFC 4253 §6 packet with @p payload_len bytes of payload and
 * at least 4 bytes of padding, so (len - aad_len) is a multiple of the
 * block size and len >= 16. Returns len.
 */
static size_t
build_packet(const struct amk_pkt_cipher *c, uint8_t *buf, size_t payload_len, unsigned seed)
{
    size_t bs = amk_pkt_cipher_block_size(c), aad = amk_pkt_cipher_aad_len(c);
    size_t pad = bs - (4 + 1 + payload_len - aad) % bs;
    size_t len;

    if (pad < 4)
        pad += bs;
    while (4 + 1 + payload_len + pad < 16)
        pad += bs;
    len = 4 + 1 + payload_len + pad;
    assert_true(len <= PKT_BUF_LEN);
    buf[0] = (uint8_t)((len - 4) >> 24);
    buf[1] = (uint8_t)((len - 4) >> 16);
    buf[2] = (uint8_t)((len - 4) >> 8);
    buf[3] = (uint8_t)(len - 4);
    buf[4] = (uint8_t)pad;
    fill_pattern(buf + 5, payload_len + pad, seed);
    assert_int_equal((len - aad) % bs, 0);
    return len;
}

static void
test_amk_pkt_roundtrip_all_combos(void **state)
{
    static const size_t sizes[] = { 0, 1, 15, 16, 100, 1000, 32768 };
    static const uint32_t bases[] = { 0, 0xfffffffdu };     /* the second wraps (RFC 4253 §6.4) */
    struct combo combos[64];
    size_t ncombos = all_combos(combos, NELEM(combos));
    uint8_t *pkt = malloc(PKT_BUF_LEN), *plain = malloc(PKT_BUF_LEN);
    uint8_t tag[AMK_PKT_MAX_TAG_LEN], head[16];

    assert_non_null(pkt);
    assert_non_null(plain);
    assert_int_equal(ncombos, 3 + 6 * 6);
    for (size_t ci = 0; ci < ncombos; ci++) {
        for (size_t b = 0; b < NELEM(bases); b++) {
            struct pair p;

            pair_new(&p, &combos[ci]);
            for (size_t i = 0; i < NELEM(sizes); i++) {
                uint32_t seq = bases[b] + (uint32_t)i, plen = 0;
                size_t len = build_packet(p.enc, pkt, sizes[i], (unsigned)i);
                size_t lb = amk_pkt_cipher_length_bytes(p.dec);

                memcpy(plain, pkt, len);
                ASSERT_OK(amk_pkt_seal(p.enc, seq, pkt, len, tag));
                assert_memory_not_equal(pkt + 4, plain + 4, len - 4);
                memcpy(head, pkt, lb);
                ASSERT_OK(amk_pkt_decrypt_length(p.dec, seq, pkt, &plen));
                assert_int_equal(plen, len - 4);
                if (amk_pkt_cipher_aad_len(p.dec) > 0)
                    assert_memory_equal(pkt, head, lb);   /* nothing decrypted yet */
                ASSERT_OK(amk_pkt_open(p.dec, seq, pkt, len, tag));
                if (memcmp(pkt, plain, len) != 0)
                    fail_msg("%s %s size %zu seq %u: plaintext differs", combos[ci].cipher,
                        combos[ci].mac, sizes[i], seq);
            }
            pair_free(&p);
        }
    }
    free(pkt);
    free(plain);
}

static void
test_amk_pkt_open_bit_flip_is_emac(void **state)
{
    struct combo combos[64];
    size_t ncombos = all_combos(combos, NELEM(combos));
    uint8_t pkt[128], plain[128], tampered[128], tag[AMK_PKT_MAX_TAG_LEN];

    for (size_t ci = 0; ci < ncombos; ci++) {
        struct pair p;
        size_t len, tlen, positions;

        pair_new(&p, &combos[ci]);
        len = build_packet(p.enc, pkt, 40, 9);
        tlen = amk_pkt_cipher_tag_len(p.enc);
        positions = len + tlen;
        pair_free(&p);
        for (size_t pos = 0; pos < positions; pos++) {
            uint32_t plen;
            int aead_or_etm, gcm;

            pair_new(&p, &combos[ci]);
            aead_or_etm = amk_pkt_cipher_aad_len(p.dec) > 0;
            gcm = strstr(combos[ci].cipher, "gcm") != NULL;
            assert_int_equal(build_packet(p.enc, pkt, 40, 9), len);
            memcpy(plain, pkt, len);
            ASSERT_OK(amk_pkt_seal(p.enc, 77, pkt, len, tag));
            if (pos < len)
                pkt[pos] ^= (uint8_t)(1u << (pos % 8));
            else
                tag[pos - len] ^= (uint8_t)(1u << (pos % 8));
            ASSERT_OK(amk_pkt_decrypt_length(p.dec, 77, pkt, &plen));
            memcpy(tampered, pkt, len);
            if (amk_pkt_open(p.dec, 77, pkt, len, tag) != AMK_EMAC)
                fail_msg("%s %s: flip at %zu not detected", combos[ci].cipher, combos[ci].mac, pos);
            if (gcm || !aead_or_etm) {
                /* GCM and encrypt-and-MAC wipe what they decrypted: no plaintext escapes. */
                for (size_t j = gcm ? 4 : 0; j < len; j++)
                    assert_int_equal(pkt[j], 0);
            } else {
                /* Checked before decryption: the buffer is still the ciphertext. */
                assert_memory_equal(pkt, tampered, len);
            }
            pair_free(&p);
        }
    }
}

static void
test_amk_pkt_open_wrong_seq_is_emac(void **state)
{
    static const uint32_t wrong[] = { 11, 9, 10u + 0x80000000u, 0 };
    struct combo combos[64];
    size_t ncombos = all_combos(combos, NELEM(combos));
    uint8_t pkt[256], copy[256], tag[AMK_PKT_MAX_TAG_LEN];

    for (size_t ci = 0; ci < ncombos; ci++) {
        if (strstr(combos[ci].cipher, "gcm") != NULL)
            continue;   /* GCM's nonce is its own counter: see the next test */
        for (size_t w = 0; w < NELEM(wrong); w++) {
            struct pair p;
            uint32_t plen;
            size_t len;

            pair_new(&p, &combos[ci]);
            len = build_packet(p.enc, pkt, 100, 4);
            ASSERT_OK(amk_pkt_seal(p.enc, 10, pkt, len, tag));
            memcpy(copy, pkt, len);
            ASSERT_OK(amk_pkt_decrypt_length(p.dec, wrong[w], pkt, &plen));
            ASSERT_AMK(AMK_EMAC, amk_pkt_open(p.dec, wrong[w], pkt, len, tag));
            pair_free(&p);
            /* The same packet with the right number opens. */
            pair_new(&p, &combos[ci]);
            memcpy(pkt, copy, len);
            ASSERT_OK(amk_pkt_decrypt_length(p.dec, 10, pkt, &plen));
            ASSERT_OK(amk_pkt_open(p.dec, 10, pkt, len, tag));
            pair_free(&p);
        }
    }
}

static void
test_amk_pkt_gcm_reordered_packet_is_emac(void **state)
{
    static const char *const names[] = { "aes128-gcm@openssh.com", "aes256-gcm@openssh.com" };
    uint8_t p1[64], p2[64], t1[16], t2[16];

    for (size_t i = 0; i < NELEM(names); i++) {
        struct combo c;
        struct pair p;
        size_t len;

        snprintf(c.cipher, sizeof(c.cipher), "%s", names[i]);
        c.mac[0] = '\0';
        pair_new(&p, &c);
        len = build_packet(p.enc, p1, 20, 1);
        assert_int_equal(build_packet(p.enc, p2, 20, 2), len);
        ASSERT_OK(amk_pkt_seal(p.enc, 0, p1, len, t1));
        ASSERT_OK(amk_pkt_seal(p.enc, 1, p2, len, t2));
        /* Packet 2 under invocation counter 1 of the receiver: wrong nonce. */
        ASSERT_AMK(AMK_EMAC, amk_pkt_open(p.dec, 1, p2, len, t2));
        pair_free(&p);
    }
}

static void
test_amk_pkt_gcm_iv_counter_advances(void **state)
{
    /* RFC 5647 §7.1: fixed(4) || invocation_counter(8), += 1 per packet, mod 2^64. */
    static const struct {
        const char *iv0, *iv1, *iv2;
    } ivs[] = {
        { "00112233" "0000000000000000", "00112233" "0000000000000001",
          "00112233" "0000000000000002" },
        { "a1a2a3a4" "00000000000000fe", "a1a2a3a4" "00000000000000ff",
          "a1a2a3a4" "0000000000000100" },
        { "cafebabe" "fffffffffffffffe", "cafebabe" "ffffffffffffffff",
          "cafebabe" "0000000000000000" },
    };
    static const char *const names[] = { "aes128-gcm@openssh.com", "aes256-gcm@openssh.com" };
    uint8_t key[32], pkt[64], plain[64], want[64], tag[16], want_tag[16];

    fill_pattern(key, sizeof(key), 5);
    for (size_t n = 0; n < NELEM(names); n++) {
        const struct amk_cipher_info *ci = amk_cipher_info_find(names[n]);
        for (size_t v = 0; v < NELEM(ivs); v++) {
            struct amk_pkt_cipher *enc = NULL, *dec = NULL;
            const char *const seq_ivs[3] = { ivs[v].iv0, ivs[v].iv1, ivs[v].iv2 };
            size_t ivl;
            uint8_t *iv = test_unhex(ivs[v].iv0, &ivl);
            size_t len = 0;

            ASSERT_OK(amk_pkt_cipher_new(&enc, names[n], NULL, 1, key, iv, NULL));
            ASSERT_OK(amk_pkt_cipher_new(&dec, names[n], NULL, 0, key, iv, NULL));
            for (int k = 0; k < 3; k++) {
                uint8_t *kiv = test_unhex(seq_ivs[k], &ivl);
                /* The same packet every time: the ciphertext must still change. */
                len = build_packet(enc, pkt, 30, 7);
                memcpy(plain, pkt, len);
                ASSERT_OK(amk_pkt_seal(enc, (uint32_t)k, pkt, len, tag));
                /* Independent composition: GCM(key, iv_k, aad = length, body). */
                memcpy(want, plain, 4);
                ASSERT_OK(amk_aes_gcm_seal(key, ci->key_len, kiv, plain, 4, plain + 4, want + 4,
                    len - 4, want_tag));
                assert_memory_equal(pkt, want, len);
                assert_memory_equal(tag, want_tag, 16);
                ASSERT_OK(amk_pkt_open(dec, (uint32_t)k, pkt, len, tag));
                assert_memory_equal(pkt, plain, len);
                free(kiv);
            }
            amk_pkt_cipher_free(enc);
            amk_pkt_cipher_free(dec);
            free(iv);
        }
    }
}

static void
test_amk_pkt_gcm_same_packet_twice_differs(void **state)
{
    struct combo c = { "aes256-gcm@openssh.com", "" };
    struct pair p;
    uint8_t a[64], b[64], ta[16], tb[16];
    size_t len;

    pair_new(&p, &c);
    len = build_packet(p.enc, a, 25, 3);
    memcpy(b, a, len);
    ASSERT_OK(amk_pkt_seal(p.enc, 0, a, len, ta));
    ASSERT_OK(amk_pkt_seal(p.enc, 0, b, len, tb));
    assert_memory_equal(a, b, 4);               /* the length is in clear */
    assert_memory_not_equal(a + 4, b + 4, len - 4);
    assert_memory_not_equal(ta, tb, 16);
    pair_free(&p);
}

/* Writes ChaCha state words 12..15 for the 64-bit form: counter (LE64) || seq (BE64). */
static void
ssh_chacha_iv(uint8_t iv[16], uint64_t counter, uint32_t seq)
{
    memset(iv, 0, 16);
    for (int i = 0; i < 8; i++)
        iv[i] = (uint8_t)(counter >> (8 * i));
    iv[12] = (uint8_t)(seq >> 24);
    iv[13] = (uint8_t)(seq >> 16);
    iv[14] = (uint8_t)(seq >> 8);
    iv[15] = (uint8_t)seq;
}

static void
test_amk_pkt_chachapoly_matches_composition(void **state)
{
    /* OpenSSH PROTOCOL.chacha20poly1305, composed from RFC 8439 primitives. */
    static const uint32_t seqs[] = { 0, 1, 3, 0x01020304u, 0xffffffffu };
    static const size_t sizes[] = { 0, 27, 300 };
    uint8_t key[64], pkt[512], plain[512], want[512], tag[16], want_tag[16];
    uint8_t iv[16], polykey[32], zeros[32] = { 0 };
    struct amk_pkt_cipher *enc = NULL, *dec = NULL;
    const uint8_t *k2 = key, *k1 = key + 32;    /* K_2 main, K_1 header */

    fill_pattern(key, sizeof(key), 11);
    ASSERT_OK(amk_pkt_cipher_new(&enc, "chacha20-poly1305@openssh.com", NULL, 1, key, NULL, NULL));
    ASSERT_OK(amk_pkt_cipher_new(&dec, "chacha20-poly1305@openssh.com", NULL, 0, key, NULL, NULL));
    for (size_t s = 0; s < NELEM(seqs); s++) {
        for (size_t z = 0; z < NELEM(sizes); z++) {
            size_t len = build_packet(enc, pkt, sizes[z], (unsigned)(s + z));
            uint32_t plen = 0;

            memcpy(plain, pkt, len);
            /* packet_length under K_1, block counter 0 */
            ssh_chacha_iv(iv, 0, seqs[s]);
            ASSERT_OK(amk_chacha20_xor(k1, iv, plain, want, 4));
            /* Poly1305 key: first 32 bytes of K_2 block 0 */
            ASSERT_OK(amk_chacha20_xor(k2, iv, zeros, polykey, 32));
            /* the rest under K_2 from block counter 1 */
            ssh_chacha_iv(iv, 1, seqs[s]);
            ASSERT_OK(amk_chacha20_xor(k2, iv, plain + 4, want + 4, len - 4));
            ASSERT_OK(amk_poly1305(polykey, want, len, want_tag));

            ASSERT_OK(amk_pkt_seal(enc, seqs[s], pkt, len, tag));
            assert_memory_equal(pkt, want, len);
            assert_memory_equal(tag, want_tag, 16);
            ASSERT_OK(amk_pkt_decrypt_length(dec, seqs[s], pkt, &plen));
            assert_int_equal(plen, len - 4);
            assert_memory_equal(pkt, want, 4);   /* decrypt_length leaves the buffer alone */
            ASSERT_OK(amk_pkt_decrypt_length(dec, seqs[s], pkt, &plen));
            assert_int_equal(plen, len - 4);
            ASSERT_OK(amk_pkt_open(dec, seqs[s], pkt, len, tag));
            assert_memory_equal(pkt, plain, len);
        }
    }
    amk_pkt_cipher_free(enc);
    amk_pkt_cipher_free(dec);
}

/*
 * A fixed packet whose expected output was computed outside OpenSSL, with
 * a from-the-specification Python implementation of
 * PROTOCOL.chacha20poly1305: DJB's ChaCha20 block function with 64-bit
 * counter (state words 12-13) and 64-bit nonce (words 14-15), and Poly1305
 * per RFC 8439 §2.5.1. It pins down the counter/nonce layout that the
 * composition test above takes from the same OpenSSL primitive.
 * key[i] = i*7+1, seq = 0x01020304, packet[i] = i*3 with packet_length 32.
 * Reproduce with tests/vectors/chacha20poly1305_openssh.py.
 */
static void
test_amk_pkt_chachapoly_independent_vector(void **state)
{
    uint8_t key[64], pkt[36], plain[36], tag[16];
    struct amk_pkt_cipher *enc = NULL, *dec = NULL;

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(pkt); i++)
        pkt[i] = (uint8_t)(i * 3);
    memcpy(pkt, "\x00\x00\x00\x20", 4);
    memcpy(plain, pkt, sizeof(pkt));
    ASSERT_OK(amk_pkt_cipher_new(&enc, "chacha20-poly1305@openssh.com", NULL, 1, key, NULL, NULL));
    ASSERT_OK(amk_pkt_cipher_new(&dec, "chacha20-poly1305@openssh.com", NULL, 0, key, NULL, NULL));
    ASSERT_OK(amk_pkt_seal(enc, 0x01020304, pkt, sizeof(pkt), tag));
    ASSERT_HEX("ca853fa1 9893b1c023773e06582a3c80c34fa398bf91dec12bf702af39195d1ff4717d84",
        pkt, sizeof(pkt));
    ASSERT_HEX("acd048aee99b1285549f95c9b6995c86", tag, sizeof(tag));
    ASSERT_OK(amk_pkt_open(dec, 0x01020304, pkt, sizeof(pkt), tag));
    assert_memory_equal(pkt, plain, sizeof(pkt));
    amk_pkt_cipher_free(enc);
    amk_pkt_cipher_free(dec);
}

static void
test_amk_pkt_chachapoly_key_halves_not_swapped(void **state)
{
    /* Swapping K_1 and K_2 must give a different packet: the halves have roles. */
    uint8_t key[64], swapped[64], a[64], b[64], ta[16], tb[16];
    struct amk_pkt_cipher *ea = NULL, *eb = NULL;
    size_t len;

    fill_pattern(key, sizeof(key), 12);
    memcpy(swapped, key + 32, 32);
    memcpy(swapped + 32, key, 32);
    ASSERT_OK(amk_pkt_cipher_new(&ea, "chacha20-poly1305@openssh.com", NULL, 1, key, NULL, NULL));
    ASSERT_OK(amk_pkt_cipher_new(&eb, "chacha20-poly1305@openssh.com", NULL, 1, swapped, NULL, NULL));
    len = build_packet(ea, a, 10, 1);
    memcpy(b, a, len);
    ASSERT_OK(amk_pkt_seal(ea, 5, a, len, ta));
    ASSERT_OK(amk_pkt_seal(eb, 5, b, len, tb));
    assert_memory_not_equal(a, b, 4);
    assert_memory_not_equal(a + 4, b + 4, len - 4);
    amk_pkt_cipher_free(ea);
    amk_pkt_cipher_free(eb);
}

/*
 * The CTR and CBC constructions against SP 800-38A: two 32-byte packet
 * bodies in a row must give the 64-byte F.5 / F.2 ciphertext, since the
 * counter (RFC 4344 §4) and the CBC chain (RFC 4253 §6.3) run on across
 * packets; the MAC is RFC 4253 §6.4 HMAC over seq || (plaintext or, for
 * EtM, length || ciphertext), recomputed here with amk_hmac.
 */
static void
check_aes_construction(const char *cipher, const char *mac, const char *key_hex,
    const char *iv_hex, const char *want_hex)
{
    const struct amk_mac_info *mi = amk_mac_info_find(mac);
    struct amk_pkt_cipher *enc = NULL, *dec = NULL;
    size_t kl, il, pl, wl, aad;
    uint8_t *key = test_unhex(key_hex, &kl);
    uint8_t *iv = test_unhex(iv_hex, &il);
    uint8_t *plain = test_unhex(SP800_38A_PLAIN, &pl);
    uint8_t *want = test_unhex(want_hex, &wl);
    uint8_t mkey[64], pkt[36], orig[36], tag[64], mac_in[40], want_tag[64];

    fill_pattern(mkey, sizeof(mkey), 6);
    assert_non_null(mi);
    ASSERT_OK(amk_pkt_cipher_new(&enc, cipher, mac, 1, key, iv, mkey));
    ASSERT_OK(amk_pkt_cipher_new(&dec, cipher, mac, 0, key, iv, mkey));
    aad = amk_pkt_cipher_aad_len(enc);
    for (uint32_t k = 0; k < 2; k++) {
        size_t len = aad + 32;
        uint32_t plen;

        /* EtM: an arbitrary clear length then the body; else the body is the packet. */
        memcpy(pkt, "\x00\x00\x00\x20", aad);
        memcpy(pkt + aad, plain + 32 * k, 32);
        memcpy(orig, pkt, len);
        ASSERT_OK(amk_pkt_seal(enc, 1000 + k, pkt, len, tag));
        assert_memory_equal(pkt, orig, aad);
        assert_memory_equal(pkt + aad, want + 32 * k, 32);
        mac_in[0] = 0; mac_in[1] = 0; mac_in[2] = 0x03; mac_in[3] = (uint8_t)(0xe8 + k);
        memcpy(mac_in + 4, mi->etm ? pkt : orig, len);
        ASSERT_OK(amk_hmac(mi->hash, mkey, mi->key_len, mac_in, 4 + len, want_tag));
        assert_memory_equal(tag, want_tag, mi->mac_len);
        ASSERT_OK(amk_pkt_decrypt_length(dec, 1000 + k, pkt, &plen));
        ASSERT_OK(amk_pkt_open(dec, 1000 + k, pkt, len, tag));
        assert_memory_equal(pkt, orig, len);
    }
    amk_pkt_cipher_free(enc);
    amk_pkt_cipher_free(dec);
    free(key); free(iv); free(plain); free(want);
}

static void
test_amk_pkt_aes_ctr_cbc_match_sp800_38a(void **state)
{
    static const char *const macs[] = { "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512",
        "hmac-sha1", "hmac-sha1-etm@openssh.com" };
    static const char *const ctr[] = { "aes128-ctr", "aes192-ctr", "aes256-ctr" };
    static const char *const cbc[] = { "aes128-cbc", "aes192-cbc", "aes256-cbc" };

    for (size_t m = 0; m < NELEM(macs); m++) {
        for (size_t i = 0; i < 3; i++) {
            print_message("%s %s / %s %s\n", ctr[i], macs[m], cbc[i], macs[m]);
            check_aes_construction(ctr[i], macs[m], KAT_AES_CTR[i].key, KAT_AES_CTR[i].iv,
                KAT_AES_CTR[i].cipher);
            check_aes_construction(cbc[i], macs[m], KAT_AES_CBC[i].key, KAT_AES_CBC[i].iv,
                KAT_AES_CBC[i].cipher);
        }
    }
}

static void
test_amk_pkt_decrypt_length_in_place_modes(void **state)
{
    /* Encrypt-and-MAC: decrypt_length decrypts block 1 in place, once. */
    static const char *const ciphers[] = { "aes128-ctr", "aes256-cbc" };
    uint8_t pkt[128], plain[128], tag[64];

    for (size_t i = 0; i < NELEM(ciphers); i++) {
        struct combo c;
        struct pair p;
        uint32_t plen = 0;
        size_t len;

        snprintf(c.cipher, sizeof(c.cipher), "%s", ciphers[i]);
        snprintf(c.mac, sizeof(c.mac), "hmac-sha2-256");
        pair_new(&p, &c);
        assert_int_equal(amk_pkt_cipher_length_bytes(p.dec), 16);
        assert_int_equal(amk_pkt_cipher_aad_len(p.dec), 0);
        /* packet 1: decrypt_length twice (idempotent), then open */
        len = build_packet(p.enc, pkt, 50, 1);
        memcpy(plain, pkt, len);
        ASSERT_OK(amk_pkt_seal(p.enc, 0, pkt, len, tag));
        ASSERT_OK(amk_pkt_decrypt_length(p.dec, 0, pkt, &plen));
        assert_int_equal(plen, len - 4);
        assert_memory_equal(pkt, plain, 16);
        ASSERT_OK(amk_pkt_decrypt_length(p.dec, 0, pkt, &plen));
        assert_int_equal(plen, len - 4);
        ASSERT_OK(amk_pkt_open(p.dec, 0, pkt, len, tag));
        assert_memory_equal(pkt, plain, len);
        /* packet 2: open without decrypt_length also works */
        len = build_packet(p.enc, pkt, 70, 2);
        memcpy(plain, pkt, len);
        ASSERT_OK(amk_pkt_seal(p.enc, 1, pkt, len, tag));
        ASSERT_OK(amk_pkt_open(p.dec, 1, pkt, len, tag));
        assert_memory_equal(pkt, plain, len);
        pair_free(&p);
    }
}

static void
test_amk_pkt_decrypt_length_clear_modes(void **state)
{
    static const struct combo combos[] = {
        { "aes128-gcm@openssh.com", "" },
        { "aes192-ctr", "hmac-sha2-512-etm@openssh.com" },
        { "aes128-cbc", "hmac-sha1-etm@openssh.com" },
    };
    uint8_t pkt[128], tag[64];

    for (size_t i = 0; i < NELEM(combos); i++) {
        struct pair p;
        uint32_t plen = 0;
        size_t len;

        pair_new(&p, &combos[i]);
        assert_int_equal(amk_pkt_cipher_length_bytes(p.dec), 4);
        assert_int_equal(amk_pkt_cipher_aad_len(p.dec), 4);
        len = build_packet(p.enc, pkt, 33, 1);
        ASSERT_OK(amk_pkt_seal(p.enc, 3, pkt, len, tag));
        /* OpenSSH PROTOCOL §1.5 / RFC 5647 §7.3: the length goes in clear. */
        assert_int_equal(((uint32_t)pkt[0] << 24 | pkt[1] << 16 | pkt[2] << 8 | pkt[3]), len - 4);
        ASSERT_OK(amk_pkt_decrypt_length(p.dec, 3, pkt, &plen));
        assert_int_equal(plen, len - 4);
        pair_free(&p);
    }
}

static void
test_amk_pkt_hostile_lengths(void **state)
{
    /* A decrypted length is unauthenticated: any value comes back for the caller to bound. */
    struct combo c = { "aes256-ctr", "hmac-sha2-256-etm@openssh.com" };
    struct pair p;
    uint8_t pkt[64] = { 0xff, 0xff, 0xff, 0xff }, tag[64] = { 0 };
    uint32_t plen = 0;

    pair_new(&p, &c);
    ASSERT_OK(amk_pkt_decrypt_length(p.dec, 0, pkt, &plen));
    assert_int_equal(plen, 0xffffffffu);
    /* Lengths that are not 4 + whole blocks are refused before any work. */
    ASSERT_AMK(AMK_EPROTO, amk_pkt_open(p.dec, 0, pkt, 0, tag));
    ASSERT_AMK(AMK_EPROTO, amk_pkt_open(p.dec, 0, pkt, 4, tag));
    ASSERT_AMK(AMK_EPROTO, amk_pkt_open(p.dec, 0, pkt, 21, tag));
    ASSERT_AMK(AMK_EPROTO, amk_pkt_open(p.dec, 0, pkt, 35, tag));
    ASSERT_AMK(AMK_EPROTO, amk_pkt_open(p.dec, 0, pkt, (size_t)0x80000004u, tag));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_seal(p.enc, 0, pkt, 21, tag));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_seal(p.enc, 0, pkt, 4, tag));
    pair_free(&p);
}

static void
test_amk_pkt_wrong_direction_is_estate(void **state)
{
    struct combo c = { "chacha20-poly1305@openssh.com", "" };
    struct pair p;
    uint8_t pkt[64] = { 0 }, tag[64] = { 0 };
    uint32_t plen;

    pair_new(&p, &c);
    ASSERT_AMK(AMK_ESTATE, amk_pkt_seal(p.dec, 0, pkt, 20, tag));
    ASSERT_AMK(AMK_ESTATE, amk_pkt_open(p.enc, 0, pkt, 20, tag));
    ASSERT_AMK(AMK_ESTATE, amk_pkt_decrypt_length(p.enc, 0, pkt, &plen));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_open(p.dec, 0, NULL, 20, tag));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_seal(p.enc, 0, pkt, 20, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_decrypt_length(p.dec, 0, NULL, &plen));
    pair_free(&p);
}

static void
test_amk_pkt_cipher_new_rejects(void **state)
{
    struct amk_pkt_cipher *c = (struct amk_pkt_cipher *)1;
    uint8_t key[64] = { 0 }, iv[16] = { 0 }, mkey[64] = { 0 };

    ASSERT_AMK(AMK_ENOTSUP, amk_pkt_cipher_new(&c, "aes128-ofb", "hmac-sha2-256", 1, key, iv, mkey));
    assert_null(c);
    ASSERT_AMK(AMK_ENOTSUP, amk_pkt_cipher_new(&c, NULL, "hmac-sha2-256", 1, key, iv, mkey));
    ASSERT_AMK(AMK_ENOTSUP, amk_pkt_cipher_new(&c, "aes128-ctr", NULL, 1, key, iv, mkey));
    ASSERT_AMK(AMK_ENOTSUP, amk_pkt_cipher_new(&c, "aes128-ctr", "hmac-md5", 1, key, iv, mkey));
    ASSERT_AMK(AMK_ENOTSUP, amk_pkt_cipher_new(&c, "AES128-CTR", "hmac-sha2-256", 1, key, iv, mkey));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_cipher_new(&c, "aes128-ctr", "hmac-sha2-256", 1, NULL, iv, mkey));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_cipher_new(&c, "aes128-ctr", "hmac-sha2-256", 1, key, NULL, mkey));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_cipher_new(&c, "aes128-ctr", "hmac-sha2-256", 1, key, iv, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_cipher_new(&c, "aes128-gcm@openssh.com", NULL, 1, key, NULL, NULL));
    assert_null(c);
    /* An AEAD cipher ignores the MAC argument, whatever it is. */
    ASSERT_OK(amk_pkt_cipher_new(&c, "aes128-gcm@openssh.com", "bogus", 1, key, iv, NULL));
    assert_int_equal(amk_pkt_cipher_tag_len(c), 16);
    amk_pkt_cipher_free(c);
    amk_pkt_cipher_free(NULL);
}

static void
test_amk_cipher_names_and_descriptors(void **state)
{
    char buf[512];
    char *save = NULL;
    size_t n = 0;
    const struct amk_cipher_info *ci;
    const struct amk_mac_info *mi;

    assert_string_equal(amk_cipher_names(),
        "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
        "aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,aes192-cbc,aes256-cbc");
    assert_string_equal(amk_mac_names(),
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,"
        "hmac-sha2-512,hmac-sha1-etm@openssh.com,hmac-sha1");
    snprintf(buf, sizeof(buf), "%s", amk_cipher_names());
    for (char *s = strtok_r(buf, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save), n++) {
        assert_non_null(ci = amk_cipher_info_find(s));
        assert_string_equal(ci->name, s);
        assert_int_equal(ci->legacy, strstr(s, "-cbc") != NULL);
        assert_true(ci->key_len <= AMK_CIPHER_MAX_KEY_LEN);
        assert_true(ci->iv_len <= AMK_CIPHER_MAX_IV_LEN);
    }
    assert_int_equal(n, 9);
    snprintf(buf, sizeof(buf), "%s", amk_mac_names());
    n = 0;
    for (char *s = strtok_r(buf, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save), n++) {
        assert_non_null(mi = amk_mac_info_find(s));
        assert_string_equal(mi->name, s);
        assert_int_equal(mi->etm, strstr(s, "-etm@openssh.com") != NULL);
        assert_int_equal(mi->legacy, mi->hash == AMK_HASH_SHA1);
        assert_int_equal(mi->mac_len, amk_hash_len(mi->hash));
        assert_true(mi->key_len <= AMK_MAC_MAX_KEY_LEN);
    }
    assert_int_equal(n, 6);
    /* PROTOCOL.chacha20poly1305: 512 bits of key, no IV, 16-byte tag. */
    ci = amk_cipher_info_find("chacha20-poly1305@openssh.com");
    assert_int_equal(ci->key_len, 64);
    assert_int_equal(ci->iv_len, 0);
    assert_int_equal(ci->block_size, 8);
    assert_int_equal(ci->tag_len, 16);
    /* RFC 5647 §7.1: 12-byte IV; block 16 */
    ci = amk_cipher_info_find("aes256-gcm@openssh.com");
    assert_int_equal(ci->key_len, 32);
    assert_int_equal(ci->iv_len, 12);
    assert_int_equal(ci->block_size, 16);
    ci = amk_cipher_info_find("aes192-ctr");
    assert_int_equal(ci->key_len, 24);
    assert_int_equal(ci->tag_len, 0);
    /* RFC 6668 §2: hmac-sha2-512 has a 64-byte key and MAC */
    mi = amk_mac_info_find("hmac-sha2-512");
    assert_int_equal(mi->key_len, 64);
    assert_null(amk_cipher_info_find("aes128-gcm"));
    assert_null(amk_cipher_info_find(""));
    assert_null(amk_cipher_info_find(NULL));
    assert_null(amk_mac_info_find("hmac-sha2-256-etm"));
    assert_null(amk_mac_info_find(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_chacha20_xor_kat),
        cmocka_unit_test(test_amk_chacha20_xor_counter_and_nonce_matter),
        cmocka_unit_test(test_amk_poly1305_kat),
        cmocka_unit_test(test_amk_aes_ctr_xor_kat),
        cmocka_unit_test(test_amk_aes_cbc_kat),
        cmocka_unit_test(test_amk_aes_primitives_reject_bad_sizes),
        cmocka_unit_test(test_amk_aes_gcm_kat),
        cmocka_unit_test(test_amk_cipher_names_and_descriptors),
        cmocka_unit_test(test_amk_pkt_cipher_new_rejects),
        cmocka_unit_test(test_amk_pkt_roundtrip_all_combos),
        cmocka_unit_test(test_amk_pkt_open_bit_flip_is_emac),
        cmocka_unit_test(test_amk_pkt_open_wrong_seq_is_emac),
        cmocka_unit_test(test_amk_pkt_gcm_reordered_packet_is_emac),
        cmocka_unit_test(test_amk_pkt_gcm_iv_counter_advances),
        cmocka_unit_test(test_amk_pkt_gcm_same_packet_twice_differs),
        cmocka_unit_test(test_amk_pkt_chachapoly_matches_composition),
        cmocka_unit_test(test_amk_pkt_chachapoly_independent_vector),
        cmocka_unit_test(test_amk_pkt_chachapoly_key_halves_not_swapped),
        cmocka_unit_test(test_amk_pkt_aes_ctr_cbc_match_sp800_38a),
        cmocka_unit_test(test_amk_pkt_decrypt_length_in_place_modes),
        cmocka_unit_test(test_amk_pkt_decrypt_length_clear_modes),
        cmocka_unit_test(test_amk_pkt_hostile_lengths),
        cmocka_unit_test(test_amk_pkt_wrong_direction_is_estate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
