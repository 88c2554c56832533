/*
 * Interop (issue 9, hostile peers): `amiko serve` against an AUTHENTICATED
 * hostile client (tests/interop/hostile_client.c), channels and SFTP:
 *  - CHANNEL_DATA beyond the window (one packet more than granted), a data
 *    packet above the channel's maximum packet size, a WINDOW_ADJUST past
 *    2^32-1: each ends the connection with DISCONNECT PROTOCOL_ERROR;
 *  - a channel-open flood (1000 opens pipelined, MaxSessions=4): at most 4
 *    confirmed, every other one refused, no descriptor or memory kept;
 *  - 5000 global requests with want-reply pipelined: all answered (or a
 *    clear DISCONNECT);
 *  - SFTP: READ of 2^32-1 bytes (one answer of at most the server's I/O
 *    size), 64 such READs pipelined, a WRITE of 200 KiB, an SFTP packet
 *    claiming 2^32-1 bytes, paths of 6000 bytes and 200 KiB, 5000 OPENs on
 *    one session (a handle limit, descriptors released when it ends), a
 *    client that stops reading answers and fills the channel's window.
 * After each, the server runs, serves OpenSSH's ssh, and its RSS grew by
 * less than HC_RSS_SLACK_KB; SIGTERM ends it with status 0.
 * HOSTILE_SSHD=1 runs the same against OpenSSH's sshd (reference; sshd
 * answers some of these differently, as noted where it is checked).
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel/conn.h"
#include "hostile_client.h"
#include "io/session.h"
#include "io/wait.h"
#include "sftp/sftp_codec.h"
#include "transport/transport.h"
#include "util/buf.h"

#define HC_RSS_SLACK_KB (64L * 1024)
#define BIG_FILE_SIZE (1024 * 1024)

static struct hc_server srv;

static int
reference(void)
{
    return srv.amiko == NULL;
}

/* A server with @p opts and an authenticated session to it. */
static struct amk_session *
start_authed(const char *const *opts, long *rss)
{
    struct amk_session *s;

    assert_int_equal(hc_server_start(&srv, opts), 0);
    *rss = hc_server_rss_kb(&srv);
    s = hc_session(&srv);
    assert_non_null(s);
    ASSERT_OK(hc_auth_publickey(&srv, s));
    return s;
}

static void
finish(long rss_before)
{
    assert_int_equal(hc_server_survived(&srv, rss_before, HC_RSS_SLACK_KB), 0);
    assert_int_equal(hc_server_stop(&srv), 0);
}

/*
 * The connection must end with DISCONNECT PROTOCOL_ERROR within 10 s
 * (amiko). When the server closed while our data was still in flight,
 * its kernel answers with a reset that can discard the DISCONNECT before
 * we read it: then the server's log must name @p log_words.
 */
static void
expect_protocol_error(struct amk_session *s, const char *what, const char *log_words)
{
    int64_t deadline = amk_io_deadline(10000);
    uint32_t reason;
    int r = hc_until_end(s, 10000, &reason);

    print_message("    %s: %s, reason %u (%s)\n", what, amk_errname(r), reason,
        amk_session_last_error(s));
    if (reference())
        return;     /* sshd logs and drops such data instead */
    if (r == AMK_EDISCONNECT) {
        assert_int_equal(reason, AMK_DISCONNECT_PROTOCOL_ERROR);
        return;
    }
    assert_true(r == AMK_ECLOSED || r == AMK_EIO);
    while (hc_server_log_count(&srv, log_words) == 0) {
        if (amk_io_remaining_ms(deadline) == 0) {
            hc_server_dump_log(&srv);
            fail_msg("%s: no DISCONNECT and no \"%s\" in the server's log", what, log_words);
        }
        usleep(20000);
    }
}

static void
test_data_beyond_window(void **state)
{
    static uint8_t chunk[32768];
    struct amk_session *s;
    struct hc_chan c;
    long rss;
    size_t sent = 0, total;
    int r = AMK_OK;

    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_channel_open(s, 0, &c));
    /* a program that reads nothing, so the window only shrinks */
    ASSERT_OK(hc_channel_request(s, &c, "exec", "sleep 20"));
    /* one packet more than the window: the server reads all we send, so
     * its DISCONNECT is not lost to a reset */
    total = (size_t)c.window + c.maxpkt;
    while (sent < total && r == AMK_OK) {
        size_t n = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
        if (n > c.maxpkt)
            n = c.maxpkt;
        r = hc_channel_data(s, &c, chunk, n);
        sent += n;
    }
    print_message("    window %u, sent %zu until %s\n", c.window, sent, amk_errname(r));
    expect_protocol_error(s, "data beyond the window", "beyond the window");
    amk_session_free(s);
    finish(rss);
}

