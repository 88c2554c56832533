/**
 * @file amiko/client.h
 * @brief The high-level SSH client: connect with a host-key policy and an
 * authentication chain, run commands, open shells; the C form of
 * Paramiko's SSHClient.
 *
 * @code
 * struct amk_client *c = NULL;
 * char *out = NULL;
 * size_t outlen = 0;
 * int status = -1;
 * int r = amk_client_new(&c);
 * if (r == AMK_OK) r = amk_client_set_hostkey_policy(c, AMK_HOSTKEY_AUTO_ADD);
 * if (r == AMK_OK) r = amk_client_connect(c, "example.com", 22, "username", "password");
 * if (r == AMK_OK) r = amk_client_run(c, "ls -l", &out, &outlen, NULL, NULL, &status);
 * if (r == AMK_OK) fwrite(out, 1, outlen, stdout);
 * else fprintf(stderr, "%s\n", amk_client_last_error(c));
 * free(out);
 * amk_client_free(c);
 * @endcode
 *
 * **Modes.** Every call that can wait works in two modes on the same
 * client, as amk_session does:
 * - blocking (the default): the call returns when it is done, or with
 *   AMK_ETIMEOUT after the client's timeout (amk_client_set_timeout());
 *   connecting is bounded by the connect timeout;
 * - non-blocking (amk_client_set_blocking(c, 0)): the call returns
 *   AMK_EAGAIN when it cannot finish now; the caller polls
 *   amk_client_get_fd() for amk_client_block_directions() (at most
 *   amk_client_next_timeout() ms, asked after a pass over every channel
 *   it waits on) and calls it again with the same arguments.
 *
 * **Host keys.** The server's key is looked up in the known_hosts files
 * loaded with amk_client_load_system_host_keys() and
 * amk_client_load_host_keys() (nothing is loaded by default, as in
 * Paramiko). A key that differs from a known one always fails the
 * connection with AMK_EHOSTKEY_CHANGED (the detail names the known_hosts
 * file and line), and a @revoked one with AMK_EHOSTKEY_REVOKED, whatever
 * the policy. A host that is not known at all is handled by the policy
 * (::amk_hostkey_policy).
 *
 * **Authentication.** amk_client_connect() tries, in order, while the
 * server accepts "publickey": the keys given with amk_client_add_key(),
 * the key files given with amk_client_add_key_file(), and (when allowed,
 * the default) ~/.ssh/id_ed25519, id_ecdsa, id_rsa and id_dsa; then
 * "keyboard-interactive" when a callback is set, then "password" with the
 * password given (or from the password callback). Partial success
 * (RFC 4252 §5.1) continues with the next method. Each attempt's outcome
 * is logged at AMK_LOG_INFO.
 *
 * **Channels.** One connection carries any number of channels at once,
 * driven from one thread: each call on a channel also processes what the
 * server sent for the others. A channel (struct amk_client_channel) is
 * freed by its caller with amk_client_channel_free(), before or after the
 * client; once the client is freed, its channels only answer AMK_ECLOSED.
 *
 * A client and its channels are used by one thread at a time.
 */
#ifndef AMIKO_CLIENT_H
#define AMIKO_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "key.h"
#include "log.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An SSH client (opaque). */
struct amk_client;
/** A session channel of a client: a command, a shell or a subsystem (opaque). */
struct amk_client_channel;

/** What to do with a server whose host is not in known_hosts. */
enum amk_hostkey_policy {
    AMK_HOSTKEY_REJECT = 0,     /**< refuse: AMK_EHOSTKEY_UNKNOWN (the default) */
    AMK_HOSTKEY_AUTO_ADD = 1,   /**< accept and add the key to the user's known_hosts
                                     file (the one loaded with amk_client_load_host_keys(),
                                     else only in memory) */
    AMK_HOSTKEY_WARN = 2,       /**< accept, log a warning, remember nothing */
    AMK_HOSTKEY_CALLBACK = 3    /**< ask the callback of amk_client_set_hostkey_callback() */
};

