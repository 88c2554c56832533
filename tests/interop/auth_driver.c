/* See auth_driver.h. */
#include "auth_driver.h"

#include <stdio.h>
#include <string.h>

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
auth_open(struct auth_run *ar, const struct sshd_fixture *f, struct interop_hostkeys *hk,
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
    if ((r = amk_userauth_client_new(&ar->ua, &cfg)) != AMK_OK ||
        (r = amk_userauth_client_start(ar->ua)) != AMK_OK)
        return r;
    return auth_pump(ar);
}

void
auth_close(struct auth_run *ar)
{
    amk_userauth_client_free(ar->ua);
    amk_session_free(ar->s);
    memset(ar, 0, sizeof(*ar));
}
