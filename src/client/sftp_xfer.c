/*
 * Transfers: whole-file get and put, and the pread / pwrite of an open
 * file, as objects stepped alone or several at once on one amk_sftp (see
 * amiko/sftp.h). One implementation serves the blocking calls too.
 *
 * Each transfer keeps up to `limit` READ or WRITE requests in flight,
 * at most `cap` (16 MiB of requests, at most a quarter of the engine's
 * slots). Memory is bounded by the requests in flight. Together they
 * leave the engine's last AMK_SFTP_XFER_SLOTS_SPARE slots to control
 * requests and to calls made between steps (sftp_int.h). The engine
 * keeps a reply in its slot until taken; one that came for a transfer
 * not being stepped is moved into that transfer's piece (or control
 * request) when its slot is needed, and taken from there at its next
 * step (amk_sftp_xfer_park()), so the slots count what is on the wire.
 *
 * The limit paces itself on delay (TCP Vegas's rule, counted in
 * requests): each request's round trip (from when it was queued to when
 * its reply was read off the stream, however much later it is taken)
 * against the shortest seen tells how many of the requests in flight with
 * it were waiting in a queue rather than being served. While fewer than {GET,PUT}_QUEUED_LO wait the
 * limit grows (by one per reply until a queue first shows, by one per round
 * trip after that); when more than _QUEUED_HI wait it shrinks by one per
 * round trip; a short read halves it. A get starts at INFLIGHT_START, a
 * put at INFLIGHT_MIN. Against OpenSSH's sshd this matters both ways:
 * data queued in sshd makes it regrow a multi-MiB buffer by one packet
 * at a time, each time into fresh memory with a copy of the whole
 * (strace shows an mmap/munmap pair of ~2.5 MiB every few packets). A put
 * that fills sshd's 2 MiB window costs it about 2.5x the CPU per byte of
 * one that keeps two or three requests in flight; a get that keeps
 * 16 MiB of READs in flight has sshd queue the replies in its channel
 * buffer, 2.2-2.7 CPU s per GiB against 1.7 for a paced one (issue 6).
 * A get tolerates a little more queue than a put (its round trips also
 * carry the reply's 256 KiB, whose time varies). On a long link the
 * shortest round trip is the link's own, so the limit still grows to
 * cover it.
 *
 * The data path copies as little as it can: a DATA reply is written to
 * the local file (pwrite) or the caller's buffer straight from the
 * engine's packet buffer, by the engine's data callback (the reply kept
 * only records its length); a WRITE's data is read (pread) straight into
 * the engine's output queue.
 */
#include "client/sftp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INFLIGHT_START 4
#define INFLIGHT_MIN 2
#define PUT_QUEUED_LO 1.0           /* a put grows while fewer wait... */
#define PUT_QUEUED_HI 2.0           /* ...and shrinks when more do */
#define GET_QUEUED_LO 2.0           /* the same for a get (measured: 1/2 */
#define GET_QUEUED_HI 4.0           /* 455 MiB/s, 2/4 541, sshd's cat 411) */
#define RATE_SAMPLE_S 0.25          /* a rate sample covers at least this */
#define RATE_WEIGHT 0.25            /* of a new sample: about the last 1-2 s */
#define PROGRESS_EVERY_S 0.05       /* the object callback's pace */
#define SLOT_MASK (AMK_SFTPC_INFLIGHT_MAX - 1)
#define CAP_MAX (AMK_SFTPC_INFLIGHT_MAX / 4) /* a transfer's most requests in flight */

enum xkind {
    XK_GET,         /* remote file to local file */
    XK_PUT,         /* local file to remote file */
    XK_MEM_GET,     /* pread: open remote file to memory */
    XK_MEM_PUT      /* pwrite: memory to open remote file */
};

/* Where a transfer is; each state but RUN and DONE has one control
 * request (sent when ctl_out is set). */
enum xstate {
    XS_START,       /* nothing sent */
    XS_STAT,        /* put with resume: STAT of the remote file */
    XS_OPEN,        /* OPEN of the remote file */
    XS_FSTAT,       /* get: FSTAT of the remote file */
    XS_RUN,         /* READs / WRITEs in flight */
    XS_SETSTAT,     /* put with preserve: FSETSTAT */
    XS_CLOSE,       /* CLOSE of the remote handle */
    XS_DONE
};

/* One READ or WRITE in flight. */
struct piece {
    uint32_t id;
    uint64_t off;
    size_t len;
    double sent;                    /* when it was queued (s->now()) */
    size_t ahead;                   /* in flight then, itself included */
    struct amk_sftp_reply *parked;  /* its reply, moved out of the engine; NULL */
};

/* The rest of a short read, not yet asked for. */
struct range {
    uint64_t off;
    size_t len;
};

struct amk_sftp_transfer {
    struct amk_sftp *s;
    enum xkind kind;
    unsigned flags;
    long create_mode;               /* a new target's mode; -1: from the source (create_mode()) */
    char *remote, *local;
    int fd;                         /* the local file; -1 */
    uint8_t *mem;                   /* XK_MEM_GET */
    const uint8_t *cmem;            /* XK_MEM_PUT */
    uint64_t mem_base;
    size_t mem_len;
    struct amk_sftp_file *file;     /* XK_MEM_*: the caller's open file */
    uint8_t handle[AMK_SFTP_HANDLE_MAX];
    size_t handle_len;
    int have_handle;                /* our own handle is open on the server */
    enum xstate state;
    int ctl_out;
    uint32_t ctl_id;
    struct amk_sftp_reply *ctl_parked;  /* its reply, moved out of the engine; NULL */
    struct piece *pieces;
    size_t n, cap, limit, peak;
    size_t piece_len;
    uint64_t start, next, end, total, done;
    uint64_t hole;                  /* get: data before it is contiguous */
    /* get: rests of short reads that found no request slot free (another
     * request may take the one their READ freed: an orphan's CLOSE, see
     * ask_rest()). They are asked for before new ranges from `next`. Each
     * comes from a READ in flight, and none is asked for from `next` while
     * one waits, so rests and READs together never number more than `cap`. */
    struct range rest[CAP_MAX];
    size_t n_rest;
    double rtt_min;                 /* the shortest request round trip; 0 */
    double paced_at;                /* when the limit last moved once queued */
    int queue_seen;                 /* a queue showed (growth slows) */
    int src_end;                    /* put: the source is used up */
    int err;                        /* the first error */
    int result;                     /* AMK_EAGAIN while running */
    char msg[256];
    struct amk_sftp_attrs ra;
    struct stat lst;
    double t0, t_rate, t_cb;
    uint64_t done_rate;
    double rate;
    amk_sftp_progress_fn old_cb;
    amk_sftp_transfer_progress_fn cb;
    void *user;
    struct amk_sftp_transfer *list_prev, *list_next;   /* s->xfers */
};

/* A get (remote to local file or memory) rather than a put. */
static int
is_get(const struct amk_sftp_transfer *t)
{
    return t->kind == XK_GET || t->kind == XK_MEM_GET;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Records @p t's first error (with the session's detail) and returns it. */
static int
xfail(struct amk_sftp_transfer *t, int code)
{
    if (t->err == AMK_OK) {
        t->err = code;
        snprintf(t->msg, sizeof(t->msg), "%s", amk_sftp_last_error(t->s));
    }
    return t->err;
}

