/*
 * Interop: nothing secret reaches amiko's log at any level (issue 9,
 * "Secrets"). A full client session against the real sshd with TRACE
 * logging, once with password authentication (a throwaway account, as
 * test_userauth_password does) and once with publickey authentication
 * (the fixture's Ed25519 key), each running a command and rekeying. The
 * captured log must not hold the password, the private key's seed or any
 * 12-byte run of it in hex or base64, any line of the key file's base64
 * body, and no long hex or base64 run at all except the public keys and
 * fingerprints it may legitimately name (session keys and KEX secrets
 * would show up as such runs).
 *
 * The password half needs root (useradd); without root only the publickey
 * half runs.
 */
#include "test_helper.h"

#include <ctype.h>
#include <unistd.h>

#include <amiko/client.h>

#include "auth_driver.h"
#include "crypto/pkey.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

#define PASSWORD "Amk-s3cret-Pw%42"

static struct sshd_fixture fx;
static char user[32];
static int have_user;

/* Everything the client logged, one line each. */
static struct amk_buf logbuf;
static size_t log_lines;

static void
log_cb(void *u, enum amk_log_level level, const char *msg)
{
    (void)u;
    if (amk_buf_put(&logbuf, amk_log_level_name(level), strlen(amk_log_level_name(level))) != AMK_OK ||
        amk_buf_put(&logbuf, ": ", 2) != AMK_OK ||
        amk_buf_put(&logbuf, msg, strlen(msg)) != AMK_OK ||
        amk_buf_put(&logbuf, "\n", 1) != AMK_OK)
        abort();
    log_lines++;
}

static int
group_setup(void **state)
{
    (void)state;
    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH (sshd, ssh, ssh-keygen) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (sshd_fixture_init(&fx) != 0)
        return -1;
    if (geteuid() == 0 && throwaway_user_create(user, sizeof(user), PASSWORD) == 0)
        have_user = 1;
    amk_buf_init(&logbuf);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    if (have_user)
        throwaway_user_remove();
    sshd_fixture_cleanup(&fx);
    amk_buf_release(&logbuf);
    return 0;
}

/* --- what the log may not contain ---------------------------------------- */

static const char *
log_text(void)
{
    /* NUL-terminate without counting it. */
    if (amk_buf_put(&logbuf, "", 1) != AMK_OK || amk_buf_consume_end(&logbuf, 1) != AMK_OK)
        abort();
    return (const char *)amk_buf_ptr(&logbuf);
}

static void
must_not_contain(const char *text, const char *needle, const char *what)
{
    if (needle[0] != '\0' && strstr(text, needle) != NULL)
        fail_msg("the log contains %s (\"%s\")", what, needle);
}

/* Every 12-byte run of @p secret, raw, as hex (both cases) and as base64
 * (the three alignments). */
static void
must_not_contain_bytes(const char *text, size_t textlen, const uint8_t *secret, size_t len,
    const char *what)
{
    for (size_t off = 0; off + 12 <= len; off++) {
        char hex[32], hexu[32];
        for (size_t i = 0; i < 12; i++) {
            snprintf(hex + 2 * i, 3, "%02x", secret[off + i]);
            snprintf(hexu + 2 * i, 3, "%02X", secret[off + i]);
        }
        must_not_contain(text, hex, what);
        must_not_contain(text, hexu, what);
        if (memmem(text, textlen, secret + off, 12) != NULL)
            fail_msg("the log contains %s (raw bytes)", what);
    }
    for (size_t align = 0; align < 3 && align + 12 <= len; align++) {
        struct amk_buf b64;
        char *s = NULL;
        amk_buf_init(&b64);
        ASSERT_OK(amk_base64_encode(secret + align, 12, 0, &b64));
        ASSERT_OK(amk_buf_to_cstring(&b64, &s, NULL));
        must_not_contain(text, s, what);
        free(s);
        amk_buf_release(&b64);
    }
}

/* Long runs of hex or base64 are allowed only where @p allowed lists them. */
static void
no_unexplained_runs(const char *text, const char *const *allowed, size_t nallowed)
{
    size_t i = 0, n = strlen(text);

    while (i < n) {
        size_t j = i, hexrun = 0;
        while (j < n && (isalnum((unsigned char)text[j]) || text[j] == '+' || text[j] == '/' ||
            text[j] == '='))
            j++;
        for (size_t k = i; k < j; k++)
            hexrun = isxdigit((unsigned char)text[k]) ? hexrun + 1 : 0;
        if (j - i >= 40 || (j - i >= 32 && hexrun >= 32)) {
            int ok = 0;
            for (size_t a = 0; a < nallowed && !ok; a++)
                ok = allowed[a] != NULL && memmem(allowed[a], strlen(allowed[a]), text + i, j - i) != NULL;
            if (!ok)
                fail_msg("the log holds an unexplained %zu-character run: %.*s", j - i,
                    (int)(j - i), text + i);
        }
        i = j + 1;
    }
}

/* --- a session ----------------------------------------------------------- */

