/*
 * Unit tests for src/transport: a client engine against a server engine
 * in memory. Handshakes for every algorithm combination, data both ways,
 * rekeying while data flows, 1-byte and coalesced delivery.
 */
#include "transport_pair.h"

#include "crypto/cipher.h"

/* Host key types and the signature algorithms each serves. */
struct hk_case {
    enum amk_pkey_type type;
    unsigned bits;
    const char *algs[3];
};

static const struct hk_case hk_cases[] = {
    { AMK_PKEY_ED25519, 0, { "ssh-ed25519", NULL } },
    { AMK_PKEY_ECDSA_P256, 0, { "ecdsa-sha2-nistp256", NULL } },
    { AMK_PKEY_ECDSA_P384, 0, { "ecdsa-sha2-nistp384", NULL } },
    { AMK_PKEY_ECDSA_P521, 0, { "ecdsa-sha2-nistp521", NULL } },
    { AMK_PKEY_RSA, 2048, { "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa" } },
};
#define N_HK (sizeof(hk_cases) / sizeof(hk_cases[0]))

/* Host keys are generated once for the whole file (RSA is slow). */
static struct amk_key *hk_keys[N_HK];

static int
setup_keys(void **state)
{
    for (size_t i = 0; i < N_HK; i++) {
        int r = amk_key_generate(hk_cases[i].type, hk_cases[i].bits, &hk_keys[i]);
        if (r != AMK_OK) {
            fprintf(stderr, "amk_key_generate(%d): %s\n", (int)hk_cases[i].type, amk_errname(r));
            return -1;
        }
    }
    return 0;
}

static int
teardown_keys(void **state)
{
    for (size_t i = 0; i < N_HK; i++) {
        amk_key_free(hk_keys[i]);
        hk_keys[i] = NULL;
    }
    return 0;
}

/* A pair whose server uses the borrowed keys (pair_free must not free them). */
static void
pair_borrow_keys(struct test_pair *p, size_t only)
{
    for (size_t i = 0; i < N_HK; i++) {
        if (only == N_HK || only == i)
            pair_add_key(p, hk_keys[i]);
    }
}

static void
pair_done(struct test_pair *p)
{
    p->nkeys = 0;   /* borrowed */
    pair_free(p);
}

/* Sends @p n messages of varying size from @p from; each names its index. */
static void
send_numbered(struct test_side *from, uint32_t first, uint32_t n, uint8_t type)
{
    uint8_t msg[3000];

    for (uint32_t i = first; i < first + n; i++) {
        size_t len = 5 + (i * 37) % (sizeof(msg) - 5);
        memset(msg, (int)(i & 0xff), len);
        msg[0] = type;
        msg[1] = (uint8_t)(i >> 24);
        msg[2] = (uint8_t)(i >> 16);
        msg[3] = (uint8_t)(i >> 8);
        msg[4] = (uint8_t)i;
        ASSERT_OK(amk_transport_send(from->t, msg, len));
    }
}

/* Checks the next @p n received messages are numbered first.. in order. */
static void
expect_numbered(struct test_side *to, uint32_t first, uint32_t n, uint8_t type)
{
    for (uint32_t i = first; i < first + n; i++) {
        const uint8_t *m;
        size_t len;
        uint32_t got;
        ASSERT_OK(side_pop(to, &m, &len));
        assert_int_equal(len, 5 + (i * 37) % (3000 - 5));
        assert_int_equal(m[0], type);
        got = (uint32_t)m[1] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 8 | m[4];
        assert_int_equal(got, i);
        if (len > 5)
            assert_int_equal(m[len - 1], i & 0xff);
    }
}

