/*
 * The field order of amk_sftp_symlink()'s SSH_FXP_SYMLINK
 * (src/client/sftp.c), which depends on the server's VERSION unless the
 * caller sets it (amk_sftp_set_symlink_order()):
 * draft-ietf-secsh-filexfer-02 §6.10 sends linkpath then targetpath,
 * OpenSSH's sftp-server reads them reversed (OpenSSH PROTOCOL §4.1). A
 * scripted server in memory answers INIT with the extensions of the
 * server it stands for and records the two strings of the SYMLINK. The
 * script speaks the wire format with its own minimal encoder
 * (sftp_wire.h, queues in sftp_script.h), independent of src/sftp.
 */
#include "test_helper.h"
#include "sftp_script.h"

struct ext {
    const char *name;
    const char *data;
    size_t len;                 /* of data; 0: strlen(data) */
};

struct script {
    const struct ext *ext;      /* VERSION's pairs, ended by a NULL name */
    struct sftp_script_io io;
    char first[64], second[64]; /* the SYMLINK's two strings */
};

static void
get_str(const uint8_t **b, char *out, size_t cap)
{
    uint32_t n = get32(*b);

    assert_true(n < cap);
    memcpy(out, *b + 4, n);
    out[n] = '\0';
    *b += 4 + n;
}

/* One request: INIT gets VERSION 3 with sc->ext, SYMLINK is recorded
 * and gets OK, anything else OP_UNSUPPORTED. */
static void
serve(void *user, const uint8_t *b)
{
    struct script *sc = user;
    uint8_t p[SFTP_SCRIPT_IO_CAP];
    size_t n = 0;

    if (b[0] == 1) {
        p[4 + n++] = 2;
        n += put32(p + 4 + n, 3);
        for (const struct ext *e = sc->ext; e->name != NULL; e++) {
            size_t dlen = e->len != 0 ? e->len : strlen(e->data);

            n += put_str(p + 4 + n, e->name);
            n += put32(p + 4 + n, (uint32_t)dlen);
            memcpy(p + 4 + n, e->data, dlen);
            n += dlen;
        }
        sftp_script_emit(&sc->io, p, n);
        return;
    }
    if (b[0] == 20) {
        const uint8_t *f = b + 5;

        get_str(&f, sc->first, sizeof(sc->first));
        get_str(&f, sc->second, sizeof(sc->second));
    }
    p[4 + n++] = 101;
    n += put32(p + 4 + n, get32(b + 1));
    n += put32(p + 4 + n, b[0] == 20 ? 0 : 8);
    n += put_str(p + 4 + n, "");
    n += put_str(p + 4 + n, "");
    sftp_script_emit(&sc->io, p, n);
}

static ssize_t
sc_write(void *user, const void *buf, size_t len)
{
    struct script *sc = user;

    sftp_script_take(&sc->io, buf, len, serve, sc);
    return (ssize_t)len;
}

static ssize_t
sc_read(void *user, void *buf, size_t len)
{
    struct script *sc = user;

    return sftp_script_give(&sc->io, buf, len);
}

#define ORDER_UNSET (-1)

/* amk_sftp_symlink(target "t", link "l") against a server offering
 * @p ext, after amk_sftp_set_symlink_order(@p order) (ORDER_UNSET: none,
 * the default); the SYMLINK's first field is checked against @p first. */
static void
check_order_set(const struct ext *ext, int order, const char *first)
{
    struct script *sc = calloc(1, sizeof(*sc));
    struct amk_sftp *s = NULL;

    assert_non_null(sc);
    sc->ext = ext;
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    if (order != ORDER_UNSET)
        ASSERT_OK(amk_sftp_set_symlink_order(s, (enum amk_sftp_symlink_order)order));
    ASSERT_OK(amk_sftp_symlink(s, "t", "l"));
    assert_string_equal(sc->first, first);
    assert_string_equal(sc->second, strcmp(first, "t") == 0 ? "l" : "t");
    amk_sftp_free(s);
    free(sc);
}

static void
check_order(const struct ext *ext, const char *first)
{
    check_order_set(ext, ORDER_UNSET, first);
}

/* OpenSSH's sftp-server: its extensions and no vendor-id. */
static const struct ext EXT_OPENSSH[] = {
    { "posix-rename@openssh.com", "1", 0 }, { "hardlink@openssh.com", "1", 0 }, { NULL, NULL, 0 },
};
/* AsyncSSH's server (2.10): OpenSSH's extensions beside newline and
 * vendor-id (its data abridged). */
static const struct ext EXT_ASYNCSSH[] = {
    { "newline", "\n", 0 }, { "vendor-id", "AsyncSSH", 0 },
    { "posix-rename@openssh.com", "1", 0 }, { "hardlink@openssh.com", "1", 0 },
    { "fsync@openssh.com", "1", 0 }, { NULL, NULL, 0 },
};
/* ProFTPD 1.3.8's mod_sftp with "SFTPExtensions +vendorID": a whole
 * vendor-id (vendor, product, version, build) beside OpenSSH's
 * extensions; it reads SYMLINK target first from every client. */
