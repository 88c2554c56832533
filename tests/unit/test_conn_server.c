/*
 * The connection engine in the server role (src/channel/server_req.c,
 * global_req.c): a client-role engine and a server-role engine in memory
 * (conn_pair.h). Each session request is parsed and answered, replies
 * come in order even when answered later, exit-status / exit-signal reach
 * the client API, no-more-sessions@openssh.com is honoured, global
 * requests go to the callback, and malformed requests fail the engine
 * with a detail.
 */
#include "conn_pair.h"
#include "conn_test_util.h"

#define REQ_MAX 32
#define DECIDED 0x100           /* marks a set decision (AMK_REQ_PENDING is 0) */

/* What the server's request_cb saw, copied. */
struct seen_req {
    uint32_t id;
    enum amk_chreq_kind kind;
    char type[64];
    int want_reply;
    uint32_t ticket;
    char s1[256], s2[256];      /* term / env name / subsystem / signal / x11 proto */
    uint8_t bin[256];           /* exec command or pty modes */
    size_t bin_len;
    uint32_t u[4];
    int flag;
};

struct recorder {
    struct seen_req req[REQ_MAX];
    size_t n;
    int decisions[REQ_MAX];     /* answer for request i: DECIDED | result; 0: SUCCESS */
    /* global requests */
    char gname[64];
    char gaddr[64];
    uint32_t gport;
    int gdecision;
    uint32_t gbound;
    size_t gn;
};

static void
copy_str(char *dst, size_t cap, const char *s)
{
    if (s == NULL) {
        dst[0] = '\0';
        return;
    }
    snprintf(dst, cap, "%s", s);
}

static int
record_cb(void *user, const struct amk_conn_chreq *req)
{
    struct recorder *rc = user;
    struct seen_req *s;
    int d;

    assert_true(rc->n < REQ_MAX);
    s = &rc->req[rc->n];
    memset(s, 0, sizeof(*s));
    s->id = req->id;
    s->kind = req->kind;
    copy_str(s->type, sizeof(s->type), req->type);
    s->want_reply = req->want_reply;
    s->ticket = req->ticket;
    switch (req->kind) {
    case AMK_CHREQ_PTY:
        copy_str(s->s1, sizeof(s->s1), req->pty.term);
        s->u[0] = req->pty.cols;
        s->u[1] = req->pty.rows;
        s->u[2] = req->pty.width_px;
        s->u[3] = req->pty.height_px;
        assert_true(req->pty.modes_len <= sizeof(s->bin));
        memcpy(s->bin, req->pty.modes, req->pty.modes_len);
        s->bin_len = req->pty.modes_len;
        break;
    case AMK_CHREQ_ENV:
        copy_str(s->s1, sizeof(s->s1), req->env.name);
        copy_str(s->s2, sizeof(s->s2), req->env.value);
        break;
    case AMK_CHREQ_EXEC:
        assert_true(req->exec.command_len < sizeof(s->bin));
        memcpy(s->bin, req->exec.command, req->exec.command_len);
        s->bin_len = req->exec.command_len;
        assert_int_equal(req->exec.command[req->exec.command_len], '\0');
        break;
    case AMK_CHREQ_SUBSYSTEM:
        copy_str(s->s1, sizeof(s->s1), req->subsystem);
        break;
    case AMK_CHREQ_WINDOW_CHANGE:
        s->u[0] = req->winch.cols;
        s->u[1] = req->winch.rows;
        s->u[2] = req->winch.width_px;
        s->u[3] = req->winch.height_px;
        break;
    case AMK_CHREQ_SIGNAL:
        copy_str(s->s1, sizeof(s->s1), req->signal);
        break;
    case AMK_CHREQ_BREAK:
        s->u[0] = req->break_ms;
        break;
    case AMK_CHREQ_X11:
        s->flag = req->x11.single_connection;
        copy_str(s->s1, sizeof(s->s1), req->x11.auth_protocol);
        copy_str(s->s2, sizeof(s->s2), req->x11.auth_cookie);
        s->u[0] = req->x11.screen;
        break;
    default:
        break;
    }
    d = rc->decisions[rc->n];
    rc->n++;
    return d == 0 ? AMK_REQ_SUCCESS : d & ~DECIDED;
}

