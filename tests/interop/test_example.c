/*
 * Interop: examples/handshake.c, run as a program against the fixture's
 * sshd, in blocking and non-blocking (-n) mode. It must trust the server's
 * ed25519 key when given it, and refuse (exit 1) with any other key.
 * argv[1] is the path of the built example.
 */
#include "test_helper.h"

#include "sshd_fixture.h"

static struct sshd_fixture fx;
static const char *example;
static char host_key_b64[512];

/* Runs the example with @p mode ("-n" or NULL) and @p key; its exit status. */
static int
run_example(const char *mode, const char *key)
{
    char port[16], out[FIXTURE_PATH_MAX];
    char *argv[8];
    int n = 0;

    snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
    sshd_fixture_path(&fx, "example.out", out, sizeof(out));
    argv[n++] = (char *)example;
    if (mode != NULL)
        argv[n++] = (char *)mode;
    argv[n++] = (char *)"127.0.0.1";
    argv[n++] = port;
    argv[n++] = (char *)key;
    argv[n] = NULL;
    return fixture_run(argv, out, FIXTURE_WAIT_MS);
}

static void
test_example_handshake_trusts_given_key(void **state)
{
    assert_int_equal(sshd_fixture_start(&fx, "HostKeyAlgorithms ssh-ed25519"), 0);
    assert_int_equal(run_example(NULL, host_key_b64), 0);
    assert_int_equal(run_example("-n", host_key_b64), 0);
    sshd_fixture_stop(&fx);
}

static void
test_example_handshake_refuses_other_key(void **state)
{
    char wrong[sizeof(host_key_b64)];

    assert_int_equal(sshd_fixture_start(&fx, "HostKeyAlgorithms ssh-ed25519"), 0);
    snprintf(wrong, sizeof(wrong), "%s", host_key_b64);
    wrong[strlen(wrong) - 2] = wrong[strlen(wrong) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(run_example(NULL, wrong), 1);
    assert_int_equal(run_example("-n", wrong), 1);
    sshd_fixture_stop(&fx);
}

static int
group_setup(void **state)
{
    char path[FIXTURE_PATH_MAX], line[1024], *b64, *end;
    FILE *in;

    if (sshd_fixture_init(&fx) != 0)
        return -1;
    sshd_fixture_path(&fx, "host_ed25519.pub", path, sizeof(path));
    if ((in = fopen(path, "r")) == NULL)
        return -1;
    b64 = fgets(line, sizeof(line), in) != NULL ? strchr(line, ' ') : NULL;
    fclose(in);
    if (b64 == NULL || (end = strchr(++b64, ' ')) == NULL)
        return -1;
    *end = '\0';
    snprintf(host_key_b64, sizeof(host_key_b64), "%s", b64);
    return 0;
}

static int
group_teardown(void **state)
{
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_handshake_trusts_given_key),
        cmocka_unit_test(test_example_handshake_refuses_other_key),
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s path-to-examples/handshake\n", argv[0]);
        return 2;
    }
    example = argv[1];
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
