/*
 * The SSH connection protocol (RFC 4254) as a sans-I/O, message-level
 * engine: the channel table, flow-control windows, session requests and
 * global requests of one SSH connection.
 *
 * The engine sees payloads only. The caller hands it every received
 * payload numbered 80..127 with amk_conn_handle(); the engine emits the
 * payloads it wants sent through the amk_pkt_sink given at creation
 * (normally amk_transport_send()). It never reads a socket or a clock:
 * keepalive timers run on the time passed to amk_conn_tick().
 *
 * Channels are named by our (local) channel number, a uint32_t returned by
 * the open calls. A number is not reused while the peer may still refer
 * to it: a channel's slot is reclaimed only after CLOSE went both ways and
 * the application released it (amk_conn_channel_release()), and a
 * reclaimed slot comes back under a different number.
 *
 * Ordering (RFC 4254 §5.3): after our EOF no more data is sent; after our
 * CLOSE nothing more is sent on the channel; a CLOSE from the peer is
 * answered with our CLOSE at once (received data stays readable). Data,
 * EOF or requests from the peer after its EOF / CLOSE are protocol errors.
 *
 * Errors: bad input from the peer fails the whole engine with a fatal code
 * (AMK_EPROTO, AMK_ETOOBIG, AMK_EFORMAT, AMK_ETRUNCATED) and a detail
 * (amk_conn_last_error()); a failed engine returns its first error from
 * every later call. The caller SHOULD then send SSH_MSG_DISCONNECT with
 * reason PROTOCOL_ERROR (amk_transport_disconnect()). Usage errors
 * (AMK_EINVAL, AMK_ESTATE) and AMK_EAGAIN do not fail the engine, and
 * neither do AMK_ELIMIT from the open and request calls (a limit of this
 * engine was reached) nor AMK_ECLOSED from a channel call (the peer closed
 * that channel), although amk_err_is_fatal() counts those codes as fatal:
 * the engine is failed exactly when amk_conn_error() is not AMK_OK.
 *
 * Output back-pressure: when the sink answers AMK_EAGAIN, control messages
 * (window adjusts, replies, EOF, CLOSE) are queued inside the engine, in
 * order, and retried by amk_conn_flush() and at the start of every call;
 * data writes then return AMK_EAGAIN until the queue is empty.
 *
 * Threading: one engine is used by one thread at a time.
 */
#ifndef AMK_CHANNEL_CONN_H
#define AMK_CHANNEL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

#include "transport/pkt_sink.h"
#include "util/log.h"

#define AMK_CONN_MUST_CHECK __attribute__((warn_unused_result))

/* Message numbers, RFC 4254 §9 (RFC 4250 §4.1.2). */
#define AMK_MSG_GLOBAL_REQUEST 80
#define AMK_MSG_REQUEST_SUCCESS 81
#define AMK_MSG_REQUEST_FAILURE 82
#define AMK_MSG_CHANNEL_OPEN 90
#define AMK_MSG_CHANNEL_OPEN_CONFIRMATION 91
#define AMK_MSG_CHANNEL_OPEN_FAILURE 92
#define AMK_MSG_CHANNEL_WINDOW_ADJUST 93
#define AMK_MSG_CHANNEL_DATA 94
#define AMK_MSG_CHANNEL_EXTENDED_DATA 95
#define AMK_MSG_CHANNEL_EOF 96
#define AMK_MSG_CHANNEL_CLOSE 97
#define AMK_MSG_CHANNEL_REQUEST 98
#define AMK_MSG_CHANNEL_SUCCESS 99
#define AMK_MSG_CHANNEL_FAILURE 100
#define AMK_MSG_CONN_FIRST 80
#define AMK_MSG_CONN_LAST 127

/* SSH_MSG_CHANNEL_OPEN_FAILURE reason codes, RFC 4254 §5.1. */
#define AMK_OPEN_ADMINISTRATIVELY_PROHIBITED 1
#define AMK_OPEN_CONNECT_FAILED 2
#define AMK_OPEN_UNKNOWN_CHANNEL_TYPE 3
#define AMK_OPEN_RESOURCE_SHORTAGE 4

