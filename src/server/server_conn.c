/*
 * One connection of the server (see server_int.h): its socket, its
 * transport engine, user authentication until it succeeds, then the
 * connection engine and its channels. A turn does a bounded amount of
 * work: one read of at most SRV_READ_CHUNK bytes, at most
 * SRV_PACKETS_PER_TURN packets, at most SRV_WRITE_PER_TURN bytes written;
 * what is left waits for the next turn (the connection stays on the
 * ready list).
 */
#include "server/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/userauth_server.h"
#include "channel/conn.h"
#include "io/capture.h"
#include "server/session_chan.h"
#include "transport/transport.h"

/* How long a closing connection may take to flush its DISCONNECT. */
#define CLOSE_FLUSH_MS 2000

static void
addr_of(const struct sockaddr_storage *ss, char *ip, size_t cap, uint16_t *port)
{
    snprintf(ip, cap, "?");
    *port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t)cap);
        *port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)cap);
        *port = ntohs(a->sin6_port);
    }
}

static int
take_slot(struct amk_server *s, struct srv_conn *c)
{
    size_t i;

    for (i = 0; i < s->n_slots; i++) {
        if (s->slots[i] == NULL)
            break;
    }
    if (i == s->n_slots) {
        size_t n = s->n_slots == 0 ? 64 : s->n_slots * 2;
        struct srv_conn **v;
        if (n > 0xffffffu || (v = realloc(s->slots, n * sizeof(*v))) == NULL)
            return AMK_ENOMEM;
        memset(v + s->n_slots, 0, (n - s->n_slots) * sizeof(*v));
        s->slots = v;
        s->n_slots = n;
    }
    s->slots[i] = c;
    c->slot = (uint32_t)i;
    c->gen = ++s->next_gen;
    return AMK_OK;
}

int
amk_srv_conn_new(struct amk_server *s, int fd, struct srv_conn **out)
{
    struct amk_transport_config cfg;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    struct srv_conn *c = NULL;
    uint64_t now = amk_srv_now_ms();
    int r;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return amk_error_set(&s->err, AMK_ENOMEM, NULL);
    c->srv = s;
    c->fd = fd;
    c->id = s->next_conn_id++;
    c->accepted_ms = c->last_input_ms = now;
    c->deadline = UINT64_MAX;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        addr_of(&ss, c->peer_ip, sizeof(c->peer_ip), &c->peer_port);
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        addr_of(&ss, c->local_ip, sizeof(c->local_ip), &c->local_port);
    memset(&cfg, 0, sizeof(cfg));
    cfg.role = AMK_TRANSPORT_SERVER;
    cfg.kex_algs = s->specs[AMK_ALG_KEX];
    cfg.hostkey_algs = s->specs[AMK_ALG_HOSTKEY];
    cfg.ciphers = s->specs[AMK_ALG_CIPHER];
    cfg.macs = s->specs[AMK_ALG_MAC];
    cfg.compression = s->specs[AMK_ALG_COMPRESSION];
    cfg.host_keys = s->host_keys;
    cfg.n_host_keys = s->n_host_keys;
    cfg.log = amk_srv_engine_log(s);
    if ((r = amk_transport_new(&c->t, &cfg)) != AMK_OK) {
        amk_error_set(&s->err, r, "cannot start the transport: %s", amk_strerror(r));
        free(c);
        return r;
    }
    if ((r = take_slot(s, c)) != AMK_OK) {
        amk_transport_free(c->t);
        free(c);
        return amk_error_set(&s->err, r, NULL);
    }
    if ((r = amk_transport_tick(c->t, now)) != AMK_OK || (r = amk_srv_auth_new(c)) != AMK_OK) {
        s->slots[c->slot] = NULL;
        amk_userauth_server_free(c->ua);
        amk_transport_free(c->t);
        free(c);
        return amk_error_set(&s->err, r, "cannot start authentication: %s", amk_strerror(r));
    }
    c->ev_registered = EPOLLIN | EPOLLOUT;
    if (amk_srv_epoll_set(s, EPOLL_CTL_ADD, fd, c->ev_registered,
            amk_srv_ev_data(SRV_EV_CONN, c->slot, c->gen)) != AMK_OK) {
        s->slots[c->slot] = NULL;
        amk_userauth_server_free(c->ua);
        amk_transport_free(c->t);
        free(c);
        return amk_error_set(&s->err, AMK_EIO, "epoll: %s", strerror(errno));
    }
    s->n_conns++;
    s->n_unauth++;
    amk_log(&s->log, AMK_LOG_INFO, "conn#%llu open from %s port %u",
        (unsigned long long)c->id, c->peer_ip, (unsigned)c->peer_port);
    if (s->lim_grace_ms > 0)
        c->deadline = now + s->lim_grace_ms;
    if (s->lim_idle_ms > 0 && now + s->lim_idle_ms < c->deadline)
        c->deadline = now + s->lim_idle_ms;
    amk_srv_note_deadline(s, c->deadline);
    amk_srv_mark_ready(c);
    *out = c;
    return AMK_OK;
}

