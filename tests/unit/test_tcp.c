/*
 * Unit tests for src/io/tcp.c, against listeners the tests make on the
 * loopback interface. Nothing here contacts a non-loopback address: the
 * resolver failure uses a name whose 100-byte label no DNS query can carry,
 * so glibc rejects it before sending anything.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/tcp.h"
#include "io/wait.h"

/* A listening socket on @p family's loopback address; its port in *port. -1 if unavailable. */
static int
listen_loopback(int family, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
        ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* A loopback port where nothing listens: bound, then closed. */
static uint16_t
closed_port(void)
{
    uint16_t port = 0;
    int fd = listen_loopback(AF_INET, 1, &port);

    assert_true(fd >= 0);
    close(fd);
    return port;
}

/* Checks that @p fd is a connected, non-blocking TCP socket with TCP_NODELAY, accepted by @p lfd. */
static void
assert_connected(int fd, int lfd)
{
    int nodelay = 0, afd;
    socklen_t len = sizeof(nodelay);

    assert_true(fd >= 0);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    assert_int_not_equal(nodelay, 0);
    assert_true((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    assert_int_equal(write(afd, "x", 1), 1);
    ASSERT_OK(amk_io_wait(fd, AMK_IO_READ, amk_io_deadline(5000), NULL, NULL));
    char c = 0;
    assert_int_equal(read(fd, &c, 1), 1);
    assert_int_equal(c, 'x');
    close(afd);
}

static void
test_amk_tcp_connect_ipv4_loopback(void **state)
{
    struct amk_error err;
    uint16_t port = 0;
    int lfd = listen_loopback(AF_INET, 4, &port), fd = -1;

    assert_true(lfd >= 0);
    amk_error_clear(&err);
    ASSERT_OK(amk_tcp_connect("127.0.0.1", port, 5000, &fd, &err));
    assert_connected(fd, lfd);
    close(fd);
    close(lfd);
}

static void
test_amk_tcp_connect_ipv6_loopback(void **state)
{
    struct amk_error err;
    uint16_t port = 0;
    int lfd = listen_loopback(AF_INET6, 4, &port), fd = -1;

    if (lfd < 0)
        skip();     /* no IPv6 on this host */
    amk_error_clear(&err);
    ASSERT_OK(amk_tcp_connect("::1", port, 5000, &fd, &err));
    assert_connected(fd, lfd);
    close(fd);
    close(lfd);
}

static void
test_amk_tcp_connect_name_localhost(void **state)
{
    struct amk_error err;
    uint16_t port = 0;
    int lfd = listen_loopback(AF_INET, 4, &port), fd = -1;

    assert_true(lfd >= 0);
    amk_error_clear(&err);
    /* localhost may resolve to ::1 first, which refuses: the next address is tried. */
    ASSERT_OK(amk_tcp_connect("localhost", port, 5000, &fd, &err));
    assert_connected(fd, lfd);
    close(fd);
    close(lfd);
}

static void
test_amk_tcp_connect_refused_names_address(void **state)
{
    struct amk_error err;
    char want[64];
    uint16_t port = closed_port();
    int fd = 1234;

    amk_error_clear(&err);
    ASSERT_AMK(AMK_ECONNECT, amk_tcp_connect("127.0.0.1", port, 5000, &fd, &err));
    assert_int_equal(fd, -1);
    assert_int_equal(err.code, AMK_ECONNECT);
    snprintf(want, sizeof(want), "127.0.0.1 port %u", (unsigned)port);
    assert_non_null(strstr(amk_error_msg(&err), want));
    assert_non_null(strstr(amk_error_msg(&err), strerror(ECONNREFUSED)));
}

static void
test_amk_tcp_connect_refused_ipv6(void **state)
{
    struct amk_error err;
    uint16_t port = 0;
    int lfd = listen_loopback(AF_INET6, 1, &port), fd = -1;

    if (lfd < 0)
        skip();
    close(lfd);
    amk_error_clear(&err);
    ASSERT_AMK(AMK_ECONNECT, amk_tcp_connect("::1", port, 5000, &fd, &err));
    assert_non_null(strstr(amk_error_msg(&err), "::1 port"));
}

static void
test_amk_tcp_connect_timeout_full_backlog(void **state)
{
    struct amk_error err;
    uint16_t port = 0;
    int lfd = listen_loopback(AF_INET, 0, &port), fd = -1, fillers[16], nfill = 0;
    int64_t t0, elapsed;

    assert_true(lfd >= 0);
    /*
     * Fill the accept queue without accepting: once it is full the kernel
     * drops further SYNs, so the next connect stays pending on loopback.
     */
    for (nfill = 0; nfill < 16; nfill++) {
        struct sockaddr_in in;
        int ready = 0, r;

        memset(&in, 0, sizeof(in));
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in.sin_port = htons(port);
        fillers[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(fillers[nfill] >= 0);
        if (connect(fillers[nfill], (struct sockaddr *)&in, sizeof(in)) != 0)
            assert_int_equal(errno, EINPROGRESS);
        r = amk_io_wait(fillers[nfill], AMK_IO_WRITE, amk_io_deadline(300), &ready, NULL);
        if (r == AMK_ETIMEOUT) {
            nfill++;
            break;
        }
    }
    if (nfill == 16)
        skip();     /* this kernel never drops SYNs to a full queue */
    amk_error_clear(&err);
    t0 = amk_io_now_ms();
    ASSERT_AMK(AMK_ETIMEOUT, amk_tcp_connect("127.0.0.1", port, 400, &fd, &err));
    elapsed = amk_io_now_ms() - t0;
    assert_true(elapsed >= 350);
    assert_true(elapsed < 3000);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(amk_error_msg(&err), "timed out"));
    assert_non_null(strstr(amk_error_msg(&err), "127.0.0.1 port"));
    for (int i = 0; i < nfill; i++)
        close(fillers[i]);
    close(lfd);
}

static void
test_amk_tcp_connect_unresolvable(void **state)
{
    struct amk_error err;
    char name[128];
    int fd = 7;

    /* A 100-byte label exceeds DNS's 63-byte limit: rejected locally, no query is sent. */
    memset(name, 'a', 100);
    snprintf(name + 100, sizeof(name) - 100, ".invalid");
    amk_error_clear(&err);
    ASSERT_AMK(AMK_ERESOLVE, amk_tcp_connect(name, 22, 5000, &fd, &err));
    assert_int_equal(fd, -1);
    assert_non_null(strstr(amk_error_msg(&err), "resolve aaaa"));
}

static void
test_amk_tcp_connect_bad_arguments(void **state)
{
    struct amk_error err;
    int fd = 7;

    amk_error_clear(&err);
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect(NULL, 22, 1000, &fd, &err));
    assert_int_equal(fd, -1);
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect("", 22, 1000, &fd, &err));
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect("127.0.0.1", 0, 1000, &fd, &err));
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect("127.0.0.1", 22, 1000, NULL, &err));
    /* err may be NULL */
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect("127.0.0.1", 0, 1000, &fd, NULL));
}

