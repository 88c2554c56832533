/*
 * amiko serve: a ready SSH server on amiko's server API (amiko/server.h).
 *
 *   amiko serve [-p port] [-b address] [-h hostkey]... [--authorized-keys file]
 *               [--password user:password]... [--password-file file]
 *               [--root dir] [--read-only] [--sftp-only | --allow-exec]
 *               [--allow-root] [--port-file file] [-o Option=value]... [-v]
 *
 * Listens on 127.0.0.1:2222 unless told otherwise (-p 0: a free port).
 * Without -h it makes an ephemeral Ed25519 host key. The user running it
 * logs in by public key (authorized_keys with all its options); each
 * --password adds a user name allowed by password and
 * keyboard-interactive (the password is overwritten in argv once read,
 * so ps shows "user:xxxx"; --password-file keeps it out of argv). Sessions
 * run as that user: exec and shell (pty or
 * pipes) and the built-in SFTP server. -o takes sshd_config names. One
 * log line per connection event goes to stderr; SIGINT / SIGTERM stop it
 * (exit 0).
 *
 * Strict defaults, as a server's should be: --root and --read-only bind
 * only the SFTP server, so they turn exec and shell off (a command would
 * read and write anything the user can); --allow-exec turns them back on,
 * unconfined. The server never changes uid, so every client acts as the
 * user running it: as root it refuses to start without --allow-root.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"

#define SERVE_MAX_KEYS 8
#define SERVE_MAX_PASSWORDS 32
#define SERVE_DEFAULT_PORT 2222

struct serve_user {
    char *name;
    char *password;
};

struct serve_opts {
    struct serve_user pw[SERVE_MAX_PASSWORDS];
    size_t n_pw;
    int verbose;
};

/* Adds "user:password" (@p what names where it came from, for errors). */
static int
add_password(struct serve_opts *o, const char *spec, const char *what)
{
    const char *colon = strchr(spec, ':');

    if (colon == NULL || colon == spec) {
        tool_error("serve", "%s: want user:password", what);
        return -1;
    }
    if (colon[1] == '\0') {
        /* sshd's PermitEmptyPasswords no */
        tool_error("serve", "%s: an empty password is refused", what);
        return -1;
    }
    if (o->n_pw >= SERVE_MAX_PASSWORDS) {
        tool_error("serve", "%s: more than %d passwords", what, SERVE_MAX_PASSWORDS);
        return -1;
    }
    if ((o->pw[o->n_pw].name = strndup(spec, (size_t)(colon - spec))) == NULL ||
        (o->pw[o->n_pw].password = strdup(colon + 1)) == NULL) {
        free(o->pw[o->n_pw].name);
        o->pw[o->n_pw].name = NULL;
        tool_error("serve", "out of memory");
        return -1;
    }
    o->n_pw++;
    return 0;
}

/* --password-file: a line "user:password" each (blank lines and lines
 * starting with # skipped). Refused when others than its owner may read
 * or write it, as sshd refuses such key files. */
static int
add_password_file(struct serve_opts *o, const char *path)
{
    char line[1024];
    struct stat st;
    FILE *f = fopen(path, "r");
    int r = 0;

    if (f == NULL) {
        tool_error("serve", "%s: %s", path, strerror(errno));
        return -1;
    }
    /* unbuffered: stdio's buffer would keep every password after fclose */
    setvbuf(f, NULL, _IONBF, 0);
    if (fstat(fileno(f), &st) != 0) {
        tool_error("serve", "%s: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        tool_error("serve", "%s: %s: chmod 600 and own it", path, st.st_uid != geteuid() ?
            "not owned by the user running serve" : "permissions too open (others may read it)");
        fclose(f);
        return -1;
    }
    while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t n = strcspn(line, "\r\n");
        if (line[n] == '\0' && !feof(f)) {
            tool_error("serve", "%s: a line longer than %zu bytes", path, sizeof(line) - 2);
            r = -1;
            break;
        }
        line[n] = '\0';
        if (line[0] != '\0' && line[0] != '#')
            r = add_password(o, line, path);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return r;
}

