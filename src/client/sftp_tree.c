/*
 * Recursive SFTP transfers (amk_sftp_tree_get / amk_sftp_tree_put, see
 * amiko/sftp.h). The source tree is listed first into a flat list in
 * walk order (parents before children), so the progress callback can be
 * given totals for the whole tree; then each entry is made on the target
 * side: directories created, symlinks made again as symlinks, files
 * copied with amk_sftp_get / amk_sftp_put. A put writes ".NAME.amkpart"
 * and renames it over NAME once complete, so an interrupted put never
 * leaves a truncated file under the final name.
 *
 * A failing path is reported to the caller's error callback with the
 * server's message and skipped (a directory that cannot be made or read
 * takes its contents with it); a fatal error of the SFTP connection
 * stops everything.
 */
#include "client/sftp_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TREE_MAX_NODES ((size_t)16 * 1024 * 1024) /* listing bound: 16 M entries */

enum node_kind { NODE_FILE, NODE_DIR, NODE_LINK, NODE_OTHER };

struct node {
    char *rel;              /* path below the top, "" for the top itself */
    enum node_kind kind;
    uint64_t size;
    uint32_t mode;          /* permission bits */
    uint32_t atime, mtime;
    int have_mode, have_times;
    size_t parent;          /* index of the directory holding it; NO_PARENT for the top */
    int skip;               /* under a directory that failed */
    int made;               /* a directory that exists on the target now */
    int fresh;              /* a directory this transfer created (empty before it) */
};

#define NO_PARENT SIZE_MAX

struct tree_xfer {
    struct amk_sftp *s;
    struct amk_sftp_tree_opts o;
    struct node *v;
    size_t n, cap;
    struct amk_sftp_tree_progress prog;
    uint64_t base_done;     /* bytes of the files finished so far */
    int first_err;          /* the first failure that was skipped */
    int stop;               /* a code that ends the transfer now */
};

/* --- Helpers ----------------------------------------------------------- */

/* @p top joined with @p rel ("" gives @p top) in a new string. */
static char *
join(const char *top, const char *rel)
{
    size_t tl = strlen(top), rl = strlen(rel);
    char *p;

    if (rl == 0)
        return strdup(top);
    if ((p = malloc(tl + rl + 2)) == NULL)
        return NULL;
    memcpy(p, top, tl);
    if (tl > 0 && top[tl - 1] != '/')
        p[tl++] = '/';
    memcpy(p + tl, rel, rl + 1);
    return p;
}

/* ".NAME.amkpart" beside @p path, in a new string. */
static char *
part_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    size_t need = strlen(path) + 2 + sizeof(AMK_SFTP_TREE_PART_SUFFIX);
    char *p = malloc(need);

    if (p != NULL)
        snprintf(p, need, "%.*s.%s%s", (int)dl, path, path + dl, AMK_SFTP_TREE_PART_SUFFIX);
    return p;
}

/*
 * A failure on @p path: remembered, and told to the caller, who says
 * whether to go on. Sets x->stop (and returns it) when the transfer
 * must end: a fatal SFTP error, no error callback, or its refusal.
 */
static int
report(struct tree_xfer *x, const char *path, int code, const char *message)
{
    int r;

    if (code == AMK_EAGAIN) {
        /* the stream turned non-blocking mid-way (a callback returned
         * AMK_EAGAIN): not a failure of this path, and not resumable */
        amk_sftp_give_up_pending(x->s);     /* nobody will call it again */
        code = amk_error_set(&x->s->detail, AMK_ESTATE,
            "sftp: tree transfers need blocking mode (the stream returned AMK_EAGAIN)");
        if (x->first_err == AMK_OK)
            x->first_err = code;
        return x->stop = code;
    }
    if (x->first_err == AMK_OK)
        x->first_err = code;
    if (x->s->err != AMK_OK)
        return x->stop = x->s->err;
    if (x->o.on_error == NULL) {
        /* amk_sftp_last_error() says what stopped it (a refusal's detail is there already) */
        if (message != NULL && strcmp(message, amk_sftp_last_error(x->s)) != 0)
            amk_error_set(&x->s->detail, code, "sftp: %s: %s", path, message);
        return x->stop = code;
    }
    r = x->o.on_error(x->o.error_user, path, code, message);
    if (r != AMK_OK)
        x->stop = r;
    return r;
}