static int
xfail_msg(struct amk_sftp_transfer *t, int code, const char *what, const char *path)
{
    if (t->err == AMK_OK)
        amk_error_set(&t->s->detail, code, "sftp: %s %s: %s", what, path, strerror(errno));
    return xfail(t, code);
}

/* --- Creating and freeing --------------------------------------------- */

static int
xfer_new(struct amk_sftp *s, enum xkind kind, unsigned flags, struct amk_sftp_transfer **out)
{
    struct amk_sftp_transfer *t;

    *out = NULL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return AMK_ENOMEM;
    t->s = s;
    t->kind = kind;
    t->flags = flags;
    t->create_mode = -1;
    t->fd = -1;
    t->state = XS_START;
    t->result = AMK_EAGAIN;
    t->err = AMK_OK;
    t->hole = UINT64_MAX;
    t->end = UINT64_MAX;
    t->t0 = t->t_rate = amk_sftp_clock();
    t->t_cb = 0;
    t->list_next = s->xfers;
    if (s->xfers != NULL)
        s->xfers->list_prev = t;
    s->xfers = t;
    *out = t;
    return AMK_OK;
}

static int
start_file(struct amk_sftp *s, enum xkind kind, const char *remote, const char *local,
    unsigned flags, struct amk_sftp_transfer **out)
{
    struct amk_sftp_transfer *t = NULL;
    int r;

    if (out != NULL)
        *out = NULL;
    if (s == NULL || remote == NULL || local == NULL || out == NULL || (flags &
            ~(AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE | AMK_SFTP_XFER_NOFOLLOW)) != 0)
        return AMK_EINVAL;
    if ((r = xfer_new(s, kind, flags, &t)) != AMK_OK)
        return r;
    if ((t->remote = strdup(remote)) == NULL || (t->local = strdup(local)) == NULL) {
        amk_sftp_transfer_free(t);
        return AMK_ENOMEM;
    }
    *out = t;
    return AMK_OK;
}

int
amk_sftp_transfer_start_get(struct amk_sftp *s, const char *remote, const char *local,
    unsigned flags, struct amk_sftp_transfer **out)
{
    if ((flags & AMK_SFTP_XFER_NOFOLLOW) != 0) {   /* not public */
        if (out != NULL)
            *out = NULL;
        return AMK_EINVAL;
    }
    return start_file(s, XK_GET, remote, local, flags, out);
}

int
amk_sftp_transfer_start_put(struct amk_sftp *s, const char *local, const char *remote,
    unsigned flags, struct amk_sftp_transfer **out)
{
    if ((flags & AMK_SFTP_XFER_NOFOLLOW) != 0) {
        if (out != NULL)
            *out = NULL;
        return AMK_EINVAL;
    }
    return start_file(s, XK_PUT, remote, local, flags, out);
}

int
amk_sftp_xfer_mem(struct amk_sftp_file *f, int put, void *buf, size_t len, uint64_t offset,
    struct amk_sftp_transfer **out)
{
    struct amk_sftp_transfer *t = NULL;
    int r;

    if ((r = xfer_new(f->sftp, put ? XK_MEM_PUT : XK_MEM_GET, 0, &t)) != AMK_OK)
        return r;
    t->file = f;
    if (put)
        t->cmem = buf;
    else
        t->mem = buf;
    t->mem_base = offset;
    t->mem_len = len;
    *out = t;
    return AMK_OK;
}

int
amk_sftp_xfer_matches(const struct amk_sftp_transfer *t, const struct amk_sftp_file *f,
    int put, const void *buf, size_t len, uint64_t offset)
{
    return t->file == f && t->kind == (put ? XK_MEM_PUT : XK_MEM_GET) &&
        (put ? (const void *)t->cmem : (const void *)t->mem) == buf && t->mem_len == len &&
        t->mem_base == offset;
}

void
amk_sftp_xfer_forget_file(struct amk_sftp *s, const struct amk_sftp_file *f)
{
    if (s->pend_xfer != NULL && s->pend_xfer->file == f)
        amk_sftp_transfer_free(s->pend_xfer);
}

uint64_t
amk_sftp_xfer_end(const struct amk_sftp_transfer *t)
{
    return min64(t->end, t->hole);
}

void
amk_sftp_transfer_set_progress(struct amk_sftp_transfer *t, amk_sftp_transfer_progress_fn fn,
    void *user)
{
    if (t == NULL)
        return;
    t->cb = fn;
    t->user = user;
    t->old_cb = NULL;
}

/* Records @p t as the sender of request @p id (a READ of data for @p off). */
static void
own(struct amk_sftp_transfer *t, uint32_t id, uint64_t off)
{
    struct amk_sftp_sink *k = &t->s->sink[id & SLOT_MASK];

    k->id = id;
    k->t = t;
    k->off = off;
}

/* Request @p id of @p t left the engine (taken, or given up). */
static void
disown(struct amk_sftp_transfer *t, uint32_t id)
{
    struct amk_sftp_sink *k = &t->s->sink[id & SLOT_MASK];

    if (k->t == t && k->id == id)
        k->t = NULL;
}

static void
parked_free(struct amk_sftp_reply **rep)
{
    if (*rep == NULL)
        return;
    amk_sftp_reply_clear(*rep);
    free(*rep);
    *rep = NULL;
}

/* Gives up request @p id of @p t: its reply is dropped as it comes, or
 * now if it came (*@p parked: moved out of the engine, so none of its
 * slot is left). A HANDLE is closed without waiting, as the engine
 * does for one it drops. */
static void
drop_request(struct amk_sftp_transfer *t, uint32_t id, struct amk_sftp_reply **parked)
{
    struct amk_sftp *s = t->s;

    if (*parked != NULL) {
        if ((*parked)->type == AMK_SSH_FXP_HANDLE)
            amk_sftpc_close_later(s->eng, (*parked)->handle, (*parked)->handle_len);
        parked_free(parked);
        return;
    }
    disown(t, id);
    if (amk_sftpc_forget(s->eng, id) != AMK_OK)
        (void)amk_sftp_fail(s, AMK_EINTERNAL, "sftp: lost a request in flight");
}

/* Gives up what is in flight: replies are dropped as they come. */
static void
drop_inflight(struct amk_sftp_transfer *t)
{
    for (size_t i = 0; i < t->n; i++) {
        drop_request(t, t->pieces[i].id, &t->pieces[i].parked);
        if (t->kind == XK_GET)
            t->hole = min64(t->hole, t->pieces[i].off);
    }
    t->n = 0;
    if (t->ctl_out)
        drop_request(t, t->ctl_id, &t->ctl_parked);
    t->ctl_out = 0;
}

/* Where a get's local copy stops being a clean prefix of the remote file. */
static uint64_t
clean_end(const struct amk_sftp_transfer *t)
{
    uint64_t e = min64(t->end, t->hole);

    if (t->err != AMK_OK || t->result != AMK_OK) {
        for (size_t i = 0; i < t->n; i++)
            e = min64(e, t->pieces[i].off);
        /* the rests of short reads too: kept until the end, never asked
         * for once @p t failed (can_issue()) */
        for (size_t i = 0; i < t->n_rest; i++)
            e = min64(e, t->rest[i].off);
        e = min64(e, t->next);
    }
    return e;
}

