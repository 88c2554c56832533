/*
 * Example: copying a directory tree over SFTP, either way, with
 * amk_sftp_tree_get() / amk_sftp_tree_put(): modes and times kept, a
 * progress line for the whole tree, each failing path named with the
 * server's message while the rest goes on, and --resume to finish what
 * an interrupted run left (puts write ".NAME.amkpart" and rename it, so
 * no half-written file ever has the final name).
 *
 *   sftp_tree [--resume] USER@HOST[:PORT] get REMOTE-DIR LOCAL-DIR
 *   sftp_tree [--resume] USER@HOST[:PORT] put LOCAL-DIR REMOTE-DIR
 *
 * Authentication uses ~/.ssh's default keys; the host key must be in
 * ~/.ssh/known_hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko.h>

static int
on_progress(void *user, const struct amk_sftp_tree_progress *p)
{
    (void)user;
    fprintf(stderr, "\r%llu/%llu files, %llu/%llu bytes  ", (unsigned long long)p->files_done,
        (unsigned long long)p->files_total, (unsigned long long)p->done,
        (unsigned long long)p->total);
    return AMK_OK;
}

/* A path failed: say so and go on with the others. */
static int
on_error(void *user, const char *path, int code, const char *message)
{
    int *failures = user;

    fprintf(stderr, "\n%s: %s (%s)\n", path, message, amk_errname(code));
    (*failures)++;
    return AMK_OK;
}

int
main(int argc, char **argv)
{
    struct amk_client *c = NULL;
    struct amk_sftp *s = NULL;
    struct amk_sftp_tree_opts opts;
    char *user = NULL, *host, *colon;
    unsigned port = 22;
    int r, failures = 0, a = 1, get;

    amk_sftp_tree_opts_init(&opts);
    opts.flags = AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_PRESERVE;
    if (a < argc && strcmp(argv[a], "--resume") == 0) {
        opts.flags |= AMK_SFTP_TREE_RESUME;
        a++;
    }
    if (argc - a != 4 || (strcmp(argv[a + 1], "get") != 0 && strcmp(argv[a + 1], "put") != 0) ||
        strchr(argv[a], '@') == NULL) {
        fprintf(stderr, "usage: %s [--resume] USER@HOST[:PORT] get|put FROM TO\n", argv[0]);
        return 2;
    }
    if ((user = strdup(argv[a])) == NULL)
        return 1;
    host = strchr(user, '@');
    *host++ = '\0';
    if ((colon = strchr(host, ':')) != NULL) {
        *colon = '\0';
        port = (unsigned)strtoul(colon + 1, NULL, 10);
    }
    get = strcmp(argv[a + 1], "get") == 0;
    opts.progress = on_progress;
    opts.on_error = on_error;
    opts.error_user = &failures;

    if ((r = amk_init()) != AMK_OK || (r = amk_client_new(&c)) != AMK_OK ||
        (r = amk_client_load_host_keys(c, NULL)) != AMK_OK) {
        fprintf(stderr, "setup: %s\n", amk_strerror(r));
        goto out;
    }
    if ((r = amk_client_connect(c, host, (uint16_t)port, user, NULL)) != AMK_OK) {
        fprintf(stderr, "connect: %s\n", amk_client_last_error(c));
        goto out;
    }
    if ((r = amk_sftp_new_client(&s, c)) != AMK_OK) {
        fprintf(stderr, "sftp: %s\n", amk_client_last_error(c));
        goto out;
    }
    r = get ? amk_sftp_tree_get(s, argv[a + 2], argv[a + 3], &opts) :
        amk_sftp_tree_put(s, argv[a + 2], argv[a + 3], &opts);
    fprintf(stderr, "\n%s: %s, %d path(s) failed\n", get ? "get" : "put",
        r == AMK_OK ? "done" : amk_strerror(r), failures);
out:
    amk_sftp_free(s);
    if (c != NULL && amk_client_close(c) != AMK_OK)
        fprintf(stderr, "close: %s\n", amk_client_last_error(c));
    amk_client_free(c);
    free(user);
    return r == AMK_OK ? 0 : 1;
}
