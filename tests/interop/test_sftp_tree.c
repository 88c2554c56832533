/*
 * Interop: amk_sftp_tree_get / amk_sftp_tree_put against a real OpenSSH
 * sshd (its sftp-server), through the public client API. A tree with
 * nested directories, symlinks, modes and times goes up and back down
 * with AMK_SFTP_TREE_PRESERVE; the progress callback's tree totals;
 * transfers stopped midway by the progress callback (as a killed process
 * would be) resume to identical trees; an interrupted atomic put leaves
 * the old file under the final name untouched and a ".NAME.amkpart";
 * --inplace resumes the final name; a replaced file keeps its mode
 * without PRESERVE; errors per path with the server's
 * message: missing files, permission denied, a directory that is not
 * empty where a file should go, symlinks in the target where the tree
 * has a directory or a file (not written through);
 * examples/sftp_tree.c run as a program.
 *
 * Permission denied needs a user the files refuse: as root (CI) the test
 * runs OpenSSH's sftp-server as nobody (setpriv) over a socketpair with
 * amk_sftp_new_io(), as test_sftp_server does; otherwise it uses a
 * chmod 000 directory through sshd.
 */
#include "test_helper.h"

/* paths are built in fixed buffers far larger than the temporary directory */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "sshd_fixture.h"

#define SFTP_SERVER "/usr/lib/openssh/sftp-server"
#define SETPRIV "/usr/bin/setpriv"
#define BUF 1024
#define BIG ((size_t)3 * 1024 * 1024 + 17)
/* larger than the bytes a put keeps in flight (16 MB): stopped during its
 * first writes, a put of it leaves a part file shorter than the source */
#define HUGE ((size_t)24 * 1024 * 1024 + 5)
#define STOP_CODE AMK_ELIMIT        /* what the progress callback stops with */

static struct sshd_fixture fx;
static char base[256], work[512];
static struct amk_client *client;
static struct amk_sftp *sftp;

/* --- Helpers ------------------------------------------------------------ */

static void
use_dir(const char *name)
{
    char cmd[BUF * 2];

    snprintf(work, sizeof(work), "%s/%s", base, name);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && chmod 755 '%s'", work, work,
        work);
    assert_int_equal(system(cmd), 0);
}

static void
at(char *out, const char *rel)
{
    snprintf(out, BUF, "%s/%s", work, rel);
}

static void
make_file(const char *rel, size_t size, uint32_t seed, mode_t mode, time_t mtime)
{
    char p[BUF];

    at(p, rel);
    tf_make(p, size, seed);
    assert_int_equal(chmod(p, mode), 0);
    if (mtime != 0) {
        struct timespec ts[2] = { { .tv_sec = mtime - 5 }, { .tv_sec = mtime } };
        assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
    }
}

static void
make_dir(const char *rel, mode_t mode)
{
    char p[BUF];

    at(p, rel);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(chmod(p, mode), 0);
}

static off_t
size_of(const char *rel)
{
    char p[BUF];
    struct stat st;

    at(p, rel);
    return lstat(p, &st) == 0 ? st.st_size : -1;
}

static void
same(const char *a, const char *b)
{
    char pa[BUF], pb[BUF];

    at(pa, a);
    at(pb, b);
    if (!tf_same(pa, pb))
        fail_msg("%s and %s differ", a, b);
}

static void
check_mode_time(const char *rel, mode_t mode, time_t mtime)
{
    char p[BUF];
    struct stat st;

    at(p, rel);
    if (lstat(p, &st) != 0)
        fail_msg("%s: %s", p, strerror(errno));
    if ((st.st_mode & 07777) != mode)
        fail_msg("%s: mode %o, expected %o", rel, (unsigned)(st.st_mode & 07777), (unsigned)mode);
    if (mtime != 0 && st.st_mtime != mtime)
        fail_msg("%s: mtime %ld, expected %ld", rel, (long)st.st_mtime, (long)mtime);
}

