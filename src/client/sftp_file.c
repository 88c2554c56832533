/*
 * SFTP files and directories (see amiko/sftp.h). pread and pwrite run as
 * transfers between the file and memory (sftp_xfer.c): many READ / WRITE
 * requests in flight, replies in any order, short reads re-requested.
 */
#include "client/sftp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- Opening and closing --------------------------------------------- */

static int
open_common(struct amk_sftp *s, uint8_t type, const struct amk_sftp_req *q, const char *path,
    struct amk_sftp_file **out)
{
    struct amk_sftp_reply rep;
    struct amk_sftp_file *f = NULL;
    int r;

    if ((r = amk_sftp_call(s, type, q, &rep)) != AMK_OK)
        goto out;
    if (rep.type != AMK_SSH_FXP_HANDLE) {
        r = amk_sftp_status(s, &rep, path);
        if (r == AMK_OK)
            r = amk_sftp_fail(s, AMK_EPROTO, "sftp: status OK instead of a handle");
        goto out;
    }
    if ((f = calloc(1, sizeof(*f))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    f->sftp = s;
    memcpy(f->handle, rep.handle, rep.handle_len);
    f->handle_len = rep.handle_len;
    *out = f;
    r = AMK_OK;
out:
    amk_sftp_reply_clear(&rep);
    return r;
}

int
amk_sftp_open(struct amk_sftp *s, const char *path, unsigned flags, uint32_t mode,
    struct amk_sftp_file **out)
{
    struct amk_sftp_attrs a = { .flags = mode != 0 ? AMK_SFTP_ATTR_PERMISSIONS : 0,
        .permissions = mode };
    struct amk_sftp_req q = { .path = path, .pflags = flags, .attrs = &a };

    if (out != NULL)
        *out = NULL;
    if (s == NULL || path == NULL || out == NULL || (flags & ~0x3fu) != 0 ||
        (flags & (AMK_SFTP_READ | AMK_SFTP_WRITE)) == 0)
        return AMK_EINVAL;
    return open_common(s, AMK_SSH_FXP_OPEN, &q, path, out);
}

int
amk_sftp_opendir(struct amk_sftp *s, const char *path, struct amk_sftp_file **out)
{
    struct amk_sftp_req q = { .path = path };

    if (out != NULL)
        *out = NULL;
    if (s == NULL || path == NULL || out == NULL)
        return AMK_EINVAL;
    return open_common(s, AMK_SSH_FXP_OPENDIR, &q, path, out);
}

int
amk_sftp_close(struct amk_sftp_file *f)
{
    struct amk_sftp_req q;
    struct amk_sftp_reply rep;
    int r;

    if (f == NULL)
        return AMK_OK;
    memset(&q, 0, sizeof(q));
    q.handle = f->handle;
    q.handle_len = f->handle_len;
    if ((r = amk_sftp_call(f->sftp, AMK_SSH_FXP_CLOSE, &q, &rep)) == AMK_EAGAIN)
        return r;       /* call again: f stays */
    /* no AMK_ELIMIT to handle: with every slot taken amk_sftp_call()
     * waits for one (transfers always leave some) */
    if (r == AMK_OK)
        r = amk_sftp_status(f->sftp, &rep, "close");
    amk_sftp_reply_clear(&rep);
    amk_sftp_xfer_forget_file(f->sftp, f);
    amk_sftp_names_free(f->names, f->n_names);
    free(f);
    return r;
}

/* --- Attributes ------------------------------------------------------ */

int
amk_sftp_fstat(struct amk_sftp_file *f, struct amk_sftp_attrs *attrs)
{
    struct amk_sftp_req q;
    struct amk_sftp_reply rep;
    int r;

    if (f == NULL || attrs == NULL)
        return AMK_EINVAL;
    memset(attrs, 0, sizeof(*attrs));
    memset(&q, 0, sizeof(q));
    q.handle = f->handle;
    q.handle_len = f->handle_len;
    if ((r = amk_sftp_call(f->sftp, AMK_SSH_FXP_FSTAT, &q, &rep)) != AMK_OK)
        goto out;
    if (rep.type == AMK_SSH_FXP_ATTRS) {
        *attrs = rep.attrs;
    } else {
        r = amk_sftp_status(f->sftp, &rep, "fstat");
        if (r == AMK_OK)
            r = amk_sftp_fail(f->sftp, AMK_EPROTO, "sftp: status OK instead of attributes");
    }
out:
    amk_sftp_reply_clear(&rep);
    return r;
}

int
amk_sftp_fsetstat(struct amk_sftp_file *f, const struct amk_sftp_attrs *attrs)
{
    struct amk_sftp_req q;
    struct amk_sftp_reply rep;
    int r;

    if (f == NULL || attrs == NULL)
        return AMK_EINVAL;
    memset(&q, 0, sizeof(q));
    q.handle = f->handle;
    q.handle_len = f->handle_len;
    q.attrs = attrs;
    if ((r = amk_sftp_call(f->sftp, AMK_SSH_FXP_FSETSTAT, &q, &rep)) == AMK_OK)
        r = amk_sftp_status(f->sftp, &rep, "fsetstat");
    amk_sftp_reply_clear(&rep);
    return r;
}

/* An extension whose data is the file's handle, then @p tail (may be NULL). */
static int
handle_ext(struct amk_sftp_file *f, const char *name, const struct amk_buf *tail,
    struct amk_sftp_reply *rep)
{
    struct amk_buf d;
    int r;

    amk_buf_init(&d);
    memset(rep, 0, sizeof(*rep));
    if ((r = amk_buf_put_string(&d, f->handle, f->handle_len)) == AMK_OK &&
        (tail == NULL || (r = amk_buf_putb(&d, tail)) == AMK_OK))
        r = amk_sftp_call_ext(f->sftp, name, &d, rep);
    amk_buf_release(&d);
    return r;
}

int
amk_sftp_fsync(struct amk_sftp_file *f)
{
    struct amk_sftp_reply rep;
    int r;

    if (f == NULL)
        return AMK_EINVAL;
    /* OpenSSH PROTOCOL §4.6: string handle; STATUS. */
    if ((r = handle_ext(f, "fsync@openssh.com", NULL, &rep)) == AMK_OK)
        r = amk_sftp_status(f->sftp, &rep, "fsync");
    amk_sftp_reply_clear(&rep);
    return r;
}

int
amk_sftp_fstatvfs(struct amk_sftp_file *f, struct amk_sftp_statvfs *st)
{
    struct amk_sftp_reply rep;
    int r;

    if (f == NULL || st == NULL)
        return AMK_EINVAL;
    memset(st, 0, sizeof(*st));
    /* OpenSSH PROTOCOL §4.4: string handle; EXTENDED_REPLY of 11 uint64. */
    if ((r = handle_ext(f, "fstatvfs@openssh.com", NULL, &rep)) != AMK_OK)
        goto out;
    if (rep.type != AMK_SSH_FXP_EXTENDED_REPLY) {
        r = amk_sftp_status(f->sftp, &rep, "fstatvfs");
        if (r == AMK_OK)
            r = amk_sftp_fail(f->sftp, AMK_EPROTO, "sftp: status OK instead of statvfs data");
        goto out;
    }
    if ((r = amk_sftp_dec_statvfs(rep.ext, rep.ext_len, st)) != AMK_OK)
        r = amk_sftp_fail(f->sftp, r, "sftp: malformed fstatvfs@openssh.com reply");
out:
    amk_sftp_reply_clear(&rep);
    return r;
}

int
amk_sftp_copy_data(struct amk_sftp_file *from, uint64_t from_offset, uint64_t len,
    struct amk_sftp_file *to, uint64_t to_offset)
{
    struct amk_sftp_reply rep;
    struct amk_buf tail;
    int r;

    if (from == NULL || to == NULL || from->sftp != to->sftp)
        return AMK_EINVAL;
    amk_buf_init(&tail);
    memset(&rep, 0, sizeof(rep));
    /* OpenSSH PROTOCOL §4.10: read handle, uint64 read offset, uint64
     * length (0: to the end), write handle, uint64 write offset; STATUS. */
    if ((r = amk_buf_put_u64(&tail, from_offset)) != AMK_OK ||
        (r = amk_buf_put_u64(&tail, len)) != AMK_OK ||
        (r = amk_buf_put_string(&tail, to->handle, to->handle_len)) != AMK_OK ||
        (r = amk_buf_put_u64(&tail, to_offset)) != AMK_OK)
        goto out;
    if ((r = handle_ext(from, "copy-data", &tail, &rep)) == AMK_OK)
        r = amk_sftp_status(from->sftp, &rep, "copy-data");
out:
    amk_sftp_reply_clear(&rep);
    amk_buf_release(&tail);
    return r;
}

/* --- Reading and writing --------------------------------------------- */

/* pread and pwrite run as a transfer between the file and memory; after
 * AMK_EAGAIN the same call goes on with it. */
static int
mem_xfer(struct amk_sftp_file *f, int put, void *buf, size_t len, uint64_t offset, size_t *got)
{
    struct amk_sftp *s = f->sftp;
    struct amk_sftp_transfer *t;
    int r;

    amk_sftp_give_up_others(s, AMK_SFTP_PEND_XFER);
    t = s->pend_xfer;
    if (t != NULL && !amk_sftp_xfer_matches(t, f, put, buf, len, offset)) {
        amk_sftp_transfer_free(t);      /* given up */
        t = NULL;
    }
    if (t == NULL) {
        if ((r = amk_sftp_xfer_mem(f, put, buf, len, offset, &t)) != AMK_OK)
            return r;
        s->pend_xfer = t;
    }
    r = amk_sftp_xfer_run1(t);
    if (r == AMK_EAGAIN)
        return r;
    if (r == AMK_OK && got != NULL)
        *got = (size_t)(amk_sftp_xfer_end(t) - offset);
    amk_sftp_transfer_free(t);
    return r;
}

int
amk_sftp_pread(struct amk_sftp_file *f, void *buf, size_t len, uint64_t offset, size_t *got)
{
    if (got != NULL)
        *got = 0;
    if (f == NULL || (buf == NULL && len > 0) || got == NULL || offset > UINT64_MAX - len)
        return AMK_EINVAL;
    if (len == 0)
        return AMK_OK;
    return mem_xfer(f, 0, buf, len, offset, got);
}

int
amk_sftp_pwrite(struct amk_sftp_file *f, const void *buf, size_t len, uint64_t offset)
{
    if (f == NULL || (buf == NULL && len > 0) || offset > UINT64_MAX - len)
        return AMK_EINVAL;
    if (len == 0)
        return AMK_OK;
    return mem_xfer(f, 1, (void *)(uintptr_t)buf, len, offset, NULL);
}

int
amk_sftp_read(struct amk_sftp_file *f, void *buf, size_t len, size_t *got)
{
    int r;

    if (f == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_pread(f, buf, len, f->pos, got)) == AMK_OK)
        f->pos += *got;
    return r;
}

int
amk_sftp_write(struct amk_sftp_file *f, const void *buf, size_t len)
{
    int r;

    if (f == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_pwrite(f, buf, len, f->pos)) == AMK_OK)
        f->pos += len;
    return r;
}

