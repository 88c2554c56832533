/*
 * The connection engine's core: the channel table, the dispatch of
 * received messages, the control-message queue, and opening, EOF and
 * closing of channels (RFC 4254 §5.1, §5.3). See channel/conn.h.
 */
#include "channel/conn_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

/* --- Errors ----------------------------------------------------------- */

int
amk_conn_fail(struct amk_conn *c, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[AMK_ERROR_MSG_MAX];

    if (c->err != AMK_OK)
        return c->err;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->err = code;
    amk_log(&c->log, AMK_LOG_ERROR, "connection: %s", msg);
    return amk_error_set(&c->detail, code, "%s", msg);
}

int
amk_conn_error(const struct amk_conn *c)
{
    return c == NULL ? AMK_EINVAL : c->err;
}

const char *
amk_conn_last_error(const struct amk_conn *c)
{
    return c == NULL ? "" : amk_error_msg(&c->detail);
}

char *
amk_conn_text(const uint8_t *p, size_t len)
{
    char *s;

    if (len > AMK_CONN_TEXT_MAX)
        len = AMK_CONN_TEXT_MAX;
    s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        s[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    s[len] = '\0';
    return s;
}

/* --- Output ----------------------------------------------------------- */

/* Calls the sink (named through a pointer: the engine never calls send(2)). */
static int
conn_sink(struct amk_conn *c, const uint8_t *p, size_t len)
{
    return (*c->sink.send)(c->sink.user, p, len);
}

/* Sends queued control payloads in order until the sink refuses. */
static int
conn_flush_pending(struct amk_conn *c)
{
    uint32_t len;
    int r;

    while (amk_buf_len(&c->pending) > 0) {
        if ((r = amk_buf_peek_u32(&c->pending, 0, &len)) != AMK_OK)
            return amk_conn_fail(c, AMK_EINTERNAL, "control queue corrupt");
        r = conn_sink(c, amk_buf_ptr(&c->pending) + 4, len);
        if (r == AMK_EAGAIN)
            return AMK_EAGAIN;
        if (r != AMK_OK)
            return amk_conn_fail(c, r, "sending a queued message failed: %s", amk_strerror(r));
        if ((r = amk_buf_consume(&c->pending, (size_t)len + 4)) != AMK_OK)
            return amk_conn_fail(c, AMK_EINTERNAL, "control queue corrupt");
    }
    return AMK_OK;
}

int
amk_conn_flush(struct amk_conn *c)
{
    if (c == NULL)
        return AMK_EINVAL;
    if (c->err != AMK_OK)
        return c->err;
    return conn_flush_pending(c);
}

int
amk_conn_wants_flush(const struct amk_conn *c)
{
    return c != NULL && c->err == AMK_OK && amk_buf_len(&c->pending) > 0;
}

int
amk_conn_enter(struct amk_conn *c)
{
    int r;

    if (c->err != AMK_OK)
        return c->err;
    r = conn_flush_pending(c);
    return r == AMK_EAGAIN ? AMK_OK : r;
}

int
amk_conn_msg_start(struct amk_conn *c, uint8_t type)
{
    amk_buf_reset(&c->msg);
    return amk_buf_put_u8(&c->msg, type);
}

int
amk_conn_msg_send(struct amk_conn *c, int from_peer)
{
    size_t len = amk_buf_len(&c->msg);
    int r;

    if (len > UINT32_MAX)
        return AMK_EINVAL;
    if (amk_buf_len(&c->pending) > 0 && (r = conn_flush_pending(c)) != AMK_OK
        && r != AMK_EAGAIN)
        return r;
    if (amk_buf_len(&c->pending) == 0) {
        r = conn_sink(c, amk_buf_ptr(&c->msg), len);
        if (r == AMK_OK)
            return AMK_OK;
        if (r != AMK_EAGAIN)
            return amk_conn_fail(c, r, "sending a message failed: %s", amk_strerror(r));
    }
    if (amk_buf_len(&c->pending) + len + 4 > AMK_CONN_PENDING_MAX) {
        if (!from_peer)
            return AMK_EAGAIN;
        return amk_conn_fail(c, AMK_ELIMIT, "more than %zu bytes of replies queued: the "
            "peer sends requests faster than the output drains", AMK_CONN_PENDING_MAX);
    }
    if ((r = amk_buf_put_u32(&c->pending, (uint32_t)len)) != AMK_OK
        || (r = amk_buf_putb(&c->pending, &c->msg)) != AMK_OK)
        return amk_conn_fail(c, r, "queueing a message failed");
    return AMK_OK;
}

int
amk_conn_msg_send_now(struct amk_conn *c)
{
    int r;

    if (amk_buf_len(&c->pending) > 0 && (r = conn_flush_pending(c)) != AMK_OK)
        return r;
    r = conn_sink(c, amk_buf_ptr(&c->msg), amk_buf_len(&c->msg));
    if (r == AMK_OK || r == AMK_EAGAIN)
        return r;
    return amk_conn_fail(c, r, "sending data failed: %s", amk_strerror(r));
}

int
amk_conn_msg_send_data(struct amk_conn *c, const uint8_t *data, size_t dlen)
{
    int r;

    if (amk_buf_len(&c->pending) > 0 && (r = conn_flush_pending(c)) != AMK_OK)
        return r;
    if (c->sink.send2 != NULL) {
        /* the data goes straight into the packet: c->msg keeps the header */
        r = (*c->sink.send2)(c->sink.user, amk_buf_ptr(&c->msg), amk_buf_len(&c->msg), data,
            dlen);
    } else {
        if ((r = amk_buf_put(&c->msg, data, dlen)) != AMK_OK)
            return amk_conn_fail(c, r, "building a data message failed");
        r = conn_sink(c, amk_buf_ptr(&c->msg), amk_buf_len(&c->msg));
    }
    if (r == AMK_OK || r == AMK_EAGAIN)
        return r;
    return amk_conn_fail(c, r, "sending data failed: %s", amk_strerror(r));
}

/* --- The channel table ------------------------------------------------ */

struct amk_chan *
amk_conn_chan_find(const struct amk_conn *c, uint32_t id)
{
    uint32_t slot = id & AMK_CONN_SLOT_MASK;
    struct amk_chan *ch;

    if (c == NULL || slot >= c->max_channels)
        return NULL;
    ch = c->slots[slot];
    if (ch == NULL || ch->id != id)
        return NULL;
    return ch;
}

void
amk_conn_chan_changed(struct amk_conn *c, struct amk_chan *ch)
{
    if (ch->flags & CH_QUEUED)
        return;
    ch->flags |= CH_QUEUED;
    ch->next_changed = NULL;
    if (c->changed_tail != NULL)
        c->changed_tail->next_changed = ch;
    else
        c->changed_head = ch;
    c->changed_tail = ch;
}

int
amk_conn_next_changed(struct amk_conn *c, uint32_t *id)
{
    struct amk_chan *ch;

    if (c == NULL || id == NULL)
        return AMK_EINVAL;
    ch = c->changed_head;
    if (ch == NULL)
        return AMK_EAGAIN;
    c->changed_head = ch->next_changed;
    if (c->changed_head == NULL)
        c->changed_tail = NULL;
    ch->next_changed = NULL;
    ch->flags &= ~CH_QUEUED;
    *id = ch->id;
    return AMK_OK;
}

static void
chan_unqueue(struct amk_conn *c, struct amk_chan *ch)
{
    struct amk_chan *prev = NULL;

    if (!(ch->flags & CH_QUEUED))
        return;
    for (struct amk_chan *p = c->changed_head; p != NULL; prev = p, p = p->next_changed) {
        if (p != ch)
            continue;
        if (prev != NULL)
            prev->next_changed = p->next_changed;
        else
            c->changed_head = p->next_changed;
        if (c->changed_tail == p)
            c->changed_tail = prev;
        break;
    }
    ch->flags &= ~CH_QUEUED;
}

static void
chan_destroy(struct amk_chan *ch)
{
    if (ch == NULL)
        return;
    amk_ring_release(&ch->rx[0]);
    amk_ring_release(&ch->rx[1]);
    free(ch->exit_signal);
    free(ch->exit_message);
    free(ch->open_desc);
    free(ch);
}

/* Frees @p ch and its slot; the slot's next channel gets a new number. */
static void
chan_free(struct amk_conn *c, struct amk_chan *ch)
{
    uint32_t slot = ch->id & AMK_CONN_SLOT_MASK;

    chan_unqueue(c, ch);
    c->slots[slot] = NULL;
    c->gens[slot]++;
    c->n_open--;
    chan_destroy(ch);
}

/* A new channel in a free slot, with our receive window set up. */
static int
chan_alloc(struct amk_conn *c, enum amk_chan_state state, struct amk_chan **out)
{
    struct amk_chan *ch = NULL;
    size_t slot = c->max_channels;

    *out = NULL;
    if (c->n_open >= c->max_channels)
        return AMK_ELIMIT;
    for (size_t i = 0; i < c->max_channels; i++) {
        size_t s = (c->slot_hint + i) % c->max_channels;
        if (c->slots[s] == NULL) {
            slot = s;
            break;
        }
    }
    if (slot == c->max_channels)
        return AMK_EINTERNAL;
    if ((ch = calloc(1, sizeof(*ch))) == NULL)
        return AMK_ENOMEM;
    amk_ring_init(&ch->rx[0], c->window);
    amk_ring_init(&ch->rx[1], c->window);
    ch->id = (uint32_t)c->gens[slot] << AMK_CONN_SLOT_BITS | (uint32_t)slot;
    ch->state = state;
    ch->merge_stderr = c->merge_stderr;
    ch->rwin = c->window;
    ch->rwin_max = c->window;
    ch->rmaxpkt = c->maxpacket;
    c->slots[slot] = ch;
    c->n_open++;
    c->slot_hint = slot + 1;
    *out = ch;
    return AMK_OK;
}

/* --- Creation --------------------------------------------------------- */

int
amk_conn_new(struct amk_conn **out, const struct amk_conn_config *cfg,
    const struct amk_pkt_sink *sink)
{
    struct amk_conn *c = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (cfg == NULL || sink == NULL || sink->send == NULL)
        return AMK_EINVAL;
    if ((cfg->window != 0 && (cfg->window < AMK_CONN_WINDOW_MIN
            || cfg->window > AMK_CONN_WINDOW_MAX))
        || (cfg->maxpacket != 0 && (cfg->maxpacket < AMK_CONN_MAXPACKET_MIN
            || cfg->maxpacket > AMK_CONN_MAXPACKET_MAX))
        || cfg->max_channels > AMK_CONN_CHANNELS_MAX)
        return AMK_EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMK_ENOMEM;
    amk_buf_init(&c->pending);
    amk_buf_init(&c->msg);
    c->window = cfg->window != 0 ? cfg->window : AMK_CONN_WINDOW_DEFAULT;
    c->maxpacket = cfg->maxpacket != 0 ? cfg->maxpacket : AMK_CONN_MAXPACKET_DEFAULT;
    c->max_channels = cfg->max_channels != 0 ? cfg->max_channels : AMK_CONN_CHANNELS_DEFAULT;
    c->merge_stderr = cfg->merge_stderr != 0;
    c->ka_interval = cfg->keepalive_interval_ms;
    c->ka_count_max = cfg->keepalive_count_max != 0 ? cfg->keepalive_count_max : 3;
    c->open_cb = cfg->open_cb;
    c->request_cb = cfg->request_cb;
    c->global_cb = cfg->global_cb;
    c->user = cfg->user;
    c->log = cfg->log;
    c->sink = *sink;
    if ((c->slots = calloc(c->max_channels, sizeof(*c->slots))) == NULL
        || (c->gens = calloc(c->max_channels, sizeof(*c->gens))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    *out = c;
    c = NULL;
    r = AMK_OK;
out:
    amk_conn_free(c);
    return r;
}

void
amk_conn_free(struct amk_conn *c)
{
    if (c == NULL)
        return;
    if (c->slots != NULL) {
        for (size_t i = 0; i < c->max_channels; i++)
            chan_destroy(c->slots[i]);
    }
    free(c->slots);
    free(c->gens);
    amk_buf_release(&c->pending);
    amk_buf_release(&c->msg);
    free(c);
}

/* --- Opening ---------------------------------------------------------- */

/* Allocates a channel and sends CHANNEL_OPEN of @p type (RFC 4254 §5.1);
 * @p extra holds the type-specific fields. */
static int
conn_open(struct amk_conn *c, const char *type, const struct amk_buf *extra, uint32_t window,
    uint32_t *id)
{
    struct amk_chan *ch = NULL;
    int r;

    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    if ((r = chan_alloc(c, AMK_CHAN_OPENING, &ch)) != AMK_OK)
        return r;
    if (window != 0)
        ch->rwin = ch->rwin_max = window;
    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_OPEN)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, type)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->id)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->rwin)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->rmaxpkt)) != AMK_OK
        || (extra != NULL && (r = amk_buf_putb(&c->msg, extra)) != AMK_OK)
        || (r = amk_conn_msg_send(c, 0)) != AMK_OK) {
        chan_free(c, ch);
        return r;
    }
    amk_log(&c->log, AMK_LOG_DEBUG, "channel %u: open %s sent", ch->id, type);
    *id = ch->id;
    return AMK_OK;
}

