/* Blocking SFTP client: connection set-up and path operations; see amiko/sftp.h. */
#include "client/sftp_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int
amk_sftp_fail(struct amk_sftp *s, int code, const char *what)
{
    if (s->err != AMK_OK)
        return s->err;
    s->err = code;
    if (amk_sftpc_error(s->eng) != AMK_OK)
        amk_error_set(&s->detail, code, "%s: %s", what, amk_sftpc_last_error(s->eng));
    else
        amk_error_set(&s->detail, code, "%s: %s", what, amk_strerror(code));
    return code;
}

double
amk_sftp_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
amk_sftp_is_blocking(const struct amk_sftp *s)
{
    if (s->st.blocking != NULL)
        return s->st.blocking(s->st.ctx);
    return !s->nonblocking;
}

int
amk_sftp_flush(struct amk_sftp *s)
{
    const uint8_t *p;
    size_t len, done;
    int r;

    if (s->err != AMK_OK)
        return s->err;
    for (;;) {
        p = amk_sftpc_output(s->eng, &len);
        if (len == 0)
            return AMK_OK;
        if ((r = s->st.write(s->st.ctx, p, len, &done)) == AMK_EAGAIN) {
            if (s->st.blocking == NULL)
                s->nonblocking = 1;
            s->wait_dirs = AMK_WAIT_WRITE;
            return AMK_EAGAIN;
        }
        if (r != AMK_OK)
            return amk_sftp_fail(s, r, "sftp: writing to the stream");
        if (done == 0 || done > len)
            return amk_sftp_fail(s, AMK_EIO, "sftp: stream wrote nothing");
        if ((r = amk_sftpc_output_consume(s->eng, done)) != AMK_OK)
            return amk_sftp_fail(s, r, "sftp");
    }
}

int
amk_sftp_recv(struct amk_sftp *s)
{
    uint8_t *p;
    size_t cap, got;
    int r;

    if (s->err != AMK_OK)
        return s->err;
    /* straight into the engine's packet buffer: no copy on our side */
    if ((r = amk_sftpc_input_space(s->eng, &p, &cap)) != AMK_OK)
        return amk_sftp_fail(s, r, "sftp");
    if (s->st.read_try != NULL && s->st.wait != NULL && amk_sftp_is_blocking(s) &&
        (amk_sftpc_output(s->eng, &got), got > 0)) {
        /* output is held up: read what is there, else wait for data or
         * window, never in write (see struct amk_sftp_stream) */
        if ((r = s->st.read_try(s->st.ctx, p, cap, &got)) == AMK_EAGAIN) {
            if ((r = s->st.wait(s->st.ctx)) != AMK_OK)
                return amk_sftp_fail(s, r, "sftp: waiting for the stream");
            return AMK_OK;
        }
    } else if ((r = s->st.read(s->st.ctx, p, cap, &got)) == AMK_EAGAIN) {
        s->nonblocking = 1;
        s->wait_dirs = AMK_WAIT_READ;
        return AMK_EAGAIN;
    }
    if (r != AMK_OK)
        return amk_sftp_fail(s, r, "sftp: reading from the stream");
    if (got == 0)
        return amk_sftp_fail(s, AMK_ECLOSED, "sftp: the server closed the stream");
    if (got > cap)
        return amk_sftp_fail(s, AMK_EIO, "sftp: the stream gave more than asked for");
    /* a reply may wait a long time to be taken (a transfer not stepped):
     * its round trip ends here, when it came */
    amk_sftpc_set_time(s->eng, s->now());
    if ((r = amk_sftpc_input_commit(s->eng, got)) != AMK_OK)
        return amk_sftp_fail(s, r, "sftp");
    return AMK_OK;
}

int
amk_sftp_wait(struct amk_sftp *s, uint32_t id, struct amk_sftp_reply *rep)
{
    int r;

    for (;;) {
        /* a full window (AMK_EAGAIN) does not stop us reading replies */
        if ((r = amk_sftp_flush(s)) != AMK_OK && r != AMK_EAGAIN)
            return r;
        r = amk_sftpc_take(s->eng, id, rep);
        if (r == AMK_OK)
            return AMK_OK;
        if (r != AMK_EAGAIN)
            return amk_sftp_fail(s, r, "sftp");
        if ((r = amk_sftp_recv(s)) != AMK_OK)
            return r;
    }
}

