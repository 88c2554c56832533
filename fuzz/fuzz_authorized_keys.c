/*
 * Fuzz target for authorized_keys (src/keys/authorized_keys.c): the input
 * is a whole file. It is parsed, every bad line's reason is read, a fixed
 * Ed25519 key (the public key of the corpus line "fuzz-key") is checked
 * from an IPv4 and an IPv6 address at a fixed time, and the matching
 * line's options are copied and read. Nothing may crash, leak or read
 * out of bounds; a match must come with options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/authorized_keys.h"
#include "keys/keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the corpus files list (with many options). */
static const char fuzz_key_line[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICv6CPKwqV2VB4hJxEIUt1lcpbGMjGDC+CTkyRw8YRNz fuzz-key";

static void
read_opts(const struct amk_authorized_key_opts *o)
{
    struct amk_authorized_key_opts *c = NULL;
    size_t total = 0;

    if (amk_authorized_key_opts_dup(o, &c) != AMK_OK)
        return;
    for (size_t i = 0; i < amk_authorized_key_opts_env_count(c); i++)
        total += strlen(amk_authorized_key_opts_env(c, i));
    for (size_t i = 0; i < amk_authorized_key_opts_permitopen_count(c); i++)
        total += strlen(amk_authorized_key_opts_permitopen(c, i));
    for (size_t i = 0; i < amk_authorized_key_opts_permitlisten_count(c); i++)
        total += strlen(amk_authorized_key_opts_permitlisten(c, i));
    if (amk_authorized_key_opts_command(c) != NULL)
        total += strlen(amk_authorized_key_opts_command(c));
    if (amk_authorized_key_opts_from(c) != NULL &&
        amk_ak_from_match(amk_authorized_key_opts_from(c), "192.0.2.1", "h.example") < 0)
        abort();    /* a stored from= was validated when parsed */
    (void)total;
    amk_authorized_key_opts_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct amk_key *key;
    struct amk_authorized_keys *ak = NULL;
    const struct amk_authorized_key_opts *o = NULL;
    const char *reason;
    size_t line;

    if (key == NULL &&
        amk_key_parse_public_line(fuzz_key_line, strlen(fuzz_key_line), &key) != AMK_OK)
        abort();
    if (amk_authorized_keys_load(data, size, &ak) != AMK_OK)
        return 0;
    for (size_t i = 0; i < amk_authorized_keys_bad_count(ak); i++) {
        if (amk_authorized_keys_bad_line(ak, i, &line, &reason) == AMK_OK &&
            (line == 0 || strlen(reason) >= AMK_AK_REASON_MAX))
            abort();
    }
    if (amk_authorized_keys_check(ak, key, "192.0.2.1", "h.example", 1800000000, &o) ==
        AMK_OK) {
        if (o == NULL)
            abort();
        read_opts(o);
    }
    if (amk_authorized_keys_check(ak, key, "2001:db8::5", NULL, 1500000000, &o) == AMK_OK)
        read_opts(o);
    /* Without an address, from= lines never match. */
    if (amk_authorized_keys_check(ak, key, NULL, NULL, 0, &o) == AMK_OK &&
        amk_authorized_key_opts_from(o) != NULL)
        abort();
    amk_authorized_keys_free(ak);
    return 0;
}
