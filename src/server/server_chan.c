/*
 * Session channels of a server connection: each accepted "session" gets
 * the ready handler of session_chan.c, which records pty-req and env; the
 * exec, shell or subsystem request then decides what the channel becomes:
 * a process of the ready handler, the built-in SFTP server, or a channel
 * the application handles through amiko/server.h's channel functions.
 */
#include "server/server_int.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/conn.h"
#include "server/proc.h"
#include "server/session_chan.h"

#define BASE_ENV_MAX 40
#define APP_READ_CHUNK ((size_t)16 * 1024)

size_t
amk_srv_chans_sessions(const struct srv_conn *c)
{
    return c->n_chans + c->n_new;
}

int
amk_srv_chan_open_cb(void *user, const struct amk_conn_open_req *req, uint32_t id)
{
    struct srv_conn *c = user;

    if (strcmp(req->type, "session") != 0) {
        /* forwarding and agent channels exist but are not offered */
        if (strcmp(req->type, "direct-tcpip") == 0 || strcmp(req->type, "x11") == 0 ||
            strcmp(req->type, "forwarded-tcpip") == 0 ||
            strcmp(req->type, "auth-agent@openssh.com") == 0 ||
            strcmp(req->type, "direct-streamlocal@openssh.com") == 0)
            return AMK_OPEN_ADMINISTRATIVELY_PROHIBITED;
        return AMK_OPEN_UNKNOWN_CHANNEL_TYPE;
    }
    if (amk_srv_chans_sessions(c) >= c->srv->lim_sessions ||
        c->n_new >= sizeof(c->new_ids) / sizeof(c->new_ids[0]) || c->closing) {
        amk_log(&c->srv->log, AMK_LOG_INFO, "conn#%llu session refused: MaxSessions %u",
            (unsigned long long)c->id, c->srv->lim_sessions);
        return AMK_OPEN_ADMINISTRATIVELY_PROHIBITED;
    }
    c->new_ids[c->n_new++] = id;
    return AMK_OK;
}

static struct amk_server_channel *
find(struct srv_conn *c, uint32_t id)
{
    for (size_t i = 0; i < c->n_chans; i++) {
        if (c->chans[i]->id == id)
            return c->chans[i];
    }
    return NULL;
}

static enum amk_srv_subsys
subsystem_glue(void *user, struct amk_srv_chan *sc, uint32_t id, const char *name,
    const char **command)
{
    struct amk_server_channel *ch = user;
    struct srv_conn *c = ch->conn;

    (void)sc;
    (void)command;
    if (strcmp(name, "sftp") != 0 || !c->srv->sftp_enabled || ch->sftp != NULL)
        return AMK_SRV_SUBSYS_REFUSE;
    if (amk_srv_sftp_new(c, id, &ch->sftp) != AMK_OK) {
        amk_log(&c->srv->log, AMK_LOG_WARN, "conn#%llu cannot start the SFTP server",
            (unsigned long long)c->id);
        return AMK_SRV_SUBSYS_REFUSE;
    }
    ch->kind = SRV_CHAN_SFTP;
    return AMK_SRV_SUBSYS_INTERNAL;
}

/* Builds the base environment (USER, HOME, SSH_CONNECTION, ...). */
static size_t
base_env(struct srv_conn *c, char store[][256], const char **env, const char **home)
{
    struct passwd *pw = getpwuid(geteuid());
    size_t n = 0;

    *home = pw != NULL ? pw->pw_dir : "/";
    if (pw != NULL) {
        snprintf(store[n], 256, "USER=%s", pw->pw_name);
        env[n] = store[n];
        n++;
        snprintf(store[n], 256, "LOGNAME=%s", pw->pw_name);
        env[n] = store[n];
        n++;
        snprintf(store[n], 256, "HOME=%s", pw->pw_dir);
        env[n] = store[n];
        n++;
    }
    snprintf(store[n], 256, "SSH_CONNECTION=%s %u %s %u", c->peer_ip, (unsigned)c->peer_port,
        c->local_ip, (unsigned)c->local_port);
    env[n] = store[n];
    n++;
    snprintf(store[n], 256, "SSH_CLIENT=%s %u %u", c->peer_ip, (unsigned)c->peer_port,
        (unsigned)c->local_port);
    env[n] = store[n];
    n++;
    for (size_t i = 0; c->key_env != NULL && c->key_env[i] != NULL && n < BASE_ENV_MAX; i++)
        env[n++] = c->key_env[i];
    env[n] = NULL;
    return n;
}

