/*
 * ProFTPD's mod_sftp (Debian's proftpd-core and proftpd-mod-crypto) as an
 * SFTP server for amiko's client, under the serve fixture: test_sftp_peers.c
 * runs sftp_ops.c's suite against it.
 *
 * proftpd_server_start() writes a proftpd.conf of its own into the
 * fixture directory and runs `proftpd -n -c` on it as a child that dies
 * with the test: mod_sftp only (no FTP port) on a free loopback port,
 * the fixture's host keys, the fixture's Ed25519 user key (RFC 4716,
 * converted by ssh-keygen -e) as the only way in, users from its own
 * AuthUserFile (the current user, home = the fixture's work directory),
 * no PAM, no /etc/proftpd, every pid, scoreboard and log file in the
 * fixture directory (logs in serve.log). (Before it reads any config,
 * proftpd's init_ctrls2() binds and removes /run/test.sock, which only
 * root can.) It runs as the current user: root (CI) needs RootLogin,
 * anyone else keeps their own uid.
 */
#ifndef AMK_TESTS_PROFTPD_SERVER_H
#define AMK_TESTS_PROFTPD_SERVER_H

#include "serve_fixture.h"

#define PROFTPD_PATH "/usr/sbin/proftpd"
#define PROFTPD_MOD_SFTP "/usr/lib/proftpd/mod_sftp.so"

/*
 * Starts proftpd with @p extra configuration lines (may be NULL) after
 * the fixed ones and waits (bounded) until it speaks SSH on its port,
 * then hands it to the fixture (serve_fixture_adopt(): fx.port,
 * fx.known_hosts; serve_fixture_stop() ends it). 0; FIXTURE_SKIP when
 * proftpd or mod_sftp is not installed; -1 with proftpd's log on stderr.
 * AMK_PROFTPD_TRACE=1 also writes its sftp and ssh2 trace channels to
 * proftpd.trace in the fixture directory (AMK_KEEP_FIXTURE=1 keeps it).
 */
int proftpd_server_start(struct serve_fixture *f, const char *extra);

#endif
