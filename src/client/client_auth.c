/*
 * The client's authentication chain, like Paramiko's SSHClient.connect:
 * explicit keys, key files, default keys (~/.ssh/id_ed25519, id_ecdsa,
 * id_rsa, id_dsa), keyboard-interactive, password; each only while the
 * server lists the method among those that can continue (RFC 4252 §5.1),
 * and each attempt logged. See client/client_int.h.
 */
#include "client/client_int.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/session.h"
#include "transport/transport.h"
#include "util/secure.h"

static const char *const DEFAULT_KEYS[] = { "id_ed25519", "id_ecdsa", "id_rsa", "id_dsa" };
#define N_DEFAULT_KEYS (sizeof(DEFAULT_KEYS) / sizeof(DEFAULT_KEYS[0]))
#define KBDINT_MAX_PROMPTS AMK_USERAUTH_MAX_PROMPTS

/* Adds a key to the chain; takes @p key when @p owned. */
static int
add_chain_key(struct amk_client *c, struct amk_key *key, int owned, const char *label)
{
    struct client_auth_key *k;

    if (c->n_auth_keys == sizeof(c->auth_keys) / sizeof(c->auth_keys[0])) {
        if (owned)
            amk_key_free(key);
        return AMK_OK;
    }
    k = &c->auth_keys[c->n_auth_keys];
    if ((k->label = strdup(label)) == NULL) {
        if (owned)
            amk_key_free(key);
        return AMK_ENOMEM;
    }
    k->key = key;
    k->owned = owned;
    c->n_auth_keys++;
    return AMK_OK;
}

/* Loads @p path into the chain; a file that cannot be used is logged. */
static int
load_key_file(struct amk_client *c, const char *path, int quiet_if_missing)
{
    struct amk_key *key = NULL;
    int r;

    if (quiet_if_missing && access(path, R_OK) != 0)
        return AMK_OK;
    r = amk_key_load_file(path, c->passphrase_fn, c->passphrase_user, &key);
    if (r == AMK_ENOMEM)
        return r;
    if (r != AMK_OK) {
        amk_log(&c->log, AMK_LOG_WARN, "key file %s skipped: %s", path, amk_strerror(r));
        return AMK_OK;
    }
    if (!amk_key_has_private(key)) {
        amk_log(&c->log, AMK_LOG_WARN, "key file %s skipped: no private key", path);
        amk_key_free(key);
        return AMK_OK;
    }
    return add_chain_key(c, key, 1, path);
}

int
client_auth_prepare(struct amk_client *c)
{
    char label[64], path[1024];
    const char *home;
    struct passwd *pw;
    int r;

    if (!c->use_publickey)
        return AMK_OK;
    for (size_t i = 0; i < c->n_explicit; i++) {
        snprintf(label, sizeof(label), "explicit key %zu", i + 1);
        if ((r = add_chain_key(c, c->explicit_keys[i], 0, label)) != AMK_OK)
            return client_fail(c, r, "out of memory");
    }
    for (size_t i = 0; i < c->n_key_files; i++) {
        if ((r = load_key_file(c, c->key_files[i], 0)) != AMK_OK)
            return client_fail(c, r, "out of memory");
    }
    if (!c->allow_default_keys)
        return AMK_OK;
    home = getenv("HOME");
    if ((home == NULL || home[0] == '\0') && (pw = getpwuid(getuid())) != NULL)
        home = pw->pw_dir;
    if (home == NULL)
        return AMK_OK;
    for (size_t i = 0; i < N_DEFAULT_KEYS; i++) {
        snprintf(path, sizeof(path), "%s/.ssh/%s", home, DEFAULT_KEYS[i]);
        if ((r = load_key_file(c, path, 1)) != AMK_OK)
            return client_fail(c, r, "out of memory");
    }
    return AMK_OK;
}

