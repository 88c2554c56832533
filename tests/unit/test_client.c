/*
 * Unit tests for src/client without an SSH server: usage errors, state
 * errors, and connections that fail before authentication (nothing
 * listening, a peer that stays silent, hangs up, or speaks SSH-1), in
 * blocking and non-blocking mode. The interop tests (tests/interop/
 * test_client.c, test_client_tools.c) run the client against sshd.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amiko/client.h>

enum peer_kind {
    PEER_SILENT,        /* accepts (backlog) and never answers */
    PEER_HANGUP,        /* accepts and closes at once */
    PEER_SSH1,          /* sends an SSH-1 version line */
    PEER_GARBAGE_KEX    /* a valid version line, then a packet with a bad length */
};

struct peer {
    int lfd;
    uint16_t port;
    pid_t pid;
};

/* A loopback listener; for kinds other than SILENT a child serves one connection. */
static void
peer_start(struct peer *p, enum peer_kind kind)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);

    memset(p, 0, sizeof(*p));
    p->pid = -1;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&in, &len), 0);
    p->port = ntohs(in.sin_port);
    if (kind == PEER_SILENT)
        return;
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        static const char ssh1[] = "SSH-1.5-old\r\n";
        static const char v2[] = "SSH-2.0-test\r\n";
        static const uint8_t bad[] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
        char buf[4096];
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        fd = accept(p->lfd, NULL, NULL);
        if (fd < 0)
            _exit(1);
        if (kind == PEER_SSH1 && write(fd, ssh1, sizeof(ssh1) - 1) < 0)
            _exit(1);
        if (kind == PEER_GARBAGE_KEX) {
            if (write(fd, v2, sizeof(v2) - 1) < 0 || write(fd, bad, sizeof(bad)) < 0)
                _exit(1);
            while (read(fd, buf, sizeof(buf)) > 0)
                ;
        }
        if (kind == PEER_SSH1)
            usleep(200 * 1000);
        close(fd);
        _exit(0);
    }
}

static void
peer_stop(struct peer *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    close(p->lfd);
}

static struct amk_client *
new_client(int blocking, int timeout_ms)
{
    struct amk_client *c = NULL;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_blocking(c, blocking));
    ASSERT_OK(amk_client_set_connect_timeout(c, timeout_ms));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    return c;
}

/* Runs a non-blocking connect to the end, polling as a caller would. */
static int
connect_nonblocking(struct amk_client *c, uint16_t port)
{
    int r;

    for (int i = 0; i < 1000; i++) {
        struct pollfd pfd;
        int dirs, t;

        r = amk_client_connect(c, "127.0.0.1", port, "user", NULL);
        if (r != AMK_EAGAIN)
            return r;
        dirs = amk_client_block_directions(c);
        assert_true(dirs != 0);
        pfd.fd = amk_client_get_fd(c);
        assert_true(pfd.fd >= 0);
        pfd.events = (short)(((dirs & AMK_WAIT_READ) ? POLLIN : 0) |
            ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0));
        t = amk_client_next_timeout(c);
        assert_true(poll(&pfd, 1, t < 0 || t > 1000 ? 1000 : t) >= 0);
    }
    fail_msg("non-blocking connect did not finish");
    return AMK_EINTERNAL;
}

/* --- usage ------------------------------------------------------------- */

static void
test_amk_client_new_null(void **state)
{
    ASSERT_AMK(AMK_EINVAL, amk_client_new(NULL));
    amk_client_free(NULL);
}

