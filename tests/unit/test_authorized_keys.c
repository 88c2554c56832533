/*
 * authorized_keys (src/keys/authorized_keys.c) with keys made by the real
 * ssh-keygen: plain lines of every key type, every option sshd knows,
 * from= with patterns, negation and CIDR, expiry-time in local time and
 * UTC, bad lines skipped with their reason, and the line count checked
 * against `ssh-keygen -l`, which reads authorized_keys files too.
 */
#include <time.h>

#include "key_test_util.h"

#include "keys/authorized_keys.h"
#include "keys/key.h"

#define N_KEYS 6

static const char *const key_args[N_KEYS] = {
    "-t ed25519", "-t ecdsa -b 256", "-t ecdsa -b 384", "-t ecdsa -b 521", "-t rsa -b 2048",
    "-t dsa",
};

static char *g_dir;
static char *g_pub[N_KEYS];         /* public key lines, without newline */
static struct amk_key *g_key[N_KEYS];
static struct amk_key *g_stranger;
static int g_have_dsa;

static int
group_setup(void **state)
{
    char path[4096];

    g_dir = ktu_mkdtemp();
    for (int i = 0; i < N_KEYS; i++) {
        snprintf(path, sizeof(path), "%s/k%d", g_dir, i);
        if (ktu_run(NULL, "ssh-keygen -q %s -N '' -C 'key %d' -f %s 2>/dev/null",
            key_args[i], i, path) != 0) {
            if (i == N_KEYS - 1)
                continue;       /* an OpenSSH without DSA */
            return -1;
        }
        if (i == N_KEYS - 1)
            g_have_dsa = 1;
        if (amk_key_load_file(path, NULL, NULL, &g_key[i]) != AMK_OK)
            return -1;
        snprintf(path, sizeof(path), "%s/k%d.pub", g_dir, i);
        g_pub[i] = ktu_read(path, NULL);
        g_pub[i][strcspn(g_pub[i], "\r\n")] = '\0';
    }
    return amk_key_create(AMK_KEY_ED25519, 0, &g_stranger) != AMK_OK ? -1 : 0;
}

static int
group_teardown(void **state)
{
    for (int i = 0; i < N_KEYS; i++) {
        free(g_pub[i]);
        amk_key_free(g_key[i]);
    }
    amk_key_free(g_stranger);
    ktu_rmdir(g_dir);
    return 0;
}

/* Loads text given printf-style. */
static struct amk_authorized_keys *
load(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct amk_authorized_keys *
load(const char *fmt, ...)
{
    static char text[65536];
    struct amk_authorized_keys *ak = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ASSERT_OK(amk_authorized_keys_load(text, strlen(text), &ak));
    return ak;
}

static const int64_t NOW = 1800000000;  /* 2027-01-15 */

static void
test_authorized_keys_plain_lines(void **state)
{
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;
    char text[32768];
    size_t len = 0;

    len += (size_t)snprintf(text + len, sizeof(text) - len, "# my keys\n\n   \n");
    for (int i = 0; i < N_KEYS; i++) {
        if (g_pub[i] != NULL)
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", g_pub[i]);
    }
    ASSERT_OK(amk_authorized_keys_load(text, len, &ak));
    assert_int_equal(amk_authorized_keys_count(ak), g_have_dsa ? 6 : 5);
    assert_int_equal(amk_authorized_keys_bad_count(ak), 0);
    for (int i = 0; i < N_KEYS; i++) {
        if (g_key[i] == NULL)
            continue;
        ASSERT_OK(amk_authorized_keys_check(ak, g_key[i], "127.0.0.1", NULL, NOW, &o));
        assert_int_equal(amk_authorized_key_opts_line(o), (size_t)(4 + i));
        assert_null(amk_authorized_key_opts_command(o));
        assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY));
        assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PORT_FORWARDING));
        assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_AGENT_FORWARDING));
        assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_X11_FORWARDING));
        assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_USER_RC));
        assert_string_equal(amk_authorized_keys_last_error(ak), "");
    }
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_stranger, "127.0.0.1", NULL, NOW,
        &o));
    assert_null(o);
    assert_string_equal(amk_authorized_keys_last_error(ak), "key not listed");
    amk_authorized_keys_free(ak);
}

