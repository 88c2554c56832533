/*
 * amiko keygen's known_hosts commands, as ssh-keygen(1):
 *
 *   amiko keygen -F host [-f known_hosts]   print the lines for host
 *   amiko keygen -H [-f known_hosts]        hash the host names
 *   amiko keygen -R host [-f known_hosts]   remove the host's entries
 *
 * host is a name or "[name]:port". The file defaults to ~/.ssh/known_hosts.
 * -H and -R keep the original file as file.old, as ssh-keygen does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"

#define SUB "keygen"

/* Splits "[name]:port" (or a plain name, port 22) into @p name and @p port. */
static int
split_host(const char *arg, char *name, size_t cap, unsigned *port)
{
    const char *close;
    char *end;
    unsigned long v;

    *port = 22;
    if (arg[0] != '[') {
        if (strlen(arg) >= cap)
            return -1;
        memcpy(name, arg, strlen(arg) + 1);
        return 0;
    }
    close = strchr(arg, ']');
    if (close == NULL || close[1] != ':' || (size_t)(close - arg - 1) >= cap)
        return -1;
    errno = 0;
    v = strtoul(close + 2, &end, 10);
    if (errno != 0 || *end != '\0' || close[2] == '\0' || v == 0 || v > 65535)
        return -1;
    memcpy(name, arg + 1, (size_t)(close - arg - 1));
    name[close - arg - 1] = '\0';
    *port = (unsigned)v;
    return 0;
}

/* -f's file, or ~/.ssh/known_hosts in @p buf. NULL without HOME. */
static const char *
hosts_path(const char *file, char *buf, size_t cap)
{
    const char *home = getenv("HOME");

    if (file != NULL)
        return file;
    if (home == NULL) {
        tool_error(SUB, "no -f file and no HOME");
        return NULL;
    }
    snprintf(buf, cap, "%s/.ssh/known_hosts", home);
    return buf;
}

/* The whole file at @p path (malloc'd) and its mode; -1 when unreadable. */
static int
slurp(const char *path, char **data, size_t *len, mode_t *mode)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    size_t n;

    *data = NULL;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        tool_error(SUB, "cannot read %s: %s", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    *mode = st.st_mode & 07777;
    if ((*data = malloc((size_t)st.st_size + 1)) == NULL) {
        fclose(f);
        tool_error(SUB, "out of memory");
        return -1;
    }
    n = fread(*data, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        tool_error(SUB, "cannot read %s", path);
        free(*data);
        *data = NULL;
        return -1;
    }
    *len = n;
    return 0;
}

