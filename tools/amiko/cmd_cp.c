/*
 * amiko cp: copies files to or from a server over SFTP, with scp's
 * command line.
 *
 *   amiko cp [-P port] [-i identity] [-o Option=value]... [-r] [-p] [-q]
 *            [-v] [-B] [-l kbit/s] [--resume] [--inplace] source... target
 *
 * Either the target or every source is remote, written [user@]host:path
 * as scp does (a colon before any slash; [v6addr]:path for IPv6; an empty
 * path is the login directory). Several sources, or a target that is a
 * directory, copy into it under each source's own name; wildcards in
 * the last component of a remote source (* ? [...]) are matched against
 * its directory on the server, and a pattern that matches nothing is
 * taken as a name, as scp does ("file[1].txt"); a backslash there makes
 * the next character plain, as in scp's glob ('h:file\[1\].txt'). -r copies
 * directories with everything under them (symlinks kept as symlinks), -p
 * keeps modes and times, --resume goes on with partial copies left by an
 * interrupted run, --inplace writes final names directly (puts are
 * otherwise atomic: see amk_sftp_tree_put()). The connection options are
 * those of `amiko ssh` (tool_ssh.h). -l limits the rate to that many
 * Kbit/s, as scp's -l.
 *
 * A progress bar is drawn on stdout when it is a terminal, the process is
 * in its foreground and -q was not given, as scp does (xfer/progress.h). Exit status: 0, 1 when something was not copied (each failing
 * path is named with the server's message), 255 when connecting or
 * authenticating failed. A listed name with a '/' in a recursive copy is
 * left out with OpenSSH's "Server sent suspect path" message and does not
 * fail the copy, as scp (SFTP mode) does.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <amiko.h>

#include "tool.h"
#include "tool_ssh.h"
#include "xfer/paths.h"
#include "xfer/progress.h"

#define SUB "cp"
#define CP_EXIT_FAIL 1

/* One operand: local (host NULL) or remote. */
struct cp_operand {
    char *host;             /* "[user@]host" without IPv6 brackets, or NULL */
    const char *path;       /* the path ("." for an empty remote path) */
};

struct cp_run {
    struct amk_sftp *sftp;
    struct xfer_progress bar;
    int show;               /* draw the bar */
    int errors;
    unsigned limit_kbps;    /* -l: Kbit/s, 0 for none */
    uint64_t limit_start_ns;
};

void
amk_cmd_cp_usage(FILE *f)
{
    fprintf(f, "usage: amiko cp [-P port] [-i identity] [-o Option=value]... [-r] [-p] "
        "[-q] [-v] [-B]\n                [-l kbit/s] [--resume] [--inplace] source... target\n"
        "       either side [user@]host:path\n");
}

/*
 * scp's rule (OpenSSH misc.c colon()): an operand is remote when a colon
 * comes before any slash; "[host]:path" for IPv6; a leading colon is local.
 */
static int
parse_operand(const char *arg, struct cp_operand *op)
{
    const char *p = arg, *colon = NULL;
    size_t hl;

    memset(op, 0, sizeof(*op));
    op->path = arg;
    if (arg[0] == ':')
        return 0;
    for (int bracket = 0; *p != '\0'; p++) {
        if (*p == '@' && p[1] == '[')
            bracket = 1;
        else if (p == arg && *p == '[')
            bracket = 1;
        else if (*p == ']' && bracket)
            bracket = 0;
        else if (*p == ':' && !bracket) {
            colon = p;
            break;
        } else if (*p == '/' && !bracket) {
            return 0;
        }
    }
    if (colon == NULL)
        return 0;
    hl = (size_t)(colon - arg);
    if ((op->host = malloc(hl + 1)) == NULL)
        return -1;
    /* drop the brackets of [v6addr] */
    {
        size_t n = 0;
        for (size_t i = 0; i < hl; i++)
            if (arg[i] != '[' && arg[i] != ']')
                op->host[n++] = arg[i];
        op->host[n] = '\0';
    }
    op->path = colon[1] != '\0' ? colon + 1 : ".";
    return 0;
}

/*
 * A remote source with wildcards, expanded as scp does (xfer/paths.h),
 * with GLOB_NOCHECK as scp: a pattern that matches nothing is taken as
 * a name ("file[1].txt"), which the copy then finds or reports missing.
 * A listed name with '/' is left out with scp's message, and the other
 * matches copy (scp exits 0 then). 0, or -1 (after a message) when the
 * directory cannot be read.
 */
static int
expand_remote(struct amk_sftp *sftp, const char *path, struct xfer_paths *out)
{
    char err[512];
    int n = xfer_glob_remote(sftp, path, NULL, XFER_GLOB_NOCHECK | XFER_GLOB_SKIP_SUSPECT,
        "amiko " SUB ": ", out, err, sizeof(err));

    if (n > 0)
        return 0;
    tool_error(SUB, "%s", err[0] != '\0' ? err : "out of memory");
    return -1;
}