/* The signal handlers' way to the server (the tool has one). */
static struct amk_server *running;

static void
on_signal(int sig)
{
    (void)sig;
    amk_server_stop(running);
}

void
amk_cmd_serve_usage(FILE *f)
{
    fprintf(f,
        "usage: amiko serve [-p port] [-b address] [-h hostkey]... [--authorized-keys file]\n"
        "                   [--password user:password]... [--password-file file]\n"
        "                   [--root dir] [--read-only] [--sftp-only | --allow-exec]\n"
        "                   [--allow-root] [--port-file file] [-o Option=value]... [-v]\n"
        "\n"
        "  -p port             port to listen on (default 2222; 0: a free port)\n"
        "  -b address          address to listen on (default 127.0.0.1)\n"
        "  -h hostkey          a private host key file (repeatable; default: an ephemeral Ed25519 key)\n"
        "  --authorized-keys f keys allowed for this user (default ~/.ssh/authorized_keys)\n"
        "  --password u:p      allow user u with password p (password, keyboard-interactive)\n"
        "  --password-file f   the same for each line user:password of f (mode 0600 or stricter;\n"
        "                      keeps passwords out of ps)\n"
        "  --root dir          confine SFTP to dir (implies --sftp-only unless --allow-exec)\n"
        "  --read-only         SFTP refuses every change (implies --sftp-only unless --allow-exec)\n"
        "  --sftp-only         allow only the sftp subsystem (no exec or shell)\n"
        "  --allow-exec        with --root or --read-only: allow exec and shell anyway; commands\n"
        "                      are NOT confined to the root and may change any file the user can\n"
        "  --allow-root        start even when run as root; every client then acts as root\n"
        "                      (the server never changes uid), so only for throwaway machines\n"
        "  --port-file file    write the port to file once listening\n"
        "  -o Option=value     KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms, LoginGraceTime,\n"
        "                      MaxAuthTries, MaxStartups, MaxSessions, ClientAliveInterval,\n"
        "                      ClientAliveCountMax, IdleTimeout\n"
        "  -v                  debug logging\n");
}

static void
log_line(void *user, enum amk_log_level level, const char *msg)
{
    (void)user;
    (void)level;
    fprintf(stderr, "amiko serve: %s\n", msg);
}

static int
password_cb(void *user, struct amk_server_conn *conn, const char *username, const char *password)
{
    struct serve_opts *o = user;
    int ok = 0;

    (void)conn;
    /* every entry is compared, so the time does not tell which user exists */
    for (size_t i = 0; i < o->n_pw; i++) {
        int m = amk_server_password_equal(password, o->pw[i].password);
        if (strcmp(o->pw[i].name, username) == 0 && m)
            ok = 1;
    }
    return ok ? AMK_SERVER_AUTH_ACCEPT : AMK_SERVER_AUTH_REJECT;
}

/* Seconds, with an optional s/m/h suffix (sshd's time format, simplified). */
static int
parse_seconds(const char *v, uint64_t *out)
{
    char *end;
    unsigned long long n;

    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || end == v)
        return -1;
    if (*end == 'm' || *end == 'M')
        n *= 60, end++;
    else if (*end == 'h' || *end == 'H')
        n *= 3600, end++;
    else if (*end == 's' || *end == 'S')
        end++;
    if (*end != '\0' || n > 100000000ULL)
        return -1;
    *out = n;
    return 0;
}

static int
parse_uint(const char *v, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno != 0 || end == v || *end != '\0' || v[0] == '-' ? -1 : 0;
}

/* Applies one -o option; TOOL_EXIT_USAGE for unknown names, TOOL_EXIT_FAIL
 * for bad values, 0 when fine. */
