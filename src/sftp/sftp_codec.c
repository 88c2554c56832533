/* SFTP v3 wire codec; see sftp_codec.h. */
#include "sftp/sftp_codec.h"

#include <stdlib.h>
#include <string.h>

#include "util/sanitize.h"

/* SSH_FX_* status codes, draft-ietf-secsh-filexfer-02 §7. */
#define FX_OK 0
#define FX_EOF 1
#define FX_NO_SUCH_FILE 2
#define FX_PERMISSION_DENIED 3
#define FX_FAILURE 4
#define FX_BAD_MESSAGE 5
#define FX_NO_CONNECTION 6
#define FX_CONNECTION_LOST 7
#define FX_OP_UNSUPPORTED 8

/* Attribute flags we know; others make the attrs unreadable (§5: the
 * layout depends on every flag). */
#define ATTR_KNOWN (AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_UIDGID | AMK_SFTP_ATTR_PERMISSIONS | \
    AMK_SFTP_ATTR_ACMODTIME | AMK_SFTP_ATTR_EXTENDED)

/* Starts a packet: a length placeholder, the type and (unless INIT) the id.
 * *@p start gets the offset of the length field within @p out's data. */
static int
pkt_begin(struct amk_buf *out, uint8_t type, uint32_t id, int with_id, size_t *start)
{
    int r;

    *start = amk_buf_len(out);
    if ((r = amk_buf_put_u32(out, 0)) != AMK_OK ||
        (r = amk_buf_put_u8(out, type)) != AMK_OK)
        return r;
    if (with_id && (r = amk_buf_put_u32(out, id)) != AMK_OK)
        return r;
    return AMK_OK;
}

/* Fills in the length of the packet begun at @p start; on failure removes
 * what was appended, so @p out is as before. */
static int
pkt_end(struct amk_buf *out, size_t start, int r)
{
    size_t body;

    if (r == AMK_OK) {
        body = amk_buf_len(out) - start - 4;
        if (body > AMK_SFTP_PACKET_MAX)
            r = AMK_ETOOBIG;
        else
            r = amk_buf_poke_u32(out, start, (uint32_t)body);
    }
    if (r != AMK_OK && amk_buf_len(out) >= start &&
        amk_buf_consume_end(out, amk_buf_len(out) - start) != AMK_OK)
        r = AMK_EINTERNAL;
    return r;
}

static int
put_handle(struct amk_buf *out, const uint8_t *handle, size_t len)
{
    if (handle == NULL || len == 0 || len > AMK_SFTP_HANDLE_MAX)
        return AMK_EINVAL;
    return amk_buf_put_string(out, handle, len);
}

int
amk_sftp_enc_init(struct amk_buf *out, uint32_t version)
{
    size_t st;
    int r;

    /* §4: SSH_FXP_INIT carries the version and no request id. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_INIT, 0, 0, &st)) == AMK_OK)
        r = amk_buf_put_u32(out, version);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_path(struct amk_buf *out, uint8_t type, uint32_t id, const char *path)
{
    size_t st;
    int r;

    switch (type) {
    case AMK_SSH_FXP_LSTAT: case AMK_SSH_FXP_STAT: case AMK_SSH_FXP_OPENDIR:
    case AMK_SSH_FXP_REMOVE: case AMK_SSH_FXP_RMDIR: case AMK_SSH_FXP_REALPATH:
    case AMK_SSH_FXP_READLINK:
        break;
    default:
        return AMK_EINVAL;
    }
    if (path == NULL)
        return AMK_EINVAL;
    if ((r = pkt_begin(out, type, id, 1, &st)) == AMK_OK)
        r = amk_buf_put_cstring(out, path);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_handle(struct amk_buf *out, uint8_t type, uint32_t id, const uint8_t *handle,
    size_t handle_len)
{
    size_t st;
    int r;

    if (type != AMK_SSH_FXP_CLOSE && type != AMK_SSH_FXP_FSTAT && type != AMK_SSH_FXP_READDIR)
        return AMK_EINVAL;
    if (handle == NULL || handle_len == 0 || handle_len > AMK_SFTP_HANDLE_MAX)
        return AMK_EINVAL;
    if ((r = pkt_begin(out, type, id, 1, &st)) == AMK_OK)
        r = put_handle(out, handle, handle_len);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_attrs(struct amk_buf *out, const struct amk_sftp_attrs *a)
{
    uint32_t flags;
    int r;

    /* §5: the fields present follow the flags, in this order. We never
     * send extended pairs, so the EXTENDED bit is dropped. */
    flags = a == NULL ? 0 : (a->flags & ATTR_KNOWN & ~AMK_SFTP_ATTR_EXTENDED);
    if ((r = amk_buf_put_u32(out, flags)) != AMK_OK)
        return r;
    if ((flags & AMK_SFTP_ATTR_SIZE) && (r = amk_buf_put_u64(out, a->size)) != AMK_OK)
        return r;
    if ((flags & AMK_SFTP_ATTR_UIDGID) &&
        ((r = amk_buf_put_u32(out, a->uid)) != AMK_OK ||
         (r = amk_buf_put_u32(out, a->gid)) != AMK_OK))
        return r;
    if ((flags & AMK_SFTP_ATTR_PERMISSIONS) &&
        (r = amk_buf_put_u32(out, a->permissions)) != AMK_OK)
        return r;
    if ((flags & AMK_SFTP_ATTR_ACMODTIME) &&
        ((r = amk_buf_put_u32(out, a->atime)) != AMK_OK ||
         (r = amk_buf_put_u32(out, a->mtime)) != AMK_OK))
        return r;
    return AMK_OK;
}

