/*
 * The server-wide budget of SFTP handles: a backend that forwards every
 * operation to the POSIX one (sftp_fs.c) and counts the files and
 * directories its sessions hold open. Each SFTP session may open
 * AMK_SFTPS_HANDLES_DEFAULT handles, but a few sessions together could
 * then take every descriptor of the process (four sessions of 256 under
 * `ulimit -n 1024`), and the server could no longer accept connections or
 * start sessions. Past the budget, OPEN and OPENDIR fail with EMFILE (a
 * FAILURE status, "Too many open files") until some handle is closed.
 *
 * The budget is half of RLIMIT_NOFILE, read at each open (so a limit
 * changed with prlimit(1) counts at once); the other half is for what
 * the server itself needs: a socket per connection, a pty or pipes and a
 * pidfd per session process, the root descriptor of each confined SFTP
 * session and the descriptors an operation holds while it resolves a
 * path.
 */
#include "server/server_int.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "server/sftp_fs.h"

/* Every member of the ops table is forwarded below; a new one needs its
 * forwarder (or the copy made in init would call it with our user). */
_Static_assert(sizeof(struct amk_sftps_fs_ops) == 26 * sizeof(int (*)(void)),
    "a new amk_sftps_fs_ops member needs its forwarder in server_sftp_budget.c");

size_t
amk_srv_sftp_handles_max(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur / 2 > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)(rl.rlim_cur / 2);
}

/* Takes one handle from the budget; EMFILE when none is left. */
static int
take(struct srv_sftp_budget *b)
{
    struct amk_server *s = b->srv;

    if (s->sftp_handles >= amk_srv_sftp_handles_max()) {
        if (!s->sftp_budget_logged)
            amk_log(&s->log, AMK_LOG_WARN, "sftp: %zu handles open in all sessions, "
                "half of the descriptor limit: opens refused until some are closed",
                s->sftp_handles);
        s->sftp_budget_logged = 1;
        return EMFILE;
    }
    s->sftp_handles++;
    return 0;
}

static void
give_back(struct srv_sftp_budget *b)
{
    struct amk_server *s = b->srv;

    if (s->sftp_handles > 0)
        s->sftp_handles--;
    if (s->sftp_handles < amk_srv_sftp_handles_max() / 2)
        s->sftp_budget_logged = 0;  /* a later shortage is news again */
}

#define B(u) ((struct srv_sftp_budget *)(u))
#define FS(u) (B(u)->fs)
#define OPS (amk_sftp_fs_ops())

static int
b_open(void *u, const char *path, uint32_t pflags, const struct amk_sftp_attrs *attrs,
    void **fh)
{
    int e;

    if ((e = take(B(u))) != 0)
        return e;
    if ((e = OPS->open(FS(u), path, pflags, attrs, fh)) != 0)
        give_back(B(u));
    return e;
}

static int
b_close(void *u, void *fh)
{
    /* the engine drops the handle whatever close answers */
    give_back(B(u));
    return OPS->close(FS(u), fh);
}

static int
b_opendir(void *u, const char *path, void **dh)
{
    int e;

    if ((e = take(B(u))) != 0)
        return e;
    if ((e = OPS->opendir(FS(u), path, dh)) != 0)
        give_back(B(u));
    return e;
}

static int
b_closedir(void *u, void *dh)
{
    give_back(B(u));
    return OPS->closedir(FS(u), dh);
}

static int
b_pread(void *u, void *fh, void *buf, size_t len, uint64_t off, size_t *got)
{
    return OPS->pread(FS(u), fh, buf, len, off, got);
}

static int
b_pwrite(void *u, void *fh, const void *buf, size_t len, uint64_t off)
{
    return OPS->pwrite(FS(u), fh, buf, len, off);
}

static int
b_fstat(void *u, void *fh, struct amk_sftp_attrs *attrs)
{
    return OPS->fstat(FS(u), fh, attrs);
}

