/*
 * Token buckets for work the peer can trigger (re-exchanges, IGNORE and
 * DEBUG floods), like nghttp2's nghttp2_ratelim. Sans-I/O: the caller
 * passes the time in (milliseconds on any monotonic clock); nothing here
 * reads a clock or allocates.
 */
#ifndef AMK_UTIL_RATELIM_H
#define AMK_UTIL_RATELIM_H

#include <stdint.h>

#include "util/buf.h"

struct amk_ratelim {
    uint64_t burst;     /* bucket size: tokens available after a quiet spell */
    uint64_t rate;      /* tokens added per second */
    uint64_t tokens;    /* tokens available now */
    uint64_t milli;     /* fraction of a token carried over, in 1/1000 */
    uint64_t last_ms;   /* time of the last update */
    int started;        /* last_ms is set */
};

/* A full bucket of @p burst tokens refilled at @p rate tokens a second. */
void amk_ratelim_init(struct amk_ratelim *rl, uint64_t burst, uint64_t rate);

/* Adds the tokens earned since the last update. A clock that goes back
 * adds nothing (and restarts from @p now_ms). */
void amk_ratelim_update(struct amk_ratelim *rl, uint64_t now_ms);

/* Adds @p n tokens earned by other means (e.g. real traffic), up to the burst. */
void amk_ratelim_credit(struct amk_ratelim *rl, uint64_t n);

/* Takes @p n tokens: AMK_OK, or AMK_ELIMIT (and takes nothing) when the
 * bucket holds fewer. */
int amk_ratelim_drain(struct amk_ratelim *rl, uint64_t n) AMK_MUST_CHECK_INTERNAL;

#endif
