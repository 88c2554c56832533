/*
 * amiko sftp: an SFTP session with OpenSSH sftp(1)'s commands, from a
 * batch file (-b file, "-" for stdin) or typed at a "sftp> " prompt.
 *
 *   amiko sftp [-P port] [-i identity] [-o Option=value]... [-b batchfile]
 *              [-q] [-v] [user@]host
 *
 * Commands: ls [-1] [-l] [-a] [path], cd [path], pwd, lcd [path], lpwd,
 * lmkdir path, get [-r] [-p] remote [local], put [-r] [-p] local
 * [remote], mkdir path, rmdir path, rm path, rename old new, ln [-s] old
 * new, chmod [-h] mode path, chown [-h] uid path, chgrp [-h] gid path,
 * df [-h] [path], help, exit /
 * quit / bye; names in any case, paths past those a command takes
 * ignored, as OpenSSH's sftp. Lines are split into words as its makeargv
 * does (sftp_split_words): quotes ('...' or "..."), '\' escapes, '#' comments.
 * Wildcards (* ? [...]) in the last component of a path expand as in
 * OpenSSH's sftp: remote ones for ls, get, rm, chmod, chown and chgrp, local
 * ones for put; quoted or escaped ones are plain characters ("rm 'a*'"
 * removes the file a*). A listed name with '/' is left out with
 * OpenSSH's "Server sent suspect path" message (in ls, wildcards and
 * get -r, which then still succeeds); ls -a shows "." and "..".
 *
 * As OpenSSH's sftp: in batch mode each command is echoed after
 * "sftp> " unless it starts with '@', and the first failing command
 * ends the session with exit status 1 unless it starts with '-' (both
 * prefixes in any order); interactive sessions go on after a failure. Exit status 255 when connecting or authenticating
 * failed. The connection options are `amiko ssh`'s (tool_ssh.h).
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"
#include "sftp_sh.h"
#include "tool_ssh.h"
#include "xfer/paths.h"
#include "xfer/progress.h"
#include "xfer/vis.h"

#define SUB "sftp"
#define SFTP_EXIT_FAIL 1
#define MAX_ARGS 16

void
amk_cmd_sftp_usage(FILE *f)
{
    fprintf(f, "usage: amiko sftp [-P port] [-i identity] [-o Option=value]... "
        "[-b batchfile] [-q] [-v] [user@]host\n");
}

/* --- Messages --------------------------------------------------------------- */

/* OpenSSH sftp's words for the SSH_FX_* codes (draft-02 §7). */
static const char *
fx_text(uint32_t status)
{
    static const char *const text[] = { "Success", "End of file", "No such file or directory",
        "Permission denied", "Failure", "Bad message", "No connection", "Connection lost",
        "Operation unsupported" };

    return status < sizeof(text) / sizeof(text[0]) ? text[status] : "Unknown status";
}

/*
 * Prints why a remote operation on @p path failed, as OpenSSH's sftp
 * words it ("remote mkdir \"path\": Failure"), with the server's own
 * message when it says more; returns -1.
 */
int
sftp_remote_fail(struct sftp_sh *sh, const char *what, const char *path, int r)
{
    uint32_t st = amk_sftp_last_status(sh->sftp);

    if (st != 0)
        xfer_fprintf_vis(stderr, "remote %s \"%s\": %s\n", what, path, fx_text(st));
    else
        xfer_fprintf_vis(stderr, "remote %s \"%s\": %s\n", what, path,
            amk_sftp_last_error(sh->sftp)[0] != '\0' ? amk_sftp_last_error(sh->sftp) :
            amk_strerror(r));
    return -1;
}

static int
remote_is_dir(struct sftp_sh *sh, const char *path)
{
    struct amk_sftp_attrs a;

    return amk_sftp_stat(sh->sftp, path, &a) == AMK_OK &&
        (a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.permissions);
}

static int
local_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The remote paths @p arg stands for (wildcards in its last component,
 * xfer/paths.h), as typed; with @p keep_literal a pattern that matches
 * nothing stands for itself (OpenSSH's GLOB_NOCHECK: the operation then
 * reports the missing file). 0, or -1 after a message.
 */
