/* see proftpd_server.h */
#include "proftpd_server.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/wait.h"

/* a lost race for the free port is retried */
#define START_ATTEMPTS 3
#define POLL_MS 20

/* The fixture's host keys proftpd serves (OpenSSH's format, which 1.3.8's
 * mod_sftp reads); the fixture's known_hosts lists them all. */
static const char *const HOST_KEYS[] = {
    "host_ed25519", "host_ecdsa256", "host_ecdsa384", "host_ecdsa521", "host_rsa",
};

/* The user key in RFC 4716 form, the only one SFTPAuthorizedUserKeys
 * file: reads. 0 or -1. */
static int
write_user_keys(const struct serve_fixture *f, const char *path)
{
    char pub[FIXTURE_PATH_MAX + 8], err[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)SSH_KEYGEN_PATH, (char *)"-e", (char *)"-f", pub, NULL };
    struct proc_io io = { .out = path, .err = err };

    snprintf(pub, sizeof(pub), "%s.pub", f->user_key);
    serve_fixture_path(f, "proftpd_keygen.err", err, sizeof(err));
    if (proc_run(argv, &io, FIXTURE_WAIT_MS) != 0) {
        fprintf(stderr, "proftpd: ssh-keygen -e -f %s failed\n", pub);
        return -1;
    }
    return 0;
}

/* mod_auth_file's passwd and group files with the current user and
 * group alone: home is the work directory, and the password field is
 * unusable (publickey only). ProFTPD refuses world-writable ones. */
static int
write_users(const struct serve_fixture *f, const char *passwd, const char *group,
    const char *gname)
{
    FILE *p = fopen(passwd, "w"), *g = fopen(group, "w");
    int r = p != NULL && g != NULL ? 0 : -1;

    if (p != NULL) {
        fprintf(p, "%s:*:%u:%u::%s:/bin/sh\n", f->user, (unsigned)getuid(), (unsigned)getgid(),
            f->work);
        r = fclose(p) == 0 ? r : -1;
    }
    if (g != NULL) {
        fprintf(g, "%s:*:%u:\n", gname, (unsigned)getgid());
        r = fclose(g) == 0 ? r : -1;
    }
    if (r == 0 && (chmod(passwd, 0600) != 0 || chmod(group, 0600) != 0))
        r = -1;
    return r;
}

/* proftpd.conf for @p port, @p extra lines last; 0 or -1. */
static int
write_config(const struct serve_fixture *f, const char *conf, uint16_t port, const char *extra)
{
    char passwd[FIXTURE_PATH_MAX], group[FIXTURE_PATH_MAX], keys[FIXTURE_PATH_MAX];
    struct group *gr = getgrgid(getgid());
    const char *gname = gr != NULL ? gr->gr_name : "amk";
    FILE *c;

    serve_fixture_path(f, "proftpd.passwd", passwd, sizeof(passwd));
    serve_fixture_path(f, "proftpd.group", group, sizeof(group));
    serve_fixture_path(f, "proftpd_user_keys", keys, sizeof(keys));
    if (write_user_keys(f, keys) != 0 || write_users(f, passwd, group, gname) != 0)
        return -1;
    if ((c = fopen(conf, "w")) == NULL)
        return -1;
    fprintf(c,
        "# written by tests/interop/proftpd_server.c\n"
        "ServerType standalone\n"
        "ServerName \"amiko interop\"\n"
        /* the main server speaks SSH (SFTPEngine) on this port alone:
         * no FTP listener anywhere, only 127.0.0.1 */
        "DefaultAddress 127.0.0.1\n"
        "SocketBindTight on\n"
        "UseIPv6 off\n"
        "Port %u\n"
        /* the current user: ProFTPD switches to it (a no-op) */
        "User %s\n"
        "Group %s\n"
        /* nothing outside the fixture directory: pid, scoreboard, logs */
        "PidFile %s/proftpd.pid\n"
        "ScoreboardFile %s/proftpd.scoreboard\n"
        "SystemLog %s\n"
        "TransferLog NONE\n"
        "WtmpLog off\n"
        /* no /run/proftpd/proftpd.sock, no /run/proftpd.delay */
        "ControlsEngine off\n"
        "DelayEngine off\n"
        "UseReverseDNS off\n"
        /* users from our file alone: no PAM, no /etc/passwd logins, no
         * /etc/ftpusers (which bars root), no /etc/shells */
        "AuthPAM off\n"
        "AuthOrder mod_auth_file.c\n"
        "AuthUserFile %s\n"
        "AuthGroupFile %s\n"
        "UseFtpUsers off\n"
        "RequireValidShell off\n"
        "%s"
        /* the suite overwrites files and resumes transfers (FTP's
         * defaults refuse both) */
        "AllowOverwrite on\n"
        "AllowStoreRestart on\n"
        "ModulePath /usr/lib/proftpd\n"
        "LoadModule mod_sftp.c\n"
        "SFTPEngine on\n"
        "SFTPLog %s\n"
        "SFTPAuthMethods publickey\n"
        "SFTPAuthorizedUserKeys file:%s\n"
        /* else it reads /etc/proftpd/blacklist.dat */
        "SFTPKeyBlacklist none\n",
        (unsigned)port, f->user, gname, f->dir, f->dir, f->log, passwd, group,
        getuid() == 0 ? "RootLogin on\n" : "", f->log, keys);
    if (extra != NULL)
        fprintf(c, "%s\n", extra);
    if (getenv("AMK_PROFTPD_TRACE") != NULL)
        fprintf(c, "TraceLog %s/proftpd.trace\nTrace sftp:20 ssh2:20\n", f->dir);
    for (size_t i = 0; i < sizeof(HOST_KEYS) / sizeof(HOST_KEYS[0]); i++)
        fprintf(c, "SFTPHostKey %s/%s\n", f->dir, HOST_KEYS[i]);
    return fclose(c) == 0 ? 0 : -1;
}

