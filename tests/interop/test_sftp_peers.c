/*
 * Interop: amiko's SFTP client (amk_client + amk_sftp_new_client) against
 * the SFTP servers of three other SSH implementations, from Debian's
 * packages:
 *
 * - AsyncSSH's own asyncssh.SFTPServer (no chroot) and
 * - Paramiko's SFTPServer over the script's SFTPServerInterface on the
 *   local file system (Paramiko ships only the interface), both run by
 *   sftp_peer_server.py (AMK_SFTP_PEER_SERVER_PY) under /usr/bin/python3;
 * - ProFTPD's mod_sftp, run by proftpd_server.c.
 *
 * All run sftp_ops.c's suite, the one test_sftp.c and test_sftp_server.c
 * run against OpenSSH's sftp-server and amiko's: paths and their errors,
 * attributes, symlinks, open handles, files of 0, 1, 32767, 32768, 32769
 * and 1 MiB + 1 bytes round-tripped with equal checksums, an interrupted
 * get and put resumed, and 64 MiB each way. What a peer lacks is listed
 * in its struct peer (extensions it does not offer, which the suite then
 * checks are absent) and skips exactly that part.
 *
 * The argument names the peer (CTest runs each as its own test); 77
 * (skipped) when its module cannot be imported or proftpd is missing. The
 * server is started on a free loopback port (the Python ones through the
 * serve fixture's port-file contract) and killed after each test; every
 * client call waits at most INTEROP_WAIT_MS.
 */
#include "test_helper.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interop_client.h"
#include "proftpd_server.h"
#include "serve_fixture.h"
#include "sftp_ops.h"

#ifndef AMK_SFTP_PEER_SERVER_PY
#error "AMK_SFTP_PEER_SERVER_PY must name sftp_peer_server.py"
#endif

#define PYTHON "/usr/bin/python3"

/* What each peer does not do that the suite would try. */
struct peer {
    const char *kind;                   /* sftp_peer_server.py's KIND */
    const char *const *lacks;           /* sftp_ops.lacks */
    unsigned quirks;                    /* sftp_ops.quirks */
    /* starts the server as the fixture's (serve_fixture_start_argv() or
     * _adopt()): 0, FIXTURE_SKIP, or -1 */
    int (*start)(const struct peer *p);
};

static struct serve_fixture fx;

/* sftp_peer_server.py KIND PORT_FILE HOST_KEY AUTHORIZED_KEYS */
static int
start_python(const struct peer *p)
{
    char host_key[FIXTURE_PATH_MAX];
    char *argv[] = { (char *)PYTHON, (char *)AMK_SFTP_PEER_SERVER_PY, (char *)p->kind,
        fx.port_file, host_key, fx.authorized_keys, NULL };

    if (access(PYTHON, X_OK) != 0) {
        fprintf(stderr, "skipped: %s is not installed\n", PYTHON);
        return FIXTURE_SKIP;
    }
    serve_fixture_path(&fx, "host_ed25519", host_key, sizeof(host_key));
    return serve_fixture_start_argv(&fx, argv);
}

/* ProFTPD's home-directory reply lacks its NAME header (see
 * test_proftpd_home_directory): the suite runs with it off (lacks),
 * that test with ProFTPD's defaults (no lacks). */
static int
start_proftpd(const struct peer *p)
{
    return proftpd_server_start(&fx, p->lacks != NULL ? "SFTPExtensions -homeDirectory" : NULL);
}

/* AsyncSSH 2.10's SFTPServer offers posix-rename, hardlink, fsync, statvfs
 * and fstatvfs (and vendor-id, newline) */
static const char *const ASYNCSSH_LACKS[] = {
    "limits@openssh.com", "lsetstat@openssh.com", "expand-path@openssh.com",
    "home-directory", "copy-data", NULL,
};
static const struct peer ASYNCSSH = {
    .kind = "asyncssh", .lacks = ASYNCSSH_LACKS, .start = start_python,
};

/* Paramiko 2.12's SFTPServer offers only check-file; it answers
 * posix-rename@openssh.com without offering it, which amiko does not
 * use unoffered. It reads SYMLINK target first ("the sftp 2 draft is
 * incorrect here!", sftp_server.py) though nothing in its VERSION says
 * so: amiko's client goes by its banner for that (sftp_channel.c). */
