/*
 * The session channel handler: requests, the process, data both ways with
 * flow control, and the end of the channel. See server/session_chan.h.
 */
#include "server/session_chan.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/proc.h"

/* One read or write of a stream moves at most this much. */
#define IO_CHUNK ((size_t)32 * 1024)
/* Reads per stream and pump call: bounded work per loop iteration. */
#define READS_PER_PUMP 8
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* A growing list of "NAME=value" strings, NULL-terminated. */
struct envlist {
    char **v;
    size_t n;
};

/* Output of the process on its way to the channel (stdout or stderr). */
struct outstream {
    uint8_t buf[IO_CHUNK];
    size_t off, len;            /* staged bytes not yet taken by the engine */
    int eof;                    /* the process side ended (or does not exist) */
};

/* How far the end of the channel got: exit-status, EOF, CLOSE. */
enum finish_stage {
    FIN_RUNNING = 0,
    FIN_EXIT_SENT,
    FIN_EOF_SENT,
    FIN_CLOSED
};

struct amk_srv_chan {
    struct amk_conn *conn;
    uint32_t id;

    /* the policy, copied */
    char *forced;
    int no_pty;
    char **env_allow;           /* NULL-terminated */
    char *shell;
    char *home;
    struct envlist base_env;
    amk_srv_subsystem_fn subsystem_cb;
    void *user;

    /* what the requests set before the start */
    struct envlist req_env;
    int have_pty;
    char *term;
    uint32_t cols, rows, width_px, height_px;
    uint8_t *modes;
    size_t modes_len;

    int started;                /* exec, shell or subsystem accepted */
    int internal;               /* the core serves a subsystem itself */
    struct amk_proc *proc;

    /* peer to process */
    uint8_t inbuf[IO_CHUNK];
    size_t in_off, in_len;
    int in_eof;                 /* the peer's EOF reached the process */
    int in_dead;                /* the process stopped reading: discard */

    struct outstream out[2];    /* indexed by enum amk_chan_stream */

    enum finish_stage stage;
    int peer_closed;            /* the peer closed: HUP sent */
};

/* --- Environment ------------------------------------------------------ */

static void
envlist_free(struct envlist *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = 0;
}

/* Sets @p name to @p value (replacing an earlier value). */
static int
envlist_set(struct envlist *e, const char *name, size_t name_len, const char *value)
{
    size_t vlen = strlen(value);
    char *s, **nv;

    if ((s = malloc(name_len + vlen + 2)) == NULL)
        return AMK_ENOMEM;
    memcpy(s, name, name_len);
    s[name_len] = '=';
    memcpy(s + name_len + 1, value, vlen + 1);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, name_len) == 0 && e->v[i][name_len] == '=') {
            free(e->v[i]);
            e->v[i] = s;
            return AMK_OK;
        }
    }
    if ((nv = realloc(e->v, (e->n + 2) * sizeof(*nv))) == NULL) {
        free(s);
        return AMK_ENOMEM;
    }
    e->v = nv;
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return AMK_OK;
}

/* Sets "NAME=value" @p kv. */
static int
envlist_put(struct envlist *e, const char *kv)
{
    const char *eq = strchr(kv, '=');

    if (eq == NULL || eq == kv)
        return AMK_EINVAL;
    return envlist_set(e, kv, (size_t)(eq - kv), eq + 1);
}

static int
envlist_has(const struct envlist *e, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, n) == 0 && e->v[i][n] == '=')
            return 1;
    }
    return 0;
}

static int
env_allowed(const struct amk_srv_chan *sc, const char *name)
{
    if (name[0] == '\0' || strchr(name, '=') != NULL)
        return 0;
    for (char **p = sc->env_allow; *p != NULL; p++) {
        if (fnmatch(*p, name, 0) == 0)
            return 1;
    }
    return 0;
}

/* --- Creation --------------------------------------------------------- */

static char *
dup_or_null(const char *s, int *failed)
{
    char *d;

    if (s == NULL)
        return NULL;
    if ((d = strdup(s)) == NULL)
        *failed = 1;
    return d;
}

