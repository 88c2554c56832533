/* Connection options, prompts and connecting, shared by ssh, cp and sftp.
 * See tool_ssh.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"
#include "tool_ssh.h"

#define LINE_MAX_LEN 1024

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
ask(const struct tool_ssh_opts *o, const char *prompt, int echo, char *buf, size_t cap)
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

static const struct tool_ssh_opts *g_opts;

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

int
tool_ssh_number(const char *v, unsigned max, unsigned *out)
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

/* see tool_ssh.h */
int
tool_ssh_set_option(struct tool_ssh_opts *o, const char *arg)
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
        if (tool_ssh_number(v, 65535, &o->port) != 0 || o->port == 0)
            goto bad;
    } else if (strcasecmp(name, "User") == 0) {
        free(o->user);
        if ((o->user = strdup(v)) == NULL)
            return -1;
    } else if (strcasecmp(name, "IdentityFile") == 0) {
        if (o->n_identities == TOOL_SSH_MAX_IDENTITIES)
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
        if (tool_ssh_number(v, 86400, &n) != 0)
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
        if (tool_ssh_number(v, 86400, &o->alive_interval_s) != 0)
            goto bad;
    } else if (strcasecmp(name, "ServerAliveCountMax") == 0) {
        if (tool_ssh_number(v, 1000, &o->alive_count) != 0)
            goto bad;
    } else {
        tool_error(o->sub, "unsupported option \"%s\"", name);
        return -1;
    }
    return 0;
bad:
    tool_error(o->sub, "bad option: %s", arg);
    return -1;
}

/* Applies the options to a new client. */
static int
configure(struct amk_client *c, struct tool_ssh_opts *o)
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


void
tool_ssh_opts_init(struct tool_ssh_opts *o, const char *sub)
{
    memset(o, 0, sizeof(*o));
    o->sub = sub;
    o->port = 22;
    o->password_auth = o->pubkey_auth = o->kbdint_auth = 1;
}

void
tool_ssh_opts_free(struct tool_ssh_opts *o)
{
    free(o->user);
    o->user = NULL;
}

int
tool_ssh_add_identity(struct tool_ssh_opts *o, const char *path)
{
    if (o->n_identities == TOOL_SSH_MAX_IDENTITIES) {
        tool_error(o->sub, "too many identity files");
        return -1;
    }
    o->identities[o->n_identities++] = path;
    return 0;
}

int
tool_ssh_set_port(struct tool_ssh_opts *o, const char *arg)
{
    if (tool_ssh_number(arg, 65535, &o->port) != 0 || o->port == 0) {
        tool_error(o->sub, "bad port \"%s\"", arg);
        return -1;
    }
    return 0;
}

int
tool_ssh_set_user(struct tool_ssh_opts *o, const char *user)
{
    free(o->user);
    o->user = strdup(user);
    return o->user != NULL ? 0 : -1;
}

int
tool_ssh_set_destination(struct tool_ssh_opts *o, const char *spec)
{
    const char *at = strrchr(spec, '@');

    o->host = spec;
    if (at == NULL)
        return 0;
    free(o->user);
    if ((o->user = strndup(spec, (size_t)(at - spec))) == NULL)
        return -1;
    o->host = at + 1;
    return 0;
}

int
tool_ssh_connect(struct tool_ssh_opts *o, struct amk_client **out)
{
    struct amk_client *c = NULL;
    const char *user = o->user != NULL ? o->user : getenv("USER");
    int r;

    *out = NULL;
    g_opts = o;
    if (user == NULL || user[0] == '\0') {
        /* as ssh: the user this process runs as (USER may be unset, e.g.
         * under cron or env -i, and getlogin() needs a login session) */
        struct passwd *pw = getpwuid(getuid());
        user = pw != NULL ? pw->pw_name : NULL;
    }
    if (user == NULL || user[0] == '\0') {
        /* only ssh has -l (cp's -l is its rate limit) */
        tool_error(o->sub, "no user name for uid %u: use user@host%s or -o User=name",
            (unsigned)getuid(), strcmp(o->sub, "ssh") == 0 ? ", -l user" : "");
        return AMK_EINVAL;
    }
    if ((r = amk_client_new(&c)) != AMK_OK || (r = configure(c, o)) != AMK_OK) {
        tool_error(o->sub, "%s: %s", amk_strerror(r), c != NULL ? amk_client_last_error(c) : "");
        amk_client_free(c);
        return r;
    }
    r = amk_client_connect(c, o->host, (uint16_t)o->port, user, NULL);
    if (r != AMK_OK) {
        tool_error(o->sub, "%s port %u: %s", o->host, o->port, amk_client_last_error(c));
        amk_client_free(c);
        return r;
    }
    *out = c;
    return AMK_OK;
}
