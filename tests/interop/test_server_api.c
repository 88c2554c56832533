/*
 * The public server API (amiko/server.h) in-process, with amiko's own
 * client as the peer over loopback TCP. The server runs in a second
 * thread with amk_server_run() (stopped from the test thread with
 * amk_server_stop()) or, in one test, driven by amk_server_get_fd() +
 * amk_server_process(0) from a poll loop.
 *
 * exec with stdout, stderr, exit codes and stdin; password,
 * keyboard-interactive (two rounds) and publickey through callbacks;
 * authorized_keys with command=, environment=, from= and expiry-time;
 * required method chains; SFTP through the subsystem with root
 * confinement and read-only; an application-handled channel; the
 * sessions-per-connection limit; the login grace time dropping a silent
 * client while another is served; sftp-only refusing exec; stop before
 * and during run; amk_server_serve_one(); the idle timeout; the held
 * failure reply of a wrong password; MaxStartups dropping unauthenticated
 * connections beyond its limit; processes of closed sessions hung up,
 * killed after the grace period and reaped without stalling the loop,
 * and reaped by amk_server_free(); the same without pidfds (pidfd_open
 * denied by a seccomp filter: waitpid is polled).
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#define WAIT_MS 15000

static struct amk_key *host_key, *user_key, *other_key;
static char tmpdir[256];
static const char *me;

/* --- The server in a thread ---------------------------------------------- */

struct srv {
    struct amk_server *s;
    pthread_t th;
    int use_process;        /* drive with get_fd + process instead of run */
    int serve_one;          /* amk_server_serve_one() once */
    int rc;
    uint16_t port;
};

static void *
srv_main(void *arg)
{
    struct srv *sv = arg;

    if (sv->serve_one) {
        sv->rc = amk_server_serve_one(sv->s);
        return NULL;
    }
    if (!sv->use_process) {
        sv->rc = amk_server_run(sv->s);
        return NULL;
    }
    for (;;) {
        struct pollfd p = { .fd = amk_server_get_fd(sv->s), .events = POLLIN };
        int r, t = amk_server_next_timeout(sv->s);

        (void)poll(&p, 1, t < 0 || t > 100 ? 100 : t);
        r = amk_server_process(sv->s, 0);
        if (r != AMK_OK) {
            sv->rc = r == AMK_ECLOSED ? AMK_OK : r;
            return NULL;
        }
    }
}

/* A server with the host key, listening on a free port (not yet running). */
static struct srv *
srv_new(void)
{
    struct srv *sv = calloc(1, sizeof(*sv));

    assert_non_null(sv);
    ASSERT_OK(amk_server_new(&sv->s));
    ASSERT_OK(amk_server_add_host_key(sv->s, host_key));
    ASSERT_OK(amk_server_set_shell(sv->s, "/bin/sh"));
    ASSERT_OK(amk_server_listen(sv->s, "127.0.0.1", 0));
    sv->port = amk_server_port(sv->s, 0);
    assert_true(sv->port != 0);
    return sv;
}

static void
srv_start(struct srv *sv)
{
    assert_int_equal(pthread_create(&sv->th, NULL, srv_main, sv), 0);
}

/* Stops from this thread (the server runs in another) and frees. */
static void
srv_stop(struct srv *sv)
{
    amk_server_stop(sv->s);
    assert_int_equal(pthread_join(sv->th, NULL), 0);
    ASSERT_OK(sv->rc);
    amk_server_free(sv->s);
    free(sv);
}

/* --- Callbacks ------------------------------------------------------------ */

static int
accept_user_key(void *user, struct amk_server_conn *conn, const char *username,
    const struct amk_key *key)
{
    (void)user;
    (void)conn;
    return strcmp(username, "alice") == 0 && amk_key_equal_public(key, user_key) ?
        AMK_SERVER_AUTH_ACCEPT : AMK_SERVER_AUTH_REJECT;
}

static int
check_password(void *user, struct amk_server_conn *conn, const char *username,
    const char *password)
{
    (void)user;
    assert_non_null(amk_server_conn_peer_address(conn));
    return strcmp(username, "bob") == 0 && amk_server_password_equal(password, "hunter2") ?
        AMK_SERVER_AUTH_ACCEPT : AMK_SERVER_AUTH_REJECT;
}