int
amk_conn_open_session(struct amk_conn *c, uint32_t *id)
{
    if (c == NULL || id == NULL)
        return AMK_EINVAL;
    return conn_open(c, "session", NULL, 0, id);
}

int
amk_conn_open_session_window(struct amk_conn *c, uint32_t window, uint32_t *id)
{
    if (c == NULL || id == NULL || (window != 0 && (window < AMK_CONN_WINDOW_MIN ||
            window > c->window)))
        return AMK_EINVAL;
    return conn_open(c, "session", NULL, window, id);
}

int
amk_conn_open_direct_tcpip(struct amk_conn *c, const char *host, uint32_t port,
    const char *orig_host, uint32_t orig_port, uint32_t *id)
{
    struct amk_buf extra;
    int r;

    if (c == NULL || id == NULL || host == NULL || orig_host == NULL || port > 65535
        || orig_port > 65535)
        return AMK_EINVAL;
    amk_buf_init(&extra);
    /* RFC 4254 §7.2 */
    if ((r = amk_buf_put_cstring(&extra, host)) == AMK_OK
        && (r = amk_buf_put_u32(&extra, port)) == AMK_OK
        && (r = amk_buf_put_cstring(&extra, orig_host)) == AMK_OK
        && (r = amk_buf_put_u32(&extra, orig_port)) == AMK_OK)
        r = conn_open(c, "direct-tcpip", &extra, 0, id);
    amk_buf_release(&extra);
    return r;
}