/* A get given up in its run keeps the clean prefix of its local file. */
static void
cut_local(struct amk_sftp_transfer *t)
{
    if (t->kind == XK_GET && t->fd >= 0 && t->state == XS_RUN) {
        t->err = t->err != AMK_OK ? t->err : AMK_ECLOSED;
        if (ftruncate(t->fd, (off_t)clean_end(t)) != 0) {
            /* nothing to report to: the prefix is longer than clean */
        }
    }
}

/* Takes @p t off its session's list. */
static void
unlink_xfer(struct amk_sftp_transfer *t)
{
    if (t->list_prev != NULL)
        t->list_prev->list_next = t->list_next;
    else
        t->s->xfers = t->list_next;
    if (t->list_next != NULL)
        t->list_next->list_prev = t->list_prev;
    t->list_prev = t->list_next = NULL;
}

void
amk_sftp_transfer_free(struct amk_sftp_transfer *t)
{
    if (t == NULL)
        return;
    if (t->s != NULL && t->result == AMK_EAGAIN) {
        cut_local(t);
        drop_inflight(t);
        /* close our handle without waiting for the answer (an OPEN still
         * out is closed by the engine when its HANDLE comes) */
        if (t->have_handle)
            amk_sftpc_close_later(t->s->eng, t->handle, t->handle_len);
    }
    if (t->fd >= 0)
        close(t->fd);
    if (t->s != NULL) {
        if (t->s->pend_xfer == t)
            t->s->pend_xfer = NULL;
        if (t->s->current == t)
            t->s->current = NULL;
        unlink_xfer(t);
    }
    free(t->pieces);
    free(t->remote);
    free(t->local);
    free(t);
}

void
amk_sftp_xfer_end_all(struct amk_sftp *s)
{
    struct amk_sftp_transfer *t;

    while ((t = s->xfers) != NULL) {
        if (t->result == AMK_EAGAIN) {
            cut_local(t);
            if (t->err == AMK_OK)
                t->err = AMK_ECLOSED;
            snprintf(t->msg, sizeof(t->msg), "sftp: the session was freed");
            t->result = t->err;
        }
        /* the engine goes with the session: only what was moved out of it is ours */
        for (size_t i = 0; i < t->n; i++)
            parked_free(&t->pieces[i].parked);
        parked_free(&t->ctl_parked);
        t->n = 0;
        t->ctl_out = 0;
        if (t->fd >= 0)
            close(t->fd);
        t->fd = -1;
        unlink_xfer(t);
        t->s = NULL;
    }
}

/* --- Progress --------------------------------------------------------- */

int
amk_sftp_transfer_progress(const struct amk_sftp_transfer *t,
    struct amk_sftp_transfer_progress *p)
{
    double el;

    if (t == NULL || p == NULL)
        return AMK_EINVAL;
    memset(p, 0, sizeof(*p));
    el = amk_sftp_clock() - t->t0;
    p->done = t->done;
    p->total = t->total;
    p->start = t->start;
    p->elapsed = el;
    /* before the first sample: the average so far */
    p->rate = t->rate > 0 ? t->rate : (el > 0 ? (double)(t->done - t->start) / el : 0);
    p->inflight = t->n;
    p->inflight_limit = t->limit;
    p->inflight_peak = t->peak;
    p->request_len = t->piece_len;
    p->finished = t->result != AMK_EAGAIN;
    return AMK_OK;
}

struct amk_sftp_transfer *
amk_sftp_transfer_current(struct amk_sftp *s)
{
    return s == NULL ? NULL : s->current;
}

/* Calls the object's callback (paced) or the old-style one (each piece). */
static int
call_progress(struct amk_sftp_transfer *t, int force)
{
    struct amk_sftp_transfer_progress p;
    double now;
    int r = AMK_OK;

    if (t->old_cb == NULL && t->cb == NULL)
        return AMK_OK;
    t->s->current = t;
    if (t->old_cb != NULL) {
        r = t->old_cb(t->user, t->done, t->total);
    } else {
        now = amk_sftp_clock();
        if (force || now - t->t_cb >= PROGRESS_EVERY_S) {
            t->t_cb = now;
            if (amk_sftp_transfer_progress(t, &p) == AMK_OK)
                r = t->cb(t->user, t, &p);
        }
    }
    t->s->current = NULL;
    return r;
}

/* @p n more bytes in place: the smoothed rate and the callback. */
static int
note_done(struct amk_sftp_transfer *t, size_t n)
{
    double now, dt, inst;

    t->done += n;
    now = amk_sftp_clock();
    dt = now - t->t_rate;
    if (dt >= RATE_SAMPLE_S) {
        inst = (double)(t->done - t->done_rate) / dt;
        t->rate = t->rate == 0 ? inst : RATE_WEIGHT * inst + (1 - RATE_WEIGHT) * t->rate;
        t->t_rate = now;
        t->done_rate = t->done;
    }
    return call_progress(t, 0);
}

/* --- The data path ------------------------------------------------------ */

/* Puts @p len bytes read at @p off where they go; a failure is @p t's. */
static void
land(struct amk_sftp_transfer *t, uint64_t off, const uint8_t *data, size_t len)
{
    ssize_t w;

    if (t->err != AMK_OK || off >= t->end)
        return;
    if (t->end - off < len)
        len = (size_t)(t->end - off);
    if (t->kind == XK_MEM_GET) {
        if (off < t->mem_base || off - t->mem_base > t->mem_len ||
            len > t->mem_len - (off - t->mem_base)) {
            t->hole = min64(t->hole, off);
            (void)xfail(t, amk_sftp_fail(t->s, AMK_EINTERNAL, "sftp: data out of range"));
            return;
        }
        memcpy(t->mem + (off - t->mem_base), data, len);
        return;
    }
    while (len > 0) {
        w = pwrite(t->fd, data, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->hole = min64(t->hole, off);
            (void)xfail_msg(t, AMK_EIO, "cannot write", t->local);
            return;
        }
        data += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
}

int
amk_sftp_sink_data(void *ctx, uint32_t id, const uint8_t *data, size_t len)
{
    struct amk_sftp *s = ctx;
    struct amk_sftp_sink *k = &s->sink[id & SLOT_MASK];
    struct amk_sftp_transfer *t = k->t;

    if (t == NULL || k->id != id)
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->pieces[i].id == id) {
            if (len > t->pieces[i].len)
                return 0;       /* left to the reply's checks: a protocol error */
            land(t, k->off, data, len);
            return 1;
        }
    }
    return 0;
}

static int
piece_add(struct amk_sftp_transfer *t, uint32_t id, uint64_t off, size_t len)
{
    t->pieces[t->n].id = id;
    t->pieces[t->n].off = off;
    t->pieces[t->n].len = len;
    t->pieces[t->n].sent = t->s->now();
    t->pieces[t->n].ahead = t->n + 1;
    t->pieces[t->n].parked = NULL;
    t->n++;
    if (t->n > t->peak)
        t->peak = t->n;
    own(t, id, off);
    return AMK_OK;
}

/* A READ of [@p off, +@p len). AMK_EAGAIN when the engine is full. */
static int
send_read(struct amk_sftp_transfer *t, uint64_t off, size_t len)
{
    struct amk_sftp_req q;
    uint32_t id;
    int r;

    memset(&q, 0, sizeof(q));
    q.handle = t->handle;
    q.handle_len = t->handle_len;
    q.offset = off;
    q.len = (uint32_t)len;
    r = amk_sftpc_send(t->s->eng, AMK_SSH_FXP_READ, &q, &id);
    if (r == AMK_ELIMIT)
        return AMK_EAGAIN;
    if (r != AMK_OK)
        return amk_sftp_fail(t->s, r, "sftp");
    return piece_add(t, id, off, len);
}

