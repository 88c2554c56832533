/*
 * The ready handler of one "session" channel on the server side (RFC 4254
 * §6): it takes the channel's requests (pty-req, env, exec, shell,
 * subsystem, window-change, signal, break), runs the command as the
 * server process's own user (the server never changes uid) through the
 * shell (`shell -c command`, or a login shell for "shell"), on a pty or on
 * pipes, moves data both ways with flow control, and ends the channel as
 * OpenSSH does: exit-status (or exit-signal), EOF, CLOSE.
 *
 * It is a front-layer object (it forks, reads and writes descriptors)
 * driven by the server core's event loop; it never blocks (except for
 * the bounded grace in amk_srv_chan_free(), which the server core avoids
 * with amk_srv_chan_take_proc()) and uses no global state: the
 * process's exit is learnt through a pidfd (Linux 5.3+) that the loop
 * polls, not through SIGCHLD. Buffers are bounded: at most 32 KiB staged
 * per direction and stream; the rest waits in the process's pipe (its
 * writes block) or in the connection engine's receive window (the peer's
 * sends stop).
 *
 * How the core uses it, for each accepted "session" channel @c id of the
 * connection engine @c conn:
 *
 *   1. In (or right after) the engine's open_cb for type "session":
 *      amk_srv_chan_new(conn, id, &policy, &sc). The policy is copied.
 *   2. In the engine's request_cb (struct amk_conn_config.request_cb),
 *      for requests whose req->id is this channel:
 *          return amk_srv_chan_on_request(sc, req);
 *      (It never calls into the engine, as request_cb requires.)
 *   3. In the event loop, every iteration and for every channel:
 *          n = amk_srv_chan_pollfds(sc, fds + k, cap - k);   (<= AMK_SRV_CHAN_POLLFDS_MAX)
 *      poll() them together with the connection's socket, then, after
 *      handing the socket's received payloads to amk_conn_handle():
 *          r = amk_srv_chan_pump(sc, fds + k, n);
 *      pump() MUST be called every iteration even when none of its fds
 *      fired: it also reacts to the engine (new channel data, window
 *      adjusts, the peer's EOF or CLOSE) and retries output the transport
 *      refused. The set of fds and their events changes from one call to
 *      the next (a level-triggered loop just asks again).
 *   4. When amk_srv_chan_done(sc) is 1 (or the connection ends):
 *      amk_srv_chan_free(sc). free() also releases channel @c id in the
 *      engine (amk_conn_channel_release()), so the core MUST NOT release
 *      it itself, and MUST free the handler before amk_conn_free().
 *
 * A subsystem request goes to policy.subsystem_cb: the core refuses it,
 * names a command to run (e.g. /usr/lib/openssh/sftp-server), or serves
 * it itself over the channel (the built-in SFTP server): then the
 * handler stops touching the channel's data (pollfds() gives nothing,
 * pump() does nothing, done() stays 0) and the core reads and writes the
 * channel and frees the handler when it has finished with it.
 *
 * Threading: one thread at a time, the one driving the engine.
 */
#ifndef AMK_SERVER_SESSION_CHAN_H
#define AMK_SERVER_SESSION_CHAN_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

#include "channel/conn.h"

#define AMK_SRV_CHAN_MUST_CHECK __attribute__((warn_unused_result))

/* Most pollfd entries amk_srv_chan_pollfds() asks for. */
#define AMK_SRV_CHAN_POLLFDS_MAX 4
/* How long amk_srv_chan_free() waits after SIGHUP before SIGKILL. */
#define AMK_SRV_CHAN_HUP_GRACE_MS 50
/* env requests kept per channel at most (more are refused). */
#define AMK_SRV_CHAN_ENV_MAX 64

struct amk_srv_chan;
struct amk_proc;

/* What the core decides for a subsystem request. */
enum amk_srv_subsys {
    AMK_SRV_SUBSYS_REFUSE = 0,  /* CHANNEL_FAILURE */
    AMK_SRV_SUBSYS_COMMAND,     /* run *command (through the shell, on pipes) */
    AMK_SRV_SUBSYS_INTERNAL     /* the core serves it over channel @p id itself */
};

/*
 * Decides on subsystem @p name (e.g. "sftp") of channel @p id. For
 * AMK_SRV_SUBSYS_COMMAND set *@p command: the handler copies it at once
 * (a string literal is fine) and runs it through the shell on pipes.
 * MUST NOT call into the engine (it runs inside request_cb).
 */
typedef enum amk_srv_subsys (*amk_srv_subsystem_fn)(void *user, struct amk_srv_chan *sc,
    uint32_t id, const char *name, const char **command);

