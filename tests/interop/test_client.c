/*
 * Interop: the high-level client (amiko/client.h) against a real OpenSSH
 * sshd: publickey with Ed25519, ECDSA and RSA key files; exec with
 * stdout, stderr and exit status; a death by signal; a pty shell; 100 MB
 * each way checked by SHA-256 on both ends; 20 channels at once on one connection;
 * host-key policies (unknown refused, auto-add written to known_hosts as
 * ssh-keygen -F finds it, a changed key refused naming the line); and 200
 * sessions driven at once, non-blocking, from this one thread.
 */
#include "test_helper.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "sshd_fixture.h"

#define BIG ((size_t)100 * 1000 * 1000)
#define N_CHANNELS 20
#define N_SESSIONS 200

static struct sshd_fixture fx;

/* A blocking client that trusts the fixture's known_hosts and uses @p key_file. */
static struct amk_client *
client_with(const char *key_file)
{
    struct amk_client *c = NULL;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_load_host_keys(c, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_connect_timeout(c, 20000));
    ASSERT_OK(amk_client_set_timeout(c, 60000));
    if (key_file != NULL)
        ASSERT_OK(amk_client_add_key_file(c, key_file));
    return c;
}

static struct amk_client *
connected(void)
{
    struct amk_client *c = client_with(fx.user_key);
    int r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL);

    if (r != AMK_OK)
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    return c;
}

static void
hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* --- authentication -------------------------------------------------- */

static void
auth_with_generated_key(const char *type, const char *bits)
{
    char path[FIXTURE_PATH_MAX], pub[FIXTURE_PATH_MAX + 8], line[4096], name[64];
    char *argv[12];
    struct amk_client *c;
    char *out = NULL;
    size_t len = 0;
    int n = 0, status = -1;
    FILE *f;

    snprintf(name, sizeof(name), "id_client_%s%s", type, bits != NULL ? bits : "");
    sshd_fixture_path(&fx, name, path, sizeof(path));
    argv[n++] = (char *)SSH_KEYGEN_PATH;
    argv[n++] = (char *)"-q";
    argv[n++] = (char *)"-t";
    argv[n++] = (char *)type;
    if (bits != NULL) {
        argv[n++] = (char *)"-b";
        argv[n++] = (char *)bits;
    }
    argv[n++] = (char *)"-N";
    argv[n++] = (char *)"";
    argv[n++] = (char *)"-f";
    argv[n++] = path;
    argv[n] = NULL;
    assert_int_equal(fixture_run(argv, NULL, FIXTURE_WAIT_MS), 0);
    snprintf(pub, sizeof(pub), "%s.pub", path);
    assert_non_null(f = fopen(pub, "r"));
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    line[strcspn(line, "\n")] = '\0';

    /* not authorized yet: refused with AMK_EAUTH */
    c = client_with(path);
    ASSERT_AMK(AMK_EAUTH, amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    assert_non_null(strstr(amk_client_last_error(c), path));
    amk_client_free(c);

    assert_int_equal(sshd_fixture_authorize(&fx, line), 0);
    c = client_with(path);
    ASSERT_OK(amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    ASSERT_OK(amk_client_run(c, "echo key-ok", &out, &len, NULL, NULL, &status));
    assert_string_equal(out, "key-ok\n");
    assert_int_equal(len, 7);
    assert_int_equal(status, 0);
    free(out);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
}

static void
test_client_publickey_ed25519(void **state)
{
    auth_with_generated_key("ed25519", NULL);
}

static void
test_client_publickey_ecdsa(void **state)
{
    auth_with_generated_key("ecdsa", "384");
}

static void
test_client_publickey_rsa(void **state)
{
    auth_with_generated_key("rsa", "2048");
}

static void
test_client_no_key_fails_auth(void **state)
{
    struct amk_client *c = client_with(NULL);

    ASSERT_AMK(AMK_EAUTH, amk_client_connect(c, "127.0.0.1", fx.port, fx.user, "not-a-password"));
    /* the failure is final */
    ASSERT_AMK(AMK_EAUTH, amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    amk_client_free(c);
}

/* sshd hangs up mid-authentication (MaxAuthTries): a clear error, no hang. */
static void
test_client_server_disconnects_mid_auth(void **state)
{
    struct amk_key *keys[4] = { NULL };
    struct amk_client *c;
    int r;

    sshd_fixture_stop(&fx);
    assert_int_equal(sshd_fixture_start(&fx, "MaxAuthTries 2"), 0);
    c = client_with(NULL);    /* known_hosts is written per port */
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &keys[i]));
        ASSERT_OK(amk_client_add_key(c, keys[i]));
    }
    r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL);
    if (r != AMK_EDISCONNECT && r != AMK_ECLOSED)
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    assert_true(amk_client_last_error(c)[0] != '\0');
    amk_client_free(c);
    for (int i = 0; i < 4; i++)
        amk_key_free(keys[i]);
    sshd_fixture_stop(&fx);
    assert_int_equal(sshd_fixture_start(&fx, NULL), 0);
}

