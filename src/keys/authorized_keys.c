/*
 * OpenSSH authorized_keys files (sshd(8) AUTHORIZED_KEYS FILE FORMAT):
 * lines of "[options] keytype base64 [comment]", the options sshd knows,
 * and the check of a client's key with from= and expiry-time=.
 * See amiko/authorized_keys.h.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/alloc.h"
#include "keys/authorized_keys.h"
#include "keys/host_pattern.h"
#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"
#include "util/namelist.h"

#define FILE_CHUNK 4096
#define PORT_MAX 65535L
#define CERT_SUFFIX "-cert-v01@openssh.com"

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- options -------------------------------------------------------- */

void
amk_ak_opts_init(struct amk_authorized_key_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->permit_pty = 1;
    o->permit_port_forwarding = 1;
    o->permit_agent_forwarding = 1;
    o->permit_x11_forwarding = 1;
    o->permit_user_rc = 1;
}

static void
list_release(struct amk_ak_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        amk_free(l->v[i]);
    amk_free(l->v);
    l->v = NULL;
    l->n = 0;
}

void
amk_ak_opts_release(struct amk_authorized_key_opts *o)
{
    amk_free(o->command);
    amk_free(o->from);
    amk_free(o->principals);
    amk_free(o->tunnel);
    list_release(&o->env);
    list_release(&o->permitopen);
    list_release(&o->permitlisten);
    memset(o, 0, sizeof(*o));
}

/* Appends @p s (ownership passes, also on failure). */
static int
list_add(struct amk_ak_list *l, char *s)
{
    char **v;

    if (l->n >= AMK_AK_MAX_LIST) {
        amk_free(s);
        return AMK_ELIMIT;
    }
    if ((v = amk_realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
        amk_free(s);
        return AMK_ENOMEM;
    }
    l->v = v;
    l->v[l->n++] = s;
    return AMK_OK;
}

static int
why_fail(char *why, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
why_fail(char *why, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, AMK_AK_REASON_MAX, fmt, ap);
    va_end(ap);
    return code;
}

/* Flags sshd knows, with their "no-" forms (sshd auth-options.c). */
static int *
flag_field(struct amk_authorized_key_opts *o, const char *name)
{
    if (strcmp(name, "pty") == 0)
        return &o->permit_pty;
    if (strcmp(name, "port-forwarding") == 0)
        return &o->permit_port_forwarding;
    if (strcmp(name, "agent-forwarding") == 0)
        return &o->permit_agent_forwarding;
    if (strcmp(name, "x11-forwarding") == 0)
        return &o->permit_x11_forwarding;
    if (strcmp(name, "user-rc") == 0)
        return &o->permit_user_rc;
    return NULL;
}

/* environment=: "NAME=value" with NAME of letters, digits and '_'. */
static int
env_valid(const char *v)
{
    size_t i;

    for (i = 0; v[i] != '\0' && v[i] != '='; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'))
            return 0;
    }
    return i > 0 && v[i] == '=';
}

static int
env_has(const struct amk_ak_list *l, const char *v)
{
    size_t n = (size_t)(strchr(v, '=') - v);

    for (size_t i = 0; i < l->n; i++) {
        if (strncmp(l->v[i], v, n) == 0 && l->v[i][n] == '=')
            return 1;
    }
    return 0;
}

static int
port_valid(const char *p, int allow_zero)
{
    long v = 0;

    if (strcmp(p, "*") == 0)
        return 1;
    if (*p == '\0' || strlen(p) > 5)
        return 0;
    for (; *p != '\0'; p++) {
        if (!is_digit(*p))
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v <= PORT_MAX && (allow_zero || v > 0);
}

/* "host:port" or "[v6]:port"; @p listen allows a bare port and port 0. */
static int
hostport_valid(const char *v, int listen)
{
    const char *colon;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (close == NULL || close == v + 1 || close[1] != ':')
            return 0;
        return port_valid(close + 2, listen);
    }
    if ((colon = strrchr(v, ':')) == NULL)
        return listen && port_valid(v, 1);
    if (colon == v || memchr(v, ':', (size_t)(colon - v)) != NULL)
        return 0;
    return port_valid(colon + 1, listen);
}

/* Reads a quoted value at s[*i] (sshd: '"' ... '"', \" is a quote). */
static int
read_quoted(const char *s, size_t len, size_t *i, char **out)
{
    struct amk_buf b;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&b);
    if (*i >= len || s[*i] != '"') {
        r = AMK_EFORMAT;
        goto out;
    }
    for ((*i)++; *i < len && s[*i] != '"'; (*i)++) {
        if (s[*i] == '\\' && *i + 1 < len && s[*i + 1] == '"')
            (*i)++;
        if (s[*i] == '\0') {
            r = AMK_EFORMAT;
            goto out;
        }
        if ((r = amk_buf_put_u8(&b, (uint8_t)s[*i])) != AMK_OK)
            goto out;
    }
    if (*i >= len) {
        r = AMK_EFORMAT;    /* unterminated */
        goto out;
    }
    (*i)++;
    r = amk_buf_to_cstring(&b, out, NULL);
out:
    amk_buf_release(&b);
    return r;
}

