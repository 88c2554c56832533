/*
 * A hostile CLIENT toolkit for tests of amiko's server (issue 9, "hostile
 * peers"): start `amiko serve` on a free loopback port, then attack it with
 *  - raw TCP: connections that send nothing, drip bytes, or send crafted
 *    plaintext binary packets before the first key exchange (RFC 4253 §6
 *    with any packet_length and padding_length the test likes);
 *  - amiko's CLIENT-role transport: a real handshake and authentication,
 *    after which the test sends arbitrary (even malformed) payloads, opens
 *    channels by hand and speaks SFTP by hand, ignoring every rule the
 *    server relies on (windows, limits, lengths);
 * and check after each attack that the server is alive, its memory did not
 * grow without bound (VmRSS from /proc) and a normal client (OpenSSH's
 * `ssh`) is still served.
 *
 * Reference mode: with HOSTILE_SSHD=1 in the environment the same tests run
 * against OpenSSH's sshd (the sshd fixture, -o options turned into config
 * lines), which shows what OpenSSH does with each attack (informative only:
 * sshd differs in places, e.g. it keeps all MaxStartups connections, drops
 * data beyond a window silently, and runs subsystems through the user's
 * login shell, which is slow on a loaded machine); HOSTILE_AMIKO=path
 * attacks another build of the amiko tool. Only 127.0.0.1;
 * every wait is bounded.
 */
#ifndef AMK_TESTS_HOSTILE_CLIENT_H
#define AMK_TESTS_HOSTILE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interop_client.h"
#include "sshd_fixture.h"

struct amk_buf;
struct amk_key;
struct amk_session;

/* The password user `amiko serve` is started with (--password). */
#define HC_PW_USER "hostile"
#define HC_PW_PASS "hostile-pw"
#define HC_MAX_OPTS 16
#define HC_WAIT_MS 15000
/* "Served promptly": a normal sftp login and pwd after an attack (about
 * 0.2 s plain, 1 s under ASan on a loaded machine). */
#define HC_PROMPT_MS 5000

/* The server under attack. */
struct hc_server {
    struct sshd_fixture fx;         /* temp dir, host and user keys (and sshd in reference mode) */
    const char *amiko;              /* the amiko tool; NULL: reference mode (sshd) */
    char log[FIXTURE_PATH_MAX];     /* the server's stderr */
    char root[FIXTURE_PATH_MAX];    /* --root of the SFTP server (dir/root) */
    struct interop_hostkeys hk;     /* the host keys the client accepts */
    struct amk_key *user_key;       /* fx.user_key, loaded */
    pid_t pid;
    uint16_t port;
};

/*
 * Prepares @p h (temporary directory, keys, dir/root); @p amiko_path the
 * built `amiko` tool. Returns 0, -1 on failure, FIXTURE_SKIP when OpenSSH
 * is missing. In reference mode (HOSTILE_SSHD=1) amiko_path is ignored.
 */
int hc_server_init(struct hc_server *h, const char *amiko_path);

/*
 * Starts the server with -o options @p opts ("Name=value", NULL-terminated,
 * may be NULL) and waits (bounded) for its port. 0 or -1.
 */
int hc_server_start(struct hc_server *h, const char *const *opts);

/* 1 while the server process runs (has not exited or crashed). */
int hc_server_alive(struct hc_server *h);

/*
 * Stops it with SIGTERM; returns its exit status (0 on a clean exit),
 * 128+signal when a signal ended it, -1 when it had to be killed.
 */
int hc_server_stop(struct hc_server *h);
void hc_server_cleanup(struct hc_server *h);

/* The server's resident memory in KiB (VmRSS), -1 if unknown. */
long hc_server_rss_kb(const struct hc_server *h);
/* Its open descriptors (/proc/PID/fd), -1 if unknown. */
int hc_server_fd_count(const struct hc_server *h);
/* Lines of the server's log containing @p needle (0 if none). */
int hc_server_log_count(const struct hc_server *h, const char *needle);
void hc_server_dump_log(const struct hc_server *h);

#define HC_SFTP_PATH "/usr/bin/sftp"

/*
 * OpenSSH's @p prog (SSH_PATH or HC_SFTP_PATH) as a child logging in to
 * 127.0.0.1:@p port (the server's, or a proxy's) by publickey without
 * host-key checks: `prog [common options] @p opts... user@127.0.0.1
 * [@p command]`, stdin from @p in_path (NULL: /dev/null), stdout and
 * stderr to @p out_path (NULL: /dev/null). Returns its pid.
 */
pid_t hc_openssh_spawn(const struct hc_server *h, const char *prog, uint16_t port,
    const char *const *opts, const char *command, const char *in_path, const char *out_path);
/* `ssh ... user@127.0.0.1 @p command` to the server; returns its pid. */
pid_t hc_ssh_spawn(const struct hc_server *h, const char *command, const char *out_path);
/* 1 when the file @p path contains @p needle. */
int hc_file_has(const char *path, const char *needle);
/* Waits up to @p timeout_ms for @p pid (killed after); its exit status or -1. */
int hc_wait_pid(pid_t pid, int timeout_ms);

/*
 * A normal client: OpenSSH's ssh logs in by publickey and runs `echo
 * hostile-ok`. Returns 0 when that worked within @p timeout_ms (prints
 * ssh's output otherwise); *@p took_ms (may be NULL) the time it took.
 */
int hc_normal_client(const struct hc_server *h, int timeout_ms, int64_t *took_ms);

