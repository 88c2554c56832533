/* see io/wait.h */
#include "io/wait.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>

int64_t
amk_io_now_ms(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail on the platforms we support. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
amk_io_deadline(int timeout_ms)
{
    if (timeout_ms < 0)
        return AMK_DEADLINE_NONE;
    return amk_io_now_ms() + timeout_ms;
}

int
amk_io_remaining_ms(int64_t deadline)
{
    int64_t left;

    if (deadline == AMK_DEADLINE_NONE)
        return -1;
    left = deadline - amk_io_now_ms();
    if (left <= 0)
        return 0;
    if (left > INT_MAX)
        return INT_MAX;
    return (int)left;
}

int
amk_io_wait(int fd, int want, int64_t deadline, int *ready, struct amk_error *err)
{
    struct pollfd pfd;
    int n;

    if (ready != NULL)
        *ready = 0;
    if (fd < 0 || (want & (AMK_IO_READ | AMK_IO_WRITE)) == 0 ||
        (want & ~(AMK_IO_READ | AMK_IO_WRITE)) != 0)
        return amk_error_set(err, AMK_EINVAL, "wait: bad descriptor %d or directions %#x", fd, want);
    for (;;) {
        pfd.fd = fd;
        pfd.events = (short)(((want & AMK_IO_READ) ? POLLIN : 0) |
            ((want & AMK_IO_WRITE) ? POLLOUT : 0));
        pfd.revents = 0;
        n = poll(&pfd, 1, amk_io_remaining_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return amk_error_set(err, AMK_EIO, "poll: %s", strerror(errno));
        if (n == 0)
            return amk_error_set(err, AMK_ETIMEOUT, "timed out waiting to %s",
                want == AMK_IO_READ ? "read" : want == AMK_IO_WRITE ? "write" : "read or write");
        break;
    }
    if ((pfd.revents & POLLNVAL) != 0)
        return amk_error_set(err, AMK_EINVAL, "wait: descriptor %d is not open", fd);
    if (ready != NULL) {
        if ((pfd.revents & (POLLERR | POLLHUP)) != 0)
            *ready = want;
        else
            *ready = ((pfd.revents & POLLIN) ? AMK_IO_READ : 0) |
                ((pfd.revents & POLLOUT) ? AMK_IO_WRITE : 0);
    }
    return AMK_OK;
}
