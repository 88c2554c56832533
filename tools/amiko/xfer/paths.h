/*
 * Path lists and remote wildcards for `amiko cp` and `amiko sftp`.
 *
 * A remote path whose last component has wildcards (* ? [) is expanded
 * against its directory's listing, as scp and OpenSSH's sftp do: matches
 * sorted, dot files only for a pattern that starts with a dot
 * (fnmatch's FNM_PERIOD). Wildcards in the directory part are taken
 * literally. A backslash makes the next character plain, as in glob(3):
 * "file\[1\].txt" and, from amiko sftp's quotes, "a\*" name those
 * files; the paths these functions give have the escapes removed.
 */
#ifndef AMIKO_XFER_PATHS_H
#define AMIKO_XFER_PATHS_H

#include <stddef.h>

struct amk_sftp;

/* A growing list of paths, each its own allocation. */
struct xfer_paths {
    char **v;
    size_t n, cap;
};

/* Appends @p p, which the list takes (freed on failure): 0, or -1 when
 * @p p is NULL or memory ran out. */
int xfer_paths_add(struct xfer_paths *l, char *p);

/* Frees the paths and the list's array; the list is empty after. */
void xfer_paths_free(struct xfer_paths *l);

/* "dir/name" in a new string (no doubled slash); NULL without memory. */
char *xfer_join_path(const char *dir, const char *name);

/* The last component of @p path (trailing slashes ignored; "" for "/"),
 * in a new string; NULL without memory. */
char *xfer_base_name(const char *path);

/*
 * 1 when @p name can name an entry of a directory it is joined to: not
 * empty, not "." or "..", no '/'. A base name that is not (a source
 * "dir/..", a server's "x/..") would land outside the target directory.
 */
int xfer_name_ok(const char *name);

/*
 * A '/' added to *@p path (replaced by a new string; freed) when it names a
 * remote directory and does not end with one already, as scp's and
 * OpenSSH sftp's glob marks a directory (GLOB_MARK): their messages name a
 * recursive copy's top that way ("during readdir of \"/dir/\""). 0, or -1
 * without memory (*@p path is then left as it was). One STAT.
 */
int xfer_mark_remote_dir(struct amk_sftp *sftp, char **path);

#define XFER_MESSAGE_MAX 2048

/*
 * "path: message" in @p buf (@p cap bytes), or @p message alone when it
 * already starts with "path: " (the library's messages often name the
 * path themselves: "/r/x: No such file"); returns @p buf.
 */
const char *xfer_path_message(char *buf, size_t cap, const char *path, const char *message);

/* 1 when @p s has a wildcard character (* ? [) that is not escaped. */
int xfer_has_wildcard(const char *s);

/* Removes the escapes from @p s in place: "\c" becomes "c" (a final
 * lone backslash stays): the literal name a pattern without wildcards
 * stands for. */
void xfer_unescape(char *s);

/* 1 when @p name matches the pattern @p pat (fnmatch with FNM_PERIOD;
 * escapes honoured). */
int xfer_name_matches(const char *pat, const char *name);

/* xfer_glob_remote(): a pattern that matches nothing stands for itself
 * (glob(3)'s GLOB_NOCHECK, which scp and OpenSSH's sftp rm / chmod use):
 * "file[1].txt" is then that file, and a missing one is reported by the
 * operation on it. */
#define XFER_GLOB_NOCHECK 0x1u
/* xfer_glob_remote(): a name of the listing that holds a '/' is left out
 * with a message on stderr ("Server sent suspect path ..."), and the
 * other names still match, as OpenSSH's sftp and scp do; without it the
 * whole listing is refused. */
#define XFER_GLOB_SKIP_SUSPECT 0x2u

/*
 * Adds the remote paths that @p path stands for to @p out: @p path itself
 * (unescaped) when its last component has no wildcard, else each match in its
 * directory, written as typed (the directory part of @p path, then the
 * name), sorted. The directory is read at @p cwd/dir when @p cwd is not
 * NULL and the directory part is relative, else as typed (the server
 * resolves it). @p flags: XFER_GLOB_*; @p who goes before the message of
 * a skipped name ("amiko cp: ", as scp names itself; "" as OpenSSH's sftp
 * does not). Returns the number of paths added,
 * 0 when the pattern matches nothing (without XFER_GLOB_NOCHECK), or -1 when the directory cannot be read, memory ran
 * out, or the listing has a name that is not xfer_name_ok() other than
 * "." and ".." (nothing is added then: the server is lying; with
 * XFER_GLOB_SKIP_SUSPECT a name with '/' is skipped instead); @p err then
 * holds why.
 */
int xfer_glob_remote(struct amk_sftp *sftp, const char *path, const char *cwd, unsigned flags,
    const char *who, struct xfer_paths *out, char *err, size_t errcap);

#endif
