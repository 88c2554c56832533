/* Scanning a log for secrets; see secrets_scan.h. */
#include "test_helper.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pkey.h"
#include "keys/key.h"
#include "secrets_scan.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

void
secrets_must_not_contain(const char *text, const char *needle, const char *what)
{
    if (needle[0] != '\0' && strstr(text, needle) != NULL)
        fail_msg("the log contains %s (\"%s\")", what, needle);
}

void
secrets_log_to_buf(void *buf, enum amk_log_level level, const char *msg)
{
    struct amk_buf *b = buf;
    const char *name = amk_log_level_name(level);

    if (amk_buf_put(b, name, strlen(name)) != AMK_OK || amk_buf_put(b, ": ", 2) != AMK_OK ||
        amk_buf_put(b, msg, strlen(msg)) != AMK_OK || amk_buf_put(b, "\n", 1) != AMK_OK)
        abort();
}

void
secrets_must_not_contain_bytes(const char *text, size_t textlen, const uint8_t *secret,
    size_t len, const char *what)
{
    for (size_t off = 0; off + 12 <= len; off++) {
        char hex[32], hexu[32];
        for (size_t i = 0; i < 12; i++) {
            snprintf(hex + 2 * i, 3, "%02x", secret[off + i]);
            snprintf(hexu + 2 * i, 3, "%02X", secret[off + i]);
        }
        secrets_must_not_contain(text, hex, what);
        secrets_must_not_contain(text, hexu, what);
        if (memmem(text, textlen, secret + off, 12) != NULL)
            fail_msg("the log contains %s (raw bytes)", what);
    }
    for (size_t align = 0; align < 3 && align + 12 <= len; align++) {
        struct amk_buf b64;
        char *s = NULL;
        amk_buf_init(&b64);
        ASSERT_OK(amk_base64_encode(secret + align, 12, 0, &b64));
        ASSERT_OK(amk_buf_to_cstring(&b64, &s, NULL));
        secrets_must_not_contain(text, s, what);
        free(s);
        amk_buf_release(&b64);
    }
}

void
secrets_no_unexplained_runs(const char *text, const char *const *allowed, size_t nallowed)
{
    size_t i = 0, n = strlen(text);

    while (i < n) {
        size_t j = i, hexrun = 0;
        while (j < n && (isalnum((unsigned char)text[j]) || text[j] == '+' || text[j] == '/' ||
            text[j] == '='))
            j++;
        for (size_t k = i; k < j; k++)
            hexrun = isxdigit((unsigned char)text[k]) ? hexrun + 1 : 0;
        if (j - i >= 24 || hexrun >= 24) {
            int ok = 0;
            for (size_t a = 0; a < nallowed && !ok; a++)
                ok = allowed[a] != NULL &&
                    memmem(allowed[a], strlen(allowed[a]), text + i, j - i) != NULL;
            if (!ok)
                fail_msg("the log holds an unexplained %zu-character run: %.*s", j - i,
                    (int)(j - i), text + i);
        }
        i = j + 1;
    }
}

void
secrets_check_key_not_logged(const char *text, const char *path)
{
    struct amk_key *k = NULL;
    uint8_t *priv = NULL;
    size_t privlen = 0;
    char line[256];
    FILE *fp;

    ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
    /* Ed25519's seed, ECDSA's scalar, RSA's private exponent */
    if (amk_pkey_get_part(amk_key_pkey(k), AMK_PART_PRIVATE, &priv, &privlen) != AMK_OK)
        ASSERT_OK(amk_pkey_get_part(amk_key_pkey(k), AMK_PART_RSA_D, &priv, &privlen));
    secrets_must_not_contain_bytes(text, strlen(text), priv, privlen, "a private key");
    amk_free_wiped(priv, privlen);
    amk_key_free(k);
    assert_non_null(fp = fopen(path, "r"));
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '-' && strlen(line) >= 24) {
            line[24] = '\0';
            secrets_must_not_contain(text, line, "a line of a private key file");
        }
    }
    fclose(fp);
}

/* The whole of file @p path as a string (at most @p cap - 1 bytes). */
static char *
slurp(const char *path, size_t cap)
{
    FILE *fp = fopen(path, "r");
    char *text = calloc(1, cap);
    size_t len;

    assert_non_null(fp);
    assert_non_null(text);
    len = fread(text, 1, cap - 1, fp);
    fclose(fp);
    text[len] = '\0';
    return text;
}

/* Adds the SHA-256 fingerprint of every key line ("[host] type base64" or
 * "type base64") of @p text. */
static void
add_fingerprints(const char *text, char **allowed, size_t cap, size_t *n)
{
    char *copy = strdup(text), *save = NULL;

    assert_non_null(copy);
    for (char *l = strtok_r(copy, "\n", &save); l != NULL && *n < cap;
         l = strtok_r(NULL, "\n", &save)) {
        struct amk_key *k = NULL;
        char *fp256 = NULL;
        const char *sp = strchr(l, ' ');
        if (amk_key_load_public(l, strlen(l), &k) != AMK_OK &&
            (sp == NULL || amk_key_load_public(sp + 1, strlen(sp + 1), &k) != AMK_OK))
            continue;
        if (amk_key_fingerprint(k, AMK_KEY_FP_SHA256, &fp256) == AMK_OK)
            allowed[(*n)++] = fp256;
        amk_key_free(k);
    }
    free(copy);
}

void
secrets_allowed_runs(const char *known_hosts, const char *const *pub_files, size_t npub,
    char **allowed, size_t cap, size_t *n)
{
    size_t texts;

    *n = 0;
    assert_true(cap > npub + 1);
    allowed[(*n)++] = slurp(known_hosts, 65536);
    for (size_t i = 0; i < npub; i++)
        allowed[(*n)++] = slurp(pub_files[i], 16384);
    texts = *n;
    for (size_t i = 0; i < texts; i++)
        add_fingerprints(allowed[i], allowed, cap, n);
}
