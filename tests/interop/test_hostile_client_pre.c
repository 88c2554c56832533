/*
 * Interop (issue 9, hostile peers): `amiko serve` against hostile clients
 * BEFORE authentication, with tests/interop/hostile_client.c:
 *  - 100 connections that send nothing and 3 that send one byte a second
 *    are all dropped at LoginGraceTime (3 s), while OpenSSH's ssh logs in
 *    and runs a command meanwhile;
 *  - MaxStartups=10 and 100 connections at once: the excess is closed at
 *    once, the rest at the grace time, then a normal client is served;
 *  - MaxAuthTries=3: two FAILUREs, then DISCONNECT on the third wrong
 *    password;
 *  - bad plaintext packets (RFC 4253 §6): packet_length 2^32-1, 256 KiB+1
 *    and 0, padding longer than the packet, padding below 4, a length that
 *    is not a multiple of 8, a version line of 70 KiB, 2000 lines before
 *    the version: each closed at once with DISCONNECT PROTOCOL_ERROR (where
 *    the version exchange is over);
 *  - a KEXINIT flood (1000 KEXINITs before the key exchange) and a rekey
 *    flood (30 key exchanges back to back after authentication);
 *  - a client still sending after the server's DISCONNECT can go on writing
 *    (the server reads until it closes) rather than meet a reset;
 *  - a CHANNEL_OPEN before authentication: DISCONNECT PROTOCOL_ERROR;
 *  - an IGNORE flood (48 MiB of SSH_MSG_IGNORE) before authentication.
 * After each, the server runs, serves a normal client and its RSS grew by
 * less than HC_RSS_SLACK_KB; SIGTERM then ends it with status 0.
 * HOSTILE_SSHD=1 runs the same against OpenSSH's sshd (reference).
 */
#include "test_helper.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_client.h"
#include "io/session.h"
#include "io/wait.h"
#include "transport/transport.h"
#include "util/buf.h"

#define HC_RSS_SLACK_KB (64L * 1024)
#define SILENT_CONNS 100
#define DRIP_CONNS 3
#define GRACE_S 3

static struct hc_server srv;

static int
reference(void)
{
    return srv.amiko == NULL;
}

static void
start(const char *const *opts)
{
    assert_int_equal(hc_server_start(&srv, opts), 0);
}

/* The server survived; SIGTERM ends it cleanly. */
static void
finish(long rss_before)
{
    assert_int_equal(hc_server_survived(&srv, rss_before, HC_RSS_SLACK_KB), 0);
    assert_int_equal(hc_server_stop(&srv), 0);
}

/* A KEXINIT payload (RFC 4253 §7.1) with one algorithm of each kind. */
static void
put_kexinit(struct amk_buf *b)
{
    static const char *const lists[10] = { "curve25519-sha256", "ssh-ed25519",
        "chacha20-poly1305@openssh.com", "chacha20-poly1305@openssh.com",
        "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", "" };
    static const uint8_t cookie[16];

    ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_KEXINIT));
    ASSERT_OK(amk_buf_put(b, cookie, sizeof(cookie)));
    for (int i = 0; i < 10; i++)
        ASSERT_OK(amk_buf_put_cstring(b, lists[i]));
    ASSERT_OK(amk_buf_put_bool(b, 0));
    ASSERT_OK(amk_buf_put_u32(b, 0));
}

