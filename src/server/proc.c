/*
 * Running a session's process: fork and exec on a pty or pipes, a pidfd
 * for its exit, signals to its process group. See server/proc.h.
 */
#include "server/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* --- Signals (RFC 4254 §6.10) ----------------------------------------- */

static const struct {
    const char *name;
    int sig;
} SIGNALS[] = {
    { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE }, { "HUP", SIGHUP },
    { "ILL", SIGILL }, { "INT", SIGINT }, { "KILL", SIGKILL }, { "PIPE", SIGPIPE },
    { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
    { "USR2", SIGUSR2 },
};

const char *
amk_proc_signame(int sig)
{
    for (size_t i = 0; i < sizeof(SIGNALS) / sizeof(SIGNALS[0]); i++) {
        if (SIGNALS[i].sig == sig)
            return SIGNALS[i].name;
    }
    return NULL;
}

int
amk_proc_signum(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(SIGNALS) / sizeof(SIGNALS[0]); i++) {
        if (strcmp(SIGNALS[i].name, name) == 0)
            return SIGNALS[i].sig;
    }
    return 0;
}

/* --- Terminal modes (RFC 4254 §8) ------------------------------------- */

enum mode_field { M_CC, M_IFLAG, M_LFLAG, M_OFLAG, M_CFLAG };

static const struct {
    uint8_t opcode;
    enum mode_field field;
    tcflag_t bit;               /* the flag, or the c_cc index for M_CC */
} MODES[] = {
    { 1, M_CC, VINTR }, { 2, M_CC, VQUIT }, { 3, M_CC, VERASE }, { 4, M_CC, VKILL },
    { 5, M_CC, VEOF }, { 6, M_CC, VEOL }, { 7, M_CC, VEOL2 }, { 8, M_CC, VSTART },
    { 9, M_CC, VSTOP }, { 10, M_CC, VSUSP }, { 12, M_CC, VREPRINT }, { 13, M_CC, VWERASE },
    { 14, M_CC, VLNEXT }, { 18, M_CC, VDISCARD },
    { 30, M_IFLAG, IGNPAR }, { 31, M_IFLAG, PARMRK }, { 32, M_IFLAG, INPCK },
    { 33, M_IFLAG, ISTRIP }, { 34, M_IFLAG, INLCR }, { 35, M_IFLAG, IGNCR },
    { 36, M_IFLAG, ICRNL }, { 37, M_IFLAG, IUCLC }, { 38, M_IFLAG, IXON },
    { 39, M_IFLAG, IXANY }, { 40, M_IFLAG, IXOFF }, { 41, M_IFLAG, IMAXBEL },
    { 42, M_IFLAG, IUTF8 },     /* RFC 8160 */
    { 50, M_LFLAG, ISIG }, { 51, M_LFLAG, ICANON }, { 52, M_LFLAG, XCASE },
    { 53, M_LFLAG, ECHO }, { 54, M_LFLAG, ECHOE }, { 55, M_LFLAG, ECHOK },
    { 56, M_LFLAG, ECHONL }, { 57, M_LFLAG, NOFLSH }, { 58, M_LFLAG, TOSTOP },
    { 59, M_LFLAG, IEXTEN }, { 60, M_LFLAG, ECHOCTL }, { 61, M_LFLAG, ECHOKE },
    { 62, M_LFLAG, PENDIN },
    { 70, M_OFLAG, OPOST }, { 71, M_OFLAG, OLCUC }, { 72, M_OFLAG, ONLCR },
    { 73, M_OFLAG, OCRNL }, { 74, M_OFLAG, ONOCR }, { 75, M_OFLAG, ONLRET },
    { 90, M_CFLAG, CS7 }, { 91, M_CFLAG, CS8 }, { 92, M_CFLAG, PARENB },
    { 93, M_CFLAG, PARODD },
};

static const struct {
    uint32_t baud;
    speed_t speed;
} SPEEDS[] = {
    { 0, B0 }, { 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 }, { 150, B150 },
    { 200, B200 }, { 300, B300 }, { 600, B600 }, { 1200, B1200 }, { 1800, B1800 },
    { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 },
    { 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 },
};

static int
baud_speed(uint32_t baud, speed_t *speed)
{
    for (size_t i = 0; i < sizeof(SPEEDS) / sizeof(SPEEDS[0]); i++) {
        if (SPEEDS[i].baud == baud) {
            *speed = SPEEDS[i].speed;
            return 1;
        }
    }
    return 0;
}

