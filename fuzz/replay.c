/*
 * Plain driver for the fuzz targets: feeds every file named on the command
 * line (or found in a named directory) to LLVMFuzzerTestOneInput once.
 * With the sanitizer build this replays each corpus as a regression test.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u * 1024 * 1024)

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long n;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (long)REPLAY_MAX_INPUT ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: unreadable or too large\n", path);
        fclose(f);
        return 1;
    }
    data = malloc(n > 0 ? (size_t)n : 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: read failed\n", path);
        free(data);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)n);
    free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    int failures = 0, count = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            failures += replay_file(argv[i]);
            count++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        if (d == NULL) {
            perror(argv[i]);
            return 1;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            failures += replay_file(path);
            count++;
        }
        closedir(d);
    }
    /* Also a few synthetic inputs: empty and all-ones prefixes. */
    uint8_t edge[64];
    memset(edge, 0xff, sizeof(edge));
    for (size_t n = 0; n <= sizeof(edge); n += 7)
        LLVMFuzzerTestOneInput(edge, n);
    printf("replayed %d inputs, %d unreadable\n", count, failures);
    if (count == 0) {
        fprintf(stderr, "no corpus inputs found\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
