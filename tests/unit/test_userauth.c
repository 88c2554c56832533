/*
 * The client user authentication engine (src/auth/userauth*.c) fed with
 * exact server messages built here from RFC 4252 / RFC 4256, its output
 * read back from a recording sink: the messages it sends, how it treats
 * malformed and misplaced messages, banner sanitising, and the RSA
 * signature algorithm choice of RFC 8332 §3.2.
 */
#include "test_helper.h"

#include "auth/userauth_int.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"

#define MAX_SENT 64

/* A sink that records every payload. */
struct rec_sink {
    struct amk_buf sent[MAX_SENT];
    size_t n;
    int fail_with;          /* != 0: the sink returns this */
};

static int
rec_send(void *user, const uint8_t *p, size_t len)
{
    struct rec_sink *s = user;

    if (s->fail_with != 0)
        return s->fail_with;
    assert_true(s->n < MAX_SENT);
    amk_buf_init(&s->sent[s->n]);
    assert_int_equal(amk_buf_put(&s->sent[s->n], p, len), 0);
    s->n++;
    return AMK_OK;
}

static void
rec_free(struct rec_sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        amk_buf_release(&s->sent[i]);
    s->n = 0;
}

struct banner_seen {
    int calls;
    char msg[512];
    char lang[64];
};

static void
banner_cb(void *user, const char *msg, const char *lang)
{
    struct banner_seen *b = user;

    b->calls++;
    snprintf(b->msg, sizeof(b->msg), "%s", msg);
    snprintf(b->lang, sizeof(b->lang), "%s", lang);
}

struct fixture {
    struct rec_sink sink;
    struct banner_seen banner;
    struct amk_userauth_client *ua;
};

static const uint8_t session_id[32] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};

/* The fixture; "publickey" queries first (the PK_OK tests) unless @p direct. */
static int
setup_with(void **state, int direct)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct amk_userauth_config cfg = { 0 };

    assert_non_null(f);
    cfg.pubkey_query_first = !direct;
    cfg.username = "alice";
    cfg.sink.send = rec_send;
    cfg.sink.user = &f->sink;
    cfg.banner_cb = banner_cb;
    cfg.banner_user = &f->banner;
    ASSERT_OK(amk_userauth_client_new(&f->ua, &cfg));
    ASSERT_OK(amk_userauth_client_set_session_id(f->ua, session_id, sizeof(session_id)));
    *state = f;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, 0);
}

/* The default engine: "publickey" signs at once. */
static int
setup_direct(void **state)
{
    return setup_with(state, 1);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    amk_userauth_client_free(f->ua);
    rec_free(&f->sink);
    free(f);
    return 0;
}

/* Feeds a message given as hex. */
static int
feed_hex(struct fixture *f, const char *hex)
{
    size_t len;
    uint8_t *p = test_unhex(hex, &len);
    int r = amk_userauth_client_handle(f->ua, p, len);

    free(p);
    return r;
}

static int
feed_buf(struct fixture *f, const struct amk_buf *b)
{
    return amk_userauth_client_handle(f->ua, amk_buf_ptr(b), amk_buf_len(b));
}

/* Asserts the last sent payload equals the hex string. */
#define ASSERT_SENT(f, hex) do { \
        assert_true((f)->sink.n > 0); \
        ASSERT_HEX(hex, amk_buf_ptr(&(f)->sink.sent[(f)->sink.n - 1]), \
            amk_buf_len(&(f)->sink.sent[(f)->sink.n - 1])); \
    } while (0)

/* SERVICE_ACCEPT "ssh-userauth" (RFC 4253 §10). */
#define HEX_SERVICE_ACCEPT "06 0000000c 7373682d7573657261757468"
/* FAILURE "publickey,password,keyboard-interactive", partial FALSE. */
#define HEX_FAILURE_ALL "33 00000027 7075626c69636b65792c70617373776f72642c6b6579626f61726" \
    "42d696e746572616374697665 00"
#define HEX_SUCCESS "34"

/* Starts and answers the none request with FAILURE listing every method. */
static void
to_ready(struct fixture *f)
{
    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_OK(feed_hex(f, HEX_FAILURE_ALL));
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
}

/* Opens the last sent payload for reading. */
static void
last_sent(struct fixture *f, struct amk_buf *v)
{
    assert_true(f->sink.n > 0);
    amk_buf_view(v, amk_buf_ptr(&f->sink.sent[f->sink.n - 1]),
        amk_buf_len(&f->sink.sent[f->sink.n - 1]));
}