/* Two rounds: a code, then a colour. */
static int
kbdint(void *user, struct amk_server_conn *conn, const char *username, unsigned round,
    const char *const *responses, size_t n, struct amk_server_prompts *next)
{
    (void)user;
    (void)conn;
    if (round == 0) {
        next->n = 1;
        next->prompt[0] = "Code: ";
        return AMK_SERVER_AUTH_CONTINUE;
    }
    if (round == 1 && n == 1 && strcmp(responses[0], "1234") == 0) {
        next->n = 1;
        next->prompt[0] = "Colour: ";
        next->echo[0] = 1;
        return AMK_SERVER_AUTH_CONTINUE;
    }
    if (round == 2 && n == 1 && strcmp(responses[0], "blue") == 0 && strcmp(username, "carol") == 0)
        return AMK_SERVER_AUTH_ACCEPT;
    return AMK_SERVER_AUTH_REJECT;
}

static int
trust_host(void *user, const char *host, unsigned port, const struct amk_key *key)
{
    (void)user;
    (void)host;
    (void)port;
    return amk_key_equal_public(key, host_key) ? AMK_OK : AMK_EHOSTKEY_UNKNOWN;
}

static int
client_kbdint(void *user, const char *name, const char *instruction, const char *const *prompts,
    const int *echo, size_t n, char *const *answers, size_t cap)
{
    (void)user;
    (void)name;
    (void)instruction;
    (void)echo;
    for (size_t i = 0; i < n; i++)
        snprintf(answers[i], cap, "%s", strstr(prompts[i], "Code") != NULL ? "1234" : "blue");
    return AMK_OK;
}

/* --- The client ----------------------------------------------------------- */

/* Connects as @p user with @p key (may be NULL) and @p password (may be NULL). */
static int
client_connect(struct srv *sv, const char *user, struct amk_key *key, const char *password,
    struct amk_client **out)
{
    struct amk_client *c = NULL;
    int r;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_hostkey_callback(c, trust_host, NULL));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_connect_timeout(c, WAIT_MS));
    ASSERT_OK(amk_client_set_timeout(c, WAIT_MS));
    ASSERT_OK(amk_client_set_kbdint_callback(c, client_kbdint, NULL));
    if (key != NULL)
        ASSERT_OK(amk_client_add_key(c, key));
    r = amk_client_connect(c, "127.0.0.1", sv->port, user, password);
    if (r != AMK_OK) {
        amk_client_free(c);
        c = NULL;
    }
    *out = c;
    return r;
}

static void
run_cmd(struct amk_client *c, const char *cmd, const char *want_out, const char *want_err,
    int want_status)
{
    char *out = NULL, *err = NULL;
    int status = -2;

    ASSERT_OK(amk_client_run(c, cmd, &out, NULL, &err, NULL, &status));
    if (want_out != NULL)
        assert_string_equal(out, want_out);
    if (want_err != NULL)
        assert_string_equal(err, want_err);
    assert_int_equal(status, want_status);
    free(out);
    free(err);
}

static void
client_done(struct amk_client *c)
{
    (void)!amk_client_close(c);
    amk_client_free(c);
}

/* --- Tests ---------------------------------------------------------------- */

static void
test_exec_exit_codes_and_streams(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "echo out; echo err >&2; exit 3", "out\n", "err\n", 3);
    run_cmd(c, "true", "", "", 0);
    run_cmd(c, "exit 255", "", "", 255);
    run_cmd(c, "echo \"$SSH_CONNECTION\" | cut -d' ' -f1", "127.0.0.1\n", "", 0);
    client_done(c);
    /* the wrong key is refused */
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "alice", other_key, NULL, &c));
    srv_stop(sv);
}

static void
test_exec_stdin(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    struct amk_client_channel *ch = NULL;
    const size_t len = 300 * 1000;
    uint8_t *data = malloc(len), *back = malloc(len + 1);
    size_t got = 0, w;
    int status = -1;

    (void)state;
    assert_non_null(data);
    assert_non_null(back);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    ASSERT_OK(amk_client_exec(c, "cat; exit 6", 0, &ch));
    /* small pieces, reading as we go, so neither side's window fills */
    for (size_t off = 0; off < len;) {
        size_t n = len - off < 16384 ? len - off : 16384, r;
        ASSERT_OK(amk_client_channel_write(ch, data + off, n, &w));
        off += w;
        ASSERT_OK(amk_client_channel_read(ch, back + got, len + 1 - got, &r));
        got += r;
    }
    ASSERT_OK(amk_client_channel_send_eof(ch));
    for (;;) {
        size_t r = 0;
        ASSERT_OK(amk_client_channel_read(ch, back + got, len + 1 - got, &r));
        if (r == 0)
            break;
        got += r;
    }
    assert_int_equal(got, len);
    assert_memory_equal(back, data, len);
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 6);
    amk_client_channel_free(ch);
    client_done(c);
    srv_stop(sv);
    free(data);
    free(back);
}

