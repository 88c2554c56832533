/*
 * The "keyboard-interactive" method, client side (RFC 4256): the
 * request, then any number of INFO_REQUEST / INFO_RESPONSE rounds answered
 * by the caller's prompt callback. See userauth.h.
 */
#include "auth/userauth_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

int
amk_userauth_client_kbdint(struct amk_userauth_client *a, const char *submethods,
    amk_userauth_kbdint_fn cb, void *cb_user)
{
    struct amk_buf *b = NULL;
    int r = AMK_EINTERNAL;

    if (a == NULL || cb == NULL)
        return AMK_EINVAL;
    if ((r = amk_ua_check_start(a, "keyboard-interactive")) != AMK_OK)
        return r;
    amk_ua_attempt_clear(a);
    if ((b = amk_buf_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* RFC 4256 §3.1: string language tag (deprecated, empty),
     * string submethods. */
    if ((r = amk_ua_put_request_head(a, b, "keyboard-interactive")) != 0 ||
        (r = amk_buf_put_cstring(b, "")) != 0 ||
        (r = amk_buf_put_cstring(b, submethods != NULL ? submethods : "")) != 0)
        goto out;
    a->kbd_cb = cb;
    a->kbd_user = cb_user;
    a->method = AMK_UA_M_KBDINT;
    a->result = AMK_USERAUTH_RESULT_NONE;
    if ((r = amk_ua_send(a, b)) != AMK_OK)
        goto out;
    a->state = AMK_UA_PENDING;
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: trying keyboard-interactive");
    r = AMK_OK;
out:
    if (r != AMK_OK && a->state != AMK_UA_FAILED)
        amk_ua_attempt_clear(a);
    amk_buf_free(b);
    return r;
}

/* One parsed INFO_REQUEST. */
struct info_request {
    char *name;
    char *instruction;
    char *lang;
    uint32_t n;
    struct amk_kbdint_prompt *prompts;
    char **texts;                   /* owned prompt texts */
    char **responses;               /* AMK_USERAUTH_SECRET_MAX bytes each, wiped */
};

static void
info_request_free(struct info_request *q)
{
    free(q->name);
    free(q->instruction);
    free(q->lang);
    for (uint32_t i = 0; i < q->n; i++) {
        if (q->texts != NULL)
            free(q->texts[i]);
        if (q->responses != NULL)
            amk_free_wiped(q->responses[i],
                q->responses[i] != NULL ? AMK_USERAUTH_SECRET_MAX : 0);
    }
    free(q->texts);
    free(q->responses);
    free(q->prompts);
}

/* RFC 4256 §3.2: string name, string instruction, string language tag,
 * int num-prompts, then num-prompts times string prompt, boolean echo. */
static int
parse_info_request(struct amk_buf *b, struct info_request *q)
{
    int r;

    if ((r = amk_ua_get_text(b, &q->name)) != 0 ||
        (r = amk_ua_get_text(b, &q->instruction)) != 0 ||
        (r = amk_ua_get_text(b, &q->lang)) != 0 ||
        (r = amk_buf_get_u32(b, &q->n)) != 0)
        return r;
    if (q->n > AMK_USERAUTH_MAX_PROMPTS) {
        q->n = 0;
        return AMK_ELIMIT;
    }
    if (q->n > 0 && ((q->prompts = calloc(q->n, sizeof(*q->prompts))) == NULL ||
        (q->texts = calloc(q->n, sizeof(*q->texts))) == NULL ||
        (q->responses = calloc(q->n, sizeof(*q->responses))) == NULL))
        return AMK_ENOMEM;
    for (uint32_t i = 0; i < q->n; i++) {
        if ((r = amk_ua_get_text(b, &q->texts[i])) != 0 ||
            (r = amk_buf_get_bool(b, &q->prompts[i].echo)) != 0)
            return r;
        q->prompts[i].text = q->texts[i];
    }
    return amk_buf_get_end(b);
}

int
amk_ua_kbdint_info_request(struct amk_userauth_client *a, struct amk_buf *b)
{
    struct info_request q = { 0 };
    struct amk_buf *out = NULL;
    int r = AMK_EINTERNAL, cr;

    if ((r = parse_info_request(b, &q)) != 0) {
        if (r == AMK_ENOMEM)
            r = amk_ua_error(a, r, "out of memory");
        else if (r == AMK_ELIMIT)
            r = amk_ua_error(a, r, "USERAUTH_INFO_REQUEST with more than %u prompts",
                (unsigned)AMK_USERAUTH_MAX_PROMPTS);
        else
            r = amk_ua_error(a, AMK_EFORMAT, "malformed USERAUTH_INFO_REQUEST (%s)",
                amk_errname(r));
        goto out;
    }
    if (++a->info_rounds > AMK_USERAUTH_MAX_INFO_ROUNDS) {
        r = amk_ua_error(a, AMK_ELIMIT, "more than %u USERAUTH_INFO_REQUEST rounds",
            (unsigned)AMK_USERAUTH_MAX_INFO_ROUNDS);
        goto out;
    }
    for (uint32_t i = 0; i < q.n; i++) {
        if ((q.responses[i] = calloc(1, AMK_USERAUTH_SECRET_MAX)) == NULL) {
            r = amk_ua_error(a, AMK_ENOMEM, "out of memory");
            goto out;
        }
    }
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: keyboard-interactive round %u, %u prompts",
        a->info_rounds, (unsigned)q.n);
    cr = a->kbd_cb(a->kbd_user, q.name, q.instruction, q.prompts, q.n, q.responses,
        AMK_USERAUTH_SECRET_MAX);
    if (cr != AMK_OK) {
        /* RFC 4256 §3.4 lets the client abandon the exchange by sending a
         * new request; the caller does that with the next method. */
        amk_ua_attempt_failed(a, "keyboard-interactive cancelled by the prompt callback");
        r = AMK_OK;
        goto out;
    }
    if ((out = amk_buf_new()) == NULL) {
        r = amk_ua_error(a, AMK_ENOMEM, "out of memory");
        goto out;
    }
    /* RFC 4256 §3.4: byte SSH_MSG_USERAUTH_INFO_RESPONSE, int
     * num-responses (= num-prompts), string response in UTF-8 each. */
    if ((r = amk_buf_put_u8(out, AMK_MSG_USERAUTH_INFO_RESPONSE)) != 0 ||
        (r = amk_buf_put_u32(out, q.n)) != 0) {
        r = amk_ua_error(a, r, "building INFO_RESPONSE: %s", amk_strerror(r));
        goto out;
    }
    for (uint32_t i = 0; i < q.n; i++) {
        q.responses[i][AMK_USERAUTH_SECRET_MAX - 1] = '\0';
        if ((r = amk_buf_put_cstring(out, q.responses[i])) != 0) {
            r = amk_ua_error(a, r, "building INFO_RESPONSE: %s", amk_strerror(r));
            goto out;
        }
    }
    r = amk_ua_send(a, out);
out:
    amk_buf_free(out);      /* wipes the responses */
    info_request_free(&q);
    return r;
}
