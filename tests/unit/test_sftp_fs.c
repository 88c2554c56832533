/*
 * The POSIX backend (src/server/sftp_fs.c) under hostile requests, through
 * the server engine (sftps_harness.h): requests an OpenSSH client never
 * sends (copy-data onto itself, 65k ids), set-id modes and owners under a
 * root, devices and leases that could block or spin the event loop. Each
 * test bounds itself with alarm(): a request that never returns kills the
 * test instead of hanging it.
 */
#include "test_helper.h"

#include <dirent.h>
#include <fcntl.h>
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

/* A length past the source's end copies to that end only, and answers
 * EOF (as OpenSSH's sftp-server does when the shortfall is more than its
 * last 64 KiB read); a length that ends at the end, or 0 (to the end),
 * answers OK. */
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
    expect_status(&t, 3, AMK_SSH_FX_EOF);
    path_in(&t, t.root, "b", path, sizeof(path));
    assert_int_equal(size_of(path), 6);
    put_copy_data(&t, 4, h, hl, 2, 8, h2, hl2, 10);
    expect_status(&t, 4, AMK_SSH_FX_OK);
    put_copy_data(&t, 5, h, hl, 10, 1, h2, hl2, 20);   /* at the end: nothing */
    expect_status(&t, 5, AMK_SSH_FX_EOF);
    put_copy_data(&t, 6, h, hl, 10, 0, h2, hl2, 20);
    expect_status(&t, 6, AMK_SSH_FX_OK);
    assert_int_equal(size_of(path), 18);
    srv_stop(&t);
    alarm(0);
}

/* A file of @p n bytes of a pattern seeded with @p seed; freed by the caller. */
static uint8_t *
pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 31 + seed) ^ (i >> 9));
    return p;
}

/* @p path holds exactly @p n bytes equal to @p want. */
static void
assert_file_is(const char *path, const uint8_t *want, size_t n)
{
    uint8_t *got = malloc(n + 1);
    int fd = open(path, O_RDONLY);

    assert_non_null(got);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, got, n + 1), (ssize_t)n);
    close(fd);
    assert_memory_equal(got, want, n);
    free(got);
}

/* Feeds what is queued as one input call, without stepping a copy: the
 * bytes the engine took. */
static size_t
feed_raw(struct srv *t)
{
    size_t used = 0;

    ASSERT_OK(amk_sftps_input(t->s, amk_buf_ptr(&t->req), amk_buf_len(&t->req), &used));
    return used;
}

/* Sends a copy-data of all of @p h from 0 to @p h2 at 0; it is taken
 * and left in progress. */
static void
copy_begin(struct srv *t, uint32_t id, const uint8_t *h, size_t hl, const uint8_t *h2,
    size_t hl2)
{
    put_copy_data(t, id, h, hl, 0, 0, h2, hl2, 0);
    assert_int_equal(feed_raw(t), amk_buf_len(&t->req));
    amk_buf_reset(&t->req);
    assert_true(amk_sftps_busy(t->s));
}

static size_t
output_len(const struct srv *t)
{
    size_t len = 0;

    (void)amk_sftps_output(t->s, &len);
    return len;
}

#define SMALL_SLICE 4096

/* A copy-data over several slices: one amk_sftps_step() each, no reply
 * and no other request answered until the last one; then its OK, the
 * content equal, and the request behind it answered. */
