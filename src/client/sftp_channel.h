/*
 * SFTP over an SSH session channel with the "sftp" subsystem (RFC 4254
 * §6.5), driven blocking over an io session and its connection engine.
 * Until the front layer (src/client) owns session and channels, the
 * caller passes both in; they MUST outlive the amk_sftp, and the session
 * MUST be in blocking mode. While SFTP waits it hands every connection
 * message (80..127) to @p conn, so other channels' data is buffered there.
 */
#ifndef AMK_CLIENT_SFTP_CHANNEL_H
#define AMK_CLIENT_SFTP_CHANNEL_H

#include <amiko/sftp.h>

struct amk_session;
struct amk_conn;

/*
 * Opens a session channel on @p conn, requests the "sftp" subsystem and
 * starts SFTP on it. AMK_OK; AMK_ENOTSUP (the server refused the channel
 * or the subsystem); AMK_EINVAL; errors of the session, the connection
 * engine and SFTP start-up (amk_sftp_new_io()).
 */
int amk_sftp_open_channel(struct amk_sftp **out, struct amk_session *s, struct amk_conn *conn)
    __attribute__((warn_unused_result));

#endif
