/* see interop_client.h */
#include "interop_client.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/session.h"
#include "io/wait.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/base64.h"
#include "util/buf.h"

/* RFC 4250 §4.1 message numbers above the transport's. */
#define MSG_USERAUTH_REQUEST 50
#define MSG_USERAUTH_FAILURE 51
#define MSG_USERAUTH_SUCCESS 52
#define MSG_USERAUTH_BANNER 53
#define MSG_GLOBAL_REQUEST 80
#define MSG_REQUEST_SUCCESS 81
#define MSG_REQUEST_FAILURE 82

static const char *const HOST_KEY_FILES[] = {
    "host_ed25519.pub", "host_ecdsa256.pub", "host_ecdsa384.pub", "host_ecdsa521.pub",
    "host_rsa.pub", "host_dsa.pub",
};

int
interop_hostkeys_load(struct interop_hostkeys *hk, const struct sshd_fixture *f)
{
    memset(hk, 0, sizeof(*hk));
    hk->verdict = AMK_OK;
    for (size_t i = 0; i < sizeof(HOST_KEY_FILES) / sizeof(HOST_KEY_FILES[0]); i++) {
        char path[FIXTURE_PATH_MAX], line[8192], *b64, *end;
        struct amk_buf *blob = amk_buf_new();
        FILE *in;

        sshd_fixture_path(f, HOST_KEY_FILES[i], path, sizeof(path));
        if (blob != NULL && access(path, R_OK) != 0 && strcmp(HOST_KEY_FILES[i],
            "host_dsa.pub") == 0) {
            amk_buf_free(blob);     /* DSA is optional in OpenSSH */
            continue;
        }
        if (blob == NULL || (in = fopen(path, "r")) == NULL) {
            amk_buf_free(blob);
            return -1;
        }
        b64 = fgets(line, sizeof(line), in) != NULL ? strchr(line, ' ') : NULL;
        fclose(in);
        if (b64 == NULL || (end = strchr(++b64, ' ')) == NULL ||
            amk_base64_decode(b64, (size_t)(end - b64), blob) != AMK_OK ||
            (hk->blob[hk->n] = malloc(amk_buf_len(blob))) == NULL) {
            amk_buf_free(blob);
            return -1;
        }
        memcpy(hk->blob[hk->n], amk_buf_ptr(blob), amk_buf_len(blob));
        hk->len[hk->n++] = amk_buf_len(blob);
        amk_buf_free(blob);
    }
    return 0;
}

void
interop_hostkeys_free(struct interop_hostkeys *hk)
{
    for (size_t i = 0; i < hk->n; i++)
        free(hk->blob[i]);
    memset(hk, 0, sizeof(*hk));
}

/* The key type a host-key algorithm signs with (RFC 8332 §3: rsa-sha2-* use ssh-rsa keys). */
static const char *
key_type_of(const char *alg)
{
    if (strcmp(alg, "rsa-sha2-256") == 0 || strcmp(alg, "rsa-sha2-512") == 0)
        return "ssh-rsa";
    return alg;
}

int
interop_hostkey_cb(void *user, struct amk_session *s, const char *alg,
    const struct amk_key *key)
{
    struct interop_hostkeys *hk = user;
    struct amk_buf view;
    const uint8_t *type, *blob;
    const char *blob_alg;
    size_t type_len, len;

    hk->calls++;
    if (key == NULL || amk_session_host_key(s, &blob_alg, &blob, &len) != AMK_OK ||
        strcmp(blob_alg, alg) != 0)
        return AMK_EINTERNAL;
    snprintf(hk->last_alg, sizeof(hk->last_alg), "%s", alg);
    /* the blob starts with its key type name (RFC 4253 §6.6) */
    amk_buf_view(&view, blob, len);
    if (amk_buf_get_string_direct(&view, &type, &type_len) != AMK_OK ||
        type_len != strlen(key_type_of(alg)) || memcmp(type, key_type_of(alg), type_len) != 0)
        return AMK_EHOSTKEY_UNKNOWN;
    for (size_t i = 0; i < hk->n; i++) {
        if (hk->len[i] == len && memcmp(hk->blob[i], blob, len) == 0)
            return hk->verdict;
    }
    return AMK_EHOSTKEY_UNKNOWN;
}

int
interop_session(struct amk_session **out, const struct sshd_fixture *f,
    struct interop_hostkeys *hk, const struct interop_algs *algs, int blocking)
{
    struct amk_session *s = NULL;
    int r;

