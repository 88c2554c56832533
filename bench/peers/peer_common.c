/* see peer_common.h */
#include "peer_common.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int
peer_parse(int argc, char **argv, struct peer_opts *o)
{
    struct passwd *pw = getpwuid(geteuid());
    int ch;

    memset(o, 0, sizeof(*o));
    if (argc < 2)
        goto bad;
    o->cmd = argv[1];
    o->host = "127.0.0.1";
    o->user = pw != NULL ? pw->pw_name : "root";
    o->cipher = "aes128-gcm@openssh.com";
    optind = 2;
    while ((ch = getopt(argc, argv, "H:p:u:i:c:m:n:")) != -1) {
        switch (ch) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = (unsigned)atoi(optarg); break;
        case 'u': o->user = optarg; break;
        case 'i': o->key = optarg; break;
        case 'c': o->cipher = optarg; break;
        case 'm': o->mac = optarg; break;
        case 'n': o->count = atol(optarg); break;
        default: goto bad;
        }
    }
    if (o->port == 0 || o->port > 65535 || o->key == NULL)
        goto bad;
    o->args = argv + optind;
    o->nargs = argc - optind;
    return 0;
bad:
    fprintf(stderr, "usage: %s sftp-get|sftp-put|exec-cat|connect-latency|exec-live "
        "-p PORT -i KEY [-H HOST] [-u USER] [-c CIPHER] [-m MAC] [-n N] [ARGS]\n", argv[0]);
    return -1;
}

int
peer_tcp(const struct peer_opts *o)
{
    struct sockaddr_in in;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_port = htons((unsigned short)o->port);
    if (fd < 0 || inet_pton(AF_INET, o->host, &in.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&in, sizeof(in)) != 0) {
        perror("connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

double
peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
