/*
 * The high-level client: configuration, connecting (key exchange with the
 * host-key policy, then the authentication chain of client_auth.c), and
 * the pump that moves packets between the session and the engines.
 * See amiko/client.h and client/client_int.h.
 */
#include "client/client_int.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/secure.h"

#define SYSTEM_KNOWN_HOSTS "/etc/ssh/ssh_known_hosts"
#define COMPRESSION_SPEC "zlib@openssh.com,zlib,none"

/* --- Errors and the pump ---------------------------------------------- */

int
client_fail(struct amk_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[AMK_ERROR_MSG_MAX];

    if (c->failed != AMK_OK)
        return c->failed;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!(c->hostkey_failed && c->err.code == code))
        amk_error_set(&c->err, code, "%s", msg);
    if (amk_err_is_fatal(code)) {
        c->failed = code;
        c->state = CLIENT_FAILED;
        amk_log(&c->log, AMK_LOG_ERROR, "client: %s", amk_error_msg(&c->err));
    }
    return code;
}

/* The session failed with @p r: take its detail. */
static int
fail_session(struct amk_client *c, int r)
{
    if (!amk_err_is_fatal(r))
        return amk_error_set(&c->err, r, "%s", amk_session_last_error(c->s));
    return client_fail(c, r, "%s", amk_session_last_error(c->s));
}

/* One packet from the server, after the key exchange. */
static int
dispatch(struct amk_client *c, const uint8_t *p, size_t len)
{
    int r;

    if (c->state == CLIENT_AUTH) {
        r = amk_userauth_client_handle(c->ua, p, len);
        if (r != AMK_OK)
            return client_fail(c, r, "authentication: %s",
                amk_userauth_client_last_error(c->ua));
        return client_auth_next(c);
    }
    if (c->conn != NULL && p[0] >= AMK_MSG_CONN_FIRST && p[0] <= AMK_MSG_CONN_LAST) {
        r = amk_conn_handle(c->conn, p, len);
        if (r == AMK_ENOTSUP) {
            amk_log(&c->log, AMK_LOG_DEBUG, "client: ignoring message %u", (unsigned)p[0]);
            return AMK_OK;
        }
        if (r != AMK_OK) {
            if (amk_err_is_fatal(r) && amk_transport_disconnect(amk_session_transport(c->s),
                    AMK_DISCONNECT_PROTOCOL_ERROR, "protocol error") != AMK_OK)
                amk_log(&c->log, AMK_LOG_DEBUG, "client: cannot queue DISCONNECT");
            r = client_fail(c, r, "connection protocol: %s", amk_conn_last_error(c->conn));
            /* best effort: the DISCONNECT goes out if the socket takes it now */
            if (amk_err_is_fatal(r) && amk_session_flush(c->s) != AMK_OK)
                amk_log(&c->log, AMK_LOG_DEBUG, "client: DISCONNECT not flushed");
            return r;
        }
        return AMK_OK;
    }
    /* RFC 4252 §5.4: no banner after success; other numbers are not ours */
    amk_log(&c->log, AMK_LOG_DEBUG, "client: ignoring message %u after authentication",
        (unsigned)p[0]);
    return AMK_OK;
}

/*
 * Takes every packet that is there; *n counts them. AMK_OK once the session
 * would wait. With @p budget > 0, once packets of that many bytes were
 * taken the socket is not read again: the packets already read are taken
 * and *cut set (the rest waits in the socket, where poll sees it).
 */
static int
receive_all(struct amk_client *c, size_t *n, size_t budget, int *cut)
{
    const uint8_t *p;
    size_t len, taken = 0;
    int r;

    *n = 0;
    for (;;) {
        if (budget > 0 && taken >= budget) {
            r = amk_session_recv_buffered(c->s, &p, &len);
            if (r == AMK_EAGAIN) {
                *cut = 1;
                c->dirs = AMK_WAIT_READ;
                return AMK_OK;
            }
        } else {
            r = amk_session_recv_packet(c->s, &p, &len);
        }
        if (r == AMK_EAGAIN) {
            c->dirs = amk_session_block_directions(c->s);
            return AMK_OK;
        }
        if (r != AMK_OK)
            return fail_session(c, r);
        (*n)++;
        c->took_input = 1;
        taken += len;
        if (len == 0)
            return client_fail(c, AMK_EPROTO, "empty packet");
        if ((r = dispatch(c, p, len)) != AMK_OK)
            return r;
        if (c->state == CLIENT_FAILED)
            return c->failed;
    }
}

