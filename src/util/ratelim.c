/* Token buckets; see ratelim.h. */
#include "util/ratelim.h"

void
amk_ratelim_init(struct amk_ratelim *rl, uint64_t burst, uint64_t rate)
{
    rl->burst = burst;
    rl->rate = rate;
    rl->tokens = burst;
    rl->milli = 0;
    rl->last_ms = 0;
    rl->started = 0;
}

void
amk_ratelim_update(struct amk_ratelim *rl, uint64_t now_ms)
{
    uint64_t elapsed, add;

    if (!rl->started || now_ms < rl->last_ms) {
        rl->started = 1;
        rl->last_ms = now_ms;
        return;
    }
    elapsed = now_ms - rl->last_ms;
    rl->last_ms = now_ms;
    if (rl->rate == 0 || elapsed == 0)
        return;
    /* Past the time that refills an empty bucket, the bucket is full; this
     * also keeps elapsed * rate from overflowing. */
    if (elapsed > (rl->burst * 1000) / rl->rate) {
        rl->tokens = rl->burst;
        rl->milli = 0;
        return;
    }
    add = elapsed * rl->rate + rl->milli;
    rl->milli = add % 1000;
    amk_ratelim_credit(rl, add / 1000);
}

void
amk_ratelim_credit(struct amk_ratelim *rl, uint64_t n)
{
    if (n >= rl->burst - rl->tokens)
        rl->tokens = rl->burst;
    else
        rl->tokens += n;
}

int
amk_ratelim_drain(struct amk_ratelim *rl, uint64_t n)
{
    if (rl->tokens < n)
        return AMK_ELIMIT;
    rl->tokens -= n;
    return AMK_OK;
}