/**
 * Decides on an unknown host's key (::AMK_HOSTKEY_CALLBACK).
 * @param user the pointer given to amk_client_set_hostkey_callback()
 * @param host the host name given to amk_client_connect()
 * @param port its port
 * @param key  the server's public key (proven held by the server); valid
 *             during the call only
 * @return AMK_OK to accept the key for this connection (nothing is
 *         written), any other value to refuse (the connection fails with
 *         AMK_EHOSTKEY_UNKNOWN). MUST NOT call into the client.
 */
typedef int (*amk_client_hostkey_fn)(void *user, const char *host, unsigned port,
    const struct amk_key *key);

/**
 * Supplies a password when the chain reaches "password" and none was
 * given to amk_client_connect(). Write a NUL-terminated password of at
 * most @p cap - 1 bytes into @p buf and return AMK_OK, or return another
 * code to skip password authentication. @p buf is wiped after use.
 */
typedef int (*amk_client_password_fn)(void *user, const char *username, const char *host,
    char *buf, size_t cap);

/**
 * Answers one keyboard-interactive round (RFC 4256 §3.2): @p n prompts,
 * each with its text and whether the answer may be echoed. Write answer
 * i, NUL-terminated, of at most @p cap - 1 bytes, into @p answers[i]
 * (zeroed, wiped after use) and return AMK_OK; any other value cancels
 * the method. Texts are sanitised and valid during the call only.
 */
typedef int (*amk_client_kbdint_fn)(void *user, const char *name, const char *instruction,
    const char *const *prompts, const int *echo, size_t n, char *const *answers, size_t cap);

/** Flags of amk_client_exec() and amk_client_channel_open(). */
#define AMK_CLIENT_MERGE_STDERR 0x1u  /**< deliver stderr with stdout, in arrival order */
#define AMK_CLIENT_PTY 0x2u           /**< request a pseudo-terminal (TERM "xterm", 80x24) */

/** Default connect timeout (TCP connect, key exchange and authentication), ms. */
#define AMK_CLIENT_CONNECT_TIMEOUT_DEFAULT 30000
/** Largest output amk_client_run() collects per stream (1 GiB); more is AMK_ELIMIT. */
#define AMK_CLIENT_RUN_MAX ((size_t)1 << 30)

/* --- Creating and configuring ---------------------------------------- */

/**
 * Creates a client: blocking, policy AMK_HOSTKEY_REJECT, no known hosts,
 * default keys allowed, no timeout for channel calls.
 * @return AMK_OK with *@p out set; AMK_EINVAL (NULL @p out); AMK_ENOMEM.
 */
AMK_API int amk_client_new(struct amk_client **out) AMK_MUST_CHECK;

/**
 * Frees the client: drops the connection without a DISCONNECT (call
 * amk_client_close() first to say goodbye) and wipes its secrets. Its
 * channels stay valid objects that answer AMK_ECLOSED. NULL is fine.
 */
AMK_API void amk_client_free(struct amk_client *c);

/**
 * Sets the policy for unknown hosts. AMK_OK; AMK_EINVAL (unknown policy).
 * ::AMK_HOSTKEY_CALLBACK may be set before or after
 * amk_client_set_hostkey_callback(): the order does not matter. If no
 * callback has been set by the time of amk_client_connect(), the connect
 * fails with AMK_EINVAL (and a message saying so) before any network I/O.
 */
AMK_API int amk_client_set_hostkey_policy(struct amk_client *c, enum amk_hostkey_policy policy)
    AMK_MUST_CHECK;

/** Sets the callback of ::AMK_HOSTKEY_CALLBACK and selects that policy. AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_hostkey_callback(struct amk_client *c, amk_client_hostkey_fn fn,
    void *user) AMK_MUST_CHECK;

/**
 * Loads the system known_hosts file @p path (NULL: /etc/ssh/ssh_known_hosts).
 * Entries are used for checking only; nothing is ever written there. A
 * missing file is not an error.
 * @return AMK_OK; AMK_EIO; AMK_ETOOBIG; AMK_ENOMEM; AMK_EINVAL.
 */
AMK_API int amk_client_load_system_host_keys(struct amk_client *c, const char *path)
    AMK_MUST_CHECK;

