/*
 * util/sanitize.c: peer text made safe for a terminal. The UTF-8 cases
 * follow RFC 3629 §4 (the well-formed byte sequences table) and its §10
 * examples of overlong and surrogate encodings.
 */
#include "test_helper.h"

#include "util/sanitize.h"

struct case_ {
    const char *name;
    const char *in;
    size_t len;
    const char *want;
};

#define C(n, in, want) { n, in, sizeof(in) - 1, want }

static const struct case_ cases[] = {
    C("empty", "", ""),
    C("printable ascii", "Welcome to host-1 (ok) ~!@#$%^&*", "Welcome to host-1 (ok) ~!@#$%^&*"),
    C("tab and newline kept", "a\tb\nc", "a\tb\nc"),
    C("crlf becomes lf", "line1\r\nline2\r\n", "line1\nline2\n"),
    C("lone cr replaced", "over\rwrite", "over?write"),
    C("esc replaced", "\x1b]0;title\x07", "?]0;title?"),
    C("nul replaced", "a\0b", "a?b"),
    C("del replaced", "a\x7f" "b", "a?b"),
    C("two-byte utf-8 kept", "caf\xc3\xa9", "caf\xc3\xa9"),
    C("three-byte utf-8 kept", "\xe2\x82\xac 5", "\xe2\x82\xac 5"),
    C("four-byte utf-8 kept", "\xf0\x9f\x94\x91", "\xf0\x9f\x94\x91"),
    C("c1 csi replaced", "\xc2\x9b" "31m", "?31m"),
    C("c1 nel replaced", "\xc2\x85", "?"),
    C("bidi override replaced", "a\xe2\x80\xae" "b", "a?b"),
    C("bidi isolate replaced", "\xe2\x81\xa6" "x\xe2\x81\xa9", "?x?"),
    C("overlong slash replaced", "\xc0\xaf", "??"),
    C("overlong three-byte replaced", "\xe0\x80\xaf", "???"),
    C("surrogate replaced", "\xed\xa0\x80", "???"),
    C("beyond u+10ffff replaced", "\xf4\x90\x80\x80", "????"),
    C("f5 lead replaced", "\xf5\x80\x80\x80", "????"),
    C("truncated sequence at end", "ok\xe2\x82", "ok??"),
    C("lone continuation byte", "\x80x", "?x"),
    C("lead then ascii", "\xc3" "A", "?A"),
};

static void
test_text_sanitize_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        size_t outlen = 99;

        ASSERT_OK(amk_text_sanitize((const uint8_t *)cases[i].in, cases[i].len, &out, &outlen));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case '%s': got '%s'", cases[i].name, out);
        assert_int_equal(outlen, strlen(cases[i].want));
        assert_true(outlen <= cases[i].len);
        free(out);
    }
}

static void
test_text_sanitize_all_bytes_never_grow(void **state)
{
    uint8_t in[256];
    char *out = NULL;
    size_t outlen;

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    ASSERT_OK(amk_text_sanitize(in, sizeof(in), &out, &outlen));
    assert_true(outlen <= sizeof(in));
    for (size_t i = 0; i < outlen; i++) {
        unsigned char c = (unsigned char)out[i];
        assert_true(c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f));
    }
    assert_int_equal(out[outlen], '\0');
    free(out);
}

static void
test_utf8_decode_code_points(void **state)
{
    uint32_t cp;

    assert_int_equal(amk_utf8_decode((const uint8_t *)"A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"\xc3\xa9", 2, &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"\xef\xbf\xbd", 3, &cp), 3);
    assert_int_equal(cp, 0xfffd);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10ffff);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"\xc3\xa9", 1, &cp), 0);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"\xc1\xbf", 2, &cp), 0);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"\xed\xbf\xbf", 3, &cp), 0);
    assert_int_equal(amk_utf8_decode((const uint8_t *)"", 0, &cp), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_sanitize_table),
        cmocka_unit_test(test_text_sanitize_all_bytes_never_grow),
        cmocka_unit_test(test_utf8_decode_code_points),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