static void
check_link(const char *rel, const char *want)
{
    char p[BUF], t[BUF];
    ssize_t n;

    at(p, rel);
    n = readlink(p, t, sizeof(t) - 1);
    if (n < 0)
        fail_msg("%s is not a symlink", rel);
    t[n] = '\0';
    assert_string_equal(t, want);
}

/* The tree every case starts from, under "src". */
static void
make_tree(void)
{
    char p[BUF];

    make_dir("src", 0755);
    make_dir("src/one", 0750);
    make_dir("src/one/two", 0700);
    make_dir("src/one/two/three", 0755);
    make_dir("src/empty", 0711);
    make_file("src/top", 1, 1, 0644, 1000000000);
    make_file("src/one/big", BIG, 2, 0600, 1100000000);
    make_file("src/one/two/mid", 32769, 3, 0640, 1200000000);
    make_file("src/one/two/three/zero", 0, 4, 0444, 1300000000);
    make_file("src/one/two/three/deep", 32768, 5, 0755, 0);
    at(p, "src/rel-link");
    assert_int_equal(symlink("one/two/mid", p), 0);
    at(p, "src/one/abs-link");
    assert_int_equal(symlink("/nonexistent/target", p), 0);
}

/* The copy at @p dst has everything of "src" (modes and times with @p preserve). */
static void
check_tree(const char *dst, int preserve)
{
    char a[BUF], b[BUF];
    static const char *const files[] = { "top", "one/big", "one/two/mid", "one/two/three/zero",
        "one/two/three/deep" };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(a, sizeof(a), "src/%s", files[i]);
        snprintf(b, sizeof(b), "%s/%s", dst, files[i]);
        same(a, b);
    }
    snprintf(b, sizeof(b), "%s/rel-link", dst);
    check_link(b, "one/two/mid");
    snprintf(b, sizeof(b), "%s/one/abs-link", dst);
    check_link(b, "/nonexistent/target");
    snprintf(b, sizeof(b), "%s/empty", dst);
    assert_true(size_of(b) >= 0);
    if (!preserve)
        return;
    snprintf(b, sizeof(b), "%s/top", dst);
    check_mode_time(b, 0644, 1000000000);
    snprintf(b, sizeof(b), "%s/one/big", dst);
    check_mode_time(b, 0600, 1100000000);
    snprintf(b, sizeof(b), "%s/one/two/mid", dst);
    check_mode_time(b, 0640, 1200000000);
    snprintf(b, sizeof(b), "%s/one/two/three/zero", dst);
    check_mode_time(b, 0444, 1300000000);
    snprintf(b, sizeof(b), "%s/one/two/three/deep", dst);
    check_mode_time(b, 0755, 0);
    snprintf(b, sizeof(b), "%s/one", dst);
    check_mode_time(b, 0750, 0);
    snprintf(b, sizeof(b), "%s/one/two", dst);
    check_mode_time(b, 0700, 0);
    snprintf(b, sizeof(b), "%s/empty", dst);
    check_mode_time(b, 0711, 0);
}

/* --- Callbacks ------------------------------------------------------------ */

struct watch {
    uint64_t calls, last_done, total, files_total, files_done;
    uint64_t stop_at;           /* stop once done reaches this (0: never) */
    const char *stop_in;        /* or once a file whose path ends so has progressed */
    int errors, stop_on_error;
    int last_code;
    char last_path[BUF], last_msg[BUF];
};

static int
watch_progress(void *user, const struct amk_sftp_tree_progress *p)
{
    struct watch *w = user;

    w->calls++;
    if (p->done < w->last_done && p->done != 0)
        fail_msg("tree progress went back: %llu after %llu", (unsigned long long)p->done,
            (unsigned long long)w->last_done);
    assert_true(p->file_done <= p->file_total || p->file_total == 0);
    if (p->done > p->total)
        fail_msg("%s: tree done %llu > total %llu (file %llu of %llu)", p->path,
            (unsigned long long)p->done, (unsigned long long)p->total,
            (unsigned long long)p->file_done, (unsigned long long)p->file_total);
    assert_non_null(p->path);
    w->last_done = p->done;
    w->total = p->total;
    w->files_total = p->files_total;
    w->files_done = p->files_done;
    if (w->stop_at != 0 && p->done >= w->stop_at)
        return STOP_CODE;
    if (w->stop_in != NULL && p->file_done > 0 && p->file_done < p->file_total &&
        strlen(p->path) >= strlen(w->stop_in) &&
        strcmp(p->path + strlen(p->path) - strlen(w->stop_in), w->stop_in) == 0)
        return STOP_CODE;
    return AMK_OK;
}

