/* see util/buf.h */
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/secure.h"

#define BUF_MIN_ALLOC 256

static void
store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
load_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void
amk_buf_init(struct amk_buf *b)
{
    memset(b, 0, sizeof(*b));
    b->max = AMK_BUF_MAX_DEFAULT;
}

struct amk_buf *
amk_buf_new(void)
{
    struct amk_buf *b = amk_malloc(sizeof(*b));

    if (b != NULL)
        amk_buf_init(b);
    return b;
}

void
amk_buf_release(struct amk_buf *b)
{
    if (b == NULL)
        return;
    if (!b->readonly)
        amk_free_wiped(b->d, b->alloc);
    amk_buf_init(b);
}

void
amk_buf_free(struct amk_buf *b)
{
    if (b == NULL)
        return;
    amk_buf_release(b);
    amk_free(b);
}

void
amk_buf_view(struct amk_buf *v, const void *p, size_t len)
{
    amk_buf_init(v);
    v->d = (uint8_t *)(uintptr_t)p;   /* never written: readonly is set */
    v->size = len;
    v->alloc = len;
    v->max = len;
    v->readonly = 1;
}

int
amk_buf_set_max(struct amk_buf *b, size_t max)
{
    if (b->readonly || max > AMK_BUF_MAX_HARD || max < b->size - b->off)
        return AMK_EINVAL;
    b->max = max;
    return AMK_OK;
}

void
amk_buf_reset(struct amk_buf *b)
{
    if (b->readonly) {
        b->off = b->size;
        return;
    }
    amk_wipe(b->d, b->size);
    b->off = 0;
    b->size = 0;
}

size_t
amk_buf_len(const struct amk_buf *b)
{
    return b->size - b->off;
}

const uint8_t *
amk_buf_ptr(const struct amk_buf *b)
{
    /* An empty buffer may have no storage: NULL + 0 is undefined. */
    return b->d == NULL ? NULL : b->d + b->off;
}

uint8_t *
amk_buf_mutable_ptr(struct amk_buf *b)
{
    return b->readonly || b->d == NULL ? NULL : b->d + b->off;
}

/* Makes room for @p len more bytes at the end without changing the data. */
static int
buf_make_room(struct amk_buf *b, size_t len)
{
    size_t used, need, nalloc;
    uint8_t *nd;

    if (b->readonly)
        return AMK_ESTATE;
    used = b->size - b->off;
    if (len > b->max || used > b->max - len)
        return AMK_ELIMIT;
    if (len <= b->alloc - b->size)
        return AMK_OK;
    need = used + len;
    /* Compact when the consumed prefix is enough to fit the data. */
    if (need <= b->alloc && b->off >= b->alloc / 2) {
        memmove(b->d, b->d + b->off, used);
        amk_wipe(b->d + used, b->size - used);
        b->off = 0;
        b->size = used;
        return AMK_OK;
    }
    nalloc = b->alloc < BUF_MIN_ALLOC ? BUF_MIN_ALLOC : b->alloc;
    while (nalloc < need)
        nalloc = nalloc > SIZE_MAX / 2 ? need : nalloc * 2;
    if (nalloc > b->max)
        nalloc = need > b->max ? need : b->max;
    /* Move to fresh memory so the old copy can be wiped (no realloc). */
    nd = amk_malloc(nalloc);
    if (nd == NULL)
        return AMK_ENOMEM;
    if (used > 0)
        memcpy(nd, b->d + b->off, used);
    amk_free_wiped(b->d, b->alloc);
    b->d = nd;
    b->alloc = nalloc;
    b->off = 0;
    b->size = used;
    return AMK_OK;
}

int
amk_buf_reserve(struct amk_buf *b, size_t len, uint8_t **dp)
{
    int r;

    if (dp != NULL)
        *dp = NULL;
    if ((r = buf_make_room(b, len)) != AMK_OK)
        return r;
    /* An empty buffer may have no storage yet: no NULL + 0 (UBSan). */
    if (dp != NULL)
        *dp = b->d != NULL ? b->d + b->size : NULL;
    b->size += len;
    return AMK_OK;
}

int
amk_buf_put(struct amk_buf *b, const void *data, size_t len)
{
    uint8_t *p;
    int r;

    if ((r = amk_buf_reserve(b, len, &p)) != AMK_OK)
        return r;
    if (len > 0)
        memcpy(p, data, len);
    return AMK_OK;
}

