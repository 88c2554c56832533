/*
 * bench-libssh: the libssh peer of bench/run.py, through libssh's fastest
 * public calls: asynchronous SFTP reads (sftp_async_read_begin with
 * IN_FLIGHT requests of CHUNK bytes outstanding) for get; libssh 0.10 has
 * no asynchronous write, so put is sftp_write of PUT_CHUNK at a time.
 *
 *   bench-libssh sftp-get|sftp-put|exec-cat OPTS SRC DST
 *   bench-libssh connect-latency|exec-live OPTS -n N
 *
 * Host keys are not checked (the driver starts the server with fresh keys).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer_common.h"

#define BUF (1024 * 1024)
#define CHUNK 32768
#define IN_FLIGHT 128
#define PUT_CHUNK (128 * 1024)

static int
fail(ssh_session s, const char *what)
{
    fprintf(stderr, "bench-libssh: %s: %s\n", what, s != NULL ? ssh_get_error(s) : "?");
    return 1;
}

static ssh_session
conn_open(const struct peer_opts *o)
{
    ssh_session s = ssh_new();
    ssh_key key = NULL;
    int port = (int)o->port, strict = 0;
    bool no = false;

    if (s == NULL)
        return NULL;
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
    ssh_options_set(s, SSH_OPTIONS_HOST, o->host);
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
    ssh_options_set(s, SSH_OPTIONS_USER, o->user);
    ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
    if (ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, o->cipher) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, o->cipher) != SSH_OK ||
        (o->mac != NULL && (ssh_options_set(s, SSH_OPTIONS_HMAC_C_S, o->mac) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_HMAC_S_C, o->mac) != SSH_OK))) {
        fail(s, "algorithms");
        goto bad;
    }
    if (ssh_connect(s) != SSH_OK) {
        fail(s, "connect");
        goto bad;
    }
    if (ssh_pki_import_privkey_file(o->key, NULL, NULL, NULL, &key) != SSH_OK ||
        ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
        fail(s, "auth");
        ssh_key_free(key);
        goto bad;
    }
    ssh_key_free(key);
    return s;
bad:
    ssh_free(s);
    return NULL;
}

static void
conn_close(ssh_session s)
{
    if (s != NULL) {
        ssh_disconnect(s);
        ssh_free(s);
    }
}

/* Runs @p cmd, its stdout into @p fd (-1: discarded); the exit status or -1. */
static int
exec_run(ssh_session s, const char *cmd, int fd, char *buf)
{
    ssh_channel ch = ssh_channel_new(s);
    int status = -1;

    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
        ssh_channel_request_exec(ch, cmd) != SSH_OK) {
        fail(s, "exec");
        goto out;
    }
    for (;;) {
        int n = ssh_channel_read(ch, buf, BUF, 0);
        if (n < 0)
            goto out;
        if (n == 0 && ssh_channel_is_eof(ch))
            break;
        if (fd >= 0 && write(fd, buf, (size_t)n) != n)
            goto out;
    }
    ssh_channel_send_eof(ch);
    ssh_channel_close(ch);
    status = ssh_channel_get_exit_status(ch);
out:
    if (ch != NULL)
        ssh_channel_free(ch);
    return status;
}

static int
sftp_get(ssh_session s, sftp_session sftp, const char *remote, const char *local, char *buf)
{
    sftp_file f = sftp_open(sftp, remote, O_RDONLY, 0);
    sftp_attributes a;
    uint32_t ids[IN_FLIGHT];
    uint64_t size, asked = 0;
    size_t head = 0, tail = 0;
    int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (f == NULL || fd < 0 || (a = sftp_fstat(f)) == NULL)
        return fail(s, "sftp open");
    size = a->size;
    sftp_attributes_free(a);
    for (;;) {
        while (tail - head < IN_FLIGHT && asked < size) {
            int id = sftp_async_read_begin(f, CHUNK);
            if (id < 0)
                return fail(s, "sftp read begin");
            ids[tail++ % IN_FLIGHT] = (uint32_t)id;
            asked += CHUNK;
        }
        if (head == tail)
            break;
        int n = sftp_async_read(f, buf, CHUNK, ids[head++ % IN_FLIGHT]);
        if (n < 0)
            return fail(s, "sftp read");
        if (n > 0 && write(fd, buf, (size_t)n) != n)
            return 1;
    }
    sftp_close(f);
    return close(fd) == 0 ? 0 : 1;
}