/* Reads a string and compares it with @p want. */
static void
expect_wire_string(struct amk_buf *b, const char *want)
{
    const uint8_t *p;
    size_t len;

    ASSERT_OK(amk_buf_get_string_direct(b, &p, &len));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

static void
expect_request_head(struct amk_buf *b, const char *method)
{
    uint8_t t;

    ASSERT_OK(amk_buf_get_u8(b, &t));
    assert_int_equal(t, AMK_MSG_USERAUTH_REQUEST);
    expect_wire_string(b, "alice");
    expect_wire_string(b, "ssh-connection");
    expect_wire_string(b, method);
}

/* ---- new / start / none -------------------------------------------- */

static void
test_userauth_new_rejects_bad_config(void **state)
{
    struct amk_userauth_client *ua = (void *)1;
    struct amk_userauth_config cfg = { 0 };
    struct rec_sink s = { 0 };
    char longname[AMK_USERAUTH_USER_MAX + 2];

    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_new(&ua, &cfg));
    assert_null(ua);
    cfg.username = "bob";
    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_new(&ua, &cfg));     /* no sink */
    cfg.sink.send = rec_send;
    cfg.sink.user = &s;
    cfg.username = "";
    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_new(&ua, &cfg));
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    cfg.username = longname;
    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_new(&ua, &cfg));
    assert_int_equal(s.n, 0);
}

static void
test_userauth_start_sends_service_request(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    /* RFC 4253 §10: byte 5, string "ssh-userauth" */
    ASSERT_SENT(f, "05 0000000c 7373682d7573657261757468");
    assert_int_equal(amk_userauth_client_busy(f->ua), 1);
    ASSERT_AMK(AMK_ESTATE, amk_userauth_client_start(f->ua));
}

static void
test_userauth_service_accept_sends_none(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    /* RFC 4252 §5.2: byte 50, "alice", "ssh-connection", "none" */
    ASSERT_SENT(f, "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e "
        "00000004 6e6f6e65");
    assert_string_equal(amk_userauth_client_last_method(f->ua), "none");
    assert_int_equal(amk_userauth_client_busy(f->ua), 1);
}

static void
test_userauth_none_failure_lists_methods(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    assert_string_equal(amk_userauth_client_methods(f->ua),
        "publickey,password,keyboard-interactive");
    assert_int_equal(amk_userauth_client_method_allowed(f->ua, "password"), 1);
    assert_int_equal(amk_userauth_client_method_allowed(f->ua, "hostbased"), 0);
    assert_int_equal(amk_userauth_client_partial_success(f->ua), 0);
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 0);
    ASSERT_OK(amk_userauth_client_error(f->ua));
}

static void
test_userauth_none_success_authenticates(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_SUCCESS);
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
}

/* ---- malformed and misplaced messages -------------------------------- */

static void
test_userauth_handle_before_start_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_AMK(AMK_EPROTO, feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EPROTO, amk_userauth_client_error(f->ua));
    assert_non_null(strstr(amk_userauth_client_last_error(f->ua), "not started"));
}

static void
test_userauth_service_accept_other_service_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    /* "ssh-connection" instead of "ssh-userauth" */
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, "06 0000000e 7373682d636f6e6e656374696f6e"));
}

static void
test_userauth_service_accept_trailing_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, HEX_SERVICE_ACCEPT "00"));
}

static void
test_userauth_failure_before_service_accept_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, HEX_FAILURE_ALL));
}

static void
test_userauth_failure_truncated_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    /* name-list length 0x27 with no partial-success byte */
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "33 00000027 7075626c69636b65792c70617373776f72642c"
        "6b6579626f617264 2d696e746572616374697665"));
}

static void
test_userauth_failure_hostile_length_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "33 ffffffff 7061 00"));
}

static void
test_userauth_failure_bad_namelist_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    /* "a,,b": an empty name (RFC 4251 §5) */
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "33 00000004 612c2c62 00"));
}

static void
test_userauth_failure_trailing_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, HEX_FAILURE_ALL "00"));
}

static void
test_userauth_failure_empty_list_is_eauth(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EAUTH, feed_hex(f, "33 00000000 00"));
    ASSERT_AMK(AMK_EAUTH, amk_userauth_client_error(f->ua));
    /* a failed engine keeps its first error */
    ASSERT_AMK(AMK_EAUTH, feed_hex(f, HEX_SUCCESS));
    ASSERT_AMK(AMK_EAUTH, amk_userauth_client_password(f->ua, "x", NULL, NULL));
}

static void
test_userauth_success_trailing_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "34 00"));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 0);
}

static void
test_userauth_connection_message_while_pending_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    /* SSH_MSG_GLOBAL_REQUEST (80) before authentication */
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, "50 00000004 74657374 00"));
}

static void
test_userauth_60_after_none_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, "3c 00000000 00000000"));
}

static void
test_userauth_message_when_idle_is_eproto(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, HEX_SUCCESS));
}

static void
test_userauth_message_after_success_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, "35 00000002 6869 00000000"));   /* late banner */
}

static void
test_userauth_info_response_from_server_is_eproto(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "pw", NULL, NULL));
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, "3d 00000000"));
}

static void
test_userauth_empty_payload_is_einval(void **state)
{
    struct fixture *f = *state;
    uint8_t b = 0;

    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_handle(f->ua, &b, 0));
    ASSERT_OK(amk_userauth_client_error(f->ua));
}

