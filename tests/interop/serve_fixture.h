/*
 * The serve fixture: `amiko serve` (tools/amiko/cmd_serve.c) on a free
 * loopback port, for real clients (OpenSSH's ssh/sftp/scp/ssh-keyscan,
 * paramiko, amiko's own client) to test against.
 *
 * It builds on the sshd fixture (sshd_fixture.h), whose sshd it never
 * starts: serve_fixture_init() takes that temporary directory with its
 * host keys of every type (ed25519, ecdsa P-256/384/521, rsa), the
 * ed25519 user key and authorized_keys, and adds an rsa user key (also
 * authorized), an SSH_ASKPASS script answering the password, and a work
 * directory for the tests' files. serve_fixture_start() runs
 *
 *   amiko serve -p 0 --port-file F -h KEY... --authorized-keys F [args...]
 *
 * as a child (PR_SET_PDEATHSIG: it dies with the test), waits for the
 * port file (bounded, FIXTURE_WAIT_MS) and writes known_hosts for
 * [127.0.0.1]:PORT and an ssh_config with a "Host amiko-serve" entry.
 * serve.log holds its stderr. Cleanup runs at exit too.
 *
 * The amiko binary comes from CMake (AMK_AMIKO_PATH).
 */
#ifndef AMK_TESTS_SERVE_FIXTURE_H
#define AMK_TESTS_SERVE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc_util.h"
#include "sshd_fixture.h"
#include "file_util.h"   /* tf_fill, tf_same: the serve tests use them */

#ifndef AMK_AMIKO_PATH
#error "AMK_AMIKO_PATH must name the amiko binary"
#endif

#define AMIKO_PATH AMK_AMIKO_PATH
#define SFTP_PATH "/usr/bin/sftp"
#define SCP_PATH "/usr/bin/scp"
#define SSH_KEYSCAN_PATH "/usr/bin/ssh-keyscan"

/* Host keys given to amiko serve (-h), a bit each. */
#define SERVE_HK_ED25519 0x01u
#define SERVE_HK_ECDSA256 0x02u
#define SERVE_HK_ECDSA384 0x04u
#define SERVE_HK_ECDSA521 0x08u
#define SERVE_HK_RSA 0x10u
#define SERVE_HK_ALL 0x1fu

/* The password --password gets in serve_fixture_password_arg(). */
#define SERVE_PASSWORD "Amk-serve-pw!"

/* The ssh_config host name for the server. */
#define SERVE_HOST_ALIAS "amiko-serve"

struct serve_fixture {
    struct sshd_fixture base;           /* directory, keys, user (sshd never runs) */
    char dir[FIXTURE_PATH_MAX];         /* = base.dir: flat, files only */
    char work[FIXTURE_PATH_MAX];        /* for the tests' trees; removed recursively */
    char user[64];                      /* the current user's name */
    char user_key[FIXTURE_PATH_MAX];    /* dir/id_ed25519 (authorized) */
    char user_key_rsa[FIXTURE_PATH_MAX];/* dir/id_rsa (authorized) */
    char authorized_keys[FIXTURE_PATH_MAX];
    char known_hosts[FIXTURE_PATH_MAX]; /* every host key for [127.0.0.1]:port */
    char ssh_config[FIXTURE_PATH_MAX];  /* Host amiko-serve ... */
    char askpass[FIXTURE_PATH_MAX];     /* logs its prompt; prints $AMK_ASKPASS_ANSWER,
                                           else SERVE_PASSWORD */
    char askpass_log[FIXTURE_PATH_MAX];
    char log[FIXTURE_PATH_MAX];         /* amiko serve's stderr */
    char port_file[FIXTURE_PATH_MAX];
    char dest[96];                      /* user@127.0.0.1 */
    unsigned host_keys;                 /* SERVE_HK_* it was started with */
    uint16_t port;                      /* 0 while stopped */
    pid_t pid;                          /* amiko serve, or -1 */
};

/* 1 when the amiko binary and ssh-keygen exist. */
int serve_fixture_available(void);

/* A test program's start: SIGPIPE ignored; exits with FIXTURE_SKIP when
 * one of the @p n programs @p peers (OpenSSH's clients...) is missing;
 * -1 when amiko itself is not built (a failure, not a skip), else 0. */
int serve_fixture_need(const char *const *peers, size_t n);

/* Makes the directory, keys and files. 0 or -1 (reason on stderr). */
int serve_fixture_init(struct serve_fixture *f);

/*
 * Starts amiko serve with the host keys in @p host_keys (SERVE_HK_*; 0 is
 * all) and the extra arguments @p args (NULL-terminated, may be NULL),
 * and waits for its port. 0, or -1 with the reason and serve.log's tail
 * on stderr.
 */
int serve_fixture_start(struct serve_fixture *f, unsigned host_keys, const char *const *args);

