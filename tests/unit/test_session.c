/*
 * Unit tests for src/io/session.c: the public session API without sshd.
 * A client and a server session run against each other over in-memory
 * pipes (caller-supplied I/O); failure modes use socketpairs and loopback
 * listeners the tests make, where the "peer" stays silent, closes, or
 * speaks SSH-1. The interop tests (tests/interop) cover real sshd.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"

/* --- in-memory pipes ---------------------------------------------------- */

#define PIPE_CAP ((size_t)1 << 20)

struct mem_pipe {
    uint8_t *buf;
    size_t len;
};

/* One end: reads from @c in, writes to @c out. */
struct mem_end {
    struct mem_pipe *in;
    struct mem_pipe *out;
    int fail_read;      /* return this from read instead (an error code), if non-zero */
    int block_write;    /* return AMK_EAGAIN from every write */
    int writes;
};

static ssize_t
mem_read(void *user, void *buf, size_t len)
{
    struct mem_end *e = user;
    size_t n;

    if (e->fail_read != 0)
        return e->fail_read;
    if (e->in->len == 0)
        return AMK_EAGAIN;
    n = len < e->in->len ? len : e->in->len;
    memcpy(buf, e->in->buf, n);
    memmove(e->in->buf, e->in->buf + n, e->in->len - n);
    e->in->len -= n;
    return (ssize_t)n;
}

static ssize_t
mem_write(void *user, const void *buf, size_t len)
{
    struct mem_end *e = user;
    size_t n = PIPE_CAP - e->out->len;

    e->writes++;
    if (e->block_write || n == 0)
        return AMK_EAGAIN;
    if (n > len)
        n = len;
    memcpy(e->out->buf + e->out->len, buf, n);
    e->out->len += n;
    return (ssize_t)n;
}

static void
pipe_init(struct mem_pipe *p)
{
    p->buf = malloc(PIPE_CAP);
    assert_non_null(p->buf);
    p->len = 0;
}

/* --- host-key callback -------------------------------------------------- */

struct seen_key {
    int calls;
    int verdict;
    const struct amk_key *key;  /* valid during the callback only: compared, not used */
    const struct amk_key *expect;   /* the server's key, if known */
    uint8_t blob[1024];
    size_t len;
};

static int
record_hostkey(void *user, struct amk_session *s, const char *alg, const struct amk_key *key)
{
    struct seen_key *k = user;
    const char *blob_alg = NULL;
    const uint8_t *blob = NULL;
    size_t len = 0;

    k->calls++;
    k->key = key;
    if (k->expect != NULL)
        assert_true(amk_key_equal_public(key, k->expect));
    ASSERT_OK(amk_session_host_key(s, &blob_alg, &blob, &len));
    assert_string_equal(blob_alg, alg);
    assert_true(len <= sizeof(k->blob));
    memcpy(k->blob, blob, len);
    k->len = len;
    return k->verdict;
}

/* --- tests --------------------------------------------------------------- */

static void
test_amk_session_new_bad_arguments(void **state)
{
    struct amk_session *s = (struct amk_session *)&s;

    ASSERT_AMK(AMK_EINVAL, amk_session_new(NULL, AMK_SESSION_CLIENT));
    ASSERT_AMK(AMK_EINVAL, amk_session_new(&s, (enum amk_session_role)0));
    assert_null(s);
    ASSERT_AMK(AMK_EINVAL, amk_session_new(&s, (enum amk_session_role)3));
    amk_session_free(NULL);
}

