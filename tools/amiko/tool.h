/*
 * The amiko command-line tool: the subcommand table and what the
 * subcommands share (terminal prompts, messages).
 */
#ifndef AMIKO_TOOL_H
#define AMIKO_TOOL_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of every subcommand. */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

struct tool_command {
    const char *name;
    const char *summary;
    /* argv[0] is the subcommand's name. Returns an exit status. */
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *f); /* prints to f: stdout for --help, stderr on errors */
};

/* cmd_ssh.c */
int amk_cmd_ssh(int argc, char **argv);
void amk_cmd_ssh_usage(FILE *f);

/* cmd_serve.c */
int amk_cmd_serve(int argc, char **argv);
void amk_cmd_serve_usage(FILE *f);
/* cmd_cp.c, cmd_sftp.c (transfers over SFTP) */
int amk_cmd_cp(int argc, char **argv);
void amk_cmd_cp_usage(FILE *f);
int amk_cmd_sftp(int argc, char **argv);
void amk_cmd_sftp_usage(FILE *f);

/* keygen.c */
int tool_keygen(int argc, char **argv);
void tool_keygen_usage(FILE *f);

/* keygen_hosts.c: -F, -R and -H on a known_hosts file (NULL: the default). */
int tool_keygen_find(const char *host, const char *file);
int tool_keygen_remove(const char *host, const char *file);
int tool_keygen_hash(const char *file);

/*
 * Reads a line from the terminal (/dev/tty) with echo off, after printing
 * @p prompt there. The newline is dropped. 0 on success, -1 when there is
 * no terminal or reading fails. @p buf holds @p cap bytes.
 */
int tool_read_passphrase(const char *prompt, char *buf, size_t cap);

/* Asks a yes/no question on the terminal; 1 for yes. 0 without a terminal. */
int tool_confirm(const char *question);

/* Prints "amiko <sub>: <message>" to stderr, the message with control
 * characters escaped (xfer/vis.h): it may carry names from a server. */
void tool_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
