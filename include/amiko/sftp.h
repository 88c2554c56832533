/**
 * @file amiko/sftp.h
 * @brief SFTP client: files and directories on an SSH server over the
 * "sftp" subsystem (SFTP version 3, draft-ietf-secsh-filexfer-02, with
 * OpenSSH's extensions where the server offers them).
 *
 * An ::amk_sftp runs over a byte stream: normally a session channel with
 * the "sftp" subsystem, or caller-supplied read/write callbacks
 * (amk_sftp_new_io(): a pipe to a local sftp-server, a test harness).
 *
 * **Modes.** Every call works in the mode of the stream under it, as the
 * rest of the API does (amiko/client.h, "Modes"):
 * - blocking (a blocking ::amk_client, or callbacks that block): each call
 *   returns when the server has answered;
 * - non-blocking (amk_client_set_blocking(client, 0), or callbacks that
 *   return AMK_EAGAIN): a call that would wait returns AMK_EAGAIN instead.
 *   The caller polls amk_client_get_fd() (or its own descriptor) for
 *   amk_sftp_block_directions() and then MUST make the same call again
 *   with the same arguments, and no other amk_sftp_* call on the same
 *   ::amk_sftp in between (except the transfer calls below, amk_sftp_block_directions()
 *   and the accessors). The call goes on where it stopped:
 *   its requests are sent once. Calling something else instead (another
 *   call, or the same one with other arguments) gives the first call up
 *   (its reply is dropped when it comes). amk_sftp_close()
 *   and amk_sftp_free() do not free what a pending call holds until it
 *   is finished or given up, and no memory is lost either way. A request
 *   given up holds one of the ::amk_sftp's 256 request slots until its
 *   reply comes; a call that finds every slot taken waits for such
 *   replies, as for its own (AMK_EAGAIN), and never fails for it.
 *   amk_sftp_new_client() on a non-blocking client returns AMK_OK at once;
 *   the start-up (channel, subsystem, INIT / VERSION, limits) goes on in
 *   the calls that follow, which answer AMK_EAGAIN until it is done
 *   (amk_sftp_ready() drives it alone).
 * Transfers (amk_sftp_transfer_start_get() and the rest) are objects of
 * their own that several can drive at once on one ::amk_sftp; the calls
 * above stay usable between their steps (see amk_sftp_transfer_step_all()).
 *
 * Errors: AMK_OK or a negative AMK_E... code. A refusal by the server is
 * not fatal to the ::amk_sftp: AMK_ENOENT (no such file), AMK_EACCES
 * (permission denied), AMK_EREMOTE (the server failed, e.g. a directory
 * not empty), AMK_ENOTSUP (the server does not support the operation);
 * amk_sftp_last_error() then gives the server's message and
 * amk_sftp_last_status() its SSH_FX_* code. A malformed or unexpected
 * reply (AMK_EPROTO, AMK_EFORMAT, AMK_ETRUNCATED, AMK_ETOOBIG, and
 * AMK_ELIMIT for a VERSION or attributes with more extensions than we
 * keep; AMK_EVERSION for a server that does not speak version 3) and
 * failures of the stream below (AMK_ECLOSED, AMK_EIO,
 * AMK_ETIMEOUT) are fatal: every later call returns the same code.
 *
 * One ::amk_sftp and its files are used by one thread at a time.
 */
#ifndef AMIKO_SFTP_H
#define AMIKO_SFTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An SFTP connection (opaque). */
struct amk_sftp;
/** An SSH client connection (see amiko/client.h). */
struct amk_client;
/** An open remote file or directory (opaque). */
struct amk_sftp_file;

/** Bits of amk_sftp_attrs.flags: which fields are valid (draft-02 §5). */
#define AMK_SFTP_ATTR_SIZE 0x00000001u
#define AMK_SFTP_ATTR_UIDGID 0x00000002u
#define AMK_SFTP_ATTR_PERMISSIONS 0x00000004u
#define AMK_SFTP_ATTR_ACMODTIME 0x00000008u
#define AMK_SFTP_ATTR_EXTENDED 0x80000000u

/** File attributes. Only the fields whose flag is set are meaningful. */
struct amk_sftp_attrs {
    uint32_t flags;         /**< AMK_SFTP_ATTR_* */
    uint64_t size;
    uint32_t uid, gid;
    uint32_t permissions;   /**< type and mode bits as st_mode */
    uint32_t atime, mtime;  /**< seconds since 1970 */
    uint32_t extended_count; /**< extended pairs received (not kept here) */
};

/** One directory entry. */
struct amk_sftp_name {
    char *filename;         /**< the name within its directory */
    char *longname;         /**< as `ls -l` shows it (server's format) */
    struct amk_sftp_attrs attrs;
};

/** File system statistics (statvfs@openssh.com). */
struct amk_sftp_statvfs {
    uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax;
};