static void
test_password_and_kbdint_callbacks(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;

    (void)state;
    ASSERT_OK(amk_server_set_password_callback(sv->s, check_password, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "bob", NULL, "hunter2", &c));
    run_cmd(c, "echo pw", "pw\n", "", 0);
    client_done(c);
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "bob", NULL, "wrong", &c));
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "mallory", NULL, "hunter2", &c));
    srv_stop(sv);

    /* keyboard-interactive with two rounds of the application's prompts */
    sv = srv_new();
    ASSERT_OK(amk_server_set_kbdint_callback(sv->s, kbdint, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "carol", NULL, NULL, &c));
    run_cmd(c, "echo kbd", "kbd\n", "", 0);
    client_done(c);
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "dave", NULL, NULL, &c));
    srv_stop(sv);
}

static void
test_auth_methods_chain(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;

    (void)state;
    ASSERT_OK(amk_server_set_password_callback(sv->s, check_password, NULL));
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_auth_methods(sv->s, "publickey,password"));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    /* alice's key alone is not enough, nor the password alone */
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "alice", user_key, NULL, &c));
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "bob", NULL, "hunter2", &c));
    srv_stop(sv);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* An authorized_keys line for @p k with @p opts in front. */
static void
ak_line(char *out, size_t cap, const char *opts, const struct amk_key *k)
{
    char *line = NULL;

    ASSERT_OK(amk_key_public_line(k, &line));
    snprintf(out, cap, "%s%s%s\n", opts, opts[0] != '\0' ? " " : "", line);
    free(line);
}

static void
test_authorized_keys_options(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    char path[512], l1[2048], l2[2048], text[4200];

    (void)state;
    snprintf(path, sizeof(path), "%s/authorized_keys", tmpdir);
    /* a forced command with an environment; the other key only from an
     * address we are not */
    ak_line(l1, sizeof(l1), "command=\"echo forced:$SSH_ORIGINAL_COMMAND:$AKVAR\","
        "environment=\"AKVAR=fromfile\",no-pty", user_key);
    ak_line(l2, sizeof(l2), "from=\"10.9.8.7\"", other_key);
    snprintf(text, sizeof(text), "# test\n%s%s", l1, l2);
    write_file(path, text);
    ASSERT_OK(amk_server_set_authorized_keys(sv->s, "alice", path));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "echo hi", "forced:echo hi:fromfile\n", "", 0);
    client_done(c);
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "alice", other_key, NULL, &c));
    /* only the configured user name */
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "bob", user_key, NULL, &c));
    /* the file is read at each attempt: an expired line no longer works */
    ak_line(l1, sizeof(l1), "expiry-time=\"20200101\"", user_key);
    write_file(path, l1);
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "alice", user_key, NULL, &c));
    ak_line(l1, sizeof(l1), "expiry-time=\"29991231\"", user_key);
    write_file(path, l1);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "echo ok", "ok\n", "", 0);
    client_done(c);
    srv_stop(sv);
}

static void
test_sftp_root_and_read_only(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    struct amk_sftp *sftp = NULL;
    struct amk_sftp_file *f = NULL;
    struct amk_sftp_attrs a;
    char root[512], path[600], buf[64], *rp = NULL;
    size_t got = 0;
    struct stat st;

    (void)state;
    snprintf(root, sizeof(root), "%s/root", tmpdir);
    assert_int_equal(mkdir(root, 0700), 0);
    snprintf(path, sizeof(path), "%s/outside", tmpdir);
    write_file(path, "secret\n");
    snprintf(path, sizeof(path), "%s/root/escape", tmpdir);
    assert_int_equal(symlink("../outside", path), 0);
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_sftp(sv->s, 1, root, 0));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    /* exec is off: only the subsystem */
    {
        char *out = NULL;
        int status;
        assert_int_not_equal(amk_client_run(c, "true", &out, NULL, NULL, NULL, &status), AMK_OK);
        free(out);
    }
    ASSERT_OK(amk_sftp_new_client(&sftp, c));
    ASSERT_OK(amk_sftp_realpath(sftp, ".", &rp));
    assert_string_equal(rp, "/");
    free(rp);
    ASSERT_OK(amk_sftp_open(sftp, "/hello.txt", AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC,
        0644, &f));
    ASSERT_OK(amk_sftp_write(f, "hello sftp\n", 11));
    ASSERT_OK(amk_sftp_close(f));
    snprintf(path, sizeof(path), "%s/hello.txt", root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 11);
    /* "..", absolute paths and a symlink out all stay inside */
    assert_int_not_equal(amk_sftp_stat(sftp, "/../outside", &a), AMK_OK);
    assert_int_not_equal(amk_sftp_stat(sftp, "../../outside", &a), AMK_OK);
    f = NULL;
    assert_int_not_equal(amk_sftp_open(sftp, "/escape", AMK_SFTP_READ, 0, &f), AMK_OK);
    assert_null(f);
    ASSERT_OK(amk_sftp_open(sftp, "/../hello.txt", AMK_SFTP_READ, 0, &f));
    ASSERT_OK(amk_sftp_read(f, buf, sizeof(buf), &got));
    assert_int_equal(got, 11);
    ASSERT_OK(amk_sftp_close(f));
    amk_sftp_free(sftp);
    client_done(c);
    srv_stop(sv);

    /* read-only */
    sv = srv_new();
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_sftp(sv->s, 1, root, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    ASSERT_OK(amk_sftp_new_client(&sftp, c));
    f = NULL;
    assert_int_not_equal(amk_sftp_open(sftp, "/new.txt", AMK_SFTP_WRITE | AMK_SFTP_CREAT, 0644,
        &f), AMK_OK);
    assert_int_not_equal(amk_sftp_remove(sftp, "/hello.txt"), AMK_OK);
    ASSERT_OK(amk_sftp_stat(sftp, "/hello.txt", &a));
    amk_sftp_free(sftp);
    client_done(c);
    srv_stop(sv);
}

