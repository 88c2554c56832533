/*
 * Interop: amiko's SFTP client against OpenSSH's sftp-server, both
 * directly over a socketpair (the server as a child process) and through
 * sshd's "sftp" subsystem on a session channel after publickey
 * authentication. Every operation, its errors (missing file, permission
 * denied, directory not empty, existing directory), files of 0, 1, 32767,
 * 32768, 32769 and 1 MiB + 1 bytes round-tripped, 64 MB get and put
 * with checksums, SYMLINK's order as set over amk_sftp_new_io(), in a
 * temporary directory (under /dev/shm when present).
 * The operations are sftp_ops.c's suite, which test_sftp_server.c runs
 * against amiko's own server.
 */
#include "test_helper.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_driver.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "file_util.h"
#include "sftp_ops.h"

#define SFTP_SERVER "/usr/lib/openssh/sftp-server"

static struct sshd_fixture fx;
static struct interop_hostkeys hk;
static struct amk_key *user_key;
static char base_dir[256];      /* temporary directory for files */
static char work[300];          /* the current test's directory in it */
static struct sftp_ops ops;     /* the shared suite (sftp_ops.c), in work */

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

/* --- helpers --------------------------------------------------------- */

/* Each test works in its own directory. */
static void
use_dir(const char *name)
{
    snprintf(work, sizeof(work), "%s/%s", base_dir, name);
    assert_int_equal(mkdir(work, 0755), 0);
}

static void
test_sftp_local_server_operations(void **state)
{
    use_dir("local_server_operations");
    struct local_server ls;
    struct amk_sftp *s = NULL;
    (void)state;
    local_start(&ls);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    sftp_ops_paths(s, &ops);
    sftp_ops_file_handle(s, &ops);
    sftp_ops_files(s, &ops);
    sftp_ops_resume(s, &ops);
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
    sftp_ops_big(s, &ops);
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

/* The local file system's link at @p path points at @p want. */
static void
assert_link(const char *path, const char *want)
{
    char got[400];
    ssize_t n = readlink(path, got, sizeof(got) - 1);

    if (n < 0)
        fail_msg("no symlink at %s: %s", path, strerror(errno));
    got[n] = '\0';
    assert_string_equal(got, want);
}

/* SYMLINK's order over amk_sftp_new_io(), where there is no banner: the
 * default (OpenSSH's extensions, no vendor-id) and TARGET_FIRST make the
 * link as asked; LINK_FIRST sends the draft's order, which OpenSSH's
 * sftp-server reads the other way round, so the link lands at the
 * target's name pointing at the link's: the setting reaches the wire. */
static void
test_sftp_local_server_symlink_order(void **state)
{
    struct local_server ls;
    struct amk_sftp *s = NULL;
    char tgt[400], lnk[400];
    (void)state;
    use_dir("local_server_symlink_order");
    local_start(&ls);
    ASSERT_OK(amk_sftp_new_io(&s, fd_read, fd_write, &ls));
    snprintf(tgt, sizeof(tgt), "%s/t1", work);
    snprintf(lnk, sizeof(lnk), "%s/l1", work);
    ASSERT_OK(amk_sftp_symlink(s, tgt, lnk));
    assert_link(lnk, tgt);
    ASSERT_OK(amk_sftp_set_symlink_order(s, AMK_SFTP_SYMLINK_TARGET_FIRST));
    snprintf(tgt, sizeof(tgt), "%s/t2", work);
    snprintf(lnk, sizeof(lnk), "%s/l2", work);
    ASSERT_OK(amk_sftp_symlink(s, tgt, lnk));
    assert_link(lnk, tgt);
    ASSERT_OK(amk_sftp_set_symlink_order(s, AMK_SFTP_SYMLINK_LINK_FIRST));
    snprintf(tgt, sizeof(tgt), "%s/t3", work);
    snprintf(lnk, sizeof(lnk), "%s/l3", work);
    ASSERT_OK(amk_sftp_symlink(s, tgt, lnk));
    assert_link(tgt, lnk);
    assert_int_equal(access(lnk, F_OK), -1);
    amk_sftp_free(s);
    local_stop(&ls);
}

static void
test_sftp_sshd_operations(void **state)
{
    use_dir("sshd_operations");
    struct sftp_remote rm;
    struct amk_sftp *s = NULL;
    (void)state;
    sftp_remote_open(&rm, &fx, &hk, user_key, &s);
    sftp_ops_paths(s, &ops);
    sftp_ops_file_handle(s, &ops);
    sftp_ops_files(s, &ops);
    sftp_ops_resume(s, &ops);
    sftp_remote_close(&rm, s);
}

static void
test_sftp_sshd_64mb(void **state)
{
    use_dir("sshd_64mb");
    struct sftp_remote rm;
    struct amk_sftp *s = NULL;
    (void)state;
    sftp_remote_open(&rm, &fx, &hk, user_key, &s);
    sftp_ops_big(s, &ops);
    sftp_remote_close(&rm, s);
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
    sftp_ops_paths(s, &ops);
    sftp_ops_file_handle(s, &ops);
    sftp_ops_files(s, &ops);
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
    ops.work = work;
    ops.user = fx.user[0] != '\0' ? fx.user : getenv("USER") != NULL ? getenv("USER") : "root";
    ops.all_extensions = 0;     /* OpenSSH's sftp-server: what this version offers */
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
        cmocka_unit_test(test_sftp_local_server_symlink_order),
        cmocka_unit_test(test_sftp_sshd_operations),
        cmocka_unit_test(test_sftp_sshd_64mb),
        cmocka_unit_test(test_sftp_client_api_operations),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
