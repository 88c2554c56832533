/*
 * amiko-bench packet: seal and open throughput of the SSH packet ciphers
 * on 32 KiB payloads, next to `openssl speed` for the same primitives on
 * 16 KiB blocks: `-evp <cipher>` for AEAD rows; for cipher+MAC rows the
 * cipher and `-hmac <digest>` combined as 1 / (1/cipher + 1/hmac), the
 * cost of the two passes a packet needs. MB is 10^6 bytes (openssl's
 * "1000s of bytes" / 1000). ratio = mean(seal, open) / openssl.
 * Both sides divide by CPU time (openssl speed does unless -elapsed), so
 * other load on the machine does not skew the ratio.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amiko/error.h>

#include "bench.h"
#include "crypto/cipher.h"

int bench_packet(int argc, char **argv);

#define PAYLOAD_LEN 32768
#define SECONDS_PER_CIPHER 0.75

struct packet_case {
    const char *cipher;
    const char *mac;            /* NULL for AEAD */
    const char *openssl;        /* `openssl speed -evp` name */
    const char *hmac;           /* `openssl speed -hmac` digest; NULL for AEAD */
};

static const struct packet_case CASES[] = {
    { "chacha20-poly1305@openssh.com", NULL, "chacha20-poly1305", NULL },
    { "aes128-gcm@openssh.com", NULL, "aes-128-gcm", NULL },
    { "aes256-gcm@openssh.com", NULL, "aes-256-gcm", NULL },
    { "aes128-ctr", "hmac-sha2-256-etm@openssh.com", "aes-128-ctr", "sha256" },
    { "aes256-ctr", "hmac-sha2-256-etm@openssh.com", "aes-256-ctr", "sha256" },
    { "aes256-ctr", "hmac-sha2-512-etm@openssh.com", "aes-256-ctr", "sha512" },
    { "aes256-ctr", "hmac-sha2-256", "aes-256-ctr", "sha256" },
    { "aes128-cbc", "hmac-sha2-256-etm@openssh.com", "aes-128-cbc", "sha256" },
};

#define NCASES (sizeof(CASES) / sizeof(CASES[0]))

/* MB/s from `openssl speed <kind> <alg>`, or a negative value when unavailable. */
static double
openssl_speed_run(const char *kind, const char *alg)
{
    char cmd[256], line[512];
    FILE *f;
    double v = -1.0;
    int next_is_result = 0;

    snprintf(cmd, sizeof(cmd),
        "command -v openssl >/dev/null 2>&1 && "
        "openssl speed %s %s -seconds 1 -bytes 16384 2>/dev/null", kind, alg);
    if ((f = popen(cmd, "r")) == NULL)
        return -1.0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "type", 4) == 0) {
            next_is_result = 1;
            continue;
        }
        if (next_is_result) {
            /* "<name>   1234567.89k": the last field, in 1000s of bytes per second */
            char *last = strrchr(line, ' ');
            if (last != NULL)
                v = strtod(last + 1, NULL) / 1000.0;
            next_is_result = 0;
        }
    }
    pclose(f);
    return v;
}

/* Each primitive is measured once per run. */
static struct {
    char key[64];
    double mbs;
} speed_cache[16];
static size_t speed_cached;

static double
openssl_speed(const char *kind, const char *alg)
{
    char key[64];

    snprintf(key, sizeof(key), "%s %s", kind, alg);
    for (size_t i = 0; i < speed_cached; i++) {
        if (strcmp(speed_cache[i].key, key) == 0)
            return speed_cache[i].mbs;
    }
    if (speed_cached == sizeof(speed_cache) / sizeof(speed_cache[0]))
        return openssl_speed_run(kind, alg);
    snprintf(speed_cache[speed_cached].key, sizeof(speed_cache[0].key), "%s", key);
    speed_cache[speed_cached].mbs = openssl_speed_run(kind, alg);
    return speed_cache[speed_cached++].mbs;
}

/* What openssl does for the row: the AEAD, or cipher and HMAC passes combined. */
static double
openssl_reference(const struct packet_case *pc)
{
    double c = openssl_speed("-evp", pc->openssl), h;

    if (pc->hmac == NULL || c <= 0)
        return c;
    if ((h = openssl_speed("-hmac", pc->hmac)) <= 0)
        return -1.0;
    return 1.0 / (1.0 / c + 1.0 / h);
}

