/*
 * The SSH-2 transport layer (RFC 4253) as a sans-I/O engine, both roles.
 *
 * The engine never reads a socket, a clock or the system RNG: the caller
 * feeds received bytes with amk_transport_feed(), drains bytes to send with
 * amk_transport_output() / amk_transport_output_consume(), passes the
 * current time (milliseconds on any monotonic clock) into every call that
 * may act on timers, and wakes the engine by amk_transport_next_deadline()
 * with amk_transport_tick(). Randomness comes from the configured amk_rng.
 *
 * What the engine does by itself: version exchange (RFC 4253 §4.2), the
 * binary packet protocol (§6), algorithm negotiation and key exchange
 * (§7, §8, RFC 4419, RFC 5656, RFC 8731), strict KEX (OpenSSH PROTOCOL,
 * kex-strict-*-v00@openssh.com), ext-info (RFC 8308), rekeying by request,
 * bytes, packets and time (RFC 4253 §9, RFC 4344 §3), IGNORE / DEBUG /
 * UNIMPLEMENTED / DISCONNECT (§11) and compression (§6.2).
 *
 * What reaches the upper layer (amk_transport_recv): SERVICE_REQUEST,
 * SERVICE_ACCEPT and every message numbered 50 and above. The upper layer
 * sends anything that is not a transport message with amk_transport_send();
 * during a key exchange those packets are held and sent after NEWKEYS, in
 * order.
 *
 * Errors: a function returning a fatal code (amk_err_is_fatal()) leaves the
 * engine failed. A failed engine keeps its first error (returned again by
 * every later call and by amk_transport_error()), stops processing input,
 * and, for protocol errors, has queued an SSH_MSG_DISCONNECT with the
 * RFC 4253 §11.1 reason code: the caller SHOULD still flush the output
 * (amk_transport_wants_write()) before closing the connection.
 *
 * Threading: one engine is used by one thread at a time.
 */
#ifndef AMK_TRANSPORT_TRANSPORT_H
#define AMK_TRANSPORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

#include "crypto/rand.h"
#include "util/log.h"
#include "util/namelist.h"

struct amk_key;
struct amk_transport;

enum amk_transport_role {
    AMK_TRANSPORT_CLIENT = 1,
    AMK_TRANSPORT_SERVER = 2
};

/* SSH_MSG_DISCONNECT reason codes, RFC 4253 §11.1. */
enum amk_disconnect_reason {
    AMK_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT = 1,
    AMK_DISCONNECT_PROTOCOL_ERROR = 2,
    AMK_DISCONNECT_KEY_EXCHANGE_FAILED = 3,
    AMK_DISCONNECT_RESERVED = 4,
    AMK_DISCONNECT_MAC_ERROR = 5,
    AMK_DISCONNECT_COMPRESSION_ERROR = 6,
    AMK_DISCONNECT_SERVICE_NOT_AVAILABLE = 7,
    AMK_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED = 8,
    AMK_DISCONNECT_HOST_KEY_NOT_VERIFIABLE = 9,
    AMK_DISCONNECT_CONNECTION_LOST = 10,
    AMK_DISCONNECT_BY_APPLICATION = 11,
    AMK_DISCONNECT_TOO_MANY_CONNECTIONS = 12,
    AMK_DISCONNECT_AUTH_CANCELLED_BY_USER = 13,
    AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE = 14,
    AMK_DISCONNECT_ILLEGAL_USER_NAME = 15
};

/* Message numbers the engine and the layers above it share (RFC 4250 §4.1). */
#define AMK_MSG_DISCONNECT 1
#define AMK_MSG_IGNORE 2
#define AMK_MSG_UNIMPLEMENTED 3
#define AMK_MSG_DEBUG 4
#define AMK_MSG_SERVICE_REQUEST 5
#define AMK_MSG_SERVICE_ACCEPT 6
#define AMK_MSG_EXT_INFO 7          /* RFC 8308 */
#define AMK_MSG_KEXINIT 20
#define AMK_MSG_NEWKEYS 21
#define AMK_MSG_KEX_FIRST 30        /* 30..49: method-specific KEX messages */
#define AMK_MSG_KEX_LAST 49
#define AMK_MSG_USERAUTH_FIRST 50   /* first number handed to the upper layer */

