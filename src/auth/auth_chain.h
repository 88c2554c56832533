/*
 * An authentication chain over the client engine (userauth.h), in the
 * order of Paramiko's SSHClient.connect: an explicit key, then keys the
 * caller loaded, then key files, then the default keys of a directory
 * (id_ed25519, id_ecdsa, id_rsa, id_dsa), then a password, then
 * keyboard-interactive. Each candidate is tried once, only when the server
 * lists its method among those that can continue, so chains of methods
 * (RFC 4252 §5.1 partial success, sshd's AuthenticationMethods) work: after
 * a partial success the chain goes on with the next candidate the server
 * still wants. Every attempt and its outcome is logged (INFO; skipped
 * candidates at DEBUG), never a secret.
 *
 * Sans-I/O like the engine: the caller feeds payloads with
 * amk_auth_chain_handle() instead of amk_userauth_client_handle(). Key
 * files are read with amk_key_load_file() when their turn comes; files that
 * do not exist are skipped, files that fail to load are logged and skipped.
 */
#ifndef AMK_AUTH_AUTH_CHAIN_H
#define AMK_AUTH_AUTH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/key.h>

#include "auth/userauth.h"
#include "util/log.h"

struct amk_auth_chain;

/* Most candidates a chain holds (keys + files + defaults + 2). */
#define AMK_AUTH_CHAIN_MAX 64

/*
 * What to try. Zero-initialise, then set what you need. Keys and strings
 * MUST stay valid until the chain is freed (nothing is copied except the
 * password, which is copied and wiped).
 */
struct amk_auth_chain_config {
    const struct amk_key *key;              /* explicit key (with private half), or NULL */
    const struct amk_key *const *keys;      /* loaded keys, tried in order */
    size_t n_keys;
    const char *const *key_files;           /* private key files, tried in order */
    size_t n_key_files;
    /* A directory whose id_ed25519, id_ecdsa, id_rsa and id_dsa are tried
     * when they exist (Paramiko's look_for_keys; the caller expands "~").
     * NULL: none. */
    const char *default_key_dir;
    amk_passphrase_fn passphrase_cb;        /* for encrypted key files; may be NULL */
    void *passphrase_user;
    const char *password;                   /* NULL: no password attempt */
    amk_userauth_passwd_change_fn passwd_change_cb;
    void *passwd_change_user;
    /*
     * keyboard-interactive: with a callback, it answers the prompts. Without
     * one but with a password, a round of exactly one prompt with echo off
     * is answered with the password (what PAM's pam_unix asks); any other
     * round cancels the attempt. Without either, keyboard-interactive is
     * not tried.
     */
    amk_userauth_kbdint_fn kbdint_cb;
    void *kbdint_user;
    struct amk_logger log;                  /* zeroed: no logging */
};

/*
 * Creates a chain over @p ua (not owned; MUST outlive the chain and MUST
 * NOT be driven directly while the chain runs). AMK_OK; AMK_EINVAL (NULL
 * arguments, explicit key without private half, password too long);
 * AMK_ELIMIT (more than AMK_AUTH_CHAIN_MAX candidates); AMK_ENOMEM.
 */
int amk_auth_chain_new(struct amk_auth_chain **out, struct amk_userauth_client *ua,
    const struct amk_auth_chain_config *cfg) __attribute__((warn_unused_result));

/* Frees the chain, wiping the password and freeing keys it loaded. NULL is fine. */
void amk_auth_chain_free(struct amk_auth_chain *c);

/*
 * Starts the engine (service request, then "none"). When the engine was
 * started already and is idle, starts the next candidate instead.
 * Returns as amk_auth_chain_handle().
 */
int amk_auth_chain_start(struct amk_auth_chain *c) __attribute__((warn_unused_result));

/*
 * Feeds one payload to the engine; when the attempt in flight is over and
 * authentication is not complete, starts the next candidate. Returns
 * AMK_OK (authenticated, or an attempt in flight: keep feeding);
 * AMK_EAUTH when every candidate was tried or skipped (the last error
 * lists what the server allows); the engine's errors
 * (amk_userauth_client_handle()).
 */
int amk_auth_chain_handle(struct amk_auth_chain *c, const uint8_t *payload, size_t len)
    __attribute__((warn_unused_result));

/* 1 once authenticated. */
int amk_auth_chain_authenticated(const struct amk_auth_chain *c);
/* Candidates started so far (attempts sent to the server). */
size_t amk_auth_chain_attempts(const struct amk_auth_chain *c);
/* Detail of the chain's failure ("" when none). */
const char *amk_auth_chain_last_error(const struct amk_auth_chain *c);

#endif
