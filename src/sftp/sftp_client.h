/*
 * The SFTP client engine, sans-I/O: it takes the bytes of the "sftp"
 * subsystem's stream as they come (any chunking) and gives the bytes to
 * send. Requests get ids; replies are matched by id in any order and kept
 * until taken. It never reads, writes or waits.
 *
 * Life: amk_sftpc_new() queues INIT; feed input until amk_sftpc_ready();
 * then amk_sftpc_send() requests and amk_sftpc_take() their replies.
 * At most AMK_SFTPC_INFLIGHT_MAX requests are outstanding (AMK_ELIMIT),
 * so memory is bounded by them: the output queue holds the requests not
 * yet sent, the input one packet of at most AMK_SFTP_PACKET_MAX.
 *
 * Errors: a reply with an id no request has (or had), a reply of a type
 * its request cannot have, a packet over the size cap or a malformed
 * packet fail the engine (AMK_EPROTO, AMK_ETOOBIG, AMK_EFORMAT,
 * AMK_ETRUNCATED) with a detail (amk_sftpc_last_error()); a failed engine
 * returns its first error from every later call. AMK_EINVAL, AMK_ESTATE,
 * AMK_ELIMIT and AMK_EAGAIN do not fail it.
 */
#ifndef AMK_SFTP_CLIENT_H
#define AMK_SFTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "sftp/sftp_codec.h"

#define AMK_SFTPC_INFLIGHT_MAX 256

/* The fields of one request; which are used depends on the type. */
struct amk_sftp_req {
    const char *path;           /* most path requests; RENAME/hardlink old path; SYMLINK link */
    const char *path2;          /* RENAME new path; SYMLINK target */
    const uint8_t *handle;      /* CLOSE, READ, WRITE, FSTAT, FSETSTAT, READDIR */
    size_t handle_len;
    uint64_t offset;            /* READ, WRITE */
    uint32_t len;               /* READ */
    const void *data;           /* WRITE data; EXTENDED request data (encoded fields) */
    size_t data_len;
    uint32_t pflags;            /* OPEN */
    const struct amk_sftp_attrs *attrs; /* OPEN, SETSTAT, FSETSTAT, MKDIR */
    const char *ext_name;       /* EXTENDED */
    int symlink_openssh;        /* SYMLINK: OpenSSH's reversed order */
};

struct amk_sftpc;

/* A new engine with INIT queued. AMK_EINVAL, AMK_ENOMEM. */
int amk_sftpc_new(struct amk_sftpc **out) AMK_SFTP_MUST_CHECK;
void amk_sftpc_free(struct amk_sftpc *c);

/* Bytes to send: a view of *@p len bytes (valid until the next call). */
const uint8_t *amk_sftpc_output(const struct amk_sftpc *c, size_t *len);
/* The first @p n bytes of the output were sent. AMK_EINVAL beyond it. */
int amk_sftpc_output_consume(struct amk_sftpc *c, size_t n) AMK_SFTP_MUST_CHECK;

/*
 * The time, in seconds on the caller's clock, at which the input given
 * from now on was received. Each reply carries the time in force when its
 * last byte was given (amk_sftp_reply.arrived; 0 until this is called),
 * so a caller that takes it later still knows when it came: request round
 * trips are measured to then.
 */
void amk_sftpc_set_time(struct amk_sftpc *c, double now);

/* Received bytes, any chunking. AMK_OK or the engine's (fatal) error.
 * (Copies: a reader that can, uses amk_sftpc_input_space() instead.) */
int amk_sftpc_input(struct amk_sftpc *c, const uint8_t *data, size_t len) AMK_SFTP_MUST_CHECK;

/*
 * Receiving without a copy: _space gives where the next bytes go (*@p p)
 * and how many to read at most (*@p cap, >= 1); the caller reads up to
 * that many there and calls _commit with the count. The space never
 * crosses a packet's end, so a packet is assembled in place and handed on
 * from there. AMK_EINVAL for more than *@p cap; the engine's error.
 */
int amk_sftpc_input_space(struct amk_sftpc *c, uint8_t **p, size_t *cap) AMK_SFTP_MUST_CHECK;
int amk_sftpc_input_commit(struct amk_sftpc *c, size_t n) AMK_SFTP_MUST_CHECK;

