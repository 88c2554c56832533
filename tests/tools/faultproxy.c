/*
 * faultproxy: a TCP proxy on loopback for tests and benchmarks, between an
 * amiko endpoint and a real peer, that injects faults into one or both
 * directions of each connection it accepts:
 *
 *   --split N        forward at most N bytes per write (N=1: byte by byte)
 *   --delay-ms N     hold every chunk N ms before forwarding it (one-way
 *                    delay; bandwidth is not limited, so a long fat pipe)
 *   --corrupt-at N   flip one bit of the byte at offset N of the stream
 *   --truncate-at N  forward only N bytes, then close both sides
 *   --reset-at N     after N bytes, reset both connections (RST)
 *   --stall-at N     after N bytes, forward nothing more (keep sockets open)
 *
 * Each fault option applies to the direction named before it with --c2s
 * (client to server, the default) or --s2c. The proxy listens on
 * --listen HOST:PORT (port 0: any free port, written to --port-file) and
 * connects to --target HOST:PORT for every accepted connection. It serves
 * at most --max-conns connections (default 1000) and exits after
 * --lifetime seconds (default 600), so it can never outlive a test run.
 * Only loopback addresses are accepted for --listen and --target.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FP_MAX_CONNS 64          /* open at once */
#define FP_CHUNK 65536
#define FP_QUEUE_MAX (64u * 1024 * 1024)   /* bytes held per direction */
#define FP_NONE UINT64_MAX

struct fp_faults {
    size_t split;
    uint64_t delay_ms;
    uint64_t corrupt_at, truncate_at, reset_at, stall_at;
};

struct fp_chunk {
    struct fp_chunk *next;
    uint64_t due_ms;
    size_t len, off;
    uint8_t data[];
};

struct fp_dir {
    int from, to;
    uint64_t seen;               /* bytes read from 'from' */
    uint64_t sent;               /* bytes written to 'to' */
    size_t queued;
    struct fp_chunk *head, *tail;
    int eof;                     /* 'from' reached EOF */
    int shut;                    /* 'to' has been shut down for writing */
    const struct fp_faults *f;
};

struct fp_conn {
    int used;
    struct fp_dir d[2];          /* 0: client to server, 1: server to client */
};

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    struct addrinfo hints = { 0 }, *res = NULL;

    if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (host[0] == '[') {           /* [::1]:port */
        memmove(host, host + 1, strlen(host));
        char *rb = strchr(host, ']');
        if (rb != NULL)
            *rb = '\0';
    }
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    /* Loopback only: 127.0.0.0/8 or ::1. */
    if (ss->ss_family == AF_INET) {
        uint32_t a = ntohl(((struct sockaddr_in *)ss)->sin_addr.s_addr);
        return (a >> 24) == 127 ? 0 : -1;
    }
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ss)->sin6_addr) ? 0 : -1;
    return -1;
}