int
amk_conn_chan_recipient(struct amk_conn *c, struct amk_buf *m, const char *what, int opening,
    struct amk_chan **out)
{
    struct amk_chan *ch;
    uint32_t id;
    int r;

    *out = NULL;
    if ((r = amk_buf_get_u32(m, &id)) != AMK_OK)
        return amk_conn_fail(c, r, "%s: truncated before the recipient channel", what);
    ch = amk_conn_chan_find(c, id);
    if (ch == NULL || ch->state == AMK_CHAN_OPEN_FAILED)
        return amk_conn_fail(c, AMK_EPROTO, "%s for unknown channel %u", what, id);
    if (opening && ch->state != AMK_CHAN_OPENING)
        return amk_conn_fail(c, AMK_EPROTO, "%s for channel %u, which is not opening", what, id);
    if (!opening && ch->state == AMK_CHAN_OPENING)
        return amk_conn_fail(c, AMK_EPROTO, "%s for channel %u before its open was confirmed",
            what, id);
    /* RFC 4254 §5.3: nothing follows the peer's CLOSE. */
    if (!opening && (ch->flags & CH_CLOSE_RCVD))
        return amk_conn_fail(c, AMK_EPROTO, "%s for channel %u after its CLOSE", what, id);
    *out = ch;
    return AMK_OK;
}

