/*
 * amiko-bench SFTP workloads, through the public blocking API only
 * (amk_sftp_get / amk_sftp_put, which keep many requests in flight), so
 * any speed-up of that API shows here:
 *
 *   sftp-get  OPTS REMOTE LOCAL     one file
 *   sftp-put  OPTS LOCAL REMOTE
 *   sftp-tree-get OPTS REMOTE-DIR LOCAL-DIR   a tree of small files
 *   sftp-tree-put OPTS LOCAL-DIR REMOTE-DIR
 *
 * Each connects, runs the transfer, and prints a RESULT line with the
 * seconds of the transfer alone and of connect + transfer; checksums are
 * the driver's job (bench/run.py).
 *
 * AMIKO_BENCH_TRACE=FILE appends a one-file transfer's progress to FILE
 * (time, rate, requests in flight and their adaptive limit, 20 times a
 * second) through the transfer object's callback, the same code as
 * amk_sftp_get / _put: for looking into a slow run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "conn.h"

int bench_sftp_get(int argc, char **argv);
int bench_sftp_put(int argc, char **argv);
int bench_sftp_tree_get(int argc, char **argv);
int bench_sftp_tree_put(int argc, char **argv);

#define PATH_CAP 4096

struct tree_ctx {
    struct amk_sftp *sftp;
    const char *from, *to;   /* roots */
    long files;
    int failed;
};

/* AMIKO_BENCH_TRACE's progress lines. */
static int
trace_progress(void *user, struct amk_sftp_transfer *t, const struct amk_sftp_transfer_progress *p)
{
    (void)t;
    fprintf((FILE *)user, "%8.3f s %10.1f MiB %8.1f MiB/s inflight %3zu limit %3zu peak %3zu%s\n",
        p->elapsed, (double)p->done / (1024.0 * 1024.0), p->rate / (1024.0 * 1024.0),
        p->inflight, p->inflight_limit, p->inflight_peak, p->finished ? " end" : "");
    return AMK_OK;
}

/* The transfer through a transfer object whose progress goes to @p trace. */
static int
traced(struct amk_sftp *s, const char *from, const char *to, int put, const char *trace)
{
    struct amk_sftp_transfer *t = NULL;
    FILE *f = fopen(trace, "a");
    int r;

    if (f == NULL) {
        perror(trace);
        return AMK_EIO;
    }
    fprintf(f, "== %s %s %s\n", put ? "put" : "get", from, to);
    r = put ? amk_sftp_transfer_start_put(s, from, to, 0, &t)
            : amk_sftp_transfer_start_get(s, from, to, 0, &t);
    if (r == AMK_OK) {
        amk_sftp_transfer_set_progress(t, trace_progress, f);
        r = amk_sftp_transfer_run(&t, 1);
        if (r == AMK_OK)
            r = amk_sftp_transfer_result(t);
        if (r != AMK_OK)
            fprintf(stderr, "amiko-bench: %s\n", amk_sftp_transfer_error(t));
    }
    amk_sftp_transfer_free(t);
    fclose(f);
    return r;
}

/* One whole-file transfer in the direction @p put. */
static int
one_file(int argc, char **argv, int put)
{
    struct bench_opts o;
    struct amk_client *c;
    struct amk_sftp *s = NULL;
    double t0, t1;
    int r;

    if (bench_conn_parse(argc, argv, 2, &o) != 0)
        return 2;
    t0 = bench_now();
    if ((c = bench_connect(&o)) == NULL)
        return 1;
    r = amk_sftp_new_client(&s, c);
    t1 = bench_now();
    if (r == AMK_OK && getenv("AMIKO_BENCH_TRACE") != NULL)
        r = traced(s, o.args[0], o.args[1], put, getenv("AMIKO_BENCH_TRACE"));
    else if (r == AMK_OK)
        r = put ? amk_sftp_put(s, o.args[0], o.args[1], 0, NULL, NULL)
                : amk_sftp_get(s, o.args[0], o.args[1], 0, NULL, NULL);
    if (r != AMK_OK)
        fprintf(stderr, "amiko-bench %s: %s: %s\n", argv[0], amk_strerror(r),
            s != NULL ? amk_sftp_last_error(s) : amk_client_last_error(c));
    else
        bench_result("secs=%.6f total=%.6f", bench_now() - t1, bench_now() - t0);
    amk_sftp_free(s);
    amk_client_free(c);
    return r == AMK_OK ? 0 : 1;
}

