/*
 * The progress bar of amiko cp / sftp (tools/amiko/xfer/progress.c):
 * sizes, times, ETA, the smoothed rate from byte counts and a clock
 * passed in, and the whole line's layout; server names escaped
 * (tools/amiko/xfer/vis.c) in the line and for messages.
 */
#include "test_helper.h"

#include "xfer/progress.h"
#include "xfer/vis.h"

#define S XFER_NS_PER_S

static void
test_progress_format_size(void **state)
{
    static const struct {
        uint64_t bytes;
        const char *want;
    } cases[] = {
        { 0, "0B" },
        { 1, "1B" },
        { 1023, "1023B" },
        { 1024, "1.0KB" },
        { 1536, "1.5KB" },
        { 32767, "32.0KB" },
        { 102300, "99.9KB" },
        { 102350, "100KB" },          /* never "100.0": too wide */
        { 1048575, "1024KB" },
        { 1048576, "1.0MB" },
        { 1048577, "1.0MB" },
        { 3u * 1048576, "3.0MB" },
        { 1073741824ull, "1.0GB" },
        { 1099511627776ull * 5, "5.0TB" },
        { UINT64_MAX, "16.0EB" },
    };
    char buf[16];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        xfer_format_size(buf, sizeof(buf), cases[i].bytes);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%llu bytes: \"%s\", expected \"%s\"", (unsigned long long)cases[i].bytes,
                buf, cases[i].want);
    }
    /* a short buffer is cut, not overrun */
    xfer_format_size(buf, 4, 1048576);
    assert_string_equal(buf, "1.0");
}

static void
test_progress_format_time(void **state)
{
    char buf[16];

    (void)state;
    xfer_format_time(buf, sizeof(buf), -1.0);
    assert_string_equal(buf, "--:--");
    xfer_format_time(buf, sizeof(buf), 0.0);
    assert_string_equal(buf, "00:00");
    xfer_format_time(buf, sizeof(buf), 0.4);
    assert_string_equal(buf, "00:00");
    xfer_format_time(buf, sizeof(buf), 59.6);
    assert_string_equal(buf, "01:00");
    xfer_format_time(buf, sizeof(buf), 754.0);
    assert_string_equal(buf, "12:34");
    xfer_format_time(buf, sizeof(buf), 3599.0);
    assert_string_equal(buf, "59:59");
    xfer_format_time(buf, sizeof(buf), 3600.0);
    assert_string_equal(buf, "1:00:00");
    xfer_format_time(buf, sizeof(buf), 45296.0);
    assert_string_equal(buf, "12:34:56");
    xfer_format_time(buf, sizeof(buf), 1e12);      /* capped */
    assert_string_equal(buf, "99:59:59");
}

static void
test_progress_eta(void **state)
{
    (void)state;
    assert_true(xfer_eta(0, 1000, -1.0) < 0);           /* no rate yet */
    assert_true(xfer_eta(0, 1000, 0.0) < 0);
    assert_true(xfer_eta(500, 1000, 100.0) == 5.0);
    assert_true(xfer_eta(1000, 1000, 0.0) == 0.0);      /* done */
    assert_true(xfer_eta(2000, 1000, 10.0) == 0.0);     /* the file grew */
}

static void
test_progress_rate_smoothing(void **state)
{
    struct xfer_progress p;

    (void)state;
    xfer_progress_init(&p, 0, -1, 10000000, 0);
    assert_true(p.rate < 0);
    /* samples closer than 250 ms are not taken */
    xfer_rate_sample(&p, 1000, S / 10);
    assert_true(p.rate < 0);
    /* first sample: the rate itself: 1 MB in 0.5 s */
    xfer_rate_sample(&p, 1000000, S / 2);
    assert_true(p.rate > 1999999.0 && p.rate < 2000001.0);
    /* then smoothed: a 0 B/s sample moves it 30% of the way */
    xfer_rate_sample(&p, 1000000, S);
    assert_true(p.rate > 1399999.0 && p.rate < 1400001.0);
    /* a 4 MB/s sample: 0.7 * 1.4 + 0.3 * 4 = 2.18 MB/s */
    xfer_rate_sample(&p, 2000000, S + S / 4);
    assert_true(p.rate > 2179999.0 && p.rate < 2180001.0);
    /* a count going back (a new file of the tree) is ignored */
    xfer_rate_sample(&p, 10, 2 * S);
    assert_true(p.rate > 2179999.0 && p.rate < 2180001.0);
}

