/* Unit tests for src/keys/known_hosts.c, including files hashed by ssh-keygen -H. */
#include "key_test_util.h"

#include <amiko/known_hosts.h>

#include "keys/key.h"

static struct amk_key *ed_a, *ed_b, *ec_a;
static char *b64_ed_a, *b64_ed_b, *b64_ec_a;   /* "type base64" of each */

static char *
type_b64(const struct amk_key *k)
{
    struct amk_key *pub = NULL;
    char *line = NULL;

    assert_int_equal(amk_key_public_copy(k, &pub), AMK_OK);
    assert_int_equal(amk_key_set_comment(pub, NULL), AMK_OK);
    assert_int_equal(amk_key_public_line(pub, &line), AMK_OK);
    amk_key_free(pub);
    return line;
}

static int
setup(void **state)
{
    if (amk_key_create(AMK_KEY_ED25519, 0, &ed_a) != AMK_OK ||
        amk_key_create(AMK_KEY_ED25519, 0, &ed_b) != AMK_OK ||
        amk_key_create(AMK_KEY_ECDSA_P256, 0, &ec_a) != AMK_OK)
        return -1;
    b64_ed_a = type_b64(ed_a);
    b64_ed_b = type_b64(ed_b);
    b64_ec_a = type_b64(ec_a);
    return 0;
}

static int
teardown(void **state)
{
    amk_key_free(ed_a);
    amk_key_free(ed_b);
    amk_key_free(ec_a);
    free(b64_ed_a);
    free(b64_ed_b);
    free(b64_ec_a);
    return 0;
}

/* Loads printf-formatted text into a new set named "kh". */
static struct amk_known_hosts *
load_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct amk_known_hosts *
load_text(const char *fmt, ...)
{
    struct amk_known_hosts *kh = NULL;
    char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    assert_int_not_equal(vasprintf(&text, fmt, ap), -1);
    va_end(ap);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load(kh, text, strlen(text), "kh"));
    free(text);
    return kh;
}

static void
test_amk_known_hosts_check_plain_entries(void **state)
{
    struct amk_known_hosts *kh = load_text(
        "# comment\n"
        "\n"
        "example.com,192.0.2.1 %s\n"
        "other.org %s some comment\r\n",
        b64_ed_a, b64_ed_b);
    const char *file;
    size_t line;

    assert_int_equal(amk_known_hosts_count(kh), 2);
    ASSERT_OK(amk_known_hosts_check(kh, "example.com", 22, ed_a, &file, &line));
    assert_string_equal(file, "kh");
    assert_int_equal(line, 3);
    ASSERT_OK(amk_known_hosts_check(kh, "192.0.2.1", 0, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "EXAMPLE.com", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "other.org", 22, ed_b, &file, &line));
    assert_int_equal(line, 4);
    /* Same type, other key: changed, pointing at the old key's line. */
    ASSERT_AMK(AMK_EHOSTKEY_CHANGED, amk_known_hosts_check(kh, "example.com", 22, ed_b, &file,
        &line));
    assert_string_equal(file, "kh");
    assert_int_equal(line, 3);
    /* Another type for a known host, and an unknown host. */
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "example.com", 22, ec_a, &file,
        &line));
    assert_null(file);
    assert_int_equal(line, 0);
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "example.net", 22, ed_a, NULL,
        NULL));
    /* The default port only: example.com:2222 is another name. */
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "example.com", 2222, ed_a, NULL,
        NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "", 22, ed_a, NULL, NULL));
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_check_ports_wildcards_negation(void **state)
{
    struct amk_known_hosts *kh = load_text(
        "[example.com]:2222 %s\n"
        "*.corp.example,!bad.corp.example %s\n"
        "host?.lan %s\n",
        b64_ed_a, b64_ed_b, b64_ec_a);

    ASSERT_OK(amk_known_hosts_check(kh, "example.com", 2222, ed_a, NULL, NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "example.com", 22, ed_a, NULL,
        NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "a.corp.example", 22, ed_b, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "x.y.corp.example", 22, ed_b, NULL, NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "bad.corp.example", 22, ed_b, NULL,
        NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "corp.example", 22, ed_b, NULL,
        NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "host1.lan", 22, ec_a, NULL, NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "host12.lan", 22, ec_a, NULL,
        NULL));
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_check_several_keys_per_host(void **state)
{
    struct amk_known_hosts *kh = load_text(
        "multi %s\n"
        "multi %s\n"
        "multi %s\n",
        b64_ed_a, b64_ec_a, b64_ed_b);

    /* Either Ed25519 key is accepted: both are listed. */
    ASSERT_OK(amk_known_hosts_check(kh, "multi", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "multi", 22, ed_b, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "multi", 22, ec_a, NULL, NULL));
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_check_revoked(void **state)
{
    struct amk_known_hosts *kh = load_text(
        "server %s\n"
        "@revoked * %s\n"
        "@cert-authority *.example %s\n",
        b64_ed_a, b64_ed_a, b64_ec_a);
    const char *file;
    size_t line;

    assert_int_equal(amk_known_hosts_count(kh), 3);
    /* Revoked wins over a matching entry, for every host. */
    ASSERT_AMK(AMK_EHOSTKEY_REVOKED, amk_known_hosts_check(kh, "server", 22, ed_a, &file, &line));
    assert_int_equal(line, 2);
    ASSERT_AMK(AMK_EHOSTKEY_REVOKED, amk_known_hosts_check(kh, "elsewhere", 22, ed_a, NULL, NULL));
    /* A CA key is not a host key. */
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "a.example", 22, ec_a, NULL, NULL));
    amk_known_hosts_free(kh);
}

