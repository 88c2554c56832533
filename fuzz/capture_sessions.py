#!/usr/bin/env python3
"""Seeds for the user-authentication and connection fuzz targets recorded
from real sessions with OpenSSH, decrypted on amiko's side:

- OpenSSH's `ssh` and `sftp` against `amiko serve` (publickey, password,
  keyboard-interactive; exec, a pty shell, env, the sftp subsystem) give
  what a real client sends: userauth_server and conn_server seeds;
- amiko's client (`amiko ssh`, `amiko sftp`) against OpenSSH's sshd gives
  what a real server sends: userauth and conn seeds.

amiko is built a second time in build-capture/ with AMIKO_CAPTURE=ON, which
makes the I/O layers append every payload the transport hands up to a file
under $AMK_CAPTURE_DIR (src/io/capture.c). Such a build is for this
script only. Seed formats: the comments at the top of fuzz/fuzz_userauth.c,
fuzz_userauth_server.c, fuzz_conn.c and fuzz_conn_server.c.

Needs OpenSSH (ssh, sftp, sshd, ssh-keygen), root (sshd), cmake and a
compiler. Run from the repository root: python3 fuzz/capture_sessions.py
"""
import glob
import os
import socket
import struct
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
BUILD = os.path.join(ROOT, "build-capture")
AMIKO = os.path.join(BUILD, "tools", "amiko", "amiko")
PASSWORD = "Capture-pw-1"
USER = os.environ.get("USER") or "root"


def build():
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-DAMIKO_CAPTURE=ON", "-DAMIKO_TESTS=OFF",
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j", "2", "--target", "amiko_cli"], check=True,
                   stdout=subprocess.DEVNULL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("server exited: %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server never listened on %d" % port)


