/* Running programs in the interop tests. See proc_util.h. */
#include "proc_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/wait.h"

void
proc_child_env(const char *home, char *const env[])
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (home != NULL)
        setenv("HOME", home, 1);
    unsetenv("SSH_AUTH_SOCK");
    unsetenv("SSH_ASKPASS");
    unsetenv("SSH_ASKPASS_REQUIRE");
    unsetenv("DISPLAY");
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        if (strchr(env[i], '=') == NULL)
            unsetenv(env[i]);
        else
            putenv(env[i]);
    }
}

static int
open_out(const char *path, int append)
{
    return open(path != NULL ? path : "/dev/null",
        O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
}

pid_t
proc_spawn(char *const argv[], const struct proc_io *io)
{
    static const struct proc_io none;
    pid_t pid;

    if (io == NULL)
        io = &none;
    pid = fork();
    if (pid == 0) {
        int i = open(io->in != NULL ? io->in : "/dev/null", O_RDONLY);
        int o = open_out(io->out, io->append);
        int e = io->out != NULL && io->err != NULL && strcmp(io->out, io->err) == 0 ? dup(o)
            : open_out(io->err, io->append);

        if (i < 0 || o < 0 || e < 0)
            _exit(126);
        proc_child_env(io->home, io->env);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Sleeps until @p pid may have changed state or @p ms passed: on its
 * pidfd when there is one (woken at once), else a short nap. */
static void
nap(int pidfd, int ms)
{
    if (pidfd >= 0) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        (void)poll(&p, 1, ms);
    } else {
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };
        (void)nanosleep(&ts, NULL);
    }
}

int
proc_wait(pid_t pid, int timeout_ms)
{
    int64_t deadline = amk_io_deadline(timeout_ms);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0, r = -1;

    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        int left;

        if (w == pid) {
            r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if ((left = amk_io_remaining_ms(deadline)) == 0) {
            fprintf(stderr, "pid %d did not finish within %d ms: killed\n", (int)pid,
                timeout_ms);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        nap(pidfd, left < 0 || left > 100 ? 100 : left);
    }
    if (pidfd >= 0)
        close(pidfd);
    return r;
}

int
proc_run(char *const argv[], const struct proc_io *io, int timeout_ms)
{
    pid_t pid = proc_spawn(argv, io);

    return pid < 0 ? -1 : proc_wait(pid, timeout_ms);
}

char *
proc_slurp(const char *path, size_t *len)
{
    size_t cap = 4096, used = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;

    if (fd < 0)
        return NULL;
    if ((buf = malloc(cap)) == NULL) {
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t n;

        if (cap - used < 2) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    return buf;
}