/** Flags of amk_sftp_open() (SSH_FXF_*, draft-02 §6.3). */
#define AMK_SFTP_READ 0x01u
#define AMK_SFTP_WRITE 0x02u
#define AMK_SFTP_APPEND 0x04u
#define AMK_SFTP_CREAT 0x08u
#define AMK_SFTP_TRUNC 0x10u
#define AMK_SFTP_EXCL 0x20u

/** Whence of amk_sftp_file_seek(). */
#define AMK_SFTP_SEEK_SET 0
#define AMK_SFTP_SEEK_CUR 1
#define AMK_SFTP_SEEK_END 2

/**
 * Reads for amk_sftp_new_io(): at most @p len bytes into @p buf, blocking
 * until at least one is there. @return the count (> 0), 0 at end of
 * stream, or a negative AMK_E... code.
 */
typedef ssize_t (*amk_sftp_read_fn)(void *user, void *buf, size_t len);
/** Writes for amk_sftp_new_io(): @return bytes written (> 0) or a negative
 * code. Either callback may return AMK_EAGAIN: the ::amk_sftp is then
 * non-blocking (see "Modes" above). */
typedef ssize_t (*amk_sftp_write_fn)(void *user, const void *buf, size_t len);

/**
 * Progress of amk_sftp_get() / amk_sftp_put(): @p done bytes of @p total
 * (total is the size known at the start; 0 when unknown). Return AMK_OK to
 * go on; any other code aborts the transfer with that code.
 */
typedef int (*amk_sftp_progress_fn)(void *user, uint64_t done, uint64_t total);

/**
 * Starts SFTP over a byte stream given by callbacks (INIT / VERSION
 * exchange, and limits@openssh.com when offered). The stream stays the
 * caller's. There is no SSH version string to tell the server's software
 * by: a caller talking to Paramiko's server says so with
 * amk_sftp_set_symlink_order().
 * @return AMK_OK; AMK_EINVAL; AMK_EVERSION (the server does not speak
 *         version 3); AMK_ENOMEM; the stream's error; a protocol error.
 */
AMK_API int amk_sftp_new_io(struct amk_sftp **out, amk_sftp_read_fn rd, amk_sftp_write_fn wr,
    void *user) AMK_MUST_CHECK;

/**
 * Starts SFTP on a new session channel of the connected @p client with the
 * "sftp" subsystem (RFC 4254 §6.5). The client MUST outlive the
 * ::amk_sftp; its other channels keep working. In non-blocking mode this
 * returns AMK_OK at once and start-up goes on later (see "Modes").
 * @return AMK_OK; AMK_EINVAL; AMK_EREFUSED (the server refused the channel
 *         or has no sftp subsystem); AMK_EVERSION; the client's and the
 *         channel's errors; a protocol error.
 */
AMK_API int amk_sftp_new_client(struct amk_sftp **out, struct amk_client *client) AMK_MUST_CHECK;

/** Frees the SFTP connection and closes its stream (the channel of
 * amk_sftp_new_client() is freed; the callbacks of amk_sftp_new_io() are
 * not called again). Every file and directory opened on it MUST have been
 * closed with amk_sftp_close() first. Transfer objects on it are ended
 * (AMK_ECLOSED), not freed (amk_sftp_transfer_free()). NULL is fine. */
AMK_API void amk_sftp_free(struct amk_sftp *sftp);

/** The detail of the last failure (e.g. the server's message), or "". */
AMK_API const char *amk_sftp_last_error(const struct amk_sftp *sftp);
/** The SSH_FX_* status of the last refusal by the server, or 0. */
AMK_API uint32_t amk_sftp_last_status(const struct amk_sftp *sftp);
/** Non-zero when the server's VERSION listed extension @p name (e.g.
 * "posix-rename@openssh.com"); *@p data / *@p len (may be NULL) get its
 * data (OpenSSH: the version as text). Calls using an extension also
 * check that version and answer AMK_ENOTSUP for one they do not speak. */
AMK_API int amk_sftp_has_extension(const struct amk_sftp *sftp, const char *name,
    const uint8_t **data, size_t *len);
/**
 * Drives start-up alone: AMK_OK once VERSION (and limits) arrived;
 * AMK_EAGAIN (non-blocking); the start-up's error. Other calls do the
 * same first, so calling this is optional.
 */
AMK_API int amk_sftp_ready(struct amk_sftp *sftp) AMK_MUST_CHECK;
/** After AMK_EAGAIN: AMK_WAIT_READ and/or AMK_WAIT_WRITE (amiko/session.h)
 * on the descriptor under the stream (amk_client_get_fd() for
 * amk_sftp_new_client()). */
AMK_API int amk_sftp_block_directions(const struct amk_sftp *sftp);
/** The read and write sizes in use (from limits@openssh.com, else 32 KiB). */
AMK_API void amk_sftp_io_sizes(const struct amk_sftp *sftp, size_t *read_len, size_t *write_len);

