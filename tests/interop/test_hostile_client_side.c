/*
 * Interop (issue 9, hostile peers, the client's side where
 * test_hostile_server does not reach): amiko's high-level client
 * (amk_client_connect with a 2 s connect timeout) against a raw hostile
 * server on loopback that misbehaves before any key exchange:
 *  - accepts and says nothing; drips its version line 1 byte per 200 ms
 *    (the timeout is a deadline, not an idle timer): AMK_ETIMEOUT on time;
 *  - packet_length 2^32-1, padding longer than the packet, a 70 KiB
 *    version line, 2000 lines before the version, an SSH-1.5 version,
 *    1000 KEXINITs: a fatal protocol error at once;
 *  - 50000 IGNOREs: AMK_ELIMIT (the peer rate limit), memory bounded.
 * Each must fail within the timeout plus scheduling slack, with a fatal
 * code and a message.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amiko/client.h>

#include "hostile_client.h"
#include "io/wait.h"
#include "transport/transport.h"
#include "util/buf.h"

#define CONNECT_TIMEOUT_MS 2000
#define SLACK_MS 2500
#define QUICK_MS CONNECT_TIMEOUT_MS   /* a refusal on reading: before the connect timeout */

enum script {
    SILENT, DRIP, BIG_LENGTH, BAD_PADDING, LONG_LINE, MANY_LINES, SSH1, KEXINIT_FLOOD,
    IGNORE_FLOOD
};

static const char *const script_names[] = { "silent", "drip", "packet_length 2^32-1",
    "padding > packet", "70 KiB version line", "2000 lines before version",
    "SSH-1.5 version", "1000 KEXINITs", "50000 IGNOREs" };

static long
self_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL && sscanf(line, "VmRSS: %ld kB", &kb) != 1)
        ;
    fclose(f);
    return kb;
}

/* What the hostile server sends for @p sc (after which it holds the connection). */
static void
script_bytes(enum script sc, struct amk_buf *b)
{
    static const uint8_t ignore9[9] = { AMK_MSG_IGNORE, 0, 0, 0, 4, 'a', 'b', 'c', 'd' };
    static const uint8_t filler[1024];
    struct amk_buf *kex = amk_buf_new();
    static const char *const lists[10] = { "curve25519-sha256", "ssh-ed25519",
        "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", "" };

    assert_non_null(kex);
    if (sc != LONG_LINE && sc != MANY_LINES && sc != SSH1)
        ASSERT_OK(amk_buf_put(b, "SSH-2.0-hostile\r\n", 17));
    switch (sc) {
    case SILENT:
    case DRIP:
        break;
    case BIG_LENGTH:
        assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 6, UINT32_MAX), 0);
        ASSERT_OK(amk_buf_put(b, filler, 64));
        break;
    case BAD_PADDING:
        ASSERT_OK(amk_buf_put_u32(b, 12));
        ASSERT_OK(amk_buf_put_u8(b, 255));
        ASSERT_OK(amk_buf_put(b, filler, 64));
        break;
    case LONG_LINE:
        /* "SSH-2.0-AAAA..." with no end */
        ASSERT_OK(amk_buf_put(b, "SSH-2.0-", 8));
        for (int i = 0; i < 70 * 1024; i++)
            ASSERT_OK(amk_buf_put_u8(b, 'A'));
        break;
    case MANY_LINES:
        for (int i = 0; i < 2000; i++)
            ASSERT_OK(amk_buf_put(b, "hello there\r\n", 13));
        break;
    case SSH1:
        ASSERT_OK(amk_buf_put(b, "SSH-1.5-old\r\n", 13));
        break;
    case KEXINIT_FLOOD:
        ASSERT_OK(amk_buf_put_u8(kex, AMK_MSG_KEXINIT));
        ASSERT_OK(amk_buf_put(kex, filler, 16));
        for (int i = 0; i < 10; i++)
            ASSERT_OK(amk_buf_put_cstring(kex, lists[i]));
        ASSERT_OK(amk_buf_put_bool(kex, 0));
        ASSERT_OK(amk_buf_put_u32(kex, 0));
        for (int i = 0; i < 1000; i++) {
            size_t len = 5 + amk_buf_len(kex);
            assert_int_equal(hc_put_plain_packet(b, amk_buf_ptr(kex), amk_buf_len(kex),
                (uint8_t)(16 - len % 8), 0), 0);
        }
        break;
    case IGNORE_FLOOD:
        /* 4+1+9+6 = 20: not a multiple of 8, so padding 10 (24) */
        for (int i = 0; i < 50000; i++)
            assert_int_equal(hc_put_plain_packet(b, ignore9, sizeof(ignore9), 10, 0), 0);
        break;
    }
    amk_buf_free(kex);
}

