/*
 * amiko: the command-line tool. `amiko <command> [options]`; each command
 * is its own file (cmd_ssh.c, ...) and is listed in the table below.
 */
#include <stdio.h>
#include <string.h>

#include <amiko.h>

int amk_cmd_ssh(int argc, char **argv);

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);   /* argv[0] is the command's name */
} COMMANDS[] = {
    { "ssh", amk_cmd_ssh },
};

int
main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
        printf("amiko %s\n", amk_version());
        return 0;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++) {
        if (strcmp(argv[1], COMMANDS[i].name) == 0) {
            if (amk_init() != AMK_OK) {
                fprintf(stderr, "amiko: the crypto library failed to start\n");
                return 1;
            }
            return COMMANDS[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "usage: amiko <command> [options]\ncommands:\n");
    for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
        fprintf(stderr, "  %s\n", COMMANDS[i].name);
    return 2;
}
