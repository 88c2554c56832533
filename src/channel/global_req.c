/*
 * Global requests (RFC 4254 §4): ours with replies matched in order, the
 * keepalive timer, and answering the peer's. See channel/conn.h.
 */
#include "channel/conn_int.h"

#include <stdlib.h>
#include <string.h>

#define KEEPALIVE_NAME "keepalive@openssh.com"
#define NO_MORE_SESSIONS_NAME "no-more-sessions@openssh.com"
#define GLOBAL_NAME_MAX 256

int
amk_conn_global_request(struct amk_conn *c, const char *name, const uint8_t *data, size_t len,
    int want_reply, uint32_t *ticket)
{
    int r;

    if (c == NULL || name == NULL || name[0] == '\0' || strlen(name) > GLOBAL_NAME_MAX
        || (data == NULL && len > 0) || len > AMK_CONN_PENDING_MAX / 2)
        return AMK_EINVAL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    if (want_reply && c->greq.issued - c->greq.answered >= AMK_CONN_REQUESTS_MAX)
        return AMK_ELIMIT;
    /* RFC 4254 §4: name, want reply, request-specific data */
    if ((r = amk_conn_msg_start(c, AMK_MSG_GLOBAL_REQUEST)) != AMK_OK
        || (r = amk_buf_put_cstring(&c->msg, name)) != AMK_OK
        || (r = amk_buf_put_bool(&c->msg, want_reply)) != AMK_OK
        || (len > 0 && (r = amk_buf_put(&c->msg, data, len)) != AMK_OK)
        || (r = amk_conn_msg_send(c, 0)) != AMK_OK)
        return r;
    if (want_reply)
        return amk_reqtrack_issue(&c->greq, ticket);
    return AMK_OK;
}

int
amk_conn_keepalive(struct amk_conn *c, uint32_t *ticket)
{
    return amk_conn_global_request(c, KEEPALIVE_NAME, NULL, 0, 1, ticket);
}

int
amk_conn_global_result(const struct amk_conn *c, uint32_t ticket, enum amk_req_result *result)
{
    if (c == NULL)
        return AMK_EINVAL;
    return amk_reqtrack_result(&c->greq, ticket, 0, result);
}

uint64_t
amk_conn_next_deadline(const struct amk_conn *c)
{
    if (c == NULL || c->ka_interval == 0 || c->ka_next == 0 || c->err != AMK_OK)
        return AMK_CONN_NO_DEADLINE;
    return c->ka_next;
}

int
amk_conn_tick(struct amk_conn *c, uint64_t now_ms)
{
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if ((r = amk_conn_enter(c)) != AMK_OK)
        return r;
    if (c->ka_interval == 0)
        return AMK_OK;
    if (c->ka_next == 0) {
        c->ka_next = now_ms + c->ka_interval;
        return AMK_OK;
    }
    if (now_ms < c->ka_next)
        return AMK_OK;
    if (c->ka_unanswered >= c->ka_count_max)
        return amk_conn_fail(c, AMK_ETIMEOUT, "%u keepalives unanswered", c->ka_unanswered);
    c->ka_next = now_ms + c->ka_interval;
    r = amk_conn_keepalive(c, NULL);
    /* A full output or too many outstanding requests: try next time. */
    if (r == AMK_EAGAIN || r == AMK_ELIMIT)
        return AMK_OK;
    if (r != AMK_OK)
        return r;
    c->ka_unanswered++;
    return AMK_OK;
}

/* RFC 4254 §7.1: tcpip-forward / cancel-tcpip-forward carry an address
 * to bind and a port. */
