/*
 * Fuzz target for util/namelist.c: the input is split at the first NUL
 * into a peer's name-list and an OpenSSH-style algorithm spec.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/namelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SUPPORTED[] = "curve25519-sha256,ecdh-sha2-nistp256,aes128-ctr,aes256-ctr,"
    "chacha20-poly1305@openssh.com,hmac-sha2-256,hmac-sha1";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul ? (size_t)(nul - data) : size;
    char *list, *spec, *out = NULL;
    char match[AMK_NAME_MAX + 1];

    if (amk_namelist_validate((const char *)data, size) == AMK_OK && nul != NULL)
        abort();   /* a NUL is never valid in a name-list */
    list = malloc(first + 1);
    spec = malloc(size - first + 1);
    if (list == NULL || spec == NULL)
        abort();
    memcpy(list, data, first);
    list[first] = '\0';
    size_t rest = nul ? size - first - 1 : 0;
    memcpy(spec, nul ? (const char *)nul + 1 : "", rest);
    spec[rest] = '\0';

    if (amk_namelist_validate(list, first) == AMK_OK) {
        if (amk_namelist_match(list, SUPPORTED, match) == AMK_OK &&
            (!amk_namelist_contains(list, match) || !amk_namelist_contains(SUPPORTED, match)))
            abort();
        (void)amk_namelist_count(list);
    }
    if (strlen(spec) <= AMK_NAMELIST_MAX &&
        amk_namelist_apply("aes128-ctr,hmac-sha2-256", SUPPORTED, spec, &out) == AMK_OK) {
        if (amk_namelist_validate(out, strlen(out)) != AMK_OK)
            abort();
        free(out);
    }
    (void)amk_wildcard_match(spec, list);
    free(list);
    free(spec);
    return 0;
}
