/*
 * SFTP client engine (src/sftp/sftp_client.c): INIT / VERSION, framing of
 * replies from arbitrary chunks, replies matched by id in any order,
 * unknown ids, wrong reply types, oversized and empty packets, forgotten
 * requests, the in-flight limit, replies' arrival times; through the blocking client
 * (amk_sftp_new_io), the message an unknown id leaves, with one "sftp: "
 * prefix. Replies are built by hand from
 * draft-ietf-secsh-filexfer-02 §3-§7.
 */
#include "test_helper.h"

#include "sftp/sftp_client.h"
#include "util/buf.h"

static const uint8_t H1[] = { 'h', '1' };

/* A VERSION 3 packet with posix-rename@openssh.com "1". */
static const char VERSION3[] = "00000026 02 00000003 00000018"
    " 706f7369782d72656e616d65406f70656e7373682e636f6d 00000001 31";

static void
feed_hex(struct amk_sftpc *c, const char *hex, int expect)
{
    size_t len;
    uint8_t *p = test_unhex(hex, &len);
    ASSERT_AMK(expect, amk_sftpc_input(c, p, len));
    free(p);
}

static struct amk_sftpc *
ready_engine(void)
{
    struct amk_sftpc *c = NULL;
    size_t len;
    const uint8_t *out;

    ASSERT_OK(amk_sftpc_new(&c));
    out = amk_sftpc_output(c, &len);
    ASSERT_HEX("00000005 01 00000003", out, len);
    ASSERT_OK(amk_sftpc_output_consume(c, len));
    assert_false(amk_sftpc_ready(c));
    feed_hex(c, VERSION3, AMK_OK);
    assert_true(amk_sftpc_ready(c));
    return c;
}

static uint32_t
send_stat(struct amk_sftpc *c, const char *path)
{
    struct amk_sftp_req q = { .path = path };
    uint32_t id;
    ASSERT_OK(amk_sftpc_send(c, AMK_SSH_FXP_STAT, &q, &id));
    return id;
}

/* A STATUS reply to @p id with @p code, as packet bytes. */
static void
put_status(struct amk_buf *b, uint32_t id, uint32_t code)
{
    ASSERT_OK(amk_buf_put_u32(b, 1 + 4 + 4 + 4 + 4));
    ASSERT_OK(amk_buf_put_u8(b, AMK_SSH_FXP_STATUS));
    ASSERT_OK(amk_buf_put_u32(b, id));
    ASSERT_OK(amk_buf_put_u32(b, code));
    ASSERT_OK(amk_buf_put_u32(b, 0));
    ASSERT_OK(amk_buf_put_u32(b, 0));
}

static void
test_sftpc_version_and_extensions(void **state)
{
    struct amk_sftpc *c = ready_engine();
    const uint8_t *d;
    size_t n;
    (void)state;
    assert_true(amk_sftpc_has_ext(c, "posix-rename@openssh.com", &d, &n));
    assert_int_equal(n, 1);
    assert_int_equal(d[0], '1');
    assert_false(amk_sftpc_has_ext(c, "statvfs@openssh.com", NULL, NULL));
    assert_int_equal(amk_sftpc_version(c)->version, 3);
    amk_sftpc_free(c);
}

static void
test_sftpc_send_before_version(void **state)
{
    struct amk_sftpc *c = NULL;
    struct amk_sftp_req q = { .path = "/" };
    uint32_t id;
    (void)state;
    ASSERT_OK(amk_sftpc_new(&c));
    ASSERT_AMK(AMK_ESTATE, amk_sftpc_send(c, AMK_SSH_FXP_STAT, &q, &id));
    amk_sftpc_free(c);
}

static void
test_sftpc_version_unsupported(void **state)
{
    struct amk_sftpc *c = NULL;
    (void)state;
    ASSERT_OK(amk_sftpc_new(&c));
    feed_hex(c, "00000005 02 00000002", AMK_EVERSION);
    assert_false(amk_sftpc_ready(c));
    amk_sftpc_free(c);
    ASSERT_OK(amk_sftpc_new(&c));
    /* anything but VERSION first */
    feed_hex(c, "00000009 65 00000001 00000000", AMK_EPROTO);
    amk_sftpc_free(c);
}

