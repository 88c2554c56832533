/*
 * The server role of channel requests (RFC 4254 §6, RFC 4335): parsing
 * the session requests a client sends (pty-req, x11-req, env, shell, exec,
 * subsystem, window-change, signal, break, auth-agent-req@openssh.com),
 * handing them to the application's request_cb, replying in order now or
 * later (§5.4), and sending exit-status / exit-signal (§6.10). See
 * channel/conn.h.
 */
#include "channel/conn_int.h"

#include <stdlib.h>
#include <string.h>

/* Longest signal name we send or accept (RFC 4254 §6.10 names are short). */
#define SIGNAL_NAME_MAX 64

static const struct {
    const char *name;
    enum amk_chreq_kind kind;
} CHREQ_KINDS[] = {
    { "pty-req", AMK_CHREQ_PTY },
    { "x11-req", AMK_CHREQ_X11 },
    { "env", AMK_CHREQ_ENV },
    { "shell", AMK_CHREQ_SHELL },
    { "exec", AMK_CHREQ_EXEC },
    { "subsystem", AMK_CHREQ_SUBSYSTEM },
    { "window-change", AMK_CHREQ_WINDOW_CHANGE },
    { "signal", AMK_CHREQ_SIGNAL },
    { "break", AMK_CHREQ_BREAK },
    { "auth-agent-req@openssh.com", AMK_CHREQ_AUTH_AGENT },
};

/* The allocated strings of one parsed request. */
struct chreq_strings {
    char *s[3];
};

static void
chreq_strings_free(struct chreq_strings *st)
{
    for (size_t i = 0; i < sizeof(st->s) / sizeof(st->s[0]); i++)
        free(st->s[i]);
}

int
amk_conn_pty_modes_next(const uint8_t *modes, size_t len, size_t *off, struct amk_pty_mode *mode)
{
    uint8_t op;
    const uint8_t *p;

    if (modes == NULL || off == NULL || mode == NULL || *off > len)
        return AMK_EINVAL;
    if (*off == len)
        return AMK_ECLOSED;
    op = modes[*off];
    /* RFC 4254 §8: TTY_OP_END ends the list; opcodes 160..255 are not
     * defined and cause parsing to stop. */
    if (op == AMK_TTY_OP_END || op > AMK_TTY_OP_MAX_ARG)
        return AMK_ECLOSED;
    if (len - *off < 5)
        return AMK_ETRUNCATED;
    p = modes + *off + 1;
    mode->opcode = op;
    mode->value = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    *off += 5;
    return AMK_OK;
}

/* Checks that an encoded mode string decodes to its end. */
static int
pty_modes_check(const uint8_t *modes, size_t len)
{
    struct amk_pty_mode mode;
    size_t off = 0;
    int r;

    while ((r = amk_conn_pty_modes_next(modes, len, &off, &mode)) == AMK_OK)
        ;
    return r == AMK_ECLOSED ? AMK_OK : r;
}

/* Parses the type-specific fields of @p req from @p m (fatal when
 * malformed: the peer broke the protocol). */
static int
chreq_parse(struct amk_conn *c, struct amk_chan *ch, struct amk_buf *m,
    struct amk_conn_chreq *req, struct chreq_strings *st)
{
    const uint8_t *p;
    uint8_t *cmd;
    size_t n;
    int r = AMK_OK;

