/*
 * see amiko/server.h: the event loop. One epoll descriptor covers the
 * listeners, the stop eventfd, every connection's socket and the
 * descriptors of its child processes. epoll only says who to look at: a
 * connection then gets one bounded turn (server_conn.c), and when work
 * is left it goes on the ready list, so the next wait does not block and
 * every connection with work gets a turn before any gets a second one.
 *
 * Timers are per connection (grace, idle, client-alive, the held failure
 * reply, the transport's rekey timer) plus the reaper's SIGKILL deadlines
 * (server_reap.c); the loop keeps the earliest one known and scans the
 * connections and the reaper when it is due.
 */
#include "server/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections accepted per listener per loop turn. */
#define ACCEPTS_PER_TURN 32

uint64_t
amk_srv_ev_data(enum srv_ev_kind kind, uint32_t slot, uint32_t gen)
{
    return (uint64_t)kind | ((uint64_t)(slot & 0xffffffu) << 8) | ((uint64_t)gen << 32);
}

int
amk_srv_epoll_set(struct amk_server *s, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(s->epfd, op, fd, &ev) == 0 ? AMK_OK : AMK_EIO;
}

void
amk_srv_mark_ready(struct srv_conn *c)
{
    if (c->in_ready)
        return;
    c->in_ready = 1;
    c->ready_next = c->srv->ready_head;
    c->srv->ready_head = c;
}

void
amk_srv_note_deadline(struct amk_server *s, uint64_t when)
{
    if (when < s->next_timer)
        s->next_timer = when;
}

void
amk_server_stop(struct amk_server *s)
{
    uint64_t one = 1;

    if (s == NULL)
        return;
    atomic_store(&s->stop, 1);
    /* write(2) is async-signal-safe; a full counter is still readable */
    (void)!write(s->wakefd, &one, sizeof(one));
}

int
amk_server_get_fd(const struct amk_server *s)
{
    return s == NULL ? -1 : s->epfd;
}

int
amk_server_next_timeout(const struct amk_server *s)
{
    uint64_t now;

    if (s == NULL)
        return -1;
    if (s->ready_head != NULL || atomic_load(&s->stop))
        return 0;
    if (s->next_timer == UINT64_MAX)
        return -1;
    now = amk_srv_now_ms();
    if (s->next_timer <= now)
        return 0;
    return s->next_timer - now > 0x7fffffff ? 0x7fffffff : (int)(s->next_timer - now);
}

/* xorshift64: random early drop needs no cryptographic quality. */
static unsigned
rand_percent(struct amk_server *s)
{
    uint64_t x = s->rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng_state = x;
    return (unsigned)(x % 100);
}

/*
 * sshd's MaxStartups start:rate:full: below start every connection is
 * served; from start on, a new one is dropped with a probability rising
 * linearly from rate% to 100% at full.
 */
static int
should_drop(struct amk_server *s)
{
    size_t n = s->n_unauth;
    unsigned p;

    if (s->n_conns >= s->lim_conns || n >= s->lim_full)
        return 1;
    if (n < s->lim_start)
        return 0;
    p = s->lim_rate;
    if (s->lim_full > s->lim_start)
        p += (unsigned)((100 - s->lim_rate) * (n - s->lim_start) / (s->lim_full - s->lim_start));
    return rand_percent(s) < p;
}

/* The listeners' epoll interest: all of them, but in
 * amk_server_serve_one() only the first until its client came. */
static void
watch_listeners(struct amk_server *s, int on)
{
    for (size_t i = 0; i < s->n_listen; i++) {
        int want = on && (!s->serving_one || (i == 0 && !s->accepted_one));

        (void)amk_srv_epoll_set(s, EPOLL_CTL_MOD, s->listen_fd[i], want ? EPOLLIN : 0,
            amk_srv_ev_data(SRV_EV_LISTEN, (uint32_t)i, 0));
    }
}

/* accept() failed for lack of descriptors or memory: retrying at once
 * would fail again, and the pending connection keeps the listener
 * readable, so stop watching it for a while (see SRV_ACCEPT_PAUSE_MIN_MS);
 * closed connections and SFTP handles give descriptors back meanwhile. */