/* The hostile server: one connection on @p lfd, then hold it for up to 10 s. */
static pid_t
spawn_server(int lfd, enum script sc)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct amk_buf *b = amk_buf_new();
        int fd;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_IGN);
        if (b == NULL || (fd = accept(lfd, NULL, NULL)) < 0)
            _exit(1);
        script_bytes(sc, b);
        if (sc == DRIP) {
            for (size_t i = 0; i < amk_buf_len(b); i++) {
                if (send(fd, amk_buf_ptr(b) + i, 1, MSG_NOSIGNAL) != 1)
                    _exit(0);
                usleep(200000);
            }
        } else {
            (void)hc_write_all(fd, amk_buf_ptr(b), amk_buf_len(b));
        }
        /* hold until the client gives up (it reads EOF then) */
        (void)hc_wait_closed(fd, 10000, NULL, 0, NULL);
        _exit(0);
    }
    return pid;
}

/* Connects to a server playing @p sc: the connect must fail with @p code,
 * a message containing @p needle, within @p max_ms. */
static void
run(enum script sc, int code, const char *needle, int max_ms)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    struct amk_client *c = NULL;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r, status;
    int64_t start, took;
    long rss = self_rss_kb();
    pid_t pid;

    assert_true(lfd >= 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&in, &len), 0);
    pid = spawn_server(lfd, sc);
    close(lfd);
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_AUTO_ADD));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_connect_timeout(c, CONNECT_TIMEOUT_MS));
    start = amk_io_now_ms();
    r = amk_client_connect(c, "127.0.0.1", ntohs(in.sin_port), "hostile", "password");
    took = amk_io_now_ms() - start;
    print_message("    %-28s %s after %lld ms: %s (RSS %+ld KiB)\n", script_names[sc],
        amk_errname(r), (long long)took, amk_client_last_error(c), self_rss_kb() - rss);
    if (r != code)
        fail_msg("%s: %s, expected %s", script_names[sc], amk_errname(r), amk_errname(code));
    assert_true(amk_err_is_fatal(r));
    if (strstr(amk_client_last_error(c), needle) == NULL)
        fail_msg("%s: no \"%s\" in \"%s\"", script_names[sc], needle, amk_client_last_error(c));
    if (took >= max_ms)
        fail_msg("%s: took %lld ms, bound %d", script_names[sc], (long long)took, max_ms);
    assert_true(self_rss_kb() - rss < 16 * 1024);
    amk_client_free(c);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void
test_client_silent_server(void **state)
{
    run(SILENT, AMK_ETIMEOUT, "timed out after 2000 ms", CONNECT_TIMEOUT_MS + SLACK_MS);
}

static void
test_client_drip_server(void **state)
{
    run(DRIP, AMK_ETIMEOUT, "timed out after 2000 ms", CONNECT_TIMEOUT_MS + SLACK_MS);
}

static void
test_client_bad_lengths(void **state)
{
    /* refused as soon as read, long before the connect timeout */
    run(BIG_LENGTH, AMK_ETOOBIG, "packet length 4294967295 exceeds the limit", QUICK_MS);
    run(BAD_PADDING, AMK_EPROTO, "bad padding length", QUICK_MS);
}

static void
test_client_bad_version(void **state)
{
    run(LONG_LINE, AMK_EVERSION, "longer than 255 bytes", QUICK_MS);
    run(MANY_LINES, AMK_ELIMIT, "more than 1024 lines", QUICK_MS);
    run(SSH1, AMK_EVERSION, "SSH protocol 1 only", QUICK_MS);
}

static void
test_client_kexinit_flood(void **state)
{
    run(KEXINIT_FLOOD, AMK_EPROTO, "second KEXINIT during one key exchange", QUICK_MS);
}

static void
test_client_ignore_flood(void **state)
{
    /* the transport's peer rate limit (2000 at once, then 200 a second)
     * ends the flood with AMK_ELIMIT long before the connect timeout */
    run(IGNORE_FLOOD, AMK_ELIMIT, "peer rate limit: too many IGNORE", QUICK_MS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_silent_server),
        cmocka_unit_test(test_client_drip_server),
        cmocka_unit_test(test_client_bad_lengths),
        cmocka_unit_test(test_client_bad_version),
        cmocka_unit_test(test_client_kexinit_flood),
        cmocka_unit_test(test_client_ignore_flood),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
