/*
 * Interop: amiko's high-level client against a hostile server (issue 5,
 * "bad input"). The server is amiko's own SERVER-role session in a forked
 * process on a loopback listener; it plays user authentication and the
 * session channel by hand, then misbehaves in one way per test. The
 * client MUST fail with the exact code of the channel engine, a message
 * naming the problem, well within its timeout, and (for protocol
 * errors) send DISCONNECT PROTOCOL_ERROR, which the peer reports through
 * its exit status.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amiko/client.h>

#include "auth/userauth.h"
#include "channel/conn.h"
#include "interop_client.h"
#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"

/* How the hostile peer misbehaves once the exec request is answered. */
enum misbehaviour {
    BAD_UNKNOWN_CHANNEL,    /* (a) CHANNEL_DATA for a channel never opened */
    BAD_TRUNCATED_DATA,     /* (b) CHANNEL_DATA whose length exceeds the payload */
    BAD_WINDOW_OVERFLOW,    /* (c) WINDOW_ADJUST above 2^32 - 1 */
    BAD_BEYOND_WINDOW,      /* (d) more CHANNEL_DATA than the client's window */
    BAD_CLOSE_IN_AUTH       /* (e) TCP close during authentication */
};

/* The peer's exit status. */
#define PEER_GOT_DISCONNECT 0   /* DISCONNECT PROTOCOL_ERROR received */
#define PEER_NO_DISCONNECT 1    /* the connection ended without one */
#define PEER_CLOSED_EARLY 2     /* case (e): closed as planned */
#define PEER_SETUP_FAILED 3     /* the script went wrong before misbehaving */

#define PEER_WINDOW ((uint32_t)2 * 1024 * 1024)
#define PEER_MAXPKT ((uint32_t)32 * 1024)
#define CLIENT_TIMEOUT_MS 10000
#define FAIL_WITHIN_MS 5000

static struct amk_key *host_key;

/* A loopback listener; its port in *port. */
static int
listener(uint16_t *port)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    *port = ntohs(in.sin_port);
    return fd;
}

/* Receives the next packet, which must have type @p type. */
static int
expect(struct amk_session *s, uint8_t type, struct amk_buf *m)
{
    const uint8_t *p;
    size_t len;

    if (interop_recv(s, &p, &len) != AMK_OK || len == 0 || p[0] != type)
        return -1;
    amk_buf_view(m, p + 1, len - 1);
    return 0;
}

/* Sends @p b and empties it. */
static int
send_buf(struct amk_session *s, struct amk_buf *b)
{
    int r = interop_send(s, amk_buf_ptr(b), amk_buf_len(b));

    amk_buf_reset(b);
    return r == AMK_OK ? 0 : -1;
}

/* CHANNEL_DATA to @p id with @p n bytes of 'x'. */
static int
send_data(struct amk_session *s, struct amk_buf *b, uint32_t id, size_t n)
{
    static uint8_t chunk[PEER_MAXPKT];

    memset(chunk, 'x', sizeof(chunk));
    if (amk_buf_put_u8(b, AMK_MSG_CHANNEL_DATA) != AMK_OK || amk_buf_put_u32(b, id) != AMK_OK
        || amk_buf_put_string(b, chunk, n) != AMK_OK)
        return -1;
    return send_buf(s, b);
}