/* CPU seconds used by this process. */
static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
packet_layout(struct amk_pkt_cipher *c, uint8_t *buf)
{
    size_t bs = amk_pkt_cipher_block_size(c), aad = amk_pkt_cipher_aad_len(c);
    size_t pad = bs - (4 + 1 + PAYLOAD_LEN - aad) % bs;
    size_t len;

    if (pad < 4)
        pad += bs;
    len = 4 + 1 + PAYLOAD_LEN + pad;
    buf[0] = (uint8_t)((len - 4) >> 24);
    buf[1] = (uint8_t)((len - 4) >> 16);
    buf[2] = (uint8_t)((len - 4) >> 8);
    buf[3] = (uint8_t)(len - 4);
    buf[4] = (uint8_t)pad;
    for (size_t i = 5; i < len; i++)
        buf[i] = (uint8_t)(i * 13);
    return len;
}

/* Alternates seal and open on one buffer for about SECONDS_PER_CIPHER. */
static int
run_case(const struct packet_case *pc, double *seal_mbs, double *open_mbs)
{
    struct amk_pkt_cipher *enc = NULL, *dec = NULL;
    uint8_t key[AMK_CIPHER_MAX_KEY_LEN], iv[AMK_CIPHER_MAX_IV_LEN], mkey[AMK_MAC_MAX_KEY_LEN];
    uint8_t tag[AMK_PKT_MAX_TAG_LEN];
    uint8_t *pkt = NULL;
    double t_seal = 0, t_open = 0, t0, t1, t2;
    uint64_t bytes = 0;
    uint32_t seq = 0, plen;
    size_t len;
    int r = AMK_EINTERNAL;

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i + 1);
    memset(iv, 0x5a, sizeof(iv));
    memset(mkey, 0xa5, sizeof(mkey));
    if ((pkt = malloc(PAYLOAD_LEN + 64)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_pkt_cipher_new(&enc, pc->cipher, pc->mac, 1, key, iv, mkey)) != AMK_OK ||
        (r = amk_pkt_cipher_new(&dec, pc->cipher, pc->mac, 0, key, iv, mkey)) != AMK_OK)
        goto out;
    len = packet_layout(enc, pkt);
    while (t_seal + t_open < SECONDS_PER_CIPHER) {
        t0 = cpu_now();
        if ((r = amk_pkt_seal(enc, seq, pkt, len, tag)) != AMK_OK)
            goto out;
        t1 = cpu_now();
        if ((r = amk_pkt_decrypt_length(dec, seq, pkt, &plen)) != AMK_OK ||
            (r = amk_pkt_open(dec, seq, pkt, len, tag)) != AMK_OK)
            goto out;
        t2 = cpu_now();
        if (plen != len - 4) {
            r = AMK_EINTERNAL;
            goto out;
        }
        t_seal += t1 - t0;
        t_open += t2 - t1;
        bytes += len;
        seq++;
    }
    *seal_mbs = (double)bytes / t_seal / 1e6;
    *open_mbs = (double)bytes / t_open / 1e6;
    r = AMK_OK;
out:
    amk_pkt_cipher_free(enc);
    amk_pkt_cipher_free(dec);
    free(pkt);
    return r;
}

int
bench_packet(int argc, char **argv)
{
    int rc = 0;

    (void)argc;
    (void)argv;
    printf("packet: %d-byte payloads, seal+open ~%.2f CPU s per cipher; "
        "openssl speed, 16384-byte blocks\n", PAYLOAD_LEN, SECONDS_PER_CIPHER);
    printf("%-30s %-30s %10s %10s %12s %6s\n", "cipher", "mac", "seal MB/s", "open MB/s",
        "openssl MB/s", "ratio");
    for (size_t i = 0; i < NCASES; i++) {
        const struct packet_case *pc = &CASES[i];
        double seal = 0, open = 0, ossl;
        char ossl_s[32], ratio_s[32];
        int r;

        if ((r = run_case(pc, &seal, &open)) != AMK_OK) {
            printf("%-30s %-30s failed: %s\n", pc->cipher, pc->mac ? pc->mac : "(aead)",
                amk_strerror(r));
            rc = 1;
            continue;
        }
        ossl = openssl_reference(pc);
        if (ossl > 0) {
            snprintf(ossl_s, sizeof(ossl_s), "%.1f", ossl);
            snprintf(ratio_s, sizeof(ratio_s), "%.2f", (seal + open) / 2.0 / ossl);
        } else {
            snprintf(ossl_s, sizeof(ossl_s), "n/a");
            snprintf(ratio_s, sizeof(ratio_s), "n/a");
        }
        printf("%-30s %-30s %10.1f %10.1f %12s %6s\n", pc->cipher, pc->mac ? pc->mac : "(aead)",
            seal, open, ossl_s, ratio_s);
        fflush(stdout);
    }
    printf("openssl MB/s: -evp <aead>, or -evp <cipher> and -hmac <digest> as 1/(1/c + 1/h);"
        " all figures per CPU second\n");
    return rc;
}
