/*
 * User authentication of a server connection: the server engine of
 * src/auth/userauth_server*.c with the public callbacks of amiko/server.h
 * and the authorized_keys checker behind it. After success the engine is
 * freed (later requests are ignored, RFC 4252 §5.1) and the connection
 * engine takes over.
 */
#include "server/server_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amiko/authorized_keys.h>
#include <amiko/key.h>

#include "auth/userauth_server.h"
#include "channel/conn.h"
#include "transport/transport.h"

static int
password_glue(void *user, const char *username, const char *password)
{
    struct srv_conn *c = user;
    struct amk_server *s = c->srv;

    return s->password_cb(s->password_user, (struct amk_server_conn *)(void *)c, username,
        password);
}

static int
publickey_glue(void *user, const char *username, const struct amk_key *key, int is_query,
    void **key_opts)
{
    struct srv_conn *c = user;
    struct amk_server *s = c->srv;

    if (s->ak_path != NULL && (s->ak_user == NULL || strcmp(s->ak_user, username) == 0)) {
        struct amk_authorized_keys *ak = NULL;
        /* read at each attempt, as sshd does: edits take effect at once */
        if (amk_authorized_keys_load_file(s->ak_path, &ak) == AMK_OK) {
            int d = amk_userauth_server_ak_check(ak, key, c->peer_ip, NULL,
                (int64_t)time(NULL), is_query, key_opts);
            if (d != AMK_AUTH_ACCEPT && !is_query)
                amk_log(&s->log, AMK_LOG_DEBUG, "conn#%llu %s: %s",
                    (unsigned long long)c->id, s->ak_path, amk_authorized_keys_last_error(ak));
            amk_authorized_keys_free(ak);
            if (d == AMK_AUTH_ACCEPT)
                return d;
        } else {
            amk_log(&s->log, AMK_LOG_DEBUG, "conn#%llu cannot read %s",
                (unsigned long long)c->id, s->ak_path);
        }
    }
    if (s->publickey_cb != NULL)
        return s->publickey_cb(s->publickey_user, (struct amk_server_conn *)(void *)c, username,
            key);
    return AMK_AUTH_REJECT;
}

/* Copies the application's prompts into the engine's round. */
static int
fill_round(const struct amk_server_prompts *p, struct amk_auth_kbdint_round *round)
{
    if (p->n > AMK_SERVER_PROMPTS_MAX || p->n > AMK_USERAUTH_SERVER_MAX_PROMPTS)
        return AMK_AUTH_REJECT;
    round->name = p->name;
    round->instruction = p->instruction;
    round->n_prompts = p->n;
    for (size_t i = 0; i < p->n; i++) {
        round->prompts[i].text = p->prompt[i] != NULL ? p->prompt[i] : "";
        round->prompts[i].echo = p->echo[i];
    }
    return AMK_AUTH_CONTINUE;
}

static int
kbdint_start(void *user, const char *username, const char *submethods,
    struct amk_auth_kbdint_round *round, void **ctx)
{
    struct srv_conn *c = user;
    struct amk_server *s = c->srv;
    struct amk_server_prompts p;
    int d;

    (void)submethods;
    (void)ctx;
    memset(&p, 0, sizeof(p));
    c->kbd_round = 0;
    d = s->kbdint_cb(s->kbdint_user, (struct amk_server_conn *)(void *)c, username, 0, NULL, 0,
        &p);
    if (d == AMK_SERVER_AUTH_CONTINUE)
        return fill_round(&p, round);
    return d;
}

static int
kbdint_respond(void *user, void *ctx, const char *username, const char *const *responses,
    size_t n, struct amk_auth_kbdint_round *next)
{
    struct srv_conn *c = user;
    struct amk_server *s = c->srv;
    struct amk_server_prompts p;
    int d;

    (void)ctx;
    memset(&p, 0, sizeof(p));
    c->kbd_round++;
    d = s->kbdint_cb(s->kbdint_user, (struct amk_server_conn *)(void *)c, username,
        c->kbd_round, responses, n, &p);
    if (d == AMK_SERVER_AUTH_CONTINUE)
        return fill_round(&p, next);
    return d;
}