/* Sends CLOSE on @p ch (once). */
static int
chan_send_close(struct amk_conn *c, struct amk_chan *ch, int from_peer)
{
    int r;

    if (ch->flags & CH_CLOSE_SENT)
        return AMK_OK;
    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_CLOSE)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK
        || (r = amk_conn_msg_send(c, from_peer)) != AMK_OK)
        return r;
    ch->flags |= CH_CLOSE_SENT;
    if (ch->flags & CH_CLOSE_RCVD)
        ch->state = AMK_CHAN_CLOSED;
    return AMK_OK;
}

/* Frees a released channel once nothing can refer to it any more. */
static void
chan_maybe_reap(struct amk_conn *c, struct amk_chan *ch)
{
    if (!(ch->flags & CH_RELEASED))
        return;
    if (ch->state == AMK_CHAN_OPEN_FAILED || ch->state == AMK_CHAN_CLOSED)
        chan_free(c, ch);
}

static int
on_open_confirmation(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    uint32_t sender, window, maxpkt;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_OPEN_CONFIRMATION", 1, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_u32(m, &sender)) != AMK_OK
        || (r = amk_buf_get_u32(m, &window)) != AMK_OK
        || (r = amk_buf_get_u32(m, &maxpkt)) != AMK_OK
        || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_OPEN_CONFIRMATION", ch->id);
    if (maxpkt == 0)
        return amk_conn_fail(c, AMK_EPROTO, "channel %u: the peer's maximum packet size is 0",
            ch->id);
    ch->peer_id = sender;
    ch->swin = window;
    ch->smaxpkt = maxpkt;
    ch->state = AMK_CHAN_OPEN;
    amk_log(&c->log, AMK_LOG_DEBUG, "channel %u: open (peer %u, window %u, packet %u)",
        ch->id, sender, window, maxpkt);
    if (ch->flags & CH_RELEASED)
        return chan_send_close(c, ch, 1);
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

static int
on_open_failure(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    const uint8_t *desc;
    size_t desc_len;
    uint32_t reason;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_OPEN_FAILURE", 1, &ch)) != AMK_OK)
        return r;
    /* RFC 4254 §5.1: reason, description, language tag. Some peers omit the
     * language tag; accept that. */
    if ((r = amk_buf_get_u32(m, &reason)) != AMK_OK
        || (r = amk_buf_get_string_direct(m, &desc, &desc_len)) != AMK_OK
        || (amk_buf_len(m) > 0 && (r = amk_buf_skip_string(m)) != AMK_OK)
        || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_OPEN_FAILURE", ch->id);
    if ((ch->open_desc = amk_conn_text(desc, desc_len)) == NULL)
        return amk_conn_fail(c, AMK_ENOMEM, "out of memory");
    ch->open_reason = reason;
    ch->state = AMK_CHAN_OPEN_FAILED;
    amk_log(&c->log, AMK_LOG_DEBUG, "channel %u: open failed (%u: %s)", ch->id, reason,
        ch->open_desc);
    if (ch->flags & CH_RELEASED) {
        chan_free(c, ch);
        return AMK_OK;
    }
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

static int
on_eof(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_EOF", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_EOF", ch->id);
    if (ch->flags & CH_EOF_RCVD)
        return amk_conn_fail(c, AMK_EPROTO, "channel %u: second CHANNEL_EOF", ch->id);
    ch->flags |= CH_EOF_RCVD;
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

static int
on_close(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_CLOSE", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_CLOSE", ch->id);
    ch->flags |= CH_CLOSE_RCVD;
    /* RFC 4254 §5.3: answer with CLOSE unless we sent it already. */
    if ((r = chan_send_close(c, ch, 1)) != AMK_OK)
        return r;
    ch->state = AMK_CHAN_CLOSED;
    amk_log(&c->log, AMK_LOG_DEBUG, "channel %u: closed", ch->id);
    if (ch->flags & CH_RELEASED) {
        chan_free(c, ch);
        return AMK_OK;
    }
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

/* --- Channels the peer opens ------------------------------------------ */

/* Answers CHANNEL_OPEN from the peer with OPEN_FAILURE. */
static int
open_refuse(struct amk_conn *c, uint32_t peer_id, uint32_t reason, const char *desc)
{
    int r;

    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_OPEN_FAILURE)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, peer_id)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, reason)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, desc)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, "")) != AMK_OK)
        return amk_conn_fail(c, r, "building CHANNEL_OPEN_FAILURE failed");
    return amk_conn_msg_send(c, 1);
}