/* Limits. */
#define AMK_TRANSPORT_MAX_PACKET ((size_t)256 * 1024)   /* packet_length we accept */
#define AMK_TRANSPORT_MAX_PAYLOAD ((size_t)256 * 1024 - 1024) /* largest payload, either way */
/* Most input the engine buffers (what amk_transport_feed() was given
 * beyond what it decoded so far, or input_space's room). */
#define AMK_TRANSPORT_INPUT_MAX ((size_t)64 * 1024 * 1024)
#define AMK_TRANSPORT_VERSION_MAX 255                    /* RFC 4253 §4.2, incl. CR LF */
#define AMK_TRANSPORT_MAX_BANNER_LINES 1024              /* lines before the version */
#define AMK_TRANSPORT_MAX_BANNER_BYTES ((size_t)64 * 1024)
/* Default rekey limits: 1 GiB each way (below RFC 4344 §3.2's 2^(L/4)
 * blocks for every 128-bit block cipher), 2^31 packets, one hour. */
#define AMK_TRANSPORT_REKEY_BYTES_DEFAULT ((uint64_t)1 << 30)
#define AMK_TRANSPORT_REKEY_PACKETS ((uint64_t)1 << 31)
#define AMK_TRANSPORT_REKEY_SECONDS_DEFAULT 3600
/* rekey_bytes / rekey_seconds value meaning "never on this trigger". */
#define AMK_TRANSPORT_REKEY_NEVER UINT64_MAX
/* amk_transport_next_deadline() when no timer is armed. */
#define AMK_TRANSPORT_NO_DEADLINE UINT64_MAX

/*
 * Client host-key hook: called once per key exchange (also on rekeys) with
 * the server's host key after its signature over the exchange hash has
 * verified, and @p alg, the negotiated host-key algorithm. Return AMK_OK
 * to trust the key; any other code aborts the exchange with that code
 * (AMK_EHOSTKEY_REJECTED is the usual one) and DISCONNECT
 * (HOST_KEY_NOT_VERIFIABLE). The key is owned by the engine and valid
 * during the call only (amk_transport_host_key() gives it later).
 * MUST NOT call back into the engine.
 */
typedef int (*amk_transport_hostkey_fn)(void *user, const struct amk_key *key, const char *alg);

/*
 * The engine's configuration. Zero-initialise it, then set what you need;
 * strings and arrays are copied by amk_transport_new() except host_keys
 * (and the rng), which MUST outlive the engine.
 *
 * Algorithm specs use OpenSSH syntax ("a,b" exactly, "+a" append, "-a*"
 * remove, "^a" prepend; see amk_namelist_apply) against the defaults of
 * the role; NULL means the defaults:
 *   client KEX: curve25519-sha256, curve25519-sha256@libssh.org,
 *     ecdh-sha2-nistp256/384/521, diffie-hellman-group-exchange-sha256,
 *     diffie-hellman-group16-sha512, diffie-hellman-group18-sha512,
 *     diffie-hellman-group14-sha256
 *   server KEX: curve25519-sha256, curve25519-sha256@libssh.org,
 *     diffie-hellman-group16-sha512, diffie-hellman-group18-sha512,
 *     diffie-hellman-group-exchange-sha256 (groups of 3072 bits or more)
 *   client host keys: ssh-ed25519, ecdsa-sha2-nistp256/384/521,
 *     rsa-sha2-512, rsa-sha2-256
 *   server host keys: those of ssh-ed25519, rsa-sha2-512, rsa-sha2-256,
 *     ecdsa-sha2-* for which a key is configured
 *   ciphers: chacha20-poly1305@openssh.com, aes128-gcm@openssh.com,
 *     aes256-gcm@openssh.com, aes128-ctr, aes192-ctr, aes256-ctr
 *   MACs: hmac-sha2-256-etm@openssh.com, hmac-sha2-512-etm@openssh.com,
 *     hmac-sha2-256, hmac-sha2-512
 *   compression: none, zlib@openssh.com (client: "none" first; server
 *     "none,zlib@openssh.com")
 * Legacy names (diffie-hellman-group14-sha1, ssh-rsa, ssh-dss, aes*-cbc,
 * hmac-sha1*, zlib) are supported but only offered when a spec adds them.
 * The ext-info-c/-s and kex-strict-* markers are added by the engine.
 */
