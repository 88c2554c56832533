/*
 * Fuzz target for src/keys/key_ppk.c: PuTTY .ppk text, with the
 * passphrase "Test Passphrase" (the seeds' passphrase) when the file's
 * Argon2 cost is small enough to run many times a second. Invariants: no
 * crash or over-read (ASan); a parsed key is private and signs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MEMORY_KIB 16384ul
#define FUZZ_MAX_PASSES 16ul

static int
fuzz_pass(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "Test Passphrase");
    return AMK_OK;
}

/* The number after "<name>: " in the text, or 0. */
static unsigned long
header_number(const uint8_t *data, size_t size, const char *name)
{
    size_t nlen = strlen(name);
    unsigned long v = 0;

    for (size_t i = 0; i + nlen < size; i++) {
        if (memcmp(data + i, name, nlen) != 0)
            continue;
        for (i += nlen; i < size && data[i] >= '0' && data[i] <= '9' && v < 100000000ul; i++)
            v = v * 10 + (unsigned long)(data[i] - '0');
        return v;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t msg[] = "fuzz";
    struct amk_key *k = NULL;
    struct amk_buf *sig = NULL;
    int cheap = header_number(data, size, "Argon2-Memory: ") <= FUZZ_MAX_MEMORY_KIB &&
        header_number(data, size, "Argon2-Passes: ") <= FUZZ_MAX_PASSES;

    if (amk_ppk_parse((const char *)data, size, cheap ? fuzz_pass : NULL, NULL, &k) != AMK_OK)
        return 0;
    if (!amk_key_has_private(k) || (sig = amk_buf_new()) == NULL ||
        amk_key_sign(k, NULL, msg, sizeof(msg), sig) != AMK_OK ||
        amk_key_verify(k, NULL, amk_buf_ptr(sig), amk_buf_len(sig), msg, sizeof(msg)) != AMK_OK)
        abort();
    amk_buf_free(sig);
    amk_key_free(k);
    return 0;
}
