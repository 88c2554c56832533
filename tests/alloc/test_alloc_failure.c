/*
 * Allocation-failure injection (src/util/alloc.h, built with
 * AMIKO_ALLOC_FAULTS into this test's private copy of src/util, src/crypto
 * and src/keys). Each operation runs once to warm OpenSSL's caches, then
 * again with its n-th allocation failing, for n = 1, 2, ... until a run
 * reaches its end without meeting the failure: amiko's allocations, then
 * OpenSSL's (see run_faults() for how many of those). Every failed run must return
 * AMK_ENOMEM (a run may also recover and succeed), never crash, never leak
 * (ASan's leak check at exit) and never report something else, such as a
 * wrong result. One allowance: when the failure hits inside OpenSSL, 3.0
 * often does not queue ERR_R_MALLOC_FAILURE (amk_ossl_error() maps it to
 * AMK_ENOMEM when it does) and reports a failed import, point check or
 * verification instead, so AMK_ECRYPTO and the fail-closed AMK_EKEY,
 * AMK_ESIGNATURE, AMK_EFORMAT, AMK_ENOTSUP and AMK_EPASSPHRASE pass too (a key not loaded, a signature
 * not accepted, a known_hosts line skipped); the summary line counts them.
 * AMK_EINTERNAL, AMK_EINVAL, success with a wrong result, or any code other
 * than AMK_ENOMEM for a failure in amiko's own allocations fail the test. OpenSSL's own allocations count too, through
 * CRYPTO_set_mem_functions() (set first thing in main()).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../unit/test_helper.h"

#include <amiko/authorized_keys.h>
#include <amiko/key.h>
#include <amiko/known_hosts.h>

#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "crypto/kex.h"
#include "crypto/mac.h"
#include "keys/key.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/namelist.h"

/* --- OpenSSL's allocations share the countdown ---------------------------- */

static int ossl_hooked;
static int fired_in_ossl;
/* OpenSSL's own countdown (0: off) and its count of allocations. */
static unsigned long ossl_countdown, ossl_count;

static int
ossl_tick(void)
{
    ossl_count++;
    if (ossl_countdown == 0 || --ossl_countdown != 0)
        return 0;
    fired_in_ossl = 1;
    return 1;
}

static void *
ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return ossl_tick() ? NULL : malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return ossl_tick() ? NULL : realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* --- the driver ------------------------------------------------------------ */

/* AMK_ALLOC_TRAP="name:n" raises SIGTRAP where the n-th allocation of
 * operation "name" fails: gdb -ex run -ex bt shows who did not map it. */
static const char *trap_name;
static unsigned long trap_n;
static int trap_armed;

static void
fault_trap(void)
{
    if (trap_armed)
        raise(SIGTRAP);
}

/* Totals for the summary line. */
static unsigned long total_runs, total_recovered, total_ossl, total_ossl_unreported;

/* Checks one run that had an allocation fail; see the top comment. */
static void
check_run(const char *name, const char *where, unsigned long n, int fired, int r)
{
    total_runs++;
    if (!fired)
        return;
    if (r == AMK_OK) {
        total_recovered++;
        return;
    }
    if (fired_in_ossl) {
        total_ossl++;
        if (r == AMK_ECRYPTO || r == AMK_EKEY || r == AMK_ESIGNATURE || r == AMK_EFORMAT ||
            r == AMK_ENOTSUP || r == AMK_EPASSPHRASE) {
            total_ossl_unreported++;
            return;
        }
    }
    if (r != AMK_ENOMEM)
        fail_msg("%s: allocation %lu %s failed: returned %s, not AMK_ENOMEM", name, n, where,
            amk_errname(r));
}

/*
 * Runs @p op with its n-th allocation failing: first amiko's own, for
 * every n; then OpenSSL's, for every n when AMK_ALLOC_FULL is set (tens of
 * thousands of runs, minutes under ASan) and otherwise for about 80
 * evenly spaced n per operation.
 */
