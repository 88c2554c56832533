/*
 * The "publickey" method, client side (RFC 4252 §7): the signed request at
 * once, or (pubkey_query_first) a query without signature first and the
 * signed request on SSH_MSG_USERAUTH_PK_OK. The RSA
 * signature algorithm comes from server-sig-algs (RFC 8332 §3.2,
 * RFC 8308 §3.1). See userauth.h.
 */
#include "auth/userauth_int.h"

#include <stdio.h>
#include <string.h>

#include "keys/key.h"

/* RSA signature algorithms in order of preference (RFC 8332 §3). */
static const char *const rsa_sig_algs[] = { "rsa-sha2-512", "rsa-sha2-256" };

int
amk_userauth_pick_sig_alg(const struct amk_key *key, const char *server_sig_algs,
    char out[AMK_NAME_MAX + 1])
{
    const char *name = amk_key_type_name(key);

    out[0] = '\0';
    if (amk_key_type(key) != AMK_PKEY_RSA) {
        /* Every other key type has one algorithm, named as the key. */
        snprintf(out, AMK_NAME_MAX + 1, "%s", name);
        return AMK_OK;
    }
    /* RFC 8332 §3.2: without server-sig-algs the client cannot know
     * whether the server takes rsa-sha2-*; OpenSSH before 7.2 does not,
     * so the old ssh-rsa (SHA-1) is the one that works there. */
    if (server_sig_algs == NULL) {
        snprintf(out, AMK_NAME_MAX + 1, "%s", "ssh-rsa");
        return AMK_OK;
    }
    for (size_t i = 0; i < sizeof(rsa_sig_algs) / sizeof(rsa_sig_algs[0]); i++) {
        if (amk_namelist_contains(server_sig_algs, rsa_sig_algs[i])) {
            snprintf(out, AMK_NAME_MAX + 1, "%s", rsa_sig_algs[i]);
            return AMK_OK;
        }
    }
    if (amk_namelist_contains(server_sig_algs, "ssh-rsa")) {
        snprintf(out, AMK_NAME_MAX + 1, "%s", "ssh-rsa");
        return AMK_OK;
    }
    return AMK_ENOTSUP;
}

/* Appends the request up to the signature (RFC 4252 §7). */
static int
put_pubkey_request(const struct amk_userauth_client *a, struct amk_buf *b, int with_sig)
{
    int r;

    /* boolean FALSE/TRUE, string public key algorithm name,
     * string public key blob */
    if ((r = amk_ua_put_request_head(a, b, "publickey")) != 0 ||
        (r = amk_buf_put_bool(b, with_sig)) != 0 ||
        (r = amk_buf_put_cstring(b, a->pk_alg)) != 0 ||
        (r = amk_buf_put_stringb(b, a->pk_blob)) != 0)
        return r;
    return AMK_OK;
}