/**
 * The order of SSH_FXP_SYMLINK's two paths on the wire. Servers disagree,
 * and the bytes cannot tell which order a client meant:
 * - draft-ietf-secsh-filexfer-02 §6.10 sends linkpath, then target;
 * - OpenSSH's sftp-server reads them the other way round, target first
 *   (OpenSSH PROTOCOL §4.1), and so does Paramiko's SFTP server; OpenSSH's
 *   sftp, Paramiko's and libssh2's clients send target first;
 * - AsyncSSH's server reads target first only from a client whose SSH
 *   version string names OpenSSH or Paramiko, and the draft's order from
 *   every other (amiko's included);
 * - ProFTPD's mod_sftp reads target first from every client.
 */
enum amk_sftp_symlink_order {
    /** By what the server shows (the default): target first when its
     *  VERSION names an "@openssh.com" extension and either no "vendor-id"
     *  (OpenSSH's sftp-server) or one naming ProFTPD's mod_sftp, or when
     *  the SSH server's version string names Paramiko
     *  (amk_sftp_new_client() only: amk_sftp_new_io() has no version
     *  string); the draft's order otherwise (AsyncSSH's server, which sends
     *  vendor-id, and servers offering no OpenSSH extension). */
    AMK_SFTP_SYMLINK_AUTO = 0,
    /** Target, then linkpath: OpenSSH's and Paramiko's servers. */
    AMK_SFTP_SYMLINK_TARGET_FIRST = 1,
    /** Linkpath, then target: the draft's order. */
    AMK_SFTP_SYMLINK_LINK_FIRST = 2
};

/**
 * Sets the order in which amk_sftp_symlink() sends its two paths, for a
 * caller who knows the server when the ::amk_sftp cannot tell (over
 * amk_sftp_new_io(): Paramiko's server on a caller's own channel, which
 * takes target first but offers nothing that says so). Takes effect from
 * the next amk_sftp_symlink(); sends nothing and never waits, so it may
 * come at any time, before start-up is done too.
 * @return AMK_OK; AMK_EINVAL (NULL, or not an ::amk_sftp_symlink_order).
 */
AMK_API int amk_sftp_set_symlink_order(struct amk_sftp *sftp, enum amk_sftp_symlink_order order)
    AMK_MUST_CHECK;

/* --- Files ----------------------------------------------------------- */

/**
 * Opens @p path with AMK_SFTP_* @p flags; @p mode is the permission of a
 * created file (0: the server's default).
 * @return AMK_OK with *@p out; AMK_ENOENT; AMK_EACCES; AMK_EREMOTE;
 *         AMK_EINVAL; fatal codes as above.
 */
AMK_API int amk_sftp_open(struct amk_sftp *sftp, const char *path, unsigned flags,
    uint32_t mode, struct amk_sftp_file **out) AMK_MUST_CHECK;
/** Closes the handle on the server and frees @p f (always freed, except
 * after AMK_EAGAIN: call again). NULL is fine. */
AMK_API int amk_sftp_close(struct amk_sftp_file *f);
/**
 * Reads up to @p len bytes at @p offset. *@p got 0 at end of file.
 * A server may return fewer bytes than asked before the end.
 */
AMK_API int amk_sftp_pread(struct amk_sftp_file *f, void *buf, size_t len, uint64_t offset,
    size_t *got) AMK_MUST_CHECK;
/** Writes all @p len bytes at @p offset (pipelined in write-size pieces). */
AMK_API int amk_sftp_pwrite(struct amk_sftp_file *f, const void *buf, size_t len,
    uint64_t offset) AMK_MUST_CHECK;
/** Reads at the file position and advances it; *@p got 0 at end of file. */
AMK_API int amk_sftp_read(struct amk_sftp_file *f, void *buf, size_t len, size_t *got)
    AMK_MUST_CHECK;
/** Writes at the file position and advances it. */
AMK_API int amk_sftp_write(struct amk_sftp_file *f, const void *buf, size_t len)
    AMK_MUST_CHECK;
/** Moves the file position (AMK_SFTP_SEEK_END asks the server for the size).
 * AMK_EINVAL for a position before 0. */
AMK_API int amk_sftp_seek(struct amk_sftp_file *f, int64_t offset, int whence) AMK_MUST_CHECK;
/** The file position. */
AMK_API uint64_t amk_sftp_tell(const struct amk_sftp_file *f);
AMK_API int amk_sftp_fstat(struct amk_sftp_file *f, struct amk_sftp_attrs *attrs) AMK_MUST_CHECK;
AMK_API int amk_sftp_fsetstat(struct amk_sftp_file *f, const struct amk_sftp_attrs *attrs)
    AMK_MUST_CHECK;
