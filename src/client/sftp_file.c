/*
 * Blocking SFTP files and directories, and the pipelined transfers behind
 * pread, pwrite, get and put: many READ / WRITE requests in flight (sized
 * by limits@openssh.com, the number in flight growing while replies come
 * back full), replies taken in whatever order they arrive, short reads
 * re-requested, memory bounded by the requests in flight. See amiko/sftp.h.
 */
#include "client/sftp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INFLIGHT_START 4

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
    if ((r = amk_sftp_call(f->sftp, AMK_SSH_FXP_CLOSE, &q, &rep)) == AMK_OK)
        r = amk_sftp_status(f->sftp, &rep, "close");
    amk_sftp_reply_clear(&rep);
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

/* --- Pipelines ------------------------------------------------------- */

/* One READ or WRITE in flight. */
struct piece {
    uint32_t id;
    uint64_t off;
    size_t len;
};

struct pipeline {
    struct amk_sftp *s;
    struct amk_sftp_file *f;
    struct piece *pieces;
    size_t n, cap;          /* in flight; slots */
    size_t limit;           /* in flight allowed now (grows to cap) */
    uint64_t done;          /* bytes completed */
    uint64_t total;         /* for progress */
    amk_sftp_progress_fn progress;
    void *user;
};

static int
pipe_init(struct pipeline *p, struct amk_sftp_file *f, size_t piece_len)
{
    size_t cap = AMK_SFTP_WINDOW_BYTES / piece_len;

    memset(p, 0, sizeof(*p));
    p->s = f->sftp;
    p->f = f;
    if (cap < 2)
        cap = 2;
    if (cap > AMK_SFTPC_INFLIGHT_MAX / 2)
        cap = AMK_SFTPC_INFLIGHT_MAX / 2;
    p->cap = cap;
    p->limit = INFLIGHT_START < cap ? INFLIGHT_START : cap;
    if ((p->pieces = calloc(cap, sizeof(*p->pieces))) == NULL)
        return AMK_ENOMEM;
    return AMK_OK;
}

/* Forgets what is still in flight (after an error) and frees. */
static void
pipe_release(struct pipeline *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (amk_sftpc_forget(p->s->eng, p->pieces[i].id) != AMK_OK)
            break;
    free(p->pieces);
    p->pieces = NULL;
    p->n = 0;
}

static int
pipe_add(struct pipeline *p, uint8_t type, uint64_t off, size_t len, const void *data)
{
    struct amk_sftp_req q;
    int r;

    memset(&q, 0, sizeof(q));
    q.handle = p->f->handle;
    q.handle_len = p->f->handle_len;
    q.offset = off;
    q.len = (uint32_t)len;
    q.data = data;
    q.data_len = data != NULL ? len : 0;
    if ((r = amk_sftpc_send(p->s->eng, type, &q, &p->pieces[p->n].id)) != AMK_OK)
        return r == AMK_EINVAL || r == AMK_ELIMIT ? r : amk_sftp_fail(p->s, r, "sftp");
    p->pieces[p->n].off = off;
    p->pieces[p->n].len = len;
    p->n++;
    return AMK_OK;
}

/* Waits for any reply of the pipeline; removes its piece into *@p pc. */
static int
pipe_next(struct pipeline *p, struct amk_sftp_reply *rep, struct piece *pc)
{
    uint32_t id;
    int r;

    if ((r = amk_sftp_wait_any(p->s, &id, rep)) != AMK_OK)
        return r;
    for (size_t i = 0; i < p->n; i++) {
        if (p->pieces[i].id == id) {
            *pc = p->pieces[i];
            p->pieces[i] = p->pieces[--p->n];
            return AMK_OK;
        }
    }
    amk_sftp_reply_clear(rep);
    return amk_sftp_fail(p->s, AMK_EINTERNAL, "sftp: reply to a request of another operation");
}

static int
pipe_progress(struct pipeline *p, size_t n)
{
    p->done += n;
    if (p->progress == NULL)
        return AMK_OK;
    return p->progress(p->user, p->done, p->total);
}

