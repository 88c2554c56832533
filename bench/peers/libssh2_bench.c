/*
 * bench-libssh2: the libssh2 peer of bench/run.py, through libssh2's
 * fastest public calls: libssh2_sftp_read/write with 1 MiB buffers (which
 * libssh2 splits into pipelined requests) and a 16 MiB channel window.
 *
 *   bench-libssh2 sftp-get|sftp-put|exec-cat OPTS SRC DST
 *   bench-libssh2 connect-latency|exec-live OPTS -n N
 *
 * Prints "RESULT secs=..." as amiko-bench does. Host keys are not checked
 * (the driver starts the server with fresh keys).
 */
#include <fcntl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer_common.h"

#define BUF (1024 * 1024)
#define WINDOW (16u * 1024 * 1024)

struct conn {
    int fd;
    LIBSSH2_SESSION *s;
};

static int
fail(struct conn *c, const char *what)
{
    char *msg = NULL;
    if (c->s != NULL)
        libssh2_session_last_error(c->s, &msg, NULL, 0);
    fprintf(stderr, "bench-libssh2: %s: %s\n", what, msg != NULL ? msg : "?");
    return 1;
}

static int
conn_open(const struct peer_opts *o, struct conn *c)
{
    memset(c, 0, sizeof(*c));
    if ((c->fd = peer_tcp(o)) < 0)
        return 1;
    if ((c->s = libssh2_session_init()) == NULL)
        return 1;
    libssh2_session_set_blocking(c->s, 1);
    if (libssh2_session_method_pref(c->s, LIBSSH2_METHOD_CRYPT_CS, o->cipher) != 0 ||
        libssh2_session_method_pref(c->s, LIBSSH2_METHOD_CRYPT_SC, o->cipher) != 0)
        return fail(c, "cipher");
    if (o->mac != NULL && (libssh2_session_method_pref(c->s, LIBSSH2_METHOD_MAC_CS, o->mac) != 0 ||
        libssh2_session_method_pref(c->s, LIBSSH2_METHOD_MAC_SC, o->mac) != 0))
        return fail(c, "mac");
    if (libssh2_session_handshake(c->s, c->fd) != 0)
        return fail(c, "handshake");
    if (libssh2_userauth_publickey_fromfile(c->s, o->user, NULL, o->key, NULL) != 0)
        return fail(c, "auth");
    return 0;
}

static void
conn_close(struct conn *c)
{
    if (c->s != NULL) {
        libssh2_session_disconnect(c->s, "bye");
        libssh2_session_free(c->s);
    }
    if (c->fd >= 0)
        close(c->fd);
}

static LIBSSH2_CHANNEL *
exec_start(struct conn *c, const char *cmd)
{
    LIBSSH2_CHANNEL *ch = libssh2_channel_open_ex(c->s, "session", 7, WINDOW, 32768, NULL, 0);
    if (ch == NULL || libssh2_channel_exec(ch, cmd) != 0) {
        fail(c, "exec");
        return NULL;
    }
    return ch;
}

/* Reads the channel to its end into @p fd (-1: discard); exit status or -1. */
static int
exec_finish(LIBSSH2_CHANNEL *ch, int fd, char *buf)
{
    int status;
    for (;;) {
        ssize_t n = libssh2_channel_read(ch, buf, BUF);
        if (n < 0)
            return -1;
        if (n == 0 && libssh2_channel_eof(ch))
            break;
        if (fd >= 0 && write(fd, buf, (size_t)n) != n)
            return -1;
    }
    libssh2_channel_close(ch);
    libssh2_channel_wait_closed(ch);
    status = libssh2_channel_get_exit_status(ch);
    libssh2_channel_free(ch);
    return status;
}