void
amk_sftp_give_up_others(struct amk_sftp *s, unsigned keep)
{
    struct amk_sftp_pend_list *l = s->pend_list;

    if (!(keep & AMK_SFTP_PEND_XFER))
        amk_sftp_transfer_free(s->pend_xfer);   /* clears s->pend_xfer */
    if (!(keep & AMK_SFTP_PEND_LIST)) {
        s->pend_list = NULL;
        amk_sftp_pend_list_free(l);
    }
    if (!(keep & AMK_SFTP_PEND_CALL)) {
        if (s->pend_active && amk_sftpc_forget(s->eng, s->pend_id) != AMK_OK)
            (void)amk_sftp_fail(s, AMK_EINTERNAL, "sftp: lost a pending request");
        s->pend_active = 0;
    }
}

void
amk_sftp_give_up_pending(struct amk_sftp *s)
{
    amk_sftp_give_up_others(s, 0);
}

/* FNV-1a over @p len bytes at @p p, continuing from @p h. */
static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
    /* the NUL too, so "ab","c" and "a","bc" differ; NULL unlike "" */
    return s == NULL ? fnv(h, "\xff", 1) : fnv(h, s, strlen(s) + 1);
}

/* What identifies a call's arguments, so that a call made again after
 * AMK_EAGAIN resumes only if it is the same one (a stat of another path
 * after an unfinished stat must not get the first one's answer). */
static uint64_t
call_key(uint8_t type, const struct amk_sftp_req *q)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, &type, 1);

    h = fnv_str(h, q->path);
    h = fnv_str(h, q->path2);
    h = fnv_str(h, q->ext_name);
    h = fnv(h, &q->handle_len, sizeof(q->handle_len));
    if (q->handle != NULL)
        h = fnv(h, q->handle, q->handle_len);
    h = fnv(h, &q->data_len, sizeof(q->data_len));
    if (q->data != NULL)
        h = fnv(h, q->data, q->data_len);
    h = fnv(h, &q->offset, sizeof(q->offset));
    h = fnv(h, &q->len, sizeof(q->len));
    h = fnv(h, &q->pflags, sizeof(q->pflags));
    h = fnv(h, &q->symlink_openssh, sizeof(q->symlink_openssh));
    if (q->attrs != NULL) {
        /* only the fields its flags select: a caller need not set the rest */
        const struct amk_sftp_attrs *a = q->attrs;
        h = fnv(h, &a->flags, sizeof(a->flags));
        if (a->flags & AMK_SFTP_ATTR_SIZE)
            h = fnv(h, &a->size, sizeof(a->size));
        if (a->flags & AMK_SFTP_ATTR_UIDGID) {
            h = fnv(h, &a->uid, sizeof(a->uid));
            h = fnv(h, &a->gid, sizeof(a->gid));
        }
        if (a->flags & AMK_SFTP_ATTR_PERMISSIONS)
            h = fnv(h, &a->permissions, sizeof(a->permissions));
        if (a->flags & AMK_SFTP_ATTR_ACMODTIME) {
            h = fnv(h, &a->atime, sizeof(a->atime));
            h = fnv(h, &a->mtime, sizeof(a->mtime));
        }
    }
    return h;
}

/*
 * Queues request @p type, waiting for a free slot first if need be.
 * Transfers never hold the last AMK_SFTP_CALL_SLOTS_SPARE slots
 * (sftp_int.h), so when all are taken, some are held by given-up requests
 * (calls given up, CLOSEs of orphan handles, pieces of freed transfers),
 * each freed when its reply comes, or by replies that came for transfers
 * not stepped, moved out to them at once: waiting for replies frees one,
 * as it would for any call (AMK_EAGAIN non-blocking; nothing is queued
 * then).
 */
static int
send_in_a_slot(struct amk_sftp *s, uint8_t type, const struct amk_sftp_req *req, uint32_t *id)
{
    int r;

    while ((r = amk_sftpc_send(s->eng, type, req, id)) == AMK_ELIMIT) {
        if (amk_sftp_xfer_park(s, NULL) > 0)
            continue;
        if ((r = amk_sftp_flush(s)) != AMK_OK && r != AMK_EAGAIN)
            return r;
        if ((r = amk_sftp_recv(s)) != AMK_OK)
            return r;
    }
    return r;
}

