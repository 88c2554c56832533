/*
 * Interop: OpenSSH's sftp `cp` (one copy-data request, length 0: to the
 * end) against `amiko serve` for files past the 64 MiB one request was
 * once capped at. The server copies in slices (AMK_SFTPS_COPY_SLICE) and
 * serves the other connections between them.
 *
 * - cp of an 80 MiB file: the copy equals the source (SHA-256).
 * - a second session served while a copy runs, and a connection that
 *   drops mid-copy: cp of an 8 TiB sparse file to /dev/null (reading its
 *   holes takes minutes), with the server's read count (/proc/PID/io
 *   rchar) showing the copy going: a second sftp session is served
 *   meanwhile, the copy goes on after it, stops once the copying client's
 *   ssh is killed (the connection drops), and the server still serves. No
 *   timing is assumed beyond "8 TiB is not copied within the test" (each
 *   wait is for an event, bounded).
 * - two copies on one connection (two sessions over an OpenSSH control
 *   master) take turns: both reach 64 MiB within 20 s (real zeros
 *   written: ~128 MiB of disk for a moment).
 * - the server runs with IdleTimeout=3: a copy is work the client asked
 *   for, so the copying connection, silent while it waits for the reply,
 *   outlives the idle timeout (the copy goes on past IDLE_WAIT_MS).
 */
#include "test_helper.h"

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file_util.h"
#include "io/wait.h"
#include "proc_util.h"
#include "serve_fixture.h"

#define RUN_MS 40000            /* one client run, generous for ASan on 2 loaded cores */
#define WAIT_MS 20000           /* for the copy to be seen going, or stopping */
#define MIB ((uint64_t)1024 * 1024)
#define BIG_SIZE (80 * MIB)
#define HUGE_SIZE ((off_t)8 << 40)   /* 8 TiB: minutes even at 25 GB/s */
/* Server reads that prove the 8 TiB copy is running: no other request of
 * these tests reads anywhere near this much. */
#define COPY_SEEN (256 * MIB)
/* Bytes each of two copies on one connection must reach (they take turns) */
#define TURNS_SEEN (64 * MIB)
#define IDLE_TIMEOUT "3"        /* seconds, the server's IdleTimeout */
#define IDLE_WAIT_MS 4500       /* longer than it: the copy outlives it */

static struct serve_fixture fx;
static char out_path[FIXTURE_PATH_MAX], work[FIXTURE_PATH_MAX];

static void
show_failure(const char *what)
{
    char *o = serve_slurp(out_path, NULL);

    fprintf(stderr, "%s\n--- sftp output ---\n%s\n", what, o);
    free(o);
    serve_fixture_dump_log(&fx, 3000);
}

/* The argv of `sftp -b FILE` holding @p batch (file @p name in the
 * fixture directory), with the ssh options @p first (may be NULL). */
static void
sftp_argv_opts(struct serve_argv *a, const char *name, const char *batch,
    const char *const *first)
{
    char bfile[FIXTURE_PATH_MAX];

    serve_fixture_path(&fx, name, bfile, sizeof(bfile));
    assert_int_equal(serve_write_file(bfile, batch, strlen(batch)), 0);
    serve_argv_client(a, &fx, SFTP_PATH, first);
    serve_argv_add(a, "-b");
    serve_argv_add(a, bfile);
    serve_argv_add(a, fx.dest);
}

static void
sftp_argv(struct serve_argv *a, const char *name, const char *batch)
{
    sftp_argv_opts(a, name, batch, NULL);
}

/* sftp -b @p batch; output to out_path; its exit status. */
static int
sftp_batch(const char *batch)
{
    struct serve_argv a;

    sftp_argv(&a, "batch", batch);
    return serve_run(&fx, a.v, NULL, out_path, out_path, NULL, RUN_MS);
}

