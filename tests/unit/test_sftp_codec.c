/*
 * SFTP v3 codec (src/sftp/sftp_codec.c): every request against exact
 * bytes built by hand from draft-ietf-secsh-filexfer-02 §4-§8 and OpenSSH
 * PROTOCOL §4 (SYMLINK order, extension replies), every reply type
 * decoded, and malformed replies refused.
 */
#include "test_helper.h"

#include "sftp/sftp_codec.h"
#include "util/buf.h"

#define ENC(hex, call) do { \
        struct amk_buf b_; \
        amk_buf_init(&b_); \
        ASSERT_OK(call); \
        ASSERT_HEX(hex, amk_buf_ptr(&b_), amk_buf_len(&b_)); \
        amk_buf_release(&b_); \
    } while (0)

static const uint8_t H1[] = { 'h', '1' };

static void
test_sftp_enc_init(void **state)
{
    (void)state;
    ENC("00000005 01 00000003", amk_sftp_enc_init(&b_, 3));
}

static void
test_sftp_enc_open(void **state)
{
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_PERMISSIONS, .permissions = 0644 };
    (void)state;
    ENC("00000017 03 00000001 00000002 2f61 0000001a 00000004 000001a4",
        amk_sftp_enc_open(&b_, 1, "/a", AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, &a));
    /* no attrs: flags 0 */
    ENC("00000013 03 00000001 00000002 2f61 00000001 00000000",
        amk_sftp_enc_open(&b_, 1, "/a", AMK_SFTP_READ, NULL));
}

static void
test_sftp_enc_handle_requests(void **state)
{
    (void)state;
    ENC("0000000b 04 00000002 00000002 6831", amk_sftp_enc_handle(&b_, AMK_SSH_FXP_CLOSE, 2, H1, 2));
    ENC("0000000b 08 00000006 00000002 6831", amk_sftp_enc_handle(&b_, AMK_SSH_FXP_FSTAT, 6, H1, 2));
    ENC("0000000b 0c 0000000a 00000002 6831",
        amk_sftp_enc_handle(&b_, AMK_SSH_FXP_READDIR, 10, H1, 2));
}

static void
test_sftp_enc_read_write(void **state)
{
    (void)state;
    ENC("00000017 05 00000003 00000002 6831 0000000100000000 00008000",
        amk_sftp_enc_read(&b_, 3, H1, 2, 0x100000000ull, 32768));
    ENC("0000001a 06 00000004 00000002 6831 0000000000000005 00000003 78797a",
        amk_sftp_enc_write(&b_, 4, H1, 2, 5, "xyz", 3));
}

static void
test_sftp_enc_path_requests(void **state)
{
    (void)state;
    ENC("0000000b 07 00000005 00000002 2f61", amk_sftp_enc_path(&b_, AMK_SSH_FXP_LSTAT, 5, "/a"));
    ENC("0000000b 0b 00000009 00000002 2f64", amk_sftp_enc_path(&b_, AMK_SSH_FXP_OPENDIR, 9, "/d"));
    ENC("0000000b 0d 0000000b 00000002 2f61", amk_sftp_enc_path(&b_, AMK_SSH_FXP_REMOVE, 11, "/a"));
    ENC("0000000b 0f 0000000d 00000002 2f64", amk_sftp_enc_path(&b_, AMK_SSH_FXP_RMDIR, 13, "/d"));
    ENC("0000000a 10 0000000e 00000001 2e", amk_sftp_enc_path(&b_, AMK_SSH_FXP_REALPATH, 14, "."));
    ENC("0000000b 11 0000000f 00000002 2f61", amk_sftp_enc_path(&b_, AMK_SSH_FXP_STAT, 15, "/a"));
    ENC("0000000b 13 00000011 00000002 2f6c", amk_sftp_enc_path(&b_, AMK_SSH_FXP_READLINK, 17, "/l"));
}

