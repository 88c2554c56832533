/*
 * Fuzz target for util/buf.c: interprets the input as a program of getter
 * calls over the rest of the input, so every getter sees hostile lengths,
 * truncations and malformed mpints. Invariants: no over-read (ASan), a
 * failed getter consumes nothing, lengths never exceed what was there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/namelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_buf v, child;
    size_t nops, before, len;
    const uint8_t *p;
    uint8_t mag[AMK_MPINT_MAX_BYTES + 2];
    uint8_t *copy;
    char *s;
    uint32_t u32;
    uint64_t u64;
    uint8_t u8;
    int r, neg, bl;

    if (size < 1)
        return 0;
    nops = data[0] % 16 + 1;
    if (size < 1 + nops)
        return 0;
    amk_buf_view(&v, data + 1 + nops, size - 1 - nops);
    for (size_t i = 0; i < nops; i++) {
        before = amk_buf_len(&v);
        switch (data[1 + i] % 11) {
        case 0: r = amk_buf_get_u8(&v, &u8); break;
        case 1: r = amk_buf_get_u32(&v, &u32); break;
        case 2: r = amk_buf_get_u64(&v, &u64); break;
        case 3: r = amk_buf_get_bool(&v, &bl); break;
        case 4:
            r = amk_buf_get_string_direct(&v, &p, &len);
            if (r == AMK_OK && len > before - 4)
                abort();
            break;
        case 5:
            r = amk_buf_get_string(&v, &copy, &len);
            if (r == AMK_OK)
                free(copy);
            break;
        case 6:
            r = amk_buf_get_cstring(&v, &s, &len);
            if (r == AMK_OK) {
                if (strlen(s) != len)
                    abort();
                free(s);
            }
            break;
        case 7:
            r = amk_buf_get_mpint_direct(&v, &p, &len);
            if (r == AMK_OK && (len > AMK_MPINT_MAX_BYTES || (len > 0 && p[0] == 0)))
                abort();
            break;
        case 8:
            r = amk_buf_get_mpint_signed(&v, mag, sizeof(mag), &len, &neg);
            if (r == AMK_OK) {
                /* Re-encoding must reproduce a minimal encoding that reads back equal. */
                struct amk_buf *b = amk_buf_new();
                uint8_t mag2[sizeof(mag)];
                size_t len2;
                int neg2;
                if (b == NULL)
                    abort();
                if (amk_buf_put_mpint_signed(b, mag, len, neg) != AMK_OK ||
                    amk_buf_get_mpint_signed(b, mag2, sizeof(mag2), &len2, &neg2) != AMK_OK ||
                    len2 != len || (len > 0 && neg2 != neg) || memcmp(mag, mag2, len) != 0)
                    abort();
                amk_buf_free(b);
            }
            break;
        case 9:
            r = amk_buf_get_namelist(&v, &s);
            if (r == AMK_OK) {
                char out[AMK_NAME_MAX + 1];
                (void)amk_namelist_match(s, "curve25519-sha256,none,zlib", out);
                free(s);
            }
            break;
        default:
            r = amk_buf_get_stringb(&v, &child);
            if (r == AMK_OK && amk_buf_get_u32(&child, &u32) == AMK_OK &&
                amk_buf_get_end(&child) != AMK_OK && amk_buf_len(&child) == 0)
                abort();   /* trailing data is reported iff some is left */
            break;
        }
        if (r != AMK_OK && amk_buf_len(&v) != before)
            abort();   /* a failed getter must not consume */
        if (amk_buf_len(&v) > before)
            abort();
    }
    return 0;
}
