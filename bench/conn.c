/*
 * amiko-bench: the common options of the network benchmarks and the
 * connection they all start with: a blocking amk_client with one key
 * file, the cipher the benchmark table names, and host keys accepted in
 * memory (the driver starts the server itself, with fresh keys).
 */
#include "conn.h"

#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
bench_conn_parse(int argc, char **argv, int nargs, struct bench_opts *o)
{
    struct passwd *pw = getpwuid(geteuid());
    char *end;
    int ch;

    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->user = pw != NULL ? pw->pw_name : "root";
    o->cipher = "aes128-gcm@openssh.com";
    optind = 1;
    opterr = 0;
    while ((ch = getopt(argc, argv, "H:p:u:i:c:m:n:t:")) != -1) {
        switch (ch) {
        case 'H': o->host = optarg; break;
        case 'u': o->user = optarg; break;
        case 'i': o->key = optarg; break;
        case 'c': o->cipher = optarg; break;
        case 'm': o->mac = optarg; break;
        case 'p':
            o->port = (unsigned)strtoul(optarg, &end, 10);
            if (*end != '\0' || o->port == 0 || o->port > 65535)
                goto bad;
            break;
        case 'n':
            o->count = strtol(optarg, &end, 10);
            if (*end != '\0' || o->count <= 0 || o->count > 1000000)
                goto bad;
            break;
        case 't':
            o->seconds = strtod(optarg, &end);
            if (*end != '\0' || !(o->seconds > 0 && o->seconds < 86400))
                goto bad;
            break;
        default:
            goto bad;
        }
    }
    if (o->port == 0 || o->key == NULL || argc - optind != nargs)
        goto bad;
    o->nargs = nargs;
    o->args = argv + optind;
    return 0;
bad:
    fprintf(stderr, "amiko-bench %s: bad arguments (usage: amiko-bench %s %s%s)\n", argv[0],
        argv[0], BENCH_CONN_USAGE, nargs > 0 ? " ARGS..." : "");
    return -1;
}

struct amk_client *
bench_connect(const struct bench_opts *o)
{
    struct amk_client *c = NULL;
    int r = amk_client_new(&c);

    if (r == AMK_OK)
        r = amk_client_set_hostkey_policy(c, AMK_HOSTKEY_WARN);
    if (r == AMK_OK)
        r = amk_client_set_allow_default_keys(c, 0);
    if (r == AMK_OK)
        r = amk_client_add_key_file(c, o->key);
    if (r == AMK_OK)
        r = amk_client_set_algorithms(c, AMK_ALG_CIPHER, o->cipher);
    if (r == AMK_OK && o->mac != NULL)
        r = amk_client_set_algorithms(c, AMK_ALG_MAC, o->mac);
    if (r == AMK_OK)
        r = amk_client_connect(c, o->host, (uint16_t)o->port, o->user, NULL);
    if (r != AMK_OK) {
        fprintf(stderr, "amiko-bench: connect %s:%u: %s: %s\n", o->host, o->port,
            amk_strerror(r), c != NULL ? amk_client_last_error(c) : "");
        amk_client_free(c);
        return NULL;
    }
    return c;
}

int
bench_run_true(struct amk_client *c, const char *cmd)
{
    struct amk_client_channel *ch = NULL;
    int status = -1, r;

    r = amk_client_exec(c, cmd, 0, &ch);
    if (r == AMK_OK)
        r = amk_client_channel_exit_status(ch, &status);
    if (r != AMK_OK)
        fprintf(stderr, "amiko-bench: exec %s: %s: %s\n", cmd, amk_strerror(r),
            amk_client_last_error(c));
    amk_client_channel_free(ch);
    return r == AMK_OK && status == 0 ? 0 : -1;
}

void
bench_result(const char *fmt, ...)
{
    va_list ap;

    printf("RESULT ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}
