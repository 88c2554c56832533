/* Packet sinks (see pkt_sink.h). */
#include "transport/pkt_sink.h"

#include "transport/transport.h"

int
amk_pkt_sink_put(const struct amk_pkt_sink *sink, const uint8_t *payload, size_t len)
{
    if (sink == NULL || sink->send == NULL)
        return AMK_EINVAL;
    return (*sink->send)(sink->user, payload, len);
}

static int
transport_sink_send(void *user, const uint8_t *payload, size_t len)
{
    return amk_transport_send(user, payload, len);
}

static int
transport_sink_send2(void *user, const uint8_t *payload, size_t len, const uint8_t *data,
    size_t dlen)
{
    return amk_transport_send2(user, payload, len, data, dlen);
}

struct amk_pkt_sink
amk_transport_pkt_sink(struct amk_transport *t)
{
    struct amk_pkt_sink s = { .send = transport_sink_send, .user = t,
        .send2 = transport_sink_send2 };

    return s;
}
