/*
 * Peer rate limits (src/util/ratelim.c, the hook in
 * src/transport/dispatch.c): the token bucket itself, then a client and a
 * server engine in memory where one floods the other with KEXINITs,
 * IGNORE, DEBUG, UNIMPLEMENTED or unknown messages, and where legitimate
 * traffic (keepalives, chaff, rekeys by bytes and by time) keeps working.
 */
#include "transport_pair.h"

#include "transport/transport_int.h"
#include "util/ratelim.h"

/* --- the bucket --------------------------------------------------------- */

static void
test_amk_ratelim_burst_then_refill(void **state)
{
    struct amk_ratelim rl;

    (void)state;
    amk_ratelim_init(&rl, 3, 2);
    amk_ratelim_update(&rl, 5000);
    ASSERT_OK(amk_ratelim_drain(&rl, 1));
    ASSERT_OK(amk_ratelim_drain(&rl, 2));
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    /* 2 a second: 499 ms gives nothing, 500 ms one token. */
    amk_ratelim_update(&rl, 5499);
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    amk_ratelim_update(&rl, 5500);
    ASSERT_OK(amk_ratelim_drain(&rl, 1));
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    /* A failed drain takes nothing. */
    amk_ratelim_update(&rl, 6000);
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 2));
    ASSERT_OK(amk_ratelim_drain(&rl, 1));
}

static void
test_amk_ratelim_fractions_carry(void **state)
{
    struct amk_ratelim rl;

    (void)state;
    amk_ratelim_init(&rl, 10, 3);   /* one token per 333.3 ms */
    amk_ratelim_update(&rl, 0);
    for (int i = 0; i < 10; i++)
        ASSERT_OK(amk_ratelim_drain(&rl, 1));
    /* 30 steps of 100 ms are 3 s: exactly 9 tokens, none lost to rounding. */
    for (uint64_t t = 100; t <= 3000; t += 100)
        amk_ratelim_update(&rl, t);
    for (int i = 0; i < 9; i++)
        ASSERT_OK(amk_ratelim_drain(&rl, 1));
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
}

static void
test_amk_ratelim_caps_clock_and_credit(void **state)
{
    struct amk_ratelim rl;

    (void)state;
    amk_ratelim_init(&rl, 4, 1000);
    amk_ratelim_update(&rl, 100);
    ASSERT_OK(amk_ratelim_drain(&rl, 4));
    /* The clock going back adds nothing. */
    amk_ratelim_update(&rl, 50);
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    /* A huge jump fills the bucket without overflowing. */
    amk_ratelim_update(&rl, UINT64_MAX);
    ASSERT_OK(amk_ratelim_drain(&rl, 4));
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    /* Credit stops at the burst. */
    amk_ratelim_credit(&rl, UINT64_MAX);
    ASSERT_OK(amk_ratelim_drain(&rl, 4));
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    /* Rate 0: only credit refills. */
    amk_ratelim_init(&rl, 2, 0);
    amk_ratelim_update(&rl, 1);
    ASSERT_OK(amk_ratelim_drain(&rl, 2));
    amk_ratelim_update(&rl, 1000000);
    ASSERT_AMK(AMK_ELIMIT, amk_ratelim_drain(&rl, 1));
    amk_ratelim_credit(&rl, 1);
    ASSERT_OK(amk_ratelim_drain(&rl, 1));
}

/* --- engines ------------------------------------------------------------ */

static struct amk_key *hk;

static int
setup_key(void **state)
{
    (void)state;
    return amk_key_generate(AMK_PKEY_ED25519, 0, &hk) == AMK_OK ? 0 : -1;
}

static int
teardown_key(void **state)
{
    (void)state;
    amk_key_free(hk);
    hk = NULL;
    return 0;
}

static void
pair_up(struct test_pair *p, const struct amk_transport_config *cc)
{
    pair_init(p);
    pair_add_key(p, hk);
    ASSERT_OK(pair_start(p, cc, NULL));
    pair_handshake(p);
}

static void
pair_down(struct test_pair *p)
{
    p->nkeys = 0;   /* hk is shared by the file */
    pair_free(p);
}

