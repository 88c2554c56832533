/*
 * The server user authentication engine (src/auth/userauth_server*.c)
 * against amiko's client engine (src/auth/userauth_client.c) in memory:
 * both directions of payloads are pumped by the test. Methods none,
 * password, publickey (every key type), keyboard-interactive, chains of
 * required methods, the attempt limit, held failure replies; then the
 * server alone fed with exact hostile messages: bad signatures, a changed
 * user name, malformed and misplaced messages.
 */
#include "test_helper.h"

#include "auth/userauth.h"
#include "auth/userauth_server.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "util/buf.h"

#define MAX_Q 64

struct queue {
    struct amk_buf m[MAX_Q];
    size_t head, n;
};

static int
q_send(void *user, const uint8_t *p, size_t len)
{
    struct queue *q = user;

    assert_true(q->n < MAX_Q);
    amk_buf_init(&q->m[q->n]);
    assert_int_equal(amk_buf_put(&q->m[q->n], p, len), 0);
    q->n++;
    return AMK_OK;
}

static void
q_free(struct queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        amk_buf_release(&q->m[i]);
    q->n = q->head = 0;
}

/* The last message the server sent, or NULL. */
static const struct amk_buf *
q_last(const struct queue *q)
{
    return q->n > 0 ? &q->m[q->n - 1] : NULL;
}

static const uint8_t session_id[32] = {
    9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};

/* What the server's callbacks decide and what they saw. */
struct policy {
    const char *password;           /* the right password */
    int password_partial;
    const struct amk_key *keys[8];  /* accepted keys */
    size_t n_keys;
    int queries, signed_calls, password_calls;
    int opts_made, opts_freed;
    /* keyboard-interactive: two rounds, "code" then "pin" */
    int kbd_rounds;                 /* 1 or 2 */
    int kbd_started, kbd_ended;
    int kbd_bad_count;              /* ask with more prompts than allowed */
    int kbd_forever;                /* always continue */
    char seen_user[64];
};

static int g_opts_token;

static int
cb_password(void *user, const char *username, const char *password)
{
    struct policy *p = user;

    p->password_calls++;
    snprintf(p->seen_user, sizeof(p->seen_user), "%s", username);
    if (!amk_auth_password_equal(password, p->password))
        return AMK_AUTH_REJECT;
    return p->password_partial ? AMK_AUTH_PARTIAL : AMK_AUTH_ACCEPT;
}

static int
cb_publickey(void *user, const char *username, const struct amk_key *key, int is_query,
    void **opts)
{
    struct policy *p = user;

    if (is_query)
        p->queries++;
    else
        p->signed_calls++;
    for (size_t i = 0; i < p->n_keys; i++) {
        if (amk_key_equal_public(p->keys[i], key)) {
            *opts = &g_opts_token;
            p->opts_made++;
            return AMK_AUTH_ACCEPT;
        }
    }
    return AMK_AUTH_REJECT;
}

static void
cb_opts_free(void *user, void *opts)
{
    struct policy *p = user;

    assert_ptr_equal(opts, &g_opts_token);
    p->opts_freed++;
}

static int
cb_kbd_start(void *user, const char *username, const char *submethods,
    struct amk_auth_kbdint_round *round, void **ctx)
{
    struct policy *p = user;

    p->kbd_started++;
    *ctx = p;
    round->name = "login";
    round->instruction = "answer both";
    round->n_prompts = p->kbd_bad_count ? AMK_USERAUTH_SERVER_MAX_PROMPTS + 1 : 2;
    round->prompts[0].text = "Code: ";
    round->prompts[0].echo = 1;
    round->prompts[1].text = "Password: ";
    round->prompts[1].echo = 0;
    return AMK_AUTH_CONTINUE;
}

static int
cb_kbd_respond(void *user, void *ctx, const char *username, const char *const *responses,
    size_t n, struct amk_auth_kbdint_round *next)
{
    struct policy *p = user;

    assert_ptr_equal(ctx, p);
    if (p->kbd_forever || (n == 2 && p->kbd_rounds == 2)) {
        if (!p->kbd_forever && (strcmp(responses[0], "42") != 0 ||
            !amk_auth_password_equal(responses[1], p->password)))
            return AMK_AUTH_REJECT;
        if (!p->kbd_forever)
            p->kbd_rounds = 1;      /* the next answer ends it */
        next->n_prompts = 1;
        next->prompts[0].text = "PIN: ";
        return AMK_AUTH_CONTINUE;
    }
    if (n == 1)
        return strcmp(responses[0], "1234") == 0 ? AMK_AUTH_ACCEPT : AMK_AUTH_REJECT;
    if (n == 2 && strcmp(responses[0], "42") == 0 &&
        amk_auth_password_equal(responses[1], p->password))
        return AMK_AUTH_ACCEPT;
    return AMK_AUTH_REJECT;
}

static void
cb_kbd_end(void *user, void *ctx)
{
    struct policy *p = user;

    p->kbd_ended++;
}

/* The client's answers: "42", the password, then "1234". */
struct answers {
    const char *password;
    int rounds_seen;
};

static int
client_kbd(void *user, const char *name, const char *instruction,
    const struct amk_kbdint_prompt *prompts, size_t n, char *const *responses, size_t cap)
{
    struct answers *a = user;

    a->rounds_seen++;
    for (size_t i = 0; i < n; i++) {
        const char *ans = strcmp(prompts[i].text, "Code: ") == 0 ? "42" :
            strcmp(prompts[i].text, "Password: ") == 0 ? a->password :
            strcmp(prompts[i].text, "PIN: ") == 0 ? "1234" : "?";
        snprintf(responses[i], cap, "%s", ans);
    }
    return AMK_OK;
}

struct banner_seen {
    int calls;
    char msg[128];
};

static void
client_banner(void *user, const char *msg, const char *lang)
{
    struct banner_seen *b = user;

    b->calls++;
    snprintf(b->msg, sizeof(b->msg), "%s", msg);
}

