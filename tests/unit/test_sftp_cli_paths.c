/*
 * amiko sftp's path helpers (tools/amiko/sftp_words.c sftp_abs_path,
 * tools/amiko/xfer/paths.c xfer_glob_remote) with a working directory
 * the server made empty: REALPATH answered "" (nothing in the protocol
 * forbids it), so the tool's cwd is "". Neither may read the byte before
 * it. The scripted server speaks the wire format with its own minimal
 * encoder (sftp_wire.h, queues in sftp_script.h).
 */
#include "test_helper.h"
#include "sftp_script.h"

#include "sftp_sh.h"
#include "xfer/paths.h"

struct script {
    struct sftp_script_io io;
    int readdirs;
};

/* INIT: VERSION 3; OPENDIR: a handle; the first READDIR: one name with a
 * '/' in it ("a/b"), then EOF; anything else (CLOSE): OK. */
static void
serve(void *user, const uint8_t *b)
{
    struct script *sc = user;
    uint8_t p[SFTP_SCRIPT_IO_CAP];
    size_t n = 0;
    uint32_t id = get32(b + 1);

    if (b[0] == 1) {
        p[4 + n++] = 2;
        n += put32(p + 4 + n, 3);
    } else if (b[0] == 11) {
        p[4 + n++] = 102;
        n += put32(p + 4 + n, id);
        n += put_str(p + 4 + n, "h");
    } else if (b[0] == 12 && sc->readdirs++ == 0) {
        p[4 + n++] = 104;
        n += put32(p + 4 + n, id);
        n += put32(p + 4 + n, 1);
        n += put_str(p + 4 + n, "a/b");
        n += put_str(p + 4 + n, "a/b");
        n += put32(p + 4 + n, 0);      /* no attributes */
    } else {
        p[4 + n++] = 101;
        n += put32(p + 4 + n, id);
        n += put32(p + 4 + n, b[0] == 12 ? 1 : 0);     /* EOF, or OK */
        n += put_str(p + 4 + n, "");
        n += put_str(p + 4 + n, "");
    }
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

/* An empty cwd joins as OpenSSH's path_append does ("" and "x" give "x"),
 * without looking before it. The byte before it here is not a '/': read,
 * it would make "/x". */
static void
test_abs_path_of_an_empty_cwd(void **state)
{
    char before_cwd[2] = { 'a', '\0' };
    char *p;
    (void)state;

    p = sftp_abs_path(before_cwd + 1, "x");
    assert_non_null(p);
    assert_string_equal(p, "x");
    free(p);
    p = sftp_abs_path("/d", "x");
    assert_non_null(p);
    assert_string_equal(p, "/d/x");
    free(p);
    p = sftp_abs_path("/d/", "x");
    assert_non_null(p);
    assert_string_equal(p, "/d/x");
    free(p);
}

/* A wildcard in an empty cwd whose listing holds a suspect name: the
 * name is skipped with its message, and the message's directory is
 * built without reading before the (heap) copy of "". */
static void
test_glob_suspect_name_in_an_empty_cwd(void **state)
{
    struct script *sc = calloc(1, sizeof(*sc));
    struct amk_sftp *s = NULL;
    struct xfer_paths out;
    char err[256];
    (void)state;

    assert_non_null(sc);
    memset(&out, 0, sizeof(out));
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    assert_int_equal(xfer_glob_remote(s, "*", "", XFER_GLOB_SKIP_SUSPECT, "", &out, err,
        sizeof(err)), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(sc->readdirs, 2);
    xfer_paths_free(&out);
    amk_sftp_free(s);
    free(sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abs_path_of_an_empty_cwd),
        cmocka_unit_test(test_glob_suspect_name_in_an_empty_cwd),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