static void
mode_set(tcflag_t *flags, tcflag_t bit, uint32_t on)
{
    if (on)
        *flags |= bit;
    else
        *flags &= ~bit;
}

void
amk_proc_apply_modes(struct termios *tio, const uint8_t *modes, size_t len)
{
    struct amk_pty_mode m;
    size_t off = 0;
    speed_t sp;

    while (amk_conn_pty_modes_next(modes, len, &off, &m) == AMK_OK) {
        if (m.opcode == AMK_TTY_OP_ISPEED || m.opcode == AMK_TTY_OP_OSPEED) {
            if (baud_speed(m.value, &sp)) {
                if (m.opcode == AMK_TTY_OP_ISPEED)
                    (void)cfsetispeed(tio, sp);
                else
                    (void)cfsetospeed(tio, sp);
            }
            continue;
        }
        for (size_t i = 0; i < sizeof(MODES) / sizeof(MODES[0]); i++) {
            if (MODES[i].opcode != m.opcode)
                continue;
            switch (MODES[i].field) {
            case M_CC:
                /* RFC 4254 §8: 255 means the character is disabled */
                tio->c_cc[MODES[i].bit] = m.value == 255 ? _POSIX_VDISABLE
                    : (cc_t)(m.value & 0xff);
                break;
            case M_IFLAG: mode_set(&tio->c_iflag, MODES[i].bit, m.value); break;
            case M_LFLAG: mode_set(&tio->c_lflag, MODES[i].bit, m.value); break;
            case M_OFLAG: mode_set(&tio->c_oflag, MODES[i].bit, m.value); break;
            case M_CFLAG:
                if (MODES[i].bit == CS7 || MODES[i].bit == CS8) {
                    if (m.value) {
                        tio->c_cflag &= ~(tcflag_t)CSIZE;
                        tio->c_cflag |= MODES[i].bit;
                    }
                } else {
                    mode_set(&tio->c_cflag, MODES[i].bit, m.value);
                }
                break;
            }
            break;
        }
    }
}

/* --- Spawning --------------------------------------------------------- */

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Moves @p *fd above 2 so the child's dup2 onto 0..2 cannot clobber it
 * (a daemon may run with 0..2 closed). */
static int
fd_above_stdio(int *fd)
{
    int n;

    if (*fd > 2)
        return 0;
    if ((n = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return -1;
    close(*fd);
    *fd = n;
    return 0;
}

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

/* A pipe whose ends are close-on-exec and above 2; the parent's end
 * (@p parent_end 0: read, 1: write) non-blocking. */
static int
make_pipe(int fds[2], int parent_end)
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if (fd_above_stdio(&fds[0]) < 0 || fd_above_stdio(&fds[1]) < 0
        || set_nonblock(fds[parent_end]) < 0) {
        close_fd(&fds[0]);
        close_fd(&fds[1]);
        return -1;
    }
    return 0;
}

/* stdin is a socket pair rather than a pipe: the server writes to it
 * with send(MSG_NOSIGNAL), so a process that exits without reading does
 * not raise SIGPIPE in the server, whatever its signal dispositions. */
static int
make_stdin_pair(int fds[2])
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    /* fds[0]: the child's (read) end, fds[1]: ours, as with pipe2() */
    fds[0] = sv[0];
    fds[1] = sv[1];
    (void)shutdown(fds[0], SHUT_WR);
    if (fd_above_stdio(&fds[0]) < 0 || fd_above_stdio(&fds[1]) < 0 || set_nonblock(fds[1]) < 0) {
        close_fd(&fds[0]);
        close_fd(&fds[1]);
        return -1;
    }
    return 0;
}

/* Opens a pty pair: the master non-blocking, the slave (not our
 * controlling tty) with the modes and size applied. */