/* --- An application-handled channel ------------------------------------- */

static int
session_cb(void *user, struct amk_server_conn *conn, struct amk_server_channel *ch,
    const struct amk_server_request *req)
{
    (void)user;
    (void)conn;
    if (strcmp(req->type, "exec") == 0 && strcmp(req->command, "upper") == 0)
        return AMK_SERVER_SESSION_HANDLE;
    if (strcmp(req->type, "exec") == 0 && strcmp(req->command, "forbidden") == 0)
        return AMK_SERVER_SESSION_REFUSE;
    (void)ch;
    return AMK_SERVER_SESSION_DEFAULT;
}

/* Echoes input upper-cased; at EOF says how many bytes and exits 7. */
static void
data_cb(void *user, struct amk_server_channel *ch, int stream, const uint8_t *data, size_t len)
{
    size_t *count = amk_server_channel_get_user(ch);
    char buf[256];

    (void)user;
    (void)stream;
    if (count == NULL) {
        count = calloc(1, sizeof(*count));
        amk_server_channel_set_user(ch, count);
    }
    if (len == 0) {
        int n = snprintf(buf, sizeof(buf), "bytes=%zu\n", *count);
        (void)!amk_server_channel_write(ch, 1, buf, (size_t)n);
        (void)!amk_server_channel_exit(ch, 7);
        return;
    }
    for (size_t off = 0; off < len;) {
        size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(data[off + i] >= 'a' && data[off + i] <= 'z' ? data[off + i] - 32 :
                data[off + i]);
        (void)!amk_server_channel_write(ch, 0, buf, n);
        off += n;
    }
    *count += len;
}

static void
close_cb(void *user, struct amk_server_channel *ch)
{
    (void)user;
    free(amk_server_channel_get_user(ch));
}

static void
test_app_channel_and_process_driving(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    struct amk_client_channel *ch = NULL;
    char buf[256];
    size_t got = 0, w, r;
    int status = -1;

    (void)state;
    sv->use_process = 1;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    ASSERT_OK(amk_server_set_session_callback(sv->s, session_cb, NULL));
    ASSERT_OK(amk_server_set_channel_callbacks(sv->s, data_cb, close_cb, NULL));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    ASSERT_OK(amk_client_exec(c, "upper", 0, &ch));
    ASSERT_OK(amk_client_channel_write(ch, "hello, world", 12, &w));
    assert_int_equal(w, 12);
    ASSERT_OK(amk_client_channel_send_eof(ch));
    for (;;) {
        ASSERT_OK(amk_client_channel_read(ch, buf + got, sizeof(buf) - 1 - got, &r));
        if (r == 0)
            break;
        got += r;
    }
    buf[got] = '\0';
    assert_string_equal(buf, "HELLO, WORLD");
    got = 0;
    for (;;) {
        ASSERT_OK(amk_client_channel_read_stderr(ch, buf + got, sizeof(buf) - 1 - got, &r));
        if (r == 0)
            break;
        got += r;
    }
    buf[got] = '\0';
    assert_string_equal(buf, "bytes=12\n");
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 7);
    amk_client_channel_free(ch);
    /* refused by the callback; the default still runs processes */
    ch = NULL;
    ASSERT_AMK(AMK_EREFUSED, amk_client_exec(c, "forbidden", 0, &ch));
    amk_client_channel_free(ch);
    run_cmd(c, "echo default", "default\n", "", 0);
    client_done(c);
    srv_stop(sv);
}

