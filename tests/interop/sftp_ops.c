/* The SFTP client's "every operation" suite; see sftp_ops.h. */
#include "test_helper.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/sftp_channel.h"
#include "file_util.h"
#include "io/session.h"
#include "sftp_ops.h"
#include "transport/pkt_sink.h"
#include "transport/transport.h"

#define BIG_SIZE ((size_t)64 * 1024 * 1024)
#define PATH_CAP 400

static void
path_of(const struct sftp_ops *o, char *out, const char *name)
{
    int n = snprintf(out, PATH_CAP, "%s/%s", o->work, name);

    assert_true(n > 0 && n < PATH_CAP);
}

/* Whether the server offers @p ext. One that must (all_extensions, not in
 * lacks) and does not fails the test, as does one in lacks that is there. */
static int
has(struct amk_sftp *s, const struct sftp_ops *o, const char *ext)
{
    int h = amk_sftp_has_extension(s, ext, NULL, NULL);

    for (size_t i = 0; o->lacks != NULL && o->lacks[i] != NULL; i++) {
        if (strcmp(o->lacks[i], ext) == 0) {
            if (h)
                fail_msg("the server offers %s, listed as lacking", ext);
            return 0;
        }
    }
    if (o->all_extensions && !h)
        fail_msg("the server does not offer %s", ext);
    return h;
}

/* --- whole files ------------------------------------------------------ */

static uint64_t progress_last;

static int
on_progress(void *user, uint64_t done, uint64_t total)
{
    (void)user;
    (void)total;
    assert_true(done >= progress_last);
    progress_last = done;
    return AMK_OK;
}

void
sftp_ops_files(struct amk_sftp *s, const struct sftp_ops *o)
{
    static const size_t sizes[] = { 0, 1, 32767, 32768, 32769, 1024 * 1024 + 1 };
    char src[PATH_CAP], remote[PATH_CAP], back[PATH_CAP];
    uint8_t *data = malloc(1024 * 1024 + 1);

    assert_non_null(data);
    if (has(s, o, "limits@openssh.com")) {
        size_t rl, wl;

        /* 255 KiB pieces, what both OpenSSH's server and amiko's offer */
        amk_sftp_io_sizes(s, &rl, &wl);
        assert_int_equal(rl, 255 * 1024);
        assert_int_equal(wl, 255 * 1024);
    }
    path_of(o, src, "src");
    path_of(o, remote, "remote");
    path_of(o, back, "back");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct amk_sftp_attrs a;

        tf_fill(data, sizes[i], (uint32_t)i + 1);
        tf_write(src, data, sizes[i]);
        progress_last = 0;
        ASSERT_OK(amk_sftp_put(s, src, remote, 0, on_progress, NULL));
        assert_int_equal(progress_last, sizes[i]);
        ASSERT_OK(amk_sftp_stat(s, remote, &a));
        assert_true(a.flags & AMK_SFTP_ATTR_SIZE);
        assert_int_equal(a.size, sizes[i]);
        assert_true(tf_same(src, remote));
        progress_last = 0;
        ASSERT_OK(amk_sftp_get(s, remote, back, 0, on_progress, NULL));
        assert_int_equal(progress_last, sizes[i]);
        assert_true(tf_same(src, back));
    }
    unlink(src);
    unlink(back);
    unlink(remote);
    free(data);
}

static int
abort_at_half(void *user, uint64_t done, uint64_t total)
{
    (void)user;
    return done >= total / 2 ? AMK_ETIMEOUT : AMK_OK;
}

