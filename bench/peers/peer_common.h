/* Option parsing and helpers shared by the libssh2 and libssh benchmark peers. */
#ifndef BENCH_PEER_COMMON_H
#define BENCH_PEER_COMMON_H

struct peer_opts {
    const char *cmd;       /* the workload name (argv[1]) */
    const char *host;
    unsigned port;
    const char *user;
    const char *key;       /* private key file */
    const char *cipher;
    const char *mac;
    long count;
    char **args;           /* positionals */
    int nargs;
};

/* Parses "WORKLOAD -p PORT -i KEY [-H HOST] [-u USER] [-c CIPHER] [-m MAC] [-n N] ARGS...";
 * -1 (message printed) on bad arguments. */
int peer_parse(int argc, char **argv, struct peer_opts *o);
/* A TCP connection to o->host:o->port, or -1. */
int peer_tcp(const struct peer_opts *o);
double peer_now(void);

#endif
