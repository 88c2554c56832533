/*
 * Fuzz target for src/keys/key_pem.c and src/crypto/pem.c: PEM and
 * PKCS#8 private key text, with the passphrase "pass phrase" for
 * encrypted inputs (the seeds use it). Invariants: no crash or over-read
 * (ASan); a parsed key is private, and written back as PKCS#8 it parses
 * to the same key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "pass phrase");
    return AMK_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_key *k = NULL, *back = NULL;
    struct amk_buf *text = NULL;

    if (amk_pem_parse((const char *)data, size, fuzz_pass, NULL, &k) != AMK_OK)
        return 0;
    if (!amk_key_has_private(k) || (text = amk_buf_new()) == NULL ||
        amk_pem_write(k, 1, NULL, text) != AMK_OK ||
        amk_pem_parse((const char *)amk_buf_ptr(text), amk_buf_len(text), NULL, NULL, &back) !=
            AMK_OK ||
        !amk_key_equal_public(k, back))
        abort();
    amk_buf_free(text);
    amk_key_free(back);
    amk_key_free(k);
    return 0;
}