int
amk_buf_putb(struct amk_buf *b, const struct amk_buf *from)
{
    return amk_buf_put(b, amk_buf_ptr(from), amk_buf_len(from));
}

int
amk_buf_consume(struct amk_buf *b, size_t len)
{
    if (len > amk_buf_len(b))
        return AMK_ETRUNCATED;
    b->off += len;
    if (b->off == b->size && !b->readonly) {
        b->off = 0;
        b->size = 0;
    }
    return AMK_OK;
}

int
amk_buf_consume_end(struct amk_buf *b, size_t len)
{
    if (len > amk_buf_len(b))
        return AMK_ETRUNCATED;
    b->size -= len;
    return AMK_OK;
}

int
amk_buf_get_bytes(struct amk_buf *b, void *out, size_t len)
{
    if (len > amk_buf_len(b))
        return AMK_ETRUNCATED;
    if (len > 0)
        memcpy(out, amk_buf_ptr(b), len);
    return amk_buf_consume(b, len);
}

int
amk_buf_poke_u32(struct amk_buf *b, size_t offset, uint32_t v)
{
    if (b->readonly)
        return AMK_ESTATE;
    if (amk_buf_len(b) < 4 || offset > amk_buf_len(b) - 4)
        return AMK_ETRUNCATED;
    store_u32(b->d + b->off + offset, v);
    return AMK_OK;
}

int
amk_buf_put_u8(struct amk_buf *b, uint8_t v)
{
    return amk_buf_put(b, &v, 1);
}

int
amk_buf_put_bool(struct amk_buf *b, int v)
{
    return amk_buf_put_u8(b, v ? 1 : 0);
}

int
amk_buf_put_u32(struct amk_buf *b, uint32_t v)
{
    uint8_t *p;
    int r;

    if ((r = amk_buf_reserve(b, 4, &p)) != AMK_OK)
        return r;
    store_u32(p, v);
    return AMK_OK;
}

int
amk_buf_put_u64(struct amk_buf *b, uint64_t v)
{
    uint8_t *p;
    int r;

    if ((r = amk_buf_reserve(b, 8, &p)) != AMK_OK)
        return r;
    store_u32(p, (uint32_t)(v >> 32));
    store_u32(p + 4, (uint32_t)v);
    return AMK_OK;
}

int
amk_buf_put_string(struct amk_buf *b, const void *data, size_t len)
{
    uint8_t *p;
    int r;

    if (len > UINT32_MAX || len > SIZE_MAX - 4)
        return AMK_ELIMIT;
    if ((r = amk_buf_reserve(b, 4 + len, &p)) != AMK_OK)
        return r;
    store_u32(p, (uint32_t)len);
    if (len > 0)
        memcpy(p + 4, data, len);
    return AMK_OK;
}

