/* Internal error helpers: a code plus a human-readable detail. */
#ifndef AMK_UTIL_ERR_H
#define AMK_UTIL_ERR_H

#include <amiko/error.h>

#define AMK_ERROR_MSG_MAX 512

/* The detail of the most recent failure of an object. */
struct amk_error {
    int code;
    char msg[AMK_ERROR_MSG_MAX];
};

/*
 * Records @p code with a printf-style detail in @p e (which may be NULL)
 * and returns @p code, so callers write `return amk_error_set(e, AMK_EMAC, "...")`.
 * A NULL @p fmt records amk_strerror(code).
 */
int amk_error_set(struct amk_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void amk_error_clear(struct amk_error *e);

/* The recorded detail, or "" when no error is recorded. */
const char *amk_error_msg(const struct amk_error *e);

#endif