static void
test_silent_and_slow_dropped_at_grace(void **state)
{
    static const char *const opts[] = { "LoginGraceTime=3", "MaxStartups=200", NULL };
    int fds[SILENT_CONNS + DRIP_CONNS];
    int64_t opened[SILENT_CONNS + DRIP_CONNS], closed_at[SILENT_CONNS + DRIP_CONNS];
    struct amk_buf *drip = amk_buf_new(), *kexinit = amk_buf_new();
    int64_t deadline, next_drip = 0, ssh_start, ssh_done = -1;
    size_t dripped = 0;
    int n = SILENT_CONNS + DRIP_CONNS, open_left = n, ssh_status = -1;
    long rss;
    pid_t ssh;

    start(opts);
    rss = hc_server_rss_kb(&srv);
    /* what the slow clients drip: a version line, then a KEXINIT packet */
    put_kexinit(kexinit);
    ASSERT_OK(amk_buf_put(drip, "SSH-2.0-drip\r\n", 14));
    assert_int_equal(hc_put_plain_packet(drip, amk_buf_ptr(kexinit), amk_buf_len(kexinit), 8,
        0), 0);
    for (int i = 0; i < n; i++) {
        fds[i] = hc_tcp_connect_nb(&srv);
        assert_true(fds[i] >= 0);
        opened[i] = amk_io_now_ms();
        closed_at[i] = -1;
    }
    /* a normal client meanwhile: its own login must fit in the grace time too */
    ssh_start = amk_io_now_ms();
    ssh = hc_ssh_spawn(&srv, "echo hostile-ok", NULL);
    assert_true(ssh > 0);
    deadline = amk_io_deadline((GRACE_S + 8) * 1000);
    while (amk_io_remaining_ms(deadline) > 0 && (open_left > 0 || ssh_status < 0)) {
        int64_t now = amk_io_now_ms();
        int status;

        if (now >= next_drip && dripped < amk_buf_len(drip)) {
            for (int i = SILENT_CONNS; i < n; i++) {
                if (closed_at[i] < 0)
                    (void)send(fds[i], amk_buf_ptr(drip) + dripped, 1,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            dripped++;
            next_drip = now + 1000;
        }
        for (int i = 0; i < n; i++) {
            if (closed_at[i] < 0 && hc_peer_closed(fds[i])) {
                closed_at[i] = amk_io_now_ms();
                open_left--;
            }
        }
        if (ssh_status < 0 && waitpid(ssh, &status, WNOHANG) == ssh) {
            ssh_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            ssh_done = amk_io_now_ms();
        }
        usleep(20000);
    }
    if (ssh_status < 0)
        ssh_status = hc_wait_pid(ssh, 1);
    print_message("    ssh: status %d after %lld ms; %d of %d attackers still open; "
        "%zu bytes dripped\n", ssh_status, (long long)(ssh_done - ssh_start), open_left, n,
        dripped);
    assert_int_equal(ssh_status, 0);
    assert_int_equal(open_left, 0);
    for (int i = 0; i < n; i++) {
        int64_t held = closed_at[i] - opened[i];
        if (held < GRACE_S * 1000 - 500 || held > GRACE_S * 1000 + 6000)
            fail_msg("connection %d (%s) held %lld ms, grace %d s", i,
                i < SILENT_CONNS ? "silent" : "drip", (long long)held, GRACE_S);
        close(fds[i]);
    }
    /* served while the attackers were still held, not after they went */
    if (ssh_done < 0 || ssh_done - ssh_start >= GRACE_S * 1000)
        fail_msg("ssh took %lld ms, the grace time is %d s", (long long)(ssh_done - ssh_start),
            GRACE_S);
    amk_buf_free(drip);
    amk_buf_free(kexinit);
    finish(rss);
}

static void
test_maxstartups_sheds_excess(void **state)
{
    static const char *const opts[] = { "LoginGraceTime=3", "MaxStartups=10", NULL };
    int fds[SILENT_CONNS], open_now = 0;
    int64_t deadline;
    long rss;

    start(opts);
    rss = hc_server_rss_kb(&srv);
    for (int i = 0; i < SILENT_CONNS; i++) {
        fds[i] = hc_tcp_connect_nb(&srv);
        assert_true(fds[i] >= 0);
    }
    /* the excess is closed at once (well before the grace time) */
    usleep(1500000);
    for (int i = 0; i < SILENT_CONNS; i++)
        open_now += !hc_peer_closed(fds[i]);
    print_message("    %d of %d unauthenticated connections held after 1.5 s\n", open_now,
        SILENT_CONNS);
    /* sshd 9.2 keeps them all (and forks for each) */
    if (!reference())
        assert_true(open_now <= 10);
    /* the rest at the grace time */
    deadline = amk_io_deadline((GRACE_S + 4) * 1000);
    for (;;) {
        open_now = 0;
        for (int i = 0; i < SILENT_CONNS; i++)
            open_now += !hc_peer_closed(fds[i]);
        if (open_now == 0 || amk_io_remaining_ms(deadline) == 0)
            break;
        usleep(50000);
    }
    assert_int_equal(open_now, 0);
    for (int i = 0; i < SILENT_CONNS; i++)
        close(fds[i]);
    finish(rss);
}

static void
test_max_auth_tries(void **state)
{
    static const char *const opts[] = { "MaxAuthTries=3", NULL };
    struct amk_session *s;
    uint32_t reason;
    int r;
    long rss;

    start(opts);
    rss = hc_server_rss_kb(&srv);
    s = hc_session(&srv);
    assert_non_null(s);
    ASSERT_AMK(AMK_EAUTH, hc_auth_password(s, HC_PW_USER, "wrong-1", 1));
    ASSERT_AMK(AMK_EAUTH, hc_auth_password(s, HC_PW_USER, "wrong-2", 0));
    r = hc_auth_password(s, HC_PW_USER, "wrong-3", 0);
    print_message("    third wrong password: %s (%s)\n", amk_errname(r),
        amk_session_last_error(s));
    ASSERT_AMK(AMK_EDISCONNECT, r);
    reason = amk_transport_disconnect_reason(amk_session_transport(s));
    /* amiko: NO_MORE_AUTH_METHODS_AVAILABLE; sshd: PROTOCOL_ERROR */
    assert_int_equal(reason, reference() ? AMK_DISCONNECT_PROTOCOL_ERROR
        : AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE);
    amk_session_free(s);
    /* the right password on a new connection still works */
    if (!reference()) {
        s = hc_session(&srv);
        assert_non_null(s);
        ASSERT_OK(hc_auth_password(s, HC_PW_USER, HC_PW_PASS, 1));
        amk_session_free(s);
    }
    finish(rss);
}

/* One raw connection: version line, then @p attack; the server must close it within 5 s. */
static void
raw_attack(const char *what, const struct amk_buf *attack, int send_version, int want_disconnect)
{
    static uint8_t seen[65536];
    size_t seen_len = 0;
    int fd = hc_tcp_connect(&srv);
    int64_t took;
    uint32_t reason;

    assert_true(fd >= 0);
    if (send_version)
        assert_int_equal(hc_write_all(fd, "SSH-2.0-hostile\r\n", 17), 0);
    /* the server may close before it read everything: that is fine */
    (void)hc_write_reading(fd, amk_buf_ptr(attack), amk_buf_len(attack), seen, sizeof(seen),
        &seen_len);
    took = hc_wait_closed(fd, 5000, seen, sizeof(seen), &seen_len);
    reason = hc_plain_disconnect_reason(seen, seen_len);
    print_message("    %-36s closed after %lld ms, DISCONNECT reason %u\n", what,
        (long long)took, reason);
    close(fd);
    if (took < 0)
        fail_msg("%s: the server kept the connection open", what);
    /* sshd queues its DISCONNECT but exits before sending it */
    if (want_disconnect && !reference() && reason != AMK_DISCONNECT_PROTOCOL_ERROR)
        fail_msg("%s: no DISCONNECT PROTOCOL_ERROR (reason %u)", what, reason);
}

static void
test_bad_packet_lengths_and_padding(void **state)
{
    static const uint8_t ignore9[9] = { AMK_MSG_IGNORE, 0, 0, 0, 4, 'a', 'b', 'c', 'd' };
    static uint8_t filler[256];
    struct amk_buf *b = amk_buf_new();
    long rss;

    start(NULL);
    rss = hc_server_rss_kb(&srv);
    assert_non_null(b);
    /* packet_length 2^32-1 */
    assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 6, UINT32_MAX), 0);
    ASSERT_OK(amk_buf_put(b, filler, sizeof(filler)));
    raw_attack("packet_length 2^32-1", b, 1, 1);
    amk_buf_reset(b);
    /* just above the 256 KiB every implementation accepts */
    assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 6, 256 * 1024 + 8), 0);
    ASSERT_OK(amk_buf_put(b, filler, sizeof(filler)));
    raw_attack("packet_length 256 KiB + 8", b, 1, 1);
    amk_buf_reset(b);
    /* packet_length 0 */
    ASSERT_OK(amk_buf_put_u32(b, 0));
    ASSERT_OK(amk_buf_put(b, filler, 12));
    raw_attack("packet_length 0", b, 1, 1);
    amk_buf_reset(b);
    /* padding_length 255 in a packet of 16 */
    assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 6, 0), 0);
    amk_buf_reset(b);
    ASSERT_OK(amk_buf_put_u32(b, 12));
    ASSERT_OK(amk_buf_put_u8(b, 255));
    ASSERT_OK(amk_buf_put(b, filler, 11 + 64));
    raw_attack("padding_length > packet_length", b, 1, 1);
    amk_buf_reset(b);
    /* RFC 4253 §6: at least four bytes of padding (4+1+9+2 = 16) */
    assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 2, 0), 0);
    raw_attack("padding_length 2", b, 1, 1);
    amk_buf_reset(b);
    /* RFC 4253 §6: the total is a multiple of 8 (4+1+9+5 = 19) */
    assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 5, 0), 0);
    raw_attack("length not a multiple of 8", b, 1, 1);
    amk_buf_reset(b);
    /* RFC 4253 §4.2: a version line is at most 255 bytes */
    ASSERT_OK(amk_buf_put(b, "SSH-2.0-", 8));
    for (int i = 0; i < 70 * 1024; i++)
        ASSERT_OK(amk_buf_put_u8(b, 'A'));
    raw_attack("70 KiB version line without LF", b, 0, 0);
    amk_buf_reset(b);
    /* other lines before the version: only a server may send them */
    for (int i = 0; i < 2000; i++)
        ASSERT_OK(amk_buf_put(b, "hello there\r\n", 13));
    raw_attack("2000 lines before the version", b, 0, 0);
    amk_buf_free(b);
    finish(rss);
}

