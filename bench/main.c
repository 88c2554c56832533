/*
 * amiko-bench: the in-process benchmarks named on the command line (all
 * if none), or one network workload with its own arguments
 * (`amiko-bench sftp-get -p PORT -i KEY REMOTE LOCAL`); bench/run.py drives
 * the network workloads against real servers.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

int bench_packet(int argc, char **argv);
int bench_transport(int argc, char **argv);
int bench_sftp_get(int argc, char **argv);
int bench_sftp_put(int argc, char **argv);
int bench_sftp_tree_get(int argc, char **argv);
int bench_sftp_tree_put(int argc, char **argv);
int bench_exec_cat(int argc, char **argv);
int bench_connect_latency(int argc, char **argv);
int bench_exec_live(int argc, char **argv);
int bench_fanout(int argc, char **argv);
int bench_connrate(int argc, char **argv);
int bench_idle(int argc, char **argv);

static const struct amk_bench BENCHES[] = {
    { "packet", "packet-layer seal/open MB/s per cipher, next to openssl speed", bench_packet },
    { "transport", "transport engine to engine in memory, MB/s per cipher", bench_transport },
};

/* Network workloads: one per invocation, with its own arguments. */
static const struct amk_bench COMMANDS[] = {
    { "sftp-get", "SFTP download of one file: REMOTE LOCAL", bench_sftp_get },
    { "sftp-put", "SFTP upload of one file: LOCAL REMOTE", bench_sftp_put },
    { "sftp-tree-get", "SFTP download of a directory tree: REMOTE-DIR LOCAL-DIR",
        bench_sftp_tree_get },
    { "sftp-tree-put", "SFTP upload of a directory tree: LOCAL-DIR REMOTE-DIR",
        bench_sftp_tree_put },
    { "exec-cat", "`cat REMOTE` through an exec channel into LOCAL", bench_exec_cat },
    { "connect-latency", "-n N x (connect + auth + exec true + close)", bench_connect_latency },
    { "exec-live", "-n N x exec true on one authenticated connection", bench_exec_live },
    { "fanout", "-n N sessions running true at once on one connection, one thread",
        bench_fanout },
    { "connrate", "-n CLIENTS processes doing connect+auth+exec true for -t SECS",
        bench_connrate },
    { "idle", "-n N idle authenticated connections held until stdin ends", bench_idle },
};

double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    size_t n = sizeof(BENCHES) / sizeof(BENCHES[0]);
    size_t ncmd = sizeof(COMMANDS) / sizeof(COMMANDS[0]);
    int rc = 0, ran = 0;

    if (argc > 1 && (strcmp(argv[1], "-l") == 0 || strcmp(argv[1], "--list") == 0)) {
        for (size_t i = 0; i < n; i++)
            printf("%-16s %s\n", BENCHES[i].name, BENCHES[i].what);
        for (size_t i = 0; i < ncmd; i++)
            printf("%-16s %s\n", COMMANDS[i].name, COMMANDS[i].what);
        return 0;
    }
    for (size_t i = 0; argc > 1 && i < ncmd; i++) {
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    }
    for (size_t i = 0; i < n; i++) {
        int wanted = argc <= 1;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], BENCHES[i].name) == 0;
        if (!wanted)
            continue;
        ran++;
        if (BENCHES[i].run(argc, argv) != 0)
            rc = 1;
    }
    if (ran == 0) {
        fprintf(stderr, "amiko-bench: no such benchmark (try --list)\n");
        return 2;
    }
    return rc;
}
