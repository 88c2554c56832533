/*
 * The client's session channels (RFC 4254 §6): opening, the requests that
 * start a command (pty-req, env, exec, shell, subsystem), data both ways,
 * exit status, and amk_client_run(). Requests made before the server
 * confirmed the channel are queued and sent, in order, by the pump
 * (client_channels_advance); a non-blocking caller sees AMK_EAGAIN until
 * every answer is in. See amiko/client.h and client/client_int.h.
 */
#include "client/client_int.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

#define CHAN_MAX_REQS 16
#define RUN_CHUNK ((size_t)64 * 1024)
#define DEFAULT_TERM "xterm"
#define DEFAULT_COLS 80
#define DEFAULT_ROWS 24
/*
 * The receive window of exec and shell channels: 2 MiB, OpenSSH's own.
 * A larger one lets sshd queue more than ~1 MiB of output for us, and it
 * then regrows its output buffer one packet at a time (a multi-MiB copy
 * into fresh memory each time): `cat` of 1 GiB went from 258-633 MiB/s
 * with 16 MiB to 517-729 with 2 MiB (bench, issue 8). Subsystem (SFTP)
 * channels grow to the engine's 16 MiB when their request goes out: their
 * transfers pace the requests themselves and need it on long links.
 */
#define CLIENT_SESSION_WINDOW ((uint32_t)2 * 1024 * 1024)

enum chan_state {
    CH_NEED_OPEN = 0,   /* CHANNEL_OPEN not sent yet (the transport was full) */
    CH_OPENING,         /* sent, no answer yet */
    CH_OPEN,            /* confirmed */
    CH_FAILED           /* refused, or a request failed: ch->err */
};

enum chan_req_kind {
    REQ_PTY = 1,
    REQ_ENV,
    REQ_EXEC,
    REQ_SHELL,
    REQ_SUBSYSTEM
};

struct chan_req {
    enum chan_req_kind kind;
    char *a, *b;            /* term / name / command, and env value */
    unsigned cols, rows;
    int want_reply;
    uint32_t ticket;
    int answered;
};

struct amk_client_channel {
    struct amk_client *c;   /* NULL once the client is freed */
    struct amk_client_channel *next, *prev;
    enum chan_state state;
    uint32_t id;            /* valid from CH_OPENING on */
    unsigned flags;
    struct chan_req reqs[CHAN_MAX_REQS];
    size_t n_reqs, n_sent;
    int started;            /* exec, shell or subsystem queued */
    int err;
    struct amk_error detail;
    char *signal;
};

static const char *const REQ_NAMES[] = {
    [REQ_PTY] = "pty-req", [REQ_ENV] = "env", [REQ_EXEC] = "exec", [REQ_SHELL] = "shell",
    [REQ_SUBSYSTEM] = "subsystem"
};

