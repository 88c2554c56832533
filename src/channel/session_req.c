/*
 * Channel requests (RFC 4254 §5.4, §6; RFC 4335): the session requests a
 * client sends (exec, shell, subsystem, pty-req, env, window-change,
 * signal, break), their replies matched in order, and the requests a
 * server sends us (exit-status, exit-signal, keepalives). See
 * channel/conn.h.
 */
#include "channel/conn_int.h"

#include <stdlib.h>
#include <string.h>

/* Longest string we put in a request (command, names, values). */
#define REQ_STRING_MAX ((size_t)64 * 1024)

/* --- Reply tracking --------------------------------------------------- */

int
amk_reqtrack_issue(struct amk_reqtrack *t, uint32_t *ticket)
{
    if (t->issued - t->answered >= AMK_CONN_REQUESTS_MAX)
        return AMK_ELIMIT;
    if (ticket != NULL)
        *ticket = t->issued;
    t->issued++;
    return AMK_OK;
}

int
amk_reqtrack_answer(struct amk_reqtrack *t, int ok)
{
    uint64_t bit;

    if (t->answered == t->issued)
        return AMK_EPROTO;
    bit = (uint64_t)1 << (t->answered % AMK_CONN_REQUESTS_MAX);
    if (ok)
        t->ok_bits |= bit;
    else
        t->ok_bits &= ~bit;
    t->answered++;
    return AMK_OK;
}

int
amk_reqtrack_result(const struct amk_reqtrack *t, uint32_t ticket, int abandoned,
    enum amk_req_result *result)
{
    if (result == NULL || ticket >= t->issued)
        return AMK_EINVAL;
    if (ticket >= t->answered) {
        *result = abandoned ? AMK_REQ_FAILURE : AMK_REQ_PENDING;
        return AMK_OK;
    }
    if (t->answered - ticket > AMK_CONN_REQUESTS_MAX)
        return AMK_EINVAL;
    *result = (t->ok_bits >> (ticket % AMK_CONN_REQUESTS_MAX)) & 1 ? AMK_REQ_SUCCESS
        : AMK_REQ_FAILURE;
    return AMK_OK;
}

/* --- Sending requests ------------------------------------------------- */

/* Starts CHANNEL_REQUEST @p type on a channel that may send; leaves the
 * type-specific fields to the caller. */
static int
req_start(struct amk_conn *c, uint32_t id, const char *type, int want_reply,
    struct amk_chan **out)
{
    struct amk_chan *ch;
    int r;

    *out = NULL;
    if (c == NULL)
        return AMK_EINVAL;
    if ((r = amk_conn_chan_sendable(c, id, &ch)) != AMK_OK)
        return r;
    if (want_reply && ch->req.issued - ch->req.answered >= AMK_CONN_REQUESTS_MAX)
        return AMK_ELIMIT;
    /* RFC 4254 §5.4 */
    if ((r = amk_conn_msg_start(c, AMK_MSG_CHANNEL_REQUEST)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, type)) != AMK_OK
        || (r = amk_buf_put_bool(&c->msg, want_reply)) != AMK_OK)
        return r;
    *out = ch;
    return AMK_OK;
}

/* Sends the request built in c->msg and issues its ticket. */
static int
req_finish(struct amk_conn *c, struct amk_chan *ch, int want_reply, uint32_t *ticket)
{
    int r;

    if ((r = amk_conn_msg_send(c, 0)) != AMK_OK)
        return r;
    if (want_reply)
        return amk_reqtrack_issue(&ch->req, ticket);
    return AMK_OK;
}

static int
str_ok(const char *s)
{
    return s != NULL && strlen(s) <= REQ_STRING_MAX;
}

/* A request whose only field is one string (exec, subsystem) or none. */
static int
req_simple(struct amk_conn *c, uint32_t id, const char *type, const char *arg, int want_reply,
    uint32_t *ticket)
{
    struct amk_chan *ch;
    int r;

    if ((r = req_start(c, id, type, want_reply, &ch)) != AMK_OK)
        return r;
    if (arg != NULL && (r = amk_buf_put_cstring(&c->msg, arg)) != AMK_OK)
        return r;
    return req_finish(c, ch, want_reply, ticket);
}

int
amk_conn_channel_exec(struct amk_conn *c, uint32_t id, const char *command, int want_reply,
    uint32_t *ticket)
{
    if (!str_ok(command))
        return AMK_EINVAL;
    /* RFC 4254 §6.5 */
    return req_simple(c, id, "exec", command, want_reply, ticket);
}

int
amk_conn_channel_shell(struct amk_conn *c, uint32_t id, int want_reply, uint32_t *ticket)
{
    /* RFC 4254 §6.5 */
    return req_simple(c, id, "shell", NULL, want_reply, ticket);
}

int
amk_conn_channel_subsystem(struct amk_conn *c, uint32_t id, const char *name, int want_reply,
    uint32_t *ticket)
{
    if (!str_ok(name) || name[0] == '\0')
        return AMK_EINVAL;
    /* RFC 4254 §6.5 */
    return req_simple(c, id, "subsystem", name, want_reply, ticket);
}