int
bench_sftp_get(int argc, char **argv)
{
    return one_file(argc, argv, 0);
}

int
bench_sftp_put(int argc, char **argv)
{
    return one_file(argc, argv, 1);
}

/* amk_sftp_walk callback: mirror directories locally, fetch files. */
static int
get_entry(void *user, const char *path, const struct amk_sftp_attrs *attrs)
{
    struct tree_ctx *t = user;
    char local[PATH_CAP];
    int r;

    snprintf(local, sizeof(local), "%s%s", t->to, path + strlen(t->from));
    if ((attrs->permissions & 0170000) == 0040000) {
        if (mkdir(local, 0755) != 0 && errno != EEXIST)
            return AMK_EIO;
        return AMK_OK;
    }
    r = amk_sftp_get(t->sftp, path, local, 0, NULL, NULL);
    t->files++;
    return r;
}

/* Walks the local tree under @p dir (parents first), mirroring it remotely. */
static int
put_dir(struct tree_ctx *t, const char *dir)
{
    char local[PATH_CAP], remote[PATH_CAP];
    struct dirent *e;
    struct stat st;
    DIR *d = opendir(dir);
    int r = AMK_OK;

    if (d == NULL)
        return AMK_EIO;
    while (r == AMK_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(local, sizeof(local), "%s/%s", dir, e->d_name);
        snprintf(remote, sizeof(remote), "%s%s", t->to, local + strlen(t->from));
        if (lstat(local, &st) != 0) {
            r = AMK_EIO;
        } else if (S_ISDIR(st.st_mode)) {
            r = amk_sftp_mkdir(t->sftp, remote, 0755);
            if (r == AMK_OK)
                r = put_dir(t, local);
        } else {
            r = amk_sftp_put(t->sftp, local, remote, 0, NULL, NULL);
            t->files++;
        }
    }
    closedir(d);
    return r;
}

static int
tree(int argc, char **argv, int put)
{
    struct bench_opts o;
    struct tree_ctx t;
    struct amk_client *c;
    double t0, t1;
    int r;

    if (bench_conn_parse(argc, argv, 2, &o) != 0)
        return 2;
    memset(&t, 0, sizeof(t));
    t.from = o.args[0];
    t.to = o.args[1];
    t0 = bench_now();
    if ((c = bench_connect(&o)) == NULL)
        return 1;
    r = amk_sftp_new_client(&t.sftp, c);
    t1 = bench_now();
    if (r == AMK_OK && put) {
        r = amk_sftp_mkdir(t.sftp, t.to, 0755);
        if (r == AMK_OK)
            r = put_dir(&t, t.from);
    } else if (r == AMK_OK) {
        if (mkdir(t.to, 0755) != 0 && errno != EEXIST)
            r = AMK_EIO;
        if (r == AMK_OK)
            r = amk_sftp_walk(t.sftp, t.from, get_entry, &t);
    }
    if (r != AMK_OK)
        fprintf(stderr, "amiko-bench %s: %s: %s\n", argv[0], amk_strerror(r),
            t.sftp != NULL ? amk_sftp_last_error(t.sftp) : amk_client_last_error(c));
    else
        bench_result("secs=%.6f total=%.6f files=%ld", bench_now() - t1, bench_now() - t0,
            t.files);
    amk_sftp_free(t.sftp);
    amk_client_free(c);
    return r == AMK_OK ? 0 : 1;
}

int
bench_sftp_tree_get(int argc, char **argv)
{
    return tree(argc, argv, 0);
}

int
bench_sftp_tree_put(int argc, char **argv)
{
    return tree(argc, argv, 1);
}
