/*
 * Example: amiko as an SSH server, as far as the server role goes today:
 * it makes an Ed25519 host key, listens on 127.0.0.1, and completes the key
 * exchange with each client (user authentication and channels on the server
 * side come with `amiko serve`).
 *
 *   server_handshake PORTFILE KEYFILE [CONNECTIONS]
 *
 * Writes the port it listens on to PORTFILE and the host key's public line
 * to KEYFILE, serves CONNECTIONS clients (default 1) one after another, and
 * exits. Each connection is bounded by a 10 s timeout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <amiko.h>

static int
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return AMK_EIO;
    if (fputs(text, f) < 0) {
        fclose(f);
        return AMK_EIO;
    }
    return fclose(f) == 0 ? AMK_OK : AMK_EIO;
}

/* Completes the key exchange on an accepted socket, then waits for the
 * client to hang up. */
static int
serve_one(int fd, struct amk_key *host_key)
{
    struct amk_session *s = NULL;
    const char *kex = NULL, *cipher = NULL;
    int r;

    if ((r = amk_session_new(&s, AMK_SESSION_SERVER)) != AMK_OK)
        return r;
    if ((r = amk_session_add_host_key(s, host_key)) != AMK_OK ||
        (r = amk_session_set_timeout(s, 10000)) != AMK_OK ||
        (r = amk_session_set_fd(s, fd)) != AMK_OK ||
        (r = amk_session_handshake(s)) != AMK_OK ||
        (r = amk_session_algorithm(s, AMK_ALG_KEX, &kex)) != AMK_OK ||
        (r = amk_session_algorithm(s, AMK_ALG_CIPHER, &cipher)) != AMK_OK) {
        fprintf(stderr, "server: %s: %s\n", amk_errname(r), amk_session_last_error(s));
        goto out;
    }
    printf("server: key exchange with %s done (%s, %s)\n", amk_session_peer_version(s), kex,
        cipher);
    fflush(stdout);
    /* Nothing more to serve yet: wait (bounded) for the client to close. */
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    (void)poll(&pfd, 1, 10000);
out:
    amk_session_free(s);
    return r;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t salen = sizeof(sa);
    struct amk_key *key = NULL;
    char *line = NULL, portbuf[32];
    int lfd = -1, r, served = 0, count = argc > 3 ? atoi(argv[3]) : 1;

    if (argc < 3 || count < 1) {
        fprintf(stderr, "usage: %s PORTFILE KEYFILE [CONNECTIONS]\n", argv[0]);
        return 2;
    }
    if ((r = amk_init()) != AMK_OK || (r = amk_key_create(AMK_KEY_ED25519, 0, &key)) != AMK_OK ||
        (r = amk_key_public_line(key, &line)) != AMK_OK ||
        (r = write_file(argv[2], line)) != AMK_OK) {
        fprintf(stderr, "server: host key: %s\n", amk_strerror(r));
        goto out;
    }
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
        perror("server: listen");
        r = AMK_EIO;
        goto out;
    }
    snprintf(portbuf, sizeof(portbuf), "%d\n", ntohs(sa.sin_port));
    if ((r = write_file(argv[1], portbuf)) != AMK_OK)
        goto out;
    printf("server: listening on 127.0.0.1 port %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (served = 0; served < count; served++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            perror("server: accept");
            r = AMK_EIO;
            goto out;
        }
        r = serve_one(fd, key);
        close(fd);
        if (r != AMK_OK)
            goto out;
    }
out:
    if (lfd >= 0)
        close(lfd);
    free(line);
    amk_key_free(key);
    return r == AMK_OK ? 0 : 1;
}