/* A refusal by the server on @p path, with its message. */
static int
report_remote(struct tree_xfer *x, const char *path, int code)
{
    char msg[AMK_ERROR_MSG_MAX];

    snprintf(msg, sizeof(msg), "%s", amk_sftp_last_error(x->s)[0] != '\0' ?
        amk_sftp_last_error(x->s) : amk_strerror(code));
    return report(x, path, code, msg);
}

/* A local failure on @p path (errno set). */
static int
report_local(struct tree_xfer *x, const char *path, const char *what)
{
    char msg[AMK_ERROR_MSG_MAX];

    snprintf(msg, sizeof(msg), "%s %s: %s", what, path, strerror(errno));
    return report(x, path, AMK_EIO, msg);
}

static int
add_node(struct tree_xfer *x, size_t parent, const char *rel, enum node_kind kind, uint64_t size,
    int have_mode, uint32_t mode, int have_times, uint32_t atime, uint32_t mtime)
{
    struct node *nd;

    if (x->n == x->cap) {
        size_t cap = x->cap == 0 ? 64 : x->cap * 2;
        struct node *v;
        if (cap > TREE_MAX_NODES)
            return AMK_ELIMIT;
        if ((v = realloc(x->v, cap * sizeof(*v))) == NULL)
            return AMK_ENOMEM;
        x->v = v;
        x->cap = cap;
    }
    nd = &x->v[x->n];
    memset(nd, 0, sizeof(*nd));
    if ((nd->rel = strdup(rel)) == NULL)
        return AMK_ENOMEM;
    nd->parent = parent;
    nd->kind = kind;
    nd->size = size;
    nd->have_mode = have_mode;
    nd->mode = mode & 07777;
    nd->have_times = have_times;
    nd->atime = atime;
    nd->mtime = mtime;
    x->n++;
    if (kind == NODE_FILE) {
        x->prog.total += size;
        x->prog.files_total++;
    }
    return AMK_OK;
}

static enum node_kind
kind_of(uint32_t mode)
{
    if (S_ISREG(mode))
        return NODE_FILE;
    if (S_ISDIR(mode))
        return NODE_DIR;
    if (S_ISLNK(mode))
        return NODE_LINK;
    return NODE_OTHER;
}

/* Marks everything below directory node @p i as skipped. */
static void
skip_below(struct tree_xfer *x, size_t i)
{
    size_t len = strlen(x->v[i].rel);

    for (size_t j = i + 1; j < x->n; j++) {
        const char *r = x->v[j].rel;
        if (len == 0 || (strncmp(r, x->v[i].rel, len) == 0 && r[len] == '/'))
            x->v[j].skip = 1;
    }
}

static void
xfer_free(struct tree_xfer *x)
{
    for (size_t i = 0; i < x->n; i++)
        free(x->v[i].rel);
    free(x->v);
}

/* The progress of amk_sftp_get/put, turned into the tree's. */
static int
file_progress(void *user, uint64_t done, uint64_t total)
{
    struct tree_xfer *x = user;
    int r;

    (void)total;
    x->prog.file_done = done;
    x->prog.done = x->base_done + done;
    if (x->o.progress == NULL)
        return AMK_OK;
    r = x->o.progress(x->o.progress_user, &x->prog);
    if (r != AMK_OK)
        x->stop = r;
    return r;
}

/* The end of file @p nd (copied or not): the tree's counts move on. */
static int
file_finished(struct tree_xfer *x, const struct node *nd)
{
    int r;

    x->base_done += nd->size;
    x->prog.files_done++;
    x->prog.file_done = nd->size;
    x->prog.done = x->base_done;
    if (x->o.progress == NULL)
        return AMK_OK;
    if ((r = x->o.progress(x->o.progress_user, &x->prog)) != AMK_OK)
        x->stop = r;
    return r;
}

