/*
 * Example: checking a server's host key against known_hosts, as ssh(1)
 * does, and remembering a new one.
 *
 *   known_hosts FILE HOST PORT KEY.pub          check; exit 0 known, 1 unknown,
 *                                               2 changed, 3 revoked, 4 error
 *   known_hosts -a [-H] FILE HOST PORT KEY.pub  add (-H: hash the host name)
 *
 * A real client gets the key from the key exchange; here it comes from a
 * public key file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko.h>

static void
print_warning(void *user, enum amk_log_level level, const char *msg)
{
    fprintf(stderr, "%s: %s\n", amk_log_level_name(level), msg);
}

int
main(int argc, char **argv)
{
    struct amk_known_hosts *kh = NULL;
    struct amk_key *key = NULL;
    enum amk_known_hosts_status status;
    const char *file;
    size_t line;
    unsigned flags, port;
    int add = 0, hash = 0, argi = 1, ret = 4, r;

    while (argi < argc && argv[argi][0] == '-') {
        if (strcmp(argv[argi], "-a") == 0)
            add = 1;
        else if (strcmp(argv[argi], "-H") == 0)
            hash = 1;
        else
            break;
        argi++;
    }
    if (argc - argi != 4) {
        fprintf(stderr, "usage: %s [-a [-H]] FILE HOST PORT KEY.pub\n", argv[0]);
        return 4;
    }
    port = (unsigned)strtoul(argv[argi + 2], NULL, 10);
    if ((r = amk_init()) != AMK_OK ||
        (r = amk_key_load_file(argv[argi + 3], NULL, NULL, &key)) != AMK_OK ||
        (r = amk_known_hosts_new(&kh)) != AMK_OK)
        goto out;
    amk_known_hosts_set_log(kh, print_warning, NULL);
    if ((r = amk_known_hosts_load_file(kh, argv[argi])) != AMK_OK)
        goto out;
    if (add) {
        r = amk_known_hosts_add(kh, argv[argi], argv[argi + 1], port, key,
            hash ? AMK_KNOWN_HOSTS_ADD_HASH : 0);
        if (r == AMK_OK) {
            printf("added %s key for %s\n", amk_key_type_name(key), argv[argi + 1]);
            ret = 0;
        }
        goto out;
    }
    if ((r = amk_known_hosts_check(kh, argv[argi + 1], port, key, &status, &file, &line,
             &flags)) != AMK_OK)
        goto out;
    switch (status) {
    case AMK_KNOWN_HOSTS_OK:
        printf("known: %s:%zu\n", file, line);
        break;
    case AMK_KNOWN_HOSTS_UNKNOWN:
        printf("unknown host\n");
        break;
    case AMK_KNOWN_HOSTS_CHANGED:
        printf("CHANGED: %s key differs from %s:%zu%s\n", amk_key_type_name(key), file, line,
            (flags & AMK_KNOWN_HOSTS_F_DIFFERENT_KEY) ? "" :
                                                        " (only other key types are known)");
        break;
    case AMK_KNOWN_HOSTS_REVOKED:
        printf("REVOKED by %s:%zu\n", file, line);
        break;
    }
    ret = (int)status;
out:
    if (r != AMK_OK)
        fprintf(stderr, "%s: %s\n", argv[0], amk_strerror(r));
    amk_known_hosts_free(kh);
    amk_key_free(key);
    return ret;
}
