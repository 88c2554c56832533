/* POSIX filesystem backend of the SFTP server; see sftp_fs.h. */
#include "server/sftp_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FS_PATH_MAX (AMK_SFTPS_PATH_MAX * 2 + 2)
#define PROC_FD_MAX 64
#define COPY_CHUNK ((size_t)1024 * 1024)
#define RESOLVE_TRIES 16
/* ls -l shows the year instead of the time beyond half a year. */
#define SIX_MONTHS ((time_t)182 * 24 * 3600)

struct amk_sftp_fs {
    int root_fd;                /* the confinement root, or -1 */
    dev_t root_dev;             /* its identity: ".." of the root is itself */
    ino_t root_ino;
    char root_real[PATH_MAX];   /* its real path ("" when not confined) */
    char home[AMK_SFTPS_PATH_MAX + 1]; /* start directory, absolute, client's view */
    /* one-entry caches for ls -l owner names */
    uint32_t c_uid, c_gid;
    int c_uid_ok, c_gid_ok;
    char c_user[64], c_group[64];
    struct amk_sftp_fs_budget *budget;  /* NULL: not counted */
};

struct fs_file {
    int fd;
};

struct fs_dir {
    DIR *d;
};

/* --- Resolution ------------------------------------------------------------ */

/* The client's @p path made absolute (from the start directory) in @p out. */
static int
fs_full(const struct amk_sftp_fs *fs, const char *path, char *out, size_t cap)
{
    int n;

    if (path[0] == '/')
        n = snprintf(out, cap, "%s", path);
    else
        n = snprintf(out, cap, "%s/%s", strcmp(fs->home, "/") == 0 ? "" : fs->home, path);
    return n < 0 || (size_t)n >= cap ? ENAMETOOLONG : 0;
}

/*
 * Opens absolute client path @p full: with the root, openat2 with
 * RESOLVE_IN_ROOT (".." and symlinks stop at the root, magic links of
 * /proc refused); without, a plain open. 0 or errno.
 */
static int
fs_resolve(const struct amk_sftp_fs *fs, const char *full, int flags, mode_t mode, int *fd)
{
    *fd = -1;
    if (fs->root_fd >= 0) {
        struct open_how how;

        memset(&how, 0, sizeof(how));
        how.flags = (uint64_t)(flags | O_CLOEXEC);
        how.mode = (flags & O_CREAT) ? (uint64_t)mode : 0;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        /* EAGAIN is openat2's "a rename or mount raced the resolution,
         * try again" - but also a lease's EWOULDBLOCK (the same value)
         * under O_NONBLOCK, which lasts as long as the lease: a few
         * retries, then the error (a FAILURE status) instead of a spin
         * of the event loop. */
        for (int tries = 0; tries < RESOLVE_TRIES; tries++) {
            *fd = (int)syscall(SYS_openat2, fs->root_fd, full, &how, sizeof(how));
            if (*fd >= 0 || (errno != EAGAIN && errno != EINTR))
                break;
        }
    } else {
        do {
            *fd = open(full, flags | O_CLOEXEC, mode);
        } while (*fd < 0 && errno == EINTR);
    }
    return *fd < 0 ? errno : 0;
}

/* Resolves the client's @p path. */
static int
fs_open_path(const struct amk_sftp_fs *fs, const char *path, int flags, mode_t mode, int *fd)
{
    char full[FS_PATH_MAX];
    int e;

    *fd = -1;
    if ((e = fs_full(fs, path, full, sizeof(full))) != 0)
        return e;
    return fs_resolve(fs, full, flags, mode, fd);
}

/*
 * Splits the client's @p path into its parent directory, opened (O_PATH)
 * in *@p dfd, and its last name in @p name. EINVAL when the last name is
 * "." or ".." or the path is the root: operations that create or remove
 * names need a real one.
 */
static int
fs_split(const struct amk_sftp_fs *fs, const char *path, int *dfd, char *name, size_t cap)
{
    char full[FS_PATH_MAX];
    char *slash;
    size_t len;
    int e;

    *dfd = -1;
    if ((e = fs_full(fs, path, full, sizeof(full))) != 0)
        return e;
    len = strlen(full);
    while (len > 1 && full[len - 1] == '/')
        full[--len] = '\0';
    slash = strrchr(full, '/');
    if (slash == NULL)
        return EINVAL;
    if (strlen(slash + 1) >= cap)
        return ENAMETOOLONG;
    memcpy(name, slash + 1, strlen(slash + 1) + 1);
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return EINVAL;
    if (slash == full)
        slash[1] = '\0';        /* parent is "/" */
    else
        slash[0] = '\0';
    return fs_resolve(fs, full, O_PATH | O_DIRECTORY, 0, dfd);
}

static void
close_fd(int fd)
{
    if (fd >= 0)
        (void)close(fd);
}

static void
proc_path(int fd, char *out, size_t cap)
{
    (void)snprintf(out, cap, "/proc/self/fd/%d", fd);
}

/* --- Attributes ------------------------------------------------------------- */

