/*
 * Unit tests for src/transport failure handling: corrupted packets,
 * strict KEX (Terrapin, CVE-2023-48795), negotiation failures, version
 * lines, hostile lengths, host-key rejection, unknown messages and
 * first_kex_packet_follows.
 */
#include "transport_pair.h"

#include "crypto/kex.h"
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

static void
pair_begin(struct test_pair *p, const struct amk_transport_config *c,
    const struct amk_transport_config *s)
{
    pair_init(p);
    pair_add_key(p, ed_key);
    ASSERT_OK(pair_start(p, c, s));
}

static void
pair_end(struct test_pair *p)
{
    p->nkeys = 0;
    pair_free(p);
}

/* An unencrypted packet (RFC 4253 §6, block size 8) with @p payload. */
static size_t
plain_packet(uint8_t *out, const uint8_t *payload, size_t len)
{
    size_t pad = 8 - ((5 + len) % 8);
    size_t plen;

    if (pad < 4)
        pad += 8;
    plen = 1 + len + pad;
    out[0] = (uint8_t)(plen >> 24);
    out[1] = (uint8_t)(plen >> 16);
    out[2] = (uint8_t)(plen >> 8);
    out[3] = (uint8_t)plen;
    out[4] = (uint8_t)pad;
    memcpy(out + 5, payload, len);
    memset(out + 5 + len, 0, pad);
    return 4 + plen;
}

/* Moves all of @p from's pending output into @p to in one feed. */
static int
move_all(struct test_side *from, struct test_side *to, uint64_t now)
{
    const uint8_t *d;
    size_t n;
    int r;

    amk_transport_output(from->t, &d, &n);
    r = amk_transport_feed(to->t, d, n, now);
    if (r == AMK_OK)
        ASSERT_OK(amk_transport_output_consume(from->t, n));
    return r;
}

/* Feeds @p side's peer the DISCONNECT @p side queued; checks its reason. */
static void
expect_disconnect_sent(struct test_pair *p, struct test_side *failed, struct test_side *peer,
    uint32_t reason)
{
    assert_true(amk_transport_wants_write(failed->t));
    ASSERT_AMK(AMK_EDISCONNECT, move_all(failed, peer, p->now));
    assert_int_equal(amk_transport_disconnect_reason(peer->t), reason);
}

/* --- Corruption --------------------------------------------------------- */

static void
corrupt_one(const char *cipher, const char *mac)
{
    struct test_pair p;
    struct amk_transport_config c, s;
    uint8_t msg[200];
    const uint8_t *d;
    uint8_t *copy;
    size_t n;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.ciphers = cipher;
    c.macs = mac;
    s.ciphers = cipher;
    s.macs = mac;
    pair_begin(&p, &c, &s);
    pair_handshake(&p);
    memset(msg, 0x5a, sizeof(msg));
    msg[0] = 94;
    ASSERT_OK(amk_transport_send(p.c.t, msg, sizeof(msg)));
    amk_transport_output(p.c.t, &d, &n);
    assert_true(n > 100);
    copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, d, n);
    copy[40] ^= 0x01;   /* inside the payload, past the first block */
    ASSERT_AMK(AMK_EMAC, amk_transport_feed(p.s.t, copy, n, p.now));
    free(copy);
    ASSERT_AMK(AMK_EMAC, amk_transport_error(p.s.t));
    assert_true(strstr(amk_transport_last_error(p.s.t), "authentication") != NULL);
    /* Nothing of the corrupted packet reached the upper layer. */
    assert_int_equal(p.s.nmsgs, 0);
    expect_disconnect_sent(&p, &p.s, &p.c, AMK_DISCONNECT_MAC_ERROR);
    pair_end(&p);
}

static void
test_amk_transport_feed_corrupted_byte_gives_mac_error(void **state)
{
    corrupt_one("chacha20-poly1305@openssh.com", NULL);
    corrupt_one("aes128-gcm@openssh.com", NULL);
    corrupt_one("aes256-ctr", "hmac-sha2-256-etm@openssh.com");
    corrupt_one("aes128-ctr", "hmac-sha2-512");
    corrupt_one("aes128-cbc", "hmac-sha2-256");
}

