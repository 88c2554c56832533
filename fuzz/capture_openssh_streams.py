#!/usr/bin/env python3
"""Seeds for the transport fuzz targets recorded from OpenSSH sessions:
OpenSSH's `ssh` talks to `sshd -i` through a recording ProxyCommand (this
script again, in --relay mode), once per transport configuration of
fuzz/fuzz_transport_common.h whose algorithms both support without
compression. Each recording gives
  transport_server/openssh-ssh-confN   conf byte N + what ssh sent after its version line
  transport_client/openssh-sshd-confN  conf byte N + what sshd sent after its version line
  kex_reply/openssh-sshd-confN         conf byte N + sshd's first KEX method message
The fuzz engines cannot finish a key exchange with a real peer (their
random numbers differ), so these seeds carry real KEXINITs, KEX inits and
replies as OpenSSH encodes them; the captured engine-to-engine sessions
(fuzz/gen_transport_corpus.c) cover the encrypted phase.

Needs OpenSSH (ssh, ssh-keygen, /usr/sbin/sshd) and root for `sshd -i`.
Run from the repository root: python3 fuzz/capture_openssh_streams.py
"""
import os
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
# (configuration index, kex, cipher, mac) as in fuzz_transport_common.h
CONFS = [
    (0, "curve25519-sha256", "chacha20-poly1305@openssh.com", None),
    (1, "ecdh-sha2-nistp256", "aes128-gcm@openssh.com", None),
    (2, "diffie-hellman-group14-sha256", "aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
    (3, "diffie-hellman-group-exchange-sha256", "aes256-ctr", "hmac-sha2-512"),
    (6, "curve25519-sha256@libssh.org", "aes128-ctr", "hmac-sha2-512-etm@openssh.com"),
    (7, "ecdh-sha2-nistp384", "aes256-gcm@openssh.com", None),
    (8, "diffie-hellman-group16-sha512", "chacha20-poly1305@openssh.com", None),
    (9, "diffie-hellman-group18-sha512", "aes256-ctr", "hmac-sha1-etm@openssh.com"),
    (10, "diffie-hellman-group14-sha1", "aes128-cbc", "hmac-sha1"),
]


def relay(prefix, argv):
    """ProxyCommand: runs argv (sshd -i), copying both ways and recording."""
    sshd = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)

    def pump(src, dst, path):
        with open(path, "wb") as rec:
            while True:
                data = os.read(src, 65536)
                if not data:
                    break
                rec.write(data)
                rec.flush()
                try:
                    os.write(dst, data)
                except OSError:
                    break
        try:
            os.close(dst)
        except OSError:
            pass

    up = threading.Thread(target=pump, args=(0, sshd.stdin.fileno(), prefix + ".c2s"))
    down = threading.Thread(target=pump, args=(sshd.stdout.fileno(), 1, prefix + ".s2c"))
    up.start()
    down.start()
    down.join()
    sshd.kill()
    sshd.wait()
    os._exit(0)


def after_version(stream):
    return stream[stream.index(b"\n") + 1:]


def plain_payload(stream, index):
    data = after_version(stream)
    off = 0
    for i in range(index + 1):
        length = int.from_bytes(data[off:off + 4], "big")
        if i == index:
            pad = data[off + 4]
            return data[off + 5:off + 4 + length - pad]
        off += 4 + length
    raise ValueError("no such packet")


def record(tmp, hostkey, n, kex, cipher, mac):
    prefix = os.path.join(tmp, "conf%d" % n)
    sshd = ["/usr/sbin/sshd", "-i", "-f", "/dev/null", "-h", hostkey, "-o", "LogLevel=QUIET",
            "-o", "KexAlgorithms=" + kex, "-o", "Ciphers=" + cipher]
    if mac:
        sshd += ["-o", "MACs=" + mac]
    proxy = " ".join([sys.executable, os.path.abspath(__file__), "--relay", prefix, "--"] + sshd)
    ssh = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
           "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
           "-o", "HostKeyAlgorithms=ssh-ed25519", "-o", "KexAlgorithms=" + kex,
           "-o", "Ciphers=" + cipher, "-o", "ProxyCommand=" + proxy]
    if mac:
        ssh += ["-o", "MACs=" + mac]
    subprocess.run(ssh + ["recorded", "true"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    with open(prefix + ".c2s", "rb") as f:
        c2s = f.read()
    with open(prefix + ".s2c", "rb") as f:
        s2c = f.read()
    return c2s, s2c


def write(target, name, data):
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--relay":
        relay(sys.argv[2], sys.argv[4:])
    with tempfile.TemporaryDirectory() as tmp:
        hostkey = os.path.join(tmp, "host_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey], check=True)
        for n, kex, cipher, mac in CONFS:
            c2s, s2c = record(tmp, hostkey, n, kex, cipher, mac)
            conf = bytes([n])
            write("transport_server", "openssh-ssh-conf%d" % n, conf + after_version(c2s))
            write("transport_client", "openssh-sshd-conf%d" % n, conf + after_version(s2c))
            write("kex_reply", "openssh-sshd-conf%d" % n, conf + plain_payload(s2c, 1))
            print("conf %d %s: ssh sent %d bytes, sshd %d" % (n, kex, len(c2s), len(s2c)))


if __name__ == "__main__":
    main()