int
amk_sftp_call(struct amk_sftp *s, uint8_t type, const struct amk_sftp_req *req,
    struct amk_sftp_reply *rep)
{
    uint64_t key = call_key(type, req);
    uint32_t id;
    int r;

    memset(rep, 0, sizeof(*rep));
    if ((r = amk_sftp_started(s)) != AMK_OK)
        return r;
    /* a pending get, put, pread or pwrite is given up by any call of one
     * request, and a pending listdir by any but its own (their data must
     * not land in a buffer the caller has moved on from) */
    amk_sftp_give_up_others(s, AMK_SFTP_PEND_CALL | (s->listing ? AMK_SFTP_PEND_LIST : 0));
    if (s->pend_active && s->pend_type == type && s->pend_key == key) {
        /* the same call again after AMK_EAGAIN: its request is out */
        id = s->pend_id;
    } else {
        if (s->pend_active && amk_sftpc_forget(s->eng, s->pend_id) != AMK_OK)
            return amk_sftp_fail(s, AMK_EINTERNAL, "sftp: lost a pending request");
        s->pend_active = 0;
        r = send_in_a_slot(s, type, req, &id);
        if (r == AMK_EAGAIN || s->err != AMK_OK)
            return r;
        if (r == AMK_EINVAL || r == AMK_ETOOBIG || r == AMK_ESTATE)
            return amk_error_set(&s->detail, r, "sftp: request not sent");
        if (r != AMK_OK)
            return amk_sftp_fail(s, r, "sftp");
    }
    r = amk_sftp_wait(s, id, rep);
    s->pend_active = r == AMK_EAGAIN;
    s->pend_type = type;
    s->pend_id = id;
    s->pend_key = key;
    return r;
}

int
amk_sftp_status(struct amk_sftp *s, const struct amk_sftp_reply *rep, const char *what)
{
    int r;

    if (rep->type != AMK_SSH_FXP_STATUS)
        return amk_sftp_fail(s, AMK_EPROTO, "sftp: the server answered with data, not a status");
    s->last_status = rep->status;
    r = amk_sftp_status_to_err(rep->status);
    if (r == AMK_OK)
        return AMK_OK;
    /* An EOF or lost-connection status on a request that has no end is a
     * refusal of that request, not the end of our stream. */
    if (r == AMK_ECLOSED)
        r = AMK_EREMOTE;
    return amk_error_set(&s->detail, r, "%s: %s (%s)", what,
        rep->message != NULL && rep->message[0] != '\0' ? rep->message : amk_strerror(r),
        amk_sftp_status_name(rep->status));
}

/* A request answered by STATUS only. */
static int
call_status(struct amk_sftp *s, uint8_t type, const struct amk_sftp_req *q, const char *what)
{
    struct amk_sftp_reply rep;
    int r;

    if ((r = amk_sftp_call(s, type, q, &rep)) == AMK_OK)
        r = amk_sftp_status(s, &rep, what);
    amk_sftp_reply_clear(&rep);
    return r;
}

/* The extension versions we speak (OpenSSH PROTOCOL §4.2: "Clients MUST
 * check the version number before attempting to use the extension"). */
static const struct {
    const char *name;
    const char *version;
} EXT_VERSIONS[] = {
    { "posix-rename@openssh.com", "1" },
    { "statvfs@openssh.com", "2" },
    { "fstatvfs@openssh.com", "2" },
    { "hardlink@openssh.com", "1" },
    { "fsync@openssh.com", "1" },
    { "lsetstat@openssh.com", "1" },
    { "limits@openssh.com", "1" },
    { "expand-path@openssh.com", "1" },
    { "copy-data", "1" },
    { "home-directory", "1" },
};

int
amk_sftp_offers(const struct amk_sftp *s, const char *name)
{
    const uint8_t *data;
    size_t len;

    if (!amk_sftpc_has_ext(s->eng, name, &data, &len))
        return 0;
    for (size_t i = 0; i < sizeof(EXT_VERSIONS) / sizeof(EXT_VERSIONS[0]); i++)
        if (strcmp(EXT_VERSIONS[i].name, name) == 0)
            return len == strlen(EXT_VERSIONS[i].version) &&
                memcmp(data, EXT_VERSIONS[i].version, len) == 0;
    return 0;
}