static int
apply_option(struct amk_server *srv, const char *arg)
{
    static const struct { const char *name; enum amk_alg_kind kind; } algs[] = {
        { "KexAlgorithms", AMK_ALG_KEX }, { "Ciphers", AMK_ALG_CIPHER },
        { "MACs", AMK_ALG_MAC }, { "HostKeyAlgorithms", AMK_ALG_HOSTKEY },
    };
    char name[64];
    const char *eq = strchr(arg, '='), *v;
    size_t nl;
    uint64_t n;
    int r = AMK_OK;

    if (eq == NULL)
        eq = strchr(arg, ' ');
    if (eq == NULL || (nl = (size_t)(eq - arg)) == 0 || nl >= sizeof(name)) {
        tool_error("serve", "-o %s: expected Option=value", arg);
        return TOOL_EXIT_USAGE;
    }
    memcpy(name, arg, nl);
    name[nl] = '\0';
    v = eq + 1;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcasecmp(name, algs[i].name) == 0) {
            if (amk_server_set_algorithms(srv, algs[i].kind, v) != AMK_OK) {
                tool_error("serve", "%s: %s", name, amk_server_last_error(srv));
                return TOOL_EXIT_FAIL;
            }
            return 0;
        }
    }
    if (strcasecmp(name, "LoginGraceTime") == 0) {
        if (parse_seconds(v, &n) != 0)
            goto bad;
        r = amk_server_set_limit(srv, AMK_SERVER_LOGIN_GRACE_MS, n * 1000);
    } else if (strcasecmp(name, "MaxAuthTries") == 0) {
        if (parse_uint(v, &n) != 0)
            goto bad;
        r = amk_server_set_limit(srv, AMK_SERVER_MAX_AUTH_TRIES, n);
    } else if (strcasecmp(name, "MaxSessions") == 0) {
        if (parse_uint(v, &n) != 0)
            goto bad;
        r = amk_server_set_limit(srv, AMK_SERVER_MAX_SESSIONS, n);
    } else if (strcasecmp(name, "MaxStartups") == 0) {
        unsigned long a, b = 0, c = 0;
        char tail;
        int k = sscanf(v, "%lu:%lu:%lu%c", &a, &b, &c, &tail);
        if (k == 1) {
            b = 100;    /* sshd: one number is start = full */
            c = a;
        } else if (k != 3) {
            goto bad;
        }
        if (c < a)
            goto bad;
        if ((r = amk_server_set_limit(srv, AMK_SERVER_MAX_STARTUPS_FULL, c)) == AMK_OK
            && (r = amk_server_set_limit(srv, AMK_SERVER_MAX_STARTUPS_START, a)) == AMK_OK)
            r = amk_server_set_limit(srv, AMK_SERVER_MAX_STARTUPS_RATE, b);
    } else if (strcasecmp(name, "ClientAliveInterval") == 0) {
        if (parse_seconds(v, &n) != 0)
            goto bad;
        r = amk_server_set_limit(srv, AMK_SERVER_CLIENT_ALIVE_INTERVAL_MS, n * 1000);
    } else if (strcasecmp(name, "ClientAliveCountMax") == 0) {
        if (parse_uint(v, &n) != 0)
            goto bad;
        r = amk_server_set_limit(srv, AMK_SERVER_CLIENT_ALIVE_COUNT_MAX, n);
    } else if (strcasecmp(name, "IdleTimeout") == 0) {
        if (parse_seconds(v, &n) != 0)
            goto bad;
        r = amk_server_set_limit(srv, AMK_SERVER_IDLE_TIMEOUT_MS, n * 1000);
    } else {
        tool_error("serve", "unknown option %s", name);
        return TOOL_EXIT_USAGE;
    }
    if (r == AMK_OK)
        return 0;
bad:
    tool_error("serve", "bad value for %s: %s", name, v);
    return TOOL_EXIT_FAIL;
}

static int
write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int
print_host_key(const struct amk_key *k)
{
    char *fp = NULL;

    if (amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp) != AMK_OK)
        return -1;
    fprintf(stderr, "amiko serve: host key %s %s\n", amk_key_type_label(k), fp);
    free(fp);
    return 0;
}

