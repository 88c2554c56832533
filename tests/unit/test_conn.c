/*
 * The connection engine's channel table, dispatch and ordering
 * (src/channel/conn.c): opening, confirmation, failure, EOF and CLOSE in
 * both directions (RFC 4254 §5.1, §5.3), many channels, number reuse,
 * limits, the control queue, and every malformed or out-of-order message.
 */
#include "conn_test_util.h"

/* --- Opening ---------------------------------------------------------- */

/* The first message sent is CHANNEL_OPEN "session" (RFC 4254 §6.1):
 * sender channel @p id, initial window @p window, max packet @p maxpkt. */
static void
expect_session_open(struct tconn *t, uint32_t id, uint32_t window, uint32_t maxpkt)
{
    struct amk_buf v;

    sent_type(t, 0, AMK_MSG_CHANNEL_OPEN, &v);
    get_str_eq(&v, "session");
    assert_int_equal(get_u32(&v), id);
    assert_int_equal(get_u32(&v), window);
    assert_int_equal(get_u32(&v), maxpkt);
    ASSERT_OK(amk_buf_get_end(&v));
}

static void
test_conn_open_session_sends_open_and_confirms(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id;
    enum amk_chan_state st;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_OPENING);
    assert_int_equal(amk_conn_channel_poll(t->c, id), 0);
    expect_session_open(t, id, AMK_CONN_WINDOW_DEFAULT, AMK_CONN_MAXPACKET_DEFAULT);

    ASSERT_OK(feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 7, 1000, 500));
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_OPEN);
    assert_int_equal(amk_conn_channel_poll(t->c, id), AMK_CHAN_EV_OPENED | AMK_CHAN_EV_WRITABLE);
    assert_int_equal(amk_conn_channel_send_window(t->c, id), 1000);
    tconn_free(t);
}

/* A session channel with its own, smaller receive window (the client's
 * exec and shell channels): advertised, enforced, and bounded. */
static void
test_conn_open_session_window(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id, w = 128 * 1024;

    ASSERT_AMK(AMK_EINVAL, amk_conn_open_session_window(t->c, AMK_CONN_WINDOW_MIN - 1, &id));
    ASSERT_AMK(AMK_EINVAL, amk_conn_open_session_window(t->c, AMK_CONN_WINDOW_DEFAULT + 1,
        &id));
    ASSERT_AMK(AMK_EINVAL, amk_conn_open_session_window(NULL, w, &id));
    assert_int_equal(t->sink.n, 0);
    ASSERT_OK(amk_conn_open_session_window(t->c, w, &id));
    expect_session_open(t, id, w, AMK_CONN_MAXPACKET_DEFAULT);
    ASSERT_OK(feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 7, 1000, 32768));
    /* the peer may send exactly the window, not a byte more */
    for (int i = 0; i < 4; i++)
        ASSERT_OK(feed_data(t, id, 32 * 1024, (uint8_t)('a' + i)));
    ASSERT_AMK(AMK_EPROTO, feed_data(t, id, 1, 'z'));
    assert_non_null(strstr(amk_conn_last_error(t->c), "beyond the window"));
    tconn_free(t);
}

/* Growing an open channel's window: one WINDOW_ADJUST of the difference,
 * and the peer may then send (and we buffer) the larger window. */
static void
test_conn_channel_grow_window(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t id, w = 128 * 1024;
    size_t n;

    ASSERT_OK(amk_conn_open_session_window(t->c, w, &id));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_grow_window(t->c, id, 2 * w));   /* not open */
    ASSERT_OK(feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 7, 1000, 32768));
    n = t->sink.n;
    ASSERT_OK(amk_conn_channel_grow_window(t->c, id, w));      /* not larger: nothing */
    assert_int_equal(t->sink.n, n);
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_grow_window(t->c, id, (uint32_t)1 << 31));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_grow_window(t->c, id + 1, 2 * w));
    ASSERT_OK(amk_conn_channel_grow_window(t->c, id, 2 * w));
    assert_int_equal(t->sink.n, n + 1);
    sent_type(t, -1, AMK_MSG_CHANNEL_WINDOW_ADJUST, &v);
    assert_int_equal(get_u32(&v), 7);
    assert_int_equal(get_u32(&v), w);
    ASSERT_OK(amk_buf_get_end(&v));
    for (int i = 0; i < 8; i++)
        ASSERT_OK(feed_data(t, id, 32 * 1024, (uint8_t)('a' + i)));
    assert_int_equal(amk_conn_channel_pending(t->c, id, AMK_CHAN_STDOUT), 2 * w);
    ASSERT_AMK(AMK_EPROTO, feed_data(t, id, 1, 'z'));
    tconn_free(t);
}

