/*
 * Inside the transport engine: the state shared by version.c, packet.c,
 * kexinit.c, kex.c, the kex_*.c methods, compress.c and transport.c.
 * The public contract is transport.h.
 */
#ifndef AMK_TRANSPORT_TRANSPORT_INT_H
#define AMK_TRANSPORT_TRANSPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "crypto/kex.h"
#include "transport/transport.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/ratelim.h"

struct amk_key;
struct amk_compress;

/* Markers in the KEX name-list (RFC 8308 §2.1, OpenSSH PROTOCOL §1.10). */
#define AMK_EXT_INFO_C "ext-info-c"
#define AMK_EXT_INFO_S "ext-info-s"
#define AMK_KEX_STRICT_C "kex-strict-c-v00@openssh.com"
#define AMK_KEX_STRICT_S "kex-strict-s-v00@openssh.com"

/* Method-specific message numbers (RFC 4253 §8, RFC 5656 §7.1, RFC 4419 §5). */
#define AMK_MSG_KEXDH_INIT 30
#define AMK_MSG_KEXDH_REPLY 31
#define AMK_MSG_KEX_DH_GEX_REQUEST_OLD 30
#define AMK_MSG_KEX_DH_GEX_GROUP 31
#define AMK_MSG_KEX_DH_GEX_INIT 32
#define AMK_MSG_KEX_DH_GEX_REPLY 33
#define AMK_MSG_KEX_DH_GEX_REQUEST 34

/* RFC 4252 §5.1: zlib@openssh.com starts right after it. */
#define AMK_MSG_USERAUTH_SUCCESS 52

#define AMK_KEXINIT_COOKIE_LEN 16
#define AMK_PKT_MIN_PADDING 4                    /* RFC 4253 §6 */
#define AMK_PKT_MIN_BLOCK 8
#define AMK_PKT_HEADER_LEN 5                     /* packet_length, padding_length */
#define AMK_TRANSPORT_INQ_MAX ((size_t)1024 * 1024)  /* decoded, undelivered input */
#define AMK_TRANSPORT_SENDQ_MAX ((size_t)8 * 1024 * 1024)

/* GEX sizes the client asks for (RFC 4419 §3, RFC 8270). */
#define AMK_GEX_MIN_BITS 2048
#define AMK_GEX_MAX_BITS 8192
/* The smallest group the server offers unless configured otherwise. */
#define AMK_GEX_SERVER_MIN_BITS 3072

/* Per-exchange key material state of one method. */
struct amk_kex_state {
    uint8_t x25519_priv[AMK_X25519_LEN];
    uint8_t x25519_pub[AMK_X25519_LEN];
    struct amk_ecdh *ecdh;
    struct amk_dh *dh;
    /* GEX parameters as sent / received. */
    uint32_t gex_min, gex_n, gex_max;
};

/*
 * One KEX method (RFC 4253 §7.1 "kex_algorithms"). The generic
 * exchange (kex.c) calls keypair, then shared with the peer's value. The
 * public values are strings (ECDH, RFC 5656 §4) or mpints (DH,
 * RFC 4253 §8) per pub_mpint. GEX adds its group negotiation in kex_gex.c.
 */
struct amk_kex_impl {
    const char *name;
    enum amk_hash_alg hash;
    int pub_mpint;          /* Q_C / Q_S are mpints (e, f) */
    int gex;                /* RFC 4419 group exchange */
    int legacy;             /* offered only when asked for */
    int server_default;     /* in the server's default list */
    int group;              /* RFC 3526 group for fixed-group DH */
    enum amk_ec_curve curve;
    /* Generates our ephemeral key; returns our public value (view into ks). */
    int (*keypair)(struct amk_kex_state *ks, const struct amk_kex_impl *impl,
        const struct amk_rng *rng, const uint8_t **pub, size_t *pub_len);
    /* Computes K from the peer's public value and appends it as an mpint to @p k. */
    int (*shared)(struct amk_kex_state *ks, const uint8_t *peer, size_t peer_len,
        struct amk_buf *k);
};

/* Method tables, one file each. */
extern const struct amk_kex_impl amk_kex_curve25519_sha256;
extern const struct amk_kex_impl amk_kex_curve25519_sha256_libssh;
extern const struct amk_kex_impl amk_kex_ecdh_nistp256;
extern const struct amk_kex_impl amk_kex_ecdh_nistp384;
extern const struct amk_kex_impl amk_kex_ecdh_nistp521;
extern const struct amk_kex_impl amk_kex_dh_group14_sha1;
extern const struct amk_kex_impl amk_kex_dh_group14_sha256;
extern const struct amk_kex_impl amk_kex_dh_group16_sha512;
extern const struct amk_kex_impl amk_kex_dh_group18_sha512;
extern const struct amk_kex_impl amk_kex_dh_gex_sha256;

