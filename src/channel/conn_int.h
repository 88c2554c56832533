/*
 * Internals of the connection engine shared by its files: conn.c (table,
 * dispatch, open/EOF/close), channel_data.c (data and windows),
 * session_req.c (channel requests), global_req.c (global requests).
 */
#ifndef AMK_CHANNEL_CONN_INT_H
#define AMK_CHANNEL_CONN_INT_H

#include "channel/conn.h"
#include "channel/ring.h"
#include "util/buf.h"
#include "util/err.h"

/* Largest receive window we configure (the receive buffers hold at most
 * one window). */
#define AMK_CONN_WINDOW_MAX ((uint32_t)1024 * 1024 * 1024)
/* Our data packets never exceed this, whatever the peer allows: it keeps
 * each payload well below the transport's packet limit. */
#define AMK_CONN_SEND_CHUNK_MAX ((uint32_t)128 * 1024)
/* Channel number = generation << 16 | slot. */
#define AMK_CONN_SLOT_BITS 16
#define AMK_CONN_SLOT_MASK ((uint32_t)0xffff)
/* Longest peer text we keep (open failure description, exit message). */
#define AMK_CONN_TEXT_MAX 1024

/* Channel flags. */
#define CH_EOF_SENT 0x001u
#define CH_EOF_RCVD 0x002u
#define CH_CLOSE_SENT 0x004u
#define CH_CLOSE_RCVD 0x008u
#define CH_RELEASED 0x010u      /* the application let go of it */
#define CH_QUEUED 0x020u        /* on the changed queue */
#define CH_EXIT_STATUS 0x040u
#define CH_EXIT_SIGNAL 0x080u
#define CH_CORE_DUMPED 0x100u

/* Want-reply requests of one kind, answered in order (RFC 4254 §4, §5.4):
 * tickets are issued 0, 1, 2, ...; the last AMK_CONN_REQUESTS_MAX answers
 * are kept as bits. */
struct amk_reqtrack {
    uint32_t issued;
    uint32_t answered;
    uint64_t ok_bits;           /* bit (ticket % 64): answered with success */
};

/* The peer's want-reply requests on one channel (server role), answered
 * in order (RFC 4254 §5.4): tickets received 0, 1, 2, ...; answers
 * decided out of order wait as bits until every earlier one is sent. */
struct amk_inreq {
    uint32_t received;
    uint32_t replied;
    uint64_t decided_bits;      /* bit (ticket % 64): decided, not yet sent */
    uint64_t ok_bits;           /* bit (ticket % 64): decided with success */
};

struct amk_chan {
    uint32_t id;                /* our channel number */
    uint32_t peer_id;           /* the peer's, once known */
    enum amk_chan_state state;
    unsigned flags;             /* CH_* */
    int merge_stderr;

    /* Receiving: the peer may send rwin more bytes; rconsumed bytes were
     * read by the application and not yet given back by WINDOW_ADJUST. */
    uint32_t rwin;
    uint32_t rwin_max;
    uint32_t rmaxpkt;
    uint32_t rconsumed;
    struct amk_ring rx[2];      /* indexed by enum amk_chan_stream */

    /* Sending: the peer's window and maximum packet size. */
    uint32_t swin;
    uint32_t smaxpkt;

    struct amk_reqtrack req;
    struct amk_inreq inreq;     /* the peer's requests awaiting our reply */

    uint32_t exit_status;
    char *exit_signal;          /* without "SIG" */
    char *exit_message;
    uint32_t open_reason;       /* AMK_OPEN_* after OPEN_FAILURE */
    char *open_desc;

    struct amk_chan *next_changed;
};

struct amk_conn {
    uint32_t window;
    uint32_t maxpacket;
    size_t max_channels;
    int merge_stderr;
    uint64_t ka_interval;
    unsigned ka_count_max;
    amk_conn_open_fn open_cb;
    amk_conn_request_fn request_cb;
    amk_conn_global_fn global_cb;
    int no_more_sessions;       /* no-more-sessions@openssh.com received */
    void *user;
    struct amk_logger log;
    struct amk_pkt_sink sink;

    struct amk_chan **slots;    /* max_channels entries, NULL when free */
    uint16_t *gens;             /* generation of each slot */
    size_t n_open;              /* slots in use */
    size_t slot_hint;           /* where the next free-slot search starts */

