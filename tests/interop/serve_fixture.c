/* see serve_fixture.h */
#include "serve_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/wait.h"

#define POLL_MS 10

/* The -h files sshd_fixture_init() made, by SERVE_HK_* bit. No DSA:
 * amiko's server refuses ssh-dss keys. */
static const char *const HOST_KEY_FILES[] = {
    "host_ed25519", "host_ecdsa256", "host_ecdsa384", "host_ecdsa521", "host_rsa",
};
#define N_HOST_KEY_FILES (sizeof(HOST_KEY_FILES) / sizeof(HOST_KEY_FILES[0]))

static struct serve_fixture *g_active;

static void
sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int
serve_fixture_available(void)
{
    return access(AMIKO_PATH, X_OK) == 0 && access(SSH_KEYGEN_PATH, X_OK) == 0;
}

int
serve_fixture_need(const char *const *peers, size_t n)
{
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < n; i++) {
        if (access(peers[i], X_OK) != 0) {
            fprintf(stderr, "skipped: %s is not installed\n", peers[i]);
            exit(FIXTURE_SKIP);
        }
    }
    if (access(AMIKO_PATH, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", AMIKO_PATH);
        return -1;
    }
    return 0;
}

void
serve_fixture_path(const struct serve_fixture *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

void
serve_fixture_work_path(const struct serve_fixture *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->work, name);
}

const char *
serve_fixture_password_arg(const struct serve_fixture *f)
{
    static char arg[128];

    snprintf(arg, sizeof(arg), "%s:%s", f->user, SERVE_PASSWORD);
    return arg;
}

static void
atexit_cleanup(void)
{
    if (g_active != NULL)
        serve_fixture_cleanup(g_active);
}

/* Appends the first line of @p from to authorized_keys. */
static int
authorize_file(struct serve_fixture *f, const char *from)
{
    char *line = serve_slurp(from, NULL);
    int r;

    line[strcspn(line, "\r\n")] = '\0';
    r = line[0] != '\0' ? sshd_fixture_authorize(&f->base, line) : -1;
    free(line);
    return r;
}

