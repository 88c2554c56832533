/*
 * The POSIX backend (src/server/sftp_fs.c) under hostile requests, through
 * the server engine (sftps_harness.h): requests an OpenSSH client never
 * sends (copy-data onto itself, 65k ids), set-id modes and owners under a
 * root, devices and leases that could block or spin the event loop. Each
 * test bounds itself with alarm(): a request that never returns kills the
 * test instead of hanging it.
 */
#include "test_helper.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sftps_harness.h"

#define TEST_DEADLINE_S 10

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
put_copy_data(struct srv *t, uint32_t id, const uint8_t *h, size_t hl, uint64_t off,
    uint64_t len, const uint8_t *h2, size_t hl2, uint64_t off2)
{
    struct amk_buf e;

    amk_buf_init(&e);
    ASSERT_OK(amk_buf_put_string(&e, h, hl));
    ASSERT_OK(amk_buf_put_u64(&e, off));
    ASSERT_OK(amk_buf_put_u64(&e, len));
    ASSERT_OK(amk_buf_put_string(&e, h2, hl2));
    ASSERT_OK(amk_buf_put_u64(&e, off2));
    ASSERT_OK(amk_sftp_enc_extended(&t->req, id, "copy-data", amk_buf_ptr(&e),
        amk_buf_len(&e)));
    amk_buf_release(&e);
}

static off_t
size_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* copy-data of a file onto its own tail with a huge length: refused, the
 * file untouched (it used to grow without end inside the event loop). */
static void
test_fs_copy_data_onto_itself_refused(void **state)
{
    char path[400];
    uint8_t h[256], h2[256], *data;
    size_t hl, hl2, n = 2 * 1024 * 1024;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, NULL);
    data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 13);
    path_in(&t, t.root, "big", path, sizeof(path));
    write_file(path, data, n);
    open_file(&t, 1, "/big", AMK_SFTP_READ | AMK_SFTP_WRITE, h, &hl);
    /* the same handle, target past the source offset, length 2^62 */
    put_copy_data(&t, 2, h, hl, 0, (uint64_t)1 << 62, h, hl, 1024 * 1024);
    expect_status(&t, 2, AMK_SSH_FX_FAILURE);
    assert_int_equal(size_of(path), (off_t)n);
    /* the same file through a second handle: refused too */
    open_file(&t, 3, "/big", AMK_SFTP_WRITE, h2, &hl2);
    put_copy_data(&t, 4, h, hl, 0, 0, h2, hl2, 1);
    expect_status(&t, 4, AMK_SSH_FX_FAILURE);
    assert_int_equal(size_of(path), (off_t)n);
    /* non-overlapping ranges of the same file are fine: the first MiB
     * over the second, the length capped at the source's end */
    put_copy_data(&t, 5, h, hl, 0, 1024 * 1024, h2, hl2, 1024 * 1024);
    expect_status(&t, 5, AMK_SSH_FX_OK);
    assert_int_equal(size_of(path), (off_t)n);
    free(data);
    srv_stop(&t);
    alarm(0);
}

/* A length past the source's end copies to that end only. */
static void
test_fs_copy_data_capped_at_source_end(void **state)
{
    char path[400];
    uint8_t h[256], h2[256];
    size_t hl, hl2;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "a", path, sizeof(path));
    write_file(path, "0123456789", 10);
    open_file(&t, 1, "/a", AMK_SFTP_READ, h, &hl);
    open_file(&t, 2, "/b", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    put_copy_data(&t, 3, h, hl, 4, UINT64_MAX, h2, hl2, 0);
    expect_status(&t, 3, AMK_SSH_FX_OK);
    path_in(&t, t.root, "b", path, sizeof(path));
    assert_int_equal(size_of(path), 6);
    srv_stop(&t);
    alarm(0);
}

/* More than AMK_SFTPS_COPY_MAX in one request: refused before any byte is
 * copied (a sparse source: no disk needed). */
static void
test_fs_copy_data_over_cap_refused(void **state)
{
    char path[400];
    uint8_t h[256], h2[256];
    size_t hl, hl2;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "sparse", path, sizeof(path));
    write_file(path, "", 0);
    assert_int_equal(truncate(path, (off_t)AMK_SFTPS_COPY_MAX + 1), 0);
    open_file(&t, 1, "/sparse", AMK_SFTP_READ, h, &hl);
    open_file(&t, 2, "/c", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    put_copy_data(&t, 3, h, hl, 0, 0, h2, hl2, 0);
    expect_status(&t, 3, AMK_SSH_FX_FAILURE);
    path_in(&t, t.root, "c", path, sizeof(path));
    assert_int_equal(size_of(path), 0);
    /* exactly the cap (from offset 1) is allowed */
    put_copy_data(&t, 4, h, hl, 1, 0, h2, hl2, 0);
    expect_status(&t, 4, AMK_SSH_FX_OK);
    assert_int_equal(size_of(path), (off_t)AMK_SFTPS_COPY_MAX);
    srv_stop(&t);
    alarm(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fs_copy_data_onto_itself_refused),
        cmocka_unit_test(test_fs_copy_data_capped_at_source_end),
        cmocka_unit_test(test_fs_copy_data_over_cap_refused),
    };

    (void)now_s;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
