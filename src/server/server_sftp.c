/*
 * The built-in "sftp" subsystem of a server channel: the sans-I/O SFTP
 * server engine (src/sftp/sftp_server.c) over the POSIX backend
 * (sftp_fs.c, confined to the configured root; its OPENs counted against
 * the server's handle budget), fed from the channel's received data and
 * answering into the channel within its window.
 * Input is taken only while the engine accepts it (its output is
 * bounded), so a client that does not read its replies stops being read:
 * its window closes and its sends stop. A copy-data is copied one slice
 * per pump (amk_sftps_step), the connection marked as having more work,
 * so the loop does not sleep and serves the others between slices.
 */
#include "server/server_int.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "channel/conn.h"
#include "server/sftp_fs.h"
#include "sftp/sftp_server.h"
#include "transport/transport.h"

/* Channel bytes taken per pump, so one transfer cannot hold the loop. */
#define SFTP_BUDGET ((size_t)512 * 1024)
#define SFTP_READ_CHUNK ((size_t)64 * 1024)
/* Engine output that pauses its input (see amk_sftps_config): below one
 * large DATA reply, so a READ is answered into an empty buffer (a reply
 * appended behind the rest of another one made the buffer compact or grow,
 * copying up to a quarter megabyte). */
#define SFTP_OUT_MAX ((size_t)64 * 1024)
/*
 * An SFTP channel's receive window, grown from SRV_WINDOW_DEFAULT once the
 * subsystem runs. Uploads need it: with 2 MiB given back at half, at most
 * ~1-2 MiB is in flight, 18.5 MiB/s over a 50 ms link where 8 MiB gives
 * 63 (bench, issue 7; on loopback no clear difference). The SFTP engine reads
 * the channel only while its output drains, so a client that stops reading
 * replies can make us hold one window; hence at most SFTP_BIG_WINDOWS such
 * channels per connection, the later ones keeping the default.
 */
#define SFTP_WINDOW ((uint32_t)8 * 1024 * 1024)
#define SFTP_BIG_WINDOWS 4
/* The least output handed to the channel at once near SRV_OUT_SOFT. */
#define SFTP_OUT_STEP ((size_t)32 * 1024)

struct srv_sftp {
    struct srv_conn *c;
    uint32_t id;
    struct amk_sftp_fs *fs;
    struct amk_sftps *e;
    uint8_t *stash;         /* input the engine did not take yet */
    size_t stash_len;
    int eof, ended;
    int window_done;        /* SFTP_WINDOW asked for, or not to be */
};

/*
 * The server-wide budget of SFTP handles. Each SFTP session may open
 * AMK_SFTPS_HANDLES_DEFAULT handles, but a few sessions together could
 * then take every descriptor of the process (four sessions of 256 under
 * `ulimit -n 1024`), and the server could no longer accept connections or
 * start sessions. Past the budget, OPEN and OPENDIR fail with EMFILE (a
 * FAILURE status, "Too many open files") until some handle is closed.
 *
 * The budget is half of RLIMIT_NOFILE, read at each open (so a limit
 * changed with prlimit(1) counts at once); the other half is for what
 * the server itself needs: a socket per connection, a pty or pipes and a
 * pidfd per session process, the root descriptor of each confined SFTP
 * session and the descriptors an operation holds while it resolves a
 * path.
 */
static size_t
handles_max(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur / 2 > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)(rl.rlim_cur / 2);
}

static void
budget_refused(void *user, size_t open)
{
    struct amk_server *s = user;

    amk_log(&s->log, AMK_LOG_WARN, "sftp: %zu handles open in all sessions, half of the "
        "descriptor limit: opens refused until some are closed", open);
}

void
amk_srv_sftp_budget_init(struct amk_server *s)
{
    memset(&s->sftp_budget, 0, sizeof(s->sftp_budget));
    s->sftp_budget.max = handles_max;
    s->sftp_budget.refused = budget_refused;
    s->sftp_budget.user = s;
}

/*
 * The SFTP start directory ("~", REALPATH ".", home-directory): the root
 * when confined; otherwise the home of the server's user, where sshd's
 * sftp-server and this server's exec sessions start (not the directory
 * the server happened to be started from). NULL: the backend's default.
 */
static const char *
start_dir(const struct amk_server *s, char *buf, size_t cap)
{
    struct passwd pw, *res = NULL;
    char tmp[4096];

    if (s->sftp_root_fd >= 0)
        return NULL;
    if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) != 0 || res == NULL ||
        res->pw_dir == NULL || res->pw_dir[0] != '/' ||
        snprintf(buf, cap, "%s", res->pw_dir) >= (int)cap)
        return "/";
    return buf;
}