/* --- exec ------------------------------------------------------------ */

static void
test_client_run_stdout_stderr_status(void **state)
{
    struct amk_client *c = connected();
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0;
    int status = -1;

    ASSERT_OK(amk_client_run(c, "echo to-out; echo to-err >&2; exit 42", &out, &outlen, &err,
        &errlen, &status));
    assert_string_equal(out, "to-out\n");
    assert_string_equal(err, "to-err\n");
    assert_int_equal(status, 42);
    free(out);
    free(err);
    ASSERT_OK(amk_client_run(c, "true", &out, &outlen, NULL, NULL, &status));
    assert_int_equal(outlen, 0);
    assert_string_equal(out, "");
    assert_int_equal(status, 0);
    free(out);
    /* killed by a signal: 128 + SIGTERM, and the signal's name on the channel */
    ASSERT_OK(amk_client_run(c, "kill -TERM $$", NULL, NULL, NULL, NULL, &status));
    assert_int_equal(status, 128 + 15);
    amk_client_free(c);
}

static void
test_client_exec_channel_streams(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch = NULL;
    const char *sig = NULL;
    char buf[256];
    size_t got = 0, n = 0, w = 0;
    int r;
    int status = -1;

    /* stdin echoed by cat, stderr apart */
    ASSERT_OK(amk_client_exec(c, "cat; echo done >&2; exit 7", 0, &ch));
    ASSERT_OK(amk_client_channel_write(ch, "hello\n", 6, &w));
    assert_int_equal(w, 6);
    ASSERT_OK(amk_client_channel_send_eof(ch));
    while (amk_client_channel_read(ch, buf + n, sizeof(buf) - n - 1, &got) == AMK_OK && got > 0)
        n += got;
    buf[n] = '\0';
    assert_string_equal(buf, "hello\n");
    ASSERT_OK(amk_client_channel_read_stderr(ch, buf, sizeof(buf) - 1, &got));
    buf[got] = '\0';
    assert_string_equal(buf, "done\n");
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 7);
    ASSERT_OK(amk_client_channel_close(ch));
    amk_client_channel_free(ch);

    /* merged stderr: both in stdout */
    ASSERT_OK(amk_client_exec(c, "echo a; sleep 0.1; echo b >&2", AMK_CLIENT_MERGE_STDERR, &ch));
    n = 0;
    while ((r = amk_client_channel_read(ch, buf + n, sizeof(buf) - n - 1, &got)) == AMK_OK &&
        got > 0)
        n += got;
    if (r != AMK_OK)
        fail_msg("merged read: %s: %s", amk_errname(r), amk_client_channel_last_error(ch));
    buf[n] = '\0';
    assert_string_equal(buf, "a\nb\n");
    ASSERT_OK(amk_client_channel_read_stderr(ch, buf, sizeof(buf), &got));
    assert_int_equal(got, 0);
    amk_client_channel_free(ch);

    /* a command that dies of a signal: exit-signal, no exit-status (RFC 4254 §6.10) */
    ASSERT_OK(amk_client_exec(c, "kill -KILL $$", 0, &ch));
    ASSERT_OK(amk_client_channel_exit_signal(ch, &sig));
    assert_string_equal(sig, "KILL");
    ASSERT_AMK(AMK_ECLOSED, amk_client_channel_exit_status(ch, &status));
    amk_client_channel_free(ch);

    /* a subsystem the server lacks is refused, the connection lives on */
    ASSERT_OK(amk_client_channel_open(c, 0, &ch));
    ASSERT_AMK(AMK_EREFUSED, amk_client_channel_subsystem(ch, "no-such-subsystem"));
    ASSERT_AMK(AMK_EREFUSED, amk_client_channel_read(ch, buf, sizeof(buf), &got));
    amk_client_channel_free(ch);
    ASSERT_OK(amk_client_run(c, "exit 3", NULL, NULL, NULL, NULL, &status));
    assert_int_equal(status, 3);
    amk_client_free(c);
}