static void
test_conn_open_config_window_and_packet(void **state)
{
    struct amk_conn_config cfg;
    struct tconn *t;
    uint32_t id;

    memset(&cfg, 0, sizeof(cfg));
    cfg.window = 256 * 1024;
    cfg.maxpacket = 16384;
    t = tconn_new_cfg(&cfg);
    ASSERT_OK(amk_conn_open_session(t->c, &id));
    expect_session_open(t, id, 256 * 1024, 16384);
    tconn_free(t);
}

static void
test_conn_new_rejects_bad_config(void **state)
{
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink = { rec_send, NULL, NULL };
    struct amk_pkt_sink nosink = { NULL, NULL, NULL };
    struct amk_conn *c = (struct amk_conn *)&cfg;

    memset(&cfg, 0, sizeof(cfg));
    ASSERT_AMK(AMK_EINVAL, amk_conn_new(&c, &cfg, &nosink));
    assert_null(c);
    ASSERT_AMK(AMK_EINVAL, amk_conn_new(&c, NULL, &sink));
    cfg.window = 100;
    ASSERT_AMK(AMK_EINVAL, amk_conn_new(&c, &cfg, &sink));
    cfg.window = 0;
    cfg.maxpacket = 1024 * 1024;
    ASSERT_AMK(AMK_EINVAL, amk_conn_new(&c, &cfg, &sink));
    cfg.maxpacket = 0;
    cfg.max_channels = AMK_CONN_CHANNELS_MAX + 1;
    ASSERT_AMK(AMK_EINVAL, amk_conn_new(&c, &cfg, &sink));
}

static void
test_conn_open_direct_tcpip_fields(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t id;

    ASSERT_OK(amk_conn_open_direct_tcpip(t->c, "db.example", 5432, "127.0.0.1", 40000, &id));
    sent_type(t, 0, AMK_MSG_CHANNEL_OPEN, &v);
    get_str_eq(&v, "direct-tcpip");
    assert_int_equal(get_u32(&v), id);
    get_u32(&v);
    get_u32(&v);
    /* RFC 4254 §7.2 */
    get_str_eq(&v, "db.example");
    assert_int_equal(get_u32(&v), 5432);
    get_str_eq(&v, "127.0.0.1");
    assert_int_equal(get_u32(&v), 40000);
    ASSERT_OK(amk_buf_get_end(&v));
    ASSERT_AMK(AMK_EINVAL, amk_conn_open_direct_tcpip(t->c, "h", 70000, "o", 1, &id));
    tconn_free(t);
}

static void
test_conn_open_failure_reason_and_description(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id, reason;
    const char *desc;
    enum amk_chan_state st;
    uint8_t buf[8];
    size_t got;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_OK(feed(t, "buuss", AMK_MSG_CHANNEL_OPEN_FAILURE, id,
        AMK_OPEN_ADMINISTRATIVELY_PROHIBITED, "no\x01 sessions", "en"));
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_OPEN_FAILED);
    ASSERT_OK(amk_conn_channel_open_error(t->c, id, &reason, &desc));
    assert_int_equal(reason, AMK_OPEN_ADMINISTRATIVELY_PROHIBITED);
    assert_string_equal(desc, "no? sessions");   /* control characters replaced */
    assert_true(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_CLOSED);
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &got));
    assert_int_equal(got, 0);
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_close(t->c, id));
    ASSERT_OK(amk_conn_channel_release(t->c, id));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_state(t->c, id, &st));
    /* the peer may refer to it no more */
    ASSERT_AMK(AMK_EPROTO, feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    tconn_free(t);
}

