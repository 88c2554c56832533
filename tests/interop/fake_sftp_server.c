/* A scripted SFTP server behind amiko's SSH server. See fake_sftp_server.h. */
#include "fake_sftp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amiko.h>

#include "sftp/sftp_codec.h"
#include "util/buf.h"

#define MAX_HANDLES 32
#define MAX_PACKET (256 * 1024)
#define ROOT (-2)                   /* lookup(): "/" */
#define NOT_FOUND (-1)
#define FILE_TIME 946684800u        /* 2000-01-01 */
#define START_WAIT_MS 10000

static const struct fake_sftp_entry *fs;
static size_t fs_n;

/* What one subsystem channel has going. */
struct conv {
    struct amk_buf *in;             /* bytes not yet a whole packet */
    struct amk_buf *out;
    struct {
        int used, entry, listed;
    } handles[MAX_HANDLES];
};

/* The entry at @p path ("/dir/name", trailing slashes ignored). */
static int
lookup(const uint8_t *p, size_t len)
{
    while (len > 1 && p[len - 1] == '/')
        len--;
    if (len == 1 && p[0] == '/')
        return ROOT;
    for (size_t i = 0; i < fs_n; i++) {
        size_t dl = strlen(fs[i].dir), nl = strlen(fs[i].name);
        int slash = !(dl > 0 && fs[i].dir[dl - 1] == '/');
        if (len == dl + (size_t)slash + nl && memcmp(p, fs[i].dir, dl) == 0 &&
            (!slash || p[dl] == '/') && memcmp(p + dl + slash, fs[i].name, nl) == 0)
            return (int)i;
    }
    return NOT_FOUND;
}

static int
is_dir(int e)
{
    return e == ROOT || fs[e].is_dir;
}

static void
attrs_of(int e, struct amk_sftp_attrs *a)
{
    memset(a, 0, sizeof(*a));
    a->flags = AMK_SFTP_ATTR_SIZE | AMK_SFTP_ATTR_PERMISSIONS | AMK_SFTP_ATTR_ACMODTIME;
    a->size = is_dir(e) ? 4096 : strlen(fs[e].data);
    a->permissions = is_dir(e) ? S_IFDIR | 0755 : S_IFREG | 0644;
    a->atime = a->mtime = FILE_TIME;
}

static int
add_name(struct amk_buf *out, const char *name, int e)
{
    struct amk_sftp_attrs a;
    char longname[512];

    attrs_of(e, &a);
    snprintf(longname, sizeof(longname), "%s    1 0        0        %8llu Jan  1  2000 %s",
        is_dir(e) ? "drwxr-xr-x" : "-rw-r--r--", (unsigned long long)a.size, name);
    return amk_sftp_enc_name_add(out, name, longname, &a);
}

/* READDIR's one NAME: ".", "..", then the entries of directory @p e. */
static int
listing(struct amk_buf *out, uint32_t id, int e)
{
    char dir[1024];
    size_t st, count = 2;
    int r;

    if (e == ROOT)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%s%s%s", fs[e].dir,
            fs[e].dir[strlen(fs[e].dir) - 1] == '/' ? "" : "/", fs[e].name);
    if ((r = amk_sftp_enc_name_begin(out, id, &st)) != AMK_OK)
        return r;
    if ((r = add_name(out, ".", e)) == AMK_OK)
        r = add_name(out, "..", ROOT);
    for (size_t i = 0; r == AMK_OK && i < fs_n; i++) {
        if (strcmp(fs[i].dir, dir) != 0)
            continue;
        r = add_name(out, fs[i].name, (int)i);
        count++;
    }
    if (r == AMK_OK)
        r = amk_sftp_enc_name_end(out, st, (uint32_t)count);
    if (r != AMK_OK)
        amk_sftp_enc_abort(out, st);
    return r;
}

static int
new_handle(struct conv *cv, int e)
{
    for (int h = 0; h < MAX_HANDLES; h++) {
        if (!cv->handles[h].used) {
            cv->handles[h].used = 1;
            cv->handles[h].entry = e;
            cv->handles[h].listed = 0;
            return h;
        }
    }
    return -1;
}

/* The open handle a request names, or -1. */
static int
handle_of(const struct conv *cv, const struct amk_sftp_request *q)
{
    uint8_t h;

    if (q->handle_len != 1 || (h = q->handle[0]) >= MAX_HANDLES || !cv->handles[h].used)
        return -1;
    return h;
}

static int
reply_handle(struct conv *cv, uint32_t id, int e)
{
    int h = new_handle(cv, e);
    uint8_t hb;

    if (h < 0)
        return amk_sftp_enc_status(cv->out, id, AMK_SSH_FX_FAILURE, "too many handles");
    hb = (uint8_t)h;
    return amk_sftp_enc_handle_reply(cv->out, id, &hb, 1);
}