/* A shell on a pty, driven by the test: typed input echoed, exit status back. */
static void
test_client_pty_shell(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch = NULL;
    const char *cmd = "stty -echo; echo pty-$((40+2)) $(tty | cut -c1-8); exit 5\n";
    char *buf = calloc(1, 65536);
    size_t n = 0, got = 0, w = 0;
    int status = -1;

    assert_non_null(buf);
    ASSERT_OK(amk_client_shell(c, "dumb", 100, 30, &ch));
    ASSERT_OK(amk_client_channel_window_change(ch, 120, 40));
    ASSERT_OK(amk_client_channel_write(ch, cmd, strlen(cmd), &w));
    while (n < 65535 && amk_client_channel_read(ch, buf + n, 65535 - n, &got) == AMK_OK &&
        got > 0)
        n += got;
    buf[n] = '\0';
    if (strstr(buf, "pty-42 /dev/pts") == NULL)
        fail_msg("shell output lacks the pty line: %s", buf);
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 5);
    free(buf);
    amk_client_channel_free(ch);
    amk_client_free(c);
}

/* 100 MB from the server: hashed here, compared with sha256sum there. */
static void
test_client_100mb_output(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch = NULL;
    struct amk_hash_ctx *h = NULL;
    uint8_t md[32];
    char want[65], remote[256], *buf = malloc(256 * 1024);
    size_t got = 0, total = 0, rn = 0;
    char cmd[256];

    assert_non_null(buf);
    /* tee copies the data to fd 3 (the channel's stdout) and pipes it to sha256sum */
    snprintf(cmd, sizeof(cmd), "exec 3>&1; head -c %zu /dev/urandom | tee /dev/fd/3 | "
        "sha256sum >&2", BIG);
    ASSERT_OK(amk_client_exec(c, cmd, 0, &ch));
    ASSERT_OK(amk_hash_new(&h, AMK_HASH_SHA256));
    for (;;) {
        ASSERT_OK(amk_client_channel_read(ch, buf, 256 * 1024, &got));
        if (got == 0)
            break;
        ASSERT_OK(amk_hash_update(h, buf, got));
        total += got;
    }
    assert_int_equal(total, BIG);
    ASSERT_OK(amk_hash_final(h, md));
    hex(md, 32, want);
    while (amk_client_channel_read_stderr(ch, remote + rn, sizeof(remote) - rn - 1, &got) ==
        AMK_OK && got > 0)
        rn += got;
    remote[rn] = '\0';
    assert_true(rn >= 64);
    remote[64] = '\0';
    assert_string_equal(remote, want);
    amk_hash_free(h);
    free(buf);
    amk_client_channel_free(ch);
    amk_client_free(c);
}