static void
test_conn_open_failure_without_language_tag(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id, reason;
    const char *desc;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_OK(feed(t, "buus", AMK_MSG_CHANNEL_OPEN_FAILURE, id, AMK_OPEN_CONNECT_FAILED, "x"));
    ASSERT_OK(amk_conn_channel_open_error(t->c, id, &reason, &desc));
    assert_int_equal(reason, AMK_OPEN_CONNECT_FAILED);
    tconn_free(t);
}

/* --- EOF and CLOSE ordering (RFC 4254 §5.3) ---------------------------- */

static void
test_conn_close_we_start(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t id = open_confirmed(t, 9, 1000, 1000);
    enum amk_chan_state st;
    size_t n = t->sink.n, w;

    ASSERT_OK(amk_conn_channel_send_eof(t->c, id));
    sent_type(t, -1, AMK_MSG_CHANNEL_EOF, &v);
    assert_int_equal(get_u32(&v), 9);
    ASSERT_OK(amk_conn_channel_send_eof(t->c, id));        /* no-op */
    assert_int_equal(t->sink.n, n + 1);
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_write(t->c, id, "x", 1, &w));
    ASSERT_OK(amk_conn_channel_close(t->c, id));
    sent_type(t, -1, AMK_MSG_CHANNEL_CLOSE, &v);
    assert_int_equal(get_u32(&v), 9);
    ASSERT_OK(amk_conn_channel_close(t->c, id));           /* no-op */
    assert_int_equal(t->sink.n, n + 2);
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_send_eof(t->c, id));
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_exec(t->c, id, "true", 1, NULL));
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_OPEN);
    /* data crossing our CLOSE is dropped quietly */
    ASSERT_OK(feed_data(t, id, 10, 'a'));
    assert_int_equal(amk_conn_channel_pending(t->c, id, AMK_CHAN_STDOUT), 0);
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    assert_int_equal(t->sink.n, n + 2);                      /* no second CLOSE */
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_CLOSED);
    ASSERT_OK(amk_conn_channel_release(t->c, id));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_state(t->c, id, &st));
    tconn_free(t);
}

static void
test_conn_close_peer_starts_and_data_stays_readable(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t id = open_confirmed(t, 3, 1000, 1000), status;
    enum amk_chan_state st;
    uint8_t buf[64];
    size_t got, w;

    ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, "hello", (size_t)5));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    assert_true(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_EOF);
    assert_false(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_CLOSED);
    /* exit-status legitimately follows EOF */
    ASSERT_OK(feed(t, "busBu", AMK_MSG_CHANNEL_REQUEST, id, "exit-status", 0, 3));
    /* we may still write after the peer's EOF */
    ASSERT_OK(amk_conn_channel_write(t->c, id, "in", 2, &w));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    /* our CLOSE answers at once */
    sent_type(t, -1, AMK_MSG_CHANNEL_CLOSE, &v);
    assert_int_equal(get_u32(&v), 3);
    ASSERT_OK(amk_conn_channel_state(t->c, id, &st));
    assert_int_equal(st, AMK_CHAN_CLOSED);
    assert_true(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_CLOSED);
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_write(t->c, id, "x", 1, &w));
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &got));
    assert_int_equal(got, 5);
    assert_memory_equal(buf, "hello", 5);
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &got));
    assert_int_equal(got, 0);
    ASSERT_OK(amk_conn_channel_exit_status(t->c, id, &status));
    assert_int_equal(status, 3);
    ASSERT_OK(amk_conn_channel_release(t->c, id));
    tconn_free(t);
}

