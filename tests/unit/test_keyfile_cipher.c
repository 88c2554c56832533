/* Unit tests for src/crypto/keyfile_cipher.c. */
#include "test_helper.h"

#include "crypto/keyfile_cipher.h"

static const char *all_ciphers[] = {
    "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
    "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
};

#define NCIPHERS (sizeof(all_ciphers) / sizeof(all_ciphers[0]))

static void
test_amk_keyfile_cipher_find(void **state)
{
    const struct amk_keyfile_cipher *c;

    assert_non_null(c = amk_keyfile_cipher_find("aes256-ctr"));
    assert_int_equal(c->key_len, 32);
    assert_int_equal(c->iv_len, 16);
    assert_non_null(c = amk_keyfile_cipher_find("chacha20-poly1305@openssh.com"));
    assert_int_equal(c->key_len, 64);
    assert_int_equal(c->tag_len, 16);
    assert_int_equal(c->block_size, 8);
    assert_non_null(amk_keyfile_cipher_find("none"));
    assert_null(amk_keyfile_cipher_find("aes256-CTR"));
    assert_null(amk_keyfile_cipher_find("3des-cbc"));
    assert_null(amk_keyfile_cipher_find(""));
}

/* NIST SP 800-38A F.5.5 CTR-AES256.Encrypt and F.2.5 CBC-AES256.Encrypt, block 1. */
static void
test_amk_keyfile_crypt_sp800_38a(void **state)
{
    size_t kl, il, pl;
    uint8_t *key = test_unhex("603deb1015ca71be2b73aef0857d7781"
                              "1f352c073b6108d72d9810a30914dff4", &kl);
    uint8_t *ctr_iv = test_unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", &il);
    uint8_t *cbc_iv = test_unhex("000102030405060708090a0b0c0d0e0f", &il);
    uint8_t *pt = test_unhex("6bc1bee22e409f96e93d7e117393172a", &pl);
    uint8_t out[16];

    ASSERT_OK(amk_keyfile_crypt(amk_keyfile_cipher_find("aes256-ctr"), 1, key, ctr_iv, pt, 16,
        out, NULL));
    ASSERT_HEX("601ec313775789a5b7a7f504bbf3d228", out, 16);
    ASSERT_OK(amk_keyfile_crypt(amk_keyfile_cipher_find("aes256-cbc"), 1, key, cbc_iv, pt, 16,
        out, NULL));
    ASSERT_HEX("f58c4c04d6e5f1ba779eabfb5f7bfbd6", out, 16);
    ASSERT_OK(amk_keyfile_crypt(amk_keyfile_cipher_find("aes256-cbc"), 0, key, cbc_iv, out, 16,
        out, NULL));
    assert_memory_equal(out, pt, 16);
    free(key);
    free(ctr_iv);
    free(cbc_iv);
    free(pt);
}

static void
test_amk_keyfile_crypt_round_trip(void **state)
{
    uint8_t key[AMK_KEYFILE_MAX_KEY_LEN], iv[AMK_KEYFILE_MAX_IV_LEN], tag[16];
    uint8_t plain[64], buf[64];

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(iv); i++)
        iv[i] = (uint8_t)(0xa0 + i);
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)i;
    for (size_t c = 0; c < NCIPHERS; c++) {
        const struct amk_keyfile_cipher *ci = amk_keyfile_cipher_find(all_ciphers[c]);
        assert_non_null(ci);
        memcpy(buf, plain, sizeof(buf));
        ASSERT_OK(amk_keyfile_crypt(ci, 1, key, iv, buf, sizeof(buf), buf, tag));
        assert_memory_not_equal(buf, plain, sizeof(buf));
        ASSERT_OK(amk_keyfile_crypt(ci, 0, key, iv, buf, sizeof(buf), buf, tag));
        assert_memory_equal(buf, plain, sizeof(buf));
    }
}

static void
test_amk_keyfile_crypt_aead_rejects_tampering(void **state)
{
    static const char *aead[] = { "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com" };
    uint8_t key[AMK_KEYFILE_MAX_KEY_LEN] = { 1 }, iv[AMK_KEYFILE_MAX_IV_LEN] = { 2 }, tag[16];
    uint8_t buf[32] = { 3 }, copy[32];

    for (size_t c = 0; c < 3; c++) {
        const struct amk_keyfile_cipher *ci = amk_keyfile_cipher_find(aead[c]);
        ASSERT_OK(amk_keyfile_crypt(ci, 1, key, iv, buf, sizeof(buf), buf, tag));
        memcpy(copy, buf, sizeof(buf));
        copy[5] ^= 0x01;   /* ciphertext bit flip */
        ASSERT_AMK(AMK_EMAC, amk_keyfile_crypt(ci, 0, key, iv, copy, sizeof(copy), copy, tag));
        memcpy(copy, buf, sizeof(buf));
        tag[15] ^= 0x80;   /* tag bit flip */
        ASSERT_AMK(AMK_EMAC, amk_keyfile_crypt(ci, 0, key, iv, copy, sizeof(copy), copy, tag));
        tag[15] ^= 0x80;
        key[40] ^= 1;      /* wrong key (for chacha, K_2 is the first 32 bytes: use 0) */
        key[0] ^= 1;
        ASSERT_AMK(AMK_EMAC, amk_keyfile_crypt(ci, 0, key, iv, copy, sizeof(copy), copy, tag));
        key[0] ^= 1;
        key[40] ^= 1;
        ASSERT_OK(amk_keyfile_crypt(ci, 0, key, iv, buf, sizeof(buf), buf, tag));
    }
}

static void
test_amk_keyfile_crypt_rejects_partial_block(void **state)
{
    uint8_t key[32] = { 0 }, iv[16] = { 0 }, buf[24] = { 0 };

    ASSERT_AMK(AMK_EINVAL, amk_keyfile_crypt(amk_keyfile_cipher_find("aes256-ctr"), 1, key, iv,
        buf, 15, buf, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_keyfile_crypt(amk_keyfile_cipher_find("none"), 1, key, iv,
        buf, 7, buf, NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_keyfile_cipher_find),
        cmocka_unit_test(test_amk_keyfile_crypt_sp800_38a),
        cmocka_unit_test(test_amk_keyfile_crypt_round_trip),
        cmocka_unit_test(test_amk_keyfile_crypt_aead_rejects_tampering),
        cmocka_unit_test(test_amk_keyfile_crypt_rejects_partial_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