/* Whether @p t has one more READ / WRITE to send (room allowing). */
static int
can_issue(const struct amk_sftp_transfer *t)
{
    if (t->result != AMK_EAGAIN || t->state != XS_RUN || t->err != AMK_OK || t->n >= t->limit)
        return 0;
    if (is_get(t))
        return t->n_rest > 0 || t->next < t->end;
    return !t->src_end;
}

/* The slots @p t leaves free for its next control request, or its next
 * READ / WRITE with nothing in flight. A transfer object leaves those kept
 * for calls (sftp_int.h). The transfer of a call (get, put, pread,
 * pwrite: s->pend_xfer) is that call, and may use them: transfer objects
 * can hold every other slot, their replies unread until they are stepped,
 * and it would wait for ever. Any other call gives it up first. */
static size_t
spare_for_one(const struct amk_sftp_transfer *t)
{
    return t->s->pend_xfer == t ? 0 : AMK_SFTP_CALL_SLOTS_SPARE;
}

/* Whether the engine has a slot for @p t below its last @p spare. The
 * replies that came for other transfers, not stepped, are moved out of
 * their slots first if need be (sftp_int.h): what is left holding them is
 * on the wire, and its replies come. */
static int
room_below(struct amk_sftp_transfer *t, size_t spare)
{
    struct amk_sftpc *eng = t->s->eng;

    if (amk_sftpc_inflight(eng) < AMK_SFTPC_INFLIGHT_MAX - spare)
        return 1;
    return amk_sftp_xfer_park(t->s, t) > 0 &&
        amk_sftpc_inflight(eng) < AMK_SFTPC_INFLIGHT_MAX - spare;
}

/* Whether the engine has a slot for one more READ / WRITE of @p t: not
 * one of those kept for control requests and calls (sftp_int.h). With
 * nothing in flight it may take one as a control request may, so that a
 * transfer stepped alone while others fill the pipeline (a pread between
 * steps of transfer objects) still moves, one request at a time. */
static int
has_room(struct amk_sftp_transfer *t)
{
    return room_below(t, t->n == 0 ? spare_for_one(t) : AMK_SFTP_XFER_SLOTS_SPARE);
}

/* Asks again for the lowest rest of a short read (the local file fills
 * from the front: a failure cuts off as little as it can). A rest past
 * an end found since is asked for all the same: the server says EOF. */
static int
issue_rest(struct amk_sftp_transfer *t)
{
    size_t lo = 0;
    int r;

    for (size_t i = 1; i < t->n_rest; i++)
        if (t->rest[i].off < t->rest[lo].off)
            lo = i;
    if ((r = send_read(t, t->rest[lo].off, t->rest[lo].len)) != AMK_OK)
        return r;
    t->rest[lo] = t->rest[--t->n_rest];
    return AMK_OK;
}

/* Sends one READ or WRITE. AMK_OK (sent, or the source ended);
 * AMK_EAGAIN (the engine is full); a fatal error. */
static int
issue_one(struct amk_sftp_transfer *t)
{
    struct amk_sftp *s = t->s;
    size_t want = t->piece_len, got = 0;
    uint8_t *p;
    uint32_t id;
    ssize_t n;
    int r;

    if (is_get(t)) {
        if (t->n_rest > 0)
            return issue_rest(t);
        if (t->end - t->next < want)
            want = (size_t)(t->end - t->next);
        if ((r = send_read(t, t->next, want)) != AMK_OK)
            return r;
        t->next += want;
        return AMK_OK;
    }
    if (t->kind == XK_MEM_PUT) {
        uint64_t at = t->next - t->mem_base;
        if (at >= t->mem_len) {
            t->src_end = 1;
            return AMK_OK;
        }
        if (t->mem_len - at < want)
            want = (size_t)(t->mem_len - at);
    }
    /* the data goes straight into the output queue */
    r = amk_sftpc_write_begin(s->eng, t->handle, t->handle_len, t->next, want, &p);
    if (r == AMK_ELIMIT)
        return AMK_EAGAIN;
    if (r != AMK_OK)
        return amk_sftp_fail(s, r, "sftp");
    if (t->kind == XK_MEM_PUT) {
        memcpy(p, t->cmem + (t->next - t->mem_base), want);
        got = want;
    } else {
        do {
            n = pread(t->fd, p, want, (off_t)t->next);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            (void)xfail_msg(t, AMK_EIO, "cannot read", t->local);
            n = 0;
        }
        got = (size_t)n;
    }
    if ((r = amk_sftpc_write_end(s->eng, got, &id)) != AMK_OK)
        return amk_sftp_fail(s, r, "sftp");
    if (got == 0) {
        t->src_end = 1;
        return AMK_OK;
    }
    piece_add(t, id, t->next, got);
    t->next += got;
    return AMK_OK;
}

/* Vegas's rule on the round trip of piece @p pc, whose reply @p rep came
 * (see the top). The round trip ends when the reply was read off the
 * stream, not now: a transfer stepped rarely takes replies long after
 * they came (moved aside meanwhile, amk_sftp_xfer_park()), and that wait
 * is the caller's, not a queue at the server. */
static void
pace(struct amk_sftp_transfer *t, const struct piece *pc, const struct amk_sftp_reply *rep)
{
    int get = is_get(t);
    double lo = get ? GET_QUEUED_LO : PUT_QUEUED_LO, hi = get ? GET_QUEUED_HI : PUT_QUEUED_HI;
    double now = t->s->now(), rtt = rep->arrived - pc->sent, queued;
    int once_per_rtt = pc->sent >= t->paced_at;

    if (rtt <= 0)
        return;
    if (t->rtt_min == 0 || rtt < t->rtt_min) {
        /* a new floor says nothing about a queue: no move on it */
        t->rtt_min = rtt;
        return;
    }
    /* of the requests in flight when it was sent, the share that waited */
    queued = (double)pc->ahead * (1.0 - t->rtt_min / rtt);
    if (queued > hi) {
        t->queue_seen = 1;
        /* once per round trip: the next sample must have seen this limit */
        if (t->limit > INFLIGHT_MIN && once_per_rtt) {
            t->limit--;
            t->paced_at = now;
        }
    } else if (queued < lo && t->limit < t->cap) {
        /* one more per reply (doubling per round trip) until a queue
         * first shows, one more per round trip after that */
        if (!t->queue_seen) {
            t->limit++;
        } else if (once_per_rtt) {
            t->limit++;
            t->paced_at = now;
        }
    }
}

/* Asks for [@p off, +@p len), the rest of a short read, at once in the
 * slot its READ freed (no room check: that slot was ours). The engine may
 * have given that slot to an orphan's CLOSE first (amk_sftpc_send()) while
 * given-up calls hold the others: then the rest waits in t->rest for
 * issue_one(), which asks for it before any new range. */
static int
ask_rest(struct amk_sftp_transfer *t, uint64_t off, size_t len)
{
    int r = send_read(t, off, len);

    if (r == AMK_EAGAIN && t->n_rest < CAP_MAX) {   /* always room: see t->rest */
        t->rest[t->n_rest].off = off;
        t->rest[t->n_rest++].len = len;
        return AMK_OK;
    }
    if (r != AMK_OK) {
        t->hole = min64(t->hole, off);
        return xfail(t, r == AMK_EAGAIN ? AMK_EINTERNAL : r);
    }
    return AMK_OK;
}