static void
test_amk_client_setters_reject_bad_arguments(void **state)
{
    struct amk_client *c = new_client(1, 1000);
    struct amk_key *k = NULL, *pub = NULL;
    char *line = NULL;

    ASSERT_AMK(AMK_EINVAL, amk_client_set_hostkey_policy(c, (enum amk_hostkey_policy)9));
    ASSERT_AMK(AMK_EINVAL, amk_client_set_hostkey_callback(c, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_client_set_algorithms(c, (enum amk_alg_kind)0, "x"));
    ASSERT_AMK(AMK_EINVAL, amk_client_add_key(c, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_client_add_key_file(c, ""));
    ASSERT_AMK(AMK_EINVAL, amk_client_set_blocking(NULL, 1));
    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    ASSERT_OK(amk_client_add_key(c, k));
    /* a public key cannot sign */
    ASSERT_OK(amk_key_public_line(k, &line));
    ASSERT_OK(amk_key_load(line, strlen(line), NULL, NULL, &pub));
    ASSERT_AMK(AMK_EKEY, amk_client_add_key(c, pub));
    free(line);
    amk_key_free(pub);
    for (int i = 0; i < 15; i++)
        ASSERT_OK(amk_client_add_key_file(c, "/nonexistent"));
    ASSERT_OK(amk_client_add_key_file(c, "/nonexistent"));
    ASSERT_AMK(AMK_ELIMIT, amk_client_add_key_file(c, "/nonexistent"));
    ASSERT_AMK(AMK_EINVAL, amk_client_connect(c, "", 22, "user", NULL));
    ASSERT_AMK(AMK_EINVAL, amk_client_connect(c, "127.0.0.1", 22, NULL, NULL));
    amk_client_free(c);
    amk_key_free(k);
}

/* A host-key callback that is never reached in these tests. */
static int
never_cb(void *user, const char *host, unsigned port, const struct amk_key *key)
{
    (void)user;
    (void)host;
    (void)port;
    (void)key;
    fail_msg("the host-key callback was called");
    return AMK_EINTERNAL;
}

/*
 * AMK_HOSTKEY_CALLBACK may be set before the callback: the pair is checked
 * when connecting, which fails with AMK_EINVAL and a message before any
 * network I/O (a closed port would give AMK_ECONNECT), and works once the
 * callback is there.
 */
static void
test_amk_client_hostkey_policy_before_callback(void **state)
{
    struct peer p;
    uint16_t port;
    struct amk_client *c = new_client(1, 2000);

    (void)state;
    peer_start(&p, PEER_SILENT);
    port = p.port;
    peer_stop(&p);          /* nothing listens there now */
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_CALLBACK));
    ASSERT_AMK(AMK_EINVAL, amk_client_connect(c, "127.0.0.1", port, "user", NULL));
    assert_non_null(strstr(amk_client_last_error(c), "amk_client_set_hostkey_callback"));
    ASSERT_OK(amk_client_set_hostkey_callback(c, never_cb, NULL));
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_CALLBACK));
    ASSERT_AMK(AMK_ECONNECT, amk_client_connect(c, "127.0.0.1", port, "user", NULL));
    amk_client_free(c);
}

static void
test_amk_client_not_connected_state(void **state)
{
    struct amk_client *c = new_client(1, 1000);
    struct amk_client_channel *ch = NULL;
    char *out = NULL;
    int status = 0;

    ASSERT_AMK(AMK_ESTATE, amk_client_exec(c, "true", 0, &ch));
    assert_null(ch);
    ASSERT_AMK(AMK_ESTATE, amk_client_run(c, "true", &out, NULL, NULL, NULL, &status));
    assert_null(out);
    assert_int_equal(status, -1);
    ASSERT_AMK(AMK_ESTATE, amk_client_process(c));
    ASSERT_OK(amk_client_close(c));
    assert_int_equal(amk_client_get_fd(c), -1);
    assert_int_equal(amk_client_next_timeout(c), -1);
    assert_null(amk_client_session(c));
    assert_string_equal(amk_client_last_error(NULL), "");
    amk_client_free(c);
}

