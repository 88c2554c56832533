/*
 * Interop: `amiko sftp -b` against a real OpenSSH sshd, compared with
 * what OpenSSH's own sftp does with the same batch on the same server.
 * Each client works in its own copy of the same directory; the batch
 * uses every command amiko sftp has (cd, pwd, lcd, lpwd, lmkdir, ls,
 * ls -l, get and put with -r and -p, mkdir, rmdir, rm, rename, ln, ln -s,
 * chmod, chown, df, df -h, exit). Compared: the exit status, stdout
 * (with each client's directory name replaced, ls -l's link-count column
 * left out since OpenSSH's sftp prints "?" there, and df's numbers, which
 * move between the runs, left out, as are OpenSSH's "Entering dir/" and
 * "Retrieving dir/" lines of recursive transfers) and the resulting files (type, mode,
 * size, contents, symlink targets, preserved times). Then OpenSSH's error
 * rules in batch mode: a failing command ends the batch with status 1
 * (rmdir of a non-empty directory, rm of a missing file, get of a missing
 * file), unless it starts with '-', with amiko's messages for a missing
 * directory or file; without USER in the environment the
 * user comes from the password database. And wildcards, in the same way: local
 * ones for put, remote ones for ls, get, rm, chmod and chown; quoted or
 * escaped wildcards are plain characters. The line syntax (quotes,
 * backslashes, '#', '-' and '@' prefixes, command case, extra paths) in
 * the same way. Names with control characters show escaped (\033).
 */
#include "test_helper.h"

#include <ctype.h>

/* paths are built in fixed buffers far larger than the temporary directory */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "sshd_fixture.h"

#define SFTP_PATH "/usr/bin/sftp"
#define BUF 1200

static struct sshd_fixture fx;
static char base[256], dest[64];

/* The batch: %D is the client's own directory. */
static const char *const batch_all[] = {
    "lcd %D/l",
    "lpwd",
    "cd %D/r",
    "pwd",
    "put f",
    "put -p f preserved",
    "put -r tree",
    "put -r -p tree ptree",
    "mkdir d",
    "-mkdir d",
    "mkdir d/sub",
    "ls",
    "ls -l",
    "ls -l tree",
    "rename f renamed",
    "ln -s renamed sym",
    "ln renamed hard",
    "chmod 640 renamed",
    "chown 0 renamed",
    "ls -l renamed",
    "ls -l tree/a/big",
    "-rmdir d",
    "rmdir d/sub",
    "rmdir d",
    "rm hard",
    "-rm missing",
    "df",
    "df -h",
    "lmkdir got",
    "get renamed got/renamed",
    "get -p preserved got/",
    "get -r ptree got/ptree",
    "get -r -p ptree got/pptree",
    "cd tree",
    "pwd",
    "ls -l",
    "cd ..",
    "ls",
    "exit",
    "mkdir never",
    NULL,
};

/* Writes the batch with %D replaced by @p dir. */
static void
write_batch(const char *path, const char *const *lines, const char *dir)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    for (size_t i = 0; lines[i] != NULL; i++) {
        for (const char *p = lines[i]; *p != '\0'; p++) {
            if (p[0] == '%' && p[1] == 'D') {
                fputs(dir, f);
                p++;
            } else {
                fputc(*p, f);
            }
        }
        fputc('\n', f);
    }
    assert_int_equal(fclose(f), 0);
}

/* No symlinks in it: OpenSSH's sftp skips them in recursive transfers
 * (without -l) where amiko keeps them (test_cli_cp and test_sftp_tree
 * check those). */
