/*
 * Internal to src/auth: the server engine's state, shared by the core
 * (userauth_server.c), the chain logic (userauth_server_chain.c) and the
 * method files (userauth_server_password.c, _pubkey.c, _kbdint.c).
 */
#ifndef AMK_AUTH_USERAUTH_SERVER_INT_H
#define AMK_AUTH_USERAUTH_SERVER_INT_H

#include "auth/userauth_server.h"
#include "transport/transport.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/namelist.h"

/* Where the engine stands; the table in userauth_server.c says which
 * messages each state accepts. */
enum amk_uas_state {
    AMK_UAS_SERVICE = 0,    /* awaiting SERVICE_REQUEST "ssh-userauth" */
    AMK_UAS_READY,          /* awaiting a USERAUTH_REQUEST */
    AMK_UAS_KBDINT,         /* INFO_REQUEST sent, awaiting INFO_RESPONSE */
    AMK_UAS_DONE,           /* USERAUTH_SUCCESS sent */
    AMK_UAS_FAILED          /* fatal error */
};

/* The methods the engine knows, as bits. */
enum amk_uas_method {
    AMK_UAS_M_PUBLICKEY = 1 << 0,
    AMK_UAS_M_PASSWORD = 1 << 1,
    AMK_UAS_M_KBDINT = 1 << 2
};
#define AMK_UAS_N_METHODS 3

/* One list of auth_methods, completed in order. */
struct amk_uas_chain {
    unsigned methods[AMK_USERAUTH_SERVER_MAX_CHAIN_LEN];
    size_t n;
    size_t pos;             /* methods completed so far */
};

/* How a method's attempt ended (the one place every decision goes through). */
enum amk_uas_outcome {
    AMK_UAS_OUT_FAILURE = 0,        /* counted failure */
    AMK_UAS_OUT_FAILURE_FREE,       /* failure that is not counted (none, query) */
    AMK_UAS_OUT_SUCCESS,            /* the method succeeded */
    AMK_UAS_OUT_PARTIAL             /* succeeded, one more method needed */
};

struct amk_userauth_server {
    enum amk_uas_state state;
    struct amk_pkt_sink sink;
    struct amk_transport *transport;
    uint8_t *session_id;            /* without a transport */
    size_t session_id_len;
    char *service;
    char *banner;                   /* NULL: none, or already sent */
    amk_auth_password_fn password_cb;
    amk_auth_publickey_fn publickey_cb;
    amk_auth_opts_free_fn opts_free;
    amk_auth_kbdint_start_fn kbdint_start;
    amk_auth_kbdint_respond_fn kbdint_respond;
    amk_auth_kbdint_end_fn kbdint_end;
    int kbdint_builtin;             /* keyboard-interactive asks the password */
    void *user;
    unsigned enabled;               /* AMK_UAS_M_* bits with a callback */
    struct amk_uas_chain chains[AMK_USERAUTH_SERVER_MAX_CHAINS];
    size_t n_chains;                /* 0: any one enabled method */
    int permit_none;
    int allow_ssh_rsa;
    unsigned max_tries;
    unsigned max_kbdint_rounds;
    uint32_t failure_delay_ms;
    uint8_t *delay_key;
    size_t delay_key_len;
    struct amk_logger log;

    char *username;                 /* from the first request */
    unsigned failures;
    int need_more;                  /* a PARTIAL awaits one more method */
    unsigned used;                  /* AMK_UAS_M_* bits that succeeded */
    char methods_used[256];         /* "publickey,password", in order */
    char methods_left[64];          /* what the last FAILURE listed */
    struct amk_key *key;            /* last accepted key */
    char key_alg[AMK_NAME_MAX + 1]; /* its signature algorithm */
    void *key_opts;
    struct amk_buf *keys_used[AMK_USERAUTH_SERVER_MAX_KEYS_USED];  /* blobs */
    size_t n_keys_used;

