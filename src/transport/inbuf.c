/*
 * The transport's input buffer (see transport_int.h, struct amk_inbuf).
 *
 * Unlike amk_buf it hands out room at its end for the io layer to read
 * into (amk_inbuf_space / amk_inbuf_commit), so received bytes are not
 * copied once more, and packets are decrypted where they landed. It is
 * compacted with one memmove of the bytes still unread (usually less than
 * one packet) when its end runs out of room; the consumed bytes it leaves
 * behind are not wiped each time, as OpenSSH's sshbuf_pack() does not:
 * the whole storage is wiped when it is reallocated or freed.
 */
#include <stdlib.h>
#include <string.h>

#include "transport/transport_int.h"
#include "util/secure.h"

#define INBUF_MIN_ALLOC ((size_t)4096)

void
amk_inbuf_free(struct amk_inbuf *b)
{
    amk_free_wiped(b->d, b->alloc);
    memset(b, 0, sizeof(*b));
}

int
amk_inbuf_space(struct amk_inbuf *b, size_t want, uint8_t **ptr, size_t *cap)
{
    size_t used = b->size - b->off, need, nalloc;
    uint8_t *nd;

    *ptr = NULL;
    *cap = 0;
    if (want == 0 || want > AMK_TRANSPORT_INPUT_MAX || used > AMK_TRANSPORT_INPUT_MAX - want)
        return AMK_ELIMIT;
    if (b->alloc - b->size < want && b->off > 0 && b->alloc - used >= want) {
        /* Room at the front: move the unread bytes there. */
        if (used > 0)
            memmove(b->d, b->d + b->off, used);
        b->off = 0;
        b->size = used;
    }
    if (b->alloc - b->size < want) {
        need = used + want;
        nalloc = b->alloc < INBUF_MIN_ALLOC ? INBUF_MIN_ALLOC : b->alloc;
        while (nalloc < need)
            nalloc *= 2;
        /* Fresh memory, so the old copy can be wiped (no realloc). */
        if ((nd = malloc(nalloc)) == NULL)
            return AMK_ENOMEM;
        if (used > 0)
            memcpy(nd, b->d + b->off, used);
        amk_free_wiped(b->d, b->alloc);
        b->d = nd;
        b->alloc = nalloc;
        b->off = 0;
        b->size = used;
    }
    *ptr = b->d + b->size;
    *cap = b->alloc - b->size;
    return AMK_OK;
}

void
amk_inbuf_commit(struct amk_inbuf *b, size_t n)
{
    b->size += n;
}

void
amk_inbuf_consume(struct amk_inbuf *b, size_t n)
{
    b->off += n;
    if (b->off == b->size) {
        b->off = 0;
        b->size = 0;
    }
}
