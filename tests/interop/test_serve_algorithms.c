/*
 * Interop: every algorithm against `amiko serve`.
 *
 * `openssh`: one exec of OpenSSH's ssh per algorithm that both it
 * (`ssh -Q`) and amiko support, restricted to that algorithm: `cat` with a
 * 64 KiB stdin that must come back whole. serve runs with
 * `-o KexAlgorithms=+... -o Ciphers=+... -o MACs=+...
 * -o HostKeyAlgorithms=+...` adding what its hardened defaults leave out.
 * ssh's debug output must name the algorithm as negotiated. Then serve
 * with its defaults refuses the legacy ones (the -o options mattered).
 *
 * `amiko`: amiko's client (amk_client, the public API) against the same
 * serve across the algorithm combinations, pairwise over
 * kex x host key x cipher x MAC (each pair of values of two kinds appears
 * in at least one connection; MAC pairs count only with a non-AEAD cipher,
 * where the MAC is used), zlib@openssh.com on every other connection:
 * connect with known_hosts checking, publickey, the negotiated
 * algorithms checked, a 64 KiB file written and read back over SFTP (the
 * first connection also execs a command).
 *
 * argv[1] picks the part: openssh_kex_hostkey, openssh_cipher_mac,
 * amiko_a or amiko_b (the two halves of the pairwise set; nothing: all);
 * CTest runs each as its own test so that each stays well under a minute,
 * also under ASan on a loaded machine.
 */
#include "test_helper.h"

#include <signal.h>
#include <unistd.h>

#include "serve_fixture.h"

#define RUN_MS 40000

static const char *const KEX[] = {
    "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1", NULL
};
static const char *const HOSTKEY[] = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", NULL
};
static const char *const CIPHER[] = {
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc", NULL
};
static const char *const MAC[] = {
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
    "hmac-sha2-512", "hmac-sha1", "hmac-sha1-etm@openssh.com", NULL
};

/* What serve's defaults leave out (tools/amiko serve follows the library's
 * server defaults): added with OpenSSH's "+" edit. */
static const char *const SERVE_ALL_ARGS[] = {
    "-o", "KexAlgorithms=+ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
          "diffie-hellman-group14-sha256,diffie-hellman-group14-sha1",
    "-o", "HostKeyAlgorithms=+ssh-rsa",
    "-o", "Ciphers=+aes128-cbc,aes192-cbc,aes256-cbc",
    "-o", "MACs=+hmac-sha1,hmac-sha1-etm@openssh.com",
    NULL
};

#define FILE_SIZE (64 * 1024)

static struct serve_fixture fx;
static char out_path[FIXTURE_PATH_MAX], err_path[FIXTURE_PATH_MAX], src_path[FIXTURE_PATH_MAX];
static uint8_t file_data[FILE_SIZE];

static int
in_list(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

static void
show_failure(const char *what)
{
    char *o = serve_slurp(out_path, NULL), *e = serve_slurp(err_path, NULL);

    fprintf(stderr, "%s\n--- stdout ---\n%s\n--- stderr (tail) ---\n%s\n", what, o,
        strlen(e) > 3000 ? e + strlen(e) - 3000 : e);
    free(o);
    free(e);
    serve_fixture_dump_log(&fx, 3000);
}

/* 1 when @p path has @p needle followed by a space or a line end
 * (ssh ends its log lines with "\r\n" when run by sftp). */
static int
file_has_word(const char *path, const char *needle)
{
    char *s = serve_slurp(path, NULL);
    int found = 0;

    for (const char *p = s; !found && (p = strstr(p, needle)) != NULL; p++) {
        char next = p[strlen(needle)];

        found = next == ' ' || next == '\r' || next == '\n';
    }
    free(s);
    return found;
}

/* ssh -v with "-o @p opt" (and @p opt2), the sftp subsystem, stdin empty. */
static int
ssh_with(const char *opt, const char *opt2)
{
    const char *first[] = { opt, opt2, NULL };
    struct serve_argv a;

    serve_argv_client(&a, &fx, SSH_PATH, first);
    serve_argv_add(&a, "-v");
    serve_argv_add(&a, "-s");
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "sftp");
    return serve_run(&fx, a.v, NULL, out_path, err_path, NULL, RUN_MS);
}

/* ssh -v with "-o @p opt" (and @p opt2) execs `cat` with the 64 KiB file
 * as its stdin: 0 when it exited 0 and the output is the file. */