static int
watch_error(void *user, const char *path, int code, const char *message)
{
    struct watch *w = user;

    w->errors++;
    w->last_code = code;
    snprintf(w->last_path, sizeof(w->last_path), "%s", path);
    snprintf(w->last_msg, sizeof(w->last_msg), "%s", message);
    return w->stop_on_error ? code : AMK_OK;
}

static void
opts_for(struct amk_sftp_tree_opts *o, struct watch *w, unsigned flags)
{
    memset(w, 0, sizeof(*w));
    amk_sftp_tree_opts_init(o);
    o->flags = flags;
    o->progress = watch_progress;
    o->progress_user = w;
    o->on_error = watch_error;
    o->error_user = w;
}

/* --- Cases ------------------------------------------------------------------- */

static void
test_tree_round_trip_preserve(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    char src[BUF], dst[BUF], back[BUF];
    uint64_t want_total = 1 + BIG + 32769 + 0 + 32768;

    (void)state;
    use_dir("round_trip");
    make_tree();
    at(src, "src");
    at(dst, "up");
    at(back, "down");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_PRESERVE);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    assert_int_equal(w.errors, 0);
    assert_true(w.total == want_total);
    assert_true(w.last_done == want_total);
    assert_true(w.files_total == 5);
    assert_true(w.files_done == 5);
    check_tree("up", 1);
    assert_int_equal(size_of("up/.big.amkpart"), -1);
    assert_int_equal(size_of("up/one/.big.amkpart"), -1);
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_PRESERVE);
    ASSERT_OK(amk_sftp_tree_get(sftp, dst, back, &o));
    assert_int_equal(w.errors, 0);
    assert_true(w.total == want_total && w.last_done == want_total);
    check_tree("down", 1);
    /* without PRESERVE: contents and links, the modes are the defaults */
    at(back, "plain");
    amk_sftp_tree_opts_init(&o);
    o.flags = AMK_SFTP_TREE_RECURSIVE;      /* no callbacks */
    ASSERT_OK(amk_sftp_tree_get(sftp, dst, back, &o));
    check_tree("plain", 0);
    /* a second put merges into the existing directories and replaces the files */
    make_file("src/top", 7, 9, 0644, 0);
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    same("src/top", "up/top");
    /* a directory without RECURSIVE: AMK_EINVAL, named */
    opts_for(&o, &w, 0);
    ASSERT_AMK(AMK_EINVAL, amk_sftp_tree_put(sftp, src, dst, &o));
    assert_int_equal(w.errors, 1);
    assert_string_equal(w.last_path, src);
    /* one file alone, both ways */
    at(src, "src/one/two/mid");
    at(dst, "single");
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, NULL));
    same("src/one/two/mid", "single");
}

static void
test_tree_resume_after_interruption(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    char src[BUF], dst[BUF], back[BUF];

    (void)state;
    use_dir("resume");
    make_tree();
    at(src, "src");
    at(dst, "up");
    at(back, "down");
    /* stop the put inside one/huge: what is done is in place, huge is a part */
    make_file("src/one/huge", HUGE, 7, 0644, 0);
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_PRESERVE);
    w.stop_in = "/huge";
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_put(sftp, src, dst, &o));
    assert_int_equal(w.errors, 0);
    assert_int_equal(size_of("up/one/huge"), -1);
    assert_true(size_of("up/one/.huge.amkpart") > 0);
    assert_true(size_of("up/one/.huge.amkpart") < (off_t)HUGE);
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_PRESERVE | AMK_SFTP_TREE_RESUME);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    check_tree("up", 1);
    same("src/one/huge", "up/one/huge");
    assert_int_equal(size_of("up/one/.huge.amkpart"), -1);
    /* a get stopped midway goes on from the local file's end */
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    w.stop_in = "/huge";
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_get(sftp, dst, back, &o));
    assert_true(size_of("down/one/huge") < (off_t)HUGE);
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE | AMK_SFTP_TREE_RESUME | AMK_SFTP_TREE_PRESERVE);
    ASSERT_OK(amk_sftp_tree_get(sftp, dst, back, &o));
    check_tree("down", 1);
    same("src/one/huge", "down/one/huge");
}

