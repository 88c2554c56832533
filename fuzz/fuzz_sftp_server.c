/*
 * Fuzz target for the SFTP server engine (src/sftp/sftp_server.c and the
 * request decoder of sftp_codec.c): the input is the client's side of the
 * stream. The first byte chooses the chunking, whole-packets mode,
 * read-only mode and a small output bound (back-pressure); the rest is
 * fed to the engine, whose
 * output is drained and checked to be whole, well-framed replies.
 *
 * The backend is an in-memory fake (no filesystem is touched): a few
 * names exist, every operation answers from them, so every request path
 * of the engine runs. The corpus (fuzz/corpus/sftp_server) holds streams
 * recorded from OpenSSH's sftp client (fuzz/gen_sftp_server_corpus.sh).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sftp/sftp_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Slices of one copy-data stepped before it is abandoned to
 * amk_sftps_free() (a copy of the fake's sizes could take 2^53). */
#define STEPS_MAX 64

struct fake_file {
    uint64_t size;
};

static int
known(const char *path)
{
    /* "missing" anywhere: ENOENT; "deny": EACCES; the rest exists */
    if (strstr(path, "missing") != NULL)
        return ENOENT;
    if (strstr(path, "deny") != NULL)
        return EACCES;
    return 0;
}

static int
f_open(void *u, const char *path, uint32_t pflags, const struct amk_sftp_attrs *a, void **fh)
{
    struct fake_file *f;
    int e;

    (void)u; (void)pflags; (void)a;
    if ((e = known(path)) != 0)
        return e;
    if ((f = malloc(sizeof(*f))) == NULL)
        return ENOMEM;
    f->size = strlen(path) * 1000;
    *fh = f;
    return 0;
}

static int
f_close(void *u, void *fh)
{
    (void)u;
    free(fh);
    return 0;
}

static int
f_pread(void *u, void *fh, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct fake_file *f = fh;

    (void)u;
    *got = 0;
    if (off >= f->size)
        return 0;
    if (len > f->size - off)
        len = (size_t)(f->size - off);
    memset(buf, 'x', len);
    *got = len;
    return 0;
}

static int
f_pwrite(void *u, void *fh, const void *buf, size_t len, uint64_t off)
{
    struct fake_file *f = fh;

    (void)u; (void)buf;
    if (off > UINT64_MAX - len)
        return EFBIG;
    if (off + len > f->size)
        f->size = off + len;
    return 0;
}

static int
f_fstat(void *u, void *fh, struct amk_sftp_attrs *a)
{
    (void)u;
    a->flags = AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_PERMISSIONS;
    a->size = ((struct fake_file *)fh)->size;
    a->permissions = 0100644;
    return 0;
}

static int
f_fsetstat(void *u, void *fh, const struct amk_sftp_attrs *a)
{
    (void)u;
    if (a->flags & AMK_SFTP_ATTR_SIZE)
        ((struct fake_file *)fh)->size = a->size;
    return 0;
}

static int
f_opendir(void *u, const char *path, void **dh)
{
    int *n, e;

    (void)u;
    if ((e = known(path)) != 0)
        return e;
    if ((n = malloc(sizeof(*n))) == NULL)
        return ENOMEM;
    *n = 0;
    *dh = n;
    return 0;
}

static int
f_readdir(void *u, void *dh, struct amk_sftps_dirent *e, int *eof)
{
    int *n = dh;

    (void)u;
    if (*n >= 300) {
        *eof = 1;
        return 0;
    }
    /* long names make the batch hit the byte bound too */
    memset(e->name, 'n', 200);
    e->name[200] = '\0';
    e->name[0] = (char)('a' + *n % 26);
    memcpy(e->longname, "-rw-r--r--    1 u g 0 Jan  1  1970 ", 35);
    memcpy(e->longname + 35, e->name, 201);
    e->attrs.flags = AMK_SFTP_ATTR_PERMISSIONS;
    e->attrs.permissions = 0100644;
    (*n)++;
    return 0;
}

static int
f_stat(void *u, const char *path, int follow, struct amk_sftp_attrs *a)
{
    (void)u; (void)follow;
    a->flags = AMK_SFTP_ATTR_PERMISSIONS;
    a->permissions = 040755;
    return known(path);
}

static int
f_setstat(void *u, const char *path, int follow, const struct amk_sftp_attrs *a)
{
    (void)u; (void)follow; (void)a;
    return known(path);
}

static int
f_path(void *u, const char *path)
{
    (void)u;
    return known(path);
}

static int
f_mkdir(void *u, const char *path, const struct amk_sftp_attrs *a)
{
    (void)u; (void)a;
    return known(path);
}

static int
f_realpath(void *u, const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);

    (void)u;
    if (n + 2 > cap)
        return ENAMETOOLONG;
    out[0] = '/';
    memcpy(out + 1, path, n + 1);
    return known(path);
}

static int
f_rename(void *u, const char *a, const char *b, int replace)
{
    (void)u; (void)replace;
    return known(a) != 0 ? known(a) : known(b);
}

static int
f_two(void *u, const char *a, const char *b)
{
    (void)u;
    return known(a) != 0 ? known(a) : known(b);
}

static int
f_statvfs(void *u, const char *path, struct amk_sftp_statvfs *st)
{
    (void)u;
    st->bsize = 4096;
    return known(path);
}

static int
f_fstatvfs(void *u, void *fh, struct amk_sftp_statvfs *st)
{
    (void)u; (void)fh;
    st->bsize = 4096;
    return 0;
}

static int
f_fsync(void *u, void *fh)
{
    (void)u; (void)fh;
    return 0;
}

