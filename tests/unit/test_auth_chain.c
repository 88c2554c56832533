/*
 * src/auth/auth_chain.c without a server: configuration checks, the order
 * in which candidates are started, skipping methods the server does not
 * list (RFC 4252 §5.1), running out (AMK_EAUTH) and the log. The server's
 * answers are exact RFC 4252 messages; the interop test runs the chain
 * against sshd.
 */
#include "test_helper.h"

#include "auth/auth_chain.h"
#include "auth/userauth_int.h"
#include "keys/key.h"
#include "util/buf.h"

struct rec {
    int n;
    char method[16][32];    /* method name of each USERAUTH_REQUEST sent */
};

static int
rec_send(void *user, const uint8_t *p, size_t len)
{
    struct rec *r = user;
    struct amk_buf b;
    uint8_t t;
    char *s = NULL;

    amk_buf_view(&b, p, len);
    assert_int_equal(amk_buf_get_u8(&b, &t), 0);
    if (t != AMK_MSG_USERAUTH_REQUEST)
        return AMK_OK;
    assert_int_equal(amk_buf_skip_string(&b), 0);
    assert_int_equal(amk_buf_skip_string(&b), 0);
    assert_int_equal(amk_buf_get_cstring(&b, &s, NULL), 0);
    assert_true(r->n < 16);
    snprintf(r->method[r->n++], sizeof(r->method[0]), "%s", s);
    free(s);
    return AMK_OK;
}

static char logbuf[8192];

static void
log_cb(void *u, enum amk_log_level level, const char *msg)
{
    size_t used = strlen(logbuf);

    snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

struct fx {
    struct rec rec;
    struct amk_userauth_client *ua;
    struct amk_key *k1, *k2;
};

static const uint8_t sid[32] = { 9 };

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct amk_userauth_config cfg = { .username = "u" };

    assert_non_null(f);
    cfg.sink.send = rec_send;
    cfg.sink.user = &f->rec;
    ASSERT_OK(amk_userauth_client_new(&f->ua, &cfg));
    ASSERT_OK(amk_userauth_client_set_session_id(f->ua, sid, sizeof(sid)));
    ASSERT_OK(amk_key_generate(AMK_PKEY_ED25519, 0, &f->k1));
    ASSERT_OK(amk_key_generate(AMK_PKEY_ECDSA_P256, 0, &f->k2));
    logbuf[0] = '\0';
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    amk_userauth_client_free(f->ua);
    amk_key_free(f->k1);
    amk_key_free(f->k2);
    free(f);
    return 0;
}

static int
feed(struct amk_auth_chain *c, const char *hex)
{
    size_t len;
    uint8_t *p = test_unhex(hex, &len);
    int r = amk_auth_chain_handle(c, p, len);

    free(p);
    return r;
}

#define SERVICE_ACCEPT "06 0000000c 7373682d7573657261757468"
/* FAILURE "publickey,password", partial FALSE */
#define FAIL_PK_PW "33 00000012 7075626c69636b65792c70617373776f7264 00"
/* FAILURE "password", partial FALSE */
#define FAIL_PW "33 00000008 70617373776f7264 00"
/* FAILURE "password", partial TRUE */
#define PARTIAL_PW "33 00000008 70617373776f7264 01"

static void
test_auth_chain_new_rejects_bad_config(void **state)
{
    struct fx *f = *state;
    struct amk_auth_chain *c = (void *)1;
    struct amk_auth_chain_config cfg = { 0 };
    struct amk_key *pub = NULL;
    char longpw[AMK_USERAUTH_SECRET_MAX + 1];
    const struct amk_key *many[AMK_AUTH_CHAIN_MAX + 1];

    ASSERT_AMK(AMK_EINVAL, amk_auth_chain_new(&c, NULL, &cfg));
    assert_null(c);
    cfg.n_keys = 1;     /* without the array */
    ASSERT_AMK(AMK_EINVAL, amk_auth_chain_new(&c, f->ua, &cfg));
    cfg.n_keys = 0;
    ASSERT_OK(amk_key_public_copy(f->k1, &pub));
    cfg.key = pub;
    ASSERT_AMK(AMK_EINVAL, amk_auth_chain_new(&c, f->ua, &cfg));
    cfg.key = NULL;
    memset(longpw, 'x', sizeof(longpw) - 1);
    longpw[sizeof(longpw) - 1] = '\0';
    cfg.password = longpw;
    ASSERT_AMK(AMK_EINVAL, amk_auth_chain_new(&c, f->ua, &cfg));
    cfg.password = NULL;
    for (size_t i = 0; i < AMK_AUTH_CHAIN_MAX + 1; i++)
        many[i] = f->k1;
    cfg.keys = many;
    cfg.n_keys = AMK_AUTH_CHAIN_MAX + 1;
    ASSERT_AMK(AMK_ELIMIT, amk_auth_chain_new(&c, f->ua, &cfg));
    amk_key_free(pub);
}

