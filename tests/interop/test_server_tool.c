/*
 * `amiko serve` as a program (AMK_CLI_PATH) against OpenSSH's ssh: it
 * prints its host key and listening line, writes the port file, lets a
 * key from --authorized-keys in, runs a command with stdin, stdout,
 * stderr and exit code, refuses an unknown user, and exits 0 on SIGTERM.
 * With two host keys, ssh -o UpdateHostKeys=yes learns the second
 * (hostkeys-00 / hostkeys-prove-00@openssh.com). An unknown -o option is
 * a usage error (exit 2). Run as root without --allow-root it refuses to
 * start (exit 1, no listener). The broad matrix
 * (sftp, scp, keyscan, paramiko, algorithms) is tests/interop/test_serve_*.
 */
#include "test_helper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proc_util.h"
#include "file_util.h"

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
 * files; returns the exit status (or 128 + signal); a timeout fails. */
static int
run(const char *const *argv, const char *in, const char *out, const char *err)
{
    struct proc_io io = { .in = in, .out = out, .err = err };
    int r = proc_run((char *const *)argv, &io, WAIT_S * 1000);

    if (r < 0)
        fail_msg("%s did not finish in %d s", argv[0], WAIT_S);
    return r;
}

/*
 * Starts `amiko serve` with @p args after "serve -p 0 --port-file F",
 * stderr to @p log, sessions on /bin/sh (a login shell's rc files, bash
 * reading ~/.bashrc when stdin is a socket as under sshd, are not ours);
 * waits for the port file. Its pid; *@p port the port.
 */
