/*
 * The server core's insides (see amiko/server.h): the server object, the
 * per-connection state and the functions the server*.c files share.
 *
 *   server.c           configuration, listeners, life
 *   server_loop.c      the epoll loop: accept, MaxStartups, timers, run/process/stop
 *   server_conn.c      one connection: socket <-> transport, bounded turns, close
 *   server_auth.c      user authentication glue (callbacks, authorized_keys)
 *   server_chan.c      session channels: ready handler, SFTP, application channels
 *   server_sftp.c      the built-in SFTP subsystem over a channel
 *   server_hostkeys.c  hostkeys-00 / hostkeys-prove-00@openssh.com
 *   server_reap.c      processes of closed sessions: SIGHUP, deadline, SIGKILL, reap
 */
#ifndef AMK_SERVER_SERVER_INT_H
#define AMK_SERVER_SERVER_INT_H

#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <amiko/server.h>

#include "channel/conn.h"
#include "server/sftp_fs.h"
#include "sftp/sftp_server.h"
#include "util/err.h"
#include "util/log.h"

#define SRV_MAX_LISTENERS 8
#define SRV_MAX_HOST_KEYS 8
#define SRV_N_SPECS 6
/* Bytes read from one connection per loop turn (into the shared buffer).
 * 256 KiB: an upload's turn then reads a whole 255 KiB WRITE, with a
 * quarter of the recv and epoll_wait calls of 64 KiB (strace of a 1 GiB
 * put: ~4,100 recvfrom against ~16,000). Three A/Bs of 1 GiB puts to
 * amiko serve all favoured it; the last, 8 rounds: 1231 -> 1400 MiB/s,
 * server 0.80 -> 0.70 CPU s per GiB. */
#define SRV_READ_CHUNK ((size_t)256 * 1024)
/* Packets handled per connection per loop turn. */
#define SRV_PACKETS_PER_TURN 64
/* Bytes written to one connection's socket per loop turn. */
#define SRV_WRITE_PER_TURN ((size_t)1024 * 1024)
/* Encrypted output a connection's SFTP channels queue ahead of the socket:
 * above it they stop answering until write_some() drained it. Small
 * enough that the bytes are still in the cache when sent (a queue of
 * megabytes went through memory twice and paged in fresh storage). */
#define SRV_OUT_SOFT ((size_t)256 * 1024)
/* Pump + write rounds per turn while the socket keeps taking output. */
#define SRV_PUMP_ROUNDS 4
/* Output queued by the application per handled channel. */
#define SRV_APP_OUT_MAX ((size_t)1024 * 1024)
/* Most session channels per connection (MaxSessions), and so the most
 * child-process descriptors one connection registers. */
#define SRV_SESSIONS_MAX 64
#define SRV_CHAN_FDS_MAX (SRV_SESSIONS_MAX * 4)
/* How often timers are scanned at most when none is due sooner, ms. */
#define SRV_TIMER_SLACK_MS 1000
/* The receive window of a session channel: sshd's 2 MiB. Bounds what a
 * client can make us buffer (window x MaxSessions per connection). */
#define SRV_WINDOW_DEFAULT ((uint32_t)2 * 1024 * 1024)
/* accept() out of descriptors (EMFILE, ENFILE) or memory: the listeners
 * leave the epoll set for a pause, doubling from the least to the most
 * while it keeps failing, since a level-triggered listener with a pending
 * connection would wake every wait and spin. Its log line comes at most
 * once per SRV_ACCEPT_LOG_MS, with the count of failures in between. */
#define SRV_ACCEPT_PAUSE_MIN_MS 100
#define SRV_ACCEPT_PAUSE_MAX_MS 1000
#define SRV_ACCEPT_LOG_MS 10000
/* Epoll events handled per wait. */
#define SRV_EVENTS 64
/* How long a closed session's process has after SIGHUP before SIGKILL,
 * ms. The loop waits for nobody, so it can be generous: time for a
 * shell to save its history or a program to clean up. */
