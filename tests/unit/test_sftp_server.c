/*
 * SFTP server engine (src/sftp/sftp_server.c) over the POSIX backend
 * (src/server/sftp_fs.c) in a temporary directory: exact request bytes in
 * (built with the client codec or by hand), replies decoded and checked,
 * and the files on disk checked. Malformed, truncated, oversized and
 * unknown requests; back-pressure; handle cap; read-only; confinement.
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sftps_harness.h"

static void
test_sftps_init_version_and_extensions(void **state)
{
    struct amk_sftps *s = NULL;
    struct amk_sftp_fs *fs = NULL;
    struct amk_sftp_version v;
    struct amk_buf b;
    const uint8_t *p;
    size_t len, used;
    int seen = 0;

    (void)state;
    ASSERT_OK(amk_sftp_fs_new(&fs, NULL, "/tmp", NULL, 0));
    ASSERT_OK(amk_sftps_new(&s, amk_sftp_fs_ops(), fs, NULL));
    amk_buf_init(&b);
    /* a v6 client gets version 3 */
    ASSERT_OK(amk_sftp_enc_init(&b, 6));
    ASSERT_OK(amk_sftps_input(s, amk_buf_ptr(&b), amk_buf_len(&b), &used));
    p = amk_sftps_output(s, &len);
    ASSERT_OK(amk_sftp_dec_version(p + 4, len - 4, &v));
    assert_int_equal(v.version, 3);
    for (size_t i = 0; i < v.n_ext; i++) {
        static const char *const want[] = { "posix-rename@openssh.com", "statvfs@openssh.com",
            "fstatvfs@openssh.com", "hardlink@openssh.com", "fsync@openssh.com",
            "lsetstat@openssh.com", "limits@openssh.com", "expand-path@openssh.com",
            "copy-data", "home-directory", "users-groups-by-id@openssh.com" };
        for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
            if (strcmp(v.ext[i].name, want[k]) == 0)
                seen++;
    }
    assert_int_equal(seen, 11);
    amk_sftp_version_clear(&v);
    amk_buf_release(&b);
    amk_sftps_free(s);
    amk_sftp_fs_free(fs);
}

static void
test_sftps_request_before_init_is_fatal(void **state)
{
    struct amk_sftps *s = NULL;
    struct amk_sftp_fs *fs = NULL;
    struct amk_buf b;
    size_t used;

    (void)state;
    ASSERT_OK(amk_sftp_fs_new(&fs, NULL, "/tmp", NULL, 0));
    ASSERT_OK(amk_sftps_new(&s, amk_sftp_fs_ops(), fs, NULL));
    amk_buf_init(&b);
    ASSERT_OK(amk_sftp_enc_path(&b, AMK_SSH_FXP_STAT, 1, "/"));
    ASSERT_AMK(AMK_EPROTO, amk_sftps_input(s, amk_buf_ptr(&b), amk_buf_len(&b), &used));
    assert_string_not_equal(amk_sftps_last_error(s), "");
    /* a failed engine stays failed */
    ASSERT_AMK(AMK_EPROTO, amk_sftps_input(s, amk_buf_ptr(&b), amk_buf_len(&b), &used));
    amk_buf_release(&b);
    amk_sftps_free(s);
    amk_sftp_fs_free(fs);
}

static void
test_sftps_second_init_is_fatal(void **state)
{
    struct srv t;
    size_t used;

    (void)state;
    srv_start(&t, 0, NULL);
    ASSERT_OK(amk_sftp_enc_init(&t.req, 3));
    ASSERT_AMK(AMK_EPROTO, amk_sftps_input(t.s, amk_buf_ptr(&t.req), amk_buf_len(&t.req), &used));
    srv_stop(&t);
}

static void
test_sftps_write_read_roundtrip(void **state)
{
    struct amk_sftp_reply rep;
    uint8_t h[256], data[5000];
    size_t hl;
    struct srv t;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    srv_start(&t, 0, NULL);
    open_file(&t, 1, "f", AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, h, &hl);
    ASSERT_OK(amk_sftp_enc_write(&t.req, 2, h, hl, 0, data, 3000));
    ASSERT_OK(amk_sftp_enc_write(&t.req, 3, h, hl, 3000, data + 3000, 2000));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 2);
    assert_int_equal(rep.status, 0);
    amk_sftp_reply_clear(&rep);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 3);
    assert_int_equal(rep.status, 0);
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_CLOSE, 4, h, hl));
    expect_status(&t, 4, AMK_SSH_FX_OK);
    assert_int_equal(amk_sftps_handles(t.s), 0);

    open_file(&t, 5, "f", AMK_SFTP_READ, h, &hl);
    ASSERT_OK(amk_sftp_enc_read(&t.req, 6, h, hl, 1000, 10000));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_DATA);
    assert_int_equal(rep.data_len, 4000);
    assert_memory_equal(rep.data, data + 1000, 4000);
    amk_sftp_reply_clear(&rep);
    /* at the end: EOF */
    ASSERT_OK(amk_sftp_enc_read(&t.req, 7, h, hl, 5000, 100));
    expect_status(&t, 7, AMK_SSH_FX_EOF);
    /* a write on a read-only descriptor fails, not the engine */
    ASSERT_OK(amk_sftp_enc_write(&t.req, 8, h, hl, 0, "x", 1));
    expect_status(&t, 8, AMK_SSH_FX_FAILURE);
    /* fstat */
    ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_FSTAT, 9, h, hl));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
    assert_int_equal(rep.attrs.size, 5000);
    assert_int_equal(rep.attrs.permissions & 0170000, 0100000);
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_CLOSE, 10, h, hl));
    expect_status(&t, 10, AMK_SSH_FX_OK);
    /* the closed handle is stale now */
    ASSERT_OK(amk_sftp_enc_read(&t.req, 11, h, hl, 0, 10));
    expect_status(&t, 11, AMK_SSH_FX_FAILURE);
    srv_stop(&t);
}