/* The misbehaviour itself, on the client's channel @p id with window @p win. */
static int
misbehave(struct amk_session *s, struct amk_buf *b, enum misbehaviour bad, uint32_t id,
    uint32_t win, uint32_t maxpkt)
{
    uint32_t chunk = maxpkt < PEER_MAXPKT ? maxpkt : PEER_MAXPKT;

    switch (bad) {
    case BAD_UNKNOWN_CHANNEL:
        return send_data(s, b, id + 1000, 5);
    case BAD_TRUNCATED_DATA:
        /* a string length of 100 with 10 bytes behind it */
        if (amk_buf_put_u8(b, AMK_MSG_CHANNEL_DATA) != AMK_OK || amk_buf_put_u32(b, id) != AMK_OK
            || amk_buf_put_u32(b, 100) != AMK_OK || amk_buf_put(b, "0123456789", 10) != AMK_OK)
            return -1;
        return send_buf(s, b);
    case BAD_WINDOW_OVERFLOW:
        /* the client's send window is PEER_WINDOW: this takes it to 2^32 */
        if (amk_buf_put_u8(b, AMK_MSG_CHANNEL_WINDOW_ADJUST) != AMK_OK
            || amk_buf_put_u32(b, id) != AMK_OK
            || amk_buf_put_u32(b, UINT32_MAX - PEER_WINDOW + 1) != AMK_OK)
            return -1;
        return send_buf(s, b);
    case BAD_BEYOND_WINDOW:
        /* fill the window in legal packets, then one byte more */
        for (uint32_t left = win; left > 0;) {
            uint32_t n = left < chunk ? left : chunk;
            if (send_data(s, b, id, n) != 0)
                return 0;   /* the client may already have given up */
            left -= n;
        }
        (void)send_data(s, b, id, 1);
        return 0;
    case BAD_CLOSE_IN_AUTH:
        break;
    }
    return -1;
}

/* The hostile peer's script on the accepted connection; its exit status. */
static int
peer_script(int fd, enum misbehaviour bad)
{
    struct amk_session *s = NULL;
    struct amk_buf m, *b = amk_buf_new();
    const uint8_t *p;
    size_t len;
    uint32_t id = 0, win = 0, maxpkt = 0, u = 0;
    uint8_t want = 0;
    int r;
    static const uint8_t accept_msg[] = { AMK_MSG_SERVICE_ACCEPT, 0, 0, 0, 12,
        's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h' };
    static const uint8_t success[] = { AMK_MSG_USERAUTH_SUCCESS };

    if (b == NULL || amk_session_new(&s, AMK_SESSION_SERVER) != AMK_OK
        || amk_session_add_host_key(s, host_key) != AMK_OK
        || amk_session_set_timeout(s, INTEROP_WAIT_MS) != AMK_OK
        || amk_session_set_fd(s, fd) != AMK_OK || interop_handshake(s) != AMK_OK
        || expect(s, AMK_MSG_SERVICE_REQUEST, &m) != 0
        || interop_send(s, accept_msg, sizeof(accept_msg)) != AMK_OK
        || expect(s, AMK_MSG_USERAUTH_REQUEST, &m) != 0)
        return PEER_SETUP_FAILED;
    if (bad == BAD_CLOSE_IN_AUTH) {
        close(fd);
        return PEER_CLOSED_EARLY;
    }
    /* RFC 4252 §5.1: any method is good enough here */
    if (interop_send(s, success, sizeof(success)) != AMK_OK
        || expect(s, AMK_MSG_CHANNEL_OPEN, &m) != 0
        || amk_buf_skip_string(&m) != AMK_OK || amk_buf_get_u32(&m, &id) != AMK_OK
        || amk_buf_get_u32(&m, &win) != AMK_OK || amk_buf_get_u32(&m, &maxpkt) != AMK_OK)
        return PEER_SETUP_FAILED;
    /* RFC 4254 §5.1: our channel number 0 */
    if (amk_buf_put_u8(b, AMK_MSG_CHANNEL_OPEN_CONFIRMATION) != AMK_OK
        || amk_buf_put_u32(b, id) != AMK_OK || amk_buf_put_u32(b, 0) != AMK_OK
        || amk_buf_put_u32(b, PEER_WINDOW) != AMK_OK || amk_buf_put_u32(b, PEER_MAXPKT) != AMK_OK
        || send_buf(s, b) != 0 || expect(s, AMK_MSG_CHANNEL_REQUEST, &m) != 0
        || amk_buf_get_u32(&m, &u) != AMK_OK || amk_buf_skip_string(&m) != AMK_OK
        || amk_buf_get_u8(&m, &want) != AMK_OK)
        return PEER_SETUP_FAILED;
    if (want && (amk_buf_put_u8(b, AMK_MSG_CHANNEL_SUCCESS) != AMK_OK
            || amk_buf_put_u32(b, id) != AMK_OK || send_buf(s, b) != 0))
        return PEER_SETUP_FAILED;
    if (misbehave(s, b, bad, id, win, maxpkt) != 0)
        return PEER_SETUP_FAILED;
    /* everything the client still says, until it ends the connection */
    while ((r = interop_recv(s, &p, &len)) == AMK_OK)
        ;
    if (r == AMK_EDISCONNECT && amk_transport_disconnect_reason(amk_session_transport(s))
            == AMK_DISCONNECT_PROTOCOL_ERROR)
        return PEER_GOT_DISCONNECT;
    return PEER_NO_DISCONNECT;
}

