/*
 * Example: several SFTP transfers at once on one connection, with
 * progress and rate, blocking or driven by poll() (non-blocking).
 *
 *   sftp_transfer [-p PORT] [-i KEY] [-k KNOWN_HOSTS] [-n] [-q] USER@HOST
 *                 get|put SOURCE TARGET [get|put SOURCE TARGET]...
 *
 * -n drives everything from one poll() loop (the client in non-blocking
 * mode); without it amk_sftp_transfer_run() blocks. Without -k the host
 * key is accepted with a warning (for trying it out only). At the end it
 * prints each transfer's bytes, time and rate.
 *
 * e.g.  sftp_transfer -i ~/.ssh/id_ed25519 me@example.org \
 *           get /var/log/big.log big.log put photo.jpg /tmp/photo.jpg
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amiko.h>

#define MAX_XFERS 16

static int quiet;

/* Prints one line per transfer, at most every 0.05 s (the library's pace). */
static int
show(void *user, struct amk_sftp_transfer *t, const struct amk_sftp_transfer_progress *p)
{
    (void)t;
    if (quiet)
        return AMK_OK;
    fprintf(stderr, "[%s] %llu / %llu bytes, %.1f MB/s, %zu in flight%s\n", (const char *)user,
        (unsigned long long)p->done, (unsigned long long)p->total, p->rate / 1e6, p->inflight,
        p->finished ? " (done)" : "");
    return AMK_OK;
}

/* Polls the client's descriptor for what the library waits for. */
static int
wait_for(struct amk_client *c, struct amk_sftp *s)
{
    struct pollfd pfd;
    int dirs = amk_sftp_block_directions(s), tmo = amk_client_next_timeout(c);

    pfd.fd = amk_client_get_fd(c);
    pfd.events = (short)(((dirs & AMK_WAIT_READ) ? POLLIN : 0) |
        ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0));
    if (pfd.events == 0)
        pfd.events = POLLIN;
    if (poll(&pfd, 1, tmo < 0 ? 60000 : tmo) < 0)
        return AMK_EIO;
    return AMK_OK;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    struct amk_client *c = NULL;
    struct amk_sftp *s = NULL;
    struct amk_sftp_transfer *ts[MAX_XFERS] = { NULL };
    struct amk_sftp_transfer_progress p;
    const char *key = NULL, *known = NULL;
    char *user, *host;
    size_t n = 0;
    uint16_t port = 22;
    int nonblock = 0, r, i, failed = 0;
    double t0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
            port = (uint16_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc)
            known = argv[++i];
        else if (strcmp(argv[i], "-n") == 0)
            nonblock = 1;
        else if (strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else
            break;
    }
    if (i >= argc || strchr(argv[i], '@') == NULL || (argc - i - 1) % 3 != 0 ||
        argc - i - 1 == 0 || (argc - i - 1) / 3 > MAX_XFERS) {
        fprintf(stderr, "usage: %s [-p PORT] [-i KEY] [-k KNOWN_HOSTS] [-n] [-q] USER@HOST "
            "get|put SOURCE TARGET...\n", argv[0]);
        return 2;
    }
    user = argv[i];
    host = strchr(user, '@');
    *host++ = '\0';

    if ((r = amk_init()) != AMK_OK || (r = amk_client_new(&c)) != AMK_OK)
        goto out;
    if (known != NULL)
        r = amk_client_load_host_keys(c, known);
    else
        r = amk_client_set_hostkey_policy(c, AMK_HOSTKEY_WARN);
    if (r == AMK_OK && key != NULL)
        r = amk_client_add_key_file(c, key);
    if (r == AMK_OK)
        r = amk_client_connect(c, host, port, user, NULL);
    if (r == AMK_OK && nonblock)
        r = amk_client_set_blocking(c, 0);
    /* non-blocking: returns at once, start-up goes on in the steps */
    if (r == AMK_OK)
        r = amk_sftp_new_client(&s, c);
    if (r != AMK_OK)
        goto out;

    for (int k = i + 1; k + 2 < argc + 1 && k < argc; k += 3) {
        if (strcmp(argv[k], "get") == 0)
            r = amk_sftp_transfer_start_get(s, argv[k + 1], argv[k + 2], 0, &ts[n]);
        else if (strcmp(argv[k], "put") == 0)
            r = amk_sftp_transfer_start_put(s, argv[k + 1], argv[k + 2], 0, &ts[n]);
        else
            r = AMK_EINVAL;
        if (r != AMK_OK)
            goto out;
        amk_sftp_transfer_set_progress(ts[n], show, argv[k + 1]);
        n++;
    }

    t0 = now_s();
    if (nonblock) {
        /* one loop for all of them: step, and poll when told to wait */
        while ((r = amk_sftp_transfer_step_all(ts, n)) == AMK_EAGAIN)
            if ((r = wait_for(c, s)) != AMK_OK)
                break;
    } else {
        r = amk_sftp_transfer_run(ts, n);
    }
    fprintf(stderr, "%zu transfer(s) in %.2f s\n", n, now_s() - t0);
    for (size_t k = 0; k < n; k++) {
        int tr = amk_sftp_transfer_result(ts[k]);
        if (amk_sftp_transfer_progress(ts[k], &p) != AMK_OK)
            continue;
        printf("%s: %s, %llu bytes in %.2f s, %.1f MB/s (peak %zu requests of %zu bytes)%s%s\n",
            argv[i + 1 + 3 * (int)k + 1], amk_errname(tr), (unsigned long long)p.done,
            p.elapsed, p.elapsed > 0 ? (double)(p.done - p.start) / p.elapsed / 1e6 : 0.0,
            p.inflight_peak, p.request_len, tr != AMK_OK ? ": " : "",
            amk_sftp_transfer_error(ts[k]));
        if (tr != AMK_OK)
            failed = 1;
    }
out:
    if (r != AMK_OK)
        fprintf(stderr, "%s: %s %s %s\n", amk_errname(r), amk_strerror(r),
            s != NULL ? amk_sftp_last_error(s) : "", c != NULL ? amk_client_last_error(c) : "");
    for (size_t k = 0; k < n; k++)
        amk_sftp_transfer_free(ts[k]);
    amk_sftp_free(s);
    amk_client_free(c);
    return r != AMK_OK || failed ? 1 : 0;
}
