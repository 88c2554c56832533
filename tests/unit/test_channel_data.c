/*
 * Channel data and flow control (src/channel/channel_data.c, RFC 4254
 * §5.2): sending within the peer's window and maximum packet size,
 * receiving within ours, WINDOW_ADJUST when half is consumed, stdout and
 * stderr apart or merged, and every window or packet-size violation.
 */
#include "conn_test_util.h"
#include "channel/ring.h"

/* A connection with a 64 KiB window and 32 KiB packets, for accounting. */
static struct tconn *
small_window(void)
{
    struct amk_conn_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.window = 64 * 1024;
    cfg.maxpacket = 32 * 1024;
    return tconn_new_cfg(&cfg);
}

/* --- Sending ---------------------------------------------------------- */

/*
 * Checks that the packets sent from index @p n0 on are CHANNEL_DATA to
 * peer channel 4, each at most @p max bytes, carrying @p data (@p len
 * bytes) in order.
 */
static void
expect_data_sent(struct tconn *t, size_t n0, const uint8_t *data, size_t len, size_t max)
{
    struct amk_buf v;
    size_t total = 0;

    for (size_t i = n0; i < t->sink.n; i++) {
        const uint8_t *p;
        size_t plen;
        sent_type(t, (long)i, AMK_MSG_CHANNEL_DATA, &v);
        assert_int_equal(get_u32(&v), 4);
        ASSERT_OK(amk_buf_get_string_direct(&v, &p, &plen));
        ASSERT_OK(amk_buf_get_end(&v));
        assert_true(plen <= max);
        assert_memory_equal(p, data + total, plen);
        total += plen;
    }
    assert_int_equal(total, len);
}

static void
test_channel_write_splits_by_max_packet(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 1000, 300);
    uint8_t data[1000];
    size_t n0 = t->sink.n, w;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    ASSERT_OK(amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 1000);
    assert_int_equal(t->sink.n, n0 + 4);
    expect_data_sent(t, n0, data, sizeof(data), 300);
    assert_int_equal(amk_conn_channel_send_window(t->c, id), 0);
    assert_false(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_WRITABLE);
    tconn_free(t);
}

static void
test_channel_write_stops_at_window_then_eagain(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 100, 1000);
    uint8_t data[250];
    size_t w;

    memset(data, 'q', sizeof(data));
    ASSERT_OK(amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 100);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 0);
    ASSERT_OK(feed(t, "buu", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, 120));
    assert_true(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_WRITABLE);
    ASSERT_OK(amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 120);
    ASSERT_OK(amk_conn_channel_write(t->c, id, data, 0, &w));
    assert_int_equal(w, 0);
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

static void
test_channel_write_partial_when_sink_fills(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 10000, 100);
    uint8_t data[1000];
    size_t w;

    memset(data, 'q', sizeof(data));
    t->sink.refuse_after = 3;
    ASSERT_OK(amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 300);
    assert_int_equal(amk_conn_channel_send_window(t->c, id), 9700);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 0);
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

static void
test_channel_write_ext_sends_extended_data(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 1000, 1000);
    struct amk_buf v;
    size_t w;

    ASSERT_OK(amk_conn_channel_write_ext(t->c, id, AMK_EXTENDED_DATA_STDERR, "err", 3, &w));
    assert_int_equal(w, 3);
    sent_type(t, -1, AMK_MSG_CHANNEL_EXTENDED_DATA, &v);
    assert_int_equal(get_u32(&v), 4);
    assert_int_equal(get_u32(&v), 1);
    get_str_eq(&v, "err");
    ASSERT_OK(amk_buf_get_end(&v));
    tconn_free(t);
}

/* A sink taking two pieces gets each data packet as its header and the
 * data apart (the data is not joined to the header first); the packets
 * are the same, control messages still come whole. */