static void
test_amk_session_setters_validate(void **state)
{
    struct amk_session *c = NULL, *sv = NULL;
    struct amk_key *key = NULL;
    struct seen_key seen = { 0 };

    ASSERT_OK(amk_session_new(&c, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_new(&sv, AMK_SESSION_SERVER));
    ASSERT_OK(amk_key_generate(AMK_PKEY_ED25519, 0, &key));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_algorithms(c, (enum amk_alg_kind)0, "x"));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_algorithms(c, (enum amk_alg_kind)6, "x"));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_algorithms(NULL, AMK_ALG_KEX, "x"));
    ASSERT_OK(amk_session_set_algorithms(c, AMK_ALG_CIPHER, "aes128-ctr"));
    ASSERT_OK(amk_session_set_algorithms(c, AMK_ALG_CIPHER, NULL));   /* back to defaults */
    ASSERT_AMK(AMK_EINVAL, amk_session_set_hostkey_callback(c, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_hostkey_callback(sv, record_hostkey, &seen));
    ASSERT_AMK(AMK_EINVAL, amk_session_add_host_key(c, key));
    ASSERT_AMK(AMK_EINVAL, amk_session_add_host_key(sv, NULL));
    ASSERT_OK(amk_session_add_host_key(sv, key));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_fd(c, -1));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_io(c, NULL, mem_write, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_io(c, mem_read, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_timeout(NULL, 5));
    ASSERT_AMK(AMK_EINVAL, amk_session_set_blocking(NULL, 0));
    ASSERT_AMK(AMK_EINVAL, amk_session_connect(c, NULL, 22));
    ASSERT_AMK(AMK_EINVAL, amk_session_handshake(NULL));
    amk_session_free(c);
    amk_session_free(sv);
    amk_key_free(key);
}

static void
test_amk_session_handshake_without_connection(void **state)
{
    struct amk_session *s = NULL;

    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_AMK(AMK_ESTATE, amk_session_handshake(s));
    assert_non_null(strstr(amk_session_last_error(s), "no connection"));
    ASSERT_AMK(AMK_ESTATE, amk_session_disconnect(s, NULL));
    /* a usage error is not fatal: connecting is still possible */
    ASSERT_OK(amk_session_set_blocking(s, 0));
    amk_session_free(s);
}

static void
test_amk_session_queries_before_handshake(void **state)
{
    struct amk_session *s = NULL;
    const char *name = "x", *alg = "x";
    const uint8_t *blob = (const uint8_t *)"x";
    size_t len = 9;

    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_AMK(AMK_ESTATE, amk_session_algorithm(s, AMK_ALG_KEX, &name));
    assert_null(name);
    ASSERT_AMK(AMK_ESTATE, amk_session_host_key(s, &alg, &blob, &len));
    assert_null(alg);
    assert_null(blob);
    assert_int_equal(len, 0);
    assert_null(amk_session_peer_version(s));
    assert_int_equal(amk_session_get_fd(s), -1);
    assert_int_equal(amk_session_next_timeout(s), -1);
    assert_int_equal(amk_session_block_directions(s), 0);
    assert_string_equal(amk_session_last_error(s), "");
    assert_string_equal(amk_session_last_error(NULL), "");
    amk_session_free(s);
}

/* A client and a server session over in-memory pipes, driven alternately. */
struct pair {
    struct mem_pipe c2s, s2c;
    struct mem_end ce, se;
    struct amk_session *client, *server;
    struct amk_key *host_key;
    struct seen_key seen;
};

