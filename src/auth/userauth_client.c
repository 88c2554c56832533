/*
 * The client's user authentication engine: the service request, the
 * "none" request, FAILURE / SUCCESS / BANNER, and the state queries.
 * The methods live in userauth_password.c, userauth_pubkey.c and
 * userauth_kbdint.c. See userauth.h.
 */
#include "auth/userauth_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "transport/transport.h"
#include "util/sanitize.h"
#include "util/secure.h"

#define SERVICE_USERAUTH "ssh-userauth"
#define SERVICE_DEFAULT "ssh-connection"

int
amk_ua_error(struct amk_userauth_client *a, int code, const char *fmt, ...)
{
    va_list ap;

    a->detail.code = code;
    va_start(ap, fmt);
    vsnprintf(a->detail.msg, sizeof(a->detail.msg), fmt, ap);
    va_end(ap);
    if (amk_err_is_fatal(code) && a->err == AMK_OK) {
        a->err = code;
        a->state = AMK_UA_FAILED;
        amk_ua_attempt_clear(a);
        amk_log(&a->log, AMK_LOG_DEBUG, "userauth: failed: %s", a->detail.msg);
    }
    return code;
}

int
amk_ua_put_request_head(const struct amk_userauth_client *a, struct amk_buf *b,
    const char *method)
{
    int r;

    /* RFC 4252 §5: byte SSH_MSG_USERAUTH_REQUEST, string user name in
     * UTF-8, string service name, string method name. */
    if ((r = amk_buf_put_u8(b, AMK_MSG_USERAUTH_REQUEST)) != 0 ||
        (r = amk_buf_put_cstring(b, a->username)) != 0 ||
        (r = amk_buf_put_cstring(b, a->service)) != 0 ||
        (r = amk_buf_put_cstring(b, method)) != 0)
        return r;
    return AMK_OK;
}

int
amk_ua_send(struct amk_userauth_client *a, const struct amk_buf *b)
{
    int r = amk_pkt_sink_put(&a->sink, amk_buf_ptr(b), amk_buf_len(b));

    if (r != AMK_OK)
        return amk_ua_error(a, r, "sending failed: %s", amk_strerror(r));
    return AMK_OK;
}

void
amk_ua_attempt_clear(struct amk_userauth_client *a)
{
    amk_free_wiped(a->password, a->password != NULL ? AMK_USERAUTH_SECRET_MAX : 0);
    a->password = NULL;
    a->change_cb = NULL;
    a->change_user = NULL;
    a->changereqs = 0;
    a->key = NULL;
    a->pk_alg[0] = '\0';
    amk_buf_free(a->pk_blob);
    a->pk_blob = NULL;
    a->kbd_cb = NULL;
    a->kbd_user = NULL;
    a->info_rounds = 0;
}

void
amk_ua_attempt_failed(struct amk_userauth_client *a, const char *why)
{
    amk_ua_attempt_clear(a);
    a->state = AMK_UA_READY;
    a->result = AMK_USERAUTH_RESULT_FAILURE;
    a->detail.code = AMK_EAUTH;
    snprintf(a->detail.msg, sizeof(a->detail.msg), "%s", why);
}

int
amk_ua_get_text(struct amk_buf *b, char **out)
{
    const uint8_t *p;
    size_t len;
    int r;

    *out = NULL;
    if ((r = amk_buf_get_string_direct(b, &p, &len)) != 0)
        return r;
    return amk_text_sanitize(p, len, out, NULL);
}

void
amk_ua_session_id(const struct amk_userauth_client *a, const uint8_t **id, size_t *len)
{
    if (a->transport != NULL) {
        amk_transport_session_id(a->transport, id, len);
        return;
    }
    *id = a->session_id;
    *len = a->session_id_len;
}

const char *
amk_ua_server_sig_algs(const struct amk_userauth_client *a)
{
    if (a->transport != NULL)
        return amk_transport_server_sig_algs(a->transport);
    return a->sig_algs;
}

static const char *
method_name(enum amk_ua_method m)
{
    switch (m) {
    case AMK_UA_M_NONE:
        return "none";
    case AMK_UA_M_PASSWORD:
        return "password";
    case AMK_UA_M_PUBKEY_QUERY:
    case AMK_UA_M_PUBKEY_SIGNED:
        return "publickey";
    case AMK_UA_M_KBDINT:
        return "keyboard-interactive";
    case AMK_UA_M_NONE_YET:
        break;
    }
    return "";
}

