/*
 * amiko sftp's pieces shared between its files: the session a command
 * runs in, the word splitter (sftp_words.c), the listing commands
 * (sftp_ls.c) and the error message of a remote operation (cmd_sftp.c).
 */
#ifndef AMIKO_TOOL_SFTP_SH_H
#define AMIKO_TOOL_SFTP_SH_H

#include <stddef.h>

#include <amiko.h>

#include "xfer/progress.h"

struct sftp_sh {
    struct amk_sftp *sftp;
    char *cwd;              /* remote working directory (absolute) */
    char *start;            /* where the session started: `cd` alone goes back there */
    int quiet;
    int err_abort;          /* a failure of this command ends the batch: stop at the first */
    struct xfer_progress bar;
    int show_bar;
    const char *tree_src;   /* the source of the running get / put */
    int tree_failed;        /* it reported a failure other than a suspect name */
};

/* The longest command line, and so the longest word or path typed. */
#define MAX_LINE 4096

#define WORDS_OPEN_QUOTE (-1)
#define WORDS_TOO_MANY (-2)

/* Splits @p line into words as OpenSSH sftp's makeargv (sftp_words.c):
 * the count, WORDS_OPEN_QUOTE or WORDS_TOO_MANY. */
int sftp_split_words(const char *line, char *buf, size_t cap, char **argv, int max);
/* A word naming a path without wildcards, its glob escapes removed in place. */
void sftp_literal_word(char *s);
/* sftp_literal_word() on @p argv[@p from..@p argc). */
void sftp_literal_words(int argc, char **argv, int from);
/* @p path made absolute against @p cwd, in a new string (NULL: no memory). */
char *sftp_abs_path(const char *cwd, const char *path);

/* Prints why a remote operation on @p path failed, as OpenSSH's sftp; -1. */
int sftp_remote_fail(struct sftp_sh *sh, const char *what, const char *path, int r);

/* ls [-1] [-l] [-a] [path] and df [-h] [path] (sftp_ls.c): 0, or -1 after a message. */
int sftp_cmd_ls(struct sftp_sh *sh, int argc, char **argv);
int sftp_cmd_df(struct sftp_sh *sh, int argc, char **argv);

#endif
