/*
 * amiko-bench server-side drivers (the amiko client loads a server):
 *
 *   connrate OPTS -n CLIENTS -t SECS  CLIENTS processes each repeating
 *       connect + authenticate + exec true + close for SECS seconds;
 *       RESULT gives the connections completed per second.
 *   idle OPTS -n N   opens N authenticated connections, prints
 *       "RESULT ready n=N", holds them until stdin ends, then closes them.
 *       The driver measures the server's memory meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "conn.h"

int bench_connrate(int argc, char **argv);
int bench_idle(int argc, char **argv);

/* One client's loop; its count goes back through the pipe @p fd. */
static void
connrate_child(const struct bench_opts *o, double deadline, int fd)
{
    long done = 0, failed = 0;

    while (bench_now() < deadline) {
        struct amk_client *c = bench_connect(o);
        if (c != NULL && bench_run_true(c, "true") == 0 && amk_client_close(c) == AMK_OK)
            done++;
        else
            failed++;
        amk_client_free(c);
        if (failed > 10)
            break;
    }
    if (write(fd, &done, sizeof(done)) != sizeof(done))
        _exit(1);
    _exit(failed > 0 ? 1 : 0);
}

int
bench_connrate(int argc, char **argv)
{
    struct bench_opts o;
    long clients, total = 0;
    double t0, secs;
    int fds[2], rc = 0;

    if (bench_conn_parse(argc, argv, 0, &o) != 0)
        return 2;
    clients = o.count > 0 ? o.count : 8;
    secs = o.seconds > 0 ? o.seconds : 5;
    if (clients > 256 || pipe(fds) != 0)
        return 2;
    fflush(stdout);
    t0 = bench_now();
    for (long i = 0; i < clients; i++) {
        pid_t pid = fork();
        if (pid == 0)
            connrate_child(&o, t0 + secs, fds[1]);
        if (pid < 0)
            return 1;
    }
    close(fds[1]);
    for (long i = 0; i < clients; i++) {
        long n = 0;
        int status;
        if (read(fds[0], &n, sizeof(n)) == sizeof(n))
            total += n;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = 1;
    }
    close(fds[0]);
    if (rc != 0)
        fprintf(stderr, "amiko-bench connrate: some connections failed\n");
    bench_result("conns_per_sec=%.2f conns=%ld secs=%.3f clients=%ld",
        (double)total / (bench_now() - t0), total, bench_now() - t0, clients);
    return rc;
}

int
bench_idle(int argc, char **argv)
{
    struct bench_opts o;
    struct amk_client **c;
    struct rlimit rl;
    long n;
    int ch;

    if (bench_conn_parse(argc, argv, 0, &o) != 0)
        return 2;
    n = o.count > 0 ? o.count : 1000;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((c = calloc((size_t)n, sizeof(*c))) == NULL)
        return 1;
    for (long i = 0; i < n; i++) {
        if ((c[i] = bench_connect(&o)) == NULL) {
            fprintf(stderr, "amiko-bench idle: connection %ld failed\n", i);
            n = i;
            break;
        }
    }
    bench_result("ready n=%ld", n);
    while ((ch = getchar()) != EOF)
        ;
    for (long i = 0; i < n; i++) {
        if (amk_client_close(c[i]) != AMK_OK)
            fprintf(stderr, "amiko-bench idle: close %ld failed\n", i);
        amk_client_free(c[i]);
    }
    free(c);
    return 0;
}
