/*
 * SSH user authentication, client side (RFC 4252, keyboard-interactive
 * RFC 4256), as a sans-I/O message engine.
 *
 * The engine never touches a socket or a clock. The caller hands it every
 * payload the transport delivers while authentication runs
 * (SSH_MSG_SERVICE_ACCEPT and message numbers 50..79) through
 * amk_userauth_client_handle(); the engine answers through the packet
 * sink given in its configuration (amk_transport_pkt_sink() for a real
 * transport).
 *
 * Flow:
 *   1. amk_userauth_client_start() sends SERVICE_REQUEST "ssh-userauth"
 *      (RFC 4253 §10). On SERVICE_ACCEPT the engine sends the "none"
 *      request by itself to learn the methods that can continue
 *      (RFC 4252 §5.2).
 *   2. While amk_userauth_client_busy() is 1, an attempt is in flight:
 *      keep feeding payloads.
 *   3. When it is 0 and amk_userauth_client_authenticated() is 0, the
 *      last attempt failed (amk_userauth_client_last_result()); start
 *      another with amk_userauth_client_password(), _publickey() or
 *      _kbdint(), choosing from amk_userauth_client_methods().
 *   4. After USERAUTH_SUCCESS, amk_userauth_client_authenticated() is 1;
 *      the caller MUST then call amk_transport_set_authenticated() before
 *      handing the transport any further input (delayed compression), and
 *      route later messages to the connection layer.
 *
 * Errors: a fatal code (amk_err_is_fatal()) fails the engine, which keeps
 * its first error (amk_userauth_client_error()) and detail
 * (amk_userauth_client_last_error()) and refuses every later call with it.
 * Protocol violations by the server are AMK_EPROTO (a message out of
 * place) and AMK_EFORMAT (a malformed message); the caller SHOULD then
 * disconnect with AMK_DISCONNECT_PROTOCOL_ERROR. When the server lists no
 * method that can continue, the engine fails with AMK_EAUTH (the caller
 * disconnects with NO_MORE_AUTH_METHODS_AVAILABLE).
 *
 * Secrets: passwords, new passwords and keyboard-interactive responses
 * are copied only where needed and wiped as soon as the request that
 * carries them has been handed to the sink (the old password is kept,
 * wiped, until a password change request is answered).
 *
 * Threading: one engine is used by one thread at a time.
 */
#ifndef AMK_AUTH_USERAUTH_H
#define AMK_AUTH_USERAUTH_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

#include "transport/pkt_sink.h"
#include "util/log.h"

struct amk_key;
struct amk_transport;
struct amk_userauth_client;

/* Message numbers, RFC 4252 §6 and RFC 4256 §5 (RFC 4250 §4.1.2). */
#define AMK_MSG_USERAUTH_REQUEST 50
#define AMK_MSG_USERAUTH_FAILURE 51
#define AMK_MSG_USERAUTH_SUCCESS 52
#define AMK_MSG_USERAUTH_BANNER 53
#define AMK_MSG_USERAUTH_PK_OK 60               /* publickey */
#define AMK_MSG_USERAUTH_PASSWD_CHANGEREQ 60    /* password */
#define AMK_MSG_USERAUTH_INFO_REQUEST 60        /* keyboard-interactive */
#define AMK_MSG_USERAUTH_INFO_RESPONSE 61
#define AMK_MSG_USERAUTH_LAST 79                /* 50..79: user authentication */

/* Limits on what the server can make us do or hold. */
#define AMK_USERAUTH_USER_MAX 1024          /* user name bytes we send */
#define AMK_USERAUTH_SECRET_MAX 1024        /* a password or response, incl. NUL */
#define AMK_USERAUTH_MAX_PROMPTS 64         /* prompts in one INFO_REQUEST */
#define AMK_USERAUTH_MAX_INFO_ROUNDS 32     /* INFO_REQUESTs in one attempt */
#define AMK_USERAUTH_MAX_CHANGEREQ 3        /* PASSWD_CHANGEREQs in one attempt */

/* The outcome of the last finished attempt. */
enum amk_userauth_result {
    AMK_USERAUTH_RESULT_NONE = 0,       /* no attempt has finished yet */
    AMK_USERAUTH_RESULT_SUCCESS,        /* USERAUTH_SUCCESS */
    AMK_USERAUTH_RESULT_PARTIAL,        /* FAILURE with partial success TRUE */
    AMK_USERAUTH_RESULT_FAILURE,        /* FAILURE, key not accepted, or cancelled */
};