/*
 * A client still sending when the server ends the connection can read the
 * DISCONNECT: the server shuts its side down and reads what still comes
 * until the client closes (within its closing deadline) instead of closing
 * with input unread, which resets the connection and fails the client's
 * next write (OpenSSH's ssh then exits on "send disconnect: Broken pipe"
 * without reading why: seen once in test_hostile_client_faults).
 */
static void
test_disconnect_lingers_for_a_client_still_sending(void **state)
{
    static uint8_t seen[65536], chunk[64 * 1024];
    static const uint8_t zero_length[16];
    size_t seen_len = 0, sent = 0;
    int64_t deadline;
    uint32_t reason = 0;
    long rss;
    int fd;

    (void)state;
    start(NULL);
    rss = hc_server_rss_kb(&srv);
    fd = hc_tcp_connect(&srv);
    assert_true(fd >= 0);
    assert_int_equal(hc_write_all(fd, "SSH-2.0-hostile\r\n", 17), 0);
    /* packet_length 0: DISCONNECT PROTOCOL_ERROR, then the end */
    assert_int_equal(hc_write_all(fd, zero_length, sizeof(zero_length)), 0);
    deadline = amk_io_now_ms() + 5000;
    while (reason == 0 && amk_io_now_ms() < deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 100) <= 0)
            continue;
        if ((n = recv(fd, seen + seen_len, sizeof(seen) - seen_len, 0)) <= 0)
            break;
        seen_len += (size_t)n;
        reason = hc_plain_disconnect_reason(seen, seen_len);
    }
    assert_int_equal(reason, AMK_DISCONNECT_PROTOCOL_ERROR);
    /* the server has flushed its DISCONNECT; this client goes on sending */
    usleep(200 * 1000);
    while (sent < 16 * sizeof(chunk)) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        ssize_t n;

        if (poll(&p, 1, 1000) <= 0)
            break;
        if ((n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL)) < 0)
            break;
        sent += (size_t)n;
        usleep(5 * 1000);
    }
    print_message("    sent %zu bytes after the DISCONNECT\n", sent);
    /* sshd closes at once (reference run): only amiko is held to it */
    if (!reference())
        assert_true(sent >= 16 * sizeof(chunk));
    close(fd);
    finish(rss);
}