void
client_auth_clear(struct amk_client *c)
{
    for (size_t i = 0; i < c->n_auth_keys; i++) {
        if (c->auth_keys[i].owned)
            amk_key_free(c->auth_keys[i].key);
        free(c->auth_keys[i].label);
    }
    c->n_auth_keys = 0;
    if (c->password != NULL)
        amk_free_wiped(c->password, strlen(c->password) + 1);
    c->password = NULL;
}

int
client_auth_start(struct amk_client *c)
{
    struct amk_userauth_config cfg;
    struct amk_transport *t = amk_session_transport(c->s);
    int r;

    memset(&cfg, 0, sizeof(cfg));
    cfg.username = c->user;
    cfg.sink = amk_transport_pkt_sink(t);
    cfg.transport = t;
    cfg.log = c->log;
    if ((r = amk_userauth_client_new(&c->ua, &cfg)) != AMK_OK)
        return client_fail(c, r, "cannot start authentication: %s", amk_strerror(r));
    if ((r = amk_userauth_client_start(c->ua)) != AMK_OK)
        return client_fail(c, r, "cannot start authentication: %s",
            amk_userauth_client_last_error(c->ua));
    return AMK_OK;
}

/* Notes an attempt for the AMK_EAUTH detail. */
static void
note_tried(struct amk_client *c, const char *what)
{
    size_t len = strlen(c->tried);

    snprintf(c->tried + len, sizeof(c->tried) - len, "%s%s", len > 0 ? ", " : "", what);
}

/* Adapts the engine's keyboard-interactive callback to the client's. */
static int
kbdint_adapter(void *user, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n_prompts, char *const *responses,
    size_t cap)
{
    struct amk_client *c = user;
    const char *texts[KBDINT_MAX_PROMPTS];
    int echo[KBDINT_MAX_PROMPTS];

    if (n_prompts > KBDINT_MAX_PROMPTS)
        return AMK_ELIMIT;
    for (size_t i = 0; i < n_prompts; i++) {
        texts[i] = prompts[i].text;
        echo[i] = prompts[i].echo;
    }
    return c->kbdint_fn(c->kbdint_user, name, instruction, texts, echo, n_prompts, responses,
        cap);
}

/* The outcome of the attempt that just finished, for the log. */
static void
log_outcome(struct amk_client *c)
{
    const char *method = amk_userauth_client_last_method(c->ua);
    const char *res;

    switch (amk_userauth_client_last_result(c->ua)) {
    case AMK_USERAUTH_RESULT_SUCCESS: res = "succeeded"; break;
    case AMK_USERAUTH_RESULT_PARTIAL: res = "partial success"; break;
    case AMK_USERAUTH_RESULT_FAILURE: res = "failed"; break;
    default: return;
    }
    if (strcmp(method, "none") == 0 && amk_userauth_client_last_result(c->ua) !=
        AMK_USERAUTH_RESULT_SUCCESS) {
        amk_log(&c->log, AMK_LOG_DEBUG, "auth: server allows %s",
            amk_userauth_client_methods(c->ua));
        return;
    }
    amk_log(&c->log, AMK_LOG_INFO, "auth: %s %s (server allows: %s)", method, res,
        amk_userauth_client_methods(c->ua));
}

/* Starts "password" with the given or asked-for password; AMK_EAGAIN: none. */
static int
try_password(struct amk_client *c)
{
    char buf[CLIENT_SECRET_MAX];
    int r;

    c->tried_password = 1;
    if (c->password != NULL) {
        r = amk_userauth_client_password(c->ua, c->password, NULL, NULL);
    } else if (c->password_fn != NULL) {
        memset(buf, 0, sizeof(buf));
        if (c->password_fn(c->password_user, c->user, c->host, buf, sizeof(buf)) != AMK_OK) {
            amk_wipe(buf, sizeof(buf));
            return AMK_EAGAIN;
        }
        buf[sizeof(buf) - 1] = '\0';
        r = amk_userauth_client_password(c->ua, buf, NULL, NULL);
        amk_wipe(buf, sizeof(buf));
    } else {
        return AMK_EAGAIN;
    }
    if (r == AMK_OK)
        note_tried(c, "password");
    return r;
}