static void
test_tree_atomic_put_interrupted(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    char src[BUF], dst[BUF];

    (void)state;
    use_dir("atomic");
    make_file("new", BIG, 21, 0644, 0);
    make_file("target", 100, 22, 0644, 0);
    make_file("old", 100, 22, 0644, 0);
    at(src, "new");
    at(dst, "target");
    /* the old file under the final name stays whole until the rename */
    opts_for(&o, &w, 0);
    w.stop_at = 1;
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_put(sftp, src, dst, &o));
    same("old", "target");
    assert_true(size_of(".target.amkpart") > 0);
    /* a fresh put (no RESUME) starts the part again and finishes */
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, NULL));
    same("new", "target");
    assert_int_equal(size_of(".target.amkpart"), -1);
    /* a new name: nothing under it until complete */
    at(dst, "fresh");
    opts_for(&o, &w, 0);
    w.stop_at = 1;
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_put(sftp, src, dst, &o));
    assert_int_equal(size_of("fresh"), -1);
    /* INPLACE: the final name grows, RESUME continues it */
    make_file("huge", HUGE, 23, 0644, 0);
    at(src, "huge");
    at(dst, "inplace");
    opts_for(&o, &w, AMK_SFTP_TREE_INPLACE);
    w.stop_at = 1;
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_put(sftp, src, dst, &o));
    assert_true(size_of("inplace") >= 0 && size_of("inplace") < (off_t)HUGE);
    assert_int_equal(size_of(".inplace.amkpart"), -1);
    opts_for(&o, &w, AMK_SFTP_TREE_INPLACE | AMK_SFTP_TREE_RESUME);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    same("huge", "inplace");
    /* RESUME with the final name complete and no part: nothing to send */
    at(src, "new");
    at(dst, "target");
    opts_for(&o, &w, AMK_SFTP_TREE_RESUME);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    assert_true(w.last_done == BIG && w.files_done == 1);
    same("new", "target");
}

/* Without PRESERVE a put that replaces a file keeps that file's mode (as
 * OpenSSH's sftp and rsync do), atomic or in place; a new file takes its
 * source's; PRESERVE gives the source's to both. */
