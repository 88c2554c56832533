/* Base64 (RFC 4648 §4), for key files, public key lines and fingerprints. */
#ifndef AMK_UTIL_BASE64_H
#define AMK_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

struct amk_buf;

/* Appends the encoding of @p len bytes to @p out (no NUL); with @p pad 0
 * the trailing '=' are left out (as in SHA256 fingerprints). */
int amk_base64_encode(const uint8_t *p, size_t len, int pad, struct amk_buf *out)
    __attribute__((warn_unused_result));

/*
 * Appends the decoding of @p len characters to @p out. Whitespace (space,
 * tab, CR, LF) is skipped. Padding is required to complete the last
 * quantum; anything after it, or any other character, is AMK_EFORMAT.
 */
int amk_base64_decode(const char *s, size_t len, struct amk_buf *out)
    __attribute__((warn_unused_result));

#endif