int
amk_sftp_call_ext(struct amk_sftp *s, const char *name, const struct amk_buf *data,
    struct amk_sftp_reply *rep)
{
    struct amk_sftp_req q = { .ext_name = name, .data = amk_buf_ptr(data),
        .data_len = amk_buf_len(data) };
    int r;

    memset(rep, 0, sizeof(*rep));
    if ((r = amk_sftp_started(s)) != AMK_OK)
        return r;
    if (!amk_sftp_offers(s, name))
        return amk_error_set(&s->detail, AMK_ENOTSUP,
            "sftp: the server does not offer %s in a version we speak", name);
    return amk_sftp_call(s, AMK_SSH_FXP_EXTENDED, &q, rep);
}

/* Applies a limits@openssh.com reply (OpenSSH PROTOCOL §4.8) to size
 * reads and writes. */
static int
apply_limits(struct amk_sftp *s, const struct amk_sftp_reply *rep)
{
    struct amk_sftp_limits l;
    int r;

    if (rep->type != AMK_SSH_FXP_EXTENDED_REPLY)
        return AMK_OK;      /* refused: keep the defaults */
    if ((r = amk_sftp_dec_limits(rep->ext, rep->ext_len, &l)) != AMK_OK)
        return amk_sftp_fail(s, r, "sftp: malformed limits@openssh.com reply");
    if (l.max_read > 0)
        s->read_len = l.max_read < AMK_SFTP_IO_MAX ? (size_t)l.max_read : AMK_SFTP_IO_MAX;
    if (l.max_write > 0)
        s->write_len = l.max_write < AMK_SFTP_IO_MAX ? (size_t)l.max_write : AMK_SFTP_IO_MAX;
    /* a WRITE also carries its header and handle within max-packet-length */
    if (l.max_packet > 2048 && s->write_len > l.max_packet - 1024)
        s->write_len = (size_t)l.max_packet - 1024;
    if (s->read_len < 512)
        s->read_len = 512;
    if (s->write_len < 512)
        s->write_len = 512;
    return AMK_OK;
}

/*
 * Whether the server's vendor-id names a server that reads SYMLINK
 * target first although it names itself (the pair's data: string
 * vendor-name, string product-name, string product-version, uint64
 * build, draft-ietf-secsh-filexfer-extensions-00): ProFTPD's
 * mod_sftp ("ProFTPD Project", "mod_sftp"; its fxp.c reads target first
 * "to match the behavior that OpenSSH uses", from every client).
 */
static int
vendor_reads_target_first(const uint8_t *data, size_t len)
{
    struct amk_buf v;
    const uint8_t *vendor, *product;
    size_t vendor_len, product_len;

    amk_buf_view(&v, data, len);
    if (amk_buf_get_string_direct(&v, &vendor, &vendor_len) != AMK_OK ||
        amk_buf_get_string_direct(&v, &product, &product_len) != AMK_OK)
        return 0;
    return product_len == 8 && memcmp(product, "mod_sftp", 8) == 0;
}

int
amk_sftp_started(struct amk_sftp *s)
{
    const uint8_t *vid = NULL;
    size_t vid_len = 0;
    const struct amk_sftp_version *v;
    struct amk_sftp_req q = { .ext_name = "limits@openssh.com" };
    struct amk_sftp_reply rep;
    int r;

    if (s->err != AMK_OK)
        return s->err;
    if (s->start == AMK_SFTP_START_READY)
        return AMK_OK;
    if (s->start == AMK_SFTP_START_VERSION) {
        /* draft-02 §4: INIT is queued; wait for VERSION */
        while (!amk_sftpc_ready(s->eng)) {
            if ((r = amk_sftp_flush(s)) != AMK_OK && r != AMK_EAGAIN)
                return r;
            if ((r = amk_sftp_recv(s)) != AMK_OK)
                return r;
        }
        v = amk_sftpc_version(s->eng);
        for (size_t i = 0; i < v->n_ext; i++)
            if (strstr(v->ext[i].name, "@openssh.com") != NULL)
                s->openssh = 1;
        /* OpenSSH's sftp-server never names itself with vendor-id
         * (draft-ietf-secsh-filexfer-extensions-00); one that does is
         * another server offering OpenSSH's extensions, and takes SYMLINK
         * in the draft's order: AsyncSSH's does from every client but
         * OpenSSH's and Paramiko's (it looks at their version strings).
         * ProFTPD's mod_sftp is the exception: it reads target first
         * from every client, and sends vendor-id when configured to. */
        if (amk_sftpc_has_ext(s->eng, "vendor-id", &vid, &vid_len) &&
            !vendor_reads_target_first(vid, vid_len))
            s->openssh = 0;
        s->read_len = s->write_len = AMK_SFTP_IO_DEFAULT;
        if (!amk_sftp_offers(s, "limits@openssh.com")) {
            s->start = AMK_SFTP_START_READY;
            return AMK_OK;
        }
        if ((r = amk_sftpc_send(s->eng, AMK_SSH_FXP_EXTENDED, &q, &s->limits_id)) != AMK_OK)
            return amk_sftp_fail(s, r, "sftp");
        s->start = AMK_SFTP_START_LIMITS;
    }
    memset(&rep, 0, sizeof(rep));
    if ((r = amk_sftp_wait(s, s->limits_id, &rep)) != AMK_OK)
        return r;
    r = apply_limits(s, &rep);
    amk_sftp_reply_clear(&rep);
    if (r == AMK_OK)
        s->start = AMK_SFTP_START_READY;
    return r;
}