static void
test_channel_write_two_piece_sink(void **state)
{
    struct tconn *t = calloc(1, sizeof(*t));
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink;
    struct amk_buf v;
    uint8_t data[1000];
    size_t n0, w;
    uint32_t id;

    assert_non_null(t);
    memset(&cfg, 0, sizeof(cfg));
    memset(&sink, 0, sizeof(sink));
    sink.send = rec_send;
    sink.send2 = rec_send2;
    sink.user = &t->sink;
    ASSERT_OK(amk_conn_new(&t->c, &cfg, &sink));
    id = open_confirmed(t, 4, 2000, 300);
    assert_int_equal(t->sink.two_piece, 0);
    n0 = t->sink.n;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    ASSERT_OK(amk_conn_channel_write(t->c, id, data, sizeof(data), &w));
    assert_int_equal(w, 1000);
    assert_int_equal(t->sink.n, n0 + 4);
    assert_int_equal(t->sink.two_piece, 4);
    assert_int_equal(t->sink.head_len, 9);     /* type, recipient, length */
    expect_data_sent(t, n0, data, sizeof(data), SIZE_MAX);
    ASSERT_OK(amk_conn_channel_write_ext(t->c, id, AMK_EXTENDED_DATA_STDERR, "err", 3, &w));
    assert_int_equal(t->sink.two_piece, 5);
    assert_int_equal(t->sink.head_len, 13);
    sent_type(t, -1, AMK_MSG_CHANNEL_EXTENDED_DATA, &v);
    assert_int_equal(get_u32(&v), 4);
    assert_int_equal(get_u32(&v), 1);
    get_str_eq(&v, "err");
    ASSERT_OK(amk_buf_get_end(&v));
    /* a full sink takes nothing and the window is kept */
    t->sink.refuse = 1;
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_write(t->c, id, data, 10, &w));
    assert_int_equal(w, 0);
    assert_int_equal(amk_conn_channel_send_window(t->c, id), 2000 - 1003);
    tconn_free(t);
}

static void
test_channel_write_bad_arguments(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 1000, 1000);
    size_t w;

    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_write(t->c, id + 1, "x", 1, &w));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_write(t->c, id, NULL, 1, &w));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_write(t->c, id, "x", 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_write(NULL, id, "x", 1, &w));
    tconn_free(t);
}

static void
test_channel_window_adjust_to_exactly_max(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 1000, 1000);

    ASSERT_OK(feed(t, "buu", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, UINT32_MAX - 1000));
    assert_int_equal(amk_conn_channel_send_window(t->c, id), UINT32_MAX);
    ASSERT_OK(feed(t, "buu", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, 0));
    tconn_free(t);
}

static void
test_channel_window_adjust_overflow(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 1000, 1000);

    /* RFC 4254 §5.2: never above 2^32 - 1 */
    ASSERT_AMK(AMK_EPROTO, feed(t, "buu", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, UINT32_MAX - 999));
    assert_non_null(strstr(amk_conn_last_error(t->c), "exceeds 2^32-1"));
    tconn_free(t);
}

static void
test_channel_window_adjust_malformed(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 4, 1000, 1000);

    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bub", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, 1));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 4, 1000, 1000);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "buub", AMK_MSG_CHANNEL_WINDOW_ADJUST, id, 1, 0));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_EPROTO, feed(t, "buu", AMK_MSG_CHANNEL_WINDOW_ADJUST, 99, 1));
    tconn_free(t);
}

/* --- Receiving -------------------------------------------------------- */

static void
test_channel_receive_window_accounting_and_adjust(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    struct amk_buf v;
    uint8_t *buf = malloc(64 * 1024);
    size_t got, n0;

    assert_non_null(buf);
    ASSERT_OK(feed_data(t, id, 32 * 1024, 'a'));
    ASSERT_OK(feed_data(t, id, 32 * 1024, 'b'));
    assert_int_equal(amk_conn_channel_pending(t->c, id, AMK_CHAN_STDOUT), 64 * 1024);
    /* the window is used up: one byte more is a violation (tested below);
     * reading less than half gives nothing back */
    n0 = t->sink.n;
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, 16 * 1024, &got));
    assert_int_equal(got, 16 * 1024);
    assert_int_equal(t->sink.n, n0);
    /* reaching half sends WINDOW_ADJUST for everything consumed */
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, 16 * 1024, &got));
    assert_int_equal(t->sink.n, n0 + 1);
    sent_type(t, -1, AMK_MSG_CHANNEL_WINDOW_ADJUST, &v);
    assert_int_equal(get_u32(&v), 8);
    assert_int_equal(get_u32(&v), 32 * 1024);
    ASSERT_OK(amk_buf_get_end(&v));
    /* the peer may now send exactly 32 KiB more */
    ASSERT_OK(feed_data(t, id, 32 * 1024, 'c'));
    ASSERT_AMK(AMK_EPROTO, feed_data(t, id, 1, 'd'));
    assert_non_null(strstr(amk_conn_last_error(t->c), "beyond the window"));
    free(buf);
    tconn_free(t);
}

