/* Unit tests for src/crypto/bcrypt_pbkdf.c. */
#include "test_helper.h"

#include "crypto/bcrypt_pbkdf.h"

/*
 * Vectors from RustCrypto password-hashes, bcrypt-pbkdf/tests/test_vectors.rs
 * ("test_openbsd_vectors"), computed with OpenBSD's bcrypt_pbkdf(3).
 */
static const struct {
    const char *pass;
    size_t passlen;
    const char *salt;
    size_t saltlen;
    unsigned rounds;
    const char *out;
} kdf_kat[] = {
    { "password", 8, "salt", 4, 4,
      "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9" },
    { "password", 8, "\0", 1, 4, "c12b566235eee04c212598970a579a67" },
    { "\0", 1, "salt", 4, 4, "6051be18c2f4f82cbf0efee5471b4bb9" },
    { "password\0", 9, "salt\0", 5, 4,
      "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050" },
    { "pass\0wor", 8, "sa\0l", 4, 4, "c2bffd9db38f6569efef4372f4de83c0" },
    { "pass\0word", 9, "sa\0lt", 5, 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f" },
    { "password", 8, "salt", 4, 8,
      "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec7"
      "6227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d" },
    { "password", 8, "salt", 4, 42, "833cf0dcf56db65608e8f0dc0ce882bd" },
    { "Lorem ipsum dolor sit amet, consectetur adipisicing elit, "
      "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
      "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris "
      "nisi ut aliquip ex ea commodo consequat. "
      "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum "
      "dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non "
      "proident, sunt in culpa qui officia deserunt mollit anim id est laborum.", 0,
      "salis\0", 6, 8, "10978b07253df57f71a162eb0e8ad30a" },
};

static void
test_amk_bcrypt_pbkdf_kat(void **state)
{
    uint8_t key[64];

    for (size_t i = 0; i < sizeof(kdf_kat) / sizeof(kdf_kat[0]); i++) {
        size_t outlen;
        uint8_t *want = test_unhex(kdf_kat[i].out, &outlen);
        size_t passlen = kdf_kat[i].passlen ? kdf_kat[i].passlen : strlen(kdf_kat[i].pass);

        ASSERT_OK(amk_bcrypt_pbkdf(kdf_kat[i].pass, passlen, (const uint8_t *)kdf_kat[i].salt,
            kdf_kat[i].saltlen, key, outlen, kdf_kat[i].rounds));
        assert_memory_equal(key, want, outlen);
        free(want);
    }
}

static void
test_amk_bcrypt_pbkdf_differs_by_round(void **state)
{
    uint8_t a[32], b[32];

    ASSERT_OK(amk_bcrypt_pbkdf("password", 8, (const uint8_t *)"salt", 4, a, sizeof(a), 4));
    ASSERT_OK(amk_bcrypt_pbkdf("password", 8, (const uint8_t *)"salt", 4, b, sizeof(b), 5));
    assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_amk_bcrypt_pbkdf_interleaves_blocks(void **state)
{
    /* bcrypt_pbkdf(3): a 48-byte key takes block 1 at even and block 2 at
     * odd positions, so it is not an extension of the 32-byte key (block 1). */
    uint8_t a[48], b[32];

    ASSERT_OK(amk_bcrypt_pbkdf("password", 8, (const uint8_t *)"salt", 4, a, sizeof(a), 4));
    ASSERT_OK(amk_bcrypt_pbkdf("password", 8, (const uint8_t *)"salt", 4, b, sizeof(b), 4));
    for (size_t i = 0; i < 24; i++)
        assert_int_equal(a[2 * i], b[i]);
    assert_memory_not_equal(a, b, sizeof(b));
}

static void
test_amk_bcrypt_pbkdf_bad_params(void **state)
{
    uint8_t key[AMK_BCRYPT_PBKDF_MAX_KEY + 1];
    const uint8_t *salt = (const uint8_t *)"salt";

    ASSERT_AMK(AMK_EINVAL, amk_bcrypt_pbkdf("pw", 2, salt, 4, key, 16, 0));
    ASSERT_AMK(AMK_EINVAL, amk_bcrypt_pbkdf("pw", 0, salt, 4, key, 16, 1));
    ASSERT_AMK(AMK_EINVAL, amk_bcrypt_pbkdf("pw", 2, salt, 0, key, 16, 1));
    ASSERT_AMK(AMK_EINVAL, amk_bcrypt_pbkdf("pw", 2, salt, 4, key, 0, 1));
    ASSERT_AMK(AMK_EINVAL, amk_bcrypt_pbkdf("pw", 2, salt, 4, key, sizeof(key), 1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_bcrypt_pbkdf_kat),
        cmocka_unit_test(test_amk_bcrypt_pbkdf_differs_by_round),
        cmocka_unit_test(test_amk_bcrypt_pbkdf_interleaves_blocks),
        cmocka_unit_test(test_amk_bcrypt_pbkdf_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
