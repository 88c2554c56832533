/*
 * amiko sftp's ls and df, printed as OpenSSH's sftp prints them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sftp_sh.h"
#include "xfer/paths.h"
#include "xfer/vis.h"

#define LS_COLS 80

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct amk_sftp_name *)a)->filename,
        ((const struct amk_sftp_name *)b)->filename);
}

/* Whether ls shows @p fn: dot files with -a only, and for a wildcard
 * listing the names the pattern matches (which has its own dot rule:
 * ".*" matches "." and "..", which OpenSSH's glob lists too). */
static int
ls_shown(const char *fn, const char *pat, int aflag)
{
    if (strchr(fn, '/') != NULL)
        return 0;               /* a suspect name (ls_drop_suspect) */
    if (pat != NULL)
        return xfer_name_matches(pat, fn);
    return fn[0] != '.' || aflag;
}

/* A name ls shows, and its ls_mark(). */
struct ls_entry {
    const struct amk_sftp_name *nm;
    const char *mark;
};

/* The character @p i of @p e's name (@p len long) and mark, one string. */
static unsigned char
ls_entry_at(const struct ls_entry *e, size_t len, size_t i)
{
    return (unsigned char)(i < len ? e->nm->filename[i] : e->mark[i - len]);
}

/* By name and mark together, as OpenSSH's glob sorts its marked paths
 * ("../" before "./"). */
static int
ls_entry_cmp(const void *a, const void *b)
{
    const struct ls_entry *x = a, *y = b;
    size_t xl = strlen(x->nm->filename), yl = strlen(y->nm->filename);

    for (size_t i = 0;; i++) {
        unsigned char c = ls_entry_at(x, xl, i), d = ls_entry_at(y, yl, i);
        if (c != d || c == '\0')
            return c - d;
    }
}

/*
 * "/" when a wildcard's match @p nm in directory @p dir is a directory, or
 * a symlink to one (asked with a STAT), else "": OpenSSH's glob marks them
 * so (GLOB_MARK), in columns and long lines alike.
 */
static const char *
ls_mark(struct sftp_sh *sh, const char *dir, const struct amk_sftp_name *nm)
{
    struct amk_sftp_attrs a = nm->attrs;

    if ((a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISLNK(a.permissions)) {
        char *p = sftp_abs_path(dir, nm->filename);
        if (p == NULL || amk_sftp_stat(sh->sftp, p, &a) != AMK_OK)
            a.flags = 0;
        free(p);
    }
    return (a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.permissions) ? "/" : "";
}

/*
 * Says which names of the listing of @p dir hold a '/', which ls leaves out
 * (ls_shown) as OpenSSH's sftp does: "Server sent suspect path" on stderr,
 * the directory as OpenSSH reads it (with a '/' after it when @p mark,
 * its glob's GLOB_MARK).
 */
static void
ls_drop_suspect(const struct amk_sftp_name *names, size_t n, const char *dir, int mark)
{
    size_t dl = strlen(dir);

    for (size_t k = 0; k < n; k++)
        if (strchr(names[k].filename, '/') != NULL)
            xfer_fprintf_vis(stderr, "Server sent suspect path \"%s\" during readdir of \"%s%s\"\n",
                names[k].filename, dir, mark && (dl == 0 || dir[dl - 1] != '/') ? "/" : "");
}

/*
 * Every entry of remote directory @p path as the server lists it, "." and
 * ".." included (amk_sftp_listdir() leaves them out; ls -a shows them, as
 * OpenSSH's), in *@p names (*@p n); free with amk_sftp_names_free(). Within
 * amk_sftp_listdir()'s bounds (a server that never ends a listing).
 * 0, or -1 after a message (printed before the CLOSE, whose answer would
 * replace the failure's status and text).
 */
static int
ls_read_dir(struct sftp_sh *sh, const char *path, struct amk_sftp_name **names, size_t *n)
{
    struct amk_sftp_file *d = NULL;
    struct amk_sftp_name e, *v = NULL;
    size_t count = 0, cap = 0, bytes = 0;
    const char *why = NULL;     /* a failure of ours, not the server's */
    int more = 1, r;

    *names = NULL;
    *n = 0;
    if ((r = amk_sftp_opendir(sh->sftp, path, &d)) != AMK_OK)
        return sftp_remote_fail(sh, "readdir", path, r);
    while ((r = amk_sftp_readdir(d, &e, &more)) == AMK_OK && more) {
        bytes += strlen(e.filename) + (e.longname != NULL ? strlen(e.longname) : 0) + 2;
        if (bytes > AMK_SFTP_LIST_MAX_BYTES) {
            r = AMK_ELIMIT;
            why = "listing too long";
            break;
        }
        if (count == cap) {
            struct amk_sftp_name *nv;
            cap = cap == 0 ? 64 : cap * 2;
            if (cap > AMK_SFTP_LIST_MAX_ENTRIES) {
                r = AMK_ELIMIT;
                why = "too many entries";
                break;
            }
            if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
                r = AMK_ENOMEM;
                why = "out of memory";
                break;
            }
            v = nv;
        }
        v[count] = e;
        v[count].filename = strdup(e.filename);
        v[count].longname = e.longname != NULL ? strdup(e.longname) : NULL;
        if (v[count].filename == NULL || (e.longname != NULL && v[count].longname == NULL)) {
            free(v[count].filename);
            free(v[count].longname);
            r = AMK_ENOMEM;
            why = "out of memory";
            break;
        }
        count++;
    }
    if (r != AMK_OK) {
        if (why != NULL)
            xfer_fprintf_vis(stderr, "remote readdir \"%s\": %s\n", path, why);
        else
            sftp_remote_fail(sh, "readdir", path, r);
        amk_sftp_names_free(v, count);
        (void)amk_sftp_close(d);
        return -1;
    }
    (void)amk_sftp_close(d);    /* read-only: nothing to lose */
    *names = v;
    *n = count;
    return 0;
}