/**
 * Loads the user's known_hosts file @p path (NULL: ~/.ssh/known_hosts)
 * and makes it the file AMK_HOSTKEY_AUTO_ADD appends to. A missing file
 * is not an error (it is created when a key is added).
 * @return as amk_client_load_system_host_keys().
 */
AMK_API int amk_client_load_host_keys(struct amk_client *c, const char *path) AMK_MUST_CHECK;

/**
 * Adds a private key to try first (before key files and default keys).
 * The key is borrowed: it MUST stay alive until the client is freed.
 * @return AMK_OK; AMK_EINVAL (NULL); AMK_EKEY (no private half);
 *         AMK_ELIMIT (more than 16 keys); AMK_ENOMEM.
 */
AMK_API int amk_client_add_key(struct amk_client *c, struct amk_key *key) AMK_MUST_CHECK;

/**
 * Adds a private key file to try after the explicit keys. It is read by
 * amk_client_connect(); one that cannot be read or decrypted is logged and
 * skipped.
 * @return AMK_OK; AMK_EINVAL; AMK_ELIMIT (more than 16 files); AMK_ENOMEM.
 */
AMK_API int amk_client_add_key_file(struct amk_client *c, const char *path) AMK_MUST_CHECK;

/** Whether ~/.ssh/id_ed25519, id_ecdsa, id_rsa and id_dsa are tried (default 1). AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_allow_default_keys(struct amk_client *c, int allow) AMK_MUST_CHECK;

/** Enables (1, default) or disables (0) publickey / password authentication. AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_auth_methods(struct amk_client *c, int publickey, int password)
    AMK_MUST_CHECK;

/** Sets the callback that decrypts key files (may be NULL). AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_passphrase_callback(struct amk_client *c, amk_passphrase_fn fn,
    void *user) AMK_MUST_CHECK;

/** Sets the callback asked for a password when none is given (may be NULL). AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_password_callback(struct amk_client *c, amk_client_password_fn fn,
    void *user) AMK_MUST_CHECK;

/** Sets the keyboard-interactive callback; without one the method is not tried. AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_kbdint_callback(struct amk_client *c, amk_client_kbdint_fn fn,
    void *user) AMK_MUST_CHECK;

/**
 * Sets the algorithms offered for @p kind (OpenSSH syntax, see
 * amk_session_set_algorithms()); NULL restores the defaults.
 * @return AMK_OK; AMK_EINVAL; AMK_ESTATE (connecting started); AMK_ENOMEM.
 */
AMK_API int amk_client_set_algorithms(struct amk_client *c, enum amk_alg_kind kind,
    const char *spec) AMK_MUST_CHECK;

/** Offers zlib@openssh.com and zlib compression first (1) or only "none" (0, default). */
AMK_API int amk_client_set_compression(struct amk_client *c, int enable) AMK_MUST_CHECK;

/**
 * Sets the connect timeout (TCP connect, key exchange and authentication
 * together) in ms; negative: none. Default AMK_CLIENT_CONNECT_TIMEOUT_DEFAULT.
 */
AMK_API int amk_client_set_connect_timeout(struct amk_client *c, int timeout_ms) AMK_MUST_CHECK;

/**
 * Sets the timeout of each blocking call after connecting (exec, read,
 * write, exit status, run), in ms; negative (the default): none. An
 * expired call returns AMK_ETIMEOUT and leaves the connection usable.
 */
AMK_API int amk_client_set_timeout(struct amk_client *c, int timeout_ms) AMK_MUST_CHECK;

/**
 * Sends keepalive@openssh.com every @p interval_ms when connected (0: never,
 * the default); after @p count_max (0: 3) unanswered the connection fails
 * with AMK_ETIMEOUT (OpenSSH's ServerAliveInterval / ServerAliveCountMax).
 * Set before amk_client_connect().
 */
AMK_API int amk_client_set_keepalive(struct amk_client *c, unsigned interval_ms,
    unsigned count_max) AMK_MUST_CHECK;

/** Chooses blocking (non-zero, the default) or non-blocking mode. AMK_OK; AMK_EINVAL. */
AMK_API int amk_client_set_blocking(struct amk_client *c, int blocking) AMK_MUST_CHECK;