int
amk_srv_chan_new(struct amk_conn *conn, uint32_t id, const struct amk_srv_chan_policy *policy,
    struct amk_srv_chan **out)
{
    static const char *const DEFAULT_ALLOW[] = { "LANG", "LC_*", NULL };
    const char *const *allow;
    struct amk_srv_chan *sc = NULL;
    const char *shell;
    size_t n_allow = 0;
    int failed = 0, r = AMK_ENOMEM;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (conn == NULL || policy == NULL)
        return AMK_EINVAL;
    shell = policy->shell;
    if (shell == NULL) {
        shell = getenv("SHELL");
        if (shell == NULL || shell[0] != '/')
            shell = "/bin/sh";
    }
    if (shell[0] != '/')
        return AMK_EINVAL;
    if ((sc = calloc(1, sizeof(*sc))) == NULL)
        return AMK_ENOMEM;
    sc->conn = conn;
    sc->id = id;
    sc->no_pty = policy->no_pty != 0;
    sc->subsystem_cb = policy->subsystem_cb;
    sc->user = policy->user;
    sc->forced = dup_or_null(policy->forced_command, &failed);
    sc->shell = dup_or_null(shell, &failed);
    sc->home = dup_or_null(policy->home, &failed);
    allow = policy->env_allow != NULL ? policy->env_allow : DEFAULT_ALLOW;
    while (allow[n_allow] != NULL)
        n_allow++;
    if (failed || (sc->env_allow = calloc(n_allow + 1, sizeof(char *))) == NULL)
        goto out;
    for (size_t i = 0; i < n_allow; i++) {
        if ((sc->env_allow[i] = strdup(allow[i])) == NULL)
            goto out;
    }
    for (size_t i = 0; policy->env != NULL && policy->env[i] != NULL; i++) {
        r = envlist_put(&sc->base_env, policy->env[i]);
        if (r == AMK_EINVAL)
            continue;           /* not NAME=value: ignored */
        if (r != AMK_OK)
            goto out;
    }
    sc->stage = FIN_RUNNING;
    *out = sc;
    sc = NULL;
    r = AMK_OK;
out:
    if (sc != NULL)
        sc->conn = NULL;        /* the channel stays the caller's */
    amk_srv_chan_free(sc);
    return r;
}

/* --- Starting the process --------------------------------------------- */

/* Builds the environment and runs @p command (NULL: a login shell);
 * @p original is the client's command when a forced one replaces it. */
static int
chan_start(struct amk_srv_chan *sc, const char *command, const char *original, int use_pty)
{
    struct amk_proc_spec spec;
    struct envlist env;
    int r = AMK_ENOMEM;

    memset(&env, 0, sizeof(env));
    for (size_t i = 0; i < sc->base_env.n; i++) {
        if ((r = envlist_put(&env, sc->base_env.v[i])) != AMK_OK)
            goto out;
    }
    if (!envlist_has(&env, "PATH") && (r = envlist_set(&env, "PATH", 4, DEFAULT_PATH)) != AMK_OK)
        goto out;
    if (!envlist_has(&env, "SHELL") && (r = envlist_set(&env, "SHELL", 5, sc->shell)) != AMK_OK)
        goto out;
    if (sc->home != NULL && !envlist_has(&env, "HOME")
        && (r = envlist_set(&env, "HOME", 4, sc->home)) != AMK_OK)
        goto out;
    for (size_t i = 0; i < sc->req_env.n; i++) {
        if ((r = envlist_put(&env, sc->req_env.v[i])) != AMK_OK)
            goto out;
    }
    if (use_pty && sc->term != NULL && sc->term[0] != '\0'
        && (r = envlist_set(&env, "TERM", 4, sc->term)) != AMK_OK)
        goto out;
    if (sc->forced != NULL && original != NULL
        && (r = envlist_set(&env, "SSH_ORIGINAL_COMMAND", 20, original)) != AMK_OK)
        goto out;
    if (env.v == NULL && (r = envlist_set(&env, "PATH", 4, DEFAULT_PATH)) != AMK_OK)
        goto out;
    memset(&spec, 0, sizeof(spec));
    spec.shell = sc->shell;
    spec.command = command;
    spec.env = env.v;
    spec.cwd = sc->home;
    spec.use_pty = use_pty;
    spec.cols = sc->cols;
    spec.rows = sc->rows;
    spec.width_px = sc->width_px;
    spec.height_px = sc->height_px;
    spec.modes = sc->modes;
    spec.modes_len = sc->modes_len;
    if ((r = amk_proc_spawn(&spec, &sc->proc)) != AMK_OK)
        goto out;
    sc->started = 1;
    /* A pty has one output stream: stderr is merged into it. */
    sc->out[AMK_CHAN_STDERR].eof = sc->proc->err_fd < 0;
out:
    envlist_free(&env);
    return r;
}