/* Signal names of RFC 4254 §6.10 and their numbers, for amk_client_run(). */
static const struct {
    const char *name;
    int num;
} SIGNALS[] = {
    { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE }, { "HUP", SIGHUP },
    { "ILL", SIGILL }, { "INT", SIGINT }, { "KILL", SIGKILL }, { "PIPE", SIGPIPE },
    { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
    { "USR2", SIGUSR2 },
};

/* The channel fails with @p code (first one stays); returns it. */
static int chan_fail(struct amk_client_channel *ch, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
chan_fail(struct amk_client_channel *ch, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[AMK_ERROR_MSG_MAX];

    if (ch->err == AMK_OK) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ch->err = code;
        ch->state = CH_FAILED;
        amk_error_set(&ch->detail, code, "%s", msg);
        if (ch->c != NULL)
            amk_error_set(&ch->c->err, code, "%s", amk_error_msg(&ch->detail));
    }
    return ch->err;
}

/* A code from the connection engine about this channel. */
static int
chan_conn_error(struct amk_client_channel *ch, int r)
{
    struct amk_client *c = ch->c;

    if (r == AMK_EAGAIN || r == AMK_OK)
        return r;
    if (amk_conn_error(c->conn) != AMK_OK || (amk_err_is_fatal(r) && r != AMK_ECLOSED))
        return client_fail(c, r, "%s", amk_conn_last_error(c->conn));
    if (r == AMK_ECLOSED)
        return chan_fail(ch, r, "channel %u: closed by the server", ch->id);
    return r;
}

/* AMK_OK while the channel and its connection are usable. */
static int
chan_check(const struct amk_client_channel *ch)
{
    if (ch->c == NULL)
        return AMK_ECLOSED;
    if (ch->c->failed != AMK_OK)
        return ch->c->failed;
    if (ch->err != AMK_OK)
        return ch->err;
    if (ch->c->conn == NULL)
        return AMK_ECLOSED;
    return AMK_OK;
}

/* AMK_OK when open and every request is sent and accepted; AMK_EAGAIN before. */
static int
chan_ready(const struct amk_client_channel *ch)
{
    int r;

    if ((r = chan_check(ch)) != AMK_OK)
        return r;
    if (ch->state != CH_OPEN || ch->n_sent < ch->n_reqs)
        return AMK_EAGAIN;
    for (size_t i = 0; i < ch->n_reqs; i++) {
        if (ch->reqs[i].want_reply && !ch->reqs[i].answered)
            return AMK_EAGAIN;
    }
    return AMK_OK;
}

static int
send_req(struct amk_client_channel *ch, struct chan_req *q)
{
    struct amk_conn *conn = ch->c->conn;
    struct amk_pty_req pty;
    uint32_t *t = &q->ticket;
    int r;

    switch (q->kind) {
    case REQ_PTY:
        memset(&pty, 0, sizeof(pty));
        pty.term = q->a;
        pty.cols = q->cols;
        pty.rows = q->rows;
        return amk_conn_channel_pty(conn, ch->id, &pty, 1, t);
    case REQ_ENV:
        return amk_conn_channel_env(conn, ch->id, q->a, q->b, 0, NULL);
    case REQ_EXEC:
        return amk_conn_channel_exec(conn, ch->id, q->a, 1, t);
    case REQ_SHELL:
        return amk_conn_channel_shell(conn, ch->id, 1, t);
    case REQ_SUBSYSTEM:
        /* a subsystem (SFTP) paces its own requests and needs a window
         * that covers long links: the engine's, not CLIENT_SESSION_WINDOW */
        if ((r = amk_conn_channel_grow_window(conn, ch->id, AMK_CONN_WINDOW_DEFAULT)) !=
            AMK_OK)
            return r;
        return amk_conn_channel_subsystem(conn, ch->id, q->a, 1, t);
    default:
        return AMK_EINTERNAL;
    }
}

/* Moves one channel on; 1 when it sent something, 0, or a fatal error. */
static int
chan_advance(struct amk_client_channel *ch)
{
    struct amk_conn *conn = ch->c->conn;
    enum amk_chan_state st;
    enum amk_req_result res;
    const char *desc = NULL;
    uint32_t reason = 0;
    int r, sent = 0;

    if (ch->err != AMK_OK)
        return 0;
    if (ch->state == CH_NEED_OPEN) {
        r = amk_conn_open_session_window(conn, CLIENT_SESSION_WINDOW, &ch->id);
        if (r == AMK_EAGAIN)
            return 0;
        if (r == AMK_ELIMIT) {
            chan_fail(ch, r, "too many channels on this connection");
            return 0;
        }
        if (r != AMK_OK)
            return chan_conn_error(ch, r);
        ch->state = CH_OPENING;
        sent = 1;
    }
    if (ch->state == CH_OPENING) {
        if ((r = amk_conn_channel_state(conn, ch->id, &st)) != AMK_OK)
            return chan_conn_error(ch, r);
        if (st == AMK_CHAN_OPEN_FAILED) {
            if (amk_conn_channel_open_error(conn, ch->id, &reason, &desc) != AMK_OK)
                desc = NULL;
            chan_fail(ch, AMK_EREFUSED, "the server refused the channel: %s (reason %u)",
                desc != NULL ? desc : "", reason);
            return sent;
        }
        if (st == AMK_CHAN_OPENING)
            return sent;
        if ((ch->flags & AMK_CLIENT_MERGE_STDERR) &&
            (r = amk_conn_channel_merge_stderr(conn, ch->id, 1)) != AMK_OK)
            return chan_conn_error(ch, r);
        ch->state = CH_OPEN;
    }
    while (ch->n_sent < ch->n_reqs) {
        r = send_req(ch, &ch->reqs[ch->n_sent]);
        if (r == AMK_EAGAIN)
            break;
        if (r != AMK_OK) {
            if (amk_err_is_fatal(r))
                return chan_conn_error(ch, r);
            chan_fail(ch, r, "cannot send the %s request (channel %u)",
                REQ_NAMES[ch->reqs[ch->n_sent].kind], ch->id);
            return sent;
        }
        ch->n_sent++;
        sent = 1;
    }
    /* replies come in the order of the requests (RFC 4254 §5.4) */
    for (size_t i = 0; i < ch->n_sent; i++) {
        struct chan_req *q = &ch->reqs[i];
        if (!q->want_reply || q->answered)
            continue;
        if ((r = amk_conn_channel_request_result(conn, ch->id, q->ticket, &res)) != AMK_OK)
            return chan_conn_error(ch, r);
        if (res == AMK_REQ_PENDING)
            break;
        if (res == AMK_REQ_FAILURE) {
            chan_fail(ch, AMK_EREFUSED, "the server refused the %s request (channel %u)",
                REQ_NAMES[q->kind], ch->id);
            return sent;
        }
        q->answered = 1;
    }
    return sent;
}

int
client_channels_advance(struct amk_client *c)
{
    int sent = 0, r;

    for (struct amk_client_channel *ch = c->channels; ch != NULL; ch = ch->next) {
        if ((r = chan_advance(ch)) < 0)
            return r;
        sent |= r;
    }
    return sent;
}

void
client_channels_orphan(struct amk_client *c)
{
    struct amk_client_channel *ch = c->channels, *next;

    for (; ch != NULL; ch = next) {
        next = ch->next;
        ch->c = NULL;
        ch->next = ch->prev = NULL;
    }
    c->channels = NULL;
}

/* --- Opening and requests ---------------------------------------------- */

static int
cond_ready(struct amk_client *c, void *arg)
{
    (void)c;
    return chan_ready(arg);
}

static int
cond_opened(struct amk_client *c, void *arg)
{
    struct amk_client_channel *ch = arg;
    int r;

    (void)c;
    if ((r = chan_check(ch)) != AMK_OK)
        return r;
    return ch->state == CH_OPEN ? AMK_OK : AMK_EAGAIN;
}

int
amk_client_channel_open(struct amk_client *c, unsigned flags, struct amk_client_channel **out)
{
    struct amk_client_channel *ch = NULL;
    int r;

    if (out != NULL)
        *out = NULL;
    if (c == NULL || out == NULL || (flags & ~(AMK_CLIENT_MERGE_STDERR | AMK_CLIENT_PTY)))
        return AMK_EINVAL;
    if (c->failed != AMK_OK)
        return c->failed;
    if (c->state != CLIENT_CONNECTED)
        return amk_error_set(&c->err, AMK_ESTATE, "not connected");
    if ((ch = calloc(1, sizeof(*ch))) == NULL)
        return AMK_ENOMEM;
    ch->c = c;
    ch->flags = flags;
    amk_error_clear(&ch->detail);
    ch->next = c->channels;
    if (c->channels != NULL)
        c->channels->prev = ch;
    c->channels = ch;
    if ((flags & AMK_CLIENT_PTY) &&
        (r = amk_client_channel_request_pty(ch, NULL, 0, 0)) != AMK_OK)
        goto fail;
    if (!c->blocking) {
        *out = ch;
        return AMK_OK;
    }
    if ((r = client_until(c, cond_opened, ch)) != AMK_OK)
        goto fail;
    *out = ch;
    return AMK_OK;
fail:
    amk_client_channel_free(ch);
    return r;
}

/* Queues a request; blocking: waits for every answer so far. */
static int
queue_req(struct amk_client_channel *ch, enum chan_req_kind kind, const char *a, const char *b,
    unsigned cols, unsigned rows)
{
    struct chan_req *q;
    int r;

    if (ch == NULL)
        return AMK_EINVAL;
    if ((r = chan_check(ch)) != AMK_OK)
        return r;
    if (ch->started)
        return amk_error_set(&ch->detail, AMK_ESTATE, "a command was already started");
    if (ch->n_reqs == CHAN_MAX_REQS)
        return AMK_ELIMIT;
    q = &ch->reqs[ch->n_reqs];
    memset(q, 0, sizeof(*q));
    if ((a != NULL && (q->a = strdup(a)) == NULL) || (b != NULL && (q->b = strdup(b)) == NULL)) {
        free(q->a);
        return AMK_ENOMEM;
    }
    q->kind = kind;
    q->cols = cols;
    q->rows = rows;
    q->want_reply = kind != REQ_ENV;
    ch->n_reqs++;
    if (kind == REQ_EXEC || kind == REQ_SHELL || kind == REQ_SUBSYSTEM)
        ch->started = 1;
    if (!ch->c->blocking || kind == REQ_ENV)
        return AMK_OK;
    return client_until(ch->c, cond_ready, ch);
}

int
amk_client_channel_request_pty(struct amk_client_channel *ch, const char *term, unsigned cols,
    unsigned rows)
{
    return queue_req(ch, REQ_PTY, term != NULL ? term : DEFAULT_TERM, NULL,
        cols != 0 ? cols : DEFAULT_COLS, rows != 0 ? rows : DEFAULT_ROWS);
}

int
amk_client_channel_setenv(struct amk_client_channel *ch, const char *name, const char *value)
{
    if (name == NULL || value == NULL)
        return AMK_EINVAL;
    return queue_req(ch, REQ_ENV, name, value, 0, 0);
}

int
amk_client_channel_exec(struct amk_client_channel *ch, const char *command)
{
    if (command == NULL)
        return AMK_EINVAL;
    return queue_req(ch, REQ_EXEC, command, NULL, 0, 0);
}

int
amk_client_channel_shell(struct amk_client_channel *ch)
{
    return queue_req(ch, REQ_SHELL, NULL, NULL, 0, 0);
}

int
amk_client_channel_subsystem(struct amk_client_channel *ch, const char *name)
{
    if (name == NULL)
        return AMK_EINVAL;
    return queue_req(ch, REQ_SUBSYSTEM, name, NULL, 0, 0);
}

int
amk_client_exec(struct amk_client *c, const char *command, unsigned flags,
    struct amk_client_channel **out)
{
    struct amk_client_channel *ch = NULL;
    int r;

    if (out != NULL)
        *out = NULL;
    if (command == NULL || out == NULL)
        return AMK_EINVAL;
    if ((r = amk_client_channel_open(c, flags, &ch)) != AMK_OK)
        return r;
    if ((r = amk_client_channel_exec(ch, command)) != AMK_OK) {
        amk_client_channel_free(ch);
        return r;
    }
    *out = ch;
    return AMK_OK;
}

int
amk_client_shell(struct amk_client *c, const char *term, unsigned cols, unsigned rows,
    struct amk_client_channel **out)
{
    struct amk_client_channel *ch = NULL;
    int r;

    if (out != NULL)
        *out = NULL;
    if (out == NULL)
        return AMK_EINVAL;
    if ((r = amk_client_channel_open(c, 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_client_channel_request_pty(ch, term, cols, rows)) != AMK_OK ||
        (r = amk_client_channel_shell(ch)) != AMK_OK) {
        amk_client_channel_free(ch);
        return r;
    }
    *out = ch;
    return AMK_OK;
}

int
amk_client_channel_ready(struct amk_client_channel *ch)
{
    if (ch == NULL)
        return AMK_EINVAL;
    if (ch->c == NULL)
        return AMK_ECLOSED;
    return client_until(ch->c, cond_ready, ch);
}

/* --- Data ---------------------------------------------------------------- */

struct read_arg {
    struct amk_client_channel *ch;
    enum amk_chan_stream stream;
    void *buf;
    size_t cap;
    size_t *got;
};

static int
cond_read(struct amk_client *c, void *arg)
{
    struct read_arg *ra = arg;
    int r;

    if ((r = chan_ready(ra->ch)) != AMK_OK)
        return r;
    r = amk_conn_channel_read(c->conn, ra->ch->id, ra->stream, ra->buf, ra->cap, ra->got);
    if (r == AMK_OK) {
        client_flush_quiet(c);  /* a window adjust may be queued */
        return AMK_OK;
    }
    return chan_conn_error(ra->ch, r);
}

static int
chan_read(struct amk_client_channel *ch, enum amk_chan_stream stream, void *buf, size_t cap,
    size_t *got)
{
    struct read_arg ra = { ch, stream, buf, cap, got };

    if (got != NULL)
        *got = 0;
    if (ch == NULL || got == NULL || buf == NULL || cap == 0)
        return AMK_EINVAL;
    if (ch->c == NULL)
        return AMK_ECLOSED;
    if (stream == AMK_CHAN_STDERR && (ch->flags & AMK_CLIENT_MERGE_STDERR))
        return AMK_OK;
    return client_until(ch->c, cond_read, &ra);
}

int
amk_client_channel_read(struct amk_client_channel *ch, void *buf, size_t cap, size_t *got)
{
    return chan_read(ch, AMK_CHAN_STDOUT, buf, cap, got);
}

int
amk_client_channel_read_stderr(struct amk_client_channel *ch, void *buf, size_t cap,
    size_t *got)
{
    return chan_read(ch, AMK_CHAN_STDERR, buf, cap, got);
}

struct write_arg {
    struct amk_client_channel *ch;
    const uint8_t *buf;
    size_t len, done;
};

static int
cond_write(struct amk_client *c, void *arg)
{
    struct write_arg *wa = arg;
    size_t n;
    int r;

    if ((r = chan_ready(wa->ch)) != AMK_OK)
        return r;
    while (wa->done < wa->len) {
        r = amk_conn_channel_write(c->conn, wa->ch->id, wa->buf + wa->done,
            wa->len - wa->done, &n);
        if (r == AMK_EAGAIN)
            return !c->blocking && wa->done > 0 ? AMK_OK : AMK_EAGAIN;
        if (r != AMK_OK)
            return chan_conn_error(wa->ch, r);
        wa->done += n;
    }
    return AMK_OK;
}

int
amk_client_channel_write(struct amk_client_channel *ch, const void *buf, size_t len,
    size_t *written)
{
    struct write_arg wa = { ch, buf, len, 0 };
    int r;

    if (written != NULL)
        *written = 0;
    if (ch == NULL || written == NULL || (buf == NULL && len > 0))
        return AMK_EINVAL;
    if (ch->c == NULL)
        return AMK_ECLOSED;
    r = client_until(ch->c, cond_write, &wa);
    if (wa.done > 0)
        client_flush_quiet(ch->c);
    *written = wa.done;
    if (r == AMK_ETIMEOUT && wa.done > 0)
        return AMK_OK;
    return r;
}

static int
cond_eof(struct amk_client *c, void *arg)
{
    struct amk_client_channel *ch = arg;
    int r;

    if ((r = chan_ready(ch)) != AMK_OK)
        return r;
    if ((r = amk_conn_channel_send_eof(c->conn, ch->id)) != AMK_OK)
        return chan_conn_error(ch, r);
    client_flush_quiet(c);
    return AMK_OK;
}

int
amk_client_channel_send_eof(struct amk_client_channel *ch)
{
    if (ch == NULL)
        return AMK_EINVAL;
    if (ch->c == NULL)
        return AMK_ECLOSED;
    return client_until(ch->c, cond_eof, ch);
}

struct exit_arg {
    struct amk_client_channel *ch;
    int *status;
    const char **signal;
};

static int
cond_exit(struct amk_client *c, void *arg)
{
    struct exit_arg *ea = arg;
    struct amk_client_channel *ch = ea->ch;
    const char *sig = NULL;
    uint32_t st = 0;
    int r;

    if ((r = chan_ready(ch)) != AMK_OK)
        return r;
    if (ea->status != NULL) {
        r = amk_conn_channel_exit_status(c->conn, ch->id, &st);
        if (r == AMK_OK)
            *ea->status = (int)(st & 0x7fffffffu);
    } else {
        r = amk_conn_channel_exit_signal(c->conn, ch->id, &sig, NULL, NULL);
        if (r == AMK_OK) {
            free(ch->signal);
            if ((ch->signal = strdup(sig)) == NULL)
                return AMK_ENOMEM;
            *ea->signal = ch->signal;
        }
    }
    if (r == AMK_ECLOSED)
        return amk_error_set(&ch->detail, r, "channel %u closed without an exit %s", ch->id,
            ea->status != NULL ? "status" : "signal");
    if (r == AMK_EAGAIN || r == AMK_OK)
        return r;
    return chan_conn_error(ch, r);
}

int
amk_client_channel_exit_status(struct amk_client_channel *ch, int *status)
{
    struct exit_arg ea = { ch, status, NULL };

    if (ch == NULL || status == NULL)
        return AMK_EINVAL;
    *status = -1;
    if (ch->c == NULL)
        return AMK_ECLOSED;
    return client_until(ch->c, cond_exit, &ea);
}

int
amk_client_channel_exit_signal(struct amk_client_channel *ch, const char **signal)
{
    struct exit_arg ea = { ch, NULL, signal };

    if (ch == NULL || signal == NULL)
        return AMK_EINVAL;
    *signal = NULL;
    if (ch->c == NULL)
        return AMK_ECLOSED;
    return client_until(ch->c, cond_exit, &ea);
}

int
amk_client_channel_signal(struct amk_client_channel *ch, const char *name)
{
    int r;

    if (ch == NULL || name == NULL)
        return AMK_EINVAL;
    if ((r = chan_ready(ch)) != AMK_OK)
        return r;
    if ((r = amk_conn_channel_signal(ch->c->conn, ch->id, name)) != AMK_OK)
        return chan_conn_error(ch, r);
    client_flush_quiet(ch->c);
    return AMK_OK;
}

int
amk_client_channel_window_change(struct amk_client_channel *ch, unsigned cols, unsigned rows)
{
    int r;

    if (ch == NULL)
        return AMK_EINVAL;
    if ((r = chan_ready(ch)) != AMK_OK)
        return r;
    if ((r = amk_conn_channel_window_change(ch->c->conn, ch->id, cols, rows, 0, 0)) != AMK_OK)
        return chan_conn_error(ch, r);
    client_flush_quiet(ch->c);
    return AMK_OK;
}

unsigned
amk_client_channel_poll(struct amk_client_channel *ch)
{
    unsigned ev, out = 0;

    if (ch == NULL || chan_check(ch) != AMK_OK)
        return AMK_CLIENT_EV_CLOSED | AMK_CLIENT_EV_STDOUT | AMK_CLIENT_EV_STDERR;
    if (client_pump(ch->c) != AMK_OK || chan_check(ch) != AMK_OK)
        return AMK_CLIENT_EV_CLOSED | AMK_CLIENT_EV_STDOUT | AMK_CLIENT_EV_STDERR;
    if (ch->state != CH_OPEN)
        return 0;
    ev = amk_conn_channel_poll(ch->c->conn, ch->id);
    if (ev & AMK_CHAN_EV_READABLE)
        out |= AMK_CLIENT_EV_STDOUT;
    if ((ev & AMK_CHAN_EV_STDERR) || (ch->flags & AMK_CLIENT_MERGE_STDERR))
        out |= AMK_CLIENT_EV_STDERR;
    if ((ev & AMK_CHAN_EV_WRITABLE) && chan_ready(ch) == AMK_OK)
        out |= AMK_CLIENT_EV_WRITABLE;
    if (ev & AMK_CHAN_EV_EXIT)
        out |= AMK_CLIENT_EV_EXIT;
    if (ev & AMK_CHAN_EV_CLOSED)
        out |= AMK_CLIENT_EV_CLOSED;
    return out;
}

static int
cond_closed(struct amk_client *c, void *arg)
{
    struct amk_client_channel *ch = arg;
    enum amk_chan_state st;
    int r;

    if ((r = chan_check(ch)) != AMK_OK)
        return r == AMK_ECLOSED ? AMK_OK : r;
    if (ch->state != CH_OPEN)
        return AMK_EAGAIN;
    if ((r = amk_conn_channel_close(c->conn, ch->id)) != AMK_OK)
        return chan_conn_error(ch, r);
    if ((r = amk_conn_channel_state(c->conn, ch->id, &st)) != AMK_OK)
        return chan_conn_error(ch, r);
    return st == AMK_CHAN_CLOSED ? AMK_OK : AMK_EAGAIN;
}

int
amk_client_channel_close(struct amk_client_channel *ch)
{
    if (ch == NULL)
        return AMK_EINVAL;
    if (ch->c == NULL || ch->err != AMK_OK)
        return AMK_OK;
    return client_until(ch->c, cond_closed, ch);
}

const char *
amk_client_channel_last_error(const struct amk_client_channel *ch)
{
    return ch != NULL ? amk_error_msg(&ch->detail) : "";
}

void
amk_client_channel_free(struct amk_client_channel *ch)
{
    struct amk_client *c;

    if (ch == NULL)
        return;
    c = ch->c;
    if (c != NULL) {
        if (c->conn != NULL && ch->state != CH_NEED_OPEN &&
            amk_conn_channel_release(c->conn, ch->id) != AMK_OK)
            amk_log(&c->log, AMK_LOG_DEBUG, "client: channel %u already gone", ch->id);
        if (ch->prev != NULL)
            ch->prev->next = ch->next;
        else
            c->channels = ch->next;
        if (ch->next != NULL)
            ch->next->prev = ch->prev;
        client_flush_quiet(c);
    }
    for (size_t i = 0; i < ch->n_reqs; i++) {
        free(ch->reqs[i].a);
        free(ch->reqs[i].b);
    }
    free(ch->signal);
    free(ch);
}

/* --- amk_client_run ------------------------------------------------------ */

void
client_run_clear(struct amk_client *c)
{
    amk_client_channel_free(c->run.ch);
    free(c->run.out);
    free(c->run.err);
    memset(&c->run, 0, sizeof(c->run));
}

/* Reads what is buffered on @p stream into *buf; sets *eof at its end. */
static int
run_drain(struct amk_client *c, enum amk_chan_stream stream, char **buf, size_t *len,
    size_t *cap, int *eof)
{
    size_t got;
    char *nb;
    int r;

    while (!*eof) {
        if (*cap - *len < RUN_CHUNK / 2) {
            size_t ncap = *cap == 0 ? RUN_CHUNK : *cap * 2;
            if (ncap > AMK_CLIENT_RUN_MAX + 1)
                return amk_error_set(&c->err, AMK_ELIMIT, "output longer than %zu bytes",
                    (size_t)AMK_CLIENT_RUN_MAX);
            if ((nb = realloc(*buf, ncap)) == NULL)
                return AMK_ENOMEM;
            *buf = nb;
            *cap = ncap;
        }
        r = amk_conn_channel_read(c->conn, c->run.ch->id, stream, *buf + *len,
            *cap - *len - 1, &got);
        if (r == AMK_EAGAIN)
            return AMK_OK;
        if (r != AMK_OK)
            return chan_conn_error(c->run.ch, r);
        if (got == 0)
            *eof = 1;
        *len += got;
        (*buf)[*len] = '\0';
    }
    return AMK_OK;
}

static int
signal_number(const char *name)
{
    for (size_t i = 0; i < sizeof(SIGNALS) / sizeof(SIGNALS[0]); i++) {
        if (strcmp(SIGNALS[i].name, name) == 0)
            return SIGNALS[i].num;
    }
    return 0;
}

static int
cond_run(struct amk_client *c, void *arg)
{
    struct client_run *run = &c->run;
    int *status = arg;
    const char *sig = NULL;
    uint32_t st;
    int r;

    if ((r = chan_ready(run->ch)) != AMK_OK)
        return r;
    if (!run->eof_sent) {
        /* A quick command's server may have closed the channel already (and
         * the engine answered the CLOSE): then there is no EOF left to send,
         * and what it sent is still buffered for the drains below. */
        r = amk_conn_channel_send_eof(c->conn, run->ch->id);
        if (r != AMK_OK && r != AMK_ECLOSED && r != AMK_ESTATE)
            return chan_conn_error(run->ch, r);
        run->eof_sent = 1;
    }
    if ((r = run_drain(c, AMK_CHAN_STDOUT, &run->out, &run->out_len, &run->out_cap,
            &run->out_eof)) != AMK_OK ||
        (r = run_drain(c, AMK_CHAN_STDERR, &run->err, &run->err_len, &run->err_cap,
            &run->err_eof)) != AMK_OK)
        return r;
    client_flush_quiet(c);
    if (!run->out_eof || !run->err_eof)
        return AMK_EAGAIN;
    r = amk_conn_channel_exit_status(c->conn, run->ch->id, &st);
    if (r == AMK_OK) {
        *status = (int)(st & 0x7fffffffu);
        return AMK_OK;
    }
    if (r != AMK_ECLOSED)
        return r == AMK_EAGAIN ? r : chan_conn_error(run->ch, r);
    *status = -1;
    if (amk_conn_channel_exit_signal(c->conn, run->ch->id, &sig, NULL, NULL) == AMK_OK &&
        signal_number(sig) != 0)
        *status = 128 + signal_number(sig);
    return AMK_OK;
}

/* Hands a collected stream to the caller (an empty string when nothing came). */
static int
run_hand_out(char **buf, size_t *len, char **out, size_t *outlen)
{
    if (out == NULL)
        return AMK_OK;
    if (*buf == NULL && (*buf = calloc(1, 1)) == NULL)
        return AMK_ENOMEM;
    *out = *buf;
    *buf = NULL;
    if (outlen != NULL)
        *outlen = *len;
    return AMK_OK;
}

int
amk_client_run(struct amk_client *c, const char *command, char **out, size_t *outlen,
    char **err, size_t *errlen, int *status)
{
    int st = -1, r;

    if (out != NULL)
        *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (err != NULL)
        *err = NULL;
    if (errlen != NULL)
        *errlen = 0;
    if (status != NULL)
        *status = -1;
    if (c == NULL || command == NULL)
        return AMK_EINVAL;
    if (c->run.ch == NULL && (r = amk_client_exec(c, command, 0, &c->run.ch)) != AMK_OK)
        return r;
    r = client_until(c, cond_run, &st);
    if (r == AMK_EAGAIN)
        return r;
    if (r == AMK_OK) {
        if ((r = run_hand_out(&c->run.out, &c->run.out_len, out, outlen)) != AMK_OK ||
            (r = run_hand_out(&c->run.err, &c->run.err_len, err, errlen)) != AMK_OK) {
            if (out != NULL) {
                free(*out);
                *out = NULL;
            }
        } else if (status != NULL) {
            *status = st;
        }
    }
    client_run_clear(c);
    return r;
}
