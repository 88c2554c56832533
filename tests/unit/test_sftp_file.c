/*
 * The pipelined transfers of the client (src/client/sftp_xfer.c), blocking
 * and non-blocking,
 * against a scripted server in memory that answers in ways OpenSSH's
 * sftp-server never does: replies to READ and WRITE held back and sent in
 * reverse order, short reads (draft-ietf-secsh-filexfer-02 §6.4 allows
 * fewer bytes than asked), limits@openssh.com with a 1000-byte read size,
 * EOF status past the end; or, as a link with a fixed latency on a clock
 * the test steers, each reply arriving a set time after its request. The
 * script speaks the wire format of the draft with its own minimal
 * encoder, independent of src/sftp.
 */
#include "test_helper.h"
#include "sftp_wire.h"

#include <fcntl.h>
#include <unistd.h>

#include "client/sftp_int.h"

#define FILE_SIZE 100000
#define HOLD_MAX 16
#define DUE_MAX 1024

struct script {
    uint8_t file[FILE_SIZE + 65536];
    size_t size;
    uint8_t in[1 << 20];        /* requests not yet parsed */
    size_t in_len;
    uint8_t *out;               /* replies ready to be read */
    size_t out_len, out_off, out_cap;
    uint8_t *held[HOLD_MAX * 8];  /* replies held back (reordered) */
    size_t held_len[HOLD_MAX * 8];
    size_t n_held;
    int short_reads;
    unsigned reads, writes;
    /* A link (sc_read_link()): > 0, each reply arrives this many seconds
     * of test_now after its request, none held back; due_end[i] is where
     * a reply ends in out, due_at[i] when it arrives. */
    double latency;
    size_t due_end[DUE_MAX];
    double due_at[DUE_MAX];
    size_t n_due, due_head;
};

/* The clock of a link script, which the test moves (struct amk_sftp's now). */
static double test_now;

static double
test_clock(void)
{
    return test_now;
}

static void
emit(struct script *sc, const uint8_t *p, size_t n, int hold)
{
    if (hold && sc->latency == 0) {
        assert_true(sc->n_held < HOLD_MAX * 8);
        sc->held[sc->n_held] = malloc(n);
        assert_non_null(sc->held[sc->n_held]);
        memcpy(sc->held[sc->n_held], p, n);
        sc->held_len[sc->n_held++] = n;
        return;
    }
    if (sc->out_len + n > sc->out_cap) {
        sc->out_cap = (sc->out_len + n) * 2;
        sc->out = realloc(sc->out, sc->out_cap);
        assert_non_null(sc->out);
    }
    memcpy(sc->out + sc->out_len, p, n);
    sc->out_len += n;
    if (sc->latency > 0) {
        assert_true(sc->n_due < DUE_MAX);
        sc->due_end[sc->n_due] = sc->out_len;
        sc->due_at[sc->n_due++] = test_now + sc->latency;
    }
}

/* Sends the held replies, last first. */
static void
release(struct script *sc)
{
    while (sc->n_held > 0) {
        sc->n_held--;
        emit(sc, sc->held[sc->n_held], sc->held_len[sc->n_held], 0);
        free(sc->held[sc->n_held]);
    }
}

static void
status(struct script *sc, uint32_t id, uint32_t code, int hold)
{
    uint8_t p[64];
    size_t n = 4;

    p[n++] = 101;
    n += put32(p + n, id);
    n += put32(p + n, code);
    n += put32(p + n, 0);
    n += put32(p + n, 0);
    put32(p, (uint32_t)(n - 4));
    emit(sc, p, n, hold);
}

