/*
 * Waiting on a descriptor with a deadline, and the monotonic clock the io
 * layer measures deadlines with. The engine never reads a clock; the io
 * layer reads this one and passes the time in.
 */
#ifndef AMK_IO_WAIT_H
#define AMK_IO_WAIT_H

#include <stdint.h>

#include "util/err.h"

/* A deadline that never expires. */
#define AMK_DEADLINE_NONE ((int64_t)-1)

/* What to wait for: bits, combined with |. */
#define AMK_IO_READ 1
#define AMK_IO_WRITE 2

/* Milliseconds on a monotonic clock (CLOCK_MONOTONIC). */
int64_t amk_io_now_ms(void);

/*
 * The deadline @p timeout_ms from now; a negative timeout gives
 * AMK_DEADLINE_NONE (wait forever).
 */
int64_t amk_io_deadline(int timeout_ms);

/*
 * Milliseconds left until @p deadline, for poll(): 0 when it has passed,
 * -1 for AMK_DEADLINE_NONE, capped at INT_MAX.
 */
int amk_io_remaining_ms(int64_t deadline);

/*
 * Waits until @p fd is ready for any of @p want (AMK_IO_READ, AMK_IO_WRITE)
 * or @p deadline passes (a deadline in the past, e.g. 0, only polls);
 * EINTR is retried with the time that is left.
 * On AMK_OK, *@p ready (may be NULL) holds the ready directions; a hang-up
 * or error condition counts as ready in every wanted direction, so the
 * following read or write reports it.
 * Returns AMK_OK, AMK_ETIMEOUT, AMK_EINVAL (bad fd or want) or AMK_EIO
 * (poll failed), with detail in @p err (may be NULL).
 */
int amk_io_wait(int fd, int want, int64_t deadline, int *ready, struct amk_error *err)
    __attribute__((warn_unused_result));

#endif
