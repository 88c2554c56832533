/*
 * known_hosts files: reading one whole (bounded by AMK_KNOWN_HOSTS_FILE_MAX),
 * replacing one atomically, and appending a line the way ssh(1) does,
 * creating the file with mode 0600 and a missing parent directory (~/.ssh)
 * with mode 0700.
 * See amiko/known_hosts.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko/known_hosts.h>

#include "util/alloc.h"
#include "keys/known_hosts_impl.h"
#include "util/buf.h"

#define FILE_CHUNK 4096
#define FILE_MODE 0600
#define DIR_MODE 0700
/* mkostemp(3) template for a replacement file beside the original. */
#define TEMP_SUFFIX ".XXXXXX"

int
amk_kh_file_read(const char *path, struct amk_buf *out, int *missing)
{
    char chunk[FILE_CHUNK];
    FILE *f = NULL;
    size_t n;
    int r = AMK_EINTERNAL;

    *missing = 0;
    if ((f = fopen(path, "rbe")) == NULL) {
        *missing = errno == ENOENT;
        return AMK_EIO;
    }
    do {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (amk_buf_len(out) + n > AMK_KNOWN_HOSTS_FILE_MAX) {
            r = AMK_ETOOBIG;
            goto out;
        }
        if (n > 0 && (r = amk_buf_put(out, chunk, n)) != AMK_OK)
            goto out;
    } while (n == sizeof(chunk));
    r = ferror(f) ? AMK_EIO : AMK_OK;
out:
    fclose(f);
    return r;
}

int
amk_known_hosts_load_file(struct amk_known_hosts *kh, const char *path)
{
    struct amk_buf text;
    int missing, r = AMK_EINTERNAL;

    if (kh == NULL || path == NULL)
        return AMK_EINVAL;
    amk_buf_init(&text);
    if ((r = amk_kh_file_read(path, &text, &missing)) != AMK_OK) {
        /* ssh(1): a missing known_hosts file is an empty one. */
        if (missing)
            r = AMK_OK;
        goto out;
    }
    r = amk_kh_parse(kh, (const char *)amk_buf_ptr(&text), amk_buf_len(&text), path, 1);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_kh_file_replace(const char *path, const char *data, size_t len)
{
    struct stat st;
    char *tmp = NULL;
    FILE *f = NULL;
    size_t cap = strlen(path) + sizeof(TEMP_SUFFIX);
    int fd = -1, r = AMK_EINTERNAL;

    if (stat(path, &st) != 0)
        return AMK_EIO;
    if ((tmp = amk_malloc(cap)) == NULL)
        return AMK_ENOMEM;
    snprintf(tmp, cap, "%s%s", path, TEMP_SUFFIX);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        r = AMK_EIO;
        goto out;
    }
    if (fchmod(fd, st.st_mode & 07777) != 0 || (f = fdopen(fd, "wb")) == NULL) {
        close(fd);
        unlink(tmp);
        r = AMK_EIO;
        goto out;
    }
    if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        unlink(tmp);
        r = AMK_EIO;
        goto out;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        r = AMK_EIO;
        goto out;
    }
    r = AMK_OK;
out:
    amk_free(tmp);
    return r;
}

/* Creates the directory that holds @p path when it is missing (one level,
 * as ssh(1) creates ~/.ssh). */
static int
make_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    struct stat st;
    char *dir = NULL;
    int r = AMK_EINTERNAL;

    if (slash == NULL || slash == path)
        return AMK_OK;
    if ((dir = amk_strndup(path, (size_t)(slash - path))) == NULL)
        return AMK_ENOMEM;
    if (stat(dir, &st) == 0) {
        r = S_ISDIR(st.st_mode) ? AMK_OK : AMK_EIO;
        goto out;
    }
    if (errno != ENOENT || mkdir(dir, DIR_MODE) != 0) {
        r = AMK_EIO;
        goto out;
    }
    r = AMK_OK;
out:
    amk_free(dir);
    return r;
}

int
amk_kh_file_append(const char *path, const char *text, size_t len, size_t *line)
{
    char chunk[FILE_CHUNK];
    char *out = NULL;
    size_t n, size = 0, newlines = 0, outlen;
    char last = '\n';
    FILE *f = NULL;
    int fd = -1, r = AMK_EINTERNAL;

    *line = 0;
    if (len == 0 || len > AMK_KNOWN_HOSTS_LINE_MAX + 1 || text[len - 1] != '\n')
        return AMK_EINVAL;
    if ((r = make_parent_dir(path)) != AMK_OK)
        return r;
    /* Every write lands at the end of the file, whoever else appends. */
    if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, FILE_MODE)) < 0)
        return AMK_EIO;
    if ((f = fdopen(fd, "a+")) == NULL) {
        close(fd);
        return AMK_EIO;
    }
    /* One buffer large enough for the whole line, so the flush below hands
     * it to the kernel in one piece. */
    if ((out = amk_malloc(len + 1)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (setvbuf(f, NULL, _IOFBF, len + 1 > BUFSIZ ? len + 1 : BUFSIZ) != 0) {
        r = AMK_EIO;
        goto out;
    }
    /* Count the lines already there, and see whether the last one ends. */
    do {
        n = fread(chunk, 1, sizeof(chunk), f);
        size += n;
        if (size > AMK_KNOWN_HOSTS_FILE_MAX) {
            r = AMK_ETOOBIG;
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            newlines += chunk[i] == '\n';
        if (n > 0)
            last = chunk[n - 1];
    } while (n == sizeof(chunk));
    if (ferror(f)) {
        r = AMK_EIO;
        goto out;
    }
    outlen = 0;
    if (last != '\n')
        out[outlen++] = '\n';
    memcpy(out + outlen, text, len);
    outlen += len;
    *line = newlines + 1 + (last != '\n' ? 1 : 0);
    if (fseek(f, 0, SEEK_END) != 0 || fwrite(out, 1, outlen, f) != outlen || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        r = AMK_EIO;
        goto out;
    }
    r = AMK_OK;
out:
    if (fclose(f) != 0 && r == AMK_OK)
        r = AMK_EIO;
    if (r != AMK_OK)
        *line = 0;
    amk_free(out);
    return r;
}