/* The reply to READ piece @p pc of a get. */
static int
got_read(struct amk_sftp_transfer *t, const struct piece *pc, struct amk_sftp_reply *rep)
{
    size_t use;
    int r;

    if (rep->type == AMK_SSH_FXP_STATUS) {
        /* draft-02 §6.4: EOF when no byte at all could be read */
        if (rep->status == AMK_SSH_FX_EOF) {
            t->end = min64(t->end, pc->off);
            return AMK_OK;
        }
        t->hole = min64(t->hole, pc->off);
        if (t->err == AMK_OK) {
            r = amk_sftp_status(t->s, rep, "read");
            if (r == AMK_OK)
                r = amk_sftp_fail(t->s, AMK_EPROTO, "sftp: READ answered OK");
            (void)xfail(t, r);
        }
        return AMK_OK;
    }
    if (rep->data_len > pc->len) {
        t->hole = min64(t->hole, pc->off);
        return xfail(t, amk_sftp_fail(t->s, AMK_EPROTO, "sftp: more data than asked for"));
    }
    if (rep->data_len == 0) {
        t->end = min64(t->end, pc->off);
        return AMK_OK;
    }
    if (rep->data != NULL)          /* not taken by the data callback */
        land(t, pc->off, rep->data, rep->data_len);
    if (t->err != AMK_OK) {
        t->hole = min64(t->hole, pc->off);
        return AMK_OK;
    }
    if (pc->off >= t->end)
        return AMK_OK;
    use = t->end - pc->off < rep->data_len ? (size_t)(t->end - pc->off) : rep->data_len;
    if ((r = note_done(t, use)) != AMK_OK) {
        t->hole = min64(t->hole, pc->off + use);
        return xfail(t, r);
    }
    if (rep->data_len < pc->len && pc->off + rep->data_len < t->end) {
        /* a short read: ask less at a time, and ask for the rest */
        t->limit = t->limit / 2 > INFLIGHT_MIN ? t->limit / 2 : INFLIGHT_MIN;
        return ask_rest(t, pc->off + rep->data_len, pc->len - rep->data_len);
    }
    pace(t, pc, rep);
    return AMK_OK;
}

/* The reply to WRITE piece @p pc of a put. */
static int
got_write(struct amk_sftp_transfer *t, const struct piece *pc, struct amk_sftp_reply *rep)
{
    int r;

    r = amk_sftp_status(t->s, rep, "write");
    if (r != AMK_OK)
        return xfail(t, r);
    if (t->err != AMK_OK)
        return AMK_OK;
    if ((r = note_done(t, pc->len)) != AMK_OK)
        return xfail(t, r);
    pace(t, pc, rep);
    return AMK_OK;
}

/* The reply to request @p id of @p t into *@p rep: the one moved out of
 * the engine (*@p parked) first, else the engine's. AMK_OK, AMK_EAGAIN
 * (not yet), or a fatal error. */
static int
take_reply(struct amk_sftp_transfer *t, uint32_t id, struct amk_sftp_reply **parked,
    struct amk_sftp_reply *rep)
{
    int r;

    if (*parked != NULL) {
        *rep = **parked;
        free(*parked);
        *parked = NULL;
        return AMK_OK;
    }
    r = amk_sftpc_take(t->s->eng, id, rep);
    if (r == AMK_EAGAIN)
        return r;
    disown(t, id);
    return r == AMK_OK ? AMK_OK : amk_sftp_fail(t->s, r, "sftp");
}

/* Takes the replies of @p t's pieces that arrived. AMK_OK or a fatal error. */
static int
take_replies(struct amk_sftp_transfer *t)
{
    struct amk_sftp_reply rep;
    struct piece pc;
    int r;

    for (size_t i = 0; i < t->n;) {
        r = take_reply(t, t->pieces[i].id, &t->pieces[i].parked, &rep);
        if (r == AMK_EAGAIN) {
            i++;
            continue;
        }
        if (r != AMK_OK)
            return r;
        pc = t->pieces[i];
        t->pieces[i] = t->pieces[--t->n];
        if (is_get(t))
            r = got_read(t, &pc, &rep);
        else
            r = got_write(t, &pc, &rep);
        amk_sftp_reply_clear(&rep);
        if (t->s->err != AMK_OK)
            return t->s->err;
        (void)r;        /* the transfer's own failure is in t->err */
    }
    return AMK_OK;
}

/* --- Replies kept out of the engine ------------------------------------ */

/* Where @p t keeps the reply to its request @p id once moved out of the
 * engine, its piece's or its control request's place, and the most data
 * that request asked for (*@p len). NULL: not one of @p t's. */
static struct amk_sftp_reply **
parking_place(struct amk_sftp_transfer *t, uint32_t id, size_t *len)
{
    *len = 0;
    if (t->ctl_out && t->ctl_id == id && t->ctl_parked == NULL)
        return &t->ctl_parked;
    for (size_t i = 0; i < t->n; i++) {
        if (t->pieces[i].id == id && t->pieces[i].parked == NULL) {
            *len = t->pieces[i].len;
            return &t->pieces[i].parked;
        }
    }
    return NULL;
}

/* Moves the arrived reply of request @p k->id, whose slot that is, out of
 * the engine to its transfer; *@p spare is the room for it (taken when
 * used). 1 when moved; 0 when it has not arrived; a fatal error. */
static int
park_one(struct amk_sftp *s, struct amk_sftp_sink *k, struct amk_sftp_reply **spare)
{
    struct amk_sftp_reply *rep = *spare, **place;
    size_t len;
    int r;

    if ((place = parking_place(k->t, k->id, &len)) == NULL)
        return amk_sftp_fail(s, AMK_EINTERNAL, "sftp: a request its transfer lost");
    r = amk_sftpc_take(s->eng, k->id, rep);
    if (r == AMK_EAGAIN)
        return 0;
    if (r != AMK_OK)
        return amk_sftp_fail(s, r, "sftp");
    /* DATA longer than asked for (the data callback left it in the
     * reply) fails on its length alone (got_read()): what is kept of it
     * until then need not be a whole packet */
    if (rep->type == AMK_SSH_FXP_DATA && rep->data_len > len) {
        free(rep->data);
        rep->data = NULL;
    }
    *place = rep;
    *spare = NULL;
    k->t = NULL;
    return 1;
}

size_t
amk_sftp_xfer_park(struct amk_sftp *s, const struct amk_sftp_transfer *keep)
{
    struct amk_sftp_reply *spare = NULL;
    size_t moved = 0;
    int r;

    /* only the reply is moved: the transfer's logic runs when it is stepped */
    for (size_t i = 0; i < AMK_SFTPC_INFLIGHT_MAX && amk_sftpc_arrived(s->eng) > 0; i++) {
        struct amk_sftp_sink *k = &s->sink[i];
        if (k->t == NULL || k->t == keep)
            continue;
        if (spare == NULL && (spare = calloc(1, sizeof(*spare))) == NULL)
            break;      /* they stay in the engine, and are taken there */
        if ((r = park_one(s, k, &spare)) < 0)
            break;
        moved += (size_t)r;
    }
    free(spare);
    return moved;
}

/* --- Control requests -------------------------------------------------- */

/* Sends @p type once, then gives its reply: AMK_OK with *@p rep,
 * AMK_EAGAIN (not yet), or a fatal error. */