    switch (req->kind) {
    case AMK_CHREQ_PTY:
        /* RFC 4254 §6.2: TERM, cols, rows, width px, height px, modes */
        if ((r = amk_buf_get_cstring(m, &st->s[0], NULL)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req->pty.cols)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req->pty.rows)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req->pty.width_px)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req->pty.height_px)) != AMK_OK
            || (r = amk_buf_get_string_direct(m, &p, &n)) != AMK_OK)
            break;
        if ((r = pty_modes_check(p, n)) != AMK_OK)
            return amk_conn_fail(c, r, "channel %u: pty-req with malformed terminal modes",
                ch->id);
        req->pty.term = st->s[0];
        req->pty.modes = p;
        req->pty.modes_len = n;
        break;
    case AMK_CHREQ_X11:
        /* RFC 4254 §6.3.1 */
        if ((r = amk_buf_get_bool(m, &req->x11.single_connection)) != AMK_OK
            || (r = amk_buf_get_cstring(m, &st->s[0], NULL)) != AMK_OK
            || (r = amk_buf_get_cstring(m, &st->s[1], NULL)) != AMK_OK
            || (r = amk_buf_get_u32(m, &req->x11.screen)) != AMK_OK)
            break;
        req->x11.auth_protocol = st->s[0];
        req->x11.auth_cookie = st->s[1];
        break;
    case AMK_CHREQ_ENV:
        /* RFC 4254 §6.4 */
        if ((r = amk_buf_get_cstring(m, &st->s[0], NULL)) != AMK_OK
            || (r = amk_buf_get_cstring(m, &st->s[1], NULL)) != AMK_OK)
            break;
        req->env.name = st->s[0];
        req->env.value = st->s[1];
        break;
    case AMK_CHREQ_EXEC:
        /* RFC 4254 §6.5: a string, kept binary-safe */
        if ((r = amk_buf_get_string(m, &cmd, &n)) != AMK_OK)
            break;
        st->s[0] = (char *)cmd;
        req->exec.command = st->s[0];
        req->exec.command_len = n;
        break;
    case AMK_CHREQ_SUBSYSTEM:
        if ((r = amk_buf_get_cstring(m, &st->s[0], NULL)) != AMK_OK)
            break;
        req->subsystem = st->s[0];
        break;
    case AMK_CHREQ_WINDOW_CHANGE:
        /* RFC 4254 §6.7 */
        if ((r = amk_buf_get_u32(m, &req->winch.cols)) == AMK_OK
            && (r = amk_buf_get_u32(m, &req->winch.rows)) == AMK_OK
            && (r = amk_buf_get_u32(m, &req->winch.width_px)) == AMK_OK)
            r = amk_buf_get_u32(m, &req->winch.height_px);
        break;
    case AMK_CHREQ_SIGNAL:
        /* RFC 4254 §6.9: the name without "SIG" */
        if ((r = amk_buf_get_cstring(m, &st->s[0], &n)) != AMK_OK)
            break;
        if (n == 0 || n > SIGNAL_NAME_MAX)
            return amk_conn_fail(c, AMK_EFORMAT, "channel %u: signal request with a bad name",
                ch->id);
        req->signal = st->s[0];
        break;
    case AMK_CHREQ_BREAK:
        /* RFC 4335 §3 */
        r = amk_buf_get_u32(m, &req->break_ms);
        break;
    case AMK_CHREQ_SHELL:
    case AMK_CHREQ_AUTH_AGENT:
        break;
    }
    if (r == AMK_OK)
        r = amk_buf_get_end(m);
    if (r != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed %s request", ch->id, req->type);
    return AMK_OK;
}

/* Sends every decided reply that is next in order (RFC 4254 §5.4). */
static int
inreq_flush(struct amk_conn *c, struct amk_chan *ch)
{
    struct amk_inreq *q = &ch->inreq;
    int r;

    while (q->replied != q->received) {
        uint64_t bit = (uint64_t)1 << (q->replied % AMK_CONN_REQUESTS_MAX);
        if (!(q->decided_bits & bit))
            break;
        /* Nothing is sent after our CLOSE (RFC 4254 §5.3): drop it. */
        if (!(ch->flags & CH_CLOSE_SENT)) {
            /* A reply is owed whatever the queue holds: queue it as a
             * message the peer caused (its flood fails the engine). */
            if ((r = amk_conn_msg_start(c, (q->ok_bits & bit) ? AMK_MSG_CHANNEL_SUCCESS
                    : AMK_MSG_CHANNEL_FAILURE)) != AMK_OK
                || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK)
                return amk_conn_fail(c, r, "building a channel reply failed");
            if ((r = amk_conn_msg_send(c, 1)) != AMK_OK)
                return r;
        }
        q->decided_bits &= ~bit;
        q->ok_bits &= ~bit;
        q->replied++;
    }
    return AMK_OK;
}

/* Records the answer to @p ticket (known to await one). */
static void
inreq_decide(struct amk_inreq *q, uint32_t ticket, int ok)
{
    uint64_t bit = (uint64_t)1 << (ticket % AMK_CONN_REQUESTS_MAX);

    q->decided_bits |= bit;
    if (ok)
        q->ok_bits |= bit;
}

