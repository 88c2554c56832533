/*
 * Global requests (src/channel/global_req.c, RFC 4254 §4): answering the
 * peer's, ours with replies matched in order, the keepalive timer, and
 * malformed or unsolicited replies.
 */
#include "conn_test_util.h"

static void
test_global_peer_keepalive_gets_failure(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;

    ASSERT_OK(feed(t, "bsB", AMK_MSG_GLOBAL_REQUEST, "keepalive@openssh.com", 1));
    assert_int_equal(t->sink.n, 1);
    sent_type(t, -1, AMK_MSG_REQUEST_FAILURE, &v);
    ASSERT_OK(amk_buf_get_end(&v));
    tconn_free(t);
}

static void
test_global_peer_request_without_reply(void **state)
{
    struct tconn *t = tconn_new();
    static const uint8_t blob[] = { 0, 0, 0, 3, 'k', 'e', 'y' };

    /* OpenSSH announces its host keys this way after authentication */
    ASSERT_OK(feed(t, "bsBr", AMK_MSG_GLOBAL_REQUEST, "hostkeys-00@openssh.com", 0, blob,
        sizeof(blob)));
    assert_int_equal(t->sink.n, 0);
    ASSERT_OK(feed(t, "bsBr", AMK_MSG_GLOBAL_REQUEST, "tcpip-forward", 1, blob, sizeof(blob)));
    assert_int_equal(t->sink.n, 1);
    tconn_free(t);
}

static void
test_global_peer_request_malformed(void **state)
{
    struct tconn *t = tconn_new();

    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bs", AMK_MSG_GLOBAL_REQUEST, "keepalive@openssh.com"));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bu", AMK_MSG_GLOBAL_REQUEST, 10));
    tconn_free(t);
    /* RFC 4251 §5: any non-zero boolean is TRUE, so a reply is owed */
    t = tconn_new();
    ASSERT_OK(feed(t, "bsb", AMK_MSG_GLOBAL_REQUEST, "x", 2));
    assert_int_equal(t->sink.n, 1);
    tconn_free(t);
}

static void
test_global_keepalive_sent_and_answered(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    uint32_t a, b;
    enum amk_req_result res;
    int want;

    ASSERT_OK(amk_conn_keepalive(t->c, &a));
    sent_type(t, -1, AMK_MSG_GLOBAL_REQUEST, &v);
    get_str_eq(&v, "keepalive@openssh.com");
    ASSERT_OK(amk_buf_get_bool(&v, &want));
    assert_int_equal(want, 1);
    ASSERT_OK(amk_buf_get_end(&v));
    ASSERT_OK(amk_conn_global_request(t->c, "no-more-sessions@openssh.com", NULL, 0, 1, &b));
    assert_int_equal(b, a + 1);
    ASSERT_OK(amk_conn_global_result(t->c, a, &res));
    assert_int_equal(res, AMK_REQ_PENDING);
    /* OpenSSH answers an unknown keepalive with FAILURE: the peer is alive */
    ASSERT_OK(feed(t, "b", AMK_MSG_REQUEST_FAILURE));
    ASSERT_OK(feed(t, "bu", AMK_MSG_REQUEST_SUCCESS, 2222));    /* data may follow */
    ASSERT_OK(amk_conn_global_result(t->c, a, &res));
    assert_int_equal(res, AMK_REQ_FAILURE);
    ASSERT_OK(amk_conn_global_result(t->c, b, &res));
    assert_int_equal(res, AMK_REQ_SUCCESS);
    ASSERT_AMK(AMK_EINVAL, amk_conn_global_result(t->c, b + 1, &res));
    tconn_free(t);
}