/* One `ls -l` line: the server's long line for @p nm, its trailing name
 * replaced by @p shown (the name as the user typed it); escaped. */
static void
print_long(const struct amk_sftp_name *nm, const char *shown)
{
    const char *ln = nm->longname;
    size_t ll, fl = strlen(nm->filename);

    if (ln != NULL && (ll = strlen(ln)) >= fl && strcmp(ln + ll - fl, nm->filename) == 0)
        xfer_fprintf_vis(stdout, "%.*s%s\n", (int)(ll - fl), ln, shown);
    else
        xfer_fprintf_vis(stdout, "%s\n", ln != NULL && ln[0] != '\0' ? ln : shown);
}

/*
 * ls -l of a file (@p path absolute, @p shown as typed): STAT has no long
 * line, so it comes from the file's directory listing, as OpenSSH's sftp
 * prints a long line for a file too. 0, or -1 when the listing cannot be
 * read or lacks the name.
 */
static int
ls_long_file(struct sftp_sh *sh, const char *path, const char *shown)
{
    const char *slash = strrchr(path, '/');
    struct amk_sftp_name *names = NULL;
    char *dir, *base = xfer_base_name(path);
    size_t n = 0;
    int rc = -1;

    dir = slash == NULL || slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    if (dir != NULL && base != NULL && base[0] != '\0' &&
        amk_sftp_listdir(sh->sftp, dir, &names, &n) == AMK_OK) {
        for (size_t k = 0; k < n && rc != 0; k++) {
            if (strcmp(names[k].filename, base) == 0) {
                print_long(&names[k], shown);
                rc = 0;
            }
        }
        amk_sftp_names_free(names, n);
    }
    free(dir);
    free(base);
    return rc;
}

/*
 * ls [-l] [-a] [path]: a directory's names in columns (or the server's
 * long lines), a file's name, or with wildcards in the last component the
 * matching names; with a path, names show under it as typed, as OpenSSH's
 * sftp does.
 */