/* A corrupted tag is as bad as a corrupted payload. */
static void
test_amk_transport_feed_corrupted_tag_gives_mac_error(void **state)
{
    struct test_pair p;
    uint8_t msg[64] = { 94 };
    const uint8_t *d;
    uint8_t *copy;
    size_t n;

    pair_begin(&p, NULL, NULL);
    pair_handshake(&p);
    ASSERT_OK(amk_transport_send(p.c.t, msg, sizeof(msg)));
    amk_transport_output(p.c.t, &d, &n);
    copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, d, n);
    copy[n - 1] ^= 0x80;
    ASSERT_AMK(AMK_EMAC, amk_transport_feed(p.s.t, copy, n, p.now));
    free(copy);
    pair_end(&p);
}

/* --- Strict KEX ------------------------------------------------------- */

/* IGNORE injected after the client's KEXINIT, before NEWKEYS. */
static void
inject_ignore_before_newkeys(int client_strict, int expect)
{
    struct test_pair p;
    struct amk_transport_config c;
    static const uint8_t ignore[] = { AMK_MSG_IGNORE, 0, 0, 0, 3, 'a', 'b', 'c' };
    uint8_t pkt[64];
    size_t n = plain_packet(pkt, ignore, sizeof(ignore));

    memset(&c, 0, sizeof(c));
    c.disable_strict_kex = !client_strict;
    /* EtM: the length is sent in clear and the MAC covers the sequence number. */
    c.ciphers = "aes128-ctr";
    c.macs = "hmac-sha2-256-etm@openssh.com";
    pair_begin(&p, &c, NULL);
    /* version line and KEXINIT of both sides */
    ASSERT_OK(move_all(&p.s, &p.c, p.now));
    ASSERT_OK(move_all(&p.c, &p.s, p.now));
    /* A man in the middle adds an IGNORE to the client's stream. */
    ASSERT_AMK(expect, amk_transport_feed(p.s.t, pkt, n, p.now));
    if (expect != AMK_OK) {
        assert_true(strstr(amk_transport_last_error(p.s.t), "strict") != NULL);
        expect_disconnect_sent(&p, &p.s, &p.c, AMK_DISCONNECT_PROTOCOL_ERROR);
    } else {
        /* Non-strict: RFC 4253 §11.2 lets IGNORE through, the handshake
         * completes, and the injected packet has shifted the server's
         * sequence number: the client's first protected data packet fails
         * its MAC. Strict KEX exists to stop exactly this (Terrapin). */
        struct amk_transport_algs a;
        static const uint8_t data[] = { 94, 1, 2, 3 };
        char who = '?';
        ASSERT_OK(pair_run(&p, &who));
        ASSERT_OK(amk_transport_algs(p.s.t, &a));
        assert_int_equal(a.strict_kex, 0);
        ASSERT_OK(amk_transport_send(p.c.t, data, sizeof(data)));
        ASSERT_AMK(AMK_EMAC, pair_run(&p, &who));
        assert_int_equal(who, 's');
    }
    pair_end(&p);
}

static void
test_amk_transport_strict_kex_rejects_ignore_before_newkeys(void **state)
{
    inject_ignore_before_newkeys(1, AMK_EPROTO);
}

static void
test_amk_transport_non_strict_peer_tolerates_ignore(void **state)
{
    inject_ignore_before_newkeys(0, AMK_OK);
}

/* Under strict KEX, KEXINIT must be the first packet. */
static void
test_amk_transport_strict_kex_kexinit_must_be_first(void **state)
{
    struct test_pair p;
    static const uint8_t debug[] = { AMK_MSG_DEBUG, 0, 0, 0, 0, 0, 0, 0, 0 };
    uint8_t pkt[64];
    size_t n = plain_packet(pkt, debug, sizeof(debug));
    const uint8_t *d;
    size_t len;
    const uint8_t *nl;

    pair_begin(&p, NULL, NULL);
    ASSERT_OK(move_all(&p.s, &p.c, p.now));
    /* client version line, then an injected DEBUG, then its KEXINIT */
    amk_transport_output(p.c.t, &d, &len);
    nl = memchr(d, '\n', len);
    assert_non_null(nl);
    ASSERT_OK(amk_transport_feed(p.s.t, d, (size_t)(nl + 1 - d), p.now));
    ASSERT_OK(amk_transport_feed(p.s.t, pkt, n, p.now));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(p.s.t, nl + 1, len - (size_t)(nl + 1 - d), p.now));
    assert_true(strstr(amk_transport_last_error(p.s.t), "first packet") != NULL);
    pair_end(&p);
}

