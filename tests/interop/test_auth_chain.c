/*
 * Interop: the authentication chain (src/auth/auth_chain.c) against a real
 * OpenSSH sshd. Keys sshd does not know are refused and the chain goes on
 * to a key file (encrypted, opened through the passphrase callback) or to a
 * default key directory; missing and corrupt key files are skipped; with
 * nothing acceptable the chain ends with AMK_EAUTH. With a throwaway
 * account (root only; otherwise those cases are skipped with a message):
 * refused keys then a password; "AuthenticationMethods publickey,password"
 * (partial success, RFC 4252 §5.1); and keyboard-interactive through PAM
 * answered with the password when sshd offers no "password" method. Each
 * attempt's outcome must appear in the chain's log.
 */
#include "test_helper.h"

#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth_chain.h"
#include "auth_driver.h"
#include "keys/key.h"
#include "sshd_fixture.h"

#define PASSWORD "Chain-t3st-pw!"
#define PASSPHRASE "key passphrase"

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *k_good, *k_bad1, *k_bad2;
static char good_file[FIXTURE_PATH_MAX], corrupt_file[FIXTURE_PATH_MAX];
static char missing_file[FIXTURE_PATH_MAX], key_dir[FIXTURE_PATH_MAX];
static char keys_path[FIXTURE_PATH_MAX];
static char user[32];
static int have_user;

/* The chain's log, collected. */
static char logbuf[16384];

