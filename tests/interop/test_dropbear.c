/*
 * Interop with Dropbear (Debian's dropbear-bin, 2022.83), both ways; a
 * CTest test per direction (argv[1]):
 *  - server: Dropbear's server against amiko's client (amiko/client.h)
 *    and `amiko ssh`. dropbear runs in the foreground on a free loopback
 *    port with host keys made by dropbearkey (Ed25519, ECDSA P-256/384/521,
 *    RSA) and publickey only (-s). It reads authorized_keys only from
 *    the home directory getpwnam() gives (2022.83 has no option for
 *    another file), so it runs in a private mount namespace in which a
 *    directory of the test is bind-mounted over that home: the real
 *    ~/.ssh is never read or written (as root; without root, in a user
 *    namespace). Tested: the host key checked against known_hosts (and a
 *    wrong one refused), publickey with Ed25519 and RSA (rsa-sha2-256),
 *    exec with stdout, stderr and exit status, every KEX, host-key
 *    algorithm, cipher and MAC both offer (a `cat` of 64 KiB each),
 *    zlib@openssh.com, rekeys started by amiko, SFTP through Dropbear's
 *    sftp subsystem (OpenSSH's sftp-server) with a put/get round trip of
 *    1 MiB + 1 checksummed, and `amiko ssh` (exit status, stdin piped).
 *  - client: Dropbear's client dbclient against `amiko serve` (the serve
 *    fixture): host keys checked through ~/.ssh/known_hosts (HOME is a
 *    directory of the test), keys converted by dropbearconvert and one
 *    made by dropbearkey, exec exit status with stdout/stderr apart,
 *    1 MiB + 1 piped through `cat` checksummed, each cipher and MAC
 *    dbclient offers (-c, -m) and each KEX and host-key algorithm both
 *    support (serve restricted with -o); a dbclient limited to hmac-sha1
 *    is refused by serve's defaults.
 * Skipped (77) only when dropbear, dbclient, dropbearkey or
 * dropbearconvert is not installed.
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file_util.h"
#include "interop_client.h"
#include "io/session.h"
#include "io/wait.h"
#include "serve_fixture.h"
#include "transport/transport.h"

#define DROPBEAR_PATH "/usr/sbin/dropbear"
#define DBCLIENT_PATH "/usr/bin/dbclient"
#define DROPBEARKEY_PATH "/usr/bin/dropbearkey"
#define DROPBEARCONVERT_PATH "/usr/bin/dropbearconvert"
#define RUN_MS 60000
#define CAT_SIZE ((size_t)64 * 1024)
#define BIG_SIZE ((uint64_t)1024 * 1024 + 1)
#define START_ATTEMPTS 3
#define N_DB_HOST_KEYS 5
/* dropbear takes 4 host keys at most: all but P-521 (tested alone) */
#define DB_KEYS_DEFAULT 0x17u
#define DB_KEY_ECDSA521 0x08u

static struct serve_fixture fx;

/* Dropbear's host keys: dropbearkey's type and size, file in the work dir. */
static const struct {
    const char *type;
    const char *bits;
    const char *file;
} DB_HOST_KEYS[N_DB_HOST_KEYS] = {
    { "ed25519", NULL, "db_host_ed25519" },
    { "ecdsa", "256", "db_host_ecdsa256" },
    { "ecdsa", "384", "db_host_ecdsa384" },
    { "ecdsa", "521", "db_host_ecdsa521" },
    { "rsa", "2048", "db_host_rsa" },
};

/* --- small helpers --------------------------------------------------- */

/* Runs @p argv with HOME @p home (NULL: the fixture's), stdin @p in,
 * stdout/stderr to @p out / @p err (may be NULL). Its exit status;
 * a timeout fails the test. */
static int
run(char *const argv[], const char *home, const char *in, const char *out, const char *err)
{
    struct proc_io io = { .in = in, .out = out, .err = err, .home = home ? home : fx.dir };
    int r = proc_run(argv, &io, RUN_MS);

    if (r < 0)
        fail_msg("%s did not finish in %d ms", argv[0], RUN_MS);
    return r;
}

/* The public-key line of Dropbear key @p path ("type base64 comment"). */
static void
db_public_line(const char *path, char *line, size_t cap)
{
    char out[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)DROPBEARKEY_PATH, (char *)"-y", (char *)"-f", (char *)path, NULL };
    char *text, *p, *end;

    serve_fixture_path(&fx, "dropbearkey.out", out, sizeof(out));
    assert_int_equal(run(argv, NULL, NULL, out, NULL), 0);
    text = tf_read(out, NULL);
    p = strstr(text, "\nssh-");
    if (p == NULL)
        p = strstr(text, "\necdsa-");
    if (p == NULL)
        fail_msg("no public key in dropbearkey -y's output: %s", text);
    p++;
    end = p + strcspn(p, "\n");
    *end = '\0';
    snprintf(line, cap, "%s", p);
    free(text);
}