/* The same DEBUG first is fine when the client is not strict. */
static void
test_amk_transport_non_strict_debug_before_kexinit_ok(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    static const uint8_t debug[] = { AMK_MSG_DEBUG, 0, 0, 0, 0, 0, 0, 0, 0 };
    uint8_t pkt[64];
    size_t n = plain_packet(pkt, debug, sizeof(debug));
    const uint8_t *d;
    size_t len;
    const uint8_t *nl;

    memset(&c, 0, sizeof(c));
    c.disable_strict_kex = 1;
    pair_begin(&p, &c, NULL);
    ASSERT_OK(move_all(&p.s, &p.c, p.now));
    amk_transport_output(p.c.t, &d, &len);
    nl = memchr(d, '\n', len);
    assert_non_null(nl);
    ASSERT_OK(amk_transport_feed(p.s.t, d, (size_t)(nl + 1 - d), p.now));
    ASSERT_OK(amk_transport_feed(p.s.t, pkt, n, p.now));
    ASSERT_OK(amk_transport_feed(p.s.t, nl + 1, len - (size_t)(nl + 1 - d), p.now));
    ASSERT_OK(amk_transport_output_consume(p.c.t, len));
    /* The client's sequence number is one behind the server's count; the
     * handshake completes (no strict reset), data then fails its MAC. */
    assert_int_equal(amk_transport_error(p.s.t), AMK_OK);
    pair_end(&p);
}

/* Sequence numbers that wrap during the initial exchange (both sides agree
 * on them here, so only the strict rule can object). */
static void
wrap_initial(int strict, int expect)
{
    struct test_pair p;
    struct amk_transport_config c;
    static const uint8_t data[] = { 94, 7 };
    char who = '?';

    memset(&c, 0, sizeof(c));
    c.disable_strict_kex = !strict;
    pair_begin(&p, &c, NULL);
    /* The client's KEXINIT (already queued) was its packet 0; the
     * server counts it as 2^32 - 1 and the next one as 0. */
    p.c.t->dir_out.seq = 0;
    p.s.t->dir_in.seq = UINT32_MAX;
    ASSERT_AMK(expect, pair_run(&p, &who));
    if (expect != AMK_OK) {
        assert_int_equal(who, 's');
        assert_non_null(strstr(amk_transport_last_error(p.s.t), "wrapped"));
    } else {
        ASSERT_OK(amk_transport_send(p.c.t, data, sizeof(data)));
        ASSERT_OK(pair_run(&p, NULL));
        assert_int_equal(p.s.nmsgs, 1);
    }
    pair_end(&p);
}

static void
test_amk_transport_strict_kex_sequence_wrap_fatal(void **state)
{
    wrap_initial(1, AMK_EPROTO);
}

static void
test_amk_transport_non_strict_sequence_wrap_ok(void **state)
{
    wrap_initial(0, AMK_OK);
}

/* --- Negotiation ------------------------------------------------------ */

static void
test_amk_transport_negotiate_no_common_cipher(void **state)
{
    struct test_pair p;
    struct amk_transport_config c, s;
    char who = '?';

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.ciphers = "aes128-ctr,aes256-ctr";
    s.ciphers = "chacha20-poly1305@openssh.com";
    pair_begin(&p, &c, &s);
    /* The server sees the client's KEXINIT first and fails... */
    ASSERT_AMK(AMK_ENOMATCH, pair_run(&p, &who));
    assert_int_equal(who, 's');
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "cipher"));
    assert_non_null(strstr(amk_transport_last_error(p.s.t),
        "client offered [aes128-ctr,aes256-ctr]"));
    assert_non_null(strstr(amk_transport_last_error(p.s.t),
        "server offered [chacha20-poly1305@openssh.com]"));
    /* ...and the client finds the same when the server's KEXINIT arrives. */
    ASSERT_AMK(AMK_ENOMATCH, move_all(&p.s, &p.c, p.now));
    assert_non_null(strstr(amk_transport_last_error(p.c.t),
        "client offered [aes128-ctr,aes256-ctr]"));
    assert_non_null(strstr(amk_transport_last_error(p.c.t),
        "server offered [chacha20-poly1305@openssh.com]"));
    pair_end(&p);
}