static int
ctl(struct amk_sftp_transfer *t, uint8_t type, const struct amk_sftp_req *q,
    struct amk_sftp_reply *rep)
{
    int r;

    memset(rep, 0, sizeof(*rep));
    if (!t->ctl_out) {
        /* the last slots stay for calls (sftp_int.h): wait for replies */
        if (!room_below(t, spare_for_one(t)))
            return AMK_EAGAIN;
        r = amk_sftpc_send(t->s->eng, type, q, &t->ctl_id);
        if (r == AMK_ELIMIT)
            return AMK_EAGAIN;
        if (r == AMK_EINVAL || r == AMK_ETOOBIG)
            return amk_error_set(&t->s->detail, r, "sftp: request not sent");
        if (r != AMK_OK)
            return amk_sftp_fail(t->s, r, "sftp");
        t->ctl_out = 1;
        own(t, t->ctl_id, 0);
    }
    r = take_reply(t, t->ctl_id, &t->ctl_parked, rep);
    if (r != AMK_EAGAIN)
        t->ctl_out = 0;
    return r;
}

static void
go_close(struct amk_sftp_transfer *t)
{
    t->state = t->have_handle ? XS_CLOSE : XS_DONE;
}

/*
 * The mode a new target file is created with (the umask of the side that
 * creates it applies): the source's permission bits, as OpenSSH's sftp
 * gives them, so a copy is never readable by more users than its source,
 * not even while it is written; plus owner write (as OpenSSH's get does),
 * so that a resume can open it again. 0644 for a remote source whose
 * server sent no permissions. An existing target keeps its own mode.
 */
static mode_t
create_mode(const struct amk_sftp_transfer *t)
{
    if (t->create_mode >= 0)
        return (mode_t)t->create_mode;
    if (is_get(t))
        return (t->ra.flags & AMK_SFTP_ATTR_PERMISSIONS) ?
            (mode_t)((t->ra.permissions & 0777) | 0200) : 0644;
    return (mode_t)((t->lst.st_mode & 0777) | 0200);
}

/* The local side of a get, once the remote file is open and known. */
static int
get_open_local(struct amk_sftp_transfer *t)
{
    struct stat st;

    t->fd = open(t->local, O_WRONLY | O_CREAT | O_CLOEXEC |
        ((t->flags & AMK_SFTP_XFER_RESUME) ? 0 : O_TRUNC) |
        ((t->flags & AMK_SFTP_XFER_NOFOLLOW) ? O_NOFOLLOW : 0), create_mode(t));
    if (t->fd < 0 && errno == ELOOP && (t->flags & AMK_SFTP_XFER_NOFOLLOW) && t->err == AMK_OK)
        return xfail(t, amk_error_set(&t->s->detail, AMK_EIO, "sftp: cannot create %s: a "
            "symlink is there, and a name from the server is not written through one",
            t->local));
    if (t->fd < 0)
        return xfail_msg(t, AMK_EIO, "cannot create", t->local);
    if (t->flags & AMK_SFTP_XFER_RESUME) {
        if (fstat(t->fd, &st) != 0)
            return xfail_msg(t, AMK_EIO, "cannot stat", t->local);
        t->start = (uint64_t)st.st_size;
        if ((t->ra.flags & AMK_SFTP_ATTR_SIZE) && t->start > t->ra.size)
            return xfail(t, amk_error_set(&t->s->detail, AMK_EINVAL,
                "sftp: %s is longer than %s: not a partial copy", t->local, t->remote));
        /* without the remote size a longer local file would be kept as it
         * is (the first READ says EOF); OpenSSH's reget refuses too */
        if (!(t->ra.flags & AMK_SFTP_ATTR_SIZE) && t->start > 0)
            return xfail(t, amk_error_set(&t->s->detail, AMK_EINVAL,
                "sftp: cannot resume %s: the server gave no size for %s", t->local, t->remote));
    }
    return AMK_OK;
}

/* Ends a get's run: cut the local file where its clean prefix ends and
 * give it the remote mode and times when asked. */
static void
get_finish_local(struct amk_sftp_transfer *t)
{
    struct timespec ts[2];

    if (t->fd < 0)
        return;
    if (ftruncate(t->fd, (off_t)clean_end(t)) != 0)
        (void)xfail_msg(t, AMK_EIO, "cannot truncate", t->local);
    if (t->err != AMK_OK || !(t->flags & AMK_SFTP_XFER_PRESERVE))
        return;
    /* the permission bits only: a server does not get to make a local
     * file setuid, setgid or sticky (OpenSSH's sftp masks them too) */
    if ((t->ra.flags & AMK_SFTP_ATTR_PERMISSIONS) && fchmod(t->fd, t->ra.permissions & 0777) != 0)
        (void)xfail_msg(t, AMK_EIO, "cannot chmod", t->local);
    if (t->ra.flags & AMK_SFTP_ATTR_ACMODTIME) {
        ts[0].tv_sec = t->ra.atime;
        ts[0].tv_nsec = 0;
        ts[1].tv_sec = t->ra.mtime;
        ts[1].tv_nsec = 0;
        if (futimens(t->fd, ts) != 0)
            (void)xfail_msg(t, AMK_EIO, "cannot set the times of", t->local);
    }
}

/* Enters XS_RUN: sizes the requests in flight. */
static int
go_run(struct amk_sftp_transfer *t)
{
    int get = is_get(t);
    size_t cap;

    t->piece_len = get ? t->s->read_len : t->s->write_len;
    cap = AMK_SFTP_WINDOW_BYTES / t->piece_len;
    if (cap < INFLIGHT_MIN)
        cap = INFLIGHT_MIN;
    if (cap > CAP_MAX)
        cap = CAP_MAX;
    t->cap = cap;
    /* a put starts low: its limit grows only while no queue shows */
    t->limit = get ? INFLIGHT_START : INFLIGHT_MIN;
    if (t->limit > cap)
        t->limit = cap;
    if ((t->pieces = calloc(cap + 1, sizeof(*t->pieces))) == NULL)
        return xfail(t, AMK_ENOMEM);
    t->next = t->done = t->done_rate = t->start;
    t->t_rate = amk_sftp_clock();
    t->state = XS_RUN;
    return AMK_OK;
}

/* One move of @p t's state machine without waiting. AMK_OK (moved, try
 * again), AMK_EAGAIN (waits for a reply), or a fatal error. */