static void
test_sftpc_replies_out_of_order(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_reply rep;
    struct amk_buf b;
    uint32_t ids[5], id;
    (void)state;
    amk_buf_init(&b);
    for (int i = 0; i < 5; i++)
        ids[i] = send_stat(c, "/x");
    assert_int_equal(amk_sftpc_inflight(c), 5);
    ASSERT_AMK(AMK_EAGAIN, amk_sftpc_take(c, ids[0], &rep));
    ASSERT_AMK(AMK_EAGAIN, amk_sftpc_next_done(c, &id));
    /* answered 3, 1, 4, 0, 2 with status = index */
    put_status(&b, ids[3], 3);
    put_status(&b, ids[1], 1);
    put_status(&b, ids[4], 4);
    put_status(&b, ids[0], 0);
    put_status(&b, ids[2], 2);
    ASSERT_OK(amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    ASSERT_OK(amk_sftpc_next_done(c, &id));
    assert_int_equal(id, ids[3]);           /* oldest arrival first */
    assert_int_equal(amk_sftpc_arrived(c), 5);
    for (int i = 4; i >= 0; i--) {
        ASSERT_OK(amk_sftpc_take(c, ids[i], &rep));
        assert_int_equal(rep.type, AMK_SSH_FXP_STATUS);
        assert_int_equal(rep.status, (uint32_t)i);
        amk_sftp_reply_clear(&rep);
        assert_int_equal(amk_sftpc_arrived(c), (size_t)i);
    }
    assert_int_equal(amk_sftpc_inflight(c), 0);
    /* taken once only */
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_take(c, ids[0], &rep));
    amk_buf_release(&b);
    amk_sftpc_free(c);
}

static void
test_sftpc_framing_any_chunks(void **state)
{
    struct amk_buf b;
    (void)state;
    amk_buf_init(&b);
    for (size_t chunk = 1; chunk <= 40; chunk++) {
        struct amk_sftpc *c = ready_engine();
        struct amk_sftp_reply rep;
        uint32_t ids[3];
        size_t off = 0;

        for (int i = 0; i < 3; i++)
            ids[i] = send_stat(c, "/x");
        amk_buf_reset(&b);
        put_status(&b, ids[2], 2);
        ASSERT_OK(amk_buf_put_u32(&b, 1 + 4 + 4));      /* ATTRS, flags 0 */
        ASSERT_OK(amk_buf_put_u8(&b, AMK_SSH_FXP_ATTRS));
        ASSERT_OK(amk_buf_put_u32(&b, ids[0]));
        ASSERT_OK(amk_buf_put_u32(&b, 0));
        put_status(&b, ids[1], 1);
        while (off < amk_buf_len(&b)) {
            size_t n = amk_buf_len(&b) - off < chunk ? amk_buf_len(&b) - off : chunk;
            ASSERT_OK(amk_sftpc_input(c, amk_buf_ptr(&b) + off, n));
            off += n;
        }
        ASSERT_OK(amk_sftpc_take(c, ids[0], &rep));
        assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
        amk_sftp_reply_clear(&rep);
        ASSERT_OK(amk_sftpc_take(c, ids[1], &rep));
        assert_int_equal(rep.status, 1);
        amk_sftp_reply_clear(&rep);
        ASSERT_OK(amk_sftpc_take(c, ids[2], &rep));
        assert_int_equal(rep.status, 2);
        amk_sftp_reply_clear(&rep);
        amk_sftpc_free(c);
    }
    amk_buf_release(&b);
}