/* kex_dh.c: helpers shared with kex_gex.c. */
int amk_kex_dh_keypair(struct amk_kex_state *ks, const struct amk_kex_impl *impl,
    const struct amk_rng *rng, const uint8_t **pub, size_t *pub_len) AMK_MUST_CHECK_INTERNAL;
int amk_kex_dh_shared(struct amk_kex_state *ks, const uint8_t *peer, size_t peer_len,
    struct amk_buf *k) AMK_MUST_CHECK_INTERNAL;
void amk_kex_state_clear(struct amk_kex_state *ks);

/* Where the key exchange stands. */
enum amk_kex_phase {
    AMK_KEX_IDLE = 0,       /* keys in use; no exchange running */
    AMK_KEX_INIT_SENT,      /* our KEXINIT sent, waiting for the peer's */
    AMK_KEX_GEX_GROUP,      /* client: GEX_REQUEST sent, waiting for GEX_GROUP */
    AMK_KEX_GEX_REQUEST,    /* server: waiting for GEX_REQUEST */
    AMK_KEX_REPLY,          /* client: INIT sent, waiting for the REPLY */
    AMK_KEX_INIT,           /* server: waiting for the client's INIT */
    AMK_KEX_NEWKEYS         /* our NEWKEYS sent, waiting for the peer's */
};

/* Names negotiated by KEXINIT (RFC 4253 §7.1). */
struct amk_kex_negotiated {
    const struct amk_kex_impl *kex;
    char hostkey[AMK_NAME_MAX + 1];
    char cipher[2][AMK_NAME_MAX + 1];   /* [0] c2s, [1] s2c */
    char mac[2][AMK_NAME_MAX + 1];      /* "" for AEAD */
    char comp[2][AMK_NAME_MAX + 1];
};

/* One direction of the binary packet protocol. */
struct amk_transport_dir {
    struct amk_pkt_cipher *cipher;  /* NULL: no protection yet */
    struct amk_compress *comp;      /* NULL: none */
    int comp_delayed;               /* zlib@openssh.com waiting for authentication */
    uint32_t seq;                   /* RFC 4253 §6.4, wraps */
    uint64_t bytes;                 /* since the last key exchange */
    uint64_t packets;
    uint64_t total_bytes;
};

/*
 * Received bytes (inbuf.c): unread data is d[off..size); room for more
 * input follows it. The io layer reads straight into that room
 * (amk_transport_input_space), and packets are decrypted in place.
 */
struct amk_inbuf {
    uint8_t *d;
    size_t off;
    size_t size;
    size_t alloc;
};

/* Room for at least @p want more bytes at the end: *@p ptr, *@p cap.
 * AMK_ELIMIT beyond AMK_TRANSPORT_INPUT_MAX, AMK_ENOMEM. */
int amk_inbuf_space(struct amk_inbuf *b, size_t want, uint8_t **ptr, size_t *cap)
    AMK_MUST_CHECK_INTERNAL;
/* Appends the @p n bytes written at the pointer amk_inbuf_space() gave. */
void amk_inbuf_commit(struct amk_inbuf *b, size_t n);
/* Drops @p n unread bytes (n <= amk_inbuf_len()). */
void amk_inbuf_consume(struct amk_inbuf *b, size_t n);
void amk_inbuf_free(struct amk_inbuf *b);

static inline size_t
amk_inbuf_len(const struct amk_inbuf *b)
{
    return b->size - b->off;
}

static inline uint8_t *
amk_inbuf_ptr(struct amk_inbuf *b)
{
    /* No storage yet: NULL + 0 is undefined. */
    return b->d == NULL ? NULL : b->d + b->off;
}

/*
 * One received upper-layer payload waiting for amk_transport_recv(): in
 * place in t->in (the packet starting at absolute input offset @c start,
 * payload after its 5-byte header), or, for a decompressed payload,
 * the next one in t->zq (@c inline_ set).
 */
struct amk_inq_entry {
    uint64_t start;
    uint32_t len;
    uint32_t inline_;
};

enum amk_version_state {
    AMK_VERSION_WAIT = 0,
    AMK_VERSION_DONE
};

/* Random padding drawn from OpenSSL in batches of this many bytes: one
 * RAND_bytes per packet cost more than the packet's encryption (OpenSSL
 * 3 calls getpid() on every draw to notice forks). */
#define AMK_PAD_POOL 512

struct amk_transport {
    enum amk_transport_role role;
#ifdef AMK_CAPTURE
    unsigned long capture_id;           /* capture file number (AMIKO_CAPTURE builds only) */
#endif
    struct amk_logger log;
    const struct amk_rng *rng;
    uint8_t pad_pool[AMK_PAD_POOL];     /* unused random bytes at the end */
    size_t pad_left;
    amk_transport_hostkey_fn hostkey_cb;
    void *user;
    struct amk_key *const *host_keys;
    size_t n_host_keys;

