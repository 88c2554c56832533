/* SFTP over a session channel's "sftp" subsystem; see sftp_channel.h. */
#include "client/sftp_channel.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <amiko/client.h>

#include "channel/conn.h"
#include "io/session.h"
#include "client/client_int.h"
#include "client/sftp_int.h"
#include "transport/transport.h"

struct chan_ctx {
    struct amk_session *s;
    struct amk_conn *conn;
    uint32_t id;
};

/* Sends what is queued, then waits for one packet and hands it to the
 * connection engine. */
static int
pump_one(struct chan_ctx *c)
{
    const uint8_t *p;
    size_t len;
    int r;

    r = amk_conn_flush(c->conn);
    if (r != AMK_OK && r != AMK_EAGAIN)
        return r;
    if ((r = amk_session_flush(c->s)) != AMK_OK)
        return r == AMK_EAGAIN ? AMK_ESTATE : r;
    if ((r = amk_session_recv_packet(c->s, &p, &len)) != AMK_OK)
        return r == AMK_EAGAIN ? AMK_ESTATE : r;
    if (len == 0 || p[0] < AMK_MSG_CONN_FIRST || p[0] > AMK_MSG_CONN_LAST)
        return AMK_EPROTO;
    r = amk_conn_handle(c->conn, p, len);
    return r == AMK_ENOTSUP ? AMK_OK : r;
}

static int
chan_write(void *ctx, const uint8_t *p, size_t len, size_t *done)
{
    struct chan_ctx *c = ctx;
    int r;

    *done = 0;
    for (;;) {
        r = amk_conn_channel_write(c->conn, c->id, p, len, done);
        if (r == AMK_OK) {
            r = amk_session_flush(c->s);
            return r == AMK_EAGAIN ? AMK_ESTATE : r;
        }
        if (r != AMK_EAGAIN)
            return r;
        /* the peer's window is used up: wait for its WINDOW_ADJUST */
        if ((r = pump_one(c)) != AMK_OK)
            return r;
    }
}

static int
chan_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    struct chan_ctx *c = ctx;
    int r;

    *got = 0;
    for (;;) {
        r = amk_conn_channel_read(c->conn, c->id, AMK_CHAN_STDOUT, buf, cap, got);
        if (r != AMK_EAGAIN)
            return r;
        if ((r = pump_one(c)) != AMK_OK)
            return r;
    }
}

static void
chan_close(void *ctx)
{
    struct chan_ctx *c = ctx;
    int r;

    if (c == NULL)
        return;
    /* the number is given back; CLOSE goes out with the connection's next
     * flush. Nothing to report to: the amk_sftp is being freed. */
    r = amk_conn_channel_release(c->conn, c->id);
    (void)r;
    free(c);
}

int
amk_sftp_open_channel(struct amk_sftp **out, struct amk_session *s, struct amk_conn *conn)
{
    struct amk_sftp_stream st;
    struct chan_ctx *c = NULL;
    enum amk_chan_state state;
    enum amk_req_result res = AMK_REQ_PENDING;
    uint32_t ticket;
    int r = AMK_EINTERNAL, have_chan = 0;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (s == NULL || conn == NULL)
        return AMK_EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMK_ENOMEM;
    c->s = s;
    c->conn = conn;
    if ((r = amk_conn_open_session(conn, &c->id)) != AMK_OK)
        goto out;
    have_chan = 1;
    for (;;) {
        if ((r = amk_conn_channel_state(conn, c->id, &state)) != AMK_OK)
            goto out;
        if (state != AMK_CHAN_OPENING)
            break;
        if ((r = pump_one(c)) != AMK_OK)
            goto out;
    }
    if (state != AMK_CHAN_OPEN) {
        r = AMK_ENOTSUP;
        goto out;
    }
    /* RFC 4254 §6.5: subsystem "sftp", with a reply so a refusal is seen */
    if ((r = amk_conn_channel_subsystem(conn, c->id, "sftp", 1, &ticket)) != AMK_OK)
        goto out;
    while (res == AMK_REQ_PENDING) {
        if ((r = pump_one(c)) != AMK_OK ||
            (r = amk_conn_channel_request_result(conn, c->id, ticket, &res)) != AMK_OK)
            goto out;
    }
    if (res != AMK_REQ_SUCCESS) {
        r = AMK_ENOTSUP;
        goto out;
    }
    memset(&st, 0, sizeof(st));
    st.write = chan_write;
    st.read = chan_read;
    st.close = chan_close;
    st.ctx = c;
    c = NULL;
    have_chan = 0;
    r = amk_sftp_new_stream(out, &st);
out:
    if (have_chan && amk_conn_channel_release(conn, c->id) != AMK_OK && r == AMK_OK)
        r = AMK_EINTERNAL;
    free(c);
    return r;
}