int
amk_buf_put_cstring(struct amk_buf *b, const char *s)
{
    return amk_buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
amk_buf_put_stringb(struct amk_buf *b, const struct amk_buf *v)
{
    return amk_buf_put_string(b, amk_buf_ptr(v), amk_buf_len(v));
}

int
amk_buf_put_mpint_signed(struct amk_buf *b, const uint8_t *mag, size_t len, int negative)
{
    uint8_t *p;
    size_t i, outlen;
    int pad, r;

    /* RFC 4251 §5: no unnecessary leading bytes; zero is the empty string. */
    while (len > 0 && mag[0] == 0) {
        mag++;
        len--;
    }
    if (len == 0)
        return amk_buf_put_u32(b, 0);
    if (len > AMK_MPINT_MAX_BYTES + 1)
        return AMK_ELIMIT;
    if (!negative) {
        pad = (mag[0] & 0x80) != 0;
        if ((r = amk_buf_reserve(b, 4 + pad + len, &p)) != AMK_OK)
            return r;
        store_u32(p, (uint32_t)(pad + len));
        p[4] = 0;
        memcpy(p + 4 + pad, mag, len);
        return AMK_OK;
    }
    /* Two's complement of the magnitude: invert and add one. */
    uint8_t *tmp = amk_malloc(len + 1);
    if (tmp == NULL)
        return AMK_ENOMEM;
    tmp[0] = 0xff;
    unsigned carry = 1;
    for (i = len; i > 0; i--) {
        unsigned v = (uint8_t)~mag[i - 1] + carry;
        tmp[i] = (uint8_t)v;
        carry = v >> 8;
    }
    /* Drop redundant 0xff bytes: keep one only if the next lacks the sign bit. */
    size_t start = 0;
    while (start < len && tmp[start] == 0xff && (tmp[start + 1] & 0x80) != 0)
        start++;
    outlen = len + 1 - start;
    r = amk_buf_put_string(b, tmp + start, outlen);
    amk_free(tmp);
    return r;
}

int
amk_buf_put_mpint(struct amk_buf *b, const uint8_t *mag, size_t len)
{
    return amk_buf_put_mpint_signed(b, mag, len, 0);
}

int
amk_buf_peek_u8(const struct amk_buf *b, size_t offset, uint8_t *v)
{
    if (offset >= amk_buf_len(b))
        return AMK_ETRUNCATED;
    *v = amk_buf_ptr(b)[offset];
    return AMK_OK;
}

int
amk_buf_peek_u32(const struct amk_buf *b, size_t offset, uint32_t *v)
{
    if (amk_buf_len(b) < 4 || offset > amk_buf_len(b) - 4)
        return AMK_ETRUNCATED;
    *v = load_u32(amk_buf_ptr(b) + offset);
    return AMK_OK;
}

int
amk_buf_get_u8(struct amk_buf *b, uint8_t *v)
{
    int r;

    if ((r = amk_buf_peek_u8(b, 0, v)) != AMK_OK)
        return r;
    return amk_buf_consume(b, 1);
}

int
amk_buf_get_bool(struct amk_buf *b, int *v)
{
    uint8_t u;
    int r;

    if ((r = amk_buf_get_u8(b, &u)) != AMK_OK)
        return r;
    *v = u != 0;   /* RFC 4251 §5: all non-zero values are TRUE */
    return AMK_OK;
}

int
amk_buf_get_u32(struct amk_buf *b, uint32_t *v)
{
    int r;

    if ((r = amk_buf_peek_u32(b, 0, v)) != AMK_OK)
        return r;
    return amk_buf_consume(b, 4);
}

int
amk_buf_get_u64(struct amk_buf *b, uint64_t *v)
{
    const uint8_t *p;

    if (amk_buf_len(b) < 8)
        return AMK_ETRUNCATED;
    p = amk_buf_ptr(b);
    *v = ((uint64_t)load_u32(p) << 32) | load_u32(p + 4);
    return amk_buf_consume(b, 8);
}

int
amk_buf_get_string_direct(struct amk_buf *b, const uint8_t **p, size_t *len)
{
    uint32_t n;
    int r;

    if (p != NULL)
        *p = NULL;
    if (len != NULL)
        *len = 0;
    if ((r = amk_buf_peek_u32(b, 0, &n)) != AMK_OK)
        return r;
    if (amk_buf_len(b) - 4 < n)
        return AMK_ETRUNCATED;
    if (p != NULL)
        *p = amk_buf_ptr(b) + 4;
    if (len != NULL)
        *len = n;
    return amk_buf_consume(b, 4 + (size_t)n);
}

int
amk_buf_get_string(struct amk_buf *b, uint8_t **out, size_t *outlen)
{
    const uint8_t *p;
    size_t len;
    uint32_t n;
    uint8_t *copy;
    int r;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    /* Check first, allocate, then consume: a failure leaves b untouched. */
    if ((r = amk_buf_peek_u32(b, 0, &n)) != AMK_OK)
        return r;
    if (amk_buf_len(b) - 4 < n)
        return AMK_ETRUNCATED;
    if ((copy = amk_malloc((size_t)n + 1)) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_buf_get_string_direct(b, &p, &len)) != AMK_OK) {
        amk_free(copy);
        return r;
    }
    if (len > 0)
        memcpy(copy, p, len);
    copy[len] = '\0';
    *out = copy;
    if (outlen != NULL)
        *outlen = len;
    return AMK_OK;
}

int
amk_buf_get_cstring(struct amk_buf *b, char **s, size_t *len)
{
    struct amk_buf peek = *b;
    const uint8_t *p;
    size_t n;
    int r;

    *s = NULL;
    if (len != NULL)
        *len = 0;
    if ((r = amk_buf_get_string_direct(&peek, &p, &n)) != AMK_OK)
        return r;
    if (n > 0 && memchr(p, '\0', n) != NULL)
        return AMK_EFORMAT;
    return amk_buf_get_string(b, (uint8_t **)s, len);
}

