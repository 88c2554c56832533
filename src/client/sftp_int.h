/*
 * The blocking SFTP client of amiko/sftp.h, in the front layer: it drives
 * the sans-I/O engine of src/sftp over a byte stream and reads and writes
 * local files for get and put. Internals shared by sftp.c (connection and
 * path operations), sftp_file.c (files and directories), sftp_xfer.c
 * (pipelined transfers), sftp_tree.c and sftp_channel.c (the stream over
 * an SSH session channel).
 */
#ifndef AMK_CLIENT_SFTP_INT_H
#define AMK_CLIENT_SFTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/session.h>
#include <amiko/sftp.h>

#include "sftp/sftp_client.h"
#include "util/err.h"

/* The byte stream under an amk_sftp. Write takes at least one byte
 * (*done > 0) or fails; read gives at least one byte, or *got 0 at end of
 * stream. A blocking stream waits for that; a non-blocking one returns
 * AMK_EAGAIN instead. */
struct amk_sftp_stream {
    int (*write)(void *ctx, const uint8_t *p, size_t len, size_t *done);
    int (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *got);
    void (*close)(void *ctx);       /* frees ctx; may be NULL */
    /* After AMK_EAGAIN: AMK_WAIT_READ / AMK_WAIT_WRITE; NULL: the
     * direction of the call that returned it. */
    int (*dirs)(void *ctx);
    /* 1 when calls wait; NULL: blocking until a call returns AMK_EAGAIN. */
    int (*blocking)(void *ctx);
    /* Optional, for blocking streams whose write can be held up by the
     * peer's flow control (a channel's window): a read that never waits
     * (AMK_EAGAIN), and a wait for "anything new" (data or a window
     * adjust) bounded by the stream's timeout. With these, a blocking
     * amk_sftp never waits inside write while replies are unread, which
     * would deadlock a get and a put sharing one channel. */
    int (*read_try)(void *ctx, uint8_t *buf, size_t cap, size_t *got);
    int (*wait)(void *ctx);
    void *ctx;
};

#define AMK_SFTP_IO_DEFAULT ((size_t)32 * 1024)     /* draft-02 §3: 32768 is always allowed */
#define AMK_SFTP_IO_MAX ((size_t)256 * 1024)        /* our largest read or write */
#define AMK_SFTP_WINDOW_BYTES ((size_t)16 * 1024 * 1024) /* bytes in flight in a transfer */

/*
 * Request slots transfers leave to others. The READs and WRITEs of
 * transfers alone could take all AMK_SFTPC_INFLIGHT_MAX of the engine
 * (four at their cap of 64), and a call made between their steps (stat,
 * open, close, a listdir's READDIR) would find none: AMK_ELIMIT, which
 * amiko/sftp.h does not give. So their pipelining stops
 * AMK_SFTP_XFER_SLOTS_SPARE short of the top and waits for replies there,
 * as at its own limit; their control requests (OPEN, FSTAT, FSETSTAT,
 * CLOSE, one per transfer at a time) may use that reserve but for its last
 * AMK_SFTP_CALL_SLOTS_SPARE. A transfer with nothing in flight may send
 * one READ or WRITE as a control request may (sftp_xfer.c, has_room()).
 * 16 leaves room for a dozen transfers' control requests at once, and is
 * a quarter of one transfer's cap: fewer than four transfers at full
 * depth never meet the bound.
 *
 * The slots count what is on the wire, not what waits to be taken. A
 * reply is kept in its slot until taken, and a transfer takes its own
 * only when it is stepped: transfers stepped one at a time (or not at
 * all for a while) could hold every slot with replies that all came, and
 * the one stepped, with nothing in flight, would wait for ever for a
 * reply to free one. So whoever needs a slot and finds none under its
 * bound first moves the replies that came for other transfers out of the
 * engine into those transfers (amk_sftp_xfer_park(): the reply only,
 * none of their logic runs), where their next step takes them before the
 * engine's. What then holds the slots is requests whose replies are on
 * the way (and at most one call's reply, resumed by its caller), so a
 * step or call that still finds none may wait: a reply comes. Memory
 * stays bounded by the requests in flight: a transfer keeps at most one
 * reply per request it sent, and sends none while not stepped.
 */