struct pair {
    struct queue c2s, s2c;
    struct policy pol;
    struct banner_seen banner;
    struct amk_userauth_client *c;
    struct amk_userauth_server *s;
    int srv_r, cli_r;               /* first non-OK return of each side */
};

static struct amk_key *g_keys[5];   /* ed25519, p256, p384, p521, rsa */
static struct amk_key *g_other;     /* never authorized */

static int
group_setup(void **state)
{
    static const enum amk_pkey_type types[5] = {
        AMK_PKEY_ED25519, AMK_PKEY_ECDSA_P256, AMK_PKEY_ECDSA_P384, AMK_PKEY_ECDSA_P521,
        AMK_PKEY_RSA
    };

    for (size_t i = 0; i < 5; i++) {
        if (amk_key_generate(types[i], types[i] == AMK_PKEY_RSA ? 2048 : 0, &g_keys[i]) != 0)
            return -1;
    }
    return amk_key_generate(AMK_PKEY_ED25519, 0, &g_other) != 0 ? -1 : 0;
}

static int
group_teardown(void **state)
{
    for (size_t i = 0; i < 5; i++)
        amk_key_free(g_keys[i]);
    amk_key_free(g_other);
    return 0;
}

static void
server_config(struct pair *p, struct amk_userauth_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->sink.send = q_send;
    cfg->sink.user = p != NULL ? &p->s2c : NULL;
    cfg->password_cb = cb_password;
    cfg->publickey_cb = cb_publickey;
    cfg->opts_free = cb_opts_free;
    cfg->kbdint_start = cb_kbd_start;
    cfg->kbdint_respond = cb_kbd_respond;
    cfg->kbdint_end = cb_kbd_end;
    cfg->user = p != NULL ? &p->pol : NULL;
}

/* Most tests drive the server's PK_OK path: their client asks first. */
static int g_client_query_first = 1;

static struct pair *
pair_new_cfg(const struct amk_userauth_server_config *scfg_in, const char *user,
    const char *sig_algs)
{
    struct pair *p = calloc(1, sizeof(*p));
    struct amk_userauth_server_config scfg;
    struct amk_userauth_config ccfg = { 0 };

    assert_non_null(p);
    p->pol.password = "hunter2";
    p->pol.kbd_rounds = 2;
    if (scfg_in != NULL)
        scfg = *scfg_in;
    else
        server_config(p, &scfg);
    scfg.sink.user = &p->s2c;
    scfg.user = &p->pol;
    ASSERT_OK(amk_userauth_server_new(&p->s, &scfg));
    ASSERT_OK(amk_userauth_server_set_session_id(p->s, session_id, sizeof(session_id)));
    ccfg.username = user != NULL ? user : "alice";
    ccfg.pubkey_query_first = g_client_query_first;
    ccfg.sink.send = q_send;
    ccfg.sink.user = &p->c2s;
    ccfg.banner_cb = client_banner;
    ccfg.banner_user = &p->banner;
    ASSERT_OK(amk_userauth_client_new(&p->c, &ccfg));
    ASSERT_OK(amk_userauth_client_set_session_id(p->c, session_id, sizeof(session_id)));
    ASSERT_OK(amk_userauth_client_set_server_sig_algs(p->c, sig_algs != NULL ? sig_algs :
        "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
        "rsa-sha2-512,rsa-sha2-256"));
    return p;
}

static void
pair_free(struct pair *p)
{
    amk_userauth_client_free(p->c);
    amk_userauth_server_free(p->s);
    q_free(&p->c2s);
    q_free(&p->s2c);
    free(p);
}

/* Delivers queued messages both ways until both queues are drained. */
static void
pump(struct pair *p)
{
    int r;

    while (p->c2s.head < p->c2s.n || p->s2c.head < p->s2c.n) {
        while (p->c2s.head < p->c2s.n) {
            struct amk_buf *m = &p->c2s.m[p->c2s.head++];
            r = amk_userauth_server_handle(p->s, amk_buf_ptr(m), amk_buf_len(m));
            if (r != AMK_OK && p->srv_r == AMK_OK)
                p->srv_r = r;
        }
        while (p->s2c.head < p->s2c.n) {
            struct amk_buf *m = &p->s2c.m[p->s2c.head++];
            r = amk_userauth_client_handle(p->c, amk_buf_ptr(m), amk_buf_len(m));
            if (r != AMK_OK && p->cli_r == AMK_OK)
                p->cli_r = r;
        }
    }
}

/* Service request and "none", as every client starts. */
static struct pair *
pair_started(const struct amk_userauth_server_config *cfg, const char *sig_algs)
{
    struct pair *p = pair_new_cfg(cfg, NULL, sig_algs);

    ASSERT_OK(amk_userauth_client_start(p->c));
    pump(p);
    ASSERT_OK(p->srv_r);
    ASSERT_OK(p->cli_r);
    assert_false(amk_userauth_client_busy(p->c));
    return p;
}

static void
test_userauth_server_none_lists_methods(void **state)
{
    struct pair *p = pair_started(NULL, NULL);

    assert_string_equal(amk_userauth_client_methods(p->c),
        "publickey,password,keyboard-interactive");
    assert_int_equal(amk_userauth_client_last_result(p->c), AMK_USERAUTH_RESULT_FAILURE);
    assert_int_equal(amk_userauth_server_failures(p->s), 0);
    assert_false(amk_userauth_server_done(p->s));
    assert_string_equal(amk_userauth_server_username(p->s), "alice");
    pair_free(p);
}