int
amk_buf_get_stringb(struct amk_buf *b, struct amk_buf *view)
{
    const uint8_t *p;
    size_t len;
    int r;

    if ((r = amk_buf_get_string_direct(b, &p, &len)) != AMK_OK)
        return r;
    amk_buf_view(view, p, len);
    return AMK_OK;
}

int
amk_buf_skip_string(struct amk_buf *b)
{
    return amk_buf_get_string_direct(b, NULL, NULL);
}

/* Checks the RFC 4251 §5 minimal-encoding rule on a raw mpint body. */
static int
mpint_check(const uint8_t *p, size_t len)
{
    if (len == 0)
        return AMK_OK;
    if (len > AMK_MPINT_MAX_BYTES + 1)
        return AMK_ETOOBIG;
    if (len >= 2) {
        /* A leading 0x00 is needed only to clear the sign bit of the next
         * byte; a leading 0xff only to set it. */
        if (p[0] == 0x00 && (p[1] & 0x80) == 0)
            return AMK_EFORMAT;
        if (p[0] == 0xff && (p[1] & 0x80) != 0)
            return AMK_EFORMAT;
    } else if (p[0] == 0x00) {
        return AMK_EFORMAT;   /* zero must be the empty string */
    }
    return AMK_OK;
}

int
amk_buf_get_mpint_direct(struct amk_buf *b, const uint8_t **mag, size_t *len)
{
    struct amk_buf peek = *b;
    const uint8_t *p;
    size_t n;
    int r;

    *mag = NULL;
    *len = 0;
    if ((r = amk_buf_get_string_direct(&peek, &p, &n)) != AMK_OK)
        return r;
    if ((r = mpint_check(p, n)) != AMK_OK)
        return r;
    if (n > 0 && (p[0] & 0x80) != 0)
        return AMK_EFORMAT;   /* negative */
    if (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    if (n > AMK_MPINT_MAX_BYTES)
        return AMK_ETOOBIG;
    *mag = p;
    *len = n;
    return amk_buf_consume(b, amk_buf_len(b) - amk_buf_len(&peek));
}

int
amk_buf_get_mpint_signed(struct amk_buf *b, uint8_t *mag, size_t cap, size_t *len, int *negative)
{
    struct amk_buf peek = *b;
    const uint8_t *p;
    size_t n, i;
    int r;

    *len = 0;
    *negative = 0;
    if ((r = amk_buf_get_string_direct(&peek, &p, &n)) != AMK_OK)
        return r;
    if ((r = mpint_check(p, n)) != AMK_OK)
        return r;
    if (n == 0)
        return amk_buf_consume(b, 4);
    if ((p[0] & 0x80) == 0) {
        if (p[0] == 0) {
            p++;
            n--;
        }
        if (n > cap)
            return AMK_ELIMIT;
        memcpy(mag, p, n);
        *len = n;
        return amk_buf_consume(b, amk_buf_len(b) - amk_buf_len(&peek));
    }
    /* Negative: magnitude = two's complement of the encoding. */
    if (n > cap)
        return AMK_ELIMIT;
    unsigned carry = 1;
    for (i = n; i > 0; i--) {
        unsigned v = (uint8_t)~p[i - 1] + carry;
        mag[i - 1] = (uint8_t)v;
        carry = v >> 8;
    }
    /* Strip leading zeros of the magnitude (e.g. -128 = 0x80 -> 0x80). */
    size_t lead = 0;
    while (lead < n && mag[lead] == 0)
        lead++;
    memmove(mag, mag + lead, n - lead);
    *len = n - lead;
    *negative = 1;
    return amk_buf_consume(b, amk_buf_len(b) - amk_buf_len(&peek));
}

int
amk_buf_to_cstring(const struct amk_buf *b, char **out, size_t *outlen)
{
    size_t len = amk_buf_len(b);
    char *s;

    *out = NULL;
    if ((s = amk_malloc(len + 1)) == NULL)
        return AMK_ENOMEM;
    if (len > 0)
        memcpy(s, amk_buf_ptr(b), len);
    s[len] = '\0';
    *out = s;
    if (outlen != NULL)
        *outlen = len;
    return AMK_OK;
}

int
amk_buf_get_end(const struct amk_buf *b)
{
    return amk_buf_len(b) == 0 ? AMK_OK : AMK_EFORMAT;
}