static void
test_fs_copy_data_in_slices(void **state)
{
    const struct amk_sftps_config cfg = { .copy_slice = SMALL_SLICE };
    const size_t n = 10 * SMALL_SLICE + 123;
    struct amk_sftp_reply rep;
    char src[400], dst[400];
    uint8_t h[256], h2[256], *data = pattern(n, 7);
    size_t hl, hl2, used, first, steps = 0;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, &cfg);
    path_in(&t, t.root, "src", src, sizeof(src));
    path_in(&t, t.root, "dst", dst, sizeof(dst));
    write_file(src, data, n);
    open_file(&t, 1, "/src", AMK_SFTP_READ, h, &hl);
    open_file(&t, 2, "/dst", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    put_copy_data(&t, 3, h, hl, 0, 0, h2, hl2, 0);
    first = amk_buf_len(&t.req);
    ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_FSTAT, 4, h2, hl2));
    /* the copy-data is taken, the FSTAT behind it is not */
    used = feed_raw(&t);
    assert_int_equal(used, first);
    ASSERT_OK(amk_buf_consume(&t.req, used));
    assert_true(amk_sftps_busy(t.s));
    while (amk_sftps_busy(t.s)) {
        assert_int_equal(output_len(&t), 0);
        assert_int_equal(feed_raw(&t), 0);
        ASSERT_OK(amk_sftps_step(t.s));
        steps++;
    }
    assert_int_equal(steps, (n + SMALL_SLICE - 1) / SMALL_SLICE);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_STATUS);
    assert_int_equal(rep.id, 3);
    assert_int_equal(rep.status, AMK_SSH_FX_OK);
    amk_sftp_reply_clear(&rep);
    assert_int_equal(output_len(&t), 0);
    assert_file_is(dst, data, n);
    /* not busy: a step does nothing, and the FSTAT is answered */
    ASSERT_OK(amk_sftps_step(t.s));
    assert_int_equal(output_len(&t), 0);
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
    assert_int_equal(rep.id, 4);
    assert_true(rep.attrs.size == n);
    amk_sftp_reply_clear(&rep);
    free(data);
    srv_stop(&t);
    alarm(0);
}

/* The length is fixed when the request arrives: a copy onto the file's
 * own tail (length 0) ends after the original size although the source
 * grows with every slice, and bytes appended to a source mid-copy are
 * not copied. */
static void
test_fs_copy_data_length_fixed_at_start(void **state)
{
    const struct amk_sftps_config cfg = { .copy_slice = SMALL_SLICE };
    const size_t n = 5 * SMALL_SLICE + 7;
    char src[400], dst[400];
    uint8_t h[256], h2[256], *data = pattern(n, 3), *twice = malloc(2 * n);
    size_t hl, hl2;
    struct srv t;
    int fd;

    (void)state;
    alarm(TEST_DEADLINE_S);
    assert_non_null(twice);
    srv_start(&t, 1, &cfg);
    path_in(&t, t.root, "src", src, sizeof(src));
    path_in(&t, t.root, "dst", dst, sizeof(dst));
    write_file(src, data, n);
    open_file(&t, 1, "/src", AMK_SFTP_READ | AMK_SFTP_WRITE, h, &hl);
    /* onto its own tail, through the same handle */
    put_copy_data(&t, 2, h, hl, 0, 0, h, hl, n);
    expect_status(&t, 2, AMK_SSH_FX_OK);
    memcpy(twice, data, n);
    memcpy(twice + n, data, n);
    assert_file_is(src, twice, 2 * n);
    /* to another file, the source appended to after the first slice */
    open_file(&t, 3, "/dst", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    copy_begin(&t, 4, h, hl, h2, hl2);
    ASSERT_OK(amk_sftps_step(t.s));
    assert_true(amk_sftps_busy(t.s));
    fd = open(src, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "more", 4), 4);
    close(fd);
    expect_status(&t, 4, AMK_SSH_FX_OK);       /* steps the rest */
    assert_file_is(dst, twice, 2 * n);
    free(twice);
    free(data);
    srv_stop(&t);
    alarm(0);
}

static size_t
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;

    assert_non_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* amk_sftps_free() in the middle of a copy: its handles closed once (no
 * descriptor left, nothing leaked or used after close under ASan). */