int
serve_fixture_init(struct serve_fixture *f)
{
    static int registered;
    char out[FIXTURE_PATH_MAX], pub[FIXTURE_PATH_MAX + 8];
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char *keygen[] = { (char *)SSH_KEYGEN_PATH, (char *)"-q", (char *)"-t", (char *)"rsa",
        (char *)"-b", (char *)"2048", (char *)"-N", (char *)"", (char *)"-C",
        (char *)"amiko-serve-fixture", (char *)"-f", f->user_key_rsa, NULL };
    FILE *a;

    memset(f, 0, sizeof(*f));
    f->pid = -1;
    if (sshd_fixture_init(&f->base) != 0)
        return -1;
    g_active = f;
    if (!registered) {
        /* runs before the sshd fixture's (atexit order): serve stops first */
        atexit(atexit_cleanup);
        registered = 1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s", f->base.dir);
    snprintf(f->user, sizeof(f->user), "%s", f->base.user);
    snprintf(f->user_key, sizeof(f->user_key), "%s", f->base.user_key);
    snprintf(f->dest, sizeof(f->dest), "%s@127.0.0.1", f->user);
    serve_fixture_path(f, "id_rsa", f->user_key_rsa, sizeof(f->user_key_rsa));
    serve_fixture_path(f, "authorized_keys", f->authorized_keys, sizeof(f->authorized_keys));
    serve_fixture_path(f, "serve_known_hosts", f->known_hosts, sizeof(f->known_hosts));
    serve_fixture_path(f, "ssh_config", f->ssh_config, sizeof(f->ssh_config));
    serve_fixture_path(f, "askpass.sh", f->askpass, sizeof(f->askpass));
    serve_fixture_path(f, "askpass.log", f->askpass_log, sizeof(f->askpass_log));
    serve_fixture_path(f, "serve.log", f->log, sizeof(f->log));
    serve_fixture_path(f, "serve.port", f->port_file, sizeof(f->port_file));
    serve_fixture_path(f, "keygen_rsa.out", out, sizeof(out));
    if (fixture_run(keygen, out, FIXTURE_WAIT_MS) != 0) {
        fprintf(stderr, "serve fixture: ssh-keygen -t rsa failed\n");
        return -1;
    }
    snprintf(pub, sizeof(pub), "%s.pub", f->user_key_rsa);
    if (authorize_file(f, pub) != 0) {
        fprintf(stderr, "serve fixture: cannot authorize %s\n", pub);
        return -1;
    }
    /* SSH_ASKPASS: logs the prompt it was shown, answers the password */
    if ((a = fopen(f->askpass, "w")) == NULL)
        return -1;
    fprintf(a, "#!/bin/sh\nprintf '%%s\\n' \"$1\" >> '%s'\n"
        "printf '%%s\\n' \"${AMK_ASKPASS_ANSWER-%s}\"\n", f->askpass_log, SERVE_PASSWORD);
    if (fclose(a) != 0 || chmod(f->askpass, 0700) != 0)
        return -1;
    serve_fixture_path(f, "empty_bashrc", out, sizeof(out));
    if (serve_write_file(out, "", 0) != 0)
        return -1;
    snprintf(f->work, sizeof(f->work), "%s/amiko-serve-work-XXXXXX", base);
    if (mkdtemp(f->work) == NULL || chmod(f->work, 0755) != 0) {
        fprintf(stderr, "serve fixture: mkdtemp %s: %s\n", f->work, strerror(errno));
        f->work[0] = '\0';
        return -1;
    }
    return 0;
}

/* known_hosts for [127.0.0.1]:port with every host key, served or not. */
static int
write_known_hosts(const struct serve_fixture *f)
{
    FILE *kh = fopen(f->known_hosts, "w");

    if (kh == NULL)
        return -1;
    for (size_t i = 0; i < N_HOST_KEY_FILES; i++) {
        char path[FIXTURE_PATH_MAX + 32];
        char *line;

        snprintf(path, sizeof(path), "%s/%s.pub", f->dir, HOST_KEY_FILES[i]);
        line = serve_slurp(path, NULL);
        fprintf(kh, "[127.0.0.1]:%u %s", (unsigned)f->port, line);
        free(line);
    }
    return fclose(kh) == 0 ? 0 : -1;
}

static int
write_ssh_config(const struct serve_fixture *f)
{
    FILE *c = fopen(f->ssh_config, "w");

    if (c == NULL)
        return -1;
    fprintf(c,
        "# written by tests/interop/serve_fixture.c\n"
        "Host " SERVE_HOST_ALIAS "\n"
        "  HostName 127.0.0.1\n"
        "  Port %u\n"
        "  User %s\n"
        "  IdentityFile %s\n"
        "  IdentitiesOnly yes\n"
        "  UserKnownHostsFile %s\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n"
        "  ConnectTimeout 10\n",
        (unsigned)f->port, f->user, f->user_key, f->known_hosts);
    return fclose(c) == 0 ? 0 : -1;
}

/*
 * In serve's child, before exec: a private mount namespace in which the
 * user's ~/.bashrc is an empty file. Every session runs the user's shell,
 * and bash reads ~/.bashrc when its stdin is a socket (as under sshd);
 * what a machine puts there is not under test and can be slow (root's
 * here runs `pyenv init`, seconds, under a lock a killed shell can leave
 * behind). Best effort: without the privilege, serve runs as it is.
 * AMK_SERVE_KEEP_RC=1 keeps the rc file.
 */
static void
mask_shell_rc(const struct serve_fixture *f)
{
    struct passwd *pw = getpwuid(geteuid());
    char rc[FIXTURE_PATH_MAX], empty[FIXTURE_PATH_MAX];

    if (getenv("AMK_SERVE_KEEP_RC") != NULL || pw == NULL)
        return;
    snprintf(rc, sizeof(rc), "%s/.bashrc", pw->pw_dir);
    if (access(rc, F_OK) != 0)
        return;
    serve_fixture_path(f, "empty_bashrc", empty, sizeof(empty));
    /* the namespace dies with serve; MS_PRIVATE keeps the mount out of the host's */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(empty, rc, NULL, MS_BIND, NULL) != 0)
        fprintf(stderr, "serve fixture: %s left as is: %s\n", rc, strerror(errno));
}