/* One handshake with exactly these algorithms, then data both ways. */
static void
handshake_with(const char *kex, const char *hostkey, const char *cipher, const char *mac,
    size_t key_index)
{
    struct test_pair p;
    struct amk_transport_config c;
    struct amk_transport_algs a;

    memset(&c, 0, sizeof(c));
    c.kex_algs = kex;
    c.hostkey_algs = hostkey;
    c.ciphers = cipher;
    c.macs = mac;
    pair_init(&p);
    pair_borrow_keys(&p, key_index);
    {
        struct amk_transport_config s;
        memset(&s, 0, sizeof(s));
        /* The server accepts every algorithm under test, legacy included. */
        s.kex_algs = "+diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,ecdh-sha2-*";
        s.hostkey_algs = "+ssh-rsa";
        s.ciphers = "+aes*-cbc";
        s.macs = "+hmac-sha1*";
        ASSERT_OK(pair_start(&p, &c, &s));
    }
    pair_handshake(&p);
    ASSERT_OK(amk_transport_algs(p.c.t, &a));
    assert_string_equal(a.kex, kex);
    assert_string_equal(a.hostkey, hostkey);
    assert_string_equal(a.cipher_c2s, cipher);
    assert_string_equal(a.cipher_s2c, cipher);
    if (amk_cipher_info_find(cipher)->tag_len == 0)
        assert_string_equal(a.mac_c2s, mac);
    else
        assert_string_equal(a.mac_c2s, "");
    assert_int_equal(a.strict_kex, 1);
    assert_int_equal(p.c.hostkey_calls, 1);
    send_numbered(&p.c, 0, 3, 90);
    send_numbered(&p.s, 0, 3, 91);
    ASSERT_OK(pair_run(&p, NULL));
    expect_numbered(&p.s, 0, 3, 90);
    expect_numbered(&p.c, 0, 3, 91);
    pair_done(&p);
}

