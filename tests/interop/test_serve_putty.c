/*
 * Interop: PuTTY's command-line tools (Debian's putty-tools, 0.78;
 * scripts/deps check installs them) against `amiko serve`, a CTest test
 * per part (argv[1]):
 *  - plink: the host key pinned with -hostkey (SHA256 fingerprints of
 *    serve's keys; a wrong one, and none with an empty host-key cache,
 *    refused under -batch), Ed25519 and RSA keys converted to PPK by
 *    puttygen, -pw answering keyboard-interactive (PuTTY's first choice)
 *    and, with a saved session that turns keyboard-interactive off
 *    (AuthKI=0), password; a wrong password refused; exit status, stdout
 *    and stderr apart, 1 MiB + 1 through cat.
 *  - files: pscp over SFTP (-sftp) put and get of 0, 1, 32768 and
 *    1 MiB + 1 bytes, -p keeping times both ways, -r of a small tree, one
 *    put over SCP (-scp: serve runs `scp -t`); psftp -b with ls, mkdir,
 *    put, get, mv, chmod, rm, rmdir and an error ending the batch.
 *    PuTTY 0.78's SFTP client has no SYMLINK or READLINK at all
 *    (ssh/sftp.h defines neither; psftp has no ln), so nothing here sends
 *    one.
 *  - algorithms: a 64 KiB cat per KEX, host-key, cipher and MAC algorithm
 *    that PuTTY 0.78 and serve's defaults share (5 KEX, 6 host key, 6
 *    ciphers, 2 MACs: PuTTY has no hmac-sha2-512, and a serve with only
 *    that is refused), serve restricted with -o
 *    (PuTTY 0.78 picks algorithms only through saved sessions, and by
 *    family: "aes" is aes256-ctr first, then CBC), each checked in
 *    serve's "kex:" log line.
 * PuTTY keeps its random seed (and host-key cache and sessions) under
 * the passwd entry's home, not $HOME; PUTTYDIR (a directory in the work
 * directory) moves all of it, and the test checks that the seed is
 * written there.
 */
#include "test_helper.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "serve_fixture.h"

#define PLINK_PATH "/usr/bin/plink"
#define PSCP_PATH "/usr/bin/pscp"
#define PSFTP_PATH "/usr/bin/psftp"
#define PUTTYGEN_PATH "/usr/bin/puttygen"
#define RUN_MS 40000
#define BIG_SIZE ((uint64_t)1024 * 1024 + 1)
#define CAT_SIZE ((uint64_t)64 * 1024)
#define OLD_TIME 981173106      /* 2001-02-03 04:05:06 UTC */
#define N_HOST_KEYS 5

static struct serve_fixture fx;

static struct {
    char dir[FIXTURE_PATH_MAX];         /* PUTTYDIR */
    char env_dir[FIXTURE_PATH_MAX + 16];/* "PUTTYDIR=dir" */
    char ppk_ed25519[FIXTURE_PATH_MAX];
    char ppk_rsa[FIXTURE_PATH_MAX];
    char fp[N_HOST_KEYS][128];          /* SHA256:... of serve's host keys */
    char port[16];
    char out[FIXTURE_PATH_MAX];         /* the fixture's putty.out / putty.err */
    char err[FIXTURE_PATH_MAX];
} pt;

static const char *const HOST_KEY_NAMES[N_HOST_KEYS] = {
    "host_ed25519", "host_ecdsa256", "host_ecdsa384", "host_ecdsa521", "host_rsa",
};

/* Runs @p argv with PuTTY's files in pt.dir; its exit status. */
static int
run(char *const argv[], const char *in, const char *out, const char *err)
{
    char *env[] = { pt.env_dir, NULL };

    return serve_run(&fx, argv, in, out, err, env, RUN_MS);
}

static char *
slurp(const char *path)
{
    return serve_slurp(path, NULL);
}

/* Fails with the tool's stderr and serve's log unless it exited @p want. */
static void
expect_exit(int got, int want)
{
    char *e;

    if (got == want)
        return;
    e = slurp(pt.err);
    serve_fixture_dump_log(&fx, 3000);
    fail_msg("exited %d, wanted %d; stderr: %s", got, want, e);
}