int
amk_userauth_client_new(struct amk_userauth_client **out, const struct amk_userauth_config *cfg)
{
    struct amk_userauth_client *a = NULL;
    const char *service;
    size_t ulen;
    int r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || cfg == NULL || cfg->username == NULL || cfg->sink.send == NULL) {
        r = AMK_EINVAL;
        goto out;
    }
    ulen = strlen(cfg->username);
    if (ulen == 0 || ulen > AMK_USERAUTH_USER_MAX) {
        r = AMK_EINVAL;
        goto out;
    }
    service = cfg->service != NULL ? cfg->service : SERVICE_DEFAULT;
    if (*service == '\0' || strlen(service) > AMK_NAME_MAX) {
        r = AMK_EINVAL;
        goto out;
    }
    if ((a = calloc(1, sizeof(*a))) == NULL ||
        (a->username = strdup(cfg->username)) == NULL ||
        (a->service = strdup(service)) == NULL ||
        (a->methods = strdup("")) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    a->sink = cfg->sink;
    a->transport = cfg->transport;
    a->banner_cb = cfg->banner_cb;
    a->banner_user = cfg->banner_user;
    a->log = cfg->log;
    a->pubkey_query_first = cfg->pubkey_query_first;
    a->state = AMK_UA_INIT;
    *out = a;
    a = NULL;
    r = AMK_OK;
out:
    amk_userauth_client_free(a);
    return r;
}

void
amk_userauth_client_free(struct amk_userauth_client *a)
{
    if (a == NULL)
        return;
    amk_ua_attempt_clear(a);
    free(a->username);
    free(a->service);
    free(a->session_id);
    free(a->sig_algs);
    free(a->methods);
    amk_free_wiped(a, sizeof(*a));
}

int
amk_userauth_client_set_session_id(struct amk_userauth_client *a, const uint8_t *id,
    size_t len)
{
    uint8_t *copy;

    if (a == NULL || id == NULL || len == 0)
        return AMK_EINVAL;
    if ((copy = malloc(len)) == NULL)
        return AMK_ENOMEM;
    memcpy(copy, id, len);
    free(a->session_id);
    a->session_id = copy;
    a->session_id_len = len;
    return AMK_OK;
}

int
amk_userauth_client_set_server_sig_algs(struct amk_userauth_client *a, const char *algs)
{
    char *copy = NULL;
    int r;

    if (a == NULL)
        return AMK_EINVAL;
    if (algs != NULL) {
        if ((r = amk_namelist_validate(algs, strlen(algs))) != AMK_OK)
            return r;
        if ((copy = strdup(algs)) == NULL)
            return AMK_ENOMEM;
    }
    free(a->sig_algs);
    a->sig_algs = copy;
    return AMK_OK;
}