static int
on_open(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_conn_open_req req;
    struct amk_chan *ch = NULL;
    char *type = NULL, *host = NULL, *orig = NULL;
    uint32_t peer_id;
    int known = 0, decision, r = AMK_EINTERNAL;

    memset(&req, 0, sizeof(req));
    if ((r = amk_buf_get_cstring(m, &type, NULL)) != AMK_OK
        || (r = amk_buf_get_u32(m, &peer_id)) != AMK_OK
        || (r = amk_buf_get_u32(m, &req.peer_window)) != AMK_OK
        || (r = amk_buf_get_u32(m, &req.peer_maxpacket)) != AMK_OK) {
        r = amk_conn_fail(c, r, "malformed CHANNEL_OPEN");
        goto out;
    }
    if (strcmp(type, "forwarded-tcpip") == 0 || strcmp(type, "direct-tcpip") == 0) {
        /* RFC 4254 §7.2: address, port, originator address, port */
        known = 1;
        if ((r = amk_buf_get_cstring(m, &host, NULL)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req.port)) != AMK_OK
            || (r = amk_buf_get_cstring(m, &orig, NULL)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req.orig_port)) != AMK_OK
            || (r = amk_buf_get_end(m)) != AMK_OK) {
            r = amk_conn_fail(c, r, "malformed CHANNEL_OPEN %s", type);
            goto out;
        }
    } else if (strcmp(type, "x11") == 0) {
        /* RFC 4254 §6.3.2: originator address, port */
        known = 1;
        if ((r = amk_buf_get_cstring(m, &orig, NULL)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req.orig_port)) != AMK_OK
            || (r = amk_buf_get_end(m)) != AMK_OK) {
            r = amk_conn_fail(c, r, "malformed CHANNEL_OPEN x11");
            goto out;
        }
    } else if (strcmp(type, "session") == 0) {
        known = 1;
        if ((r = amk_buf_get_end(m)) != AMK_OK) {
            r = amk_conn_fail(c, r, "malformed CHANNEL_OPEN session");
            goto out;
        }
    }
    if (known && req.peer_maxpacket == 0) {
        r = amk_conn_fail(c, AMK_EPROTO, "CHANNEL_OPEN %s with maximum packet size 0", type);
        goto out;
    }
    req.type = type;
    req.host = host != NULL ? host : "";
    req.orig_host = orig != NULL ? orig : "";
    if (!known) {
        r = open_refuse(c, peer_id, AMK_OPEN_UNKNOWN_CHANNEL_TYPE, "unknown channel type");
        goto out;
    }
    /* OpenSSH's PROTOCOL §2.2: after no-more-sessions@openssh.com no
     * further session channel may be opened. */
    if (strcmp(type, "session") == 0 && c->no_more_sessions) {
        r = open_refuse(c, peer_id, AMK_OPEN_ADMINISTRATIVELY_PROHIBITED,
            "no more sessions");
        goto out;
    }
    if (c->open_cb == NULL) {
        r = open_refuse(c, peer_id, AMK_OPEN_ADMINISTRATIVELY_PROHIBITED, "not accepted");
        goto out;
    }
    if ((r = chan_alloc(c, AMK_CHAN_OPEN, &ch)) == AMK_ELIMIT) {
        r = open_refuse(c, peer_id, AMK_OPEN_RESOURCE_SHORTAGE, "too many channels");
        goto out;
    }
    if (r != AMK_OK) {
        r = amk_conn_fail(c, r, "allocating a channel failed");
        goto out;
    }
    decision = c->open_cb(c->user, &req, ch->id);
    if (decision != AMK_OK) {
        chan_free(c, ch);
        r = open_refuse(c, peer_id, decision > 0 ? (uint32_t)decision
            : AMK_OPEN_ADMINISTRATIVELY_PROHIBITED, "refused");
        goto out;
    }
    ch->peer_id = peer_id;
    ch->swin = req.peer_window;
    ch->smaxpkt = req.peer_maxpacket;
    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_OPEN_CONFIRMATION)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, peer_id)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->id)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->rwin)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->rmaxpkt)) != AMK_OK
        || (r = amk_conn_msg_send(c, 1)) != AMK_OK) {
        r = amk_conn_fail(c, r, "confirming a channel failed");
        goto out;
    }
    amk_conn_chan_changed(c, ch);
    r = AMK_OK;
