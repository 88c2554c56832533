/*
 * Interop: SFTP transfers between amiko and sshd cut mid-way by
 * tests/tools/faultproxy: a reset, a truncated stream, a stall and a
 * corrupted byte, on the data's direction, after the first MiBs of the
 * transfer. Each must end with the fault's own error code within the
 * client's timeout; the transfer must report how far it got (the bytes in
 * place), leave a clean prefix of the source behind (a get's local file
 * is exactly that long), and a resumed transfer (AMK_SFTP_XFER_RESUME, on
 * a new connection straight to sshd) must make an identical file. A link
 * that delays every chunk both ways still carries a get to the end.
 * argv[1] is the path of the built faultproxy.
 */
#include "test_helper.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amiko/client.h>
#include <amiko/sftp.h>

#include "faultproxy_run.h"
#include "io/wait.h"
#include "sshd_fixture.h"
#include "file_util.h"

#define MIB ((uint64_t)1024 * 1024)
#define FILE_SIZE (16 * MIB + 321)
#define CUT_AT "4194304"            /* the faults' byte offset: 4 MiB into the stream */
#define TIMEOUT_MS 3000             /* the client's timeout, which a stall must meet */

static struct sshd_fixture fx;
static const char *proxy_path;
static struct faultproxy proxy = { -1, 0 };
static uint16_t proxy_port;
static char proxy_known_hosts[FIXTURE_PATH_MAX];

static void
proxy_stop(void)
{
    faultproxy_stop(&proxy);
}

