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
 * Options (-o, case-insensitive names): Port, User, IdentityFile, Ciphers,
 * KexAlgorithms, MACs, HostKeyAlgorithms, UserKnownHostsFile,
 * StrictHostKeyChecking (yes, no, accept-new, ask), ConnectTimeout,
 * Compression, BatchMode, PasswordAuthentication, PubkeyAuthentication,
 * KbdInteractiveAuthentication, PreferredAuthentications,
 * ServerAliveInterval, ServerAliveCountMax.
 *
 * Passwords and passphrases are read from the terminal, or from the
 * program named by SSH_ASKPASS as SSH_ASKPASS_REQUIRE says: "force"
 * always, "prefer" when SSH_ASKPASS is set, "never" never; unset, when
 * there is no terminal and DISPLAY is set. BatchMode never asks.
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

#define SSH_EXIT_FAIL 255
#define IO_CHUNK ((size_t)32 * 1024)
#define MAX_IDENTITIES 16
#define LINE_MAX_LEN 1024

struct ssh_opts {
    const char *host;
    char *user;
    unsigned port;
    const char *identities[MAX_IDENTITIES];
    size_t n_identities;
    const char *specs[6];           /* by enum amk_alg_kind */
    const char *known_hosts;        /* NULL: ~/.ssh/known_hosts */
    const char *strict;             /* NULL: ask */
    int connect_timeout_s;          /* 0: the library's default */
    int compression;
    int batch;
    int password_auth, pubkey_auth, kbdint_auth;
    unsigned alive_interval_s, alive_count;
    int tty;                        /* 1 -t, 0 -T, -1 default */
    int verbose;
    char *command;
};

static struct termios saved_tty;
static int tty_raw;
static volatile sig_atomic_t winch;

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
amk_cmd_ssh_usage(void)
{
    fprintf(stderr, "usage: amiko ssh [-p port] [-l user] [-i identity] [-o Option=value]... "
        "[-t|-T] [-v] [user@]host [command...]\n");
}

/* --- Prompts ------------------------------------------------------------- */

/* Runs SSH_ASKPASS with @p prompt; its first output line into @p buf. */
static int
askpass(const char *prog, const char *prompt, char *buf, size_t cap)
{
    int fds[2], status = 0;
    size_t n = 0;
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    if ((pid = fork()) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], 1) < 0)
            _exit(127);
        execlp(prog, prog, prompt, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t got = read(fds[0], buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n == cap - 1)
            break;
    }
    close(fds[0]);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Reads a line from /dev/tty after @p prompt, echoing only when @p echo. */