#define SRV_REAP_GRACE_MS 1000
/* amk_server_free(): the SIGHUP grace of what is left (all together),
 * then how long it waits for the SIGKILLed to be reaped, ms. */
#define SRV_REAP_FREE_GRACE_MS 100
#define SRV_REAP_KILL_WAIT_MS 2000

struct amk_transport;
struct amk_userauth_server;
struct amk_conn;
struct amk_srv_chan;
struct amk_proc;
struct srv_sftp;
struct srv_reap;

/* What an epoll registration's data.u64 names (the low 8 bits). */
enum srv_ev_kind {
    SRV_EV_WAKE = 1,        /* the stop eventfd */
    SRV_EV_LISTEN,          /* listener index in bits 8.. */
    SRV_EV_CONN,            /* a connection's socket: slot in bits 8..31, generation above */
    SRV_EV_CHILD,           /* a connection's child descriptor: as SRV_EV_CONN */
    SRV_EV_REAP             /* the pidfd of a process being reaped: its pid above bit 32 */
};

enum srv_chan_kind {
    SRV_CHAN_NEW = 0,       /* opened, no exec/shell/subsystem decided yet (ready handler attached) */
    SRV_CHAN_PROC,          /* the ready handler runs a process */
    SRV_CHAN_SFTP,          /* the built-in SFTP server */
    SRV_CHAN_APP            /* the application handles it */
};

struct amk_server_channel {
    struct srv_conn *conn;
    uint32_t id;
    enum srv_chan_kind kind;
    struct amk_srv_chan *sc;    /* the ready handler (NEW, PROC) */
    struct srv_sftp *sftp;      /* SFTP */
    int pty;                    /* a pty was requested (for the session callback) */
    /* application channels */
    void *app_user;
    uint8_t *out[2];            /* queued output, stdout / stderr */
    size_t out_len[2];
    int exit_set, exit_status, eof_seen, closed_sent;
    int dead;                   /* handler finished: free at the end of the turn */
};

struct srv_conn {
    struct amk_server *srv;
    uint32_t slot, gen;
    uint64_t id;
    int fd;
    char peer_ip[64];
    uint16_t peer_port;
    char local_ip[64];
    uint16_t local_port;
    struct amk_transport *t;
    struct amk_userauth_server *ua;
    struct amk_conn *conn;
    int authed;
    char *user;
    /* from the accepting authorized_keys line */
    char *forced_command;
    int no_pty;
    char **key_env;             /* environment= entries, NULL-terminated */
    struct amk_server_channel **chans;
    size_t n_chans, cap_chans;
    uint32_t new_ids[16];
    size_t n_new;
    unsigned kbd_round;
    unsigned proves;            /* hostkeys-prove requests answered */
    unsigned sftp_big_windows;  /* SFTP channels given a larger window */
    /* epoll */
    uint32_t ev_registered;     /* events of the socket registration */
    int *child_fds;             /* registered child descriptors (heap; NULL: none) */
    size_t n_child_fds;
    /* timers, on the loop's ms clock */
    uint64_t accepted_ms, last_input_ms, auth_held_since;
    uint64_t deadline;          /* the earliest of them; UINT64_MAX none */
    int more;                   /* work left for another turn */
    int out_full;               /* a channel stopped at SRV_OUT_SOFT this round */
    int copy_stepped;           /* an SFTP copy-data slice was copied this turn */
    int ev_in;                  /* epoll saw the socket readable */
    struct srv_conn *ready_next;
    int in_ready;
    int closing;                /* flushing our DISCONNECT, then close */
    uint64_t closing_deadline;
    int peer_gone;              /* the peer closed or reset: nothing to wait for */
    int lingering;              /* DISCONNECT out, our side shut: reading until the peer closes */
    int dead;                   /* to be freed */
    char reason[160];
};