    /* Our lists, already applied to the defaults. */
    char *kex_algs;
    char *hostkey_algs;
    char *ciphers;
    char *macs;
    char *compression;
    char *server_sig_algs;      /* server: what its EXT_INFO announces */

    /* Version exchange. */
    enum amk_version_state vstate;
    char *local_version;
    char *peer_version;
    size_t banner_lines;
    size_t banner_bytes;

    /* Buffers. */
    /*
     * Input: t->in holds [decoded packets | bytes not decoded yet]. The
     * first in_decoded bytes are decrypted packets already dispatched;
     * those holding upper-layer payloads stay there until delivered
     * (zero copy), listed in order in inq. in_abs counts the bytes
     * consumed from t->in so far, the origin of amk_inq_entry.start.
     */
    struct amk_inbuf in;
    size_t in_decoded;
    uint64_t in_abs;
    size_t in_room;             /* room amk_transport_input_space() gave */
    struct amk_buf inq;         /* struct amk_inq_entry, in order */
    struct amk_buf zq;          /* inline payloads (decompressed): u32 len, bytes */
    struct amk_buf inplace;     /* uint64_t start of each in-place entry of inq, in order */
    int ret_pending;            /* amk_transport_recv() returned a payload ... */
    int ret_inline;             /* ... from zq (with this length + 4) */
    uint32_t ret_len;
    uint64_t ret_start;         /* ... or in place, its packet starting here */
    struct amk_buf out;         /* bytes to send */
    struct amk_buf held;        /* upper-layer payloads held during KEX: u32 len, bytes */
    struct amk_buf pkt;         /* scratch: one decompressed payload */
    /* The packet amk_packet_next() decoded last: its payload (a view into
     * t->in, or t->pkt when pkt_inline) and its absolute start. */
    const uint8_t *pkt_payload;
    size_t pkt_len;
    int pkt_inline;
    uint64_t pkt_start;
    int have_len;               /* packet_length of the next packet to decode is known */
    uint32_t in_packet_len;

    struct amk_transport_dir dir_out;
    struct amk_transport_dir dir_in;
    uint32_t packets_received;  /* total, for "KEXINIT first" under strict KEX */
    int initial_wrap;           /* a sequence number wrapped before the first NEWKEYS */

    /* Key exchange. */
    enum amk_kex_phase phase;
    int kex_count;              /* completed exchanges */
    int kexinit_sent;           /* ours, this exchange */
    int kexinit_received;       /* the peer's, this exchange */
    int newkeys_sent;
    int newkeys_received;
    int strict;                 /* strict KEX negotiated (first KEXINIT) */
    int no_strict;              /* we don't offer strict KEX (tests) */
    int peer_ext_info;          /* peer offered ext-info-c (we are the server) */
    int ignore_guess;           /* drop the peer's wrong first_kex_packet_follows guess */
    struct amk_buf my_kexinit;  /* I_C or I_S payloads */
    struct amk_buf peer_kexinit;
    struct amk_kex_negotiated neg;
    struct amk_kex_state ks;
    struct amk_buf gex_p;       /* GEX group as used in the hash (magnitudes) */
    struct amk_buf gex_g;
    struct amk_buf client_pub;  /* Q_C / e, raw value */
    uint8_t session_id[AMK_HASH_MAX_LEN];
    size_t session_id_len;
    struct amk_pkt_cipher *pending_out; /* keys waiting for our NEWKEYS */
    struct amk_pkt_cipher *pending_in;  /* keys waiting for the peer's NEWKEYS */
    struct amk_transport_algs algs;     /* last completed exchange */
    struct amk_transport_algs pending_algs;
    struct amk_key *host_key;   /* client: the server's, last exchange */
    char *peer_sig_algs;        /* client: server-sig-algs */

    /* Limits and timers. */
    uint64_t rekey_bytes;
    uint64_t rekey_ms;
    uint64_t handshake_timeout_ms;
    uint64_t now_ms;
    int have_time;
    uint64_t start_ms;
    uint64_t last_kex_ms;

    /* Work the peer can trigger (dispatch.c, set up on first use). */
    struct amk_ratelim rl_kexinit;  /* KEXINITs that start an exchange */
    struct amk_ratelim rl_glitch;   /* IGNORE, DEBUG, UNIMPLEMENTED, unknown */
    uint64_t rl_bytes;              /* payload bytes not yet credited to rl_kexinit */
    int rl_ready;

    /* State of the session. */
    int authenticated;
    int closed;                 /* we sent DISCONNECT */
    int error;                  /* first fatal error */
    struct amk_error err;
    uint32_t peer_disconnect_reason;
    char *peer_disconnect_msg;
};