static void
test_max_sessions(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    struct amk_client_channel *ch[3] = { NULL, NULL, NULL };

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_MAX_SESSIONS, 2));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    ASSERT_OK(amk_client_channel_open(c, 0, &ch[0]));
    ASSERT_OK(amk_client_channel_open(c, 0, &ch[1]));
    ASSERT_AMK(AMK_EREFUSED, amk_client_channel_open(c, 0, &ch[2]));
    amk_client_channel_free(ch[2]);
    /* once one is closed, another may open */
    ASSERT_OK(amk_client_channel_close(ch[0]));
    amk_client_channel_free(ch[0]);
    ch[0] = NULL;
    {
        struct amk_client_channel *again = NULL;
        uint64_t end = (uint64_t)time(NULL) + 10;
        int r;
        /* the server frees the slot when the CLOSE round trip is done */
        while ((r = amk_client_channel_open(c, 0, &again)) == AMK_EREFUSED &&
            (uint64_t)time(NULL) < end) {
            amk_client_channel_free(again);
            again = NULL;
            usleep(20000);
        }
        ASSERT_OK(r);
        amk_client_channel_free(again);
    }
    amk_client_channel_free(ch[1]);
    client_done(c);
    srv_stop(sv);
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
test_login_grace_drops_silent_client(void **state)
{
    struct srv *sv = srv_new();
    struct sockaddr_in sa;
    struct amk_client *c;
    uint64_t start, end;
    char buf[512];
    int fd, closed = 0;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_LOGIN_GRACE_MS, 2500));
    srv_start(sv);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(sv->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    start = now_ms();
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    /* a normal client is served meanwhile */
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "echo served", "served\n", "", 0);
    end = start + WAIT_MS;
    while (!closed && now_ms() < end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(fd, buf, sizeof(buf));
        closed = n == 0 || (n < 0 && errno == ECONNRESET);
    }
    assert_true(closed);
    /* after the grace time, not long after (a loaded machine is slow) */
    assert_true(now_ms() - start >= 2400);
    assert_true(now_ms() - start < 12000);
    close(fd);
    /* the authenticated client is not subject to it */
    run_cmd(c, "echo still", "still\n", "", 0);
    client_done(c);
    srv_stop(sv);
}

static void
test_sftp_only_refuses_exec(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    struct amk_sftp *sftp = NULL;
    char *rp = NULL, *out = NULL;
    int status;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    ASSERT_OK(amk_server_set_sftp(sv->s, 1, tmpdir, 0));
    ASSERT_OK(amk_server_set_sftp_only(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    assert_int_not_equal(amk_client_run(c, "echo no", &out, NULL, NULL, NULL, &status), AMK_OK);
    free(out);
    ASSERT_OK(amk_sftp_new_client(&sftp, c));
    ASSERT_OK(amk_sftp_realpath(sftp, ".", &rp));
    assert_string_equal(rp, "/");
    free(rp);
    amk_sftp_free(sftp);
    client_done(c);
    srv_stop(sv);
}

static void
test_stop_before_and_during_run(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;

    (void)state;
    /* a stop asked before run makes run return at once */
    amk_server_stop(sv->s);
    ASSERT_OK(amk_server_run(sv->s));
    /* a stop with a connection open closes it */
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "true", "", "", 0);
    srv_stop(sv);
    {
        char *out = NULL;
        int status;
        assert_int_not_equal(amk_client_run(c, "true", &out, NULL, NULL, NULL, &status), AMK_OK);
        free(out);
    }
    amk_client_free(c);
}

static void
test_serve_one(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;

    (void)state;
    sv->serve_one = 1;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "echo one", "one\n", "", 0);
    client_done(c);
    /* serve_one returns by itself once its connection ended */
    assert_int_equal(pthread_join(sv->th, NULL), 0);
    ASSERT_OK(sv->rc);
    assert_int_equal(amk_server_connections(sv->s, NULL), 0);
    amk_server_free(sv->s);
    free(sv);
}