static int
check_opts(struct tree_xfer *x, struct amk_sftp *s, const struct amk_sftp_tree_opts *opts)
{
    memset(x, 0, sizeof(*x));
    x->s = s;
    if (opts != NULL) {
        if (opts->version < 1)
            return AMK_EINVAL;
        x->o = *opts;
    } else {
        amk_sftp_tree_opts_init(&x->o);
    }
    if ((x->o.flags & ~(AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_PRESERVE |
            AMK_SFTP_TREE_RESUME | AMK_SFTP_TREE_INPLACE)) != 0)
        return AMK_EINVAL;
    /* a tree is many calls in a row with callbacks between them: it
     * cannot stop at an AMK_EAGAIN and be called again where it was */
    if (!amk_sftp_is_blocking(s))
        return amk_error_set(&s->detail, AMK_ESTATE, "sftp: tree transfers need blocking mode");
    return AMK_OK;
}

void
amk_sftp_tree_opts_init(struct amk_sftp_tree_opts *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->version = AMK_SFTP_TREE_OPTS_VERSION;
}

/* --- Listing ----------------------------------------------------------- */

/* By name, then by place in the listing (the entries are one array). */
static int
cmp_names(const void *a, const void *b)
{
    const struct amk_sftp_name *x = *(const struct amk_sftp_name *const *)a;
    const struct amk_sftp_name *y = *(const struct amk_sftp_name *const *)b;
    int c = strcmp(x->filename, y->filename);

    return c != 0 ? c : x < y ? -1 : x > y;
}

/*
 * Marks in *@p again (n flags, NULL when n < 2; free it) each entry whose
 * name an earlier entry of the listing already has; AMK_OK or AMK_ENOMEM.
 * Only the first is used: a server that lists "x" as a symlink and then
 * as a directory would otherwise have us make the link and write the
 * directory's files through it, anywhere.
 */
static int
mark_repeated(const struct amk_sftp_name *names, size_t n, uint8_t **again)
{
    const struct amk_sftp_name **v;

    *again = NULL;
    if (n < 2)
        return AMK_OK;
    if ((v = malloc(n * sizeof(*v))) == NULL || (*again = calloc(n, 1)) == NULL) {
        free(v);
        return AMK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = &names[i];
    qsort(v, n, sizeof(*v), cmp_names);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1]->filename, v[i]->filename) == 0)
            (*again)[v[i] - names] = 1;
    free(v);
    return AMK_OK;
}

/* 1 when a listed name is not one entry of its directory: a '/' in it, or empty. */
static int
bad_name(const char *name)
{
    return name[0] == '\0' || strchr(name, '/') != NULL;
}