/*
 * Starts another server under amiko serve's contract instead: @p argv
 * (argv[0] an absolute path; it names f->port_file) prints "listening on
 * 127.0.0.1:PORT" to stderr, then writes "PORT\n" atomically to the port
 * file. Its output goes to serve.log, HOME is the fixture directory, it
 * dies with the test; known_hosts and ssh_config are written as for
 * serve. 0; FIXTURE_SKIP when it exited 77 before listening (a missing
 * module...); -1 with the reason and serve.log's tail on stderr.
 */
int serve_fixture_start_argv(struct serve_fixture *f, char *const argv[]);

/*
 * Makes @p pid, a server the caller started and saw listening on @p port
 * under a contract of its own (ProFTPD, proftpd_server.c), the fixture's
 * server: known_hosts and ssh_config are written for that port as for
 * serve, and serve_fixture_stop() ends it. 0, or -1 (reason on stderr).
 */
int serve_fixture_adopt(struct serve_fixture *f, pid_t pid, uint16_t port);

/* Stops it with SIGTERM (SIGKILL after a bounded wait); its exit status
 * (0 is what the contract promises), 128+signal, or -1 if none ran. */
int serve_fixture_stop(struct serve_fixture *f);

/* Stops it and removes both directories. Safe to call twice. */
void serve_fixture_cleanup(struct serve_fixture *f);

/* Path of a file inside the fixture directory / the work directory. */
void serve_fixture_path(const struct serve_fixture *f, const char *name, char *out, size_t cap);
void serve_fixture_work_path(const struct serve_fixture *f, const char *name, char *out,
    size_t cap);

/* "user:SERVE_PASSWORD" for --password (static storage). */
const char *serve_fixture_password_arg(const struct serve_fixture *f);

/* Prints the last @p max_bytes of serve.log to stderr. */
void serve_fixture_dump_log(const struct serve_fixture *f, size_t max_bytes);

/* 1 when serve.log has a line with @p needle; the count in *@p count (may be NULL). */
int serve_fixture_log_count(const struct serve_fixture *f, const char *needle, int *count);

/* --- OpenSSH client command lines ------------------------------------- */

#define SERVE_ARGV_MAX 96
#define SERVE_ARGV_POOL 8192

/* An argv under construction; its strings live in the struct. */
struct serve_argv {
    char *v[SERVE_ARGV_MAX + 1];
    size_t n;
    char pool[SERVE_ARGV_POOL];
    size_t used;
};

/*
 * Starts @p a with @p tool (SSH_PATH, SFTP_PATH or SCP_PATH), "-o X" for
 * each X in @p first (NULL-terminated, may be NULL), and the options that
 * point it at the server: -F /dev/null, the port (-p or -P), -i user_key,
 * IdentitiesOnly, BatchMode=yes, StrictHostKeyChecking yes,
 * UserKnownHostsFile=known_hosts, GlobalKnownHostsFile=/dev/null,
 * ConnectTimeout. OpenSSH keeps the first value of an option, so @p first
 * overrides these (e.g. "BatchMode=no"). Add more, then the destination
 * (f->dest).
 */
void serve_argv_client(struct serve_argv *a, const struct serve_fixture *f, const char *tool,
    const char *const *first);
/* Starts @p a with @p tool and nothing else. */
void serve_argv_init(struct serve_argv *a, const char *tool);
/* Appends a copy of @p arg. */
void serve_argv_add(struct serve_argv *a, const char *arg);
/* Appends "-o" and a copy of @p option. */
void serve_argv_opt(struct serve_argv *a, const char *option);

/*
 * Runs @p argv (argv[0] an absolute path) with stdin from @p in (NULL:
 * /dev/null), stdout to @p out and stderr to @p err (NULL: /dev/null;
 * the same path for both merges them; files are truncated), HOME set to
 * the fixture directory, SSH_AUTH_SOCK, SSH_ASKPASS(_REQUIRE) and DISPLAY
 * removed, and @p env ("NAME=value", NULL-terminated, may be NULL) added. Kills
 * it after @p timeout_ms. Its exit status, 128+signal, or -1 (could not
 * run, or timed out).
 */
int serve_run(const struct serve_fixture *f, char *const argv[], const char *in, const char *out,
    const char *err, char *const env[], int timeout_ms);

/*
 * As serve_run() but in the background with pipes: *@p to_child is its
 * stdin, *@p from_child its stdout (both O_CLOEXEC, the parent's ends);
 * stderr goes to @p err. The child's pid, or -1.
 */
pid_t serve_spawn(const struct serve_fixture *f, char *const argv[], int *to_child,
    int *from_child, const char *err, char *const env[]);

/* Waiting for it: proc_wait() of proc_util.h. */

/* --- Small file helpers -------------------------------------------------- */

/* Writes @p n bytes to @p path (created 0644, truncated). 0 or -1. */
int serve_write_file(const char *path, const void *data, size_t n);
/* The contents of @p path, NUL-terminated, in *@p len (may be NULL); malloc'd,
 * "" for a missing file. */
char *serve_slurp(const char *path, size_t *len);

#endif