static void
test_sftp_enc_setstat_all_flags(void **state)
{
    struct amk_sftp_attrs a = {
        .flags = AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_UIDGID | AMK_SFTP_ATTR_PERMISSIONS |
            AMK_SFTP_ATTR_ACMODTIME,
        .size = 10, .uid = 1, .gid = 2, .permissions = 0755, .atime = 3, .mtime = 4,
    };
    struct amk_sftp_attrs p = { .flags = AMK_SFTP_ATTR_PERMISSIONS, .permissions = 0600 };
    (void)state;
    ENC("0000002b 09 00000007 00000002 2f61 0000000f 000000000000000a 00000001 00000002"
        " 000001ed 00000003 00000004",
        amk_sftp_enc_path_attrs(&b_, AMK_SSH_FXP_SETSTAT, 7, "/a", &a));
    ENC("00000013 0a 00000008 00000002 6831 00000004 00000180",
        amk_sftp_enc_fsetstat(&b_, 8, H1, 2, &p));
    ENC("0000000f 0e 0000000c 00000002 2f64 00000000",
        amk_sftp_enc_path_attrs(&b_, AMK_SSH_FXP_MKDIR, 12, "/d", NULL));
}

static void
test_sftp_enc_rename_symlink(void **state)
{
    (void)state;
    ENC("00000011 12 00000010 00000002 2f61 00000002 2f62", amk_sftp_enc_rename(&b_, 16, "/a", "/b"));
    /* OpenSSH PROTOCOL §4.1: target first */
    ENC("00000011 14 00000012 00000002 2f74 00000002 2f6c",
        amk_sftp_enc_symlink(&b_, 18, "/l", "/t", 1));
    /* draft-02 §6.10: linkpath first */
    ENC("00000011 14 00000012 00000002 2f6c 00000002 2f74",
        amk_sftp_enc_symlink(&b_, 18, "/l", "/t", 0));
}

static void
test_sftp_enc_extended(void **state)
{
    (void)state;
    ENC("0000001b c8 00000013 00000012 6c696d697473406f70656e7373682e636f6d",
        amk_sftp_enc_extended(&b_, 19, "limits@openssh.com", NULL, 0));
    ENC("00000012 c8 00000001 00000005 612e622e63 01020304",
        amk_sftp_enc_extended(&b_, 1, "a.b.c", (const uint8_t *)"\1\2\3\4", 4));
}

static void
test_sftp_enc_bad_arguments(void **state)
{
    struct amk_buf b;
    uint8_t big[AMK_SFTP_HANDLE_MAX + 1] = { 0 };
    (void)state;
    amk_buf_init(&b);
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_path(&b, AMK_SSH_FXP_OPEN, 1, "/a"));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_path(&b, AMK_SSH_FXP_STAT, 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_handle(&b, AMK_SSH_FXP_CLOSE, 1, big, sizeof(big)));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_handle(&b, AMK_SSH_FXP_CLOSE, 1, H1, 0));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_handle(&b, AMK_SSH_FXP_STAT, 1, H1, 2));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_read(&b, 1, big, sizeof(big), 0, 1));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_write(&b, 1, H1, 2, 0, NULL, 3));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_rename(&b, 1, "/a", NULL));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_enc_extended(&b, 1, NULL, NULL, 0));
    /* nothing half-written is left behind */
    assert_int_equal(amk_buf_len(&b), 0);
    amk_buf_release(&b);
}

static void
test_sftp_enc_write_too_big(void **state)
{
    struct amk_buf b;
    uint8_t *data = calloc(1, AMK_SFTP_PACKET_MAX);
    (void)state;
    assert_non_null(data);
    amk_buf_init(&b);
    ASSERT_AMK(AMK_ETOOBIG, amk_sftp_enc_write(&b, 1, H1, 2, 0, data, AMK_SFTP_PACKET_MAX));
    assert_int_equal(amk_buf_len(&b), 0);
    amk_buf_release(&b);
    free(data);
}

/* Decodes a reply given in hex. */
static int
dec(const char *hex, struct amk_sftp_reply *r)
{
    size_t len;
    uint8_t *p = test_unhex(hex, &len);
    int rc = amk_sftp_dec_reply(p, len, r);
    free(p);
    return rc;
}

static void
test_sftp_dec_version_extensions(void **state)
{
    struct amk_sftp_version v;
    size_t len;
    uint8_t *p = test_unhex("02 00000003 00000018 706f7369782d72656e616d65406f70656e7373682e636f6d"
        " 00000001 31 00000001 78 00000000", &len);
    (void)state;
    ASSERT_OK(amk_sftp_dec_version(p, len, &v));
    assert_int_equal(v.version, 3);
    assert_int_equal(v.n_ext, 2);
    assert_string_equal(v.ext[0].name, "posix-rename@openssh.com");
    assert_int_equal(v.ext[0].data_len, 1);
    assert_int_equal(v.ext[0].data[0], '1');
    assert_string_equal(v.ext[1].name, "x");
    assert_int_equal(v.ext[1].data_len, 0);
    amk_sftp_version_clear(&v);
    free(p);
}