static int
glob_remote(struct sftp_sh *sh, const char *cmd, const char *arg, int keep_literal,
    struct xfer_paths *out)
{
    char err[512];
    int n = xfer_glob_remote(sh->sftp, arg, sh->cwd, XFER_GLOB_SKIP_SUSPECT |
        (keep_literal ? XFER_GLOB_NOCHECK : 0), "", out, err, sizeof(err));

    if (n < 0) {
        xfer_fprintf_vis(stderr, "%s: %s\n", cmd, err[0] != '\0' ? err : "out of memory");
        return -1;
    }
    if (n == 0) {
        char *abs = sftp_abs_path(sh->cwd, arg);
        if (abs != NULL)
            xfer_unescape(abs);
        xfer_fprintf_vis(stderr, "File \"%s\" not found.\n", abs != NULL ? abs : arg);
        free(abs);
        return -1;
    }
    return 0;
}

/* The local paths @p arg stands for (glob(3), escapes honoured); a
 * pattern that matches nothing, or has no wildcard, stands for itself
 * (unescaped). 0, or -1 without memory. */
static int
glob_local(const char *arg, struct xfer_paths *out)
{
    glob_t g;
    char *literal;
    int rc = 0;

    if (xfer_has_wildcard(arg) && glob(arg, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
            rc = xfer_paths_add(out, strdup(g.gl_pathv[i]));
        globfree(&g);
        return rc;
    }
    if ((literal = strdup(arg)) != NULL)
        xfer_unescape(literal);
    return xfer_paths_add(out, literal);
}

/* --- Transfers --------------------------------------------------------------- */

static int
on_progress(void *user, const struct amk_sftp_tree_progress *pr)
{
    struct sftp_sh *sh = user;

    sh->bar.total = pr->total;
    xfer_progress_update(&sh->bar, pr->path, pr->done, xfer_now_ns());
    return AMK_OK;
}

/*
 * A path of a get or put failed. A name with '/' in a listing is left out
 * with the library's message, which is OpenSSH's ("Server sent suspect
 * path"), and, as in OpenSSH's sftp, is not a failure of the command; so
 * is a name listed again (OpenSSH's sftp copies it twice, silently); a
 * missing source gets OpenSSH's words for it (its glob finds nothing).
 */
static int
on_error(void *user, const char *path, int code, const char *message)
{
    struct sftp_sh *sh = user;
    char line[XFER_MESSAGE_MAX];

    if (sh->bar.drawn && write(STDOUT_FILENO, "\n", 1) < 0)
        sh->bar.drawn = 0;
    sh->bar.drawn = 0;
    if (code == AMK_EBADNAME) {
        xfer_fprintf_vis(stderr, "%s\n", message);
        return AMK_OK;
    }
    sh->tree_failed = 1;
    if (code == AMK_ENOENT && sh->tree_src != NULL && strcmp(path, sh->tree_src) == 0)
        xfer_fprintf_vis(stderr, "File \"%s\" not found.\n", path);
    else
        xfer_fprintf_vis(stderr, "%s\n", xfer_path_message(line, sizeof(line), path, message));
    return AMK_OK;
}

/* One get or put of @p src (as typed) to @p target (NULL: the working
 * directory on the receiving side): 0 or -1. */
static int
transfer_one(struct sftp_sh *sh, const struct amk_sftp_tree_opts *opts, const char *src_arg,
    const char *target, int get)
{
    struct amk_sftp_tree_opts o = *opts;
    char *src = NULL, *dst = NULL, *name = NULL, *into_remote = NULL;
    const char *into = NULL;    /* the directory the source goes into under its name */
    int r, rc = -1;

    if ((name = xfer_base_name(src_arg)) == NULL)
        goto out;
    if (get) {
        if ((src = sftp_abs_path(sh->cwd, src_arg)) == NULL ||
            ((o.flags & AMK_SFTP_TREE_RECURSIVE) && xfer_mark_remote_dir(sh->sftp, &src) != 0))
            goto out;
        if (target == NULL || local_is_dir(target))
            into = target != NULL ? target : ".";   /* "." : the local working directory */
        else
            dst = strdup(target);
    } else {
        char *t;
        if ((src = strdup(src_arg)) == NULL)
            goto out;
        t = target != NULL ? sftp_abs_path(sh->cwd, target) : strdup(sh->cwd);
        if (t != NULL && remote_is_dir(sh, t))
            into = into_remote = t;
        else
            dst = t;
    }
    if (into != NULL) {
        if (!xfer_name_ok(name)) {
            /* "dir/.." into t would write t/..: OpenSSH refuses such names too */
            xfer_fprintf_vis(stderr, "%s: cannot %s into a directory under the name \"%s\"\n", src_arg,
                get ? "fetch" : "upload", name);
            goto out;
        }
        dst = get && target == NULL ? strdup(name) : sftp_abs_path(into, name);
    }
    if (src == NULL || dst == NULL)
        goto out;
    if (!sh->quiet)
        xfer_fprintf_vis(stdout, "%s %s to %s\n", get ? "Fetching" : "Uploading", src, dst);
    fflush(stdout);
    o.progress = on_progress;
    o.progress_user = sh;
    o.on_error = on_error;
    o.error_user = sh;
    xfer_progress_init(&sh->bar, sh->show_bar, STDOUT_FILENO, 0, xfer_now_ns());
    snprintf(sh->bar.name, sizeof(sh->bar.name), "%s", src);     /* escaped when drawn */
    sh->tree_src = src;
    sh->tree_failed = 0;
    r = get ? amk_sftp_tree_get(sh->sftp, src, dst, &o) :
        amk_sftp_tree_put(sh->sftp, src, dst, &o);
    sh->tree_src = NULL;
    if (sh->bar.enabled && (r == AMK_OK || sh->bar.drawn))
        xfer_progress_finish(&sh->bar, xfer_now_ns());
    /* names left out (the tree ends with AMK_EBADNAME when the first thing
     * it skipped was one) do not fail the get: OpenSSH's sftp exits 0 */
    rc = r == AMK_OK || (r == AMK_EBADNAME && !sh->tree_failed) ? 0 : -1;
out:
    free(src);
    free(dst);
    free(name);
    free(into_remote);
    return rc;
}

/*
 * get / put with their -r and -p flags. The source may have wildcards
 * (remote ones for get, local ones for put); several sources need a
 * directory as the target, as in OpenSSH's sftp. Every source is tried;
 * -1 when any failed.
 */
static int
cmd_transfer(struct sftp_sh *sh, int argc, char **argv, int get)
{
    struct amk_sftp_tree_opts o;
    struct xfer_paths srcs = { NULL, 0, 0 };
    const char *target;
    int i = 1, rc = 0;

    amk_sftp_tree_opts_init(&o);
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        for (const char *f = argv[i] + 1; *f != '\0'; f++) {
            if (*f == 'r' || *f == 'R')
                o.flags |= AMK_SFTP_TREE_RECURSIVE;
            else if (*f == 'p' || *f == 'P')
                o.flags |= AMK_SFTP_TREE_PRESERVE;
            else if (*f == 'a')
                o.flags |= AMK_SFTP_TREE_RESUME;
            else {
                fprintf(stderr, "%s: Invalid flag -%c\n", argv[0], *f);
                return -1;
            }
        }
    }
    /* OpenSSH's sftp reads the first two paths and ignores any more */
    if (i >= argc) {
        fprintf(stderr, "You must specify at least one path after a %s command.\n", argv[0]);
        return -1;
    }
    if (argc - i > 2)
        argc = i + 2;
    sftp_literal_words(argc, argv, i + 1);      /* the target is a name */
    target = i + 1 < argc ? argv[i + 1] : NULL;
    if ((get ? glob_remote(sh, argv[0], argv[i], 0, &srcs) : glob_local(argv[i], &srcs)) != 0) {
        xfer_paths_free(&srcs);
        return -1;
    }
    if (srcs.n > 1 && target != NULL) {
        char *t = get ? NULL : sftp_abs_path(sh->cwd, target);
        int is_dir = get ? local_is_dir(target) : t != NULL && remote_is_dir(sh, t);
        if (!is_dir) {
            xfer_fprintf_vis(stderr, "Multiple source paths, but destination \"%s\" is not a "
                "directory\n", get ? target : t != NULL ? t : target);
            free(t);
            xfer_paths_free(&srcs);
            return -1;
        }
        free(t);
    }
    for (size_t k = 0; k < srcs.n; k++)
        if (transfer_one(sh, &o, srcs.v[k], target, get) != 0)
            rc = -1;
    xfer_paths_free(&srcs);
    return rc;
}