static void
test_kexinit_flood(void **state)
{
    static const char *const opts[] = { "LoginGraceTime=5", NULL };
    struct amk_buf *kexinit = amk_buf_new(), *flood = amk_buf_new();
    static uint8_t seen[65536];
    size_t seen_len;
    int64_t took;
    long rss;
    int fd;

    start(opts);
    rss = hc_server_rss_kb(&srv);
    put_kexinit(kexinit);
    ASSERT_OK(amk_buf_put(flood, "SSH-2.0-hostile\r\n", 17));
    for (int i = 0; i < 1000; i++) {
        size_t len = 4 + 1 + amk_buf_len(kexinit);
        uint8_t pad = (uint8_t)(8 - len % 8 + 8);
        assert_int_equal(hc_put_plain_packet(flood, amk_buf_ptr(kexinit), amk_buf_len(kexinit),
            pad, 0), 0);
    }
    fd = hc_tcp_connect(&srv);
    assert_true(fd >= 0);
    seen_len = 0;
    (void)hc_write_reading(fd, amk_buf_ptr(flood), amk_buf_len(flood), seen, sizeof(seen),
        &seen_len);
    /* a second KEXINIT during the exchange is an error for amiko; sshd
     * answers each with UNIMPLEMENTED and drops it at the grace time */
    took = hc_wait_closed(fd, 10000, seen, sizeof(seen), &seen_len);
    print_message("    KEXINIT flood: closed after %lld ms, DISCONNECT reason %u\n",
        (long long)took, hc_plain_disconnect_reason(seen, seen_len));
    assert_true(took >= 0);
    if (!reference())
        assert_int_equal(hc_plain_disconnect_reason(seen, seen_len),
            AMK_DISCONNECT_PROTOCOL_ERROR);
    close(fd);
    amk_buf_free(kexinit);
    amk_buf_free(flood);
    finish(rss);
}