static void
test_data_above_max_packet(void **state)
{
    static uint8_t big[128 * 1024];
    struct amk_session *s;
    struct hc_chan c;
    long rss;

    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_channel_open(s, 0, &c));
    ASSERT_OK(hc_channel_request(s, &c, "exec", "cat >/dev/null"));
    print_message("    window %u, maximum packet %u\n", c.window, c.maxpkt);
    assert_true(c.maxpkt < sizeof(big) && c.window >= sizeof(big));
    ASSERT_OK(hc_channel_data(s, &c, big, sizeof(big)));
    expect_protocol_error(s, "data above the maximum packet", "maximum packet size");
    amk_session_free(s);
    finish(rss);
}

static void
test_window_adjust_overflow(void **state)
{
    struct amk_buf *b = amk_buf_new();
    struct amk_session *s;
    struct hc_chan c;
    long rss;

    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_channel_open(s, 0, &c));
    ASSERT_OK(hc_channel_request(s, &c, "exec", "sleep 20"));
    /* RFC 4254 §5.2: a window may not grow past 2^32-1; ours was 2 MiB */
    ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_CHANNEL_WINDOW_ADJUST));
    ASSERT_OK(amk_buf_put_u32(b, c.remote));
    ASSERT_OK(amk_buf_put_u32(b, UINT32_MAX));
    ASSERT_OK(hc_send_buf(s, b));
    expect_protocol_error(s, "WINDOW_ADJUST past 2^32-1", "exceeds 2^32-1");
    amk_buf_free(b);
    amk_session_free(s);
    finish(rss);
}

static void
test_channel_open_flood(void **state)
{
    static const char *const opts[] = { "MaxSessions=4", NULL };
    struct amk_buf *b = amk_buf_new();
    struct amk_session *s;
    const uint8_t *p;
    size_t len;
    int confirmed = 0, refused = 0, fds_before, fds_peak, r = AMK_OK;
    uint32_t reason = 0;
    int64_t deadline;
    long rss;

    s = start_authed(opts, &rss);
    fds_before = hc_server_fd_count(&srv);
    for (uint32_t i = 0; i < 1000 && r == AMK_OK; i++) {
        ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_CHANNEL_OPEN));
        ASSERT_OK(amk_buf_put_cstring(b, "session"));
        ASSERT_OK(amk_buf_put_u32(b, i));
        ASSERT_OK(amk_buf_put_u32(b, 65536));
        ASSERT_OK(amk_buf_put_u32(b, 32768));
        r = hc_send_buf(s, b);
    }
    deadline = amk_io_deadline(HC_WAIT_MS);
    while (r == AMK_OK && confirmed + refused < 1000 && amk_io_remaining_ms(deadline) > 0) {
        r = amk_session_recv_packet(s, &p, &len);
        if (r != AMK_OK || len == 0)
            continue;
        confirmed += p[0] == AMK_MSG_CHANNEL_OPEN_CONFIRMATION;
        refused += p[0] == AMK_MSG_CHANNEL_OPEN_FAILURE;
    }
    if (r == AMK_EDISCONNECT)
        reason = amk_transport_disconnect_reason(amk_session_transport(s));
    fds_peak = hc_server_fd_count(&srv);
    print_message("    1000 opens: %d confirmed, %d refused, ended %s (reason %u); "
        "server fds %d -> %d\n", confirmed, refused, amk_errname(r), reason, fds_before,
        fds_peak);
    /* every open answered, or a clear DISCONNECT */
    assert_true(confirmed + refused == 1000 || (r == AMK_EDISCONNECT && reason != 0));
    if (!reference()) {
        /* amiko answers each: MaxSessions confirmed, the rest refused */
        assert_int_equal(confirmed, 4);
        assert_int_equal(refused, 996);
    }
    assert_true(fds_peak - fds_before < 64);
    amk_session_free(s);
    amk_buf_free(b);
    finish(rss);
}