int
amk_sftp_new_stream(struct amk_sftp **out, const struct amk_sftp_stream *st)
{
    struct amk_sftp *s = NULL;
    int r = AMK_EINTERNAL;

    if ((s = calloc(1, sizeof(*s))) == NULL) {
        if (st->close != NULL)
            st->close(st->ctx);
        return AMK_ENOMEM;
    }
    s->st = *st;
    s->now = amk_sftp_clock;
    s->read_len = s->write_len = AMK_SFTP_IO_DEFAULT;
    s->list_max_entries = AMK_SFTP_LIST_MAX_ENTRIES;
    s->list_max_bytes = AMK_SFTP_LIST_MAX_BYTES;
    if ((r = amk_sftpc_new(&s->eng)) != AMK_OK)
        goto out;
    amk_sftpc_set_data_fn(s->eng, amk_sftp_sink_data, s);
    /* non-blocking: start-up goes on in the calls that follow */
    if ((r = amk_sftp_started(s)) != AMK_OK && r != AMK_EAGAIN)
        goto out;
    *out = s;
    s = NULL;
    r = AMK_OK;
out:
    amk_sftp_free(s);
    return r;
}

/* Callbacks of amk_sftp_new_io(). */
struct io_ctx {
    amk_sftp_read_fn rd;
    amk_sftp_write_fn wr;
    void *user;
};

static int
io_write(void *ctx, const uint8_t *p, size_t len, size_t *done)
{
    struct io_ctx *io = ctx;
    ssize_t n = io->wr(io->user, p, len);

    *done = 0;
    if (n < 0)
        return (int)n;
    if (n == 0 || (size_t)n > len)
        return AMK_EIO;
    *done = (size_t)n;
    return AMK_OK;
}

static int
io_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    struct io_ctx *io = ctx;
    ssize_t n = io->rd(io->user, buf, cap);

    *got = 0;
    if (n < 0)
        return (int)n;
    if ((size_t)n > cap)
        return AMK_EIO;
    *got = (size_t)n;
    return AMK_OK;
}

static void
io_close(void *ctx)
{
    free(ctx);
}

int
amk_sftp_new_io(struct amk_sftp **out, amk_sftp_read_fn rd, amk_sftp_write_fn wr, void *user)
{
    struct amk_sftp_stream st;
    struct io_ctx *io;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (rd == NULL || wr == NULL)
        return AMK_EINVAL;
    if ((io = calloc(1, sizeof(*io))) == NULL)
        return AMK_ENOMEM;
    io->rd = rd;
    io->wr = wr;
    io->user = user;
    memset(&st, 0, sizeof(st));
    st.write = io_write;
    st.read = io_read;
    st.close = io_close;
    st.ctx = io;
    return amk_sftp_new_stream(out, &st);
}

void
amk_sftp_free(struct amk_sftp *s)
{
    if (s == NULL)
        return;
    amk_sftp_transfer_free(s->pend_xfer);
    amk_sftp_pend_list_free(s->pend_list);
    amk_sftp_xfer_end_all(s);
    amk_sftpc_free(s->eng);
    if (s->st.close != NULL)
        s->st.close(s->st.ctx);
    free(s);
}