/* Lists remote directory @p top/@p rel into x, recursively. */
static int
list_remote(struct tree_xfer *x, const char *top, const char *rel, size_t dir_node, int depth)
{
    struct amk_sftp_name *names = NULL;
    uint8_t *again = NULL;      /* entries whose name was listed before */
    size_t n = 0;
    char *dir = join(top, rel);
    int r;

    if (dir == NULL)
        return AMK_ENOMEM;
    if (depth > AMK_SFTP_WALK_DEPTH) {
        r = report(x, dir, AMK_ELIMIT, "directory tree too deep");
        free(dir);
        return r == AMK_OK ? AMK_OK : x->stop;
    }
    r = amk_sftp_listdir(x->s, dir, &names, &n);
    if (r != AMK_OK) {
        r = report_remote(x, dir, r);
        free(dir);
        return r == AMK_OK ? AMK_OK : x->stop;
    }
    if ((r = mark_repeated(names, n, &again)) != AMK_OK) {
        amk_sftp_names_free(names, n);
        free(dir);
        return r;
    }
    /* names that would step out of the target directory ("x/..", "../../etc/cron.d"; "."
     * and ".." never get here, amk_sftp_listdir() leaves them out): left out with
     * OpenSSH's words, all of one listing before anything below it, as OpenSSH reports them;
     * a name listed again is left out the same way (OpenSSH's sftp copies each entry in
     * turn, which for us could write through a symlink made for the first) */
    for (size_t i = 0; i < n && r == AMK_OK; i++) {
        char msg[AMK_ERROR_MSG_MAX];

        if (bad_name(names[i].filename))
            snprintf(msg, sizeof(msg), "Server sent suspect path \"%s\" during readdir of \"%s\"",
                names[i].filename, dir);
        else if (again != NULL && again[i])
            snprintf(msg, sizeof(msg), "Server sent \"%s\" again during readdir of \"%s\": "
                "the first one is used", names[i].filename, dir);
        else
            continue;
        r = report(x, dir, AMK_EBADNAME, msg);
        r = r == AMK_OK ? AMK_OK : x->stop;
    }
    free(dir);
    for (size_t i = 0; i < n && r == AMK_OK; i++) {
        const struct amk_sftp_attrs *a = &names[i].attrs;
        enum node_kind k = (a->flags & AMK_SFTP_ATTR_PERMISSIONS) ?
            kind_of(a->permissions) : NODE_OTHER;
        char *sub;

        if (bad_name(names[i].filename) || (again != NULL && again[i]))
            continue;
        if ((sub = join(rel, names[i].filename)) == NULL) {
            r = AMK_ENOMEM;
            break;
        }
        r = add_node(x, dir_node, sub, k, (a->flags & AMK_SFTP_ATTR_SIZE) ? a->size : 0,
            (a->flags & AMK_SFTP_ATTR_PERMISSIONS) != 0, a->permissions,
            (a->flags & AMK_SFTP_ATTR_ACMODTIME) != 0, a->atime, a->mtime);
        if (r == AMK_OK && k == NODE_DIR)
            r = list_remote(x, top, sub, x->n - 1, depth + 1);
        free(sub);
    }
    free(again);
    amk_sftp_names_free(names, n);
    return r;
}

/* Lists local directory @p top/@p rel into x, recursively. */
static int
list_local(struct tree_xfer *x, const char *top, const char *rel, size_t dir_node, int depth)
{
    char *dir = join(top, rel);
    struct dirent *de;
    DIR *d;
    int r = AMK_OK;

    if (dir == NULL)
        return AMK_ENOMEM;
    if (depth > AMK_SFTP_WALK_DEPTH) {
        r = report(x, dir, AMK_ELIMIT, "directory tree too deep");
        free(dir);
        return r == AMK_OK ? AMK_OK : x->stop;
    }
    if ((d = opendir(dir)) == NULL) {
        r = report_local(x, dir, "cannot open directory");
        free(dir);
        return r == AMK_OK ? AMK_OK : x->stop;
    }
    while (r == AMK_OK && (de = readdir(d)) != NULL) {
        struct stat st;
        char *sub, *full;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        sub = join(rel, de->d_name);
        full = join(dir, de->d_name);
        if (sub == NULL || full == NULL) {
            r = AMK_ENOMEM;
        } else if (lstat(full, &st) != 0) {
            r = report_local(x, full, "cannot stat");
            r = r == AMK_OK ? AMK_OK : x->stop;
        } else {
            r = add_node(x, dir_node, sub, kind_of(st.st_mode), (uint64_t)st.st_size, 1,
                (uint32_t)st.st_mode, 1, (uint32_t)st.st_atime, (uint32_t)st.st_mtime);
            if (r == AMK_OK && S_ISDIR(st.st_mode))
                r = list_local(x, top, sub, x->n - 1, depth + 1);
        }
        free(sub);
        free(full);
    }
    closedir(d);
    free(dir);
    return r;
}

