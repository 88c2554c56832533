/*
 * Finite-field Diffie-Hellman on fixed groups, RFC 4253 §8 and RFC 8268:
 * diffie-hellman-group14-sha1 (legacy), -group14-sha256, -group16-sha512,
 * -group18-sha512 over the RFC 3526 groups; e and f are mpints.
 * The keypair / shared pair here also serves group exchange (kex_gex.c).
 */
#include <stdlib.h>

#include "crypto/kex.h"
#include "transport/transport_int.h"
#include "util/secure.h"

void
amk_kex_state_clear(struct amk_kex_state *ks)
{
    amk_ecdh_free(ks->ecdh);
    amk_dh_free(ks->dh);
    amk_wipe(ks, sizeof(*ks));
}

/* Generates x and e on ks->dh (set by the caller for GEX). */
int
amk_kex_dh_keypair(struct amk_kex_state *ks, const struct amk_kex_impl *impl,
    const struct amk_rng *rng, const uint8_t **pub, size_t *pub_len)
{
    int r = AMK_EINTERNAL;

    *pub = NULL;
    *pub_len = 0;
    if (!impl->gex) {
        amk_dh_free(ks->dh);
        ks->dh = NULL;
        if ((r = amk_dh_new_group(&ks->dh, impl->group)) != AMK_OK)
            return r;
    }
    if (ks->dh == NULL)
        return AMK_ESTATE;
    /* Exponent of twice the security level the hash gives (RFC 8268 §4). */
    if ((r = amk_dh_generate(ks->dh, amk_hash_len(impl->hash) * 8 / 2, rng)) != AMK_OK)
        return r;
    amk_dh_public(ks->dh, pub, pub_len);
    return AMK_OK;
}

int
amk_kex_dh_shared(struct amk_kex_state *ks, const uint8_t *peer, size_t peer_len,
    struct amk_buf *k)
{
    uint8_t *secret = NULL;
    size_t cap = 0, len = 0;
    int r = AMK_EINTERNAL;

    if (ks->dh == NULL)
        return AMK_ESTATE;
    cap = amk_dh_bits(ks->dh) / 8 + 1;
    if ((secret = malloc(cap)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* RFC 4253 §8: 1 < f < p-1 is checked by the crypto layer (AMK_EKEY). */
    if ((r = amk_dh_shared(ks->dh, peer, peer_len, secret, cap, &len)) != AMK_OK)
        goto out;
    if ((r = amk_buf_put_mpint(k, secret, len)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_free_wiped(secret, cap);
    return r;
}

const struct amk_kex_impl amk_kex_dh_group14_sha1 = {
    .name = "diffie-hellman-group14-sha1",
    .hash = AMK_HASH_SHA1,
    .pub_mpint = 1,
    .legacy = 1,
    .group = 14,
    .keypair = amk_kex_dh_keypair,
    .shared = amk_kex_dh_shared,
};

const struct amk_kex_impl amk_kex_dh_group14_sha256 = {
    .name = "diffie-hellman-group14-sha256",
    .hash = AMK_HASH_SHA256,
    .pub_mpint = 1,
    .group = 14,
    .keypair = amk_kex_dh_keypair,
    .shared = amk_kex_dh_shared,
};

const struct amk_kex_impl amk_kex_dh_group16_sha512 = {
    .name = "diffie-hellman-group16-sha512",
    .hash = AMK_HASH_SHA512,
    .pub_mpint = 1,
    .server_default = 1,
    .group = 16,
    .keypair = amk_kex_dh_keypair,
    .shared = amk_kex_dh_shared,
};

const struct amk_kex_impl amk_kex_dh_group18_sha512 = {
    .name = "diffie-hellman-group18-sha512",
    .hash = AMK_HASH_SHA512,
    .pub_mpint = 1,
    .server_default = 1,
    .group = 18,
    .keypair = amk_kex_dh_keypair,
    .shared = amk_kex_dh_shared,
};
