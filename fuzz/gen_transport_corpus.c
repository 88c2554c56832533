/*
 * Writes the seed corpora of the transport fuzz targets: runs the fixed
 * client and server engines of fuzz_transport_common.h against each other
 * in memory and captures what each one sends, so the seeds replay whole
 * handshakes (and rekeys) inside the targets.
 *
 * Not part of the build; run it from the repository root after a build:
 *   cc -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc -Ifuzz fuzz/gen_transport_corpus.c \
 *      build/libamiko.a -lcrypto -lz -o /tmp/gen_transport_corpus
 *   /tmp/gen_transport_corpus fuzz/corpus
 */
#include <stdio.h>

#include "fuzz_transport_common.h"
#include "util/buf.h"

static void
die(const char *what, int r)
{
    fprintf(stderr, "gen_transport_corpus: %s: %s\n", what, amk_errname(r));
    exit(1);
}

static void
write_seed(const char *dir, const char *target, const char *name, uint8_t conf,
    const uint8_t *data, size_t len, int with_conf)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
    if ((f = fopen(path, "wb")) == NULL) {
        perror(path);
        exit(1);
    }
    if ((with_conf && fwrite(&conf, 1, 1, f) != 1) ||
        (len > 0 && fwrite(data, 1, len, f) != len)) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* Moves @p from's output to @p to, recording it in @p cap. */
static size_t
shuttle(struct amk_transport *from, struct amk_transport *to, struct amk_buf *cap)
{
    const uint8_t *p;
    size_t n, moved = 0;
    int r;

    for (;;) {
        amk_transport_output(from, &p, &n);
        if (n == 0)
            break;
        if ((r = amk_buf_put(cap, p, n)) != AMK_OK)
            die("capture", r);
        r = amk_transport_feed(to, p, n, 0);
        if (r != AMK_OK && r != AMK_EDISCONNECT)
            die(amk_transport_last_error(to), r);
        if ((r = amk_transport_output_consume(from, n)) != AMK_OK)
            die("consume", r);
        moved += n;
        while (amk_transport_recv(to, &p, &n) == AMK_OK)
            ;
    }
    return moved;
}

static void
run(struct amk_transport *c, struct amk_transport *s, struct amk_buf *c2s, struct amk_buf *s2c)
{
    for (;;) {
        size_t a = shuttle(c, s, c2s);
        size_t b = shuttle(s, c, s2c);
        if (a == 0 && b == 0)
            return;
    }
}

/* The bytes after the first line. */
static size_t
after_version(const struct amk_buf *b)
{
    const uint8_t *p = amk_buf_ptr(b);
    const uint8_t *nl = memchr(p, '\n', amk_buf_len(b));

    if (nl == NULL)
        die("no version line", AMK_EINTERNAL);
    return (size_t)(nl + 1 - p);
}

/* The payload of the @p index-th plain packet after the version line. */
static void
plain_payload(const struct amk_buf *b, int index, const uint8_t **pay, size_t *len)
{
    const uint8_t *p = amk_buf_ptr(b);
    size_t off = after_version(b);

    for (int i = 0; ; i++) {
        uint32_t plen = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
            (uint32_t)p[off + 2] << 8 | p[off + 3];
        if (i == index) {
            *pay = p + off + 5;
            *len = plen - 1 - p[off + 4];
            return;
        }
        off += 4 + plen;
    }
}

static void
send_or_die(struct amk_transport *t, const uint8_t *m, size_t n)
{
    int r = amk_transport_send(t, m, n);

    if (r != AMK_OK)
        die("send", r);
}