static void
test_channel_receive_beyond_window(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);

    ASSERT_OK(feed_data(t, id, 32 * 1024, 'a'));
    ASSERT_OK(feed_data(t, id, 32 * 1024 - 10, 'a'));
    ASSERT_AMK(AMK_EPROTO, feed_data(t, id, 11, 'a'));
    assert_int_equal(amk_conn_error(t->c), AMK_EPROTO);
    tconn_free(t);
}

static void
test_channel_receive_beyond_max_packet(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);

    ASSERT_OK(feed_data(t, id, 32 * 1024, 'a'));     /* exactly the maximum is fine */
    ASSERT_AMK(AMK_ETOOBIG, feed_data(t, id, 32 * 1024 + 1, 'a'));
    assert_non_null(strstr(amk_conn_last_error(t->c), "maximum packet size"));
    tconn_free(t);
}

static void
test_channel_receive_extended_beyond_max_packet(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    uint8_t *d = calloc(1, 40000);

    assert_non_null(d);
    ASSERT_AMK(AMK_ETOOBIG, feed(t, "buuS", AMK_MSG_CHANNEL_EXTENDED_DATA, id, 1, d,
        (size_t)40000));
    free(d);
    tconn_free(t);
}

static void
test_channel_data_after_eof(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);

    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    ASSERT_AMK(AMK_EPROTO, feed_data(t, id, 1, 'x'));
    assert_non_null(strstr(amk_conn_last_error(t->c), "after EOF"));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 8, 1000, 1000);
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    ASSERT_AMK(AMK_EPROTO, feed(t, "buuS", AMK_MSG_CHANNEL_EXTENDED_DATA, id, 1, "e", (size_t)1));
    tconn_free(t);
}

static void
test_channel_data_unknown_channel_and_before_open(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id;

    ASSERT_AMK(AMK_EPROTO, feed_data(t, 3, 1, 'x'));
    assert_non_null(strstr(amk_conn_last_error(t->c), "unknown channel 3"));
    tconn_free(t);
    t = tconn_new();
    ASSERT_OK(amk_conn_open_session(t->c, &id));
    ASSERT_AMK(AMK_EPROTO, feed_data(t, id, 1, 'x'));
    tconn_free(t);
}

static void
test_channel_data_malformed(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    static const uint8_t short_string[] = { 0, 0, 0, 9, 'a', 'b' };

    /* a string length past the end */
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bur", AMK_MSG_CHANNEL_DATA, id, short_string,
        sizeof(short_string)));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 8, 1000, 1000);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "buSb", AMK_MSG_CHANNEL_DATA, id, "ab", (size_t)2, 0));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 8, 1000, 1000);
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "buu", AMK_MSG_CHANNEL_EXTENDED_DATA, id, 1));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bb", AMK_MSG_CHANNEL_DATA, 0));
    tconn_free(t);
}

static void
test_channel_stdout_and_stderr_apart(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    char buf[16];
    size_t got;

    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf),
        &got));
    ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, "out1", (size_t)4));
    ASSERT_OK(feed(t, "buuS", AMK_MSG_CHANNEL_EXTENDED_DATA, id, 1, "err1", (size_t)4));
    ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, "out2", (size_t)4));
    assert_int_equal(amk_conn_channel_poll(t->c, id) & (AMK_CHAN_EV_READABLE | AMK_CHAN_EV_STDERR),
        AMK_CHAN_EV_READABLE | AMK_CHAN_EV_STDERR);
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDERR, buf, sizeof(buf), &got));
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "err1", 4);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_read(t->c, id, AMK_CHAN_STDERR, buf, sizeof(buf),
        &got));
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, 3, &got));
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "out", 3);
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &got));
    assert_int_equal(got, 5);
    assert_memory_equal(buf, "1out2", 5);
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_read(t->c, id, (enum amk_chan_stream)2, buf, 1, &got));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDERR, buf, sizeof(buf), &got));
    assert_int_equal(got, 0);
    tconn_free(t);
}

static void
test_channel_stderr_merged(void **state)
{
    struct amk_conn_config cfg;
    struct tconn *t;
    uint32_t id, id2;
    char buf[16];
    size_t got;

    memset(&cfg, 0, sizeof(cfg));
    cfg.merge_stderr = 1;
    t = tconn_new_cfg(&cfg);
    id = open_confirmed(t, 8, 1000, 1000);
    ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, "a", (size_t)1));
    ASSERT_OK(feed(t, "buuS", AMK_MSG_CHANNEL_EXTENDED_DATA, id, 1, "b", (size_t)1));
    ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, "c", (size_t)1));
    assert_int_equal(amk_conn_channel_pending(t->c, id, AMK_CHAN_STDERR), 0);
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &got));
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "abc", 3);
    /* and per channel, switched off again */
    id2 = open_confirmed(t, 9, 1000, 1000);
    ASSERT_OK(amk_conn_channel_merge_stderr(t->c, id2, 0));
    ASSERT_OK(feed(t, "buuS", AMK_MSG_CHANNEL_EXTENDED_DATA, id2, 1, "e", (size_t)1));
    assert_int_equal(amk_conn_channel_pending(t->c, id2, AMK_CHAN_STDERR), 1);
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_merge_stderr(t->c, 12345, 1));
    tconn_free(t);
}