void
sftp_ops_resume(struct amk_sftp *s, const struct sftp_ops *o)
{
    const size_t size = 3 * 1024 * 1024 + 7;
    char src[PATH_CAP], remote[PATH_CAP], back[PATH_CAP];
    uint8_t *data = malloc(size);
    struct amk_sftp_attrs a;
    struct stat st;
    struct timespec ts[2] = { { .tv_sec = 1111111111 }, { .tv_sec = 1222222222 } };

    assert_non_null(data);
    tf_fill(data, size, 42);
    path_of(o, src, "resume.src");
    path_of(o, remote, "resume.remote");
    path_of(o, back, "resume.back");
    tf_write(src, data, size);
    assert_int_equal(chmod(src, 0751), 0);
    assert_int_equal(utimensat(AT_FDCWD, src, ts, 0), 0);

    /* put: interrupted by the progress callback (the writes in flight
     * still land), cut short as a broken connection would leave it, resumed */
    ASSERT_AMK(AMK_ETIMEOUT, amk_sftp_put(s, src, remote, 0, abort_at_half, NULL));
    ASSERT_OK(amk_sftp_truncate(s, remote, size / 3));
    ASSERT_OK(amk_sftp_put(s, src, remote, AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE,
        NULL, NULL));
    assert_true(tf_same(src, remote));
    ASSERT_OK(amk_sftp_stat(s, remote, &a));
    assert_int_equal(a.permissions & 07777, 0751);
    assert_int_equal(a.mtime, 1222222222);

    /* get: interrupted, the partial copy is a clean prefix, resumed */
    ASSERT_AMK(AMK_ETIMEOUT, amk_sftp_get(s, remote, back, 0, abort_at_half, NULL));
    assert_int_equal(stat(back, &st), 0);
    assert_true((size_t)st.st_size >= size / 2 && (size_t)st.st_size < size);
    ASSERT_OK(amk_sftp_get(s, remote, back, AMK_SFTP_XFER_RESUME | AMK_SFTP_XFER_PRESERVE,
        NULL, NULL));
    assert_true(tf_same(src, back));
    assert_int_equal(stat(back, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0751);
    assert_int_equal(st.st_mtime, 1222222222);

    /* resuming onto a longer target is refused */
    tf_write(back, data, size);
    ASSERT_OK(amk_sftp_truncate(s, remote, 10));
    ASSERT_AMK(AMK_EINVAL, amk_sftp_get(s, remote, back, AMK_SFTP_XFER_RESUME, NULL, NULL));
    unlink(src);
    unlink(back);
    ASSERT_OK(amk_sftp_remove(s, remote));
    free(data);
}

void
sftp_ops_big(struct amk_sftp *s, const struct sftp_ops *o)
{
    char src[PATH_CAP], remote[PATH_CAP], back[PATH_CAP];

    path_of(o, src, "big.src");
    path_of(o, remote, "big.remote");
    path_of(o, back, "big.back");
    tf_make(src, BIG_SIZE, 99);
    ASSERT_OK(amk_sftp_put(s, src, remote, 0, NULL, NULL));
    ASSERT_OK(amk_sftp_get(s, remote, back, 0, NULL, NULL));
    assert_true(tf_same(src, remote));
    assert_true(tf_same(src, back));
    /* copy-data of all of it in one request (length 0): several slices
     * of amiko's server (AMK_SFTPS_COPY_SLICE) */
    if (has(s, o, "copy-data")) {
        struct amk_sftp_file *from = NULL, *to = NULL;

        path_of(o, back, "big.copy");
        ASSERT_OK(amk_sftp_open(s, remote, AMK_SFTP_READ, 0, &from));
        ASSERT_OK(amk_sftp_open(s, back, AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC,
            0600, &to));
        ASSERT_OK(amk_sftp_copy_data(from, 0, 0, to, 0));
        ASSERT_OK(amk_sftp_close(to));
        ASSERT_OK(amk_sftp_close(from));
        assert_true(tf_same(src, back));
        unlink(back);
        path_of(o, back, "big.back");
    }
    unlink(src);
    unlink(remote);
    unlink(back);
}

/* --- open handles ----------------------------------------------------- */

void
sftp_ops_file_handle(struct amk_sftp *s, const struct sftp_ops *o)
{
    static uint8_t buf[100000], back[100000];
    struct amk_sftp_file *f = NULL;
    struct amk_sftp_attrs a;
    char path[PATH_CAP];
    size_t got;

    path_of(o, path, "handle");
    tf_fill(buf, sizeof(buf), 7);
    ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, 0600, &f));
    ASSERT_OK(amk_sftp_write(f, buf, 50000));
    assert_int_equal(amk_sftp_tell(f), 50000);
    ASSERT_OK(amk_sftp_write(f, buf + 50000, 50000));
    ASSERT_OK(amk_sftp_fstat(f, &a));
    assert_int_equal(a.size, 100000);
    assert_int_equal(a.permissions & 0777, 0600);
    if (has(s, o, "fsync@openssh.com"))
        ASSERT_OK(amk_sftp_fsync(f));
    else
        ASSERT_AMK(AMK_ENOTSUP, amk_sftp_fsync(f));
    a.flags = AMK_SFTP_ATTR_PERMISSIONS;
    a.permissions = 0640;
    ASSERT_OK(amk_sftp_fsetstat(f, &a));
    ASSERT_OK(amk_sftp_close(f));

    ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_READ, 0, &f));
    ASSERT_OK(amk_sftp_pread(f, back, sizeof(back), 0, &got));
    assert_int_equal(got, sizeof(back));
    assert_memory_equal(buf, back, sizeof(back));
    /* beyond the end: short, then nothing */
    ASSERT_OK(amk_sftp_pread(f, back, 1000, 99500, &got));
    assert_int_equal(got, 500);
    assert_memory_equal(buf + 99500, back, 500);
    ASSERT_OK(amk_sftp_pread(f, back, 1000, 100000, &got));
    assert_int_equal(got, 0);
    /* seek and streaming reads */
    ASSERT_OK(amk_sftp_seek(f, -10, AMK_SFTP_SEEK_END));
    assert_int_equal(amk_sftp_tell(f), 99990);
    ASSERT_OK(amk_sftp_read(f, back, 100, &got));
    assert_int_equal(got, 10);
    assert_memory_equal(buf + 99990, back, 10);
    ASSERT_OK(amk_sftp_read(f, back, 100, &got));
    assert_int_equal(got, 0);
    ASSERT_OK(amk_sftp_seek(f, 5, AMK_SFTP_SEEK_SET));
    ASSERT_OK(amk_sftp_seek(f, 5, AMK_SFTP_SEEK_CUR));
    ASSERT_OK(amk_sftp_read(f, back, 3, &got));
    assert_memory_equal(buf + 10, back, 3);
    ASSERT_AMK(AMK_EINVAL, amk_sftp_seek(f, -100, AMK_SFTP_SEEK_SET));
    ASSERT_OK(amk_sftp_close(f));

    ASSERT_OK(amk_sftp_stat(s, path, &a));
    assert_int_equal(a.permissions & 0777, 0640);

    if (has(s, o, "fstatvfs@openssh.com")) {
        struct amk_sftp_statvfs vfs;

        ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_READ, 0, &f));
        ASSERT_OK(amk_sftp_fstatvfs(f, &vfs));
        assert_true(vfs.bsize > 0);
        ASSERT_OK(amk_sftp_close(f));
    }
    /* what is not offered is refused before anything is sent */
    if (!has(s, o, "copy-data") || !has(s, o, "fstatvfs@openssh.com")) {
        struct amk_sftp_statvfs vfs;

        ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_READ | AMK_SFTP_WRITE, 0, &f));
        if (!has(s, o, "copy-data"))
            ASSERT_AMK(AMK_ENOTSUP, amk_sftp_copy_data(f, 0, 10, f, 50));
        if (!has(s, o, "fstatvfs@openssh.com"))
            ASSERT_AMK(AMK_ENOTSUP, amk_sftp_fstatvfs(f, &vfs));
        ASSERT_OK(amk_sftp_close(f));
    }

    /* copy-data between handles */
    if (has(s, o, "copy-data")) {
        struct amk_sftp_file *to = NULL;
        char copy[PATH_CAP];

        path_of(o, copy, "handle.copy");
        ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_READ, 0, &f));
        ASSERT_OK(amk_sftp_open(s, copy, AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, 0600,
            &to));
        ASSERT_OK(amk_sftp_copy_data(f, 1000, 0, to, 0));
        ASSERT_OK(amk_sftp_close(to));
        ASSERT_OK(amk_sftp_close(f));
        ASSERT_OK(amk_sftp_stat(s, copy, &a));
        assert_int_equal(a.size, 99000);
        ASSERT_OK(amk_sftp_open(s, copy, AMK_SFTP_READ, 0, &f));
        ASSERT_OK(amk_sftp_pread(f, back, sizeof(back), 0, &got));
        assert_int_equal(got, 99000);
        assert_memory_equal(buf + 1000, back, 99000);
        ASSERT_OK(amk_sftp_close(f));
        ASSERT_OK(amk_sftp_remove(s, copy));
    }
    ASSERT_OK(amk_sftp_remove(s, path));
}

