/*
 * amiko: the command-line tool. `amiko <command> [options]`; the commands
 * are in the table below, one file each, so more (ssh, cp, sftp, serve)
 * can be added beside keygen.
 */
#include <stdio.h>
#include <string.h>

#include <amiko.h>

#include "tool.h"

static void help_usage(FILE *f);
static int help_run(int argc, char **argv);

static const struct tool_command commands[] = {
    { "keygen", "create, convert and inspect SSH keys (as ssh-keygen)", tool_keygen,
      tool_keygen_usage },
    { "ssh", "run a command or a shell on a server (as ssh)", amk_cmd_ssh,
      amk_cmd_ssh_usage },
    { "serve", "run an SSH server (exec, shell, SFTP) on this machine", amk_cmd_serve,
      amk_cmd_serve_usage },
    { "cp", "copy files to or from a server over SFTP (as scp)", amk_cmd_cp, amk_cmd_cp_usage },
    { "sftp", "an SFTP session, interactive or from a batch file (as sftp)", amk_cmd_sftp,
      amk_cmd_sftp_usage },
    { "help", "show the commands, or one command's options", help_run, help_usage },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct tool_command *
find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void
help_usage(FILE *f)
{
    fprintf(f, "usage: amiko help [command]\n");
}

static void
print_commands(FILE *f)
{
    fprintf(f, "usage: amiko <command> [options]\n       amiko --version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

static int
help_run(int argc, char **argv)
{
    const struct tool_command *c;

    if (argc < 2) {
        print_commands(stdout);
        return TOOL_EXIT_OK;
    }
    if ((c = find_command(argv[1])) == NULL) {
        tool_error("help", "unknown command '%s'", argv[1]);
        return TOOL_EXIT_USAGE;
    }
    c->usage(stdout);
    return TOOL_EXIT_OK;
}

int
main(int argc, char **argv)
{
    const struct tool_command *c;

    if (argc < 2) {
        print_commands(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("amiko %s\n", amk_version());
        return TOOL_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return help_run(1, argv + 1);
    if ((c = find_command(argv[1])) == NULL) {
        fprintf(stderr, "amiko: unknown command '%s' (try 'amiko help')\n", argv[1]);
        return TOOL_EXIT_USAGE;
    }
    /* `amiko <command> --help` is a request, not a mistake: the usage goes
     * to stdout and the exit status is 0, whatever the command's own parser
     * would make of the option. */
    if (argc >= 3 && strcmp(argv[2], "--help") == 0) {
        c->usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (amk_init() != AMK_OK) {
        fprintf(stderr, "amiko: the crypto library failed to start\n");
        return TOOL_EXIT_FAIL;
    }
    return c->run(argc - 1, argv + 1);
}
