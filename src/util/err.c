/* Error code table and the detail carrier; see amiko/error.h and util/err.h. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
    int code;
    const char *name;
    const char *message;
    enum amk_err_class cls;
};

/* One table holds every code, its name, message and class. */
static const struct err_entry ERR_ENTRIES[] = {
    { AMK_OK, "AMK_OK", "success", AMK_ERRCLASS_OK },
    { AMK_EAGAIN, "AMK_EAGAIN", "operation would block", AMK_ERRCLASS_AGAIN },
    { AMK_EINVAL, "AMK_EINVAL", "invalid argument", AMK_ERRCLASS_USAGE },
    { AMK_ESTATE, "AMK_ESTATE", "not allowed in the current state", AMK_ERRCLASS_USAGE },
    { AMK_ENOTSUP, "AMK_ENOTSUP", "not supported", AMK_ERRCLASS_USAGE },
    { AMK_ENOMEM, "AMK_ENOMEM", "out of memory", AMK_ERRCLASS_RESOURCE },
    { AMK_ELIMIT, "AMK_ELIMIT", "size or count limit exceeded", AMK_ERRCLASS_RESOURCE },
    { AMK_ETRUNCATED, "AMK_ETRUNCATED", "message truncated", AMK_ERRCLASS_PROTOCOL },
    { AMK_EFORMAT, "AMK_EFORMAT", "invalid format", AMK_ERRCLASS_PROTOCOL },
    { AMK_EPROTO, "AMK_EPROTO", "protocol error", AMK_ERRCLASS_PROTOCOL },
    { AMK_EVERSION, "AMK_EVERSION", "bad or unsupported protocol version", AMK_ERRCLASS_PROTOCOL },
    { AMK_ETOOBIG, "AMK_ETOOBIG", "packet or field too large", AMK_ERRCLASS_PROTOCOL },
    { AMK_EMAC, "AMK_EMAC", "message authentication code incorrect", AMK_ERRCLASS_PROTOCOL },
    { AMK_ENOMATCH, "AMK_ENOMATCH", "no matching algorithm", AMK_ERRCLASS_PROTOCOL },
    { AMK_EUNIMPLEMENTED, "AMK_EUNIMPLEMENTED", "peer does not implement a required message", AMK_ERRCLASS_PROTOCOL },
    { AMK_ECRYPTO, "AMK_ECRYPTO", "cryptographic backend failure", AMK_ERRCLASS_CRYPTO },
    { AMK_ESIGNATURE, "AMK_ESIGNATURE", "signature verification failed", AMK_ERRCLASS_CRYPTO },
    { AMK_EKEY, "AMK_EKEY", "invalid or unusable key", AMK_ERRCLASS_CRYPTO },
    { AMK_EPASSPHRASE, "AMK_EPASSPHRASE", "wrong or missing passphrase", AMK_ERRCLASS_CRYPTO },
    { AMK_EHOSTKEY_UNKNOWN, "AMK_EHOSTKEY_UNKNOWN", "host key is not known", AMK_ERRCLASS_AUTH },
    { AMK_EHOSTKEY_CHANGED, "AMK_EHOSTKEY_CHANGED", "host key has changed", AMK_ERRCLASS_AUTH },
    { AMK_EHOSTKEY_REVOKED, "AMK_EHOSTKEY_REVOKED", "host key is revoked", AMK_ERRCLASS_AUTH },
    { AMK_EHOSTKEY_REJECTED, "AMK_EHOSTKEY_REJECTED", "host key rejected", AMK_ERRCLASS_AUTH },
    { AMK_EAUTH, "AMK_EAUTH", "authentication failed", AMK_ERRCLASS_AUTH },
    { AMK_EIO, "AMK_EIO", "I/O error", AMK_ERRCLASS_IO },
    { AMK_ETIMEOUT, "AMK_ETIMEOUT", "timed out", AMK_ERRCLASS_IO },
    { AMK_ERESOLVE, "AMK_ERESOLVE", "host name could not be resolved", AMK_ERRCLASS_IO },
    { AMK_ECONNECT, "AMK_ECONNECT", "connection failed", AMK_ERRCLASS_IO },
    { AMK_EDISCONNECT, "AMK_EDISCONNECT", "peer disconnected", AMK_ERRCLASS_CLOSED },
    { AMK_ECLOSED, "AMK_ECLOSED", "connection closed", AMK_ERRCLASS_CLOSED },
    { AMK_EREFUSED, "AMK_EREFUSED", "request refused by the peer", AMK_ERRCLASS_CLOSED },
    { AMK_ENOENT, "AMK_ENOENT", "no such file or directory", AMK_ERRCLASS_REMOTE },
    { AMK_EACCES, "AMK_EACCES", "permission denied", AMK_ERRCLASS_REMOTE },
    { AMK_EREMOTE, "AMK_EREMOTE", "the server failed the operation", AMK_ERRCLASS_REMOTE },
    { AMK_EBADNAME, "AMK_EBADNAME", "the server listed a name that cannot be used",
      AMK_ERRCLASS_REMOTE },
    { AMK_EINTERNAL, "AMK_EINTERNAL", "internal error", AMK_ERRCLASS_INTERNAL },
};

static const struct err_entry *
err_lookup(int code)
{
    for (size_t i = 0; i < sizeof(ERR_ENTRIES) / sizeof(ERR_ENTRIES[0]); i++) {
        if (ERR_ENTRIES[i].code == code)
            return &ERR_ENTRIES[i];
    }
    return NULL;
}

const char *
amk_strerror(int code)
{
    const struct err_entry *e = err_lookup(code);
    return e ? e->message : "unknown error";
}

const char *
amk_errname(int code)
{
    const struct err_entry *e = err_lookup(code);
    return e ? e->name : "AMK_E?";
}

enum amk_err_class
amk_err_class(int code)
{
    const struct err_entry *e = err_lookup(code);
    return e ? e->cls : AMK_ERRCLASS_INTERNAL;
}

int
amk_err_is_fatal(int code)
{
    switch (amk_err_class(code)) {
    case AMK_ERRCLASS_OK:
    case AMK_ERRCLASS_AGAIN:
    case AMK_ERRCLASS_USAGE:
    case AMK_ERRCLASS_REMOTE:
        return 0;
    default:
        return 1;
    }
}

int
amk_error_set(struct amk_error *e, int code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    if (fmt == NULL) {
        snprintf(e->msg, sizeof(e->msg), "%s", amk_strerror(code));
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

void
amk_error_clear(struct amk_error *e)
{
    if (e == NULL)
        return;
    e->code = AMK_OK;
    e->msg[0] = '\0';
}

const char *
amk_error_msg(const struct amk_error *e)
{
    if (e == NULL || e->code == AMK_OK)
        return "";
    return e->msg[0] != '\0' ? e->msg : amk_strerror(e->code);
}
