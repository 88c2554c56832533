/*
 * Interop: the client's programs against a real OpenSSH sshd, run as
 * processes: `amiko ssh` (exit status propagation, stdin piped to the
 * command, stdout and stderr apart, -o options, host-key checking,
 * BatchMode, a password and keyboard-interactive answers from SSH_ASKPASS)
 * and examples/paramiko_client.c; `amiko <command> --help` for every command
 * (usage on stdout, exit 0)
 * (password authentication, AutoAddPolicy, `ls -l`).
 *
 * Password authentication needs an account with a password: as root the
 * test creates a throwaway one (useradd, chpasswd) and removes it at exit,
 * as test_userauth_password does; without root those cases are skipped.
 * argv[1] is the amiko binary, argv[2] the built paramiko_client example.
 */
#include "test_helper.h"

#include <sys/stat.h>
#include <unistd.h>

#include "proc_util.h"
#include "sshd_fixture.h"
#include "file_util.h"

#define PASSWORD "Amk-cl1ent-pw!"
#define RUN_TIMEOUT_MS 120000   /* generous: sanitizer builds on a loaded 2-core machine */

static struct sshd_fixture fx;
static const char *amiko, *example;
static char user[32];
static int user_created;
static char out_path[FIXTURE_PATH_MAX], err_path[FIXTURE_PATH_MAX];
static char in_path[FIXTURE_PATH_MAX], port_s[16];

/*
 * Runs @p argv with stdin from @p in_file (NULL: /dev/null), stdout and
 * stderr to out_path / err_path, HOME set to the fixture directory and
 * @p env ("NAME=value" strings, NULL-terminated, may be NULL) added. Its
 * exit status; a timeout fails the test.
 */
static int
run(char *const argv[], const char *in_file, char *const env[])
{
    struct proc_io io = { .in = in_file, .out = out_path, .err = err_path, .home = fx.dir,
        .env = env };
    int r = proc_run(argv, &io, RUN_TIMEOUT_MS);

    if (r < 0)
        fail_msg("%s did not finish in %d ms", argv[0], RUN_TIMEOUT_MS);
    return r;
}

static void
expect_output(const char *want_out, const char *want_err_part)
{
    char *o = tf_read(out_path, NULL), *e = tf_read(err_path, NULL);

    if (want_out != NULL && strcmp(o, want_out) != 0)
        fail_msg("stdout \"%s\", expected \"%s\" (stderr: %s)", o, want_out, e);
    if (want_err_part != NULL && strstr(e, want_err_part) == NULL)
        fail_msg("stderr \"%s\" lacks \"%s\"", e, want_err_part);
    free(o);
    free(e);
}

/* amiko ssh with the fixture's key, known_hosts and BatchMode, then @p extra args. */
static int
ssh_run(const char *const *extra, const char *in_file, char *const env[])
{
    char kh[FIXTURE_PATH_MAX + 32], id[FIXTURE_PATH_MAX + 32];
    char *argv[48];
    int n = 0;

    snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", fx.known_hosts);
    snprintf(id, sizeof(id), "%s", fx.user_key);
    argv[n++] = (char *)amiko;
    argv[n++] = (char *)"ssh";
    argv[n++] = (char *)"-p";
    argv[n++] = port_s;
    argv[n++] = (char *)"-i";
    argv[n++] = id;
    argv[n++] = (char *)"-o";
    argv[n++] = kh;
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)"BatchMode=yes";
    for (size_t i = 0; extra[i] != NULL && n < 46; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return run(argv, in_file, env);
}

/* `--help` is a request: every command prints its usage to stdout, nothing
 * to stderr, and exits 0, wherever --help comes among the options. */
static void
test_amiko_help_every_command(void **state)
{
    static const char *const cmds[] = { "keygen", "ssh", "serve", "cp", "sftp", "help" };
    char want[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char *argv[] = { (char *)amiko, (char *)cmds[i], (char *)"--help", NULL };
        char *o, *e;
        int st = run(argv, NULL, NULL);

        o = tf_read(out_path, NULL);
        e = tf_read(err_path, NULL);
        snprintf(want, sizeof(want), "usage: amiko %s", cmds[i]);
        if (st != 0 || strncmp(o, want, strlen(want)) != 0 || e[0] != '\0')
            fail_msg("amiko %s --help: exit %d, stdout \"%s\", stderr \"%s\"", cmds[i], st, o, e);
        free(o);
        free(e);
    }
    /* after other options too (the command's own parser sees it) */
    {
        static const char *const late[][2] = { { "cp", "-r" }, { "sftp", "-q" }, { "ssh", "-T" } };

        for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
            char *argv[] = { (char *)amiko, (char *)late[i][0], (char *)late[i][1],
                             (char *)"--help", NULL };
            char *o;

            assert_int_equal(run(argv, NULL, NULL), 0);
            o = tf_read(out_path, NULL);
            assert_non_null(strstr(o, "usage: amiko "));
            free(o);
        }
    }
}

