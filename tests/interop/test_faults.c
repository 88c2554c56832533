/*
 * Interop: amiko to sshd through tests/tools/faultproxy, which damages the
 * stream on loopback: split into 1-byte writes (every partial read and
 * write path of the pump), a flipped bit after the handshake (AMK_EMAC and
 * a DISCONNECT sshd logs), a stalled stream (AMK_ETIMEOUT in both modes),
 * a truncated stream and a reset connection (AMK_ECLOSED).
 * argv[1] is the path of the built faultproxy.
 *
 * sshd is pinned to curve25519-sha256, ssh-ed25519 and
 * chacha20-poly1305@openssh.com, so every connection's handshake has the
 * same length; a run through a counting read callback measures it, which
 * places the corrupted byte in sshd's first encrypted packet.
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faultproxy_run.h"
#include "interop_client.h"
#include "io/tcp.h"
#include "io/wait.h"
#include "sshd_fixture.h"

#define PINNED "KexAlgorithms curve25519-sha256\nHostKeyAlgorithms ssh-ed25519\n" \
    "Ciphers chacha20-poly1305@openssh.com"

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static const char *proxy_path;
static struct faultproxy proxy = { -1, 0 };
static uint16_t proxy_port;

static void
proxy_stop(void)
{
    faultproxy_stop(&proxy);
}

/* Starts faultproxy in front of sshd with the fault arguments @p faults (NULL-terminated). */
static void
proxy_start(const char *const *faults)
{
    faultproxy_start(&proxy, proxy_path, &fx, fx.port, 60, faults);
    proxy_port = proxy.port;
}

/* A client session to the proxy with the pinned algorithms. */
static struct amk_session *
proxy_session(int blocking, int timeout_ms)
{
    struct amk_session *s = NULL;
    int r;

    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_hostkey_callback(s, interop_hostkey_cb, &hk));
    ASSERT_OK(amk_session_set_timeout(s, timeout_ms));
    ASSERT_OK(amk_session_set_blocking(s, blocking));
    r = amk_session_connect(s, "127.0.0.1", proxy_port);
    if (r != AMK_EAGAIN)
        ASSERT_OK(r);
    return s;
}

static void
test_faults_split_into_single_bytes(void **state)
{
    static const char *const faults[] = { "--c2s", "--split", "1", "--s2c", "--split", "1",
        NULL };

    assert_int_equal(sshd_fixture_start(&fx, NULL), 0);
    proxy_start(faults);
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = proxy_session(blocking, INTEROP_WAIT_MS);
        int r = interop_handshake(s);
        if (r != AMK_OK)
            fail_msg("handshake over 1-byte writes: %s: %s", amk_errname(r),
                amk_session_last_error(s));
        ASSERT_OK(interop_service_request(s, "ssh-userauth"));
        amk_session_free(s);
    }
    proxy_stop();
    sshd_fixture_stop(&fx);
}

/* Counts what a session reads, to measure the handshake's length on the wire. */
struct counting_io {
    int fd;
    size_t in;
};

static ssize_t
count_read(void *user, void *buf, size_t len)
{
    struct counting_io *c = user;
    ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);

    if (n < 0)
        return errno == EAGAIN ? AMK_EAGAIN : AMK_EIO;
    c->in += (size_t)n;
    return n;
}

static ssize_t
count_write(void *user, const void *buf, size_t len)
{
    struct counting_io *c = user;
    ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n < 0)
        return errno == EAGAIN ? AMK_EAGAIN : AMK_EIO;
    return n;
}

/* Bytes sshd sends up to the end of the handshake, read one byte at a time. */
static size_t
handshake_length(void)
{
    static const char *const faults[] = { "--s2c", "--split", "1", NULL };
    struct counting_io c = { -1, 0 };
    struct amk_session *s = NULL;
    int r;

    proxy_start(faults);
    ASSERT_OK(amk_tcp_connect("127.0.0.1", proxy_port, 5000, &c.fd, NULL));
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_hostkey_callback(s, interop_hostkey_cb, &hk));
    ASSERT_OK(amk_session_set_blocking(s, 0));
    ASSERT_OK(amk_session_set_io(s, count_read, count_write, &c));
    interop_set_callback_fd(c.fd);
    r = interop_handshake(s);
    interop_set_callback_fd(-1);
    ASSERT_OK(r);
    amk_session_free(s);
    close(c.fd);
    proxy_stop();
    return c.in;
}

