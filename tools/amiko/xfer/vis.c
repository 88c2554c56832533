/* Server text made safe for a terminal. See vis.h. */
#include "vis.h"

#include <stdlib.h>
#include <string.h>

#define ESCAPED_LEN 4           /* "\ooo" */
#define LINE_GUESS 1024         /* most lines fit: no allocation */

static int
unsafe(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

size_t
xfer_vis(char *dst, size_t cap, const char *src)
{
    size_t n = 0, w = 0;        /* the escaped length; bytes written */
    int full = 0;

    for (const unsigned char *s = (const unsigned char *)src; *s != '\0'; s++) {
        char piece[ESCAPED_LEN];
        size_t len = 1;

        piece[0] = (char)*s;
        if (unsafe(*s)) {
            piece[0] = '\\';
            piece[1] = (char)('0' + (*s >> 6));
            piece[2] = (char)('0' + ((*s >> 3) & 7));
            piece[3] = (char)('0' + (*s & 7));
            len = ESCAPED_LEN;
        }
        if (!full && w + len < cap) {
            memcpy(dst + w, piece, len);
            w += len;
        } else {
            full = 1;           /* never a piece after a cut one */
        }
        n += len;
    }
    if (cap > 0)
        dst[w] = '\0';
    return n;
}

void
xfer_vfprintf_vis(FILE *f, const char *fmt, va_list ap)
{
    char small[LINE_GUESS], *text = small;
    va_list again;
    int len;
    size_t end;

    va_copy(again, ap);
    len = vsnprintf(small, sizeof(small), fmt, ap);
    if (len >= (int)sizeof(small) && (text = malloc((size_t)len + 1)) != NULL)
        (void)vsnprintf(text, (size_t)len + 1, fmt, again);
    va_end(again);
    if (len < 0)
        return;
    if (text == NULL)
        text = small;           /* no memory: the cut line, still escaped */
    end = strlen(text);
    if (end > 0 && text[end - 1] == '\n')
        end--;
    for (size_t i = 0; i < end; i++) {
        unsigned char c = (unsigned char)text[i];
        if (unsafe(c))
            fprintf(f, "\\%03o", c);
        else
            fputc(c, f);
    }
    if (end < strlen(text))
        fputc('\n', f);
    if (text != small)
        free(text);
}

void
xfer_fprintf_vis(FILE *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xfer_vfprintf_vis(f, fmt, ap);
    va_end(ap);
}