static void
make_tree(const char *dir)
{
    char p[BUF];
    struct timespec ts[2] = { { .tv_sec = 1100000000 }, { .tv_sec = 1100000000 } };

    snprintf(p, sizeof(p), "mkdir -p '%s/l/tree/a/b' '%s/r' && printf 'hello\\n' > '%s/l/f' && "
        "head -c 40000 /dev/zero | tr '\\0' x > '%s/l/tree/a/big' && printf 'b' > '%s/l/tree/a/b/c' && "
        "chmod 700 '%s/l/tree/a/b'", dir, dir, dir, dir, dir, dir);
    assert_int_equal(system(p), 0);
    snprintf(p, sizeof(p), "%s/l/f", dir);
    assert_int_equal(chmod(p, 0604), 0);
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
    snprintf(p, sizeof(p), "%s/l/tree/a/big", dir);
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* Runs a client on @p batch; its stdout in *@p out (free it), its status. */
static int
run_client(int amiko, const char *batch, char **out)
{
    const char *argv[CLI_MAX_ARGS];
    int n, status;

    n = amiko ? cli_args(argv, "sftp") : cli_openssh_args(argv, SFTP_PATH);
    argv[n++] = "-b";
    argv[n++] = batch;
    argv[n++] = dest;
    argv[n] = NULL;
    status = cli_run(argv, NULL);
    *out = tf_read(cli_out_path, NULL);
    return status;
}

/*
 * stdout made comparable: @p dir replaced by "DIR", ls -l's second
 * column dropped and its HH:MM masked, df's numbers dropped.
 */
static char *
normalize(const char *out, const char *dir)
{
    size_t cap = strlen(out) + 1, dl = strlen(dir), n = 0;
    char *res = malloc(cap), *copy = strdup(out), *save = NULL;
    int in_df = 0;

    assert_non_null(res);
    assert_non_null(copy);
    res[0] = '\0';
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
        line = strtok_r(NULL, "\n", &save)) {
        char buf[BUF], *at;
        if (strncmp(line, "sftp> ", 6) == 0)
            in_df = strncmp(line + 6, "df", 2) == 0;
        else if (in_df)
            continue;
        /* OpenSSH's sftp names the directories of a recursive transfer */
        if (strncmp(line, "Entering ", 9) == 0 || strncmp(line, "Retrieving ", 11) == 0)
            continue;
        snprintf(buf, sizeof(buf), "%s", line);
        while ((at = strstr(buf, dir)) != NULL) {
            memmove(at + 3, at + dl, strlen(at + dl) + 1);
            memcpy(at, "DIR", 3);
        }
        if (strlen(buf) > 11 && strchr("-dlcbps", buf[0]) != NULL && buf[10] == ' ' &&
            (buf[1] == 'r' || buf[1] == '-')) {
            /* "-rw-r--r--    1 user ..." : drop the link count */
            char *p = buf + 10;
            while (*p == ' ')
                p++;
            while (*p != ' ' && *p != '\0')
                *p++ = ' ';
            /* squeeze runs of blanks: the widths differ with the column */
            {
                char *w = buf, *r = buf;
                for (; *r != '\0'; r++)
                    if (!(r[0] == ' ' && r[1] == ' '))
                        *w++ = *r;
                *w = '\0';
            }
            /* " HH:MM ": files the batch makes get the minute of the run,
             * and the two runs may straddle a minute */
            for (char *c = buf; (c = strchr(c + 1, ':')) != NULL;)
                if (c - buf >= 3 && c[-3] == ' ' && isdigit((unsigned char)c[-2]) &&
                    isdigit((unsigned char)c[-1]) && isdigit((unsigned char)c[1]) &&
                    isdigit((unsigned char)c[2]) && c[3] == ' ')
                    memcpy(c - 2, "hh:mm", 5);
        }
        if (n + strlen(buf) + 2 > cap) {
            cap = (n + strlen(buf) + 2) * 2;
            res = realloc(res, cap);
            assert_non_null(res);
        }
        n += (size_t)sprintf(res + n, "%s\n", buf);
    }
    free(copy);
    return res;
}

/* A listing of everything under @p dir (type, mode, size, contents hash,
 * link target, mtime when @p times) into @p out, in name order. */
static void
describe(const char *dir, const char *rel, char *out, size_t cap, int times)
{
    struct dirent **ents = NULL;
    char full[BUF];
    int n;

    snprintf(full, sizeof(full), "%s%s%s", dir, rel[0] != '\0' ? "/" : "", rel);
    n = scandir(full, &ents, NULL, alphasort);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        char sub[BUF], path[BUF * 2], line[BUF * 3], target[BUF] = "";
        struct stat st;
        const char *name = ents[i]->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            free(ents[i]);
            continue;
        }
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] != '\0' ? "/" : "", name);
        snprintf(path, sizeof(path), "%s/%s", dir, sub);
        assert_int_equal(lstat(path, &st), 0);
        if (S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(path, target, sizeof(target) - 1);
            assert_true(k > 0);
            target[k] = '\0';
        }
        {
            unsigned long sum = 0;
            if (S_ISREG(st.st_mode)) {
                size_t len;
                char *d = tf_read(path, &len);
                for (size_t k = 0; k < len; k++)
                    sum = sum * 31 + (unsigned char)d[k];
                free(d);
            }
            snprintf(line, sizeof(line), "%s %o %lld %lu %s %lld\n", sub,
                (unsigned)st.st_mode, S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size, sum,
                target, times && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode) &&
                st.st_mtime < 1200000000 ? (long long)st.st_mtime : 0LL);
        }
        strncat(out, line, cap - strlen(out) - 1);
        if (S_ISDIR(st.st_mode))
            describe(dir, sub, out, cap, times);
        free(ents[i]);
    }
    free(ents);
}