static void
test_conn_release_open_channel_closes_then_frees(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t id = open_confirmed(t, 5, 1000, 1000), id2;
    enum amk_chan_state st;

    ASSERT_OK(amk_conn_channel_release(t->c, id));
    sent_type(t, -1, AMK_MSG_CHANNEL_CLOSE, &v);
    assert_int_equal(get_u32(&v), 5);
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_state(t->c, id, &st));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_release(t->c, id));
    /* the peer still refers to it until its CLOSE: not an unknown channel */
    ASSERT_OK(feed_data(t, id, 4, 'z'));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    /* now the number is gone, and the slot comes back under a new one */
    ASSERT_AMK(AMK_EPROTO, feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    tconn_free(t);

    t = tconn_new();
    id = open_confirmed(t, 5, 1000, 1000);
    ASSERT_OK(amk_conn_channel_release(t->c, id));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    ASSERT_OK(amk_conn_open_session(t->c, &id2));
    assert_int_not_equal(id2, id);
    tconn_free(t);
}

static void
test_conn_release_while_opening(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t a, b;

    ASSERT_OK(amk_conn_open_session(t->c, &a));
    ASSERT_OK(amk_conn_open_session(t->c, &b));
    ASSERT_OK(amk_conn_channel_release(t->c, a));
    ASSERT_OK(amk_conn_channel_release(t->c, b));
    /* a confirmation is answered with CLOSE, then the peer's CLOSE frees it */
    ASSERT_OK(feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, a, 77, 1000, 1000));
    sent_type(t, -1, AMK_MSG_CHANNEL_CLOSE, &v);
    assert_int_equal(get_u32(&v), 77);
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, a));
    ASSERT_AMK(AMK_EPROTO, feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, a));
    tconn_free(t);

    t = tconn_new();
    ASSERT_OK(amk_conn_open_session(t->c, &b));
    ASSERT_OK(amk_conn_channel_release(t->c, b));
    /* a failure frees it at once */
    ASSERT_OK(feed(t, "buuss", AMK_MSG_CHANNEL_OPEN_FAILURE, b, 4, "", ""));
    ASSERT_AMK(AMK_EPROTO, feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, b, 1, 1, 1));
    tconn_free(t);
}

static void
test_conn_close_while_opening_is_state_error(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id;
    size_t w;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_close(t->c, id));
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_send_eof(t->c, id));
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_write(t->c, id, "x", 1, &w));
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_exec(t->c, id, "x", 0, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_close(t->c, id + 1));
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

/* --- Many channels and limits ------------------------------------------ */

static void
test_conn_many_channels_distinct(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t ids[200];
    struct amk_buf v;

    for (uint32_t i = 0; i < 200; i++) {
        ids[i] = open_confirmed(t, 1000 + i, 4096, 1024);
        for (uint32_t j = 0; j < i; j++)
            assert_int_not_equal(ids[i], ids[j]);
    }
    /* data for each goes to the right channel, answers use the peer's numbers */
    for (uint32_t i = 0; i < 200; i++)
        ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, ids[i], &i, sizeof(i)));
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t x;
        size_t got;
        ASSERT_OK(amk_conn_channel_read(t->c, ids[i], AMK_CHAN_STDOUT, &x, sizeof(x), &got));
        assert_int_equal(got, sizeof(x));
        assert_int_equal(x, i);
        ASSERT_OK(amk_conn_channel_close(t->c, ids[i]));
        sent_type(t, -1, AMK_MSG_CHANNEL_CLOSE, &v);
        assert_int_equal(get_u32(&v), 1000 + i);
    }
    tconn_free(t);
}

static void
test_conn_channel_count_is_bounded(void **state)
{
    struct amk_conn_config cfg;
    struct tconn *t;
    uint32_t ids[4], extra, again;

    memset(&cfg, 0, sizeof(cfg));
    cfg.max_channels = 4;
    t = tconn_new_cfg(&cfg);
    for (int i = 0; i < 4; i++)
        ids[i] = open_confirmed(t, (uint32_t)i, 1000, 1000);
    ASSERT_AMK(AMK_ELIMIT, amk_conn_open_session(t->c, &extra));
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    /* a released channel still counts until the peer's CLOSE */
    ASSERT_OK(amk_conn_channel_release(t->c, ids[2]));
    ASSERT_AMK(AMK_ELIMIT, amk_conn_open_session(t->c, &extra));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, ids[2]));
    ASSERT_OK(amk_conn_open_session(t->c, &again));
    assert_int_not_equal(again, ids[2]);
    assert_int_equal(again & 0xffff, ids[2] & 0xffff);     /* same slot, new number */
    tconn_free(t);
}

