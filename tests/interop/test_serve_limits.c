/*
 * Interop: `amiko serve` near its descriptor limit, and where SFTP starts.
 *
 * - Out of descriptors: serve under `prlimit --nofile=40` (the fixture's
 *   AMK_SERVE_WRAPPER) and 80 idle TCP connections. accept() fails with
 *   EMFILE; serve must stop watching the listener for a while instead of
 *   spinning (it logged ~876k lines in 5 s), log the failure a few times
 *   at most, and accept again once the connections are gone: a real ssh
 *   command then runs.
 * - The SFTP handle budget: under `--nofile=64` all SFTP sessions
 *   together hold at most 32 handles (half the limit). amiko's client in
 *   two connections: the first opens 20 files, the second gets 12 more and
 *   then a refusal; one close in the first lets the second open another.
 * - Without --root, real sftp starts in the user's home (`pwd`), not in
 *   the directory serve was started from.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <amiko.h>

#include "serve_fixture.h"

#define RUN_MS 40000
#define N_CONNS 80

static struct serve_fixture fx;
static char out_path[FIXTURE_PATH_MAX], err_path[FIXTURE_PATH_MAX];

static void
start_limited(const char *nofile, const char *const *args)
{
    char wrapper[64];

    snprintf(wrapper, sizeof(wrapper), "/usr/bin/prlimit --nofile=%s", nofile);
    setenv("AMK_SERVE_WRAPPER", wrapper, 1);
    if (serve_fixture_start(&fx, SERVE_HK_ED25519, args) != 0)
        fail_msg("amiko serve under %s did not start", wrapper);
    unsetenv("AMK_SERVE_WRAPPER");
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int
tcp_connect(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* non-blocking: past the backlog a connect would wait for SYN retries */
    (void)connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    return fd;
}