static void
test_authorized_keys_options(void **state)
{
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;

    ak = load("command=\"echo \\\"hi there\\\"; logger x\",no-pty,no-port-forwarding,"
        "no-agent-forwarding,no-X11-forwarding,no-user-rc,environment=\"LANG=C\","
        "environment=\"A_1=x y\",environment=\"LANG=fr\",permitopen=\"db.local:5432\","
        "permitopen=\"[::1]:80\",permitlisten=\"8080\",permitlisten=\"localhost:9000\","
        "principals=\"alice,bob\",tunnel=\"3\" %s\n"
        "restrict,pty %s\n"
        "pty,restrict %s\n"
        "RESTRICT,Port-Forwarding,command=\"true\" %s\n", g_pub[0], g_pub[1], g_pub[2],
        g_pub[3]);
    assert_int_equal(amk_authorized_keys_bad_count(ak), 0);
    assert_int_equal(amk_authorized_keys_count(ak), 4);

    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "127.0.0.1", NULL, NOW, &o));
    assert_string_equal(amk_authorized_key_opts_command(o), "echo \"hi there\"; logger x");
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PORT_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_AGENT_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_X11_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_USER_RC));
    assert_false(amk_authorized_key_opts_restricted(o));
    /* sshd keeps the first value of a variable. */
    assert_int_equal(amk_authorized_key_opts_env_count(o), 2);
    assert_string_equal(amk_authorized_key_opts_env(o, 0), "LANG=C");
    assert_string_equal(amk_authorized_key_opts_env(o, 1), "A_1=x y");
    assert_null(amk_authorized_key_opts_env(o, 2));
    assert_int_equal(amk_authorized_key_opts_permitopen_count(o), 2);
    assert_string_equal(amk_authorized_key_opts_permitopen(o, 0), "db.local:5432");
    assert_string_equal(amk_authorized_key_opts_permitopen(o, 1), "[::1]:80");
    assert_int_equal(amk_authorized_key_opts_permitlisten_count(o), 2);
    assert_string_equal(amk_authorized_key_opts_permitlisten(o, 0), "*:8080");
    assert_string_equal(amk_authorized_key_opts_permitlisten(o, 1), "localhost:9000");
    assert_string_equal(amk_authorized_key_opts_principals(o), "alice,bob");
    assert_string_equal(amk_authorized_key_opts_tunnel(o), "3");
    assert_int_equal(amk_authorized_key_opts_expiry(o), 0);

    /* restrict then pty: only a pty. */
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[1], "127.0.0.1", NULL, NOW, &o));
    assert_true(amk_authorized_key_opts_restricted(o));
    assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PORT_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_AGENT_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_X11_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_USER_RC));
    /* pty then restrict: options apply in order. */
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[2], "127.0.0.1", NULL, NOW, &o));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY));
    /* Names are case-insensitive. */
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[3], "127.0.0.1", NULL, NOW, &o));
    assert_true(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PORT_FORWARDING));
    assert_false(amk_authorized_key_opts_permits(o, AMK_AK_PERMIT_PTY));
    assert_string_equal(amk_authorized_key_opts_command(o), "true");
    amk_authorized_keys_free(ak);
}

static void
test_authorized_keys_opts_dup(void **state)
{
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;
    struct amk_authorized_key_opts *c = NULL;

    ak = load("command=\"ls\",environment=\"X=1\",permitopen=\"h:1\",from=\"127.0.0.1\","
        "no-pty %s\n", g_pub[0]);
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "127.0.0.1", NULL, NOW, &o));
    ASSERT_OK(amk_authorized_key_opts_dup(o, &c));
    amk_authorized_keys_free(ak);
    assert_string_equal(amk_authorized_key_opts_command(c), "ls");
    assert_string_equal(amk_authorized_key_opts_env(c, 0), "X=1");
    assert_string_equal(amk_authorized_key_opts_permitopen(c, 0), "h:1");
    assert_string_equal(amk_authorized_key_opts_from(c), "127.0.0.1");
    assert_false(amk_authorized_key_opts_permits(c, AMK_AK_PERMIT_PTY));
    assert_int_equal(amk_authorized_key_opts_line(c), 1);
    amk_authorized_key_opts_free(c);
    amk_authorized_key_opts_free(NULL);
}