int
client_pump(struct amk_client *c)
{
    int cut = 0;

    return client_pump_some(c, 0, &cut);
}

int
client_pump_some(struct amk_client *c, size_t budget, int *cut)
{
    size_t n;
    int r, sent;

    *cut = 0;
    if (c->failed != AMK_OK)
        return c->failed;
    if (c->s == NULL || c->state == CLIENT_CLOSED || c->state == CLIENT_IDLE)
        return amk_error_set(&c->err, AMK_ECLOSED, "not connected");
    c->dirs = 0;
    for (;;) {
        sent = 0;
        if (c->conn != NULL) {
            if ((r = amk_conn_tick(c->conn, (uint64_t)amk_io_now_ms())) != AMK_OK)
                return client_fail(c, r, "%s", r == AMK_ETIMEOUT ?
                    "the server did not answer keepalives" : amk_conn_last_error(c->conn));
            r = amk_conn_flush(c->conn);
            if (r != AMK_OK && r != AMK_EAGAIN)
                return client_fail(c, r, "%s", amk_conn_last_error(c->conn));
            if ((r = client_channels_advance(c)) < 0)
                return r;
            sent = r;
        }
        if ((r = receive_all(c, &n, budget, cut)) != AMK_OK)
            return r;
        if (*cut) {
            /* what dispatching queued (replies, adjusts) still goes out */
            client_flush_quiet(c);
            c->dirs |= AMK_WAIT_READ;
            return c->failed;
        }
        if (n == 0 && !sent)
            return AMK_OK;
    }
}

void
client_flush_quiet(struct amk_client *c)
{
    int r;

    if (c->s == NULL || c->failed != AMK_OK)
        return;
    if (c->conn != NULL && amk_conn_flush(c->conn) != AMK_OK)
        amk_log(&c->log, AMK_LOG_TRACE, "client: control messages still queued");
    r = amk_session_flush(c->s);
    if (r == AMK_EAGAIN)
        c->dirs |= amk_session_block_directions(c->s);
    else if (r != AMK_OK)
        (void)fail_session(c, r);
}

/* The earliest of @p deadline and the timers. */
static int64_t
wake_time(const struct amk_client *c, int64_t deadline)
{
    int64_t wake = deadline, now = amk_io_now_ms();
    int t = amk_session_next_timeout(c->s);

    if (t >= 0 && (wake == AMK_DEADLINE_NONE || now + t < wake))
        wake = now + t;
    if (c->conn != NULL && amk_conn_next_deadline(c->conn) != AMK_CONN_NO_DEADLINE) {
        int64_t k = (int64_t)amk_conn_next_deadline(c->conn);
        if (wake == AMK_DEADLINE_NONE || k < wake)
            wake = k;
    }
    return wake;
}

int
client_wait(struct amk_client *c, int64_t deadline)
{
    int dirs = c->dirs, want, r;
    struct amk_error e;

    if (deadline != AMK_DEADLINE_NONE && amk_io_now_ms() >= deadline)
        return amk_error_set(&c->err, AMK_ETIMEOUT, "timed out");
    want = ((dirs & AMK_WAIT_READ) ? AMK_IO_READ : 0) | ((dirs & AMK_WAIT_WRITE) ? AMK_IO_WRITE : 0);
    if (want == 0)
        want = AMK_IO_READ;
    amk_error_clear(&e);
    r = amk_io_wait(amk_session_get_fd(c->s), want, wake_time(c, deadline), NULL, &e);
    if (r == AMK_ETIMEOUT) {
        if (deadline != AMK_DEADLINE_NONE && amk_io_now_ms() >= deadline)
            return amk_error_set(&c->err, AMK_ETIMEOUT, "timed out after %d ms", c->timeout_ms);
        return AMK_OK;      /* a timer is due */
    }
    if (r != AMK_OK)
        return client_fail(c, r, "%s", amk_error_msg(&e));
    return AMK_OK;
}