/* transport.c: failure. Records @p code and its detail, queues DISCONNECT
 * with @p reason (0: none) and returns @p code; when the engine had
 * already failed, changes nothing and returns that first error. */
int amk_transport_fail(struct amk_transport *t, int code, uint32_t reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5))) AMK_MUST_CHECK_INTERNAL;
/* transport.c: sends one packet now, with the side effects of some
 * message types (the server's USERAUTH_SUCCESS starts zlib@openssh.com). */
int amk_transport_send_now(struct amk_transport *t, const uint8_t *payload, size_t len)
    AMK_MUST_CHECK_INTERNAL;
int amk_transport_send_now2(struct amk_transport *t, const uint8_t *payload, size_t hlen,
    const uint8_t *data, size_t dlen) AMK_MUST_CHECK_INTERNAL;
/* dispatch.c: handles one decrypted, decompressed payload. */
int amk_transport_dispatch(struct amk_transport *t, struct amk_buf *payload)
    AMK_MUST_CHECK_INTERNAL;
/* transport.c: releases held upper-layer packets after our NEWKEYS. */
int amk_transport_flush_held(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;

/* version.c */
int amk_version_local(struct amk_transport *t, const char *comment) AMK_MUST_CHECK_INTERNAL;
/* Consumes lines from t->in until the peer's version line is known.
 * AMK_EAGAIN when more input is needed. */
int amk_version_parse(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;

/* transport.c: queues the payload of the packet amk_packet_next() decoded
 * last (viewed by @p payload) for amk_transport_recv(). */
int amk_transport_queue_upper(struct amk_transport *t, const struct amk_buf *payload)
    AMK_MUST_CHECK_INTERNAL;

/* packet.c: the binary packet protocol (RFC 4253 §6). */
int amk_packet_send(struct amk_transport *t, const uint8_t *payload, size_t len)
    AMK_MUST_CHECK_INTERNAL;
/* The same with the payload in two pieces, @p payload then @p data (each
 * copied once, into the packet). */
int amk_packet_send2(struct amk_transport *t, const uint8_t *payload, size_t hlen,
    const uint8_t *data, size_t dlen) AMK_MUST_CHECK_INTERNAL;
/* Decodes (decrypts in place) the next complete packet after the decoded
 * part of t->in: t->pkt_payload / pkt_len (in place, or decompressed into
 * t->pkt), and grows t->in_decoded by the packet. AMK_EAGAIN when
 * incomplete. */
int amk_packet_next(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;

/* kexinit.c: negotiation (RFC 4253 §7.1). */
int amk_kexinit_build(struct amk_transport *t, struct amk_buf *out) AMK_MUST_CHECK_INTERNAL;
int amk_kexinit_negotiate(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;
const struct amk_kex_impl *amk_kex_impl_find(const char *name);
/* Every KEX method name, and the role's defaults. */
const char *amk_kex_names(void);
int amk_kex_defaults(enum amk_transport_role role, char **out) AMK_MUST_CHECK_INTERNAL;

/* kex.c: the state machine. */
int amk_kex_start(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;
int amk_kex_handle(struct amk_transport *t, uint8_t type, struct amk_buf *msg)
    AMK_MUST_CHECK_INTERNAL;
/* Sends the method's first message (client) after negotiation. */
int amk_kex_client_begin(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;
/* Completes the generic exchange: client with the server's reply fields,
 * server with the client's public value. */
int amk_kex_client_reply(struct amk_transport *t, struct amk_buf *msg) AMK_MUST_CHECK_INTERNAL;
int amk_kex_server_init(struct amk_transport *t, struct amk_buf *msg) AMK_MUST_CHECK_INTERNAL;
void amk_kex_reset(struct amk_transport *t);

/* kex_gex.c */
int amk_gex_client_begin(struct amk_transport *t) AMK_MUST_CHECK_INTERNAL;
int amk_gex_client_group(struct amk_transport *t, struct amk_buf *msg) AMK_MUST_CHECK_INTERNAL;
int amk_gex_server_request(struct amk_transport *t, struct amk_buf *msg) AMK_MUST_CHECK_INTERNAL;

/* compress.c: zlib streams for one direction (RFC 4253 §6.2). */
int amk_compress_new(struct amk_compress **out, int deflate_dir) AMK_MUST_CHECK_INTERNAL;
void amk_compress_free(struct amk_compress *c);
/* Replaces @p data by its compressed / decompressed form in @p out. */
int amk_compress_deflate(struct amk_compress *c, const uint8_t *data, size_t len,
    struct amk_buf *out) AMK_MUST_CHECK_INTERNAL;
int amk_compress_inflate(struct amk_compress *c, const uint8_t *data, size_t len,
    struct amk_buf *out, size_t max) AMK_MUST_CHECK_INTERNAL;

#endif