void
amk_srv_conn_free(struct srv_conn *c)
{
    struct amk_server *s;

    if (c == NULL)
        return;
    s = c->srv;
    amk_log(&s->log, AMK_LOG_INFO, "conn#%llu closed: %s", (unsigned long long)c->id,
        c->reason[0] != '\0' ? c->reason : "done");
    (void)amk_srv_epoll_set(s, EPOLL_CTL_DEL, c->fd, 0, 0);
    for (size_t i = 0; i < c->n_child_fds; i++)
        (void)amk_srv_epoll_set(s, EPOLL_CTL_DEL, c->child_fds[i], 0, 0);
    free(c->child_fds);
    amk_srv_chans_free(c);
    amk_conn_free(c->conn);
    amk_userauth_server_free(c->ua);
    amk_transport_free(c->t);
    close(c->fd);
    if (s->slots != NULL && c->slot < s->n_slots && s->slots[c->slot] == c)
        s->slots[c->slot] = NULL;
    /* unlink from the ready list */
    if (c->in_ready) {
        struct srv_conn **pp = &s->ready_head;
        while (*pp != NULL && *pp != c)
            pp = &(*pp)->ready_next;
        if (*pp == c)
            *pp = c->ready_next;
    }
    s->n_conns--;
    if (!c->authed)
        s->n_unauth--;
    free(c->user);
    free(c->forced_command);
    for (size_t i = 0; c->key_env != NULL && c->key_env[i] != NULL; i++)
        free(c->key_env[i]);
    free(c->key_env);
    free(c);
}

void
amk_srv_conn_forget_fd(struct srv_conn *c, int fd)
{
    for (size_t i = 0; fd >= 0 && i < c->n_child_fds; i++) {
        if (c->child_fds[i] == fd) {
            (void)amk_srv_epoll_set(c->srv, EPOLL_CTL_DEL, fd, 0, 0);
            c->child_fds[i] = c->child_fds[--c->n_child_fds];
            return;
        }
    }
}

void
amk_srv_conn_close(struct srv_conn *c, int reason, const char *why)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->closing_deadline = amk_srv_now_ms() + CLOSE_FLUSH_MS;
    if (c->reason[0] == '\0')
        snprintf(c->reason, sizeof(c->reason), "%s", why);
    if (reason != 0 && amk_transport_error(c->t) == AMK_OK)
        (void)!amk_transport_disconnect(c->t, (enum amk_disconnect_reason)reason, why);
    /* children go at once; only the DISCONNECT is still to be sent. Their
     * registrations go first, while the descriptors are still ours: a
     * number freed now may belong to a new connection by the next sync. */
    for (size_t i = 0; i < c->n_child_fds; i++)
        (void)amk_srv_epoll_set(c->srv, EPOLL_CTL_DEL, c->child_fds[i], 0, 0);
    free(c->child_fds);
    c->child_fds = NULL;
    c->n_child_fds = 0;
    amk_srv_chans_free(c);
    c->deadline = c->closing_deadline;
    amk_srv_note_deadline(c->srv, c->deadline);
    amk_srv_mark_ready(c);
}

/* The engine failed by itself: it queued a DISCONNECT when it should. */
static void
close_failed(struct srv_conn *c, int r, const char *what)
{
    char why[160];

    if (r == AMK_EDISCONNECT)
        snprintf(why, sizeof(why), "disconnected by the client: %s",
            amk_transport_disconnect_message(c->t));
    else
        snprintf(why, sizeof(why), "%s: %s", what, amk_transport_last_error(c->t)[0] != '\0' ?
            amk_transport_last_error(c->t) : amk_strerror(r));
    amk_srv_conn_close(c, 0, why);
}

int
amk_srv_conn_send(void *user, const uint8_t *payload, size_t len)
{
    struct srv_conn *c = user;

    return amk_transport_send(c->t, payload, len);
}