static void
test_global_request_flood(void **state)
{
    struct amk_buf *b = amk_buf_new();
    struct amk_session *s;
    const uint8_t *p;
    size_t len;
    int answered = 0, r = AMK_OK;
    uint32_t reason = 0;
    int64_t deadline;
    long rss;

    s = start_authed(NULL, &rss);
    /* RFC 4254 §4: 5000 unknown requests with want-reply, none read meanwhile */
    for (int i = 0; i < 5000 && r == AMK_OK; i++) {
        ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_GLOBAL_REQUEST));
        ASSERT_OK(amk_buf_put_cstring(b, "hostile-flood@example.com"));
        ASSERT_OK(amk_buf_put_bool(b, 1));
        ASSERT_OK(amk_buf_put(b, "0123456789abcdef", 16));
        r = hc_send_buf(s, b);
    }
    deadline = amk_io_deadline(HC_WAIT_MS);
    while (r == AMK_OK && answered < 5000 && amk_io_remaining_ms(deadline) > 0) {
        r = amk_session_recv_packet(s, &p, &len);
        answered += r == AMK_OK && len > 0 && (p[0] == AMK_MSG_REQUEST_FAILURE ||
            p[0] == AMK_MSG_REQUEST_SUCCESS);
    }
    if (r == AMK_EDISCONNECT)
        reason = amk_transport_disconnect_reason(amk_session_transport(s));
    print_message("    5000 global requests: %d answered, ended %s (reason %u)\n", answered,
        amk_errname(r), reason);
    /* every one answered in order, or a clear DISCONNECT */
    assert_true(answered == 5000 || (r == AMK_EDISCONNECT && reason != 0));
    if (!reference())
        assert_int_equal(answered, 5000);   /* amiko answers them all */
    amk_session_free(s);
    amk_buf_free(b);
    finish(rss);
}

/* --- SFTP ------------------------------------------------------------ */

static uint32_t next_id = 1;

/* Starts an SFTP request of @p type in @p b: type, id. */
static uint32_t
req(struct amk_buf *b, uint8_t type)
{
    amk_buf_reset(b);
    ASSERT_OK(amk_buf_put_u8(b, type));
    ASSERT_OK(amk_buf_put_u32(b, next_id));
    return next_id++;
}

/* Reads one reply: its type; *@p status the STATUS code when it is one. */
static uint8_t
reply(struct amk_session *s, struct hc_chan *c, struct amk_buf *in, uint32_t *status)
{
    uint8_t type = 0;
    uint32_t id;

    ASSERT_OK(hc_sftp_recv(s, c, in, AMK_SFTP_PACKET_MAX));
    ASSERT_OK(amk_buf_get_u8(in, &type));
    ASSERT_OK(amk_buf_get_u32(in, &id));
    *status = UINT32_MAX;
    if (type == AMK_SSH_FXP_STATUS)
        ASSERT_OK(amk_buf_get_u32(in, status));
    return type;
}

/* OPEN @p path for reading (and writing with @p write); the handle in @p h. */
static int
sftp_open(struct amk_session *s, struct hc_chan *c, struct amk_buf *b, const char *path,
    int write, struct amk_buf *h)
{
    const uint8_t *hp;
    size_t hl;
    uint32_t status;

    req(b, AMK_SSH_FXP_OPEN);
    ASSERT_OK(amk_buf_put_cstring(b, path));
    ASSERT_OK(amk_buf_put_u32(b, write ? 0x1a : 0x01));  /* WRITE|CREAT|TRUNC or READ */
    ASSERT_OK(amk_buf_put_u32(b, 0));
    ASSERT_OK(hc_sftp_send(s, c, b));
    if (reply(s, c, b, &status) != AMK_SSH_FXP_HANDLE)
        return -1;
    ASSERT_OK(amk_buf_get_string_direct(b, &hp, &hl));
    amk_buf_reset(h);
    ASSERT_OK(amk_buf_put(h, hp, hl));
    return 0;
}

