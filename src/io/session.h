/*
 * The session pump, for the layers above the transport (auth, channels)
 * and for tests: packets in and out of a session, driven in the session's
 * mode (blocking with its timeout, or non-blocking with AMK_EAGAIN and
 * amk_session_block_directions()). The public half is amiko/session.h.
 */
#ifndef AMK_IO_SESSION_H
#define AMK_IO_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/session.h>

struct amk_transport;

/* The session's engine; NULL before amk_session_handshake() created it. */
struct amk_transport *amk_session_transport(struct amk_session *s);

/*
 * Queues one packet (message number first; see amk_transport_send) and
 * sends as much as the socket takes. Blocking: returns once the engine's
 * output is flushed (packets held during a key exchange go out after it).
 * Non-blocking: AMK_OK once the packet is queued (drive the rest with
 * amk_session_flush()); AMK_EAGAIN only when the engine refused it because
 * too much is queued: call again with the same packet.
 * The handshake must be done (AMK_ESTATE otherwise). Other codes: those of
 * amk_transport_send() and of the I/O (see amk_session_handshake()).
 */
int amk_session_send_packet(struct amk_session *s, const uint8_t *payload, size_t len)
    __attribute__((warn_unused_result));

/*
 * The next packet for the upper layer: *@p payload / *@p len (message
 * number first), valid until the next call on @p s. Blocking: waits for it
 * (timeout: AMK_ETIMEOUT). Non-blocking: AMK_EAGAIN when none is there.
 * Key exchanges the peer starts meanwhile are completed on the way.
 */
int amk_session_recv_packet(struct amk_session *s, const uint8_t **payload, size_t *len)
    __attribute__((warn_unused_result));
/*
 * The next packet already read from the connection, never reading (or
 * waiting) for more: AMK_EAGAIN when the engine holds no complete one.
 * For callers that stop taking input for now and leave the rest in the
 * socket, where a (level-triggered) poll still sees it.
 */
int amk_session_recv_buffered(struct amk_session *s, const uint8_t **payload, size_t *len)
    __attribute__((warn_unused_result));

/* Sends everything the engine has queued (non-blocking: AMK_EAGAIN until then). */
int amk_session_flush(struct amk_session *s) __attribute__((warn_unused_result));

#endif