static void
test_tree_put_keeps_replaced_mode(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    char src[BUF], dst[BUF], p[BUF];

    (void)state;
    use_dir("keep_mode");
    make_file("new", 100, 31, 0755, 0);
    make_file("secret", 10, 32, 0600, 0);
    make_file("inplace", 10, 33, 0640, 0);
    make_file("big", BIG, 38, 0644, 0);
    make_file("bigsecret", BIG, 39, 0600, 0);
    at(src, "new");
    /* a 0600 file replaced by a 0755 one stays 0600 */
    at(dst, "secret");
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, NULL));
    same("new", "secret");
    check_mode_time("secret", 0600, 0);
    /* the part of a put over it is 0600 from its creation: stopped midway,
     * the new contents were never readable by others */
    at(src, "big");
    opts_for(&o, &w, 0);
    w.stop_at = 1;
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_put(sftp, src, dst, &o));
    assert_true(size_of(".secret.amkpart") > 0);
    check_mode_time(".secret.amkpart", 0600, 0);
    same("new", "secret");
    /* so is a get's new local file of a 0600 remote one, midway and after */
    at(src, "bigsecret");
    at(dst, "got");
    opts_for(&o, &w, 0);
    w.stop_at = 1;
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_get(sftp, src, dst, &o));
    assert_true(size_of("got") >= 0 && size_of("got") < (off_t)BIG);
    check_mode_time("got", 0600, 0);
    at(dst, "got2");
    ASSERT_OK(amk_sftp_tree_get(sftp, src, dst, NULL));
    same("bigsecret", "got2");
    check_mode_time("got2", 0600, 0);
    at(src, "new");
    /* the same in place */
    at(dst, "inplace");
    amk_sftp_tree_opts_init(&o);
    o.flags = AMK_SFTP_TREE_INPLACE;
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    same("new", "inplace");
    check_mode_time("inplace", 0640, 0);
    /* a new name, in a directory that existed: the source's mode */
    at(dst, "fresh");
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, NULL));
    check_mode_time("fresh", 0755, 0);
    /* PRESERVE: the source's mode over the old one */
    at(dst, "secret");
    o.flags = AMK_SFTP_TREE_PRESERVE;
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    check_mode_time("secret", 0755, 0);
    /* a tree put into a new directory, then again over it */
    make_dir("tsrc", 0755);
    make_file("tsrc/a", 10, 34, 0644, 0);
    make_file("tsrc/b", 10, 35, 0700, 0);
    at(src, "tsrc");
    at(dst, "tdst");
    o.flags = AMK_SFTP_TREE_RECURSIVE;
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    check_mode_time("tdst/a", 0644, 0);
    check_mode_time("tdst/b", 0700, 0);
    at(p, "tdst/a");
    assert_int_equal(chmod(p, 0640), 0);
    at(p, "tdst/b");
    assert_int_equal(chmod(p, 0750), 0);
    make_file("tsrc/a", 20, 36, 0644, 0);
    make_file("tsrc/c", 10, 37, 0711, 0);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    same("tsrc/a", "tdst/a");
    check_mode_time("tdst/a", 0640, 0);
    check_mode_time("tdst/b", 0750, 0);
    check_mode_time("tdst/c", 0711, 0);
    /* a read-only source: its part is created writable by its owner, so a
     * resume can open it again; the copy ends with the source's 0444 */
    make_file("ro", BIG, 40, 0444, 0);
    at(src, "ro");
    at(dst, "ro-copy");
    opts_for(&o, &w, 0);
    w.stop_at = 1;
    ASSERT_AMK(STOP_CODE, amk_sftp_tree_put(sftp, src, dst, &o));
    check_mode_time(".ro-copy.amkpart", 0644, 0);
    opts_for(&o, &w, AMK_SFTP_TREE_RESUME);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    same("ro", "ro-copy");
    check_mode_time("ro-copy", 0444, 0);
    /* the same in place */
    at(dst, "ro-inplace");
    opts_for(&o, &w, AMK_SFTP_TREE_INPLACE);
    ASSERT_OK(amk_sftp_tree_put(sftp, src, dst, &o));
    same("ro", "ro-inplace");
    check_mode_time("ro-inplace", 0444, 0);
}

