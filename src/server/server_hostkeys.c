/*
 * Host-key rotation support (OpenSSH PROTOCOL §2.5): after
 * authentication the server announces every host key it has with
 * "hostkeys-00@openssh.com" (no reply wanted), and answers
 * "hostkeys-prove-00@openssh.com" by signing, for each key the client
 * lists, string "hostkeys-prove-00@openssh.com" || string session_id ||
 * string key blob. `ssh` with UpdateHostKeys learns the keys this way.
 *
 * The prove request is answered here, before the connection engine sees
 * it, because its reply carries data the engine's global-request
 * callback cannot give. The engine answers every other global request at
 * once, so replies stay in request order (RFC 4254 §4).
 */
#include "server/server_int.h"

#include <stdio.h>
#include <string.h>

#include "channel/conn.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"

#define HOSTKEYS_NAME "hostkeys-00@openssh.com"
#define PROVE_NAME "hostkeys-prove-00@openssh.com"

int
amk_srv_hostkeys_announce(struct srv_conn *c)
{
    struct amk_server *s = c->srv;
    struct amk_buf data, blob;
    int r = AMK_OK;

    amk_buf_init(&data);
    amk_buf_init(&blob);
    for (size_t i = 0; i < s->n_host_keys && r == AMK_OK; i++) {
        amk_buf_reset(&blob);
        if ((r = amk_key_to_blob(s->host_keys[i], &blob)) == AMK_OK)
            r = amk_buf_put_stringb(&data, &blob);
    }
    if (r == AMK_OK)
        r = amk_conn_global_request(c->conn, HOSTKEYS_NAME, amk_buf_ptr(&data),
            amk_buf_len(&data), 0, NULL);
    amk_buf_release(&data);
    amk_buf_release(&blob);
    return r;
}

/* Which of our keys has public blob @p p / @p len; NULL when none. */
static struct amk_key *
our_key(struct amk_server *s, const uint8_t *p, size_t len)
{
    struct amk_buf blob;
    struct amk_key *found = NULL;

    amk_buf_init(&blob);
    for (size_t i = 0; i < s->n_host_keys && found == NULL; i++) {
        amk_buf_reset(&blob);
        if (amk_key_to_blob(s->host_keys[i], &blob) == AMK_OK && amk_buf_len(&blob) == len &&
            memcmp(amk_buf_ptr(&blob), p, len) == 0)
            found = s->host_keys[i];
    }
    amk_buf_release(&blob);
    return found;
}

/* The signature algorithm: for RSA the negotiated one when it is an RSA
 * one (as sshd), else rsa-sha2-512; the key's own for the others. */
static const char *
sig_alg(struct srv_conn *c, const struct amk_key *k, char *buf, size_t cap)
{
    struct amk_transport_algs algs;

    if (strcmp(amk_key_type_name(k), "ssh-rsa") != 0)
        return NULL;
    if (amk_transport_algs(c->t, &algs) == AMK_OK && strncmp(algs.hostkey, "rsa-sha2-", 9) == 0) {
        snprintf(buf, cap, "%s", algs.hostkey);
        return buf;
    }
    return "rsa-sha2-512";
}

int
amk_srv_hostkeys_maybe_prove(struct srv_conn *c, const uint8_t *payload, size_t len)
{
    struct amk_buf m, reply, data, sig;
    const uint8_t *name, *sid, *kb;
    size_t name_len, sid_len, kb_len;
    uint8_t msg;
    int want_reply, r, ok = 1;

    amk_buf_view(&m, payload, len);
    if (amk_buf_get_u8(&m, &msg) != AMK_OK || amk_buf_get_string_direct(&m, &name, &name_len)
        != AMK_OK || name_len != strlen(PROVE_NAME) || memcmp(name, PROVE_NAME, name_len) != 0)
        return 0;
    if (amk_buf_get_bool(&m, &want_reply) != AMK_OK)
        return -1;
    amk_transport_session_id(c->t, &sid, &sid_len);
    amk_buf_init(&reply);
    amk_buf_init(&data);
    amk_buf_init(&sig);
    r = amk_buf_put_u8(&reply, AMK_MSG_REQUEST_SUCCESS);
    while (r == AMK_OK && ok && amk_buf_len(&m) > 0) {
        struct amk_key *k;
        char alg[AMK_NAME_MAX + 1];

        if ((r = amk_buf_get_string_direct(&m, &kb, &kb_len)) != AMK_OK)
            break;
        if ((k = our_key(c->srv, kb, kb_len)) == NULL) {
            ok = 0;     /* sshd refuses a request naming a key it lacks */
            break;
        }
        amk_buf_reset(&data);
        amk_buf_reset(&sig);
        if ((r = amk_buf_put_cstring(&data, PROVE_NAME)) != AMK_OK
            || (r = amk_buf_put_string(&data, sid, sid_len)) != AMK_OK
            || (r = amk_buf_put_string(&data, kb, kb_len)) != AMK_OK
            || (r = amk_key_sign(k, sig_alg(c, k, alg, sizeof(alg)), amk_buf_ptr(&data),
                amk_buf_len(&data), &sig)) != AMK_OK
            || (r = amk_buf_put_stringb(&reply, &sig)) != AMK_OK)
            break;
    }
    if (r != AMK_OK) {
        amk_buf_release(&reply);
        amk_buf_release(&data);
        amk_buf_release(&sig);
        return r == AMK_ENOMEM ? r : -1;
    }
    if (want_reply) {
        if (!ok) {
            uint8_t fail = AMK_MSG_REQUEST_FAILURE;
            r = amk_transport_send(c->t, &fail, 1);
        } else {
            r = amk_transport_send(c->t, amk_buf_ptr(&reply), amk_buf_len(&reply));
        }
    }
    amk_log(&c->srv->log, AMK_LOG_DEBUG, "conn#%llu hostkeys-prove %s",
        (unsigned long long)c->id, ok ? "answered" : "refused (unknown key)");
    amk_buf_release(&reply);
    amk_buf_release(&data);
    amk_buf_release(&sig);
    return r == AMK_OK ? 1 : -1;
}