static void
serve(struct script *sc, const uint8_t *b, size_t len)
{
    static uint8_t p[300000];
    uint8_t type = b[0];
    uint32_t id = get32(b + 1);
    size_t n = 4;

    switch (type) {
    case 1:     /* INIT: VERSION 3 with limits@openssh.com */
        p[n++] = 2;
        n += put32(p + n, 3);
        n += put32(p + n, 18);
        memcpy(p + n, "limits@openssh.com", 18);
        n += 18;
        n += put32(p + n, 1);
        p[n++] = '1';
        break;
    case 200:   /* EXTENDED limits: packet 4096, read 1000, write 1500 */
        p[n++] = 201;
        n += put32(p + n, id);
        n += put32(p + n, 0); n += put32(p + n, 4096);
        n += put32(p + n, 0); n += put32(p + n, 1000);
        n += put32(p + n, 0); n += put32(p + n, 1500);
        n += put32(p + n, 0); n += put32(p + n, 0);
        break;
    case 3:     /* OPEN: handle "h" */
        p[n++] = 102;
        n += put32(p + n, id);
        n += put32(p + n, 1);
        p[n++] = 'h';
        break;
    case 8:     /* FSTAT: the size */
        p[n++] = 105;
        n += put32(p + n, id);
        n += put32(p + n, 1);
        n += put32(p + n, 0);
        n += put32(p + n, (uint32_t)sc->size);
        break;
    case 4:     /* CLOSE */
        release(sc);
        status(sc, id, 0, 0);
        return;
    case 5: {   /* READ handle(4+1) offset len */
        uint64_t off = get64(b + 10);
        uint32_t want = get32(b + 18);
        size_t give;

        sc->reads++;
        if (off >= sc->size) {
            status(sc, id, 1, 1);
            return;
        }
        give = sc->size - off < want ? (size_t)(sc->size - off) : want;
        if (sc->short_reads && (id % 3) == 0 && give > 1)
            give = give / 2;
        p[n++] = 103;
        n += put32(p + n, id);
        n += put32(p + n, (uint32_t)give);
        memcpy(p + n, sc->file + off, give);
        n += give;
        put32(p, (uint32_t)(n - 4));
        emit(sc, p, n, 1);
        return;
    }
    case 6: {   /* WRITE handle(4+1) offset data */
        uint64_t off = get64(b + 10);
        uint32_t dl = get32(b + 18);

        sc->writes++;
        assert_true(len == 22 + dl);
        assert_true(off + dl <= sizeof(sc->file));
        memcpy(sc->file + off, b + 22, dl);
        if (off + dl > sc->size)
            sc->size = off + dl;
        status(sc, id, 0, 1);
        return;
    }
    default:
        status(sc, id, 8, 0);
        return;
    }
    put32(p, (uint32_t)(n - 4));
    emit(sc, p, n, 0);
}

static ssize_t
sc_write(void *user, const void *buf, size_t len)
{
    struct script *sc = user;
    size_t off = 0;

    assert_true(sc->in_len + len <= sizeof(sc->in));
    memcpy(sc->in + sc->in_len, buf, len);
    sc->in_len += len;
    while (sc->in_len - off >= 4) {
        uint32_t plen = get32(sc->in + off);
        if (sc->in_len - off - 4 < plen)
            break;
        serve(sc, sc->in + off + 4, plen);
        off += 4 + plen;
    }
    memmove(sc->in, sc->in + off, sc->in_len - off);
    sc->in_len -= off;
    return (ssize_t)len;
}

static ssize_t
sc_read(void *user, void *buf, size_t len)
{
    struct script *sc = user;
    size_t n;

    /* the client waits: everything held goes out, newest first */
    if (sc->out_off == sc->out_len)
        release(sc);
    if (sc->out_off == sc->out_len)
        return 0;
    /* odd chunk sizes, so packets straddle reads */
    n = sc->out_len - sc->out_off;
    if (n > len)
        n = len;
    if (n > 777)
        n = 777;
    memcpy(buf, sc->out + sc->out_off, n);
    sc->out_off += n;
    if (sc->out_off == sc->out_len)
        sc->out_off = sc->out_len = 0;
    return (ssize_t)n;
}

/* Reads over the link: only what has arrived by test_now; AMK_EAGAIN
 * (the ::amk_sftp is non-blocking) when nothing has. */
static ssize_t
sc_read_link(void *user, void *buf, size_t len)
{
    struct script *sc = user;
    size_t end = sc->out_off, n;

    for (size_t i = sc->due_head; i < sc->n_due && sc->due_at[i] <= test_now; i++)
        end = sc->due_end[i];
    if (end == sc->out_off)
        return AMK_EAGAIN;
    n = end - sc->out_off < len ? end - sc->out_off : len;
    memcpy(buf, sc->out + sc->out_off, n);
    sc->out_off += n;
    while (sc->due_head < sc->n_due && sc->due_end[sc->due_head] <= sc->out_off)
        sc->due_head++;
    if (sc->out_off == sc->out_len)
        sc->out_off = sc->out_len = sc->n_due = sc->due_head = 0;
    return (ssize_t)n;
}

