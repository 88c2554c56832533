/*
 * A byte ring for a channel's received data: bytes are appended at the
 * tail and read from the head without ever moving what is stored (an
 * amk_buf compacts or grows by copying its unread bytes, which for a
 * window of many MiB costs as much as the data itself). Storage grows by
 * doubling, only as far as the data needs, up to a maximum (the
 * channel's receive window), and is wiped when it is reallocated or freed.
 */
#ifndef AMK_CHANNEL_RING_H
#define AMK_CHANNEL_RING_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct amk_ring {
    uint8_t *d;
    size_t cap;         /* bytes allocated at d */
    size_t head;        /* index of the oldest byte */
    size_t len;         /* bytes stored */
    size_t max;         /* len never exceeds this */
};

/* An empty ring holding at most @p max bytes. */
void amk_ring_init(struct amk_ring *r, size_t max);
/* Wipes and frees the storage; the ring is empty (same max) afterwards. */
void amk_ring_release(struct amk_ring *r);
/* Appends @p n bytes. AMK_ELIMIT beyond max (nothing stored), AMK_ENOMEM. */
int amk_ring_put(struct amk_ring *r, const void *p, size_t n) AMK_MUST_CHECK_INTERNAL;
/* Moves up to @p cap bytes from the head to @p out; returns how many. */
size_t amk_ring_get(struct amk_ring *r, void *out, size_t cap);

static inline size_t
amk_ring_len(const struct amk_ring *r)
{
    return r->len;
}

#endif
