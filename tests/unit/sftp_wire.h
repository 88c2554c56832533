/* Big-endian fields and strings for the scripted SFTP servers of the unit
 * tests (test_sftp_file.c, test_sftp_hostile_server.c, test_sftp_symlink.c,
 * test_sftp_cli_paths.c),
 * which speak the wire format with their own encoder, independent of
 * src/sftp. */
#ifndef AMK_TEST_SFTP_WIRE_H
#define AMK_TEST_SFTP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static inline size_t
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* A string: its length, then its bytes; the bytes written. */
static inline size_t
put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    put32(p, (uint32_t)n);
    memcpy(p + 4, s, n);
    return 4 + n;
}

#endif