static void
attrs_from_stat(const struct stat *st, struct amk_sftp_attrs *a)
{
    memset(a, 0, sizeof(*a));
    /* draft-02 §5: size, uid/gid, permissions (st_mode), times (32 bits) */
    a->flags = AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_UIDGID | AMK_SFTP_ATTR_PERMISSIONS |
        AMK_SFTP_ATTR_ACMODTIME;
    a->size = (uint64_t)st->st_size;
    a->uid = (uint32_t)st->st_uid;
    a->gid = (uint32_t)st->st_gid;
    a->permissions = (uint32_t)st->st_mode;
    a->atime = (uint32_t)st->st_atime;
    a->mtime = (uint32_t)st->st_mtime;
}

static int
stat_fd(int fd, struct amk_sftp_attrs *a)
{
    struct stat st;

    if (fstatat(fd, "", &st, AT_EMPTY_PATH) != 0)
        return errno;
    attrs_from_stat(&st, a);
    return 0;
}

/*
 * The mode bits a client may set. Confined: permissions and sticky, no
 * set-user-ID or set-group-ID: the root directory promises the client
 * stays inside it, and a set-id file planted there (root-owned, when the
 * server runs as root) would run with its owner's rights for anyone on
 * the host. Unconfined, the process's own rights are the policy, as with
 * OpenSSH's sftp-server (a user may mark their own files set-id anyway,
 * and a client of an unconfined root server can already write anywhere).
 */
static mode_t
fs_mode(const struct amk_sftp_fs *fs, uint32_t permissions)
{
    return (mode_t)(permissions & (fs->root_fd >= 0 ? 01777u : 07777u));
}

/*
 * Confined, UIDGID may only restate the owner and group of @p fd's object
 * (the link itself for an O_PATH | O_NOFOLLOW one): a server running as
 * root would otherwise give files inside the root to any user, or take
 * them. EPERM (PERMISSION_DENIED) for a change; checked before anything
 * of the request is applied. Unconfined: as above, the kernel decides.
 */
static int
fs_owner_check(const struct amk_sftp_fs *fs, int fd, const struct amk_sftp_attrs *a)
{
    struct stat st;

    if (fs->root_fd < 0 || !(a->flags & AMK_SFTP_ATTR_UIDGID))
        return 0;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
        return errno;
    return (uint32_t)st.st_uid == a->uid && (uint32_t)st.st_gid == a->gid ? 0 : EPERM;
}

/*
 * Applies @p a to the object of @p fd (an O_PATH or open descriptor that
 * is not a symlink) through /proc/self/fd, in OpenSSH's order: size,
 * permissions, times, owner.
 */
static int
apply_attrs(const struct amk_sftp_fs *fs, int fd, const struct amk_sftp_attrs *a)
{
    char pp[PROC_FD_MAX];
    int e;

    if ((e = fs_owner_check(fs, fd, a)) != 0)
        return e;
    proc_path(fd, pp, sizeof(pp));
    if ((a->flags & AMK_SFTP_ATTR_SIZE) && truncate(pp, (off_t)a->size) != 0)
        return errno;
    if ((a->flags & AMK_SFTP_ATTR_PERMISSIONS) && chmod(pp, fs_mode(fs, a->permissions)) != 0)
        return errno;
    if (a->flags & AMK_SFTP_ATTR_ACMODTIME) {
        struct timespec ts[2] = { { .tv_sec = a->atime }, { .tv_sec = a->mtime } };

        if (utimensat(AT_FDCWD, pp, ts, 0) != 0)
            return errno;
    }
    if ((a->flags & AMK_SFTP_ATTR_UIDGID) &&
        fchownat(fd, "", (uid_t)a->uid, (gid_t)a->gid, AT_EMPTY_PATH) != 0)
        return errno;
    return 0;
}

/* --- ls -l ------------------------------------------------------------------ */

static void
mode_string(mode_t m, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";

    switch (m & S_IFMT) {
    case S_IFDIR: out[0] = 'd'; break;
    case S_IFLNK: out[0] = 'l'; break;
    case S_IFCHR: out[0] = 'c'; break;
    case S_IFBLK: out[0] = 'b'; break;
    case S_IFIFO: out[0] = 'p'; break;
    case S_IFSOCK: out[0] = 's'; break;
    default: out[0] = '-'; break;
    }
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
    if (m & S_ISUID)
        out[3] = (m & S_IXUSR) ? 's' : 'S';
    if (m & S_ISGID)
        out[6] = (m & S_IXGRP) ? 's' : 'S';
    if (m & S_ISVTX)
        out[9] = (m & S_IXOTH) ? 't' : 'T';
    out[10] = '\0';
}

static const char *
owner_name(struct amk_sftp_fs *fs, uint32_t uid)
{
    struct passwd pw, *res = NULL;
    char buf[1024];

    if (!fs->c_uid_ok || fs->c_uid != uid) {
        if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
            (void)snprintf(fs->c_user, sizeof(fs->c_user), "%s", res->pw_name);
        else
            (void)snprintf(fs->c_user, sizeof(fs->c_user), "%u", uid);
        fs->c_uid = uid;
        fs->c_uid_ok = 1;
    }
    return fs->c_user;
}