/* The top: a file, or with RECURSIVE a directory and its listing. */
static int
list_top(struct tree_xfer *x, const char *src, int remote)
{
    struct amk_sftp_attrs a;
    char msg[AMK_ERROR_MSG_MAX];
    struct stat st;
    enum node_kind k;
    int r;

    if (remote) {
        if ((r = amk_sftp_stat(x->s, src, &a)) != AMK_OK) {
            report_remote(x, src, r);
            return x->stop != AMK_OK ? x->stop : r;
        }
        k = (a.flags & AMK_SFTP_ATTR_PERMISSIONS) ? kind_of(a.permissions) : NODE_FILE;
        r = add_node(x, NO_PARENT, "", k, (a.flags & AMK_SFTP_ATTR_SIZE) ? a.size : 0,
            (a.flags & AMK_SFTP_ATTR_PERMISSIONS) != 0, a.permissions,
            (a.flags & AMK_SFTP_ATTR_ACMODTIME) != 0, a.atime, a.mtime);
    } else {
        if (stat(src, &st) != 0) {
            r = errno == ENOENT ? AMK_ENOENT : errno == EACCES ? AMK_EACCES : AMK_EIO;
            snprintf(msg, sizeof(msg), "%s: %s", src, strerror(errno));
            report(x, src, r, msg);
            return x->stop != AMK_OK ? x->stop : r;
        }
        k = kind_of(st.st_mode);
        r = add_node(x, NO_PARENT, "", k, (uint64_t)st.st_size, 1, (uint32_t)st.st_mode, 1,
            (uint32_t)st.st_atime, (uint32_t)st.st_mtime);
    }
    if (r != AMK_OK)
        return r;
    if (k == NODE_OTHER || (k == NODE_DIR && !(x->o.flags & AMK_SFTP_TREE_RECURSIVE))) {
        (void)report(x, src, AMK_EINVAL, k == NODE_DIR ?
            "is a directory (a recursive copy is needed)" : "not a regular file or directory");
        return x->stop != AMK_OK ? x->stop : AMK_EINVAL;
    }
    if (k != NODE_DIR)
        return AMK_OK;
    return remote ? list_remote(x, src, "", 0, 1) : list_local(x, src, "", 0, 1);
}

/* --- Get --------------------------------------------------------------- */

static int
get_dir(struct tree_xfer *x, size_t i, const char *dst)
{
    struct stat st;

    /* the source's mode (the umask applies), writable by us while we fill it */
    mode_t mode = x->v[i].have_mode ? (mode_t)((x->v[i].mode & 0777) | 0700) : 0777;

    if (mkdir(dst, mode) == 0) {
        x->v[i].made = 1;
        return AMK_OK;
    }
    /* an existing directory is merged into; the top may be the caller's
     * symlink to one, a name from the server below it may not */
    if (errno == EEXIST && (i == 0 ? stat(dst, &st) : lstat(dst, &st)) == 0) {
        if (S_ISDIR(st.st_mode)) {
            x->v[i].made = 1;
            return AMK_OK;
        }
        if (S_ISLNK(st.st_mode)) {
            skip_below(x, i);
            return report(x, dst, AMK_EIO, "a symlink is there, and a directory named by the "
                "server is not written through one");
        }
        errno = EEXIST;
    }
    skip_below(x, i);
    return report_local(x, dst, "cannot create directory");
}

static int
get_link(struct tree_xfer *x, const char *src, const char *dst)
{
    char *target = NULL;
    struct stat st;
    int r;

    if ((r = amk_sftp_readlink(x->s, src, &target)) != AMK_OK)
        return report_remote(x, src, r);
    if (lstat(dst, &st) == 0 && !S_ISDIR(st.st_mode))
        (void)unlink(dst);
    r = symlink(target, dst) == 0 ? AMK_OK : report_local(x, dst, "cannot create symlink");
    free(target);
    return r;
}

/* Gives local @p path the times (and mode) of @p nd. */
static int
set_local_attrs(struct tree_xfer *x, const struct node *nd, const char *path)
{
    struct timespec ts[2];

    if (nd->have_mode && chmod(path, nd->mode & 0777) != 0)   /* no setuid from a server */
        return report_local(x, path, "cannot set the mode of");
    if (nd->have_times) {
        ts[0].tv_sec = nd->atime;
        ts[0].tv_nsec = 0;
        ts[1].tv_sec = nd->mtime;
        ts[1].tv_nsec = 0;
        if (utimensat(AT_FDCWD, path, ts, 0) != 0)
            return report_local(x, path, "cannot set the times of");
    }
    return AMK_OK;
}

/* Runs the list; @p one makes one entry (AMK_OK, or report()'s answer). */
typedef int (*make_fn)(struct tree_xfer *x, size_t i, const char *src, const char *dst);
typedef int (*dir_attrs_fn)(struct tree_xfer *x, const struct node *nd, const char *dst);