static void
test_channel_unknown_extended_type_dropped_but_counted(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    uint8_t *d = calloc(1, 32 * 1024);
    struct amk_buf v;

    assert_non_null(d);
    ASSERT_OK(feed(t, "buuS", AMK_MSG_CHANNEL_EXTENDED_DATA, id, 7, d, (size_t)(32 * 1024)));
    assert_int_equal(amk_conn_channel_pending(t->c, id, AMK_CHAN_STDOUT), 0);
    assert_int_equal(amk_conn_channel_pending(t->c, id, AMK_CHAN_STDERR), 0);
    /* dropped data is consumed at once, so the window comes back */
    sent_type(t, -1, AMK_MSG_CHANNEL_WINDOW_ADJUST, &v);
    assert_int_equal(get_u32(&v), 8);
    assert_int_equal(get_u32(&v), 32 * 1024);
    free(d);
    tconn_free(t);
}

static void
test_channel_no_adjust_after_peer_eof(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    uint8_t *buf = malloc(64 * 1024);
    size_t got, n0;

    assert_non_null(buf);
    ASSERT_OK(feed_data(t, id, 32 * 1024, 'a'));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_EOF, id));
    n0 = t->sink.n;
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, 64 * 1024, &got));
    assert_int_equal(got, 32 * 1024);
    assert_int_equal(t->sink.n, n0);
    free(buf);
    tconn_free(t);
}

static void
test_channel_adjust_retried_when_output_was_full(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    uint8_t *buf = malloc(64 * 1024);
    char cmd[2000];
    struct amk_buf v;
    size_t got, n0;

    assert_non_null(buf);
    memset(cmd, 'c', sizeof(cmd) - 1);
    cmd[sizeof(cmd) - 1] = '\0';
    ASSERT_OK(feed_data(t, id, 32 * 1024, 'a'));
    ASSERT_OK(feed_data(t, id, 32 * 1024, 'b'));
    /* the control queue is full: the adjust cannot even be queued */
    t->sink.refuse = 1;
    while (amk_conn_channel_exec(t->c, id, cmd, 0, NULL) == AMK_OK)
        ;
    ASSERT_OK(amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, 64 * 1024, &got));
    assert_int_equal(got, 64 * 1024);
    t->sink.refuse = 0;
    n0 = t->sink.n;
    /* reading nothing still retries it, behind the queued requests */
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, 64, &got));
    assert_true(t->sink.n > n0);
    sent_type(t, -1, AMK_MSG_CHANNEL_WINDOW_ADJUST, &v);
    assert_int_equal(get_u32(&v), 8);
    assert_int_equal(get_u32(&v), 64 * 1024);
    assert_false(amk_conn_wants_flush(t->c));
    free(buf);
    tconn_free(t);
}

/*
 * Streams 10 MB from a peer that sends exactly as much as its view of the
 * window allows, the application reading in odd-sized pieces: nothing is
 * lost, no violation, and the peer never stalls (it always has window
 * left while the application keeps reading).
 */