static int
global_record_cb(void *user, const struct amk_conn_global_req *req, uint32_t *bound)
{
    struct recorder *rc = user;

    rc->gn++;
    copy_str(rc->gname, sizeof(rc->gname), req->name);
    copy_str(rc->gaddr, sizeof(rc->gaddr), req->bind_address);
    rc->gport = req->bind_port;
    if (rc->gdecision == AMK_REQ_SUCCESS)
        *bound = rc->gbound;
    return rc->gdecision;
}

static struct conn_pair *
pair_new(struct recorder *rc)
{
    struct cp_server_cbs cbs = { record_cb, global_record_cb, rc, 0 };

    memset(rc, 0, sizeof(*rc));
    return cp_new(&cbs, 0);
}

static enum amk_req_result
result_of(struct conn_pair *p, uint32_t cid, uint32_t ticket)
{
    enum amk_req_result res;

    ASSERT_OK(amk_conn_channel_request_result(p->cli, cid, ticket, &res));
    return res;
}

static void
test_conn_server_pty_req_parsed(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    const struct amk_pty_mode modes[] = {
        { AMK_TTY_ECHO, 0 }, { AMK_TTY_VINTR, 3 }, { AMK_TTY_OP_OSPEED, 38400 },
    };
    struct amk_pty_req pty = { .term = "xterm-256color", .cols = 132, .rows = 43,
        .width_px = 800, .height_px = 600, .modes = modes, .n_modes = 3 };
    struct amk_pty_mode m;
    uint32_t cid, sid, ticket;
    size_t off = 0;

    cp_open_session(p, &cid, &sid);
    ASSERT_OK(amk_conn_channel_pty(p->cli, cid, &pty, 1, &ticket));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(rc.n, 1);
    assert_int_equal(rc.req[0].id, sid);
    assert_int_equal(rc.req[0].kind, AMK_CHREQ_PTY);
    assert_string_equal(rc.req[0].type, "pty-req");
    assert_true(rc.req[0].want_reply);
    assert_string_equal(rc.req[0].s1, "xterm-256color");
    assert_int_equal(rc.req[0].u[0], 132);
    assert_int_equal(rc.req[0].u[1], 43);
    assert_int_equal(rc.req[0].u[2], 800);
    assert_int_equal(rc.req[0].u[3], 600);
    /* the modes decode back to what was sent, then the end */
    for (size_t i = 0; i < 3; i++) {
        ASSERT_OK(amk_conn_pty_modes_next(rc.req[0].bin, rc.req[0].bin_len, &off, &m));
        assert_int_equal(m.opcode, modes[i].opcode);
        assert_int_equal(m.value, modes[i].value);
    }
    ASSERT_AMK(AMK_ECLOSED, amk_conn_pty_modes_next(rc.req[0].bin, rc.req[0].bin_len, &off, &m));
    assert_int_equal(result_of(p, cid, ticket), AMK_REQ_SUCCESS);
    cp_free(p);
}