static struct script *
script_new(int short_reads)
{
    struct script *sc = calloc(1, sizeof(*sc));

    assert_non_null(sc);
    sc->size = FILE_SIZE;
    for (size_t i = 0; i < FILE_SIZE; i++)
        sc->file[i] = (uint8_t)(i * 7 + i / 251);
    sc->short_reads = short_reads;
    return sc;
}

static void
script_free(struct script *sc)
{
    release(sc);
    free(sc->out);
    free(sc);
}

static void
test_sftp_pread_reordered_short_reads(void **state)
{
    struct script *sc = script_new(1);
    struct amk_sftp *s = NULL;
    struct amk_sftp_file *f = NULL;
    uint8_t *buf = malloc(FILE_SIZE + 5000);
    size_t got, rl, wl;
    (void)state;
    assert_non_null(buf);
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    amk_sftp_io_sizes(s, &rl, &wl);
    assert_int_equal(rl, 1000);
    assert_int_equal(wl, 1500);
    ASSERT_OK(amk_sftp_open(s, "/f", AMK_SFTP_READ, 0, &f));
    ASSERT_OK(amk_sftp_pread(f, buf, FILE_SIZE + 5000, 0, &got));
    assert_int_equal(got, FILE_SIZE);
    assert_memory_equal(buf, sc->file, FILE_SIZE);
    /* short reads were re-requested: more READs than 1000-byte pieces */
    assert_true(sc->reads > FILE_SIZE / 1000 + 5);
    /* a read in the middle, unaligned */
    ASSERT_OK(amk_sftp_pread(f, buf, 12345, 54321, &got));
    assert_int_equal(got, 12345);
    assert_memory_equal(buf, sc->file + 54321, 12345);
    ASSERT_OK(amk_sftp_close(f));
    amk_sftp_free(s);
    script_free(sc);
    free(buf);
}

static void
test_sftp_get_reordered(void **state)
{
    struct script *sc = script_new(1);
    struct amk_sftp *s = NULL;
    char path[] = "/tmp/amk_sftp_get_XXXXXX";
    uint8_t *buf = malloc(FILE_SIZE + 1);
    int fd;
    ssize_t n;
    (void)state;
    assert_non_null(buf);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    ASSERT_OK(amk_sftp_get(s, "/f", path, 0, NULL, NULL));
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, FILE_SIZE + 1);
    close(fd);
    unlink(path);
    assert_int_equal(n, FILE_SIZE);
    assert_memory_equal(buf, sc->file, FILE_SIZE);
    amk_sftp_free(s);
    script_free(sc);
    free(buf);
}

static void
test_sftp_pwrite_reordered_statuses(void **state)
{
    struct script *sc = script_new(0);
    struct amk_sftp *s = NULL;
    struct amk_sftp_file *f = NULL;
    uint8_t *data = malloc(FILE_SIZE);
    (void)state;
    assert_non_null(data);
    for (size_t i = 0; i < FILE_SIZE; i++)
        data[i] = (uint8_t)(i * 13 + 1);
    sc->size = 0;
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    ASSERT_OK(amk_sftp_open(s, "/f", AMK_SFTP_WRITE | AMK_SFTP_CREAT, 0, &f));
    ASSERT_OK(amk_sftp_pwrite(f, data, FILE_SIZE, 0));
    assert_int_equal(sc->size, FILE_SIZE);
    assert_memory_equal(sc->file, data, FILE_SIZE);
    /* 1500-byte writes from limits@openssh.com */
    assert_int_equal(sc->writes, (FILE_SIZE + 1499) / 1500);
    ASSERT_OK(amk_sftp_close(f));
    amk_sftp_free(s);
    script_free(sc);
    free(data);
}

/* Every other read "would block": the ::amk_sftp is non-blocking. */
static int flip;

static ssize_t
sc_read_nb(void *user, void *buf, size_t len)
{
    if ((flip++ & 1) == 0)
        return AMK_EAGAIN;
    return sc_read(user, buf, len);
}