const char *
amk_sftp_last_error(const struct amk_sftp *s)
{
    return s == NULL ? "" : amk_error_msg(&s->detail);
}

uint32_t
amk_sftp_last_status(const struct amk_sftp *s)
{
    return s == NULL ? 0 : s->last_status;
}

int
amk_sftp_has_extension(const struct amk_sftp *s, const char *name, const uint8_t **data,
    size_t *len)
{
    if (s == NULL || name == NULL)
        return 0;
    return amk_sftpc_has_ext(s->eng, name, data, len);
}

int
amk_sftp_block_directions(const struct amk_sftp *s)
{
    if (s == NULL)
        return 0;
    if (s->st.dirs != NULL)
        return s->st.dirs(s->st.ctx);
    return s->wait_dirs;
}

int
amk_sftp_ready(struct amk_sftp *s)
{
    if (s == NULL)
        return AMK_EINVAL;
    return amk_sftp_started(s);
}

void
amk_sftp_io_sizes(const struct amk_sftp *s, size_t *read_len, size_t *write_len)
{
    if (read_len != NULL)
        *read_len = s->read_len;
    if (write_len != NULL)
        *write_len = s->write_len;
}

/* --- Paths ----------------------------------------------------------- */

static int
stat_common(struct amk_sftp *s, uint8_t type, const char *path, struct amk_sftp_attrs *attrs)
{
    struct amk_sftp_req q = { .path = path };
    struct amk_sftp_reply rep;
    int r;

    if (s == NULL || path == NULL || attrs == NULL)
        return AMK_EINVAL;
    memset(attrs, 0, sizeof(*attrs));
    if ((r = amk_sftp_call(s, type, &q, &rep)) != AMK_OK)
        goto out;
    if (rep.type == AMK_SSH_FXP_ATTRS) {
        *attrs = rep.attrs;
        r = AMK_OK;
    } else {
        r = amk_sftp_status(s, &rep, path);
        if (r == AMK_OK)
            r = amk_sftp_fail(s, AMK_EPROTO, "sftp: status OK instead of attributes");
    }
out:
    amk_sftp_reply_clear(&rep);
    return r;
}

int
amk_sftp_stat(struct amk_sftp *s, const char *path, struct amk_sftp_attrs *attrs)
{
    return stat_common(s, AMK_SSH_FXP_STAT, path, attrs);
}

int
amk_sftp_lstat(struct amk_sftp *s, const char *path, struct amk_sftp_attrs *attrs)
{
    return stat_common(s, AMK_SSH_FXP_LSTAT, path, attrs);
}

int
amk_sftp_setstat(struct amk_sftp *s, const char *path, const struct amk_sftp_attrs *attrs)
{
    struct amk_sftp_req q = { .path = path, .attrs = attrs };

    if (s == NULL || path == NULL || attrs == NULL)
        return AMK_EINVAL;
    return call_status(s, AMK_SSH_FXP_SETSTAT, &q, path);
}

int
amk_sftp_lsetstat(struct amk_sftp *s, const char *path, const struct amk_sftp_attrs *attrs)
{
    struct amk_sftp_reply rep;
    struct amk_buf d;
    int r;

    if (s == NULL || path == NULL || attrs == NULL)
        return AMK_EINVAL;
    amk_buf_init(&d);
    memset(&rep, 0, sizeof(rep));
    /* OpenSSH PROTOCOL §4.7: string path, ATTRS attrs. */
    if ((r = amk_buf_put_cstring(&d, path)) != AMK_OK ||
        (r = amk_sftp_enc_attrs(&d, attrs)) != AMK_OK)
        goto out;
    if ((r = amk_sftp_call_ext(s, "lsetstat@openssh.com", &d, &rep)) == AMK_OK)
        r = amk_sftp_status(s, &rep, path);
out:
    amk_sftp_reply_clear(&rep);
    amk_buf_release(&d);
    return r;
}

int
amk_sftp_chmod(struct amk_sftp *s, const char *path, uint32_t mode)
{
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_PERMISSIONS, .permissions = mode };
    return amk_sftp_setstat(s, path, &a);
}

int
amk_sftp_chown(struct amk_sftp *s, const char *path, uint32_t uid, uint32_t gid)
{
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_UIDGID, .uid = uid, .gid = gid };
    return amk_sftp_setstat(s, path, &a);
}

