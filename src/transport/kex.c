/*
 * The key exchange state machine (RFC 4253 §7, §8): KEXINIT, the
 * generic "send my public value, get the peer's" exchange shared by
 * every method (the method supplies keypair / shared), the exchange hash,
 * host-key signatures, key derivation (§7.2) and NEWKEYS (§7.3), with
 * strict KEX (OpenSSH PROTOCOL §1.10) and ext-info (RFC 8308).
 *
 * Phases (see enum amk_kex_phase):
 *   IDLE --our KEXINIT--> INIT_SENT --peer KEXINIT-->
 *     client: [GEX_GROUP -->] REPLY --reply, NEWKEYS sent--> NEWKEYS
 *     server: [GEX_REQUEST -->] INIT --init, reply + NEWKEYS sent--> NEWKEYS
 *   NEWKEYS --peer NEWKEYS--> IDLE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "keys/key.h"
#include "transport/transport_int.h"
#include "util/namelist.h"
#include "util/secure.h"

/* Key derivation letters, RFC 4253 §7.2. */
#define KDF_IV_C2S 'A'
#define KDF_IV_S2C 'B'
#define KDF_KEY_C2S 'C'
#define KDF_KEY_S2C 'D'
#define KDF_MAC_C2S 'E'
#define KDF_MAC_S2C 'F'

void
amk_kex_reset(struct amk_transport *t)
{
    amk_kex_state_clear(&t->ks);
    amk_buf_reset(&t->gex_p);
    amk_buf_reset(&t->gex_g);
    amk_buf_reset(&t->client_pub);
}

int
amk_kex_start(struct amk_transport *t)
{
    int r = AMK_EINTERNAL;

    if (t->kexinit_sent)
        return AMK_OK;
    if ((r = amk_kexinit_build(t, &t->my_kexinit)) != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot build KEXINIT");
    r = amk_packet_send(t, amk_buf_ptr(&t->my_kexinit), amk_buf_len(&t->my_kexinit));
    if (r != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot send KEXINIT");
    t->kexinit_sent = 1;
    if (t->phase == AMK_KEX_IDLE)
        t->phase = AMK_KEX_INIT_SENT;
    amk_log(&t->log, AMK_LOG_DEBUG, "KEXINIT sent");
    return AMK_OK;
}

/* Appends a public value as the method encodes it. */
static int
put_pub(struct amk_buf *b, const struct amk_kex_impl *impl, const uint8_t *p, size_t len)
{
    return impl->pub_mpint ? amk_buf_put_mpint(b, p, len) : amk_buf_put_string(b, p, len);
}

/* Reads a public value as the method encodes it. */
static int
get_pub(struct amk_buf *b, const struct amk_kex_impl *impl, const uint8_t **p, size_t *len)
{
    return impl->pub_mpint ? amk_buf_get_mpint_direct(b, p, len) :
        amk_buf_get_string_direct(b, p, len);
}

/*
 * The exchange hash H (RFC 4253 §8, RFC 5656 §4, RFC 4419 §3,
 * RFC 8731 §3): HASH(V_C || V_S || I_C || I_S || K_S || [GEX: min || n
 * || max || p || g] || Q_C || Q_S || K).
 */
static int
exchange_hash(struct amk_transport *t, const uint8_t *ks, size_t ks_len,
    const uint8_t *qc, size_t qc_len, const uint8_t *qs, size_t qs_len,
    const struct amk_buf *k, uint8_t *h, size_t *h_len)
{
    const struct amk_kex_impl *impl = t->neg.kex;
    int client = t->role == AMK_TRANSPORT_CLIENT;
    const char *vc = client ? t->local_version : t->peer_version;
    const char *vs = client ? t->peer_version : t->local_version;
    const struct amk_buf *ic = client ? &t->my_kexinit : &t->peer_kexinit;
    const struct amk_buf *is = client ? &t->peer_kexinit : &t->my_kexinit;
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    *h_len = 0;
    if ((b = amk_buf_new()) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_buf_put_cstring(b, vc)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, vs)) != AMK_OK ||
        (r = amk_buf_put_stringb(b, ic)) != AMK_OK ||
        (r = amk_buf_put_stringb(b, is)) != AMK_OK ||
        (r = amk_buf_put_string(b, ks, ks_len)) != AMK_OK)
        goto out;
    if (impl->gex) {
        if ((r = amk_buf_put_u32(b, t->ks.gex_min)) != AMK_OK ||
            (r = amk_buf_put_u32(b, t->ks.gex_n)) != AMK_OK ||
            (r = amk_buf_put_u32(b, t->ks.gex_max)) != AMK_OK ||
            (r = amk_buf_put_mpint(b, amk_buf_ptr(&t->gex_p), amk_buf_len(&t->gex_p))) != AMK_OK ||
            (r = amk_buf_put_mpint(b, amk_buf_ptr(&t->gex_g), amk_buf_len(&t->gex_g))) != AMK_OK)
            goto out;
    }
    if ((r = put_pub(b, impl, qc, qc_len)) != AMK_OK ||
        (r = put_pub(b, impl, qs, qs_len)) != AMK_OK ||
        (r = amk_buf_putb(b, k)) != AMK_OK)
        goto out;
    if ((r = amk_hash(impl->hash, amk_buf_ptr(b), amk_buf_len(b), h)) != AMK_OK)
        goto out;
    *h_len = amk_hash_len(impl->hash);
    r = AMK_OK;
out:
    amk_buf_free(b);
    return r;
}

