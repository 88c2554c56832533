/* Path lists and remote wildcards; see paths.h. */
#include "paths.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <amiko.h>

#include "vis.h"

int
xfer_paths_add(struct xfer_paths *l, char *p)
{
    if (p == NULL)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 16 : l->cap * 2;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            free(p);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = p;
    return 0;
}

void
xfer_paths_free(struct xfer_paths *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

char *
xfer_join_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), need = dl + strlen(name) + 2;
    char *p = malloc(need);

    if (p != NULL)
        snprintf(p, need, "%s%s%s", dir, dl > 0 && dir[dl - 1] == '/' ? "" : "/", name);
    return p;
}

char *
xfer_base_name(const char *path)
{
    size_t end = strlen(path), start;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    return strndup(path + start, end - start);
}

int
xfer_name_ok(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
        strcmp(name, "..") != 0;
}

const char *
xfer_path_message(char *buf, size_t cap, const char *path, const char *message)
{
    size_t pl = strlen(path);

    if (strncmp(message, path, pl) == 0 && message[pl] == ':' && message[pl + 1] == ' ')
        snprintf(buf, cap, "%s", message);
    else
        snprintf(buf, cap, "%s: %s", path, message);
    return buf;
}

int
xfer_has_wildcard(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' && s[1] != '\0')
            s++;                /* escaped: a plain character */
        else if (*s == '*' || *s == '?' || *s == '[')
            return 1;
    }
    return 0;
}

void
xfer_unescape(char *s)
{
    char *w = s;

    for (; *s != '\0'; s++) {
        if (*s == '\\' && s[1] != '\0')
            s++;
        *w++ = *s;
    }
    *w = '\0';
}

/* @p s without its escapes, in a new string. */
static char *
unescaped(const char *s)
{
    char *p = strdup(s);

    if (p != NULL)
        xfer_unescape(p);
    return p;
}

int
xfer_name_matches(const char *pat, const char *name)
{
    return fnmatch(pat, name, FNM_PERIOD) == 0;
}

static int
path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Drops the paths of @p l from index @p first on. */
static void
paths_truncate(struct xfer_paths *l, size_t first)
{
    while (l->n > first)
        free(l->v[--l->n]);
}

int
xfer_glob_remote(struct amk_sftp *sftp, const char *path, const char *cwd, unsigned flags,
    const char *who, struct xfer_paths *out, char *err, size_t errcap)
{
    const char *slash = strrchr(path, '/'), *pat = slash != NULL ? slash + 1 : path;
    struct amk_sftp_name *names = NULL;
    size_t n = 0, first = out->n;
    char *typed, *listed;
    int r, failed = 0;

    if (err != NULL && errcap > 0)
        err[0] = '\0';
    if (!xfer_has_wildcard(pat))
        return xfer_paths_add(out, unescaped(path)) == 0 ? 1 : -1;
    /* the directory as typed (NULL: the working directory; its wildcards
     * are plain characters), and where it is read */
    typed = slash == NULL ? NULL : slash == path ? strdup("/") :
        strndup(path, (size_t)(slash - path));
    if (slash != NULL && typed == NULL)
        return -1;
    if (typed != NULL)
        xfer_unescape(typed);
    if (cwd != NULL && (typed == NULL || typed[0] != '/'))
        listed = typed == NULL ? strdup(cwd) : xfer_join_path(cwd, typed);
    else
        listed = strdup(typed == NULL ? "." : typed);
    if (listed == NULL) {
        free(typed);
        return -1;
    }
    if ((r = amk_sftp_listdir(sftp, listed, &names, &n)) != AMK_OK) {
        if (err != NULL)
            snprintf(err, errcap, "%s: %s", listed, amk_sftp_last_error(sftp));
        free(typed);
        free(listed);
        return -1;
    }
    for (size_t i = 0; i < n && !failed; i++) {
        const char *fn = names[i].filename;
        if (strcmp(fn, ".") == 0 || strcmp(fn, "..") == 0)
            continue;
        if ((flags & XFER_GLOB_SKIP_SUSPECT) && strchr(fn, '/') != NULL) {
            /* OpenSSH's sftp-client.c (do_lsreaddir) drops such a name and
             * goes on; its glob reads the directory with a trailing '/' */
            xfer_fprintf_vis(stderr, "%sServer sent suspect path \"%s\" during readdir of "
                "\"%s%s\"\n", who, fn, listed,
                listed[0] != '\0' && listed[strlen(listed) - 1] == '/' ? "" : "/");
        } else if (!xfer_name_ok(fn)) {
            /* fnmatch() lets '*' match a '/', and "x/.." ends as ".." under
             * the target: a hostile server's way out of it. Named as
             * OpenSSH's sftp-client.c does; nothing of this listing is used. */
            if (err != NULL)
                snprintf(err, errcap, "Server sent suspect path \"%s\" during readdir of \"%s\"",
                    fn, listed);
            failed = 1;
        } else if (xfer_name_matches(pat, fn) &&
            xfer_paths_add(out, typed == NULL ? strdup(fn) : xfer_join_path(typed, fn)) != 0) {
            if (err != NULL)
                snprintf(err, errcap, "%s: out of memory", path);
            failed = 1;
        }
    }
    amk_sftp_names_free(names, n);
    free(typed);
    free(listed);
    if (failed) {
        paths_truncate(out, first);
        return -1;
    }
    if (out->n == first && (flags & XFER_GLOB_NOCHECK))
        return xfer_paths_add(out, unescaped(path)) == 0 ? 1 : -1;
    if (out->n - first > 1)     /* out->v is NULL while the list is empty */
        qsort(out->v + first, out->n - first, sizeof(*out->v), path_cmp);
    return (int)(out->n - first < (size_t)2147483647 ? out->n - first : 2147483647);
}

int
xfer_mark_remote_dir(struct amk_sftp *sftp, char **path)
{
    struct amk_sftp_attrs a;
    size_t len = strlen(*path);
    char *p;

    if ((len > 0 && (*path)[len - 1] == '/') || amk_sftp_stat(sftp, *path, &a) != AMK_OK ||
        !(a.flags & AMK_SFTP_ATTR_PERMISSIONS) || !S_ISDIR(a.permissions))
        return 0;
    if ((p = malloc(len + 2)) == NULL)
        return -1;
    memcpy(p, *path, len);
    memcpy(p + len, "/", 2);
    free(*path);
    *path = p;
    return 0;
}