struct amk_transport_config {
    enum amk_transport_role role;
    const char *kex_algs;
    const char *hostkey_algs;
    const char *ciphers;            /* both directions */
    const char *macs;               /* both directions */
    const char *compression;        /* both directions */
    /* Our identification is "SSH-2.0-amiko_<version>[ <comment>]"; NULL: none. */
    const char *version_comment;
    /* Server: its host keys (private), any types, at most one per type. */
    struct amk_key *const *host_keys;
    size_t n_host_keys;
    /* Server: lines sent before the version line (RFC 4253 §4.2), or NULL;
     * MUST NOT start with "SSH-". */
    const char *server_banner;
    /* Server: the server-sig-algs value of its EXT_INFO (RFC 8308 §3.1);
     * NULL: "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,
     * ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256". */
    const char *server_sig_algs;
    /* Client: the host-key hook; NULL trusts every key that verifies
     * (tests only: a client MUST check host keys). */
    amk_transport_hostkey_fn hostkey_cb;
    void *user;                     /* passed to hostkey_cb */
    const struct amk_rng *rng;      /* NULL: the system CSPRNG */
    /* Don't offer strict KEX (kex-strict-*-v00@openssh.com). Only for
     * testing how the peer treats a non-strict implementation. */
    int disable_strict_kex;
    uint64_t rekey_bytes;           /* 0: default; AMK_TRANSPORT_REKEY_NEVER */
    uint64_t rekey_seconds;         /* 0: default; AMK_TRANSPORT_REKEY_NEVER */
    /* Time allowed from the first call until the first key exchange
     * completes, ms; 0: no limit. Expiry is AMK_ETIMEOUT. */
    uint64_t handshake_timeout_ms;
    struct amk_logger log;          /* zeroed: no logging */
};

/* The algorithms negotiated by the last completed key exchange. */
struct amk_transport_algs {
    char kex[AMK_NAME_MAX + 1];
    char hostkey[AMK_NAME_MAX + 1];
    char cipher_c2s[AMK_NAME_MAX + 1];
    char cipher_s2c[AMK_NAME_MAX + 1];
    char mac_c2s[AMK_NAME_MAX + 1];       /* "" for AEAD ciphers */
    char mac_s2c[AMK_NAME_MAX + 1];
    char comp_c2s[AMK_NAME_MAX + 1];
    char comp_s2c[AMK_NAME_MAX + 1];
    int strict_kex;                       /* both sides offered strict KEX */
};

/*
 * Creates an engine. Both roles queue their identification line at once
 * (and the server its banner), followed by their first KEXINIT, so
 * amk_transport_wants_write() is true right after. Timers start at the
 * first call that passes a time (feed or tick): call
 * amk_transport_tick(t, now) once after creating the engine.
 * AMK_EINVAL: bad role, NULL arguments, a server without host keys or
 * whose keys fit none of its host-key algorithms, a server_banner that
 * starts with "SSH-", a version comment that is not printable ASCII or
 * makes the line longer than 255 bytes.
 * AMK_ENOTSUP / AMK_EINVAL: an algorithm spec names an unknown algorithm or
 * leaves nothing (amk_namelist_apply); AMK_ENOMEM; AMK_ECRYPTO (rng).
 */
int amk_transport_new(struct amk_transport **out, const struct amk_transport_config *cfg)
    __attribute__((warn_unused_result));
/* Frees the engine and wipes its keys. NULL is fine. */
void amk_transport_free(struct amk_transport *t);

/* --- Input ---------------------------------------------------------- */

/*
 * Hands the engine @p len received bytes and processes as much as it can
 * (version line, packets, key exchange). All bytes are consumed on
 * AMK_OK. Returns:
 *   AMK_OK
 *   AMK_EAGAIN  nothing consumed: the engine holds AMK_TRANSPORT_MAX_PACKET
 *               or more of undelivered input; amk_transport_recv() first
 *   fatal codes (the engine is failed): AMK_EVERSION (SSH-1 or bad
 *   version line), AMK_ELIMIT (too many pre-version lines), AMK_ETOOBIG
 *   (packet length), AMK_EMAC, AMK_EPROTO (message not allowed here, e.g.
 *   under strict KEX), AMK_EFORMAT / AMK_ETRUNCATED (malformed message),
 *   AMK_ENOMATCH (negotiation), AMK_ESIGNATURE, AMK_EKEY, AMK_EHOSTKEY_*
 *   or what hostkey_cb returned, AMK_EDISCONNECT (the peer sent
 *   DISCONNECT), AMK_ECRYPTO, AMK_ENOMEM, AMK_ETIMEOUT.
 * @p len 0 only runs timers.
 */
int amk_transport_feed(struct amk_transport *t, const void *data, size_t len, uint64_t now_ms)
    __attribute__((warn_unused_result));