/* data_type_code of SSH_MSG_CHANNEL_EXTENDED_DATA, RFC 4254 §5.2. */
#define AMK_EXTENDED_DATA_STDERR 1

/* Defaults and limits. */
#define AMK_CONN_WINDOW_DEFAULT ((uint32_t)16 * 1024 * 1024)  /* receive window per channel */
#define AMK_CONN_WINDOW_MIN ((uint32_t)64 * 1024)
#define AMK_CONN_MAXPACKET_DEFAULT ((uint32_t)32 * 1024)      /* largest data packet we accept */
#define AMK_CONN_MAXPACKET_MIN ((uint32_t)1024)
#define AMK_CONN_MAXPACKET_MAX ((uint32_t)128 * 1024)
#define AMK_CONN_CHANNELS_DEFAULT 1024                        /* channels at once */
#define AMK_CONN_CHANNELS_MAX 65536
#define AMK_CONN_PENDING_MAX ((size_t)256 * 1024)             /* queued control bytes */
#define AMK_CONN_REQUESTS_MAX 64    /* want-reply requests outstanding, per channel and global */
#define AMK_CONN_NO_DEADLINE UINT64_MAX

/* Which received stream of a session channel. */
enum amk_chan_stream {
    AMK_CHAN_STDOUT = 0,        /* SSH_MSG_CHANNEL_DATA */
    AMK_CHAN_STDERR = 1         /* SSH_MSG_CHANNEL_EXTENDED_DATA type 1 */
};

enum amk_chan_state {
    AMK_CHAN_OPENING = 1,       /* CHANNEL_OPEN sent, no answer yet */
    AMK_CHAN_OPEN,              /* confirmed; see the EOF/CLOSE flags */
    AMK_CHAN_OPEN_FAILED,       /* the peer refused: amk_conn_channel_open_error() */
    AMK_CHAN_CLOSED             /* CLOSE went both ways; buffered data stays readable */
};

/* Bits of amk_conn_channel_poll(). */
#define AMK_CHAN_EV_READABLE 0x01u   /* stdout data waiting, or stdout at EOF */
#define AMK_CHAN_EV_STDERR 0x02u     /* stderr data waiting, or stderr at EOF */
#define AMK_CHAN_EV_WRITABLE 0x04u   /* open, our EOF/CLOSE not sent, peer window > 0 */
#define AMK_CHAN_EV_EOF 0x08u        /* the peer sent EOF (or CLOSE) */
#define AMK_CHAN_EV_CLOSED 0x10u     /* the peer sent CLOSE, or the open failed */
#define AMK_CHAN_EV_EXIT 0x20u       /* exit-status or exit-signal received */
#define AMK_CHAN_EV_OPENED 0x40u     /* the open was confirmed */

/* Results of a want-reply request (amk_conn_channel_request_result(),
 * amk_conn_global_result()). */
enum amk_req_result {
    AMK_REQ_PENDING = 0,
    AMK_REQ_SUCCESS = 1,
    AMK_REQ_FAILURE = 2
};

/* A channel the peer asks to open (RFC 4254 §5.1, §6.3.2, §7.2). Strings
 * are NUL-terminated views valid during the callback. */
struct amk_conn_open_req {
    const char *type;           /* "session", "x11", "forwarded-tcpip", "direct-tcpip", ... */
    uint32_t peer_window;
    uint32_t peer_maxpacket;
    /* forwarded-tcpip: connected address/port; direct-tcpip: host/port to
     * connect to; x11: unused ("" / 0). */
    const char *host;
    uint32_t port;
    /* originator address and port (forwarded/direct-tcpip, x11) */
    const char *orig_host;
    uint32_t orig_port;
};

/*
 * Decides on a CHANNEL_OPEN from the peer. Return AMK_OK to accept (the
 * engine confirms it, and *@p id is the new channel's number, valid once
 * the callback returns), or an AMK_OPEN_* reason (a positive value) to
 * refuse. With no callback every open is refused: unknown types with
 * UNKNOWN_CHANNEL_TYPE, known ones with ADMINISTRATIVELY_PROHIBITED.
 * MUST NOT call back into the engine.
 */