static void
test_amk_client_channel_calls_on_null(void **state)
{
    size_t got = 1;
    int status = 0;
    const char *sig = "x";

    ASSERT_AMK(AMK_EINVAL, amk_client_channel_read(NULL, &status, 1, &got));
    assert_int_equal(got, 0);
    ASSERT_AMK(AMK_EINVAL, amk_client_channel_write(NULL, "x", 1, &got));
    ASSERT_AMK(AMK_EINVAL, amk_client_channel_exit_status(NULL, &status));
    ASSERT_AMK(AMK_EINVAL, amk_client_channel_exit_signal(NULL, &sig));
    ASSERT_AMK(AMK_EINVAL, amk_client_channel_send_eof(NULL));
    ASSERT_AMK(AMK_EINVAL, amk_client_channel_close(NULL));
    ASSERT_AMK(AMK_EINVAL, amk_client_channel_ready(NULL));
    assert_int_equal(amk_client_channel_poll(NULL) & AMK_CLIENT_EV_CLOSED, AMK_CLIENT_EV_CLOSED);
    amk_client_channel_free(NULL);
}

/* --- connections that fail --------------------------------------------- */

static void
test_amk_client_connect_refused(void **state)
{
    struct peer p;
    uint16_t port;

    peer_start(&p, PEER_SILENT);
    port = p.port;
    peer_stop(&p);          /* nothing listens there now */
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_client *c = new_client(blocking, 2000);
        int r = blocking ? amk_client_connect(c, "127.0.0.1", port, "user", NULL) :
            connect_nonblocking(c, port);
        ASSERT_AMK(AMK_ECONNECT, r);
        /* failed for good */
        ASSERT_AMK(AMK_ECONNECT, amk_client_connect(c, "127.0.0.1", port, "user", NULL));
        amk_client_free(c);
    }
}

static void
test_amk_client_connect_silent_peer_times_out(void **state)
{
    struct peer p;

    peer_start(&p, PEER_SILENT);
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct amk_client *c = new_client(blocking, 300);
        int r = blocking ? amk_client_connect(c, "127.0.0.1", p.port, "user", NULL) :
            connect_nonblocking(c, p.port);
        ASSERT_AMK(AMK_ETIMEOUT, r);
        if (strstr(amk_client_last_error(c), "300 ms") == NULL)
            fail_msg("detail: %s", amk_client_last_error(c));
        amk_client_free(c);
    }
    peer_stop(&p);
}

static void
test_amk_client_connect_peer_hangs_up(void **state)
{
    for (int blocking = 1; blocking >= 0; blocking--) {
        struct peer p;
        struct amk_client *c = new_client(blocking, 5000);
        int r;

        peer_start(&p, PEER_HANGUP);
        r = blocking ? amk_client_connect(c, "127.0.0.1", p.port, "user", NULL) :
            connect_nonblocking(c, p.port);
        ASSERT_AMK(AMK_ECLOSED, r);
        amk_client_free(c);
        peer_stop(&p);
    }
}

static void
test_amk_client_connect_ssh1_peer(void **state)
{
    struct peer p;
    struct amk_client *c = new_client(1, 5000);

    peer_start(&p, PEER_SSH1);
    ASSERT_AMK(AMK_EVERSION, amk_client_connect(c, "127.0.0.1", p.port, "user", NULL));
    amk_client_free(c);
    peer_stop(&p);
}

static void
test_amk_client_connect_garbage_packet(void **state)
{
    struct peer p;
    struct amk_client *c = new_client(1, 5000);
    int r;

    peer_start(&p, PEER_GARBAGE_KEX);
    r = amk_client_connect(c, "127.0.0.1", p.port, "user", NULL);
    assert_true(r == AMK_ETOOBIG || r == AMK_EPROTO || r == AMK_EFORMAT);
    assert_true(amk_err_is_fatal(r));
    amk_client_free(c);
    peer_stop(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_client_new_null),
        cmocka_unit_test(test_amk_client_setters_reject_bad_arguments),
        cmocka_unit_test(test_amk_client_hostkey_policy_before_callback),
        cmocka_unit_test(test_amk_client_not_connected_state),
        cmocka_unit_test(test_amk_client_channel_calls_on_null),
        cmocka_unit_test(test_amk_client_connect_refused),
        cmocka_unit_test(test_amk_client_connect_silent_peer_times_out),
        cmocka_unit_test(test_amk_client_connect_peer_hangs_up),
        cmocka_unit_test(test_amk_client_connect_ssh1_peer),
        cmocka_unit_test(test_amk_client_connect_garbage_packet),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
