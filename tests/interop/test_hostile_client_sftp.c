/*
 * Hostile peers (issue 9), the client's side: amiko's SFTP client
 * (amk_sftp_new_io over a socketpair) against a scripted hostile SFTP
 * server in a child process, which answers INIT properly and then one
 * request wrongly:
 *  - VERSION 2 instead of 3;
 *  - a reply whose packet length is 2^32-1;
 *  - NAME claiming 2^32-1 entries with none behind it;
 *  - a HANDLE of 300 bytes (draft-02 §3 allows 256);
 *  - DATA of 64 KiB for a READ of 4 KiB;
 *  - a STATUS for a request id never sent;
 *  - no answer at all (the stream's 2 s read timeout).
 * Each must fail with a fatal code and a message, at once (the silent one
 * at its timeout), without allocating what the server claims.
 */
#include "test_helper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amiko/sftp.h>

#include "hostile_client.h"
#include "io/wait.h"
#include "sftp/sftp_codec.h"
#include "util/buf.h"

#define READ_TIMEOUT_MS 2000

enum sftp_bad {
    OLD_VERSION, HUGE_LENGTH, NAME_COUNT, LONG_HANDLE, DATA_TOO_LONG, UNKNOWN_ID, SILENT
};

static const char *const bad_names[] = { "VERSION 2", "packet length 2^32-1",
    "NAME count 2^32-1", "300-byte handle", "64 KiB DATA for 4 KiB", "STATUS for unknown id",
    "no answer" };

/* --- the hostile server (child) ------------------------------------- */

static int
read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The next request: its type and id (the rest is skipped). */
static int
next_request(int fd, uint8_t *type, uint32_t *id)
{
    static uint8_t body[AMK_SFTP_PACKET_MAX];
    uint8_t hdr[4];
    uint32_t len;

    if (read_full(fd, hdr, 4) != 0)
        return -1;
    len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len < 5 || len > sizeof(body) || read_full(fd, body, len) != 0)
        return -1;
    *type = body[0];
    *id = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 | body[4];
    return 0;
}

/* Sends @p body with its length (or @p fake_len when not 0). */
static void
reply(int fd, struct amk_buf *body, uint32_t fake_len)
{
    struct amk_buf *pkt = amk_buf_new();

    if (pkt == NULL || amk_buf_put_u32(pkt, fake_len ? fake_len : (uint32_t)amk_buf_len(body))
        != AMK_OK || amk_buf_putb(pkt, body) != AMK_OK)
        _exit(3);
    (void)hc_write_all(fd, amk_buf_ptr(pkt), amk_buf_len(pkt));
    amk_buf_free(pkt);
    amk_buf_reset(body);
}

static void
server(int fd, enum sftp_bad bad)
{
    static uint8_t big[65536];
    struct amk_buf *b = amk_buf_new();
    uint8_t type;
    uint32_t id;
    int r = AMK_OK;

    if (b == NULL || next_request(fd, &type, &id) != 0 || type != AMK_SSH_FXP_INIT)
        _exit(2);
    /* VERSION (draft-02 §4): INIT's "id" field is the version */
    if (amk_buf_put_u8(b, AMK_SSH_FXP_VERSION) != AMK_OK ||
        amk_buf_put_u32(b, bad == OLD_VERSION ? 2 : 3) != AMK_OK)
        _exit(3);
    reply(fd, b, 0);
    if (bad == OLD_VERSION || next_request(fd, &type, &id) != 0)
        _exit(0);
    switch (bad) {
    case HUGE_LENGTH:
        if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_NAME)) == AMK_OK)
            r = amk_buf_put_u32(b, id);
        reply(fd, b, UINT32_MAX);
        break;
    case NAME_COUNT:
        if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_NAME)) == AMK_OK &&
            (r = amk_buf_put_u32(b, id)) == AMK_OK)
            r = amk_buf_put_u32(b, UINT32_MAX);
        reply(fd, b, 0);
        break;
    case LONG_HANDLE:
        if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_HANDLE)) == AMK_OK &&
            (r = amk_buf_put_u32(b, id)) == AMK_OK)
            r = amk_buf_put_string(b, big, 300);
        reply(fd, b, 0);
        break;
    case DATA_TOO_LONG:
        /* a good handle for the OPEN, then too much DATA for the READ */
        if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_HANDLE)) == AMK_OK &&
            (r = amk_buf_put_u32(b, id)) == AMK_OK)
            r = amk_buf_put_string(b, "h1", 2);
        reply(fd, b, 0);
        if (r != AMK_OK || next_request(fd, &type, &id) != 0)
            _exit(0);
        if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_DATA)) == AMK_OK &&
            (r = amk_buf_put_u32(b, id)) == AMK_OK)
            r = amk_buf_put_string(b, big, sizeof(big));
        reply(fd, b, 0);
        break;
    case UNKNOWN_ID:
        if ((r = amk_buf_put_u8(b, AMK_SSH_FXP_STATUS)) == AMK_OK &&
            (r = amk_buf_put_u32(b, id + 1000)) == AMK_OK &&
            (r = amk_buf_put_u32(b, AMK_SSH_FX_OK)) == AMK_OK &&
            (r = amk_buf_put_cstring(b, "")) == AMK_OK)
            r = amk_buf_put_cstring(b, "");
        reply(fd, b, 0);
        break;
    case SILENT:
    case OLD_VERSION:
        break;
    }
    if (r != AMK_OK)
        _exit(3);
    /* hold the stream until the client gives up */
    (void)hc_wait_closed(fd, 10000, NULL, 0, NULL);
    _exit(0);
}