/* Fails naming the first line where @p a (amiko) and @p b (OpenSSH) differ. */
static void
expect_same(const char *what, const char *a, const char *b)
{
    const char *la = a, *lb = b;
    int line = 1;

    if (strcmp(a, b) == 0)
        return;
    while (*la != '\0' && *lb != '\0') {
        size_t ea = strcspn(la, "\n"), eb = strcspn(lb, "\n");
        if (ea != eb || memcmp(la, lb, ea) != 0)
            break;
        la += ea + (la[ea] != '\0');
        lb += eb + (lb[eb] != '\0');
        line++;
    }
    print_message("amiko sftp:\n%s\nOpenSSH sftp:\n%s\n", a, b);
    fail_msg("%s differ at line %d:\n amiko:   %.*s\n OpenSSH: %.*s", what, line,
        (int)strcspn(la, "\n"), la, (int)strcspn(lb, "\n"), lb);
}

/*
 * Runs @p batch with both clients, each in its own directory @p tag_a /
 * @p tag_b made by @p make, and checks they agree: exit status 0 for
 * OpenSSH and the same for amiko, the same normalized stdout (left in
 * *@p out_a for more checks; free it) and the same files (descriptions in
 * @p ta / @p tb, @p cap bytes, with times when @p times).
 */
static void
compare_batch(const char *tag_a, const char *tag_b, const char *const *batch,
    void (*make)(const char *), char **out_a, char *ta, char *tb, size_t cap, int times)
{
    char da[BUF], db[BUF], ba[BUF], bb[BUF], *oa, *ob, *nb;
    int sa, sb;

    snprintf(da, sizeof(da), "%s/%s", base, tag_a);
    snprintf(db, sizeof(db), "%s/%s", base, tag_b);
    make(da);
    make(db);
    snprintf(ba, sizeof(ba), "%s/batch.%s", base, tag_a);
    snprintf(bb, sizeof(bb), "%s/batch.%s", base, tag_b);
    write_batch(ba, batch, da);
    write_batch(bb, batch, db);
    sa = run_client(1, ba, &oa);
    sb = run_client(0, bb, &ob);
    assert_int_equal(sb, 0);
    if (sa != sb)
        fail_msg("amiko sftp exited %d, OpenSSH's sftp %d:\n%s\nstderr:\n%s", sa, sb, oa,
            tf_read(cli_err_path, NULL));
    *out_a = normalize(oa, da);
    nb = normalize(ob, db);
    expect_same("stdout", *out_a, nb);
    ta[0] = tb[0] = '\0';
    describe(da, "", ta, cap, times);
    describe(db, "", tb, cap, times);
    expect_same("files", ta, tb);
    free(oa);
    free(ob);
    free(nb);
}

static void
test_sftp_batch_every_command_as_openssh(void **state)
{
    static char ta[65536], tb[65536];
    char *na;

    (void)state;
    compare_batch("amiko", "ossh", batch_all, make_tree, &na, ta, tb, sizeof(ta), 1);
    /* the session ended at exit: the last command did not run */
    assert_null(strstr(na, "never"));
    /* what the batch should have made, checked on amiko's side */
    assert_non_null(strstr(ta, "r/ptree/a/big 100644 40000"));
    assert_non_null(strstr(ta, "r/renamed 100640 6"));
    assert_non_null(strstr(ta, "l/got/pptree/a/big 100644 40000"));
    assert_non_null(strstr(ta, " 1100000000\n"));
    assert_null(strstr(ta, "r/d "));
    free(na);
}

/* Wildcards: local ones for put, remote ones for ls, get, rm, chmod and
 * chown; several matches need a directory as the target; a pattern that
 * matches nothing fails the command. */
static const char *const batch_wild[] = {
    "lcd %D/l",
    "cd %D/r",
    "put g*.txt",
    "mkdir sub",
    "put g?.txt sub",
    "-put g*.txt ga.txt",
    "put [h]*",
    "ls",
    "ls g*",
    "ls sub/g*",
    "ls -l sub/*.txt",
    "-ls none*",
    "chmod 600 g*.txt",
    "chmod 604 sub/*",
    "lmkdir got",
    "get g*.txt got",
    "get sub/g[ab].txt got/",
    "-get none* got",
    "-get g*.txt got/ga.txt",
    "rm sub/g*",
    "-rm none*",
    "ls sub",
    "ls -l",
    NULL,
};

static void
make_wild(const char *dir)
{
    char p[BUF];

    snprintf(p, sizeof(p), "mkdir -p '%s/l' '%s/r' && cd '%s/l' && echo a > ga.txt && "
        "echo bb > gb.txt && echo ccc > gc.dat && echo h > h.txt && echo dot > .gdot.txt && "
        "chmod 644 ga.txt gb.txt gc.dat h.txt .gdot.txt", dir, dir, dir);
    assert_int_equal(system(p), 0);
}

