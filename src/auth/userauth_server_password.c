/*
 * The "password" method, server side (RFC 4252 §8), and the constant-time
 * comparison password callbacks use. See userauth_server.h.
 */
#include "auth/userauth_server_int.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/secure.h"

int
amk_uas_password(struct amk_userauth_server *s, struct amk_buf *b)
{
    const uint8_t *pw, *newpw;
    size_t len, newlen;
    char *copy = NULL;
    int change = 0, r = AMK_EINTERNAL, d;

    /* RFC 4252 §8: boolean FALSE, string plaintext password; with TRUE
     * (a password change) also string new password. */
    if ((r = amk_buf_get_bool(b, &change)) != 0 ||
        (r = amk_buf_get_string_direct(b, &pw, &len)) != 0)
        return amk_uas_malformed(s, r, "password request");
    if (change && (r = amk_buf_get_string_direct(b, &newpw, &newlen)) != 0)
        return amk_uas_malformed(s, r, "password change request");
    if ((r = amk_buf_get_end(b)) != 0)
        return amk_uas_malformed(s, r, "password request");
    if (len >= AMK_USERAUTH_SECRET_MAX || (change && newlen >= AMK_USERAUTH_SECRET_MAX))
        return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
            "password of more than %u bytes", (unsigned)AMK_USERAUTH_SECRET_MAX - 1);
    if (change) {
        /* Changing passwords is not offered: the attempt fails. */
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: password change refused");
        return amk_uas_finish(s, AMK_UAS_M_PASSWORD, AMK_UAS_OUT_FAILURE);
    }
    if (memchr(pw, '\0', len) != NULL) {
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: password with a NUL byte refused");
        return amk_uas_finish(s, AMK_UAS_M_PASSWORD, AMK_UAS_OUT_FAILURE);
    }
    /* A NUL-terminated copy for the callback, wiped right after it. */
    if ((copy = calloc(1, AMK_USERAUTH_SECRET_MAX)) == NULL)
        return amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
    memcpy(copy, pw, len);
    d = s->password_cb(s->user, s->username, copy);
    amk_free_wiped(copy, AMK_USERAUTH_SECRET_MAX);
    return amk_uas_finish(s, AMK_UAS_M_PASSWORD, amk_uas_decision(s, d, "password"));
}

AMK_API int
amk_auth_password_equal(const char *given, const char *expected)
{
    uint8_t a[AMK_HASH_MAX_LEN], b[AMK_HASH_MAX_LEN];
    int eq = 0;

    if (given == NULL || expected == NULL)
        return 0;
    /* Hashing first makes the comparison independent of the lengths; the
     * digests are then compared without early exit. */
    if (amk_hash(AMK_HASH_SHA256, given, strlen(given), a) == AMK_OK &&
        amk_hash(AMK_HASH_SHA256, expected, strlen(expected), b) == AMK_OK)
        eq = amk_ct_equal(a, b, 32);
    amk_wipe(a, sizeof(a));
    amk_wipe(b, sizeof(b));
    return eq;
}