static void
run_faults(const char *name, int (*op)(void *), void *ctx)
{
    unsigned long n, ours, theirs, step;
    int r, fired;

    ossl_count = 0;
    if ((r = op(ctx)) != AMK_OK)
        fail_msg("%s: fails without faults: %s", name, amk_errname(r));
    theirs = ossl_count;
    for (n = 1; n < 100000; n++) {
        fired_in_ossl = 0;
        trap_armed = trap_name != NULL && strcmp(trap_name, name) == 0 && trap_n == n;
        amk_alloc_fault_arm(n);
        r = op(ctx);
        fired = amk_alloc_fault_fired();
        amk_alloc_fault_arm(0);
        check_run(name, "in amiko", n, fired, r);
        if (!fired) {
            if (r != AMK_OK)
                fail_msg("%s: fails with no fault injected: %s", name, amk_errname(r));
            break;
        }
    }
    ours = n - 1;
    step = getenv("AMK_ALLOC_FULL") != NULL || theirs < 80 ? 1 : theirs / 80;
    for (n = 1; n <= theirs + 1; n += step) {
        fired_in_ossl = 0;
        ossl_countdown = n;
        r = op(ctx);
        fired = fired_in_ossl;
        ossl_countdown = 0;
        check_run(name, "in OpenSSL", n, fired, r);
        if (!fired && r != AMK_OK)
            fail_msg("%s: fails with no fault injected: %s", name, amk_errname(r));
    }
    print_message("%-32s %4lu + %5lu allocations (OpenSSL's every %lu)\n", name, ours, theirs, step);
}

/* --- keys ------------------------------------------------------------------ */

struct load_ctx {
    char *data;
    size_t len;
    const char *pass;
};

static int
pass_cb(void *user, char *buf, size_t cap)
{
    const char *p = user;

    if (strlen(p) + 1 > cap)
        return AMK_EINVAL;
    memcpy(buf, p, strlen(p) + 1);
    return AMK_OK;
}

static int
op_key_load(void *ctx)
{
    struct load_ctx *lc = ctx;
    struct amk_key *k = NULL;
    int r = amk_key_load(lc->data, lc->len, lc->pass != NULL ? pass_cb : NULL,
        (void *)lc->pass, &k);

    amk_key_free(k);
    return r;
}

/* One key per implementation (P-384 and P-521 share P-256's code). */
#define N_KEYS 3
static struct amk_key *keys[N_KEYS];
static const enum amk_key_type key_types[N_KEYS] = {
    AMK_KEY_ED25519, AMK_KEY_ECDSA_P256, AMK_KEY_RSA
};

static int
setup_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (amk_key_create(key_types[i], key_types[i] == AMK_KEY_RSA ? 2048 : 0, &keys[i]) != AMK_OK)
            return -1;
        if (amk_key_set_comment(keys[i], "alloc@test") != AMK_OK)
            return -1;
    }
    return 0;
}

static int
teardown_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++)
        amk_key_free(keys[i]);
    return 0;
}

static void
load_case(const char *label, char *data, size_t len, const char *pass)
{
    struct load_ctx lc = { .data = data, .len = len, .pass = pass };

    run_faults(label, op_key_load, &lc);
}

/* Every private format (plain, and encrypted where the KDF is quick), the
 * public line and RFC 4716, for each key type. */