static void
test_amk_transport_negotiate_no_common_kex(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    char who = '?';

    memset(&c, 0, sizeof(c));
    c.kex_algs = "ecdh-sha2-nistp256";    /* not in the server's defaults */
    pair_begin(&p, &c, NULL);
    ASSERT_AMK(AMK_ENOMATCH, pair_run(&p, &who));
    assert_int_equal(who, 's');
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "key exchange"));
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "[ecdh-sha2-nistp256,ext-info-c,"));
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "[curve25519-sha256,"));
    /* The server told the client why, after its own KEXINIT. */
    {
        const uint8_t *d;
        size_t n;
        amk_transport_output(p.s.t, &d, &n);
        assert_true(n > 0);
    }
    pair_end(&p);
}

static void
test_amk_transport_negotiate_no_common_mac(void **state)
{
    struct test_pair p;
    struct amk_transport_config c, s;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.ciphers = "aes128-ctr";
    c.macs = "hmac-sha2-256";
    s.macs = "hmac-sha2-512";
    pair_begin(&p, &c, &s);
    ASSERT_AMK(AMK_ENOMATCH, pair_run(&p, NULL));
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "MAC"));
    pair_end(&p);
}

/* With an AEAD cipher the MAC lists don't matter. */
static void
test_amk_transport_negotiate_aead_ignores_macs(void **state)
{
    struct test_pair p;
    struct amk_transport_config c, s;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.macs = "hmac-sha2-256";
    s.macs = "hmac-sha2-512";
    pair_begin(&p, &c, &s);
    pair_handshake(&p);
    pair_end(&p);
}

static void
test_amk_transport_new_bad_config(void **state)
{
    struct amk_transport *t = NULL;
    struct amk_transport_config c;

    memset(&c, 0, sizeof(c));
    ASSERT_AMK(AMK_EINVAL, amk_transport_new(&t, &c));     /* no role */
    c.role = AMK_TRANSPORT_SERVER;
    ASSERT_AMK(AMK_EINVAL, amk_transport_new(&t, &c));     /* no host keys */
    c.role = AMK_TRANSPORT_CLIENT;
    c.ciphers = "rot13";
    ASSERT_AMK(AMK_ENOTSUP, amk_transport_new(&t, &c));
    c.ciphers = "-*";
    ASSERT_AMK(AMK_EINVAL, amk_transport_new(&t, &c));
    c.ciphers = NULL;
    c.kex_algs = "+diffie-hellman-group1-sha1";
    ASSERT_AMK(AMK_ENOTSUP, amk_transport_new(&t, &c));
    assert_null(t);
    /* A server with only an Ed25519 key cannot offer RSA. */
    {
        struct amk_key *keys[1] = { ed_key };
        memset(&c, 0, sizeof(c));
        c.role = AMK_TRANSPORT_SERVER;
        c.host_keys = keys;
        c.n_host_keys = 1;
        c.hostkey_algs = "rsa-sha2-512";
        ASSERT_AMK(AMK_EINVAL, amk_transport_new(&t, &c));
        c.hostkey_algs = NULL;
        ASSERT_OK(amk_transport_new(&t, &c));
        amk_transport_free(t);
    }
}

/* --- Host keys -------------------------------------------------------- */

static void
test_amk_transport_hostkey_rejected_by_callback(void **state)
{
    struct test_pair p;
    char who = '?';

    pair_init(&p);
    pair_add_key(&p, ed_key);
    p.c.reject_hostkey = 1;
    ASSERT_OK(pair_start(&p, NULL, NULL));
    ASSERT_AMK(AMK_EHOSTKEY_REJECTED, pair_run(&p, &who));
    assert_int_equal(who, 'c');
    assert_int_equal(p.c.hostkey_calls, 1);
    assert_false(amk_transport_handshake_done(p.c.t));
    expect_disconnect_sent(&p, &p.c, &p.s, AMK_DISCONNECT_HOST_KEY_NOT_VERIFIABLE);
    pair_end(&p);
}

/* --- Version lines ---------------------------------------------------- */

static struct amk_transport *
new_engine(enum amk_transport_role role)
{
    struct amk_transport *t = NULL;
    struct amk_transport_config c;
    static struct amk_key *keys[1];   /* MUST outlive the engine */

    keys[0] = ed_key;
    memset(&c, 0, sizeof(c));
    c.role = role;
    c.host_keys = keys;
    c.n_host_keys = 1;
    ASSERT_OK(amk_transport_new(&t, &c));
    return t;
}

static int
feed_str(struct amk_transport *t, const char *s)
{
    return amk_transport_feed(t, s, strlen(s), 0);
}