static void
test_rekey_flood(void **state)
{
    struct amk_session *s;
    int done = 0, r = AMK_OK;
    uint32_t reason = 0;
    long rss;

    start(NULL);
    rss = hc_server_rss_kb(&srv);
    s = hc_session(&srv);
    assert_non_null(s);
    ASSERT_OK(hc_auth_publickey(&srv, s));
    srv.hk.calls = 0;
    /* 30 key exchanges back to back, each confirmed by a keepalive round */
    for (int i = 0; i < 30 && r == AMK_OK; i++) {
        r = amk_transport_rekey(amk_session_transport(s));
        if (r == AMK_OK)
            r = interop_keepalive(s);
        done += r == AMK_OK;
    }
    if (r == AMK_EDISCONNECT)
        reason = amk_transport_disconnect_reason(amk_session_transport(s));
    print_message("    %d rekeys done (%d host-key checks); last %s, reason %u\n", done,
        srv.hk.calls, amk_errname(r), reason);
    /* a limit is fine if it is a clear DISCONNECT; a hang or crash is not */
    assert_true(r == AMK_OK || (r == AMK_EDISCONNECT && reason != 0));
    if (r == AMK_OK)
        assert_true(srv.hk.calls >= 30);
    amk_session_free(s);
    finish(rss);
}

