/* Placeholder until the packet cipher lands: reports that it is not built yet. */
#include <stdio.h>

int bench_packet(int argc, char **argv);

int
bench_packet(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("packet: packet ciphers not built yet\n");
    return 0;
}
