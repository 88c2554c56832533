/*
 * Interop: the real OpenSSH client (`ssh -v`) authenticating to amiko's
 * server user authentication engine (src/auth/userauth_server*.c). The
 * test runs a tiny server itself: a loopback listener on port 0, one
 * accepted connection, amiko's transport in the server role, then the
 * engine fed with every packet until it is done or fails. Publickey keys
 * are checked through amiko's authorized_keys checker with options.
 * Passwords and keyboard-interactive answers come from an SSH_ASKPASS
 * script (SSH_ASKPASS_REQUIRE=force). The server has no channels: after
 * USERAUTH_SUCCESS it disconnects, so ssh fails afterwards; only the
 * authentication is asserted, from ssh's "-v" output and from the engine.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/userauth_server.h"
#include "interop_client.h"
#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "transport/transport.h"
#include "util/base64.h"
#include "util/buf.h"

#define PASSWORD "correct horse"
#define MAX_ARGS 48

static struct sshd_fixture fx;      /* for its directory, user and ed25519 key */
static struct amk_key *host_key;
static char known_hosts[FIXTURE_PATH_MAX];
static char askpass_ok[FIXTURE_PATH_MAX], askpass_bad[FIXTURE_PATH_MAX];
static char key_ecdsa[FIXTURE_PATH_MAX], key_rsa[FIXTURE_PATH_MAX];
static char key_stranger[FIXTURE_PATH_MAX];

/* What the server's callbacks use and record. */
struct server_policy {
    struct amk_authorized_keys *ak;
    int kbd_rounds;             /* rounds asked so far */
    int kbd_want;               /* rounds to ask */
};

static int
pol_password(void *user, const char *username, const char *password)
{
    return amk_auth_password_equal(password, PASSWORD) ? AMK_AUTH_ACCEPT : AMK_AUTH_REJECT;
}

static int
pol_publickey(void *user, const char *username, const struct amk_key *key, int is_query,
    void **opts)
{
    struct server_policy *p = user;

    return amk_userauth_server_ak_check(p->ak, key, "127.0.0.1", NULL, (int64_t)time(NULL),
        is_query, opts);
}

static int
pol_kbd_start(void *user, const char *username, const char *submethods,
    struct amk_auth_kbdint_round *round, void **ctx)
{
    struct server_policy *p = user;

    p->kbd_rounds = 1;
    round->instruction = "amiko test";
    round->n_prompts = 1;
    round->prompts[0].text = "Password: ";
    round->prompts[0].echo = 0;
    return AMK_AUTH_CONTINUE;
}

static int
pol_kbd_respond(void *user, void *ctx, const char *username, const char *const *responses,
    size_t n, struct amk_auth_kbdint_round *next)
{
    struct server_policy *p = user;

    if (n != 1 || !amk_auth_password_equal(responses[0], PASSWORD))
        return AMK_AUTH_REJECT;
    if (p->kbd_rounds < p->kbd_want) {
        p->kbd_rounds++;
        next->n_prompts = 1;
        next->prompts[0].text = "Password again: ";
        return AMK_AUTH_CONTINUE;
    }
    return AMK_AUTH_ACCEPT;
}

/* The engine's sink: packets go through the session. */
static int
session_sink(void *user, const uint8_t *payload, size_t len)
{
    return interop_send(user, payload, len);
}

static int
listener(uint16_t *port)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    *port = ntohs(in.sin_port);
    return fd;
}