static void
pair_new(struct pair *p, const char *cipher)
{
    memset(p, 0, sizeof(*p));
    pipe_init(&p->c2s);
    pipe_init(&p->s2c);
    p->ce.in = &p->s2c;
    p->ce.out = &p->c2s;
    p->se.in = &p->c2s;
    p->se.out = &p->s2c;
    ASSERT_OK(amk_key_generate(AMK_PKEY_ED25519, 0, &p->host_key));
    p->seen.expect = p->host_key;
    ASSERT_OK(amk_session_new(&p->client, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_new(&p->server, AMK_SESSION_SERVER));
    ASSERT_OK(amk_session_set_hostkey_callback(p->client, record_hostkey, &p->seen));
    ASSERT_OK(amk_session_add_host_key(p->server, p->host_key));
    ASSERT_OK(amk_session_set_algorithms(p->client, AMK_ALG_CIPHER, cipher));
    ASSERT_OK(amk_session_set_blocking(p->client, 0));
    ASSERT_OK(amk_session_set_blocking(p->server, 0));
    ASSERT_OK(amk_session_set_io(p->client, mem_read, mem_write, &p->ce));
    ASSERT_OK(amk_session_set_io(p->server, mem_read, mem_write, &p->se));
}

static void
pair_free(struct pair *p)
{
    amk_session_free(p->client);
    amk_session_free(p->server);
    amk_key_free(p->host_key);
    free(p->c2s.buf);
    free(p->s2c.buf);
}

/* Steps both handshakes until both are done; returns the client's result. */
static int
pair_handshake(struct pair *p)
{
    int rc = AMK_EAGAIN, rs = AMK_EAGAIN;

    for (int i = 0; i < 200 && (rc == AMK_EAGAIN || rs == AMK_EAGAIN); i++) {
        if (rc == AMK_EAGAIN) {
            rc = amk_session_handshake(p->client);
            if (rc == AMK_EAGAIN)
                assert_true(amk_session_block_directions(p->client) & AMK_WAIT_READ);
        }
        if (rs == AMK_EAGAIN)
            rs = amk_session_handshake(p->server);
        if (rc != AMK_OK && rc != AMK_EAGAIN)
            return rc;
        if (rs != AMK_OK && rs != AMK_EAGAIN)
            return rs;
    }
    ASSERT_OK(rs);
    return rc;
}

static void
test_amk_session_in_memory_pair(void **state)
{
    struct pair p;
    struct amk_buf *blob = amk_buf_new();
    const char *c_name = NULL, *s_name = NULL, *alg = NULL;
    const uint8_t *hk = NULL, *payload = NULL;
    size_t hk_len = 0, len = 0;
    static const uint8_t request[] = { AMK_MSG_SERVICE_REQUEST, 0, 0, 0, 4, 't', 'e', 's', 't' };

    pair_new(&p, "aes256-gcm@openssh.com");
    ASSERT_OK(pair_handshake(&p));
    assert_int_equal(p.seen.calls, 1);
    /* the client saw exactly the server's key */
    assert_non_null(blob);
    ASSERT_OK(amk_key_to_blob(p.host_key, blob));
    assert_int_equal(p.seen.len, amk_buf_len(blob));
    assert_memory_equal(p.seen.blob, amk_buf_ptr(blob), p.seen.len);
    assert_non_null(p.seen.key);
    ASSERT_OK(amk_session_host_key(p.client, &alg, &hk, &hk_len));
    assert_string_equal(alg, "ssh-ed25519");
    assert_int_equal(hk_len, amk_buf_len(blob));
    ASSERT_OK(amk_session_algorithm(p.client, AMK_ALG_CIPHER, &c_name));
    ASSERT_OK(amk_session_algorithm(p.server, AMK_ALG_CIPHER, &s_name));
    assert_string_equal(c_name, "aes256-gcm@openssh.com");
    assert_string_equal(s_name, c_name);
    ASSERT_OK(amk_session_algorithm(p.client, AMK_ALG_MAC, &c_name));
    assert_string_equal(c_name, "");    /* AEAD: no MAC */
    assert_int_equal(strncmp(amk_session_peer_version(p.client), "SSH-2.0-amiko", 13), 0);
    /* settings are frozen once the engine runs */
    ASSERT_AMK(AMK_ESTATE, amk_session_set_algorithms(p.client, AMK_ALG_KEX, NULL));
    ASSERT_AMK(AMK_ESTATE, amk_session_set_log(p.client, NULL, NULL, AMK_LOG_INFO));
    ASSERT_AMK(AMK_ESTATE, amk_session_set_io(p.client, mem_read, mem_write, &p.ce));
    /* a packet each way through the pump */
    ASSERT_AMK(AMK_EAGAIN, amk_session_recv_packet(p.server, &payload, &len));
    assert_int_equal(amk_session_block_directions(p.server), AMK_WAIT_READ);
    ASSERT_OK(amk_session_send_packet(p.client, request, sizeof(request)));
    ASSERT_OK(amk_session_recv_packet(p.server, &payload, &len));
    assert_int_equal(len, sizeof(request));
    assert_memory_equal(payload, request, len);
    ASSERT_OK(amk_session_disconnect(p.client, "done"));
    ASSERT_AMK(AMK_EDISCONNECT, amk_session_recv_packet(p.server, &payload, &len));
    assert_non_null(strstr(amk_session_last_error(p.server), "done"));
    amk_buf_free(blob);
    pair_free(&p);
}

/* amk_session_recv_buffered() hands out only packets already read: the
 * rest stays with the I/O (for the client's bounded receive steps). */
static void
test_amk_session_recv_buffered_never_reads(void **state)
{
    struct pair p;
    const uint8_t *payload = NULL;
    size_t len = 0, waiting;
    static const uint8_t request[] = { AMK_MSG_SERVICE_REQUEST, 0, 0, 0, 4, 't', 'e', 's', 't' };

    pair_new(&p, "aes128-gcm@openssh.com");
    ASSERT_OK(pair_handshake(&p));
    ASSERT_AMK(AMK_EINVAL, amk_session_recv_buffered(NULL, &payload, &len));
    ASSERT_AMK(AMK_EINVAL, amk_session_recv_buffered(p.server, NULL, &len));
    ASSERT_AMK(AMK_EAGAIN, amk_session_recv_buffered(p.server, &payload, &len));
    for (int i = 0; i < 3; i++)
        ASSERT_OK(amk_session_send_packet(p.client, request, sizeof(request)));
    ASSERT_OK(amk_session_flush(p.client));
    waiting = p.c2s.len;
    assert_true(waiting > 0);
    /* not read: the bytes wait in the pipe */
    ASSERT_AMK(AMK_EAGAIN, amk_session_recv_buffered(p.server, &payload, &len));
    assert_null(payload);
    assert_int_equal(p.c2s.len, waiting);
    /* one read takes all three; the other two are then buffered */
    ASSERT_OK(amk_session_recv_packet(p.server, &payload, &len));
    assert_int_equal(p.c2s.len, 0);
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(amk_session_recv_buffered(p.server, &payload, &len));
        assert_int_equal(len, sizeof(request));
        assert_memory_equal(payload, request, len);
    }
    ASSERT_AMK(AMK_EAGAIN, amk_session_recv_buffered(p.server, &payload, &len));
    pair_free(&p);
}

