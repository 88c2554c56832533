/*
 * Drives amiko's user authentication engine (src/auth) over a session to
 * the fixture's sshd: the engine's sink queues packets on the session's
 * transport, the driver flushes them and feeds every packet sshd sends
 * back into the engine until it is no longer busy. Works in blocking and
 * non-blocking mode (interop_drive). Every wait is bounded.
 */
#ifndef AMK_TESTS_AUTH_DRIVER_H
#define AMK_TESTS_AUTH_DRIVER_H

#include <stddef.h>

#include "auth/userauth.h"
#include "interop_client.h"
#include "sshd_fixture.h"

struct auth_run {
    struct amk_session *s;
    struct amk_userauth_client *ua;
    int banners;                /* banner callbacks seen */
    char banner[2048];          /* the last banner */
};

/*
 * Connects to @p f as @p user, completes the handshake, starts the engine
 * and runs the "none" request. AMK_OK, or the failing code (detail on
 * stderr).
 */
int auth_open(struct auth_run *ar, const struct sshd_fixture *f, struct interop_hostkeys *hk,
    const char *user, int blocking);

/* As auth_open() but leaves the engine unstarted. */
int auth_connect(struct auth_run *ar, const struct sshd_fixture *f, struct interop_hostkeys *hk,
    const char *user, int blocking);

/*
 * Flushes what the engine queued and feeds sshd's answers to it until it
 * is not busy; tells the transport once authenticated. AMK_OK or the
 * first error (engine or session).
 */
int auth_pump(struct auth_run *ar);

/*
 * As auth_pump() for a chain over ar->ua (auth_chain.h): starts it, then
 * feeds it until the engine is not busy. AMK_OK once authenticated, or
 * the chain's code (AMK_EAUTH when it ran out of candidates).
 */
struct amk_auth_chain;
int auth_chain_run(struct auth_run *ar, struct amk_auth_chain *c);

void auth_close(struct auth_run *ar);

/*
 * A throwaway local account for password tests (root only): useradd -M,
 * chpasswd with @p password; removed by throwaway_user_remove(), which is
 * also registered with atexit(). The name goes to @p name. 0 or -1.
 */
int throwaway_user_create(char *name, size_t cap, const char *password);
void throwaway_user_remove(void);

/* sshd may log a little after it answered: waits up to 5 s for @p needle;
 * dumps the log's tail when it never comes. 1 or 0. */
int auth_wait_log(const struct sshd_fixture *f, const char *needle);

#endif
