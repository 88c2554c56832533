/*
 * A client engine and a server engine connected in memory, with a
 * deterministic RNG, for the transport tests and the corpus generator.
 */
#ifndef AMK_TEST_TRANSPORT_PAIR_H
#define AMK_TEST_TRANSPORT_PAIR_H

#include "test_helper.h"

#include "crypto/rand.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"

#define TEST_UNUSED __attribute__((unused))

/* splitmix64: deterministic bytes for both engines. */
struct test_rng_state {
    uint64_t s;
};

static TEST_UNUSED int
test_rng_fill(void *user, uint8_t *out, size_t len)
{
    struct test_rng_state *st = user;

    for (size_t i = 0; i < len; i++) {
        uint64_t z;
        if (i % 8 == 0) {
            st->s += 0x9e3779b97f4a7c15ULL;
            z = st->s;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            z ^= z >> 31;
            memcpy(out + i, &z, len - i < 8 ? len - i : 8);
        }
    }
    return AMK_OK;
}

/* One side: its engine and what its upper layer received. */
struct test_side {
    struct amk_transport *t;
    struct amk_buf got;     /* u32 len, payload, ... */
    size_t nmsgs;
    int hostkey_calls;
    int reject_hostkey;
};

struct test_pair {
    struct test_side c, s;
    struct test_rng_state rc, rs;
    struct amk_rng rngc, rngs;
    struct amk_key *keys[8];
    size_t nkeys;
    size_t chunk;           /* bytes per feed; 0: everything at once */
    uint64_t now;
};

static TEST_UNUSED int
test_hostkey_cb(void *user, const struct amk_key *key, const char *alg)
{
    struct test_side *side = user;

    side->hostkey_calls++;
    if (key == NULL || alg == NULL)
        return AMK_EINVAL;
    return side->reject_hostkey ? AMK_EHOSTKEY_REJECTED : AMK_OK;
}

/* Generates (or reuses) host keys of @p types for the server. */
static TEST_UNUSED void
pair_init(struct test_pair *p)
{
    memset(p, 0, sizeof(*p));
    p->rc.s = 1;
    p->rs.s = 2;
    p->rngc.fill = test_rng_fill;
    p->rngc.user = &p->rc;
    p->rngs.fill = test_rng_fill;
    p->rngs.user = &p->rs;
    p->now = 1000;
    amk_buf_init(&p->c.got);
    amk_buf_init(&p->s.got);
}

static TEST_UNUSED void
pair_add_key(struct test_pair *p, struct amk_key *k)
{
    assert_true(p->nkeys < sizeof(p->keys) / sizeof(p->keys[0]));
    p->keys[p->nkeys++] = k;
}

/* Creates both engines; @p cc and @p sc may be NULL (defaults). */
static TEST_UNUSED int
pair_start(struct test_pair *p, const struct amk_transport_config *cc,
    const struct amk_transport_config *sc)
{
    struct amk_transport_config c, s;
    int r;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    if (cc != NULL)
        c = *cc;
    if (sc != NULL)
        s = *sc;
    c.role = AMK_TRANSPORT_CLIENT;
    c.rng = &p->rngc;
    if (c.hostkey_cb == NULL) {
        c.hostkey_cb = test_hostkey_cb;
        c.user = &p->c;
    }
    s.role = AMK_TRANSPORT_SERVER;
    s.rng = &p->rngs;
    if (s.host_keys == NULL) {
        s.host_keys = p->keys;
        s.n_host_keys = p->nkeys;
    }
    if ((r = amk_transport_new(&p->c.t, &c)) != AMK_OK)
        return r;
    if ((r = amk_transport_new(&p->s.t, &s)) != AMK_OK)
        return r;
    ASSERT_OK(amk_transport_tick(p->c.t, p->now));
    ASSERT_OK(amk_transport_tick(p->s.t, p->now));
    return AMK_OK;
}

static TEST_UNUSED void
pair_free(struct test_pair *p)
{
    amk_transport_free(p->c.t);
    amk_transport_free(p->s.t);
    amk_buf_release(&p->c.got);
    amk_buf_release(&p->s.got);
    for (size_t i = 0; i < p->nkeys; i++)
        amk_key_free(p->keys[i]);
    p->nkeys = 0;
}

/* Moves everything the upper layer can receive into side->got. */
static TEST_UNUSED int
side_drain(struct test_side *side)
{
    const uint8_t *m;
    size_t n;
    int r;

    while ((r = amk_transport_recv(side->t, &m, &n)) == AMK_OK) {
        if (amk_buf_put_u32(&side->got, (uint32_t)n) != AMK_OK ||
            amk_buf_put(&side->got, m, n) != AMK_OK)
            return AMK_ENOMEM;
        side->nmsgs++;
    }
    return r == AMK_EAGAIN ? AMK_OK : r;
}

/* Moves @p from's output into @p to; returns the receiver's result. */
static TEST_UNUSED int
pair_xfer(struct test_pair *p, struct test_side *from, struct test_side *to, size_t *moved)
{
    const uint8_t *d;
    size_t n;
    int r;

    *moved = 0;
    amk_transport_output(from->t, &d, &n);
    while (n > 0) {
        size_t k = (p->chunk == 0 || n < p->chunk) ? n : p->chunk;
        r = amk_transport_feed(to->t, d, k, p->now);
        if (r == AMK_EAGAIN) {
            if ((r = side_drain(to)) != AMK_OK)
                return r;
            continue;
        }
        if (r != AMK_OK)
            return r;
        if ((r = amk_transport_output_consume(from->t, k)) != AMK_OK)
            return r;
        *moved += k;
        amk_transport_output(from->t, &d, &n);
    }
    return side_drain(to);
}

/* Shuttles bytes both ways until both are quiet. Returns the first error:
 * *@p who is 'c' or 's' for the engine that failed. */
static TEST_UNUSED int
pair_run(struct test_pair *p, char *who)
{
    int r;

    for (int i = 0; i < 100000; i++) {
        size_t a = 0, b = 0;
        if ((r = pair_xfer(p, &p->c, &p->s, &a)) != AMK_OK) {
            if (who != NULL)
                *who = 's';
            return r;
        }
        if ((r = pair_xfer(p, &p->s, &p->c, &b)) != AMK_OK) {
            if (who != NULL)
                *who = 'c';
            return r;
        }
        if (a == 0 && b == 0)
            return AMK_OK;
    }
    return AMK_EINTERNAL;
}

/* Handshake with success required. */
static TEST_UNUSED void
pair_handshake(struct test_pair *p)
{
    char who = '?';
    int r = pair_run(p, &who);

    if (r != AMK_OK)
        fail_msg("handshake failed on %c: %s: %s / %s", who, amk_errname(r),
            amk_transport_last_error(p->c.t), amk_transport_last_error(p->s.t));
    assert_true(amk_transport_handshake_done(p->c.t));
    assert_true(amk_transport_handshake_done(p->s.t));
}

/* Pops the next received message of @p side into a view. */
static TEST_UNUSED int
side_pop(struct test_side *side, const uint8_t **m, size_t *n)
{
    uint32_t len;

    if (amk_buf_get_u32(&side->got, &len) != AMK_OK)
        return AMK_EAGAIN;
    *m = amk_buf_ptr(&side->got);
    *n = len;
    return amk_buf_consume(&side->got, len);
}

#endif