/** fsync@openssh.com; AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_fsync(struct amk_sftp_file *f) AMK_MUST_CHECK;
/** fstatvfs@openssh.com: statistics of the file system holding @p f;
 * AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_fstatvfs(struct amk_sftp_file *f, struct amk_sftp_statvfs *st)
    AMK_MUST_CHECK;
/**
 * copy-data: the server copies @p len bytes (0: to the end of file) of
 * @p from at @p from_offset into @p to at @p to_offset without sending
 * them over the network. Both files MUST belong to the same ::amk_sftp
 * (AMK_EINVAL); AMK_ENOTSUP when the server does not offer it. A @p len
 * past the source's end copies what there is, then most servers
 * (`amiko serve`, OpenSSH's) answer EOF: AMK_EREMOTE, with
 * amk_sftp_last_status() SSH_FX_EOF.
 */
AMK_API int amk_sftp_copy_data(struct amk_sftp_file *from, uint64_t from_offset, uint64_t len,
    struct amk_sftp_file *to, uint64_t to_offset) AMK_MUST_CHECK;

/* --- Paths ----------------------------------------------------------- */

AMK_API int amk_sftp_stat(struct amk_sftp *sftp, const char *path, struct amk_sftp_attrs *attrs)
    AMK_MUST_CHECK;
AMK_API int amk_sftp_lstat(struct amk_sftp *sftp, const char *path, struct amk_sftp_attrs *attrs)
    AMK_MUST_CHECK;
AMK_API int amk_sftp_setstat(struct amk_sftp *sftp, const char *path,
    const struct amk_sftp_attrs *attrs) AMK_MUST_CHECK;
/** lsetstat@openssh.com (does not follow a final symlink); AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_lsetstat(struct amk_sftp *sftp, const char *path,
    const struct amk_sftp_attrs *attrs) AMK_MUST_CHECK;
AMK_API int amk_sftp_chmod(struct amk_sftp *sftp, const char *path, uint32_t mode) AMK_MUST_CHECK;
AMK_API int amk_sftp_chown(struct amk_sftp *sftp, const char *path, uint32_t uid, uint32_t gid)
    AMK_MUST_CHECK;
AMK_API int amk_sftp_utime(struct amk_sftp *sftp, const char *path, uint32_t atime,
    uint32_t mtime) AMK_MUST_CHECK;
AMK_API int amk_sftp_truncate(struct amk_sftp *sftp, const char *path, uint64_t size)
    AMK_MUST_CHECK;
/** Creates a directory with @p mode (0: the server's default). */
AMK_API int amk_sftp_mkdir(struct amk_sftp *sftp, const char *path, uint32_t mode) AMK_MUST_CHECK;
AMK_API int amk_sftp_rmdir(struct amk_sftp *sftp, const char *path) AMK_MUST_CHECK;
AMK_API int amk_sftp_remove(struct amk_sftp *sftp, const char *path) AMK_MUST_CHECK;
/** Renames, replacing an existing @p newpath when the server offers
 * posix-rename@openssh.com (plain RENAME otherwise, which refuses). */
AMK_API int amk_sftp_rename(struct amk_sftp *sftp, const char *oldpath, const char *newpath)
    AMK_MUST_CHECK;
/** Creates symlink @p linkpath pointing at @p target. SYMLINK's two fields
 * go in the order the server reads them: OpenSSH's sftp-server and
 * Paramiko's take the target first, against draft-02 (doc/PROTOCOL.md);
 * see ::amk_sftp_symlink_order for how it is chosen, and
 * amk_sftp_set_symlink_order() to choose it. */
AMK_API int amk_sftp_symlink(struct amk_sftp *sftp, const char *target, const char *linkpath)
    AMK_MUST_CHECK;
/** hardlink@openssh.com; AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_hardlink(struct amk_sftp *sftp, const char *oldpath, const char *newpath)
    AMK_MUST_CHECK;
/** The target of symlink @p path in *@p target (free with free()). */
AMK_API int amk_sftp_readlink(struct amk_sftp *sftp, const char *path, char **target)
    AMK_MUST_CHECK;
/** The canonical absolute form of @p path in *@p out (free with free()). */
AMK_API int amk_sftp_realpath(struct amk_sftp *sftp, const char *path, char **out)
    AMK_MUST_CHECK;
/** expand-path@openssh.com: @p path with "~" and "~user" expanded, made
 * absolute, in *@p out (free with free()); AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_expand_path(struct amk_sftp *sftp, const char *path, char **out)
    AMK_MUST_CHECK;
/** home-directory: the home directory of @p user in *@p out (free with
 * free()); AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_home_directory(struct amk_sftp *sftp, const char *user, char **out)
    AMK_MUST_CHECK;
/** statvfs@openssh.com; AMK_ENOTSUP when not offered. */
AMK_API int amk_sftp_statvfs(struct amk_sftp *sftp, const char *path,
    struct amk_sftp_statvfs *st) AMK_MUST_CHECK;

/* --- Directories ----------------------------------------------------- */

AMK_API int amk_sftp_opendir(struct amk_sftp *sftp, const char *path,
    struct amk_sftp_file **out) AMK_MUST_CHECK;
