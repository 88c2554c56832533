/*
 * libssh's client against `amiko serve`, for test_serve_peers.c: a
 * program of its own that links libssh only (not amiko).
 *
 *   serve_libssh PORT USER KEY KNOWN_HOSTS WORKDIR
 *
 * Connects to 127.0.0.1:PORT, checks the host key against KNOWN_HOSTS,
 * authenticates with the private key KEY and, over SFTP in WORKDIR: puts
 * ls_src to ls_file and gets it back to ls_back, makes the symlink
 * ls_link -> WORKDIR/ls_file with sftp_symlink(), reads it with
 * sftp_readlink() and sftp_lstat(). libssh sends SYMLINK linkpath first (the draft's
 * order) to a server whose banner does not name OpenSSH
 * (ssh_get_openssh_version() 0), as amiko serve's does. Prints what it
 * found; exit 0 when all of it worked, 1 with the reason on stderr.
 */
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 32768
#define PATH_CAP 4096
/*
 * libssh's defaults are used as they are: 0.10.6 (Debian 12) ends its
 * default cipher lists with a comma ("...,aes192-ctr,aes128-ctr,"), an
 * empty name RFC 4251 §5 does not allow, which OpenSSH's sshd ignores and
 * amiko's KEXINIT parser forgives (util/namelist.c).
 */

static int
fail(ssh_session s, const char *what)
{
    fprintf(stderr, "FAILED: %s: %s\n", what, s != NULL ? ssh_get_error(s) : "?");
    return 1;
}

static ssh_session
conn_open(const char *port_s, const char *user, const char *key_path, const char *known)
{
    ssh_session s = ssh_new();
    ssh_key key = NULL;
    int port = atoi(port_s);
    bool no = false;

    if (s == NULL)
        return NULL;
    if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1") != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_USER, user) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, known) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK) {
        fail(s, "options");
        goto bad;
    }
    if (ssh_connect(s) != SSH_OK) {
        fail(s, "connect");
        goto bad;
    }
    if (ssh_session_is_known_server(s) != SSH_KNOWN_HOSTS_OK) {
        fail(s, "host key not in known_hosts");
        goto bad;
    }
    if (ssh_pki_import_privkey_file(key_path, NULL, NULL, NULL, &key) != SSH_OK ||
        ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
        fail(s, "publickey auth");
        ssh_key_free(key);
        goto bad;
    }
    ssh_key_free(key);
    return s;
bad:
    ssh_free(s);
    return NULL;
}

/* Copies local @p from to remote @p to. */
static int
put(ssh_session s, sftp_session sftp, const char *from, const char *to)
{
    sftp_file f = sftp_open(sftp, to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fd = open(from, O_RDONLY), r = 1;
    char buf[CHUNK];
    ssize_t n;

    if (f == NULL || fd < 0) {
        fail(s, "put: open");
        goto out;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (sftp_write(f, buf, (size_t)n) != n) {
            fail(s, "put: sftp_write");
            goto out;
        }
    }
    r = n < 0 ? fail(s, "put: read") : 0;
out:
    if (f != NULL && sftp_close(f) != SSH_OK && r == 0)
        r = fail(s, "put: sftp_close");
    if (fd >= 0)
        close(fd);
    return r;
}

/* Copies remote @p from to local @p to. */
static int
get(ssh_session s, sftp_session sftp, const char *from, const char *to)
{
    sftp_file f = sftp_open(sftp, from, O_RDONLY, 0);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644), r = 1;
    char buf[CHUNK];
    ssize_t n;

    if (f == NULL || fd < 0) {
        fail(s, "get: open");
        goto out;
    }
    while ((n = sftp_read(f, buf, sizeof(buf))) > 0) {
        if (write(fd, buf, (size_t)n) != n) {
            fail(s, "get: write");
            goto out;
        }
    }
    r = n < 0 ? fail(s, "get: sftp_read") : 0;
out:
    if (f != NULL)
        sftp_close(f);
    if (fd >= 0 && close(fd) != 0 && r == 0)
        r = fail(s, "get: close");
    return r;
}

/* sftp_symlink(), then what sftp_readlink() and sftp_lstat() say. */
static int
symlink_checks(ssh_session s, sftp_session sftp, const char *work)
{
    char link[PATH_CAP], target[PATH_CAP];
    const char *base;
    char *got;
    sftp_attributes a;
    int is_link;

    snprintf(link, sizeof(link), "%s/ls_link", work);
    snprintf(target, sizeof(target), "%s/ls_file", work);
    /* libssh's order: target, then the link to make. Absolute paths: read
     * the wrong way round, it fails (ls_file exists) rather than making a
     * link in the start directory. */
    if (sftp_symlink(sftp, target, link) != SSH_OK)
        return fail(s, "sftp_symlink");
    if ((got = sftp_readlink(sftp, link)) == NULL)
        return fail(s, "sftp_readlink");
    base = strrchr(got, '/');
    printf("symlink: ls_link -> %s\n", base != NULL ? base + 1 : got);
    if (strcmp(got, target) != 0) {
        fprintf(stderr, "FAILED: readlink ls_link: \"%s\"\n", got);
        ssh_string_free_char(got);
        return 1;
    }
    ssh_string_free_char(got);
    if ((a = sftp_lstat(sftp, link)) == NULL)
        return fail(s, "sftp_lstat");
    is_link = a->type == SSH_FILEXFER_TYPE_SYMLINK && S_ISLNK(a->permissions);
    sftp_attributes_free(a);
    if (!is_link) {
        fprintf(stderr, "FAILED: lstat: ls_link is not a symlink\n");
        return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    char src[PATH_CAP], file[PATH_CAP], back[PATH_CAP];
    ssh_session s;
    sftp_session sftp = NULL;
    int rc = 1;

    if (argc != 6) {
        fprintf(stderr, "usage: serve_libssh PORT USER KEY KNOWN_HOSTS WORKDIR\n");
        return 2;
    }
    snprintf(src, sizeof(src), "%s/ls_src", argv[5]);
    snprintf(file, sizeof(file), "%s/ls_file", argv[5]);
    snprintf(back, sizeof(back), "%s/ls_back", argv[5]);
    ssh_init();
    if ((s = conn_open(argv[1], argv[2], argv[3], argv[4])) == NULL)
        goto out;
    printf("openssh version of the server: %d\n", ssh_get_openssh_version(s));
    if ((sftp = sftp_new(s)) == NULL || sftp_init(sftp) != SSH_OK) {
        fail(s, "sftp start");
        goto out;
    }
    if (put(s, sftp, src, file) != 0 || get(s, sftp, file, back) != 0)
        goto out;
    printf("put + get: ok\n");
    if (symlink_checks(s, sftp, argv[5]) != 0)
        goto out;
    printf("symlink + readlink + lstat: ok\n");
    rc = 0;
out:
    if (sftp != NULL)
        sftp_free(sftp);
    if (s != NULL) {
        ssh_disconnect(s);
        ssh_free(s);
    }
    ssh_finalize();
    return rc;
}
