/*
 * Interop (issue 9, faults): OpenSSH's ssh and sftp against `amiko serve`
 * through tests/tools/faultproxy, which damages the stream on loopback:
 *  - every write split into single bytes, both ways: ssh exec and an sftp
 *    put + get of 64 KiB work end to end, byte for byte;
 *  - one flipped bit client to server: the server disconnects with
 *    MAC_ERROR (ssh prints it), server to client: ssh reports the bad MAC,
 *    the server logs the connection closed;
 *  - a stall (client to server): ClientAlive probes go unanswered and the
 *    server disconnects within its interval, while a normal client is
 *    served meanwhile;
 *  - a truncated stream and a reset: ssh fails at once with exit 255, the
 *    server logs the close; an sftp download reset half-way fails cleanly.
 * After each, the server runs and serves a direct ssh; SIGTERM ends it
 * with status 0. HOSTILE_SSHD=1 runs the same against sshd (server-log
 * checks are amiko's only).
 */
#include "test_helper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faultproxy_run.h"
#include "hostile_client.h"
#include "file_util.h"
#include "io/wait.h"

#define HC_RSS_SLACK_KB (64L * 1024)
#define FAULT_WAIT_MS 20000

static struct hc_server srv;
static struct faultproxy proxy = { -1, 0 };
static uint16_t proxy_port;
static char in_1m[FIXTURE_PATH_MAX], out_path[FIXTURE_PATH_MAX];

static int
reference(void)
{
    return srv.amiko == NULL;
}

static void
proxy_stop(void)
{
    faultproxy_stop(&proxy);
}

/* faultproxy in front of the server with @p faults (NULL-terminated). */
static void
proxy_start(const char *const *faults)
{
    faultproxy_start(&proxy, FAULTPROXY_PATH, &srv.fx, srv.port, 60, faults);
    proxy_port = proxy.port;
}

/* ssh through the proxy running @p command; its exit status (output in out_path). */
static int
ssh_via_proxy(const char *command, const char *in_path, int64_t *took)
{
    static const char *const opts[] = { "-o", "ServerAliveInterval=1", "-o",
        "ServerAliveCountMax=3", NULL };
    int64_t start = amk_io_now_ms();
    int status = hc_wait_pid(hc_openssh_spawn(&srv, SSH_PATH, proxy_port, opts, command,
        in_path, out_path), FAULT_WAIT_MS);

    *took = amk_io_now_ms() - start;
    return status;
}