#define PROFTPD_VENDOR_ID "\0\0\0\x0f" "ProFTPD Project\0\0\0\x08mod_sftp\0\0\0\x05" \
    "1.3.8\0\0\0\0\0\0\0\0"
static const struct ext EXT_PROFTPD_VENDOR_ID[] = {
    { "vendor-id", PROFTPD_VENDOR_ID, sizeof(PROFTPD_VENDOR_ID) - 1 },
    { "posix-rename@openssh.com", "1", 0 }, { "statvfs@openssh.com", "2", 0 }, { NULL, NULL, 0 },
};
/* Another product's whole vendor-id: the draft's order. */
#define OTHER_VENDOR_ID "\0\0\0\x04" "Acme\0\0\0\x09mod_sftpx\0\0\0\x01" "1\0\0\0\0\0\0\0\0"
static const struct ext EXT_OTHER_VENDOR_ID[] = {
    { "vendor-id", OTHER_VENDOR_ID, sizeof(OTHER_VENDOR_ID) - 1 },
    { "posix-rename@openssh.com", "1", 0 }, { NULL, NULL, 0 },
};
/* A server offering no OpenSSH extension, as Paramiko's offers none. */
static const struct ext EXT_NONE[] = { { "check-file", "md5,sha1", 0 }, { NULL, NULL, 0 } };

/* OpenSSH's sftp-server gets target first. */
static void
test_sftp_symlink_openssh_order(void **state)
{
    (void)state;
    check_order(EXT_OPENSSH, "t");
}

/* AsyncSSH's server takes the draft's order from clients other than
 * OpenSSH's and Paramiko's. Before the fix amiko sent target first and
 * AsyncSSH made the link at the target's name. */
static void
test_sftp_symlink_vendor_id_draft_order(void **state)
{
    (void)state;
    check_order(EXT_ASYNCSSH, "l");
}

/* ProFTPD's vendor-id keeps OpenSSH's order: before the fix amiko sent
 * the draft's and ProFTPD made the link at the target's name. */
static void
test_sftp_symlink_proftpd_vendor_id(void **state)
{
    (void)state;
    check_order(EXT_PROFTPD_VENDOR_ID, "t");
    check_order(EXT_OTHER_VENDOR_ID, "l");
}

/* A server offering no OpenSSH extension gets the draft's order. */
static void
test_sftp_symlink_draft_order(void **state)
{
    (void)state;
    check_order(EXT_NONE, "l");
}

/* amk_sftp_set_symlink_order(): AUTO is the default's order for each
 * server; TARGET_FIRST and LINK_FIRST put that field first whatever the
 * server shows (a caller over amk_sftp_new_io() that knows its peer is
 * Paramiko's, which offers nothing that says so, gets target first). */
static void
test_sftp_symlink_order_set(void **state)
{
    static const struct {
        const struct ext *ext;
        const char *auto_first;
    } servers[] = { { EXT_OPENSSH, "t" }, { EXT_ASYNCSSH, "l" }, { EXT_NONE, "l" } };

    (void)state;
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
        check_order_set(servers[i].ext, AMK_SFTP_SYMLINK_AUTO, servers[i].auto_first);
        check_order_set(servers[i].ext, AMK_SFTP_SYMLINK_TARGET_FIRST, "t");
        check_order_set(servers[i].ext, AMK_SFTP_SYMLINK_LINK_FIRST, "l");
    }
}

/* Set back to AUTO after forcing, the server's order again; a value that
 * is no order, or no ::amk_sftp, is AMK_EINVAL and changes nothing. */
static void
test_sftp_symlink_order_set_invalid(void **state)
{
    struct script *sc = calloc(1, sizeof(*sc));
    struct amk_sftp *s = NULL;

    (void)state;
    assert_non_null(sc);
    sc->ext = EXT_OPENSSH;
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_set_symlink_order(NULL, AMK_SFTP_SYMLINK_LINK_FIRST));
    ASSERT_OK(amk_sftp_set_symlink_order(s, AMK_SFTP_SYMLINK_LINK_FIRST));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_set_symlink_order(s, (enum amk_sftp_symlink_order)3));
    ASSERT_OK(amk_sftp_symlink(s, "t", "l"));
    assert_string_equal(sc->first, "l");
    ASSERT_OK(amk_sftp_set_symlink_order(s, AMK_SFTP_SYMLINK_AUTO));
    ASSERT_OK(amk_sftp_symlink(s, "t", "l"));
    assert_string_equal(sc->first, "t");
    amk_sftp_free(s);
    free(sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_symlink_openssh_order),
        cmocka_unit_test(test_sftp_symlink_vendor_id_draft_order),
        cmocka_unit_test(test_sftp_symlink_proftpd_vendor_id),
        cmocka_unit_test(test_sftp_symlink_draft_order),
        cmocka_unit_test(test_sftp_symlink_order_set),
        cmocka_unit_test(test_sftp_symlink_order_set_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