typedef int (*amk_conn_open_fn)(void *user, const struct amk_conn_open_req *req, uint32_t id);

/* --- Server role: requests from the peer (declared here for the config) -- */

/* What a CHANNEL_REQUEST from the peer asks for (RFC 4254 §6, RFC 4335). */
enum amk_chreq_kind {
    AMK_CHREQ_PTY = 1,          /* "pty-req" (§6.2) */
    AMK_CHREQ_X11,              /* "x11-req" (§6.3.1) */
    AMK_CHREQ_ENV,              /* "env" (§6.4) */
    AMK_CHREQ_SHELL,            /* "shell" (§6.5) */
    AMK_CHREQ_EXEC,             /* "exec" (§6.5) */
    AMK_CHREQ_SUBSYSTEM,        /* "subsystem" (§6.5) */
    AMK_CHREQ_WINDOW_CHANGE,    /* "window-change" (§6.7) */
    AMK_CHREQ_SIGNAL,           /* "signal" (§6.9) */
    AMK_CHREQ_BREAK,            /* "break" (RFC 4335 §3) */
    AMK_CHREQ_AUTH_AGENT        /* "auth-agent-req@openssh.com" (no fields) */
};

/*
 * One parsed CHANNEL_REQUEST from the peer. Strings are NUL-terminated
 * copies valid during the callback only; only the fields of @c kind are
 * set, the others are zero.
 */
struct amk_conn_chreq {
    uint32_t id;                /* our channel number */
    enum amk_chreq_kind kind;
    const char *type;           /* the request name as sent */
    int want_reply;
    uint32_t ticket;            /* with want_reply: for amk_conn_channel_reply() */
    struct {                    /* AMK_CHREQ_PTY */
        const char *term;
        uint32_t cols, rows, width_px, height_px;
        const uint8_t *modes;   /* encoded terminal modes (RFC 4254 §8), validated: */
        size_t modes_len;       /* decode with amk_conn_pty_modes_next() */
    } pty;
    struct {                    /* AMK_CHREQ_ENV */
        const char *name;
        const char *value;
    } env;
    struct {                    /* AMK_CHREQ_EXEC: binary-safe, may hold NULs */
        const char *command;    /* NUL-terminated after command_len bytes */
        size_t command_len;
    } exec;
    const char *subsystem;      /* AMK_CHREQ_SUBSYSTEM: the name, e.g. "sftp" */
    struct {                    /* AMK_CHREQ_WINDOW_CHANGE */
        uint32_t cols, rows, width_px, height_px;
    } winch;
    const char *signal;         /* AMK_CHREQ_SIGNAL: name without "SIG", e.g. "TERM" */
    uint32_t break_ms;          /* AMK_CHREQ_BREAK */
    struct {                    /* AMK_CHREQ_X11 */
        int single_connection;
        const char *auth_protocol;
        const char *auth_cookie;
        uint32_t screen;
    } x11;
};

/*
 * Decides on a CHANNEL_REQUEST from the peer (server role). Returns
 * AMK_REQ_SUCCESS or AMK_REQ_FAILURE to answer now, or AMK_REQ_PENDING to
 * answer later with amk_conn_channel_reply(req->ticket) (only meaningful
 * with want_reply; without it the result is ignored). Any other value
 * counts as FAILURE. MUST NOT call back into the engine.
 */
typedef int (*amk_conn_request_fn)(void *user, const struct amk_conn_chreq *req);

/* A GLOBAL_REQUEST from the peer (RFC 4254 §4), handed to global_cb. */
struct amk_conn_global_req {
    const char *name;
    int want_reply;
    const uint8_t *data;        /* the request-specific bytes, unparsed */
    size_t len;
    /* tcpip-forward / cancel-tcpip-forward (RFC 4254 §7.1), parsed: */
    const char *bind_address;   /* NULL for other requests */
    uint32_t bind_port;
};