static void
print_out(const char *what, int status, int64_t took)
{
    char buf[512] = "";
    FILE *f = fopen(out_path, "r");

    if (f != NULL) {
        size_t n;
        /* the tail: a command's binary stdout may come first */
        if (fseek(f, -(long)sizeof(buf) + 1, SEEK_END) != 0)
            rewind(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    print_message("    %s: exit %d after %lld ms: %s\n", what, status, (long long)took, buf);
}

/* Waits (bounded) until the server's log has more than @p before lines with @p needle. */
static void
expect_log(const char *needle, int before)
{
    int64_t deadline = amk_io_deadline(10000);

    if (reference())
        return;
    while (hc_server_log_count(&srv, needle) <= before) {
        if (amk_io_remaining_ms(deadline) == 0) {
            hc_server_dump_log(&srv);
            fail_msg("the server never logged \"%s\"", needle);
        }
        usleep(20000);
    }
}

static void
start(const char *const *opts, long *rss)
{
    assert_int_equal(hc_server_start(&srv, opts), 0);
    *rss = hc_server_rss_kb(&srv);
}

static void
finish(long rss_before)
{
    proxy_stop();
    assert_int_equal(hc_server_survived(&srv, rss_before, HC_RSS_SLACK_KB), 0);
    assert_int_equal(hc_server_stop(&srv), 0);
}

static void
test_single_byte_writes(void **state)
{
    static const char *const faults[] = { "--c2s", "--split", "1", "--s2c", "--split", "1",
        NULL };
    char batch[FIXTURE_PATH_MAX], local[FIXTURE_PATH_MAX], back[FIXTURE_PATH_MAX];
    char remote[FIXTURE_PATH_MAX + 64], line[4 * FIXTURE_PATH_MAX];
    const char *opts[] = { "-b", batch, NULL };
    int64_t took, start_ms;
    int status;
    long rss;
    FILE *f;

    start(NULL, &rss);
    proxy_start(faults);
    status = ssh_via_proxy("echo hostile-ok", NULL, &took);
    print_out("ssh exec, 1-byte writes", status, took);
    assert_int_equal(status, 0);
    assert_true(hc_file_has(out_path, "hostile-ok"));
    /* sftp put and get of 64 KiB */
    sshd_fixture_path(&srv.fx, "batch", batch, sizeof(batch));
    sshd_fixture_path(&srv.fx, "local64k", local, sizeof(local));
    sshd_fixture_path(&srv.fx, "back64k", back, sizeof(back));
    snprintf(line, sizeof(line), "head -c 65536 /dev/urandom > '%s'", local);
    assert_int_equal(system(line), 0);
    if (reference())
        snprintf(remote, sizeof(remote), "%s/up64k", srv.root);
    else
        snprintf(remote, sizeof(remote), "/up64k");
    f = fopen(batch, "w");
    assert_non_null(f);
    fprintf(f, "put %s %s\nget %s %s\n", local, remote, remote, back);
    fclose(f);
    start_ms = amk_io_now_ms();
    status = hc_wait_pid(hc_openssh_spawn(&srv, HC_SFTP_PATH, proxy_port, opts, NULL, NULL,
        out_path), FAULT_WAIT_MS * 2);
    print_out("sftp put+get 64 KiB, 1-byte writes", status, amk_io_now_ms() - start_ms);
    assert_int_equal(status, 0);
    assert_true(tf_same(local, back));
    finish(rss);
}

static void
test_corrupt_client_to_server(void **state)
{
    static const char *const faults[] = { "--c2s", "--corrupt-at", "200000", NULL };
    int before, status;
    int64_t took;
    long rss;

    start(NULL, &rss);
    before = hc_server_log_count(&srv, "message authentication code");
    proxy_start(faults);
    status = ssh_via_proxy("cat >/dev/null", in_1m, &took);
    print_out("1 bit flipped client to server", status, took);
    assert_int_equal(status, 255);
    /* the server's DISCONNECT MAC_ERROR (reason 5) reached ssh */
    if (!reference())
        assert_true(hc_file_has(out_path, ":5: message authentication code incorrect"));
    expect_log("message authentication code", before);
    finish(rss);
}

static void
test_corrupt_server_to_client(void **state)
{
    static const char *const faults[] = { "--s2c", "--corrupt-at", "200000", NULL };
    int before, status;
    int64_t took;
    long rss;

    start(NULL, &rss);
    before = hc_server_log_count(&srv, "closed");
    proxy_start(faults);
    status = ssh_via_proxy("head -c 1000000 /dev/zero", NULL, &took);
    print_out("1 bit flipped server to client", status, took);
    assert_int_equal(status, 255);
    assert_true(hc_file_has(out_path, "message authentication code incorrect") ||
        hc_file_has(out_path, "Corrupted MAC"));
    expect_log("closed", before);
    finish(rss);
}

static void
test_stall(void **state)
{
    static const char *const opts[] = { "ClientAliveInterval=1", "ClientAliveCountMax=3", NULL };
    static const char *const faults[] = { "--c2s", "--stall-at", "200000", NULL };
    int before, status, normal;
    int64_t took, t0;
    long rss;
    pid_t ssh;

    start(opts, &rss);
    before = hc_server_log_count(&srv, "client-alive probes unanswered");
    proxy_start(faults);
    t0 = amk_io_now_ms();
    ssh = hc_openssh_spawn(&srv, SSH_PATH, proxy_port, NULL, "cat >/dev/null", in_1m, out_path);
    /* served meanwhile, directly */
    usleep(500000);
    normal = hc_normal_client(&srv, HC_WAIT_MS, &took);
    print_message("    normal client during the stall: %d after %lld ms\n", normal,
        (long long)took);
    assert_int_equal(normal, 0);
    /* ssh has no ServerAlive here: the server's probes end it */
    status = hc_wait_pid(ssh, FAULT_WAIT_MS);
    took = amk_io_now_ms() - t0;
    print_out("stalled client to server", status, took);
    assert_int_equal(status, 255);
    /* 3 probes a second apart unanswered (plus the login before the stall) */
    if (!reference() && took > 10000)
        fail_msg("the stalled client was dropped after %lld ms", (long long)took);
    expect_log("client-alive probes unanswered", before);
    finish(rss);
}

static void
test_truncate_and_reset(void **state)
{
    static const char *const trunc[] = { "--c2s", "--truncate-at", "200000", NULL };
    static const char *const reset[] = { "--s2c", "--reset-at", "200000", NULL };
    int before, status;
    int64_t took;
    long rss;

    start(NULL, &rss);
    before = hc_server_log_count(&srv, "closed");
    proxy_start(trunc);
    status = ssh_via_proxy("cat >/dev/null", in_1m, &took);
    print_out("truncated client to server", status, took);
    assert_int_equal(status, 255);
    expect_log("closed", before);
    proxy_stop();
    before = hc_server_log_count(&srv, "closed");
    proxy_start(reset);
    status = ssh_via_proxy("head -c 1000000 /dev/zero", NULL, &took);
    print_out("reset server to client", status, took);
    assert_int_equal(status, 255);
    expect_log("closed", before);
    finish(rss);
}

static void
test_sftp_download_reset(void **state)
{
    static const char *const reset[] = { "--s2c", "--reset-at", "300000", NULL };
    char batch[FIXTURE_PATH_MAX], local[FIXTURE_PATH_MAX], cmd[3 * FIXTURE_PATH_MAX];
    const char *opts[] = { "-b", batch, NULL };
    int before, status;
    int64_t start_ms;
    long rss;
    FILE *f;

    start(NULL, &rss);
    snprintf(cmd, sizeof(cmd), "head -c 2000000 /dev/zero > '%s/big2m'", srv.root);
    assert_int_equal(system(cmd), 0);
    sshd_fixture_path(&srv.fx, "batch", batch, sizeof(batch));
    sshd_fixture_path(&srv.fx, "big2m.local", local, sizeof(local));
    f = fopen(batch, "w");
    assert_non_null(f);
    if (reference())
        fprintf(f, "get %s/big2m %s\n", srv.root, local);
    else
        fprintf(f, "get /big2m %s\n", local);
    fclose(f);
    before = hc_server_log_count(&srv, "closed");
    proxy_start(reset);
    start_ms = amk_io_now_ms();
    status = hc_wait_pid(hc_openssh_spawn(&srv, HC_SFTP_PATH, proxy_port, opts, NULL, NULL,
        out_path), FAULT_WAIT_MS);
    print_out("sftp get reset half-way", status, amk_io_now_ms() - start_ms);
    assert_true(status != 0 && status != -1);
    expect_log("closed", before);
    finish(rss);
}

static int
group_setup(void **state)
{
    char cmd[2 * FIXTURE_PATH_MAX];
    int r = hc_server_init(&srv, AMK_AMIKO_PATH);

    if (r == FIXTURE_SKIP || access(HC_SFTP_PATH, X_OK) != 0)
        exit(FIXTURE_SKIP);
    signal(SIGPIPE, SIG_IGN);
    sshd_fixture_path(&srv.fx, "in1m", in_1m, sizeof(in_1m));
    sshd_fixture_path(&srv.fx, "client.out", out_path, sizeof(out_path));
    snprintf(cmd, sizeof(cmd), "head -c 1000000 /dev/urandom > '%s'", in_1m);
    return r != 0 ? r : system(cmd);
}

static int
group_teardown(void **state)
{
    proxy_stop();
    hc_server_cleanup(&srv);
    return 0;
}

static int
test_teardown(void **state)
{
    proxy_stop();
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
        cmocka_unit_test_teardown(test_single_byte_writes, test_teardown),
        cmocka_unit_test_teardown(test_corrupt_client_to_server, test_teardown),
        cmocka_unit_test_teardown(test_corrupt_server_to_client, test_teardown),
        cmocka_unit_test_teardown(test_stall, test_teardown),
        cmocka_unit_test_teardown(test_truncate_and_reset, test_teardown),
        cmocka_unit_test_teardown(test_sftp_download_reset, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