static int
reply_read(struct conv *cv, const struct amk_sftp_request *q, int e)
{
    size_t len = strlen(fs[e].data), n, start;
    uint8_t *p;
    int r;

    if (q->offset >= len)
        return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_EOF, "EOF");
    n = len - (size_t)q->offset < q->len ? len - (size_t)q->offset : q->len;
    if ((r = amk_sftp_enc_data_begin(cv->out, q->id, n, &p, &start)) != AMK_OK)
        return r;
    memcpy(p, fs[e].data + q->offset, n);
    return amk_sftp_enc_data_end(cv->out, start, n, n);
}

static int
reply_realpath(struct conv *cv, const struct amk_sftp_request *q)
{
    struct amk_sftp_attrs none;
    char path[1024];
    size_t st;
    int r;

    memset(&none, 0, sizeof(none));
    if (q->path_len == 0 || (q->path_len == 1 && q->path[0] == '.'))
        snprintf(path, sizeof(path), "/");
    else
        snprintf(path, sizeof(path), "%s%.*s", q->path[0] == '/' ? "" : "/",
            (int)q->path_len, (const char *)q->path);
    if ((r = amk_sftp_enc_name_begin(cv->out, q->id, &st)) == AMK_OK &&
        (r = amk_sftp_enc_name_add(cv->out, path, path, &none)) == AMK_OK)
        r = amk_sftp_enc_name_end(cv->out, st, 1);
    if (r != AMK_OK)
        amk_sftp_enc_abort(cv->out, st);
    return r;
}

/* Answers one request. */
static int
answer(struct conv *cv, const struct amk_sftp_request *q)
{
    struct amk_sftp_attrs a;
    int e = NOT_FOUND, h;

    if (q->path != NULL)
        e = lookup(q->path, q->path_len);
    switch (q->type) {
    case AMK_SSH_FXP_INIT:
        return amk_sftp_enc_version(cv->out, NULL, NULL, 0);
    case AMK_SSH_FXP_REALPATH:
        return reply_realpath(cv, q);
    case AMK_SSH_FXP_STAT:
    case AMK_SSH_FXP_LSTAT:
    case AMK_SSH_FXP_OPENDIR:
    case AMK_SSH_FXP_OPEN:
        if (e == NOT_FOUND)
            return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_NO_SUCH_FILE,
                "No such file");
        if (q->type == AMK_SSH_FXP_OPENDIR || q->type == AMK_SSH_FXP_OPEN) {
            if ((q->type == AMK_SSH_FXP_OPENDIR) != is_dir(e))
                return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_FAILURE,
                    is_dir(e) ? "Is a directory" : "Not a directory");
            if (q->type == AMK_SSH_FXP_OPEN && q->pflags != AMK_SFTP_READ)
                return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_PERMISSION_DENIED,
                    "read-only");
            return reply_handle(cv, q->id, e);
        }
        attrs_of(e, &a);
        return amk_sftp_enc_attrs_reply(cv->out, q->id, &a);
    case AMK_SSH_FXP_FSTAT:
    case AMK_SSH_FXP_READ:
    case AMK_SSH_FXP_READDIR:
    case AMK_SSH_FXP_CLOSE:
    case AMK_SSH_FXP_FSETSTAT:
        if ((h = handle_of(cv, q)) < 0)
            return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_FAILURE, "bad handle");
        e = cv->handles[h].entry;
        if (q->type == AMK_SSH_FXP_CLOSE)
            cv->handles[h].used = 0;
        if (q->type == AMK_SSH_FXP_CLOSE || q->type == AMK_SSH_FXP_FSETSTAT)
            return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_OK, "Success");
        if (q->type == AMK_SSH_FXP_FSTAT) {
            attrs_of(e, &a);
            return amk_sftp_enc_attrs_reply(cv->out, q->id, &a);
        }
        if (q->type == AMK_SSH_FXP_READ)
            return reply_read(cv, q, e);
        if (cv->handles[h].listed)
            return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_EOF, "EOF");
        cv->handles[h].listed = 1;
        return listing(cv->out, q->id, e);
    case AMK_SSH_FXP_SETSTAT:
        return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_OK, "Success");
    case AMK_SSH_FXP_WRITE:
    case AMK_SSH_FXP_REMOVE:
    case AMK_SSH_FXP_MKDIR:
    case AMK_SSH_FXP_RMDIR:
    case AMK_SSH_FXP_RENAME:
    case AMK_SSH_FXP_SYMLINK:
        return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_PERMISSION_DENIED, "read-only");
    default:
        return amk_sftp_enc_status(cv->out, q->id, AMK_SSH_FX_OP_UNSUPPORTED, "unsupported");
    }
}

/* --- The SSH side (child process) ------------------------------------------ */

static int
accept_any_key(void *user, struct amk_server_conn *conn, const char *username,
    const struct amk_key *key)
{
    (void)user;
    (void)conn;
    (void)username;
    (void)key;
    return AMK_SERVER_AUTH_ACCEPT;
}