/* Starts `ssh -v` with the extra "-o" options @p opts (NULL-terminated). */
static pid_t
spawn_ssh(uint16_t port, const char *identity, const char *askpass, const char *const *opts,
    const char *out)
{
    char port_s[16], kh[FIXTURE_PATH_MAX + 32], dest[128];
    const char *argv[MAX_ARGS];
    size_t n = 0;
    pid_t pid;

    snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
    snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", known_hosts);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
    argv[n++] = SSH_PATH;
    argv[n++] = "-v";
    argv[n++] = "-F";
    argv[n++] = "/dev/null";
    argv[n++] = "-p";
    argv[n++] = port_s;
    if (identity != NULL) {
        argv[n++] = "-i";
        argv[n++] = identity;
    }
    argv[n++] = "-o";
    argv[n++] = "IdentitiesOnly=yes";
    argv[n++] = "-o";
    argv[n++] = askpass != NULL ? "BatchMode=no" : "BatchMode=yes";
    argv[n++] = "-o";
    argv[n++] = "StrictHostKeyChecking=yes";
    argv[n++] = "-o";
    argv[n++] = "GlobalKnownHostsFile=/dev/null";
    argv[n++] = "-o";
    argv[n++] = kh;
    argv[n++] = "-o";
    argv[n++] = "ConnectTimeout=10";
    for (size_t i = 0; opts[i] != NULL && n < MAX_ARGS - 4; i++) {
        argv[n++] = "-o";
        argv[n++] = opts[i];
    }
    argv[n++] = dest;
    argv[n++] = "true";
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0)
            _exit(126);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in, 0);
        dup2(o, 1);
        dup2(o, 2);
        unsetenv("SSH_AUTH_SOCK");
        if (askpass != NULL) {
            setenv("SSH_ASKPASS", askpass, 1);
            setenv("SSH_ASKPASS_REQUIRE", "force", 1);
            setenv("DISPLAY", ":0", 1);
        } else {
            unsetenv("SSH_ASKPASS");
        }
        /* ssh would open the controlling terminal for prompts otherwise. */
        setsid();
        execv(SSH_PATH, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int
file_contains(const char *path, const char *needle)
{
    char line[4096];
    FILE *in = fopen(path, "r");
    int found = 0;

    if (in == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), in) != NULL)
        found = strstr(line, needle) != NULL;
    fclose(in);
    return found;
}

static void
dump_file(const char *path)
{
    char line[4096];
    FILE *in = fopen(path, "r");

    if (in == NULL)
        return;
    while (fgets(line, sizeof(line), in) != NULL)
        fprintf(stderr, "  ssh| %s", line);
    fclose(in);
}

/* One connection's outcome. */
struct outcome {
    int err;                        /* the engine's error */
    int done;
    unsigned failures;
    char methods_used[128];
    char key_type[64];
    char key_alg[64];
    char command[128];              /* forced command of the accepting key line */
    int pty;
    char out[FIXTURE_PATH_MAX];     /* ssh's output */
};

struct scenario {
    const char *identity;           /* -i, or NULL */
    const char *askpass;            /* NULL: BatchMode=yes */
    const char *const *ssh_opts;
    const char *auth_methods;       /* engine's chains, or NULL */
    const char *banner;             /* USERAUTH_BANNER, or NULL */
    const char *authorized_keys;    /* text */
    unsigned max_tries;
    int kbd_want;
};

/* Runs ssh against the engine once. */
static void
run(const struct scenario *sc, struct outcome *res)
{
    struct server_policy pol = { 0 };
    struct amk_userauth_server_config cfg = { 0 };
    struct amk_userauth_server *ua = NULL;
    struct amk_session *s = NULL;
    const uint8_t *p;
    size_t len;
    uint16_t port;
    int lfd = listener(&port), cfd, status = 0, r, peer_gone;
    pid_t pid;
    int64_t deadline;

    memset(res, 0, sizeof(*res));
    ASSERT_OK(amk_authorized_keys_load(sc->authorized_keys, strlen(sc->authorized_keys),
        &pol.ak));
    assert_int_equal(amk_authorized_keys_bad_count(pol.ak), 0);
    pol.kbd_want = sc->kbd_want > 0 ? sc->kbd_want : 1;
    sshd_fixture_path(&fx, "ssh.out", res->out, sizeof(res->out));
    pid = spawn_ssh(port, sc->identity, sc->askpass, sc->ssh_opts, res->out);
    ASSERT_OK(amk_io_wait(lfd, AMK_IO_READ, amk_io_deadline(FIXTURE_WAIT_MS), NULL, NULL));
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    close(lfd);
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_SERVER));
    ASSERT_OK(amk_session_add_host_key(s, host_key));
    ASSERT_OK(amk_session_set_timeout(s, INTEROP_WAIT_MS));
    ASSERT_OK(amk_session_set_fd(s, cfd));
    r = interop_handshake(s);
    if (r != AMK_OK) {
        dump_file(res->out);
        fail_msg("handshake: %s: %s", amk_errname(r), amk_session_last_error(s));
    }

    cfg.sink.send = session_sink;
    cfg.sink.user = s;
    cfg.transport = amk_session_transport(s);
    cfg.password_cb = pol_password;
    cfg.publickey_cb = pol_publickey;
    cfg.opts_free = amk_userauth_server_ak_opts_free;
    cfg.kbdint_start = pol_kbd_start;
    cfg.kbdint_respond = pol_kbd_respond;
    cfg.user = &pol;
    cfg.auth_methods = sc->auth_methods;
    cfg.max_tries = sc->max_tries;
    cfg.banner = sc->banner;
    ASSERT_OK(amk_userauth_server_new(&ua, &cfg));
    /* Feed the engine until it is done or fails, or ssh goes away. */
    peer_gone = 0;
    while (!amk_userauth_server_done(ua)) {
        if ((r = interop_recv(s, &p, &len)) != AMK_OK) {
            peer_gone = 1;      /* ssh gave up and disconnected */
            break;
        }
        if ((r = amk_userauth_server_handle(ua, p, len)) != AMK_OK)
            break;
    }
    res->err = amk_userauth_server_error(ua);
    res->done = amk_userauth_server_done(ua);
    res->failures = amk_userauth_server_failures(ua);
    snprintf(res->methods_used, sizeof(res->methods_used), "%s",
        amk_userauth_server_methods_used(ua));
    if (amk_userauth_server_key(ua) != NULL) {
        const struct amk_authorized_key_opts *o = amk_userauth_server_key_opts(ua);
        snprintf(res->key_type, sizeof(res->key_type), "%s",
            amk_key_type_name(amk_userauth_server_key(ua)));
        snprintf(res->key_alg, sizeof(res->key_alg), "%s", amk_userauth_server_key_alg(ua));
        assert_non_null(o);
        snprintf(res->command, sizeof(res->command), "%s",
            amk_authorized_key_opts_command(o) != NULL ? amk_authorized_key_opts_command(o) :
            "");
        res->pty = amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY);
    }
    if (peer_gone) {
        /* nothing left to tell ssh */
    } else if (res->err != AMK_OK) {
        /* The engine's verdict goes to ssh with its reason code. */
        struct amk_transport *t = amk_session_transport(s);
        if (amk_transport_disconnect(t, amk_userauth_server_disconnect_reason(ua),
            amk_userauth_server_last_error(ua)) == AMK_OK && amk_session_flush(s) != AMK_OK) {
            /* ssh may close as soon as it has read the DISCONNECT */
        }
    } else {
        if (interop_disconnect(s, "amiko auth test done") != AMK_OK)
            fprintf(stderr, "sending the DISCONNECT failed\n");
    }
    amk_userauth_server_free(ua);
    amk_session_free(s);
    amk_authorized_keys_free(pol.ak);
    close(cfd);
    deadline = amk_io_deadline(FIXTURE_WAIT_MS);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (amk_io_remaining_ms(deadline) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            dump_file(res->out);
            fail_msg("ssh did not exit");
        }
        usleep(10000);
    }
}