/* Bytes the server process has read so far (rchar: files and sockets). */
static uint64_t
server_rchar(void)
{
    char path[64], *s, *p;
    unsigned long long v = 0;

    snprintf(path, sizeof(path), "/proc/%d/io", (int)fx.pid);
    s = proc_slurp(path, NULL);
    assert_non_null(s);
    p = strstr(s, "rchar: ");
    assert_non_null(p);
    assert_int_equal(sscanf(p + 7, "%llu", &v), 1);
    free(s);
    return (uint64_t)v;
}

/* 1 while @p pid has not exited (it is not reaped here). */
static int
running(pid_t pid)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

/* Kills @p pid's children (sftp's ssh: its connection drops) and @p pid,
 * and reaps it: killed, or ended by itself (255) on seeing its ssh die
 * first. */
static void
kill_client(pid_t pid)
{
    int st;

    char path[96], *s, *p, *end;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    s = proc_slurp(path, NULL);
    assert_non_null(s);
    for (p = s; *p != '\0'; p = end) {
        long c = strtol(p, &end, 10);

        if (end == p)
            break;
        assert_int_equal(kill((pid_t)c, SIGKILL), 0);
    }
    free(s);
    (void)kill(pid, SIGKILL);
    st = proc_wait(pid, RUN_MS);
    if (st != 128 + SIGKILL && st != 255)
        fail_msg("sftp %d ended with %d, not killed", (int)pid, st);
}

/* Waits until the server read @p bytes more than @p base; fails when
 * @p client (if > 0) ends first or after WAIT_MS. */
static void
wait_reads(uint64_t base, uint64_t bytes, pid_t client, const char *what)
{
    int64_t deadline = amk_io_deadline(WAIT_MS);

    while (server_rchar() - base < bytes) {
        if (client > 0 && !running(client)) {
            show_failure(what);
            fail_msg("%s: the copying sftp ended (exit %d)", what, proc_wait(client, 0));
        }
        if (amk_io_remaining_ms(deadline) == 0) {
            show_failure(what);
            fail_msg("%s: the server read only %llu bytes in %d ms", what,
                (unsigned long long)(server_rchar() - base), WAIT_MS);
        }
        usleep(10000);
    }
}

/* Waits until the server's reads stop (under 1 MiB in 200 ms). */
static void
wait_reads_stop(const char *what)
{
    int64_t deadline = amk_io_deadline(WAIT_MS);
    uint64_t a = server_rchar(), b;

    for (;;) {
        usleep(200000);
        b = server_rchar();
        if (b - a < MIB)
            return;
        if (amk_io_remaining_ms(deadline) == 0) {
            serve_fixture_dump_log(&fx, 3000);
            fail_msg("%s: the server still reads (%llu bytes in 200 ms)", what,
                (unsigned long long)(b - a));
        }
        a = b;
    }
}

/* OpenSSH's `cp` of 80 MiB: one copy-data, length 0. */
static void
test_cp_80_mib(void **state)
{
    char src[FIXTURE_PATH_MAX + 16], dst[FIXTURE_PATH_MAX + 16], batch[4 * FIXTURE_PATH_MAX];

    (void)state;
    snprintf(src, sizeof(src), "%s/big", work);
    snprintf(dst, sizeof(dst), "%s/big.copy", work);
    tf_make(src, BIG_SIZE, 80);
    snprintf(batch, sizeof(batch), "cp %s %s\n", src, dst);
    if (sftp_batch(batch) != 0) {
        show_failure("sftp cp");
        fail_msg("sftp cp of 80 MiB failed");
    }
    assert_true(tf_same(src, dst));
    assert_int_equal(unlink(src), 0);
    assert_int_equal(unlink(dst), 0);
}