int
amk_sftp_utime(struct amk_sftp *s, const char *path, uint32_t atime, uint32_t mtime)
{
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_ACMODTIME, .atime = atime,
        .mtime = mtime };
    return amk_sftp_setstat(s, path, &a);
}

int
amk_sftp_truncate(struct amk_sftp *s, const char *path, uint64_t size)
{
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_SIZE, .size = size };
    return amk_sftp_setstat(s, path, &a);
}

int
amk_sftp_mkdir(struct amk_sftp *s, const char *path, uint32_t mode)
{
    struct amk_sftp_attrs a = { .flags = mode != 0 ? AMK_SFTP_ATTR_PERMISSIONS : 0,
        .permissions = mode };
    struct amk_sftp_req q = { .path = path, .attrs = &a };

    if (s == NULL || path == NULL)
        return AMK_EINVAL;
    return call_status(s, AMK_SSH_FXP_MKDIR, &q, path);
}

int
amk_sftp_rmdir(struct amk_sftp *s, const char *path)
{
    struct amk_sftp_req q = { .path = path };

    if (s == NULL || path == NULL)
        return AMK_EINVAL;
    return call_status(s, AMK_SSH_FXP_RMDIR, &q, path);
}

int
amk_sftp_remove(struct amk_sftp *s, const char *path)
{
    struct amk_sftp_req q = { .path = path };

    if (s == NULL || path == NULL)
        return AMK_EINVAL;
    return call_status(s, AMK_SSH_FXP_REMOVE, &q, path);
}

/* An extension taking two paths (posix-rename, hardlink: OpenSSH PROTOCOL
 * §4.3, §4.5), answered by STATUS. */
static int
two_paths_ext(struct amk_sftp *s, const char *name, const char *a, const char *b)
{
    struct amk_sftp_reply rep;
    struct amk_buf d;
    int r;

    amk_buf_init(&d);
    memset(&rep, 0, sizeof(rep));
    if ((r = amk_buf_put_cstring(&d, a)) != AMK_OK || (r = amk_buf_put_cstring(&d, b)) != AMK_OK)
        goto out;
    if ((r = amk_sftp_call_ext(s, name, &d, &rep)) == AMK_OK)
        r = amk_sftp_status(s, &rep, a);
out:
    amk_sftp_reply_clear(&rep);
    amk_buf_release(&d);
    return r;
}

int
amk_sftp_rename(struct amk_sftp *s, const char *oldpath, const char *newpath)
{
    struct amk_sftp_req q = { .path = oldpath, .path2 = newpath };
    int r;

    if (s == NULL || oldpath == NULL || newpath == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_started(s)) != AMK_OK)
        return r;
    if (amk_sftp_offers(s, "posix-rename@openssh.com"))
        return two_paths_ext(s, "posix-rename@openssh.com", oldpath, newpath);
    return call_status(s, AMK_SSH_FXP_RENAME, &q, oldpath);
}

int
amk_sftp_hardlink(struct amk_sftp *s, const char *oldpath, const char *newpath)
{
    if (s == NULL || oldpath == NULL || newpath == NULL)
        return AMK_EINVAL;
    return two_paths_ext(s, "hardlink@openssh.com", oldpath, newpath);
}

int
amk_sftp_set_symlink_order(struct amk_sftp *s, enum amk_sftp_symlink_order order)
{
    if (s == NULL || order < AMK_SFTP_SYMLINK_AUTO || order > AMK_SFTP_SYMLINK_LINK_FIRST)
        return AMK_EINVAL;
    s->symlink_order = order;
    return AMK_OK;
}

int
amk_sftp_symlink(struct amk_sftp *s, const char *target, const char *linkpath)
{
    struct amk_sftp_req q = { .path = linkpath, .path2 = target };
    int r;

    if (s == NULL || target == NULL || linkpath == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_started(s)) != AMK_OK)
        return r;
    if (s->symlink_order == AMK_SFTP_SYMLINK_AUTO)
        q.symlink_openssh = s->openssh || s->peer_target_first;
    else
        q.symlink_openssh = s->symlink_order == AMK_SFTP_SYMLINK_TARGET_FIRST;
    return call_status(s, AMK_SSH_FXP_SYMLINK, &q, linkpath);
}