/* Signs session_id || request and sends the signed request (RFC 4252 §7). */
static int
send_signed(struct amk_userauth_client *a)
{
    struct amk_buf *data = NULL, *sig = NULL;
    const uint8_t *sid;
    size_t sidlen;
    int r = AMK_EINTERNAL;

    amk_ua_session_id(a, &sid, &sidlen);
    if ((data = amk_buf_new()) == NULL || (sig = amk_buf_new()) == NULL) {
        r = amk_ua_error(a, AMK_ENOMEM, "out of memory");
        goto out;
    }
    /* RFC 4252 §7: the signature covers string session identifier
     * followed by the request up to the signature, with boolean TRUE. */
    if ((r = amk_buf_put_string(data, sid, sidlen)) != 0 ||
        (r = put_pubkey_request(a, data, 1)) != 0) {
        r = amk_ua_error(a, r, "building the signed request: %s", amk_strerror(r));
        goto out;
    }
    if ((r = amk_key_sign(a->key, a->pk_alg, amk_buf_ptr(data), amk_buf_len(data), sig)) != 0) {
        r = amk_ua_error(a, r, "signing with the %s key failed: %s",
            amk_key_type_name(a->key), amk_strerror(r));
        goto out;
    }
    /* The request is the signed data without the session identifier,
     * then string signature. */
    if ((r = amk_buf_consume(data, 4 + sidlen)) != 0 ||
        (r = amk_buf_put_stringb(data, sig)) != 0) {
        r = amk_ua_error(a, r, "building the signed request: %s", amk_strerror(r));
        goto out;
    }
    a->method = AMK_UA_M_PUBKEY_SIGNED;
    if ((r = amk_ua_send(a, data)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_free(data);
    amk_buf_free(sig);
    return r;
}

int
amk_userauth_client_publickey(struct amk_userauth_client *a, const struct amk_key *key)
{
    struct amk_buf *b = NULL;
    const uint8_t *sid;
    size_t sidlen;
    int r = AMK_EINTERNAL;

    if (a == NULL || key == NULL)
        return AMK_EINVAL;
    if ((r = amk_ua_check_start(a, "publickey")) != AMK_OK)
        return r;
    if (!amk_key_has_private(key)) {
        a->detail.code = AMK_EKEY;
        snprintf(a->detail.msg, sizeof(a->detail.msg), "%s key has no private half",
            amk_key_type_name(key));
        return AMK_EKEY;
    }
    amk_ua_session_id(a, &sid, &sidlen);
    if (sidlen == 0)
        return AMK_ESTATE;
    amk_ua_attempt_clear(a);
    if ((r = amk_userauth_pick_sig_alg(key, amk_ua_server_sig_algs(a), a->pk_alg)) != AMK_OK) {
        a->detail.code = r;
        snprintf(a->detail.msg, sizeof(a->detail.msg),
            "server-sig-algs lists no signature algorithm for %s keys: %s",
            amk_key_type_name(key), amk_ua_server_sig_algs(a));
        goto out;
    }
    if ((a->pk_blob = amk_buf_new()) == NULL || (b = amk_buf_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_key_to_blob(key, a->pk_blob)) != 0)
        goto out;
    a->key = key;
    a->result = AMK_USERAUTH_RESULT_NONE;
    if (a->pubkey_query_first) {
        if ((r = put_pubkey_request(a, b, 0)) != 0)
            goto out;
        a->method = AMK_UA_M_PUBKEY_QUERY;
        r = amk_ua_send(a, b);
    } else {
        /* A key in memory signs in microseconds; asking first would cost
         * a round trip to the server on every connection. */
        r = send_signed(a);
    }
    if (r != AMK_OK)
        goto out;
    a->state = AMK_UA_PENDING;
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: %s %s key (%s)",
        a->pubkey_query_first ? "offering" : "signed with", amk_key_type_name(key), a->pk_alg);
    r = AMK_OK;
out:
    if (r != AMK_OK && a->state != AMK_UA_FAILED)
        amk_ua_attempt_clear(a);
    amk_buf_free(b);
    return r;
}

int
amk_ua_pubkey_pk_ok(struct amk_userauth_client *a, struct amk_buf *b)
{
    const uint8_t *alg, *blob;
    size_t alglen, bloblen;
    int r;

    /* RFC 4252 §7: byte SSH_MSG_USERAUTH_PK_OK, string public key
     * algorithm name from the request, string public key blob from the
     * request. */
    if ((r = amk_buf_get_string_direct(b, &alg, &alglen)) != 0 ||
        (r = amk_buf_get_string_direct(b, &blob, &bloblen)) != 0 ||
        (r = amk_buf_get_end(b)) != 0)
        return amk_ua_error(a, AMK_EFORMAT, "malformed USERAUTH_PK_OK (%s)", amk_errname(r));
    if (alglen != strlen(a->pk_alg) || memcmp(alg, a->pk_alg, alglen) != 0 ||
        bloblen != amk_buf_len(a->pk_blob) ||
        memcmp(blob, amk_buf_ptr(a->pk_blob), bloblen) != 0)
        return amk_ua_error(a, AMK_EPROTO, "USERAUTH_PK_OK names another key or algorithm");
    if ((r = send_signed(a)) != AMK_OK)
        return r;
    amk_log(&a->log, AMK_LOG_DEBUG, "userauth: key accepted; sent %s signature", a->pk_alg);
    return AMK_OK;
}
