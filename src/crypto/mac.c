/* see crypto/mac.h */
#include "crypto/mac.h"

#include <stdlib.h>

#include <amiko/error.h>

#include "crypto/hash.h"
#include "crypto/pkt_ops.h"
#include "util/alloc.h"
#include "util/secure.h"

struct amk_pkt_mac {
    const struct amk_mac_info *info;
    struct amk_hmac_ctx *hmac;      /* keyed once; restarted per packet */
};

int
amk_pkt_mac_new(struct amk_pkt_mac **out, const struct amk_mac_info *info, const uint8_t *key)
{
    struct amk_pkt_mac *m = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL || info == NULL || key == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((m = amk_calloc(1, sizeof(*m))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    m->info = info;
    if ((r = amk_hmac_new(&m->hmac, info->hash, key, info->key_len)) != AMK_OK)
        goto out;
    *out = m;
    m = NULL;
    r = AMK_OK;
out:
    amk_pkt_mac_free(m);
    return r;
}

void
amk_pkt_mac_free(struct amk_pkt_mac *m)
{
    if (m == NULL)
        return;
    amk_hmac_free(m->hmac);
    amk_free(m);
}

int
amk_pkt_mac_compute(struct amk_pkt_mac *m, uint32_t seq, const uint8_t *data, size_t len,
    uint8_t *out)
{
    uint8_t seqbuf[4];
    uint8_t full[AMK_HASH_MAX_LEN];
    int r = AMK_EINTERNAL;

    /* RFC 4253 §6.4: mac = MAC(key, sequence_number || unencrypted_packet) */
    amk_pkt_store_be32(seqbuf, seq);
    if ((r = amk_hmac_init(m->hmac)) != AMK_OK ||
        (r = amk_hmac_update(m->hmac, seqbuf, sizeof(seqbuf))) != AMK_OK ||
        (r = amk_hmac_update(m->hmac, data, len)) != AMK_OK ||
        (r = amk_hmac_final(m->hmac, full)) != AMK_OK)
        goto out;
    for (size_t i = 0; i < m->info->mac_len; i++)
        out[i] = full[i];
    r = AMK_OK;
out:
    amk_wipe(full, sizeof(full));
    return r;
}

int
amk_pkt_mac_verify(struct amk_pkt_mac *m, uint32_t seq, const uint8_t *data, size_t len,
    const uint8_t *tag)
{
    uint8_t want[AMK_HASH_MAX_LEN];
    int r = AMK_EINTERNAL;

    if ((r = amk_pkt_mac_compute(m, seq, data, len, want)) != AMK_OK)
        goto out;
    r = amk_ct_equal(want, tag, m->info->mac_len) ? AMK_OK : AMK_EMAC;
out:
    amk_wipe(want, sizeof(want));
    return r;
}
