/*
 * Test files for the interop tests: deterministic contents to transfer, and
 * the comparison of a copy with its source. One copy of each, where the
 * tests used to carry their own (fill, make_file, sha256_file,
 * *_same_file, *_files_equal, slurp, cli_write, write_local). tf_read,
 * tf_write and tf_make fail the running cmocka test; the others return
 * what went wrong.
 */
#ifndef AMK_TESTS_FILE_UTIL_H
#define AMK_TESTS_FILE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The contents of @p path, NUL-terminated (free it), its length in *@p len
 * (may be NULL). Fails the running test when it cannot be read. */
char *tf_read(const char *path, size_t *len);

/* Makes @p path (0644, truncated) hold the @p n bytes at @p data. Fails the
 * running test when it cannot. */
void tf_write(const char *path, const void *data, size_t n);

/* Fills @p p with @p n bytes of a xorshift stream from @p seed: cheap,
 * the same for the same seed, different for different seeds. */
void tf_fill(uint8_t *p, size_t n, uint32_t seed);

/* Makes @p path (0644, truncated) hold @p size bytes of tf_fill()'s stream
 * for @p seed, written 1 MiB at a time, so any size fits. Fails the running
 * test when it cannot. */
void tf_make(const char *path, uint64_t size, uint32_t seed);

/* The size of @p path (following a symlink), or -1 when it does not exist
 * or cannot be reached. */
off_t tf_size(const char *path);

/* The SHA-256 of @p path's contents in @p out and its length in *@p size.
 * 0, or -1 when it cannot be read. */
int tf_sha256(const char *path, uint8_t out[32], uint64_t *size);

/* 1 when both files can be read and have the same length and SHA-256;
 * otherwise 0, after printing what differs (a missing file, or each one's
 * length and SHA-256). */
int tf_same(const char *a, const char *b);

#endif
