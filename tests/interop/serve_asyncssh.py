#!/usr/bin/python3
"""AsyncSSH's client (Debian's python3-asyncssh) against `amiko serve`.

Run by test_serve_peers.c (asyncssh) with /usr/bin/python3:

    serve_asyncssh.py PORT USER PASSWORD ED25519_KEY KNOWN_HOSTS WORKDIR

WORKDIR holds as_src (1 MiB + 1 bytes, made by the test). Connects to
127.0.0.1:PORT with the host key checked against KNOWN_HOSTS; by
password: an exec (exit status, stdout and stderr apart); by the Ed25519
key: SFTP in WORKDIR: put as_src to as_remote, get it to as_back
(checksummed), rename as_remote to as_file, symlink as_link ->
WORKDIR/as_file (readlink, lstat, stat through it), listdir, put and
remove as_tmp. Then a connection that calls itself libssh2 (which sends
SYMLINK target first, as OpenSSH's sftp does) makes as_link2 ->
WORKDIR/as_file. Left for the
test to check on disk: as_src, as_back, as_file, as_link, as_link2.
Exit 0 when all of it worked, 1 with the reason on stderr, 77 when
asyncssh cannot be imported (the test is skipped).
"""
import asyncio
import hashlib
import os
import stat
import sys

try:
    import asyncssh
except ImportError as e:  # pragma: no cover - depends on the machine
    print("skipped: cannot import asyncssh: %s" % e, file=sys.stderr)
    sys.exit(77)

TIMEOUT = 30


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def connect(port, user, known_hosts, **kw):
    """No agent, no ~/.ssh keys unless given, no ssh_config."""
    kw.setdefault("client_keys", None)
    return asyncio.wait_for(asyncssh.connect(
        "127.0.0.1", port, username=user, known_hosts=known_hosts,
        agent_path=None, config=None, **kw), TIMEOUT)


async def exec_checks(c):
    r = await c.run("echo out-$((6*7)); echo err-$((6*7)) >&2; exit 3",
                    check=False, timeout=TIMEOUT)
    check(r.exit_status == 3, "exit status %r" % r.exit_status)
    check(r.stdout == "out-42\n", "stdout %r" % r.stdout)
    check(r.stderr == "err-42\n", "stderr %r" % r.stderr)


async def sftp_checks(c, work):
    w = lambda name: os.path.join(work, name)  # noqa: E731
    async with c.start_sftp_client() as s:
        await s.put(w("as_src"), w("as_remote"))
        check((await s.stat(w("as_remote"))).size == os.path.getsize(w("as_src")),
              "stat size after put")
        await s.get(w("as_remote"), w("as_back"))
        check(sha256(w("as_back")) == sha256(w("as_src")), "get: checksum differs")
        await s.rename(w("as_remote"), w("as_file"))
        check(not await s.exists(w("as_remote")), "rename left the old name")
        # os.symlink's order: the link as_link holds as_file's path. An
        # absolute one: read the wrong way round, the link would be made at
        # as_file (which exists: EEXIST) and not in the start directory.
        await s.symlink(w("as_file"), w("as_link"))
        got = await s.readlink(w("as_link"))
        check(got == w("as_file"), "readlink as_link: %r" % got)
        check(stat.S_ISLNK((await s.lstat(w("as_link"))).permissions),
              "lstat: as_link is not a symlink")
        check((await s.stat(w("as_link"))).size == os.path.getsize(w("as_src")),
              "stat through as_link: not as_file's size")
        with open(w("as_tmp_src"), "wb") as f:
            f.write(b"tmp\n")
        await s.put(w("as_tmp_src"), w("as_tmp"))
        os.unlink(w("as_tmp_src"))
        names = sorted(n for n in await s.listdir(work) if n not in (".", ".."))
        want = ["as_back", "as_file", "as_link", "as_src", "as_tmp"]
        check(names == want, "listdir: %r" % names)
        await s.remove(w("as_tmp"))
        check(not await s.exists(w("as_tmp")), "remove left the file")
        try:
            await s.remove(w("as_missing"))
            check(False, "removing a missing file worked")
        except asyncssh.SFTPNoSuchFile:
            pass
        print("symlink: as_link -> %s" % os.path.basename(got))


async def libssh2_banner_checks(c, work):
    """AsyncSSH sends the draft's order (linkpath first) to amiko serve;
    with the arguments swapped it sends target first, as libssh2 does,
    under libssh2's banner: serve must read it target first."""
    async with c.start_sftp_client() as s:
        target = os.path.join(work, "as_file")
        await s.symlink(os.path.join(work, "as_link2"), target)
        got = await s.readlink(os.path.join(work, "as_link2"))
        check(got == target, "readlink as_link2: %r" % got)
        print("libssh2 banner symlink: as_link2 -> %s" % os.path.basename(got))


async def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    user, password, ed25519, known_hosts, work = sys.argv[2:7]

    # password= alone would go by keyboard-interactive first
    async with await connect(port, user, known_hosts, password=password,
                             preferred_auth="password") as c:
        await exec_checks(c)
    print("password + exec: ok")

    async with await connect(port, user, known_hosts, client_keys=[ed25519]) as c:
        await sftp_checks(c, work)
    print("ed25519 key + sftp: ok")

    async with await connect(port, user, known_hosts, client_keys=[ed25519],
                             client_version="libssh2_1.10.0") as c:
        await libssh2_banner_checks(c, work)
    print("libssh2 banner: ok")

    try:
        await connect(port, user, known_hosts, password=password + "x",
                      preferred_auth="password")
        check(False, "a wrong password was accepted")
    except asyncssh.PermissionDenied:
        pass
    print("wrong password refused: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except Exception as e:  # report every failure the same way
        print("FAILED: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