/* The flooded side failed with AMK_ELIMIT and the flooder got a DISCONNECT
 * (protocol error) that says a limit was exceeded. */
static void
expect_limited(struct test_pair *p, struct test_side *victim, struct test_side *flooder, int r)
{
    ASSERT_AMK(AMK_ELIMIT, amk_transport_error(victim->t));
    assert_non_null(strstr(amk_transport_last_error(victim->t), "peer rate limit"));
    (void)r;
    {
        size_t moved = 0;
        (void)pair_xfer(p, victim, flooder, &moved);
    }
    ASSERT_AMK(AMK_EDISCONNECT, amk_transport_error(flooder->t));
    assert_int_equal(amk_transport_disconnect_reason(flooder->t), AMK_DISCONNECT_PROTOCOL_ERROR);
    /* The engine sends amk_strerror() of the code, not the detail. */
    assert_string_equal(amk_transport_disconnect_message(flooder->t), amk_strerror(AMK_ELIMIT));
}

/* Sends @p n messages of @p type with transport_int's send_now (the public
 * send refuses transport message numbers). */
static void
send_raw(struct test_side *from, uint8_t type, size_t n)
{
    uint8_t msg[16];

    memset(msg, 0, sizeof(msg));
    msg[0] = type;
    for (size_t i = 0; i < n; i++) {
        if (type == AMK_MSG_IGNORE) {
            ASSERT_OK(amk_transport_send_ignore(from->t, 8));
        } else {
            ASSERT_OK(amk_transport_send_now(from->t, msg, type == AMK_MSG_DEBUG ? 10 : 5));
        }
    }
}

/* A burst of @p type from the client fills the bucket, then fails. */
static void
flood_case(uint8_t type)
{
    struct test_pair p;
    int r;

    pair_up(&p, NULL);
    /* A burst below the limit is fine. */
    send_raw(&p.c, type, 1500);
    ASSERT_OK(pair_run(&p, NULL));
    ASSERT_OK(amk_transport_error(p.s.t));
    /* Then, at the same instant, the rest of the bucket and one more. */
    send_raw(&p.c, type, 501);
    r = pair_run(&p, NULL);
    assert_int_not_equal(r, AMK_OK);
    expect_limited(&p, &p.s, &p.c, r);
    pair_down(&p);
}

static void
test_amk_transport_limit_ignore_flood(void **state)
{
    (void)state;
    flood_case(AMK_MSG_IGNORE);
}

static void
test_amk_transport_limit_debug_flood(void **state)
{
    (void)state;
    flood_case(AMK_MSG_DEBUG);
}

static void
test_amk_transport_limit_unimplemented_flood(void **state)
{
    (void)state;
    flood_case(AMK_MSG_UNIMPLEMENTED);
}

/* Unknown numbers each get an UNIMPLEMENTED back: the limit also bounds
 * the replies queued for a peer that does not read. */
static void
test_amk_transport_limit_unknown_flood(void **state)
{
    (void)state;
    flood_case(15);
    flood_case(8);
}

/* The server floods the client the same way. */
static void
test_amk_transport_limit_server_flood(void **state)
{
    struct test_pair p;
    int r;

    (void)state;
    pair_up(&p, NULL);
    send_raw(&p.s, AMK_MSG_IGNORE, 2001);
    r = pair_run(&p, NULL);
    assert_int_not_equal(r, AMK_OK);
    expect_limited(&p, &p.c, &p.s, r);
    pair_down(&p);
}

/* OpenSSH's keystroke-timing chaff (an IGNORE every 20 ms) for 10 minutes,
 * and an IGNORE before each of 5000 real messages, sent at once. */
static void
test_amk_transport_limit_ignore_legit(void **state)
{
    struct test_pair p;
    uint8_t msg[8] = { 94, 0, 0, 0, 0, 0, 0, 0 };

    (void)state;
    pair_up(&p, NULL);
    for (int i = 0; i < 30000; i++) {
        p.now += 20;
        ASSERT_OK(amk_transport_send_ignore(p.c.t, 16));
        if (i % 50 == 0)
            ASSERT_OK(pair_run(&p, NULL));
    }
    ASSERT_OK(pair_run(&p, NULL));
    for (int i = 0; i < 5000; i++) {
        ASSERT_OK(amk_transport_send_ignore(p.c.t, 16));
        ASSERT_OK(amk_transport_send(p.c.t, msg, sizeof(msg)));
    }
    ASSERT_OK(pair_run(&p, NULL));
    assert_int_equal(p.s.nmsgs, 5000);
    ASSERT_OK(amk_transport_error(p.s.t));
    ASSERT_OK(amk_transport_error(p.c.t));
    pair_down(&p);
}

