/*
 * Fuzz target for the server user authentication engine (src/auth/
 * userauth_server*.c). The first input byte picks the configuration
 * (bit 0: method lists "publickey,password publickey,keyboard-interactive";
 * bit 1: "none" permitted; bit 2: failure replies held back; bit 3: no
 * automatic SERVICE_REQUEST first); the rest is a sequence of client
 * messages, each a 2-byte big-endian length and a payload, fed to
 * amk_userauth_server_handle(). The callbacks accept the password "pw",
 * any public key whose signature verifies over the fixed session
 * identifier (32 bytes: 1, then zeros), and keyboard-interactive after two
 * rounds answered "ok". Whatever comes, the engine must not crash, must
 * keep its first fatal error, and must never be done and failed at once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/userauth_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int opts_token;

static int
null_send(void *user, const uint8_t *p, size_t len)
{
    return AMK_OK;
}

static int
cb_password(void *user, const char *username, const char *password)
{
    if (strcmp(password, "partial") == 0)
        return AMK_AUTH_PARTIAL;
    return amk_auth_password_equal(password, "pw") ? AMK_AUTH_ACCEPT : AMK_AUTH_REJECT;
}

static int
cb_publickey(void *user, const char *username, const struct amk_key *key, int is_query,
    void **opts)
{
    *opts = &opts_token;
    return AMK_AUTH_ACCEPT;
}

static void
cb_opts_free(void *user, void *opts)
{
    if (opts != &opts_token)
        abort();
}

static int
cb_kbd_start(void *user, const char *username, const char *submethods,
    struct amk_auth_kbdint_round *round, void **ctx)
{
    *ctx = &opts_token;
    round->name = "n";
    round->n_prompts = 2;
    round->prompts[0].text = "a";
    round->prompts[1].text = "b";
    return AMK_AUTH_CONTINUE;
}

static int
cb_kbd_respond(void *user, void *ctx, const char *username, const char *const *responses,
    size_t n, struct amk_auth_kbdint_round *next)
{
    if (ctx != &opts_token)
        abort();
    if (n == 2) {
        next->n_prompts = 1;
        next->prompts[0].text = "c";
        return AMK_AUTH_CONTINUE;
    }
    return n == 1 && strcmp(responses[0], "ok") == 0 ? AMK_AUTH_ACCEPT : AMK_AUTH_REJECT;
}

static void
cb_kbd_end(void *user, void *ctx)
{
    if (ctx != NULL && ctx != &opts_token)
        abort();
}

static const uint8_t service_request[] = {
    5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t sid[32] = { 1 };
    static const uint8_t delay_key[4] = { 9, 9, 9, 9 };
    struct amk_userauth_server_config cfg = { 0 };
    struct amk_userauth_server *s = NULL;
    size_t off = 1;
    int first_err = AMK_OK, r;

    if (size < 1 || size > 100000)
        return 0;
    cfg.sink.send = null_send;
    cfg.password_cb = cb_password;
    cfg.publickey_cb = cb_publickey;
    cfg.opts_free = cb_opts_free;
    cfg.kbdint_start = cb_kbd_start;
    cfg.kbdint_respond = cb_kbd_respond;
    cfg.kbdint_end = cb_kbd_end;
    cfg.banner = "fuzz banner";
    if (data[0] & 1)
        cfg.auth_methods = "publickey,password publickey,keyboard-interactive";
    cfg.permit_none = (data[0] & 2) != 0;
    if (data[0] & 4) {
        cfg.failure_delay_ms = 10;
        cfg.delay_key = delay_key;
        cfg.delay_key_len = sizeof(delay_key);
    }
    if (amk_userauth_server_new(&s, &cfg) != AMK_OK ||
        amk_userauth_server_set_session_id(s, sid, sizeof(sid)) != AMK_OK)
        abort();
    if ((data[0] & 8) == 0 &&
        amk_userauth_server_handle(s, service_request, sizeof(service_request)) != AMK_OK)
        abort();
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];

        off += 2;
        if (len > size - off)
            len = size - off;
        if (len == 0)
            continue;
        r = amk_userauth_server_handle(s, data + off, len);
        off += len;
        if (first_err == AMK_OK && amk_err_is_fatal(r))
            first_err = r;
        if (first_err != AMK_OK && amk_userauth_server_error(s) != first_err)
            abort();
        if (amk_userauth_server_done(s) && amk_userauth_server_error(s) != AMK_OK)
            abort();
        if (amk_userauth_server_held(s) && amk_userauth_server_release(s) != AMK_OK)
            abort();
    }
    amk_userauth_server_free(s);
    return 0;
}