/* --- The other commands -------------------------------------------------------- */

static int
cmd_cd(struct sftp_sh *sh, int argc, char **argv)
{
    struct amk_sftp_attrs a;
    char *path, *real = NULL;
    int r;

    /* no path (or ""): back to where the session started, as OpenSSH */
    if ((path = sftp_abs_path(sh->cwd, argc > 1 && argv[1][0] != '\0' ? argv[1] : sh->start)) == NULL)
        return -1;
    if ((r = amk_sftp_realpath(sh->sftp, path, &real)) != AMK_OK) {
        sftp_remote_fail(sh, "realpath", path, r);
        free(path);
        return -1;
    }
    free(path);
    /* the server may resolve a path that does not exist: stat says so */
    if ((r = amk_sftp_stat(sh->sftp, real, &a)) != AMK_OK) {
        sftp_remote_fail(sh, "stat", real, r);
        free(real);
        return -1;
    }
    if (!((a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.permissions))) {
        xfer_fprintf_vis(stderr, "Can't change directory: \"%s\" is not a directory\n", real);
        free(real);
        return -1;
    }
    free(sh->cwd);
    sh->cwd = real;
    return 0;
}

/* Commands of one or two remote paths that map to one call. */
static int
cmd_paths(struct sftp_sh *sh, int argc, char **argv)
{
    const char *c = argv[0];
    char *p1 = NULL, *p2 = NULL;
    int r = AMK_EINVAL, two = strcmp(c, "rename") == 0 || strcmp(c, "ln") == 0 ||
        strcmp(c, "symlink") == 0;
    int sym = strcmp(c, "symlink") == 0, i = 1;

    if (strcmp(c, "ln") == 0 && argc > 1 && strcmp(argv[1], "-s") == 0) {
        sym = 1;
        i = 2;
    }
    /* more paths than the command takes are ignored, as OpenSSH's sftp */
    if (argc - i < (two ? 2 : 1)) {
        fprintf(stderr, "You must specify %s after a %s command.\n", two ? "two paths" : "a path",
            c);
        return -1;
    }
    if ((p1 = sftp_abs_path(sh->cwd, argv[i])) == NULL ||
        (two && (p2 = sftp_abs_path(sh->cwd, argv[i + 1])) == NULL)) {
        free(p1);
        return -1;
    }
    if (strcmp(c, "mkdir") == 0)
        r = amk_sftp_mkdir(sh->sftp, p1, 0777);
    else if (strcmp(c, "rmdir") == 0)
        r = amk_sftp_rmdir(sh->sftp, p1);
    else if (strcmp(c, "rename") == 0)
        r = amk_sftp_rename(sh->sftp, p1, p2);
    else if (sym)
        /* the target text as typed: a relative link stays relative */
        r = amk_sftp_symlink(sh->sftp, argv[i], p2);
    else
        r = amk_sftp_hardlink(sh->sftp, p1, p2);
    if (r != AMK_OK)
        sftp_remote_fail(sh, sym ? "symlink" :
            strcmp(c, "ln") == 0 ? "link" : c, p1, r);
    free(p1);
    free(p2);
    return r == AMK_OK ? 0 : -1;
}