static const char *const PARAMIKO_LACKS[] = {
    "posix-rename@openssh.com", "statvfs@openssh.com", "fstatvfs@openssh.com",
    "hardlink@openssh.com", "fsync@openssh.com", "lsetstat@openssh.com",
    "limits@openssh.com", "expand-path@openssh.com", "home-directory", "copy-data", NULL,
};
static const struct peer PARAMIKO = {
    .kind = "paramiko", .lacks = PARAMIKO_LACKS, .start = start_python,
};

/* ProFTPD 1.3.8's mod_sftp answers VERSION 3 with versions, fsync,
 * posix-rename, statvfs, fstatvfs, hardlink and home-directory. It reads
 * SYMLINK target first from every client (fxp.c: "deliberately, to match
 * the behavior that OpenSSH uses"): by default it offers "@openssh.com"
 * extensions without vendor-id, which is how amiko's client tells
 * OpenSSH's order (sftp.c); with "SFTPExtensions +vendorID" it names
 * itself, and amiko's client knows its product name (see
 * test_proftpd_vendor_id_symlink). */
static const char *const PROFTPD_LACKS[] = {
    "limits@openssh.com", "lsetstat@openssh.com", "expand-path@openssh.com", "home-directory",
    "copy-data", NULL,
};
static const struct peer PROFTPD = {
    .kind = "proftpd", .lacks = PROFTPD_LACKS, .start = start_proftpd,
    .quirks = SFTP_QUIRK_READLINK_ABSOLUTE | SFTP_QUIRK_LSTAT_FOLLOWS,
};
static const struct peer PROFTPD_DEFAULTS = { .kind = "proftpd", .start = start_proftpd };

/* ProFTPD with "SFTPExtensions +vendorID" (and the suite's lacks). */
static int
start_proftpd_vendor_id(const struct peer *p)
{
    (void)p;
    return proftpd_server_start(&fx, "SFTPExtensions -homeDirectory +vendorID");
}
static const struct peer PROFTPD_VENDOR_ID = {
    .kind = "proftpd", .lacks = PROFTPD_LACKS, .start = start_proftpd_vendor_id,
    .quirks = SFTP_QUIRK_READLINK_ABSOLUTE | SFTP_QUIRK_LSTAT_FOLLOWS,
};

static char work[FIXTURE_PATH_MAX + 32];    /* the current test's directory */
static struct sftp_ops ops;

/* Starts @p p's server (exits 77 when its module is missing) and connects
 * amiko's client to it with the fixture's user key, checking the host
 * key against the fixture's known_hosts. The suite works in fx.work/@p dir. */
static struct amk_client *
peer_connect(const struct peer *p, const char *dir)
{
    struct amk_client *c = NULL;
    int r;

    r = p->start(p);
    if (r == FIXTURE_SKIP) {
        serve_fixture_cleanup(&fx);
        exit(FIXTURE_SKIP);
    }
    assert_int_equal(r, 0);
    serve_fixture_work_path(&fx, dir, work, sizeof(work));
    assert_int_equal(mkdir(work, 0755), 0);
    ops.work = work;
    ops.user = fx.user;
    ops.all_extensions = 1;
    ops.lacks = p->lacks;
    ops.quirks = p->quirks;

    ASSERT_OK(amk_client_new(&c));
    ASSERT_OK(amk_client_load_host_keys(c, fx.known_hosts));
    ASSERT_OK(amk_client_set_allow_default_keys(c, 0));
    ASSERT_OK(amk_client_set_timeout(c, INTEROP_WAIT_MS));
    ASSERT_OK(amk_client_add_key_file(c, fx.user_key));
    r = amk_client_connect(c, "127.0.0.1", fx.port, fx.user, NULL);
    if (r != AMK_OK) {
        serve_fixture_dump_log(&fx, 4000);
        fail_msg("connect to %s: %s: %s", p->kind, amk_errname(r), amk_client_last_error(c));
    }
    return c;
}

/* Closes the client and kills the server. */
static void
peer_done(struct amk_client *c, struct amk_sftp *s)
{
    amk_sftp_free(s);
    ASSERT_OK(amk_client_close(c));
    amk_client_free(c);
    serve_fixture_stop(&fx);
}

static struct amk_sftp *
sftp_of(struct amk_client *c)
{
    struct amk_sftp *s = NULL;
    int r = amk_sftp_new_client(&s, c);

    if (r != AMK_OK) {
        serve_fixture_dump_log(&fx, 4000);
        fail_msg("sftp: %s: %s", amk_errname(r), amk_client_last_error(c));
    }
    return s;
}

