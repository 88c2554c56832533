/*
 * amiko keygen: ssh-keygen's key commands over the public key API.
 *
 *   amiko keygen [-q] [-t type] [-b bits] [-N passphrase] [-C comment]
 *                [-m format] [-f file]              generate file and file.pub
 *   amiko keygen -l [-v] [-E sha256|md5] -f file    fingerprint (and randomart)
 *   amiko keygen -y [-P passphrase] -f file         public key of a private key
 *   amiko keygen -e [-m RFC4716] -f file            export the public key (RFC 4716)
 *   amiko keygen -i [-m RFC4716] -f file            import an RFC 4716 public key
 *   amiko keygen -p [-P old] [-N new] [-m format] -f file   change the passphrase
 *   amiko keygen -F host | -H | -R host [-f known_hosts]    (keygen_hosts.c)
 *
 * -m also takes PPK (PuTTY .ppk v3), which ssh-keygen does not write.
 * A passphrase not given with -N/-P is asked for on the terminal.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"

#define SUB "keygen"
#define DEFAULT_RSA_BITS 3072u

enum keygen_mode { MODE_GENERATE, MODE_FINGERPRINT, MODE_PUBLIC, MODE_EXPORT, MODE_IMPORT,
    MODE_PASSPHRASE, MODE_FIND, MODE_HASH, MODE_REMOVE };

struct keygen_opts {
    enum keygen_mode mode;
    const char *type;            /* -t */
    const char *host;            /* -F, -R */
    unsigned bits;               /* -b, 0: the type's default */
    const char *file;            /* -f */
    const char *new_pass;        /* -N */
    const char *old_pass;        /* -P */
    const char *comment;         /* -C */
    const char *format;          /* -m */
    enum amk_key_fp_hash hash;   /* -E */
    int verbose;                 /* -v */
    int quiet;                   /* -q */
};

void
tool_keygen_usage(FILE *f)
{
    fprintf(f,
        "usage: amiko keygen [-q] [-t ed25519|ecdsa|rsa|dsa] [-b bits] [-N passphrase]\n"
        "                    [-C comment] [-m openssh|PEM|PKCS8|PPK] [-f file]\n"
        "       amiko keygen -l [-v] [-E sha256|md5] -f file\n"
        "       amiko keygen -y [-P passphrase] -f file\n"
        "       amiko keygen -e [-m RFC4716] -f file\n"
        "       amiko keygen -i [-m RFC4716] -f file\n"
        "       amiko keygen -p [-P old] [-N new] [-m openssh|PEM|PKCS8|PPK] -f file\n"
        "       amiko keygen -F host [-f known_hosts]\n"
        "       amiko keygen -H [-f known_hosts]\n"
        "       amiko keygen -R host [-f known_hosts]\n");
}

/* The passphrase callback: -P's value, or a prompt on the terminal. */
static int
ask_passphrase(void *user, char *buf, size_t cap)
{
    const struct keygen_opts *o = user;

    if (o->old_pass != NULL) {
        if (strlen(o->old_pass) >= cap)
            return AMK_EINVAL;
        memcpy(buf, o->old_pass, strlen(o->old_pass) + 1);
        return AMK_OK;
    }
    if (tool_read_passphrase("Enter passphrase: ", buf, cap) != 0)
        return AMK_EPASSPHRASE;
    return AMK_OK;
}

static int
load_key(const struct keygen_opts *o, const char *path, struct amk_key **k)
{
    int r = amk_key_load_file(path, ask_passphrase, (void *)(uintptr_t)o, k);

    if (r == AMK_EPASSPHRASE)
        tool_error(SUB, "%s: wrong or missing passphrase", path);
    else if (r != AMK_OK)
        tool_error(SUB, "%s: %s", path, amk_strerror(r));
    return r;
}

