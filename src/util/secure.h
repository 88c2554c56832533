/* Wiping secrets and comparing them in constant time. */
#ifndef AMK_UTIL_SECURE_H
#define AMK_UTIL_SECURE_H

#include <stddef.h>

/* Zeroes @p len bytes at @p p in a way the compiler cannot remove. NULL is fine. */
void amk_wipe(void *p, size_t len);

/* Wipes then frees @p len bytes at @p p. NULL is fine. */
void amk_free_wiped(void *p, size_t len);

/*
 * Returns 1 when the @p len bytes at @p a and @p b are equal, 0 otherwise,
 * in time that depends only on @p len.
 */
int amk_ct_equal(const void *a, const void *b, size_t len);

#endif
