/*
 * The SFTP server engine, sans-I/O: it takes the bytes of the "sftp"
 * subsystem's stream as they come (any chunking), answers each request
 * through a filesystem backend (struct amk_sftps_fs_ops, e.g. the POSIX
 * one of src/server/sftp_fs.c) and gives the reply bytes to send. It
 * never reads, writes or waits on a stream itself.
 *
 * Life: amk_sftps_new(); then, in any order and as often as needed:
 *  - amk_sftps_input(data, len, &used): consumes a prefix of the bytes
 *    received (requests are answered at once, but copy-data). It stops
 *    early, with *used < len, while the output holds cfg.out_max bytes or
 *    more (back-pressure: amk_sftps_wants_output_room() is then 1) and
 *    while a copy-data runs (amk_sftps_busy() is then 1); the caller MUST
 *    keep the unused bytes and offer them again once it sent some output,
 *    or once the copy ended. A packet split across calls is buffered
 *    inside (one at most); a complete packet in @p data is handled in
 *    place (WRITE data goes to the backend with no copy).
 *  - amk_sftps_output(&len) / amk_sftps_output_consume(n): the reply
 *    bytes. The output never holds more than cfg.out_max plus one reply.
 *  - amk_sftps_step(): while amk_sftps_busy(), copies the next slice
 *    (cfg.copy_slice bytes) of the copy-data request in progress, and
 *    queues its STATUS reply after the last one. A copy-data only checks
 *    its request when it arrives; the copying is done by these calls, so
 *    a caller serving several streams in one loop calls it once per turn
 *    and MUST NOT block waiting for I/O (poll with timeout 0) while some
 *    engine is busy. No other request of the stream is answered meanwhile.
 *  - amk_sftps_free(): closes every handle still open through the backend
 *    (a copy in progress is abandoned: what was copied stays).
 *
 * Errors: a malformed packet, a packet over AMK_SFTP_PACKET_MAX, a request
 * before INIT or a second INIT fail the engine (AMK_EFORMAT,
 * AMK_ETRUNCATED, AMK_ETOOBIG, AMK_EPROTO) with a detail
 * (amk_sftps_last_error()); a failed engine returns that first error from
 * every later amk_sftps_input() and the caller should close the stream
 * (after sending what output is left). A refused operation is not an
 * error: it is a STATUS reply.
 */
#ifndef AMK_SFTP_SERVER_H
#define AMK_SFTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "sftp/sftp_codec.h"

/* Defaults and caps (OpenSSH sftp-server uses 256 KiB messages too). */
#define AMK_SFTPS_IO_MAX ((size_t)255 * 1024)     /* max READ / WRITE length advertised */
#define AMK_SFTPS_HANDLES_DEFAULT 256
#define AMK_SFTPS_HANDLES_MAX 4096
#define AMK_SFTPS_OUT_DEFAULT ((size_t)1024 * 1024)
#define AMK_SFTPS_PATH_MAX 4096                    /* longest path accepted, bytes */
#define AMK_SFTPS_NAME_MAX 1024                    /* longest directory entry name */
#define AMK_SFTPS_LONGNAME_MAX (AMK_SFTPS_NAME_MAX + 256)
#define AMK_SFTPS_READDIR_MAX 128                  /* entries per READDIR reply */
/* Bytes copy-data copies per amk_sftps_step(). One thread serves every
 * connection (amk_sftps_step() runs inside the caller's loop), so a copy
 * of any size goes in slices with the other connections served between
 * them: 8 MiB is a few milliseconds at page-cache speed (copy_file_range
 * at 1-4 GB/s), under 0.1 s on a 100 MB/s disk, and few enough steps (ten
 * for 80 MiB) that the per-slice cost (two fstat, one loop turn) is lost
 * in the copying. */
#define AMK_SFTPS_COPY_SLICE ((uint64_t)8 * 1024 * 1024)
/* uids, and gids, one users-groups-by-id@openssh.com request may name (each
 * is a passwd / group lookup in the caller's loop): more is refused with
 * FAILURE. OpenSSH's sftp asks for the few owners of one listing. */
#define AMK_SFTPS_IDS_MAX 256

/* One directory entry from the backend's readdir. */
struct amk_sftps_dirent {
    char name[AMK_SFTPS_NAME_MAX + 1];
    char longname[AMK_SFTPS_LONGNAME_MAX + 1];    /* as `ls -l` shows it; "" allowed */
    struct amk_sftp_attrs attrs;
};