static char *
pub_line(const char *private_path)
{
    char path[FIXTURE_PATH_MAX + 8];
    char line[8192];
    FILE *f;

    snprintf(path, sizeof(path), "%s.pub", private_path);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

static void
expect_authenticated(const struct outcome *o, const char *method)
{
    char needle[128];

    snprintf(needle, sizeof(needle), "using \"%s\"", method);
    if (!o->done || o->err != AMK_OK || !file_contains(o->out, "Authenticated to") ||
        !file_contains(o->out, needle)) {
        dump_file(o->out);
        fail_msg("not authenticated by %s: engine done %d err %s", method, o->done,
            amk_errname(o->err));
    }
}

static void
expect_refused(const struct outcome *o)
{
    if (o->done || file_contains(o->out, "Authenticated to")) {
        dump_file(o->out);
        fail_msg("authenticated although it should not be");
    }
}

static void
check_publickey(const char *identity, const char *const *opts, const char *type,
    const char *alg)
{
    char *line = pub_line(identity);
    char ak[8192];
    struct scenario sc = { 0 };
    struct outcome o;

    snprintf(ak, sizeof(ak), "# amiko test\nrestrict,pty,command=\"echo hi\" %s\n", line);
    sc.identity = identity;
    sc.ssh_opts = opts;
    sc.authorized_keys = ak;
    run(&sc, &o);
    expect_authenticated(&o, "publickey");
    assert_string_equal(o.methods_used, "publickey");
    assert_string_equal(o.key_type, type);
    assert_string_equal(o.key_alg, alg);
    /* The options of the authorized_keys line came through. */
    assert_string_equal(o.command, "echo hi");
    assert_true(o.pty);
    assert_int_equal(o.failures, 0);
    free(line);
}

static void
test_server_auth_publickey_ed25519(void **state)
{
    static const char *const opts[] = { "PreferredAuthentications=publickey", NULL };

    check_publickey(fx.user_key, opts, "ssh-ed25519", "ssh-ed25519");
}

static void
test_server_auth_publickey_ecdsa(void **state)
{
    static const char *const opts[] = { "PreferredAuthentications=publickey", NULL };

    check_publickey(key_ecdsa, opts, "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256");
}

static void
test_server_auth_publickey_rsa_sha2_512(void **state)
{
    static const char *const opts[] = {
        "PreferredAuthentications=publickey", "PubkeyAcceptedAlgorithms=rsa-sha2-512", NULL
    };

    check_publickey(key_rsa, opts, "ssh-rsa", "rsa-sha2-512");
}

static void
test_server_auth_password(void **state)
{
    static const char *const opts[] = {
        "PreferredAuthentications=password", "NumberOfPasswordPrompts=1", NULL
    };
    struct scenario sc = { 0 };
    struct outcome o;

    sc.askpass = askpass_ok;
    sc.ssh_opts = opts;
    sc.authorized_keys = "";
    sc.banner = "Welcome to the amiko auth test\n";
    run(&sc, &o);
    expect_authenticated(&o, "password");
    assert_string_equal(o.methods_used, "password");
    /* ssh shows the banner (RFC 4252 §5.4). */
    if (!file_contains(o.out, "Welcome to the amiko auth test")) {
        dump_file(o.out);
        fail_msg("ssh did not show the banner");
    }
}

static void
test_server_auth_kbdint_two_rounds(void **state)
{
    static const char *const opts[] = {
        "PreferredAuthentications=keyboard-interactive", "NumberOfPasswordPrompts=1", NULL
    };
    struct scenario sc = { 0 };
    struct outcome o;

    sc.askpass = askpass_ok;
    sc.ssh_opts = opts;
    sc.authorized_keys = "";
    sc.kbd_want = 2;
    run(&sc, &o);
    expect_authenticated(&o, "keyboard-interactive");
    assert_string_equal(o.methods_used, "keyboard-interactive");
}

static void
test_server_auth_chain_publickey_then_password(void **state)
{
    static const char *const opts[] = {
        "PreferredAuthentications=publickey,password", "NumberOfPasswordPrompts=1", NULL
    };
    char *line = pub_line(fx.user_key);
    char ak[8192];
    struct scenario sc = { 0 };
    struct outcome o;

    snprintf(ak, sizeof(ak), "%s\n", line);
    sc.identity = fx.user_key;
    sc.askpass = askpass_ok;
    sc.ssh_opts = opts;
    sc.authorized_keys = ak;
    sc.auth_methods = "publickey,password";
    run(&sc, &o);
    expect_authenticated(&o, "password");
    if (!file_contains(o.out, "partial success")) {
        dump_file(o.out);
        fail_msg("ssh did not report the partial success of publickey");
    }
    assert_string_equal(o.methods_used, "publickey,password");
    free(line);
}

static void
test_server_auth_wrong_password_refused(void **state)
{
    static const char *const opts[] = {
        "PreferredAuthentications=password", "NumberOfPasswordPrompts=1", NULL
    };
    struct scenario sc = { 0 };
    struct outcome o;

    sc.askpass = askpass_bad;
    sc.ssh_opts = opts;
    sc.authorized_keys = "";
    run(&sc, &o);
    expect_refused(&o);
    assert_int_equal(o.failures, 1);
    if (!file_contains(o.out, "Permission denied")) {
        dump_file(o.out);
        fail_msg("ssh did not report the refusal");
    }
}

static void
test_server_auth_unlisted_key_refused(void **state)
{
    static const char *const opts[] = { "PreferredAuthentications=publickey", NULL };
    char *line = pub_line(key_stranger);
    char ak[8192];
    struct scenario sc = { 0 };
    struct outcome o;

    snprintf(ak, sizeof(ak), "%s\n", line);
    sc.identity = fx.user_key;
    sc.ssh_opts = opts;
    sc.authorized_keys = ak;
    run(&sc, &o);
    expect_refused(&o);
    /* Refused queries are not failed attempts. */
    assert_int_equal(o.failures, 0);
    free(line);
}

static void
test_server_auth_from_mismatch_refused(void **state)
{
    static const char *const opts[] = { "PreferredAuthentications=publickey", NULL };
    char *line = pub_line(fx.user_key);
    char ak[8192];
    struct scenario sc = { 0 };
    struct outcome o;

    snprintf(ak, sizeof(ak), "from=\"10.0.0.0/8,!127.0.0.1\" %s\n", line);
    sc.identity = fx.user_key;
    sc.ssh_opts = opts;
    sc.authorized_keys = ak;
    run(&sc, &o);
    expect_refused(&o);
    /* The same key with a from= that allows loopback. */
    snprintf(ak, sizeof(ak), "from=\"127.0.0.0/8\" %s\n", line);
    run(&sc, &o);
    expect_authenticated(&o, "publickey");
    free(line);
}

static void
test_server_auth_expired_key_refused(void **state)
{
    static const char *const opts[] = { "PreferredAuthentications=publickey", NULL };
    char *line = pub_line(fx.user_key);
    char ak[8192];
    struct scenario sc = { 0 };
    struct outcome o;

    snprintf(ak, sizeof(ak), "expiry-time=\"20200101\" %s\n", line);
    sc.identity = fx.user_key;
    sc.ssh_opts = opts;
    sc.authorized_keys = ak;
    run(&sc, &o);
    expect_refused(&o);
    free(line);
}

static void
test_server_auth_attempt_limit(void **state)
{
    static const char *const opts[] = {
        "PreferredAuthentications=password", "NumberOfPasswordPrompts=5", NULL
    };
    struct scenario sc = { 0 };
    struct outcome o;

    sc.askpass = askpass_bad;
    sc.ssh_opts = opts;
    sc.authorized_keys = "";
    sc.max_tries = 2;
    run(&sc, &o);
    expect_refused(&o);
    assert_int_equal(o.err, AMK_ELIMIT);
    assert_int_equal(o.failures, 2);
    /* ssh saw our DISCONNECT with NO_MORE_AUTH_METHODS_AVAILABLE (14). */
    if (!file_contains(o.out, ":14: too many authentication failures")) {
        dump_file(o.out);
        fail_msg("ssh did not report the disconnect");
    }
}

static void
write_askpass(const char *path, const char *answer)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho '%s'\n", answer);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0700), 0);
}

