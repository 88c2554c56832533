/*
 * Protocol version exchange, RFC 4253 §4.2: our identification line and
 * the peer's, with the lines a server may send before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport_int.h"

#define VERSION_PREFIX "SSH-2.0-amiko_"

int
amk_version_local(struct amk_transport *t, const char *comment)
{
    char line[AMK_TRANSPORT_VERSION_MAX + 1];
    int n;
    int r = AMK_EINTERNAL;

    if (comment != NULL && comment[0] != '\0')
        n = snprintf(line, sizeof(line), "%s%s %s", VERSION_PREFIX, AMK_VERSION_STRING, comment);
    else
        n = snprintf(line, sizeof(line), "%s%s", VERSION_PREFIX, AMK_VERSION_STRING);
    /* RFC 4253 §4.2: at most 255 characters including CR LF. */
    if (n < 0 || (size_t)n + 2 > AMK_TRANSPORT_VERSION_MAX)
        return AMK_EINVAL;
    for (int i = 0; i < n; i++) {
        if (line[i] < 0x20 || line[i] > 0x7e)
            return AMK_EINVAL;
    }
    if ((t->local_version = strdup(line)) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_buf_put(&t->out, line, (size_t)n)) != AMK_OK ||
        (r = amk_buf_put(&t->out, "\r\n", 2)) != AMK_OK)
        return r;
    return AMK_OK;
}

int
amk_version_software_is(const char *line, const char *prefix)
{
    const char *soft;

    if (line == NULL || prefix == NULL || strncmp(line, "SSH-", 4) != 0 ||
        (soft = strchr(line + 4, '-')) == NULL)
        return 0;
    return strncmp(soft + 1, prefix, strlen(prefix)) == 0;
}

/* Checks one complete line (without CR LF) that starts with "SSH-". */
static int
version_check(struct amk_transport *t, const char *line)
{
    /* RFC 4253 §5.1: "SSH-1.99" announces compatibility with SSH-2. */
    if (strncmp(line, "SSH-2.0-", 8) == 0 || strncmp(line, "SSH-1.99-", 9) == 0) {
        const char *sw = strchr(line + 4, '-') + 1;
        if (*sw == '\0' || *sw == ' ')
            return amk_transport_fail(t, AMK_EVERSION, AMK_DISCONNECT_PROTOCOL_ERROR,
                "peer version line has no software version: \"%.80s\"", line);
        return AMK_OK;
    }
    if (strncmp(line, "SSH-1.", 6) == 0)
        return amk_transport_fail(t, AMK_EVERSION, AMK_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED,
            "peer speaks SSH protocol 1 only (\"%.80s\"); amiko supports SSH-2",
            line);
    return amk_transport_fail(t, AMK_EVERSION, AMK_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED,
        "unsupported protocol version: \"%.80s\"", line);
}

int
amk_version_parse(struct amk_transport *t)
{
    char line[AMK_TRANSPORT_VERSION_MAX + 1];

    for (;;) {
        const uint8_t *p = amk_inbuf_ptr(&t->in);
        size_t avail = amk_inbuf_len(&t->in);
        size_t i, n;
        int r;

        for (i = 0; i < avail && p[i] != '\n'; i++) {
            /* RFC 4253 §4.2: at most 255 characters including CR LF. */
            if (i + 1 >= AMK_TRANSPORT_VERSION_MAX)
                return amk_transport_fail(t, AMK_EVERSION, AMK_DISCONNECT_PROTOCOL_ERROR,
                    "peer line before key exchange is longer than %d bytes",
                    AMK_TRANSPORT_VERSION_MAX);
            if (p[i] == '\0')
                return amk_transport_fail(t, AMK_EVERSION, AMK_DISCONNECT_PROTOCOL_ERROR,
                    "peer version line contains a NUL byte");
        }
        if (i == avail)
            return AMK_EAGAIN;
        n = i;
        if (n > 0 && p[n - 1] == '\r')
            n--;    /* CR LF; a bare LF is accepted too */
        memcpy(line, p, n);
        line[n] = '\0';
        amk_inbuf_consume(&t->in, i + 1);
        t->in_abs += i + 1;
        if (strncmp(line, "SSH-", 4) == 0) {
            if ((r = version_check(t, line)) != AMK_OK)
                return r;
            if ((t->peer_version = strdup(line)) == NULL)
                return amk_transport_fail(t, AMK_ENOMEM, 0, NULL);
            t->vstate = AMK_VERSION_DONE;
            amk_log(&t->log, AMK_LOG_DEBUG, "peer version: %s", line);
            return AMK_OK;
        }
        /* RFC 4253 §4.2: only the server may send lines before its version. */
        if (t->role == AMK_TRANSPORT_SERVER)
            return amk_transport_fail(t, AMK_EVERSION, AMK_DISCONNECT_PROTOCOL_ERROR,
                "client sent a line that is not a version line: \"%.80s\"", line);
        t->banner_lines++;
        t->banner_bytes += i + 1;
        if (t->banner_lines > AMK_TRANSPORT_MAX_BANNER_LINES ||
            t->banner_bytes > AMK_TRANSPORT_MAX_BANNER_BYTES)
            return amk_transport_fail(t, AMK_ELIMIT, AMK_DISCONNECT_PROTOCOL_ERROR,
                "server sent more than %d lines or %zu bytes before its version line",
                AMK_TRANSPORT_MAX_BANNER_LINES, AMK_TRANSPORT_MAX_BANNER_BYTES);
        amk_log(&t->log, AMK_LOG_DEBUG, "server banner: %.200s", line);
    }
}
