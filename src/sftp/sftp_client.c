/* SFTP client engine: framing, request ids and reply matching; see sftp_client.h. */
#include "sftp/sftp_client.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* A request id is (generation << 8) | slot, so a reply finds its slot at
 * once and a late reply to a reused slot does not match the new request. */
#define SLOT_BITS 8
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

enum slot_state {
    SLOT_FREE = 0,
    SLOT_PENDING,       /* sent, no reply yet */
    SLOT_DONE,          /* reply kept until taken */
    SLOT_FORGOTTEN      /* reply will be dropped */
};

struct slot {
    enum slot_state state;
    uint32_t id;
    uint8_t type;       /* the request's type */
    uint64_t seq;       /* arrival order of the reply */
    struct amk_sftp_reply rep;
};

/* The input buffer holds one packet (length included) at most. */
#define IBUF_CAP (4 + AMK_SFTP_PACKET_MAX)
/* Where a pending WRITE's data is being filled in (amk_sftpc_write_begin). */
struct wpend {
    struct slot *slot;          /* NULL: none */
    uint32_t id;
    size_t start, handle_len, cap;
};

/* Handles whose CLOSE could not be queued when they were orphaned (a WRITE
 * was being filled in, or every slot was taken): it goes with the next
 * request. Past ORPHANS_MAX at once a handle stays open until the session
 * ends, a bounded leak where the alternative is unbounded memory. */
#define ORPHANS_MAX 8
struct orphan {
    uint8_t handle[AMK_SFTP_HANDLE_MAX];
    size_t len;
};

struct amk_sftpc {
    struct amk_buf out;         /* requests not yet sent */
    struct orphan orphans[ORPHANS_MAX];
    size_t n_orphans;
    /* The packet being assembled, length included. A plain array, not an
     * amk_buf: file data is not key material, and wiping a quarter
     * megabyte per DATA reply cost more than the copy it holds. */
    uint8_t *ibuf;
    size_t ilen;
    amk_sftpc_data_fn data_fn;
    void *data_ctx;
    struct wpend w;
    int ready;
    struct amk_sftp_version version;
    struct slot slots[AMK_SFTPC_INFLIGHT_MAX];
    size_t inflight;
    size_t arrived;             /* slots SLOT_DONE */
    double now;                 /* amk_sftpc_set_time(): replies' arrival */
    uint32_t generation;
    size_t cursor;              /* where the free-slot search starts */
    uint64_t seq;
    int err;
    struct amk_error detail;
};

_Static_assert(AMK_SFTPC_INFLIGHT_MAX == (1u << SLOT_BITS), "slot bits");

static uint32_t
load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The message has no "sftp: " prefix: amk_sftp_fail() (src/client/sftp.c)
 * puts its own context in front, and two prefixes read "sftp: sftp: ...". */
static int
fail(struct amk_sftpc *c, int code, const char *what, uint32_t n)
{
    if (c->err == AMK_OK) {
        c->err = code;
        amk_error_set(&c->detail, code, "%s (%u)", what, n);
    }
    return c->err;
}

int
amk_sftpc_new(struct amk_sftpc **out)
{
    struct amk_sftpc *c = NULL;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMK_ENOMEM;
    amk_buf_init(&c->out);
    if ((c->ibuf = malloc(IBUF_CAP)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_sftp_enc_init(&c->out, AMK_SFTP_VERSION)) != AMK_OK)
        goto out;
    *out = c;
    c = NULL;
    r = AMK_OK;
out:
    amk_sftpc_free(c);
    return r;
}

void
amk_sftpc_free(struct amk_sftpc *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < AMK_SFTPC_INFLIGHT_MAX; i++)
        amk_sftp_reply_clear(&c->slots[i].rep);
    amk_sftp_version_clear(&c->version);
    amk_buf_release(&c->out);
    free(c->ibuf);
    free(c);
}

const uint8_t *
amk_sftpc_output(const struct amk_sftpc *c, size_t *len)
{
    *len = amk_buf_len(&c->out);
    return amk_buf_ptr(&c->out);
}

int
amk_sftpc_output_consume(struct amk_sftpc *c, size_t n)
{
    if (n > amk_buf_len(&c->out))
        return AMK_EINVAL;
    return amk_buf_consume(&c->out, n);
}

int
amk_sftpc_ready(const struct amk_sftpc *c)
{
    return c->ready;
}

const struct amk_sftp_version *
amk_sftpc_version(const struct amk_sftpc *c)
{
    return c->ready ? &c->version : NULL;
}