/* 100 MB to the server: its sha256sum must equal ours. */
static void
test_client_100mb_input(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch = NULL;
    struct amk_hash_ctx *h = NULL;
    uint8_t md[32], *chunk = malloc(1 << 20);
    char want[65], out[256];
    size_t w = 0, got = 0, n = 0;
    int status = -1;

    assert_non_null(chunk);
    for (size_t i = 0; i < (1 << 20); i++)
        chunk[i] = (uint8_t)(i * 7 + (i >> 9));
    ASSERT_OK(amk_hash_new(&h, AMK_HASH_SHA256));
    ASSERT_OK(amk_client_exec(c, "sha256sum", 0, &ch));
    for (size_t sent = 0; sent < BIG; sent += w) {
        size_t len = BIG - sent < (1 << 20) ? BIG - sent : (1 << 20);
        chunk[0] = (uint8_t)(sent >> 20);   /* every MB differs */
        ASSERT_OK(amk_client_channel_write(ch, chunk, len, &w));
        assert_int_equal(w, len);
        ASSERT_OK(amk_hash_update(h, chunk, len));
    }
    ASSERT_OK(amk_client_channel_send_eof(ch));
    while (amk_client_channel_read(ch, out + n, sizeof(out) - n - 1, &got) == AMK_OK && got > 0)
        n += got;
    out[n] = '\0';
    ASSERT_OK(amk_hash_final(h, md));
    hex(md, 32, want);
    assert_true(n >= 64);
    out[64] = '\0';
    assert_string_equal(out, want);
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 0);
    amk_hash_free(h);
    free(chunk);
    amk_client_channel_free(ch);
    amk_client_free(c);
}

/*
 * 20 commands at once on one connection: all are started before any gets
 * input; each echoes its own line; they are finished in reverse order
 * while the others' output waits in their buffers.
 */
static void
test_client_20_channels_at_once(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch[N_CHANNELS];
    char cmd[64], buf[64], want[32];

    for (int i = 0; i < N_CHANNELS; i++) {
        snprintf(cmd, sizeof(cmd), "cat; exit %d", i);
        ASSERT_OK(amk_client_exec(c, cmd, 0, &ch[i]));
    }
    for (int i = 0; i < N_CHANNELS; i++) {
        size_t w = 0;
        snprintf(buf, sizeof(buf), "line of channel %d\n", i);
        ASSERT_OK(amk_client_channel_write(ch[i], buf, strlen(buf), &w));
        ASSERT_OK(amk_client_channel_send_eof(ch[i]));
    }
    for (int i = N_CHANNELS - 1; i >= 0; i--) {
        size_t n = 0, got = 0;
        int status = -1;
        while (amk_client_channel_read(ch[i], buf + n, sizeof(buf) - n - 1, &got) == AMK_OK &&
            got > 0)
            n += got;
        buf[n] = '\0';
        snprintf(want, sizeof(want), "line of channel %d\n", i);
        assert_string_equal(buf, want);
        ASSERT_OK(amk_client_channel_exit_status(ch[i], &status));
        assert_int_equal(status, i);
    }
    for (int i = 0; i < N_CHANNELS; i++)
        amk_client_channel_free(ch[i]);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
}

/* Non-blocking: 10 channels on one connection, one poll loop, every status collected. */
static void
test_client_nonblocking_channels_one_connection(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch[10];
    char out[10][32], cmd[64];
    size_t len[10];
    int status[10], done = 0;
    time_t start = time(NULL);

    ASSERT_OK(amk_client_set_blocking(c, 0));
    for (int i = 0; i < 10; i++) {
        snprintf(cmd, sizeof(cmd), "echo nb%d; exit %d", i, 20 + i);
        /* returns at once: the open and the exec are queued */
        ASSERT_OK(amk_client_exec(c, cmd, 0, &ch[i]));
        len[i] = 0;
        status[i] = -1;
    }
    while (done < 10) {
        struct pollfd pfd;
        int dirs;

        assert_true(time(NULL) - start < 30);
        for (int i = 0; i < 10; i++) {
            size_t got = 0;
            int r;
            if (status[i] >= 0)
                continue;
            while ((r = amk_client_channel_read(ch[i], out[i] + len[i],
                sizeof(out[i]) - len[i] - 1, &got)) == AMK_OK && got > 0)
                len[i] += got;
            if (r != AMK_OK && r != AMK_EAGAIN)
                fail_msg("channel %d: %s", i, amk_errname(r));
            if (r == AMK_OK && got == 0) {
                r = amk_client_channel_exit_status(ch[i], &status[i]);
                if (r == AMK_OK)
                    done++;
                else if (r != AMK_EAGAIN)
                    fail_msg("channel %d: exit status: %s", i, amk_errname(r));
            }
        }
        dirs = amk_client_block_directions(c);
        pfd.fd = amk_client_get_fd(c);
        pfd.events = (short)(POLLIN | ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0));
        if (done < 10)
            assert_true(poll(&pfd, 1, 200) >= 0);
    }
    for (int i = 0; i < 10; i++) {
        char want[32];
        out[i][len[i]] = '\0';
        snprintf(want, sizeof(want), "nb%d\n", i);
        assert_string_equal(out[i], want);
        assert_int_equal(status[i], 20 + i);
        amk_client_channel_free(ch[i]);
    }
    while (amk_client_close(c) == AMK_EAGAIN) {
        struct pollfd pfd = { .fd = amk_client_get_fd(c), .events = POLLOUT };
        assert_true(poll(&pfd, 1, 1000) >= 0);
    }
    amk_client_free(c);
}