static void
test_amiko_ssh_exit_status(void **state)
{
    const char *a[] = { fx.user, (char *)NULL, NULL };
    char target[128];

    snprintf(target, sizeof(target), "%s@127.0.0.1", fx.user);
    a[0] = target;
    a[1] = "exit 7";
    assert_int_equal(ssh_run(a, NULL, NULL), 7);
    a[1] = "echo out; echo err >&2; exit 0";
    assert_int_equal(ssh_run(a, NULL, NULL), 0);
    expect_output("out\n", "err\n");
    /* death by signal: 255, as ssh */
    a[1] = "kill -TERM $$";
    assert_int_equal(ssh_run(a, NULL, NULL), 255);
}

static void
test_amiko_ssh_stdin_piped(void **state)
{
    const char *a[] = { "-l", fx.user, "127.0.0.1", "tr", "a-z", "A-Z", NULL };
    FILE *f = fopen(in_path, "w");

    assert_non_null(f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "line %d of the input\n", i);
    fclose(f);
    assert_int_equal(ssh_run(a, in_path, NULL), 0);
    {
        char *o = tf_read(out_path, NULL), *i = tf_read(in_path, NULL);
        for (char *p = i; *p != '\0'; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        assert_string_equal(o, i);
        free(o);
        free(i);
    }
    /* the command sees the end of stdin */
    {
        const char *b[] = { "-l", fx.user, "127.0.0.1", "wc -l", NULL };
        assert_int_equal(ssh_run(b, in_path, NULL), 0);
        expect_output("20000\n", NULL);
    }
}

static void
test_amiko_ssh_options(void **state)
{
    const char *a[] = { "-vv", "-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256",
        "-o", "KexAlgorithms=ecdh-sha2-nistp256", "-o", "HostKeyAlgorithms=ssh-ed25519",
        "-o", "Compression=yes", "-o", "ServerAliveInterval=5", "-o", "ConnectTimeout=10",
        "-o", "PasswordAuthentication=no", "-T", "-l", fx.user, "127.0.0.1", "echo opts", NULL };

    assert_int_equal(ssh_run(a, NULL, NULL), 0);
    expect_output("opts\n", "ecdh-sha2-nistp256, host key ssh-ed25519, aes128-ctr");
    expect_output(NULL, "hmac-sha2-256");
    /* an unknown option is refused before connecting */
    {
        const char *b[] = { "-o", "NoSuchOption=1", "127.0.0.1", "true", NULL };
        assert_int_equal(ssh_run(b, NULL, NULL), 255);
        expect_output("", "NoSuchOption");
    }
}

static void
test_amiko_ssh_host_key_checking(void **state)
{
    char kh[FIXTURE_PATH_MAX], opt[FIXTURE_PATH_MAX + 32], host[64];
    char *argv[8];
    const char *a[] = { "-o", opt, "-o", "StrictHostKeyChecking=yes", "-l", fx.user,
        "127.0.0.1", "true", NULL };

    sshd_fixture_path(&fx, "tool_known_hosts", kh, sizeof(kh));
    unlink(kh);
    snprintf(opt, sizeof(opt), "UserKnownHostsFile=%s", kh);
    /* unknown and StrictHostKeyChecking=yes: refused */
    assert_int_equal(ssh_run(a, NULL, NULL), 255);
    expect_output("", "not known");
    /* accept-new: accepted and written */
    a[3] = "StrictHostKeyChecking=accept-new";
    assert_int_equal(ssh_run(a, NULL, NULL), 0);
    snprintf(host, sizeof(host), "[127.0.0.1]:%u", (unsigned)fx.port);
    argv[0] = (char *)SSH_KEYGEN_PATH;
    argv[1] = (char *)"-F";
    argv[2] = host;
    argv[3] = (char *)"-f";
    argv[4] = kh;
    argv[5] = NULL;
    assert_int_equal(fixture_run(argv, NULL, FIXTURE_WAIT_MS), 0);
    /* now known: yes accepts it */
    a[3] = "StrictHostKeyChecking=yes";
    assert_int_equal(ssh_run(a, NULL, NULL), 0);
}

static void
test_amiko_ssh_auth_failure_is_255(void **state)
{
    /* a user sshd does not know, BatchMode: no prompt, 255 */
    const char *a[] = { "-o", "PubkeyAuthentication=no", "-l", fx.user, "127.0.0.1", "true",
        NULL };

    assert_int_equal(ssh_run(a, NULL, NULL), 255);
    expect_output("", "authentication");
}

/* --- password authentication (throwaway account) ---------------------- */

static void
remove_user(void)
{
    char *argv[] = { (char *)"/usr/sbin/userdel", user, NULL };

    if (!user_created)
        return;
    user_created = 0;
    if (fixture_run(argv, NULL, FIXTURE_WAIT_MS) != 0)
        fprintf(stderr, "warning: userdel %s failed\n", user);
}

static int
create_user(void)
{
    char *add[] = { (char *)"/usr/sbin/useradd", (char *)"-M", (char *)"-s",
        (char *)"/bin/sh", user, NULL };
    FILE *p;

    snprintf(user, sizeof(user), "amkcli%ld", (long)getpid() % 1000000);
    if (fixture_run(add, NULL, FIXTURE_WAIT_MS) != 0)
        return -1;
    user_created = 1;
    atexit(remove_user);
    if ((p = popen("/usr/sbin/chpasswd", "w")) == NULL)
        return -1;
    fprintf(p, "%s:%s\n", user, PASSWORD);
    return pclose(p) == 0 ? 0 : -1;
}

static void
need_password_user(const char *config)
{
    if (geteuid() != 0) {
        fprintf(stderr, "note: not root: password cases skipped (they need a throwaway "
            "account)\n");
        skip();
    }
    if (!user_created)
        assert_int_equal(create_user(), 0);
    sshd_fixture_stop(&fx);
    assert_int_equal(sshd_fixture_start(&fx, config), 0);
    snprintf(port_s, sizeof(port_s), "%u", (unsigned)fx.port);
}

static void
test_paramiko_example_password_ls(void **state)
{
    char *argv[] = { (char *)example, (char *)"127.0.0.1", user, (char *)PASSWORD, port_s,
        NULL };
    char *o;

    need_password_user("PasswordAuthentication yes");
    assert_int_equal(run(argv, NULL, NULL), 0);
    o = tf_read(out_path, NULL);
    if (strstr(o, "total ") == NULL)
        fail_msg("no `ls -l` output: \"%s\"", o);
    free(o);
    /* a wrong password: 255 and a message */
    argv[3] = (char *)"wrong";
    assert_int_equal(run(argv, NULL, NULL), 255);
    expect_output("", "AMK_EAUTH");
}

/*
 * A signal request takes effect (RFC 4254 §6.9): sshd refuses "signal" for
 * root logins ("session signalling requires privilege separation"), so
 * this runs as the throwaway user: `sleep` gets TERM and the channel
 * reports exit-signal TERM.
 */
static void
test_client_signal_delivered_as_user(void **state)
{
    struct amk_client *c = NULL;
    struct amk_client_channel *ch = NULL;
    const char *sig = NULL;
    char buf[64];
    size_t got = 0;

    need_password_user("PasswordAuthentication yes");
    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_set_hostkey_policy(c, AMK_HOSTKEY_AUTO_ADD));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_timeout(c, 60000));
    ASSERT_OK(amk_client_connect(c, "127.0.0.1", fx.port, user, PASSWORD));
    /* "ready" first, so the signal cannot arrive before sleep runs */
    ASSERT_OK(amk_client_exec(c, "echo ready; exec sleep 60", 0, &ch));
    ASSERT_OK(amk_client_channel_read(ch, buf, sizeof(buf), &got));
    assert_true(got > 0);
    ASSERT_OK(amk_client_channel_signal(ch, "TERM"));
    ASSERT_OK(amk_client_channel_exit_signal(ch, &sig));
    assert_string_equal(sig, "TERM");
    amk_client_channel_free(ch);
    amk_client_free(c);
}