/* Hands one received payload to the layer it belongs to. */
static void
dispatch(struct srv_conn *c, const uint8_t *p, size_t len)
{
    uint8_t msg = p[0];
    int r;

    if (!c->authed) {
        if (msg == AMK_MSG_SERVICE_REQUEST || (msg >= 50 && msg <= 79)) {
            int was_held = amk_userauth_server_held(c->ua);
            r = amk_userauth_server_handle(c->ua, p, len);
            if (r != AMK_OK && amk_err_is_fatal(r)) {
                char why[160];
                snprintf(why, sizeof(why), "authentication failed: %s",
                    amk_userauth_server_last_error(c->ua));
                amk_srv_conn_close(c, amk_userauth_server_disconnect_reason(c->ua), why);
                return;
            }
            if (amk_userauth_server_held(c->ua) && !was_held) {
                c->auth_held_since = amk_srv_now_ms();
                c->deadline = c->auth_held_since + amk_userauth_server_delay_ms(c->ua);
                amk_srv_note_deadline(c->srv, c->deadline);
            }
            if (amk_userauth_server_done(c->ua))
                amk_srv_auth_done(c);
            return;
        }
        amk_srv_conn_close(c, AMK_DISCONNECT_PROTOCOL_ERROR,
            "message before authentication completed");
        return;
    }
    if (msg >= AMK_MSG_CONN_FIRST && msg <= AMK_MSG_CONN_LAST) {
        if (msg == AMK_MSG_GLOBAL_REQUEST) {
            r = amk_srv_hostkeys_maybe_prove(c, p, len);
            if (r < 0) {
                amk_srv_conn_close(c, AMK_DISCONNECT_PROTOCOL_ERROR, "bad hostkeys-prove request");
                return;
            }
            if (r == 1)
                return;
        }
        r = amk_conn_handle(c->conn, p, len);
        if (r != AMK_OK && r != AMK_ENOTSUP && amk_conn_error(c->conn) != AMK_OK) {
            char why[160];
            snprintf(why, sizeof(why), "connection protocol: %s", amk_conn_last_error(c->conn));
            amk_srv_conn_close(c, AMK_DISCONNECT_PROTOCOL_ERROR, why);
            return;
        }
        if (amk_srv_chans_adopt(c) != AMK_OK)
            amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
    }
    /* 50..79 after success are ignored (RFC 4252 §5.1) */
}

/* Reads one chunk; 0 on progress or nothing, -1 when the connection ended. */
static int
read_some(struct srv_conn *c, uint64_t now)
{
    ssize_t n;
    int r;

    if (!amk_transport_wants_read(c->t))
        return 0;
    n = recv(c->fd, c->srv->rbuf, SRV_READ_CHUNK, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        snprintf(c->reason, sizeof(c->reason), "read: %s", strerror(errno));
        c->peer_gone = 1;
        amk_srv_conn_close(c, 0, c->reason);
        return -1;
    }
    if (n == 0) {
        c->peer_gone = 1;
        (void)amk_transport_feed_eof(c->t);
        amk_srv_conn_close(c, 0, c->authed ? "closed by the client" :
            "closed by the client before authenticating");
        return -1;
    }
    c->last_input_ms = now;
    if (n == (ssize_t)SRV_READ_CHUNK)
        c->more = 1;    /* maybe more waiting: level-triggered epoll would say so too */
    r = amk_transport_feed(c->t, c->srv->rbuf, (size_t)n, now);
    if (r != AMK_OK) {
        close_failed(c, r, "transport");
        return -1;
    }
    return 0;
}

/* Writes engine output, at most SRV_WRITE_PER_TURN bytes. */
static int
write_some(struct srv_conn *c)
{
    size_t done = 0;

    while (done < SRV_WRITE_PER_TURN) {
        const uint8_t *p;
        size_t len;
        ssize_t n;

        amk_transport_output(c->t, &p, &len);
        if (len == 0)
            return 0;
        n = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            if (!c->closing)
                snprintf(c->reason, sizeof(c->reason), "write: %s", strerror(errno));
            return -1;
        }
        if (amk_transport_output_consume(c->t, (size_t)n) != AMK_OK)
            return -1;
        done += (size_t)n;
    }
    if (amk_transport_wants_write(c->t))
        c->more = 1;
    return 0;
}

