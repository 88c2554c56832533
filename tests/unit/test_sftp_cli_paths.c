/*
 * amiko sftp's path helpers (tools/amiko/sftp_words.c sftp_abs_path,
 * tools/amiko/xfer/paths.c xfer_glob_remote) with a working directory
 * the server made empty: REALPATH answered "" (nothing in the protocol
 * forbids it), so the tool's cwd is "". Neither may read the byte before
 * it. The scripted server speaks the wire format with its own minimal
 * encoder (sftp_wire.h).
 */
#include "test_helper.h"
#include "sftp_wire.h"

#include "sftp_sh.h"
#include "xfer/paths.h"

#define IO_CAP 4096

struct script {
    uint8_t in[IO_CAP];
    size_t in_len;
    uint8_t out[IO_CAP];
    size_t out_len;
    int readdirs;
};

static void
emit(struct script *sc, uint8_t *p, size_t n)
{
    put32(p, (uint32_t)n);
    assert_true(sc->out_len + 4 + n <= sizeof(sc->out));
    memcpy(sc->out + sc->out_len, p, 4 + n);
    sc->out_len += 4 + n;
}

/* INIT: VERSION 3; OPENDIR: a handle; the first READDIR: one name with a
 * '/' in it ("a/b"), then EOF; anything else (CLOSE): OK. */
static void
serve(struct script *sc, const uint8_t *b)
{
    uint8_t p[IO_CAP];
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
    emit(sc, p, n);
}

static ssize_t
sc_write(void *user, const void *buf, size_t len)
{
    struct script *sc = user;
    size_t off = 0;

    assert_true(sc->in_len + len <= sizeof(sc->in));
    memcpy(sc->in + sc->in_len, buf, len);
    sc->in_len += len;
    while (sc->in_len - off >= 4 && sc->in_len - off - 4 >= get32(sc->in + off)) {
        serve(sc, sc->in + off + 4);
        off += 4 + get32(sc->in + off);
    }
    memmove(sc->in, sc->in + off, sc->in_len - off);
    sc->in_len -= off;
    return (ssize_t)len;
}

static ssize_t
sc_read(void *user, void *buf, size_t len)
{
    struct script *sc = user;
    size_t n = sc->out_len < len ? sc->out_len : len;

    if (n == 0)
        fail_msg("the client waits for a reply the script never sends");
    memcpy(buf, sc->out, n);
    memmove(sc->out, sc->out + n, sc->out_len - n);
    sc->out_len -= n;
    return (ssize_t)n;
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