static int
keygen(const char *path, const char *type, const char *bits)
{
    char *const argv[] = { SSH_KEYGEN_PATH, "-q", "-t", (char *)type, "-b", (char *)bits,
        "-N", "", "-f", (char *)path, NULL };

    return fixture_run(argv, NULL, FIXTURE_WAIT_MS);
}

static int
group_setup(void **state)
{
    struct amk_buf *blob = amk_buf_new(), *b64 = amk_buf_new();
    FILE *kh;
    int ok;

    if (blob == NULL || b64 == NULL || sshd_fixture_init(&fx) != 0)
        return -1;
    sshd_fixture_path(&fx, "amiko_known_hosts", known_hosts, sizeof(known_hosts));
    sshd_fixture_path(&fx, "askpass_ok", askpass_ok, sizeof(askpass_ok));
    sshd_fixture_path(&fx, "askpass_bad", askpass_bad, sizeof(askpass_bad));
    sshd_fixture_path(&fx, "id_ecdsa_t", key_ecdsa, sizeof(key_ecdsa));
    sshd_fixture_path(&fx, "id_rsa_t", key_rsa, sizeof(key_rsa));
    sshd_fixture_path(&fx, "id_stranger", key_stranger, sizeof(key_stranger));
    write_askpass(askpass_ok, PASSWORD);
    write_askpass(askpass_bad, "wrong");
    if (keygen(key_ecdsa, "ecdsa", "256") != 0 || keygen(key_rsa, "rsa", "2048") != 0 ||
        keygen(key_stranger, "ed25519", "256") != 0)
        return -1;
    ok = amk_key_generate(AMK_PKEY_ED25519, 0, &host_key) == AMK_OK &&
        amk_key_to_blob(host_key, blob) == AMK_OK &&
        amk_base64_encode(amk_buf_ptr(blob), amk_buf_len(blob), 1, b64) == AMK_OK &&
        amk_buf_put(b64, "", 1) == AMK_OK && (kh = fopen(known_hosts, "w")) != NULL;
    if (ok) {
        fprintf(kh, "* ssh-ed25519 %s\n", (const char *)amk_buf_ptr(b64));
        ok = fclose(kh) == 0;
    }
    amk_buf_free(blob);
    amk_buf_free(b64);
    return ok ? 0 : -1;
}

static int
group_teardown(void **state)
{
    amk_key_free(host_key);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_auth_publickey_ed25519),
        cmocka_unit_test(test_server_auth_publickey_ecdsa),
        cmocka_unit_test(test_server_auth_publickey_rsa_sha2_512),
        cmocka_unit_test(test_server_auth_password),
        cmocka_unit_test(test_server_auth_kbdint_two_rounds),
        cmocka_unit_test(test_server_auth_chain_publickey_then_password),
        cmocka_unit_test(test_server_auth_wrong_password_refused),
        cmocka_unit_test(test_server_auth_unlisted_key_refused),
        cmocka_unit_test(test_server_auth_from_mismatch_refused),
        cmocka_unit_test(test_server_auth_expired_key_refused),
        cmocka_unit_test(test_server_auth_attempt_limit),
    };
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