/*
 * Decides on a GLOBAL_REQUEST other than keepalive@openssh.com (always
 * answered with REQUEST_FAILURE, as OpenSSH's server does) and
 * no-more-sessions@openssh.com (always honoured by the engine). Returns
 * AMK_REQ_SUCCESS or AMK_REQ_FAILURE (anything else: FAILURE). For a
 * successful tcpip-forward of port 0 set *@p bound_port to the port
 * allocated: REQUEST_SUCCESS then carries it (RFC 4254 §7.1). MUST NOT
 * call back into the engine.
 */
typedef int (*amk_conn_global_fn)(void *user, const struct amk_conn_global_req *req,
    uint32_t *bound_port);

/* Zero-initialise, then set what you need. */
struct amk_conn_config {
    uint32_t window;            /* receive window per channel; 0: AMK_CONN_WINDOW_DEFAULT */
    uint32_t maxpacket;         /* largest data packet we accept; 0: AMK_CONN_MAXPACKET_DEFAULT */
    size_t max_channels;        /* 0: AMK_CONN_CHANNELS_DEFAULT */
    int merge_stderr;           /* new channels deliver stderr into stdout */
    /* Keepalive (like OpenSSH's ServerAliveInterval / ServerAliveCountMax):
     * every interval amk_conn_tick() sends keepalive@openssh.com with
     * want-reply; once count_max of them are unanswered, AMK_ETIMEOUT.
     * 0: no keepalives. count_max 0: 3. */
    uint64_t keepalive_interval_ms;
    unsigned keepalive_count_max;
    amk_conn_open_fn open_cb;   /* NULL: refuse the peer's opens */
    void *user;                 /* passed to open_cb */
    struct amk_logger log;      /* zeroed: no logging */
    /* Server role: NULL keeps the client behaviour (every request but
     * exit-status / exit-signal refused; every global request refused).
     * Both receive @c user. */
    amk_conn_request_fn request_cb;
    amk_conn_global_fn global_cb;
};

struct amk_conn;

/* Creates an engine emitting through @p sink (copied; sink->user must
 * outlive the engine). AMK_EINVAL: NULL arguments, window or maxpacket
 * out of range, max_channels above AMK_CONN_CHANNELS_MAX; AMK_ENOMEM. */
int amk_conn_new(struct amk_conn **out, const struct amk_conn_config *cfg,
    const struct amk_pkt_sink *sink) AMK_CONN_MUST_CHECK;
/* Frees the engine, every channel and buffered data (wiped). NULL is fine. */
void amk_conn_free(struct amk_conn *c);

/* --- Input and timers ------------------------------------------------ */

/*
 * Processes one received payload (message number first). Returns AMK_OK;
 * AMK_ENOTSUP (non-fatal) for a message number in 80..127 the protocol does
 * not define: the caller SHOULD answer SSH_MSG_UNIMPLEMENTED (RFC 4253
 * §11.4); AMK_EINVAL for an empty payload or a number outside 80..127;
 * fatal: AMK_EPROTO (unknown channel, message not allowed in the channel's
 * state, window overflow, reply nobody asked for), AMK_ETOOBIG (data
 * larger than our maximum packet), AMK_ETRUNCATED / AMK_EFORMAT
 * (malformed), AMK_ELIMIT (control queue full), AMK_ENOMEM, or what the
 * sink returned other than AMK_EAGAIN.
 */
int amk_conn_handle(struct amk_conn *c, const uint8_t *payload, size_t len) AMK_CONN_MUST_CHECK;

/* Retries queued control messages. AMK_OK when the queue is empty,
 * AMK_EAGAIN when the sink still refuses, or the engine's error. */
int amk_conn_flush(struct amk_conn *c) AMK_CONN_MUST_CHECK;
/* 1 when control messages are queued (call amk_conn_flush()). */
int amk_conn_wants_flush(const struct amk_conn *c);

/* When amk_conn_tick() is next due (the keepalive timer), in the caller's
 * ms clock; AMK_CONN_NO_DEADLINE when none. The timer starts at the first
 * tick. */