int
amk_sftp_seek(struct amk_sftp_file *f, int64_t offset, int whence)
{
    struct amk_sftp_attrs a;
    uint64_t base;
    int r;

    if (f == NULL)
        return AMK_EINVAL;
    switch (whence) {
    case AMK_SFTP_SEEK_SET:
        base = 0;
        break;
    case AMK_SFTP_SEEK_CUR:
        base = f->pos;
        break;
    case AMK_SFTP_SEEK_END:
        if ((r = amk_sftp_fstat(f, &a)) != AMK_OK)
            return r;
        if (!(a.flags & AMK_SFTP_ATTR_SIZE))
            return amk_error_set(&f->sftp->detail, AMK_ENOTSUP, "sftp: the server gave no size");
        base = a.size;
        break;
    default:
        return AMK_EINVAL;
    }
    if (offset < 0 ? (uint64_t)-(offset + 1) + 1 > base : (uint64_t)offset > UINT64_MAX - base)
        return AMK_EINVAL;
    f->pos = offset < 0 ? base - ((uint64_t)-(offset + 1) + 1) : base + (uint64_t)offset;
    return AMK_OK;
}

uint64_t
amk_sftp_tell(const struct amk_sftp_file *f)
{
    return f == NULL ? 0 : f->pos;
}