out:
    free(type);
    free(host);
    free(orig);
    return r;
}

/* --- Dispatch --------------------------------------------------------- */

typedef int (*conn_handler_fn)(struct amk_conn *c, struct amk_buf *m);

/*
 * The messages the connection protocol accepts (RFC 4254 §9), in every
 * state of the connection; per-channel states are checked by
 * amk_conn_chan_recipient().
 */
static const struct {
    uint8_t type;
    conn_handler_fn fn;
} CONN_HANDLERS[] = {
    { AMK_MSG_GLOBAL_REQUEST, amk_conn_on_global_request },
    { AMK_MSG_REQUEST_SUCCESS, amk_conn_on_request_success },
    { AMK_MSG_REQUEST_FAILURE, amk_conn_on_request_failure },
    { AMK_MSG_CHANNEL_OPEN, on_open },
    { AMK_MSG_CHANNEL_OPEN_CONFIRMATION, on_open_confirmation },
    { AMK_MSG_CHANNEL_OPEN_FAILURE, on_open_failure },
    { AMK_MSG_CHANNEL_WINDOW_ADJUST, amk_conn_on_window_adjust },
    { AMK_MSG_CHANNEL_DATA, amk_conn_on_data },
    { AMK_MSG_CHANNEL_EXTENDED_DATA, amk_conn_on_extended_data },
    { AMK_MSG_CHANNEL_EOF, on_eof },
    { AMK_MSG_CHANNEL_CLOSE, on_close },
    { AMK_MSG_CHANNEL_REQUEST, amk_conn_on_channel_request },
    { AMK_MSG_CHANNEL_SUCCESS, amk_conn_on_channel_success },
    { AMK_MSG_CHANNEL_FAILURE, amk_conn_on_channel_failure },
};