/* Options that take a quoted value (sshd(8)). */
static int
valued_option(const char *name)
{
    static const char *const names[] = {
        "command", "environment", "expiry-time", "from", "permitlisten", "permitopen",
        "principals", "tunnel",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0)
            return 1;
    }
    return 0;
}

/* Applies one option with value @p val (NULL: none; ownership passes). */
static int
apply_option(struct amk_authorized_key_opts *o, const char *name, char *val, char *why)
{
    int *flag;
    int64_t t;
    int r;

    if (strcmp(name, "restrict") == 0 || strcmp(name, "cert-authority") == 0 ||
        strcmp(name, "no-touch-required") == 0 || strcmp(name, "verify-required") == 0 ||
        strcmp(name, "touch-required") == 0 || flag_field(o, name) != NULL ||
        (strncmp(name, "no-", 3) == 0 && flag_field(o, name + 3) != NULL)) {
        if (val != NULL) {
            amk_free(val);
            return why_fail(why, AMK_EFORMAT, "option %s takes no value", name);
        }
        if (strcmp(name, "restrict") == 0) {
            /* sshd: restrict turns off every permission; later flags
             * may turn single ones back on. */
            o->restricted = 1;
            o->permit_pty = o->permit_port_forwarding = o->permit_agent_forwarding = 0;
            o->permit_x11_forwarding = o->permit_user_rc = 0;
        } else if (strcmp(name, "cert-authority") == 0) {
            o->cert_authority = 1;
        } else if (strcmp(name, "no-touch-required") == 0) {
            o->no_touch_required = 1;
        } else if (strcmp(name, "touch-required") == 0) {
            o->no_touch_required = 0;
        } else if (strcmp(name, "verify-required") == 0) {
            o->verify_required = 1;
        } else if ((flag = flag_field(o, name)) != NULL) {
            *flag = 1;
        } else {
            *flag_field(o, name + 3) = 0;
        }
        return AMK_OK;
    }
    if (!valued_option(name)) {
        amk_free(val);
        return why_fail(why, AMK_EFORMAT, "unknown option %s", name);
    }
    if (val == NULL)
        return why_fail(why, AMK_EFORMAT, "option %s needs a quoted value", name);
    if (strcmp(name, "command") == 0 || strcmp(name, "principals") == 0 ||
        strcmp(name, "from") == 0 || strcmp(name, "tunnel") == 0) {
        char **slot = strcmp(name, "command") == 0 ? &o->command :
            strcmp(name, "principals") == 0 ? &o->principals :
            strcmp(name, "from") == 0 ? &o->from : &o->tunnel;
        if (*slot != NULL) {
            amk_free(val);
            return why_fail(why, AMK_EFORMAT, "option %s given twice", name);
        }
        if (strcmp(name, "from") == 0 && !amk_ak_from_valid(val)) {
            amk_free(val);
            return why_fail(why, AMK_EFORMAT, "invalid %s pattern list", name);
        }
        if (strcmp(name, "tunnel") == 0 && strcmp(val, "any") != 0 &&
            !(port_valid(val, 1) && strcmp(val, "*") != 0)) {
            amk_free(val);
            return why_fail(why, AMK_EFORMAT, "invalid %s device", name);
        }
        *slot = val;
        return AMK_OK;
    }
    if (strcmp(name, "expiry-time") == 0) {
        r = amk_ak_parse_time(val, strlen(val), &t);
        amk_free(val);
        if (r != AMK_OK)
            return why_fail(why, AMK_EFORMAT, "invalid %s", name);
        /* sshd keeps the earliest of several. */
        if (o->expiry == 0 || t < o->expiry)
            o->expiry = t;
        return AMK_OK;
    }
    if (strcmp(name, "environment") == 0) {
        if (!env_valid(val)) {
            amk_free(val);
            return why_fail(why, AMK_EFORMAT, "invalid %s (NAME=value)", name);
        }
        if (env_has(&o->env, val)) {
            amk_free(val);      /* sshd keeps the first value of a name */
            return AMK_OK;
        }
        r = list_add(&o->env, val);
        return r == AMK_ELIMIT ? why_fail(why, AMK_EFORMAT, "too many %s options", name) : r;
    }
    if (strcmp(name, "permitopen") == 0 || strcmp(name, "permitlisten") == 0) {
        int listen = strcmp(name, "permitlisten") == 0;
        if (!hostport_valid(val, listen)) {
            amk_free(val);
            return why_fail(why, AMK_EFORMAT, "invalid %s (host:port)", name);
        }
        if (listen && strchr(val, ':') == NULL) {
            /* sshd: a bare port listens on any address. */
            size_t n = strlen(val) + 3;
            char *full = amk_malloc(n);
            if (full == NULL) {
                amk_free(val);
                return AMK_ENOMEM;
            }
            snprintf(full, n, "*:%s", val);
            amk_free(val);
            val = full;
        }
        r = list_add(listen ? &o->permitlisten : &o->permitopen, val);
        return r == AMK_ELIMIT ? why_fail(why, AMK_EFORMAT, "too many %s options", name) : r;
    }
    amk_free(val);
    return why_fail(why, AMK_EFORMAT, "unknown option %s", name);
}

