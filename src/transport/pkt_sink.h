/*
 * Where an upper-layer engine (auth, channels) emits the payloads it wants
 * sent: one call per SSH packet, message number first. Over a transport
 * the sink is usually amk_transport_send(); in tests it is a recorder.
 *
 * send() returns AMK_OK when the payload was taken (copied: @p payload is
 * only valid during the call), AMK_EAGAIN when the payload was not taken
 * because the output is full (retry after draining it), or another
 * negative code when the packet can never be sent (the connection failed).
 */
#ifndef AMK_TRANSPORT_PKT_SINK_H
#define AMK_TRANSPORT_PKT_SINK_H

#include <stddef.h>
#include <stdint.h>

struct amk_pkt_sink {
    int (*send)(void *user, const uint8_t *payload, size_t len);
    void *user;
};

#endif
