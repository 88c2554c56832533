/* Payload capture for fuzz seeds (AMIKO_CAPTURE builds only); see capture.h. */
#include "io/capture.h"

#ifdef AMK_CAPTURE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
amk_capture_payload(struct amk_transport *t, int server, const uint8_t *p, size_t len)
{
    static unsigned long engines;
    unsigned long *id = amk_transport_capture_id(t);
    const char *dir = getenv("AMK_CAPTURE_DIR");
    uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
        (uint8_t)len };
    char path[4096];
    int fd;

    if (dir == NULL)
        return;
    if (*id == 0)
        *id = ++engines;
    snprintf(path, sizeof(path), "%s/%s-%ld-%lu.bin", dir, server ? "server" : "client",
        (long)getpid(), *id);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
        return;
    if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
        write(fd, p, len) != (ssize_t)len) {
        /* a capture aid: a short file shows in the script's seeds */
    }
    close(fd);
}
#else
typedef int amk_capture_unused;     /* ISO C wants a declaration in every file */
#endif
