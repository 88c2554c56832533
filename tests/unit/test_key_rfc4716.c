/*
 * Unit tests for src/keys/key_rfc4716.c: RFC 4716 public key files.
 * `ssh-keygen -e` output parses to the same key; what amiko writes is
 * accepted by `ssh-keygen -i`; headers, continuation lines and line ends
 * of RFC 4716 §3; malformed files give AMK_EFORMAT.
 */
#include "key_test_util.h"

#include "keys/key.h"
#include "keys/keyfile.h"

static const char *kg_args[] = {
    "-t ed25519", "-t ecdsa -b 256", "-t ecdsa -b 384", "-t ecdsa -b 521", "-t rsa -b 2048",
    "-t dsa",
};

#define NKEYS (sizeof(kg_args) / sizeof(kg_args[0]))

/* The Ed25519 key of RFC 8032 §7.1 TEST 1 as a blob in base64. */
#define ED_B64 "AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
#define BEGIN "---- BEGIN SSH2 PUBLIC KEY ----"
#define END "---- END SSH2 PUBLIC KEY ----"

static char *dir;

static int
setup_dir(void **state)
{
    dir = ktu_mkdtemp();
    for (size_t i = 0; i < NKEYS; i++)
        if (ktu_run(NULL, "ssh-keygen -q %s -N '' -C 'key %zu' -f %s/k%zu", kg_args[i], i, dir,
                i) != 0 ||
            ktu_run(NULL, "ssh-keygen -e -f %s/k%zu.pub > %s/k%zu.rfc", dir, i, dir, i) != 0)
            return -1;
    return 0;
}

static int
teardown_dir(void **state)
{
    ktu_rmdir(dir);
    dir = NULL;
    return 0;
}

static void
test_amk_rfc4716_parse_ssh_keygen_export(void **state)
{
    char path[4200];

    for (size_t i = 0; i < NKEYS; i++) {
        struct amk_key *k = NULL, *pub = NULL;
        snprintf(path, sizeof(path), "%s/k%zu.rfc", dir, i);
        ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
        snprintf(path, sizeof(path), "%s/k%zu.pub", dir, i);
        ASSERT_OK(amk_key_load_file(path, NULL, NULL, &pub));
        assert_true(amk_key_equal_public(k, pub));
        assert_false(amk_key_has_private(k));
        /* ssh-keygen writes Comment: "<bits>-bit <TYPE>, converted by ..." */
        assert_non_null(strstr(amk_key_comment(k), "-bit "));
        assert_non_null(strstr(amk_key_comment(k), ", converted by "));
        assert_null(strchr(amk_key_comment(k), '"'));
        amk_key_free(k);
        amk_key_free(pub);
    }
}

static void
test_amk_key_public_rfc4716_read_by_ssh_keygen(void **state)
{
    char path[4200];

    for (size_t i = 0; i < NKEYS; i++) {
        struct amk_key *k = NULL;
        char *text = NULL, *out = NULL, *line = NULL;
        FILE *f;
        snprintf(path, sizeof(path), "%s/k%zu", dir, i);
        ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
        /* A comment long enough to need a continuation line. */
        ASSERT_OK(amk_key_set_comment(k, i % 2 ? "short" :
            "a comment that is much longer than the seventy-two bytes a line may hold, "
            "so that it needs continuation lines"));
        ASSERT_OK(amk_key_public_rfc4716(k, &text));
        assert_memory_equal(text, BEGIN "\n", strlen(BEGIN) + 1);
        for (char *p = text; *p != '\0'; p = strchr(p, '\n') + 1)
            assert_true(strchr(p, '\n') - p <= 72);
        snprintf(path, sizeof(path), "%s/ours%zu.rfc", dir, i);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(ktu_run(&out, "ssh-keygen -i -f %s", path), 0);
        ASSERT_OK(amk_key_public_line(k, &line));
        /* ssh-keygen -i prints "type base64" without the comment. */
        assert_memory_equal(out, line, strlen(out) - 1);
        /* And it reads back with its comment. */
        {
            struct amk_key *back = NULL;
            ASSERT_OK(amk_key_load(text, strlen(text), NULL, NULL, &back));
            assert_true(amk_key_equal_public(k, back));
            assert_string_equal(amk_key_comment(back), amk_key_comment(k));
            amk_key_free(back);
        }
        free(line);
        free(out);
        free(text);
        amk_key_free(k);
    }
}