static void
test_sftps_read_capped_at_limit(void **state)
{
    struct amk_sftp_reply rep;
    char path[400];
    uint8_t h[256], *big;
    size_t hl, n = 300 * 1024;
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    big = calloc(1, n);
    assert_non_null(big);
    path_in(&t, t.root, "big", path, sizeof(path));
    write_file(path, big, n);
    open_file(&t, 1, "/big", AMK_SFTP_READ, h, &hl);
    ASSERT_OK(amk_sftp_enc_read(&t.req, 2, h, hl, 0, 0xffffffffu));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_DATA);
    assert_int_equal(rep.data_len, AMK_SFTPS_IO_MAX);
    amk_sftp_reply_clear(&rep);
    free(big);
    srv_stop(&t);
}

static void
test_sftps_paths_and_errors(void **state)
{
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_PERMISSIONS, .permissions = 0700 };
    struct amk_sftp_reply rep;
    char path[400];
    struct stat st;
    struct srv t;

    (void)state;
    srv_start(&t, 0, NULL);
    /* missing file */
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 1, "nope"));
    expect_status(&t, 1, AMK_SSH_FX_NO_SUCH_FILE);
    ASSERT_OK(amk_sftp_enc_open(&t.req, 2, "nope", AMK_SFTP_READ, NULL));
    expect_status(&t, 2, AMK_SSH_FX_NO_SUCH_FILE);
    /* mkdir with mode, then again: exists */
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_MKDIR, 3, "d", &a));
    expect_status(&t, 3, AMK_SSH_FX_OK);
    path_in(&t, t.root, "d", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_MKDIR, 4, "d", &a));
    expect_status(&t, 4, AMK_SSH_FX_FAILURE);
    /* rmdir of a non-empty dir fails */
    path_in(&t, t.root, "d/x", path, sizeof(path));
    write_file(path, "x", 1);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_RMDIR, 5, "d"));
    expect_status(&t, 5, AMK_SSH_FX_FAILURE);
    /* v3 RENAME refuses an existing target; posix-rename replaces */
    path_in(&t, t.root, "y", path, sizeof(path));
    write_file(path, "yy", 2);
    ASSERT_OK(amk_sftp_enc_rename(&t.req, 6, "d/x", "y"));
    expect_status(&t, 6, AMK_SSH_FX_FAILURE);
    {
        struct amk_buf e;

        amk_buf_init(&e);
        ASSERT_OK(amk_buf_put_cstring(&e, "d/x"));
        ASSERT_OK(amk_buf_put_cstring(&e, "y"));
        ASSERT_OK(amk_sftp_enc_extended(&t.req, 7, "posix-rename@openssh.com",
            amk_buf_ptr(&e), amk_buf_len(&e)));
        amk_buf_release(&e);
    }
    expect_status(&t, 7, AMK_SSH_FX_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1);
    ASSERT_OK(amk_sftp_enc_rename(&t.req, 8, "y", "z"));
    expect_status(&t, 8, AMK_SSH_FX_OK);
    /* symlink in OpenSSH's order (target first), readlink, lstat */
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 9, "lnk", "z", 1));
    expect_status(&t, 9, AMK_SSH_FX_OK);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_READLINK, 10, "lnk"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_NAME);
    assert_int_equal(rep.count, 1);
    assert_string_equal(rep.names[0].filename, "z");
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_LSTAT, 11, "lnk"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
    assert_int_equal(rep.attrs.permissions & 0170000, 0120000);
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 12, "lnk"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.attrs.permissions & 0170000, 0100000);
    assert_int_equal(rep.attrs.size, 1);
    amk_sftp_reply_clear(&rep);
    /* remove, then remove again */
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REMOVE, 13, "lnk"));
    expect_status(&t, 13, AMK_SSH_FX_OK);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REMOVE, 14, "lnk"));
    expect_status(&t, 14, AMK_SSH_FX_NO_SUCH_FILE);
    /* setstat: truncate and chmod */
    {
        struct amk_sftp_attrs s2 = { .flags = AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_PERMISSIONS |
            AMK_SFTP_ATTR_ACMODTIME, .size = 0, .permissions = 0600, .atime = 1000000,
            .mtime = 2000000 };

        ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 15, "z", &s2));
        expect_status(&t, 15, AMK_SSH_FX_OK);
        path_in(&t, t.root, "z", path, sizeof(path));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st.st_mtime, 2000000);
    }
    /* realpath "." is the start directory */
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REALPATH, 16, "."));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_NAME);
    {
        char real[PATH_MAX];

        assert_non_null(realpath(t.root, real));
        assert_string_equal(rep.names[0].filename, real);
    }
    amk_sftp_reply_clear(&rep);
    /* a path over the cap is refused, not fatal */
    {
        char *lp = malloc(AMK_SFTPS_PATH_MAX + 10);

        memset(lp, 'a', AMK_SFTPS_PATH_MAX + 9);
        lp[AMK_SFTPS_PATH_MAX + 9] = '\0';
        ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 17, lp));
        expect_status(&t, 17, AMK_SSH_FX_FAILURE);
        free(lp);
    }
    srv_stop(&t);
}

