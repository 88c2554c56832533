/* see sshd_fixture.h */
#include "sshd_fixture.h"
#include "proc_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/tcp.h"
#include "io/wait.h"

#define START_ATTEMPTS 5
#define PROBE_INTERVAL_MS 20
#define PRIVSEP_DIR "/run/sshd"

/* The host keys sshd gets: ssh-keygen -t, -b (NULL: default), file name,
 * and whether an OpenSSH without that type (DSA is optional) is fine. */
static const struct {
    const char *type;
    const char *bits;
    const char *file;
    int optional;
} HOST_KEYS[] = {
    { "ed25519", NULL, "host_ed25519", 0 },
    { "ecdsa", "256", "host_ecdsa256", 0 },
    { "ecdsa", "384", "host_ecdsa384", 0 },
    { "ecdsa", "521", "host_ecdsa521", 0 },
    { "rsa", "2048", "host_rsa", 0 },
    { "dsa", NULL, "host_dsa", 1 },
};
#define N_HOST_KEYS (sizeof(HOST_KEYS) / sizeof(HOST_KEYS[0]))

/* The fixture atexit() cleans up, if any. */
static struct sshd_fixture *g_active;

static void
sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int
sshd_fixture_available(void)
{
    return access(SSHD_PATH, X_OK) == 0 && access(SSH_PATH, X_OK) == 0 &&
        access(SSH_KEYGEN_PATH, X_OK) == 0;
}

void
sshd_fixture_path(const struct sshd_fixture *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

int
fixture_run(char *const argv[], const char *out_path, int timeout_ms)
{
    struct proc_io io = { .out = out_path, .err = out_path, .append = 1 };

    return proc_run(argv, &io, timeout_ms);
}

static int
keygen(struct sshd_fixture *f, const char *type, const char *bits, const char *file)
{
    char path[FIXTURE_PATH_MAX], out[FIXTURE_PATH_MAX];
    char *argv[16];
    int n = 0;

    sshd_fixture_path(f, file, path, sizeof(path));
    sshd_fixture_path(f, "keygen.out", out, sizeof(out));
    argv[n++] = (char *)SSH_KEYGEN_PATH;
    argv[n++] = (char *)"-q";
    argv[n++] = (char *)"-t";
    argv[n++] = (char *)type;
    if (bits != NULL) {
        argv[n++] = (char *)"-b";
        argv[n++] = (char *)bits;
    }
    argv[n++] = (char *)"-N";
    argv[n++] = (char *)"";
    argv[n++] = (char *)"-C";
    argv[n++] = (char *)"amiko-fixture";
    argv[n++] = (char *)"-f";
    argv[n++] = path;
    argv[n] = NULL;
    if (fixture_run(argv, out, FIXTURE_WAIT_MS) != 0) {
        fprintf(stderr, "fixture: ssh-keygen -t %s failed\n", type);
        return -1;
    }
    return 0;
}

/* Appends the contents of @p from to the open stream @p to, with @p prefix before each line. */
static int
append_file(FILE *to, const char *from, const char *prefix)
{
    char line[16384];
    FILE *in = fopen(from, "r");

    if (in == NULL)
        return -1;
    while (fgets(line, sizeof(line), in) != NULL)
        fprintf(to, "%s%s", prefix, line);
    fclose(in);
    return 0;
}

static void
atexit_cleanup(void)
{
    if (g_active != NULL)
        sshd_fixture_cleanup(g_active);
}

int
sshd_fixture_init(struct sshd_fixture *f)
{
    static int registered;
    char path[FIXTURE_PATH_MAX], pub[FIXTURE_PATH_MAX + 8];
    struct passwd *pw = getpwuid(getuid());
    FILE *ak = NULL;

    memset(f, 0, sizeof(*f));
    f->pid = -1;
    if (pw == NULL) {
        fprintf(stderr, "fixture: no passwd entry for uid %u\n", (unsigned)getuid());
        return -1;
    }
    snprintf(f->user, sizeof(f->user), "%s", pw->pw_name);
    snprintf(f->dir, sizeof(f->dir), "/tmp/amiko-sshd-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        fprintf(stderr, "fixture: mkdtemp: %s\n", strerror(errno));
        f->dir[0] = '\0';
        return -1;
    }
    g_active = f;
    if (!registered) {
        atexit(atexit_cleanup);
        registered = 1;
    }
    sshd_fixture_path(f, "sshd_config", f->config, sizeof(f->config));
    sshd_fixture_path(f, "sshd.log", f->log, sizeof(f->log));
    sshd_fixture_path(f, "id_ed25519", f->user_key, sizeof(f->user_key));
    sshd_fixture_path(f, "known_hosts", f->known_hosts, sizeof(f->known_hosts));
    for (size_t i = 0; i < N_HOST_KEYS; i++) {
        if (keygen(f, HOST_KEYS[i].type, HOST_KEYS[i].bits, HOST_KEYS[i].file) != 0) {
            if (!HOST_KEYS[i].optional)
                return -1;
            fprintf(stderr, "fixture: no %s host key (this OpenSSH lacks it)\n",
                HOST_KEYS[i].type);
        }
    }
    if (keygen(f, "ed25519", NULL, "id_ed25519") != 0)
        return -1;
    sshd_fixture_path(f, "authorized_keys", path, sizeof(path));
    snprintf(pub, sizeof(pub), "%s.pub", f->user_key);
    if ((ak = fopen(path, "w")) == NULL || append_file(ak, pub, "") != 0) {
        fprintf(stderr, "fixture: cannot write %s\n", path);
        if (ak != NULL)
            fclose(ak);
        return -1;
    }
    fclose(ak);
    /* sshd running as root chroots its unprivileged child here. */
    if (geteuid() == 0 && mkdir(PRIVSEP_DIR, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fixture: mkdir %s: %s\n", PRIVSEP_DIR, strerror(errno));
        return -1;
    }
    return 0;
}

uint16_t
fixture_free_port(void)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    uint16_t port = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return 0;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 &&
        getsockname(fd, (struct sockaddr *)&in, &len) == 0)
        port = ntohs(in.sin_port);
    close(fd);
    return port;
}