int
client_auth_next(struct amk_client *c)
{
    int r;

    if (amk_userauth_client_busy(c->ua))
        return AMK_OK;
    log_outcome(c);
    if (amk_userauth_client_authenticated(c->ua)) {
        struct amk_conn_config cfg;
        struct amk_pkt_sink sink = amk_transport_pkt_sink(amk_session_transport(c->s));

        /* the transport learns it before it is handed more input (delayed compression) */
        if ((r = amk_transport_set_authenticated(amk_session_transport(c->s))) != AMK_OK)
            return client_fail(c, r, "%s", amk_strerror(r));
        memset(&cfg, 0, sizeof(cfg));
        cfg.keepalive_interval_ms = c->keepalive_ms;
        cfg.keepalive_count_max = c->keepalive_max;
        cfg.log = c->log;
        if ((r = amk_conn_new(&c->conn, &cfg, &sink)) != AMK_OK)
            return client_fail(c, r, "cannot start the connection protocol");
        amk_log(&c->log, AMK_LOG_INFO, "authenticated to %s as %s", c->host, c->user);
        amk_userauth_client_free(c->ua);
        c->ua = NULL;
        client_auth_clear(c);
        c->state = CLIENT_CONNECTED;
        return AMK_OK;
    }
    while (c->use_publickey && c->next_key < c->n_auth_keys &&
        amk_userauth_client_method_allowed(c->ua, "publickey")) {
        struct client_auth_key *k = &c->auth_keys[c->next_key++];
        r = amk_userauth_client_publickey(c->ua, k->key);
        if (r == AMK_OK) {
            char what[300];
            snprintf(what, sizeof(what), "publickey %s (%s)", k->label,
                amk_key_type_name(k->key));
            amk_log(&c->log, AMK_LOG_INFO, "auth: trying %s", what);
            note_tried(c, what);
            return AMK_OK;
        }
        if (amk_err_is_fatal(r))
            return client_fail(c, r, "publickey: %s", amk_userauth_client_last_error(c->ua));
        amk_log(&c->log, AMK_LOG_INFO, "auth: key %s not usable: %s", k->label,
            amk_strerror(r));
    }
    if (c->kbdint_fn != NULL && !c->tried_kbdint &&
        amk_userauth_client_method_allowed(c->ua, "keyboard-interactive")) {
        c->tried_kbdint = 1;
        r = amk_userauth_client_kbdint(c->ua, NULL, kbdint_adapter, c);
        if (r == AMK_OK) {
            note_tried(c, "keyboard-interactive");
            return AMK_OK;
        }
        if (amk_err_is_fatal(r))
            return client_fail(c, r, "keyboard-interactive: %s",
                amk_userauth_client_last_error(c->ua));
    }
    if (c->use_password && !c->tried_password &&
        amk_userauth_client_method_allowed(c->ua, "password")) {
        r = try_password(c);
        if (r == AMK_OK)
            return AMK_OK;
        if (r != AMK_EAGAIN && amk_err_is_fatal(r))
            return client_fail(c, r, "password: %s", amk_userauth_client_last_error(c->ua));
    }
    if (amk_transport_disconnect(amk_session_transport(c->s),
            AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, "no more authentication methods") !=
        AMK_OK)
        amk_log(&c->log, AMK_LOG_DEBUG, "client: cannot queue DISCONNECT");
    r = client_fail(c, AMK_EAUTH, "authentication as %s failed; tried: %s; the server "
        "allows: %s", c->user, c->tried[0] != '\0' ? c->tried : "nothing",
        amk_userauth_client_methods(c->ua));
    /* best effort: the DISCONNECT goes out if the socket takes it now */
    if (amk_session_flush(c->s) != AMK_OK)
        amk_log(&c->log, AMK_LOG_DEBUG, "client: DISCONNECT not flushed");
    return r;
}