int
amk_conn_handle(struct amk_conn *c, const uint8_t *payload, size_t len)
{
    struct amk_buf m;
    uint8_t type;
    int r;

    if (c == NULL || payload == NULL || len == 0)
        return AMK_EINVAL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    type = payload[0];
    if (type < AMK_MSG_CONN_FIRST || type > AMK_MSG_CONN_LAST)
        return AMK_EINVAL;
    /* Any message proves the peer alive. */
    c->ka_unanswered = 0;
    amk_buf_view(&m, payload, len);
    if ((r = amk_buf_consume(&m, 1)) != AMK_OK)
        return AMK_EINTERNAL;
    for (size_t i = 0; i < sizeof(CONN_HANDLERS) / sizeof(CONN_HANDLERS[0]); i++) {
        if (CONN_HANDLERS[i].type == type) {
            r = CONN_HANDLERS[i].fn(c, &m);
            return r != AMK_OK ? r : c->err;
        }
    }
    /* RFC 4253 §11.4: the caller answers SSH_MSG_UNIMPLEMENTED. */
    return AMK_ENOTSUP;
}

/* --- Application calls ------------------------------------------------ */

int
amk_conn_chan_sendable(struct amk_conn *c, uint32_t id, struct amk_chan **out)
{
    struct amk_chan *ch;
    int r;

    *out = NULL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    ch = amk_conn_chan_find(c, id);
    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    if (ch->state == AMK_CHAN_OPENING || ch->state == AMK_CHAN_OPEN_FAILED
        || (ch->flags & CH_CLOSE_SENT))
        return AMK_ESTATE;
    if (ch->flags & CH_CLOSE_RCVD)
        return AMK_ECLOSED;
    *out = ch;
    return AMK_OK;
}