int
amk_conn_channel_env(struct amk_conn *c, uint32_t id, const char *name, const char *value,
    int want_reply, uint32_t *ticket)
{
    struct amk_chan *ch;
    int r;

    if (!str_ok(name) || name[0] == '\0' || !str_ok(value))
        return AMK_EINVAL;
    /* RFC 4254 §6.4 */
    if ((r = req_start(c, id, "env", want_reply, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_put_cstring(&c->msg, name)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, value)) != AMK_OK)
        return r;
    return req_finish(c, ch, want_reply, ticket);
}

int
amk_conn_channel_pty(struct amk_conn *c, uint32_t id, const struct amk_pty_req *pty,
    int want_reply, uint32_t *ticket)
{
    struct amk_buf modes;
    struct amk_chan *ch;
    int r;

    if (pty == NULL || (pty->term != NULL && !str_ok(pty->term))
        || (pty->modes == NULL && pty->n_modes > 0) || pty->n_modes > 256)
        return AMK_EINVAL;
    for (size_t i = 0; i < pty->n_modes; i++) {
        /* RFC 4254 §8: opcodes 1..159 carry a uint32; 160..255 are
         * undefined and would stop the peer's parsing. */
        if (pty->modes[i].opcode == AMK_TTY_OP_END
            || pty->modes[i].opcode > AMK_TTY_OP_MAX_ARG)
            return AMK_EINVAL;
    }
    if ((r = req_start(c, id, "pty-req", want_reply, &ch)) != AMK_OK)
        return r;
    amk_buf_init(&modes);
    for (size_t i = 0; i < pty->n_modes && r == AMK_OK; i++) {
        if ((r = amk_buf_put_u8(&modes, pty->modes[i].opcode)) == AMK_OK)
            r = amk_buf_put_u32(&modes, pty->modes[i].value);
    }
    /* RFC 4254 §6.2: TERM, columns, rows, width px, height px, modes */
    if (r != AMK_OK
        || (r = amk_buf_put_u8(&modes, AMK_TTY_OP_END)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, pty->term != NULL ? pty->term : "")) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, pty->cols)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, pty->rows)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, pty->width_px)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, pty->height_px)) != AMK_OK
        || (r = amk_buf_put_stringb(&c->msg, &modes)) != AMK_OK)
        goto out;
    r = req_finish(c, ch, want_reply, ticket);
out:
    amk_buf_release(&modes);
    return r;
}

int
amk_conn_channel_window_change(struct amk_conn *c, uint32_t id, uint32_t cols, uint32_t rows,
    uint32_t width_px, uint32_t height_px)
{
    struct amk_chan *ch;
    int r;

    /* RFC 4254 §6.7: want reply is always FALSE. */
    if ((r = req_start(c, id, "window-change", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_put_u32(&c->msg, cols)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, rows)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, width_px)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, height_px)) != AMK_OK)
        return r;
    return req_finish(c, ch, 0, NULL);
}

int
amk_conn_channel_signal(struct amk_conn *c, uint32_t id, const char *name)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > 64 || strncmp(name, "SIG", 3) == 0)
        return AMK_EINVAL;
    /* RFC 4254 §6.9: want reply FALSE, signal name without "SIG". */
    return req_simple(c, id, "signal", name, 0, NULL);
}

int
amk_conn_channel_break(struct amk_conn *c, uint32_t id, uint32_t ms, int want_reply,
    uint32_t *ticket)
{
    struct amk_chan *ch;
    int r;

    /* RFC 4335 §3 */
    if ((r = req_start(c, id, "break", want_reply, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_put_u32(&c->msg, ms)) != AMK_OK)
        return r;
    return req_finish(c, ch, want_reply, ticket);
}

int
amk_conn_channel_request_result(const struct amk_conn *c, uint32_t id, uint32_t ticket,
    enum amk_req_result *result)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);

    if (ch == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    return amk_reqtrack_result(&ch->req, ticket, (ch->flags & CH_CLOSE_RCVD) != 0, result);
}

/* --- Exit status ------------------------------------------------------ */

/* AMK_OK when @p flag was received, else AMK_EAGAIN or AMK_ECLOSED. */
static int
exit_check(const struct amk_chan *ch, unsigned flag)
{
    if (ch->flags & flag)
        return AMK_OK;
    if ((ch->flags & CH_CLOSE_RCVD) || ch->state == AMK_CHAN_OPEN_FAILED)
        return AMK_ECLOSED;
    return AMK_EAGAIN;
}

int
amk_conn_channel_exit_status(const struct amk_conn *c, uint32_t id, uint32_t *status)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);
    int r;

    if (ch == NULL || status == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    if ((r = exit_check(ch, CH_EXIT_STATUS)) != AMK_OK)
        return r;
    *status = ch->exit_status;
    return AMK_OK;
}

