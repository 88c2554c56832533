/*
 * amiko-bench transport: throughput of the whole transport engine in
 * memory, per cipher: a client engine sends 32 KiB payloads with
 * amk_transport_send(), its output is fed to a server engine and read
 * back with amk_transport_recv(). This is the packet layer plus the
 * engine's framing, padding, queues and copies; compare with the
 * "packet" benchmark (the cipher alone, next to openssl speed).
 * MB is 10^6 bytes of payload; time is CPU time of both engines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amiko/error.h>

#include "bench.h"
#include "keys/key.h"
#include "transport/transport.h"

int bench_transport(int argc, char **argv);

#define PAYLOAD_LEN 32768
#define SECONDS_PER_CIPHER 0.75

static const struct {
    const char *cipher;
    const char *mac;
} CASES[] = {
    { "chacha20-poly1305@openssh.com", NULL },
    { "aes128-gcm@openssh.com", NULL },
    { "aes256-gcm@openssh.com", NULL },
    { "aes128-ctr", "hmac-sha2-256-etm@openssh.com" },
    { "aes256-ctr", "hmac-sha2-512-etm@openssh.com" },
    { "aes256-ctr", "hmac-sha2-256" },
};
#define NCASES (sizeof(CASES) / sizeof(CASES[0]))

static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Moves @p from's output into @p to and drains @p to's upper layer. */
static int
pump(struct amk_transport *from, struct amk_transport *to, size_t *delivered)
{
    const uint8_t *p;
    size_t n;
    int r;

    for (;;) {
        amk_transport_output(from, &p, &n);
        if (n == 0)
            break;
        r = amk_transport_feed(to, p, n, 0);
        if (r != AMK_OK && r != AMK_EAGAIN)
            return r;
        if (r == AMK_OK && (r = amk_transport_output_consume(from, n)) != AMK_OK)
            return r;
        while (amk_transport_recv(to, &p, &n) == AMK_OK)
            *delivered += n;
    }
    return AMK_OK;
}

static int
handshake(struct amk_transport *c, struct amk_transport *s)
{
    size_t d = 0;
    int r;

    for (int i = 0; i < 100 && !(amk_transport_handshake_done(c) &&
        amk_transport_handshake_done(s)); i++) {
        if ((r = pump(c, s, &d)) != AMK_OK || (r = pump(s, c, &d)) != AMK_OK)
            return r;
    }
    return amk_transport_handshake_done(c) ? AMK_OK : AMK_EINTERNAL;
}

static int
run_case(size_t i, struct amk_key *key)
{
    struct amk_key *keys[1] = { key };
    struct amk_transport_config cc, sc;
    struct amk_transport *c = NULL, *s = NULL;
    uint8_t *msg = NULL;
    size_t delivered = 0, sent = 0;
    double t0, t1;
    int r = AMK_EINTERNAL;

    memset(&cc, 0, sizeof(cc));
    cc.role = AMK_TRANSPORT_CLIENT;
    cc.ciphers = CASES[i].cipher;
    cc.macs = CASES[i].mac;
    cc.rekey_seconds = AMK_TRANSPORT_REKEY_NEVER;
    sc = cc;
    sc.role = AMK_TRANSPORT_SERVER;
    sc.host_keys = keys;
    sc.n_host_keys = 1;
    if ((msg = calloc(1, PAYLOAD_LEN)) == NULL)
        return AMK_ENOMEM;
    msg[0] = 94;
    if ((r = amk_transport_new(&c, &cc)) != AMK_OK ||
        (r = amk_transport_new(&s, &sc)) != AMK_OK ||
        (r = handshake(c, s)) != AMK_OK)
        goto out;
    t0 = cpu_now();
    do {
        for (int k = 0; k < 64; k++) {
            if ((r = amk_transport_send(c, msg, PAYLOAD_LEN)) != AMK_OK)
                goto out;
            sent += PAYLOAD_LEN;
        }
        if ((r = pump(c, s, &delivered)) != AMK_OK)
            goto out;
        t1 = cpu_now();
    } while (t1 - t0 < SECONDS_PER_CIPHER);
    if (delivered != sent) {
        r = AMK_EINTERNAL;
        goto out;
    }
    printf("%-32s %-32s %9.1f MB/s\n", CASES[i].cipher, CASES[i].mac != NULL ? CASES[i].mac : "-",
        (double)delivered / 1e6 / (t1 - t0));
    r = AMK_OK;
out:
    if (r != AMK_OK)
        printf("%-32s failed: %s %s\n", CASES[i].cipher, amk_errname(r),
            c != NULL ? amk_transport_last_error(c) : "");
    amk_transport_free(c);
    amk_transport_free(s);
    free(msg);
    return r;
}

int
bench_transport(int argc, char **argv)
{
    struct amk_key *key = NULL;
    int rc = 0;

    (void)argc;
    (void)argv;
    if (amk_key_generate(AMK_PKEY_ED25519, 0, &key) != AMK_OK) {
        printf("transport: cannot generate a host key\n");
        return 1;
    }
    printf("transport: engine to engine in memory, %d-byte payloads\n", PAYLOAD_LEN);
    for (size_t i = 0; i < NCASES; i++) {
        if (run_case(i, key) != AMK_OK)
            rc = 1;
    }
    amk_key_free(key);
    return rc;
}