static void
test_conn_server_each_request_parsed(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t cid, sid, t_env, t_exec, t_sub, t_brk;

    cp_open_session(p, &cid, &sid);
    rc.decisions[0] = DECIDED | AMK_REQ_SUCCESS;
    rc.decisions[1] = DECIDED | AMK_REQ_SUCCESS;
    rc.decisions[2] = DECIDED | AMK_REQ_FAILURE;
    rc.decisions[5] = DECIDED | AMK_REQ_FAILURE;
    ASSERT_OK(amk_conn_channel_env(p->cli, cid, "LANG", "C.UTF-8", 1, &t_env));
    ASSERT_OK(amk_conn_channel_exec(p->cli, cid, "echo hi; exit 3", 1, &t_exec));
    ASSERT_OK(amk_conn_channel_subsystem(p->cli, cid, "sftp", 1, &t_sub));
    ASSERT_OK(amk_conn_channel_window_change(p->cli, cid, 100, 30, 1, 2));
    ASSERT_OK(amk_conn_channel_signal(p->cli, cid, "INT"));
    ASSERT_OK(amk_conn_channel_break(p->cli, cid, 250, 1, &t_brk));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(rc.n, 6);
    assert_int_equal(rc.req[0].kind, AMK_CHREQ_ENV);
    assert_string_equal(rc.req[0].s1, "LANG");
    assert_string_equal(rc.req[0].s2, "C.UTF-8");
    assert_int_equal(rc.req[1].kind, AMK_CHREQ_EXEC);
    assert_int_equal(rc.req[1].bin_len, strlen("echo hi; exit 3"));
    assert_memory_equal(rc.req[1].bin, "echo hi; exit 3", rc.req[1].bin_len);
    assert_int_equal(rc.req[2].kind, AMK_CHREQ_SUBSYSTEM);
    assert_string_equal(rc.req[2].s1, "sftp");
    assert_int_equal(rc.req[3].kind, AMK_CHREQ_WINDOW_CHANGE);
    assert_false(rc.req[3].want_reply);
    assert_int_equal(rc.req[3].u[0], 100);
    assert_int_equal(rc.req[3].u[1], 30);
    assert_int_equal(rc.req[3].u[2], 1);
    assert_int_equal(rc.req[3].u[3], 2);
    assert_int_equal(rc.req[4].kind, AMK_CHREQ_SIGNAL);
    assert_string_equal(rc.req[4].s1, "INT");
    assert_int_equal(rc.req[5].kind, AMK_CHREQ_BREAK);
    assert_int_equal(rc.req[5].u[0], 250);
    /* tickets count only want-reply requests */
    assert_int_equal(rc.req[0].ticket, 0);
    assert_int_equal(rc.req[1].ticket, 1);
    assert_int_equal(rc.req[2].ticket, 2);
    assert_int_equal(rc.req[5].ticket, 3);
    assert_int_equal(result_of(p, cid, t_env), AMK_REQ_SUCCESS);
    assert_int_equal(result_of(p, cid, t_exec), AMK_REQ_SUCCESS);
    assert_int_equal(result_of(p, cid, t_sub), AMK_REQ_FAILURE);
    assert_int_equal(result_of(p, cid, t_brk), AMK_REQ_FAILURE);
    cp_free(p);
}

static void
test_conn_server_exec_binary_x11_agent_shell(void **state)
{
    struct recorder rc;
    struct tconn *t;
    struct amk_conn_config cfg;
    static const uint8_t cmd[] = { 'a', 0, 'b', 0xff };
    struct amk_buf v;

    memset(&rc, 0, sizeof(rc));
    memset(&cfg, 0, sizeof(cfg));
    cfg.request_cb = record_cb;
    cfg.user = &rc;
    t = tconn_new_cfg(&cfg);
    {
        /* any open channel takes requests: open it from our side and
         * confirm as the peer */
        uint32_t id = open_confirmed(t, 7, 100000, 32768);
        size_t n;
        ASSERT_OK(feed(t, "busBS", AMK_MSG_CHANNEL_REQUEST, id, "exec", 1, cmd, sizeof(cmd)));
        assert_int_equal(rc.n, 1);
        assert_int_equal(rc.req[0].bin_len, 4);
        assert_memory_equal(rc.req[0].bin, cmd, 4);
        sent_type(t, -1, AMK_MSG_CHANNEL_SUCCESS, &v);
        assert_int_equal(get_u32(&v), 7);
        ASSERT_OK(feed(t, "busBBssu", AMK_MSG_CHANNEL_REQUEST, id, "x11-req", 1, 1,
            "MIT-MAGIC-COOKIE-1", "0123abcd", 2));
        assert_int_equal(rc.req[1].kind, AMK_CHREQ_X11);
        assert_int_equal(rc.req[1].flag, 1);
        assert_string_equal(rc.req[1].s1, "MIT-MAGIC-COOKIE-1");
        assert_string_equal(rc.req[1].s2, "0123abcd");
        assert_int_equal(rc.req[1].u[0], 2);
        ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "auth-agent-req@openssh.com", 0));
        assert_int_equal(rc.req[2].kind, AMK_CHREQ_AUTH_AGENT);
        ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1));
        assert_int_equal(rc.req[3].kind, AMK_CHREQ_SHELL);
        assert_int_equal(rc.n, 4);
        /* unknown requests never reach the callback: FAILURE when asked */
        ASSERT_OK(feed(t, "busBu", AMK_MSG_CHANNEL_REQUEST, id, "frobnicate@example.com", 1, 5));
        assert_int_equal(rc.n, 4);
        sent_type(t, -1, AMK_MSG_CHANNEL_FAILURE, &v);
        assert_int_equal(get_u32(&v), 7);
        n = t->sink.n;
        ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "eow@openssh.com", 0));
        assert_int_equal(t->sink.n, n);     /* no reply wanted, none sent */
    }
    tconn_free(t);
}