/* Writes @p path.old with the original contents, as ssh-keygen keeps it. */
static int
write_backup(const char *path, const char *data, size_t len, mode_t mode)
{
    char old[PATH_MAX + 8];
    int fd;
    ssize_t w = 0;

    snprintf(old, sizeof(old), "%s.old", path);
    if (unlink(old) != 0 && errno != ENOENT) {
        tool_error(SUB, "cannot remove %s: %s", old, strerror(errno));
        return -1;
    }
    fd = open(old, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0 || (len > 0 && (w = write(fd, data, len)) != (ssize_t)len)) {
        tool_error(SUB, "cannot write %s: %s", old, w < 0 || fd < 0 ? strerror(errno) : "short");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (close(fd) != 0) {
        tool_error(SUB, "cannot write %s: %s", old, strerror(errno));
        return -1;
    }
    printf("%s updated.\nOriginal contents retained as %s\n", path, old);
    return 0;
}

struct find_ctx {
    const char *host;     /* as given on the command line */
    int with_markers;     /* -F: report marker lines; -R: they stay */
    int print_line;
};

static int
print_found(void *user, size_t line, const char *text, size_t len,
    enum amk_known_hosts_marker marker)
{
    const struct find_ctx *c = user;

    if (!c->with_markers && marker != AMK_KNOWN_HOSTS_MARK_NONE)
        return AMK_OK;
    if (c->print_line) {
        /* ssh-keygen -F: "# Host h found: line N " with the marker or nothing. */
        printf("# Host %s found: line %zu %s\n", c->host, line,
            marker == AMK_KNOWN_HOSTS_MARK_CA        ? "CA"
            : marker == AMK_KNOWN_HOSTS_MARK_REVOKED ? "REVOKED"
                                                     : "");
        printf("%.*s\n", (int)len, text);
    } else {
        printf("# Host %s found: line %zu\n", c->host, line);
    }
    return AMK_OK;
}

int
tool_keygen_find(const char *host, const char *file)
{
    char name[1100], buf[PATH_MAX];
    struct find_ctx c = { host, 1, 1 };
    const char *path = hosts_path(file, buf, sizeof(buf));
    unsigned port;
    size_t found = 0;
    int r;

    if (path == NULL)
        return TOOL_EXIT_USAGE;
    if (split_host(host, name, sizeof(name), &port) != 0) {
        tool_error(SUB, "bad host '%s'", host);
        return TOOL_EXIT_USAGE;
    }
    if ((r = amk_known_hosts_find_file(path, name, port, print_found, &c, &found)) != AMK_OK) {
        tool_error(SUB, "%s: %s", path, amk_strerror(r));
        return r == AMK_EINVAL ? TOOL_EXIT_USAGE : TOOL_EXIT_FAIL;
    }
    return found > 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

int
tool_keygen_remove(const char *host, const char *file)
{
    char name[1100], buf[PATH_MAX];
    struct find_ctx c = { host, 0, 0 };
    const char *path = hosts_path(file, buf, sizeof(buf));
    char *orig = NULL;
    size_t len = 0, removed = 0;
    unsigned port;
    mode_t mode = 0600;
    int r, status = TOOL_EXIT_FAIL;

    if (path == NULL)
        return TOOL_EXIT_USAGE;
    if (split_host(host, name, sizeof(name), &port) != 0) {
        tool_error(SUB, "bad host '%s'", host);
        return TOOL_EXIT_USAGE;
    }
    if (slurp(path, &orig, &len, &mode) != 0)
        return TOOL_EXIT_FAIL;
    if ((r = amk_known_hosts_find_file(path, name, port, print_found, &c, NULL)) != AMK_OK ||
        (r = amk_known_hosts_remove(path, name, port, &removed)) != AMK_OK) {
        tool_error(SUB, "%s: %s", path, amk_strerror(r));
        status = r == AMK_EINVAL ? TOOL_EXIT_USAGE : TOOL_EXIT_FAIL;
        goto out;
    }
    if (removed == 0)
        fprintf(stderr, "Host %s not found in %s\n", host, path);
    else if (write_backup(path, orig, len, mode) != 0)
        goto out;
    status = TOOL_EXIT_OK;
out:
    free(orig);
    return status;
}

int
tool_keygen_hash(const char *file)
{
    char buf[PATH_MAX];
    const char *path = hosts_path(file, buf, sizeof(buf));
    char *orig = NULL;
    size_t len = 0, hashed = 0;
    mode_t mode = 0600;
    int r, status = TOOL_EXIT_FAIL;

    if (path == NULL)
        return TOOL_EXIT_USAGE;
    if (slurp(path, &orig, &len, &mode) != 0)
        return TOOL_EXIT_FAIL;
    if ((r = amk_known_hosts_hash_file(path, &hashed)) != AMK_OK) {
        tool_error(SUB, "%s: %s", path, amk_strerror(r));
        goto out;
    }
    if (hashed > 0) {
        if (write_backup(path, orig, len, mode) != 0)
            goto out;
        fprintf(stderr, "WARNING: %s.old contains unhashed entries\n"
                        "Delete this file to ensure privacy of hostnames\n", path);
    }
    status = TOOL_EXIT_OK;
out:
    free(orig);
    return status;
}