uint64_t amk_conn_next_deadline(const struct amk_conn *c);
/* Runs the keepalive timer at @p now_ms. AMK_OK, AMK_ETIMEOUT (fatal: too
 * many keepalives unanswered), or the engine's error. */
int amk_conn_tick(struct amk_conn *c, uint64_t now_ms) AMK_CONN_MUST_CHECK;

/* The first fatal error, AMK_OK while healthy. */
int amk_conn_error(const struct amk_conn *c);
/* Its detail, e.g. "channel 3: 40000 bytes of data beyond the window
 * (32768 left)"; "" when none. */
const char *amk_conn_last_error(const struct amk_conn *c);

/*
 * Takes the next channel whose poll flags may have changed since it was
 * last taken (each channel queued at most once): AMK_OK with *@p id, or
 * AMK_EAGAIN when none. Lets a caller with many channels avoid polling
 * each one.
 */
int amk_conn_next_changed(struct amk_conn *c, uint32_t *id) AMK_CONN_MUST_CHECK;

/* --- Opening and closing channels ------------------------------------ */

/*
 * Sends CHANNEL_OPEN "session" (RFC 4254 §6.1) and gives the new channel's
 * number in *@p id; it is AMK_CHAN_OPENING until the peer answers.
 * AMK_ELIMIT when max_channels are in use; AMK_EAGAIN when the sink
 * refused (nothing opened); AMK_ENOMEM; the engine's error.
 */
int amk_conn_open_session(struct amk_conn *c, uint32_t *id) AMK_CONN_MUST_CHECK;
/* As amk_conn_open_session() with a receive window of @p window bytes
 * instead of the engine's (0: the engine's); AMK_EINVAL when it is below
 * AMK_CONN_WINDOW_MIN or above the engine's window (its buffers' size). */
int amk_conn_open_session_window(struct amk_conn *c, uint32_t window, uint32_t *id)
    AMK_CONN_MUST_CHECK;
/* Sends CHANNEL_OPEN "direct-tcpip" (RFC 4254 §7.2): the peer connects to
 * @p host : @p port for a client at @p orig_host : @p orig_port. As above,
 * plus AMK_EINVAL for NULL strings or ports above 65535. */
int amk_conn_open_direct_tcpip(struct amk_conn *c, const char *host, uint32_t port,
    const char *orig_host, uint32_t orig_port, uint32_t *id) AMK_CONN_MUST_CHECK;

/*
 * Grows open channel @p id's receive window to @p window bytes with a
 * WINDOW_ADJUST of the difference (nothing when it is already as large,
 * or the peer sent EOF). Its receive buffers may then hold that much.
 * AMK_OK; AMK_EINVAL (unknown or not open channel, above 1 GiB);
 * AMK_EAGAIN when the sink refused (nothing changed); the engine's error.
 */
int amk_conn_channel_grow_window(struct amk_conn *c, uint32_t id, uint32_t window)
    AMK_CONN_MUST_CHECK;

/* The channel's state. AMK_EINVAL for an unknown number. */
int amk_conn_channel_state(const struct amk_conn *c, uint32_t id, enum amk_chan_state *state)
    AMK_CONN_MUST_CHECK;
/* Readiness flags AMK_CHAN_EV_*; 0 for an unknown number. */
unsigned amk_conn_channel_poll(const struct amk_conn *c, uint32_t id);
/* After AMK_CHAN_OPEN_FAILED: the reason (AMK_OPEN_*) and the peer's
 * description (printable ASCII, valid while the channel exists).
 * AMK_ESTATE when the open did not fail; AMK_EINVAL. */
int amk_conn_channel_open_error(const struct amk_conn *c, uint32_t id, uint32_t *reason,
    const char **description) AMK_CONN_MUST_CHECK;

/* Sends CHANNEL_EOF (RFC 4254 §5.3): no more data from us. A second call
 * is a no-op. AMK_ESTATE before the open is confirmed or after CLOSE. */
int amk_conn_channel_send_eof(struct amk_conn *c, uint32_t id) AMK_CONN_MUST_CHECK;
/* Sends CHANNEL_CLOSE unless sent already (no-op then). Received data
 * stays readable. AMK_ESTATE while still opening; AMK_EINVAL. */
