/*
 * What `amiko ssh`, `amiko cp` and `amiko sftp` share: the connection
 * options (-P/-p port, -l user, -i identity, -o Option=value, -v), the
 * prompts for passwords, passphrases and unknown host keys (the terminal
 * or SSH_ASKPASS), and connecting with them, so that the three commands
 * take exactly the same options and behave the same way.
 *
 * -o names (case-insensitive): Port, User, IdentityFile, Ciphers,
 * KexAlgorithms, MACs, HostKeyAlgorithms, UserKnownHostsFile,
 * StrictHostKeyChecking (yes, no, accept-new, ask), ConnectTimeout,
 * Compression, BatchMode, PasswordAuthentication, PubkeyAuthentication,
 * KbdInteractiveAuthentication, PreferredAuthentications,
 * ServerAliveInterval, ServerAliveCountMax.
 *
 * Passwords and passphrases are read from the terminal, or from the
 * program named by SSH_ASKPASS as SSH_ASKPASS_REQUIRE says: "force"
 * always, "prefer" when SSH_ASKPASS is set, "never" never; unset, when
 * there is no terminal and DISPLAY is set. BatchMode never asks.
 */
#ifndef AMIKO_TOOL_SSH_H
#define AMIKO_TOOL_SSH_H

#include <stddef.h>

struct amk_client;

/* Exit status of every command when connecting or authenticating failed. */
#define TOOL_SSH_EXIT_FAIL 255
#define TOOL_SSH_MAX_IDENTITIES 16

struct tool_ssh_opts {
    const char *sub;                /* the subcommand, for messages */
    const char *host;
    char *user;                     /* NULL: $USER, else the uid's name */
    unsigned port;
    const char *identities[TOOL_SSH_MAX_IDENTITIES];
    size_t n_identities;
    const char *specs[6];           /* by enum amk_alg_kind */
    const char *known_hosts;        /* NULL: ~/.ssh/known_hosts */
    const char *strict;             /* NULL: ask */
    int connect_timeout_s;          /* 0: the library's default */
    int compression;
    int batch;
    int password_auth, pubkey_auth, kbdint_auth;
    unsigned alive_interval_s, alive_count;
    int verbose;
};

/* Defaults (port 22, every auth method) for subcommand @p sub. */
void tool_ssh_opts_init(struct tool_ssh_opts *o, const char *sub);
void tool_ssh_opts_free(struct tool_ssh_opts *o);

/* One -o option, "Name=value" or "Name value"; 0, or -1 after a message.
 * @p arg MUST outlive @p o (values point into it). */
int tool_ssh_set_option(struct tool_ssh_opts *o, const char *arg);
/* -i: 0, or -1 after a message. */
int tool_ssh_add_identity(struct tool_ssh_opts *o, const char *path);
/* -p / -P: 0, or -1 after a message. */
int tool_ssh_set_port(struct tool_ssh_opts *o, const char *arg);
/* -l: 0 or -1. */
int tool_ssh_set_user(struct tool_ssh_opts *o, const char *user);
/* Splits "[user@]host" into o->user and o->host (pointing into @p spec). */
int tool_ssh_set_destination(struct tool_ssh_opts *o, const char *spec);

/* A decimal number up to @p max; 0 or -1. */
int tool_ssh_number(const char *v, unsigned max, unsigned *out);

/*
 * Makes a client with the options and connects and authenticates it to
 * o->host. On failure prints why ("amiko SUB: host port N: ...") and
 * returns the code with *@p out NULL.
 */
int tool_ssh_connect(struct tool_ssh_opts *o, struct amk_client **out);

#endif