static int
sftp_put(ssh_session s, sftp_session sftp, const char *local, const char *remote, char *buf)
{
    sftp_file f = sftp_open(sftp, remote, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fd = open(local, O_RDONLY);

    if (f == NULL || fd < 0)
        return fail(s, "sftp open");
    for (;;) {
        ssize_t n = read(fd, buf, PUT_CHUNK);
        if (n < 0)
            return 1;
        if (n == 0)
            break;
        if (sftp_write(f, buf, (size_t)n) != n)
            return fail(s, "sftp write");
    }
    close(fd);
    return sftp_close(f) == SSH_OK ? 0 : fail(s, "sftp close");
}

int
main(int argc, char **argv)
{
    struct peer_opts o;
    ssh_session s;
    double t0, t1;
    char *buf = malloc(BUF);
    long n;
    int rc = 0;

    if (peer_parse(argc, argv, &o) != 0 || buf == NULL)
        return 2;
    n = o.count > 0 ? o.count : 20;
    ssh_init();
    if (strcmp(o.cmd, "connect-latency") == 0 && o.nargs == 0) {
        t0 = peer_now();
        for (long i = 0; i < n && rc == 0; i++) {
            if ((s = conn_open(&o)) == NULL || exec_run(s, "true", -1, buf) != 0)
                rc = 1;
            conn_close(s);
        }
        if (rc == 0)
            printf("RESULT secs=%.6f n=%ld\n", (peer_now() - t0) / (double)n, n);
        return rc;
    }
    if (strcmp(o.cmd, "exec-live") == 0 && o.nargs == 0) {
        if ((s = conn_open(&o)) == NULL || exec_run(s, "true", -1, buf) != 0)
            return 1;
        t0 = peer_now();
        for (long i = 0; i < n && rc == 0; i++)
            rc = exec_run(s, "true", -1, buf) != 0;
        if (rc == 0)
            printf("RESULT secs=%.6f n=%ld\n", (peer_now() - t0) / (double)n, n);
        conn_close(s);
        return rc;
    }
    if (o.nargs != 2 || (strcmp(o.cmd, "sftp-get") != 0 && strcmp(o.cmd, "sftp-put") != 0 &&
        strcmp(o.cmd, "exec-cat") != 0)) {
        fprintf(stderr, "bench-libssh: unknown workload or wrong arguments: %s\n", o.cmd);
        return 2;
    }
    t0 = peer_now();
    if ((s = conn_open(&o)) == NULL)
        return 1;
    t1 = peer_now();
    if (strcmp(o.cmd, "exec-cat") == 0) {
        char cmd[4200];
        int fd = open(o.args[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        snprintf(cmd, sizeof(cmd), "cat '%s'", o.args[0]);
        rc = fd < 0 || exec_run(s, cmd, fd, buf) != 0;
        if (fd >= 0)
            close(fd);
    } else {
        sftp_session sftp = sftp_new(s);
        if (sftp == NULL || sftp_init(sftp) != SSH_OK)
            rc = fail(s, "sftp init");
        else if (strcmp(o.cmd, "sftp-get") == 0)
            rc = sftp_get(s, sftp, o.args[0], o.args[1], buf);
        else
            rc = sftp_put(s, sftp, o.args[0], o.args[1], buf);
        if (sftp != NULL)
            sftp_free(sftp);
    }
    if (rc == 0)
        printf("RESULT secs=%.6f total=%.6f\n", peer_now() - t1, peer_now() - t0);
    conn_close(s);
    free(buf);
    ssh_finalize();
    return rc;
}
