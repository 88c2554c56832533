/*
 * The "keyboard-interactive" method, server side (RFC 4256): the request
 * starts an exchange through the caller's start callback, each
 * INFO_REQUEST the callbacks describe goes out, each INFO_RESPONSE is
 * handed to the respond callback, for at most max_kbdint_rounds rounds.
 * See userauth_server.h.
 */
#include "auth/userauth_server_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

void
amk_uas_kbdint_abort(struct amk_userauth_server *s)
{
    if (s->kbd_active && s->kbdint_end != NULL)
        s->kbdint_end(s->user, s->kbd_ctx);
    s->kbd_active = 0;
    s->kbd_ctx = NULL;
    s->kbd_rounds = 0;
    s->kbd_prompts = 0;
}

/* Sends the round, or ends the attempt on the callback's decision @p d. */
static int
next_step(struct amk_userauth_server *s, int d, const struct amk_auth_kbdint_round *round)
{
    struct amk_buf *out = NULL;
    int r = AMK_EINTERNAL;

    if (d != AMK_AUTH_CONTINUE) {
        amk_uas_kbdint_abort(s);
        s->state = AMK_UAS_READY;
        return amk_uas_finish(s, AMK_UAS_M_KBDINT, amk_uas_decision(s, d, "keyboard-interactive"));
    }
    if (round->n_prompts > AMK_USERAUTH_SERVER_MAX_PROMPTS) {
        amk_log(&s->log, AMK_LOG_WARN,
            "userauth server: keyboard-interactive callback asked %zu prompts (limit %u)",
            round->n_prompts, (unsigned)AMK_USERAUTH_SERVER_MAX_PROMPTS);
        amk_uas_kbdint_abort(s);
        s->state = AMK_UAS_READY;
        return amk_uas_finish(s, AMK_UAS_M_KBDINT, AMK_UAS_OUT_FAILURE);
    }
    if (++s->kbd_rounds > s->max_kbdint_rounds)
        return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
            "more than %u keyboard-interactive rounds", s->max_kbdint_rounds);
    if ((out = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    /* RFC 4256 §3.2: byte SSH_MSG_USERAUTH_INFO_REQUEST, string name,
     * string instruction, string language tag, int num-prompts, then
     * string prompt and boolean echo for each. */
    if ((r = amk_buf_put_u8(out, AMK_MSG_USERAUTH_INFO_REQUEST)) != 0 ||
        (r = amk_buf_put_cstring(out, round->name != NULL ? round->name : "")) != 0 ||
        (r = amk_buf_put_cstring(out, round->instruction != NULL ? round->instruction : "")) != 0 ||
        (r = amk_buf_put_cstring(out, "")) != 0 ||
        (r = amk_buf_put_u32(out, (uint32_t)round->n_prompts)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building INFO_REQUEST");
        goto out;
    }
    for (size_t i = 0; i < round->n_prompts; i++) {
        const char *text = round->prompts[i].text;
        if ((r = amk_buf_put_cstring(out, text != NULL ? text : "")) != 0 ||
            (r = amk_buf_put_bool(out, round->prompts[i].echo)) != 0) {
            r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building INFO_REQUEST");
            goto out;
        }
    }
    if ((r = amk_uas_send(s, out)) != AMK_OK)
        goto out;
    s->kbd_prompts = round->n_prompts;
    s->state = AMK_UAS_KBDINT;
    r = AMK_OK;
out:
    amk_buf_free(out);
    return r;
}

int
amk_uas_kbdint_request(struct amk_userauth_server *s, struct amk_buf *b)
{
    struct amk_auth_kbdint_round round;
    const uint8_t *lang, *sub;
    size_t langlen, sublen;
    char *submethods = NULL;
    int r, d;

    /* RFC 4256 §3.1: string language tag (deprecated), string submethods. */
    if ((r = amk_buf_get_string_direct(b, &lang, &langlen)) != 0 ||
        (r = amk_buf_get_string_direct(b, &sub, &sublen)) != 0 ||
        (r = amk_buf_get_end(b)) != 0)
        return amk_uas_malformed(s, r, "keyboard-interactive request");
    if (sublen > AMK_NAMELIST_MAX)
        return amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
            "keyboard-interactive submethods of %zu bytes", sublen);
    if ((submethods = strndup((const char *)sub, sublen)) == NULL)
        return amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
    memset(&round, 0, sizeof(round));
    s->kbd_ctx = s->kbdint_builtin ? s : NULL;
    s->kbd_rounds = 0;
    s->kbd_active = 1;
    d = s->kbdint_start(s->user, s->username, submethods, &round, &s->kbd_ctx);
    free(submethods);
    return next_step(s, d, &round);
}

int
amk_uas_kbdint_response(struct amk_userauth_server *s, struct amk_buf *b)
{
    struct amk_auth_kbdint_round round;
    char *responses[AMK_USERAUTH_SERVER_MAX_PROMPTS] = { 0 };
    const uint8_t *p;
    size_t len;
    uint32_t n;
    int r = AMK_EINTERNAL, d;

    /* RFC 4256 §3.4: int num-responses, string response each. */
    if ((r = amk_buf_get_u32(b, &n)) != 0) {
        r = amk_uas_malformed(s, r, "INFO_RESPONSE");
        goto out;
    }
    /* "The number of responses MUST match num-prompts" of the request. */
    if (n != s->kbd_prompts) {
        r = amk_uas_error(s, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "INFO_RESPONSE with %u responses to %zu prompts", (unsigned)n, s->kbd_prompts);
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        if ((r = amk_buf_get_string_direct(b, &p, &len)) != 0) {
            r = amk_uas_malformed(s, r, "INFO_RESPONSE");
            goto out;
        }
        if (len >= AMK_USERAUTH_SECRET_MAX) {
            r = amk_uas_error(s, AMK_ELIMIT, AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
                "keyboard-interactive response of more than %u bytes",
                (unsigned)AMK_USERAUTH_SECRET_MAX - 1);
            goto out;
        }
        if (memchr(p, '\0', len) != NULL) {
            r = amk_uas_malformed(s, AMK_EFORMAT, "INFO_RESPONSE (NUL in a response)");
            goto out;
        }
        if ((responses[i] = calloc(1, AMK_USERAUTH_SECRET_MAX)) == NULL) {
            r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
            goto out;
        }
        memcpy(responses[i], p, len);
    }
    if ((r = amk_buf_get_end(b)) != 0) {
        r = amk_uas_malformed(s, r, "INFO_RESPONSE");
        goto out;
    }
    memset(&round, 0, sizeof(round));
    d = s->kbdint_respond(s->user, s->kbd_ctx, s->username, (const char *const *)responses, n,
        &round);
    /* The answers are secrets: gone before anything else happens. */
    for (uint32_t i = 0; i < n; i++) {
        amk_free_wiped(responses[i], AMK_USERAUTH_SECRET_MAX);
        responses[i] = NULL;
    }
    r = next_step(s, d, &round);
out:
    for (size_t i = 0; i < AMK_USERAUTH_SERVER_MAX_PROMPTS; i++)
        amk_free_wiped(responses[i], responses[i] != NULL ? AMK_USERAUTH_SECRET_MAX : 0);
    return r;
}

int
amk_uas_kbdint_pw_start(void *user, const char *username, const char *submethods,
    struct amk_auth_kbdint_round *round, void **ctx)
{
    (void)user;
    (void)username;
    (void)submethods;
    (void)ctx;
    round->n_prompts = 1;
    round->prompts[0].text = "Password: ";
    round->prompts[0].echo = 0;
    return AMK_AUTH_CONTINUE;
}

int
amk_uas_kbdint_pw_respond(void *user, void *ctx, const char *username,
    const char *const *responses, size_t n, struct amk_auth_kbdint_round *next)
{
    const struct amk_userauth_server *s = ctx;

    int d;

    (void)next;
    if (n != 1)
        return AMK_AUTH_REJECT;
    d = s->password_cb(user, username, responses[0]);
    return d == AMK_AUTH_CONTINUE ? AMK_AUTH_REJECT : d;
}