int
amk_conn_channel_state(const struct amk_conn *c, uint32_t id, enum amk_chan_state *state)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || state == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    *state = ch->state;
    return AMK_OK;
}

unsigned
amk_conn_channel_poll(const struct amk_conn *c, uint32_t id)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);
    unsigned ev = 0;
    int at_end;

    if (ch == NULL || (ch->flags & CH_RELEASED))
        return 0;
    at_end = (ch->flags & (CH_EOF_RCVD | CH_CLOSE_RCVD)) || ch->state == AMK_CHAN_OPEN_FAILED;
    if (amk_ring_len(&ch->rx[AMK_CHAN_STDOUT]) > 0 || at_end)
        ev |= AMK_CHAN_EV_READABLE;
    if (amk_ring_len(&ch->rx[AMK_CHAN_STDERR]) > 0 || at_end)
        ev |= AMK_CHAN_EV_STDERR;
    if (ch->state == AMK_CHAN_OPEN && !(ch->flags & (CH_EOF_SENT | CH_CLOSE_SENT | CH_CLOSE_RCVD))
        && ch->swin > 0 && amk_buf_len(&c->pending) == 0 && c->err == AMK_OK)
        ev |= AMK_CHAN_EV_WRITABLE;
    if (ch->flags & (CH_EOF_RCVD | CH_CLOSE_RCVD))
        ev |= AMK_CHAN_EV_EOF;
    if ((ch->flags & CH_CLOSE_RCVD) || ch->state == AMK_CHAN_OPEN_FAILED)
        ev |= AMK_CHAN_EV_CLOSED;
    if (ch->flags & (CH_EXIT_STATUS | CH_EXIT_SIGNAL))
        ev |= AMK_CHAN_EV_EXIT;
    if (ch->state == AMK_CHAN_OPEN || ch->state == AMK_CHAN_CLOSED)
        ev |= AMK_CHAN_EV_OPENED;
    return ev;
}

int
amk_conn_channel_open_error(const struct amk_conn *c, uint32_t id, uint32_t *reason,
    const char **description)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    if (ch->state != AMK_CHAN_OPEN_FAILED)
        return AMK_ESTATE;
    if (reason != NULL)
        *reason = ch->open_reason;
    if (description != NULL)
        *description = ch->open_desc;
    return AMK_OK;
}

int
amk_conn_channel_send_eof(struct amk_conn *c, uint32_t id)
{
    struct amk_chan *ch;
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if ((r = amk_conn_chan_sendable(c, id, &ch)) != AMK_OK)
        return r;
    if (ch->flags & CH_EOF_SENT)
        return AMK_OK;
    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_EOF)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK
        || (r = amk_conn_msg_send(c, 0)) != AMK_OK)
        return r;
    ch->flags |= CH_EOF_SENT;
    return AMK_OK;
}

int
amk_conn_channel_close(struct amk_conn *c, uint32_t id)
{
    struct amk_chan *ch;
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    ch = amk_conn_chan_find(c, id);
    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    if (ch->state == AMK_CHAN_OPENING || ch->state == AMK_CHAN_OPEN_FAILED)
        return AMK_ESTATE;
    return chan_send_close(c, ch, 0);
}

int
amk_conn_channel_release(struct amk_conn *c, uint32_t id)
{
    struct amk_chan *ch;
    int r = AMK_OK;

    if (c == NULL)
        return AMK_EINVAL;
    ch = amk_conn_chan_find(c, id);
    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    ch->flags |= CH_RELEASED;
    chan_unqueue(c, ch);
    amk_ring_release(&ch->rx[0]);
    amk_ring_release(&ch->rx[1]);
    if (ch->state == AMK_CHAN_OPEN && c->err == AMK_OK)
        r = chan_send_close(c, ch, 1);
    if (c->err != AMK_OK) {
        /* a failed connection sends nothing more: free at once */
        chan_free(c, ch);
        return AMK_OK;
    }
    chan_maybe_reap(c, ch);
    return r;
}

int
amk_conn_channel_merge_stderr(struct amk_conn *c, uint32_t id, int merge)
{
    struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    ch->merge_stderr = merge != 0;
    return AMK_OK;
}
