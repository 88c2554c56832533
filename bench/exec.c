/*
 * amiko-bench exec workloads:
 *
 *   exec-cat OPTS REMOTE LOCAL   `cat REMOTE` on an exec channel, written to LOCAL
 *   connect-latency OPTS -n N    N x (connect + authenticate + exec true + close)
 *   exec-live OPTS -n N          N x exec true on one authenticated connection
 *
 * RESULT lines give seconds (per operation for the latency ones).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "conn.h"

int bench_exec_cat(int argc, char **argv);
int bench_connect_latency(int argc, char **argv);
int bench_exec_live(int argc, char **argv);

#define CAT_BUF (256 * 1024)

int
bench_exec_cat(int argc, char **argv)
{
    struct bench_opts o;
    struct amk_client *c;
    struct amk_client_channel *ch = NULL;
    char cmd[4200];
    unsigned long long bytes = 0;
    double t0, t1;
    size_t got;
    char *buf;
    FILE *out;
    int r, status = -1;

    if (bench_conn_parse(argc, argv, 2, &o) != 0)
        return 2;
    snprintf(cmd, sizeof(cmd), "cat '%s'", o.args[0]);
    if ((out = fopen(o.args[1], "wb")) == NULL || (buf = malloc(CAT_BUF)) == NULL) {
        perror(o.args[1]);
        return 1;
    }
    t0 = bench_now();
    if ((c = bench_connect(&o)) == NULL)
        return 1;
    t1 = bench_now();
    r = amk_client_exec(c, cmd, 0, &ch);
    while (r == AMK_OK) {
        r = amk_client_channel_read(ch, buf, CAT_BUF, &got);
        if (r != AMK_OK || got == 0)
            break;
        if (fwrite(buf, 1, got, out) != got)
            r = AMK_EIO;
        bytes += got;
    }
    if (r == AMK_OK)
        r = amk_client_channel_exit_status(ch, &status);
    if (fclose(out) != 0 && r == AMK_OK)
        r = AMK_EIO;
    if (r != AMK_OK || status != 0)
        fprintf(stderr, "amiko-bench exec-cat: %s (status %d): %s\n", amk_strerror(r), status,
            amk_client_last_error(c));
    else
        bench_result("secs=%.6f total=%.6f bytes=%llu", bench_now() - t1, bench_now() - t0,
            bytes);
    amk_client_channel_free(ch);
    amk_client_free(c);
    free(buf);
    return r == AMK_OK && status == 0 ? 0 : 1;
}

int
bench_connect_latency(int argc, char **argv)
{
    struct bench_opts o;
    double t0;
    long n;

    if (bench_conn_parse(argc, argv, 0, &o) != 0)
        return 2;
    n = o.count > 0 ? o.count : 20;
    t0 = bench_now();
    for (long i = 0; i < n; i++) {
        struct amk_client *c = bench_connect(&o);
        int ok = c != NULL && bench_run_true(c, "true") == 0;
        if (c != NULL && amk_client_close(c) != AMK_OK)
            ok = 0;
        amk_client_free(c);
        if (!ok)
            return 1;
    }
    bench_result("secs=%.6f n=%ld", (bench_now() - t0) / (double)n, n);
    return 0;
}

int
bench_exec_live(int argc, char **argv)
{
    struct bench_opts o;
    struct amk_client *c;
    double t0;
    long n;

    if (bench_conn_parse(argc, argv, 0, &o) != 0)
        return 2;
    n = o.count > 0 ? o.count : 50;
    if ((c = bench_connect(&o)) == NULL)
        return 1;
    if (bench_run_true(c, "true") != 0) {   /* warm-up, not counted */
        amk_client_free(c);
        return 1;
    }
    t0 = bench_now();
    for (long i = 0; i < n; i++) {
        if (bench_run_true(c, "true") != 0) {
            amk_client_free(c);
            return 1;
        }
    }
    bench_result("secs=%.6f n=%ld", (bench_now() - t0) / (double)n, n);
    amk_client_free(c);
    return 0;
}
