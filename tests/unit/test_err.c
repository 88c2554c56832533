/* Unit tests for src/util/err.c, log.c and secure.c. */
#include "test_helper.h"

#include "util/err.h"
#include "util/log.h"
#include "util/secure.h"

static const int ALL_CODES[] = {
    AMK_OK, AMK_EAGAIN, AMK_EINVAL, AMK_ESTATE, AMK_ENOTSUP, AMK_ENOMEM, AMK_ELIMIT,
    AMK_ETRUNCATED, AMK_EFORMAT, AMK_EPROTO, AMK_EVERSION, AMK_ETOOBIG, AMK_EMAC,
    AMK_ENOMATCH, AMK_EUNIMPLEMENTED, AMK_ECRYPTO, AMK_ESIGNATURE, AMK_EKEY,
    AMK_EPASSPHRASE, AMK_EHOSTKEY_UNKNOWN, AMK_EHOSTKEY_CHANGED, AMK_EHOSTKEY_REVOKED,
    AMK_EHOSTKEY_REJECTED, AMK_EAUTH, AMK_EIO, AMK_ETIMEOUT, AMK_ERESOLVE, AMK_ECONNECT,
    AMK_EDISCONNECT, AMK_ECLOSED, AMK_EREFUSED, AMK_ENOENT, AMK_EACCES, AMK_EREMOTE,
    AMK_EBADNAME, AMK_EINTERNAL,
};

static void
test_amk_strerror_every_code_named(void **state)
{
    for (size_t i = 0; i < sizeof(ALL_CODES) / sizeof(ALL_CODES[0]); i++) {
        assert_string_not_equal(amk_strerror(ALL_CODES[i]), "unknown error");
        assert_string_not_equal(amk_errname(ALL_CODES[i]), "AMK_E?");
        /* names are unique */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(amk_errname(ALL_CODES[i]), amk_errname(ALL_CODES[j]));
    }
    assert_string_equal(amk_strerror(-12345), "unknown error");
    assert_string_equal(amk_errname(AMK_EMAC), "AMK_EMAC");
}

static void
test_amk_err_is_fatal_by_class(void **state)
{
    assert_false(amk_err_is_fatal(AMK_OK));
    assert_false(amk_err_is_fatal(AMK_EAGAIN));
    assert_false(amk_err_is_fatal(AMK_EINVAL));
    assert_true(amk_err_is_fatal(AMK_EMAC));
    assert_true(amk_err_is_fatal(AMK_EIO));
    assert_true(amk_err_is_fatal(AMK_EDISCONNECT));
    assert_false(amk_err_is_fatal(AMK_ENOENT));
    assert_false(amk_err_is_fatal(AMK_EREMOTE));
    assert_false(amk_err_is_fatal(AMK_EBADNAME));   /* the session goes on */
    assert_int_equal(amk_err_class(AMK_EACCES), AMK_ERRCLASS_REMOTE);
    assert_int_equal(amk_err_class(AMK_EMAC), AMK_ERRCLASS_PROTOCOL);
    assert_int_equal(amk_err_class(AMK_ETIMEOUT), AMK_ERRCLASS_IO);
}

static void
test_amk_error_set_keeps_detail(void **state)
{
    struct amk_error e;

    amk_error_clear(&e);
    assert_string_equal(amk_error_msg(&e), "");
    assert_int_equal(amk_error_set(&e, AMK_ENOMATCH, "no cipher: ours %s, theirs %s", "a", "b"),
        AMK_ENOMATCH);
    assert_int_equal(e.code, AMK_ENOMATCH);
    assert_string_equal(amk_error_msg(&e), "no cipher: ours a, theirs b");
    assert_int_equal(amk_error_set(&e, AMK_EMAC, NULL), AMK_EMAC);
    assert_string_equal(amk_error_msg(&e), amk_strerror(AMK_EMAC));
    assert_int_equal(amk_error_set(NULL, AMK_EIO, "x"), AMK_EIO);
}

struct log_capture {
    int calls;
    int level;
    char line[256];
};

static void
capture(void *user, enum amk_log_level level, const char *msg)
{
    struct log_capture *c = user;
    c->calls++;
    c->level = level;
    snprintf(c->line, sizeof(c->line), "%s", msg);
}

static void
test_amk_log_levels_and_callback(void **state)
{
    struct amk_logger lg;
    struct log_capture cap = { 0 };

    amk_logger_init(&lg);
    amk_log(&lg, AMK_LOG_ERROR, "dropped: no callback");
    lg.fn = capture;
    lg.user = &cap;
    lg.level = AMK_LOG_INFO;
    amk_log(&lg, AMK_LOG_DEBUG, "too verbose");
    assert_int_equal(cap.calls, 0);
    amk_log(&lg, AMK_LOG_WARN, "kex %s in %d ms", "done", 12);
    assert_int_equal(cap.calls, 1);
    assert_int_equal(cap.level, AMK_LOG_WARN);
    assert_string_equal(cap.line, "kex done in 12 ms");
    assert_string_equal(amk_log_level_name(AMK_LOG_TRACE), "trace");
}

static void
test_amk_ct_equal_and_wipe(void **state)
{
    uint8_t a[32], b[32];

    memset(a, 0x5a, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_int_equal(amk_ct_equal(a, b, sizeof(a)), 1);
    for (size_t i = 0; i < sizeof(a); i++) {
        b[i] ^= 0x01;
        assert_int_equal(amk_ct_equal(a, b, sizeof(a)), 0);
        b[i] ^= 0x81;
        assert_int_equal(amk_ct_equal(a, b, sizeof(a)), 0);
        b[i] ^= 0x80;
    }
    assert_int_equal(amk_ct_equal(a, b, 0), 1);
    amk_wipe(a, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++)
        assert_int_equal(a[i], 0);
    amk_wipe(NULL, 10);
    amk_free_wiped(NULL, 10);
}

static void
test_amk_version_matches_header(void **state)
{
    assert_string_equal(amk_version(), AMK_VERSION_STRING);
    ASSERT_OK(amk_init());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_strerror_every_code_named),
        cmocka_unit_test(test_amk_err_is_fatal_by_class),
        cmocka_unit_test(test_amk_error_set_keeps_detail),
        cmocka_unit_test(test_amk_log_levels_and_callback),
        cmocka_unit_test(test_amk_ct_equal_and_wipe),
        cmocka_unit_test(test_amk_version_matches_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
