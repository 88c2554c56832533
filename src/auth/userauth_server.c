/*
 * The server's user authentication engine: the service request, the
 * dispatch of USERAUTH_REQUEST by method, the end of every attempt
 * (SUCCESS / FAILURE, failure counting, held replies) and the queries.
 * Methods live in userauth_server_password.c, _pubkey.c and _kbdint.c;
 * the AuthenticationMethods lists in userauth_server_chain.c.
 * See userauth_server.h.
 */
#include "auth/userauth_server_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/secure.h"

#define SERVICE_USERAUTH "ssh-userauth"
#define SERVICE_DEFAULT "ssh-connection"

static const struct {
    unsigned bit;
    const char *name;
} method_names[AMK_UAS_N_METHODS] = {
    /* The order FAILURE lists them in (sshd's order). */
    { AMK_UAS_M_PUBLICKEY, "publickey" },
    { AMK_UAS_M_PASSWORD, "password" },
    { AMK_UAS_M_KBDINT, "keyboard-interactive" },
};

const char *
amk_uas_method_name(unsigned m)
{
    for (size_t i = 0; i < AMK_UAS_N_METHODS; i++) {
        if (method_names[i].bit == m)
            return method_names[i].name;
    }
    return "none";
}

unsigned
amk_uas_method_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < AMK_UAS_N_METHODS; i++) {
        if (strlen(method_names[i].name) == len && memcmp(method_names[i].name, name, len) == 0)
            return method_names[i].bit;
    }
    return 0;
}

int
amk_uas_error(struct amk_userauth_server *s, int code, int reason, const char *fmt, ...)
{
    va_list ap;

    s->detail.code = code;
    va_start(ap, fmt);
    vsnprintf(s->detail.msg, sizeof(s->detail.msg), fmt, ap);
    va_end(ap);
    if (amk_err_is_fatal(code) && s->err == AMK_OK) {
        s->err = code;
        s->reason = reason;
        s->state = AMK_UAS_FAILED;
        amk_uas_kbdint_abort(s);
        amk_buf_free(s->held);
        s->held = NULL;
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: failed: %s", s->detail.msg);
    }
    return code;
}

int
amk_uas_malformed(struct amk_userauth_server *s, int r, const char *what)
{
    if (r == AMK_ENOMEM)
        return amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "out of memory reading %s",
            what);
    if (r == AMK_ELIMIT || r == AMK_ETOOBIG)
        return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
            "%s: a field exceeds its limit", what);
    return amk_uas_error(s, AMK_EFORMAT, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed %s (%s)",
        what, amk_errname(r));
}

int
amk_uas_send(struct amk_userauth_server *s, const struct amk_buf *b)
{
    int r = amk_pkt_sink_put(&s->sink, amk_buf_ptr(b), amk_buf_len(b));

    if (r == AMK_OK)
        return AMK_OK;
    /* A reply that cannot be queued leaves the client waiting forever: even
     * a would-block from the sink (an output queue over its cap) ends the
     * engine, as AMK_ELIMIT. */
    if (!amk_err_is_fatal(r))
        return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_BY_APPLICATION,
            "the sink refused a packet: %s", amk_strerror(r));
    return amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "sending failed: %s",
        amk_strerror(r));
}

void
amk_uas_session_id(const struct amk_userauth_server *s, const uint8_t **id, size_t *len)
{
    if (s->transport != NULL) {
        amk_transport_session_id(s->transport, id, len);
        return;
    }
    *id = s->session_id;
    *len = s->session_id_len;
}

enum amk_uas_outcome
amk_uas_decision(struct amk_userauth_server *s, int d, const char *what)
{
    switch (d) {
    case AMK_AUTH_ACCEPT:
        return AMK_UAS_OUT_SUCCESS;
    case AMK_AUTH_PARTIAL:
        return AMK_UAS_OUT_PARTIAL;
    case AMK_AUTH_REJECT:
        break;
    default:
        amk_log(&s->log, AMK_LOG_WARN, "userauth server: %s callback returned %d (%s): reject",
            what, d, d < 0 ? amk_errname(d) : "not a decision");
        break;
    }
    return AMK_UAS_OUT_FAILURE;
}

