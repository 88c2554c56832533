/* SFTP v3 server engine; see sftp_server.h. */
#include "sftp/sftp_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Handle kinds. */
#define H_FREE 0
#define H_FILE 1
#define H_DIR 2

/* Wire handles: uint32 slot, uint32 generation (a stale handle whose slot
 * was reused does not match). */
#define HANDLE_LEN 8

/* Keep a READDIR reply this far below the packet cap before reading
 * another entry, so one more entry always fits. */
#define READDIR_ROOM (4 + AMK_SFTPS_NAME_MAX + 4 + AMK_SFTPS_LONGNAME_MAX + 64)

struct sftps_handle {
    void *obj;
    uint32_t gen;
    uint8_t kind;
};

/* The copy-data in progress: its request id, its handles (slot and the
 * generation it had, checked before each slice) and what is left. */
struct sftps_copy_job {
    int active;
    uint32_t id;
    struct sftps_handle *from, *to;
    uint32_t from_gen, to_gen;
    struct amk_sftps_copy c;
    uint64_t asked;             /* the length asked for (0: to the end) */
    uint64_t start;             /* c.from_off when the request came */
};

struct amk_sftps {
    const struct amk_sftps_fs_ops *ops;
    void *fs;
    int read_only;
    int whole_packets;
    int symlink_linkpath_first;
    size_t out_max;
    uint32_t max_handles;
    uint64_t copy_slice;

    struct amk_buf in;          /* one partial packet (length field included) */
    struct amk_buf out;         /* replies not yet sent */
    struct sftps_handle *handles;
    size_t n_open;
    int started;
    struct sftps_copy_job copy;

    int err;
    char errmsg[256];
    /* NUL-terminated copies of the request's paths */
    char p1[AMK_SFTPS_PATH_MAX + 1];
    char p2[AMK_SFTPS_PATH_MAX + 1];
    char res[AMK_SFTPS_PATH_MAX + 1];
    char res2[AMK_SFTPS_PATH_MAX + 1];
};

static int fail(struct amk_sftps *s, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct amk_sftps *s, int r, const char *fmt, ...)
{
    va_list ap;

    if (s->err != AMK_OK)
        return s->err;
    s->err = r;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    return r;
}