/* A file of @p size bytes in the server's root. */
static void
make_file(const char *name, size_t size)
{
    char path[FIXTURE_PATH_MAX + 64];
    static uint8_t block[65536];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", srv.root, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    memset(block, 'z', sizeof(block));
    for (size_t done = 0; done < size; done += sizeof(block))
        assert_int_equal(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
    close(fd);
}

/* In reference mode sshd's sftp-server has no root: paths are absolute there. */
static void
root_path(char *out, size_t cap, const char *name)
{
    if (reference())
        snprintf(out, cap, "%s/%s", srv.root, name);
    else
        snprintf(out, cap, "/%s", name);
}

static void
test_sftp_huge_read_and_write(void **state)
{
    struct amk_buf *b = amk_buf_new(), *h = amk_buf_new(), *w = amk_buf_new();
    static uint8_t wdata[200 * 1024];
    struct amk_session *s;
    struct hc_chan c;
    char path[FIXTURE_PATH_MAX + 64];
    const uint8_t *d;
    size_t dl, most = 0;
    uint32_t status;
    uint8_t type;
    long rss;

    make_file("big", BIG_FILE_SIZE);
    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_sftp_start(s, &c));
    root_path(path, sizeof(path), "big");
    assert_int_equal(sftp_open(s, &c, b, path, 0, h), 0);
    /* READ of 2^32-1 bytes: one answer no larger than a packet */
    req(b, AMK_SSH_FXP_READ);
    ASSERT_OK(amk_buf_put_stringb(b, h));
    ASSERT_OK(amk_buf_put_u64(b, 0));
    ASSERT_OK(amk_buf_put_u32(b, UINT32_MAX));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    type = reply(s, &c, b, &status);
    assert_int_equal(type, AMK_SSH_FXP_DATA);
    ASSERT_OK(amk_buf_get_string_direct(b, &d, &dl));
    print_message("    READ of 2^32-1 bytes answered with %zu\n", dl);
    assert_true(dl > 0 && dl <= AMK_SFTP_PACKET_MAX);
    /* 64 of them pipelined, at offsets across the file */
    for (uint32_t i = 0; i < 64; i++) {
        req(b, AMK_SSH_FXP_READ);
        ASSERT_OK(amk_buf_put_stringb(b, h));
        ASSERT_OK(amk_buf_put_u64(b, (uint64_t)(i % 16) * 65536));
        ASSERT_OK(amk_buf_put_u32(b, UINT32_MAX));
        ASSERT_OK(hc_sftp_send(s, &c, b));
    }
    for (int i = 0; i < 64; i++) {
        type = reply(s, &c, b, &status);
        assert_int_equal(type, AMK_SSH_FXP_DATA);
        ASSERT_OK(amk_buf_get_string_direct(b, &d, &dl));
        most = dl > most ? dl : most;
    }
    print_message("    64 pipelined READs of 2^32-1: largest answer %zu\n", most);
    assert_true(most <= AMK_SFTP_PACKET_MAX);
    /* a WRITE of 200 KiB in one request */
    root_path(path, sizeof(path), "written");
    assert_int_equal(sftp_open(s, &c, b, path, 1, w), 0);
    req(b, AMK_SSH_FXP_WRITE);
    ASSERT_OK(amk_buf_put_stringb(b, w));
    ASSERT_OK(amk_buf_put_u64(b, 0));
    ASSERT_OK(amk_buf_put_string(b, wdata, sizeof(wdata)));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    type = reply(s, &c, b, &status);
    print_message("    WRITE of 200 KiB: type %u status %u\n", type, status);
    assert_int_equal(type, AMK_SSH_FXP_STATUS);
    assert_int_equal(status, AMK_SSH_FX_OK);
    amk_session_free(s);
    amk_buf_free(b);
    amk_buf_free(h);
    amk_buf_free(w);
    finish(rss);
}

/*
 * A client that stops reading replies and goes on sending. The SFTP
 * channel's window was grown to 8 MiB (SFTP_WINDOW in server_sftp.c);
 * 4 MiB of READ answers fill our 2 MiB window, the SFTP engine then stops
 * taking input, and the WRITEs we send after that wait in the channel, at
 * most its window. Nothing is lost: once we read again every answer comes,
 * in order, and every WRITE lands.
 */
#define STALL_READS 16
#define STALL_READ_LEN (255u * 1024)   /* the server's I/O size (limits@openssh.com) */
#define STALL_WRITE_LEN (16u * 1024)
#define STALL_GROWTH_KB (24L * 1024)   /* the 8 MiB window and our 2 MiB, twice over */