static int
tty_prompt(const char *prompt, int echo, char *buf, size_t cap)
{
    struct termios old, quiet;
    int fd, echo_off = 0;
    size_t n = 0;
    char ch;

    if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return -1;
    if (write(fd, prompt, strlen(prompt)) < 0) {
        close(fd);
        return -1;
    }
    if (!echo && tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    for (;;) {
        ssize_t got = read(fd, &ch, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || ch == '\n' || ch == '\r')
            break;
        if (n + 1 < cap)
            buf[n++] = ch;
    }
    buf[n] = '\0';
    if (echo_off) {
        tcsetattr(fd, TCSAFLUSH, &old);
        if (write(fd, "\n", 1) < 0)
            n = 0;
    }
    close(fd);
    return 0;
}

/* Asks for a secret the way OpenSSH does (see the file comment). */
static int
ask(const struct ssh_opts *o, const char *prompt, int echo, char *buf, size_t cap)
{
    const char *prog = getenv("SSH_ASKPASS");
    const char *req = getenv("SSH_ASKPASS_REQUIRE");
    int have_tty = access("/dev/tty", R_OK | W_OK) == 0 && isatty(STDIN_FILENO);
    int use_askpass;

    if (o->batch)
        return -1;
    if (req != NULL && strcmp(req, "force") == 0)
        use_askpass = prog != NULL;
    else if (req != NULL && strcmp(req, "prefer") == 0)
        use_askpass = prog != NULL;
    else if (req != NULL && strcmp(req, "never") == 0)
        use_askpass = 0;
    else
        use_askpass = prog != NULL && !have_tty && getenv("DISPLAY") != NULL;
    if (use_askpass)
        return askpass(prog, prompt, buf, cap);
    return tty_prompt(prompt, echo, buf, cap);
}

static const struct ssh_opts *g_opts;

static int
password_cb(void *user, const char *username, const char *host, char *buf, size_t cap)
{
    char prompt[LINE_MAX_LEN];

    (void)user;
    snprintf(prompt, sizeof(prompt), "%s@%s's password: ", username, host);
    return ask(g_opts, prompt, 0, buf, cap) == 0 ? AMK_OK : AMK_EAUTH;
}

static int
passphrase_cb(void *user, char *buf, size_t cap)
{
    char prompt[LINE_MAX_LEN];

    snprintf(prompt, sizeof(prompt), "Enter passphrase for key '%s': ", (const char *)user);
    return ask(g_opts, prompt, 0, buf, cap) == 0 ? AMK_OK : AMK_EPASSPHRASE;
}

static int
kbdint_cb(void *user, const char *name, const char *instruction, const char *const *prompts,
    const int *echo, size_t n, char *const *answers, size_t cap)
{
    (void)user;
    if (n > 0 && g_opts->batch)
        return AMK_EAUTH;
    if (name[0] != '\0')
        fprintf(stderr, "%s\n", name);
    if (instruction[0] != '\0')
        fprintf(stderr, "%s\n", instruction);
    for (size_t i = 0; i < n; i++) {
        if (ask(g_opts, prompts[i], echo[i], answers[i], cap) != 0)
            return AMK_EAUTH;
    }
    return AMK_OK;
}

static int
hostkey_ask_cb(void *user, const char *host, unsigned port, const struct amk_key *key)
{
    char *fp = NULL, answer[16], prompt[LINE_MAX_LEN];
    int ok;

    (void)user;
    if (amk_key_fingerprint(key, AMK_KEY_FP_SHA256, &fp) != AMK_OK)
        return AMK_EHOSTKEY_UNKNOWN;
    snprintf(prompt, sizeof(prompt), "The authenticity of host '%s' (port %u) can't be "
        "established.\n%s key fingerprint is %s.\nAre you sure you want to continue "
        "connecting (yes/no)? ", host, port, amk_key_type_name(key), fp);
    free(fp);
    ok = tty_prompt(prompt, 1, answer, sizeof(answer)) == 0 && strcmp(answer, "yes") == 0;
    return ok ? AMK_OK : AMK_EHOSTKEY_UNKNOWN;
}

static void
log_cb(void *user, enum amk_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "%s: %s\r\n", amk_log_level_name(level), msg);
}

/* --- Options ------------------------------------------------------------- */

static int
yes_no(const char *v, int *out)
{
    if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0)
        *out = 1;
    else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
        strcasecmp(v, "off") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int
number(const char *v, unsigned max, unsigned *out)
{
    char *end = NULL;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n > max)
        return -1;
    *out = (unsigned)n;
    return 0;
}

