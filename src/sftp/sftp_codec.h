/*
 * SFTP version 3 (draft-ietf-secsh-filexfer-02) wire codec with OpenSSH's
 * extensions (OpenSSH PROTOCOL, "SFTP protocol changes" and "sftp
 * extensions"): every request is encoded as a whole packet (uint32 length,
 * type, request id, fields) appended to a buffer; every reply is decoded
 * from one packet body (type first, without the length) into a struct
 * amk_sftp_reply that owns its data.
 *
 * Decoding is strict: a truncated field is AMK_ETRUNCATED, trailing data
 * or a bad encoding AMK_EFORMAT, a handle longer than 256 bytes or a name
 * count the packet cannot hold AMK_ETOOBIG / AMK_EFORMAT, an unknown reply
 * type AMK_EPROTO. Nothing read from the peer is trusted for a size.
 */
#ifndef AMK_SFTP_CODEC_H
#define AMK_SFTP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>
#include <amiko/sftp.h>

#include "util/buf.h"

#define AMK_SFTP_MUST_CHECK __attribute__((warn_unused_result))

/* The protocol version we speak (draft-ietf-secsh-filexfer-02 §4). */
#define AMK_SFTP_VERSION 3

/* Packet types, draft-ietf-secsh-filexfer-02 §3. */
#define AMK_SSH_FXP_INIT 1
#define AMK_SSH_FXP_VERSION 2
#define AMK_SSH_FXP_OPEN 3
#define AMK_SSH_FXP_CLOSE 4
#define AMK_SSH_FXP_READ 5
#define AMK_SSH_FXP_WRITE 6
#define AMK_SSH_FXP_LSTAT 7
#define AMK_SSH_FXP_FSTAT 8
#define AMK_SSH_FXP_SETSTAT 9
#define AMK_SSH_FXP_FSETSTAT 10
#define AMK_SSH_FXP_OPENDIR 11
#define AMK_SSH_FXP_READDIR 12
#define AMK_SSH_FXP_REMOVE 13
#define AMK_SSH_FXP_MKDIR 14
#define AMK_SSH_FXP_RMDIR 15
#define AMK_SSH_FXP_REALPATH 16
#define AMK_SSH_FXP_STAT 17
#define AMK_SSH_FXP_RENAME 18
#define AMK_SSH_FXP_READLINK 19
#define AMK_SSH_FXP_SYMLINK 20
#define AMK_SSH_FXP_STATUS 101
#define AMK_SSH_FXP_HANDLE 102
#define AMK_SSH_FXP_DATA 103
#define AMK_SSH_FXP_NAME 104
#define AMK_SSH_FXP_ATTRS 105
#define AMK_SSH_FXP_EXTENDED 200
#define AMK_SSH_FXP_EXTENDED_REPLY 201

/* Limits. A packet body (type onwards) is at most AMK_SFTP_PACKET_MAX: the
 * largest DATA OpenSSH sends (256 KiB messages) plus headroom. */
#define AMK_SFTP_PACKET_MAX ((size_t)256 * 1024 + 1024)
#define AMK_SFTP_HANDLE_MAX 256          /* draft-02 §3: "MUST NOT be longer than 256 bytes" */
#define AMK_SFTP_EXT_MAX 64              /* extension pairs kept from VERSION */
#define AMK_SFTP_ATTR_EXT_MAX 1024       /* extended pairs in one attrs */
/* The smallest NAME entry: empty filename and longname, flags 0. */
#define AMK_SFTP_NAME_MIN_BYTES 12

/* One extension pair (VERSION, or an attrs' extended_type/extended_data). */
struct amk_sftp_ext_pair {
    char *name;
    uint8_t *data;
    size_t data_len;
};

/* A decoded reply. Which fields are set depends on type. Owns its memory:
 * amk_sftp_reply_clear(). */
