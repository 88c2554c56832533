/* see io/tcp.h */
#include "io/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/wait.h"

/* Room for "<IPv6 text> port <port>". */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 16)
#define HOST_TEXT_MAX 256

struct amk_tcp_connecting {
    struct addrinfo *res;           /* every address of the host */
    const struct addrinfo *next;    /* the next one to try */
    int fd;                         /* the socket connecting now, or -1 */
    int tried;                      /* addresses tried so far */
    char host[HOST_TEXT_MAX];
    char where[ADDR_TEXT_MAX];      /* the address behind fd */
};

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

void
amk_tcp_connecting_free(struct amk_tcp_connecting *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->res != NULL)
        freeaddrinfo(c->res);
    free(c);
}

int
amk_tcp_connecting_fd(const struct amk_tcp_connecting *c)
{
    return c != NULL ? c->fd : -1;
}

const char *
amk_tcp_connecting_addr(const struct amk_tcp_connecting *c)
{
    return c != NULL ? c->where : "";
}

/* Records a failure of the current address, naming it (and how many were tried). */
static int
fail_address(struct amk_tcp_connecting *c, int code, const char *what, int errnum,
    struct amk_error *err)
{
    if (c->tried > 1)
        return amk_error_set(err, code, "%s %s: %s (last of %d addresses of %s)", what,
            c->where, strerror(errnum), c->tried, c->host);
    return amk_error_set(err, code, "%s %s: %s", what, c->where, strerror(errnum));
}

/*
 * Starts connecting to the next IPv4/IPv6 address. AMK_OK when a connect
 * is in progress or done (c->fd set), AMK_ECONNECT when none is left.
 */
static int
start_next(struct amk_tcp_connecting *c, struct amk_error *err)
{
    int r = AMK_ECONNECT;

    while (c->next != NULL) {
        const struct addrinfo *ai = c->next;

        c->next = ai->ai_next;
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        c->tried++;
        addr_text(ai->ai_addr, c->where, sizeof(c->where));
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
            ai->ai_protocol);
        if (c->fd < 0) {
            r = fail_address(c, AMK_ECONNECT, "socket for", errno, err);
            continue;
        }
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS ||
            errno == EINTR)
            return AMK_OK;
        r = fail_address(c, AMK_ECONNECT, "connect to", errno, err);
        close(c->fd);
        c->fd = -1;
    }
    if (c->tried == 0)
        r = amk_error_set(err, AMK_ERESOLVE, "resolve %s: no IPv4 or IPv6 address", c->host);
    return r;
}

int
amk_tcp_connect_start(struct amk_tcp_connecting **out, const char *host, uint16_t port,
    struct amk_error *err)
{
    struct amk_tcp_connecting *c = NULL;
    struct addrinfo hints;
    char service[8];
    int gai, r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || host == NULL || host[0] == '\0' || port == 0)
        return amk_error_set(err, AMK_EINVAL, "connect: host and a non-zero port are required");
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return amk_error_set(err, AMK_ENOMEM, NULL);
    c->fd = -1;
    snprintf(c->host, sizeof(c->host), "%s", host);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    gai = getaddrinfo(host, service, &hints, &c->res);
    if (gai != 0) {
        c->res = NULL;
        r = amk_error_set(err, AMK_ERESOLVE, "resolve %s: %s", c->host,
            gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        goto out;
    }
    c->next = c->res;
    if ((r = start_next(c, err)) != AMK_OK)
        goto out;
    *out = c;
    c = NULL;
    r = AMK_OK;
out:
    amk_tcp_connecting_free(c);
    return r;
}

int
amk_tcp_connect_step(struct amk_tcp_connecting *c, int *fdp, struct amk_error *err)
{
    int ready = 0, soerr, r = AMK_EINTERNAL;
    socklen_t len;

    if (fdp != NULL)
        *fdp = -1;
    if (c == NULL || fdp == NULL)
        return amk_error_set(err, AMK_EINVAL, "connect: no attempt in progress");
    while (c->fd >= 0) {
        r = amk_io_wait(c->fd, AMK_IO_WRITE, 0, &ready, err);     /* deadline 0: just look */
        if (r == AMK_ETIMEOUT)
            return AMK_EAGAIN;
        if (r != AMK_OK)
            return r;
        soerr = 0;
        len = sizeof(soerr);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr == 0) {
            /* Interactive sessions and KEX round trips are latency-bound: no Nagle. */
            if ((r = amk_tcp_set_nodelay(c->fd, err)) != AMK_OK)
                return r;
            *fdp = c->fd;
            c->fd = -1;
            return AMK_OK;
        }
        r = fail_address(c, AMK_ECONNECT, "connect to", soerr, err);
        close(c->fd);
        c->fd = -1;
        if (c->next == NULL)
            return r;
        if ((r = start_next(c, err)) != AMK_OK)
            return r;
    }
    return amk_error_set(err, AMK_ECONNECT, "connect to %s: no address left", c->host);
}

int
amk_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fdp,
    struct amk_error *err)
{
    struct amk_tcp_connecting *c = NULL;
    int64_t deadline;
    int r = AMK_EINTERNAL;

    if (fdp != NULL)
        *fdp = -1;
    if (fdp == NULL)
        return amk_error_set(err, AMK_EINVAL, "connect: no place for the descriptor");
    /* getaddrinfo has no timeout of its own; the deadline starts after it. */
    if ((r = amk_tcp_connect_start(&c, host, port, err)) != AMK_OK)
        goto out;
    deadline = amk_io_deadline(timeout_ms);
    while ((r = amk_tcp_connect_step(c, fdp, err)) == AMK_EAGAIN) {
        r = amk_io_wait(amk_tcp_connecting_fd(c), AMK_IO_WRITE, deadline, NULL, err);
        if (r == AMK_ETIMEOUT) {
            r = amk_error_set(err, AMK_ETIMEOUT, "connect to %s: timed out after %d ms",
                amk_tcp_connecting_addr(c), timeout_ms);
            goto out;
        }
        if (r != AMK_OK)
            goto out;
    }
out:
    amk_tcp_connecting_free(c);
    return r;
}