static void
run_operations(const struct peer *p)
{
    struct amk_client *c = peer_connect(p, "operations");
    struct amk_sftp *s = sftp_of(c);

    sftp_ops_paths(s, &ops);
    sftp_ops_file_handle(s, &ops);
    sftp_ops_files(s, &ops);
    sftp_ops_resume(s, &ops);
    peer_done(c, s);
}

static void
run_big(const struct peer *p)
{
    struct amk_client *c = peer_connect(p, "big");
    struct amk_sftp *s = sftp_of(c);

    sftp_ops_big(s, &ops);
    peer_done(c, s);
}

static void
test_asyncssh_operations(void **state)
{
    (void)state;
    run_operations(&ASYNCSSH);
}

static void
test_asyncssh_64mb(void **state)
{
    (void)state;
    run_big(&ASYNCSSH);
}

static void
test_paramiko_operations(void **state)
{
    (void)state;
    run_operations(&PARAMIKO);
}

static void
test_paramiko_64mb(void **state)
{
    (void)state;
    run_big(&PARAMIKO);
}

static void
test_proftpd_operations(void **state)
{
    (void)state;
    run_operations(&PROFTPD);
}

static void
test_proftpd_64mb(void **state)
{
    (void)state;
    run_big(&PROFTPD);
}

/* ProFTPD's home-directory (on by default) answers with a NAME body
 * that lacks its header: "string filename, string longname, attrs"
 * with no type, request id or count (checked with a raw client: length
 * 132, then 00 00 00 20 "/dev/shm/..."). amiko's client refuses it as
 * malformed, and the session ends there. */
static void
test_proftpd_home_directory(void **state)
{
    struct amk_client *c = peer_connect(&PROFTPD_DEFAULTS, "home");
    struct amk_sftp *s = sftp_of(c);
    char *out = NULL;

    (void)state;
    assert_true(amk_sftp_has_extension(s, "home-directory", NULL, NULL));
    ASSERT_AMK(AMK_EPROTO, amk_sftp_home_directory(s, fx.user, &out));
    assert_null(out);
    assert_non_null(strstr(amk_sftp_last_error(s), "malformed reply"));
    peer_done(c, s);
}

/* ProFTPD offering vendor-id still reads SYMLINK target first: amiko's
 * client went by vendor-id alone before, sent the draft's order, and the
 * link came out at the target's name pointing at the link's. */
static void
test_proftpd_vendor_id_symlink(void **state)
{
    struct amk_client *c = peer_connect(&PROFTPD_VENDOR_ID, "vendor");
    struct amk_sftp *s = sftp_of(c);
    char target[FIXTURE_PATH_MAX + 64], link[FIXTURE_PATH_MAX + 64], got[64];
    ssize_t n;
    FILE *f;

    (void)state;
    assert_true(amk_sftp_has_extension(s, "vendor-id", NULL, NULL));
    snprintf(target, sizeof(target), "%s/f", work);
    snprintf(link, sizeof(link), "%s/l", work);
    assert_non_null(f = fopen(target, "w"));
    assert_int_equal(fclose(f), 0);
    ASSERT_OK(amk_sftp_symlink(s, "f", link));
    n = readlink(link, got, sizeof(got) - 1);
    assert_true(n > 0);
    got[n] = '\0';
    assert_string_equal(got, "f");
    peer_done(c, s);
}

static int
group_setup(void **state)
{
    static const char *const need[] = { SSH_KEYGEN_PATH };

    (void)state;
    if (serve_fixture_need(need, sizeof(need) / sizeof(need[0])) != 0)
        return -1;
    return serve_fixture_init(&fx);
}

static int
group_teardown(void **state)
{
    (void)state;
    serve_fixture_cleanup(&fx);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asyncssh_operations),
        cmocka_unit_test(test_asyncssh_64mb),
        cmocka_unit_test(test_paramiko_operations),
        cmocka_unit_test(test_paramiko_64mb),
        cmocka_unit_test(test_proftpd_operations),
        cmocka_unit_test(test_proftpd_64mb),
        cmocka_unit_test(test_proftpd_home_directory),
        cmocka_unit_test(test_proftpd_vendor_id_symlink),
    };

    /* argv[1]: the peer, "asyncssh", "paramiko" or "proftpd" (a CTest test each) */
    test_filter_from_argv(argc, argv, "test_", "_*");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