/* One -o option, "Name=value" or "Name value". */
static int
set_option(struct ssh_opts *o, const char *arg)
{
    char name[64];
    const char *v;
    size_t len = strcspn(arg, "= \t");
    unsigned n = 0;

    if (len == 0 || len >= sizeof(name) || arg[len] == '\0')
        goto bad;
    memcpy(name, arg, len);
    name[len] = '\0';
    v = arg + len;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v == '=')
        v++;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strcasecmp(name, "Port") == 0) {
        if (number(v, 65535, &o->port) != 0 || o->port == 0)
            goto bad;
    } else if (strcasecmp(name, "User") == 0) {
        free(o->user);
        if ((o->user = strdup(v)) == NULL)
            return -1;
    } else if (strcasecmp(name, "IdentityFile") == 0) {
        if (o->n_identities == MAX_IDENTITIES)
            goto bad;
        o->identities[o->n_identities++] = v;
    } else if (strcasecmp(name, "Ciphers") == 0) {
        o->specs[AMK_ALG_CIPHER] = v;
    } else if (strcasecmp(name, "KexAlgorithms") == 0) {
        o->specs[AMK_ALG_KEX] = v;
    } else if (strcasecmp(name, "MACs") == 0) {
        o->specs[AMK_ALG_MAC] = v;
    } else if (strcasecmp(name, "HostKeyAlgorithms") == 0) {
        o->specs[AMK_ALG_HOSTKEY] = v;
    } else if (strcasecmp(name, "UserKnownHostsFile") == 0) {
        o->known_hosts = v;
    } else if (strcasecmp(name, "StrictHostKeyChecking") == 0) {
        if (strcasecmp(v, "yes") != 0 && strcasecmp(v, "no") != 0 &&
            strcasecmp(v, "off") != 0 && strcasecmp(v, "accept-new") != 0 &&
            strcasecmp(v, "ask") != 0)
            goto bad;
        o->strict = v;
    } else if (strcasecmp(name, "ConnectTimeout") == 0) {
        if (number(v, 86400, &n) != 0)
            goto bad;
        o->connect_timeout_s = (int)n;
    } else if (strcasecmp(name, "Compression") == 0) {
        if (yes_no(v, &o->compression) != 0)
            goto bad;
    } else if (strcasecmp(name, "BatchMode") == 0) {
        if (yes_no(v, &o->batch) != 0)
            goto bad;
    } else if (strcasecmp(name, "PasswordAuthentication") == 0) {
        if (yes_no(v, &o->password_auth) != 0)
            goto bad;
    } else if (strcasecmp(name, "PubkeyAuthentication") == 0) {
        if (yes_no(v, &o->pubkey_auth) != 0)
            goto bad;
    } else if (strcasecmp(name, "KbdInteractiveAuthentication") == 0) {
        if (yes_no(v, &o->kbdint_auth) != 0)
            goto bad;
    } else if (strcasecmp(name, "PreferredAuthentications") == 0) {
        /* the chain's order is fixed; the list says which methods may run */
        o->pubkey_auth = strstr(v, "publickey") != NULL;
        o->password_auth = strstr(v, "password") != NULL;
        o->kbdint_auth = strstr(v, "keyboard-interactive") != NULL;
    } else if (strcasecmp(name, "ServerAliveInterval") == 0) {
        if (number(v, 86400, &o->alive_interval_s) != 0)
            goto bad;
    } else if (strcasecmp(name, "ServerAliveCountMax") == 0) {
        if (number(v, 1000, &o->alive_count) != 0)
            goto bad;
    } else {
        die_msg("unsupported option \"%s\"", name);
        return -1;
    }
    return 0;
bad:
    die_msg("bad option: %s", arg);
    return -1;
}

/* Parses the command line; 0, or -1 after a message. */
static int
parse_args(struct ssh_opts *o, int argc, char **argv)
{
    int i = 1;
    size_t len = 0;
    char *at;

    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
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
                    o->verbose++;
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
                if (number(val, 65535, &o->port) != 0 || o->port == 0) {
                    die_msg("bad port \"%s\"", val);
                    return -1;
                }
            } else if (f == 'l') {
                free(o->user);
                if ((o->user = strdup(val)) == NULL)
                    return -1;
            } else if (f == 'i') {
                if (o->n_identities == MAX_IDENTITIES)
                    return -1;
                o->identities[o->n_identities++] = val;
            } else if (set_option(o, val) != 0) {
                return -1;
            }
            break;
        }
    }
    if (i >= argc) {
        amk_cmd_ssh_usage();
        return -1;
    }
    o->host = argv[i++];
    if ((at = strrchr(o->host, '@')) != NULL) {
        free(o->user);
        if ((o->user = strndup(o->host, (size_t)(at - o->host))) == NULL)
            return -1;
        o->host = at + 1;
    }
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

