/*
 * TCP connections for the io layer: resolve a host name, try each of its
 * addresses (IPv6 and IPv4, in getaddrinfo's order) with a non-blocking
 * connect bounded by one overall deadline, and hand back a connected,
 * non-blocking socket with TCP_NODELAY set.
 */
#ifndef AMK_IO_TCP_H
#define AMK_IO_TCP_H

#include <stdint.h>

#include "util/err.h"

/*
 * Connects to @p host (a name or a numeric IPv4/IPv6 address) on @p port.
 * @p timeout_ms bounds resolution-to-connected for all addresses together;
 * negative means no limit. On success *@p fdp is a connected socket in
 * non-blocking mode with close-on-exec and TCP_NODELAY; the caller owns it.
 * On failure *@p fdp is -1 and @p err (may be NULL) names the address that
 * failed last and the system's reason.
 * Returns AMK_OK, AMK_EINVAL (NULL or empty host, port 0), AMK_ERESOLVE
 * (no address for @p host), AMK_ECONNECT (every address refused or was
 * unreachable) or AMK_ETIMEOUT (the deadline passed while connecting).
 */
int amk_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fdp,
    struct amk_error *err);

/* Sets TCP_NODELAY on @p fd; AMK_OK or AMK_EIO. A non-TCP fd is AMK_EIO. */
int amk_tcp_set_nodelay(int fd, struct amk_error *err);

#endif