static void
test_sftp_dec_version_malformed(void **state)
{
    struct amk_sftp_version v;
    size_t len;
    uint8_t *p;
    (void)state;
    p = test_unhex("02 000000", &len);
    ASSERT_AMK(AMK_ETRUNCATED, amk_sftp_dec_version(p, len, &v));
    free(p);
    p = test_unhex("02 00000003 00000001 78", &len);       /* name without data */
    ASSERT_AMK(AMK_ETRUNCATED, amk_sftp_dec_version(p, len, &v));
    free(p);
    p = test_unhex("65 00000003", &len);                   /* not VERSION */
    ASSERT_AMK(AMK_EPROTO, amk_sftp_dec_version(p, len, &v));
    free(p);
    p = test_unhex("02 00000003 ffffffff", &len);          /* huge name length */
    ASSERT_AMK(AMK_ETRUNCATED, amk_sftp_dec_version(p, len, &v));
    free(p);
}

static void
test_sftp_dec_status(void **state)
{
    struct amk_sftp_reply r;
    (void)state;
    ASSERT_OK(dec("65 00000001 00000002 0000000c 4e6f20737563682066696c65 00000002 656e", &r));
    assert_int_equal(r.type, AMK_SSH_FXP_STATUS);
    assert_int_equal(r.id, 1);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.message, "No such file");
    assert_string_equal(r.lang, "en");
    assert_int_equal(amk_sftp_status_to_err(r.status), AMK_ENOENT);
    amk_sftp_reply_clear(&r);
    /* old servers send the code only */
    ASSERT_OK(dec("65 00000009 00000000", &r));
    assert_null(r.message);
    amk_sftp_reply_clear(&r);
    /* control characters in the message are neutralised */
    ASSERT_OK(dec("65 00000001 00000004 00000003 1b5b41 00000000", &r));
    assert_string_equal(r.message, "?[A");
    amk_sftp_reply_clear(&r);
}

static void
test_sftp_dec_handle_data(void **state)
{
    struct amk_sftp_reply r;
    (void)state;
    ASSERT_OK(dec("66 00000001 00000002 6831", &r));
    assert_int_equal(r.handle_len, 2);
    assert_memory_equal(r.handle, "h1", 2);
    amk_sftp_reply_clear(&r);
    ASSERT_OK(dec("67 00000007 00000003 616263", &r));
    assert_int_equal(r.id, 7);
    assert_int_equal(r.data_len, 3);
    assert_memory_equal(r.data, "abc", 3);
    amk_sftp_reply_clear(&r);
    ASSERT_OK(dec("67 00000007 00000000", &r));
    assert_int_equal(r.data_len, 0);
    amk_sftp_reply_clear(&r);
}

static void
test_sftp_dec_name_attrs(void **state)
{
    struct amk_sftp_reply r;
    (void)state;
    ASSERT_OK(dec("68 00000001 00000002"
        " 00000001 61 00000003 6c2061 00000001 0000000000000005"
        " 00000001 62 00000000 0000000c 000001a4 00000003 00000004", &r));
    assert_int_equal(r.count, 2);
    assert_string_equal(r.names[0].filename, "a");
    assert_string_equal(r.names[0].longname, "l a");
    assert_int_equal(r.names[0].attrs.flags, AMK_SFTP_ATTR_SIZE);
    assert_int_equal(r.names[0].attrs.size, 5);
    assert_string_equal(r.names[1].filename, "b");
    assert_int_equal(r.names[1].attrs.permissions, 0644);
    assert_int_equal(r.names[1].attrs.mtime, 4);
    amk_sftp_reply_clear(&r);
    ASSERT_OK(dec("69 00000001 0000000f 0000000000000010 000003e8 000003e9 000081a4"
        " 00000003 00000004", &r));
    assert_int_equal(r.attrs.size, 16);
    assert_int_equal(r.attrs.uid, 1000);
    assert_int_equal(r.attrs.gid, 1001);
    assert_int_equal(r.attrs.permissions, 0100644);
    assert_int_equal(r.attrs.atime, 3);
    amk_sftp_reply_clear(&r);
}