int
amk_userauth_client_start(struct amk_userauth_client *a)
{
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    if (a == NULL)
        return AMK_EINVAL;
    if (a->state == AMK_UA_FAILED)
        return a->err;
    if (a->state != AMK_UA_INIT)
        return AMK_ESTATE;
    if ((b = amk_buf_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* RFC 4253 §10: byte SSH_MSG_SERVICE_REQUEST, string service name. */
    if ((r = amk_buf_put_u8(b, AMK_MSG_SERVICE_REQUEST)) != 0 ||
        (r = amk_buf_put_cstring(b, SERVICE_USERAUTH)) != 0)
        goto out;
    if ((r = amk_ua_send(a, b)) != AMK_OK)
        goto out;
    a->state = AMK_UA_SERVICE;
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: service request ssh-userauth sent");
    r = AMK_OK;
out:
    amk_buf_free(b);
    return r;
}

/* RFC 4252 §5.2: the "none" request, sent on SERVICE_ACCEPT. */
static int
send_none(struct amk_userauth_client *a)
{
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    if ((b = amk_buf_new()) == NULL) {
        r = amk_ua_error(a, AMK_ENOMEM, "out of memory");
        goto out;
    }
    if ((r = amk_ua_put_request_head(a, b, "none")) != 0) {
        r = amk_ua_error(a, r, "building the none request: %s", amk_strerror(r));
        goto out;
    }
    if ((r = amk_ua_send(a, b)) != AMK_OK)
        goto out;
    a->state = AMK_UA_PENDING;
    a->method = AMK_UA_M_NONE;
    r = AMK_OK;
out:
    amk_buf_free(b);
    return r;
}

/* Malformed input: every wire-level failure is AMK_EFORMAT for the caller. */
static int
malformed(struct amk_userauth_client *a, int r, const char *what)
{
    if (r == AMK_ENOMEM)
        return amk_ua_error(a, r, "out of memory reading %s", what);
    if (r == AMK_ELIMIT)
        return amk_ua_error(a, r, "%s exceeds a limit", what);
    return amk_ua_error(a, AMK_EFORMAT, "malformed %s (%s)", what, amk_errname(r));
}

static int
handle_service_accept(struct amk_userauth_client *a, struct amk_buf *b)
{
    const uint8_t *name;
    size_t len;
    int r;

    /* RFC 4253 §10: byte SSH_MSG_SERVICE_ACCEPT, string service name. */
    if ((r = amk_buf_get_string_direct(b, &name, &len)) != 0 ||
        (r = amk_buf_get_end(b)) != 0)
        return malformed(a, r, "SERVICE_ACCEPT");
    if (len != strlen(SERVICE_USERAUTH) || memcmp(name, SERVICE_USERAUTH, len) != 0)
        return amk_ua_error(a, AMK_EPROTO, "SERVICE_ACCEPT for another service than %s",
            SERVICE_USERAUTH);
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: service accepted; sending none");
    return send_none(a);
}

static int
handle_banner(struct amk_userauth_client *a, struct amk_buf *b)
{
    char *msg = NULL, *lang = NULL;
    int r = AMK_EINTERNAL;

    /* RFC 4252 §5.4: string message in UTF-8, string language tag. */
    if ((r = amk_ua_get_text(b, &msg)) != 0 || (r = amk_ua_get_text(b, &lang)) != 0 ||
        (r = amk_buf_get_end(b)) != 0) {
        r = malformed(a, r, "USERAUTH_BANNER");
        goto out;
    }
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: banner of %zu bytes", strlen(msg));
    if (a->banner_cb != NULL)
        a->banner_cb(a->banner_user, msg, lang);
    r = AMK_OK;
out:
    free(msg);
    free(lang);
    return r;
}

static int
handle_failure(struct amk_userauth_client *a, struct amk_buf *b)
{
    char *methods = NULL;
    int partial = 0, r = AMK_EINTERNAL;
    const char *m = method_name(a->method);

    /* RFC 4252 §5.1: name-list authentications that can continue,
     * boolean partial success. */
    if ((r = amk_buf_get_namelist(b, &methods)) != 0 ||
        (r = amk_buf_get_bool(b, &partial)) != 0 || (r = amk_buf_get_end(b)) != 0) {
        r = malformed(a, r, "USERAUTH_FAILURE");
        goto out;
    }
    free(a->methods);
    a->methods = methods;
    methods = NULL;
    a->partial = partial;
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: %s %s; can continue: %s", m,
        partial ? "partially succeeded" : (a->method == AMK_UA_M_PUBKEY_QUERY ?
        "key not accepted" : "failed"), a->methods);
    amk_ua_attempt_clear(a);
    a->state = AMK_UA_READY;
    a->result = partial ? AMK_USERAUTH_RESULT_PARTIAL : AMK_USERAUTH_RESULT_FAILURE;
    if (a->methods[0] == '\0') {
        /* Nothing can continue: no method is left (RFC 4252 §5.1). */
        r = amk_ua_error(a, AMK_EAUTH, "%s failed and the server allows no other method", m);
        goto out;
    }
    if (partial)
        snprintf(a->detail.msg, sizeof(a->detail.msg),
            "%s accepted, more needed: %s", m, a->methods);
    else
        snprintf(a->detail.msg, sizeof(a->detail.msg),
            "%s refused; the server allows: %s", m, a->methods);
    a->detail.code = AMK_EAUTH;
    r = AMK_OK;
out:
    free(methods);
    return r;
}

static int
handle_success(struct amk_userauth_client *a, struct amk_buf *b)
{
    int r;

    if ((r = amk_buf_get_end(b)) != 0)
        return malformed(a, r, "USERAUTH_SUCCESS");
    /* RFC 4252 §7: a query without signature is never answered with
     * success; the server is broken or hostile. */
    if (a->method == AMK_UA_M_PUBKEY_QUERY)
        return amk_ua_error(a, AMK_EPROTO, "USERAUTH_SUCCESS to a publickey query");
    amk_log(&a->log, AMK_LOG_INFO, "userauth: %s succeeded; authenticated as %s",
        method_name(a->method), a->username);
    amk_ua_attempt_clear(a);
    a->state = AMK_UA_DONE;
    a->result = AMK_USERAUTH_RESULT_SUCCESS;
    a->partial = 0;
    amk_error_clear(&a->detail);
    return AMK_OK;
}

/* Message 60 means one thing per method (RFC 4252 §7, §8; RFC 4256 §3.2). */
static int
handle_60(struct amk_userauth_client *a, struct amk_buf *b)
{
    switch (a->method) {
    case AMK_UA_M_PUBKEY_QUERY:
        return amk_ua_pubkey_pk_ok(a, b);
    case AMK_UA_M_PASSWORD:
        return amk_ua_password_changereq(a, b);
    case AMK_UA_M_KBDINT:
        return amk_ua_kbdint_info_request(a, b);
    default:
        break;
    }
    return amk_ua_error(a, AMK_EPROTO, "message 60 during a %s request with no meaning there",
        method_name(a->method));
}

int
amk_userauth_client_handle(struct amk_userauth_client *a, const uint8_t *payload, size_t len)
{
    struct amk_buf b;
    uint8_t type;

    if (a == NULL || payload == NULL || len == 0)
        return AMK_EINVAL;
    if (a->state == AMK_UA_FAILED)
        return a->err;
    amk_buf_view(&b, payload, len);
    if (amk_buf_get_u8(&b, &type) != 0)
        return AMK_EINVAL;

    /*
     * The messages each state accepts:
     *   INIT      none (nothing was asked)
     *   SERVICE   SERVICE_ACCEPT -> PENDING (sends "none")
     *   PENDING   FAILURE -> READY; SUCCESS -> DONE; BANNER;
     *             60 as the pending method defines it
     *   READY     BANNER (RFC 4252 §5.4: any time before success)
     *   DONE      none: the connection layer owns the rest
     */
    switch (a->state) {
    case AMK_UA_SERVICE:
        if (type == AMK_MSG_SERVICE_ACCEPT)
            return handle_service_accept(a, &b);
        break;
    case AMK_UA_PENDING:
        if (type == AMK_MSG_USERAUTH_FAILURE)
            return handle_failure(a, &b);
        if (type == AMK_MSG_USERAUTH_SUCCESS)
            return handle_success(a, &b);
        if (type == AMK_MSG_USERAUTH_BANNER)
            return handle_banner(a, &b);
        if (type == 60)
            return handle_60(a, &b);
        break;
    case AMK_UA_READY:
        if (type == AMK_MSG_USERAUTH_BANNER)
            return handle_banner(a, &b);
        break;
    case AMK_UA_INIT:
    case AMK_UA_DONE:
    case AMK_UA_FAILED:
        break;
    }
    return amk_ua_error(a, AMK_EPROTO, "unexpected message %u in state %s", (unsigned)type,
        a->state == AMK_UA_INIT ? "not started" : a->state == AMK_UA_SERVICE ?
        "awaiting SERVICE_ACCEPT" : a->state == AMK_UA_PENDING ? "awaiting an answer" :
        a->state == AMK_UA_READY ? "idle" : "authenticated");
}

int
amk_ua_check_start(struct amk_userauth_client *a, const char *method)
{
    if (a->state == AMK_UA_FAILED)
        return a->err;
    if (a->state != AMK_UA_READY)
        return AMK_ESTATE;
    if (!amk_namelist_contains(a->methods, method)) {
        a->detail.code = AMK_EAUTH;
        snprintf(a->detail.msg, sizeof(a->detail.msg),
            "the server does not allow %s; it allows: %s", method, a->methods);
        return AMK_EAUTH;
    }
    amk_error_clear(&a->detail);    /* the detail is about the new attempt from now on */
    return AMK_OK;
}

int
amk_userauth_client_busy(const struct amk_userauth_client *a)
{
    return a->state == AMK_UA_SERVICE || a->state == AMK_UA_PENDING;
}

int
amk_userauth_client_authenticated(const struct amk_userauth_client *a)
{
    return a->state == AMK_UA_DONE;
}

enum amk_userauth_result
amk_userauth_client_last_result(const struct amk_userauth_client *a)
{
    return a->result;
}

const char *
amk_userauth_client_last_method(const struct amk_userauth_client *a)
{
    return method_name(a->method);
}

const char *
amk_userauth_client_methods(const struct amk_userauth_client *a)
{
    return a->methods;
}

int
amk_userauth_client_method_allowed(const struct amk_userauth_client *a, const char *method)
{
    return amk_namelist_contains(a->methods, method);
}

int
amk_userauth_client_partial_success(const struct amk_userauth_client *a)
{
    return a->partial;
}

int
amk_userauth_client_error(const struct amk_userauth_client *a)
{
    return a->err;
}

const char *
amk_userauth_client_last_error(const struct amk_userauth_client *a)
{
    return amk_error_msg(&a->detail);
}
