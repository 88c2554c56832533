/* Test files for the interop tests (tf_*); see file_util.h. */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "proc_util.h"
#include "file_util.h"

#define CHUNK (1024 * 1024)     /* a multiple of 4: the stream goes on across chunks */

/* Four bytes per xorshift32 step; *@p x carries the stream on. */
static void
stream(uint32_t *x, uint8_t *p, size_t n)
{
    uint32_t v = *x;

    while (n > 0) {
        size_t k = n < 4 ? n : 4;

        v ^= v << 13;
        v ^= v >> 17;
        v ^= v << 5;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
    *x = v;
}

static uint32_t
stream_start(uint32_t seed)
{
    return seed * 2654435761u + 1;      /* never 0, where xorshift would stay */
}

char *
tf_read(const char *path, size_t *len)
{
    char *buf = proc_slurp(path, len);

    if (buf == NULL)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    return buf;
}

void
tf_fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = stream_start(seed);

    stream(&x, p, n);
}

static int
create(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    return fd;
}

static void
write_all(int fd, const char *path, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail_msg("cannot write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static void
finish(int fd, const char *path)
{
    if (close(fd) != 0)
        fail_msg("cannot write %s: %s", path, strerror(errno));
}

void
tf_write(const char *path, const void *data, size_t n)
{
    int fd = create(path);

    write_all(fd, path, data, n);
    finish(fd, path);
}

void
tf_make(const char *path, uint64_t size, uint32_t seed)
{
    uint8_t *buf = malloc(CHUNK);
    uint32_t x = stream_start(seed);
    int fd = create(path);

    assert_non_null(buf);
    for (uint64_t done = 0; done < size;) {
        size_t n = size - done < CHUNK ? (size_t)(size - done) : (size_t)CHUNK;

        stream(&x, buf, n);
        write_all(fd, path, buf, n);
        done += n;
    }
    finish(fd, path);
    free(buf);
}

off_t
tf_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : -1;
}

int
tf_sha256(const char *path, uint8_t out[32], uint64_t *size)
{
    struct amk_hash_ctx *h = NULL;
    uint8_t *buf = malloc(CHUNK);
    ssize_t n = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;

    *size = 0;
    if (fd < 0 || buf == NULL || amk_hash_new(&h, AMK_HASH_SHA256) != AMK_OK)
        goto out;
    while ((n = read(fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        if (amk_hash_update(h, buf, (size_t)n) != AMK_OK)
            goto out;
        *size += (uint64_t)n;
    }
    if (n == 0 && amk_hash_final(h, out) == AMK_OK)
        r = 0;
out:
    amk_hash_free(h);
    if (fd >= 0)
        close(fd);
    free(buf);
    return r;
}

static void
hex(const uint8_t h[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

int
tf_same(const char *a, const char *b)
{
    uint8_t ha[32], hb[32];
    char xa[65], xb[65];
    uint64_t la, lb;

    if (tf_sha256(a, ha, &la) != 0) {
        print_message("cannot read %s\n", a);
        return 0;
    }
    if (tf_sha256(b, hb, &lb) != 0) {
        print_message("cannot read %s\n", b);
        return 0;
    }
    if (la == lb && memcmp(ha, hb, sizeof(ha)) == 0)
        return 1;
    hex(ha, xa);
    hex(hb, xb);
    print_message("%s: %llu bytes, sha256 %s\n%s: %llu bytes, sha256 %s\n", a,
        (unsigned long long)la, xa, b, (unsigned long long)lb, xb);
    return 0;
}
