/* see transport/transport.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cipher.h"
#include "crypto/rand.h"
#include "keys/key.h"
#include "transport/transport_int.h"
#include "util/namelist.h"
#include "util/secure.h"

static const char client_hostkey_defaults[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "rsa-sha2-512,rsa-sha2-256";
static const char server_hostkey_defaults[] =
    "ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp521";
static const char hostkey_supported[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ssh-dss";
static const char cipher_defaults[] =
    "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
    "aes128-ctr,aes192-ctr,aes256-ctr";
static const char mac_defaults[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512";
static const char comp_defaults[] = "none,zlib@openssh.com";
static const char comp_supported[] = "none,zlib@openssh.com,zlib";
static const char server_sig_algs_default[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "rsa-sha2-512,rsa-sha2-256";

/* --- Errors --------------------------------------------------------- */

static int
send_disconnect(struct amk_transport *t, uint32_t reason, const char *desc)
{
    struct amk_buf b;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b);
    /* RFC 4253 §11.1 */
    if ((r = amk_buf_put_u8(&b, AMK_MSG_DISCONNECT)) != AMK_OK ||
        (r = amk_buf_put_u32(&b, reason)) != AMK_OK ||
        (r = amk_buf_put_cstring(&b, desc != NULL ? desc : "")) != AMK_OK ||
        (r = amk_buf_put_cstring(&b, "")) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(&b), amk_buf_len(&b))) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_release(&b);
    return r;
}

int
amk_transport_fail(struct amk_transport *t, int code, uint32_t reason, const char *fmt, ...)
{
    va_list ap;

    if (t->error != AMK_OK)
        return t->error;
    t->error = code;
    t->err.code = code;
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(t->err.msg, sizeof(t->err.msg), fmt, ap);
        va_end(ap);
    } else {
        snprintf(t->err.msg, sizeof(t->err.msg), "%s", amk_strerror(code));
    }
    amk_log(&t->log, AMK_LOG_ERROR, "transport: %s", t->err.msg);
    /* Tell the peer why, with the RFC 4253 §11.1 reason; the detail stays local. */
    if (reason != 0 && !t->closed) {
        t->closed = 1;
        (void)send_disconnect(t, reason, amk_strerror(code));
    }
    amk_buf_reset(&t->held);
    return code;
}

/* --- Creation ------------------------------------------------------- */

/* Server host-key algorithms: those of @p list we hold a key for. */
static int
filter_hostkeys(struct amk_transport *t, const char *list, char **out)
{
    size_t n = strlen(list);
    char *res = NULL;
    size_t o = 0;
    const char *p = list;

    *out = NULL;
    if ((res = malloc(n + 1)) == NULL)
        return AMK_ENOMEM;
    while (*p != '\0') {
        char name[AMK_NAME_MAX + 1];
        size_t l = strcspn(p, ",");
        int have = 0;
        if (l <= AMK_NAME_MAX) {
            memcpy(name, p, l);
            name[l] = '\0';
            for (size_t i = 0; i < t->n_host_keys; i++)
                have |= amk_key_sig_alg_ok(t->host_keys[i], name);
            if (have) {
                if (o > 0)
                    res[o++] = ',';
                memcpy(res + o, name, l);
                o += l;
            }
        }
        p += l;
        if (*p == ',')
            p++;
    }
    res[o] = '\0';
    if (o == 0) {
        free(res);
        return AMK_EINVAL;
    }
    *out = res;
    return AMK_OK;
}

static int
config_lists(struct amk_transport *t, const struct amk_transport_config *cfg)
{
    int server = cfg->role == AMK_TRANSPORT_SERVER;
    char *kexdef = NULL, *hk = NULL;
    int r = AMK_EINTERNAL;

    if ((r = amk_kex_defaults(cfg->role, &kexdef)) != AMK_OK)
        goto out;
    if ((r = amk_namelist_apply(kexdef, amk_kex_names(), cfg->kex_algs, &t->kex_algs)) != AMK_OK ||
        (r = amk_namelist_apply(server ? server_hostkey_defaults : client_hostkey_defaults,
            hostkey_supported, cfg->hostkey_algs, &hk)) != AMK_OK ||
        (r = amk_namelist_apply(cipher_defaults, amk_cipher_names(), cfg->ciphers,
            &t->ciphers)) != AMK_OK ||
        (r = amk_namelist_apply(mac_defaults, amk_mac_names(), cfg->macs, &t->macs)) != AMK_OK ||
        (r = amk_namelist_apply(comp_defaults, comp_supported, cfg->compression,
            &t->compression)) != AMK_OK)
        goto out;
    if (server) {
        if ((r = filter_hostkeys(t, hk, &t->hostkey_algs)) != AMK_OK)
            goto out;
    } else {
        t->hostkey_algs = hk;
        hk = NULL;
    }
    r = AMK_OK;
out:
    free(kexdef);
    free(hk);
    return r;
}