static void
test_amiko_ssh_password_from_askpass(void **state)
{
    char script[FIXTURE_PATH_MAX], askpass[FIXTURE_PATH_MAX + 16];
    char require[] = "SSH_ASKPASS_REQUIRE=force";
    char *env[] = { askpass, require, NULL };
    const char *a[] = { "-o", "PubkeyAuthentication=no", "-o", "BatchMode=no", "-o",
        "StrictHostKeyChecking=no", "-l", user, "127.0.0.1", "echo pw-ok; exit 3", NULL };
    FILE *f;

    need_password_user("PasswordAuthentication yes");
    sshd_fixture_path(&fx, "askpass.sh", script, sizeof(script));
    assert_non_null(f = fopen(script, "w"));
    fprintf(f, "#!/bin/sh\necho '%s'\n", PASSWORD);
    fclose(f);
    assert_int_equal(chmod(script, 0700), 0);
    snprintf(askpass, sizeof(askpass), "SSH_ASKPASS=%s", script);
    assert_int_equal(ssh_run(a, NULL, env), 3);
    expect_output("pw-ok\n", NULL);
    /* BatchMode never asks: refused */
    a[3] = "BatchMode=yes";
    assert_int_equal(ssh_run(a, NULL, env), 255);
}

/* keyboard-interactive through PAM (pam_unix asks "Password: "), answered by SSH_ASKPASS */
static void
test_amiko_ssh_kbdint_from_askpass(void **state)
{
    char script[FIXTURE_PATH_MAX], askpass[FIXTURE_PATH_MAX + 16];
    char require[] = "SSH_ASKPASS_REQUIRE=force";
    char *env[] = { askpass, require, NULL };
    const char *a[] = { "-o", "PubkeyAuthentication=no", "-o", "BatchMode=no", "-o",
        "StrictHostKeyChecking=no", "-l", user, "127.0.0.1", "echo kbd-ok; exit 4", NULL };
    FILE *f;

    need_password_user("UsePAM yes\nKbdInteractiveAuthentication yes\n"
        "PasswordAuthentication no");
    sshd_fixture_path(&fx, "askpass_kbd.sh", script, sizeof(script));
    assert_non_null(f = fopen(script, "w"));
    fprintf(f, "#!/bin/sh\necho '%s'\n", PASSWORD);
    fclose(f);
    assert_int_equal(chmod(script, 0700), 0);
    snprintf(askpass, sizeof(askpass), "SSH_ASKPASS=%s", script);
    assert_int_equal(ssh_run(a, NULL, env), 4);
    expect_output("kbd-ok\n", NULL);
    /* keyboard-interactive disabled: nothing left to try */
    a[1] = "KbdInteractiveAuthentication=no";
    assert_int_equal(ssh_run(a, NULL, env), 255);
}

