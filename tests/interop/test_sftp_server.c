/*
 * Interop: amiko's SFTP server (tools/amiko-sftp-server over
 * src/sftp/sftp_server.c and src/server/sftp_fs.c) against real clients.
 *
 * - OpenSSH's `sftp -D server -b batch` (no sshd) running every batch
 *   command: ls -l, cd, pwd, get, put, mkdir, rmdir, rm, rename, ln -s,
 *   ln, chmod, chown, df, reget, reput; files of 0, 1, 32767, 32768,
 *   32769 and 1 MiB + 1 bytes with equal checksums; errors (missing file,
 *   directory not empty, permission denied as an unprivileged user).
 * - sshd with "Subsystem sftp <amiko-sftp-server>": OpenSSH's sftp and
 *   amiko's own SFTP client through every operation.
 * - amiko's SFTP client over a socketpair: every operation (sftp_ops.c's
 *   suite, which test_sftp.c runs against OpenSSH's sftp-server; here every
 *   extension it tries must be offered), 64 MB each way.
 * - --root confinement: "..", absolute paths, symlinks pointing out
 *   (absolute and relative), hardlink/rename/symlink out of the root, and
 *   a race swapping a directory for a symlink while the client retries;
 *   nothing outside is touched. -R refuses every write.
 *
 * The server binary comes from CMake (AMK_SFTP_SERVER_PATH).
 */
#include "test_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_driver.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "file_util.h"
#include "sftp_ops.h"

#ifndef AMK_SFTP_SERVER_PATH
#error "AMK_SFTP_SERVER_PATH must name the amiko-sftp-server binary"
#endif

#define SERVER AMK_SFTP_SERVER_PATH
#define SFTP_PATH "/usr/bin/sftp"
#define RACE_TRIES 3000

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *user_key;
static char base_dir[256];
static char work[300];
static struct sftp_ops ops;     /* the shared suite (sftp_ops.c), in work */
static int sshd_up;

/* --- amiko-sftp-server over a socketpair ------------------------------- */

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