int amk_conn_channel_close(struct amk_conn *c, uint32_t id) AMK_CONN_MUST_CHECK;
/*
 * The application is done with the channel: closes it if needed and frees
 * it once CLOSE went both ways (or at once when the open failed). The
 * number MUST NOT be used afterwards. AMK_EINVAL for an unknown number;
 * a channel still opening is freed when the answer arrives (a
 * confirmation is then answered with CLOSE).
 */
int amk_conn_channel_release(struct amk_conn *c, uint32_t id) AMK_CONN_MUST_CHECK;
/* Delivers stderr into stdout from now on (or not). AMK_EINVAL. */
int amk_conn_channel_merge_stderr(struct amk_conn *c, uint32_t id, int merge) AMK_CONN_MUST_CHECK;

/* --- Data ------------------------------------------------------------ */

/*
 * Sends up to @p len bytes of stdin as CHANNEL_DATA, as much as the peer's
 * window allows, split into packets no larger than its maximum packet size
 * (RFC 4254 §5.2). *@p written is the count taken. Returns AMK_OK with
 * *written > 0 (or 0 for @p len 0); AMK_EAGAIN when nothing fitted (window
 * exhausted or the sink full); AMK_ESTATE when not open or after our EOF or
 * CLOSE; AMK_ECLOSED when the peer closed the channel; AMK_EINVAL; the
 * engine's error.
 */
int amk_conn_channel_write(struct amk_conn *c, uint32_t id, const void *data, size_t len,
    size_t *written) AMK_CONN_MUST_CHECK;
/* As amk_conn_channel_write() as CHANNEL_EXTENDED_DATA of @p type (server
 * side stderr: AMK_EXTENDED_DATA_STDERR). */
int amk_conn_channel_write_ext(struct amk_conn *c, uint32_t id, uint32_t type, const void *data,
    size_t len, size_t *written) AMK_CONN_MUST_CHECK;
/* The peer's current window and maximum packet size, 0 when not open. */
uint32_t amk_conn_channel_send_window(const struct amk_conn *c, uint32_t id);

/*
 * Copies up to @p cap buffered bytes of @p stream into @p buf. Returns
 * AMK_OK with *@p got > 0; AMK_OK with *got 0 at end of stream (the peer
 * sent EOF or CLOSE, or the open failed, and the buffer is empty);
 * AMK_EAGAIN when nothing is buffered yet; AMK_EINVAL. Reading may send a
 * WINDOW_ADJUST: once half the window has been consumed (RFC 4254 §5.2).
 */
int amk_conn_channel_read(struct amk_conn *c, uint32_t id, enum amk_chan_stream stream,
    void *buf, size_t cap, size_t *got) AMK_CONN_MUST_CHECK;
/* Bytes buffered on @p stream (0 for an unknown number). */
size_t amk_conn_channel_pending(const struct amk_conn *c, uint32_t id, enum amk_chan_stream stream);

/* --- Session requests (RFC 4254 §6) ---------------------------------- */

/*
 * Each request may ask for a reply (@p want_reply). Then *@p ticket
 * (which may be NULL) receives its number on the channel and the answer is
 * read with amk_conn_channel_request_result(); replies are matched to
 * requests in order (RFC 4254 §5.4). At most AMK_CONN_REQUESTS_MAX
 * want-reply requests may be outstanding per channel (AMK_ELIMIT).
 * Common errors: AMK_EINVAL (unknown channel, NULL or over-long strings),
 * AMK_ESTATE (channel not open, or our CLOSE sent), AMK_ECLOSED (the peer
 * closed), AMK_EAGAIN (the sink refused; nothing sent), AMK_ENOMEM, the
 * engine's error.
 */
int amk_conn_channel_exec(struct amk_conn *c, uint32_t id, const char *command, int want_reply,
    uint32_t *ticket) AMK_CONN_MUST_CHECK;
int amk_conn_channel_shell(struct amk_conn *c, uint32_t id, int want_reply, uint32_t *ticket)
    AMK_CONN_MUST_CHECK;
