/*
 * SSH user authentication, server side (RFC 4252, keyboard-interactive
 * RFC 4256), as a sans-I/O message engine: the mirror of userauth.h.
 *
 * The engine never touches a socket or a clock. The caller (the server
 * core) hands it every payload the transport delivers before
 * authentication is complete: SSH_MSG_SERVICE_REQUEST (5) and message
 * numbers 50..79, through amk_userauth_server_handle(). The engine answers
 * through the packet sink of its configuration (amk_transport_pkt_sink()
 * for a real transport). Decisions (is this password right, is this key
 * allowed) are taken by the caller's callbacks.
 *
 * Flow:
 *   1. SERVICE_REQUEST "ssh-userauth" is answered with SERVICE_ACCEPT
 *      (RFC 4253 §10). Any other service fails the engine with AMK_EPROTO
 *      and amk_userauth_server_disconnect_reason() SERVICE_NOT_AVAILABLE.
 *   2. Each USERAUTH_REQUEST is answered with FAILURE (with the methods
 *      that can continue and the partial-success flag), SUCCESS, PK_OK
 *      (a publickey query for an acceptable key) or INFO_REQUEST
 *      (keyboard-interactive). The configured banner goes out before the
 *      first answer (RFC 4252 §5.4).
 *   3. After SUCCESS, amk_userauth_server_done() is 1: the caller routes
 *      later messages to the connection layer. Authentication requests
 *      that still arrive are ignored (RFC 4252 §5.1). With a transport in
 *      the configuration the engine also calls
 *      amk_transport_set_authenticated() right after queueing SUCCESS;
 *      the transport itself already turns on delayed compression
 *      (zlib@openssh.com) when SUCCESS passes amk_transport_send().
 *
 * Errors: a fatal code (amk_err_is_fatal()) fails the engine, which keeps
 * its first error (amk_userauth_server_error()), a detail
 * (amk_userauth_server_last_error()) and the SSH_MSG_DISCONNECT reason the
 * caller MUST send before closing (amk_userauth_server_disconnect_reason()):
 *   AMK_EPROTO   a message out of place, a change of user name or service
 *                between requests (as OpenSSH), an unknown service;
 *                reason PROTOCOL_ERROR or SERVICE_NOT_AVAILABLE
 *   AMK_EFORMAT  a malformed message; reason PROTOCOL_ERROR
 *   AMK_ELIMIT   too many failed attempts (max_tries), too many
 *                keyboard-interactive rounds, a string above its cap;
 *                reason NO_MORE_AUTH_METHODS_AVAILABLE (a user name above
 *                its cap: ILLEGAL_USER_NAME)
 *   AMK_ENOMEM, AMK_ECRYPTO, the sink's error; reason BY_APPLICATION
 *
 * Counting failures (like sshd's MaxAuthTries): every refused request of a
 * real method counts (password, signed publickey, keyboard-interactive,
 * unknown or not allowed method names); "none" and publickey queries do
 * not. When the count reaches max_tries the engine fails without sending
 * the FAILURE, as sshd does.
 *
 * Timing: sshd delays failure replies so the time taken does not reveal
 * whether a user exists. The engine cannot sleep: with failure_delay_ms
 * set, the FAILURE answering a failed non-"none" request is held back;
 * amk_userauth_server_held() is then 1 and amk_userauth_server_delay_ms()
 * says how long after the request's arrival the caller should call
 * amk_userauth_server_release() to send it. Calling handle() while a
 * reply is held sends it first.
 *
 * Secrets: passwords and keyboard-interactive responses are copied only to
 * hand them NUL-terminated to the callback, and wiped right after it
 * returns. The payload buffers belong to the caller (the transport wipes
 * its own).
 *
 * Callbacks are synchronous. Every decision goes through one internal
 * step (the method's outcome), so an asynchronous form fits later: a
 * callback returning AMK_AUTH_PENDING, the engine holding the request
 * (amk_userauth_server_busy()), and amk_userauth_server_resume(decision)
 * finishing it. Not implemented yet.
 *
 * Threading: one engine is used by one thread at a time.
 */
