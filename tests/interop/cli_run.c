/* Running the amiko tool in interop tests. See cli_run.h. */
#include "cli_run.h"
#include "proc_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_helper.h"

char cli_out_path[FIXTURE_PATH_MAX], cli_err_path[FIXTURE_PATH_MAX];
static const char *tool;
static const struct sshd_fixture *fix;
static char port_s[16], kh_opt[FIXTURE_PATH_MAX + 32];

void
cli_init(const char *t, const struct sshd_fixture *fx, const char *out_dir)
{
    tool = t;
    fix = fx;
    snprintf(cli_out_path, sizeof(cli_out_path), "%s/cli.out", out_dir);
    snprintf(cli_err_path, sizeof(cli_err_path), "%s/cli.err", out_dir);
    snprintf(port_s, sizeof(port_s), "%u", (unsigned)fx->port);
    snprintf(kh_opt, sizeof(kh_opt), "UserKnownHostsFile=%s", fx->known_hosts);
}

/* argv[0 .. n) as far as the options: the program, then @p sub if any. */
static int
conn_args(const char **argv, int n)
{
    argv[n++] = "-P";
    argv[n++] = port_s;
    argv[n++] = "-i";
    argv[n++] = fix->user_key;
    argv[n++] = "-o";
    argv[n++] = kh_opt;
    argv[n++] = "-o";
    argv[n++] = "BatchMode=yes";
    argv[n] = NULL;
    return n;
}

int
cli_args(const char **argv, const char *sub)
{
    argv[0] = tool;
    argv[1] = sub;
    return conn_args(argv, 2);
}

int
cli_openssh_args(const char **argv, const char *prog)
{
    argv[0] = prog;
    return conn_args(argv, 1);
}

int
cli_setup(struct sshd_fixture *fx, char *base, size_t cap, const char *name, const char *t)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    signal(SIGPIPE, SIG_IGN);
    if (!sshd_fixture_available()) {
        fprintf(stderr, "skipped: OpenSSH is not installed\n");
        exit(FIXTURE_SKIP);
    }
    snprintf(base, cap, "%s/amiko-%s-XXXXXX", dir, name);
    if (mkdtemp(base) == NULL || chmod(base, 0755) != 0)
        return -1;
    if (sshd_fixture_init(fx) != 0 || sshd_fixture_start(fx, CLI_SSHD_CONFIG) != 0)
        return -1;
    cli_init(t, fx, base);
    return 0;
}

void
cli_teardown(struct sshd_fixture *fx, const char *base)
{
    char cmd[3 * FIXTURE_PATH_MAX];

    sshd_fixture_cleanup(fx);
    if (strstr(base, "/amiko-") != NULL && getenv("AMK_KEEP_FIXTURE") == NULL) {
        /* a test may have left a directory without write permission */
        snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", base, base);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", base);
    }
}

pid_t
cli_spawn(const char *const *argv, const char *in_file)
{
    return cli_spawn_env(argv, in_file, NULL);
}

pid_t
cli_spawn_env(const char *const *argv, const char *in_file, char *const *env)
{
    struct proc_io io = { .in = in_file, .out = cli_out_path, .err = cli_err_path,
        .home = fix->dir, .env = env };
    pid_t pid = proc_spawn((char *const *)argv, &io);

    assert_true(pid >= 0);
    return pid;
}

int
cli_wait(pid_t pid)
{
    int r = proc_wait(pid, CLI_RUN_TIMEOUT_MS);

    if (r < 0)
        fail_msg("the tool did not finish in %d ms", CLI_RUN_TIMEOUT_MS);
    return r;
}

int
cli_run(const char *const *argv, const char *in_file)
{
    return cli_wait(cli_spawn(argv, in_file));
}