/*
 * Runs @p op on the absolute form of each remote path @p arg stands for
 * (wildcards as glob_remote with keep_literal: a pattern that matches
 * nothing stands for itself and @p op reports the missing file). Every
 * path is tried; 0, or -1 when any failed (@p op prints why).
 */
static int
each_remote(struct sftp_sh *sh, const char *cmd, const char *arg,
    int (*op)(struct sftp_sh *sh, const char *path, void *ctx), void *ctx)
{
    struct xfer_paths paths = { NULL, 0, 0 };
    int rc = 0;

    if (glob_remote(sh, cmd, arg, 1, &paths) != 0) {
        xfer_paths_free(&paths);
        return -1;
    }
    for (size_t k = 0; k < paths.n; k++) {
        char *p = sftp_abs_path(sh->cwd, paths.v[k]);
        if (p == NULL) {
            rc = -1;
            break;
        }
        if (op(sh, p, ctx) != 0)
            rc = -1;
        free(p);
        /* OpenSSH's sftp stops at the first failure of a command that ends
         * the batch; an interactive or '-' command tries every path */
        if (rc != 0 && sh->err_abort)
            break;
    }
    xfer_paths_free(&paths);
    return rc;
}

static int
rm_one(struct sftp_sh *sh, const char *path, void *ctx)
{
    int r;

    (void)ctx;
    if (!sh->quiet)
        xfer_fprintf_vis(stdout, "Removing %s\n", path);
    if ((r = amk_sftp_remove(sh->sftp, path)) != AMK_OK) {
        uint32_t st = amk_sftp_last_status(sh->sftp);
        /* OpenSSH's do_rm leaves out the quotes its other messages have */
        xfer_fprintf_vis(stderr, "remote delete %s: %s\n", path, st != 0 ? fx_text(st) :
            amk_sftp_last_error(sh->sftp)[0] != '\0' ? amk_sftp_last_error(sh->sftp) :
            amk_strerror(r));
        return -1;
    }
    return 0;
}