/* Where read data goes. */
typedef int (*sink_fn)(void *ctx, uint64_t off, const uint8_t *data, size_t len);

/*
 * Reads [start, end) (end UINT64_MAX: to the end of file) with many READs
 * in flight, handing every piece to @p sink in arrival order. *@p eof_at
 * gets where the file ended (or end); on failure, where the data handed
 * to @p sink stops being contiguous from @p start (so a partial copy can
 * be cut there and resumed).
 */
static int
read_pipeline(struct amk_sftp_file *f, uint64_t start, uint64_t end, sink_fn sink, void *ctx,
    amk_sftp_progress_fn progress, void *user, uint64_t total, uint64_t *eof_at)
{
    struct pipeline p;
    struct amk_sftp_reply rep;
    struct piece pc;
    uint64_t next = start, eof = end, hole = UINT64_MAX;
    size_t rlen = f->sftp->read_len;
    int r, first = AMK_OK;

    memset(&rep, 0, sizeof(rep));
    *eof_at = start;
    if ((r = pipe_init(&p, f, rlen)) != AMK_OK)
        return r;
    p.progress = progress;
    p.user = user;
    p.total = total;
    p.done = start;         /* progress counts the bytes of the file in place */
    for (;;) {
        while (first == AMK_OK && p.n < p.limit && next < eof) {
            size_t len = eof - next < rlen ? (size_t)(eof - next) : rlen;
            if ((r = pipe_add(&p, AMK_SSH_FXP_READ, next, len, NULL)) != AMK_OK)
                goto out;
            next += len;
        }
        if (p.n == 0)
            break;
        if ((r = pipe_next(&p, &rep, &pc)) != AMK_OK)
            goto out;
        if (rep.type == AMK_SSH_FXP_STATUS) {
            /* draft-02 §6.4: EOF when no byte at all could be read. */
            if (rep.status == 1) {
                if (pc.off < eof)
                    eof = pc.off;
            } else if (first == AMK_OK) {
                hole = pc.off < hole ? pc.off : hole;
                first = amk_sftp_status(f->sftp, &rep, "read");
                if (first == AMK_OK)
                    first = amk_sftp_fail(f->sftp, AMK_EPROTO, "sftp: READ answered OK");
            }
        } else {
            if (rep.data_len > pc.len) {
                hole = pc.off < hole ? pc.off : hole;
                r = amk_sftp_fail(f->sftp, AMK_EPROTO, "sftp: more data than asked for");
                goto out;
            }
            if (rep.data_len == 0) {
                if (pc.off < eof)
                    eof = pc.off;
            } else if (pc.off < eof && first != AMK_OK) {
                hole = pc.off < hole ? pc.off : hole;     /* not written */
            } else if (pc.off < eof) {
                size_t use = rep.data_len;
                if (eof - pc.off < use)
                    use = (size_t)(eof - pc.off);
                if ((r = sink(ctx, pc.off, rep.data, use)) != AMK_OK) {
                    first = r;
                    hole = pc.off < hole ? pc.off : hole;
                } else if ((r = pipe_progress(&p, use)) != AMK_OK) {
                    first = r;
                    hole = pc.off + use < hole ? pc.off + use : hole;
                } else if (rep.data_len < pc.len) {
                    /* a short read: ask for the rest at once */
                    if ((r = pipe_add(&p, AMK_SSH_FXP_READ, pc.off + rep.data_len,
                            pc.len - rep.data_len, NULL)) != AMK_OK) {
                        hole = pc.off + use < hole ? pc.off + use : hole;
                        goto out;
                    }
                } else if (p.limit < p.cap) {
                    p.limit++;
                }
            }
        }
        amk_sftp_reply_clear(&rep);
    }
    r = first;
out:
    if (r != AMK_OK) {
        for (size_t i = 0; i < p.n; i++)
            hole = p.pieces[i].off < hole ? p.pieces[i].off : hole;
        hole = next < hole ? next : hole;
    }
    *eof_at = hole < eof ? hole : eof;
    amk_sftp_reply_clear(&rep);
    pipe_release(&p);
    return r;
}

