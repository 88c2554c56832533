/*
 * Fuzz target for the SFTP client engine (src/sftp/sftp_client.c and the
 * reply decoder of sftp_codec.c): the input is the server's side of the
 * stream. The first byte chooses how it is chunked; the engine has one
 * request of each kind outstanding once VERSION arrived, and every reply
 * that arrives is taken and checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sftp/sftp_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t HANDLE[4] = { 0, 0, 0, 1 };

static void
send_all(struct amk_sftpc *c)
{
    static const uint8_t types[] = {
        AMK_SSH_FXP_OPEN, AMK_SSH_FXP_CLOSE, AMK_SSH_FXP_READ, AMK_SSH_FXP_WRITE,
        AMK_SSH_FXP_LSTAT, AMK_SSH_FXP_FSTAT, AMK_SSH_FXP_SETSTAT, AMK_SSH_FXP_FSETSTAT,
        AMK_SSH_FXP_OPENDIR, AMK_SSH_FXP_READDIR, AMK_SSH_FXP_REMOVE, AMK_SSH_FXP_MKDIR,
        AMK_SSH_FXP_RMDIR, AMK_SSH_FXP_REALPATH, AMK_SSH_FXP_STAT, AMK_SSH_FXP_RENAME,
        AMK_SSH_FXP_READLINK, AMK_SSH_FXP_SYMLINK, AMK_SSH_FXP_EXTENDED,
    };
    struct amk_sftp_attrs a = { .flags = AMK_SFTP_ATTR_PERMISSIONS, .permissions = 0644 };
    struct amk_sftp_req q = {
        .path = "/tmp/x", .path2 = "/tmp/y", .handle = HANDLE, .handle_len = sizeof(HANDLE),
        .offset = 0, .len = 32768, .data = "abc", .data_len = 3, .pflags = 1, .attrs = &a,
        .ext_name = "limits@openssh.com",
    };
    uint32_t id;

    for (size_t i = 0; i < sizeof(types); i++)
        if (amk_sftpc_send(c, types[i], &q, &id) != AMK_OK)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amk_sftpc *c = NULL;
    struct amk_sftp_reply rep;
    size_t chunk, len;
    uint32_t id;
    int sent = 0;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] + 1;
    data++;
    size--;
    if (amk_sftpc_new(&c) != AMK_OK)
        abort();
    (void)amk_sftpc_output(c, &len);
    if (amk_sftpc_output_consume(c, len) != AMK_OK)
        abort();
    while (size > 0) {
        size_t n = size < chunk ? size : chunk;
        int r = amk_sftpc_input(c, data, n);

        data += n;
        size -= n;
        if (r != AMK_OK) {
            if (amk_sftpc_error(c) != r || r == AMK_OK)
                abort();
            break;
        }
        if (amk_sftpc_ready(c) && !sent) {
            send_all(c);
            sent = 1;
        }
        while (amk_sftpc_next_done(c, &id) == AMK_OK) {
            if (amk_sftpc_take(c, id, &rep) != AMK_OK)
                abort();
            if (rep.type == AMK_SSH_FXP_HANDLE &&
                (rep.handle_len == 0 || rep.handle_len > AMK_SFTP_HANDLE_MAX))
                abort();
            for (size_t i = 0; i < rep.count; i++)
                if (rep.names[i].filename == NULL || rep.names[i].longname == NULL)
                    abort();
            amk_sftp_reply_clear(&rep);
        }
        /* every reply that arrived was taken: none counted still */
        if (amk_sftpc_arrived(c) != 0)
            abort();
    }
    amk_sftpc_free(c);
    return 0;
}