static void
test_amk_tcp_connect_step_nonblocking(void **state)
{
    struct amk_tcp_connecting *c = NULL;
    struct amk_error err;
    uint16_t port = 0;
    int lfd = listen_loopback(AF_INET, 4, &port), fd = -1, r, steps = 0;

    assert_true(lfd >= 0);
    amk_error_clear(&err);
    ASSERT_OK(amk_tcp_connect_start(&c, "127.0.0.1", port, &err));
    assert_non_null(c);
    assert_true(amk_tcp_connecting_fd(c) >= 0);
    assert_non_null(strstr(amk_tcp_connecting_addr(c), "127.0.0.1 port"));
    while ((r = amk_tcp_connect_step(c, &fd, &err)) == AMK_EAGAIN) {
        ASSERT_OK(amk_io_wait(amk_tcp_connecting_fd(c), AMK_IO_WRITE, amk_io_deadline(5000),
            NULL, NULL));
        assert_true(++steps < 100);
    }
    ASSERT_OK(r);
    assert_int_equal(amk_tcp_connecting_fd(c), -1);   /* ownership moved to fd */
    amk_tcp_connecting_free(c);
    assert_connected(fd, lfd);
    close(fd);
    close(lfd);
}

static void
test_amk_tcp_connect_step_refused(void **state)
{
    struct amk_tcp_connecting *c = NULL;
    struct amk_error err;
    uint16_t port = closed_port();
    int fd = 5, r, steps = 0;

    amk_error_clear(&err);
    ASSERT_OK(amk_tcp_connect_start(&c, "127.0.0.1", port, &err));
    while ((r = amk_tcp_connect_step(c, &fd, &err)) == AMK_EAGAIN) {
        ASSERT_OK(amk_io_wait(amk_tcp_connecting_fd(c), AMK_IO_WRITE, amk_io_deadline(5000),
            NULL, NULL));
        assert_true(++steps < 100);
    }
    ASSERT_AMK(AMK_ECONNECT, r);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(amk_error_msg(&err), strerror(ECONNREFUSED)));
    /* a finished attempt stays failed */
    ASSERT_AMK(AMK_ECONNECT, amk_tcp_connect_step(c, &fd, &err));
    amk_tcp_connecting_free(c);
    amk_tcp_connecting_free(NULL);
}

static void
test_amk_tcp_connect_start_bad_arguments(void **state)
{
    struct amk_tcp_connecting *c = (struct amk_tcp_connecting *)&c;
    int fd;

    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect_start(&c, NULL, 22, NULL));
    assert_null(c);
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect_start(NULL, "127.0.0.1", 22, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_tcp_connect_step(NULL, &fd, NULL));
    assert_int_equal(amk_tcp_connecting_fd(NULL), -1);
}

static void
test_amk_tcp_set_nodelay_not_tcp(void **state)
{
    struct amk_error err;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    amk_error_clear(&err);
    ASSERT_AMK(AMK_EIO, amk_tcp_set_nodelay(sv[0], &err));
    assert_non_null(strstr(amk_error_msg(&err), "TCP_NODELAY"));
    close(sv[0]);
    close(sv[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_tcp_connect_ipv4_loopback),
        cmocka_unit_test(test_amk_tcp_connect_ipv6_loopback),
        cmocka_unit_test(test_amk_tcp_connect_name_localhost),
        cmocka_unit_test(test_amk_tcp_connect_refused_names_address),
        cmocka_unit_test(test_amk_tcp_connect_refused_ipv6),
        cmocka_unit_test(test_amk_tcp_connect_timeout_full_backlog),
        cmocka_unit_test(test_amk_tcp_connect_unresolvable),
        cmocka_unit_test(test_amk_tcp_connect_bad_arguments),
        cmocka_unit_test(test_amk_tcp_connect_step_nonblocking),
        cmocka_unit_test(test_amk_tcp_connect_step_refused),
        cmocka_unit_test(test_amk_tcp_connect_start_bad_arguments),
        cmocka_unit_test(test_amk_tcp_set_nodelay_not_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