static void
test_userauth_sink_failure_fails_engine(void **state)
{
    struct fixture *f = *state;

    f->sink.fail_with = AMK_ECLOSED;
    ASSERT_AMK(AMK_ECLOSED, amk_userauth_client_start(f->ua));
    ASSERT_AMK(AMK_ECLOSED, amk_userauth_client_error(f->ua));
}

/* ---- banners ---------------------------------------------------------- */

static void
test_userauth_banner_is_sanitised(void **state)
{
    struct fixture *f = *state;
    struct amk_buf *b = amk_buf_new();
    /* ESC [2J (clear screen), CR LF, BEL, a C1 CSI (U+009B), UTF-8 "é",
     * a right-to-left override U+202E, a lone CR and an invalid byte. */
    static const char msg[] = "Hi\x1b[2J\r\nthere\x07 \xc2\x9b" "1m caf\xc3\xa9 "
        "\xe2\x80\xae" "x\ry\xff";

    assert_non_null(b);
    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_USERAUTH_BANNER));
    ASSERT_OK(amk_buf_put_string(b, msg, sizeof(msg) - 1));
    ASSERT_OK(amk_buf_put_cstring(b, "en\x1b"));
    ASSERT_OK(feed_buf(f, b));
    assert_int_equal(f->banner.calls, 1);
    assert_string_equal(f->banner.msg, "Hi?[2J\nthere? ?1m caf\xc3\xa9 ?x?y?");
    assert_string_equal(f->banner.lang, "en?");
    amk_buf_free(b);
}

static void
test_userauth_banner_when_idle_is_delivered(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_OK(feed_hex(f, "35 00000005 68656c6c6f 00000000"));
    assert_int_equal(f->banner.calls, 1);
    assert_string_equal(f->banner.msg, "hello");
}

static void
test_userauth_banner_before_service_accept_is_eproto(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, "35 00000005 68656c6c6f 00000000"));
    assert_int_equal(f->banner.calls, 0);
}

static void
test_userauth_banner_truncated_is_eformat(void **state)
{
    struct fixture *f = *state;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "35 00000005 68656c6c6f"));   /* no language tag */
    assert_int_equal(f->banner.calls, 0);
}

/* ---- password ---------------------------------------------------------- */

struct change_cb_state {
    int calls;
    char prompt[128];
    int decline;
};

static int
change_cb(void *user, const char *prompt, const char *lang, char *newpw, size_t cap)
{
    struct change_cb_state *s = user;

    s->calls++;
    snprintf(s->prompt, sizeof(s->prompt), "%s", prompt);
    if (s->decline)
        return AMK_EAUTH;
    assert_true(cap >= 8);
    memcpy(newpw, "newpw", 6);
    return AMK_OK;
}

static void
test_userauth_password_sends_request(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "s3cret", NULL, NULL));
    /* RFC 4252 §8: "password", FALSE, "s3cret" */
    ASSERT_SENT(f, "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e "
        "00000008 70617373776f7264 00 00000006 733363726574");
    assert_int_equal(amk_userauth_client_busy(f->ua), 1);
    ASSERT_AMK(AMK_ESTATE, amk_userauth_client_password(f->ua, "again", NULL, NULL));
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
    assert_null(f->ua->password);       /* wiped and freed */
}

static void
test_userauth_password_refused_stays_usable(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "wrong", NULL, NULL));
    ASSERT_OK(feed_hex(f, HEX_FAILURE_ALL));
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_null(f->ua->password);
    assert_non_null(strstr(amk_userauth_client_last_error(f->ua), "password refused"));
    ASSERT_OK(amk_userauth_client_password(f->ua, "right", NULL, NULL));
}

static void
test_userauth_password_not_allowed_is_eauth(void **state)
{
    struct fixture *f = *state;
    size_t sent;

    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_OK(feed_hex(f, HEX_SERVICE_ACCEPT));
    ASSERT_OK(feed_hex(f, "33 00000009 7075626c69636b6579 00"));      /* "publickey" */
    sent = f->sink.n;
    ASSERT_AMK(AMK_EAUTH, amk_userauth_client_password(f->ua, "pw", NULL, NULL));
    assert_int_equal(f->sink.n, sent);
    ASSERT_OK(amk_userauth_client_error(f->ua));    /* not fatal */
}

static void
test_userauth_password_too_long_is_einval(void **state)
{
    struct fixture *f = *state;
    char pw[AMK_USERAUTH_SECRET_MAX + 1];

    to_ready(f);
    memset(pw, 'p', sizeof(pw) - 1);
    pw[sizeof(pw) - 1] = '\0';
    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_password(f->ua, pw, NULL, NULL));
}

static void
test_userauth_password_before_none_result_is_estate(void **state)
{
    struct fixture *f = *state;

    ASSERT_AMK(AMK_ESTATE, amk_userauth_client_password(f->ua, "pw", NULL, NULL));
    ASSERT_OK(amk_userauth_client_start(f->ua));
    ASSERT_AMK(AMK_ESTATE, amk_userauth_client_password(f->ua, "pw", NULL, NULL));
}

