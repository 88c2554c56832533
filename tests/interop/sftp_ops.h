/*
 * The "every operation" suite of amiko's SFTP client, one copy run against
 * OpenSSH's sftp-server (test_sftp.c) and against amiko's own server
 * (test_sftp_server.c), directly over a socketpair and through sshd's
 * "sftp" subsystem. Each function fails the running cmocka test.
 */
#ifndef AMK_TESTS_SFTP_OPS_H
#define AMK_TESTS_SFTP_OPS_H

#include <amiko/sftp.h>

#include "auth_driver.h"
#include "channel/conn.h"

/* Where and against what a suite runs. */
struct sftp_ops {
    const char *work;       /* an empty directory, the same path locally and remotely */
    const char *user;       /* the login name, for home-directory */
    /*
     * 1 for amiko's server and the other peers (test_sftp_peers.c): every
     * extension the suite tries (posix-rename, statvfs, fstatvfs, fsync,
     * copy-data, lsetstat, hardlink, expand-path, home-directory, limits)
     * must be offered but those in lacks; 0 (OpenSSH's sftp-server, what
     * the installed version offers) skips the checks of any it lacks.
     */
    int all_extensions;
    /*
     * Extensions the peer does not offer (NULL-terminated, may be NULL):
     * each skips exactly its checks, and must indeed not be offered. The
     * suite checks what stands in for some: without posix-rename, RENAME
     * refuses an existing target (draft-02 §6.5).
     */
    const char *const *lacks;
    /* SFTP_QUIRK_* bits: where the server departs from draft-02 and
     * the suite checks what it does instead */
    unsigned quirks;
};

/* READLINK answers the link's target made an absolute path ("d/l -> f"
 * reads back as "WORK/d/f"), not the link's contents (draft-02 §6.10;
 * OpenSSH sends readlink(2)'s): ProFTPD's mod_sftp. */
#define SFTP_QUIRK_READLINK_ABSOLUTE 0x1u
/* LSTAT of a symlink answers its target's attributes (draft-02 §6.8:
 * LSTAT "does not follow symbolic links"): ProFTPD's mod_sftp. */
#define SFTP_QUIRK_LSTAT_FOLLOWS 0x2u

/* Files of 0, 1, 32767, 32768, 32769 and 1 MiB + 1 bytes put and got back,
 * with progress reported to the byte. */
void sftp_ops_files(struct amk_sftp *s, const struct sftp_ops *o);
/* An interrupted get and put resume to identical files; PRESERVE copies mode
 * and times both ways; resuming onto a longer target is refused. */
void sftp_ops_resume(struct amk_sftp *s, const struct sftp_ops *o);
/* Open handles: write, read, pread past the end, seek, fstat, fsetstat,
 * fsync, copy-data, fstatvfs. */
void sftp_ops_file_handle(struct amk_sftp *s, const struct sftp_ops *o);
/* Paths: errors with the server's status, mkdir/rmdir, attributes,
 * symlinks, realpath, expand-path, home-directory, posix-rename, hardlink,
 * statvfs, listing, walk. */
void sftp_ops_paths(struct amk_sftp *s, const struct sftp_ops *o);
/* 64 MiB put and got back, and copied whole by copy-data where offered,
 * checksummed. */
void sftp_ops_big(struct amk_sftp *s, const struct sftp_ops *o);

/* amiko's SFTP client over sshd's subsystem: a session authenticated with
 * @p key on the connection engine, and the ::amk_sftp on a channel. */
struct sftp_remote {
    struct auth_run ar;
    struct amk_conn *conn;
};

void sftp_remote_open(struct sftp_remote *rm, const struct sshd_fixture *fx,
    struct interop_hostkeys *hk, struct amk_key *key, struct amk_sftp **out);
void sftp_remote_close(struct sftp_remote *rm, struct amk_sftp *s);

#endif
