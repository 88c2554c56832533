/*
 * curve25519-sha256 and curve25519-sha256@libssh.org, RFC 8731:
 * ECDH over X25519 (RFC 7748) with SHA-256, Q_C and Q_S as 32-byte strings.
 */
#include "crypto/kex.h"
#include "transport/transport_int.h"
#include "util/secure.h"

static int
c25519_keypair(struct amk_kex_state *ks, const struct amk_kex_impl *impl,
    const struct amk_rng *rng, const uint8_t **pub, size_t *pub_len)
{
    int r = AMK_EINTERNAL;

    *pub = NULL;
    *pub_len = 0;
    if ((r = amk_x25519_keypair(rng, ks->x25519_priv, ks->x25519_pub)) != AMK_OK)
        return r;
    *pub = ks->x25519_pub;
    *pub_len = AMK_X25519_LEN;
    return AMK_OK;
}

static int
c25519_shared(struct amk_kex_state *ks, const uint8_t *peer, size_t peer_len, struct amk_buf *k)
{
    uint8_t shared[AMK_X25519_LEN];
    int r = AMK_EINTERNAL;

    /* RFC 8731 §3: the peer's public key is exactly 32 bytes. */
    if (peer_len != AMK_X25519_LEN) {
        r = AMK_EKEY;
        goto out;
    }
    /* RFC 8731 §3: an all-zero shared secret is rejected (AMK_EKEY). */
    if ((r = amk_x25519_shared(ks->x25519_priv, peer, shared)) != AMK_OK)
        goto out;
    /* RFC 8731 §3.1: the 32 bytes are read as a big-endian number and
     * encoded as an mpint. */
    if ((r = amk_buf_put_mpint(k, shared, sizeof(shared))) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(shared, sizeof(shared));
    return r;
}

const struct amk_kex_impl amk_kex_curve25519_sha256 = {
    .name = "curve25519-sha256",
    .hash = AMK_HASH_SHA256,
    .server_default = 1,
    .keypair = c25519_keypair,
    .shared = c25519_shared,
};

const struct amk_kex_impl amk_kex_curve25519_sha256_libssh = {
    .name = "curve25519-sha256@libssh.org",
    .hash = AMK_HASH_SHA256,
    .server_default = 1,
    .keypair = c25519_keypair,
    .shared = c25519_shared,
};