static void
test_tree_errors_per_path(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    char src[BUF], dst[BUF];

    (void)state;
    use_dir("errors");
    /* a missing remote source: AMK_ENOENT, the server's message */
    at(src, "missing");
    at(dst, "got");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_AMK(AMK_ENOENT, amk_sftp_tree_get(sftp, src, dst, &o));
    assert_int_equal(w.errors, 1);
    assert_string_equal(w.last_path, src);
    if (strstr(w.last_msg, "No such file") == NULL)
        fail_msg("message: %s", w.last_msg);
    assert_int_equal(size_of("got"), -1);
    /* without an error callback: the same code */
    ASSERT_AMK(AMK_ENOENT, amk_sftp_tree_get(sftp, src, dst, NULL));
    /* a missing local source */
    ASSERT_AMK(AMK_ENOENT, amk_sftp_tree_put(sftp, src, dst, NULL));
    /* a file where a non-empty directory is: refused, named, the rest goes on */
    make_dir("src", 0755);
    make_file("src/a", 10, 1, 0644, 0);
    make_file("src/b", 10, 2, 0644, 0);
    make_dir("dst", 0755);
    make_dir("dst/a", 0755);
    make_file("dst/a/inside", 3, 3, 0644, 0);
    at(src, "src");
    at(dst, "dst");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_AMK(AMK_EREMOTE, amk_sftp_tree_put(sftp, src, dst, &o));
    assert_int_equal(w.errors, 1);
    assert_int_equal(w.last_code, AMK_EREMOTE);
    assert_non_null(strstr(w.last_path, "dst/a"));
    assert_true(w.last_msg[0] != '\0');
    same("src/b", "dst/b");
    assert_true(size_of("dst/a/inside") == 3);
    /* the error callback can stop the transfer */
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    w.stop_on_error = 1;
    ASSERT_AMK(AMK_EREMOTE, amk_sftp_tree_put(sftp, src, dst, &o));
    /* a get onto a non-empty local directory: a local error, named */
    at(src, "src/a");
    at(dst, "dst/a");
    opts_for(&o, &w, 0);
    ASSERT_AMK(AMK_EIO, amk_sftp_tree_get(sftp, src, dst, &o));
    assert_int_equal(w.errors, 1);
    assert_non_null(strstr(w.last_msg, "Is a directory"));
    /* symlinks already in the target where the tree has a directory and a
     * file (left by an earlier copy that made them from a server's
     * listing): names from the server are not written through them */
    make_dir("victim", 0755);
    make_dir("src2", 0755);
    make_dir("src2/evil", 0755);
    make_file("src2/evil/pwn", 10, 4, 0644, 0);
    make_file("src2/f", 10, 5, 0644, 0);
    make_dir("dst2", 0755);
    at(src, "victim");
    at(dst, "dst2/evil");
    assert_int_equal(symlink(src, dst), 0);
    at(src, "victim/outside");
    at(dst, "dst2/f");
    assert_int_equal(symlink(src, dst), 0);
    at(src, "src2");
    at(dst, "dst2");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_AMK(AMK_EIO, amk_sftp_tree_get(sftp, src, dst, &o));
    assert_int_equal(w.errors, 2);
    assert_non_null(strstr(w.last_msg, "symlink"));
    assert_int_equal(size_of("victim/pwn"), -1);
    assert_int_equal(size_of("victim/outside"), -1);
    /* the destination itself may be the caller's symlink to a directory */
    make_dir("real", 0755);
    at(src, "real");
    at(dst, "via");
    assert_int_equal(symlink(src, dst), 0);
    at(src, "src2/evil");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_OK(amk_sftp_tree_get(sftp, src, dst, &o));
    same("src2/evil/pwn", "real/pwn");
}

/* --- Permission denied -------------------------------------------------------- */

struct child_server {
    int fd;
    pid_t pid;
};