/* SHA256 fingerprint of private key @p key (ssh-keygen -l) into @p fp. */
static void
fingerprint(const char *key, char *fp, size_t cap)
{
    char *argv[] = { (char *)SSH_KEYGEN_PATH, (char *)"-l", (char *)"-E", (char *)"sha256",
        (char *)"-f", (char *)key, NULL };
    char field[128];
    char *o;

    assert_int_equal(run(argv, NULL, pt.out, pt.err), 0);
    o = slurp(pt.out);
    assert_int_equal(sscanf(o, "%*s %127s", field), 1);
    assert_true(strncmp(field, "SHA256:", 7) == 0);
    snprintf(fp, cap, "%s", field);
    free(o);
}

/* PUTTYDIR, the PPK keys, the host keys' fingerprints. */
static void
putty_setup(void)
{
    char *gen[] = { (char *)PUTTYGEN_PATH, NULL, (char *)"-O", (char *)"private",
        (char *)"-o", NULL, NULL };
    char key[FIXTURE_PATH_MAX];
    static int done;

    if (done)
        return;
    done = 1;
    serve_fixture_path(&fx, "putty.out", pt.out, sizeof(pt.out));
    serve_fixture_path(&fx, "putty.err", pt.err, sizeof(pt.err));
    serve_fixture_work_path(&fx, "puttydir", pt.dir, sizeof(pt.dir));
    assert_int_equal(mkdir(pt.dir, 0700), 0);
    snprintf(pt.env_dir, sizeof(pt.env_dir), "PUTTYDIR=%s", pt.dir);

    serve_fixture_work_path(&fx, "id_ed25519.ppk", pt.ppk_ed25519, sizeof(pt.ppk_ed25519));
    serve_fixture_work_path(&fx, "id_rsa.ppk", pt.ppk_rsa, sizeof(pt.ppk_rsa));
    gen[1] = fx.user_key;
    gen[5] = pt.ppk_ed25519;
    expect_exit(run(gen, NULL, NULL, pt.err), 0);
    gen[1] = fx.user_key_rsa;
    gen[5] = pt.ppk_rsa;
    expect_exit(run(gen, NULL, NULL, pt.err), 0);
    for (size_t i = 0; i < N_HOST_KEYS; i++) {
        serve_fixture_path(&fx, HOST_KEY_NAMES[i], key, sizeof(key));
        fingerprint(key, pt.fp[i], sizeof(pt.fp[i]));
    }
}

/* PuTTY's random seed went to PUTTYDIR (so not to the real ~/.putty:
 * PuTTY writes it in one place). The real one's time is not compared:
 * other puttygen runs on the machine (CI) may write it meanwhile. */
static void
assert_putty_dir_used(void)
{
    char seed[FIXTURE_PATH_MAX + 16];

    snprintf(seed, sizeof(seed), "%s/randomseed", pt.dir);
    assert_int_equal(access(seed, F_OK), 0);
}

/* (Re)starts serve; the one before must have exited 0 (under ASan: no
 * report). */
static void
serve_start(unsigned host_keys, const char *const *args)
{
    if (fx.pid > 0)
        assert_int_equal(serve_fixture_stop(&fx), 0);
    assert_int_equal(serve_fixture_start(&fx, host_keys, args), 0);
    snprintf(pt.port, sizeof(pt.port), "%u", (unsigned)fx.port);
}

/*
 * Starts @p a with @p tool -batch -P port, a -hostkey for each of serve's
 * keys (@p pin 1), the single fingerprint @p pin_fp instead (non-NULL),
 * or none (@p pin 0), and -i @p key (NULL: none).
 */
static void
putty_argv(struct serve_argv *a, const char *tool, int pin, const char *pin_fp, const char *key)
{
    serve_argv_init(a, tool);
    serve_argv_add(a, "-batch");
    serve_argv_add(a, "-P");
    serve_argv_add(a, pt.port);
    if (pin_fp != NULL) {
        serve_argv_add(a, "-hostkey");
        serve_argv_add(a, pin_fp);
    } else if (pin) {
        for (size_t i = 0; i < N_HOST_KEYS; i++) {
            serve_argv_add(a, "-hostkey");
            serve_argv_add(a, pt.fp[i]);
        }
    }
    if (key != NULL) {
        serve_argv_add(a, "-i");
        serve_argv_add(a, key);
    }
}

/* plink with the Ed25519 key and every host key pinned: @p cmd. */
static int
plink(const char *cmd, const char *in)
{
    struct serve_argv a;

    putty_argv(&a, PLINK_PATH, 1, NULL, pt.ppk_ed25519);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, cmd);
    return run(a.v, in, pt.out, pt.err);
}

/* plink with no key, -load @p session (NULL: none) and -pw @p password:
 * @p cmd. */