struct log_capture {
    int count;
    char last[512];
};

static void
capture_log(void *user, enum amk_log_level level, const char *msg)
{
    struct log_capture *c = user;
    c->count++;
    snprintf(c->last, sizeof(c->last), "%s", msg);
}

static void
test_amk_known_hosts_load_skips_bad_lines(void **state)
{
    struct amk_known_hosts *kh = NULL;
    struct log_capture cap = { 0 };
    char *text = NULL;

    assert_int_not_equal(asprintf(&text,
        "good1 %s\n"
        "@bogus host %s\n"             /* unknown marker */
        "host ssh-ed25519 !!!!\n"       /* bad base64 */
        "host\n"                       /* no key */
        "|1|AAAA|BBBB %s\n"            /* hashed with short salt */
        "host ssh-foo AAAAB3Nz\n"      /* unknown type */
        "@revoked\n"                   /* marker only */
        "good2 %s",                    /* no final newline */
        b64_ed_a, b64_ed_a, b64_ed_a, b64_ed_b), -1);
    ASSERT_OK(amk_known_hosts_new(&kh));
    amk_known_hosts_set_log(kh, capture_log, &cap, AMK_LOG_WARN);
    ASSERT_OK(amk_known_hosts_load(kh, text, strlen(text), "/etc/ssh/ssh_known_hosts"));
    assert_int_equal(amk_known_hosts_count(kh), 2);
    assert_int_equal(amk_known_hosts_skipped(kh), 6);
    assert_int_equal(cap.count, 6);
    assert_non_null(strstr(cap.last, "/etc/ssh/ssh_known_hosts:7"));
    ASSERT_OK(amk_known_hosts_check(kh, "good1", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "good2", 22, ed_b, NULL, NULL));
    free(text);
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_load_file_missing_is_empty(void **state)
{
    struct amk_known_hosts *kh = NULL;

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, "/nonexistent/amiko/known_hosts"));
    assert_int_equal(amk_known_hosts_count(kh), 0);
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "h", 22, ed_a, NULL, NULL));
    ASSERT_AMK(AMK_EIO, amk_known_hosts_load_file(kh, "/"));
    amk_known_hosts_free(kh);
}

/* Files hashed by the real ssh-keygen -H are matched, ports included. */
static void
test_amk_known_hosts_check_ssh_keygen_hashed(void **state)
{
    char *dir = ktu_mkdtemp();
    char path[4200];
    struct amk_known_hosts *kh = NULL;
    FILE *f;
    char *text;

    snprintf(path, sizeof(path), "%s/known_hosts", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "alpha.example %s\n[beta.example]:2200 %s\n192.0.2.7 %s\n", b64_ed_a, b64_ed_b,
        b64_ec_a);
    fclose(f);
    assert_int_equal(ktu_run(NULL, "ssh-keygen -q -H -f %s >/dev/null 2>&1", path), 0);
    text = ktu_read(path, NULL);
    assert_null(strstr(text, "alpha"));          /* names are gone */
    assert_int_equal(strncmp(text, "|1|", 3), 0);
    free(text);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    assert_int_equal(amk_known_hosts_count(kh), 3);
    assert_int_equal(amk_known_hosts_skipped(kh), 0);
    ASSERT_OK(amk_known_hosts_check(kh, "alpha.example", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "beta.example", 2200, ed_b, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "192.0.2.7", 22, ec_a, NULL, NULL));
    ASSERT_AMK(AMK_EHOSTKEY_CHANGED, amk_known_hosts_check(kh, "alpha.example", 22, ed_b, NULL,
        NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "beta.example", 22, ed_b, NULL,
        NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "gamma.example", 22, ed_a, NULL,
        NULL));
    amk_known_hosts_free(kh);
    ktu_rmdir(dir);
}