static int
run_list(struct tree_xfer *x, const char *src_top, const char *dst_top, make_fn make,
    dir_attrs_fn dir_attrs)
{
    int r = AMK_OK;

    for (size_t i = 0; i < x->n && x->stop == AMK_OK; i++) {
        char *src = NULL, *dst = NULL;

        if (x->v[i].skip)
            continue;
        src = join(src_top, x->v[i].rel);
        dst = join(dst_top, x->v[i].rel);
        if (src == NULL || dst == NULL)
            x->stop = AMK_ENOMEM;
        else
            (void)make(x, i, src, dst);
        free(src);
        free(dst);
    }
    /* directories' modes and times once their contents are in place,
     * deepest first (a read-only mode would refuse the contents) */
    for (size_t i = x->n; i-- > 0 && x->stop == AMK_OK;) {
        char *dst;
        if (x->v[i].kind != NODE_DIR || !x->v[i].made ||
            !(x->o.flags & AMK_SFTP_TREE_PRESERVE))
            continue;
        if ((dst = join(dst_top, x->v[i].rel)) == NULL) {
            x->stop = AMK_ENOMEM;
            break;
        }
        (void)dir_attrs(x, &x->v[i], dst);
        free(dst);
    }
    if (x->stop != AMK_OK)
        r = x->stop;
    else
        r = x->first_err;
    return r;
}

static int
get_one(struct tree_xfer *x, size_t i, const char *src, const char *dst)
{
    struct node *nd = &x->v[i];
    unsigned fl = 0;
    int r;

    switch (nd->kind) {
    case NODE_DIR:
        return get_dir(x, i, dst);
    case NODE_LINK:
        return get_link(x, src, dst);
    case NODE_OTHER:
        return report(x, src, AMK_EINVAL, "not a regular file, directory or symlink: skipped");
    case NODE_FILE:
        break;
    }
    /* as OpenSSH's sftp: without PRESERVE only a file we create takes the
     * source's mode (amk_sftp_get() creates it so); one that is overwritten
     * keeps its own */
    x->prog.path = src;
    x->prog.file_total = nd->size;
    x->prog.file_done = 0;
    if (x->o.flags & AMK_SFTP_TREE_RESUME)
        fl |= AMK_SFTP_XFER_RESUME;
    if (x->o.flags & AMK_SFTP_TREE_PRESERVE)
        fl |= AMK_SFTP_XFER_PRESERVE;
    if (i != 0)
        fl |= AMK_SFTP_XFER_NOFOLLOW;   /* dst is a name from the server */
    r = amk_sftp_get_below(x->s, src, dst, fl, file_progress, x);
    if (x->stop != AMK_OK)
        return x->stop;
    if (r != AMK_OK)
        r = report_remote(x, src, r);
    if (x->stop == AMK_OK)
        (void)file_finished(x, nd);
    return r;
}

static int
get_dir_attrs(struct tree_xfer *x, const struct node *nd, const char *dst)
{
    return set_local_attrs(x, nd, dst);
}

int
amk_sftp_tree_get(struct amk_sftp *s, const char *remote, const char *local,
    const struct amk_sftp_tree_opts *opts)
{
    struct tree_xfer x;
    int r;

    if (s == NULL || remote == NULL || local == NULL)
        return AMK_EINVAL;
    if ((r = check_opts(&x, s, opts)) != AMK_OK)
        return r;
    if ((r = list_top(&x, remote, 1)) == AMK_OK)
        r = run_list(&x, remote, local, get_one, get_dir_attrs);
    xfer_free(&x);
    return r;
}

/* --- Put --------------------------------------------------------------- */

static int
put_dir(struct tree_xfer *x, size_t i, const char *dst)
{
    struct amk_sftp_attrs a;
    char msg[AMK_ERROR_MSG_MAX];
    /* the source's mode (the server's umask applies), writable while we fill it */
    uint32_t mode = (x->v[i].mode & 0777) | 0700;
    int r = amk_sftp_mkdir(x->s, dst, mode);

    if (r == AMK_OK) {
        x->v[i].made = 1;
        x->v[i].fresh = 1;
        return AMK_OK;
    }
    snprintf(msg, sizeof(msg), "%s", amk_sftp_last_error(x->s));
    if (x->s->err == AMK_OK && amk_sftp_stat(x->s, dst, &a) == AMK_OK &&
        (a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.permissions)) {
        x->v[i].made = 1;
        return AMK_OK;
    }
    skip_below(x, i);
    return report(x, dst, r, msg);
}