/* The range of a copy-data still to copy (see copy_data below). */
struct amk_sftps_copy {
    uint64_t from_off;          /* the next byte to read */
    uint64_t to_off;            /* where it goes */
    uint64_t len;               /* bytes left (0 before the first call: to the end) */
};

/*
 * A filesystem backend. Every operation returns 0 or a positive errno
 * value (ENOENT, EACCES, EEXIST, ENOTEMPTY...), which the engine turns
 * into the STATUS code and message. Paths are the client's strings,
 * NUL-terminated, at most AMK_SFTPS_PATH_MAX bytes, relative ones meant
 * from the start directory; the backend decides what they mean (and
 * confines them). Handles (void *) are the backend's; the engine maps
 * them to wire handles. An operation left NULL is answered
 * OP_UNSUPPORTED and its extension is not advertised.
 */
struct amk_sftps_fs_ops {
    /* OPEN: @p pflags are SSH_FXF_* (AMK_SFTP_READ...), @p attrs the
     * client's (permissions for a created file when flagged). */
    int (*open)(void *user, const char *path, uint32_t pflags,
        const struct amk_sftp_attrs *attrs, void **fh);
    int (*close)(void *user, void *fh);
    /* Up to @p len bytes at @p off into @p buf; *@p got 0 at end of file. */
    int (*pread)(void *user, void *fh, void *buf, size_t len, uint64_t off, size_t *got);
    /* All @p len bytes at @p off. */
    int (*pwrite)(void *user, void *fh, const void *buf, size_t len, uint64_t off);
    int (*fstat)(void *user, void *fh, struct amk_sftp_attrs *attrs);
    int (*fsetstat)(void *user, void *fh, const struct amk_sftp_attrs *attrs);
    int (*opendir)(void *user, const char *path, void **dh);
    /* The next entry in *@p e, or *@p eof = 1 at the end. */
    int (*readdir)(void *user, void *dh, struct amk_sftps_dirent *e, int *eof);
    int (*closedir)(void *user, void *dh);
    /* STAT (@p follow 1) and LSTAT (0). */
    int (*stat)(void *user, const char *path, int follow, struct amk_sftp_attrs *attrs);
    /* SETSTAT (@p follow 1) and lsetstat@openssh.com (0). */
    int (*setstat)(void *user, const char *path, int follow,
        const struct amk_sftp_attrs *attrs);
    int (*remove)(void *user, const char *path);
    int (*mkdir)(void *user, const char *path, const struct amk_sftp_attrs *attrs);
    int (*rmdir)(void *user, const char *path);
    /* The canonical absolute path (as the client sees the tree) in @p out
     * (@p cap bytes, NUL-terminated). "." is the start directory. */
    int (*realpath)(void *user, const char *path, char *out, size_t cap);
    /* RENAME (@p replace 0: EEXIST when @p to exists) and
     * posix-rename@openssh.com (1). */
    int (*rename)(void *user, const char *from, const char *to, int replace);
    int (*readlink)(void *user, const char *path, char *out, size_t cap);
    /* Creates symlink @p linkpath holding @p target as given. */
    int (*symlink)(void *user, const char *target, const char *linkpath);
    int (*hardlink)(void *user, const char *from, const char *to);
    int (*statvfs)(void *user, const char *path, struct amk_sftp_statvfs *st);
    int (*fstatvfs)(void *user, void *fh, struct amk_sftp_statvfs *st);
    int (*fsync)(void *user, void *fh);
    /* copy-data, a slice at a time: copies up to @p max bytes of the
     * range @p c describes (c->len bytes, 0: to the end, of @p from at
     * c->from_off into @p to at c->to_off) and moves @p c past them
     * (offsets up, c->len down). The range never goes past the end the
     * source has at the call: c->len comes back capped there, and 0 at
     * the source's end. @p max 0 copies nothing and only checks and caps:
     * the engine does so when the request arrives (fixing the length at
     * the source's size then, so a copy onto the file's own tail ends),
     * then calls again with @p max a slice while c->len > 0. EINVAL for a
     * source that is not a regular file, or the same file with
     * overlapping ranges. (The engine answers EOF when fewer bytes than
     * a non-zero length asked for were copied, as OpenSSH mostly does.) */
    int (*copy_data)(void *user, void *from, void *to, struct amk_sftps_copy *c, uint64_t max);
    /* The home directory of @p name ("" for the server's own user) as a
     * path the client can use, in @p out. */
    int (*home)(void *user, const char *name, char *out, size_t cap);
    /* users-groups-by-id@openssh.com: the name of a uid / gid, or ENOENT. */
    int (*user_name)(void *user, uint32_t uid, char *out, size_t cap);
    int (*group_name)(void *user, uint32_t gid, char *out, size_t cap);
};