static void
test_alloc_key_load(void **state)
{
    static const struct {
        enum amk_key_format f;
        const char *name;
        const char *pass;
    } fmts[] = {
        { AMK_KEY_FORMAT_OPENSSH, "openssh", NULL },
        { AMK_KEY_FORMAT_PEM, "pem", NULL },
        { AMK_KEY_FORMAT_PEM, "pem+aes", "secret" },
        { AMK_KEY_FORMAT_PKCS8, "pkcs8", NULL },
        { AMK_KEY_FORMAT_PPK, "ppk3", NULL },
    };

    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        char label[64];
        char *out = NULL;
        size_t outlen = 0;

        for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
            /* Ed25519 has no legacy PEM: encrypted it is PKCS#8 with
             * 100000 PBKDF2 rounds, too slow to run hundreds of times. */
            if (fmts[f].pass != NULL && key_types[i] == AMK_KEY_ED25519)
                continue;
            ASSERT_OK(amk_key_save_format(keys[i], fmts[f].f, fmts[f].pass, &out, &outlen));
            snprintf(label, sizeof(label), "load %s %s", amk_key_type_name(keys[i]), fmts[f].name);
            load_case(label, out, outlen, fmts[f].pass);
            free(out);
        }
        ASSERT_OK(amk_key_public_line(keys[i], &out));
        snprintf(label, sizeof(label), "load %s public", amk_key_type_name(keys[i]));
        load_case(label, out, strlen(out), NULL);
        free(out);
        ASSERT_OK(amk_key_public_rfc4716(keys[i], &out));
        snprintf(label, sizeof(label), "load %s rfc4716", amk_key_type_name(keys[i]));
        load_case(label, out, strlen(out), NULL);
        free(out);
    }
}

/* PuTTY v2 encrypted (aes256-cbc, SHA-1 key derivation) and v2 DSA. */
static void
test_alloc_key_load_ppk2(void **state)
{
    static const char *const files[] = { "rsa-2048-encrypted-format-2.ppk", "dss-1024-format-2.ppk" };

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        FILE *fp;
        static char data[16384];
        size_t len;

        snprintf(path, sizeof(path), "%s/ppk/%s", AMK_VECTORS_DIR, files[i]);
        assert_non_null(fp = fopen(path, "rb"));
        len = fread(data, 1, sizeof(data), fp);
        fclose(fp);
        load_case(files[i], data, len, "Test Passphrase");
    }
}

struct save_ctx {
    const struct amk_key *k;
    enum amk_key_format f;
};

static int
op_key_save(void *ctx)
{
    struct save_ctx *sc = ctx;
    char *out = NULL;
    size_t len = 0;
    int r;

    if ((r = amk_key_save_format(sc->k, sc->f, NULL, &out, &len)) != AMK_OK)
        return r;
    free(out);
    if ((r = amk_key_fingerprint(sc->k, AMK_KEY_FP_SHA256, &out)) != AMK_OK)
        return r;
    free(out);
    if ((r = amk_key_randomart(sc->k, AMK_KEY_FP_MD5, &out)) != AMK_OK)
        return r;
    free(out);
    return AMK_OK;
}

static void
test_alloc_key_save(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        for (int f = AMK_KEY_FORMAT_OPENSSH; f <= AMK_KEY_FORMAT_PPK; f++) {
            struct save_ctx sc = { .k = keys[i], .f = (enum amk_key_format)f };
            char label[64];
            snprintf(label, sizeof(label), "save %s fmt%d", amk_key_type_name(keys[i]), f);
            run_faults(label, op_key_save, &sc);
        }
    }
}

static int
op_sign_verify(void *ctx)
{
    const struct amk_key *k = ctx;
    struct amk_buf sig;
    const char *alg = strcmp(amk_key_type_name(k), "ssh-rsa") == 0 ? "rsa-sha2-256"
        : amk_key_type_name(k);
    static const uint8_t data[] = "exchange hash";
    int r;

    amk_buf_init(&sig);
    if ((r = amk_key_sign(k, alg, data, sizeof(data), &sig)) == AMK_OK)
        r = amk_key_verify(k, alg, amk_buf_ptr(&sig), amk_buf_len(&sig), data, sizeof(data));
    amk_buf_release(&sig);
    return r;
}

static void
test_alloc_key_sign_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        char label[64];
        snprintf(label, sizeof(label), "sign+verify %s", amk_key_type_name(keys[i]));
        run_faults(label, op_sign_verify, keys[i]);
    }
}

