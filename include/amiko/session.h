/**
 * @file amiko/session.h
 * @brief An SSH connection: the transport (version exchange, key exchange,
 * encryption, rekeying) driven over a socket or caller-supplied I/O.
 *
 * A session owns a sans-I/O transport engine and pumps bytes between it
 * and the network. Every call that can wait works in two modes on the same
 * object:
 *
 * - **blocking** (the default): the call returns when it is done, or with
 *   AMK_ETIMEOUT once the session's timeout (amk_session_set_timeout())
 *   has passed;
 * - **non-blocking** (amk_session_set_blocking(s, 0)): the call never
 *   waits. When it cannot finish it returns AMK_EAGAIN; the caller then
 *   asks amk_session_block_directions() whether the session waits to read
 *   (AMK_WAIT_READ), to write (AMK_WAIT_WRITE) or both, polls
 *   amk_session_get_fd() for that (at most amk_session_next_timeout() ms),
 *   and calls the same function again with the same arguments.
 *
 * The transport runs over one of:
 * - a TCP connection the session makes (amk_session_connect());
 * - a connected socket of the caller (amk_session_set_fd());
 * - read/write callbacks of the caller (amk_session_set_io()), e.g. a
 *   ProxyCommand's pipes, a channel of a jump host, an in-memory pipe.
 *
 * A client MUST check the server's host key: set a callback with
 * amk_session_set_hostkey_callback(). Without one, amk_session_handshake()
 * fails with AMK_EHOSTKEY_UNKNOWN.
 *
 * Errors: every function returns AMK_OK or a negative AMK_E... code. A
 * fatal code (amk_err_is_fatal()) leaves the session failed: later calls
 * return the same code. amk_session_last_error() gives the detail.
 *
 * A session is used by one thread at a time.
 *
 * @code
 * struct amk_session *s = NULL;
 * int r = amk_session_new(&s, AMK_SESSION_CLIENT);
 * if (r == AMK_OK) r = amk_session_set_hostkey_callback(s, check_key, &known);
 * if (r == AMK_OK) r = amk_session_connect(s, "example.org", 22);
 * if (r == AMK_OK) r = amk_session_handshake(s);
 * if (r != AMK_OK) fprintf(stderr, "%s\n", amk_session_last_error(s));
 * amk_session_free(s);
 * @endcode
 */
#ifndef AMIKO_SESSION_H
#define AMIKO_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An SSH connection (opaque). */
struct amk_session;

/** A key (opaque; see the keys API). */
struct amk_key;

/** Which side of the connection a session plays. */
enum amk_session_role {
    AMK_SESSION_CLIENT = 1,
    AMK_SESSION_SERVER = 2
};

/** Direction bits of amk_session_block_directions(). */
#define AMK_WAIT_READ 1
#define AMK_WAIT_WRITE 2

/** The default timeout of blocking calls, in milliseconds. */
#define AMK_SESSION_TIMEOUT_DEFAULT 30000

/** Algorithm kinds for amk_session_set_algorithms() and amk_session_algorithm(). */
enum amk_alg_kind {
    AMK_ALG_KEX = 1,          /**< key exchange, e.g. curve25519-sha256 */
    AMK_ALG_HOSTKEY = 2,      /**< host-key signature algorithm, e.g. ssh-ed25519 */
    AMK_ALG_CIPHER = 3,       /**< cipher, both directions */
    AMK_ALG_MAC = 4,          /**< MAC, both directions (unused with AEAD ciphers) */
    AMK_ALG_COMPRESSION = 5   /**< compression, both directions */
};

/**
 * The host-key callback of a client session. Called during every key
 * exchange (the first one and rekeys) after the server has proven it holds
 * the key (its signature over the exchange hash verified).
 *
 * @param user the pointer given to amk_session_set_hostkey_callback()
 * @param s    the session: amk_session_host_key() gives the key's blob
 *             during the call; the session MUST NOT be driven or freed
 *             from the callback
 * @param alg  the negotiated host-key algorithm, e.g. "ssh-ed25519"
 * @param key  the server's public key (see amiko/key.h: fingerprints,
 *             comparison); owned by the session, valid during the call only
 * @return AMK_OK to trust the key. Any other value refuses it and ends the
 *         connection: AMK_EHOSTKEY_UNKNOWN, AMK_EHOSTKEY_CHANGED and
 *         AMK_EHOSTKEY_REVOKED are passed on to the caller of
 *         amk_session_handshake() as they are, every other value becomes
 *         AMK_EHOSTKEY_REJECTED.
 */
