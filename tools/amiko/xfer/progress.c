/* The transfer progress bar. See progress.h. */
#include "progress.h"
#include "vis.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define RIGHT_WIDTH 38      /* " 100%   12.3MB    3.4MB/s    00:12 ETA" */
#define MIN_COLS 40
#define MAX_LINE 512

uint64_t
xfer_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * XFER_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
xfer_format_size(char *buf, size_t cap, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    double v = (double)bytes;
    size_t u = 0;

    if (bytes < 1024) {
        snprintf(buf, cap, "%uB", (unsigned)bytes);
        return;
    }
    v /= 1024.0;
    while (v >= 1024.0 && u + 1 < sizeof(units) - 1) {
        v /= 1024.0;
        u++;
    }
    /* one decimal below 100 (and never "100.0", which is too wide) */
    if (v < 99.95)
        snprintf(buf, cap, "%.1f%cB", v, units[u]);
    else
        snprintf(buf, cap, "%.0f%cB", v, units[u]);
}

void
xfer_format_time(char *buf, size_t cap, double seconds)
{
    unsigned long s;

    if (seconds < 0 || seconds != seconds) {
        snprintf(buf, cap, "--:--");
        return;
    }
    if (seconds > 359999.0)     /* 99:59:59 */
        seconds = 359999.0;
    s = (unsigned long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, cap, "%02lu:%02lu", s / 60, s % 60);
}

double
xfer_eta(uint64_t done, uint64_t total, double rate)
{
    if (done >= total)
        return 0.0;
    if (rate <= 0.0)
        return -1.0;
    return (double)(total - done) / rate;
}

void
xfer_format_line(char *buf, size_t cap, unsigned cols, const char *name, uint64_t done,
    uint64_t total, double rate, int finished, double elapsed_s)
{
    char size[16], rs[24], t[16], safe[4 * MAX_LINE];
    unsigned pct = total == 0 ? 100 : done >= total ? 100 :
        (unsigned)((double)done * 100.0 / (double)total);
    size_t name_w, nl;

    if (cols < MIN_COLS)
        cols = MIN_COLS;
    if (cols > MAX_LINE - 1)
        cols = MAX_LINE - 1;
    name_w = cols - RIGHT_WIDTH - 1;    /* the last column stays empty: no wrap */
    xfer_format_size(size, sizeof(size), done);
    if (rate < 0.0) {
        snprintf(rs, sizeof(rs), "--");
    } else {
        xfer_format_size(rs, sizeof(rs) - 2, (uint64_t)(rate + 0.5));
        strcat(rs, "/s");
    }
    if (finished)
        xfer_format_time(t, sizeof(t), elapsed_s);
    else
        xfer_format_time(t, sizeof(t), xfer_eta(done, total, rate));
    /* the name comes from the server: no escape sequence reaches the
     * terminal, and its width is the escaped one */
    xfer_vis(safe, sizeof(safe), name);
    name = safe;
    nl = strlen(name);
    if (nl > name_w)
        name += nl - name_w;    /* keep the end: the file's own name */
    snprintf(buf, cap, "%-*.*s %3u%% %8s %10s %8s%s", (int)name_w, (int)name_w, name, pct,
        size, rs, t, finished ? "    " : " ETA");
}

static unsigned
term_cols(int fd)
{
    struct winsize ws;

    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

void
xfer_progress_init(struct xfer_progress *p, int enabled, int fd, uint64_t total, uint64_t now_ns)
{
    memset(p, 0, sizeof(*p));
    p->enabled = enabled;
    p->fd = fd;
    p->total = total;
    p->start_ns = p->sample_ns = now_ns;
    p->rate = -1.0;
    p->cols = enabled ? term_cols(fd) : 80;
}

void
xfer_rate_sample(struct xfer_progress *p, uint64_t done, uint64_t now_ns)
{
    double dt, inst;

    if (now_ns < p->sample_ns + XFER_SAMPLE_NS || done < p->sample_bytes)
        return;
    dt = (double)(now_ns - p->sample_ns) / (double)XFER_NS_PER_S;
    inst = (double)(done - p->sample_bytes) / dt;
    p->rate = p->rate < 0.0 ? inst : (1.0 - XFER_RATE_WEIGHT) * p->rate + XFER_RATE_WEIGHT * inst;
    p->sample_ns = now_ns;
    p->sample_bytes = done;
}

static void
draw(struct xfer_progress *p, int finished, uint64_t now_ns)
{
    char line[MAX_LINE + 2];
    double elapsed = (double)(now_ns - p->start_ns) / (double)XFER_NS_PER_S;
    double rate = p->rate;
    size_t len;

    if (finished && elapsed > 0.0)
        rate = (double)p->done / elapsed;   /* the average, once it is over */
    line[0] = '\r';
    xfer_format_line(line + 1, sizeof(line) - 1, p->cols, p->name, p->done, p->total, rate,
        finished, elapsed);
    len = strlen(line);
    if (finished)
        line[len++] = '\n';
    for (size_t off = 0; off < len;) {
        ssize_t w = write(p->fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    p->drawn = !finished;
    p->drawn_ns = now_ns;
}

/* scp's can_output(): the terminal is ours to draw on only while this
 * process group is its foreground one. */
static int
in_foreground(int fd)
{
    return tcgetpgrp(fd) == getpgrp();
}

void
xfer_progress_update(struct xfer_progress *p, const char *name, uint64_t done, uint64_t now_ns)
{
    p->done = done;
    if (name != NULL)
        snprintf(p->name, sizeof(p->name), "%s", name);
    xfer_rate_sample(p, done, now_ns);
    if (!p->enabled || !in_foreground(p->fd))
        return;
    if (p->drawn && now_ns < p->drawn_ns + XFER_REDRAW_NS && done < p->total)
        return;
    draw(p, 0, now_ns);
}

void
xfer_progress_finish(struct xfer_progress *p, uint64_t now_ns)
{
    if (!p->enabled || !in_foreground(p->fd))
        return;
    draw(p, 1, now_ns);
}