static int
exec_with(const char *opt, const char *opt2)
{
    const char *first[] = { opt, opt2, NULL };
    struct serve_argv a;
    int rc;

    serve_argv_client(&a, &fx, SSH_PATH, first);
    serve_argv_add(&a, "-v");
    serve_argv_add(&a, fx.dest);
    serve_argv_add(&a, "cat");
    rc = serve_run(&fx, a.v, src_path, out_path, err_path, NULL, RUN_MS);
    if (rc == 0 && !tf_same(src_path, out_path))
        rc = -2;
    return rc;
}

/*
 * One exec per name of @p names that `ssh -Q @p query` lists, ssh limited
 * to it with @p option; ssh -v must report @p before and the name (its
 * line for the negotiated algorithm). @p opt2 is a second option for every run (may be NULL).
 */
static void
each(const char *const *names, const char *query, const char *option, const char *before,
    const char *opt2)
{
    char offered[8192], opt[256], want[256];
    int tested = 0;

    assert_int_equal(sshd_fixture_query(&fx.base, query, offered, sizeof(offered)), 0);
    for (size_t i = 0; names[i] != NULL; i++) {
        int rc;

        if (!in_list(offered, names[i])) {
            print_message("    %s: not in this ssh\n", names[i]);
            continue;
        }
        snprintf(opt, sizeof(opt), "%s=%s", option, names[i]);
        rc = exec_with(opt, opt2 != NULL ? opt2 : opt);
        if (rc != 0) {
            show_failure(names[i]);
            fail_msg("%s: ssh exited %d (-2: cat's output differs)", names[i], rc);
        }
        snprintf(want, sizeof(want), "%s%s", before, names[i]);
        if (!file_has_word(err_path, want)) {
            show_failure(names[i]);
            fail_msg("%s: ssh -v lacks \"%s\"", names[i], want);
        }
        print_message("    %s: ok\n", names[i]);
        tested++;
    }
    assert_true(tested > 0);
}

static void
test_openssh_kex(void **state)
{
    (void)state;
    each(KEX, "kex", "KexAlgorithms", "kex: algorithm: ", NULL);
}

static void
test_openssh_hostkey(void **state)
{
    (void)state;
    each(HOSTKEY, "key-sig", "HostKeyAlgorithms", "kex: host key algorithm: ", NULL);
}

static void
test_openssh_cipher(void **state)
{
    (void)state;
    each(CIPHER, "cipher", "Ciphers", "kex: server->client cipher: ", NULL);
}

static void
test_openssh_mac(void **state)
{
    (void)state;
    /* a MAC is used only with a cipher that is not AEAD */
    each(MAC, "mac", "MACs", "MAC: ", "Ciphers=aes128-ctr");
}

/* Serve with its defaults: what they leave out is refused. */
static void
test_openssh_defaults_refuse_legacy(void **state)
{
    static const struct {
        const char *opt;
        const char *err;
    } legacy[] = {
        { "KexAlgorithms=diffie-hellman-group14-sha1", "no matching key exchange method" },
        { "KexAlgorithms=ecdh-sha2-nistp256", "no matching key exchange method" },
        { "HostKeyAlgorithms=ssh-rsa", "no matching host key type" },
        { "Ciphers=aes128-cbc", "no matching cipher" },
        { "MACs=hmac-sha1", "no matching MAC" },
    };

    (void)state;
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ALL, NULL), 0);
    for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
        /* the MAC case needs a cipher that uses one */
        int rc = ssh_with(legacy[i].opt, i == 4 ? "Ciphers=aes128-ctr" : legacy[i].opt);

        if (rc != 255 || !file_has_word(err_path, legacy[i].err)) {
            show_failure(legacy[i].opt);
            fail_msg("%s: ssh exited %d, expected 255 with \"%s\"", legacy[i].opt, rc,
                legacy[i].err);
        }
    }
    assert_int_equal(serve_fixture_start(&fx, SERVE_HK_ALL, SERVE_ALL_ARGS), 0);
}

/* --- amiko's client, pairwise -------------------------------------------- */

#define NK 10
#define NH 7
#define NC 9
#define NM 6

static int
is_aead(size_t c)
{
    return strstr(CIPHER[c], "gcm") != NULL || strstr(CIPHER[c], "poly1305") != NULL;
}

struct pairs {
    uint8_t kh[NK][NH], kc[NK][NC], km[NK][NM], hc[NH][NC], hm[NH][NM], cm[NC][NM];
};

/* The pairs combination (k,h,c,m) would newly cover. */
static int
gain(const struct pairs *p, size_t k, size_t h, size_t c, size_t m)
{
    int g = !p->kh[k][h] + !p->kc[k][c] + !p->hc[h][c];

    if (!is_aead(c))
        g += !p->km[k][m] + !p->hm[h][m] + !p->cm[c][m];
    return g;
}

