/*
 * Channel data and flow control (RFC 4254 §5.2): receiving DATA and
 * EXTENDED_DATA into per-channel buffers bounded by our window, giving the
 * window back as the application reads, and sending data within the
 * peer's window and maximum packet size. See channel/conn.h.
 */
#include "channel/conn_int.h"

#include <string.h>

/* Sends WINDOW_ADJUST adding @p bytes to @p ch's window (RFC 4254 §5.2).
 * AMK_EAGAIN when the queue refused it; the caller updates the window. */
static int
send_adjust(struct amk_conn *c, const struct amk_chan *ch, uint32_t bytes)
{
    int r;

    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_WINDOW_ADJUST)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, bytes)) != AMK_OK)
        return amk_conn_fail(c, r, "building WINDOW_ADJUST failed");
    return amk_conn_msg_send(c, 0);
}

int
amk_conn_chan_adjust(struct amk_conn *c, struct amk_chan *ch)
{
    int r;

    /* Nothing more will come once the peer sent EOF, or after CLOSE. */
    if (ch->state != AMK_CHAN_OPEN || (ch->flags & (CH_EOF_RCVD | CH_CLOSE_SENT | CH_CLOSE_RCVD)))
        return AMK_OK;
    /* RFC 4254 §5.2: adjust before the peer runs dry; half the window is
     * still available to it when we do. */
    if (ch->rconsumed == 0 || ch->rconsumed < ch->rwin_max / 2)
        return AMK_OK;
    /* An adjust the queue cannot take is retried at the next read. */
    if ((r = send_adjust(c, ch, ch->rconsumed)) != AMK_OK)
        return r == AMK_EAGAIN ? AMK_OK : r;
    ch->rwin += ch->rconsumed;
    ch->rconsumed = 0;
    return AMK_OK;
}

int
amk_conn_on_window_adjust(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    uint32_t add;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_WINDOW_ADJUST", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_u32(m, &add)) != AMK_OK || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_WINDOW_ADJUST", ch->id);
    /* RFC 4254 §5.2: the window MUST NOT be increased above 2^32 - 1. */
    if (add > UINT32_MAX - ch->swin)
        return amk_conn_fail(c, AMK_EPROTO, "channel %u: WINDOW_ADJUST of %u on a window of %u "
            "exceeds 2^32-1", ch->id, add, ch->swin);
    ch->swin += add;
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