int
amk_userauth_server_new(struct amk_userauth_server **out,
    const struct amk_userauth_server_config *cfg)
{
    struct amk_userauth_server *s = NULL;
    const char *service;
    int r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || cfg == NULL || cfg->sink.send == NULL ||
        (cfg->kbdint_start != NULL) != (cfg->kbdint_respond != NULL) ||
        (cfg->password_cb == NULL && cfg->publickey_cb == NULL && cfg->kbdint_start == NULL &&
        !cfg->permit_none) || (cfg->delay_key_len > 0 && cfg->delay_key == NULL)) {
        r = AMK_EINVAL;
        goto out;
    }
    service = cfg->service != NULL ? cfg->service : SERVICE_DEFAULT;
    if (*service == '\0' || strlen(service) > AMK_NAME_MAX) {
        r = AMK_EINVAL;
        goto out;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->service = strdup(service)) == NULL ||
        (cfg->banner != NULL && (s->banner = strdup(cfg->banner)) == NULL)) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (cfg->delay_key_len > 0) {
        if ((s->delay_key = malloc(cfg->delay_key_len)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        memcpy(s->delay_key, cfg->delay_key, cfg->delay_key_len);
        s->delay_key_len = cfg->delay_key_len;
    }
    s->sink = cfg->sink;
    s->transport = cfg->transport;
    s->password_cb = cfg->password_cb;
    s->publickey_cb = cfg->publickey_cb;
    s->opts_free = cfg->opts_free;
    s->kbdint_start = cfg->kbdint_start;
    s->kbdint_respond = cfg->kbdint_respond;
    s->kbdint_end = cfg->kbdint_end;
    if (cfg->kbdint_password && cfg->password_cb != NULL && cfg->kbdint_start == NULL) {
        s->kbdint_start = amk_uas_kbdint_pw_start;
        s->kbdint_respond = amk_uas_kbdint_pw_respond;
        s->kbdint_end = NULL;
        s->kbdint_builtin = 1;
    }
    s->user = cfg->user;
    s->enabled = (cfg->publickey_cb != NULL ? AMK_UAS_M_PUBLICKEY : 0) |
        (cfg->password_cb != NULL ? AMK_UAS_M_PASSWORD : 0) |
        (s->kbdint_start != NULL ? AMK_UAS_M_KBDINT : 0);
    s->permit_none = cfg->permit_none;
    s->allow_ssh_rsa = cfg->allow_ssh_rsa;
    s->max_tries = cfg->max_tries != 0 ? cfg->max_tries : AMK_USERAUTH_SERVER_MAX_TRIES;
    s->max_kbdint_rounds = cfg->max_kbdint_rounds != 0 ? cfg->max_kbdint_rounds :
        AMK_USERAUTH_SERVER_MAX_KBDINT_ROUNDS;
    s->failure_delay_ms = cfg->failure_delay_ms;
    s->log = cfg->log;
    if ((r = amk_uas_chains_parse(s, cfg->auth_methods)) != AMK_OK)
        goto out;
    if (s->n_chains > 0 && s->permit_none)
        s->permit_none = 0;     /* lists name real methods only */
    s->state = AMK_UAS_SERVICE;
    amk_uas_chains_left(s, s->methods_left, sizeof(s->methods_left));
    *out = s;
    s = NULL;
    r = AMK_OK;
out:
    amk_userauth_server_free(s);
    return r;
}

void
amk_userauth_server_free(struct amk_userauth_server *s)
{
    if (s == NULL)
        return;
    amk_uas_kbdint_abort(s);
    amk_uas_pubkey_clear(s);
    amk_buf_free(s->held);
    free(s->session_id);
    free(s->service);
    free(s->banner);
    free(s->username);
    amk_free_wiped(s->delay_key, s->delay_key_len);
    amk_free_wiped(s, sizeof(*s));
}

int
amk_userauth_server_set_session_id(struct amk_userauth_server *s, const uint8_t *id,
    size_t len)
{
    uint8_t *copy;

    if (s == NULL || id == NULL || len == 0)
        return AMK_EINVAL;
    if ((copy = malloc(len)) == NULL)
        return AMK_ENOMEM;
    memcpy(copy, id, len);
    free(s->session_id);
    s->session_id = copy;
    s->session_id_len = len;
    return AMK_OK;
}

static int
handle_service_request(struct amk_userauth_server *s, struct amk_buf *b)
{
    struct amk_buf *out = NULL;
    const uint8_t *name;
    size_t len;
    int r = AMK_EINTERNAL;

    /* RFC 4253 §10: byte SSH_MSG_SERVICE_REQUEST, string service name. */
    if ((r = amk_buf_get_string_direct(b, &name, &len)) != 0 || (r = amk_buf_get_end(b)) != 0)
        return amk_uas_malformed(s, r, "SERVICE_REQUEST");
    if (len != strlen(SERVICE_USERAUTH) || memcmp(name, SERVICE_USERAUTH, len) != 0) {
        /* RFC 4253 §10: "If the server rejects the service request, it
         * SHOULD send an appropriate SSH_MSG_DISCONNECT message". */
        return amk_uas_error(s, AMK_EPROTO, AMK_DISCONNECT_SERVICE_NOT_AVAILABLE,
            "service request for a service other than %s", SERVICE_USERAUTH);
    }
    if ((out = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    if ((r = amk_buf_put_u8(out, AMK_MSG_SERVICE_ACCEPT)) != 0 ||
        (r = amk_buf_put_cstring(out, SERVICE_USERAUTH)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building SERVICE_ACCEPT");
        goto out;
    }
    if ((r = amk_uas_send(s, out)) != AMK_OK)
        goto out;
    s->state = AMK_UAS_READY;
    amk_log(&s->log, AMK_LOG_DEBUG, "userauth server: service ssh-userauth accepted");
    r = AMK_OK;
out:
    amk_buf_free(out);
    return r;
}

static int
send_banner(struct amk_userauth_server *s)
{
    struct amk_buf *out = NULL;
    int r = AMK_EINTERNAL;

    /* RFC 4252 §5.4: byte SSH_MSG_USERAUTH_BANNER, string message,
     * string language tag. Sent once, before the first answer. */
    if ((out = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    if ((r = amk_buf_put_u8(out, AMK_MSG_USERAUTH_BANNER)) != 0 ||
        (r = amk_buf_put_cstring(out, s->banner)) != 0 ||
        (r = amk_buf_put_cstring(out, "")) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building USERAUTH_BANNER");
        goto out;
    }
    r = amk_uas_send(s, out);
out:
    free(s->banner);
    s->banner = NULL;
    amk_buf_free(out);
    return r;
}

/* The per-user delay of a held FAILURE: failure_delay_ms plus up to as
 * much again from HMAC-SHA-256(delay_key, user name). */
static uint32_t
failure_delay(const struct amk_userauth_server *s)
{
    uint8_t mac[AMK_HASH_MAX_LEN];
    uint32_t extra;
    const char *u = s->username != NULL ? s->username : "";

    if (s->delay_key_len == 0 ||
        amk_hmac(AMK_HASH_SHA256, s->delay_key, s->delay_key_len, u, strlen(u), mac) != 0)
        return s->failure_delay_ms;
    extra = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
    return s->failure_delay_ms + extra % (s->failure_delay_ms + 1);
}

static void
append_used(struct amk_userauth_server *s, unsigned method)
{
    size_t len = strlen(s->methods_used);

    snprintf(s->methods_used + len, sizeof(s->methods_used) - len, "%s%s",
        len > 0 ? "," : "", amk_uas_method_name(method));
}

static int
send_success(struct amk_userauth_server *s)
{
    struct amk_buf *out = NULL;
    int r = AMK_EINTERNAL;

    if ((out = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    if ((r = amk_buf_put_u8(out, AMK_MSG_USERAUTH_SUCCESS)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building USERAUTH_SUCCESS");
        goto out;
    }
    if ((r = amk_uas_send(s, out)) != AMK_OK)
        goto out;
    s->state = AMK_UAS_DONE;
    s->methods_left[0] = '\0';
    amk_error_clear(&s->detail);
    /* OpenSSH PROTOCOL: delayed compression starts right after SUCCESS.
     * The transport saw SUCCESS pass amk_transport_send() and did it
     * already; this covers sinks that queue elsewhere first. */
    if (s->transport != NULL && (r = amk_transport_set_authenticated(s->transport)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "transport: %s",
            amk_strerror(r));
        goto out;
    }
    amk_log(&s->log, AMK_LOG_INFO, "userauth server: user authenticated by %s",
        s->methods_used);
    r = AMK_OK;
out:
    amk_buf_free(out);
    return r;
}

int
amk_uas_finish(struct amk_userauth_server *s, unsigned method, enum amk_uas_outcome outcome)
{
    struct amk_buf *out = NULL;
    int partial = 0, r = AMK_EINTERNAL;

    if (method == 0 && outcome == AMK_UAS_OUT_SUCCESS) {
        /* "none" on a server that asks for nothing (permit_none). */
        append_used(s, method);
        return send_success(s);
    }
    if (outcome == AMK_UAS_OUT_SUCCESS || outcome == AMK_UAS_OUT_PARTIAL) {
        s->used |= method;
        append_used(s, method);
        amk_uas_chains_advance(s, method);
        s->need_more = outcome == AMK_UAS_OUT_PARTIAL;
        if (amk_uas_chains_complete(s) && !s->need_more)
            return send_success(s);
        partial = 1;
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: %s succeeded, more needed",
            amk_uas_method_name(method));
    } else if (outcome == AMK_UAS_OUT_FAILURE) {
        s->failures++;
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: %s failed (%u of %u)",
            amk_uas_method_name(method), s->failures, s->max_tries);
        if (s->failures >= s->max_tries) {
            /* sshd: "Too many authentication failures", disconnecting
             * without the FAILURE. */
            return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
                "too many authentication failures (%u)", s->failures);
        }
    }
    amk_uas_chains_left(s, s->methods_left, sizeof(s->methods_left));
    if (s->methods_left[0] == '\0')
        return amk_uas_error(s, AMK_EAUTH, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
            "no authentication method can continue");
    if ((out = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    /* RFC 4252 §5.1: byte SSH_MSG_USERAUTH_FAILURE, name-list
     * authentications that can continue, boolean partial success. */
    if ((r = amk_buf_put_u8(out, AMK_MSG_USERAUTH_FAILURE)) != 0 ||
        (r = amk_buf_put_cstring(out, s->methods_left)) != 0 ||
        (r = amk_buf_put_bool(out, partial)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building USERAUTH_FAILURE");
        goto out;
    }
    if (outcome == AMK_UAS_OUT_FAILURE && s->failure_delay_ms > 0) {
        amk_buf_free(s->held);
        s->held = out;
        out = NULL;
        s->held_delay_ms = failure_delay(s);
        r = AMK_OK;
        goto out;
    }
    r = amk_uas_send(s, out);
out:
    amk_buf_free(out);
    return r;
}

static int
handle_request(struct amk_userauth_server *s, struct amk_buf *b, const uint8_t *payload)
{
    const uint8_t *user, *service, *method;
    size_t ulen, slen, mlen;
    unsigned m;
    int r;

    /* RFC 4252 §5: string user name, string service name, string method
     * name, method-specific fields. */
    if ((r = amk_buf_get_string_direct(b, &user, &ulen)) != 0 ||
        (r = amk_buf_get_string_direct(b, &service, &slen)) != 0 ||
        (r = amk_buf_get_string_direct(b, &method, &mlen)) != 0)
        return amk_uas_malformed(s, r, "USERAUTH_REQUEST");
    if (ulen > AMK_USERAUTH_USER_MAX)
        return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_ILLEGAL_USER_NAME,
            "user name of %zu bytes (limit %u)", ulen, (unsigned)AMK_USERAUTH_USER_MAX);
    if (memchr(user, '\0', ulen) != NULL)
        return amk_uas_error(s, AMK_EFORMAT, AMK_DISCONNECT_ILLEGAL_USER_NAME,
            "user name with a NUL byte");
    if (s->username == NULL) {
        if (slen != strlen(s->service) || memcmp(service, s->service, slen) != 0)
            return amk_uas_error(s, AMK_EPROTO, AMK_DISCONNECT_SERVICE_NOT_AVAILABLE,
                "authentication for a service other than %s", s->service);
        if ((s->username = strndup((const char *)user, ulen)) == NULL)
            return amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION,
                "out of memory");
    } else if (ulen != strlen(s->username) || memcmp(user, s->username, ulen) != 0 ||
        slen != strlen(s->service) || memcmp(service, s->service, slen) != 0) {
        /* As sshd: "Change of username or service not allowed". */
        return amk_uas_error(s, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "change of user name or service not allowed");
    }
    if (s->banner != NULL && (r = send_banner(s)) != AMK_OK)
        return r;
    m = amk_uas_method_by_name((const char *)method, mlen);
    if (m == 0) {
        if (mlen == 4 && memcmp(method, "none", 4) == 0) {
            /* RFC 4252 §5.2: "none" lists the methods; it succeeds only
             * on a server that wants no authentication. */
            if (amk_buf_get_end(b) != 0)
                return amk_uas_malformed(s, AMK_EFORMAT, "none request");
            return amk_uas_finish(s, 0, s->permit_none ? AMK_UAS_OUT_SUCCESS :
                AMK_UAS_OUT_FAILURE_FREE);
        }
        amk_log(&s->log, AMK_LOG_DEBUG, "userauth server: unknown method of %zu bytes", mlen);
        return amk_uas_finish(s, 0, AMK_UAS_OUT_FAILURE);
    }
    if (!(s->enabled & m) || !amk_uas_chains_allows(s, m)) {
        amk_log(&s->log, AMK_LOG_DEBUG, "userauth server: %s not allowed now",
            amk_uas_method_name(m));
        return amk_uas_finish(s, m, AMK_UAS_OUT_FAILURE);
    }
    switch (m) {
    case AMK_UAS_M_PASSWORD:
        return amk_uas_password(s, b);
    case AMK_UAS_M_PUBLICKEY:
        return amk_uas_publickey(s, b, payload);
    case AMK_UAS_M_KBDINT:
        return amk_uas_kbdint_request(s, b);
    default:
        break;
    }
    return amk_uas_error(s, AMK_EINTERNAL, AMK_DISCONNECT_BY_APPLICATION, "unknown method bit");
}

int
amk_userauth_server_handle(struct amk_userauth_server *s, const uint8_t *payload, size_t len)
{
    struct amk_buf b;
    uint8_t type;
    int r;

    if (s == NULL || payload == NULL || len == 0)
        return AMK_EINVAL;
    if (s->state == AMK_UAS_FAILED)
        return s->err;
    amk_buf_view(&b, payload, len);
    if (amk_buf_get_u8(&b, &type) != 0)
        return AMK_EINVAL;
    if (s->held != NULL && (r = amk_userauth_server_release(s)) != AMK_OK)
        return r;

    /*
     * The messages each state accepts:
     *   SERVICE  SERVICE_REQUEST "ssh-userauth" -> READY
     *   READY    USERAUTH_REQUEST -> READY, KBDINT or DONE
     *   KBDINT   INFO_RESPONSE -> READY, KBDINT or DONE; USERAUTH_REQUEST
     *            abandons the exchange (RFC 4256 §3.4) and is processed
     *   DONE     50..79 ignored (RFC 4252 §5.1); others are not ours
     */
    switch (s->state) {
    case AMK_UAS_SERVICE:
        if (type == AMK_MSG_SERVICE_REQUEST)
            return handle_service_request(s, &b);
        break;
    case AMK_UAS_READY:
        if (type == AMK_MSG_USERAUTH_REQUEST)
            return handle_request(s, &b, payload);
        break;
    case AMK_UAS_KBDINT:
        if (type == AMK_MSG_USERAUTH_INFO_RESPONSE)
            return amk_uas_kbdint_response(s, &b);
        if (type == AMK_MSG_USERAUTH_REQUEST) {
            amk_uas_kbdint_abort(s);
            s->state = AMK_UAS_READY;
            return handle_request(s, &b, payload);
        }
        break;
    case AMK_UAS_DONE:
        if (type >= AMK_MSG_USERAUTH_REQUEST && type <= AMK_MSG_USERAUTH_LAST)
            return AMK_OK;
        return AMK_EINVAL;
    case AMK_UAS_FAILED:
        break;
    }
    return amk_uas_error(s, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
        "unexpected message %u %s", (unsigned)type,
        s->state == AMK_UAS_SERVICE ? "before the ssh-userauth service request" :
        s->state == AMK_UAS_KBDINT ? "during keyboard-interactive" :
        "during user authentication");
}

int
amk_userauth_server_held(const struct amk_userauth_server *s)
{
    return s->held != NULL;
}

uint32_t
amk_userauth_server_delay_ms(const struct amk_userauth_server *s)
{
    return s->held != NULL ? s->held_delay_ms : 0;
}

int
amk_userauth_server_release(struct amk_userauth_server *s)
{
    struct amk_buf *h;
    int r;

    if (s == NULL)
        return AMK_EINVAL;
    if (s->held == NULL)
        return AMK_OK;
    h = s->held;
    s->held = NULL;
    r = amk_uas_send(s, h);
    amk_buf_free(h);
    return r;
}

int
amk_userauth_server_done(const struct amk_userauth_server *s)
{
    return s->state == AMK_UAS_DONE;
}

const char *
amk_userauth_server_username(const struct amk_userauth_server *s)
{
    return s->username;
}

const char *
amk_userauth_server_methods_used(const struct amk_userauth_server *s)
{
    return s->methods_used;
}

const struct amk_key *
amk_userauth_server_key(const struct amk_userauth_server *s)
{
    return s->key;
}

const char *
amk_userauth_server_key_alg(const struct amk_userauth_server *s)
{
    return s->key_alg;
}

void *
amk_userauth_server_key_opts(const struct amk_userauth_server *s)
{
    return s->key_opts;
}

unsigned
amk_userauth_server_failures(const struct amk_userauth_server *s)
{
    return s->failures;
}

const char *
amk_userauth_server_methods_left(const struct amk_userauth_server *s)
{
    return s->methods_left;
}

int
amk_userauth_server_error(const struct amk_userauth_server *s)
{
    return s->err;
}

const char *
amk_userauth_server_last_error(const struct amk_userauth_server *s)
{
    return amk_error_msg(&s->detail);
}

int
amk_userauth_server_disconnect_reason(const struct amk_userauth_server *s)
{
    return s->err != AMK_OK ? s->reason : 0;
}