/* The one name of NAME reply @p rep into *@p out (the caller frees it); a
 * STATUS is the request's error about @p path. */
static int
take_one_name(struct amk_sftp *s, struct amk_sftp_reply *rep, const char *path, char **out)
{
    int r;

    if (rep->type != AMK_SSH_FXP_NAME) {
        r = amk_sftp_status(s, rep, path);
        return r != AMK_OK ? r : amk_sftp_fail(s, AMK_EPROTO, "sftp: status OK instead of a name");
    }
    if (rep->count != 1)
        return amk_sftp_fail(s, AMK_EPROTO, "sftp: a name reply without exactly one name");
    *out = rep->names[0].filename;
    rep->names[0].filename = NULL;
    return AMK_OK;
}

/* REALPATH / READLINK: a NAME of exactly one entry (draft-02 §6.11, §6.10). */
static int
one_name(struct amk_sftp *s, uint8_t type, const char *path, char **out)
{
    struct amk_sftp_req q = { .path = path };
    struct amk_sftp_reply rep;
    int r;

    if (out != NULL)
        *out = NULL;
    if (s == NULL || path == NULL || out == NULL)
        return AMK_EINVAL;
    if ((r = amk_sftp_call(s, type, &q, &rep)) == AMK_OK)
        r = take_one_name(s, &rep, path, out);
    amk_sftp_reply_clear(&rep);
    return r;
}

int
amk_sftp_readlink(struct amk_sftp *s, const char *path, char **target)
{
    return one_name(s, AMK_SSH_FXP_READLINK, path, target);
}

int
amk_sftp_realpath(struct amk_sftp *s, const char *path, char **out)
{
    return one_name(s, AMK_SSH_FXP_REALPATH, path, out);
}

int
amk_sftp_statvfs(struct amk_sftp *s, const char *path, struct amk_sftp_statvfs *st)
{
    struct amk_sftp_reply rep;
    struct amk_buf d;
    int r;

    if (s == NULL || path == NULL || st == NULL)
        return AMK_EINVAL;
    memset(st, 0, sizeof(*st));
    memset(&rep, 0, sizeof(rep));
    amk_buf_init(&d);
    /* OpenSSH PROTOCOL §4.4: string path; reply: eleven uint64. */
    if ((r = amk_buf_put_cstring(&d, path)) != AMK_OK ||
        (r = amk_sftp_call_ext(s, "statvfs@openssh.com", &d, &rep)) != AMK_OK)
        goto out;
    if (rep.type != AMK_SSH_FXP_EXTENDED_REPLY) {
        r = amk_sftp_status(s, &rep, path);
        if (r == AMK_OK)
            r = amk_sftp_fail(s, AMK_EPROTO, "sftp: status OK instead of statvfs data");
        goto out;
    }
    if ((r = amk_sftp_dec_statvfs(rep.ext, rep.ext_len, st)) != AMK_OK)
        r = amk_sftp_fail(s, r, "sftp: malformed statvfs@openssh.com reply");
out:
    amk_sftp_reply_clear(&rep);
    amk_buf_release(&d);
    return r;
}

/* expand-path@openssh.com (OpenSSH PROTOCOL §4.9) and home-directory
 * (§4.11): one string in, a NAME of one entry back. */
static int
ext_one_name(struct amk_sftp *s, const char *ext, const char *arg, char **out)
{
    struct amk_sftp_reply rep;
    struct amk_buf d;
    int r;

    if (out != NULL)
        *out = NULL;
    if (s == NULL || arg == NULL || out == NULL)
        return AMK_EINVAL;
    amk_buf_init(&d);
    memset(&rep, 0, sizeof(rep));
    if ((r = amk_buf_put_cstring(&d, arg)) == AMK_OK &&
        (r = amk_sftp_call_ext(s, ext, &d, &rep)) == AMK_OK)
        r = take_one_name(s, &rep, arg, out);
    amk_sftp_reply_clear(&rep);
    amk_buf_release(&d);
    return r;
}

int
amk_sftp_expand_path(struct amk_sftp *s, const char *path, char **out)
{
    return ext_one_name(s, "expand-path@openssh.com", path, out);
}

int
amk_sftp_home_directory(struct amk_sftp *s, const char *user, char **out)
{
    return ext_one_name(s, "home-directory", user, out);
}