/* dropbearkey -t @p type [-s @p bits] -f @p path. */
static void
db_keygen(const char *type, const char *bits, const char *path)
{
    char *argv[10];
    int n = 0;

    argv[n++] = (char *)DROPBEARKEY_PATH;
    argv[n++] = (char *)"-t";
    argv[n++] = (char *)type;
    if (bits != NULL) {
        argv[n++] = (char *)"-s";
        argv[n++] = (char *)bits;
    }
    argv[n++] = (char *)"-f";
    argv[n++] = (char *)path;
    argv[n] = NULL;
    assert_int_equal(run(argv, NULL, NULL, NULL, NULL), 0);
}

static void
make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", path, strerror(errno));
}

/* =====================================================================
 * Dropbear's server, amiko's client
 * ===================================================================== */

static struct {
    pid_t pid;
    uint16_t port;
    char home[FIXTURE_PATH_MAX];        /* bind-mounted over the user's home */
    char known_hosts[FIXTURE_PATH_MAX]; /* every host key for [127.0.0.1]:port */
    char log[FIXTURE_PATH_MAX];
    char host_line[N_DB_HOST_KEYS][1024];
} db;

/* In dropbear's child: a private mount namespace with db.home over the
 * user's home directory (see the top of the file). */
static void
mount_home(void)
{
    struct passwd *pw = getpwuid(getuid());
    uid_t uid = getuid();
    gid_t gid = getgid();

    if (pw == NULL)
        _exit(125);
    if (unshare(CLONE_NEWNS) != 0) {
        /* not root: a user namespace of our own uid, where mounts are allowed */
        char map[64];
        int fd;

        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            _exit(124);
        if ((fd = open("/proc/self/setgroups", O_WRONLY)) >= 0) {
            (void)!write(fd, "deny", 4);
            close(fd);
        }
        snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
        if ((fd = open("/proc/self/uid_map", O_WRONLY)) < 0 ||
            write(fd, map, strlen(map)) < 0)
            _exit(124);
        close(fd);
        snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
        if ((fd = open("/proc/self/gid_map", O_WRONLY)) < 0 ||
            write(fd, map, strlen(map)) < 0)
            _exit(124);
        close(fd);
    }
    /* MS_PRIVATE keeps the mount out of the host's namespace */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(db.home, pw->pw_dir, NULL, MS_BIND, NULL) != 0) {
        fprintf(stderr, "dropbear test: cannot mount %s over %s: %s\n", db.home, pw->pw_dir,
            strerror(errno));
        _exit(124);
    }
}

static pid_t
spawn_dropbear(unsigned keys_mask)
{
    char listen[64], pidfile[FIXTURE_PATH_MAX], keys[N_DB_HOST_KEYS][FIXTURE_PATH_MAX];
    const char *argv[32];
    size_t n = 0;
    pid_t pid;

    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)db.port);
    serve_fixture_path(&fx, "dropbear.pid", pidfile, sizeof(pidfile));
    argv[n++] = DROPBEAR_PATH;
    argv[n++] = "-F";   /* foreground */
    argv[n++] = "-E";   /* log to stderr */
    argv[n++] = "-s";   /* no password logins: publickey only */
    argv[n++] = "-p";
    argv[n++] = listen;
    argv[n++] = "-P";
    argv[n++] = pidfile;
    for (size_t i = 0; i < N_DB_HOST_KEYS; i++) {
        if (!(keys_mask & (1u << i)))
            continue;
        serve_fixture_work_path(&fx, DB_HOST_KEYS[i].file, keys[i], sizeof(keys[i]));
        argv[n++] = "-r";
        argv[n++] = keys[i];
    }
    argv[n] = NULL;
    pid = fork();
    if (pid != 0)
        return pid;
    int in = open("/dev/null", O_RDONLY);
    int err = open(db.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || err < 0)
        _exit(126);
    prctl(PR_SET_PDEATHSIG, SIGTERM);   /* dies with the test */
    dup2(in, 0);
    dup2(err, 1);
    dup2(err, 2);
    mount_home();
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

static void
dropbear_stop(void)
{
    if (db.pid > 0) {
        kill(db.pid, SIGTERM);
        (void)proc_wait(db.pid, FIXTURE_WAIT_MS);
    }
    db.pid = -1;
    db.port = 0;
}

static void
dump_dropbear_log(void)
{
    char *t = tf_read(db.log, NULL);
    size_t len = strlen(t);

    fprintf(stderr, "---- %s (tail) ----\n%s---- end ----\n", db.log,
        len > 4000 ? t + len - 4000 : t);
    free(t);
}

/* 1 when dropbear's log has a line with @p needle. */
static int
dropbear_logged(const char *needle)
{
    char *t = tf_read(db.log, NULL);
    int found = strstr(t, needle) != NULL;

    free(t);
    return found;
}