    struct amk_buf pending;     /* queued control payloads: u32 length + payload */
    struct amk_buf msg;         /* scratch for building one payload */

    struct amk_reqtrack greq;   /* our global requests */
    uint64_t ka_next;           /* next keepalive due; 0 until the first tick */
    unsigned ka_unanswered;

    struct amk_chan *changed_head;
    struct amk_chan *changed_tail;

    int err;                    /* first fatal error */
    struct amk_error detail;
};

/* Fails the engine with @p code (keeps the first) and returns it. */
int amk_conn_fail(struct amk_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Starts building a payload in c->msg with message number @p type. */
int amk_conn_msg_start(struct amk_conn *c, uint8_t type) AMK_CONN_MUST_CHECK;
/*
 * Sends c->msg as a control message, behind any queued ones. When the
 * sink is full it is queued; @p from_peer says the peer caused it (a full
 * queue then fails the engine with AMK_ELIMIT) or the application did
 * (AMK_EAGAIN, nothing queued).
 */
int amk_conn_msg_send(struct amk_conn *c, int from_peer) AMK_CONN_MUST_CHECK;
/* Sends c->msg only if it can go out now (data): AMK_EAGAIN otherwise. */
int amk_conn_msg_send_now(struct amk_conn *c) AMK_CONN_MUST_CHECK;
/* Sends c->msg followed by the @p dlen bytes at @p data, like
 * amk_conn_msg_send_now(), without copying them into c->msg when the sink
 * takes two pieces. */
int amk_conn_msg_send_data(struct amk_conn *c, const uint8_t *data, size_t dlen)
    AMK_CONN_MUST_CHECK;

/* The channel with number @p id, or NULL. */
struct amk_chan *amk_conn_chan_find(const struct amk_conn *c, uint32_t id);
/*
 * Reads the recipient channel of a channel message and finds it: fails
 * the engine with AMK_EPROTO for an unknown number, one still opening
 * (unless @p opening), or one the peer closed already.
 */
int amk_conn_chan_recipient(struct amk_conn *c, struct amk_buf *m, const char *what,
    int opening, struct amk_chan **ch) AMK_CONN_MUST_CHECK;
/* Queues @p ch on the changed queue (once). */
void amk_conn_chan_changed(struct amk_conn *c, struct amk_chan *ch);
/* For API calls: finds @p id and checks it is confirmed and may send
 * (AMK_EINVAL, AMK_ESTATE, AMK_ECLOSED). Also runs the engine checks. */
int amk_conn_chan_sendable(struct amk_conn *c, uint32_t id, struct amk_chan **ch)
    AMK_CONN_MUST_CHECK;
/* The engine's error, else AMK_OK after retrying queued output. */
int amk_conn_enter(struct amk_conn *c) AMK_CONN_MUST_CHECK;

/* Copies @p p / @p len into an allocated printable-ASCII string. */
char *amk_conn_text(const uint8_t *p, size_t len);

/* Request tracking. */
int amk_reqtrack_issue(struct amk_reqtrack *t, uint32_t *ticket) AMK_CONN_MUST_CHECK;
int amk_reqtrack_answer(struct amk_reqtrack *t, int ok) AMK_CONN_MUST_CHECK;
int amk_reqtrack_result(const struct amk_reqtrack *t, uint32_t ticket, int abandoned,
    enum amk_req_result *result) AMK_CONN_MUST_CHECK;

/* Message handlers: @p m is positioned after the message number. */
int amk_conn_on_window_adjust(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_data(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_extended_data(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_channel_request(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_channel_success(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_channel_failure(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_global_request(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_request_success(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
int amk_conn_on_request_failure(struct amk_conn *c, struct amk_buf *m) AMK_CONN_MUST_CHECK;
/* Server role: a CHANNEL_REQUEST other than exit-status / exit-signal,
 * @p m positioned after want-reply (server_req.c). */
int amk_conn_serve_request(struct amk_conn *c, struct amk_chan *ch, const uint8_t *type,
    size_t type_len, int want_reply, struct amk_buf *m) AMK_CONN_MUST_CHECK;

/* Gives consumed receive window back with WINDOW_ADJUST once half the
 * window is consumed (RFC 4254 §5.2). */
int amk_conn_chan_adjust(struct amk_conn *c, struct amk_chan *ch) AMK_CONN_MUST_CHECK;

#endif