/* Waits, without calling the library, until @p fd has bytes to read and
 * their count stayed the same for 200 ms (at most 10 s): the server has
 * sent what it had. */
static void
wait_socket_settles(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int last = -1, now = 0;

    assert_true(poll(&pfd, 1, 10000) == 1);
    for (int i = 0; i < 50; i++) {
        usleep(200 * 1000);
        assert_int_equal(ioctl(fd, FIONREAD, &now), 0);
        if (now > 0 && now == last)
            return;
        last = now;
    }
    fail_msg("the server's output did not settle in 10 s");
}

/*
 * Non-blocking: a read of one stream can take in the other's data and the
 * channel's end, after which nothing is left on the socket to wake a poll.
 * amk_client_next_timeout() must then say 0 (pass again) rather than "no
 * limit", or a loop that reads stdout, then stderr, then polls waits
 * forever with stdout's output in hand (amiko ssh did, once, in CI).
 */
static void
test_client_nonblocking_read_takes_in_other_stream(void **state)
{
    struct amk_client *c = connected();
    struct amk_client_channel *ch = NULL;
    char buf[64];
    size_t got = 0;
    int status = -1, r;

    /* the output comes later than the exec's answer */
    ASSERT_OK(amk_client_exec(c, "sleep 0.3; echo out; echo err >&2; exit 7", 0, &ch));
    ASSERT_OK(amk_client_set_blocking(c, 0));
    assert_int_equal(amk_client_channel_read(ch, buf, sizeof(buf), &got), AMK_EAGAIN);
    (void)amk_client_next_timeout(c);       /* the 0 owed for what the exec took in */
    /* everything is on the socket now; only stderr is read */
    wait_socket_settles(amk_client_get_fd(c));
    r = amk_client_channel_read_stderr(ch, buf, sizeof(buf), &got);
    assert_int_equal(r, AMK_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "err\n", 4);
    ASSERT_OK(amk_client_channel_read_stderr(ch, buf, sizeof(buf), &got));
    assert_int_equal(got, 0);
    /* stdout's line and the channel's end were taken in by those reads */
    assert_int_equal(amk_client_next_timeout(c), 0);
    assert_int_equal(amk_client_channel_poll(ch) & AMK_CLIENT_EV_STDOUT, AMK_CLIENT_EV_STDOUT);
    ASSERT_OK(amk_client_channel_read(ch, buf, sizeof(buf), &got));
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "out\n", 4);
    ASSERT_OK(amk_client_channel_read(ch, buf, sizeof(buf), &got));
    assert_int_equal(got, 0);
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 7);
    /* said once: with nothing new taken in, the next timer (rekey) */
    assert_true(amk_client_next_timeout(c) > 1000);
    amk_client_channel_free(ch);
    amk_client_free(c);
}

/* --- host keys --------------------------------------------------------- */

static void
test_client_unknown_host_refused_by_default(void **state)
{
    struct amk_client *c = NULL;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    assert_non_null(strstr(amk_client_last_error(c), "not known"));
    amk_client_free(c);

    /* the warn policy accepts it */
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_WARN));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    ASSERT_OK(amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    amk_client_free(c);
}

static int
refuse_cb(void *user, const char *host, unsigned port, const struct amk_key *key)
{
    int *calls = user;

    (*calls)++;
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, fx.port);
    assert_non_null(key);
    return AMK_EHOSTKEY_REJECTED;
}