/* Checks and stores @p len received bytes for @p stream (-1: discard). */
static int
chan_receive(struct amk_conn *c, struct amk_chan *ch, int stream, const uint8_t *p,
    size_t len, const char *what)
{
    int r;

    if (ch->flags & CH_EOF_RCVD)
        return amk_conn_fail(c, AMK_EPROTO, "channel %u: %s after EOF", ch->id, what);
    /* RFC 4254 §5.2: data beyond the maximum packet size or the window is
     * a violation. */
    if (len > ch->rmaxpkt)
        return amk_conn_fail(c, AMK_ETOOBIG, "channel %u: %s of %zu bytes exceeds our maximum "
            "packet size %u", ch->id, what, len, ch->rmaxpkt);
    if (len > ch->rwin)
        return amk_conn_fail(c, AMK_EPROTO, "channel %u: %s of %zu bytes beyond the window "
            "(%u left)", ch->id, what, len, ch->rwin);
    ch->rwin -= (uint32_t)len;
    if (len == 0)
        return AMK_OK;
    /* After our CLOSE, or once the application let go, data is dropped. */
    if (stream < 0 || (ch->flags & (CH_CLOSE_SENT | CH_RELEASED))) {
        ch->rconsumed += (uint32_t)len;
        return amk_conn_chan_adjust(c, ch);
    }
    if ((r = amk_ring_put(&ch->rx[stream], p, len)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: buffering %zu bytes failed", ch->id, len);
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

int
amk_conn_on_data(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    const uint8_t *p;
    size_t len;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_DATA", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_string_direct(m, &p, &len)) != AMK_OK
        || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_DATA", ch->id);
    return chan_receive(c, ch, AMK_CHAN_STDOUT, p, len, "CHANNEL_DATA");
}

int
amk_conn_on_extended_data(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    const uint8_t *p;
    size_t len;
    uint32_t type;
    int stream, r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_EXTENDED_DATA", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_u32(m, &type)) != AMK_OK
        || (r = amk_buf_get_string_direct(m, &p, &len)) != AMK_OK
        || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_EXTENDED_DATA", ch->id);
    /* RFC 4254 §5.2: type 1 is stderr; other types are counted against the
     * window and dropped. */
    if (type != AMK_EXTENDED_DATA_STDERR)
        stream = -1;
    else
        stream = ch->merge_stderr ? AMK_CHAN_STDOUT : AMK_CHAN_STDERR;
    return chan_receive(c, ch, stream, p, len, "CHANNEL_EXTENDED_DATA");
}

int
amk_conn_channel_read(struct amk_conn *c, uint32_t id, enum amk_chan_stream stream, void *buf,
    size_t cap, size_t *got)
{
    struct amk_chan *ch;
    struct amk_ring *rx;
    size_t n;
    int r;

    if (got != NULL)
        *got = 0;
    if (c == NULL || got == NULL || (buf == NULL && cap > 0)
        || (stream != AMK_CHAN_STDOUT && stream != AMK_CHAN_STDERR))
        return AMK_EINVAL;
    ch = amk_conn_chan_find(c, id);
    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    rx = &ch->rx[stream];
    n = amk_ring_len(rx);
    if (n == 0) {
        if ((ch->flags & (CH_EOF_RCVD | CH_CLOSE_RCVD)) || ch->state == AMK_CHAN_OPEN_FAILED)
            return AMK_OK;
        if (c->err != AMK_OK)
            return c->err;
        /* An adjust the output could not take earlier goes now. */
        if ((r = amk_conn_enter(c)) != AMK_OK || (r = amk_conn_chan_adjust(c, ch)) != AMK_OK)
            return r;
        return AMK_EAGAIN;
    }
    if (cap == 0)
        return AMK_EINVAL;
    n = amk_ring_get(rx, buf, cap);
    *got = n;
    ch->rconsumed += (uint32_t)n;
    if (c->err != AMK_OK)
        return AMK_OK;
    if ((r = amk_conn_enter(c)) != AMK_OK || (r = amk_conn_chan_adjust(c, ch)) != AMK_OK)
        return r;
    return AMK_OK;
}

size_t
amk_conn_channel_pending(const struct amk_conn *c, uint32_t id, enum amk_chan_stream stream)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || (ch->flags & CH_RELEASED)
        || (stream != AMK_CHAN_STDOUT && stream != AMK_CHAN_STDERR))
        return 0;
    return amk_ring_len(&ch->rx[stream]);
}

int
amk_conn_channel_grow_window(struct amk_conn *c, uint32_t id, uint32_t window)
{
    struct amk_chan *ch;
    int r;

    if (c == NULL || window > AMK_CONN_WINDOW_MAX)
        return AMK_EINVAL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    if ((ch = amk_conn_chan_find(c, id)) == NULL || ch->state != AMK_CHAN_OPEN)
        return AMK_EINVAL;
    if (window <= ch->rwin_max || (ch->flags & (CH_EOF_RCVD | CH_CLOSE_SENT | CH_CLOSE_RCVD)))
        return AMK_OK;
    if ((r = send_adjust(c, ch, window - ch->rwin_max)) != AMK_OK)
        return r;
    ch->rwin += window - ch->rwin_max;
    ch->rwin_max = window;
    /* the receive buffers hold at most one window */
    ch->rx[0].max = window;
    ch->rx[1].max = window;
    return AMK_OK;
}

uint32_t
amk_conn_channel_send_window(const struct amk_conn *c, uint32_t id)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || ch->state != AMK_CHAN_OPEN)
        return 0;
    return ch->swin;
}

/* Sends DATA (ext < 0) or EXTENDED_DATA of type @p ext within the peer's
 * window, in packets no larger than its maximum. */
static int
chan_write(struct amk_conn *c, uint32_t id, int64_t ext, const uint8_t *data, size_t len,
    size_t *written)
{
    struct amk_chan *ch;
    size_t done = 0;
    int r;

    if (written != NULL)
        *written = 0;
    if (c == NULL || written == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    if ((r = amk_conn_chan_sendable(c, id, &ch)) != AMK_OK)
        return r;
    if (ch->flags & CH_EOF_SENT)
        return AMK_ESTATE;
    if (len == 0)
        return AMK_OK;
    while (done < len) {
        size_t n = len - done;
        if (n > ch->swin)
            n = ch->swin;
        if (n > ch->smaxpkt)
            n = ch->smaxpkt;
        if (n > AMK_CONN_SEND_CHUNK_MAX)
            n = AMK_CONN_SEND_CHUNK_MAX;
        if (n == 0)
            break;
        if ((r = amk_conn_msg_start(c, ext < 0 ? AMK_MSG_CHANNEL_DATA
                : AMK_MSG_CHANNEL_EXTENDED_DATA)) != AMK_OK
            || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK
            || (ext >= 0 && (r = amk_buf_put_u32(&c->msg, (uint32_t)ext)) != AMK_OK)
            || (r = amk_buf_put_u32(&c->msg, (uint32_t)n)) != AMK_OK)
            return amk_conn_fail(c, r, "building CHANNEL_DATA failed");
        r = amk_conn_msg_send_data(c, data + done, n);
        if (r == AMK_EAGAIN)
            break;
        if (r != AMK_OK)
            return r;
        ch->swin -= (uint32_t)n;
        done += n;
    }
    *written = done;
    return done > 0 ? AMK_OK : AMK_EAGAIN;
}

int
amk_conn_channel_write(struct amk_conn *c, uint32_t id, const void *data, size_t len,
    size_t *written)
{
    return chan_write(c, id, -1, data, len, written);
}

int
amk_conn_channel_write_ext(struct amk_conn *c, uint32_t id, uint32_t type, const void *data,
    size_t len, size_t *written)
{
    return chan_write(c, id, (int64_t)type, data, len, written);
}