/* Applies the options to a new client. */
static int
configure(struct amk_client *c, struct ssh_opts *o)
{
    int r = AMK_OK;
    const char *strict = o->strict != NULL ? o->strict : "ask";

    if (o->verbose > 0)
        r = amk_client_set_log(c, log_cb, NULL, o->verbose == 1 ? AMK_LOG_INFO :
            o->verbose == 2 ? AMK_LOG_DEBUG : AMK_LOG_TRACE);
    else
        r = amk_client_set_log(c, log_cb, NULL, AMK_LOG_ERROR);
    for (int k = AMK_ALG_KEX; r == AMK_OK && k <= AMK_ALG_COMPRESSION; k++) {
        if (o->specs[k] != NULL)
            r = amk_client_set_algorithms(c, (enum amk_alg_kind)k, o->specs[k]);
    }
    if (r == AMK_OK)
        r = amk_client_set_compression(c, o->compression);
    if (r == AMK_OK && o->connect_timeout_s > 0)
        r = amk_client_set_connect_timeout(c, o->connect_timeout_s * 1000);
    if (r == AMK_OK && o->alive_interval_s > 0)
        r = amk_client_set_keepalive(c, o->alive_interval_s * 1000, o->alive_count);
    if (r == AMK_OK)
        r = amk_client_load_system_host_keys(c, NULL);
    if (r == AMK_OK && (o->known_hosts == NULL || strcmp(o->known_hosts, "none") != 0))
        r = amk_client_load_host_keys(c, o->known_hosts);
    if (r == AMK_OK) {
        if (strcasecmp(strict, "yes") == 0)
            r = amk_client_set_hostkey_policy(c, AMK_HOSTKEY_REJECT);
        else if (strcasecmp(strict, "ask") == 0 && !o->batch)
            r = amk_client_set_hostkey_callback(c, hostkey_ask_cb, NULL);
        else if (strcasecmp(strict, "ask") == 0)
            r = amk_client_set_hostkey_policy(c, AMK_HOSTKEY_REJECT);
        else
            r = amk_client_set_hostkey_policy(c, AMK_HOSTKEY_AUTO_ADD);
    }
    for (size_t i = 0; r == AMK_OK && i < o->n_identities; i++)
        r = amk_client_add_key_file(c, o->identities[i]);
    if (r == AMK_OK)
        r = amk_client_set_allow_default_keys(c, 1);
    if (r == AMK_OK)
        r = amk_client_set_auth_methods(c, o->pubkey_auth, o->password_auth);
    if (r == AMK_OK)
        r = amk_client_set_passphrase_callback(c, passphrase_cb, (void *)"(key file)");
    if (r == AMK_OK)
        r = amk_client_set_password_callback(c, password_cb, NULL);
    if (r == AMK_OK && o->kbdint_auth)
        r = amk_client_set_kbdint_callback(c, kbdint_cb, NULL);
    return r;
}

int
amk_cmd_ssh(int argc, char **argv)
{
    struct ssh_opts o;
    struct amk_client *c = NULL;
    struct amk_client_channel *ch = NULL;
    const char *user;
    unsigned cols, rows;
    int r, status = SSH_EXIT_FAIL, use_pty;

    memset(&o, 0, sizeof(o));
    o.port = 22;
    o.tty = -1;
    o.password_auth = o.pubkey_auth = o.kbdint_auth = 1;
    g_opts = &o;
    signal(SIGPIPE, SIG_IGN);
    if (parse_args(&o, argc, argv) != 0)
        goto out;
    user = o.user != NULL ? o.user : getenv("USER");
    if (user == NULL || user[0] == '\0')
        user = getlogin();
    if (user == NULL) {
        die_msg("no user name: use -l or user@host");
        goto out;
    }
    use_pty = o.tty == 1 || (o.tty == -1 && o.command == NULL && isatty(STDIN_FILENO));
    if ((r = amk_client_new(&c)) != AMK_OK || (r = configure(c, &o)) != AMK_OK) {
        die_msg("%s: %s", amk_strerror(r), amk_client_last_error(c));
        goto out;
    }
    r = amk_client_connect(c, o.host, (uint16_t)o.port, user, NULL);
    if (r != AMK_OK) {
        die_msg("%s port %u: %s", o.host, o.port, amk_client_last_error(c));
        goto out;
    }
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
        o.verbose > 0)
        die_msg("close: %s", amk_client_last_error(c));
out:
    restore_tty();
    amk_client_channel_free(ch);
    amk_client_free(c);
    free(o.user);
    free(o.command);
    return status;
}