#ifndef AMK_AUTH_USERAUTH_SERVER_H
#define AMK_AUTH_USERAUTH_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/common.h>
#include <amiko/error.h>

#include "auth/userauth.h"
#include "transport/pkt_sink.h"
#include "util/log.h"

struct amk_authorized_keys;
struct amk_key;
struct amk_transport;
struct amk_userauth_server;

/* Defaults and caps. */
#define AMK_USERAUTH_SERVER_MAX_TRIES 6          /* sshd's MaxAuthTries */
#define AMK_USERAUTH_SERVER_MAX_KBDINT_ROUNDS 8  /* INFO_REQUESTs per attempt */
#define AMK_USERAUTH_SERVER_MAX_PROMPTS 16       /* prompts in one INFO_REQUEST */
#define AMK_USERAUTH_SERVER_MAX_CHAINS 16        /* lists in auth_methods */
#define AMK_USERAUTH_SERVER_MAX_CHAIN_LEN 8      /* methods in one list */
#define AMK_USERAUTH_SERVER_MAX_KEYS_USED 8      /* distinct keys of one login */

/* What a decision callback answers. Negative AMK_E... codes are taken as
 * AMK_AUTH_REJECT (and logged). */
enum amk_auth_decision {
    AMK_AUTH_REJECT = 0,    /* this attempt failed */
    AMK_AUTH_ACCEPT = 1,    /* this method succeeded */
    /* This method succeeded but is not enough on its own: one more method
     * must succeed (on top of what auth_methods requires). */
    AMK_AUTH_PARTIAL = 2,
    /* keyboard-interactive only: send the round the callback filled in and
     * wait for the answers. */
    AMK_AUTH_CONTINUE = 3
};

/*
 * "password" (RFC 4252 §8): @p password is NUL-terminated (a password with
 * a NUL byte is refused without asking) and wiped after the call. Return
 * ACCEPT, PARTIAL or REJECT. Compare with amk_auth_password_equal().
 */
typedef int (*amk_auth_password_fn)(void *user, const char *username, const char *password);

/*
 * "publickey" (RFC 4252 §7). Called for a query (@p is_query 1: the client
 * asks whether the key would do; answer without side effects) and for a
 * signed request (@p is_query 0: the signature over the session identifier
 * has already been verified). Return ACCEPT, PARTIAL or REJECT. When
 * accepting a signed request the callback may set *@p key_opts to an
 * opaque pointer (e.g. authorized_keys options) that
 * amk_userauth_server_key_opts() returns after success; the engine frees
 * it with opts_free (when set) once it is replaced, unused (queries,
 * rejections) or the engine is freed. @p key is valid during the call.
 */
typedef int (*amk_auth_publickey_fn)(void *user, const char *username,
    const struct amk_key *key, int is_query, void **key_opts);
typedef void (*amk_auth_opts_free_fn)(void *user, void *key_opts);

/*
 * One keyboard-interactive round (RFC 4256 §3.2), filled in by the
 * callback. Strings MUST stay valid until the call into the engine that
 * ran the callback returns (the engine encodes them at once). NULL name or
 * instruction is sent as "".
 */
struct amk_auth_kbdint_round {
    const char *name;
    const char *instruction;
    size_t n_prompts;       /* 0..AMK_USERAUTH_SERVER_MAX_PROMPTS */
    struct amk_kbdint_prompt prompts[AMK_USERAUTH_SERVER_MAX_PROMPTS];
};

/*
 * keyboard-interactive start (RFC 4256 §3.1): @p submethods is the client's
 * hint. Fill @p round and return AMK_AUTH_CONTINUE, or decide at once.
 * *@p ctx (NULL on entry) may be set to per-attempt state, handed to
 * respond and to end.
 */
typedef int (*amk_auth_kbdint_start_fn)(void *user, const char *username,
    const char *submethods, struct amk_auth_kbdint_round *round, void **ctx);
/*
 * keyboard-interactive answers (RFC 4256 §3.4): @p n responses, one per
 * prompt sent, NUL-terminated, wiped after the call. Return ACCEPT,
 * PARTIAL, REJECT, or fill @p next and return AMK_AUTH_CONTINUE for
 * another round.
 */