int
amk_sftps_new(struct amk_sftps **out, const struct amk_sftps_fs_ops *ops, void *fs_user,
    const struct amk_sftps_config *cfg)
{
    struct amk_sftps *s = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (ops == NULL || (cfg != NULL && cfg->max_handles > AMK_SFTPS_HANDLES_MAX))
        return AMK_EINVAL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return AMK_ENOMEM;
    s->ops = ops;
    s->fs = fs_user;
    s->read_only = cfg != NULL && cfg->read_only;
    s->whole_packets = cfg != NULL && cfg->whole_packets;
    s->symlink_linkpath_first = cfg != NULL && cfg->symlink_linkpath_first;
    s->out_max = cfg != NULL && cfg->out_max > 0 ? cfg->out_max : AMK_SFTPS_OUT_DEFAULT;
    s->max_handles = cfg != NULL && cfg->max_handles > 0 ? cfg->max_handles :
        AMK_SFTPS_HANDLES_DEFAULT;
    s->copy_slice = cfg != NULL && cfg->copy_slice > 0 ? cfg->copy_slice : AMK_SFTPS_COPY_SLICE;
    amk_buf_init(&s->in);
    amk_buf_init(&s->out);
    if ((r = amk_buf_set_max(&s->in, AMK_SFTP_PACKET_MAX + 4)) != AMK_OK ||
        (r = amk_buf_set_max(&s->out, s->out_max + AMK_SFTP_PACKET_MAX + 4)) != AMK_OK)
        goto out;
    if ((s->handles = calloc(s->max_handles, sizeof(*s->handles))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    *out = s;
    s = NULL;
    r = AMK_OK;
out:
    amk_sftps_free(s);
    return r;
}

void
amk_sftps_free(struct amk_sftps *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; s->handles != NULL && i < s->max_handles; i++) {
        struct sftps_handle *h = &s->handles[i];

        if (h->kind == H_FILE && s->ops->close != NULL)
            (void)s->ops->close(s->fs, h->obj);
        else if (h->kind == H_DIR && s->ops->closedir != NULL)
            (void)s->ops->closedir(s->fs, h->obj);
    }
    free(s->handles);
    /* File data is not secret: plain release is enough, but amk_buf wipes. */
    amk_buf_release(&s->in);
    amk_buf_release(&s->out);
    free(s);
}

const uint8_t *
amk_sftps_output(const struct amk_sftps *s, size_t *len)
{
    *len = amk_buf_len(&s->out);
    return amk_buf_ptr(&s->out);
}

int
amk_sftps_output_consume(struct amk_sftps *s, size_t n)
{
    if (n > amk_buf_len(&s->out))
        return AMK_EINVAL;
    return amk_buf_consume(&s->out, n);
}

int
amk_sftps_wants_output_room(const struct amk_sftps *s)
{
    return amk_buf_len(&s->out) >= s->out_max;
}

int
amk_sftps_busy(const struct amk_sftps *s)
{
    /* a failed engine has nothing in progress: the stream is to close */
    return s->copy.active && s->err == AMK_OK;
}

int
amk_sftps_started(const struct amk_sftps *s)
{
    return s->started;
}

size_t
amk_sftps_handles(const struct amk_sftps *s)
{
    return s->n_open;
}

int
amk_sftps_error(const struct amk_sftps *s)
{
    return s->err;
}

const char *
amk_sftps_last_error(const struct amk_sftps *s)
{
    return s->errmsg;
}

/* --- Replies ----------------------------------------------------------- */

/* A reply that cannot be encoded is a bug or memory exhaustion: fatal. */
static int
reply_done(struct amk_sftps *s, int r)
{
    if (r != AMK_OK)
        return fail(s, r, "cannot encode a reply");
    return AMK_OK;
}

static int
reply_status(struct amk_sftps *s, uint32_t id, uint32_t code, const char *msg)
{
    return reply_done(s, amk_sftp_enc_status(&s->out, id, code, msg));
}

/* The STATUS for a backend's errno value (0: OK). */
static int
reply_errno(struct amk_sftps *s, uint32_t id, int e)
{
    char buf[128];
    const char *msg;
    uint32_t code;

    switch (e) {
    case 0:
        return reply_status(s, id, AMK_SSH_FX_OK, "Success");
    case ENOENT:
        code = AMK_SSH_FX_NO_SUCH_FILE;
        break;
    case EACCES: case EPERM:
        code = AMK_SSH_FX_PERMISSION_DENIED;
        break;
    case ENOSYS: case EOPNOTSUPP:
        code = AMK_SSH_FX_OP_UNSUPPORTED;
        break;
    default:
        code = AMK_SSH_FX_FAILURE;
        break;
    }
    /* GNU strerror_r: returns the message (maybe not in buf). */
    msg = strerror_r(e, buf, sizeof(buf));
    return reply_status(s, id, code, msg);
}

static int
reply_one_name(struct amk_sftps *s, uint32_t id, const char *name)
{
    struct amk_sftp_attrs none = { .flags = 0 };
    size_t st;
    int r;

    /* REALPATH, READLINK and the path extensions: one entry, the name as
     * long name too, no attributes (as OpenSSH's sftp-server). */
    if ((r = amk_sftp_enc_name_begin(&s->out, id, &st)) != AMK_OK)
        return reply_done(s, r);
    if ((r = amk_sftp_enc_name_add(&s->out, name, name, &none)) != AMK_OK) {
        amk_sftp_enc_abort(&s->out, st);
        return reply_done(s, r);
    }
    return reply_done(s, amk_sftp_enc_name_end(&s->out, st, 1));
}

/* --- Paths and handles --------------------------------------------------- */

/* Copies a wire path into @p dst as a C string. 0 or ENAMETOOLONG. An
 * empty path means "." (OpenSSH's client sends "" for the start dir). */
static int
copy_path(char *dst, const uint8_t *p, size_t len)
{
    if (len > AMK_SFTPS_PATH_MAX)
        return ENAMETOOLONG;
    if (len == 0) {
        dst[0] = '.';
        dst[1] = '\0';
        return 0;
    }
    memcpy(dst, p, len);
    dst[len] = '\0';
    return 0;
}

static int
copy_paths(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    int e;

    if ((e = copy_path(s->p1, q->path, q->path_len)) != 0)
        return e;
    if (q->path2 != NULL || q->type == AMK_SSH_FXP_RENAME || q->type == AMK_SSH_FXP_SYMLINK)
        return copy_path(s->p2, q->path2, q->path2_len);
    return 0;
}

static struct sftps_handle *
handle_find(struct amk_sftps *s, const uint8_t *h, size_t len, int kind)
{
    uint32_t slot, gen;

    if (len != HANDLE_LEN)
        return NULL;
    slot = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    gen = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
    if (slot >= s->max_handles || s->handles[slot].kind == H_FREE ||
        s->handles[slot].gen != gen)
        return NULL;
    if (kind != H_FREE && s->handles[slot].kind != kind)
        return NULL;
    return &s->handles[slot];
}

static void
handle_wire(const struct amk_sftps *s, const struct sftps_handle *h, uint8_t out[HANDLE_LEN])
{
    uint32_t slot = (uint32_t)(h - s->handles);

    for (int i = 0; i < 4; i++) {
        out[i] = (uint8_t)(slot >> (24 - 8 * i));
        out[4 + i] = (uint8_t)(h->gen >> (24 - 8 * i));
    }
}

static struct sftps_handle *
handle_free_slot(struct amk_sftps *s)
{
    for (uint32_t i = 0; i < s->max_handles; i++)
        if (s->handles[i].kind == H_FREE)
            return &s->handles[i];
    return NULL;
}

/* Registers @p obj in slot @p h and sends its HANDLE. */
static int
handle_reply(struct amk_sftps *s, uint32_t id, struct sftps_handle *h, void *obj, int kind)
{
    uint8_t wire[HANDLE_LEN];

    h->obj = obj;
    h->kind = (uint8_t)kind;
    h->gen++;
    s->n_open++;
    handle_wire(s, h, wire);
    return reply_done(s, amk_sftp_enc_handle_reply(&s->out, id, wire, sizeof(wire)));
}

static int
reply_bad_handle(struct amk_sftps *s, uint32_t id)
{
    return reply_status(s, id, AMK_SSH_FX_FAILURE, "Invalid handle");
}

static int
reply_read_only(struct amk_sftps *s, uint32_t id)
{
    return reply_status(s, id, AMK_SSH_FX_PERMISSION_DENIED, "Read-only server");
}

static int
reply_unsupported(struct amk_sftps *s, uint32_t id)
{
    return reply_status(s, id, AMK_SSH_FX_OP_UNSUPPORTED, "Operation unsupported");
}

/* --- Requests ------------------------------------------------------------ */

static int
do_init(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    const char *names[16], *data[16];
    const struct amk_sftps_fs_ops *o = s->ops;
    size_t n = 0;

    /* draft-02 §4: the server answers with the lower of the versions; we
     * speak 3 only, as OpenSSH's sftp-server, whatever the client asks. */
    (void)q;
    /* OpenSSH PROTOCOL §4: each extension with its version as text. */
#define EXT(cond, name, ver) do { if (cond) { names[n] = (name); data[n] = (ver); n++; } } while (0)
    EXT(o->rename != NULL, "posix-rename@openssh.com", "1");
    EXT(o->statvfs != NULL, "statvfs@openssh.com", "2");
    EXT(o->fstatvfs != NULL, "fstatvfs@openssh.com", "2");
    EXT(o->hardlink != NULL, "hardlink@openssh.com", "1");
    EXT(o->fsync != NULL, "fsync@openssh.com", "1");
    EXT(o->setstat != NULL, "lsetstat@openssh.com", "1");
    EXT(1, "limits@openssh.com", "1");
    EXT(o->realpath != NULL, "expand-path@openssh.com", "1");
    EXT(o->copy_data != NULL, "copy-data", "1");
    EXT(o->home != NULL, "home-directory", "1");
    EXT(o->user_name != NULL && o->group_name != NULL, "users-groups-by-id@openssh.com", "1");
#undef EXT
    s->started = 1;
    return reply_done(s, amk_sftp_enc_version(&s->out, names, data, n));
}

static int
do_open(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct sftps_handle *h;
    void *obj = NULL;
    int e;

    if (s->ops->open == NULL)
        return reply_unsupported(s, q->id);
    if (s->read_only && (q->pflags & (AMK_SFTP_WRITE | AMK_SFTP_APPEND | AMK_SFTP_CREAT |
        AMK_SFTP_TRUNC | AMK_SFTP_EXCL)) != 0)
        return reply_read_only(s, q->id);
    if ((h = handle_free_slot(s)) == NULL)
        return reply_status(s, q->id, AMK_SSH_FX_FAILURE, "Too many open handles");
    if ((e = copy_paths(s, q)) != 0 ||
        (e = s->ops->open(s->fs, s->p1, q->pflags, &q->attrs, &obj)) != 0)
        return reply_errno(s, q->id, e);
    return handle_reply(s, q->id, h, obj, H_FILE);
}

static int
do_opendir(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct sftps_handle *h;
    void *obj = NULL;
    int e;

    if (s->ops->opendir == NULL || s->ops->readdir == NULL)
        return reply_unsupported(s, q->id);
    if ((h = handle_free_slot(s)) == NULL)
        return reply_status(s, q->id, AMK_SSH_FX_FAILURE, "Too many open handles");
    if ((e = copy_paths(s, q)) != 0 || (e = s->ops->opendir(s->fs, s->p1, &obj)) != 0)
        return reply_errno(s, q->id, e);
    return handle_reply(s, q->id, h, obj, H_DIR);
}

static int
do_close(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct sftps_handle *h;
    int e = 0;

    if ((h = handle_find(s, q->handle, q->handle_len, H_FREE)) == NULL)
        return reply_bad_handle(s, q->id);
    if (h->kind == H_FILE && s->ops->close != NULL)
        e = s->ops->close(s->fs, h->obj);
    else if (h->kind == H_DIR && s->ops->closedir != NULL)
        e = s->ops->closedir(s->fs, h->obj);
    h->kind = H_FREE;
    h->obj = NULL;
    s->n_open--;
    return reply_errno(s, q->id, e);
}

static int
do_read(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct sftps_handle *h;
    size_t len, got = 0, st;
    uint8_t *p;
    int r, e;

    if (s->ops->pread == NULL)
        return reply_unsupported(s, q->id);
    if ((h = handle_find(s, q->handle, q->handle_len, H_FILE)) == NULL)
        return reply_bad_handle(s, q->id);
    /* OpenSSH PROTOCOL §4.8 (limits): reads are capped at the advertised
     * max-read-length; a shorter DATA is normal (draft-02 §6.4). */
    len = q->len < AMK_SFTPS_IO_MAX ? q->len : AMK_SFTPS_IO_MAX;
    /* One copy: the backend reads straight into the output buffer. */
    if ((r = amk_sftp_enc_data_begin(&s->out, q->id, len, &p, &st)) != AMK_OK)
        return reply_done(s, r);
    if (len > 0 && (e = s->ops->pread(s->fs, h->obj, p, len, q->offset, &got)) != 0) {
        amk_sftp_enc_abort(&s->out, st);
        return reply_errno(s, q->id, e);
    }
    if (len > 0 && got == 0) {
        amk_sftp_enc_abort(&s->out, st);
        return reply_status(s, q->id, AMK_SSH_FX_EOF, "End of file");
    }
    if (got > len)
        got = len;
    return reply_done(s, amk_sftp_enc_data_end(&s->out, st, len, got));
}

static int
do_write(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct sftps_handle *h;

    if (s->ops->pwrite == NULL)
        return reply_unsupported(s, q->id);
    if ((h = handle_find(s, q->handle, q->handle_len, H_FILE)) == NULL)
        return reply_bad_handle(s, q->id);
    if (s->read_only)
        return reply_read_only(s, q->id);
    return reply_errno(s, q->id, s->ops->pwrite(s->fs, h->obj, q->data, q->data_len, q->offset));
}

static int
do_readdir(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct amk_sftps_dirent *e = NULL;
    struct sftps_handle *h;
    size_t st;
    uint32_t count = 0;
    int r, err = 0, eof = 0;

    if ((h = handle_find(s, q->handle, q->handle_len, H_DIR)) == NULL)
        return reply_bad_handle(s, q->id);
    if ((e = malloc(sizeof(*e))) == NULL)
        return fail(s, AMK_ENOMEM, "out of memory");
    if ((r = amk_sftp_enc_name_begin(&s->out, q->id, &st)) != AMK_OK) {
        free(e);
        return reply_done(s, r);
    }
    /* A batch: bounded by entries and by the packet cap (OpenSSH sends
     * up to 100 per reply). */
    while (count < AMK_SFTPS_READDIR_MAX &&
        amk_buf_len(&s->out) - st < AMK_SFTP_PACKET_MAX - READDIR_ROOM) {
        memset(e, 0, sizeof(*e));
        if ((err = s->ops->readdir(s->fs, h->obj, e, &eof)) != 0 || eof)
            break;
        e->name[AMK_SFTPS_NAME_MAX] = '\0';
        e->longname[AMK_SFTPS_LONGNAME_MAX] = '\0';
        if ((r = amk_sftp_enc_name_add(&s->out, e->name,
            e->longname[0] != '\0' ? e->longname : e->name, &e->attrs)) != AMK_OK) {
            amk_sftp_enc_abort(&s->out, st);
            free(e);
            return reply_done(s, r);
        }
        count++;
    }
    free(e);
    if (count > 0)
        return reply_done(s, amk_sftp_enc_name_end(&s->out, st, count));
    amk_sftp_enc_abort(&s->out, st);
    if (err != 0)
        return reply_errno(s, q->id, err);
    /* draft-02 §6.7: EOF once every entry was read. */
    return reply_status(s, q->id, AMK_SSH_FX_EOF, "End of file");
}

static int
do_stat(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    struct amk_sftp_attrs a;
    struct sftps_handle *h;
    int e;

    memset(&a, 0, sizeof(a));
    if (q->type == AMK_SSH_FXP_FSTAT) {
        if (s->ops->fstat == NULL)
            return reply_unsupported(s, q->id);
        if ((h = handle_find(s, q->handle, q->handle_len, H_FILE)) == NULL)
            return reply_bad_handle(s, q->id);
        e = s->ops->fstat(s->fs, h->obj, &a);
    } else {
        if (s->ops->stat == NULL)
            return reply_unsupported(s, q->id);
        if ((e = copy_paths(s, q)) == 0)
            e = s->ops->stat(s->fs, s->p1, q->type == AMK_SSH_FXP_STAT, &a);
    }
    if (e != 0)
        return reply_errno(s, q->id, e);
    return reply_done(s, amk_sftp_enc_attrs_reply(&s->out, q->id, &a));
}

static int
do_setstat(struct amk_sftps *s, const struct amk_sftp_request *q, int follow)
{
    struct sftps_handle *h;
    int e;

    if (q->type == AMK_SSH_FXP_FSETSTAT) {
        if (s->ops->fsetstat == NULL)
            return reply_unsupported(s, q->id);
        if ((h = handle_find(s, q->handle, q->handle_len, H_FILE)) == NULL)
            return reply_bad_handle(s, q->id);
        if (s->read_only)
            return reply_read_only(s, q->id);
        return reply_errno(s, q->id, s->ops->fsetstat(s->fs, h->obj, &q->attrs));
    }
    if (s->ops->setstat == NULL)
        return reply_unsupported(s, q->id);
    if (s->read_only)
        return reply_read_only(s, q->id);
    if ((e = copy_paths(s, q)) == 0)
        e = s->ops->setstat(s->fs, s->p1, follow, &q->attrs);
    return reply_errno(s, q->id, e);
}

/* REMOVE, MKDIR, RMDIR, RENAME, SYMLINK: modifying requests on paths. */
static int
do_modify(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    const struct amk_sftps_fs_ops *o = s->ops;
    int e;

    if ((q->type == AMK_SSH_FXP_REMOVE && o->remove == NULL) ||
        (q->type == AMK_SSH_FXP_MKDIR && o->mkdir == NULL) ||
        (q->type == AMK_SSH_FXP_RMDIR && o->rmdir == NULL) ||
        (q->type == AMK_SSH_FXP_RENAME && o->rename == NULL) ||
        (q->type == AMK_SSH_FXP_SYMLINK && o->symlink == NULL))
        return reply_unsupported(s, q->id);
    if (s->read_only)
        return reply_read_only(s, q->id);
    if ((e = copy_paths(s, q)) != 0)
        return reply_errno(s, q->id, e);
    switch (q->type) {
    case AMK_SSH_FXP_REMOVE:
        e = o->remove(s->fs, s->p1);
        break;
    case AMK_SSH_FXP_MKDIR:
        e = o->mkdir(s->fs, s->p1, &q->attrs);
        break;
    case AMK_SSH_FXP_RMDIR:
        e = o->rmdir(s->fs, s->p1);
        break;
    case AMK_SSH_FXP_RENAME:
        /* draft-02 §6.5: fails if newpath exists. */
        e = o->rename(s->fs, s->p1, s->p2, 0);
        break;
    default:
        /* draft-02 §6.10: linkpath, targetpath; OpenSSH PROTOCOL §4.1:
         * its server reads them reversed, and most clients send that.
         * Which one this client sends is the caller's call (config). */
        if (s->symlink_linkpath_first)
            e = o->symlink(s->fs, s->p2, s->p1);
        else
            e = o->symlink(s->fs, s->p1, s->p2);
        break;
    }
    return reply_errno(s, q->id, e);
}

static int
do_path_name(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    int e;

    if ((q->type == AMK_SSH_FXP_REALPATH && s->ops->realpath == NULL) ||
        (q->type == AMK_SSH_FXP_READLINK && s->ops->readlink == NULL))
        return reply_unsupported(s, q->id);
    if ((e = copy_paths(s, q)) != 0)
        return reply_errno(s, q->id, e);
    if (q->type == AMK_SSH_FXP_REALPATH)
        e = s->ops->realpath(s->fs, s->p1, s->res, sizeof(s->res));
    else
        e = s->ops->readlink(s->fs, s->p1, s->res, sizeof(s->res));
    if (e != 0)
        return reply_errno(s, q->id, e);
    s->res[sizeof(s->res) - 1] = '\0';
    return reply_one_name(s, q->id, s->res);
}

/* --- Extensions (OpenSSH PROTOCOL §4) -------------------------------------- */

static int
ext_bad(struct amk_sftps *s, const char *name, int r)
{
    return fail(s, r, "malformed %s request", name);
}

static int
put_statvfs(struct amk_sftps *s, uint32_t id, const struct amk_sftp_statvfs *st)
{
    const uint64_t f[] = { st->bsize, st->frsize, st->blocks, st->bfree, st->bavail,
        st->files, st->ffree, st->favail, st->fsid, st->flag, st->namemax };
    uint8_t b[sizeof(f)];

    /* §4.4: eleven uint64 fields */
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        for (int k = 0; k < 8; k++)
            b[i * 8 + (size_t)k] = (uint8_t)(f[i] >> (56 - 8 * k));
    return reply_done(s, amk_sftp_enc_ext_reply(&s->out, id, b, sizeof(b)));
}

/* expand-path@openssh.com (§4.10): "~" and "~user" prefixes, then the
 * canonical path. */
static int
ext_expand_path(struct amk_sftps *s, uint32_t id)
{
    const char *p = s->p1, *rest = NULL;
    char user[256];
    size_t ulen;
    int e;

    if (p[0] == '~') {
        if (s->ops->home == NULL)
            return reply_unsupported(s, id);
        rest = strchr(p, '/');
        ulen = rest != NULL ? (size_t)(rest - p) - 1 : strlen(p) - 1;
        if (ulen >= sizeof(user))
            return reply_errno(s, id, ENOENT);
        memcpy(user, p + 1, ulen);
        user[ulen] = '\0';
        if ((e = s->ops->home(s->fs, user, s->res2, sizeof(s->res2))) != 0)
            return reply_errno(s, id, e);
        s->res2[sizeof(s->res2) - 1] = '\0';
        if (rest != NULL && rest[1] != '\0') {
            size_t hl = strlen(s->res2), rl = strlen(rest);

            if (hl + rl >= sizeof(s->res2))
                return reply_errno(s, id, ENAMETOOLONG);
            memcpy(s->res2 + hl, rest, rl + 1);
        }
        p = s->res2;
    }
    if ((e = s->ops->realpath(s->fs, p, s->res, sizeof(s->res))) != 0)
        return reply_errno(s, id, e);
    s->res[sizeof(s->res) - 1] = '\0';
    return reply_one_name(s, id, s->res);
}

/* users-groups-by-id@openssh.com (§4.12): names in request order, "" for
 * an unknown id. */
static int
ext_users_groups(struct amk_sftps *s, uint32_t id, struct amk_buf *in)
{
    struct amk_buf uids, gids, rep, names;
    char name[256];
    int r = AMK_EINTERNAL;

    amk_buf_init(&rep);
    amk_buf_init(&names);
    if ((r = amk_buf_get_stringb(in, &uids)) != AMK_OK ||
        (r = amk_buf_get_stringb(in, &gids)) != AMK_OK ||
        (r = amk_buf_get_end(in)) != AMK_OK ||
        amk_buf_len(&uids) % 4 != 0 || amk_buf_len(&gids) % 4 != 0) {
        r = ext_bad(s, "users-groups-by-id@openssh.com", r != AMK_OK ? r : AMK_EFORMAT);
        goto out;
    }
    /* each id is a lookup (maybe NSS over the network) inside the event
     * loop: a bounded number per request */
    if (amk_buf_len(&uids) / 4 > AMK_SFTPS_IDS_MAX || amk_buf_len(&gids) / 4 > AMK_SFTPS_IDS_MAX) {
        _Static_assert(AMK_SFTPS_IDS_MAX == 256, "message below");
        r = reply_status(s, id, AMK_SSH_FX_FAILURE, "Too many ids (at most 256 uids and 256 gids)");
        goto out;
    }
    if ((r = amk_buf_set_max(&rep, AMK_SFTP_PACKET_MAX - 16)) != AMK_OK ||
        (r = amk_buf_set_max(&names, AMK_SFTP_PACKET_MAX - 16)) != AMK_OK)
        goto out;
    for (int pass = 0; pass < 2; pass++) {
        struct amk_buf *ids = pass == 0 ? &uids : &gids;
        uint32_t v;

        amk_buf_reset(&names);
        while (amk_buf_len(ids) > 0) {
            if ((r = amk_buf_get_u32(ids, &v)) != AMK_OK)
                goto out;
            if ((pass == 0 ? s->ops->user_name(s->fs, v, name, sizeof(name)) :
                s->ops->group_name(s->fs, v, name, sizeof(name))) != 0)
                name[0] = '\0';
            name[sizeof(name) - 1] = '\0';
            if ((r = amk_buf_put_cstring(&names, name)) != AMK_OK)
                break;
        }
        if (r == AMK_OK)
            r = amk_buf_put_stringb(&rep, &names);
        if (r == AMK_ELIMIT) {
            r = reply_status(s, id, AMK_SSH_FX_FAILURE, "Too many ids");
            goto out;
        }
        if (r != AMK_OK)
            goto out;
    }
    r = reply_done(s, amk_sftp_enc_ext_reply(&s->out, id, amk_buf_ptr(&rep), amk_buf_len(&rep)));
out:
    amk_buf_release(&rep);
    amk_buf_release(&names);
    return r;
}

static int
ext_name_is(const struct amk_sftp_request *q, const char *name)
{
    size_t n = strlen(name);

    return q->ext_name_len == n && memcmp(q->ext_name, name, n) == 0;
}

/* Reads a path field of an extension's data into @p dst. */
static int
ext_path(struct amk_buf *in, char *dst, int *e)
{
    const uint8_t *p;
    size_t len;
    int r;

    if ((r = amk_buf_get_string_direct(in, &p, &len)) != AMK_OK)
        return r;
    if (len > 0 && memchr(p, 0, len) != NULL)
        return AMK_EFORMAT;
    if (*e == 0)
        *e = copy_path(dst, p, len);
    return AMK_OK;
}

/* --- copy-data (draft-ietf-secsh-filexfer-extensions-00 §7) ---------------- */

/* Ends the copy in progress with the STATUS for @p e (@p checking: from
 * the check made when the request arrived, where EINVAL with one handle
 * for both ends means an overlap). */
static int
copy_end(struct amk_sftps *s, int e, int checking)
{
    struct sftps_copy_job *j = &s->copy;

    j->active = 0;
    if (checking && e == EINVAL && j->from == j->to)
        return reply_status(s, j->id, AMK_SSH_FX_FAILURE, "copy-data onto its own range");
    /* A length the source did not have (past its end when the request
     * came, or it shrank since): what there was is copied, and the answer
     * is EOF, as OpenSSH's sftp-server gives (except when the shortfall
     * falls within its last 64 KiB read: OK there). Length 0 (to the end)
     * is OK. */
    if (e == 0 && j->asked != 0 && j->c.from_off - j->start < j->asked)
        return reply_status(s, j->id, AMK_SSH_FX_EOF, "End of file");
    return reply_errno(s, j->id, e);
}

/* One call of the backend's copy_data with up to @p max bytes; ends the
 * copy on an error, at the end of the range, or when the backend made no
 * progress (it would never end). */
static int
copy_step(struct amk_sftps *s, uint64_t max)
{
    struct sftps_copy_job *j = &s->copy;
    uint64_t before = j->c.len, from_before = j->c.from_off;
    int e;

    /* Input is paused, so no CLOSE can have freed them; checked anyway,
     * as the backend must never see a freed handle. */
    if (j->from->kind != H_FILE || j->from->gen != j->from_gen ||
        j->to->kind != H_FILE || j->to->gen != j->to_gen) {
        j->active = 0;
        return reply_bad_handle(s, j->id);
    }
    e = s->ops->copy_data(s->fs, j->from->obj, j->to->obj, &j->c, max);
    if (e != 0 || j->c.len == 0)
        return copy_end(s, e, max == 0);
    /* no progress and no error: the copy is not done and never would be */
    if (max > 0 && j->c.len == before && j->c.from_off == from_before)
        return copy_end(s, EIO, 0);
    return AMK_OK;
}

/* A copy is checked when it arrives (regular files, no overlap; the
 * length fixed at the source's size now) and, unless there is nothing to
 * copy, left to amk_sftps_step(): input pauses until it is done. */
static int
ext_copy_data(struct amk_sftps *s, uint32_t id, struct amk_buf *in)
{
    struct sftps_copy_job *j = &s->copy;
    const uint8_t *hp, *hp2;
    size_t hl, hl2;
    int r;

    memset(j, 0, sizeof(*j));
    /* string read-handle, uint64 read-offset, uint64 read-length, string
     * write-handle, uint64 write-offset */
    if ((r = amk_buf_get_string_direct(in, &hp, &hl)) != AMK_OK ||
        (r = amk_buf_get_u64(in, &j->c.from_off)) != AMK_OK ||
        (r = amk_buf_get_u64(in, &j->c.len)) != AMK_OK ||
        (r = amk_buf_get_string_direct(in, &hp2, &hl2)) != AMK_OK ||
        (r = amk_buf_get_u64(in, &j->c.to_off)) != AMK_OK ||
        (r = amk_buf_get_end(in)) != AMK_OK)
        return ext_bad(s, "copy-data", r);
    if (s->ops->copy_data == NULL)
        return reply_unsupported(s, id);
    if ((j->from = handle_find(s, hp, hl, H_FILE)) == NULL ||
        (j->to = handle_find(s, hp2, hl2, H_FILE)) == NULL)
        return reply_bad_handle(s, id);
    if (s->read_only)
        return reply_read_only(s, id);
    j->id = id;
    j->asked = j->c.len;
    j->start = j->c.from_off;
    j->from_gen = j->from->gen;
    j->to_gen = j->to->gen;
    j->active = 1;
    return copy_step(s, 0);
}

static int
do_extended(struct amk_sftps *s, const struct amk_sftp_request *q)
{
    const struct amk_sftps_fs_ops *o = s->ops;
    struct amk_sftp_statvfs st;
    struct sftps_handle *h;
    struct amk_sftp_attrs a;
    struct amk_buf in;
    const uint8_t *hp;
    size_t hl;
    int r, e = 0;

    amk_buf_view(&in, q->data, q->data_len);
    memset(&st, 0, sizeof(st));
    if (ext_name_is(q, "posix-rename@openssh.com") || ext_name_is(q, "hardlink@openssh.com")) {
        int hard = ext_name_is(q, "hardlink@openssh.com");

        /* §4.3 / §4.5: string oldpath, string newpath */
        if ((r = ext_path(&in, s->p1, &e)) != AMK_OK || (r = ext_path(&in, s->p2, &e)) != AMK_OK ||
            (r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, hard ? "hardlink" : "posix-rename", r);
        if ((hard ? o->hardlink == NULL : o->rename == NULL))
            return reply_unsupported(s, q->id);
        if (s->read_only)
            return reply_read_only(s, q->id);
        if (e == 0)
            e = hard ? o->hardlink(s->fs, s->p1, s->p2) : o->rename(s->fs, s->p1, s->p2, 1);
        return reply_errno(s, q->id, e);
    }
    if (ext_name_is(q, "statvfs@openssh.com")) {
        /* §4.4: string path */
        if ((r = ext_path(&in, s->p1, &e)) != AMK_OK || (r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, "statvfs", r);
        if (o->statvfs == NULL)
            return reply_unsupported(s, q->id);
        if (e == 0)
            e = o->statvfs(s->fs, s->p1, &st);
        return e != 0 ? reply_errno(s, q->id, e) : put_statvfs(s, q->id, &st);
    }
    if (ext_name_is(q, "fstatvfs@openssh.com") || ext_name_is(q, "fsync@openssh.com")) {
        int sync = ext_name_is(q, "fsync@openssh.com");

        /* §4.4 / §4.6: string handle */
        if ((r = amk_buf_get_string_direct(&in, &hp, &hl)) != AMK_OK ||
            (r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, sync ? "fsync" : "fstatvfs", r);
        if (sync ? o->fsync == NULL : o->fstatvfs == NULL)
            return reply_unsupported(s, q->id);
        if ((h = handle_find(s, hp, hl, H_FILE)) == NULL)
            return reply_bad_handle(s, q->id);
        if (sync) {
            if (s->read_only)
                return reply_read_only(s, q->id);
            return reply_errno(s, q->id, o->fsync(s->fs, h->obj));
        }
        e = o->fstatvfs(s->fs, h->obj, &st);
        return e != 0 ? reply_errno(s, q->id, e) : put_statvfs(s, q->id, &st);
    }
    if (ext_name_is(q, "lsetstat@openssh.com")) {
        /* §4.7: string path, ATTRS attrs */
        if ((r = ext_path(&in, s->p1, &e)) != AMK_OK ||
            (r = amk_sftp_dec_attrs(&in, &a, NULL, NULL)) != AMK_OK ||
            (r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, "lsetstat", r);
        if (o->setstat == NULL)
            return reply_unsupported(s, q->id);
        if (s->read_only)
            return reply_read_only(s, q->id);
        if (e == 0)
            e = o->setstat(s->fs, s->p1, 0, &a);
        return reply_errno(s, q->id, e);
    }
    if (ext_name_is(q, "limits@openssh.com")) {
        uint8_t b[32];
        const uint64_t v[4] = { AMK_SFTP_PACKET_MAX, AMK_SFTPS_IO_MAX, AMK_SFTPS_IO_MAX,
            s->max_handles };

        /* §4.8: no fields; max-packet-length, max-read-length,
         * max-write-length, max-open-handles */
        if ((r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, "limits", r);
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 8; k++)
                b[i * 8 + k] = (uint8_t)(v[i] >> (56 - 8 * k));
        return reply_done(s, amk_sftp_enc_ext_reply(&s->out, q->id, b, sizeof(b)));
    }
    if (ext_name_is(q, "expand-path@openssh.com")) {
        /* §4.10: string path */
        if ((r = ext_path(&in, s->p1, &e)) != AMK_OK || (r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, "expand-path", r);
        if (o->realpath == NULL)
            return reply_unsupported(s, q->id);
        if (e != 0)
            return reply_errno(s, q->id, e);
        return ext_expand_path(s, q->id);
    }
    if (ext_name_is(q, "home-directory")) {
        /* draft-ietf-secsh-filexfer-extensions-00 §5: string username */
        if ((r = ext_path(&in, s->p1, &e)) != AMK_OK || (r = amk_buf_get_end(&in)) != AMK_OK)
            return ext_bad(s, "home-directory", r);
        if (o->home == NULL)
            return reply_unsupported(s, q->id);
        /* an empty name (copied as ".") means the server's own user */
        if (e == 0)
            e = o->home(s->fs, q->data_len == 4 ? "" : s->p1, s->res, sizeof(s->res));
        /* an unknown user is a FAILURE, as OpenSSH's sftp-server says */
        if (e == ENOENT)
            return reply_status(s, q->id, AMK_SSH_FX_FAILURE, "No such user");
        if (e != 0)
            return reply_errno(s, q->id, e);
        s->res[sizeof(s->res) - 1] = '\0';
        return reply_one_name(s, q->id, s->res);
    }
    if (ext_name_is(q, "copy-data"))
        return ext_copy_data(s, q->id, &in);
    if (ext_name_is(q, "users-groups-by-id@openssh.com")) {
        if (o->user_name == NULL || o->group_name == NULL)
            return reply_unsupported(s, q->id);
        return ext_users_groups(s, q->id, &in);
    }
    return reply_unsupported(s, q->id);
}

/* --- Dispatch -------------------------------------------------------------- */

static const char *
type_name(uint8_t t)
{
    static const char *const N[] = { "?", "INIT", "VERSION", "OPEN", "CLOSE", "READ", "WRITE",
        "LSTAT", "FSTAT", "SETSTAT", "FSETSTAT", "OPENDIR", "READDIR", "REMOVE", "MKDIR",
        "RMDIR", "REALPATH", "STAT", "RENAME", "READLINK", "SYMLINK" };

    if (t < sizeof(N) / sizeof(N[0]))
        return N[t];
    return t == AMK_SSH_FXP_EXTENDED ? "EXTENDED" : "unknown";
}

static int
handle_packet(struct amk_sftps *s, const uint8_t *body, size_t len)
{
    struct amk_sftp_request q;
    int r;

    r = amk_sftp_dec_request(body, len, &q);
    if (r == AMK_ENOTSUP && q.type != AMK_SSH_FXP_INIT) {
        if (!s->started)
            return fail(s, AMK_EPROTO, "SFTP packet type %u before INIT", q.type);
        /* draft-02 §3: unknown requests get SSH_FX_OP_UNSUPPORTED. */
        return reply_unsupported(s, q.id);
    }
    if (r != AMK_OK)
        return fail(s, r, "malformed SFTP %s request (%s)", type_name(q.type), amk_strerror(r));
    /* draft-02 §4: INIT first and once. */
    if (q.type == AMK_SSH_FXP_INIT) {
        if (s->started)
            return fail(s, AMK_EPROTO, "second SFTP INIT");
        return do_init(s, &q);
    }
    if (!s->started)
        return fail(s, AMK_EPROTO, "SFTP %s before INIT", type_name(q.type));
    switch (q.type) {
    case AMK_SSH_FXP_OPEN: return do_open(s, &q);
    case AMK_SSH_FXP_CLOSE: return do_close(s, &q);
    case AMK_SSH_FXP_READ: return do_read(s, &q);
    case AMK_SSH_FXP_WRITE: return do_write(s, &q);
    case AMK_SSH_FXP_LSTAT: case AMK_SSH_FXP_STAT: case AMK_SSH_FXP_FSTAT:
        return do_stat(s, &q);
    case AMK_SSH_FXP_SETSTAT: case AMK_SSH_FXP_FSETSTAT:
        return do_setstat(s, &q, 1);
    case AMK_SSH_FXP_OPENDIR: return do_opendir(s, &q);
    case AMK_SSH_FXP_READDIR: return do_readdir(s, &q);
    case AMK_SSH_FXP_REMOVE: case AMK_SSH_FXP_MKDIR: case AMK_SSH_FXP_RMDIR:
    case AMK_SSH_FXP_RENAME: case AMK_SSH_FXP_SYMLINK:
        return do_modify(s, &q);
    case AMK_SSH_FXP_REALPATH: case AMK_SSH_FXP_READLINK:
        return do_path_name(s, &q);
    case AMK_SSH_FXP_EXTENDED: return do_extended(s, &q);
    default:
        /* a reply type (VERSION, STATUS...) sent to the server */
        return reply_unsupported(s, q.id);
    }
}

static uint32_t
load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks a packet length field. */
static int
check_len(struct amk_sftps *s, uint32_t n)
{
    if (n == 0)
        return fail(s, AMK_EFORMAT, "empty SFTP packet");
    if (n > AMK_SFTP_PACKET_MAX)
        return fail(s, AMK_ETOOBIG, "SFTP packet of %u bytes (limit %zu)", n,
            AMK_SFTP_PACKET_MAX);
    return AMK_OK;
}

int
amk_sftps_input(struct amk_sftps *s, const uint8_t *data, size_t len, size_t *used)
{
    size_t pos = 0, have, need, take;
    uint32_t n;
    int r;

    *used = 0;
    if (data == NULL && len > 0)
        return AMK_EINVAL;
    while (s->err == AMK_OK && !amk_sftps_wants_output_room(s) && !s->copy.active) {
        have = amk_buf_len(&s->in);
        if (have > 0) {
            /* finish the packet begun in an earlier call */
            if (have < 4) {
                need = 4 - have;
            } else {
                n = load_u32(amk_buf_ptr(&s->in));
                need = (size_t)n + 4 - have;
            }
            take = len - pos < need ? len - pos : need;
            if (take > 0 && (r = amk_buf_put(&s->in, data + pos, take)) != AMK_OK)
                return fail(s, r, "cannot buffer input");
            pos += take;
            have += take;
            if (have >= 4 && have - take < 4 &&
                check_len(s, load_u32(amk_buf_ptr(&s->in))) != AMK_OK)
                break;
            if (have < 4 || have < (size_t)load_u32(amk_buf_ptr(&s->in)) + 4) {
                if (pos == len)
                    break;      /* everything given was taken */
                continue;
            }
            r = handle_packet(s, amk_buf_ptr(&s->in) + 4, have - 4);
            /* consumed, not reset: file data needs no wipe */
            if (amk_buf_consume(&s->in, have) != AMK_OK)
                return fail(s, AMK_EINTERNAL, "input buffer");
            if (r != AMK_OK)
                break;
            continue;
        }
        if (pos == len)
            break;
        if (len - pos >= 4) {
            n = load_u32(data + pos);
            if (check_len(s, n) != AMK_OK)
                break;
            if (len - pos - 4 >= n) {
                /* a whole packet in the caller's bytes: handled in place */
                r = handle_packet(s, data + pos + 4, n);
                pos += 4 + (size_t)n;
                if (r != AMK_OK)
                    break;
                continue;
            }
        }
        if (s->whole_packets)
            break;              /* the caller keeps the incomplete packet */
        if ((r = amk_buf_put(&s->in, data + pos, len - pos)) != AMK_OK)
            return fail(s, r, "cannot buffer input");
        pos = len;
    }
    *used = pos;
    return s->err;
}

int
amk_sftps_step(struct amk_sftps *s)
{
    if (s->err != AMK_OK || !s->copy.active)
        return s->err;
    return copy_step(s, s->copy_slice);
}
