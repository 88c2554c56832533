/*
 * Example: an SSH server with amiko's server API (amiko/server.h).
 *
 *   server PORT AUTHORIZED_KEYS [SFTP_ROOT]
 *
 * Listens on 127.0.0.1:PORT (0: a free port, printed) with a fresh
 * Ed25519 host key (its fingerprint is printed). The user running it
 * logs in with a key from AUTHORIZED_KEYS (its options honoured); the
 * user "demo" with the password "demo". Commands run as the server's
 * user; the sftp subsystem serves SFTP_ROOT (default: the whole
 * filesystem). The command "hello" is answered by the application itself
 * through a handled channel. Ctrl-C stops it.
 */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amiko.h>

static struct amk_server *server;

static void
on_sigint(int sig)
{
    (void)sig;
    amk_server_stop(server);    /* async-signal-safe */
}

static void
log_line(void *user, enum amk_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "server: [%s] %s\n", amk_log_level_name(level), msg);
}

static int
check_password(void *user, struct amk_server_conn *conn, const char *username,
    const char *password)
{
    (void)user;
    (void)conn;
    /* compare in constant time; never strcmp() a password */
    return strcmp(username, "demo") == 0 && amk_server_password_equal(password, "demo") ?
        AMK_SERVER_AUTH_ACCEPT : AMK_SERVER_AUTH_REJECT;
}

/* "hello" is answered here; everything else goes to the ready handlers. */
static int
on_session(void *user, struct amk_server_conn *conn, struct amk_server_channel *ch,
    const struct amk_server_request *req)
{
    char text[160];
    int n;

    (void)user;
    if (strcmp(req->type, "exec") != 0 || strcmp(req->command, "hello") != 0)
        return AMK_SERVER_SESSION_DEFAULT;
    n = snprintf(text, sizeof(text), "hello %s from %s, answered by the application\n",
        amk_server_conn_user(conn), amk_server_conn_peer_address(conn));
    if (amk_server_channel_write(ch, 0, text, (size_t)n) != AMK_OK ||
        amk_server_channel_exit(ch, 0) != AMK_OK)
        return AMK_SERVER_SESSION_REFUSE;
    return AMK_SERVER_SESSION_HANDLE;
}

int
main(int argc, char **argv)
{
    struct amk_key *host_key = NULL;
    struct passwd *pw = getpwuid(geteuid());
    char *fp = NULL;
    int r;

    if (argc < 3 || argc > 4 || pw == NULL) {
        fprintf(stderr, "usage: server PORT AUTHORIZED_KEYS [SFTP_ROOT]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((r = amk_server_new(&server)) != AMK_OK) {
        fprintf(stderr, "server: %s\n", amk_strerror(r));
        return 1;
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    if ((r = amk_key_create(AMK_KEY_ED25519, 0, &host_key)) != AMK_OK
        || (r = amk_key_fingerprint(host_key, AMK_KEY_FP_SHA256, &fp)) != AMK_OK
        || (r = amk_server_add_host_key(server, host_key)) != AMK_OK
        || (r = amk_server_set_log(server, log_line, NULL, AMK_LOG_INFO)) != AMK_OK
        || (r = amk_server_set_authorized_keys(server, pw->pw_name, argv[2])) != AMK_OK
        || (r = amk_server_set_password_callback(server, check_password, NULL)) != AMK_OK
        || (r = amk_server_set_session_callback(server, on_session, NULL)) != AMK_OK
        || (r = amk_server_set_exec(server, 1)) != AMK_OK
        || (r = amk_server_set_sftp(server, 1, argc == 4 ? argv[3] : NULL, 0)) != AMK_OK
        || (r = amk_server_listen(server, "127.0.0.1", (uint16_t)atoi(argv[1]))) != AMK_OK) {
        fprintf(stderr, "server: %s (%s)\n", amk_strerror(r), amk_server_last_error(server));
        goto out;
    }
    printf("listening on 127.0.0.1:%u, host key %s %s\n", (unsigned)amk_server_port(server, 0),
        amk_key_type_label(host_key), fp);
    fflush(stdout);
    if ((r = amk_server_run(server)) != AMK_OK)
        fprintf(stderr, "server: %s\n", amk_server_last_error(server));
out:
    amk_server_free(server);
    amk_key_free(host_key);
    free(fp);
    return r == AMK_OK ? 0 : 1;
}
