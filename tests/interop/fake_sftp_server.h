/*
 * A hostile SFTP server for the tests of `amiko cp` and `amiko sftp` as
 * processes (test_cli_hostile.c): amiko's SSH server in a child process
 * on a free loopback port, accepting any public key, whose "sftp"
 * subsystem is a scripted SFTP v3 server over a fixed, made-up file tree.
 * The tree may hold what no honest server sends (sshd's sftp-server reads
 * a real file system, where a name cannot contain '/'): a directory
 * listing with "zzescape/.." in it, and files "inside" it.
 *
 * The script answers INIT, REALPATH (the path as given, made absolute),
 * STAT / LSTAT / FSTAT, OPENDIR / READDIR (".", "..", then every entry of
 * the directory in one NAME, then EOF), OPEN for reading, READ, CLOSE, and
 * SETSTAT / FSETSTAT (OK, nothing kept); anything else gets
 * OP_UNSUPPORTED, a write PERMISSION_DENIED.
 */
#ifndef AMK_TESTS_FAKE_SFTP_SERVER_H
#define AMK_TESTS_FAKE_SFTP_SERVER_H

#include <stdint.h>
#include <sys/types.h>

/* One file or directory: @p name in directory @p dir ("/" or "/a/b"). */
struct fake_sftp_entry {
    const char *dir;
    const char *name;           /* as the listing of @p dir sends it */
    int is_dir;
    const char *data;           /* a file's contents */
};

struct fake_sftp_server {
    pid_t pid;                  /* the server process, or -1 */
    uint16_t port;
};

/*
 * Starts the server on 127.0.0.1 with the @p n entries of @p tree (which
 * the child keeps: it MUST stay valid) and writes a known_hosts file
 * @p known_hosts for "[127.0.0.1]:port". 0 or -1 (reason on stderr). The
 * server dies with the test (PR_SET_PDEATHSIG).
 */
int fake_sftp_start(struct fake_sftp_server *s, const struct fake_sftp_entry *tree, size_t n,
    const char *known_hosts);
/* Kills and reaps the server. Safe to call twice. */
void fake_sftp_stop(struct fake_sftp_server *s);

#endif
