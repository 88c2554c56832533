/*
 * Fuzz target for the connection engine in the server role
 * (src/channel/server_req.c, global_req.c): channel and global requests
 * from a client, parsed and handed to request_cb / global_cb, replies
 * given now or later. The input is a list of records, each a type byte
 * and a big-endian uint16 length then that many bytes:
 *   type 0: a payload the client sends (amk_conn_handle)
 *   type 1: an application call chosen by the first byte (reply to a
 *           pending request, exit-status, exit-signal, EOF, close,
 *           release, read, write, stderr write, flush)
 *   type 2: the sink refuses (first byte odd) or accepts from now on
 *   type 3: the answers request_cb gives from now on (one byte each,
 *           used in turn: 0 success, 1 failure, 2 pending)
 * The engine starts with two session channels the client opened
 * (client numbers 0 and 1). Checks: a failing client message leaves the
 * engine failed with that code; application calls fail only with the
 * codes their documentation lists; request_cb only sees well-formed
 * requests (fields of its kind set, terminal modes decodable, exec
 * command NUL-terminated after its length); no channel ever has more than
 * AMK_CONN_REQUESTS_MAX requests awaiting replies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/conn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW ((uint32_t)64 * 1024)
#define MAX_PENDING 128

struct fuzz_state {
    int refuse;
    uint8_t answers[64];
    size_t n_answers, next_answer;
    /* requests answered "pending": (channel, ticket) */
    uint32_t pend_id[MAX_PENDING];
    uint32_t pend_ticket[MAX_PENDING];
    size_t n_pend;
    uint32_t opened[8];
    size_t n_opened;
};

static int
fuzz_send(void *user, const uint8_t *payload, size_t len)
{
    struct fuzz_state *s = user;

    (void)payload;
    (void)len;
    return s->refuse ? AMK_EAGAIN : AMK_OK;
}

static int
fuzz_open(void *user, const struct amk_conn_open_req *req, uint32_t id)
{
    struct fuzz_state *s = user;

    if (req->type == NULL || req->host == NULL || req->orig_host == NULL)
        abort();
    if (s->n_opened < 8)
        s->opened[s->n_opened++] = id;
    return strcmp(req->type, "session") == 0 ? AMK_OK : AMK_OPEN_CONNECT_FAILED;
}

static void
check_request(const struct amk_conn_chreq *req)
{
    struct amk_pty_mode m;
    size_t off = 0;
    int r;

    if (req->type == NULL)
        abort();
    switch (req->kind) {
    case AMK_CHREQ_PTY:
        if (req->pty.term == NULL || (req->pty.modes == NULL && req->pty.modes_len > 0))
            abort();
        while ((r = amk_conn_pty_modes_next(req->pty.modes, req->pty.modes_len, &off, &m))
            == AMK_OK)
            ;
        if (r != AMK_ECLOSED)
            abort();
        break;
    case AMK_CHREQ_ENV:
        if (req->env.name == NULL || req->env.value == NULL)
            abort();
        break;
    case AMK_CHREQ_EXEC:
        if (req->exec.command == NULL || req->exec.command[req->exec.command_len] != '\0')
            abort();
        break;
    case AMK_CHREQ_SUBSYSTEM:
        if (req->subsystem == NULL)
            abort();
        break;
    case AMK_CHREQ_SIGNAL:
        if (req->signal == NULL || req->signal[0] == '\0')
            abort();
        break;
    case AMK_CHREQ_X11:
        if (req->x11.auth_protocol == NULL || req->x11.auth_cookie == NULL)
            abort();
        break;
    case AMK_CHREQ_SHELL:
    case AMK_CHREQ_WINDOW_CHANGE:
    case AMK_CHREQ_BREAK:
    case AMK_CHREQ_AUTH_AGENT:
        break;
    default:
        abort();
    }
}

static int
fuzz_request(void *user, const struct amk_conn_chreq *req)
{
    struct fuzz_state *s = user;
    uint8_t a = 0;

    check_request(req);
    if (s->n_answers > 0)
        a = s->answers[s->next_answer++ % s->n_answers];
    switch (a % 3) {
    case 0:
        return AMK_REQ_SUCCESS;
    case 1:
        return AMK_REQ_FAILURE;
    default:
        if (req->want_reply && s->n_pend < MAX_PENDING) {
            s->pend_id[s->n_pend] = req->id;
            s->pend_ticket[s->n_pend] = req->ticket;
            s->n_pend++;
            return AMK_REQ_PENDING;
        }
        return AMK_REQ_FAILURE;
    }
}

static int
fuzz_global(void *user, const struct amk_conn_global_req *req, uint32_t *port)
{
    (void)user;
    if (req->name == NULL || (req->data == NULL && req->len > 0))
        abort();
    *port = 4242;
    return req->len % 2 == 0 ? AMK_REQ_SUCCESS : AMK_REQ_FAILURE;
}

