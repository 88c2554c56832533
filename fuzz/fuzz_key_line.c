/*
 * Fuzz target for amk_key_load() on text: OpenSSH public key lines
 * (key_public.c), RFC 4716 files (key_rfc4716.c), PEM and PKCS#8 keys
 * (crypto/pkey_pem.c) and the armor of OpenSSH private keys
 * (key_openssh.c), without a passphrase. Invariants: no crash or over-read (ASan); a
 * parsed public line formats back to a line that parses to the same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_key *k = NULL, *back = NULL;
    struct amk_buf *line = NULL;

    if (amk_key_load(data, size, NULL, NULL, &k) != AMK_OK)
        return 0;
    if ((line = amk_buf_new()) == NULL || amk_key_write_public_line(k, line) != AMK_OK ||
        amk_key_parse_public_line((const char *)amk_buf_ptr(line), amk_buf_len(line), &back) !=
            AMK_OK ||
        !amk_key_equal_public(k, back))
        abort();
    amk_buf_free(line);
    amk_key_free(back);
    amk_key_free(k);
    return 0;
}