/* --- Over a channel of the public client ------------------------------ */

/* In either of the client's modes: AMK_EAGAIN passes through, and the
 * client says which direction it waits for. */
struct client_ctx {
    struct amk_client *c;
    struct amk_client_channel *ch;
};

/* Never waits for the window, in either mode: what fits now, else
 * AMK_EAGAIN (the SFTP layer then reads or waits; see sftp_int.h). */
static int
client_write(void *ctx, const uint8_t *p, size_t len, size_t *done)
{
    struct client_ctx *cc = ctx;
    int blocking = cc->c->blocking, r;

    *done = 0;
    if (blocking && (r = amk_client_channel_ready(cc->ch)) != AMK_OK)
        return r;           /* the channel's set-up may be waited for */
    cc->c->blocking = 0;
    r = amk_client_channel_write(cc->ch, p, len, done);
    cc->c->blocking = blocking;
    return r;
}

static int
client_read_try(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    struct client_ctx *cc = ctx;
    int blocking = cc->c->blocking, r;

    cc->c->blocking = 0;
    r = amk_client_channel_read(cc->ch, buf, cap, got);
    cc->c->blocking = blocking;
    return r;
}

/* Waits (up to the client's timeout) until the connection has something
 * new, and takes it in. */
static int
client_wait_any(void *ctx)
{
    struct client_ctx *cc = ctx;
    struct pollfd pfd;
    int dirs = amk_client_block_directions(cc->c), n;

    pfd.fd = amk_client_get_fd(cc->c);
    pfd.events = (short)(POLLIN | ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0));
    pfd.revents = 0;
    do {
        n = poll(&pfd, 1, cc->c->timeout_ms < 0 ? -1 : cc->c->timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return AMK_EIO;
    if (n == 0)     /* the same detail as a blocking read's timeout (client_wait()) */
        return amk_error_set(&cc->c->err, AMK_ETIMEOUT, "timed out after %d ms",
            cc->c->timeout_ms);
    /* a step: the SFTP layer reads the channel before the socket again */
    return client_process_step(cc->c);
}

static int
client_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    struct client_ctx *cc = ctx;

    return amk_client_channel_read(cc->ch, buf, cap, got);
}

static int
client_dirs(void *ctx)
{
    struct client_ctx *cc = ctx;

    return amk_client_block_directions(cc->c);
}

static int
client_blocking(void *ctx)
{
    struct client_ctx *cc = ctx;

    return cc->c->blocking;
}

static void
client_close(void *ctx)
{
    struct client_ctx *cc = ctx;

    amk_client_channel_free(cc->ch);
    free(cc);
}

int
amk_sftp_new_client(struct amk_sftp **out, struct amk_client *client)
{
    struct client_ctx *cc = NULL;
    struct amk_sftp_stream st;
    int r;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (client == NULL)
        return AMK_EINVAL;
    if ((cc = calloc(1, sizeof(*cc))) == NULL)
        return AMK_ENOMEM;
    cc->c = client;
    /* non-blocking: both only queue; start-up goes on in later calls */
    if ((r = amk_client_channel_open(client, 0, &cc->ch)) != AMK_OK ||
        (r = amk_client_channel_subsystem(cc->ch, "sftp")) != AMK_OK) {
        amk_client_channel_free(cc->ch);
        free(cc);
        return r == AMK_EAGAIN ? AMK_ESTATE : r;
    }
    memset(&st, 0, sizeof(st));
    st.write = client_write;
    st.read = client_read;
    st.close = client_close;
    st.dirs = client_dirs;
    st.blocking = client_blocking;
    st.read_try = client_read_try;
    st.wait = client_wait_any;
    st.ctx = cc;
    if ((r = amk_sftp_new_stream(out, &st)) != AMK_OK)
        return r;
    /* Paramiko's SFTP server reads SYMLINK target first, as OpenSSH's does,
     * but offers no "@openssh.com" extension that would tell a client so
     * (Paramiko 2.12, sftp_server.py): its banner is all there is to go
     * by, as libssh and AsyncSSH also go by the peer's banner here. */
    (*out)->peer_target_first = amk_version_software_is(
        amk_session_peer_version(amk_client_session(client)), "paramiko");
    return AMK_OK;
}