static void
test_userauth_server_password_ok(void **state)
{
    struct pair *p = pair_started(NULL, NULL);

    ASSERT_OK(amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_true(amk_userauth_server_done(p->s));
    assert_string_equal(amk_userauth_server_methods_used(p->s), "password");
    assert_string_equal(p->pol.seen_user, "alice");
    assert_null(amk_userauth_server_key(p->s));
    /* Requests after success are ignored (RFC 4252 §5.1). */
    {
        struct amk_buf *m = &p->c2s.m[p->c2s.n - 1];
        size_t before = p->s2c.n;
        ASSERT_OK(amk_userauth_server_handle(p->s, amk_buf_ptr(m), amk_buf_len(m)));
        assert_int_equal(p->s2c.n, before);
    }
    pair_free(p);
}

static void
test_userauth_server_password_wrong_then_right(void **state)
{
    struct pair *p = pair_started(NULL, NULL);

    ASSERT_OK(amk_userauth_client_password(p->c, "hunter3", NULL, NULL));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(amk_userauth_client_last_result(p->c), AMK_USERAUTH_RESULT_FAILURE);
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    ASSERT_OK(amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    pump(p);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_int_equal(p->pol.password_calls, 2);
    pair_free(p);
}

static int
change_cb(void *user, const char *prompt, const char *lang, char *pw, size_t cap)
{
    snprintf(pw, cap, "new");
    return AMK_OK;
}

/* A raw password request: change flag, old and (with change) new password. */
static void
put_password_request(struct amk_buf *b, const char *user, int change, const char *pw)
{
    assert_int_equal(amk_buf_put_u8(b, AMK_MSG_USERAUTH_REQUEST), 0);
    assert_int_equal(amk_buf_put_cstring(b, user), 0);
    assert_int_equal(amk_buf_put_cstring(b, "ssh-connection"), 0);
    assert_int_equal(amk_buf_put_cstring(b, "password"), 0);
    assert_int_equal(amk_buf_put_bool(b, change), 0);
    assert_int_equal(amk_buf_put_cstring(b, pw), 0);
    if (change)
        assert_int_equal(amk_buf_put_cstring(b, "newpass"), 0);
}

static int
srv_feed(struct pair *p, const struct amk_buf *b)
{
    return amk_userauth_server_handle(p->s, amk_buf_ptr(b), amk_buf_len(b));
}

static void
test_userauth_server_password_change_refused(void **state)
{
    struct pair *p = pair_started(NULL, NULL);
    struct amk_buf b;
    uint8_t type;

    amk_buf_init(&b);
    put_password_request(&b, "alice", 1, "hunter2");
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(p->pol.password_calls, 0);
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    assert_int_equal(amk_buf_peek_u8(q_last(&p->s2c), 0, &type), 0);
    assert_int_equal(type, AMK_MSG_USERAUTH_FAILURE);
    (void)change_cb;
    amk_buf_release(&b);
    pair_free(p);
}

static void
check_pubkey(const struct amk_key *key, const char *sig_algs)
{
    struct pair *p = pair_started(NULL, sig_algs);

    p->pol.keys[p->pol.n_keys++] = key;
    ASSERT_OK(amk_userauth_client_publickey(p->c, key));
    pump(p);
    ASSERT_OK(p->srv_r);
    ASSERT_OK(p->cli_r);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_true(amk_userauth_server_done(p->s));
    assert_int_equal(p->pol.queries, 1);
    assert_int_equal(p->pol.signed_calls, 1);
    assert_string_equal(amk_userauth_server_methods_used(p->s), "publickey");
    assert_non_null(amk_userauth_server_key(p->s));
    assert_true(amk_key_equal_public(amk_userauth_server_key(p->s), key));
    assert_ptr_equal(amk_userauth_server_key_opts(p->s), &g_opts_token);
    /* The query's options were dropped at once; the signed one's are kept. */
    assert_int_equal(p->pol.opts_made, 2);
    assert_int_equal(p->pol.opts_freed, 1);
    amk_userauth_client_free(p->c);
    p->c = NULL;
    amk_userauth_server_free(p->s);
    p->s = NULL;
    assert_int_equal(p->pol.opts_freed, 2);
    pair_free(p);
}

static void
test_userauth_server_pubkey_ed25519(void **state)
{
    check_pubkey(g_keys[0], NULL);
}

static void
test_userauth_server_pubkey_ecdsa(void **state)
{
    check_pubkey(g_keys[1], NULL);
    check_pubkey(g_keys[2], NULL);
    check_pubkey(g_keys[3], NULL);
}

static void
test_userauth_server_pubkey_rsa_sha2(void **state)
{
    check_pubkey(g_keys[4], NULL);                  /* rsa-sha2-512 */
    check_pubkey(g_keys[4], "rsa-sha2-256");        /* rsa-sha2-256 */
}

static void
test_userauth_server_pubkey_ssh_rsa_needs_config(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p = pair_started(NULL, "ssh-rsa");

    /* SHA-1 signatures are refused by default: the query already fails. */
    p->pol.keys[p->pol.n_keys++] = g_keys[4];
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_keys[4]));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(p->pol.queries, 0);
    pair_free(p);

    server_config(NULL, &cfg);
    cfg.allow_ssh_rsa = 1;
    p = pair_started(&cfg, "ssh-rsa");
    p->pol.keys[p->pol.n_keys++] = g_keys[4];
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_keys[4]));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_true(amk_userauth_client_authenticated(p->c));
    pair_free(p);
}

static void
test_userauth_server_pubkey_dsa_refused(void **state)
{
    struct amk_key *dsa = NULL;
    struct pair *p = pair_started(NULL, NULL);

    /* ssh-dss (SHA-1, 1024 bits) is not among the accepted algorithms. */
    ASSERT_OK(amk_key_generate(AMK_PKEY_DSA, 1024, &dsa));
    p->pol.keys[p->pol.n_keys++] = dsa;
    ASSERT_OK(amk_userauth_client_publickey(p->c, dsa));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(p->pol.queries, 0);
    pair_free(p);
    amk_key_free(dsa);
}

/* A client that signs at once (amiko's default): no query, one signed
 * request; a refused one is a failed attempt (OpenSSH counts it too). */
