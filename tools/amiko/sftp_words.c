/*
 * amiko sftp's word splitting: a command line into words, with the
 * quotes, escapes and comments of OpenSSH sftp's makeargv (see
 * cmd_sftp.c for what the commands then do with them).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sftp_sh.h"

/* The wildcards that makeargv escapes when they are quoted. */
static int
glob_char(char c)
{
    return c == '*' || c == '?' || c == '[';
}

/*
 * Splits @p line into words in @p buf (@p cap bytes, at least twice the
 * line plus @p max) as OpenSSH sftp's makeargv does, escapes and all:
 * quotes ('...' or "...") group; an unquoted '#' ends the line; an
 * unquoted backslash makes the next character plain, and stays before a
 * wildcard or a backslash; a quoted wildcard gets a backslash. Inside
 * quotes a backslash drops only before that quote; before a wildcard it
 * stays as an escaped backslash ('a\*' is the name "a\*"), before
 * anything else it stays as it is, for the command to read: a glob
 * takes "\b" as "b", a plain path keeps it (sftp_literal_word). The count,
 * WORDS_OPEN_QUOTE or WORDS_TOO_MANY.
 */
int
sftp_split_words(const char *line, char *buf, size_t cap, char **argv, int max)
{
    const char *r = line;
    char *w = buf;
    int n = 0;

    if (cap < 2 * strlen(line) + (size_t)max + 1)
        return WORDS_TOO_MANY;
    for (;;) {
        char quote = 0;
        while (isspace((unsigned char)*r))
            r++;
        if (*r == '\0' || *r == '#')
            break;
        if (n == max)
            return WORDS_TOO_MANY;
        argv[n++] = w;
        for (; *r != '\0' && (quote || (!isspace((unsigned char)*r) && *r != '#')); r++) {
            if (*r == '"' || *r == '\'') {
                if (quote == 0)
                    quote = *r;
                else if (quote == *r)
                    quote = 0;
                else
                    *w++ = *r;
            } else if (*r == '\\' && quote != 0) {
                if (r[1] == quote) {
                    *w++ = *++r;
                } else if (glob_char(r[1])) {
                    /* an escaped backslash, then the escaped wildcard */
                    memcpy(w, "\\\\\\", 3);
                    w += 3;
                    *w++ = *++r;
                } else {
                    *w++ = '\\';
                    if (r[1] != '\0')
                        *w++ = *++r;
                }
            } else if (*r == '\\') {
                if (glob_char(r[1]) || r[1] == '\\')
                    *w++ = *r++;
                else if (r[1] != '\0')
                    r++;
                *w++ = *r;      /* a final backslash stays itself */
            } else {
                if (quote != 0 && glob_char(*r))
                    *w++ = '\\';
                *w++ = *r;
            }
        }
        if (quote != 0)
            return WORDS_OPEN_QUOTE;
        *w++ = '\0';
    }
    return n;
}

/*
 * A word that names a path without wildcards (mkdir, cd, get's target, ...),
 * in place: sftp_split_words' escapes of * ? [ and \ removed, any other
 * backslash kept, as OpenSSH's undo_glob_escape: `mkdir 'x\y'` makes "x\y".
 */
void
sftp_literal_word(char *s)
{
    char *w = s;

    for (; *s != '\0'; s++) {
        if (*s == '\\' && (glob_char(s[1]) || s[1] == '\\'))
            s++;
        *w++ = *s;
    }
    *w = '\0';
}

/* sftp_literal_word on @p argv[@p from..@p argc). */
void
sftp_literal_words(int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++)
        sftp_literal_word(argv[i]);
}

/* @p path made absolute against @p cwd, in a new string. @p cwd comes from
 * the server's REALPATH and may be "": then @p path alone, as OpenSSH's
 * path_append. */
char *
sftp_abs_path(const char *cwd, const char *path)
{
    size_t cl = strlen(cwd), need;
    char *p;

    if (path[0] == '/')
        return strdup(path);
    need = cl + strlen(path) + 2;
    if ((p = malloc(need)) != NULL)
        snprintf(p, need, "%s%s%s", cwd, cl == 0 || cwd[cl - 1] == '/' ? "" : "/", path);
    return p;
}
