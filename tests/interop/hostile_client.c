/* see hostile_client.h */
#include "hostile_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/userauth.h"
#include "channel/conn.h"
#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "sftp/sftp_codec.h"
#include "transport/transport.h"
#include "util/buf.h"

#define HC_SSH_OK "hostile-ok"

static int
reference_mode(void)
{
    const char *e = getenv("HOSTILE_SSHD");

    return e != NULL && strcmp(e, "1") == 0;
}

int
hc_server_init(struct hc_server *h, const char *amiko_path)
{
    memset(h, 0, sizeof(*h));
    h->pid = -1;
    if (!sshd_fixture_available())
        return FIXTURE_SKIP;
    if (getenv("HOSTILE_AMIKO") != NULL)
        amiko_path = getenv("HOSTILE_AMIKO");   /* another build of the tool */
    h->amiko = reference_mode() ? NULL : amiko_path;
    if (!reference_mode() && (amiko_path == NULL || access(amiko_path, X_OK) != 0)) {
        fprintf(stderr, "hostile: no amiko tool at %s\n", amiko_path ? amiko_path : "(null)");
        return -1;
    }
    if (sshd_fixture_init(&h->fx) != 0)
        return -1;
    sshd_fixture_path(&h->fx, "serve.log", h->log, sizeof(h->log));
    sshd_fixture_path(&h->fx, "root", h->root, sizeof(h->root));
    if (mkdir(h->root, 0700) != 0 || interop_hostkeys_load(&h->hk, &h->fx) != 0 ||
        amk_key_load_file(h->fx.user_key, NULL, NULL, &h->user_key) != AMK_OK)
        return -1;
    return 0;
}

/* Reference mode: -o Name=value options as sshd_config lines. */
static int
start_sshd(struct hc_server *h, const char *const *opts)
{
    char lines[2048] = "";
    size_t n = 0;

    for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
        const char *eq = strchr(opts[i], '=');
        if (eq == NULL)
            return -1;
        n += (size_t)snprintf(lines + n, sizeof(lines) - n, "%.*s %s\n", (int)(eq - opts[i]),
            opts[i], eq + 1);
        if (n >= sizeof(lines))
            return -1;
    }
    if (sshd_fixture_start(&h->fx, lines) != 0)
        return -1;
    snprintf(h->log, sizeof(h->log), "%s", h->fx.log);
    h->pid = h->fx.pid;
    h->port = h->fx.port;
    return 0;
}

int
hc_server_start(struct hc_server *h, const char *const *opts)
{
    char port_file[FIXTURE_PATH_MAX], hostkey[FIXTURE_PATH_MAX], ak[FIXTURE_PATH_MAX];
    char pw[] = HC_PW_USER ":" HC_PW_PASS;
    const char *argv[20 + 2 * HC_MAX_OPTS];
    int64_t deadline = amk_io_deadline(HC_WAIT_MS);
    unsigned port = 0;
    size_t n = 0;
    FILE *pf;

    if (h->amiko == NULL)
        return start_sshd(h, opts);
    sshd_fixture_path(&h->fx, "serve.port", port_file, sizeof(port_file));
    sshd_fixture_path(&h->fx, "host_ed25519", hostkey, sizeof(hostkey));
    sshd_fixture_path(&h->fx, "authorized_keys", ak, sizeof(ak));
    unlink(port_file);
    argv[n++] = h->amiko;
    argv[n++] = "serve";
    argv[n++] = "-p";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "-h";
    argv[n++] = hostkey;
    argv[n++] = "--authorized-keys";
    argv[n++] = ak;
    argv[n++] = "--password";
    argv[n++] = pw;
    argv[n++] = "--root";
    argv[n++] = h->root;
    argv[n++] = "--allow-exec";     /* the channel tests run commands too */
    if (geteuid() == 0)     /* CI runs as root, which serve refuses by default */
        argv[n++] = "--allow-root";
    for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
        if (i >= HC_MAX_OPTS)
            return -1;
        argv[n++] = "-o";
        argv[n++] = opts[i];
    }
    argv[n] = NULL;
    h->pid = fork();
    if (h->pid < 0)
        return -1;
    if (h->pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int err = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (in < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(err, 1);
        dup2(err, 2);
        /* sessions run $SHELL -c: /bin/sh reads no login scripts of the
         * test user (a slow ~/.bashrc is not what these tests measure) */
        setenv("SHELL", "/bin/sh", 1);
        execv(h->amiko, (char *const *)argv);
        _exit(127);
    }
    while ((pf = fopen(port_file, "r")) == NULL) {
        if (amk_io_remaining_ms(deadline) == 0 || !hc_server_alive(h)) {
            fprintf(stderr, "hostile: amiko serve did not start\n");
            hc_server_dump_log(h);
            return -1;
        }
        usleep(10000);
    }
    if (fscanf(pf, "%u", &port) != 1 || port == 0 || port > 65535) {
        fclose(pf);
        return -1;
    }
    fclose(pf);
    h->port = (uint16_t)port;
    return 0;
}

