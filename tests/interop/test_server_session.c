/*
 * The server's session channel handler (src/server/session_chan.c,
 * proc.c) with real processes: a client-role and a server-role
 * connection engine in memory (tests/unit/conn_pair.h), the handler
 * driven by a small poll loop like the server core's. exec with stdout,
 * stderr and exit status; stdin through `cat` (1 MiB both ways); a
 * signal giving exit-signal; a pty shell (TERM, a /dev/pts tty, exit
 * status); window-change seen by `stty size`; the env allow-list; a
 * forced command with SSH_ORIGINAL_COMMAND; no-pty; the peer closing
 * while the process runs; no leaked descriptors.
 *
 * Then OpenSSH's `ssh` against a minimal server loop written here (the
 * server core is another part of the project): the transport in server
 * role, "none" user authentication answered with success, the connection
 * engine and the session handler. exec with exit codes, stdout, stderr
 * and stdin; `ssh -tt` driving a shell on a pty; SendEnv through the
 * allow-list. Every wait is bounded.
 */
#include "conn_pair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interop_client.h"
#include "io/session.h"
#include "keys/key.h"
#include "server/session_chan.h"
#include "sshd_fixture.h"
#include "file_util.h"
#include "transport/transport.h"
#include "util/base64.h"

#define WAIT_MS 20000

struct sess {
    struct conn_pair *p;
    struct amk_srv_chan *sc;
    struct amk_srv_chan_policy pol;
    uint32_t cid, sid;
    struct amk_buf out, err;    /* what the client received */
    const uint8_t *in;          /* what the client sends to stdin */
    size_t in_len, in_off;
    int send_eof, eof_sent;
};

