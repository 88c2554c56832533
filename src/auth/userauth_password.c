/*
 * The "password" method, client side (RFC 4252 §8), with the server's
 * password change request. See userauth.h.
 */
#include "auth/userauth_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

/* Sends the password request; @p new_password NULL for the plain form. */
static int
send_password(struct amk_userauth_client *a, const char *new_password)
{
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    if ((b = amk_buf_new()) == NULL) {
        r = amk_ua_error(a, AMK_ENOMEM, "out of memory");
        goto out;
    }
    /* RFC 4252 §8: boolean FALSE, string plaintext password; or, after
     * a change request, boolean TRUE, string old password, string new
     * password. */
    if ((r = amk_ua_put_request_head(a, b, "password")) != 0 ||
        (r = amk_buf_put_bool(b, new_password != NULL)) != 0 ||
        (r = amk_buf_put_cstring(b, a->password)) != 0 ||
        (new_password != NULL && (r = amk_buf_put_cstring(b, new_password)) != 0)) {
        r = amk_ua_error(a, r, "building the password request: %s", amk_strerror(r));
        goto out;
    }
    r = amk_ua_send(a, b);
out:
    amk_buf_free(b);        /* wipes the passwords */
    return r;
}

int
amk_userauth_client_password(struct amk_userauth_client *a, const char *password,
    amk_userauth_passwd_change_fn change_cb, void *change_user)
{
    size_t len;
    int r = AMK_EINTERNAL;

    if (a == NULL || password == NULL)
        return AMK_EINVAL;
    if ((r = amk_ua_check_start(a, "password")) != AMK_OK)
        return r;
    len = strnlen(password, AMK_USERAUTH_SECRET_MAX);
    if (len >= AMK_USERAUTH_SECRET_MAX)
        return AMK_EINVAL;
    amk_ua_attempt_clear(a);
    if ((a->password = calloc(1, AMK_USERAUTH_SECRET_MAX)) == NULL)
        return AMK_ENOMEM;
    memcpy(a->password, password, len);
    a->change_cb = change_cb;
    a->change_user = change_user;
    a->method = AMK_UA_M_PASSWORD;
    a->result = AMK_USERAUTH_RESULT_NONE;
    if ((r = send_password(a, NULL)) != AMK_OK) {
        amk_ua_attempt_clear(a);
        return r;
    }
    a->state = AMK_UA_PENDING;
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: trying password");
    return AMK_OK;
}

int
amk_ua_password_changereq(struct amk_userauth_client *a, struct amk_buf *b)
{
    char *prompt = NULL, *lang = NULL, *newpw = NULL;
    int r = AMK_EINTERNAL, cr;

    /* RFC 4252 §8: byte SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, string prompt
     * in UTF-8, string language tag. */
    if ((r = amk_ua_get_text(b, &prompt)) != 0 || (r = amk_ua_get_text(b, &lang)) != 0 ||
        (r = amk_buf_get_end(b)) != 0) {
        if (r == AMK_ENOMEM)
            r = amk_ua_error(a, r, "out of memory");
        else
            r = amk_ua_error(a, AMK_EFORMAT, "malformed USERAUTH_PASSWD_CHANGEREQ (%s)",
                amk_errname(r));
        goto out;
    }
    if (++a->changereqs > AMK_USERAUTH_MAX_CHANGEREQ) {
        r = amk_ua_error(a, AMK_ELIMIT, "more than %u password change requests",
            (unsigned)AMK_USERAUTH_MAX_CHANGEREQ);
        goto out;
    }
    amk_log(&a->log, AMK_LOG_INFO, "userauth: the server asks for a password change: %s",
        prompt);
    if (a->change_cb == NULL) {
        amk_ua_attempt_failed(a, "the server requires a password change and no callback "
            "was given");
        r = AMK_OK;
        goto out;
    }
    if ((newpw = calloc(1, AMK_USERAUTH_SECRET_MAX)) == NULL) {
        r = amk_ua_error(a, AMK_ENOMEM, "out of memory");
        goto out;
    }
    cr = a->change_cb(a->change_user, prompt, lang, newpw, AMK_USERAUTH_SECRET_MAX);
    newpw[AMK_USERAUTH_SECRET_MAX - 1] = '\0';
    if (cr != AMK_OK) {
        amk_ua_attempt_failed(a, "password change declined by the callback");
        r = AMK_OK;
        goto out;
    }
    r = send_password(a, newpw);
out:
    amk_free_wiped(newpw, newpw != NULL ? AMK_USERAUTH_SECRET_MAX : 0);
    free(prompt);
    free(lang);
    return r;
}