int
amk_conn_serve_request(struct amk_conn *c, struct amk_chan *ch, const uint8_t *type,
    size_t type_len, int want_reply, struct amk_buf *m)
{
    struct amk_conn_chreq req;
    struct chreq_strings st;
    char *name = NULL;
    int known = 0, decision = AMK_REQ_FAILURE, r;

    memset(&req, 0, sizeof(req));
    memset(&st, 0, sizeof(st));
    if ((name = amk_conn_text(type, type_len)) == NULL)
        return amk_conn_fail(c, AMK_ENOMEM, "out of memory");
    for (size_t i = 0; i < sizeof(CHREQ_KINDS) / sizeof(CHREQ_KINDS[0]); i++) {
        if (type_len == strlen(CHREQ_KINDS[i].name)
            && memcmp(type, CHREQ_KINDS[i].name, type_len) == 0) {
            req.kind = CHREQ_KINDS[i].kind;
            known = 1;
            break;
        }
    }
    req.id = ch->id;
    req.type = name;
    req.want_reply = want_reply != 0;
    if (known && (r = chreq_parse(c, ch, m, &req, &st)) != AMK_OK)
        goto out;
    /* After our CLOSE the channel is finished for us: nothing is acted on
     * and nothing is answered (RFC 4254 §5.3). */
    if (ch->flags & CH_CLOSE_SENT) {
        r = AMK_OK;
        goto out;
    }
    if (want_reply) {
        if (ch->inreq.received - ch->inreq.replied >= AMK_CONN_REQUESTS_MAX) {
            r = amk_conn_fail(c, AMK_ELIMIT, "channel %u: more than %d requests await replies",
                ch->id, AMK_CONN_REQUESTS_MAX);
            goto out;
        }
        req.ticket = ch->inreq.received++;
    }
    if (known)
        decision = c->request_cb(c->user, &req);
    amk_log(&c->log, AMK_LOG_DEBUG, "channel %u: request %.64s (want reply %d): %s", ch->id,
        name, want_reply, decision == AMK_REQ_SUCCESS ? "success"
        : decision == AMK_REQ_PENDING ? "pending" : "failure");
    r = AMK_OK;
    if (!want_reply || (decision == AMK_REQ_PENDING && known))
        goto out;
    inreq_decide(&ch->inreq, req.ticket, decision == AMK_REQ_SUCCESS);
    r = inreq_flush(c, ch);
out:
    chreq_strings_free(&st);
    free(name);
    return r;
}

int
amk_conn_channel_reply(struct amk_conn *c, uint32_t id, uint32_t ticket, int ok)
{
    struct amk_chan *ch;
    struct amk_inreq *q;
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    ch = amk_conn_chan_find(c, id);
    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    q = &ch->inreq;
    /* The ticket must await an answer: replied <= ticket < received. */
    if (ticket - q->replied >= q->received - q->replied
        || (q->decided_bits & ((uint64_t)1 << (ticket % AMK_CONN_REQUESTS_MAX))))
        return AMK_EINVAL;
    inreq_decide(q, ticket, ok);
    return inreq_flush(c, ch);
}

uint32_t
amk_conn_channel_replies_pending(const struct amk_conn *c, uint32_t id)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || (ch->flags & CH_RELEASED))
        return 0;
    return ch->inreq.received - ch->inreq.replied;
}

/* --- Exit status (RFC 4254 §6.10) ------------------------------------ */

/* Starts a CHANNEL_REQUEST without reply on a channel that may still send
 * requests (our EOF does not stop them). */
static int
exit_start(struct amk_conn *c, uint32_t id, const char *type, struct amk_chan **out)
{
    int r;

    *out = NULL;
    if ((r = amk_conn_chan_sendable(c, id, out)) != AMK_OK)
        return r;
    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_REQUEST)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, (*out)->peer_id)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, type)) != AMK_OK
        || (r = amk_buf_put_bool(&c->msg, 0)) != AMK_OK)
        return r;
    return AMK_OK;
}

int
amk_conn_channel_send_exit_status(struct amk_conn *c, uint32_t id, uint32_t status)
{
    struct amk_chan *ch;
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if ((r = exit_start(c, id, "exit-status", &ch)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, status)) != AMK_OK)
        return r;
    return amk_conn_msg_send(c, 0);
}

int
amk_conn_channel_send_exit_signal(struct amk_conn *c, uint32_t id, const char *signal,
    int core_dumped, const char *message, const char *lang)
{
    struct amk_chan *ch;
    int r;

    if (c == NULL || signal == NULL || signal[0] == '\0' || strlen(signal) > SIGNAL_NAME_MAX
        || strncmp(signal, "SIG", 3) == 0 || (message != NULL && strlen(message) > 4096)
        || (lang != NULL && strlen(lang) > 256))
        return AMK_EINVAL;
    /* signal name, core dumped, error message, language tag */
    if ((r = exit_start(c, id, "exit-signal", &ch)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, signal)) != AMK_OK
        || (r = amk_buf_put_bool(&c->msg, core_dumped != 0)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, message != NULL ? message : "")) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, lang != NULL ? lang : "")) != AMK_OK)
        return r;
    return amk_conn_msg_send(c, 0);
}