static const char *const fast_kex[] = {
    "curve25519-sha256", "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
};
static const char *const aead_ciphers[] = {
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
};
static const char *const mac_ciphers[] = {
    "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
};
static const char *const macs[] = {
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
    "hmac-sha2-512", "hmac-sha1-etm@openssh.com", "hmac-sha1",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every fast KEX x host-key algorithm x cipher x MAC. */
static void
test_amk_transport_handshake_matrix_fast_kex(void **state)
{
    for (size_t k = 0; k < N(fast_kex); k++) {
        for (size_t h = 0; h < N_HK; h++) {
            for (size_t a = 0; a < 3 && hk_cases[h].algs[a] != NULL; a++) {
                for (size_t c = 0; c < N(aead_ciphers); c++)
                    handshake_with(fast_kex[k], hk_cases[h].algs[a], aead_ciphers[c],
                        "hmac-sha2-256", h);
                for (size_t c = 0; c < N(mac_ciphers); c++) {
                    for (size_t m = 0; m < N(macs); m++)
                        handshake_with(fast_kex[k], hk_cases[h].algs[a], mac_ciphers[c],
                            macs[m], h);
                }
            }
        }
    }
}

/* The finite-field methods are slow: each with every host key and a
 * rotating cipher / MAC. */
static void
test_amk_transport_handshake_matrix_dh(void **state)
{
    static const char *const dh_kex[] = {
        "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
        "diffie-hellman-group16-sha512", "diffie-hellman-group-exchange-sha256",
    };
    size_t rot = 0;

    for (size_t k = 0; k < N(dh_kex); k++) {
        for (size_t h = 0; h < N_HK; h++) {
            const char *cipher, *mac = macs[rot % N(macs)];
            if (rot % 3 == 0)
                cipher = aead_ciphers[rot % N(aead_ciphers)];
            else
                cipher = mac_ciphers[rot % N(mac_ciphers)];
            handshake_with(dh_kex[k], hk_cases[h].algs[0], cipher, mac, h);
            rot++;
        }
    }
    handshake_with("diffie-hellman-group18-sha512", "ssh-ed25519", "aes256-gcm@openssh.com",
        "hmac-sha2-256", 0);
}

/* Defaults on both sides: curve25519-sha256, ssh-ed25519, chacha20-poly1305. */
static void
test_amk_transport_handshake_defaults(void **state)
{
    struct test_pair p;
    struct amk_transport_algs a;
    const uint8_t *id1, *id2;
    size_t l1, l2;

    pair_init(&p);
    pair_borrow_keys(&p, N_HK);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    assert_false(amk_transport_handshake_done(p.c.t));
    ASSERT_AMK(AMK_ESTATE, amk_transport_algs(p.c.t, &a));
    ASSERT_AMK(AMK_ESTATE, amk_transport_rekey(p.c.t));
    pair_handshake(&p);
    ASSERT_OK(amk_transport_algs(p.c.t, &a));
    assert_string_equal(a.kex, "curve25519-sha256");
    assert_string_equal(a.hostkey, "ssh-ed25519");
    assert_string_equal(a.cipher_c2s, "chacha20-poly1305@openssh.com");
    assert_string_equal(a.comp_c2s, "none");
    assert_int_equal(a.strict_kex, 1);
    amk_transport_session_id(p.c.t, &id1, &l1);
    amk_transport_session_id(p.s.t, &id2, &l2);
    assert_int_equal(l1, 32);
    assert_int_equal(l2, 32);
    assert_memory_equal(id1, id2, 32);
    assert_non_null(amk_transport_host_key(p.c.t));
    assert_true(amk_key_equal_public(amk_transport_host_key(p.c.t), hk_keys[0]));
    /* RFC 8308: the client learnt server-sig-algs. */
    assert_non_null(amk_transport_server_sig_algs(p.c.t));
    assert_true(strstr(amk_transport_server_sig_algs(p.c.t), "rsa-sha2-256") != NULL);
    assert_null(amk_transport_server_sig_algs(p.s.t));
    assert_true(strncmp(amk_transport_peer_version(p.c.t), "SSH-2.0-amiko_", 14) == 0);
    assert_string_equal(amk_transport_peer_version(p.c.t), amk_transport_local_version(p.s.t));
    assert_int_equal(amk_transport_error(p.c.t), AMK_OK);
    assert_string_equal(amk_transport_last_error(p.c.t), "");
    pair_done(&p);
}

/* Packets queued before the handshake go out after it, in order. */
static void
test_amk_transport_send_before_handshake_is_held(void **state)
{
    struct test_pair p;
    static const uint8_t req[] = {
        5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'
    };
    const uint8_t *m;
    size_t n;

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    ASSERT_OK(amk_transport_send(p.c.t, req, sizeof(req)));
    send_numbered(&p.c, 0, 5, 80);
    pair_handshake(&p);
    ASSERT_OK(side_pop(&p.s, &m, &n));
    assert_int_equal(n, sizeof(req));
    assert_memory_equal(m, req, n);
    expect_numbered(&p.s, 0, 5, 80);
    pair_done(&p);
}

/* Transport message numbers are the engine's own. */
static void
test_amk_transport_send_rejects_transport_messages(void **state)
{
    struct test_pair p;
    uint8_t m[8] = { 0 };

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    for (int type = 1; type < 50; type++) {
        m[0] = (uint8_t)type;
        if (type == 5 || type == 6)
            ASSERT_OK(amk_transport_send(p.c.t, m, sizeof(m)));
        else
            ASSERT_AMK(AMK_EINVAL, amk_transport_send(p.c.t, m, sizeof(m)));
    }
    ASSERT_AMK(AMK_EINVAL, amk_transport_send(p.c.t, m, 0));
    pair_done(&p);
}

/* Bytes fed one at a time, then coalesced into one big write. */
static void
test_amk_transport_feed_one_byte_at_a_time(void **state)
{
    struct test_pair p;

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    p.chunk = 1;
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    send_numbered(&p.c, 0, 20, 94);
    send_numbered(&p.s, 0, 20, 95);
    ASSERT_OK(pair_run(&p, NULL));
    expect_numbered(&p.s, 0, 20, 94);
    expect_numbered(&p.c, 0, 20, 95);
    pair_done(&p);
}

static void
test_amk_transport_feed_coalesced(void **state)
{
    struct test_pair p;

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    /* Thousands of packets arrive in one feed call. */
    send_numbered(&p.c, 0, 2000, 96);
    send_numbered(&p.s, 0, 2000, 97);
    ASSERT_OK(pair_run(&p, NULL));
    expect_numbered(&p.s, 0, 2000, 96);
    expect_numbered(&p.c, 0, 2000, 97);
    pair_done(&p);
}

/* Data keeps flowing across rekeys that either side starts; order holds. */
static void
test_amk_transport_rekey_both_sides_with_data(void **state)
{
    struct test_pair p;
    const uint8_t *id0, *id1;
    uint8_t sid[64];
    size_t l0, l1;

    pair_init(&p);
    pair_borrow_keys(&p, N_HK);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    amk_transport_session_id(p.c.t, &id0, &l0);
    memcpy(sid, id0, l0);
    send_numbered(&p.c, 0, 10, 100);
    ASSERT_OK(amk_transport_rekey(p.c.t));
    assert_true(amk_transport_kex_running(p.c.t));
    /* Held while our KEX runs, sent after NEWKEYS. */
    send_numbered(&p.c, 10, 10, 100);
    send_numbered(&p.s, 0, 10, 101);
    ASSERT_OK(pair_run(&p, NULL));
    assert_false(amk_transport_kex_running(p.c.t));
    assert_false(amk_transport_kex_running(p.s.t));
    send_numbered(&p.s, 10, 10, 101);
    ASSERT_OK(amk_transport_rekey(p.s.t));
    send_numbered(&p.s, 20, 10, 101);
    send_numbered(&p.c, 20, 10, 100);
    ASSERT_OK(pair_run(&p, NULL));
    /* Both start one at the same time. */
    ASSERT_OK(amk_transport_rekey(p.s.t));
    ASSERT_OK(amk_transport_rekey(p.c.t));
    send_numbered(&p.s, 30, 10, 101);
    send_numbered(&p.c, 30, 10, 100);
    ASSERT_OK(pair_run(&p, NULL));
    expect_numbered(&p.s, 0, 40, 100);
    expect_numbered(&p.c, 0, 40, 101);
    assert_int_equal(p.c.hostkey_calls, 4);
    /* RFC 4253 §7.2: the session id stays the first exchange's hash. */
    amk_transport_session_id(p.c.t, &id1, &l1);
    assert_int_equal(l0, l1);
    assert_memory_equal(sid, id1, l1);
    pair_done(&p);
}

/* A small byte limit rekeys by itself, repeatedly, while data flows. */
static void
test_amk_transport_rekey_by_bytes(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;

    memset(&c, 0, sizeof(c));
    c.rekey_bytes = 16 * 1024;
    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, &c, NULL));
    pair_handshake(&p);
    for (uint32_t i = 0; i < 100; i += 10) {
        send_numbered(&p.c, i, 10, 102);
        send_numbered(&p.s, i, 10, 103);
        ASSERT_OK(pair_run(&p, NULL));
    }
    expect_numbered(&p.s, 0, 100, 102);
    expect_numbered(&p.c, 0, 100, 103);
    /* ~150 KiB each way with a 16 KiB limit. */
    assert_true(p.c.hostkey_calls > 5);
    pair_done(&p);
}