static void
check(struct amk_conn *c, int from_peer, int r)
{
    int err = amk_conn_error(c);

    if (from_peer && r != AMK_OK && r != AMK_ENOTSUP && r != AMK_EINVAL && r != err) {
        fprintf(stderr, "handle returned %s, engine error %s\n", amk_errname(r),
            amk_errname(err));
        abort();
    }
    if (!from_peer && err == AMK_OK && r != AMK_OK && r != AMK_EAGAIN && r != AMK_EINVAL
        && r != AMK_ESTATE && r != AMK_ELIMIT && r != AMK_ECLOSED) {
        fprintf(stderr, "call returned %s on a healthy engine\n", amk_errname(r));
        abort();
    }
    for (size_t i = 0; i < c->max_channels; i++) {
        const struct amk_chan *ch = c->slots[i];
        if (ch == NULL)
            continue;
        if (ch->inreq.received - ch->inreq.replied > AMK_CONN_REQUESTS_MAX)
            abort();
        if (amk_ring_len(&ch->rx[0]) + amk_ring_len(&ch->rx[1]) > WINDOW)
            abort();
    }
}

/* One application call chosen by @p p[0], on a channel chosen by p[1]. */
static int
app_call(struct amk_conn *c, struct fuzz_state *s, const uint8_t *p, size_t len)
{
    static const uint8_t junk[300] = { 0 };
    uint8_t buf[4096];
    uint32_t id = s->n_opened > 0 && len > 1 ? s->opened[p[1] % s->n_opened] : 0;
    size_t n;
    int r;

    if (len == 0)
        return AMK_OK;
    switch (p[0] % 11) {
    case 0:
        if (s->n_pend == 0)
            return AMK_OK;
        /* answer the pending request chosen by p[2], in any order */
        n = len > 2 ? p[2] % s->n_pend : 0;
        r = amk_conn_channel_reply(c, s->pend_id[n], s->pend_ticket[n], len > 3 && (p[3] & 1));
        s->pend_id[n] = s->pend_id[s->n_pend - 1];
        s->pend_ticket[n] = s->pend_ticket[s->n_pend - 1];
        s->n_pend--;
        return r;
    case 1: return amk_conn_channel_send_exit_status(c, id, len > 2 ? p[2] : 0);
    case 2: return amk_conn_channel_send_exit_signal(c, id, "TERM", len > 2 && (p[2] & 1),
        "m", "");
    case 3: return amk_conn_channel_send_eof(c, id);
    case 4: return amk_conn_channel_close(c, id);
    case 5: return amk_conn_channel_release(c, id);
    case 6: return amk_conn_channel_read(c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &n);
    case 7: return amk_conn_channel_write(c, id, junk, len > 2 ? p[2] + 44u : 1, &n);
    case 8: return amk_conn_channel_write_ext(c, id, AMK_EXTENDED_DATA_STDERR, junk,
        len > 2 ? p[2] + 1u : 1, &n);
    case 9: return amk_conn_flush(c);
    default:
        (void)amk_conn_channel_replies_pending(c, id);
        (void)amk_conn_no_more_sessions(c);
        (void)!amk_conn_next_changed(c, &id);
        return AMK_OK;
    }
}

/* CHANNEL_OPEN "session" from the client as its channel @p peer. */
static void
open_session(struct amk_conn *c, uint32_t peer)
{
    uint8_t m[1 + 4 + 7 + 12];
    size_t o = 0;

    m[o++] = AMK_MSG_CHANNEL_OPEN;
    m[o++] = 0; m[o++] = 0; m[o++] = 0; m[o++] = 7;
    memcpy(m + o, "session", 7);
    o += 7;
    m[o++] = 0; m[o++] = 0; m[o++] = 0; m[o++] = (uint8_t)peer;       /* sender */
    m[o++] = 0; m[o++] = 1; m[o++] = 0; m[o++] = 0;                    /* window 64 KiB */
    m[o++] = 0; m[o++] = 0; m[o++] = 0x40; m[o++] = 0;                 /* packet 16 KiB */
    if (amk_conn_handle(c, m, o) != AMK_OK)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_state *fs = calloc(1, sizeof(*fs));
    struct amk_pkt_sink sink = { fuzz_send, NULL, NULL };
    struct amk_conn_config cfg;
    struct amk_conn *c = NULL;
    size_t off = 0;

    if (fs == NULL)
        abort();
    sink.user = fs;
    memset(&cfg, 0, sizeof(cfg));
    cfg.window = WINDOW;
    cfg.maxpacket = 16 * 1024;
    cfg.max_channels = 8;
    cfg.open_cb = fuzz_open;
    cfg.request_cb = fuzz_request;
    cfg.global_cb = fuzz_global;
    cfg.user = fs;
    if (amk_conn_new(&c, &cfg, &sink) != AMK_OK)
        abort();
    open_session(c, 0);
    open_session(c, 1);
    while (size - off >= 3) {
        uint8_t type = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        int r = AMK_OK;

        off += 3;
        if (len > size - off)
            len = size - off;
        switch (type % 4) {
        case 0:
            r = amk_conn_handle(c, data + off, len);
            break;
        case 1:
            r = app_call(c, fs, data + off, len);
            break;
        case 2:
            fs->refuse = len > 0 && (data[off] & 1);
            break;
        default:
            fs->n_answers = len < sizeof(fs->answers) ? len : sizeof(fs->answers);
            memcpy(fs->answers, data + off, fs->n_answers);
            fs->next_answer = 0;
            break;
        }
        check(c, type % 4 == 0, r);
        off += len;
    }
    amk_conn_free(c);
    free(fs);
    return 0;
}