/*
 * Whether a client with identification line @p line (RFC 4253 §4.2,
 * "SSH-protoversion-softwareversion [comments]") sends SYMLINK's fields
 * in the draft's order (linkpath first, draft-ietf-secsh-filexfer-02
 * §6.10) to this server. OpenSSH's sftp-server reads target first
 * (OpenSSH PROTOCOL §4.1), which OpenSSH's sftp, Paramiko, libssh2 and
 * amiko's client always send. AsyncSSH's client sends target first only
 * when the server's banner names OpenSSH or paramiko (2.10, sftp.py
 * _nonstandard_symlink_impls), libssh's only when it names OpenSSH
 * (0.10, sftp_symlink()); ours names amiko, so both send the draft's
 * order. Nothing on the wire tells the orders apart; the banner is all
 * there is, and only these two clients are known to need it.
 * "libssh_" and not "libssh": libssh2's banner is "libssh2_<version>".
 */
static int
client_sends_linkpath_first(const char *line)
{
    return amk_version_software_is(line, "AsyncSSH") || amk_version_software_is(line, "libssh_");
}

int
amk_srv_sftp_new(struct srv_conn *c, uint32_t id, struct srv_sftp **out)
{
    struct amk_server *s = c->srv;
    struct amk_sftps_config cfg;
    struct srv_sftp *f;
    char err[256], home[AMK_SFTPS_PATH_MAX + 1];
    const char *start = start_dir(s, home, sizeof(home));
    int r;

    *out = NULL;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return AMK_ENOMEM;
    f->c = c;
    f->id = id;
    err[0] = '\0';
    r = amk_sftp_fs_new_at(&f->fs, s->sftp_root_fd, start, err, sizeof(err));
    if (r == AMK_EINVAL && start != NULL && strcmp(start, "/") != 0) {
        /* a home that is gone: "/", as sshd's chdir fallback */
        amk_log(&s->log, AMK_LOG_INFO, "conn#%llu sftp: %s; starting in /",
            (unsigned long long)c->id, err);
        r = amk_sftp_fs_new_at(&f->fs, s->sftp_root_fd, "/", err, sizeof(err));
    }
    if (r != AMK_OK) {
        amk_log(&s->log, AMK_LOG_WARN, "conn#%llu sftp: %s", (unsigned long long)c->id, err);
        free(f);
        return r;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.read_only = s->sftp_read_only;
    /* One large reply ahead of the channel: with SRV_OUT_SOFT, what a READ
     * preads is still in the cache when it is encrypted and sent. */
    cfg.out_max = SFTP_OUT_MAX;
    cfg.symlink_linkpath_first =
        client_sends_linkpath_first(amk_transport_peer_version(c->t));
    if (cfg.symlink_linkpath_first)
        amk_log(&s->log, AMK_LOG_DEBUG, "conn#%llu sftp: SYMLINK read linkpath first "
            "(the draft's order, which this client sends)", (unsigned long long)c->id);
    amk_sftp_fs_set_budget(f->fs, &s->sftp_budget);
    if ((r = amk_sftps_new(&f->e, amk_sftp_fs_ops(), f->fs, &cfg)) != AMK_OK) {
        amk_sftp_fs_free(f->fs);
        free(f);
        return r;
    }
    *out = f;
    return AMK_OK;
}

void
amk_srv_sftp_free(struct srv_sftp *f)
{
    if (f == NULL)
        return;
    amk_sftps_free(f->e);
    amk_sftp_fs_free(f->fs);
    free(f->stash);
    free(f);
}

/* Sends engine output within the window while the connection's queue
 * is below SRV_OUT_SOFT; 0, or 1 when the channel is gone. */
static int
send_output(struct srv_sftp *f, int *progress)
{
    for (;;) {
        size_t len, w = 0, queued, room;
        const uint8_t *o = amk_sftps_output(f->e, &len), *q;
        int r;

        if (len == 0)
            return 0;
        amk_transport_output(f->c->t, &q, &queued);
        if (queued >= SRV_OUT_SOFT) {
            f->c->out_full = 1;     /* the turn writes, then pumps again */
            return 0;
        }
        /* up to the mark, but never in pieces smaller than a step */
        room = SRV_OUT_SOFT - queued < SFTP_OUT_STEP ? SFTP_OUT_STEP : SRV_OUT_SOFT - queued;
        if (len > room)
            len = room;
        r = amk_conn_channel_write(f->c->conn, f->id, o, len, &w);
        if (r == AMK_EAGAIN)
            return 0;
        if (r != AMK_OK)
            return 1;
        if (amk_sftps_output_consume(f->e, w) != AMK_OK)
            return 1;
        *progress = 1;
    }
}

/* A failed engine: logged, and no more input. Returns 1. */
static int
engine_failed(struct srv_sftp *f)
{
    amk_log(&f->c->srv->log, AMK_LOG_INFO, "conn#%llu sftp: %s",
        (unsigned long long)f->c->id, amk_sftps_last_error(f->e));
    f->eof = 1;
    return 1;
}

/* Feeds @p data; keeps what the engine did not take. 0, or 1 on failure. */
static int
feed(struct srv_sftp *f, const uint8_t *data, size_t len)
{
    size_t used = 0;

    if (amk_sftps_input(f->e, data, len, &used) != AMK_OK)
        return engine_failed(f);
    if (used < len) {
        uint8_t *p = malloc(len - used);
        if (p == NULL)
            return 1;
        memcpy(p, data + used, len - used);
        free(f->stash);
        f->stash = p;
        f->stash_len = len - used;
    }
    return 0;
}

int
amk_srv_sftp_pump(struct srv_sftp *f, int *more)
{
    struct amk_conn *conn = f->c->conn;
    size_t taken = 0;
    int progress = 1;

    if (amk_conn_channel_poll(conn, f->id) & AMK_CHAN_EV_CLOSED)
        return 1;
    if (f->ended)
        return 1;
    if (!f->window_done) {
        int r = AMK_OK;

        if (f->c->sftp_big_windows < SFTP_BIG_WINDOWS &&
            (r = amk_conn_channel_grow_window(conn, f->id, SFTP_WINDOW)) == AMK_OK)
            f->c->sftp_big_windows++;
        /* the sink full: again at the next pump; any other error is the
         * connection's, seen by the rest of the pump */
        f->window_done = r != AMK_EAGAIN;
    }
    while (progress && taken < SFTP_BUDGET) {
        progress = 0;
        if (send_output(f, &progress) != 0)
            return 1;
        /* no new requests while the connection's output is full: the
         * rest of this reply goes first (see SFTP_OUT_MAX) */
        if (f->c->out_full || amk_sftps_wants_output_room(f->e) ||
            amk_sftps_error(f->e) != AMK_OK)
            break;
        /* a copy-data in progress: one slice per connection and turn,
         * whichever of its channels copies (amk_srv_chans_pump lets them
         * take turns), then the other connections' turn (*more: the loop
         * comes back without sleeping). The copy is work the client asked
         * for: the idle timeout does not run meanwhile. */
        if (amk_sftps_busy(f->e)) {
            if (f->c->copy_stepped) {
                *more = 1;
                break;
            }
            f->c->copy_stepped = 1;
            f->c->last_input_ms = amk_srv_now_ms();
            if (amk_sftps_step(f->e) != AMK_OK) {
                (void)engine_failed(f);
                break;
            }
            progress = 1;
            continue;
        }
        if (f->stash_len > 0) {
            uint8_t *p = f->stash;
            size_t n = f->stash_len;
            f->stash = NULL;
            f->stash_len = 0;
            if (feed(f, p, n) != 0) {
                free(p);
                break;
            }
            free(p);
            progress = 1;
            continue;
        }
        if (!f->eof) {
            size_t got = 0;
            int r = amk_conn_channel_read(conn, f->id, AMK_CHAN_STDOUT, f->c->srv->rbuf,
                SFTP_READ_CHUNK, &got);
            if (r == AMK_OK && got == 0) {
                f->eof = 1;
            } else if (r == AMK_OK) {
                taken += got;
                progress = 1;
                if (feed(f, f->c->srv->rbuf, got) != 0)
                    break;
            } else if (r != AMK_EAGAIN) {
                return 1;
            }
        }
    }
    if (taken >= SFTP_BUDGET)
        *more = 1;
    {
        size_t olen;
        (void)amk_sftps_output(f->e, &olen);
        /* the client's EOF (or a failed engine) with everything answered:
         * end the channel as sftp-server's exit would */
        if ((f->eof || amk_sftps_error(f->e) != AMK_OK) && olen == 0 && f->stash_len == 0 &&
            !amk_sftps_busy(f->e)) {
            (void)!amk_conn_channel_send_exit_status(conn, f->id,
                amk_sftps_error(f->e) == AMK_OK ? 0 : 1);
            (void)!amk_conn_channel_send_eof(conn, f->id);
            (void)!amk_conn_channel_close(conn, f->id);
            f->ended = 1;
            return 1;
        }
    }
    return 0;
}