/* Forks the hostile peer; it serves one connection on @p lfd. */
static pid_t
spawn_peer(int lfd, enum misbehaviour bad)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (amk_io_wait(lfd, AMK_IO_READ, amk_io_deadline(INTEROP_WAIT_MS), NULL, NULL) != AMK_OK
            || (fd = accept(lfd, NULL, NULL)) < 0)
            _exit(PEER_SETUP_FAILED);
        close(lfd);
        _exit(peer_script(fd, bad));
    }
    return pid;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs the client against a peer misbehaving as @p bad; checks the code,
 * that the message contains @p words, the time, and the peer's verdict.
 */
static void
run_case(enum misbehaviour bad, int code, const char *words, int peer_status)
{
    struct amk_client *c = NULL;
    struct amk_client_channel *ch = NULL;
    uint16_t port;
    int lfd = listener(&port), status = -1, exit_status = 0, r;
    pid_t pid = spawn_peer(lfd, bad);
    int64_t start = now_ms(), took;

    close(lfd);
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_AUTO_ADD));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_timeout(c, CLIENT_TIMEOUT_MS));
    r = amk_client_connect(c, "127.0.0.1", port, "hostile", "password");
    if (r == AMK_OK)
        r = amk_client_exec(c, "true", 0, &ch);
    /* the exit status never comes: the client reads until it fails */
    if (r == AMK_OK)
        r = amk_client_channel_exit_status(ch, &exit_status);
    took = now_ms() - start;
    print_message("    %s (%s) after %lld ms\n", amk_errname(r), amk_client_last_error(c),
        (long long)took);
    assert_int_equal(r, code);
    assert_true(amk_err_is_fatal(r));
    assert_non_null(strstr(amk_client_last_error(c), words));
    assert_true(took < FAIL_WITHIN_MS);
    amk_client_channel_free(ch);
    amk_client_free(c);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), peer_status);
}

static void
test_client_data_for_unknown_channel(void **state)
{
    run_case(BAD_UNKNOWN_CHANNEL, AMK_EPROTO, "CHANNEL_DATA for unknown channel",
        PEER_GOT_DISCONNECT);
}

static void
test_client_truncated_channel_data(void **state)
{
    run_case(BAD_TRUNCATED_DATA, AMK_ETRUNCATED, "malformed CHANNEL_DATA", PEER_GOT_DISCONNECT);
}

static void
test_client_window_adjust_overflow(void **state)
{
    run_case(BAD_WINDOW_OVERFLOW, AMK_EPROTO, "exceeds 2^32-1", PEER_GOT_DISCONNECT);
}

static void
test_client_data_beyond_window(void **state)
{
    run_case(BAD_BEYOND_WINDOW, AMK_EPROTO, "beyond the window", PEER_GOT_DISCONNECT);
}

static void
test_client_peer_closes_during_auth(void **state)
{
    run_case(BAD_CLOSE_IN_AUTH, AMK_ECLOSED, "closed", PEER_CLOSED_EARLY);
}

static int
group_setup(void **state)
{
    return amk_key_generate(AMK_PKEY_ED25519, 0, &host_key) == AMK_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
    amk_key_free(host_key);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_data_for_unknown_channel),
        cmocka_unit_test(test_client_truncated_channel_data),
        cmocka_unit_test(test_client_window_adjust_overflow),
        cmocka_unit_test(test_client_data_beyond_window),
        cmocka_unit_test(test_client_peer_closes_during_auth),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
