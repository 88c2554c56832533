/* See auth_driver.h. */
#include "auth_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_chain.h"
#include "io/session.h"
#include "transport/transport.h"

static void
banner_cb(void *user, const char *msg, const char *lang)
{
    struct auth_run *ar = user;

    ar->banners++;
    snprintf(ar->banner, sizeof(ar->banner), "%s", msg);
}

static int
op_flush(struct amk_session *s, void *arg)
{
    return amk_session_flush(s);
}

int
auth_pump(struct auth_run *ar)
{
    const uint8_t *p;
    size_t len;
    int r;

    if ((r = interop_drive(ar->s, op_flush, NULL)) != AMK_OK)
        return r;
    while (amk_userauth_client_busy(ar->ua)) {
        if ((r = interop_recv(ar->s, &p, &len)) != AMK_OK) {
            fprintf(stderr, "auth_pump: recv: %s: %s\n", amk_errname(r),
                amk_session_last_error(ar->s));
            return r;
        }
        if ((r = amk_userauth_client_handle(ar->ua, p, len)) != AMK_OK) {
            fprintf(stderr, "auth_pump: handle: %s: %s\n", amk_errname(r),
                amk_userauth_client_last_error(ar->ua));
            return r;
        }
        if ((r = interop_drive(ar->s, op_flush, NULL)) != AMK_OK)
            return r;
    }
    if (amk_userauth_client_authenticated(ar->ua))
        return amk_transport_set_authenticated(amk_session_transport(ar->s));
    return AMK_OK;
}

int
auth_chain_run(struct auth_run *ar, struct amk_auth_chain *c)
{
    const uint8_t *p;
    size_t len;
    int r;

    if ((r = amk_auth_chain_start(c)) != AMK_OK)
        return r;
    for (;;) {
        if ((r = interop_drive(ar->s, op_flush, NULL)) != AMK_OK)
            return r;
        if (!amk_userauth_client_busy(ar->ua))
            break;
        if ((r = interop_recv(ar->s, &p, &len)) != AMK_OK) {
            fprintf(stderr, "auth_chain_run: recv: %s: %s\n", amk_errname(r),
                amk_session_last_error(ar->s));
            return r;
        }
        if ((r = amk_auth_chain_handle(c, p, len)) != AMK_OK)
            return r;
    }
    if (!amk_auth_chain_authenticated(c))
        return AMK_EINTERNAL;   /* the chain stopped without saying why */
    return amk_transport_set_authenticated(amk_session_transport(ar->s));
}

int
auth_open(struct auth_run *ar, const struct sshd_fixture *f, struct interop_hostkeys *hk,
    const char *user, int blocking)
{
    int r;

    if ((r = auth_connect(ar, f, hk, user, blocking)) != AMK_OK ||
        (r = amk_userauth_client_start(ar->ua)) != AMK_OK)
        return r;
    return auth_pump(ar);
}

int
auth_connect(struct auth_run *ar, const struct sshd_fixture *f, struct interop_hostkeys *hk,
    const char *user, int blocking)
{
    struct amk_userauth_config cfg = { 0 };
    struct amk_transport *t;
    int r;

    memset(ar, 0, sizeof(*ar));
    if ((r = interop_session(&ar->s, f, hk, NULL, blocking)) != AMK_OK ||
        (r = interop_handshake(ar->s)) != AMK_OK) {
        fprintf(stderr, "auth_open: session: %s: %s\n", amk_errname(r),
            ar->s != NULL ? amk_session_last_error(ar->s) : "");
        return r;
    }
    t = amk_session_transport(ar->s);
    cfg.username = user;
    cfg.sink = amk_transport_pkt_sink(t);
    cfg.transport = t;
    cfg.banner_cb = banner_cb;
    cfg.banner_user = ar;
    return amk_userauth_client_new(&ar->ua, &cfg);
}

void
auth_close(struct auth_run *ar)
{
    amk_userauth_client_free(ar->ua);
    amk_session_free(ar->s);
    memset(ar, 0, sizeof(*ar));
}

static char tmp_user[32];
static int tmp_user_created;

void
throwaway_user_remove(void)
{
    char *argv[] = { (char *)"/usr/sbin/userdel", tmp_user, NULL };

    if (!tmp_user_created)
        return;
    tmp_user_created = 0;
    if (fixture_run(argv, NULL, FIXTURE_WAIT_MS) != 0)
        fprintf(stderr, "warning: userdel %s failed\n", tmp_user);
}

int
throwaway_user_create(char *name, size_t cap, const char *password)
{
    char *add[] = { (char *)"/usr/sbin/useradd", (char *)"-M", (char *)"-s",
        (char *)"/bin/sh", tmp_user, NULL };
    FILE *p;

    snprintf(tmp_user, sizeof(tmp_user), "amkauth%ld", (long)getpid() % 1000000);
    if (fixture_run(add, NULL, FIXTURE_WAIT_MS) != 0) {
        fprintf(stderr, "useradd %s failed\n", tmp_user);
        return -1;
    }
    tmp_user_created = 1;
    atexit(throwaway_user_remove);
    snprintf(name, cap, "%s", tmp_user);
    if ((p = popen("/usr/sbin/chpasswd", "w")) == NULL)
        return -1;
    fprintf(p, "%s:%s\n", tmp_user, password);
    if (pclose(p) != 0) {
        fprintf(stderr, "chpasswd failed\n");
        return -1;
    }
    return 0;
}

int
auth_wait_log(const struct sshd_fixture *f, const char *needle)
{
    for (int i = 0; i < 100; i++) {
        if (sshd_fixture_log_count(f, needle, NULL))
            return 1;
        usleep(50 * 1000);
    }
    sshd_fixture_dump_log(f, 3000);
    return 0;
}