static void
test_global_request_with_data(void **state)
{
    struct tconn *t = tconn_new();
    struct amk_buf v;
    static const uint8_t data[] = { 0, 0, 0, 1, 'x', 0, 0, 0x1f, 0x90 };

    ASSERT_OK(amk_conn_global_request(t->c, "tcpip-forward", data, sizeof(data), 0, NULL));
    sent_type(t, -1, AMK_MSG_GLOBAL_REQUEST, &v);
    get_str_eq(&v, "tcpip-forward");
    ASSERT_OK(amk_buf_consume(&v, 1));
    assert_int_equal(amk_buf_len(&v), sizeof(data));
    assert_memory_equal(amk_buf_ptr(&v), data, sizeof(data));
    ASSERT_AMK(AMK_EINVAL, amk_conn_global_request(t->c, "", NULL, 0, 0, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_global_request(t->c, "x", NULL, 5, 0, NULL));
    tconn_free(t);
}

static void
test_global_unsolicited_reply(void **state)
{
    struct tconn *t = tconn_new();

    ASSERT_AMK(AMK_EPROTO, feed(t, "b", AMK_MSG_REQUEST_SUCCESS));
    assert_non_null(strstr(amk_conn_last_error(t->c), "without an outstanding global request"));
    tconn_free(t);
    t = tconn_new();
    ASSERT_OK(amk_conn_global_request(t->c, "x", NULL, 0, 0, NULL));  /* no reply wanted */
    ASSERT_AMK(AMK_EPROTO, feed(t, "b", AMK_MSG_REQUEST_FAILURE));
    tconn_free(t);
}

static void
test_global_failure_trailing_data(void **state)
{
    struct tconn *t = tconn_new();

    ASSERT_OK(amk_conn_keepalive(t->c, NULL));
    ASSERT_AMK(AMK_EFORMAT, feed(t, "bb", AMK_MSG_REQUEST_FAILURE, 0));
    tconn_free(t);
}

static void
test_global_outstanding_bounded(void **state)
{
    struct tconn *t = tconn_new();

    for (int i = 0; i < AMK_CONN_REQUESTS_MAX; i++)
        ASSERT_OK(amk_conn_keepalive(t->c, NULL));
    ASSERT_AMK(AMK_ELIMIT, amk_conn_keepalive(t->c, NULL));
    ASSERT_OK(feed(t, "b", AMK_MSG_REQUEST_FAILURE));
    ASSERT_OK(amk_conn_keepalive(t->c, NULL));
    tconn_free(t);
}

static void
test_global_keepalive_timer(void **state)
{
    struct amk_conn_config cfg;
    struct tconn *t;

    memset(&cfg, 0, sizeof(cfg));
    cfg.keepalive_interval_ms = 1000;
    cfg.keepalive_count_max = 2;
    t = tconn_new_cfg(&cfg);
    assert_true(amk_conn_next_deadline(t->c) == AMK_CONN_NO_DEADLINE);
    ASSERT_OK(amk_conn_tick(t->c, 5000));              /* arms the timer */
    assert_true(amk_conn_next_deadline(t->c) == 6000);
    ASSERT_OK(amk_conn_tick(t->c, 5999));
    assert_int_equal(t->sink.n, 0);
    ASSERT_OK(amk_conn_tick(t->c, 6000));
    assert_int_equal(t->sink.n, 1);
    assert_true(amk_conn_next_deadline(t->c) == 7000);
    /* an answer resets the count */
    ASSERT_OK(feed(t, "b", AMK_MSG_REQUEST_FAILURE));
    ASSERT_OK(amk_conn_tick(t->c, 7000));
    ASSERT_OK(amk_conn_tick(t->c, 8000));
    assert_int_equal(t->sink.n, 3);
    /* two unanswered: the next expiry fails the connection */
    ASSERT_AMK(AMK_ETIMEOUT, amk_conn_tick(t->c, 9000));
    assert_int_equal(amk_conn_error(t->c), AMK_ETIMEOUT);
    assert_true(amk_conn_next_deadline(t->c) == AMK_CONN_NO_DEADLINE);
    tconn_free(t);
}

static void
test_global_keepalive_timer_any_traffic_counts(void **state)
{
    struct amk_conn_config cfg;
    struct tconn *t;
    uint32_t id;

    memset(&cfg, 0, sizeof(cfg));
    cfg.keepalive_interval_ms = 1000;
    cfg.keepalive_count_max = 1;
    t = tconn_new_cfg(&cfg);
    id = open_confirmed(t, 1, 1000, 1000);
    ASSERT_OK(amk_conn_tick(t->c, 0));
    ASSERT_OK(amk_conn_tick(t->c, 1000));
    /* channel data proves the peer alive, even before the reply */
    ASSERT_OK(feed_data(t, id, 5, 'x'));
    ASSERT_OK(amk_conn_tick(t->c, 2000));
    ASSERT_AMK(AMK_ETIMEOUT, amk_conn_tick(t->c, 3000));
    tconn_free(t);
}

static void
test_global_no_timer_without_interval(void **state)
{
    struct tconn *t = tconn_new();

    ASSERT_OK(amk_conn_tick(t->c, 0));
    ASSERT_OK(amk_conn_tick(t->c, 1000000));
    assert_int_equal(t->sink.n, 0);
    assert_true(amk_conn_next_deadline(t->c) == AMK_CONN_NO_DEADLINE);
    tconn_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_peer_keepalive_gets_failure),
        cmocka_unit_test(test_global_peer_request_without_reply),
        cmocka_unit_test(test_global_peer_request_malformed),
        cmocka_unit_test(test_global_keepalive_sent_and_answered),
        cmocka_unit_test(test_global_request_with_data),
        cmocka_unit_test(test_global_unsolicited_reply),
        cmocka_unit_test(test_global_failure_trailing_data),
        cmocka_unit_test(test_global_outstanding_bounded),
        cmocka_unit_test(test_global_keepalive_timer),
        cmocka_unit_test(test_global_keepalive_timer_any_traffic_counts),
        cmocka_unit_test(test_global_no_timer_without_interval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