static void
test_sftp_batch_wildcards_as_openssh(void **state)
{
    static char ta[65536], tb[65536];
    char *na;

    (void)state;
    compare_batch("wamiko", "wossh", batch_wild, make_wild, &na, ta, tb, sizeof(ta), 0);
    /* what the batch should have made, checked on amiko's side */
    assert_non_null(strstr(ta, "r/ga.txt 100600 2"));
    assert_non_null(strstr(ta, "r/gb.txt 100600 3"));
    assert_non_null(strstr(ta, "r/h.txt 100644 2"));
    assert_null(strstr(ta, "r/gc.dat"));
    assert_null(strstr(ta, "r/.gdot.txt"));
    assert_non_null(strstr(ta, "l/got/ga.txt 100600 2"));
    assert_non_null(strstr(ta, "l/got/gb.txt 100600 3"));
    assert_null(strstr(ta, "r/sub/g"));
    free(na);
}

/* Quoted and escaped wildcards name files, as OpenSSH's makeargv keeps
 * them escaped for its glob: `rm 'a*'` and `rm b\*` remove only "a*" and
 * "b*", `get 'a*' x` is one file, "file[1].txt" is fetched by quoting or
 * escaping. (Backslashes inside quotes: test_sftp_batch_syntax_as_openssh.) */
static const char *const batch_quoted[] = {
    "lcd %D/l",
    "cd %D/r",
    "get 'a*' got1",
    "get \"file[1].txt\"",
    "get file\\[1\\].txt fb",
    "put 'p*'",
    "put \"p*\" 'up*'",
    "mkdir 'm*'",
    "rename 'm*' 'n?'",
    "ln -s 'file[1].txt' 'l*'",
    "chmod 600 \"file[1].txt\"",
    "rm 'a*'",
    "rm b\\*",
    "rm x\\\\y",
    "ls",
    NULL,
};

static void
make_quoted(const char *dir)
{
    char p[BUF];

    snprintf(p, sizeof(p), "mkdir -p '%s/l' '%s/r' && cd '%s/r' && echo star > 'a*' && "
        "echo ab > ab && echo bstar > 'b*' && echo bc > bc && echo one > 'file[1].txt' && "
        "echo bs > 'x\\y' && chmod 644 * && cd ../l && echo pstar > 'p*' && echo pq > pq && "
        "chmod 644 *", dir, dir, dir);
    assert_int_equal(system(p), 0);
}

static void
test_sftp_batch_quoted_as_openssh(void **state)
{
    static char ta[65536], tb[65536];
    char *na;

    (void)state;
    compare_batch("qamiko", "qossh", batch_quoted, make_quoted, &na, ta, tb, sizeof(ta), 0);
    /* what the batch should have made, checked on amiko's side */
    assert_non_null(strstr(ta, "l/got1 100644 5"));
    assert_non_null(strstr(ta, "l/file[1].txt 100644 4"));
    assert_non_null(strstr(ta, "l/fb 100644 4"));
    assert_non_null(strstr(ta, "r/ab 100644"));
    assert_non_null(strstr(ta, "r/bc 100644"));
    assert_null(strstr(ta, "r/a* "));
    assert_null(strstr(ta, "r/b* "));
    assert_null(strstr(ta, "r/x\\y"));
    assert_non_null(strstr(ta, "r/p* 100644 6"));
    assert_null(strstr(ta, "r/pq "));
    assert_non_null(strstr(ta, "r/up* 100644 6"));
    assert_non_null(strstr(ta, "r/n? 40755"));
    assert_non_null(strstr(ta, "r/file[1].txt 100600 4"));
    assert_non_null(strstr(ta, " file[1].txt 0\n"));    /* the symlink l*: its target */
    free(na);
}

/* OpenSSH's makeargv and parse_args, line by line: a backslash in quotes
 * stays before anything but the quote itself, so a globbing command
 * (ls) reads 'a\b' as "ab" while mkdir makes "x\y"; '\\' is one
 * backslash; an unquoted '#' ends the line; command names have no case;
 * any run of '-' and '@' prefixes the command ('@': the line is not
 * echoed); paths past those a command takes are ignored; `cd` alone goes
 * back to the start; ls -1 prints a name a line, and a file's name in
 * its column; ls -a shows "." and ".." as the server lists them (in each
 * of its formats); a wildcard's matches show a directory with a '/' after
 * it, ".*" matching "../" and "./" (OpenSSH's glob, GLOB_MARK). */