static int
b_fsetstat(void *u, void *fh, const struct amk_sftp_attrs *attrs)
{
    return OPS->fsetstat(FS(u), fh, attrs);
}

static int
b_readdir(void *u, void *dh, struct amk_sftps_dirent *e, int *eof)
{
    return OPS->readdir(FS(u), dh, e, eof);
}

static int
b_stat(void *u, const char *path, int follow, struct amk_sftp_attrs *attrs)
{
    return OPS->stat(FS(u), path, follow, attrs);
}

static int
b_setstat(void *u, const char *path, int follow, const struct amk_sftp_attrs *attrs)
{
    return OPS->setstat(FS(u), path, follow, attrs);
}

static int
b_remove(void *u, const char *path)
{
    return OPS->remove(FS(u), path);
}

static int
b_mkdir(void *u, const char *path, const struct amk_sftp_attrs *attrs)
{
    return OPS->mkdir(FS(u), path, attrs);
}

static int
b_rmdir(void *u, const char *path)
{
    return OPS->rmdir(FS(u), path);
}

static int
b_realpath(void *u, const char *path, char *out, size_t cap)
{
    return OPS->realpath(FS(u), path, out, cap);
}

static int
b_rename(void *u, const char *from, const char *to, int replace)
{
    return OPS->rename(FS(u), from, to, replace);
}

static int
b_readlink(void *u, const char *path, char *out, size_t cap)
{
    return OPS->readlink(FS(u), path, out, cap);
}

static int
b_symlink(void *u, const char *target, const char *linkpath)
{
    return OPS->symlink(FS(u), target, linkpath);
}

static int
b_hardlink(void *u, const char *from, const char *to)
{
    return OPS->hardlink(FS(u), from, to);
}

static int
b_statvfs(void *u, const char *path, struct amk_sftp_statvfs *st)
{
    return OPS->statvfs(FS(u), path, st);
}

static int
b_fstatvfs(void *u, void *fh, struct amk_sftp_statvfs *st)
{
    return OPS->fstatvfs(FS(u), fh, st);
}

static int
b_fsync(void *u, void *fh)
{
    return OPS->fsync(FS(u), fh);
}

static int
b_copy_data(void *u, void *from, uint64_t from_off, uint64_t len, void *to, uint64_t to_off)
{
    return OPS->copy_data(FS(u), from, from_off, len, to, to_off);
}

static int
b_home(void *u, const char *name, char *out, size_t cap)
{
    return OPS->home(FS(u), name, out, cap);
}

static int
b_user_name(void *u, uint32_t uid, char *out, size_t cap)
{
    return OPS->user_name(FS(u), uid, out, cap);
}

static int
b_group_name(void *u, uint32_t gid, char *out, size_t cap)
{
    return OPS->group_name(FS(u), gid, out, cap);
}

/* An op the POSIX backend leaves NULL stays NULL, so the engine still
 * answers it OP_UNSUPPORTED and does not advertise its extension. */
#define FWD(name) b->ops.name = base->name != NULL ? b_##name : NULL

void
amk_srv_sftp_budget_init(struct srv_sftp_budget *b, struct amk_server *s,
    struct amk_sftp_fs *fs)
{
    const struct amk_sftps_fs_ops *base = amk_sftp_fs_ops();

    memset(b, 0, sizeof(*b));
    b->srv = s;
    b->fs = fs;
    FWD(open);
    FWD(close);
    FWD(pread);
    FWD(pwrite);
    FWD(fstat);
    FWD(fsetstat);
    FWD(opendir);
    FWD(readdir);
    FWD(closedir);
    FWD(stat);
    FWD(setstat);
    FWD(remove);
    FWD(mkdir);
    FWD(rmdir);
    FWD(realpath);
    FWD(rename);
    FWD(readlink);
    FWD(symlink);
    FWD(hardlink);
    FWD(statvfs);
    FWD(fstatvfs);
    FWD(fsync);
    FWD(copy_data);
    FWD(home);
    FWD(user_name);
    FWD(group_name);
}
