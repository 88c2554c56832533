/* Unit tests for src/io/wait.c, over a socketpair. */
#include "test_helper.h"

#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/wait.h"

static void
test_amk_io_wait_read_times_out(void **state)
{
    struct amk_error err;
    int sv[2], ready = -1;
    int64_t t0;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    amk_error_clear(&err);
    t0 = amk_io_now_ms();
    ASSERT_AMK(AMK_ETIMEOUT, amk_io_wait(sv[0], AMK_IO_READ, amk_io_deadline(100), &ready, &err));
    assert_true(amk_io_now_ms() - t0 >= 90);
    assert_int_equal(ready, 0);
    assert_non_null(strstr(amk_error_msg(&err), "read"));
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_io_wait_read_ready(void **state)
{
    int sv[2], ready = 0;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], "a", 1), 1);
    ASSERT_OK(amk_io_wait(sv[0], AMK_IO_READ, amk_io_deadline(1000), &ready, NULL));
    assert_int_equal(ready, AMK_IO_READ);
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_io_wait_both_reports_write(void **state)
{
    int sv[2], ready = 0;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_OK(amk_io_wait(sv[0], AMK_IO_READ | AMK_IO_WRITE, AMK_DEADLINE_NONE, &ready, NULL));
    assert_int_equal(ready, AMK_IO_WRITE);
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_io_wait_hangup_is_ready(void **state)
{
    int sv[2], ready = 0;
    char c;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    ASSERT_OK(amk_io_wait(sv[0], AMK_IO_READ, amk_io_deadline(1000), &ready, NULL));
    assert_int_equal(ready, AMK_IO_READ);
    assert_int_equal(read(sv[0], &c, 1), 0);
    close(sv[0]);
}

static void
test_amk_io_wait_zero_deadline_polls(void **state)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_AMK(AMK_ETIMEOUT, amk_io_wait(sv[0], AMK_IO_READ, amk_io_deadline(0), NULL, NULL));
    /* a deadline in the past does not wait either */
    ASSERT_AMK(AMK_ETIMEOUT, amk_io_wait(sv[0], AMK_IO_READ, amk_io_now_ms() - 1000, NULL, NULL));
    close(sv[0]);
    close(sv[1]);
}

static void
test_amk_io_wait_bad_arguments(void **state)
{
    struct amk_error err;
    int sv[2], closed;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    amk_error_clear(&err);
    ASSERT_AMK(AMK_EINVAL, amk_io_wait(-1, AMK_IO_READ, AMK_DEADLINE_NONE, NULL, &err));
    ASSERT_AMK(AMK_EINVAL, amk_io_wait(sv[0], 0, AMK_DEADLINE_NONE, NULL, &err));
    ASSERT_AMK(AMK_EINVAL, amk_io_wait(sv[0], 4, AMK_DEADLINE_NONE, NULL, &err));
    closed = sv[1];
    close(sv[1]);
    close(sv[0]);
    ASSERT_AMK(AMK_EINVAL, amk_io_wait(closed, AMK_IO_READ, amk_io_deadline(1000), NULL, &err));
    assert_non_null(strstr(amk_error_msg(&err), "not open"));
}

static void
test_amk_io_remaining_ms(void **state)
{
    int64_t now = amk_io_now_ms();

    assert_int_equal(amk_io_remaining_ms(AMK_DEADLINE_NONE), -1);
    assert_int_equal(amk_io_deadline(-5), AMK_DEADLINE_NONE);
    assert_int_equal(amk_io_remaining_ms(now - 10), 0);
    assert_true(amk_io_remaining_ms(now + 10000) > 9000);
    assert_true(amk_io_remaining_ms(now + 10000) <= 10000);
    assert_int_equal(amk_io_remaining_ms(now + ((int64_t)1 << 40)), INT_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_io_wait_read_times_out),
        cmocka_unit_test(test_amk_io_wait_read_ready),
        cmocka_unit_test(test_amk_io_wait_both_reports_write),
        cmocka_unit_test(test_amk_io_wait_hangup_is_ready),
        cmocka_unit_test(test_amk_io_wait_zero_deadline_polls),
        cmocka_unit_test(test_amk_io_wait_bad_arguments),
        cmocka_unit_test(test_amk_io_remaining_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