/* --- paths ------------------------------------------------------------ */

static int walk_stop_at;

static int
on_walk(void *user, const char *path, const struct amk_sftp_attrs *attrs)
{
    int *seen = user;

    assert_non_null(strstr(path, "/d/"));
    if (strstr(path, "/d/sub/deep") != NULL)
        assert_true(S_ISDIR(attrs->permissions));
    if (walk_stop_at != 0 && ++*seen >= walk_stop_at) {
        *seen = 0;
        return AMK_EREMOTE;
    }
    if (walk_stop_at == 0)
        ++*seen;
    return AMK_OK;
}

static void
make_file(struct amk_sftp *s, const char *path, const char *text)
{
    struct amk_sftp_file *f = NULL;

    ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_WRITE | AMK_SFTP_CREAT, 0644, &f));
    ASSERT_OK(amk_sftp_write(f, text, strlen(text)));
    ASSERT_OK(amk_sftp_close(f));
}

void
sftp_ops_paths(struct amk_sftp *s, const struct sftp_ops *o)
{
    struct amk_sftp_attrs a;
    struct amk_sftp_name *names = NULL;
    struct amk_sftp_statvfs vfs;
    char dir[PATH_CAP], file[PATH_CAP], file2[PATH_CAP], link[PATH_CAP], hard[PATH_CAP];
    char missing[PATH_CAP], real[PATH_MAX];
    char *out = NULL;
    size_t n;
    int saw = 0, hardlinks;

    path_of(o, dir, "d");
    path_of(o, file, "d/f");
    path_of(o, file2, "d/g");
    path_of(o, link, "d/l");
    path_of(o, hard, "d/h");
    path_of(o, missing, "missing");

    /* errors, each with the server's status kept */
    ASSERT_AMK(AMK_ENOENT, amk_sftp_stat(s, missing, &a));
    assert_int_equal(amk_sftp_last_status(s), 2);
    assert_non_null(strstr(amk_sftp_last_error(s), "SSH_FX_NO_SUCH_FILE"));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_remove(s, missing));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_get(s, missing, file, 0, NULL, NULL));
    if (access("/sys/kernel/notes", F_OK) == 0) {
        struct amk_sftp_file *f = NULL;

        /* sysfs refuses writing a read-only attribute even to root */
        ASSERT_AMK(AMK_EACCES, amk_sftp_open(s, "/sys/kernel/notes", AMK_SFTP_WRITE, 0, &f));
        assert_null(f);
        assert_int_equal(amk_sftp_last_status(s), 3);
    }

    ASSERT_OK(amk_sftp_mkdir(s, dir, 0755));
    ASSERT_AMK(AMK_EREMOTE, amk_sftp_mkdir(s, dir, 0755));
    ASSERT_OK(amk_sftp_stat(s, dir, &a));
    assert_true(S_ISDIR(a.permissions));
    make_file(s, file, "hello");
    ASSERT_AMK(AMK_EREMOTE, amk_sftp_rmdir(s, dir));       /* not empty */

    /* attributes */
    ASSERT_OK(amk_sftp_chmod(s, file, 0600));
    ASSERT_OK(amk_sftp_truncate(s, file, 3));
    ASSERT_OK(amk_sftp_chown(s, file, (uint32_t)getuid(), (uint32_t)getgid()));
    ASSERT_OK(amk_sftp_utime(s, file, 1000000000, 1234567890));
    ASSERT_OK(amk_sftp_stat(s, file, &a));
    assert_int_equal(a.permissions & 07777, 0600);
    assert_int_equal(a.mtime, 1234567890);
    assert_int_equal(a.atime, 1000000000);
    assert_int_equal(a.size, 3);
    assert_int_equal(a.uid, getuid());

    /* symlinks: the client picks the field order each server reads
     * (OpenSSH's reversed one, the draft's, Paramiko's by its banner) */
    ASSERT_OK(amk_sftp_symlink(s, "f", link));
    {
        char on_disk[PATH_CAP];
        ssize_t len = readlink(link, on_disk, sizeof(on_disk) - 1);

        /* the right way round: l is the link, f its target */
        assert_true(len > 0);
        on_disk[len] = '\0';
        assert_string_equal(on_disk, "f");
    }
    ASSERT_OK(amk_sftp_readlink(s, link, &out));
    assert_string_equal(out, (o->quirks & SFTP_QUIRK_READLINK_ABSOLUTE) ? file : "f");
    free(out);
    ASSERT_OK(amk_sftp_lstat(s, link, &a));
    if (o->quirks & SFTP_QUIRK_LSTAT_FOLLOWS)
        assert_true(S_ISREG(a.permissions));
    else
        assert_true(S_ISLNK(a.permissions));
    ASSERT_OK(amk_sftp_stat(s, link, &a));
    assert_true(S_ISREG(a.permissions));
    if (has(s, o, "lsetstat@openssh.com")) {
        struct amk_sftp_attrs t = { .flags = AMK_SFTP_ATTR_ACMODTIME, .atime = 5, .mtime = 6 };

        ASSERT_OK(amk_sftp_lsetstat(s, link, &t));
        ASSERT_OK(amk_sftp_lstat(s, link, &a));
        assert_int_equal(a.mtime, 6);
        ASSERT_OK(amk_sftp_stat(s, link, &a));      /* the link, not its target */
        assert_int_equal(a.mtime, 1234567890);
    } else {
        struct amk_sftp_attrs t = { .flags = AMK_SFTP_ATTR_ACMODTIME, .atime = 5, .mtime = 6 };

        ASSERT_AMK(AMK_ENOTSUP, amk_sftp_lsetstat(s, link, &t));
    }

    /* realpath, expand-path, home-directory */
    ASSERT_OK(amk_sftp_realpath(s, dir, &out));
    assert_non_null(realpath(dir, real));
    assert_string_equal(out, real);
    free(out);
    ASSERT_OK(amk_sftp_realpath(s, ".", &out));
    assert_true(out[0] == '/');
    free(out);
    if (has(s, o, "expand-path@openssh.com")) {
        ASSERT_OK(amk_sftp_expand_path(s, "~", &out));
        assert_true(out[0] == '/');
        free(out);
    } else {
        ASSERT_AMK(AMK_ENOTSUP, amk_sftp_expand_path(s, "~", &out));
        assert_null(out);
    }
    if (has(s, o, "home-directory")) {
        ASSERT_OK(amk_sftp_home_directory(s, o->user, &out));
        assert_true(out[0] == '/');
        free(out);
        ASSERT_AMK(AMK_EREMOTE, amk_sftp_home_directory(s, "no-such-user-amk", &out));
        assert_null(out);
    } else {
        ASSERT_AMK(AMK_ENOTSUP, amk_sftp_home_directory(s, o->user, &out));
        assert_null(out);
    }

    /* rename: posix-rename replaces the target; the draft's RENAME
     * refuses to (§6.5), so without it the target goes first */
    make_file(s, file2, "");
    if (!has(s, o, "posix-rename@openssh.com")) {
        ASSERT_AMK(AMK_EREMOTE, amk_sftp_rename(s, file2, file));
        ASSERT_OK(amk_sftp_stat(s, file, &a));
        assert_int_equal(a.size, 3);
        ASSERT_OK(amk_sftp_remove(s, file));
    }
    ASSERT_OK(amk_sftp_rename(s, file2, file));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_stat(s, file2, &a));
    ASSERT_OK(amk_sftp_stat(s, file, &a));
    assert_int_equal(a.size, 0);

    /* hardlink and statvfs */
    hardlinks = has(s, o, "hardlink@openssh.com");
    if (hardlinks) {
        ASSERT_OK(amk_sftp_hardlink(s, file, hard));
        ASSERT_OK(amk_sftp_stat(s, hard, &a));
    } else {
        ASSERT_AMK(AMK_ENOTSUP, amk_sftp_hardlink(s, file, hard));
    }
    if (has(s, o, "statvfs@openssh.com")) {
        ASSERT_OK(amk_sftp_statvfs(s, dir, &vfs));
        assert_true(vfs.bsize > 0);
        assert_true(vfs.namemax > 0);
    } else {
        ASSERT_AMK(AMK_ENOTSUP, amk_sftp_statvfs(s, dir, &vfs));
    }

    /* listing with attributes and ls -l lines */
    ASSERT_OK(amk_sftp_listdir(s, dir, &names, &n));
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(names[i].filename, ".");
        if (strcmp(names[i].filename, "f") == 0) {
            saw = 1;
            assert_true(names[i].attrs.flags & AMK_SFTP_ATTR_SIZE);
            assert_non_null(strstr(names[i].longname, " f"));
            assert_int_equal(names[i].longname[0], '-');
        }
    }
    assert_true(saw);
    assert_int_equal(n, hardlinks ? 3 : 2);
    amk_sftp_names_free(names, n);
    ASSERT_AMK(AMK_ENOENT, amk_sftp_listdir(s, missing, &names, &n));

    /* a walk sees every entry once, parents first */
    {
        char sub[PATH_CAP], deep[PATH_CAP];
        int seen = 0;

        path_of(o, sub, "d/sub");
        path_of(o, deep, "d/sub/deep");
        ASSERT_OK(amk_sftp_mkdir(s, sub, 0));
        ASSERT_OK(amk_sftp_mkdir(s, deep, 0));
        ASSERT_OK(amk_sftp_walk(s, dir, on_walk, &seen));
        assert_int_equal(seen, hardlinks ? 5 : 4);      /* f, l, sub, sub/deep (+ h) */
        walk_stop_at = 2;       /* the callback's code ends the walk */
        seen = 0;
        ASSERT_AMK(AMK_EREMOTE, amk_sftp_walk(s, dir, on_walk, &seen));
        walk_stop_at = 0;
        ASSERT_OK(amk_sftp_rmdir(s, deep));
        ASSERT_OK(amk_sftp_rmdir(s, sub));
    }

    /* clean up */
    ASSERT_OK(amk_sftp_remove(s, link));
    ASSERT_OK(amk_sftp_remove(s, file));
    if (hardlinks)
        ASSERT_OK(amk_sftp_remove(s, hard));
    ASSERT_OK(amk_sftp_rmdir(s, dir));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_rmdir(s, dir));
}