static void
test_userauth_password_changereq_answered(void **state)
{
    struct fixture *f = *state;
    struct change_cb_state cs = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "old", change_cb, &cs));
    /* RFC 4252 §8: PASSWD_CHANGEREQ, prompt "Expired\x1b", language "" */
    ASSERT_OK(feed_hex(f, "3c 00000008 457870697265641b 00000000"));
    assert_int_equal(cs.calls, 1);
    assert_string_equal(cs.prompt, "Expired?");
    /* "password", TRUE, "old", "newpw" */
    ASSERT_SENT(f, "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e "
        "00000008 70617373776f7264 01 00000003 6f6c64 00000005 6e65777077");
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
}

static void
test_userauth_password_changereq_without_callback_fails_attempt(void **state)
{
    struct fixture *f = *state;
    size_t sent;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "old", NULL, NULL));
    sent = f->sink.n;
    ASSERT_OK(feed_hex(f, "3c 00000007 45787069726564 00000000"));
    assert_int_equal(f->sink.n, sent);
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    ASSERT_OK(amk_userauth_client_error(f->ua));
}

static void
test_userauth_password_changereq_declined_fails_attempt(void **state)
{
    struct fixture *f = *state;
    struct change_cb_state cs = { .decline = 1 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "old", change_cb, &cs));
    ASSERT_OK(feed_hex(f, "3c 00000007 45787069726564 00000000"));
    assert_int_equal(cs.calls, 1);
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
    assert_null(f->ua->password);
}

static void
test_userauth_password_changereq_repeated_is_elimit(void **state)
{
    struct fixture *f = *state;
    struct change_cb_state cs = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "old", change_cb, &cs));
    for (int i = 0; i < AMK_USERAUTH_MAX_CHANGEREQ; i++)
        ASSERT_OK(feed_hex(f, "3c 00000001 3f 00000000"));
    ASSERT_AMK(AMK_ELIMIT, feed_hex(f, "3c 00000001 3f 00000000"));
    assert_null(f->ua->password);
}

static void
test_userauth_password_changereq_truncated_is_eformat(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "old", NULL, NULL));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "3c 00000007 457870"));
}

/* ---- publickey --------------------------------------------------------- */

static struct amk_key *
gen(enum amk_pkey_type type)
{
    struct amk_key *k = NULL;

    ASSERT_OK(amk_key_generate(type, type == AMK_PKEY_RSA ? 2048 : 0, &k));
    return k;
}

/* Checks the query for @p k with @p alg and returns its blob. */
static void
expect_query(struct fixture *f, const struct amk_key *k, const char *alg)
{
    struct amk_buf v, *blob = amk_buf_new();
    int flag;

    assert_non_null(blob);
    ASSERT_OK(amk_key_to_blob(k, blob));
    last_sent(f, &v);
    expect_request_head(&v, "publickey");
    ASSERT_OK(amk_buf_get_bool(&v, &flag));
    assert_int_equal(flag, 0);
    expect_wire_string(&v, alg);
    {
        const uint8_t *p;
        size_t len;

        ASSERT_OK(amk_buf_get_string_direct(&v, &p, &len));
        assert_int_equal(len, amk_buf_len(blob));
        assert_memory_equal(p, amk_buf_ptr(blob), len);
    }
    ASSERT_OK(amk_buf_get_end(&v));
    amk_buf_free(blob);
}

/* Builds PK_OK for @p k with @p alg. */
static struct amk_buf *
pk_ok(const struct amk_key *k, const char *alg)
{
    struct amk_buf *b = amk_buf_new(), *blob = amk_buf_new();

    assert_non_null(b);
    assert_non_null(blob);
    ASSERT_OK(amk_key_to_blob(k, blob));
    ASSERT_OK(amk_buf_put_u8(b, AMK_MSG_USERAUTH_PK_OK));
    ASSERT_OK(amk_buf_put_cstring(b, alg));
    ASSERT_OK(amk_buf_put_stringb(b, blob));
    amk_buf_free(blob);
    return b;
}

/* Checks the signed request: its signature verifies over session id ||
 * request (RFC 4252 §7). */
static void
expect_signed(struct fixture *f, const struct amk_key *k, const char *alg)
{
    struct amk_buf v, *data = amk_buf_new();
    const uint8_t *body, *sig;
    size_t bodylen, siglen;
    int flag;

    assert_non_null(data);
    last_sent(f, &v);
    body = amk_buf_ptr(&v);
    expect_request_head(&v, "publickey");
    ASSERT_OK(amk_buf_get_bool(&v, &flag));
    assert_int_equal(flag, 1);
    expect_wire_string(&v, alg);
    ASSERT_OK(amk_buf_skip_string(&v));
    bodylen = (size_t)(amk_buf_ptr(&v) - body);
    ASSERT_OK(amk_buf_get_string_direct(&v, &sig, &siglen));
    ASSERT_OK(amk_buf_get_end(&v));
    ASSERT_OK(amk_buf_put_string(data, session_id, sizeof(session_id)));
    ASSERT_OK(amk_buf_put(data, body, bodylen));
    ASSERT_OK(amk_key_verify(k, alg, sig, siglen, amk_buf_ptr(data), amk_buf_len(data)));
    /* and not over the request alone */
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(k, alg, sig, siglen, body, bodylen));
    amk_buf_free(data);
}