static void
test_amk_transport_version_ssh1_rejected(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_CLIENT);

    ASSERT_AMK(AMK_EVERSION, feed_str(t, "SSH-1.5-OldServer\r\n"));
    assert_non_null(strstr(amk_transport_last_error(t), "protocol 1"));
    assert_null(amk_transport_peer_version(t));
    amk_transport_free(t);
    t = new_engine(AMK_TRANSPORT_SERVER);
    ASSERT_AMK(AMK_EVERSION, feed_str(t, "SSH-3.0-Future\r\n"));
    amk_transport_free(t);
}

static void
test_amk_transport_version_accepted_forms(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_CLIENT);

    /* RFC 4253 §4.2: lines before the version, CR LF or bare LF. */
    ASSERT_OK(feed_str(t, "Welcome to the server\r\nplease behave\n"));
    assert_null(amk_transport_peer_version(t));
    ASSERT_OK(feed_str(t, "SSH-2.0-OpenSSH_9.6 Debian-1\r"));
    assert_null(amk_transport_peer_version(t));
    ASSERT_OK(feed_str(t, "\n"));
    assert_string_equal(amk_transport_peer_version(t), "SSH-2.0-OpenSSH_9.6 Debian-1");
    amk_transport_free(t);
    /* RFC 4253 §5.1: 1.99 means "2.0 as well"; bare LF. */
    t = new_engine(AMK_TRANSPORT_SERVER);
    ASSERT_OK(feed_str(t, "SSH-1.99-Compat\n"));
    assert_string_equal(amk_transport_peer_version(t), "SSH-1.99-Compat");
    amk_transport_free(t);
}

static void
test_amk_transport_version_bad_lines(void **state)
{
    char line[400];
    struct amk_transport *t;

    /* Longer than 255 bytes. */
    t = new_engine(AMK_TRANSPORT_CLIENT);
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    ASSERT_AMK(AMK_EVERSION, feed_str(t, line));
    amk_transport_free(t);
    /* 254 characters and CR LF is the longest allowed. */
    t = new_engine(AMK_TRANSPORT_CLIENT);
    memcpy(line, "SSH-2.0-", 8);
    memset(line + 8, 'v', 245);
    memcpy(line + 253, "\r\n", 3);
    ASSERT_OK(feed_str(t, line));
    assert_non_null(amk_transport_peer_version(t));
    amk_transport_free(t);
    /* A NUL inside. */
    t = new_engine(AMK_TRANSPORT_CLIENT);
    ASSERT_AMK(AMK_EVERSION, amk_transport_feed(t, "SSH-2.0-a\0b\r\n", 13, 0));
    amk_transport_free(t);
    /* No software version. */
    t = new_engine(AMK_TRANSPORT_CLIENT);
    ASSERT_AMK(AMK_EVERSION, feed_str(t, "SSH-2.0-\r\n"));
    amk_transport_free(t);
    /* Clients send no lines before their version. */
    t = new_engine(AMK_TRANSPORT_SERVER);
    ASSERT_AMK(AMK_EVERSION, feed_str(t, "GET / HTTP/1.1\r\n"));
    amk_transport_free(t);
}

static void
test_amk_transport_version_too_many_lines(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_CLIENT);
    char line[201];
    int r = AMK_OK;

    for (int i = 0; i < AMK_TRANSPORT_MAX_BANNER_LINES; i++)
        ASSERT_OK(feed_str(t, "x\n"));
    ASSERT_AMK(AMK_ELIMIT, feed_str(t, "x\n"));
    amk_transport_free(t);
    /* Or too many bytes in fewer lines. */
    t = new_engine(AMK_TRANSPORT_CLIENT);
    memset(line, 'y', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    for (int i = 0; i < 400 && r == AMK_OK; i++)
        r = feed_str(t, line);
    ASSERT_AMK(AMK_ELIMIT, r);
    amk_transport_free(t);
}

/* --- Packets ---------------------------------------------------------- */

static void
test_amk_transport_packet_length_too_big(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_SERVER);
    static const uint8_t huge[] = { 0x00, 0x10, 0x00, 0x00, 0x04 };
    static const uint8_t maxu32[] = { 0xff, 0xff, 0xff, 0xff };

    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    /* Refused from the length alone, without waiting for the body. */
    ASSERT_AMK(AMK_ETOOBIG, amk_transport_feed(t, huge, sizeof(huge), 0));
    assert_true(amk_transport_wants_write(t));
    amk_transport_free(t);
    t = new_engine(AMK_TRANSPORT_CLIENT);
    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    ASSERT_AMK(AMK_ETOOBIG, amk_transport_feed(t, maxu32, sizeof(maxu32), 0));
    amk_transport_free(t);
}

