/*
 * Unit tests for src/transport/compress.c and compression in the engine:
 * zlib from NEWKEYS, zlib@openssh.com after USERAUTH_SUCCESS, the
 * decompression cap against zip bombs.
 */
#include "transport_pair.h"

#include "transport/transport_int.h"

static struct amk_key *ed_key;

static int
setup_keys(void **state)
{
    return amk_key_generate(AMK_PKEY_ED25519, 0, &ed_key) == AMK_OK ? 0 : -1;
}

static int
teardown_keys(void **state)
{
    amk_key_free(ed_key);
    return 0;
}

/* Sends a compressible message of @p len bytes, after @p pre (a 1-byte
 * message, 0: none) in the same flight; returns the wire bytes it took. */
static uint64_t
send_after(struct test_pair *p, struct test_side *from, struct test_side *to,
    uint8_t pre, uint8_t type, size_t len)
{
    uint8_t *m = malloc(len);
    uint64_t before;
    const uint8_t *got;
    size_t n;

    assert_non_null(m);
    if (pre != 0)
        ASSERT_OK(amk_transport_send(from->t, &pre, 1));
    before = amk_transport_bytes_out(from->t);
    for (size_t i = 0; i < len; i++)
        m[i] = (uint8_t)("abcabcabd"[i % 9]);
    m[0] = type;
    ASSERT_OK(amk_transport_send(from->t, m, len));
    ASSERT_OK(pair_run(p, NULL));
    if (pre != 0) {
        ASSERT_OK(side_pop(to, &got, &n));
        assert_int_equal(n, 1);
        assert_int_equal(got[0], pre);
    }
    ASSERT_OK(side_pop(to, &got, &n));
    assert_int_equal(n, len);
    assert_memory_equal(got, m, len);
    free(m);
    return amk_transport_bytes_out(from->t) - before;
}

static uint64_t
send_compressible(struct test_pair *p, struct test_side *from, struct test_side *to,
    uint8_t type, size_t len)
{
    return send_after(p, from, to, 0, type, len);
}

static void
test_amk_transport_compress_zlib_round_trip(void **state)
{
    struct test_pair p;
    struct amk_transport_config c, s;
    struct amk_transport_algs a;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.compression = "zlib";
    s.compression = "+zlib";
    pair_init(&p);
    pair_add_key(&p, ed_key);
    ASSERT_OK(pair_start(&p, &c, &s));
    pair_handshake(&p);
    ASSERT_OK(amk_transport_algs(p.c.t, &a));
    assert_string_equal(a.comp_c2s, "zlib");
    assert_string_equal(a.comp_s2c, "zlib");
    /* Compressed from the start, both ways, across a rekey. */
    assert_true(send_compressible(&p, &p.c, &p.s, 94, 20000) < 2000);
    assert_true(send_compressible(&p, &p.s, &p.c, 94, 20000) < 2000);
    ASSERT_OK(amk_transport_rekey(p.c.t));
    ASSERT_OK(pair_run(&p, NULL));
    for (int i = 0; i < 10; i++) {
        assert_true(send_compressible(&p, &p.c, &p.s, 94, 1000 + (size_t)i * 3000) < 2000);
        assert_true(send_compressible(&p, &p.s, &p.c, 94, 5000) < 2000);
    }
    p.nkeys = 0;
    pair_free(&p);
}

/* zlib@openssh.com: plain until USERAUTH_SUCCESS, compressed after. */
static void
test_amk_transport_compress_delayed_after_userauth_success(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    struct amk_transport_algs a;

    memset(&c, 0, sizeof(c));
    c.compression = "zlib@openssh.com,none";
    pair_init(&p);
    pair_add_key(&p, ed_key);
    ASSERT_OK(pair_start(&p, &c, NULL));
    pair_handshake(&p);
    ASSERT_OK(amk_transport_algs(p.c.t, &a));
    assert_string_equal(a.comp_c2s, "zlib@openssh.com");
    assert_true(send_compressible(&p, &p.c, &p.s, 50, 20000) > 20000);
    assert_true(send_compressible(&p, &p.s, &p.c, 60, 20000) > 20000);
    /* The server's USERAUTH_SUCCESS, and data right behind it in the same
     * flight: the client must decompress from the next packet on. */
    assert_true(send_after(&p, &p.s, &p.c, 52, 94, 20000) < 2000);
    assert_true(send_compressible(&p, &p.c, &p.s, 94, 20000) < 2000);
    /* Still compressed after a rekey (the stream restarts at NEWKEYS). */
    ASSERT_OK(amk_transport_rekey(p.s.t));
    ASSERT_OK(pair_run(&p, NULL));
    assert_true(send_compressible(&p, &p.c, &p.s, 94, 20000) < 2000);
    assert_true(send_compressible(&p, &p.s, &p.c, 94, 20000) < 2000);
    p.nkeys = 0;
    pair_free(&p);
}

/* amk_transport_set_authenticated() is harmless after the automatic switch. */
static void
test_amk_transport_set_authenticated_idempotent(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    static const uint8_t success[] = { 52 };

    memset(&c, 0, sizeof(c));
    c.compression = "zlib@openssh.com";
    pair_init(&p);
    pair_add_key(&p, ed_key);
    ASSERT_OK(pair_start(&p, &c, NULL));
    pair_handshake(&p);
    ASSERT_OK(amk_transport_send(p.s.t, success, sizeof(success)));
    ASSERT_OK(amk_transport_set_authenticated(p.s.t));
    ASSERT_OK(pair_run(&p, NULL));
    ASSERT_OK(amk_transport_set_authenticated(p.c.t));
    {
        const uint8_t *m;
        size_t n;
        ASSERT_OK(side_pop(&p.c, &m, &n));
        assert_int_equal(m[0], 52);
    }
    assert_true(send_compressible(&p, &p.c, &p.s, 94, 30000) < 2000);
    assert_true(send_compressible(&p, &p.s, &p.c, 94, 30000) < 2000);
    p.nkeys = 0;
    pair_free(&p);
}

