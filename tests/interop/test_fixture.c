/*
 * Proves the interop fixture: the real OpenSSH client logs in to the sshd
 * that sshd_fixture.c starts, with the generated user key and known_hosts;
 * extra config lines take effect; a stopped sshd no longer listens; and
 * cleanup removes the directory.
 */
#include "test_helper.h"

#include <sys/stat.h>
#include <unistd.h>

#include "io/tcp.h"
#include "sshd_fixture.h"

static struct sshd_fixture fx;

/* Runs `ssh ... user@127.0.0.1 true` against the fixture, with extra -o options. */
static int
run_ssh(const char *opt1, const char *opt2)
{
    char port[16], kh[FIXTURE_PATH_MAX + 32], dest[128], out[FIXTURE_PATH_MAX];
    char *argv[32];
    int n = 0;

    snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
    snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", fx.known_hosts);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
    sshd_fixture_path(&fx, "ssh.out", out, sizeof(out));
    argv[n++] = (char *)SSH_PATH;
    /* ssh keeps the first value of an option: the test's go first. */
    if (opt1 != NULL) {
        argv[n++] = (char *)"-o";
        argv[n++] = (char *)opt1;
    }
    if (opt2 != NULL) {
        argv[n++] = (char *)"-o";
        argv[n++] = (char *)opt2;
    }
    argv[n++] = (char *)"-F";
    argv[n++] = (char *)"/dev/null";
    argv[n++] = (char *)"-p";
    argv[n++] = port;
    argv[n++] = (char *)"-i";
    argv[n++] = fx.user_key;
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)"BatchMode=yes";
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)"IdentitiesOnly=yes";
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)"StrictHostKeyChecking=yes";
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)"GlobalKnownHostsFile=/dev/null";
    argv[n++] = (char *)"-o";
    argv[n++] = kh;
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)"ConnectTimeout=10";
    argv[n++] = dest;
    argv[n++] = (char *)"true";
    argv[n] = NULL;
    return fixture_run(argv, out, FIXTURE_WAIT_MS);
}

static void
test_fixture_ssh_client_logs_in(void **state)
{
    assert_int_equal(sshd_fixture_start(&fx, NULL), 0);
    if (run_ssh(NULL, NULL) != 0) {
        sshd_fixture_dump_log(&fx, 4000);
        fail_msg("ssh to the fixture failed");
    }
    /* every host key type is served and listed in known_hosts */
    assert_int_equal(run_ssh("HostKeyAlgorithms=ecdsa-sha2-nistp521", NULL), 0);
    assert_int_equal(run_ssh("HostKeyAlgorithms=rsa-sha2-512", NULL), 0);
    sshd_fixture_stop(&fx);
}

static void
test_fixture_extra_config_restricts_sshd(void **state)
{
    assert_int_equal(sshd_fixture_start(&fx, "KexAlgorithms curve25519-sha256\n"
        "Ciphers aes128-ctr"), 0);
    assert_int_equal(run_ssh("KexAlgorithms=curve25519-sha256", "Ciphers=aes128-ctr"), 0);
    /* the client offering only what sshd was told not to use fails */
    assert_int_not_equal(run_ssh("KexAlgorithms=ecdh-sha2-nistp256", NULL), 0);
    assert_int_not_equal(run_ssh("Ciphers=aes256-gcm@openssh.com", NULL), 0);
    sshd_fixture_stop(&fx);
}

static void
test_fixture_wrong_key_is_refused(void **state)
{
    char other[FIXTURE_PATH_MAX + 16];

    /* the host key known for the port is what the client checks */
    assert_int_equal(sshd_fixture_start(&fx, NULL), 0);
    snprintf(other, sizeof(other), "UserKnownHostsFile=/dev/null");
    assert_int_not_equal(run_ssh(other, NULL), 0);
    sshd_fixture_stop(&fx);
}

static void
test_fixture_stop_closes_port(void **state)
{
    uint16_t port;
    int fd = -1;

    assert_int_equal(sshd_fixture_start(&fx, NULL), 0);
    port = fx.port;
    sshd_fixture_stop(&fx);
    assert_int_equal(fx.pid, -1);
    ASSERT_AMK(AMK_ECONNECT, amk_tcp_connect("127.0.0.1", port, 5000, &fd, NULL));
}

static void
test_fixture_cleanup_removes_directory(void **state)
{
    struct sshd_fixture other;
    char dir[FIXTURE_PATH_MAX];
    struct stat st;

    assert_int_equal(sshd_fixture_init(&other), 0);
    snprintf(dir, sizeof(dir), "%s", other.dir);
    assert_int_equal(sshd_fixture_start(&other, NULL), 0);
    assert_int_equal(stat(dir, &st), 0);
    sshd_fixture_cleanup(&other);
    assert_int_not_equal(stat(dir, &st), 0);
    sshd_fixture_cleanup(&other);   /* twice is fine */
}

static void
test_fixture_bad_config_fails_bounded(void **state)
{
    /* sshd refuses an unknown keyword: start reports failure instead of hanging */
    assert_int_equal(sshd_fixture_start(&fx, "NoSuchKeyword yes"), -1);
    assert_int_equal(fx.pid, -1);
}

static int
group_setup(void **state)
{
    return sshd_fixture_init(&fx);
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
        cmocka_unit_test(test_fixture_ssh_client_logs_in),
        cmocka_unit_test(test_fixture_extra_config_restricts_sshd),
        cmocka_unit_test(test_fixture_wrong_key_is_refused),
        cmocka_unit_test(test_fixture_stop_closes_port),
        cmocka_unit_test(test_fixture_cleanup_removes_directory),
        cmocka_unit_test(test_fixture_bad_config_fails_bounded),
    };
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH (sshd, ssh, ssh-keygen) not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
