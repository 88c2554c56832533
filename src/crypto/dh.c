/*
 * Finite-field Diffie-Hellman for the diffie-hellman-group* key exchanges
 * (RFC 4253 §8, RFC 8268) over the RFC 3526 MODP groups, and for group
 * exchange (RFC 4419) over groups the server sends. see crypto/kex.h
 */
#include "crypto/kex.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "util/alloc.h"
#include "util/secure.h"

/* Shortest private exponent we use, whatever the requested security. */
#define AMK_DH_MIN_EXPONENT_BITS 256
/* Attempts at drawing an exponent > 1 before giving up on the source. */
#define AMK_DH_EXPONENT_TRIES 16

/*
 * The MODP primes of RFC 3526: group 14 (§3, 2048-bit), group 16 (§5,
 * 4096-bit) and group 18 (§7, 8192-bit). All use generator 2.
 */
static const char amk_dh_group14_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";
static const char amk_dh_group16_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";
static const char amk_dh_group18_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026"
    "C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE"
    "B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B"
    "DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC"
    "F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E"
    "59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA"
    "CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76"
    "F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468"
    "043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4"
    "38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED"
    "2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D"
    "E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B"
    "4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6"
    "6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D"
    "F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92"
    "4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA"
    "9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF";

struct amk_dh {
    BIGNUM *p, *g;
    BIGNUM *x;               /* private exponent, NULL until generated */
    BIGNUM *e;               /* public value g^x mod p */
    BN_MONT_CTX *mont;       /* Montgomery form of p */
    BN_CTX *ctx;
    uint8_t *pbytes, *gbytes, *ebytes;
    size_t plen, glen, elen;
};

