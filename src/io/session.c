/*
 * see amiko/session.h and io/session.h
 *
 * The pump (pump()) is the only loop: it moves bytes between the engine and
 * the socket or callbacks until a "done" predicate holds, in the spirit of
 * BearSSL's ssl_io.c run_until(). Blocking mode waits in poll() with the
 * call's deadline (and the engine's timer); non-blocking mode returns
 * AMK_EAGAIN with the directions it would have waited for.
 */
#include "io/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/capture.h"
#include "io/tcp.h"
#include "io/wait.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/secure.h"

/* Bytes read from the peer per read call, straight into the engine's
 * input buffer: large reads mean few system calls on a bulk transfer. */
#define SESSION_READ_CHUNK ((size_t)256 * 1024)
/* Host keys a server session holds: one per key type. */
#define SESSION_MAX_HOST_KEYS 8
/* Algorithm specs: one per enum amk_alg_kind (1..5). */
#define SESSION_N_SPECS 6

enum session_io {
    IO_NONE = 0,        /* nothing to run over yet */
    IO_CONNECTING,      /* amk_session_connect() in progress */
    IO_FD,              /* a connected descriptor */
    IO_CALLBACKS        /* the caller's read/write callbacks */
};

struct amk_session {
    enum amk_session_role role;
    int blocking;
    int timeout_ms;
    char *specs[SESSION_N_SPECS];
    struct amk_logger log;
    amk_hostkey_fn hostkey_cb;
    void *hostkey_user;
    struct amk_key *host_keys[SESSION_MAX_HOST_KEYS];
    size_t n_host_keys;

    enum session_io io;
    int fd;                 /* IO_FD, IO_CONNECTING (the socket being connected) */
    int own_fd;             /* made by amk_session_connect(): closed by free */
    int fd_is_socket;       /* use recv/send with MSG_DONTWAIT */
    struct amk_tcp_connecting *connecting;
    int64_t connect_deadline;   /* the timeout of amk_session_connect(), both modes */
    amk_session_read_fn rd;
    amk_session_write_fn wr;
    void *io_user;

    struct amk_transport *t;
    int closing;            /* amk_session_disconnect() queued the DISCONNECT */

    int block_dirs;
    int failed;             /* first fatal code, or AMK_OK */
    struct amk_error err;
    int err_fresh;          /* err was just set for the engine failure that follows */

    /* the last host key the client saw, and what was negotiated */
    char *hk_alg;
    uint8_t *hk_blob;
    size_t hk_len;
    struct amk_transport_algs algs;
    int have_algs;
};

/* A "done" predicate of the pump: 1 done, 0 not yet, negative: fail with it. */
typedef int (*pump_done_fn)(struct amk_session *s, void *arg);

static uint64_t
now_ms(void)
{
    return (uint64_t)amk_io_now_ms();
}

/* Records a fatal error once (the first one stays) and returns it. */
static int
session_fail(struct amk_session *s, int code)
{
    if (s->failed == AMK_OK && amk_err_is_fatal(code))
        s->failed = code;
    return code;
}

/*
 * The engine failed with @p code: keep its detail, say more for a
 * DISCONNECT from the peer, and send what is left of the output (our
 * DISCONNECT) without waiting.
 */
static void flush_best_effort(struct amk_session *s);

static int
fail_engine(struct amk_session *s, int code)
{
    const char *detail = amk_transport_last_error(s->t);
    int fresh = s->err_fresh && s->err.code == code;

    s->err_fresh = 0;
    if (fresh) {
        /* keep the session's own detail (host-key check, EOF): it says more */
    } else if (code == AMK_EDISCONNECT) {
        amk_error_set(&s->err, code, "peer disconnected (reason %u): %s",
            (unsigned)amk_transport_disconnect_reason(s->t),
            amk_transport_disconnect_message(s->t));
    } else if (detail != NULL && detail[0] != '\0') {
        amk_error_set(&s->err, code, "%s", detail);
    } else {
        amk_error_set(&s->err, code, NULL);
    }
    amk_log(&s->log, AMK_LOG_ERROR, "session failed: %s", s->err.msg);
    if (amk_err_is_fatal(code))
        flush_best_effort(s);
    return session_fail(s, code);
}

/* --- I/O primitives -------------------------------------------------- */