static int
write_config(struct sshd_fixture *f, const char *extra)
{
    char path[FIXTURE_PATH_MAX];
    FILE *c = fopen(f->config, "w");

    if (c == NULL)
        return -1;
    /* sshd keeps the first value of a keyword: the caller's lines go first. */
    fprintf(c, "# written by tests/interop/sshd_fixture.c\n");
    if (extra != NULL)
        fprintf(c, "%s\n", extra);
    fprintf(c, "ListenAddress 127.0.0.1\nPort %u\n", (unsigned)f->port);
    for (size_t i = 0; i < N_HOST_KEYS; i++) {
        sshd_fixture_path(f, HOST_KEYS[i].file, path, sizeof(path));
        if (access(path, R_OK) == 0)
            fprintf(c, "HostKey %s\n", path);
    }
    sshd_fixture_path(f, "sshd.pid", path, sizeof(path));
    fprintf(c, "PidFile %s\n", path);
    sshd_fixture_path(f, "authorized_keys", path, sizeof(path));
    fprintf(c, "AuthorizedKeysFile %s\n", path);
    fprintf(c,
        "UsePAM no\n"
        "StrictModes no\n"
        "LogLevel DEBUG3\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "LoginGraceTime 30\n"
        "MaxStartups 1000\n"
        "MaxSessions 100\n");
    /* sshd runs every command and subsystem through the user's shell; bash
     * started by sshd sources ~/.bashrc unless SHLVL says it is nested. A
     * heavy .bashrc (pyenv's rehash takes a lock shared by all shells) made
     * 20 concurrent channels wait over 60 s on a loaded machine: the tests
     * measure amiko and sshd, not the test user's rc files. */
    if (extra == NULL || strstr(extra, "SetEnv ") == NULL)
        fprintf(c, "SetEnv SHLVL=1\n");
    /* Subsystem is the exception: sshd refuses a second "sftp" line, so
     * the default is written only when the caller gave none. */
    if (extra == NULL || strstr(extra, "Subsystem sftp ") == NULL)
        fprintf(c, "Subsystem sftp /usr/lib/openssh/sftp-server\n");
    return fclose(c) == 0 ? 0 : -1;
}

