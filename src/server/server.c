/*
 * see amiko/server.h: the server object, its configuration and listeners.
 * The loop is server_loop.c, one connection server_conn.c.
 */
#include "server/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/userauth_server.h"
#include "crypto/rand.h"
#include "keys/key.h"
#include "transport/transport.h"

/* Defaults: sshd's (sshd_config(5)). */
#define DEF_GRACE_MS 120000
#define DEF_AUTH_TRIES 6
#define DEF_START 10
#define DEF_RATE 30
#define DEF_FULL 100
#define DEF_SESSIONS 10
#define DEF_ALIVE_MAX 3
#define DEF_CONNS 4096
#define MAX_CONNS 1000000
#define LISTEN_BACKLOG 128

uint64_t
amk_srv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct amk_logger
amk_srv_engine_log(const struct amk_server *s)
{
    struct amk_logger lg = s->log;

    /* their failures reach the log as the connection's close reason */
    if (lg.level < AMK_LOG_DEBUG)
        lg.fn = NULL;
    return lg;
}

int
amk_server_new(struct amk_server **out)
{
    struct amk_server *s = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((r = amk_init()) != AMK_OK)
        return r;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return AMK_ENOMEM;
    s->epfd = s->wakefd = s->sftp_root_fd = -1;
    amk_logger_init(&s->log);
    amk_srv_sftp_budget_init(s);
    s->lim_grace_ms = DEF_GRACE_MS;
    s->lim_auth_tries = DEF_AUTH_TRIES;
    s->lim_start = DEF_START;
    s->lim_rate = DEF_RATE;
    s->lim_full = DEF_FULL;
    s->lim_sessions = DEF_SESSIONS;
    s->lim_alive_max = DEF_ALIVE_MAX;
    s->lim_conns = DEF_CONNS;
    s->next_timer = UINT64_MAX;
    s->next_conn_id = 1;
    if ((s->rbuf = malloc(SRV_READ_CHUNK)) == NULL) {
        r = AMK_ENOMEM;
        goto fail;
    }
    if (amk_random_bytes(NULL, s->delay_key, sizeof(s->delay_key)) != AMK_OK
        || amk_random_bytes(NULL, &s->rng_state, sizeof(s->rng_state)) != AMK_OK) {
        r = AMK_ECRYPTO;
        goto fail;
    }
    s->rng_state |= 1;
    if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0
        || (s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0
        || amk_srv_epoll_set(s, EPOLL_CTL_ADD, s->wakefd, EPOLLIN,
            amk_srv_ev_data(SRV_EV_WAKE, 0, 0)) != AMK_OK) {
        r = AMK_EIO;
        goto fail;
    }
    *out = s;
    return AMK_OK;
fail:
    amk_server_free(s);
    return r;
}

static void
free_strv(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

void
amk_server_free(struct amk_server *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_slots; i++) {
        if (s->slots[i] != NULL)
            amk_srv_conn_free(s->slots[i]);
    }
    free(s->slots);
    /* their processes, and those of sessions closed before, end here */
    amk_srv_reap_all(s);
    for (size_t i = 0; i < s->n_listen; i++)
        close(s->listen_fd[i]);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    for (size_t i = 0; i < SRV_N_SPECS; i++)
        free(s->specs[i]);
    free(s->ak_user);
    free(s->ak_path);
    free(s->auth_methods);
    free(s->shell);
    if (s->sftp_root_fd >= 0)
        close(s->sftp_root_fd);
    free_strv(s->env_allow);
    free(s->rbuf);
    memset(s->delay_key, 0, sizeof(s->delay_key));
    free(s);
}

const char *
amk_server_last_error(const struct amk_server *s)
{
    return s == NULL ? "" : amk_error_msg(&s->err);
}