/**
 * The next entry of directory @p dir in *@p entry (strings owned by
 * @p dir, valid until the next call on it). AMK_OK with *@p more 1, or
 * AMK_OK with *@p more 0 at the end.
 */
AMK_API int amk_sftp_readdir(struct amk_sftp_file *dir, struct amk_sftp_name *entry, int *more)
    AMK_MUST_CHECK;
/** Every entry of @p path with its attributes ("." and ".." left out), in
 * *@p names (*@p n of them); free with amk_sftp_names_free(). AMK_ELIMIT
 * past AMK_SFTP_LIST_MAX_ENTRIES entries or AMK_SFTP_LIST_MAX_BYTES of
 * names (a server that never ends a listing; amk_sftp_readdir() streams
 * a directory of any size). */
AMK_API int amk_sftp_listdir(struct amk_sftp *sftp, const char *path,
    struct amk_sftp_name **names, size_t *n) AMK_MUST_CHECK;
#define AMK_SFTP_LIST_MAX_ENTRIES ((size_t)1024 * 1024)     /**< amk_sftp_listdir() */
#define AMK_SFTP_LIST_MAX_BYTES ((size_t)256 * 1024 * 1024) /**< amk_sftp_listdir() */
AMK_API void amk_sftp_names_free(struct amk_sftp_name *names, size_t n);

/**
 * Called by amk_sftp_walk() for each entry: its @p path (top joined with
 * the names below it) and attributes as the listing gave them (symlinks
 * not followed). Return AMK_OK to go on; another code stops the walk,
 * which returns it.
 */
typedef int (*amk_sftp_walk_fn)(void *user, const char *path,
    const struct amk_sftp_attrs *attrs);

/**
 * Walks the tree under directory @p top, parents before their children,
 * calling @p fn for every entry (not for @p top itself) and descending
 * into directories (not into symlinks). At most AMK_SFTP_WALK_DEPTH levels
 * (AMK_ELIMIT beyond). Blocking mode only (AMK_ESTATE otherwise: it calls
 * back as it goes, so it cannot be resumed; use amk_sftp_listdir()).
 */
AMK_API int amk_sftp_walk(struct amk_sftp *sftp, const char *top, amk_sftp_walk_fn fn,
    void *user) AMK_MUST_CHECK;
#define AMK_SFTP_WALK_DEPTH 64

/* --- Transfer objects ------------------------------------------------ */

/** A whole-file transfer between a local file and a remote one (opaque). */
struct amk_sftp_transfer;

/** What amk_sftp_transfer_progress() reports. */
struct amk_sftp_transfer_progress {
    uint64_t done;          /**< bytes of the target in place (with a resumed prefix) */
    uint64_t total;         /**< the source's size at the start; 0 when unknown */
    uint64_t start;         /**< where this run began (the resumed prefix) */
    double rate;            /**< bytes per second, smoothed (about the last 2 s) */
    double elapsed;         /**< seconds since the transfer started */
    size_t inflight;        /**< READ / WRITE requests in flight now */
    size_t inflight_limit;  /**< how many it may have in flight now (adapts) */
    size_t inflight_peak;   /**< the most it has had in flight */
    size_t request_len;     /**< bytes per request (from limits@openssh.com) */
    int finished;           /**< 1 once done or failed */
};

/**
 * Progress of a transfer object: called as data lands, at most about 20
 * times a second plus once at the end. Return AMK_OK to go on; another
 * code stops the transfer with that code.
 */
typedef int (*amk_sftp_transfer_progress_fn)(void *user, struct amk_sftp_transfer *t,
    const struct amk_sftp_transfer_progress *p);

/**
 * Prepares a copy of remote @p remote to local @p local, as amk_sftp_get()
 * with @p flags (AMK_SFTP_XFER_*), and gives it in *@p out. Nothing is sent
 * or waited for here: amk_sftp_transfer_step() or _run() does the work.
 * The strings are copied. Free with amk_sftp_transfer_free().
 * @return AMK_OK; AMK_EINVAL; AMK_ENOMEM.
 */
AMK_API int amk_sftp_transfer_start_get(struct amk_sftp *sftp, const char *remote,
    const char *local, unsigned flags, struct amk_sftp_transfer **out) AMK_MUST_CHECK;
/** As amk_sftp_transfer_start_get() the other way, as amk_sftp_put(). */
AMK_API int amk_sftp_transfer_start_put(struct amk_sftp *sftp, const char *local,
    const char *remote, unsigned flags, struct amk_sftp_transfer **out) AMK_MUST_CHECK;
/** Sets the progress callback of @p t (NULL: none). */
AMK_API void amk_sftp_transfer_set_progress(struct amk_sftp_transfer *t,
    amk_sftp_transfer_progress_fn fn, void *user);

