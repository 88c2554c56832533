/*
 * amiko as a client of the fixture's sshd: sessions configured for one
 * test, a host-key check against the fixture's real host keys, a bounded
 * driver for non-blocking calls, and the few upper-layer messages the
 * interop tests exchange (service request, publickey authentication,
 * global requests). Everything waits at most INTEROP_WAIT_MS.
 */
#ifndef AMK_TESTS_INTEROP_CLIENT_H
#define AMK_TESTS_INTEROP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <amiko.h>

#include "sshd_fixture.h"

#define INTEROP_WAIT_MS 15000
#define INTEROP_MAX_HOST_KEYS 8

struct amk_key;

/* What the host-key callback compares against, and what it saw. */
struct interop_hostkeys {
    size_t n;
    uint8_t *blob[INTEROP_MAX_HOST_KEYS];
    size_t len[INTEROP_MAX_HOST_KEYS];
    int calls;              /* callback invocations: one per key exchange */
    int verdict;            /* what the callback returns for a known key (AMK_OK) */
    char last_alg[128];
};

/* Loads the fixture's host public keys (its *.pub files). 0 or -1. */
int interop_hostkeys_load(struct interop_hostkeys *hk, const struct sshd_fixture *f);
void interop_hostkeys_free(struct interop_hostkeys *hk);

/*
 * The host-key callback: AMK_EHOSTKEY_UNKNOWN for a key that is not one
 * of the fixture's, or one whose type does not fit the algorithm;
 * hk->verdict otherwise. @p user is a struct interop_hostkeys.
 */
int interop_hostkey_cb(void *user, struct amk_session *s, const char *alg,
    const struct amk_key *key);

/* Algorithm specs for a session; NULL fields keep amiko's defaults. */
struct interop_algs {
    const char *kex;
    const char *hostkey;
    const char *cipher;
    const char *mac;
    const char *compression;
};

/* A client session with the callback, the specs and @p blocking; connected
 * to the fixture (a non-blocking connect may still be in progress). */
int interop_session(struct amk_session **out, const struct sshd_fixture *f,
    struct interop_hostkeys *hk, const struct interop_algs *algs, int blocking);

/* One step of a session operation; AMK_EAGAIN to be called again. */
typedef int (*interop_op_fn)(struct amk_session *s, void *arg);

/*
 * Runs @p op until it returns something other than AMK_EAGAIN, polling the
 * session's descriptor for the directions it asks (at most
 * amk_session_next_timeout()) in between; AMK_ETIMEOUT after
 * INTEROP_WAIT_MS. In blocking mode @p op runs once.
 */
int interop_drive(struct amk_session *s, interop_op_fn op, void *arg);

/*
 * For sessions over I/O callbacks (no descriptor of their own): the
 * descriptor under the callbacks that interop_drive() polls; -1 for none.
 */
void interop_set_callback_fd(int fd);

int interop_handshake(struct amk_session *s);
/* A packet in: *payload valid until the next call on @p s. */
int interop_recv(struct amk_session *s, const uint8_t **payload, size_t *len);
int interop_send(struct amk_session *s, const uint8_t *payload, size_t len);
/* amk_session_disconnect() with @p description, driven to the end. */
int interop_disconnect(struct amk_session *s, const char *description);
/* SSH_MSG_SERVICE_REQUEST @p service; waits for its SERVICE_ACCEPT. */
int interop_service_request(struct amk_session *s, const char *service);
/* RFC 4252 §7 publickey authentication of @p user with @p key (signs with
 * @p sig_alg); AMK_OK on USERAUTH_SUCCESS (then the transport is told). */
int interop_auth_publickey(struct amk_session *s, const char *user, const struct amk_key *key,
    const char *sig_alg);
/* SSH_MSG_GLOBAL_REQUEST keepalive@openssh.com with want-reply, and
 * waits for the answer (sshd sends REQUEST_FAILURE). */
int interop_keepalive(struct amk_session *s);

#endif