/* --- Directories ----------------------------------------------------- */

int
amk_sftp_readdir(struct amk_sftp_file *d, struct amk_sftp_name *entry, int *more)
{
    struct amk_sftp_req q;
    struct amk_sftp_reply rep;
    int r;

    if (more != NULL)
        *more = 0;
    if (d == NULL || entry == NULL || more == NULL)
        return AMK_EINVAL;
    memset(entry, 0, sizeof(*entry));
    while (d->next == d->n_names) {
        if (d->dir_eof)
            return AMK_OK;
        amk_sftp_names_free(d->names, d->n_names);
        d->names = NULL;
        d->n_names = d->next = 0;
        memset(&q, 0, sizeof(q));
        q.handle = d->handle;
        q.handle_len = d->handle_len;
        if ((r = amk_sftp_call(d->sftp, AMK_SSH_FXP_READDIR, &q, &rep)) != AMK_OK)
            return r;
        if (rep.type == AMK_SSH_FXP_NAME) {
            d->names = rep.names;
            d->n_names = rep.count;
            rep.names = NULL;
            rep.count = 0;
        } else if (rep.status == 1) {
            d->dir_eof = 1;      /* draft-02 §6.7: EOF after the last entry */
        } else {
            r = amk_sftp_status(d->sftp, &rep, "readdir");
            if (r == AMK_OK)
                r = amk_sftp_fail(d->sftp, AMK_EPROTO, "sftp: READDIR answered OK");
            amk_sftp_reply_clear(&rep);
            return r;
        }
        amk_sftp_reply_clear(&rep);
    }
    *entry = d->names[d->next++];
    *more = 1;
    return AMK_OK;
}