/* Maps -t and -b to a key type; fills in the default bits. */
static int
key_type(const struct keygen_opts *o, enum amk_key_type *type, unsigned *bits)
{
    const char *t = o->type != NULL ? o->type : "ed25519";

    *bits = o->bits;
    if (strcasecmp(t, "ed25519") == 0) {
        *type = AMK_KEY_ED25519;
    } else if (strcasecmp(t, "ecdsa") == 0) {
        switch (o->bits) {
        case 0: case 256: *type = AMK_KEY_ECDSA_P256; break;
        case 384: *type = AMK_KEY_ECDSA_P384; break;
        case 521: *type = AMK_KEY_ECDSA_P521; break;
        default:
            tool_error(SUB, "invalid ECDSA key length: use -b 256, 384 or 521");
            return -1;
        }
    } else if (strcasecmp(t, "rsa") == 0) {
        *type = AMK_KEY_RSA;
        if (*bits == 0)
            *bits = DEFAULT_RSA_BITS;
    } else if (strcasecmp(t, "dsa") == 0) {
        *type = AMK_KEY_DSA;
    } else {
        tool_error(SUB, "unknown key type '%s'", t);
        return -1;
    }
    return 0;
}

/* The private key format of -m; -1 for one this command cannot write. */
static int
private_format(const struct keygen_opts *o, enum amk_key_format *fmt)
{
    if (o->format == NULL || strcasecmp(o->format, "openssh") == 0)
        *fmt = AMK_KEY_FORMAT_OPENSSH;
    else if (strcasecmp(o->format, "PEM") == 0)
        *fmt = AMK_KEY_FORMAT_PEM;
    else if (strcasecmp(o->format, "PKCS8") == 0)
        *fmt = AMK_KEY_FORMAT_PKCS8;
    else if (strcasecmp(o->format, "PPK") == 0)
        *fmt = AMK_KEY_FORMAT_PPK;
    else {
        tool_error(SUB, "cannot write a private key as '%s' (openssh, PEM, PKCS8 or PPK)",
            o->format);
        return -1;
    }
    return 0;
}

/* "user@host", as ssh-keygen's default comment. */
static void
default_comment(char *buf, size_t cap)
{
    struct passwd *pw = getpwuid(getuid());
    char host[256];

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(buf, cap, "%s@%s", pw != NULL ? pw->pw_name : "user", host);
}

/* A new passphrase: -N, or asked twice on the terminal. Empty is allowed. */
static int
new_passphrase(const struct keygen_opts *o, char *buf, size_t cap)
{
    char again[AMK_KEY_PASSPHRASE_MAX];
    int r = -1;

    if (o->new_pass != NULL) {
        if (strlen(o->new_pass) >= cap) {
            tool_error(SUB, "passphrase too long");
            return -1;
        }
        memcpy(buf, o->new_pass, strlen(o->new_pass) + 1);
        return 0;
    }
    if (tool_read_passphrase("Enter passphrase (empty for no passphrase): ", buf, cap) != 0 ||
        tool_read_passphrase("Enter same passphrase again: ", again, sizeof(again)) != 0) {
        tool_error(SUB, "no terminal to ask for a passphrase: give it with -N");
        goto out;
    }
    if (strcmp(buf, again) != 0) {
        tool_error(SUB, "passphrases do not match");
        goto out;
    }
    r = 0;
out:
    memset(again, 0, sizeof(again));
    return r;
}

/* "<bits> <fingerprint> <comment> (<TYPE>)" and, with -v, the randomart. */
static int
print_fingerprint(const struct keygen_opts *o, const struct amk_key *k, FILE *f)
{
    char *fp = NULL, *art = NULL;
    const char *comment = amk_key_comment(k);
    int r;

    if ((r = amk_key_fingerprint(k, o->hash, &fp)) != AMK_OK ||
        (o->verbose && (r = amk_key_randomart(k, o->hash, &art)) != AMK_OK)) {
        tool_error(SUB, "fingerprint: %s", amk_strerror(r));
        free(fp);
        return TOOL_EXIT_FAIL;
    }
    fprintf(f, "%u %s %s (%s)\n", amk_key_bits(k), fp, comment[0] != '\0' ? comment : "no comment",
        amk_key_type_label(k));
    if (art != NULL)
        fprintf(f, "%s\n", art);
    free(fp);
    free(art);
    return TOOL_EXIT_OK;
}