static void
pause_accept(struct amk_server *s, int err)
{
    uint64_t now = amk_srv_now_ms();

    s->accept_pause_ms = s->accept_pause_ms == 0 ? SRV_ACCEPT_PAUSE_MIN_MS :
        s->accept_pause_ms * 2 > SRV_ACCEPT_PAUSE_MAX_MS ? SRV_ACCEPT_PAUSE_MAX_MS :
        s->accept_pause_ms * 2;
    s->accept_resume_ms = now + s->accept_pause_ms;
    amk_srv_note_deadline(s, s->accept_resume_ms);
    watch_listeners(s, 0);
    if (now < s->accept_log_ms) {
        s->accept_quiet++;
        return;
    }
    if (s->accept_quiet > 0)
        amk_log(&s->log, AMK_LOG_WARN, "accept: %s; not accepting for %u ms "
            "(%lu more such failures in the last %u s)", strerror(err), s->accept_pause_ms,
            s->accept_quiet, SRV_ACCEPT_LOG_MS / 1000);
    else
        amk_log(&s->log, AMK_LOG_WARN, "accept: %s; not accepting for %u ms", strerror(err),
            s->accept_pause_ms);
    s->accept_quiet = 0;
    s->accept_log_ms = now + SRV_ACCEPT_LOG_MS;
}