static void
test_channel_stream_window_accounting(void **state)
{
    struct tconn *t = small_window();
    uint32_t id = open_confirmed(t, 8, 1000, 1000);
    const size_t total = 10 * 1000 * 1000;
    uint64_t peer_window = 64 * 1024, sent_bytes = 0, read_bytes = 0;
    size_t seen = t->sink.n;
    uint8_t chunk[32 * 1024], buf[7000];

    while (read_bytes < total) {
        /* the peer sends what fits, in packets of at most 32 KiB */
        while (sent_bytes < total && peer_window > 0) {
            size_t n = total - sent_bytes;
            if (n > sizeof(chunk))
                n = sizeof(chunk);
            if (n > peer_window)
                n = (size_t)peer_window;
            for (size_t i = 0; i < n; i++)
                chunk[i] = (uint8_t)((sent_bytes + i) % 251);
            ASSERT_OK(feed(t, "buS", AMK_MSG_CHANNEL_DATA, id, chunk, n));
            sent_bytes += n;
            peer_window -= n;
        }
        /* the application reads one piece */
        {
            size_t got;
            int r = amk_conn_channel_read(t->c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &got);
            ASSERT_OK(r);
            for (size_t i = 0; i < got; i++)
                assert_int_equal(buf[i], (uint8_t)((read_bytes + i) % 251));
            read_bytes += got;
        }
        /* the peer learns of adjusts */
        for (; seen < t->sink.n; seen++) {
            struct amk_buf v;
            sent_type(t, (long)seen, AMK_MSG_CHANNEL_WINDOW_ADJUST, &v);
            assert_int_equal(get_u32(&v), 8);
            peer_window += get_u32(&v);
            assert_true(peer_window <= 64 * 1024);
        }
        /* never stalled while data is still owed */
        if (sent_bytes < total)
            assert_true(peer_window > 0 || amk_conn_channel_pending(t->c, id,
                AMK_CHAN_STDOUT) > 0);
    }
    assert_int_equal(read_bytes, total);
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

/* Bytes @p pos .. @p pos + @p n - 1 of the test stream. */
static void
ring_stream(uint8_t *buf, size_t pos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)((pos + i) * 7 + (pos + i) / 251);
}

/* The receive ring (channel/ring.c): data survives wrapping around the
 * end of the storage and growing while wrapped, in order; the maximum
 * holds. */
static void
test_channel_ring_wraps_and_grows_in_order(void **state)
{
    struct amk_ring r;
    static uint8_t in[40000], out[40000], want[40000];
    size_t wpos = 0, rpos = 0, n;

    (void)state;
    amk_ring_init(&r, 40000);
    /* 10000 in, 6000 out, repeatedly: the head walks around the ring,
     * which grows from 16 KiB while wrapped. */
    for (int round = 0; round < 6; round++) {
        n = round < 5 ? 10000 : 4000;
        ring_stream(in, wpos, n);
        ASSERT_OK(amk_ring_put(&r, in, n));
        wpos += n;
        assert_int_equal(amk_ring_get(&r, out, 6000), 6000);
        ring_stream(want, rpos, 6000);
        assert_memory_equal(out, want, 6000);
        rpos += 6000;
    }
    assert_int_equal(amk_ring_len(&r), wpos - rpos);
    n = 40000 - amk_ring_len(&r);
    ASSERT_AMK(AMK_ELIMIT, amk_ring_put(&r, in, n + 1));
    ring_stream(in, wpos, n);
    ASSERT_OK(amk_ring_put(&r, in, n));
    wpos += n;
    assert_int_equal(amk_ring_len(&r), 40000);
    assert_int_equal(amk_ring_get(&r, out, sizeof(out)), 40000);
    ring_stream(want, rpos, 40000);
    assert_memory_equal(out, want, 40000);
    assert_int_equal(amk_ring_get(&r, out, 1), 0);
    amk_ring_release(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channel_write_splits_by_max_packet),
        cmocka_unit_test(test_channel_write_stops_at_window_then_eagain),
        cmocka_unit_test(test_channel_write_partial_when_sink_fills),
        cmocka_unit_test(test_channel_write_ext_sends_extended_data),
        cmocka_unit_test(test_channel_write_two_piece_sink),
        cmocka_unit_test(test_channel_write_bad_arguments),
        cmocka_unit_test(test_channel_window_adjust_to_exactly_max),
        cmocka_unit_test(test_channel_window_adjust_overflow),
        cmocka_unit_test(test_channel_window_adjust_malformed),
        cmocka_unit_test(test_channel_receive_window_accounting_and_adjust),
        cmocka_unit_test(test_channel_receive_beyond_window),
        cmocka_unit_test(test_channel_receive_beyond_max_packet),
        cmocka_unit_test(test_channel_receive_extended_beyond_max_packet),
        cmocka_unit_test(test_channel_data_after_eof),
        cmocka_unit_test(test_channel_data_unknown_channel_and_before_open),
        cmocka_unit_test(test_channel_data_malformed),
        cmocka_unit_test(test_channel_stdout_and_stderr_apart),
        cmocka_unit_test(test_channel_stderr_merged),
        cmocka_unit_test(test_channel_unknown_extended_type_dropped_but_counted),
        cmocka_unit_test(test_channel_no_adjust_after_peer_eof),
        cmocka_unit_test(test_channel_adjust_retried_when_output_was_full),
        cmocka_unit_test(test_channel_stream_window_accounting),
        cmocka_unit_test(test_channel_ring_wraps_and_grows_in_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