static int
make_pty(const struct amk_proc_spec *spec, struct amk_proc *p, int *slave)
{
    struct termios tio;
    struct winsize ws;
    int m;

    *slave = -1;
    if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return -1;
    p->in_fd = m;
    if (fd_above_stdio(&p->in_fd) < 0 || grantpt(p->in_fd) < 0 || unlockpt(p->in_fd) < 0
        || ptsname_r(p->in_fd, p->tty_name, sizeof(p->tty_name)) != 0
        || set_nonblock(p->in_fd) < 0)
        return -1;
    if ((*slave = open(p->tty_name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0
        || fd_above_stdio(slave) < 0)
        return -1;
    if (tcgetattr(*slave, &tio) == 0) {
        amk_proc_apply_modes(&tio, spec->modes, spec->modes_len);
        (void)tcsetattr(*slave, TCSANOW, &tio);
    }
    memset(&ws, 0, sizeof(ws));
    ws.ws_col = (unsigned short)(spec->cols > 0xffff ? 0xffff : spec->cols);
    ws.ws_row = (unsigned short)(spec->rows > 0xffff ? 0xffff : spec->rows);
    ws.ws_xpixel = (unsigned short)(spec->width_px > 0xffff ? 0xffff : spec->width_px);
    ws.ws_ypixel = (unsigned short)(spec->height_px > 0xffff ? 0xffff : spec->height_px);
    (void)ioctl(*slave, TIOCSWINSZ, &ws);
    /* stdout is read through a second descriptor of the master, so each
     * direction can be polled (and, for epoll, registered) on its own. */
    if ((p->out_fd = fcntl(p->in_fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return -1;
    return 0;
}

/* In the child after fork(): only async-signal-safe calls from here on. */
static void __attribute__((noreturn))
child_exec(const struct amk_proc_spec *spec, char *const *argv, char *const *env, int fd0,
    int fd1, int fd2, int pty)
{
    static const char msg[] = "amiko: cannot execute the shell\n";
    struct sigaction sa;
    sigset_t none;

    /* The server may ignore SIGPIPE or block signals: the session's
     * process starts with the defaults. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        (void)sigaction(s, &sa, NULL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0)
        _exit(126);
    if (pty && ioctl(fd0, TIOCSCTTY, 0) < 0)
        _exit(126);
    if (dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(fd2, 2) < 0)
        _exit(126);
    /* Nothing of the server's leaks into the session. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
        for (int fd = 3; fd < 65536; fd++)
            (void)close(fd);
    }
    if (spec->cwd == NULL || chdir(spec->cwd) < 0)
        (void)chdir("/");
    execve(spec->shell, argv, env);
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(127);
}

/* @p env with SSH_TTY=@p tty set (replacing any SSH_TTY): *@p out is a
 * new array of the same strings plus *@p var, both to free(). */
static int
env_with_tty(char *const *env, const char *tty, char ***out, char **var)
{
    static const char name[] = "SSH_TTY=";
    size_t n = 0, k = 0;
    char **v;

    while (env[n] != NULL)
        n++;
    if ((*var = malloc(sizeof(name) + strlen(tty))) == NULL)
        return AMK_ENOMEM;
    memcpy(*var, name, sizeof(name) - 1);
    memcpy(*var + sizeof(name) - 1, tty, strlen(tty) + 1);
    if ((v = calloc(n + 2, sizeof(*v))) == NULL)
        return AMK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(env[i], name, sizeof(name) - 1) != 0)
            v[k++] = env[i];
    }
    v[k++] = *var;
    v[k] = NULL;
    *out = v;
    return AMK_OK;
}

int
amk_proc_spawn(const struct amk_proc_spec *spec, struct amk_proc **out)
{
    struct amk_proc *p = NULL;
    int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, slave = -1;
    char *argv0 = NULL, **env_tty = NULL, *env_tty_var = NULL;
    char *argv[4];
    const char *base;
    size_t blen;
    pid_t pid;
    int r = AMK_EIO;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (spec == NULL || spec->shell == NULL || spec->shell[0] != '/' || spec->env == NULL)
        return AMK_EINVAL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return AMK_ENOMEM;
    p->pid = -1;
    p->pidfd = p->in_fd = p->out_fd = p->err_fd = -1;
    p->pty = spec->use_pty != 0;
    /* argv[0]: the shell's base name, with '-' in front for a login shell
     * (the convention every shell honours). */
    base = strrchr(spec->shell, '/') + 1;
    blen = strlen(base);
    if ((argv0 = malloc(blen + 2)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (spec->command == NULL) {
        argv0[0] = '-';
        memcpy(argv0 + 1, base, blen + 1);
        argv[1] = NULL;
    } else {
        memcpy(argv0, base, blen + 1);
        argv[1] = "-c";
        argv[2] = (char *)spec->command;
        argv[3] = NULL;
    }
    argv[0] = argv0;
    if (p->pty) {
        if (make_pty(spec, p, &slave) < 0)
            goto out;
        /* SSH_TTY names the terminal, as OpenSSH sets it */
        if ((r = env_with_tty(spec->env, p->tty_name, &env_tty, &env_tty_var)) != AMK_OK)
            goto out;
        r = AMK_EIO;
    } else if (make_stdin_pair(in_p) < 0 || make_pipe(out_p, 0) < 0 || make_pipe(err_p, 0) < 0) {
        goto out;
    }
    if ((pid = fork()) < 0)
        goto out;
    if (pid == 0) {
        if (p->pty)
            child_exec(spec, argv, env_tty, slave, slave, slave, 1);
        child_exec(spec, argv, spec->env, in_p[0], out_p[1], err_p[1], 0);
    }
    p->pid = pid;
    if (!p->pty) {
        p->in_fd = in_p[1];
        p->out_fd = out_p[0];
        p->err_fd = err_p[0];
        in_p[1] = out_p[0] = err_p[0] = -1;
    }
    /* Linux 5.3+: readable once the child exits; no SIGCHLD needed.
     * Without it (an older kernel, a seccomp filter, valgrind) the server
     * polls waitpid instead (amk_srv_chan_polls_child). */
    if ((p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0 &&
        errno != ENOSYS && errno != EPERM && errno != EACCES) {
        r = AMK_EIO;
        goto out;
    }
    *out = p;
    p = NULL;
    r = AMK_OK;
out:
    close_fd(&in_p[0]);
    close_fd(&in_p[1]);
    close_fd(&out_p[0]);
    close_fd(&out_p[1]);
    close_fd(&err_p[0]);
    close_fd(&err_p[1]);
    close_fd(&slave);
    free(argv0);
    free(env_tty);
    free(env_tty_var);
    amk_proc_free(p, 0);
    return r;
}

int
amk_proc_reap(struct amk_proc *p)
{
    int st;
    pid_t w;

    if (p == NULL)
        return AMK_EINVAL;
    if (p->exited)
        return AMK_OK;
    do {
        w = waitpid(p->pid, &st, WNOHANG);
    } while (w < 0 && errno == EINTR);
    if (w == 0)
        return AMK_EAGAIN;
    if (w < 0) {
        /* Someone else reaped it (a careless SIGCHLD handler): report it
         * killed, the closest honest answer. */
        st = SIGKILL;
    }
    p->exited = 1;
    p->wait_status = st;
    close_fd(&p->pidfd);
    return AMK_OK;
}

void
amk_proc_signal(struct amk_proc *p, int sig)
{
    if (p == NULL || p->exited || p->pid <= 0)
        return;
    (void)kill(-p->pid, sig);
}

void
amk_proc_hangup(struct amk_proc *p)
{
    if (p == NULL || p->hup_sent)
        return;
    p->hup_sent = 1;
    amk_proc_signal(p, SIGHUP);
}

void
amk_proc_close_io(struct amk_proc *p)
{
    if (p == NULL)
        return;
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
}

int
amk_proc_winsize(struct amk_proc *p, uint32_t cols, uint32_t rows, uint32_t width_px,
    uint32_t height_px)
{
    struct winsize ws;

    if (p == NULL || !p->pty || p->in_fd < 0)
        return AMK_ESTATE;
    memset(&ws, 0, sizeof(ws));
    ws.ws_col = (unsigned short)(cols > 0xffff ? 0xffff : cols);
    ws.ws_row = (unsigned short)(rows > 0xffff ? 0xffff : rows);
    ws.ws_xpixel = (unsigned short)(width_px > 0xffff ? 0xffff : width_px);
    ws.ws_ypixel = (unsigned short)(height_px > 0xffff ? 0xffff : height_px);
    return ioctl(p->in_fd, TIOCSWINSZ, &ws) == 0 ? AMK_OK : AMK_EIO;
}

void
amk_proc_close_stdin(struct amk_proc *p)
{
    if (p != NULL && !p->pty)
        close_fd(&p->in_fd);
}

void
amk_proc_free(struct amk_proc *p, int grace_ms)
{
    if (p == NULL)
        return;
    if (p->pid > 0 && !p->exited) {
        amk_proc_hangup(p);
        if (grace_ms > 0 && p->pidfd >= 0) {
            struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
            (void)poll(&pfd, 1, grace_ms);
        }
        if (amk_proc_reap(p) == AMK_EAGAIN) {
            amk_proc_signal(p, SIGKILL);
            while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
    close_fd(&p->pidfd);
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    free(p);
}

ssize_t
amk_proc_write_stdin(struct amk_proc *p, const void *data, size_t len)
{
    ssize_t n;

    if (p == NULL || p->in_fd < 0) {
        errno = EBADF;
        return -1;
    }
    do {
        n = p->pty ? write(p->in_fd, data, len) : send(p->in_fd, data, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}