static void
test_amk_session_in_memory_hostkey_rejected(void **state)
{
    struct pair p;

    pair_new(&p, NULL);
    p.seen.verdict = AMK_EHOSTKEY_REJECTED;
    ASSERT_AMK(AMK_EHOSTKEY_REJECTED, pair_handshake(&p));
    assert_non_null(strstr(amk_session_last_error(p.client), "refused"));
    /* the client told the server why (RFC 4253 §11.1 HOST_KEY_NOT_VERIFIABLE) */
    ASSERT_AMK(AMK_EDISCONNECT, amk_session_handshake(p.server));
    assert_non_null(strstr(amk_session_last_error(p.server), "reason 9"));
    pair_free(&p);
}

static void
test_amk_session_read_callback_error(void **state)
{
    struct pair p;

    pair_new(&p, NULL);
    p.ce.fail_read = AMK_EIO;
    ASSERT_AMK(AMK_EIO, amk_session_handshake(p.client));
    assert_non_null(strstr(amk_session_last_error(p.client), "read callback failed"));
    ASSERT_AMK(AMK_EIO, amk_session_handshake(p.client));   /* stays failed */
    pair_free(&p);
}

static void
test_amk_session_read_callback_nonfatal_code_is_eio(void **state)
{
    struct pair p;

    pair_new(&p, NULL);
    p.ce.fail_read = AMK_EINVAL;
    ASSERT_AMK(AMK_EIO, amk_session_handshake(p.client));
    ASSERT_AMK(AMK_EIO, amk_session_handshake(p.client));
    pair_free(&p);
}

static void
test_amk_session_write_blocked_asks_for_write(void **state)
{
    struct pair p;

    pair_new(&p, NULL);
    p.ce.block_write = 1;
    ASSERT_AMK(AMK_EAGAIN, amk_session_handshake(p.client));
    assert_true(amk_session_block_directions(p.client) & AMK_WAIT_WRITE);
    assert_true(p.ce.writes > 0);
    p.ce.block_write = 0;
    ASSERT_OK(pair_handshake(&p));
    pair_free(&p);
}

static void
test_amk_session_callbacks_in_blocking_mode_return_eagain(void **state)
{
    struct pair p;

    /* callbacks that cannot block: the session has nothing to wait on */
    pair_new(&p, NULL);
    ASSERT_OK(amk_session_set_blocking(p.client, 1));
    ASSERT_AMK(AMK_EAGAIN, amk_session_handshake(p.client));
    assert_int_equal(amk_session_block_directions(p.client), AMK_WAIT_READ);
    pair_free(&p);
}

