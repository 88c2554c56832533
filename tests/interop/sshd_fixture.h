/*
 * The interop fixture: a real OpenSSH sshd on a free loopback port.
 *
 * sshd_fixture_init() makes a fresh temporary directory with host keys
 * (ed25519, ecdsa P-256/384/521, rsa, and dsa when OpenSSH still has it), a user key and an authorized_keys
 * file. sshd_fixture_start() writes an sshd_config there (the caller's
 * extra lines first, so they win: sshd keeps the first value of a keyword)
 * and runs /usr/sbin/sshd -D in the foreground as a child, with
 * LogLevel DEBUG3 to sshd.log, and returns once it answers with its
 * version line. sshd_fixture_stop() ends that sshd; start it again with
 * other lines as often as needed. sshd_fixture_cleanup() stops it and
 * removes the directory; it also runs from atexit() and, since sshd is
 * started with PR_SET_PDEATHSIG, sshd dies with the test process even when
 * that is killed. Every wait is bounded (FIXTURE_WAIT_MS).
 *
 * Only loopback (127.0.0.1) is used.
 */
#ifndef AMK_TESTS_SSHD_FIXTURE_H
#define AMK_TESTS_SSHD_FIXTURE_H

#include <stdint.h>
#include <sys/types.h>

#define SSHD_PATH "/usr/sbin/sshd"
#define SSH_PATH "/usr/bin/ssh"
#define SSH_KEYGEN_PATH "/usr/bin/ssh-keygen"
#define FIXTURE_WAIT_MS 30000
#define FIXTURE_PATH_MAX 512

/* ctest's SKIP_RETURN_CODE for a host without OpenSSH. */
#define FIXTURE_SKIP 77

struct sshd_fixture {
    char dir[FIXTURE_PATH_MAX];         /* the temporary directory */
    char config[FIXTURE_PATH_MAX];      /* dir/sshd_config */
    char log[FIXTURE_PATH_MAX];         /* dir/sshd.log (-E) */
    char user_key[FIXTURE_PATH_MAX];    /* dir/id_ed25519, its .pub beside it */
    char known_hosts[FIXTURE_PATH_MAX]; /* dir/known_hosts for this port */
    char user[64];                      /* the current user's name */
    uint16_t port;                      /* 0 while stopped */
    pid_t pid;                          /* sshd, or -1 */
};

/* 1 when sshd, ssh and ssh-keygen are installed. */
int sshd_fixture_available(void);

/* Creates the directory and keys. 0 or -1 (reason on stderr). */
int sshd_fixture_init(struct sshd_fixture *f);

/*
 * Starts sshd with @p extra (config lines separated by '\n', or NULL) and
 * waits until it sends its version line. Writes known_hosts for the port.
 * 0 or -1 (reason and the tail of sshd.log on stderr).
 */
int sshd_fixture_start(struct sshd_fixture *f, const char *extra);

/* Stops sshd (SIGTERM, then SIGKILL after a bounded wait). */
void sshd_fixture_stop(struct sshd_fixture *f);

/* Stops sshd and removes the directory. Safe to call twice. */
void sshd_fixture_cleanup(struct sshd_fixture *f);

/* Appends @p line (an OpenSSH public-key line) to authorized_keys. 0 or -1. */
int sshd_fixture_authorize(const struct sshd_fixture *f, const char *line);

/* 1 when sshd.log contains @p needle; counts lines with it in *@p count (may be NULL). */
int sshd_fixture_log_count(const struct sshd_fixture *f, const char *needle, int *count);

/*
 * The algorithms of @p kind ("kex", "cipher", "mac", "key-sig") that the
 * installed OpenSSH supports, from `ssh -Q`, as one comma-separated list
 * in @p out. 0 or -1.
 */
int sshd_fixture_query(const struct sshd_fixture *f, const char *kind, char *out, size_t cap);

/* Prints the last @p max_bytes of sshd.log to stderr (for failures). */
void sshd_fixture_dump_log(const struct sshd_fixture *f, size_t max_bytes);

/* Removes @p path and everything below it (symlinks not followed). */
void fixture_remove_tree(const char *path);

/* Path of a file inside the fixture directory. */
void sshd_fixture_path(const struct sshd_fixture *f, const char *name, char *out, size_t cap);

/* A loopback port nobody listens on right now (a server may still lose
 * a race for it: retry when it cannot bind). 0 on failure. */
uint16_t fixture_free_port(void);

/* 0 when a server on 127.0.0.1:@p port sends an "SSH-2.0-" line before
 * @p deadline (amk_io_deadline()), else -1. */
int fixture_probe(uint16_t port, int64_t deadline);

/*
 * Runs @p argv (argv[0] an absolute path) with stdin from /dev/null and
 * stdout+stderr appended to @p out_path (NULL: /dev/null), killing it after
 * @p timeout_ms. Returns its exit status, 128+signal if killed by one, or
 * -1 if it could not run or timed out. (proc_run() of proc_util.h with
 * those streams: the environment is cleaned the same way.)
 */
int fixture_run(char *const argv[], const char *out_path, int timeout_ms);

#endif
