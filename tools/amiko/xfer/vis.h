/*
 * Text from a server made safe for a terminal. File names, link targets,
 * `ls -l` lines and error messages come from the server and may hold
 * escape sequences (ESC [ 2 J clears the screen; OSC sequences can set
 * the window title or, on some terminals, more). As OpenSSH's sftp and
 * scp do (utf8.c's vis(3) with VIS_OCTAL), bytes below 0x20 and DEL are
 * shown as a backslash and three octal digits: ESC as \033, BEL as \007,
 * a newline in a name as \012. Every other byte is left as it is: a
 * backslash too (as OpenSSH, which escapes only what is not printable;
 * "\033" on the screen may then also be a name's own four characters,
 * which is ambiguous to read but not unsafe), and bytes from 0x80 on,
 * so that UTF-8 names show as names (C1 controls, 0x80-0x9f, are not
 * sequences on UTF-8 terminals).
 */
#ifndef AMIKO_XFER_VIS_H
#define AMIKO_XFER_VIS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes @p src escaped to @p dst, at most @p cap bytes with the NUL, as
 * snprintf (never an escape cut in half); returns the escaped length
 * (@p dst may be NULL with @p cap 0 to measure). */
size_t xfer_vis(char *dst, size_t cap, const char *src);

/* fprintf() with the whole result escaped (xfer_vis), except a final
 * newline. For every line that shows a name or message from a server. */
void xfer_fprintf_vis(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xfer_vfprintf_vis(FILE *f, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