/**
 * Moves @p t on: sends the requests it may have in flight, takes the
 * replies that arrived, writes data where it goes.
 * - Non-blocking: goes on until the stream would wait, then returns
 *   AMK_EAGAIN (poll for amk_sftp_block_directions(), call again).
 * - Blocking: waits for the server at most once, then returns AMK_EAGAIN
 *   while the transfer is not finished, so a caller can do other things
 *   (redraw progress) between calls.
 * Requests in flight start at 4 per transfer and grow by one per full
 * reply up to what 16 MiB allows (at most 64 of the server's largest
 * reads or writes); a short read halves them. Memory is bounded by them,
 * never by the file size.
 * Transfers on one ::amk_sftp may be stepped in any order and as unevenly
 * as the caller likes (one at a time, some not for a while): a reply that
 * came for a transfer not being stepped does not hold a request slot
 * others need. It is moved aside, into that transfer, for its next step
 * (its data is already written where it goes; nothing else of it runs:
 * no progress callback, no new request). So a step never waits for a
 * reply that is not on its way, in either mode.
 * @return AMK_EAGAIN (not finished); AMK_OK (finished); the transfer's
 *         error as amk_sftp_get() / amk_sftp_put() list them. Once
 *         finished or failed, every call returns the same.
 */
AMK_API int amk_sftp_transfer_step(struct amk_sftp_transfer *t) AMK_MUST_CHECK;
/**
 * Moves the @p n transfers of @p ts (all on one ::amk_sftp; NULL entries
 * skipped) on together, sharing the session fairly: each issues one
 * request in turn (round-robin) while it may have more in flight, so
 * none starves. A transfer that fails stops alone (amk_sftp_transfer_result());
 * the others go on. Modes as amk_sftp_transfer_step(). The READs and
 * WRITEs of all transfers on one ::amk_sftp have at most 240 of its 256
 * request slots on the wire (four or more at their full 64 share them),
 * and their OPEN, FSTAT and CLOSE requests, like the first READ or WRITE
 * of a transfer with none in flight, at most 252, so a call made between
 * steps (amk_sftp_stat(), amk_sftp_open(), amk_sftp_close(),
 * amk_sftp_readdir(), and amk_sftp_pread(), amk_sftp_get() and the other
 * calls that run a transfer of their own ...) is sent at once, never held
 * back by transfers. Replies that came for transfers not in @p ts are
 * moved aside when their slots are needed, as amk_sftp_transfer_step()
 * says; a transfer of @p ts or another may thus be stepped alone at any
 * time.
 * @return AMK_EAGAIN while any is unfinished; AMK_OK when all are
 *         finished (each with its own result, a transfer whose
 *         ::amk_sftp was freed among them); AMK_EINVAL; a fatal error
 *         of the ::amk_sftp (which also ends them all).
 */
AMK_API int amk_sftp_transfer_step_all(struct amk_sftp_transfer **ts, size_t n) AMK_MUST_CHECK;
/** Steps the @p n transfers until all are finished: AMK_OK (see each
 * one's result), a fatal error, or AMK_EAGAIN in non-blocking mode. */
AMK_API int amk_sftp_transfer_run(struct amk_sftp_transfer **ts, size_t n) AMK_MUST_CHECK;
/** AMK_EAGAIN while @p t runs, AMK_OK when it finished, else its error. */
AMK_API int amk_sftp_transfer_result(const struct amk_sftp_transfer *t);
/** The detail of @p t's failure, or "". */
AMK_API const char *amk_sftp_transfer_error(const struct amk_sftp_transfer *t);
/** Fills *@p p for @p t (at any time). AMK_OK; AMK_EINVAL. */
AMK_API int amk_sftp_transfer_progress(const struct amk_sftp_transfer *t,
    struct amk_sftp_transfer_progress *p) AMK_MUST_CHECK;
/** The transfer whose progress callback runs now: the one behind an
 * amk_sftp_get() / amk_sftp_put() whose ::amk_sftp_progress_fn is being
 * called (so that callback can ask amk_sftp_transfer_progress() for the
 * rate), else NULL. */
AMK_API struct amk_sftp_transfer *amk_sftp_transfer_current(struct amk_sftp *sftp);
/** Frees @p t. An unfinished one is given up: its requests' replies are
 * dropped and its remote handle is closed with the next request (no
 * wait). A get leaves a local file that is a clean prefix of the remote
 * one. NULL is fine. @p t may outlive its ::amk_sftp: amk_sftp_free()
 * ends an unfinished one with AMK_ECLOSED (a get's file a clean prefix)
 * and it is still freed here. */
AMK_API void amk_sftp_transfer_free(struct amk_sftp_transfer *t);

/* --- Whole files ------------------------------------------------------ */

/** Flags of amk_sftp_get() and amk_sftp_put(). */
/** Go on from the target's current size. A get refuses (AMK_EINVAL) when
 *  the local file is longer than the remote one, or the server gives no
 *  size to check it against. */