/* A second session while a copy runs; the copying client killed mid-copy. */
static void
test_cp_serves_others_and_stops_with_client(void **state)
{
    char huge[FIXTURE_PATH_MAX + 16], small[FIXTURE_PATH_MAX + 16];
    char got[FIXTURE_PATH_MAX + 16], batch[4 * FIXTURE_PATH_MAX];
    struct serve_argv a;
    uint64_t base;
    pid_t cp;
    int to = -1, from = -1, rc;

    (void)state;
    snprintf(huge, sizeof(huge), "%s/huge", work);
    snprintf(small, sizeof(small), "%s/small", work);
    snprintf(got, sizeof(got), "%s/small.got", work);
    tf_write(huge, "", 0);
    assert_int_equal(truncate(huge, HUGE_SIZE), 0);
    tf_make(small, 100000, 7);
    base = server_rchar();
    snprintf(batch, sizeof(batch), "cp %s /dev/null\n", huge);
    sftp_argv(&a, "batch_cp", batch);
    cp = serve_spawn(&fx, a.v, &to, &from, out_path, NULL);
    assert_true(cp > 0);
    close(to);
    /* the copy is under way: the server reads the holes */
    wait_reads(base, COPY_SEEN, cp, "before the second session");
    snprintf(batch, sizeof(batch), "ls -l %s\nget %s %s\n", work, small, got);
    {
        char out2[FIXTURE_PATH_MAX];
        struct serve_argv b;

        serve_fixture_path(&fx, "second.out", out2, sizeof(out2));
        sftp_argv(&b, "batch2", batch);
        rc = serve_run(&fx, b.v, NULL, out2, out2, NULL, RUN_MS);
        if (rc != 0) {
            char *o = serve_slurp(out2, NULL);

            fprintf(stderr, "second session:\n%s\n", o);
            free(o);
            fail_msg("the second session failed (%d)", rc);
        }
    }
    assert_true(tf_same(small, got));
    /* ... and the copy still runs after it: it was served meanwhile */
    wait_reads(server_rchar(), COPY_SEEN, cp, "after the second session");
    /* ... and past the idle timeout, the copying client silent all along */
    for (int64_t d = amk_io_deadline(IDLE_WAIT_MS); amk_io_remaining_ms(d) > 0;) {
        if (!running(cp)) {
            show_failure("past the idle timeout");
            fail_msg("the copying sftp ended (exit %d): the idle timeout cut the copy",
                proc_wait(cp, 0));
        }
        usleep(50000);
    }
    wait_reads(server_rchar(), COPY_SEEN, cp, "past the idle timeout");
    /* the connection drops mid-copy: the copy stops, the server serves on */
    kill_client(cp);
    close(from);
    wait_reads_stop("after the copying client was killed");
    snprintf(batch, sizeof(batch), "ls %s\n", work);
    if (sftp_batch(batch) != 0) {
        show_failure("sftp ls after the kill");
        fail_msg("the server does not serve after a client left mid-copy");
    }
    assert_int_equal(unlink(huge), 0);
}