    *out = NULL;
    if ((r = amk_session_new(&s, AMK_SESSION_CLIENT)) != AMK_OK)
        return r;
    if ((r = amk_session_set_hostkey_callback(s, interop_hostkey_cb, hk)) != AMK_OK ||
        (r = amk_session_set_timeout(s, INTEROP_WAIT_MS)) != AMK_OK ||
        (r = amk_session_set_blocking(s, blocking)) != AMK_OK)
        goto out;
    if (algs != NULL &&
        ((r = amk_session_set_algorithms(s, AMK_ALG_KEX, algs->kex)) != AMK_OK ||
        (r = amk_session_set_algorithms(s, AMK_ALG_HOSTKEY, algs->hostkey)) != AMK_OK ||
        (r = amk_session_set_algorithms(s, AMK_ALG_CIPHER, algs->cipher)) != AMK_OK ||
        (r = amk_session_set_algorithms(s, AMK_ALG_MAC, algs->mac)) != AMK_OK ||
        (r = amk_session_set_algorithms(s, AMK_ALG_COMPRESSION, algs->compression)) != AMK_OK))
        goto out;
    r = amk_session_connect(s, "127.0.0.1", f->port);
    if (r == AMK_EAGAIN && !blocking)
        r = AMK_OK;     /* the handshake finishes the connect */
    if (r != AMK_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    amk_session_free(s);
    return r;
}

static int callback_fd = -1;

void
interop_set_callback_fd(int fd)
{
    callback_fd = fd;
}

int
interop_drive(struct amk_session *s, interop_op_fn op, void *arg)
{
    int64_t deadline = amk_io_deadline(INTEROP_WAIT_MS);
    int r;

    while ((r = op(s, arg)) == AMK_EAGAIN) {
        int dirs = amk_session_block_directions(s), wait = amk_session_next_timeout(s);
        int left = amk_io_remaining_ms(deadline);
        struct pollfd pfd = {
            .fd = amk_session_get_fd(s) >= 0 ? amk_session_get_fd(s) : callback_fd,
            .events = (short)(((dirs & AMK_WAIT_READ) ? POLLIN : 0) |
                ((dirs & AMK_WAIT_WRITE) ? POLLOUT : 0)),
        };

        if (left == 0)
            return AMK_ETIMEOUT;
        if (dirs == 0 || pfd.fd < 0)
            return AMK_EINTERNAL;   /* EAGAIN must say what to wait for */
        if (wait < 0 || wait > left)
            wait = left;
        if (poll(&pfd, 1, wait) < 0)
            return AMK_EIO;
    }
    return r;
}

static int
op_handshake(struct amk_session *s, void *arg)
{
    return amk_session_handshake(s);
}

int
interop_handshake(struct amk_session *s)
{
    return interop_drive(s, op_handshake, NULL);
}

struct packet_arg {
    const uint8_t *p;
    size_t len;
};

static int
op_recv(struct amk_session *s, void *arg)
{
    struct packet_arg *pa = arg;
    return amk_session_recv_packet(s, &pa->p, &pa->len);
}

static int
op_send(struct amk_session *s, void *arg)
{
    struct packet_arg *pa = arg;
    return amk_session_send_packet(s, pa->p, pa->len);
}

static int
op_flush(struct amk_session *s, void *arg)
{
    return amk_session_flush(s);
}

static int
op_disconnect(struct amk_session *s, void *arg)
{
    return amk_session_disconnect(s, arg);
}

int
interop_disconnect(struct amk_session *s, const char *description)
{
    return interop_drive(s, op_disconnect, (void *)description);
}

int
interop_recv(struct amk_session *s, const uint8_t **payload, size_t *len)
{
    struct packet_arg pa = { NULL, 0 };
    int r = interop_drive(s, op_recv, &pa);

    *payload = pa.p;
    *len = pa.len;
    return r;
}

int
interop_send(struct amk_session *s, const uint8_t *payload, size_t len)
{
    struct packet_arg pa = { payload, len };
    int r = interop_drive(s, op_send, &pa);

    if (r != AMK_OK)
        return r;
    return interop_drive(s, op_flush, NULL);
}

/* Sends what @p b holds as one packet and frees it. */
static int
send_buf(struct amk_session *s, struct amk_buf *b)
{
    int r = interop_send(s, amk_buf_ptr(b), amk_buf_len(b));

    amk_buf_free(b);
    return r;
}

int
interop_service_request(struct amk_session *s, const char *service)
{
    struct amk_buf *b = amk_buf_new(), view;
    const uint8_t *p, *name;
    size_t len, name_len;
    uint8_t type;
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    /* RFC 4253 §10 */
    if ((r = amk_buf_put_u8(b, AMK_MSG_SERVICE_REQUEST)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, service)) != AMK_OK) {
        amk_buf_free(b);
        return r;
    }
    if ((r = send_buf(s, b)) != AMK_OK || (r = interop_recv(s, &p, &len)) != AMK_OK)
        return r;
    amk_buf_view(&view, p, len);
    if ((r = amk_buf_get_u8(&view, &type)) != AMK_OK)
        return r;
    if (type != AMK_MSG_SERVICE_ACCEPT) {
        fprintf(stderr, "interop: expected SERVICE_ACCEPT, got message %u\n", type);
        return AMK_EPROTO;
    }
    if ((r = amk_buf_get_string_direct(&view, &name, &name_len)) != AMK_OK ||
        (r = amk_buf_get_end(&view)) != AMK_OK)
        return r;
    if (name_len != strlen(service) || memcmp(name, service, name_len) != 0)
        return AMK_EPROTO;
    return AMK_OK;
}