static int
global_parse_forward(struct amk_conn *c, struct amk_buf *m, struct amk_conn_global_req *req,
    char **addr)
{
    int r;

    if ((r = amk_buf_get_cstring(m, addr, NULL)) != AMK_OK
        || (r = amk_buf_get_u32(m, &req->bind_port)) != AMK_OK
        || (r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "malformed GLOBAL_REQUEST %s", req->name);
    req->bind_address = *addr;
    return AMK_OK;
}

int
amk_conn_on_global_request(struct amk_conn *c, struct amk_buf *m)
{
    struct amk_conn_global_req req;
    const uint8_t *raw;
    size_t raw_len;
    char *name = NULL, *addr = NULL;
    uint32_t bound_port = 0;
    int want_reply, ok = 0, r;

    memset(&req, 0, sizeof(req));
    if ((r = amk_buf_get_string_direct(m, &raw, &raw_len)) != AMK_OK
        || (r = amk_buf_get_bool(m, &want_reply)) != AMK_OK) {
        r = amk_conn_fail(c, r, "malformed GLOBAL_REQUEST");
        goto out;
    }
    /* Printable copy: a name with odd bytes matches nothing we know. */
    if ((name = amk_conn_text(raw, raw_len)) == NULL) {
        r = amk_conn_fail(c, AMK_ENOMEM, "out of memory");
        goto out;
    }
    req.name = name;
    req.want_reply = want_reply;
    req.data = amk_buf_ptr(m);
    req.len = amk_buf_len(m);
    if (strcmp(name, NO_MORE_SESSIONS_NAME) == 0) {
        /* OpenSSH PROTOCOL §2.2: refuse later session opens. */
        c->no_more_sessions = 1;
        ok = 1;
    } else if (strcmp(name, KEEPALIVE_NAME) == 0 || c->global_cb == NULL) {
        /* RFC 4254 §4: unknown requests get REQUEST_FAILURE; OpenSSH
         * expects exactly that for its keepalive@openssh.com. The data of
         * requests we do not act on (hostkeys-00@openssh.com, ...) is not
         * parsed. */
        ok = 0;
    } else {
        if ((strcmp(name, "tcpip-forward") == 0 || strcmp(name, "cancel-tcpip-forward") == 0)
            && (r = global_parse_forward(c, m, &req, &addr)) != AMK_OK)
            goto out;
        ok = c->global_cb(c->user, &req, &bound_port) == AMK_REQ_SUCCESS;
    }
    amk_log(&c->log, AMK_LOG_DEBUG, "global request %.64s (want reply %d) %s", name,
        want_reply, ok ? "accepted" : "refused");
    r = AMK_OK;
    if (!want_reply)
        goto out;
    if ((r = amk_conn_msg_start(c, ok ? AMK_MSG_REQUEST_SUCCESS
            : AMK_MSG_REQUEST_FAILURE)) != AMK_OK
        /* RFC 4254 §7.1: the port allocated for a tcpip-forward of port 0 */
        || (ok && req.bind_address != NULL && strcmp(name, "tcpip-forward") == 0
            && req.bind_port == 0 && (r = amk_buf_put_u32(&c->msg, bound_port)) != AMK_OK)) {
        r = amk_conn_fail(c, r, "building a global reply failed");
        goto out;
    }
    r = amk_conn_msg_send(c, 1);
out:
    free(name);
    free(addr);
    return r;
}

int
amk_conn_no_more_sessions(const struct amk_conn *c)
{
    return c != NULL && c->no_more_sessions;
}

static int
on_global_reply(struct amk_conn *c, int ok)
{
    /* RFC 4254 §4: replies come in the order of the requests. */
    if (amk_reqtrack_answer(&c->greq, ok) != AMK_OK)
        return amk_conn_fail(c, AMK_EPROTO, "%s without an outstanding global request",
            ok ? "REQUEST_SUCCESS" : "REQUEST_FAILURE");
    c->ka_unanswered = 0;
    return AMK_OK;
}

int
amk_conn_on_request_success(struct amk_conn *c, struct amk_buf *m)
{
    /* Request-specific data may follow (RFC 4254 §7.1: the bound port). */
    return on_global_reply(c, 1);
}

int
amk_conn_on_request_failure(struct amk_conn *c, struct amk_buf *m)
{
    int r;

    if ((r = amk_buf_get_end(m)) != AMK_OK)
        return amk_conn_fail(c, r, "malformed REQUEST_FAILURE");
    return on_global_reply(c, 0);
}