static int
advance(struct amk_sftp_transfer *t)
{
    struct amk_sftp *s = t->s;
    struct amk_sftp_req q;
    struct amk_sftp_reply rep;
    struct amk_sftp_attrs a;
    int r = AMK_OK, get = is_get(t);

    memset(&q, 0, sizeof(q));
    memset(&rep, 0, sizeof(rep));
    q.handle = t->handle;
    q.handle_len = t->handle_len;
    switch (t->state) {
    case XS_START:
        if (t->kind == XK_MEM_GET || t->kind == XK_MEM_PUT) {
            memcpy(t->handle, t->file->handle, t->file->handle_len);
            t->handle_len = t->file->handle_len;
            t->start = t->mem_base;
            if (t->kind == XK_MEM_GET)
                t->end = t->mem_base + t->mem_len;
            t->total = t->mem_base + t->mem_len;
            if (go_run(t) != AMK_OK)
                t->state = XS_DONE;
            return AMK_OK;
        }
        if (t->kind == XK_PUT) {
            t->fd = open(t->local, O_RDONLY | O_CLOEXEC);
            if (t->fd < 0 || fstat(t->fd, &t->lst) != 0) {
                (void)xfail_msg(t, AMK_EIO, "cannot open", t->local);
                t->state = XS_DONE;
                return AMK_OK;
            }
            t->total = (uint64_t)t->lst.st_size;
            t->state = (t->flags & AMK_SFTP_XFER_RESUME) ? XS_STAT : XS_OPEN;
            return AMK_OK;
        }
        t->state = XS_OPEN;
        return AMK_OK;
    case XS_STAT:
        q.path = t->remote;
        if ((r = ctl(t, AMK_SSH_FXP_STAT, &q, &rep)) != AMK_OK)
            return r;
        if (rep.type == AMK_SSH_FXP_ATTRS) {
            if (rep.attrs.flags & AMK_SFTP_ATTR_SIZE)
                t->start = rep.attrs.size;
        } else if ((r = amk_sftp_status(s, &rep, t->remote)) != AMK_ENOENT) {
            (void)xfail(t, r == AMK_OK ? amk_sftp_fail(s, AMK_EPROTO,
                "sftp: status OK instead of attributes") : r);
        }
        amk_sftp_reply_clear(&rep);
        if (t->err == AMK_OK && t->start > (uint64_t)t->lst.st_size)
            (void)xfail(t, amk_error_set(&s->detail, AMK_EINVAL,
                "sftp: %s is longer than %s: not a partial copy", t->remote, t->local));
        t->state = t->err == AMK_OK ? XS_OPEN : XS_DONE;
        return AMK_OK;
    case XS_OPEN:
        memset(&a, 0, sizeof(a));
        q.path = t->remote;
        if (get) {
            q.pflags = AMK_SFTP_READ;
        } else {
            q.pflags = AMK_SFTP_WRITE | AMK_SFTP_CREAT |
                ((t->flags & AMK_SFTP_XFER_RESUME) ? 0 : AMK_SFTP_TRUNC);
            a.flags = AMK_SFTP_ATTR_PERMISSIONS;
            a.permissions = (uint32_t)create_mode(t);
        }
        q.attrs = &a;
        if ((r = ctl(t, AMK_SSH_FXP_OPEN, &q, &rep)) != AMK_OK)
            return r;
        if (rep.type == AMK_SSH_FXP_HANDLE) {
            memcpy(t->handle, rep.handle, rep.handle_len);
            t->handle_len = rep.handle_len;
            t->have_handle = 1;
            if (get) {
                t->state = XS_FSTAT;
            } else if (go_run(t) != AMK_OK) {
                go_close(t);
            }
        } else {
            r = amk_sftp_status(s, &rep, t->remote);
            (void)xfail(t, r == AMK_OK ? amk_sftp_fail(s, AMK_EPROTO,
                "sftp: status OK instead of a handle") : r);
            t->state = XS_DONE;
        }
        amk_sftp_reply_clear(&rep);
        return AMK_OK;
    case XS_FSTAT:
        if ((r = ctl(t, AMK_SSH_FXP_FSTAT, &q, &rep)) != AMK_OK)
            return r;
        if (rep.type == AMK_SSH_FXP_ATTRS) {
            t->ra = rep.attrs;
            if (t->ra.flags & AMK_SFTP_ATTR_SIZE)
                t->total = t->ra.size;
            if (get_open_local(t) == AMK_OK)
                (void)go_run(t);
        } else {
            r = amk_sftp_status(s, &rep, "fstat");
            (void)xfail(t, r == AMK_OK ? amk_sftp_fail(s, AMK_EPROTO,
                "sftp: status OK instead of attributes") : r);
        }
        amk_sftp_reply_clear(&rep);
        if (t->state != XS_RUN)
            go_close(t);
        return AMK_OK;
    case XS_RUN:
        if ((r = take_replies(t)) != AMK_OK)
            return r;
        /* can_issue() counts the rests of short reads still to ask for;
         * once @p t failed, clean_end() cuts the file before them */
        if (t->n > 0 || can_issue(t))
            return AMK_EAGAIN;
        /* everything answered and nothing more to ask */
        if (t->kind == XK_MEM_GET || t->kind == XK_MEM_PUT) {
            t->state = XS_DONE;
        } else if (get) {
            get_finish_local(t);
            go_close(t);
        } else if (t->err == AMK_OK && (t->flags & AMK_SFTP_XFER_PRESERVE)) {
            t->state = XS_SETSTAT;
        } else {
            go_close(t);
        }
        (void)call_progress(t, 1);
        return AMK_OK;
    case XS_SETSTAT:
        memset(&a, 0, sizeof(a));
        a.flags = AMK_SFTP_ATTR_PERMISSIONS | AMK_SFTP_ATTR_ACMODTIME;
        a.permissions = (uint32_t)t->lst.st_mode & 07777;
        a.atime = (uint32_t)t->lst.st_atime;
        a.mtime = (uint32_t)t->lst.st_mtime;
        q.attrs = &a;
        if ((r = ctl(t, AMK_SSH_FXP_FSETSTAT, &q, &rep)) != AMK_OK)
            return r;
        if ((r = amk_sftp_status(s, &rep, "fsetstat")) != AMK_OK)
            (void)xfail(t, r);
        amk_sftp_reply_clear(&rep);
        go_close(t);
        return AMK_OK;
    case XS_CLOSE:
        if ((r = ctl(t, AMK_SSH_FXP_CLOSE, &q, &rep)) != AMK_OK)
            return r;
        t->have_handle = 0;
        if ((r = amk_sftp_status(s, &rep, "close")) != AMK_OK)
            (void)xfail(t, r);
        amk_sftp_reply_clear(&rep);
        t->state = XS_DONE;
        return AMK_OK;
    case XS_DONE:
        return AMK_EAGAIN;
    }
    return AMK_EINTERNAL;
}

/* Moves @p t as far as it goes without waiting. AMK_OK or a fatal error
 * (which also ends @p t). */
static int
pump(struct amk_sftp_transfer *t)
{
    int r;

    if (t->s == NULL)
        return AMK_OK;      /* its session was freed: it is finished */
    while (t->result == AMK_EAGAIN) {
        if (t->s->err != AMK_OK) {
            r = t->s->err;
            drop_inflight(t);
            (void)xfail(t, r);
            /* replies land at their offsets: what came after a lost one
             * is cut, so that the file is a prefix a resume can go on from */
            if (t->kind == XK_GET)
                get_finish_local(t);
            t->state = XS_DONE;
        }
        if (t->state == XS_DONE) {
            if (t->fd >= 0 && close(t->fd) != 0 && t->kind == XK_GET)
                (void)xfail_msg(t, AMK_EIO, "cannot close", t->local);
            t->fd = -1;
            t->result = t->err;
            (void)call_progress(t, 1);
            break;
        }
        r = advance(t);
        if (r == AMK_EAGAIN)
            break;
        if (r != AMK_OK && t->s->err == AMK_OK) {
            /* a request that could not be sent: this transfer's failure */
            drop_inflight(t);
            (void)xfail(t, r);
            if (t->kind == XK_GET)
                get_finish_local(t);
            go_close(t);
        }
    }
    return t->s->err;
}

/* --- Stepping ------------------------------------------------------------ */

int
amk_sftp_transfer_result(const struct amk_sftp_transfer *t)
{
    return t == NULL ? AMK_EINVAL : t->result;
}

