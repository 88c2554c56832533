/*
 * SSH_MSG_KEXINIT: building ours and negotiating against the peer's,
 * RFC 4253 §7.1, with the ext-info (RFC 8308 §2.1) and strict KEX
 * (OpenSSH PROTOCOL, "kex-strict-*-v00@openssh.com") markers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rand.h"
#include "transport/transport_int.h"
#include "util/namelist.h"

/* Preference order of every method we implement. */
static const struct amk_kex_impl *const kex_impls[] = {
    &amk_kex_curve25519_sha256,
    &amk_kex_curve25519_sha256_libssh,
    &amk_kex_ecdh_nistp256,
    &amk_kex_ecdh_nistp384,
    &amk_kex_ecdh_nistp521,
    &amk_kex_dh_gex_sha256,
    &amk_kex_dh_group16_sha512,
    &amk_kex_dh_group18_sha512,
    &amk_kex_dh_group14_sha256,
    &amk_kex_dh_group14_sha1,
};
#define N_KEX_IMPLS (sizeof(kex_impls) / sizeof(kex_impls[0]))

const struct amk_kex_impl *
amk_kex_impl_find(const char *name)
{
    for (size_t i = 0; i < N_KEX_IMPLS; i++) {
        if (strcmp(kex_impls[i]->name, name) == 0)
            return kex_impls[i];
    }
    return NULL;
}

static int
kex_list(enum amk_transport_role role, int all, char **out)
{
    char buf[1024];
    size_t n = 0;

    *out = NULL;
    buf[0] = '\0';
    for (size_t i = 0; i < N_KEX_IMPLS; i++) {
        const struct amk_kex_impl *k = kex_impls[i];
        int w;
        if (!all) {
            if (k->legacy)
                continue;
            /* The server offers no NIST ECDH and no DH group under 3072 bits by default. */
            if (role == AMK_TRANSPORT_SERVER && !k->server_default)
                continue;
        }
        w = snprintf(buf + n, sizeof(buf) - n, "%s%s", n > 0 ? "," : "", k->name);
        if (w < 0 || (size_t)w >= sizeof(buf) - n)
            return AMK_EINTERNAL;
        n += (size_t)w;
    }
    if ((*out = strdup(buf)) == NULL)
        return AMK_ENOMEM;
    return AMK_OK;
}

const char *
amk_kex_names(void)
{
    static const char names[] =
        "curve25519-sha256,curve25519-sha256@libssh.org,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
        "diffie-hellman-group-exchange-sha256,"
        "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
        "diffie-hellman-group14-sha256,diffie-hellman-group14-sha1";
    return names;
}

int
amk_kex_defaults(enum amk_transport_role role, char **out)
{
    return kex_list(role, 0, out);
}

int
amk_kexinit_build(struct amk_transport *t, struct amk_buf *out)
{
    uint8_t cookie[AMK_KEXINIT_COOKIE_LEN];
    char *kex = NULL;
    size_t n;
    int r = AMK_EINTERNAL;

    amk_buf_reset(out);
    /* The markers go only into the first KEXINIT (OpenSSH PROTOCOL §1.10;
     * RFC 8308 §2.1 for ext-info-c). */
    if (t->kex_count == 0) {
        const char *extra = t->role == AMK_TRANSPORT_CLIENT ?
            AMK_EXT_INFO_C "," AMK_KEX_STRICT_C : AMK_EXT_INFO_S "," AMK_KEX_STRICT_S;
        if (t->no_strict)
            extra = t->role == AMK_TRANSPORT_CLIENT ? AMK_EXT_INFO_C : AMK_EXT_INFO_S;
        n = strlen(t->kex_algs) + 1 + strlen(extra) + 1;
        if ((kex = malloc(n)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        snprintf(kex, n, "%s,%s", t->kex_algs, extra);
    } else if ((kex = strdup(t->kex_algs)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_random_bytes(t->rng, cookie, sizeof(cookie))) != AMK_OK)
        goto out;
    /* RFC 4253 §7.1 */
    if ((r = amk_buf_put_u8(out, AMK_MSG_KEXINIT)) != AMK_OK ||
        (r = amk_buf_put(out, cookie, sizeof(cookie))) != AMK_OK ||
        (r = amk_buf_put_cstring(out, kex)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->hostkey_algs)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->ciphers)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->ciphers)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->macs)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->macs)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->compression)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, t->compression)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, "")) != AMK_OK ||
        (r = amk_buf_put_cstring(out, "")) != AMK_OK ||
        (r = amk_buf_put_bool(out, 0)) != AMK_OK ||
        (r = amk_buf_put_u32(out, 0)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    free(kex);
    return r;
}