/* Keeps the epoll registration of the socket and the children in step. */
static void
sync_epoll(struct srv_conn *c)
{
    struct amk_server *s = c->srv;
    struct pollfd now[SRV_CHAN_FDS_MAX];
    size_t n = 0;
    uint32_t ev = c->lingering ? EPOLLIN :
        (c->closing ? 0 : (amk_transport_wants_read(c->t) ? EPOLLIN : 0)) |
        (amk_transport_wants_write(c->t) ? EPOLLOUT : 0);

    if (ev != c->ev_registered) {
        (void)amk_srv_epoll_set(s, EPOLL_CTL_MOD, c->fd, ev,
            amk_srv_ev_data(SRV_EV_CONN, c->slot, c->gen));
        c->ev_registered = ev;
    }
    if (c->conn != NULL && !c->closing)
        n = amk_srv_chans_pollfds(c, now, SRV_CHAN_FDS_MAX);
    /* drop registrations no longer wanted (a closed descriptor left by itself) */
    for (size_t i = 0; i < c->n_child_fds; i++) {
        int keep = 0;
        for (size_t j = 0; j < n && !keep; j++)
            keep = now[j].fd == c->child_fds[i];
        if (!keep)
            (void)amk_srv_epoll_set(s, EPOLL_CTL_DEL, c->child_fds[i], 0, 0);
    }
    for (size_t j = 0; j < n; j++) {
        uint32_t want = ((now[j].events & POLLIN) ? EPOLLIN : 0) |
            ((now[j].events & POLLOUT) ? EPOLLOUT : 0);
        uint64_t data = amk_srv_ev_data(SRV_EV_CHILD, c->slot, c->gen);
        int found = 0;
        for (size_t i = 0; i < c->n_child_fds && !found; i++)
            found = c->child_fds[i] == now[j].fd;
        if (!found || amk_srv_epoll_set(s, EPOLL_CTL_MOD, now[j].fd, want, data) != AMK_OK) {
            if (amk_srv_epoll_set(s, EPOLL_CTL_ADD, now[j].fd, want, data) != AMK_OK)
                (void)amk_srv_epoll_set(s, EPOLL_CTL_MOD, now[j].fd, want, data);
        }
    }
    /* remember them; an idle connection keeps no array */
    if (n == 0) {
        free(c->child_fds);
        c->child_fds = NULL;
    } else if (n > c->n_child_fds) {
        int *v = realloc(c->child_fds, n * sizeof(*v));
        if (v == NULL) {
            /* forget nothing registered: keep the old list, retry next turn */
            return;
        }
        c->child_fds = v;
    }
    for (size_t j = 0; j < n; j++)
        c->child_fds[j] = now[j].fd;
    c->n_child_fds = n;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The connection's earliest timer. */
static void
compute_deadline(struct srv_conn *c)
{
    struct amk_server *s = c->srv;
    uint64_t d = amk_transport_next_deadline(c->t);

    if (c->closing) {
        d = c->closing_deadline;
    } else {
        if (!c->authed && s->lim_grace_ms > 0)
            d = min_u64(d, c->accepted_ms + s->lim_grace_ms);
        if (s->lim_idle_ms > 0)
            d = min_u64(d, c->last_input_ms + s->lim_idle_ms);
        if (c->ua != NULL && amk_userauth_server_held(c->ua))
            d = min_u64(d, c->auth_held_since + amk_userauth_server_delay_ms(c->ua));
        if (c->conn != NULL)
            d = min_u64(d, amk_conn_next_deadline(c->conn));
        if (c->conn != NULL && amk_srv_chans_poll_children(c))
            d = min_u64(d, amk_srv_now_ms() + AMK_SRV_CHILD_POLL_MS);
    }
    c->deadline = d;
    amk_srv_note_deadline(s, d);
}

void
amk_srv_conn_timers(struct srv_conn *c, uint64_t now)
{
    struct amk_server *s = c->srv;
    int r;

    if (c->closing) {
        amk_srv_mark_ready(c);
        return;
    }
    if (!c->authed && s->lim_grace_ms > 0 && now >= c->accepted_ms + s->lim_grace_ms) {
        amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "login grace time exceeded");
        return;
    }
    if (s->lim_idle_ms > 0 && now >= c->last_input_ms + s->lim_idle_ms) {
        amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "idle timeout");
        return;
    }
    if (c->ua != NULL && amk_userauth_server_held(c->ua) &&
        now >= c->auth_held_since + amk_userauth_server_delay_ms(c->ua)) {
        if (amk_userauth_server_release(c->ua) != AMK_OK) {
            amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "authentication reply failed");
            return;
        }
    }
    if ((r = amk_transport_tick(c->t, now)) != AMK_OK) {
        close_failed(c, r, "transport");
        return;
    }
    if (c->conn != NULL && (r = amk_conn_tick(c->conn, now)) != AMK_OK) {
        amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION,
            r == AMK_ETIMEOUT ? "client-alive probes unanswered" : "connection engine failed");
        return;
    }
    compute_deadline(c);
    amk_srv_mark_ready(c);
}


