/*
 * Unit tests for src/keys/known_hosts.c, known_hosts_file.c and
 * host_pattern.c, against the real OpenSSH tools: keys from ssh-keygen,
 * files hashed by `ssh-keygen -H`, and answers compared with
 * `ssh-keygen -F`, which must also find the entries amiko adds.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_helper.h"

#include "keys/host_pattern.h"

/* ---- helpers ---- */

/* ssh-keygen's keys: A, D ed25519 (different keys), B ECDSA P-256, C RSA. */
enum { KA, KB, KC, KD, NKEYS };
static const char *const key_args[NKEYS] = {
    "-t ed25519", "-t ecdsa -b 256", "-t rsa -b 2048", "-t ed25519",
};

static char *dir;
static struct amk_key *keys[NKEYS];
static char *pub[NKEYS];    /* "type base64" of each key */

/* Runs a shell command (printf-style); its exit status, and its standard
 * output allocated in @p out when not NULL. */
static int
run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
run(char **out, const char *fmt, ...)
{
    char cmd[8192], chunk[4096];
    size_t len = 0, n;
    char *text = calloc(1, 1);
    va_list ap;
    FILE *f;
    int st;

    assert_non_null(text);
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    f = popen(cmd, "r");
    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        text = realloc(text, len + n + 1);
        assert_non_null(text);
        memcpy(text + len, chunk, n);
        len += n;
        text[len] = '\0';
    }
    st = pclose(f);
    if (out != NULL)
        *out = text;
    else
        free(text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *
path_of(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);

    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The text "%X" stands for in a template: "%A".."%D" the "type base64"
 * of that key, "%a".."%d" its base64 alone; NULL for anything else. */
static const char *
subst(const char *p)
{
    if (p[0] != '%')
        return NULL;
    if (p[1] >= 'A' && p[1] <= 'D')
        return pub[p[1] - 'A'];
    if (p[1] >= 'a' && p[1] <= 'd')
        return strchr(pub[p[1] - 'a'], ' ') + 1;
    return NULL;
}

/* Expands the "%X" of @p tmpl (see subst()). */
static char *
expand(const char *tmpl)
{
    size_t cap = strlen(tmpl) + 1, len = 0;
    const char *s;
    char *out;

    for (const char *p = tmpl; *p != '\0'; p++)
        if ((s = subst(p)) != NULL)
            cap += strlen(s);
    out = malloc(cap);
    assert_non_null(out);
    for (const char *p = tmpl; *p != '\0'; p++) {
        if ((s = subst(p)) != NULL) {
            memcpy(out + len, s, strlen(s));
            len += strlen(s);
            p++;
        } else {
            out[len++] = *p;
        }
    }
    out[len] = '\0';
    return out;
}

static struct amk_known_hosts *
load_mem(const char *tmpl, const char *name)
{
    struct amk_known_hosts *kh;
    char *text = expand(tmpl);

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_mem(kh, text, strlen(text), name));
    free(text);
    return kh;
}

/* Writes @p tmpl expanded to the file @p name in the test directory. */
static char *
write_kh(const char *name, const char *tmpl)
{
    char *path = path_of(name), *text = expand(tmpl);

    write_text(path, text);
    free(text);
    return path;
}

/* Asserts the answer for @p host/@p port/@p key, and the line (0: any). */
static void
expect(const struct amk_known_hosts *kh, const char *host, unsigned port, int key,
    enum amk_known_hosts_status want, size_t want_line)
{
    enum amk_known_hosts_status st;
    const char *file;
    size_t line;

    ASSERT_OK(amk_known_hosts_check(kh, host, port, keys[key], &st, &file, &line, NULL));
    if (st != want)
        fail_msg("%s port %u key %c: status %d, expected %d", host, port, 'A' + key, st, want);
    if (want == AMK_KNOWN_HOSTS_UNKNOWN) {
        assert_null(file);
        assert_int_equal(line, 0);
    } else {
        assert_non_null(file);
        if (want_line != 0 && line != want_line)
            fail_msg("%s port %u key %c: line %zu, expected %zu", host, port, 'A' + key, line,
                want_line);
    }
}

/* Warnings the known_hosts object logs. */
#define LOG_CAP 64
struct logcap {
    size_t n;
    char msg[LOG_CAP][512];
};

static void
capture(void *user, enum amk_log_level level, const char *msg)
{
    struct logcap *lc = user;

    assert_int_equal(level, AMK_LOG_WARN);
    if (lc->n < LOG_CAP)
        snprintf(lc->msg[lc->n], sizeof(lc->msg[0]), "%s", msg);
    lc->n++;
}