static void
test_sftp_dec_attrs_extended(void **state)
{
    struct amk_sftp_reply r;
    struct amk_sftp_attrs a;
    struct amk_sftp_ext_pair *ext = NULL;
    struct amk_buf b;
    size_t n, len;
    uint8_t *p;
    (void)state;
    ASSERT_OK(dec("69 00000001 80000000 00000001 00000003 614062 00000002 7879", &r));
    assert_int_equal(r.attrs.extended_count, 1);
    amk_sftp_reply_clear(&r);
    p = test_unhex("80000004 000001ff 00000002 00000001 61 00000000 00000001 62 00000001 63", &len);
    amk_buf_view(&b, p, len);
    ASSERT_OK(amk_sftp_dec_attrs(&b, &a, &ext, &n));
    ASSERT_OK(amk_buf_get_end(&b));
    assert_int_equal(n, 2);
    assert_int_equal(a.permissions, 0777);
    assert_string_equal(ext[0].name, "a");
    assert_int_equal(ext[0].data_len, 0);
    assert_string_equal(ext[1].name, "b");
    assert_memory_equal(ext[1].data, "c", 1);
    amk_sftp_ext_pairs_free(ext, n);
    free(p);
}

static void
test_sftp_dec_extended_reply(void **state)
{
    struct amk_sftp_reply r;
    struct amk_sftp_limits l;
    struct amk_sftp_statvfs st;
    size_t len;
    uint8_t *p;
    (void)state;
    ASSERT_OK(dec("c9 00000001 0102", &r));
    assert_int_equal(r.ext_len, 2);
    amk_sftp_reply_clear(&r);
    p = test_unhex("0000000000040000 000000000003fc00 000000000003fc00 0000000000000000", &len);
    ASSERT_OK(amk_sftp_dec_limits(p, len, &l));
    assert_int_equal(l.max_packet, 262144);
    assert_int_equal(l.max_read, 261120);
    assert_int_equal(l.max_write, 261120);
    ASSERT_AMK(AMK_ETRUNCATED, amk_sftp_dec_limits(p, len - 1, &l));
    free(p);
    p = test_unhex("0000000000001000 0000000000001000 0000000000000064 0000000000000032"
        " 0000000000000030 0000000000000010 0000000000000008 0000000000000008"
        " 0000000000000001 0000000000000002 00000000000000ff", &len);
    ASSERT_OK(amk_sftp_dec_statvfs(p, len, &st));
    assert_int_equal(st.bsize, 4096);
    assert_int_equal(st.blocks, 100);
    assert_int_equal(st.namemax, 255);
    ASSERT_AMK(AMK_ETRUNCATED, amk_sftp_dec_statvfs(p, len - 8, &st));
    free(p);
}

static void
test_sftp_dec_truncated(void **state)
{
    static const char *const full[] = {
        "65 00000001 00000002 00000001 78 00000000",
        "66 00000001 00000002 6831",
        "67 00000001 00000003 616263",
        "68 00000001 00000001 00000001 61 00000000 00000000",
        "69 00000001 0000000f 0000000000000010 000003e8 000003e9 000081a4 00000003 00000004",
        "69 00000001 80000000 00000001 00000001 61 00000001 62",
    };
    struct amk_sftp_reply r;
    (void)state;
    for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
        size_t len;
        uint8_t *p = test_unhex(full[i], &len);
        ASSERT_OK(amk_sftp_dec_reply(p, len, &r));
        amk_sftp_reply_clear(&r);
        for (size_t cut = 0; cut < len; cut++) {
            int rc = amk_sftp_dec_reply(p, cut, &r);
            /* a STATUS cut right after its code is a valid short status */
            if (i == 0 && cut == 9) {
                ASSERT_OK(rc);
                amk_sftp_reply_clear(&r);
                continue;
            }
            if (rc != AMK_ETRUNCATED && rc != AMK_EFORMAT)
                fail_msg("reply %zu cut at %zu: %s", i, cut, amk_errname(rc));
            assert_int_equal(r.type, 0);
            assert_null(r.names);
        }
        free(p);
    }
}

