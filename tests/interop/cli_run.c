/* Running the amiko tool in interop tests. See cli_run.h. */
#include "cli_run.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_helper.h"

#include "crypto/hash.h"

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

int
cli_args(const char **argv, const char *sub)
{
    int n = 0;

    argv[n++] = tool;
    argv[n++] = sub;
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

pid_t
cli_spawn(const char *const *argv, const char *in_file)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open(in_file != NULL ? in_file : "/dev/null", O_RDONLY);
        int out = open(cli_out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(cli_err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        setenv("HOME", fix->dir, 1);
        unsetenv("SSH_ASKPASS");
        unsetenv("DISPLAY");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int
cli_wait(pid_t pid)
{
    int status = 0;

    for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 5) {
        if (waited > CLI_RUN_TIMEOUT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("the tool did not finish in %d ms", CLI_RUN_TIMEOUT_MS);
        }
        usleep(5 * 1000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
cli_run(const char *const *argv, const char *in_file)
{
    return cli_wait(cli_spawn(argv, in_file));
}

char *
cli_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;
    size_t n;

    if (f == NULL || fstat(fileno(f), &st) != 0)
        fail_msg("cannot read %s", path);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    n = fread(buf, 1, (size_t)st.st_size, f);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = n;
    return buf;
}

void
cli_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void
hex(const uint8_t *h, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

int
cli_same_file(const char *a, const char *b)
{
    uint8_t ha[32], hb[32];
    char xa[65], xb[65];
    size_t la, lb;
    char *da, *db;

    if (access(a, F_OK) != 0 || access(b, F_OK) != 0) {
        print_message("%s%s missing\n", access(a, F_OK) != 0 ? a : b,
            access(a, F_OK) != 0 ? "" : "");
        return 0;
    }
    da = cli_slurp(a, &la);
    db = cli_slurp(b, &lb);
    ASSERT_OK(amk_hash(AMK_HASH_SHA256, da, la, ha));
    ASSERT_OK(amk_hash(AMK_HASH_SHA256, db, lb, hb));
    free(da);
    free(db);
    if (la == lb && memcmp(ha, hb, 32) == 0)
        return 1;
    hex(ha, xa);
    hex(hb, xb);
    print_message("%s: %zu bytes sha256 %s\n%s: %zu bytes sha256 %s\n", a, la, xa, b, lb, xb);
    return 0;
}
