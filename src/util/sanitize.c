/* Sanitising peer text for display (see sanitize.h). */
#include "util/sanitize.h"
#include "util/alloc.h"

#include <stdlib.h>

#define REPLACEMENT '?'

size_t
amk_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp)
{
    uint32_t c;
    size_t n, i;

    *cp = 0;
    if (len == 0)
        return 0;
    /* RFC 3629 §4: the lead byte gives the length and the allowed range
     * of the second byte (no overlongs, no surrogates, nothing past
     * U+10FFFF). */
    uint8_t lo = 0x80, hi = 0xbf;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        c = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        c = p[0] & 0x0fu;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        c = p[0] & 0x07u;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0u) != 0x80u)
            return 0;
        c = c << 6 | (p[i] & 0x3fu);
    }
    *cp = c;
    return n;
}

/* Code points that are well-formed but must not reach a terminal. */
static int
unsafe_code_point(uint32_t cp)
{
    if (cp >= 0x80 && cp <= 0x9f)
        return 1;       /* C1 controls (CSI is U+009B) */
    if (cp >= 0x202a && cp <= 0x202e)
        return 1;       /* bidi embeddings and overrides */
    if (cp >= 0x2066 && cp <= 0x2069)
        return 1;       /* bidi isolates */
    return 0;
}

int
amk_text_sanitize(const uint8_t *in, size_t len, char **out, size_t *outlen)
{
    char *s = NULL;
    size_t i = 0, o = 0;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (len == SIZE_MAX) {
        r = AMK_ELIMIT;
        goto out;
    }
    if ((s = amk_malloc(len + 1)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    while (i < len) {
        uint8_t b = in[i];
        uint32_t cp;
        size_t n;

        if (b >= 0x20 && b < 0x7f) {
            s[o++] = (char)b;
            i++;
            continue;
        }
        if (b == '\n' || b == '\t') {
            s[o++] = (char)b;
            i++;
            continue;
        }
        if (b == '\r') {
            if (i + 1 < len && in[i + 1] == '\n') {
                i++;            /* CR LF: keep only the LF */
                continue;
            }
            s[o++] = REPLACEMENT;
            i++;
            continue;
        }
        if (b < 0x80) {         /* other C0 controls, DEL */
            s[o++] = REPLACEMENT;
            i++;
            continue;
        }
        n = amk_utf8_decode(in + i, len - i, &cp);
        if (n == 0) {
            s[o++] = REPLACEMENT;
            i++;
            continue;
        }
        if (unsafe_code_point(cp)) {
            s[o++] = REPLACEMENT;
        } else {
            for (size_t k = 0; k < n; k++)
                s[o++] = (char)in[i + k];
        }
        i += n;
    }
    s[o] = '\0';
    *out = s;
    s = NULL;
    if (outlen != NULL)
        *outlen = o;
    r = AMK_OK;
out:
    amk_free(s);
    return r;
}