/*
 * Another normal client that needs no shell on the server (so no login
 * scripts slow it down): OpenSSH's sftp runs `pwd` in batch mode. 0 when
 * that worked within @p timeout_ms.
 */
int hc_normal_sftp(const struct hc_server *h, int timeout_ms, int64_t *took_ms);

/*
 * After an attack: the server still runs, a normal client (hc_normal_sftp)
 * is served within HC_PROMPT_MS and its memory grew by at most @p max_growth_kb since
 * @p rss_before_kb. 0, or -1 with the reason on stderr and the log's tail.
 */
int hc_server_survived(struct hc_server *h, long rss_before_kb, long max_growth_kb);

/* --- raw TCP -------------------------------------------------------- */

/* A blocking TCP connection to the server (-1 on failure). */
int hc_tcp_connect(const struct hc_server *h);
/* A non-blocking connect in progress (-1 on failure). */
int hc_tcp_connect_nb(const struct hc_server *h);
/* Writes all of @p p (blocking fd; bounded by HC_WAIT_MS). 0 or -1. */
int hc_write_all(int fd, const void *p, size_t len);
/*
 * Reads and discards until the peer closes @p fd (EOF or reset) or
 * @p timeout_ms pass. Returns the ms it took, -1 on timeout. What it
 * reads is appended to @p seen (may be NULL; *@p seen_len bytes are there
 * already, at most @p cap are kept).
 */
int64_t hc_wait_closed(int fd, int timeout_ms, uint8_t *seen, size_t cap, size_t *seen_len);
/*
 * Writes @p p to @p fd while reading what the server says (appended to
 * @p seen as above), so a server that closes the connection part way is
 * not answered with a reset that would discard its DISCONNECT. Returns the
 * bytes written before the server closed or HC_WAIT_MS passed.
 */
size_t hc_write_reading(int fd, const void *p, size_t len, uint8_t *seen, size_t cap,
    size_t *seen_len);
/*
 * In what a server sent before any key exchange (its version line, then
 * plaintext packets), the reason code of its SSH_MSG_DISCONNECT; 0 if none.
 */
uint32_t hc_plain_disconnect_reason(const uint8_t *seen, size_t len);
/* 1 when the peer has closed @p fd (EOF/reset now), 0 when still open; never blocks. */
int hc_peer_closed(int fd);

/*
 * Appends a plaintext binary packet (RFC 4253 §6) for @p payload to @p out,
 * with the given padding length (>= 4 for a valid one) and, when
 * @p packet_length is not 0, that packet_length field instead of the
 * true one (an attack). 0 or -1.
 */
int hc_put_plain_packet(struct amk_buf *out, const uint8_t *payload, size_t len,
    uint8_t padding, uint32_t packet_length);

/* --- amiko's client-role transport ---------------------------------- */

/* A blocking client session to the server, handshake done (NULL on failure). */
struct amk_session *hc_session(const struct hc_server *h);
/* Publickey authentication as the server's user with fx's user key. */
int hc_auth_publickey(struct hc_server *h, struct amk_session *s);
/*
 * One password attempt (after the ssh-userauth service request, which
 * @p first sends). AMK_OK on USERAUTH_SUCCESS, AMK_EAUTH on FAILURE, else
 * the session's error (AMK_EDISCONNECT when the server hung up).
 */
int hc_auth_password(struct amk_session *s, const char *user, const char *pass, int first);
/* Sends @p b as one packet and empties it. */
int hc_send_buf(struct amk_session *s, struct amk_buf *b);
/*
 * Reads packets until the connection ends or @p timeout_ms pass; returns
 * the error that ended it (AMK_EDISCONNECT with *@p reason set, AMK_ECLOSED,
 * ...), AMK_ETIMEOUT if it did not end.
 */
int hc_until_end(struct amk_session *s, int timeout_ms, uint32_t *reason);

/* A session channel: ours and the server's ids, window and packet size. */
struct hc_chan {
    uint32_t local, remote;
    uint32_t window, maxpkt;        /* what the server granted us */
};

/* CHANNEL_OPEN "session" with our id @p local and its answer: AMK_OK on
 * OPEN_CONFIRMATION, AMK_EREFUSED on OPEN_FAILURE, else the session's error. */
int hc_channel_open(struct amk_session *s, uint32_t local, struct hc_chan *c);
/* CHANNEL_REQUEST @p type with an optional string argument, want-reply;
 * AMK_OK on CHANNEL_SUCCESS, AMK_EPROTO on CHANNEL_FAILURE. Window
 * adjustments that arrive meanwhile are added to c->window. */
int hc_channel_request(struct amk_session *s, struct hc_chan *c, const char *type,
    const char *arg);
/* CHANNEL_DATA with @p len bytes (no window check: the caller decides). */
int hc_channel_data(struct amk_session *s, const struct hc_chan *c, const void *p, size_t len);

/* --- SFTP by hand over a channel ------------------------------------ */

/* Opens a session channel with the sftp subsystem and does INIT/VERSION. */
int hc_sftp_start(struct amk_session *s, struct hc_chan *c);
/* Sends one SFTP packet: @p body is type, id, fields (the length is added). */
int hc_sftp_send(struct amk_session *s, struct hc_chan *c, const struct amk_buf *body);
/*
 * The next SFTP packet (type, id, ... in @p out, which is reset first),
 * reassembled from CHANNEL_DATA; window adjustments are tracked; the
 * server's packet may be at most @p max bytes. AMK_OK, AMK_ECLOSED when the
 * channel closed, or the session's error.
 */
int hc_sftp_recv(struct amk_session *s, struct hc_chan *c, struct amk_buf *out, size_t max);

#endif