static int
amk_dh_setup(struct amk_dh **out, BIGNUM *p, BIGNUM *g)
{
    struct amk_dh *dh = NULL;
    int r = AMK_EINTERNAL;

    if ((dh = amk_calloc(1, sizeof(*dh))) == NULL) {
        BN_free(p);
        BN_free(g);
        return AMK_ENOMEM;
    }
    dh->p = p;
    dh->g = g;
    if ((dh->ctx = BN_CTX_new()) == NULL || (dh->mont = BN_MONT_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (BN_MONT_CTX_set(dh->mont, dh->p, dh->ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if ((r = amk_ossl_bn_export(dh->p, &dh->pbytes, &dh->plen)) != AMK_OK ||
        (r = amk_ossl_bn_export(dh->g, &dh->gbytes, &dh->glen)) != AMK_OK)
        goto out;
    *out = dh;
    dh = NULL;
    r = AMK_OK;
out:
    amk_dh_free(dh);
    return r;
}

int
amk_dh_new_group(struct amk_dh **out, int group)
{
    const char *hex;
    BIGNUM *p = NULL, *g = NULL;

    *out = NULL;
    switch (group) {
    case 14: hex = amk_dh_group14_p; break;
    case 16: hex = amk_dh_group16_p; break;
    case 18: hex = amk_dh_group18_p; break;
    default: return AMK_ENOTSUP;
    }
    if (BN_hex2bn(&p, hex) == 0 || (g = BN_new()) == NULL || BN_set_word(g, 2) != 1) {
        BN_free(p);
        BN_free(g);
        return AMK_ENOMEM;
    }
    return amk_dh_setup(out, p, g);
}

int
amk_dh_new_custom(struct amk_dh **out, const uint8_t *p, size_t plen,
    const uint8_t *g, size_t glen)
{
    BIGNUM *bp = NULL, *bg = NULL, *pm1 = NULL;
    int bits, r = AMK_EINTERNAL;

    *out = NULL;
    if (plen > AMK_DH_MAX_BITS / 8 + 1 || glen > plen)
        return AMK_EKEY;
    if ((r = amk_ossl_bn_from(p, plen, &bp)) != AMK_OK ||
        (r = amk_ossl_bn_from(g, glen, &bg)) != AMK_OK)
        goto out;
    bits = BN_num_bits(bp);
    /* RFC 4419 §3, RFC 8270: 2048 <= |p| <= 8192; p odd. */
    if (bits < AMK_DH_MIN_BITS || bits > AMK_DH_MAX_BITS || !BN_is_odd(bp)) {
        r = AMK_EKEY;
        goto out;
    }
    /* 1 < g < p-1: g = 1 and g = p-1 generate groups of order 1 and 2. */
    if ((pm1 = BN_dup(bp)) == NULL || BN_sub_word(pm1, 1) != 1) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (BN_cmp(bg, BN_value_one()) <= 0 || BN_cmp(bg, pm1) >= 0) {
        r = AMK_EKEY;
        goto out;
    }
    r = amk_dh_setup(out, bp, bg);
    bp = bg = NULL;    /* owned by the group now, also on failure */
out:
    BN_free(pm1);
    BN_free(bp);
    BN_free(bg);
    return r;
}

size_t
amk_dh_bits(const struct amk_dh *dh)
{
    return (size_t)BN_num_bits(dh->p);
}

void
amk_dh_group(const struct amk_dh *dh, const uint8_t **p, size_t *plen,
    const uint8_t **g, size_t *glen)
{
    *p = dh->pbytes;
    *plen = dh->plen;
    *g = dh->gbytes;
    *glen = dh->glen;
}

/* Takes @p x (also on failure) as the private exponent and computes e = g^x mod p. */
static int
amk_dh_set_exponent(struct amk_dh *dh, BIGNUM *x)
{
    BIGNUM *e = NULL;
    uint8_t *ebytes = NULL;
    size_t elen = 0;
    int r = AMK_EINTERNAL;

    BN_set_flags(x, BN_FLG_CONSTTIME);
    if ((e = BN_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (BN_mod_exp_mont_consttime(e, dh->g, x, dh->p, dh->ctx, dh->mont) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if ((r = amk_ossl_bn_export(e, &ebytes, &elen)) != AMK_OK)
        goto out;
    BN_clear_free(dh->x);
    BN_free(dh->e);
    amk_free(dh->ebytes);
    dh->x = x;
    dh->e = e;
    dh->ebytes = ebytes;
    dh->elen = elen;
    x = e = NULL;
    r = AMK_OK;
out:
    BN_clear_free(x);
    BN_free(e);
    return r;
}

int
amk_dh_set_private(struct amk_dh *dh, const uint8_t *x, size_t xlen)
{
    BIGNUM *bx = NULL;
    int r;

    if ((r = amk_ossl_bn_from_secret(x, xlen, &bx)) != AMK_OK)
        return r;
    /* 1 < x < p-1, the same range the exponent must have when generated. */
    if (BN_cmp(bx, BN_value_one()) <= 0 || BN_num_bits(bx) >= BN_num_bits(dh->p)) {
        BN_clear_free(bx);
        return AMK_EINVAL;
    }
    return amk_dh_set_exponent(dh, bx);
}

int
amk_dh_generate(struct amk_dh *dh, size_t security_bits, const struct amk_rng *rng)
{
    uint8_t buf[AMK_DH_MAX_BITS / 8];
    size_t nbits, nbytes;
    BIGNUM *x = NULL;
    int r = AMK_EINTERNAL;

    /*
     * RFC 4253 §8 wants 1 < x < q; RFC 8268 §4 and NIST SP 800-56A ask for
     * twice the security strength in bits. Fewer bits than p keeps x < p-1.
     */
    if (security_bits > AMK_DH_MAX_BITS / 2)
        return AMK_EINVAL;
    nbits = 2 * security_bits;
    if (nbits < AMK_DH_MIN_EXPONENT_BITS)
        nbits = AMK_DH_MIN_EXPONENT_BITS;
    if (nbits > amk_dh_bits(dh) - 1)
        nbits = amk_dh_bits(dh) - 1;
    nbytes = (nbits + 7) / 8;
    for (int i = 0; i < AMK_DH_EXPONENT_TRIES; i++) {
        if ((r = amk_ossl_random(rng, buf, nbytes)) != AMK_OK)
            goto out;
        if (nbits % 8 != 0)
            buf[0] &= (uint8_t)((1u << (nbits % 8)) - 1);
        BN_clear_free(x);
        if ((r = amk_ossl_bn_from_secret(buf, nbytes, &x)) != AMK_OK)
            goto out;
        if (BN_cmp(x, BN_value_one()) > 0) {
            r = amk_dh_set_exponent(dh, x);
            x = NULL;
            goto out;
        }
    }
    r = amk_ossl_error(AMK_ECRYPTO);    /* the source is not random */
out:
    amk_wipe(buf, sizeof(buf));
    BN_clear_free(x);
    return r;
}

void
amk_dh_public(const struct amk_dh *dh, const uint8_t **pub, size_t *len)
{
    *pub = dh->ebytes;
    *len = dh->elen;
}

int
amk_dh_shared(struct amk_dh *dh, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t cap, size_t *secret_len)
{
    BIGNUM *f = NULL, *k = NULL, *pm1 = NULL;
    int n, r = AMK_EINTERNAL;

    *secret_len = 0;
    if (dh->x == NULL)
        return AMK_ESTATE;
    if (cap < dh->plen)
        return AMK_EINVAL;
    if (peer_len > dh->plen + 1) {    /* longer than p even with a sign byte */
        r = AMK_EKEY;
        goto out;
    }
    if ((r = amk_ossl_bn_from(peer, peer_len, &f)) != AMK_OK)
        goto out;
    if ((pm1 = BN_dup(dh->p)) == NULL || BN_sub_word(pm1, 1) != 1 ||
        (k = BN_secure_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* RFC 4253 §8: values of e or f outside [1, p-1] MUST NOT be accepted;
     * 1 and p-1 would also force K into {1, p-1}, so 1 < f < p-1. */
    if (BN_cmp(f, BN_value_one()) <= 0 || BN_cmp(f, pm1) >= 0) {
        r = AMK_EKEY;
        goto out;
    }
    BN_set_flags(k, BN_FLG_CONSTTIME);
    if (BN_mod_exp_mont_consttime(k, f, dh->x, dh->p, dh->ctx, dh->mont) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    /* K = 1 or p-1 betrays a small-subgroup f; nothing honest produces it. */
    if (BN_is_one(k) || BN_cmp(k, pm1) == 0) {
        r = AMK_EKEY;
        goto out;
    }
    if ((n = BN_bn2bin(k, secret)) <= 0) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    *secret_len = (size_t)n;
    r = AMK_OK;
out:
    BN_clear_free(k);
    BN_free(pm1);
    BN_free(f);
    return r;
}

void
amk_dh_free(struct amk_dh *dh)
{
    if (dh == NULL)
        return;
    BN_clear_free(dh->x);
    BN_free(dh->e);
    BN_free(dh->p);
    BN_free(dh->g);
    BN_MONT_CTX_free(dh->mont);
    BN_CTX_free(dh->ctx);
    amk_free(dh->pbytes);
    amk_free(dh->gbytes);
    amk_free(dh->ebytes);
    amk_free_wiped(dh, sizeof(*dh));
}