static void
test_sftp_reader_stops(void **state)
{
    struct amk_buf *b = amk_buf_new(), *h = amk_buf_new(), *w = amk_buf_new();
    static uint8_t wdata[STALL_WRITE_LEN];
    char path[FIXTURE_PATH_MAX + 64];
    struct amk_session *s;
    struct hc_chan c;
    const uint8_t *d;
    size_t dl, writes = 0;
    uint32_t status, granted;
    uint8_t type;
    long rss, rss_mid;
    struct stat st;

    make_file("big4", STALL_READS * STALL_READ_LEN);
    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_sftp_start(s, &c));
    granted = c.window;
    print_message("    SFTP channel window after INIT: %u\n", granted);
    if (!reference())
        assert_true(granted > 8u * 1024 * 1024 - 4096);   /* grown (sshd keeps 2 MiB) */
    root_path(path, sizeof(path), "big4");
    assert_int_equal(sftp_open(s, &c, b, path, 0, h), 0);
    root_path(path, sizeof(path), "sink");
    assert_int_equal(sftp_open(s, &c, b, path, 1, w), 0);
    /* 4 MiB of answers for our 2 MiB window, and we read none of them */
    for (uint32_t i = 0; i < STALL_READS; i++) {
        req(b, AMK_SSH_FXP_READ);
        ASSERT_OK(amk_buf_put_stringb(b, h));
        ASSERT_OK(amk_buf_put_u64(b, (uint64_t)i * STALL_READ_LEN));
        ASSERT_OK(amk_buf_put_u32(b, STALL_READ_LEN));
        ASSERT_OK(hc_sftp_send(s, &c, b));
    }
    usleep(300 * 1000);
    /* WRITEs until the window the server gave us is used up */
    while (c.window >= STALL_WRITE_LEN + 1024) {
        req(b, AMK_SSH_FXP_WRITE);
        ASSERT_OK(amk_buf_put_stringb(b, w));
        ASSERT_OK(amk_buf_put_u64(b, (uint64_t)writes * STALL_WRITE_LEN));
        ASSERT_OK(amk_buf_put_string(b, wdata, sizeof(wdata)));
        ASSERT_OK(hc_sftp_send(s, &c, b));
        writes++;
    }
    usleep(300 * 1000);
    rss_mid = hc_server_rss_kb(&srv);
    print_message("    %zu WRITEs of 16 KiB sent unread; server RSS %ld -> %ld KiB\n", writes,
        rss, rss_mid);
    assert_true(writes * STALL_WRITE_LEN > granted / 2);
    if (!reference())
        assert_true(rss_mid - rss < STALL_GROWTH_KB);
    assert_int_equal(hc_server_alive(&srv), 1);
    /* reading again: every answer, in order */
    for (int i = 0; i < STALL_READS; i++) {
        type = reply(s, &c, b, &status);
        assert_int_equal(type, AMK_SSH_FXP_DATA);
        ASSERT_OK(amk_buf_get_string_direct(b, &d, &dl));
        assert_int_equal(dl, STALL_READ_LEN);
    }
    for (size_t i = 0; i < writes; i++) {
        type = reply(s, &c, b, &status);
        assert_int_equal(type, AMK_SSH_FXP_STATUS);
        assert_int_equal(status, AMK_SSH_FX_OK);
    }
    snprintf(path, sizeof(path), "%s/sink", srv.root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, writes * STALL_WRITE_LEN);
    amk_session_free(s);
    amk_buf_free(b);
    amk_buf_free(h);
    amk_buf_free(w);
    finish(rss);
}

