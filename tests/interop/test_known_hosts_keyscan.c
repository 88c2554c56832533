/*
 * known_hosts files written by the real ssh-keyscan(1) against the fixture
 * sshd: plain (`ssh-keyscan -p PORT 127.0.0.1`) and hashed (`-H`), with
 * the `[127.0.0.1]:PORT` names of a port other than 22. amiko loads them
 * and finds the host keys ssh-keyscan fetched (the fixture's .pub files:
 * Ed25519, ECDSA P-256, RSA, and DSA when offered) as known for 127.0.0.1
 * on that port, the ones it does not fetch as changed, and all of them as
 * unknown on another port or for another host.
 */
#include "test_helper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amiko/key.h>
#include <amiko/known_hosts.h>

#include "sshd_fixture.h"

#define SSH_KEYSCAN_PATH "/usr/bin/ssh-keyscan"

/* The fixture's host keys (sshd_fixture.c); host_dsa only when OpenSSH
 * still makes DSA keys. */
static const char *const HOST_KEY_FILES[] = { "host_ed25519.pub", "host_ecdsa256.pub",
    "host_ecdsa384.pub", "host_ecdsa521.pub", "host_rsa.pub", "host_dsa.pub" };
#define N_HOST_KEY_FILES (sizeof(HOST_KEY_FILES) / sizeof(HOST_KEY_FILES[0]))

static struct sshd_fixture fx;

/* Runs ssh-keyscan [-H] -p PORT 127.0.0.1 into the fixture file @p name. */
static void
keyscan(int hashed, const char *name, char *path, size_t cap)
{
    char port[16], types[] = "ed25519,ecdsa,rsa,dsa";
    char *argv[12];
    int n = 0, rc;

    snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
    sshd_fixture_path(&fx, name, path, cap);
    unlink(path);
    argv[n++] = (char *)SSH_KEYSCAN_PATH;
    if (hashed)
        argv[n++] = (char *)"-H";
    argv[n++] = (char *)"-t";
    argv[n++] = types;
    argv[n++] = (char *)"-T";
    argv[n++] = (char *)"10";
    argv[n++] = (char *)"-p";
    argv[n++] = port;
    argv[n++] = (char *)"127.0.0.1";
    argv[n] = NULL;
    /* ssh-keyscan writes its "# host:port SSH-2.0-..." comments to stderr,
     * which fixture_run sends into the file as well: they are comments. */
    rc = fixture_run(argv, path, FIXTURE_WAIT_MS * 3);
    if (rc != 0) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("ssh-keyscan exited %d", rc);
    }
}