static void
test_client_hostkey_callback_refuses(void **state)
{
    struct amk_client *c = NULL;
    int calls = 0;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_hostkey_callback(c, refuse_cb, &calls));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    assert_int_equal(calls, 1);
    amk_client_free(c);
}

static void
test_client_auto_add_writes_known_hosts(void **state)
{
    char kh[FIXTURE_PATH_MAX], out[FIXTURE_PATH_MAX], host[64];
    char *argv[8];
    struct amk_client *c = NULL;
    int status = -1;

    sshd_fixture_path(&fx, "autoadd_known_hosts", kh, sizeof(kh));
    sshd_fixture_path(&fx, "keygen_f.out", out, sizeof(out));
    unlink(kh);
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    ASSERT_OK(amk_client_load_host_keys(c, kh));
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_AUTO_ADD));
    ASSERT_OK(amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    ASSERT_OK(amk_client_run(c, "exit 5", NULL, NULL, NULL, NULL, &status));
    assert_int_equal(status, 5);
    amk_client_free(c);

    snprintf(host, sizeof(host), "[127.0.0.1]:%u", (unsigned)fx.port);
    argv[0] = (char *)SSH_KEYGEN_PATH;
    argv[1] = (char *)"-F";
    argv[2] = host;
    argv[3] = (char *)"-f";
    argv[4] = kh;
    argv[5] = NULL;
    assert_int_equal(fixture_run(argv, out, FIXTURE_WAIT_MS), 0);

    /* known now: the default policy accepts it */
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    ASSERT_OK(amk_client_load_host_keys(c, kh));
    ASSERT_OK(amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
    amk_client_free(c);
}

static void
test_client_changed_key_refused_whatever_the_policy(void **state)
{
    char kh[FIXTURE_PATH_MAX], pub[FIXTURE_PATH_MAX], line[4096], where[FIXTURE_PATH_MAX + 8];
    enum amk_hostkey_policy policies[] = { AMK_HOSTKEY_REJECT, AMK_HOSTKEY_AUTO_ADD,
        AMK_HOSTKEY_WARN };
    FILE *in, *o;

    /* the fixture's ed25519 host key file holds another key for this host */
    sshd_fixture_path(&fx, "changed_known_hosts", kh, sizeof(kh));
    sshd_fixture_path(&fx, "id_ed25519.pub", pub, sizeof(pub));
    assert_non_null(in = fopen(pub, "r"));
    assert_non_null(fgets(line, sizeof(line), in));
    fclose(in);
    assert_non_null(o = fopen(kh, "w"));
    fprintf(o, "# first line\n[127.0.0.1]:%u %s", (unsigned)fx.port, line);
    fclose(o);
    snprintf(where, sizeof(where), "%s:2", kh);
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        struct amk_client *c = NULL;
        ASSERT_OK(amk_client_new(&c));
        ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
        ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
        ASSERT_OK(amk_client_load_host_keys(c, kh));
        ASSERT_OK(amk_client_set_algorithms(c, AMK_ALG_HOSTKEY, "ssh-ed25519"));
        ASSERT_OK(amk_client_set_hostkey_policy(c, policies[i]));
        ASSERT_AMK(AMK_EHOSTKEY_CHANGED, amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL));
        if (strstr(amk_client_last_error(c), where) == NULL)
            fail_msg("detail does not name %s: %s", where, amk_client_last_error(c));
        amk_client_free(c);
    }
}

/* --- non-blocking, many sessions -------------------------------------- */