/* Starts dropbear with the host keys of @p keys_mask (bits of
 * DB_HOST_KEYS; at most 4: its MAX_HOSTKEYS) on a free port (a lost race
 * for it is retried) and writes known_hosts (every key) for that port. */
static void
dropbear_start(unsigned keys_mask)
{
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
        int status = 0;
        FILE *kh;

        dropbear_stop();
        assert_true((db.port = fixture_free_port()) != 0);
        unlink(db.log);
        assert_true((db.pid = spawn_dropbear(keys_mask)) > 0);
        while (amk_io_remaining_ms(deadline) > 0) {
            if (waitpid(db.pid, &status, WNOHANG) == db.pid) {
                db.pid = -1;
                break;
            }
            if (fixture_probe(db.port, deadline) == 0) {
                assert_non_null(kh = fopen(db.known_hosts, "w"));
                for (size_t i = 0; i < N_DB_HOST_KEYS; i++)
                    fprintf(kh, "[127.0.0.1]:%u %s\n", (unsigned)db.port, db.host_line[i]);
                assert_int_equal(fclose(kh), 0);
                return;
            }
            usleep(50 * 1000);
        }
        dump_dropbear_log();
        if (db.pid > 0) {
            dropbear_stop();
            fail_msg("dropbear not ready within %d ms", FIXTURE_WAIT_MS);
        }
        if (!dropbear_logged("No listening ports available"))
            fail_msg("dropbear exited (status 0x%x)", (unsigned)status);
        fprintf(stderr, "dropbear exited (status 0x%x), attempt %d\n", (unsigned)status,
            attempt + 1);
    }
    fail_msg("dropbear did not start");
}

static void
dropbear_setup(void)
{
    char ssh_dir[FIXTURE_PATH_MAX + 8], ak[FIXTURE_PATH_MAX + 32], path[FIXTURE_PATH_MAX];
    char *keys;

    db.pid = -1;
    serve_fixture_path(&fx, "dropbear.log", db.log, sizeof(db.log));
    serve_fixture_path(&fx, "db_known_hosts", db.known_hosts, sizeof(db.known_hosts));
    serve_fixture_work_path(&fx, "home", db.home, sizeof(db.home));
    for (size_t i = 0; i < N_DB_HOST_KEYS; i++) {
        serve_fixture_work_path(&fx, DB_HOST_KEYS[i].file, path, sizeof(path));
        db_keygen(DB_HOST_KEYS[i].type, DB_HOST_KEYS[i].bits, path);
        db_public_line(path, db.host_line[i], sizeof(db.host_line[i]));
    }
    /* the home dropbear sees: ~/.ssh/authorized_keys with the fixture's
     * Ed25519 and RSA user keys (Dropbear wants it not group/world-writable) */
    make_dir(db.home);
    snprintf(ssh_dir, sizeof(ssh_dir), "%s/.ssh", db.home);
    make_dir(ssh_dir);
    snprintf(ak, sizeof(ak), "%s/authorized_keys", ssh_dir);
    keys = tf_read(fx.authorized_keys, NULL);
    tf_write(ak, keys, strlen(keys));
    free(keys);
    assert_int_equal(chmod(ak, 0600), 0);
    dropbear_start(DB_KEYS_DEFAULT);
}

/* --- amiko's client --------------------------------------------------- */

/* What amiko's client logged. */
struct kex_count {
    int done;           /* "key exchange N complete" lines */
    char sig[64];       /* the algorithm of the last publickey signature sent */
};

static void
count_kex(void *user, enum amk_log_level level, const char *msg)
{
    struct kex_count *k = user;

    (void)level;
    if (strncmp(msg, "key exchange ", 13) == 0 && strstr(msg, " complete") != NULL)
        k->done++;
    if (sscanf(msg, "userauth: signed with %*s key (%63[^)])", k->sig) != 1)
        (void)sscanf(msg, "userauth: key accepted; sent %63s signature", k->sig);
}

/* A blocking client trusting db.known_hosts (or @p known_hosts), with
 * @p key_file only and the algorithms @p algs (NULL fields: defaults). */
static struct amk_client *
client_new(const char *key_file, const char *known_hosts, const struct interop_algs *algs,
    struct kex_count *kc)
{
    struct amk_client *c = NULL;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_load_host_keys(c, known_hosts != NULL ? known_hosts : db.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_connect_timeout(c, INTEROP_WAIT_MS));
    ASSERT_OK(amk_client_set_timeout(c, RUN_MS));
    ASSERT_OK(amk_client_add_key_file(c, key_file != NULL ? key_file : fx.user_key));
    if (kc != NULL)
        ASSERT_OK(amk_client_set_log(c, count_kex, kc, AMK_LOG_DEBUG));
    if (algs != NULL) {
        if (algs->kex != NULL)
            ASSERT_OK(amk_client_set_algorithms(c, AMK_ALG_KEX, algs->kex));
        if (algs->hostkey != NULL)
            ASSERT_OK(amk_client_set_algorithms(c, AMK_ALG_HOSTKEY, algs->hostkey));
        if (algs->cipher != NULL)
            ASSERT_OK(amk_client_set_algorithms(c, AMK_ALG_CIPHER, algs->cipher));
        if (algs->mac != NULL)
            ASSERT_OK(amk_client_set_algorithms(c, AMK_ALG_MAC, algs->mac));
        if (algs->compression != NULL)
            ASSERT_OK(amk_client_set_compression(c, 1));
    }
    return c;
}