static void
test_sftp_packet_length_2_32(void **state)
{
    static uint8_t junk[64 * 1024];
    struct amk_session *s;
    struct hc_chan c;
    uint8_t hdr[9] = { 0xff, 0xff, 0xff, 0xff, AMK_SSH_FXP_WRITE, 0, 0, 0, 1 };
    struct amk_buf *b = amk_buf_new();
    uint32_t reason = 0;
    int r;
    long rss;

    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_sftp_start(s, &c));
    /* an SFTP packet claiming 4 GiB, then some of its "data" */
    ASSERT_OK(hc_channel_data(s, &c, hdr, sizeof(hdr)));
    for (int i = 0; i < 16; i++)
        ASSERT_OK(hc_channel_data(s, &c, junk, 16384));
    /* the server closes the channel (or the connection) instead of waiting for 4 GiB */
    r = hc_sftp_recv(s, &c, b, AMK_SFTP_PACKET_MAX);
    if (r == AMK_EDISCONNECT)
        reason = amk_transport_disconnect_reason(amk_session_transport(s));
    print_message("    SFTP packet of 2^32-1: %s (reason %u)\n", amk_errname(r), reason);
    assert_true(r == AMK_ECLOSED || r == AMK_EDISCONNECT);
    if (!reference()) {
        /* amiko closes that channel only: the connection still answers
         * (a global request with want-reply, past the channel's EOF and CLOSE) */
        const uint8_t *p;
        size_t len;

        assert_int_equal(r, AMK_ECLOSED);
        amk_buf_reset(b);
        ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_GLOBAL_REQUEST));
        ASSERT_OK(amk_buf_put_cstring(b, "keepalive@openssh.com"));
        ASSERT_OK(amk_buf_put_bool(b, 1));
        ASSERT_OK(hc_send_buf(s, b));
        do {
            ASSERT_OK(amk_session_recv_packet(s, &p, &len));
        } while (len == 0 || (p[0] != AMK_MSG_REQUEST_FAILURE && p[0] != AMK_MSG_REQUEST_SUCCESS));
    }
    amk_session_free(s);
    amk_buf_free(b);
    finish(rss);
}

static void
test_sftp_deep_paths(void **state)
{
    struct amk_buf *b = amk_buf_new(), *path = amk_buf_new();
    struct amk_session *s;
    struct hc_chan c;
    uint32_t status;
    uint8_t type;
    long rss;
    int r;

    s = start_authed(NULL, &rss);
    ASSERT_OK(hc_sftp_start(s, &c));
    /* 6000 bytes of a/a/a/...: above PATH_MAX (4096) */
    for (int i = 0; i < 3000; i++)
        ASSERT_OK(amk_buf_put(path, "a/", 2));
    req(b, AMK_SSH_FXP_STAT);
    ASSERT_OK(amk_buf_put_stringb(b, path));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    type = reply(s, &c, b, &status);
    print_message("    STAT of a 6000-byte path: type %u status %u\n", type, status);
    assert_int_equal(type, AMK_SSH_FXP_STATUS);
    assert_true(status != AMK_SSH_FX_OK);
    /* MKDIR of it too */
    req(b, AMK_SSH_FXP_MKDIR);
    ASSERT_OK(amk_buf_put_stringb(b, path));
    ASSERT_OK(amk_buf_put_u32(b, 0));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    type = reply(s, &c, b, &status);
    assert_int_equal(type, AMK_SSH_FXP_STATUS);
    assert_true(status != AMK_SSH_FX_OK);
    /* 200 KiB of path: an error answer or the channel closed, nothing else */
    amk_buf_reset(path);
    for (int i = 0; i < 200 * 512; i++)
        ASSERT_OK(amk_buf_put(path, "b/", 2));
    req(b, AMK_SSH_FXP_REALPATH);
    ASSERT_OK(amk_buf_put_stringb(b, path));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    r = hc_sftp_recv(s, &c, b, AMK_SFTP_PACKET_MAX);
    if (r == AMK_OK) {
        uint32_t id;
        ASSERT_OK(amk_buf_get_u8(b, &type));
        ASSERT_OK(amk_buf_get_u32(b, &id));
        print_message("    REALPATH of 200 KiB: type %u\n", type);
        assert_int_equal(type, AMK_SSH_FXP_STATUS);
        /* and the session still answers */
        req(b, AMK_SSH_FXP_REALPATH);
        ASSERT_OK(amk_buf_put_cstring(b, "."));
        ASSERT_OK(hc_sftp_send(s, &c, b));
        assert_int_equal(reply(s, &c, b, &status), AMK_SSH_FXP_NAME);
    } else {
        print_message("    REALPATH of 200 KiB: %s\n", amk_errname(r));
        assert_true(r == AMK_ECLOSED || r == AMK_EDISCONNECT);
        if (!reference())
            fail_msg("amiko closed the session instead of answering: %s", amk_errname(r));
    }
    amk_session_free(s);
    amk_buf_free(b);
    amk_buf_free(path);
    finish(rss);
}