/* A client that asks for a re-exchange again and again, with no time
 * passing and no data: the 33rd is refused. */
static void
test_amk_transport_limit_kexinit_flood(void **state)
{
    struct test_pair p;
    int r = AMK_OK;
    int n;

    (void)state;
    pair_up(&p, NULL);
    for (n = 0; n < 100 && r == AMK_OK; n++) {
        ASSERT_OK(amk_transport_rekey(p.c.t));
        r = pair_run(&p, NULL);
    }
    assert_int_not_equal(r, AMK_OK);
    assert_int_equal(n, 33);
    expect_limited(&p, &p.s, &p.c, r);
    pair_down(&p);
}

/* The server re-keys 100 times at once: the client limits it, while the
 * server itself never counts the client's answers. */
static void
test_amk_transport_limit_kexinit_answers_free(void **state)
{
    struct test_pair p;
    int r = AMK_OK;
    int n;

    (void)state;
    pair_up(&p, NULL);
    for (n = 0; n < 100 && r == AMK_OK; n++) {
        ASSERT_OK(amk_transport_rekey(p.s.t));
        r = pair_run(&p, NULL);
    }
    assert_int_equal(n, 33);
    expect_limited(&p, &p.c, &p.s, r);
    pair_down(&p);
}

/* Legitimate rekeys: one every 2 s for 100 exchanges (RekeyLimit by time),
 * and one per MiB of data for 48 exchanges with the clock stopped
 * (RekeyLimit 1M at any speed). */
static void
test_amk_transport_limit_rekey_legit(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    static uint8_t msg[32 * 1024];

    (void)state;
    pair_up(&p, NULL);
    for (int i = 0; i < 100; i++) {
        p.now += 2000;
        ASSERT_OK(amk_transport_tick(p.c.t, p.now));
        ASSERT_OK(amk_transport_tick(p.s.t, p.now));
        ASSERT_OK(amk_transport_rekey(i % 2 ? p.c.t : p.s.t));
        ASSERT_OK(pair_run(&p, NULL));
    }
    pair_down(&p);

    memset(&c, 0, sizeof(c));
    c.rekey_bytes = 1024 * 1024;
    pair_up(&p, &c);
    memset(msg, 0x5a, sizeof(msg));
    msg[0] = 94;
    for (int i = 0; i < 48 * 32; i++) {
        ASSERT_OK(amk_transport_send(p.c.t, msg, sizeof(msg)));
        ASSERT_OK(pair_run(&p, NULL));
        amk_buf_reset(&p.s.got);
    }
    ASSERT_OK(amk_transport_error(p.s.t));
    ASSERT_OK(amk_transport_error(p.c.t));
    assert_true(p.s.t->kex_count > 40);
    pair_down(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_ratelim_burst_then_refill),
        cmocka_unit_test(test_amk_ratelim_fractions_carry),
        cmocka_unit_test(test_amk_ratelim_caps_clock_and_credit),
        cmocka_unit_test(test_amk_transport_limit_ignore_flood),
        cmocka_unit_test(test_amk_transport_limit_debug_flood),
        cmocka_unit_test(test_amk_transport_limit_unimplemented_flood),
        cmocka_unit_test(test_amk_transport_limit_unknown_flood),
        cmocka_unit_test(test_amk_transport_limit_server_flood),
        cmocka_unit_test(test_amk_transport_limit_ignore_legit),
        cmocka_unit_test(test_amk_transport_limit_kexinit_flood),
        cmocka_unit_test(test_amk_transport_limit_kexinit_answers_free),
        cmocka_unit_test(test_amk_transport_limit_rekey_legit),
    };

    return cmocka_run_group_tests(tests, setup_key, teardown_key);
}