static void
test_fs_copy_data_free_mid_copy(void **state)
{
    const struct amk_sftps_config cfg = { .copy_slice = SMALL_SLICE };
    const size_t n = 8 * SMALL_SLICE;
    char src[400];
    uint8_t h[256], h2[256], *data = pattern(n, 5);
    size_t hl, hl2, fds;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    fds = open_fds();
    srv_start(&t, 1, &cfg);
    path_in(&t, t.root, "src", src, sizeof(src));
    write_file(src, data, n);
    open_file(&t, 1, "/src", AMK_SFTP_READ, h, &hl);
    open_file(&t, 2, "/dst", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    copy_begin(&t, 3, h, hl, h2, hl2);
    ASSERT_OK(amk_sftps_step(t.s));
    ASSERT_OK(amk_sftps_step(t.s));
    assert_true(amk_sftps_busy(t.s));
    assert_int_equal(amk_sftps_handles(t.s), 2);
    srv_stop(&t);
    assert_int_equal(open_fds(), fds);
    free(data);
    alarm(0);
}

/* More than the 64 MiB the engine used to cap one request at, with the
 * real slice size: a sparse source of 80 MiB copied in ten steps (the
 * copy reads the holes as zeros; the target is deleted at once). */
static void
test_fs_copy_data_over_64_mib(void **state)
{
    const off_t size = (off_t)80 * 1024 * 1024;
    char path[400], dst[400];
    uint8_t h[256], h2[256];
    size_t hl, hl2, steps = 0;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "sparse", path, sizeof(path));
    path_in(&t, t.root, "c", dst, sizeof(dst));
    write_file(path, "head", 4);
    assert_int_equal(truncate(path, size), 0);
    open_file(&t, 1, "/sparse", AMK_SFTP_READ, h, &hl);
    open_file(&t, 2, "/c", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    copy_begin(&t, 3, h, hl, h2, hl2);
    while (amk_sftps_busy(t.s)) {
        ASSERT_OK(amk_sftps_step(t.s));
        steps++;
    }
    assert_int_equal(steps, (size_t)(size / (off_t)AMK_SFTPS_COPY_SLICE));
    expect_status(&t, 3, AMK_SSH_FX_OK);
    assert_int_equal(size_of(dst), size);
    {
        char head[4];
        int fd = open(dst, O_RDONLY);

        assert_true(fd >= 0);
        assert_int_equal(read(fd, head, sizeof(head)), 4);
        assert_memory_equal(head, "head", 4);
        close(fd);
    }
    srv_stop(&t);
    alarm(0);
}

static mode_t
mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Under a root: set-id bits are dropped from OPEN, SETSTAT, FSETSTAT and
 * MKDIR modes (sticky kept), and UIDGID may not change the owner. */
static void
test_fs_confined_no_setid_no_chown(void **state)
{
    struct amk_sftp_attrs a;
    char path[400];
    uint8_t h[256];
    size_t hl;
    struct stat st;
    mode_t old_umask = umask(0);
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    memset(&a, 0, sizeof(a));
    a.flags = AMK_SFTP_ATTR_PERMISSIONS;
    a.permissions = 06755;
    ASSERT_OK(amk_sftp_enc_open(&t.req, 1, "/f", AMK_SFTP_WRITE | AMK_SFTP_CREAT, &a));
    flush_req(&t);
    {
        struct amk_sftp_reply rep;

        take_reply(&t, &rep);
        assert_int_equal(rep.type, AMK_SSH_FXP_HANDLE);
        memcpy(h, rep.handle, rep.handle_len);
        hl = rep.handle_len;
        amk_sftp_reply_clear(&rep);
    }
    path_in(&t, t.root, "f", path, sizeof(path));
    assert_int_equal(mode_of(path), 0755);
    a.permissions = 04777;
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 2, "/f", &a));
    expect_status(&t, 2, AMK_SSH_FX_OK);
    assert_int_equal(mode_of(path), 0777);
    a.permissions = 02750;
    ASSERT_OK(amk_sftp_enc_fsetstat(&t.req, 3, h, hl, &a));
    expect_status(&t, 3, AMK_SSH_FX_OK);
    assert_int_equal(mode_of(path), 0750);
    a.permissions = 07777;
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_MKDIR, 4, "/d", &a));
    expect_status(&t, 4, AMK_SSH_FX_OK);
    path_in(&t, t.root, "d", path, sizeof(path));
    assert_int_equal(mode_of(path), 01777);
    /* owner: restating it is fine, changing it is refused (and nothing
     * else of the request applied) */
    path_in(&t, t.root, "f", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    a.flags = AMK_SFTP_ATTR_UIDGID;
    a.uid = (uint32_t)st.st_uid;
    a.gid = (uint32_t)st.st_gid;
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 5, "/f", &a));
    expect_status(&t, 5, AMK_SSH_FX_OK);
    a.flags = AMK_SFTP_ATTR_UIDGID | AMK_SFTP_ATTR_PERMISSIONS;
    a.permissions = 0700;
    a.uid = (uint32_t)st.st_uid + 1;
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 6, "/f", &a));
    expect_status(&t, 6, AMK_SSH_FX_PERMISSION_DENIED);
    a.uid = (uint32_t)st.st_uid;
    a.gid = (uint32_t)st.st_gid + 1;
    ASSERT_OK(amk_sftp_enc_fsetstat(&t.req, 7, h, hl, &a));
    expect_status(&t, 7, AMK_SSH_FX_PERMISSION_DENIED);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    srv_stop(&t);
    umask(old_umask);
}