def records(path):
    """The payloads of one capture file, in order."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off + 4 <= len(data):
        n = struct.unpack(">I", data[off:off + 4])[0]
        out.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return out


def u16_list(payloads):
    return b"".join(struct.pack(">H", len(p)) + p for p in payloads if len(p) < 65536)


def typed(payloads):
    return b"".join(b"\x00" + struct.pack(">H", len(p)) + p for p in payloads if len(p) < 65536)


def write(target, name, data):
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def keys(tmp):
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        os.path.join(tmp, name)], check=True)
    with open(os.path.join(tmp, "user.pub")) as f, \
            open(os.path.join(tmp, "authorized_keys"), "w") as ak:
        ak.write(f.read())


def openssh_against_serve(tmp, cap):
    """OpenSSH's clients against amiko serve: what a client sends."""
    port = free_port()
    pwfile = os.path.join(tmp, "passwords")
    with open(pwfile, "w") as f:
        f.write("%s:%s\n" % (USER, PASSWORD))
    os.chmod(pwfile, 0o600)
    askpass = os.path.join(tmp, "askpass")
    with open(askpass, "w") as f:
        f.write("#!/bin/sh\necho '%s'\n" % PASSWORD)
    os.chmod(askpass, 0o700)
    env = dict(os.environ, AMK_CAPTURE_DIR=cap)
    serve = subprocess.Popen([AMIKO, "serve", "-p", str(port), "-h", os.path.join(tmp, "host"),
                              "--authorized-keys", os.path.join(tmp, "authorized_keys"),
                              "--password-file", pwfile], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, serve)
        base = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
        key = ["-i", os.path.join(tmp, "user"), "-o", "IdentitiesOnly=yes"]
        dest = "%s@127.0.0.1" % USER
        askenv = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force")
        runs = [
            (["ssh", "-p", str(port)] + base + key + ["-o", "SetEnv=LC_CAPTURE=1", dest,
                                                      "echo hi; exit 3"], None, None),
            (["ssh", "-tt", "-p", str(port)] + base + key + [dest], b"echo pty\nexit\n", None),
            (["ssh", "-p", str(port)] + base + ["-o", "PreferredAuthentications=password",
                                                "-o", "PubkeyAuthentication=no", dest, "true"],
             None, askenv),
            (["ssh", "-p", str(port)] + base +
             ["-o", "PreferredAuthentications=keyboard-interactive",
              "-o", "PubkeyAuthentication=no", dest, "true"], None, askenv),
            (["sftp", "-P", str(port), "-b", "-"] + base + key + [dest],
             b"pwd\nls /\nmkdir /tmp/amk-capture-dir\nrmdir /tmp/amk-capture-dir\n", None),
        ]
        for argv, stdin, run_env in runs:
            subprocess.run(argv, input=stdin, env=run_env, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    finally:
        serve.terminate()
        serve.wait(timeout=20)


def amiko_against_sshd(tmp, cap):
    """amiko's client against sshd: what a server sends."""
    port = free_port()
    cfg = os.path.join(tmp, "sshd_config")
    with open(cfg, "w") as f:
        f.write("ListenAddress 127.0.0.1\nPort %d\nHostKey %s\nPidFile %s\n"
                "AuthorizedKeysFile %s\nUsePAM no\nStrictModes no\nLogLevel ERROR\n"
                "Banner %s\nSubsystem sftp internal-sftp\n"
                % (port, os.path.join(tmp, "host"), os.path.join(tmp, "sshd.pid"),
                   os.path.join(tmp, "authorized_keys"), os.path.join(tmp, "banner")))
    with open(os.path.join(tmp, "banner"), "w") as f:
        f.write("Recorded for amiko's fuzz seeds\n")
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kh = os.path.join(tmp, "known_hosts")
    with open(os.path.join(tmp, "host.pub")) as f, open(kh, "w") as k:
        k.write("[127.0.0.1]:%d %s" % (port, f.read()))
    env = dict(os.environ, AMK_CAPTURE_DIR=cap)
    try:
        wait_port(port, sshd)
        opts = ["-p", str(port), "-i", os.path.join(tmp, "user"),
                "-o", "UserKnownHostsFile=" + kh]
        dest = "%s@127.0.0.1" % USER
        batch = os.path.join(tmp, "batch")
        with open(batch, "w") as f:
            f.write("pwd\nls /\ndf\n")
        runs = [
            ([AMIKO, "ssh"] + opts + [dest, "echo hi; echo err >&2; exit 3"], None),
            ([AMIKO, "ssh", "-t"] + opts + [dest], b"echo pty\nexit\n"),
            ([AMIKO, "sftp", "-b", batch, "-P"] + opts[1:] + [dest], None),
        ]
        for argv, stdin in runs:
            subprocess.run(argv, input=stdin, env=env, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    finally:
        sshd.terminate()
        sshd.wait(timeout=20)


def main():
    build()
    with tempfile.TemporaryDirectory() as tmp:
        keys(tmp)
        scap, ccap = os.path.join(tmp, "server-side"), os.path.join(tmp, "client-side")
        os.mkdir(scap)
        os.mkdir(ccap)
        openssh_against_serve(tmp, scap)
        amiko_against_sshd(tmp, ccap)
        n = 0
        for path in sorted(glob.glob(os.path.join(scap, "server-*.bin"))):
            msgs = records(path)
            auth = [m for m in msgs if m and (m[0] == 5 or 50 <= m[0] <= 79)]
            conn = [m for m in msgs if m and 80 <= m[0] <= 127]
            # bit 3: no automatic SERVICE_REQUEST (the recording has OpenSSH's)
            write("userauth_server", "openssh-ssh-%d" % n, b"\x08" + u16_list(auth))
            if conn:
                write("conn_server", "openssh-ssh-%d" % n, typed(conn))
            print("server side %d: %d auth, %d connection messages" % (n, len(auth), len(conn)))
            n += 1
        n = 0
        for path in sorted(glob.glob(os.path.join(ccap, "client-*.bin"))):
            msgs = records(path)
            auth = [m for m in msgs if m and 50 <= m[0] <= 79]
            conn = [m for m in msgs if m and 80 <= m[0] <= 127]
            # method 1 (publickey) started after the harness's own "none"
            # failure, so the recording's first FAILURE is left out
            if auth and auth[0][0] == 51:
                auth = auth[1:]
            write("userauth", "openssh-sshd-%d" % n, b"\x01" + u16_list(auth))
            if conn:
                write("conn", "openssh-sshd-%d" % n, typed(conn))
            print("client side %d: %d auth, %d connection messages" % (n, len(auth), len(conn)))
            n += 1


if __name__ == "__main__":
    main()
