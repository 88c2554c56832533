#!/usr/bin/python3
"""bench/run.py's Paramiko peer, through Paramiko's fastest public calls:
SFTPClient.get (prefetch), SFTPClient.put (pipelined writes), exec on a
channel with a 16 MiB window. Paramiko 2.x has no AES-GCM and no -etm
MACs, so the driver gives it aes128-ctr + hmac-sha2-256.

  paramiko_bench.py sftp-get|sftp-put|exec-cat|sftp-tree-get|sftp-tree-put OPTS SRC DST
  paramiko_bench.py connect-latency|exec-live OPTS -n N
"""
import os
import socket
import stat
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import paramiko  # noqa: E402

from peer_common import Clock, parse  # noqa: E402

WINDOW = 16 * 1024 * 1024


def connect(o):
    sock = socket.create_connection((o.host, o.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = paramiko.Transport(sock, default_window_size=WINDOW)
    sec = t.get_security_options()
    sec.ciphers = (o.cipher,)
    if o.mac:
        sec.digests = (o.mac,)
    t.start_client()
    t.auth_publickey(o.user, paramiko.Ed25519Key.from_private_key_file(o.key))
    return t


def run(t, cmd, out=None):
    ch = t.open_session(window_size=WINDOW)
    ch.exec_command(cmd)
    while True:
        data = ch.recv(1 << 20)
        if not data:
            break
        if out is not None:
            out.write(data)
    status = ch.recv_exit_status()
    ch.close()
    if status != 0:
        raise SystemExit(f"paramiko_bench: {cmd}: exit status {status}")


def tree_get(sftp, remote, local):
    os.makedirs(local, exist_ok=True)
    n = 0
    for a in sftp.listdir_attr(remote):
        r, l = remote + "/" + a.filename, os.path.join(local, a.filename)
        if stat.S_ISDIR(a.st_mode):
            n += tree_get(sftp, r, l)
        else:
            sftp.get(r, l)
            n += 1
    return n


def tree_put(sftp, local, remote):
    sftp.mkdir(remote)
    n = 0
    for e in os.scandir(local):
        r = remote + "/" + e.name
        if e.is_dir(follow_symlinks=False):
            n += tree_put(sftp, e.path, r)
        else:
            sftp.put(e.path, r, confirm=False)
            n += 1
    return n


def main():
    o = parse("paramiko_bench.py", ["sftp-get", "sftp-put", "sftp-tree-get", "sftp-tree-put",
                                     "exec-cat", "connect-latency", "exec-live"])
    n = o.count or 20
    if o.workload == "connect-latency":
        t0 = time.monotonic()
        for _ in range(n):
            t = connect(o)
            run(t, "true")
            t.close()
        print(f"RESULT secs={(time.monotonic() - t0) / n:.6f} n={n}")
        return
    if o.workload == "exec-live":
        t = connect(o)
        run(t, "true")
        t0 = time.monotonic()
        for _ in range(n):
            run(t, "true")
        print(f"RESULT secs={(time.monotonic() - t0) / n:.6f} n={n}")
        t.close()
        return
    if len(o.args) != 2:
        sys.exit("paramiko_bench.py: wants SRC DST")
    src, dst = o.args
    clock = Clock()
    t = connect(o)
    extra = {}
    if o.workload == "exec-cat":
        clock.connected()
        with open(dst, "wb") as out:
            run(t, f"cat '{src}'", out)
    else:
        sftp = paramiko.SFTPClient.from_transport(t, window_size=WINDOW)
        clock.connected()
        if o.workload == "sftp-get":
            sftp.get(src, dst)
        elif o.workload == "sftp-put":
            sftp.put(src, dst, confirm=False)
        elif o.workload == "sftp-tree-get":
            extra["files"] = tree_get(sftp, src, dst)
        else:
            extra["files"] = tree_put(sftp, src, dst)
        sftp.close()
    clock.result(**extra)
    t.close()


if __name__ == "__main__":
    main()