typedef int (*amk_auth_kbdint_respond_fn)(void *user, void *ctx, const char *username,
    const char *const *responses, size_t n, struct amk_auth_kbdint_round *next);
/* The attempt is over (decided, abandoned by a new request, or the engine
 * is freed): release @p ctx. */
typedef void (*amk_auth_kbdint_end_fn)(void *user, void *ctx);

/*
 * Configuration. Zero-initialise, then set what you need. Strings are
 * copied by amk_userauth_server_new(). A method is offered only when its
 * callback is set.
 */
struct amk_userauth_server_config {
    /*
     * Required. The sink MUST queue every packet: any error it returns,
     * even AMK_EAGAIN, fails the engine (amk_transport_pkt_sink() only
     * refuses with more than 8 MiB queued, which authentication never
     * reaches).
     */
    struct amk_pkt_sink sink;
    /*
     * Where the session identifier comes from (the transport MUST outlive
     * the engine); without one, set it with
     * amk_userauth_server_set_session_id() before publickey requests come.
     */
    struct amk_transport *transport;
    const char *service;                    /* NULL: "ssh-connection" */
    amk_auth_password_fn password_cb;
    amk_auth_publickey_fn publickey_cb;
    amk_auth_opts_free_fn opts_free;
    amk_auth_kbdint_start_fn kbdint_start;  /* with kbdint_respond */
    amk_auth_kbdint_respond_fn kbdint_respond;
    amk_auth_kbdint_end_fn kbdint_end;      /* may be NULL */
    void *user;                             /* for every callback above */
    /*
     * Without kbdint callbacks but with password_cb: offer
     * keyboard-interactive as one hidden "Password: " prompt checked by
     * password_cb (what sshd does through PAM), so clients that try
     * keyboard-interactive before password get in the same way.
     */
    int kbdint_password;
    /*
     * Required methods in sshd's AuthenticationMethods syntax: lists
     * separated by spaces, methods of a list by commas, e.g.
     * "publickey,password publickey,keyboard-interactive": the user must
     * complete one list, in order; only methods next in some list are
     * offered. NULL or "any": one offered method suffices.
     */
    const char *auth_methods;
    int permit_none;        /* "none" succeeds (no auth_methods only); tests and open servers */
    int allow_ssh_rsa;      /* accept ssh-rsa (SHA-1) signatures, off by default */
    unsigned max_tries;     /* 0: AMK_USERAUTH_SERVER_MAX_TRIES */
    unsigned max_kbdint_rounds;   /* 0: AMK_USERAUTH_SERVER_MAX_KBDINT_ROUNDS */
    const char *banner;     /* USERAUTH_BANNER text (UTF-8), or NULL */
    /*
     * Failure replies held back at least this long after the request
     * arrived (0: never held), plus a per-user part of up to the same
     * again derived from HMAC-SHA-256(delay_key, user name) when a key is
     * given, so a user's delay is stable across connections.
     */
    uint32_t failure_delay_ms;
    const uint8_t *delay_key;
    size_t delay_key_len;
    struct amk_logger log;                  /* zeroed: no logging */
};

/*
 * Creates an engine; sends nothing. AMK_OK; AMK_EINVAL (no sink, no method
 * callback at all, kbdint_start without kbdint_respond, a bad or unknown
 * method in auth_methods or one whose callback is not set, too many lists
 * or methods, a service name longer than 64 bytes); AMK_ENOMEM.
 */
int amk_userauth_server_new(struct amk_userauth_server **out,
    const struct amk_userauth_server_config *cfg) __attribute__((warn_unused_result));

/* Frees the engine (ends a running keyboard-interactive attempt, frees the
 * key options). NULL is fine. */
void amk_userauth_server_free(struct amk_userauth_server *s);

/* Without a transport: the session identifier (RFC 4253 §7.2), copied.
 * AMK_OK, AMK_EINVAL (empty), AMK_ENOMEM. */
int amk_userauth_server_set_session_id(struct amk_userauth_server *s, const uint8_t *id,
    size_t len) __attribute__((warn_unused_result));

