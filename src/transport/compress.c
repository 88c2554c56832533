/*
 * Compression, RFC 4253 §6.2: one zlib stream per direction that lives
 * from NEWKEYS to the next NEWKEYS, flushed after every packet
 * (Z_PARTIAL_FLUSH, as OpenSSH), so each packet decompresses on its own.
 * "zlib@openssh.com" is the same stream started after authentication
 * (kex.c, transport.c decide when). Decompression is capped so that a
 * small packet cannot expand past the packet limit (zip bombs).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "transport/transport_int.h"

#define COMPRESS_LEVEL 6
#define COMPRESS_CHUNK 4096

struct amk_compress {
    z_stream z;
    int deflate_dir;
    int ready;
};

int
amk_compress_new(struct amk_compress **out, int deflate_dir)
{
    struct amk_compress *c = NULL;
    int zr;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMK_ENOMEM;
    c->deflate_dir = deflate_dir;
    zr = deflate_dir ? deflateInit(&c->z, COMPRESS_LEVEL) : inflateInit(&c->z);
    if (zr != Z_OK) {
        free(c);
        return zr == Z_MEM_ERROR ? AMK_ENOMEM : AMK_EINTERNAL;
    }
    c->ready = 1;
    *out = c;
    return AMK_OK;
}

void
amk_compress_free(struct amk_compress *c)
{
    if (c == NULL)
        return;
    if (c->ready) {
        if (c->deflate_dir)
            deflateEnd(&c->z);
        else
            inflateEnd(&c->z);
    }
    free(c);
}

int
amk_compress_deflate(struct amk_compress *c, const uint8_t *data, size_t len, struct amk_buf *out)
{
    uint8_t *p;
    int r = AMK_EINTERNAL;

    if (!c->deflate_dir)
        return AMK_EINTERNAL;
    c->z.next_in = (Bytef *)(uintptr_t)data;
    c->z.avail_in = (uInt)len;
    do {
        size_t produced;
        int zr;
        if ((r = amk_buf_reserve(out, COMPRESS_CHUNK, &p)) != AMK_OK)
            return r;
        c->z.next_out = p;
        c->z.avail_out = COMPRESS_CHUNK;
        zr = deflate(&c->z, Z_PARTIAL_FLUSH);
        produced = COMPRESS_CHUNK - c->z.avail_out;
        if ((r = amk_buf_consume_end(out, c->z.avail_out)) != AMK_OK)
            return r;
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && produced == 0))
            return AMK_EINTERNAL;
    } while (c->z.avail_out == 0);
    return AMK_OK;
}

int
amk_compress_inflate(struct amk_compress *c, const uint8_t *data, size_t len,
    struct amk_buf *out, size_t max)
{
    size_t start = amk_buf_len(out);
    uint8_t *p;
    int r = AMK_EINTERNAL;

    if (c->deflate_dir)
        return AMK_EINTERNAL;
    c->z.next_in = (Bytef *)(uintptr_t)data;
    c->z.avail_in = (uInt)len;
    for (;;) {
        int zr;
        if ((r = amk_buf_reserve(out, COMPRESS_CHUNK, &p)) != AMK_OK)
            return r;
        c->z.next_out = p;
        c->z.avail_out = COMPRESS_CHUNK;
        zr = inflate(&c->z, Z_SYNC_FLUSH);
        if ((r = amk_buf_consume_end(out, c->z.avail_out)) != AMK_OK)
            return r;
        /* The cap: a packet never inflates past the payload limit. */
        if (amk_buf_len(out) - start > max)
            return AMK_ETOOBIG;
        if (zr == Z_BUF_ERROR) {
            /* No progress possible: all input used and output flushed. */
            if (c->z.avail_in == 0)
                return AMK_OK;
            return AMK_EFORMAT;
        }
        if (zr != Z_OK)
            return zr == Z_MEM_ERROR ? AMK_ENOMEM : AMK_EFORMAT;
        if (c->z.avail_in == 0 && c->z.avail_out != 0)
            return AMK_OK;
    }
}
