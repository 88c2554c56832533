#!/usr/bin/python3
"""An SFTP server of another SSH implementation, for amiko's SFTP client.

Run by test_sftp_peers.c with /usr/bin/python3 (Debian's packages):

    sftp_peer_server.py KIND PORT_FILE HOST_KEY AUTHORIZED_KEYS

KIND is "asyncssh" (python3-asyncssh and its own SFTPServer, no chroot) or
"paramiko" (python3-paramiko; Paramiko ships only SFTPServerInterface, so
LocalFS below serves the local file system). Either listens on 127.0.0.1,
a port the kernel picks, with HOST_KEY (an OpenSSH private key file) and
publickey authentication of any user by a key of AUTHORIZED_KEYS; paths
are the same for the client as here. It follows amiko serve's contract:
"listening on 127.0.0.1:PORT" on stderr, then "PORT\\n" written atomically
to PORT_FILE, whose directory is its working directory. Serves until
killed. Exit 77 when the module cannot be imported (the test is skipped),
2 on bad arguments.
"""
import base64
import os
import socket
import sys
import threading


def announce(port_file, port):
    """amiko serve's contract: the log line, then the port file, atomically."""
    print("listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, port_file)


# --- AsyncSSH ---------------------------------------------------------------

def serve_asyncssh(port_file, host_key, authorized_keys):
    import asyncio
    import asyncssh

    async def run():
        # sftp_factory=True: asyncssh.SFTPServer itself, rooted at "/"
        server = await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[host_key],
            authorized_client_keys=authorized_keys, sftp_factory=True,
            allow_scp=False, password_auth=False, kbdint_auth=False)
        announce(port_file, server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(run())


# --- Paramiko ---------------------------------------------------------------

def serve_paramiko(port_file, host_key, authorized_keys):
    import paramiko
    from paramiko.sftp import (SFTP_OK, SFTP_FAILURE, SFTP_NO_SUCH_FILE,
                               SFTP_PERMISSION_DENIED)

    def status(e):
        """An OSError as an SFTP status (draft-02 §7)."""
        if e.errno == 13:           # EACCES
            return SFTP_PERMISSION_DENIED
        if e.errno in (2, 20):      # ENOENT, ENOTDIR
            return SFTP_NO_SUCH_FILE
        return SFTP_FAILURE

    def answers(fn):
        """Paramiko wants a status code back, not an exception."""
        def wrapped(*args):
            try:
                r = fn(*args)
                return SFTP_OK if r is None else r
            except OSError as e:
                return status(e)
        return wrapped

    def has(attr, flag):
        return attr is not None and attr._flags & flag

    def set_attrs(attr, chmod, chown, utime, truncate):
        """SETSTAT / FSETSTAT: each attribute the request carries.
        (Not paramiko.SFTPServer.set_file_attr: it opens the file "w+" to
        set a size, which empties it first.)"""
        if has(attr, attr.FLAG_PERMISSIONS):
            chmod(attr.st_mode & 0o7777)
        if has(attr, attr.FLAG_UIDGID):
            chown(attr.st_uid, attr.st_gid)
        if has(attr, attr.FLAG_AMTIME):
            utime((attr.st_atime, attr.st_mtime))
        if has(attr, attr.FLAG_SIZE):
            truncate(attr.st_size)

    class Handle(paramiko.SFTPHandle):
        """An open file: reads and writes at the request's offset."""

        def __init__(self, fd, flags):
            super().__init__(flags)
            self.fd = fd

        def close(self):
            os.close(self.fd)

        def read(self, offset, length):
            try:
                return os.pread(self.fd, length, offset)
            except OSError as e:
                return status(e)

        @answers
        def write(self, offset, data):
            view = memoryview(data)
            while view:
                n = os.pwrite(self.fd, view, offset)
                view, offset = view[n:], offset + n

        def stat(self):
            try:
                return paramiko.SFTPAttributes.from_stat(os.fstat(self.fd))
            except OSError as e:
                return status(e)

        @answers
        def chattr(self, attr):
            fd = self.fd
            set_attrs(attr, lambda m: os.fchmod(fd, m),
                      lambda u, g: os.fchown(fd, u, g),
                      lambda t: os.utime(fd, t),
                      lambda n: os.ftruncate(fd, n))

    class LocalFS(paramiko.SFTPServerInterface):
        """The local file system, paths as the client gives them."""

        def open(self, path, flags, attr):
            mode = attr.st_mode & 0o7777 if has(attr, attr.FLAG_PERMISSIONS) else 0o666
            try:
                return Handle(os.open(path, flags | os.O_CLOEXEC, mode), flags)
            except OSError as e:
                return status(e)

        def list_folder(self, path):
            try:
                return [paramiko.SFTPAttributes.from_stat(
                    os.lstat(os.path.join(path, n)), n) for n in os.listdir(path)]
            except OSError as e:
                return status(e)

        def stat(self, path):
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(path))
            except OSError as e:
                return status(e)

        def lstat(self, path):
            try:
                return paramiko.SFTPAttributes.from_stat(os.lstat(path))
            except OSError as e:
                return status(e)

        @answers
        def remove(self, path):
            os.remove(path)

        @answers
        def rename(self, oldpath, newpath):
            # draft-02 §6.5: "an error if there already exists a file with
            # the name specified by newpath"
            if os.path.lexists(newpath):
                return SFTP_FAILURE
            os.rename(oldpath, newpath)

        @answers
        def posix_rename(self, oldpath, newpath):
            os.rename(oldpath, newpath)

        @answers
        def mkdir(self, path, attr):
            os.mkdir(path, attr.st_mode & 0o7777 if has(attr, attr.FLAG_PERMISSIONS) else 0o777)

        @answers
        def rmdir(self, path):
            os.rmdir(path)

        @answers
        def chattr(self, path, attr):
            set_attrs(attr, lambda m: os.chmod(path, m),
                      lambda u, g: os.chown(path, u, g),
                      lambda t: os.utime(path, t),
                      lambda n: os.truncate(path, n))

        def canonicalize(self, path):
            return os.path.realpath(os.path.join(os.getcwd(), path))

        def readlink(self, path):
            try:
                return os.readlink(path)
            except OSError as e:
                return status(e)

        @answers
        def symlink(self, target_path, path):
            os.symlink(target_path, path)

    keys = set()
    with open(authorized_keys) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2 and not line.startswith("#"):
                keys.add(base64.b64decode(fields[1]))

    class Auth(paramiko.ServerInterface):
        def get_allowed_auths(self, username):
            return "publickey"

        def check_auth_publickey(self, username, key):
            if key.asbytes() in keys:
                return paramiko.AUTH_SUCCESSFUL
            return paramiko.AUTH_FAILED

        def check_channel_request(self, kind, chanid):
            if kind == "session":
                return paramiko.OPEN_SUCCEEDED
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    hk = paramiko.Ed25519Key.from_private_key_file(host_key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    announce(port_file, listener.getsockname()[1])
    while True:
        conn, _ = listener.accept()
        t = paramiko.Transport(conn)
        t.add_server_key(hk)
        t.set_subsystem_handler("sftp", paramiko.SFTPServer, LocalFS)
        # start_server() runs the transport in its own thread
        threading.Thread(target=t.start_server, kwargs={"server": Auth()},
                         daemon=True).start()


SERVERS = {"asyncssh": serve_asyncssh, "paramiko": serve_paramiko}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in SERVERS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        __import__(sys.argv[1])
    except ImportError as e:  # depends on the machine
        print("skipped: cannot import %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 77
    # relative paths (a client's mistake included) land in the test's
    # temporary directory, not where the test runs
    os.chdir(os.path.dirname(os.path.abspath(sys.argv[2])))
    SERVERS[sys.argv[1]](*sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