/* Lines amiko appends (plain and hashed) are found by ssh-keygen -F and by amiko. */
static void
test_amk_known_hosts_append_found_by_ssh_keygen(void **state)
{
    char *dir = ktu_mkdtemp();
    char path[4200];
    struct amk_known_hosts *kh = NULL;
    struct stat st;
    char *out = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/known_hosts", dir);
    /* An existing file without a final newline. */
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "old.example %s", b64_ed_b);
    fclose(f);
    ASSERT_OK(amk_known_hosts_append(path, "Plain.Example", 22, ed_a, 0));
    ASSERT_OK(amk_known_hosts_append(path, "hashed.example", 22, ec_a, 1));
    ASSERT_OK(amk_known_hosts_append(path, "ported.example", 2222, ed_a, 1));
    assert_int_equal(ktu_run(&out, "ssh-keygen -F plain.example -f %s", path), 0);
    assert_non_null(strstr(out, b64_ed_a));
    free(out);
    assert_int_equal(ktu_run(&out, "ssh-keygen -F hashed.example -f %s", path), 0);
    assert_non_null(strstr(out, strchr(b64_ec_a, ' ') + 1));
    free(out);
    assert_int_equal(ktu_run(&out, "ssh-keygen -F '[ported.example]:2222' -f %s", path), 0);
    assert_non_null(strstr(out, strchr(b64_ed_a, ' ') + 1));
    free(out);
    assert_int_not_equal(ktu_run(NULL, "ssh-keygen -F ported.example -f %s", path), 0);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    assert_int_equal(amk_known_hosts_count(kh), 4);
    assert_int_equal(amk_known_hosts_skipped(kh), 0);
    ASSERT_OK(amk_known_hosts_check(kh, "old.example", 22, ed_b, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "plain.example", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "hashed.example", 22, ec_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "ported.example", 2222, ed_a, NULL, NULL));
    amk_known_hosts_free(kh);
    /* A new file is created private. */
    snprintf(path, sizeof(path), "%s/new_hosts", dir);
    ASSERT_OK(amk_known_hosts_append(path, "h", 22, ed_a, 0));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    ktu_rmdir(dir);
}

static void
test_amk_known_hosts_hash_file(void **state)
{
    char *dir = ktu_mkdtemp();
    char path[4200], *text, *out = NULL;
    struct amk_known_hosts *kh = NULL;
    struct stat st;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/known_hosts", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# keep me\n"
        "a.example,B.example %s first\n"
        "[c.example]:2222 %s\n"
        "*.wild %s\n"
        "@revoked * %s\n"
        "garbage line\n", b64_ed_a, b64_ec_a, b64_ed_b, b64_ed_b);
    fclose(f);
    assert_int_equal(chmod(path, 0640), 0);
    ASSERT_OK(amk_known_hosts_hash_file(path, &n));
    assert_int_equal(n, 2);
    text = ktu_read(path, NULL);
    assert_null(strstr(text, "a.example"));
    assert_null(strstr(text, "c.example"));
    assert_non_null(strstr(text, "# keep me\n"));
    assert_non_null(strstr(text, "*.wild "));
    assert_non_null(strstr(text, "@revoked * "));
    assert_non_null(strstr(text, "garbage line\n"));
    assert_non_null(strstr(text, " first\n"));   /* comments of entries stay */
    free(text);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* ssh-keygen finds the hashed names, and so does amiko. */
    assert_int_equal(ktu_run(&out, "ssh-keygen -F b.example -f %s", path), 0);
    assert_non_null(strstr(out, strchr(b64_ed_a, ' ') + 1));
    free(out);
    assert_int_equal(ktu_run(NULL, "ssh-keygen -F '[c.example]:2222' -f %s >/dev/null", path), 0);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    ASSERT_OK(amk_known_hosts_check(kh, "a.example", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "b.example", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "c.example", 2222, ec_a, NULL, NULL));
    /* ed_b is also @revoked, which wins over the kept wildcard line. */
    ASSERT_AMK(AMK_EHOSTKEY_REVOKED, amk_known_hosts_check(kh, "x.wild", 22, ed_b, NULL, NULL));
    amk_known_hosts_free(kh);
    /* Hashing again changes nothing. */
    ASSERT_OK(amk_known_hosts_hash_file(path, &n));
    assert_int_equal(n, 0);
    snprintf(path, sizeof(path), "%s/missing", dir);
    ASSERT_AMK(AMK_EIO, amk_known_hosts_hash_file(path, &n));
    ktu_rmdir(dir);
}