/*
 * Receives the server's banner (RFC 4252 §5.4), sanitised (util/sanitize.h)
 * and NUL-terminated, and its language tag (sanitised, often ""). Both are
 * valid during the call only. MUST NOT call back into the engine.
 */
typedef void (*amk_userauth_banner_fn)(void *user, const char *message, const char *lang);

/*
 * Answers SSH_MSG_USERAUTH_PASSWD_CHANGEREQ (RFC 4252 §8): @p prompt
 * (sanitised) and @p lang from the server. Write the new password,
 * NUL-terminated, of at most @p cap - 1 bytes into @p new_password and
 * return AMK_OK; any other return declines, and the attempt ends as
 * AMK_USERAUTH_RESULT_FAILURE. @p new_password is wiped after use.
 */
typedef int (*amk_userauth_passwd_change_fn)(void *user, const char *prompt, const char *lang,
    char *new_password, size_t cap);

/* One prompt of SSH_MSG_USERAUTH_INFO_REQUEST (RFC 4256 §3.2). */
struct amk_kbdint_prompt {
    const char *text;       /* sanitised, NUL-terminated */
    int echo;               /* 1: the response may be shown while typed */
};

/*
 * Answers SSH_MSG_USERAUTH_INFO_REQUEST (RFC 4256 §3.2). @p name,
 * @p instruction and the prompt texts are sanitised and valid during the
 * call only; @p n_prompts may be 0 (answer with AMK_OK and nothing).
 * For each prompt i, write a NUL-terminated response of at most @p cap - 1
 * bytes into @p responses[i] (each buffer is @p cap bytes, zeroed, and
 * wiped after use) and return AMK_OK; any other return cancels the
 * attempt (AMK_USERAUTH_RESULT_FAILURE).
 */
typedef int (*amk_userauth_kbdint_fn)(void *user, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n_prompts, char *const *responses,
    size_t cap);

/*
 * Configuration. Zero-initialise, then set what you need. Strings are
 * copied by amk_userauth_client_new().
 */
struct amk_userauth_config {
    const char *username;           /* required, at most AMK_USERAUTH_USER_MAX bytes */
    const char *service;            /* NULL: "ssh-connection" */
    struct amk_pkt_sink sink;       /* required */
    /*
     * Where the session identifier and server-sig-algs come from. With a
     * transport, both are read from it when needed (the transport MUST
     * outlive the engine); without, set them with
     * amk_userauth_client_set_session_id() / _set_server_sig_algs().
     */
    const struct amk_transport *transport;
    amk_userauth_banner_fn banner_cb;   /* NULL: banners are dropped */
    void *banner_user;
    struct amk_logger log;          /* zeroed: no logging */
    /*
     * 0 (the default): "publickey" sends the signed request at once, as
     * Paramiko does; RFC 4252 §7 allows it, and it saves a round trip per
     * key. 1: first ask whether the key is acceptable (OpenSSH's way),
     * for keys whose signature is costly or asks the user (an agent's,
     * a token's).
     */
    int pubkey_query_first;
};

/*
 * Creates an engine. Sends nothing yet. AMK_OK; AMK_EINVAL (no or empty
 * user name, one longer than AMK_USERAUTH_USER_MAX, no sink function);
 * AMK_ENOMEM.
 */
int amk_userauth_client_new(struct amk_userauth_client **out,
    const struct amk_userauth_config *cfg) __attribute__((warn_unused_result));

/* Frees the engine, wiping every secret it holds. NULL is fine. */
void amk_userauth_client_free(struct amk_userauth_client *a);

/* Without a transport in the config: the session identifier (RFC 4253
 * §7.2), copied. AMK_OK, AMK_EINVAL (empty), AMK_ENOMEM. */
int amk_userauth_client_set_session_id(struct amk_userauth_client *a, const uint8_t *id,
    size_t len) __attribute__((warn_unused_result));

/* Without a transport in the config: the server's server-sig-algs
 * (RFC 8308 §3.1), copied; NULL means the server sent none. AMK_OK,
 * AMK_EFORMAT (not a name-list), AMK_ENOMEM. */
int amk_userauth_client_set_server_sig_algs(struct amk_userauth_client *a, const char *algs)
    __attribute__((warn_unused_result));

/*
 * Sends SERVICE_REQUEST "ssh-userauth". AMK_OK; AMK_ESTATE when already
 * started; the sink's error (fatal ones fail the engine).
 */
int amk_userauth_client_start(struct amk_userauth_client *a) __attribute__((warn_unused_result));