int
amk_server_listen(struct amk_server *s, const char *address, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *a = address != NULL ? address : "127.0.0.1";
    int fd = -1, one = 1, fam;

    if (s == NULL)
        return AMK_EINVAL;
    if (s->n_listen >= SRV_MAX_LISTENERS)
        return amk_error_set(&s->err, AMK_EINVAL, "more than %d listeners", SRV_MAX_LISTENERS);
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, a, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        len = sizeof(*sin6);
    } else {
        return amk_error_set(&s->err, AMK_EINVAL, "not a numeric address: %s", a);
    }
    fam = ss.ss_family;
    if ((fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return amk_error_set(&s->err, AMK_EIO, "socket: %s", strerror(errno));
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fam == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        close(fd);
        return amk_error_set(&s->err, AMK_EIO, "bind %s port %u: %s", a, (unsigned)port,
            strerror(e));
    }
    if (listen(fd, LISTEN_BACKLOG) != 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        int e = errno;
        close(fd);
        return amk_error_set(&s->err, AMK_EIO, "listen %s: %s", a, strerror(e));
    }
    if (amk_srv_epoll_set(s, EPOLL_CTL_ADD, fd, EPOLLIN,
            amk_srv_ev_data(SRV_EV_LISTEN, (uint32_t)s->n_listen, 0)) != AMK_OK) {
        close(fd);
        return amk_error_set(&s->err, AMK_EIO, "epoll: %s", strerror(errno));
    }
    s->listen_fd[s->n_listen] = fd;
    s->listen_port[s->n_listen] = fam == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
        : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    snprintf(s->listen_addr[s->n_listen], sizeof(s->listen_addr[0]), "%s", a);
    amk_log(&s->log, AMK_LOG_DEBUG, "listening on %s%s%s:%u", fam == AF_INET6 ? "[" : "", a,
        fam == AF_INET6 ? "]" : "", (unsigned)s->listen_port[s->n_listen]);
    s->n_listen++;
    return AMK_OK;
}

uint16_t
amk_server_port(const struct amk_server *s, size_t i)
{
    return s == NULL || i >= s->n_listen ? 0 : s->listen_port[i];
}

int
amk_server_add_host_key(struct amk_server *s, struct amk_key *key)
{
    if (s == NULL || key == NULL || !amk_key_has_private(key))
        return AMK_EINVAL;
    if (s->n_host_keys >= SRV_MAX_HOST_KEYS)
        return amk_error_set(&s->err, AMK_EINVAL, "too many host keys");
    for (size_t i = 0; i < s->n_host_keys; i++) {
        if (strcmp(amk_key_type_name(s->host_keys[i]), amk_key_type_name(key)) == 0)
            return amk_error_set(&s->err, AMK_EINVAL, "a second %s host key",
                amk_key_type_name(key));
    }
    s->host_keys[s->n_host_keys++] = key;
    return AMK_OK;
}

static int
set_str(char **dst, const char *src)
{
    char *copy = NULL;

    if (src != NULL && (copy = strdup(src)) == NULL)
        return AMK_ENOMEM;
    free(*dst);
    *dst = copy;
    return AMK_OK;
}

/*
 * Checks a spec by making a (client-role) transport engine with it: the
 * names it knows are the same in both roles. Cheap: nothing is generated
 * before the first input.
 */
static int
check_spec(struct amk_server *s, enum amk_alg_kind kind, const char *spec)
{
    struct amk_transport_config cfg;
    struct amk_transport *t = NULL;
    int r;

    memset(&cfg, 0, sizeof(cfg));
    cfg.role = AMK_TRANSPORT_CLIENT;
    switch (kind) {
    case AMK_ALG_KEX: cfg.kex_algs = spec; break;
    case AMK_ALG_HOSTKEY: cfg.hostkey_algs = spec; break;
    case AMK_ALG_CIPHER: cfg.ciphers = spec; break;
    case AMK_ALG_MAC: cfg.macs = spec; break;
    case AMK_ALG_COMPRESSION: cfg.compression = spec; break;
    }
    r = amk_transport_new(&t, &cfg);
    amk_transport_free(t);
    if (r != AMK_OK)
        return amk_error_set(&s->err, r, "bad algorithm list \"%s\": %s", spec, amk_strerror(r));
    return AMK_OK;
}

int
amk_server_set_algorithms(struct amk_server *s, enum amk_alg_kind kind, const char *spec)
{
    int r;

    if (s == NULL || (int)kind < AMK_ALG_KEX || (int)kind > AMK_ALG_COMPRESSION)
        return AMK_EINVAL;
    if (spec != NULL && (r = check_spec(s, kind, spec)) != AMK_OK)
        return r;
    return set_str(&s->specs[kind], spec);
}

