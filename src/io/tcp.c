/* see io/tcp.h */
#include "io/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/wait.h"

/* Room for "[<IPv6 text>]:<port>". */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 16)

/* "127.0.0.1 port 22" or "::1 port 22", for error details. */
static void
addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    uint16_t port = 0;
    const void *a = NULL;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        a = &in->sin_addr;
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        a = &in6->sin6_addr;
        port = ntohs(in6->sin6_port);
    }
    if (a == NULL || inet_ntop(sa->sa_family, a, host, sizeof(host)) == NULL)
        snprintf(host, sizeof(host), "?");
    snprintf(out, cap, "%s port %u", host, (unsigned)port);
}

int
amk_tcp_set_nodelay(int fd, struct amk_error *err)
{
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        return amk_error_set(err, AMK_EIO, "setsockopt TCP_NODELAY: %s", strerror(errno));
    return AMK_OK;
}

/*
 * One address: a non-blocking connect, then wait for writability until
 * @p deadline and read the outcome from SO_ERROR. On AMK_OK *@p fdp holds
 * the socket; otherwise it is closed and @p err says why.
 */
static int
connect_one(const struct addrinfo *ai, int64_t deadline, int *fdp, struct amk_error *err)
{
    char where[ADDR_TEXT_MAX];
    int fd = -1, soerr = 0, r = AMK_EINTERNAL;
    socklen_t len = sizeof(soerr);

    *fdp = -1;
    addr_text(ai->ai_addr, where, sizeof(where));
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        r = amk_error_set(err, AMK_ECONNECT, "socket for %s: %s", where, strerror(errno));
        goto out;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            r = amk_error_set(err, AMK_ECONNECT, "connect to %s: %s", where, strerror(errno));
            goto out;
        }
        if ((r = amk_io_wait(fd, AMK_IO_WRITE, deadline, NULL, err)) != AMK_OK) {
            if (r == AMK_ETIMEOUT)
                amk_error_set(err, r, "connect to %s: timed out", where);
            goto out;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr != 0) {
            r = amk_error_set(err, AMK_ECONNECT, "connect to %s: %s", where, strerror(soerr));
            goto out;
        }
    }
    /* RFC 4253 §7 (KEX) and interactive use are latency-bound: no Nagle. */
    if ((r = amk_tcp_set_nodelay(fd, err)) != AMK_OK)
        goto out;
    *fdp = fd;
    fd = -1;
    r = AMK_OK;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

int
amk_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fdp,
    struct amk_error *err)
{
    struct addrinfo hints, *res = NULL;
    char service[8];
    int64_t deadline = amk_io_deadline(timeout_ms);
    int gai, tried = 0, r = AMK_EINTERNAL;

    if (fdp != NULL)
        *fdp = -1;
    if (fdp == NULL || host == NULL || host[0] == '\0' || port == 0)
        return amk_error_set(err, AMK_EINVAL, "connect: host and a non-zero port are required");
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    /* getaddrinfo has no timeout of its own; the deadline starts after it. */
    gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        r = amk_error_set(err, AMK_ERESOLVE, "resolve %s: %s", host,
            gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        goto out;
    }
    r = amk_error_set(err, AMK_ERESOLVE, "resolve %s: no usable address", host);
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        tried++;
        r = connect_one(ai, deadline, fdp, err);
        if (r == AMK_OK || r == AMK_ETIMEOUT)
            break;
    }
    if (r != AMK_OK && tried > 1 && err != NULL) {
        char detail[AMK_ERROR_MSG_MAX];
        snprintf(detail, sizeof(detail), "%s", err->msg);
        amk_error_set(err, r, "%s (last of %d addresses of %s)", detail, tried, host);
    }
out:
    if (res != NULL)
        freeaddrinfo(res);
    return r;
}