static int
file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static int
do_generate(struct keygen_opts *o)
{
    enum amk_key_type type;
    enum amk_key_format fmt;
    struct amk_key *k = NULL;
    char pass[AMK_KEY_PASSPHRASE_MAX], comment[512], defpath[PATH_MAX], pubpath[PATH_MAX + 8];
    char *fp = NULL, *art = NULL;
    const char *path = o->file;
    unsigned bits;
    int r, status = TOOL_EXIT_FAIL;

    pass[0] = '\0';
    if (key_type(o, &type, &bits) != 0 || private_format(o, &fmt) != 0)
        return TOOL_EXIT_USAGE;
    if (path == NULL) {
        const char *home = getenv("HOME");
        const char *names[] = { "", "id_ed25519", "id_ecdsa", "id_ecdsa", "id_ecdsa", "id_rsa",
            "id_dsa" };
        if (home == NULL) {
            tool_error(SUB, "no -f file and no HOME");
            return TOOL_EXIT_USAGE;
        }
        snprintf(defpath, sizeof(defpath), "%s/.ssh", home);
        if (mkdir(defpath, 0700) != 0 && errno != EEXIST) {
            tool_error(SUB, "cannot create %s: %s", defpath, strerror(errno));
            return TOOL_EXIT_FAIL;
        }
        snprintf(defpath, sizeof(defpath), "%s/.ssh/%s", home, names[type]);
        path = defpath;
    }
    snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
    if (file_exists(path)) {
        char q[PATH_MAX + 64];
        snprintf(q, sizeof(q), "%s already exists.\nOverwrite (y/n)? ", path);
        if (!tool_confirm(q)) {
            tool_error(SUB, "%s already exists", path);
            return TOOL_EXIT_FAIL;
        }
    }
    if (!o->quiet)
        printf("Generating public/private %s key pair.\n", o->type != NULL ? o->type : "ed25519");
    if ((r = amk_key_create(type, bits, &k)) != AMK_OK) {
        tool_error(SUB, "cannot generate the key: %s", amk_strerror(r));
        goto out;
    }
    if (o->comment == NULL)
        default_comment(comment, sizeof(comment));
    if ((r = amk_key_set_comment(k, o->comment != NULL ? o->comment : comment)) != AMK_OK) {
        tool_error(SUB, "%s", amk_strerror(r));
        goto out;
    }
    if (new_passphrase(o, pass, sizeof(pass)) != 0)
        goto out;
    if ((r = amk_key_save_file_format(k, path, fmt, pass)) != AMK_OK) {
        tool_error(SUB, "saving %s: %s", path, amk_strerror(r));
        goto out;
    }
    if ((r = amk_key_save_public_file(k, pubpath)) != AMK_OK) {
        tool_error(SUB, "saving %s: %s", pubpath, amk_strerror(r));
        goto out;
    }
    if (!o->quiet) {
        if ((r = amk_key_fingerprint(k, o->hash, &fp)) != AMK_OK ||
            (r = amk_key_randomart(k, o->hash, &art)) != AMK_OK) {
            tool_error(SUB, "fingerprint: %s", amk_strerror(r));
            goto out;
        }
        printf("Your identification has been saved in %s\n", path);
        printf("Your public key has been saved in %s\n", pubpath);
        printf("The key fingerprint is:\n%s %s\n", fp, amk_key_comment(k));
        printf("The key's randomart image is:\n%s\n", art);
    }
    status = TOOL_EXIT_OK;
out:
    memset(pass, 0, sizeof(pass));
    free(fp);
    free(art);
    amk_key_free(k);
    return status;
}

static int
do_fingerprint(struct keygen_opts *o)
{
    char pubpath[PATH_MAX + 8];
    struct amk_key *k = NULL;
    int status;

    /* As ssh-keygen: a private key's .pub beside it saves asking for a
     * passphrase, and so does the public key in an OpenSSH key's header. */
    snprintf(pubpath, sizeof(pubpath), "%s.pub", o->file);
    if (amk_key_load_file(o->file, NULL, NULL, &k) != AMK_OK &&
        (!file_exists(pubpath) || amk_key_load_file(pubpath, NULL, NULL, &k) != AMK_OK) &&
        amk_key_load_public_file(o->file, &k) != AMK_OK &&
        load_key(o, o->file, &k) != AMK_OK)
        return TOOL_EXIT_FAIL;
    status = print_fingerprint(o, k, stdout);
    amk_key_free(k);
    return status;
}