/* Starts the server with up to 4 arguments (NULL-terminated). */
static void
local_start(struct local_server *ls, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ls->pid = fork();
    assert_true(ls->pid >= 0);
    if (ls->pid == 0) {
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        execl(SERVER, SERVER, a1, a2, a3, a4, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    ls->fd = sv[0];
}

static void
local_stop(struct local_server *ls)
{
    int st;

    /* closing the stream ends the server (end of input) */
    close(ls->fd);
    assert_int_equal(waitpid(ls->pid, &st, 0), ls->pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* --- helpers ------------------------------------------------------------ */

static void
use_dir(const char *name)
{
    snprintf(work, sizeof(work), "%s/%s", base_dir, name);
    assert_int_equal(mkdir(work, 0755), 0);
    /* an unprivileged server must be able to walk to it */
    assert_int_equal(chmod(work, 0755), 0);
}

static void
path_of(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", work, name);

    assert_true(n > 0 && (size_t)n < cap);
}

/* Reads a small file into a static buffer ("" when missing). */
static const char *
slurp(const char *path)
{
    static char buf[256 * 1024];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    buf[0] = '\0';
    if (fd < 0)
        return buf;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/*
 * Runs OpenSSH's sftp with @p batch: over sshd when @p direct is NULL,
 * else with `-D direct` (a local server command line). Output goes to
 * work/sftp.out; the exit status is returned.
 */
static int
run_sftp(const char *direct, const char *batch)
{
    char bfile[400], out[400], port[16], kh[FIXTURE_PATH_MAX + 32], dest[128];
    char *argv[40];
    int n = 0, rc;

    path_of(bfile, sizeof(bfile), "batch");
    path_of(out, sizeof(out), "sftp.out");
    tf_write(bfile, batch, strlen(batch));
    unlink(out);
    argv[n++] = (char *)SFTP_PATH;
    argv[n++] = (char *)"-b";
    argv[n++] = bfile;
    if (direct != NULL) {
        argv[n++] = (char *)"-D";
        argv[n++] = (char *)direct;
    } else {
        snprintf(port, sizeof(port), "%u", (unsigned)fx.port);
        snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", fx.known_hosts);
        snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
        argv[n++] = (char *)"-F";
        argv[n++] = (char *)"/dev/null";
        argv[n++] = (char *)"-P";
        argv[n++] = port;
        argv[n++] = (char *)"-i";
        argv[n++] = fx.user_key;
        argv[n++] = (char *)"-o";
        argv[n++] = (char *)"BatchMode=yes";
        argv[n++] = (char *)"-o";
        argv[n++] = (char *)"IdentitiesOnly=yes";
        argv[n++] = (char *)"-o";
        argv[n++] = (char *)"StrictHostKeyChecking=yes";
        argv[n++] = (char *)"-o";
        argv[n++] = (char *)"GlobalKnownHostsFile=/dev/null";
        argv[n++] = (char *)"-o";
        argv[n++] = kh;
        argv[n++] = dest;
    }
    argv[n] = NULL;
    rc = fixture_run(argv, out, FIXTURE_WAIT_MS);
    if (rc != 0) {
        fprintf(stderr, "sftp exited %d; its output:\n%s\n", rc, slurp(out));
        if (direct == NULL)
            sshd_fixture_dump_log(&fx, 3000);
    }
    return rc;
}

static const char *
sftp_output(void)
{
    char out[400];

    path_of(out, sizeof(out), "sftp.out");
    return slurp(out);
}

static void
expect_output(const char *needle)
{
    const char *o = sftp_output();

    if (strstr(o, needle) == NULL) {
        fprintf(stderr, "sftp output:\n%s\n", o);
        fail_msg("sftp output lacks \"%s\"", needle);
    }
}

/* sshd's log names the subsystem command it ran: ours, not OpenSSH's. */
static void
expect_sshd_ran_us(void)
{
    if (!sshd_fixture_log_count(&fx, "subsystem: exec() " SERVER, NULL)) {
        sshd_fixture_dump_log(&fx, 3000);
        fail_msg("sshd did not run %s as its sftp subsystem", SERVER);
    }
}

/* --- OpenSSH sftp: every batch command ------------------------------------ */

static const size_t SIZES[] = { 0, 1, 32767, 32768, 32769, 1024 * 1024 + 1 };
#define N_SIZES (sizeof(SIZES) / sizeof(SIZES[0]))

/* Runs every batch command in the current work dir through @p direct
 * (NULL: sshd) and checks the results on disk. */
static void
batch_every_command(const char *direct)
{
    char batch[8192], p[400], q[400];
    uint8_t *data = malloc(1024 * 1024 + 1);
    size_t o = 0;
    struct stat st;

    assert_non_null(data);
    for (size_t i = 0; i < N_SIZES; i++) {
        snprintf(p, sizeof(p), "%s/l_%zu", work, i);
        tf_fill(data, SIZES[i], (uint32_t)i + 11);
        tf_write(p, data, SIZES[i]);
    }
    /* partial copies for reput (remote) and reget (local) */
    path_of(p, sizeof(p), "partial_remote");
    tf_write(p, data, SIZES[N_SIZES - 1] / 3);
    path_of(p, sizeof(p), "partial_local");
    tf_write(p, data, SIZES[N_SIZES - 1] / 2);
    free(data);

#define B(...) (o += (size_t)snprintf(batch + o, sizeof(batch) - o, __VA_ARGS__))
    B("pwd\ncd %s\npwd\nmkdir dir\n", work);
    for (size_t i = 0; i < N_SIZES; i++)
        B("put %s/l_%zu r_%zu\nget r_%zu %s/b_%zu\n", work, i, i, i, work, i);
    B("ls -l\n");
    B("rename r_1 dir/moved\n");
    B("ln -s dir/moved sym\n");
    B("ln dir/moved hard\n");
    B("chmod 600 hard\n");
    B("chown %u hard\n", (unsigned)getuid());
    B("df\n");
    B("ls -l\n");
    B("ls -l dir\n");
    B("-rmdir dir\n");                  /* not empty */
    B("-get missing %s/never\n", work); /* missing */
    B("-rm missing\n");
    B("-cd missing\n");
    B("rm sym\nrm hard\nrm dir/moved\nrmdir dir\n");
    B("reput %s/l_%zu partial_remote\n", work, N_SIZES - 1);
    B("reget r_%zu %s/partial_local\n", N_SIZES - 1, work);
    B("ls\n");
#undef B
    assert_true(o < sizeof(batch));
    assert_int_equal(run_sftp(direct, batch), 0);

    snprintf(p, sizeof(p), "Remote working directory: %s\n", work);
    expect_output(p);
    expect_output("lrwx");              /* ls -l showed the symlink */
    expect_output("not found");         /* the missing get */
    expect_output("Failure");           /* rmdir of a non-empty directory */
    for (size_t i = 0; i < N_SIZES; i++) {
        if (i == 1)
            continue;                   /* renamed then removed */
        snprintf(p, sizeof(p), "%s/l_%zu", work, i);
        snprintf(q, sizeof(q), "%s/r_%zu", work, i);
        assert_true(tf_same(p, q));
        snprintf(q, sizeof(q), "%s/b_%zu", work, i);
        assert_true(tf_same(p, q));
    }
    snprintf(p, sizeof(p), "%s/l_1", work);
    snprintf(q, sizeof(q), "%s/b_1", work);
    assert_true(tf_same(p, q));
    /* resumed transfers are whole */
    snprintf(p, sizeof(p), "%s/l_%zu", work, N_SIZES - 1);
    path_of(q, sizeof(q), "partial_remote");
    assert_true(tf_same(p, q));
    path_of(q, sizeof(q), "partial_local");
    assert_true(tf_same(p, q));
    /* what was removed is gone */
    path_of(p, sizeof(p), "dir");
    assert_false(exists(p));
    path_of(p, sizeof(p), "sym");
    assert_false(exists(p));
    path_of(p, sizeof(p), "r_1");
    assert_false(exists(p));
    path_of(p, sizeof(p), "never");
    assert_int_equal(stat(p, &st), -1);
}

static void
test_sftps_openssh_batch_direct(void **state)
{
    char cmd[600];

    (void)state;
    use_dir("openssh_batch_direct");
    snprintf(cmd, sizeof(cmd), "%s -d %s", SERVER, base_dir);
    batch_every_command(cmd);
}

static void
test_sftps_openssh_batch_sshd(void **state)
{
    (void)state;
    use_dir("openssh_batch_sshd");
    batch_every_command(NULL);
    expect_sshd_ran_us();
}

/* Permission denied: the server as an unprivileged user (nobody) in a
 * directory and on a file it may not write or read. */
static void
test_sftps_openssh_permission_denied(void **state)
{
    char cmd[700], batch[1200], p[400];

    (void)state;
    use_dir("openssh_denied");
    if (getuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
        fprintf(stderr, "permission test needs root and setpriv: skipped\n");
        return;
    }
    path_of(p, sizeof(p), "secret");
    tf_write(p, "no", 2);
    assert_int_equal(chmod(p, 0600), 0);
    path_of(p, sizeof(p), "src");
    tf_write(p, "data", 4);
    assert_int_equal(chmod(base_dir, 0755), 0);
    snprintf(cmd, sizeof(cmd), "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "
        "%s -d %s", SERVER, work);
    snprintf(batch, sizeof(batch),
        "-put %s/src newfile\n"
        "-get secret %s/got\n"
        "-mkdir newdir\n"
        "-rm secret\n"
        "-chmod 777 secret\n"
        "ls\n", work, work);
    assert_int_equal(run_sftp(cmd, batch), 0);
    expect_output("Permission denied");
    path_of(p, sizeof(p), "newfile");
    assert_false(exists(p));
    path_of(p, sizeof(p), "newdir");
    assert_false(exists(p));
    path_of(p, sizeof(p), "got");
    assert_false(exists(p) && slurp(p)[0] != '\0');
    path_of(p, sizeof(p), "secret");
    assert_string_equal(slurp(p), "no");
    {
        const char *o = sftp_output();
        int count = 0;

        for (const char *x = o; (x = strstr(x, "Permission denied")) != NULL; x++)
            count++;
        if (count < 4)
            fail_msg("expected 4 refusals:\n%s", o);
    }
}

/* -R: every modifying command refused, reads work. */
static void
test_sftps_openssh_read_only(void **state)
{
    char cmd[700], batch[1200], p[400];

    (void)state;
    use_dir("openssh_read_only");
    path_of(p, sizeof(p), "file");
    tf_write(p, "keep", 4);
    snprintf(cmd, sizeof(cmd), "%s -R -d %s", SERVER, work);
    snprintf(batch, sizeof(batch),
        "get file %s/copy\n"
        "-put %s/file new\n"
        "-mkdir d\n"
        "-rm file\n"
        "-rename file other\n"
        "-ln -s file l\n"
        "-chmod 600 file\n", work, work);
    assert_int_equal(run_sftp(cmd, batch), 0);
    path_of(p, sizeof(p), "copy");
    assert_string_equal(slurp(p), "keep");
    path_of(p, sizeof(p), "file");
    assert_string_equal(slurp(p), "keep");
    path_of(p, sizeof(p), "new");
    assert_false(exists(p));
    path_of(p, sizeof(p), "d");
    assert_false(exists(p));
    path_of(p, sizeof(p), "other");
    assert_false(exists(p));
    path_of(p, sizeof(p), "l");
    assert_false(exists(p));
    expect_output("Permission denied");
}

/* --root: every escape refused, nothing outside touched. */
static void
test_sftps_openssh_confined(void **state)
{
    char cmd[1200], batch[16384], root[400], out[400], p[1024];
    struct stat st;

    (void)state;
    use_dir("openssh_confined");
    path_of(root, sizeof(root), "root");
    path_of(out, sizeof(out), "out");
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    path_of(p, sizeof(p), "out/secret");
    tf_write(p, "outside", 7);
    path_of(p, sizeof(p), "root/file");
    tf_write(p, "inside", 6);
    path_of(p, sizeof(p), "root/abs");
    assert_int_equal(symlink(out, p), 0);
    path_of(p, sizeof(p), "root/rel");
    assert_int_equal(symlink("../out", p), 0);
    path_of(p, sizeof(p), "root/sub");
    assert_int_equal(mkdir(p, 0755), 0);
    path_of(p, sizeof(p), "root/sub/up");
    assert_int_equal(symlink("../../../../../../../../..", p), 0);
    snprintf(cmd, sizeof(cmd), "%s --root %s", SERVER, root);
    snprintf(batch, sizeof(batch),
        "pwd\n"
        "cd ..\npwd\n"
        "cd /../../..\npwd\n"
        "-get ../out/secret %s/g1\n"
        "-get /../out/secret %s/g2\n"
        "-get %s/secret %s/g3\n"
        "-get abs/secret %s/g4\n"
        "-get rel/secret %s/g5\n"
        "-get sub/up%s/secret %s/g6\n"
        "-ls abs/\n"
        "-ls rel/\n"
        "-put %s/out/secret ../out/new\n"
        "-put %s/out/secret abs/new\n"
        "-put %s/out/secret rel/new\n"
        "-mkdir abs/dir\n"
        "-mkdir %s/dir\n"
        "-rename file ../out/moved\n"
        "-rename file abs/moved\n"
        "-ln abs/secret stolen\n"
        "-ln file rel/planted\n"
        "-ln -s file abs/sym\n"
        "-chmod 777 abs/secret\n"
        "-rm abs/secret\n"
        "-rm rel/secret\n"
        "ln -s %s/secret mine\n"
        "-get mine %s/g7\n"
        "get file %s/g8\n",
        work, work, out, work, work, work, out, work, work, work, work, out, out, work, work);
    assert_int_equal(run_sftp(cmd, batch), 0);
    expect_output("Remote working directory: /\n");
    /* nothing read from outside */
    for (int i = 1; i <= 7; i++) {
        snprintf(p, sizeof(p), "%s/g%d", work, i);
        if (exists(p))
            assert_string_not_equal(slurp(p), "outside");
    }
    snprintf(p, sizeof(p), "%s/g8", work);
    assert_string_equal(slurp(p), "inside");
    /* nothing outside written or changed */
    path_of(p, sizeof(p), "out/secret");
    assert_string_equal(slurp(p), "outside");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(st.st_nlink, 1);
    {
        static const char *const never[] = { "out/new", "out/dir", "out/moved", "out/planted",
            "out/sym", "new", "dir", "moved", "planted" };

        for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
            path_of(p, sizeof(p), never[i]);
            if (exists(p))
                fail_msg("%s was created outside the root", p);
        }
    }
    /* the symlink made inside keeps its target string as given */
    path_of(p, sizeof(p), "root/mine");
    {
        char t[400];
        ssize_t n = readlink(p, t, sizeof(t) - 1);

        assert_true(n > 0);
        t[n] = '\0';
        snprintf(p, sizeof(p), "%s/secret", out);
        assert_string_equal(t, p);
    }
}

/* --- amiko's client: every operation -------------------------------------- */

static void
test_sftps_amiko_client_direct(void **state)
{
    struct local_server ls;
    struct amk_sftp *s = NULL;

    (void)state;
    use_dir("amiko_client_direct");
    local_start(&ls, "-d", work, NULL, NULL);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    sftp_ops_paths(s, &ops);
    sftp_ops_file_handle(s, &ops);
    sftp_ops_files(s, &ops);
    sftp_ops_resume(s, &ops);
    sftp_ops_big(s, &ops);
    amk_sftp_free(s);
    local_stop(&ls);
}

static void
test_sftps_amiko_client_sshd(void **state)
{
    struct sftp_remote rm;
    struct amk_sftp *s = NULL;

    (void)state;
    use_dir("amiko_client_sshd");
    sftp_remote_open(&rm, &fx, &hk, user_key, &s);
    sftp_ops_paths(s, &ops);
    sftp_ops_file_handle(s, &ops);
    sftp_ops_files(s, &ops);
    sftp_ops_resume(s, &ops);
    sftp_ops_big(s, &ops);
    sftp_remote_close(&rm, s);
    expect_sshd_ran_us();
}

/* amiko's client against -R: writes are AMK_EACCES. */
static void
test_sftps_amiko_client_read_only(void **state)
{
    struct local_server ls;
    struct amk_sftp *s = NULL;
    struct amk_sftp_file *f = NULL;
    char p[400];

    (void)state;
    use_dir("amiko_client_read_only");
    path_of(p, sizeof(p), "file");
    tf_write(p, "ro", 2);
    local_start(&ls, "-R", "-d", work, NULL);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    ASSERT_AMK(AMK_EACCES, amk_sftp_open(s, "file", AMK_SFTP_WRITE, 0, &f));
    ASSERT_AMK(AMK_EACCES, amk_sftp_remove(s, "file"));
    ASSERT_AMK(AMK_EACCES, amk_sftp_mkdir(s, "d", 0755));
    ASSERT_AMK(AMK_EACCES, amk_sftp_chmod(s, "file", 0777));
    ASSERT_OK(amk_sftp_open(s, "file", AMK_SFTP_READ, 0, &f));
    ASSERT_OK(amk_sftp_close(f));
    amk_sftp_free(s);
    local_stop(&ls);
    assert_string_equal(slurp(p), "ro");
}

/*
 * The race: a child swaps root/d (a real directory) with root/dlink (a
 * symlink to the outside) atomically, over and over, while the client
 * opens, creates and lists through d/. Confined, no attempt may reach the
 * outside. Unconfined (the control), some attempts do: this shows the
 * swapping really races the server.
 */
static int
race_run(int confined)
{
    char root[400], out[400], p[1024], d[512], dl[512];
    struct local_server ls;
    struct amk_sftp *s = NULL;
    pid_t swapper;
    int leaked = 0, ok = 0, st;

    path_of(root, sizeof(root), confined ? "race_root" : "control_root");
    path_of(out, sizeof(out), confined ? "race_out" : "control_out");
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(d, sizeof(d), "%s/d", root);
    snprintf(dl, sizeof(dl), "%s/dlink", root);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof(p), "%s/f", d);
    tf_write(p, "inside", 6);
    snprintf(p, sizeof(p), "%s/f", out);
    tf_write(p, "OUTSIDE", 7);
    assert_int_equal(symlink(out, dl), 0);
    swapper = fork();
    assert_true(swapper >= 0);
    if (swapper == 0) {
        for (;;)
            (void)renameat2(AT_FDCWD, d, AT_FDCWD, dl, RENAME_EXCHANGE);
    }
    if (confined)
        local_start(&ls, "--root", root, NULL, NULL);
    else
        local_start(&ls, "-d", root, NULL, NULL);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    for (int i = 0; i < RACE_TRIES; i++) {
        struct amk_sftp_file *f = NULL;
        char buf[16], name[64];
        size_t got = 0;

        if (amk_sftp_open(s, "d/f", AMK_SFTP_READ, 0, &f) == AMK_OK) {
            ASSERT_OK(amk_sftp_pread(f, buf, sizeof(buf) - 1, 0, &got));
            buf[got] = '\0';
            ASSERT_OK(amk_sftp_close(f));
            ok++;
            if (strcmp(buf, "OUTSIDE") == 0)
                leaked++;
            else
                assert_string_equal(buf, "inside");
        }
        if (i % 10 == 0) {
            snprintf(name, sizeof(name), "d/new%d", i);
            if (amk_sftp_open(s, name, AMK_SFTP_WRITE | AMK_SFTP_CREAT, 0644, &f) == AMK_OK)
                ASSERT_OK(amk_sftp_close(f));
            snprintf(name, sizeof(name), "d/dir%d", i);
            /* refusals are expected: only where they land matters */
            if (amk_sftp_mkdir(s, name, 0755) != AMK_OK)
                ok += 0;
            if (amk_sftp_chmod(s, "d/f", 0600) != AMK_OK)
                ok += 0;
        }
    }
    kill(swapper, SIGKILL);
    waitpid(swapper, &st, 0);
    amk_sftp_free(s);
    local_stop(&ls);
    assert_true(ok > 0);
    if (confined) {
        /* nothing was created or changed outside */
        struct stat sb;
        int n = 0;
        char cmd[1200], listing[400];

        snprintf(p, sizeof(p), "%s/f", out);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0644);
        path_of(listing, sizeof(listing), "race_listing");
        snprintf(cmd, sizeof(cmd), "ls -A '%s' > '%s'", out, listing);
        assert_int_equal(system(cmd), 0);
        for (const char *x = slurp(listing); *x != '\0'; x++)
            n += *x == '\n';
        if (n != 1)
            fail_msg("the outside dir holds more than f:\n%s", slurp(listing));
    }
    return leaked;
}

static void
test_sftps_confined_race(void **state)
{
    int control;

    (void)state;
    use_dir("confined_race");
    assert_int_equal(race_run(1), 0);
    /* the unconfined control proves the race is real (when the machine
     * schedules the swapper in between at all) */
    control = race_run(0);
    fprintf(stderr, "unconfined control read the outside file %d times\n", control);
}

/* --- fixture --------------------------------------------------------------- */

static int
group_setup(void **state)
{
    char *line = NULL, extra[600];
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    int r;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (!sshd_fixture_available() || access(SFTP_PATH, X_OK) != 0) {
        fprintf(stderr, "skipped: OpenSSH (sshd, sftp) is not installed\n");
        exit(FIXTURE_SKIP);
    }
    if (access(SERVER, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", SERVER);
        return -1;
    }
    snprintf(base_dir, sizeof(base_dir), "%s/amiko-sftps-XXXXXX", base);
    if (mkdtemp(base_dir) == NULL || chmod(base_dir, 0755) != 0)
        return -1;
    if (sshd_fixture_init(&fx) != 0 || interop_hostkeys_load(&hk, &fx) != 0)
        return -1;
    ops.work = work;
    ops.user = fx.user;
    ops.all_extensions = 1;     /* amiko's server offers every extension the suite tries */
    if (amk_key_generate(AMK_PKEY_ED25519, 0, &user_key) != AMK_OK ||
        amk_key_public_line(user_key, &line) != AMK_OK)
        return -1;
    r = sshd_fixture_authorize(&fx, line);
    free(line);
    if (r != 0)
        return -1;
    /* sshd keeps the first value of a keyword: ours comes first */
    snprintf(extra, sizeof(extra), "Subsystem sftp %s", SERVER);
    if (sshd_fixture_start(&fx, extra) != 0)
        return -1;
    sshd_up = 1;
    return 0;
}

static int
group_teardown(void **state)
{
    char cmd[400];

    (void)state;
    amk_key_free(user_key);
    interop_hostkeys_free(&hk);
    sshd_fixture_cleanup(&fx);
    if (strncmp(base_dir, "/dev/shm/amiko-sftps-", 21) == 0 ||
        strncmp(base_dir, "/tmp/amiko-sftps-", 17) == 0) {
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
        cmocka_unit_test(test_sftps_openssh_batch_direct),
        cmocka_unit_test(test_sftps_openssh_batch_sshd),
        cmocka_unit_test(test_sftps_openssh_permission_denied),
        cmocka_unit_test(test_sftps_openssh_read_only),
        cmocka_unit_test(test_sftps_openssh_confined),
        cmocka_unit_test(test_sftps_amiko_client_direct),
        cmocka_unit_test(test_sftps_amiko_client_sshd),
        cmocka_unit_test(test_sftps_amiko_client_read_only),
        cmocka_unit_test(test_sftps_confined_race),
    };

    (void)sshd_up;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