static int
setup(void **state)
{
    char path[4200];
    char *text, *sp;

    dir = strdup("/tmp/amk-kh-test-XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL)
        return -1;
    for (int i = 0; i < NKEYS; i++) {
        snprintf(path, sizeof(path), "%s/k%d", dir, i);
        if (run(NULL, "ssh-keygen -q %s -N '' -C 'key %d' -f %s", key_args[i], i, path) != 0)
            return -1;
        snprintf(path, sizeof(path), "%s/k%d.pub", dir, i);
        if (amk_key_load_file(path, NULL, NULL, &keys[i]) != AMK_OK)
            return -1;
        text = read_text(path);
        sp = strchr(text, ' ');
        if (sp == NULL || (sp = strchr(sp + 1, ' ')) == NULL)
            return -1;
        *sp = '\0';
        pub[i] = text;
    }
    return 0;
}

static int
teardown(void **state)
{
    for (int i = 0; i < NKEYS; i++) {
        amk_key_free(keys[i]);
        free(pub[i]);
    }
    if (dir != NULL && run(NULL, "rm -rf '%s'", dir) != 0)
        return -1;
    free(dir);
    return 0;
}

/* A file as a user's ~/.ssh/known_hosts looks: comments, blank lines,
 * a bracketed port, a comma list, a trailing comment. */
static const char PLAIN[] =
    "# known hosts\n"
    "host1.example.com %A\n"
    "[host2.example.com]:2222 %B\n"
    "\n"
    "host3.example.com,10.0.0.3 %C   a trailing comment\n"
    "host4.example.com %B\n"
    "host4.example.com %A\n";

/* ---- plain and hashed files from OpenSSH ---- */

static void
test_amk_known_hosts_check_plain_file(void **state)
{
    struct amk_known_hosts *kh;
    char *path = write_kh("plain", PLAIN);

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    assert_int_equal(amk_known_hosts_count(kh), 5);
    assert_int_equal(amk_known_hosts_skipped(kh), 0);
    expect(kh, "host1.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "host1.example.com", 0, KA, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "host2.example.com", 2222, KB, AMK_KNOWN_HOSTS_OK, 3);
    expect(kh, "host3.example.com", 22, KC, AMK_KNOWN_HOSTS_OK, 5);
    expect(kh, "10.0.0.3", 22, KC, AMK_KNOWN_HOSTS_OK, 5);
    expect(kh, "host4.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 7);
    expect(kh, "host4.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 6);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_check_plain_file_misses(void **state)
{
    struct amk_known_hosts *kh;
    char *path = write_kh("plain", PLAIN);

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    /* A name on another port is another host, and the reverse. */
    expect(kh, "host2.example.com", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "host1.example.com", 2222, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "host2.example.com", 2223, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "nothere.example.com", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "host1.example", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "10.0.0.33", 22, KC, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_check_hashed_by_ssh_keygen(void **state)
{
    struct amk_known_hosts *kh;
    char *path = write_kh("hashed", PLAIN);
    char *text, *line;

    assert_int_equal(run(NULL, "ssh-keygen -q -H -f %s >/dev/null 2>&1", path), 0);
    text = read_text(path);
    /* Every entry is now hashed (comments stay). */
    for (line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
        if (line[0] != '#')
            assert_memory_equal(line, "|1|", 3);
    free(text);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    assert_int_equal(amk_known_hosts_skipped(kh), 0);
    expect(kh, "host1.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 0);
    expect(kh, "HOST1.Example.COM", 22, KA, AMK_KNOWN_HOSTS_OK, 0);
    expect(kh, "host2.example.com", 2222, KB, AMK_KNOWN_HOSTS_OK, 0);
    expect(kh, "host3.example.com", 22, KC, AMK_KNOWN_HOSTS_OK, 0);
    expect(kh, "10.0.0.3", 22, KC, AMK_KNOWN_HOSTS_OK, 0);
    expect(kh, "host1.example.com", 22, KD, AMK_KNOWN_HOSTS_CHANGED, 0);
    expect(kh, "host2.example.com", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "host1.example.co", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    amk_known_hosts_free(kh);
    free(path);
}

/* The lines `ssh-keygen -F name -f path` reports, as a bit set, with the
 * count of lines (0 when not found). */
static int
ssh_keygen_find(const char *path, const char *name, unsigned long *lines)
{
    char *out, *p;
    int found = 0, rc;
    unsigned long n;

    *lines = 0;
    rc = run(&out, "ssh-keygen -F '%s' -f '%s' 2>/dev/null", name, path);
    for (p = out; (p = strstr(p, " found: line ")) != NULL; p++) {
        n = strtoul(p + strlen(" found: line "), NULL, 10);
        assert_true(n > 0 && n < 64);
        *lines |= 1ul << n;
        found++;
    }
    free(out);
    assert_int_equal(rc == 0, found > 0);
    return found;
}

/* For each query, amiko knows the host (with some key) iff ssh-keygen -F
 * finds it, and the line amiko reports for a matching key is one of the
 * lines ssh-keygen printed. */
static void
agree_with_ssh_keygen(const char *path)
{
    static const struct {
        const char *host;
        unsigned port;
        const char *name;   /* as ssh-keygen -F takes it */
    } q[] = {
        { "host1.example.com", 22, "host1.example.com" },
        { "host2.example.com", 2222, "[host2.example.com]:2222" },
        { "host2.example.com", 22, "host2.example.com" },
        { "host1.example.com", 2222, "[host1.example.com]:2222" },
        { "host3.example.com", 22, "host3.example.com" },
        { "10.0.0.3", 22, "10.0.0.3" },
        { "host4.example.com", 22, "host4.example.com" },
        { "nothere.example.com", 22, "nothere.example.com" },
        { "a.wild.example.org", 22, "a.wild.example.org" },
        { "bad.wild.example.org", 22, "bad.wild.example.org" },
        { "x1.example.net", 22, "x1.example.net" },
        { "x12.example.net", 22, "x12.example.net" },
        { "www.example.com", 2022, "[www.example.com]:2022" },
        { "www.corp.example.com", 2022, "[www.corp.example.com]:2022" },
    };
    struct amk_known_hosts *kh;
    enum amk_known_hosts_status st;
    const char *file;
    unsigned long lines;
    size_t line;
    int found, known;

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        found = ssh_keygen_find(path, q[i].name, &lines);
        known = 0;
        for (int k = 0; k < NKEYS; k++) {
            ASSERT_OK(amk_known_hosts_check(kh, q[i].host, q[i].port, keys[k], &st, &file, &line,
                NULL));
            if (st != AMK_KNOWN_HOSTS_UNKNOWN)
                known = 1;
            if (st == AMK_KNOWN_HOSTS_OK && (lines & (1ul << line)) == 0)
                fail_msg("%s: amiko line %zu not among ssh-keygen's", q[i].name, line);
        }
        if (known != (found > 0))
            fail_msg("%s in %s: amiko %s, ssh-keygen %s", q[i].name, path,
                known ? "known" : "unknown", found ? "found" : "not found");
    }
    amk_known_hosts_free(kh);
}

static const char PATTERNS[] =
    "*.wild.example.org,!bad.wild.example.org %A\n"
    "x?.example.net %B\n"
    "!*.corp.example.com,[*.example.com]:2022 %C\n";

static void
test_amk_known_hosts_check_agrees_with_ssh_keygen_F(void **state)
{
    char *plain = write_kh("agree-plain", PLAIN);
    char *hashed = write_kh("agree-hashed", PLAIN);
    char *patterns = write_kh("agree-patterns", PATTERNS);

    assert_int_equal(run(NULL, "ssh-keygen -q -H -f %s >/dev/null 2>&1", hashed), 0);
    agree_with_ssh_keygen(plain);
    agree_with_ssh_keygen(hashed);
    agree_with_ssh_keygen(patterns);
    free(plain);
    free(hashed);
    free(patterns);
}

/* ---- adding entries ---- */

static void
test_amk_known_hosts_add_found_by_ssh_keygen(void **state)
{
    struct amk_known_hosts *kh, *again;
    char *path = path_of("added"), *text, *out;
    unsigned long lines;
    struct stat st;

    unlink(path);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));   /* missing: empty */
    ASSERT_OK(amk_known_hosts_add(kh, path, "Plain.Example.com", 22, keys[KA], 0));
    ASSERT_OK(amk_known_hosts_add(kh, path, "hashed.example.com", 22, keys[KB],
        AMK_KNOWN_HOSTS_ADD_HASH));
    ASSERT_OK(amk_known_hosts_add(kh, path, "ported.example.com", 2200, keys[KC], 0));
    ASSERT_OK(amk_known_hosts_add(kh, path, "hashport.example.com", 2201, keys[KA],
        AMK_KNOWN_HOSTS_ADD_HASH));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* What the file says, as OpenSSH reads it. */
    text = read_text(path);
    assert_memory_equal(text, "plain.example.com ssh-ed25519 ", 30);
    assert_non_null(strstr(text, "\n|1|"));
    assert_non_null(strstr(text, "\n[ported.example.com]:2200 ssh-rsa "));
    assert_null(strstr(text, "hashed.example.com"));
    free(text);
    assert_int_equal(ssh_keygen_find(path, "plain.example.com", &lines), 1);
    assert_int_equal(lines, 1ul << 1);
    assert_int_equal(ssh_keygen_find(path, "hashed.example.com", &lines), 1);
    assert_int_equal(lines, 1ul << 2);
    assert_int_equal(ssh_keygen_find(path, "[ported.example.com]:2200", &lines), 1);
    assert_int_equal(lines, 1ul << 3);
    assert_int_equal(ssh_keygen_find(path, "[hashport.example.com]:2201", &lines), 1);
    assert_int_equal(lines, 1ul << 4);
    assert_int_equal(ssh_keygen_find(path, "hashport.example.com", &lines), 0);
    assert_int_equal(ssh_keygen_find(path, "ported.example.com", &lines), 0);
    /* ssh-keygen -l reads every line as a key. */
    assert_int_equal(run(&out, "ssh-keygen -l -f %s", path), 0);
    lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 4);
    free(out);

    /* The same object knows them, with the file's line numbers ... */
    expect(kh, "plain.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    expect(kh, "hashed.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "ported.example.com", 2200, KC, AMK_KNOWN_HOSTS_OK, 3);
    expect(kh, "hashport.example.com", 2201, KA, AMK_KNOWN_HOSTS_OK, 4);
    expect(kh, "hashport.example.com", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    /* ... and so does a fresh load. */
    ASSERT_OK(amk_known_hosts_new(&again));
    ASSERT_OK(amk_known_hosts_load_file(again, path));
    assert_int_equal(amk_known_hosts_count(again), 4);
    expect(again, "hashed.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 2);
    expect(again, "hashport.example.com", 2201, KA, AMK_KNOWN_HOSTS_OK, 4);
    amk_known_hosts_free(again);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_add_creates_directory(void **state)
{
    struct amk_known_hosts *kh;
    char *sub = path_of("dotssh"), *path = path_of("dotssh/known_hosts");
    struct stat st;
    unsigned long lines;

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_add(kh, path, "new.example.com", 0, keys[KA], 0));
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(ssh_keygen_find(path, "new.example.com", &lines), 1);
    amk_known_hosts_free(kh);
    free(sub);
    free(path);
}

static void
test_amk_known_hosts_add_after_unterminated_line(void **state)
{
    struct amk_known_hosts *kh;
    char *path = write_kh("unterminated", "old.example.com %B");
    unsigned long lines;

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    ASSERT_OK(amk_known_hosts_add(kh, path, "new.example.com", 22, keys[KA], 0));
    expect(kh, "new.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "old.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 1);
    assert_int_equal(ssh_keygen_find(path, "old.example.com", &lines), 1);
    assert_int_equal(lines, 1ul << 1);
    assert_int_equal(ssh_keygen_find(path, "new.example.com", &lines), 1);
    assert_int_equal(lines, 1ul << 2);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_add_refuses_bad_arguments(void **state)
{
    static const char *const bad_hosts[] = {
        "", "a b", "a,b", "*.example.com", "h?st", "!host", "[host]", "|1|x", "#host",
        "@revoked", "tab\there", "new\nline",
    };
    struct amk_known_hosts *kh;
    char *path = path_of("refused");
    struct stat st;

    unlink(path);
    ASSERT_OK(amk_known_hosts_new(&kh));
    for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++)
        ASSERT_AMK(AMK_EINVAL, amk_known_hosts_add(kh, path, bad_hosts[i], 22, keys[KA], 0));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_add(kh, path, "ok.example.com", 65536, keys[KA], 0));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_add(kh, path, "ok.example.com", 22, keys[KA], 0x80));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_add(kh, path, "ok.example.com", 22, NULL, 0));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_add(kh, NULL, "ok.example.com", 22, keys[KA], 0));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_add(NULL, path, "ok.example.com", 22, keys[KA], 0));
    /* A directory that cannot be created. */
    ASSERT_AMK(AMK_EIO, amk_known_hosts_add(kh, "/nonexistent-amk/a/b", "ok.example.com", 22,
        keys[KA], 0));
    assert_int_equal(amk_known_hosts_count(kh), 0);
    assert_int_not_equal(stat(path, &st), 0);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_line_forms(void **state)
{
    char *line = NULL, *want, *path, *text;
    unsigned long lines;

    ASSERT_OK(amk_known_hosts_line("H.Example.com", 2222, keys[KC], 0, &line));
    want = expand("[h.example.com]:2222 %C");
    assert_string_equal(line, want);
    free(want);
    free(line);
    ASSERT_OK(amk_known_hosts_line("h.example.com", 22, keys[KB], 0, &line));
    want = expand("h.example.com %B");
    assert_string_equal(line, want);
    free(want);
    free(line);
    /* A hashed line, as ssh-keyscan -H prints: ssh-keygen -F finds it. */
    ASSERT_OK(amk_known_hosts_line("h.example.com", 2222, keys[KA], AMK_KNOWN_HOSTS_ADD_HASH,
        &line));
    assert_memory_equal(line, "|1|", 3);
    assert_null(strstr(line, "example"));
    text = malloc(strlen(line) + 2);
    assert_non_null(text);
    sprintf(text, "%s\n", line);
    path = path_of("line-hashed");
    write_text(path, text);
    assert_int_equal(ssh_keygen_find(path, "[h.example.com]:2222", &lines), 1);
    assert_int_equal(ssh_keygen_find(path, "h.example.com", &lines), 0);
    free(text);
    free(path);
    free(line);
    line = (char *)"x";
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("a b", 22, keys[KA], 0, &line));
    assert_null(line);
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("a", 22, keys[KA], 2, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("a", 22, NULL, 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line(NULL, 22, keys[KA], 0, &line));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_line("a", 22, keys[KA], 0, NULL));
}

/* ---- rewriting files: -H and -R ---- */

static const char EDIT[] =
    "# comment\n"
    "host1.example.com %A\n"
    "[host2.example.com]:2222 %B\n"
    "Host3.example.com,10.0.0.3 %C   trailing comment\n"
    "host1.example.com %B\n"
    "*.wild.example.org %A\n"
    "@revoked host1.example.com %D\n"
    "@cert-authority *.example.com %B\n"
    "bad.example.com ssh-ed25519 AAAA!!!!\n"
    "other.example.com %A\n";

static void
test_amk_known_hosts_hash_file_like_ssh_keygen_H(void **state)
{
    struct amk_known_hosts *kh;
    char *path = write_kh("edit-hash", EDIT), *text, *again;
    unsigned long lines;
    size_t hashed;
    struct stat st;

    assert_int_equal(chmod(path, 0640), 0);
    ASSERT_OK(amk_known_hosts_hash_file(path, &hashed));
    assert_int_equal(hashed, 5);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    text = read_text(path);
    /* Plain names are gone; what -H keeps is kept verbatim. */
    assert_null(strstr(text, "host1.example.com %"));
    assert_null(strstr(text, "\nhost1.example.com"));
    assert_null(strstr(text, "10.0.0.3"));
    assert_null(strstr(text, "other.example.com"));
    assert_memory_equal(text, "# comment\n|1|", 13);
    assert_non_null(strstr(text, "\n*.wild.example.org ssh-ed25519 "));
    assert_non_null(strstr(text, "\n@revoked host1.example.com ssh-ed25519 "));
    assert_non_null(strstr(text, "\n@cert-authority *.example.com ecdsa-sha2-nistp256 "));
    assert_non_null(strstr(text, "\nbad.example.com ssh-ed25519 AAAA!!!!\n"));
    assert_non_null(strstr(text, " trailing comment\n"));
    /* OpenSSH finds every name (host1: two keys, @revoked, the CA), amiko too. */
    assert_int_equal(ssh_keygen_find(path, "host1.example.com", &lines), 4);
    assert_int_equal(lines, 1ul << 2 | 1ul << 6 | 1ul << 8 | 1ul << 9);
    assert_int_equal(ssh_keygen_find(path, "[host2.example.com]:2222", &lines), 1);
    assert_int_equal(ssh_keygen_find(path, "host3.example.com", &lines), 2);
    assert_int_equal(ssh_keygen_find(path, "10.0.0.3", &lines), 1);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    expect(kh, "host1.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "host1.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 6);
    expect(kh, "host1.example.com", 22, KD, AMK_KNOWN_HOSTS_REVOKED, 8);
    expect(kh, "host2.example.com", 2222, KB, AMK_KNOWN_HOSTS_OK, 3);
    expect(kh, "host3.example.com", 22, KC, AMK_KNOWN_HOSTS_OK, 4);
    expect(kh, "10.0.0.3", 22, KC, AMK_KNOWN_HOSTS_OK, 5);
    expect(kh, "other.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 11);
    amk_known_hosts_free(kh);
    /* Nothing left to hash: the file stays as it is. */
    ASSERT_OK(amk_known_hosts_hash_file(path, &hashed));
    assert_int_equal(hashed, 0);
    again = read_text(path);
    assert_string_equal(again, text);
    free(again);
    free(text);
    free(path);
}

static void
test_amk_known_hosts_remove_like_ssh_keygen_R(void **state)
{
    static const struct {
        const char *host;
        unsigned port;
        const char *name;
        size_t removed;
    } q[] = {
        { "host1.example.com", 22, "host1.example.com", 2 },
        { "host2.example.com", 2222, "[host2.example.com]:2222", 1 },
        { "10.0.0.3", 22, "10.0.0.3", 1 },
        { "other.example.com", 22, "other.example.com", 1 },
        { "nothere.example.com", 22, "nothere.example.com", 0 },
        { "host2.example.com", 22, "host2.example.com", 0 },
    };
    char *ours = path_of("edit-rm-amiko"), *theirs = path_of("edit-rm-ssh"), *a, *b, *text;
    size_t removed;

    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        text = expand(EDIT);
        write_text(ours, text);
        write_text(theirs, text);
        ASSERT_OK(amk_known_hosts_remove(ours, q[i].host, q[i].port, &removed));
        assert_int_equal(removed, q[i].removed);
        assert_int_equal(run(NULL, "ssh-keygen -R '%s' -f %s >/dev/null 2>&1", q[i].name,
                             theirs), 0);
        /* Byte for byte what ssh-keygen -R leaves. */
        a = read_text(ours);
        b = read_text(theirs);
        if (strcmp(a, b) != 0)
            fail_msg("remove %s: amiko left\n%s\nssh-keygen left\n%s", q[i].name, a, b);
        if (q[i].removed == 0)
            assert_string_equal(a, text);
        free(a);
        free(b);
        free(text);
    }
    unlink(ours);
    free(ours);
    free(theirs);
}

static void
test_amk_known_hosts_remove_hashed_and_errors(void **state)
{
    char *path = write_kh("edit-rm-hashed", EDIT), *missing = path_of("edit-missing");
    unsigned long lines;
    size_t removed = 7, hashed;

    ASSERT_OK(amk_known_hosts_hash_file(path, &hashed));
    ASSERT_OK(amk_known_hosts_remove(path, "HOST3.example.com", 22, &removed));
    assert_int_equal(removed, 1);
    /* Only the @cert-authority line for *.example.com is left. */
    assert_int_equal(ssh_keygen_find(path, "host3.example.com", &lines), 1);
    assert_int_equal(lines, 1ul << 8);
    assert_int_equal(ssh_keygen_find(path, "10.0.0.3", &lines), 1);
    ASSERT_OK(amk_known_hosts_remove(path, "host2.example.com", 2222, NULL));
    assert_int_equal(ssh_keygen_find(path, "[host2.example.com]:2222", &lines), 0);

    removed = 7;
    ASSERT_AMK(AMK_EIO, amk_known_hosts_remove(missing, "a.example.com", 22, &removed));
    assert_int_equal(removed, 0);
    ASSERT_AMK(AMK_EIO, amk_known_hosts_hash_file(missing, &hashed));
    ASSERT_AMK(AMK_EIO, amk_known_hosts_hash_file(dir, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_remove(path, "a,b", 22, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_remove(path, "a", 65536, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_remove(path, NULL, 22, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_remove(NULL, "a", 22, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_hash_file(NULL, NULL));
    free(path);
    free(missing);
}

/* amk_known_hosts_find_file collects the lines it reports as a bit set. */
struct found_lines {
    unsigned long lines;
    unsigned long markers;   /* lines reported with a marker */
    int stop_after;          /* > 0: return AMK_EIO after that many */
    int calls;
};

static int
collect_found(void *user, size_t line, const char *text, size_t len,
    enum amk_known_hosts_marker marker)
{
    struct found_lines *f = user;

    assert_true(line > 0 && line < 64);
    assert_true(len > 0 && text[len - 1] != '\n' && text[len - 1] != '\r');
    assert_int_equal(marker != AMK_KNOWN_HOSTS_MARK_NONE, text[0] == '@');
    f->lines |= 1ul << line;
    if (marker != AMK_KNOWN_HOSTS_MARK_NONE)
        f->markers |= 1ul << line;
    f->calls++;
    return f->stop_after > 0 && f->calls >= f->stop_after ? AMK_EIO : AMK_OK;
}

/* Finds the lines ssh-keygen -F finds, in plain and in hashed files. */
static void
test_amk_known_hosts_find_file_like_ssh_keygen_F(void **state)
{
    static const struct {
        const char *host;
        unsigned port;
        const char *name;
    } q[] = {
        { "host1.example.com", 22, "host1.example.com" },
        { "HOST1.example.com", 0, "host1.example.com" },
        { "host2.example.com", 2222, "[host2.example.com]:2222" },
        { "host3.example.com", 22, "host3.example.com" },
        { "10.0.0.3", 22, "10.0.0.3" },
        { "x.wild.example.org", 22, "x.wild.example.org" },
        { "nothere.example.net", 22, "nothere.example.net" },
        { "host2.example.com", 22, "host2.example.com" },
    };
    char *path = write_kh("edit-find", EDIT);
    struct found_lines f;
    unsigned long lines;
    size_t found;
    int n;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
            memset(&f, 0, sizeof(f));
            ASSERT_OK(amk_known_hosts_find_file(path, q[i].host, q[i].port, collect_found, &f,
                &found));
            n = ssh_keygen_find(path, q[i].name, &lines);
            assert_int_equal(found, (size_t)n);
            assert_int_equal(f.calls, n);
            if (f.lines != lines)
                fail_msg("%s (pass %d): amiko found %#lx, ssh-keygen %#lx", q[i].name, pass,
                    f.lines, lines);
        }
        /* The second pass on the file as amiko hashed it. */
        ASSERT_OK(amk_known_hosts_hash_file(path, NULL));
    }
    free(path);
}

static void
test_amk_known_hosts_find_file_markers_and_errors(void **state)
{
    char *path = write_kh("edit-find-err", EDIT), *missing = path_of("edit-find-missing");
    struct found_lines f;
    size_t found = 7;

    memset(&f, 0, sizeof(f));
    ASSERT_OK(amk_known_hosts_find_file(path, "host1.example.com", 22, collect_found, &f, NULL));
    /* @revoked (line 7) and @cert-authority (line 8) are reported with markers. */
    assert_int_equal(f.markers, (1ul << 7) | (1ul << 8));
    /* The callback's error stops the search and is returned. */
    memset(&f, 0, sizeof(f));
    f.stop_after = 1;
    ASSERT_AMK(AMK_EIO, amk_known_hosts_find_file(path, "host1.example.com", 22, collect_found,
        &f, &found));
    assert_int_equal(f.calls, 1);
    assert_int_equal(found, 1);
    ASSERT_AMK(AMK_EIO, amk_known_hosts_find_file(missing, "a", 22, collect_found, &f, &found));
    assert_int_equal(found, 0);
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_find_file(path, "a,b", 22, collect_found, &f, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_find_file(path, "[a]:2", 22, collect_found, &f, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_find_file(path, "a", 65536, collect_found, &f, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_find_file(path, NULL, 22, collect_found, &f, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_find_file(path, "a", 22, NULL, &f, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_find_file(NULL, "a", 22, collect_found, &f, NULL));
    free(path);
    free(missing);
}

/* ---- patterns ---- */

static void
test_amk_known_hosts_check_wildcards(void **state)
{
    struct amk_known_hosts *kh = load_mem(
        "*.example.org %A\n"
        "host?.example.net %B\n"
        "Mixed.CASE.example %D\n"
        "[*.example.com]:2022 %C\n", "wild");

    expect(kh, "a.example.org", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    expect(kh, "a.b.example.org", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    expect(kh, "example.org", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "host1.example.net", 22, KB, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "host12.example.net", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "host.example.net", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "mixed.case.example", 22, KD, AMK_KNOWN_HOSTS_OK, 3);
    expect(kh, "MIXED.case.EXAMPLE", 22, KD, AMK_KNOWN_HOSTS_OK, 3);
    expect(kh, "www.example.com", 2022, KC, AMK_KNOWN_HOSTS_OK, 4);
    expect(kh, "www.example.com", 22, KC, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_check_negation(void **state)
{
    struct amk_known_hosts *kh = load_mem(
        "*.example.org,!bad.example.org %A\n"
        "!*.corp.example.com,*.example.com %C\n"
        "!only.negated.example %B\n", "neg");

    expect(kh, "good.example.org", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    expect(kh, "bad.example.org", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "BAD.example.org", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "www.example.com", 22, KC, AMK_KNOWN_HOSTS_OK, 2);
    expect(kh, "x.corp.example.com", 22, KC, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    /* A list of only negations applies to nobody. */
    expect(kh, "other.example", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "only.negated.example", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    amk_known_hosts_free(kh);
}

static void
test_amk_host_pattern_list_match_cases(void **state)
{
    char longp[AMK_HOST_PATTERN_MAX + 8];

    assert_int_equal(amk_host_pattern_list_match("a,b", 3, "b"), AMK_HOST_MATCH_YES);
    assert_int_equal(amk_host_pattern_list_match("a,!b", 4, "b"), AMK_HOST_MATCH_NEGATED);
    assert_int_equal(amk_host_pattern_list_match("*,!b", 4, "b"), AMK_HOST_MATCH_NEGATED);
    assert_int_equal(amk_host_pattern_list_match("!b,*", 4, "c"), AMK_HOST_MATCH_YES);
    assert_int_equal(amk_host_pattern_list_match("A*", 2, "abc"), AMK_HOST_MATCH_YES);
    assert_int_equal(amk_host_pattern_list_match("a,,b", 4, "c"), AMK_HOST_MATCH_NONE);
    assert_int_equal(amk_host_pattern_list_match("", 0, "c"), AMK_HOST_MATCH_NONE);
    /* An over-long pattern makes the list match nothing. */
    memset(longp, '*', sizeof(longp));
    assert_int_equal(amk_host_pattern_list_match(longp, sizeof(longp), "c"),
        AMK_HOST_MATCH_NONE);
    assert_int_equal(amk_host_pattern_list_ok(longp, sizeof(longp)), 0);
    assert_int_equal(amk_host_pattern_list_ok(longp, AMK_HOST_PATTERN_MAX), 1);
}

static void
test_amk_host_lookup_name_forms(void **state)
{
    char name[AMK_HOST_LOOKUP_MAX], longhost[AMK_HOST_NAME_MAX + 1];

    ASSERT_OK(amk_host_lookup_name("Host.Example", 22, name, sizeof(name)));
    assert_string_equal(name, "host.example");
    ASSERT_OK(amk_host_lookup_name("Host.Example", 0, name, sizeof(name)));
    assert_string_equal(name, "host.example");
    ASSERT_OK(amk_host_lookup_name("Host.Example", 2222, name, sizeof(name)));
    assert_string_equal(name, "[host.example]:2222");
    ASSERT_OK(amk_host_lookup_name("::1", 2222, name, sizeof(name)));
    assert_string_equal(name, "[::1]:2222");
    ASSERT_OK(amk_host_lookup_name("fe80::1", 65535, name, sizeof(name)));
    assert_string_equal(name, "[fe80::1]:65535");
    ASSERT_AMK(AMK_EINVAL, amk_host_lookup_name("h", 65536, name, sizeof(name)));
    ASSERT_AMK(AMK_EINVAL, amk_host_lookup_name("", 22, name, sizeof(name)));
    ASSERT_AMK(AMK_EINVAL, amk_host_lookup_name("h\x7f", 22, name, sizeof(name)));
    ASSERT_AMK(AMK_EINVAL, amk_host_lookup_name("h", 22, name, 1));
    memset(longhost, 'a', sizeof(longhost) - 1);
    longhost[sizeof(longhost) - 1] = '\0';
    ASSERT_AMK(AMK_EINVAL, amk_host_lookup_name(longhost, 22, name, sizeof(name)));
    longhost[AMK_HOST_NAME_MAX - 1] = '\0';
    ASSERT_OK(amk_host_lookup_name(longhost, 2222, name, sizeof(name)));
}

/* ---- changed, revoked, certificate authorities ---- */

static void
test_amk_known_hosts_check_changed_reports_line(void **state)
{
    struct amk_known_hosts *kh = load_mem(
        "# header\r\n"
        "\r\n"
        "changed.example.com %B\r\n"
        "  # indented comment\n"
        "changed.example.com %A\n"
        "changed.example.com %A\n", "kh-name");
    enum amk_known_hosts_status st;
    const char *file;
    size_t line;
    unsigned flags;

    ASSERT_OK(amk_known_hosts_check(kh, "changed.example.com", 22, keys[KD], &st, &file, &line,
        &flags));
    assert_int_equal(st, AMK_KNOWN_HOSTS_CHANGED);
    assert_string_equal(file, "kh-name");
    assert_int_equal(line, 5);  /* the first old key of the same type */
    assert_int_equal(flags, AMK_KNOWN_HOSTS_F_DIFFERENT_KEY | AMK_KNOWN_HOSTS_F_OTHER_TYPES);

    /* The matching keys still match, with other types as information. */
    ASSERT_OK(amk_known_hosts_check(kh, "changed.example.com", 22, keys[KA], &st, &file, &line,
        &flags));
    assert_int_equal(st, AMK_KNOWN_HOSTS_OK);
    assert_int_equal(line, 5);
    assert_int_equal(flags, AMK_KNOWN_HOSTS_F_OTHER_TYPES);
    ASSERT_OK(amk_known_hosts_check(kh, "changed.example.com", 22, keys[KB], &st, &file, &line,
        &flags));
    assert_int_equal(st, AMK_KNOWN_HOSTS_OK);
    assert_int_equal(line, 3);
    assert_int_equal(flags, AMK_KNOWN_HOSTS_F_OTHER_TYPES);
    amk_known_hosts_free(kh);
}

/* ssh(1) 9.x says "REMOTE HOST IDENTIFICATION HAS CHANGED" also when only
 * keys of other types are known; the flags tell that case apart. */
static void
test_amk_known_hosts_check_changed_only_other_types(void **state)
{
    struct amk_known_hosts *kh = load_mem("a.example.com %A\na.example.com %B\n", NULL);
    enum amk_known_hosts_status st;
    const char *file;
    size_t line;
    unsigned flags;

    ASSERT_OK(amk_known_hosts_check(kh, "a.example.com", 22, keys[KC], &st, &file, &line,
        &flags));
    assert_int_equal(st, AMK_KNOWN_HOSTS_CHANGED);
    assert_string_equal(file, "(memory)");
    assert_int_equal(line, 1);
    assert_int_equal(flags, AMK_KNOWN_HOSTS_F_OTHER_TYPES);
    /* Optional outputs may be NULL. */
    ASSERT_OK(amk_known_hosts_check(kh, "a.example.com", 22, keys[KC], &st, NULL, NULL, NULL));
    assert_int_equal(st, AMK_KNOWN_HOSTS_CHANGED);
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_check_revoked_refuses(void **state)
{
    struct amk_known_hosts *kh = load_mem(
        "host1.example.com %A\n"
        "@revoked * %A\n"
        "host2.example.com %B\n"
        "@revoked other.example.com %C\n"
        "host3.example.com %C\n"
        "@revoked\t[*]:2222 %D\n"
        "host4.example.com %D\n"
        "[host4.example.com]:2222 %D\n", "rev");
    enum amk_known_hosts_status st;
    const char *file;
    size_t line;

    /* Revoked for every host, even one that lists the key. */
    expect(kh, "host1.example.com", 22, KA, AMK_KNOWN_HOSTS_REVOKED, 2);
    expect(kh, "unlisted.example.com", 22, KA, AMK_KNOWN_HOSTS_REVOKED, 2);
    /* Other keys of the host are not affected. */
    expect(kh, "host2.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 3);
    /* A @revoked line applies only where its patterns match. */
    expect(kh, "host3.example.com", 22, KC, AMK_KNOWN_HOSTS_OK, 5);
    expect(kh, "other.example.com", 22, KC, AMK_KNOWN_HOSTS_REVOKED, 4);
    expect(kh, "host4.example.com", 22, KD, AMK_KNOWN_HOSTS_OK, 7);
    expect(kh, "host4.example.com", 2222, KD, AMK_KNOWN_HOSTS_REVOKED, 6);
    ASSERT_OK(amk_known_hosts_check(kh, "host1.example.com", 22, keys[KA], &st, &file, &line,
        NULL));
    assert_string_equal(file, "rev");
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_check_revoked_agrees_with_ssh_keygen(void **state)
{
    struct amk_known_hosts *kh;
    char *path = write_kh("revoked", "x.example.com %B\n@revoked x.example.com %A\n");
    char *out;

    assert_int_equal(run(&out, "ssh-keygen -F x.example.com -f %s", path), 0);
    assert_non_null(strstr(out, "found: line 2 REVOKED"));
    free(out);
    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, path));
    expect(kh, "x.example.com", 22, KA, AMK_KNOWN_HOSTS_REVOKED, 2);
    expect(kh, "x.example.com", 22, KB, AMK_KNOWN_HOSTS_OK, 1);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_cert_authority_kept_not_used(void **state)
{
    struct amk_known_hosts *kh = load_mem(
        "@cert-authority *.example.com %A\n"
        "@cert-authority\t*.example.net  %B   CA comment\n", "ca");

    assert_int_equal(amk_known_hosts_count(kh), 2);
    assert_int_equal(amk_known_hosts_skipped(kh), 0);
    expect(kh, "www.example.com", 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    expect(kh, "www.example.net", 22, KB, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    amk_known_hosts_free(kh);
}

/* ---- malformed input ---- */

static void
test_amk_known_hosts_load_skips_malformed_lines(void **state)
{
    /* Each bad line is followed by a good one that must still work. */
    static const char *const bad[] = {
        "bad1.example.com ssh-ed25519 AAAA!!!!",                        /* bad base64 */
        "bad2.example.com ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIE6c",        /* unknown type */
        "bad3.example.com ecdsa-sha2-nistp256 %a",                      /* type/blob mismatch */
        "bad4.example.com ssh-ed25519",                                 /* missing key */
        "bad5.example.com",                                             /* missing type */
        "@revoked bad6.example.com",                                    /* missing key */
        "@revoked",                                                     /* missing hosts */
        "@unknown bad7.example.com %A",                                 /* unknown marker */
        "@revoked @revoked bad8.example.com %A",                        /* two markers */
        "|1|abc|def %A",                                                /* bad hash */
        "|2|LQKaLk9rNDsZv2mtcpUocX2PBMA=|+Tn94ATjgsspnfSFdQqyu/V7lus= %A", /* other magic */
        "|1|LQKaLk9rNDsZv2mtcpUocX2PBMA=|+Tn94ATjgsspnfSFdQqyu/V7lu= %A",  /* short hash */
        "bad9.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE6c",    /* truncated blob */
        "bad10.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQ==",   /* invalid RSA key */
    };
    size_t nbad = sizeof(bad) / sizeof(bad[0]);
    struct amk_known_hosts *kh;
    struct logcap lc;
    char tmpl[16384], want[64];
    char *text;

    tmpl[0] = '\0';
    for (size_t i = 0; i < nbad; i++) {
        strcat(tmpl, bad[i]);
        strcat(tmpl, "\n");
        snprintf(want, sizeof(want), "good%zu.example.com %%A\n", i);
        strcat(tmpl, want);
    }
    memset(&lc, 0, sizeof(lc));
    text = expand(tmpl);
    ASSERT_OK(amk_known_hosts_new(&kh));
    amk_known_hosts_set_log(kh, capture, &lc);
    ASSERT_OK(amk_known_hosts_load_mem(kh, text, strlen(text), "bad-file"));
    assert_int_equal(amk_known_hosts_skipped(kh), nbad);
    assert_int_equal(amk_known_hosts_count(kh), nbad);
    assert_int_equal(lc.n, nbad);
    for (size_t i = 0; i < nbad; i++) {
        /* The warning names the file and the line. */
        snprintf(want, sizeof(want), "bad-file:%zu: ", 2 * i + 1);
        if (strstr(lc.msg[i], want) == NULL)
            fail_msg("warning %zu \"%s\" does not name %s", i, lc.msg[i], want);
        snprintf(want, sizeof(want), "good%zu.example.com", i);
        expect(kh, want, 22, KA, AMK_KNOWN_HOSTS_OK, 2 * i + 2);
        snprintf(want, sizeof(want), "bad%zu.example.com", i + 1);
        expect(kh, want, 22, KA, AMK_KNOWN_HOSTS_UNKNOWN, 0);
    }
    assert_non_null(strstr(lc.msg[0], "bad base64"));
    assert_non_null(strstr(lc.msg[1], "unknown key type \"ssh-foo\""));
    assert_non_null(strstr(lc.msg[2], "does not match"));
    assert_non_null(strstr(lc.msg[3], "missing key"));
    assert_non_null(strstr(lc.msg[4], "missing key type"));
    assert_non_null(strstr(lc.msg[6], "missing host names"));
    assert_non_null(strstr(lc.msg[7], "unknown marker"));
    assert_non_null(strstr(lc.msg[8], "more than one marker"));
    assert_non_null(strstr(lc.msg[10], "unsupported hashed"));
    free(text);
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_load_skips_overlong_and_nul_lines(void **state)
{
    struct amk_known_hosts *kh;
    struct logcap lc;
    size_t longlen = AMK_KNOWN_HOSTS_LINE_MAX + 1, len;
    char *text, *good = expand("ok.example.com %A\n");
    char nulline[] = "nul.example.com\0 ssh-ed25519 AAAA\n";

    /* An over-long line (a host list of 16 KiB) between good ones. */
    text = malloc(2 * strlen(good) + longlen + sizeof(nulline) + 1);
    assert_non_null(text);
    len = 0;
    memcpy(text + len, good, strlen(good));
    len += strlen(good);
    memset(text + len, 'a', longlen);
    len += longlen;
    text[len++] = '\n';
    memcpy(text + len, nulline, sizeof(nulline) - 1);
    len += sizeof(nulline) - 1;
    memcpy(text + len, good, strlen(good));
    len += strlen(good);

    memset(&lc, 0, sizeof(lc));
    ASSERT_OK(amk_known_hosts_new(&kh));
    amk_known_hosts_set_log(kh, capture, &lc);
    ASSERT_OK(amk_known_hosts_load_mem(kh, text, len, "long"));
    assert_int_equal(amk_known_hosts_count(kh), 2);
    assert_int_equal(amk_known_hosts_skipped(kh), 2);
    assert_int_equal(lc.n, 2);
    assert_non_null(strstr(lc.msg[0], "long:2: line longer than"));
    assert_non_null(strstr(lc.msg[1], "long:3: NUL byte"));
    expect(kh, "ok.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    amk_known_hosts_free(kh);
    free(text);
    free(good);
}

static void
test_amk_known_hosts_load_limits(void **state)
{
    struct amk_known_hosts *kh;
    char *big, *path = path_of("big");
    FILE *f;

    ASSERT_OK(amk_known_hosts_new(&kh));
    big = calloc(1, (size_t)AMK_KNOWN_HOSTS_FILE_MAX + 1);
    assert_non_null(big);
    memset(big, '\n', (size_t)AMK_KNOWN_HOSTS_FILE_MAX + 1);
    ASSERT_AMK(AMK_ETOOBIG, amk_known_hosts_load_mem(kh, big, (size_t)AMK_KNOWN_HOSTS_FILE_MAX + 1,
        NULL));
    ASSERT_OK(amk_known_hosts_load_mem(kh, big, (size_t)AMK_KNOWN_HOSTS_FILE_MAX, NULL));
    free(big);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)AMK_KNOWN_HOSTS_FILE_MAX + 1), 0);
    fclose(f);
    ASSERT_AMK(AMK_ETOOBIG, amk_known_hosts_load_file(kh, path));
    ASSERT_AMK(AMK_ETOOBIG, amk_known_hosts_add(kh, path, "x.example.com", 22, keys[KA], 0));
    unlink(path);
    assert_int_equal(amk_known_hosts_count(kh), 0);
    amk_known_hosts_free(kh);
    free(path);
}

static void
test_amk_known_hosts_load_file_missing_and_unreadable(void **state)
{
    struct amk_known_hosts *kh;
    char *missing = path_of("does-not-exist");

    ASSERT_OK(amk_known_hosts_new(&kh));
    ASSERT_OK(amk_known_hosts_load_file(kh, missing));
    assert_int_equal(amk_known_hosts_count(kh), 0);
    ASSERT_AMK(AMK_EIO, amk_known_hosts_load_file(kh, dir));    /* a directory */
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_load_file(kh, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_load_file(NULL, missing));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_load_mem(kh, NULL, 1, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_load_mem(NULL, "", 0, NULL));
    ASSERT_OK(amk_known_hosts_load_mem(kh, NULL, 0, NULL));
    assert_int_equal(amk_known_hosts_count(kh), 0);
    amk_known_hosts_free(kh);
    amk_known_hosts_free(NULL);
    free(missing);
}

static void
test_amk_known_hosts_check_refuses_bad_arguments(void **state)
{
    struct amk_known_hosts *kh = load_mem("*  %A\n", NULL);
    enum amk_known_hosts_status st;
    const char *file = "x";
    size_t line = 9;
    unsigned flags = 9;

    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "a,b", 22, keys[KA], &st, &file, &line,
        &flags));
    assert_null(file);
    assert_int_equal(line, 0);
    assert_int_equal(flags, 0);
    assert_int_equal(st, AMK_KNOWN_HOSTS_UNKNOWN);
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "*", 22, keys[KA], &st, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "a b", 22, keys[KA], &st, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "", 22, keys[KA], &st, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "a", 70000, keys[KA], &st, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, NULL, 22, keys[KA], &st, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "a", 22, NULL, &st, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(kh, "a", 22, keys[KA], NULL, NULL, NULL, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_known_hosts_check(NULL, "a", 22, keys[KA], &st, NULL, NULL, NULL));
    /* "*" as a pattern matches any valid name. */
    expect(kh, "a", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    amk_known_hosts_free(kh);
}

static void
test_amk_known_hosts_load_failure_leaves_set_unchanged(void **state)
{
    struct amk_known_hosts *kh = load_mem("one.example.com %A\n", "first");
    char *path = path_of("big2");
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)AMK_KNOWN_HOSTS_FILE_MAX + 4096), 0);
    fclose(f);
    ASSERT_AMK(AMK_ETOOBIG, amk_known_hosts_load_file(kh, path));
    assert_int_equal(amk_known_hosts_count(kh), 1);
    expect(kh, "one.example.com", 22, KA, AMK_KNOWN_HOSTS_OK, 1);
    unlink(path);
    free(path);
    amk_known_hosts_free(kh);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_known_hosts_check_plain_file),
        cmocka_unit_test(test_amk_known_hosts_check_plain_file_misses),
        cmocka_unit_test(test_amk_known_hosts_check_hashed_by_ssh_keygen),
        cmocka_unit_test(test_amk_known_hosts_check_agrees_with_ssh_keygen_F),
        cmocka_unit_test(test_amk_known_hosts_add_found_by_ssh_keygen),
        cmocka_unit_test(test_amk_known_hosts_add_creates_directory),
        cmocka_unit_test(test_amk_known_hosts_add_after_unterminated_line),
        cmocka_unit_test(test_amk_known_hosts_add_refuses_bad_arguments),
        cmocka_unit_test(test_amk_known_hosts_line_forms),
        cmocka_unit_test(test_amk_known_hosts_hash_file_like_ssh_keygen_H),
        cmocka_unit_test(test_amk_known_hosts_remove_like_ssh_keygen_R),
        cmocka_unit_test(test_amk_known_hosts_remove_hashed_and_errors),
        cmocka_unit_test(test_amk_known_hosts_find_file_like_ssh_keygen_F),
        cmocka_unit_test(test_amk_known_hosts_find_file_markers_and_errors),
        cmocka_unit_test(test_amk_known_hosts_check_wildcards),
        cmocka_unit_test(test_amk_known_hosts_check_negation),
        cmocka_unit_test(test_amk_host_pattern_list_match_cases),
        cmocka_unit_test(test_amk_host_lookup_name_forms),
        cmocka_unit_test(test_amk_known_hosts_check_changed_reports_line),
        cmocka_unit_test(test_amk_known_hosts_check_changed_only_other_types),
        cmocka_unit_test(test_amk_known_hosts_check_revoked_refuses),
        cmocka_unit_test(test_amk_known_hosts_check_revoked_agrees_with_ssh_keygen),
        cmocka_unit_test(test_amk_known_hosts_cert_authority_kept_not_used),
        cmocka_unit_test(test_amk_known_hosts_load_skips_malformed_lines),
        cmocka_unit_test(test_amk_known_hosts_load_skips_overlong_and_nul_lines),
        cmocka_unit_test(test_amk_known_hosts_load_limits),
        cmocka_unit_test(test_amk_known_hosts_load_file_missing_and_unreadable),
        cmocka_unit_test(test_amk_known_hosts_check_refuses_bad_arguments),
        cmocka_unit_test(test_amk_known_hosts_load_failure_leaves_set_unchanged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