static void
run_session(const char *who, const char *password, const char *key_file)
{
    struct amk_client *c = NULL;
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0;
    int status = -1, r;

    amk_buf_reset(&logbuf);
    log_lines = 0;
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_log(c, log_cb, NULL, AMK_LOG_TRACE));
    ASSERT_OK(amk_client_load_host_keys(c, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_connect_timeout(c, 20000));
    ASSERT_OK(amk_client_set_timeout(c, 60000));
    if (key_file != NULL)
        ASSERT_OK(amk_client_add_key_file(c, key_file));
    ASSERT_OK(amk_client_set_auth_methods(c, key_file != NULL, password != NULL));
    r = amk_client_connect(c, "127.0.0.1", fx.port, who, password);
    if (r != AMK_OK) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    /* A command whose 400 KB of output make sshd rekey (RekeyLimit 64K)
     * several times, then a close. */
    r = amk_client_run(c, "head -c 300000 /dev/urandom | base64", &out, &outlen,
        &err, &errlen, &status);
    if (r != AMK_OK) {
        fprintf(stderr, "%s", log_text());
        sshd_fixture_dump_log(&fx, 2000);
        fail_msg("run: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    assert_int_equal(status, 0);
    free(out);
    free(err);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    print_message("    %zu log lines captured\n", log_lines);
    if (getenv("AMK_SHOW_LOG") != NULL)
        fprintf(stderr, "%s", log_text());
    assert_true(log_lines > 10);
}

/* The key file's private seed and its base64 body lines. */
static void
check_key_not_logged(const char *text, const char *path)
{
    struct amk_key *k = NULL;
    uint8_t *seed = NULL;
    size_t seedlen = 0;
    char line[256];
    FILE *fp;

    ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
    ASSERT_OK(amk_pkey_get_part(amk_key_pkey(k), AMK_PART_PRIVATE, &seed, &seedlen));
    must_not_contain_bytes(text, strlen(text), seed, seedlen, "the private key's seed");
    amk_free_wiped(seed, seedlen);
    amk_key_free(k);
    assert_non_null(fp = fopen(path, "r"));
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '-' && strlen(line) >= 24) {
            line[24] = '\0';
            must_not_contain(text, line, "a line of the private key file");
        }
    }
    fclose(fp);
}

/* Public material the log may name: host keys and the user key, in
 * known_hosts / .pub form, and their SHA-256 fingerprints. */
static void
allowed_runs(char **allowed, size_t cap, size_t *n)
{
    char path[FIXTURE_PATH_MAX + 8];
    char *text = NULL;
    size_t len = 0;
    FILE *fp;

    *n = 0;
    /* known_hosts holds every host key line. */
    assert_non_null(fp = fopen(fx.known_hosts, "r"));
    text = calloc(1, 65536);
    len = fread(text, 1, 65535, fp);
    fclose(fp);
    text[len] = '\0';
    allowed[(*n)++] = text;
    snprintf(path, sizeof(path), "%s.pub", fx.user_key);
    assert_non_null(fp = fopen(path, "r"));
    text = calloc(1, 4096);
    len = fread(text, 1, 4095, fp);
    fclose(fp);
    allowed[(*n)++] = text;
    /* Fingerprints of the host keys. */
    {
        char *kh = allowed[0], *save = NULL;
        char *copy = strdup(kh);
        for (char *l = strtok_r(copy, "\n", &save); l != NULL && *n < cap; l = strtok_r(NULL, "\n", &save)) {
            const char *sp = strchr(l, ' ');
            struct amk_key *k = NULL;
            char *fp256 = NULL;
            if (sp == NULL || amk_key_load_public(sp + 1, strlen(sp + 1), &k) != AMK_OK)
                continue;
            if (amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp256) == AMK_OK)
                allowed[(*n)++] = fp256;
            amk_key_free(k);
        }
        free(copy);
    }
}

static void
check_log(const char *password, const char *key_file)
{
    const char *text = log_text();
    char *allowed[32];
    size_t nallowed = 0;

    if (password != NULL)
        must_not_contain(text, password, "the password");
    check_key_not_logged(text, fx.user_key);
    (void)key_file;
    allowed_runs(allowed, 32, &nallowed);
    no_unexplained_runs(text, (const char *const *)allowed, nallowed);
    for (size_t i = 0; i < nallowed; i++)
        free(allowed[i]);
}

static void
test_secrets_log_publickey(void **state)
{
    (void)state;
    if (sshd_fixture_start(&fx, "RekeyLimit 64K\n") != 0)
        fail_msg("sshd did not start");
    run_session(fx.user, NULL, fx.user_key);
    check_log(NULL, fx.user_key);
    sshd_fixture_stop(&fx);
}

static void
test_secrets_log_password(void **state)
{
    (void)state;
    if (!have_user) {
        print_message("    skipped: needs root for a throwaway account\n");
        skip();
    }
    if (sshd_fixture_start(&fx, "PasswordAuthentication yes\nRekeyLimit 64K\n") != 0)
        fail_msg("sshd did not start");
    run_session(user, PASSWORD, NULL);
    check_log(PASSWORD, NULL);
    sshd_fixture_stop(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_log_publickey),
        cmocka_unit_test(test_secrets_log_password),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