static void
test_conn_next_changed_queues_each_channel_once(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t a = open_confirmed(t, 1, 1000, 1000);
    uint32_t b = open_confirmed(t, 2, 1000, 1000), id;

    while (amk_conn_next_changed(t->c, &id) == AMK_OK)
        ;
    ASSERT_OK(feed_data(t, b, 3, 'b'));
    ASSERT_OK(feed_data(t, a, 3, 'a'));
    ASSERT_OK(feed_data(t, b, 3, 'b'));
    ASSERT_OK(amk_conn_next_changed(t->c, &id));
    assert_int_equal(id, b);
    ASSERT_OK(amk_conn_next_changed(t->c, &id));
    assert_int_equal(id, a);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_next_changed(t->c, &id));
    /* a released channel leaves the queue */
    ASSERT_OK(feed_data(t, a, 1, 'a'));
    ASSERT_OK(amk_conn_channel_release(t->c, a));
    ASSERT_AMK(AMK_EAGAIN, amk_conn_next_changed(t->c, &id));
    tconn_free(t);
}

/* --- Channels the peer opens ------------------------------------------- */

static int
accept_forwarded(void *user, const struct amk_conn_open_req *req, uint32_t id)
{
    struct amk_conn_open_req *seen = user;

    if (strcmp(req->type, "forwarded-tcpip") != 0)
        return AMK_OPEN_CONNECT_FAILED;
    assert_string_equal(req->host, "0.0.0.0");
    assert_string_equal(req->orig_host, "10.1.2.3");
    seen->port = req->port;
    seen->orig_port = req->orig_port;
    seen->peer_window = req->peer_window;
    return AMK_OK;
}

static void
test_conn_peer_open_refused_without_callback(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;

    ASSERT_OK(feed(t, "bsuuususu", AMK_MSG_CHANNEL_OPEN, "forwarded-tcpip", 42, 1000, 1000,
        "0.0.0.0", 8080, "10.1.2.3", 5555));
    sent_type(t, -1, AMK_MSG_CHANNEL_OPEN_FAILURE, &v);
    assert_int_equal(get_u32(&v), 42);
    assert_int_equal(get_u32(&v), AMK_OPEN_ADMINISTRATIVELY_PROHIBITED);
    ASSERT_OK(feed(t, "bsuuuS", AMK_MSG_CHANNEL_OPEN, "auth-agent@openssh.com", 43, 1000, 1000,
        "junk", (size_t)4));
    sent_type(t, -1, AMK_MSG_CHANNEL_OPEN_FAILURE, &v);
    assert_int_equal(get_u32(&v), 43);
    assert_int_equal(get_u32(&v), AMK_OPEN_UNKNOWN_CHANNEL_TYPE);
    ASSERT_OK(feed(t, "bsuuusu", AMK_MSG_CHANNEL_OPEN, "x11", 44, 1000, 1000, "1.2.3.4", 6000));
    sent_type(t, -1, AMK_MSG_CHANNEL_OPEN_FAILURE, &v);
    assert_int_equal(get_u32(&v), 44);
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

static void
test_conn_peer_open_accepted_by_callback(void **state)
{
    struct amk_conn_open_req seen;
    struct amk_conn_config cfg;
    struct tconn *t;
    struct amk_buf v;
    uint32_t id;
    size_t w;

    memset(&cfg, 0, sizeof(cfg));
    memset(&seen, 0, sizeof(seen));
    cfg.open_cb = accept_forwarded;
    cfg.user = &seen;
    t = tconn_new_cfg(&cfg);
    ASSERT_OK(feed(t, "bsuuususu", AMK_MSG_CHANNEL_OPEN, "forwarded-tcpip", 42, 3000, 1000,
        "0.0.0.0", 8080, "10.1.2.3", 5555));
    assert_int_equal(seen.port, 8080);
    assert_int_equal(seen.orig_port, 5555);
    sent_type(t, -1, AMK_MSG_CHANNEL_OPEN_CONFIRMATION, &v);
    assert_int_equal(get_u32(&v), 42);
    id = get_u32(&v);
    assert_int_equal(get_u32(&v), AMK_CONN_WINDOW_DEFAULT);
    ASSERT_OK(amk_conn_channel_write(t->c, id, "hi", 2, &w));
    assert_int_equal(w, 2);
    assert_int_equal(amk_conn_channel_send_window(t->c, id), 2998);
    /* a refusal carries the callback's reason */
    ASSERT_OK(feed(t, "bsuuusuSu", AMK_MSG_CHANNEL_OPEN, "direct-tcpip", 43, 3000, 1000,
        "h", 1, "o", (size_t)1, 2));
    sent_type(t, -1, AMK_MSG_CHANNEL_OPEN_FAILURE, &v);
    assert_int_equal(get_u32(&v), 43);
    assert_int_equal(get_u32(&v), AMK_OPEN_CONNECT_FAILED);
    tconn_free(t);
}

static void
test_conn_peer_open_malformed(void **state)
{
    struct tconn *t = tconn_new();

    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bsuu", AMK_MSG_CHANNEL_OPEN, "session", 1, 1000));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bsuuusu", AMK_MSG_CHANNEL_OPEN, "forwarded-tcpip", 1,
        1000, 1000, "0.0.0.0", 80));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_EFORMAT, feed(t, "bsuuub", AMK_MSG_CHANNEL_OPEN, "session", 1, 1000, 1000, 0));
    tconn_free(t);
}