static void
cover(struct pairs *p, size_t k, size_t h, size_t c, size_t m)
{
    p->kh[k][h] = p->kc[k][c] = p->hc[h][c] = 1;
    if (!is_aead(c))
        p->km[k][m] = p->hm[h][m] = p->cm[c][m] = 1;
}

/* One connection of amiko's client with these algorithms; exec and check. */
/* Writes file_data to @p path over SFTP and reads it back. */
static int
sftp_round_trip(struct amk_client *cl, const char *path)
{
    static uint8_t back[FILE_SIZE];
    struct amk_sftp *sftp = NULL;
    struct amk_sftp_file *f = NULL;
    size_t got = 0;
    int r;

    if ((r = amk_sftp_new_client(&sftp, cl)) != AMK_OK)
        return r;
    if ((r = amk_sftp_open(sftp, path, AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, 0600,
        &f)) == AMK_OK) {
        r = amk_sftp_write(f, file_data, sizeof(file_data));
        if (amk_sftp_close(f) != AMK_OK && r == AMK_OK)
            r = AMK_EIO;
    }
    if (r == AMK_OK && (r = amk_sftp_open(sftp, path, AMK_SFTP_READ, 0, &f)) == AMK_OK) {
        r = amk_sftp_pread(f, back, sizeof(back), 0, &got);
        if (amk_sftp_close(f) != AMK_OK && r == AMK_OK)
            r = AMK_EIO;
    }
    if (r == AMK_OK && (got != sizeof(back) || memcmp(back, file_data, sizeof(back)) != 0))
        r = AMK_EPROTO;
    if (r == AMK_OK)
        r = amk_sftp_remove(sftp, path);
    amk_sftp_free(sftp);
    return r;
}