/* exec, shell, or a subsystem run as a command. */
static int
chan_run(struct amk_srv_chan *sc, const char *command, int use_pty)
{
    const char *run = sc->forced != NULL ? sc->forced : command;

    if (sc->started)
        return AMK_REQ_FAILURE;
    return chan_start(sc, run, command, use_pty && sc->have_pty) == AMK_OK ? AMK_REQ_SUCCESS
        : AMK_REQ_FAILURE;
}

/* --- Requests --------------------------------------------------------- */

static int
on_pty(struct amk_srv_chan *sc, const struct amk_conn_chreq *req)
{
    char *term;
    uint8_t *modes = NULL;

    if (sc->no_pty || sc->have_pty || sc->started)
        return AMK_REQ_FAILURE;
    if ((term = strdup(req->pty.term)) == NULL)
        return AMK_REQ_FAILURE;
    if (req->pty.modes_len > 0) {
        if ((modes = malloc(req->pty.modes_len)) == NULL) {
            free(term);
            return AMK_REQ_FAILURE;
        }
        memcpy(modes, req->pty.modes, req->pty.modes_len);
    }
    sc->term = term;
    sc->modes = modes;
    sc->modes_len = req->pty.modes_len;
    sc->cols = req->pty.cols;
    sc->rows = req->pty.rows;
    sc->width_px = req->pty.width_px;
    sc->height_px = req->pty.height_px;
    sc->have_pty = 1;
    return AMK_REQ_SUCCESS;
}

static int
on_env(struct amk_srv_chan *sc, const struct amk_conn_chreq *req)
{
    if (sc->started || !env_allowed(sc, req->env.name))
        return AMK_REQ_FAILURE;
    if (!envlist_has(&sc->req_env, req->env.name) && sc->req_env.n >= AMK_SRV_CHAN_ENV_MAX)
        return AMK_REQ_FAILURE;
    if (envlist_set(&sc->req_env, req->env.name, strlen(req->env.name), req->env.value)
        != AMK_OK)
        return AMK_REQ_FAILURE;
    return AMK_REQ_SUCCESS;
}

static int
on_subsystem(struct amk_srv_chan *sc, const struct amk_conn_chreq *req)
{
    const char *command = NULL;
    char *copy;
    int r;

    if (sc->started)
        return AMK_REQ_FAILURE;
    /* A forced command wins over the subsystem, as in OpenSSH. */
    if (sc->forced != NULL)
        return chan_run(sc, req->subsystem, 0);
    if (sc->subsystem_cb == NULL)
        return AMK_REQ_FAILURE;
    switch (sc->subsystem_cb(sc->user, sc, sc->id, req->subsystem, &command)) {
    case AMK_SRV_SUBSYS_INTERNAL:
        sc->started = 1;
        sc->internal = 1;
        return AMK_REQ_SUCCESS;
    case AMK_SRV_SUBSYS_COMMAND:
        if (command == NULL || (copy = strdup(command)) == NULL)
            return AMK_REQ_FAILURE;
        r = chan_start(sc, copy, NULL, 0);
        free(copy);
        return r == AMK_OK ? AMK_REQ_SUCCESS : AMK_REQ_FAILURE;
    default:
        return AMK_REQ_FAILURE;
    }
}

