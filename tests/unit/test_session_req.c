/*
 * Channel requests (src/channel/session_req.c): the encodings of the
 * session requests of RFC 4254 §6 and RFC 4335, replies matched in order
 * (§5.4), exit-status / exit-signal (§6.10), and malformed or unexpected
 * requests and replies.
 */
#include "conn_test_util.h"

/* Asserts the last payload sent equals the one built from @p fmt. */
static void
assert_last_sent(struct tconn *t, const char *fmt, ...)
{
    struct amk_buf want, got;
    va_list ap;

    amk_buf_init(&want);
    va_start(ap, fmt);
    vbuild(&want, fmt, ap);
    va_end(ap);
    sent(t, -1, &got);
    assert_int_equal(amk_buf_len(&got), amk_buf_len(&want));
    assert_memory_equal(amk_buf_ptr(&got), amk_buf_ptr(&want), amk_buf_len(&want));
    amk_buf_release(&want);
}

static void
test_session_exec_encoding_and_success(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000), ticket = 99;
    enum amk_req_result res;

    ASSERT_OK(amk_conn_channel_exec(t->c, id, "echo hi", 1, &ticket));
    /* RFC 4254 §6.5 */
    assert_last_sent(t, "busBs", AMK_MSG_CHANNEL_REQUEST, 21, "exec", 1, "echo hi");
    assert_int_equal(ticket, 0);
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, ticket, &res));
    assert_int_equal(res, AMK_REQ_PENDING);
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_SUCCESS, id));
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, ticket, &res));
    assert_int_equal(res, AMK_REQ_SUCCESS);
    tconn_free(t);
}

static void
test_session_other_request_encodings(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);

    ASSERT_OK(amk_conn_channel_shell(t->c, id, 1, NULL));
    assert_last_sent(t, "busB", AMK_MSG_CHANNEL_REQUEST, 21, "shell", 1);
    ASSERT_OK(amk_conn_channel_subsystem(t->c, id, "sftp", 1, NULL));
    assert_last_sent(t, "busBs", AMK_MSG_CHANNEL_REQUEST, 21, "subsystem", 1, "sftp");
    /* RFC 4254 §6.4 */
    ASSERT_OK(amk_conn_channel_env(t->c, id, "LANG", "C.UTF-8", 0, NULL));
    assert_last_sent(t, "busBss", AMK_MSG_CHANNEL_REQUEST, 21, "env", 0, "LANG", "C.UTF-8");
    /* RFC 4254 §6.7 */
    ASSERT_OK(amk_conn_channel_window_change(t->c, id, 132, 43, 1024, 768));
    assert_last_sent(t, "busBuuuu", AMK_MSG_CHANNEL_REQUEST, 21, "window-change", 0, 132, 43,
        1024, 768);
    /* RFC 4254 §6.9 */
    ASSERT_OK(amk_conn_channel_signal(t->c, id, "TERM"));
    assert_last_sent(t, "busBs", AMK_MSG_CHANNEL_REQUEST, 21, "signal", 0, "TERM");
    /* RFC 4335 §3 */
    ASSERT_OK(amk_conn_channel_break(t->c, id, 500, 1, NULL));
    assert_last_sent(t, "busBu", AMK_MSG_CHANNEL_REQUEST, 21, "break", 1, 500);
    tconn_free(t);
}

static void
test_session_pty_req_encoding(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);
    const struct amk_pty_mode modes[] = {
        { AMK_TTY_ECHO, 0 }, { AMK_TTY_OP_OSPEED, 38400 },
    };
    struct amk_pty_req pty = {
        .term = "xterm", .cols = 80, .rows = 24, .width_px = 640, .height_px = 480,
        .modes = modes, .n_modes = 2,
    };
    /* RFC 4254 §8: opcode byte, uint32 argument, ..., TTY_OP_END */
    static const uint8_t encoded[] = {
        53, 0, 0, 0, 0,
        129, 0, 0, 0x96, 0x00,
        0,
    };

    ASSERT_OK(amk_conn_channel_pty(t->c, id, &pty, 1, NULL));
    /* RFC 4254 §6.2 */
    assert_last_sent(t, "busBsuuuuS", AMK_MSG_CHANNEL_REQUEST, 21, "pty-req", 1, "xterm", 80, 24,
        640, 480, encoded, sizeof(encoded));
    pty.n_modes = 0;
    pty.term = NULL;
    ASSERT_OK(amk_conn_channel_pty(t->c, id, &pty, 0, NULL));
    assert_last_sent(t, "busBsuuuuS", AMK_MSG_CHANNEL_REQUEST, 21, "pty-req", 0, "", 80, 24,
        640, 480, encoded + 10, (size_t)1);
    tconn_free(t);
}