/*
 * Processes one payload from the transport (message number first).
 * Returns AMK_OK, or fails the engine with:
 *   AMK_EPROTO     the message is not allowed in the current state (any
 *                  message before start(), SUCCESS to a publickey query,
 *                  PK_OK for another key, anything after SUCCESS, message
 *                  numbers outside 6 and 50..79, ...)
 *   AMK_EFORMAT    malformed message (truncated, trailing data, bad
 *                  name-list or boolean, a string with a NUL)
 *   AMK_EAUTH      FAILURE listing no method that can continue
 *   AMK_ELIMIT     more than AMK_USERAUTH_MAX_PROMPTS prompts, or too many
 *                  INFO_REQUEST / PASSWD_CHANGEREQ rounds in one attempt
 *   AMK_ENOMEM, AMK_ECRYPTO, AMK_EKEY (signing), the sink's error
 *   the engine's first error when it has already failed.
 * AMK_EINVAL for an empty payload (not fatal).
 */
int amk_userauth_client_handle(struct amk_userauth_client *a, const uint8_t *payload,
    size_t len) __attribute__((warn_unused_result));

/*
 * Method attempts. Each is allowed only when the engine is started, not
 * busy, not authenticated and not failed (else AMK_ESTATE), and when the
 * server lists the method among those that can continue (else AMK_EAUTH;
 * the engine stays usable). They return AMK_OK once the first request is
 * handed to the sink, or the sink's error.
 */

/*
 * "password" (RFC 4252 §8). @p password (at most AMK_USERAUTH_SECRET_MAX
 * - 1 bytes, else AMK_EINVAL) is copied and wiped after use. @p change_cb
 * (may be NULL: the attempt then fails on a change request) answers
 * SSH_MSG_USERAUTH_PASSWD_CHANGEREQ.
 */
int amk_userauth_client_password(struct amk_userauth_client *a, const char *password,
    amk_userauth_passwd_change_fn change_cb, void *change_user)
    __attribute__((warn_unused_result));

/*
 * "publickey" (RFC 4252 §7) with @p key, which MUST hold the private half
 * (else AMK_EKEY) and MUST stay valid until the attempt is over
 * (amk_userauth_client_busy() is 0). Signs session_id || request and
 * sends it; with pubkey_query_first, first asks whether the key is
 * acceptable (no signature) and signs on SSH_MSG_USERAUTH_PK_OK. The
 * signature algorithm is the key type's, except for RSA keys (RFC 8332
 * §3.2): rsa-sha2-512, else rsa-sha2-256, as listed in server-sig-algs;
 * ssh-rsa (SHA-1) only when the server sent no server-sig-algs or lists
 * only ssh-rsa. AMK_ENOTSUP
 * when server-sig-algs lists no algorithm for the key; AMK_ESTATE when no
 * session identifier is known yet.
 */
int amk_userauth_client_publickey(struct amk_userauth_client *a, const struct amk_key *key)
    __attribute__((warn_unused_result));

/*
 * "keyboard-interactive" (RFC 4256 §3.1) with @p submethods (NULL: "").
 * Every INFO_REQUEST goes to @p cb (required, else AMK_EINVAL).
 */
int amk_userauth_client_kbdint(struct amk_userauth_client *a, const char *submethods,
    amk_userauth_kbdint_fn cb, void *cb_user) __attribute__((warn_unused_result));

/* --- Queries ---------------------------------------------------------- */

/* 1 while a request (service, none or a method) awaits the server's answer. */
int amk_userauth_client_busy(const struct amk_userauth_client *a);
/* 1 after USERAUTH_SUCCESS. */
int amk_userauth_client_authenticated(const struct amk_userauth_client *a);
/* The outcome of the last finished attempt. */
enum amk_userauth_result amk_userauth_client_last_result(const struct amk_userauth_client *a);
/* The method of the last (or current) attempt ("none", "password", ...;
 * "" before the first). */
const char *amk_userauth_client_last_method(const struct amk_userauth_client *a);
/* The methods that can continue, from the last FAILURE ("" until known). */
const char *amk_userauth_client_methods(const struct amk_userauth_client *a);
/* 1 when @p method is among the methods that can continue. */
int amk_userauth_client_method_allowed(const struct amk_userauth_client *a, const char *method);
/* The partial-success flag of the last FAILURE (RFC 4252 §5.1). */
int amk_userauth_client_partial_success(const struct amk_userauth_client *a);
/* The first fatal error; AMK_OK while healthy. */
int amk_userauth_client_error(const struct amk_userauth_client *a);
/* Detail of the last error or refused attempt ("" when none). */
const char *amk_userauth_client_last_error(const struct amk_userauth_client *a);

#endif
