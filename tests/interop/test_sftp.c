/*
 * Interop: amiko's SFTP client against OpenSSH's sftp-server, both
 * directly over a socketpair (the server as a child process) and through
 * sshd's "sftp" subsystem on a session channel after publickey
 * authentication. Every operation, its errors (missing file, permission
 * denied, directory not empty, existing directory), files of 0, 1, 32767,
 * 32768, 32769 and 1 MiB + 1 bytes round-tripped, and 64 MB get and put
 * with checksums, in a temporary directory (under /dev/shm when present).
 */
#include "test_helper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_driver.h"
#include "channel/conn.h"
#include "io/session.h"
#include "keys/key.h"
#include "client/sftp_channel.h"
#include "sshd_fixture.h"
#include "file_util.h"
#include "transport/pkt_sink.h"
#include "transport/transport.h"

#define SFTP_SERVER "/usr/lib/openssh/sftp-server"
#define BIG_SIZE ((size_t)64 * 1024 * 1024)

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *user_key;
static char base_dir[256];      /* temporary directory for files */
static char work[300];          /* the current test's directory in it */

/* --- sftp-server over a socketpair ----------------------------------- */

struct local_server {
    int fd;
    pid_t pid;
};

static ssize_t
fd_read(void *user, void *buf, size_t len)
{
    struct local_server *ls = user;
    ssize_t n;

    do {
        n = read(ls->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? AMK_EIO : n;
}

static ssize_t
fd_write(void *user, const void *buf, size_t len)
{
    struct local_server *ls = user;
    ssize_t n;

    do {
        n = write(ls->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n <= 0 ? AMK_EIO : n;
}

static void
local_start(struct local_server *ls)
{
    int sv[2];

    ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 ? AMK_OK : AMK_EIO);
    ls->pid = fork();
    assert_true(ls->pid >= 0);
    if (ls->pid == 0) {
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        execl(SFTP_SERVER, SFTP_SERVER, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    ls->fd = sv[0];
}

static void
local_stop(struct local_server *ls)
{
    int st;

    close(ls->fd);
    kill(ls->pid, SIGTERM);
    waitpid(ls->pid, &st, 0);
}

/* --- sftp over sshd -------------------------------------------------- */

struct remote {
    struct auth_run ar;
    struct amk_conn *conn;
};

static void
remote_open(struct remote *rm, struct amk_sftp **out)
{
    struct amk_conn_config cfg;
    struct amk_pkt_sink sink;
    int r;

    memset(rm, 0, sizeof(*rm));
    ASSERT_OK(auth_open(&rm->ar, &fx, &hk, fx.user, 1));
    ASSERT_OK(amk_userauth_client_publickey(rm->ar.ua, user_key));
    r = auth_pump(&rm->ar);
    if (r != AMK_OK || !amk_userauth_client_authenticated(rm->ar.ua)) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("authentication failed: %s", amk_errname(r));
    }
    memset(&cfg, 0, sizeof(cfg));
    sink = amk_transport_pkt_sink(amk_session_transport(rm->ar.s));
    ASSERT_OK(amk_conn_new(&rm->conn, &cfg, &sink));
    r = amk_sftp_open_channel(out, rm->ar.s, rm->conn);
    if (r != AMK_OK) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("sftp over the channel: %s: %s", amk_errname(r),
            amk_conn_last_error(rm->conn));
    }
}

static void
remote_close(struct remote *rm, struct amk_sftp *s)
{
    amk_sftp_free(s);
    amk_conn_free(rm->conn);
    auth_close(&rm->ar);
}

/* --- helpers --------------------------------------------------------- */

/* Each test works in its own directory. */
static void
use_dir(const char *name)
{
    snprintf(work, sizeof(work), "%s/%s", base_dir, name);
    assert_int_equal(mkdir(work, 0755), 0);
}

static void
path_of(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", work, name);

    assert_true(n > 0 && (size_t)n < cap);
}

static int progress_calls;
static uint64_t progress_last;

static int
on_progress(void *user, uint64_t done, uint64_t total)
{
    (void)user;
    (void)total;
    assert_true(done >= progress_last);
    progress_last = done;
    progress_calls++;
    return AMK_OK;
}

/* --- the operations, over either stream ------------------------------ */

static void
ops_files(struct amk_sftp *s)
{
    static const size_t sizes[] = { 0, 1, 32767, 32768, 32769, 1024 * 1024 + 1 };
    char src[300], remote[300], back[300];
    uint8_t *data = malloc(1024 * 1024 + 1);

    assert_non_null(data);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct amk_sftp_attrs a;

        tf_fill(data, sizes[i], (uint32_t)i + 1);
        path_of(src, sizeof(src), "src");
        path_of(remote, sizeof(remote), "remote");
        path_of(back, sizeof(back), "back");
        tf_write(src, data, sizes[i]);
        progress_calls = 0;
        progress_last = 0;
        ASSERT_OK(amk_sftp_put(s, src, remote, 0, on_progress, NULL));
        assert_int_equal(progress_last, sizes[i]);
        ASSERT_OK(amk_sftp_stat(s, remote, &a));
        assert_true(a.flags & AMK_SFTP_ATTR_SIZE);
        assert_int_equal(a.size, sizes[i]);
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

/* An interrupted get and put resume to identical files; PRESERVE copies
 * mode and times both ways. */
static void
ops_resume(struct amk_sftp *s)
{
    const size_t size = 3 * 1024 * 1024 + 7;
    char src[300], remote[300], back[300];
    uint8_t *data = malloc(size);
    struct amk_sftp_attrs a;
    struct stat st;
    struct timespec ts[2] = { { .tv_sec = 1111111111 }, { .tv_sec = 1222222222 } };

    assert_non_null(data);
    tf_fill(data, size, 42);
    path_of(src, sizeof(src), "resume.src");
    path_of(remote, sizeof(remote), "resume.remote");
    path_of(back, sizeof(back), "resume.back");
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

static void
ops_file_handle(struct amk_sftp *s)
{
    struct amk_sftp_file *f = NULL;
    struct amk_sftp_attrs a;
    char path[300];
    uint8_t buf[100000], back[100000];
    size_t got;

    path_of(path, sizeof(path), "handle");
    tf_fill(buf, sizeof(buf), 7);
    ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, 0600, &f));
    ASSERT_OK(amk_sftp_write(f, buf, 50000));
    assert_int_equal(amk_sftp_tell(f), 50000);
    ASSERT_OK(amk_sftp_write(f, buf + 50000, 50000));
    ASSERT_OK(amk_sftp_fstat(f, &a));
    assert_int_equal(a.size, 100000);
    assert_int_equal(a.permissions & 0777, 0600);
    if (amk_sftp_has_extension(s, "fsync@openssh.com", NULL, NULL))
        ASSERT_OK(amk_sftp_fsync(f));
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

    /* copy-data and fstatvfs on handles */
    if (amk_sftp_has_extension(s, "copy-data", NULL, NULL)) {
        struct amk_sftp_file *to = NULL;
        struct amk_sftp_statvfs vfs;
        char copy[300];

        path_of(copy, sizeof(copy), "handle.copy");
        ASSERT_OK(amk_sftp_open(s, path, AMK_SFTP_READ, 0, &f));
        ASSERT_OK(amk_sftp_open(s, copy, AMK_SFTP_WRITE | AMK_SFTP_CREAT | AMK_SFTP_TRUNC, 0600,
            &to));
        ASSERT_OK(amk_sftp_copy_data(f, 1000, 0, to, 0));
        ASSERT_OK(amk_sftp_fstatvfs(to, &vfs));
        assert_true(vfs.bsize > 0);
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
ops_paths(struct amk_sftp *s)
{
    struct amk_sftp_attrs a;
    struct amk_sftp_name *names = NULL;
    struct amk_sftp_statvfs vfs;
    char dir[300], file[300], file2[300], link[300], hard[300], missing[300];
    char *out = NULL;
    size_t n;
    int saw = 0;

    path_of(dir, sizeof(dir), "d");
    path_of(file, sizeof(file), "d/f");
    path_of(file2, sizeof(file2), "d/g");
    path_of(link, sizeof(link), "d/l");
    path_of(hard, sizeof(hard), "d/h");
    path_of(missing, sizeof(missing), "missing");

    /* errors, each with the server's status kept */
    ASSERT_AMK(AMK_ENOENT, amk_sftp_stat(s, missing, &a));
    assert_int_equal(amk_sftp_last_status(s), 2);
    assert_non_null(strstr(amk_sftp_last_error(s), "SSH_FX_NO_SUCH_FILE"));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_remove(s, missing));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_get(s, missing, file, 0, NULL, NULL));
    {
        struct amk_sftp_file *f = NULL;
        /* sysfs refuses writing a read-only attribute even to root */
        if (access("/sys/kernel/notes", F_OK) == 0) {
            ASSERT_AMK(AMK_EACCES, amk_sftp_open(s, "/sys/kernel/notes", AMK_SFTP_WRITE, 0, &f));
            assert_null(f);
            assert_int_equal(amk_sftp_last_status(s), 3);
        }
    }

    ASSERT_OK(amk_sftp_mkdir(s, dir, 0755));
    ASSERT_AMK(AMK_EREMOTE, amk_sftp_mkdir(s, dir, 0755));
    ASSERT_OK(amk_sftp_stat(s, dir, &a));
    assert_true(S_ISDIR(a.permissions));
    {
        struct amk_sftp_file *f = NULL;
        ASSERT_OK(amk_sftp_open(s, file, AMK_SFTP_WRITE | AMK_SFTP_CREAT, 0644, &f));
        ASSERT_OK(amk_sftp_write(f, "hello", 5));
        ASSERT_OK(amk_sftp_close(f));
    }
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

    /* symlinks: OpenSSH's reversed SYMLINK order */
    ASSERT_OK(amk_sftp_symlink(s, "f", link));
    ASSERT_OK(amk_sftp_readlink(s, link, &out));
    assert_string_equal(out, "f");
    free(out);
    ASSERT_OK(amk_sftp_lstat(s, link, &a));
    assert_true(S_ISLNK(a.permissions));
    ASSERT_OK(amk_sftp_stat(s, link, &a));
    assert_true(S_ISREG(a.permissions));
    if (amk_sftp_has_extension(s, "lsetstat@openssh.com", NULL, NULL)) {
        struct amk_sftp_attrs t = { .flags = AMK_SFTP_ATTR_ACMODTIME, .atime = 5, .mtime = 6 };
        ASSERT_OK(amk_sftp_lsetstat(s, link, &t));
        ASSERT_OK(amk_sftp_lstat(s, link, &a));
        assert_int_equal(a.mtime, 6);
    }

    /* realpath */
    ASSERT_OK(amk_sftp_realpath(s, dir, &out));
    assert_non_null(strstr(out, "/d"));
    free(out);
    ASSERT_OK(amk_sftp_realpath(s, ".", &out));
    assert_true(out[0] == '/');
    free(out);
    if (amk_sftp_has_extension(s, "expand-path@openssh.com", NULL, NULL)) {
        ASSERT_OK(amk_sftp_expand_path(s, "~", &out));
        assert_true(out[0] == '/');
        free(out);
    }
    if (amk_sftp_has_extension(s, "home-directory", NULL, NULL)) {
        const char *user = getenv("USER") != NULL ? getenv("USER") : "root";
        ASSERT_OK(amk_sftp_home_directory(s, fx.user[0] != '\0' ? fx.user : user, &out));
        assert_true(out[0] == '/');
        free(out);
        ASSERT_AMK(AMK_EREMOTE, amk_sftp_home_directory(s, "no-such-user-amk", &out));
        assert_null(out);
    }

    /* rename: posix-rename replaces the target */
    {
        struct amk_sftp_file *f = NULL;
        ASSERT_OK(amk_sftp_open(s, file2, AMK_SFTP_WRITE | AMK_SFTP_CREAT, 0644, &f));
        ASSERT_OK(amk_sftp_close(f));
    }
    assert_true(amk_sftp_has_extension(s, "posix-rename@openssh.com", NULL, NULL));
    ASSERT_OK(amk_sftp_rename(s, file2, file));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_stat(s, file2, &a));
    ASSERT_OK(amk_sftp_stat(s, file, &a));
    assert_int_equal(a.size, 0);

    /* hardlink and statvfs */
    if (amk_sftp_has_extension(s, "hardlink@openssh.com", NULL, NULL)) {
        ASSERT_OK(amk_sftp_hardlink(s, file, hard));
        ASSERT_OK(amk_sftp_stat(s, hard, &a));
    }
    ASSERT_OK(amk_sftp_statvfs(s, dir, &vfs));
    assert_true(vfs.bsize > 0);
    assert_true(vfs.namemax > 0);

    /* listing with attributes */
    ASSERT_OK(amk_sftp_listdir(s, dir, &names, &n));
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(names[i].filename, ".");
        if (strcmp(names[i].filename, "f") == 0) {
            saw = 1;
            assert_true(names[i].attrs.flags & AMK_SFTP_ATTR_SIZE);
            assert_non_null(strstr(names[i].longname, "f"));
        }
    }
    assert_true(saw);
    assert_int_equal(n, amk_sftp_has_extension(s, "hardlink@openssh.com", NULL, NULL) ? 3 : 2);
    amk_sftp_names_free(names, n);
    ASSERT_AMK(AMK_ENOENT, amk_sftp_listdir(s, missing, &names, &n));

    /* a walk sees every entry once, parents first */
    {
        char sub[300], deep[300];
        int seen = 0;

        path_of(sub, sizeof(sub), "d/sub");
        path_of(deep, sizeof(deep), "d/sub/deep");
        ASSERT_OK(amk_sftp_mkdir(s, sub, 0));
        ASSERT_OK(amk_sftp_mkdir(s, deep, 0));
        ASSERT_OK(amk_sftp_walk(s, dir, on_walk, &seen));
        /* f, l, sub, sub/deep (+ h) */
        assert_int_equal(seen, amk_sftp_has_extension(s, "hardlink@openssh.com", NULL, NULL)
            ? 5 : 4);
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
    if (amk_sftp_has_extension(s, "hardlink@openssh.com", NULL, NULL))
        ASSERT_OK(amk_sftp_remove(s, hard));
    ASSERT_OK(amk_sftp_rmdir(s, dir));
    ASSERT_AMK(AMK_ENOENT, amk_sftp_rmdir(s, dir));
}

static void
ops_big(struct amk_sftp *s)
{
    char src[300], remote[300], back[300];
    uint8_t *data = malloc(BIG_SIZE);

    assert_non_null(data);
    tf_fill(data, BIG_SIZE, 99);
    path_of(src, sizeof(src), "big.src");
    path_of(remote, sizeof(remote), "big.remote");
    path_of(back, sizeof(back), "big.back");
    tf_write(src, data, BIG_SIZE);
    free(data);
    ASSERT_OK(amk_sftp_put(s, src, remote, 0, NULL, NULL));
    ASSERT_OK(amk_sftp_get(s, remote, back, 0, NULL, NULL));
    assert_true(tf_same(src, remote));
    assert_true(tf_same(src, back));
    unlink(src);
    unlink(remote);
    unlink(back);
}

static void
test_sftp_local_server_operations(void **state)
{
    use_dir("local_server_operations");
    struct local_server ls;
    struct amk_sftp *s = NULL;
    size_t rl, wl;
    (void)state;
    local_start(&ls);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    amk_sftp_io_sizes(s, &rl, &wl);
    /* OpenSSH's sftp-server offers limits@openssh.com: 255 KiB reads */
    if (amk_sftp_has_extension(s, "limits@openssh.com", NULL, NULL))
        assert_true(rl > 32768 && wl > 32768);
    ops_paths(s);
    ops_file_handle(s);
    ops_files(s);
    ops_resume(s);
    amk_sftp_free(s);
    local_stop(&ls);
}

static void
test_sftp_local_server_64mb(void **state)
{
    use_dir("local_server_64mb");
    struct local_server ls;
    struct amk_sftp *s = NULL;
    (void)state;
    local_start(&ls);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    ops_big(s);
    amk_sftp_free(s);
    local_stop(&ls);
}

static void
test_sftp_local_server_dies(void **state)
{
    struct local_server ls;
    struct amk_sftp *s = NULL;
    struct amk_sftp_attrs a;
    int st;
    (void)state;
    local_start(&ls);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    kill(ls.pid, SIGKILL);
    waitpid(ls.pid, &st, 0);
    signal(SIGPIPE, SIG_IGN);
    {
        int r = amk_sftp_stat(s, "/", &a);
        assert_true(r == AMK_ECLOSED || r == AMK_EIO);
        /* failed for good */
        ASSERT_AMK(r, amk_sftp_stat(s, "/", &a));
    }
    amk_sftp_free(s);
    close(ls.fd);
}

static void
test_sftp_sshd_operations(void **state)
{
    use_dir("sshd_operations");
    struct remote rm;
    struct amk_sftp *s = NULL;
    (void)state;
    remote_open(&rm, &s);
    ops_paths(s);
    ops_file_handle(s);
    ops_files(s);
    ops_resume(s);
    remote_close(&rm, s);
}

static void
test_sftp_sshd_64mb(void **state)
{
    use_dir("sshd_64mb");
    struct remote rm;
    struct amk_sftp *s = NULL;
    (void)state;
    remote_open(&rm, &s);
    ops_big(s);
    remote_close(&rm, s);
}

/* The public path: amk_client connected with the fixture's key, then
 * amk_sftp_new_client(). */
static struct amk_client *
client_connected(void)
{
    struct amk_client *c = NULL;
    int r;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_load_host_keys(c, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_timeout(c, 60000));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL);
    if (r != AMK_OK)
        fail_msg("connect: %s: %s", amk_errname(r), amk_client_last_error(c));
    return c;
}

static void
test_sftp_client_api_operations(void **state)
{
    use_dir("client_api_operations");
    struct amk_client *c = client_connected();
    struct amk_sftp *s = NULL;
    char *out = NULL;
    int status;
    (void)state;
    ASSERT_OK(amk_sftp_new_client(&s, c));
    ops_paths(s);
    ops_file_handle(s);
    ops_files(s);
    /* the client's other channels still work beside SFTP */
    ASSERT_OK(amk_client_run(c, "echo beside", &out, NULL, NULL, NULL, &status));
    assert_string_equal(out, "beside\n");
    free(out);
    amk_sftp_free(s);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
}

/* --- Fixture ---------------------------------------------------------- */

static int
group_setup(void **state)
{
    char *line = NULL;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    int r;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (!sshd_fixture_available() || access(SFTP_SERVER, X_OK) != 0) {
        fprintf(stderr, "skipped: OpenSSH (sshd, sftp-server) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    snprintf(base_dir, sizeof(base_dir), "%s/amiko-sftp-XXXXXX", base);
    if (mkdtemp(base_dir) == NULL)
        return -1;
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    if (amk_key_generate(AMK_PKEY_ED25519, 0, &user_key) != AMK_OK
        || amk_key_public_line(user_key, &line) != AMK_OK)
        return -1;
    r = sshd_fixture_authorize(&fx, line);
    free(line);
    if (r != 0)
        return -1;
    return sshd_fixture_start(&fx, NULL);
}

static int
group_teardown(void **state)
{
    char cmd[400];

    (void)state;
    amk_key_free(user_key);
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    if (strncmp(base_dir, "/dev/shm/amiko-sftp-", 20) == 0 ||
        strncmp(base_dir, "/tmp/amiko-sftp-", 16) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", base_dir);
    }
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_local_server_operations),
        cmocka_unit_test(test_sftp_local_server_64mb),
        cmocka_unit_test(test_sftp_local_server_dies),
        cmocka_unit_test(test_sftp_sshd_operations),
        cmocka_unit_test(test_sftp_sshd_64mb),
        cmocka_unit_test(test_sftp_client_api_operations),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