static int
plink_pw(const char *session, const char *password, const char *cmd)
{
    struct serve_argv a;

    putty_argv(&a, PLINK_PATH, 1, NULL, NULL);
    if (session != NULL) {
        serve_argv_add(&a, "-load");
        serve_argv_add(&a, session);
    }
    serve_argv_add(&a, "-pw");
    serve_argv_add(&a, password);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, cmd);
    return run(a.v, NULL, pt.out, pt.err);
}

static void
assert_file_is(const char *path, const char *want)
{
    char *s = slurp(path);

    assert_string_equal(s, want);
    free(s);
}

/* File @p path (the tool's output) has @p needle. */
static void
assert_has(const char *path, const char *needle)
{
    char *s = slurp(path);

    if (strstr(s, needle) == NULL)
        fail_msg("%s lacks \"%s\": %s", path, needle, s);
    free(s);
}

static void
assert_err_has(const char *needle)
{
    assert_has(pt.err, needle);
}

/* serve's log holds more lines with @p needle than @p before. */
static void
assert_log_grew(const char *needle, int before)
{
    int n = 0;

    serve_fixture_log_count(&fx, needle, &n);
    if (n <= before) {
        serve_fixture_dump_log(&fx, 2000);
        fail_msg("serve's log: no new \"%s\"", needle);
    }
}

static int
log_count(const char *needle)
{
    int n = 0;

    serve_fixture_log_count(&fx, needle, &n);
    return n;
}

/* =====================================================================
 * plink
 * ===================================================================== */

static void
test_plink(void **state)
{
    const char *args[] = { "-v", "--password", serve_fixture_password_arg(&fx), NULL };
    char in[FIXTURE_PATH_MAX], wrong[128], session[FIXTURE_PATH_MAX + 32];
    struct serve_argv a;
    int n;

    (void)state;
    putty_setup();
    serve_start(SERVE_HK_ALL, args);

    /* exit status, stdout and stderr apart */
    n = log_count("method publickey");
    expect_exit(plink("echo out; echo err >&2; exit 7", NULL), 7);
    assert_file_is(pt.out, "out\n");
    assert_err_has("err\n");
    assert_log_grew("method publickey", n);
    /* the RSA key */
    putty_argv(&a, PLINK_PATH, 1, NULL, pt.ppk_rsa);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "echo rsa-ok");
    expect_exit(run(a.v, NULL, pt.out, pt.err), 0);
    assert_file_is(pt.out, "rsa-ok\n");
    /* 1 MiB + 1 through cat */
    serve_fixture_work_path(&fx, "plink_stdin", in, sizeof(in));
    tf_make(in, BIG_SIZE, 113);
    expect_exit(plink("cat", in), 0);
    assert_true(tf_same(in, pt.out));

    /* -pw: PuTTY tries keyboard-interactive first and answers with it */
    n = log_count("method keyboard-interactive");
    expect_exit(plink_pw(NULL, SERVE_PASSWORD, "echo kbd-ok"), 0);
    assert_file_is(pt.out, "kbd-ok\n");
    assert_log_grew("method keyboard-interactive", n);
    /* a saved session without keyboard-interactive: password */
    snprintf(session, sizeof(session), "%s/sessions", pt.dir);
    assert_int_equal(mkdir(session, 0700), 0);
    snprintf(session, sizeof(session), "%s/sessions/amk-nokbd", pt.dir);
    tf_write(session, "AuthKI=0\n", 9);
    n = log_count("method password");
    expect_exit(plink_pw("amk-nokbd", SERVE_PASSWORD, "echo pw-ok"), 0);
    assert_file_is(pt.out, "pw-ok\n");
    assert_log_grew("method password", n);
    /* a wrong password */
    assert_int_not_equal(plink_pw("amk-nokbd", "wrong-password", "echo no"), 0);
    assert_file_is(pt.out, "");

    /* the host key: a wrong fingerprint (the user key's), none at all */
    fingerprint(fx.user_key, wrong, sizeof(wrong));
    putty_argv(&a, PLINK_PATH, 0, wrong, pt.ppk_ed25519);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "echo no");
    assert_int_not_equal(run(a.v, NULL, pt.out, pt.err), 0);
    assert_file_is(pt.out, "");
    assert_err_has("Host key not in manually configured list");
    putty_argv(&a, PLINK_PATH, 0, NULL, pt.ppk_ed25519);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "echo no");
    assert_int_not_equal(run(a.v, NULL, pt.out, pt.err), 0);
    assert_file_is(pt.out, "");
    assert_err_has("host key is not cached");
    /* the right one alone (serve's Ed25519 key: PuTTY's first choice) */
    putty_argv(&a, PLINK_PATH, 0, pt.fp[0], pt.ppk_ed25519);
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "echo pinned");
    expect_exit(run(a.v, NULL, pt.out, pt.err), 0);
    assert_file_is(pt.out, "pinned\n");

    assert_putty_dir_used();
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