    /* keyboard-interactive attempt */
    void *kbd_ctx;
    int kbd_active;                 /* kbd_ctx must be ended */
    unsigned kbd_rounds;
    size_t kbd_prompts;             /* prompts of the round in flight */

    /* a FAILURE held back (failure_delay_ms) */
    struct amk_buf *held;
    uint32_t held_delay_ms;

    int err;                        /* first fatal error */
    int reason;                     /* its DISCONNECT reason */
    struct amk_error detail;
};

/* Records @p code with @p reason and the detail; fatal codes fail the
 * engine. Returns @p code. */
int amk_uas_error(struct amk_userauth_server *s, int code, int reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A wire-level parse failure of @p what as the engine's error. */
int amk_uas_malformed(struct amk_userauth_server *s, int r, const char *what);

/* Hands @p b to the sink (fatal sink errors fail the engine). */
int amk_uas_send(struct amk_userauth_server *s, const struct amk_buf *b)
    __attribute__((warn_unused_result));

/*
 * The end of an attempt of @p method (one AMK_UAS_M_* bit, 0 for "none"
 * or unknown names): counts failures, advances the chains, and answers
 * with SUCCESS or FAILURE (possibly held back).
 */
int amk_uas_finish(struct amk_userauth_server *s, unsigned method,
    enum amk_uas_outcome outcome) __attribute__((warn_unused_result));

/* Maps a callback's return to an outcome. */
enum amk_uas_outcome amk_uas_decision(struct amk_userauth_server *s, int d, const char *what);

/* The session identifier, from the transport or the setter. */
void amk_uas_session_id(const struct amk_userauth_server *s, const uint8_t **id, size_t *len);

/* Method name <-> bit. */
const char *amk_uas_method_name(unsigned m);
unsigned amk_uas_method_by_name(const char *name, size_t len);

/* Chains (userauth_server_chain.c). */
int amk_uas_chains_parse(struct amk_userauth_server *s, const char *spec)
    __attribute__((warn_unused_result));
/* 1 when @p method may be tried now. */
int amk_uas_chains_allows(const struct amk_userauth_server *s, unsigned method);
/* Records that @p method succeeded. */
void amk_uas_chains_advance(struct amk_userauth_server *s, unsigned method);
/* 1 when some list is complete (always, without lists, once a method succeeded). */
int amk_uas_chains_complete(const struct amk_userauth_server *s);
/* The methods that can continue, comma-separated, into @p out. */
void amk_uas_chains_left(const struct amk_userauth_server *s, char *out, size_t cap);

/* Method handlers; @p b is past the method name. */
int amk_uas_password(struct amk_userauth_server *s, struct amk_buf *b)
    __attribute__((warn_unused_result));
/* @p req is the whole payload @p b views (the signed data is its start). */
int amk_uas_publickey(struct amk_userauth_server *s, struct amk_buf *b,
    const uint8_t *req) __attribute__((warn_unused_result));
int amk_uas_kbdint_request(struct amk_userauth_server *s, struct amk_buf *b)
    __attribute__((warn_unused_result));
int amk_uas_kbdint_response(struct amk_userauth_server *s, struct amk_buf *b)
    __attribute__((warn_unused_result));
/* keyboard-interactive as one password prompt (kbdint_password); the
 * engine is the per-attempt context. */
int amk_uas_kbdint_pw_start(void *user, const char *username, const char *submethods,
    struct amk_auth_kbdint_round *round, void **ctx);
int amk_uas_kbdint_pw_respond(void *user, void *ctx, const char *username,
    const char *const *responses, size_t n, struct amk_auth_kbdint_round *next);
/* Ends a running keyboard-interactive attempt (calls kbdint_end). */
void amk_uas_kbdint_abort(struct amk_userauth_server *s);

/* Drops the publickey blobs and options. */
void amk_uas_pubkey_clear(struct amk_userauth_server *s);

#endif
