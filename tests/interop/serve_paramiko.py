#!/usr/bin/python3
"""Paramiko (Debian's python3-paramiko) against `amiko serve`.

Run by test_serve_paramiko.c with /usr/bin/python3:

    serve_paramiko.py PORT USER PASSWORD ED25519_KEY RSA_KEY KNOWN_HOSTS WORKDIR

Connects to 127.0.0.1:PORT checking the host key against KNOWN_HOSTS
(RejectPolicy), authenticates by password, by an Ed25519 key and by an
RSA key, execs (exit status, stdout and stderr apart) and uses SFTP (put
and get of 1 MiB + 1 checksummed, listdir, stat, rename, symlink and
readlink, remove) in
WORKDIR. Exit 0 when all of it worked, 1 with the reason on stderr, 77
when paramiko cannot be imported (the test is skipped).
"""
import hashlib
import os
import stat
import sys

try:
    import paramiko
except ImportError as e:  # pragma: no cover - depends on the machine
    print("skipped: cannot import paramiko: %s" % e, file=sys.stderr)
    sys.exit(77)

TIMEOUT = 30


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def connect(port, user, known_hosts, **auth):
    c = paramiko.SSHClient()
    c.load_host_keys(known_hosts)
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.connect("127.0.0.1", port=port, username=user, look_for_keys=False,
              allow_agent=False, timeout=TIMEOUT, banner_timeout=TIMEOUT,
              auth_timeout=TIMEOUT, **auth)
    return c


def run(c, cmd):
    """Runs cmd; (exit status, stdout, stderr)."""
    stdin, stdout, stderr = c.exec_command(cmd, timeout=TIMEOUT)
    stdin.close()
    out = stdout.read()
    err = stderr.read()
    return stdout.channel.recv_exit_status(), out, err


def sftp_checks(c, work):
    data = os.urandom(1024 * 1024 + 1)
    local = os.path.join(work, "pm_local")
    back = os.path.join(work, "pm_back")
    remote = os.path.join(work, "pm_remote")
    renamed = os.path.join(work, "pm_renamed")
    with open(local, "wb") as f:
        f.write(data)
    s = c.open_sftp()
    try:
        s.put(local, remote)
        st = s.stat(remote)
        check(st.st_size == len(data), "stat size %d" % st.st_size)
        s.get(remote, back)
        with open(back, "rb") as f:
            got = f.read()
        check(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
              "get: checksum differs (%d bytes)" % len(got))
        with open(remote, "rb") as f:
            check(hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest(),
                  "put: checksum differs on the server's disk")
        names = s.listdir(work)
        check("pm_remote" in names and "pm_local" in names, "listdir: %r" % names)
        attrs = {a.filename: a for a in s.listdir_attr(work)}
        check(attrs["pm_remote"].st_size == len(data), "listdir_attr size")
        s.rename(remote, renamed)
        check("pm_remote" not in s.listdir(work), "rename left the old name")
        check(s.stat(renamed).st_size == len(data), "rename lost the file")
        # symlink(source, dest): Paramiko sends target first, as OpenSSH's
        # sftp does, and serve reads it so (its banner is not AsyncSSH's).
        # Absolute paths: read the wrong way round, it fails (EEXIST)
        # rather than making a link in the start directory.
        link = os.path.join(work, "pm_link")
        s.symlink(renamed, link)
        check(s.readlink(link) == renamed, "readlink: %r" % s.readlink(link))
        check(stat.S_ISLNK(s.lstat(link).st_mode), "lstat: pm_link is not a symlink")
        check(s.stat(link).st_size == len(data), "stat through pm_link")
        check(os.readlink(link) == renamed, "on disk: %r" % os.readlink(link))
        s.remove(link)
        s.remove(renamed)
        try:
            s.stat(renamed)
            check(False, "remove left the file")
        except FileNotFoundError:
            pass
        try:
            s.remove(os.path.join(work, "pm_missing"))
            check(False, "removing a missing file worked")
        except FileNotFoundError:
            pass
        s.mkdir(os.path.join(work, "pm_dir"))
        check(s.stat(os.path.join(work, "pm_dir")).st_mode & 0o40000, "mkdir")
        s.rmdir(os.path.join(work, "pm_dir"))
        check(s.normalize(".").startswith("/"), "normalize")
    finally:
        s.close()
    os.unlink(local)
    os.unlink(back)


def main():
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    user, password, ed25519, rsa, known_hosts, work = sys.argv[2:8]

    # password: exec with exit status and both streams
    c = connect(port, user, known_hosts, password=password)
    check(c.get_transport().auth_handler.auth_method == "password", "auth method")
    status, out, err = run(c, "echo out-$((6*7)); echo err-$((6*7)) >&2; exit 3")
    check(status == 3, "exit status %d" % status)
    check(out == b"out-42\n", "stdout %r" % out)
    check(err == b"err-42\n", "stderr %r" % err)
    print("password + exec: ok")
    c.close()

    # an Ed25519 key: exec as the user
    key = paramiko.Ed25519Key.from_private_key_file(ed25519)
    c = connect(port, user, known_hosts, pkey=key)
    status, out, err = run(c, "id -un")
    check(status == 0 and out.decode().strip() == user, "id -un: %d %r %r" % (status, out, err))
    print("ed25519 key + exec: ok")
    c.close()

    # an RSA key (rsa-sha2 from server-sig-algs): SFTP
    key = paramiko.RSAKey.from_private_key_file(rsa)
    c = connect(port, user, known_hosts, pkey=key)
    sftp_checks(c, work)
    print("rsa key + sftp: ok")
    c.close()

    # a wrong password is refused
    try:
        connect(port, user, known_hosts, password=password + "x")
        check(False, "a wrong password was accepted")
    except paramiko.AuthenticationException:
        pass
    print("wrong password refused: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # report every failure the same way
        print("FAILED: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