/** Sends log lines at @p level and more severe to @p fn (NULL: off). Set before connecting. */
AMK_API int amk_client_set_log(struct amk_client *c, amk_log_fn fn, void *user,
    enum amk_log_level level) AMK_MUST_CHECK;

/* --- Connecting ------------------------------------------------------ */

/**
 * Connects to @p host on @p port (0: 22) as @p user, checks the host key
 * and authenticates (see the chain above) with @p password (may be NULL).
 * Non-blocking: AMK_EAGAIN until done; call again with the same arguments.
 * @return AMK_OK (connected and authenticated);
 *   AMK_EAGAIN; AMK_EINVAL (NULL or empty host or user); AMK_ESTATE
 *   (already connected, or failed: free the client);
 *   AMK_ERESOLVE, AMK_ECONNECT, AMK_ETIMEOUT, AMK_ECLOSED,
 *   AMK_EDISCONNECT, AMK_EIO, the transport's protocol and crypto codes
 *   (see amk_session_handshake());
 *   AMK_EHOSTKEY_UNKNOWN (refused by the policy), AMK_EHOSTKEY_CHANGED,
 *   AMK_EHOSTKEY_REVOKED; AMK_EAUTH (every method tried failed; the
 *   detail lists the attempts); AMK_ENOMEM.
 * Every failure is final for this client.
 */
AMK_API int amk_client_connect(struct amk_client *c, const char *host, uint16_t port,
    const char *user, const char *password) AMK_MUST_CHECK;

/**
 * Says goodbye (SSH_MSG_DISCONNECT) and closes the connection; channels
 * then answer AMK_ECLOSED. Non-blocking: AMK_EAGAIN until sent. Closing an
 * unconnected or failed client is AMK_OK.
 */
AMK_API int amk_client_close(struct amk_client *c) AMK_MUST_CHECK;

/**
 * Processes what the server sent (for every channel) and sends what is
 * queued, without waiting. For event loops: call it when the descriptor
 * is ready or the timeout passed.
 * @return AMK_OK (nothing more to do now; see amk_client_block_directions());
 *         the connection's error once it failed.
 */
AMK_API int amk_client_process(struct amk_client *c) AMK_MUST_CHECK;

/** After AMK_EAGAIN: AMK_WAIT_READ and/or AMK_WAIT_WRITE on amk_client_get_fd(). */
AMK_API int amk_client_block_directions(const struct amk_client *c);
/** The descriptor to poll, or -1. */
AMK_API int amk_client_get_fd(const struct amk_client *c);
/**
 * The longest a poll may last before the client must be called again, ms;
 * -1: no limit. 0 once after any call took packets in since the previous
 * amk_client_next_timeout(): a call on one channel (a read, an exit status,
 * amk_client_process()) may take in data, EOF or the exit of the others,
 * which leaves nothing on the descriptor to wake a poll. So a loop asks for
 * the timeout after it passed over every channel it waits on, and passes
 * over them again without blocking when it gets 0. Otherwise the time to
 * the next timer (keepalive, rekey, connect timeout).
 */
AMK_API int amk_client_next_timeout(struct amk_client *c);

/** The detail of the last failure, or "". Never NULL. */
AMK_API const char *amk_client_last_error(const struct amk_client *c);

/** The client's session (algorithms, host key, peer version); NULL before connecting. */
AMK_API struct amk_session *amk_client_session(struct amk_client *c);

/* --- Commands, shells and channels ----------------------------------- */

/**
 * Opens a session channel (RFC 4254 §6.1) with @p flags (AMK_CLIENT_*).
 * Requests made on it before the server confirmed it are sent once it
 * does. Blocking: waits for the confirmation. Non-blocking: returns
 * AMK_OK at once; the channel's calls return AMK_EAGAIN until it is ready.
 * @return AMK_OK with *@p out; AMK_EINVAL; AMK_ESTATE (not connected);
 *   AMK_EREFUSED (the server refused the channel; blocking only, the
 *   detail gives its reason); AMK_ETIMEOUT; the connection's error; AMK_ENOMEM.
 */
AMK_API int amk_client_channel_open(struct amk_client *c, unsigned flags,
    struct amk_client_channel **out) AMK_MUST_CHECK;