/*
 * Called for each DATA reply (draft-02 §7) to a pending READ, with a view
 * of the data valid during the call. Return 1 when the data was used:
 * the reply kept for amk_sftpc_take() then has data NULL and data_len the
 * count. Return 0 to keep the data in the reply as usual.
 */
typedef int (*amk_sftpc_data_fn)(void *ctx, uint32_t id, const uint8_t *data, size_t len);
void amk_sftpc_set_data_fn(struct amk_sftpc *c, amk_sftpc_data_fn fn, void *ctx);

/*
 * A WRITE whose data is filled in place: _begin queues its header and
 * gives *@p p, room for @p cap data bytes in the output; the caller
 * fills up to @p cap of them and calls _end with the count, which gives
 * the request's id (0 and nothing sent when @p got is 0). No other
 * request may be queued in between (AMK_ESTATE). Errors as
 * amk_sftpc_send().
 */
int amk_sftpc_write_begin(struct amk_sftpc *c, const uint8_t *handle, size_t handle_len,
    uint64_t offset, size_t cap, uint8_t **p) AMK_SFTP_MUST_CHECK;
int amk_sftpc_write_end(struct amk_sftpc *c, size_t got, uint32_t *id) AMK_SFTP_MUST_CHECK;

/* 1 once the server's VERSION has arrived. */
int amk_sftpc_ready(const struct amk_sftpc *c);
/* The VERSION (NULL before it arrived). */
const struct amk_sftp_version *amk_sftpc_version(const struct amk_sftpc *c);
/* 1 when VERSION listed @p name; *@p data / *@p len (may be NULL) get its data. */
int amk_sftpc_has_ext(const struct amk_sftpc *c, const char *name, const uint8_t **data,
    size_t *len);

/*
 * Queues request @p type (AMK_SSH_FXP_OPEN .. SYMLINK, EXTENDED) and gives
 * its id. AMK_ESTATE before VERSION; AMK_ELIMIT with
 * AMK_SFTPC_INFLIGHT_MAX outstanding; AMK_EINVAL (bad type or fields);
 * AMK_ETOOBIG (packet over the cap); AMK_ENOMEM; the engine's error.
 */
int amk_sftpc_send(struct amk_sftpc *c, uint8_t type, const struct amk_sftp_req *req,
    uint32_t *id) AMK_SFTP_MUST_CHECK;
/* Requests outstanding (sent, reply not yet taken or arrived). */
size_t amk_sftpc_inflight(const struct amk_sftpc *c);
/* Of those, the ones whose reply has arrived and waits to be taken. */
size_t amk_sftpc_arrived(const struct amk_sftpc *c);

/* Moves the reply to request @p id into *@p rep (clear it with
 * amk_sftp_reply_clear()). AMK_EAGAIN while it has not arrived;
 * AMK_EINVAL for an id not outstanding; the engine's error. */
int amk_sftpc_take(struct amk_sftpc *c, uint32_t id, struct amk_sftp_reply *rep)
    AMK_SFTP_MUST_CHECK;
/* The id of some request whose reply has arrived (oldest first among
 * slots), or AMK_EAGAIN. */
int amk_sftpc_next_done(const struct amk_sftpc *c, uint32_t *id) AMK_SFTP_MUST_CHECK;
/* Gives up on request @p id: its reply is dropped when (or if already)
 * it arrives. AMK_EINVAL for an id not outstanding. */
int amk_sftpc_forget(struct amk_sftpc *c, uint32_t id) AMK_SFTP_MUST_CHECK;
/* Closes @p handle, which nobody will use again, without waiting: CLOSE
 * goes now or with the next request, and its reply is dropped. A HANDLE
 * reply to a forgotten request is closed this way by the engine itself.
 * Nothing to do on a failed engine (the session takes its handles along). */
void amk_sftpc_close_later(struct amk_sftpc *c, const uint8_t *handle, size_t len);

int amk_sftpc_error(const struct amk_sftpc *c);
const char *amk_sftpc_last_error(const struct amk_sftpc *c);

#endif