int
amk_srv_chans_adopt(struct srv_conn *c)
{
    struct amk_server *s = c->srv;

    for (size_t k = 0; k < c->n_new; k++) {
        struct amk_server_channel *ch = NULL;
        struct amk_srv_chan_policy pol;
        char store[8][256];
        const char *env[BASE_ENV_MAX + 1], *home;
        int r;

        if (c->n_chans == c->cap_chans) {
            size_t n = c->cap_chans == 0 ? 2 : c->cap_chans * 2;
            struct amk_server_channel **v = realloc(c->chans, n * sizeof(*v));
            if (v == NULL)
                return AMK_ENOMEM;
            c->chans = v;
            c->cap_chans = n;
        }
        if ((ch = calloc(1, sizeof(*ch))) == NULL)
            return AMK_ENOMEM;
        ch->conn = c;
        ch->id = c->new_ids[k];
        memset(&pol, 0, sizeof(pol));
        pol.forced_command = c->forced_command;
        pol.no_pty = c->no_pty;
        pol.env_allow = (const char *const *)s->env_allow;
        pol.shell = s->shell;
        base_env(c, store, env, &home);
        pol.env = env;
        pol.home = home;
        pol.subsystem_cb = subsystem_glue;
        pol.user = ch;
        if ((r = amk_srv_chan_new(c->conn, ch->id, &pol, &ch->sc)) != AMK_OK) {
            free(ch);
            return r;
        }
        c->chans[c->n_chans++] = ch;
    }
    c->n_new = 0;
    return AMK_OK;
}

int
amk_srv_chan_request_cb(void *user, const struct amk_conn_chreq *req)
{
    struct srv_conn *c = user;
    struct amk_server *s = c->srv;
    struct amk_server_channel *ch = find(c, req->id);
    int start = req->kind == AMK_CHREQ_EXEC || req->kind == AMK_CHREQ_SHELL ||
        req->kind == AMK_CHREQ_SUBSYSTEM;

    if (ch == NULL)
        return AMK_REQ_FAILURE;
    if (ch->kind == SRV_CHAN_APP || ch->kind == SRV_CHAN_SFTP)
        return AMK_REQ_FAILURE;     /* started already: nothing more to ask */
    if (req->kind == AMK_CHREQ_PTY && !c->no_pty)
        ch->pty = 1;
    if (start && ch->kind == SRV_CHAN_NEW) {
        int action = AMK_SERVER_SESSION_DEFAULT;
        if (s->session_cb != NULL) {
            struct amk_server_request rq;
            memset(&rq, 0, sizeof(rq));
            rq.type = req->kind == AMK_CHREQ_EXEC ? "exec" :
                req->kind == AMK_CHREQ_SHELL ? "shell" : "subsystem";
            rq.command = req->kind == AMK_CHREQ_EXEC ? req->exec.command : NULL;
            rq.subsystem = req->kind == AMK_CHREQ_SUBSYSTEM ? req->subsystem : NULL;
            rq.pty = ch->pty;
            action = s->session_cb(s->session_user, (struct amk_server_conn *)(void *)c, ch, &rq);
        }
        if (action == AMK_SERVER_SESSION_REFUSE)
            return AMK_REQ_FAILURE;
        if (action == AMK_SERVER_SESSION_HANDLE) {
            ch->kind = SRV_CHAN_APP;
            return AMK_REQ_SUCCESS;
        }
        if (req->kind != AMK_CHREQ_SUBSYSTEM && (s->sftp_only || !s->exec_enabled)) {
            amk_log(&s->log, AMK_LOG_INFO, "conn#%llu %s refused", (unsigned long long)c->id,
                req->type);
            return AMK_REQ_FAILURE;
        }
        if (req->kind == AMK_CHREQ_SUBSYSTEM && s->sftp_only && c->forced_command != NULL)
            return AMK_REQ_FAILURE;     /* the forced command would run instead */
        if (req->kind == AMK_CHREQ_SUBSYSTEM && !s->exec_enabled && c->forced_command != NULL)
            return AMK_REQ_FAILURE;
        {
            int res = amk_srv_chan_on_request(ch->sc, req);
            if (res == AMK_REQ_SUCCESS && ch->kind == SRV_CHAN_NEW)
                ch->kind = SRV_CHAN_PROC;
            if (res == AMK_REQ_SUCCESS)
                amk_log(&s->log, AMK_LOG_DEBUG, "conn#%llu channel %u: %s%s%s",
                    (unsigned long long)c->id, (unsigned)ch->id, req->type,
                    req->kind == AMK_CHREQ_SUBSYSTEM ? " " : "",
                    req->kind == AMK_CHREQ_SUBSYSTEM ? req->subsystem : "");
            return res;
        }
    }
    return amk_srv_chan_on_request(ch->sc, req);
}