int
amk_srv_auth_new(struct srv_conn *c)
{
    struct amk_server *s = c->srv;
    struct amk_userauth_server_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.sink = amk_transport_pkt_sink(c->t);
    cfg.transport = c->t;
    cfg.user = c;
    if (s->password_cb != NULL)
        cfg.password_cb = password_glue;
    /* always set: with nothing configured it refuses every key, so the
     * engine has a method to offer and nobody gets in */
    cfg.publickey_cb = publickey_glue;
    cfg.opts_free = amk_userauth_server_ak_opts_free;
    if (s->kbdint_cb != NULL) {
        cfg.kbdint_start = kbdint_start;
        cfg.kbdint_respond = kbdint_respond;
    } else {
        cfg.kbdint_password = s->password_cb != NULL;
    }
    cfg.auth_methods = s->auth_methods;
    cfg.max_tries = s->lim_auth_tries;
    cfg.failure_delay_ms = (uint32_t)s->lim_fail_delay_ms;
    if (s->lim_fail_delay_ms > 0) {
        cfg.delay_key = s->delay_key;
        cfg.delay_key_len = sizeof(s->delay_key);
    }
    cfg.log = amk_srv_engine_log(s);
    return amk_userauth_server_new(&c->ua, &cfg);
}

/* Keeps what the session needs from the accepting authorized_keys line. */
static int
take_key_opts(struct srv_conn *c, const struct amk_authorized_key_opts *o)
{
    size_t n;

    if (o == NULL)
        return AMK_OK;
    if (amk_authorized_key_opts_command(o) != NULL &&
        (c->forced_command = strdup(amk_authorized_key_opts_command(o))) == NULL)
        return AMK_ENOMEM;
    c->no_pty = !amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY);
    n = amk_authorized_key_opts_env_count(o);
    if (n > 0) {
        if ((c->key_env = calloc(n + 1, sizeof(char *))) == NULL)
            return AMK_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if ((c->key_env[i] = strdup(amk_authorized_key_opts_env(o, i))) == NULL)
                return AMK_ENOMEM;
        }
    }
    return AMK_OK;
}

void
amk_srv_auth_done(struct srv_conn *c)
{
    struct amk_server *s = c->srv;
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink;
    const struct amk_key *key = amk_userauth_server_key(c->ua);
    int r;

    c->authed = 1;
    s->n_unauth--;
    if ((c->user = strdup(amk_userauth_server_username(c->ua))) == NULL ||
        take_key_opts(c, amk_userauth_server_key_opts(c->ua)) != AMK_OK) {
        amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        return;
    }
    if (key != NULL) {
        char *fp = NULL;
        if (amk_key_fingerprint(key, AMK_KEY_FP_SHA256, &fp) != AMK_OK)
            fp = NULL;
        amk_log(&s->log, AMK_LOG_INFO, "conn#%llu auth ok: user %s method %s key %s %s%s",
            (unsigned long long)c->id, c->user, amk_userauth_server_methods_used(c->ua),
            amk_key_type_label(key), fp != NULL ? fp : "?",
            c->forced_command != NULL ? " (forced command)" : "");
        free(fp);
    } else {
        amk_log(&s->log, AMK_LOG_INFO, "conn#%llu auth ok: user %s method %s",
            (unsigned long long)c->id, c->user, amk_userauth_server_methods_used(c->ua));
    }
    amk_userauth_server_free(c->ua);
    c->ua = NULL;
    memset(&cfg, 0, sizeof(cfg));
    cfg.window = s->lim_window;
    cfg.maxpacket = s->lim_maxpacket;
    cfg.max_channels = s->lim_sessions > 0 ? s->lim_sessions + 2 : 2;
    cfg.keepalive_interval_ms = s->lim_alive_ms;
    cfg.keepalive_count_max = s->lim_alive_max;
    cfg.open_cb = amk_srv_chan_open_cb;
    cfg.request_cb = amk_srv_chan_request_cb;
    cfg.user = c;
    cfg.log = amk_srv_engine_log(s);
    sink = amk_transport_pkt_sink(c->t);
    if ((r = amk_conn_new(&c->conn, &cfg, &sink)) != AMK_OK) {
        amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "cannot start the connection layer");
        return;
    }
    /* starts the client-alive timer (the engine's keepalive) */
    if (amk_conn_tick(c->conn, amk_srv_now_ms()) != AMK_OK) {
        amk_srv_conn_close(c, AMK_DISCONNECT_BY_APPLICATION, "connection layer failed");
        return;
    }
    if (amk_srv_hostkeys_announce(c) != AMK_OK)
        amk_log(&s->log, AMK_LOG_DEBUG, "conn#%llu hostkeys announcement failed",
            (unsigned long long)c->id);
}