static void
test_conn_server_replies_in_order_when_deferred(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t cid, sid, t0, t1, t2;

    cp_open_session(p, &cid, &sid);
    rc.decisions[0] = DECIDED | AMK_REQ_PENDING;
    rc.decisions[1] = DECIDED | AMK_REQ_SUCCESS;
    rc.decisions[2] = DECIDED | AMK_REQ_PENDING;
    ASSERT_OK(amk_conn_channel_subsystem(p->cli, cid, "sftp", 1, &t0));
    ASSERT_OK(amk_conn_channel_env(p->cli, cid, "LANG", "C", 1, &t1));
    ASSERT_OK(amk_conn_channel_exec(p->cli, cid, "true", 1, &t2));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(amk_conn_channel_replies_pending(p->srv, sid), 3);
    /* RFC 4254 §5.4: the decided second answer waits for the first */
    assert_int_equal(result_of(p, cid, t0), AMK_REQ_PENDING);
    assert_int_equal(result_of(p, cid, t1), AMK_REQ_PENDING);
    /* answering the third first sends nothing either */
    ASSERT_OK(amk_conn_channel_reply(p->srv, sid, rc.req[2].ticket, 0));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(result_of(p, cid, t0), AMK_REQ_PENDING);
    /* answering the first releases all three, in order */
    ASSERT_OK(amk_conn_channel_reply(p->srv, sid, rc.req[0].ticket, 1));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(result_of(p, cid, t0), AMK_REQ_SUCCESS);
    assert_int_equal(result_of(p, cid, t1), AMK_REQ_SUCCESS);
    assert_int_equal(result_of(p, cid, t2), AMK_REQ_FAILURE);
    assert_int_equal(amk_conn_channel_replies_pending(p->srv, sid), 0);
    /* a ticket answered already, or never issued */
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_reply(p->srv, sid, rc.req[0].ticket, 1));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_reply(p->srv, sid, 3, 1));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_reply(p->srv, sid + 1, 0, 1));
    ASSERT_OK(amk_conn_error(p->srv));
    cp_free(p);
}

static void
test_conn_server_double_answer_refused(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t cid, sid;

    cp_open_session(p, &cid, &sid);
    rc.decisions[0] = DECIDED | AMK_REQ_PENDING;
    rc.decisions[1] = DECIDED | AMK_REQ_PENDING;
    ASSERT_OK(amk_conn_channel_shell(p->cli, cid, 1, NULL));
    ASSERT_OK(amk_conn_channel_shell(p->cli, cid, 1, NULL));
    ASSERT_OK(cp_pump(p));
    ASSERT_OK(amk_conn_channel_reply(p->srv, sid, 1, 1));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_reply(p->srv, sid, 1, 0));
    ASSERT_OK(amk_conn_channel_reply(p->srv, sid, 0, 0));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(result_of(p, cid, 0), AMK_REQ_FAILURE);
    assert_int_equal(result_of(p, cid, 1), AMK_REQ_SUCCESS);
    cp_free(p);
}

static void
test_conn_server_too_many_pending_fails(void **state)
{
    struct recorder rc;
    struct tconn *t;
    struct amk_conn_config cfg;
    uint32_t id;

    memset(&rc, 0, sizeof(rc));
    for (size_t i = 0; i < REQ_MAX; i++)
        rc.decisions[i] = DECIDED | AMK_REQ_PENDING;
    memset(&cfg, 0, sizeof(cfg));
    cfg.request_cb = record_cb;
    cfg.user = &rc;
    t = tconn_new_cfg(&cfg);
    id = open_confirmed(t, 7, 100000, 32768);
    for (size_t i = 0; i < AMK_CONN_REQUESTS_MAX; i++) {
        rc.n = 0;   /* reuse the recorder's slots */
        ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1));
    }
    rc.n = 0;
    ASSERT_AMK(AMK_ELIMIT, feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1));
    assert_non_null(strstr(amk_conn_last_error(t->c), "await replies"));
    tconn_free(t);
}