static void
test_amk_transport_packet_bad_padding(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_SERVER);
    /* length 13: 4 + 13 is not a multiple of 8 */
    static const uint8_t misaligned[] = { 0, 0, 0, 13, 4 };
    /* padding 3 (< 4) */
    static const uint8_t shortpad[] = { 0, 0, 0, 12, 3, 20, 20, 20, 20, 20, 20, 20, 20, 0, 0, 0 };
    /* padding longer than the packet */
    static const uint8_t longpad[] = { 0, 0, 0, 12, 200, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, misaligned, sizeof(misaligned), 0));
    amk_transport_free(t);
    t = new_engine(AMK_TRANSPORT_SERVER);
    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, shortpad, sizeof(shortpad), 0));
    amk_transport_free(t);
    t = new_engine(AMK_TRANSPORT_SERVER);
    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, longpad, sizeof(longpad), 0));
    amk_transport_free(t);
}

/* Service and upper-layer messages before keys are a protocol error. */
static void
test_amk_transport_upper_message_before_kex(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_SERVER);
    static const uint8_t req[] = { AMK_MSG_SERVICE_REQUEST, 0, 0, 0, 0 };
    uint8_t pkt[64];
    size_t n = plain_packet(pkt, req, sizeof(req));

    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, pkt, n, 0));
    amk_transport_free(t);
}

/* KEX messages out of order. */
static void
test_amk_transport_kex_message_out_of_order(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_CLIENT);
    static const uint8_t newkeys[] = { AMK_MSG_NEWKEYS };
    static const uint8_t reply[] = { AMK_MSG_KEXDH_REPLY, 0, 0, 0, 0 };
    uint8_t pkt[64];
    size_t n;

    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    n = plain_packet(pkt, newkeys, sizeof(newkeys));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, pkt, n, 0));
    amk_transport_free(t);
    t = new_engine(AMK_TRANSPORT_CLIENT);
    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    n = plain_packet(pkt, reply, sizeof(reply));
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, pkt, n, 0));
    amk_transport_free(t);
}

/* A malformed KEXINIT. */
static void
test_amk_transport_kexinit_malformed(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_CLIENT);
    uint8_t payload[40];
    uint8_t pkt[80];
    size_t n;

    memset(payload, 0, sizeof(payload));
    payload[0] = AMK_MSG_KEXINIT;
    payload[17 + 3] = 200;      /* first name-list claims 200 bytes */
    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    n = plain_packet(pkt, payload, sizeof(payload));
    ASSERT_AMK(AMK_ETRUNCATED, amk_transport_feed(t, pkt, n, 0));
    assert_non_null(strstr(amk_transport_last_error(t), "KEXINIT"));
    amk_transport_free(t);
}

/* --- Unknown messages, DEBUG, UNIMPLEMENTED ---------------------------- */

static int log_unimpl;

static void
count_log(void *user, enum amk_log_level level, const char *msg)
{
    if (strstr(msg, "did not implement") != NULL)
        log_unimpl++;
}

static void
test_amk_transport_unknown_message_gets_unimplemented(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;
    static const uint8_t unknown[] = { 8, 1, 2, 3 };
    static const uint8_t debug[] = { AMK_MSG_DEBUG, 1, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0 };

    memset(&c, 0, sizeof(c));
    c.log.fn = count_log;
    c.log.level = AMK_LOG_TRACE;
    log_unimpl = 0;
    pair_begin(&p, &c, NULL);
    pair_handshake(&p);
    /* The server receives numbers it doesn't know (RFC 4253 §11.4). */
    ASSERT_OK(amk_packet_send(p.c.t, unknown, sizeof(unknown)));
    ASSERT_OK(amk_packet_send(p.c.t, debug, sizeof(debug)));
    ASSERT_OK(pair_run(&p, NULL));
    assert_int_equal(log_unimpl, 1);
    assert_int_equal(p.s.nmsgs, 0);
    assert_int_equal(amk_transport_error(p.s.t), AMK_OK);
    assert_int_equal(amk_transport_error(p.c.t), AMK_OK);
    pair_end(&p);
}

