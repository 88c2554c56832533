/*
 * Required method lists for the server engine, in sshd_config(5)
 * AuthenticationMethods syntax: "publickey,password publickey,keyboard-
 * interactive" means publickey then password, or publickey then
 * keyboard-interactive. A success advances every list whose next method
 * it was; authentication is complete when some list is; only methods next
 * in an unfinished list can continue (RFC 4252 §5.1 partial success).
 * (auth_chain.c is the client's candidate order and does not fit here.)
 * See userauth_server.h.
 */
#include "auth/userauth_server_int.h"

#include <stdio.h>
#include <string.h>

static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}

int
amk_uas_chains_parse(struct amk_userauth_server *s, const char *spec)
{
    const char *p = spec, *end, *name;
    struct amk_uas_chain *c;
    unsigned m;

    s->n_chains = 0;
    if (spec == NULL || strcmp(spec, "any") == 0)
        return AMK_OK;
    for (;;) {
        while (is_space(*p))
            p++;
        if (*p == '\0')
            break;
        if (s->n_chains >= AMK_USERAUTH_SERVER_MAX_CHAINS)
            return AMK_EINVAL;
        c = &s->chains[s->n_chains];
        memset(c, 0, sizeof(*c));
        end = p;
        while (*end != '\0' && !is_space(*end))
            end++;
        /* One list: comma-separated method names. */
        while (p < end) {
            name = p;
            while (p < end && *p != ',')
                p++;
            m = amk_uas_method_by_name(name, (size_t)(p - name));
            if (m == 0 || !(s->enabled & m) || c->n >= AMK_USERAUTH_SERVER_MAX_CHAIN_LEN)
                return AMK_EINVAL;
            c->methods[c->n++] = m;
            if (p < end) {
                p++;            /* the comma */
                if (p == end)
                    return AMK_EINVAL;      /* trailing comma */
            }
        }
        if (c->n == 0)
            return AMK_EINVAL;
        s->n_chains++;
    }
    if (s->n_chains == 0)
        return AMK_EINVAL;
    return AMK_OK;
}

int
amk_uas_chains_complete(const struct amk_userauth_server *s)
{
    if (s->n_chains == 0)
        return s->used != 0;
    for (size_t i = 0; i < s->n_chains; i++) {
        if (s->chains[i].pos == s->chains[i].n)
            return 1;
    }
    return 0;
}

/* The set of methods that can continue, as bits. */
static unsigned
allowed_bits(const struct amk_userauth_server *s)
{
    unsigned bits = 0;

    /* After a PARTIAL with every list done, any other method will do. */
    if (s->need_more && amk_uas_chains_complete(s))
        return s->enabled & ~s->used;
    if (s->n_chains == 0)
        return s->need_more ? s->enabled & ~s->used : s->enabled;
    for (size_t i = 0; i < s->n_chains; i++) {
        const struct amk_uas_chain *c = &s->chains[i];
        if (c->pos < c->n)
            bits |= c->methods[c->pos];
    }
    return bits & s->enabled;
}

int
amk_uas_chains_allows(const struct amk_userauth_server *s, unsigned method)
{
    return (allowed_bits(s) & method) != 0;
}

void
amk_uas_chains_advance(struct amk_userauth_server *s, unsigned method)
{
    for (size_t i = 0; i < s->n_chains; i++) {
        struct amk_uas_chain *c = &s->chains[i];
        if (c->pos < c->n && c->methods[c->pos] == method)
            c->pos++;
    }
}

void
amk_uas_chains_left(const struct amk_userauth_server *s, char *out, size_t cap)
{
    static const unsigned order[AMK_UAS_N_METHODS] = {
        AMK_UAS_M_PUBLICKEY, AMK_UAS_M_PASSWORD, AMK_UAS_M_KBDINT
    };
    unsigned bits = allowed_bits(s);
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < AMK_UAS_N_METHODS; i++) {
        if (!(bits & order[i]))
            continue;
        snprintf(out + len, cap - len, "%s%s", len > 0 ? "," : "",
            amk_uas_method_name(order[i]));
        len = strlen(out);
    }
}