static void
do_accept(struct amk_server *s, size_t li)
{
    for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct srv_conn *c = NULL;
        int fd, one = 1;

        if ((s->serving_one && s->accepted_one) || s->accept_resume_ms != 0)
            return;     /* (paused: another listener's event of the same wait) */
        fd = accept4(s->listen_fd[li], (struct sockaddr *)&ss, &len,
            SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accept(s, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                amk_log(&s->log, AMK_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        s->accept_pause_ms = 0;
        if (should_drop(s)) {
            char ip[64] = "?";
            if (ss.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
            else if (ss.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
            amk_log(&s->log, AMK_LOG_INFO,
                "drop connection from %s: %zu unauthenticated, %zu open (MaxStartups %u:%u:%u)",
                ip, s->n_unauth, s->n_conns, s->lim_start, s->lim_rate, s->lim_full);
            close(fd);
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (amk_srv_conn_new(s, fd, &c) != AMK_OK) {
            amk_log(&s->log, AMK_LOG_WARN, "cannot serve a connection: %s",
                amk_error_msg(&s->err));
            close(fd);
            continue;
        }
        if (s->serving_one)
            s->accepted_one = 1;
    }
}

/* Stop: close every connection politely and free it. */
static void
close_all(struct amk_server *s)
{
    for (size_t i = 0; i < s->n_slots; i++) {
        struct srv_conn *c = s->slots[i];
        if (c == NULL)
            continue;
        amk_srv_conn_close(c, 11, "server shutting down");
        amk_srv_conn_turn(c, 0, 1);     /* one flush attempt */
        if (s->slots[i] != NULL)
            amk_srv_conn_free(s->slots[i]);
    }
    s->ready_head = NULL;
}

static struct srv_conn *
lookup(struct amk_server *s, uint64_t data)
{
    uint32_t slot = (uint32_t)(data >> 8) & 0xffffffu, gen = (uint32_t)(data >> 32);
    struct srv_conn *c;

    if (slot >= s->n_slots || (c = s->slots[slot]) == NULL || c->gen != gen)
        return NULL;    /* a stale registration of a connection gone */
    return c;
}

static void
run_timers(struct amk_server *s, uint64_t now)
{
    s->next_timer = UINT64_MAX;
    for (size_t i = 0; i < s->n_slots; i++) {
        struct srv_conn *c = s->slots[i];
        if (c == NULL)
            continue;
        if (c->deadline <= now)
            amk_srv_conn_timers(c, now);
        amk_srv_note_deadline(s, c->deadline);
    }
    amk_srv_reap_timers(s, now);
    if (s->accept_resume_ms != 0 && s->accept_resume_ms <= now) {
        s->accept_resume_ms = 0;
        watch_listeners(s, 1);
    } else if (s->accept_resume_ms != 0) {
        amk_srv_note_deadline(s, s->accept_resume_ms);
    }
}

int
amk_srv_loop_turn(struct amk_server *s, int timeout_ms)
{
    struct epoll_event evs[SRV_EVENTS];
    struct srv_conn *list;
    uint64_t now;
    int n, t = timeout_ms;

    if (atomic_load(&s->stop)) {
        uint64_t v;
        (void)!read(s->wakefd, &v, sizeof(v));
        close_all(s);
        atomic_store(&s->stop, 0);
        return AMK_ECLOSED;
    }
    if (s->ready_head != NULL) {
        t = 0;
    } else if (s->next_timer != UINT64_MAX) {
        int tt;
        now = amk_srv_now_ms();
        tt = s->next_timer <= now ? 0 : (s->next_timer - now > 0x7fffffff ? 0x7fffffff :
            (int)(s->next_timer - now));
        if (t < 0 || tt < t)
            t = tt;
    }
    n = epoll_wait(s->epfd, evs, SRV_EVENTS, t);
    if (n < 0) {
        if (errno == EINTR)
            return AMK_OK;
        return amk_error_set(&s->err, AMK_EIO, "epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        uint64_t d = evs[i].data.u64;
        struct srv_conn *c;

        switch ((enum srv_ev_kind)(d & 0xff)) {
        case SRV_EV_WAKE: {
            uint64_t v;
            (void)!read(s->wakefd, &v, sizeof(v));
            break;
        }
        case SRV_EV_LISTEN:
            if ((d >> 8) < s->n_listen)
                do_accept(s, (size_t)(d >> 8));
            break;
        case SRV_EV_CONN:
            if ((c = lookup(s, d)) != NULL) {
                c->ev_in |= (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
                amk_srv_mark_ready(c);
            }
            break;
        case SRV_EV_CHILD:
            if ((c = lookup(s, d)) != NULL)
                amk_srv_mark_ready(c);
            break;
        case SRV_EV_REAP:
            amk_srv_reap_event(s, (uint32_t)(d >> 32));
            break;
        }
    }
    if (atomic_load(&s->stop))
        return amk_srv_loop_turn(s, 0);
    /* Every connection with work gets one turn; those with more left go
     * on a fresh list for the next call. */
    list = s->ready_head;
    s->ready_head = NULL;
    while (list != NULL) {
        struct srv_conn *c = list;
        int can_read = c->ev_in;

        list = c->ready_next;
        c->in_ready = 0;
        c->ready_next = NULL;
        c->ev_in = 0;
        amk_srv_conn_turn(c, can_read, 1);
    }
    now = amk_srv_now_ms();
    if (s->next_timer <= now)
        run_timers(s, now);
    return AMK_OK;
}

int
amk_server_process(struct amk_server *s, int timeout_ms)
{
    if (s == NULL)
        return AMK_EINVAL;
    return amk_srv_loop_turn(s, timeout_ms);
}

int
amk_server_run(struct amk_server *s)
{
    int r;

    if (s == NULL)
        return AMK_EINVAL;
    if (s->n_listen == 0)
        return amk_error_set(&s->err, AMK_ESTATE, "no listener: call amk_server_listen first");
    if (s->n_host_keys == 0)
        return amk_error_set(&s->err, AMK_ESTATE, "no host key: call amk_server_add_host_key");
    while ((r = amk_srv_loop_turn(s, -1)) == AMK_OK)
        ;
    return r == AMK_ECLOSED ? AMK_OK : r;
}

int
amk_server_serve_one(struct amk_server *s)
{
    int r = AMK_OK;

    if (s == NULL)
        return AMK_EINVAL;
    if (s->n_listen == 0)
        return amk_error_set(&s->err, AMK_ESTATE, "no listener: call amk_server_listen first");
    if (s->n_host_keys == 0)
        return amk_error_set(&s->err, AMK_ESTATE, "no host key: call amk_server_add_host_key");
    s->serving_one = 1;
    s->accepted_one = 0;
    /* It returns once its connection ended and that connection's
     * processes are reaped (bounded by the reaper's deadlines). */
    /* Only the first listener is watched while waiting for the client,
     * and none once it came (level-triggered listeners would spin). */
    for (size_t i = 1; i < s->n_listen; i++)
        (void)amk_srv_epoll_set(s, EPOLL_CTL_MOD, s->listen_fd[i], 0,
            amk_srv_ev_data(SRV_EV_LISTEN, (uint32_t)i, 0));
    while (r == AMK_OK && (!s->accepted_one || s->n_conns > 0 || s->n_reap > 0)) {
        if (s->accepted_one)
            (void)amk_srv_epoll_set(s, EPOLL_CTL_MOD, s->listen_fd[0], 0,
                amk_srv_ev_data(SRV_EV_LISTEN, 0, 0));
        r = amk_srv_loop_turn(s, -1);
    }
    s->serving_one = 0;
    watch_listeners(s, s->accept_resume_ms == 0);
    return r;
}