int
sftp_cmd_ls(struct sftp_sh *sh, int argc, char **argv)
{
    struct amk_sftp_name *names = NULL;
    struct amk_sftp_attrs a;
    size_t n = 0, width = 0, shown = 0, prefix_len = 0, per_line, colspace;
    int lflag = 0, aflag = 0, oneflag = 0, i = 1, r;
    const char *arg, *pat = NULL, *prefix;
    struct ls_entry *shown_v = NULL;
    size_t n_shown = 0;
    char *path, *dirarg = NULL;

    for (; i < argc && argv[i][0] == '-'; i++) {
        for (const char *f = argv[i] + 1; *f != '\0'; f++) {
            /* -l and -1 as OpenSSH: the last one wins */
            if (*f == 'l' || *f == '1') {
                lflag = *f == 'l';
                oneflag = *f == '1';
            } else if (*f == 'a') {
                aflag = 1;
            } else {
                fprintf(stderr, "ls: Invalid flag -%c\n", *f);
                return -1;
            }
        }
    }
    arg = i < argc ? argv[i] : NULL;
    if (arg != NULL) {
        const char *slash = strrchr(arg, '/'), *last = slash != NULL ? slash + 1 : arg;
        if (xfer_has_wildcard(last)) {
            pat = last;         /* matched with its escapes; the directory is literal */
            if (slash != NULL && (dirarg = slash == arg ? strdup("/") :
                    strndup(arg, (size_t)(slash - arg))) == NULL)
                return -1;
            if (dirarg != NULL)
                xfer_unescape(dirarg);
        } else {
            xfer_unescape(argv[i]);
        }
    }
    /* names show under the path as typed (a pattern's directory part) */
    prefix = pat != NULL ? dirarg : arg;
    if ((path = (prefix != NULL ? sftp_abs_path(sh->cwd, prefix) : strdup(sh->cwd))) == NULL) {
        free(dirarg);
        return -1;
    }
    if (pat == NULL) {
        if ((r = amk_sftp_stat(sh->sftp, path, &a)) != AMK_OK) {
            /* OpenSSH's words: its glob found nothing */
            if (r == AMK_ENOENT)
                xfer_fprintf_vis(stderr, "Can't ls: \"%s\" not found\n", path);
            else
                sftp_remote_fail(sh, "stat", path, r);
            free(path);
            return -1;
        }
        if (!((a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.permissions))) {
            /* a file: its name as given (its long line with -l), in a
             * column as wide as OpenSSH's glob measures it (the absolute path) */
            const char *name = arg != NULL ? arg : path;
            if (!lflag || ls_long_file(sh, path, name) != 0) {
                char safe[4 * MAX_LINE];
                width = xfer_vis(NULL, 0, path);
                per_line = LS_COLS / (width + 2) > 0 ? LS_COLS / (width + 2) : 1;
                xfer_vis(safe, sizeof(safe), name);
                printf("%-*s\n", oneflag ? 0 : (int)(LS_COLS / per_line), safe);
            }
            free(path);
            return 0;
        }
    }
    if (ls_read_dir(sh, path, &names, &n) != 0) {
        free(path);
        free(dirarg);
        return -1;
    }
    if (n > 1)
        qsort(names, n, sizeof(*names), name_cmp);
    ls_drop_suspect(names, n, path, arg != NULL);
    if (prefix != NULL) {
        prefix_len = strlen(prefix);
        while (prefix_len > 1 && prefix[prefix_len - 1] == '/')
            prefix_len--;
    }
    /* OpenSSH's columns: as many as the longest name + 2 allows, spread
     * over the full width; for a pattern it measures the matches' absolute
     * paths (its glob's, marked), though it prints them as typed; the
     * names shown, with their marks, in its order */
    if ((shown_v = calloc(n > 0 ? n : 1, sizeof(*shown_v))) == NULL) {
        amk_sftp_names_free(names, n);
        free(path);
        free(dirarg);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        size_t w;
        if (!ls_shown(names[k].filename, pat, aflag))
            continue;
        shown_v[n_shown].nm = &names[k];
        shown_v[n_shown].mark = pat != NULL ? ls_mark(sh, path, &names[k]) : "";
        w = xfer_vis(NULL, 0, names[k].filename) + strlen(shown_v[n_shown].mark) +
            (pat != NULL ? strlen(path) + 1 : prefix_len > 0 ? prefix_len + 1 : 0);
        if (w > width)
            width = w;
        n_shown++;
    }
    if (n_shown > 1)
        qsort(shown_v, n_shown, sizeof(*shown_v), ls_entry_cmp);
    per_line = LS_COLS / (width + 2) > 0 ? LS_COLS / (width + 2) : 1;
    colspace = LS_COLS / per_line;
    for (size_t k = 0; k < n_shown; k++) {
        const struct amk_sftp_name *nm = shown_v[k].nm;
        char shown_name[MAX_LINE], safe[4 * MAX_LINE];
        if (prefix_len > 0)
            snprintf(shown_name, sizeof(shown_name), "%.*s%s%s%s", (int)prefix_len, prefix,
                prefix[prefix_len - 1] == '/' ? "" : "/", nm->filename, shown_v[k].mark);
        else
            snprintf(shown_name, sizeof(shown_name), "%s%s", nm->filename, shown_v[k].mark);
        if (lflag || oneflag) {
            if (lflag)
                print_long(nm, shown_name);
            else
                xfer_fprintf_vis(stdout, "%s\n", shown_name);
            shown++;
            continue;
        }
        xfer_vis(safe, sizeof(safe), shown_name);     /* names come from the server */
        printf("%-*s", (int)colspace, safe);
        if (++shown % per_line == 0)
            printf("\n");
    }
    if (!lflag && !oneflag && shown % per_line != 0)
        printf("\n");
    free(shown_v);
    amk_sftp_names_free(names, n);
    if (pat != NULL && shown == 0) {
        char *abs = sftp_abs_path(sh->cwd, arg);
        xfer_fprintf_vis(stderr, "Can't ls: \"%s\" not found\n", abs != NULL ? abs : arg);
        free(abs);
        free(path);
        free(dirarg);
        return -1;
    }
    free(path);
    free(dirarg);
    return 0;
}