/* Rekey by time: the deadline, then tick past it. */
static void
test_amk_transport_rekey_by_time(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    uint64_t d;

    memset(&c, 0, sizeof(c));
    c.rekey_seconds = 10;
    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, &c, NULL));
    pair_handshake(&p);
    d = amk_transport_next_deadline(p.c.t);
    assert_int_equal(d, p.now + 10000);
    /* The server's default is an hour. */
    assert_int_equal(amk_transport_next_deadline(p.s.t), p.now + 3600 * 1000);
    ASSERT_OK(amk_transport_tick(p.c.t, d - 1));
    assert_false(amk_transport_kex_running(p.c.t));
    p.now = d;
    ASSERT_OK(amk_transport_tick(p.c.t, d));
    assert_true(amk_transport_kex_running(p.c.t));
    assert_int_equal(amk_transport_next_deadline(p.c.t), AMK_TRANSPORT_NO_DEADLINE);
    ASSERT_OK(pair_run(&p, NULL));
    assert_int_equal(p.c.hostkey_calls, 2);
    assert_int_equal(amk_transport_next_deadline(p.c.t), d + 10000);
    pair_done(&p);
}

/* The handshake timeout fails an engine whose peer never answers. */
static void
test_amk_transport_handshake_timeout(void **state)
{
    struct test_pair p;
    struct amk_transport_config s;

    memset(&s, 0, sizeof(s));
    s.handshake_timeout_ms = 5000;
    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, &s));
    assert_int_equal(amk_transport_next_deadline(p.s.t), p.now + 5000);
    assert_int_equal(amk_transport_next_deadline(p.c.t), AMK_TRANSPORT_NO_DEADLINE);
    ASSERT_OK(amk_transport_tick(p.s.t, p.now + 4999));
    ASSERT_AMK(AMK_ETIMEOUT, amk_transport_tick(p.s.t, p.now + 5000));
    ASSERT_AMK(AMK_ETIMEOUT, amk_transport_error(p.s.t));
    pair_done(&p);
}

