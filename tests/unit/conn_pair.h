/*
 * Two connection engines in memory: a client-role engine and a
 * server-role one (with request_cb / global_cb / open_cb), whose sinks
 * queue payloads that cp_pump() hands to the other side. Used by
 * tests/unit/test_conn_server.c and tests/interop/test_server_session.c.
 */
#ifndef AMK_TEST_CONN_PAIR_H
#define AMK_TEST_CONN_PAIR_H

#include "test_helper.h"

#include "channel/conn.h"
#include "util/buf.h"

struct conn_pair;

/* The server side's callbacks, set by the test before cp_new(). */
struct cp_server_cbs {
    amk_conn_request_fn request_cb;
    amk_conn_global_fn global_cb;
    void *user;
    int refuse_opens;
};

struct cp_queue {
    struct amk_buf b;           /* u32 length + payload, in order */
    int refuse;                 /* the sink answers AMK_EAGAIN */
};

struct conn_pair {
    struct amk_conn *cli, *srv;
    struct cp_queue to_srv, to_cli;
    struct cp_server_cbs cbs;
    uint32_t accepted[16];      /* server-side ids of accepted opens */
    size_t n_accepted;
};

static inline int
cp_sink(void *user, const uint8_t *payload, size_t len)
{
    struct cp_queue *q = user;
    int r;

    if (q->refuse)
        return AMK_EAGAIN;
    if ((r = amk_buf_put_u32(&q->b, (uint32_t)len)) != AMK_OK
        || (r = amk_buf_put(&q->b, payload, len)) != AMK_OK)
        return r;
    return AMK_OK;
}

static inline int
cp_open_cb(void *user, const struct amk_conn_open_req *req, uint32_t id)
{
    struct conn_pair *p = user;

    if (p->cbs.refuse_opens || p->n_accepted >= 16)
        return AMK_OPEN_ADMINISTRATIVELY_PROHIBITED;
    p->accepted[p->n_accepted++] = id;
    return AMK_OK;
}

static inline int
cp_request_cb(void *user, const struct amk_conn_chreq *req)
{
    struct conn_pair *p = user;

    if (p->cbs.request_cb == NULL)
        return AMK_REQ_FAILURE;
    return p->cbs.request_cb(p->cbs.user, req);
}

static inline int
cp_global_cb(void *user, const struct amk_conn_global_req *req, uint32_t *port)
{
    struct conn_pair *p = user;

    if (p->cbs.global_cb == NULL)
        return AMK_REQ_FAILURE;
    return p->cbs.global_cb(p->cbs.user, req, port);
}

/* Creates the pair; @p cbs may be NULL. The server's window is @p window
 * (0: default). */
static inline struct conn_pair *
cp_new(const struct cp_server_cbs *cbs, uint32_t window)
{
    struct conn_pair *p = calloc(1, sizeof(*p));
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink;

    assert_non_null(p);
    amk_buf_init(&p->to_srv.b);
    amk_buf_init(&p->to_cli.b);
    if (cbs != NULL)
        p->cbs = *cbs;
    memset(&cfg, 0, sizeof(cfg));
    memset(&sink, 0, sizeof(sink));
    cfg.window = window;
    sink.send = cp_sink;
    sink.user = &p->to_srv;
    ASSERT_OK(amk_conn_new(&p->cli, &cfg, &sink));
    memset(&cfg, 0, sizeof(cfg));
    cfg.window = window;
    cfg.open_cb = cp_open_cb;
    cfg.request_cb = cp_request_cb;
    cfg.global_cb = cp_global_cb;
    cfg.user = p;
    sink.user = &p->to_cli;
    ASSERT_OK(amk_conn_new(&p->srv, &cfg, &sink));
    return p;
}

static inline void
cp_free(struct conn_pair *p)
{
    if (p == NULL)
        return;
    amk_conn_free(p->cli);
    amk_conn_free(p->srv);
    amk_buf_release(&p->to_srv.b);
    amk_buf_release(&p->to_cli.b);
    free(p);
}

/* Hands one queued payload of @p q to @p c. AMK_EAGAIN when empty. */
static inline int
cp_deliver_one(struct cp_queue *q, struct amk_conn *c)
{
    uint32_t len;
    int r;

    if (amk_buf_len(&q->b) == 0)
        return AMK_EAGAIN;
    ASSERT_OK(amk_buf_peek_u32(&q->b, 0, &len));
    r = amk_conn_handle(c, amk_buf_ptr(&q->b) + 4, len);
    ASSERT_OK(amk_buf_consume(&q->b, (size_t)len + 4));
    return r;
}

/* Delivers queued payloads both ways until both queues are empty (or
 * @p max_msgs were delivered, 0: no limit). Returns the first error an
 * engine returned, AMK_OK otherwise. */
static inline int
cp_pump_n(struct conn_pair *p, size_t max_msgs)
{
    size_t done = 0;
    int progress = 1, r;

    while (progress && (max_msgs == 0 || done < max_msgs)) {
        progress = 0;
        if ((r = cp_deliver_one(&p->to_srv, p->srv)) != AMK_EAGAIN) {
            if (r != AMK_OK)
                return r;
            progress = 1;
            done++;
        }
        if ((r = cp_deliver_one(&p->to_cli, p->cli)) != AMK_EAGAIN) {
            if (r != AMK_OK)
                return r;
            progress = 1;
            done++;
        }
        if (amk_conn_wants_flush(p->srv))
            (void)!amk_conn_flush(p->srv);
        if (amk_conn_wants_flush(p->cli))
            (void)!amk_conn_flush(p->cli);
    }
    return AMK_OK;
}

static inline int
cp_pump(struct conn_pair *p)
{
    return cp_pump_n(p, 0);
}

/* Opens a session from the client, accepted by the server: *@p cid is the
 * client's number, *@p sid the server's. */
static inline void
cp_open_session(struct conn_pair *p, uint32_t *cid, uint32_t *sid)
{
    enum amk_chan_state st;
    size_t before = p->n_accepted;

    ASSERT_OK(amk_conn_open_session(p->cli, cid));
    ASSERT_OK(cp_pump(p));
    ASSERT_OK(amk_conn_channel_state(p->cli, *cid, &st));
    assert_int_equal(st, AMK_CHAN_OPEN);
    assert_int_equal(p->n_accepted, before + 1);
    *sid = p->accepted[before];
}

#endif
