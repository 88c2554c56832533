/**
 * @file amiko/server.h
 * @brief An SSH server: listen, accept and serve many connections in one
 * event loop, with authentication and session decisions in callbacks and
 * ready handlers for exec/shell and SFTP.
 *
 * A server is configured first (listen addresses, host keys, algorithms,
 * limits, authentication, sessions, logging), then run in one of three
 * ways:
 *
 * - amk_server_run(): a blocking epoll loop over every connection until
 *   amk_server_stop() (which is async-signal-safe and may be called from
 *   another thread);
 * - amk_server_get_fd() + amk_server_process(s, 0): for another event
 *   loop (another language's): wait until the descriptor is readable or
 *   amk_server_next_timeout() ms have passed, then call process;
 * - amk_server_serve_one(): accept one connection and serve it until it
 *   ends (simple programs, tests).
 *
 * Every connection is non-blocking; a connection's work per loop turn is
 * bounded (one read of at most 64 KiB, at most 64 packets, bounded
 * writes), so one client's flood or silence never starves the others.
 *
 * Defaults follow OpenSSH's sshd: login grace 120 s, 6 authentication
 * attempts, MaxStartups 10:30:100 (random early drop of unauthenticated
 * connections), 10 sessions per connection, no idle timeout, no
 * client-alive probes. A server with no authentication callback and no
 * authorized_keys file lets nobody in.
 *
 * Sessions: exec and shell requests run as the server process's own user
 * (the server never changes uid) when amk_server_set_exec() enabled the
 * ready handler: on a pty (forkpty) when one was requested, or on pipes;
 * the environment requests are filtered by an allow-list (LANG, LC_* by
 * default). The "sftp" subsystem is served by the built-in SFTP v3
 * server (OpenSSH extensions) when amk_server_set_sftp() enabled it,
 * optionally confined to a root directory and read-only. A session
 * callback (amk_server_set_session_callback()) may refuse requests or
 * handle a channel itself (amk_server_channel_write() and friends).
 *
 * A session's process still running when its channel or connection
 * closes gets SIGHUP (to its process group; its pty and pipes are
 * closed, as sshd releases the pty) and SIGKILL 1 s later if it is
 * still there; the loop reaps it through its pidfd and never waits for
 * it. The server installs no signal handler and reaps only its own
 * processes (never waitpid(-1)).
 *
 * Errors: functions return AMK_OK or a negative AMK_E... code;
 * amk_server_last_error() gives the detail of the last failure.
 *
 * Threading: a server is driven by one thread at a time; only
 * amk_server_stop() may be called from any thread or a signal handler.
 * No global state: several servers may run in one process.
 *
 * @code
 * struct amk_server *srv = NULL;
 * struct amk_key *hk = NULL;
 * int r = amk_server_new(&srv);
 * if (r == AMK_OK) r = amk_key_create(AMK_KEY_ED25519, 0, &hk);
 * if (r == AMK_OK) r = amk_server_add_host_key(srv, hk);
 * if (r == AMK_OK) r = amk_server_set_authorized_keys(srv, "alice", "/home/alice/.ssh/authorized_keys");
 * if (r == AMK_OK) r = amk_server_set_exec(srv, 1);
 * if (r == AMK_OK) r = amk_server_listen(srv, "127.0.0.1", 2222);
 * if (r == AMK_OK) r = amk_server_run(srv);
 * amk_server_free(srv);
 * amk_key_free(hk);
 * @endcode
 */
#ifndef AMIKO_SERVER_H
#define AMIKO_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "error.h"
#include "log.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A server (opaque). */
struct amk_server;
/** One client connection, as seen by callbacks (opaque; valid during the call). */
struct amk_server_conn;
/** A session channel handled by the application (opaque). */
struct amk_server_channel;