int
client_until(struct amk_client *c, client_cond_fn cond, void *arg)
{
    int64_t deadline = amk_io_deadline(c->timeout_ms);
    int r;

    if ((r = cond(c, arg)) != AMK_EAGAIN)
        return r;
    for (;;) {
        int cut = 0;
        /* in steps (the data met while still in the cache), but never
         * back to the caller with input left unread (see client_pump) */
        if ((r = client_pump_some(c, CLIENT_RECV_STEP, &cut)) != AMK_OK)
            return r;
        if ((r = cond(c, arg)) != AMK_EAGAIN)
            return r;
        if (cut)
            continue;
        if (!c->blocking)
            return AMK_EAGAIN;
        if ((r = client_wait(c, deadline)) != AMK_OK)
            return r;
    }
}

/* --- Host keys ---------------------------------------------------------- */

/* Appends @p key for the host to the user's file, or to memory only. */
static int
remember_key(struct amk_client *c, const struct amk_key *key)
{
    char *line = NULL, *entry = NULL, host[300];
    size_t len;
    int r;

    if (c->user_kh_path != NULL)
        return amk_known_hosts_add(c->kh, c->user_kh_path, c->host, c->port, key, 0);
    if (c->port == 22)
        snprintf(host, sizeof(host), "%s", c->host);
    else
        snprintf(host, sizeof(host), "[%s]:%u", c->host, (unsigned)c->port);
    if ((r = amk_key_public_line(key, &line)) != AMK_OK)
        return r;
    len = strlen(host) + strlen(line) + 3;
    if ((entry = malloc(len)) == NULL) {
        free(line);
        return AMK_ENOMEM;
    }
    snprintf(entry, len, "%s %s\n", host, line);
    r = amk_known_hosts_load_mem(c->kh, entry, strlen(entry), "(memory)");
    free(entry);
    free(line);
    return r;
}

/* The fingerprint of @p key for messages; "?" when it cannot be made. */
static void
fingerprint(const struct amk_key *key, char *out, size_t cap)
{
    char *fp = NULL;

    if (amk_key_fingerprint(key, AMK_KEY_FP_SHA256, &fp) == AMK_OK)
        snprintf(out, cap, "%s", fp);
    else
        snprintf(out, cap, "?");
    free(fp);
}

/* The session's host-key callback: known_hosts first, then the policy. */
static int
check_host_key(void *user, struct amk_session *s, const char *alg, const struct amk_key *key)
{
    struct amk_client *c = user;
    enum amk_known_hosts_status st;
    const char *file = NULL;
    size_t line = 0;
    char fp[128];
    int r;

    (void)s;
    fingerprint(key, fp, sizeof(fp));
    r = amk_known_hosts_check(c->kh, c->host, c->port, key, &st, &file, &line, NULL);
    if (r != AMK_OK)
        goto out;
    switch (st) {
    case AMK_KNOWN_HOSTS_OK:
        amk_log(&c->log, AMK_LOG_DEBUG, "host key %s %s found in %s:%zu", alg, fp, file, line);
        r = AMK_OK;
        break;
    case AMK_KNOWN_HOSTS_REVOKED:
        c->hostkey_failed = 1;
        r = amk_error_set(&c->err, AMK_EHOSTKEY_REVOKED,
            "host key for %s (%s %s) is revoked in %s:%zu", c->host, alg, fp, file, line);
        break;
    case AMK_KNOWN_HOSTS_CHANGED:
        /* whatever the policy: a changed key is never accepted */
        c->hostkey_failed = 1;
        r = amk_error_set(&c->err, AMK_EHOSTKEY_CHANGED,
            "host key for %s has changed: the server sent %s %s, known_hosts has another "
            "key in %s:%zu", c->host, alg, fp, file, line);
        break;
    case AMK_KNOWN_HOSTS_UNKNOWN:
    default:
        r = AMK_EHOSTKEY_UNKNOWN;
        if (c->policy == AMK_HOSTKEY_AUTO_ADD) {
            if ((r = remember_key(c, key)) == AMK_OK)
                amk_log(&c->log, AMK_LOG_WARN, "added %s host key %s for %s to %s", alg, fp,
                    c->host, c->user_kh_path != NULL ? c->user_kh_path : "memory");
        } else if (c->policy == AMK_HOSTKEY_WARN) {
            amk_log(&c->log, AMK_LOG_WARN, "unknown %s host key %s for %s accepted", alg, fp,
                c->host);
            r = AMK_OK;
        } else if (c->policy == AMK_HOSTKEY_CALLBACK && c->hostkey_fn != NULL) {
            r = c->hostkey_fn(c->hostkey_user, c->host, c->port, key) == AMK_OK ? AMK_OK :
                AMK_EHOSTKEY_UNKNOWN;
        }
        if (r != AMK_OK) {
            c->hostkey_failed = 1;
            r = amk_error_set(&c->err, r,
                "host key for %s (%s %s) is not known%s", c->host, alg, fp,
                r == AMK_EHOSTKEY_UNKNOWN ? " and the policy refuses it" : ": cannot add it");
        }
        break;
    }
out:
    return r;
}