/* The RFC 4252 §7 request up to the signature; with @p session_id first
 * when @p for_signature (the signed data). */
static int
put_pk_request(struct amk_buf *b, const uint8_t *session_id, size_t sid_len, const char *user,
    const char *sig_alg, const struct amk_buf *blob, int for_signature)
{
    int r = AMK_OK;

    if (for_signature)
        r = amk_buf_put_string(b, session_id, sid_len);
    if (r != AMK_OK ||
        (r = amk_buf_put_u8(b, MSG_USERAUTH_REQUEST)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, user)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "ssh-connection")) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "publickey")) != AMK_OK ||
        (r = amk_buf_put_bool(b, 1)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, sig_alg)) != AMK_OK ||
        (r = amk_buf_put_stringb(b, blob)) != AMK_OK)
        return r;
    return AMK_OK;
}

int
interop_auth_publickey(struct amk_session *s, const char *user, const struct amk_key *key,
    const char *sig_alg)
{
    struct amk_buf *blob = amk_buf_new(), *signed_data = amk_buf_new();
    struct amk_buf *sig = amk_buf_new(), *req = amk_buf_new();
    const uint8_t *sid, *p;
    size_t sid_len, len;
    int r = AMK_EINTERNAL;

    if (blob == NULL || signed_data == NULL || sig == NULL || req == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = interop_service_request(s, "ssh-userauth")) != AMK_OK)
        goto out;
    amk_transport_session_id(amk_session_transport(s), &sid, &sid_len);
    if ((r = amk_key_to_blob(key, blob)) != AMK_OK ||
        (r = put_pk_request(signed_data, sid, sid_len, user, sig_alg, blob, 1)) != AMK_OK ||
        (r = amk_key_sign(key, sig_alg, amk_buf_ptr(signed_data), amk_buf_len(signed_data),
            sig)) != AMK_OK ||
        (r = put_pk_request(req, sid, sid_len, user, sig_alg, blob, 0)) != AMK_OK ||
        (r = amk_buf_put_stringb(req, sig)) != AMK_OK)
        goto out;
    r = send_buf(s, req);
    req = NULL;
    if (r != AMK_OK)
        goto out;
    for (;;) {
        if ((r = interop_recv(s, &p, &len)) != AMK_OK)
            goto out;
        if (len > 0 && p[0] == MSG_USERAUTH_BANNER)
            continue;
        if (len > 0 && p[0] == MSG_USERAUTH_SUCCESS)
            break;
        fprintf(stderr, "interop: publickey authentication answered with message %u\n",
            len > 0 ? p[0] : 0);
        r = AMK_EAUTH;
        goto out;
    }
    /* zlib@openssh.com starts here (RFC 4253 §6.2 as extended by OpenSSH) */
    r = amk_transport_set_authenticated(amk_session_transport(s));
out:
    amk_buf_free(blob);
    amk_buf_free(signed_data);
    amk_buf_free(sig);
    amk_buf_free(req);
    return r;
}

int
interop_keepalive(struct amk_session *s)
{
    struct amk_buf *b = amk_buf_new();
    const uint8_t *p;
    size_t len;
    int r;

    if (b == NULL)
        return AMK_ENOMEM;
    /* RFC 4254 §4: an unknown request with want-reply gets REQUEST_FAILURE */
    if ((r = amk_buf_put_u8(b, MSG_GLOBAL_REQUEST)) != AMK_OK ||
        (r = amk_buf_put_cstring(b, "keepalive@openssh.com")) != AMK_OK ||
        (r = amk_buf_put_bool(b, 1)) != AMK_OK) {
        amk_buf_free(b);
        return r;
    }
    if ((r = send_buf(s, b)) != AMK_OK)
        return r;
    for (;;) {
        if ((r = interop_recv(s, &p, &len)) != AMK_OK)
            return r;
        if (len > 0 && (p[0] == MSG_REQUEST_FAILURE || p[0] == MSG_REQUEST_SUCCESS))
            return AMK_OK;
        /* sshd may send its own global requests (hostkeys-00@openssh.com) */
        if (len > 0 && p[0] == MSG_GLOBAL_REQUEST)
            continue;
        fprintf(stderr, "interop: keepalive answered with message %u\n", len > 0 ? p[0] : 0);
        return AMK_EPROTO;
    }
}
