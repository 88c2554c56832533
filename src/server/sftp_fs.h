/*
 * The POSIX filesystem backend of the SFTP server engine
 * (src/sftp/sftp_server.h): the real filesystem, as the server process's
 * user, optionally confined to a root directory.
 *
 * Confinement (root != NULL): the client sees @p root as "/". Every path
 * is resolved by openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
 * relative to a descriptor of the root opened once (by the server, at
 * start-up: amk_sftp_fs_new_at()), so neither "..", absolute paths nor
 * symlinks (absolute or relative, however nested) can leave it, and no
 * check-then-use race exists: each operation works on the descriptor that
 * resolution returned (an O_PATH descriptor of the object, or of its
 * parent directory with the *at() call for the last name,
 * AT_SYMLINK_NOFOLLOW where the operation is on a link itself).
 * REALPATH answers relative to the root, and READDIR gives ".." of the
 * root the root's own attributes. Confined, modes lose their set-user-ID
 * and set-group-ID bits (permissions and sticky kept) and UIDGID may only
 * restate the current owner and group (PERMISSION_DENIED otherwise): a
 * server running as root must not plant set-id or given-away files inside
 * the root. Unconfined, the process's own rights decide, as with OpenSSH's
 * sftp-server. Needs Linux 5.6 or later (ENOSYS otherwise:
 * amk_sftp_fs_new() fails with AMK_ENOTSUP).
 *
 * Nothing blocks the caller's loop: files other than regular ones stay
 * non-blocking (a READ with nothing to give fails, or returns what there
 * was), an OPEN refused by a lease fails rather than waiting, and
 * copy-data goes a slice at a time (AMK_SFTPS_COPY_SLICE), the loop
 * serving others between slices.
 *
 * Relative paths are taken from the start directory (@p start, default:
 * "/" when confined, the process's working directory otherwise), which is
 * what REALPATH "." answers.
 */
#ifndef AMK_SERVER_SFTP_FS_H
#define AMK_SERVER_SFTP_FS_H

#include "sftp/sftp_server.h"

struct amk_sftp_fs;

/*
 * A backend over the real filesystem. @p root (may be NULL: no
 * confinement) MUST be a directory; @p start (may be NULL) is the start
 * directory as the client sees it (inside the root when confined).
 * AMK_OK; AMK_EINVAL (root or start missing or not a directory: detail in
 * @p err); AMK_ENOTSUP (no openat2); AMK_ENOMEM.
 */
int amk_sftp_fs_new(struct amk_sftp_fs **out, const char *root, const char *start,
    char *err, size_t err_cap) __attribute__((warn_unused_result));
/*
 * The same with the root given as a descriptor of a directory (-1: no
 * confinement), which the backend dup()s: a server opens its root once at
 * start-up, so that a path swapped later (for a symlink, say) does not
 * move the confinement of the sessions after it.
 */
int amk_sftp_fs_new_at(struct amk_sftp_fs **out, int root_fd, const char *start,
    char *err, size_t err_cap) __attribute__((warn_unused_result));
void amk_sftp_fs_free(struct amk_sftp_fs *fs);

/*
 * Descriptors several backends share (one server's SFTP sessions): past
 * max() files and directories open in all of them, OPEN and OPENDIR fail
 * with EMFILE until one is closed. refused() (may be NULL) is told once
 * per shortage, and again only after the count fell under half of max().
 */
struct amk_sftp_fs_budget {
    size_t open;
    size_t (*max)(void);
    void (*refused)(void *user, size_t open);
    void *user;
    int told;
};
/* Counts @p fs's open files and directories against @p b (NULL: none);
 * @p b outlives @p fs. */
void amk_sftp_fs_set_budget(struct amk_sftp_fs *fs, struct amk_sftp_fs_budget *b);

/* The operations table to pass to amk_sftps_new() with the fs as user. */
const struct amk_sftps_fs_ops *amk_sftp_fs_ops(void);

#endif
