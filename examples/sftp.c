/*
 * Example: SFTP. Runs one command against an SFTP server reached through a
 * program whose stdin/stdout carry the SFTP stream: OpenSSH's
 * `ssh -s HOST sftp` (the subsystem over OpenSSH's own client), or a local
 * sftp-server. amk_sftp_new_io() takes the stream as two callbacks.
 *
 *   sftp SERVER-COMMAND... -- ls PATH
 *   sftp SERVER-COMMAND... -- get REMOTE LOCAL
 *   sftp SERVER-COMMAND... -- put LOCAL REMOTE
 *   sftp SERVER-COMMAND... -- df PATH
 *
 * e.g.  sftp /usr/bin/ssh -s example.org sftp -- ls /tmp
 *       sftp /usr/lib/openssh/sftp-server -- get /etc/hostname hostname.copy
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amiko.h>

static ssize_t
stream_read(void *user, void *buf, size_t len)
{
    ssize_t n;

    do {
        n = read(*(int *)user, buf, len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? AMK_EIO : n;
}

static ssize_t
stream_write(void *user, const void *buf, size_t len)
{
    ssize_t n;

    do {
        n = write(*(int *)user, buf, len);
    } while (n < 0 && errno == EINTR);
    return n <= 0 ? AMK_EIO : n;
}

/* Prints a progress line: bytes done of the total. */
static int
progress(void *user, uint64_t done, uint64_t total)
{
    (void)user;
    fprintf(stderr, "\r%llu / %llu bytes", (unsigned long long)done, (unsigned long long)total);
    return AMK_OK;
}

static int
run(struct amk_sftp *s, int argc, char **argv)
{
    struct amk_sftp_name *names = NULL;
    struct amk_sftp_statvfs vfs;
    size_t n;
    int r;

    if (argc == 2 && strcmp(argv[0], "ls") == 0) {
        if ((r = amk_sftp_listdir(s, argv[1], &names, &n)) != AMK_OK)
            return r;
        for (size_t i = 0; i < n; i++)
            printf("%s\n", names[i].longname);
        amk_sftp_names_free(names, n);
        return AMK_OK;
    }
    if (argc == 3 && strcmp(argv[0], "get") == 0) {
        r = amk_sftp_get(s, argv[1], argv[2], 0, progress, NULL);
        fprintf(stderr, "\n");
        return r;
    }
    if (argc == 3 && strcmp(argv[0], "put") == 0) {
        r = amk_sftp_put(s, argv[1], argv[2], 0, progress, NULL);
        fprintf(stderr, "\n");
        return r;
    }
    if (argc == 2 && strcmp(argv[0], "df") == 0) {
        if ((r = amk_sftp_statvfs(s, argv[1], &vfs)) != AMK_OK)
            return r;
        printf("%llu of %llu KiB free\n",
            (unsigned long long)(vfs.bavail * vfs.frsize / 1024),
            (unsigned long long)(vfs.blocks * vfs.frsize / 1024));
        return AMK_OK;
    }
    return AMK_EINVAL;
}

int
main(int argc, char **argv)
{
    struct amk_sftp *s = NULL;
    int sep = 0, sv[2], status, r;
    pid_t pid;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
    if (sep < 2 || sep + 1 >= argc) {
        fprintf(stderr, "usage: %s SERVER-COMMAND... -- ls|get|put|df ARGS\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(sv[0]);
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        argv[sep] = NULL;
        execv(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    close(sv[1]);
    /* A stream carries no SSH version string: were the server Paramiko's,
     * amk_sftp_set_symlink_order(s, AMK_SFTP_SYMLINK_TARGET_FIRST) would
     * say so before any amk_sftp_symlink(). */
    r = amk_sftp_new_io(&s, stream_read, stream_write, &sv[0]);
    if (r == AMK_OK)
        r = run(s, argc - sep - 1, argv + sep + 1);
    if (r != AMK_OK)
        fprintf(stderr, "%s: %s%s%s\n", amk_errname(r), amk_strerror(r),
            s != NULL ? ": " : "", amk_sftp_last_error(s));
    amk_sftp_free(s);
    close(sv[0]);
    waitpid(pid, &status, 0);
    return r == AMK_OK ? 0 : 1;
}