int
amk_sftp_enc_open(struct amk_buf *out, uint32_t id, const char *path, uint32_t pflags,
    const struct amk_sftp_attrs *attrs)
{
    size_t st;
    int r;

    if (path == NULL)
        return AMK_EINVAL;
    /* §6.3: filename, pflags, attrs. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_OPEN, id, 1, &st)) == AMK_OK &&
        (r = amk_buf_put_cstring(out, path)) == AMK_OK &&
        (r = amk_buf_put_u32(out, pflags)) == AMK_OK)
        r = amk_sftp_enc_attrs(out, attrs);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_read(struct amk_buf *out, uint32_t id, const uint8_t *handle, size_t handle_len,
    uint64_t offset, uint32_t len)
{
    size_t st;
    int r;

    /* §6.4: handle, uint64 offset, uint32 len. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_READ, id, 1, &st)) == AMK_OK &&
        (r = put_handle(out, handle, handle_len)) == AMK_OK &&
        (r = amk_buf_put_u64(out, offset)) == AMK_OK)
        r = amk_buf_put_u32(out, len);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_write(struct amk_buf *out, uint32_t id, const uint8_t *handle, size_t handle_len,
    uint64_t offset, const void *data, size_t len)
{
    size_t st;
    int r;

    if (data == NULL && len > 0)
        return AMK_EINVAL;
    if (len > AMK_SFTP_PACKET_MAX)
        return AMK_ETOOBIG;
    /* §6.4: handle, uint64 offset, string data. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_WRITE, id, 1, &st)) == AMK_OK &&
        (r = put_handle(out, handle, handle_len)) == AMK_OK &&
        (r = amk_buf_put_u64(out, offset)) == AMK_OK)
        r = amk_buf_put_string(out, data, len);
    return pkt_end(out, st, r);
}

/* WRITE in two steps, so the data is read straight into @p out; see
 * sftp_codec.h. The string's length sits at start + 4 + 1 + 4 + 4 +
 * handle_len + 8. */
int
amk_sftp_enc_write_begin(struct amk_buf *out, uint32_t id, const uint8_t *handle,
    size_t handle_len, uint64_t offset, size_t cap, uint8_t **p, size_t *start)
{
    int r;

    *p = NULL;
    if (cap > AMK_SFTP_PACKET_MAX - 1024)
        return AMK_ETOOBIG;
    /* §6.4: handle, uint64 offset, string data (length filled in by _end). */
    if ((r = pkt_begin(out, AMK_SSH_FXP_WRITE, id, 1, start)) != AMK_OK ||
        (r = put_handle(out, handle, handle_len)) != AMK_OK ||
        (r = amk_buf_put_u64(out, offset)) != AMK_OK ||
        (r = amk_buf_put_u32(out, 0)) != AMK_OK ||
        (r = amk_buf_reserve(out, cap, p)) != AMK_OK) {
        *p = NULL;
        return pkt_end(out, *start, r);
    }
    return AMK_OK;
}

int
amk_sftp_enc_write_end(struct amk_buf *out, size_t start, size_t handle_len, size_t cap,
    size_t got)
{
    size_t len_at = start + 4 + 1 + 4 + 4 + handle_len + 8;
    int r;

    if (got > cap || amk_buf_len(out) < len_at + 4 + cap) {
        amk_sftp_enc_abort(out, start);
        return AMK_EINVAL;
    }
    if ((r = amk_buf_consume_end(out, cap - got)) == AMK_OK)
        r = amk_buf_poke_u32(out, len_at, (uint32_t)got);
    return pkt_end(out, start, r);
}

int
amk_sftp_enc_path_attrs(struct amk_buf *out, uint8_t type, uint32_t id, const char *path,
    const struct amk_sftp_attrs *attrs)
{
    size_t st;
    int r;

    if ((type != AMK_SSH_FXP_SETSTAT && type != AMK_SSH_FXP_MKDIR) || path == NULL)
        return AMK_EINVAL;
    /* §6.6 MKDIR, §6.9 SETSTAT: path, attrs. */
    if ((r = pkt_begin(out, type, id, 1, &st)) == AMK_OK &&
        (r = amk_buf_put_cstring(out, path)) == AMK_OK)
        r = amk_sftp_enc_attrs(out, attrs);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_fsetstat(struct amk_buf *out, uint32_t id, const uint8_t *handle,
    size_t handle_len, const struct amk_sftp_attrs *attrs)
{
    size_t st;
    int r;

    if ((r = pkt_begin(out, AMK_SSH_FXP_FSETSTAT, id, 1, &st)) == AMK_OK &&
        (r = put_handle(out, handle, handle_len)) == AMK_OK)
        r = amk_sftp_enc_attrs(out, attrs);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_rename(struct amk_buf *out, uint32_t id, const char *oldpath, const char *newpath)
{
    size_t st;
    int r;

    if (oldpath == NULL || newpath == NULL)
        return AMK_EINVAL;
    if ((r = pkt_begin(out, AMK_SSH_FXP_RENAME, id, 1, &st)) == AMK_OK &&
        (r = amk_buf_put_cstring(out, oldpath)) == AMK_OK)
        r = amk_buf_put_cstring(out, newpath);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_symlink(struct amk_buf *out, uint32_t id, const char *linkpath,
    const char *targetpath, int openssh_order)
{
    size_t st;
    int r;

    if (linkpath == NULL || targetpath == NULL)
        return AMK_EINVAL;
    /* draft-02 §6.10: linkpath, targetpath. OpenSSH PROTOCOL §4.1: its
     * sftp-server takes them reversed, and clients send target first. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_SYMLINK, id, 1, &st)) == AMK_OK &&
        (r = amk_buf_put_cstring(out, openssh_order ? targetpath : linkpath)) == AMK_OK)
        r = amk_buf_put_cstring(out, openssh_order ? linkpath : targetpath);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_extended(struct amk_buf *out, uint32_t id, const char *name, const uint8_t *data,
    size_t len)
{
    size_t st;
    int r;

    if (name == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    /* §8: extended-request name, then request-specific data. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_EXTENDED, id, 1, &st)) == AMK_OK &&
        (r = amk_buf_put_cstring(out, name)) == AMK_OK && len > 0)
        r = amk_buf_put(out, data, len);
    return pkt_end(out, st, r);
}

void
amk_sftp_ext_pairs_free(struct amk_sftp_ext_pair *ext, size_t n)
{
    if (ext == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(ext[i].name);
        free(ext[i].data);
    }
    free(ext);
}

int
amk_sftp_dec_attrs(struct amk_buf *in, struct amk_sftp_attrs *a,
    struct amk_sftp_ext_pair **ext, size_t *n_ext)
{
    struct amk_sftp_ext_pair *pairs = NULL;
    uint32_t flags, count = 0;
    size_t n = 0;
    int r = AMK_EINTERNAL;

    memset(a, 0, sizeof(*a));
    if (ext != NULL)
        *ext = NULL;
    if (n_ext != NULL)
        *n_ext = 0;
    if ((r = amk_buf_get_u32(in, &flags)) != AMK_OK)
        goto out;
    /* §5: an unknown flag means fields we cannot skip. */
    if ((flags & ~ATTR_KNOWN) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    a->flags = flags;
    if ((flags & AMK_SFTP_ATTR_SIZE) && (r = amk_buf_get_u64(in, &a->size)) != AMK_OK)
        goto out;
    if ((flags & AMK_SFTP_ATTR_UIDGID) &&
        ((r = amk_buf_get_u32(in, &a->uid)) != AMK_OK ||
         (r = amk_buf_get_u32(in, &a->gid)) != AMK_OK))
        goto out;
    if ((flags & AMK_SFTP_ATTR_PERMISSIONS) &&
        (r = amk_buf_get_u32(in, &a->permissions)) != AMK_OK)
        goto out;
    if ((flags & AMK_SFTP_ATTR_ACMODTIME) &&
        ((r = amk_buf_get_u32(in, &a->atime)) != AMK_OK ||
         (r = amk_buf_get_u32(in, &a->mtime)) != AMK_OK))
        goto out;
    if (flags & AMK_SFTP_ATTR_EXTENDED) {
        if ((r = amk_buf_get_u32(in, &count)) != AMK_OK)
            goto out;
        /* each pair needs two string lengths at least */
        if (count > amk_buf_len(in) / 8) {
            r = AMK_EFORMAT;
            goto out;
        }
        if (count > AMK_SFTP_ATTR_EXT_MAX) {
            r = AMK_ELIMIT;
            goto out;
        }
        if (ext != NULL && count > 0 && (pairs = calloc(count, sizeof(*pairs))) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        for (n = 0; n < count; n++) {
            if (pairs == NULL) {
                if ((r = amk_buf_skip_string(in)) != AMK_OK ||
                    (r = amk_buf_skip_string(in)) != AMK_OK)
                    goto out;
                continue;
            }
            if ((r = amk_buf_get_cstring(in, &pairs[n].name, NULL)) != AMK_OK ||
                (r = amk_buf_get_string(in, &pairs[n].data, &pairs[n].data_len)) != AMK_OK)
                goto out;
        }
        a->extended_count = count;
    }
    if (ext != NULL) {
        *ext = pairs;
        *n_ext = count;
        pairs = NULL;
    }
    r = AMK_OK;
out:
    amk_sftp_ext_pairs_free(pairs, count);
    if (r != AMK_OK)
        memset(a, 0, sizeof(*a));
    return r;
}

void
amk_sftp_version_clear(struct amk_sftp_version *v)
{
    for (size_t i = 0; i < v->n_ext; i++) {
        free(v->ext[i].name);
        free(v->ext[i].data);
    }
    memset(v, 0, sizeof(*v));
}

int
amk_sftp_dec_version(const uint8_t *body, size_t len, struct amk_sftp_version *v)
{
    struct amk_buf in;
    uint8_t type;
    int r = AMK_EINTERNAL;

    memset(v, 0, sizeof(*v));
    amk_buf_view(&in, body, len);
    if ((r = amk_buf_get_u8(&in, &type)) != AMK_OK)
        goto out;
    if (type != AMK_SSH_FXP_VERSION) {
        r = AMK_EPROTO;
        goto out;
    }
    /* §4: uint32 version, then extension-name / extension-data pairs to
     * the end of the packet. */
    if ((r = amk_buf_get_u32(&in, &v->version)) != AMK_OK)
        goto out;
    while (amk_buf_len(&in) > 0) {
        struct amk_sftp_ext_pair *e;

        if (v->n_ext == AMK_SFTP_EXT_MAX) {
            r = AMK_ELIMIT;
            goto out;
        }
        e = &v->ext[v->n_ext];
        if ((r = amk_buf_get_cstring(&in, &e->name, NULL)) != AMK_OK)
            goto out;
        if ((r = amk_buf_get_string(&in, &e->data, &e->data_len)) != AMK_OK) {
            free(e->name);
            e->name = NULL;
            goto out;
        }
        v->n_ext++;
    }
    r = AMK_OK;
out:
    if (r != AMK_OK)
        amk_sftp_version_clear(v);
    return r;
}

void
amk_sftp_reply_clear(struct amk_sftp_reply *r)
{
    free(r->message);
    free(r->lang);
    free(r->data);
    amk_sftp_names_free(r->names, r->count);
    free(r->ext);
    memset(r, 0, sizeof(*r));
}

void
amk_sftp_names_free(struct amk_sftp_name *names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(names[i].filename);
        free(names[i].longname);
    }
    free(names);
}

static int
dec_status(struct amk_buf *in, struct amk_sftp_reply *rep)
{
    const uint8_t *p;
    size_t len;
    int r;

    /* §7: error/status code, then (not sent by some old servers) an
     * ISO-10646 message and a language tag. */
    if ((r = amk_buf_get_u32(in, &rep->status)) != AMK_OK)
        return r;
    if (amk_buf_len(in) == 0)
        return AMK_OK;
    if ((r = amk_buf_get_string_direct(in, &p, &len)) != AMK_OK ||
        (r = amk_text_sanitize(p, len, &rep->message, NULL)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_string_direct(in, &p, &len)) != AMK_OK ||
        (r = amk_text_sanitize(p, len, &rep->lang, NULL)) != AMK_OK)
        return r;
    return AMK_OK;
}

static int
dec_name(struct amk_buf *in, struct amk_sftp_reply *rep)
{
    uint32_t count;
    int r;

    /* §7: uint32 count, then count of (filename, longname, attrs). */
    if ((r = amk_buf_get_u32(in, &count)) != AMK_OK)
        return r;
    if (count > amk_buf_len(in) / AMK_SFTP_NAME_MIN_BYTES)
        return AMK_EFORMAT;
    if (count == 0)
        return AMK_OK;
    if ((rep->names = calloc(count, sizeof(*rep->names))) == NULL)
        return AMK_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        struct amk_sftp_name *nm = &rep->names[i];

        rep->count = i + 1;
        if ((r = amk_buf_get_cstring(in, &nm->filename, NULL)) != AMK_OK ||
            (r = amk_buf_get_cstring(in, &nm->longname, NULL)) != AMK_OK ||
            (r = amk_sftp_dec_attrs(in, &nm->attrs, NULL, NULL)) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

int
amk_sftp_dec_reply(const uint8_t *body, size_t len, struct amk_sftp_reply *rep)
{
    struct amk_buf in;
    const uint8_t *p;
    size_t n;
    int r = AMK_EINTERNAL;

    memset(rep, 0, sizeof(*rep));
    amk_buf_view(&in, body, len);
    if ((r = amk_buf_get_u8(&in, &rep->type)) != AMK_OK ||
        (r = amk_buf_get_u32(&in, &rep->id)) != AMK_OK)
        goto out;
    switch (rep->type) {
    case AMK_SSH_FXP_STATUS:
        r = dec_status(&in, rep);
        break;
    case AMK_SSH_FXP_HANDLE:
        if ((r = amk_buf_get_string_direct(&in, &p, &n)) != AMK_OK)
            break;
        /* §3: handles are at most 256 bytes; an empty one is useless. */
        if (n > AMK_SFTP_HANDLE_MAX) {
            r = AMK_ETOOBIG;
            break;
        }
        if (n == 0) {
            r = AMK_EFORMAT;
            break;
        }
        memcpy(rep->handle, p, n);
        rep->handle_len = n;
        break;
    case AMK_SSH_FXP_DATA:
        if ((r = amk_buf_get_string_direct(&in, &p, &n)) != AMK_OK)
            break;
        if (n > 0) {
            if ((rep->data = malloc(n)) == NULL) {
                r = AMK_ENOMEM;
                break;
            }
            memcpy(rep->data, p, n);
        }
        rep->data_len = n;
        break;
    case AMK_SSH_FXP_NAME:
        r = dec_name(&in, rep);
        break;
    case AMK_SSH_FXP_ATTRS:
        r = amk_sftp_dec_attrs(&in, &rep->attrs, NULL, NULL);
        break;
    case AMK_SSH_FXP_EXTENDED_REPLY:
        /* §8: the rest is request-specific. */
        n = amk_buf_len(&in);
        if (n > 0) {
            if ((rep->ext = malloc(n)) == NULL) {
                r = AMK_ENOMEM;
                break;
            }
            memcpy(rep->ext, amk_buf_ptr(&in), n);
        }
        rep->ext_len = n;
        r = amk_buf_consume(&in, n);
        break;
    default:
        r = AMK_EPROTO;
        break;
    }
    if (r == AMK_OK)
        r = amk_buf_get_end(&in);
out:
    if (r != AMK_OK)
        amk_sftp_reply_clear(rep);
    return r;
}

int
amk_sftp_status_to_err(uint32_t status)
{
    switch (status) {
    case FX_OK: return AMK_OK;
    case FX_EOF: return AMK_ECLOSED;
    case FX_NO_SUCH_FILE: return AMK_ENOENT;
    case FX_PERMISSION_DENIED: return AMK_EACCES;
    /* the server's word that it could not parse one request: a refusal
     * of it, not a broken stream (AMK_EPROTO is fatal in amiko/sftp.h) */
    case FX_BAD_MESSAGE: return AMK_EREMOTE;
    case FX_NO_CONNECTION: return AMK_ECLOSED;
    case FX_CONNECTION_LOST: return AMK_ECLOSED;
    case FX_OP_UNSUPPORTED: return AMK_ENOTSUP;
    case FX_FAILURE:
    default:
        return AMK_EREMOTE;
    }
}

const char *
amk_sftp_status_name(uint32_t status)
{
    static const char *const NAMES[] = {
        "SSH_FX_OK", "SSH_FX_EOF", "SSH_FX_NO_SUCH_FILE", "SSH_FX_PERMISSION_DENIED",
        "SSH_FX_FAILURE", "SSH_FX_BAD_MESSAGE", "SSH_FX_NO_CONNECTION",
        "SSH_FX_CONNECTION_LOST", "SSH_FX_OP_UNSUPPORTED",
    };
    return status < sizeof(NAMES) / sizeof(NAMES[0]) ? NAMES[status] : "SSH_FX_(unknown)";
}

int
amk_sftp_dec_statvfs(const uint8_t *p, size_t len, struct amk_sftp_statvfs *st)
{
    uint64_t *f[] = { &st->bsize, &st->frsize, &st->blocks, &st->bfree, &st->bavail,
        &st->files, &st->ffree, &st->favail, &st->fsid, &st->flag, &st->namemax };
    struct amk_buf in;
    int r;

    /* OpenSSH PROTOCOL §4.4: eleven uint64 fields. */
    memset(st, 0, sizeof(*st));
    amk_buf_view(&in, p, len);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if ((r = amk_buf_get_u64(&in, f[i])) != AMK_OK)
            return r;
    return amk_buf_get_end(&in);
}

int
amk_sftp_dec_limits(const uint8_t *p, size_t len, struct amk_sftp_limits *l)
{
    struct amk_buf in;
    int r;

    /* OpenSSH PROTOCOL §4.8: max-packet-length, max-read-length,
     * max-write-length, max-open-handles (0 = no limit / unknown). */
    memset(l, 0, sizeof(*l));
    amk_buf_view(&in, p, len);
    if ((r = amk_buf_get_u64(&in, &l->max_packet)) != AMK_OK ||
        (r = amk_buf_get_u64(&in, &l->max_read)) != AMK_OK ||
        (r = amk_buf_get_u64(&in, &l->max_write)) != AMK_OK ||
        (r = amk_buf_get_u64(&in, &l->max_handles)) != AMK_OK)
        return r;
    return amk_buf_get_end(&in);
}

/* --- Server side ---------------------------------------------------- */

/* A path or name string: any bytes but NUL (draft-02 §6: filenames are
 * UTF-8 in v3 practice, but servers pass bytes through). */
static int
get_path(struct amk_buf *in, const uint8_t **p, size_t *len)
{
    int r;

    if ((r = amk_buf_get_string_direct(in, p, len)) != AMK_OK)
        return r;
    if (*len > 0 && memchr(*p, 0, *len) != NULL)
        return AMK_EFORMAT;
    return AMK_OK;
}

static int
get_handle(struct amk_buf *in, const uint8_t **p, size_t *len)
{
    int r;

    if ((r = amk_buf_get_string_direct(in, p, len)) != AMK_OK)
        return r;
    /* §3: "The handle MUST NOT be longer than 256 bytes." */
    return *len > AMK_SFTP_HANDLE_MAX ? AMK_EFORMAT : AMK_OK;
}

int
amk_sftp_dec_request(const uint8_t *body, size_t len, struct amk_sftp_request *q)
{
    struct amk_buf in;
    int r;

    memset(q, 0, sizeof(*q));
    amk_buf_view(&in, body, len);
    if ((r = amk_buf_get_u8(&in, &q->type)) != AMK_OK)
        return r;
    if (q->type == AMK_SSH_FXP_INIT) {
        /* §4: uint32 version; v3 clients send no extension data, later
         * ones may: ignored (the rest of the packet). */
        return amk_buf_get_u32(&in, &q->version);
    }
    if ((r = amk_buf_get_u32(&in, &q->id)) != AMK_OK)
        return r;
    switch (q->type) {
    case AMK_SSH_FXP_OPEN:
        /* §6.3: filename, pflags, attrs */
        if ((r = get_path(&in, &q->path, &q->path_len)) != AMK_OK ||
            (r = amk_buf_get_u32(&in, &q->pflags)) != AMK_OK ||
            (r = amk_sftp_dec_attrs(&in, &q->attrs, NULL, NULL)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_CLOSE: case AMK_SSH_FXP_FSTAT: case AMK_SSH_FXP_READDIR:
        if ((r = get_handle(&in, &q->handle, &q->handle_len)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_READ:
        /* §6.4: handle, uint64 offset, uint32 len */
        if ((r = get_handle(&in, &q->handle, &q->handle_len)) != AMK_OK ||
            (r = amk_buf_get_u64(&in, &q->offset)) != AMK_OK ||
            (r = amk_buf_get_u32(&in, &q->len)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_WRITE:
        /* §6.4: handle, uint64 offset, string data */
        if ((r = get_handle(&in, &q->handle, &q->handle_len)) != AMK_OK ||
            (r = amk_buf_get_u64(&in, &q->offset)) != AMK_OK ||
            (r = amk_buf_get_string_direct(&in, &q->data, &q->data_len)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_LSTAT: case AMK_SSH_FXP_STAT: case AMK_SSH_FXP_OPENDIR:
    case AMK_SSH_FXP_REMOVE: case AMK_SSH_FXP_RMDIR: case AMK_SSH_FXP_REALPATH:
    case AMK_SSH_FXP_READLINK:
        if ((r = get_path(&in, &q->path, &q->path_len)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_SETSTAT: case AMK_SSH_FXP_MKDIR:
        if ((r = get_path(&in, &q->path, &q->path_len)) != AMK_OK ||
            (r = amk_sftp_dec_attrs(&in, &q->attrs, NULL, NULL)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_FSETSTAT:
        if ((r = get_handle(&in, &q->handle, &q->handle_len)) != AMK_OK ||
            (r = amk_sftp_dec_attrs(&in, &q->attrs, NULL, NULL)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_RENAME: case AMK_SSH_FXP_SYMLINK:
        if ((r = get_path(&in, &q->path, &q->path_len)) != AMK_OK ||
            (r = get_path(&in, &q->path2, &q->path2_len)) != AMK_OK)
            return r;
        break;
    case AMK_SSH_FXP_EXTENDED:
        /* §8: extended-request name, then request-specific data */
        if ((r = get_path(&in, &q->ext_name, &q->ext_name_len)) != AMK_OK)
            return r;
        q->data_len = amk_buf_len(&in);
        q->data = q->data_len > 0 ? amk_buf_ptr(&in) : NULL;
        return AMK_OK;
    default:
        return AMK_ENOTSUP;
    }
    return amk_buf_get_end(&in);
}

int
amk_sftp_enc_version(struct amk_buf *out, const char *const *names, const char *const *data,
    size_t n)
{
    size_t st;
    int r;

    /* §4: SSH_FXP_VERSION has no request id: version, then pairs. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_VERSION, 0, 0, &st)) == AMK_OK)
        r = amk_buf_put_u32(out, AMK_SFTP_VERSION);
    for (size_t i = 0; r == AMK_OK && i < n; i++)
        if ((r = amk_buf_put_cstring(out, names[i])) == AMK_OK)
            r = amk_buf_put_cstring(out, data[i]);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_status(struct amk_buf *out, uint32_t id, uint32_t code, const char *msg)
{
    size_t st;
    int r;

    /* §7: code, ISO-10646 UTF-8 message, language tag */
    if ((r = pkt_begin(out, AMK_SSH_FXP_STATUS, id, 1, &st)) == AMK_OK &&
        (r = amk_buf_put_u32(out, code)) == AMK_OK &&
        (r = amk_buf_put_cstring(out, msg != NULL ? msg : "")) == AMK_OK)
        r = amk_buf_put_cstring(out, "");
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_handle_reply(struct amk_buf *out, uint32_t id, const uint8_t *handle, size_t len)
{
    size_t st;
    int r;

    if ((r = pkt_begin(out, AMK_SSH_FXP_HANDLE, id, 1, &st)) == AMK_OK)
        r = put_handle(out, handle, len);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_attrs_reply(struct amk_buf *out, uint32_t id, const struct amk_sftp_attrs *attrs)
{
    size_t st;
    int r;

    if ((r = pkt_begin(out, AMK_SSH_FXP_ATTRS, id, 1, &st)) == AMK_OK)
        r = amk_sftp_enc_attrs(out, attrs);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_ext_reply(struct amk_buf *out, uint32_t id, const uint8_t *data, size_t len)
{
    size_t st;
    int r;

    if (data == NULL && len > 0)
        return AMK_EINVAL;
    if ((r = pkt_begin(out, AMK_SSH_FXP_EXTENDED_REPLY, id, 1, &st)) == AMK_OK && len > 0)
        r = amk_buf_put(out, data, len);
    return pkt_end(out, st, r);
}

int
amk_sftp_enc_data_begin(struct amk_buf *out, uint32_t id, size_t cap, uint8_t **p, size_t *start)
{
    int r;

    *p = NULL;
    if (cap > AMK_SFTP_PACKET_MAX - 9)
        return AMK_ETOOBIG;
    /* §7: SSH_FXP_DATA: id, string data. The string's length is filled
     * in by _end. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_DATA, id, 1, start)) != AMK_OK ||
        (r = amk_buf_put_u32(out, 0)) != AMK_OK ||
        (r = amk_buf_reserve(out, cap, p)) != AMK_OK) {
        *p = NULL;
        return pkt_end(out, *start, r);
    }
    return AMK_OK;
}

int
amk_sftp_enc_data_end(struct amk_buf *out, size_t start, size_t cap, size_t got)
{
    int r;

    if (got > cap || amk_buf_len(out) < start + 13 + cap) {
        amk_sftp_enc_abort(out, start);
        return AMK_EINVAL;
    }
    if ((r = amk_buf_consume_end(out, cap - got)) == AMK_OK)
        r = amk_buf_poke_u32(out, start + 9, (uint32_t)got);
    return pkt_end(out, start, r);
}

int
amk_sftp_enc_name_begin(struct amk_buf *out, uint32_t id, size_t *start)
{
    int r;

    /* §7: SSH_FXP_NAME: id, uint32 count, then the entries. */
    if ((r = pkt_begin(out, AMK_SSH_FXP_NAME, id, 1, start)) == AMK_OK)
        r = amk_buf_put_u32(out, 0);
    if (r != AMK_OK)
        amk_sftp_enc_abort(out, *start);
    return r;
}

int
amk_sftp_enc_name_add(struct amk_buf *out, const char *filename, const char *longname,
    const struct amk_sftp_attrs *attrs)
{
    int r;

    if ((r = amk_buf_put_cstring(out, filename)) != AMK_OK ||
        (r = amk_buf_put_cstring(out, longname)) != AMK_OK)
        return r;
    return amk_sftp_enc_attrs(out, attrs);
}

int
amk_sftp_enc_name_end(struct amk_buf *out, size_t start, uint32_t count)
{
    int r;

    r = amk_buf_poke_u32(out, start + 9, count);
    return pkt_end(out, start, r);
}

void
amk_sftp_enc_abort(struct amk_buf *out, size_t start)
{
    if (amk_buf_len(out) > start)
        (void)pkt_end(out, start, AMK_EINVAL);
}