struct amk_sftp_reply {
    uint8_t type;
    uint32_t id;
    /* STATUS (§7) */
    uint32_t status;
    char *message;             /* sanitised for display */
    char *lang;
    /* HANDLE (§7) */
    uint8_t handle[AMK_SFTP_HANDLE_MAX];
    size_t handle_len;
    /* DATA (§7): data_len bytes at data */
    uint8_t *data;
    size_t data_len;
    /* NAME (§7) */
    struct amk_sftp_name *names;
    size_t count;
    /* ATTRS (§7) */
    struct amk_sftp_attrs attrs;
    /* EXTENDED_REPLY (§8): the reply's data after the id */
    uint8_t *ext;
    size_t ext_len;
    /* Not on the wire: when the client engine had it whole, on its
     * caller's clock (amk_sftpc_set_time()); 0 from the decoder. */
    double arrived;
};

void amk_sftp_reply_clear(struct amk_sftp_reply *r);

/* The server's VERSION: its version and extension pairs. */
struct amk_sftp_version {
    uint32_t version;
    struct amk_sftp_ext_pair ext[AMK_SFTP_EXT_MAX];
    size_t n_ext;
};
void amk_sftp_version_clear(struct amk_sftp_version *v);

/* --- Encoding (each appends one whole packet to @p out) ------------ */

int amk_sftp_enc_init(struct amk_buf *out, uint32_t version) AMK_SFTP_MUST_CHECK;
/* Requests naming one path: LSTAT, STAT, OPENDIR, REMOVE, RMDIR, REALPATH,
 * READLINK (AMK_EINVAL for another type). */
int amk_sftp_enc_path(struct amk_buf *out, uint8_t type, uint32_t id, const char *path)
    AMK_SFTP_MUST_CHECK;
/* Requests naming one handle: CLOSE, FSTAT, READDIR. */
int amk_sftp_enc_handle(struct amk_buf *out, uint8_t type, uint32_t id, const uint8_t *handle,
    size_t handle_len) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_open(struct amk_buf *out, uint32_t id, const char *path, uint32_t pflags,
    const struct amk_sftp_attrs *attrs) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_read(struct amk_buf *out, uint32_t id, const uint8_t *handle, size_t handle_len,
    uint64_t offset, uint32_t len) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_write(struct amk_buf *out, uint32_t id, const uint8_t *handle, size_t handle_len,
    uint64_t offset, const void *data, size_t len) AMK_SFTP_MUST_CHECK;
/*
 * WRITE in two steps, so the data is read straight into @p out (no copy):
 * _begin reserves room for @p cap data bytes and gives where they go
 * (*@p p) and the packet's start (*@p start); _end trims to @p got
 * (<= cap) bytes and fills in the lengths (@p handle_len as given to
 * _begin). Nothing may be appended to or consumed from @p out in between.
 */
int amk_sftp_enc_write_begin(struct amk_buf *out, uint32_t id, const uint8_t *handle,
    size_t handle_len, uint64_t offset, size_t cap, uint8_t **p, size_t *start)
    AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_write_end(struct amk_buf *out, size_t start, size_t handle_len, size_t cap,
    size_t got) AMK_SFTP_MUST_CHECK;
/* SETSTAT and MKDIR (a path and attrs). */
int amk_sftp_enc_path_attrs(struct amk_buf *out, uint8_t type, uint32_t id, const char *path,
    const struct amk_sftp_attrs *attrs) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_fsetstat(struct amk_buf *out, uint32_t id, const uint8_t *handle,
    size_t handle_len, const struct amk_sftp_attrs *attrs) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_rename(struct amk_buf *out, uint32_t id, const char *oldpath,
    const char *newpath) AMK_SFTP_MUST_CHECK;
/* SYMLINK creating @p linkpath pointing at @p targetpath. With
 * @p openssh_order the fields go target first (OpenSSH PROTOCOL §4.1:
 * its server reads them reversed), else as the draft says (linkpath first). */
