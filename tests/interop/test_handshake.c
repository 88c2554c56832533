/*
 * Interop: the session API against a real sshd: every way to give the
 * session its connection (amk_session_connect, _set_fd, _set_io), and the
 * failures a caller must be able to tell apart: nothing listening, a
 * host key the callback refuses, no callback at all, no common algorithm.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "interop_client.h"
#include "io/tcp.h"
#include "io/wait.h"
#include "sshd_fixture.h"

static struct sshd_fixture fx;
static struct interop_hostkeys hk;

/* Starts sshd with defaults unless it is already running. */
static void
need_sshd(void)
{
    if (fx.pid <= 0)
        assert_int_equal(sshd_fixture_start(&fx, NULL), 0);
}

static void
test_handshake_connect_both_modes(void **state)
{
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = NULL;
        const char *alg = NULL;
        const uint8_t *blob = NULL;
        size_t len = 0;
        int r;

        need_sshd();
        ASSERT_OK(interop_session(&s, &fx, &hk, NULL, blocking));
        assert_true(amk_session_get_fd(s) >= 0);
        r = interop_handshake(s);
        if (r != AMK_OK)
            fail_msg("handshake: %s: %s", amk_errname(r), amk_session_last_error(s));
        ASSERT_OK(amk_session_handshake(s));    /* done stays done */
        assert_int_equal(amk_session_block_directions(s), 0);
        assert_non_null(amk_session_peer_version(s));
        assert_int_equal(strncmp(amk_session_peer_version(s), "SSH-2.0-OpenSSH_", 16), 0);
        ASSERT_OK(amk_session_host_key(s, &alg, &blob, &len));
        assert_string_equal(alg, hk.last_alg);
        assert_true(len > 0);
        ASSERT_OK(interop_service_request(s, "ssh-userauth"));
        amk_session_free(s);
    }
}

static void
test_handshake_closed_port_fails_cleanly(void **state)
{
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_session *s = NULL;
        uint16_t port;
        int r;

        /* the fixture's port after sshd stopped: nothing listens there */
        need_sshd();
        port = fx.port;
        sshd_fixture_stop(&fx);
        ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
        ASSERT_OK(amk_session_set_hostkey_callback(s, interop_hostkey_cb, &hk));
        ASSERT_OK(amk_session_set_blocking(s, blocking));
        r = amk_session_connect(s, "127.0.0.1", port);
        if (!blocking && r == AMK_EAGAIN) {
            assert_int_equal(amk_session_block_directions(s), AMK_WAIT_WRITE);
            r = interop_handshake(s);
        }
        ASSERT_AMK(AMK_ECONNECT, r);
        assert_non_null(strstr(amk_session_last_error(s), "127.0.0.1 port"));
        /* a failed session stays failed */
        ASSERT_AMK(AMK_ECONNECT, amk_session_handshake(s));
        amk_session_free(s);
    }
}

/* A handshake whose host-key callback answers @p verdict must fail with @p expected. */
static void
refused_with(int verdict, int expected, int blocking)
{
    struct amk_session *s = NULL;

    need_sshd();
    hk.verdict = verdict;
    ASSERT_OK(interop_session(&s, &fx, &hk, NULL, blocking));
    ASSERT_AMK(expected, interop_handshake(s));
    assert_non_null(strstr(amk_session_last_error(s), "refused"));
    ASSERT_AMK(expected, amk_session_handshake(s));
    hk.verdict = AMK_OK;
    amk_session_free(s);
}

static void
test_handshake_hostkey_rejected(void **state)
{
    refused_with(AMK_EHOSTKEY_REJECTED, AMK_EHOSTKEY_REJECTED, 1);
    refused_with(AMK_EHOSTKEY_REJECTED, AMK_EHOSTKEY_REJECTED, 0);
    /* any other refusal is reported as REJECTED */
    refused_with(AMK_EINVAL, AMK_EHOSTKEY_REJECTED, 1);
    refused_with(1, AMK_EHOSTKEY_REJECTED, 0);
}

static void
test_handshake_hostkey_changed_passed_on(void **state)
{
    refused_with(AMK_EHOSTKEY_CHANGED, AMK_EHOSTKEY_CHANGED, 1);
    refused_with(AMK_EHOSTKEY_REVOKED, AMK_EHOSTKEY_REVOKED, 0);
}

static void
test_handshake_without_hostkey_callback(void **state)
{
    struct amk_session *s = NULL;

    need_sshd();
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_timeout(s, INTEROP_WAIT_MS));
    ASSERT_OK(amk_session_connect(s, "127.0.0.1", fx.port));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_session_handshake(s));
    assert_non_null(strstr(amk_session_last_error(s), "no host-key callback"));
    amk_session_free(s);
}

static void
test_handshake_no_common_cipher(void **state)
{
    struct interop_algs algs = { .cipher = "aes256-gcm@openssh.com" };
    struct amk_session *s = NULL;

    assert_int_equal(sshd_fixture_start(&fx, "Ciphers aes128-ctr"), 0);
    ASSERT_OK(interop_session(&s, &fx, &hk, &algs, 1));
    ASSERT_AMK(AMK_ENOMATCH, amk_session_handshake(s));
    /* the detail names both sides' lists */
    assert_non_null(strstr(amk_session_last_error(s), "aes128-ctr"));
    assert_non_null(strstr(amk_session_last_error(s), "aes256-gcm@openssh.com"));
    amk_session_free(s);
    sshd_fixture_stop(&fx);
}