static int
on_session(void *user, struct amk_server_conn *conn, struct amk_server_channel *ch,
    const struct amk_server_request *req)
{
    (void)user;
    (void)conn;
    (void)ch;
    if (strcmp(req->type, "subsystem") == 0 && strcmp(req->subsystem, "sftp") == 0)
        return AMK_SERVER_SESSION_HANDLE;
    return AMK_SERVER_SESSION_REFUSE;
}

static void
on_data(void *user, struct amk_server_channel *ch, int stream, const uint8_t *data, size_t len)
{
    struct conv *cv = amk_server_channel_get_user(ch);
    uint32_t plen;

    (void)user;
    (void)stream;
    if (cv == NULL) {
        if ((cv = calloc(1, sizeof(*cv))) == NULL || (cv->in = amk_buf_new()) == NULL ||
            (cv->out = amk_buf_new()) == NULL)
            _exit(3);
        amk_server_channel_set_user(ch, cv);
    }
    if (len == 0) {
        (void)!amk_server_channel_exit(ch, 0);
        return;
    }
    if (amk_buf_put(cv->in, data, len) != AMK_OK)
        _exit(3);
    while (amk_buf_peek_u32(cv->in, 0, &plen) == AMK_OK && plen <= MAX_PACKET &&
        amk_buf_len(cv->in) >= 4 + (size_t)plen) {
        struct amk_sftp_request q;
        int r = amk_sftp_dec_request(amk_buf_ptr(cv->in) + 4, plen, &q);

        if (r == AMK_ENOTSUP)
            r = amk_sftp_enc_status(cv->out, q.id, AMK_SSH_FX_OP_UNSUPPORTED, "unsupported");
        else if (r == AMK_OK)
            r = answer(cv, &q);
        if (r != AMK_OK || amk_buf_consume(cv->in, 4 + (size_t)plen) != AMK_OK)
            _exit(3);
    }
    if (amk_buf_len(cv->in) >= 4 && plen > MAX_PACKET)
        _exit(3);
    if (amk_buf_len(cv->out) > 0) {
        if (amk_server_channel_write(ch, 0, amk_buf_ptr(cv->out), amk_buf_len(cv->out)) != AMK_OK)
            _exit(3);
        amk_buf_reset(cv->out);
    }
}

static void
on_close(void *user, struct amk_server_channel *ch)
{
    struct conv *cv = amk_server_channel_get_user(ch);

    (void)user;
    if (cv != NULL) {
        amk_buf_free(cv->in);
        amk_buf_free(cv->out);
        free(cv);
    }
}

/* The child: serves until killed; its port goes up @p fd first. */
static void
serve(struct amk_key *host_key, int fd)
{
    struct amk_server *srv = NULL;
    uint16_t port;

    if (amk_server_new(&srv) != AMK_OK || amk_server_add_host_key(srv, host_key) != AMK_OK ||
        amk_server_set_publickey_callback(srv, accept_any_key, NULL) != AMK_OK ||
        amk_server_set_session_callback(srv, on_session, NULL) != AMK_OK ||
        amk_server_set_channel_callbacks(srv, on_data, on_close, NULL) != AMK_OK ||
        amk_server_listen(srv, "127.0.0.1", 0) != AMK_OK || (port = amk_server_port(srv, 0)) == 0)
        _exit(2);
    if (write(fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
        _exit(2);
    close(fd);
    (void)!amk_server_run(srv);
    _exit(0);
}

int
fake_sftp_start(struct fake_sftp_server *s, const struct fake_sftp_entry *tree, size_t n,
    const char *known_hosts)
{
    struct amk_key *hk = NULL;
    char *line = NULL;
    int pipefd[2] = { -1, -1 }, rc = -1;
    FILE *f;

    s->pid = -1;
    s->port = 0;
    fs = tree;
    fs_n = n;
    if (amk_key_create(AMK_KEY_ED25519, 0, &hk) != AMK_OK || amk_key_public_line(hk, &line) != AMK_OK ||
        pipe(pipefd) != 0) {
        fprintf(stderr, "fake_sftp_start: key or pipe failed\n");
        goto out;
    }
    if ((s->pid = fork()) < 0)
        goto out;
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(pipefd[0]);
        serve(hk, pipefd[1]);
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    {
        struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
        if (poll(&p, 1, START_WAIT_MS) != 1 ||
            read(pipefd[0], &s->port, sizeof(s->port)) != (ssize_t)sizeof(s->port)) {
            fprintf(stderr, "fake_sftp_start: the server did not start\n");
            goto out;
        }
    }
    if ((f = fopen(known_hosts, "w")) == NULL)
        goto out;
    fprintf(f, "[127.0.0.1]:%u %s\n", (unsigned)s->port, line);
    rc = fclose(f) == 0 ? 0 : -1;
out:
    if (rc != 0)
        fake_sftp_stop(s);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    free(line);
    amk_key_free(hk);
    return rc;
}

void
fake_sftp_stop(struct fake_sftp_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    s->pid = -1;
}