static pid_t
spawn_serve(const struct serve_fixture *f, unsigned host_keys, const char *const *args)
{
    char keys[N_HOST_KEY_FILES][FIXTURE_PATH_MAX];
    const char *argv[SERVE_ARGV_MAX + 1];
    char *wrapper = NULL, *save = NULL;
    size_t n = 0;
    pid_t pid;

    /* AMK_SERVE_WRAPPER (scripts/valgrind sets it): a command and its
     * arguments, split at spaces (so no argument may hold one), that
     * amiko serve runs under */
    if (getenv("AMK_SERVE_WRAPPER") != NULL && (wrapper = strdup(getenv("AMK_SERVE_WRAPPER")))) {
        for (char *w = strtok_r(wrapper, " ", &save); w != NULL && n < SERVE_ARGV_MAX / 2;
             w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
    }
    argv[n++] = AMIKO_PATH;
    argv[n++] = "serve";
    argv[n++] = "-p";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = f->port_file;
    argv[n++] = "--authorized-keys";
    argv[n++] = f->authorized_keys;
    /* CI runs the tests as root, which serve refuses by default */
    if (geteuid() == 0)
        argv[n++] = "--allow-root";
    for (size_t i = 0; i < N_HOST_KEY_FILES; i++) {
        if (!(host_keys & (1u << i)))
            continue;
        serve_fixture_path(f, HOST_KEY_FILES[i], keys[i], sizeof(keys[i]));
        argv[n++] = "-h";
        argv[n++] = keys[i];
    }
    for (size_t i = 0; args != NULL && args[i] != NULL && n < SERVE_ARGV_MAX; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid = fork();
    if (pid != 0) {
        free(wrapper);
        return pid;
    }
    int in = open("/dev/null", O_RDONLY);
    int err = open(f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || err < 0)
        _exit(126);
    /* amiko serve must not outlive the test, however the test ends */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(in, 0);
    dup2(err, 1);
    dup2(err, 2);
    mask_shell_rc(f);
    setenv("HOME", f->dir, 1);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* The port in the port file: 0 while it is missing or incomplete. */
static uint16_t
read_port(const struct serve_fixture *f)
{
    char *s = serve_slurp(f->port_file, NULL);
    char *end = NULL;
    unsigned long p = strtoul(s, &end, 10);
    uint16_t port = 0;

    /* the contract: "PORT\n", written atomically */
    if (end != s && *end == '\n' && p > 0 && p < 65536)
        port = (uint16_t)p;
    free(s);
    return port;
}

/*
 * Waits for the server just started as f->pid to honour the contract:
 * its port file, then the log line. 0, or -1 after saying why (and
 * stopping it); *@p exited is its exit status when it ended first, else -1.
 */
static int
wait_listening(struct serve_fixture *f, const char *what, int *exited)
{
    int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
    char want[64];
    int status = 0;

    *exited = -1;
    while ((f->port = read_port(f)) == 0) {
        if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
            fprintf(stderr, "serve fixture: %s exited (status 0x%x) before listening\n", what,
                (unsigned)status);
            serve_fixture_dump_log(f, 4000);
            f->pid = -1;
            *exited = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return -1;
        }
        if (amk_io_remaining_ms(deadline) == 0) {
            fprintf(stderr, "serve fixture: no port file within %d ms\n", FIXTURE_WAIT_MS);
            serve_fixture_dump_log(f, 4000);
            serve_fixture_stop(f);
            return -1;
        }
        sleep_ms(POLL_MS);
    }
    if (write_known_hosts(f) != 0 || write_ssh_config(f) != 0) {
        fprintf(stderr, "serve fixture: cannot write known_hosts / ssh_config\n");
        serve_fixture_stop(f);
        return -1;
    }
    /* the contract's line precedes the port file */
    snprintf(want, sizeof(want), "listening on 127.0.0.1:%u", (unsigned)f->port);
    if (!serve_fixture_log_count(f, want, NULL)) {
        fprintf(stderr, "serve fixture: serve.log lacks \"%s\"\n", want);
        serve_fixture_dump_log(f, 4000);
        serve_fixture_stop(f);
        return -1;
    }
    return 0;
}

int
serve_fixture_start(struct serve_fixture *f, unsigned host_keys, const char *const *args)
{
    int exited;

    serve_fixture_stop(f);
    if (host_keys == 0)
        host_keys = SERVE_HK_ALL;
    f->host_keys = host_keys;
    unlink(f->port_file);
    unlink(f->log);
    if ((f->pid = spawn_serve(f, host_keys, args)) < 0) {
        fprintf(stderr, "serve fixture: fork: %s\n", strerror(errno));
        return -1;
    }
    return wait_listening(f, "amiko serve", &exited);
}

int
serve_fixture_start_argv(struct serve_fixture *f, char *const argv[])
{
    struct proc_io io = { .out = f->log, .err = f->log, .append = 1, .home = f->dir };
    int exited;

    serve_fixture_stop(f);
    f->host_keys = 0;
    unlink(f->port_file);
    unlink(f->log);
    /* no shell runs under it: mask_shell_rc() is not needed */
    if ((f->pid = proc_spawn(argv, &io)) < 0) {
        fprintf(stderr, "serve fixture: fork: %s\n", strerror(errno));
        return -1;
    }
    if (wait_listening(f, argv[0], &exited) == 0)
        return 0;
    return exited == FIXTURE_SKIP ? FIXTURE_SKIP : -1;
}

int
serve_fixture_adopt(struct serve_fixture *f, pid_t pid, uint16_t port)
{
    serve_fixture_stop(f);
    f->host_keys = 0;
    f->pid = pid;
    f->port = port;
    if (write_known_hosts(f) != 0 || write_ssh_config(f) != 0) {
        fprintf(stderr, "serve fixture: cannot write known_hosts / ssh_config\n");
        serve_fixture_stop(f);
        return -1;
    }
    return 0;
}

int
serve_fixture_stop(struct serve_fixture *f)
{
    int r = -1;

    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        r = proc_wait(f->pid, FIXTURE_WAIT_MS);
    }
    f->pid = -1;
    f->port = 0;
    return r;
}

void
serve_fixture_cleanup(struct serve_fixture *f)
{
    serve_fixture_stop(f);
    if (g_active == f)
        g_active = NULL;
    if (f->work[0] != '\0') {
        if (getenv("AMK_KEEP_FIXTURE") != NULL)
            fprintf(stderr, "serve fixture: kept %s\n", f->work);
        else
            fixture_remove_tree(f->work);
        f->work[0] = '\0';
    }
    sshd_fixture_cleanup(&f->base);
    f->dir[0] = '\0';
}

void
serve_fixture_dump_log(const struct serve_fixture *f, size_t max_bytes)
{
    char buf[4096];
    FILE *in = fopen(f->log, "r");
    long size;
    size_t n;

    if (in == NULL)
        return;
    fseek(in, 0, SEEK_END);
    size = ftell(in);
    if (size > 0 && (size_t)size > max_bytes)
        fseek(in, size - (long)max_bytes, SEEK_SET);
    else
        fseek(in, 0, SEEK_SET);
    fprintf(stderr, "---- %s (tail) ----\n", f->log);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, stderr);
    fprintf(stderr, "---- end ----\n");
    fclose(in);
}