/* rm path: wildcards in the last component remove every match. */
static int
cmd_rm(struct sftp_sh *sh, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "You must specify a path after a rm command.\n");
        return -1;
    }
    return each_remote(sh, argv[0], argv[1], rm_one, NULL);
}

/* What chmod / chown / chgrp set on each path. */
struct attr_change {
    char what;          /* 'm'ode, 'o'wner or 'g'roup */
    int nofollow;       /* -h: a final symlink itself (lstat, lsetstat@openssh.com) */
    uint32_t value;
};

/* OpenSSH's words for each step's failure. */
static int
attr_one(struct sftp_sh *sh, const char *path, void *ctx)
{
    const struct attr_change *ac = ctx;
    struct amk_sftp_attrs a;
    int r;

    memset(&a, 0, sizeof(a));
    if (ac->what == 'm') {
        a.flags = AMK_SFTP_ATTR_PERMISSIONS;
        a.permissions = ac->value;
    } else {
        /* SETSTAT carries uid and gid together: keep the other one */
        r = ac->nofollow ? amk_sftp_lstat(sh->sftp, path, &a) : amk_sftp_stat(sh->sftp, path, &a);
        if (r != AMK_OK) {
            uint32_t st = amk_sftp_last_status(sh->sftp);
            /* "stat remote" for an lstat too, as OpenSSH's get_decode_stat */
            fprintf(stderr, "stat remote: %s\n", st != 0 ? fx_text(st) : amk_strerror(r));
            return -1;
        }
        if (!(a.flags & AMK_SFTP_ATTR_UIDGID)) {
            xfer_fprintf_vis(stderr, "Can't get current ownership of remote file \"%s\"\n",
                path);
            return -1;
        }
        a.flags = AMK_SFTP_ATTR_UIDGID;
        if (ac->what == 'o')
            a.uid = ac->value;
        else
            a.gid = ac->value;
    }
    if (!sh->quiet)
        xfer_fprintf_vis(stdout, "Changing %s on %s\n", ac->what == 'm' ? "mode" :
            ac->what == 'o' ? "owner" : "group", path);
    r = ac->nofollow ? amk_sftp_lsetstat(sh->sftp, path, &a) : amk_sftp_setstat(sh->sftp, path, &a);
    if (r == AMK_ENOTSUP && ac->nofollow) {
        fprintf(stderr, "Server does not support lsetstat@openssh.com extension\n");
        return -1;
    }
    if (r != AMK_OK)
        return sftp_remote_fail(sh, ac->nofollow ? "lsetstat" : "setstat", path, r);
    return 0;
}

/*
 * The index of the first word after @p argv[0]'s flags, OpenSSH's getopt
 * with "h" (its parse_h_flag, BSD getopt: no reordering) and -h noted in
 * *@p hflag; -1 after its message for any other flag ("chown -5 f":
 * "chown: Invalid flag -5", so no number is negative).
 */