/* --- the client's stream ---------------------------------------------- */

static ssize_t
rd(void *user, void *buf, size_t len)
{
    int fd = *(int *)user;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    ssize_t n;

    if (poll(&pfd, 1, READ_TIMEOUT_MS) == 0)
        return AMK_ETIMEOUT;
    n = read(fd, buf, len);
    return n < 0 ? AMK_EIO : n;
}

static ssize_t
wr(void *user, const void *buf, size_t len)
{
    ssize_t n = send(*(int *)user, buf, len, MSG_NOSIGNAL);

    return n <= 0 ? AMK_EIO : n;
}

/* Runs the client against a server misbehaving as @p bad: the call must
 * fail with @p code and, when an ::amk_sftp exists, a message containing
 * @p needle. */
static void
run(enum sftp_bad bad, int code, const char *needle)
{
    struct amk_sftp *sftp = NULL;
    struct amk_sftp_file *f = NULL;
    char *path = NULL, buf[4096];
    size_t got = 0;
    int sv[2], r, status;
    int64_t start, took;
    pid_t pid;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(sv[0]);
        server(sv[1], bad);
    }
    close(sv[1]);
    start = amk_io_now_ms();
    r = amk_sftp_new_io(&sftp, rd, wr, &sv[0]);
    if (r == AMK_OK && (bad == LONG_HANDLE || bad == DATA_TOO_LONG)) {
        r = amk_sftp_open(sftp, "/f", AMK_SFTP_READ, 0, &f);
        if (r == AMK_OK)
            r = amk_sftp_pread(f, buf, sizeof(buf), 0, &got);
    } else if (r == AMK_OK) {
        r = amk_sftp_realpath(sftp, ".", &path);
    }
    took = amk_io_now_ms() - start;
    print_message("    %-24s %s after %lld ms: %s\n", bad_names[bad], amk_errname(r),
        (long long)took, sftp != NULL ? amk_sftp_last_error(sftp) : "(no session)");
    if (r != code)
        fail_msg("%s: %s, expected %s", bad_names[bad], amk_errname(r), amk_errname(code));
    assert_true(took < READ_TIMEOUT_MS + 2000);
    if (sftp != NULL && strstr(amk_sftp_last_error(sftp), needle) == NULL)
        fail_msg("%s: no \"%s\" in \"%s\"", bad_names[bad], needle, amk_sftp_last_error(sftp));
    free(path);
    if (f != NULL)
        (void)amk_sftp_close(f);
    amk_sftp_free(sftp);
    close(sv[0]);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void
test_sftp_client_old_version(void **state)
{
    run(OLD_VERSION, AMK_EVERSION, "version");
}

static void
test_sftp_client_huge_length(void **state)
{
    run(HUGE_LENGTH, AMK_ETOOBIG, "bad packet length (4294967295)");
}

static void
test_sftp_client_name_count(void **state)
{
    run(NAME_COUNT, AMK_EFORMAT, "malformed reply of type (104)");
}

static void
test_sftp_client_long_handle(void **state)
{
    run(LONG_HANDLE, AMK_ETOOBIG, "malformed reply of type (102)");
}

static void
test_sftp_client_data_too_long(void **state)
{
    run(DATA_TOO_LONG, AMK_EPROTO, "more data than asked for");
}

static void
test_sftp_client_unknown_id(void **state)
{
    run(UNKNOWN_ID, AMK_EPROTO, "reply to an unknown request id");
}

static void
test_sftp_client_silent(void **state)
{
    run(SILENT, AMK_ETIMEOUT, "timed out");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_client_old_version),
        cmocka_unit_test(test_sftp_client_huge_length),
        cmocka_unit_test(test_sftp_client_name_count),
        cmocka_unit_test(test_sftp_client_long_handle),
        cmocka_unit_test(test_sftp_client_data_too_long),
        cmocka_unit_test(test_sftp_client_unknown_id),
        cmocka_unit_test(test_sftp_client_silent),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