static void
test_conn_server_exit_status_eof_close(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t cid, sid, status = 0;
    unsigned ev;

    cp_open_session(p, &cid, &sid);
    ASSERT_AMK(AMK_EAGAIN, amk_conn_channel_exit_status(p->cli, cid, &status));
    ASSERT_OK(amk_conn_channel_send_exit_status(p->srv, sid, 3));
    ASSERT_OK(amk_conn_channel_send_eof(p->srv, sid));
    /* exit-status is still allowed after our EOF */
    ASSERT_OK(amk_conn_channel_send_exit_status(p->srv, sid, 3));
    ASSERT_OK(amk_conn_channel_close(p->srv, sid));
    ASSERT_OK(cp_pump(p));
    ASSERT_OK(amk_conn_channel_exit_status(p->cli, cid, &status));
    assert_int_equal(status, 3);
    ev = amk_conn_channel_poll(p->cli, cid);
    assert_true(ev & AMK_CHAN_EV_EXIT);
    assert_true(ev & AMK_CHAN_EV_EOF);
    assert_true(ev & AMK_CHAN_EV_CLOSED);
    /* after CLOSE nothing more can be sent */
    ASSERT_AMK(AMK_ESTATE, amk_conn_channel_send_exit_status(p->srv, sid, 1));
    cp_free(p);
}

static void
test_conn_server_exit_signal(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t cid, sid;
    const char *sig, *msg;
    int core = 0;

    cp_open_session(p, &cid, &sid);
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_send_exit_signal(p->srv, sid, "SIGTERM", 0, NULL,
        NULL));
    ASSERT_AMK(AMK_EINVAL, amk_conn_channel_send_exit_signal(p->srv, sid, "", 0, NULL, NULL));
    ASSERT_OK(amk_conn_channel_send_exit_signal(p->srv, sid, "TERM", 1, "terminated", "en"));
    ASSERT_OK(cp_pump(p));
    ASSERT_OK(amk_conn_channel_exit_signal(p->cli, cid, &sig, &core, &msg));
    assert_string_equal(sig, "TERM");
    assert_int_equal(core, 1);
    assert_string_equal(msg, "terminated");
    cp_free(p);
}

static void
test_conn_server_no_more_sessions(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t cid, sid, c2, reason = 0;
    enum amk_chan_state st;

    cp_open_session(p, &cid, &sid);
    assert_int_equal(amk_conn_no_more_sessions(p->srv), 0);
    ASSERT_OK(amk_conn_global_request(p->cli, "no-more-sessions@openssh.com", NULL, 0, 0, NULL));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(amk_conn_no_more_sessions(p->srv), 1);
    assert_int_equal(rc.gn, 0);     /* handled by the engine */
    ASSERT_OK(amk_conn_open_session(p->cli, &c2));
    ASSERT_OK(cp_pump(p));
    ASSERT_OK(amk_conn_channel_state(p->cli, c2, &st));
    assert_int_equal(st, AMK_CHAN_OPEN_FAILED);
    ASSERT_OK(amk_conn_channel_open_error(p->cli, c2, &reason, NULL));
    assert_int_equal(reason, AMK_OPEN_ADMINISTRATIVELY_PROHIBITED);
    /* the existing session is untouched */
    ASSERT_OK(amk_conn_channel_exec(p->cli, cid, "true", 0, NULL));
    ASSERT_OK(cp_pump(p));
    assert_int_equal(rc.n, 1);
    cp_free(p);
}

static void
test_conn_server_keepalive_answered_failure(void **state)
{
    struct recorder rc;
    struct conn_pair *p = pair_new(&rc);
    uint32_t ticket;
    enum amk_req_result res;

    rc.gdecision = AMK_REQ_SUCCESS;
    ASSERT_OK(amk_conn_keepalive(p->cli, &ticket));
    ASSERT_OK(cp_pump(p));
    ASSERT_OK(amk_conn_global_result(p->cli, ticket, &res));
    /* as OpenSSH's server: REQUEST_FAILURE, which proves it alive */
    assert_int_equal(res, AMK_REQ_FAILURE);
    assert_int_equal(rc.gn, 0);
    cp_free(p);
}

