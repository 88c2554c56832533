/*
 * Where an upper-layer engine (user authentication, channels) puts the
 * payloads it wants sent. The engines above the transport never hold a
 * transport pointer for sending: they call a sink, which the caller wires
 * to amk_transport_send() (amk_transport_pkt_sink()) or, in tests, to a
 * buffer that records what was sent.
 */
#ifndef AMK_TRANSPORT_PKT_SINK_H
#define AMK_TRANSPORT_PKT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/error.h>

struct amk_transport;

/*
 * A packet sink. @c send MUST queue (or fail to queue) exactly one packet
 * whose payload is the @p len bytes at @p payload, message number first,
 * and return AMK_OK or a negative AMK_E... code; it MUST NOT call back
 * into the engine that called it. The payload is valid during the call
 * only and may hold secrets: a sink that copies it wipes its copy.
 */
struct amk_pkt_sink {
    int (*send)(void *user, const uint8_t *payload, size_t len);
    void *user;
    /* Optional: the same for a payload in two pieces, @p payload then
     * @p dlen bytes at @p data (channel data after its header), so the
     * engine does not join them first. NULL: the engine joins and calls
     * @c send. */
    int (*send2)(void *user, const uint8_t *payload, size_t len, const uint8_t *data,
        size_t dlen);
};

/* Calls @p sink; AMK_EINVAL when it has no send function. */
int amk_pkt_sink_put(const struct amk_pkt_sink *sink, const uint8_t *payload, size_t len)
    __attribute__((warn_unused_result));

/* A sink that sends through amk_transport_send() on @p t. */
struct amk_pkt_sink amk_transport_pkt_sink(struct amk_transport *t);

#endif