/* --- Configuration ------------------------------------------------------ */

int
amk_client_new(struct amk_client **out)
{
    struct amk_client *c = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((r = amk_init()) != AMK_OK)
        return r;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_known_hosts_new(&c->kh)) != AMK_OK) {
        free(c);
        return r;
    }
    c->blocking = 1;
    c->timeout_ms = -1;
    c->connect_timeout_ms = AMK_CLIENT_CONNECT_TIMEOUT_DEFAULT;
    c->allow_default_keys = 1;
    c->use_publickey = 1;
    c->use_password = 1;
    c->policy = AMK_HOSTKEY_REJECT;
    amk_logger_init(&c->log);
    amk_error_clear(&c->err);
    *out = c;
    return AMK_OK;
}

void
amk_client_free(struct amk_client *c)
{
    if (c == NULL)
        return;
    client_run_clear(c);
    client_channels_orphan(c);
    amk_conn_free(c->conn);
    amk_userauth_client_free(c->ua);
    amk_session_free(c->s);
    client_auth_clear(c);
    for (size_t i = 0; i < CLIENT_N_SPECS; i++)
        free(c->specs[i]);
    for (size_t i = 0; i < c->n_key_files; i++)
        free(c->key_files[i]);
    amk_known_hosts_free(c->kh);
    free(c->user_kh_path);
    free(c->host);
    free(c->user);
    amk_free_wiped(c, sizeof(*c));
}

/* Settings that shape the connection only before amk_client_connect(). */
static int
configurable(struct amk_client *c)
{
    if (c == NULL)
        return AMK_EINVAL;
    if (c->state != CLIENT_IDLE)
        return amk_error_set(&c->err, AMK_ESTATE, "the client is already connecting");
    return AMK_OK;
}

int
amk_client_set_hostkey_policy(struct amk_client *c, enum amk_hostkey_policy policy)
{
    /* AMK_HOSTKEY_CALLBACK without a callback yet is fine here: the two calls
     * may come in either order, and start_connect() checks the pair. */
    if (c == NULL || policy < AMK_HOSTKEY_REJECT || policy > AMK_HOSTKEY_CALLBACK)
        return AMK_EINVAL;
    c->policy = policy;
    return AMK_OK;
}

int
amk_client_set_hostkey_callback(struct amk_client *c, amk_client_hostkey_fn fn, void *user)
{
    if (c == NULL || fn == NULL)
        return AMK_EINVAL;
    c->hostkey_fn = fn;
    c->hostkey_user = user;
    c->policy = AMK_HOSTKEY_CALLBACK;
    return AMK_OK;
}

/* ~/.ssh/NAME into @p out. */
static int
home_path(const char *name, char *out, size_t cap)
{
    const char *home = getenv("HOME");
    struct passwd *pw;

    if (home == NULL || home[0] == '\0') {
        if ((pw = getpwuid(getuid())) == NULL)
            return AMK_EINVAL;
        home = pw->pw_dir;
    }
    if ((size_t)snprintf(out, cap, "%s/.ssh/%s", home, name) >= cap)
        return AMK_ELIMIT;
    return AMK_OK;
}

int
amk_client_load_system_host_keys(struct amk_client *c, const char *path)
{
    if (c == NULL)
        return AMK_EINVAL;
    return amk_known_hosts_load_file(c->kh, path != NULL ? path : SYSTEM_KNOWN_HOSTS);
}

