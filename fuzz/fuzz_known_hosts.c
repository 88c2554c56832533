/*
 * Fuzz target for src/keys/known_hosts.c and host_pattern.c: the input is a
 * known_hosts file loaded from memory, then looked up for a few names with
 * a fixed Ed25519 key (the one the seed corpus uses). Invariants: no crash
 * or over-read (ASan); every line is an entry, skipped, or blank/comment;
 * an answer other than UNKNOWN names a line of the input; a name hashed
 * with a salt from the input parses back and matches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <amiko/known_hosts.h>

#include "keys/host_pattern.h"
#include "keys/key.h"
#include "util/base64.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Ed25519 public key of the seed corpus (ssh-keygen -t ed25519). */
static const char SEED_KEY[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIE6cvcBErJqGbkuMlT4YAcOVWRS/QRVo1hlo5gzfA8Je";

static const struct {
    const char *host;
    unsigned port;
} names[] = {
    { "host1.example.com", 22 },
    { "host2.example.com", 2222 },
    { "10.0.0.3", 0 },
    { "bad.example.org", 22 },
    { "good.example.org", 22 },
};

static struct amk_key *
seed_key(void)
{
    static struct amk_key *key;
    struct amk_buf blob;

    if (key != NULL)
        return key;
    amk_buf_init(&blob);
    if (amk_base64_decode(SEED_KEY, strlen(SEED_KEY), &blob) != AMK_OK ||
        amk_key_from_blob(amk_buf_ptr(&blob), amk_buf_len(&blob), &key) != AMK_OK)
        abort();
    amk_buf_release(&blob);
    return key;
}

/* Hashing a name with a salt taken from the input round-trips. */
static void
check_hash_roundtrip(const uint8_t *data, size_t size)
{
    uint8_t salt[AMK_HOST_HASH_LEN] = { 0 }, s2[AMK_HOST_HASH_LEN], h2[AMK_HOST_HASH_LEN];
    uint8_t h1[AMK_HOST_HASH_LEN];
    struct amk_buf text;

    memcpy(salt, data, size < sizeof(salt) ? size : sizeof(salt));
    amk_buf_init(&text);
    if (amk_host_hash_write(salt, "[host2.example.com]:2222", &text) != AMK_OK ||
        amk_host_hash_parse((const char *)amk_buf_ptr(&text), amk_buf_len(&text), s2, h2) !=
            AMK_OK ||
        amk_host_hash_compute(s2, "[host2.example.com]:2222", h1) != AMK_OK ||
        memcmp(s2, salt, sizeof(salt)) != 0 || memcmp(h1, h2, sizeof(h1)) != 0)
        abort();
    amk_buf_release(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_known_hosts *kh = NULL;
    enum amk_known_hosts_status st;
    const char *file;
    size_t line, lines = 1;
    unsigned flags;
    int r;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (amk_known_hosts_new(&kh) != AMK_OK)
        abort();
    r = amk_known_hosts_load_mem(kh, data, size, "fuzz");
    if (r != AMK_OK && r != AMK_ENOMEM)
        abort();    /* bad lines are never fatal */
    if (amk_known_hosts_count(kh) + amk_known_hosts_skipped(kh) > lines)
        abort();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (amk_known_hosts_check(kh, names[i].host, names[i].port, seed_key(), &st, &file,
                &line, &flags) != AMK_OK)
            abort();
        if (st != AMK_KNOWN_HOSTS_UNKNOWN &&
            (file == NULL || strcmp(file, "fuzz") != 0 || line == 0 || line > lines))
            abort();
        if (st == AMK_KNOWN_HOSTS_UNKNOWN && (file != NULL || line != 0 || flags != 0))
            abort();
    }
    /* The input as a pattern list, against a fixed name. */
    (void)amk_host_pattern_list_match((const char *)data, size, "[host2.example.com]:2222");
    check_hash_roundtrip(data, size);
    amk_known_hosts_free(kh);
    return 0;
}