/* =====================================================================
 * pscp and psftp
 * ===================================================================== */

/* pscp -sftp (plus @p opt, may be NULL) from @p from to @p to; a remote
 * path is given as "user@127.0.0.1:" + the path. */
static int
pscp(const char *opt, const char *from, int from_remote, const char *to, int to_remote)
{
    char src[FIXTURE_PATH_MAX + 128], dst[FIXTURE_PATH_MAX + 128];
    struct serve_argv a;

    putty_argv(&a, PSCP_PATH, 1, NULL, pt.ppk_ed25519);
    serve_argv_add(&a, opt != NULL && strcmp(opt, "-scp") == 0 ? "-scp" : "-sftp");
    if (opt != NULL && strcmp(opt, "-scp") != 0)
        serve_argv_add(&a, opt);
    snprintf(src, sizeof(src), "%s%s%s", from_remote ? fx.dest : "", from_remote ? ":" : "",
        from);
    snprintf(dst, sizeof(dst), "%s%s%s", to_remote ? fx.dest : "", to_remote ? ":" : "", to);
    serve_argv_add(&a, src);
    serve_argv_add(&a, dst);
    return run(a.v, NULL, pt.out, pt.err);
}

static void
assert_mtime(const char *path, time_t want)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((long long)st.st_mtime, (long long)want);
}

static void
test_pscp(void)
{
    static const uint64_t sizes[] = { 0, 1, 32768, BIG_SIZE };
    char src[FIXTURE_PATH_MAX + 32], remote[FIXTURE_PATH_MAX], back[FIXTURE_PATH_MAX];
    char name[64], tree[FIXTURE_PATH_MAX], path[FIXTURE_PATH_MAX + 32];
    struct timeval tv[2] = { { OLD_TIME, 0 }, { OLD_TIME, 0 } };

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fprintf(stderr, "pscp: %llu bytes\n", (unsigned long long)sizes[i]);
        snprintf(name, sizeof(name), "pscp_src_%zu", i);
        serve_fixture_work_path(&fx, name, src, sizeof(src));
        snprintf(name, sizeof(name), "pscp_remote_%zu", i);
        serve_fixture_work_path(&fx, name, remote, sizeof(remote));
        snprintf(name, sizeof(name), "pscp_back_%zu", i);
        serve_fixture_work_path(&fx, name, back, sizeof(back));
        tf_make(src, sizes[i], 127 + (uint32_t)i);
        expect_exit(pscp(NULL, src, 0, remote, 1), 0);
        assert_true(tf_same(src, remote));
        expect_exit(pscp(NULL, remote, 1, back, 0), 0);
        assert_true(tf_same(src, back));
    }

    /* -p: times kept both ways (src is the 1 MiB + 1 one) */
    assert_int_equal(utimes(src, tv), 0);
    serve_fixture_work_path(&fx, "pscp_p_remote", remote, sizeof(remote));
    serve_fixture_work_path(&fx, "pscp_p_back", back, sizeof(back));
    expect_exit(pscp("-p", src, 0, remote, 1), 0);
    assert_true(tf_same(src, remote));
    assert_mtime(remote, OLD_TIME);
    assert_int_equal(utimes(remote, (struct timeval[2]){ { OLD_TIME + 60, 0 },
        { OLD_TIME + 60, 0 } }), 0);
    expect_exit(pscp("-p", remote, 1, back, 0), 0);
    assert_mtime(back, OLD_TIME + 60);

    /* over SCP: pscp runs `scp -t` through serve's exec */
    serve_fixture_work_path(&fx, "pscp_scp_remote", remote, sizeof(remote));
    expect_exit(pscp("-scp", src, 0, remote, 1), 0);
    assert_true(tf_same(src, remote));

    /* -r of a small tree into a directory */
    serve_fixture_work_path(&fx, "pscp_tree", tree, sizeof(tree));
    assert_int_equal(mkdir(tree, 0755), 0);
    snprintf(path, sizeof(path), "%s/sub", tree);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/a", tree);
    tf_write(path, "a\n", 2);
    snprintf(path, sizeof(path), "%s/sub/b", tree);
    tf_make(path, 40000, 131);
    serve_fixture_work_path(&fx, "pscp_tree_dst", remote, sizeof(remote));
    assert_int_equal(mkdir(remote, 0755), 0);
    expect_exit(pscp("-r", tree, 0, remote, 1), 0);
    snprintf(path, sizeof(path), "%s/pscp_tree/a", remote);
    assert_file_is(path, "a\n");
    snprintf(path, sizeof(path), "%s/pscp_tree/sub/b", remote);
    snprintf(src, sizeof(src), "%s/sub/b", tree);
    assert_true(tf_same(src, path));
}