/* IGNORE as keepalive, also during a rekey. */
static void
test_amk_transport_send_ignore(void **state)
{
    struct test_pair p;
    uint64_t before;

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    before = amk_transport_bytes_in(p.s.t);
    ASSERT_OK(amk_transport_send_ignore(p.c.t, 100));
    ASSERT_OK(amk_transport_rekey(p.c.t));
    ASSERT_OK(amk_transport_send_ignore(p.c.t, 0));
    ASSERT_OK(pair_run(&p, NULL));
    assert_true(amk_transport_bytes_in(p.s.t) > before + 100);
    assert_int_equal(p.s.nmsgs, 0);
    assert_int_equal(amk_transport_error(p.s.t), AMK_OK);
    pair_done(&p);
}

/* A local disconnect reaches the peer with its reason and text. */
static void
test_amk_transport_disconnect_reaches_peer(void **state)
{
    struct test_pair p;
    char who = '?';
    uint8_t m[4] = { 99, 1, 2, 3 };

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    ASSERT_OK(amk_transport_disconnect(p.c.t, AMK_DISCONNECT_BY_APPLICATION, "bye now"));
    ASSERT_AMK(AMK_ECLOSED, amk_transport_send(p.c.t, m, sizeof(m)));
    ASSERT_AMK(AMK_ECLOSED, amk_transport_error(p.c.t));
    ASSERT_AMK(AMK_EDISCONNECT, pair_run(&p, &who));
    assert_int_equal(who, 's');
    assert_int_equal(amk_transport_disconnect_reason(p.s.t), AMK_DISCONNECT_BY_APPLICATION);
    assert_string_equal(amk_transport_disconnect_message(p.s.t), "bye now");
    assert_true(strstr(amk_transport_last_error(p.s.t), "bye now") != NULL);
    /* A failed engine keeps its first error. */
    ASSERT_AMK(AMK_EDISCONNECT, amk_transport_send(p.s.t, m, sizeof(m)));
    ASSERT_AMK(AMK_EDISCONNECT, amk_transport_feed(p.s.t, m, 1, p.now));
    pair_done(&p);
}

/* The server's pre-version lines (RFC 4253 §4.2) and its server-sig-algs. */
static void
test_amk_transport_server_banner_and_sig_algs(void **state)
{
    struct test_pair p;
    struct amk_transport_config s;

    memset(&s, 0, sizeof(s));
    s.server_banner = "Authorised use only\r\nSecond line";
    s.server_sig_algs = "ssh-ed25519,rsa-sha2-256";
    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, &s));
    pair_handshake(&p);
    assert_true(strncmp(amk_transport_peer_version(p.c.t), "SSH-2.0-amiko_", 14) == 0);
    assert_string_equal(amk_transport_server_sig_algs(p.c.t), "ssh-ed25519,rsa-sha2-256");
    pair_done(&p);
}

/* A receiver whose upper layer doesn't read stops taking input, then
 * resumes in order once it does. */