/**
 * Requests a pseudo-terminal (RFC 4254 §6.2) of @p cols x @p rows with
 * TERM @p term (NULL: "xterm"), @p cols x @p rows 0: 80 x 24. Blocking:
 * waits for the answer. Non-blocking: AMK_OK once queued (see
 * amk_client_channel_ready()).
 * @return AMK_OK; AMK_EREFUSED; AMK_ESTATE (a command was already
 *   started); AMK_ELIMIT (16 requests); AMK_ETIMEOUT; the channel's error.
 */
AMK_API int amk_client_channel_request_pty(struct amk_client_channel *ch, const char *term,
    unsigned cols, unsigned rows) AMK_MUST_CHECK;

/** Sets an environment variable (RFC 4254 §6.4; the server may ignore it). As above, never waits. */
AMK_API int amk_client_channel_setenv(struct amk_client_channel *ch, const char *name,
    const char *value) AMK_MUST_CHECK;

/**
 * Starts @p command (exec, RFC 4254 §6.5) on the channel. Blocking: waits
 * until the server accepted it. Non-blocking: AMK_OK once queued; the
 * channel's calls return AMK_EAGAIN until the server answered (see
 * amk_client_channel_ready()).
 * @return AMK_OK; AMK_EREFUSED (the server refused a request); AMK_ESTATE
 *   (already started); AMK_EINVAL; AMK_ETIMEOUT; the channel's error.
 */
AMK_API int amk_client_channel_exec(struct amk_client_channel *ch, const char *command)
    AMK_MUST_CHECK;
/** Starts the user's shell (RFC 4254 §6.5); as amk_client_channel_exec(). */
AMK_API int amk_client_channel_shell(struct amk_client_channel *ch) AMK_MUST_CHECK;
/** Starts subsystem @p name (e.g. "sftp"); as amk_client_channel_exec(). */
AMK_API int amk_client_channel_subsystem(struct amk_client_channel *ch, const char *name)
    AMK_MUST_CHECK;

/**
 * Opens a channel and runs @p command on it with @p flags: both calls
 * above in one.
 * @return as amk_client_channel_open() and amk_client_channel_exec().
 */
AMK_API int amk_client_exec(struct amk_client *c, const char *command, unsigned flags,
    struct amk_client_channel **out) AMK_MUST_CHECK;

/**
 * Opens a channel with a pty of @p cols x @p rows (0: 80 x 24) and TERM
 * @p term (NULL: "xterm") and starts the user's shell.
 */
AMK_API int amk_client_shell(struct amk_client *c, const char *term, unsigned cols,
    unsigned rows, struct amk_client_channel **out) AMK_MUST_CHECK;

/**
 * Runs @p command and collects its whole output: *@p out / *@p outlen
 * (stdout; NUL-terminated, free() it) and *@p err / *@p errlen (stderr;
 * each pair may be NULL to drop that stream), and *@p status (the exit
 * status; 128 + the signal number when the command died of a signal,
 * -1 when the server sent neither). stdin is empty.
 * Non-blocking: AMK_EAGAIN until done; call again with the same
 * arguments (one run at a time per client).
 * @return AMK_OK; AMK_ELIMIT (a stream longer than AMK_CLIENT_RUN_MAX);
 *   and the codes of amk_client_exec() and amk_client_channel_read().
 */
AMK_API int amk_client_run(struct amk_client *c, const char *command, char **out,
    size_t *outlen, char **err, size_t *errlen, int *status) AMK_MUST_CHECK;

/**
 * AMK_OK once the server confirmed the channel and accepted every request
 * so far; AMK_EAGAIN while an answer is outstanding (non-blocking; in
 * blocking mode this waits); AMK_EREFUSED or the connection's error when
 * it failed.
 */
AMK_API int amk_client_channel_ready(struct amk_client_channel *ch) AMK_MUST_CHECK;

/**
 * Reads up to @p cap bytes of the command's stdout (with stderr when
 * merged). Blocking: waits for at least one byte or the end.
 * @return AMK_OK with *@p got > 0; AMK_OK with *@p got 0 at the end of
 *   the stream; AMK_EAGAIN; AMK_ETIMEOUT; AMK_EREFUSED; the connection's
 *   error; AMK_EINVAL.
 */