int
amk_client_load_host_keys(struct amk_client *c, const char *path)
{
    char def[1024];
    char *copy = NULL;
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if (path == NULL) {
        if ((r = home_path("known_hosts", def, sizeof(def))) != AMK_OK)
            return r;
        path = def;
    }
    if ((copy = strdup(path)) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_known_hosts_load_file(c->kh, path)) != AMK_OK) {
        free(copy);
        return r;
    }
    free(c->user_kh_path);
    c->user_kh_path = copy;
    return AMK_OK;
}

int
amk_client_add_key(struct amk_client *c, struct amk_key *key)
{
    if (c == NULL || key == NULL)
        return AMK_EINVAL;
    if (!amk_key_has_private(key))
        return AMK_EKEY;
    if (c->n_explicit == CLIENT_MAX_KEYS)
        return AMK_ELIMIT;
    c->explicit_keys[c->n_explicit++] = key;
    return AMK_OK;
}

int
amk_client_add_key_file(struct amk_client *c, const char *path)
{
    char *copy;

    if (c == NULL || path == NULL || path[0] == '\0')
        return AMK_EINVAL;
    if (c->n_key_files == CLIENT_MAX_KEYS)
        return AMK_ELIMIT;
    if ((copy = strdup(path)) == NULL)
        return AMK_ENOMEM;
    c->key_files[c->n_key_files++] = copy;
    return AMK_OK;
}

int
amk_client_set_allow_default_keys(struct amk_client *c, int allow)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->allow_default_keys = allow != 0;
    return AMK_OK;
}

int
amk_client_set_auth_methods(struct amk_client *c, int publickey, int password)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->use_publickey = publickey != 0;
    c->use_password = password != 0;
    return AMK_OK;
}

int
amk_client_set_passphrase_callback(struct amk_client *c, amk_passphrase_fn fn, void *user)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->passphrase_fn = fn;
    c->passphrase_user = user;
    return AMK_OK;
}

int
amk_client_set_password_callback(struct amk_client *c, amk_client_password_fn fn, void *user)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->password_fn = fn;
    c->password_user = user;
    return AMK_OK;
}

int
amk_client_set_kbdint_callback(struct amk_client *c, amk_client_kbdint_fn fn, void *user)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->kbdint_fn = fn;
    c->kbdint_user = user;
    return AMK_OK;
}

int
amk_client_set_algorithms(struct amk_client *c, enum amk_alg_kind kind, const char *spec)
{
    char *copy = NULL;
    int r;

    if ((r = configurable(c)) != AMK_OK)
        return r;
    if (kind < AMK_ALG_KEX || kind > AMK_ALG_COMPRESSION)
        return AMK_EINVAL;
    if (spec != NULL && (copy = strdup(spec)) == NULL)
        return AMK_ENOMEM;
    free(c->specs[kind]);
    c->specs[kind] = copy;
    return AMK_OK;
}

int
amk_client_set_compression(struct amk_client *c, int enable)
{
    int r;

    if ((r = configurable(c)) != AMK_OK)
        return r;
    c->compression = enable != 0;
    return AMK_OK;
}

int
amk_client_set_connect_timeout(struct amk_client *c, int timeout_ms)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->connect_timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
    return AMK_OK;
}

int
amk_client_set_timeout(struct amk_client *c, int timeout_ms)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
    return AMK_OK;
}

int
amk_client_set_keepalive(struct amk_client *c, unsigned interval_ms, unsigned count_max)
{
    int r;

    if ((r = configurable(c)) != AMK_OK)
        return r;
    c->keepalive_ms = interval_ms;
    c->keepalive_max = count_max;
    return AMK_OK;
}

int
amk_client_set_blocking(struct amk_client *c, int blocking)
{
    if (c == NULL)
        return AMK_EINVAL;
    c->blocking = blocking != 0;
    return AMK_OK;
}

int
amk_client_set_log(struct amk_client *c, amk_log_fn fn, void *user, enum amk_log_level level)
{
    int r;

    if ((r = configurable(c)) != AMK_OK)
        return r;
    c->log.fn = fn;
    c->log.user = user;
    c->log.level = (int)level;
    return AMK_OK;
}

/* --- Connecting --------------------------------------------------------- */