/* Loads the known_hosts file at @p path and checks every fixture host key. */
static void
check_file(const char *path, int hashed)
{
    struct amk_known_hosts *kh = NULL;
    char pub[FIXTURE_PATH_MAX], text[16384];
    enum amk_known_hosts_status st;
    const char *file;
    size_t line, keys = 0, len;
    unsigned flags;
    FILE *f;

    f = fopen(path, "r");
    assert_non_null(f);
    len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    /* The names are as ssh-keyscan writes them: hashed or [host]:port. */
    if (hashed) {
        assert_true(strncmp(text, "|1|", 3) == 0 || strstr(text, "\n|1|") != NULL);
        assert_null(strstr(text, "\n[127.0.0.1]"));
    } else {
        char name[64];
        snprintf(name, sizeof(name), "[127.0.0.1]:%u ", (unsigned)fx.port);
        assert_non_null(strstr(text, name));
    }
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    assert_int_equal(amk_known_hosts_skipped(kh), 0);
    for (size_t i = 0; i < N_HOST_KEY_FILES; i++) {
        struct amk_key *k = NULL;
        sshd_fixture_path(&fx, HOST_KEY_FILES[i], pub, sizeof(pub));
        if (access(pub, R_OK) != 0)
            continue;   /* no DSA host key on this OpenSSH */
        ASSERT_OK(amk_key_load_public_file(pub, &k));
        /* Unless this OpenSSH no longer offers DSA, ssh-keyscan got the key. */
        ASSERT_OK(amk_known_hosts_check(kh, "127.0.0.1", fx.port, k, &st, &file, &line, &flags));
        if (st == AMK_KNOWN_HOSTS_OK) {
            assert_string_equal(file, path);
            assert_true(line >= 1);
            keys++;
        } else if (strcmp(HOST_KEY_FILES[i], "host_ecdsa384.pub") == 0 ||
                   strcmp(HOST_KEY_FILES[i], "host_ecdsa521.pub") == 0 ||
                   strcmp(HOST_KEY_FILES[i], "host_dsa.pub") == 0) {
            /* ssh-keyscan -t ecdsa fetches one ECDSA key (sshd picks
             * nistp256 first), and may get no DSA key: the host is known
             * with other keys. */
            assert_int_equal(st, AMK_KNOWN_HOSTS_CHANGED);
        } else {
            fail_msg("%s: %s is not known for [127.0.0.1]:%u (status %d)\n%s", path,
                HOST_KEY_FILES[i], (unsigned)fx.port, (int)st, text);
        }
        /* Another port, port 22, and another host are unknown. */
        ASSERT_OK(amk_known_hosts_check(kh, "127.0.0.1", fx.port == 65535 ? 1 : fx.port + 1u,
            k, &st, NULL, NULL, NULL));
        assert_int_equal(st, AMK_KNOWN_HOSTS_UNKNOWN);
        ASSERT_OK(amk_known_hosts_check(kh, "127.0.0.1", 22, k, &st, NULL, NULL, NULL));
        assert_int_equal(st, AMK_KNOWN_HOSTS_UNKNOWN);
        ASSERT_OK(amk_known_hosts_check(kh, "127.0.0.2", fx.port, k, &st, NULL, NULL, NULL));
        assert_int_equal(st, AMK_KNOWN_HOSTS_UNKNOWN);
        amk_key_free(k);
    }
    /* At least Ed25519, ECDSA P-256 and RSA. */
    assert_true(keys >= 3);
    amk_known_hosts_free(kh);
}

static void
test_known_hosts_check_ssh_keyscan_plain(void **state)
{
    char path[FIXTURE_PATH_MAX];

    keyscan(0, "keyscan_plain", path, sizeof(path));
    check_file(path, 0);
}

static void
test_known_hosts_check_ssh_keyscan_hashed(void **state)
{
    char path[FIXTURE_PATH_MAX];

    keyscan(1, "keyscan_hashed", path, sizeof(path));
    check_file(path, 1);
}

/* A key the fixture does not serve is CHANGED for the scanned host (it has
 * entries) and UNKNOWN elsewhere. */
static void
test_known_hosts_check_ssh_keyscan_other_key(void **state)
{
    struct amk_known_hosts *kh = NULL;
    struct amk_key *k = NULL;
    enum amk_known_hosts_status st;
    char path[FIXTURE_PATH_MAX];
    unsigned flags;

    keyscan(1, "keyscan_other", path, sizeof(path));
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    ASSERT_OK(amk_known_hosts_check(kh, "127.0.0.1", fx.port, k, &st, NULL, NULL, &flags));
    assert_int_equal(st, AMK_KNOWN_HOSTS_CHANGED);
    assert_true(flags & AMK_KNOWN_HOSTS_F_DIFFERENT_KEY);
    ASSERT_OK(amk_known_hosts_check(kh, "127.0.0.1", fx.port + 1u, k, &st, NULL, NULL, NULL));
    assert_int_equal(st, AMK_KNOWN_HOSTS_UNKNOWN);
    amk_key_free(k);
    amk_known_hosts_free(kh);
}

static int
group_setup(void **state)
{
    if (sshd_fixture_init(&fx) != 0 || sshd_fixture_start(&fx, NULL) != 0)
        return -1;
    return 0;
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
        cmocka_unit_test(test_known_hosts_check_ssh_keyscan_plain),
        cmocka_unit_test(test_known_hosts_check_ssh_keyscan_hashed),
        cmocka_unit_test(test_known_hosts_check_ssh_keyscan_other_key),
    };
    if (!sshd_fixture_available() || access(SSH_KEYSCAN_PATH, X_OK) != 0) {
        fprintf(stderr, "OpenSSH (sshd, ssh-keyscan) not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