/* The link at @p name (in the served root) holds @p target. */
static void
assert_link(const struct srv *t, const char *name, const char *target)
{
    char path[400], got[64];
    ssize_t n;

    path_in(t, t->root, name, path, sizeof(path));
    n = readlink(path, got, sizeof(got) - 1);
    assert_true(n >= 0);
    got[n] = '\0';
    assert_string_equal(got, target);
}

/*
 * SYMLINK's field order: the same bytes, linkpath "lnk" then target "z"
 * as the draft writes them (what AsyncSSH and libssh send to a server
 * that is not OpenSSH), make lnk -> z with symlink_linkpath_first and,
 * read in OpenSSH's order by default, z -> lnk.
 */
static void
test_sftps_symlink_linkpath_first(void **state)
{
    struct amk_sftps_config cfg = { .symlink_linkpath_first = 1 };
    char path[400];
    struct stat st;
    struct srv t;

    (void)state;
    srv_start(&t, 0, &cfg);
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 1, "lnk", "z", 0));
    expect_status(&t, 1, AMK_SSH_FX_OK);
    assert_link(&t, "lnk", "z");
    path_in(&t, t.root, "z", path, sizeof(path));
    assert_int_equal(lstat(path, &st), -1);
    /* the link exists now: EEXIST, whichever way it is read */
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 2, "lnk", "y", 0));
    expect_status(&t, 2, AMK_SSH_FX_FAILURE);
    assert_link(&t, "lnk", "z");
    /* OpenSSH's order (amk_sftp_enc_symlink's 1) now reads reversed */
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 3, "l2", "z", 1));
    expect_status(&t, 3, AMK_SSH_FX_OK);
    assert_link(&t, "z", "l2");
    srv_stop(&t);

    /* default: the draft's bytes are read target first */
    srv_start(&t, 0, NULL);
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 1, "lnk", "z", 0));
    expect_status(&t, 1, AMK_SSH_FX_OK);
    assert_link(&t, "z", "lnk");
    path_in(&t, t.root, "lnk", path, sizeof(path));
    assert_int_equal(lstat(path, &st), -1);
    srv_stop(&t);
}

static void
test_sftps_readdir_batches(void **state)
{
    struct amk_sftp_reply rep;
    char path[400];
    uint8_t h[256];
    size_t hl = 0, seen = 0;
    struct srv t;
    int batches = 0, done = 0;
    uint32_t id = 2;

    (void)state;
    srv_start(&t, 1, NULL);
    for (int i = 0; i < 300; i++) {
        char name[32];

        snprintf(name, sizeof(name), "f%03d", i);
        path_in(&t, t.root, name, path, sizeof(path));
        write_file(path, "", 0);
    }
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_OPENDIR, 1, "/"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_HANDLE);
    memcpy(h, rep.handle, rep.handle_len);
    hl = rep.handle_len;
    amk_sftp_reply_clear(&rep);
    while (!done) {
        ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_READDIR, id, h, hl));
        flush_req(&t);
        take_reply(&t, &rep);
        assert_int_equal(rep.id, id);
        if (rep.type == AMK_SSH_FXP_STATUS) {
            assert_int_equal(rep.status, AMK_SSH_FX_EOF);
            done = 1;
        } else {
            assert_int_equal(rep.type, AMK_SSH_FXP_NAME);
            assert_true(rep.count <= AMK_SFTPS_READDIR_MAX);
            for (size_t i = 0; i < rep.count; i++) {
                if (rep.names[i].filename[0] == 'f') {
                    seen++;
                    /* ls -l style: mode first, the name last */
                    assert_int_equal(rep.names[i].longname[0], '-');
                    assert_non_null(strstr(rep.names[i].longname, rep.names[i].filename));
                    assert_true(rep.names[i].attrs.flags & AMK_SFTP_ATTR_SIZE);
                }
            }
            batches++;
        }
        amk_sftp_reply_clear(&rep);
        id++;
    }
    assert_int_equal(seen, 300);
    assert_true(batches >= 3);
    /* READDIR on a file handle is an invalid handle */
    ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_FSTAT, id, h, hl));
    expect_status(&t, id, AMK_SSH_FX_FAILURE);
    srv_stop(&t);
}

