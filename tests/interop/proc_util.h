/*
 * Running programs in the interop tests: one fork/exec with stdin from a
 * file, stdout and stderr to files, a clean environment, and a wait that
 * is always bounded. The fixtures (sshd_fixture.c, serve_fixture.c,
 * cli_run.c) and the tests that run tools (test_client_tools.c,
 * test_server_tool.c) all go through it.
 *
 * No cmocka here: failures are return values (and a line on stderr for
 * a timeout), so the fixtures can use it outside a test body.
 */
#ifndef AMK_TESTS_PROC_UTIL_H
#define AMK_TESTS_PROC_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Where a program's streams go and what it gets besides argv. Zero is
 * the default of every field. */
struct proc_io {
    const char *in;             /* stdin from this file; NULL: /dev/null */
    const char *out;            /* stdout to this file; NULL: /dev/null */
    const char *err;            /* stderr to this file; NULL: /dev/null; the same
                                 * path as out: one descriptor for both */
    int append;                 /* open out / err with O_APPEND (else O_TRUNC) */
    const char *home;           /* HOME of the program; NULL: inherited */
    char *const *env;           /* "NAME=value" strings added to its environment
                                 * ("NAME" alone: NAME removed), NULL-terminated;
                                 * NULL: none */
};

/*
 * In a freshly forked child: dies with the parent (PR_SET_PDEATHSIG),
 * HOME set to @p home (NULL: unchanged), SSH_AUTH_SOCK, SSH_ASKPASS,
 * SSH_ASKPASS_REQUIRE and DISPLAY removed (a developer's agent or askpass
 * must not answer for the test), then @p env ("NAME=value" added, "NAME"
 * removed; may be NULL) applied. For fixtures that set the streams up themselves (pipes).
 */
void proc_child_env(const char *home, char *const env[]);

/* Starts @p argv (argv[0] an absolute path, NULL-terminated) as @p io
 * says (NULL: all defaults). Its pid, or -1 when fork failed. A program
 * that cannot be executed exits 127 (126: a stream could not be opened). */
pid_t proc_spawn(char *const argv[], const struct proc_io *io);

/*
 * Waits for @p pid up to @p timeout_ms (negative: no limit). Its exit
 * status, or 128 + the signal that killed it; -1 when it did not end in
 * time (then it is SIGKILLed, reaped and a line says so on stderr) or
 * cannot be waited for.
 */
int proc_wait(pid_t pid, int timeout_ms);

/* proc_spawn() + proc_wait(); -1 also when fork failed. */
int proc_run(char *const argv[], const struct proc_io *io, int timeout_ms);

/* The whole contents of @p path, NUL-terminated (free() it), its length
 * in *@p len (may be NULL); NULL when it cannot be read. */
char *proc_slurp(const char *path, size_t *len);

#endif