static void
test_sftp_nonblocking_resumed_calls(void **state)
{
    struct script *sc = script_new(1);
    struct amk_sftp *s = NULL;
    struct amk_sftp_file *f = NULL;
    uint8_t *buf = malloc(FILE_SIZE);
    size_t got = 0;
    int r, eagain = 0;
    unsigned opens;
    (void)state;
    assert_non_null(buf);
    flip = 0;
    /* start-up is left to the calls that follow */
    ASSERT_OK(amk_sftp_new_io(&s, sc_read_nb, sc_write, sc));
    while ((r = amk_sftp_ready(s)) == AMK_EAGAIN) {
        assert_int_equal(amk_sftp_block_directions(s), AMK_WAIT_READ);
        eagain++;
    }
    ASSERT_OK(r);
    while ((r = amk_sftp_open(s, "/f", AMK_SFTP_READ, 0, &f)) == AMK_EAGAIN)
        eagain++;
    ASSERT_OK(r);
    opens = sc->reads;
    /* pread resumes: its READs are sent once, whatever the EAGAINs */
    while ((r = amk_sftp_pread(f, buf, FILE_SIZE, 0, &got)) == AMK_EAGAIN)
        eagain++;
    ASSERT_OK(r);
    assert_true(eagain > 3);
    assert_int_equal(got, FILE_SIZE);
    assert_memory_equal(buf, sc->file, FILE_SIZE);
    assert_true(sc->reads - opens < 2 * (FILE_SIZE / 1000) + 10);
    while ((r = amk_sftp_close(f)) == AMK_EAGAIN)
        ;
    ASSERT_OK(r);
    amk_sftp_free(s);
    script_free(sc);
    free(buf);
}

/* A transfer object over reordered replies and short reads: the data is
 * right, and short reads cut the requests in flight. */
static void
test_sftp_transfer_short_reads_shrink(void **state)
{
    struct script *sc = script_new(1);
    struct amk_sftp *s = NULL;
    struct amk_sftp_transfer *t = NULL;
    struct amk_sftp_transfer_progress p;
    char path[] = "/tmp/amk_sftp_xfer_XXXXXX";
    uint8_t *buf = malloc(FILE_SIZE + 1);
    int fd, r;
    ssize_t n;
    (void)state;
    assert_non_null(buf);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    ASSERT_OK(amk_sftp_transfer_start_get(s, "/f", path, 0, &t));
    while ((r = amk_sftp_transfer_step(t)) == AMK_EAGAIN)
        ;
    ASSERT_OK(r);
    ASSERT_OK(amk_sftp_transfer_progress(t, &p));
    assert_int_equal(p.done, FILE_SIZE);
    assert_int_equal(p.total, FILE_SIZE);
    assert_int_equal(p.request_len, 1000);
    assert_true(p.finished);
    /* every third reply is short: the limit never reaches its cap (64) */
    assert_true(p.inflight_peak < 64);
    assert_true(p.inflight_limit < 64);
    amk_sftp_transfer_free(t);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, FILE_SIZE + 1);
    close(fd);
    unlink(path);
    assert_int_equal(n, FILE_SIZE);
    assert_memory_equal(buf, sc->file, FILE_SIZE);
    amk_sftp_free(s);
    script_free(sc);
    free(buf);
}

/* A temporary local file's name in @p path ("/tmp/amk_sftp_xfer_XXXXXX"). */
static void
temp_name(char *path)
{
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
}

/* The local file @p path holds the script's file. */
static void
assert_got_file(const struct script *sc, const char *path)
{
    uint8_t *buf = malloc(FILE_SIZE + 1);
    ssize_t n;
    int fd;

    assert_non_null(buf);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, FILE_SIZE + 1);
    close(fd);
    assert_int_equal(n, FILE_SIZE);
    assert_memory_equal(buf, sc->file, FILE_SIZE);
    free(buf);
}

static size_t
limit_of(const struct amk_sftp_transfer *t)
{
    struct amk_sftp_transfer_progress p;

    ASSERT_OK(amk_sftp_transfer_progress(t, &p));
    return p.inflight_limit;
}

#define LINK_S 0.001    /* the link's latency: every round trip takes 1 ms */

/*
 * The round trip a transfer's pacing measures ends when its reply was read
 * off the stream, not when the transfer takes it. Over a link where every
 * round trip takes 1 ms, t1 is stepped alone until its limit has grown;
 * then t2 is stepped, which reads t1's replies, and t1 is stepped again a
 * second later, as a caller stepping transfers one by one may. Those
 * replies waited for the caller, not in a queue at the server: t1's limit
 * goes on growing (one more per reply while no queue has shown), as it
 * would have had they been taken at once. Measured to the take, each
 * looked a second long against a shortest of 1 ms, every request in
 * flight with it queued, and the limit stopped growing.
 */