/* --- Malformed and out-of-order messages -------------------------------- */

static void
test_conn_confirmation_unknown_channel(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id;

    ASSERT_AMK(AMK_EPROTO, feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, 5, 1, 1000, 1000));
    assert_int_equal(amk_conn_error(t->c), AMK_EPROTO);
    assert_non_null(strstr(amk_conn_last_error(t->c), "unknown channel 5"));
    /* a failed engine stays failed */
    ASSERT_AMK(AMK_EPROTO, amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_EPROTO, feed(t, "bsB", AMK_MSG_GLOBAL_REQUEST, "x", 0));
    tconn_free(t);
}

static void
test_conn_confirmation_twice(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 1, 1000, 1000);

    ASSERT_AMK(AMK_EPROTO, feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 1, 1000, 1000));
    assert_non_null(strstr(amk_conn_last_error(t->c), "not opening"));
    tconn_free(t);
}

static void
test_conn_failure_for_open_channel(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 1, 1000, 1000);

    ASSERT_AMK(AMK_EPROTO, feed(t, "buuss", AMK_MSG_CHANNEL_OPEN_FAILURE, id, 2, "", ""));
    tconn_free(t);
}

static void
test_conn_confirmation_truncated_and_trailing(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "buuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 1, 1000));
    tconn_free(t);
    t = tconn_new();
    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_EFORMAT, feed(t, "buuuub", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 1, 1000,
        1000, 0));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bb", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, 0));
    tconn_free(t);
    t = tconn_new();
    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "buu", AMK_MSG_CHANNEL_OPEN_FAILURE, id, 1));
    tconn_free(t);
}

static void
test_conn_confirmation_zero_max_packet(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id;

    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_EPROTO, feed(t, "buuuu", AMK_MSG_CHANNEL_OPEN_CONFIRMATION, id, 1, 1000, 0));
    assert_non_null(strstr(amk_conn_last_error(t->c), "maximum packet size is 0"));
    tconn_free(t);
}