static const char *const batch_syntax[] = {
    "cd %D/r",
    "lcd %D/l",
    "ls 'a\\b'",
    "ls a\\b",
    "ls 'a\\'b'",
    "ls \"a\\\"b\"",
    "ls a\\\\b",
    "mkdir 'x\\y'",
    "mkdir 'x\\\\z'",
    "mkdir \"q\\w\"",
    "mkdir s\\t",
    "mkdir 'm\\'n'",
    "mkdir 'k\\*'",
    "mkdir k\\\\\\*j",
    "mkdir \"h#i\"",
    "mkdir h#j",
    "MKDIR Upper # a comment",
    "@mkdir quiet",
    "-@rmdir missing1",
    "@-rmdir missing2",
    "--rmdir missing3",
    " - rmdir missing4",
    "rmdir h x\\\\z",
    "get ab got extra",
    "ls -1",
    "ls -a",
    "ls -1a",
    "ls -la",
    "ls -1a .*",
    "ls .*",
    "ls -la .*",
    "ls -1 *",
    "cd",
    "pwd",
    NULL,
};

static void
make_syntax(const char *dir)
{
    char p[BUF];

    snprintf(p, sizeof(p), "mkdir -p '%s/l' '%s/r' && cd '%s/r' && echo ab > ab && "
        "echo bs > 'a\\b' && echo q > \"a'b\" && echo dq > 'a\"b' && echo h > .hid && "
        "chmod 644 * .hid", dir, dir, dir);
    assert_int_equal(system(p), 0);
}

static void
test_sftp_batch_syntax_as_openssh(void **state)
{
    static char ta[65536], tb[65536];
    char *na;

    (void)state;
    compare_batch("samiko", "sopenh", batch_syntax, make_syntax, &na, ta, tb, sizeof(ta), 0);
    /* what the batch should have made, checked on amiko's side */
    assert_non_null(strstr(ta, "r/x\\y 40755"));
    assert_non_null(strstr(ta, "r/x\\z 40755"));
    assert_non_null(strstr(ta, "r/st 40755"));
    assert_non_null(strstr(ta, "r/k\\* 40755"));
    assert_non_null(strstr(ta, "r/h#i 40755"));
    assert_non_null(strstr(ta, "r/Upper 40755"));
    assert_non_null(strstr(ta, "r/quiet 40755"));
    assert_non_null(strstr(ta, "l/got 100644 3"));
    assert_null(strstr(ta, "r/h "));
    assert_null(strstr(ta, "extra"));
    assert_null(strstr(na, "sftp> @mkdir"));
    assert_null(strstr(na, "sftp> -@rmdir"));
    assert_non_null(strstr(na, "sftp> --rmdir missing3"));
    assert_non_null(strstr(na, "sftp> ls -1a\n.\n..\n.hid\n"));
    assert_non_null(strstr(na, "sftp> ls -1a .*\n../\n./\n.hid\n"));
    assert_non_null(strstr(na, "\nx\\y/\n"));
    free(na);
}

/*
 * Runs @p lines (%D: the client's directory DIR/@p tag_amk or _ssh, made
 * by the shell command @p setup, where %1$s is that directory) with both
 * clients: out[1] / err[1] amiko's stdout and stderr, [0] OpenSSH's, each
 * with its directory replaced by "DIR" (free them), st[] their statuses.
 */
static void
run_both(const char *tag, const char *const *lines, const char *setup, char *out[2],
    char *err[2], int st[2])
{
    for (int amiko = 0; amiko < 2; amiko++) {
        char dir[BUF], batch[BUF], p[BUF * 4], *raw;
        snprintf(dir, sizeof(dir), "%s/%s_%s", base, tag, amiko ? "amk" : "ssh");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(p, sizeof(p), setup, dir);
#pragma GCC diagnostic pop
        assert_int_equal(system(p), 0);
        snprintf(batch, sizeof(batch), "%s/batch", dir);
        write_batch(batch, lines, dir);
        st[amiko] = run_client(amiko, batch, &raw);
        out[amiko] = normalize(raw, dir);
        free(raw);
        raw = tf_read(cli_err_path, NULL);
        /* OpenSSH's log ends its lines with "\r\n" */
        {
            char *w = raw;
            for (const char *r = raw; *r != '\0'; r++)
                if (*r != '\r')
                    *w++ = *r;
            *w = '\0';
        }
        err[amiko] = normalize(raw, dir);
        free(raw);
    }
}

/*
 * Messages, as OpenSSH's sftp words them, compared on stderr too (with
 * each client's directory replaced): a missing path for ls ("Can't ls:
 * \"/abs\" not found"), get and get -r ("File \"/abs\" not found."),
 * and df, which fails saying nothing; chown reads its number in any C
 * base (0x..., as OpenSSH's strtoll with base 0). The last line fails and
 * ends the batch with status 1.
 */