/* --- over sshd -------------------------------------------------------- */

void
sftp_remote_open(struct sftp_remote *rm, const struct sshd_fixture *fx,
    struct interop_hostkeys *hk, struct amk_key *key, struct amk_sftp **out)
{
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink;
    int r;

    memset(rm, 0, sizeof(*rm));
    ASSERT_OK(auth_open(&rm->ar, fx, hk, fx->user, 1));
    ASSERT_OK(amk_userauth_client_publickey(rm->ar.ua, key));
    r = auth_pump(&rm->ar);
    if (r != AMK_OK || !amk_userauth_client_authenticated(rm->ar.ua)) {
        sshd_fixture_dump_log(fx, 3000);
        fail_msg("authentication failed: %s", amk_errname(r));
    }
    memset(&cfg, 0, sizeof(cfg));
    sink = amk_transport_pkt_sink(amk_session_transport(rm->ar.s));
    ASSERT_OK(amk_conn_new(&rm->conn, &cfg, &sink));
    r = amk_sftp_open_channel(out, rm->ar.s, rm->conn);
    if (r != AMK_OK) {
        sshd_fixture_dump_log(fx, 3000);
        fail_msg("sftp over the channel: %s: %s", amk_errname(r),
            amk_conn_last_error(rm->conn));
    }
}

void
sftp_remote_close(struct sftp_remote *rm, struct amk_sftp *s)
{
    amk_sftp_free(s);
    amk_conn_free(rm->conn);
    auth_close(&rm->ar);
}