int
amk_ak_parse_options(const char *s, size_t len, struct amk_authorized_key_opts *o, char *why)
{
    char name[32];
    char *val;
    size_t i = 0, n;
    int r;

    why[0] = '\0';
    while (i < len) {
        for (n = 0; i < len && s[i] != '=' && s[i] != ','; i++, n++) {
            if (n + 1 >= sizeof(name) || (unsigned char)s[i] <= ' ' || s[i] == '"')
                return why_fail(why, AMK_EFORMAT, "%s", "bad option name");
            name[n] = lower(s[i]);
        }
        name[n] = '\0';
        if (n == 0)
            return why_fail(why, AMK_EFORMAT, "%s", "empty option");
        val = NULL;
        if (i < len && s[i] == '=') {
            i++;
            if ((r = read_quoted(s, len, &i, &val)) != AMK_OK) {
                if (r == AMK_ENOMEM)
                    return r;
                return why_fail(why, AMK_EFORMAT, "option %s: bad quoted value", name);
            }
        }
        if ((r = apply_option(o, name, val, why)) != AMK_OK)
            return r;
        if (i < len) {
            if (s[i] != ',')
                return why_fail(why, AMK_EFORMAT, "option %s: junk after the value", name);
            i++;
            if (i == len)
                return why_fail(why, AMK_EFORMAT, "%s", "trailing comma in options");
        }
    }
    return AMK_OK;
}

/* ---- expiry-time ---------------------------------------------------- */