static void
run_pubkey_flow(struct fixture *f, enum amk_pkey_type type, const char *sig_algs,
    const char *alg)
{
    struct amk_key *k = gen(type);
    struct amk_buf *ok;

    ASSERT_OK(amk_userauth_client_set_server_sig_algs(f->ua, sig_algs));
    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    expect_query(f, k, alg);
    ok = pk_ok(k, alg);
    ASSERT_OK(feed_buf(f, ok));
    expect_signed(f, k, alg);
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
    assert_null(f->ua->key);
    amk_buf_free(ok);
    amk_key_free(k);
}

static void
test_userauth_publickey_ed25519_query_then_sign(void **state)
{
    run_pubkey_flow(*state, AMK_PKEY_ED25519, NULL, "ssh-ed25519");
}

static void
test_userauth_publickey_ecdsa_query_then_sign(void **state)
{
    run_pubkey_flow(*state, AMK_PKEY_ECDSA_P384, "ssh-ed25519,ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp384");
}

static void
test_userauth_publickey_rsa_uses_rsa_sha2_512(void **state)
{
    run_pubkey_flow(*state, AMK_PKEY_RSA, "ssh-ed25519,rsa-sha2-256,rsa-sha2-512",
        "rsa-sha2-512");
}

/* The default: the signed request is the first and only one sent. */
static void
run_direct_flow(struct fixture *f, enum amk_pkey_type type, const char *sig_algs,
    const char *alg)
{
    struct amk_key *k = gen(type);
    size_t sent;

    ASSERT_OK(amk_userauth_client_set_server_sig_algs(f->ua, sig_algs));
    to_ready(f);
    sent = f->sink.n;
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    assert_int_equal(f->sink.n, sent + 1);
    expect_signed(f, k, alg);
    assert_int_equal(amk_userauth_client_busy(f->ua), 1);
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
    assert_string_equal(amk_userauth_client_last_method(f->ua), "publickey");
    assert_null(f->ua->key);
    amk_key_free(k);
}

static void
test_userauth_publickey_ed25519_signs_at_once(void **state)
{
    run_direct_flow(*state, AMK_PKEY_ED25519, NULL, "ssh-ed25519");
}

static void
test_userauth_publickey_rsa_signs_at_once_with_rsa_sha2_256(void **state)
{
    run_direct_flow(*state, AMK_PKEY_RSA, "ssh-ed25519,rsa-sha2-256", "rsa-sha2-256");
}

/* A refused signed request leaves the engine ready for the next key. */
static void
test_userauth_publickey_signed_at_once_refused_then_next_key(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519), *k2 = gen(AMK_PKEY_ECDSA_P256);

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_OK(feed_hex(f, HEX_FAILURE_ALL));
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
    assert_null(f->ua->key);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k2));
    expect_signed(f, k2, "ecdsa-sha2-nistp256");
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
    amk_key_free(k);
    amk_key_free(k2);
}

/* PK_OK answers a query only; after a signed request it is a protocol error. */
static void
test_userauth_publickey_pk_ok_to_signed_request_is_eproto(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519);
    struct amk_buf *ok = pk_ok(k, "ssh-ed25519");

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_AMK(AMK_EPROTO, feed_buf(f, ok));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 0);
    amk_buf_free(ok);
    amk_key_free(k);
}

static void
test_userauth_publickey_key_refused(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519);
    size_t sent;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    sent = f->sink.n;
    ASSERT_OK(feed_hex(f, HEX_FAILURE_ALL));
    assert_int_equal(f->sink.n, sent);     /* nothing signed */
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_null(f->ua->key);
    amk_key_free(k);
}

static void
test_userauth_publickey_signature_refused(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519);
    struct amk_buf *ok = pk_ok(k, "ssh-ed25519");

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_OK(feed_buf(f, ok));
    expect_signed(f, k, "ssh-ed25519");
    ASSERT_OK(feed_hex(f, HEX_FAILURE_ALL));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 0);
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    assert_null(f->ua->key);
    /* a second PK_OK now is out of place */
    ASSERT_AMK(AMK_EPROTO, feed_buf(f, ok));
    amk_buf_free(ok);
    amk_key_free(k);
}

static void
test_userauth_publickey_pk_ok_twice_is_eproto(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519);
    struct amk_buf *ok = pk_ok(k, "ssh-ed25519");

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_OK(feed_buf(f, ok));
    ASSERT_AMK(AMK_EPROTO, feed_buf(f, ok));
    amk_buf_free(ok);
    amk_key_free(k);
}

static void
test_userauth_publickey_success_to_query_is_eproto(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519);

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_AMK(AMK_EPROTO, feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 0);
    amk_key_free(k);
}

static void
test_userauth_publickey_pk_ok_other_key_is_eproto(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519), *other = gen(AMK_PKEY_ED25519);
    struct amk_buf *ok = pk_ok(other, "ssh-ed25519");

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_AMK(AMK_EPROTO, feed_buf(f, ok));
    amk_buf_free(ok);
    amk_key_free(k);
    amk_key_free(other);
}