/* --- known_hosts and authorized_keys ---------------------------------------- */

static char kh_text[8192];

static int
op_known_hosts(void *ctx)
{
    struct amk_known_hosts *kh = NULL;
    enum amk_known_hosts_status st;
    const char *file = NULL;
    size_t line = 0;
    unsigned flags = 0;
    int r;

    (void)ctx;
    if ((r = amk_known_hosts_new(&kh)) != AMK_OK)
        return r;
    if ((r = amk_known_hosts_load_mem(kh, kh_text, strlen(kh_text), "mem")) == AMK_OK &&
        (r = amk_known_hosts_check(kh, "server.example", 22, keys[0], &st, &file, &line,
        &flags)) == AMK_OK &&
        (r = amk_known_hosts_check(kh, "10.1.2.3", 2222, keys[1], &st, &file, &line,
        &flags)) == AMK_OK) {
        if (st != AMK_KNOWN_HOSTS_OK)
            r = AMK_EKEY;   /* a line was dropped: allowed only for OpenSSL's failures */
    }
    amk_known_hosts_free(kh);
    return r;
}

static void
test_alloc_known_hosts(void **state)
{
    char *l0 = NULL, *l1 = NULL, *l2 = NULL, *pub = NULL;

    (void)state;
    ASSERT_OK(amk_known_hosts_line("server.example", 22, keys[0], 0, &l0));
    ASSERT_OK(amk_known_hosts_line("10.1.2.3", 2222, keys[1], AMK_KNOWN_HOSTS_ADD_HASH, &l1));
    ASSERT_OK(amk_known_hosts_line("other.example", 22, keys[2], 0, &l2));
    ASSERT_OK(amk_key_public_line(keys[2], &pub));
    snprintf(kh_text, sizeof(kh_text), "# comment\n%s\n%s\n%s\n@revoked * %s\n@cert-authority *.ca %s\n",
        l0, l1, l2, pub, pub);
    free(l0);
    free(l1);
    free(l2);
    free(pub);
    run_faults("known_hosts load+check", op_known_hosts, NULL);
}

static char ak_text[8192];

static int
op_authorized_keys(void *ctx)
{
    struct amk_authorized_keys *ak = NULL;
    int r;

    (void)ctx;
    if ((r = amk_authorized_keys_load(ak_text, strlen(ak_text), &ak)) != AMK_OK)
        return r;
    if (amk_authorized_keys_count(ak) != 3)
        r = AMK_EKEY;   /* a line was dropped: allowed only for OpenSSL's failures */
    amk_authorized_keys_free(ak);
    return r;
}

static void
test_alloc_authorized_keys(void **state)
{
    char *p0 = NULL, *p1 = NULL, *p2 = NULL;

    (void)state;
    ASSERT_OK(amk_key_public_line(keys[0], &p0));
    ASSERT_OK(amk_key_public_line(keys[1], &p1));
    ASSERT_OK(amk_key_public_line(keys[2], &p2));
    snprintf(ak_text, sizeof(ak_text),
        "%s\n"
        "restrict,command=\"echo hi\",environment=\"A=b\",from=\"10.0.0.0/8,!10.1.*\" %s\n"
        "no-pty,permitopen=\"host:22\",permitlisten=\"8080\",expiry-time=\"20990101\" %s\n",
        p0, p1, p2);
    free(p0);
    free(p1);
    free(p2);
    run_faults("authorized_keys load", op_authorized_keys, NULL);
}

/* --- util ------------------------------------------------------------------ */

