/* Terminal prompts and messages shared by the subcommands. See tool.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tool.h"
#include "xfer/vis.h"

void
tool_error(const char *sub, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "amiko %s: ", sub);
    va_start(ap, fmt);
    /* messages name paths and carry the server's words: escaped */
    xfer_vfprintf_vis(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Reads one line from @p fd into @p buf without the newline. */
static int
read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char c;

    for (;;) {
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return n > 0 ? 0 : -1;
        if (c == '\n' || c == '\r')
            break;
        if (n + 1 < cap)
            buf[n++] = c;
    }
    buf[n] = '\0';
    return 0;
}

int
tool_read_passphrase(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    int fd, echo_off = 0, r;

    if (cap == 0 || (fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return -1;
    if (write(fd, prompt, strlen(prompt)) < 0) {
        close(fd);
        return -1;
    }
    if (tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    r = read_line(fd, buf, cap);
    if (echo_off) {
        tcsetattr(fd, TCSAFLUSH, &old);
        if (write(fd, "\n", 1) < 0)
            r = -1;
    }
    close(fd);
    return r;
}

int
tool_confirm(const char *question)
{
    char answer[16];
    int fd, r;

    if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return 0;
    if (write(fd, question, strlen(question)) < 0) {
        close(fd);
        return 0;
    }
    r = read_line(fd, answer, sizeof(answer));
    close(fd);
    return r == 0 && (answer[0] == 'y' || answer[0] == 'Y');
}