static void
test_session_request_bad_arguments(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);
    const struct amk_pty_mode bad_end[] = { { AMK_TTY_OP_END, 0 } };
    const struct amk_pty_mode bad_high[] = { { 160, 1 } };
    struct amk_pty_req pty = { .term = "vt100", .cols = 80, .rows = 24 };
    size_t n = t->sink.n;

    pty.modes = bad_end;
    pty.n_modes = 1;
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_pty(t->c, id, &pty, 1, NULL));
    pty.modes = bad_high;
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_pty(t->c, id, &pty, 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_pty(t->c, id, NULL, 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_signal(t->c, id, "SIGTERM"));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_signal(t->c, id, ""));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_exec(t->c, id, NULL, 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_subsystem(t->c, id, "", 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_env(t->c, id, "", "v", 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_exec(t->c, id + 1, "x", 1, NULL));
    assert_int_equal(t->sink.n, n);
    assert_int_equal(amk_conn_error(t->c), AMK_OK);
    tconn_free(t);
}

static void
test_session_replies_matched_in_order(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000), a, b, c;
    enum amk_req_result res;

    ASSERT_OK(amk_conn_channel_env(t->c, id, "A", "1", 1, &a));
    ASSERT_OK(amk_conn_channel_env(t->c, id, "B", "2", 0, NULL));      /* no reply */
    ASSERT_OK(amk_conn_channel_exec(t->c, id, "true", 1, &b));
    ASSERT_OK(amk_conn_channel_break(t->c, id, 0, 1, &c));
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(c, 2);
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_FAILURE, id));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_SUCCESS, id));
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, a, &res));
    assert_int_equal(res, AMK_REQ_FAILURE);
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, b, &res));
    assert_int_equal(res, AMK_REQ_SUCCESS);
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, c, &res));
    assert_int_equal(res, AMK_REQ_PENDING);
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_request_result(t->c, id, 3, &res));
    /* a request the peer closes on without answering failed */
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, c, &res));
    assert_int_equal(res, AMK_REQ_FAILURE);
    tconn_free(t);
}

static void
test_session_reply_without_request(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);

    ASSERT_OK(amk_conn_channel_exec(t->c, id, "true", 0, NULL));
    ASSERT_AMK(AMK_EPROTO, feed(t, "bu", AMK_MSG_CHANNEL_SUCCESS, id));
    assert_non_null(strstr(amk_conn_last_error(t->c), "without an outstanding request"));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 21, 1000, 1000);
    ASSERT_AMK(AMK_EPROTO, feed(t, "bu", AMK_MSG_CHANNEL_FAILURE, id));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 21, 1000, 1000);
    ASSERT_OK(amk_conn_channel_exec(t->c, id, "true", 1, NULL));
    ASSERT_AMK(AMK_EFORMAT, feed(t, "bub", AMK_MSG_CHANNEL_SUCCESS, id, 0));
    tconn_free(t);
}

static void
test_session_outstanding_requests_bounded(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000), ticket;
    enum amk_req_result res;

    for (int i = 0; i < AMK_CONN_REQUESTS_MAX; i++)
        ASSERT_OK(amk_conn_channel_env(t->c, id, "A", "1", 1, &ticket));
    ASSERT_AMK(AMK_ELIMIT, amk_conn_channel_env(t->c, id, "A", "1", 1, &ticket));
    /* without a reply it is still allowed */
    ASSERT_OK(amk_conn_channel_env(t->c, id, "A", "1", 0, NULL));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_SUCCESS, id));
    ASSERT_OK(amk_conn_channel_env(t->c, id, "A", "1", 1, &ticket));
    assert_int_equal(ticket, AMK_CONN_REQUESTS_MAX);
    for (int i = 0; i < AMK_CONN_REQUESTS_MAX; i++)
        ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_FAILURE, id));
    /* ticket 0's answer was 64 answers ago: forgotten */
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_request_result(t->c, id, 0, &res));
    ASSERT_OK(amk_conn_channel_request_result(t->c, id, 1, &res));
    assert_int_equal(res, AMK_REQ_FAILURE);
    tconn_free(t);
}

