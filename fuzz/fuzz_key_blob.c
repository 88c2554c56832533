/*
 * Fuzz target for src/keys/key.c and key_sig.c: the input is an SSH
 * string holding a public-key blob, followed by a signature blob that is
 * verified over a fixed message with that key (as the transport does with
 * a server's host key and exchange-hash signature). Invariants: no crash
 * or over-read (ASan), a parsed blob re-encodes to the same bytes, and
 * verification only ever answers OK, ESIGNATURE or EFORMAT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The message the seed corpus signatures were made over. */
static const uint8_t fuzz_msg[] = "amiko fuzz_key_blob message";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_buf in, *again = NULL;
    struct amk_key *k = NULL;
    const uint8_t *blob;
    size_t bloblen;
    int r;

    amk_buf_view(&in, data, size);
    if (amk_buf_get_string_direct(&in, &blob, &bloblen) != AMK_OK)
        return 0;
    if (amk_key_from_blob(blob, bloblen, &k) != AMK_OK)
        return 0;
    if ((again = amk_buf_new()) == NULL || amk_key_to_blob(k, again) != AMK_OK)
        abort();
    if (amk_buf_len(again) != bloblen || memcmp(amk_buf_ptr(again), blob, bloblen) != 0)
        abort();
    r = amk_key_verify(k, NULL, amk_buf_ptr(&in), amk_buf_len(&in), fuzz_msg, sizeof(fuzz_msg));
    if (r != AMK_OK && r != AMK_ESIGNATURE && r != AMK_EFORMAT)
        abort();
    amk_buf_free(again);
    amk_key_free(k);
    return 0;
}