int
amk_sftpc_has_ext(const struct amk_sftpc *c, const char *name, const uint8_t **data,
    size_t *len)
{
    for (size_t i = 0; c->ready && i < c->version.n_ext; i++) {
        if (strcmp(c->version.ext[i].name, name) == 0) {
            if (data != NULL)
                *data = c->version.ext[i].data;
            if (len != NULL)
                *len = c->version.ext[i].data_len;
            return 1;
        }
    }
    return 0;
}

/* Whether a reply of type @p rtype may answer a request of type @p req
 * (draft-02 §6: every request may get STATUS; the others as listed). */
static int
reply_allowed(uint8_t req, uint8_t rtype)
{
    if (rtype == AMK_SSH_FXP_STATUS)
        return 1;
    switch (req) {
    case AMK_SSH_FXP_OPEN: case AMK_SSH_FXP_OPENDIR:
        return rtype == AMK_SSH_FXP_HANDLE;
    case AMK_SSH_FXP_READ:
        return rtype == AMK_SSH_FXP_DATA;
    case AMK_SSH_FXP_LSTAT: case AMK_SSH_FXP_STAT: case AMK_SSH_FXP_FSTAT:
        return rtype == AMK_SSH_FXP_ATTRS;
    case AMK_SSH_FXP_READDIR: case AMK_SSH_FXP_REALPATH: case AMK_SSH_FXP_READLINK:
        return rtype == AMK_SSH_FXP_NAME;
    case AMK_SSH_FXP_EXTENDED:
        /* §8: any reply; OpenSSH's expand-path and home-directory answer NAME. */
        return rtype == AMK_SSH_FXP_EXTENDED_REPLY || rtype == AMK_SSH_FXP_NAME;
    default:
        return 0;
    }
}

/*
 * A DATA reply (draft-02 §7: byte type, uint32 id, string data) to a READ
 * still pending goes to the data callback as a view into the input
 * buffer; the reply kept has data NULL and data_len set. 1 when done so;
 * 0 leaves the packet to the general path (which also reports what is
 * wrong with it).
 */
static int
data_to_sink(struct amk_sftpc *c, const uint8_t *body, size_t len)
{
    struct amk_buf v;
    struct slot *s;
    const uint8_t *d;
    size_t dlen;
    uint32_t id;
    uint8_t t;

    amk_buf_view(&v, body, len);
    if (amk_buf_get_u8(&v, &t) != AMK_OK || amk_buf_get_u32(&v, &id) != AMK_OK ||
        amk_buf_get_string_direct(&v, &d, &dlen) != AMK_OK || amk_buf_get_end(&v) != AMK_OK)
        return 0;
    s = &c->slots[id & SLOT_MASK];
    if (s->id != id || s->state != SLOT_PENDING || s->type != AMK_SSH_FXP_READ)
        return 0;
    if (!c->data_fn(c->data_ctx, id, d, dlen))
        return 0;
    memset(&s->rep, 0, sizeof(s->rep));
    s->rep.type = AMK_SSH_FXP_DATA;
    s->rep.id = id;
    s->rep.data_len = dlen;
    s->rep.arrived = c->now;
    s->state = SLOT_DONE;
    s->seq = c->seq++;
    c->arrived++;
    return 1;
}

static int send_req(struct amk_sftpc *c, uint8_t type, const struct amk_sftp_req *req,
    uint32_t *id);

/* Queues CLOSE of an orphan handle with its reply dropped; AMK_ELIMIT or
 * AMK_ESTATE when it cannot go now. */
static int
close_now(struct amk_sftpc *c, const uint8_t *handle, size_t len)
{
    struct amk_sftp_req q;
    uint32_t id;
    int r;

    memset(&q, 0, sizeof(q));
    q.handle = handle;
    q.handle_len = len;
    if ((r = send_req(c, AMK_SSH_FXP_CLOSE, &q, &id)) != AMK_OK)
        return r;
    return amk_sftpc_forget(c, id);
}

/* Sends the CLOSEs that had to wait. */
static void
orphans_flush(struct amk_sftpc *c)
{
    while (c->n_orphans > 0 && c->err == AMK_OK && c->w.slot == NULL) {
        struct orphan *o = &c->orphans[c->n_orphans - 1];
        if (close_now(c, o->handle, o->len) != AMK_OK)
            return;
        c->n_orphans--;
    }
}

void
amk_sftpc_close_later(struct amk_sftpc *c, const uint8_t *handle, size_t len)
{
    if (c == NULL || handle == NULL || len == 0 || len > AMK_SFTP_HANDLE_MAX ||
        c->err != AMK_OK || !c->ready)
        return;         /* a dead session closes every handle with it */
    if (c->w.slot == NULL && close_now(c, handle, len) == AMK_OK)
        return;
    if (c->n_orphans < ORPHANS_MAX) {
        memcpy(c->orphans[c->n_orphans].handle, handle, len);
        c->orphans[c->n_orphans++].len = len;
    }
}