/* RFC 4253 §7.2: HASH(K || H || letter || session_id), extended by
 * HASH(K || H || K1 || ... ) until @p need bytes. */
static int
derive(struct amk_transport *t, const struct amk_buf *k, const uint8_t *h, size_t h_len,
    char letter, uint8_t *out, size_t need)
{
    enum amk_hash_alg alg = t->neg.kex->hash;
    size_t hl = amk_hash_len(alg);
    size_t have = 0;
    uint8_t *acc = NULL;
    size_t cap = 0;
    struct amk_hash_ctx *ctx = NULL;
    uint8_t l = (uint8_t)letter;
    int r = AMK_EINTERNAL;

    if (need == 0)
        return AMK_OK;
    cap = (need / hl + 1) * hl;
    if ((acc = malloc(cap)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_hash_new(&ctx, alg)) != AMK_OK)
        goto out;
    if ((r = amk_hash_update(ctx, amk_buf_ptr(k), amk_buf_len(k))) != AMK_OK ||
        (r = amk_hash_update(ctx, h, h_len)) != AMK_OK ||
        (r = amk_hash_update(ctx, &l, 1)) != AMK_OK ||
        (r = amk_hash_update(ctx, t->session_id, t->session_id_len)) != AMK_OK ||
        (r = amk_hash_final(ctx, acc)) != AMK_OK)
        goto out;
    have = hl;
    while (have < need) {
        if ((r = amk_hash_reset(ctx)) != AMK_OK ||
            (r = amk_hash_update(ctx, amk_buf_ptr(k), amk_buf_len(k))) != AMK_OK ||
            (r = amk_hash_update(ctx, h, h_len)) != AMK_OK ||
            (r = amk_hash_update(ctx, acc, have)) != AMK_OK ||
            (r = amk_hash_final(ctx, acc + have)) != AMK_OK)
            goto out;
        have += hl;
    }
    memcpy(out, acc, need);
    r = AMK_OK;
out:
    amk_hash_free(ctx);
    amk_free_wiped(acc, cap);
    return r;
}

/* Derives both directions' keys and creates the pending ciphers. */
static int
derive_keys(struct amk_transport *t, const struct amk_buf *k, const uint8_t *h, size_t h_len)
{
    uint8_t key[AMK_CIPHER_MAX_KEY_LEN], iv[AMK_CIPHER_MAX_IV_LEN], mk[AMK_MAC_MAX_KEY_LEN];
    static const char letters[2][3] = {
        { KDF_IV_C2S, KDF_KEY_C2S, KDF_MAC_C2S },
        { KDF_IV_S2C, KDF_KEY_S2C, KDF_MAC_S2C }
    };
    int r = AMK_EINTERNAL;

    for (int d = 0; d < 2; d++) {
        const struct amk_cipher_info *ci = amk_cipher_info_find(t->neg.cipher[d]);
        const struct amk_mac_info *mi = NULL;
        struct amk_pkt_cipher *c = NULL;
        int outgoing = (d == 0) == (t->role == AMK_TRANSPORT_CLIENT);

        if (ci == NULL || ci->key_len > sizeof(key) || ci->iv_len > sizeof(iv)) {
            r = AMK_ENOTSUP;
            goto out;
        }
        if (ci->tag_len == 0) {
            if ((mi = amk_mac_info_find(t->neg.mac[d])) == NULL || mi->key_len > sizeof(mk)) {
                r = AMK_ENOTSUP;
                goto out;
            }
        }
        if ((r = derive(t, k, h, h_len, letters[d][0], iv, ci->iv_len)) != AMK_OK ||
            (r = derive(t, k, h, h_len, letters[d][1], key, ci->key_len)) != AMK_OK ||
            (mi != NULL && (r = derive(t, k, h, h_len, letters[d][2], mk, mi->key_len)) != AMK_OK))
            goto out;
        if ((r = amk_pkt_cipher_new(&c, ci->name, mi != NULL ? mi->name : NULL, outgoing,
                key, iv, mi != NULL ? mk : NULL)) != AMK_OK)
            goto out;
        if (outgoing) {
            amk_pkt_cipher_free(t->pending_out);
            t->pending_out = c;
        } else {
            amk_pkt_cipher_free(t->pending_in);
            t->pending_in = c;
        }
    }
    r = AMK_OK;
out:
    amk_wipe(key, sizeof(key));
    amk_wipe(iv, sizeof(iv));
    amk_wipe(mk, sizeof(mk));
    return r;
}