/* Upper-layer data from the peer in the middle of its KEX is an error. */
static void
test_amk_transport_data_during_peer_kex_rejected(void **state)
{
    struct test_pair p;
    static const uint8_t data[] = { 94, 0, 0, 0, 0 };

    pair_begin(&p, NULL, NULL);
    pair_handshake(&p);
    ASSERT_OK(amk_transport_rekey(p.c.t));
    /* A broken client sends data after its KEXINIT (bypassing the hold). */
    ASSERT_OK(amk_packet_send(p.c.t, data, sizeof(data)));
    ASSERT_AMK(AMK_EPROTO, move_all(&p.c, &p.s, p.now));
    pair_end(&p);
}

/* --- first_kex_packet_follows ----------------------------------------- */

/* A hand-built client guesses ecdh-sha2-nistp256 wrongly; the server
 * ignores the guessed packet and answers the real one (RFC 4253 §7.1). */
static void
test_amk_transport_kex_wrong_guess_ignored(void **state)
{
    struct amk_transport *t = new_engine(AMK_TRANSPORT_SERVER);
    struct amk_buf *ki = amk_buf_new();
    uint8_t cookie[16] = { 0 };
    uint8_t pkt[2048], priv[32], pub[32];
    uint8_t guess[70] = { AMK_MSG_KEXDH_INIT, 0, 0, 0, 65, 4 };
    uint8_t init[37] = { AMK_MSG_KEXDH_INIT, 0, 0, 0, 32 };
    const uint8_t *d;
    size_t n;
    int saw_reply = 0;

    ASSERT_OK(amk_buf_put_u8(ki, AMK_MSG_KEXINIT));
    ASSERT_OK(amk_buf_put(ki, cookie, sizeof(cookie)));
    ASSERT_OK(amk_buf_put_cstring(ki, "ecdh-sha2-nistp256,curve25519-sha256"));
    ASSERT_OK(amk_buf_put_cstring(ki, "ssh-ed25519"));
    for (int i = 0; i < 2; i++)
        ASSERT_OK(amk_buf_put_cstring(ki, "aes128-ctr"));
    for (int i = 0; i < 2; i++)
        ASSERT_OK(amk_buf_put_cstring(ki, "hmac-sha2-256"));
    for (int i = 0; i < 2; i++)
        ASSERT_OK(amk_buf_put_cstring(ki, "none"));
    for (int i = 0; i < 2; i++)
        ASSERT_OK(amk_buf_put_cstring(ki, ""));
    ASSERT_OK(amk_buf_put_bool(ki, 1));
    ASSERT_OK(amk_buf_put_u32(ki, 0));
    ASSERT_OK(feed_str(t, "SSH-2.0-guesser\r\n"));
    /* Skip what the server sent so far (version and KEXINIT). */
    amk_transport_output(t, &d, &n);
    ASSERT_OK(amk_transport_output_consume(t, n));
    n = plain_packet(pkt, amk_buf_ptr(ki), amk_buf_len(ki));
    ASSERT_OK(amk_transport_feed(t, pkt, n, 0));
    n = plain_packet(pkt, guess, sizeof(guess));
    ASSERT_OK(amk_transport_feed(t, pkt, n, 0));
    assert_false(amk_transport_wants_write(t));
    ASSERT_OK(amk_x25519_keypair(NULL, priv, pub));
    memcpy(init + 5, pub, 32);
    n = plain_packet(pkt, init, sizeof(init));
    ASSERT_OK(amk_transport_feed(t, pkt, n, 0));
    /* The reply (31) and NEWKEYS (21) came out in the clear. */
    amk_transport_output(t, &d, &n);
    if (n > 5 && d[5] == AMK_MSG_KEXDH_REPLY)
        saw_reply = 1;
    assert_true(saw_reply);
    amk_buf_free(ki);
    amk_transport_free(t);
}