struct amk_server {
    struct amk_error err;
    struct amk_logger log;
    struct amk_key *host_keys[SRV_MAX_HOST_KEYS];
    size_t n_host_keys;
    char *specs[SRV_N_SPECS];
    uint64_t lim_grace_ms, lim_idle_ms, lim_alive_ms, lim_fail_delay_ms;
    unsigned lim_auth_tries, lim_start, lim_rate, lim_full, lim_sessions, lim_alive_max;
    uint32_t lim_window, lim_maxpacket;
    size_t lim_conns;
    /* authentication */
    amk_server_password_fn password_cb;
    void *password_user;
    amk_server_publickey_fn publickey_cb;
    void *publickey_user;
    amk_server_kbdint_fn kbdint_cb;
    void *kbdint_user;
    char *ak_user, *ak_path;
    char *auth_methods;
    uint8_t delay_key[32];
    /* sessions */
    int exec_enabled, sftp_enabled, sftp_read_only, sftp_only;
    char *shell;
    int sftp_root_fd;           /* the SFTP root, opened once; -1: none */
    char **env_allow;           /* NULL-terminated; NULL: default */
    amk_server_session_fn session_cb;
    void *session_user;
    amk_server_data_fn data_cb;
    amk_server_close_fn close_cb;
    void *chan_user;
    /* loop */
    int epfd, wakefd;
    atomic_int stop;
    int listen_fd[SRV_MAX_LISTENERS];
    uint16_t listen_port[SRV_MAX_LISTENERS];
    char listen_addr[SRV_MAX_LISTENERS][64];
    size_t n_listen;
    struct srv_conn **slots;
    size_t n_slots;
    uint32_t next_gen;
    uint64_t next_conn_id;
    size_t n_conns, n_unauth;
    struct srv_conn *ready_head;
    uint64_t next_timer;        /* earliest connection or reaper deadline known */
    struct srv_reap *reap;      /* processes of closed sessions (server_reap.c) */
    size_t n_reap, cap_reap;
    uint64_t rng_state;         /* random early drop */
    uint8_t *rbuf;              /* SRV_READ_CHUNK, shared by every connection */
    int serving_one;            /* amk_server_serve_one(): accept one only */
    int accepted_one;
    /* accept() paused for lack of descriptors (SRV_ACCEPT_PAUSE_*) */
    uint64_t accept_resume_ms;  /* when the listeners come back; 0: not paused */
    unsigned accept_pause_ms;   /* the last pause; 0 after an accept succeeded */
    uint64_t accept_log_ms;     /* the next time the failure may be logged */
    unsigned long accept_quiet; /* failures not logged since the last line */
    struct amk_sftp_fs_budget sftp_budget;  /* handles open in all SFTP sessions */
};

/* server.c */
uint64_t amk_srv_now_ms(void);
/* The logger of a connection's engines: theirs is detail, so they log
 * only at debug level (their failures become the close reason). */
struct amk_logger amk_srv_engine_log(const struct amk_server *s);

/* server_loop.c */
int amk_srv_loop_turn(struct amk_server *s, int timeout_ms);
void amk_srv_mark_ready(struct srv_conn *c);
void amk_srv_note_deadline(struct amk_server *s, uint64_t when);
int amk_srv_epoll_set(struct amk_server *s, int op, int fd, uint32_t events, uint64_t data);
uint64_t amk_srv_ev_data(enum srv_ev_kind kind, uint32_t slot, uint32_t gen);

/* server_reap.c */
/* Takes @p p (a process still running, its channel gone): closes its
 * descriptors, SIGHUP, and a deadline for SIGKILL. Never waits. */