static void
test_amk_known_hosts_remove(void **state)
{
    char *dir = ktu_mkdtemp();
    char path[4200], *text;
    struct amk_known_hosts *kh = NULL;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/known_hosts", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "gone.example %s\n"
        "kept.example %s\n"
        "[gone.example]:2222 %s\n"
        "@revoked gone.example %s\n", b64_ed_a, b64_ed_a, b64_ec_a, b64_ed_b);
    fclose(f);
    /* Hash half of it with the real ssh-keygen first. */
    assert_int_equal(ktu_run(NULL, "ssh-keygen -q -H -f %s >/dev/null 2>&1", path), 0);
    f = fopen(path, "a");
    fprintf(f, "Gone.Example,other.example %s\n", b64_ec_a);
    fclose(f);
    ASSERT_OK(amk_known_hosts_remove(path, "gone.example", 22, &n));
    assert_int_equal(n, 2);   /* the hashed line and the plain list */
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "gone.example", 22, ed_a, NULL,
        NULL));
    ASSERT_AMK(AMK_EHOSTKEY_UNKNOWN, amk_known_hosts_check(kh, "other.example", 22, ec_a, NULL,
        NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "kept.example", 22, ed_a, NULL, NULL));
    ASSERT_OK(amk_known_hosts_check(kh, "gone.example", 2222, ec_a, NULL, NULL));
    ASSERT_AMK(AMK_EHOSTKEY_REVOKED, amk_known_hosts_check(kh, "gone.example", 22, ed_b, NULL,
        NULL));
    amk_known_hosts_free(kh);
    assert_int_not_equal(ktu_run(NULL,
        "ssh-keygen -F gone.example -f %s | grep -v '^[#@]' | grep -q ssh-", path), 0);
    text = ktu_read(path, NULL);
    assert_non_null(strstr(text, "@revoked"));
    free(text);
    ASSERT_OK(amk_known_hosts_remove(path, "nobody.example", 22, &n));
    assert_int_equal(n, 0);
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_remove(path, "", 22, &n));
    ktu_rmdir(dir);
}

static void
test_amk_known_hosts_line_forms(void **state)
{
    char *line = NULL;

    ASSERT_OK(amk_known_hosts_line("Host.Example", 22, ed_a, 0, &line));
    assert_int_equal(strncmp(line, "host.example ", 13), 0);
    assert_string_equal(line + 13, b64_ed_a);
    free(line);
    ASSERT_OK(amk_known_hosts_line("10.0.0.1", 2022, ed_a, 0, &line));
    assert_int_equal(strncmp(line, "[10.0.0.1]:2022 ", 16), 0);
    free(line);
    ASSERT_OK(amk_known_hosts_line("h", 22, ed_a, 1, &line));
    assert_int_equal(strncmp(line, "|1|", 3), 0);
    free(line);
    /* Names that would change the meaning of the line. */
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("a b", 22, ed_a, 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("a,b", 22, ed_a, 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("@revoked", 22, ed_a, 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("!x", 22, ed_a, 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("", 22, ed_a, 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("h", 70000, ed_a, 0, &line));
    assert_null(line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_known_hosts_check_plain_entries),
        cmocka_unit_test(test_amk_known_hosts_check_ports_wildcards_negation),
        cmocka_unit_test(test_amk_known_hosts_check_several_keys_per_host),
        cmocka_unit_test(test_amk_known_hosts_check_revoked),
        cmocka_unit_test(test_amk_known_hosts_load_skips_bad_lines),
        cmocka_unit_test(test_amk_known_hosts_load_file_missing_is_empty),
        cmocka_unit_test(test_amk_known_hosts_check_ssh_keygen_hashed),
        cmocka_unit_test(test_amk_known_hosts_append_found_by_ssh_keygen),
        cmocka_unit_test(test_amk_known_hosts_line_forms),
        cmocka_unit_test(test_amk_known_hosts_hash_file),
        cmocka_unit_test(test_amk_known_hosts_remove),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
