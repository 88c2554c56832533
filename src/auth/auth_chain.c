/* The authentication chain (see auth_chain.h). */
#include "auth/auth_chain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "util/err.h"
#include "util/secure.h"

#define LABEL_MAX 512

/* Default key files in Paramiko's order (SSHClient._auth look_for_keys). */
static const char *const default_key_names[] = { "id_ed25519", "id_ecdsa", "id_rsa", "id_dsa" };
#define N_DEFAULT_KEYS (sizeof(default_key_names) / sizeof(default_key_names[0]))

enum cand_kind {
    CAND_KEY = 1,           /* a key the caller holds */
    CAND_FILE,              /* a key file the caller named */
    CAND_DEFAULT_FILE,      /* a default key file; absent ones are skipped quietly */
    CAND_PASSWORD,
    CAND_KBDINT
};

struct cand {
    enum cand_kind kind;
    const struct amk_key *key;      /* CAND_KEY */
    char *path;                     /* CAND_FILE, CAND_DEFAULT_FILE (owned) */
    const char *source;             /* for the log: "explicit key", "key 2", ... */
};

struct amk_auth_chain {
    struct amk_userauth_client *ua;
    struct cand cands[AMK_AUTH_CHAIN_MAX];
    size_t n;
    size_t pos;                     /* next candidate */
    size_t attempts;
    int in_flight;                  /* an attempt of ours awaits its outcome */
    char label[LABEL_MAX];          /* of the attempt in flight */
    struct amk_key *loaded;         /* key loaded from a file for the attempt in flight */
    char *password;                 /* AMK_USERAUTH_SECRET_MAX bytes, wiped; or NULL */
    amk_passphrase_fn passphrase_cb;
    void *passphrase_user;
    amk_userauth_passwd_change_fn passwd_change_cb;
    void *passwd_change_user;
    amk_userauth_kbdint_fn kbdint_cb;
    void *kbdint_user;
    struct amk_logger log;
    int err;
    struct amk_error detail;
};