/* A listdir that returned AMK_EAGAIN, resumed by the same call. */
struct amk_sftp_pend_list {
    char *path;
    struct amk_sftp_file *d;
    struct amk_sftp_name *list;
    size_t count, cap;
    size_t bytes;           /* of the names' strings, against AMK_SFTP_LIST_MAX_BYTES */
    int r;                  /* the listing's result, once closing */
    int closing;
};

/* Frees @p f without waiting: CLOSE is sent, its answer dropped. */
static void
close_nowait(struct amk_sftp_file *f)
{
    if (f == NULL)
        return;
    amk_sftpc_close_later(f->sftp->eng, f->handle, f->handle_len);
    amk_sftp_xfer_forget_file(f->sftp, f);
    amk_sftp_names_free(f->names, f->n_names);
    free(f);
}

void
amk_sftp_pend_list_free(struct amk_sftp_pend_list *l)
{
    if (l == NULL)
        return;
    close_nowait(l->d);
    amk_sftp_names_free(l->list, l->count);
    free(l->path);
    free(l);
}

/* Appends @p e (its strings taken over from @p d's batch) to @p l. */
static int
list_add(struct amk_sftp_pend_list *l, struct amk_sftp_file *d, const struct amk_sftp_name *e)
{
    /* a server that never sends EOF must not take all our memory */
    struct amk_sftp *s = d->sftp;

    l->bytes += strlen(e->filename) + (e->longname != NULL ? strlen(e->longname) : 0) + 2;
    if (l->count >= s->list_max_entries || l->bytes > s->list_max_bytes)
        return amk_error_set(&s->detail, AMK_ELIMIT, "sftp: listing of %s: over %zu entries "
            "or %zu bytes of names", l->path, s->list_max_entries, s->list_max_bytes);
    if (l->count == l->cap) {
        size_t ncap = l->cap == 0 ? 16 : l->cap * 2;
        struct amk_sftp_name *nl = realloc(l->list, ncap * sizeof(*nl));
        if (nl == NULL)
            return AMK_ENOMEM;
        l->list = nl;
        l->cap = ncap;
    }
    l->list[l->count++] = *e;
    d->names[d->next - 1].filename = NULL;
    d->names[d->next - 1].longname = NULL;
    return AMK_OK;
}