static void
test_idle_timeout_and_failure_delay(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    char *out = NULL;
    uint64_t t0;
    int status;

    (void)state;
    ASSERT_OK(amk_server_set_password_callback(sv->s, check_password, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_IDLE_TIMEOUT_MS, 3000));
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_AUTH_FAILURE_DELAY_MS, 300));
    assert_int_equal(amk_server_get_limit(sv->s, AMK_SERVER_IDLE_TIMEOUT_MS), 3000);
    srv_start(sv);
    /* a wrong password is answered no sooner than the delay */
    t0 = now_ms();
    ASSERT_AMK(AMK_EAUTH, client_connect(sv, "bob", NULL, "wrong", &c));
    assert_true(now_ms() - t0 >= 300);
    ASSERT_OK(client_connect(sv, "bob", NULL, "hunter2", &c));
    run_cmd(c, "echo busy", "busy\n", "", 0);
    usleep(4500 * 1000);
    /* idle for longer than the timeout: the server hung up */
    assert_int_not_equal(amk_client_run(c, "true", &out, NULL, NULL, NULL, &status), AMK_OK);
    free(out);
    amk_client_free(c);
    srv_stop(sv);
}

/* A raw TCP connection to the server. */
static int
raw_connect(struct srv *sv)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(sv->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* 1 when the server greeted (sent its version line), 0 when it closed. */
static int
raw_greeted(int fd)
{
    char buf[256];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t n;

    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    n = read(fd, buf, sizeof(buf));
    return n >= 4 && memcmp(buf, "SSH-", 4) == 0;
}

static void
test_max_startups_drops_unauthenticated(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *c;
    int a, b, d;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    /* MaxStartups 2:100:2: two unauthenticated connections at most */
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_MAX_STARTUPS_FULL, 2));
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_MAX_STARTUPS_START, 2));
    srv_start(sv);
    a = raw_connect(sv);
    assert_true(raw_greeted(a));
    b = raw_connect(sv);
    assert_true(raw_greeted(b));
    d = raw_connect(sv);
    assert_false(raw_greeted(d));   /* closed at once */
    close(d);
    /* once one of the silent ones is gone, a real client gets in */
    close(a);
    usleep(200 * 1000);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &c));
    run_cmd(c, "echo in", "in\n", "", 0);
    /* authenticated connections do not count: another silent one fits */
    d = raw_connect(sv);
    assert_true(raw_greeted(d));
    close(d);
    close(b);
    client_done(c);
    srv_stop(sv);
}

/* --- Processes of closed sessions ---------------------------------------- */

/* Commands that print their pid (their process group) and sleep; the
 * second ignores SIGHUP (sleep inherits that across exec). */
#define SLEEPER "echo $$; exec sleep 30"
#define HUP_PROOF_SLEEPER "trap '' HUP; echo $$; exec sleep 30"

/* Starts @p cmd on a new channel of @p c and reads the pid it prints. */
static pid_t
start_sleeper(struct amk_client *c, const char *cmd, struct amk_client_channel **ch)
{
    char line[32];
    size_t got = 0, r;
    long pid;

    *ch = NULL;
    ASSERT_OK(amk_client_exec(c, cmd, 0, ch));
    while (got == 0 || line[got - 1] != '\n') {
        assert_true(got < sizeof(line) - 1);
        ASSERT_OK(amk_client_channel_read(*ch, line + got, sizeof(line) - 1 - got, &r));
        assert_true(r > 0);
        got += r;
    }
    line[got] = '\0';
    pid = strtol(line, NULL, 10);
    assert_true(pid > 1);
    /* running, and (the server runs in this process) our child */
    assert_int_equal(kill((pid_t)pid, 0), 0);
    return (pid_t)pid;
}

/* 1 when @p pid no longer exists (reaped: a zombie would still answer
 * kill 0), waiting up to @p ms. */
static int
gone_within(pid_t pid, uint64_t ms)
{
    uint64_t end = now_ms() + ms;

    for (;;) {
        if (kill(pid, 0) < 0 && errno == ESRCH)
            return 1;
        if (now_ms() >= end)
            return 0;
        usleep(20 * 1000);
    }
}

/* An exec round trip of @p c, ms. Not a speed test: the bound callers
 * put on it is far above any normal time, and is broken only when the
 * server's loop sits waiting for a process. */
static uint64_t
round_trip_ms(struct amk_client *c)
{
    uint64_t t0 = now_ms();

    run_cmd(c, "echo hi", "hi\n", "", 0);
    return now_ms() - t0;
}

static void
test_closed_channel_child_reaped_without_blocking(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *a, *b;
    struct amk_client_channel *ch;
    pid_t pid;
    uint64_t rt;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &a));
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &b));
    pid = start_sleeper(a, SLEEPER, &ch);
    /* the client closes the channel while the command runs */
    ASSERT_OK(amk_client_channel_close(ch));
    amk_client_channel_free(ch);
    usleep(100 * 1000);
    rt = round_trip_ms(b);
    assert_true(rt < 2000);
    /* SIGHUP ended it, and the server reaped it: no zombie */
    assert_true(gone_within(pid, 5000));
    /* the connection itself goes on */
    run_cmd(a, "echo still", "still\n", "", 0);
    client_done(a);
    client_done(b);
    srv_stop(sv);
}