static void
test_conn_server_global_tcpip_forward(void **state)
{
    struct recorder rc;
    struct tconn *t;
    struct amk_conn_config cfg;
    struct amk_buf v;

    memset(&rc, 0, sizeof(rc));
    memset(&cfg, 0, sizeof(cfg));
    cfg.global_cb = global_record_cb;
    cfg.user = &rc;
    t = tconn_new_cfg(&cfg);
    rc.gdecision = AMK_REQ_FAILURE;
    ASSERT_OK(feed(t, "bsBsu", AMK_MSG_GLOBAL_REQUEST, "tcpip-forward", 1, "127.0.0.1", 8080));
    assert_string_equal(rc.gname, "tcpip-forward");
    assert_string_equal(rc.gaddr, "127.0.0.1");
    assert_int_equal(rc.gport, 8080);
    sent_type(t, -1, AMK_MSG_REQUEST_FAILURE, &v);
    /* RFC 4254 §7.1: port 0 accepted: the reply carries the port bound */
    rc.gdecision = AMK_REQ_SUCCESS;
    rc.gbound = 40000;
    ASSERT_OK(feed(t, "bsBsu", AMK_MSG_GLOBAL_REQUEST, "tcpip-forward", 1, "", 0));
    sent_type(t, -1, AMK_MSG_REQUEST_SUCCESS, &v);
    assert_int_equal(get_u32(&v), 40000);
    ASSERT_OK(amk_buf_get_end(&v));
    ASSERT_OK(feed(t, "bsBsu", AMK_MSG_GLOBAL_REQUEST, "cancel-tcpip-forward", 1, "", 40000));
    sent_type(t, -1, AMK_MSG_REQUEST_SUCCESS, &v);
    ASSERT_OK(amk_buf_get_end(&v));
    assert_int_equal(rc.gn, 3);
    /* other requests reach the callback unparsed */
    ASSERT_OK(feed(t, "bsBu", AMK_MSG_GLOBAL_REQUEST, "x@example.com", 0, 9));
    assert_string_equal(rc.gname, "x@example.com");
    /* a malformed forward is a protocol error */
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "bsBs", AMK_MSG_GLOBAL_REQUEST, "tcpip-forward", 1, "h"));
    assert_non_null(strstr(amk_conn_last_error(t->c), "tcpip-forward"));
    tconn_free(t);
}

/* A server-role engine with one channel (peer 7) and the recorder. */
static struct tconn *
srv_tconn(struct recorder *rc, uint32_t *id)
{
    struct amk_conn_config cfg;
    struct tconn *t;

    memset(rc, 0, sizeof(*rc));
    memset(&cfg, 0, sizeof(cfg));
    cfg.request_cb = record_cb;
    cfg.user = rc;
    t = tconn_new_cfg(&cfg);
    *id = open_confirmed(t, 7, 100000, 32768);
    return t;
}

static void
test_conn_server_malformed_requests_fail(void **state)
{
    static const uint8_t bad_modes[] = { AMK_TTY_ECHO, 0, 0 };          /* cut short */
    static const uint8_t ok_modes[] = { AMK_TTY_ECHO, 0, 0, 0, 1, 200, 1 }; /* 200 stops */
    static const uint8_t nul_name[] = { 'L', 0, 'X' };
    struct recorder rc;
    struct tconn *t;
    uint32_t id;

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busBsuu", AMK_MSG_CHANNEL_REQUEST, id, "pty-req", 1,
        "xterm", 80, 24));
    assert_non_null(strstr(amk_conn_last_error(t->c), "malformed pty-req"));
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busBsuuuuS", AMK_MSG_CHANNEL_REQUEST, id, "pty-req", 1,
        "xterm", 80, 24, 0, 0, bad_modes, sizeof(bad_modes)));
    assert_non_null(strstr(amk_conn_last_error(t->c), "terminal modes"));
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_OK(feed(t, "busBsuuuuS", AMK_MSG_CHANNEL_REQUEST, id, "pty-req", 1, "xterm", 80, 24,
        0, 0, ok_modes, sizeof(ok_modes)));
    assert_int_equal(rc.n, 1);
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "busBsu", AMK_MSG_CHANNEL_REQUEST, id, "subsystem", 1,
        "sftp", 1));
    assert_non_null(strstr(amk_conn_last_error(t->c), "malformed subsystem"));
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "busBSs", AMK_MSG_CHANNEL_REQUEST, id, "env", 1, nul_name,
        sizeof(nul_name), "v"));
    assert_int_equal(rc.n, 0);
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "busBs", AMK_MSG_CHANNEL_REQUEST, id, "signal", 0, ""));
    assert_non_null(strstr(amk_conn_last_error(t->c), "signal"));
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busBuuu", AMK_MSG_CHANNEL_REQUEST, id, "window-change",
        0, 1, 2, 3));
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_EFORMAT, feed(t, "busBb", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1, 0));
    tconn_free(t);

    t = srv_tconn(&rc, &id);
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "break", 1));
    /* a failed engine stays failed */
    ASSERT_AMK(AMK_ETRUNCATED, feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1));
    tconn_free(t);
}

