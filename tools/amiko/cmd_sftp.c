/* placeholder replaced below */
#include <stdio.h>
#include "tool.h"
void
amk_cmd_sftp_usage(void)
{
    fprintf(stderr, "usage: amiko sftp [-P port] [-i identity] [-o Option=value]... "
        "[-b batchfile] [user@]host\n");
}
int
amk_cmd_sftp(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    amk_cmd_sftp_usage();
    return 1;
}