static int
do_public(struct keygen_opts *o)
{
    struct amk_key *k = NULL;
    char *line = NULL;
    int r;

    if (load_key(o, o->file, &k) != AMK_OK)
        return TOOL_EXIT_FAIL;
    if ((r = amk_key_public_line(k, &line)) != AMK_OK) {
        tool_error(SUB, "%s", amk_strerror(r));
        amk_key_free(k);
        return TOOL_EXIT_FAIL;
    }
    printf("%s\n", line);
    free(line);
    amk_key_free(k);
    return TOOL_EXIT_OK;
}

static int
check_rfc4716(const struct keygen_opts *o)
{
    if (o->format != NULL && strcasecmp(o->format, "RFC4716") != 0) {
        tool_error(SUB, "only RFC4716 public keys can be exported or imported, not '%s'",
            o->format);
        return -1;
    }
    return 0;
}

static int
do_export(struct keygen_opts *o)
{
    struct amk_key *k = NULL;
    char comment[1024], user[512];
    char *text = NULL;
    int r, status = TOOL_EXIT_FAIL;

    if (check_rfc4716(o) != 0)
        return TOOL_EXIT_USAGE;
    if (load_key(o, o->file, &k) != AMK_OK)
        return TOOL_EXIT_FAIL;
    /* ssh-keygen -e: Comment: "<bits>-bit <TYPE>, converted by <user@host> from OpenSSH" */
    default_comment(user, sizeof(user));
    snprintf(comment, sizeof(comment), "%u-bit %s, converted by %s from OpenSSH",
        amk_key_bits(k), amk_key_type_label(k), user);
    if ((r = amk_key_set_comment(k, comment)) != AMK_OK ||
        (r = amk_key_public_rfc4716(k, &text)) != AMK_OK) {
        tool_error(SUB, "%s", amk_strerror(r));
        goto out;
    }
    fputs(text, stdout);
    status = TOOL_EXIT_OK;
out:
    free(text);
    amk_key_free(k);
    return status;
}

static int
do_import(struct keygen_opts *o)
{
    struct amk_key *k = NULL;
    char *line = NULL;
    int r, status = TOOL_EXIT_FAIL;

    if (check_rfc4716(o) != 0)
        return TOOL_EXIT_USAGE;
    if (load_key(o, o->file, &k) != AMK_OK)
        return TOOL_EXIT_FAIL;
    /* ssh-keygen -i prints "type base64", without the comment. */
    if ((r = amk_key_set_comment(k, NULL)) != AMK_OK ||
        (r = amk_key_public_line(k, &line)) != AMK_OK) {
        tool_error(SUB, "%s", amk_strerror(r));
        goto out;
    }
    printf("%s\n", line);
    status = TOOL_EXIT_OK;
out:
    free(line);
    amk_key_free(k);
    return status;
}

static int
do_passphrase(struct keygen_opts *o)
{
    enum amk_key_format fmt;
    struct amk_key *k = NULL;
    char pass[AMK_KEY_PASSPHRASE_MAX];
    int r, status = TOOL_EXIT_FAIL;

    pass[0] = '\0';
    if (private_format(o, &fmt) != 0)
        return TOOL_EXIT_USAGE;
    if (load_key(o, o->file, &k) != AMK_OK)
        return TOOL_EXIT_FAIL;
    if (!amk_key_has_private(k)) {
        tool_error(SUB, "%s holds no private key", o->file);
        goto out;
    }
    if (new_passphrase(o, pass, sizeof(pass)) != 0)
        goto out;
    if ((r = amk_key_save_file_format(k, o->file, fmt, pass)) != AMK_OK) {
        tool_error(SUB, "saving %s: %s", o->file, amk_strerror(r));
        goto out;
    }
    if (!o->quiet)
        printf("Your identification has been saved with the new passphrase.\n");
    status = TOOL_EXIT_OK;
out:
    memset(pass, 0, sizeof(pass));
    amk_key_free(k);
    return status;
}

