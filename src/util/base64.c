/* see base64.h */
#include <amiko/error.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
amk_base64_encode(const uint8_t *p, size_t len, int pad, struct amk_buf *out)
{
    char q[4];
    size_t i, n;
    int r;

    for (i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        n = len - i >= 3 ? 3 : len - i;
        if (n > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (n > 2)
            v |= p[i + 2];
        q[0] = b64_alphabet[(v >> 18) & 63];
        q[1] = b64_alphabet[(v >> 12) & 63];
        q[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
        q[3] = n > 2 ? b64_alphabet[v & 63] : '=';
        if (pad)
            r = amk_buf_put(out, q, 4);
        else
            r = amk_buf_put(out, q, n + 1);
        if (r != AMK_OK)
            return r;
    }
    return AMK_OK;
}

static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
amk_base64_decode(const char *s, size_t len, struct amk_buf *out)
{
    uint8_t bytes[3];
    uint32_t acc = 0;
    size_t before = amk_buf_len(out);
    int nq = 0, npad = 0, r = AMK_EFORMAT, v;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            /* Padding only in the last two places of a quantum. */
            if (nq < 2) {
                r = AMK_EFORMAT;
                goto out;
            }
            npad++;
            nq++;
        } else {
            if (npad > 0 || (v = b64_value(c)) < 0) {
                r = AMK_EFORMAT;
                goto out;
            }
            acc = acc << 6 | (uint32_t)v;
            nq++;
        }
        if (nq == 4) {
            acc <<= 6 * npad;
            bytes[0] = (uint8_t)(acc >> 16);
            bytes[1] = (uint8_t)(acc >> 8);
            bytes[2] = (uint8_t)acc;
            if ((r = amk_buf_put(out, bytes, 3 - (size_t)npad)) != AMK_OK)
                goto out;
            nq = 0;
            acc = 0;
            if (npad > 0) {
                /* Nothing but whitespace may follow. */
                for (size_t j = i + 1; j < len; j++) {
                    if (s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n') {
                        r = AMK_EFORMAT;
                        goto out;
                    }
                }
                break;
            }
        }
    }
    if (nq != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    r = AMK_OK;
out:
    amk_wipe(bytes, sizeof(bytes));
    acc = 0;
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    return r;
}