/* > 0 bytes read, 0 at EOF, AMK_EAGAIN, or a fatal code with detail. */
static ssize_t
io_read(struct amk_session *s, void *buf, size_t len)
{
    ssize_t n;

    if (s->io == IO_CALLBACKS) {
        n = s->rd(s->io_user, buf, len);
        if (n > (ssize_t)len)
            return amk_error_set(&s->err, AMK_EIO, "read callback returned %zd for %zu bytes",
                n, len);
        if (n < 0 && n != AMK_EAGAIN)   /* a non-fatal code cannot describe a failed read */
            return amk_error_set(&s->err, amk_err_is_fatal((int)n) ? (int)n : AMK_EIO,
                "read callback failed: %s", amk_strerror((int)n));
        return n;
    }
    for (;;) {
        n = s->fd_is_socket ? recv(s->fd, buf, len, MSG_DONTWAIT) : read(s->fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return AMK_EAGAIN;
        if (errno == ECONNRESET)
            return amk_error_set(&s->err, AMK_ECLOSED, "read: %s: connection closed by the peer",
                strerror(errno));
        return amk_error_set(&s->err, AMK_EIO, "read: %s", strerror(errno));
    }
}

/* > 0 bytes written, AMK_EAGAIN, or a fatal code with detail. */
static ssize_t
io_write(struct amk_session *s, const void *buf, size_t len)
{
    ssize_t n;

    if (s->io == IO_CALLBACKS) {
        n = s->wr(s->io_user, buf, len);
        if (n > (ssize_t)len || n == 0)
            return amk_error_set(&s->err, AMK_EIO, "write callback returned %zd for %zu bytes",
                n, len);
        if (n < 0 && n != AMK_EAGAIN)
            return amk_error_set(&s->err, amk_err_is_fatal((int)n) ? (int)n : AMK_EIO,
                "write callback failed: %s", amk_strerror((int)n));
        return n;
    }
    for (;;) {
        n = s->fd_is_socket ? send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) :
            write(s->fd, buf, len);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return AMK_EAGAIN;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return amk_error_set(&s->err, AMK_ECLOSED, "write: %s: connection closed by the peer",
                strerror(errno));
        return amk_error_set(&s->err, AMK_EIO, "write: %s", n == 0 ? "wrote nothing" :
            strerror(errno));
    }
}

/* Writes engine output until it is empty or the peer would block. */
static int
flush_some(struct amk_session *s, int *progress)
{
    const uint8_t *p;
    size_t len;
    ssize_t n;
    int r;

    for (;;) {
        amk_transport_output(s->t, &p, &len);
        if (len == 0)
            return AMK_OK;
        n = io_write(s, p, len);
        if (n == AMK_EAGAIN)
            return AMK_OK;
        if (n < 0)
            return session_fail(s, (int)n);
        if ((r = amk_transport_output_consume(s->t, (size_t)n)) != AMK_OK)
            return fail_engine(s, r);
        *progress = 1;
    }
}

static void
flush_best_effort(struct amk_session *s)
{
    int progress = 0;

    if (s->t != NULL && (s->io == IO_FD || s->io == IO_CALLBACKS)) {
        struct amk_error saved = s->err;
        (void)flush_some(s, &progress);
        s->err = saved;
    }
}

/* Whether the pump should read: the engine takes input. */
static int
wants_input(const struct amk_session *s)
{
    return !s->closing && amk_transport_wants_read(s->t);
}

/* Reads one chunk straight into the engine's input buffer and processes it. */
static int
read_some(struct amk_session *s, int *progress)
{
    uint8_t *room;
    size_t cap;
    ssize_t n;
    int r;

    if (!wants_input(s))
        return AMK_OK;
    r = amk_transport_input_space(s->t, SESSION_READ_CHUNK, &room, &cap);
    if (r == AMK_EAGAIN)
        return AMK_OK;          /* the upper layer must take packets first */
    if (r != AMK_OK)
        return fail_engine(s, r);
    n = io_read(s, room, cap);
    if (n == AMK_EAGAIN)
        return AMK_OK;
    if (n < 0)
        return session_fail(s, (int)n);
    *progress = 1;
    if (n == 0) {
        amk_log(&s->log, AMK_LOG_DEBUG, "peer closed the connection");
        r = amk_transport_feed_eof(s->t);
        if (r == AMK_ECLOSED) {
            amk_error_set(&s->err, r, "connection closed by the peer%s",
                amk_transport_handshake_done(s->t) ? "" : " during the handshake");
            s->err_fresh = 1;
        }
        return fail_engine(s, r);
    }
    r = amk_transport_input_commit(s->t, (size_t)n, now_ms());
    if (r != AMK_OK)
        return fail_engine(s, r);
    return AMK_OK;
}