/*
 * Processes that ignore SIGHUP, their connection closed: the other
 * client is served at once (sixty waits of even 50 ms each, in the loop,
 * would hold it up for 3 s), and each process is SIGKILLed after the
 * grace period and reaped.
 */
static void
test_hup_ignoring_children_killed_without_blocking(void **state)
{
    enum { N = 60 };
    struct srv *sv = srv_new();
    struct amk_client *a, *b;
    struct amk_client_channel *ch[N];
    pid_t pid[N];
    uint64_t closed_at, rt;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    ASSERT_OK(amk_server_set_limit(sv->s, AMK_SERVER_MAX_SESSIONS, N));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &a));
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &b));
    for (int i = 0; i < N; i++)
        pid[i] = start_sleeper(a, HUP_PROOF_SLEEPER, &ch[i]);
    for (int i = 0; i < N; i++)
        amk_client_channel_free(ch[i]);
    client_done(a);
    closed_at = now_ms();
    usleep(100 * 1000);
    rt = round_trip_ms(b);
    assert_true(rt < 2000);
    /* well within the 1 s grace they still run: SIGHUP is not enough and
     * SIGKILL waits for the deadline (checked only when this machine
     * was quick enough to tell) */
    if (now_ms() - closed_at < 500) {
        for (int i = 0; i < N; i++)
            assert_int_equal(kill(pid[i], 0), 0);
    }
    for (int i = 0; i < N; i++)
        assert_true(gone_within(pid[i], 10000));
    /* sleep 30 would still be sleeping: SIGKILL ended them */
    assert_true(now_ms() - closed_at < 20000);
    client_done(b);
    srv_stop(sv);
}

/* amk_server_free() ends and reaps what still runs, in bounded time. */
static void
test_server_free_reaps_children(void **state)
{
    struct srv *sv = srv_new();
    struct amk_client *a;
    struct amk_client_channel *ch[2];
    pid_t pid[2];
    uint64_t t0;

    (void)state;
    ASSERT_OK(amk_server_set_publickey_callback(sv->s, accept_user_key, NULL));
    ASSERT_OK(amk_server_set_exec(sv->s, 1));
    srv_start(sv);
    ASSERT_OK(client_connect(sv, "alice", user_key, NULL, &a));
    pid[0] = start_sleeper(a, SLEEPER, &ch[0]);
    pid[1] = start_sleeper(a, HUP_PROOF_SLEEPER, &ch[1]);
    t0 = now_ms();
    srv_stop(sv);
    assert_true(now_ms() - t0 < 10000);
    /* already reaped when free returned */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(kill(pid[i], 0), -1);
        assert_int_equal(errno, ESRCH);
    }
    amk_client_channel_free(ch[0]);
    amk_client_channel_free(ch[1]);
    amk_client_free(a);
}

/* --- Without pidfds ------------------------------------------------------- */

/* Makes pidfd_open fail with ENOSYS in this process and the threads it
 * starts after (as an older kernel, a seccomp sandbox or valgrind does). */
static int
deny_pidfd_open(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return -1;
    return syscall(SYS_pidfd_open, getpid(), 0) == -1 && errno == ENOSYS ? 0 : -1;
}

/* The scenario of the child process below, without cmocka (a failed
 * assertion must not go on with the parent's other tests): its exit
 * code says which step failed. */