#define AMK_SFTP_XFER_RESUME 0x1u
/** Give the target the source's mode and times. Only the permission bits:
 *  a get never makes a local file setuid, setgid or sticky. */
#define AMK_SFTP_XFER_PRESERVE 0x2u

/**
 * Copies remote @p remote to local @p local (truncated unless
 * AMK_SFTP_XFER_RESUME) with many reads in flight. A new @p local is
 * created with the remote file's permission bits plus owner write (0644
 * when the server sends none), before the umask, as OpenSSH's sftp does,
 * so it is never readable by more users than its source, even while being
 * written; an existing one keeps its mode (AMK_SFTP_XFER_PRESERVE sets
 * the remote's at the end).
 * With AMK_SFTP_XFER_RESUME the local file's bytes are taken as a prefix
 * of the remote one and the copy goes on from its end (AMK_EINVAL when
 * the local file is longer). @p progress (may be NULL) is called as data
 * arrives with the bytes of the file in place. Memory use is bounded by
 * the reads in flight, never by the file size. It runs a transfer object
 * (amk_sftp_transfer_start_get()); from @p progress,
 * amk_sftp_transfer_current() gives it, for the rate. Non-blocking: AMK_EAGAIN
 * until done, as every call (see "Modes").
 * @return AMK_OK; AMK_ENOENT, AMK_EACCES, AMK_EREMOTE (the server's
 *         refusal); AMK_EIO (the local file); AMK_EINVAL; the progress
 *         callback's code; fatal codes as above.
 */
AMK_API int amk_sftp_get(struct amk_sftp *sftp, const char *remote, const char *local,
    unsigned flags, amk_sftp_progress_fn progress, void *user) AMK_MUST_CHECK;
/** Copies local @p local to remote @p remote (created with the local file's
 * permission bits plus owner write, before the server's umask; truncated unless
 * AMK_SFTP_XFER_RESUME, which goes on from the remote file's size), as
 * amk_sftp_get() the other way. A failed get leaves a local file that is
 * a clean prefix of the remote one; a failed put relies on the server
 * having applied the writes in order (OpenSSH's sftp-server does) for the
 * remote file to be one. The put writes @p remote in place, as OpenSSH's
 * sftp and Paramiko do, so an interrupted one leaves a shorter file under
 * that name; amk_sftp_tree_put() puts a single file atomically instead. */
AMK_API int amk_sftp_put(struct amk_sftp *sftp, const char *local, const char *remote,
    unsigned flags, amk_sftp_progress_fn progress, void *user) AMK_MUST_CHECK;

/* --- Directory trees (sftp_tree.c) ------------------------------------ */

/** Flags of amk_sftp_tree_get() and amk_sftp_tree_put(). */
#define AMK_SFTP_TREE_RECURSIVE 0x1u /**< copy a directory source with everything under it */
#define AMK_SFTP_TREE_PRESERVE 0x2u  /**< give every copy its source's mode and times */
#define AMK_SFTP_TREE_RESUME 0x4u    /**< go on with partial copies (see amk_sftp_tree_put()) */
#define AMK_SFTP_TREE_INPLACE 0x8u   /**< put: write the final names directly (not atomic) */

/** The suffix of the temporary name an atomic put writes: ".NAME" AMK_SFTP_TREE_PART_SUFFIX
 * in the target's directory. */
#define AMK_SFTP_TREE_PART_SUFFIX ".amkpart"

/** Where a tree transfer is, for its progress callback. Fields may be
 * added at the end; callers only read them. */
struct amk_sftp_tree_progress {
    const char *path;           /**< the source path of the file being copied */
    uint64_t file_done;         /**< bytes of that file in place (a resumed prefix included) */
    uint64_t file_total;        /**< its size at the start */
    uint64_t done;              /**< bytes of the whole tree in place */
    uint64_t total;             /**< bytes of all regular files in the tree */
    uint64_t files_done;        /**< files finished (copied, or failed and skipped) */
    uint64_t files_total;       /**< regular files in the tree */
};

/** Progress of a tree transfer. Return AMK_OK to go on; any other code
 * stops the transfer, which returns that code. */
typedef int (*amk_sftp_tree_progress_fn)(void *user, const struct amk_sftp_tree_progress *p);

/**
 * A path of a tree transfer failed: @p path (the source path, or the
 * target's for a target-side failure), @p code (AMK_E...) and @p message
 * (the server's message for a refusal, the local error otherwise).
 * Return AMK_OK to skip that path and go on with the rest (the transfer
 * then ends with the first such code), or any other code to stop with it.
 * Fatal errors of the ::amk_sftp stop the transfer whatever this returns.
 */
typedef int (*amk_sftp_tree_error_fn)(void *user, const char *path, int code,
    const char *message);

/** Version of struct amk_sftp_tree_opts this header describes. */
#define AMK_SFTP_TREE_OPTS_VERSION 1