int
sftp_cmd_df(struct sftp_sh *sh, int argc, char **argv)
{
    struct amk_sftp_statvfs st;
    int hflag = argc > 1 && strcmp(argv[1], "-h") == 0, r;
    char *path = sftp_abs_path(sh->cwd, argc > 1 + hflag ? argv[1 + hflag] : ".");
    uint64_t size, used, avail, root_avail, pct;

    if (path == NULL)
        return -1;
    r = amk_sftp_statvfs(sh->sftp, path, &st);
    if (r != AMK_OK) {
        /* a refusal (a missing path) fails quietly, as OpenSSH's sftp, whose
         * do_df asks do_statvfs for no message */
        if (amk_err_class(r) != AMK_ERRCLASS_REMOTE)
            sftp_remote_fail(sh, "statvfs", path, r);
        free(path);
        return -1;
    }
    free(path);
    size = st.frsize * st.blocks;
    used = st.frsize * (st.blocks - st.bfree);
    avail = st.frsize * st.bavail;
    root_avail = st.frsize * st.bfree;
    pct = st.blocks > 0 ? 100 * (st.blocks - st.bfree) / st.blocks : 0;
    if (hflag) {
        char s1[16], s2[16], s3[16], s4[16];
        xfer_format_size(s1, sizeof(s1), size);
        xfer_format_size(s2, sizeof(s2), used);
        xfer_format_size(s3, sizeof(s3), avail);
        xfer_format_size(s4, sizeof(s4), root_avail);
        /* the columns of OpenSSH's sftp */
        printf("%8s %8s %8s %8s %12s\n", "Size", "Used", "Avail", "(root)", "%Capacity");
        printf("%8s %8s %8s %8s %11llu%%\n", s1, s2, s3, s4, (unsigned long long)pct);
    } else {
        printf("%12s %12s %12s %12s %12s\n", "Size", "Used", "Avail", "(root)", "%Capacity");
        printf("%12llu %12llu %12llu %12llu %11llu%%\n", (unsigned long long)(size / 1024),
            (unsigned long long)(used / 1024), (unsigned long long)(avail / 1024),
            (unsigned long long)(root_avail / 1024), (unsigned long long)pct);
    }
    return 0;
}
