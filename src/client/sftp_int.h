/*
 * The blocking SFTP client of amiko/sftp.h, in the front layer: it drives
 * the sans-I/O engine of src/sftp over a byte stream and reads and writes
 * local files for get and put. Internals shared by sftp.c (connection and
 * path operations), sftp_file.c (files, directories, pipelined transfers)
 * and sftp_channel.c (the stream over an SSH session channel).
 */
#ifndef AMK_CLIENT_SFTP_INT_H
#define AMK_CLIENT_SFTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/sftp.h>

#include "sftp/sftp_client.h"
#include "util/err.h"

/* The byte stream under an amk_sftp. Both calls block: write takes at
 * least one byte (*done > 0) or fails; read gives at least one byte, or
 * *got 0 at end of stream. */
struct amk_sftp_stream {
    int (*write)(void *ctx, const uint8_t *p, size_t len, size_t *done);
    int (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *got);
    void (*close)(void *ctx);       /* frees ctx; may be NULL */
    void *ctx;
};

#define AMK_SFTP_IO_DEFAULT ((size_t)32 * 1024)     /* draft-02 §3: 32768 is always allowed */
#define AMK_SFTP_IO_MAX ((size_t)256 * 1024)        /* our largest read or write */
#define AMK_SFTP_WINDOW_BYTES ((size_t)16 * 1024 * 1024) /* bytes in flight in a transfer */
#define AMK_SFTP_RBUF 65536

struct amk_sftp {
    struct amk_sftpc *eng;
    struct amk_sftp_stream st;
    int err;                    /* first fatal error */
    struct amk_error detail;
    uint32_t last_status;
    size_t read_len, write_len;
    int openssh;                /* an OpenSSH server: SYMLINK order reversed */
    uint8_t rbuf[AMK_SFTP_RBUF];
};

struct amk_sftp_file {
    struct amk_sftp *sftp;
    uint8_t handle[AMK_SFTP_HANDLE_MAX];
    size_t handle_len;
    uint64_t pos;
    /* directories: the batch of the last READDIR */
    struct amk_sftp_name *names;
    size_t n_names, next;
    int dir_eof;
};

/* Starts SFTP over @p st (taken over: closed by amk_sftp_free(), and on failure). */
int amk_sftp_new_stream(struct amk_sftp **out, const struct amk_sftp_stream *st)
    AMK_SFTP_MUST_CHECK;

/* Sends what is queued, blocking. */
int amk_sftp_flush(struct amk_sftp *s) AMK_SFTP_MUST_CHECK;
/* Reads once from the stream into the engine, blocking. */
int amk_sftp_recv(struct amk_sftp *s) AMK_SFTP_MUST_CHECK;
/* Sends a request; waits for its reply. */
int amk_sftp_call(struct amk_sftp *s, uint8_t type, const struct amk_sftp_req *req,
    struct amk_sftp_reply *rep) AMK_SFTP_MUST_CHECK;
/* Waits for the reply to @p id. */
int amk_sftp_wait(struct amk_sftp *s, uint32_t id, struct amk_sftp_reply *rep)
    AMK_SFTP_MUST_CHECK;
/* Waits for any reply: *@p id and *@p rep. */
int amk_sftp_wait_any(struct amk_sftp *s, uint32_t *id, struct amk_sftp_reply *rep)
    AMK_SFTP_MUST_CHECK;
/* A reply that should be STATUS: AMK_OK for SSH_FX_OK, else the mapped
 * code with the server's message as detail. @p what names the operation. */
int amk_sftp_status(struct amk_sftp *s, const struct amk_sftp_reply *rep, const char *what)
    AMK_SFTP_MUST_CHECK;
/* 1 when the server offers extension @p name in a version we speak. */
int amk_sftp_offers(const struct amk_sftp *s, const char *name);
/* EXTENDED @p name with @p data; AMK_ENOTSUP (not fatal) when not offered. */
int amk_sftp_call_ext(struct amk_sftp *s, const char *name, const struct amk_buf *data,
    struct amk_sftp_reply *rep) AMK_SFTP_MUST_CHECK;
/* Records a fatal error (the first one sticks) and returns it. */
int amk_sftp_fail(struct amk_sftp *s, int code, const char *what);

#endif
