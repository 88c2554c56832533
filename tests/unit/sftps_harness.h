/*
 * The SFTP server engine over the POSIX backend in a temporary directory,
 * for the unit tests that feed it exact requests (test_sftp_server.c,
 * test_sftp_fs.c): start/stop, queue and flush requests, take and check
 * replies.
 */
#ifndef AMK_TEST_SFTPS_HARNESS_H
#define AMK_TEST_SFTPS_HARNESS_H

#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/sftp_fs.h"
#include "sftp/sftp_codec.h"
#include "sftp/sftp_server.h"
#include "util/buf.h"

struct srv {
    char top[256];              /* temp dir: root/ and out/ below it */
    char root[300];
    char out[300];
    struct amk_sftp_fs *fs;
    struct amk_sftps *s;
    struct amk_buf req;
};

static inline void
path_in(const struct srv *t, const char *dir, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static inline void
write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static inline void
rm_tree(const char *top)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    assert_int_equal(system(cmd), 0);
}

/* Feeds the queued requests; all must be taken. A copy-data pauses the
 * input: it is stepped to its end (as a server's loop does) and the rest
 * fed after it. */
static inline void
flush_req(struct srv *t)
{
    size_t off = 0, used;

    for (;;) {
        used = 0;
        ASSERT_OK(amk_sftps_input(t->s, amk_buf_ptr(&t->req) + off,
            amk_buf_len(&t->req) - off, &used));
        off += used;
        if (!amk_sftps_busy(t->s))
            break;
        while (amk_sftps_busy(t->s))
            ASSERT_OK(amk_sftps_step(t->s));
    }
    assert_int_equal(off, amk_buf_len(&t->req));
    amk_buf_reset(&t->req);
}

/* Takes the next reply packet off the output and decodes it. */
static inline void
take_reply(struct srv *t, struct amk_sftp_reply *rep)
{
    const uint8_t *p;
    size_t len;
    uint32_t n;

    p = amk_sftps_output(t->s, &len);
    assert_true(len >= 4);
    n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    assert_true(len >= 4 + (size_t)n);
    ASSERT_OK(amk_sftp_dec_reply(p + 4, n, rep));
    ASSERT_OK(amk_sftps_output_consume(t->s, 4 + (size_t)n));
}

static inline void
expect_status(struct srv *t, uint32_t id, uint32_t code)
{
    struct amk_sftp_reply rep;

    flush_req(t);
    take_reply(t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_STATUS);
    assert_int_equal(rep.id, id);
    if (rep.status != code)
        fail_msg("status %u (%s), expected %u", rep.status,
            rep.message != NULL ? rep.message : "", code);
    amk_sftp_reply_clear(&rep);
}

static inline void
srv_start(struct srv *t, int confined, const struct amk_sftps_config *cfg)
{
    struct amk_sftp_version v;
    const uint8_t *p;
    size_t len;

    memset(t, 0, sizeof(*t));
    snprintf(t->top, sizeof(t->top), "/tmp/amk_sftps_XXXXXX");
    assert_non_null(mkdtemp(t->top));
    snprintf(t->root, sizeof(t->root), "%s/root", t->top);
    snprintf(t->out, sizeof(t->out), "%s/out", t->top);
    assert_int_equal(mkdir(t->root, 0755), 0);
    assert_int_equal(mkdir(t->out, 0755), 0);
    ASSERT_OK(amk_sftp_fs_new(&t->fs, confined ? t->root : NULL, confined ? NULL : t->root,
        NULL, 0));
    ASSERT_OK(amk_sftps_new(&t->s, amk_sftp_fs_ops(), t->fs, cfg));
    amk_buf_init(&t->req);
    ASSERT_OK(amk_sftp_enc_init(&t->req, 3));
    flush_req(t);
    assert_int_equal(amk_sftps_started(t->s), 1);
    p = amk_sftps_output(t->s, &len);
    assert_true(len > 4);
    ASSERT_OK(amk_sftp_dec_version(p + 4, len - 4, &v));
    assert_int_equal(v.version, 3);
    assert_true(v.n_ext >= 10);
    amk_sftp_version_clear(&v);
    ASSERT_OK(amk_sftps_output_consume(t->s, len));
}

static inline void
srv_stop(struct srv *t)
{
    amk_sftps_free(t->s);
    amk_sftp_fs_free(t->fs);
    amk_buf_release(&t->req);
    rm_tree(t->top);
}

/* Opens @p path, gives the handle. */
static inline void
open_file(struct srv *t, uint32_t id, const char *path, uint32_t pflags, uint8_t *h, size_t *hl)
{
    struct amk_sftp_reply rep;

    ASSERT_OK(amk_sftp_enc_open(&t->req, id, path, pflags, NULL));
    flush_req(t);
    take_reply(t, &rep);
    if (rep.type != AMK_SSH_FXP_HANDLE)
        fail_msg("open %s: status %u %s", path, rep.status, rep.message ? rep.message : "");
    assert_int_equal(rep.id, id);
    memcpy(h, rep.handle, rep.handle_len);
    *hl = rep.handle_len;
    amk_sftp_reply_clear(&rep);
}

static inline void
put_ext_path(struct srv *t, uint32_t id, const char *ext, const char *p1, const char *p2)
{
    struct amk_buf e;

    amk_buf_init(&e);
    if (p1 != NULL)
        ASSERT_OK(amk_buf_put_cstring(&e, p1));
    if (p2 != NULL)
        ASSERT_OK(amk_buf_put_cstring(&e, p2));
    ASSERT_OK(amk_sftp_enc_extended(&t->req, id, ext, amk_buf_ptr(&e), amk_buf_len(&e)));
    amk_buf_release(&e);
}

#endif
