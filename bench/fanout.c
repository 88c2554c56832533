/*
 * amiko-bench fanout OPTS -n N: one connection, one thread, N session
 * channels each running `true` at once (non-blocking mode: every channel
 * is opened and exec'd before any answer is awaited), then waits for all
 * N exit statuses. Reports the wall time and the process's peak RSS.
 * The server must allow N sessions per connection (sshd MaxSessions).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "conn.h"

int bench_fanout(int argc, char **argv);

/* Peak RSS of this process image in KiB (VmHWM: unlike ru_maxrss, it does
 * not carry the peak of the process we were forked from across exec). */
static long
peak_rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    }
    if (f != NULL)
        fclose(f);
    return kib;
}

/* Polls the client's descriptor for what it waits on; -1 on failure. */
static int
wait_client(struct amk_client *c)
{
    struct pollfd p = { .fd = amk_client_get_fd(c), .events = 0 };
    int dirs = amk_client_block_directions(c);
    int timeout = amk_client_next_timeout(c);

    if (dirs & AMK_WAIT_READ)
        p.events |= POLLIN;
    if (dirs & AMK_WAIT_WRITE)
        p.events |= POLLOUT;
    if (p.events == 0)
        p.events = POLLIN;
    if (timeout < 0 || timeout > 1000)
        timeout = 1000;
    return poll(&p, 1, timeout) < 0 ? -1 : 0;
}

int
bench_fanout(int argc, char **argv)
{
    struct bench_opts o;
    struct amk_client *c;
    struct amk_client_channel **ch;
    long n, left, failed = 0;
    char *done;
    double t0;
    int r;

    if (bench_conn_parse(argc, argv, 0, &o) != 0)
        return 2;
    n = o.count > 0 ? o.count : 500;
    ch = calloc((size_t)n, sizeof(*ch));
    done = calloc((size_t)n, 1);
    if (ch == NULL || done == NULL || (c = bench_connect(&o)) == NULL)
        return 1;
    t0 = bench_now();
    if ((r = amk_client_set_blocking(c, 0)) != AMK_OK)
        return 1;
    for (long i = 0; i < n; i++) {
        if ((r = amk_client_exec(c, "true", 0, &ch[i])) != AMK_OK) {
            fprintf(stderr, "amiko-bench fanout: exec %ld: %s\n", i, amk_strerror(r));
            return 1;
        }
    }
    left = n;
    while (left > 0) {
        for (long i = 0; i < n; i++) {
            int status = -1;
            if (done[i])
                continue;
            r = amk_client_channel_exit_status(ch[i], &status);
            if (r == AMK_EAGAIN)
                continue;
            done[i] = 1;
            left--;
            if (r != AMK_OK || status != 0) {
                fprintf(stderr, "amiko-bench fanout: session %ld: %s (status %d): %s\n", i,
                    amk_strerror(r), status, amk_client_channel_last_error(ch[i]));
                failed++;
            }
        }
        if (left > 0 && wait_client(c) != 0)
            return 1;
    }
    if (failed == 0)
        bench_result("secs=%.6f n=%ld maxrss_kb=%ld", bench_now() - t0, n, peak_rss_kib());
    for (long i = 0; i < n; i++)
        amk_client_channel_free(ch[i]);
    amk_client_free(c);
    free(ch);
    free(done);
    return failed == 0 ? 0 : 1;
}