/* --- Connecting ------------------------------------------------------ */

/* Advances amk_session_connect() until s->connect_deadline; AMK_OK once connected. */
static int
connect_step(struct amk_session *s)
{
    int fd = -1, r;

    while ((r = amk_tcp_connect_step(s->connecting, &fd, &s->err)) == AMK_EAGAIN) {
        if (s->connect_deadline != AMK_DEADLINE_NONE && amk_io_now_ms() >= s->connect_deadline) {
            r = AMK_ETIMEOUT;
            break;
        }
        if (!s->blocking) {
            s->block_dirs = AMK_WAIT_WRITE;
            return AMK_EAGAIN;
        }
        r = amk_io_wait(amk_tcp_connecting_fd(s->connecting), AMK_IO_WRITE,
            s->connect_deadline, NULL, &s->err);
        if (r != AMK_OK)
            break;
    }
    if (r != AMK_OK) {
        if (r == AMK_ETIMEOUT)
            amk_error_set(&s->err, r, "connect to %s: timed out after %d ms",
                amk_tcp_connecting_addr(s->connecting), s->timeout_ms);
        amk_tcp_connecting_free(s->connecting);
        s->connecting = NULL;
        s->io = IO_NONE;
        s->fd = -1;
        return session_fail(s, r);
    }
    amk_log(&s->log, AMK_LOG_INFO, "connected to %s", amk_tcp_connecting_addr(s->connecting));
    amk_tcp_connecting_free(s->connecting);
    s->connecting = NULL;
    s->fd = fd;
    s->own_fd = 1;
    s->fd_is_socket = 1;
    s->io = IO_FD;
    s->block_dirs = 0;
    return AMK_OK;
}

/* --- The engine -------------------------------------------------------- */

