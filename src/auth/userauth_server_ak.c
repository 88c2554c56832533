/*
 * The bridge between the server engine's publickey decisions and the
 * authorized_keys checker (src/keys/authorized_keys.c): the key options of
 * the accepting line travel as the engine's opaque key_opts.
 * See userauth_server.h.
 */
#include "auth/userauth_server.h"

#include <amiko/authorized_keys.h>

int
amk_userauth_server_ak_check(struct amk_authorized_keys *ak, const struct amk_key *key,
    const char *client_ip, const char *client_host, int64_t now, int is_query,
    void **key_opts)
{
    const struct amk_authorized_key_opts *o = NULL;
    struct amk_authorized_key_opts *copy = NULL;

    if (key_opts != NULL)
        *key_opts = NULL;
    if (ak == NULL || key == NULL ||
        amk_authorized_keys_check(ak, key, client_ip, client_host, now, &o) != AMK_OK)
        return AMK_AUTH_REJECT;
    if (!is_query && key_opts != NULL) {
        /* The copy outlives the file object: the session needs the
         * options long after the file was read. */
        if (amk_authorized_key_opts_dup(o, &copy) != AMK_OK)
            return AMK_AUTH_REJECT;
        *key_opts = copy;
    }
    return AMK_AUTH_ACCEPT;
}

void
amk_userauth_server_ak_opts_free(void *user, void *key_opts)
{
    (void)user;
    amk_authorized_key_opts_free(key_opts);
}