static void
log_cb(void *u, enum amk_log_level level, const char *msg)
{
    size_t used = strlen(logbuf);

    snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

static int
passphrase_cb(void *u, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", PASSPHRASE);
    return AMK_OK;
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    if (fp == NULL)
        return -1;
    fputs(text, fp);
    fclose(fp);
    return chmod(path, mode);
}

static int
group_setup(void **state)
{
    char *line = NULL;

    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH (sshd, ssh, ssh-keygen) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    if (amk_key_generate(AMK_PKEY_ED25519, 0, &k_good) != AMK_OK ||
        amk_key_generate(AMK_PKEY_ECDSA_P256, 0, &k_bad1) != AMK_OK ||
        amk_key_generate(AMK_PKEY_ED25519, 0, &k_bad2) != AMK_OK)
        return -1;
    sshd_fixture_path(&fx, "chain_good_key", good_file, sizeof(good_file));
    sshd_fixture_path(&fx, "chain_corrupt_key", corrupt_file, sizeof(corrupt_file));
    sshd_fixture_path(&fx, "chain_missing_key", missing_file, sizeof(missing_file));
    sshd_fixture_path(&fx, "chain_keys", key_dir, sizeof(key_dir));
    sshd_fixture_path(&fx, "authorized_keys_chain", keys_path, sizeof(keys_path));
    if (amk_key_save_file(k_good, good_file, PASSPHRASE) != AMK_OK ||
        write_file(corrupt_file, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"
            "-----END OPENSSH PRIVATE KEY-----\n", 0600) != 0 ||
        mkdir(key_dir, 0700) != 0)
        return -1;
    {
        char path[FIXTURE_PATH_MAX + 16];

        /* a default-key directory holding only id_ecdsa (sshd knows it) */
        snprintf(path, sizeof(path), "%s/id_ecdsa", key_dir);
        if (amk_key_save_file(k_good, path, NULL) != AMK_OK)
            return -1;
    }
    /* one authorized_keys, readable by the throwaway account too */
    if (amk_key_public_line(k_good, &line) != AMK_OK)
        return -1;
    if (write_file(keys_path, line, 0644) != 0 || chmod(fx.dir, 0711) != 0) {
        free(line);
        return -1;
    }
    free(line);
    have_user = geteuid() == 0 && throwaway_user_create(user, sizeof(user), PASSWORD) == 0;
    if (!have_user)
        fprintf(stderr, "note: not root (or useradd failed): the password cases are skipped\n");
    return 0;
}

static int
group_teardown(void **state)
{
    amk_key_free(k_good);
    amk_key_free(k_bad1);
    amk_key_free(k_bad2);
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    throwaway_user_remove();
    return 0;
}

static int
stop_sshd(void **state)
{
    sshd_fixture_stop(&fx);
    return 0;
}

static void
start_sshd_with(const char *lines)
{
    char config[1024];

    snprintf(config, sizeof(config), "AuthorizedKeysFile %s\n%s", keys_path,
        lines != NULL ? lines : "");
    if (sshd_fixture_start(&fx, config) != 0)
        fail_msg("sshd did not start with:\n%s", config);
}

static void
need_user(void)
{
    if (!have_user) {
        print_message("    skipped: needs root to create a throwaway account\n");
        skip();
    }
}

/* Runs a chain with @p cfg as @p who; returns its code. */
static int
run_chain(struct amk_auth_chain_config *cfg, const char *who, size_t *attempts)
{
    struct auth_run ar;
    struct amk_auth_chain *c = NULL;
    int r;

    logbuf[0] = '\0';
    cfg->log.fn = log_cb;
    cfg->log.level = AMK_LOG_DEBUG;
    ASSERT_OK(auth_connect(&ar, &fx, &hk, who, 1));
    ASSERT_OK(amk_auth_chain_new(&c, ar.ua, cfg));
    r = auth_chain_run(&ar, c);
    *attempts = amk_auth_chain_attempts(c);
    if (r != AMK_OK)
        print_message("    chain: %s: %s\n", amk_errname(r), amk_auth_chain_last_error(c));
    amk_auth_chain_free(c);
    auth_close(&ar);
    return r;
}

static void
expect_log(const char *needle)
{
    if (strstr(logbuf, needle) == NULL)
        fail_msg("log lacks \"%s\":\n%s", needle, logbuf);
}

static void
test_auth_chain_refused_keys_then_key_file(void **state)
{
    const struct amk_key *keys[] = { k_bad2 };
    const char *files[] = { missing_file, corrupt_file, good_file };
    struct amk_auth_chain_config cfg = {
        .key = k_bad1, .keys = keys, .n_keys = 1, .key_files = files, .n_key_files = 3,
        .passphrase_cb = passphrase_cb,
    };
    size_t attempts;

    start_sshd_with(NULL);
    ASSERT_OK(run_chain(&cfg, fx.user, &attempts));
    assert_int_equal(attempts, 3);
    expect_log("(explicit key): refused");
    expect_log("(loaded key): refused");
    expect_log("skipping key file");
    expect_log("chain_good_key): accepted");
}

static void
test_auth_chain_default_key_dir(void **state)
{
    struct amk_auth_chain_config cfg = { .key = k_bad1, .default_key_dir = key_dir };
    size_t attempts;

    start_sshd_with(NULL);
    ASSERT_OK(run_chain(&cfg, fx.user, &attempts));
    assert_int_equal(attempts, 2);
    expect_log("(default key ");
    expect_log("id_ecdsa): accepted");
}

static void
test_auth_chain_nothing_acceptable_is_eauth(void **state)
{
    const struct amk_key *keys[] = { k_bad2 };
    struct amk_auth_chain_config cfg = { .key = k_bad1, .keys = keys, .n_keys = 1 };
    size_t attempts;

    start_sshd_with(NULL);
    ASSERT_AMK(AMK_EAUTH, run_chain(&cfg, fx.user, &attempts));
    assert_int_equal(attempts, 2);
    expect_log("authentication failed after 2 attempts; the server allows: publickey");
}

static void
test_auth_chain_sshd_disconnects_mid_auth(void **state)
{
    const struct amk_key *keys[] = { k_bad2, k_good };
    struct amk_auth_chain_config cfg = { .key = k_bad1, .keys = keys, .n_keys = 2 };
    size_t attempts;
    int r;

    /* sshd disconnects when the first key fails ("Too many authentication
     * failures"): a clear error, no hang, and the good key never tried */
    start_sshd_with("MaxAuthTries 1\n");
    r = run_chain(&cfg, fx.user, &attempts);
    if (r != AMK_EDISCONNECT && r != AMK_ECLOSED)
        fail_msg("expected AMK_EDISCONNECT or AMK_ECLOSED, got %s", amk_errname(r));
    assert_int_equal(attempts, 1);
    expect_log("(explicit key)");
    assert_null(strstr(logbuf, "accepted"));
}

static void
test_auth_chain_keys_refused_then_password(void **state)
{
    struct amk_auth_chain_config cfg = { .key = k_bad1, .password = PASSWORD };
    size_t attempts;

    need_user();
    start_sshd_with("PasswordAuthentication yes\n");
    ASSERT_OK(run_chain(&cfg, user, &attempts));
    assert_int_equal(attempts, 2);
    expect_log("(explicit key): refused");
    expect_log("password: accepted");
}

static void
test_auth_chain_publickey_then_password(void **state)
{
    const struct amk_key *keys[] = { k_good };
    struct amk_auth_chain_config cfg = {
        .key = k_bad1, .keys = keys, .n_keys = 1, .password = PASSWORD,
    };
    size_t attempts;

    need_user();
    start_sshd_with("AuthenticationMethods publickey,password\nPasswordAuthentication yes\n");
    ASSERT_OK(run_chain(&cfg, user, &attempts));
    assert_int_equal(attempts, 3);
    expect_log("(loaded key): partial success; continue with password");
    expect_log("password: accepted");
    assert_true(auth_wait_log(&fx, "Partial publickey for"));
}

static void
test_auth_chain_wrong_password_is_eauth(void **state)
{
    struct amk_auth_chain_config cfg = { .password = "wrong-" PASSWORD };
    size_t attempts;

    need_user();
    start_sshd_with("PasswordAuthentication yes\nKbdInteractiveAuthentication no\n");
    ASSERT_AMK(AMK_EAUTH, run_chain(&cfg, user, &attempts));
    assert_int_equal(attempts, 1);
    expect_log("password: refused");
}

static void
test_auth_chain_kbdint_answered_with_password(void **state)
{
    struct amk_auth_chain_config cfg = { .password = PASSWORD };
    size_t attempts;

    need_user();
    start_sshd_with("UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n");
    ASSERT_OK(run_chain(&cfg, user, &attempts));
    assert_int_equal(attempts, 1);
    expect_log("keyboard-interactive (answered with the password): accepted");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_auth_chain_refused_keys_then_key_file, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_default_key_dir, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_nothing_acceptable_is_eauth, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_sshd_disconnects_mid_auth, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_keys_refused_then_password, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_publickey_then_password, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_wrong_password_is_eauth, stop_sshd),
        cmocka_unit_test_teardown(test_auth_chain_kbdint_answered_with_password, stop_sshd),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