/* The engine's host-key hook: hands the caller the blob and maps its answer. */
static int
hostkey_hook(void *user, const struct amk_key *key, const char *alg)
{
    struct amk_session *s = user;
    struct amk_buf *blob = NULL;
    char *alg_copy = NULL;
    uint8_t *copy = NULL;
    int r = AMK_EINTERNAL, verdict;

    if ((blob = amk_buf_new()) == NULL || (alg_copy = strdup(alg)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_key_to_blob(key, blob)) != AMK_OK)
        goto out;
    if ((copy = malloc(amk_buf_len(blob))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    memcpy(copy, amk_buf_ptr(blob), amk_buf_len(blob));
    free(s->hk_alg);
    free(s->hk_blob);
    s->hk_alg = alg_copy;
    s->hk_blob = copy;
    s->hk_len = amk_buf_len(blob);
    alg_copy = NULL;
    copy = NULL;
    if (s->hostkey_cb == NULL) {
        r = amk_error_set(&s->err, AMK_EHOSTKEY_UNKNOWN,
            "no host-key callback set: refusing the server's %s key", alg);
        s->err_fresh = 1;
        goto out;
    }
    verdict = s->hostkey_cb(s->hostkey_user, s, s->hk_alg, key);
    if (verdict == AMK_OK) {
        amk_log(&s->log, AMK_LOG_DEBUG, "host key (%s) accepted", alg);
        r = AMK_OK;
        goto out;
    }
    if (verdict != AMK_EHOSTKEY_UNKNOWN && verdict != AMK_EHOSTKEY_CHANGED &&
        verdict != AMK_EHOSTKEY_REVOKED)
        verdict = AMK_EHOSTKEY_REJECTED;
    r = amk_error_set(&s->err, verdict, "host key (%s) refused by the host-key callback: %s",
        alg, amk_strerror(verdict));
    s->err_fresh = 1;
out:
    amk_buf_free(blob);
    free(alg_copy);
    free(copy);
    return r;
}

/* Creates the engine from the settings, once there is something to run over. */
static int
start_engine(struct amk_session *s)
{
    struct amk_transport_config cfg;
    int r;

    if (s->t != NULL)
        return AMK_OK;
    memset(&cfg, 0, sizeof(cfg));
    cfg.role = s->role == AMK_SESSION_SERVER ? AMK_TRANSPORT_SERVER : AMK_TRANSPORT_CLIENT;
    cfg.kex_algs = s->specs[AMK_ALG_KEX];
    cfg.hostkey_algs = s->specs[AMK_ALG_HOSTKEY];
    cfg.ciphers = s->specs[AMK_ALG_CIPHER];
    cfg.macs = s->specs[AMK_ALG_MAC];
    cfg.compression = s->specs[AMK_ALG_COMPRESSION];
    cfg.host_keys = s->host_keys;
    cfg.n_host_keys = s->n_host_keys;
    if (s->role == AMK_SESSION_CLIENT) {
        cfg.hostkey_cb = hostkey_hook;
        cfg.user = s;
    }
    cfg.handshake_timeout_ms = s->timeout_ms > 0 ? (uint64_t)s->timeout_ms : 0;
    cfg.log = s->log;
    r = amk_transport_new(&s->t, &cfg);
    if (r != AMK_OK) {
        s->t = NULL;
        return session_fail(s, amk_error_set(&s->err, r, "cannot start the transport: %s",
            amk_strerror(r)));
    }
    if ((r = amk_transport_tick(s->t, now_ms())) != AMK_OK)
        return fail_engine(s, r);
    return AMK_OK;
}

/* --- The pump ---------------------------------------------------------- */

static void
refresh_algs(struct amk_session *s)
{
    if (s->t != NULL && amk_transport_handshake_done(s->t) &&
        amk_transport_algs(s->t, &s->algs) == AMK_OK)
        s->have_algs = 1;
}

/*
 * Runs the engine until @p done says so. Blocking: waits with the session's
 * timeout; non-blocking: AMK_EAGAIN with s->block_dirs set.
 */
static int done_handshake(struct amk_session *s, void *arg);

static int
pump(struct amk_session *s, pump_done_fn done, void *arg)
{
    int64_t deadline = s->blocking ? amk_io_deadline(s->timeout_ms) : AMK_DEADLINE_NONE;
    int r;

    s->block_dirs = 0;
    if (s->failed != AMK_OK)
        return s->failed;
    if (s->io == IO_NONE)
        return amk_error_set(&s->err, AMK_ESTATE,
            "no connection: call amk_session_connect, _set_fd or _set_io first");
    if (s->io == IO_CONNECTING && (r = connect_step(s)) != AMK_OK)
        return r;
    if ((r = start_engine(s)) != AMK_OK)
        return r;
    for (;;) {
        int64_t wake = deadline;
        uint64_t timer;
        int progress = 0, want;

        if (!s->closing && (r = amk_transport_tick(s->t, now_ms())) != AMK_OK)
            return fail_engine(s, r);
        if ((r = done(s, arg)) != 0)
            break;
        if ((r = flush_some(s, &progress)) != AMK_OK)
            return r;
        if ((r = done(s, arg)) != 0)
            break;
        if ((r = read_some(s, &progress)) != AMK_OK) {
            /* The peer may finish the handshake and hang up in one read
             * (NEWKEYS then DISCONNECT): the handshake still succeeded, and
             * the next call reports the failure. */
            if (done == done_handshake && amk_transport_handshake_done(s->t)) {
                refresh_algs(s);
                r = 1;
                break;
            }
            return r;
        }
        if (progress)
            continue;
        want = (amk_transport_wants_write(s->t) ? AMK_WAIT_WRITE : 0) |
            (wants_input(s) ? AMK_WAIT_READ : 0);
        if (want == 0)
            return session_fail(s, amk_error_set(&s->err, AMK_EINTERNAL,
                "session stalled: nothing to read or write"));
        s->block_dirs = want;
        if (!s->blocking || s->io == IO_CALLBACKS)
            return AMK_EAGAIN;
        timer = amk_transport_next_deadline(s->t);
        if (timer != AMK_TRANSPORT_NO_DEADLINE &&
            (wake == AMK_DEADLINE_NONE || (int64_t)timer < wake))
            wake = (int64_t)timer;
        r = amk_io_wait(s->fd, ((want & AMK_WAIT_READ) ? AMK_IO_READ : 0) |
            ((want & AMK_WAIT_WRITE) ? AMK_IO_WRITE : 0), wake, NULL, &s->err);
        if (r == AMK_ETIMEOUT && deadline != AMK_DEADLINE_NONE &&
            amk_io_now_ms() >= deadline)
            return session_fail(s, amk_error_set(&s->err, AMK_ETIMEOUT,
                "timed out after %d ms waiting to %s", s->timeout_ms,
                want == AMK_WAIT_READ ? "read" : want == AMK_WAIT_WRITE ? "write" :
                "read or write"));
        if (r != AMK_OK && r != AMK_ETIMEOUT)
            return session_fail(s, r);
        s->block_dirs = 0;
    }
    if (r < 0)
        return r;
    s->block_dirs = 0;
    return AMK_OK;
}

static int
done_handshake(struct amk_session *s, void *arg)
{
    if (!amk_transport_handshake_done(s->t) || amk_transport_wants_write(s->t))
        return 0;
    refresh_algs(s);
    return 1;
}

static int
done_flushed(struct amk_session *s, void *arg)
{
    return !amk_transport_wants_write(s->t);
}

struct recv_arg {
    const uint8_t *payload;
    size_t len;
};

static int
done_recv(struct amk_session *s, void *arg)
{
    struct recv_arg *ra = arg;
    int r = amk_transport_recv(s->t, &ra->payload, &ra->len);

    if (r == AMK_OK) {
#ifdef AMK_CAPTURE
        amk_capture_payload(s->t, amk_transport_role(s->t) == AMK_TRANSPORT_SERVER, ra->payload,
            ra->len);
#endif
        return 1;
    }
    if (r == AMK_EAGAIN)
        return 0;
    return fail_engine(s, r);
}

/* --- Public API -------------------------------------------------------- */

int
amk_session_new(struct amk_session **out, enum amk_session_role role)
{
    struct amk_session *s = NULL;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (role != AMK_SESSION_CLIENT && role != AMK_SESSION_SERVER))
        return AMK_EINVAL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return AMK_ENOMEM;
    s->role = role;
    s->blocking = 1;
    s->timeout_ms = AMK_SESSION_TIMEOUT_DEFAULT;
    s->fd = -1;
    amk_logger_init(&s->log);
    amk_error_clear(&s->err);
    *out = s;
    return AMK_OK;
}

void
amk_session_free(struct amk_session *s)
{
    if (s == NULL)
        return;
    amk_transport_free(s->t);
    amk_tcp_connecting_free(s->connecting);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    for (size_t i = 0; i < SESSION_N_SPECS; i++)
        free(s->specs[i]);
    free(s->hk_alg);
    free(s->hk_blob);
    amk_free_wiped(s, sizeof(*s));
}

/* Settings that shape the engine can only change before it exists. */
static int
check_configurable(struct amk_session *s)
{
    if (s == NULL)
        return AMK_EINVAL;
    if (s->t != NULL)
        return amk_error_set(&s->err, AMK_ESTATE, "the handshake has started");
    return AMK_OK;
}

int
amk_session_set_algorithms(struct amk_session *s, enum amk_alg_kind kind, const char *spec)
{
    char *copy = NULL;
    int r;

    if ((r = check_configurable(s)) != AMK_OK)
        return r;
    if (kind < AMK_ALG_KEX || kind > AMK_ALG_COMPRESSION)
        return amk_error_set(&s->err, AMK_EINVAL, "unknown algorithm kind %d", (int)kind);
    if (spec != NULL && (copy = strdup(spec)) == NULL)
        return amk_error_set(&s->err, AMK_ENOMEM, NULL);
    free(s->specs[kind]);
    s->specs[kind] = copy;
    return AMK_OK;
}

int
amk_session_set_timeout(struct amk_session *s, int timeout_ms)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
    return AMK_OK;
}