/** Limits for amk_server_set_limit(). Times are in milliseconds. */
enum amk_server_limit {
    /** Time from accept to authenticated (sshd LoginGraceTime); default 120000; 0: none. */
    AMK_SERVER_LOGIN_GRACE_MS = 1,
    /** Failed authentication attempts per connection (sshd MaxAuthTries); default 6. */
    AMK_SERVER_MAX_AUTH_TRIES,
    /** MaxStartups start: unauthenticated connections before random early drop; default 10. */
    AMK_SERVER_MAX_STARTUPS_START,
    /** MaxStartups rate: drop probability (percent) once start is reached; default 30. */
    AMK_SERVER_MAX_STARTUPS_RATE,
    /** MaxStartups full: unauthenticated connections above which all new ones are dropped; default 100. */
    AMK_SERVER_MAX_STARTUPS_FULL,
    /** Session channels open at once per connection (sshd MaxSessions); default 10, at most 64. */
    AMK_SERVER_MAX_SESSIONS,
    /** Close a connection that sent nothing for this long (an SFTP copy-data
     *  running for it counts as activity); default 0 (off). */
    AMK_SERVER_IDLE_TIMEOUT_MS,
    /** Send keepalive@openssh.com after this long without input (sshd ClientAliveInterval); default 0 (off). */
    AMK_SERVER_CLIENT_ALIVE_INTERVAL_MS,
    /** Unanswered client-alive probes before closing (ClientAliveCountMax); default 3. */
    AMK_SERVER_CLIENT_ALIVE_COUNT_MAX,
    /** Receive window per channel in bytes; default 2 MiB as sshd (64 KiB .. 1 GiB). */
    AMK_SERVER_WINDOW_SIZE,
    /** Largest channel data packet accepted, bytes; default 32 KiB (1 KiB .. 128 KiB). */
    AMK_SERVER_MAX_PACKET,
    /** Connections at once (authenticated or not); default 4096. */
    AMK_SERVER_MAX_CONNECTIONS,
    /** Failed authentication replies are held back at least this long (plus a
     *  stable per-user part of up to as much again), so timing does not tell
     *  which users exist; default 0 (off). */
    AMK_SERVER_AUTH_FAILURE_DELAY_MS
};

/** What an authentication callback answers. */
enum amk_server_auth {
    AMK_SERVER_AUTH_REJECT = 0,   /**< this attempt failed */
    AMK_SERVER_AUTH_ACCEPT = 1,   /**< this method succeeded */
    AMK_SERVER_AUTH_PARTIAL = 2,  /**< succeeded, but one more method is needed */
    AMK_SERVER_AUTH_CONTINUE = 3  /**< keyboard-interactive: send the prompts filled in */
};

/** Most prompts in one keyboard-interactive round. */
#define AMK_SERVER_PROMPTS_MAX 16

/** One keyboard-interactive round, filled in by ::amk_server_kbdint_fn. */
struct amk_server_prompts {
    const char *name;           /**< may be NULL */
    const char *instruction;    /**< may be NULL */
    size_t n;                   /**< 0..AMK_SERVER_PROMPTS_MAX */
    const char *prompt[AMK_SERVER_PROMPTS_MAX];
    int echo[AMK_SERVER_PROMPTS_MAX];   /**< 1: the answer may be shown */
};

/**
 * Password authentication. @p password is wiped after the call; compare
 * it with amk_server_password_equal(). Return an ::amk_server_auth value
 * (not CONTINUE).
 */
typedef int (*amk_server_password_fn)(void *user, struct amk_server_conn *conn,
    const char *username, const char *password);

/**
 * Public-key authentication: is @p key acceptable for @p username? Called
 * for queries and again for signed requests (the signature is already
 * verified); answer the same both times. Return an ::amk_server_auth value.
 */
typedef int (*amk_server_publickey_fn)(void *user, struct amk_server_conn *conn,
    const char *username, const struct amk_key *key);

/**
 * Keyboard-interactive. Round 0 is the start (@p responses NULL, @p n 0):
 * fill @p next and return AMK_SERVER_AUTH_CONTINUE, or decide. Later
 * rounds get the @p n answers to the previous prompts (wiped after the
 * call). Strings put in @p next MUST stay valid until the callback is
 * called again or the connection ends.
 */
typedef int (*amk_server_kbdint_fn)(void *user, struct amk_server_conn *conn,
    const char *username, unsigned round, const char *const *responses, size_t n,
    struct amk_server_prompts *next);

/** What a session request asks for, handed to ::amk_server_session_fn. */
struct amk_server_request {
    const char *type;           /**< "exec", "shell" or "subsystem" */
    const char *command;        /**< exec: the command (may be ""); else NULL */
    const char *subsystem;      /**< subsystem: its name; else NULL */
    int pty;                    /**< a pty was requested on the channel */
};