static void
test_sftp_transfer_late_take_keeps_limit(void **state)
{
    struct script *sc = script_new(0);
    struct amk_sftp *s = NULL;
    struct amk_sftp_transfer *ts[2] = { NULL, NULL };
    char path1[] = "/tmp/amk_sftp_xfer_XXXXXX", path2[] = "/tmp/amk_sftp_xfer_XXXXXX";
    size_t l0, rounds = 0;
    int r;
    (void)state;
    temp_name(path1);
    temp_name(path2);
    sc->latency = LINK_S;
    test_now = 1000;
    ASSERT_OK(amk_sftp_new_io(&s, sc_read_link, sc_write, sc));
    s->now = test_clock;
    while ((r = amk_sftp_ready(s)) == AMK_EAGAIN)
        test_now += LINK_S;
    ASSERT_OK(r);
    ASSERT_OK(amk_sftp_transfer_start_get(s, "/f", path1, 0, &ts[0]));
    ASSERT_OK(amk_sftp_transfer_start_get(s, "/f", path2, 0, &ts[1]));
    /* t1 alone, one step per round trip: its limit doubles per round trip */
    while (limit_of(ts[0]) < 16) {
        ASSERT_AMK(AMK_EAGAIN, amk_sftp_transfer_step(ts[0]));
        test_now += LINK_S;
        assert_true(++rounds < 20);
    }
    l0 = limit_of(ts[0]);
    /* t1's replies have come: t2's step reads them off the stream */
    ASSERT_AMK(AMK_EAGAIN, amk_sftp_transfer_step(ts[1]));
    /* all that came was read: what is left is t2's OPEN reply, on its way */
    assert_int_equal(sc->n_due - sc->due_head, 1);
    assert_true(sc->due_at[sc->due_head] > test_now);
    test_now += 1.0;
    ASSERT_AMK(AMK_EAGAIN, amk_sftp_transfer_step(ts[0]));
    assert_true(limit_of(ts[0]) > l0);
    /* both finish with the right data */
    rounds = 0;
    while ((r = amk_sftp_transfer_step_all(ts, 2)) == AMK_EAGAIN) {
        test_now += LINK_S;
        assert_true(++rounds < 1000);
    }
    ASSERT_OK(r);
    ASSERT_OK(amk_sftp_transfer_result(ts[0]));
    ASSERT_OK(amk_sftp_transfer_result(ts[1]));
    amk_sftp_transfer_free(ts[0]);
    amk_sftp_transfer_free(ts[1]);
    assert_got_file(sc, path1);
    assert_got_file(sc, path2);
    unlink(path1);
    unlink(path2);
    amk_sftp_free(s);
    script_free(sc);
}

static void
test_sftp_unsupported_request_refused(void **state)
{
    struct script *sc = script_new(0);
    struct amk_sftp *s = NULL;
    struct amk_sftp_attrs a;
    (void)state;
    ASSERT_OK(amk_sftp_new_io(&s, sc_read, sc_write, sc));
    ASSERT_AMK(AMK_ENOTSUP, amk_sftp_stat(s, "/f", &a));
    assert_int_equal(amk_sftp_last_status(s), 8);
    /* not fatal: the connection goes on */
    ASSERT_AMK(AMK_ENOTSUP, amk_sftp_remove(s, "/f"));
    /* extensions the server did not offer are refused locally */
    ASSERT_AMK(AMK_ENOTSUP, amk_sftp_hardlink(s, "/a", "/b"));
    amk_sftp_free(s);
    script_free(sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_pread_reordered_short_reads),
        cmocka_unit_test(test_sftp_get_reordered),
        cmocka_unit_test(test_sftp_pwrite_reordered_statuses),
        cmocka_unit_test(test_sftp_unsupported_request_refused),
        cmocka_unit_test(test_sftp_nonblocking_resumed_calls),
        cmocka_unit_test(test_sftp_transfer_short_reads_shrink),
        cmocka_unit_test(test_sftp_transfer_late_take_keeps_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