int amk_sftp_enc_symlink(struct amk_buf *out, uint32_t id, const char *linkpath,
    const char *targetpath, int openssh_order) AMK_SFTP_MUST_CHECK;
/* EXTENDED @p name with @p data (already encoded fields; may be NULL/0). */
int amk_sftp_enc_extended(struct amk_buf *out, uint32_t id, const char *name,
    const uint8_t *data, size_t len) AMK_SFTP_MUST_CHECK;

/* Attributes, draft-02 §5 (also used to build extension requests). */
int amk_sftp_enc_attrs(struct amk_buf *out, const struct amk_sftp_attrs *attrs)
    AMK_SFTP_MUST_CHECK;
/*
 * Reads attributes. @p ext (may be NULL) receives the extended pairs
 * (allocated, *@p n_ext of them; free with amk_sftp_ext_pairs_free());
 * without it they are checked and skipped. attrs->extended_count is set
 * either way.
 */
int amk_sftp_dec_attrs(struct amk_buf *in, struct amk_sftp_attrs *attrs,
    struct amk_sftp_ext_pair **ext, size_t *n_ext) AMK_SFTP_MUST_CHECK;
void amk_sftp_ext_pairs_free(struct amk_sftp_ext_pair *ext, size_t n);

/* --- Decoding ------------------------------------------------------ */

/* A VERSION packet body (type byte first). AMK_EPROTO for another type;
 * AMK_ELIMIT beyond AMK_SFTP_EXT_MAX pairs. */
int amk_sftp_dec_version(const uint8_t *body, size_t len, struct amk_sftp_version *v)
    AMK_SFTP_MUST_CHECK;
/* A reply packet body (type byte first): STATUS, HANDLE, DATA, NAME,
 * ATTRS or EXTENDED_REPLY. AMK_EPROTO for any other type. *@p r is
 * cleared first and on failure. */
int amk_sftp_dec_reply(const uint8_t *body, size_t len, struct amk_sftp_reply *r)
    AMK_SFTP_MUST_CHECK;

/* The amiko code for an SSH_FX_* status (draft-02 §7): AMK_OK for OK,
 * AMK_ECLOSED for EOF and lost connections, AMK_ENOENT, AMK_EACCES,
 * AMK_EREMOTE for FAILURE and unknown codes, AMK_EPROTO for BAD_MESSAGE,
 * AMK_ENOTSUP for OP_UNSUPPORTED. */
int amk_sftp_status_to_err(uint32_t status);
/* The status code's name, e.g. "SSH_FX_NO_SUCH_FILE". */
const char *amk_sftp_status_name(uint32_t status);

/* statvfs@openssh.com reply body (after the id). */
int amk_sftp_dec_statvfs(const uint8_t *p, size_t len, struct amk_sftp_statvfs *st)
    AMK_SFTP_MUST_CHECK;
/* limits@openssh.com reply body (after the id). */
struct amk_sftp_limits {
    uint64_t max_packet, max_read, max_write, max_handles;
};
int amk_sftp_dec_limits(const uint8_t *p, size_t len, struct amk_sftp_limits *l)
    AMK_SFTP_MUST_CHECK;

/* --- Server side: decoding requests, encoding replies -------------- */

/* SSH_FX_* status codes, draft-ietf-secsh-filexfer-02 §7. */
#define AMK_SSH_FX_OK 0
#define AMK_SSH_FX_EOF 1
#define AMK_SSH_FX_NO_SUCH_FILE 2
#define AMK_SSH_FX_PERMISSION_DENIED 3
#define AMK_SSH_FX_FAILURE 4
#define AMK_SSH_FX_BAD_MESSAGE 5
#define AMK_SSH_FX_OP_UNSUPPORTED 8