static void
test_accept_out_of_descriptors(void **state)
{
    const char *args[] = { "-o", "MaxStartups=500", NULL };
    int fds[N_CONNS], lines = 0;
    struct serve_argv a;
    char *o;

    (void)state;
    start_limited("40", args);
    for (int i = 0; i < N_CONNS; i++)
        fds[i] = tcp_connect(fx.port);
    sleep_ms(2000);
    assert_int_equal(kill(fx.pid, 0), 0);
    (void)serve_fixture_log_count(&fx, "Too many open files", &lines);
    if (lines < 1 || lines > 3) {
        serve_fixture_dump_log(&fx, 2000);
        fail_msg("%d log lines about EMFILE (want 1..3: it happened, rate-limited)", lines);
    }
    for (int i = 0; i < N_CONNS; i++)
        close(fds[i]);
    /* serve frees the closed ones and watches the listener again */
    serve_argv_client(&a, &fx, SSH_PATH, NULL);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "echo served-again");
    if (serve_run(&fx, a.v, NULL, out_path, err_path, NULL, RUN_MS) != 0) {
        serve_fixture_dump_log(&fx, 3000);
        fail_msg("ssh failed after the connections were closed");
    }
    o = serve_slurp(out_path, NULL);
    assert_non_null(strstr(o, "served-again"));
    free(o);
    (void)serve_fixture_log_count(&fx, "Too many open files", &lines);
    assert_true(lines <= 3);
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static struct amk_client *
client_connect(void)
{
    struct amk_client *cl = NULL;
    int r;

    ASSERT_OK(amk_client_new(&cl));
    ASSERT_OK(amk_client_load_host_keys(cl, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(cl, 0));
    ASSERT_OK(amk_client_add_key_file(cl, fx.user_key));
    ASSERT_OK(amk_client_set_auth_methods(cl, 1, 0));
    ASSERT_OK(amk_client_set_connect_timeout(cl, RUN_MS));
    ASSERT_OK(amk_client_set_timeout(cl, RUN_MS));
    if ((r = amk_client_connect(cl, "127.0.0.1", fx.port, fx.user, NULL)) != AMK_OK)
        fail_msg("connect: %s", amk_client_last_error(cl));
    return cl;
}

/* Opens /dev/null in @p sftp until a refusal or @p max; how many opened. */
static size_t
open_many(struct amk_sftp *sftp, struct amk_sftp_file **f, size_t max, int *refused)
{
    size_t n = 0;
    int r = AMK_OK;

    while (n < max && (r = amk_sftp_open(sftp, "/dev/null", AMK_SFTP_READ, 0, &f[n])) == AMK_OK)
        n++;
    *refused = n < max;
    if (*refused)
        assert_int_equal(r, AMK_EREMOTE);   /* a STATUS refusal, the session goes on */
    return n;
}

static void
test_sftp_handle_budget(void **state)
{
    struct amk_client *c1, *c2;
    struct amk_sftp *s1 = NULL, *s2 = NULL;
    struct amk_sftp_file *f1[64], *f2[64], *extra = NULL;
    size_t n1, n2;
    int refused;

    (void)state;
    start_limited("64", NULL);
    c1 = client_connect();
    c2 = client_connect();
    ASSERT_OK(amk_sftp_new_client(&s1, c1));
    ASSERT_OK(amk_sftp_new_client(&s2, c2));
    n1 = open_many(s1, f1, 20, &refused);
    assert_int_equal(n1, 20);
    assert_false(refused);
    /* 32 for the whole server: 12 left for the other connection */
    n2 = open_many(s2, f2, 64, &refused);
    assert_true(refused);
    if (n2 != 12) {
        serve_fixture_dump_log(&fx, 2000);
        fail_msg("the second session opened %zu files, want 12 (budget 32 - 20)", n2);
    }
    assert_int_equal(serve_fixture_log_count(&fx, "handles open in all sessions", NULL), 1);
    /* a handle given back in one session is one more for the other */
    ASSERT_OK(amk_sftp_close(f1[--n1]));
    ASSERT_OK(amk_sftp_open(s2, "/dev/null", AMK_SFTP_READ, 0, &extra));
    ASSERT_OK(amk_sftp_close(extra));
    while (n1 > 0)
        ASSERT_OK(amk_sftp_close(f1[--n1]));
    while (n2 > 0)
        ASSERT_OK(amk_sftp_close(f2[--n2]));
    amk_sftp_free(s1);
    amk_sftp_free(s2);
    ASSERT_OK(amk_client_close(c1));
    ASSERT_OK(amk_client_close(c2));
    amk_client_free(c1);
    amk_client_free(c2);
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

/* No --root: sftp's pwd is the home of the user serve runs as (serve's
 * working directory is this test's, which is not it). */
static void
test_sftp_starts_in_home(void **state)
{
    char bfile[FIXTURE_PATH_MAX], want[FIXTURE_PATH_MAX + 32], cwd[FIXTURE_PATH_MAX];
    struct passwd *pw = getpwuid(geteuid());
    struct serve_argv a;
    char *o;

    (void)state;
    assert_non_null(pw);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    if (strcmp(cwd, pw->pw_dir) == 0)
        skip();     /* the test cannot tell them apart */
    if (serve_fixture_start(&fx, SERVE_HK_ED25519, NULL) != 0)
        fail_msg("amiko serve did not start");
    serve_fixture_path(&fx, "batch", bfile, sizeof(bfile));
    assert_int_equal(serve_write_file(bfile, "pwd\n", 4), 0);
    serve_argv_client(&a, &fx, SFTP_PATH, NULL);
    serve_argv_add(&a, "-b");
    serve_argv_add(&a, bfile);
    serve_argv_add(&a, fx.dest);
    assert_int_equal(serve_run(&fx, a.v, NULL, out_path, out_path, NULL, RUN_MS), 0);
    snprintf(want, sizeof(want), "Remote working directory: %s\n", pw->pw_dir);
    o = serve_slurp(out_path, NULL);
    if (strstr(o, want) == NULL)
        fail_msg("sftp said:\n%s\nwant: %s", o, want);
    free(o);
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

static int
group_setup(void **state)
{
    static const char *const peers[] = { SSH_PATH, SFTP_PATH, SSH_KEYGEN_PATH,
        "/usr/bin/prlimit" };

    (void)state;
    if (serve_fixture_need(peers, sizeof(peers) / sizeof(peers[0])) != 0)
        return -1;
    if (serve_fixture_init(&fx) != 0)
        return -1;
    serve_fixture_path(&fx, "client.out", out_path, sizeof(out_path));
    serve_fixture_path(&fx, "client.err", err_path, sizeof(err_path));
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    serve_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_out_of_descriptors),
        cmocka_unit_test(test_sftp_handle_budget),
        cmocka_unit_test(test_sftp_starts_in_home),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