/*
 * Zero-copy input, for the io layer: room for at least @p want received
 * bytes (1 .. AMK_TRANSPORT_INPUT_MAX; more may be given in *@p cap) at
 * *@p ptr, valid until the next call into the engine. Write what was
 * read there and call amk_transport_input_commit(), which processes it as
 * amk_transport_feed() would (the pair is feed without its copy).
 * Returns AMK_OK; AMK_EAGAIN when the engine takes no input now (as
 * amk_transport_wants_read() == 0); AMK_EINVAL; AMK_ENOMEM (fatal); the
 * engine's error once it failed.
 */
int amk_transport_input_space(struct amk_transport *t, size_t want, uint8_t **ptr, size_t *cap)
    __attribute__((warn_unused_result));
/* Takes @p n bytes written at the pointer of amk_transport_input_space()
 * (n <= its cap; 0 only runs timers). Returns as amk_transport_feed(),
 * plus AMK_EINVAL when n exceeds the room given. */
int amk_transport_input_commit(struct amk_transport *t, size_t n, uint64_t now_ms)
    __attribute__((warn_unused_result));

/*
 * Tells the engine the peer closed the connection (EOF). Returns
 * AMK_ECLOSED and fails the engine (no DISCONNECT is queued), unless it
 * had already failed (then its first error).
 */
int amk_transport_feed_eof(struct amk_transport *t);

/* 1 when the engine would accept more input (not failed and below its
 * input cap), else 0. */
int amk_transport_wants_read(const struct amk_transport *t);

/* --- Output --------------------------------------------------------- */

/*
 * The bytes waiting to be sent: *@p ptr / *@p len (len 0 when none).
 * The pointer is valid until the next call into the engine other than
 * amk_transport_output / wants_write. After a fatal error the output still
 * holds what was queued, ending with the DISCONNECT.
 */
void amk_transport_output(struct amk_transport *t, const uint8_t **ptr, size_t *len);
/* Marks @p n bytes of the output as sent. AMK_EINVAL when n is larger
 * than what amk_transport_output() gave. */
int amk_transport_output_consume(struct amk_transport *t, size_t n)
    __attribute__((warn_unused_result));
/* 1 when output is waiting, else 0. */
int amk_transport_wants_write(const struct amk_transport *t);

/* --- Upper layer ---------------------------------------------------- */

/*
 * Queues one packet with @p payload (message number first). Before the
 * first key exchange completes, and during every later one, the packet is
 * held and sent after NEWKEYS in order. Transport message numbers (1..49
 * except SERVICE_REQUEST / SERVICE_ACCEPT) are refused with AMK_EINVAL.
 * Returns AMK_OK; AMK_EINVAL (empty or larger than
 * AMK_TRANSPORT_MAX_PAYLOAD); AMK_EAGAIN when more than 8 MiB are already
 * queued (drain the output and retry); the engine's error when failed;
 * AMK_ECLOSED after amk_transport_disconnect(); AMK_ENOMEM, AMK_ECRYPTO.
 * May start a key exchange when a rekey limit is reached.
 */
int amk_transport_send(struct amk_transport *t, const uint8_t *payload, size_t len)
    __attribute__((warn_unused_result));
/*
 * amk_transport_send() of the payload @p payload (@p len bytes, message
 * number first) followed by @p dlen bytes at @p data: channel data goes
 * into the packet without first being joined to its header.
 */
int amk_transport_send2(struct amk_transport *t, const uint8_t *payload, size_t len,
    const uint8_t *data, size_t dlen) __attribute__((warn_unused_result));

/*
 * The next packet for the upper layer: *@p payload / *@p len, message
 * number first, valid until the next call into the engine (it points into
 * the engine's input buffer: no copy is made). Returns AMK_OK,
 * AMK_EAGAIN when none is ready, or the engine's error once it has failed
 * and every packet received before the failure has been delivered.
 */
int amk_transport_recv(struct amk_transport *t, const uint8_t **payload, size_t *len)
    __attribute__((warn_unused_result));
#ifdef AMK_CAPTURE
/* AMIKO_CAPTURE builds only: the engine's number for io/capture.c (0: none yet). */
unsigned long *amk_transport_capture_id(struct amk_transport *t);
#endif

/* Queues SSH_MSG_IGNORE with @p len random bytes (keepalive, traffic
 * padding); held during a key exchange like amk_transport_send(). */