/*
 * A decoded request: views into the packet body it was decoded from
 * (valid while that is), no allocation. Which fields are set depends on
 * the type (draft-02 §6):
 *  INIT: version; OPEN: path, pflags, attrs; CLOSE/FSTAT/READDIR: handle;
 *  READ: handle, offset, len; WRITE: handle, offset, data;
 *  LSTAT/STAT/OPENDIR/REMOVE/RMDIR/REALPATH/READLINK: path;
 *  SETSTAT/MKDIR: path, attrs; FSETSTAT: handle, attrs;
 *  RENAME/SYMLINK: path, path2 (in wire order);
 *  EXTENDED: ext_name, data (the request-specific rest).
 * Strings are not NUL-terminated; paths may hold any byte but NUL.
 */
struct amk_sftp_request {
    uint8_t type;
    uint32_t id;                /* INIT has none: its version */
    uint32_t version;
    const uint8_t *path, *path2;
    size_t path_len, path2_len;
    const uint8_t *handle;
    size_t handle_len;
    uint64_t offset;
    uint32_t len;
    uint32_t pflags;
    const uint8_t *data;
    size_t data_len;
    struct amk_sftp_attrs attrs;
    const uint8_t *ext_name;
    size_t ext_name_len;
};

/*
 * Decodes one request packet body (type first, without the length).
 * Every field is checked and the body must be used up (EXTENDED's data
 * is the rest). AMK_ETRUNCATED, AMK_EFORMAT (trailing data, a NUL in a
 * path, unknown attribute flags, a handle longer than 256 bytes),
 * AMK_ELIMIT (too many extended attribute pairs). An unknown type is
 * AMK_ENOTSUP with type and id set (when the body holds an id), so the
 * caller can answer OP_UNSUPPORTED.
 */
int amk_sftp_dec_request(const uint8_t *body, size_t len, struct amk_sftp_request *req)
    AMK_SFTP_MUST_CHECK;

/* VERSION 3 with @p n extension pairs (name, data as text). */
int amk_sftp_enc_version(struct amk_buf *out, const char *const *names,
    const char *const *data, size_t n) AMK_SFTP_MUST_CHECK;
/* STATUS with @p msg (may be NULL: "") and language "". */
int amk_sftp_enc_status(struct amk_buf *out, uint32_t id, uint32_t code, const char *msg)
    AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_handle_reply(struct amk_buf *out, uint32_t id, const uint8_t *handle,
    size_t len) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_attrs_reply(struct amk_buf *out, uint32_t id,
    const struct amk_sftp_attrs *attrs) AMK_SFTP_MUST_CHECK;
/* EXTENDED_REPLY: the id then @p len bytes of request-specific data. */
int amk_sftp_enc_ext_reply(struct amk_buf *out, uint32_t id, const uint8_t *data, size_t len)
    AMK_SFTP_MUST_CHECK;
/*
 * DATA in two steps, so the payload is read straight into @p out:
 * _begin reserves room for @p cap payload bytes and gives where they go
 * (*@p p) and the packet's start (*@p start); _end trims to @p got
 * (<= cap) bytes and fills in the lengths. Nothing may be appended to
 * @p out in between.
 */
int amk_sftp_enc_data_begin(struct amk_buf *out, uint32_t id, size_t cap, uint8_t **p,
    size_t *start) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_data_end(struct amk_buf *out, size_t start, size_t cap, size_t got)
    AMK_SFTP_MUST_CHECK;
/* NAME in steps: _begin, then _add per entry, then _end with the count.
 * On failure of any step call amk_sftp_enc_abort(out, start). */
int amk_sftp_enc_name_begin(struct amk_buf *out, uint32_t id, size_t *start)
    AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_name_add(struct amk_buf *out, const char *filename, const char *longname,
    const struct amk_sftp_attrs *attrs) AMK_SFTP_MUST_CHECK;
int amk_sftp_enc_name_end(struct amk_buf *out, size_t start, uint32_t count)
    AMK_SFTP_MUST_CHECK;
/* Removes a packet begun at @p start (a failed multi-step encoding). */
void amk_sftp_enc_abort(struct amk_buf *out, size_t start);

#endif
