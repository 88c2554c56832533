/* amiko-bench: one CLI, benchmarks registered by name. */
#ifndef AMK_BENCH_H
#define AMK_BENCH_H

struct amk_bench {
    const char *name;
    const char *what;
    int (*run)(int argc, char **argv);
};

/* Seconds on a monotonic clock. */
double bench_now(void);

#endif