int
amk_srv_chans_poll_children(const struct srv_conn *c)
{
    for (size_t i = 0; i < c->n_chans; i++)
        if (c->chans[i]->kind == SRV_CHAN_PROC && amk_srv_chan_polls_child(c->chans[i]->sc))
            return 1;
    return 0;
}

size_t
amk_srv_chans_pollfds(struct srv_conn *c, struct pollfd *fds, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n_chans && cap - n >= AMK_SRV_CHAN_POLLFDS_MAX; i++) {
        struct amk_server_channel *ch = c->chans[i];
        if (ch->kind == SRV_CHAN_NEW || ch->kind == SRV_CHAN_PROC)
            n += amk_srv_chan_pollfds(ch->sc, fds + n, cap - n);
    }
    return n;
}

static void
chan_free(struct amk_server_channel *ch)
{
    struct amk_server *s = ch->conn->srv;
    struct amk_proc *p;

    if (ch->kind == SRV_CHAN_APP && s->close_cb != NULL)
        s->close_cb(s->chan_user, ch);
    amk_srv_sftp_free(ch->sftp);
    /* A process still running is not waited for here: the loop's reaper
     * hangs it up and ends it. Its descriptors leave the connection's
     * epoll registrations first (the pidfd is registered again, for the
     * reaper). */
    if ((p = amk_srv_chan_take_proc(ch->sc)) != NULL) {
        amk_srv_conn_forget_fd(ch->conn, p->pidfd);
        amk_srv_conn_forget_fd(ch->conn, p->in_fd);
        amk_srv_conn_forget_fd(ch->conn, p->out_fd);
        amk_srv_conn_forget_fd(ch->conn, p->err_fd);
        amk_srv_reap_add(s, p);
    }
    /* releases the channel in the engine too */
    amk_srv_chan_free(ch->sc);
    free(ch->out[0]);
    free(ch->out[1]);
    free(ch);
}

void
amk_srv_chans_free(struct srv_conn *c)
{
    for (size_t i = 0; i < c->n_chans; i++)
        chan_free(c->chans[i]);
    free(c->chans);
    c->chans = NULL;
    c->n_chans = c->cap_chans = 0;
    c->n_new = 0;
}

/* An application channel: input to the data callback, queued output out. */
static int
app_pump(struct amk_server_channel *ch, int *more)
{
    struct srv_conn *c = ch->conn;
    struct amk_server *s = c->srv;
    unsigned ev = amk_conn_channel_poll(c->conn, ch->id);
    int r;

    if (ev & AMK_CHAN_EV_CLOSED)
        return 1;
    for (int k = 0; k < 4 && !ch->eof_seen; k++) {
        size_t got = 0;
        r = amk_conn_channel_read(c->conn, ch->id, AMK_CHAN_STDOUT, s->rbuf, APP_READ_CHUNK, &got);
        if (r == AMK_EAGAIN)
            break;
        if (r != AMK_OK)
            return 1;
        if (got == 0) {
            ch->eof_seen = 1;
            if (s->data_cb != NULL)
                s->data_cb(s->chan_user, ch, 0, NULL, 0);
            break;
        }
        if (s->data_cb != NULL)
            s->data_cb(s->chan_user, ch, 0, s->rbuf, got);
        if (k == 3)
            *more = 1;
    }
    for (int st = 0; st < 2; st++) {
        while (ch->out_len[st] > 0) {
            size_t w = 0;
            r = st == 0 ? amk_conn_channel_write(c->conn, ch->id, ch->out[st], ch->out_len[st], &w)
                : amk_conn_channel_write_ext(c->conn, ch->id, AMK_EXTENDED_DATA_STDERR,
                    ch->out[st], ch->out_len[st], &w);
            if (r == AMK_EAGAIN)
                break;
            if (r != AMK_OK)
                return 1;
            memmove(ch->out[st], ch->out[st] + w, ch->out_len[st] - w);
            ch->out_len[st] -= w;
        }
    }
    if (ch->exit_set && !ch->closed_sent && ch->out_len[0] == 0 && ch->out_len[1] == 0) {
        (void)!amk_conn_channel_send_exit_status(c->conn, ch->id, (uint32_t)ch->exit_status);
        (void)!amk_conn_channel_send_eof(c->conn, ch->id);
        (void)!amk_conn_channel_close(c->conn, ch->id);
        ch->closed_sent = 1;
        return 1;
    }
    return 0;
}

