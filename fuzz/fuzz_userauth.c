/*
 * Fuzz target for the client user authentication engine (src/auth): the
 * first input byte picks the method started after the "none" answer
 * (password, publickey with an Ed25519 key, keyboard-interactive; bit 16
 * set: publickey signs at once instead of asking first) and the
 * rest is a sequence of server messages, each a 2-byte big-endian length
 * and a payload, fed to amk_userauth_client_handle() after the engine was
 * started and given SERVICE_ACCEPT. Whatever comes, the engine must not
 * crash, must keep its first fatal error, and callbacks must only ever see
 * sanitised text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/userauth.h"
#include "keys/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct amk_key *fuzz_key;

static int
null_send(void *user, const uint8_t *p, size_t len)
{
    return AMK_OK;
}

static void
check_text(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 && c != '\t' && c != '\n')
            abort();
        if (c == 0x7f)
            abort();
    }
}

static void
banner_cb(void *user, const char *msg, const char *lang)
{
    check_text(msg);
    check_text(lang);
}

static int
change_cb(void *user, const char *prompt, const char *lang, char *pw, size_t cap)
{
    check_text(prompt);
    memcpy(pw, "new", 4);
    return AMK_OK;
}

static int
kbd_cb(void *user, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n, char *const *responses, size_t cap)
{
    check_text(name);
    check_text(instruction);
    if (n > AMK_USERAUTH_MAX_PROMPTS)
        abort();
    for (size_t i = 0; i < n; i++) {
        check_text(prompts[i].text);
        memcpy(responses[i], "answer", 7);
    }
    return AMK_OK;
}

/* SERVICE_ACCEPT "ssh-userauth", then FAILURE listing every method. */
static const uint8_t service_accept[] = {
    6, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'
};
static const uint8_t failure_all[] = {
    51, 0, 0, 0, 39, 'p', 'u', 'b', 'l', 'i', 'c', 'k', 'e', 'y', ',', 'p', 'a', 's', 's',
    'w', 'o', 'r', 'd', ',', 'k', 'e', 'y', 'b', 'o', 'a', 'r', 'd', '-', 'i', 'n', 't',
    'e', 'r', 'a', 'c', 't', 'i', 'v', 'e', 0
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t sid[32] = { 1 };
    struct amk_userauth_config cfg = { .username = "fuzz" };
    struct amk_userauth_client *ua = NULL;
    size_t off = 1;
    int first_err = AMK_OK, r;

    if (size < 1 || size > 100000)
        return 0;
    if (fuzz_key == NULL && amk_key_generate(AMK_PKEY_ED25519, 0, &fuzz_key) != AMK_OK)
        abort();
    cfg.sink.send = null_send;
    cfg.banner_cb = banner_cb;
    /* the seeds were recorded with the query first: keep them meaning that */
    cfg.pubkey_query_first = (data[0] & 16) == 0;
    if (amk_userauth_client_new(&ua, &cfg) != AMK_OK ||
        amk_userauth_client_set_session_id(ua, sid, sizeof(sid)) != AMK_OK ||
        amk_userauth_client_set_server_sig_algs(ua, (data[0] & 4) ? NULL : "ssh-ed25519") !=
        AMK_OK || amk_userauth_client_start(ua) != AMK_OK ||
        amk_userauth_client_handle(ua, service_accept, sizeof(service_accept)) != AMK_OK)
        abort();
    if ((data[0] & 8) == 0) {
        if (amk_userauth_client_handle(ua, failure_all, sizeof(failure_all)) != AMK_OK)
            abort();
        switch (data[0] & 3) {
        case 0:
            r = amk_userauth_client_password(ua, "pw", change_cb, NULL);
            break;
        case 1:
            r = amk_userauth_client_publickey(ua, fuzz_key);
            break;
        default:
            r = amk_userauth_client_kbdint(ua, NULL, kbd_cb, NULL);
            break;
        }
        if (r != AMK_OK)
            abort();
    }
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];

        off += 2;
        if (len > size - off)
            len = size - off;
        if (len == 0)
            continue;
        r = amk_userauth_client_handle(ua, data + off, len);
        off += len;
        if (first_err == AMK_OK && amk_err_is_fatal(r))
            first_err = r;
        if (first_err != AMK_OK && amk_userauth_client_error(ua) != first_err)
            abort();
    }
    amk_userauth_client_free(ua);
    return 0;
}