static int
digits(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int
amk_ak_parse_time(const char *s, size_t len, int64_t *out)
{
    struct tm tm;
    time_t t;
    int utc = 0;

    *out = 0;
    if (len > 0 && (s[len - 1] == 'Z' || s[len - 1] == 'z')) {
        utc = 1;
        len--;
    }
    if (len != 8 && len != 12 && len != 14)
        return AMK_EFORMAT;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return AMK_EFORMAT;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_mon = digits(s + 4, 2) - 1;
    tm.tm_mday = digits(s + 6, 2);
    if (len >= 12) {
        tm.tm_hour = digits(s + 8, 2);
        tm.tm_min = digits(s + 10, 2);
    }
    if (len == 14)
        tm.tm_sec = digits(s + 12, 2);
    if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return AMK_EFORMAT;
    /* sshd(8): "the time is interpreted as local time unless it ends
     * with Z, in which case it is interpreted as UTC". */
    tm.tm_isdst = -1;
    t = utc ? timegm(&tm) : mktime(&tm);
    if (t == (time_t)-1 || t <= 0)
        return AMK_EFORMAT;
    *out = (int64_t)t;
    return AMK_OK;
}

/* ---- from= ---------------------------------------------------------- */

/* Parses "addr/bits" into family, bytes and prefix length. */
static int
cidr_parse(const char *p, size_t len, int *family, uint8_t addr[16], unsigned *bits)
{
    char tmp[64];
    const char *slash = memchr(p, '/', len);
    size_t alen;
    unsigned v = 0;

    if (slash == NULL || (alen = (size_t)(slash - p)) == 0 || alen >= sizeof(tmp))
        return 0;
    memcpy(tmp, p, alen);
    tmp[alen] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, tmp, addr) == 1)
        *family = AF_INET6;
    else
        return 0;
    if (slash + 1 == p + len || (size_t)(p + len - slash - 1) > 3)
        return 0;
    for (const char *q = slash + 1; q < p + len; q++) {
        if (!is_digit(*q))
            return 0;
        v = v * 10 + (unsigned)(*q - '0');
    }
    if (v > (*family == AF_INET ? 32u : 128u))
        return 0;
    *bits = v;
    return 1;
}