/* Moves @p ch (if still there) to the end of @p c's channels: the one
 * whose copy-data slice was copied goes last next turn, so that the
 * connection's copies take turns (one slice per turn in all). */
static void
chan_to_back(struct srv_conn *c, const struct amk_server_channel *ch)
{
    for (size_t i = 0; i + 1 < c->n_chans; i++) {
        if (c->chans[i] == ch) {
            struct amk_server_channel *t = c->chans[i];

            memmove(&c->chans[i], &c->chans[i + 1], (c->n_chans - i - 1) * sizeof(c->chans[0]));
            c->chans[c->n_chans - 1] = t;
            return;
        }
    }
}

int
amk_srv_chans_pump(struct srv_conn *c)
{
    struct pollfd fds[SRV_CHAN_FDS_MAX];
    size_t n = amk_srv_chans_pollfds(c, fds, SRV_CHAN_FDS_MAX);
    const struct amk_server_channel *copier = NULL;
    int more = 0, r;

    /* epoll only woke us: the revents come from here */
    if (n > 0 && poll(fds, n, 0) < 0 && errno != EINTR)
        n = 0;
    for (size_t i = 0; i < c->n_chans;) {
        struct amk_server_channel *ch = c->chans[i];
        int done = 0;

        switch (ch->kind) {
        case SRV_CHAN_NEW:
        case SRV_CHAN_PROC:
            if ((r = amk_srv_chan_pump(ch->sc, fds, n)) != AMK_OK)
                return -1;
            done = amk_srv_chan_done(ch->sc);
            break;
        case SRV_CHAN_SFTP: {
            int stepped = c->copy_stepped;

            if ((r = amk_srv_sftp_pump(ch->sftp, &more)) < 0)
                return -1;
            done = r == 1;
            if (!stepped && c->copy_stepped && !done)
                copier = ch;
            break;
        }
        case SRV_CHAN_APP:
            done = app_pump(ch, &more);
            break;
        }
        if (done) {
            chan_free(ch);
            c->chans[i] = c->chans[--c->n_chans];
            continue;
        }
        i++;
    }
    if (copier != NULL)
        chan_to_back(c, copier);
    return more;
}

int
amk_server_channel_write(struct amk_server_channel *ch, int stream, const void *data,
    size_t len)
{
    uint8_t *p;
    int st = stream == 1 ? 1 : 0;

    if (ch == NULL || (data == NULL && len > 0) || (stream != 0 && stream != 1))
        return AMK_EINVAL;
    if (ch->exit_set || ch->closed_sent)
        return AMK_ESTATE;
    if (len > SRV_APP_OUT_MAX - ch->out_len[st])
        return AMK_EAGAIN;
    if (len == 0)
        return AMK_OK;
    if ((p = realloc(ch->out[st], ch->out_len[st] + len)) == NULL)
        return AMK_ENOMEM;
    memcpy(p + ch->out_len[st], data, len);
    ch->out[st] = p;
    ch->out_len[st] += len;
    amk_srv_mark_ready(ch->conn);
    return AMK_OK;
}

int
amk_server_channel_exit(struct amk_server_channel *ch, int status)
{
    if (ch == NULL)
        return AMK_EINVAL;
    if (ch->exit_set)
        return AMK_ESTATE;
    ch->exit_set = 1;
    ch->exit_status = status;
    amk_srv_mark_ready(ch->conn);
    return AMK_OK;
}

void
amk_server_channel_set_user(struct amk_server_channel *ch, void *user)
{
    if (ch != NULL)
        ch->app_user = user;
}

void *
amk_server_channel_get_user(const struct amk_server_channel *ch)
{
    return ch == NULL ? NULL : ch->app_user;
}
