/*
 * Tests for the fault-injecting proxy: a loopback echo server in a thread,
 * the real faultproxy binary in between, and checks of each fault.
 */
#include "../unit/test_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FAULTPROXY_PATH
#error FAULTPROXY_PATH must name the built faultproxy
#endif

static int echo_port;

static void *
echo_thread(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        uint8_t buf[4096];
        ssize_t n;
        while ((n = read(c, buf, sizeof(buf))) > 0) {
            if (write(c, buf, (size_t)n) != n)
                break;
        }
        close(c);
    }
}

static int
listen_loopback(int *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Starts faultproxy with extra args in front of the echo server; returns its port. */
static pid_t
start_proxy(const char *const *extra, int *port)
{
    char dir[] = "/tmp/amk-fp-XXXXXX", pf[64], target[64];
    assert_non_null(mkdtemp(dir));
    snprintf(pf, sizeof(pf), "%s/port", dir);
    snprintf(target, sizeof(target), "127.0.0.1:%d", echo_port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[32] = { FAULTPROXY_PATH, "--listen", "127.0.0.1:0", "--target", target,
            "--port-file", pf, "--max-conns", "1", "--lifetime", "20" };
        int n = 11;
        for (int i = 0; extra[i] != NULL && n < 31; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execv(FAULTPROXY_PATH, (char **)argv);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {   /* up to 5 s */
        FILE *f = fopen(pf, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok) {
                unlink(pf);
                rmdir(dir);
                return pid;
            }
        }
        usleep(10000);
    }
    fail_msg("faultproxy did not start");
    return -1;
}

static int
connect_port(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = { 5, 0 };

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Sends len bytes, shuts down writing, reads all echoed back; returns count or -errno. */
static ssize_t
roundtrip(int port, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
    int fd = connect_port(port);
    size_t got = 0;
    ssize_t n;

    assert_int_equal(write(fd, data, len), (ssize_t)len);
    shutdown(fd, SHUT_WR);
    while ((n = read(fd, out + got, cap - got)) > 0)
        got += (size_t)n;
    int err = n < 0 ? errno : 0;
    close(fd);
    return err != 0 ? -err : (ssize_t)got;
}

static void
finish(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
}

static uint8_t data[3000], out[4000];

static void
test_faultproxy_passes_through(void **state)
{
    const char *const args[] = { NULL };
    int port;
    pid_t pid = start_proxy(args, &port);
    assert_int_equal(roundtrip(port, data, sizeof(data), out, sizeof(out)), sizeof(data));
    assert_memory_equal(out, data, sizeof(data));
    finish(pid);
}

static void
test_faultproxy_split_single_bytes_intact(void **state)
{
    const char *const args[] = { "--c2s", "--split", "1", "--s2c", "--split", "7", NULL };
    int port;
    pid_t pid = start_proxy(args, &port);
    assert_int_equal(roundtrip(port, data, 500, out, sizeof(out)), 500);
    assert_memory_equal(out, data, 500);
    finish(pid);
}

static void
test_faultproxy_corrupt_flips_one_byte(void **state)
{
    const char *const args[] = { "--corrupt-at", "10", NULL };
    int port;
    pid_t pid = start_proxy(args, &port);
    assert_int_equal(roundtrip(port, data, sizeof(data), out, sizeof(out)), sizeof(data));
    assert_int_equal(out[10], data[10] ^ 0x01);
    out[10] ^= 0x01;
    assert_memory_equal(out, data, sizeof(data));
    finish(pid);
}

static void
test_faultproxy_truncate_closes(void **state)
{
    const char *const args[] = { "--s2c", "--truncate-at", "100", NULL };
    int port;
    pid_t pid = start_proxy(args, &port);
    ssize_t n = roundtrip(port, data, sizeof(data), out, sizeof(out));
    /* 100 bytes arrive, then the connection ends (EOF or reset). */
    if (n >= 0)
        assert_int_equal(n, 100);
    assert_memory_equal(out, data, 100);
    finish(pid);
}

static void
test_faultproxy_reset_gives_econnreset(void **state)
{
    const char *const args[] = { "--c2s", "--reset-at", "50", NULL };
    int port;
    pid_t pid = start_proxy(args, &port);
    int fd = connect_port(port);
    ssize_t n;
    assert_int_equal(write(fd, data, 200), 200);
    size_t got = 0;
    while ((n = read(fd, out + got, sizeof(out) - got)) > 0)
        got += (size_t)n;
    assert_true(got <= 50);
    assert_true(n == 0 || errno == ECONNRESET);
    close(fd);
    finish(pid);
}

static void
test_faultproxy_delay_holds_data(void **state)
{
    const char *const args[] = { "--c2s", "--delay-ms", "150", NULL };
    int port;
    struct timespec a, b;
    pid_t pid = start_proxy(args, &port);
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(roundtrip(port, data, 100, out, sizeof(out)), 100);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 150);   /* a lower bound only: the delay happened */
    finish(pid);
}

int
main(void)
{
    pthread_t th;
    int lfd = listen_loopback(&echo_port);

    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + 7);
    pthread_create(&th, NULL, echo_thread, &lfd);
    pthread_detach(th);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faultproxy_passes_through),
        cmocka_unit_test(test_faultproxy_split_single_bytes_intact),
        cmocka_unit_test(test_faultproxy_corrupt_flips_one_byte),
        cmocka_unit_test(test_faultproxy_truncate_closes),
        cmocka_unit_test(test_faultproxy_reset_gives_econnreset),
        cmocka_unit_test(test_faultproxy_delay_holds_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