/* Records the negotiated names for amk_transport_algs(). */
static void
record_algs(struct amk_transport *t)
{
    struct amk_transport_algs *a = &t->pending_algs;

    memset(a, 0, sizeof(*a));
    snprintf(a->kex, sizeof(a->kex), "%s", t->neg.kex->name);
    snprintf(a->hostkey, sizeof(a->hostkey), "%s", t->neg.hostkey);
    snprintf(a->cipher_c2s, sizeof(a->cipher_c2s), "%s", t->neg.cipher[0]);
    snprintf(a->cipher_s2c, sizeof(a->cipher_s2c), "%s", t->neg.cipher[1]);
    snprintf(a->mac_c2s, sizeof(a->mac_c2s), "%s", t->neg.mac[0]);
    snprintf(a->mac_s2c, sizeof(a->mac_s2c), "%s", t->neg.mac[1]);
    snprintf(a->comp_c2s, sizeof(a->comp_c2s), "%s", t->neg.comp[0]);
    snprintf(a->comp_s2c, sizeof(a->comp_s2c), "%s", t->neg.comp[1]);
    a->strict_kex = t->strict;
}

/* Sets up compression for one direction after its NEWKEYS (RFC 4253
 * §6.2; zlib@openssh.com waits for authentication, OpenSSH PROTOCOL). */
static int
setup_compression(struct amk_transport *t, struct amk_transport_dir *d, int outgoing)
{
    const char *name = t->neg.comp[(outgoing == (t->role == AMK_TRANSPORT_CLIENT)) ? 0 : 1];
    int r = AMK_EINTERNAL;

    amk_compress_free(d->comp);
    d->comp = NULL;
    d->comp_delayed = 0;
    if (strcmp(name, "none") == 0)
        return AMK_OK;
    if ((r = amk_compress_new(&d->comp, outgoing)) != AMK_OK)
        return r;
    d->comp_delayed = strcmp(name, "zlib@openssh.com") == 0 && !t->authenticated;
    return AMK_OK;
}

/* RFC 8308 §3.1: the server's EXT_INFO with server-sig-algs. */
static int
send_ext_info(struct amk_transport *t)
{
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    if ((b = amk_buf_new()) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_buf_put_u8(b, AMK_MSG_EXT_INFO)) != AMK_OK ||
        (r = amk_buf_put_u32(b, 1)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "server-sig-algs")) != AMK_OK ||
        (r = amk_buf_put_cstring(b, t->server_sig_algs)) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(b), amk_buf_len(b))) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_free(b);
    return r;
}

