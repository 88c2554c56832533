/*
 * Running a session's process (server side, front layer: does I/O): a
 * command through a shell, or a login shell, either on a pseudo-terminal
 * or on three pipes, in its own session and process group, with a pidfd
 * to learn of its exit without a SIGCHLD handler or any global state.
 *
 * All descriptors handed back are non-blocking and close-on-exec. The
 * child closes every descriptor it inherited beyond 0..2, so a session
 * never leaks the server's sockets or another session's pipes.
 */
#ifndef AMK_SERVER_PROC_H
#define AMK_SERVER_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <amiko/error.h>

#include "channel/conn.h"

#define AMK_PROC_MUST_CHECK __attribute__((warn_unused_result))

/* What to run. */
struct amk_proc_spec {
    const char *shell;          /* absolute path of the shell, e.g. "/bin/sh" */
    const char *command;        /* run as `shell -c command`; NULL: a login shell */
    char *const *env;           /* NULL-terminated "NAME=value" list: the whole environment */
    const char *cwd;            /* working directory; NULL or unusable: "/" */
    int use_pty;                /* 1: on a new pseudo-terminal (the controlling tty) */
    /* With use_pty: the terminal size and the pty-req modes to apply
     * (RFC 4254 §8; NULL/0: the kernel's defaults). */
    uint32_t cols, rows, width_px, height_px;
    const uint8_t *modes;
    size_t modes_len;
};

struct amk_proc {
    pid_t pid;                  /* also the process group and session id */
    int pidfd;                  /* readable once the process exited; -1 once reaped */
    int in_fd;                  /* its stdin: our end of a socket pair (write it with
                                 * amk_proc_write_stdin()), or the pty master; -1 closed */
    int out_fd;                 /* its stdout: pipe read end, or the pty master (a dup) */
    int err_fd;                 /* its stderr: pipe read end; -1 with a pty */
    int pty;                    /* 1 when on a pseudo-terminal */
    char tty_name[64];          /* the slave's path with a pty, e.g. "/dev/pts/3" */
    int exited;                 /* 1 once reaped */
    int wait_status;            /* the status from waitpid(2) once exited */
    int hup_sent;               /* amk_proc_hangup() signalled it already */
};

/*
 * Starts the process. AMK_OK with *@p out; AMK_EINVAL (no shell), AMK_EIO
 * (pipe, pty, pidfd or fork failed; errno kept), AMK_ENOMEM. A failure to
 * execute the shell shows up as exit status 127 with a message on its
 * stderr, as a shell would give it.
 */
int amk_proc_spawn(const struct amk_proc_spec *spec, struct amk_proc **out) AMK_PROC_MUST_CHECK;

/* Reaps the process if it exited (call when pidfd is readable): AMK_OK and
 * p->exited set, AMK_EAGAIN while it runs. */
int amk_proc_reap(struct amk_proc *p) AMK_PROC_MUST_CHECK;

/* Sends @p sig to the process group (nothing once reaped). */
void amk_proc_signal(struct amk_proc *p, int sig);

/* SIGHUP to the process group, once: the hang-up of a channel that
 * closed, however many paths notice it (nothing once reaped). */
void amk_proc_hangup(struct amk_proc *p);

/* Closes its stdin, stdout and stderr descriptors (a pty's master too,
 * so the kernel hangs up its terminal, as sshd releasing the pty does);
 * the pidfd stays, to learn of the exit. */
void amk_proc_close_io(struct amk_proc *p);

/* Sets the pty's window size (TIOCSWINSZ; the kernel sends SIGWINCH).
 * AMK_ESTATE without a pty, AMK_EIO. */
int amk_proc_winsize(struct amk_proc *p, uint32_t cols, uint32_t rows, uint32_t width_px,
    uint32_t height_px) AMK_PROC_MUST_CHECK;

/* Writes to its stdin without SIGPIPE: bytes written (> 0), or -1 with
 * errno (EAGAIN: not writable now; EPIPE/EIO: it stopped reading). */
ssize_t amk_proc_write_stdin(struct amk_proc *p, const void *data, size_t len);

/* Closes its stdin (pipes). */
void amk_proc_close_stdin(struct amk_proc *p);

/*
 * Ends it: if still running, SIGHUP to the process group, up to
 * @p grace_ms for it to exit, then SIGKILL; reaps it; closes every
 * descriptor; frees. NULL is fine.
 */
void amk_proc_free(struct amk_proc *p, int grace_ms);

/* The RFC 4254 §6.10 name (without "SIG") of @p sig; "SIG@openssh.com"
 * style unknowns are named NULL. */
const char *amk_proc_signame(int sig);
/* The signal number of an RFC 4254 §6.10 name, 0 when unknown. */
int amk_proc_signum(const char *name);

/* Applies pty-req modes (RFC 4254 §8) to @p tio; unknown opcodes are
 * ignored. Exposed for tests. */
struct termios;
void amk_proc_apply_modes(struct termios *tio, const uint8_t *modes, size_t len);

#endif
