/* see channel/ring.h */
#include "channel/ring.h"

#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

#define RING_MIN_CAP ((size_t)16 * 1024)

void
amk_ring_init(struct amk_ring *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    r->max = max;
}

void
amk_ring_release(struct amk_ring *r)
{
    size_t max = r->max;

    amk_free_wiped(r->d, r->cap);
    amk_ring_init(r, max);
}

/* Grows the storage to hold at least @p need bytes, keeping the data. */
static int
ring_grow(struct amk_ring *r, size_t need)
{
    size_t ncap = r->cap < RING_MIN_CAP ? RING_MIN_CAP : r->cap, first;
    uint8_t *nd;

    while (ncap < need)
        ncap *= 2;
    if (ncap > r->max && r->max >= need)
        ncap = r->max;
    if ((nd = malloc(ncap)) == NULL)
        return AMK_ENOMEM;
    /* The data starts at 0 in the new storage. */
    first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
    if (first > 0)
        memcpy(nd, r->d + r->head, first);
    if (r->len > first)
        memcpy(nd + first, r->d, r->len - first);
    amk_free_wiped(r->d, r->cap);
    r->d = nd;
    r->cap = ncap;
    r->head = 0;
    return AMK_OK;
}

int
amk_ring_put(struct amk_ring *r, const void *p, size_t n)
{
    size_t tail, first;
    int rc;

    if (n > r->max || r->len > r->max - n)
        return AMK_ELIMIT;
    if (n == 0)
        return AMK_OK;
    if (r->len == 0)
        r->head = 0;    /* empty: start over at the front */
    if (r->cap - r->len < n && (rc = ring_grow(r, r->len + n)) != AMK_OK)
        return rc;
    tail = r->head + r->len;
    if (tail >= r->cap)
        tail -= r->cap;
    first = r->cap - tail < n ? r->cap - tail : n;
    memcpy(r->d + tail, p, first);
    if (n > first)
        memcpy(r->d, (const uint8_t *)p + first, n - first);
    r->len += n;
    return AMK_OK;
}

size_t
amk_ring_get(struct amk_ring *r, void *out, size_t cap)
{
    size_t n = cap < r->len ? cap : r->len, first;

    if (n == 0)
        return 0;
    first = r->cap - r->head < n ? r->cap - r->head : n;
    memcpy(out, r->d + r->head, first);
    if (n > first)
        memcpy((uint8_t *)out + first, r->d, n - first);
    r->head += n;
    if (r->head >= r->cap)
        r->head -= r->cap;
    r->len -= n;
    if (r->len == 0)
        r->head = 0;
    return n;
}