static void
test_conn_server_request_after_our_close_ignored(void **state)
{
    struct recorder rc;
    struct tconn *t;
    uint32_t id;
    size_t n;

    t = srv_tconn(&rc, &id);
    ASSERT_OK(amk_conn_channel_close(t->c, id));
    n = t->sink.n;
    ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1));
    assert_int_equal(rc.n, 0);
    assert_int_equal(t->sink.n, n);
    tconn_free(t);
}

static void
test_conn_server_pending_reply_dropped_after_close(void **state)
{
    struct recorder rc;
    struct tconn *t;
    uint32_t id;
    size_t n;

    t = srv_tconn(&rc, &id);
    rc.decisions[0] = DECIDED | AMK_REQ_PENDING;
    ASSERT_OK(feed(t, "busB", AMK_MSG_CHANNEL_REQUEST, id, "shell", 1));
    ASSERT_OK(feed(t, "bu", AMK_MSG_CHANNEL_CLOSE, id));
    n = t->sink.n;
    /* nothing follows our CLOSE (RFC 4254 §5.3) */
    ASSERT_OK(amk_conn_channel_reply(t->c, id, 0, 1));
    assert_int_equal(t->sink.n, n);
    tconn_free(t);
}

static void
test_conn_server_modes_next_edges(void **state)
{
    static const uint8_t modes[] = { AMK_TTY_OP_ISPEED, 0, 0, 0x96, 0, AMK_TTY_OP_END, 53 };
    struct amk_pty_mode m;
    size_t off = 0;

    ASSERT_OK(amk_conn_pty_modes_next(modes, sizeof(modes), &off, &m));
    assert_int_equal(m.opcode, AMK_TTY_OP_ISPEED);
    assert_int_equal(m.value, 38400);
    ASSERT_AMK(AMK_ECLOSED, amk_conn_pty_modes_next(modes, sizeof(modes), &off, &m));
    off = 0;
    ASSERT_AMK(AMK_ECLOSED, amk_conn_pty_modes_next(modes, 0, &off, &m));
    off = 6;
    ASSERT_AMK(AMK_ETRUNCATED, amk_conn_pty_modes_next(modes, sizeof(modes), &off, &m));
    off = 8;
    ASSERT_AMK(AMK_EINVAL, amk_conn_pty_modes_next(modes, sizeof(modes), &off, &m));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_server_pty_req_parsed),
        cmocka_unit_test(test_conn_server_each_request_parsed),
        cmocka_unit_test(test_conn_server_exec_binary_x11_agent_shell),
        cmocka_unit_test(test_conn_server_replies_in_order_when_deferred),
        cmocka_unit_test(test_conn_server_double_answer_refused),
        cmocka_unit_test(test_conn_server_too_many_pending_fails),
        cmocka_unit_test(test_conn_server_exit_status_eof_close),
        cmocka_unit_test(test_conn_server_exit_signal),
        cmocka_unit_test(test_conn_server_no_more_sessions),
        cmocka_unit_test(test_conn_server_keepalive_answered_failure),
        cmocka_unit_test(test_conn_server_global_tcpip_forward),
        cmocka_unit_test(test_conn_server_malformed_requests_fail),
        cmocka_unit_test(test_conn_server_request_after_our_close_ignored),
        cmocka_unit_test(test_conn_server_pending_reply_dropped_after_close),
        cmocka_unit_test(test_conn_server_modes_next_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
