/*
 * Interop: amiko's user authentication engine (src/auth) against a real
 * OpenSSH sshd with a throwaway local account: "password" (RFC 4252 §8),
 * right and wrong; "keyboard-interactive" (RFC 4256) through PAM; and a
 * chain of methods (sshd's "AuthenticationMethods publickey,password",
 * RFC 4252 §5.1 partial success).
 *
 * Creating the account needs root: the test runs useradd and chpasswd and
 * removes the account (userdel) when it ends, also on a failed assertion
 * (atexit). Without root it exits with 77 (CTest: skipped) and says so.
 *
 * What Debian's sshd (OpenSSH 9.2, built with PAM, without BSD auth)
 * offers: with "UsePAM no", keyboard-interactive is listed but has no
 * device, so sshd fails it at once without a prompt (checked below); with
 * "UsePAM yes" it runs the PAM conversation (pam_unix asks "Password: "
 * with echo off, then an empty round).
 */
#include "test_helper.h"

#include <sys/stat.h>
#include <unistd.h>

#include "auth_driver.h"
#include "keys/key.h"
#include "sshd_fixture.h"

#define PASSWORD "Amk-t3st-pw!"

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *user_key;
static char user[32];
static char keys_path[FIXTURE_PATH_MAX];

/* authorized_keys for the throwaway account, readable by it (sshd reads
 * it with the user's privileges). */
static int
write_user_keys(void)
{
    char *line = NULL;
    FILE *fp;

    if (amk_key_public_line(user_key, &line) != AMK_OK)
        return -1;
    sshd_fixture_path(&fx, "authorized_keys_user", keys_path, sizeof(keys_path));
    if ((fp = fopen(keys_path, "w")) == NULL) {
        free(line);
        return -1;
    }
    fprintf(fp, "%s\n", line);
    free(line);
    fclose(fp);
    if (chmod(keys_path, 0644) != 0 || chmod(fx.dir, 0711) != 0)
        return -1;
    return 0;
}

static int
group_setup(void **state)
{
    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH (sshd, ssh, ssh-keygen) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (geteuid() != 0) {
        fprintf(stderr, "skipped: password and keyboard-interactive interop tests create a "
            "throwaway local account and need root\n");
        exit(FIXTURE_SKIP);
    }
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    if (throwaway_user_create(user, sizeof(user), PASSWORD) != 0)
        return -1;
    if (amk_key_generate(AMK_PKEY_ED25519, 0, &user_key) != AMK_OK || write_user_keys() != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    amk_key_free(user_key);
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

    snprintf(config, sizeof(config), "AuthorizedKeysFile %s\n%s", keys_path, lines);
    if (sshd_fixture_start(&fx, config) != 0)
        fail_msg("sshd did not start with:\n%s", config);
}

static void
expect_authenticated(struct auth_run *ar, int r)
{
    if (r != AMK_OK || !amk_userauth_client_authenticated(ar->ua)) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("not authenticated: %s: %s", amk_errname(r),
            amk_userauth_client_last_error(ar->ua));
    }
}

static void
password_login(int blocking)
{
    struct auth_run ar;

    start_sshd_with("PasswordAuthentication yes\n");
    ASSERT_OK(auth_open(&ar, &fx, &hk, user, blocking));
    assert_true(amk_userauth_client_method_allowed(ar.ua, "password"));
    ASSERT_OK(amk_userauth_client_password(ar.ua, PASSWORD, NULL, NULL));
    expect_authenticated(&ar, auth_pump(&ar));
    auth_close(&ar);
    assert_true(auth_wait_log(&fx, "Accepted password for"));
}

static void
test_userauth_interop_password(void **state)
{
    password_login(1);
}

static void
test_userauth_interop_password_nonblocking(void **state)
{
    password_login(0);
}