static ssize_t
cs_read(void *user, void *buf, size_t len)
{
    struct child_server *cs = user;
    ssize_t n;

    do {
        n = read(cs->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? AMK_EIO : n;
}

static ssize_t
cs_write(void *user, const void *buf, size_t len)
{
    struct child_server *cs = user;
    ssize_t n;

    do {
        n = write(cs->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n <= 0 ? AMK_EIO : n;
}

/* Counts its calls in *user (an int). */
static int
count_progress(void *user, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    (*(int *)user)++;
    return AMK_OK;
}

/* A progress callback that turns the client non-blocking under the tree. */
static int
go_nonblocking(void *user, const struct amk_sftp_tree_progress *p)
{
    (void)p;
    return amk_client_set_blocking((struct amk_client *)user, 0);
}

static void
test_tree_needs_blocking(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    char src[BUF], dst[BUF];

    (void)state;
    use_dir("blocking");
    make_dir("src", 0755);
    make_file("src/a", (size_t)4 * 1024 * 1024, 1, 0644, 0);
    make_file("src/b", 1000, 2, 0644, 0);
    at(src, "src");
    at(dst, "dst");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    /* refused up front on a non-blocking client, before anything is made */
    ASSERT_OK(amk_client_set_blocking(client, 0));
    ASSERT_AMK(AMK_ESTATE, amk_sftp_tree_get(sftp, src, dst, &o));
    assert_non_null(strstr(amk_sftp_last_error(sftp), "blocking mode"));
    ASSERT_AMK(AMK_ESTATE, amk_sftp_tree_put(sftp, src, dst, &o));
    ASSERT_OK(amk_client_set_blocking(client, 1));
    assert_int_equal(w.errors, 0);
    assert_int_equal(access(dst, F_OK), -1);
    /* turned non-blocking mid-way: the whole tree stops with AMK_ESTATE,
     * no path is reported as failed */
    o.progress = go_nonblocking;
    o.progress_user = client;
    ASSERT_AMK(AMK_ESTATE, amk_sftp_tree_get(sftp, src, dst, &o));
    assert_int_equal(w.errors, 0);
    assert_non_null(strstr(amk_sftp_last_error(sftp), "AMK_EAGAIN"));
    ASSERT_OK(amk_client_set_blocking(client, 1));
    /* the file it was copying is not left pending: the same get made
     * now starts afresh with this call's callback, not the tree's */
    {
        char from[BUF], to[BUF];
        int calls = 0;

        at(from, "src/a");
        at(to, "dst/a");
        ASSERT_OK(amk_sftp_get(sftp, from, to, 0, count_progress, &calls));
        assert_true(calls > 0);
        same("src/a", "dst/a");
    }
    /* the ::amk_sftp is still good: the same tree, blocking, completes */
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_OK(amk_sftp_tree_get(sftp, src, dst, &o));
    assert_int_equal(w.errors, 0);
    same("src/a", "dst/a");
    same("src/b", "dst/b");
}

static void
test_tree_permission_denied(void **state)
{
    struct amk_sftp_tree_opts o;
    struct watch w;
    struct child_server cs = { -1, -1 };
    struct amk_sftp *s = sftp;
    char src[BUF], dst[BUF];
    int sv[2], st;

    (void)state;
    use_dir("denied");
    make_dir("locked", 0755);
    make_file("locked/secret", 10, 1, 0644, 0);
    make_dir("open", 0755);
    make_file("open/readable", 10, 2, 0644, 0);
    make_dir("src", 0755);
    make_file("src/f", 10, 3, 0644, 0);
    if (geteuid() == 0) {
        /* root reads everything: the server runs as nobody instead */
        if (access(SETPRIV, X_OK) != 0 || access(SFTP_SERVER, X_OK) != 0) {
            print_message("skipped: permission denied needs setpriv and sftp-server as root\n");
            return;
        }
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        cs.pid = fork();
        assert_true(cs.pid >= 0);
        if (cs.pid == 0) {
            dup2(sv[1], 0);
            dup2(sv[1], 1);
            execl(SETPRIV, SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups",
                SFTP_SERVER, (char *)NULL);
            _exit(127);
        }
        close(sv[1]);
        cs.fd = sv[0];
        ASSERT_OK(amk_sftp_new_io(&s, cs_read, cs_write, &cs));
        at(src, "locked");
        assert_int_equal(chmod(src, 0700), 0);
    } else {
        at(src, "locked");
        assert_int_equal(chmod(src, 0), 0);
    }
    /* a get of a directory the server may not read: AMK_EACCES, named */
    at(src, "locked");
    at(dst, "got");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_AMK(AMK_EACCES, amk_sftp_tree_get(s, src, dst, &o));
    assert_true(w.errors >= 1);
    assert_int_equal(w.last_code, AMK_EACCES);
    assert_non_null(strstr(w.last_path, "locked"));
    if (strstr(w.last_msg, "ermission denied") == NULL)
        fail_msg("message: %s", w.last_msg);
    /* a put into a directory the server may not write */
    at(src, "src");
    at(dst, geteuid() == 0 ? "open/src" : "locked/src");
    opts_for(&o, &w, AMK_SFTP_TREE_RECURSIVE);
    ASSERT_AMK(AMK_EACCES, amk_sftp_tree_put(s, src, dst, &o));
    assert_int_equal(w.last_code, AMK_EACCES);
    assert_non_null(strstr(w.last_path, "src"));
    assert_int_equal(size_of(geteuid() == 0 ? "open/src" : "locked/src"), -1);
    if (cs.pid > 0) {
        amk_sftp_free(s);
        close(cs.fd);
        kill(cs.pid, SIGTERM);
        waitpid(cs.pid, &st, 0);
    } else {
        at(src, "locked");
        assert_int_equal(chmod(src, 0755), 0);
    }
}

/* --- The example --------------------------------------------------------------- */

static void
copy_file(const char *from, const char *to, mode_t mode)
{
    size_t len;
    char *d = tf_read(from, &len);

    tf_write(to, d, len);
    free(d);
    assert_int_equal(chmod(to, mode), 0);
}

/* examples/sftp_tree.c as a program: its default keys and known_hosts
 * under a HOME of its own. */
static void
test_tree_example_program(void **state)
{
    char home[BUF], p[BUF], dest[128], src[BUF], dst[BUF], log[BUF], *old_home;
    int st;

    (void)state;
    use_dir("example");
    make_tree();
    at(home, "home");
    assert_int_equal(mkdir(home, 0700), 0);
    at(p, "home/.ssh");
    assert_int_equal(mkdir(p, 0700), 0);
    at(p, "home/.ssh/id_ed25519");
    copy_file(fx.user_key, p, 0600);
    at(p, "home/.ssh/known_hosts");
    copy_file(fx.known_hosts, p, 0644);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1:%u", fx.user, (unsigned)fx.port);
    at(src, "src");
    at(dst, "up");
    at(log, "example.log");
    old_home = getenv("HOME") != NULL ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", home, 1);
    {
        char *argv[] = { (char *)AMK_EXAMPLE_SFTP_TREE, dest, (char *)"put", src, dst, NULL };
        st = fixture_run(argv, log, 50000);
    }
    if (old_home != NULL)
        setenv("HOME", old_home, 1);
    free(old_home);
    if (st != 0)
        fail_msg("the example exited %d:\n%s", st, tf_read(log, NULL));
    check_tree("up", 1);
}

/* --- Fixture ------------------------------------------------------------------- */

static int
group_setup(void **state)
{
    int r;

    (void)state;
    if (cli_setup(&fx, base, sizeof(base), "tree", NULL) != 0)
        return -1;
    if (amk_client_new(&client) != AMK_OK ||
        amk_client_load_host_keys(client, fx.known_hosts) != AMK_OK ||
        amk_client_set_allow_default_keys(client, 0) != AMK_OK ||
        amk_client_set_timeout(client, 50000) != AMK_OK ||
        amk_client_add_key_file(client, fx.user_key) != AMK_OK)
        return -1;
    r = amk_client_connect(client, "127.0.0.1", fx.port, fx.user, NULL);
    if (r != AMK_OK) {
        fprintf(stderr, "connect: %s: %s\n", amk_errname(r), amk_client_last_error(client));
        return -1;
    }
    if ((r = amk_sftp_new_client(&sftp, client)) != AMK_OK) {
        fprintf(stderr, "sftp: %s\n", amk_errname(r));
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    amk_sftp_free(sftp);
    if (client != NULL && amk_client_close(client) != AMK_OK)
        fprintf(stderr, "close: %s\n", amk_client_last_error(client));
    amk_client_free(client);
    cli_teardown(&fx, base);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_round_trip_preserve),
        cmocka_unit_test(test_tree_resume_after_interruption),
        cmocka_unit_test(test_tree_atomic_put_interrupted),
        cmocka_unit_test(test_tree_put_keeps_replaced_mode),
        cmocka_unit_test(test_tree_errors_per_path),
        cmocka_unit_test(test_tree_permission_denied),
        cmocka_unit_test(test_tree_needs_blocking),
        cmocka_unit_test(test_tree_example_program),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