static void
test_auth_chain_order_keys_then_password(void **state)
{
    struct fx *f = *state;
    const struct amk_key *keys[] = { f->k2 };
    struct amk_auth_chain_config cfg = {
        .key = f->k1, .keys = keys, .n_keys = 1, .password = "pw",
        .log = { .fn = log_cb, .level = AMK_LOG_DEBUG },
    };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));         /* sends none */
    ASSERT_OK(feed(c, FAIL_PK_PW));             /* explicit key signed, refused */
    ASSERT_OK(feed(c, FAIL_PK_PW));             /* loaded key signed, refused */
    ASSERT_OK(feed(c, FAIL_PK_PW));             /* password */
    assert_int_equal(f->rec.n, 4);
    assert_string_equal(f->rec.method[0], "none");
    assert_string_equal(f->rec.method[1], "publickey");
    assert_string_equal(f->rec.method[2], "publickey");
    assert_string_equal(f->rec.method[3], "password");
    ASSERT_OK(feed(c, "34"));
    assert_int_equal(amk_auth_chain_authenticated(c), 1);
    assert_int_equal(amk_auth_chain_attempts(c), 3);
    assert_non_null(strstr(logbuf, "publickey ssh-ed25519 SHA256:"));
    assert_non_null(strstr(logbuf, "(explicit key): refused"));
    assert_non_null(strstr(logbuf, "(loaded key): refused"));
    assert_non_null(strstr(logbuf, "password: accepted"));
    assert_null(strstr(logbuf, "pw\n"));
    amk_auth_chain_free(c);
}

static void
test_auth_chain_skips_methods_not_listed(void **state)
{
    struct fx *f = *state;
    struct amk_auth_chain_config cfg = { .key = f->k1, .password = "pw" };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));
    ASSERT_OK(feed(c, FAIL_PW));        /* only password: the key is skipped */
    assert_int_equal(f->rec.n, 2);
    assert_string_equal(f->rec.method[1], "password");
    amk_auth_chain_free(c);
}

static void
test_auth_chain_partial_success_goes_on(void **state)
{
    struct fx *f = *state;
    struct amk_auth_chain_config cfg = {
        .key = f->k1, .password = "pw",
        .log = { .fn = log_cb, .level = AMK_LOG_INFO },
    };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));
    ASSERT_OK(feed(c, FAIL_PK_PW));         /* the key signs at once */
    ASSERT_OK(feed(c, PARTIAL_PW));
    assert_int_equal(f->rec.n, 3);
    assert_string_equal(f->rec.method[1], "publickey");
    assert_string_equal(f->rec.method[2], "password");
    assert_non_null(strstr(logbuf, "partial success; continue with password"));
    amk_auth_chain_free(c);
}

static void
test_auth_chain_runs_out_is_eauth(void **state)
{
    struct fx *f = *state;
    struct amk_auth_chain_config cfg = { .key = f->k1 };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));
    ASSERT_OK(feed(c, FAIL_PK_PW));
    ASSERT_AMK(AMK_EAUTH, feed(c, FAIL_PK_PW));
    assert_non_null(strstr(amk_auth_chain_last_error(c), "publickey,password"));
    /* stays failed */
    ASSERT_AMK(AMK_EAUTH, feed(c, "34"));
    amk_auth_chain_free(c);
}

static void
test_auth_chain_nothing_listed_is_eauth(void **state)
{
    struct fx *f = *state;
    struct amk_auth_chain_config cfg = { .password = "pw" };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));
    /* FAILURE "publickey": neither password nor keyboard-interactive fit */
    ASSERT_AMK(AMK_EAUTH, feed(c, "33 00000009 7075626c69636b6579 00"));
    assert_int_equal(amk_auth_chain_attempts(c), 0);
    amk_auth_chain_free(c);
}

static void
test_auth_chain_missing_key_file_skipped(void **state)
{
    struct fx *f = *state;
    const char *files[] = { "/nonexistent/amiko/id_test" };
    struct amk_auth_chain_config cfg = {
        .key_files = files, .n_key_files = 1, .password = "pw",
        .log = { .fn = log_cb, .level = AMK_LOG_DEBUG },
    };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));
    ASSERT_OK(feed(c, FAIL_PK_PW));
    assert_int_equal(f->rec.n, 2);
    assert_string_equal(f->rec.method[1], "password");
    assert_non_null(strstr(logbuf, "skipping key file /nonexistent/amiko/id_test"));
    amk_auth_chain_free(c);
}

static void
test_auth_chain_none_success_needs_nothing(void **state)
{
    struct fx *f = *state;
    struct amk_auth_chain_config cfg = { .password = "pw" };
    struct amk_auth_chain *c = NULL;

    ASSERT_OK(amk_auth_chain_new(&c, f->ua, &cfg));
    ASSERT_OK(amk_auth_chain_start(c));
    ASSERT_OK(feed(c, SERVICE_ACCEPT));
    ASSERT_OK(feed(c, "34"));
    assert_int_equal(amk_auth_chain_authenticated(c), 1);
    assert_int_equal(amk_auth_chain_attempts(c), 0);
    amk_auth_chain_free(c);
}

#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_auth_chain_new_rejects_bad_config),
        T(test_auth_chain_order_keys_then_password),
        T(test_auth_chain_skips_methods_not_listed),
        T(test_auth_chain_partial_success_goes_on),
        T(test_auth_chain_runs_out_is_eauth),
        T(test_auth_chain_nothing_listed_is_eauth),
        T(test_auth_chain_missing_key_file_skipped),
        T(test_auth_chain_none_success_needs_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