int
hc_server_alive(struct hc_server *h)
{
    int status;

    if (h->pid <= 0)
        return 0;
    if (h->amiko == NULL)
        return kill(h->pid, 0) == 0;
    if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
        fprintf(stderr, "hostile: the server ended: %s %d\n",
            WIFSIGNALED(status) ? "signal" : "exit status",
            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        h->pid = -1;
        return 0;
    }
    return 1;
}

int
hc_server_stop(struct hc_server *h)
{
    int status = 0;
    int64_t deadline = amk_io_deadline(10000);

    if (h->amiko == NULL) {
        sshd_fixture_stop(&h->fx);
        h->pid = -1;
        return 0;
    }
    if (h->pid <= 0)
        return -1;
    kill(h->pid, SIGTERM);
    while (waitpid(h->pid, &status, WNOHANG) == 0) {
        if (amk_io_remaining_ms(deadline) == 0) {
            fprintf(stderr, "hostile: the server ignored SIGTERM for 10 s, killed\n");
            kill(h->pid, SIGKILL);
            waitpid(h->pid, &status, 0);
            h->pid = -1;
            return -1;
        }
        usleep(10000);
    }
    h->pid = -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

void
hc_server_cleanup(struct hc_server *h)
{
    if (h->pid > 0)
        (void)hc_server_stop(h);
    interop_hostkeys_free(&h->hk);
    amk_key_free(h->user_key);
    h->user_key = NULL;
    sshd_fixture_cleanup(&h->fx);
}

long
hc_server_rss_kb(const struct hc_server *h)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}

