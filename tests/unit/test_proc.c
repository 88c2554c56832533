/*
 * The process runner's pure parts (src/server/proc.c): pty-req terminal
 * modes (RFC 4254 §8) applied to termios, and the RFC 4254 §6.10 signal
 * names. Running real processes is tested in
 * tests/interop/test_server_session.c.
 */
#include "test_helper.h"

#include <signal.h>
#include <termios.h>

#include "server/proc.h"

/* Encodes (opcode, value) pairs and TTY_OP_END. */
static size_t
enc(uint8_t *out, const uint32_t *pairs, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        out[o++] = (uint8_t)pairs[2 * i];
        out[o++] = (uint8_t)(pairs[2 * i + 1] >> 24);
        out[o++] = (uint8_t)(pairs[2 * i + 1] >> 16);
        out[o++] = (uint8_t)(pairs[2 * i + 1] >> 8);
        out[o++] = (uint8_t)pairs[2 * i + 1];
    }
    out[o++] = 0;
    return o;
}

static void
test_proc_apply_modes_flags_and_chars(void **state)
{
    static const uint32_t pairs[] = {
        1, 3,           /* VINTR ^C */
        4, 21,          /* VKILL ^U */
        5, 4,           /* VEOF ^D */
        6, 255,         /* VEOL disabled */
        36, 0,          /* ICRNL off */
        42, 1,          /* IUTF8 on */
        53, 0,          /* ECHO off */
        51, 1,          /* ICANON on */
        70, 1,          /* OPOST on */
        72, 0,          /* ONLCR off */
        91, 1,          /* CS8 */
        129, 38400,     /* OSPEED (Linux keeps one speed for both ways) */
        120, 7,         /* unknown opcode: skipped */
    };
    struct termios tio;
    uint8_t buf[256];
    size_t n = enc(buf, pairs, sizeof(pairs) / sizeof(pairs[0]) / 2);

    memset(&tio, 0, sizeof(tio));
    tio.c_iflag = ICRNL;
    tio.c_lflag = ECHO;
    tio.c_oflag = ONLCR;
    tio.c_cflag = CS7;
    amk_proc_apply_modes(&tio, buf, n);
    assert_int_equal(tio.c_cc[VINTR], 3);
    assert_int_equal(tio.c_cc[VKILL], 21);
    assert_int_equal(tio.c_cc[VEOF], 4);
    assert_int_equal(tio.c_cc[VEOL], _POSIX_VDISABLE);
    assert_false(tio.c_iflag & ICRNL);
    assert_true(tio.c_iflag & IUTF8);
    assert_false(tio.c_lflag & ECHO);
    assert_true(tio.c_lflag & ICANON);
    assert_true(tio.c_oflag & OPOST);
    assert_false(tio.c_oflag & ONLCR);
    assert_int_equal(tio.c_cflag & CSIZE, CS8);
    assert_int_equal(cfgetospeed(&tio), B38400);
}

static void
test_proc_apply_modes_stops_and_truncation(void **state)
{
    /* ECHO off, then opcode 200 (stops parsing), then ECHO on never read */
    static const uint8_t stop[] = { 53, 0, 0, 0, 0, 200, 53, 0, 0, 0, 1 };
    /* ECHO off cut short: nothing applied */
    static const uint8_t cut[] = { 53, 0, 0 };
    struct termios tio;

    memset(&tio, 0, sizeof(tio));
    tio.c_lflag = ECHO;
    amk_proc_apply_modes(&tio, stop, sizeof(stop));
    assert_false(tio.c_lflag & ECHO);
    tio.c_lflag = ECHO;
    amk_proc_apply_modes(&tio, cut, sizeof(cut));
    assert_true(tio.c_lflag & ECHO);
    amk_proc_apply_modes(&tio, NULL, 0);
    assert_true(tio.c_lflag & ECHO);
}

static void
test_proc_signal_names(void **state)
{
    assert_string_equal(amk_proc_signame(SIGTERM), "TERM");
    assert_string_equal(amk_proc_signame(SIGKILL), "KILL");
    assert_string_equal(amk_proc_signame(SIGUSR2), "USR2");
    assert_null(amk_proc_signame(SIGCHLD));
    assert_int_equal(amk_proc_signum("INT"), SIGINT);
    assert_int_equal(amk_proc_signum("HUP"), SIGHUP);
    assert_int_equal(amk_proc_signum("SIGINT"), 0);
    assert_int_equal(amk_proc_signum("int"), 0);
    assert_int_equal(amk_proc_signum(""), 0);
    assert_int_equal(amk_proc_signum(NULL), 0);
}

static void
test_proc_spawn_rejects_bad_spec(void **state)
{
    char *env[] = { NULL };
    struct amk_proc_spec spec = { .shell = "sh", .command = "true", .env = env };
    struct amk_proc *p = (struct amk_proc *)&spec;

    ASSERT_AMK(AMK_EINVAL, amk_proc_spawn(&spec, &p));
    assert_null(p);
    spec.shell = "/bin/sh";
    spec.env = NULL;
    ASSERT_AMK(AMK_EINVAL, amk_proc_spawn(&spec, &p));
    ASSERT_AMK(AMK_EINVAL, amk_proc_spawn(NULL, &p));
    ASSERT_AMK(AMK_EINVAL, amk_proc_spawn(&spec, NULL));
    amk_proc_free(NULL, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proc_apply_modes_flags_and_chars),
        cmocka_unit_test(test_proc_apply_modes_stops_and_truncation),
        cmocka_unit_test(test_proc_signal_names),
        cmocka_unit_test(test_proc_spawn_rejects_bad_spec),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