/* copy_data: the range capped at the source's size, at most @p max bytes
 * "copied" (the target grows) per call, so a copy takes several
 * amk_sftps_step() calls (cfg.copy_slice is small). */
static int
f_copy(void *u, void *from, void *to, struct amk_sftps_copy *c, uint64_t max)
{
    uint64_t size = ((struct fake_file *)from)->size, n;
    int e;

    (void)u;
    if (c->from_off == 3000 && max > 0)
        return EIO;             /* a failure mid-copy (the third slice from 0) */
    if (c->len == 0 || c->len > size - (c->from_off < size ? c->from_off : size))
        c->len = c->from_off < size ? size - c->from_off : 0;
    if (from == to && c->len > 0 && c->from_off < c->to_off + c->len &&
        c->to_off < c->from_off + c->len)
        return EINVAL;
    n = c->len < max ? c->len : max;
    if ((e = f_pwrite(NULL, to, NULL, (size_t)n, c->to_off)) != 0)
        return e;
    c->from_off += n;
    c->to_off += n;
    c->len -= n;
    return 0;
}

static int
f_home(void *u, const char *name, char *out, size_t cap)
{
    (void)u;
    if (strlen(name) + 7 > cap)
        return ENAMETOOLONG;
    memcpy(out, "/home/", 6);
    memcpy(out + 6, name, strlen(name) + 1);
    return known(name);
}

static int
f_name(void *u, uint32_t id, char *out, size_t cap)
{
    (void)u;
    if (id % 3 == 0 || cap < 200)
        return ENOENT;
    memset(out, 'u', 199);
    out[id % 199] = '\0';
    return 0;
}

static const struct amk_sftps_fs_ops FAKE = {
    .open = f_open, .close = f_close, .pread = f_pread, .pwrite = f_pwrite,
    .fstat = f_fstat, .fsetstat = f_fsetstat, .opendir = f_opendir, .readdir = f_readdir,
    .closedir = f_close, .stat = f_stat, .setstat = f_setstat, .remove = f_path,
    .mkdir = f_mkdir, .rmdir = f_path, .realpath = f_realpath, .rename = f_rename,
    .readlink = f_realpath, .symlink = f_two, .hardlink = f_two, .statvfs = f_statvfs,
    .fstatvfs = f_fstatvfs, .fsync = f_fsync, .copy_data = f_copy, .home = f_home,
    .user_name = f_name, .group_name = f_name,
};

/* Drains the output, checking every reply is a whole packet of a reply type. */
static void
drain(struct amk_sftps *s)
{
    const uint8_t *p;
    size_t len, off = 0;

    p = amk_sftps_output(s, &len);
    while (off < len) {
        uint32_t n;

        if (len - off < 5)
            abort();
        n = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
            p[off + 3];
        if (n == 0 || n > AMK_SFTP_PACKET_MAX || len - off - 4 < n)
            abort();
        if (p[off + 4] != AMK_SSH_FXP_VERSION && (p[off + 4] < AMK_SSH_FXP_STATUS ||
            p[off + 4] > AMK_SSH_FXP_EXTENDED_REPLY))
            abort();
        off += 4 + (size_t)n;
    }
    if (amk_sftps_output_consume(s, len) != AMK_OK)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_sftps_config cfg = { .read_only = 0 };
    struct amk_sftps *s = NULL;
    size_t chunk, used, carry = 0;

    if (size < 1)
        return 0;
    /* bits 0-5: chunk size (odd: whole_packets mode, where the harness
     * keeps a split packet and offers it again with more bytes); bit 6:
     * read-only; bit 7: tiny output bound */
    chunk = ((size_t)(data[0] & 0x3f) + 1) * ((data[0] & 0x3f) == 0x3f ? 4096 : 7);
    cfg.whole_packets = (data[0] & 1) != 0;
    cfg.read_only = (data[0] & 0x40) != 0;
    cfg.out_max = (data[0] & 0x80) ? 64 : 0;
    cfg.max_handles = 4;
    /* a copy-data of the fake's files (1000 bytes a path character)
     * takes several steps */
    cfg.copy_slice = 1500;
    data++;
    size--;
    if (amk_sftps_new(&s, &FAKE, NULL, &cfg) != AMK_OK)
        abort();
    while (size > 0) {
        size_t n = size < carry + chunk ? size : carry + chunk;
        int r = amk_sftps_input(s, data, n, &used);

        if (used > n)
            abort();
        drain(s);
        /* a copy-data in progress: no input taken until it is done; one
         * at the end of the input, or of more than STEPS_MAX slices (the
         * fake's files can be 2^63 bytes), is left to amk_sftps_free() */
        for (int steps = 0; r == AMK_OK && amk_sftps_busy(s); steps++) {
            size_t u2 = 0;

            if (amk_sftps_input(s, data + used, n - used, &u2) != AMK_OK || u2 != 0)
                abort();
            if (used == size || steps == STEPS_MAX)
                goto out;
            r = amk_sftps_step(s);
            drain(s);
        }
        if (r != AMK_OK) {
            if (amk_sftps_error(s) != r || amk_sftps_last_error(s)[0] == '\0')
                abort();
            break;
        }
        data += used;
        size -= used;
        carry = n - used;
        if (used == 0 && n > 0) {
            /* only an incomplete packet kept back in whole_packets mode
             * may be refused (the output was empty): more bytes follow,
             * or the input ends inside the packet */
            if (!cfg.whole_packets)
                abort();
            if (n == size)
                break;
        }
    }
out:
    amk_sftps_free(s);
    return 0;
}