static void
test_sftpc_unknown_id_fails(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_reply rep;
    struct amk_buf b;
    uint32_t id = send_stat(c, "/x");
    (void)state;
    amk_buf_init(&b);
    put_status(&b, id + 1, 0);
    ASSERT_AMK(AMK_EPROTO, amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    assert_int_equal(amk_sftpc_error(c), AMK_EPROTO);
    {
        /* the id the server sent, not 0 (the reply was cleared before) */
        char want[64];
        snprintf(want, sizeof(want), "reply to an unknown request id (%u)", (unsigned)(id + 1));
        assert_string_equal(amk_sftpc_last_error(c), want);
    }
    /* the engine stays failed */
    ASSERT_AMK(AMK_EPROTO, amk_sftpc_take(c, id, &rep));
    ASSERT_AMK(AMK_EPROTO, amk_sftpc_input(c, amk_buf_ptr(&b), 1));
    amk_buf_release(&b);
    amk_sftpc_free(c);
}

/* A stream for amk_sftp_new_io(): VERSION, then after the first request a
 * STATUS to an id never sent. */
struct bad_id_stream {
    struct amk_buf out;
    size_t off;
    unsigned writes;
};

static ssize_t
bad_id_read(void *user, void *buf, size_t len)
{
    struct bad_id_stream *st = user;
    size_t n = amk_buf_len(&st->out) - st->off;

    if (n == 0)
        return 0;       /* end of stream */
    if (n > len)
        n = len;
    memcpy(buf, amk_buf_ptr(&st->out) + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static ssize_t
bad_id_write(void *user, const void *buf, size_t len)
{
    struct bad_id_stream *st = user;

    (void)buf;
    if (st->writes++ == 1)
        put_status(&st->out, 0x7ffffffeu, 0);
    return (ssize_t)len;
}

static void
test_sftp_unknown_id_message(void **state)
{
    struct bad_id_stream st;
    struct amk_sftp *s = NULL;
    struct amk_sftp_attrs a;
    size_t len;
    uint8_t *v = test_unhex(VERSION3, &len);

    (void)state;
    memset(&st, 0, sizeof(st));
    amk_buf_init(&st.out);
    ASSERT_OK(amk_buf_put(&st.out, v, len));
    free(v);
    ASSERT_OK(amk_sftp_new_io(&s, bad_id_read, bad_id_write, &st));
    ASSERT_AMK(AMK_EPROTO, amk_sftp_stat(s, "/x", &a));
    assert_string_equal(amk_sftp_last_error(s), "sftp: reply to an unknown request id (2147483646)");
    amk_sftp_free(s);
    amk_buf_release(&st.out);
}

static void
test_sftpc_duplicate_reply_fails(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_buf b;
    uint32_t id = send_stat(c, "/x");
    (void)state;
    amk_buf_init(&b);
    put_status(&b, id, 0);
    put_status(&b, id, 0);
    ASSERT_AMK(AMK_EPROTO, amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    amk_buf_release(&b);
    amk_sftpc_free(c);
}

static void
test_sftpc_wrong_reply_type_fails(void **state)
{
    struct amk_sftpc *c = ready_engine();
    char hex[128];
    uint32_t id = send_stat(c, "/x");
    (void)state;
    /* STAT answered with HANDLE */
    snprintf(hex, sizeof(hex), "0000000b 66 %08x 00000002 6831", id);
    feed_hex(c, hex, AMK_EPROTO);
    amk_sftpc_free(c);

    c = ready_engine();
    {
        struct amk_sftp_req q = { .handle = H1, .handle_len = 2, .len = 10 };
        ASSERT_OK(amk_sftpc_send(c, AMK_SSH_FXP_READ, &q, &id));
    }
    /* READ answered with NAME */
    snprintf(hex, sizeof(hex), "00000009 68 %08x 00000000", id);
    feed_hex(c, hex, AMK_EPROTO);
    amk_sftpc_free(c);
}

static void
test_sftpc_bad_lengths_fail(void **state)
{
    struct amk_sftpc *c;
    (void)state;
    c = ready_engine();
    feed_hex(c, "ffffffff", AMK_ETOOBIG);
    amk_sftpc_free(c);
    c = ready_engine();
    feed_hex(c, "00 04 04", AMK_OK);        /* 0x00040401: split header */
    feed_hex(c, "01", AMK_ETOOBIG);
    amk_sftpc_free(c);
    c = ready_engine();
    feed_hex(c, "00000000", AMK_EFORMAT);
    amk_sftpc_free(c);
    c = ready_engine();
    /* a malformed body: DATA whose string overruns the packet */
    feed_hex(c, "00000009 67 00000101 00000010", AMK_ETRUNCATED);
    amk_sftpc_free(c);
}

static void
test_sftpc_forget(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_reply rep;
    struct amk_buf b;
    uint32_t a = send_stat(c, "/a"), bb = send_stat(c, "/b");
    (void)state;
    amk_buf_init(&b);
    ASSERT_OK(amk_sftpc_forget(c, a));
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_forget(c, a));
    put_status(&b, a, 0);
    put_status(&b, bb, 0);
    ASSERT_OK(amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_take(c, a, &rep));
    assert_int_equal(amk_sftpc_inflight(c), 1);
    assert_int_equal(amk_sftpc_arrived(c), 1);     /* the forgotten one's was dropped */
    /* forgetting a reply that arrived frees it */
    ASSERT_OK(amk_sftpc_forget(c, bb));
    assert_int_equal(amk_sftpc_inflight(c), 0);
    assert_int_equal(amk_sftpc_arrived(c), 0);
    /* a second reply to the forgotten id is unknown now */
    amk_buf_reset(&b);
    put_status(&b, a, 0);
    ASSERT_AMK(AMK_EPROTO, amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    amk_buf_release(&b);
    amk_sftpc_free(c);
}

static int
take_data(void *ctx, uint32_t id, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)id;
    (void)data;
    (void)len;
    return 1;
}

/* Each reply carries the time set when its last byte came, however late
 * it is taken (a transfer's round trip ends then), also a DATA reply the
 * data callback took. */
static void
test_sftpc_reply_arrival_time(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_req q = { .handle = H1, .handle_len = sizeof(H1), .len = 4 };
    struct amk_sftp_reply rep;
    struct amk_buf b;
    uint32_t a = send_stat(c, "/a"), bb = send_stat(c, "/b"), rd;
    (void)state;
    amk_sftpc_set_data_fn(c, take_data, NULL);
    ASSERT_OK(amk_sftpc_send(c, AMK_SSH_FXP_READ, &q, &rd));
    amk_buf_init(&b);
    put_status(&b, a, 0);
    put_status(&b, bb, 0);
    /* DATA: string "abcd" */
    ASSERT_OK(amk_buf_put_u32(&b, 1 + 4 + 4 + 4));
    ASSERT_OK(amk_buf_put_u8(&b, AMK_SSH_FXP_DATA));
    ASSERT_OK(amk_buf_put_u32(&b, rd));
    ASSERT_OK(amk_buf_put_cstring(&b, "abcd"));
    /* a's reply and half of b's at 5, the rest at 7 */
    amk_sftpc_set_time(c, 5.0);
    ASSERT_OK(amk_sftpc_input(c, amk_buf_ptr(&b), 21 + 10));
    amk_sftpc_set_time(c, 7.0);
    ASSERT_OK(amk_sftpc_input(c, amk_buf_ptr(&b) + 31, amk_buf_len(&b) - 31));
    amk_sftpc_set_time(c, 9.0);
    ASSERT_OK(amk_sftpc_take(c, bb, &rep));
    assert_true(rep.arrived == 7.0);
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftpc_take(c, a, &rep));
    assert_true(rep.arrived == 5.0);
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftpc_take(c, rd, &rep));
    assert_null(rep.data);
    assert_int_equal(rep.data_len, 4);
    assert_true(rep.arrived == 7.0);
    amk_sftp_reply_clear(&rep);
    amk_buf_release(&b);
    amk_sftpc_free(c);
}

static void
test_sftpc_inflight_limit(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_req q = { .path = "/" };
    struct amk_sftp_reply rep;
    struct amk_buf b;
    uint32_t ids[AMK_SFTPC_INFLIGHT_MAX], id;
    (void)state;
    amk_buf_init(&b);
    for (size_t i = 0; i < AMK_SFTPC_INFLIGHT_MAX; i++)
        ASSERT_OK(amk_sftpc_send(c, AMK_SSH_FXP_STAT, &q, &ids[i]));
    ASSERT_AMK(AMK_ELIMIT, amk_sftpc_send(c, AMK_SSH_FXP_STAT, &q, &id));
    put_status(&b, ids[7], 0);
    ASSERT_OK(amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    ASSERT_OK(amk_sftpc_take(c, ids[7], &rep));
    amk_sftp_reply_clear(&rep);
    /* the freed slot is reused under a new id */
    ASSERT_OK(amk_sftpc_send(c, AMK_SSH_FXP_STAT, &q, &id));
    assert_int_not_equal(id, ids[7]);
    assert_int_equal(id & 0xff, ids[7] & 0xff);
    /* a late duplicate for the old id does not match the new request */
    ASSERT_AMK(AMK_EPROTO, amk_sftpc_input(c, amk_buf_ptr(&b), amk_buf_len(&b)));
    amk_buf_release(&b);
    amk_sftpc_free(c);
}

static void
test_sftpc_send_bad_request(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_req q = { 0 };
    size_t before, after;
    uint32_t id;
    (void)state;
    (void)amk_sftpc_output(c, &before);
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_send(c, AMK_SSH_FXP_STAT, &q, &id));
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_send(c, AMK_SSH_FXP_READ, &q, &id));
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_send(c, AMK_SSH_FXP_VERSION, &q, &id));
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_send(c, AMK_SSH_FXP_STAT, NULL, &id));
    (void)amk_sftpc_output(c, &after);
    assert_int_equal(before, after);
    assert_int_equal(amk_sftpc_inflight(c), 0);
    amk_sftpc_free(c);
}