int
hc_server_fd_count(const struct hc_server *h)
{
    char path[64];
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)h->pid);
    if ((d = opendir(path)) == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int
hc_server_log_count(const struct hc_server *h, const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *f = fopen(h->log, "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

void
hc_server_dump_log(const struct hc_server *h)
{
    char buf[4096];
    size_t n;
    FILE *f = fopen(h->log, "r");

    if (f == NULL)
        return;
    if (fseek(f, -(long)sizeof(buf) + 1, SEEK_END) != 0)
        rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "--- server log (tail) ---\n%s\n---\n", buf);
}

pid_t
hc_openssh_spawn(const struct hc_server *h, const char *prog, uint16_t port,
    const char *const *opts, const char *command, const char *in_path, const char *out_path)
{
    const char *argv[64];
    char port_s[16], dest[128];
    size_t n = 0;
    pid_t pid;

    snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", h->fx.user);
    argv[n++] = prog;
    argv[n++] = "-F";
    argv[n++] = "/dev/null";
    argv[n++] = strcmp(prog, SSH_PATH) == 0 ? "-p" : "-P";
    argv[n++] = port_s;
    argv[n++] = "-i";
    argv[n++] = h->fx.user_key;
    argv[n++] = "-o";
    argv[n++] = "IdentitiesOnly=yes";
    argv[n++] = "-o";
    argv[n++] = "BatchMode=yes";
    argv[n++] = "-o";
    argv[n++] = "StrictHostKeyChecking=no";
    argv[n++] = "-o";
    argv[n++] = "UserKnownHostsFile=/dev/null";
    argv[n++] = "-o";
    argv[n++] = "ConnectTimeout=10";
    for (size_t i = 0; opts != NULL && opts[i] != NULL && n < 60; i++)
        argv[n++] = opts[i];
    argv[n++] = dest;
    if (command != NULL)
        argv[n++] = command;
    argv[n] = NULL;
    pid = fork();
    if (pid != 0)
        return pid;
    {
        int in = open(in_path != NULL ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path != NULL ? out_path : "/dev/null",
            O_WRONLY | O_CREAT | O_TRUNC, 0600);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

pid_t
hc_ssh_spawn(const struct hc_server *h, const char *command, const char *out_path)
{
    return hc_openssh_spawn(h, SSH_PATH, h->port, NULL, command, NULL, out_path);
}

int
hc_file_has(const char *path, const char *needle)
{
    size_t cap = (size_t)8 * 1024 * 1024, n;
    char *buf = malloc(cap);
    FILE *f = fopen(path, "r");
    int found = 0;

    /* binary output (a command's stdout) may come before the text we want */
    if (buf != NULL && f != NULL) {
        n = fread(buf, 1, cap, f);
        found = memmem(buf, n, needle, strlen(needle)) != NULL;
    }
    if (f != NULL)
        fclose(f);
    free(buf);
    return found;
}

int
hc_wait_pid(pid_t pid, int timeout_ms)
{
    int64_t deadline = amk_io_deadline(timeout_ms);
    int status;

    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (amk_io_remaining_ms(deadline) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(5000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
hc_normal_client(const struct hc_server *h, int timeout_ms, int64_t *took_ms)
{
    char out_path[FIXTURE_PATH_MAX], out[1024] = "";
    int64_t start = amk_io_now_ms();
    int status;
    size_t n = 0;
    FILE *f;

    sshd_fixture_path(&h->fx, "ssh.out", out_path, sizeof(out_path));
    status = hc_wait_pid(hc_ssh_spawn(h, "echo " HC_SSH_OK, out_path), timeout_ms);
    if (took_ms != NULL)
        *took_ms = amk_io_now_ms() - start;
    if ((f = fopen(out_path, "r")) != NULL) {
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    if (status == 0 && strstr(out, HC_SSH_OK) != NULL)
        return 0;
    fprintf(stderr, "hostile: the normal client failed (status %d after %lld ms): %s\n",
        status, (long long)(amk_io_now_ms() - start), out);
    return -1;
}

int
hc_server_survived(struct hc_server *h, long rss_before_kb, long max_growth_kb)
{
    long rss;
    int64_t took = -1;

    if (!hc_server_alive(h)) {
        hc_server_dump_log(h);
        return -1;
    }
    if (hc_normal_sftp(h, HC_WAIT_MS, &took) != 0) {
        hc_server_dump_log(h);
        return -1;
    }
    fprintf(stderr, "hostile: a normal sftp login + pwd took %lld ms\n", (long long)took);
    if (took > HC_PROMPT_MS) {
        fprintf(stderr, "hostile: not prompt: %lld ms (bound %d)\n", (long long)took,
            HC_PROMPT_MS);
        return -1;
    }
    rss = hc_server_rss_kb(h);
    fprintf(stderr, "hostile: server RSS %ld KiB -> %ld KiB\n", rss_before_kb, rss);
    if (rss_before_kb > 0 && rss > rss_before_kb + max_growth_kb) {
        fprintf(stderr, "hostile: server memory grew by %ld KiB (bound %ld)\n",
            rss - rss_before_kb, max_growth_kb);
        return -1;
    }
    return 0;
}

int
hc_normal_sftp(const struct hc_server *h, int timeout_ms, int64_t *took_ms)
{
    char batch[FIXTURE_PATH_MAX], out_path[FIXTURE_PATH_MAX], out[1024] = "";
    const char *opts[] = { "-b", batch, NULL };
    int64_t start = amk_io_now_ms();
    int status;
    size_t n;
    FILE *f;

    sshd_fixture_path(&h->fx, "normal.batch", batch, sizeof(batch));
    sshd_fixture_path(&h->fx, "sftp.out", out_path, sizeof(out_path));
    if ((f = fopen(batch, "w")) == NULL)
        return -1;
    fputs("pwd\n", f);
    fclose(f);
    status = hc_wait_pid(hc_openssh_spawn(h, HC_SFTP_PATH, h->port, opts, NULL, NULL, out_path),
        timeout_ms);
    if (took_ms != NULL)
        *took_ms = amk_io_now_ms() - start;
    if ((f = fopen(out_path, "r")) != NULL) {
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    if (status == 0 && strstr(out, "Remote working directory") != NULL)
        return 0;
    fprintf(stderr, "hostile: the normal sftp client failed (status %d after %lld ms): %s\n",
        status, (long long)(amk_io_now_ms() - start), out);
    return -1;
}

/* --- raw TCP -------------------------------------------------------- */

static int
tcp_socket(const struct hc_server *h, int nonblocking)
{
    struct sockaddr_in in;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    int one = 1;

    if (fd < 0)
        return -1;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = htons(h->port);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&in, sizeof(in)) != 0 &&
        !(nonblocking && errno == EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

int
hc_tcp_connect(const struct hc_server *h)
{
    return tcp_socket(h, 0);
}

int
hc_tcp_connect_nb(const struct hc_server *h)
{
    return tcp_socket(h, 1);
}

int
hc_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    int64_t deadline = amk_io_deadline(HC_WAIT_MS);

    while (len > 0) {
        ssize_t n = send(fd, b, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            if (amk_io_remaining_ms(deadline) == 0)
                return -1;
            (void)poll(&pfd, 1, amk_io_remaining_ms(deadline));
            continue;
        }
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

int64_t
hc_wait_closed(int fd, int timeout_ms, uint8_t *seen, size_t cap, size_t *seen_len)
{
    int64_t start = amk_io_now_ms(), deadline = amk_io_deadline(timeout_ms);
    size_t have = seen_len != NULL ? *seen_len : 0;
    uint8_t buf[16384];

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int left = amk_io_remaining_ms(deadline);
        ssize_t n;

        if (left == 0)
            return -1;
        if (poll(&pfd, 1, left) <= 0)
            continue;
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return amk_io_now_ms() - start;
        if (seen != NULL && have < cap) {
            size_t k = (size_t)n < cap - have ? (size_t)n : cap - have;
            memcpy(seen + have, buf, k);
            have += k;
            if (seen_len != NULL)
                *seen_len = have;
        }
    }
}

size_t
hc_write_reading(int fd, const void *p, size_t len, uint8_t *seen, size_t cap, size_t *seen_len)
{
    const uint8_t *b = p;
    int64_t deadline = amk_io_deadline(HC_WAIT_MS);
    size_t done = 0;
    uint8_t buf[16384];

    while (done < len && amk_io_remaining_ms(deadline) > 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
        ssize_t n;

        if (poll(&pfd, 1, amk_io_remaining_ms(deadline)) <= 0)
            continue;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (n > 0 && seen != NULL && *seen_len < cap) {
                size_t k = (size_t)n < cap - *seen_len ? (size_t)n : cap - *seen_len;
                memcpy(seen + *seen_len, buf, k);
                *seen_len += k;
            }
        }
        if (pfd.revents & POLLOUT) {
            n = send(fd, b + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                break;
            if (n > 0)
                done += (size_t)n;
        }
    }
    return done;
}

int
hc_peer_closed(int fd)
{
    char buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            continue;           /* the version line, a DISCONNECT: not a close yet */
        if (n == 0)
            return 1;
        return errno == EAGAIN || errno == EINTR || errno == ENOTCONN ? 0 : 1;
    }
}

uint32_t
hc_plain_disconnect_reason(const uint8_t *seen, size_t len)
{
    const uint8_t *nl = memchr(seen, '\n', len);
    struct amk_buf m;
    uint32_t plen, reason;
    uint8_t pad, type;

    if (nl == NULL)
        return 0;
    amk_buf_view(&m, nl + 1, len - (size_t)(nl + 1 - seen));
    /* RFC 4253 §6 packets, unencrypted before the first NEWKEYS */
    while (amk_buf_get_u32(&m, &plen) == AMK_OK && plen >= 2 && plen <= amk_buf_len(&m)) {
        struct amk_buf pkt;
        amk_buf_view(&pkt, amk_buf_ptr(&m), plen);
        if (amk_buf_consume(&m, plen) != AMK_OK || amk_buf_get_u8(&pkt, &pad) != AMK_OK ||
            amk_buf_get_u8(&pkt, &type) != AMK_OK)
            return 0;
        if (type == AMK_MSG_DISCONNECT && amk_buf_get_u32(&pkt, &reason) == AMK_OK)
            return reason;
    }
    return 0;
}

int
hc_put_plain_packet(struct amk_buf *out, const uint8_t *payload, size_t len, uint8_t padding,
    uint32_t packet_length)
{
    static const uint8_t zeros[256];
    uint32_t plen = packet_length != 0 ? packet_length : (uint32_t)(1 + len + padding);

    /* RFC 4253 §6: uint32 packet_length, byte padding_length, payload, padding */
    if (amk_buf_put_u32(out, plen) != AMK_OK || amk_buf_put_u8(out, padding) != AMK_OK ||
        amk_buf_put(out, payload, len) != AMK_OK || amk_buf_put(out, zeros, padding) != AMK_OK)
        return -1;
    return 0;
}

/* --- amiko's client-role transport ---------------------------------- */

struct amk_session *
hc_session(const struct hc_server *h)
{
    struct amk_session *s = NULL;
    int r;

    if (amk_session_new(&s, AMK_SESSION_CLIENT) != AMK_OK)
        return NULL;
    if ((r = amk_session_set_hostkey_callback(s, interop_hostkey_cb,
            (struct interop_hostkeys *)&h->hk)) != AMK_OK ||
        (r = amk_session_set_timeout(s, HC_WAIT_MS)) != AMK_OK ||
        (r = amk_session_connect(s, "127.0.0.1", h->port)) != AMK_OK ||
        (r = amk_session_handshake(s)) != AMK_OK) {
        fprintf(stderr, "hostile: handshake: %s (%s)\n", amk_errname(r),
            amk_session_last_error(s));
        amk_session_free(s);
        return NULL;
    }
    return s;
}

int
hc_auth_publickey(struct hc_server *h, struct amk_session *s)
{
    return interop_auth_publickey(s, h->fx.user, h->user_key, "ssh-ed25519");
}

int
hc_send_buf(struct amk_session *s, struct amk_buf *b)
{
    int r = amk_session_send_packet(s, amk_buf_ptr(b), amk_buf_len(b));

    amk_buf_reset(b);
    return r;
}

int
hc_auth_password(struct amk_session *s, const char *user, const char *pass, int first)
{
    struct amk_buf *b = amk_buf_new();
    const uint8_t *p;
    size_t len;
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    if (first && (r = interop_service_request(s, "ssh-userauth")) != AMK_OK)
        goto out;
    /* RFC 4252 §8 */
    if ((r = amk_buf_put_u8(b, AMK_MSG_USERAUTH_REQUEST)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, user)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "ssh-connection")) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "password")) != AMK_OK ||
        (r = amk_buf_put_bool(b, 0)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, pass)) != AMK_OK ||
        (r = hc_send_buf(s, b)) != AMK_OK)
        goto out;
    for (;;) {
        if ((r = amk_session_recv_packet(s, &p, &len)) != AMK_OK)
            goto out;
        if (len == 0 || p[0] == AMK_MSG_USERAUTH_BANNER)
            continue;
        if (p[0] == AMK_MSG_USERAUTH_SUCCESS) {
            r = amk_transport_set_authenticated(amk_session_transport(s));
            goto out;
        }
        r = p[0] == AMK_MSG_USERAUTH_FAILURE ? AMK_EAUTH : AMK_EPROTO;
        goto out;
    }
out:
    amk_buf_free(b);
    return r;
}

int
hc_until_end(struct amk_session *s, int timeout_ms, uint32_t *reason)
{
    int64_t deadline = amk_io_deadline(timeout_ms);
    const uint8_t *p;
    size_t len;
    int r;

    *reason = 0;
    if (amk_session_set_timeout(s, timeout_ms) != AMK_OK)
        return AMK_EINTERNAL;
    while ((r = amk_session_recv_packet(s, &p, &len)) == AMK_OK) {
        if (amk_io_remaining_ms(deadline) == 0)
            return AMK_ETIMEOUT;
    }
    if (r == AMK_EDISCONNECT)
        *reason = amk_transport_disconnect_reason(amk_session_transport(s));
    return r;
}

/* Handles a packet that is not the answer the caller waits for. 1 if used. */
static int
chan_side_packet(struct hc_chan *c, const uint8_t *p, size_t len)
{
    struct amk_buf m;
    uint32_t id, n;

    if (len == 0)
        return 1;
    amk_buf_view(&m, p + 1, len - 1);
    if (p[0] == AMK_MSG_CHANNEL_WINDOW_ADJUST) {
        if (amk_buf_get_u32(&m, &id) == AMK_OK && id == c->local &&
            amk_buf_get_u32(&m, &n) == AMK_OK)
            c->window += n;
        return 1;
    }
    /* the server's global requests (hostkeys-00@openssh.com) need no answer here */
    return p[0] == AMK_MSG_GLOBAL_REQUEST || p[0] == AMK_MSG_REQUEST_SUCCESS ||
        p[0] == AMK_MSG_REQUEST_FAILURE;
}

int
hc_channel_open(struct amk_session *s, uint32_t local, struct hc_chan *c)
{
    struct amk_buf *b = amk_buf_new(), m;
    const uint8_t *p;
    size_t len;
    uint32_t id;
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    memset(c, 0, sizeof(*c));
    c->local = local;
    /* RFC 4254 §6.1: window 2 MiB, packets up to 32 KiB */
    if ((r = amk_buf_put_u8(b, AMK_MSG_CHANNEL_OPEN)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "session")) != AMK_OK ||
        (r = amk_buf_put_u32(b, local)) != AMK_OK ||
        (r = amk_buf_put_u32(b, 2u * 1024 * 1024)) != AMK_OK ||
        (r = amk_buf_put_u32(b, 32u * 1024)) != AMK_OK ||
        (r = hc_send_buf(s, b)) != AMK_OK)
        goto out;
    for (;;) {
        if ((r = amk_session_recv_packet(s, &p, &len)) != AMK_OK)
            goto out;
        if (chan_side_packet(c, p, len))
            continue;
        amk_buf_view(&m, p + 1, len - 1);
        if (amk_buf_get_u32(&m, &id) != AMK_OK || id != local) {
            r = AMK_EPROTO;
            goto out;
        }
        if (p[0] == AMK_MSG_CHANNEL_OPEN_FAILURE) {
            r = AMK_EREFUSED;
            goto out;
        }
        if (p[0] != AMK_MSG_CHANNEL_OPEN_CONFIRMATION || amk_buf_get_u32(&m, &c->remote) != AMK_OK
            || amk_buf_get_u32(&m, &c->window) != AMK_OK
            || amk_buf_get_u32(&m, &c->maxpkt) != AMK_OK) {
            r = AMK_EPROTO;
            goto out;
        }
        r = AMK_OK;
        goto out;
    }
out:
    amk_buf_free(b);
    return r;
}

int
hc_channel_request(struct amk_session *s, struct hc_chan *c, const char *type, const char *arg)
{
    struct amk_buf *b = amk_buf_new();
    const uint8_t *p;
    size_t len;
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    /* RFC 4254 §5.4 */
    if ((r = amk_buf_put_u8(b, AMK_MSG_CHANNEL_REQUEST)) != AMK_OK ||
        (r = amk_buf_put_u32(b, c->remote)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, type)) != AMK_OK ||
        (r = amk_buf_put_bool(b, 1)) != AMK_OK ||
        (arg != NULL && (r = amk_buf_put_cstring(b, arg)) != AMK_OK) ||
        (r = hc_send_buf(s, b)) != AMK_OK)
        goto out;
    for (;;) {
        if ((r = amk_session_recv_packet(s, &p, &len)) != AMK_OK)
            goto out;
        if (chan_side_packet(c, p, len))
            continue;
        if (p[0] == AMK_MSG_CHANNEL_SUCCESS || p[0] == AMK_MSG_CHANNEL_FAILURE) {
            r = p[0] == AMK_MSG_CHANNEL_SUCCESS ? AMK_OK : AMK_EPROTO;
            goto out;
        }
        /* data or other requests (exit-status) before the answer are skipped */
    }
out:
    amk_buf_free(b);
    return r;
}

int
hc_channel_data(struct amk_session *s, const struct hc_chan *c, const void *p, size_t len)
{
    struct amk_buf *b = amk_buf_new();
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    if ((r = amk_buf_put_u8(b, AMK_MSG_CHANNEL_DATA)) == AMK_OK &&
        (r = amk_buf_put_u32(b, c->remote)) == AMK_OK &&
        (r = amk_buf_put_string(b, p, len)) == AMK_OK)
        r = hc_send_buf(s, b);
    amk_buf_free(b);
    return r;
}

/* --- SFTP by hand ---------------------------------------------------- */

int
hc_sftp_send(struct amk_session *s, struct hc_chan *c, const struct amk_buf *body)
{
    struct amk_buf *pkt = amk_buf_new();
    size_t off = 0, chunk = c->maxpkt > 0 && c->maxpkt < 32768 ? c->maxpkt : 32768;
    int r = AMK_OK;

    if (pkt == NULL)
        return AMK_ENOMEM;
    if ((r = amk_buf_put_u32(pkt, (uint32_t)amk_buf_len(body))) != AMK_OK ||
        (r = amk_buf_putb(pkt, body)) != AMK_OK)
        goto out;
    /* split into the server's packet size; windows are the caller's business */
    while (off < amk_buf_len(pkt) && r == AMK_OK) {
        size_t n = amk_buf_len(pkt) - off < chunk ? amk_buf_len(pkt) - off : chunk;
        r = hc_channel_data(s, c, amk_buf_ptr(pkt) + off, n);
        c->window = c->window > n ? c->window - (uint32_t)n : 0;
        off += n;
    }
out:
    amk_buf_free(pkt);
    return r;
}

/* Data received on the channel and not yet returned as SFTP packets. */
static struct amk_buf *sftp_in;

int
hc_sftp_recv(struct amk_session *s, struct hc_chan *c, struct amk_buf *out, size_t max)
{
    const uint8_t *p, *d;
    size_t len, dlen;
    struct amk_buf m;
    uint32_t id, plen;
    int r;

    if (sftp_in == NULL && (sftp_in = amk_buf_new()) == NULL)
        return AMK_ENOMEM;
    amk_buf_reset(out);
    for (;;) {
        if (amk_buf_len(sftp_in) >= 4) {
            amk_buf_view(&m, amk_buf_ptr(sftp_in), 4);
            if (amk_buf_get_u32(&m, &plen) != AMK_OK || plen > max)
                return AMK_ETOOBIG;
            if (amk_buf_len(sftp_in) >= 4 + (size_t)plen) {
                if ((r = amk_buf_put(out, amk_buf_ptr(sftp_in) + 4, plen)) != AMK_OK ||
                    (r = amk_buf_consume(sftp_in, 4 + (size_t)plen)) != AMK_OK)
                    return r;
                return AMK_OK;
            }
        }
        if ((r = amk_session_recv_packet(s, &p, &len)) != AMK_OK)
            return r;
        if (chan_side_packet(c, p, len))
            continue;
        amk_buf_view(&m, p + 1, len - 1);
        if (p[0] == AMK_MSG_CHANNEL_EOF || p[0] == AMK_MSG_CHANNEL_CLOSE)
            return AMK_ECLOSED;
        if (p[0] != AMK_MSG_CHANNEL_DATA || amk_buf_get_u32(&m, &id) != AMK_OK ||
            id != c->local || amk_buf_get_string_direct(&m, &d, &dlen) != AMK_OK)
            continue;
        if ((r = amk_buf_put(sftp_in, d, dlen)) != AMK_OK)
            return r;
        /* keep the server able to send: give back what it used */
        {
            struct amk_buf *b = amk_buf_new();
            if (b == NULL)
                return AMK_ENOMEM;
            if ((r = amk_buf_put_u8(b, AMK_MSG_CHANNEL_WINDOW_ADJUST)) == AMK_OK &&
                (r = amk_buf_put_u32(b, c->remote)) == AMK_OK &&
                (r = amk_buf_put_u32(b, (uint32_t)dlen)) == AMK_OK)
                r = hc_send_buf(s, b);
            amk_buf_free(b);
            if (r != AMK_OK)
                return r;
        }
    }
}

int
hc_sftp_start(struct amk_session *s, struct hc_chan *c)
{
    struct amk_buf *b = amk_buf_new();
    uint8_t type = 0;
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    if (sftp_in != NULL)
        amk_buf_reset(sftp_in);
    if ((r = hc_channel_open(s, 0, c)) != AMK_OK ||
        (r = hc_channel_request(s, c, "subsystem", "sftp")) != AMK_OK)
        goto out;
    /* draft-ietf-secsh-filexfer-02 §4: INIT carries the version, no id */
    if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_INIT)) != AMK_OK ||
        (r = amk_buf_put_u32(b, AMK_SFTP_VERSION)) != AMK_OK ||
        (r = hc_sftp_send(s, c, b)) != AMK_OK ||
        (r = hc_sftp_recv(s, c, b, AMK_SFTP_PACKET_MAX)) != AMK_OK)
        goto out;
    r = amk_buf_get_u8(b, &type);
    if (r == AMK_OK && type != AMK_SSH_FXP_VERSION)
        r = AMK_EPROTO;
out:
    amk_buf_free(b);
    return r;
}
