/*
 * Example: connect to an SSH server and complete the key exchange.
 *
 *   handshake [-n] host [port [expected-key]]
 *
 * The server's host key is printed as a public-key line ("alg base64").
 * The key is trusted only if it equals expected-key (the base64 field of
 * that line, or of the server's .pub file): a client must check host keys,
 * so without one the handshake is refused with AMK_EHOSTKEY_REJECTED.
 * With -n the session runs in non-blocking mode, driven by poll() the way
 * an event loop would drive it.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of @p len bytes into @p out (room for 4 * ((len + 2) / 3) + 1). */
static void
base64(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? B64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The host-key check: the key must equal the one given on the command line. */
static int
check_host_key(void *user, struct amk_session *s, const char *alg, const struct amk_key *key)
{
    const char *expected = user;
    const char *blob_alg = NULL;
    const uint8_t *blob = NULL;
    size_t len = 0;
    char *text;
    int ok, r;

    /* the key's blob, as in known_hosts lines (the key object also has
     * fingerprints and comparison: see amiko/key.h) */
    if ((r = amk_session_host_key(s, &blob_alg, &blob, &len)) != AMK_OK)
        return r;
    if ((text = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
        return AMK_ENOMEM;
    base64(blob, len, text);
    printf("server host key: %s %s\n", alg, text);
    ok = expected != NULL && strcmp(expected, text) == 0;
    free(text);
    if (!ok)
        fprintf(stderr, "host key not trusted: pass its base64 as expected-key to accept it\n");
    return ok ? AMK_OK : AMK_EHOSTKEY_REJECTED;
}

static void
log_line(void *user, enum amk_log_level level, const char *msg)
{
    fprintf(stderr, "[%s] %s\n", amk_log_level_name(level), msg);
}

/* Calls amk_session_handshake() until done, polling the socket in between. */
static int
handshake_nonblocking(struct amk_session *s)
{
    int r;

    while ((r = amk_session_handshake(s)) == AMK_EAGAIN) {
        int dirs = amk_session_block_directions(s);
        struct pollfd pfd = {
            .fd = amk_session_get_fd(s),
            .events = (short)(((dirs & AMK_WAIT_READ) ? POLLIN : 0) |
                ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0)),
        };
        /* a real loop also runs its other work here */
        if (poll(&pfd, 1, amk_session_next_timeout(s)) < 0)
            return AMK_EIO;
    }
    return r;
}

int
main(int argc, char **argv)
{
    struct amk_session *s = NULL;
    const char *name = NULL;
    int nonblocking = 0, argi = 1, r;
    long port = 22;

    if (argi < argc && strcmp(argv[argi], "-n") == 0) {
        nonblocking = 1;
        argi++;
    }
    if (argc - argi < 1 || argc - argi > 3) {
        fprintf(stderr, "usage: %s [-n] host [port [expected-key]]\n", argv[0]);
        return 2;
    }
    if (argc - argi >= 2)
        port = strtol(argv[argi + 1], NULL, 10);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "bad port\n");
        return 2;
    }
    if ((r = amk_init()) != AMK_OK || (r = amk_session_new(&s, AMK_SESSION_CLIENT)) != AMK_OK) {
        fprintf(stderr, "setup: %s\n", amk_strerror(r));
        return 1;
    }
    if ((r = amk_session_set_log(s, getenv("AMK_DEBUG") != NULL ? log_line : NULL, NULL,
            AMK_LOG_DEBUG)) != AMK_OK ||
        (r = amk_session_set_hostkey_callback(s, check_host_key,
            argc - argi >= 3 ? argv[argi + 2] : NULL)) != AMK_OK ||
        (r = amk_session_set_timeout(s, 10000)) != AMK_OK ||
        (r = amk_session_set_blocking(s, !nonblocking)) != AMK_OK)
        goto out;
    r = amk_session_connect(s, argv[argi], (uint16_t)port);
    if (r != AMK_OK && r != AMK_EAGAIN)     /* non-blocking: the handshake finishes it */
        goto out;
    r = nonblocking ? handshake_nonblocking(s) : amk_session_handshake(s);
    if (r != AMK_OK)
        goto out;
    printf("connected to %s\n", amk_session_peer_version(s));
    if ((r = amk_session_algorithm(s, AMK_ALG_KEX, &name)) != AMK_OK)
        goto out;
    printf("kex %s\n", name);
    if ((r = amk_session_algorithm(s, AMK_ALG_CIPHER, &name)) != AMK_OK)
        goto out;
    printf("cipher %s\n", name);
    if ((r = amk_session_algorithm(s, AMK_ALG_MAC, &name)) != AMK_OK)
        goto out;
    printf("mac %s\n", name[0] != '\0' ? name : "(implied by the cipher)");
    if (nonblocking) {
        while ((r = amk_session_disconnect(s, "example done")) == AMK_EAGAIN) {
            struct pollfd pfd = { .fd = amk_session_get_fd(s), .events = POLLOUT };
            if (poll(&pfd, 1, 10000) <= 0)
                break;
        }
    } else {
        r = amk_session_disconnect(s, "example done");
    }
out:
    if (r != AMK_OK)
        fprintf(stderr, "%s: %s\n", amk_errname(r), amk_session_last_error(s));
    amk_session_free(s);
    return r == AMK_OK ? 0 : 1;
}
