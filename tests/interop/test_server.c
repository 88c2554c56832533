/*
 * Interop: the OpenSSH client against amiko in the server role. amiko
 * serves one connection on a loopback listener with generated host keys;
 * `ssh -v` connects with the algorithm under test, checks the host key
 * against a known_hosts file listing amiko's keys, and asks for the
 * ssh-userauth service. amiko's server session receives that
 * SERVICE_REQUEST (proving both sides completed the key exchange), answers
 * SERVICE_ACCEPT and then disconnects, which ssh reports. Every KEX,
 * host-key, cipher and MAC algorithm both support, blocking and
 * non-blocking server sessions alternating.
 */
#include "test_helper.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interop_client.h"
#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "sshd_fixture.h"
#include "transport/transport.h"
#include "util/base64.h"
#include "util/buf.h"

static const char *const KEX[] = {
    "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1", NULL
};
static const char *const HOSTKEY[] = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", NULL
};
static const char *const CIPHER[] = {
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc", NULL
};
static const char *const MAC[] = {
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
    "hmac-sha2-512", "hmac-sha1", "hmac-sha1-etm@openssh.com", NULL
};

static const enum amk_pkey_type KEY_TYPES[] = {
    AMK_PKEY_ED25519, AMK_PKEY_ECDSA_P256, AMK_PKEY_ECDSA_P384, AMK_PKEY_ECDSA_P521,
    AMK_PKEY_RSA,
};
#define N_KEYS (sizeof(KEY_TYPES) / sizeof(KEY_TYPES[0]))

static struct sshd_fixture fx;      /* only for its directory and tools */
static struct amk_key *host_keys[N_KEYS];
static char known_hosts[FIXTURE_PATH_MAX];

static int
in_list(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

/* A loopback listener; its port in *port. */
static int
listener(uint16_t *port)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    *port = ntohs(in.sin_port);
    return fd;
}

/* Starts `ssh -v` toward @p port with "-o @p opt" (and "-o @p opt2") in the background. */
static pid_t
spawn_ssh(uint16_t port, const char *opt, const char *opt2, const char *out)
{
    char port_s[16], kh[FIXTURE_PATH_MAX + 32], dest[128];
    pid_t pid;

    snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
    snprintf(kh, sizeof(kh), "UserKnownHostsFile=%s", known_hosts);
    snprintf(dest, sizeof(dest), "%s@127.0.0.1", fx.user);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0)
            _exit(126);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in, 0);
        dup2(o, 1);
        dup2(o, 2);
        execl(SSH_PATH, SSH_PATH, "-v", "-o", opt, "-o", opt2, "-F", "/dev/null", "-p", port_s,
            "-i", fx.user_key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", kh, "-o", "ConnectTimeout=10",
            dest, "true", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int
file_contains(const char *path, const char *needle)
{
    char line[4096];
    FILE *in = fopen(path, "r");
    int found = 0;

    if (in == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), in) != NULL)
        found = strstr(line, needle) != NULL;
    fclose(in);
    return found;
}

static void
dump_file(const char *path)
{
    char line[4096];
    FILE *in = fopen(path, "r");

    if (in == NULL)
        return;
    while (fgets(line, sizeof(line), in) != NULL)
        fprintf(stderr, "  ssh| %s", line);
    fclose(in);
}

/*
 * Serves one ssh connection restricted to @p name of @p kind (and, when
 * @p cipher is not NULL, to that cipher on both sides).
 */