static void
test_progress_line_layout(void **state)
{
    char line[600];

    (void)state;
    xfer_format_line(line, sizeof(line), 80, "file.bin", 512 * 1024, 1024 * 1024,
        3.5 * 1048576, 0, 0);
    assert_int_equal(strlen(line), 79);                 /* never the last column */
    assert_true(strncmp(line, "file.bin ", 9) == 0);
    assert_non_null(strstr(line, " 50% "));
    assert_non_null(strstr(line, "512KB"));
    assert_non_null(strstr(line, "3.5MB/s"));
    assert_non_null(strstr(line, "00:00 ETA"));         /* 0.14 s left */
    /* no rate yet */
    xfer_format_line(line, sizeof(line), 80, "f", 0, 100, -1.0, 0, 0);
    assert_non_null(strstr(line, "  0% "));
    assert_non_null(strstr(line, " -- "));
    assert_non_null(strstr(line, "--:-- ETA"));
    /* finished: the time taken, no ETA */
    xfer_format_line(line, sizeof(line), 80, "f", 100, 100, 50.0, 1, 125.0);
    assert_non_null(strstr(line, "100% "));
    assert_non_null(strstr(line, "02:05    "));
    assert_null(strstr(line, "ETA"));
    /* an empty file is 100% */
    xfer_format_line(line, sizeof(line), 80, "empty", 0, 0, -1.0, 1, 0.0);
    assert_non_null(strstr(line, "100%"));
    /* a long name keeps its end; narrow terminals get 40 columns */
    xfer_format_line(line, sizeof(line), 10,
        "a/very/long/directory/name/that/goes/on/and/on/the-file-name.txt", 1, 2, 1.0, 0, 0);
    assert_int_equal(strlen(line), 39);
    assert_true(strncmp(line, "t ", 2) == 0);
    xfer_format_line(line, sizeof(line), 120,
        "a/very/long/directory/name/that/goes/on/and/on/the-file-name.txt", 1, 2, 1.0, 0, 0);
    assert_int_equal(strlen(line), 119);
    assert_non_null(strstr(line, "the-file-name.txt"));
    /* a huge terminal is capped to the line buffer */
    xfer_format_line(line, sizeof(line), 60000, "x", 1, 2, 1.0, 0, 0);
    assert_true(strlen(line) < sizeof(line));
}

static void
test_progress_disabled_draws_nothing(void **state)
{
    struct xfer_progress p;

    (void)state;
    /* fd -1: a write would fail; disabled never writes, and still tracks */
    xfer_progress_init(&p, 0, -1, 100, 0);
    xfer_progress_update(&p, "x", 50, S);
    xfer_progress_finish(&p, 2 * S);
    assert_int_equal(p.drawn, 0);
    assert_true(p.done == 50);
    assert_true(p.rate > 49.0 && p.rate < 51.0);
}

/* A name from the server with ESC, BEL and DEL reaches the line escaped. */
static void
test_progress_line_escapes_the_name(void **state)
{
    char line[512];

    (void)state;
    xfer_format_line(line, sizeof(line), 80, "a\033]0;pwn\007\033[2Jb\177", 1, 2, 1.0, 0, 0);
    assert_null(strchr(line, '\033'));
    assert_null(strchr(line, '\007'));
    assert_null(strchr(line, '\177'));
    assert_non_null(strstr(line, "a\\033]0;pwn\\007\\033[2Jb\\177 "));
    assert_int_equal(strlen(line), 79);
}

static void
test_vis_escapes_controls_only(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "plain.txt", "plain.txt" },
        { "\033[31m", "\\033[31m" },
        { "tab\there", "tab\\011here" },
        { "new\nline\r", "new\\012line\\015" },
        { "del\177", "del\\177" },
        { "back\\slash", "back\\slash" },          /* left alone, as OpenSSH */
        { "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93" },  /* UTF-8 */
        { "", "" },
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(xfer_vis(buf, sizeof(buf), cases[i].in), strlen(cases[i].want));
        assert_string_equal(buf, cases[i].want);
        /* measuring only */
        assert_int_equal(xfer_vis(NULL, 0, cases[i].in), strlen(cases[i].want));
    }
    /* a short buffer: cut before an escape that does not fit whole */
    assert_int_equal(xfer_vis(buf, 5, "ab\033c"), 7);
    assert_string_equal(buf, "ab");
    assert_int_equal(xfer_vis(buf, 7, "ab\033c"), 7);
    assert_string_equal(buf, "ab\\033");
    assert_int_equal(xfer_vis(buf, 1, "abc"), 3);
    assert_string_equal(buf, "");
}

/* xfer_fprintf_vis: the whole line escaped but its final newline, however long. */
static void
test_vis_fprintf(void **state)
{
    char *out = NULL, big[3000];
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    (void)state;
    assert_non_null(f);
    xfer_fprintf_vis(f, "Removing %s\n", "/r/x\033[2J\n");
    memset(big, 'x', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\007';
    big[sizeof(big) - 1] = '\0';
    xfer_fprintf_vis(f, "%s|", big);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(strncmp(out, "Removing /r/x\\033[2J\\012\n", 25), 0);
    assert_int_equal(len, 25 + sizeof(big) - 2 + 4 + 1);
    assert_null(strchr(out, '\007'));
    assert_int_equal(strcmp(out + len - 5, "\\007|"), 0);
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_format_size),
        cmocka_unit_test(test_progress_format_time),
        cmocka_unit_test(test_progress_eta),
        cmocka_unit_test(test_progress_rate_smoothing),
        cmocka_unit_test(test_progress_line_layout),
        cmocka_unit_test(test_progress_disabled_draws_nothing),
        cmocka_unit_test(test_progress_line_escapes_the_name),
        cmocka_unit_test(test_vis_escapes_controls_only),
        cmocka_unit_test(test_vis_fprintf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