/* Writes known_hosts for the proxy's port: sshd's lines under its name. */
static void
write_proxy_known_hosts(void)
{
    char line[8192];
    FILE *in = fopen(fx.known_hosts, "r"), *out;

    assert_non_null(in);
    sshd_fixture_path(&fx, "proxy_known_hosts", proxy_known_hosts, sizeof(proxy_known_hosts));
    out = fopen(proxy_known_hosts, "w");
    assert_non_null(out);
    while (fgets(line, sizeof(line), in) != NULL) {
        const char *key = strchr(line, ' ');
        if (key != NULL)
            fprintf(out, "[127.0.0.1]:%u%s", (unsigned)proxy_port, key);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Starts faultproxy in front of sshd with the fault arguments @p faults (NULL-terminated). */
static void
proxy_start(const char *const *faults)
{
    faultproxy_start(&proxy, proxy_path, &fx, fx.port, 120, faults);
    proxy_port = proxy.port;
    write_proxy_known_hosts();
}

/* A client connected to sshd, through the proxy when @p via_proxy. */
static struct amk_client *
client_connected(int via_proxy)
{
    struct amk_client *c = NULL;
    int r;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_load_host_keys(c, via_proxy ? proxy_known_hosts : fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_timeout(c, via_proxy ? TIMEOUT_MS : 60000));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    r = amk_client_connect(c, "127.0.0.1", via_proxy ? proxy_port : fx.port, fx.user, NULL);
    if (r != AMK_OK)
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    return c;
}

static void
path_of(char *out, size_t cap, const char *name)
{
    sshd_fixture_path(&fx, name, out, cap);
}

/* Whether @p part is byte for byte the start of @p whole. */
static void
assert_prefix(const char *part, const char *whole)
{
    uint8_t *a = malloc(MIB), *b = malloc(MIB);
    int fa = open(part, O_RDONLY), fb = open(whole, O_RDONLY);
    ssize_t n;
    uint64_t at = 0;

    assert_non_null(a);
    assert_non_null(b);
    assert_true(fa >= 0 && fb >= 0);
    while ((n = read(fa, a, MIB)) > 0) {
        assert_true(read(fb, b, (size_t)n) == n);
        if (memcmp(a, b, (size_t)n) != 0)
            fail_msg("%s differs from %s in the MiB at %llu", part, whole,
                (unsigned long long)at);
        at += (uint64_t)n;
    }
    assert_int_equal(n, 0);
    close(fa);
    close(fb);
    free(a);
    free(b);
}

struct cut {
    const char *name;
    int put;                    /* 0: get (the data goes s2c), 1: put (c2s) */
    const char *fault;          /* faultproxy's option */
    const char *at;             /* its byte offset in the data's direction */
    int code;                   /* what the transfer must end with */
    const char *message;        /* in its error (or the client's), or NULL */
    const char *sshd_log;       /* what sshd must have logged, or NULL */
};

static const struct cut CUTS[] = {
    { "get reset", 0, "--reset-at", CUT_AT, AMK_ECLOSED, "closed", NULL },
    { "get truncated", 0, "--truncate-at", CUT_AT, AMK_ECLOSED, "closed", NULL },
    { "get stalled", 0, "--stall-at", CUT_AT, AMK_ETIMEOUT, "ms", NULL },
    { "get corrupted", 0, "--corrupt-at", CUT_AT, AMK_EMAC, "authentication code", NULL },
    { "put reset", 1, "--reset-at", CUT_AT, AMK_ECLOSED, "closed", NULL },
    { "put truncated", 1, "--truncate-at", CUT_AT, AMK_ECLOSED, "closed", NULL },
    { "put stalled", 1, "--stall-at", CUT_AT, AMK_ETIMEOUT, "ms", NULL },
    /* sshd drops the connection without a DISCONNECT on a bad MAC */
    { "put corrupted", 1, "--corrupt-at", CUT_AT, AMK_ECLOSED, "closed",
      "message authentication code incorrect" },
    /* other points of the file: just after the first data, the middle, near the end
     * (the whole stream is a little over 16 MiB each way) */
    { "get reset early", 0, "--reset-at", "300000", AMK_ECLOSED, "closed", NULL },
    { "get reset midway", 0, "--reset-at", "8388608", AMK_ECLOSED, "closed", NULL },
    { "get reset near the end", 0, "--reset-at", "16700000", AMK_ECLOSED, "closed", NULL },
    { "put reset early", 1, "--reset-at", "300000", AMK_ECLOSED, "closed", NULL },
    { "put reset midway", 1, "--reset-at", "8388608", AMK_ECLOSED, "closed", NULL },
    { "put reset near the end", 1, "--reset-at", "16700000", AMK_ECLOSED, "closed", NULL },
};

/* Runs one cut transfer, then resumes it straight to sshd. */
static void
cut_and_resume(const struct cut *k, const char *src, const char *dst)
{
    const char *faults[] = { k->put ? "--c2s" : "--s2c", k->fault, k->at, NULL };
    struct amk_sftp_transfer_progress p;
    struct amk_sftp_transfer *t = NULL;
    struct amk_client *c;
    struct amk_sftp *s = NULL;
    int64_t t0, moved;
    uint64_t last_done = 0;
    int r;

    unlink(dst);
    proxy_start(faults);
    c = client_connected(1);
    ASSERT_OK(amk_sftp_new_client(&s, c));
    if (k->put)
        ASSERT_OK(amk_sftp_transfer_start_put(s, src, dst, 0, &t));
    else
        ASSERT_OK(amk_sftp_transfer_start_get(s, src, dst, 0, &t));
    t0 = moved = amk_io_now_ms();
    while ((r = amk_sftp_transfer_step(t)) == AMK_EAGAIN) {
        /* when the data last moved: the fault comes after it */
        if (amk_sftp_transfer_progress(t, &p) == AMK_OK && p.done != last_done) {
            last_done = p.done;
            moved = amk_io_now_ms();
        }
        assert_true(amk_io_now_ms() - t0 < 120000);
    }
    if (r != k->code)
        fail_msg("%s: %s (%s / %s), expected %s", k->name, amk_errname(r),
            amk_sftp_transfer_error(t), amk_sftp_last_error(s), amk_errname(k->code));
    /* a stall is met by the timeout, every other fault at once: within the
     * timeout and some slack of the last data that moved */
    if (amk_io_now_ms() - moved >= TIMEOUT_MS + 5000)
        fail_msg("%s: ended %lld ms after the data last moved", k->name,
            (long long)(amk_io_now_ms() - moved));
    if (k->message != NULL && strstr(amk_sftp_transfer_error(t), k->message) == NULL &&
        strstr(amk_sftp_last_error(s), k->message) == NULL &&
        strstr(amk_client_last_error(c), k->message) == NULL)
        fail_msg("%s: no \"%s\" in \"%s\" / \"%s\" / \"%s\"", k->name, k->message,
            amk_sftp_transfer_error(t), amk_sftp_last_error(s), amk_client_last_error(c));
    /* how far it got: some of the file, not all of it */
    ASSERT_OK(amk_sftp_transfer_progress(t, &p));
    assert_true(p.finished);
    assert_true(p.total == FILE_SIZE);
    if (p.done >= FILE_SIZE || (p.done == 0 && strtoull(k->at, NULL, 10) >= MIB))
        fail_msg("%s: %llu bytes reported done", k->name, (unsigned long long)p.done);
    print_message("    %-24s %s after %llu of %llu bytes\n", k->name, amk_errname(r),
        (unsigned long long)p.done, (unsigned long long)FILE_SIZE);
    amk_sftp_transfer_free(t);
    amk_sftp_free(s);
    r = amk_client_close(c);        /* the connection is gone: its error is expected */
    assert_true(r != AMK_EAGAIN);
    amk_client_free(c);
    proxy_stop();

    if (k->sshd_log != NULL) {
        int64_t deadline = amk_io_deadline(5000);
        while (!sshd_fixture_log_count(&fx, k->sshd_log, NULL) && amk_io_remaining_ms(deadline) > 0)
            usleep(20000);
        if (!sshd_fixture_log_count(&fx, k->sshd_log, NULL)) {
            sshd_fixture_dump_log(&fx, 2000);
            fail_msg("%s: sshd did not log \"%s\"", k->name, k->sshd_log);
        }
    }

    /* the target is a clean prefix; a get's is exactly what it reported */
    assert_prefix(dst, src);
    if (k->put)
        assert_true(tf_size(dst) >= (off_t)p.done);
    else
        assert_true(tf_size(dst) == (off_t)p.done);

    /* resumed on a new connection: identical */
    c = client_connected(0);
    s = NULL;
    ASSERT_OK(amk_sftp_new_client(&s, c));
    r = k->put ? amk_sftp_put(s, src, dst, AMK_SFTP_XFER_RESUME, NULL, NULL)
               : amk_sftp_get(s, src, dst, AMK_SFTP_XFER_RESUME, NULL, NULL);
    if (r != AMK_OK)
        fail_msg("%s: resume: %s: %s", k->name, amk_errname(r), amk_sftp_last_error(s));
    amk_sftp_free(s);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    assert_true(tf_same(src, dst));
}

static void
test_faults_sftp_cut_and_resumed(void **state)
{
    char src[FIXTURE_PATH_MAX], dst[FIXTURE_PATH_MAX];

    (void)state;
    path_of(src, sizeof(src), "cut.src");
    path_of(dst, sizeof(dst), "cut.dst");
    tf_make(src, FILE_SIZE, 7);
    for (size_t i = 0; i < sizeof(CUTS) / sizeof(CUTS[0]); i++)
        cut_and_resume(&CUTS[i], src, dst);
    unlink(src);
    unlink(dst);
}

static void
test_faults_sftp_delayed_link(void **state)
{
    static const char *const faults[] = { "--c2s", "--delay-ms", "20", "--s2c", "--delay-ms",
        "20", NULL };
    char src[FIXTURE_PATH_MAX], dst[FIXTURE_PATH_MAX];
    struct amk_client *c;
    struct amk_sftp *s = NULL;
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    int status = -1;

    (void)state;
    path_of(src, sizeof(src), "delay.src");
    path_of(dst, sizeof(dst), "delay.dst");
    tf_make(src, 4 * MIB + 5, 9);
    proxy_start(faults);
    c = client_connected(1);
    ASSERT_OK(amk_client_run(c, "echo delayed", &out, &out_len, &err, &err_len, &status));
    assert_int_equal(status, 0);
    assert_true(out_len == 8 && memcmp(out, "delayed\n", 8) == 0);
    free(out);
    free(err);
    ASSERT_OK(amk_sftp_new_client(&s, c));
    ASSERT_OK(amk_sftp_get(s, src, dst, 0, NULL, NULL));
    amk_sftp_free(s);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    proxy_stop();
    assert_true(tf_same(src, dst));
    unlink(src);
    unlink(dst);
}

static int
group_setup(void **state)
{
    (void)state;
    if (sshd_fixture_init(&fx) != 0 || sshd_fixture_start(&fx, NULL) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    proxy_stop();
    sshd_fixture_stop(&fx);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_sftp_cut_and_resumed),
        cmocka_unit_test(test_faults_sftp_delayed_link),
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s path-to-faultproxy\n", argv[0]);
        return 2;
    }
    proxy_path = argv[1];
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