static void
test_userauth_publickey_pk_ok_other_alg_is_eproto(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ECDSA_P256);
    struct amk_buf *ok = pk_ok(k, "ecdsa-sha2-nistp384");

    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_AMK(AMK_EPROTO, feed_buf(f, ok));
    amk_buf_free(ok);
    amk_key_free(k);
}

static void
test_userauth_publickey_pk_ok_trailing_is_eformat(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519);
    struct amk_buf *ok = pk_ok(k, "ssh-ed25519");

    ASSERT_OK(amk_buf_put_u8(ok, 0));
    to_ready(f);
    ASSERT_OK(amk_userauth_client_publickey(f->ua, k));
    ASSERT_AMK(AMK_EFORMAT, feed_buf(f, ok));
    amk_buf_free(ok);
    amk_key_free(k);
}

static void
test_userauth_publickey_public_only_key_is_ekey(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_ED25519), *pub = NULL;

    ASSERT_OK(amk_key_public_copy(k, &pub));
    to_ready(f);
    ASSERT_AMK(AMK_EKEY, amk_userauth_client_publickey(f->ua, pub));
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
    amk_key_free(pub);
    amk_key_free(k);
}

static void
test_userauth_publickey_without_session_id_is_estate(void **state)
{
    struct rec_sink s = { 0 };
    struct amk_userauth_config cfg = { .username = "u", .sink = { rec_send, &s } };
    struct amk_userauth_client *ua = NULL;
    struct amk_key *k = gen(AMK_PKEY_ED25519);
    size_t len;
    uint8_t *p;

    ASSERT_OK(amk_userauth_client_new(&ua, &cfg));
    ASSERT_OK(amk_userauth_client_start(ua));
    p = test_unhex(HEX_SERVICE_ACCEPT, &len);
    ASSERT_OK(amk_userauth_client_handle(ua, p, len));
    free(p);
    p = test_unhex(HEX_FAILURE_ALL, &len);
    ASSERT_OK(amk_userauth_client_handle(ua, p, len));
    free(p);
    ASSERT_AMK(AMK_ESTATE, amk_userauth_client_publickey(ua, k));
    amk_userauth_client_free(ua);
    rec_free(&s);
    amk_key_free(k);
}

static void
test_userauth_publickey_rsa_unsupported_by_server_is_enotsup(void **state)
{
    struct fixture *f = *state;
    struct amk_key *k = gen(AMK_PKEY_RSA);

    ASSERT_OK(amk_userauth_client_set_server_sig_algs(f->ua, "ssh-ed25519"));
    to_ready(f);
    ASSERT_AMK(AMK_ENOTSUP, amk_userauth_client_publickey(f->ua, k));
    ASSERT_OK(amk_userauth_client_error(f->ua));
    amk_key_free(k);
}

static void
test_userauth_pick_sig_alg_rsa(void **state)
{
    struct amk_key *rsa = gen(AMK_PKEY_RSA), *ed = gen(AMK_PKEY_ED25519);
    char alg[AMK_NAME_MAX + 1];

    /* RFC 8332 §3.2 */
    ASSERT_OK(amk_userauth_pick_sig_alg(rsa, NULL, alg));
    assert_string_equal(alg, "ssh-rsa");
    ASSERT_OK(amk_userauth_pick_sig_alg(rsa, "rsa-sha2-256,rsa-sha2-512", alg));
    assert_string_equal(alg, "rsa-sha2-512");
    ASSERT_OK(amk_userauth_pick_sig_alg(rsa, "ssh-ed25519,rsa-sha2-256,ssh-rsa", alg));
    assert_string_equal(alg, "rsa-sha2-256");
    ASSERT_OK(amk_userauth_pick_sig_alg(rsa, "ssh-rsa", alg));
    assert_string_equal(alg, "ssh-rsa");
    ASSERT_AMK(AMK_ENOTSUP, amk_userauth_pick_sig_alg(rsa, "ssh-ed25519", alg));
    ASSERT_AMK(AMK_ENOTSUP, amk_userauth_pick_sig_alg(rsa, "", alg));
    ASSERT_OK(amk_userauth_pick_sig_alg(ed, "rsa-sha2-512", alg));
    assert_string_equal(alg, "ssh-ed25519");
    amk_key_free(rsa);
    amk_key_free(ed);
}

static void
test_userauth_set_server_sig_algs_rejects_bad_list(void **state)
{
    struct fixture *f = *state;

    ASSERT_AMK(AMK_EFORMAT, amk_userauth_client_set_server_sig_algs(f->ua, "a,,b"));
    ASSERT_OK(amk_userauth_client_set_server_sig_algs(f->ua, NULL));
}

/* ---- keyboard-interactive ----------------------------------------------- */

struct kbd_state {
    int calls;
    char name[64], instruction[64];
    size_t n;
    char prompt[4][64];
    int echo[4];
    int cancel;
};