static int
h_flag(int argc, char **argv, int *hflag)
{
    int i = 1;

    *hflag = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0)
            return i + 1;
        for (const char *f = argv[i] + 1; *f != '\0'; f++) {
            if (*f == 'h') {
                *hflag = 1;
            } else if (*f == '-' && f[1] == '\0') {
                /* getopt's "-h-": the options end, this word is the next one */
                return i;
            } else {
                fprintf(stderr, "%s: Invalid flag -%c\n", argv[0], *f);
                return -1;
            }
        }
    }
    return i;
}

/*
 * chmod [-h] mode path / chown [-h] uid path / chgrp [-h] gid path,
 * wildcards as rm. OpenSSH's checks and words: the flags, the number,
 * then the path (more paths are ignored); chown's and chgrp's number in
 * any base C reads (strtoll with base 0: 0x3e8 and 01750 are 1000),
 * chmod's in octal, each from 0 to 2^32-1 (OpenSSH sends chmod's bits
 * past 07777 on and the server ignores them).
 */
static int
cmd_attr(struct sftp_sh *sh, int argc, char **argv)
{
    struct attr_change ac = { strcmp(argv[0], "chmod") == 0 ? 'm' :
        strcmp(argv[0], "chown") == 0 ? 'o' : 'g', 0, 0 };
    long long v = -1;
    char *end = NULL;
    int i = h_flag(argc, argv, &ac.nofollow);

    if (i < 0)
        return -1;
    errno = 0;
    if (i < argc)
        v = strtoll(argv[i], &end, ac.what == 'm' ? 8 : 0);
    if (i >= argc || end == argv[i] || *end != '\0' || errno == ERANGE || v < 0 ||
        v > (long long)UINT32_MAX) {
        fprintf(stderr, "You must supply a numeric argument to the %s command.\n", argv[0]);
        return -1;
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "You must specify a path after a %s command.\n", argv[0]);
        return -1;
    }
    ac.value = (uint32_t)v;
    return each_remote(sh, argv[0], argv[i + 1], attr_one, &ac);
}

static void
help(void)
{
    printf("Available commands:\n"
        "bye / exit / quit                  Quit sftp\n"
        "cd path                            Change remote directory to 'path'\n"
        "chgrp [-h] grp path                Change group of file 'path' to 'grp'\n"
        "chmod [-h] mode path               Change permissions of file 'path' to 'mode'\n"
        "chown [-h] own path                Change owner of file 'path' to 'own'\n"
        "df [-h] [path]                     Display statistics for the file system of 'path'\n"
        "get [-r] [-p] remote [local]       Download file (or tree with -r)\n"
        "lcd path                           Change local directory to 'path'\n"
        "lmkdir path                        Create local directory\n"
        "ln [-s] oldpath newpath            Link remote file (-s for symlink)\n"
        "lpwd                               Print local working directory\n"
        "ls [-l] [-a] [path]                Display remote directory listing\n"
        "mkdir path                         Create remote directory\n"
        "put [-r] [-p] local [remote]       Upload file (or tree with -r)\n"
        "pwd                                Display remote working directory\n"
        "rename oldpath newpath             Rename remote file\n"
        "rm path                            Delete remote file\n"
        "rmdir path                         Remove remote directory\n"
        "help / ?                           Display this help text\n");
}