int
serve_fixture_log_count(const struct serve_fixture *f, const char *needle, int *count)
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

/* --- argv --------------------------------------------------------------- */

void
serve_argv_add(struct serve_argv *a, const char *arg)
{
    size_t len = strlen(arg) + 1;

    /* a test that outgrows the fixed sizes is a bug in the test */
    if (a->n >= SERVE_ARGV_MAX || a->used + len > sizeof(a->pool)) {
        fprintf(stderr, "serve fixture: argv too long at \"%s\"\n", arg);
        abort();
    }
    memcpy(a->pool + a->used, arg, len);
    a->v[a->n++] = a->pool + a->used;
    a->v[a->n] = NULL;
    a->used += len;
}

void
serve_argv_opt(struct serve_argv *a, const char *option)
{
    serve_argv_add(a, "-o");
    serve_argv_add(a, option);
}

void
serve_argv_init(struct serve_argv *a, const char *tool)
{
    a->n = 0;
    a->used = 0;
    a->v[0] = NULL;
    serve_argv_add(a, tool);
}

void
serve_argv_client(struct serve_argv *a, const struct serve_fixture *f, const char *tool,
    const char *const *first)
{
    char buf[FIXTURE_PATH_MAX + 64];

    serve_argv_init(a, tool);
    for (size_t i = 0; first != NULL && first[i] != NULL; i++)
        serve_argv_opt(a, first[i]);
    serve_argv_add(a, "-F");
    serve_argv_add(a, "/dev/null");
    /* ssh takes -p; sftp and scp take -P */
    serve_argv_add(a, strcmp(tool, SSH_PATH) == 0 ? "-p" : "-P");
    snprintf(buf, sizeof(buf), "%u", (unsigned)f->port);
    serve_argv_add(a, buf);
    serve_argv_add(a, "-i");
    serve_argv_add(a, f->user_key);
    serve_argv_opt(a, "IdentitiesOnly=yes");
    serve_argv_opt(a, "BatchMode=yes");
    serve_argv_opt(a, "StrictHostKeyChecking=yes");
    snprintf(buf, sizeof(buf), "UserKnownHostsFile=%s", f->known_hosts);
    serve_argv_opt(a, buf);
    serve_argv_opt(a, "GlobalKnownHostsFile=/dev/null");
    serve_argv_opt(a, "ConnectTimeout=10");
}

/* --- running programs --------------------------------------------------- */

int
serve_run(const struct serve_fixture *f, char *const argv[], const char *in, const char *out,
    const char *err, char *const env[], int timeout_ms)
{
    struct proc_io io = { .in = in, .out = out, .err = err, .home = f->dir, .env = env };

    return proc_run(argv, &io, timeout_ms);
}

pid_t
serve_spawn(const struct serve_fixture *f, char *const argv[], int *to_child, int *from_child,
    const char *err, char *const env[])
{
    int in[2], out[2];
    pid_t pid;

    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        int e = open(err != NULL ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (e < 0)
            _exit(126);
        proc_child_env(f->dir, env);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        return -1;
    }
    *to_child = in[1];
    *from_child = out[0];
    return pid;
}

/* --- files ---------------------------------------------------------------- */

int
serve_write_file(const char *path, const void *data, size_t n)
{
    const uint8_t *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return -1;
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return close(fd);
}

char *
serve_slurp(const char *path, size_t *len)
{
    char *buf = proc_slurp(path, len);

    if (buf == NULL) {
        /* missing: "" */
        if ((buf = calloc(1, 1)) == NULL)
            abort();
        if (len != NULL)
            *len = 0;
    }
    return buf;
}