static void
test_userauth_interop_wrong_password_then_right(void **state)
{
    struct auth_run ar;

    start_sshd_with("PasswordAuthentication yes\n");
    ASSERT_OK(auth_open(&ar, &fx, &hk, user, 1));
    ASSERT_OK(amk_userauth_client_password(ar.ua, "not-" PASSWORD, NULL, NULL));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    assert_int_equal(amk_userauth_client_last_result(ar.ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_int_equal(amk_userauth_client_partial_success(ar.ua), 0);
    assert_true(amk_userauth_client_method_allowed(ar.ua, "password"));
    ASSERT_OK(amk_userauth_client_password(ar.ua, PASSWORD, NULL, NULL));
    expect_authenticated(&ar, auth_pump(&ar));
    auth_close(&ar);
    assert_true(auth_wait_log(&fx, "Failed password for"));
}

struct kbd_answers {
    const char *answer;     /* for password prompts; NULL: PASSWORD */
    int rounds;
    int prompts;
    char last_prompt[128];
};

/* Answers PAM's password prompt; other prompts get an empty answer. */
static int
kbd_cb(void *userp, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n, char *const *responses, size_t cap)
{
    struct kbd_answers *k = userp;

    k->rounds++;
    for (size_t i = 0; i < n; i++) {
        k->prompts++;
        snprintf(k->last_prompt, sizeof(k->last_prompt), "%s", prompts[i].text);
        if (strstr(prompts[i].text, "assword") != NULL) {
            assert_int_equal(prompts[i].echo, 0);
            snprintf(responses[i], cap, "%s", k->answer != NULL ? k->answer : PASSWORD);
        }
    }
    return AMK_OK;
}

static void
test_userauth_interop_kbdint_pam(void **state)
{
    struct auth_run ar;
    struct kbd_answers k = { 0 };

    start_sshd_with("UsePAM yes\nKbdInteractiveAuthentication yes\n"
        "PasswordAuthentication no\n");
    ASSERT_OK(auth_open(&ar, &fx, &hk, user, 1));
    assert_true(amk_userauth_client_method_allowed(ar.ua, "keyboard-interactive"));
    assert_false(amk_userauth_client_method_allowed(ar.ua, "password"));
    ASSERT_OK(amk_userauth_client_kbdint(ar.ua, NULL, kbd_cb, &k));
    expect_authenticated(&ar, auth_pump(&ar));
    print_message("    PAM: %d rounds, %d prompts, last \"%s\"\n", k.rounds, k.prompts,
        k.last_prompt);
    assert_true(k.prompts >= 1);
    auth_close(&ar);
    assert_true(auth_wait_log(&fx, "Accepted keyboard-interactive/pam for"));
}

static void
test_userauth_interop_kbdint_wrong_answer_refused(void **state)
{
    struct auth_run ar;
    struct kbd_answers k = { .answer = "wrong-" PASSWORD };

    start_sshd_with("UsePAM yes\nKbdInteractiveAuthentication yes\n"
        "PasswordAuthentication no\n");
    ASSERT_OK(auth_open(&ar, &fx, &hk, user, 1));
    ASSERT_OK(amk_userauth_client_kbdint(ar.ua, NULL, kbd_cb, &k));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    assert_int_equal(amk_userauth_client_last_result(ar.ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_true(k.prompts >= 1);
    /* the right answer on the same connection */
    k.answer = NULL;
    ASSERT_OK(amk_userauth_client_kbdint(ar.ua, NULL, kbd_cb, &k));
    expect_authenticated(&ar, auth_pump(&ar));
    auth_close(&ar);
}

static void
test_userauth_interop_kbdint_without_pam_fails_at_once(void **state)
{
    struct auth_run ar;
    struct kbd_answers k = { 0 };

    /* Debian's sshd has no BSD auth: without PAM it still lists
     * keyboard-interactive but has no device, and fails it at once */
    start_sshd_with("UsePAM no\nKbdInteractiveAuthentication yes\n"
        "PasswordAuthentication yes\n");
    ASSERT_OK(auth_open(&ar, &fx, &hk, user, 1));
    ASSERT_OK(amk_userauth_client_kbdint(ar.ua, NULL, kbd_cb, &k));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    assert_int_equal(amk_userauth_client_last_result(ar.ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_int_equal(k.rounds, 0);
    /* password still works on that connection */
    ASSERT_OK(amk_userauth_client_password(ar.ua, PASSWORD, NULL, NULL));
    expect_authenticated(&ar, auth_pump(&ar));
    auth_close(&ar);
}

static void
test_userauth_interop_publickey_then_password_chain(void **state)
{
    struct auth_run ar;

    start_sshd_with("AuthenticationMethods publickey,password\n"
        "PasswordAuthentication yes\n");
    ASSERT_OK(auth_open(&ar, &fx, &hk, user, 1));
    assert_string_equal(amk_userauth_client_methods(ar.ua), "publickey");
    /* password first is not allowed yet */
    ASSERT_AMK(AMK_EAUTH, amk_userauth_client_password(ar.ua, PASSWORD, NULL, NULL));
    ASSERT_OK(amk_userauth_client_publickey(ar.ua, user_key));
    ASSERT_OK(auth_pump(&ar));
    assert_int_equal(amk_userauth_client_authenticated(ar.ua), 0);
    assert_int_equal(amk_userauth_client_last_result(ar.ua), AMK_USERAUTH_RESULT_PARTIAL);
    assert_int_equal(amk_userauth_client_partial_success(ar.ua), 1);
    assert_string_equal(amk_userauth_client_methods(ar.ua), "password");
    ASSERT_OK(amk_userauth_client_password(ar.ua, PASSWORD, NULL, NULL));
    expect_authenticated(&ar, auth_pump(&ar));
    auth_close(&ar);
    assert_true(auth_wait_log(&fx, "Partial publickey for"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_userauth_interop_password, stop_sshd),
        cmocka_unit_test_teardown(test_userauth_interop_password_nonblocking, stop_sshd),
        cmocka_unit_test_teardown(test_userauth_interop_wrong_password_then_right, stop_sshd),
        cmocka_unit_test_teardown(test_userauth_interop_kbdint_pam, stop_sshd),
        cmocka_unit_test_teardown(test_userauth_interop_kbdint_wrong_answer_refused, stop_sshd),
        cmocka_unit_test_teardown(test_userauth_interop_kbdint_without_pam_fails_at_once,
            stop_sshd),
        cmocka_unit_test_teardown(test_userauth_interop_publickey_then_password_chain,
            stop_sshd),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