static void
test_authorized_keys_from(void **state)
{
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;

    ak = load("from=\"10.1.0.0/16,!10.1.2.3,192.168.1.*,*.example.com,fe80::/10\" %s\n",
        g_pub[0]);
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "10.1.200.7", NULL, NOW, &o));
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "192.168.1.50", NULL, NOW, &o));
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "fe80::1", NULL, NOW, &o));
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "::ffff:10.1.0.9", NULL, NOW, &o));
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "203.0.113.5", "Gw.Example.COM", NOW,
        &o));
    /* Negated, outside every pattern, or unknown. */
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], "10.1.2.3", NULL, NOW, &o));
    assert_non_null(strstr(amk_authorized_keys_last_error(ak), "from= does not allow 10.1.2.3"));
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], "10.2.0.1", NULL, NOW, &o));
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], "127.0.0.1", NULL, NOW, &o));
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], "2001:db8::1", NULL, NOW,
        &o));
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], NULL, NULL, NOW, &o));
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], "203.0.113.5",
        "example.com.evil.org", NOW, &o));
    amk_authorized_keys_free(ak);

    /* Direct checks of the matcher. */
    assert_int_equal(amk_ak_from_match("*", "1.2.3.4", NULL), 1);
    assert_int_equal(amk_ak_from_match("!1.2.3.4,*", "1.2.3.4", NULL), 0);
    assert_int_equal(amk_ak_from_match("0.0.0.0/0", "1.2.3.4", NULL), 1);
    assert_int_equal(amk_ak_from_match("1.2.3.0/25", "1.2.3.127", NULL), 1);
    assert_int_equal(amk_ak_from_match("1.2.3.0/25", "1.2.3.128", NULL), 0);
    assert_int_equal(amk_ak_from_match("1.2.3.0/33", "1.2.3.4", NULL), -1);
    assert_int_equal(amk_ak_from_match("1.2.3.0/", "1.2.3.4", NULL), -1);
    assert_int_equal(amk_ak_from_match("bogus/8", "1.2.3.4", NULL), -1);
    assert_int_equal(amk_ak_from_match("", "1.2.3.4", NULL), -1);
    assert_int_equal(amk_ak_from_match("a,,b", "1.2.3.4", NULL), -1);
    assert_int_equal(amk_ak_from_match("host?.lan", "1.2.3.4", "HOST7.lan"), 1);
}

static void
test_authorized_keys_expiry(void **state)
{
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;
    struct tm tm = { 0 };
    int64_t t;

    /* Local time, as sshd. */
    tm.tm_year = 2030 - 1900;
    tm.tm_mon = 0;
    tm.tm_mday = 2;
    tm.tm_hour = 3;
    tm.tm_min = 4;
    tm.tm_sec = 5;
    tm.tm_isdst = -1;
    ASSERT_OK(amk_ak_parse_time("20300102030405", 14, &t));
    assert_int_equal(t, (int64_t)mktime(&tm));
    ASSERT_OK(amk_ak_parse_time("20300101Z", 9, &t));
    assert_int_equal(t, 1893456000);
    ASSERT_OK(amk_ak_parse_time("203001010000Z", 13, &t));
    assert_int_equal(t, 1893456000);
    ASSERT_AMK(AMK_EFORMAT, amk_ak_parse_time("2030010", 7, &t));
    ASSERT_AMK(AMK_EFORMAT, amk_ak_parse_time("20301301", 8, &t));
    ASSERT_AMK(AMK_EFORMAT, amk_ak_parse_time("2030010x", 8, &t));
    ASSERT_AMK(AMK_EFORMAT, amk_ak_parse_time("203001011", 9, &t));

    ak = load("expiry-time=\"20200101\" %s\n"
        "expiry-time=\"20991231\" %s\n"
        "expiry-time=\"20991231\",expiry-time=\"20200101Z\" %s\n"
        "expiry-time=\"soon\" %s\n", g_pub[0], g_pub[1], g_pub[2], g_pub[3]);
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[0], "127.0.0.1", NULL, NOW, &o));
    assert_non_null(strstr(amk_authorized_keys_last_error(ak), "expired"));
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[1], "127.0.0.1", NULL, NOW, &o));
    assert_true(amk_authorized_key_opts_expiry(o) > NOW);
    /* The earliest of several wins. */
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[2], "127.0.0.1", NULL, NOW, &o));
    /* Before the expiry it was fine. */
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "127.0.0.1", NULL, 1500000000, &o));
    assert_int_equal(amk_authorized_keys_bad_count(ak), 1);
    amk_authorized_keys_free(ak);
}

