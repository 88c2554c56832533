/* Unit tests for src/crypto/x25519.c. */
#include "test_helper.h"

#include "crypto/kex.h"

/* Copies the hex string @p hex, which must be AMK_X25519_LEN bytes, into @p out. */
static void
unhex32(const char *hex, uint8_t out[AMK_X25519_LEN])
{
    size_t len;
    uint8_t *p = test_unhex(hex, &len);

    assert_int_equal(len, AMK_X25519_LEN);
    memcpy(out, p, len);
    free(p);
}

/* RFC 7748 §5.2: the two single scalar-multiplication vectors. */
static const struct {
    const char *scalar, *u, *out;
} kat_scalarmult[] = {
    {
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    },
    {
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    },
};

/* RFC 7748 §6.1: Alice and Bob. */
#define ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV   "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

static void
test_amk_x25519_shared_rfc7748_scalarmult(void **state)
{
    uint8_t k[AMK_X25519_LEN], u[AMK_X25519_LEN], out[AMK_X25519_LEN];

    for (size_t i = 0; i < sizeof(kat_scalarmult) / sizeof(kat_scalarmult[0]); i++) {
        unhex32(kat_scalarmult[i].scalar, k);
        unhex32(kat_scalarmult[i].u, u);
        ASSERT_OK(amk_x25519_shared(k, u, out));
        ASSERT_HEX(kat_scalarmult[i].out, out, AMK_X25519_LEN);
    }
}

static void
test_amk_x25519_public_rfc7748_alice_bob(void **state)
{
    uint8_t priv[AMK_X25519_LEN], pub[AMK_X25519_LEN];

    unhex32(ALICE_PRIV, priv);
    ASSERT_OK(amk_x25519_public(priv, pub));
    ASSERT_HEX(ALICE_PUB, pub, AMK_X25519_LEN);
    unhex32(BOB_PRIV, priv);
    ASSERT_OK(amk_x25519_public(priv, pub));
    ASSERT_HEX(BOB_PUB, pub, AMK_X25519_LEN);
}

static void
test_amk_x25519_shared_rfc7748_alice_bob(void **state)
{
    uint8_t priv[AMK_X25519_LEN], peer[AMK_X25519_LEN], k[AMK_X25519_LEN];

    unhex32(ALICE_PRIV, priv);
    unhex32(BOB_PUB, peer);
    ASSERT_OK(amk_x25519_shared(priv, peer, k));
    ASSERT_HEX(SHARED, k, AMK_X25519_LEN);
    unhex32(BOB_PRIV, priv);
    unhex32(ALICE_PUB, peer);
    ASSERT_OK(amk_x25519_shared(priv, peer, k));
    ASSERT_HEX(SHARED, k, AMK_X25519_LEN);
}

static void
test_amk_x25519_keypair_roundtrip(void **state)
{
    uint8_t a[AMK_X25519_LEN], apub[AMK_X25519_LEN], b[AMK_X25519_LEN], bpub[AMK_X25519_LEN];
    uint8_t k1[AMK_X25519_LEN], k2[AMK_X25519_LEN], pub[AMK_X25519_LEN];

    ASSERT_OK(amk_x25519_keypair(NULL, a, apub));
    ASSERT_OK(amk_x25519_keypair(NULL, b, bpub));
    assert_memory_not_equal(a, b, AMK_X25519_LEN);
    ASSERT_OK(amk_x25519_public(a, pub));
    assert_memory_equal(pub, apub, AMK_X25519_LEN);
    ASSERT_OK(amk_x25519_shared(a, bpub, k1));
    ASSERT_OK(amk_x25519_shared(b, apub, k2));
    assert_memory_equal(k1, k2, AMK_X25519_LEN);
}

/* A deterministic source: counts up from the byte in user. */
static int
counter_fill(void *user, uint8_t *out, size_t len)
{
    uint8_t *c = user;

    for (size_t i = 0; i < len; i++)
        out[i] = (*c)++;
    return AMK_OK;
}

static int
failing_fill(void *user, uint8_t *out, size_t len)
{
    return AMK_ECRYPTO;
}

static void
test_amk_x25519_keypair_uses_rng(void **state)
{
    uint8_t c = 1;
    struct amk_rng rng = { .fill = counter_fill, .user = &c };
    uint8_t priv[AMK_X25519_LEN], pub[AMK_X25519_LEN], want[AMK_X25519_LEN];

    ASSERT_OK(amk_x25519_keypair(&rng, priv, pub));
    for (size_t i = 0; i < AMK_X25519_LEN; i++)
        want[i] = (uint8_t)(i + 1);
    assert_memory_equal(priv, want, AMK_X25519_LEN);
    ASSERT_OK(amk_x25519_public(want, want));
    assert_memory_equal(pub, want, AMK_X25519_LEN);
}

static void
test_amk_x25519_keypair_rng_failure(void **state)
{
    struct amk_rng rng = { .fill = failing_fill, .user = NULL };
    uint8_t priv[AMK_X25519_LEN], pub[AMK_X25519_LEN];

    ASSERT_AMK(AMK_ECRYPTO, amk_x25519_keypair(&rng, priv, pub));
}

/*
 * u-coordinates of points of small order (u = 0, 1, the two points of
 * order 8, and p - 1): X25519 with them is all zeros whatever the scalar,
 * which RFC 7748 §6.1 and RFC 8731 §3 require us to refuse.
 */
static const char *low_order[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void
test_amk_x25519_shared_low_order_rejected(void **state)
{
    uint8_t priv[AMK_X25519_LEN], peer[AMK_X25519_LEN], k[AMK_X25519_LEN];

    unhex32(ALICE_PRIV, priv);
    for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
        unhex32(low_order[i], peer);
        memset(k, 0xaa, sizeof(k));
        ASSERT_AMK(AMK_EKEY, amk_x25519_shared(priv, peer, k));
        for (size_t j = 0; j < AMK_X25519_LEN; j++)
            assert_int_equal(k[j], 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_x25519_shared_rfc7748_scalarmult),
        cmocka_unit_test(test_amk_x25519_public_rfc7748_alice_bob),
        cmocka_unit_test(test_amk_x25519_shared_rfc7748_alice_bob),
        cmocka_unit_test(test_amk_x25519_keypair_roundtrip),
        cmocka_unit_test(test_amk_x25519_keypair_uses_rng),
        cmocka_unit_test(test_amk_x25519_keypair_rng_failure),
        cmocka_unit_test(test_amk_x25519_shared_low_order_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