const char *
amk_sftp_transfer_error(const struct amk_sftp_transfer *t)
{
    return t == NULL || t->result == AMK_EAGAIN || t->result == AMK_OK ? "" : t->msg;
}

/* Pumps all, then lets each issue one request in turn while any may. */
static void
pump_and_issue(struct amk_sftp_transfer **ts, size_t n, size_t *rr)
{
    int any;

    for (size_t i = 0; i < n; i++)
        if (ts[i] != NULL)
            (void)pump(ts[i]);
    do {
        any = 0;
        for (size_t k = 0; k < n; k++) {
            struct amk_sftp_transfer *t = ts[(*rr + k) % n];
            if (t == NULL || !can_issue(t) || !has_room(t))
                continue;
            if (issue_one(t) != AMK_OK)
                break;      /* the engine is full (or failed) */
            any = 1;
            if (t->kind == XK_PUT || t->kind == XK_MEM_PUT) {
                /* send as we go: the output queue stays one request long */
                if (amk_sftp_flush(t->s) != AMK_OK)
                    any = 0;
            }
        }
    } while (any);
    *rr = n > 0 ? (*rr + 1) % n : 0;
    /* a source that ended, or a run with nothing left, moves on now */
    for (size_t i = 0; i < n; i++)
        if (ts[i] != NULL)
            (void)pump(ts[i]);
}

int
amk_sftp_transfer_step_all(struct amk_sftp_transfer **ts, size_t n)
{
    struct amk_sftp *s = NULL;
    size_t rr = 0, live;
    int r, blocking;

    if (ts == NULL)
        return AMK_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (ts[i] == NULL || ts[i]->s == NULL)
            continue;       /* none, or its session freed: finished */
        if (s != NULL && ts[i]->s != s)
            return AMK_EINVAL;
        s = ts[i]->s;
    }
    if (s == NULL)
        return AMK_OK;
    if ((r = amk_sftp_started(s)) != AMK_OK)
        goto fatal;
    blocking = amk_sftp_is_blocking(s);
    for (;;) {
        pump_and_issue(ts, n, &rr);
        if ((r = amk_sftp_flush(s)) != AMK_OK && r != AMK_EAGAIN)
            goto fatal;
        live = 0;
        for (size_t i = 0; i < n; i++)
            if (ts[i] != NULL && ts[i]->result == AMK_EAGAIN)
                live++;
        if (live == 0)
            return s->err;
        if ((r = amk_sftp_recv(s)) != AMK_OK)
            goto fatal;
        if (blocking) {
            pump_and_issue(ts, n, &rr);
            if ((r = amk_sftp_flush(s)) != AMK_OK && r != AMK_EAGAIN)
                goto fatal;
            for (size_t i = 0; i < n; i++)
                if (ts[i] != NULL && ts[i]->result == AMK_EAGAIN)
                    return AMK_EAGAIN;
            return s->err;
        }
    }
fatal:
    if (r == AMK_EAGAIN)
        return r;
    /* the session failed: so did every transfer on it */
    for (size_t i = 0; i < n; i++)
        if (ts[i] != NULL)
            (void)pump(ts[i]);
    return r;
}

int
amk_sftp_transfer_step(struct amk_sftp_transfer *t)
{
    int r;

    if (t == NULL)
        return AMK_EINVAL;
    if (t->result != AMK_EAGAIN)
        return t->result;
    /* a fatal error also ends t; its result says so */
    r = amk_sftp_transfer_step_all(&t, 1);
    (void)r;
    return t->result;
}

int
amk_sftp_transfer_run(struct amk_sftp_transfer **ts, size_t n)
{
    struct amk_sftp *s = NULL;
    int r;

    for (size_t i = 0; ts != NULL && i < n && s == NULL; i++)
        if (ts[i] != NULL)
            s = ts[i]->s;
    do {
        r = amk_sftp_transfer_step_all(ts, n);
    } while (r == AMK_EAGAIN && s != NULL && amk_sftp_is_blocking(s));
    return r;
}

int
amk_sftp_xfer_run1(struct amk_sftp_transfer *t)
{
    int r;

    do {
        if ((r = amk_sftp_transfer_step_all(&t, 1)) != AMK_OK && r != AMK_EAGAIN)
            return r;
    } while (t->result == AMK_EAGAIN && amk_sftp_is_blocking(t->s));
    return t->result;
}

/* --- Whole files ------------------------------------------------------ */

/* get and put: the transfer of a call that returned AMK_EAGAIN goes on
 * when the same call is made again. */
static int
whole_file(struct amk_sftp *s, enum xkind kind, const char *remote, const char *local,
    unsigned flags, long mode, amk_sftp_progress_fn progress, void *user)
{
    struct amk_sftp_transfer *t;
    int r;

    amk_sftp_give_up_others(s, AMK_SFTP_PEND_XFER);
    t = s->pend_xfer;
    if (t != NULL && (t->kind != kind || t->flags != flags || t->create_mode != mode ||
            t->remote == NULL || strcmp(t->remote, remote) != 0 || strcmp(t->local, local) != 0)) {
        amk_sftp_transfer_free(t);      /* given up */
        t = NULL;
    }
    if (t == NULL) {
        if ((r = start_file(s, kind, remote, local, flags, &t)) != AMK_OK)
            return r;
        t->old_cb = progress;
        t->user = user;
        t->create_mode = mode;
        s->pend_xfer = t;
    } else {
        /* made again: the callback is the caller's of now */
        t->old_cb = progress;
        t->user = user;
    }
    r = amk_sftp_xfer_run1(t);
    if (r == AMK_EAGAIN)
        return r;
    if (r != AMK_OK && t->msg[0] != '\0')
        amk_error_set(&s->detail, r, "%s", t->msg);
    amk_sftp_transfer_free(t);
    return r;
}

int
amk_sftp_get(struct amk_sftp *s, const char *remote, const char *local, unsigned flags,
    amk_sftp_progress_fn progress, void *user)
{
    if (s == NULL || remote == NULL || local == NULL ||
        (flags & ~(AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE)) != 0)
        return AMK_EINVAL;
    return whole_file(s, XK_GET, remote, local, flags, -1, progress, user);
}

int
amk_sftp_get_below(struct amk_sftp *s, const char *remote, const char *local, unsigned flags,
    amk_sftp_progress_fn progress, void *user)
{
    if (s == NULL || remote == NULL || local == NULL || (flags & ~(AMK_SFTP_XFER_RESUME |
            AMK_SFTP_XFER_PRESERVE | AMK_SFTP_XFER_NOFOLLOW)) != 0)
        return AMK_EINVAL;
    return whole_file(s, XK_GET, remote, local, flags, -1, progress, user);
}

int
amk_sftp_put(struct amk_sftp *s, const char *local, const char *remote, unsigned flags,
    amk_sftp_progress_fn progress, void *user)
{
    return amk_sftp_put_mode(s, local, remote, flags, -1, progress, user);
}

int
amk_sftp_put_mode(struct amk_sftp *s, const char *local, const char *remote, unsigned flags,
    long mode, amk_sftp_progress_fn progress, void *user)
{
    if (s == NULL || remote == NULL || local == NULL ||
        (flags & ~(AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE)) != 0)
        return AMK_EINVAL;
    return whole_file(s, XK_PUT, remote, local, flags, mode < 0 ? -1 : mode & 0777, progress,
        user);
}