static int
op_buf(void *ctx)
{
    struct amk_buf *b = amk_buf_new();
    char *s = NULL, *nl = NULL, *applied = NULL;
    uint8_t big[5000];
    int r;

    (void)ctx;
    if (b == NULL)
        return AMK_ENOMEM;
    memset(big, 0x41, sizeof(big));
    if ((r = amk_buf_put_cstring(b, "ssh-ed25519")) == AMK_OK &&
        (r = amk_buf_put_string(b, big, sizeof(big))) == AMK_OK &&
        (r = amk_buf_put_cstring(b, "aes128-ctr,aes256-ctr")) == AMK_OK &&
        (r = amk_buf_put_string(b, big, sizeof(big))) == AMK_OK &&
        (r = amk_buf_get_cstring(b, &s, NULL)) == AMK_OK &&
        (r = amk_buf_skip_string(b)) == AMK_OK &&
        (r = amk_buf_get_namelist(b, &nl)) == AMK_OK)
        r = amk_namelist_apply("a,b,c", "a,b,c,d", "+d,-a", &applied);
    amk_buf_free(b);
    free(applied);
    free(s);
    free(nl);
    return r;
}

static void
test_alloc_buf(void **state)
{
    (void)state;
    run_faults("buf + namelist", op_buf, NULL);
}

/* --- crypto contexts and KEX ------------------------------------------------ */

static int
op_hash_hmac(void *ctx)
{
    struct amk_hash_ctx *h = NULL;
    struct amk_hmac_ctx *m = NULL;
    struct amk_pkt_mac *pm = NULL;
    const struct amk_mac_info *mi = amk_mac_info_find("hmac-sha2-256-etm@openssh.com");
    uint8_t out[64], key[64];
    int r;

    (void)ctx;
    memset(key, 7, sizeof(key));
    if ((r = amk_hash_new(&h, AMK_HASH_SHA256)) == AMK_OK &&
        (r = amk_hash_update(h, "abc", 3)) == AMK_OK &&
        (r = amk_hash_final(h, out)) == AMK_OK &&
        (r = amk_hmac_new(&m, AMK_HASH_SHA512, key, 32)) == AMK_OK &&
        (r = amk_hmac_update(m, "abc", 3)) == AMK_OK &&
        (r = amk_hmac_final(m, out)) == AMK_OK &&
        (r = amk_pkt_mac_new(&pm, mi, key)) == AMK_OK &&
        (r = amk_pkt_mac_compute(pm, 3, key, 16, out)) == AMK_OK)
        r = amk_pkt_mac_verify(pm, 3, key, 16, out);
    amk_hash_free(h);
    amk_hmac_free(m);
    amk_pkt_mac_free(pm);
    return r;
}

static void
test_alloc_hash_mac(void **state)
{
    (void)state;
    assert_non_null(amk_mac_info_find("hmac-sha2-256-etm@openssh.com"));
    run_faults("hash + hmac + packet mac", op_hash_hmac, NULL);
}

static int
op_x25519(void *ctx)
{
    uint8_t a[AMK_X25519_LEN], A[AMK_X25519_LEN], b[AMK_X25519_LEN], B[AMK_X25519_LEN];
    uint8_t k1[AMK_X25519_LEN], k2[AMK_X25519_LEN];
    int r;

    (void)ctx;
    if ((r = amk_x25519_keypair(NULL, a, A)) == AMK_OK &&
        (r = amk_x25519_keypair(NULL, b, B)) == AMK_OK &&
        (r = amk_x25519_shared(a, B, k1)) == AMK_OK &&
        (r = amk_x25519_shared(b, A, k2)) == AMK_OK && memcmp(k1, k2, sizeof(k1)) != 0)
        r = AMK_EINTERNAL;
    return r;
}

