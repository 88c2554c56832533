/*
 * Unit tests for src/keys/randomart.c: the picture equals the one
 * `ssh-keygen -lv` draws, byte for byte, for every key type and both
 * fingerprint hashes; and a fixed key gives a fixed picture.
 */
#include "key_test_util.h"

#include "keys/key.h"
#include "keys/keyfile.h"

static const char *kg_args[] = {
    "-t ed25519", "-t ecdsa -b 256", "-t ecdsa -b 384", "-t ecdsa -b 521",
    "-t rsa -b 1024", "-t rsa -b 3072", "-t dsa",
};

#define NKEYS (sizeof(kg_args) / sizeof(kg_args[0]))

static char *dir;

static int
setup_dir(void **state)
{
    dir = ktu_mkdtemp();
    /* Several keys of each type, so the walk hits walls and corners. */
    for (size_t i = 0; i < NKEYS; i++)
        for (int j = 0; j < 3; j++)
            if (ktu_run(NULL, "ssh-keygen -q %s -N '' -C '' -f %s/k%zu_%d", kg_args[i], dir, i,
                    j) != 0)
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
test_amk_key_randomart_matches_ssh_keygen(void **state)
{
    static const char *hashes[] = { "sha256", "md5" };
    char path[4200];

    for (size_t i = 0; i < NKEYS; i++) {
        for (int j = 0; j < 3; j++) {
            struct amk_key *k = NULL;
            snprintf(path, sizeof(path), "%s/k%zu_%d.pub", dir, i, j);
            ASSERT_OK(amk_key_load_file(path, NULL, NULL, &k));
            for (int h = 0; h < 2; h++) {
                char *out = NULL, *art = NULL, *want;
                assert_int_equal(ktu_run(&out, "ssh-keygen -l -v -E %s -f %s", hashes[h], path), 0);
                /* The picture follows the fingerprint line. */
                want = strchr(out, '\n');
                assert_non_null(want);
                want++;
                if (want[0] != '\0' && want[strlen(want) - 1] == '\n')
                    want[strlen(want) - 1] = '\0';
                ASSERT_OK(amk_key_randomart(k, h == 0 ? AMK_KEY_FP_SHA256 : AMK_KEY_FP_MD5, &art));
                assert_string_equal(art, want);
                free(art);
                free(out);
            }
            amk_key_free(k);
        }
    }
}

/* A fixed Ed25519 key (the RFC 8032 §7.1 TEST 1 public key) and the
 * picture OpenSSH_9.2p1's `ssh-keygen -lv` draws for it. */
static void
test_amk_key_randomart_fixed_key(void **state)
{
    static const char line[] =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
    static const char want[] =
        "+--[ED25519 256]--+\n"
        "|            oo   |\n"
        "|           o. .  |\n"
        "|          o ..   |\n"
        "|         o o o.  |\n"
        "|        S + o  o |\n"
        "|       . + +  . E|\n"
        "|      . ..Ooo. B.|\n"
        "|     o o.BBB.o+ +|\n"
        "|     .*+OB=o=+.  |\n"
        "+----[SHA256]-----+";
    struct amk_key *k = NULL;
    char *art = NULL;

    ASSERT_OK(amk_key_load(line, strlen(line), NULL, NULL, &k));
    ASSERT_OK(amk_key_randomart(k, AMK_KEY_FP_SHA256, &art));
    assert_string_equal(art, want);
    free(art);
    amk_key_free(k);
}

static void
test_amk_key_randomart_bad_hash(void **state)
{
    struct amk_key *k = NULL;
    char *art = (char *)1;
    struct amk_buf *b = amk_buf_new();

    ASSERT_OK(amk_key_create(AMK_KEY_ED25519, 0, &k));
    ASSERT_AMK(AMK_EINVAL, amk_key_randomart(k, (enum amk_key_fp_hash)7, &art));
    assert_null(art);
    /* Nothing is left behind in the buffer on failure. */
    ASSERT_OK(amk_buf_put(b, "x", 1));
    ASSERT_AMK(AMK_EINVAL, amk_key_write_randomart(k, (enum amk_key_fp_hash)7, b));
    assert_int_equal(amk_buf_len(b), 1);
    amk_buf_free(b);
    amk_key_free(k);
}

static void
test_amk_key_type_label_every_type(void **state)
{
    static const struct {
        enum amk_key_type type;
        const char *label;
    } cases[] = {
        { AMK_KEY_ED25519, "ED25519" }, { AMK_KEY_ECDSA_P256, "ECDSA" },
        { AMK_KEY_ECDSA_P384, "ECDSA" }, { AMK_KEY_ECDSA_P521, "ECDSA" },
        { AMK_KEY_DSA, "DSA" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct amk_key *k = NULL;
        ASSERT_OK(amk_key_create(cases[i].type, 0, &k));
        assert_string_equal(amk_key_type_label(k), cases[i].label);
        amk_key_free(k);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_key_randomart_matches_ssh_keygen),
        cmocka_unit_test(test_amk_key_randomart_fixed_key),
        cmocka_unit_test(test_amk_key_randomart_bad_hash),
        cmocka_unit_test(test_amk_key_type_label_every_type),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
