/*
 * Fuzz target for src/keys/key_rfc4716.c: RFC 4716 public key files.
 * Invariants: no crash or over-read (ASan); a parsed key written back
 * parses to the same key and comment.
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
    struct amk_buf *text = NULL;

    if (amk_rfc4716_parse((const char *)data, size, &k) != AMK_OK)
        return 0;
    /* A comment with a line break cannot be written (AMK_EINVAL): fine. */
    if ((text = amk_buf_new()) == NULL)
        abort();
    if (amk_rfc4716_write(k, text) == AMK_OK &&
        (amk_rfc4716_parse((const char *)amk_buf_ptr(text), amk_buf_len(text), &back) != AMK_OK ||
            !amk_key_equal_public(k, back) ||
            strcmp(amk_key_comment(k), amk_key_comment(back)) != 0))
        abort();
    amk_buf_free(text);
    amk_key_free(back);
    amk_key_free(k);
    return 0;
}
