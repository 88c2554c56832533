/*
 * amiko ssh: a remote command or shell, following OpenSSH's ssh(1).
 *
 *   amiko ssh [-p port] [-l user] [-i identity] [-o Option=value]... [-t|-T]
 *             [-v] [user@]host [command...]
 *
 * stdin goes to the command, its stdout and stderr to ours apart, and the
 * remote exit status becomes ours (255 when connecting or authenticating
 * failed, or the command died of a signal). Without a command, or with
 * -t, a pty is requested and the local terminal put in raw mode.
 *
 * The -o options, prompts (terminal, SSH_ASKPASS) and connecting are
 * tool_ssh.c's, shared with `amiko cp` and `amiko sftp`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"
#include "tool_ssh.h"

#define SSH_EXIT_FAIL TOOL_SSH_EXIT_FAIL
#define IO_CHUNK ((size_t)32 * 1024)

struct ssh_opts {
    struct tool_ssh_opts c;         /* connection options (tool_ssh.h) */
    int tty;                        /* 1 -t, 0 -T, -1 default */
    char *command;
};

static struct termios saved_tty;
static int tty_raw;
static volatile sig_atomic_t winch;

static void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die_msg(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "amiko ssh: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
amk_cmd_ssh_usage(FILE *f)
{
    fprintf(f, "usage: amiko ssh [-p port] [-l user] [-i identity] [-o Option=value]... "
        "[-t|-T] [-v] [user@]host [command...]\n");
}

/* Parses the command line; 0, 1 after printing the usage for --help, or -1
 * after a message. */
static int
parse_args(struct ssh_opts *o, int argc, char **argv)
{
    int i = 1;
    size_t len = 0;

    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0) {
            amk_cmd_ssh_usage(stdout);
            return 1;
        }
        for (size_t k = 1; a[k] != '\0'; k++) {
            char f = a[k];
            const char *val;
            if (f == 't' || f == 'T' || f == 'v' || f == 'q') {
                if (f == 't')
                    o->tty = 1;
                else if (f == 'T')
                    o->tty = 0;
                else if (f == 'v')
                    o->c.verbose++;
                continue;
            }
            if (f != 'p' && f != 'l' && f != 'i' && f != 'o') {
                die_msg("unknown option -%c", f);
                return -1;
            }
            if (a[k + 1] != '\0')
                val = a + k + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                die_msg("option -%c needs a value", f);
                return -1;
            }
            if (f == 'p') {
                if (tool_ssh_set_port(&o->c, val) != 0)
                    return -1;
            } else if (f == 'l') {
                if (tool_ssh_set_user(&o->c, val) != 0)
                    return -1;
            } else if (f == 'i') {
                if (tool_ssh_add_identity(&o->c, val) != 0)
                    return -1;
            } else if (tool_ssh_set_option(&o->c, val) != 0) {
                return -1;
            }
            break;
        }
    }
    if (i >= argc) {
        amk_cmd_ssh_usage(stderr);
        return -1;
    }
    if (tool_ssh_set_destination(&o->c, argv[i++]) != 0)
        return -1;
    for (int k = i; k < argc; k++)
        len += strlen(argv[k]) + 1;
    if (len > 0) {
        if ((o->command = malloc(len)) == NULL)
            return -1;
        o->command[0] = '\0';
        for (int k = i; k < argc; k++) {
            if (k > i)
                strncat(o->command, " ", len - strlen(o->command) - 1);
            strncat(o->command, argv[k], len - strlen(o->command) - 1);
        }
    }
    return 0;
}

/* --- Terminal ------------------------------------------------------------- */

static void
restore_tty(void)
{
    if (tty_raw) {
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
        tty_raw = 0;
    }
}

static void
on_winch(int sig)
{
    (void)sig;
    winch = 1;
}

static void
tty_size(unsigned *cols, unsigned *rows)
{
    struct winsize ws;

    *cols = 80;
    *rows = 24;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

static void
make_raw(void)
{
    struct termios raw;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) != 0)
        return;
    raw = saved_tty;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) {
        tty_raw = 1;
        atexit(restore_tty);
    }
}

/* --- The session ----------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies what is readable from one stream to @p fd; 1 at its end, 0, or an error. */
static int
drain(struct amk_client_channel *ch, int err_stream, int fd, char *buf)
{
    size_t got = 0;
    int r;

    for (;;) {
        r = err_stream ? amk_client_channel_read_stderr(ch, buf, IO_CHUNK, &got) :
            amk_client_channel_read(ch, buf, IO_CHUNK, &got);
        if (r == AMK_EAGAIN)
            return 0;
        if (r != AMK_OK)
            return r;
        if (got == 0)
            return 1;
        if (write_all(fd, buf, got) != 0)
            return AMK_EIO;
    }
}