int amk_conn_channel_subsystem(struct amk_conn *c, uint32_t id, const char *name, int want_reply,
    uint32_t *ticket) AMK_CONN_MUST_CHECK;
int amk_conn_channel_env(struct amk_conn *c, uint32_t id, const char *name, const char *value,
    int want_reply, uint32_t *ticket) AMK_CONN_MUST_CHECK;

/* One encoded terminal mode (RFC 4254 §8): opcode 1..159, a uint32 value. */
struct amk_pty_mode {
    uint8_t opcode;
    uint32_t value;
};

/* Terminal modes of RFC 4254 §8 used most. */
#define AMK_TTY_OP_END 0
#define AMK_TTY_VINTR 1
#define AMK_TTY_VEOF 5             /* RFC 4254 §8: 4 is VKILL */
#define AMK_TTY_ECHO 53
#define AMK_TTY_ICANON 51
#define AMK_TTY_ISIG 50
#define AMK_TTY_ICRNL 36
#define AMK_TTY_OPOST 70
#define AMK_TTY_ONLCR 72
#define AMK_TTY_OP_ISPEED 128
#define AMK_TTY_OP_OSPEED 129
#define AMK_TTY_OP_MAX_ARG 159      /* opcodes 1..159 carry a uint32 */

struct amk_pty_req {
    const char *term;           /* TERM, e.g. "xterm-256color"; NULL: "" */
    uint32_t cols, rows;        /* characters */
    uint32_t width_px, height_px; /* pixels, 0 when unknown */
    const struct amk_pty_mode *modes; /* encoded in order, TTY_OP_END appended */
    size_t n_modes;
};

/* pty-req (RFC 4254 §6.2). AMK_EINVAL also for an opcode outside 1..159. */
int amk_conn_channel_pty(struct amk_conn *c, uint32_t id, const struct amk_pty_req *pty,
    int want_reply, uint32_t *ticket) AMK_CONN_MUST_CHECK;
/* window-change (RFC 4254 §6.7), never with a reply. */
int amk_conn_channel_window_change(struct amk_conn *c, uint32_t id, uint32_t cols, uint32_t rows,
    uint32_t width_px, uint32_t height_px) AMK_CONN_MUST_CHECK;
/* signal (RFC 4254 §6.9), never with a reply: @p name without "SIG",
 * e.g. "TERM", "INT", "KILL". */
int amk_conn_channel_signal(struct amk_conn *c, uint32_t id, const char *name) AMK_CONN_MUST_CHECK;
/* break (RFC 4335 §3) of @p ms milliseconds. */
int amk_conn_channel_break(struct amk_conn *c, uint32_t id, uint32_t ms, int want_reply,
    uint32_t *ticket) AMK_CONN_MUST_CHECK;

/* The answer to request @p ticket: *@p result AMK_REQ_PENDING / _SUCCESS /
 * _FAILURE (FAILURE also when the channel closed before answering).
 * AMK_EINVAL for an unknown channel or a ticket never issued or too old
 * (more than AMK_CONN_REQUESTS_MAX answers ago). */
int amk_conn_channel_request_result(const struct amk_conn *c, uint32_t id, uint32_t ticket,
    enum amk_req_result *result) AMK_CONN_MUST_CHECK;

/* exit-status (RFC 4254 §6.10). AMK_OK with *@p status once received;
 * AMK_EAGAIN while the channel may still deliver it; AMK_ECLOSED when the
 * peer closed without sending it; AMK_EINVAL. */
int amk_conn_channel_exit_status(const struct amk_conn *c, uint32_t id, uint32_t *status)
    AMK_CONN_MUST_CHECK;
/* exit-signal (RFC 4254 §6.10): the signal name without "SIG", whether
 * core was dumped, and the error message (printable ASCII; views valid
 * while the channel exists). @p core_dumped / @p message may be NULL.
 * Returns as amk_conn_channel_exit_status(). */
int amk_conn_channel_exit_signal(const struct amk_conn *c, uint32_t id, const char **signal,
    int *core_dumped, const char **message) AMK_CONN_MUST_CHECK;

