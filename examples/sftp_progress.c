/*
 * Example: upload or download one file over SFTP with a progress bar,
 * checking the server's host key against a known_hosts file.
 *
 *   sftp_progress HOST PORT USER IDENTITY KNOWN_HOSTS put LOCAL REMOTE
 *   sftp_progress HOST PORT USER IDENTITY KNOWN_HOSTS get REMOTE LOCAL
 *
 * amk_sftp_put() / amk_sftp_get() keep many requests in flight and call
 * the progress callback as data moves; it draws the bar on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amiko.h>

#define BAR_WIDTH 30

struct bar {
    const char *name;
    struct timespec start;
    int tty;            /* redraw in place; otherwise one line per quarter */
    int shown;          /* the last percentage drawn, -1 none */
};

static double
seconds_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
progress(void *user, uint64_t done, uint64_t total)
{
    struct bar *b = user;
    double secs = seconds_since(&b->start);
    unsigned fill = total > 0 ? (unsigned)(done * BAR_WIDTH / total) : BAR_WIDTH;
    int pct = total > 0 ? (int)(done * 100 / total) : 100;
    char bar[BAR_WIDTH + 1];

    /* draw only when the percentage moved (on a terminal) or a quarter
     * was passed (in a log) */
    if (pct == b->shown || (!b->tty && pct / 25 == b->shown / 25 && b->shown >= 0))
        return AMK_OK;
    b->shown = pct;

    for (unsigned i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "%s%-16.16s [%s] %3d%% %8.1f MiB/s%s", b->tty ? "\r" : "", b->name, bar,
        pct, secs > 0 ? (double)done / secs / (1024.0 * 1024.0) : 0.0, b->tty ? "" : "\n");
    return AMK_OK;
}

int
main(int argc, char **argv)
{
    struct amk_client *c = NULL;
    struct amk_sftp *sftp = NULL;
    struct bar b;
    int put, r;

    if (argc != 9 || (strcmp(argv[6], "put") != 0 && strcmp(argv[6], "get") != 0)) {
        fprintf(stderr, "usage: sftp_progress HOST PORT USER IDENTITY KNOWN_HOSTS "
            "put|get SOURCE TARGET\n");
        return 2;
    }
    put = strcmp(argv[6], "put") == 0;
    /* unknown or changed host keys are refused (AMK_HOSTKEY_REJECT) */
    if ((r = amk_client_new(&c)) != AMK_OK
        || (r = amk_client_load_host_keys(c, argv[5])) != AMK_OK
        || (r = amk_client_set_allow_default_keys(c, 0)) != AMK_OK
        || (r = amk_client_add_key_file(c, argv[4])) != AMK_OK
        || (r = amk_client_connect(c, argv[1], (uint16_t)atoi(argv[2]), argv[3], NULL)) != AMK_OK
        || (r = amk_sftp_new_client(&sftp, c)) != AMK_OK) {
        fprintf(stderr, "sftp_progress: %s: %s\n", amk_strerror(r), amk_client_last_error(c));
        goto out;
    }
    b.name = strrchr(argv[7], '/') != NULL ? strrchr(argv[7], '/') + 1 : argv[7];
    clock_gettime(CLOCK_MONOTONIC, &b.start);
    b.tty = isatty(STDERR_FILENO);
    b.shown = -1;
    r = put ? amk_sftp_put(sftp, argv[7], argv[8], 0, progress, &b)
        : amk_sftp_get(sftp, argv[7], argv[8], 0, progress, &b);
    if (b.tty)
        fprintf(stderr, "\n");
    if (r != AMK_OK)
        fprintf(stderr, "sftp_progress: %s: %s\n", amk_strerror(r), amk_sftp_last_error(sftp));
out:
    amk_sftp_free(sftp);
    if (c != NULL)
        (void)!amk_client_close(c);
    amk_client_free(c);
    return r == AMK_OK ? 0 : 1;
}