static int
put_link(struct tree_xfer *x, const char *src, const char *dst)
{
    char target[4096];
    struct amk_sftp_attrs a;
    ssize_t n = readlink(src, target, sizeof(target) - 1);
    int r;

    if (n < 0)
        return report_local(x, src, "cannot read symlink");
    target[n] = '\0';
    r = amk_sftp_symlink(x->s, target, dst);
    if (r != AMK_OK && x->s->err == AMK_OK && amk_sftp_lstat(x->s, dst, &a) == AMK_OK &&
        (a.flags & AMK_SFTP_ATTR_PERMISSIONS) && !S_ISDIR(a.permissions)) {
        /* replace what is there, as a get does */
        if ((r = amk_sftp_remove(x->s, dst)) == AMK_OK)
            r = amk_sftp_symlink(x->s, target, dst);
    }
    return r == AMK_OK ? AMK_OK : report_remote(x, dst, r);
}

/* Renames @p from over @p to, replacing it. */
static int
replace(struct amk_sftp *s, const char *from, const char *to)
{
    int r = amk_sftp_rename(s, from, to);

    if (r != AMK_OK && s->err == AMK_OK &&
        !amk_sftp_has_extension(s, "posix-rename@openssh.com", NULL, NULL)) {
        /* plain RENAME refuses an existing target (draft-02 §6.5) */
        if (amk_sftp_remove(s, to) == AMK_OK)
            r = amk_sftp_rename(s, from, to);
    }
    return r;
}

/*
 * Without PRESERVE, a regular file that an atomic put replaces keeps its
 * permission bits: OpenSSH's sftp truncates it in place, and rsync, which
 * also renames a temporary file over it, gives the new one the old mode.
 * Replacing by rename would otherwise turn a 0600 file into the source's
 * 0644. (The owner becomes the uploading user, as with rsync without -o.)
 * Returns the mode to keep, or -1 for "none": the name is new, or not a
 * regular file. A directory this transfer created was empty, so nothing in
 * it is looked up.
 */
static long
replaced_mode(struct tree_xfer *x, const struct node *nd, const char *dst, unsigned fl)
{
    struct amk_sftp_attrs a;

    if ((fl & AMK_SFTP_XFER_PRESERVE) || (nd->parent != NO_PARENT && x->v[nd->parent].fresh))
        return -1;
    if (amk_sftp_lstat(x->s, dst, &a) != AMK_OK || !(a.flags & AMK_SFTP_ATTR_PERMISSIONS) ||
        !S_ISREG(a.permissions))
        return -1;
    /* not set-id bits: the kernel drops those when a file is written to */
    return (long)(a.permissions & 0777);
}

/*
 * The mode a put file must be given once written, when it differs from
 * the one it was created with (amk_sftp_put() creates files writable by
 * their owner, so that a resume can open them again): a kept mode that
 * lacks owner write or whose group or other write the server's umask may
 * have cut, or a new file's source mode without owner write. -1: none.
 */
static long
final_mode(const struct node *nd, unsigned fl, long keep)
{
    if (fl & AMK_SFTP_XFER_PRESERVE)
        return -1;      /* the transfer's FSETSTAT sets the source's */
    if (keep >= 0)
        return ((keep & 022) != 0 || (keep & 0200) == 0) ? keep : -1;
    if (nd->have_mode && (nd->mode & 0200) == 0)
        return (long)(nd->mode & 0755);
    return -1;
}

