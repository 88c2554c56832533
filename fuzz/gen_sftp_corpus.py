#!/usr/bin/env python3
"""Seed corpus for fuzz_sftp_client: real replies of OpenSSH's sftp-server.

Talks to /usr/lib/openssh/sftp-server over pipes in a temporary directory,
sending the requests fuzz_sftp_client.c sends, in its order and with the ids
its engine gives them ((n << 8) | slot), and writes what the server answers,
prefixed with the chunk-size byte, as corpus files. Run from the repository
root: python3 fuzz/gen_sftp_corpus.py
"""
import os, struct, subprocess, tempfile

SERVER = "/usr/lib/openssh/sftp-server"
OUT = os.path.join(os.path.dirname(__file__), "corpus", "sftp_client")

def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b

def pkt(t, body):
    return struct.pack(">IB", len(body) + 1, t) + body

def attrs_perm(mode):
    return struct.pack(">II", 4, mode)

def main():
    d = tempfile.mkdtemp()
    f = os.path.join(d, "x")
    with open(f, "wb") as fh:
        fh.write(os.urandom(1000))
    os.symlink("x", os.path.join(d, "l"))
    p = subprocess.Popen([SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=d)

    def rd():
        n = struct.unpack(">I", p.stdout.read(4))[0]
        return struct.pack(">I", n) + p.stdout.read(n)

    def req(t, body):
        p.stdin.write(pkt(t, body))
        p.stdin.flush()
        return rd()

    version = req(1, struct.pack(">I", 3))
    # The engine's ids: request i (0-based) gets ((i + 1) << 8) | i.
    ids = [((i + 1) << 8) | i for i in range(19)]
    i = iter(ids)
    replies = []
    h = None
    def go(t, body):
        r = req(t, struct.pack(">I", next(i)) + body)
        replies.append(r)
        return r
    r = go(3, s(f) + struct.pack(">I", 1) + struct.pack(">I", 0))      # OPEN
    h = r[13:]
    hs = s(h)
    go(4, hs)                                                           # CLOSE
    r2 = req(3, struct.pack(">I", 7) + s(f) + struct.pack(">II", 3, 0))
    h = r2[13:]
    hs = s(h)
    go(5, hs + struct.pack(">QI", 0, 32768))                           # READ
    go(6, hs + struct.pack(">Q", 0) + s(b"abc"))                       # WRITE
    go(7, s(os.path.join(d, "l")))                                     # LSTAT
    go(8, hs)                                                           # FSTAT
    go(9, s(f) + attrs_perm(0o644))                                     # SETSTAT
    go(10, hs + attrs_perm(0o600))                                      # FSETSTAT
    r3 = req(11, struct.pack(">I", 8) + s(d))
    dh = s(r3[13:])
    go(11, s(d))                                                        # OPENDIR
    go(12, dh)                                                          # READDIR
    go(13, s(os.path.join(d, "nonexistent")))                           # REMOVE
    go(14, s(os.path.join(d, "sub")) + attrs_perm(0o755))               # MKDIR
    go(15, s(os.path.join(d, "nonexistent")))                           # RMDIR
    go(16, s("."))                                                      # REALPATH
    go(17, s(f))                                                        # STAT
    go(18, s(f) + s(os.path.join(d, "x2")))                             # RENAME
    go(19, s(os.path.join(d, "l")))                                     # READLINK
    go(20, s("x") + s(os.path.join(d, "l2")))                           # SYMLINK
    go(200, s("limits@openssh.com"))                                    # EXTENDED
    p.stdin.close()
    p.wait()
    os.makedirs(OUT, exist_ok=True)
    allr = b"".join(replies)
    def w(name, chunk, data):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(bytes([chunk]) + data)
    w("session_whole", 255, version + allr)
    w("session_bytewise", 0, version + allr)
    w("session_reversed", 255, version + b"".join(reversed(replies)))
    w("session_chunk7", 6, version + allr)
    w("version_only", 255, version)
    w("unknown_id", 255, version + pkt(101, struct.pack(">II", 0x12345678, 0) + s("") + s("")))
    w("huge_length", 255, version + struct.pack(">I", 0xFFFFFFFF))
    w("bad_count", 255, version + pkt(104, struct.pack(">II", ids[15], 0x7FFFFFFF)))
    w("wrong_type", 255, version + pkt(102, struct.pack(">I", ids[4]) + s("h")))
    w("long_handle", 255, version + pkt(102, struct.pack(">I", ids[0]) + s(b"h" * 300)))
    w("truncated_status", 255, version + pkt(101, struct.pack(">I", ids[1]) + b"\0\0"))
    w("version_2", 255, pkt(2, struct.pack(">I", 2)))

if __name__ == "__main__":
    main()