/** The answers of ::amk_server_session_fn. */
enum amk_server_session_action {
    /** Do what the configuration says (ready exec/shell handler, SFTP), or refuse. */
    AMK_SERVER_SESSION_DEFAULT = 0,
    /** Refuse the request (CHANNEL_FAILURE). */
    AMK_SERVER_SESSION_REFUSE = 1,
    /** The application handles the channel: data comes to the data callback
     *  and goes out with amk_server_channel_write(). */
    AMK_SERVER_SESSION_HANDLE = 2
};

/**
 * Decides on an exec, shell or subsystem request of a session channel.
 * Return an ::amk_server_session_action. MUST NOT free the server.
 */
typedef int (*amk_server_session_fn)(void *user, struct amk_server_conn *conn,
    struct amk_server_channel *ch, const struct amk_server_request *req);

/**
 * Data for a channel the application handles: @p len bytes on @p stream
 * (0 stdin, the only one a client sends); @p len 0 means EOF.
 */
typedef void (*amk_server_data_fn)(void *user, struct amk_server_channel *ch, int stream,
    const uint8_t *data, size_t len);

/** The channel ended (closed or the connection went); @p ch is invalid afterwards. */
typedef void (*amk_server_close_fn)(void *user, struct amk_server_channel *ch);

/* --- Life ------------------------------------------------------------ */

/**
 * Creates a server with the defaults.
 * @return AMK_OK; AMK_EINVAL (NULL @p out); AMK_ENOMEM; AMK_EIO (epoll or
 *         eventfd could not be made; the detail says why).
 */
AMK_API int amk_server_new(struct amk_server **out) AMK_MUST_CHECK;

/**
 * Closes every connection and listener and frees. Session processes
 * still running get SIGHUP, 100 ms, then SIGKILL, and are reaped: this
 * waits about 2.1 s at most (longer only for a process stuck in the
 * kernel, which is then left unreaped). NULL is fine.
 */
AMK_API void amk_server_free(struct amk_server *s);

/** The detail of the last failure, or "". Never NULL. */
AMK_API const char *amk_server_last_error(const struct amk_server *s);

/* --- Configuration ----------------------------------------------------- */

/**
 * Listens on @p address (numeric IPv4 or IPv6; NULL: 127.0.0.1) and
 * @p port (0: a free port, see amk_server_port()). Up to 8 listeners.
 * @return AMK_OK; AMK_EINVAL (bad address, too many); AMK_EIO (bind or
 *         listen failed, e.g. the port is in use; the detail names it).
 */
AMK_API int amk_server_listen(struct amk_server *s, const char *address, uint16_t port)
    AMK_MUST_CHECK;

/** The port listener @p i (0-based, in listen order) is bound to, or 0. */
AMK_API uint16_t amk_server_port(const struct amk_server *s, size_t i);

/**
 * Adds a host key (private; Ed25519, ECDSA or RSA, which signs with
 * rsa-sha2-512/256). At most one per type. Borrowed: it MUST outlive the
 * server. Clients learn every key after authentication
 * (hostkeys-00@openssh.com) and may ask the server to prove it holds them.
 * @return AMK_OK; AMK_EINVAL (NULL, no private half, a second key of a
 *         type, more than 8).
 */
AMK_API int amk_server_add_host_key(struct amk_server *s, struct amk_key *key) AMK_MUST_CHECK;

/**
 * Overrides the algorithms of @p kind with OpenSSH's syntax ("a,b",
 * "+a", "-a*", "^a"), as amk_session_set_algorithms(); checked here
 * (unknown names, an empty result).
 * @return AMK_OK; AMK_EINVAL (unknown kind, or a spec that leaves nothing);
 *         AMK_ENOTSUP (an unknown algorithm); AMK_ENOMEM.
 */
AMK_API int amk_server_set_algorithms(struct amk_server *s, enum amk_alg_kind kind,
    const char *spec) AMK_MUST_CHECK;

/**
 * Sets a limit (see ::amk_server_limit for the meanings and defaults).
 * @return AMK_OK; AMK_EINVAL (unknown limit or value out of range).
 */
AMK_API int amk_server_set_limit(struct amk_server *s, enum amk_server_limit which,
    uint64_t value) AMK_MUST_CHECK;

/** The current value of a limit (0 for an unknown one). */
AMK_API uint64_t amk_server_get_limit(const struct amk_server *s, enum amk_server_limit which);

