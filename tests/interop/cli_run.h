/*
 * Running the amiko tool as a process in the interop tests of `amiko cp`
 * and `amiko sftp` (test_cli_cp.c, test_cli_sftp_batch.c): the common
 * connection arguments for the fixture's sshd (port, user key,
 * known_hosts, BatchMode), stdout and stderr captured to files, HOME set
 * to the fixture directory, every run bounded in time (proc_util.h runs
 * them).
 */
#ifndef AMK_TESTS_CLI_RUN_H
#define AMK_TESTS_CLI_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "sshd_fixture.h"
#include "file_util.h"   /* tf_read, tf_write, tf_make, tf_size, tf_same: these tests use them */

#define CLI_RUN_TIMEOUT_MS 50000

/*
 * sshd_config lines of these tests: the sftp subsystem served by sshd
 * itself (internal-sftp, the same code as sftp-server) rather than
 * started through the user's login shell, whose startup files (on a
 * developer machine: pyenv, conda, ...) can take seconds per session.
 */
#define CLI_SSHD_CONFIG "ForceCommand internal-sftp"
#define CLI_MAX_ARGS 64

/* The tool, the fixture and where outputs go (a directory). */
void cli_init(const char *tool, const struct sshd_fixture *fx, const char *out_dir);

/*
 * The group setup of these tests: SIGPIPE ignored, exit FIXTURE_SKIP
 * without OpenSSH, a work directory "amiko-NAME-XXXXXX" (0755) in @p base
 * under /dev/shm (else /tmp), the fixture's sshd started with
 * CLI_SSHD_CONFIG, cli_init(@p tool, ...) with outputs in @p base. 0 or -1.
 */
int cli_setup(struct sshd_fixture *fx, char *base, size_t cap, const char *name,
    const char *tool);
/* The group teardown: the fixture cleaned up, @p base removed (unless
 * AMK_KEEP_FIXTURE is set). */
void cli_teardown(struct sshd_fixture *fx, const char *base);

/* stdout and stderr of the last run. */
extern char cli_out_path[FIXTURE_PATH_MAX], cli_err_path[FIXTURE_PATH_MAX];

/*
 * Fills @p argv with "TOOL SUB -P port -i key -o UserKnownHostsFile=...
 * -o BatchMode=yes"; returns the count. @p argv holds CLI_MAX_ARGS.
 */
int cli_args(const char **argv, const char *sub);
/* The same options after OpenSSH's @p prog ("/usr/bin/sftp", ...) instead
 * of "TOOL SUB", to run OpenSSH's client on the same server. */
int cli_openssh_args(const char **argv, const char *prog);

/* Starts @p argv (NULL-terminated) with stdin from @p in_file (NULL:
 * /dev/null); its pid. */
pid_t cli_spawn(const char *const *argv, const char *in_file);
/* cli_spawn with @p env applied to its environment (proc_io's env:
 * "NAME=value" added, "NAME" removed; NULL-terminated). */
pid_t cli_spawn_env(const char *const *argv, const char *in_file, char *const *env);
/* Waits (bounded) for @p pid: its exit status or 128+signal; fails the
 * test on a timeout. */
int cli_wait(pid_t pid);
/* cli_spawn + cli_wait. */
int cli_run(const char *const *argv, const char *in_file);

#endif