/* Options of amk_sftps_new(); zero fields take the defaults. */
struct amk_sftps_config {
    int read_only;              /* refuse every modifying request: PERMISSION_DENIED */
    size_t out_max;             /* output level that pauses input (AMK_SFTPS_OUT_DEFAULT) */
    uint32_t max_handles;       /* open files + directories (AMK_SFTPS_HANDLES_DEFAULT) */
    /* 1: amk_sftps_input() takes whole packets only and leaves an
     * incomplete one at the end of the data to the caller (*used stops
     * before it), who MUST offer it again with more bytes appended; its
     * buffer MUST be able to hold AMK_SFTP_PACKET_MAX + 4 bytes. Every
     * request is then handled in place (no copy of WRITE data). 0: the
     * engine buffers a split packet itself (any chunking works). */
    int whole_packets;
    uint64_t copy_slice;        /* bytes per amk_sftps_step() (AMK_SFTPS_COPY_SLICE) */
    /*
     * The field order SYMLINK is read in. 0: target first, as OpenSSH's
     * sftp-server reads it (OpenSSH PROTOCOL §4.1) and as OpenSSH's sftp,
     * Paramiko, libssh2 and amiko's client send it. 1: linkpath first,
     * the draft's order (draft-ietf-secsh-filexfer-02 §6.10), which
     * AsyncSSH's and libssh's clients send to a server whose banner does
     * not name OpenSSH (nor, for AsyncSSH, Paramiko). The wire cannot
     * tell the two apart: the caller picks by the client's
     * identification line (doc/PROTOCOL.md, amiko serve's SFTP section).
     */
    int symlink_linkpath_first;
};

struct amk_sftps;

/* A new engine over backend @p ops / @p fs_user (both MUST outlive it);
 * @p cfg may be NULL. AMK_EINVAL (no ops, handles over the cap), AMK_ENOMEM. */
int amk_sftps_new(struct amk_sftps **out, const struct amk_sftps_fs_ops *ops, void *fs_user,
    const struct amk_sftps_config *cfg) AMK_SFTP_MUST_CHECK;
/* Closes the handles left open and frees. NULL is fine. */
void amk_sftps_free(struct amk_sftps *s);

/* Feeds received bytes; *@p used gets how many were taken (see above).
 * AMK_OK or the engine's (fatal) error. */
int amk_sftps_input(struct amk_sftps *s, const uint8_t *data, size_t len, size_t *used)
    AMK_SFTP_MUST_CHECK;
/* Bytes to send: a view of *@p len bytes (valid until the next call). */
const uint8_t *amk_sftps_output(const struct amk_sftps *s, size_t *len);
/* The first @p n bytes of the output were sent. AMK_EINVAL beyond it. */
int amk_sftps_output_consume(struct amk_sftps *s, size_t n) AMK_SFTP_MUST_CHECK;
/* 1 while input is paused until output is consumed (back-pressure). */
int amk_sftps_wants_output_room(const struct amk_sftps *s);
/* 1 while a copy-data is in progress: input is paused until
 * amk_sftps_step() finished it. */
int amk_sftps_busy(const struct amk_sftps *s);
/* Copies the next slice of the copy-data in progress (nothing when not
 * busy); after the last one its STATUS reply is in the output. AMK_OK or
 * the engine's (fatal) error, as amk_sftps_input(). */
int amk_sftps_step(struct amk_sftps *s) AMK_SFTP_MUST_CHECK;
/* 1 once the client's INIT was answered. */
int amk_sftps_started(const struct amk_sftps *s);
/* Open handles now. */
size_t amk_sftps_handles(const struct amk_sftps *s);

int amk_sftps_error(const struct amk_sftps *s);
const char *amk_sftps_last_error(const struct amk_sftps *s);

#endif