int
amk_server_set_limit(struct amk_server *s, enum amk_server_limit which, uint64_t v)
{
    if (s == NULL)
        return AMK_EINVAL;
    switch (which) {
    case AMK_SERVER_LOGIN_GRACE_MS: s->lim_grace_ms = v; break;
    case AMK_SERVER_MAX_AUTH_TRIES:
        if (v < 1 || v > 1000)
            return AMK_EINVAL;
        s->lim_auth_tries = (unsigned)v;
        break;
    case AMK_SERVER_MAX_STARTUPS_START:
        if (v < 1 || v > MAX_CONNS)
            return AMK_EINVAL;
        s->lim_start = (unsigned)v;
        break;
    case AMK_SERVER_MAX_STARTUPS_RATE:
        if (v > 100)
            return AMK_EINVAL;
        s->lim_rate = (unsigned)v;
        break;
    case AMK_SERVER_MAX_STARTUPS_FULL:
        if (v < 1 || v > MAX_CONNS)
            return AMK_EINVAL;
        s->lim_full = (unsigned)v;
        break;
    case AMK_SERVER_MAX_SESSIONS:
        if (v > SRV_SESSIONS_MAX)
            return AMK_EINVAL;
        s->lim_sessions = (unsigned)v;
        break;
    case AMK_SERVER_IDLE_TIMEOUT_MS: s->lim_idle_ms = v; break;
    case AMK_SERVER_CLIENT_ALIVE_INTERVAL_MS: s->lim_alive_ms = v; break;
    case AMK_SERVER_CLIENT_ALIVE_COUNT_MAX:
        if (v < 1 || v > 1000)
            return AMK_EINVAL;
        s->lim_alive_max = (unsigned)v;
        break;
    case AMK_SERVER_WINDOW_SIZE:
        if (v < AMK_CONN_WINDOW_MIN || v > ((uint64_t)1 << 30))
            return AMK_EINVAL;
        s->lim_window = (uint32_t)v;
        break;
    case AMK_SERVER_MAX_PACKET:
        if (v < AMK_CONN_MAXPACKET_MIN || v > AMK_CONN_MAXPACKET_MAX)
            return AMK_EINVAL;
        s->lim_maxpacket = (uint32_t)v;
        break;
    case AMK_SERVER_MAX_CONNECTIONS:
        if (v < 1 || v > MAX_CONNS)
            return AMK_EINVAL;
        s->lim_conns = (size_t)v;
        break;
    case AMK_SERVER_AUTH_FAILURE_DELAY_MS:
        if (v > 60000)
            return AMK_EINVAL;
        s->lim_fail_delay_ms = v;
        break;
    default:
        return AMK_EINVAL;
    }
    return AMK_OK;
}

uint64_t
amk_server_get_limit(const struct amk_server *s, enum amk_server_limit which)
{
    if (s == NULL)
        return 0;
    switch (which) {
    case AMK_SERVER_LOGIN_GRACE_MS: return s->lim_grace_ms;
    case AMK_SERVER_MAX_AUTH_TRIES: return s->lim_auth_tries;
    case AMK_SERVER_MAX_STARTUPS_START: return s->lim_start;
    case AMK_SERVER_MAX_STARTUPS_RATE: return s->lim_rate;
    case AMK_SERVER_MAX_STARTUPS_FULL: return s->lim_full;
    case AMK_SERVER_MAX_SESSIONS: return s->lim_sessions;
    case AMK_SERVER_IDLE_TIMEOUT_MS: return s->lim_idle_ms;
    case AMK_SERVER_CLIENT_ALIVE_INTERVAL_MS: return s->lim_alive_ms;
    case AMK_SERVER_CLIENT_ALIVE_COUNT_MAX: return s->lim_alive_max;
    case AMK_SERVER_WINDOW_SIZE: return s->lim_window ? s->lim_window : SRV_WINDOW_DEFAULT;
    case AMK_SERVER_MAX_PACKET:
        return s->lim_maxpacket ? s->lim_maxpacket : AMK_CONN_MAXPACKET_DEFAULT;
    case AMK_SERVER_MAX_CONNECTIONS: return s->lim_conns;
    case AMK_SERVER_AUTH_FAILURE_DELAY_MS: return s->lim_fail_delay_ms;
    default: return 0;
    }
}

int
amk_server_set_log(struct amk_server *s, amk_log_fn fn, void *user, enum amk_log_level level)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->log.fn = fn;
    s->log.user = user;
    s->log.level = (int)level;
    return AMK_OK;
}

int
amk_server_set_password_callback(struct amk_server *s, amk_server_password_fn fn, void *user)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->password_cb = fn;
    s->password_user = user;
    return AMK_OK;
}

int
amk_server_set_publickey_callback(struct amk_server *s, amk_server_publickey_fn fn, void *user)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->publickey_cb = fn;
    s->publickey_user = user;
    return AMK_OK;
}

