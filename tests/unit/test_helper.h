/* Shared helpers for the cmocka unit tests. */
#ifndef AMK_TEST_HELPER_H
#define AMK_TEST_HELPER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <amiko.h>

/* Asserts an amiko call returned the expected code, naming both on failure. */
#define ASSERT_AMK(expected, call) do { \
        int amk_r_ = (call); \
        if (amk_r_ != (expected)) { \
            fail_msg("%s returned %s (%d), expected %s (%d)", #call, \
                amk_errname(amk_r_), amk_r_, amk_errname(expected), (expected)); \
            __builtin_unreachable(); /* cmocka's fail longjmps out */ \
        } \
    } while (0)
#define ASSERT_OK(call) ASSERT_AMK(AMK_OK, call)

/* For a group CTest runs case by case: argv[1], when given, selects the
 * cases named @p prefix argv[1] @p suffix (cmocka's filter, '*' allowed). */
static inline void
test_filter_from_argv(int argc, char **argv, const char *prefix, const char *suffix)
{
    static char filter[128];

    if (argc > 1) {
        snprintf(filter, sizeof(filter), "%s%s%s", prefix, argv[1], suffix);
        cmocka_set_test_filter(filter);
    }
}

/* Decodes a hex string (whitespace ignored) into an allocated buffer. */
static inline uint8_t *
test_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex), o = 0;
    uint8_t *out = malloc(n / 2 + 1);
    int hi = -1;

    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[o++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    *len = o;
    return out;
}

/* Asserts @p len bytes at @p got equal the hex string @p hex. */
#define ASSERT_HEX(hex, got, len) do { \
        size_t h_len_; \
        uint8_t *h_want_ = test_unhex((hex), &h_len_); \
        assert_int_equal(h_len_, (len)); \
        assert_memory_equal(h_want_, (got), h_len_); \
        free(h_want_); \
    } while (0)

#endif