/* 1 when serve.log (proftpd's stderr and logs) has @p needle. */
static int
logged(const struct serve_fixture *f, const char *needle)
{
    return serve_fixture_log_count(f, needle, NULL);
}

int
proftpd_server_start(struct serve_fixture *f, const char *extra)
{
    char conf[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)PROFTPD_PATH, (char *)"-n", (char *)"-c", conf, NULL };
    struct proc_io io = { .out = f->log, .err = f->log, .append = 1, .home = f->dir };

    if (access(PROFTPD_PATH, X_OK) != 0 || access(PROFTPD_MOD_SFTP, R_OK) != 0) {
        fprintf(stderr, "skipped: %s or %s is not installed (proftpd-mod-crypto)\n",
            PROFTPD_PATH, PROFTPD_MOD_SFTP);
        return FIXTURE_SKIP;
    }
    serve_fixture_stop(f);
    serve_fixture_path(f, "proftpd.conf", conf, sizeof(conf));
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
        uint16_t port = fixture_free_port();
        int status = 0;
        pid_t pid;

        unlink(f->log);
        if (port == 0 || write_config(f, conf, port, extra) != 0) {
            fprintf(stderr, "proftpd: cannot write %s\n", conf);
            return -1;
        }
        if ((pid = proc_spawn(argv, &io)) < 0)
            return -1;
        while (amk_io_remaining_ms(deadline) > 0) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                break;
            }
            if (fixture_probe(port, deadline) == 0)
                return serve_fixture_adopt(f, pid, port);
            usleep(POLL_MS * 1000);
        }
        serve_fixture_dump_log(f, 4000);
        if (pid > 0) {
            kill(pid, SIGKILL);
            (void)proc_wait(pid, FIXTURE_WAIT_MS);
            fprintf(stderr, "proftpd: no SSH on port %u within %d ms\n", (unsigned)port,
                FIXTURE_WAIT_MS);
            return -1;
        }
        /* "Address already in use": someone took the port meanwhile */
        if (!logged(f, "in use")) {
            fprintf(stderr, "proftpd exited (status 0x%x) before listening\n", (unsigned)status);
            return -1;
        }
        fprintf(stderr, "proftpd: port %u taken, attempt %d\n", (unsigned)port, attempt + 1);
    }
    fprintf(stderr, "proftpd did not start\n");
    return -1;
}