#define AMK_SFTP_XFER_SLOTS_SPARE 16
#define AMK_SFTP_CALL_SLOTS_SPARE 4

/* Start-up: INIT sent, then limits@openssh.com asked for, then ready. */
enum amk_sftp_start {
    AMK_SFTP_START_VERSION = 0,
    AMK_SFTP_START_LIMITS,
    AMK_SFTP_START_READY
};

/* By slot: the transfer whose request @p id is (every READ, WRITE and
 * control request of transfers: amk_sftp_xfer_park() finds them here),
 * and for a READ where its data goes (the engine's data callback writes
 * it from the input buffer straight to its place). */
struct amk_sftp_sink {
    uint32_t id;
    struct amk_sftp_transfer *t;        /* NULL: none (a call's, or free) */
    uint64_t off;
};

struct amk_sftp {
    struct amk_sftpc *eng;
    struct amk_sftp_stream st;
    int err;                    /* first fatal error */
    struct amk_error detail;
    uint32_t last_status;
    size_t read_len, write_len;
    int openssh;                /* SYMLINK goes target first (OpenSSH's order) */
    /* The SSH server's version string names Paramiko, whose SFTP server
     * reads SYMLINK target first without offering anything that says so
     * (amk_sftp_new_client(); doc/PROTOCOL.md). */
    int peer_target_first;
    enum amk_sftp_symlink_order symlink_order;  /* AUTO: by the two above */
    enum amk_sftp_start start;
    uint32_t limits_id;
    int nonblocking;            /* the stream returned AMK_EAGAIN once */
    int wait_dirs;              /* AMK_WAIT_* of the last AMK_EAGAIN */
    /* The request of a call that returned AMK_EAGAIN, resumed when the
     * same call is made again (see amiko/sftp.h, "Non-blocking"). */
    int pend_active;
    uint8_t pend_type;
    uint32_t pend_id;
    uint64_t pend_key;          /* hash of its arguments: "the same call" */
    /* Calls of several requests, resumed the same way. */
    struct amk_sftp_transfer *pend_xfer;    /* get, put, pread, pwrite */
    struct amk_sftp_pend_list *pend_list;   /* listdir */
    int listing;                /* in amk_sftp_listdir(): its own calls keep pend_list */
    /* amk_sftp_listdir()'s bounds (AMK_SFTP_LIST_MAX_*; a unit test lowers them) */
    size_t list_max_entries, list_max_bytes;
    /* The transfer whose progress callback runs (amk_sftp_transfer_current()). */
    struct amk_sftp_transfer *current;
    /* Every transfer not yet freed, ended by amk_sftp_free() (amk_sftp_xfer_end_all()). */
    struct amk_sftp_transfer *xfers;
    struct amk_sftp_sink sink[AMK_SFTPC_INFLIGHT_MAX];
    /* The clock of request round trips: when a READ or WRITE is sent and
     * when its reply is read off the stream (amk_sftp_clock(); a unit
     * test steers its own). */
    double (*now)(void);
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

/* Seconds on CLOCK_MONOTONIC. */
double amk_sftp_clock(void);

/* Starts SFTP over @p st (taken over: closed by amk_sftp_free(), and on failure). */
int amk_sftp_new_stream(struct amk_sftp **out, const struct amk_sftp_stream *st)
    AMK_SFTP_MUST_CHECK;

/* Drives start-up on: AMK_OK once ready, AMK_EAGAIN, or the error. */
int amk_sftp_started(struct amk_sftp *s) AMK_SFTP_MUST_CHECK;
/* Sends what is queued (AMK_EAGAIN: not all of it could go now). */
int amk_sftp_flush(struct amk_sftp *s) AMK_SFTP_MUST_CHECK;
/* Reads once from the stream into the engine (AMK_EAGAIN: nothing now). */
int amk_sftp_recv(struct amk_sftp *s) AMK_SFTP_MUST_CHECK;
/* 1 when the stream waits in its calls. */
int amk_sftp_is_blocking(const struct amk_sftp *s);
/* Gives up whatever call returned AMK_EAGAIN and waits to be made again
 * (its transfer freed, its request's reply dropped when it comes), for a
 * caller that will not make it again (a tree transfer stopping). */
void amk_sftp_give_up_pending(struct amk_sftp *s);
/* A call starts: gives up the pending calls of the kinds not in @p keep
 * (amiko/sftp.h, "Non-blocking": another call gives a pending one up). */
#define AMK_SFTP_PEND_CALL 0x1u     /* pend_active: one request */
#define AMK_SFTP_PEND_XFER 0x2u     /* pend_xfer */
#define AMK_SFTP_PEND_LIST 0x4u     /* pend_list */
void amk_sftp_give_up_others(struct amk_sftp *s, unsigned keep);
/* Sends a request; waits for its reply. */
int amk_sftp_call(struct amk_sftp *s, uint8_t type, const struct amk_sftp_req *req,
    struct amk_sftp_reply *rep) AMK_SFTP_MUST_CHECK;
/* Waits for the reply to @p id. */
int amk_sftp_wait(struct amk_sftp *s, uint32_t id, struct amk_sftp_reply *rep)
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

/* Transfers (sftp_xfer.c). pread and pwrite of an open file run as a
 * transfer between the file and memory. */
int amk_sftp_xfer_mem(struct amk_sftp_file *f, int put, void *buf, size_t len, uint64_t offset,
    struct amk_sftp_transfer **out) AMK_SFTP_MUST_CHECK;
/* Steps @p t until it is finished (AMK_OK or its error) or, non-blocking,
 * the stream would wait (AMK_EAGAIN). */
int amk_sftp_xfer_run1(struct amk_sftp_transfer *t) AMK_SFTP_MUST_CHECK;
/* amk_sftp_get() flag of tree copies: @p local is a name from the server,
 * not the caller's, so a symlink there is not written through (O_NOFOLLOW). */
#define AMK_SFTP_XFER_NOFOLLOW 0x100u
/* amk_sftp_get() that also takes AMK_SFTP_XFER_NOFOLLOW. */
int amk_sftp_get_below(struct amk_sftp *s, const char *remote, const char *local, unsigned flags,
    amk_sftp_progress_fn progress, void *user) AMK_SFTP_MUST_CHECK;
/* amk_sftp_put(), giving a new @p remote the permission bits @p mode
 * (-1: the local file's plus owner write, as amk_sftp_put() does). */
int amk_sftp_put_mode(struct amk_sftp *s, const char *local, const char *remote, unsigned flags,
    long mode, amk_sftp_progress_fn progress, void *user) AMK_SFTP_MUST_CHECK;
/* The end of the data read by a memory get (where the file ended). */
uint64_t amk_sftp_xfer_end(const struct amk_sftp_transfer *t);
/* 1 when @p t is the memory transfer of these arguments. */
int amk_sftp_xfer_matches(const struct amk_sftp_transfer *t, const struct amk_sftp_file *f,
    int put, const void *buf, size_t len, uint64_t offset);
/* Gives up a pending pread / pwrite on @p f (it is being closed). */
void amk_sftp_xfer_forget_file(struct amk_sftp *s, const struct amk_sftp_file *f);
/* Moves the replies that arrived for transfers other than @p keep (NULL:
 * any) out of the engine into those transfers, freeing their slots (see
 * AMK_SFTP_XFER_SLOTS_SPARE). Gives how many it moved. */
size_t amk_sftp_xfer_park(struct amk_sftp *s, const struct amk_sftp_transfer *keep);
/* The session is being freed: ends the transfers still on it
 * (AMK_ECLOSED), which stay to be freed by their owners. */
void amk_sftp_xfer_end_all(struct amk_sftp *s);
/* The engine's data callback (set at start-up). */
int amk_sftp_sink_data(void *ctx, uint32_t id, const uint8_t *data, size_t len);
/* Frees the state of calls left pending (amk_sftp_free()). */
void amk_sftp_pend_list_free(struct amk_sftp_pend_list *l);

#endif