/* Runs one command line: 0, -1 for a failure, 1 to end the session. */
static int
run_line(struct sftp_sh *sh, const char *line)
{
    char *argv[MAX_ARGS], cwd[4096], words[2 * MAX_LINE + MAX_ARGS];
    int argc = sftp_split_words(line, words, sizeof(words), argv, MAX_ARGS);
    const char *c;

    if (argc < 0) {
        /* OpenSSH's words */
        fprintf(stderr, "%s\n", argc == WORDS_OPEN_QUOTE ? "Unterminated quoted argument" :
            "Too many arguments.");
        return -1;
    }
    if (argc == 0)
        return 0;
    /* command names are matched without case, as OpenSSH's sftp does
     * (strcasecmp): "LS" lists */
    for (char *p = argv[0]; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    c = argv[0];
    /* the paths of these may be patterns: they unescape the rest themselves;
     * chmod, chown and chgrp read their number as typed, as OpenSSH's strtoll */
    if (strcmp(c, "ls") != 0 && strcmp(c, "dir") != 0 && strcmp(c, "get") != 0 &&
        strcmp(c, "put") != 0 && strcmp(c, "rm") != 0 && strcmp(c, "chmod") != 0 &&
        strcmp(c, "chown") != 0 && strcmp(c, "chgrp") != 0)
        sftp_literal_words(argc, argv, 1);
    if (strcmp(c, "exit") == 0 || strcmp(c, "quit") == 0 || strcmp(c, "bye") == 0)
        return 1;
    if (strcmp(c, "help") == 0 || strcmp(c, "?") == 0) {
        help();
        return 0;
    }
    if (strcmp(c, "pwd") == 0) {
        xfer_fprintf_vis(stdout, "Remote working directory: %s\n", sh->cwd);
        return 0;
    }
    if (strcmp(c, "lpwd") == 0) {
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            fprintf(stderr, "getcwd: %s\n", strerror(errno));
            return -1;
        }
        printf("Local working directory: %s\n", cwd);
        return 0;
    }
    if (strcmp(c, "lcd") == 0 || strcmp(c, "lmkdir") == 0) {
        int lcd = strcmp(c, "lcd") == 0;
        const char *to = argc > 1 ? argv[1] : NULL;
        if (lcd && (to == NULL || to[0] == '\0' || (to[0] == '~' && (to[1] == '\0' ||
            to[1] == '/')))) {
            /* OpenSSH's lcd alone goes home, and expands "~" (tilde_expand_filename,
             * the password database's home, not $HOME) */
            const struct passwd *pw = getpwuid(getuid());
            if (pw == NULL) {
                fprintf(stderr, "No user found for uid %lu\n", (unsigned long)getuid());
                return -1;
            }
            snprintf(cwd, sizeof(cwd), "%s%s", pw->pw_dir, to != NULL && to[0] == '~' ? to + 1 : "");
            to = cwd;
        }
        if (to == NULL) {
            fprintf(stderr, "You must specify a path after a %s command.\n", c);
            return -1;
        }
        if ((lcd ? chdir(to) : mkdir(to, 0777)) != 0) {
            xfer_fprintf_vis(stderr, "Couldn't %s \"%s\": %s\n", lcd ? "change local directory to" :
                "create local directory", to, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (strcmp(c, "cd") == 0)
        return cmd_cd(sh, argc, argv);
    if (strcmp(c, "ls") == 0 || strcmp(c, "dir") == 0)
        return sftp_cmd_ls(sh, argc, argv);
    if (strcmp(c, "get") == 0 || strcmp(c, "put") == 0)
        return cmd_transfer(sh, argc, argv, c[0] == 'g');
    if (strcmp(c, "df") == 0)
        return sftp_cmd_df(sh, argc, argv);
    if (strcmp(c, "chmod") == 0 || strcmp(c, "chown") == 0 || strcmp(c, "chgrp") == 0)
        return cmd_attr(sh, argc, argv);
    if (strcmp(c, "rm") == 0)
        return cmd_rm(sh, argc, argv);
    if (strcmp(c, "mkdir") == 0 || strcmp(c, "rmdir") == 0 ||
        strcmp(c, "rename") == 0 || strcmp(c, "ln") == 0 || strcmp(c, "symlink") == 0)
        return cmd_paths(sh, argc, argv);
    fprintf(stderr, "Invalid command.\n");
    return -1;
}

/*
 * Reads commands from @p in until the end or exit: 0, or 1 when a batch
 * command failed (without the '-' prefix).
 */
static int
command_loop(struct sftp_sh *sh, FILE *in, int batch, int interactive)
{
    char line[MAX_LINE];

    for (;;) {
        char *cmd = line;
        int ignore = 0, echo = !interactive, r;

        if (interactive) {
            printf("sftp> ");
            fflush(stdout);
        }
        if (fgets(line, sizeof(line), in) == NULL) {
            if (interactive)
                printf("\n");
            return 0;
        }
        line[strcspn(line, "\r\n")] = '\0';
        while (isspace((unsigned char)*cmd))
            cmd++;
        /* OpenSSH's parse_args: any run of '-' (go on after a failure) and
         * '@' (no echo of the line) before the command, in any order */
        for (; *cmd == '-' || *cmd == '@'; cmd++) {
            if (*cmd == '-')
                ignore = 1;
            else
                echo = 0;
        }
        if (echo)
            printf("sftp> %s\n", line);
        sh->err_abort = batch && !ignore;
        fflush(stdout);
        r = run_line(sh, cmd);
        fflush(stdout);
        if (r == 1)
            return 0;
        if (r < 0 && batch && !ignore)
            return 1;
    }
}

int
amk_cmd_sftp(int argc, char **argv)
{
    struct tool_ssh_opts so;
    struct amk_client *c = NULL;
    struct sftp_sh sh;
    const char *batch = NULL;
    FILE *in = stdin;
    int i = 1, r, status = SFTP_EXIT_FAIL;

    memset(&sh, 0, sizeof(sh));
    tool_ssh_opts_init(&so, SUB);
    signal(SIGPIPE, SIG_IGN);
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0) {
            amk_cmd_sftp_usage(stdout);
            status = 0;
            goto out;
        }
        for (size_t k = 1; a[k] != '\0'; k++) {
            char f = a[k];
            const char *val;
            if (f == 'q' || f == 'v') {
                if (f == 'q')
                    sh.quiet = 1;
                else
                    so.verbose++;
                continue;
            }
            if (f != 'P' && f != 'i' && f != 'o' && f != 'b') {
                tool_error(SUB, "unknown option -%c", f);
                amk_cmd_sftp_usage(stderr);
                goto out;
            }
            if (a[k + 1] != '\0')
                val = a + k + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                tool_error(SUB, "option -%c needs a value", f);
                goto out;
            }
            if (f == 'b') {
                batch = val;
            } else if ((f == 'P' && tool_ssh_set_port(&so, val) != 0) ||
                (f == 'i' && tool_ssh_add_identity(&so, val) != 0) ||
                (f == 'o' && tool_ssh_set_option(&so, val) != 0)) {
                status = TOOL_SSH_EXIT_FAIL;
                goto out;
            }
            break;
        }
    }
    if (i + 1 != argc) {
        amk_cmd_sftp_usage(stderr);
        goto out;
    }
    if (batch != NULL) {
        /* as OpenSSH: a batch never prompts and is quiet */
        so.batch = 1;
        sh.quiet = 1;
        if (strcmp(batch, "-") != 0 && (in = fopen(batch, "r")) == NULL) {
            tool_error(SUB, "%s: %s", batch, strerror(errno));
            goto out;
        }
    }
    if (tool_ssh_set_destination(&so, argv[i]) != 0)
        goto out;
    if (tool_ssh_connect(&so, &c) != AMK_OK) {
        status = TOOL_SSH_EXIT_FAIL;
        goto out;
    }
    if ((r = amk_sftp_new_client(&sh.sftp, c)) != AMK_OK ||
        (r = amk_sftp_realpath(sh.sftp, ".", &sh.cwd)) != AMK_OK ||
        (sh.start = strdup(sh.cwd)) == NULL) {
        tool_error(SUB, "%s: cannot start sftp: %s", so.host, sh.sftp != NULL ?
            amk_sftp_last_error(sh.sftp) : amk_client_last_error(c));
        status = TOOL_SSH_EXIT_FAIL;
        goto out;
    }
    sh.show_bar = !sh.quiet && isatty(STDOUT_FILENO);
    if (batch == NULL && !sh.quiet && isatty(STDIN_FILENO))
        printf("Connected to %s.\n", so.host);
    status = command_loop(&sh, in, batch != NULL, batch == NULL && isatty(STDIN_FILENO));
out:
    if (in != NULL && in != stdin)
        fclose(in);
    free(sh.cwd);
    free(sh.start);
    amk_sftp_free(sh.sftp);
    if (c != NULL && amk_client_close(c) != AMK_OK && so.verbose > 0)
        tool_error(SUB, "close: %s", amk_client_last_error(c));
    amk_client_free(c);
    tool_ssh_opts_free(&so);
    return status;
}