int
amk_srv_chan_on_request(struct amk_srv_chan *sc, const struct amk_conn_chreq *req)
{
    int sig;

    if (sc == NULL || req == NULL || req->id != sc->id)
        return AMK_REQ_FAILURE;
    switch (req->kind) {
    case AMK_CHREQ_PTY:
        return on_pty(sc, req);
    case AMK_CHREQ_ENV:
        return on_env(sc, req);
    case AMK_CHREQ_EXEC:
        /* a command with a NUL byte cannot be passed to the shell */
        if (memchr(req->exec.command, '\0', req->exec.command_len) != NULL)
            return AMK_REQ_FAILURE;
        return chan_run(sc, req->exec.command, 1);
    case AMK_CHREQ_SHELL:
        return chan_run(sc, NULL, 1);
    case AMK_CHREQ_SUBSYSTEM:
        return on_subsystem(sc, req);
    case AMK_CHREQ_WINDOW_CHANGE:
        if (!sc->have_pty)
            return AMK_REQ_FAILURE;
        sc->cols = req->winch.cols;
        sc->rows = req->winch.rows;
        sc->width_px = req->winch.width_px;
        sc->height_px = req->winch.height_px;
        if (sc->proc != NULL && sc->proc->pty
            && amk_proc_winsize(sc->proc, sc->cols, sc->rows, sc->width_px, sc->height_px)
                != AMK_OK)
            return AMK_REQ_FAILURE;
        return AMK_REQ_SUCCESS;
    case AMK_CHREQ_SIGNAL:
        /* RFC 4254 §6.9: delivered to the process (its whole group) */
        sig = amk_proc_signum(req->signal);
        if (sig == 0 || sc->proc == NULL || sc->proc->exited)
            return AMK_REQ_FAILURE;
        amk_proc_signal(sc->proc, sig);
        return AMK_REQ_SUCCESS;
    default:
        /* break (RFC 4335: FAILURE when not supported), x11-req,
         * auth-agent-req@openssh.com: not offered */
        return AMK_REQ_FAILURE;
    }
}

/* --- Polling and pumping ---------------------------------------------- */

static int
running(const struct amk_srv_chan *sc)
{
    return sc->proc != NULL && !sc->internal && !sc->peer_closed && sc->stage == FIN_RUNNING;
}

/* 1 when the peer's window lets us send (and the engine's control queue
 * is drained). */
static int
chan_writable(const struct amk_srv_chan *sc)
{
    return (amk_conn_channel_poll(sc->conn, sc->id) & AMK_CHAN_EV_WRITABLE) != 0;
}

static size_t
pollfd_add(struct pollfd *fds, size_t cap, size_t n, int fd, short events)
{
    if (fd < 0 || events == 0 || n >= cap)
        return n;
    fds[n].fd = fd;
    fds[n].events = events;
    fds[n].revents = 0;
    return n + 1;
}

int
amk_srv_chan_polls_child(const struct amk_srv_chan *sc)
{
    return sc != NULL && running(sc) && sc->proc->pidfd < 0 && !sc->proc->exited;
}

size_t
amk_srv_chan_pollfds(const struct amk_srv_chan *sc, struct pollfd *fds, size_t cap)
{
    const struct amk_proc *p;
    size_t n = 0;
    int can_send;

    if (sc == NULL || fds == NULL || !running(sc))
        return 0;
    p = sc->proc;
    n = pollfd_add(fds, cap, n, p->pidfd, POLLIN);
    /* stdin: only while there is something to write to it */
    if (sc->in_len > sc->in_off && !sc->in_dead)
        n = pollfd_add(fds, cap, n, p->in_fd, POLLOUT);
    /* output: only when the peer's window has room and nothing is staged */
    can_send = chan_writable(sc);
    for (int s = 0; s < 2; s++) {
        const struct outstream *o = &sc->out[s];
        int fd = s == AMK_CHAN_STDOUT ? p->out_fd : p->err_fd;
        if (!o->eof && o->off == o->len && can_send)
            n = pollfd_add(fds, cap, n, fd, POLLIN);
    }
    return n;
}

static short
revents_of(const struct pollfd *fds, size_t n, int fd)
{
    short ev = 0;

    if (fd < 0 || fds == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (fds[i].fd == fd)
            ev |= fds[i].revents;
    }
    return ev;
}