static void
test_faults_corrupted_byte_after_handshake(void **state)
{
    char at[32];
    const char *faults[] = { "--s2c", "--corrupt-at", at, NULL };
    size_t hs;

    assert_int_equal(sshd_fixture_start(&fx, PINNED), 0);
    hs = handshake_length();
    assert_true(hs > 500);
    /* inside the first encrypted packet after the handshake (EXT_INFO or SERVICE_ACCEPT) */
    snprintf(at, sizeof(at), "%zu", hs + 8);
    proxy_start(faults);
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = proxy_session(blocking, INTEROP_WAIT_MS);
        int r;

        /* sshd's EXT_INFO may follow NEWKEYS in the same read: then the
         * handshake call itself meets the damaged packet */
        r = interop_handshake(s);
        if (r == AMK_OK)
            r = interop_service_request(s, "ssh-userauth");
        ASSERT_AMK(AMK_EMAC, r);
        assert_non_null(strstr(amk_session_last_error(s), "authentication code"));
        amk_session_free(s);
    }
    proxy_stop();
    /* amiko told sshd why (RFC 4253 §11.1 SSH_DISCONNECT_MAC_ERROR) */
    int64_t deadline = amk_io_deadline(5000);
    while (!sshd_fixture_log_count(&fx, "Received disconnect", NULL) &&
        amk_io_remaining_ms(deadline) > 0)
        usleep(20000);
    if (!sshd_fixture_log_count(&fx, "Received disconnect", NULL)) {
        sshd_fixture_dump_log(&fx, 2000);
        fail_msg("sshd did not receive amiko's DISCONNECT");
    }
    sshd_fixture_stop(&fx);
}

static void
test_faults_stalled_stream_times_out(void **state)
{
    static const char *const faults[] = { "--s2c", "--stall-at", "300", NULL };

    assert_int_equal(sshd_fixture_start(&fx, PINNED), 0);
    proxy_start(faults);
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = proxy_session(blocking, 400);
        int64_t t0 = amk_io_now_ms();

        ASSERT_AMK(AMK_ETIMEOUT, interop_handshake(s));
        assert_true(amk_io_now_ms() - t0 < 5000);
        /* the pump's or the engine's handshake deadline, whichever saw it first */
        assert_non_null(strstr(amk_session_last_error(s), "after 400 ms"));
        amk_session_free(s);
    }
    proxy_stop();
    sshd_fixture_stop(&fx);
}

static void
test_faults_truncated_stream_is_closed(void **state)
{
    static const char *const faults[] = { "--s2c", "--truncate-at", "200", NULL };

    assert_int_equal(sshd_fixture_start(&fx, PINNED), 0);
    proxy_start(faults);
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = proxy_session(blocking, INTEROP_WAIT_MS);

        ASSERT_AMK(AMK_ECLOSED, interop_handshake(s));
        amk_session_free(s);
    }
    proxy_stop();
    sshd_fixture_stop(&fx);
}

static void
test_faults_reset_connection_is_closed(void **state)
{
    static const char *const faults[] = { "--c2s", "--reset-at", "100", NULL };

    assert_int_equal(sshd_fixture_start(&fx, PINNED), 0);
    proxy_start(faults);
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = proxy_session(blocking, INTEROP_WAIT_MS);

        ASSERT_AMK(AMK_ECLOSED, interop_handshake(s));
        assert_non_null(strstr(amk_session_last_error(s), "closed"));
        amk_session_free(s);
    }
    proxy_stop();
    sshd_fixture_stop(&fx);
}

static int
group_setup(void **state)
{
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    proxy_stop();
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_split_into_single_bytes),
        cmocka_unit_test(test_faults_corrupted_byte_after_handshake),
        cmocka_unit_test(test_faults_stalled_stream_times_out),
        cmocka_unit_test(test_faults_truncated_stream_is_closed),
        cmocka_unit_test(test_faults_reset_connection_is_closed),
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s path-to-faultproxy\n", argv[0]);
        return 2;
    }
    proxy_path = argv[1];
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
