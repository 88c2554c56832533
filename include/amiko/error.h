/**
 * @file amiko/error.h
 * @brief Error codes: every amiko function that can fail returns `int`,
 * AMK_OK (0) on success or a negative AMK_E... code.
 *
 * Codes come in classes (see amk_err_class()): would-block, usage,
 * resource, protocol, crypto, authentication, I/O, closed and internal.
 * Each code has one meaning; the human-readable detail of a failure (which
 * lists failed to match, which line was bad) is kept by the object that
 * failed, e.g. amk_session_last_error().
 */
#ifndef AMIKO_ERROR_H
#define AMIKO_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. Values are stable ABI: never renumber, only add. */
enum amk_err {
    AMK_OK = 0,

    /* would block: try again when the session's descriptor is ready */
    AMK_EAGAIN = -1,

    /* usage: the caller asked for something impossible */
    AMK_EINVAL = -10,       /**< invalid argument */
    AMK_ESTATE = -11,       /**< call not valid in the object's current state */
    AMK_ENOTSUP = -12,      /**< algorithm or feature not supported */

    /* resources */
    AMK_ENOMEM = -20,       /**< allocation failed */
    AMK_ELIMIT = -21,       /**< a size or count limit would be exceeded */

    /* protocol: the peer (or a file) sent something wrong */
    AMK_ETRUNCATED = -30,   /**< message or field ends early */
    AMK_EFORMAT = -31,      /**< malformed encoding (bad mpint, name-list, boolean, trailing data) */
    AMK_EPROTO = -32,       /**< message not allowed here / protocol violation */
    AMK_EVERSION = -33,     /**< bad or unsupported protocol version line (e.g. SSH-1) */
    AMK_ETOOBIG = -34,      /**< packet or field larger than allowed */
    AMK_EMAC = -35,         /**< message authentication code mismatch (corruption or tampering) */
    AMK_ENOMATCH = -36,     /**< no common algorithm in negotiation */
    AMK_EUNIMPLEMENTED = -37, /**< peer answered SSH_MSG_UNIMPLEMENTED to something we need */

    /* crypto and keys */
    AMK_ECRYPTO = -40,      /**< the crypto backend failed */
    AMK_ESIGNATURE = -41,   /**< signature does not verify */
    AMK_EKEY = -42,         /**< invalid or unusable key (bad point, too small, wrong type) */
    AMK_EPASSPHRASE = -43,  /**< wrong or missing passphrase */

    /* host keys and authentication */
    AMK_EHOSTKEY_UNKNOWN = -50, /**< host key not in known_hosts and policy rejects it */
    AMK_EHOSTKEY_CHANGED = -51, /**< host key differs from the one in known_hosts */
    AMK_EHOSTKEY_REVOKED = -52, /**< host key is marked @revoked */
    AMK_EHOSTKEY_REJECTED = -53, /**< caller's host key callback refused the key */
    AMK_EAUTH = -54,        /**< authentication failed: no method left */

    /* I/O */
    AMK_EIO = -60,          /**< read or write on the transport failed */
    AMK_ETIMEOUT = -61,     /**< the operation's timeout expired */
    AMK_ERESOLVE = -62,     /**< host name could not be resolved */
    AMK_ECONNECT = -63,     /**< TCP connection could not be established */

    /* closed */
    AMK_EDISCONNECT = -70,  /**< the peer sent SSH_MSG_DISCONNECT */
    AMK_ECLOSED = -71,      /**< the connection or channel is closed (EOF) */
    AMK_EREFUSED = -72,     /**< the peer refused a channel open or a channel request */

    /* remote file operations: the server refused (not fatal) */
    AMK_ENOENT = -80,       /**< no such file or directory (SFTP SSH_FX_NO_SUCH_FILE) */
    AMK_EACCES = -81,       /**< permission denied (SFTP SSH_FX_PERMISSION_DENIED) */
    AMK_EREMOTE = -82,      /**< the server failed the operation (SFTP SSH_FX_FAILURE; see the detail) */
    AMK_EBADNAME = -83,     /**< a directory listing held a name that cannot be used ('/' in it, empty, or listed again): left out */

    /* internal */
    AMK_EINTERNAL = -90     /**< a bug in amiko: please report it */
};

/** Classes of error codes; see amk_err_class(). */
enum amk_err_class {
    AMK_ERRCLASS_OK = 0,
    AMK_ERRCLASS_AGAIN,
    AMK_ERRCLASS_USAGE,
    AMK_ERRCLASS_RESOURCE,
    AMK_ERRCLASS_PROTOCOL,
    AMK_ERRCLASS_CRYPTO,
    AMK_ERRCLASS_AUTH,
    AMK_ERRCLASS_IO,
    AMK_ERRCLASS_CLOSED,
    AMK_ERRCLASS_INTERNAL,
    AMK_ERRCLASS_REMOTE     /**< a remote file operation was refused (not fatal) */
};

/**
 * A short English description of @p code. Never NULL: unknown codes give
 * "unknown error".
 */
AMK_API const char *amk_strerror(int code);

/** The symbolic name of @p code, e.g. "AMK_EMAC"; "AMK_E?" if unknown. */
AMK_API const char *amk_errname(int code);

/** The class of @p code. */
AMK_API enum amk_err_class amk_err_class(int code);

/**
 * Non-zero when @p code leaves the object that returned it unusable
 * (protocol, crypto, I/O, closed and internal errors). Would-block, usage
 * and remote-file errors are not fatal: the call may be retried or corrected.
 */
AMK_API int amk_err_is_fatal(int code);

#ifdef __cplusplus
}
#endif
#endif