/* A small compressed packet that inflates past the payload limit. */
static void
test_amk_compress_inflate_zip_bomb(void **state)
{
    struct amk_compress *d = NULL, *i = NULL;
    struct amk_buf z, out;
    uint8_t *zeros = calloc(1, 1024 * 1024);

    assert_non_null(zeros);
    amk_buf_init(&z);
    amk_buf_init(&out);
    ASSERT_OK(amk_compress_new(&d, 1));
    ASSERT_OK(amk_compress_new(&i, 0));
    ASSERT_OK(amk_compress_deflate(d, zeros, 1024 * 1024, &z));
    assert_true(amk_buf_len(&z) < 8192);
    ASSERT_AMK(AMK_ETOOBIG, amk_compress_inflate(i, amk_buf_ptr(&z), amk_buf_len(&z), &out,
        AMK_TRANSPORT_MAX_PAYLOAD));
    amk_compress_free(d);
    amk_compress_free(i);
    amk_buf_release(&z);
    amk_buf_release(&out);
    free(zeros);
}

static void
test_amk_compress_inflate_garbage(void **state)
{
    struct amk_compress *i = NULL;
    struct amk_buf out;
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34 };

    amk_buf_init(&out);
    ASSERT_OK(amk_compress_new(&i, 0));
    ASSERT_AMK(AMK_EFORMAT, amk_compress_inflate(i, junk, sizeof(junk), &out, 1000));
    amk_compress_free(i);
    amk_buf_release(&out);
}

/* A round trip through the stream functions, packet by packet. */
static void
test_amk_compress_stream_round_trip(void **state)
{
    struct amk_compress *d = NULL, *i = NULL;
    struct amk_buf z, out;
    uint8_t msg[3000];

    amk_buf_init(&z);
    amk_buf_init(&out);
    ASSERT_OK(amk_compress_new(&d, 1));
    ASSERT_OK(amk_compress_new(&i, 0));
    for (int k = 0; k < 50; k++) {
        size_t len = 1 + (size_t)k * 57;
        for (size_t j = 0; j < len; j++)
            msg[j] = (uint8_t)(j * k);
        amk_buf_reset(&z);
        amk_buf_reset(&out);
        ASSERT_OK(amk_compress_deflate(d, msg, len, &z));
        ASSERT_OK(amk_compress_inflate(i, amk_buf_ptr(&z), amk_buf_len(&z), &out, sizeof(msg)));
        assert_int_equal(amk_buf_len(&out), len);
        assert_memory_equal(amk_buf_ptr(&out), msg, len);
    }
    /* A wrong direction is a bug in the caller. */
    ASSERT_AMK(AMK_EINTERNAL, amk_compress_inflate(d, msg, 1, &out, 10));
    amk_compress_free(d);
    amk_compress_free(i);
    amk_buf_release(&z);
    amk_buf_release(&out);
}

/* A compressed packet that inflates past the limit kills the session. */
static void
test_amk_transport_compress_bomb_in_session(void **state)
{
    struct test_pair p;
    struct amk_transport_config c, s;
    struct amk_compress *bomb = NULL;
    struct amk_buf z;
    uint8_t *big = calloc(1, AMK_TRANSPORT_MAX_PAYLOAD + 4096);
    char who = '?';

    assert_non_null(big);
    big[0] = 94;
    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.compression = "zlib";
    s.compression = "zlib";
    pair_init(&p);
    pair_add_key(&p, ed_key);
    ASSERT_OK(pair_start(&p, &c, &s));
    pair_handshake(&p);
    /* Compress more than the limit with the client's own stream, then
     * send the small result as one packet, bypassing the payload check. */
    amk_buf_init(&z);
    bomb = p.c.t->dir_out.comp;
    ASSERT_OK(amk_compress_deflate(bomb, big, AMK_TRANSPORT_MAX_PAYLOAD + 4096, &z));
    p.c.t->dir_out.comp_delayed = 1;   /* send z as it is */
    ASSERT_OK(amk_packet_send(p.c.t, amk_buf_ptr(&z), amk_buf_len(&z)));
    ASSERT_AMK(AMK_ETOOBIG, pair_run(&p, &who));
    assert_int_equal(who, 's');
    {
        size_t moved = 0;
        ASSERT_AMK(AMK_EDISCONNECT, pair_xfer(&p, &p.s, &p.c, &moved));
    }
    assert_int_equal(amk_transport_disconnect_reason(p.c.t), AMK_DISCONNECT_COMPRESSION_ERROR);
    amk_buf_release(&z);
    free(big);
    p.nkeys = 0;
    pair_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_transport_compress_zlib_round_trip),
        cmocka_unit_test(test_amk_transport_compress_delayed_after_userauth_success),
        cmocka_unit_test(test_amk_transport_set_authenticated_idempotent),
        cmocka_unit_test(test_amk_transport_compress_bomb_in_session),
        cmocka_unit_test(test_amk_compress_inflate_zip_bomb),
        cmocka_unit_test(test_amk_compress_inflate_garbage),
        cmocka_unit_test(test_amk_compress_stream_round_trip),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