static void
test_connection_layer_before_auth(void **state)
{
    struct amk_buf *b = amk_buf_new();
    struct amk_session *s;
    uint32_t reason;
    long rss;
    int r;

    start(NULL);
    rss = hc_server_rss_kb(&srv);
    s = hc_session(&srv);
    assert_non_null(s);
    ASSERT_OK(interop_service_request(s, "ssh-userauth"));
    /* RFC 4252 §6: nothing of the connection layer before USERAUTH_SUCCESS */
    ASSERT_OK(amk_buf_put_u8(b, 90));       /* CHANNEL_OPEN */
    ASSERT_OK(amk_buf_put_cstring(b, "session"));
    ASSERT_OK(amk_buf_put_u32(b, 0));
    ASSERT_OK(amk_buf_put_u32(b, 65536));
    ASSERT_OK(amk_buf_put_u32(b, 32768));
    ASSERT_OK(hc_send_buf(s, b));
    r = hc_until_end(s, 10000, &reason);
    print_message("    CHANNEL_OPEN before auth: %s, reason %u (%s)\n", amk_errname(r), reason,
        amk_session_last_error(s));
    if (!reference()) {
        ASSERT_AMK(AMK_EDISCONNECT, r);
        assert_int_equal(reason, AMK_DISCONNECT_PROTOCOL_ERROR);
    }
    amk_session_free(s);
    amk_buf_free(b);
    finish(rss);
}

static void
test_ignore_flood_before_auth(void **state)
{
    struct amk_session *s;
    struct amk_transport *t;
    pid_t ssh;
    long rss;
    int r = AMK_OK;

    start(NULL);
    rss = hc_server_rss_kb(&srv);
    s = hc_session(&srv);
    assert_non_null(s);
    t = amk_session_transport(s);
    ssh = hc_ssh_spawn(&srv, "echo hostile-ok", NULL);
    /* 32 MiB in 8 KiB IGNOREs, then 16 MiB in the largest ones */
    for (int i = 0; i < 4096 && r == AMK_OK; i++) {
        r = amk_transport_send_ignore(t, 8192);
        if (r == AMK_OK && i % 64 == 63)
            r = amk_session_flush(s);
    }
    for (int i = 0; i < 64 && r == AMK_OK; i++) {
        r = amk_transport_send_ignore(t, AMK_TRANSPORT_MAX_PAYLOAD - 64);
        if (r == AMK_OK)
            r = amk_session_flush(s);
    }
    print_message("    IGNORE flood sent: %s\n", amk_errname(r));
    /* the peer rate limit (2000 IGNOREs at once, then 200 a second) makes
     * the server disconnect the flooder: either a send fails or the
     * authentication that follows finds the connection closed */
    if (r == AMK_OK)
        r = hc_auth_publickey(&srv, s);
    assert_int_not_equal(r, AMK_OK);
    if (!reference()) {
        /* and it was the rate limit that ended it, as the server logs */
        int64_t deadline = amk_io_deadline(5000);
        while (hc_server_log_count(&srv, "peer rate limit: too many IGNORE") == 0) {
            if (amk_io_remaining_ms(deadline) == 0) {
                hc_server_dump_log(&srv);
                fail_msg("no \"peer rate limit\" in the server's log (the flood ended with %s)",
                    amk_errname(r));
            }
            usleep(20000);
        }
    }
    assert_int_equal(hc_wait_pid(ssh, HC_WAIT_MS), 0);
    amk_session_free(s);
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
    /* a failed test leaves its server running: stop it for the next one */
    if (srv.pid > 0) {
        hc_server_dump_log(&srv);
        (void)hc_server_stop(&srv);
    }
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_silent_and_slow_dropped_at_grace, test_teardown),
        cmocka_unit_test_teardown(test_maxstartups_sheds_excess, test_teardown),
        cmocka_unit_test_teardown(test_max_auth_tries, test_teardown),
        cmocka_unit_test_teardown(test_bad_packet_lengths_and_padding, test_teardown),
        cmocka_unit_test_teardown(test_disconnect_lingers_for_a_client_still_sending,
            test_teardown),
        cmocka_unit_test_teardown(test_kexinit_flood, test_teardown),
        cmocka_unit_test_teardown(test_rekey_flood, test_teardown),
        cmocka_unit_test_teardown(test_connection_layer_before_auth, test_teardown),
        cmocka_unit_test_teardown(test_ignore_flood_before_auth, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