static void
test_sftps_extensions(void **state)
{
    struct amk_sftp_reply rep;
    struct amk_sftp_limits l;
    struct amk_sftp_statvfs sv;
    char path[400];
    uint8_t h[256], h2[256];
    size_t hl, hl2;
    struct stat st;
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "a", path, sizeof(path));
    write_file(path, "0123456789", 10);
    /* limits */
    put_ext_path(&t, 1, "limits@openssh.com", NULL, NULL);
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_EXTENDED_REPLY);
    ASSERT_OK(amk_sftp_dec_limits(rep.ext, rep.ext_len, &l));
    assert_int_equal(l.max_read, AMK_SFTPS_IO_MAX);
    assert_int_equal(l.max_write, AMK_SFTPS_IO_MAX);
    assert_int_equal(l.max_handles, AMK_SFTPS_HANDLES_DEFAULT);
    assert_true(l.max_packet >= AMK_SFTPS_IO_MAX + 1024);
    amk_sftp_reply_clear(&rep);
    /* statvfs */
    put_ext_path(&t, 2, "statvfs@openssh.com", "/", NULL);
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_EXTENDED_REPLY);
    ASSERT_OK(amk_sftp_dec_statvfs(rep.ext, rep.ext_len, &sv));
    assert_true(sv.bsize > 0);
    amk_sftp_reply_clear(&rep);
    /* hardlink */
    put_ext_path(&t, 3, "hardlink@openssh.com", "a", "b");
    expect_status(&t, 3, AMK_SSH_FX_OK);
    path_in(&t, t.root, "b", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_nlink, 2);
    /* expand-path and home-directory: the root is "/" */
    put_ext_path(&t, 4, "expand-path@openssh.com", "~/a", NULL);
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_NAME);
    assert_string_equal(rep.names[0].filename, "/a");
    amk_sftp_reply_clear(&rep);
    put_ext_path(&t, 5, "home-directory", "", NULL);
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_NAME);
    assert_string_equal(rep.names[0].filename, "/");
    amk_sftp_reply_clear(&rep);
    /* copy-data, fsync, fstatvfs */
    open_file(&t, 6, "a", AMK_SFTP_READ, h, &hl);
    open_file(&t, 7, "c", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    {
        struct amk_buf e;

        amk_buf_init(&e);
        ASSERT_OK(amk_buf_put_string(&e, h, hl));
        ASSERT_OK(amk_buf_put_u64(&e, 2));
        ASSERT_OK(amk_buf_put_u64(&e, 0));      /* to the end */
        ASSERT_OK(amk_buf_put_string(&e, h2, hl2));
        ASSERT_OK(amk_buf_put_u64(&e, 0));
        ASSERT_OK(amk_sftp_enc_extended(&t.req, 8, "copy-data", amk_buf_ptr(&e),
            amk_buf_len(&e)));
        amk_buf_reset(&e);
        ASSERT_OK(amk_buf_put_string(&e, h2, hl2));
        ASSERT_OK(amk_sftp_enc_extended(&t.req, 9, "fsync@openssh.com", amk_buf_ptr(&e),
            amk_buf_len(&e)));
        expect_status(&t, 8, AMK_SSH_FX_OK);
        take_reply(&t, &rep);
        assert_int_equal(rep.id, 9);
        assert_int_equal(rep.status, AMK_SSH_FX_OK);
        amk_sftp_reply_clear(&rep);
        ASSERT_OK(amk_sftp_enc_extended(&t.req, 10, "fstatvfs@openssh.com", amk_buf_ptr(&e),
            amk_buf_len(&e)));
        flush_req(&t);
        take_reply(&t, &rep);
        assert_int_equal(rep.type, AMK_SSH_FXP_EXTENDED_REPLY);
        assert_int_equal(rep.ext_len, 88);
        amk_sftp_reply_clear(&rep);
        amk_buf_release(&e);
    }
    path_in(&t, t.root, "c", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 8);
    /* users-groups-by-id: uid 0 is root, an unknown id is "" */
    {
        struct amk_buf e, ids, in;
        const uint8_t *p;
        size_t n;

        amk_buf_init(&e);
        amk_buf_init(&ids);
        ASSERT_OK(amk_buf_put_u32(&ids, 0));
        ASSERT_OK(amk_buf_put_u32(&ids, 0x7ffffff0u));
        ASSERT_OK(amk_buf_put_stringb(&e, &ids));
        ASSERT_OK(amk_buf_put_stringb(&e, &ids));
        ASSERT_OK(amk_sftp_enc_extended(&t.req, 11, "users-groups-by-id@openssh.com",
            amk_buf_ptr(&e), amk_buf_len(&e)));
        flush_req(&t);
        take_reply(&t, &rep);
        assert_int_equal(rep.type, AMK_SSH_FXP_EXTENDED_REPLY);
        amk_buf_view(&in, rep.ext, rep.ext_len);
        ASSERT_OK(amk_buf_get_string_direct(&in, &p, &n));
        assert_int_equal(n, 4 + 4 + 4 + 0);     /* "root", "" */
        assert_memory_equal(p + 4, "root", 4);
        amk_sftp_reply_clear(&rep);
        amk_buf_release(&e);
        amk_buf_release(&ids);
    }
    /* an unknown extension */
    put_ext_path(&t, 12, "nonesuch@example.com", "x", NULL);
    expect_status(&t, 12, AMK_SSH_FX_OP_UNSUPPORTED);
    srv_stop(&t);
}