static void
serve_once(enum amk_alg_kind kind, const char *option, const char *name, const char *cipher,
    int blocking)
{
    struct amk_session *s = NULL;
    char opt[256], opt2[256], out[FIXTURE_PATH_MAX];
    const uint8_t *p = NULL;
    const char *got = NULL;
    size_t len = 0;
    uint16_t port;
    int lfd = listener(&port), cfd = -1, status = 0, r;
    pid_t pid;
    static const uint8_t accept_msg[] = { AMK_MSG_SERVICE_ACCEPT, 0, 0, 0, 12,
        's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h' };

    snprintf(opt, sizeof(opt), "%s=%s", option, name);
    /* a harmless repeat of the first option when no cipher is forced */
    snprintf(opt2, sizeof(opt2), "%s=%s", cipher != NULL ? "Ciphers" : option,
        cipher != NULL ? cipher : name);
    sshd_fixture_path(&fx, "ssh.out", out, sizeof(out));
    pid = spawn_ssh(port, opt, opt2, out);
    ASSERT_OK(amk_io_wait(lfd, AMK_IO_READ, amk_io_deadline(FIXTURE_WAIT_MS), NULL, NULL));
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    close(lfd);
    ASSERT_OK(amk_session_new(&s, AMK_SESSION_SERVER));
    for (size_t i = 0; i < N_KEYS; i++)
        ASSERT_OK(amk_session_add_host_key(s, host_keys[i]));
    /* legacy and non-default algorithms are only offered when named */
    ASSERT_OK(amk_session_set_algorithms(s, kind, name));
    if (cipher != NULL)
        ASSERT_OK(amk_session_set_algorithms(s, AMK_ALG_CIPHER, cipher));
    ASSERT_OK(amk_session_set_timeout(s, INTEROP_WAIT_MS));
    ASSERT_OK(amk_session_set_blocking(s, blocking));
    ASSERT_OK(amk_session_set_fd(s, cfd));
    r = interop_handshake(s);
    if (r == AMK_OK)
        r = interop_recv(s, &p, &len);
    if (r != AMK_OK) {
        dump_file(out);
        fail_msg("%s: server: %s: %s", name, amk_errname(r), amk_session_last_error(s));
    }
    /* RFC 4253 §10: the client asks for ssh-userauth once keys are in use */
    assert_true(len == 17 && p[0] == AMK_MSG_SERVICE_REQUEST);
    assert_memory_equal(p + 5, "ssh-userauth", 12);
    ASSERT_OK(amk_session_algorithm(s, kind, &got));
    assert_string_equal(got, name);
    ASSERT_OK(interop_send(s, accept_msg, sizeof(accept_msg)));
    ASSERT_OK(interop_disconnect(s, "amiko server test done"));
    amk_session_free(s);
    close(cfd);
    /* ssh ends (non-zero: it was disconnected) within the bound */
    int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (amk_io_remaining_ms(deadline) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("%s: ssh did not exit", name);
        }
        usleep(10000);
    }
    if (!file_contains(out, "matches the") || !file_contains(out, "amiko server test done")) {
        dump_file(out);
        fail_msg("%s: ssh did not verify the host key or see the DISCONNECT", name);
    }
}

static void
each(const char *const *names, const char *query, const char *option, enum amk_alg_kind kind,
    const char *cipher)
{
    char offered[8192];
    int tested = 0;

    assert_int_equal(sshd_fixture_query(&fx, query, offered, sizeof(offered)), 0);
    for (size_t i = 0; names[i] != NULL; i++) {
        if (!in_list(offered, names[i]))
            continue;
        serve_once(kind, option, names[i], cipher, (int)(i % 2 == 0));
        print_message("    %s: ok\n", names[i]);
        tested++;
    }
    assert_true(tested > 0);
}

static void
test_server_kex(void **state)
{
    each(KEX, "kex", "KexAlgorithms", AMK_ALG_KEX, NULL);
}

static void
test_server_hostkey(void **state)
{
    each(HOSTKEY, "key-sig", "HostKeyAlgorithms", AMK_ALG_HOSTKEY, NULL);
}

static void
test_server_cipher(void **state)
{
    each(CIPHER, "cipher", "Ciphers", AMK_ALG_CIPHER, NULL);
}

static void
test_server_mac(void **state)
{
    /* a MAC is only used with a cipher that is not AEAD */
    each(MAC, "mac", "MACs", AMK_ALG_MAC, "aes128-ctr");
}

static int
group_setup(void **state)
{
    FILE *kh;

    if (sshd_fixture_init(&fx) != 0)
        return -1;
    sshd_fixture_path(&fx, "server_known_hosts", known_hosts, sizeof(known_hosts));
    if ((kh = fopen(known_hosts, "w")) == NULL)
        return -1;
    for (size_t i = 0; i < N_KEYS; i++) {
        struct amk_buf *blob = amk_buf_new(), *b64 = amk_buf_new();
        int ok = blob != NULL && b64 != NULL &&
            amk_key_generate(KEY_TYPES[i], KEY_TYPES[i] == AMK_PKEY_RSA ? 2048 : 0,
                &host_keys[i]) == AMK_OK &&
            amk_key_to_blob(host_keys[i], blob) == AMK_OK &&
            amk_base64_encode(amk_buf_ptr(blob), amk_buf_len(blob), 1, b64) == AMK_OK &&
            amk_buf_put(b64, "", 1) == AMK_OK;
        /* known_hosts: "[host]:port" patterns would need the port; "*" matches any */
        if (ok)
            fprintf(kh, "* %s %s\n", amk_key_type_name(host_keys[i]),
                (const char *)amk_buf_ptr(b64));
        amk_buf_free(blob);
        amk_buf_free(b64);
        if (!ok) {
            fclose(kh);
            return -1;
        }
    }
    return fclose(kh) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
    for (size_t i = 0; i < N_KEYS; i++)
        amk_key_free(host_keys[i]);
    sshd_fixture_cleanup(&fx);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_kex),
        cmocka_unit_test(test_server_hostkey),
        cmocka_unit_test(test_server_cipher),
        cmocka_unit_test(test_server_mac),
    };
    if (!sshd_fixture_available()) {
        fprintf(stderr, "OpenSSH not installed: skipped\n");
        return FIXTURE_SKIP;
    }
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