static void
test_userauth_server_pubkey_signed_at_once(void **state)
{
    struct pair *p;

    g_client_query_first = 0;
    p = pair_started(NULL, NULL);
    g_client_query_first = 1;
    p->pol.keys[p->pol.n_keys++] = g_keys[0];
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_other));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_keys[0]));
    pump(p);
    ASSERT_OK(p->srv_r);
    ASSERT_OK(p->cli_r);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_true(amk_userauth_server_done(p->s));
    assert_int_equal(p->pol.queries, 0);
    assert_true(amk_key_equal_public(amk_userauth_server_key(p->s), g_keys[0]));
    pair_free(p);
}

static void
test_userauth_server_pubkey_unknown_key_refused(void **state)
{
    struct pair *p = pair_started(NULL, NULL);

    p->pol.keys[p->pol.n_keys++] = g_keys[0];
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_other));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(amk_userauth_client_last_result(p->c), AMK_USERAUTH_RESULT_FAILURE);
    /* A refused query is not a failed attempt. */
    assert_int_equal(amk_userauth_server_failures(p->s), 0);
    assert_int_equal(p->pol.signed_calls, 0);
    pair_free(p);
}

static void
test_userauth_server_kbdint_two_rounds(void **state)
{
    struct pair *p = pair_started(NULL, NULL);
    struct answers a = { .password = "hunter2" };

    ASSERT_OK(amk_userauth_client_kbdint(p->c, NULL, client_kbd, &a));
    pump(p);
    ASSERT_OK(p->srv_r);
    ASSERT_OK(p->cli_r);
    assert_int_equal(a.rounds_seen, 2);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_string_equal(amk_userauth_server_methods_used(p->s), "keyboard-interactive");
    assert_int_equal(p->pol.kbd_started, 1);
    assert_int_equal(p->pol.kbd_ended, 1);
    pair_free(p);
}

static void
test_userauth_server_kbdint_wrong_answer(void **state)
{
    struct pair *p = pair_started(NULL, NULL);
    struct answers a = { .password = "wrong" };

    ASSERT_OK(amk_userauth_client_kbdint(p->c, NULL, client_kbd, &a));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_int_equal(a.rounds_seen, 1);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    assert_int_equal(p->pol.kbd_ended, 1);
    pair_free(p);
}

static void
test_userauth_server_kbdint_password(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;
    struct answers a = { .password = "wrong" };

    server_config(NULL, &cfg);
    cfg.kbdint_start = NULL;
    cfg.kbdint_respond = NULL;
    cfg.kbdint_end = NULL;
    cfg.kbdint_password = 1;
    p = pair_started(&cfg, NULL);
    assert_string_equal(amk_userauth_client_methods(p->c),
        "publickey,password,keyboard-interactive");
    ASSERT_OK(amk_userauth_client_kbdint(p->c, NULL, client_kbd, &a));
    pump(p);
    assert_false(amk_userauth_client_authenticated(p->c));
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    a.password = "hunter2";
    ASSERT_OK(amk_userauth_client_kbdint(p->c, NULL, client_kbd, &a));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_int_equal(a.rounds_seen, 2);
    assert_int_equal(p->pol.password_calls, 2);
    assert_int_equal(p->pol.kbd_started, 0);
    assert_string_equal(amk_userauth_server_methods_used(p->s), "keyboard-interactive");
    pair_free(p);
}

static void
test_userauth_server_kbdint_round_limit(void **state)
{
    struct pair *p = pair_started(NULL, NULL);
    struct answers a = { .password = "hunter2" };

    p->pol.kbd_forever = 1;
    ASSERT_OK(amk_userauth_client_kbdint(p->c, NULL, client_kbd, &a));
    pump(p);
    ASSERT_AMK(AMK_ELIMIT, p->srv_r);
    assert_int_equal(amk_userauth_server_disconnect_reason(p->s),
        AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE);
    assert_int_equal(a.rounds_seen, AMK_USERAUTH_SERVER_MAX_KBDINT_ROUNDS);
    assert_int_equal(p->pol.kbd_ended, 1);
    pair_free(p);
}

static void
test_userauth_server_kbdint_too_many_prompts(void **state)
{
    struct pair *p = pair_started(NULL, NULL);
    struct answers a = { .password = "hunter2" };

    p->pol.kbd_bad_count = 1;
    ASSERT_OK(amk_userauth_client_kbdint(p->c, NULL, client_kbd, &a));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_int_equal(a.rounds_seen, 0);
    assert_false(amk_userauth_client_authenticated(p->c));
    pair_free(p);
}

static void
test_userauth_server_chain_publickey_then_password(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;

    server_config(NULL, &cfg);
    cfg.auth_methods = "publickey,password publickey,keyboard-interactive";
    p = pair_started(&cfg, NULL);
    p->pol.keys[p->pol.n_keys++] = g_keys[0];
    assert_string_equal(amk_userauth_client_methods(p->c), "publickey");
    /* password is not offered yet: the client refuses to try it, and a
     * request sent anyway fails and counts. */
    ASSERT_AMK(AMK_EAUTH, amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_keys[0]));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_int_equal(amk_userauth_client_last_result(p->c), AMK_USERAUTH_RESULT_PARTIAL);
    assert_string_equal(amk_userauth_client_methods(p->c), "password,keyboard-interactive");
    assert_false(amk_userauth_server_done(p->s));
    ASSERT_OK(amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    pump(p);
    ASSERT_OK(p->srv_r);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_string_equal(amk_userauth_server_methods_used(p->s), "publickey,password");
    pair_free(p);
}