static int
op_ecdh(void *ctx)
{
    enum amk_ec_curve curve = *(enum amk_ec_curve *)ctx;
    struct amk_ecdh *e1 = NULL, *e2 = NULL;
    const uint8_t *p1, *p2;
    size_t l1, l2, s1len = 0, s2len = 0;
    uint8_t s1[128], s2[128];
    int r;

    if ((r = amk_ecdh_new(&e1, curve, NULL)) == AMK_OK &&
        (r = amk_ecdh_new(&e2, curve, NULL)) == AMK_OK) {
        amk_ecdh_public(e1, &p1, &l1);
        amk_ecdh_public(e2, &p2, &l2);
        if ((r = amk_ecdh_shared(e1, p2, l2, s1, &s1len)) == AMK_OK &&
            (r = amk_ecdh_shared(e2, p1, l1, s2, &s2len)) == AMK_OK &&
            (s1len != s2len || memcmp(s1, s2, s1len) != 0))
            r = AMK_EINTERNAL;
    }
    amk_ecdh_free(e1);
    amk_ecdh_free(e2);
    return r;
}

static int
op_dh(void *ctx)
{
    struct amk_dh *d1 = NULL, *d2 = NULL;
    uint8_t k1[1024], k2[1024];
    size_t k1len = 0, k2len = 0;
    const uint8_t *p1, *p2;
    size_t l1, l2;
    int r;

    (void)ctx;
    if ((r = amk_dh_new_group(&d1, 14)) == AMK_OK &&
        (r = amk_dh_new_group(&d2, 14)) == AMK_OK &&
        (r = amk_dh_generate(d1, 128, NULL)) == AMK_OK &&
        (r = amk_dh_generate(d2, 128, NULL)) == AMK_OK) {
        amk_dh_public(d1, &p1, &l1);
        amk_dh_public(d2, &p2, &l2);
        if ((r = amk_dh_shared(d1, p2, l2, k1, sizeof(k1), &k1len)) == AMK_OK &&
            (r = amk_dh_shared(d2, p1, l1, k2, sizeof(k2), &k2len)) == AMK_OK &&
            (k1len != k2len || memcmp(k1, k2, k1len) != 0))
            r = AMK_EINTERNAL;
    }
    amk_dh_free(d1);
    amk_dh_free(d2);
    return r;
}

static void
test_alloc_kex(void **state)
{
    static enum amk_ec_curve curves[] = { AMK_EC_P256, AMK_EC_P384, AMK_EC_P521 };

    (void)state;
    run_faults("x25519", op_x25519, NULL);
    for (size_t i = 0; i < 3; i++)
        run_faults("ecdh", op_ecdh, &curves[i]);
    run_faults("dh group14", op_dh, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_buf),
        cmocka_unit_test(test_alloc_hash_mac),
        cmocka_unit_test(test_alloc_kex),
        cmocka_unit_test(test_alloc_key_load),
        cmocka_unit_test(test_alloc_key_load_ppk2),
        cmocka_unit_test(test_alloc_key_save),
        cmocka_unit_test(test_alloc_key_sign_verify),
        cmocka_unit_test(test_alloc_known_hosts),
        cmocka_unit_test(test_alloc_authorized_keys),
    };
    int rc;

    if (getenv("AMK_ALLOC_TRAP") != NULL) {
        static char spec[256];
        char *colon;
        snprintf(spec, sizeof(spec), "%s", getenv("AMK_ALLOC_TRAP"));
        if ((colon = strrchr(spec, ':')) != NULL) {
            *colon = '\0';
            trap_name = spec;
            trap_n = strtoul(colon + 1, NULL, 10);
            amk_alloc_fault_set_callback(fault_trap);
        }
    }
    /* Must come before OpenSSL allocates anything. */
    ossl_hooked = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
    if (!ossl_hooked)
        fprintf(stderr, "test_alloc_failure: OpenSSL allocations not hooked\n");
    rc = cmocka_run_group_tests(tests, setup_keys, teardown_keys);
    fprintf(stderr, "test_alloc_failure: %lu runs, %lu recovered, %lu failures inside OpenSSL"
        " (%lu of them reported by OpenSSL as a crypto or key failure)\n",
        total_runs, total_recovered, total_ossl, total_ossl_unreported);
    return rc;
}