static void
test_sftpc_request_bytes(void **state)
{
    struct amk_sftpc *c = ready_engine();
    struct amk_sftp_req q = { .path = "/l", .path2 = "/t", .symlink_openssh = 1 };
    const uint8_t *out;
    size_t len;
    uint32_t id;
    char hex[128];
    (void)state;
    ASSERT_OK(amk_sftpc_send(c, AMK_SSH_FXP_SYMLINK, &q, &id));
    out = amk_sftpc_output(c, &len);
    snprintf(hex, sizeof(hex), "00000011 14 %08x 00000002 2f74 00000002 2f6c", id);
    ASSERT_HEX(hex, out, len);
    ASSERT_AMK(AMK_EINVAL, amk_sftpc_output_consume(c, len + 1));
    ASSERT_OK(amk_sftpc_output_consume(c, len));
    (void)amk_sftpc_output(c, &len);
    assert_int_equal(len, 0);
    amk_sftpc_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftpc_version_and_extensions),
        cmocka_unit_test(test_sftpc_send_before_version),
        cmocka_unit_test(test_sftpc_version_unsupported),
        cmocka_unit_test(test_sftpc_replies_out_of_order),
        cmocka_unit_test(test_sftpc_framing_any_chunks),
        cmocka_unit_test(test_sftpc_unknown_id_fails),
        cmocka_unit_test(test_sftp_unknown_id_message),
        cmocka_unit_test(test_sftpc_duplicate_reply_fails),
        cmocka_unit_test(test_sftpc_wrong_reply_type_fails),
        cmocka_unit_test(test_sftpc_bad_lengths_fail),
        cmocka_unit_test(test_sftpc_forget),
        cmocka_unit_test(test_sftpc_inflight_limit),
        cmocka_unit_test(test_sftpc_reply_arrival_time),
        cmocka_unit_test(test_sftpc_send_bad_request),
        cmocka_unit_test(test_sftpc_request_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