static int
kbd_cb(void *user, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n, char *const *responses, size_t cap)
{
    struct kbd_state *s = user;

    s->calls++;
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->instruction, sizeof(s->instruction), "%s", instruction);
    s->n = n;
    for (size_t i = 0; i < n && i < 4; i++) {
        snprintf(s->prompt[i], sizeof(s->prompt[i]), "%s", prompts[i].text);
        s->echo[i] = prompts[i].echo;
        assert_true(cap > 8);
        snprintf(responses[i], cap, "r%zu", i);
    }
    return s->cancel ? AMK_EAUTH : AMK_OK;
}

static void
test_userauth_kbdint_sends_request(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, "pam", kbd_cb, &ks));
    /* RFC 4256 §3.1: "keyboard-interactive", language "", submethods "pam" */
    ASSERT_SENT(f, "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e "
        "00000014 6b6579626f6172642d696e746572616374697665 00000000 00000003 70616d");
}

static void
test_userauth_kbdint_prompts_answered(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, NULL, kbd_cb, &ks));
    /* RFC 4256 §3.2: name "n", instruction "i\x1b", language "",
     * 2 prompts: "Password: " no echo, "Code: " echo */
    ASSERT_OK(feed_hex(f, "3c 00000001 6e 00000002 691b 00000000 00000002 "
        "0000000a 50617373776f72643a20 00 00000006 436f64653a20 01"));
    assert_int_equal(ks.calls, 1);
    assert_string_equal(ks.name, "n");
    assert_string_equal(ks.instruction, "i?");
    assert_int_equal(ks.n, 2);
    assert_string_equal(ks.prompt[0], "Password: ");
    assert_int_equal(ks.echo[0], 0);
    assert_string_equal(ks.prompt[1], "Code: ");
    assert_int_equal(ks.echo[1], 1);
    /* RFC 4256 §3.4: INFO_RESPONSE, 2, "r0", "r1" */
    ASSERT_SENT(f, "3d 00000002 00000002 7230 00000002 7231");
    /* OpenSSH's PAM ends with an empty round */
    ASSERT_OK(feed_hex(f, "3c 00000000 00000000 00000000 00000000"));
    ASSERT_SENT(f, "3d 00000000");
    ASSERT_OK(feed_hex(f, HEX_SUCCESS));
    assert_int_equal(amk_userauth_client_authenticated(f->ua), 1);
}

static void
test_userauth_kbdint_cancel_fails_attempt(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { .cancel = 1 };
    size_t sent;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, NULL, kbd_cb, &ks));
    sent = f->sink.n;
    ASSERT_OK(feed_hex(f, "3c 00000000 00000000 00000000 00000001 00000002 503a 00"));
    assert_int_equal(f->sink.n, sent);
    assert_int_equal(amk_userauth_client_busy(f->ua), 0);
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_FAILURE);
    ASSERT_OK(amk_userauth_client_error(f->ua));
}

static void
test_userauth_kbdint_too_many_prompts_is_elimit(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, NULL, kbd_cb, &ks));
    ASSERT_AMK(AMK_ELIMIT, feed_hex(f, "3c 00000000 00000000 00000000 ffffffff"));
    assert_int_equal(ks.calls, 0);
}

static void
test_userauth_kbdint_prompt_count_beyond_data_is_eformat(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, NULL, kbd_cb, &ks));
    /* 3 prompts announced, one present */
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "3c 00000000 00000000 00000000 00000003 "
        "00000002 503a 00"));
    assert_int_equal(ks.calls, 0);
}

static void
test_userauth_kbdint_trailing_is_eformat(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, NULL, kbd_cb, &ks));
    ASSERT_AMK(AMK_EFORMAT, feed_hex(f, "3c 00000000 00000000 00000000 00000000 00"));
}

static void
test_userauth_kbdint_endless_rounds_is_elimit(void **state)
{
    struct fixture *f = *state;
    struct kbd_state ks = { 0 };

    to_ready(f);
    ASSERT_OK(amk_userauth_client_kbdint(f->ua, NULL, kbd_cb, &ks));
    for (int i = 0; i < AMK_USERAUTH_MAX_INFO_ROUNDS; i++)
        ASSERT_OK(feed_hex(f, "3c 00000000 00000000 00000000 00000000"));
    ASSERT_AMK(AMK_ELIMIT, feed_hex(f, "3c 00000000 00000000 00000000 00000000"));
}

static void
test_userauth_kbdint_without_callback_is_einval(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_AMK(AMK_EINVAL, amk_userauth_client_kbdint(f->ua, NULL, NULL, NULL));
}

/* ---- partial success ---------------------------------------------------- */