static int
group_setup(void **state)
{
    if (sshd_fixture_init(&fx) != 0 || sshd_fixture_start(&fx, NULL) != 0)
        return -1;
    snprintf(port_s, sizeof(port_s), "%u", (unsigned)fx.port);
    sshd_fixture_path(&fx, "tool.out", out_path, sizeof(out_path));
    sshd_fixture_path(&fx, "tool.err", err_path, sizeof(err_path));
    sshd_fixture_path(&fx, "tool.in", in_path, sizeof(in_path));
    return 0;
}

static int
group_teardown(void **state)
{
    sshd_fixture_cleanup(&fx);
    remove_user();
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amiko_help_every_command),
        cmocka_unit_test(test_amiko_ssh_exit_status),
        cmocka_unit_test(test_amiko_ssh_stdin_piped),
        cmocka_unit_test(test_amiko_ssh_options),
        cmocka_unit_test(test_amiko_ssh_host_key_checking),
        cmocka_unit_test(test_amiko_ssh_auth_failure_is_255),
        cmocka_unit_test(test_paramiko_example_password_ls),
        cmocka_unit_test(test_client_signal_delivered_as_user),
        cmocka_unit_test(test_amiko_ssh_password_from_askpass),
        cmocka_unit_test(test_amiko_ssh_kbdint_from_askpass),
    };
    if (argc < 3) {
        fprintf(stderr, "usage: %s amiko paramiko_client\n", argv[0]);
        return 2;
    }
    amiko = argv[1];
    example = argv[2];
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