int
amk_conn_channel_exit_signal(const struct amk_conn *c, uint32_t id, const char **signal,
    int *core_dumped, const char **message)
{
    const struct amk_chan *ch = amk_conn_chan_find(c, id);
    int r;

    if (ch == NULL || signal == NULL || (ch->flags & CH_RELEASED))
        return AMK_EINVAL;
    if ((r = exit_check(ch, CH_EXIT_SIGNAL)) != AMK_OK)
        return r;
    *signal = ch->exit_signal;
    if (core_dumped != NULL)
        *core_dumped = (ch->flags & CH_CORE_DUMPED) != 0;
    if (message != NULL)
        *message = ch->exit_message;
    return AMK_OK;
}

/* --- Requests from the peer ------------------------------------------- */

/* exit-status: uint32 (RFC 4254 §6.10). */
static int
on_exit_status(struct amk_conn *c, struct amk_chan *ch, struct amk_buf *m)
{
    uint32_t status;
    int r;

    if ((r = amk_buf_get_u32(m, &status)) != AMK_OK || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed exit-status", ch->id);
    ch->exit_status = status;
    ch->flags |= CH_EXIT_STATUS;
    return AMK_OK;
}

/* exit-signal: signal name, core dumped, error message, language tag
 * (RFC 4254 §6.10). */
static int
on_exit_signal(struct amk_conn *c, struct amk_chan *ch, struct amk_buf *m)
{
    const uint8_t *sig, *msg;
    size_t sig_len, msg_len;
    char *s = NULL, *t = NULL;
    int core, r;

    if ((r = amk_buf_get_string_direct(m, &sig, &sig_len)) != AMK_OK
        || (r = amk_buf_get_bool(m, &core)) != AMK_OK
        || (r = amk_buf_get_string_direct(m, &msg, &msg_len)) != AMK_OK
        || (r = amk_buf_skip_string(m)) != AMK_OK
        || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed exit-signal", ch->id);
    if ((s = amk_conn_text(sig, sig_len)) == NULL || (t = amk_conn_text(msg, msg_len)) == NULL) {
        free(s);
        return amk_conn_fail(c, AMK_ENOMEM, "out of memory");
    }
    free(ch->exit_signal);
    free(ch->exit_message);
    ch->exit_signal = s;
    ch->exit_message = t;
    ch->flags |= CH_EXIT_SIGNAL;
    if (core)
        ch->flags |= CH_CORE_DUMPED;
    return AMK_OK;
}

int
amk_conn_on_channel_request(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_chan *ch;
    const uint8_t *type;
    size_t type_len;
    int want_reply, handled = 0, r;

    if ((r = amk_conn_chan_recipient(c, m, "CHANNEL_REQUEST", 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_string_direct(m, &type, &type_len)) != AMK_OK
        || (r = amk_buf_get_bool(m, &want_reply)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed CHANNEL_REQUEST", ch->id);
    if (c->request_cb != NULL
        && !(type_len == strlen("exit-status") && memcmp(type, "exit-status", type_len) == 0)
        && !(type_len == strlen("exit-signal") && memcmp(type, "exit-signal", type_len) == 0))
        return amk_conn_serve_request(c, ch, type, type_len, want_reply, m);
    if (type_len == strlen("exit-status") && memcmp(type, "exit-status", type_len) == 0) {
        if ((r = on_exit_status(c, ch, m)) != AMK_OK)
            return r;
        handled = 1;
    } else if (type_len == strlen("exit-signal") && memcmp(type, "exit-signal", type_len) == 0) {
        if ((r = on_exit_signal(c, ch, m)) != AMK_OK)
            return r;
        handled = 1;
    }
    /* Everything else (keepalive@openssh.com, eow@openssh.com, requests
     * meant for a server) we do not act on. */
    if (handled)
        amk_conn_chan_changed(c, ch);
    /* RFC 4254 §5.4: answer when asked; nothing is sent after our CLOSE. */
    if (!want_reply || (ch->flags & CH_CLOSE_SENT))
        return AMK_OK;
    if ((r = amk_conn_msg_start(c, handled ? AMK_MSG_CHANNEL_SUCCESS
            : AMK_MSG_CHANNEL_FAILURE)) != AMK_OK
        || (r = amk_buf_put_u32(&c->msg, ch->peer_id)) != AMK_OK)
        return amk_conn_fail(c, r, "building a channel reply failed");
    return amk_conn_msg_send(c, 1);
}

static int
on_channel_reply(struct amk_conn *c, struct amk_buf *m, int ok)
{
    const char *what = ok ? "CHANNEL_SUCCESS" : "CHANNEL_FAILURE";
    struct amk_chan *ch;
    int r;

    if ((r = amk_conn_chan_recipient(c, m, what, 0, &ch)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "channel %u: malformed %s", ch->id, what);
    /* RFC 4254 §5.4: replies come in the order of the requests. */
    if (amk_reqtrack_answer(&ch->req, ok) != AMK_OK)
        return amk_conn_fail(c, AMK_EPROTO, "channel %u: %s without an outstanding request",
            ch->id, what);
    amk_conn_chan_changed(c, ch);
    return AMK_OK;
}

int
amk_conn_on_channel_success(struct amk_conn *c, struct amk_buf *m)
{
    return on_channel_reply(c, m, 1);
}

int
amk_conn_on_channel_failure(struct amk_conn *c, struct amk_buf *m)
{
    return on_channel_reply(c, m, 0);
}