static void
test_conn_messages_before_confirmation(void **state)
{
    static const uint8_t types[] = {
        AMK_MSG_CHANNEL_EOF, AMK_MSG_CHANNEL_CLOSE, AMK_MSG_CHANNEL_SUCCESS,
        AMK_MSG_CHANNEL_FAILURE,
    };

    for (size_t i = 0; i < sizeof(types); i++) {
        struct tconn *t = tconn_new();
        uint32_t id;
        ASSERT_OK(amk_conn_open_session(t->c, &id));
        ASSERT_AMK(AMK_EPROTO, feed(t, "bu", types[i], id));
        assert_non_null(strstr(amk_conn_last_error(t->c), "before its open was confirmed"));
        tconn_free(t);
    }
}

static void
test_conn_second_eof(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 1, 1000, 1000);

    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    ASSERT_AMK(AMK_EPROTO, feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    tconn_free(t);
}

static void
test_conn_messages_after_peer_close(void **state)
{
    for (int k = 0; k < 5; k++) {
        struct tconn *t = tconn_new();
        uint32_t id = open_confirmed(t, 1, 1000, 1000);
        int r;

        ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
        switch (k) {
        case 0: r = feed_data(t, id, 1, 'x'); break;
        case 1: r = feed(t, "bu", AMK_MSG_CHANNEL_EOF, id); break;
        case 2: r = feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id); break;
        case 3: r = feed(t, "busBu", AMK_MSG_CHANNEL_REQUEST, id, "exit-status", 0, 0); break;
        default: r = feed(t, "buu", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, 5); break;
        }
        ASSERT_AMK(AMK_EPROTO, r);
        assert_non_null(strstr(amk_conn_last_error(t->c), "after its CLOSE"));
        tconn_free(t);
    }
}

static void
test_conn_close_and_eof_malformed(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 1, 1000, 1000);

    ASSERT_AMK(AMK_EFORMAT, feed(t, "bub", AMK_MSG_CHANNEL_CLOSE, id, 0));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 1, 1000, 1000);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "bub", AMK_MSG_CHANNEL_EOF, id, 0));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bbb", AMK_MSG_CHANNEL_CLOSE, 0, 0));
    tconn_free(t);
}

static void
test_conn_handle_unknown_and_bad_numbers(void **state)
{
    struct tconn *t = tconn_new();
    uint8_t p[2] = { 110, 0 };

    /* 101..127 are reserved: the caller answers UNIMPLEMENTED, not fatal */
    ASSERT_AMK(AMK_ENOTSUP, amk_conn_handle(t->c, p, sizeof(p)));
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    p[0] = 79;
    ASSERT_AMK(AMK_EINVAL, amk_conn_handle(t->c, p, sizeof(p)));
    p[0] = 128;
    ASSERT_AMK(AMK_EINVAL, amk_conn_handle(t->c, p, sizeof(p)));
    ASSERT_AMK(AMK_EINVAL, amk_conn_handle(t->c, p, 0));
    ASSERT_AMK(AMK_EINVAL, amk_conn_handle(t->c, NULL, 1));
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

/* --- The control queue and sink failures -------------------------------- */

static void
test_conn_control_messages_queue_when_sink_full(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t id = open_confirmed(t, 6, 1000, 1000);
    size_t n = t->sink.n, w;

    t->sink.refuse = 1;
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_write(t->c, id, "x", 1, &w));
    ASSERT_OK(amk_conn_channel_send_eof(t->c, id));
    ASSERT_OK(amk_conn_channel_close(t->c, id));
    ASSERT_OK(feed(t, "bsB", AMK_MSG_GLOBAL_REQUEST, "keepalive@openssh.com", 1));
    assert_true(amk_conn_wants_flush(t->c));
    assert_false(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_WRITABLE);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_flush(t->c));
    assert_int_equal(t->sink.n, n);
    t->sink.refuse = 0;
    ASSERT_OK(amk_conn_flush(t->c));
    assert_false(amk_conn_wants_flush(t->c));
    /* in order */
    sent_type(t, (long)n, AMK_MSG_CHANNEL_EOF, &v);
    sent_type(t, (long)n + 1, AMK_MSG_CHANNEL_CLOSE, &v);
    sent_type(t, (long)n + 2, AMK_MSG_REQUEST_FAILURE, &v);
    assert_int_equal(t->sink.n, n + 3);
    tconn_free(t);
}

