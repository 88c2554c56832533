/*
 * TCP connections for the io layer: resolve a host name, try each of its
 * addresses (IPv6 and IPv4, in getaddrinfo's order) with a non-blocking
 * connect, and hand back a connected, non-blocking socket with
 * TCP_NODELAY and close-on-exec set.
 *
 * Two forms: amk_tcp_connect() blocks until connected or a deadline passes;
 * amk_tcp_connect_start() / amk_tcp_connect_step() never wait (except in
 * getaddrinfo, which has no non-blocking form), for event loops.
 */
#ifndef AMK_IO_TCP_H
#define AMK_IO_TCP_H

#include <stdint.h>

#include "util/err.h"

/* A connection attempt in progress over the addresses of one host. */
struct amk_tcp_connecting;

/*
 * Resolves @p host (a name or numeric IPv4/IPv6 address) and starts
 * connecting to its first address on @p port.
 * Returns AMK_OK with *@p out to continue with amk_tcp_connect_step();
 * AMK_EINVAL (NULL or empty host, port 0); AMK_ERESOLVE (no address);
 * AMK_ENOMEM. On failure *@p out is NULL and @p err (may be NULL) says why.
 */
int amk_tcp_connect_start(struct amk_tcp_connecting **out, const char *host, uint16_t port,
    struct amk_error *err) __attribute__((warn_unused_result));

/*
 * Advances the attempt without waiting. Returns AMK_OK with *@p fdp the
 * connected socket (ownership passes to the caller); AMK_EAGAIN when the
 * current address is still connecting (wait until amk_tcp_connecting_fd()
 * is writable, then call again); AMK_ECONNECT when every address failed,
 * with the last address and the system's reason in @p err.
 */
int amk_tcp_connect_step(struct amk_tcp_connecting *c, int *fdp, struct amk_error *err)
    __attribute__((warn_unused_result));

/* The descriptor of the address being tried (wait for writability), or -1. */
int amk_tcp_connecting_fd(const struct amk_tcp_connecting *c);

/* "127.0.0.1 port 22": the address being tried, for messages. */
const char *amk_tcp_connecting_addr(const struct amk_tcp_connecting *c);

/* Abandons the attempt and closes its socket. NULL is fine. */
void amk_tcp_connecting_free(struct amk_tcp_connecting *c);

/*
 * Connects to @p host on @p port, waiting at most @p timeout_ms for
 * everything after name resolution (all addresses together; negative: no
 * limit). On success *@p fdp is the connected socket; the caller owns it.
 * On failure *@p fdp is -1 and @p err (may be NULL) names the address that
 * failed last and the system's reason.
 * Returns AMK_OK, AMK_EINVAL, AMK_ERESOLVE, AMK_ECONNECT (every address
 * refused or was unreachable) or AMK_ETIMEOUT (the deadline passed while
 * connecting), or AMK_ENOMEM.
 */
int amk_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fdp,
    struct amk_error *err) __attribute__((warn_unused_result));

/* Sets TCP_NODELAY on @p fd; AMK_OK or AMK_EIO. A non-TCP fd is AMK_EIO. */
int amk_tcp_set_nodelay(int fd, struct amk_error *err) __attribute__((warn_unused_result));

#endif