static void
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
reset_fd(int fd)
{
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static void
conn_close(struct fp_conn *c, int reset)
{
    for (int i = 0; i < 2; i++) {
        struct fp_chunk *ch = c->d[i].head;
        while (ch != NULL) {
            struct fp_chunk *n = ch->next;
            free(ch);
            ch = n;
        }
    }
    if (reset) {
        reset_fd(c->d[0].from);
        reset_fd(c->d[0].to);
    } else {
        close(c->d[0].from);
        close(c->d[0].to);
    }
    memset(c, 0, sizeof(*c));
}

/* Reads what 'from' has, applies faults, queues it. Returns -1 to reset the connection. */
static int
dir_read(struct fp_dir *d)
{
    uint8_t buf[FP_CHUNK];
    ssize_t n = read(d->from, buf, sizeof(buf));

    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    if (n == 0) {
        d->eof = 1;
        return 0;
    }
    uint64_t start = d->seen;
    d->seen += (uint64_t)n;
    const struct fp_faults *f = d->f;
    if (f->corrupt_at != FP_NONE && f->corrupt_at >= start && f->corrupt_at < d->seen)
        buf[f->corrupt_at - start] ^= 0x01;
    size_t keep = (size_t)n;
    uint64_t limit = FP_NONE;
    if (f->truncate_at < limit) limit = f->truncate_at;
    if (f->reset_at < limit) limit = f->reset_at;
    if (f->stall_at < limit) limit = f->stall_at;
    if (limit != FP_NONE) {
        if (start >= limit)
            keep = 0;
        else if (d->seen > limit)
            keep = (size_t)(limit - start);
    }
    if (keep == 0)
        return 0;
    if (d->queued + keep > FP_QUEUE_MAX)
        return -1;
    struct fp_chunk *ch = malloc(sizeof(*ch) + keep);
    if (ch == NULL)
        return -1;
    ch->next = NULL;
    ch->due_ms = now_ms() + f->delay_ms;
    ch->len = keep;
    ch->off = 0;
    memcpy(ch->data, buf, keep);
    if (d->tail != NULL)
        d->tail->next = ch;
    else
        d->head = ch;
    d->tail = ch;
    d->queued += keep;
    return 0;
}

/* Writes due data to 'to'. Returns -1 to reset, 1 to close cleanly. */
static int
dir_write(struct fp_dir *d)
{
    const struct fp_faults *f = d->f;
    uint64_t now = now_ms();

    while (d->head != NULL && d->head->due_ms <= now) {
        struct fp_chunk *ch = d->head;
        size_t len = ch->len - ch->off;
        if (f->split > 0 && len > f->split)
            len = f->split;
        ssize_t n = write(d->to, ch->data + ch->off, len);
        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        ch->off += (size_t)n;
        d->sent += (uint64_t)n;
        d->queued -= (size_t)n;
        if (ch->off == ch->len) {
            d->head = ch->next;
            if (d->head == NULL)
                d->tail = NULL;
            free(ch);
        }
        if (f->split > 0)
            break;               /* one small write per poll round */
    }
    if (f->reset_at != FP_NONE && d->sent >= f->reset_at)
        return -1;
    if (f->truncate_at != FP_NONE && d->sent >= f->truncate_at)
        return 1;
    if (d->eof && d->head == NULL && !d->shut) {
        shutdown(d->to, SHUT_WR);
        d->shut = 1;
    }
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: faultproxy --listen HOST:PORT --target HOST:PORT [--port-file F]\n"
        "  [--max-conns N] [--lifetime SECONDS] [--c2s|--s2c] [--split N] [--delay-ms N]\n"
        "  [--corrupt-at N] [--truncate-at N] [--reset-at N] [--stall-at N]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    struct fp_faults faults[2];
    struct sockaddr_storage lss, tss;
    socklen_t llen = 0, tlen = 0;
    const char *listen_s = NULL, *target_s = NULL, *port_file = NULL;
    long max_conns = 1000, lifetime = 600, served = 0;
    int dir = 0;
    static struct fp_conn conns[FP_MAX_CONNS];

    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < 2; i++) {
        faults[i] = (struct fp_faults){ 0, 0, FP_NONE, FP_NONE, FP_NONE, FP_NONE };
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--c2s") == 0) { dir = 0; continue; }
        if (strcmp(a, "--s2c") == 0) { dir = 1; continue; }
        if (v == NULL)
            usage();
        i++;
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        int numeric = *v != '\0' && *end == '\0';
        if (strcmp(a, "--listen") == 0) listen_s = v;
        else if (strcmp(a, "--target") == 0) target_s = v;
        else if (strcmp(a, "--port-file") == 0) port_file = v;
        else if (!numeric) usage();
        else if (strcmp(a, "--max-conns") == 0) max_conns = (long)n;
        else if (strcmp(a, "--lifetime") == 0) lifetime = (long)n;
        else if (strcmp(a, "--split") == 0) faults[dir].split = (size_t)n;
        else if (strcmp(a, "--delay-ms") == 0) faults[dir].delay_ms = n;
        else if (strcmp(a, "--corrupt-at") == 0) faults[dir].corrupt_at = n;
        else if (strcmp(a, "--truncate-at") == 0) faults[dir].truncate_at = n;
        else if (strcmp(a, "--reset-at") == 0) faults[dir].reset_at = n;
        else if (strcmp(a, "--stall-at") == 0) faults[dir].stall_at = n;
        else usage();
    }
    if (listen_s == NULL || target_s == NULL)
        usage();
    if (parse_hostport(listen_s, &lss, &llen) != 0 || parse_hostport(target_s, &tss, &tlen) != 0) {
        fprintf(stderr, "faultproxy: --listen and --target must be numeric loopback HOST:PORT\n");
        return 2;
    }
    int lfd = socket(lss.ss_family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&lss, llen) != 0 || listen(lfd, 64) != 0) {
        perror("faultproxy: listen");
        return 1;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    getsockname(lfd, (struct sockaddr *)&bound, &blen);
    int port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                               : ((struct sockaddr_in6 *)&bound)->sin6_port);
    if (port_file != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
        FILE *pf = fopen(tmp, "w");
        if (pf == NULL || fprintf(pf, "%d\n", port) < 0 || fclose(pf) != 0 ||
            rename(tmp, port_file) != 0) {
            perror("faultproxy: port file");
            return 1;
        }
    } else {
        printf("%d\n", port);
        fflush(stdout);
    }
    set_nonblock(lfd);
    uint64_t deadline = now_ms() + (uint64_t)lifetime * 1000;

    while (now_ms() < deadline) {
        struct pollfd pfd[1 + 2 * FP_MAX_CONNS];
        int map[1 + 2 * FP_MAX_CONNS];
        int n = 0, timeout = 1000;
        uint64_t now = now_ms();

        pfd[n] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        map[n++] = -1;
        for (int c = 0; c < FP_MAX_CONNS; c++) {
            if (!conns[c].used)
                continue;
            for (int k = 0; k < 2; k++) {
                struct fp_dir *d = &conns[c].d[k];
                short ev = 0;
                if (!d->eof && d->queued < FP_QUEUE_MAX / 2)
                    ev |= POLLIN;
                if (d->head != NULL) {
                    if (d->head->due_ms <= now)
                        ev |= POLLOUT;
                    else if ((int)(d->head->due_ms - now) < timeout)
                        timeout = (int)(d->head->due_ms - now);
                }
                /* poll the 'from' fd for reading and the 'to' fd for writing */
                pfd[n] = (struct pollfd){ .fd = d->from, .events = ev & POLLIN };
                map[n++] = c * 2 + k;
                if (ev & POLLOUT) {
                    pfd[n] = (struct pollfd){ .fd = d->to, .events = POLLOUT };
                    map[n++] = c * 2 + k;
                }
            }
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        if ((pfd[0].revents & POLLIN) && served < max_conns) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd >= 0) {
                int slot = -1;
                for (int c = 0; c < FP_MAX_CONNS && slot < 0; c++)
                    if (!conns[c].used)
                        slot = c;
                int sfd = socket(tss.ss_family, SOCK_STREAM, 0);
                if (slot < 0 || sfd < 0 || connect(sfd, (struct sockaddr *)&tss, tlen) != 0) {
                    close(cfd);
                    if (sfd >= 0)
                        close(sfd);
                } else {
                    served++;
                    set_nonblock(cfd);
                    set_nonblock(sfd);
                    struct fp_conn *c = &conns[slot];
                    memset(c, 0, sizeof(*c));
                    c->used = 1;
                    c->d[0] = (struct fp_dir){ .from = cfd, .to = sfd, .f = &faults[0] };
                    c->d[1] = (struct fp_dir){ .from = sfd, .to = cfd, .f = &faults[1] };
                }
            }
        }
        /* Service every connection: reads, then due writes. */
        for (int c = 0; c < FP_MAX_CONNS; c++) {
            if (!conns[c].used)
                continue;
            int verdict = 0;
            for (int k = 0; k < 2 && verdict == 0; k++) {
                struct fp_dir *d = &conns[c].d[k];
                for (int i = 1; i < n; i++) {
                    if (map[i] == c * 2 + k && pfd[i].fd == d->from &&
                        (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                        verdict = dir_read(d);
                }
                if (verdict == 0)
                    verdict = dir_write(d);
            }
            if (verdict != 0)
                conn_close(&conns[c], verdict < 0);
            else if (conns[c].d[0].shut && conns[c].d[1].shut)
                conn_close(&conns[c], 0);
        }
        if (served >= max_conns) {
            int any = 0;
            for (int c = 0; c < FP_MAX_CONNS; c++)
                any |= conns[c].used;
            if (!any)
                break;
        }
    }
    for (int c = 0; c < FP_MAX_CONNS; c++)
        if (conns[c].used)
            conn_close(&conns[c], 0);
    close(lfd);
    return 0;
}