/* A client session over one end of a socketpair; the test holds the other. */
static struct amk_session *
socketpair_client(int sv[2], int timeout_ms, int blocking)
{
    struct amk_session *s = NULL;
    static struct seen_key seen;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_hostkey_callback(s, record_hostkey, &seen));
    ASSERT_OK(amk_session_set_timeout(s, timeout_ms));
    ASSERT_OK(amk_session_set_blocking(s, blocking));
    ASSERT_OK(amk_session_set_fd(s, sv[0]));
    return s;
}

static void
test_amk_session_timeout_silent_peer(void **state)
{
    int sv[2];
    struct amk_session *s = socketpair_client(sv, 300, 1);
    int64_t t0 = amk_io_now_ms(), elapsed;

    ASSERT_AMK(AMK_ETIMEOUT, amk_session_handshake(s));
    elapsed = amk_io_now_ms() - t0;
    assert_true(elapsed >= 250);
    assert_true(elapsed < 5000);
    assert_non_null(strstr(amk_session_last_error(s), "timed out"));
    ASSERT_AMK(AMK_ETIMEOUT, amk_session_handshake(s));
    amk_session_free(s);
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_session_nonblocking_silent_peer(void **state)
{
    int sv[2], next;
    struct amk_session *s = socketpair_client(sv, 400, 0);
    char line[64];
    ssize_t n;
    int64_t deadline = amk_io_deadline(5000);
    int r;

    ASSERT_AMK(AMK_EAGAIN, amk_session_handshake(s));
    assert_int_equal(amk_session_block_directions(s), AMK_WAIT_READ);
    assert_int_equal(amk_session_get_fd(s), sv[0]);
    /* our identification went out (RFC 4253 §4.2) */
    n = read(sv[1], line, sizeof(line) - 1);
    assert_true(n > 8);
    line[n] = '\0';
    assert_int_equal(strncmp(line, "SSH-2.0-amiko", 13), 0);
    /* the handshake timer tells the caller when to call again */
    next = amk_session_next_timeout(s);
    assert_true(next > 0 && next <= 400);
    while ((r = amk_session_handshake(s)) == AMK_EAGAIN) {
        struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
        assert_true(amk_io_remaining_ms(deadline) > 0);
        assert_true(poll(&pfd, 1, amk_session_next_timeout(s)) >= 0);
    }
    ASSERT_AMK(AMK_ETIMEOUT, r);
    amk_session_free(s);
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_session_peer_closes(void **state)
{
    int sv[2];
    struct amk_session *s = socketpair_client(sv, 5000, 1);

    close(sv[1]);
    ASSERT_AMK(AMK_ECLOSED, amk_session_handshake(s));
    assert_non_null(strstr(amk_session_last_error(s), "closed by the peer"));
    amk_session_free(s);
    close(sv[0]);
}

static void
test_amk_session_peer_closes_after_version(void **state)
{
    int sv[2];
    struct amk_session *s = socketpair_client(sv, 5000, 1);
    static const char v2[] = "SSH-2.0-Quitter\r\n";

    /* the peer answers, then ends its side: we read EOF mid-handshake */
    assert_int_equal(write(sv[1], v2, sizeof(v2) - 1), (ssize_t)(sizeof(v2) - 1));
    assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
    ASSERT_AMK(AMK_ECLOSED, amk_session_handshake(s));
    assert_non_null(strstr(amk_session_last_error(s), "closed by the peer during the handshake"));
    assert_string_equal(amk_session_peer_version(s), "SSH-2.0-Quitter");
    amk_session_free(s);
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_session_peer_speaks_ssh1(void **state)
{
    int sv[2];
    struct amk_session *s = socketpair_client(sv, 5000, 1);
    static const char v1[] = "SSH-1.5-OldServer\r\n";

    assert_int_equal(write(sv[1], v1, sizeof(v1) - 1), (ssize_t)(sizeof(v1) - 1));
    ASSERT_AMK(AMK_EVERSION, amk_session_handshake(s));
    amk_session_free(s);
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_session_connect_refused(void **state)
{
    struct sockaddr_in in;
    socklen_t alen = sizeof(in);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), r;
    uint16_t port;

    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = NULL;
        int64_t deadline = amk_io_deadline(5000);

        /* a port that was just free: bound, then closed */
        memset(&in, 0, sizeof(in));
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&in, sizeof(in)), 0);
        assert_int_equal(getsockname(lfd, (struct sockaddr *)&in, &alen), 0);
        port = ntohs(in.sin_port);
        close(lfd);
        ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
        ASSERT_OK(amk_session_set_blocking(s, blocking));
        while ((r = amk_session_connect(s, "127.0.0.1", port)) == AMK_EAGAIN) {
            struct pollfd pfd = { .fd = amk_session_get_fd(s), .events = POLLOUT };
            assert_int_equal(amk_session_block_directions(s), AMK_WAIT_WRITE);
            assert_true(amk_io_remaining_ms(deadline) > 0);
            assert_true(poll(&pfd, 1, 1000) >= 0);
        }
        ASSERT_AMK(AMK_ECONNECT, r);
        assert_non_null(strstr(amk_session_last_error(s), "127.0.0.1 port"));
        ASSERT_AMK(AMK_ECONNECT, amk_session_handshake(s));
        amk_session_free(s);
    }
}