static void
test_sftps_unknown_type_unsupported(void **state)
{
    struct srv t;
    size_t len;
    uint8_t *p;

    (void)state;
    srv_start(&t, 0, NULL);
    /* type 99 with id 0x1234 and junk after it */
    p = test_unhex("0000000a 63 00001234 0102030405", &len);
    ASSERT_OK(amk_buf_put(&t.req, p, len));
    free(p);
    expect_status(&t, 0x1234, AMK_SSH_FX_OP_UNSUPPORTED);
    /* a reply type sent to the server */
    p = test_unhex("00000009 65 00000077 00000000", &len);
    ASSERT_OK(amk_buf_put(&t.req, p, len));
    free(p);
    expect_status(&t, 0x77, AMK_SSH_FX_OP_UNSUPPORTED);
    srv_stop(&t);
}

/* Each malformed packet fails the engine with @p code. */
static void
expect_fatal(const char *hex, int code)
{
    struct srv t;
    size_t len, used;
    uint8_t *p;

    srv_start(&t, 0, NULL);
    p = test_unhex(hex, &len);
    ASSERT_AMK(code, amk_sftps_input(t.s, p, len, &used));
    assert_int_equal(amk_sftps_error(t.s), code);
    assert_string_not_equal(amk_sftps_last_error(t.s), "");
    free(p);
    srv_stop(&t);
}

static void
test_sftps_malformed_is_fatal(void **state)
{
    (void)state;
    /* length 0 */
    expect_fatal("00000000", AMK_EFORMAT);
    /* over the cap: refused on the length alone */
    expect_fatal("7fffffff 03", AMK_ETOOBIG);
    expect_fatal("00040401", AMK_ETOOBIG);
    /* STAT whose path string runs past the packet */
    expect_fatal("0000000b 11 00000001 000000ff 2f61", AMK_ETRUNCATED);
    /* STAT with trailing bytes */
    expect_fatal("0000000c 11 00000001 00000002 2f61 00", AMK_EFORMAT);
    /* NUL inside a path */
    expect_fatal("0000000b 11 00000001 00000002 2f00", AMK_EFORMAT);
    /* OPEN with unknown attribute flags */
    expect_fatal("00000013 03 00000001 00000002 2f61 00000001 00000100", AMK_EFORMAT);
    /* READ with a 257-byte handle */
    {
        char hex[2000];
        size_t o = 0;

        o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%08x 05 00000001 00000101",
            1 + 4 + 4 + 257 + 12);
        for (int i = 0; i < 257; i++)
            o += (size_t)snprintf(hex + o, sizeof(hex) - o, "41");
        snprintf(hex + o, sizeof(hex) - o, "0000000000000000 00000010");
        expect_fatal(hex, AMK_EFORMAT);
    }
    /* no id at all */
    expect_fatal("00000002 11 00", AMK_ETRUNCATED);
    /* malformed extension data */
    expect_fatal("00000023 c8 00000001 00000018 706f7369782d72656e616d65406f70656e7373682e636f6d"
        "0000", AMK_ETRUNCATED);
}

static void
test_sftps_byte_by_byte(void **state)
{
    struct amk_sftp_reply rep;
    struct srv t;
    size_t used;

    (void)state;
    srv_start(&t, 0, NULL);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 1, "."));
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REALPATH, 2, "."));
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 3, "nope"));
    for (size_t i = 0; i < amk_buf_len(&t.req); i++) {
        ASSERT_OK(amk_sftps_input(t.s, amk_buf_ptr(&t.req) + i, 1, &used));
        assert_int_equal(used, 1);
    }
    amk_buf_reset(&t.req);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 1);
    assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
    amk_sftp_reply_clear(&rep);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 2);
    assert_int_equal(rep.type, AMK_SSH_FXP_NAME);
    amk_sftp_reply_clear(&rep);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 3);
    assert_int_equal(rep.status, AMK_SSH_FX_NO_SUCH_FILE);
    amk_sftp_reply_clear(&rep);
    srv_stop(&t);
}

static void
test_sftps_back_pressure(void **state)
{
    struct amk_sftps_config cfg = { .out_max = 40000 };
    struct amk_sftp_reply rep;
    char path[400];
    uint8_t h[256], *data;
    size_t hl, used, total = 0, n = 200000, off = 0, olen;
    struct srv t;
    int replies = 0, paused = 0;

    (void)state;
    srv_start(&t, 1, &cfg);
    data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    path_in(&t, t.root, "f", path, sizeof(path));
    write_file(path, data, n);
    open_file(&t, 1, "f", AMK_SFTP_READ, h, &hl);
    for (uint32_t i = 0; i < 10; i++)
        ASSERT_OK(amk_sftp_enc_read(&t.req, 100 + i, h, hl, (uint64_t)i * 20000, 20000));
    while (off < amk_buf_len(&t.req)) {
        ASSERT_OK(amk_sftps_input(t.s, amk_buf_ptr(&t.req) + off, amk_buf_len(&t.req) - off,
            &used));
        off += used;
        (void)amk_sftps_output(t.s, &olen);
        /* the output stays bounded by out_max plus one reply */
        assert_true(olen <= cfg.out_max + AMK_SFTP_PACKET_MAX + 4);
        if (off < amk_buf_len(&t.req)) {
            assert_int_equal(amk_sftps_wants_output_room(t.s), 1);
            paused++;
        }
        while (amk_sftps_output(t.s, &olen) != NULL && olen > 0) {
            take_reply(&t, &rep);
            assert_int_equal(rep.type, AMK_SSH_FXP_DATA);
            assert_int_equal(rep.id, 100 + (uint32_t)replies);
            assert_memory_equal(rep.data, data + (size_t)replies * 20000, rep.data_len);
            total += rep.data_len;
            replies++;
            amk_sftp_reply_clear(&rep);
        }
    }
    amk_buf_reset(&t.req);
    assert_true(paused > 0);
    assert_int_equal(replies, 10);
    assert_int_equal(total, n);
    free(data);
    srv_stop(&t);
}