/* Unconfined, the process's own rights decide (as OpenSSH's sftp-server):
 * set-id bits are applied. */
static void
test_fs_unconfined_keeps_setid(void **state)
{
    struct amk_sftp_attrs a;
    char path[400];
    struct srv t;

    (void)state;
    srv_start(&t, 0, NULL);
    path_in(&t, t.root, "f", path, sizeof(path));
    write_file(path, "x", 1);
    memset(&a, 0, sizeof(a));
    a.flags = AMK_SFTP_ATTR_PERMISSIONS;
    a.permissions = 04755;
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 1, "f", &a));
    expect_status(&t, 1, AMK_SSH_FX_OK);
    assert_int_equal(mode_of(path), 04755);
    srv_stop(&t);
}

/* READ of a character device with nothing more to give (/dev/kmsg once
 * its records are read) answers at once instead of blocking the loop. */
static void
test_fs_read_char_device_returns(void **state)
{
    struct amk_sftp_reply rep;
    uint8_t h[256];
    size_t hl;
    double t0;
    int fd;
    struct srv t;

    (void)state;
    if ((fd = open("/dev/kmsg", O_RDONLY)) < 0)
        skip();                 /* not root, or no such device here */
    close(fd);
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 0, NULL);
    open_file(&t, 1, "/dev/kmsg", AMK_SFTP_READ, h, &hl);
    t0 = now_s();
    for (uint32_t id = 2; id < 6; id++) {
        /* records until caught up (DATA), then nothing left (a STATUS) */
        ASSERT_OK(amk_sftp_enc_read(&t.req, id, h, hl, 0, (uint32_t)AMK_SFTPS_IO_MAX));
        flush_req(&t);
        take_reply(&t, &rep);
        assert_int_equal(rep.id, id);
        assert_true(rep.type == AMK_SSH_FXP_DATA || rep.type == AMK_SSH_FXP_STATUS);
        amk_sftp_reply_clear(&rep);
    }
    assert_true(now_s() - t0 < 2.0);
    srv_stop(&t);
    alarm(0);
}

/* An OPEN that a lease refuses (EWOULDBLOCK under O_NONBLOCK, the same
 * value as openat2's retry-me EAGAIN) fails instead of spinning. */
static void
test_fs_open_under_lease_fails(void **state)
{
    char path[400];
    uint8_t h[256];
    size_t hl;
    double t0;
    int fd;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "leased", path, sizeof(path));
    write_file(path, "x", 1);
    /* the lease break is signalled with SIGIO, whose default is to exit */
    signal(SIGIO, SIG_IGN);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    if (fcntl(fd, F_SETLEASE, F_RDLCK) != 0) {
        close(fd);
        srv_stop(&t);
        alarm(0);
        skip();                 /* leases off on this host or filesystem */
    }
    t0 = now_s();
    ASSERT_OK(amk_sftp_enc_open(&t.req, 1, "/leased", AMK_SFTP_WRITE, NULL));
    expect_status(&t, 1, AMK_SSH_FX_FAILURE);
    assert_true(now_s() - t0 < 2.0);
    assert_int_equal(fcntl(fd, F_SETLEASE, F_UNLCK), 0);
    close(fd);
    open_file(&t, 2, "/leased", AMK_SFTP_WRITE, h, &hl);
    srv_stop(&t);
    signal(SIGIO, SIG_DFL);
    alarm(0);
}