static struct amk_client *
client_connect(const char *key_file, const struct interop_algs *algs, struct kex_count *kc)
{
    struct amk_client *c = client_new(key_file, NULL, algs, kc);
    int r = amk_client_connect(c, "127.0.0.1", db.port, fx.user, NULL);

    if (r != AMK_OK) {
        dump_dropbear_log();
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    return c;
}

/* Asserts that the session negotiated @p want for @p kind (NULL: anything). */
static void
expect_alg(struct amk_client *c, enum amk_alg_kind kind, const char *want)
{
    const char *got = NULL;

    if (want == NULL)
        return;
    ASSERT_OK(amk_session_algorithm(amk_client_session(c), kind, &got));
    if (strcmp(got, want) != 0)
        fail_msg("negotiated %s, wanted %s", got, want);
}

/* `cat` on the server: @p n bytes of a pattern in and the same out. */
static void
cat_round_trip(struct amk_client *c, size_t n)
{
    struct amk_client_channel *ch = NULL;
    uint8_t *in = malloc(n), *out = malloc(n + 1);
    size_t sent = 0, got = 0;
    int status = -1;

    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(i * 7 + (i >> 8));
    ASSERT_OK(amk_client_exec(c, "cat", 0, &ch));
    /* in pieces, reading back what is there, so neither window stalls */
    while (sent < n) {
        size_t w = n - sent < 16384 ? n - sent : 16384, k = 0;

        ASSERT_OK(amk_client_channel_write(ch, in + sent, w, &k));
        sent += k;
    }
    ASSERT_OK(amk_client_channel_send_eof(ch));
    for (;;) {
        size_t k = 0;

        assert_true(got <= n);
        ASSERT_OK(amk_client_channel_read(ch, out + got, n + 1 - got, &k));
        if (k == 0)
            break;
        got += k;
    }
    ASSERT_OK(amk_client_channel_exit_status(ch, &status));
    assert_int_equal(status, 0);
    assert_int_equal(got, n);
    assert_memory_equal(in, out, n);
    amk_client_channel_free(ch);
    free(in);
    free(out);
}

static void
close_client(struct amk_client *c)
{
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
}

/* The host key is checked: a known_hosts with another key for the port
 * is refused; publickey with Ed25519 and RSA (rsa-sha2-256, which
 * Dropbear names in server-sig-algs); exec's streams and exit status. */
static void
test_server_auth_exec(void **state)
{
    const struct interop_algs only_ed = { .hostkey = "ssh-ed25519" };
    struct kex_count kc = { 0 };
    char wrong[FIXTURE_PATH_MAX], pub[FIXTURE_PATH_MAX + 8];
    struct amk_client *c;
    char *out = NULL, *err = NULL, *line;
    size_t outlen = 0, errlen = 0;
    int status = -1, r;
    FILE *kh;

    (void)state;
    /* another Ed25519 key (the user's) under the right name: refused */
    snprintf(pub, sizeof(pub), "%s.pub", fx.user_key);
    line = tf_read(pub, NULL);
    serve_fixture_path(&fx, "wrong_known_hosts", wrong, sizeof(wrong));
    assert_non_null(kh = fopen(wrong, "w"));
    fprintf(kh, "[127.0.0.1]:%u %s", (unsigned)db.port, line);
    assert_int_equal(fclose(kh), 0);
    free(line);
    c = client_new(NULL, wrong, &only_ed, NULL);
    r = amk_client_connect(c, "127.0.0.1", db.port, fx.user, NULL);
    if (r != AMK_EHOSTKEY_CHANGED)
        fail_msg("a wrong host key: %s (%s)", amk_errname(r), amk_client_last_error(c));
    amk_client_free(c);

    c = client_connect(fx.user_key, NULL, NULL);
    ASSERT_OK(amk_client_run(c, "echo out; echo err >&2; exit 3", &out, &outlen, &err, &errlen,
        &status));
    assert_string_equal(out, "out\n");
    assert_string_equal(err, "err\n");
    assert_int_equal(status, 3);
    free(out);
    free(err);
    close_client(c);
    assert_true(dropbear_logged("Pubkey auth succeeded for '"));

    c = client_connect(fx.user_key_rsa, NULL, &kc);
    ASSERT_OK(amk_client_run(c, "echo rsa-ok", &out, &outlen, NULL, NULL, &status));
    assert_string_equal(out, "rsa-ok\n");
    assert_int_equal(status, 0);
    free(out);
    close_client(c);
    /* Dropbear names the key type; the signature was rsa-sha2-256, from
     * its server-sig-algs */
    assert_true(dropbear_logged("with ssh-rsa key"));
    assert_string_equal(kc.sig, "rsa-sha2-256");
}

/* Every algorithm Dropbear 2022.83 offers that amiko has: one connection
 * each with only it offered, checked negotiated, and a `cat` of 64 KiB. */
static void
test_server_algorithms(void **state)
{
    static const struct {
        enum amk_alg_kind kind;
        const char *name;
    } algs[] = {
        { AMK_ALG_KEX, "curve25519-sha256" },
        { AMK_ALG_KEX, "curve25519-sha256@libssh.org" },
        { AMK_ALG_KEX, "ecdh-sha2-nistp256" },
        { AMK_ALG_KEX, "ecdh-sha2-nistp384" },
        { AMK_ALG_KEX, "ecdh-sha2-nistp521" },
        { AMK_ALG_KEX, "diffie-hellman-group14-sha256" },
        { AMK_ALG_KEX, "diffie-hellman-group14-sha1" },
        { AMK_ALG_HOSTKEY, "ssh-ed25519" },
        { AMK_ALG_HOSTKEY, "ecdsa-sha2-nistp256" },
        { AMK_ALG_HOSTKEY, "ecdsa-sha2-nistp384" },
        { AMK_ALG_HOSTKEY, "ecdsa-sha2-nistp521" },
        { AMK_ALG_HOSTKEY, "rsa-sha2-256" },
        { AMK_ALG_HOSTKEY, "ssh-rsa" },
        { AMK_ALG_CIPHER, "chacha20-poly1305@openssh.com" },
        { AMK_ALG_CIPHER, "aes128-ctr" },
        { AMK_ALG_CIPHER, "aes256-ctr" },
        { AMK_ALG_MAC, "hmac-sha2-256" },
        { AMK_ALG_MAC, "hmac-sha1" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        struct interop_algs a = { 0 };
        struct amk_client *c;

        fprintf(stderr, "dropbear: %s\n", algs[i].name);
        switch (algs[i].kind) {
        case AMK_ALG_KEX:
            a.kex = algs[i].name;
            break;
        case AMK_ALG_HOSTKEY:
            a.hostkey = algs[i].name;
            break;
        case AMK_ALG_CIPHER:
            a.cipher = algs[i].name;
            break;
        default:
            a.cipher = "aes128-ctr";    /* a MAC is used only with a non-AEAD cipher */
            a.mac = algs[i].name;
            break;
        }
        if (strcmp(algs[i].name, "ecdsa-sha2-nistp521") == 0)
            dropbear_start(DB_KEY_ECDSA521);
        c = client_connect(NULL, &a, NULL);
        expect_alg(c, algs[i].kind, algs[i].name);
        cat_round_trip(c, CAT_SIZE);
        close_client(c);
        if (strcmp(algs[i].name, "ecdsa-sha2-nistp521") == 0)
            dropbear_start(DB_KEYS_DEFAULT);
    }
}

/* zlib@openssh.com, and key exchanges started by amiko on a live
 * connection (Dropbear's own limits, 1 GB and 8 h, are out of reach):
 * strict KEX's counters reset each time, data flows after each. */
static void
test_server_zlib_rekey(void **state)
{
    const struct interop_algs zlib = { .compression = "zlib@openssh.com,zlib,none" };
    const char *ciphers[] = { "chacha20-poly1305@openssh.com", "aes256-ctr" };
    struct amk_client *c;

    (void)state;
    c = client_connect(NULL, &zlib, NULL);
    expect_alg(c, AMK_ALG_COMPRESSION, "zlib@openssh.com");
    cat_round_trip(c, CAT_SIZE);
    close_client(c);

    for (size_t i = 0; i < 2; i++) {
        struct interop_algs a = { .cipher = ciphers[i], .compression = i ? "zlib" : NULL };
        struct kex_count kc = { 0 };

        c = client_connect(NULL, &a, &kc);
        assert_int_equal(kc.done, 1);
        for (int round = 2; round <= 4; round++) {
            ASSERT_OK(amk_transport_rekey(amk_session_transport(amk_client_session(c))));
            cat_round_trip(c, CAT_SIZE);
            assert_int_equal(kc.done, round);
        }
        close_client(c);
    }
}

/* SFTP through Dropbear's subsystem (it runs /usr/lib/sftp-server,
 * OpenSSH's): put and get of 1 MiB + 1, stat, remove. */
static void
test_server_sftp(void **state)
{
    char src[FIXTURE_PATH_MAX], remote[FIXTURE_PATH_MAX], back[FIXTURE_PATH_MAX];
    struct amk_sftp_attrs at;
    struct amk_client *c;
    struct amk_sftp *sftp = NULL;

    (void)state;
    serve_fixture_work_path(&fx, "sftp_src", src, sizeof(src));
    serve_fixture_work_path(&fx, "sftp_remote", remote, sizeof(remote));
    serve_fixture_work_path(&fx, "sftp_back", back, sizeof(back));
    tf_make(src, BIG_SIZE, 83);
    c = client_connect(NULL, NULL, NULL);
    ASSERT_OK(amk_sftp_new_client(&sftp, c));
    ASSERT_OK(amk_sftp_put(sftp, src, remote, 0, NULL, NULL));
    ASSERT_OK(amk_sftp_stat(sftp, remote, &at));
    assert_int_equal(at.size, BIG_SIZE);
    ASSERT_OK(amk_sftp_get(sftp, remote, back, 0, NULL, NULL));
    assert_int_equal(tf_same(src, remote), 1);
    assert_int_equal(tf_same(src, back), 1);
    ASSERT_OK(amk_sftp_remove(sftp, remote));
    amk_sftp_free(sftp);
    close_client(c);
}

/* `amiko ssh`: exit status, stdout and stderr apart, stdin through cat. */
static void
test_server_amiko_ssh(void **state)
{
    char port[16], kh[FIXTURE_PATH_MAX + 32], dest[128], out[FIXTURE_PATH_MAX];
    char err[FIXTURE_PATH_MAX], in[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)AMIKO_PATH, (char *)"ssh", (char *)"-p", port, (char *)"-i",
        fx.user_key, (char *)"-o", kh, (char *)"-o", (char *)"BatchMode=yes", dest,
        (char *)"echo out; echo err >&2; exit 7", NULL };
    char *o, *e;

    (void)state;
    snprintf(port, sizeof(port), "%u", (unsigned)db.port);
    snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", db.known_hosts);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
    serve_fixture_path(&fx, "amiko_ssh.out", out, sizeof(out));
    serve_fixture_path(&fx, "amiko_ssh.err", err, sizeof(err));
    assert_int_equal(run(argv, NULL, NULL, out, err), 7);
    o = tf_read(out, NULL);
    e = tf_read(err, NULL);
    assert_string_equal(o, "out\n");
    assert_non_null(strstr(e, "err\n"));
    free(o);
    free(e);

    serve_fixture_work_path(&fx, "ssh_stdin", in, sizeof(in));
    tf_make(in, BIG_SIZE, 89);
    argv[11] = (char *)"cat";
    assert_int_equal(run(argv, NULL, in, out, err), 0);
    assert_int_equal(tf_same(in, out), 1);
}

/* =====================================================================
 * dbclient against amiko serve
 * ===================================================================== */

static struct {
    char home[FIXTURE_PATH_MAX];        /* dbclient's HOME */
    char known_hosts[FIXTURE_PATH_MAX + 32]; /* home/.ssh/known_hosts */
    char key_ed25519[FIXTURE_PATH_MAX]; /* fx.user_key by dropbearconvert */
    char key_rsa[FIXTURE_PATH_MAX];     /* fx.user_key_rsa by dropbearconvert */
    char key_own[FIXTURE_PATH_MAX];     /* made by dropbearkey, authorized */
    char port[16];
} dc;

static void
dbclient_setup(void)
{
    char dir[FIXTURE_PATH_MAX + 8], line[1024];
    char *conv[] = { (char *)DROPBEARCONVERT_PATH, (char *)"openssh", (char *)"dropbear",
        NULL, NULL, NULL };

    serve_fixture_work_path(&fx, "dbhome", dc.home, sizeof(dc.home));
    make_dir(dc.home);
    snprintf(dir, sizeof(dir), "%s/.ssh", dc.home);
    make_dir(dir);
    snprintf(dc.known_hosts, sizeof(dc.known_hosts), "%s/known_hosts", dir);
    serve_fixture_work_path(&fx, "id_ed25519.db", dc.key_ed25519, sizeof(dc.key_ed25519));
    serve_fixture_work_path(&fx, "id_rsa.db", dc.key_rsa, sizeof(dc.key_rsa));
    serve_fixture_work_path(&fx, "id_own.db", dc.key_own, sizeof(dc.key_own));
    conv[3] = fx.user_key;
    conv[4] = dc.key_ed25519;
    assert_int_equal(run(conv, NULL, NULL, NULL, NULL), 0);
    conv[3] = fx.user_key_rsa;
    conv[4] = dc.key_rsa;
    assert_int_equal(run(conv, NULL, NULL, NULL, NULL), 0);
    db_keygen("ed25519", NULL, dc.key_own);
    db_public_line(dc.key_own, line, sizeof(line));
    assert_int_equal(sshd_fixture_authorize(&fx.base, line), 0);
}

/* Starts serve with @p host_keys and @p args and writes dbclient's
 * known_hosts. Dropbear 2022.83 looks hosts up by name alone, without
 * OpenSSH's "[host]:port" form, so the lines name 127.0.0.1; and it
 * base64-decodes the rest of the line, comment included (OpenSSH's
 * lines end with one), so the lines have none. */
static void
serve_start(unsigned host_keys, const char *const *args)
{
    char *kh;
    FILE *out;

    serve_fixture_stop(&fx);
    assert_int_equal(serve_fixture_start(&fx, host_keys, args), 0);
    snprintf(dc.port, sizeof(dc.port), "%u", (unsigned)fx.port);
    kh = tf_read(fx.known_hosts, NULL);
    assert_non_null(out = fopen(dc.known_hosts, "w"));
    for (char *p = kh, *nl; *p != '\0'; p = nl + 1) {
        char type[64], b64[2048];

        nl = strchr(p, '\n');
        if (nl == NULL || sscanf(p, "%*s %63s %2047s", type, b64) != 2)
            break;
        fprintf(out, "127.0.0.1 %s %s\n", type, b64);
    }
    assert_int_equal(fclose(out), 0);
    free(kh);
}

/* dbclient -p PORT -i KEY [-c CIPHERS] [-m MACS] user@127.0.0.1 CMD;
 * its exit status, output in the fixture's dbclient.out / .err. */
static int
dbclient(const char *key, const char *ciphers, const char *macs, const char *cmd, const char *in)
{
    char out[FIXTURE_PATH_MAX], err[FIXTURE_PATH_MAX];
    char *argv[16];
    int n = 0;

    argv[n++] = (char *)DBCLIENT_PATH;
    argv[n++] = (char *)"-p";
    argv[n++] = dc.port;
    argv[n++] = (char *)"-i";
    argv[n++] = (char *)(key != NULL ? key : dc.key_ed25519);
    if (ciphers != NULL) {
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)ciphers;
    }
    if (macs != NULL) {
        argv[n++] = (char *)"-m";
        argv[n++] = (char *)macs;
    }
    argv[n++] = fx.dest;
    argv[n++] = (char *)cmd;
    argv[n] = NULL;
    serve_fixture_path(&fx, "dbclient.out", out, sizeof(out));
    serve_fixture_path(&fx, "dbclient.err", err, sizeof(err));
    return run(argv, dc.home, in, out, err);
}

