/*
 * amk_buf: a growable byte buffer with bounds-checked reads and writes of
 * the SSH wire types of RFC 4251 §5 (byte, boolean, uint32, uint64, string,
 * mpint, name-list).
 *
 * Data is appended at the end and consumed from the front. Every getter
 * checks before it consumes: on failure the buffer is left untouched.
 * Getters named _direct return a view into the buffer (valid until the
 * buffer is next modified); plain getters return an allocated copy.
 * A buffer never grows past its maximum (AMK_BUF_MAX_DEFAULT unless set).
 * Storage is wiped when it is freed, reallocated or reset.
 */
#ifndef AMK_UTIL_BUF_H
#define AMK_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

#define AMK_MUST_CHECK_INTERNAL __attribute__((warn_unused_result))

/* Largest buffer unless amk_buf_set_max() says otherwise. */
#define AMK_BUF_MAX_DEFAULT ((size_t)64 * 1024 * 1024)
/* Absolute ceiling for any buffer. */
#define AMK_BUF_MAX_HARD ((size_t)1024 * 1024 * 1024)
/* Largest mpint magnitude we read: 16384-bit numbers (RSA keys), as OpenSSH. */
#define AMK_MPINT_MAX_BYTES ((size_t)16384 / 8)

struct amk_buf {
    uint8_t *d;        /* storage (owned unless readonly) */
    size_t off;        /* start of unread data */
    size_t size;       /* end of data */
    size_t alloc;      /* bytes allocated at d */
    size_t max;        /* size - off never exceeds this */
    int readonly;      /* a view over bytes owned elsewhere */
};

/* Allocation and set-up. */
struct amk_buf *amk_buf_new(void);
void amk_buf_free(struct amk_buf *b);            /* wipes; NULL is fine */
void amk_buf_init(struct amk_buf *b);            /* an empty owned buffer, for embedding */
void amk_buf_release(struct amk_buf *b);         /* wipes and frees storage of an embedded buffer */
void amk_buf_view(struct amk_buf *v, const void *p, size_t len); /* read-only view */
int amk_buf_set_max(struct amk_buf *b, size_t max) AMK_MUST_CHECK_INTERNAL;
void amk_buf_reset(struct amk_buf *b);           /* empties (and wipes) the buffer */

/* Inspection. */
size_t amk_buf_len(const struct amk_buf *b);
const uint8_t *amk_buf_ptr(const struct amk_buf *b);
uint8_t *amk_buf_mutable_ptr(struct amk_buf *b);  /* NULL for a read-only view */

/* Raw appends. */
int amk_buf_reserve(struct amk_buf *b, size_t len, uint8_t **dp) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put(struct amk_buf *b, const void *data, size_t len) AMK_MUST_CHECK_INTERNAL;
int amk_buf_putb(struct amk_buf *b, const struct amk_buf *from) AMK_MUST_CHECK_INTERNAL;

/* Raw consumption. */
int amk_buf_consume(struct amk_buf *b, size_t len) AMK_MUST_CHECK_INTERNAL;
int amk_buf_consume_end(struct amk_buf *b, size_t len) AMK_MUST_CHECK_INTERNAL;
int amk_buf_get_bytes(struct amk_buf *b, void *out, size_t len) AMK_MUST_CHECK_INTERNAL;

/* Overwrite a big-endian uint32 at @p offset from the start of unread data
 * (fills in a length prefix reserved earlier). */
int amk_buf_poke_u32(struct amk_buf *b, size_t offset, uint32_t v) AMK_MUST_CHECK_INTERNAL;

/* Wire types: writes. */
int amk_buf_put_u8(struct amk_buf *b, uint8_t v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put_bool(struct amk_buf *b, int v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put_u32(struct amk_buf *b, uint32_t v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put_u64(struct amk_buf *b, uint64_t v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put_string(struct amk_buf *b, const void *data, size_t len) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put_cstring(struct amk_buf *b, const char *s) AMK_MUST_CHECK_INTERNAL;
int amk_buf_put_stringb(struct amk_buf *b, const struct amk_buf *v) AMK_MUST_CHECK_INTERNAL;
/* A non-negative mpint from a big-endian magnitude (leading zeros allowed in input). */
int amk_buf_put_mpint(struct amk_buf *b, const uint8_t *mag, size_t len) AMK_MUST_CHECK_INTERNAL;
/* An mpint of either sign from a big-endian magnitude, in two's complement. */
int amk_buf_put_mpint_signed(struct amk_buf *b, const uint8_t *mag, size_t len,
    int negative) AMK_MUST_CHECK_INTERNAL;

/* Wire types: reads. Peeks look at unread data without consuming it. */
int amk_buf_peek_u8(const struct amk_buf *b, size_t offset, uint8_t *v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_peek_u32(const struct amk_buf *b, size_t offset, uint32_t *v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_get_u8(struct amk_buf *b, uint8_t *v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_get_bool(struct amk_buf *b, int *v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_get_u32(struct amk_buf *b, uint32_t *v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_get_u64(struct amk_buf *b, uint64_t *v) AMK_MUST_CHECK_INTERNAL;
int amk_buf_get_string_direct(struct amk_buf *b, const uint8_t **p, size_t *len) AMK_MUST_CHECK_INTERNAL;
/* An allocated copy, NUL-terminated for convenience; free with free(). */
int amk_buf_get_string(struct amk_buf *b, uint8_t **p, size_t *len) AMK_MUST_CHECK_INTERNAL;
/* A text string: rejects embedded NULs; allocated, NUL-terminated. @p len may be NULL. */
int amk_buf_get_cstring(struct amk_buf *b, char **s, size_t *len) AMK_MUST_CHECK_INTERNAL;
/* A string as a read-only child view, for parsing nested blobs. */
int amk_buf_get_stringb(struct amk_buf *b, struct amk_buf *view) AMK_MUST_CHECK_INTERNAL;
int amk_buf_skip_string(struct amk_buf *b) AMK_MUST_CHECK_INTERNAL;
/*
 * A non-negative mpint, validated (minimal two's complement encoding, RFC
 * 4251 §5; at most AMK_MPINT_MAX_BYTES of magnitude): a view of its
 * big-endian magnitude without leading zeros (len 0 for zero). Negative
 * values are AMK_EFORMAT here: no SSH field we read may be negative.
 */
int amk_buf_get_mpint_direct(struct amk_buf *b, const uint8_t **mag, size_t *len) AMK_MUST_CHECK_INTERNAL;
/* As above for an mpint of either sign: the magnitude is written to a
 * caller buffer of @p cap bytes. */
int amk_buf_get_mpint_signed(struct amk_buf *b, uint8_t *mag, size_t cap, size_t *len,
    int *negative) AMK_MUST_CHECK_INTERNAL;
/* Copies the unread data into an allocated NUL-terminated string (free()
 * it); *@p outlen, when not NULL, gets its length. AMK_OK or AMK_ENOMEM. */
int amk_buf_to_cstring(const struct amk_buf *b, char **out, size_t *outlen) AMK_MUST_CHECK_INTERNAL;
/* AMK_EFORMAT when unread data remains: every message ends with this check. */
int amk_buf_get_end(const struct amk_buf *b) AMK_MUST_CHECK_INTERNAL;

#endif
