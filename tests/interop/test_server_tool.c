/*
 * `amiko serve` as a program (AMK_CLI_PATH) against OpenSSH's ssh: it
 * prints its host key and listening line, writes the port file, lets a
 * key from --authorized-keys in, runs a command with stdin, stdout,
 * stderr and exit code, refuses an unknown user, and exits 0 on SIGTERM.
 * An unknown -o option is a usage error (exit 2). The broad matrix
 * (sftp, scp, keyscan, paramiko, algorithms) is tests/interop/test_serve_*.
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AMK_CLI_PATH
#error "AMK_CLI_PATH must name the amiko binary"
#endif

#define SSH "/usr/bin/ssh"
#define KEYGEN "/usr/bin/ssh-keygen"
#define WAIT_S 20

static char dir[256];

static void
path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Runs argv with stdin from @p in (NULL: /dev/null), stdout and stderr to
 * files; returns the exit status (or 128 + signal). */
static int
run(const char *const *argv, const char *in, const char *out, const char *err)
{
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int i = open(in != NULL ? in : "/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (i < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        alarm(WAIT_S);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *
slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
test_serve_ssh_exec_and_sigterm(void **state)
{
    char key[300], pub[300], portf[300], log[300], out[300], err[300], in[300], kh[300];
    char khopt[340], port_s[16], *text;
    const char *kg[] = { KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", key, NULL };
    int status = 0, port = 0;
    pid_t srv;
    FILE *f;

    (void)state;
    path(key, sizeof(key), "id");
    path(pub, sizeof(pub), "id.pub");
    path(portf, sizeof(portf), "port");
    path(log, sizeof(log), "serve.log");
    path(out, sizeof(out), "out");
    path(err, sizeof(err), "err");
    path(in, sizeof(in), "in");
    path(kh, sizeof(kh), "known_hosts");
    assert_int_equal(run(kg, NULL, out, err), 0);
    srv = fork();
    assert_true(srv >= 0);
    if (srv == 0) {
        int e = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const char *argv[] = { AMK_CLI_PATH, "serve", "-p", "0", "--port-file", portf,
            "--authorized-keys", pub, "-o", "MaxAuthTries=3", NULL };
        if (e < 0)
            _exit(126);
        dup2(e, 2);
        /* sessions run $SHELL; a login shell's rc files (bash reads
         * ~/.bashrc when stdin is a socket, as under sshd) are not ours */
        setenv("SHELL", "/bin/sh", 1);
        alarm(WAIT_S * 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < WAIT_S * 20 && port == 0; i++) {
        if ((f = fopen(portf, "r")) != NULL) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port == 0)
            usleep(50000);
    }
    assert_true(port > 0);
    text = slurp(log);
    snprintf(port_s, sizeof(port_s), "%d", port);
    {
        char want[64];
        snprintf(want, sizeof(want), "listening on 127.0.0.1:%d", port);
        if (strstr(text, want) == NULL || strstr(text, "host key ED25519 SHA256:") == NULL)
            fail_msg("log: %s", text);
    }
    free(text);
    snprintf(khopt, sizeof(khopt), "UserKnownHostsFile=%s", kh);
    f = fopen(in, "w");
    assert_non_null(f);
    fputs("from stdin\n", f);
    assert_int_equal(fclose(f), 0);
    {
        const char *argv[] = { SSH, "-F", "/dev/null", "-p", port_s, "-i", key, "-o",
            "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", khopt,
            "127.0.0.1", "cat; echo err >&2; exit 9", NULL };
        assert_int_equal(run(argv, in, out, err), 9);
        text = slurp(out);
        assert_string_equal(text, "from stdin\n");
        free(text);
        text = slurp(err);
        if (strstr(text, "err\n") == NULL)
            fail_msg("stderr: %s", text);
        free(text);
    }
    {
        /* the host key is now known: strict checking passes */
        const char *argv[] = { SSH, "-F", "/dev/null", "-p", port_s, "-i", key, "-o",
            "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", khopt,
            "-l", "no-such-user-here", "127.0.0.1", "true", NULL };
        assert_int_equal(run(argv, NULL, out, err), 255);
        text = slurp(err);
        if (strstr(text, "Permission denied") == NULL)
            fail_msg("stderr: %s", text);
        free(text);
    }
    assert_int_equal(kill(srv, SIGTERM), 0);
    assert_int_equal(waitpid(srv, &status, 0), srv);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    text = slurp(log);
    if (strstr(text, "auth ok: user ") == NULL || strstr(text, "method publickey") == NULL
        || strstr(text, "open from 127.0.0.1") == NULL || strstr(text, "closed:") == NULL)
        fail_msg("log: %s", text);
    free(text);
}

static void
test_serve_unknown_option_is_usage_error(void **state)
{
    char out[300], err[300], *text;
    const char *argv[] = { AMK_CLI_PATH, "serve", "-p", "0", "-o", "NoSuchOption=1", NULL };

    (void)state;
    path(out, sizeof(out), "u.out");
    path(err, sizeof(err), "u.err");
    assert_int_equal(run(argv, NULL, out, err), 2);
    text = slurp(err);
    if (strstr(text, "NoSuchOption") == NULL)
        fail_msg("stderr: %s", text);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_ssh_exec_and_sigterm),
        cmocka_unit_test(test_serve_unknown_option_is_usage_error),
    };
    char cmd[300];
    int failed;

    if (access(SSH, X_OK) != 0 || access(KEYGEN, X_OK) != 0) {
        fprintf(stderr, "OpenSSH client not installed: skipped\n");
        return 77;
    }
    snprintf(dir, sizeof(dir), "%s/amk-serve.XXXXXX",
        getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    failed = cmocka_run_group_tests_name("amiko serve", tests, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return failed;
}