static void
test_amk_rfc4716_parse_headers(void **state)
{
    static const struct {
        const char *text;
        const char *comment;
    } cases[] = {
        /* RFC 4716 §3.3.2 quoted comment, §3.3 continuation, other headers skipped. */
        { BEGIN "\nComment: \"a \\\nb\"\nx-private: one\\\ntwo\n" ED_B64 "\n" END "\n", "a b" },
        { BEGIN "\nSubject: me\ncomment: plain value\n" ED_B64 "\n" END "\n", "plain value" },
        /* CRLF line ends, the body split over lines, no final newline. */
        { BEGIN "\r\nComment: crlf\r\nAAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08\r\n"
          "lkBzoO4XLz2qYjJa8CGmj3B1Ea\r\n" END, "crlf" },
        /* No headers; blank lines around. */
        { "\n\n" BEGIN "\n" ED_B64 "\n" END "\n\n", "" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct amk_key *k = NULL;
        ASSERT_OK(amk_key_load(cases[i].text, strlen(cases[i].text), NULL, NULL, &k));
        assert_string_equal(amk_key_comment(k), cases[i].comment);
        assert_string_equal(amk_key_type_name(k), "ssh-ed25519");
        amk_key_free(k);
    }
}

static void
test_amk_rfc4716_parse_bad(void **state)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        { BEGIN "\n" ED_B64 "\n", AMK_EFORMAT },                             /* no end line */
        { BEGIN "\n" END "\n", AMK_EFORMAT },                                 /* no body */
        { BEGIN "\n" ED_B64 "\n" END "\ntrailing\n", AMK_EFORMAT },
        { BEGIN "\nComment: \"open\\\n" END "\n", AMK_EFORMAT },              /* continued into the end */
        { BEGIN "\nComment:nospace\n" ED_B64 "\n" END "\n", AMK_EFORMAT },
        { BEGIN "\nBad Tag: x\n" ED_B64 "\n" END "\n", AMK_EFORMAT },         /* space in the tag */
        { BEGIN "\n" ED_B64 "\nComment: late\n" END "\n", AMK_EFORMAT },      /* header after the body */
        { BEGIN "\n" ED_B64 "*\n" END "\n", AMK_EFORMAT },                    /* bad base64 */
        { BEGIN "\nAAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1EaAAAA\n"
          END "\n", AMK_EFORMAT },                                            /* trailing data in the blob */
        { BEGIN "\nAAAAB3NzaC1yc2EAAAADAQABAAAAAA==\n" END "\n", AMK_EKEY },  /* empty RSA modulus */
        { BEGIN "\nAAAAB3Vua25vd24=\n" END "\n", AMK_ENOTSUP },               /* "unknown" type */
        { "---- BEGIN SSH2 PUBLIC KEY ---\n" ED_B64 "\n" END "\n", AMK_EFORMAT },
        /* A line over 72 bytes (§3). */
        { BEGIN "\nComment: 0123456789012345678901234567890123456789012345678901234567890123\n"
          ED_B64 "\n" END "\n", AMK_EFORMAT },
        /* A tag over 64 bytes (§3.3). */
        { BEGIN "\nx-0123456789012345678901234567890123456789012345678901234567890123: v\n"
          ED_B64 "\n" END "\n", AMK_EFORMAT },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct amk_key *k = NULL;
        int r = amk_rfc4716_parse(cases[i].text, strlen(cases[i].text), &k);
        if (r != cases[i].want)
            fail_msg("case %zu: %s, expected %s", i, amk_errname(r), amk_errname(cases[i].want));
        assert_null(k);
    }
}

static void
test_amk_rfc4716_parse_value_too_long(void **state)
{
    struct amk_buf *b = amk_buf_new();
    struct amk_key *k = NULL;

    /* §3.3: a header value is at most 1024 bytes, continuation lines included. */
    ASSERT_OK(amk_buf_put(b, BEGIN "\nComment: ", strlen(BEGIN) + 10));
    for (int i = 0; i < 20; i++)
        ASSERT_OK(amk_buf_put(b, "0123456789012345678901234567890123456789012345678901234567890\\\n",
            63));
    ASSERT_OK(amk_buf_put(b, "end\n" ED_B64 "\n" END "\n", 4 + strlen(ED_B64) + strlen(END) + 2));
    ASSERT_AMK(AMK_EFORMAT, amk_rfc4716_parse((const char *)amk_buf_ptr(b), amk_buf_len(b), &k));
    assert_null(k);
    amk_buf_free(b);
}

static void
test_amk_key_public_rfc4716_errors(void **state)
{
    struct amk_key *k = NULL;
    char *text = (char *)1;

    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    /* No comment: no header at all. */
    ASSERT_OK(amk_key_public_rfc4716(k, &text));
    assert_null(strstr(text, "Comment"));
    free(text);
    ASSERT_OK(amk_key_set_comment(k, "two\nlines"));
    ASSERT_AMK(AMK_EINVAL, amk_key_public_rfc4716(k, &text));
    assert_null(text);
    /* The longest comment that fits the 1024-byte header value with its
     * quotes is written and read back; one byte more is refused (it used
     * to be written, and reading it back failed: found by fuzzing). */
    {
        char comment[1024], *back_text = NULL;
        struct amk_key *back = NULL;

        memset(comment, 'c', 1022);
        comment[1022] = '\0';
        ASSERT_OK(amk_key_set_comment(k, comment));
        ASSERT_OK(amk_key_public_rfc4716(k, &back_text));
        ASSERT_OK(amk_key_load(back_text, strlen(back_text), NULL, NULL, &back));
        assert_string_equal(amk_key_comment(back), comment);
        amk_key_free(back);
        free(back_text);
        comment[1022] = 'c';
        comment[1023] = '\0';
        ASSERT_OK(amk_key_set_comment(k, comment));
        ASSERT_AMK(AMK_EINVAL, amk_key_public_rfc4716(k, &text));
    }
    amk_key_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_rfc4716_parse_ssh_keygen_export),
        cmocka_unit_test(test_amk_key_public_rfc4716_read_by_ssh_keygen),
        cmocka_unit_test(test_amk_rfc4716_parse_headers),
        cmocka_unit_test(test_amk_rfc4716_parse_bad),
        cmocka_unit_test(test_amk_rfc4716_parse_value_too_long),
        cmocka_unit_test(test_amk_key_public_rfc4716_errors),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