static int
put_one(struct tree_xfer *x, size_t i, const char *src, const char *dst)
{
    struct node *nd = &x->v[i];
    struct amk_sftp_attrs a;
    unsigned fl = 0;
    char *part = NULL;
    long keep, want;
    int r;

    switch (nd->kind) {
    case NODE_DIR:
        return put_dir(x, i, dst);
    case NODE_LINK:
        return put_link(x, src, dst);
    case NODE_OTHER:
        return report(x, src, AMK_EINVAL, "not a regular file, directory or symlink: skipped");
    case NODE_FILE:
        break;
    }
    x->prog.path = src;
    x->prog.file_total = nd->size;
    x->prog.file_done = 0;
    if (x->o.flags & AMK_SFTP_TREE_PRESERVE)
        fl |= AMK_SFTP_XFER_PRESERVE;
    if (x->o.flags & AMK_SFTP_TREE_INPLACE) {
        if (x->o.flags & AMK_SFTP_TREE_RESUME)
            fl |= AMK_SFTP_XFER_RESUME;
        /* an existing file is written in place and keeps its mode; a new
         * one may need final_mode(), found with an LSTAT only then */
        want = final_mode(nd, fl, -1);
        keep = want >= 0 ? replaced_mode(x, nd, dst, fl) : -1;
        r = amk_sftp_put(x->s, src, dst, fl, file_progress, x);
        if (r == AMK_OK && want >= 0 && keep < 0)
            r = amk_sftp_chmod(x->s, dst, (uint32_t)want);
        goto done;
    }
    if ((part = part_name(dst)) == NULL)
        return x->stop = AMK_ENOMEM;
    if (x->o.flags & AMK_SFTP_TREE_RESUME) {
        r = amk_sftp_stat(x->s, part, &a);
        if (r == AMK_OK) {
            fl |= AMK_SFTP_XFER_RESUME;
        } else if (r == AMK_ENOENT && amk_sftp_stat(x->s, dst, &a) == AMK_OK &&
            (a.flags & AMK_SFTP_ATTR_SIZE) && a.size == nd->size &&
            (a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISREG(a.permissions)) {
            /* finished by an earlier run */
            free(part);
            return file_finished(x, nd);
        }
    }
    /* the part is created with the mode it will have (plus owner write),
     * so the new contents are never readable by more users than the old */
    keep = replaced_mode(x, nd, dst, fl);
    r = amk_sftp_put_mode(x->s, src, part, fl, keep >= 0 ? (keep | 0200) : -1, file_progress, x);
    if (r == AMK_OK && (want = final_mode(nd, fl, keep)) >= 0)
        r = amk_sftp_chmod(x->s, part, (uint32_t)want);
    if (r == AMK_OK && (r = replace(x->s, part, dst)) != AMK_OK) {
        free(part);
        if (x->stop != AMK_OK)
            return x->stop;
        r = report_remote(x, dst, r);
        if (x->stop == AMK_OK)
            (void)file_finished(x, nd);
        return r;
    }
    free(part);
done:
    if (x->stop != AMK_OK)
        return x->stop;
    if (r != AMK_OK)
        r = report_remote(x, r == AMK_EIO && x->s->err == AMK_OK ? src : dst, r);
    if (x->stop == AMK_OK)
        (void)file_finished(x, nd);
    return r;
}

static int
put_dir_attrs(struct tree_xfer *x, const struct node *nd, const char *dst)
{
    struct amk_sftp_attrs a;
    int r;

    memset(&a, 0, sizeof(a));
    a.flags = AMK_SFTP_ATTR_PERMISSIONS | AMK_SFTP_ATTR_ACMODTIME;
    a.permissions = nd->mode;
    a.atime = nd->atime;
    a.mtime = nd->mtime;
    r = amk_sftp_setstat(x->s, dst, &a);
    return r == AMK_OK ? AMK_OK : report_remote(x, dst, r);
}

int
amk_sftp_tree_put(struct amk_sftp *s, const char *local, const char *remote,
    const struct amk_sftp_tree_opts *opts)
{
    struct tree_xfer x;
    int r;

    if (s == NULL || remote == NULL || local == NULL)
        return AMK_EINVAL;
    if ((r = check_opts(&x, s, opts)) != AMK_OK)
        return r;
    if ((r = list_top(&x, local, 0)) == AMK_OK)
        r = run_list(&x, local, remote, put_one, put_dir_attrs);
    xfer_free(&x);
    return r;
}