static char *
dbclient_output(const char *name)
{
    char path[FIXTURE_PATH_MAX];

    serve_fixture_path(&fx, name, path, sizeof(path));
    return tf_read(path, NULL);
}

/* Fails with dbclient's stderr and serve's log unless it exited @p want. */
static void
expect_exit(int got, int want)
{
    char *e;

    if (got == want)
        return;
    e = dbclient_output("dbclient.err");
    serve_fixture_dump_log(&fx, 3000);
    fail_msg("dbclient exited %d, wanted %d; stderr: %s", got, want, e);
}

/* Host key checked through known_hosts; three keys; exec; stdin. */
static void
test_dbclient_exec(void **state)
{
    char in[FIXTURE_PATH_MAX], out[FIXTURE_PATH_MAX];
    char *o, *e;
    FILE *kh;

    (void)state;
    dbclient_setup();
    serve_start(SERVE_HK_ALL, NULL);

    expect_exit(dbclient(NULL, NULL, NULL, "echo out; echo err >&2; exit 7", NULL), 7);
    o = dbclient_output("dbclient.out");
    e = dbclient_output("dbclient.err");
    assert_string_equal(o, "out\n");
    assert_string_equal(e, "err\n");
    free(o);
    free(e);
    expect_exit(dbclient(dc.key_rsa, NULL, NULL, "echo rsa-ok", NULL), 0);
    o = dbclient_output("dbclient.out");
    assert_string_equal(o, "rsa-ok\n");
    free(o);
    expect_exit(dbclient(dc.key_own, NULL, NULL, "echo own-ok", NULL), 0);
    o = dbclient_output("dbclient.out");
    assert_string_equal(o, "own-ok\n");
    free(o);

    serve_fixture_work_path(&fx, "db_stdin", in, sizeof(in));
    serve_fixture_path(&fx, "dbclient.out", out, sizeof(out));
    tf_make(in, BIG_SIZE, 97);
    expect_exit(dbclient(NULL, NULL, NULL, "cat", in), 0);
    assert_int_equal(tf_same(in, out), 1);

    /* a known_hosts naming another Ed25519 key (the user's): dbclient
     * stops (no tty to ask) */
    assert_non_null(kh = fopen(dc.known_hosts, "w"));
    {
        char pub[FIXTURE_PATH_MAX + 8], type[64], b64[2048];
        char *line;

        snprintf(pub, sizeof(pub), "%s.pub", fx.user_key);
        line = tf_read(pub, NULL);
        assert_int_equal(sscanf(line, "%63s %2047s", type, b64), 2);
        fprintf(kh, "127.0.0.1 %s %s\n", type, b64);
        free(line);
    }
    assert_int_equal(fclose(kh), 0);
    assert_int_not_equal(dbclient(NULL, NULL, NULL, "echo no", NULL), 0);
    o = dbclient_output("dbclient.out");
    assert_string_equal(o, "");
    free(o);
}