/* The parsed name-lists of a KEXINIT, in message order. */
enum {
    L_KEX = 0, L_HOSTKEY, L_ENC_C2S, L_ENC_S2C, L_MAC_C2S, L_MAC_S2C,
    L_COMP_C2S, L_COMP_S2C, L_LANG_C2S, L_LANG_S2C, L_COUNT
};

static const char *const list_names[L_COUNT] = {
    "key exchange method", "host key algorithm", "cipher (client to server)",
    "cipher (server to client)", "MAC (client to server)", "MAC (server to client)",
    "compression (client to server)", "compression (server to client)",
    "language (client to server)", "language (server to client)"
};

struct kexinit_lists {
    char *l[L_COUNT];
    int follows;
};

static void
lists_free(struct kexinit_lists *k)
{
    for (int i = 0; i < L_COUNT; i++) {
        free(k->l[i]);
        k->l[i] = NULL;
    }
}

/* Parses a KEXINIT payload (message number included). */
static int
kexinit_parse(const struct amk_buf *payload, struct kexinit_lists *k)
{
    struct amk_buf v;
    uint8_t type;
    uint32_t reserved;
    int r = AMK_EINTERNAL;

    memset(k, 0, sizeof(*k));
    amk_buf_view(&v, amk_buf_ptr(payload), amk_buf_len(payload));
    if ((r = amk_buf_get_u8(&v, &type)) != AMK_OK ||
        (r = amk_buf_consume(&v, AMK_KEXINIT_COOKIE_LEN)) != AMK_OK)
        goto out;
    for (int i = 0; i < L_COUNT; i++) {
        if ((r = amk_buf_get_namelist(&v, &k->l[i])) != AMK_OK)
            goto out;
    }
    if ((r = amk_buf_get_bool(&v, &k->follows)) != AMK_OK ||
        (r = amk_buf_get_u32(&v, &reserved)) != AMK_OK ||
        (r = amk_buf_get_end(&v)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    if (r != AMK_OK)
        lists_free(k);
    return r;
}

static int
no_match(struct amk_transport *t, int which, const char *client, const char *server)
{
    return amk_transport_fail(t, AMK_ENOMATCH, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
        "no matching %s: client offered [%s], server offered [%s]",
        list_names[which], client, server);
}

/* The first name of @p list, into @p out. */
static void
first_name(const char *list, char out[AMK_NAME_MAX + 1])
{
    size_t n = strcspn(list, ",");

    if (n > AMK_NAME_MAX)
        n = AMK_NAME_MAX;
    memcpy(out, list, n);
    out[n] = '\0';
}

/* RFC 4253 §7.1: the first KEX method of the client's list that the
 * server also lists and that we implement (skipping the markers). */
static const struct amk_kex_impl *
match_kex(const char *client, const char *server)
{
    const char *p = client;

    while (*p != '\0') {
        char name[AMK_NAME_MAX + 1];
        size_t n = strcspn(p, ",");
        if (n <= AMK_NAME_MAX) {
            const struct amk_kex_impl *k;
            memcpy(name, p, n);
            name[n] = '\0';
            k = amk_kex_impl_find(name);
            if (k != NULL && amk_namelist_contains(server, name))
                return k;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return NULL;
}

int
amk_kexinit_negotiate(struct amk_transport *t)
{
    struct kexinit_lists mine, peer;
    const char *c[L_COUNT], *s[L_COUNT];
    struct amk_kex_negotiated *neg = &t->neg;
    int client = t->role == AMK_TRANSPORT_CLIENT;
    int r = AMK_EINTERNAL;

    memset(&mine, 0, sizeof(mine));
    memset(&peer, 0, sizeof(peer));
    memset(neg, 0, sizeof(*neg));
    if ((r = kexinit_parse(&t->my_kexinit, &mine)) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot parse our own KEXINIT");
        goto out;
    }
    if ((r = kexinit_parse(&t->peer_kexinit, &peer)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed KEXINIT from peer");
        goto out;
    }
    for (int i = 0; i < L_COUNT; i++) {
        c[i] = client ? mine.l[i] : peer.l[i];
        s[i] = client ? peer.l[i] : mine.l[i];
    }
    if (t->kex_count == 0) {
        /* OpenSSH PROTOCOL §1.10: strict KEX when both offered it. */
        t->strict = !t->no_strict &&
            amk_namelist_contains(peer.l[L_KEX], client ? AMK_KEX_STRICT_S : AMK_KEX_STRICT_C);
        /* RFC 8308 §2.1 */
        t->peer_ext_info = !client && amk_namelist_contains(peer.l[L_KEX], AMK_EXT_INFO_C);
    }
    if ((neg->kex = match_kex(c[L_KEX], s[L_KEX])) == NULL) {
        r = no_match(t, L_KEX, c[L_KEX], s[L_KEX]);
        goto out;
    }
    if (amk_namelist_match(c[L_HOSTKEY], s[L_HOSTKEY], neg->hostkey) != AMK_OK) {
        r = no_match(t, L_HOSTKEY, c[L_HOSTKEY], s[L_HOSTKEY]);
        goto out;
    }
    for (int d = 0; d < 2; d++) {
        const struct amk_cipher_info *ci;
        if (amk_namelist_match(c[L_ENC_C2S + d], s[L_ENC_C2S + d], neg->cipher[d]) != AMK_OK) {
            r = no_match(t, L_ENC_C2S + d, c[L_ENC_C2S + d], s[L_ENC_C2S + d]);
            goto out;
        }
        ci = amk_cipher_info_find(neg->cipher[d]);
        if (ci == NULL) {
            r = amk_transport_fail(t, AMK_ENOMATCH, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
                "negotiated cipher %s is not implemented", neg->cipher[d]);
            goto out;
        }
        /* AEAD ciphers carry their own tag: the MAC lists are not used
         * (OpenSSH PROTOCOL.chacha20poly1305, RFC 5647 §5.1 as amended). */
        if (ci->tag_len == 0 &&
            amk_namelist_match(c[L_MAC_C2S + d], s[L_MAC_C2S + d], neg->mac[d]) != AMK_OK) {
            r = no_match(t, L_MAC_C2S + d, c[L_MAC_C2S + d], s[L_MAC_C2S + d]);
            goto out;
        }
        if (amk_namelist_match(c[L_COMP_C2S + d], s[L_COMP_C2S + d], neg->comp[d]) != AMK_OK) {
            r = no_match(t, L_COMP_C2S + d, c[L_COMP_C2S + d], s[L_COMP_C2S + d]);
            goto out;
        }
    }
    /* RFC 4253 §7.1: a guessed packet is ignored when the guess was wrong,
     * that is when the peer's first KEX or host-key algorithm is not the
     * negotiated one. */
    t->ignore_guess = 0;
    if (peer.follows) {
        char k0[AMK_NAME_MAX + 1], h0[AMK_NAME_MAX + 1];
        first_name(peer.l[L_KEX], k0);
        first_name(peer.l[L_HOSTKEY], h0);
        t->ignore_guess = strcmp(k0, neg->kex->name) != 0 || strcmp(h0, neg->hostkey) != 0;
    }
    amk_log(&t->log, AMK_LOG_DEBUG, "kex: %s, host key %s, %s/%s %s/%s %s/%s%s",
        neg->kex->name, neg->hostkey, neg->cipher[0], neg->cipher[1],
        neg->mac[0], neg->mac[1], neg->comp[0], neg->comp[1], t->strict ? ", strict" : "");
    r = AMK_OK;
out:
    lists_free(&mine);
    lists_free(&peer);
    return r;
}