/* Makes @p levels nested directories "d" under the open directory @p fd,
 * with file "f" holding "deep" at the bottom (relative calls: the whole
 * path may be longer than PATH_MAX). Closes @p fd. */
static void
nest(int fd, int levels)
{
    for (int i = 0; i < levels; i++) {
        int sub;
        assert_true(mkdirat(fd, "d", 0755) == 0 || errno == EEXIST);
        sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(sub >= 0);
        close(fd);
        fd = sub;
    }
    int f = openat(fd, "f", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(f >= 0);
    assert_int_equal(write(f, "deep", 4), 4);
    close(f);
    close(fd);
}

/* The path of "f" under @p levels directories "d" below @p base. */
static void
deep_path(struct amk_buf *path, const char *base, int levels)
{
    amk_buf_reset(path);
    ASSERT_OK(amk_buf_put(path, base, strlen(base)));
    for (int i = 0; i < levels; i++)
        ASSERT_OK(amk_buf_put(path, "/d", 2));
    ASSERT_OK(amk_buf_put(path, "/f", 2));
}

static void
test_sftp_real_deep_tree(void **state)
{
    struct amk_buf *b = amk_buf_new(), *path = amk_buf_new(), h;
    struct amk_session *s;
    struct hc_chan c;
    char base[FIXTURE_PATH_MAX + 16], remote[FIXTURE_PATH_MAX + 16], cmd[FIXTURE_PATH_MAX + 64];
    const uint8_t *data;
    size_t dlen;
    uint32_t status;
    uint8_t type;
    long rss;

    (void)state;
    s = start_authed(NULL, &rss);
    /* a real tree in the SFTP root 1000 levels deep (a 2 KiB path), then
     * 2500 (5 KiB, past PATH_MAX) */
    snprintf(base, sizeof(base), "%s/deep", srv.root);
    root_path(remote, sizeof(remote), "deep");
    assert_int_equal(mkdir(base, 0755), 0);
    nest(open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 1000);
    {
        int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 1000; i++) {
            int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            assert_true(sub >= 0);
            close(fd);
            fd = sub;
        }
        nest(fd, 1500);
    }
    ASSERT_OK(hc_sftp_start(s, &c));
    /* at 1000 levels: STAT and a read work as anywhere */
    deep_path(path, remote, 1000);
    req(b, AMK_SSH_FXP_STAT);
    ASSERT_OK(amk_buf_put_stringb(b, path));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    type = reply(s, &c, b, &status);
    print_message("    STAT at 1000 levels (%zu bytes): type %u\n", amk_buf_len(path), type);
    assert_int_equal(type, AMK_SSH_FXP_ATTRS);
    amk_buf_init(&h);
    ASSERT_OK(amk_buf_put_u8(path, 0));     /* a C string for sftp_open() */
    assert_int_equal(sftp_open(s, &c, b, (const char *)amk_buf_ptr(path), 0, &h), 0);
    req(b, AMK_SSH_FXP_READ);
    ASSERT_OK(amk_buf_put_stringb(b, &h));
    ASSERT_OK(amk_buf_put_u64(b, 0));
    ASSERT_OK(amk_buf_put_u32(b, 100));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    assert_int_equal(reply(s, &c, b, &status), AMK_SSH_FXP_DATA);
    ASSERT_OK(amk_buf_get_string_direct(b, &data, &dlen));
    assert_true(dlen == 4 && memcmp(data, "deep", 4) == 0);
    amk_buf_release(&h);
    /* at 2500 levels the path is past PATH_MAX: an error answer, nothing else */
    deep_path(path, remote, 2500);
    req(b, AMK_SSH_FXP_STAT);
    ASSERT_OK(amk_buf_put_stringb(b, path));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    type = reply(s, &c, b, &status);
    print_message("    STAT at 2500 levels (%zu bytes): type %u status %u\n", amk_buf_len(path),
        type, status);
    assert_int_equal(type, AMK_SSH_FXP_STATUS);
    assert_true(status != AMK_SSH_FX_OK);
    /* and the session still answers */
    req(b, AMK_SSH_FXP_REALPATH);
    ASSERT_OK(amk_buf_put_cstring(b, "."));
    ASSERT_OK(hc_sftp_send(s, &c, b));
    assert_int_equal(reply(s, &c, b, &status), AMK_SSH_FXP_NAME);
    amk_session_free(s);
    amk_buf_free(b);
    amk_buf_free(path);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
    finish(rss);
}