static void
test_client_nonblocking_200_sessions(void **state)
{
    struct amk_client *c[N_SESSIONS];
    int status[N_SESSIONS], done[N_SESSIONS], connected_[N_SESSIONS];
    char cmd[N_SESSIONS][48];
    int remaining = N_SESSIONS;
    time_t start;

    /* 200 handshakes at once take minutes under valgrind and trip the
     * connect timeout; scripts/valgrind says so, and this load test runs
     * under ASan instead */
    if (getenv("AMK_VALGRIND") != NULL) {
        print_message("skipped under valgrind (AMK_VALGRIND): a load test, run under ASan\n");
        skip();
    }
    /* sshd's default MaxStartups (10:30:100) drops concurrent unauthenticated
     * connections at random; the test is about our event loop, not that. */
    sshd_fixture_stop(&fx);
    assert_int_equal(sshd_fixture_start(&fx, "MaxStartups 400:30:500"), 0);
    start = time(NULL);

    for (int i = 0; i < N_SESSIONS; i++) {
        c[i] = client_with(fx.user_key);
        /* 200 handshakes queue behind each other in sshd and in this
         * loop; on a loaded 2-core machine (a CI run beside other test
         * runs) the last ones took over 20 s. The whole test keeps its
         * 100 s bound below. */
        ASSERT_OK(amk_client_set_connect_timeout(c[i], 90000));
        ASSERT_OK(amk_client_set_blocking(c[i], 0));
        snprintf(cmd[i], sizeof(cmd[i]), "echo session %d; exit %d", i, i % 100);
        status[i] = -1;
        done[i] = connected_[i] = 0;
    }
    while (remaining > 0) {
        struct pollfd pfd[N_SESSIONS];
        int n = 0, timeout = 1000;

        assert_true(time(NULL) - start < 100);
        for (int i = 0; i < N_SESSIONS; i++) {
            char *out = NULL;
            size_t outlen = 0;
            int r, dirs, t;

            if (done[i])
                continue;
            if (!connected_[i]) {
                r = amk_client_connect(c[i], "127.0.0.1", fx.port, fx.user, NULL);
                if (r == AMK_OK)
                    connected_[i] = 1;
                else if (r != AMK_EAGAIN)
                    fail_msg("session %d: connect: %s: %s", i, amk_errname(r),
                        amk_client_last_error(c[i]));
            }
            if (connected_[i]) {
                r = amk_client_run(c[i], cmd[i], &out, &outlen, NULL, NULL, &status[i]);
                if (r == AMK_OK) {
                    char want[48];
                    snprintf(want, sizeof(want), "session %d\n", i);
                    assert_string_equal(out, want);
                    free(out);
                    done[i] = 1;
                    remaining--;
                    continue;
                }
                if (r != AMK_EAGAIN)
                    fail_msg("session %d: run: %s: %s", i, amk_errname(r),
                        amk_client_last_error(c[i]));
            }
            dirs = amk_client_block_directions(c[i]);
            assert_true(dirs != 0);
            pfd[n].fd = amk_client_get_fd(c[i]);
            pfd[n].events = (short)(((dirs & AMK_WAIT_READ) ? POLLIN : 0) |
                ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0));
            n++;
            t = amk_client_next_timeout(c[i]);
            if (t >= 0 && t < timeout)
                timeout = t;
        }
        if (n > 0)
            assert_true(poll(pfd, (nfds_t)n, timeout) >= 0);
    }
    for (int i = 0; i < N_SESSIONS; i++) {
        assert_int_equal(status[i], i % 100);
        amk_client_free(c[i]);
    }
}

static int
group_setup(void **state)
{
    if (sshd_fixture_init(&fx) != 0 || sshd_fixture_start(&fx, NULL) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_publickey_ed25519),
        cmocka_unit_test(test_client_publickey_ecdsa),
        cmocka_unit_test(test_client_publickey_rsa),
        cmocka_unit_test(test_client_no_key_fails_auth),
        cmocka_unit_test(test_client_server_disconnects_mid_auth),
        cmocka_unit_test(test_client_run_stdout_stderr_status),
        cmocka_unit_test(test_client_exec_channel_streams),
        cmocka_unit_test(test_client_pty_shell),
        cmocka_unit_test(test_client_100mb_output),
        cmocka_unit_test(test_client_100mb_input),
        cmocka_unit_test(test_client_20_channels_at_once),
        cmocka_unit_test(test_client_nonblocking_channels_one_connection),
        cmocka_unit_test(test_client_nonblocking_read_takes_in_other_stream),
        cmocka_unit_test(test_client_unknown_host_refused_by_default),
        cmocka_unit_test(test_client_hostkey_callback_refuses),
        cmocka_unit_test(test_client_auto_add_writes_known_hosts),
        cmocka_unit_test(test_client_changed_key_refused_whatever_the_policy),
        cmocka_unit_test(test_client_nonblocking_200_sessions),
    };
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
