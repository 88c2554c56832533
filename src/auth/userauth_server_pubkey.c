/*
 * The "publickey" method, server side (RFC 4252 §7): queries answered
 * with PK_OK when the caller's callback would accept the key, signed
 * requests verified over the session identifier and the request, with the
 * signature algorithm checked against the key and the allowed list
 * (RFC 8332 for RSA; ssh-rsa only when configured; no certificates yet).
 * See userauth_server.h.
 */
#include "auth/userauth_server_int.h"

#include <stdlib.h>
#include <string.h>

#include "keys/key.h"

/* Signature algorithms accepted by default (RFC 8709, RFC 5656, RFC 8332). */
static const char *const default_algs[] = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-256", "rsa-sha2-512",
};

static int
alg_allowed(const struct amk_userauth_server *s, const char *alg)
{
    for (size_t i = 0; i < sizeof(default_algs) / sizeof(default_algs[0]); i++) {
        if (strcmp(alg, default_algs[i]) == 0)
            return 1;
    }
    return s->allow_ssh_rsa && strcmp(alg, "ssh-rsa") == 0;
}

static void
free_opts(struct amk_userauth_server *s, void *opts)
{
    if (opts != NULL && s->opts_free != NULL)
        s->opts_free(s->user, opts);
}

void
amk_uas_pubkey_clear(struct amk_userauth_server *s)
{
    for (size_t i = 0; i < s->n_keys_used; i++)
        amk_buf_free(s->keys_used[i]);
    s->n_keys_used = 0;
    amk_key_free(s->key);
    s->key = NULL;
    s->key_alg[0] = '\0';
    free_opts(s, s->key_opts);
    s->key_opts = NULL;
}

static int
key_used_before(const struct amk_userauth_server *s, const uint8_t *blob, size_t len)
{
    for (size_t i = 0; i < s->n_keys_used; i++) {
        if (amk_buf_len(s->keys_used[i]) == len &&
            memcmp(amk_buf_ptr(s->keys_used[i]), blob, len) == 0)
            return 1;
    }
    return 0;
}