/* The size of @p path, 0 when it does not exist yet. */
static uint64_t
size_or_0(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Two copies on one connection (two sftp sessions over an OpenSSH
 * control master) take turns: one slice per connection and turn, the
 * channel that copied going last next turn, so both go on (without the
 * turns, the first channel in the list would copy alone). */
static void
test_two_copies_on_one_connection_take_turns(void **state)
{
    char ctl_opt[FIXTURE_PATH_MAX + 32], src[2][FIXTURE_PATH_MAX + 16];
    char dst[2][FIXTURE_PATH_MAX + 16], batch[4 * FIXTURE_PATH_MAX], name[16];
    const char *const master_opts[] = { "ControlMaster=yes", ctl_opt, NULL };
    const char *const mux_opts[] = { "ControlMaster=no", ctl_opt, NULL };
    struct serve_argv a;
    struct stat st;
    pid_t master, cp[2];
    int to, from_master, from[2];
    int64_t deadline;

    (void)state;
    snprintf(ctl_opt, sizeof(ctl_opt), "ControlPath=%s/ctl", work);
    serve_argv_client(&a, &fx, SSH_PATH, master_opts);
    serve_argv_add(&a, "-N");
    serve_argv_add(&a, fx.dest);
    master = serve_spawn(&fx, a.v, &to, &from_master, out_path, NULL);
    assert_true(master > 0);
    close(to);
    deadline = amk_io_deadline(WAIT_MS);
    while (stat(ctl_opt + strlen("ControlPath="), &st) != 0 || !S_ISSOCK(st.st_mode)) {
        if (!running(master) || amk_io_remaining_ms(deadline) == 0) {
            show_failure("control master");
            fail_msg("the ssh control master did not start");
        }
        usleep(20000);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(src[i], sizeof(src[i]), "%s/huge%d", work, i);
        snprintf(dst[i], sizeof(dst[i]), "%s/huge%d.copy", work, i);
        tf_write(src[i], "", 0);
        assert_int_equal(truncate(src[i], HUGE_SIZE), 0);
        snprintf(batch, sizeof(batch), "cp %s %s\n", src[i], dst[i]);
        snprintf(name, sizeof(name), "batch_mux%d", i);
        sftp_argv_opts(&a, name, batch, mux_opts);
        cp[i] = serve_spawn(&fx, a.v, &to, &from[i], out_path, NULL);
        assert_true(cp[i] > 0);
        close(to);
    }
    /* both copies grow, neither waits for the other to end */
    deadline = amk_io_deadline(WAIT_MS);
    while (size_or_0(dst[0]) < TURNS_SEEN || size_or_0(dst[1]) < TURNS_SEEN) {
        for (int i = 0; i < 2; i++) {
            if (!running(cp[i])) {
                show_failure("two copies");
                fail_msg("copy %d's sftp ended (exit %d)", i, proc_wait(cp[i], 0));
            }
        }
        if (amk_io_remaining_ms(deadline) == 0) {
            show_failure("two copies");
            fail_msg("after %d ms the copies are %llu and %llu bytes: one starves", WAIT_MS,
                (unsigned long long)size_or_0(dst[0]), (unsigned long long)size_or_0(dst[1]));
        }
        usleep(10000);
    }
    for (int i = 0; i < 2; i++) {
        kill_client(cp[i]);
        close(from[i]);
    }
    assert_int_equal(kill(master, SIGTERM), 0);
    (void)proc_wait(master, RUN_MS);
    close(from_master);
    wait_reads_stop("after the two copies' clients were killed");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(unlink(src[i]), 0);
        assert_int_equal(unlink(dst[i]), 0);
    }
}

static int
group_setup(void **state)
{
    static const char *const peers[] = { SSH_PATH, SFTP_PATH, SSH_KEYGEN_PATH };

    (void)state;
    if (serve_fixture_need(peers, sizeof(peers) / sizeof(peers[0])) != 0)
        return -1;
    if (serve_fixture_init(&fx) != 0)
        return -1;
    serve_fixture_path(&fx, "client.out", out_path, sizeof(out_path));
    serve_fixture_work_path(&fx, "files", work, sizeof(work));
    if (mkdir(work, 0755) != 0)
        return -1;
    {
        static const char *const args[] = { "-o", "IdleTimeout=" IDLE_TIMEOUT, NULL };

        return serve_fixture_start(&fx, SERVE_HK_ED25519, args);
    }
}

/* serve exits 0 on SIGTERM, with nothing from a sanitizer in its log
 * (the copy abandoned mid-way freed everything). */
static int
group_teardown(void **state)
{
    int rc = serve_fixture_stop(&fx), bad = serve_fixture_log_count(&fx, "Sanitizer", NULL);

    (void)state;
    if (rc != 0 || bad)
        serve_fixture_dump_log(&fx, 6000);
    serve_fixture_cleanup(&fx);
    return rc != 0 || bad ? -1 : 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cp_80_mib),
        cmocka_unit_test(test_cp_serves_others_and_stops_with_client),
        cmocka_unit_test(test_two_copies_on_one_connection_take_turns),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