int
amk_cmd_serve(int argc, char **argv)
{
    static const struct option LONG[] = {
        { "authorized-keys", required_argument, NULL, 'A' },
        { "password", required_argument, NULL, 'P' },
        { "password-file", required_argument, NULL, 'Q' },
        { "root", required_argument, NULL, 'R' },
        { "sftp-only", no_argument, NULL, 'S' },
        { "read-only", no_argument, NULL, 'W' },
        { "allow-exec", no_argument, NULL, 'X' },
        { "allow-root", no_argument, NULL, 'U' },
        { "port-file", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    struct serve_opts o;
    struct amk_server *srv = NULL;
    struct amk_key *keys[SERVE_MAX_KEYS];
    const char *key_files[SERVE_MAX_KEYS], *opts[64];
    size_t n_keys = 0, n_key_files = 0, n_opts = 0;
    const char *address = "127.0.0.1", *ak = NULL, *root = NULL, *port_file = NULL;
    char ak_default[4096];
    unsigned long port = SERVE_DEFAULT_PORT;
    int sftp_only = 0, read_only = 0, allow_exec = 0, allow_root = 0, exec_on;
    int c, rc = TOOL_EXIT_FAIL, r;
    struct passwd *pw = getpwuid(geteuid());
    struct sigaction sa;

    memset(&o, 0, sizeof(o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:b:h:o:v", LONG, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char *end;
            port = strtoul(optarg, &end, 10);
            if (*end != '\0' || port > 65535) {
                tool_error("serve", "bad port %s", optarg);
                return TOOL_EXIT_USAGE;
            }
            break;
        }
        case 'b': address = optarg; break;
        case 'h':
            if (n_key_files >= SERVE_MAX_KEYS) {
                tool_error("serve", "at most %d host keys", SERVE_MAX_KEYS);
                return TOOL_EXIT_USAGE;
            }
            key_files[n_key_files++] = optarg;
            break;
        case 'o':
            if (n_opts >= sizeof(opts) / sizeof(opts[0])) {
                tool_error("serve", "too many -o options");
                return TOOL_EXIT_USAGE;
            }
            opts[n_opts++] = optarg;
            break;
        case 'v': o.verbose = 1; break;
        case 'A': ak = optarg; break;
        case 'P': {
            const char *colon = strchr(optarg, ':');
            if (add_password(&o, optarg, "--password") != 0)
                goto out;
            /* hide it from ps and /proc/PID/cmdline, which every local
             * user can read (a window remains until this line runs;
             * --password-file has none) */
            memset(optarg + (colon - optarg) + 1, 'x', strlen(colon + 1));
            break;
        }
        case 'Q':
            if (add_password_file(&o, optarg) != 0)
                goto out;
            break;
        case 'R': root = optarg; break;
        case 'S': sftp_only = 1; break;
        case 'W': read_only = 1; break;
        case 'X': allow_exec = 1; break;
        case 'U': allow_root = 1; break;
        case 'F': port_file = optarg; break;
        case 'H':
            amk_cmd_serve_usage(stdout);
            rc = TOOL_EXIT_OK;
            goto out;
        default:
            amk_cmd_serve_usage(stderr);
            rc = TOOL_EXIT_USAGE;
            goto out;
        }
    }
    if (optind != argc) {
        amk_cmd_serve_usage(stderr);
        rc = TOOL_EXIT_USAGE;
        goto out;
    }
    if (sftp_only && allow_exec) {
        tool_error("serve", "--sftp-only and --allow-exec contradict each other");
        rc = TOOL_EXIT_USAGE;
        goto out;
    }
    /* --root and --read-only confine only SFTP: a command would bypass them */
    exec_on = !sftp_only && (allow_exec || (root == NULL && !read_only));
    if (geteuid() == 0 && !allow_root) {
        tool_error("serve", "refusing to run as root: every client would act as root (the "
            "server never changes uid); run it as an ordinary user, or pass --allow-root");
        goto out;
    }
    if (pw == NULL) {
        tool_error("serve", "who am I? (no passwd entry for uid %ld)", (long)geteuid());
        goto out;
    }
    if ((r = amk_server_new(&srv)) != AMK_OK) {
        tool_error("serve", "cannot create the server: %s", amk_strerror(r));
        goto out;
    }
    /* a stop asked before the loop runs is kept by the server */
    running = srv;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < n_opts; i++) {
        if ((r = apply_option(srv, opts[i])) != 0) {
            rc = r;
            goto out;
        }
    }
    if (amk_server_set_log(srv, log_line, NULL, o.verbose ? AMK_LOG_DEBUG : AMK_LOG_INFO)
        != AMK_OK)
        goto out;
    for (size_t i = 0; i < n_key_files; i++) {
        if ((r = amk_key_load_file(key_files[i], NULL, NULL, &keys[n_keys])) != AMK_OK) {
            tool_error("serve", "cannot load host key %s: %s", key_files[i], amk_strerror(r));
            goto out;
        }
        n_keys++;
        if ((r = amk_server_add_host_key(srv, keys[n_keys - 1])) != AMK_OK) {
            tool_error("serve", "host key %s: %s", key_files[i], amk_server_last_error(srv));
            goto out;
        }
    }
    if (n_keys == 0) {
        if ((r = amk_key_create(AMK_KEY_ED25519, 0, &keys[0])) != AMK_OK) {
            tool_error("serve", "cannot make a host key: %s", amk_strerror(r));
            goto out;
        }
        n_keys = 1;
        if (amk_server_add_host_key(srv, keys[0]) != AMK_OK)
            goto out;
    }
    for (size_t i = 0; i < n_keys; i++) {
        if (print_host_key(keys[i]) != 0)
            goto out;
    }
    if (ak == NULL) {
        snprintf(ak_default, sizeof(ak_default), "%s/.ssh/authorized_keys", pw->pw_dir);
        ak = ak_default;
    }
    if (amk_server_set_authorized_keys(srv, pw->pw_name, ak) != AMK_OK
        || (o.n_pw > 0 && amk_server_set_password_callback(srv, password_cb, &o) != AMK_OK)
        || amk_server_set_exec(srv, exec_on) != AMK_OK
        || amk_server_set_sftp_only(srv, !exec_on) != AMK_OK
        || amk_server_set_env_allow(srv, "LANG,LC_*,TERM") != AMK_OK)
        goto out;
    if (amk_server_set_sftp(srv, 1, root, read_only) != AMK_OK) {
        tool_error("serve", "%s", amk_server_last_error(srv));
        goto out;
    }
    if (amk_server_listen(srv, address, (uint16_t)port) != AMK_OK) {
        tool_error("serve", "%s", amk_server_last_error(srv));
        goto out;
    }
    fprintf(stderr, "amiko serve: listening on %s:%u\n", address,
        (unsigned)amk_server_port(srv, 0));
    if (port_file != NULL && write_port_file(port_file, amk_server_port(srv, 0)) != 0) {
        tool_error("serve", "cannot write %s: %s", port_file, strerror(errno));
        goto out;
    }
    if ((r = amk_server_run(srv)) != AMK_OK) {
        tool_error("serve", "%s", amk_server_last_error(srv));
        goto out;
    }
    fprintf(stderr, "amiko serve: stopped\n");
    rc = TOOL_EXIT_OK;
out:
    running = NULL;
    amk_server_free(srv);
    for (size_t i = 0; i < n_keys; i++)
        amk_key_free(keys[i]);
    for (size_t i = 0; i < o.n_pw; i++) {
        free(o.pw[i].name);
        if (o.pw[i].password != NULL) {
            explicit_bzero(o.pw[i].password, strlen(o.pw[i].password));
            free(o.pw[i].password);
        }
    }
    return rc;
}