static int
sess_request_cb(void *user, const struct amk_conn_chreq *req)
{
    struct sess *s = user;

    if (s->sc == NULL)
        return AMK_REQ_FAILURE;
    return amk_srv_chan_on_request(s->sc, req);
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A session with an open channel and its handler under @p pol. */
static struct sess *
sess_new(const struct amk_srv_chan_policy *pol, uint32_t window)
{
    struct sess *s = calloc(1, sizeof(*s));
    struct cp_server_cbs cbs;

    assert_non_null(s);
    memset(&cbs, 0, sizeof(cbs));
    cbs.request_cb = sess_request_cb;
    cbs.user = s;
    s->p = cp_new(&cbs, window);
    amk_buf_init(&s->out);
    amk_buf_init(&s->err);
    cp_open_session(s->p, &s->cid, &s->sid);
    if (pol != NULL)
        s->pol = *pol;
    /* The machine's $SHELL may print from its rc files (bash reads
     * ~/.bashrc when its stdin is a socket, as under sshd): the tests
     * use /bin/sh unless they say otherwise. */
    if (s->pol.shell == NULL)
        s->pol.shell = "/bin/sh";
    ASSERT_OK(amk_srv_chan_new(s->p->srv, s->sid, &s->pol, &s->sc));
    return s;
}

static void
sess_free(struct sess *s)
{
    amk_srv_chan_free(s->sc);
    cp_free(s->p);
    amk_buf_release(&s->out);
    amk_buf_release(&s->err);
    free(s);
}

/* The client's side: send stdin within the window, read stdout/stderr. */
static void
client_io(struct sess *s)
{
    uint8_t buf[16384];
    size_t n;
    int r;

    while (s->in_off < s->in_len) {
        r = amk_conn_channel_write(s->p->cli, s->cid, s->in + s->in_off, s->in_len - s->in_off,
            &n);
        if (r == AMK_EAGAIN)
            break;
        if (r == AMK_ECLOSED || r == AMK_ESTATE) {
            /* the server ended the channel before taking it all */
            s->in_len = s->in_off;
            s->eof_sent = 1;
            break;
        }
        ASSERT_OK(r);
        s->in_off += n;
    }
    if (s->in_off == s->in_len && s->send_eof && !s->eof_sent) {
        ASSERT_OK(amk_conn_channel_send_eof(s->p->cli, s->cid));
        s->eof_sent = 1;
    }
    for (int st = 0; st < 2; st++) {
        struct amk_buf *b = st == 0 ? &s->out : &s->err;
        for (;;) {
            r = amk_conn_channel_read(s->p->cli, s->cid, (enum amk_chan_stream)st, buf,
                sizeof(buf), &n);
            if (r == AMK_EAGAIN || (r == AMK_OK && n == 0))
                break;
            ASSERT_OK(r);
            ASSERT_OK(amk_buf_put(b, buf, n));
        }
    }
}

/* One iteration of the loop a server core runs. */
static void
sess_step(struct sess *s, int timeout_ms)
{
    struct pollfd fds[AMK_SRV_CHAN_POLLFDS_MAX];
    size_t n = amk_srv_chan_pollfds(s->sc, fds, AMK_SRV_CHAN_POLLFDS_MAX);

    assert_true(n <= AMK_SRV_CHAN_POLLFDS_MAX);
    if (n > 0 || timeout_ms > 0)
        assert_true(poll(fds, n, n > 0 ? timeout_ms : 1) >= 0 || errno == EINTR);
    ASSERT_OK(amk_srv_chan_pump(s->sc, fds, n));
    ASSERT_OK(cp_pump(s->p));
    client_io(s);
    ASSERT_OK(cp_pump(s->p));
}

/* Runs until the handler is done and the client saw the CLOSE. */
static void
sess_run(struct sess *s)
{
    uint64_t end = now_ms() + WAIT_MS;

    while (!(amk_srv_chan_done(s->sc)
        && (amk_conn_channel_poll(s->p->cli, s->cid) & AMK_CHAN_EV_CLOSED))) {
        assert_true(now_ms() < end);
        sess_step(s, 50);
    }
    client_io(s);
}

/* Runs until @p want appears in stdout. */
static void
sess_run_until(struct sess *s, const char *want)
{
    uint64_t end = now_ms() + WAIT_MS;

    for (;;) {
        char *text = NULL;
        int found;
        ASSERT_OK(amk_buf_to_cstring(&s->out, &text, NULL));
        found = strstr(text, want) != NULL;
        free(text);
        if (found)
            return;
        assert_false(amk_srv_chan_done(s->sc));
        if (now_ms() >= end)
            fail_msg("\"%s\" not seen in %zu bytes of output", want, amk_buf_len(&s->out));
        sess_step(s, 50);
    }
}

/* Sends a request from the client and returns the server's answer. */
static enum amk_req_result
sess_result(struct sess *s, uint32_t ticket)
{
    enum amk_req_result res = AMK_REQ_PENDING;
    uint64_t end = now_ms() + WAIT_MS;

    while (res == AMK_REQ_PENDING) {
        assert_true(now_ms() < end);
        ASSERT_OK(cp_pump(s->p));
        ASSERT_OK(amk_conn_channel_request_result(s->p->cli, s->cid, ticket, &res));
    }
    return res;
}

static void
assert_out(struct sess *s, const struct amk_buf *b, const char *want)
{
    char *text = NULL;

    ASSERT_OK(amk_buf_to_cstring(b, &text, NULL));
    assert_string_equal(text, want);
    free(text);
}

static uint32_t
exit_status(struct sess *s)
{
    uint32_t st = 9999;

    ASSERT_OK(amk_conn_channel_exit_status(s->p->cli, s->cid, &st));
    return st;
}

static void
exec_ok(struct sess *s, const char *cmd)
{
    uint32_t t;

    ASSERT_OK(amk_conn_channel_exec(s->p->cli, s->cid, cmd, 1, &t));
    assert_int_equal(sess_result(s, t), AMK_REQ_SUCCESS);
}

static void
test_session_exec_stdout_stderr_status(void **state)
{
    struct sess *s = sess_new(NULL, 0);

    exec_ok(s, "echo hi; echo err >&2; exit 3");
    sess_run(s);
    assert_out(s, &s->out, "hi\n");
    assert_out(s, &s->err, "err\n");
    assert_int_equal(exit_status(s), 3);
    sess_free(s);
}

static void
test_session_stdin_cat_1mib(void **state)
{
    const size_t len = 1024 * 1024;
    uint8_t *data = malloc(len);
    uint32_t x = 12345;
    struct sess *s;

    assert_non_null(data);
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    /* a small window so flow control is exercised both ways */
    s = sess_new(NULL, 64 * 1024);
    exec_ok(s, "cat");
    s->in = data;
    s->in_len = len;
    s->send_eof = 1;
    sess_run(s);
    assert_int_equal(amk_buf_len(&s->out), len);
    assert_memory_equal(amk_buf_ptr(&s->out), data, len);
    assert_int_equal(amk_buf_len(&s->err), 0);
    assert_int_equal(exit_status(s), 0);
    sess_free(s);
    free(data);
}

static void
test_session_signal_gives_exit_signal(void **state)
{
    struct sess *s = sess_new(NULL, 0);
    const char *sig = NULL;
    uint32_t st;

    exec_ok(s, "echo started; sleep 30");
    sess_run_until(s, "started");
    ASSERT_OK(amk_conn_channel_signal(s->p->cli, s->cid, "TERM"));
    sess_run(s);
    ASSERT_OK(amk_conn_channel_exit_signal(s->p->cli, s->cid, &sig, NULL, NULL));
    assert_string_equal(sig, "TERM");
    ASSERT_AMK(AMK_ECLOSED, amk_conn_channel_exit_status(s->p->cli, s->cid, &st));
    sess_free(s);
}

static void
pty_req(struct sess *s, uint32_t cols, uint32_t rows, enum amk_req_result want)
{
    const struct amk_pty_mode modes[] = { { AMK_TTY_ECHO, 1 }, { AMK_TTY_ONLCR, 1 } };
    struct amk_pty_req pty = { .term = "xterm-amiko", .cols = cols, .rows = rows,
        .modes = modes, .n_modes = 2 };
    uint32_t t;

    ASSERT_OK(amk_conn_channel_pty(s->p->cli, s->cid, &pty, 1, &t));
    assert_int_equal(sess_result(s, t), want);
}

static void
test_session_pty_shell(void **state)
{
    struct amk_srv_chan_policy pol = { .shell = "/bin/sh" };
    struct sess *s = sess_new(&pol, 0);
    static const char line[] = "echo T=$TERM S=$SSH_TTY; tty; exit 7\n";
    uint32_t t;

    pty_req(s, 80, 24, AMK_REQ_SUCCESS);
    ASSERT_OK(amk_conn_channel_shell(s->p->cli, s->cid, 1, &t));
    assert_int_equal(sess_result(s, t), AMK_REQ_SUCCESS);
    s->in = (const uint8_t *)line;
    s->in_len = strlen(line);
    sess_run(s);
    {
        char *text = NULL;
        ASSERT_OK(amk_buf_to_cstring(&s->out, &text, NULL));
        assert_non_null(strstr(text, "T=xterm-amiko"));
        assert_non_null(strstr(text, "/dev/pts/"));
        assert_non_null(strstr(text, "S=/dev/pts/"));
        free(text);
    }
    /* a pty has one output stream */
    assert_int_equal(amk_buf_len(&s->err), 0);
    assert_int_equal(exit_status(s), 7);
    sess_free(s);
}

static void
test_session_pty_window_change(void **state)
{
    struct sess *s = sess_new(NULL, 0);

    pty_req(s, 80, 24, AMK_REQ_SUCCESS);
    exec_ok(s, "stty size; read x; stty size");
    sess_run_until(s, "24 80");
    ASSERT_OK(amk_conn_channel_window_change(s->p->cli, s->cid, 132, 50, 0, 0));
    s->in = (const uint8_t *)"\n";
    s->in_len = 1;
    sess_run(s);
    {
        char *text = NULL;
        ASSERT_OK(amk_buf_to_cstring(&s->out, &text, NULL));
        assert_non_null(strstr(text, "50 132"));
        free(text);
    }
    assert_int_equal(exit_status(s), 0);
    sess_free(s);
}

static void
test_session_env_allow_list(void **state)
{
    struct sess *s = sess_new(NULL, 0);
    uint32_t t1, t2, t3;

    ASSERT_OK(amk_conn_channel_env(s->p->cli, s->cid, "LANG", "C.UTF-8", 1, &t1));
    ASSERT_OK(amk_conn_channel_env(s->p->cli, s->cid, "FOO", "bar", 1, &t2));
    ASSERT_OK(amk_conn_channel_env(s->p->cli, s->cid, "LC_TIME", "C", 1, &t3));
    assert_int_equal(sess_result(s, t1), AMK_REQ_SUCCESS);
    assert_int_equal(sess_result(s, t2), AMK_REQ_FAILURE);
    assert_int_equal(sess_result(s, t3), AMK_REQ_SUCCESS);
    exec_ok(s, "echo \"L=$LANG F=$FOO T=$LC_TIME\"");
    sess_run(s);
    assert_out(s, &s->out, "L=C.UTF-8 F= T=C\n");
    sess_free(s);
}

static void
test_session_base_env_and_home(void **state)
{
    static const char *const env[] = { "USER=alice", "HOME=/tmp", "SSH_CONNECTION=1 2 3 4",
        "bogus", NULL };
    struct amk_srv_chan_policy pol = { .env = env, .home = "/tmp" };
    struct sess *s = sess_new(&pol, 0);

    exec_ok(s, "echo \"$USER $HOME $SSH_CONNECTION $(pwd) ${PATH:+path}\"");
    sess_run(s);
    assert_out(s, &s->out, "alice /tmp 1 2 3 4 /tmp path\n");
    sess_free(s);
}

static void
test_session_forced_command(void **state)
{
    struct amk_srv_chan_policy pol = {
        .forced_command = "echo \"forced:$SSH_ORIGINAL_COMMAND\"; exit 4" };
    struct sess *s = sess_new(&pol, 0);

    exec_ok(s, "ls /");
    sess_run(s);
    assert_out(s, &s->out, "forced:ls /\n");
    assert_int_equal(exit_status(s), 4);
    sess_free(s);
}

static void
test_session_no_pty_policy_and_second_exec(void **state)
{
    struct amk_srv_chan_policy pol = { .no_pty = 1 };
    struct sess *s = sess_new(&pol, 0);
    uint32_t t;

    pty_req(s, 80, 24, AMK_REQ_FAILURE);
    exec_ok(s, "tty; exit 0");
    /* one command per channel */
    ASSERT_OK(amk_conn_channel_exec(s->p->cli, s->cid, "true", 1, &t));
    assert_int_equal(sess_result(s, t), AMK_REQ_FAILURE);
    sess_run(s);
    assert_out(s, &s->out, "not a tty\n");
    sess_free(s);
}

static void
test_session_peer_close_kills_process(void **state)
{
    struct sess *s = sess_new(NULL, 0);
    uint64_t end = now_ms() + WAIT_MS;
    int pid;

    exec_ok(s, "echo started; sleep 30");
    sess_run_until(s, "started");
    pid = amk_srv_chan_pid(s->sc);
    assert_true(pid > 0);
    ASSERT_OK(amk_conn_channel_close(s->p->cli, s->cid));
    while (!amk_srv_chan_done(s->sc)) {
        assert_true(now_ms() < end);
        sess_step(s, 50);
    }
    amk_srv_chan_free(s->sc);
    s->sc = NULL;
    /* reaped: the pid no longer exists */
    assert_int_equal(kill(pid, 0), -1);
    /* the rest of its group (sleep) got SIGHUP too and goes away once
     * init reaps it */
    end = now_ms() + WAIT_MS;
    while (kill(-pid, 0) == 0) {
        assert_true(now_ms() < end);
        (void)poll(NULL, 0, 20);
    }
    sess_free(s);
}

static void
test_session_no_leaked_fds(void **state)
{
    int leak[2];
    struct sess *s;

    /* a descriptor without close-on-exec, as a careless server might have */
    assert_int_equal(pipe(leak), 0);
    s = sess_new(NULL, 0);
    exec_ok(s, "ls /proc/self/fd | sort -n | tr '\\n' ' '");
    sess_run(s);
    /* ls's own directory descriptor is 3 */
    assert_out(s, &s->out, "0 1 2 3 ");
    sess_free(s);
    close(leak[0]);
    close(leak[1]);
}

static enum amk_srv_subsys
subsys_cb(void *user, struct amk_srv_chan *sc, uint32_t id, const char *name,
    const char **command)
{
    if (strcmp(name, "echo") == 0) {
        *command = "echo subsystem-ran";
        return AMK_SRV_SUBSYS_COMMAND;
    }
    return AMK_SRV_SUBSYS_REFUSE;
}

static void
test_session_subsystem(void **state)
{
    struct amk_srv_chan_policy pol = { .subsystem_cb = subsys_cb };
    struct sess *s = sess_new(&pol, 0);
    uint32_t t;

    ASSERT_OK(amk_conn_channel_subsystem(s->p->cli, s->cid, "nope", 1, &t));
    assert_int_equal(sess_result(s, t), AMK_REQ_FAILURE);
    ASSERT_OK(amk_conn_channel_subsystem(s->p->cli, s->cid, "echo", 1, &t));
    assert_int_equal(sess_result(s, t), AMK_REQ_SUCCESS);
    sess_run(s);
    assert_out(s, &s->out, "subsystem-ran\n");
    sess_free(s);
}

static void
test_session_pty_modes_applied(void **state)
{
    const struct amk_pty_mode modes[] = { { AMK_TTY_ECHO, 0 }, { AMK_TTY_ICANON, 1 } };
    struct amk_pty_req pty = { .term = "vt100", .cols = 40, .rows = 10, .modes = modes,
        .n_modes = 2 };
    struct sess *s = sess_new(NULL, 0);
    char *text = NULL;
    uint32_t t;

    ASSERT_OK(amk_conn_channel_pty(s->p->cli, s->cid, &pty, 1, &t));
    assert_int_equal(sess_result(s, t), AMK_REQ_SUCCESS);
    exec_ok(s, "stty -a");
    sess_run(s);
    ASSERT_OK(amk_buf_to_cstring(&s->out, &text, NULL));
    assert_non_null(strstr(text, "-echo "));
    assert_non_null(strstr(text, " icanon"));
    assert_non_null(strstr(text, "rows 10; columns 40"));
    free(text);
    sess_free(s);
}

/* The transport refuses every other iteration: staged output waits and
 * nothing is lost or reordered. */
static void
test_session_output_with_refusing_transport(void **state)
{
    const size_t len = 300000;
    struct sess *s = sess_new(NULL, 64 * 1024);
    uint64_t end = now_ms() + WAIT_MS;
    int i = 0;

    exec_ok(s, "head -c 300000 /dev/zero | tr '\\0' 'a'; echo tail >&2");
    while (!(amk_srv_chan_done(s->sc)
        && (amk_conn_channel_poll(s->p->cli, s->cid) & AMK_CHAN_EV_CLOSED))) {
        assert_true(now_ms() < end);
        s->p->to_cli.refuse = (i++ % 2) == 0;
        sess_step(s, 20);
    }
    s->p->to_cli.refuse = 0;
    ASSERT_OK(amk_conn_flush(s->p->srv));
    ASSERT_OK(cp_pump(s->p));
    client_io(s);
    assert_int_equal(amk_buf_len(&s->out), len);
    for (size_t k = 0; k < len; k++) {
        if (amk_buf_ptr(&s->out)[k] != 'a')
            fail_msg("byte %zu is %d", k, amk_buf_ptr(&s->out)[k]);
    }
    assert_out(s, &s->err, "tail\n");
    assert_int_equal(exit_status(s), 0);
    sess_free(s);
}

/* As OpenSSH with pipes: the end waits until every holder of the output
 * closed it, not just the shell. */
static void
test_session_background_output_waited_for(void **state)
{
    struct sess *s = sess_new(NULL, 0);

    exec_ok(s, "(sleep 0.3; echo late) & echo early");
    sess_run(s);
    assert_out(s, &s->out, "early\nlate\n");
    assert_int_equal(exit_status(s), 0);
    sess_free(s);
}

static void
test_session_missing_shell_exits_127(void **state)
{
    struct amk_srv_chan_policy pol = { .shell = "/nonexistent/amiko-sh" };
    struct sess *s = sess_new(&pol, 0);

    exec_ok(s, "true");
    sess_run(s);
    assert_int_equal(exit_status(s), 127);
    assert_true(amk_buf_len(&s->err) > 0);
    sess_free(s);
}

/* A process that never reads its stdin: the client's data is dropped,
 * and the server gets no SIGPIPE (it would kill this test). */
static void
test_session_stdin_to_exited_process(void **state)
{
    const size_t len = 512 * 1024;
    uint8_t *data = calloc(1, len);
    struct sess *s = sess_new(NULL, 64 * 1024);

    assert_non_null(data);
    exec_ok(s, "exec 0<&-; echo closed");
    s->in = data;
    s->in_len = len;
    s->send_eof = 1;
    sess_run(s);
    assert_out(s, &s->out, "closed\n");
    assert_int_equal(exit_status(s), 0);
    sess_free(s);
    free(data);
}

/* --- OpenSSH's ssh against a minimal server loop ------------------------ */

#define MSG_USERAUTH_REQUEST 50
#define MSG_USERAUTH_SUCCESS 52
#define MINI_CHANS 4

static struct sshd_fixture fx;      /* its directory and the user's name only */
static struct amk_key *host_key;
static char known_hosts[FIXTURE_PATH_MAX];

struct mini {
    struct amk_session *s;
    struct amk_conn *conn;
    struct amk_srv_chan *sc[MINI_CHANS];
    uint32_t new_ids[MINI_CHANS];
    size_t n_new;
    struct amk_srv_chan_policy pol;
};

static int
mini_sink(void *user, const uint8_t *payload, size_t len)
{
    struct mini *m = user;

    return amk_session_send_packet(m->s, payload, len);
}

static int
mini_open(void *user, const struct amk_conn_open_req *req, uint32_t id)
{
    struct mini *m = user;

    if (strcmp(req->type, "session") != 0)
        return AMK_OPEN_UNKNOWN_CHANNEL_TYPE;
    if (m->n_new >= MINI_CHANS)
        return AMK_OPEN_RESOURCE_SHORTAGE;
    m->new_ids[m->n_new++] = id;
    return AMK_OK;
}

static int
mini_request(void *user, const struct amk_conn_chreq *req)
{
    struct mini *m = user;

    for (size_t i = 0; i < MINI_CHANS; i++) {
        if (m->sc[i] != NULL && amk_srv_chan_id(m->sc[i]) == req->id)
            return amk_srv_chan_on_request(m->sc[i], req);
    }
    return AMK_REQ_FAILURE;
}

/* Creates the handlers of the channels opened by the last payload. */
static void
mini_adopt(struct mini *m)
{
    for (size_t k = 0; k < m->n_new; k++) {
        size_t i = 0;
        while (i < MINI_CHANS && m->sc[i] != NULL)
            i++;
        assert_true(i < MINI_CHANS);
        ASSERT_OK(amk_srv_chan_new(m->conn, m->new_ids[k], &m->pol, &m->sc[i]));
    }
    m->n_new = 0;
}

/* Handles received packets until none is waiting; 1 once the client went. */
static int
mini_recv(struct mini *m)
{
    static const uint8_t accept_msg[] = { AMK_MSG_SERVICE_ACCEPT, 0, 0, 0, 12,
        's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h' };
    static const uint8_t success[] = { MSG_USERAUTH_SUCCESS };
    const uint8_t *p;
    size_t len;
    int r;

    for (;;) {
        r = amk_session_recv_packet(m->s, &p, &len);
        if (r == AMK_EAGAIN)
            return 0;
        if (r != AMK_OK)
            return 1;           /* the client disconnected or closed */
        if (p[0] == AMK_MSG_SERVICE_REQUEST) {
            ASSERT_OK(amk_session_send_packet(m->s, accept_msg, sizeof(accept_msg)));
        } else if (p[0] == MSG_USERAUTH_REQUEST) {
            /* the test server lets anyone in with method "none" */
            ASSERT_OK(amk_session_send_packet(m->s, success, sizeof(success)));
        } else if (p[0] >= AMK_MSG_CONN_FIRST && p[0] <= AMK_MSG_CONN_LAST) {
            r = amk_conn_handle(m->conn, p, len);
            if (r != AMK_OK && r != AMK_ENOTSUP)
                fail_msg("conn: %s: %s", amk_errname(r), amk_conn_last_error(m->conn));
            mini_adopt(m);
        }
    }
}

/* Starts ssh with @p args (NULL-terminated, after the common options and
 * before the destination), stdin from @p in (NULL: /dev/null), output to
 * files @p out and @p err, extra environment @p env ("K=V" or NULL). */
static pid_t
spawn_ssh_client(uint16_t port, const char *const *args, const char *dest_cmd, const char *in,
    const char *out, const char *err, const char *env)
{
    char port_s[16], kh[FIXTURE_PATH_MAX + 32], dest[128];
    const char *argv[64];
    size_t n = 0;
    pid_t pid;

    snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
    snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", known_hosts);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
    argv[n++] = SSH_PATH;
    argv[n++] = "-F";
    argv[n++] = "/dev/null";
    argv[n++] = "-p";
    argv[n++] = port_s;
    argv[n++] = "-o";
    argv[n++] = "BatchMode=yes";
    argv[n++] = "-o";
    argv[n++] = "StrictHostKeyChecking=yes";
    argv[n++] = "-o";
    argv[n++] = "GlobalKnownHostsFile=/dev/null";
    argv[n++] = "-o";
    argv[n++] = kh;
    argv[n++] = "-o";
    argv[n++] = "ConnectTimeout=10";
    for (size_t i = 0; args != NULL && args[i] != NULL; i++)
        argv[n++] = args[i];
    argv[n++] = dest;
    if (dest_cmd != NULL)
        argv[n++] = dest_cmd;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int i0 = open(in != NULL ? in : "/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (i0 < 0 || o < 0 || e < 0)
            _exit(126);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (env != NULL)
            putenv((char *)env);
        dup2(i0, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(SSH_PATH, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/*
 * Serves one ssh connection with the session handler under @p pol until
 * the client exits; returns the client's exit code.
 */
static int
serve_ssh(const struct amk_srv_chan_policy *pol, const char *const *args, const char *cmd,
    const char *in, const char *out, const char *err, const char *env)
{
    struct mini m;
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink = { mini_sink, NULL, NULL };
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    uint64_t end = now_ms() + WAIT_MS;
    int lfd, cfd, status = 0, gone = 0;
    pid_t pid;

    memset(&m, 0, sizeof(m));
    m.pol = *pol;
    if (m.pol.shell == NULL)
        m.pol.shell = "/bin/sh";
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
    pid = spawn_ssh_client(ntohs(sa.sin_port), args, cmd, in, out, err, env);
    {
        struct pollfd pfd = { .fd = lfd, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    }
    cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(cfd >= 0);
    close(lfd);
    ASSERT_OK(amk_session_new(&m.s, AMK_SESSION_SERVER));
    ASSERT_OK(amk_session_add_host_key(m.s, host_key));
    ASSERT_OK(amk_session_set_timeout(m.s, INTEROP_WAIT_MS));
    ASSERT_OK(amk_session_set_blocking(m.s, 0));
    ASSERT_OK(amk_session_set_fd(m.s, cfd));
    ASSERT_OK(interop_handshake(m.s));
    memset(&cfg, 0, sizeof(cfg));
    cfg.open_cb = mini_open;
    cfg.request_cb = mini_request;
    cfg.user = &m;
    sink.user = &m;
    ASSERT_OK(amk_conn_new(&m.conn, &cfg, &sink));
    while (!gone) {
        struct pollfd fds[1 + MINI_CHANS * AMK_SRV_CHAN_POLLFDS_MAX];
        size_t n = 1;
        int dirs = amk_session_block_directions(m.s);

        assert_true(now_ms() < end);
        fds[0].fd = cfd;
        fds[0].events = (short)(POLLIN | ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0));
        fds[0].revents = 0;
        for (size_t i = 0; i < MINI_CHANS; i++) {
            if (m.sc[i] != NULL)
                n += amk_srv_chan_pollfds(m.sc[i], fds + n, sizeof(fds) / sizeof(fds[0]) - n);
        }
        assert_true(poll(fds, n, 50) >= 0 || errno == EINTR);
        gone = mini_recv(&m);
        for (size_t i = 0; i < MINI_CHANS && !gone; i++) {
            if (m.sc[i] == NULL)
                continue;
            ASSERT_OK(amk_srv_chan_pump(m.sc[i], fds + 1, n - 1));
            if (amk_srv_chan_done(m.sc[i])) {
                amk_srv_chan_free(m.sc[i]);
                m.sc[i] = NULL;
            }
        }
        if (amk_conn_wants_flush(m.conn))
            (void)!amk_conn_flush(m.conn);
        if (!gone) {
            int r = amk_session_flush(m.s);
            assert_true(r == AMK_OK || r == AMK_EAGAIN || amk_err_is_fatal(r));
        }
    }
    for (size_t i = 0; i < MINI_CHANS; i++)
        amk_srv_chan_free(m.sc[i]);
    amk_conn_free(m.conn);
    amk_session_free(m.s);
    close(cfd);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("ssh did not exit");
        }
        (void)poll(NULL, 0, 10);
    }
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
fx_path(const char *name, char *out)
{
    sshd_fixture_path(&fx, name, out, FIXTURE_PATH_MAX);
}

static void
test_ssh_exec_exit_codes_and_streams(void **state)
{
    struct amk_srv_chan_policy pol = { .shell = NULL };
    char out[FIXTURE_PATH_MAX], err[FIXTURE_PATH_MAX];
    char *o, *e;

    fx_path("ssh.out", out);
    fx_path("ssh.err", err);
    assert_int_equal(serve_ssh(&pol, NULL, "echo out; echo err >&2; exit 5", NULL, out, err,
        NULL), 5);
    o = tf_read(out, NULL);
    e = tf_read(err, NULL);
    assert_string_equal(o, "out\n");
    if (strstr(e, "err\n") == NULL)
        fail_msg("stderr: %s", e);
    free(o);
    free(e);
    assert_int_equal(serve_ssh(&pol, NULL, "true", NULL, out, err, NULL), 0);
    assert_int_equal(serve_ssh(&pol, NULL, "exit 255", NULL, out, err, NULL), 255);
}

static void
test_ssh_exec_stdin_1mib(void **state)
{
    struct amk_srv_chan_policy pol = { .shell = NULL };
    char in[FIXTURE_PATH_MAX], out[FIXTURE_PATH_MAX], err[FIXTURE_PATH_MAX];
    const size_t len = 1024 * 1024;
    uint8_t *data = malloc(len);
    uint32_t x = 99;
    size_t got = 0;
    char *o;
    FILE *f;

    assert_non_null(data);
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    fx_path("ssh.in", in);
    fx_path("ssh.out", out);
    fx_path("ssh.err", err);
    f = fopen(in, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(serve_ssh(&pol, NULL, "cat; exit 4", in, out, err, NULL), 4);
    o = tf_read(out, &got);
    assert_int_equal(got, len);
    assert_memory_equal(o, data, len);
    free(o);
    free(data);
}

static void
test_ssh_tt_shell(void **state)
{
    static const char *const args[] = { "-tt", NULL };
    struct amk_srv_chan_policy pol = { .shell = NULL };
    char in[FIXTURE_PATH_MAX], out[FIXTURE_PATH_MAX], err[FIXTURE_PATH_MAX];
    char *o;
    FILE *f;

    fx_path("ssh.in", in);
    fx_path("ssh.out", out);
    fx_path("ssh.err", err);
    f = fopen(in, "w");
    assert_non_null(f);
    fputs("echo T=$TERM; tty; stty size; exit 7\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(serve_ssh(&pol, args, NULL, in, out, err, "TERM=xterm-ssh-test"), 7);
    o = tf_read(out, NULL);
    if (strstr(o, "T=xterm-ssh-test") == NULL || strstr(o, "/dev/pts/") == NULL)
        fail_msg("output: %s", o);
    free(o);
}

static void
test_ssh_sendenv_allow_list(void **state)
{
    static const char *const args[] = { "-o", "SendEnv=LANG", "-o", "SetEnv=FOO=bar", NULL };
    struct amk_srv_chan_policy pol = { .shell = NULL };
    char out[FIXTURE_PATH_MAX], err[FIXTURE_PATH_MAX];
    char *o;

    fx_path("ssh.out", out);
    fx_path("ssh.err", err);
    assert_int_equal(serve_ssh(&pol, args, "echo \"L=$LANG F=$FOO\"", NULL, out, err,
        "LANG=C.UTF-8"), 0);
    o = tf_read(out, NULL);
    assert_string_equal(o, "L=C.UTF-8 F=\n");
    free(o);
}

static int
ssh_group_setup(void **state)
{
    struct amk_buf *blob = amk_buf_new(), *b64 = amk_buf_new();
    FILE *kh;
    int ok;

    if (sshd_fixture_init(&fx) != 0 || blob == NULL || b64 == NULL)
        return -1;
    fx_path("server_known_hosts", known_hosts);
    ok = amk_key_generate(AMK_PKEY_ED25519, 0, &host_key) == AMK_OK
        && amk_key_to_blob(host_key, blob) == AMK_OK
        && amk_base64_encode(amk_buf_ptr(blob), amk_buf_len(blob), 1, b64) == AMK_OK
        && amk_buf_put(b64, "", 1) == AMK_OK && (kh = fopen(known_hosts, "w")) != NULL;
    if (ok) {
        fprintf(kh, "* %s %s\n", amk_key_type_name(host_key), (const char *)amk_buf_ptr(b64));
        ok = fclose(kh) == 0;
    }
    amk_buf_free(blob);
    amk_buf_free(b64);
    return ok ? 0 : -1;
}

static int
ssh_group_teardown(void **state)
{
    amk_key_free(host_key);
    host_key = NULL;
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_exec_stdout_stderr_status),
        cmocka_unit_test(test_session_stdin_cat_1mib),
        cmocka_unit_test(test_session_signal_gives_exit_signal),
        cmocka_unit_test(test_session_pty_shell),
        cmocka_unit_test(test_session_pty_window_change),
        cmocka_unit_test(test_session_env_allow_list),
        cmocka_unit_test(test_session_base_env_and_home),
        cmocka_unit_test(test_session_forced_command),
        cmocka_unit_test(test_session_no_pty_policy_and_second_exec),
        cmocka_unit_test(test_session_peer_close_kills_process),
        cmocka_unit_test(test_session_no_leaked_fds),
        cmocka_unit_test(test_session_subsystem),
        cmocka_unit_test(test_session_pty_modes_applied),
        cmocka_unit_test(test_session_output_with_refusing_transport),
        cmocka_unit_test(test_session_background_output_waited_for),
        cmocka_unit_test(test_session_missing_shell_exits_127),
        cmocka_unit_test(test_session_stdin_to_exited_process),
    };

    const struct CMUnitTest ssh_tests[] = {
        cmocka_unit_test(test_ssh_exec_exit_codes_and_streams),
        cmocka_unit_test(test_ssh_exec_stdin_1mib),
        cmocka_unit_test(test_ssh_tt_shell),
        cmocka_unit_test(test_ssh_sendenv_allow_list),
    };
    int failed;

    signal(SIGPIPE, SIG_IGN);       /* the transport's socket, not the sessions */
    failed = cmocka_run_group_tests_name("session handler", tests, NULL, NULL);
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: the ssh tests are skipped\n");
        return failed;
    }
    failed += cmocka_run_group_tests_name("ssh client", ssh_tests, ssh_group_setup,
        ssh_group_teardown);
    return failed;
}
