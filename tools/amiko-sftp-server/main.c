/*
 * amiko-sftp-server: an SFTP server on stdin/stdout, like OpenSSH's
 * sftp-server (usable as sshd's "Subsystem sftp" or with `sftp -D`).
 *
 *   amiko-sftp-server [-R] [-d startdir] [--root DIR] [-u umask]
 *                     [-e] [-l level] [-f facility]
 *
 * -R refuses every modifying request; --root DIR confines the client to
 * DIR (seen as "/"); -d sets the start directory (inside the root when
 * confined). -e, -l and -f are accepted for OpenSSH compatibility and
 * ignored (errors go to stderr).
 *
 * It drives the sans-I/O engine of src/sftp/sftp_server.c over the POSIX
 * backend of src/server/sftp_fs.c with poll(2): input is read only while
 * the engine accepts it, so a client that does not read its replies
 * cannot make the server buffer without bound. Writes never block, so
 * input keeps flowing while the client is slow to read (a client blocked
 * writing requests while we block writing replies would deadlock): on a
 * socket each send() is MSG_DONTWAIT, on a pipe the write end is made
 * non-blocking. The file description of stdin is left alone: it may be
 * shared with another process (sftp -D's socketpair behind a wrapper),
 * where O_NONBLOCK would leak to it; a read after POLLIN returns what is
 * there.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/sftp_fs.h"
#include "sftp/sftp_server.h"

#define IN_CAP ((size_t)2 * 1024 * 1024)

/* How replies are written without blocking: see the top. */
struct out_mode {
    int is_sock;
};

static int
out_setup(struct out_mode *m)
{
    struct stat st;
    int fl;

    m->is_sock = 0;
    if (fstat(STDOUT_FILENO, &st) != 0)
        return -1;
    if (S_ISSOCK(st.st_mode)) {
        m->is_sock = 1;
        return 0;
    }
    if (!S_ISFIFO(st.st_mode))
        return 0;               /* a file: writes do not wait anyway */
    if ((fl = fcntl(STDOUT_FILENO, F_GETFL)) < 0)
        return -1;
    return fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK);
}

static ssize_t
out_write(const struct out_mode *m, const void *p, size_t n)
{
    if (m->is_sock)
        return send(STDOUT_FILENO, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    return write(STDOUT_FILENO, p, n);
}

static void
usage(void)
{
    fprintf(stderr, "usage: amiko-sftp-server [-hR] [-d start_directory] [--root dir] "
        "[-u umask] [-e] [-l log_level] [-f log_facility]\n");
}

int
main(int argc, char **argv)
{
    static const struct option LONG[] = {
        { "root", required_argument, NULL, 'r' },
        { "read-only", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct amk_sftps_config cfg = { .whole_packets = 1 };
    struct out_mode om;
    struct amk_sftp_fs *fs = NULL;
    struct amk_sftps *s = NULL;
    const char *root = NULL, *start = NULL;
    uint8_t *in = NULL;
    size_t ist = 0, iend = 0;     /* unused input: in[ist..iend) */
    char err[512];
    int c, rc = 1, eof = 0, r;

    while ((c = getopt_long(argc, argv, "d:ef:hl:p:P:Rr:u:", LONG, NULL)) != -1) {
        switch (c) {
        case 'd': start = optarg; break;
        case 'R': cfg.read_only = 1; break;
        case 'r': root = optarg; break;
        case 'u': {
            char *end;
            long m = strtol(optarg, &end, 8);

            if (*end != '\0' || m < 0 || m > 0777) {
                fprintf(stderr, "amiko-sftp-server: bad umask %s\n", optarg);
                return 1;
            }
            umask((mode_t)m);
            break;
        }
        case 'e': case 'f': case 'l': case 'p': case 'P':
            break;              /* OpenSSH's logging and filters: ignored */
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 1;
        }
    }
    if (optind != argc) {
        usage();
        return 1;
    }
    /* A client that goes away must not kill us mid-write. */
    (void)signal(SIGPIPE, SIG_IGN);
    if (amk_sftp_fs_new(&fs, root, start, err, sizeof(err)) != AMK_OK) {
        fprintf(stderr, "amiko-sftp-server: %s\n", err[0] != '\0' ? err : "cannot start");
        goto out;
    }
    if ((r = amk_sftps_new(&s, amk_sftp_fs_ops(), fs, &cfg)) != AMK_OK ||
        (in = malloc(IN_CAP)) == NULL) {
        fprintf(stderr, "amiko-sftp-server: out of memory\n");
        goto out;
    }
    if (out_setup(&om) != 0) {
        fprintf(stderr, "amiko-sftp-server: stdout: %s\n", strerror(errno));
        goto out;
    }
    for (;;) {
        struct pollfd p[2];
        const uint8_t *o;
        size_t olen, used;
        int want_in;

        /*
         * Requests are handed over only once the replies before them are
         * all sent: the output buffer then never needs compacting. The
         * engine takes whole packets only (cfg.whole_packets), so WRITE
         * data goes from this buffer to the file with no copy.
         */
        /* a copy-data in progress: a slice per round, the replies before
         * it sent and input read meanwhile (poll does not wait) */
        if (amk_sftps_busy(s) && amk_sftps_step(s) != AMK_OK) {
            fprintf(stderr, "amiko-sftp-server: %s\n", amk_sftps_last_error(s));
            eof = 1;
            ist = iend = 0;
        }
        o = amk_sftps_output(s, &olen);
        if (iend > ist && olen == 0 && !amk_sftps_busy(s) && amk_sftps_error(s) == AMK_OK) {
            r = amk_sftps_input(s, in + ist, iend - ist, &used);
            ist += used;
            if (ist == iend)
                ist = iend = 0;
            if (r != AMK_OK) {
                fprintf(stderr, "amiko-sftp-server: %s\n", amk_sftps_last_error(s));
                eof = 1;
                ist = iend = 0;
            }
            o = amk_sftps_output(s, &olen);
        }
        /* keep room for the largest packet after the unused bytes */
        if (ist > 0 && IN_CAP - iend < AMK_SFTP_PACKET_MAX + 4) {
            memmove(in, in + ist, iend - ist);
            iend -= ist;
            ist = 0;
        }
        want_in = !eof && iend < IN_CAP && amk_sftps_error(s) == AMK_OK;
        /* done: nothing to send and nothing more can come (an incomplete
         * packet at the end of input is dropped, as OpenSSH does) */
        if (!want_in && olen == 0 && !amk_sftps_busy(s))
            break;
        p[0].fd = want_in ? STDIN_FILENO : -1;
        p[0].events = POLLIN;
        p[1].fd = olen > 0 ? STDOUT_FILENO : -1;
        p[1].events = POLLOUT;
        p[0].revents = p[1].revents = 0;
        if (poll(p, 2, amk_sftps_busy(s) ? 0 : -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "amiko-sftp-server: poll: %s\n", strerror(errno));
            goto out;
        }
        if (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t n = out_write(&om, o, olen);

            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                /* the client is gone */
                break;
            }
            if (n > 0 && amk_sftps_output_consume(s, (size_t)n) != AMK_OK)
                goto out;
        }
        if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = read(STDIN_FILENO, in + iend, IN_CAP - iend);

            if (n == 0)
                eof = 1;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                eof = 1;
            else if (n > 0)
                iend += (size_t)n;
        }
    }
    rc = amk_sftps_error(s) == AMK_OK ? 0 : 1;
out:
    amk_sftps_free(s);
    amk_sftp_fs_free(fs);
    free(in);
    return rc;
}