/* One whole packet body (type first). */
static int
handle_packet(struct amk_sftpc *c, const uint8_t *body, size_t len)
{
    struct amk_sftp_reply rep;
    struct slot *s;
    int r;

    if (!c->ready) {
        /* draft-02 §4: the server's first packet is VERSION. */
        if ((r = amk_sftp_dec_version(body, len, &c->version)) != AMK_OK)
            return fail(c, r, "bad VERSION packet, length", (uint32_t)len);
        if (c->version.version != AMK_SFTP_VERSION) {
            uint32_t v = c->version.version;
            amk_sftp_version_clear(&c->version);
            return fail(c, AMK_EVERSION, "server speaks an unsupported version", v);
        }
        c->ready = 1;
        return AMK_OK;
    }
    if (c->data_fn != NULL && len > 0 && body[0] == AMK_SSH_FXP_DATA &&
        data_to_sink(c, body, len))
        return AMK_OK;
    if ((r = amk_sftp_dec_reply(body, len, &rep)) != AMK_OK)
        return fail(c, r, "malformed reply of type", len > 0 ? body[0] : 0);
    s = &c->slots[rep.id & SLOT_MASK];
    if (s->id != rep.id || (s->state != SLOT_PENDING && s->state != SLOT_FORGOTTEN)) {
        uint32_t id = rep.id;       /* amk_sftp_reply_clear() zeroes rep */
        amk_sftp_reply_clear(&rep);
        return fail(c, AMK_EPROTO, "reply to an unknown request id", id);
    }
    if (!reply_allowed(s->type, rep.type)) {
        uint8_t t = rep.type;
        amk_sftp_reply_clear(&rep);
        return fail(c, AMK_EPROTO, "reply type not allowed for the request", t);
    }
    if (s->state == SLOT_FORGOTTEN) {
        s->state = SLOT_FREE;
        c->inflight--;
        /* a given-up OPEN or OPENDIR: nobody will close what it opened */
        if (rep.type == AMK_SSH_FXP_HANDLE)
            amk_sftpc_close_later(c, rep.handle, rep.handle_len);
        amk_sftp_reply_clear(&rep);
        orphans_flush(c);
        return AMK_OK;
    }
    s->rep = rep;
    s->rep.arrived = c->now;
    s->state = SLOT_DONE;
    s->seq = c->seq++;
    c->arrived++;
    return AMK_OK;
}

void
amk_sftpc_set_time(struct amk_sftpc *c, double now)
{
    c->now = now;
}

int
amk_sftpc_input_space(struct amk_sftpc *c, uint8_t **p, size_t *cap)
{
    uint32_t plen;

    *p = NULL;
    *cap = 0;
    if (c->err != AMK_OK)
        return c->err;
    /* Exactly up to the end of the length field, then of the packet: a
     * packet is never split across two fills, so it is never moved. */
    if (c->ilen < 4) {
        *cap = 4 - c->ilen;
    } else {
        plen = load_be32(c->ibuf);
        *cap = 4 + (size_t)plen - c->ilen;
    }
    *p = c->ibuf + c->ilen;
    return AMK_OK;
}

int
amk_sftpc_input_commit(struct amk_sftpc *c, size_t n)
{
    uint32_t plen;
    size_t cap;
    uint8_t *p;
    int r;

    if ((r = amk_sftpc_input_space(c, &p, &cap)) != AMK_OK)
        return r;
    if (n > cap)
        return AMK_EINVAL;
    c->ilen += n;
    if (c->ilen < 4)
        return AMK_OK;
    plen = load_be32(c->ibuf);
    /* draft-02 §3: uint32 length, then at least the type byte. */
    if (plen == 0 || plen > AMK_SFTP_PACKET_MAX)
        return fail(c, plen == 0 ? AMK_EFORMAT : AMK_ETOOBIG, "bad packet length", plen);
    if (c->ilen < 4 + (size_t)plen)
        return AMK_OK;
    c->ilen = 0;
    return handle_packet(c, c->ibuf + 4, plen);
}