/* EXT_INFO that ends early, or arrives before NEWKEYS. */
static void
test_amk_transport_ext_info_malformed(void **state)
{
    struct test_pair p;
    static const uint8_t bad[] = { AMK_MSG_EXT_INFO, 0, 0, 0, 5, 0, 0, 0, 1, 'x' };
    struct amk_transport *t;
    uint8_t pkt[64];
    size_t n;

    pair_begin(&p, NULL, NULL);
    pair_handshake(&p);
    ASSERT_OK(amk_packet_send(p.s.t, bad, sizeof(bad)));
    ASSERT_AMK(AMK_ETRUNCATED, move_all(&p.s, &p.c, p.now));
    assert_non_null(strstr(amk_transport_last_error(p.c.t), "EXT_INFO"));
    pair_end(&p);
    t = new_engine(AMK_TRANSPORT_CLIENT);
    ASSERT_OK(feed_str(t, "SSH-2.0-test\r\n"));
    n = plain_packet(pkt, bad, 5);
    ASSERT_AMK(AMK_EPROTO, amk_transport_feed(t, pkt, n, 0));
    amk_transport_free(t);
}

/* A rekey that presents another host key. */
static void
test_amk_transport_rekey_host_key_changed(void **state)
{
    struct test_pair p;
    struct amk_key *other = NULL;
    char who = '?';

    pair_begin(&p, NULL, NULL);
    pair_handshake(&p);
    ASSERT_OK(amk_key_generate(AMK_PKEY_ED25519, 0, &other));
    p.keys[0] = other;      /* the server engine reads its key array each time */
    ASSERT_OK(amk_transport_rekey(p.c.t));
    ASSERT_AMK(AMK_EHOSTKEY_CHANGED, pair_run(&p, &who));
    assert_int_equal(who, 'c');
    assert_int_equal(p.c.hostkey_calls, 1);
    amk_key_free(other);
    pair_end(&p);
}

/* The client wants a host-key type the server has no key for. */
static void
test_amk_transport_negotiate_no_common_hostkey(void **state)
{
    struct test_pair p;
    struct amk_transport_config c;

    memset(&c, 0, sizeof(c));
    c.hostkey_algs = "ecdsa-sha2-nistp256,rsa-sha2-512";
    pair_begin(&p, &c, NULL);
    ASSERT_AMK(AMK_ENOMATCH, pair_run(&p, NULL));
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "host key"));
    assert_non_null(strstr(amk_transport_last_error(p.s.t), "server offered [ssh-ed25519]"));
    pair_end(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_transport_feed_corrupted_byte_gives_mac_error),
        cmocka_unit_test(test_amk_transport_feed_corrupted_tag_gives_mac_error),
        cmocka_unit_test(test_amk_transport_strict_kex_rejects_ignore_before_newkeys),
        cmocka_unit_test(test_amk_transport_non_strict_peer_tolerates_ignore),
        cmocka_unit_test(test_amk_transport_strict_kex_kexinit_must_be_first),
        cmocka_unit_test(test_amk_transport_non_strict_debug_before_kexinit_ok),
        cmocka_unit_test(test_amk_transport_strict_kex_sequence_wrap_fatal),
        cmocka_unit_test(test_amk_transport_non_strict_sequence_wrap_ok),
        cmocka_unit_test(test_amk_transport_negotiate_no_common_cipher),
        cmocka_unit_test(test_amk_transport_negotiate_no_common_kex),
        cmocka_unit_test(test_amk_transport_negotiate_no_common_mac),
        cmocka_unit_test(test_amk_transport_negotiate_aead_ignores_macs),
        cmocka_unit_test(test_amk_transport_new_bad_config),
        cmocka_unit_test(test_amk_transport_hostkey_rejected_by_callback),
        cmocka_unit_test(test_amk_transport_version_ssh1_rejected),
        cmocka_unit_test(test_amk_transport_version_accepted_forms),
        cmocka_unit_test(test_amk_transport_version_bad_lines),
        cmocka_unit_test(test_amk_transport_version_too_many_lines),
        cmocka_unit_test(test_amk_transport_packet_length_too_big),
        cmocka_unit_test(test_amk_transport_packet_bad_padding),
        cmocka_unit_test(test_amk_transport_upper_message_before_kex),
        cmocka_unit_test(test_amk_transport_kex_message_out_of_order),
        cmocka_unit_test(test_amk_transport_kexinit_malformed),
        cmocka_unit_test(test_amk_transport_unknown_message_gets_unimplemented),
        cmocka_unit_test(test_amk_transport_data_during_peer_kex_rejected),
        cmocka_unit_test(test_amk_transport_kex_wrong_guess_ignored),
        cmocka_unit_test(test_amk_transport_ext_info_malformed),
        cmocka_unit_test(test_amk_transport_rekey_host_key_changed),
        cmocka_unit_test(test_amk_transport_negotiate_no_common_hostkey),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