/* Creates the session from the settings and starts the TCP connect. */
static int
start_connect(struct amk_client *c, const char *host, uint16_t port, const char *user,
    const char *password)
{
    int r;

    if (c->policy == AMK_HOSTKEY_CALLBACK && c->hostkey_fn == NULL)
        return client_fail(c, AMK_EINVAL, "host key policy AMK_HOSTKEY_CALLBACK but no callback: "
            "call amk_client_set_hostkey_callback() before connecting");
    c->port = port != 0 ? port : 22;
    if ((c->host = strdup(host)) == NULL || (c->user = strdup(user)) == NULL ||
        (password != NULL && (c->password = strdup(password)) == NULL))
        return client_fail(c, AMK_ENOMEM, "out of memory");
    if (password != NULL && strlen(password) >= CLIENT_SECRET_MAX)
        return client_fail(c, AMK_EINVAL, "password longer than %d bytes", CLIENT_SECRET_MAX - 1);
    c->connect_deadline = amk_io_deadline(c->connect_timeout_ms);
    if ((r = amk_session_new(&c->s, AMK_SESSION_CLIENT)) != AMK_OK)
        return client_fail(c, r, "cannot create a session");
    if ((r = amk_session_set_blocking(c->s, 0)) != AMK_OK ||
        (r = amk_session_set_timeout(c->s, c->connect_timeout_ms)) != AMK_OK ||
        (r = amk_session_set_hostkey_callback(c->s, check_host_key, c)) != AMK_OK ||
        (r = amk_session_set_log(c->s, c->log.fn, c->log.user,
            (enum amk_log_level)c->log.level)) != AMK_OK)
        return client_fail(c, r, "%s", amk_session_last_error(c->s));
    for (int k = AMK_ALG_KEX; k <= AMK_ALG_COMPRESSION; k++) {
        const char *spec = c->specs[k];
        if (k == AMK_ALG_COMPRESSION && spec == NULL && c->compression)
            spec = COMPRESSION_SPEC;
        if (spec != NULL &&
            (r = amk_session_set_algorithms(c->s, (enum amk_alg_kind)k, spec)) != AMK_OK)
            return client_fail(c, r, "%s", amk_session_last_error(c->s));
    }
    if ((r = client_auth_prepare(c)) != AMK_OK)
        return r;
    amk_log(&c->log, AMK_LOG_INFO, "connecting to %s port %u as %s", c->host,
        (unsigned)c->port, c->user);
    c->state = CLIENT_HANDSHAKE;
    r = amk_session_connect(c->s, c->host, c->port);
    if (r != AMK_OK && r != AMK_EAGAIN)
        return fail_session(c, r);
    return AMK_OK;
}

/* One step of connecting: AMK_OK when connected, AMK_EAGAIN, or the error. */
static int
connect_step(struct amk_client *c)
{
    size_t n;
    int r, cut = 0;

    switch (c->state) {
    case CLIENT_HANDSHAKE:
        r = amk_session_handshake(c->s);
        if (r == AMK_EAGAIN) {
            c->dirs = amk_session_block_directions(c->s);
            return AMK_EAGAIN;
        }
        if (r != AMK_OK)
            return fail_session(c, r);
        if ((r = client_auth_start(c)) != AMK_OK)
            return r;
        c->state = CLIENT_AUTH;
        return AMK_EAGAIN;
    case CLIENT_AUTH:
        if ((r = receive_all(c, &n, 0, &cut)) != AMK_OK)
            return r;
        if (c->state == CLIENT_CONNECTED) {
            client_flush_quiet(c);
            return AMK_OK;
        }
        return AMK_EAGAIN;
    case CLIENT_CONNECTED:
        return AMK_OK;
    case CLIENT_FAILED:
        return c->failed;
    default:
        return amk_error_set(&c->err, AMK_ESTATE, "the client was closed");
    }
}

int
amk_client_connect(struct amk_client *c, const char *host, uint16_t port, const char *user,
    const char *password)
{
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if (c->state == CLIENT_FAILED)
        return c->failed;
    if (c->state == CLIENT_IDLE) {
        if (host == NULL || host[0] == '\0' || user == NULL || user[0] == '\0')
            return amk_error_set(&c->err, AMK_EINVAL, "host and user are required");
        if ((r = start_connect(c, host, port, user, password)) != AMK_OK)
            return r;
    }
    for (;;) {
        c->dirs = 0;
        r = connect_step(c);
        if (r != AMK_EAGAIN)
            return r;
        if (c->dirs == 0)
            continue;       /* progress without waiting: step again */
        if (c->connect_deadline != AMK_DEADLINE_NONE && amk_io_now_ms() >= c->connect_deadline)
            return client_fail(c, AMK_ETIMEOUT, "connecting to %s port %u timed out after %d ms",
                c->host, (unsigned)c->port, c->connect_timeout_ms);
        if (!c->blocking)
            return AMK_EAGAIN;
        r = client_wait(c, c->connect_deadline);
        if (r == AMK_ETIMEOUT)
            return client_fail(c, AMK_ETIMEOUT, "connecting to %s port %u timed out after %d ms",
                c->host, (unsigned)c->port, c->connect_timeout_ms);
        if (r != AMK_OK)
            return r;
    }
}