static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    size_t full = bits / 8;
    unsigned rest = bits % 8;

    if (memcmp(a, b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int
amk_ak_from_valid(const char *patterns)
{
    const char *p = patterns, *end;
    int family;
    uint8_t addr[16];
    unsigned bits;

    if (*p == '\0')
        return 0;
    for (;;) {
        end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        if (*p == '!')
            p++;
        if (end == p || (size_t)(end - p) > AMK_HOST_PATTERN_MAX)
            return 0;
        if (memchr(p, '/', (size_t)(end - p)) != NULL &&
            !cidr_parse(p, (size_t)(end - p), &family, addr, &bits))
            return 0;
        if (*end == '\0')
            return 1;
        p = end + 1;
    }
}

int
amk_ak_from_match(const char *patterns, const char *ip, const char *host)
{
    char pat[AMK_HOST_PATTERN_MAX + 1], ipbuf[INET6_ADDRSTRLEN], hostl[AMK_HOST_NAME_MAX];
    uint8_t client[16], net[16];
    int cfamily = 0, family, negated, positive = 0, hit;
    unsigned bits;
    const char *p = patterns, *end;
    size_t n;

    if (!amk_ak_from_valid(patterns))
        return -1;
    if (ip == NULL)
        return 0;
    if (inet_pton(AF_INET, ip, client) == 1) {
        cfamily = AF_INET;
    } else if (inet_pton(AF_INET6, ip, client) == 1) {
        cfamily = AF_INET6;
        /* An IPv4 client on a dual-stack socket: ::ffff:a.b.c.d. */
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(client, mapped, sizeof(mapped)) == 0) {
            memmove(client, client + 12, 4);
            cfamily = AF_INET;
            if (inet_ntop(AF_INET, client, ipbuf, sizeof(ipbuf)) != NULL)
                ip = ipbuf;
        }
    }
    hostl[0] = '\0';
    if (host != NULL && strlen(host) < sizeof(hostl)) {
        for (n = 0; host[n] != '\0'; n++)
            hostl[n] = lower(host[n]);
        hostl[n] = '\0';
    }
    for (;;) {
        end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        negated = *p == '!';
        if (negated)
            p++;
        n = (size_t)(end - p);
        if (memchr(p, '/', n) != NULL) {
            hit = cidr_parse(p, n, &family, net, &bits) && family == cfamily &&
                prefix_equal(client, net, bits);
        } else {
            for (size_t i = 0; i < n; i++)
                pat[i] = lower(p[i]);
            pat[n] = '\0';
            hit = amk_wildcard_match(pat, ip) ||
                (hostl[0] != '\0' && amk_wildcard_match(pat, hostl));
        }
        if (hit) {
            /* sshd: a matching negated pattern refuses whatever else matched. */
            if (negated)
                return 0;
            positive = 1;
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return positive;
}

/* ---- lines and files ------------------------------------------------ */

/*
 * A key type amiko does not know (security keys "sk-...@openssh.com",
 * future types) rather than options: no '=' or '"', and a known prefix.
 */
static int
looks_like_key_type(const char *p, size_t len)
{
    static const char *const prefixes[] = { "ssh-", "ecdsa-", "sk-", "rsa-" };

    if (memchr(p, '=', len) != NULL || memchr(p, '"', len) != NULL ||
        memchr(p, ',', len) != NULL)
        return 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (len > n && strncmp(p, prefixes[i], n) == 0)
            return 1;
    }
    return 0;
}

int
amk_ak_parse_line(const char *line, size_t len, struct amk_ak_entry *e, char *why)
{
    size_t i = 0, tok_end, klen;
    int inq = 0, r;

    why[0] = '\0';
    memset(e, 0, sizeof(*e));
    amk_ak_opts_init(&e->opts);
    while (len > 0 && (line[len - 1] == '\r' || is_blank(line[len - 1])))
        len--;
    while (i < len && is_blank(line[i]))
        i++;
    if (i == len || line[i] == '#')
        return AMK_ENOENT;
    if (memchr(line, '\0', len) != NULL)
        return why_fail(why, AMK_EFORMAT, "%s", "NUL byte in the line");
    /* The first field ends at a blank outside quotes. */
    for (tok_end = i; tok_end < len && (inq || !is_blank(line[tok_end])); tok_end++) {
        if (line[tok_end] == '\\' && inq && tok_end + 1 < len && line[tok_end + 1] == '"')
            tok_end++;
        else if (line[tok_end] == '"')
            inq = !inq;
    }
    if (inq)
        return why_fail(why, AMK_EFORMAT, "%s", "unterminated quote in options");
    klen = tok_end - i;
    if (amk_key_info_by_name(line + i, klen) == NULL) {
        if (klen > strlen(CERT_SUFFIX) &&
            memcmp(line + tok_end - strlen(CERT_SUFFIX), CERT_SUFFIX, strlen(CERT_SUFFIX)) == 0)
            return why_fail(why, AMK_ENOTSUP, "%s", "certificate keys are not supported");
        if (looks_like_key_type(line + i, klen))
            return why_fail(why, AMK_ENOTSUP, "unsupported key type %.*s",
                (int)(klen < 64 ? klen : 64), line + i);
        /* Not a key type: the options field. */
        if ((r = amk_ak_parse_options(line + i, klen, &e->opts, why)) != AMK_OK) {
            amk_ak_opts_release(&e->opts);
            return r;
        }
        for (i = tok_end; i < len && is_blank(line[i]); i++)
            ;
        if (i == len) {
            amk_ak_opts_release(&e->opts);
            return why_fail(why, AMK_EFORMAT, "%s", "options but no key");
        }
    }
    if ((r = amk_key_parse_public_line(line + i, len - i, &e->key)) != AMK_OK) {
        amk_ak_opts_release(&e->opts);
        /* Out of memory or a failing crypto backend is not a bad line. */
        if (r == AMK_ENOMEM || r == AMK_ECRYPTO)
            return r;
        return why_fail(why, r == AMK_ENOTSUP ? AMK_ENOTSUP : AMK_EFORMAT, "bad key (%s)",
            amk_errname(r));
    }
    return AMK_OK;
}

static void
add_bad(struct amk_authorized_keys *ak, size_t line, const char *why)
{
    if (ak->n_bad < AMK_AK_MAX_BAD_KEPT) {
        ak->bad[ak->n_bad].line = line;
        snprintf(ak->bad[ak->n_bad].reason, sizeof(ak->bad[ak->n_bad].reason), "%s", why);
    }
    ak->n_bad++;
}

static int
add_entry(struct amk_authorized_keys *ak, struct amk_ak_entry *e)
{
    if (ak->n == ak->cap) {
        size_t cap = ak->cap == 0 ? 8 : ak->cap * 2;
        struct amk_ak_entry *v = amk_realloc(ak->entries, cap * sizeof(*v));
        if (v == NULL)
            return AMK_ENOMEM;
        ak->entries = v;
        ak->cap = cap;
    }
    ak->entries[ak->n++] = *e;
    return AMK_OK;
}

AMK_API int
amk_authorized_keys_load(const void *data, size_t len, struct amk_authorized_keys **out)
{
    struct amk_authorized_keys *ak = NULL;
    struct amk_ak_entry e;
    char why[AMK_AK_REASON_MAX];
    const char *p = data, *nl;
    size_t lineno = 0, llen;
    int r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    if (len > AMK_AUTHORIZED_KEYS_MAX_FILE)
        return AMK_ETOOBIG;
    if ((ak = amk_calloc(1, sizeof(*ak))) == NULL)
        return AMK_ENOMEM;
    while (len > 0) {
        lineno++;
        nl = memchr(p, '\n', len);
        llen = nl != NULL ? (size_t)(nl - p) : len;
        if (llen > AMK_AUTHORIZED_KEYS_MAX_LINE) {
            add_bad(ak, lineno, "line too long");
        } else {
            r = amk_ak_parse_line(p, llen, &e, why);
            if (r == AMK_OK) {
                e.opts.line = lineno;
                if ((r = add_entry(ak, &e)) != AMK_OK) {
                    amk_key_free(e.key);
                    amk_ak_opts_release(&e.opts);
                    goto out;
                }
            } else if (r == AMK_ENOMEM || r == AMK_ECRYPTO) {
                goto out;
            } else if (r != AMK_ENOENT) {
                add_bad(ak, lineno, why);
            }
        }
        if (nl == NULL)
            break;
        len -= llen + 1;
        p = nl + 1;
    }
    *out = ak;
    ak = NULL;
    r = AMK_OK;
out:
    amk_authorized_keys_free(ak);
    return r;
}

AMK_API int
amk_authorized_keys_load_file(const char *path, struct amk_authorized_keys **out)
{
    char chunk[FILE_CHUNK];
    struct amk_buf text;
    FILE *f = NULL;
    size_t n;
    int r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return AMK_EINVAL;
    amk_buf_init(&text);
    if ((f = fopen(path, "rbe")) == NULL) {
        r = AMK_EIO;
        goto out;
    }
    do {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (amk_buf_len(&text) + n > AMK_AUTHORIZED_KEYS_MAX_FILE) {
            r = AMK_ETOOBIG;
            goto out;
        }
        if (n > 0 && (r = amk_buf_put(&text, chunk, n)) != AMK_OK)
            goto out;
    } while (n == sizeof(chunk));
    if (ferror(f)) {
        r = AMK_EIO;
        goto out;
    }
    r = amk_authorized_keys_load(amk_buf_ptr(&text), amk_buf_len(&text), out);
out:
    if (f != NULL)
        fclose(f);
    amk_buf_release(&text);
    return r;
}

AMK_API void
amk_authorized_keys_free(struct amk_authorized_keys *ak)
{
    if (ak == NULL)
        return;
    for (size_t i = 0; i < ak->n; i++) {
        amk_key_free(ak->entries[i].key);
        amk_ak_opts_release(&ak->entries[i].opts);
    }
    amk_free(ak->entries);
    amk_free(ak);
}

AMK_API size_t
amk_authorized_keys_count(const struct amk_authorized_keys *ak)
{
    return ak != NULL ? ak->n : 0;
}

AMK_API size_t
amk_authorized_keys_bad_count(const struct amk_authorized_keys *ak)
{
    return ak != NULL ? ak->n_bad : 0;
}

AMK_API int
amk_authorized_keys_bad_line(const struct amk_authorized_keys *ak, size_t i, size_t *line_no,
    const char **reason)
{
    if (ak == NULL || i >= ak->n_bad || i >= AMK_AK_MAX_BAD_KEPT)
        return AMK_EINVAL;
    if (line_no != NULL)
        *line_no = ak->bad[i].line;
    if (reason != NULL)
        *reason = ak->bad[i].reason;
    return AMK_OK;
}

AMK_API int
amk_authorized_keys_check(struct amk_authorized_keys *ak, const struct amk_key *key,
    const char *client_ip, const char *client_host, int64_t now,
    const struct amk_authorized_key_opts **opts)
{
    int found = 0;

    if (opts != NULL)
        *opts = NULL;
    if (ak == NULL || key == NULL)
        return AMK_EINVAL;
    amk_error_clear(&ak->detail);
    for (size_t i = 0; i < ak->n; i++) {
        const struct amk_ak_entry *e = &ak->entries[i];
        /* A CA key signs certificates; a plain key never matches it. */
        if (e->opts.cert_authority || !amk_key_equal_public(e->key, key))
            continue;
        found = 1;
        if (e->opts.from != NULL &&
            amk_ak_from_match(e->opts.from, client_ip, client_host) != 1) {
            amk_error_set(&ak->detail, AMK_EAUTH, "line %zu: from= does not allow %s",
                e->opts.line, client_ip != NULL ? client_ip : "an unknown address");
            continue;
        }
        if (e->opts.expiry != 0 && now >= e->opts.expiry) {
            amk_error_set(&ak->detail, AMK_EAUTH, "line %zu: key expired", e->opts.line);
            continue;
        }
        amk_error_clear(&ak->detail);
        if (opts != NULL)
            *opts = &e->opts;
        return AMK_OK;
    }
    if (!found)
        amk_error_set(&ak->detail, AMK_EAUTH, "key not listed");
    return AMK_EAUTH;
}

AMK_API const char *
amk_authorized_keys_last_error(const struct amk_authorized_keys *ak)
{
    return ak != NULL ? amk_error_msg(&ak->detail) : "";
}

/* ---- option accessors ----------------------------------------------- */

AMK_API size_t
amk_authorized_key_opts_line(const struct amk_authorized_key_opts *o)
{
    return o->line;
}

AMK_API int
amk_authorized_key_opts_permits(const struct amk_authorized_key_opts *o,
    enum amk_authorized_key_permit what)
{
    switch (what) {
    case AMK_AK_PERMIT_PTY:
        return o->permit_pty;
    case AMK_AK_PERMIT_PORT_FORWARDING:
        return o->permit_port_forwarding;
    case AMK_AK_PERMIT_AGENT_FORWARDING:
        return o->permit_agent_forwarding;
    case AMK_AK_PERMIT_X11_FORWARDING:
        return o->permit_x11_forwarding;
    case AMK_AK_PERMIT_USER_RC:
        return o->permit_user_rc;
    }
    return 0;
}

AMK_API const char *
amk_authorized_key_opts_command(const struct amk_authorized_key_opts *o)
{
    return o->command;
}

AMK_API size_t
amk_authorized_key_opts_env_count(const struct amk_authorized_key_opts *o)
{
    return o->env.n;
}

AMK_API const char *
amk_authorized_key_opts_env(const struct amk_authorized_key_opts *o, size_t i)
{
    return i < o->env.n ? o->env.v[i] : NULL;
}

AMK_API size_t
amk_authorized_key_opts_permitopen_count(const struct amk_authorized_key_opts *o)
{
    return o->permitopen.n;
}

AMK_API const char *
amk_authorized_key_opts_permitopen(const struct amk_authorized_key_opts *o, size_t i)
{
    return i < o->permitopen.n ? o->permitopen.v[i] : NULL;
}

AMK_API size_t
amk_authorized_key_opts_permitlisten_count(const struct amk_authorized_key_opts *o)
{
    return o->permitlisten.n;
}

AMK_API const char *
amk_authorized_key_opts_permitlisten(const struct amk_authorized_key_opts *o, size_t i)
{
    return i < o->permitlisten.n ? o->permitlisten.v[i] : NULL;
}

AMK_API const char *
amk_authorized_key_opts_principals(const struct amk_authorized_key_opts *o)
{
    return o->principals;
}

AMK_API const char *
amk_authorized_key_opts_from(const struct amk_authorized_key_opts *o)
{
    return o->from;
}

AMK_API const char *
amk_authorized_key_opts_tunnel(const struct amk_authorized_key_opts *o)
{
    return o->tunnel;
}

AMK_API int64_t
amk_authorized_key_opts_expiry(const struct amk_authorized_key_opts *o)
{
    return o->expiry;
}

AMK_API int
amk_authorized_key_opts_cert_authority(const struct amk_authorized_key_opts *o)
{
    return o->cert_authority;
}

AMK_API int
amk_authorized_key_opts_restricted(const struct amk_authorized_key_opts *o)
{
    return o->restricted;
}

static int
dup_str(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return AMK_OK;
    return (*out = amk_strdup(s)) != NULL ? AMK_OK : AMK_ENOMEM;
}

static int
dup_list(const struct amk_ak_list *from, struct amk_ak_list *to)
{
    char *s;
    int r;

    to->v = NULL;
    to->n = 0;
    for (size_t i = 0; i < from->n; i++) {
        if ((s = amk_strdup(from->v[i])) == NULL)
            return AMK_ENOMEM;
        if ((r = list_add(to, s)) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

AMK_API int
amk_authorized_key_opts_dup(const struct amk_authorized_key_opts *o,
    struct amk_authorized_key_opts **out)
{
    struct amk_authorized_key_opts *c = NULL;
    int r = AMK_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (o == NULL || out == NULL)
        return AMK_EINVAL;
    if ((c = amk_calloc(1, sizeof(*c))) == NULL)
        return AMK_ENOMEM;
    *c = *o;
    c->command = c->from = c->principals = c->tunnel = NULL;
    memset(&c->env, 0, sizeof(c->env));
    memset(&c->permitopen, 0, sizeof(c->permitopen));
    memset(&c->permitlisten, 0, sizeof(c->permitlisten));
    if ((r = dup_str(o->command, &c->command)) != AMK_OK ||
        (r = dup_str(o->from, &c->from)) != AMK_OK ||
        (r = dup_str(o->principals, &c->principals)) != AMK_OK ||
        (r = dup_str(o->tunnel, &c->tunnel)) != AMK_OK ||
        (r = dup_list(&o->env, &c->env)) != AMK_OK ||
        (r = dup_list(&o->permitopen, &c->permitopen)) != AMK_OK ||
        (r = dup_list(&o->permitlisten, &c->permitlisten)) != AMK_OK)
        goto out;
    *out = c;
    c = NULL;
    r = AMK_OK;
out:
    amk_authorized_key_opts_free(c);
    return r;
}

AMK_API void
amk_authorized_key_opts_free(struct amk_authorized_key_opts *o)
{
    if (o == NULL)
        return;
    amk_ak_opts_release(o);
    amk_free(o);
}
