/*
 * ecdh-sha2-nistp256/384/521, RFC 5656 §4 and §6.2: ECDH on the NIST
 * curves, Q_C and Q_S as SEC1 uncompressed points, the hash matched to
 * the curve size (RFC 5656 §6.2.1).
 */
#include "crypto/kex.h"
#include "transport/transport_int.h"
#include "util/secure.h"

#define ECDH_MAX_FIELD 66

static int
ecdh_keypair(struct amk_kex_state *ks, const struct amk_kex_impl *impl,
    const struct amk_rng *rng, const uint8_t **pub, size_t *pub_len)
{
    int r = AMK_EINTERNAL;

    *pub = NULL;
    *pub_len = 0;
    amk_ecdh_free(ks->ecdh);
    ks->ecdh = NULL;
    if ((r = amk_ecdh_new(&ks->ecdh, impl->curve, rng)) != AMK_OK)
        return r;
    amk_ecdh_public(ks->ecdh, pub, pub_len);
    return AMK_OK;
}

static int
ecdh_shared(struct amk_kex_state *ks, const uint8_t *peer, size_t peer_len, struct amk_buf *k)
{
    uint8_t secret[ECDH_MAX_FIELD];
    size_t len = 0;
    int r = AMK_EINTERNAL;

    if (ks->ecdh == NULL)
        return AMK_ESTATE;
    /* RFC 5656 §4: the point is validated (on the curve, not infinity). */
    if ((r = amk_ecdh_shared(ks->ecdh, peer, peer_len, secret, &len)) != AMK_OK)
        goto out;
    if (len > sizeof(secret)) {
        r = AMK_EINTERNAL;
        goto out;
    }
    /* RFC 5656 §4: K is the x coordinate, encoded as an mpint. */
    if ((r = amk_buf_put_mpint(k, secret, len)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(secret, sizeof(secret));
    return r;
}

const struct amk_kex_impl amk_kex_ecdh_nistp256 = {
    .name = "ecdh-sha2-nistp256",
    .hash = AMK_HASH_SHA256,
    .curve = AMK_EC_P256,
    .keypair = ecdh_keypair,
    .shared = ecdh_shared,
};

const struct amk_kex_impl amk_kex_ecdh_nistp384 = {
    .name = "ecdh-sha2-nistp384",
    .hash = AMK_HASH_SHA384,
    .curve = AMK_EC_P384,
    .keypair = ecdh_keypair,
    .shared = ecdh_shared,
};

const struct amk_kex_impl amk_kex_ecdh_nistp521 = {
    .name = "ecdh-sha2-nistp521",
    .hash = AMK_HASH_SHA512,
    .curve = AMK_EC_P521,
    .keypair = ecdh_keypair,
    .shared = ecdh_shared,
};