/** Sends log lines at @p level and more severe to @p fn. NULL: none. */
AMK_API int amk_server_set_log(struct amk_server *s, amk_log_fn fn, void *user,
    enum amk_log_level level) AMK_MUST_CHECK;

/* --- Authentication ---------------------------------------------------- */

/** Enables password authentication through @p fn (NULL: off). */
AMK_API int amk_server_set_password_callback(struct amk_server *s, amk_server_password_fn fn,
    void *user) AMK_MUST_CHECK;

/** Enables public-key authentication through @p fn (NULL: off); see also
 *  amk_server_set_authorized_keys(). */
AMK_API int amk_server_set_publickey_callback(struct amk_server *s, amk_server_publickey_fn fn,
    void *user) AMK_MUST_CHECK;

/**
 * Enables keyboard-interactive through @p fn. Without it, but with a
 * password callback, keyboard-interactive is offered as one hidden
 * "Password: " prompt checked by the password callback (as sshd with PAM).
 */
AMK_API int amk_server_set_kbdint_callback(struct amk_server *s, amk_server_kbdint_fn fn,
    void *user) AMK_MUST_CHECK;

/**
 * Public-key authentication of user @p username (NULL: any user name) by
 * the authorized_keys file at @p path, read at each attempt, with its
 * options honoured: from= (against the client's address), expiry-time,
 * command= (forced command), no-pty, environment= (added to sessions),
 * restrict, cert-authority lines never match. Tried before the publickey
 * callback. NULL @p path turns it off.
 * @return AMK_OK; AMK_ENOMEM.
 */
AMK_API int amk_server_set_authorized_keys(struct amk_server *s, const char *username,
    const char *path) AMK_MUST_CHECK;

/**
 * Required method chains in sshd's AuthenticationMethods syntax, e.g.
 * "publickey,password publickey,keyboard-interactive"; NULL or "any": one
 * method suffices.
 * @return AMK_OK; AMK_ENOMEM. (Checked against the methods enabled when a
 *         connection starts: a chain naming a disabled method makes every
 *         connection fail, logged.)
 */
AMK_API int amk_server_set_auth_methods(struct amk_server *s, const char *methods)
    AMK_MUST_CHECK;

/**
 * 1 when @p given equals @p expected (both NUL-terminated), in time that
 * reveals neither where they differ nor their lengths.
 */
AMK_API int amk_server_password_equal(const char *given, const char *expected);

/* --- Sessions ---------------------------------------------------------- */

/**
 * Enables (1) or disables (0, the default) the ready exec/shell handler:
 * commands run as the server's user through the shell (@p shell, NULL:
 * $SHELL when absolute, else /bin/sh), with a pty when requested.
 */
AMK_API int amk_server_set_exec(struct amk_server *s, int enable) AMK_MUST_CHECK;

/** The shell of the exec handler (an absolute path; NULL: the default). */
AMK_API int amk_server_set_shell(struct amk_server *s, const char *shell) AMK_MUST_CHECK;

/**
 * The env requests accepted, as fnmatch(3) patterns separated by commas
 * (NULL: "LANG,LC_*"; "": none).
 */
AMK_API int amk_server_set_env_allow(struct amk_server *s, const char *patterns)
    AMK_MUST_CHECK;

/**
 * Enables (1) or disables (0, the default) the built-in "sftp" subsystem.
 * @p root (may be NULL) confines clients to that directory (seen as "/":
 * neither "..", absolute paths nor symlinks can leave it; Linux 5.6+);
 * @p read_only refuses every modifying request. Both bind only SFTP:
 * exec and shell (amk_server_set_exec()) are not confined, so a server
 * that relies on them should also call amk_server_set_sftp_only().
 * The root is opened here, once: the sessions stay in that directory even
 * if its path is renamed or replaced (by a symlink, say) afterwards.
 * Without a root, SFTP starts in the home of the server's user. All
 * sessions together hold at most half of RLIMIT_NOFILE handles (OPEN
 * past it: FAILURE, "Too many open files").
 * @return AMK_OK; AMK_EINVAL (root not a directory, or not openable);
 *         AMK_ENOMEM.
 */
AMK_API int amk_server_set_sftp(struct amk_server *s, int enable, const char *root,
    int read_only) AMK_MUST_CHECK;

/** 1: only the sftp subsystem is allowed (exec and shell refused). */
AMK_API int amk_server_set_sftp_only(struct amk_server *s, int sftp_only) AMK_MUST_CHECK;