static int
write_known_hosts(struct sshd_fixture *f)
{
    char path[FIXTURE_PATH_MAX + 8], prefix[64];
    FILE *kh = fopen(f->known_hosts, "w");

    if (kh == NULL)
        return -1;
    snprintf(prefix, sizeof(prefix), "[127.0.0.1]:%u ", (unsigned)f->port);
    for (size_t i = 0; i < N_HOST_KEYS; i++) {
        snprintf(path, sizeof(path), "%s/%s.pub", f->dir, HOST_KEYS[i].file);
        if (access(path, R_OK) != 0 && HOST_KEYS[i].optional)
            continue;
        if (append_file(kh, path, prefix) != 0) {
            fclose(kh);
            return -1;
        }
    }
    return fclose(kh) == 0 ? 0 : -1;
}

/* Connects and reads until the version line arrives: sshd is serving. */
int
fixture_probe(uint16_t port, int64_t deadline)
{
    char buf[256];
    size_t got = 0;
    int fd = -1, r = -1;

    if (amk_tcp_connect("127.0.0.1", port, amk_io_remaining_ms(deadline), &fd, NULL) != AMK_OK)
        return -1;
    while (got < sizeof(buf) - 1) {
        ssize_t n;
        if (amk_io_wait(fd, AMK_IO_READ, deadline, NULL, NULL) != AMK_OK)
            break;
        n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\n") != NULL) {
            r = strncmp(buf, "SSH-2.0-", 8) == 0 ? 0 : -1;
            break;
        }
    }
    close(fd);
    return r;
}

/* 1 when sshd's stderr or log contains @p needle (small files only). */
static int
log_mentions(const struct sshd_fixture *f, const char *needle)
{
    const char *names[] = { "sshd.stderr", "sshd.log" };
    int found = 0;

    for (size_t i = 0; i < 2 && !found; i++) {
        char path[FIXTURE_PATH_MAX], line[4096];
        FILE *in;

        sshd_fixture_path(f, names[i], path, sizeof(path));
        if ((in = fopen(path, "r")) == NULL)
            continue;
        while (!found && fgets(line, sizeof(line), in) != NULL)
            found = strstr(line, needle) != NULL;
        fclose(in);
    }
    return found;
}

static pid_t
spawn_sshd(const struct sshd_fixture *f)
{
    char out[FIXTURE_PATH_MAX];
    pid_t pid;

    sshd_fixture_path(f, "sshd.stderr", out, sizeof(out));
    pid = fork();
    if (pid != 0)
        return pid;
    int in = open("/dev/null", O_RDONLY);
    int err = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || err < 0)
        _exit(126);
    /* sshd must not outlive the test, however the test ends. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(in, 0);
    dup2(err, 1);
    dup2(err, 2);
    /* sshd re-executes itself, so it needs its absolute path. */
    execl(SSHD_PATH, SSHD_PATH, "-D", "-f", f->config, "-E", f->log, (char *)NULL);
    _exit(127);
}

int
sshd_fixture_start(struct sshd_fixture *f, const char *extra)
{
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
        char path[FIXTURE_PATH_MAX];
        int status = 0, exited = 0;

        sshd_fixture_stop(f);
        if ((f->port = fixture_free_port()) == 0 || write_config(f, extra) != 0 ||
            write_known_hosts(f) != 0) {
            fprintf(stderr, "fixture: cannot prepare %s\n", f->dir);
            return -1;
        }
        /* each run gets fresh logs, so failures show only this run */
        sshd_fixture_path(f, "sshd.stderr", path, sizeof(path));
        unlink(path);
        unlink(f->log);
        if ((f->pid = spawn_sshd(f)) < 0) {
            fprintf(stderr, "fixture: fork: %s\n", strerror(errno));
            return -1;
        }
        while (amk_io_remaining_ms(deadline) > 0) {
            if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
                exited = 1;
                break;
            }
            if (fixture_probe(f->port, deadline) == 0)
                return 0;
            sleep_ms(PROBE_INTERVAL_MS);
        }
        if (!exited) {
            fprintf(stderr, "fixture: sshd on port %u not ready within %d ms\n",
                (unsigned)f->port, FIXTURE_WAIT_MS);
            sshd_fixture_dump_log(f, 4000);
            sshd_fixture_stop(f);
            return -1;
        }
        f->pid = -1;
        if (!log_mentions(f, "Address already in use")) {
            fprintf(stderr, "fixture: sshd exited (status %d) on port %u\n", status,
                (unsigned)f->port);
            sshd_fixture_dump_log(f, 2000);
            f->port = 0;
            return -1;
        }
        fprintf(stderr, "fixture: sshd exited (status %d) on port %u, attempt %d\n",
            status, (unsigned)f->port, attempt + 1);
        sshd_fixture_dump_log(f, 2000);
    }
    return -1;
}