static void
test_sftps_handle_cap(void **state)
{
    struct amk_sftps_config cfg = { .max_handles = 2 };
    uint8_t h[256];
    size_t hl;
    struct srv t;

    (void)state;
    srv_start(&t, 1, &cfg);
    open_file(&t, 1, "a", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h, &hl);
    open_file(&t, 2, "b", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h, &hl);
    ASSERT_OK(amk_sftp_enc_open(&t.req, 3, "c", AMK_SFTP_WRITE | AMK_SFTP_CREAT, NULL));
    expect_status(&t, 3, AMK_SSH_FX_FAILURE);
    ASSERT_OK(amk_sftp_enc_handle(&t.req, AMK_SSH_FXP_CLOSE, 4, h, hl));
    expect_status(&t, 4, AMK_SSH_FX_OK);
    open_file(&t, 5, "c", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h, &hl);
    /* freeing the engine closes what is left open */
    srv_stop(&t);
}

static void
test_sftps_read_only(void **state)
{
    struct amk_sftps_config cfg = { .read_only = 1 };
    char path[400];
    uint8_t h[256];
    size_t hl;
    struct stat st;
    struct srv t;

    (void)state;
    srv_start(&t, 1, &cfg);
    path_in(&t, t.root, "a", path, sizeof(path));
    write_file(path, "abc", 3);
    ASSERT_OK(amk_sftp_enc_open(&t.req, 1, "a", AMK_SFTP_WRITE, NULL));
    expect_status(&t, 1, AMK_SSH_FX_PERMISSION_DENIED);
    ASSERT_OK(amk_sftp_enc_open(&t.req, 2, "n", AMK_SFTP_READ | AMK_SFTP_CREAT, NULL));
    expect_status(&t, 2, AMK_SSH_FX_PERMISSION_DENIED);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REMOVE, 3, "a"));
    expect_status(&t, 3, AMK_SSH_FX_PERMISSION_DENIED);
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_MKDIR, 4, "d", NULL));
    expect_status(&t, 4, AMK_SSH_FX_PERMISSION_DENIED);
    ASSERT_OK(amk_sftp_enc_rename(&t.req, 5, "a", "b"));
    expect_status(&t, 5, AMK_SSH_FX_PERMISSION_DENIED);
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 6, "l", "a", 1));
    expect_status(&t, 6, AMK_SSH_FX_PERMISSION_DENIED);
    put_ext_path(&t, 7, "hardlink@openssh.com", "a", "b");
    expect_status(&t, 7, AMK_SSH_FX_PERMISSION_DENIED);
    put_ext_path(&t, 8, "posix-rename@openssh.com", "a", "b");
    expect_status(&t, 8, AMK_SSH_FX_PERMISSION_DENIED);
    {
        struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_SIZE, .size = 0 };

        ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 9, "a", &a));
        expect_status(&t, 9, AMK_SSH_FX_PERMISSION_DENIED);
    }
    /* reading works */
    open_file(&t, 10, "a", AMK_SFTP_READ, h, &hl);
    ASSERT_OK(amk_sftp_enc_write(&t.req, 11, h, hl, 0, "x", 1));
    expect_status(&t, 11, AMK_SSH_FX_PERMISSION_DENIED);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3);
    srv_stop(&t);
}

