/*
 * The reaper: session processes whose channel ended while they still
 * ran. Freeing a channel never waits for its process (one client closing
 * a channel must not stall the thousands of others the loop serves):
 * the process gets SIGHUP, its pty and pipes are closed, and it moves
 * here with a deadline. The loop then learns of its exit through its
 * pidfd (registered in the epoll set, SRV_EV_REAP with the pid in the
 * upper bits) and reaps it with waitpid(WNOHANG); past the deadline it
 * gets SIGKILL.
 *
 * Why pidfds and not SIGCHLD: a library must not install signal
 * handlers or reap children that are not its own (waitpid(-1) would
 * steal the application's), and a pidfd is per process and needs no
 * global state. Each entry's deadline also stands in for a lost epoll
 * registration: at the deadline it is tried with WNOHANG, and once
 * killed it is retried every SRV_TIMER_SLACK_MS until it is gone.
 *
 * OpenSSH's sshd on a channel close with a running command only
 * releases the pty (the kernel hangs the terminal up: SIGHUP) and
 * closes the pipes, and never kills; amiko also sends SIGHUP without a
 * pty, and escalates so that a server leaves no process behind.
 */
#include "server/server_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "server/proc.h"

struct srv_reap {
    struct amk_proc *proc;
    uint64_t deadline;          /* SIGKILL then (once killed: the next retry) */
    int killed;
};

static uint64_t
reap_data(const struct amk_proc *p)
{
    return amk_srv_ev_data(SRV_EV_REAP, 0, (uint32_t)p->pid);
}

/* Reaps entry @p i if its process exited: 1 when it was (and removed). */
static int
try_reap(struct amk_server *s, size_t i)
{
    struct amk_proc *p = s->reap[i].proc;
    int fd = p->pidfd, st;

    /* The registration goes before the pidfd is closed by the reap:
     * a descriptor shared with a child being forked would keep it. */
    if (fd >= 0)
        (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
    if (amk_proc_reap(p) != AMK_OK) {
        if (fd >= 0)
            (void)amk_srv_epoll_set(s, EPOLL_CTL_ADD, fd, EPOLLIN, reap_data(p));
        return 0;
    }
    st = p->wait_status;
    amk_log(&s->log, AMK_LOG_DEBUG, "process %ld of a closed session reaped: %s %d",
        (long)p->pid, WIFSIGNALED(st) ? "signal" : "status",
        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    amk_proc_free(p, 0);
    s->reap[i] = s->reap[--s->n_reap];
    return 1;
}

void
amk_srv_reap_add(struct amk_server *s, struct amk_proc *p)
{
    struct srv_reap *e;

    if (p == NULL)
        return;
    amk_proc_close_io(p);
    amk_proc_hangup(p);
    if (s->n_reap == s->cap_reap) {
        size_t n = s->cap_reap == 0 ? 8 : s->cap_reap * 2;
        struct srv_reap *v = realloc(s->reap, n * sizeof(*v));
        if (v == NULL) {
            /* nowhere to keep it: end it now (SIGKILL, a short wait) */
            amk_log(&s->log, AMK_LOG_WARN, "out of memory: process %ld killed at once",
                (long)p->pid);
            amk_proc_free(p, 0);
            return;
        }
        s->reap = v;
        s->cap_reap = n;
    }
    e = &s->reap[s->n_reap++];
    e->proc = p;
    e->killed = 0;
    e->deadline = amk_srv_now_ms() + SRV_REAP_GRACE_MS;
    if (p->pidfd >= 0)
        (void)amk_srv_epoll_set(s, EPOLL_CTL_ADD, p->pidfd, EPOLLIN, reap_data(p));
    amk_srv_note_deadline(s, e->deadline);
}

void
amk_srv_reap_event(struct amk_server *s, uint32_t pid)
{
    for (size_t i = 0; i < s->n_reap; i++) {
        if ((uint32_t)s->reap[i].proc->pid == pid) {
            (void)try_reap(s, i);
            return;
        }
    }
}

void
amk_srv_reap_timers(struct amk_server *s, uint64_t now)
{
    for (size_t i = 0; i < s->n_reap;) {
        struct srv_reap *e = &s->reap[i];

        if (e->deadline <= now) {
            if (try_reap(s, i))
                continue;       /* entry i is another one now */
            if (!e->killed) {
                amk_log(&s->log, AMK_LOG_INFO,
                    "process %ld still runs %d ms after its session closed: SIGKILL",
                    (long)e->proc->pid, SRV_REAP_GRACE_MS);
                amk_proc_signal(e->proc, SIGKILL);
                e->killed = 1;
            }
            e->deadline = now + SRV_TIMER_SLACK_MS;
        }
        amk_srv_note_deadline(s, e->deadline);
        i++;
    }
}

static void
sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Waits up to @p ms for one of the processes left to exit. */
static void
wait_some(struct amk_server *s, int ms)
{
    struct pollfd *fds = calloc(s->n_reap, sizeof(*fds));
    size_t n = 0;

    if (fds == NULL) {
        sleep_ms(ms < 10 ? ms : 10);
        return;
    }
    for (size_t i = 0; i < s->n_reap; i++) {
        if (s->reap[i].proc->pidfd >= 0) {
            fds[n].fd = s->reap[i].proc->pidfd;
            fds[n++].events = POLLIN;
        }
    }
    if (n == 0 || n < s->n_reap)
        ms = ms < 10 ? ms : 10;     /* some without a pidfd: poll waitpid */
    (void)poll(fds, n, ms);
    free(fds);
}

void
amk_srv_reap_all(struct amk_server *s)
{
    uint64_t start = amk_srv_now_ms(), now;
    int killed = 0;

    for (;;) {
        for (size_t i = 0; i < s->n_reap;) {
            if (!try_reap(s, i))
                i++;
        }
        if (s->n_reap == 0)
            break;
        now = amk_srv_now_ms();
        if (!killed && now >= start + SRV_REAP_FREE_GRACE_MS) {
            for (size_t i = 0; i < s->n_reap; i++)
                amk_proc_signal(s->reap[i].proc, SIGKILL);
            killed = 1;
        } else if (killed && now >= start + SRV_REAP_FREE_GRACE_MS + SRV_REAP_KILL_WAIT_MS) {
            break;
        }
        wait_some(s, (int)(start + SRV_REAP_FREE_GRACE_MS + (killed ? SRV_REAP_KILL_WAIT_MS : 0)
            - now));
    }
    /* Killed and still there (stuck in the kernel): nothing more can be
     * done without blocking; the descriptors are closed all the same. */
    for (size_t i = 0; i < s->n_reap; i++) {
        struct amk_proc *p = s->reap[i].proc;
        amk_log(&s->log, AMK_LOG_WARN, "process %ld did not die of SIGKILL: left unreaped",
            (long)p->pid);
        p->exited = 1;          /* so that amk_proc_free() does not wait for it */
        amk_proc_free(p, 0);
    }
    s->n_reap = 0;
    free(s->reap);
    s->reap = NULL;
    s->cap_reap = 0;
}