static void
amiko_client_once(size_t k, size_t h, size_t c, size_t m, int compress, int exec)
{
    struct amk_client *cl = NULL;
    const char *got = NULL;
    char *out = NULL, path[FIXTURE_PATH_MAX];
    size_t outlen = 0;
    int status = 0, r;

    ASSERT_OK(amk_client_new(&cl));
    ASSERT_OK(amk_client_set_algorithms(cl, AMK_ALG_KEX, KEX[k]));
    ASSERT_OK(amk_client_set_algorithms(cl, AMK_ALG_HOSTKEY, HOSTKEY[h]));
    ASSERT_OK(amk_client_set_algorithms(cl, AMK_ALG_CIPHER, CIPHER[c]));
    ASSERT_OK(amk_client_set_algorithms(cl, AMK_ALG_MAC, MAC[m]));
    ASSERT_OK(amk_client_set_compression(cl, compress));
    ASSERT_OK(amk_client_load_host_keys(cl, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(cl, 0));
    ASSERT_OK(amk_client_add_key_file(cl, fx.user_key));
    ASSERT_OK(amk_client_set_auth_methods(cl, 1, 0));
    ASSERT_OK(amk_client_set_connect_timeout(cl, RUN_MS));
    ASSERT_OK(amk_client_set_timeout(cl, RUN_MS));
    serve_fixture_work_path(&fx, "combo", path, sizeof(path));
    r = amk_client_connect(cl, "127.0.0.1", fx.port, fx.user, NULL);
    if (r == AMK_OK)
        r = sftp_round_trip(cl, path);
    if (r == AMK_OK && exec)
        r = amk_client_run(cl, "echo combo-ok", &out, &outlen, NULL, NULL, &status);
    if (r != AMK_OK || status != 0 || (exec && strcmp(out, "combo-ok\n") != 0)) {
        serve_fixture_dump_log(&fx, 3000);
        fail_msg("%s %s %s %s%s: %s (%s), status %d, output \"%s\"", KEX[k], HOSTKEY[h],
            CIPHER[c], MAC[m], compress ? " zlib" : "", amk_errname(r),
            amk_client_last_error(cl), status, out != NULL ? out : "");
    }
    free(out);
    /* what was negotiated is what was asked for */
    ASSERT_OK(amk_session_algorithm(amk_client_session(cl), AMK_ALG_KEX, &got));
    assert_string_equal(got, KEX[k]);
    ASSERT_OK(amk_session_algorithm(amk_client_session(cl), AMK_ALG_HOSTKEY, &got));
    assert_string_equal(got, HOSTKEY[h]);
    ASSERT_OK(amk_session_algorithm(amk_client_session(cl), AMK_ALG_CIPHER, &got));
    assert_string_equal(got, CIPHER[c]);
    if (!is_aead(c)) {
        ASSERT_OK(amk_session_algorithm(amk_client_session(cl), AMK_ALG_MAC, &got));
        assert_string_equal(got, MAC[m]);
    }
    ASSERT_OK(amk_session_algorithm(amk_client_session(cl), AMK_ALG_COMPRESSION, &got));
    assert_string_equal(got, compress ? "zlib@openssh.com" : "none");
    ASSERT_OK(amk_client_close(cl));
    amk_client_free(cl);
}

/* Which half of the pairwise set this process connects for: 0 or 1, or
 * -1 for all of it (the set is computed whole either way). */
static int amiko_half = -1;

static void
test_amiko_client_pairwise(void **state)
{
    struct pairs *p = calloc(1, sizeof(*p));
    int runs = 0, done = 0;

    (void)state;
    assert_non_null(p);
    /* greedy: each round takes the combination covering the most new pairs */
    for (;;) {
        size_t bk = 0, bh = 0, bc = 0, bm = 0;
        int best = 0;

        for (size_t k = 0; k < NK; k++)
            for (size_t h = 0; h < NH; h++)
                for (size_t c = 0; c < NC; c++)
                    for (size_t m = 0; m < NM; m++) {
                        int g = gain(p, k, h, c, m);

                        if (g > best) {
                            best = g;
                            bk = k;
                            bh = h;
                            bc = c;
                            bm = m;
                        }
                    }
        if (best == 0)
            break;
        cover(p, bk, bh, bc, bm);
        /* the halves alternate, so each sees compression on and off */
        if (amiko_half < 0 || (runs / 2) % 2 == amiko_half) {
            amiko_client_once(bk, bh, bc, bm, runs % 2, done == 0);
            done++;
        }
        runs++;
    }
    free(p);
    print_message("    %d connections (of %d) cover every pair\n", done, runs);
    assert_true(runs >= NK * NC);
    assert_true(done > 0);
}

static int
group_setup(void **state)
{
    (void)state;
    if (serve_fixture_need(NULL, 0) != 0)
        return -1;
    if (serve_fixture_init(&fx) != 0)
        return -1;
    serve_fixture_path(&fx, "client.out", out_path, sizeof(out_path));
    serve_fixture_path(&fx, "client.err", err_path, sizeof(err_path));
    serve_fixture_path(&fx, "alg.src", src_path, sizeof(src_path));
    tf_fill(file_data, sizeof(file_data), 4242);
    if (serve_write_file(src_path, file_data, sizeof(file_data)) != 0)
        return -1;
    return serve_fixture_start(&fx, SERVE_HK_ALL, SERVE_ALL_ARGS);
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
    const struct CMUnitTest openssh_kex_hostkey[] = {
        cmocka_unit_test(test_openssh_kex),
        cmocka_unit_test(test_openssh_hostkey),
    };
    const struct CMUnitTest openssh_cipher_mac[] = {
        cmocka_unit_test(test_openssh_cipher),
        cmocka_unit_test(test_openssh_mac),
        cmocka_unit_test(test_openssh_defaults_refuse_legacy),
    };
    const struct CMUnitTest amiko[] = {
        cmocka_unit_test(test_amiko_client_pairwise),
    };
    const char *part = argc > 1 ? argv[1] : "all";
    int all = strcmp(part, "all") == 0, failed = 0;

    if (all || strncmp(part, "openssh_", 8) == 0) {
        if (access(SSH_PATH, X_OK) != 0 || access(SSH_KEYGEN_PATH, X_OK) != 0) {
            fprintf(stderr, "skipped: OpenSSH's ssh is not installed\n");
            return FIXTURE_SKIP;
        }
        if (all || strcmp(part, "openssh_kex_hostkey") == 0)
            failed += cmocka_run_group_tests_name("openssh kex, host key", openssh_kex_hostkey,
                group_setup, group_teardown);
        if (all || strcmp(part, "openssh_cipher_mac") == 0)
            failed += cmocka_run_group_tests_name("openssh cipher, mac", openssh_cipher_mac,
                group_setup, group_teardown);
    }
    if (all || strncmp(part, "amiko_", 6) == 0) {
        amiko_half = strcmp(part, "amiko_a") == 0 ? 0 : strcmp(part, "amiko_b") == 0 ? 1 : -1;
        if (access(SSH_KEYGEN_PATH, X_OK) != 0) {
            fprintf(stderr, "skipped: ssh-keygen (for the fixture's keys) is not installed\n");
            return FIXTURE_SKIP;
        }
        failed += cmocka_run_group_tests_name("amiko", amiko, group_setup, group_teardown);
    }
    return failed;
}
