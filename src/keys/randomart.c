/*
 * The "drunken bishop" randomart of a key fingerprint, as ssh-keygen -lv
 * and ssh -o VisualHostKey=yes draw it (Dirk Loss, Tobias Bohl and Alexander
 * von Gernler, "The drunken bishop: An analysis of the OpenSSH fingerprint
 * visualization algorithm", 2009).
 *
 * A bishop starts in the middle of a 17x9 board. Each byte of the raw
 * digest gives four moves, two bits each from the least significant end:
 * bit 0 chooses right (1) or left (0), bit 1 down (1) or up (0). A move
 * against a wall slides along it. Each visit raises the square's count;
 * counts are drawn from " .o+=*BOX@%&#/^", the start as 'S' and the end
 * as 'E'. The top border carries "[TYPE BITS]", the bottom "[HASH]".
 */
#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"
#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"

#define ART_BASE 8
#define ART_WIDTH (ART_BASE * 2 + 1)     /* 17 columns */
#define ART_HEIGHT (ART_BASE + 1)        /* 9 rows */

/* Symbols by visit count; the last two mark the start and the end. */
static const char art_symbols[] = " .o+=*BOX@%&#/^SE";
#define ART_SYMBOL_MAX (sizeof(art_symbols) - 2)   /* 'E' */
#define ART_START (ART_SYMBOL_MAX - 1)             /* 'S' */
#define ART_VISIT_MAX (ART_SYMBOL_MAX - 2)         /* '^' */

/* The type label ssh-keygen puts in the title ("ED25519", "ECDSA", ...). */
const char *
amk_key_type_label(const struct amk_key *k)
{
    switch (amk_key_type(k)) {
    case AMK_PKEY_ED25519: return "ED25519";
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521: return "ECDSA";
    case AMK_PKEY_RSA: return "RSA";
    case AMK_PKEY_DSA: return "DSA";
    }
    return "unknown";
}

/* Appends a border line: '+', @p label centred in dashes, '+'. */
static int
put_border(struct amk_buf *out, const char *label)
{
    size_t llen = strlen(label), i;
    char line[ART_WIDTH + 3];
    size_t n = 0;

    if (llen > ART_WIDTH)
        llen = ART_WIDTH;
    line[n++] = '+';
    for (i = 0; i < (ART_WIDTH - llen) / 2; i++)
        line[n++] = '-';
    memcpy(line + n, label, llen);
    n += llen;
    for (i += llen; i < ART_WIDTH; i++)
        line[n++] = '-';
    line[n++] = '+';
    line[n++] = '\n';
    return amk_buf_put(out, line, n);
}

int
amk_key_write_randomart(const struct amk_key *k, enum amk_key_fp_hash hash,
    struct amk_buf *out)
{
    uint8_t field[ART_WIDTH][ART_HEIGHT];
    struct amk_buf blob;
    uint8_t digest[AMK_HASH_MAX_LEN];
    enum amk_hash_alg alg;
    char title[ART_WIDTH + 1], hname[16], row[ART_WIDTH + 3];
    size_t before = amk_buf_len(out), dlen;
    int x = ART_WIDTH / 2, y = ART_HEIGHT / 2, n, r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    if (hash == AMK_KEY_FP_SHA256) {
        alg = AMK_HASH_SHA256;
        snprintf(hname, sizeof(hname), "[SHA256]");
    } else if (hash == AMK_KEY_FP_MD5) {
        alg = AMK_HASH_MD5;
        snprintf(hname, sizeof(hname), "[MD5]");
    } else {
        r = AMK_EINVAL;
        goto out;
    }
    dlen = amk_hash_len(alg);
    if ((r = amk_key_to_blob(k, &blob)) != AMK_OK ||
        (r = amk_hash(alg, amk_buf_ptr(&blob), amk_buf_len(&blob), digest)) != AMK_OK)
        goto out;

    memset(field, 0, sizeof(field));
    for (size_t i = 0; i < dlen; i++) {
        unsigned input = digest[i];
        for (int b = 0; b < 4; b++) {
            x += (input & 1) ? 1 : -1;
            y += (input & 2) ? 1 : -1;
            x = x < 0 ? 0 : (x > ART_WIDTH - 1 ? ART_WIDTH - 1 : x);
            y = y < 0 ? 0 : (y > ART_HEIGHT - 1 ? ART_HEIGHT - 1 : y);
            if (field[x][y] < ART_VISIT_MAX)
                field[x][y]++;
            input >>= 2;
        }
    }
    field[ART_WIDTH / 2][ART_HEIGHT / 2] = ART_START;
    field[x][y] = ART_SYMBOL_MAX;

    /* The title falls back to the type alone when "[TYPE BITS]" is too wide. */
    n = snprintf(title, sizeof(title), "[%s %u]", amk_key_type_label(k), amk_key_bits(k));
    if (n < 0 || (size_t)n >= sizeof(title))
        snprintf(title, sizeof(title), "[%s]", amk_key_type_label(k));
    if ((r = put_border(out, title)) != AMK_OK)
        goto out;
    for (int yy = 0; yy < ART_HEIGHT; yy++) {
        size_t m = 0;
        row[m++] = '|';
        for (int xx = 0; xx < ART_WIDTH; xx++)
            row[m++] = art_symbols[field[xx][yy]];
        row[m++] = '|';
        row[m++] = '\n';
        if ((r = amk_buf_put(out, row, m)) != AMK_OK)
            goto out;
    }
    if ((r = put_border(out, hname)) != AMK_OK ||
        (r = amk_buf_consume_end(out, 1)) != AMK_OK)   /* no newline after the last line */
        goto out;
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_buf_release(&blob);
    return r;
}
