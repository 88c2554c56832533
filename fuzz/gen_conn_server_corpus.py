#!/usr/bin/env python3
"""Seed corpus for fuzz_conn_server: the requests an OpenSSH client sends
to a server (pty-req with real modes, env, exec, shell, subsystem,
window-change, signal, break, x11-req, auth-agent-req, keepalive and
no-more-sessions global requests, tcpip-forward), deferred answers, exit
status, and malformed variants. Record format: see fuzz/fuzz_conn_server.c.
Run from the repository root: python3 fuzz/gen_conn_server_corpus.py
"""
import os, struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "conn_server")

def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b

def u32(v):
    return struct.pack(">I", v)

def rec(t, body):
    return bytes([t]) + struct.pack(">H", len(body)) + body

def peer(payload):
    return rec(0, payload)

def app(*b):
    return rec(1, bytes(b))

def answers(*b):
    return rec(3, bytes(b))

def chreq(ch, name, want, body=b""):
    return peer(bytes([98]) + u32(ch) + s(name) + bytes([want]) + body)

def greq(name, want, body=b""):
    return peer(bytes([80]) + s(name) + bytes([want]) + body)

# OpenSSH's ssh -t sends modes like these (opcode, uint32), TTY_OP_END.
MODES = b"".join(bytes([op]) + u32(v) for op, v in [
    (1, 3), (2, 28), (3, 127), (4, 21), (5, 4), (6, 255), (7, 255), (8, 17), (9, 19),
    (10, 26), (12, 18), (13, 23), (14, 22), (18, 15), (30, 0), (31, 0), (32, 0), (33, 0),
    (34, 0), (35, 0), (36, 1), (37, 0), (38, 1), (39, 0), (40, 0), (41, 1), (42, 1),
    (50, 1), (51, 1), (52, 0), (53, 1), (54, 1), (55, 1), (56, 0), (57, 0), (58, 0),
    (59, 1), (60, 1), (61, 1), (62, 0), (70, 1), (71, 0), (72, 1), (73, 0), (74, 0),
    (75, 0), (90, 1), (91, 1), (92, 0), (93, 0), (128, 38400), (129, 38400)]) + b"\0"

def pty(ch, want=1, modes=MODES, term="xterm-256color"):
    return chreq(ch, "pty-req", want, s(term) + u32(80) + u32(24) + u32(640) + u32(480) + s(modes))

SEEDS = {
    "exec_pipes": pty(0, 1)[:0] + chreq(0, "env", 0, s("LANG") + s("C.UTF-8"))
        + chreq(0, "exec", 1, s("echo hi; exit 3")) + app(1, 0, 3) + app(3, 0)
        + app(4, 0) + peer(bytes([97]) + u32(0)),
    "pty_shell": pty(0) + chreq(0, "shell", 1) + peer(bytes([94]) + u32(0) + s("ls\n"))
        + chreq(0, "window-change", 0, u32(132) + u32(43) + u32(0) + u32(0)) + app(6, 0)
        + app(7, 0, 10) + app(8, 0, 5) + app(2, 0, 1) + app(3, 0) + app(4, 0),
    "subsystem_deferred": answers(2, 0, 2) + chreq(0, "subsystem", 1, s("sftp"))
        + chreq(0, "env", 1, s("LC_ALL") + s("C")) + chreq(0, "exec", 1, s("x"))
        + app(0, 0, 1, 1) + app(0, 0, 0, 0) + app(0, 0, 0, 1),
    "signal_break": chreq(1, "exec", 1, s("sleep 9")) + chreq(1, "signal", 0, s("TERM"))
        + chreq(1, "break", 1, u32(500)) + app(2, 1, 0),
    "x11_agent": chreq(0, "x11-req", 1, bytes([0]) + s("MIT-MAGIC-COOKIE-1") + s("00ff") + u32(0))
        + chreq(0, "auth-agent-req@openssh.com", 0) + chreq(0, "eow@openssh.com", 0)
        + chreq(0, "unknown@example.com", 1, u32(1)),
    "globals": greq("keepalive@openssh.com", 1) + greq("no-more-sessions@openssh.com", 0)
        + peer(bytes([90]) + s("session") + u32(5) + u32(65536) + u32(16384))
        + greq("tcpip-forward", 1, s("127.0.0.1") + u32(0))
        + greq("cancel-tcpip-forward", 1, s("") + u32(8080))
        + greq("hostkeys-prove-00@openssh.com", 1, s("blob")),
    "exec_binary": chreq(0, "exec", 1, s(b"a\0b\xff")),
    "many_pending": answers(2) + b"".join(chreq(0, "shell", 1) for _ in range(70)),
    "refused_sink": rec(2, b"\1") + chreq(0, "exec", 1, s("true")) + app(1, 0, 0)
        + rec(2, b"\0") + app(9),
    "release_with_pending": answers(2) + chreq(0, "shell", 1) + app(5, 0) + app(0, 0, 0, 1)
        + peer(bytes([97]) + u32(0)),
    # malformed variants (each fails the engine)
    "bad_pty_short": chreq(0, "pty-req", 1, s("xterm") + u32(80)),
    "bad_pty_modes": pty(0, 1, modes=bytes([53, 0, 0])),
    "pty_modes_stop": pty(0, 1, modes=bytes([53, 0, 0, 0, 1, 200, 9, 9])),
    "bad_env_nul": chreq(0, "env", 1, s(b"A\0B") + s("v")),
    "bad_signal_empty": chreq(0, "signal", 0, s("")),
    "bad_trailing": chreq(0, "shell", 1, b"\0"),
    "bad_winch": chreq(0, "window-change", 0, u32(1) + u32(2)),
    "bad_forward": greq("tcpip-forward", 1, s("h")),
}

def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)

if __name__ == "__main__":
    main()