int
amk_session_set_blocking(struct amk_session *s, int blocking)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->blocking = blocking != 0;
    return AMK_OK;
}

int
amk_session_set_log(struct amk_session *s, amk_log_fn fn, void *user, enum amk_log_level level)
{
    int r;

    if ((r = check_configurable(s)) != AMK_OK)
        return r;
    s->log.fn = fn;
    s->log.user = user;
    s->log.level = (int)level;
    return AMK_OK;
}

int
amk_session_set_hostkey_callback(struct amk_session *s, amk_hostkey_fn fn, void *user)
{
    int r;

    if ((r = check_configurable(s)) != AMK_OK)
        return r;
    if (fn == NULL || s->role != AMK_SESSION_CLIENT)
        return amk_error_set(&s->err, AMK_EINVAL, "a host-key callback is for client sessions");
    s->hostkey_cb = fn;
    s->hostkey_user = user;
    return AMK_OK;
}

int
amk_session_add_host_key(struct amk_session *s, struct amk_key *key)
{
    int r;

    if ((r = check_configurable(s)) != AMK_OK)
        return r;
    if (key == NULL || s->role != AMK_SESSION_SERVER)
        return amk_error_set(&s->err, AMK_EINVAL, "host keys are for server sessions");
    if (s->n_host_keys == SESSION_MAX_HOST_KEYS)
        return amk_error_set(&s->err, AMK_EINVAL, "at most %d host keys",
            SESSION_MAX_HOST_KEYS);
    s->host_keys[s->n_host_keys++] = key;
    return AMK_OK;
}