void amk_srv_reap_add(struct amk_server *s, struct amk_proc *p);
/* The pidfd of @p pid is readable. */
void amk_srv_reap_event(struct amk_server *s, uint32_t pid);
/* SIGKILL to those past their deadline; notes the next deadline. */
void amk_srv_reap_timers(struct amk_server *s, uint64_t now);
/* amk_server_free(): ends and reaps all that are left, bounded in time
 * (SRV_REAP_FREE_GRACE_MS + SRV_REAP_KILL_WAIT_MS at most). */
void amk_srv_reap_all(struct amk_server *s);

/* server_conn.c */
int amk_srv_conn_new(struct amk_server *s, int fd, struct srv_conn **out);
/* One bounded turn of work; @p can_read / @p can_write from epoll. */
void amk_srv_conn_turn(struct srv_conn *c, int can_read, int can_write);
void amk_srv_conn_timers(struct srv_conn *c, uint64_t now);
/* Starts closing: DISCONNECT with @p reason (0: none), log @p why. */
void amk_srv_conn_close(struct srv_conn *c, int reason, const char *why);
void amk_srv_conn_free(struct srv_conn *c);
/* Drops child descriptor @p fd from the connection's epoll registrations
 * (it is about to be handed over or closed). */
void amk_srv_conn_forget_fd(struct srv_conn *c, int fd);
int amk_srv_conn_send(void *user, const uint8_t *payload, size_t len);

/* server_auth.c */
int amk_srv_auth_new(struct srv_conn *c);
void amk_srv_auth_done(struct srv_conn *c);

/* server_chan.c */
int amk_srv_chan_open_cb(void *user, const struct amk_conn_open_req *req, uint32_t id);
int amk_srv_chan_request_cb(void *user, const struct amk_conn_chreq *req);
int amk_srv_chans_adopt(struct srv_conn *c);
/* Pumps every channel; 1 when some work is left for another turn. */
int amk_srv_chans_pump(struct srv_conn *c);
void amk_srv_chans_free(struct srv_conn *c);
size_t amk_srv_chans_pollfds(struct srv_conn *c, struct pollfd *fds, size_t cap);
/* 1 when a channel's process must be polled for its exit (no pidfd). */
int amk_srv_chans_poll_children(const struct srv_conn *c);
size_t amk_srv_chans_sessions(const struct srv_conn *c);

/* server_sftp.c */
int amk_srv_sftp_new(struct srv_conn *c, uint32_t id, struct srv_sftp **out);
/* Moves data; 1 when done (the channel can be released), 0 running,
 * negative: the connection failed. @p more is set when work is left. */
int amk_srv_sftp_pump(struct srv_sftp *f, int *more);
void amk_srv_sftp_free(struct srv_sftp *f);

/* Sets up s->sftp_budget: the handles all SFTP sessions may hold open
 * together, half of RLIMIT_NOFILE (server_sftp.c). */
void amk_srv_sftp_budget_init(struct amk_server *s);

/* server_hostkeys.c */
/* Keys one hostkeys-prove request may name, and requests per connection. */
#define SRV_PROVE_KEYS_MAX SRV_MAX_HOST_KEYS
#define SRV_PROVES_MAX 4
/*
 * Parses a GLOBAL_REQUEST payload: 0 when it is not
 * hostkeys-prove-00@openssh.com; 1 when it is, with *@p want_reply and
 * the key blobs (a sequence of strings, checked) in *@p keys /
 * *@p keys_len, *@p n_keys of them; AMK_ETRUNCATED when malformed;
 * AMK_ELIMIT for more than SRV_PROVE_KEYS_MAX keys.
 */
int amk_srv_hostkeys_parse_prove(const uint8_t *payload, size_t len, int *want_reply,
    const uint8_t **keys, size_t *keys_len, size_t *n_keys);
int amk_srv_hostkeys_announce(struct srv_conn *c);
/* 1 when @p payload was a hostkeys-prove request (answered), 0 when not,
 * negative on failure. */
int amk_srv_hostkeys_maybe_prove(struct srv_conn *c, const uint8_t *payload, size_t len);

#endif
