/* The two byte queues of a scripted SFTP server in memory, behind
 * amk_sftp_new_io()'s callbacks (test_sftp_symlink.c,
 * test_sftp_cli_paths.c): what the client wrote, cut into packets for the
 * script, and what the script answers, handed back as the client reads.
 * Include after test_helper.h (cmocka's asserts). */
#ifndef AMK_TEST_SFTP_SCRIPT_H
#define AMK_TEST_SFTP_SCRIPT_H

#include <sys/types.h>

#include "sftp_wire.h"

#define SFTP_SCRIPT_IO_CAP 4096

struct sftp_script_io {
    uint8_t in[SFTP_SCRIPT_IO_CAP];
    size_t in_len;
    uint8_t out[SFTP_SCRIPT_IO_CAP];
    size_t out_len;
};

/* Queues the answer whose body of @p n bytes is at @p p + 4 (the length
 * field is filled in here). */
static inline void
sftp_script_emit(struct sftp_script_io *io, uint8_t *p, size_t n)
{
    put32(p, (uint32_t)n);
    assert_true(io->out_len + 4 + n <= sizeof(io->out));
    memcpy(io->out + io->out_len, p, 4 + n);
    io->out_len += 4 + n;
}

/* Takes what the client wrote and gives each whole packet's body to
 * @p serve; a partial packet waits for the rest. */
static inline void
sftp_script_take(struct sftp_script_io *io, const void *buf, size_t len,
    void (*serve)(void *ctx, const uint8_t *body), void *ctx)
{
    size_t off = 0;

    assert_true(io->in_len + len <= sizeof(io->in));
    memcpy(io->in + io->in_len, buf, len);
    io->in_len += len;
    while (io->in_len - off >= 4 && io->in_len - off - 4 >= get32(io->in + off)) {
        serve(ctx, io->in + off + 4);
        off += 4 + get32(io->in + off);
    }
    memmove(io->in, io->in + off, io->in_len - off);
    io->in_len -= off;
}

/* Up to @p len queued answer bytes into @p buf; a client waiting for an
 * answer the script never sends fails the test. */
static inline ssize_t
sftp_script_give(struct sftp_script_io *io, void *buf, size_t len)
{
    size_t n = io->out_len < len ? io->out_len : len;

    if (n == 0)
        fail_msg("the client waits for a reply the script never sends");
    memcpy(buf, io->out, n);
    memmove(io->out, io->out + n, io->out_len - n);
    io->out_len -= n;
    return (ssize_t)n;
}

#endif