typedef int (*amk_hostkey_fn)(void *user, struct amk_session *s, const char *alg,
    const struct amk_key *key);

/**
 * Reads for amk_session_set_io(): at most @p len bytes into @p buf.
 * @return the number of bytes read (> 0); 0 at end of stream (the peer
 *         closed); AMK_EAGAIN when no byte is available now (a non-blocking
 *         source); or another negative AMK_E... code (AMK_EIO) on failure,
 *         which the session returns (codes that are not fatal, see
 *         amk_err_is_fatal(), become AMK_EIO).
 */
typedef ssize_t (*amk_session_read_fn)(void *user, void *buf, size_t len);

/**
 * Writes for amk_session_set_io(): up to @p len bytes from @p buf.
 * @return the number of bytes written (> 0); AMK_EAGAIN when none can be
 *         written now; or another negative AMK_E... code (AMK_EIO).
 */
typedef ssize_t (*amk_session_write_fn)(void *user, const void *buf, size_t len);

/**
 * Creates a session for @p role, in blocking mode with the default timeout
 * and algorithms, not yet connected.
 * @return AMK_OK with *@p out set; AMK_EINVAL (NULL @p out, unknown role);
 *         AMK_ENOMEM. *@p out is NULL on failure.
 */
AMK_API int amk_session_new(struct amk_session **out, enum amk_session_role role) AMK_MUST_CHECK;

/**
 * Frees the session: closes the socket it made with amk_session_connect()
 * (never a descriptor given to amk_session_set_fd()) and wipes its keys.
 * Does not send SSH_MSG_DISCONNECT. NULL is fine.
 */
AMK_API void amk_session_free(struct amk_session *s);

/* --- Configuration (before amk_session_handshake()) ----------------- */

/**
 * Sets the algorithms offered for @p kind, in OpenSSH's syntax: "a,b" for
 * exactly these in this order, "+a,b" to append to the defaults, "-a*" to
 * remove (wildcards allowed), "^a" to put first. NULL restores the
 * defaults. Legacy algorithms (ssh-rsa, diffie-hellman-group14-sha1,
 * aes*-cbc, hmac-sha1*) are only offered when a spec names them.
 * The spec is checked when the handshake starts: unknown names or an empty
 * result then fail amk_session_handshake() with AMK_ENOTSUP or AMK_EINVAL.
 * @return AMK_OK; AMK_EINVAL (unknown @p kind); AMK_ESTATE (the handshake
 *         has started); AMK_ENOMEM.
 */
AMK_API int amk_session_set_algorithms(struct amk_session *s, enum amk_alg_kind kind,
    const char *spec) AMK_MUST_CHECK;

/**
 * Sets the time every blocking call may take, in milliseconds; negative
 * means no limit. The TCP connect of amk_session_connect() and the first
 * key exchange as a whole are also bounded by it, in both modes (a
 * non-blocking caller learns when to call again from
 * amk_session_next_timeout()). Expiry, AMK_ETIMEOUT, is fatal like every
 * I/O error: the session cannot be used afterwards.
 * Default AMK_SESSION_TIMEOUT_DEFAULT.
 * @return AMK_OK; AMK_EINVAL (NULL @p s).
 */
AMK_API int amk_session_set_timeout(struct amk_session *s, int timeout_ms) AMK_MUST_CHECK;

/**
 * Chooses blocking (@p blocking non-zero, the default) or non-blocking
 * mode. May be changed between any two calls.
 * @return AMK_OK; AMK_EINVAL (NULL @p s).
 */
AMK_API int amk_session_set_blocking(struct amk_session *s, int blocking) AMK_MUST_CHECK;