static int
sftp_copy(struct conn *c, const struct peer_opts *o, int put, char *buf)
{
    LIBSSH2_SFTP *sftp = libssh2_sftp_init(c->s);
    LIBSSH2_SFTP_HANDLE *h;
    int fd, rc = 0;

    if (sftp == NULL)
        return fail(c, "sftp init");
    if (put) {
        fd = open(o->args[0], O_RDONLY);
        h = libssh2_sftp_open(sftp, o->args[1],
            LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644);
    } else {
        fd = open(o->args[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        h = libssh2_sftp_open(sftp, o->args[0], LIBSSH2_FXF_READ, 0);
    }
    if (fd < 0 || h == NULL)
        return fail(c, "open");
    for (;;) {
        ssize_t n;
        if (put) {
            n = read(fd, buf, BUF);
            if (n <= 0) {
                rc = n < 0;
                break;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = libssh2_sftp_write(h, buf + off, (size_t)(n - off));
                if (w < 0)
                    return fail(c, "sftp write");
                off += w;
            }
        } else {
            n = libssh2_sftp_read(h, buf, BUF);
            if (n < 0)
                return fail(c, "sftp read");
            if (n == 0)
                break;
            if (write(fd, buf, (size_t)n) != n)
                return 1;
        }
    }
    libssh2_sftp_close(h);
    libssh2_sftp_shutdown(sftp);
    close(fd);
    return rc;
}

int
main(int argc, char **argv)
{
    struct peer_opts o;
    struct conn c;
    double t0, t1;
    char *buf = malloc(BUF);
    long n;
    int rc = 0;

    if (peer_parse(argc, argv, &o) != 0 || buf == NULL)
        return 2;
    n = o.count > 0 ? o.count : 20;
    if (libssh2_init(0) != 0)
        return 1;
    if (strcmp(o.cmd, "connect-latency") == 0 && o.nargs == 0) {
        t0 = peer_now();
        for (long i = 0; i < n && rc == 0; i++) {
            LIBSSH2_CHANNEL *ch;
            rc = conn_open(&o, &c);
            if (rc == 0 && ((ch = exec_start(&c, "true")) == NULL || exec_finish(ch, -1, buf) != 0))
                rc = 1;
            conn_close(&c);
        }
        if (rc == 0)
            printf("RESULT secs=%.6f n=%ld\n", (peer_now() - t0) / (double)n, n);
        return rc;
    }
    if (strcmp(o.cmd, "exec-live") == 0 && o.nargs == 0) {
        if (conn_open(&o, &c) != 0)
            return 1;
        t0 = peer_now();
        for (long i = 0; i <= n && rc == 0; i++) {
            LIBSSH2_CHANNEL *ch = exec_start(&c, "true");
            if (i == 0)
                t0 = peer_now();   /* the first one is a warm-up */
            if (ch == NULL || exec_finish(ch, -1, buf) != 0)
                rc = 1;
        }
        if (rc == 0)
            printf("RESULT secs=%.6f n=%ld\n", (peer_now() - t0) / (double)n, n);
        conn_close(&c);
        return rc;
    }
    if (o.nargs != 2 || (strcmp(o.cmd, "sftp-get") != 0 && strcmp(o.cmd, "sftp-put") != 0 &&
        strcmp(o.cmd, "exec-cat") != 0)) {
        fprintf(stderr, "bench-libssh2: unknown workload or wrong arguments: %s\n", o.cmd);
        return 2;
    }
    t0 = peer_now();
    if (conn_open(&o, &c) != 0)
        return 1;
    t1 = peer_now();
    if (strcmp(o.cmd, "exec-cat") == 0) {
        char cmd[4200];
        LIBSSH2_CHANNEL *ch;
        int fd = open(o.args[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        snprintf(cmd, sizeof(cmd), "cat '%s'", o.args[0]);
        if (fd < 0 || (ch = exec_start(&c, cmd)) == NULL || exec_finish(ch, fd, buf) != 0)
            rc = 1;
        if (fd >= 0)
            close(fd);
    } else {
        rc = sftp_copy(&c, &o, strcmp(o.cmd, "sftp-put") == 0, buf);
    }
    if (rc == 0)
        printf("RESULT secs=%.6f total=%.6f\n", peer_now() - t1, peer_now() - t0);
    conn_close(&c);
    libssh2_exit();
    free(buf);
    return rc;
}