static void
test_conn_open_when_sink_full_opens_nothing(void **state)
{
    struct amk_conn_config cfg;
    struct tconn *t;
    uint32_t id;
    int r = AMK_OK, opened = 0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.max_channels = 65536;
    t = tconn_new_cfg(&cfg);
    t->sink.refuse = 1;
    /* opens queue until the control queue is full, then AMK_EAGAIN */
    while ((r = amk_conn_open_session(t->c, &id)) == AMK_OK)
        opened++;
    ASSERT_AMK(AMK_EAGAIN, r);
    assert_true(opened > 100);
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

static void
test_conn_peer_flood_fills_queue(void **state)
{
    struct tconn *t = tconn_new();
    int r = AMK_OK;

    t->sink.refuse = 1;
    for (int i = 0; i < 100000 && r == AMK_OK; i++)
        r = feed(t, "bsB", AMK_MSG_GLOBAL_REQUEST, "keepalive@openssh.com", 1);
    ASSERT_AMK(AMK_ELIMIT, r);
    assert_int_equal(amk_conn_error(t->c), AMK_ELIMIT);
    tconn_free(t);
}

static void
test_conn_sink_error_fails_engine(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 6, 1000, 1000);
    size_t w;

    t->sink.fail = AMK_ECLOSED;
    ASSERT_AMK(AMK_ECLOSED, amk_conn_channel_write(t->c, id, "x", 1, &w));
    assert_int_equal(amk_conn_error(t->c), AMK_ECLOSED);
    ASSERT_AMK(AMK_ECLOSED, amk_conn_channel_send_eof(t->c, id));
    /* release of a failed engine's channel frees it at once */
    ASSERT_OK(amk_conn_channel_release(t->c, id));
    tconn_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_open_session_sends_open_and_confirms),
        cmocka_unit_test(test_conn_open_session_window),
        cmocka_unit_test(test_conn_channel_grow_window),
        cmocka_unit_test(test_conn_open_config_window_and_packet),
        cmocka_unit_test(test_conn_new_rejects_bad_config),
        cmocka_unit_test(test_conn_open_direct_tcpip_fields),
        cmocka_unit_test(test_conn_open_failure_reason_and_description),
        cmocka_unit_test(test_conn_open_failure_without_language_tag),
        cmocka_unit_test(test_conn_close_we_start),
        cmocka_unit_test(test_conn_close_peer_starts_and_data_stays_readable),
        cmocka_unit_test(test_conn_release_open_channel_closes_then_frees),
        cmocka_unit_test(test_conn_release_while_opening),
        cmocka_unit_test(test_conn_close_while_opening_is_state_error),
        cmocka_unit_test(test_conn_many_channels_distinct),
        cmocka_unit_test(test_conn_channel_count_is_bounded),
        cmocka_unit_test(test_conn_next_changed_queues_each_channel_once),
        cmocka_unit_test(test_conn_peer_open_refused_without_callback),
        cmocka_unit_test(test_conn_peer_open_accepted_by_callback),
        cmocka_unit_test(test_conn_peer_open_malformed),
        cmocka_unit_test(test_conn_confirmation_unknown_channel),
        cmocka_unit_test(test_conn_confirmation_twice),
        cmocka_unit_test(test_conn_failure_for_open_channel),
        cmocka_unit_test(test_conn_confirmation_truncated_and_trailing),
        cmocka_unit_test(test_conn_confirmation_zero_max_packet),
        cmocka_unit_test(test_conn_messages_before_confirmation),
        cmocka_unit_test(test_conn_second_eof),
        cmocka_unit_test(test_conn_messages_after_peer_close),
        cmocka_unit_test(test_conn_close_and_eof_malformed),
        cmocka_unit_test(test_conn_handle_unknown_and_bad_numbers),
        cmocka_unit_test(test_conn_control_messages_queue_when_sink_full),
        cmocka_unit_test(test_conn_open_when_sink_full_opens_nothing),
        cmocka_unit_test(test_conn_peer_flood_fills_queue),
        cmocka_unit_test(test_conn_sink_error_fails_engine),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