/**
 * Sends the session's log lines at @p level and more severe to @p fn with
 * @p user. NULL @p fn turns logging off. Set it before the handshake to
 * see the key exchange. The callback MUST NOT call into the session.
 * @return AMK_OK; AMK_EINVAL (NULL @p s); AMK_ESTATE (the handshake has
 *         started).
 */
AMK_API int amk_session_set_log(struct amk_session *s, amk_log_fn fn, void *user,
    enum amk_log_level level) AMK_MUST_CHECK;

/**
 * Sets the client's host-key callback (see ::amk_hostkey_fn).
 * @return AMK_OK; AMK_EINVAL (NULL @p s or @p fn, or a server session);
 *         AMK_ESTATE (the handshake has started).
 */
AMK_API int amk_session_set_hostkey_callback(struct amk_session *s, amk_hostkey_fn fn,
    void *user) AMK_MUST_CHECK;

/**
 * Server: adds a host key (a private key; at most one per key type). The
 * key is borrowed: it MUST stay alive until amk_session_free().
 * @return AMK_OK; AMK_EINVAL (NULL, a client session, too many keys);
 *         AMK_ESTATE (the handshake has started).
 */
AMK_API int amk_session_add_host_key(struct amk_session *s, struct amk_key *key) AMK_MUST_CHECK;

/* --- Connecting ----------------------------------------------------- */

/**
 * Connects over TCP to @p host (a name, an IPv4 or an IPv6 address) on
 * @p port, trying each address of the name. Blocking: returns when
 * connected or after the timeout. Non-blocking: resolves the name (which
 * may wait for DNS) and starts connecting; AMK_EAGAIN means "wait until
 * amk_session_get_fd() is writable and call amk_session_connect() again
 * with the same arguments" (amk_session_handshake() also finishes the
 * connection).
 * @return AMK_OK; AMK_EAGAIN (non-blocking, in progress); AMK_EINVAL (NULL
 *         or empty host, port 0); AMK_ESTATE (already has a transport);
 *         AMK_ERESOLVE; AMK_ECONNECT (every address refused or
 *         unreachable; the detail names the last one); AMK_ETIMEOUT;
 *         AMK_ENOMEM.
 */
AMK_API int amk_session_connect(struct amk_session *s, const char *host, uint16_t port)
    AMK_MUST_CHECK;

/**
 * Runs the session over @p fd, a connected stream socket of the caller.
 * The session never closes it and never changes its flags: it reads and
 * writes with MSG_DONTWAIT. A descriptor that is not a socket (a pipe)
 * MUST be in non-blocking mode and is read and written as one (both ways).
 * @return AMK_OK; AMK_EINVAL (negative @p fd); AMK_ESTATE (already has a
 *         transport).
 */
AMK_API int amk_session_set_fd(struct amk_session *s, int fd) AMK_MUST_CHECK;

/**
 * Runs the session over @p rd and @p wr with @p user. In blocking mode the
 * callbacks are expected to block; if one returns AMK_EAGAIN anyway the
 * session cannot wait for it (it has no descriptor) and the call returns
 * AMK_EAGAIN with the directions set, as in non-blocking mode.
 * amk_session_get_fd() returns -1.
 * @return AMK_OK; AMK_EINVAL (NULL callback); AMK_ESTATE (already has a
 *         transport).
 */
AMK_API int amk_session_set_io(struct amk_session *s, amk_session_read_fn rd,
    amk_session_write_fn wr, void *user) AMK_MUST_CHECK;

/* --- Driving -------------------------------------------------------- */