static int
listdir_run(struct amk_sftp *s, const char *path, struct amk_sftp_name **names, size_t *n)
{
    struct amk_sftp_pend_list *l;
    struct amk_sftp_name e;
    int r, more;

    l = s->pend_list;
    if (l != NULL && strcmp(l->path, path) != 0) {
        s->pend_list = NULL;
        amk_sftp_pend_list_free(l);     /* given up */
        l = NULL;
    }
    if (l == NULL) {
        if ((l = calloc(1, sizeof(*l))) == NULL || (l->path = strdup(path)) == NULL) {
            free(l);
            return AMK_ENOMEM;
        }
        s->pend_list = l;
    }
    if (l->d == NULL && !l->closing) {
        if ((r = amk_sftp_opendir(s, path, &l->d)) == AMK_EAGAIN)
            return r;
        if (r != AMK_OK)
            goto out;
    }
    while (!l->closing) {
        if ((r = amk_sftp_readdir(l->d, &e, &more)) == AMK_EAGAIN)
            return r;
        if (r != AMK_OK || !more) {
            l->r = r;
            l->closing = 1;
            break;
        }
        if (strcmp(e.filename, ".") == 0 || strcmp(e.filename, "..") == 0)
            continue;
        if ((r = list_add(l, l->d, &e)) != AMK_OK) {
            l->r = r;
            l->closing = 1;
        }
    }
    if ((r = amk_sftp_close(l->d)) == AMK_EAGAIN)
        return r;
    l->d = NULL;
    if (l->r != AMK_OK)
        r = l->r;
    if (r == AMK_OK) {
        *names = l->list;
        *n = l->count;
        l->list = NULL;
        l->count = 0;
    }
out:
    s->pend_list = NULL;
    amk_sftp_pend_list_free(l);
    return r;
}

int
amk_sftp_listdir(struct amk_sftp *s, const char *path, struct amk_sftp_name **names, size_t *n)
{
    int r;

    if (names != NULL)
        *names = NULL;
    if (n != NULL)
        *n = 0;
    if (s == NULL || path == NULL || names == NULL || n == NULL)
        return AMK_EINVAL;
    amk_sftp_give_up_others(s, AMK_SFTP_PEND_LIST | AMK_SFTP_PEND_CALL);
    s->listing = 1;     /* its own OPENDIR, READDIR and CLOSE keep pend_list */
    r = listdir_run(s, path, names, n);
    s->listing = 0;
    return r;
}

static int
walk(struct amk_sftp *s, const char *dir, amk_sftp_walk_fn fn, void *user, int depth)
{
    struct amk_sftp_name *names = NULL;
    size_t n = 0;
    char *path = NULL;
    int r;

    if (depth > AMK_SFTP_WALK_DEPTH)
        return amk_error_set(&s->detail, AMK_ELIMIT, "sftp: %s is nested too deep", dir);
    if ((r = amk_sftp_listdir(s, dir, &names, &n)) != AMK_OK)
        return r;
    for (size_t i = 0; i < n && r == AMK_OK; i++) {
        size_t len = strlen(dir) + 1 + strlen(names[i].filename) + 1;

        if ((path = malloc(len)) == NULL) {
            r = AMK_ENOMEM;
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i].filename);
        r = fn(user, path, &names[i].attrs);
        if (r == AMK_OK && (names[i].attrs.flags & AMK_SFTP_ATTR_PERMISSIONS) &&
            S_ISDIR(names[i].attrs.permissions))
            r = walk(s, path, fn, user, depth + 1);
        free(path);
        path = NULL;
    }
    amk_sftp_names_free(names, n);
    return r;
}

int
amk_sftp_walk(struct amk_sftp *s, const char *top, amk_sftp_walk_fn fn, void *user)
{
    int r;

    if (s == NULL || top == NULL || fn == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_started(s)) != AMK_OK)
        return r;
    /* the walk calls back as it goes: it cannot be resumed */
    if (!amk_sftp_is_blocking(s))
        return amk_error_set(&s->detail, AMK_ESTATE, "sftp: walk needs blocking mode");
    return walk(s, top, fn, user, 1);
}