int
amk_transport_new(struct amk_transport **out, const struct amk_transport_config *cfg)
{
    struct amk_transport *t = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (cfg == NULL || (cfg->role != AMK_TRANSPORT_CLIENT && cfg->role != AMK_TRANSPORT_SERVER))
        return AMK_EINVAL;
    if (cfg->role == AMK_TRANSPORT_SERVER && (cfg->host_keys == NULL || cfg->n_host_keys == 0))
        return AMK_EINVAL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return AMK_ENOMEM;
    t->role = cfg->role;
    t->log = cfg->log;
    t->rng = cfg->rng;
    t->hostkey_cb = cfg->hostkey_cb;
    t->user = cfg->user;
    t->host_keys = cfg->host_keys;
    t->no_strict = cfg->disable_strict_kex != 0;
    t->n_host_keys = cfg->n_host_keys;
    amk_buf_init(&t->out);
    amk_buf_init(&t->held);
    amk_buf_init(&t->inq);
    amk_buf_init(&t->zq);
    amk_buf_init(&t->inplace);
    amk_buf_init(&t->pkt);
    amk_buf_init(&t->my_kexinit);
    amk_buf_init(&t->peer_kexinit);
    amk_buf_init(&t->gex_p);
    amk_buf_init(&t->gex_g);
    amk_buf_init(&t->client_pub);
    t->rekey_bytes = cfg->rekey_bytes != 0 ? cfg->rekey_bytes : AMK_TRANSPORT_REKEY_BYTES_DEFAULT;
    if (cfg->rekey_seconds == AMK_TRANSPORT_REKEY_NEVER)
        t->rekey_ms = AMK_TRANSPORT_REKEY_NEVER;
    else if (cfg->rekey_seconds == 0)
        t->rekey_ms = (uint64_t)AMK_TRANSPORT_REKEY_SECONDS_DEFAULT * 1000;
    else if (cfg->rekey_seconds > UINT64_MAX / 2000)
        t->rekey_ms = AMK_TRANSPORT_REKEY_NEVER;
    else
        t->rekey_ms = cfg->rekey_seconds * 1000;
    t->handshake_timeout_ms = cfg->handshake_timeout_ms;
    if ((r = config_lists(t, cfg)) != AMK_OK)
        goto out;
    if ((t->server_sig_algs = strdup(cfg->server_sig_algs != NULL ? cfg->server_sig_algs :
            server_sig_algs_default)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* RFC 4253 §4.2: the server may send lines before its version. */
    if (t->role == AMK_TRANSPORT_SERVER && cfg->server_banner != NULL) {
        size_t bl = strlen(cfg->server_banner);
        if (strncmp(cfg->server_banner, "SSH-", 4) == 0) {
            r = AMK_EINVAL;
            goto out;
        }
        if ((r = amk_buf_put(&t->out, cfg->server_banner, bl)) != AMK_OK ||
            (bl > 0 && cfg->server_banner[bl - 1] != '\n' &&
            (r = amk_buf_put(&t->out, "\r\n", 2)) != AMK_OK))
            goto out;
    }
    if ((r = amk_version_local(t, cfg->version_comment)) != AMK_OK)
        goto out;
    /* Our KEXINIT goes out without waiting for the peer's version. */
    if ((r = amk_kex_start(t)) != AMK_OK)
        goto out;
    *out = t;
    t = NULL;
    r = AMK_OK;
out:
    amk_transport_free(t);
    return r;
}

void
amk_transport_free(struct amk_transport *t)
{
    if (t == NULL)
        return;
    free(t->kex_algs);
    free(t->hostkey_algs);
    free(t->ciphers);
    free(t->macs);
    free(t->compression);
    free(t->server_sig_algs);
    free(t->local_version);
    free(t->peer_version);
    free(t->peer_sig_algs);
    free(t->peer_disconnect_msg);
    amk_inbuf_free(&t->in);
    amk_buf_release(&t->out);
    amk_buf_release(&t->held);
    amk_buf_release(&t->inq);
    amk_buf_release(&t->zq);
    amk_buf_release(&t->inplace);
    amk_buf_release(&t->pkt);
    amk_buf_release(&t->my_kexinit);
    amk_buf_release(&t->peer_kexinit);
    amk_kex_reset(t);
    amk_buf_release(&t->gex_p);
    amk_buf_release(&t->gex_g);
    amk_buf_release(&t->client_pub);
    amk_pkt_cipher_free(t->dir_in.cipher);
    amk_pkt_cipher_free(t->dir_out.cipher);
    amk_pkt_cipher_free(t->pending_in);
    amk_pkt_cipher_free(t->pending_out);
    amk_compress_free(t->dir_in.comp);
    amk_compress_free(t->dir_out.comp);
    amk_key_free(t->host_key);
    amk_wipe(t, sizeof(*t));
    free(t);
}

/* --- Sending -------------------------------------------------------- */

/* Upper-layer packets wait while our side of a key exchange runs. */
static int
out_blocked(const struct amk_transport *t)
{
    return t->kexinit_sent && !t->newkeys_sent;
}

int
amk_transport_send_now(struct amk_transport *t, const uint8_t *payload, size_t len)
{
    return amk_transport_send_now2(t, payload, len, NULL, 0);
}

int
amk_transport_send_now2(struct amk_transport *t, const uint8_t *payload, size_t len,
    const uint8_t *data, size_t dlen)
{
    int r = amk_packet_send2(t, payload, len, data, dlen);

    if (r != AMK_OK)
        return amk_transport_fail(t, r, 0, "cannot send a packet: %s", amk_strerror(r));
    /* OpenSSH PROTOCOL: the server compresses after USERAUTH_SUCCESS. */
    if (t->role == AMK_TRANSPORT_SERVER && payload[0] == AMK_MSG_USERAUTH_SUCCESS) {
        t->authenticated = 1;
        t->dir_out.comp_delayed = 0;
        t->dir_in.comp_delayed = 0;
    }
    return AMK_OK;
}

int
amk_transport_flush_held(struct amk_transport *t)
{
    int r = AMK_EINTERNAL;

    while (amk_buf_len(&t->held) > 0) {
        uint32_t len;
        if ((r = amk_buf_get_u32(&t->held, &len)) != AMK_OK ||
            amk_buf_len(&t->held) < len)
            return amk_transport_fail(t, AMK_EINTERNAL, 0, "held packet queue corrupt");
        if ((r = amk_transport_send_now(t, amk_buf_ptr(&t->held), len)) != AMK_OK)
            return r;
        if ((r = amk_buf_consume(&t->held, len)) != AMK_OK)
            return amk_transport_fail(t, r, 0, NULL);
    }
    return AMK_OK;
}

/* RFC 4253 §9, RFC 4344 §3: rekey when a direction used its budget. */
static int
check_rekey(struct amk_transport *t)
{
    if (t->error != AMK_OK || t->closed || t->kex_count == 0 || t->phase != AMK_KEX_IDLE)
        return t->error;
    if (t->dir_out.bytes >= t->rekey_bytes || t->dir_in.bytes >= t->rekey_bytes ||
        t->dir_out.packets >= AMK_TRANSPORT_REKEY_PACKETS ||
        t->dir_in.packets >= AMK_TRANSPORT_REKEY_PACKETS) {
        amk_log(&t->log, AMK_LOG_DEBUG, "rekeying: data limit reached");
        return amk_kex_start(t);
    }
    return AMK_OK;
}

/* Queues the payload @p payload (@p len bytes) followed by @p dlen bytes
 * at @p data. */
static int
queue_packet(struct amk_transport *t, const uint8_t *payload, size_t len, const uint8_t *data,
    size_t dlen)
{
    int r = AMK_EINTERNAL;

    if (t->error != AMK_OK)
        return t->error;
    if (t->closed)
        return AMK_ECLOSED;
    if (amk_buf_len(&t->out) + amk_buf_len(&t->held) > AMK_TRANSPORT_SENDQ_MAX)
        return AMK_EAGAIN;
    if (out_blocked(t) || amk_buf_len(&t->held) > 0) {
        if ((r = amk_buf_put_u32(&t->held, (uint32_t)(len + dlen))) != AMK_OK ||
            (r = amk_buf_put(&t->held, payload, len)) != AMK_OK ||
            (dlen > 0 && (r = amk_buf_put(&t->held, data, dlen)) != AMK_OK))
            return r;
        return AMK_OK;
    }
    if ((r = amk_transport_send_now2(t, payload, len, data, dlen)) != AMK_OK)
        return r;
    return check_rekey(t);
}

int
amk_transport_send(struct amk_transport *t, const uint8_t *payload, size_t len)
{
    return amk_transport_send2(t, payload, len, NULL, 0);
}

int
amk_transport_send2(struct amk_transport *t, const uint8_t *payload, size_t len,
    const uint8_t *data, size_t dlen)
{
    if (t == NULL || payload == NULL || len == 0 || (data == NULL && dlen > 0) ||
        dlen > AMK_TRANSPORT_MAX_PAYLOAD || len > AMK_TRANSPORT_MAX_PAYLOAD - dlen)
        return AMK_EINVAL;
    /* Transport messages are the engine's own (RFC 4251 §7). */
    if (payload[0] < AMK_MSG_USERAUTH_FIRST && payload[0] != AMK_MSG_SERVICE_REQUEST &&
        payload[0] != AMK_MSG_SERVICE_ACCEPT)
        return AMK_EINVAL;
    return queue_packet(t, payload, len, data, dlen);
}

int
amk_transport_send_ignore(struct amk_transport *t, size_t len)
{
    struct amk_buf b;
    uint8_t *p;
    int r = AMK_EINTERNAL;

    if (t == NULL || len > AMK_TRANSPORT_MAX_PAYLOAD - 16)
        return AMK_EINVAL;
    amk_buf_init(&b);
    /* RFC 4253 §11.2 */
    if ((r = amk_buf_put_u8(&b, AMK_MSG_IGNORE)) != AMK_OK ||
        (r = amk_buf_put_u32(&b, (uint32_t)len)) != AMK_OK ||
        (r = amk_buf_reserve(&b, len, &p)) != AMK_OK ||
        (r = amk_random_bytes(t->rng, p, len)) != AMK_OK)
        goto out;
    r = queue_packet(t, amk_buf_ptr(&b), amk_buf_len(&b), NULL, 0);
out:
    amk_buf_release(&b);
    return r;
}


/* Bytes of decoded input not yet delivered (in place and inline). */
static size_t
decoded_bytes(const struct amk_transport *t)
{
    return t->in_decoded + amk_buf_len(&t->zq);
}

/*
 * Drops decoded packets from the head of t->in up to the first payload
 * still waiting for (or just returned by) amk_transport_recv().
 */
static void
trim_input(struct amk_transport *t)
{
    uint64_t keep = t->in_abs + t->in_decoded, first;
    size_t n;

    if (t->ret_pending && !t->ret_inline && t->ret_start < keep)
        keep = t->ret_start;
    /* The oldest payload still in place (their starts only grow). */
    if (amk_buf_len(&t->inplace) >= sizeof(first)) {
        memcpy(&first, amk_buf_ptr(&t->inplace), sizeof(first));
        if (first < keep)
            keep = first;
    }
    n = (size_t)(keep - t->in_abs);
    if (n == 0)
        return;
    amk_inbuf_consume(&t->in, n);
    t->in_abs += n;
    t->in_decoded -= n;
}

int
amk_transport_queue_upper(struct amk_transport *t, const struct amk_buf *payload)
{
    struct amk_inq_entry e;
    size_t len = amk_buf_len(payload);
    int r = AMK_EINTERNAL;

    memset(&e, 0, sizeof(e));
    e.len = (uint32_t)len;
    if (t->pkt_inline) {
        e.inline_ = 1;
        if ((r = amk_buf_put_u32(&t->zq, (uint32_t)len)) != AMK_OK ||
            (r = amk_buf_putb(&t->zq, payload)) != AMK_OK)
            return amk_transport_fail(t, r, 0, NULL);
    } else {
        /* In place: the payload stays where it was decrypted. */
        if (amk_buf_ptr(payload) != t->pkt_payload || len != t->pkt_len)
            return amk_transport_fail(t, AMK_EINTERNAL, 0, "payload is not the current packet");
        e.start = t->pkt_start;
        if ((r = amk_buf_put(&t->inplace, &e.start, sizeof(e.start))) != AMK_OK)
            return amk_transport_fail(t, r, 0, NULL);
    }
    if ((r = amk_buf_put(&t->inq, &e, sizeof(e))) != AMK_OK)
        return amk_transport_fail(t, r, 0, NULL);
    return AMK_OK;
}

/* Runs the input side as far as it goes. */
static int
process(struct amk_transport *t)
{
    int r = AMK_EINTERNAL;

    if (t->error != AMK_OK)
        return t->error;
    if (t->vstate == AMK_VERSION_WAIT) {
        r = amk_version_parse(t);
        if (r == AMK_EAGAIN)
            return AMK_OK;
        if (r != AMK_OK)
            return r;
    }
    while (decoded_bytes(t) < AMK_TRANSPORT_INQ_MAX) {
        struct amk_buf msg;
        r = amk_packet_next(t);
        if (r == AMK_EAGAIN)
            break;
        if (r != AMK_OK)
            return r;
        amk_buf_view(&msg, t->pkt_payload, t->pkt_len);
        r = amk_transport_dispatch(t, &msg);
        /* Packets the engine handled itself need not stay. */
        trim_input(t);
        if (r != AMK_OK)
            return r;
        if ((r = check_rekey(t)) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

static void
set_time(struct amk_transport *t, uint64_t now_ms)
{
    if (!t->have_time) {
        t->have_time = 1;
        t->start_ms = now_ms;
        t->last_kex_ms = now_ms;
    }
    t->now_ms = now_ms;
}

static int
run_timers(struct amk_transport *t)
{
    if (t->error != AMK_OK)
        return t->error;
    if (t->kex_count == 0 && t->handshake_timeout_ms != 0 &&
        t->now_ms - t->start_ms >= t->handshake_timeout_ms)
        return amk_transport_fail(t, AMK_ETIMEOUT, AMK_DISCONNECT_BY_APPLICATION,
            "key exchange not complete after %llu ms",
            (unsigned long long)t->handshake_timeout_ms);
    if (t->kex_count > 0 && t->phase == AMK_KEX_IDLE && !t->closed &&
        t->rekey_ms != AMK_TRANSPORT_REKEY_NEVER && t->now_ms - t->last_kex_ms >= t->rekey_ms) {
        amk_log(&t->log, AMK_LOG_DEBUG, "rekeying: time limit reached");
        return amk_kex_start(t);
    }
    return AMK_OK;
}

int
amk_transport_input_space(struct amk_transport *t, size_t want, uint8_t **ptr, size_t *cap)
{
    int r = AMK_EINTERNAL;

    if (ptr != NULL)
        *ptr = NULL;
    if (cap != NULL)
        *cap = 0;
    if (t == NULL || ptr == NULL || cap == NULL || want == 0 || want > AMK_TRANSPORT_INPUT_MAX)
        return AMK_EINVAL;
    if (t->error != AMK_OK)
        return t->error;
    if (!amk_transport_wants_read(t))
        return AMK_EAGAIN;
    if ((r = amk_inbuf_space(&t->in, want, ptr, cap)) != AMK_OK)
        return amk_transport_fail(t, r, 0, "input buffer full");
    t->in_room = *cap;
    return AMK_OK;
}

int
amk_transport_input_commit(struct amk_transport *t, size_t n, uint64_t now_ms)
{
    int r = AMK_EINTERNAL;

    if (t == NULL)
        return AMK_EINVAL;
    set_time(t, now_ms);
    if (t->error != AMK_OK)
        return t->error;
    if (n > t->in_room)
        return AMK_EINVAL;
    t->in_room = 0;
    amk_inbuf_commit(&t->in, n);
    if ((r = process(t)) != AMK_OK)
        return r;
    return run_timers(t);
}

int
amk_transport_feed(struct amk_transport *t, const void *data, size_t len, uint64_t now_ms)
{
    uint8_t *p;
    size_t cap;
    int r = AMK_EINTERNAL;

    if (t == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    set_time(t, now_ms);
    if (t->error != AMK_OK)
        return t->error;
    if (len > 0) {
        if (!amk_transport_wants_read(t))
            return AMK_EAGAIN;
        if (len > AMK_TRANSPORT_INPUT_MAX ||
            (r = amk_inbuf_space(&t->in, len, &p, &cap)) != AMK_OK)
            return amk_transport_fail(t, len > AMK_TRANSPORT_INPUT_MAX ? AMK_ELIMIT : r, 0,
                "input buffer full");
        memcpy(p, data, len);
        amk_inbuf_commit(&t->in, len);
    }
    if ((r = process(t)) != AMK_OK)
        return r;
    return run_timers(t);
}

int
amk_transport_feed_eof(struct amk_transport *t)
{
    if (t->error != AMK_OK)
        return t->error;
    return amk_transport_fail(t, AMK_ECLOSED, 0, "connection closed by peer");
}

int
amk_transport_wants_read(const struct amk_transport *t)
{
    if (t->error != AMK_OK)
        return 0;
    return !(decoded_bytes(t) >= AMK_TRANSPORT_INQ_MAX &&
        amk_inbuf_len(&t->in) - t->in_decoded >= AMK_TRANSPORT_MAX_PACKET);
}

/* Lets go of the payload amk_transport_recv() returned last. */
static void
release_returned(struct amk_transport *t)
{
    if (!t->ret_pending)
        return;
    t->ret_pending = 0;
    /* recv checked that zq holds the entry */
    if (t->ret_inline && amk_buf_consume(&t->zq, (size_t)t->ret_len + 4) != AMK_OK)
        amk_buf_reset(&t->zq);
    trim_input(t);
}

#ifdef AMK_CAPTURE
unsigned long *
amk_transport_capture_id(struct amk_transport *t)
{
    return &t->capture_id;
}
#endif

int
amk_transport_recv(struct amk_transport *t, const uint8_t **payload, size_t *len)
{
    struct amk_inq_entry e;
    uint32_t n;
    int r = AMK_EINTERNAL;

    *payload = NULL;
    *len = 0;
    release_returned(t);
    if (amk_buf_len(&t->inq) == 0) {
        if (t->error == AMK_OK && amk_inbuf_len(&t->in) > t->in_decoded)
            (void)process(t);
        if (amk_buf_len(&t->inq) == 0)
            return t->error != AMK_OK ? t->error : AMK_EAGAIN;
    }
    if ((r = amk_buf_get_bytes(&t->inq, &e, sizeof(e))) != AMK_OK)
        return amk_transport_fail(t, AMK_EINTERNAL, 0, "receive queue");
    t->ret_pending = 1;
    t->ret_inline = (int)e.inline_;
    t->ret_len = e.len;
    if (e.inline_) {
        if ((r = amk_buf_peek_u32(&t->zq, 0, &n)) != AMK_OK || n != e.len ||
            amk_buf_len(&t->zq) < (size_t)n + 4) {
            t->ret_pending = 0;
            return amk_transport_fail(t, AMK_EINTERNAL, 0, "receive queue");
        }
        *payload = amk_buf_ptr(&t->zq) + 4;
    } else {
        t->ret_start = e.start;
        if (amk_buf_consume(&t->inplace, sizeof(e.start)) != AMK_OK) {
            t->ret_pending = 0;
            return amk_transport_fail(t, AMK_EINTERNAL, 0, "receive queue");
        }
        /* The packet is still in t->in: trim_input() keeps it. */
        *payload = amk_inbuf_ptr(&t->in) + (size_t)(e.start - t->in_abs) + AMK_PKT_HEADER_LEN;
    }
    *len = e.len;
    return AMK_OK;
}

/* --- Output --------------------------------------------------------- */

void
amk_transport_output(struct amk_transport *t, const uint8_t **ptr, size_t *len)
{
    *ptr = amk_buf_ptr(&t->out);
    *len = amk_buf_len(&t->out);
}

int
amk_transport_output_consume(struct amk_transport *t, size_t n)
{
    if (n > amk_buf_len(&t->out))
        return AMK_EINVAL;
    return amk_buf_consume(&t->out, n);
}

int
amk_transport_wants_write(const struct amk_transport *t)
{
    return amk_buf_len(&t->out) > 0;
}

/* --- Time and control ----------------------------------------------- */

uint64_t
amk_transport_next_deadline(const struct amk_transport *t)
{
    uint64_t d = AMK_TRANSPORT_NO_DEADLINE;

    if (!t->have_time || t->error != AMK_OK)
        return d;
    if (t->kex_count == 0 && t->handshake_timeout_ms != 0)
        d = t->start_ms + t->handshake_timeout_ms;
    if (t->kex_count > 0 && t->phase == AMK_KEX_IDLE && t->rekey_ms != AMK_TRANSPORT_REKEY_NEVER &&
        t->last_kex_ms + t->rekey_ms < d)
        d = t->last_kex_ms + t->rekey_ms;
    return d;
}

int
amk_transport_tick(struct amk_transport *t, uint64_t now_ms)
{
    set_time(t, now_ms);
    return run_timers(t);
}

int
amk_transport_rekey(struct amk_transport *t)
{
    if (t->error != AMK_OK)
        return t->error;
    if (t->closed)
        return AMK_ECLOSED;
    if (t->kex_count == 0)
        return AMK_ESTATE;
    if (t->phase != AMK_KEX_IDLE)
        return AMK_OK;
    return amk_kex_start(t);
}

int
amk_transport_disconnect(struct amk_transport *t, enum amk_disconnect_reason reason,
    const char *description)
{
    int r = AMK_EINTERNAL;

    if (t->error != AMK_OK)
        return t->error;
    amk_buf_reset(&t->held);
    r = send_disconnect(t, (uint32_t)reason, description);
    t->closed = 1;
    t->error = AMK_ECLOSED;
    t->err.code = AMK_ECLOSED;
    snprintf(t->err.msg, sizeof(t->err.msg), "disconnected by us (reason %u)", (unsigned)reason);
    return r;
}

int
amk_transport_set_authenticated(struct amk_transport *t)
{
    if (t->error != AMK_OK)
        return t->error;
    t->authenticated = 1;
    t->dir_in.comp_delayed = 0;
    t->dir_out.comp_delayed = 0;
    return AMK_OK;
}

/* --- Queries -------------------------------------------------------- */

enum amk_transport_role
amk_transport_role(const struct amk_transport *t)
{
    return t->role;
}

int
amk_transport_handshake_done(const struct amk_transport *t)
{
    return t->kex_count > 0;
}

int
amk_transport_kex_running(const struct amk_transport *t)
{
    return t->phase != AMK_KEX_IDLE;
}

void
amk_transport_session_id(const struct amk_transport *t, const uint8_t **id, size_t *len)
{
    *id = t->session_id;
    *len = t->kex_count > 0 ? t->session_id_len : 0;
}

int
amk_transport_algs(const struct amk_transport *t, struct amk_transport_algs *out)
{
    if (t->kex_count == 0)
        return AMK_ESTATE;
    *out = t->algs;
    return AMK_OK;
}

const struct amk_key *
amk_transport_host_key(const struct amk_transport *t)
{
    return t->kex_count > 0 ? t->host_key : NULL;
}

const char *
amk_transport_server_sig_algs(const struct amk_transport *t)
{
    return t->peer_sig_algs;
}

const char *
amk_transport_peer_version(const struct amk_transport *t)
{
    return t->peer_version;
}

const char *
amk_transport_local_version(const struct amk_transport *t)
{
    return t->local_version;
}

int
amk_transport_error(const struct amk_transport *t)
{
    return t->error;
}

const char *
amk_transport_last_error(const struct amk_transport *t)
{
    return t->error != AMK_OK ? t->err.msg : "";
}

uint32_t
amk_transport_disconnect_reason(const struct amk_transport *t)
{
    return t->peer_disconnect_reason;
}

const char *
amk_transport_disconnect_message(const struct amk_transport *t)
{
    return t->peer_disconnect_msg != NULL ? t->peer_disconnect_msg : "";
}

uint64_t
amk_transport_bytes_out(const struct amk_transport *t)
{
    return t->dir_out.total_bytes;
}

uint64_t
amk_transport_bytes_in(const struct amk_transport *t)
{
    return t->dir_in.total_bytes;
}