/* Zero-initialise, then set what you need; strings are copied by new(). */
struct amk_srv_chan_policy {
    /* authorized_keys command=: runs instead of whatever the client asks
     * (exec, shell or subsystem); the client's command, if any, goes to
     * the environment as SSH_ORIGINAL_COMMAND. */
    const char *forced_command;
    int no_pty;                 /* refuse pty-req (authorized_keys no-pty / restrict) */
    /* fnmatch(3) patterns of the env request names accepted; NULL: the
     * OpenSSH AcceptEnv default "LANG", "LC_*"; a list holding only NULL:
     * none. NULL-terminated. */
    const char *const *env_allow;
    const char *shell;          /* absolute path; NULL: $SHELL if absolute, else /bin/sh */
    const char *home;           /* working directory; NULL: "/" */
    /* The base environment as "NAME=value" strings, NULL-terminated: the
     * core puts USER, LOGNAME, HOME, PATH, SSH_CONNECTION, SSH_CLIENT,
     * ... here. PATH and SHELL get defaults when missing. Accepted env
     * requests come on top; TERM (with a pty) and SSH_ORIGINAL_COMMAND
     * on top of those. */
    const char *const *env;
    amk_srv_subsystem_fn subsystem_cb; /* NULL: every subsystem refused */
    void *user;                 /* passed to subsystem_cb */
};

/*
 * Creates the handler of session channel @p id of @p conn (already
 * accepted). Does not call into the engine. AMK_EINVAL (NULL arguments,
 * a relative shell path), AMK_ENOMEM.
 */
int amk_srv_chan_new(struct amk_conn *conn, uint32_t id, const struct amk_srv_chan_policy *policy,
    struct amk_srv_chan **out) AMK_SRV_CHAN_MUST_CHECK;

/*
 * Acts on a request of the channel (from request_cb) and returns the
 * answer for the engine: AMK_REQ_SUCCESS, AMK_REQ_FAILURE, or what
 * subsystem_cb asked for. pty-req (unless no_pty; once, before the
 * process starts), env (allow-listed names, before the start), exec /
 * shell / subsystem (once: starts the process), window-change (with a
 * pty), signal (to the process group, while it runs) succeed; break,
 * x11-req, auth-agent-req@openssh.com and anything else fail. A process
 * that cannot be started (fork, pty or pidfd failure) is a FAILURE.
 */
int amk_srv_chan_on_request(struct amk_srv_chan *sc, const struct amk_conn_chreq *req);

/* 1 while the channel's process runs without a pidfd (pidfd_open is
 * missing or forbidden): its exit is then found by polling, so the loop
 * must pump the channel every AMK_SRV_CHILD_POLL_MS. */
#define AMK_SRV_CHILD_POLL_MS 50
int amk_srv_chan_polls_child(const struct amk_srv_chan *sc);

/* Fills up to @p cap entries (events set, revents 0) with the descriptors
 * it waits on now; returns the count. Entries with fd -1 never appear. */
size_t amk_srv_chan_pollfds(const struct amk_srv_chan *sc, struct pollfd *fds, size_t cap);

/*
 * Moves data and advances the channel, using the revents of its entries
 * among @p fds (any array: entries are matched by descriptor; missing ones
 * count as no events; NULL with @p n 0 is fine). Returns AMK_OK, or the
 * engine's fatal error (the connection is then dead). Problems of the
 * process itself (a write to a closed stdin, a read error) are not
 * errors: they end that stream.
 */
int amk_srv_chan_pump(struct amk_srv_chan *sc, const struct pollfd *fds, size_t n)
    AMK_SRV_CHAN_MUST_CHECK;

/* 1 when the handler has nothing more to do: the channel is closed (by us
 * after exit-status, EOF, CLOSE, or by the peer) or the engine failed. 0
 * while running, and always 0 once a subsystem went INTERNAL. */
int amk_srv_chan_done(const struct amk_srv_chan *sc);

/* The channel number. */
uint32_t amk_srv_chan_id(const struct amk_srv_chan *sc);
/* The process id (its process group), -1 when none was started. */
int amk_srv_chan_pid(const struct amk_srv_chan *sc);

/*
 * Takes the process away from the handler when it still runs (it is
 * reaped here when it has exited: NULL then, as when there is none), so
 * that amk_srv_chan_free() does not wait for it: the caller owns it and
 * must end it (the server core's reaper: SIGHUP, a deadline, SIGKILL,
 * all driven by its event loop). Its descriptors are left open.
 */
struct amk_proc *amk_srv_chan_take_proc(struct amk_srv_chan *sc);

/*
 * Ends the process if it still runs (SIGHUP to its process group, up to
 * AMK_SRV_CHAN_HUP_GRACE_MS, then SIGKILL), reaps it, closes its
 * descriptors, releases the channel in the engine and frees. NULL is fine.
 */
void amk_srv_chan_free(struct amk_srv_chan *sc);

#endif