static int
cond_closed(struct amk_client *c, void *arg)
{
    int r;

    (void)arg;
    r = amk_session_disconnect(c->s, "closed by the client");
    if (r == AMK_EAGAIN) {
        c->dirs = amk_session_block_directions(c->s);
        return AMK_EAGAIN;
    }
    return r;
}

int
amk_client_close(struct amk_client *c)
{
    int64_t deadline;
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if (c->s == NULL || c->state == CLIENT_FAILED || c->state == CLIENT_CLOSED ||
        c->state == CLIENT_IDLE)
        return AMK_OK;
    if (c->state != CLIENT_CONNECTED && c->state != CLIENT_CLOSING &&
        c->state != CLIENT_AUTH)
        return AMK_OK;
    c->state = CLIENT_CLOSING;
    deadline = amk_io_deadline(c->timeout_ms >= 0 ? c->timeout_ms : AMK_SESSION_TIMEOUT_DEFAULT);
    for (;;) {
        r = cond_closed(c, NULL);
        if (r != AMK_EAGAIN)
            break;
        if (!c->blocking)
            return AMK_EAGAIN;
        if ((r = client_wait(c, deadline)) != AMK_OK)
            break;
    }
    c->state = CLIENT_CLOSED;
    amk_conn_free(c->conn);
    c->conn = NULL;
    amk_log(&c->log, AMK_LOG_INFO, "closed the connection to %s", c->host);
    return r == AMK_OK || amk_err_class(r) == AMK_ERRCLASS_CLOSED ? AMK_OK : r;
}

/* amk_client_process() taking about @p budget bytes of packets (0: all). */
static int
process_some(struct amk_client *c, size_t budget)
{
    int cut = 0;

    if (c->state != CLIENT_CONNECTED)
        return c->state == CLIENT_FAILED ? c->failed :
            amk_error_set(&c->err, AMK_ESTATE, "not connected");
    return client_pump_some(c, budget, &cut);
}

int
client_process_step(struct amk_client *c)
{
    return process_some(c, CLIENT_RECV_STEP);
}

int
amk_client_process(struct amk_client *c)
{
    if (c == NULL)
        return AMK_EINVAL;
    return process_some(c, 0);
}

int
amk_client_block_directions(const struct amk_client *c)
{
    return c != NULL ? c->dirs : 0;
}

int
amk_client_get_fd(const struct amk_client *c)
{
    return c != NULL && c->s != NULL ? amk_session_get_fd(c->s) : -1;
}

int
amk_client_next_timeout(struct amk_client *c)
{
    int64_t wake, now;
    int64_t deadline = AMK_DEADLINE_NONE;

    if (c == NULL || c->s == NULL)
        return -1;
    /* A call on one channel may have taken in another's data, its end or
     * its exit: none of that makes the descriptor readable again, so the
     * caller must pass over its channels once more before it waits. */
    if (c->took_input) {
        c->took_input = 0;
        return 0;
    }
    if (c->state == CLIENT_HANDSHAKE || c->state == CLIENT_AUTH)
        deadline = c->connect_deadline;
    wake = wake_time(c, deadline);
    if (wake == AMK_DEADLINE_NONE)
        return -1;
    now = amk_io_now_ms();
    return wake <= now ? 0 : wake - now > INT32_MAX ? INT32_MAX : (int)(wake - now);
}

const char *
amk_client_last_error(const struct amk_client *c)
{
    return c != NULL ? amk_error_msg(&c->err) : "";
}

struct amk_session *
amk_client_session(struct amk_client *c)
{
    return c != NULL ? c->s : NULL;
}