static int
put_ids(struct srv *t, uint32_t id, uint32_t n_uids, uint32_t n_gids)
{
    struct amk_buf e, ids;
    int r;

    amk_buf_init(&e);
    amk_buf_init(&ids);
    for (uint32_t i = 0; i < n_uids; i++)
        ASSERT_OK(amk_buf_put_u32(&ids, 0x7f000000u + i));
    ASSERT_OK(amk_buf_put_stringb(&e, &ids));
    amk_buf_reset(&ids);
    for (uint32_t i = 0; i < n_gids; i++)
        ASSERT_OK(amk_buf_put_u32(&ids, 0x7f000000u + i));
    ASSERT_OK(amk_buf_put_stringb(&e, &ids));
    r = amk_sftp_enc_extended(&t->req, id, "users-groups-by-id@openssh.com", amk_buf_ptr(&e),
        amk_buf_len(&e));
    amk_buf_release(&e);
    amk_buf_release(&ids);
    return r;
}

/* users-groups-by-id: at most AMK_SFTPS_IDS_MAX ids of each kind; 65k ids
 * are refused at once instead of 65k lookups. */
static void
test_fs_users_groups_capped(void **state)
{
    struct amk_sftp_reply rep;
    double t0;
    struct srv t;

    (void)state;
    alarm(TEST_DEADLINE_S);
    srv_start(&t, 1, NULL);
    ASSERT_OK(put_ids(&t, 1, AMK_SFTPS_IDS_MAX, AMK_SFTPS_IDS_MAX));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_EXTENDED_REPLY);
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(put_ids(&t, 2, AMK_SFTPS_IDS_MAX + 1, 0));
    expect_status(&t, 2, AMK_SSH_FX_FAILURE);
    ASSERT_OK(put_ids(&t, 3, 0, AMK_SFTPS_IDS_MAX + 1));
    expect_status(&t, 3, AMK_SSH_FX_FAILURE);
    t0 = now_s();
    ASSERT_OK(put_ids(&t, 4, 65000, 0));
    expect_status(&t, 4, AMK_SSH_FX_FAILURE);
    assert_true(now_s() - t0 < 0.5);
    srv_stop(&t);
    alarm(0);
}

/* READDIR of the root: ".." is the root itself, not its real parent. */
static void
test_fs_readdir_root_dotdot_is_root(void **state)
{
    struct amk_sftp_reply rep;
    uint8_t h[256];
    size_t hl;
    int found = 0, eof = 0;
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    /* the real parent (the temp dir) and the root differ in mode */
    assert_int_equal(chmod(t.top, 0700), 0);
    assert_int_equal(chmod(t.root, 0751), 0);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_OPENDIR, 1, "/"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_HANDLE);
    memcpy(h, rep.handle, rep.handle_len);
    hl = rep.handle_len;
    amk_sftp_reply_clear(&rep);
    for (uint32_t id = 2; !eof && id < 10; id++) {
        ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_READDIR, id, h, hl));
        flush_req(&t);
        take_reply(&t, &rep);
        if (rep.type == AMK_SSH_FXP_STATUS) {
            eof = 1;
        } else {
            for (size_t i = 0; i < rep.count; i++) {
                if (strcmp(rep.names[i].filename, "..") != 0)
                    continue;
                found = 1;
                assert_int_equal(rep.names[i].attrs.permissions & 07777, 0751);
                assert_non_null(strstr(rep.names[i].longname, "drwxr-x--x"));
            }
        }
        amk_sftp_reply_clear(&rep);
    }
    assert_true(found);
    srv_stop(&t);
}

/* argv[1], if given, runs only the tests it matches (a cmocka filter). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fs_copy_data_onto_itself_refused),
        cmocka_unit_test(test_fs_copy_data_capped_at_source_end),
        cmocka_unit_test(test_fs_copy_data_in_slices),
        cmocka_unit_test(test_fs_copy_data_length_fixed_at_start),
        cmocka_unit_test(test_fs_copy_data_free_mid_copy),
        cmocka_unit_test(test_fs_copy_data_over_64_mib),
        cmocka_unit_test(test_fs_confined_no_setid_no_chown),
        cmocka_unit_test(test_fs_unconfined_keeps_setid),
        cmocka_unit_test(test_fs_read_char_device_returns),
        cmocka_unit_test(test_fs_open_under_lease_fails),
        cmocka_unit_test(test_fs_users_groups_capped),
        cmocka_unit_test(test_fs_readdir_root_dotdot_is_root),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
