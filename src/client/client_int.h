/*
 * Internals of the high-level client (amiko/client.h), shared by
 * client.c (configuration, connecting, host keys, the pump),
 * client_auth.c (the authentication chain) and client_channel.c
 * (channels and run).
 *
 * The session under a client always runs non-blocking: the client pumps
 * it (client_pump) and, in blocking mode, waits itself (client_wait) with
 * its own deadlines, so that a command that runs longer than any timeout
 * does not fail the connection.
 */
#ifndef AMK_CLIENT_CLIENT_INT_H
#define AMK_CLIENT_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/client.h>
#include <amiko/known_hosts.h>

#include "auth/userauth.h"
#include "channel/conn.h"
#include "util/err.h"
#include "util/log.h"

#define CLIENT_MAX_KEYS 16
#define CLIENT_N_SPECS 6            /* one per enum amk_alg_kind (1..5) */
#define CLIENT_SECRET_MAX AMK_USERAUTH_SECRET_MAX

enum client_state {
    CLIENT_IDLE = 0,        /* created, not connecting */
    CLIENT_HANDSHAKE,       /* TCP connect and key exchange */
    CLIENT_AUTH,            /* user authentication */
    CLIENT_CONNECTED,       /* channels may be used */
    CLIENT_CLOSING,         /* our DISCONNECT is being sent */
    CLIENT_CLOSED,          /* closed by amk_client_close() */
    CLIENT_FAILED           /* c->failed holds the error */
};

/* One key of the authentication chain. */
struct client_auth_key {
    struct amk_key *key;
    int owned;              /* loaded by the client: freed with it */
    char *label;            /* the file name, or "explicit key N" */
};

/* amk_client_run() in progress. */
struct client_run {
    struct amk_client_channel *ch;
    char *out, *err;
    size_t out_len, err_len, out_cap, err_cap;
    int out_eof, err_eof, eof_sent;
};

struct amk_client {
    enum client_state state;
    int failed;                     /* the first fatal error, AMK_OK while healthy */
    struct amk_error err;
    int blocking;
    int timeout_ms;                 /* each blocking call after connecting; < 0: none */
    int connect_timeout_ms;
    int64_t connect_deadline;
    int dirs;                       /* AMK_WAIT_* after the last AMK_EAGAIN */
    int took_input;                 /* packets taken in since amk_client_next_timeout() said so */
    struct amk_logger log;

    /* configuration */
    char *specs[CLIENT_N_SPECS];
    int compression;
    unsigned keepalive_ms, keepalive_max;
    enum amk_hostkey_policy policy;
    amk_client_hostkey_fn hostkey_fn;
    void *hostkey_user;
    struct amk_known_hosts *kh;
    char *user_kh_path;             /* where AMK_HOSTKEY_AUTO_ADD writes; NULL: memory only */
    struct amk_key *explicit_keys[CLIENT_MAX_KEYS];
    size_t n_explicit;
    char *key_files[CLIENT_MAX_KEYS];
    size_t n_key_files;
    int allow_default_keys;
    int use_publickey, use_password;
    amk_passphrase_fn passphrase_fn;
    void *passphrase_user;
    amk_client_password_fn password_fn;
    void *password_user;
    amk_client_kbdint_fn kbdint_fn;
    void *kbdint_user;

    /* the connection */
    char *host;
    uint16_t port;
    char *user;
    char *password;                 /* wiped when freed */
    struct amk_session *s;
    struct amk_userauth_client *ua;
    struct amk_conn *conn;
    int hostkey_failed;             /* the host-key check set c->err */

    /* the authentication chain */
    struct client_auth_key auth_keys[3 * CLIENT_MAX_KEYS];
    size_t n_auth_keys, next_key;
    int tried_kbdint, tried_password;
    char tried[256];                /* for the AMK_EAUTH detail */

    struct amk_client_channel *channels;   /* every live channel object */
    struct client_run run;
};

/* --- client.c ---------------------------------------------------------- */

/* Records a fatal error (the first stays) with a detail; returns @p code. */
int client_fail(struct amk_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Moves packets without waiting: sends what channels queued, hands every
 * packet that arrived to the engines and flushes. AMK_OK (c->dirs says
 * what to wait for) or the connection's fatal error.
 */
int client_pump(struct amk_client *c) __attribute__((warn_unused_result));
/*
 * Packet bytes taken per step by the callers that come back for the rest:
 * a channel's buffered data is then read while still in the cache (taking
 * all the socket holds buffered many MiB of it).
 */
#define CLIENT_RECV_STEP ((size_t)256 * 1024)
/* client_pump(), but with @p budget > 0 it stops reading the socket after
 * about that many bytes of packets (*@p cut = 1): input may be left in the
 * socket, so call again (or poll, level-triggered) before waiting. */
int client_pump_some(struct amk_client *c, size_t budget, int *cut)
    __attribute__((warn_unused_result));
/* amk_client_process() in one such step (for a caller that polls the
 * socket itself, level-triggered, before waiting). */
int client_process_step(struct amk_client *c) __attribute__((warn_unused_result));

/*
 * Blocking mode: waits for c->dirs or a timer, at most until @p deadline.
 * AMK_OK (call client_pump again) or AMK_ETIMEOUT when @p deadline passed.
 */
int client_wait(struct amk_client *c, int64_t deadline) __attribute__((warn_unused_result));

/* A condition of client_until: AMK_EAGAIN while not met, else its result. */
typedef int (*client_cond_fn)(struct amk_client *c, void *arg);

/*
 * Pumps until @p cond holds (blocking: waiting in between, up to the
 * client's timeout; non-blocking: AMK_EAGAIN when it does not hold yet).
 */
int client_until(struct amk_client *c, client_cond_fn cond, void *arg)
    __attribute__((warn_unused_result));

/* Sends queued output without waiting; sets c->dirs when some is left. */
void client_flush_quiet(struct amk_client *c);

/* --- client_auth.c ----------------------------------------------------- */

/* Loads key files and default keys into the chain (at connect). */
int client_auth_prepare(struct amk_client *c) __attribute__((warn_unused_result));
/* Creates and starts the engine after the key exchange. */
int client_auth_start(struct amk_client *c) __attribute__((warn_unused_result));
/* When the engine is idle: starts the next attempt, or AMK_OK with
 * c->state CONNECTED when authenticated, or fails with AMK_EAUTH. */
int client_auth_next(struct amk_client *c) __attribute__((warn_unused_result));
/* Frees the chain's keys and wipes the password. */
void client_auth_clear(struct amk_client *c);

/* --- client_channel.c -------------------------------------------------- */

/* Sends what channels queued (opens, requests); 1 when something was sent. */
int client_channels_advance(struct amk_client *c) __attribute__((warn_unused_result));
/* The client goes away: channels answer AMK_ECLOSED from now on. */
void client_channels_orphan(struct amk_client *c);
/* Frees the state of amk_client_run(). */
void client_run_clear(struct amk_client *c);

#endif