static pid_t
start_serve(const char *portf, const char *log, const char *const *args, int *port)
{
    static char *const env[] = { "SHELL=/bin/sh", NULL };
    struct proc_io io = { .err = log, .env = env };
    const char *argv[24] = { AMK_CLI_PATH, "serve", "-p", "0", "--port-file", portf };
    size_t n = 6;
    pid_t pid;
    FILE *f;

    /* CI runs as root, which serve refuses by default */
    if (geteuid() == 0)
        argv[n++] = "--allow-root";
    for (size_t i = 0; args[i] != NULL && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    (void)unlink(portf);
    pid = proc_spawn((char *const *)argv, &io);
    assert_true(pid > 0);
    *port = 0;
    for (int i = 0; i < WAIT_S * 20 && *port == 0; i++) {
        if ((f = fopen(portf, "r")) != NULL) {
            if (fscanf(f, "%d", port) != 1)
                *port = 0;
            fclose(f);
        }
        if (*port == 0)
            usleep(50000);
    }
    assert_true(*port > 0);
    return pid;
}

/* SIGTERM: `amiko serve` exits 0. */
static void
stop_serve(pid_t pid)
{
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(proc_wait(pid, WAIT_S * 1000), 0);
}

static void
test_serve_ssh_exec_and_sigterm(void **state)
{
    char key[300], pub[300], portf[300], log[300], out[300], err[300], in[300], kh[300];
    char khopt[340], port_s[16], *text;
    const char *kg[] = { KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", key, NULL };
    int port = 0;
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
    {
        const char *args[] = { "--authorized-keys", pub, "-o", "MaxAuthTries=3", NULL };
        srv = start_serve(portf, log, args, &port);
    }
    text = tf_read(log, NULL);
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
        text = tf_read(out, NULL);
        assert_string_equal(text, "from stdin\n");
        free(text);
        text = tf_read(err, NULL);
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
        text = tf_read(err, NULL);
        if (strstr(text, "Permission denied") == NULL)
            fail_msg("stderr: %s", text);
        free(text);
    }
    stop_serve(srv);
    text = tf_read(log, NULL);
    if (strstr(text, "auth ok: user ") == NULL || strstr(text, "method publickey") == NULL
        || strstr(text, "open from 127.0.0.1") == NULL || strstr(text, "closed:") == NULL)
        fail_msg("log: %s", text);
    free(text);
}

/* Two host keys; ssh knows one and learns the other through
 * hostkeys-00@openssh.com and hostkeys-prove-00@openssh.com. */
static void
test_serve_update_host_keys(void **state)
{
    char key[300], pub[300], hk1[300], hk1pub[300], hk2[300], portf[300], log[300];
    char out[300], err[300], kh[300], khopt[340], port_s[16], *text;
    const char *kg[] = { KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", key, NULL };
    const char *kg1[] = { KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", hk1, NULL };
    const char *kg2[] = { KEYGEN, "-q", "-t", "ecdsa", "-N", "", "-f", hk2, NULL };
    int port = 0;
    pid_t srv;
    FILE *f;

    (void)state;
    path(key, sizeof(key), "uk");
    path(pub, sizeof(pub), "uk.pub");
    path(hk1, sizeof(hk1), "hk1");
    path(hk1pub, sizeof(hk1pub), "hk1.pub");
    path(hk2, sizeof(hk2), "hk2");
    path(portf, sizeof(portf), "port2");
    path(log, sizeof(log), "serve2.log");
    path(out, sizeof(out), "out2");
    path(err, sizeof(err), "err2");
    path(kh, sizeof(kh), "known_hosts2");
    assert_int_equal(run(kg, NULL, out, err), 0);
    assert_int_equal(run(kg1, NULL, out, err), 0);
    assert_int_equal(run(kg2, NULL, out, err), 0);
    {
        const char *args[] = { "--authorized-keys", pub, "-h", hk1, "-h", hk2, "-v", NULL };
        srv = start_serve(portf, log, args, &port);
    }
    snprintf(port_s, sizeof(port_s), "%d", port);
    /* known_hosts: only the Ed25519 key */
    text = tf_read(hk1pub, NULL);
    f = fopen(kh, "w");
    assert_non_null(f);
    fprintf(f, "[127.0.0.1]:%d %s", port, text);
    assert_int_equal(fclose(f), 0);
    free(text);
    snprintf(khopt, sizeof(khopt), "UserKnownHostsFile=%s", kh);
    {
        const char *argv[] = { SSH, "-F", "/dev/null", "-p", port_s, "-i", key, "-o",
            "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", khopt, "-o",
            "UpdateHostKeys=yes", "127.0.0.1",
            "true", NULL };
        assert_int_equal(run(argv, NULL, out, err), 0);
    }
    text = tf_read(kh, NULL);
    if (strstr(text, "ecdsa-sha2-nistp256 ") == NULL || strstr(text, "ssh-ed25519 ") == NULL)
        fail_msg("known_hosts after UpdateHostKeys: %s", text);
    free(text);
    stop_serve(srv);
    text = tf_read(log, NULL);
    if (strstr(text, "hostkeys-prove of 1 keys answered") == NULL)
        fail_msg("log: %s", text);
    free(text);
}

static void
test_serve_unknown_option_is_usage_error(void **state)
{
    char out[300], err[300], *text;
    const char *argv[] = { AMK_CLI_PATH, "serve", "-p", "0", "-o", "NoSuchOption=1",
        geteuid() == 0 ? "--allow-root" : NULL, NULL };

    (void)state;
    path(out, sizeof(out), "u.out");
    path(err, sizeof(err), "u.err");
    assert_int_equal(run(argv, NULL, out, err), 2);
    text = tf_read(err, NULL);
    if (strstr(text, "NoSuchOption") == NULL)
        fail_msg("stderr: %s", text);
    free(text);
}

/* As root, without --allow-root: exit 1 before listening, saying why and
 * what to pass. (Skipped when not root: nothing to refuse.) */
static void
test_serve_refuses_root(void **state)
{
    char out[300], err[300], portf[300], *text;
    const char *argv[] = { AMK_CLI_PATH, "serve", "-p", "0", "--port-file", portf, NULL };

    (void)state;
    if (geteuid() != 0)
        skip();
    path(out, sizeof(out), "r.out");
    path(err, sizeof(err), "r.err");
    path(portf, sizeof(portf), "r.port");
    (void)unlink(portf);
    assert_int_equal(run(argv, NULL, out, err), 1);
    text = tf_read(err, NULL);
    if (strstr(text, "refusing to run as root") == NULL || strstr(text, "--allow-root") == NULL
        || strstr(text, "listening") != NULL)
        fail_msg("stderr: %s", text);
    free(text);
    assert_int_equal(access(portf, F_OK), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_ssh_exec_and_sigterm),
        cmocka_unit_test(test_serve_update_host_keys),
        cmocka_unit_test(test_serve_unknown_option_is_usage_error),
        cmocka_unit_test(test_serve_refuses_root),
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