/** Sets the session callback (see ::amk_server_session_fn); NULL: none. */
AMK_API int amk_server_set_session_callback(struct amk_server *s, amk_server_session_fn fn,
    void *user) AMK_MUST_CHECK;

/** The callbacks of channels the application handles (either may be NULL). */
AMK_API int amk_server_set_channel_callbacks(struct amk_server *s, amk_server_data_fn data,
    amk_server_close_fn closed, void *user) AMK_MUST_CHECK;

/**
 * Queues @p len bytes of output on a handled channel (@p stream 0 stdout,
 * 1 stderr), sent as the client's window allows. At most 1 MiB is queued
 * per channel.
 * @return AMK_OK (all taken); AMK_EAGAIN (the queue is full: nothing
 *         taken); AMK_ESTATE (the channel was closed or exit was sent);
 *         AMK_EINVAL; AMK_ENOMEM.
 */
AMK_API int amk_server_channel_write(struct amk_server_channel *ch, int stream,
    const void *data, size_t len) AMK_MUST_CHECK;

/**
 * Ends a handled channel once its queued output is sent: exit-status
 * @p status, EOF, CLOSE.
 * @return AMK_OK; AMK_ESTATE (already ended); AMK_EINVAL.
 */
AMK_API int amk_server_channel_exit(struct amk_server_channel *ch, int status) AMK_MUST_CHECK;

/** Attaches a pointer of the application to a channel. */
AMK_API void amk_server_channel_set_user(struct amk_server_channel *ch, void *user);
/** The pointer of amk_server_channel_set_user() (NULL before). */
AMK_API void *amk_server_channel_get_user(const struct amk_server_channel *ch);

/* --- Connection information (inside callbacks) --------------------------- */

/** The client's address, e.g. "127.0.0.1". */
AMK_API const char *amk_server_conn_peer_address(const struct amk_server_conn *c);
/** The client's port. */
AMK_API uint16_t amk_server_conn_peer_port(const struct amk_server_conn *c);
/** The authenticated user name, or NULL before authentication. */
AMK_API const char *amk_server_conn_user(const struct amk_server_conn *c);
/** A number for the connection, unique in the server's life (log lines use it). */
AMK_API uint64_t amk_server_conn_id(const struct amk_server_conn *c);

/* --- Running ----------------------------------------------------------- */

/**
 * Serves connections until amk_server_stop(): then stops listening,
 * closes every connection (DISCONNECT BY_APPLICATION) and returns.
 * @return AMK_OK after a stop; AMK_ESTATE (nothing to listen on, or no
 *         host key); AMK_EIO (epoll failed).
 */
AMK_API int amk_server_run(struct amk_server *s) AMK_MUST_CHECK;

/**
 * Asks amk_server_run() / amk_server_serve_one() to return (and makes
 * amk_server_process() return AMK_ECLOSED). Async-signal-safe; may be
 * called from any thread (it writes to an eventfd).
 */
AMK_API void amk_server_stop(struct amk_server *s);

/**
 * The descriptor another event loop waits on for readability (an epoll
 * descriptor covering every listener, connection and child process).
 */
AMK_API int amk_server_get_fd(const struct amk_server *s);

/**
 * How long another loop may wait before calling amk_server_process()
 * without the descriptor becoming readable (timers), ms; -1 when no timer
 * is armed.
 */
AMK_API int amk_server_next_timeout(const struct amk_server *s);

/**
 * Does the work that is ready, waiting at most @p timeout_ms for some
 * (0: never wait; -1: until something happens).
 * @return AMK_OK; AMK_ECLOSED (amk_server_stop() was called: connections
 *         have been closed); AMK_EIO.
 */
AMK_API int amk_server_process(struct amk_server *s, int timeout_ms) AMK_MUST_CHECK;

/**
 * Accepts one connection on the first listener and serves it until it
 * ends and its session processes are reaped (or amk_server_stop()).
 * @return AMK_OK (the connection ended); AMK_ECLOSED (stopped);
 *         AMK_ESTATE (no listener); AMK_EIO.
 */
AMK_API int amk_server_serve_one(struct amk_server *s) AMK_MUST_CHECK;

/** Connections open now, and those not yet authenticated. */
AMK_API size_t amk_server_connections(const struct amk_server *s, size_t *unauthenticated);

#ifdef __cplusplus
}
#endif
#endif
