/*
 * Making text from the peer safe to show on a terminal: banners,
 * keyboard-interactive prompts, disconnect and error messages.
 *
 * RFC 4252 §5.4 warns that a banner may carry terminal control
 * characters; RFC 4251 §9.2 asks clients to filter them. What is kept:
 * printable ASCII, tab, newline (a CR before a newline is dropped) and
 * well-formed UTF-8 (RFC 3629) other than C1 controls (U+0080..U+009F)
 * and the bidirectional overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069). Everything else (ESC and the other C0 controls, DEL,
 * NUL, a lone CR, malformed or overlong UTF-8, surrogates) becomes one
 * '?' per offending unit, so the output is never longer than the input.
 */
#ifndef AMK_UTIL_SANITIZE_H
#define AMK_UTIL_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

/*
 * Writes the sanitised form of the @p len bytes at @p in to a new
 * NUL-terminated string *@p out (free with free()); *@p outlen (may be
 * NULL) gets its length. AMK_OK or AMK_ENOMEM.
 */
int amk_text_sanitize(const uint8_t *in, size_t len, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/* The length of the well-formed UTF-8 sequence at @p p (1..4), or 0 when
 * the bytes there are not one (RFC 3629 §4). *@p cp gets the code point. */
size_t amk_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp);

#endif
