/*
 * Helpers for the key tests: a temporary directory, running the real
 * ssh-keygen in it, and reading what it wrote.
 */
#ifndef AMK_TEST_KEY_TEST_UTIL_H
#define AMK_TEST_KEY_TEST_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_helper.h"

#include "util/base64.h"
#include "util/buf.h"

/* Creates an empty temporary directory; remove it with ktu_rmdir(). */
static inline char *
ktu_mkdtemp(void)
{
    char *d = strdup("/tmp/amk-key-test-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static inline void
ktu_rmdir(char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    char path[4096];

    if (dp != NULL) {
        while ((de = readdir(dp)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(dp);
    }
    rmdir(dir);
    free(dir);
}

/* Runs a shell command (printf-style); returns its exit status. Its
 * standard output, if @p out is not NULL, is returned allocated. */
static inline int
ktu_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline int
ktu_run(char **out, const char *fmt, ...)
{
    char cmd[8192], chunk[4096];
    size_t len = 0, n;
    char *text = NULL;
    va_list ap;
    FILE *f;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    f = popen(cmd, "r");
    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        text = realloc(text, len + n + 1);
        assert_non_null(text);
        memcpy(text + len, chunk, n);
        len += n;
    }
    if (text == NULL)
        text = calloc(1, 1);
    text[len] = '\0';
    st = pclose(f);
    if (out != NULL)
        *out = text;
    else
        free(text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The whole file at @p path, NUL-terminated. */
static inline char *
ktu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return text;
}

/* The n-th (0-based) blank-separated field of @p line, allocated. */
static inline char *
ktu_field(const char *line, int n)
{
    const char *p = line, *start;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (n-- == 0)
            break;
        if (*p == '\0' || *p == '\n')
            return NULL;
    }
    return strndup(start, (size_t)(p - start));
}

/* Decodes the base64 blob (field 2) of the .pub file at @p path into @p out. */
static inline void
ktu_pub_blob(const char *path, struct amk_buf *out)
{
    char *text = ktu_read(path, NULL);
    char *b64 = ktu_field(text, 1);

    assert_non_null(b64);
    ASSERT_OK(amk_base64_decode(b64, strlen(b64), out));
    free(b64);
    free(text);
}

#endif