static int
set_mode(struct keygen_opts *o, enum keygen_mode m)
{
    if (o->mode != MODE_GENERATE && o->mode != m) {
        tool_error(SUB, "-l, -y, -e, -i, -p, -F, -H and -R exclude each other");
        return -1;
    }
    o->mode = m;
    return 0;
}

int
tool_keygen(int argc, char **argv)
{
    struct keygen_opts o = { .mode = MODE_GENERATE, .hash = AMK_KEY_FP_SHA256 };
    char *end;
    unsigned long v;
    int c;

    optind = 1;
    while ((c = getopt(argc, argv, "t:b:f:N:P:C:m:E:lvyeipqF:HR:")) != -1) {
        switch (c) {
        case 't': o.type = optarg; break;
        case 'b':
            errno = 0;
            v = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || v == 0 || v > 65536) {
                tool_error(SUB, "bad key length '%s'", optarg);
                return TOOL_EXIT_USAGE;
            }
            o.bits = (unsigned)v;
            break;
        case 'f': o.file = optarg; break;
        case 'N': o.new_pass = optarg; break;
        case 'P': o.old_pass = optarg; break;
        case 'C': o.comment = optarg; break;
        case 'm': o.format = optarg; break;
        case 'E':
            if (strcasecmp(optarg, "sha256") == 0) {
                o.hash = AMK_KEY_FP_SHA256;
            } else if (strcasecmp(optarg, "md5") == 0) {
                o.hash = AMK_KEY_FP_MD5;
            } else {
                tool_error(SUB, "unknown fingerprint hash '%s' (sha256 or md5)", optarg);
                return TOOL_EXIT_USAGE;
            }
            break;
        case 'l': if (set_mode(&o, MODE_FINGERPRINT) != 0) return TOOL_EXIT_USAGE; break;
        case 'y': if (set_mode(&o, MODE_PUBLIC) != 0) return TOOL_EXIT_USAGE; break;
        case 'e': if (set_mode(&o, MODE_EXPORT) != 0) return TOOL_EXIT_USAGE; break;
        case 'i': if (set_mode(&o, MODE_IMPORT) != 0) return TOOL_EXIT_USAGE; break;
        case 'p': if (set_mode(&o, MODE_PASSPHRASE) != 0) return TOOL_EXIT_USAGE; break;
        case 'v': o.verbose = 1; break;
        case 'q': o.quiet = 1; break;
        case 'F':
            if (set_mode(&o, MODE_FIND) != 0)
                return TOOL_EXIT_USAGE;
            o.host = optarg;
            break;
        case 'H': if (set_mode(&o, MODE_HASH) != 0) return TOOL_EXIT_USAGE; break;
        case 'R':
            if (set_mode(&o, MODE_REMOVE) != 0)
                return TOOL_EXIT_USAGE;
            o.host = optarg;
            break;
        default:
            tool_keygen_usage(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        tool_keygen_usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    /* known_hosts commands default to ~/.ssh/known_hosts. */
    if (o.mode == MODE_FIND)
        return tool_keygen_find(o.host, o.file);
    if (o.mode == MODE_HASH)
        return tool_keygen_hash(o.file);
    if (o.mode == MODE_REMOVE)
        return tool_keygen_remove(o.host, o.file);
    if (o.mode != MODE_GENERATE && o.file == NULL) {
        tool_error(SUB, "this needs a key file: -f file");
        return TOOL_EXIT_USAGE;
    }
    switch (o.mode) {
    case MODE_GENERATE: return do_generate(&o);
    case MODE_FINGERPRINT: return do_fingerprint(&o);
    case MODE_PUBLIC: return do_public(&o);
    case MODE_EXPORT: return do_export(&o);
    case MODE_IMPORT: return do_import(&o);
    case MODE_PASSPHRASE: return do_passphrase(&o);
    case MODE_FIND: case MODE_HASH: case MODE_REMOVE: break;
    }
    return TOOL_EXIT_USAGE;
}