static void
test_session_exit_status(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000), status = 0, n;
    const char *sig;

    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_exit_status(t->c, id, &status));
    n = (uint32_t)t->sink.n;
    ASSERT_OK(feed(t, "busBu", AMK_MSG_CHANNEL_REQUEST, id, "exit-status", 0, 42));
    assert_int_equal(t->sink.n, n);    /* no reply */
    assert_true(amk_conn_channel_poll(t->c, id) & AMK_CHAN_EV_EXIT);
    ASSERT_OK(amk_conn_channel_exit_status(t->c, id, &status));
    assert_int_equal(status, 42);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_exit_signal(t->c, id, &sig, NULL, NULL));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    ASSERT_AMK(AMK_ECLOSED, amk_conn_channel_exit_signal(t->c, id, &sig, NULL, NULL));
    ASSERT_OK(amk_conn_channel_exit_status(t->c, id, &status));
    tconn_free(t);
}

static void
test_session_exit_signal(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000), status;
    const char *sig, *msg;
    int core;

    ASSERT_OK(feed(t, "busBsBss", AMK_MSG_CHANNEL_REQUEST, id, "exit-signal", 0, "KILL", 1,
        "killed\n", ""));
    ASSERT_OK(amk_conn_channel_exit_signal(t->c, id, &sig, &core, &msg));
    assert_string_equal(sig, "KILL");
    assert_int_equal(core, 1);
    assert_string_equal(msg, "killed?");
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    ASSERT_AMK(AMK_ECLOSED, amk_conn_channel_exit_status(t->c, id, &status));
    tconn_free(t);
}

static void
test_session_exit_messages_malformed(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);

    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "exit-status", 0));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 21, 1000, 1000);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "busBub", AMK_MSG_CHANNEL_REQUEST, id, "exit-status", 0, 1,
        0));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 21, 1000, 1000);
    /* the language tag is missing */
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busBsBs", AMK_MSG_CHANNEL_REQUEST, id, "exit-signal", 0,
        "TERM", 0, ""));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 21, 1000, 1000);
    /* the core-dumped boolean is missing */
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busBs", AMK_MSG_CHANNEL_REQUEST, id, "exit-signal", 0,
        "TERM"));
    tconn_free(t);
}

static void
test_session_peer_requests_answered(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);
    size_t n;

    /* OpenSSH's ClientAliveInterval probe: FAILURE is the expected answer */
    ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "keepalive@openssh.com", 1));
    assert_last_sent(t, "bu", AMK_MSG_CHANNEL_FAILURE, 21);
    /* a request meant for a server, wanting a reply */
    ASSERT_OK(feed(t, "busBs", AMK_MSG_CHANNEL_REQUEST, id, "exec", 1, "rm -rf /"));
    assert_last_sent(t, "bu", AMK_MSG_CHANNEL_FAILURE, 21);
    /* a known one asking for a reply gets SUCCESS */
    ASSERT_OK(feed(t, "busBu", AMK_MSG_CHANNEL_REQUEST, id, "exit-status", 1, 0));
    assert_last_sent(t, "bu", AMK_MSG_CHANNEL_SUCCESS, 21);
    /* no reply wanted: none sent */
    n = t->sink.n;
    ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "eow@openssh.com", 0));
    assert_int_equal(t->sink.n, n);
    /* after our CLOSE nothing is sent, not even a reply */
    ASSERT_OK(amk_conn_channel_close(t->c, id));
    n = t->sink.n;
    ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "keepalive@openssh.com", 1));
    assert_int_equal(t->sink.n, n);
    tconn_free(t);
}

static void
test_session_request_malformed(void **state)
{
    struct tconn *t = tconn_new();
    uint32_t id = open_confirmed(t, 21, 1000, 1000);

    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bus", AMK_MSG_CHANNEL_REQUEST, id, "exit-status"));
    tconn_free(t);
    t = tconn_new();
    id = open_confirmed(t, 21, 1000, 1000);
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bub", AMK_MSG_CHANNEL_REQUEST, id, 0));
    tconn_free(t);
    t = tconn_new();
    ASSERT_AMK(AMK_EPROTO, feed(t, "busBu", AMK_MSG_CHANNEL_REQUEST, 77, "exit-status", 0, 0));
    tconn_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_exec_encoding_and_success),
        cmocka_unit_test(test_session_other_request_encodings),
        cmocka_unit_test(test_session_pty_req_encoding),
        cmocka_unit_test(test_session_request_bad_arguments),
        cmocka_unit_test(test_session_replies_matched_in_order),
        cmocka_unit_test(test_session_reply_without_request),
        cmocka_unit_test(test_session_outstanding_requests_bounded),
        cmocka_unit_test(test_session_exit_status),
        cmocka_unit_test(test_session_exit_signal),
        cmocka_unit_test(test_session_exit_messages_malformed),
        cmocka_unit_test(test_session_peer_requests_answered),
        cmocka_unit_test(test_session_request_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
