/*
 * Fuzz target for src/keys/key_openssh.c: the input is a binary
 * openssh-key-v1 container (the base64 inside the armor). Encrypted
 * inputs get the passphrase "fuzz" when their bcrypt cost is small, so
 * the decrypted private section is reached too. Invariants: no crash or
 * over-read (ASan); a parsed key is private, re-writes and re-reads equal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ROUNDS 2u

static int
fuzz_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "fuzz");
    return AMK_OK;
}

/* bcrypt rounds named in the header, or 0 when there are none. */
static uint32_t
header_rounds(const uint8_t *data, size_t size)
{
    struct amk_buf b, opts;
    uint32_t rounds = 0;

    amk_buf_view(&b, data, size);
    if (amk_buf_consume(&b, 15) != AMK_OK || amk_buf_skip_string(&b) != AMK_OK ||
        amk_buf_skip_string(&b) != AMK_OK || amk_buf_get_stringb(&b, &opts) != AMK_OK ||
        amk_buf_skip_string(&opts) != AMK_OK || amk_buf_get_u32(&opts, &rounds) != AMK_OK)
        return 0;
    return rounds;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_key *k = NULL, *back = NULL;
    struct amk_buf *text = NULL;
    amk_passphrase_fn fn = header_rounds(data, size) <= FUZZ_MAX_ROUNDS ? fuzz_pass : NULL;

    if (amk_openssh_parse(data, size, fn, NULL, &k) != AMK_OK)
        return 0;
    if (!amk_key_has_private(k))
        abort();
    if ((text = amk_buf_new()) == NULL ||
        amk_openssh_write(k, NULL, NULL, 0, NULL, text) != AMK_OK ||
        amk_key_load(amk_buf_ptr(text), amk_buf_len(text), NULL, NULL, &back) != AMK_OK ||
        !amk_key_equal_public(k, back) || strcmp(amk_key_comment(k), amk_key_comment(back)) != 0)
        abort();
    amk_buf_free(text);
    amk_key_free(back);
    amk_key_free(k);
    return 0;
}
