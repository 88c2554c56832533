/*
 * Fuzz target for the server's hostkeys-prove-00@openssh.com request
 * parser (src/server/server_hostkeys.c): the input is a GLOBAL_REQUEST
 * payload. Each key blob it yields is parsed as a public key (as the
 * server does when looking for its own key). A yielded list must walk
 * cleanly as strings; nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "keys/key.h"
#include "server/server_int.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *keys = NULL, *kb;
    size_t keys_len = 0, n = 0, kb_len, seen = 0;
    struct amk_buf m;
    int want_reply = 0;
    int r = amk_srv_hostkeys_parse_prove(data, size, &want_reply, &keys, &keys_len, &n);

    if (r != 1)
        return 0;
    if (n > SRV_PROVE_KEYS_MAX || (keys_len > 0 && keys == NULL))
        abort();
    amk_buf_view(&m, keys, keys_len);
    while (amk_buf_len(&m) > 0) {
        struct amk_key *k = NULL;
        if (amk_buf_get_string_direct(&m, &kb, &kb_len) != AMK_OK)
            abort();    /* the parser said the list is whole */
        if (amk_key_from_blob(kb, kb_len, &k) == AMK_OK)
            amk_key_free(k);
        seen++;
    }
    if (seen != n)
        abort();
    return 0;
}