static void
test_userauth_partial_success_then_password(void **state)
{
    struct fixture *f = *state;

    to_ready(f);
    ASSERT_OK(amk_userauth_client_password(f->ua, "first", NULL, NULL));
    /* FAILURE "keyboard-interactive", partial TRUE */
    ASSERT_OK(feed_hex(f, "33 00000014 6b6579626f6172642d696e746572616374697665 01"));
    assert_int_equal(amk_userauth_client_partial_success(f->ua), 1);
    assert_int_equal(amk_userauth_client_last_result(f->ua), AMK_USERAUTH_RESULT_PARTIAL);
    assert_string_equal(amk_userauth_client_methods(f->ua), "keyboard-interactive");
    ASSERT_AMK(AMK_EAUTH, amk_userauth_client_password(f->ua, "x", NULL, NULL));
    assert_non_null(strstr(amk_userauth_client_last_error(f->ua), "keyboard-interactive"));
}

static void
test_pkt_sink_put_without_function_is_einval(void **state)
{
    struct amk_pkt_sink s = { 0 };
    uint8_t b = 5;

    ASSERT_AMK(AMK_EINVAL, amk_pkt_sink_put(&s, &b, 1));
    ASSERT_AMK(AMK_EINVAL, amk_pkt_sink_put(NULL, &b, 1));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TD(name) cmocka_unit_test_setup_teardown(name, setup_direct, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_userauth_new_rejects_bad_config),
        T(test_userauth_start_sends_service_request),
        T(test_userauth_service_accept_sends_none),
        T(test_userauth_none_failure_lists_methods),
        T(test_userauth_none_success_authenticates),
        T(test_userauth_handle_before_start_is_eproto),
        T(test_userauth_service_accept_other_service_is_eproto),
        T(test_userauth_service_accept_trailing_is_eformat),
        T(test_userauth_failure_before_service_accept_is_eproto),
        T(test_userauth_failure_truncated_is_eformat),
        T(test_userauth_failure_hostile_length_is_eformat),
        T(test_userauth_failure_bad_namelist_is_eformat),
        T(test_userauth_failure_trailing_is_eformat),
        T(test_userauth_failure_empty_list_is_eauth),
        T(test_userauth_success_trailing_is_eformat),
        T(test_userauth_connection_message_while_pending_is_eproto),
        T(test_userauth_60_after_none_is_eproto),
        T(test_userauth_message_when_idle_is_eproto),
        T(test_userauth_message_after_success_is_eproto),
        T(test_userauth_info_response_from_server_is_eproto),
        T(test_userauth_empty_payload_is_einval),
        T(test_userauth_sink_failure_fails_engine),
        T(test_userauth_banner_is_sanitised),
        T(test_userauth_banner_when_idle_is_delivered),
        T(test_userauth_banner_before_service_accept_is_eproto),
        T(test_userauth_banner_truncated_is_eformat),
        T(test_userauth_password_sends_request),
        T(test_userauth_password_refused_stays_usable),
        T(test_userauth_password_not_allowed_is_eauth),
        T(test_userauth_password_too_long_is_einval),
        T(test_userauth_password_before_none_result_is_estate),
        T(test_userauth_password_changereq_answered),
        T(test_userauth_password_changereq_without_callback_fails_attempt),
        T(test_userauth_password_changereq_declined_fails_attempt),
        T(test_userauth_password_changereq_repeated_is_elimit),
        T(test_userauth_password_changereq_truncated_is_eformat),
        TD(test_userauth_publickey_ed25519_signs_at_once),
        TD(test_userauth_publickey_rsa_signs_at_once_with_rsa_sha2_256),
        TD(test_userauth_publickey_signed_at_once_refused_then_next_key),
        TD(test_userauth_publickey_pk_ok_to_signed_request_is_eproto),
        T(test_userauth_publickey_ed25519_query_then_sign),
        T(test_userauth_publickey_ecdsa_query_then_sign),
        T(test_userauth_publickey_rsa_uses_rsa_sha2_512),
        T(test_userauth_publickey_key_refused),
        T(test_userauth_publickey_signature_refused),
        T(test_userauth_publickey_pk_ok_twice_is_eproto),
        T(test_userauth_publickey_success_to_query_is_eproto),
        T(test_userauth_publickey_pk_ok_other_key_is_eproto),
        T(test_userauth_publickey_pk_ok_other_alg_is_eproto),
        T(test_userauth_publickey_pk_ok_trailing_is_eformat),
        T(test_userauth_publickey_public_only_key_is_ekey),
        cmocka_unit_test(test_userauth_publickey_without_session_id_is_estate),
        T(test_userauth_publickey_rsa_unsupported_by_server_is_enotsup),
        cmocka_unit_test(test_userauth_pick_sig_alg_rsa),
        T(test_userauth_set_server_sig_algs_rejects_bad_list),
        T(test_userauth_kbdint_sends_request),
        T(test_userauth_kbdint_prompts_answered),
        T(test_userauth_kbdint_cancel_fails_attempt),
        T(test_userauth_kbdint_too_many_prompts_is_elimit),
        T(test_userauth_kbdint_prompt_count_beyond_data_is_eformat),
        T(test_userauth_kbdint_trailing_is_eformat),
        T(test_userauth_kbdint_endless_rounds_is_elimit),
        T(test_userauth_kbdint_without_callback_is_einval),
        T(test_userauth_partial_success_then_password),
        cmocka_unit_test(test_pkt_sink_put_without_function_is_einval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