AMK_API int amk_client_channel_read(struct amk_client_channel *ch, void *buf, size_t cap,
    size_t *got) AMK_MUST_CHECK;
/** As amk_client_channel_read() for stderr (always at its end when merged). */
AMK_API int amk_client_channel_read_stderr(struct amk_client_channel *ch, void *buf, size_t cap,
    size_t *got) AMK_MUST_CHECK;

/**
 * Writes to the command's stdin. Blocking: writes all @p len bytes (as
 * the server's window allows). Non-blocking: as much as fits now.
 * @return AMK_OK with *@p written (> 0 unless @p len is 0); AMK_EAGAIN
 *   (nothing fitted); AMK_ECLOSED (the server closed the channel);
 *   AMK_ESTATE (after amk_client_channel_send_eof()); AMK_ETIMEOUT;
 *   AMK_EREFUSED; the connection's error.
 */
AMK_API int amk_client_channel_write(struct amk_client_channel *ch, const void *buf, size_t len,
    size_t *written) AMK_MUST_CHECK;

/** Ends stdin (CHANNEL_EOF, RFC 4254 §5.3). AMK_OK; AMK_EAGAIN; the channel's error. */
AMK_API int amk_client_channel_send_eof(struct amk_client_channel *ch) AMK_MUST_CHECK;

/**
 * The command's exit status (RFC 4254 §6.10). Blocking: waits for it.
 * @return AMK_OK with *@p status; AMK_EAGAIN; AMK_ECLOSED (the channel
 *   closed without one: see amk_client_channel_exit_signal()); AMK_ETIMEOUT;
 *   AMK_EREFUSED; the connection's error.
 */
AMK_API int amk_client_channel_exit_status(struct amk_client_channel *ch, int *status)
    AMK_MUST_CHECK;

/**
 * The signal that ended the command, without "SIG" (e.g. "TERM"), valid
 * while the channel lives. Blocking: waits for the channel's end.
 * @return AMK_OK; AMK_EAGAIN; AMK_ECLOSED (none was sent); as above.
 */
AMK_API int amk_client_channel_exit_signal(struct amk_client_channel *ch, const char **signal)
    AMK_MUST_CHECK;

/**
 * Sends a signal (RFC 4254 §6.9), @p name without "SIG" (servers may
 * ignore it: OpenSSH's sshd acts only with privilege separation).
 * AMK_OK; AMK_EAGAIN (not ready yet); the channel's error.
 */
AMK_API int amk_client_channel_signal(struct amk_client_channel *ch, const char *name)
    AMK_MUST_CHECK;

/** Tells the server the terminal's new size (RFC 4254 §6.7). */
AMK_API int amk_client_channel_window_change(struct amk_client_channel *ch, unsigned cols,
    unsigned rows) AMK_MUST_CHECK;

/** Bits of amk_client_channel_poll(). */
#define AMK_CLIENT_EV_STDOUT 0x1u   /**< stdout can be read (data or its end) */
#define AMK_CLIENT_EV_STDERR 0x2u   /**< stderr can be read (data or its end) */
#define AMK_CLIENT_EV_WRITABLE 0x4u /**< stdin accepts data */
#define AMK_CLIENT_EV_EXIT 0x8u     /**< exit status or signal received */
#define AMK_CLIENT_EV_CLOSED 0x10u  /**< the channel has ended (or failed) */

/** What the channel can do now without waiting (AMK_CLIENT_EV_*); never waits. */
AMK_API unsigned amk_client_channel_poll(struct amk_client_channel *ch);

/**
 * Closes the channel (CHANNEL_CLOSE) and, blocking, waits for the
 * server's. Output not read yet stays readable. AMK_OK; AMK_EAGAIN.
 */
AMK_API int amk_client_channel_close(struct amk_client_channel *ch) AMK_MUST_CHECK;

/** The detail of the channel's last failure, or "". */
AMK_API const char *amk_client_channel_last_error(const struct amk_client_channel *ch);

/** Frees the channel (closing it without waiting). NULL is fine. */
AMK_API void amk_client_channel_free(struct amk_client_channel *ch);

#ifdef __cplusplus
}
#endif
#endif