static int
on_progress(void *user, const struct amk_sftp_tree_progress *pr)
{
    struct cp_run *run = user;

    uint64_t now = xfer_now_ns();

    run->bar.total = pr->total;
    xfer_progress_update(&run->bar, pr->path, pr->done, now);
    if (run->limit_kbps > 0) {
        /* sleep until the bytes so far fit the limit */
        double want = (double)pr->done * 8.0 /
            ((double)run->limit_kbps * 1000.0);
        double have = (double)(now - run->limit_start_ns) / (double)XFER_NS_PER_S;
        if (want > have) {
            struct timespec ts;
            double d = want - have;
            ts.tv_sec = (time_t)d;
            ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
    }
    return AMK_OK;
}

static int
on_error(void *user, const char *path, int code, const char *message)
{
    struct cp_run *run = user;
    char line[XFER_MESSAGE_MAX];

    if (run->bar.drawn && write(run->bar.fd, "\n", 1) < 0)   /* end the bar's line */
        run->bar.drawn = 0;
    run->bar.drawn = 0;
    if (code == AMK_EBADNAME) {
        tool_error(SUB, "%s", message);     /* OpenSSH's words: skipped, as scp goes on */
        return AMK_OK;
    }
    tool_error(SUB, "%s", xfer_path_message(line, sizeof(line), path, message));
    run->errors++;
    return AMK_OK;
}

/* Copies one source; 0, or -1 after a message. */
static int
copy_one(struct cp_run *run, const char *src_arg, const char *dst, int get, unsigned flags)
{
    struct amk_sftp_tree_opts o;
    char *src = strdup(src_arg);
    int r;

    /* a remote directory is named "/dir/" in messages, as scp's glob marks it */
    if (src == NULL || (get && (flags & AMK_SFTP_TREE_RECURSIVE) &&
            xfer_mark_remote_dir(run->sftp, &src) != 0)) {
        free(src);
        tool_error(SUB, "%s: %s", src_arg, amk_strerror(AMK_ENOMEM));
        return -1;
    }

    amk_sftp_tree_opts_init(&o);
    o.flags = flags;
    o.progress = on_progress;
    o.progress_user = run;
    o.on_error = on_error;
    o.error_user = run;
    xfer_progress_init(&run->bar, run->show, STDOUT_FILENO, 0, xfer_now_ns());
    run->limit_start_ns = run->bar.start_ns;
    snprintf(run->bar.name, sizeof(run->bar.name), "%s", src);
    r = get ? amk_sftp_tree_get(run->sftp, src, dst, &o) :
        amk_sftp_tree_put(run->sftp, src, dst, &o);
    if (run->bar.enabled && (r == AMK_OK || run->bar.drawn))
        xfer_progress_finish(&run->bar, xfer_now_ns());
    /* the tree ends with AMK_EBADNAME when the first thing it skipped was a
     * suspect name: only those, and scp exits 0 */
    if (r == AMK_EBADNAME && run->errors == 0)
        r = AMK_OK;
    if (r != AMK_OK && run->errors == 0)
        tool_error(SUB, "%s: %s", src, amk_sftp_last_error(run->sftp)[0] != '\0' ?
            amk_sftp_last_error(run->sftp) : amk_strerror(r));
    free(src);
    return r == AMK_OK ? 0 : -1;
}

/* Whether the target is an existing directory (remote or local). */
static int
target_is_dir(struct amk_sftp *sftp, const char *path, int remote)
{
    struct amk_sftp_attrs a;
    struct stat st;

    if (remote)
        return amk_sftp_stat(sftp, path, &a) == AMK_OK &&
            (a.flags & AMK_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.permissions);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
is_flag(const char *a, const char *name)
{
    return strcmp(a, name) == 0;
}

int
amk_cmd_cp(int argc, char **argv)
{
    struct tool_ssh_opts so;
    struct cp_operand *ops = NULL;
    struct amk_client *c = NULL;
    struct cp_run run;
    struct xfer_paths srcs = { NULL, 0, 0 };
    const char *host = NULL;
    unsigned flags = 0;
    int quiet = 0, n_ops = 0, status = CP_EXIT_FAIL, get, into_dir, r, no_more_opts = 0;

    memset(&run, 0, sizeof(run));
    tool_ssh_opts_init(&so, SUB);
    signal(SIGPIPE, SIG_IGN);
    if ((ops = calloc((size_t)argc, sizeof(*ops))) == NULL)
        goto out;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (no_more_opts || a[0] != '-' || a[1] == '\0') {
            if (parse_operand(a, &ops[n_ops++]) != 0)
                goto out;
            continue;
        }
        if (is_flag(a, "--")) {
            no_more_opts = 1;
        } else if (is_flag(a, "--help")) {
            amk_cmd_cp_usage(stdout);
            status = 0;
            goto out;
        } else if (is_flag(a, "--resume")) {
            flags |= AMK_SFTP_TREE_RESUME;
        } else if (is_flag(a, "--inplace")) {
            flags |= AMK_SFTP_TREE_INPLACE;
        } else if (a[1] == '-') {
            tool_error(SUB, "unknown option %s", a);
            amk_cmd_cp_usage(stderr);
            goto out;
        } else {
            for (size_t k = 1; a[k] != '\0'; k++) {
                char f = a[k];
                const char *val;

                if (f == 'r' || f == 'p' || f == 'q' || f == 'v' || f == 'B') {
                    if (f == 'r')
                        flags |= AMK_SFTP_TREE_RECURSIVE;
                    else if (f == 'p')
                        flags |= AMK_SFTP_TREE_PRESERVE;
                    else if (f == 'q')
                        quiet = 1;
                    else if (f == 'v')
                        so.verbose++;
                    else
                        so.batch = 1;
                    continue;
                }
                if (f != 'P' && f != 'i' && f != 'o' && f != 'l') {
                    tool_error(SUB, "unknown option -%c", f);
                    amk_cmd_cp_usage(stderr);
                    goto out;
                }
                if (a[k + 1] != '\0')
                    val = a + k + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    tool_error(SUB, "option -%c needs a value", f);
                    goto out;
                }
                if (f == 'l') {
                    if (tool_ssh_number(val, 1u << 30, &run.limit_kbps) != 0) {
                        tool_error(SUB, "bad limit \"%s\"", val);
                        goto out;
                    }
                    break;
                }
                if ((f == 'P' && tool_ssh_set_port(&so, val) != 0) ||
                    (f == 'i' && tool_ssh_add_identity(&so, val) != 0) ||
                    (f == 'o' && tool_ssh_set_option(&so, val) != 0)) {
                    status = TOOL_SSH_EXIT_FAIL;
                    goto out;
                }
                break;
            }
        }
    }
    if (n_ops < 2) {
        amk_cmd_cp_usage(stderr);
        goto out;
    }
    get = ops[n_ops - 1].host == NULL;
    for (int i = 0; i < n_ops - 1; i++) {
        if ((ops[i].host != NULL) != get) {
            tool_error(SUB, get ? "copying between local paths is not supported: use cp" :
                "copying from a remote host to a remote host is not supported");
            goto out;
        }
        if (get && host != NULL && strcmp(host, ops[i].host) != 0) {
            tool_error(SUB, "all remote sources must be on one host");
            goto out;
        }
        if (get)
            host = ops[i].host;
    }
    if (!get)
        host = ops[n_ops - 1].host;
    if (tool_ssh_set_destination(&so, host) != 0)
        goto out;
    if (tool_ssh_connect(&so, &c) != AMK_OK) {
        status = TOOL_SSH_EXIT_FAIL;
        goto out;
    }
    if ((r = amk_sftp_new_client(&run.sftp, c)) != AMK_OK) {
        tool_error(SUB, "%s: cannot start sftp: %s", host, amk_client_last_error(c));
        status = TOOL_SSH_EXIT_FAIL;
        goto out;
    }
    /* scp's rule: the bar goes to stdout, and only to a terminal */
    run.show = !quiet && isatty(STDOUT_FILENO);
    status = 0;
    for (int i = 0; i < n_ops - 1; i++) {
        if (get ? expand_remote(run.sftp, ops[i].path, &srcs) != 0 :
            xfer_paths_add(&srcs, strdup(ops[i].path)) != 0)
            status = CP_EXIT_FAIL;
    }
    into_dir = target_is_dir(run.sftp, ops[n_ops - 1].path, !get);
    if (srcs.n > 1 && !into_dir) {
        tool_error(SUB, "%s: not a directory", ops[n_ops - 1].path);
        status = CP_EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < srcs.n; i++) {
        char *name = NULL, *dst = NULL;
        int failed;

        if (into_dir) {
            if ((name = xfer_base_name(srcs.v[i])) == NULL) {
                status = CP_EXIT_FAIL;
                break;
            }
            if (!xfer_name_ok(name)) {
                /* "dir/.." into t/ would write t/..: scp refuses such names too */
                tool_error(SUB, "%s: cannot copy into a directory under the name \"%s\"",
                    srcs.v[i], name);
                free(name);
                status = CP_EXIT_FAIL;
                continue;
            }
            if ((dst = xfer_join_path(ops[n_ops - 1].path, name)) == NULL) {
                free(name);
                status = CP_EXIT_FAIL;
                break;
            }
        }
        run.errors = 0;
        failed = copy_one(&run, srcs.v[i], dst != NULL ? dst : ops[n_ops - 1].path, get,
            flags) != 0;
        free(name);
        free(dst);
        if (failed)
            status = CP_EXIT_FAIL;
    }
out:
    amk_sftp_free(run.sftp);
    if (c != NULL && amk_client_close(c) != AMK_OK && so.verbose > 0)
        tool_error(SUB, "close: %s", amk_client_last_error(c));
    amk_client_free(c);
    for (int i = 0; i < n_ops; i++)
        free(ops[i].host);
    free(ops);
    xfer_paths_free(&srcs);
    tool_ssh_opts_free(&so);
    return status;
}