int
amk_session_connect(struct amk_session *s, const char *host, uint16_t port)
{
    int r;

    if (s == NULL)
        return AMK_EINVAL;
    s->block_dirs = 0;
    if (s->failed != AMK_OK)
        return s->failed;
    if (s->io == IO_FD && s->own_fd)
        return AMK_OK;          /* a non-blocking connect that already finished */
    if (s->io == IO_NONE) {
        r = amk_tcp_connect_start(&s->connecting, host, port, &s->err);
        if (r != AMK_OK)
            return session_fail(s, r);
        s->io = IO_CONNECTING;
        /* the timeout starts after name resolution, which cannot be bounded */
        s->connect_deadline = amk_io_deadline(s->timeout_ms);
    } else if (s->io != IO_CONNECTING) {
        return amk_error_set(&s->err, AMK_ESTATE, "the session already has a connection");
    }
    return connect_step(s);
}

int
amk_session_set_fd(struct amk_session *s, int fd)
{
    int type = 0;
    socklen_t len = sizeof(type);

    if (s == NULL || fd < 0)
        return AMK_EINVAL;
    if (s->io != IO_NONE)
        return amk_error_set(&s->err, AMK_ESTATE, "the session already has a connection");
    s->fd = fd;
    s->own_fd = 0;
    s->fd_is_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
    s->io = IO_FD;
    return AMK_OK;
}

int
amk_session_set_io(struct amk_session *s, amk_session_read_fn rd, amk_session_write_fn wr,
    void *user)
{
    if (s == NULL || rd == NULL || wr == NULL)
        return AMK_EINVAL;
    if (s->io != IO_NONE)
        return amk_error_set(&s->err, AMK_ESTATE, "the session already has a connection");
    s->rd = rd;
    s->wr = wr;
    s->io_user = user;
    s->fd = -1;
    s->io = IO_CALLBACKS;
    return AMK_OK;
}

int
amk_session_handshake(struct amk_session *s)
{
    if (s == NULL)
        return AMK_EINVAL;
    return pump(s, done_handshake, NULL);
}

int
amk_session_block_directions(const struct amk_session *s)
{
    return s != NULL ? s->block_dirs : 0;
}

int
amk_session_next_timeout(const struct amk_session *s)
{
    uint64_t timer, now;

    if (s != NULL && s->io == IO_CONNECTING) {
        if (s->connect_deadline == AMK_DEADLINE_NONE)
            return -1;
        return amk_io_remaining_ms(s->connect_deadline);
    }
    if (s == NULL || s->t == NULL)
        return -1;
    timer = amk_transport_next_deadline(s->t);
    if (timer == AMK_TRANSPORT_NO_DEADLINE)
        return -1;
    now = now_ms();
    if (timer <= now)
        return 0;
    return timer - now > (uint64_t)INT32_MAX ? INT32_MAX : (int)(timer - now);
}

int
amk_session_get_fd(const struct amk_session *s)
{
    if (s == NULL)
        return -1;
    if (s->io == IO_CONNECTING)
        return amk_tcp_connecting_fd(s->connecting);   /* changes as addresses are tried */
    return s->io == IO_FD ? s->fd : -1;
}

const char *
amk_session_last_error(const struct amk_session *s)
{
    return s != NULL ? amk_error_msg(&s->err) : "";
}

int
amk_session_algorithm(const struct amk_session *s, enum amk_alg_kind kind, const char **name)
{
    if (name != NULL)
        *name = NULL;
    if (s == NULL || name == NULL)
        return AMK_EINVAL;
    if (!s->have_algs)
        return AMK_ESTATE;
    switch (kind) {
    case AMK_ALG_KEX: *name = s->algs.kex; break;
    case AMK_ALG_HOSTKEY: *name = s->algs.hostkey; break;
    case AMK_ALG_CIPHER: *name = s->algs.cipher_c2s; break;
    case AMK_ALG_MAC: *name = s->algs.mac_c2s; break;
    case AMK_ALG_COMPRESSION: *name = s->algs.comp_c2s; break;
    default: return AMK_EINVAL;
    }
    return AMK_OK;
}