static void
test_sftps_confined_escapes_refused(void **state)
{
    struct amk_sftp_reply rep;
    char path[400], target[400];
    struct stat st;
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    path_in(&t, t.out, "secret", path, sizeof(path));
    write_file(path, "s", 1);
    /* symlinks pointing out: absolute, relative, nested */
    path_in(&t, t.root, "abs", path, sizeof(path));
    assert_int_equal(symlink(t.out, path), 0);
    path_in(&t, t.root, "rel", path, sizeof(path));
    assert_int_equal(symlink("../out", path), 0);
    assert_int_equal(mkdir(t.root, 0755) == 0 || errno == EEXIST, 1);
    path_in(&t, t.root, "sub", path, sizeof(path));
    assert_int_equal(mkdir(path, 0755), 0);
    path_in(&t, t.root, "sub/up", path, sizeof(path));
    assert_int_equal(symlink("../../../../../../..", path), 0);
    {
        static const char *const escapes[] = { "../out/secret", "/../out/secret",
            "/../../../../../../../tmp", "abs/secret", "rel/secret", "sub/up/out/secret",
            "./sub/../../out/secret" };
        uint32_t id = 1;

        for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
            ASSERT_OK(amk_sftp_enc_open(&t.req, id, escapes[i], AMK_SFTP_READ, NULL));
            expect_status(&t, id, AMK_SSH_FX_NO_SUCH_FILE);
            id++;
        }
    }
    /* ".." at the root is the root: realpath answers "/" */
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REALPATH, 50, "/../.."));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_string_equal(rep.names[0].filename, "/");
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REALPATH, 51, "sub/up"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_string_equal(rep.names[0].filename, "/");
    amk_sftp_reply_clear(&rep);
    /* creating through a link that points out lands inside (or fails) */
    ASSERT_OK(amk_sftp_enc_open(&t.req, 52, "abs/new", AMK_SFTP_WRITE | AMK_SFTP_CREAT, NULL));
    expect_status(&t, 52, AMK_SSH_FX_NO_SUCH_FILE);
    ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_MKDIR, 53, "rel/newdir", NULL));
    expect_status(&t, 53, AMK_SSH_FX_NO_SUCH_FILE);
    /* rename and hardlink out of the root */
    path_in(&t, t.root, "in", path, sizeof(path));
    write_file(path, "i", 1);
    ASSERT_OK(amk_sftp_enc_rename(&t.req, 54, "in", "../out/moved"));
    flush_req(&t);
    take_reply(&t, &rep);
    amk_sftp_reply_clear(&rep);
    put_ext_path(&t, 55, "hardlink@openssh.com", "abs/secret", "stolen");
    expect_status(&t, 55, AMK_SSH_FX_NO_SUCH_FILE);
    put_ext_path(&t, 56, "hardlink@openssh.com", "in", "rel/planted");
    expect_status(&t, 56, AMK_SSH_FX_NO_SUCH_FILE);
    /* a symlink created inside is stored as given, and following it stays inside */
    ASSERT_OK(amk_sftp_enc_symlink(&t.req, 57, "mylink", "/../out/secret", 1));
    expect_status(&t, 57, AMK_SSH_FX_OK);
    ASSERT_OK(amk_sftp_enc_open(&t.req, 58, "mylink", AMK_SFTP_READ, NULL));
    expect_status(&t, 58, AMK_SSH_FX_NO_SUCH_FILE);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 59, "abs"));
    expect_status(&t, 59, AMK_SSH_FX_NO_SUCH_FILE);
    /* setstat through a link pointing out must not touch the outside file */
    {
        struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_PERMISSIONS, .permissions = 0777 };

        ASSERT_OK(amk_sftp_enc_path_attrs(&t.req, AMK_SSH_FXP_SETSTAT, 60, "abs/secret", &a));
        expect_status(&t, 60, AMK_SSH_FX_NO_SUCH_FILE);
    }
    /* nothing outside changed */
    path_in(&t, t.out, "secret", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(st.st_nlink, 1);
    path_in(&t, t.out, "moved", target, sizeof(target));
    assert_int_equal(stat(target, &st), -1);
    path_in(&t, t.out, "new", target, sizeof(target));
    assert_int_equal(stat(target, &st), -1);
    path_in(&t, t.out, "newdir", target, sizeof(target));
    assert_int_equal(stat(target, &st), -1);
    path_in(&t, t.out, "planted", target, sizeof(target));
    assert_int_equal(stat(target, &st), -1);
    srv_stop(&t);
}

static void
test_sftps_whole_packets_mode(void **state)
{
    struct amk_sftps_config cfg = { .whole_packets = 1 };
    struct amk_sftp_reply rep;
    struct srv t;
    size_t used, first;

    (void)state;
    srv_start(&t, 1, &cfg);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 1, "/"));
    first = amk_buf_len(&t.req);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 2, "/"));
    /* one packet and a half: the half is left to the caller */
    ASSERT_OK(amk_sftps_input(t.s, amk_buf_ptr(&t.req), first + 5, &used));
    assert_int_equal(used, first);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 1);
    amk_sftp_reply_clear(&rep);
    /* three bytes, not even a length: nothing taken */
    ASSERT_OK(amk_sftps_input(t.s, amk_buf_ptr(&t.req) + first, 3, &used));
    assert_int_equal(used, 0);
    ASSERT_OK(amk_sftps_input(t.s, amk_buf_ptr(&t.req) + first, amk_buf_len(&t.req) - first,
        &used));
    assert_int_equal(used, amk_buf_len(&t.req) - first);
    take_reply(&t, &rep);
    assert_int_equal(rep.id, 2);
    assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
    amk_sftp_reply_clear(&rep);
    amk_buf_reset(&t.req);
    srv_stop(&t);
}

