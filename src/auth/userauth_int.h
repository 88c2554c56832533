/*
 * Internal to src/auth: the client engine's state, shared by the core
 * (userauth_client.c) and the method files (userauth_password.c,
 * userauth_pubkey.c, userauth_kbdint.c).
 */
#ifndef AMK_AUTH_USERAUTH_INT_H
#define AMK_AUTH_USERAUTH_INT_H

#include "auth/userauth.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/namelist.h"

/* Where the engine stands; the table in userauth_client.c says which
 * messages each state accepts. */
enum amk_ua_state {
    AMK_UA_INIT = 0,        /* created, nothing sent */
    AMK_UA_SERVICE,         /* SERVICE_REQUEST sent, awaiting SERVICE_ACCEPT */
    AMK_UA_PENDING,         /* a USERAUTH_REQUEST awaits its answer */
    AMK_UA_READY,           /* the last attempt failed; the caller picks the next */
    AMK_UA_DONE,            /* USERAUTH_SUCCESS received */
    AMK_UA_FAILED           /* fatal error */
};

/* The attempt in flight (or last finished). */
enum amk_ua_method {
    AMK_UA_M_NONE_YET = 0,
    AMK_UA_M_NONE,          /* "none" (RFC 4252 §5.2) */
    AMK_UA_M_PASSWORD,      /* "password" (RFC 4252 §8) */
    AMK_UA_M_PUBKEY_QUERY,  /* "publickey" without signature (RFC 4252 §7) */
    AMK_UA_M_PUBKEY_SIGNED, /* "publickey" with signature */
    AMK_UA_M_KBDINT         /* "keyboard-interactive" (RFC 4256) */
};

struct amk_userauth_client {
    enum amk_ua_state state;
    enum amk_ua_method method;
    char *username;
    char *service;
    struct amk_pkt_sink sink;
    const struct amk_transport *transport;
    uint8_t *session_id;            /* without a transport */
    size_t session_id_len;
    char *sig_algs;                 /* without a transport; NULL: none received */
    amk_userauth_banner_fn banner_cb;
    void *banner_user;
    struct amk_logger log;

    char *methods;                  /* from the last FAILURE; "" until known */
    int partial;
    enum amk_userauth_result result;
    int err;                        /* first fatal error */
    struct amk_error detail;

    /* password */
    char *password;                 /* AMK_USERAUTH_SECRET_MAX bytes, wiped */
    amk_userauth_passwd_change_fn change_cb;
    void *change_user;
    unsigned changereqs;

    /* publickey */
    int pubkey_query_first;         /* see amk_userauth_config */
    const struct amk_key *key;
    char pk_alg[AMK_NAME_MAX + 1];
    struct amk_buf *pk_blob;

    /* keyboard-interactive */
    amk_userauth_kbdint_fn kbd_cb;
    void *kbd_user;
    unsigned info_rounds;
};

/* Records @p code and the detail; fatal codes fail the engine. Returns @p code. */
int amk_ua_error(struct amk_userauth_client *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends byte 50, user name, service name and @p method (RFC 4252 §5). */
int amk_ua_put_request_head(const struct amk_userauth_client *a, struct amk_buf *b,
    const char *method) __attribute__((warn_unused_result));

/* Hands @p b to the sink (fatal sink errors fail the engine). */
int amk_ua_send(struct amk_userauth_client *a, const struct amk_buf *b)
    __attribute__((warn_unused_result));

/* Checks that a method may start: state and the server's list. */
int amk_ua_check_start(struct amk_userauth_client *a, const char *method)
    __attribute__((warn_unused_result));

/* The attempt is over (not with success): state READY, result FAILURE,
 * per-method state wiped. */
void amk_ua_attempt_failed(struct amk_userauth_client *a, const char *why);

/* Wipes and drops whatever the current attempt holds. */
void amk_ua_attempt_clear(struct amk_userauth_client *a);

/* Reads a string and returns it sanitised for display (util/sanitize.h). */
int amk_ua_get_text(struct amk_buf *b, char **out) __attribute__((warn_unused_result));

/* Method-specific message 60 (and 61) handlers; @p b is past the number. */
int amk_ua_password_changereq(struct amk_userauth_client *a, struct amk_buf *b)
    __attribute__((warn_unused_result));
int amk_ua_pubkey_pk_ok(struct amk_userauth_client *a, struct amk_buf *b)
    __attribute__((warn_unused_result));
int amk_ua_kbdint_info_request(struct amk_userauth_client *a, struct amk_buf *b)
    __attribute__((warn_unused_result));

/* The session identifier and server-sig-algs, from the transport or the setters. */
void amk_ua_session_id(const struct amk_userauth_client *a, const uint8_t **id, size_t *len);
const char *amk_ua_server_sig_algs(const struct amk_userauth_client *a);

/*
 * The signature algorithm for @p key given the server's server-sig-algs
 * (NULL: none sent), RFC 8332 §3.2. AMK_ENOTSUP when the list has none
 * for the key.
 */
int amk_userauth_pick_sig_alg(const struct amk_key *key, const char *server_sig_algs,
    char out[AMK_NAME_MAX + 1]) __attribute__((warn_unused_result));

#endif