static const char *
group_name_of(struct amk_sftp_fs *fs, uint32_t gid)
{
    struct group gr, *res = NULL;
    char buf[1024];

    if (!fs->c_gid_ok || fs->c_gid != gid) {
        if (getgrgid_r((gid_t)gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
            (void)snprintf(fs->c_group, sizeof(fs->c_group), "%s", res->gr_name);
        else
            (void)snprintf(fs->c_group, sizeof(fs->c_group), "%u", gid);
        fs->c_gid = gid;
        fs->c_gid_ok = 1;
    }
    return fs->c_group;
}

/* The long name of a READDIR entry as OpenSSH's sftp-server writes it
 * (`ls -l`: mode, links, owner, group, size, date, name). */
static void
long_name(struct amk_sftp_fs *fs, const char *name, const struct stat *st, char *out,
    size_t cap)
{
    char mode[11], date[32];
    const char *user = owner_name(fs, (uint32_t)st->st_uid);
    struct tm tm;
    time_t now = time(NULL);
    int ulen, glen;
    const char *group;

    mode_string(st->st_mode, mode);
    date[0] = '\0';
    if (localtime_r(&st->st_mtime, &tm) != NULL) {
        size_t n;

        if (st->st_mtime + SIX_MONTHS > now && st->st_mtime < now + SIX_MONTHS)
            n = strftime(date, sizeof(date), "%b %e %H:%M", &tm);
        else
            n = strftime(date, sizeof(date), "%b %e  %Y", &tm);
        if (n == 0)
            date[0] = '\0';
    }
    ulen = (int)strlen(user) > 8 ? (int)strlen(user) : 8;
    /* owner_name's cache entry stays valid while group_name_of runs */
    group = group_name_of(fs, (uint32_t)st->st_gid);
    glen = (int)strlen(group) > 8 ? (int)strlen(group) : 8;
    (void)snprintf(out, cap, "%s %3u %-*s %-*s %8llu %s %s", mode, (unsigned)st->st_nlink,
        ulen, user, glen, group, (unsigned long long)st->st_size, date, name);
}

/* --- The shared budget of descriptors --------------------------------------- */

void
amk_sftp_fs_set_budget(struct amk_sftp_fs *fs, struct amk_sftp_fs_budget *b)
{
    fs->budget = b;
}

/* Takes one open file or directory from the budget; EMFILE when none is left. */
static int
budget_take(struct amk_sftp_fs *fs)
{
    struct amk_sftp_fs_budget *b = fs->budget;

    if (b == NULL)
        return 0;
    if (b->open >= b->max()) {
        if (!b->told && b->refused != NULL)
            b->refused(b->user, b->open);
        b->told = 1;
        return EMFILE;
    }
    b->open++;
    return 0;
}

static void
budget_give(struct amk_sftp_fs *fs)
{
    struct amk_sftp_fs_budget *b = fs->budget;

    if (b == NULL)
        return;
    if (b->open > 0)
        b->open--;
    if (b->open < b->max() / 2)
        b->told = 0;    /* a later shortage is news again */
}

/* --- Operations -------------------------------------------------------------- */

static int
fs_open(void *user, const char *path, uint32_t pflags, const struct amk_sftp_attrs *a,
    void **fh)
{
    struct amk_sftp_fs *fs = user;
    struct fs_file *f;
    struct stat st;
    mode_t mode = 0666;
    int flags, fd, e, fl;

    /* draft-02 §6.3: pflags to open(2) flags. */
    if ((pflags & AMK_SFTP_READ) && (pflags & AMK_SFTP_WRITE))
        flags = O_RDWR;
    else if (pflags & AMK_SFTP_WRITE)
        flags = O_WRONLY;
    else
        flags = O_RDONLY;
    if (pflags & AMK_SFTP_APPEND)
        flags |= O_APPEND;
    if (pflags & AMK_SFTP_CREAT)
        flags |= O_CREAT;
    if (pflags & AMK_SFTP_TRUNC)
        flags |= O_TRUNC;
    if (pflags & AMK_SFTP_EXCL)
        flags |= O_EXCL;
    if (a->flags & AMK_SFTP_ATTR_PERMISSIONS)
        mode = fs_mode(fs, a->permissions);
    if ((e = budget_take(fs)) != 0)
        return e;
    if ((f = malloc(sizeof(*f))) == NULL) {
        budget_give(fs);
        return ENOMEM;
    }
    /* O_NONBLOCK: opening a FIFO must not hang the server. It stays for
     * everything but a regular file: a read of a FIFO or of a character
     * device with nothing to give (a tty, /dev/kmsg) answers EAGAIN
     * instead of stopping the event loop. A regular file never waits for
     * data: there the flag is dropped, so its I/O is plain. */
    if ((e = fs_open_path(fs, path, flags | O_NONBLOCK, mode, &fd)) != 0) {
        free(f);
        budget_give(fs);
        return e;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (fl = fcntl(fd, F_GETFL)) >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    f->fd = fd;
    *fh = f;
    return 0;
}

static int
fs_close(void *user, void *fh)
{
    struct fs_file *f = fh;
    int e = 0;

    budget_give(user);      /* the engine drops the handle whatever close answers */
    if (close(f->fd) != 0)
        e = errno;
    free(f);
    return e;
}

static int
fs_pread(void *user, void *fh, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct fs_file *f = fh;
    size_t done = 0;
    ssize_t n;

    (void)user;
    *got = 0;
    if (off > (uint64_t)INT64_MAX)
        return EINVAL;
    /* Fill the request when the file has the bytes (fewer round trips),
     * but a device that has no more for now (EAGAIN: it is non-blocking,
     * see fs_open) ends the fill with what it gave; with nothing, the
     * READ fails and the client may ask again. */
    while (done < len) {
        n = pread(f->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (done > 0)
                break;
            return errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

static int
fs_pwrite(void *user, void *fh, const void *buf, size_t len, uint64_t off)
{
    struct fs_file *f = fh;
    size_t done = 0;
    ssize_t n;

    (void)user;
    if (off > (uint64_t)INT64_MAX)
        return EINVAL;
    while (done < len) {
        n = pwrite(f->fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return EIO;
        done += (size_t)n;
    }
    return 0;
}

static int
fs_fstat(void *user, void *fh, struct amk_sftp_attrs *a)
{
    (void)user;
    return stat_fd(((struct fs_file *)fh)->fd, a);
}

static int
fs_fsetstat(void *user, void *fh, const struct amk_sftp_attrs *a)
{
    struct amk_sftp_fs *fs = user;
    int fd = ((struct fs_file *)fh)->fd, e;

    if ((e = fs_owner_check(fs, fd, a)) != 0)
        return e;
    if ((a->flags & AMK_SFTP_ATTR_SIZE) && ftruncate(fd, (off_t)a->size) != 0)
        return errno;
    if ((a->flags & AMK_SFTP_ATTR_PERMISSIONS) && fchmod(fd, fs_mode(fs, a->permissions)) != 0)
        return errno;
    if (a->flags & AMK_SFTP_ATTR_ACMODTIME) {
        struct timespec ts[2] = { { .tv_sec = a->atime }, { .tv_sec = a->mtime } };

        if (futimens(fd, ts) != 0)
            return errno;
    }
    if ((a->flags & AMK_SFTP_ATTR_UIDGID) && fchown(fd, (uid_t)a->uid, (gid_t)a->gid) != 0)
        return errno;
    return 0;
}

static int
fs_opendir(void *user, const char *path, void **dh)
{
    struct fs_dir *d;
    int fd, e;

    if ((e = budget_take(user)) != 0)
        return e;
    if ((e = fs_open_path(user, path, O_RDONLY | O_DIRECTORY, 0, &fd)) != 0) {
        budget_give(user);
        return e;
    }
    if ((d = malloc(sizeof(*d))) == NULL) {
        close_fd(fd);
        budget_give(user);
        return ENOMEM;
    }
    if ((d->d = fdopendir(fd)) == NULL) {
        e = errno;
        close_fd(fd);
        free(d);
        budget_give(user);
        return e;
    }
    *dh = d;
    return 0;
}

/*
 * lstat of entry @p name of @p d. ".." of the confinement root is the
 * root itself, as resolution sees it: the real parent is outside the
 * client's tree and its attributes are none of its business.
 */
static int
entry_stat(const struct amk_sftp_fs *fs, struct fs_dir *d, const char *name, struct stat *st)
{
    if (fs->root_fd >= 0 && strcmp(name, "..") == 0 && fstat(dirfd(d->d), st) == 0 &&
        st->st_dev == fs->root_dev && st->st_ino == fs->root_ino)
        return 0;
    return fstatat(dirfd(d->d), name, st, AT_SYMLINK_NOFOLLOW);
}

static int
fs_readdir(void *user, void *dh, struct amk_sftps_dirent *ent, int *eof)
{
    struct amk_sftp_fs *fs = user;
    struct fs_dir *d = dh;
    struct dirent *de;
    struct stat st;

    *eof = 0;
    for (;;) {
        errno = 0;
        if ((de = readdir(d->d)) == NULL) {
            if (errno != 0)
                return errno;
            *eof = 1;
            return 0;
        }
        if (strlen(de->d_name) <= AMK_SFTPS_NAME_MAX)
            break;
    }
    memcpy(ent->name, de->d_name, strlen(de->d_name) + 1);
    /* the entry itself, never what a symlink points at */
    if (entry_stat(fs, d, de->d_name, &st) == 0) {
        attrs_from_stat(&st, &ent->attrs);
        long_name(fs, de->d_name, &st, ent->longname, sizeof(ent->longname));
    } else {
        memset(&ent->attrs, 0, sizeof(ent->attrs));
        (void)snprintf(ent->longname, sizeof(ent->longname), "%s", de->d_name);
    }
    return 0;
}

static int
fs_closedir(void *user, void *dh)
{
    struct fs_dir *d = dh;
    int e = 0;

    budget_give(user);
    if (closedir(d->d) != 0)
        e = errno;
    free(d);
    return e;
}

static int
fs_stat(void *user, const char *path, int follow, struct amk_sftp_attrs *a)
{
    int fd, e;

    /* O_PATH | O_NOFOLLOW gives the link itself (lstat). */
    if ((e = fs_open_path(user, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, &fd)) != 0)
        return e;
    e = stat_fd(fd, a);
    close_fd(fd);
    return e;
}

static int
fs_setstat(void *user, const char *path, int follow, const struct amk_sftp_attrs *a)
{
    struct stat st;
    char name[NAME_MAX + 1];
    int fd = -1, dfd = -1, e;

    if ((e = fs_open_path(user, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, &fd)) != 0)
        return e;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH) != 0) {
        e = errno;
        goto out;
    }
    if (!S_ISLNK(st.st_mode)) {
        e = apply_attrs(user, fd, a);
        goto out;
    }
    /* lsetstat on a symlink: Linux has no link modes or sizes; times and
     * owner go to the link through its parent (AT_SYMLINK_NOFOLLOW). */
    if (a->flags & (AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_PERMISSIONS)) {
        e = EOPNOTSUPP;
        goto out;
    }
    if ((e = fs_owner_check(user, fd, a)) != 0)
        goto out;
    if ((e = fs_split(user, path, &dfd, name, sizeof(name))) != 0)
        goto out;
    if (a->flags & AMK_SFTP_ATTR_ACMODTIME) {
        struct timespec ts[2] = { { .tv_sec = a->atime }, { .tv_sec = a->mtime } };

        if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
            e = errno;
            goto out;
        }
    }
    if ((a->flags & AMK_SFTP_ATTR_UIDGID) &&
        fchownat(fd, "", (uid_t)a->uid, (gid_t)a->gid, AT_EMPTY_PATH) != 0)
        e = errno;
out:
    close_fd(fd);
    close_fd(dfd);
    return e;
}

static int
fs_remove(void *user, const char *path)
{
    char name[NAME_MAX + 1];
    int dfd, e;

    if ((e = fs_split(user, path, &dfd, name, sizeof(name))) == 0 && unlinkat(dfd, name, 0) != 0)
        e = errno;
    close_fd(dfd);
    return e;
}

static int
fs_mkdir(void *user, const char *path, const struct amk_sftp_attrs *a)
{
    char name[NAME_MAX + 1];
    mode_t mode = (a->flags & AMK_SFTP_ATTR_PERMISSIONS) ? fs_mode(user, a->permissions) : 0777;
    int dfd, e;

    if ((e = fs_split(user, path, &dfd, name, sizeof(name))) == 0 && mkdirat(dfd, name, mode) != 0)
        e = errno;
    close_fd(dfd);
    return e;
}

static int
fs_rmdir(void *user, const char *path)
{
    char name[NAME_MAX + 1];
    int dfd, e;

    if ((e = fs_split(user, path, &dfd, name, sizeof(name))) == 0 &&
        unlinkat(dfd, name, AT_REMOVEDIR) != 0)
        e = errno;
    close_fd(dfd);
    return e;
}

/* The client's view of the object behind @p fd, from its real path. */
static int
fs_view_of_fd(const struct amk_sftp_fs *fs, int fd, char *out, size_t cap)
{
    char pp[PROC_FD_MAX], real[PATH_MAX];
    size_t rl;
    ssize_t n;

    proc_path(fd, pp, sizeof(pp));
    if ((n = readlink(pp, real, sizeof(real) - 1)) < 0)
        return errno;
    real[n] = '\0';
    if (real[0] != '/')
        return ENOENT;          /* not a path (anon inode...) */
    if (fs->root_fd >= 0 && strcmp(fs->root_real, "/") != 0) {
        rl = strlen(fs->root_real);
        if (strncmp(real, fs->root_real, rl) != 0 || (real[rl] != '\0' && real[rl] != '/'))
            return ENOENT;      /* moved out of the root meanwhile */
        if (real[rl] == '\0')
            return snprintf(out, cap, "/") >= (int)cap ? ENAMETOOLONG : 0;
        return snprintf(out, cap, "%s", real + rl) >= (int)cap ? ENAMETOOLONG : 0;
    }
    return snprintf(out, cap, "%s", real) >= (int)cap ? ENAMETOOLONG : 0;
}

static int
fs_realpath(void *user, const char *path, char *out, size_t cap)
{
    struct amk_sftp_fs *fs = user;
    char name[NAME_MAX + 1], parent[AMK_SFTPS_PATH_MAX + 1];
    int fd, e;
    size_t pl;

    if ((e = fs_open_path(fs, path, O_PATH, 0, &fd)) == 0) {
        e = fs_view_of_fd(fs, fd, out, cap);
        close_fd(fd);
        return e;
    }
    if (e != ENOENT)
        return e;
    /* A name that does not exist yet (a put's target): its parent's
     * canonical path and the name. */
    if (fs_split(fs, path, &fd, name, sizeof(name)) != 0) {
        close_fd(fd);
        return ENOENT;
    }
    e = fs_view_of_fd(fs, fd, parent, sizeof(parent));
    close_fd(fd);
    if (e != 0)
        return e;
    pl = strlen(parent);
    if (snprintf(out, cap, "%s%s%s", parent, pl > 0 && parent[pl - 1] == '/' ? "" : "/",
        name) >= (int)cap)
        return ENAMETOOLONG;
    return 0;
}

static int
fs_rename(void *user, const char *from, const char *to, int replace)
{
    char n1[NAME_MAX + 1], n2[NAME_MAX + 1];
    int d1 = -1, d2 = -1, e;
    struct stat st;

    if ((e = fs_split(user, from, &d1, n1, sizeof(n1))) != 0 ||
        (e = fs_split(user, to, &d2, n2, sizeof(n2))) != 0)
        goto out;
    if (renameat2(d1, n1, d2, n2, replace ? 0 : RENAME_NOREPLACE) == 0)
        goto out;
    e = errno;
    /* A filesystem without RENAME_NOREPLACE: check, then rename (racy,
     * but never an escape: both names are under their resolved parents). */
    if (!replace && e == EINVAL) {
        if (fstatat(d2, n2, &st, AT_SYMLINK_NOFOLLOW) == 0)
            e = EEXIST;
        else if (renameat(d1, n1, d2, n2) == 0)
            e = 0;
        else
            e = errno;
    }
out:
    close_fd(d1);
    close_fd(d2);
    return e;
}

static int
fs_readlink(void *user, const char *path, char *out, size_t cap)
{
    ssize_t n;
    int fd, e;

    if ((e = fs_open_path(user, path, O_PATH | O_NOFOLLOW, 0, &fd)) != 0)
        return e;
    /* readlinkat with "" reads the link an O_PATH descriptor stands for.
     * The target is given as stored: inside the root it means the same
     * to the client as to us (resolution is confined either way). */
    n = readlinkat(fd, "", out, cap - 1);
    e = n < 0 ? errno : 0;
    close_fd(fd);
    if (e == 0) {
        if ((size_t)n >= cap - 1)
            return ENAMETOOLONG;
        out[n] = '\0';
    }
    return e;
}

static int
fs_symlink(void *user, const char *target, const char *linkpath)
{
    char name[NAME_MAX + 1];
    int dfd, e;

    if ((e = fs_split(user, linkpath, &dfd, name, sizeof(name))) == 0 &&
        symlinkat(target, dfd, name) != 0)
        e = errno;
    close_fd(dfd);
    return e;
}

static int
fs_hardlink(void *user, const char *from, const char *to)
{
    char n1[NAME_MAX + 1], n2[NAME_MAX + 1];
    int d1 = -1, d2 = -1, e;

    /* flags 0: a symlink is linked itself, never followed */
    if ((e = fs_split(user, from, &d1, n1, sizeof(n1))) == 0 &&
        (e = fs_split(user, to, &d2, n2, sizeof(n2))) == 0 &&
        linkat(d1, n1, d2, n2, 0) != 0)
        e = errno;
    close_fd(d1);
    close_fd(d2);
    return e;
}

static void
statvfs_to(const struct statvfs *v, struct amk_sftp_statvfs *st)
{
    st->bsize = v->f_bsize;
    st->frsize = v->f_frsize;
    st->blocks = v->f_blocks;
    st->bfree = v->f_bfree;
    st->bavail = v->f_bavail;
    st->files = v->f_files;
    st->ffree = v->f_ffree;
    st->favail = v->f_favail;
    st->fsid = v->f_fsid;
    /* OpenSSH PROTOCOL §4.4: SSH_FXE_STATVFS_ST_RDONLY 1, ST_NOSUID 2 */
    st->flag = ((v->f_flag & ST_RDONLY) ? 1u : 0u) | ((v->f_flag & ST_NOSUID) ? 2u : 0u);
    st->namemax = v->f_namemax;
}

static int
fs_statvfs(void *user, const char *path, struct amk_sftp_statvfs *st)
{
    struct statvfs v;
    int fd, e;

    if ((e = fs_open_path(user, path, O_PATH, 0, &fd)) != 0)
        return e;
    if (fstatvfs(fd, &v) != 0)
        e = errno;
    else
        statvfs_to(&v, st);
    close_fd(fd);
    return e;
}

static int
fs_fstatvfs(void *user, void *fh, struct amk_sftp_statvfs *st)
{
    struct statvfs v;

    (void)user;
    if (fstatvfs(((struct fs_file *)fh)->fd, &v) != 0)
        return errno;
    statvfs_to(&v, st);
    return 0;
}

static int
fs_fsync(void *user, void *fh)
{
    (void)user;
    return fsync(((struct fs_file *)fh)->fd) != 0 ? errno : 0;
}

/* copy-data's checks: the source a regular file (a device or FIFO could
 * make the copy endless: /dev/zero with length 0) and the range neither
 * past the source's end nor overlapping itself; caps c->len. 0 or errno. */
static int
copy_check(int in, int out, struct amk_sftps_copy *c)
{
    struct stat st, st2;
    uint64_t avail;

    if (c->from_off > (uint64_t)INT64_MAX || c->to_off > (uint64_t)INT64_MAX)
        return EINVAL;
    if (fstat(in, &st) != 0 || fstat(out, &st2) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EINVAL;
    /* extensions-00 §7: length 0 copies to the end of the file. Any
     * length stops there too, at the size the source has now: the engine
     * checks when the request arrives, so a file copied onto its own tail
     * does not feed on what the copy wrote and never end. */
    avail = (uint64_t)st.st_size > c->from_off ? (uint64_t)st.st_size - c->from_off : 0;
    if (c->len == 0 || c->len > avail)
        c->len = avail;
    /* The same file with overlapping ranges: refused, as OpenSSH's
     * sftp-server refuses copying onto the same handle (and
     * copy_file_range(2) refuses overlaps). */
    if (c->len > 0 && st.st_dev == st2.st_dev && st.st_ino == st2.st_ino &&
        c->from_off < c->to_off + c->len && c->to_off < c->from_off + c->len)
        return EINVAL;
    return 0;
}

/* One chunk of at most @p want bytes: in the kernel (copy_file_range), or
 * through @p *buf where the kernel cannot (across filesystems...). The
 * bytes copied in *@p n, 0 at the source's end. 0 or errno. */
static int
copy_chunk(void *user, int in, int out, void *to, const struct amk_sftps_copy *c,
    size_t want, uint8_t **buf, ssize_t *n)
{
    off_t o1 = (off_t)c->from_off, o2 = (off_t)c->to_off;
    int e;

    for (;;) {
        if (*buf == NULL) {
            *n = copy_file_range(in, &o1, out, &o2, want, 0);
            /* 0 is the end of the source, or a filesystem that copies
             * nothing this way (some FUSE and virtual ones): pread tells */
            if (*n == 0 || (*n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                errno == EOPNOTSUPP))) {
                if ((*buf = malloc(COPY_CHUNK)) == NULL)
                    return ENOMEM;
                continue;
            }
        } else {
            *n = pread(in, *buf, want, o1);
            if (*n > 0 && (e = fs_pwrite(user, to, *buf, (size_t)*n, c->to_off)) != 0)
                return e;
        }
        if (*n >= 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

/* see copy_data in sftp_server.h: checks, then up to @p max bytes */
static int
fs_copy_data(void *user, void *from, void *to, struct amk_sftps_copy *c, uint64_t max)
{
    int in = ((struct fs_file *)from)->fd, out = ((struct fs_file *)to)->fd;
    uint8_t *buf = NULL;
    uint64_t left;
    int e;

    if ((e = copy_check(in, out, c)) != 0)
        return e;
    left = c->len < max ? c->len : max;
    while (left > 0) {
        size_t want = left > COPY_CHUNK ? COPY_CHUNK : (size_t)left;
        ssize_t n = 0;

        if ((e = copy_chunk(user, in, out, to, c, want, &buf, &n)) != 0)
            break;
        if (n == 0) {
            c->len = 0;         /* the source ended early (it shrank) */
            break;
        }
        c->from_off += (uint64_t)n;
        c->to_off += (uint64_t)n;
        c->len -= (uint64_t)n;
        left -= (uint64_t)n;
    }
    free(buf);
    return e;
}

static int
fs_home(void *user, const char *name, char *out, size_t cap)
{
    struct amk_sftp_fs *fs = user;
    struct passwd pw, *res = NULL;
    char buf[2048];

    if (name[0] == '\0')
        return snprintf(out, cap, "%s", fs->home) >= (int)cap ? ENAMETOOLONG : 0;
    /* Confined: other users' homes are not in the client's tree. */
    if (fs->root_fd >= 0)
        return ENOENT;
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return ENOENT;
    return snprintf(out, cap, "%s", res->pw_dir) >= (int)cap ? ENAMETOOLONG : 0;
}

static int
fs_user_name(void *user, uint32_t uid, char *out, size_t cap)
{
    struct passwd pw, *res = NULL;
    char buf[1024];

    (void)user;
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return ENOENT;
    return snprintf(out, cap, "%s", res->pw_name) >= (int)cap ? ENAMETOOLONG : 0;
}

static int
fs_group_name(void *user, uint32_t gid, char *out, size_t cap)
{
    struct group gr, *res = NULL;
    char buf[1024];

    (void)user;
    if (getgrgid_r((gid_t)gid, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
        return ENOENT;
    return snprintf(out, cap, "%s", res->gr_name) >= (int)cap ? ENAMETOOLONG : 0;
}

static const struct amk_sftps_fs_ops FS_OPS = {
    .open = fs_open,
    .close = fs_close,
    .pread = fs_pread,
    .pwrite = fs_pwrite,
    .fstat = fs_fstat,
    .fsetstat = fs_fsetstat,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .closedir = fs_closedir,
    .stat = fs_stat,
    .setstat = fs_setstat,
    .remove = fs_remove,
    .mkdir = fs_mkdir,
    .rmdir = fs_rmdir,
    .realpath = fs_realpath,
    .rename = fs_rename,
    .readlink = fs_readlink,
    .symlink = fs_symlink,
    .hardlink = fs_hardlink,
    .statvfs = fs_statvfs,
    .fstatvfs = fs_fstatvfs,
    .fsync = fs_fsync,
    .copy_data = fs_copy_data,
    .home = fs_home,
    .user_name = fs_user_name,
    .group_name = fs_group_name,
};

const struct amk_sftps_fs_ops *
amk_sftp_fs_ops(void)
{
    return &FS_OPS;
}

/* @p fs's root_real: the path of its root descriptor as the kernel names
 * it now, so that a root renamed before this session still maps back. */
static int
fs_root_real(struct amk_sftp_fs *fs)
{
    char pp[PROC_FD_MAX];
    ssize_t n;

    proc_path(fs->root_fd, pp, sizeof(pp));
    if ((n = readlink(pp, fs->root_real, sizeof(fs->root_real))) < 0)
        return errno;
    if ((size_t)n == sizeof(fs->root_real))
        return ENAMETOOLONG;    /* maybe cut short: no prefix to trust */
    fs->root_real[n] = '\0';
    return fs->root_real[0] == '/' ? 0 : ENOENT;
}

int
amk_sftp_fs_new(struct amk_sftp_fs **out, const char *root, const char *start, char *err,
    size_t err_cap)
{
    int fd = -1, r;

    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (root != NULL && (fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        if (err != NULL)
            (void)snprintf(err, err_cap, "root %s: %s", root, strerror(errno));
        return AMK_EINVAL;
    }
    r = amk_sftp_fs_new_at(out, fd, start, err, err_cap);
    close_fd(fd);
    return r;
}

int
amk_sftp_fs_new_at(struct amk_sftp_fs **out, int root_fd, const char *start, char *err,
    size_t err_cap)
{
    struct amk_sftp_fs *fs = NULL;
    char cwd[PATH_MAX], canon[AMK_SFTPS_PATH_MAX + 1];
    struct stat rst;
    int r = AMK_EINTERNAL, fd = -1, e;

    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((fs = calloc(1, sizeof(*fs))) == NULL)
        return AMK_ENOMEM;
    fs->root_fd = -1;
    if (root_fd >= 0) {
        /* our own descriptor of the caller's: the confinement is that
         * directory, whatever its path names later */
        if ((fs->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0)) < 0 || fstat(fs->root_fd, &rst) != 0)
            e = errno;
        else if (!S_ISDIR(rst.st_mode))
            e = ENOTDIR;
        else
            e = fs_root_real(fs);
        if (e != 0) {
            if (err != NULL)
                (void)snprintf(err, err_cap, "root: %s", strerror(e));
            r = AMK_EINVAL;
            goto out;
        }
        fs->root_dev = rst.st_dev;
        fs->root_ino = rst.st_ino;
        (void)snprintf(fs->home, sizeof(fs->home), "/");
        /* probe openat2: the confinement depends on it */
        if ((e = fs_resolve(fs, "/", O_PATH | O_DIRECTORY, 0, &fd)) != 0) {
            if (err != NULL)
                (void)snprintf(err, err_cap, "openat2 on %s: %s", fs->root_real, strerror(e));
            r = e == ENOSYS ? AMK_ENOTSUP : AMK_EINVAL;
            goto out;
        }
        close_fd(fd);
        fd = -1;
    } else {
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            (void)snprintf(cwd, sizeof(cwd), "/");
        (void)snprintf(fs->home, sizeof(fs->home), "%s", cwd);
    }
    if (start != NULL) {
        if (strlen(start) > AMK_SFTPS_PATH_MAX) {
            r = AMK_EINVAL;
            goto out;
        }
        /* relative to the current home (the root, or the working dir) */
        if ((e = fs_realpath(fs, start, canon, sizeof(canon))) != 0 ||
            (e = fs_open_path(fs, canon, O_PATH | O_DIRECTORY, 0, &fd)) != 0) {
            if (err != NULL)
                (void)snprintf(err, err_cap, "start directory %s: %s", start, strerror(e));
            r = AMK_EINVAL;
            goto out;
        }
        close_fd(fd);
        fd = -1;
        (void)snprintf(fs->home, sizeof(fs->home), "%s", canon);
    }
    *out = fs;
    fs = NULL;
    r = AMK_OK;
out:
    close_fd(fd);
    amk_sftp_fs_free(fs);
    return r;
}

void
amk_sftp_fs_free(struct amk_sftp_fs *fs)
{
    if (fs == NULL)
        return;
    close_fd(fs->root_fd);
    free(fs);
}
