/*
 * Shared set-up for the transport fuzz targets and their corpus
 * generator (fuzz/gen_transport_corpus.c): deterministic engines, so a
 * captured byte stream replays exactly and reaches the encrypted phase.
 *
 * Each input starts with one byte that picks a configuration (the KEX,
 * cipher, MAC and compression both engines use); the rest is what the
 * peer sends after its version line.
 */
#ifndef AMK_FUZZ_TRANSPORT_COMMON_H
#define AMK_FUZZ_TRANSPORT_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pkey.h"
#include "crypto/rand.h"
#include "keys/key.h"
#include "transport/transport.h"

#define FUZZ_UNUSED __attribute__((unused))

struct fuzz_conf {
    const char *kex;
    const char *cipher;
    const char *mac;
    const char *comp;
};

static const struct fuzz_conf fuzz_confs[] = {
    { "curve25519-sha256", "chacha20-poly1305@openssh.com", NULL, NULL },
    { "ecdh-sha2-nistp256", "aes128-gcm@openssh.com", NULL, NULL },
    { "diffie-hellman-group14-sha256", "aes128-ctr", "hmac-sha2-256-etm@openssh.com", NULL },
    { "diffie-hellman-group-exchange-sha256", "aes256-ctr", "hmac-sha2-512", NULL },
    { "curve25519-sha256", "aes256-gcm@openssh.com", NULL, "zlib" },
    { "ecdh-sha2-nistp521", "aes192-ctr", "hmac-sha2-256", "zlib@openssh.com" },
    /* the rest of amiko's KEX methods, so each has seeds (kex_reply and the sessions) */
    { "curve25519-sha256@libssh.org", "aes128-ctr", "hmac-sha2-512-etm@openssh.com", NULL },
    { "ecdh-sha2-nistp384", "aes256-gcm@openssh.com", NULL, NULL },
    { "diffie-hellman-group16-sha512", "chacha20-poly1305@openssh.com", NULL, NULL },
    { "diffie-hellman-group18-sha512", "aes256-ctr", "hmac-sha1-etm@openssh.com", NULL },
    { "diffie-hellman-group14-sha1", "aes128-cbc", "hmac-sha1", NULL },
};
#define FUZZ_NCONFS (sizeof(fuzz_confs) / sizeof(fuzz_confs[0]))

/* The peer's identification line the targets feed first. */
#define FUZZ_PEER_VERSION "SSH-2.0-amiko_" AMK_VERSION_STRING "\r\n"

struct fuzz_rng {
    uint64_t s;
};

static FUZZ_UNUSED int
fuzz_rng_fill(void *user, uint8_t *out, size_t len)
{
    struct fuzz_rng *st = user;

    for (size_t i = 0; i < len; i += 8) {
        uint64_t z;
        st->s += 0x9e3779b97f4a7c15ULL;
        z = st->s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        memcpy(out + i, &z, len - i < 8 ? len - i : 8);
    }
    return AMK_OK;
}

/* RFC 8032 §7.1 TEST 1: a fixed Ed25519 host key, so runs are repeatable. */
static FUZZ_UNUSED struct amk_key *
fuzz_host_key(void)
{
    static struct amk_key *key;
    static const uint8_t seed[32] = {
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
        0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
        0x1c, 0xae, 0x7f, 0x60 };
    static const uint8_t pub[32] = {
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
        0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
        0xf7, 0x07, 0x51, 0x1a };
    struct amk_bytes parts[AMK_PART_COUNT];
    struct amk_pkey *pk = NULL;

    if (key != NULL)
        return key;
    memset(parts, 0, sizeof(parts));
    parts[AMK_PART_PUBLIC].p = pub;
    parts[AMK_PART_PUBLIC].len = sizeof(pub);
    parts[AMK_PART_PRIVATE].p = seed;
    parts[AMK_PART_PRIVATE].len = sizeof(seed);
    if (amk_pkey_from_parts(&pk, AMK_PKEY_ED25519, parts) != AMK_OK ||
        amk_key_from_pkey(pk, &key) != AMK_OK)
        abort();
    return key;
}

/* A fresh engine of @p role for configuration @p conf with its own fixed rng. */
static FUZZ_UNUSED struct amk_transport *
fuzz_engine(enum amk_transport_role role, unsigned conf, struct fuzz_rng *rs,
    struct amk_rng *rng)
{
    static struct amk_key *keys[1];
    const struct fuzz_conf *fc = &fuzz_confs[conf % FUZZ_NCONFS];
    struct amk_transport_config c;
    struct amk_transport *t = NULL;

    keys[0] = fuzz_host_key();
    rs->s = role == AMK_TRANSPORT_CLIENT ? 11 : 22;
    rng->fill = fuzz_rng_fill;
    rng->user = rs;
    memset(&c, 0, sizeof(c));
    c.role = role;
    c.kex_algs = fc->kex;
    c.ciphers = fc->cipher;
    c.macs = fc->mac;
    c.compression = fc->comp;
    c.rng = rng;
    c.host_keys = keys;
    c.n_host_keys = 1;
    if (amk_transport_new(&t, &c) != AMK_OK)
        abort();
    return t;
}

/* Drains everything: output and upper-layer packets. */
static FUZZ_UNUSED void
fuzz_drain(struct amk_transport *t)
{
    const uint8_t *p;
    size_t n;

    while (amk_transport_recv(t, &p, &n) == AMK_OK)
        ;
    amk_transport_output(t, &p, &n);
    if (amk_transport_output_consume(t, n) != AMK_OK)
        abort();
}

/* Feeds @p data to @p t in pieces, as a socket would deliver it. */
static FUZZ_UNUSED void
fuzz_feed(struct amk_transport *t, const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        size_t k = size - off < 4096 ? size - off : 4096;
        int r = amk_transport_feed(t, data + off, k, 0);
        if (r == AMK_EAGAIN) {
            fuzz_drain(t);
            continue;
        }
        fuzz_drain(t);
        if (r != AMK_OK)
            break;
        off += k;
    }
    /* Whatever the outcome, the engine must stay consistent. */
    if (amk_transport_error(t) != AMK_OK && amk_transport_last_error(t)[0] == '\0')
        abort();
}

#endif
