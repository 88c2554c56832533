#!/usr/bin/env python3
"""Seeds for fuzz_kexinit recorded from OpenSSH itself: the KEXINIT that
`ssh` sends and the one that `sshd -i` sends, at their defaults and with
every algorithm they know enabled (legacy ones included), each written as
the target takes it (the body after the message number).

Needs OpenSSH (ssh, ssh-keygen, /usr/sbin/sshd) and root for `sshd -i`.
Run from the repository root: python3 fuzz/capture_openssh_kexinit.py
"""
import os
import socket
import subprocess
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "kexinit")
VERSION = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"


def read_exact(read, n):
    data = b""
    while len(data) < n:
        chunk = read(n - len(data))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_kexinit(read):
    """Skips the peer's lines up to its version, then returns the KEXINIT body."""
    while True:
        line = b""
        while not line.endswith(b"\n"):
            line += read_exact(read, 1)
        if line.startswith(b"SSH-"):
            break
    length = int.from_bytes(read_exact(read, 4), "big")
    packet = read_exact(read, length)
    pad = packet[0]
    payload = packet[1:length - pad]
    assert payload[0] == 20, "not a KEXINIT"
    return payload[1:]


def query(what):
    return subprocess.run(["ssh", "-Q", what], capture_output=True, text=True,
                          check=True).stdout.split()


def client_kexinit(extra):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)      # ssh refusing an option never connects
    port = srv.getsockname()[1]
    ssh = subprocess.Popen(["ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
                            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                            "-o", "ConnectTimeout=5", "-p", str(port)] + extra + ["127.0.0.1", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    conn.settimeout(5)
    conn.sendall(VERSION)
    body = read_kexinit(conn.recv)
    conn.close()
    srv.close()
    ssh.kill()
    ssh.wait()
    return body


def server_kexinit(tmp, extra):
    keys = []
    for t in ("ed25519", "ecdsa", "rsa"):
        path = os.path.join(tmp, "host_" + t)
        if not os.path.exists(path):
            subprocess.run(["ssh-keygen", "-q", "-t", t, "-N", "", "-f", path], check=True)
        keys += ["-h", path]
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-i", "-f", "/dev/null", "-o", "LogLevel=QUIET"]
                            + keys + extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    sshd.stdin.write(VERSION)
    sshd.stdin.flush()
    body = read_kexinit(sshd.stdout.read)
    sshd.kill()
    sshd.wait()
    return body


def main():
    everything = ["-o", "KexAlgorithms=" + ",".join(query("kex")),
                  "-o", "Ciphers=" + ",".join(query("cipher")),
                  "-o", "MACs=" + ",".join(query("mac"))]
    seeds = {
        "openssh-ssh-default": client_kexinit([]),
        "openssh-ssh-everything": client_kexinit(everything + [
            "-o", "HostKeyAlgorithms=" + ",".join(query("key-sig")), "-o", "Compression=yes"]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        seeds["openssh-sshd-default"] = server_kexinit(tmp, [])
        seeds["openssh-sshd-everything"] = server_kexinit(tmp, everything + [
            "-o", "Compression=yes"])
    for name, body in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(body)
        print(name, len(body), "bytes")


if __name__ == "__main__":
    main()