/**
 * Runs the version exchange and the first key exchange (RFC 4253 §4.2,
 * §7, §8) to completion, including the host-key check.
 * @return AMK_OK (keys are in use; repeated calls return AMK_OK);
 *         AMK_EAGAIN (non-blocking; see amk_session_block_directions());
 *         AMK_ESTATE (no transport: connect or set one first);
 *         AMK_ETIMEOUT; AMK_ECLOSED (the peer closed the connection);
 *         AMK_EDISCONNECT (the peer sent DISCONNECT; see the detail);
 *         AMK_EIO; AMK_ECONNECT / AMK_ERESOLVE (a connection still in
 *         progress failed); AMK_EVERSION; AMK_ENOMATCH (no common
 *         algorithm; the detail lists both sides); AMK_EMAC, AMK_EPROTO,
 *         AMK_EFORMAT, AMK_ETRUNCATED, AMK_ETOOBIG (the peer misbehaved);
 *         AMK_ESIGNATURE, AMK_EKEY; AMK_EHOSTKEY_REJECTED,
 *         AMK_EHOSTKEY_UNKNOWN, AMK_EHOSTKEY_CHANGED, AMK_EHOSTKEY_REVOKED
 *         (the host-key check refused the key); AMK_ENOTSUP / AMK_EINVAL
 *         (a bad algorithm spec); AMK_ECRYPTO; AMK_ENOMEM.
 */
AMK_API int amk_session_handshake(struct amk_session *s) AMK_MUST_CHECK;

/**
 * After AMK_EAGAIN: what the session waits for, AMK_WAIT_READ and/or
 * AMK_WAIT_WRITE on amk_session_get_fd() (or the I/O callbacks). 0 when
 * the last call did not return AMK_EAGAIN.
 */
AMK_API int amk_session_block_directions(const struct amk_session *s);

/**
 * How long a caller that polls may wait before it MUST call the session
 * again even without I/O (timers: the connect and handshake deadlines,
 * rekeying by time), in milliseconds; -1 when no timer is armed.
 */
AMK_API int amk_session_next_timeout(const struct amk_session *s);

/**
 * The descriptor to poll: the connected (or connecting) socket, the one
 * given to amk_session_set_fd(), or -1 (none, or I/O callbacks).
 */
AMK_API int amk_session_get_fd(const struct amk_session *s);

/**
 * Ends the connection politely: queues SSH_MSG_DISCONNECT (reason
 * SSH_DISCONNECT_BY_APPLICATION, RFC 4253 §11.1) with @p description (NULL:
 * "bye") and sends everything queued. Blocking: returns once sent.
 * Non-blocking: AMK_EAGAIN until sent; call again. The session cannot be
 * used for anything else afterwards; free it.
 * @return AMK_OK; AMK_EAGAIN; AMK_ESTATE (no handshake started); the
 *         session's error if it had failed; AMK_EIO; AMK_ETIMEOUT.
 */
AMK_API int amk_session_disconnect(struct amk_session *s, const char *description)
    AMK_MUST_CHECK;

/* --- Information ---------------------------------------------------- */

/**
 * The detail of the last failure (a sentence naming what failed, e.g. the
 * address that refused, both sides' algorithm lists), or "" when none.
 * Valid until the next call on @p s. Never NULL; a NULL @p s gives "".
 */
AMK_API const char *amk_session_last_error(const struct amk_session *s);

/**
 * The algorithm negotiated for @p kind by the last key exchange (for
 * ciphers, MACs and compression: the client-to-server direction; "" for
 * the MAC of an AEAD cipher), in *@p name, valid until the next call on
 * @p s.
 * @return AMK_OK; AMK_EINVAL (NULL, unknown kind); AMK_ESTATE (before the
 *         first key exchange completed).
 */
AMK_API int amk_session_algorithm(const struct amk_session *s, enum amk_alg_kind kind,
    const char **name) AMK_MUST_CHECK;

/**
 * Client: the server's host key of the last key exchange (also during the
 * host-key callback): the negotiated algorithm and the public key blob
 * (RFC 4253 §6.6; the base64-decoded key field of known_hosts and
 * authorized_keys lines); valid until the next call on @p s.
 * @return AMK_OK; AMK_EINVAL (NULL); AMK_ESTATE (none received yet).
 */
AMK_API int amk_session_host_key(const struct amk_session *s, const char **alg,
    const uint8_t **blob, size_t *len) AMK_MUST_CHECK;

/** The peer's identification line (e.g. "SSH-2.0-OpenSSH_9.2"), or NULL before it arrived. */
AMK_API const char *amk_session_peer_version(const struct amk_session *s);

#ifdef __cplusplus
}
#endif
#endif