/* Moves data until the command ends; its exit status (or 255). */
static int
interact(struct amk_client *c, struct amk_client_channel *ch, int use_pty)
{
    char *buf = malloc(IO_CHUNK), *in = malloc(IO_CHUNK);
    size_t in_len = 0, in_off = 0;
    int in_eof = 0, eof_sent = 0, out_eof = 0, err_eof = 0, status = SSH_EXIT_FAIL;
    int r = AMK_EINTERNAL;
    const char *sig = NULL;

    if (buf == NULL || in == NULL)
        goto out;
    if (amk_client_set_blocking(c, 0) != AMK_OK)
        goto out;
    for (;;) {
        struct pollfd pfd[2];
        int n = 0, dirs, timeout;

        if (winch && use_pty) {
            unsigned cols, rows;
            winch = 0;
            tty_size(&cols, &rows);
            if ((r = amk_client_channel_window_change(ch, cols, rows)) != AMK_OK &&
                r != AMK_EAGAIN)
                goto fail;
        }
        while (in_off < in_len) {
            size_t w = 0;
            r = amk_client_channel_write(ch, in + in_off, in_len - in_off, &w);
            if (r == AMK_EAGAIN)
                break;
            if (r == AMK_ECLOSED) {
                in_off = in_len = 0;
                in_eof = eof_sent = 1;
                break;
            }
            if (r != AMK_OK)
                goto fail;
            in_off += w;
        }
        if (in_off == in_len)
            in_off = in_len = 0;
        if (in_eof && in_len == 0 && !eof_sent) {
            r = amk_client_channel_send_eof(ch);
            if (r != AMK_OK && r != AMK_EAGAIN && r != AMK_ECLOSED)
                goto fail;
            eof_sent = r != AMK_EAGAIN;
        }
        if (!out_eof && (r = drain(ch, 0, STDOUT_FILENO, buf)) != 0) {
            if (r < 0)
                goto fail;
            out_eof = 1;
        }
        if (!err_eof && (r = drain(ch, 1, STDERR_FILENO, buf)) != 0) {
            if (r < 0)
                goto fail;
            err_eof = 1;
        }
        if (out_eof && err_eof) {
            r = amk_client_channel_exit_status(ch, &status);
            if (r == AMK_OK)
                break;
            if (r == AMK_ECLOSED) {
                status = SSH_EXIT_FAIL;
                if (amk_client_channel_exit_signal(ch, &sig) == AMK_OK && !use_pty)
                    die_msg("remote command killed by signal %s", sig);
                break;
            }
            if (r != AMK_EAGAIN)
                goto fail;
        }
        if (!in_eof && in_len == 0) {
            pfd[n].fd = STDIN_FILENO;
            pfd[n++].events = POLLIN;
        }
        dirs = amk_client_block_directions(c);
        pfd[n].fd = amk_client_get_fd(c);
        pfd[n++].events = (short)(((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0) | POLLIN);
        timeout = amk_client_next_timeout(c);
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
            goto out;
        if (n == 2 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(STDIN_FILENO, in, IO_CHUNK);
            if (got > 0)
                in_len = (size_t)got;
            else if (got == 0 || (errno != EINTR && errno != EAGAIN))
                in_eof = 1;
        }
        if ((r = amk_client_process(c)) != AMK_OK)
            goto fail;
    }
    goto out;
fail:
    restore_tty();
    die_msg("%s: %s", amk_errname(r), amk_client_last_error(c));
    status = SSH_EXIT_FAIL;
out:
    free(buf);
    free(in);
    return status;
}

int
amk_cmd_ssh(int argc, char **argv)
{
    struct ssh_opts o;
    struct amk_client *c = NULL;
    struct amk_client_channel *ch = NULL;
    unsigned cols, rows;
    int r, status = SSH_EXIT_FAIL, use_pty;

    memset(&o, 0, sizeof(o));
    tool_ssh_opts_init(&o.c, "ssh");
    o.tty = -1;
    signal(SIGPIPE, SIG_IGN);
    if ((r = parse_args(&o, argc, argv)) != 0) {
        if (r == 1)
            status = 0;
        goto out;
    }
    use_pty = o.tty == 1 || (o.tty == -1 && o.command == NULL && isatty(STDIN_FILENO));
    if (tool_ssh_connect(&o.c, &c) != AMK_OK)
        goto out;
    r = amk_client_channel_open(c, 0, &ch);
    if (r == AMK_OK && use_pty) {
        tty_size(&cols, &rows);
        r = amk_client_channel_request_pty(ch, getenv("TERM"), cols, rows);
    }
    if (r == AMK_OK)
        r = o.command != NULL ? amk_client_channel_exec(ch, o.command) :
            amk_client_channel_shell(ch);
    if (r != AMK_OK) {
        die_msg("%s: %s", amk_errname(r), amk_client_last_error(c));
        goto out;
    }
    if (use_pty) {
        signal(SIGWINCH, on_winch);
        make_raw();
    }
    status = interact(c, ch, use_pty);
    restore_tty();
    if (amk_client_set_blocking(c, 1) == AMK_OK && amk_client_close(c) != AMK_OK &&
        o.c.verbose > 0)
        die_msg("close: %s", amk_client_last_error(c));
out:
    restore_tty();
    amk_client_channel_free(ch);
    amk_client_free(c);
    tool_ssh_opts_free(&o.c);
    free(o.command);
    return status;
}