static void
test_userauth_server_chain_wrong_order_fails(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;
    struct amk_buf b;

    server_config(NULL, &cfg);
    cfg.auth_methods = "publickey,password";
    p = pair_started(&cfg, NULL);
    amk_buf_init(&b);
    put_password_request(&b, "alice", 0, "hunter2");
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(p->pol.password_calls, 0);
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    assert_false(amk_userauth_server_done(p->s));
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_partial_from_callback(void **state)
{
    struct pair *p = pair_started(NULL, NULL);

    p->pol.password_partial = 1;
    p->pol.keys[p->pol.n_keys++] = g_keys[0];
    ASSERT_OK(amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    pump(p);
    assert_int_equal(amk_userauth_client_last_result(p->c), AMK_USERAUTH_RESULT_PARTIAL);
    assert_string_equal(amk_userauth_client_methods(p->c), "publickey,keyboard-interactive");
    ASSERT_OK(amk_userauth_client_publickey(p->c, g_keys[0]));
    pump(p);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_string_equal(amk_userauth_server_methods_used(p->s), "password,publickey");
    pair_free(p);
}

static void
test_userauth_server_attempt_limit(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;

    server_config(NULL, &cfg);
    cfg.max_tries = 3;
    p = pair_started(&cfg, NULL);
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(amk_userauth_client_password(p->c, "nope", NULL, NULL));
        pump(p);
        ASSERT_OK(p->srv_r);
        assert_false(amk_userauth_client_busy(p->c));
    }
    ASSERT_OK(amk_userauth_client_password(p->c, "nope", NULL, NULL));
    pump(p);
    ASSERT_AMK(AMK_ELIMIT, p->srv_r);
    assert_int_equal(amk_userauth_server_disconnect_reason(p->s),
        AMK_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE);
    /* As sshd, no FAILURE before the disconnect: the client still waits. */
    assert_true(amk_userauth_client_busy(p->c));
    /* The engine stays failed. */
    ASSERT_AMK(AMK_ELIMIT, srv_feed(p, &p->c2s.m[p->c2s.n - 1]));
    pair_free(p);
}

static void
test_userauth_server_default_limit_is_six(void **state)
{
    struct pair *p = pair_started(NULL, NULL);
    int i;

    for (i = 0; i < 10 && p->srv_r == AMK_OK; i++) {
        ASSERT_OK(amk_userauth_client_password(p->c, "nope", NULL, NULL));
        pump(p);
    }
    assert_int_equal(i, AMK_USERAUTH_SERVER_MAX_TRIES);
    ASSERT_AMK(AMK_ELIMIT, p->srv_r);
    pair_free(p);
}

static void
test_userauth_server_banner_once(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;

    server_config(NULL, &cfg);
    cfg.banner = "Authorised users only\n";
    p = pair_started(&cfg, NULL);
    ASSERT_OK(amk_userauth_client_password(p->c, "nope", NULL, NULL));
    pump(p);
    ASSERT_OK(amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    pump(p);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_int_equal(p->banner.calls, 1);
    assert_string_equal(p->banner.msg, "Authorised users only\n");
    pair_free(p);
}

static void
test_userauth_server_permit_none(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;

    server_config(NULL, &cfg);
    cfg.permit_none = 1;
    p = pair_new_cfg(&cfg, NULL, NULL);
    ASSERT_OK(amk_userauth_client_start(p->c));
    pump(p);
    assert_true(amk_userauth_client_authenticated(p->c));
    assert_true(amk_userauth_server_done(p->s));
    assert_string_equal(amk_userauth_server_methods_used(p->s), "none");
    pair_free(p);
}

static void
test_userauth_server_held_failure(void **state)
{
    static const uint8_t key[4] = { 1, 2, 3, 4 };
    struct amk_userauth_server_config cfg;
    struct pair *p;
    uint32_t d;

    server_config(NULL, &cfg);
    cfg.failure_delay_ms = 100;
    cfg.delay_key = key;
    cfg.delay_key_len = sizeof(key);
    p = pair_started(&cfg, NULL);
    /* "none" failed without being held. */
    assert_false(amk_userauth_server_held(p->s));
    ASSERT_OK(amk_userauth_client_password(p->c, "nope", NULL, NULL));
    pump(p);
    assert_true(amk_userauth_server_held(p->s));
    assert_true(amk_userauth_client_busy(p->c));
    d = amk_userauth_server_delay_ms(p->s);
    assert_true(d >= 100 && d <= 200);
    ASSERT_OK(amk_userauth_server_release(p->s));
    assert_false(amk_userauth_server_held(p->s));
    pump(p);
    assert_false(amk_userauth_client_busy(p->c));
    assert_int_equal(amk_userauth_client_last_result(p->c), AMK_USERAUTH_RESULT_FAILURE);
    /* A success is never held. */
    ASSERT_OK(amk_userauth_client_password(p->c, "hunter2", NULL, NULL));
    pump(p);
    assert_true(amk_userauth_client_authenticated(p->c));
    pair_free(p);
}

/* --- The server alone, with hostile messages ------------------------ */

static const uint8_t service_request[] = {
    5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'
};

static struct pair *
server_only(void)
{
    struct pair *p = pair_new_cfg(NULL, NULL, NULL);

    ASSERT_OK(amk_userauth_server_handle(p->s, service_request, sizeof(service_request)));
    assert_int_equal(p->s2c.n, 1);
    return p;
}

static void
put_head(struct amk_buf *b, const char *user, const char *service, const char *method)
{
    assert_int_equal(amk_buf_put_u8(b, AMK_MSG_USERAUTH_REQUEST), 0);
    assert_int_equal(amk_buf_put_cstring(b, user), 0);
    assert_int_equal(amk_buf_put_cstring(b, service), 0);
    assert_int_equal(amk_buf_put_cstring(b, method), 0);
}

/* A signed publickey request with the signature made over @p sid. */
static void
put_signed_pubkey(struct amk_buf *b, const struct amk_key *k, const char *alg,
    const uint8_t *sid, size_t sidlen, int flip)
{
    struct amk_buf blob, data, sig;

    amk_buf_init(&blob);
    amk_buf_init(&data);
    amk_buf_init(&sig);
    assert_int_equal(amk_key_to_blob(k, &blob), 0);
    put_head(b, "alice", "ssh-connection", "publickey");
    assert_int_equal(amk_buf_put_bool(b, 1), 0);
    assert_int_equal(amk_buf_put_cstring(b, alg), 0);
    assert_int_equal(amk_buf_put_stringb(b, &blob), 0);
    assert_int_equal(amk_buf_put_string(&data, sid, sidlen), 0);
    assert_int_equal(amk_buf_putb(&data, b), 0);
    assert_int_equal(amk_key_sign(k, alg, amk_buf_ptr(&data), amk_buf_len(&data), &sig), 0);
    if (flip)
        amk_buf_mutable_ptr(&sig)[amk_buf_len(&sig) - 3] ^= 0x40;
    assert_int_equal(amk_buf_put_stringb(b, &sig), 0);
    amk_buf_release(&blob);
    amk_buf_release(&data);
    amk_buf_release(&sig);
}

static uint8_t
last_type(const struct pair *p)
{
    uint8_t t = 0;

    assert_int_equal(amk_buf_peek_u8(q_last(&p->s2c), 0, &t), 0);
    return t;
}

static void
test_userauth_server_signed_pubkey_direct(void **state)
{
    struct pair *p = server_only();
    struct amk_buf b;

    p->pol.keys[p->pol.n_keys++] = g_keys[1];
    amk_buf_init(&b);
    /* Without a query first: a valid signature is enough (RFC 4252 §7). */
    put_signed_pubkey(&b, g_keys[1], "ecdsa-sha2-nistp256", session_id, sizeof(session_id), 0);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_SUCCESS);
    assert_true(amk_userauth_server_done(p->s));
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_bad_signature_refused(void **state)
{
    static const uint8_t other_sid[4] = { 1, 2, 3, 4 };
    struct pair *p = server_only();
    struct amk_buf b;

    p->pol.keys[p->pol.n_keys++] = g_keys[0];
    p->pol.keys[p->pol.n_keys++] = g_keys[4];
    amk_buf_init(&b);
    /* Signed over another session identifier. */
    put_signed_pubkey(&b, g_keys[0], "ssh-ed25519", other_sid, sizeof(other_sid), 0);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_FAILURE);
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    assert_int_equal(p->pol.signed_calls, 0);
    /* A flipped bit in the signature. */
    amk_buf_reset(&b);
    put_signed_pubkey(&b, g_keys[4], "rsa-sha2-512", session_id, sizeof(session_id), 1);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_FAILURE);
    assert_int_equal(amk_userauth_server_failures(p->s), 2);
    amk_buf_reset(&b);
    /* ssh-ed25519 key announced as ecdsa: refused without a signature check. */
    {
        struct amk_buf blob;
        amk_buf_init(&blob);
        assert_int_equal(amk_key_to_blob(g_keys[0], &blob), 0);
        put_head(&b, "alice", "ssh-connection", "publickey");
        assert_int_equal(amk_buf_put_bool(&b, 0), 0);
        assert_int_equal(amk_buf_put_cstring(&b, "ecdsa-sha2-nistp256"), 0);
        assert_int_equal(amk_buf_put_stringb(&b, &blob), 0);
        amk_buf_release(&blob);
    }
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_FAILURE);
    assert_int_equal(p->pol.queries, 0);
    /* A certificate algorithm: not now. */
    amk_buf_reset(&b);
    put_head(&b, "alice", "ssh-connection", "publickey");
    assert_int_equal(amk_buf_put_bool(&b, 0), 0);
    assert_int_equal(amk_buf_put_cstring(&b, "ssh-ed25519-cert-v01@openssh.com"), 0);
    assert_int_equal(amk_buf_put_cstring(&b, "junk"), 0);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_FAILURE);
    assert_false(amk_userauth_server_done(p->s));
    ASSERT_OK(amk_userauth_server_error(p->s));
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_same_key_twice_in_chain(void **state)
{
    struct amk_userauth_server_config cfg;
    struct pair *p;
    struct amk_buf b;

    server_config(NULL, &cfg);
    cfg.auth_methods = "publickey,publickey";
    p = pair_new_cfg(&cfg, NULL, NULL);
    ASSERT_OK(amk_userauth_server_handle(p->s, service_request, sizeof(service_request)));
    p->pol.keys[p->pol.n_keys++] = g_keys[0];
    p->pol.keys[p->pol.n_keys++] = g_keys[1];
    amk_buf_init(&b);
    put_signed_pubkey(&b, g_keys[0], "ssh-ed25519", session_id, sizeof(session_id), 0);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_FAILURE);     /* partial */
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_FAILURE);
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    amk_buf_reset(&b);
    put_signed_pubkey(&b, g_keys[1], "ecdsa-sha2-nistp256", session_id, sizeof(session_id), 0);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_SUCCESS);
    assert_string_equal(amk_userauth_server_methods_used(p->s), "publickey,publickey");
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_changed_username_refused(void **state)
{
    struct pair *p = server_only();
    struct amk_buf b;

    amk_buf_init(&b);
    put_head(&b, "alice", "ssh-connection", "none");
    ASSERT_OK(srv_feed(p, &b));
    amk_buf_reset(&b);
    put_head(&b, "bob", "ssh-connection", "none");
    ASSERT_AMK(AMK_EPROTO, srv_feed(p, &b));
    assert_int_equal(amk_userauth_server_disconnect_reason(p->s), AMK_DISCONNECT_PROTOCOL_ERROR);
    assert_string_equal(amk_userauth_server_username(p->s), "alice");
    amk_buf_release(&b);
    pair_free(p);

    /* A changed service too. */
    p = server_only();
    amk_buf_init(&b);
    put_head(&b, "alice", "ssh-connection", "none");
    ASSERT_OK(srv_feed(p, &b));
    amk_buf_reset(&b);
    put_head(&b, "alice", "other-service", "none");
    ASSERT_AMK(AMK_EPROTO, srv_feed(p, &b));
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_unknown_service(void **state)
{
    static const uint8_t req[] = {
        5, 0, 0, 0, 14, 's', 's', 'h', '-', 'c', 'o', 'n', 'n', 'e', 'c', 't', 'i', 'o', 'n'
    };
    struct pair *p = pair_new_cfg(NULL, NULL, NULL);
    struct amk_buf b;

    ASSERT_AMK(AMK_EPROTO, amk_userauth_server_handle(p->s, req, sizeof(req)));
    assert_int_equal(amk_userauth_server_disconnect_reason(p->s),
        AMK_DISCONNECT_SERVICE_NOT_AVAILABLE);
    assert_int_equal(p->s2c.n, 0);
    pair_free(p);

    /* Authentication for another service than ssh-connection. */
    p = server_only();
    amk_buf_init(&b);
    put_head(&b, "alice", "ssh-userauth", "none");
    ASSERT_AMK(AMK_EPROTO, srv_feed(p, &b));
    assert_int_equal(amk_userauth_server_disconnect_reason(p->s),
        AMK_DISCONNECT_SERVICE_NOT_AVAILABLE);
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_malformed_messages(void **state)
{
    static const char *const bad[] = {
        "32",                                   /* USERAUTH_REQUEST with nothing */
        "32 00000005 616c696365",               /* no service */
        "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e 00000004 6e6f6e65 00",
        "32 ffffffff",                          /* hostile length */
        /* password without the password */
        "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e"
        " 00000008 70617373776f7264 00",
        /* password with trailing data */
        "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e"
        " 00000008 70617373776f7264 00 00000001 61 ff",
        /* publickey with a non-boolean flag */
        "32 00000005 616c696365 0000000e 7373682d636f6e6e656374696f6e"
        " 00000009 7075626c69636b6579 07",
        /* user name with a NUL */
        "32 00000003 610062 0000000e 7373682d636f6e6e656374696f6e 00000004 6e6f6e65",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct pair *p = server_only();
        size_t len;
        uint8_t *m = test_unhex(bad[i], &len);
        int r = amk_userauth_server_handle(p->s, m, len);
        if (r != AMK_EFORMAT)
            fail_msg("case %zu: %s", i, amk_errname(r));
        assert_int_equal(amk_userauth_server_disconnect_reason(p->s) == 0, 0);
        free(m);
        pair_free(p);
    }
}

static void
test_userauth_server_misplaced_messages(void **state)
{
    struct pair *p = pair_new_cfg(NULL, NULL, NULL);
    static const uint8_t info_response[] = { 61, 0, 0, 0, 0 };
    static const uint8_t failure[] = { 51, 0, 0, 0, 0, 0 };
    struct amk_buf b;

    /* A request before the service request. */
    amk_buf_init(&b);
    put_head(&b, "alice", "ssh-connection", "none");
    ASSERT_AMK(AMK_EPROTO, srv_feed(p, &b));
    pair_free(p);

    p = server_only();
    ASSERT_AMK(AMK_EPROTO, amk_userauth_server_handle(p->s, info_response,
        sizeof(info_response)));
    pair_free(p);

    p = server_only();
    ASSERT_AMK(AMK_EPROTO, amk_userauth_server_handle(p->s, failure, sizeof(failure)));
    pair_free(p);

    p = server_only();
    ASSERT_AMK(AMK_EPROTO, amk_userauth_server_handle(p->s, service_request,
        sizeof(service_request)));
    ASSERT_AMK(AMK_EINVAL, amk_userauth_server_handle(p->s, service_request, 0));
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_kbdint_wrong_count(void **state)
{
    struct pair *p = server_only();
    static const uint8_t one_response[] = { 61, 0, 0, 0, 1, 0, 0, 0, 1, 'x' };
    struct amk_buf b;

    amk_buf_init(&b);
    put_head(&b, "alice", "ssh-connection", "keyboard-interactive");
    assert_int_equal(amk_buf_put_cstring(&b, ""), 0);
    assert_int_equal(amk_buf_put_cstring(&b, ""), 0);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_INFO_REQUEST);
    /* Two prompts were sent; one answer is a protocol error. */
    ASSERT_AMK(AMK_EPROTO, amk_userauth_server_handle(p->s, one_response,
        sizeof(one_response)));
    assert_int_equal(p->pol.kbd_ended, 1);
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_kbdint_abandoned(void **state)
{
    struct pair *p = server_only();
    struct amk_buf b;

    amk_buf_init(&b);
    put_head(&b, "alice", "ssh-connection", "keyboard-interactive");
    assert_int_equal(amk_buf_put_cstring(&b, ""), 0);
    assert_int_equal(amk_buf_put_cstring(&b, ""), 0);
    ASSERT_OK(srv_feed(p, &b));
    /* RFC 4256 §3.4: a new request abandons the exchange. */
    amk_buf_reset(&b);
    put_password_request(&b, "alice", 0, "hunter2");
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(p->pol.kbd_ended, 1);
    assert_int_equal(last_type(p), AMK_MSG_USERAUTH_SUCCESS);
    amk_buf_release(&b);
    pair_free(p);
}

static void
test_userauth_server_long_fields(void **state)
{
    struct pair *p = server_only();
    struct amk_buf b;
    char *big = malloc(2000);

    assert_non_null(big);
    memset(big, 'a', 1999);
    big[1999] = '\0';
    amk_buf_init(&b);
    put_head(&b, big, "ssh-connection", "none");
    ASSERT_AMK(AMK_ELIMIT, srv_feed(p, &b));
    assert_int_equal(amk_userauth_server_disconnect_reason(p->s),
        AMK_DISCONNECT_ILLEGAL_USER_NAME);
    pair_free(p);

    p = server_only();
    amk_buf_reset(&b);
    put_password_request(&b, "alice", 0, big);
    ASSERT_AMK(AMK_ELIMIT, srv_feed(p, &b));
    assert_int_equal(p->pol.password_calls, 0);
    pair_free(p);

    /* An unknown method name is a counted failure, not an error. */
    p = server_only();
    amk_buf_reset(&b);
    put_head(&b, "alice", "ssh-connection", big);
    ASSERT_OK(srv_feed(p, &b));
    assert_int_equal(amk_userauth_server_failures(p->s), 1);
    amk_buf_release(&b);
    free(big);
    pair_free(p);
}

static void
test_userauth_server_config_checked(void **state)
{
    struct amk_userauth_server_config cfg;
    struct amk_userauth_server *s = NULL;
    static const char *const bad[] = {
        "publickey,", ",publickey", "publickey,,password", "hostbased", "publickey,gssapi",
        "", "   ",
    };

    server_config(NULL, &cfg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.auth_methods = bad[i];
        ASSERT_AMK(AMK_EINVAL, amk_userauth_server_new(&s, &cfg));
        assert_null(s);
    }
    cfg.auth_methods = "publickey,password";
    cfg.password_cb = NULL;     /* password named but not enabled */
    ASSERT_AMK(AMK_EINVAL, amk_userauth_server_new(&s, &cfg));
    server_config(NULL, &cfg);
    cfg.kbdint_respond = NULL;
    ASSERT_AMK(AMK_EINVAL, amk_userauth_server_new(&s, &cfg));
    memset(&cfg, 0, sizeof(cfg));
    ASSERT_AMK(AMK_EINVAL, amk_userauth_server_new(&s, &cfg));
    server_config(NULL, &cfg);
    cfg.auth_methods = " publickey,password  keyboard-interactive ";
    ASSERT_OK(amk_userauth_server_new(&s, &cfg));
    assert_string_equal(amk_userauth_server_methods_left(s), "publickey,keyboard-interactive");
    amk_userauth_server_free(s);
}

static int
refusing_send(void *user, const uint8_t *p, size_t len)
{
    return AMK_EAGAIN;
}

static void
test_userauth_server_sink_refusal_is_fatal(void **state)
{
    struct amk_userauth_server_config cfg;
    struct amk_userauth_server *s = NULL;

    server_config(NULL, &cfg);
    cfg.sink.send = refusing_send;
    ASSERT_OK(amk_userauth_server_new(&s, &cfg));
    /* A reply that cannot be queued would leave the client waiting. */
    ASSERT_AMK(AMK_ELIMIT, amk_userauth_server_handle(s, service_request,
        sizeof(service_request)));
    assert_int_equal(amk_userauth_server_disconnect_reason(s), AMK_DISCONNECT_BY_APPLICATION);
    ASSERT_AMK(AMK_ELIMIT, amk_userauth_server_handle(s, service_request,
        sizeof(service_request)));
    amk_userauth_server_free(s);
}

static void
test_auth_password_equal(void **state)
{
    assert_true(amk_auth_password_equal("secret", "secret"));
    assert_true(amk_auth_password_equal("", ""));
    assert_false(amk_auth_password_equal("secret", "secreT"));
    assert_false(amk_auth_password_equal("secret", "secret1"));
    assert_false(amk_auth_password_equal("", "x"));
    assert_false(amk_auth_password_equal(NULL, "x"));
    assert_false(amk_auth_password_equal("x", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_userauth_server_none_lists_methods),
        cmocka_unit_test(test_userauth_server_password_ok),
        cmocka_unit_test(test_userauth_server_password_wrong_then_right),
        cmocka_unit_test(test_userauth_server_password_change_refused),
        cmocka_unit_test(test_userauth_server_pubkey_ed25519),
        cmocka_unit_test(test_userauth_server_pubkey_ecdsa),
        cmocka_unit_test(test_userauth_server_pubkey_rsa_sha2),
        cmocka_unit_test(test_userauth_server_pubkey_ssh_rsa_needs_config),
        cmocka_unit_test(test_userauth_server_pubkey_dsa_refused),
        cmocka_unit_test(test_userauth_server_pubkey_signed_at_once),
        cmocka_unit_test(test_userauth_server_pubkey_unknown_key_refused),
        cmocka_unit_test(test_userauth_server_kbdint_two_rounds),
        cmocka_unit_test(test_userauth_server_kbdint_wrong_answer),
        cmocka_unit_test(test_userauth_server_kbdint_password),
        cmocka_unit_test(test_userauth_server_kbdint_round_limit),
        cmocka_unit_test(test_userauth_server_kbdint_too_many_prompts),
        cmocka_unit_test(test_userauth_server_chain_publickey_then_password),
        cmocka_unit_test(test_userauth_server_chain_wrong_order_fails),
        cmocka_unit_test(test_userauth_server_partial_from_callback),
        cmocka_unit_test(test_userauth_server_attempt_limit),
        cmocka_unit_test(test_userauth_server_default_limit_is_six),
        cmocka_unit_test(test_userauth_server_banner_once),
        cmocka_unit_test(test_userauth_server_permit_none),
        cmocka_unit_test(test_userauth_server_held_failure),
        cmocka_unit_test(test_userauth_server_signed_pubkey_direct),
        cmocka_unit_test(test_userauth_server_bad_signature_refused),
        cmocka_unit_test(test_userauth_server_same_key_twice_in_chain),
        cmocka_unit_test(test_userauth_server_changed_username_refused),
        cmocka_unit_test(test_userauth_server_unknown_service),
        cmocka_unit_test(test_userauth_server_malformed_messages),
        cmocka_unit_test(test_userauth_server_misplaced_messages),
        cmocka_unit_test(test_userauth_server_kbdint_wrong_count),
        cmocka_unit_test(test_userauth_server_kbdint_abandoned),
        cmocka_unit_test(test_userauth_server_long_fields),
        cmocka_unit_test(test_userauth_server_config_checked),
        cmocka_unit_test(test_userauth_server_sink_refusal_is_fatal),
        cmocka_unit_test(test_auth_password_equal),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