static void
test_authorized_keys_first_usable_line_wins(void **state)
{
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;

    ak = load("from=\"10.0.0.1\",command=\"first\" %s\n"
        "cert-authority %s\n"
        "command=\"second\" %s\n", g_pub[0], g_pub[1], g_pub[0]);
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "10.0.0.1", NULL, NOW, &o));
    assert_string_equal(amk_authorized_key_opts_command(o), "first");
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "10.0.0.2", NULL, NOW, &o));
    assert_string_equal(amk_authorized_key_opts_command(o), "second");
    assert_int_equal(amk_authorized_key_opts_line(o), 3);
    /* A CA key never authorizes itself as a plain key. */
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[1], "10.0.0.1", NULL, NOW, &o));
    amk_authorized_keys_free(ak);
}

static void
test_authorized_keys_bad_lines_skipped(void **state)
{
    static const char *const want[] = {
        "unknown option frobnicate",
        "unterminated quote in options",
        "bad key",
        "unsupported key type ssh-foo",
        "certificate keys are not supported",
        "options but no key",
        "invalid from pattern list",
        "option command given twice",
        "option no-pty takes no value",
        "option command needs a quoted value",
        "invalid environment (NAME=value)",
        "invalid permitopen (host:port)",
        "option from: bad quoted value",
        "trailing comma in options",
        "unsupported key type sk-ssh-ed25519@openssh.com",
    };
    struct amk_authorized_keys *ak;
    const struct amk_authorized_key_opts *o;
    const char *reason;
    size_t line;

    ak = load("frobnicate %s\n"
        "command=\"oops %s\n"
        "ssh-ed25519 !!!notbase64!!! x\n"
        "ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIA x\n"
        "ssh-ed25519-cert-v01@openssh.com AAAA x\n"
        "no-pty\n"
        "from=\"10.0.0.0/99\" %s\n"
        "command=\"a\",command=\"b\" %s\n"
        "no-pty=\"1\" %s\n"
        "command %s\n"
        "environment=\"=x\" %s\n"
        "permitopen=\"nohost\" %s\n"
        "from=10.0.0.1 %s\n"
        "no-pty, %s\n"
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t x\n"
        "%s\r\n",
        g_pub[1], g_pub[1], g_pub[1], g_pub[1], g_pub[1], g_pub[1], g_pub[1], g_pub[1],
        g_pub[1], g_pub[1], g_pub[0]);
    assert_int_equal(amk_authorized_keys_bad_count(ak), sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ASSERT_OK(amk_authorized_keys_bad_line(ak, i, &line, &reason));
        assert_int_equal(line, i + 1);
        if (strncmp(reason, want[i], strlen(want[i])) != 0)
            fail_msg("line %zu: \"%s\", expected \"%s\"", line, reason, want[i]);
    }
    ASSERT_AMK(AMK_EINVAL, amk_authorized_keys_bad_line(ak, 99, &line, &reason));
    /* The good line after all of them (with CR LF) still works. */
    assert_int_equal(amk_authorized_keys_count(ak), 1);
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[0], "127.0.0.1", NULL, NOW, &o));
    ASSERT_AMK(AMK_EAUTH, amk_authorized_keys_check(ak, g_key[1], "127.0.0.1", NULL, NOW, &o));
    amk_authorized_keys_free(ak);
}