static void
test_sftp_dec_malformed(void **state)
{
    struct amk_sftp_reply r;
    char hex[2048];
    (void)state;
    /* count larger than the packet can hold */
    ASSERT_AMK(AMK_EFORMAT, dec("68 00000001 7fffffff 00000001 61 00000000 00000000", &r));
    ASSERT_AMK(AMK_EFORMAT, dec("68 00000001 00000002 00000001 61 00000000 00000000", &r));
    /* huge string lengths */
    ASSERT_AMK(AMK_ETRUNCATED, dec("67 00000001 ffffffff 61", &r));
    ASSERT_AMK(AMK_ETRUNCATED, dec("66 00000001 fffffff0", &r));
    /* handle over 256 bytes, and empty */
    snprintf(hex, sizeof(hex), "66 00000001 00000101");
    for (int i = 0; i < 257; i++)
        strcat(hex, "41");
    ASSERT_AMK(AMK_ETOOBIG, dec(hex, &r));
    ASSERT_AMK(AMK_EFORMAT, dec("66 00000001 00000000", &r));
    /* unknown attribute flag */
    ASSERT_AMK(AMK_EFORMAT, dec("69 00000001 00000010 00000000", &r));
    /* extended count beyond the packet */
    ASSERT_AMK(AMK_EFORMAT, dec("69 00000001 80000000 ffffffff", &r));
    /* trailing data */
    ASSERT_AMK(AMK_EFORMAT, dec("66 00000001 00000002 6831 00", &r));
    ASSERT_AMK(AMK_EFORMAT, dec("69 00000001 00000000 00", &r));
    /* NUL inside a filename */
    ASSERT_AMK(AMK_EFORMAT, dec("68 00000001 00000001 00000002 6100 00000000 00000000", &r));
    /* request types and unknown types are not replies */
    ASSERT_AMK(AMK_EPROTO, dec("03 00000001", &r));
    ASSERT_AMK(AMK_EPROTO, dec("02 00000003", &r));
    ASSERT_AMK(AMK_EPROTO, dec("ff 00000001", &r));
    ASSERT_AMK(AMK_ETRUNCATED, dec("", &r));
}

static void
test_sftp_status_to_err_every_code(void **state)
{
    (void)state;
    assert_int_equal(amk_sftp_status_to_err(0), AMK_OK);
    assert_int_equal(amk_sftp_status_to_err(1), AMK_ECLOSED);
    assert_int_equal(amk_sftp_status_to_err(2), AMK_ENOENT);
    assert_int_equal(amk_sftp_status_to_err(3), AMK_EACCES);
    assert_int_equal(amk_sftp_status_to_err(4), AMK_EREMOTE);
    assert_int_equal(amk_sftp_status_to_err(5), AMK_EREMOTE);   /* BAD_MESSAGE: a refusal, not fatal */
    assert_int_equal(amk_sftp_status_to_err(6), AMK_ECLOSED);
    assert_int_equal(amk_sftp_status_to_err(7), AMK_ECLOSED);
    assert_int_equal(amk_sftp_status_to_err(8), AMK_ENOTSUP);
    assert_int_equal(amk_sftp_status_to_err(99), AMK_EREMOTE);
    assert_string_equal(amk_sftp_status_name(3), "SSH_FX_PERMISSION_DENIED");
    assert_string_equal(amk_sftp_status_name(99), "SSH_FX_(unknown)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_enc_init),
        cmocka_unit_test(test_sftp_enc_open),
        cmocka_unit_test(test_sftp_enc_handle_requests),
        cmocka_unit_test(test_sftp_enc_read_write),
        cmocka_unit_test(test_sftp_enc_path_requests),
        cmocka_unit_test(test_sftp_enc_setstat_all_flags),
        cmocka_unit_test(test_sftp_enc_rename_symlink),
        cmocka_unit_test(test_sftp_enc_extended),
        cmocka_unit_test(test_sftp_enc_bad_arguments),
        cmocka_unit_test(test_sftp_enc_write_too_big),
        cmocka_unit_test(test_sftp_dec_version_extensions),
        cmocka_unit_test(test_sftp_dec_version_malformed),
        cmocka_unit_test(test_sftp_dec_status),
        cmocka_unit_test(test_sftp_dec_handle_data),
        cmocka_unit_test(test_sftp_dec_name_attrs),
        cmocka_unit_test(test_sftp_dec_attrs_extended),
        cmocka_unit_test(test_sftp_dec_extended_reply),
        cmocka_unit_test(test_sftp_dec_truncated),
        cmocka_unit_test(test_sftp_dec_malformed),
        cmocka_unit_test(test_sftp_status_to_err_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