static void
test_handshake_set_fd_caller_socket(void **state)
{
    struct amk_session *s = NULL;
    int fd = -1;

    need_sshd();
    ASSERT_OK(amk_tcp_connect("127.0.0.1", fx.port, 5000, &fd, NULL));
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_hostkey_callback(s, interop_hostkey_cb, &hk));
    ASSERT_OK(amk_session_set_fd(s, fd));
    ASSERT_AMK(AMK_ESTATE, amk_session_set_fd(s, fd));
    ASSERT_AMK(AMK_ESTATE, amk_session_connect(s, "127.0.0.1", fx.port));
    assert_int_equal(amk_session_get_fd(s), fd);
    ASSERT_OK(amk_session_handshake(s));
    ASSERT_OK(interop_service_request(s, "ssh-userauth"));
    amk_session_free(s);
    /* the caller's descriptor is not closed by the session */
    assert_int_not_equal(fcntl(fd, F_GETFD), -1);
    close(fd);
}

/* Caller-supplied I/O over a socket: what a ProxyCommand pipe or a channel would do. */
struct sock_io {
    int fd;
    int reads, writes;
};

static ssize_t
sock_read(void *user, void *buf, size_t len)
{
    struct sock_io *io = user;
    ssize_t n = recv(io->fd, buf, len, 0);

    io->reads++;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? AMK_EAGAIN : AMK_EIO;
    return n;
}

static ssize_t
sock_write(void *user, const void *buf, size_t len)
{
    struct sock_io *io = user;
    ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);

    io->writes++;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? AMK_EAGAIN : AMK_EIO;
    return n;
}

static void
callbacks_run(int blocking)
{
    struct sock_io io = { -1, 0, 0 };
    struct amk_session *s = NULL;
    int r;

    need_sshd();
    ASSERT_OK(amk_tcp_connect("127.0.0.1", fx.port, 5000, &io.fd, NULL));
    if (blocking)   /* blocking callbacks: recv/send wait */
        assert_int_equal(fcntl(io.fd, F_SETFL, fcntl(io.fd, F_GETFL) & ~O_NONBLOCK), 0);
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_CLIENT));
    ASSERT_OK(amk_session_set_hostkey_callback(s, interop_hostkey_cb, &hk));
    ASSERT_OK(amk_session_set_blocking(s, blocking));
    ASSERT_OK(amk_session_set_io(s, sock_read, sock_write, &io));
    assert_int_equal(amk_session_get_fd(s), -1);
    if (blocking) {
        r = amk_session_handshake(s);
    } else {
        /* the caller polls its own descriptor for the directions the session asks */
        int64_t deadline = amk_io_deadline(INTEROP_WAIT_MS);
        while ((r = amk_session_handshake(s)) == AMK_EAGAIN) {
            int dirs = amk_session_block_directions(s);
            assert_true(dirs != 0);
            ASSERT_OK(amk_io_wait(io.fd, ((dirs & AMK_WAIT_READ) ? AMK_IO_READ : 0) |
                ((dirs & AMK_WAIT_WRITE) ? AMK_IO_WRITE : 0), deadline, NULL, NULL));
        }
    }
    if (r != AMK_OK)
        fail_msg("handshake over callbacks: %s: %s", amk_errname(r), amk_session_last_error(s));
    assert_true(io.reads > 0);
    assert_true(io.writes > 0);
    interop_set_callback_fd(io.fd);
    r = interop_service_request(s, "ssh-userauth");
    interop_set_callback_fd(-1);
    ASSERT_OK(r);
    amk_session_free(s);
    close(io.fd);
}

static void
test_handshake_io_callbacks_blocking(void **state)
{
    callbacks_run(1);
}

static void
test_handshake_io_callbacks_nonblocking(void **state)
{
    callbacks_run(0);
}

static void
test_handshake_disconnect_reaches_sshd(void **state)
{
    struct amk_session *s = NULL;

    need_sshd();
    ASSERT_OK(interop_session(&s, &fx, &hk, NULL, 1));
    ASSERT_OK(amk_session_handshake(s));
    ASSERT_OK(amk_session_disconnect(s, "amiko says goodbye"));
    amk_session_free(s);
    /* sshd logs the reason it received (bounded wait for its log line) */
    int64_t deadline = amk_io_deadline(5000);
    while (!sshd_fixture_log_count(&fx, "amiko says goodbye", NULL) &&
        amk_io_remaining_ms(deadline) > 0)
        usleep(20000);
    if (!sshd_fixture_log_count(&fx, "amiko says goodbye", NULL)) {
        sshd_fixture_dump_log(&fx, 2000);
        fail_msg("sshd did not log the DISCONNECT");
    }
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
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_connect_both_modes),
        cmocka_unit_test(test_handshake_closed_port_fails_cleanly),
        cmocka_unit_test(test_handshake_hostkey_rejected),
        cmocka_unit_test(test_handshake_hostkey_changed_passed_on),
        cmocka_unit_test(test_handshake_without_hostkey_callback),
        cmocka_unit_test(test_handshake_no_common_cipher),
        cmocka_unit_test(test_handshake_set_fd_caller_socket),
        cmocka_unit_test(test_handshake_io_callbacks_blocking),
        cmocka_unit_test(test_handshake_io_callbacks_nonblocking),
        cmocka_unit_test(test_handshake_disconnect_reaches_sshd),
    };
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