static void
test_authorized_keys_file_and_ssh_keygen_agree(void **state)
{
    char path[4096], *out = NULL;
    struct amk_authorized_keys *ak = NULL;
    const struct amk_authorized_key_opts *o;
    FILE *f;
    int lines = 0;

    snprintf(path, sizeof(path), "%s/authorized_keys", g_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# test file\n%s\nrestrict,command=\"uptime\" %s\n"
        "from=\"127.0.0.1,::1\",no-agent-forwarding %s\n"
        "environment=\"A=\\\"b c\\\"\",permitopen=\"x:22\" %s\n%s\n",
        g_pub[0], g_pub[1], g_pub[2], g_pub[3], g_pub[4]);
    fclose(f);
    ASSERT_OK(amk_authorized_keys_load_file(path, &ak));
    assert_int_equal(amk_authorized_keys_bad_count(ak), 0);
    /* ssh-keygen -l reads authorized_keys with options too. */
    assert_int_equal(ktu_run(&out, "ssh-keygen -l -f %s", path), 0);
    for (char *p = out; *p != '\0'; p++)
        lines += *p == '\n';
    free(out);
    assert_int_equal(amk_authorized_keys_count(ak), (size_t)lines);
    ASSERT_OK(amk_authorized_keys_check(ak, g_key[3], "127.0.0.1", NULL, NOW, &o));
    assert_string_equal(amk_authorized_key_opts_env(o, 0), "A=\"b c\"");
    amk_authorized_keys_free(ak);

    snprintf(path, sizeof(path), "%s/missing", g_dir);
    ASSERT_AMK(AMK_EIO, amk_authorized_keys_load_file(path, &ak));
    assert_null(ak);
    ASSERT_AMK(AMK_EINVAL, amk_authorized_keys_load_file(NULL, &ak));
    ASSERT_AMK(AMK_EINVAL, amk_authorized_keys_check(NULL, g_key[0], NULL, NULL, 0, &o));
}

static void
test_authorized_keys_hostile_text(void **state)
{
    struct amk_authorized_keys *ak = NULL;
    char *big = malloc(AMK_AUTHORIZED_KEYS_MAX_LINE + 10);
    static const char nul_line[] = "ssh-ed25519 AAAA\0x\n";

    assert_non_null(big);
    memset(big, 'a', AMK_AUTHORIZED_KEYS_MAX_LINE + 9);
    big[AMK_AUTHORIZED_KEYS_MAX_LINE + 9] = '\n';
    ASSERT_OK(amk_authorized_keys_load(big, AMK_AUTHORIZED_KEYS_MAX_LINE + 10, &ak));
    assert_int_equal(amk_authorized_keys_bad_count(ak), 1);
    amk_authorized_keys_free(ak);
    free(big);
    ASSERT_OK(amk_authorized_keys_load(nul_line, sizeof(nul_line) - 1, &ak));
    assert_int_equal(amk_authorized_keys_bad_count(ak), 1);
    amk_authorized_keys_free(ak);
    ASSERT_OK(amk_authorized_keys_load("", 0, &ak));
    assert_int_equal(amk_authorized_keys_count(ak), 0);
    amk_authorized_keys_free(ak);
    ASSERT_AMK(AMK_ETOOBIG, amk_authorized_keys_load("x", AMK_AUTHORIZED_KEYS_MAX_FILE + 1,
        &ak));
    ASSERT_AMK(AMK_EINVAL, amk_authorized_keys_load(NULL, 5, &ak));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authorized_keys_plain_lines),
        cmocka_unit_test(test_authorized_keys_options),
        cmocka_unit_test(test_authorized_keys_opts_dup),
        cmocka_unit_test(test_authorized_keys_from),
        cmocka_unit_test(test_authorized_keys_expiry),
        cmocka_unit_test(test_authorized_keys_first_usable_line_wins),
        cmocka_unit_test(test_authorized_keys_bad_lines_skipped),
        cmocka_unit_test(test_authorized_keys_file_and_ssh_keygen_agree),
        cmocka_unit_test(test_authorized_keys_hostile_text),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