static int
chain_fail(struct amk_auth_chain *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
chain_fail(struct amk_auth_chain *c, int code, const char *fmt, ...)
{
    va_list ap;

    c->detail.code = code;
    va_start(ap, fmt);
    vsnprintf(c->detail.msg, sizeof(c->detail.msg), fmt, ap);
    va_end(ap);
    if (c->err == AMK_OK)
        c->err = code;
    amk_log(&c->log, AMK_LOG_INFO, "auth: %s", c->detail.msg);
    return code;
}

static int
add_cand(struct amk_auth_chain *c, enum cand_kind kind, const struct amk_key *key,
    const char *path, const char *source)
{
    struct cand *cd;

    if (c->n >= AMK_AUTH_CHAIN_MAX)
        return AMK_ELIMIT;
    cd = &c->cands[c->n];
    cd->kind = kind;
    cd->key = key;
    cd->source = source;
    cd->path = NULL;
    if (path != NULL && (cd->path = strdup(path)) == NULL)
        return AMK_ENOMEM;
    c->n++;
    return AMK_OK;
}

static int
add_default_files(struct amk_auth_chain *c, const char *dir)
{
    char path[4096];
    int r, n;

    for (size_t i = 0; i < N_DEFAULT_KEYS; i++) {
        n = snprintf(path, sizeof(path), "%s/%s", dir, default_key_names[i]);
        if (n < 0 || (size_t)n >= sizeof(path))
            return AMK_EINVAL;
        if ((r = add_cand(c, CAND_DEFAULT_FILE, NULL, path, "default key")) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

int
amk_auth_chain_new(struct amk_auth_chain **out, struct amk_userauth_client *ua,
    const struct amk_auth_chain_config *cfg)
{
    struct amk_auth_chain *c = NULL;
    int r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || ua == NULL || cfg == NULL || (cfg->n_keys > 0 && cfg->keys == NULL) ||
        (cfg->n_key_files > 0 && cfg->key_files == NULL)) {
        r = AMK_EINVAL;
        goto out;
    }
    if (cfg->key != NULL && !amk_key_has_private(cfg->key)) {
        r = AMK_EINVAL;
        goto out;
    }
    if (cfg->password != NULL &&
        strnlen(cfg->password, AMK_USERAUTH_SECRET_MAX) >= AMK_USERAUTH_SECRET_MAX) {
        r = AMK_EINVAL;
        goto out;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    c->ua = ua;
    c->passphrase_cb = cfg->passphrase_cb;
    c->passphrase_user = cfg->passphrase_user;
    c->passwd_change_cb = cfg->passwd_change_cb;
    c->passwd_change_user = cfg->passwd_change_user;
    c->kbdint_cb = cfg->kbdint_cb;
    c->kbdint_user = cfg->kbdint_user;
    c->log = cfg->log;
    if (cfg->password != NULL) {
        if ((c->password = calloc(1, AMK_USERAUTH_SECRET_MAX)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        memcpy(c->password, cfg->password, strlen(cfg->password));
    }
    if (cfg->key != NULL && (r = add_cand(c, CAND_KEY, cfg->key, NULL, "explicit key")) != 0)
        goto out;
    for (size_t i = 0; i < cfg->n_keys; i++) {
        if (cfg->keys[i] == NULL) {
            r = AMK_EINVAL;
            goto out;
        }
        if ((r = add_cand(c, CAND_KEY, cfg->keys[i], NULL, "loaded key")) != AMK_OK)
            goto out;
    }
    for (size_t i = 0; i < cfg->n_key_files; i++) {
        if ((r = add_cand(c, CAND_FILE, NULL, cfg->key_files[i], "key file")) != AMK_OK)
            goto out;
    }
    if (cfg->default_key_dir != NULL && (r = add_default_files(c, cfg->default_key_dir)) != 0)
        goto out;
    if (c->password != NULL && (r = add_cand(c, CAND_PASSWORD, NULL, NULL, "password")) != 0)
        goto out;
    if ((c->kbdint_cb != NULL || c->password != NULL) &&
        (r = add_cand(c, CAND_KBDINT, NULL, NULL, "keyboard-interactive")) != AMK_OK)
        goto out;
    *out = c;
    c = NULL;
    r = AMK_OK;
out:
    amk_auth_chain_free(c);
    return r;
}

void
amk_auth_chain_free(struct amk_auth_chain *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->cands[i].path);
    amk_key_free(c->loaded);
    amk_free_wiped(c->password, c->password != NULL ? AMK_USERAUTH_SECRET_MAX : 0);
    amk_free_wiped(c, sizeof(*c));
}

/* keyboard-interactive answered with the password: one hidden prompt. */
static int
password_kbdint_cb(void *user, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n, char *const *responses, size_t cap)
{
    struct amk_auth_chain *c = user;

    if (n == 0)
        return AMK_OK;
    if (n != 1 || prompts[0].echo || c->password == NULL ||
        strlen(c->password) >= cap)
        return AMK_EAUTH;
    memcpy(responses[0], c->password, strlen(c->password) + 1);
    return AMK_OK;
}

/* Describes a key for the log: "ssh-ed25519 SHA256:..." */
static void
key_label(struct amk_auth_chain *c, const struct amk_key *k, const char *source,
    const char *path)
{
    char *fp = NULL;

    if (amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp) != AMK_OK)
        fp = NULL;
    snprintf(c->label, sizeof(c->label), "publickey %s %s (%s%s%s)", amk_key_type_name(k),
        fp != NULL ? fp : "?", source, path != NULL ? " " : "", path != NULL ? path : "");
    free(fp);
}

/*
 * Starts candidate @p cd. AMK_OK when a request is in flight; a non-fatal
 * code when it was skipped; a fatal code from the engine.
 */
static int
try_cand(struct amk_auth_chain *c, const struct cand *cd, int *logged)
{
    const struct amk_key *key = cd->key;
    int r;

    switch (cd->kind) {
    case CAND_FILE:
    case CAND_DEFAULT_FILE:
        amk_key_free(c->loaded);
        c->loaded = NULL;
        r = amk_key_load_file(cd->path, c->passphrase_cb, c->passphrase_user, &c->loaded);
        if (r != AMK_OK) {
            /* A default key that is not there is not worth a word. */
            amk_log(&c->log, cd->kind == CAND_DEFAULT_FILE && r == AMK_EIO ? AMK_LOG_DEBUG :
                AMK_LOG_WARN, "auth: skipping key file %s: %s", cd->path, amk_strerror(r));
            *logged = 1;
            return AMK_ENOTSUP;
        }
        if (!amk_key_has_private(c->loaded)) {
            amk_log(&c->log, AMK_LOG_WARN, "auth: skipping key file %s: no private key",
                cd->path);
            *logged = 1;
            return AMK_EKEY;
        }
        key = c->loaded;
        /* fall through */
    case CAND_KEY:
        key_label(c, key, cd->source, cd->path);
        return amk_userauth_client_publickey(c->ua, key);
    case CAND_PASSWORD:
        snprintf(c->label, sizeof(c->label), "password");
        return amk_userauth_client_password(c->ua, c->password, c->passwd_change_cb,
            c->passwd_change_user);
    case CAND_KBDINT:
        snprintf(c->label, sizeof(c->label), "keyboard-interactive%s",
            c->kbdint_cb != NULL ? "" : " (answered with the password)");
        if (c->kbdint_cb != NULL)
            return amk_userauth_client_kbdint(c->ua, NULL, c->kbdint_cb, c->kbdint_user);
        return amk_userauth_client_kbdint(c->ua, NULL, password_kbdint_cb, c);
    }
    return AMK_EINTERNAL;
}

static const char *
cand_method(const struct cand *cd)
{
    switch (cd->kind) {
    case CAND_PASSWORD:
        return "password";
    case CAND_KBDINT:
        return "keyboard-interactive";
    default:
        break;
    }
    return "publickey";
}

/* Logs the outcome of the attempt that just finished. */
static void
note_outcome(struct amk_auth_chain *c)
{
    if (!c->in_flight || amk_userauth_client_busy(c->ua))
        return;
    c->in_flight = 0;
    switch (amk_userauth_client_last_result(c->ua)) {
    case AMK_USERAUTH_RESULT_SUCCESS:
        amk_log(&c->log, AMK_LOG_INFO, "auth: %s: accepted", c->label);
        break;
    case AMK_USERAUTH_RESULT_PARTIAL:
        amk_log(&c->log, AMK_LOG_INFO, "auth: %s: partial success; continue with %s", c->label,
            amk_userauth_client_methods(c->ua));
        break;
    default:
        amk_log(&c->log, AMK_LOG_INFO, "auth: %s: refused (%s)", c->label,
            amk_userauth_client_last_error(c->ua));
        break;
    }
    amk_key_free(c->loaded);
    c->loaded = NULL;
}

/* Starts candidates until one is in flight, authentication is done, or none is left. */
static int
advance(struct amk_auth_chain *c)
{
    int r;

    while (!amk_userauth_client_authenticated(c->ua) && !amk_userauth_client_busy(c->ua)) {
        const struct cand *cd;
        int logged = 0;

        if (c->pos >= c->n)
            return chain_fail(c, AMK_EAUTH, "authentication failed after %zu attempts; "
                "the server allows: %s", c->attempts, amk_userauth_client_methods(c->ua));
        cd = &c->cands[c->pos++];
        if (!amk_userauth_client_method_allowed(c->ua, cand_method(cd))) {
            amk_log(&c->log, AMK_LOG_DEBUG, "auth: skipping %s (%s): the server allows %s",
                cand_method(cd), cd->source, amk_userauth_client_methods(c->ua));
            continue;
        }
        r = try_cand(c, cd, &logged);
        if (r == AMK_OK) {
            c->attempts++;
            c->in_flight = 1;
            amk_log(&c->log, AMK_LOG_DEBUG, "auth: trying %s", c->label);
            return AMK_OK;
        }
        amk_key_free(c->loaded);
        c->loaded = NULL;
        if (amk_userauth_client_error(c->ua) != AMK_OK)
            return amk_userauth_client_error(c->ua);
        if (r == AMK_EAGAIN || r == AMK_ESTATE || r == AMK_ENOMEM)
            return chain_fail(c, r, "cannot start %s: %s", c->label, amk_strerror(r));
        if (!logged)
            amk_log(&c->log, AMK_LOG_INFO, "auth: skipping %s: %s", c->label,
                amk_userauth_client_last_error(c->ua));
    }
    return AMK_OK;
}

int
amk_auth_chain_start(struct amk_auth_chain *c)
{
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if (c->err != AMK_OK)
        return c->err;
    if (!amk_userauth_client_busy(c->ua) && !amk_userauth_client_authenticated(c->ua) &&
        amk_userauth_client_last_result(c->ua) == AMK_USERAUTH_RESULT_NONE &&
        amk_userauth_client_error(c->ua) == AMK_OK) {
        r = amk_userauth_client_start(c->ua);
        if (r != AMK_ESTATE)
            return r;
    }
    return advance(c);
}

int
amk_auth_chain_handle(struct amk_auth_chain *c, const uint8_t *payload, size_t len)
{
    int r;

    if (c == NULL)
        return AMK_EINVAL;
    if (c->err != AMK_OK)
        return c->err;
    if ((r = amk_userauth_client_handle(c->ua, payload, len)) != AMK_OK) {
        if (c->in_flight && amk_userauth_client_error(c->ua) == AMK_EAUTH)
            amk_log(&c->log, AMK_LOG_INFO, "auth: %s: refused; no method left", c->label);
        return r;
    }
    note_outcome(c);
    return advance(c);
}

int
amk_auth_chain_authenticated(const struct amk_auth_chain *c)
{
    return amk_userauth_client_authenticated(c->ua);
}

size_t
amk_auth_chain_attempts(const struct amk_auth_chain *c)
{
    return c->attempts;
}

const char *
amk_auth_chain_last_error(const struct amk_auth_chain *c)
{
    if (c->err == AMK_OK)
        return amk_userauth_client_last_error(c->ua);
    return amk_error_msg(&c->detail);
}