/* psftp -b @p script (-bc: echoes each command); its exit status. */
static int
psftp(const char *script)
{
    char file[FIXTURE_PATH_MAX];
    struct serve_argv a;

    serve_fixture_path(&fx, "psftp.batch", file, sizeof(file));
    tf_write(file, script, strlen(script));
    putty_argv(&a, PSFTP_PATH, 1, NULL, pt.ppk_ed25519);
    serve_argv_add(&a, "-b");
    serve_argv_add(&a, file);
    serve_argv_add(&a, "-bc");
    serve_argv_add(&a, fx.dest);
    return run(a.v, NULL, pt.out, pt.out);
}

static void
assert_out_has(const char *needle)
{
    assert_has(pt.out, needle);
}

static void
test_psftp(void)
{
    char src[FIXTURE_PATH_MAX], got[FIXTURE_PATH_MAX], path[FIXTURE_PATH_MAX];
    char script[4 * FIXTURE_PATH_MAX + 512];
    struct stat st;

    serve_fixture_work_path(&fx, "psftp_src", src, sizeof(src));
    serve_fixture_work_path(&fx, "psftp_got", got, sizeof(got));
    tf_make(src, BIG_SIZE, 137);
    snprintf(script, sizeof(script),
        "cd %s\n"
        "mkdir pd\n"
        "put %s pd/f\n"
        "ls pd\n"
        "get pd/f %s\n"
        "mv pd/f pd/g\n"
        "chmod 600 pd/g\n"
        "put %s pd/h\n"
        "rm pd/h\n"
        "mkdir pd/e\n"
        "rmdir pd/e\n"
        "ls\n",
        fx.work, src, got, src);
    expect_exit(psftp(script), 0);
    assert_true(tf_same(src, got));
    assert_out_has("mkdir ");
    assert_out_has("pd: OK");
    assert_out_has(" 1048577 ");       /* ls pd: f with its size */
    assert_out_has("/pd/f -> ");
    assert_out_has("/pd/g: 0644 -> 0600");
    assert_out_has(" pd\n");           /* ls: the directory */
    /* on disk: g is f renamed, mode 0600; h and e are gone */
    serve_fixture_work_path(&fx, "pd/g", path, sizeof(path));
    assert_true(tf_same(src, path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    serve_fixture_work_path(&fx, "pd/f", path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1);
    serve_fixture_work_path(&fx, "pd/h", path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1);
    serve_fixture_work_path(&fx, "pd/e", path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1);

    /* an error (rm of a missing file) ends the batch with a failure:
     * the ls after it does not run */
    snprintf(script, sizeof(script), "cd %s\nrm pd/missing\nls pd\n", fx.work);
    assert_int_not_equal(psftp(script), 0);
    assert_out_has("no such file");
    {
        char *s = slurp(pt.out);

        assert_null(strstr(s, "Listing directory"));
        free(s);
    }
}

static void
test_files(void **state)
{
    (void)state;
    putty_setup();
    serve_start(SERVE_HK_ALL, NULL);
    test_pscp();
    test_psftp();
    assert_putty_dir_used();
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

/* =====================================================================
 * algorithms
 * ===================================================================== */

/* serve restricted by @p opt1 / @p opt2 ("-o" values, may be NULL) and
 * @p host_keys; plink cats 64 KiB; serve logged @p needle once more. */
static void
one_algorithm(unsigned host_keys, const char *opt1, const char *opt2, const char *needle,
    const char *in)
{
    const char *args[] = { "-v", "-o", opt1, "-o", opt2, NULL };
    int n;

    fprintf(stderr, "plink: %s\n", needle);
    if (opt2 == NULL)
        args[3] = NULL;
    if (opt1 == NULL)
        args[1] = NULL;
    serve_start(host_keys, args);
    n = log_count(needle);
    expect_exit(plink("cat", in), 0);
    assert_true(tf_same(in, pt.out));
    assert_log_grew(needle, n);
}

static void
test_algorithms(void **state)
{
    /* PuTTY 0.78 and serve's defaults: no NIST ECDH, SHA-1 or CBC */
    static const char *const kexes[] = { "curve25519-sha256", "curve25519-sha256@libssh.org",
        "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
        "diffie-hellman-group-exchange-sha256" };
    static const char *const ciphers[] = { "chacha20-poly1305@openssh.com",
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr",
        "aes256-ctr" };
    /* PuTTY 0.78 has no hmac-sha2-512 (its list: hmac-sha2-256, hmac-sha1,
     * hmac-sha1-96, hmac-md5 and their -etm@openssh.com forms) */
    static const char *const macs[] = { "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256" };
    static const struct {
        unsigned keys;
        const char *alg;
    } hostkeys[] = {
        { SERVE_HK_ED25519, "ssh-ed25519" },
        { SERVE_HK_ECDSA256, "ecdsa-sha2-nistp256" },
        { SERVE_HK_ECDSA384, "ecdsa-sha2-nistp384" },
        { SERVE_HK_ECDSA521, "ecdsa-sha2-nistp521" },
        { SERVE_HK_RSA, "rsa-sha2-512" },
        { SERVE_HK_RSA, "rsa-sha2-256" },
    };
    char in[FIXTURE_PATH_MAX], opt1[128], opt2[128], needle[192];

    (void)state;
    putty_setup();
    serve_fixture_work_path(&fx, "alg_cat", in, sizeof(in));
    tf_make(in, CAT_SIZE, 139);
    for (size_t i = 0; i < sizeof(kexes) / sizeof(kexes[0]); i++) {
        snprintf(opt1, sizeof(opt1), "KexAlgorithms=%s", kexes[i]);
        snprintf(needle, sizeof(needle), "kex: %s,", kexes[i]);
        one_algorithm(SERVE_HK_ALL, opt1, NULL, needle, in);
    }
    for (size_t i = 0; i < sizeof(hostkeys) / sizeof(hostkeys[0]); i++) {
        snprintf(opt1, sizeof(opt1), "HostKeyAlgorithms=%s", hostkeys[i].alg);
        snprintf(needle, sizeof(needle), "host key %s,", hostkeys[i].alg);
        one_algorithm(hostkeys[i].keys, opt1, NULL, needle, in);
    }
    for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
        snprintf(opt1, sizeof(opt1), "Ciphers=%s", ciphers[i]);
        snprintf(needle, sizeof(needle), " %s/%s ", ciphers[i], ciphers[i]);
        one_algorithm(SERVE_HK_ALL, opt1, NULL, needle, in);
    }
    for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
        snprintf(opt1, sizeof(opt1), "Ciphers=aes128-ctr");
        snprintf(opt2, sizeof(opt2), "MACs=%s", macs[i]);
        snprintf(needle, sizeof(needle), " %s/%s ", macs[i], macs[i]);
        one_algorithm(SERVE_HK_ALL, opt1, opt2, needle, in);
    }
    /* serve with only hmac-sha2-512(-etm): no MAC in common, refused.
     * (PuTTY 0.78 says "Selected client-to-server MAC ... does not
     * correspond to any supported algorithm" for the -etm one, where
     * "Couldn't agree" would be the right words; not checked.) */
    {
        const char *args[] = { "-o", "Ciphers=aes128-ctr", "-o",
            "MACs=hmac-sha2-512-etm@openssh.com,hmac-sha2-512", NULL };

        serve_start(SERVE_HK_ALL, args);
        assert_int_not_equal(plink("echo no", NULL), 0);
        assert_file_is(pt.out, "");
    }
    assert_putty_dir_used();
    assert_int_equal(serve_fixture_stop(&fx), 0);
}

/* --- setup ----------------------------------------------------------- */

static int
group_setup(void **state)
{
    static const char *const need[] = { PLINK_PATH, PSCP_PATH, PSFTP_PATH, PUTTYGEN_PATH,
        SSH_KEYGEN_PATH };

    (void)state;
    if (serve_fixture_need(need, sizeof(need) / sizeof(need[0])) != 0)
        return -1;
    return serve_fixture_init(&fx);
}

static int
group_teardown(void **state)
{
    (void)state;
    serve_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plink),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_algorithms),
    };

    /* argv[1]: "plink", "files" or "algorithms" (a CTest test each) */
    test_filter_from_argv(argc, argv, "test_", "");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
