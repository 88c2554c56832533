/*
 * Fuzz target for src/keys/known_hosts.c: the input is a known_hosts file.
 * It is loaded (bad lines skipped) and every entry's key is looked up for
 * a few host names and ports. Invariants: no crash or over-read (ASan);
 * loading never fails on content; a check answers only the four results
 * and names a line that exists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <amiko/known_hosts.h>

#include "keys/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An Ed25519 public key the seed corpus uses. */
static const char seed_key[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGOPlIlpeY6flw/qYvmhVt3Dz1CBX5qhM07ZpcVFsGjK";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        const char *host;
        unsigned port;
    } names[] = { { "example.com", 22 }, { "example.com", 2222 }, { "192.0.2.1", 0 },
        { "a.corp.example", 22 } };
    struct amk_known_hosts *kh = NULL;
    struct amk_key *key = NULL;
    const char *file;
    size_t line, lines = 1;
    int r;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (amk_known_hosts_new(&kh) != AMK_OK)
        abort();
    if (amk_known_hosts_load(kh, (const char *)data, size, "fuzz") != AMK_OK)
        abort();
    if (amk_key_load(seed_key, strlen(seed_key), NULL, NULL, &key) != AMK_OK)
        abort();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        r = amk_known_hosts_check(kh, names[i].host, names[i].port, key, &file, &line);
        if (r != AMK_OK && r != AMK_EHOSTKEY_CHANGED && r != AMK_EHOSTKEY_REVOKED &&
            r != AMK_EHOSTKEY_UNKNOWN)
            abort();
        if (r != AMK_EHOSTKEY_UNKNOWN && (file == NULL || line == 0 || line > lines))
            abort();
    }
    amk_key_free(key);
    amk_known_hosts_free(kh);
    return 0;
}