int
amk_server_set_kbdint_callback(struct amk_server *s, amk_server_kbdint_fn fn, void *user)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->kbdint_cb = fn;
    s->kbdint_user = user;
    return AMK_OK;
}

int
amk_server_set_authorized_keys(struct amk_server *s, const char *username, const char *path)
{
    int r;

    if (s == NULL)
        return AMK_EINVAL;
    if ((r = set_str(&s->ak_path, path)) != AMK_OK)
        return r;
    return set_str(&s->ak_user, path != NULL ? username : NULL);
}

int
amk_server_set_auth_methods(struct amk_server *s, const char *methods)
{
    if (s == NULL)
        return AMK_EINVAL;
    return set_str(&s->auth_methods, methods);
}

int
amk_server_password_equal(const char *given, const char *expected)
{
    return amk_auth_password_equal(given, expected);
}

int
amk_server_set_exec(struct amk_server *s, int enable)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->exec_enabled = enable != 0;
    return AMK_OK;
}

int
amk_server_set_shell(struct amk_server *s, const char *shell)
{
    if (s == NULL || (shell != NULL && shell[0] != '/'))
        return AMK_EINVAL;
    return set_str(&s->shell, shell);
}

int
amk_server_set_env_allow(struct amk_server *s, const char *patterns)
{
    char **v = NULL, *copy = NULL, *save = NULL, *tok;
    size_t n = 0;

    if (s == NULL)
        return AMK_EINVAL;
    if (patterns == NULL) {
        free_strv(s->env_allow);
        s->env_allow = NULL;
        return AMK_OK;
    }
    if ((copy = strdup(patterns)) == NULL || (v = calloc(strlen(patterns) + 2, sizeof(*v))) == NULL)
        goto nomem;
    for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if ((v[n] = strdup(tok)) == NULL)
            goto nomem;
        n++;
    }
    free(copy);
    free_strv(s->env_allow);
    s->env_allow = v;
    return AMK_OK;
nomem:
    free(copy);
    free_strv(v);
    return AMK_ENOMEM;
}

int
amk_server_set_sftp(struct amk_server *s, int enable, const char *root, int read_only)
{
    int fd = -1;

    if (s == NULL)
        return AMK_EINVAL;
    /* Opened now, once: every session is confined to this directory, even
     * if its path is later renamed or swapped for a symlink. */
    if (root != NULL && (fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return amk_error_set(&s->err, AMK_EINVAL, "SFTP root %s is not a directory: %s", root,
            strerror(errno));
    if (s->sftp_root_fd >= 0)
        close(s->sftp_root_fd);
    s->sftp_root_fd = fd;
    s->sftp_enabled = enable != 0;
    s->sftp_read_only = read_only != 0;
    return AMK_OK;
}

int
amk_server_set_sftp_only(struct amk_server *s, int sftp_only)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->sftp_only = sftp_only != 0;
    return AMK_OK;
}

int
amk_server_set_session_callback(struct amk_server *s, amk_server_session_fn fn, void *user)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->session_cb = fn;
    s->session_user = user;
    return AMK_OK;
}

int
amk_server_set_channel_callbacks(struct amk_server *s, amk_server_data_fn data,
    amk_server_close_fn closed, void *user)
{
    if (s == NULL)
        return AMK_EINVAL;
    s->data_cb = data;
    s->close_cb = closed;
    s->chan_user = user;
    return AMK_OK;
}

const char *
amk_server_conn_peer_address(const struct amk_server_conn *c)
{
    return c == NULL ? "" : ((const struct srv_conn *)(const void *)c)->peer_ip;
}

uint16_t
amk_server_conn_peer_port(const struct amk_server_conn *c)
{
    return c == NULL ? 0 : ((const struct srv_conn *)(const void *)c)->peer_port;
}

const char *
amk_server_conn_user(const struct amk_server_conn *c)
{
    const struct srv_conn *sc = (const struct srv_conn *)(const void *)c;

    return c == NULL || !sc->authed ? NULL : sc->user;
}

uint64_t
amk_server_conn_id(const struct amk_server_conn *c)
{
    return c == NULL ? 0 : ((const struct srv_conn *)(const void *)c)->id;
}

size_t
amk_server_connections(const struct amk_server *s, size_t *unauthenticated)
{
    if (unauthenticated != NULL)
        *unauthenticated = s == NULL ? 0 : s->n_unauth;
    return s == NULL ? 0 : s->n_conns;
}