int
main(int argc, char **argv)
{
    static const uint8_t accept[] = { 6, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r',
        'a', 'u', 't', 'h' };
    static const uint8_t request[] = { 5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r',
        'a', 'u', 't', 'h' };
    static const uint8_t success[] = { 52 };
    uint8_t data[600];
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus";

    memset(data, 'd', sizeof(data));
    data[0] = 94;
    for (uint8_t i = 0; i < FUZZ_NCONFS; i++) {
        struct fuzz_rng rc, rs;
        struct amk_rng rngc, rngs;
        struct amk_transport *c, *s;
        struct amk_buf c2s, s2c;
        const uint8_t *pay;
        size_t plen;
        char name[64];
        int r;

        /* Session A: only the server talks (seeds for the client targets). */
        amk_buf_init(&c2s);
        amk_buf_init(&s2c);
        c = fuzz_engine(AMK_TRANSPORT_CLIENT, i, &rc, &rngc);
        s = fuzz_engine(AMK_TRANSPORT_SERVER, i, &rs, &rngs);
        run(c, s, &c2s, &s2c);
        send_or_die(s, accept, sizeof(accept));
        send_or_die(s, success, sizeof(success));
        send_or_die(s, data, sizeof(data));
        run(c, s, &c2s, &s2c);
        if ((r = amk_transport_rekey(s)) != AMK_OK)
            die("rekey", r);
        send_or_die(s, data, sizeof(data));
        run(c, s, &c2s, &s2c);
        if ((r = amk_transport_disconnect(s, AMK_DISCONNECT_BY_APPLICATION, "done")) != AMK_OK)
            die("disconnect", r);
        run(c, s, &c2s, &s2c);
        if (amk_transport_error(c) != AMK_EDISCONNECT)
            die("client did not end cleanly", amk_transport_error(c));
        snprintf(name, sizeof(name), "session%u", i);
        write_seed(dir, "transport_client", name, i, amk_buf_ptr(&s2c) + after_version(&s2c),
            amk_buf_len(&s2c) - after_version(&s2c), 1);
        plain_payload(&s2c, 1, &pay, &plen);
        snprintf(name, sizeof(name), "reply%u", i);
        write_seed(dir, "kex_reply", name, i, pay, plen, 1);
        plain_payload(&s2c, 0, &pay, &plen);
        snprintf(name, sizeof(name), "server%u", i);
        write_seed(dir, "kexinit", name, i, pay + 1, plen - 1, 0);
        plain_payload(&c2s, 0, &pay, &plen);
        snprintf(name, sizeof(name), "client%u", i);
        write_seed(dir, "kexinit", name, i, pay + 1, plen - 1, 0);
        amk_transport_free(c);
        amk_transport_free(s);
        amk_buf_release(&c2s);
        amk_buf_release(&s2c);

        /* Session B: only the client talks (seeds for the server target). */
        amk_buf_init(&c2s);
        amk_buf_init(&s2c);
        c = fuzz_engine(AMK_TRANSPORT_CLIENT, i, &rc, &rngc);
        s = fuzz_engine(AMK_TRANSPORT_SERVER, i, &rs, &rngs);
        run(c, s, &c2s, &s2c);
        send_or_die(c, request, sizeof(request));
        send_or_die(c, data, sizeof(data));
        if ((r = amk_transport_send_ignore(c, 33)) != AMK_OK)
            die("ignore", r);
        run(c, s, &c2s, &s2c);
        if ((r = amk_transport_rekey(c)) != AMK_OK)
            die("rekey", r);
        send_or_die(c, data, sizeof(data));
        run(c, s, &c2s, &s2c);
        if ((r = amk_transport_disconnect(c, AMK_DISCONNECT_BY_APPLICATION, "done")) != AMK_OK)
            die("disconnect", r);
        run(c, s, &c2s, &s2c);
        if (amk_transport_error(s) != AMK_EDISCONNECT)
            die("server did not end cleanly", amk_transport_error(s));
        snprintf(name, sizeof(name), "session%u", i);
        write_seed(dir, "transport_server", name, i, amk_buf_ptr(&c2s) + after_version(&c2s),
            amk_buf_len(&c2s) - after_version(&c2s), 1);
        amk_transport_free(c);
        amk_transport_free(s);
        amk_buf_release(&c2s);
        amk_buf_release(&s2c);
    }
    return 0;
}
