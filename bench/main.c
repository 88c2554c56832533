/* amiko-bench: runs the benchmarks named on the command line (all if none). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

int bench_packet(int argc, char **argv);
int bench_transport(int argc, char **argv);

static const struct amk_bench BENCHES[] = {
    { "packet", "packet-layer seal/open MB/s per cipher, next to openssl speed", bench_packet },
    { "transport", "transport engine to engine in memory, MB/s per cipher", bench_transport },
};

double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    size_t n = sizeof(BENCHES) / sizeof(BENCHES[0]);
    int rc = 0, ran = 0;

    if (argc > 1 && (strcmp(argv[1], "-l") == 0 || strcmp(argv[1], "--list") == 0)) {
        for (size_t i = 0; i < n; i++)
            printf("%-10s %s\n", BENCHES[i].name, BENCHES[i].what);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int wanted = argc <= 1;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], BENCHES[i].name) == 0;
        if (!wanted)
            continue;
        ran++;
        if (BENCHES[i].run(argc, argv) != 0)
            rc = 1;
    }
    if (ran == 0) {
        fprintf(stderr, "amiko-bench: no such benchmark (try --list)\n");
        return 2;
    }
    return rc;
}