static void
test_sftp_batch_messages_as_openssh(void **state)
{
    const char *lines[] = {
        "cd %D/r",
        "lcd %D/l",
        "-ls nothere",
        "-ls -l sub/nothere",
        "-get nothere",
        "-get -r nothere",
        "-get sub/nothere x",
        "-df nothere",
        "-df -h nothere",
        NULL,   /* chown of our own uid in hex */
        "ls -l nothere",
        "mkdir never",
        NULL,
    };
    char *out[2], *err[2], chown_line[64], p[BUF];
    int st[2];

    (void)state;
    /* our own uid, in hex: the change works unprivileged, and base 10 refuses it */
    snprintf(chown_line, sizeof(chown_line), "chown 0x%x f", (unsigned)getuid());
    lines[9] = chown_line;
    run_both("msg", lines, "mkdir -p '%1$s/r/sub' '%1$s/l' && echo x > '%1$s/r/f'", out, err, st);
    for (int amiko = 0; amiko < 2; amiko++) {
        snprintf(p, sizeof(p), "%s/msg_%s/r/never", base, amiko ? "amk" : "ssh");
        assert_int_equal(access(p, F_OK), -1);
    }
    if (st[0] != st[1])
        fail_msg("OpenSSH's sftp exited %d, amiko sftp %d:\n%s", st[0], st[1], err[1]);
    assert_int_equal(st[1], 1);
    expect_same("stdout", out[1], out[0]);
    expect_same("stderr", err[1], err[0]);
    assert_non_null(strstr(err[1], "Can't ls: \"DIR/r/nothere\" not found\n"));
    assert_non_null(strstr(err[1], "File \"DIR/r/sub/nothere\" not found.\n"));
    assert_null(strstr(err[1], "statvfs"));
    for (int k = 0; k < 2; k++) {
        free(out[k]);
        free(err[k]);
    }
}

/*
 * chmod, chown and chgrp as OpenSSH's sftp 9.2: its flag parsing (getopt
 * with -h only: "chown -5 f" is "chown: Invalid flag -5", "--" ends the
 * flags), its number checks (strtoll, base 0 for chown and chgrp, 8 for
 * chmod, 0 to 2^32-1: chmod 17777 is sent and the file gets 7777),
 * wildcards, -h acting on a symlink itself (lstat, lsetstat@openssh.com;
 * a symlink's mode cannot change on Linux: "Failure"), and its words for
 * a missing file ("stat remote: ..."). Compared: status, stdout, stderr
 * and the owner, group and mode of every file. Run as root the ids are
 * others than the files have, so each change shows; otherwise our own
 * (chown and chgrp to them still go through the server).
 */
static void
test_sftp_batch_attrs_as_openssh(void **state)
{
    char ids[4][48];
    const char *lines[] = {
        "cd %D/r",
        "-chown -5 f",
        "-chgrp -5 f",
        "-chmod -5 f",
        "-chown -x 5 f",
        "-chgrp --x 5 f",
        "-chgrp -h- 5 f",
        "-chgrp",
        "-chgrp 5",
        "-chgrp abc f",
        "-chgrp 99999999999 f",
        "-chgrp -- -5 f",
        "-chmod 0x10 f",
        "-chgrp 7 nothere",
        "-chown -h 7 nothere",
        "-chmod -h 600 nothere",
        "-chmod -h 600 lnk",
        ids[0],                 /* chgrp in hex of f* */
        ids[1],                 /* chgrp -h in octal of the dangling link */
        ids[2],                 /* chown -h -- of the link to f */
        ids[3],                 /* chown of g */
        "chmod 17777 h",
        "chgrp 0 nothere",
        "mkdir never",
        NULL,
    };
    static const char *const names[] = { "f", "fa", "g", "h", "lnk", "dangling" };
    unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
    char *out[2], *err[2], p[BUF];
    struct stat sa, sb;
    int st[2];

    (void)state;
    if (uid == 0) {
        uid = 4321;
        gid = 1234;
    }
    snprintf(ids[0], sizeof(ids[0]), "chgrp 0x%x f*", gid);
    snprintf(ids[1], sizeof(ids[1]), "chgrp -h 0%o dangling", gid);
    snprintf(ids[2], sizeof(ids[2]), "chown -h -- %u lnk", uid);
    snprintf(ids[3], sizeof(ids[3]), "chown %u g", uid);
    run_both("attr", lines, "mkdir -p '%1$s/r' && cd '%1$s/r' && echo f > f && echo fa > fa && "
        "echo g > g && echo h > h && chmod 644 f fa g h && ln -s f lnk && ln -s nowhere dangling",
        out, err, st);
    if (st[0] != st[1])
        fail_msg("OpenSSH's sftp exited %d, amiko sftp %d:\n%s", st[0], st[1], err[1]);
    assert_int_equal(st[1], 1);
    expect_same("stdout", out[1], out[0]);
    expect_same("stderr", err[1], err[0]);
    assert_non_null(strstr(err[1], "chown: Invalid flag -5\n"));
    assert_non_null(strstr(err[1], "stat remote: No such file or directory\n"));
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        snprintf(p, sizeof(p), "%s/attr_amk/r/%s", base, names[k]);
        assert_int_equal(lstat(p, &sa), 0);
        snprintf(p, sizeof(p), "%s/attr_ssh/r/%s", base, names[k]);
        assert_int_equal(lstat(p, &sb), 0);
        if (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid || sa.st_mode != sb.st_mode)
            fail_msg("%s: amiko %u:%u %o, OpenSSH %u:%u %o", names[k], (unsigned)sa.st_uid,
                (unsigned)sa.st_gid, (unsigned)sa.st_mode, (unsigned)sb.st_uid,
                (unsigned)sb.st_gid, (unsigned)sb.st_mode);
        /* what the batch should have made, checked on amiko's side */
        if (strcmp(names[k], "f") == 0 || strcmp(names[k], "fa") == 0 ||
            strcmp(names[k], "dangling") == 0)
            assert_int_equal(sa.st_gid, gid);
        if (strcmp(names[k], "lnk") == 0 || strcmp(names[k], "g") == 0)
            assert_int_equal(sa.st_uid, uid);
        if (strcmp(names[k], "h") == 0)
            assert_int_equal(sa.st_mode & 07777, 07777);
    }
    snprintf(p, sizeof(p), "%s/attr_amk/r/never", base);
    assert_int_equal(access(p, F_OK), -1);
    for (int k = 0; k < 2; k++) {
        free(out[k]);
        free(err[k]);
    }
}