/* Each cipher and MAC of dbclient (-c / -m), each KEX and host-key
 * algorithm of both (serve restricted with -o): a 64 KiB cat; a
 * hmac-sha1-only dbclient with a CTR cipher is refused. */
static void
test_dbclient_algorithms(void **state)
{
    static const char *const ciphers[] = { "chacha20-poly1305@openssh.com", "aes128-ctr",
        "aes256-ctr" };
    static const char *const kexes[] = { "curve25519-sha256", "curve25519-sha256@libssh.org",
        "diffie-hellman-group14-sha256" };
    static const struct {
        unsigned keys;
        const char *alg;
    } hostkeys[] = {
        { SERVE_HK_ED25519, "ssh-ed25519" },
        { SERVE_HK_ECDSA256, "ecdsa-sha2-nistp256" },
        { SERVE_HK_ECDSA384, "ecdsa-sha2-nistp384" },
        { SERVE_HK_ECDSA521, "ecdsa-sha2-nistp521" },
        { SERVE_HK_RSA, "rsa-sha2-256" },
    };
    char in[FIXTURE_PATH_MAX], out[FIXTURE_PATH_MAX], opt[128];
    const char *args[] = { "-o", opt, NULL };
    char *e;

    (void)state;
    serve_fixture_work_path(&fx, "db_cat", in, sizeof(in));
    serve_fixture_path(&fx, "dbclient.out", out, sizeof(out));
    tf_make(in, CAT_SIZE, 101);
    serve_start(SERVE_HK_ALL, NULL);
    for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
        fprintf(stderr, "dbclient: %s\n", ciphers[i]);
        expect_exit(dbclient(NULL, ciphers[i], NULL, "cat", in), 0);
        assert_int_equal(tf_same(in, out), 1);
    }
    fprintf(stderr, "dbclient: hmac-sha2-256\n");
    expect_exit(dbclient(NULL, "aes128-ctr", "hmac-sha2-256", "cat", in), 0);
    assert_int_equal(tf_same(in, out), 1);
    /* SHA-1 is not in serve's defaults: refused with a CTR cipher; with
     * chacha20-poly1305 (dbclient's first) no MAC is negotiated, on
     * either side */
    assert_int_not_equal(dbclient(NULL, "aes128-ctr", "hmac-sha1", "echo no", NULL), 0);
    e = dbclient_output("dbclient.err");
    assert_non_null(strstr(e, "No matching algo mac"));
    free(e);
    expect_exit(dbclient(NULL, NULL, "hmac-sha1", "echo aead", NULL), 0);

    for (size_t i = 0; i < sizeof(kexes) / sizeof(kexes[0]); i++) {
        fprintf(stderr, "dbclient: %s\n", kexes[i]);
        snprintf(opt, sizeof(opt), "KexAlgorithms=%s", kexes[i]);
        serve_start(SERVE_HK_ALL, args);
        expect_exit(dbclient(NULL, NULL, NULL, "cat", in), 0);
        assert_int_equal(tf_same(in, out), 1);
    }
    for (size_t i = 0; i < sizeof(hostkeys) / sizeof(hostkeys[0]); i++) {
        fprintf(stderr, "dbclient: %s\n", hostkeys[i].alg);
        serve_start(hostkeys[i].keys, NULL);
        expect_exit(dbclient(NULL, NULL, NULL, "cat", in), 0);
        assert_int_equal(tf_same(in, out), 1);
    }
}

/* --- setup ----------------------------------------------------------- */

static void
test_server(void **state)
{
    dropbear_setup();
    test_server_auth_exec(state);
    test_server_algorithms(state);
    test_server_zlib_rekey(state);
    test_server_sftp(state);
    test_server_amiko_ssh(state);
    dropbear_stop();
}

static void
test_client(void **state)
{
    test_dbclient_exec(state);
    test_dbclient_algorithms(state);
    serve_fixture_stop(&fx);
}

static int
group_setup(void **state)
{
    static const char *const need[] = { DROPBEAR_PATH, DBCLIENT_PATH, DROPBEARKEY_PATH,
        DROPBEARCONVERT_PATH };

    (void)state;
    if (serve_fixture_need(need, sizeof(need) / sizeof(need[0])) != 0)
        return -1;
    return serve_fixture_init(&fx);
}

static int
group_teardown(void **state)
{
    (void)state;
    dropbear_stop();
    serve_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_client),
    };

    /* argv[1]: "server" (amiko against Dropbear's server) or "client"
     * (dbclient against amiko serve), a CTest test each */
    test_filter_from_argv(argc, argv, "test_", "");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
