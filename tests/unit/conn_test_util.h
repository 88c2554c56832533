/*
 * Helpers for the connection engine's unit tests: a sink that records what
 * the engine sends (and can refuse, as a full transport does), a builder
 * for the exact payloads a peer sends, and parsers for what was sent.
 */
#ifndef AMK_TEST_CONN_UTIL_H
#define AMK_TEST_CONN_UTIL_H

#include "test_helper.h"

#include "channel/conn.h"
#include "util/buf.h"

#define REC_MAX 4096

struct rec_sink {
    uint8_t *p[REC_MAX];
    size_t len[REC_MAX];
    size_t n;
    int refuse;         /* answer AMK_EAGAIN */
    int fail;           /* answer this code when non-zero */
    int refuse_after;   /* > 0: take this many more, then refuse */
    size_t two_piece;   /* packets that came through rec_send2 */
    size_t head_len;    /* the first piece of the last of them */
};

static inline int
rec_send(void *user, const uint8_t *payload, size_t len)
{
    struct rec_sink *s = user;

    if (s->fail != 0)
        return s->fail;
    if (s->refuse)
        return AMK_EAGAIN;
    if (s->refuse_after > 0 && --s->refuse_after == 0)
        s->refuse = 1;
    assert_true(s->n < REC_MAX);
    s->p[s->n] = malloc(len);
    assert_non_null(s->p[s->n]);
    memcpy(s->p[s->n], payload, len);
    s->len[s->n] = len;
    s->n++;
    return AMK_OK;
}

/* The two-piece form: recorded joined, as the transport sends it. */
static inline int
rec_send2(void *user, const uint8_t *payload, size_t len, const uint8_t *data, size_t dlen)
{
    struct rec_sink *s = user;
    uint8_t *j = malloc(len + dlen);
    int r;

    assert_non_null(j);
    memcpy(j, payload, len);
    if (dlen > 0)
        memcpy(j + len, data, dlen);
    r = rec_send(user, j, len + dlen);
    free(j);
    if (r == AMK_OK) {
        s->two_piece++;
        s->head_len = len;
    }
    return r;
}

static inline void
rec_clear(struct rec_sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i]);
    s->n = 0;
}

/* A test connection: the engine and its recording sink. */
struct tconn {
    struct amk_conn *c;
    struct rec_sink sink;
};

static inline struct tconn *
tconn_new_cfg(const struct amk_conn_config *cfg)
{
    struct tconn *t = calloc(1, sizeof(*t));
    struct amk_pkt_sink sink;

    assert_non_null(t);
    memset(&sink, 0, sizeof(sink));
    sink.send = rec_send;
    sink.user = &t->sink;
    ASSERT_OK(amk_conn_new(&t->c, cfg, &sink));
    return t;
}

static inline struct tconn *
tconn_new(void)
{
    struct amk_conn_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    return tconn_new_cfg(&cfg);
}

static inline void
tconn_free(struct tconn *t)
{
    amk_conn_free(t->c);
    rec_clear(&t->sink);
    free(t);
}

/*
 * Builds a payload from @p fmt: 'b' byte (int), 'u' uint32, 'B' boolean
 * (int), 's' C string, 'S' string from pointer and size_t length,
 * 'r' raw bytes from pointer and size_t length.
 */
static inline void
vbuild(struct amk_buf *b, const char *fmt, va_list ap)
{
    for (const char *f = fmt; *f != '\0'; f++) {
        const uint8_t *p;
        size_t n;
        switch (*f) {
        case 'b':
            ASSERT_OK(amk_buf_put_u8(b, (uint8_t)va_arg(ap, int)));
            break;
        case 'u':
            ASSERT_OK(amk_buf_put_u32(b, va_arg(ap, uint32_t)));
            break;
        case 'B':
            ASSERT_OK(amk_buf_put_bool(b, va_arg(ap, int)));
            break;
        case 's':
            ASSERT_OK(amk_buf_put_cstring(b, va_arg(ap, const char *)));
            break;
        case 'S':
            p = va_arg(ap, const uint8_t *);
            n = va_arg(ap, size_t);
            ASSERT_OK(amk_buf_put_string(b, p, n));
            break;
        case 'r':
            p = va_arg(ap, const uint8_t *);
            n = va_arg(ap, size_t);
            ASSERT_OK(amk_buf_put(b, p, n));
            break;
        default:
            fail_msg("bad format %c", *f);
        }
    }
}

/* Hands the engine the payload built from @p fmt; returns its answer. */
static inline int
feed(struct tconn *t, const char *fmt, ...)
{
    struct amk_buf b;
    va_list ap;
    int r;

    amk_buf_init(&b);
    va_start(ap, fmt);
    vbuild(&b, fmt, ap);
    va_end(ap);
    r = amk_conn_handle(t->c, amk_buf_ptr(&b), amk_buf_len(&b));
    amk_buf_release(&b);
    return r;
}

/* A read-only view of sent payload @p i (negative: from the end). */
static inline void
sent(struct tconn *t, long i, struct amk_buf *v)
{
    size_t k = i < 0 ? t->sink.n + (size_t)i : (size_t)i;

    assert_true(k < t->sink.n);
    amk_buf_view(v, t->sink.p[k], t->sink.len[k]);
}

/* Asserts sent payload @p i has message number @p type and returns a
 * view positioned after it. */
static inline void
sent_type(struct tconn *t, long i, uint8_t type, struct amk_buf *v)
{
    uint8_t got;

    sent(t, i, v);
    ASSERT_OK(amk_buf_get_u8(v, &got));
    assert_int_equal(got, type);
}

static inline uint32_t
get_u32(struct amk_buf *v)
{
    uint32_t x;

    ASSERT_OK(amk_buf_get_u32(v, &x));
    return x;
}

/* Asserts the next field is the string @p want. */
static inline void
get_str_eq(struct amk_buf *v, const char *want)
{
    const uint8_t *p;
    size_t n;

    ASSERT_OK(amk_buf_get_string_direct(v, &p, &n));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

/* Opens a session and confirms it as peer channel @p peer_id with the
 * given window and maximum packet size; returns our number. */
static inline uint32_t
open_confirmed(struct tconn *t, uint32_t peer_id, uint32_t window, uint32_t maxpkt)
{
    struct amk_buf v;
    uint32_t id;
    enum amk_chan_state st;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    sent_type(t, -1, AMK_MSG_CHANNEL_OPEN, &v);
    get_str_eq(&v, "session");
    assert_int_equal(get_u32(&v), id);
    ASSERT_OK(feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, peer_id, window, maxpkt));
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_OPEN);
    return id;
}

/* Sends @p n bytes of pattern data from the peer on channel @p id. */
static inline int
feed_data(struct tconn *t, uint32_t id, size_t n, uint8_t fill)
{
    uint8_t *d = malloc(n + 1);
    int r;

    assert_non_null(d);
    memset(d, fill, n);
    r = feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, d, n);
    free(d);
    return r;
}

#endif