/* File names with ESC and BEL (a screen clear, a title change) are shown
 * escaped, as OpenSSH's sftp does (\033, \007): in ls, ls -l and in
 * messages, never as the raw bytes a terminal would act on. */
static void
test_sftp_batch_escapes_names(void **state)
{
    static const char *const lines[] = {
        "cd %D/r",
        "ls",
        "ls -l",
        "ls *x*",
        "lcd %D/l",
        "-get d*",
        "get *x*",
        NULL,
    };
    char dir[BUF], batch[BUF], p[BUF * 2], *out, *err;
    int st;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/escapes", base);
    snprintf(p, sizeof(p), "mkdir -p '%s/l' '%s/r' && cd '%s/r' && printf esc > "
        "\"$(printf 'e\\033[2Jx\\007y')\" && mkdir \"$(printf 'd\\033]0;t\\007')\"", dir, dir, dir);
    assert_int_equal(system(p), 0);
    snprintf(batch, sizeof(batch), "%s/batch", dir);
    write_batch(batch, lines, dir);
    st = run_client(1, batch, &out);
    err = tf_read(cli_err_path, NULL);
    assert_int_equal(st, 0);
    /* ls, ls -l, ls with a pattern: three times escaped, never raw */
    {
        int count = 0;
        for (const char *q = out; (q = strstr(q, "e\\033[2Jx\\007y")) != NULL; q++)
            count++;
        assert_true(count >= 3);
    }
    assert_null(strchr(out, '\033'));
    assert_null(strchr(out, '\007'));
    /* the message of the failed get (a directory without -r) names it escaped */
    assert_non_null(strstr(err, "/d\\033]0;t\\007: is a directory"));
    assert_null(strchr(err, '\033'));
    assert_null(strchr(err, '\007'));
    /* and the file is still fetched under its own name */
    snprintf(p, sizeof(p), "%s/l/e\033[2Jx\007y", dir);
    assert_int_equal(tf_size(p), 3);
    free(out);
    free(err);
}