/* Channel data from the peer to the process's stdin. */
static int
pump_stdin(struct amk_srv_chan *sc)
{
    size_t got;
    ssize_t w;
    int r;

    for (;;) {
        if (sc->in_off == sc->in_len) {
            sc->in_off = sc->in_len = 0;
            if (sc->in_eof)
                return AMK_OK;
            r = amk_conn_channel_read(sc->conn, sc->id, AMK_CHAN_STDOUT, sc->inbuf,
                sizeof(sc->inbuf), &got);
            if (r == AMK_EAGAIN)
                return AMK_OK;
            if (r != AMK_OK)
                return amk_conn_error(sc->conn) != AMK_OK ? r : AMK_OK;
            if (got == 0) {
                /* The peer's EOF: the process sees end of input on pipes;
                 * on a pty, as in OpenSSH, the terminal stays open. */
                sc->in_eof = 1;
                amk_proc_close_stdin(sc->proc);
                return AMK_OK;
            }
            sc->in_len = got;
        }
        if (sc->in_dead) {
            /* The process stopped reading: drop, so the window moves on. */
            sc->in_off = sc->in_len;
            continue;
        }
        w = amk_proc_write_stdin(sc->proc, sc->inbuf + sc->in_off, sc->in_len - sc->in_off);
        if (w > 0) {
            sc->in_off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return AMK_OK;
        sc->in_dead = 1;
        amk_proc_close_stdin(sc->proc);
    }
}

/* Hands staged output of stream @p s to the engine. AMK_OK when all went,
 * AMK_EAGAIN when some remains, or a fatal engine error. */
static int
flush_out(struct amk_srv_chan *sc, int s)
{
    struct outstream *o = &sc->out[s];
    size_t w;
    int r;

    while (o->off < o->len) {
        if (s == AMK_CHAN_STDOUT)
            r = amk_conn_channel_write(sc->conn, sc->id, o->buf + o->off, o->len - o->off, &w);
        else
            r = amk_conn_channel_write_ext(sc->conn, sc->id, AMK_EXTENDED_DATA_STDERR,
                o->buf + o->off, o->len - o->off, &w);
        if (r == AMK_EAGAIN)
            return AMK_EAGAIN;
        if (r != AMK_OK) {
            if (amk_conn_error(sc->conn) != AMK_OK)
                return r;
            /* the channel cannot take data any more (closed): drop it */
            o->off = o->len = 0;
            o->eof = 1;
            return AMK_OK;
        }
        o->off += w;
    }
    o->off = o->len = 0;
    return AMK_OK;
}

/* Process output of stream @p s to the channel, within the peer's window. */
static int
pump_out(struct amk_srv_chan *sc, int s, short revents)
{
    struct outstream *o = &sc->out[s];
    int fd = s == AMK_CHAN_STDOUT ? sc->proc->out_fd : sc->proc->err_fd;
    /* After the exit a pty is drained without waiting for poll: what the
     * process wrote is already in the terminal's buffer. */
    int drain = sc->proc->pty && sc->proc->exited;
    int r;

    if ((r = flush_out(sc, s)) != AMK_OK)
        return r == AMK_EAGAIN ? AMK_OK : r;
    if (o->eof || fd < 0)
        return AMK_OK;
    if (!(revents & (POLLIN | POLLHUP | POLLERR)) && !drain)
        return AMK_OK;
    for (int i = 0; i < READS_PER_PUMP && !o->eof; i++) {
        uint32_t room = amk_conn_channel_send_window(sc->conn, sc->id);
        size_t cap = room < sizeof(o->buf) ? room : sizeof(o->buf);
        ssize_t n;

        if (cap == 0 || !chan_writable(sc))
            return AMK_OK;
        do {
            n = read(fd, o->buf, cap);
        } while (n < 0 && errno == EINTR);
        if (n > 0) {
            o->off = 0;
            o->len = (size_t)n;
            if ((r = flush_out(sc, s)) != AMK_OK)
                return r == AMK_EAGAIN ? AMK_OK : r;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !drain)
            return AMK_OK;
        /* 0: end of the pipe; EIO: every holder of the pty's slave side
         * closed it; EAGAIN after the exit: a pty drained. */
        o->eof = 1;
    }
    return AMK_OK;
}

/* exit-status or exit-signal, EOF, CLOSE, in OpenSSH's order, once the
 * process exited and its output is all sent. */
static int
pump_finish(struct amk_srv_chan *sc)
{
    struct amk_proc *p = sc->proc;
    int r = AMK_OK;

    if (!p->exited || !sc->out[0].eof || !sc->out[1].eof || sc->out[0].len > 0
        || sc->out[1].len > 0)
        return AMK_OK;
    if (sc->stage == FIN_RUNNING) {
        if (WIFSIGNALED(p->wait_status)) {
            const char *name = amk_proc_signame(WTERMSIG(p->wait_status));
            /* RFC 4254 §6.10; OpenSSH names signals outside the RFC's
             * list "SIG@openssh.com" */
            r = amk_conn_channel_send_exit_signal(sc->conn, sc->id,
                name != NULL ? name : "SIG@openssh.com", WCOREDUMP(p->wait_status) != 0, "",
                "");
        } else {
            r = amk_conn_channel_send_exit_status(sc->conn, sc->id,
                (uint32_t)WEXITSTATUS(p->wait_status));
        }
        if (r == AMK_EAGAIN)
            return AMK_OK;
        sc->stage = FIN_EXIT_SENT;
        if (r != AMK_OK && amk_conn_error(sc->conn) != AMK_OK)
            return r;
    }
    if (sc->stage == FIN_EXIT_SENT) {
        r = amk_conn_channel_send_eof(sc->conn, sc->id);
        if (r == AMK_EAGAIN)
            return AMK_OK;
        sc->stage = FIN_EOF_SENT;
        if (r != AMK_OK && amk_conn_error(sc->conn) != AMK_OK)
            return r;
    }
    if (sc->stage == FIN_EOF_SENT) {
        r = amk_conn_channel_close(sc->conn, sc->id);
        if (r == AMK_EAGAIN)
            return AMK_OK;
        sc->stage = FIN_CLOSED;
        if (r != AMK_OK && amk_conn_error(sc->conn) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

int
amk_srv_chan_pump(struct amk_srv_chan *sc, const struct pollfd *fds, size_t n)
{
    unsigned ev;
    int r;

    if (sc == NULL)
        return AMK_EINVAL;
    if ((r = amk_conn_error(sc->conn)) != AMK_OK)
        return r;
    if (sc->internal || sc->stage == FIN_CLOSED || sc->peer_closed)
        return AMK_OK;
    ev = amk_conn_channel_poll(sc->conn, sc->id);
    if (ev & AMK_CHAN_EV_CLOSED) {
        /* The peer closed (the engine answered with CLOSE): hang up. */
        sc->peer_closed = 1;
        amk_proc_hangup(sc->proc);
        return AMK_OK;
    }
    if (sc->proc == NULL)
        return AMK_OK;
    /* The pidfd says when to reap; once both output streams ended the
     * exit is near, so also try without it (a loop that lost revents
     * still finishes). */
    if (!sc->proc->exited && (sc->proc->pidfd < 0
            || (revents_of(fds, n, sc->proc->pidfd) & POLLIN)
            || (sc->out[0].eof && sc->out[1].eof)))
        (void)!amk_proc_reap(sc->proc);
    if ((r = pump_stdin(sc)) != AMK_OK)
        return r;
    for (int s = 0; s < 2; s++) {
        int fd = s == AMK_CHAN_STDOUT ? sc->proc->out_fd : sc->proc->err_fd;
        if ((r = pump_out(sc, s, revents_of(fds, n, fd))) != AMK_OK)
            return r;
    }
    return pump_finish(sc);
}

int
amk_srv_chan_done(const struct amk_srv_chan *sc)
{
    if (sc == NULL)
        return 1;
    if (sc->internal)
        return 0;
    if (amk_conn_error(sc->conn) != AMK_OK)
        return 1;
    return sc->stage == FIN_CLOSED || sc->peer_closed;
}

uint32_t
amk_srv_chan_id(const struct amk_srv_chan *sc)
{
    return sc == NULL ? 0 : sc->id;
}

int
amk_srv_chan_pid(const struct amk_srv_chan *sc)
{
    return sc == NULL || sc->proc == NULL ? -1 : (int)sc->proc->pid;
}

struct amk_proc *
amk_srv_chan_take_proc(struct amk_srv_chan *sc)
{
    struct amk_proc *p;

    if (sc == NULL || sc->proc == NULL)
        return NULL;
    /* one that exited is reaped here and ends with the handler */
    if (sc->proc->exited || amk_proc_reap(sc->proc) == AMK_OK)
        return NULL;
    p = sc->proc;
    sc->proc = NULL;
    return p;
}

void
amk_srv_chan_free(struct amk_srv_chan *sc)
{
    if (sc == NULL)
        return;
    amk_proc_free(sc->proc, AMK_SRV_CHAN_HUP_GRACE_MS);
    if (sc->conn != NULL)
        (void)!amk_conn_channel_release(sc->conn, sc->id);
    free(sc->forced);
    if (sc->env_allow != NULL) {
        for (char **p = sc->env_allow; *p != NULL; p++)
            free(*p);
        free(sc->env_allow);
    }
    free(sc->shell);
    free(sc->home);
    envlist_free(&sc->base_env);
    envlist_free(&sc->req_env);
    free(sc->term);
    free(sc->modes);
    free(sc);
}
