/*
 * AMIKO_CAPTURE builds only (a CMake option, off by default): every
 * payload a transport hands up is appended to
 * $AMK_CAPTURE_DIR/{client,server}-PID-N.bin (N numbers the engines of a
 * process) as a 4-byte length and the payload, mode 0600, for
 * fuzz/capture_sessions.py to turn into fuzz seeds. Passwords included:
 * never in a build anyone uses. Called where the I/O layers take payloads
 * from the sans-I/O transport (io/session.c, server/server_conn.c).
 */
#ifndef AMK_IO_CAPTURE_H
#define AMK_IO_CAPTURE_H

#ifdef AMK_CAPTURE
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

void amk_capture_payload(struct amk_transport *t, int server, const uint8_t *p, size_t len);
#endif

#endif