void
sshd_fixture_stop(struct sshd_fixture *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        (void)proc_wait(f->pid, FIXTURE_WAIT_MS);      /* SIGKILL after that */
    }
    f->pid = -1;
    f->port = 0;
}

void
sshd_fixture_dump_log(const struct sshd_fixture *f, size_t max_bytes)
{
    const char *names[] = { "sshd.stderr", "sshd.log" };

    for (size_t i = 0; i < 2; i++) {
        char path[FIXTURE_PATH_MAX], buf[4096];
        FILE *in;
        long size;
        size_t n;

        sshd_fixture_path(f, names[i], path, sizeof(path));
        if ((in = fopen(path, "r")) == NULL)
            continue;
        fseek(in, 0, SEEK_END);
        size = ftell(in);
        if (size > 0 && (size_t)size > max_bytes)
            fseek(in, size - (long)max_bytes, SEEK_SET);
        else
            fseek(in, 0, SEEK_SET);
        fprintf(stderr, "---- %s (tail) ----\n", path);
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, stderr);
        fprintf(stderr, "---- end ----\n");
        fclose(in);
    }
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

void
fixture_remove_tree(const char *path)
{
    /* depth first, symlinks not followed: only what is below @p path goes */
    (void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void
sshd_fixture_cleanup(struct sshd_fixture *f)
{
    sshd_fixture_stop(f);
    if (g_active == f)
        g_active = NULL;
    if (f->dir[0] == '\0')
        return;
    if (getenv("AMK_KEEP_FIXTURE") != NULL) {
        fprintf(stderr, "fixture: kept %s\n", f->dir);
        f->dir[0] = '\0';
        return;
    }
    /* Tests make directories in it too (an SFTP root, key directories). */
    fixture_remove_tree(f->dir);
    f->dir[0] = '\0';
}

int
sshd_fixture_authorize(const struct sshd_fixture *f, const char *line)
{
    char path[FIXTURE_PATH_MAX];
    FILE *ak;

    sshd_fixture_path(f, "authorized_keys", path, sizeof(path));
    if ((ak = fopen(path, "a")) == NULL)
        return -1;
    fprintf(ak, "%s\n", line);
    return fclose(ak) == 0 ? 0 : -1;
}

int
sshd_fixture_log_count(const struct sshd_fixture *f, const char *needle, int *count)
{
    char line[4096];
    FILE *in = fopen(f->log, "r");
    int n = 0;

    if (count != NULL)
        *count = 0;
    if (in == NULL)
        return 0;
    while (fgets(line, sizeof(line), in) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(in);
    if (count != NULL)
        *count = n;
    return n > 0;
}

int
sshd_fixture_query(const struct sshd_fixture *f, const char *kind, char *out, size_t cap)
{
    char path[FIXTURE_PATH_MAX], line[256];
    char *argv[] = { (char *)SSH_PATH, (char *)"-Q", (char *)kind, NULL };
    size_t used = 0;
    FILE *in;

    sshd_fixture_path(f, "query.out", path, sizeof(path));
    unlink(path);
    if (fixture_run(argv, path, FIXTURE_WAIT_MS) != 0 || (in = fopen(path, "r")) == NULL)
        return -1;
    out[0] = '\0';
    while (fgets(line, sizeof(line), in) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used > 0 ? "," : "", line);
        if (n < 0 || (size_t)n >= cap - used) {
            fclose(in);
            return -1;
        }
        used += (size_t)n;
    }
    fclose(in);
    return 0;
}