int amk_transport_send_ignore(struct amk_transport *t, size_t len)
    __attribute__((warn_unused_result));

/* --- Time ----------------------------------------------------------- */

/* When the engine next needs amk_transport_tick() (rekey by time,
 * handshake timeout), in the caller's ms clock; AMK_TRANSPORT_NO_DEADLINE. */
uint64_t amk_transport_next_deadline(const struct amk_transport *t);
/* Runs timers at @p now_ms: may start a rekey, or fail with AMK_ETIMEOUT.
 * Returns AMK_OK or the engine's error. */
int amk_transport_tick(struct amk_transport *t, uint64_t now_ms)
    __attribute__((warn_unused_result));

/* --- Control -------------------------------------------------------- */

/* Starts a key exchange now (no-op while one is running). AMK_OK,
 * AMK_ESTATE before the first exchange completed, the engine's error. */
int amk_transport_rekey(struct amk_transport *t) __attribute__((warn_unused_result));

/*
 * Queues SSH_MSG_DISCONNECT with @p reason and @p description (may be NULL)
 * behind everything already sent, drops held packets, and closes the
 * engine: later sends give AMK_ECLOSED. Flush the output, then close the
 * socket. AMK_OK or the engine's error (nothing is queued when failed).
 */
int amk_transport_disconnect(struct amk_transport *t, enum amk_disconnect_reason reason,
    const char *description) __attribute__((warn_unused_result));

/*
 * Tells the engine user authentication succeeded, so zlib@openssh.com
 * compresses from now on and after every rekey. The engine already does
 * this by itself at the exact point the protocol needs (the server right
 * after sending USERAUTH_SUCCESS, the client right after receiving it,
 * before decoding the next packet); calling this afterwards is harmless.
 * AMK_OK or the engine's error.
 */
int amk_transport_set_authenticated(struct amk_transport *t)
    __attribute__((warn_unused_result));

/* --- Queries -------------------------------------------------------- */

enum amk_transport_role amk_transport_role(const struct amk_transport *t);
/* 1 once the first key exchange has completed (NEWKEYS both ways). */
int amk_transport_handshake_done(const struct amk_transport *t);
/* 1 while a key exchange is running (also the first one). */
int amk_transport_kex_running(const struct amk_transport *t);
/* The session identifier (H of the first exchange, RFC 4253 §7.2);
 * *len 0 before the first exchange completes. */
void amk_transport_session_id(const struct amk_transport *t, const uint8_t **id, size_t *len);
/* The algorithms in use; AMK_ESTATE before the first exchange completes. */
int amk_transport_algs(const struct amk_transport *t, struct amk_transport_algs *out)
    __attribute__((warn_unused_result));
/* Client: the server's host key of the last exchange; NULL before. */
const struct amk_key *amk_transport_host_key(const struct amk_transport *t);
/* Client: server-sig-algs from the server's EXT_INFO (RFC 8308 §3.1);
 * NULL when none was received. */
const char *amk_transport_server_sig_algs(const struct amk_transport *t);
/* The peer's identification line without CR LF; NULL until received. */
const char *amk_transport_peer_version(const struct amk_transport *t);
/* Our identification line without CR LF. */
const char *amk_transport_local_version(const struct amk_transport *t);
/* Whether the softwareversion of identification line @p line (RFC 4253
 * §4.2, "SSH-protoversion-softwareversion [comments]") starts with
 * @p prefix; 0 for NULL or a line of another shape. Where nothing on the
 * wire says how a peer behaves, its software is what there is to go by. */
int amk_version_software_is(const char *line, const char *prefix);
/* The first fatal error (AMK_OK while healthy); AMK_ECLOSED after a
 * local amk_transport_disconnect(). */
int amk_transport_error(const struct amk_transport *t);
/* Human-readable detail of the first error ("" when none), e.g.
 * "no matching cipher: client offered [..], server offered [..]". */
const char *amk_transport_last_error(const struct amk_transport *t);
/* After AMK_EDISCONNECT: the peer's reason code (0 when none received)
 * and description (sanitised to printable ASCII; "" when none). */
uint32_t amk_transport_disconnect_reason(const struct amk_transport *t);
const char *amk_transport_disconnect_message(const struct amk_transport *t);
/* Bytes of packets (with tags) sent / received since the engine started. */
uint64_t amk_transport_bytes_out(const struct amk_transport *t);
uint64_t amk_transport_bytes_in(const struct amk_transport *t);

#endif