static int
no_pidfd_scenario(void)
{
    struct srv sv;
    struct amk_client *c = NULL;
    struct amk_client_channel *ch = NULL;
    char *out = NULL, line[32];
    size_t got = 0, r;
    int status = -1, rc = 0;
    pid_t pid;

    if (deny_pidfd_open() != 0)
        return 2;
    memset(&sv, 0, sizeof(sv));
    if (amk_server_new(&sv.s) != AMK_OK || amk_server_add_host_key(sv.s, host_key) != AMK_OK ||
        amk_server_set_shell(sv.s, "/bin/sh") != AMK_OK ||
        amk_server_listen(sv.s, "127.0.0.1", 0) != AMK_OK ||
        amk_server_set_publickey_callback(sv.s, accept_user_key, NULL) != AMK_OK ||
        amk_server_set_exec(sv.s, 1) != AMK_OK)
        return 3;
    sv.port = amk_server_port(sv.s, 0);
    if (pthread_create(&sv.th, NULL, srv_main, &sv) != 0)
        return 4;
    if (amk_client_new(&c) != AMK_OK || amk_client_set_hostkey_callback(c, trust_host, NULL) ||
        amk_client_set_allow_default_keys(c, 0) || amk_client_set_timeout(c, WAIT_MS) ||
        amk_client_set_connect_timeout(c, WAIT_MS) || amk_client_add_key(c, user_key) ||
        amk_client_connect(c, "127.0.0.1", sv.port, "alice", NULL) != AMK_OK) {
        rc = 5;
        goto out;
    }
    /* the exit status still arrives: found by polling waitpid */
    if (amk_client_run(c, "echo out; exit 3", &out, NULL, NULL, NULL, &status) != AMK_OK ||
        out == NULL || strcmp(out, "out\n") != 0 || status != 3) {
        rc = 6;
        goto out;
    }
    /* a process whose channel closes is still hung up and reaped */
    if (amk_client_exec(c, SLEEPER, 0, &ch) != AMK_OK) {
        rc = 7;
        goto out;
    }
    while (got == 0 || line[got - 1] != '\n') {
        if (got >= sizeof(line) - 1 ||
            amk_client_channel_read(ch, line + got, sizeof(line) - 1 - got, &r) != AMK_OK ||
            r == 0) {
            rc = 8;
            goto out;
        }
        got += r;
    }
    line[got] = '\0';
    pid = (pid_t)strtol(line, NULL, 10);
    if (pid <= 1 || amk_client_channel_close(ch) != AMK_OK) {
        rc = 9;
        goto out;
    }
    if (!gone_within(pid, 5000)) {
        rc = 10;
        goto out;
    }
    free(out);
    out = NULL;
    if (amk_client_run(c, "echo still", &out, NULL, NULL, NULL, &status) != AMK_OK ||
        out == NULL || strcmp(out, "still\n") != 0 || status != 0)
        rc = 11;
out:
    free(out);
    amk_client_channel_free(ch);
    if (c != NULL) {
        (void)!amk_client_close(c);
        amk_client_free(c);
    }
    amk_server_stop(sv.s);
    if (pthread_join(sv.th, NULL) != 0 && rc == 0)
        rc = 12;
    amk_server_free(sv.s);
    return rc;
}

/*
 * Where pidfd_open is missing or forbidden, the server still runs
 * commands: it learns of their exit by polling waitpid (exit status
 * delivered) and still hangs up and reaps those of closed channels.
 * In a child process, whose seccomp filter makes pidfd_open fail.
 */
static void
test_exec_without_pidfd(void **state)
{
    pid_t pid;
    int st = 0;
    uint64_t end;

    (void)state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(no_pidfd_scenario());
    end = now_ms() + 60000;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (now_ms() > end) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, &st, 0);
            fail_msg("the scenario without pidfds did not end within 60 s");
        }
        usleep(20 * 1000);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the scenario without pidfds failed: %s %d (see no_pidfd_scenario)",
            WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static int
group_setup(void **state)
{
    struct passwd *pw = getpwuid(geteuid());

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/amk-srvapi.XXXXXX",
        getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL || pw == NULL)
        return -1;
    me = pw->pw_name;
    if (amk_key_create(AMK_KEY_ED25519, 0, &host_key) != AMK_OK
        || amk_key_create(AMK_KEY_ED25519, 0, &user_key) != AMK_OK
        || amk_key_create(AMK_KEY_ECDSA_P256, 0, &other_key) != AMK_OK)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    char cmd[300];

    (void)state;
    amk_key_free(host_key);
    amk_key_free(user_key);
    amk_key_free(other_key);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_exit_codes_and_streams),
        cmocka_unit_test(test_exec_without_pidfd),
        cmocka_unit_test(test_exec_stdin),
        cmocka_unit_test(test_password_and_kbdint_callbacks),
        cmocka_unit_test(test_auth_methods_chain),
        cmocka_unit_test(test_authorized_keys_options),
        cmocka_unit_test(test_sftp_root_and_read_only),
        cmocka_unit_test(test_app_channel_and_process_driving),
        cmocka_unit_test(test_max_sessions),
        cmocka_unit_test(test_login_grace_drops_silent_client),
        cmocka_unit_test(test_sftp_only_refuses_exec),
        cmocka_unit_test(test_stop_before_and_during_run),
        cmocka_unit_test(test_serve_one),
        cmocka_unit_test(test_idle_timeout_and_failure_delay),
        cmocka_unit_test(test_max_startups_drops_unauthenticated),
        cmocka_unit_test(test_closed_channel_child_reaped_without_blocking),
        cmocka_unit_test(test_hup_ignoring_children_killed_without_blocking),
        cmocka_unit_test(test_server_free_reaps_children),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("server api", tests, group_setup, group_teardown);
}