/* Reads and drops what the peer still sends, a few chunks a turn: 1 when
 * it closed (or the socket failed), 0 when nothing more is there now. */
static int
drain_input(struct srv_conn *c)
{
    for (int i = 0; i < 4; i++) {
        ssize_t n = recv(c->fd, c->srv->rbuf, SRV_READ_CHUNK, MSG_DONTWAIT);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : 1;
    }
    c->more = 1;
    return 0;
}

/*
 * The DISCONNECT is out (or cannot go): the connection ends. Closing a
 * socket with input still unread makes the kernel send a RST, and a peer
 * busy writing (OpenSSH's ssh sending a file: "send disconnect: Broken
 * pipe") then fails on its write and never reads our DISCONNECT. So,
 * unless the peer is gone already, our side is shut down first and what
 * it still sends is read and dropped until it closes, within the closing
 * deadline (CLOSE_FLUSH_MS in all), the lingering close of HTTP servers.
 */
static void
finish_closing(struct srv_conn *c, int write_failed, uint64_t now)
{
    if (!c->lingering) {
        if (write_failed || c->peer_gone || now >= c->closing_deadline ||
            shutdown(c->fd, SHUT_WR) != 0) {
            amk_srv_conn_free(c);
            return;
        }
        c->lingering = 1;
    }
    if (now >= c->closing_deadline || drain_input(c) != 0) {
        amk_srv_conn_free(c);
        return;
    }
    sync_epoll(c);
}

void
amk_srv_conn_turn(struct srv_conn *c, int can_read, int can_write)
{
    uint64_t now = amk_srv_now_ms();
    int r;

    (void)can_write;
    c->more = 0;
    c->copy_stepped = 0;
    if (c->closing) {
        if (c->lingering) {
            finish_closing(c, 0, now);
            return;
        }
        if ((r = write_some(c)) != 0 || !amk_transport_wants_write(c->t) ||
            now >= c->closing_deadline) {
            finish_closing(c, r != 0, now);
            return;
        }
        sync_epoll(c);
        return;
    }
    if (can_read && read_some(c, now) != 0)
        goto closing;
    for (int i = 0; i < SRV_PACKETS_PER_TURN && !c->closing; i++) {
        const uint8_t *p;
        size_t len;

        r = amk_transport_recv(c->t, &p, &len);
#ifdef AMK_CAPTURE
        if (r == AMK_OK)
            amk_capture_payload(c->t, 1, p, len);
#endif
        if (r == AMK_EAGAIN)
            break;
        if (r != AMK_OK) {
            close_failed(c, r, "transport");
            goto closing;
        }
        if (len > 0)
            dispatch(c, p, len);
        if (i == SRV_PACKETS_PER_TURN - 1)
            c->more = 1;
    }
    if (c->closing)
        goto closing;
    /* Channels answer into the transport until SRV_OUT_SOFT is queued;
     * while the socket takes it all, they go on for a few rounds (output
     * made and sent in small steps stays in the cache). */
    for (int round = 0; round < SRV_PUMP_ROUNDS; round++) {
        const uint8_t *q;
        size_t queued;

        c->out_full = 0;
        if (c->conn != NULL) {
            if (amk_conn_wants_flush(c->conn))
                (void)!amk_conn_flush(c->conn);
            r = amk_srv_chans_pump(c);
            if (r < 0) {
                amk_srv_conn_close(c, AMK_DISCONNECT_PROTOCOL_ERROR, "channel failure");
                goto closing;
            }
            if (r > 0)
                c->more = 1;
        }
        if (write_some(c) != 0) {
            amk_srv_conn_close(c, 0, c->reason[0] != '\0' ? c->reason : "write failed");
            goto closing;
        }
        if (!c->out_full)
            break;
        amk_transport_output(c->t, &q, &queued);
        if (queued >= SRV_OUT_SOFT)
            break;          /* the socket is full: EPOLLOUT brings us back */
        if (round == SRV_PUMP_ROUNDS - 1)
            c->more = 1;    /* the rest in a later turn, after the others */
    }
    sync_epoll(c);
    compute_deadline(c);
    if (c->more)
        amk_srv_mark_ready(c);
    return;
closing:
    /* flush the DISCONNECT (if any) now when the socket takes it */
    if ((r = write_some(c)) != 0 || !amk_transport_wants_write(c->t)) {
        finish_closing(c, r != 0, amk_srv_now_ms());
        return;
    }
    sync_epoll(c);
}