/* --- Global requests (RFC 4254 §4) ----------------------------------- */

/*
 * Sends GLOBAL_REQUEST @p name with @p data (request-specific fields,
 * already encoded; may be NULL with len 0). With @p want_reply, *@p ticket
 * (may be NULL) numbers it for amk_conn_global_result(); answers are
 * matched in order. AMK_EINVAL, AMK_ELIMIT (AMK_CONN_REQUESTS_MAX
 * outstanding), AMK_EAGAIN (the sink refused), AMK_ENOMEM, the engine's
 * error. Requests from the peer we don't know are answered with
 * REQUEST_FAILURE when they want a reply (OpenSSH expects exactly that for
 * keepalive@openssh.com).
 */
int amk_conn_global_request(struct amk_conn *c, const char *name, const uint8_t *data,
    size_t len, int want_reply, uint32_t *ticket) AMK_CONN_MUST_CHECK;
/* keepalive@openssh.com with want-reply: any answer proves the peer alive. */
int amk_conn_keepalive(struct amk_conn *c, uint32_t *ticket) AMK_CONN_MUST_CHECK;
/* The answer to global request @p ticket, as amk_conn_channel_request_result(). */
int amk_conn_global_result(const struct amk_conn *c, uint32_t ticket, enum amk_req_result *result)
    AMK_CONN_MUST_CHECK;

/* --- Server role: answering requests, exit status ------------------- */

/*
 * Answers the peer's want-reply request @p ticket on channel @p id (from
 * a request_cb that returned AMK_REQ_PENDING) with CHANNEL_SUCCESS (@p ok)
 * or CHANNEL_FAILURE. Replies go out in the order of the requests (RFC
 * 4254 §5.4): an answer waits until every earlier request on the channel
 * is answered. After our CLOSE nothing is sent (AMK_OK). At most
 * AMK_CONN_REQUESTS_MAX requests may await replies per channel; more from
 * the peer fail the engine with AMK_ELIMIT. Errors: AMK_EINVAL (unknown
 * channel, ticket not awaiting an answer), the engine's error.
 */
int amk_conn_channel_reply(struct amk_conn *c, uint32_t id, uint32_t ticket, int ok)
    AMK_CONN_MUST_CHECK;
/* Requests of the peer on channel @p id still awaiting our answer. */
uint32_t amk_conn_channel_replies_pending(const struct amk_conn *c, uint32_t id);

/* Sends exit-status (RFC 4254 §6.10), want reply FALSE. Errors as
 * amk_conn_channel_exec(); also allowed after our EOF. */
int amk_conn_channel_send_exit_status(struct amk_conn *c, uint32_t id, uint32_t status)
    AMK_CONN_MUST_CHECK;
/* Sends exit-signal (RFC 4254 §6.10): @p signal without "SIG" (e.g.
 * "TERM"), whether core was dumped, an error message (NULL: "") and its
 * language tag (NULL: ""). AMK_EINVAL for a NULL or empty signal name or
 * one starting with "SIG"; otherwise as amk_conn_channel_send_exit_status(). */
int amk_conn_channel_send_exit_signal(struct amk_conn *c, uint32_t id, const char *signal,
    int core_dumped, const char *message, const char *lang) AMK_CONN_MUST_CHECK;

/*
 * Decodes the next terminal mode of an encoded pty-req mode string (RFC
 * 4254 §8) at *@p off: AMK_OK with *@p mode and *off advanced; AMK_ECLOSED
 * at the end (TTY_OP_END, an opcode 160..255 that stops parsing, or no
 * more bytes); AMK_ETRUNCATED when an argument is cut short.
 */
int amk_conn_pty_modes_next(const uint8_t *modes, size_t len, size_t *off,
    struct amk_pty_mode *mode) AMK_CONN_MUST_CHECK;

/* 1 once the peer sent no-more-sessions@openssh.com: later "session"
 * opens are refused with ADMINISTRATIVELY_PROHIBITED. */
int amk_conn_no_more_sessions(const struct amk_conn *c);

#endif