static void
test_amk_session_connect_timeout_nonblocking(void **state)
{
    struct sockaddr_in in;
    socklen_t alen = sizeof(in);
    struct amk_session *s = NULL;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fillers[16], nfill, r;
    int64_t deadline = amk_io_deadline(5000), t0;

    /* a listener whose accept queue is full drops SYNs: connects hang on loopback */
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&in, &alen), 0);
    for (nfill = 0; nfill < 16; nfill++) {
        fillers[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void)connect(fillers[nfill], (struct sockaddr *)&in, sizeof(in));
        if (amk_io_wait(fillers[nfill], AMK_IO_WRITE, amk_io_deadline(300), NULL, NULL) ==
            AMK_ETIMEOUT) {
            nfill++;
            break;
        }
    }
    if (nfill == 16)
        skip();
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_blocking(s, 0));
    ASSERT_OK(amk_session_set_timeout(s, 300));
    t0 = amk_io_now_ms();
    while ((r = amk_session_connect(s, "127.0.0.1", ntohs(in.sin_port))) == AMK_EAGAIN) {
        struct pollfd pfd = { .fd = amk_session_get_fd(s), .events = POLLOUT };
        int wait = amk_session_next_timeout(s);
        assert_true(wait >= 0 && wait <= 300);
        assert_true(amk_io_remaining_ms(deadline) > 0);
        assert_true(poll(&pfd, 1, wait) >= 0);
    }
    ASSERT_AMK(AMK_ETIMEOUT, r);
    assert_true(amk_io_now_ms() - t0 >= 250);
    assert_non_null(strstr(amk_session_last_error(s), "timed out"));
    assert_int_equal(amk_session_get_fd(s), -1);
    amk_session_free(s);
    for (int i = 0; i < nfill; i++)
        close(fillers[i]);
    close(lfd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_session_new_bad_arguments),
        cmocka_unit_test(test_amk_session_setters_validate),
        cmocka_unit_test(test_amk_session_handshake_without_connection),
        cmocka_unit_test(test_amk_session_queries_before_handshake),
        cmocka_unit_test(test_amk_session_in_memory_pair),
        cmocka_unit_test(test_amk_session_recv_buffered_never_reads),
        cmocka_unit_test(test_amk_session_in_memory_hostkey_rejected),
        cmocka_unit_test(test_amk_session_read_callback_error),
        cmocka_unit_test(test_amk_session_read_callback_nonfatal_code_is_eio),
        cmocka_unit_test(test_amk_session_write_blocked_asks_for_write),
        cmocka_unit_test(test_amk_session_callbacks_in_blocking_mode_return_eagain),
        cmocka_unit_test(test_amk_session_timeout_silent_peer),
        cmocka_unit_test(test_amk_session_nonblocking_silent_peer),
        cmocka_unit_test(test_amk_session_peer_closes),
        cmocka_unit_test(test_amk_session_peer_closes_after_version),
        cmocka_unit_test(test_amk_session_peer_speaks_ssh1),
        cmocka_unit_test(test_amk_session_connect_refused),
        cmocka_unit_test(test_amk_session_connect_timeout_nonblocking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