/*
 * Processes one payload (message number first). AMK_OK, or a fatal code
 * that fails the engine (see the top of this file); AMK_EINVAL (not fatal)
 * for an empty payload or, once done, a message that is not the engine's
 * (number outside 50..79). After done, 50..79 are ignored with AMK_OK.
 */
int amk_userauth_server_handle(struct amk_userauth_server *s, const uint8_t *payload,
    size_t len) __attribute__((warn_unused_result));

/* A FAILURE reply is held back (failure_delay_ms). */
int amk_userauth_server_held(const struct amk_userauth_server *s);
/* How long after the request arrived the held reply should go out, ms. */
uint32_t amk_userauth_server_delay_ms(const struct amk_userauth_server *s);
/* Sends the held reply now (AMK_OK when none is held), or the sink's error. */
int amk_userauth_server_release(struct amk_userauth_server *s)
    __attribute__((warn_unused_result));

/* --- Results and state --------------------------------------------- */

/* 1 once USERAUTH_SUCCESS was sent. */
int amk_userauth_server_done(const struct amk_userauth_server *s);
/* The user name of the requests (NULL before the first). */
const char *amk_userauth_server_username(const struct amk_userauth_server *s);
/* The methods that succeeded, in order, comma-separated ("" when none),
 * e.g. "publickey,password". */
const char *amk_userauth_server_methods_used(const struct amk_userauth_server *s);
/* The key of the last successful publickey request (NULL when none); owned
 * by the engine. */
const struct amk_key *amk_userauth_server_key(const struct amk_userauth_server *s);
/* The signature algorithm of that key's request (e.g. "rsa-sha2-512"; ""
 * when none). */
const char *amk_userauth_server_key_alg(const struct amk_userauth_server *s);
/* The key_opts the publickey callback gave for that key (NULL when none). */
void *amk_userauth_server_key_opts(const struct amk_userauth_server *s);
/* Failed attempts counted against max_tries so far. */
unsigned amk_userauth_server_failures(const struct amk_userauth_server *s);
/* The methods that can continue now, comma-separated (as in FAILURE). */
const char *amk_userauth_server_methods_left(const struct amk_userauth_server *s);
/* The first fatal error; AMK_OK while healthy. */
int amk_userauth_server_error(const struct amk_userauth_server *s);
/* Detail of the last error or refused attempt ("" when none). */
const char *amk_userauth_server_last_error(const struct amk_userauth_server *s);
/* After a fatal error: the SSH_MSG_DISCONNECT reason code to send
 * (enum amk_disconnect_reason); 0 while healthy. */
int amk_userauth_server_disconnect_reason(const struct amk_userauth_server *s);

/*
 * For publickey callbacks backed by an authorized_keys file
 * (amiko/authorized_keys.h): checks @p key for a client at @p client_ip /
 * @p client_host (either may be NULL) at @p now (Unix seconds, read by the
 * caller: the engine has no clock) and returns AMK_AUTH_ACCEPT or
 * AMK_AUTH_REJECT. For a signed request (@p is_query 0) *@p key_opts gets
 * a copy of the matching line's options (struct amk_authorized_key_opts,
 * freed by amk_userauth_server_ak_opts_free, which fits opts_free); a
 * query gets none. The caller enforces the options (command=, no-pty, ...)
 * after authentication.
 */
int amk_userauth_server_ak_check(struct amk_authorized_keys *ak, const struct amk_key *key,
    const char *client_ip, const char *client_host, int64_t now, int is_query,
    void **key_opts);
/* An opts_free for the options of amk_userauth_server_ak_check(). */
void amk_userauth_server_ak_opts_free(void *user, void *key_opts);

/*
 * For password callbacks: 1 when the NUL-terminated @p given equals
 * @p expected, else 0, in time that does not depend on where they differ
 * nor on their lengths (both are hashed with SHA-256 first, then the
 * digests are compared in constant time). NULL never matches. Exported so
 * that the public server API can declare it.
 */
AMK_API int amk_auth_password_equal(const char *given, const char *expected);

#endif