int
amk_session_host_key(const struct amk_session *s, const char **alg, const uint8_t **blob,
    size_t *len)
{
    if (alg != NULL)
        *alg = NULL;
    if (blob != NULL)
        *blob = NULL;
    if (len != NULL)
        *len = 0;
    if (s == NULL || alg == NULL || blob == NULL || len == NULL)
        return AMK_EINVAL;
    if (s->hk_blob == NULL)
        return AMK_ESTATE;
    *alg = s->hk_alg;
    *blob = s->hk_blob;
    *len = s->hk_len;
    return AMK_OK;
}

const char *
amk_session_peer_version(const struct amk_session *s)
{
    return s != NULL && s->t != NULL ? amk_transport_peer_version(s->t) : NULL;
}

int
amk_session_disconnect(struct amk_session *s, const char *description)
{
    int r;

    if (s == NULL)
        return AMK_EINVAL;
    if (s->failed != AMK_OK)
        return s->failed;
    if (s->t == NULL)
        return amk_error_set(&s->err, AMK_ESTATE, "not connected");
    if (!s->closing) {
        r = amk_transport_disconnect(s->t, AMK_DISCONNECT_BY_APPLICATION,
            description != NULL ? description : "bye");
        if (r != AMK_OK)
            return fail_engine(s, r);
        s->closing = 1;
    }
    return pump(s, done_flushed, NULL);
}

/* --- Internal pump API (io/session.h) ---------------------------------- */

struct amk_transport *
amk_session_transport(struct amk_session *s)
{
    return s != NULL ? s->t : NULL;
}

int
amk_session_send_packet(struct amk_session *s, const uint8_t *payload, size_t len)
{
    int r, progress = 0;

    if (s == NULL)
        return AMK_EINVAL;
    s->block_dirs = 0;
    if (s->failed != AMK_OK)
        return s->failed;
    if (s->t == NULL || !amk_transport_handshake_done(s->t))
        return amk_error_set(&s->err, AMK_ESTATE, "send before the handshake is done");
    while ((r = amk_transport_send(s->t, payload, len)) == AMK_EAGAIN) {
        /* too much queued: drain some, then retry */
        r = pump(s, done_flushed, NULL);
        if (r != AMK_OK)
            return r;
    }
    if (r != AMK_OK)
        return amk_err_is_fatal(r) ? fail_engine(s, r) : r;
    if (s->blocking)
        return pump(s, done_flushed, NULL);
    if ((r = flush_some(s, &progress)) != AMK_OK)
        return r;
    return AMK_OK;
}

/* Clears the outputs of a receive call; AMK_EINVAL when one is missing. */
static int
recv_start(struct amk_session *s, const uint8_t **payload, size_t *len)
{
    if (payload != NULL)
        *payload = NULL;
    if (len != NULL)
        *len = 0;
    return s == NULL || payload == NULL || len == NULL ? AMK_EINVAL : AMK_OK;
}

int
amk_session_recv_packet(struct amk_session *s, const uint8_t **payload, size_t *len)
{
    struct recv_arg ra = { NULL, 0 };
    int r;

    if ((r = recv_start(s, payload, len)) != AMK_OK)
        return r;
    if ((r = pump(s, done_recv, &ra)) != AMK_OK)
        return r;
    *payload = ra.payload;
    *len = ra.len;
    return AMK_OK;
}

int
amk_session_recv_buffered(struct amk_session *s, const uint8_t **payload, size_t *len)
{
    struct recv_arg ra = { NULL, 0 };
    int r;

    if ((r = recv_start(s, payload, len)) != AMK_OK)
        return r;
    if (s->failed != AMK_OK)
        return s->failed;
    if (s->t == NULL)
        return AMK_EAGAIN;
    if ((r = done_recv(s, &ra)) < 0)
        return r;
    if (r == 0)
        return AMK_EAGAIN;
    *payload = ra.payload;
    *len = ra.len;
    return AMK_OK;
}

int
amk_session_flush(struct amk_session *s)
{
    if (s == NULL)
        return AMK_EINVAL;
    return pump(s, done_flushed, NULL);
}
