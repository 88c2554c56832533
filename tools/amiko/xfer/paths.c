/* Path lists and remote wildcards; see paths.h. */
#include "paths.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko.h>

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

int
xfer_has_wildcard(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
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

int
xfer_glob_remote(struct amk_sftp *sftp, const char *path, const char *cwd,
    struct xfer_paths *out, char *err, size_t errcap)
{
    const char *slash = strrchr(path, '/'), *pat = slash != NULL ? slash + 1 : path;
    struct amk_sftp_name *names = NULL;
    size_t n = 0, first = out->n;
    char *typed, *listed;
    int r;

    if (err != NULL && errcap > 0)
        err[0] = '\0';
    if (!xfer_has_wildcard(pat))
        return xfer_paths_add(out, strdup(path)) == 0 ? 1 : -1;
    /* the directory as typed (NULL: the working directory), and where it is read */
    typed = slash == NULL ? NULL : slash == path ? strdup("/") :
        strndup(path, (size_t)(slash - path));
    if (slash != NULL && typed == NULL)
        return -1;
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
    for (size_t i = 0; i < n; i++) {
        const char *fn = names[i].filename;
        if (strcmp(fn, ".") == 0 || strcmp(fn, "..") == 0 || !xfer_name_matches(pat, fn))
            continue;
        if (xfer_paths_add(out, typed == NULL ? strdup(fn) : xfer_join_path(typed, fn)) != 0) {
            if (err != NULL)
                snprintf(err, errcap, "%s: out of memory", path);
            amk_sftp_names_free(names, n);
            free(typed);
            free(listed);
            return -1;
        }
    }
    amk_sftp_names_free(names, n);
    free(typed);
    free(listed);
    if (out->n - first > 1)     /* out->v is NULL while the list is empty */
        qsort(out->v + first, out->n - first, sizeof(*out->v), path_cmp);
    return (int)(out->n - first < (size_t)2147483647 ? out->n - first : 2147483647);
}