/** Options of a tree transfer; fill with amk_sftp_tree_opts_init() first. */
struct amk_sftp_tree_opts {
    unsigned version;                   /**< AMK_SFTP_TREE_OPTS_VERSION */
    unsigned flags;                     /**< AMK_SFTP_TREE_* */
    amk_sftp_tree_progress_fn progress; /**< may be NULL */
    void *progress_user;
    amk_sftp_tree_error_fn on_error;    /**< NULL: stop at the first failure */
    void *error_user;
};

/** Sets @p opts to no flags and no callbacks, at this header's version. */
AMK_API void amk_sftp_tree_opts_init(struct amk_sftp_tree_opts *opts);

/**
 * Copies remote @p remote to local @p local: a regular file (a symlink
 * named as @p remote is followed), or, with AMK_SFTP_TREE_RECURSIVE, a
 * directory and everything under it. @p local is the name of the copy
 * (the caller decides whether that is "into" a directory); an existing
 * directory there is merged into. Inside the tree, symlinks are made
 * again as symlinks with the same target text, directories are created
 * (parents before children) and files copied as amk_sftp_get() does;
 * other file types are reported as errors and skipped. With
 * AMK_SFTP_TREE_PRESERVE files and directories get the source's mode and
 * times (directories' once their contents are in place). With
 * AMK_SFTP_TREE_RESUME a local file is taken as a prefix of its remote
 * one and the copy goes on from its end. The whole tree is listed before
 * anything is copied, so the progress callback gets tree totals.
 * Names that come from the server are never followed through local
 * symlinks (@p local itself may be one): below @p local, a symlink where
 * a directory or a file is to be written is reported as an error and
 * left alone. A listed name that is not one entry of its directory (a
 * '/' in it, as in "x/.." or "../../etc/cron.d", or empty) is left out
 * and reported as AMK_EBADNAME, with @p path the directory that listed it
 * and @p message `Server sent suspect path "NAME" during readdir of "DIR"`
 * (OpenSSH's words; DIR is that directory again); so is each entry of a
 * name the listing already had (a symlink, then a directory to write
 * through it: the first entry is used), with @p message
 * `Server sent "NAME" again during readdir of "DIR": the first one is used`.
 * Every such name of a listing is reported before anything below it; the
 * rest of the tree is copied as if the name had not been listed, and
 * nothing is ever written outside @p local. Modes taken
 * from the server are permission bits only (no setuid, setgid, sticky).
 * @p opts may be NULL (no flags, stop at the first failure).
 * Blocking mode only, as amk_sftp_walk(): AMK_ESTATE on a non-blocking
 * ::amk_sftp, and AMK_ESTATE (stopping there) if the stream returns
 * AMK_EAGAIN mid-way; for non-blocking trees, list with
 * amk_sftp_listdir() and run transfer objects.
 * @return AMK_OK; the first failure's code (AMK_ENOENT, AMK_EACCES,
 *         AMK_EREMOTE, AMK_EIO for a local failure, AMK_EINVAL for a
 *         directory without AMK_SFTP_TREE_RECURSIVE or a file type that
 *         cannot be copied, AMK_ELIMIT beyond AMK_SFTP_WALK_DEPTH levels,
 *         AMK_EBADNAME for a name left out);
 *         a callback's code; fatal codes of the ::amk_sftp.
 */
AMK_API int amk_sftp_tree_get(struct amk_sftp *sftp, const char *remote, const char *local,
    const struct amk_sftp_tree_opts *opts) AMK_MUST_CHECK;

/**
 * Copies local @p local to remote @p remote, as amk_sftp_tree_get() the
 * other way. Files are put atomically: each is written to
 * ".NAME.amkpart" in its target directory and renamed over NAME
 * (posix-rename@openssh.com when offered, else remove and RENAME) once
 * complete, so an interrupted put never leaves a truncated file under
 * the final name; the ".amkpart" stays for a later AMK_SFTP_TREE_RESUME,
 * which continues it (and skips a file whose final name already has the
 * source's size and no ".amkpart" beside it). AMK_SFTP_TREE_INPLACE
 * writes the final names directly instead (resume then continues them).
 * Without AMK_SFTP_TREE_PRESERVE a file that replaces an existing regular
 * file keeps that file's permission bits (as OpenSSH's sftp, which
 * truncates in place, and rsync do: a 0600 file stays 0600), at the cost
 * of an LSTAT per file outside the directories this put created; its
 * ".amkpart" is created with those bits, so the new contents are never
 * readable by more users than the old. A new file gets its source's bits
 * as amk_sftp_put() creates it (a source without owner write has its mode
 * set once the file is written). The owner of a replaced file becomes the
 * uploading user (the rename makes a new file).
 * @return as amk_sftp_tree_get().
 */
AMK_API int amk_sftp_tree_put(struct amk_sftp *sftp, const char *local, const char *remote,
    const struct amk_sftp_tree_opts *opts) AMK_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