/* A failing command ends the batch with 1 (both clients), a '-' one does not. */
static void
test_sftp_batch_errors_as_openssh(void **state)
{
    static const char *const cases[][4] = {
        /* rmdir of a directory that is not empty ends the batch */
        { "mkdir %D/r/full", "put %D/l/f %D/r/full/f", "rmdir %D/r/full", "mkdir %D/r/after" },
        /* '-' lets failures pass: an unknown command, rm, rmdir, chmod, cd of
         * missing paths; then a get of a missing file ends it */
        { "-bogus command", "-rm %D/r/nothing", "-cd %D/r/nothing", "get %D/r/nothing %D/l/x" },
        { "-rmdir %D/r/nothing", "-chmod 600 %D/r/nothing", "-get %D/r/nothing %D/l/x",
          "mkdir %D/r/after" },
        /* rm of a pattern stops at its first failure (a1, a directory), as
         * OpenSSH's sftp in a batch: a2 stays */
        { "mkdir %D/r/a1", "put %D/l/f %D/r/a2", "rm %D/r/a*", "mkdir %D/r/after" },
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        int status[2];
        int after[2], kept[2];
        for (int amiko = 0; amiko < 2; amiko++) {
            char dir[BUF], batch[BUF], p[BUF * 2], *out;
            const char *lines[5] = { NULL };
            for (int k = 0; k < 4; k++)
                lines[k] = cases[c][k];
            snprintf(dir, sizeof(dir), "%s/err%zu_%d", base, c, amiko);
            snprintf(p, sizeof(p), "mkdir -p '%s/r' '%s/l' && echo x > '%s/l/f'", dir, dir, dir);
            assert_int_equal(system(p), 0);
            snprintf(batch, sizeof(batch), "%s/batch", dir);
            write_batch(batch, lines, dir);
            status[amiko] = run_client(amiko, batch, &out);
            free(out);
            snprintf(p, sizeof(p), "%s/r/after", dir);
            after[amiko] = access(p, F_OK) == 0;
            snprintf(p, sizeof(p), "%s/r/a2", dir);
            kept[amiko] = access(p, F_OK) == 0;
        }
        if (status[0] != status[1] || after[0] != after[1] || kept[0] != kept[1])
            fail_msg("case %zu: OpenSSH's sftp exited %d (after: %d, a2: %d), amiko sftp %d "
                "(after: %d, a2: %d)", c, status[0], after[0], kept[0], status[1], after[1],
                kept[1]);
        /* the cases with an unprefixed failure stop there */
        assert_int_equal(status[1], c == 2 ? 0 : 1);
        if (c == 3)
            assert_true(kept[1]);
    }
    /* amiko's messages: cd of a missing directory says it is missing (not
     * "not a directory"), a get of a missing file names it once */
    {
        const char *lines[] = { "-cd %D/r/nothing", "-get %D/r/nothing %D/l/x", NULL };
        char dir[BUF], batch[BUF], p[BUF * 2], *out, *err;
        int count = 0;
        snprintf(dir, sizeof(dir), "%s/errmsg", base);
        snprintf(p, sizeof(p), "mkdir -p '%s/r' '%s/l'", dir, dir);
        assert_int_equal(system(p), 0);
        snprintf(batch, sizeof(batch), "%s/batch", dir);
        write_batch(batch, lines, dir);
        assert_int_equal(run_client(1, batch, &out), 0);
        err = tf_read(cli_err_path, NULL);
        for (const char *q = err; (q = strstr(q, "/r/nothing")) != NULL; q++)
            count++;
        if (strstr(err, "No such file") == NULL || strstr(err, "not a directory") != NULL ||
            count != 2)
            fail_msg("messages:\n%s", err);
        free(out);
        free(err);
    }
    /* USER and LOGNAME unset and no user@: the user this runs as
     * (getpwuid), as OpenSSH's sftp, not "no user name" */
    {
        char *const env[] = { "USER", "LOGNAME", NULL };
        const char *argv[CLI_MAX_ARGS];
        char batch[BUF], *out, *err;
        const char *lines[] = { "pwd", NULL };
        int n = cli_args(argv, "sftp"), st;
        snprintf(batch, sizeof(batch), "%s/batch.nouser", base);
        write_batch(batch, lines, base);
        argv[n++] = "-b";
        argv[n++] = batch;
        argv[n++] = "127.0.0.1";
        argv[n] = NULL;
        st = cli_wait(cli_spawn_env(argv, NULL, env));
        out = tf_read(cli_out_path, NULL);
        err = tf_read(cli_err_path, NULL);
        if (st != 0 || strstr(out, "Remote working directory: /") == NULL)
            fail_msg("amiko sftp without USER exited %d:\n%s%s", st, out, err);
        free(out);
        free(err);
    }
}

static int
group_setup(void **state)
{
    (void)state;
    if (access(SFTP_PATH, X_OK) != 0) {
        fprintf(stderr, "skipped: OpenSSH's sftp is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (cli_setup(&fx, base, sizeof(base), "sftpb", AMK_TOOL_PATH) != 0)
        return -1;
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    cli_teardown(&fx, base);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_batch_every_command_as_openssh),
        cmocka_unit_test(test_sftp_batch_errors_as_openssh),
        cmocka_unit_test(test_sftp_batch_wildcards_as_openssh),
        cmocka_unit_test(test_sftp_batch_quoted_as_openssh),
        cmocka_unit_test(test_sftp_batch_syntax_as_openssh),
        cmocka_unit_test(test_sftp_batch_messages_as_openssh),
        cmocka_unit_test(test_sftp_batch_attrs_as_openssh),
        cmocka_unit_test(test_sftp_batch_escapes_names),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