int
amk_sftpc_input(struct amk_sftpc *c, const uint8_t *data, size_t len)
{
    uint32_t plen;
    size_t cap, take;
    uint8_t *p;
    int r;

    if (c->err != AMK_OK)
        return c->err;
    if (data == NULL && len > 0)
        return AMK_EINVAL;
    while (len > 0) {
        /* Fast path: a whole packet in the chunk, nothing buffered. */
        if (c->ilen == 0 && len >= 4) {
            plen = load_be32(data);
            if (plen == 0 || plen > AMK_SFTP_PACKET_MAX)
                return fail(c, plen == 0 ? AMK_EFORMAT : AMK_ETOOBIG,
                    "bad packet length", plen);
            if (len - 4 >= plen) {
                if ((r = handle_packet(c, data + 4, plen)) != AMK_OK)
                    return r;
                data += 4 + (size_t)plen;
                len -= 4 + (size_t)plen;
                continue;
            }
        }
        if ((r = amk_sftpc_input_space(c, &p, &cap)) != AMK_OK)
            return r;
        take = len < cap ? len : cap;
        memcpy(p, data, take);
        data += take;
        len -= take;
        if ((r = amk_sftpc_input_commit(c, take)) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

void
amk_sftpc_set_data_fn(struct amk_sftpc *c, amk_sftpc_data_fn fn, void *ctx)
{
    c->data_fn = fn;
    c->data_ctx = ctx;
}

static int
encode(struct amk_sftpc *c, uint8_t type, const struct amk_sftp_req *q, uint32_t id)
{
    struct amk_buf *o = &c->out;

    switch (type) {
    case AMK_SSH_FXP_OPEN:
        return amk_sftp_enc_open(o, id, q->path, q->pflags, q->attrs);
    case AMK_SSH_FXP_CLOSE: case AMK_SSH_FXP_FSTAT: case AMK_SSH_FXP_READDIR:
        return amk_sftp_enc_handle(o, type, id, q->handle, q->handle_len);
    case AMK_SSH_FXP_READ:
        return amk_sftp_enc_read(o, id, q->handle, q->handle_len, q->offset, q->len);
    case AMK_SSH_FXP_WRITE:
        return amk_sftp_enc_write(o, id, q->handle, q->handle_len, q->offset, q->data,
            q->data_len);
    case AMK_SSH_FXP_LSTAT: case AMK_SSH_FXP_STAT: case AMK_SSH_FXP_OPENDIR:
    case AMK_SSH_FXP_REMOVE: case AMK_SSH_FXP_RMDIR: case AMK_SSH_FXP_REALPATH:
    case AMK_SSH_FXP_READLINK:
        return amk_sftp_enc_path(o, type, id, q->path);
    case AMK_SSH_FXP_SETSTAT: case AMK_SSH_FXP_MKDIR:
        return amk_sftp_enc_path_attrs(o, type, id, q->path, q->attrs);
    case AMK_SSH_FXP_FSETSTAT:
        return amk_sftp_enc_fsetstat(o, id, q->handle, q->handle_len, q->attrs);
    case AMK_SSH_FXP_RENAME:
        return amk_sftp_enc_rename(o, id, q->path, q->path2);
    case AMK_SSH_FXP_SYMLINK:
        return amk_sftp_enc_symlink(o, id, q->path, q->path2, q->symlink_openssh);
    case AMK_SSH_FXP_EXTENDED:
        return amk_sftp_enc_extended(o, id, q->ext_name, q->data, q->data_len);
    default:
        return AMK_EINVAL;
    }
}

/* A free slot and the id it would get (not taken until marked pending). */
static int
slot_alloc(struct amk_sftpc *c, struct slot **out, uint32_t *id)
{
    if (c->inflight == AMK_SFTPC_INFLIGHT_MAX)
        return AMK_ELIMIT;
    for (size_t i = 0; i < AMK_SFTPC_INFLIGHT_MAX; i++) {
        size_t k = (c->cursor + i) % AMK_SFTPC_INFLIGHT_MAX;
        if (c->slots[k].state == SLOT_FREE) {
            *out = &c->slots[k];
            c->cursor = (k + 1) % AMK_SFTPC_INFLIGHT_MAX;
            c->generation++;
            *id = (c->generation << SLOT_BITS) | (uint32_t)k;
            return AMK_OK;
        }
    }
    return AMK_EINTERNAL;
}

int
amk_sftpc_write_begin(struct amk_sftpc *c, const uint8_t *handle, size_t handle_len,
    uint64_t offset, size_t cap, uint8_t **p)
{
    struct slot *s;
    uint32_t id;
    int r;

    *p = NULL;
    if (c->err != AMK_OK)
        return c->err;
    if (!c->ready || c->w.slot != NULL)
        return AMK_ESTATE;
    if (cap == 0)
        return AMK_EINVAL;
    if ((r = slot_alloc(c, &s, &id)) != AMK_OK)
        return r;
    if ((r = amk_sftp_enc_write_begin(&c->out, id, handle, handle_len, offset, cap, p,
            &c->w.start)) != AMK_OK)
        return r;
    c->w.slot = s;
    c->w.id = id;
    c->w.handle_len = handle_len;
    c->w.cap = cap;
    return AMK_OK;
}

int
amk_sftpc_write_end(struct amk_sftpc *c, size_t got, uint32_t *id)
{
    struct slot *s = c->w.slot;
    int r;

    *id = 0;
    if (s == NULL)
        return AMK_ESTATE;
    c->w.slot = NULL;
    if (got == 0) {
        amk_sftp_enc_abort(&c->out, c->w.start);
        return AMK_OK;
    }
    if ((r = amk_sftp_enc_write_end(&c->out, c->w.start, c->w.handle_len, c->w.cap, got))
        != AMK_OK)
        return r;
    s->id = c->w.id;
    s->type = AMK_SSH_FXP_WRITE;
    s->state = SLOT_PENDING;
    c->inflight++;
    *id = s->id;
    orphans_flush(c);
    return AMK_OK;
}

int
amk_sftpc_send(struct amk_sftpc *c, uint8_t type, const struct amk_sftp_req *req, uint32_t *id)
{
    if (c != NULL && c->err == AMK_OK && c->ready)
        orphans_flush(c);
    return send_req(c, type, req, id);
}

static int
send_req(struct amk_sftpc *c, uint8_t type, const struct amk_sftp_req *req, uint32_t *id)
{
    struct slot *s = NULL;
    uint32_t nid;
    int r;

    if (c->err != AMK_OK)
        return c->err;
    if (req == NULL || id == NULL)
        return AMK_EINVAL;
    if (!c->ready)
        return AMK_ESTATE;
    if (c->w.slot != NULL)
        return AMK_ESTATE;
    if ((r = slot_alloc(c, &s, &nid)) != AMK_OK)
        return r;
    if ((r = encode(c, type, req, nid)) != AMK_OK)
        return r;
    s->id = nid;
    s->type = type;
    s->state = SLOT_PENDING;
    c->inflight++;
    *id = s->id;
    return AMK_OK;
}

size_t
amk_sftpc_inflight(const struct amk_sftpc *c)
{
    return c->inflight;
}

static struct slot *
find(struct amk_sftpc *c, uint32_t id)
{
    struct slot *s = &c->slots[id & SLOT_MASK];

    return s->id == id && s->state != SLOT_FREE ? s : NULL;
}

int
amk_sftpc_take(struct amk_sftpc *c, uint32_t id, struct amk_sftp_reply *rep)
{
    struct slot *s = find(c, id);

    if (s == NULL || s->state == SLOT_FORGOTTEN)
        return AMK_EINVAL;
    if (s->state == SLOT_PENDING)
        return c->err != AMK_OK ? c->err : AMK_EAGAIN;
    *rep = s->rep;
    memset(&s->rep, 0, sizeof(s->rep));
    s->state = SLOT_FREE;
    c->inflight--;
    c->arrived--;
    return AMK_OK;
}

size_t
amk_sftpc_arrived(const struct amk_sftpc *c)
{
    return c->arrived;
}

int
amk_sftpc_next_done(const struct amk_sftpc *c, uint32_t *id)
{
    const struct slot *best = NULL;

    for (size_t i = 0; i < AMK_SFTPC_INFLIGHT_MAX; i++) {
        const struct slot *s = &c->slots[i];
        if (s->state == SLOT_DONE && (best == NULL || s->seq < best->seq))
            best = s;
    }
    if (best == NULL)
        return c->err != AMK_OK ? c->err : AMK_EAGAIN;
    *id = best->id;
    return AMK_OK;
}

int
amk_sftpc_forget(struct amk_sftpc *c, uint32_t id)
{
    struct slot *s = find(c, id);

    if (s == NULL || s->state == SLOT_FORGOTTEN)
        return AMK_EINVAL;
    if (s->state == SLOT_DONE) {
        struct amk_sftp_reply rep = s->rep;

        memset(&s->rep, 0, sizeof(s->rep));
        s->state = SLOT_FREE;
        c->inflight--;
        c->arrived--;
        if (rep.type == AMK_SSH_FXP_HANDLE)
            amk_sftpc_close_later(c, rep.handle, rep.handle_len);
        amk_sftp_reply_clear(&rep);
        return AMK_OK;
    }
    s->state = SLOT_FORGOTTEN;
    return AMK_OK;
}

int
amk_sftpc_error(const struct amk_sftpc *c)
{
    return c->err;
}

const char *
amk_sftpc_last_error(const struct amk_sftpc *c)
{
    return amk_error_msg(&c->detail);
}