static void
test_amk_transport_recv_backpressure(void **state)
{
    struct test_pair p;
    const uint8_t *d;
    size_t n;
    uint8_t one = 0;
    uint32_t count = 0;

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    send_numbered(&p.s, 0, 2000, 104);
    amk_transport_output(p.s.t, &d, &n);
    assert_true(n > 2 * 1024 * 1024);
    ASSERT_OK(amk_transport_feed(p.c.t, d, n, p.now));
    ASSERT_OK(amk_transport_output_consume(p.s.t, n));
    assert_false(amk_transport_wants_read(p.c.t));
    ASSERT_AMK(AMK_EAGAIN, amk_transport_feed(p.c.t, &one, 1, p.now));
    ASSERT_OK(side_drain(&p.c));
    count = (uint32_t)p.c.nmsgs;
    assert_int_equal(count, 2000);
    assert_true(amk_transport_wants_read(p.c.t));
    expect_numbered(&p.c, 0, 2000, 104);
    /* The send queue has a cap too. */
    {
        uint8_t big[30000] = { 104 };
        int r = AMK_OK;
        for (int i = 0; i < 1000 && r == AMK_OK; i++)
            r = amk_transport_send(p.c.t, big, sizeof(big));
        ASSERT_AMK(AMK_EAGAIN, r);
        ASSERT_OK(pair_run(&p, NULL));
        ASSERT_OK(amk_transport_send(p.c.t, big, sizeof(big)));
    }
    pair_done(&p);
}

/* EOF from the socket: AMK_ECLOSED, kept; nothing is queued for the peer. */
static void
test_amk_transport_feed_eof(void **state)
{
    struct test_pair p;

    pair_init(&p);
    pair_borrow_keys(&p, 0);
    ASSERT_OK(pair_start(&p, NULL, NULL));
    pair_handshake(&p);
    ASSERT_AMK(AMK_ECLOSED, amk_transport_feed_eof(p.c.t));
    ASSERT_AMK(AMK_ECLOSED, amk_transport_error(p.c.t));
    assert_false(amk_transport_wants_write(p.c.t));
    assert_false(amk_transport_wants_read(p.c.t));
    ASSERT_AMK(AMK_ECLOSED, amk_transport_tick(p.c.t, p.now));
    pair_done(&p);
}

/* The software part of a peer's identification line, as the SFTP code
 * tells peers apart by it. */
static void
test_amk_version_software_is(void **state)
{
    (void)state;
    assert_true(amk_version_software_is("SSH-2.0-paramiko_2.12.0", "paramiko"));
    assert_true(amk_version_software_is("SSH-1.99-AsyncSSH_2.10.1 x", "AsyncSSH"));
    assert_true(amk_version_software_is("SSH-2.0-libssh_0.10.6", "libssh_"));
    assert_false(amk_version_software_is("SSH-2.0-libssh2_1.10.0", "libssh_"));
    assert_false(amk_version_software_is("SSH-2.0-OpenSSH_9.2 paramiko", "paramiko"));
    assert_false(amk_version_software_is("paramiko", "paramiko"));
    assert_false(amk_version_software_is("SSH-2.0", "paramiko"));
    assert_false(amk_version_software_is(NULL, "paramiko"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_transport_handshake_defaults),
        cmocka_unit_test(test_amk_transport_handshake_matrix_fast_kex),
        cmocka_unit_test(test_amk_transport_handshake_matrix_dh),
        cmocka_unit_test(test_amk_transport_send_before_handshake_is_held),
        cmocka_unit_test(test_amk_transport_send_rejects_transport_messages),
        cmocka_unit_test(test_amk_transport_feed_one_byte_at_a_time),
        cmocka_unit_test(test_amk_transport_feed_coalesced),
        cmocka_unit_test(test_amk_transport_rekey_both_sides_with_data),
        cmocka_unit_test(test_amk_transport_rekey_by_bytes),
        cmocka_unit_test(test_amk_transport_rekey_by_time),
        cmocka_unit_test(test_amk_transport_handshake_timeout),
        cmocka_unit_test(test_amk_transport_send_ignore),
        cmocka_unit_test(test_amk_transport_disconnect_reaches_peer),
        cmocka_unit_test(test_amk_transport_server_banner_and_sig_algs),
        cmocka_unit_test(test_amk_transport_recv_backpressure),
        cmocka_unit_test(test_amk_transport_feed_eof),
        cmocka_unit_test(test_amk_version_software_is),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