/* A FIFO must not hang the server: opening and reading answer at once. */
static void
test_sftps_fifo_does_not_block(void **state)
{
    char path[400];
    uint8_t h[256];
    size_t hl;
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "fifo", path, sizeof(path));
    assert_int_equal(mkfifo(path, 0644), 0);
    ASSERT_OK(amk_sftp_enc_open(&t.req, 1, "fifo", AMK_SFTP_WRITE, NULL));
    expect_status(&t, 1, AMK_SSH_FX_FAILURE);       /* ENXIO: no reader */
    open_file(&t, 2, "fifo", AMK_SFTP_READ, h, &hl);
    ASSERT_OK(amk_sftp_enc_read(&t.req, 3, h, hl, 0, 100));
    expect_status(&t, 3, AMK_SSH_FX_FAILURE);       /* ESPIPE or EAGAIN */
    srv_stop(&t);
}

/* copy-data from a device with length 0 would never end: refused. */
static void
test_sftps_copy_data_from_device_refused(void **state)
{
    struct amk_buf e;
    uint8_t h[256], h2[256];
    size_t hl, hl2;
    struct srv t;

    (void)state;
    srv_start(&t, 0, NULL);
    open_file(&t, 1, "/dev/zero", AMK_SFTP_READ, h, &hl);
    open_file(&t, 2, "out", AMK_SFTP_WRITE | AMK_SFTP_CREAT, h2, &hl2);
    amk_buf_init(&e);
    ASSERT_OK(amk_buf_put_string(&e, h, hl));
    ASSERT_OK(amk_buf_put_u64(&e, 0));
    ASSERT_OK(amk_buf_put_u64(&e, 0));
    ASSERT_OK(amk_buf_put_string(&e, h2, hl2));
    ASSERT_OK(amk_buf_put_u64(&e, 0));
    ASSERT_OK(amk_sftp_enc_extended(&t.req, 3, "copy-data", amk_buf_ptr(&e), amk_buf_len(&e)));
    amk_buf_release(&e);
    expect_status(&t, 3, AMK_SSH_FX_FAILURE);
    srv_stop(&t);
}

/* A start directory inside the root: "." and relative paths mean it. */
static void
test_sftps_confined_start_dir(void **state)
{
    struct amk_sftp_reply rep;
    struct amk_sftp_version v;
    char path[400];
    const uint8_t *p;
    size_t len;
    struct srv t;

    (void)state;
    srv_start(&t, 1, NULL);
    path_in(&t, t.root, "home", path, sizeof(path));
    assert_int_equal(mkdir(path, 0755), 0);
    path_in(&t, t.root, "home/x", path, sizeof(path));
    write_file(path, "x", 1);
    amk_sftps_free(t.s);
    amk_sftp_fs_free(t.fs);
    ASSERT_OK(amk_sftp_fs_new(&t.fs, t.root, "/home", NULL, 0));
    ASSERT_OK(amk_sftps_new(&t.s, amk_sftp_fs_ops(), t.fs, NULL));
    ASSERT_OK(amk_sftp_enc_init(&t.req, 3));
    flush_req(&t);
    p = amk_sftps_output(t.s, &len);
    ASSERT_OK(amk_sftp_dec_version(p + 4, len - 4, &v));
    amk_sftp_version_clear(&v);
    ASSERT_OK(amk_sftps_output_consume(t.s, len));
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_REALPATH, 1, "."));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_string_equal(rep.names[0].filename, "/home");
    amk_sftp_reply_clear(&rep);
    ASSERT_OK(amk_sftp_enc_path(&t.req, AMK_SSH_FXP_STAT, 2, "x"));
    flush_req(&t);
    take_reply(&t, &rep);
    assert_int_equal(rep.type, AMK_SSH_FXP_ATTRS);
    assert_int_equal(rep.attrs.size, 1);
    amk_sftp_reply_clear(&rep);
    /* a start directory outside the root cannot be given */
    {
        struct amk_sftp_fs *fs2 = NULL;
        char err[200];

        ASSERT_AMK(AMK_EINVAL, amk_sftp_fs_new(&fs2, t.root, "/nonexistent", err, sizeof(err)));
        assert_non_null(strstr(err, "start directory"));
    }
    srv_stop(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftps_init_version_and_extensions),
        cmocka_unit_test(test_sftps_request_before_init_is_fatal),
        cmocka_unit_test(test_sftps_second_init_is_fatal),
        cmocka_unit_test(test_sftps_write_read_roundtrip),
        cmocka_unit_test(test_sftps_read_capped_at_limit),
        cmocka_unit_test(test_sftps_paths_and_errors),
        cmocka_unit_test(test_sftps_symlink_linkpath_first),
        cmocka_unit_test(test_sftps_readdir_batches),
        cmocka_unit_test(test_sftps_extensions),
        cmocka_unit_test(test_sftps_unknown_type_unsupported),
        cmocka_unit_test(test_sftps_malformed_is_fatal),
        cmocka_unit_test(test_sftps_byte_by_byte),
        cmocka_unit_test(test_sftps_back_pressure),
        cmocka_unit_test(test_sftps_whole_packets_mode),
        cmocka_unit_test(test_sftps_fifo_does_not_block),
        cmocka_unit_test(test_sftps_copy_data_from_device_refused),
        cmocka_unit_test(test_sftps_confined_start_dir),
        cmocka_unit_test(test_sftps_handle_cap),
        cmocka_unit_test(test_sftps_read_only),
        cmocka_unit_test(test_sftps_confined_escapes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