static void
test_sftp_many_handles(void **state)
{
    struct amk_buf *b = amk_buf_new();
    struct amk_session *s;
    struct hc_chan c;
    char path[FIXTURE_PATH_MAX + 64];
    int handles = 0, refused = 0, fds_before, fds_peak, fds_after = 0;
    uint32_t status;
    int64_t deadline;
    long rss;

    make_file("small", 65536);
    s = start_authed(NULL, &rss);
    fds_before = hc_server_fd_count(&srv);
    ASSERT_OK(hc_sftp_start(s, &c));
    root_path(path, sizeof(path), "small");
    /* 5000 OPENs, 100 in flight at a time, none closed */
    for (int batch = 0; batch < 50; batch++) {
        for (int i = 0; i < 100; i++) {
            req(b, AMK_SSH_FXP_OPEN);
            ASSERT_OK(amk_buf_put_cstring(b, path));
            ASSERT_OK(amk_buf_put_u32(b, 0x01));
            ASSERT_OK(amk_buf_put_u32(b, 0));
            ASSERT_OK(hc_sftp_send(s, &c, b));
        }
        for (int i = 0; i < 100; i++) {
            uint8_t type = reply(s, &c, b, &status);
            handles += type == AMK_SSH_FXP_HANDLE;
            refused += type == AMK_SSH_FXP_STATUS && status != AMK_SSH_FX_OK;
        }
    }
    fds_peak = hc_server_fd_count(&srv);
    print_message("    5000 OPENs: %d handles, %d refused; server fds %d -> %d\n", handles,
        refused, fds_before, fds_peak);
    assert_int_equal(handles + refused, 5000);
    if (!reference()) {
        assert_true(handles < 5000 && refused > 0);
        assert_true(fds_peak - fds_before <= handles + 16);
    }
    /* ending the session releases every handle */
    amk_session_free(s);
    deadline = amk_io_deadline(5000);
    while (amk_io_remaining_ms(deadline) > 0) {
        fds_after = hc_server_fd_count(&srv);
        if (fds_after <= fds_before + 2)
            break;
        usleep(50000);
    }
    print_message("    after the session: server fds %d\n", fds_after);
    if (!reference())
        assert_true(fds_after <= fds_before + 2);
    amk_buf_free(b);
    finish(rss);
}

static int
group_setup(void **state)
{
    int r = hc_server_init(&srv, AMK_AMIKO_PATH);

    if (r == FIXTURE_SKIP)
        exit(FIXTURE_SKIP);
    signal(SIGPIPE, SIG_IGN);
    return r;
}

static int
group_teardown(void **state)
{
    hc_server_cleanup(&srv);
    return 0;
}

static int
test_teardown(void **state)
{
    char cmd[FIXTURE_PATH_MAX + 64];

    (void)state;
    if (srv.pid > 0) {
        hc_server_dump_log(&srv);
        (void)hc_server_stop(&srv);
    }
    /* sftp_real_deep_tree's tree, if it failed before removing it (rmdir
     * of the fixture's directory cannot) */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/deep'", srv.root);
    if (srv.root[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s/deep\n", srv.root);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_data_beyond_window, test_teardown),
        cmocka_unit_test_teardown(test_data_above_max_packet, test_teardown),
        cmocka_unit_test_teardown(test_window_adjust_overflow, test_teardown),
        cmocka_unit_test_teardown(test_channel_open_flood, test_teardown),
        cmocka_unit_test_teardown(test_global_request_flood, test_teardown),
        cmocka_unit_test_teardown(test_sftp_huge_read_and_write, test_teardown),
        cmocka_unit_test_teardown(test_sftp_reader_stops, test_teardown),
        cmocka_unit_test_teardown(test_sftp_packet_length_2_32, test_teardown),
        cmocka_unit_test_teardown(test_sftp_deep_paths, test_teardown),
        cmocka_unit_test_teardown(test_sftp_real_deep_tree, test_teardown),
        cmocka_unit_test_teardown(test_sftp_many_handles, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