/* Sends NEWKEYS and switches the outgoing direction to the new keys. */
static int
send_newkeys(struct amk_transport *t)
{
    static const uint8_t newkeys[1] = { AMK_MSG_NEWKEYS };
    int r = AMK_EINTERNAL;

    if ((r = amk_packet_send(t, newkeys, sizeof(newkeys))) != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot send NEWKEYS");
    amk_pkt_cipher_free(t->dir_out.cipher);
    t->dir_out.cipher = t->pending_out;
    t->pending_out = NULL;
    /* OpenSSH PROTOCOL §1.10: strict KEX resets the sequence number. */
    if (t->strict)
        t->dir_out.seq = 0;
    t->dir_out.bytes = 0;
    t->dir_out.packets = 0;
    if ((r = setup_compression(t, &t->dir_out, 1)) != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot start compression");
    t->newkeys_sent = 1;
    t->phase = AMK_KEX_NEWKEYS;
    /* RFC 8308 §2.4: EXT_INFO is the first message after the server's first NEWKEYS. */
    if (t->role == AMK_TRANSPORT_SERVER && t->kex_count == 0 && t->peer_ext_info &&
        (r = send_ext_info(t)) != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot send EXT_INFO");
    return amk_transport_flush_held(t);
}

/* After K and H are known on either side: session id, keys, NEWKEYS. */
static int
kex_finish(struct amk_transport *t, const struct amk_buf *k, const uint8_t *h, size_t h_len)
{
    int r = AMK_EINTERNAL;

    /* RFC 4253 §7.2: the first H is the session identifier, kept forever. */
    if (t->session_id_len == 0) {
        memcpy(t->session_id, h, h_len);
        t->session_id_len = h_len;
    }
    if ((r = derive_keys(t, k, h, h_len)) != AMK_OK)
        return amk_transport_fail(t, r, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "cannot set up the negotiated ciphers: %s", amk_strerror(r));
    record_algs(t);
    return send_newkeys(t);
}

/* Client: the method's first message. */
int
amk_kex_client_begin(struct amk_transport *t)
{
    const struct amk_kex_impl *impl = t->neg.kex;
    const uint8_t *pub = NULL;
    size_t pub_len = 0;
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    if (impl->gex)
        return amk_gex_client_begin(t);
    if ((r = impl->keypair(&t->ks, impl, t->rng, &pub, &pub_len)) != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot generate the %s key", impl->name);
    if ((b = amk_buf_new()) == NULL) {
        r = amk_transport_fail(t, AMK_ENOMEM, 0, NULL);
        goto out;
    }
    amk_buf_reset(&t->client_pub);
    if ((r = amk_buf_put(&t->client_pub, pub, pub_len)) != AMK_OK ||
        (r = amk_buf_put_u8(b, AMK_MSG_KEXDH_INIT)) != AMK_OK ||
        (r = put_pub(b, impl, pub, pub_len)) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(b), amk_buf_len(b))) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot send the KEX init");
        goto out;
    }
    t->phase = AMK_KEX_REPLY;
    r = AMK_OK;
out:
    amk_buf_free(b);
    return r;
}

/* Client: the server's reply (KEXDH_REPLY, KEX_ECDH_REPLY, GEX_REPLY):
 * string K_S, Q_S / f, string signature of H. */
int
amk_kex_client_reply(struct amk_transport *t, struct amk_buf *msg)
{
    const struct amk_kex_impl *impl = t->neg.kex;
    const uint8_t *ks_blob = NULL, *qs = NULL, *sig = NULL;
    size_t ks_len = 0, qs_len = 0, sig_len = 0, h_len = 0;
    uint8_t h[AMK_HASH_MAX_LEN];
    struct amk_key *key = NULL;
    struct amk_buf k;
    int r = AMK_EINTERNAL;

    amk_buf_init(&k);
    if ((r = amk_buf_get_string_direct(msg, &ks_blob, &ks_len)) != AMK_OK ||
        (r = get_pub(msg, impl, &qs, &qs_len)) != AMK_OK ||
        (r = amk_buf_get_string_direct(msg, &sig, &sig_len)) != AMK_OK ||
        (r = amk_buf_get_end(msg)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed %s reply",
            impl->name);
        goto out;
    }
    if ((r = amk_key_from_blob(ks_blob, ks_len, &key)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "cannot parse the server's host key: %s", amk_strerror(r));
        goto out;
    }
    /* RFC 4253 §7.1: the key must fit the negotiated host-key algorithm. */
    if (!amk_key_sig_alg_ok(key, t->neg.hostkey)) {
        r = amk_transport_fail(t, AMK_EKEY, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "server host key of type %s does not match the negotiated algorithm %s",
            amk_key_type_name(key), t->neg.hostkey);
        goto out;
    }
    if ((r = impl->shared(&t->ks, qs, qs_len, &k)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "invalid server %s public value: %s", impl->name, amk_strerror(r));
        goto out;
    }
    if ((r = exchange_hash(t, ks_blob, ks_len, amk_buf_ptr(&t->client_pub),
            amk_buf_len(&t->client_pub), qs, qs_len, &k, h, &h_len)) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot compute the exchange hash");
        goto out;
    }
    /* RFC 4253 §8: the signature over H with the host key. */
    if ((r = amk_key_verify(key, t->neg.hostkey, sig, sig_len, h, h_len)) != AMK_OK) {
        r = amk_transport_fail(t, r == AMK_EFORMAT ? AMK_EFORMAT : AMK_ESIGNATURE,
            AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "server host key signature (%s) does not verify", t->neg.hostkey);
        goto out;
    }
    /* A rekey must present the same host key as the first exchange. */
    if (t->host_key != NULL && !amk_key_equal_public(t->host_key, key)) {
        r = amk_transport_fail(t, AMK_EHOSTKEY_CHANGED, AMK_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
            "server host key changed during rekeying");
        goto out;
    }
    if (t->hostkey_cb != NULL && (r = t->hostkey_cb(t->user, key, t->neg.hostkey)) != AMK_OK) {
        if (r >= 0 || r == AMK_EAGAIN)
            r = AMK_EHOSTKEY_REJECTED;
        r = amk_transport_fail(t, r, AMK_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
            "server host key (%s) rejected: %s", t->neg.hostkey, amk_strerror(r));
        goto out;
    }
    amk_key_free(t->host_key);
    t->host_key = key;
    key = NULL;
    if ((r = kex_finish(t, &k, h, h_len)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_key_free(key);
    amk_buf_release(&k);
    amk_wipe(h, sizeof(h));
    return r;
}

/* Server: the host key for the negotiated algorithm. */
static struct amk_key *
server_host_key(struct amk_transport *t)
{
    for (size_t i = 0; i < t->n_host_keys; i++) {
        if (amk_key_sig_alg_ok(t->host_keys[i], t->neg.hostkey))
            return t->host_keys[i];
    }
    return NULL;
}

/* Server: the client's INIT (Q_C / e); sends the reply and NEWKEYS. */
int
amk_kex_server_init(struct amk_transport *t, struct amk_buf *msg)
{
    const struct amk_kex_impl *impl = t->neg.kex;
    const uint8_t *qc = NULL, *qs = NULL;
    size_t qc_len = 0, qs_len = 0, h_len = 0;
    uint8_t h[AMK_HASH_MAX_LEN];
    struct amk_key *hk = server_host_key(t);
    uint8_t reply_type = impl->gex ? AMK_MSG_KEX_DH_GEX_REPLY : AMK_MSG_KEXDH_REPLY;
    struct amk_buf k, blob, sig, reply;
    int r = AMK_EINTERNAL;

    amk_buf_init(&k);
    amk_buf_init(&blob);
    amk_buf_init(&sig);
    amk_buf_init(&reply);
    if ((r = get_pub(msg, impl, &qc, &qc_len)) != AMK_OK ||
        (r = amk_buf_get_end(msg)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed %s init",
            impl->name);
        goto out;
    }
    if (hk == NULL) {
        r = amk_transport_fail(t, AMK_EINTERNAL, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "no host key for %s", t->neg.hostkey);
        goto out;
    }
    if ((r = amk_buf_put(&t->client_pub, qc, qc_len)) != AMK_OK ||
        (r = impl->keypair(&t->ks, impl, t->rng, &qs, &qs_len)) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot generate the %s key", impl->name);
        goto out;
    }
    if ((r = impl->shared(&t->ks, qc, qc_len, &k)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "invalid client %s public value: %s", impl->name, amk_strerror(r));
        goto out;
    }
    if ((r = amk_key_to_blob(hk, &blob)) != AMK_OK ||
        (r = exchange_hash(t, amk_buf_ptr(&blob), amk_buf_len(&blob), qc, qc_len,
            qs, qs_len, &k, h, &h_len)) != AMK_OK ||
        (r = amk_key_sign(hk, t->neg.hostkey, h, h_len, &sig)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "cannot sign the exchange hash: %s", amk_strerror(r));
        goto out;
    }
    if ((r = amk_buf_put_u8(&reply, reply_type)) != AMK_OK ||
        (r = amk_buf_put_stringb(&reply, &blob)) != AMK_OK ||
        (r = put_pub(&reply, impl, qs, qs_len)) != AMK_OK ||
        (r = amk_buf_put_stringb(&reply, &sig)) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(&reply), amk_buf_len(&reply))) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot send the KEX reply");
        goto out;
    }
    if ((r = kex_finish(t, &k, h, h_len)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_release(&k);
    amk_buf_release(&blob);
    amk_buf_release(&sig);
    amk_buf_release(&reply);
    amk_wipe(h, sizeof(h));
    return r;
}

/* The peer's KEXINIT. */
static int
handle_kexinit(struct amk_transport *t, struct amk_buf *msg)
{
    int r = AMK_EINTERNAL;

    if (t->kexinit_received)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "second KEXINIT during one key exchange");
    amk_buf_reset(&t->peer_kexinit);
    if ((r = amk_buf_put(&t->peer_kexinit, amk_buf_ptr(msg), amk_buf_len(msg))) != AMK_OK)
        return amk_transport_fail(t, r, 0, NULL);
    t->kexinit_received = 1;
    if ((r = amk_kex_start(t)) != AMK_OK)
        return r;
    if ((r = amk_kexinit_negotiate(t)) != AMK_OK)
        return r;
    /* OpenSSH PROTOCOL §1.10: under strict KEX the KEXINIT is the very
     * first packet received. */
    if (t->strict && t->kex_count == 0 && t->packets_received != 1)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "strict KEX: KEXINIT was not the first packet (packet %u)", t->packets_received);
    amk_kex_reset(t);
    if (t->role == AMK_TRANSPORT_CLIENT)
        return amk_kex_client_begin(t);
    t->phase = t->neg.kex->gex ? AMK_KEX_GEX_REQUEST : AMK_KEX_INIT;
    return AMK_OK;
}

/* The peer's NEWKEYS: switch the incoming direction (RFC 4253 §7.3). */
static int
handle_newkeys(struct amk_transport *t, struct amk_buf *msg)
{
    int r = AMK_EINTERNAL;

    if (t->phase != AMK_KEX_NEWKEYS || t->pending_in == NULL)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "unexpected NEWKEYS");
    if ((r = amk_buf_get_end(msg)) != AMK_OK)
        return amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed NEWKEYS");
    amk_pkt_cipher_free(t->dir_in.cipher);
    t->dir_in.cipher = t->pending_in;
    t->pending_in = NULL;
    /* OpenSSH PROTOCOL §1.10 */
    if (t->strict)
        t->dir_in.seq = 0;
    t->dir_in.bytes = 0;
    t->dir_in.packets = 0;
    if ((r = setup_compression(t, &t->dir_in, 0)) != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot start decompression");
    t->algs = t->pending_algs;
    t->kex_count++;
    t->phase = AMK_KEX_IDLE;
    t->kexinit_sent = 0;
    t->kexinit_received = 0;
    t->newkeys_sent = 0;
    t->newkeys_received = 0;
    t->last_kex_ms = t->now_ms;
    amk_kex_reset(t);
    amk_log(&t->log, AMK_LOG_DEBUG, "key exchange %d complete", t->kex_count);
    return AMK_OK;
}

int
amk_kex_handle(struct amk_transport *t, uint8_t type, struct amk_buf *msg)
{
    int client = t->role == AMK_TRANSPORT_CLIENT;
    int gex;

    if (type == AMK_MSG_KEXINIT)
        return handle_kexinit(t, msg);
    if (type == AMK_MSG_NEWKEYS)
        return handle_newkeys(t, msg);
    if (t->ignore_guess && type >= AMK_MSG_KEX_FIRST && type <= AMK_MSG_KEX_LAST) {
        /* RFC 4253 §7.1: the wrongly guessed packet is ignored. */
        t->ignore_guess = 0;
        return AMK_OK;
    }
    gex = t->neg.kex != NULL && t->neg.kex->gex;
    /* Allowed method messages per phase. */
    if (client && t->phase == AMK_KEX_GEX_GROUP && type == AMK_MSG_KEX_DH_GEX_GROUP)
        return amk_gex_client_group(t, msg);
    if (client && t->phase == AMK_KEX_REPLY &&
        type == (gex ? AMK_MSG_KEX_DH_GEX_REPLY : AMK_MSG_KEXDH_REPLY))
        return amk_kex_client_reply(t, msg);
    if (!client && t->phase == AMK_KEX_GEX_REQUEST && type == AMK_MSG_KEX_DH_GEX_REQUEST)
        return amk_gex_server_request(t, msg);
    if (!client && t->phase == AMK_KEX_INIT &&
        type == (gex ? AMK_MSG_KEX_DH_GEX_INIT : AMK_MSG_KEXDH_INIT))
        return amk_kex_server_init(t, msg);
    return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
        "unexpected key exchange message %u", type);
}
