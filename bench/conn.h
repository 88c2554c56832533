/* amiko-bench: options and connection set-up shared by the network benchmarks. */
#ifndef AMK_BENCH_CONN_H
#define AMK_BENCH_CONN_H

#include <amiko.h>

/* The options every network benchmark takes (see bench_conn_usage()). */
struct bench_opts {
    const char *host;      /* -H, default 127.0.0.1 */
    unsigned port;         /* -p, required */
    const char *user;      /* -u, default: the user running us */
    const char *key;       /* -i, private key file, required */
    const char *cipher;    /* -c, default aes128-gcm@openssh.com */
    const char *mac;       /* -m, default none (the server's choice) */
    long count;            /* -n, workload-specific count */
    double seconds;        /* -t, workload-specific duration */
    int nargs;             /* positional arguments after the options */
    char **args;
};

/* Parses argv (argv[0] is the subcommand) into @p o; wants @p nargs
 * positionals. Prints a message and returns -1 on bad arguments. */
int bench_conn_parse(int argc, char **argv, int nargs, struct bench_opts *o);

/* The usage line of the common options. */
#define BENCH_CONN_USAGE "-p PORT -i KEY [-H HOST] [-u USER] [-c CIPHER] [-m MAC] [-n N] [-t SECS]"

/* Connects and authenticates a blocking client; NULL (message printed) on failure. */
struct amk_client *bench_connect(const struct bench_opts *o);

/* Connect + exec @p cmd + wait for its exit status; 0 when it exited 0. */
int bench_run_true(struct amk_client *c, const char *cmd);

/* Prints "RESULT key=value..." lines the driver (bench/run.py) parses. */
void bench_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