static int
send_pk_ok(struct amk_userauth_server *s, const uint8_t *alg, size_t alglen,
    const uint8_t *blob, size_t bloblen)
{
    struct amk_buf *out = NULL;
    int r = AMK_EINTERNAL;

    /* RFC 4252 §7: byte SSH_MSG_USERAUTH_PK_OK, string public key
     * algorithm name from the request, string public key blob from the
     * request. */
    if ((out = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    if ((r = amk_buf_put_u8(out, AMK_MSG_USERAUTH_PK_OK)) != 0 ||
        (r = amk_buf_put_string(out, alg, alglen)) != 0 ||
        (r = amk_buf_put_string(out, blob, bloblen)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building USERAUTH_PK_OK");
        goto out;
    }
    r = amk_uas_send(s, out);
out:
    amk_buf_free(out);
    return r;
}

/* Verifies the signature over string session_id || request up to it. */
static int
verify(struct amk_userauth_server *s, const struct amk_key *key, const char *alg,
    const uint8_t *req, size_t signed_len, const uint8_t *sig, size_t siglen)
{
    struct amk_buf *data = NULL;
    const uint8_t *sid;
    size_t sidlen;
    int r = AMK_EINTERNAL;

    amk_uas_session_id(s, &sid, &sidlen);
    if (sidlen == 0) {
        r = amk_uas_error(s, AMK_EINTERNAL, AMK_DISCONNECT_BY_APPLICATION,
            "no session identifier to verify a publickey signature");
        goto out;
    }
    if ((data = amk_buf_new()) == NULL) {
        r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        goto out;
    }
    /* RFC 4252 §7: string session identifier, then the request fields
     * from byte SSH_MSG_USERAUTH_REQUEST to the public key blob, as sent. */
    if ((r = amk_buf_put_string(data, sid, sidlen)) != 0 ||
        (r = amk_buf_put(data, req, signed_len)) != 0) {
        r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "building the signed data");
        goto out;
    }
    r = amk_key_verify(key, alg, sig, siglen, amk_buf_ptr(data), amk_buf_len(data));
out:
    amk_buf_free(data);
    return r;
}

int
amk_uas_publickey(struct amk_userauth_server *s, struct amk_buf *b, const uint8_t *req)
{
    const uint8_t *alg, *blob, *sig = NULL;
    size_t alglen, bloblen, siglen = 0, signed_len = 0;
    struct amk_key *key = NULL;
    struct amk_buf *used = NULL;
    char name[AMK_NAME_MAX + 1];
    void *opts = NULL;
    int has_sig = 0, r = AMK_EINTERNAL, d;
    enum amk_uas_outcome refused;

    /* RFC 4252 §7: boolean has signature, string public key algorithm
     * name, string public key blob[, string signature]. */
    if ((r = amk_buf_get_bool(b, &has_sig)) != 0 ||
        (r = amk_buf_get_string_direct(b, &alg, &alglen)) != 0 ||
        (r = amk_buf_get_string_direct(b, &blob, &bloblen)) != 0)
        return amk_uas_malformed(s, r, "publickey request");
    signed_len = b->off;
    if (has_sig && (r = amk_buf_get_string_direct(b, &sig, &siglen)) != 0)
        return amk_uas_malformed(s, r, "publickey signature");
    if ((r = amk_buf_get_end(b)) != 0)
        return amk_uas_malformed(s, r, "publickey request");
    /* A refused query is not a failed attempt (sshd does not count it). */
    refused = has_sig ? AMK_UAS_OUT_FAILURE : AMK_UAS_OUT_FAILURE_FREE;

    if (alglen == 0 || alglen > AMK_NAME_MAX || memchr(alg, '\0', alglen) != NULL) {
        amk_log(&s->log, AMK_LOG_DEBUG, "userauth server: bad publickey algorithm name");
        return amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, refused);
    }
    memcpy(name, alg, alglen);
    name[alglen] = '\0';
    if (!alg_allowed(s, name)) {
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: publickey algorithm %s not allowed",
            name);
        return amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, refused);
    }
    if ((r = amk_key_from_blob(blob, bloblen, &key)) != AMK_OK) {
        if (r == AMK_ENOMEM)
            return amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: unusable %s key (%s)", name,
            amk_errname(r));
        return amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, refused);
    }
    if (!amk_key_sig_alg_ok(key, name)) {
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: algorithm %s does not fit a %s key",
            name, amk_key_type_name(key));
        r = amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, refused);
        goto out;
    }
    if (!has_sig) {
        d = s->publickey_cb(s->user, s->username, key, 1, &opts);
        free_opts(s, opts);
        opts = NULL;
        if (d == AMK_AUTH_ACCEPT || d == AMK_AUTH_PARTIAL) {
            amk_log(&s->log, AMK_LOG_DEBUG, "userauth server: %s key acceptable", name);
            r = send_pk_ok(s, alg, alglen, blob, bloblen);
        } else {
            amk_log(&s->log, AMK_LOG_DEBUG, "userauth server: %s key not acceptable", name);
            r = amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, AMK_UAS_OUT_FAILURE_FREE);
        }
        goto out;
    }
    if (key_used_before(s, blob, bloblen)) {
        /* As sshd: a key counts once in a chain of methods. */
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: %s key already used", name);
        r = amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, AMK_UAS_OUT_FAILURE);
        goto out;
    }
    r = verify(s, key, name, req, signed_len, sig, siglen);
    if (r != AMK_OK) {
        if (s->state == AMK_UAS_FAILED)
            goto out;
        if (r == AMK_ENOMEM || r == AMK_ECRYPTO) {
            r = amk_uas_error(s, r, AMK_DISCONNECT_BY_APPLICATION, "verifying: %s",
                amk_strerror(r));
            goto out;
        }
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: %s signature does not verify (%s)",
            name, amk_errname(r));
        r = amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, AMK_UAS_OUT_FAILURE);
        goto out;
    }
    d = s->publickey_cb(s->user, s->username, key, 0, &opts);
    if (d != AMK_AUTH_ACCEPT && d != AMK_AUTH_PARTIAL) {
        free_opts(s, opts);
        opts = NULL;
        amk_log(&s->log, AMK_LOG_INFO, "userauth server: %s key refused", name);
        r = amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, amk_uas_decision(s, d, "publickey"));
        goto out;
    }
    if (s->n_keys_used < AMK_USERAUTH_SERVER_MAX_KEYS_USED) {
        if ((used = amk_buf_new()) == NULL || amk_buf_put(used, blob, bloblen) != 0) {
            free_opts(s, opts);
            opts = NULL;
            r = amk_uas_error(s, AMK_ENOMEM, AMK_DISCONNECT_BY_APPLICATION, "out of memory");
            goto out;
        }
        s->keys_used[s->n_keys_used++] = used;
        used = NULL;
    }
    amk_key_free(s->key);
    s->key = key;
    key = NULL;
    memcpy(s->key_alg, name, sizeof(s->key_alg));
    free_opts(s, s->key_opts);
    s->key_opts = opts;
    opts = NULL;
    amk_log(&s->log, AMK_LOG_INFO, "userauth server: %s key accepted", name);
    r = amk_uas_finish(s, AMK_UAS_M_PUBLICKEY, amk_uas_decision(s, d, "publickey"));
out:
    amk_buf_free(used);
    amk_key_free(key);
    return r;
}