/* Where written data comes from: fills up to @p len bytes at @p off into
 * @p buf, *@p got 0 at its end. */
typedef int (*source_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t len, size_t *got);

static int
write_pipeline(struct amk_sftp_file *f, uint64_t start, uint64_t len_max, source_fn src,
    void *ctx, amk_sftp_progress_fn progress, void *user, uint64_t total)
{
    struct pipeline p;
    struct amk_sftp_reply rep;
    struct piece pc;
    uint64_t next = start;
    size_t wlen = f->sftp->write_len, got;
    uint8_t *buf = NULL;
    int r, first = AMK_OK, src_end = 0;

    memset(&rep, 0, sizeof(rep));
    if ((r = pipe_init(&p, f, wlen)) != AMK_OK)
        return r;
    p.progress = progress;
    p.user = user;
    p.total = total;
    p.done = start;         /* progress counts the bytes of the file in place */
    p.limit = p.cap;        /* a WRITE's answer is small: fill the window at once */
    if ((buf = malloc(wlen)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    for (;;) {
        while (first == AMK_OK && !src_end && p.n < p.limit) {
            size_t want = wlen;
            if (next - start >= len_max) {
                src_end = 1;
                break;
            }
            if (len_max - (next - start) < want)
                want = (size_t)(len_max - (next - start));
            if ((r = src(ctx, next, buf, want, &got)) != AMK_OK) {
                first = r;
                break;
            }
            if (got == 0) {
                src_end = 1;
                break;
            }
            if ((r = pipe_add(&p, AMK_SSH_FXP_WRITE, next, got, buf)) != AMK_OK)
                goto out;
            next += got;
            /* send as we go: a short output queue is never copied around */
            if ((r = amk_sftp_flush(f->sftp)) != AMK_OK)
                goto out;
        }
        if (p.n == 0)
            break;
        if ((r = pipe_next(&p, &rep, &pc)) != AMK_OK)
            goto out;
        r = amk_sftp_status(f->sftp, &rep, "write");
        amk_sftp_reply_clear(&rep);
        if (r != AMK_OK) {
            if (first == AMK_OK)
                first = r;
        } else if (first == AMK_OK && (r = pipe_progress(&p, pc.len)) != AMK_OK) {
            first = r;
        }
    }
    r = first;
out:
    free(buf);
    amk_sftp_reply_clear(&rep);
    pipe_release(&p);
    return r;
}

/* --- Reading and writing --------------------------------------------- */

struct mem {
    uint8_t *p;
    const uint8_t *cp;
    uint64_t base;
    size_t len;
};

static int
mem_sink(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
    struct mem *m = ctx;

    if (off < m->base || off - m->base > m->len || len > m->len - (off - m->base))
        return AMK_EINTERNAL;
    memcpy(m->p + (off - m->base), data, len);
    return AMK_OK;
}

static int
mem_source(void *ctx, uint64_t off, uint8_t *buf, size_t len, size_t *got)
{
    const struct mem *m = ctx;
    size_t at = (size_t)(off - m->base);

    *got = at >= m->len ? 0 : (m->len - at < len ? m->len - at : len);
    memcpy(buf, m->cp + at, *got);
    return AMK_OK;
}

int
amk_sftp_pread(struct amk_sftp_file *f, void *buf, size_t len, uint64_t offset, size_t *got)
{
    struct mem m = { .p = buf, .base = offset, .len = len };
    uint64_t eof = 0;
    int r;

    if (got != NULL)
        *got = 0;
    if (f == NULL || (buf == NULL && len > 0) || got == NULL || offset > UINT64_MAX - len)
        return AMK_EINVAL;
    if (len == 0)
        return AMK_OK;
    if ((r = read_pipeline(f, offset, offset + len, mem_sink, &m, NULL, NULL, 0, &eof)) != AMK_OK)
        return r;
    *got = (size_t)(eof - offset);
    return AMK_OK;
}

int
amk_sftp_pwrite(struct amk_sftp_file *f, const void *buf, size_t len, uint64_t offset)
{
    struct mem m = { .cp = buf, .base = offset, .len = len };

    if (f == NULL || (buf == NULL && len > 0) || offset > UINT64_MAX - len)
        return AMK_EINVAL;
    if (len == 0)
        return AMK_OK;
    return write_pipeline(f, offset, len, mem_source, &m, NULL, NULL, 0);
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

int
amk_sftp_listdir(struct amk_sftp *s, const char *path, struct amk_sftp_name **names, size_t *n)
{
    struct amk_sftp_file *d = NULL;
    struct amk_sftp_name *list = NULL, e;
    size_t count = 0, cap = 0;
    int r, more, rc;

    if (names != NULL)
        *names = NULL;
    if (n != NULL)
        *n = 0;
    if (s == NULL || path == NULL || names == NULL || n == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_opendir(s, path, &d)) != AMK_OK)
        return r;
    for (;;) {
        if ((r = amk_sftp_readdir(d, &e, &more)) != AMK_OK || !more)
            break;
        if (strcmp(e.filename, ".") == 0 || strcmp(e.filename, "..") == 0)
            continue;
        if (count == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            struct amk_sftp_name *nl = realloc(list, ncap * sizeof(*nl));
            if (nl == NULL) {
                r = AMK_ENOMEM;
                break;
            }
            list = nl;
            cap = ncap;
        }
        /* take the strings over from the directory's batch */
        list[count] = e;
        d->names[d->next - 1].filename = NULL;
        d->names[d->next - 1].longname = NULL;
        count++;
    }
    rc = amk_sftp_close(d);
    if (r == AMK_OK)
        r = rc;
    if (r != AMK_OK) {
        amk_sftp_names_free(list, count);
        return r;
    }
    *names = list;
    *n = count;
    return AMK_OK;
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
    if (s == NULL || top == NULL || fn == NULL)
        return AMK_EINVAL;
    return walk(s, top, fn, user, 1);
}

/* --- Whole files ------------------------------------------------------ */

static int
fd_sink(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
    int fd = *(int *)ctx;

    while (len > 0) {
        ssize_t w = pwrite(fd, data, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return AMK_EIO;
        data += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return AMK_OK;
}

static int
fd_source(void *ctx, uint64_t off, uint8_t *buf, size_t len, size_t *got)
{
    int fd = *(int *)ctx;
    ssize_t n;

    do {
        n = pread(fd, buf, len, (off_t)off);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return AMK_EIO;
    *got = (size_t)n;
    return AMK_OK;
}

int
amk_sftp_get(struct amk_sftp *s, const char *remote, const char *local, unsigned flags,
    amk_sftp_progress_fn progress, void *user)
{
    struct amk_sftp_file *f = NULL;
    struct amk_sftp_attrs a;
    struct timespec ts[2];
    struct stat st;
    uint64_t eof = 0, total = 0, start = 0;
    int fd = -1, r, rc;

    if (s == NULL || remote == NULL || local == NULL ||
        (flags & ~(AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE)) != 0)
        return AMK_EINVAL;
    if ((r = amk_sftp_open(s, remote, AMK_SFTP_READ, 0, &f)) != AMK_OK)
        return r;
    if ((r = amk_sftp_fstat(f, &a)) != AMK_OK)
        goto out;
    if (a.flags & AMK_SFTP_ATTR_SIZE)
        total = a.size;
    fd = open(local, O_WRONLY | O_CREAT | O_CLOEXEC |
        ((flags & AMK_SFTP_XFER_RESUME) ? 0 : O_TRUNC), 0644);
    if (fd < 0) {
        r = amk_error_set(&s->detail, AMK_EIO, "sftp: cannot create %s: %s", local,
            strerror(errno));
        goto out;
    }
    if (flags & AMK_SFTP_XFER_RESUME) {
        if (fstat(fd, &st) != 0) {
            r = AMK_EIO;
            goto out;
        }
        start = (uint64_t)st.st_size;
        if ((a.flags & AMK_SFTP_ATTR_SIZE) && start > a.size) {
            r = amk_error_set(&s->detail, AMK_EINVAL,
                "sftp: %s is longer than %s: not a partial copy", local, remote);
            goto out;
        }
    }
    r = read_pipeline(f, start, UINT64_MAX, fd_sink, &fd, progress, user, total, &eof);
    /* after a failure too: what stays is a clean prefix to resume from */
    if (ftruncate(fd, (off_t)eof) != 0 && r == AMK_OK)
        r = AMK_EIO;
    if (r == AMK_OK && (flags & AMK_SFTP_XFER_PRESERVE)) {
        if ((a.flags & AMK_SFTP_ATTR_PERMISSIONS) && fchmod(fd, a.permissions & 07777) != 0)
            r = AMK_EIO;
        if (a.flags & AMK_SFTP_ATTR_ACMODTIME) {
            ts[0].tv_sec = a.atime;
            ts[0].tv_nsec = 0;
            ts[1].tv_sec = a.mtime;
            ts[1].tv_nsec = 0;
            if (futimens(fd, ts) != 0)
                r = AMK_EIO;
        }
    }
out:
    if (fd >= 0 && close(fd) != 0 && r == AMK_OK)
        r = AMK_EIO;
    rc = amk_sftp_close(f);
    return r != AMK_OK ? r : rc;
}

int
amk_sftp_put(struct amk_sftp *s, const char *local, const char *remote, unsigned flags,
    amk_sftp_progress_fn progress, void *user)
{
    struct amk_sftp_file *f = NULL;
    struct amk_sftp_attrs ra, set;
    struct stat st;
    uint64_t start = 0;
    int fd, r, rc;

    if (s == NULL || remote == NULL || local == NULL ||
        (flags & ~(AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE)) != 0)
        return AMK_EINVAL;
    fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return amk_error_set(&s->detail, AMK_EIO, "sftp: cannot open %s: %s", local,
            strerror(errno));
    if (fstat(fd, &st) != 0) {
        close(fd);
        return AMK_EIO;
    }
    if (flags & AMK_SFTP_XFER_RESUME) {
        r = amk_sftp_stat(s, remote, &ra);
        if (r == AMK_OK && (ra.flags & AMK_SFTP_ATTR_SIZE))
            start = ra.size;
        else if (r != AMK_OK && r != AMK_ENOENT) {
            close(fd);
            return r;
        }
        if (start > (uint64_t)st.st_size) {
            close(fd);
            return amk_error_set(&s->detail, AMK_EINVAL,
                "sftp: %s is longer than %s: not a partial copy", remote, local);
        }
    }
    if ((r = amk_sftp_open(s, remote, AMK_SFTP_WRITE | AMK_SFTP_CREAT |
            ((flags & AMK_SFTP_XFER_RESUME) ? 0 : AMK_SFTP_TRUNC), 0644, &f)) != AMK_OK) {
        close(fd);
        return r;
    }
    r = write_pipeline(f, start, UINT64_MAX, fd_source, &fd, progress, user, (uint64_t)st.st_size);
    close(fd);
    if (r == AMK_OK && (flags & AMK_SFTP_XFER_PRESERVE)) {
        memset(&set, 0, sizeof(set));
        set.flags = AMK_SFTP_ATTR_PERMISSIONS | AMK_SFTP_ATTR_ACMODTIME;
        set.permissions = (uint32_t)st.st_mode & 07777;
        set.atime = (uint32_t)st.st_atime;
        set.mtime = (uint32_t)st.st_mtime;
        r = amk_sftp_fsetstat(f, &set);
    }
    rc = amk_sftp_close(f);
    return r != AMK_OK ? r : rc;
}
