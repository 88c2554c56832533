#!/usr/bin/python3
"""make bench: amiko side by side with OpenSSH, libssh2, libssh, Paramiko
and AsyncSSH (issue #8).

Starts an OpenSSH sshd and `amiko serve` (when built) on free loopback
ports with fresh keys, runs every selected workload for every
implementation through its fastest public API, checks the files moved
against their checksums, and writes the tables to bench/RESULTS.md (between
generated-region markers), PNG charts under bench/, and the headline table
into README.md (between <!-- bench:start --> and <!-- bench:end -->).

Each implementation's figure is the median of the runs (min and max
beside it); runs are interleaved (round r runs every implementation once,
in an order rotated by r; in workload 1, amiko, OpenSSH's sftp and
`ssh cat` run first, back to back) and every figure is also given as a
ratio to OpenSSH's in the same round (the median of those per-round
ratios).

Run with /usr/bin/python3 (Debian's paramiko and asyncssh).
"""
import argparse
import datetime
import hashlib
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
MiB = 1 << 20
GiB = 1 << 30

GCM = "aes128-gcm@openssh.com"
CTR, ETM, HMAC = "aes128-ctr", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"

# name -> (title, what it measures); the order is the report's.
WORKLOADS = {
    "sftp": "1. SFTP get and put of one large file",
    "tree": "2. SFTP get and put of a tree of 16 KiB files",
    "cat": "3. Raw channel throughput: cat of a large file through exec",
    "connect": "4. Latency: connect + authenticate + exec true",
    "live": "5. Latency: exec true on an authenticated connection",
    "fanout": "6. Fan-out: sessions running true at once from one process",
    "server": "7. Server: connections per second and idle connection memory",
    "packet": "8. Packet-layer crypto next to openssl speed",
    "lfp": "9. Long fat pipe: SFTP through a proxy adding 50 ms RTT",
    "cpu": "10. Efficiency: CPU seconds per GiB (workloads 1 and 3)",
}


# ---------------------------------------------------------------- helpers

def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(4) == b"SSH-":
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def write_random(path, size):
    """Writes @size bytes (a multiple of 4 MiB) of data no compressor or
    deduplication can shorten to @path."""
    with open(path, "wb") as f:
        chunk = os.urandom(4 * MiB)
        for i in range(size // (4 * MiB)):
            # vary each chunk cheaply so no block repeats
            f.write(hashlib.sha256(i.to_bytes(8, "big")).digest() + chunk[32:])


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 * MiB)
            if not b:
                return h.hexdigest()
            h.update(b)


def sha256_tree(top):
    h = hashlib.sha256()
    n = 0
    for d, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(d, name)
            h.update(os.path.relpath(p, top).encode() + b"\0")
            with open(p, "rb") as f:
                h.update(f.read())
            n += 1
    return h.hexdigest(), n


def rm(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def pss_kib(pids):
    """Proportional set size (KiB) summed over @pids (smaps_rollup)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def descendants(root):
    """@root and every process below it."""
    children = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(e))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class Result:
    """One measurement: a value (rate or seconds), optional CPU figures."""

    def __init__(self, value, client_cpu=None, server_cpu=None, extra=None):
        self.value, self.client_cpu, self.server_cpu = value, client_cpu, server_cpu
        self.extra = extra or {}


def parse_result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            fields = {}
            for kv in line.split()[1:]:
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    try:
                        fields[k] = float(v)
                    except ValueError:
                        fields[k] = v
            return fields
    return None


class Failed(Exception):
    pass


def run_cmd(argv, cpu_core=None, stdout_path=None, timeout=900, input_data=None, stdin_path=None):
    """Runs @argv (pinned to @cpu_core); returns (wall s, child CPU s, stdout)."""
    if cpu_core is not None:
        argv = ["taskset", "-c", str(cpu_core)] + argv
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    inp = open(stdin_path, "rb") if stdin_path else (
        subprocess.PIPE if input_data is not None else subprocess.DEVNULL)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, stdin=inp)
    if stdin_path:
        inp.close()
    try:
        so, se = p.communicate(input=input_data, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise Failed(f"timed out: {' '.join(argv)}")
    finally:
        if stdout_path:
            out.close()
    wall = time.monotonic() - t0
    # Popen reaped it; the children's rusage grew by its usage.
    if p.returncode != 0:
        raise Failed(f"exit {p.returncode}: {' '.join(argv)}\n{se.decode(errors='replace')[-2000:]}")
    return wall, (so or b"").decode(errors="replace")


class ChildCPU:
    """CPU seconds of children reaped between start() and stop()."""

    def __init__(self):
        r = os.times()
        self.c0 = r.children_user + r.children_system

    def stop(self):
        r = os.times()
        return r.children_user + r.children_system - self.c0


# ---------------------------------------------------------------- servers

class Env:
    """Keys, config files and data for one bench run."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="amiko-bench-")
        self.shm = tempfile.mkdtemp(prefix="amiko-bench-", dir="/dev/shm")
        self.user = os.environ.get("USER") or __import__("pwd").getpwuid(os.geteuid()).pw_name
        self.key = os.path.join(self.tmp, "id_ed25519")
        self.hostkey = os.path.join(self.tmp, "host_ed25519")
        for k in (self.key, self.hostkey):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True)
        self.authorized_keys = os.path.join(self.tmp, "authorized_keys")
        shutil.copy(self.key + ".pub", self.authorized_keys)
        ncpu = os.cpu_count() or 1
        self.pin = ncpu >= 2 and shutil.which("taskset") is not None
        self.server_core = 0 if self.pin else None
        self.client_core = 1 if self.pin else None

    def cleanup(self):
        rm(self.tmp)
        rm(self.shm)


class Server:
    """A server process we start and stop; stop() returns its CPU seconds
    (its own and its reaped children's: sshd's per-connection processes)."""

    name = "?"
    env_extra = {}

    def __init__(self, env):
        self.env, self.proc, self.port = env, None, None

    def argv(self):
        raise NotImplementedError

    def start(self):
        self.port = self.port or free_port()
        argv = self.argv()
        if self.env.server_core is not None:
            argv = ["taskset", "-c", str(self.env.server_core)] + argv
        self.errlog = open(os.path.join(self.env.tmp, f"{self.name}.log"), "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.errlog,
                                     stderr=self.errlog, start_new_session=True,
                                     env=dict(os.environ, **self.env_extra))
        if not wait_port(self.port):
            self.stop()
            raise Failed(f"{self.name} did not start (see {self.errlog.name})")

    def stop(self):
        if self.proc is None:
            return 0.0
        time.sleep(0.05)  # let the server reap its connection processes
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, _, ru = os.wait4(self.proc.pid, 0)
        except ChildProcessError:
            ru = None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftovers of its session
        except OSError:
            pass
        self.proc.returncode = 0
        self.proc = None
        self.errlog.close()
        return (ru.ru_utime + ru.ru_stime) if ru else 0.0


class Sshd(Server):
    name = "sshd"

    def argv(self):
        cfg = os.path.join(self.env.tmp, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"""# written by bench/run.py (model: tests/interop/sshd_fixture.c)
ListenAddress 127.0.0.1
Port {self.port}
HostKey {self.env.hostkey}
PidFile {self.env.tmp}/sshd.pid
AuthorizedKeysFile {self.env.authorized_keys}
UsePAM no
StrictModes no
LogLevel ERROR
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
LoginGraceTime 60
MaxStartups 1000
MaxSessions 1000
Subsystem sftp internal-sftp
# bash sources ~/.bashrc for commands run by sshd at SHLVL 0; the bench
# measures SSH, not the user's rc files (which may start pyenv and the like)
SetEnv SHLVL=1
""")
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        return [shutil.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", cfg]


class AmikoServe(Server):
    name = "amiko-serve"
    # amiko serve runs commands with $SHELL -c; /bin/sh keeps the user's
    # ~/.bashrc out of the figures (sshd's bash skips it: SetEnv SHLVL=1).
    env_extra = {"SHELL": "/bin/sh"}

    @staticmethod
    def available(build):
        exe = os.path.join(build, "tools", "amiko", "amiko")
        if not os.access(exe, os.X_OK):
            return None
        p = subprocess.run([exe, "help"], capture_output=True, text=True)
        return exe if re.search(r"^\s*serve\b", p.stdout + p.stderr, re.M) else None

    def argv(self):
        exe = self.available(self.env.args.build)
        return [exe, "serve", "-p", str(self.port), "-h", self.env.hostkey,
                "--authorized-keys", self.env.authorized_keys,
                "-o", "MaxSessions=64", "-o", "MaxStartups=1000"] \
            + (["--allow-root"] if os.geteuid() == 0 else [])  # serve refuses root without it


# ---------------------------------------------------------------- clients

class Client:
    """An implementation's way of running each workload."""

    name = "?"
    cipher, mac = GCM, None
    python = False

    def __init__(self, env):
        self.env = env

    def algs(self):
        return self.cipher + (f" + {self.mac}" if self.mac else "")

    def supports(self, workload):
        return workload in self.workloads and not (
            workload in ("sftp", "cat", "lfp") and self.name in self.env.slow_big)


class LibClient(Client):
    """amiko-bench, bench-libssh2, bench-libssh and the Python peers: one
    program, the workload as its first argument, RESULT lines back."""

    def __init__(self, env, prog):
        super().__init__(env)
        self.prog = prog

    def cmd(self, workload, port, *args, n=None):
        argv = list(self.prog) + [workload, "-p", str(port), "-i", self.env.key, "-u", self.env.user,
                                  "-c", self.cipher]
        if self.mac:
            argv += ["-m", self.mac]
        if n:
            argv += ["-n", str(n)]
        return argv + list(args)

    def run(self, workload, port, *args, n=None):
        cpu = ChildCPU()
        wall, out = run_cmd(self.cmd(workload, port, *args, n=n), self.env.client_core)
        ccpu = cpu.stop()
        res = parse_result(out)
        if res is None:
            raise Failed(f"{self.name} {workload}: no RESULT line")
        if "cpu" in res:   # the Python peers count from before connecting
            ccpu = res["cpu"]
        return res, wall, ccpu

    def transfer(self, workload, port, src, dst):
        res, wall, ccpu = self.run(workload, port, src, dst)
        return res.get("total", wall), ccpu

    def latency(self, workload, port, n):
        res, _, _ = self.run(workload, port, n=n)
        return res["secs"]

    def fanout(self, port, n):
        res, _, _ = self.run("fanout", port, n=n)
        return res["secs"], res["maxrss_kb"]


class Amiko(LibClient):
    name = "amiko"
    workloads = {"sftp", "tree", "cat", "connect", "live", "fanout", "lfp"}

    def __init__(self, env):
        super().__init__(env, [os.path.join(env.args.build, "bench", "amiko-bench")])


class Libssh2(LibClient):
    name = "libssh2"
    cipher, mac = CTR, HMAC   # libssh2 1.10: no AES-GCM, no -etm MACs
    workloads = {"sftp", "cat", "connect", "live", "lfp"}

    def __init__(self, env):
        super().__init__(env, [os.path.join(env.args.build, "bench", "bench-libssh2")])


class Libssh(LibClient):
    name = "libssh"
    workloads = {"sftp", "cat", "connect", "live", "lfp"}

    def __init__(self, env):
        super().__init__(env, [os.path.join(env.args.build, "bench", "bench-libssh")])


class Paramiko(LibClient):
    name = "paramiko"
    cipher, mac = CTR, HMAC   # Paramiko 2.x: no AES-GCM, no -etm MACs
    python = True
    workloads = {"sftp", "tree", "cat", "connect", "live", "lfp"}

    def __init__(self, env):
        super().__init__(env, [PY, os.path.join(HERE, "peers", "paramiko_bench.py")])


class AsyncSSH(LibClient):
    name = "asyncssh"
    python = True
    workloads = {"sftp", "tree", "cat", "connect", "live", "fanout", "lfp"}

    def __init__(self, env):
        super().__init__(env, [PY, os.path.join(HERE, "peers", "asyncssh_bench.py")])


class OpenSSH(Client):
    """OpenSSH's sftp (at its defaults, or tuned with -B/-R) and ssh."""

    name = "openssh"
    workloads = {"sftp", "tree", "cat", "connect", "live", "fanout", "lfp"}
    sftp_flags = []

    def ssh_opts(self, port):
        return ["-F", "/dev/null", "-i", self.env.key, "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-c", self.cipher, "-p", str(port)]

    def dest(self):
        return f"{self.env.user}@127.0.0.1"

    def sftp(self, port, batch):
        bf = os.path.join(self.env.tmp, "batch")
        with open(bf, "w") as f:
            f.write(batch + "\n")
        opts = self.ssh_opts(port)
        opts[opts.index("-p")] = "-P"
        cpu = ChildCPU()
        wall, _ = run_cmd(["sftp", "-q", "-b", bf] + self.sftp_flags + opts + [self.dest()],
                          self.env.client_core)
        return wall, cpu.stop()

    def transfer(self, workload, port, src, dst):
        q = lambda s: '"' + s + '"'  # noqa: E731
        if workload == "sftp-get":
            return self.sftp(port, f"get {q(src)} {q(dst)}")
        if workload == "sftp-put":
            return self.sftp(port, f"put {q(src)} {q(dst)}")
        if workload == "sftp-tree-get":
            return self.sftp(port, f"get -r {q(src)} {q(dst)}")
        if workload == "sftp-tree-put":
            return self.sftp(port, f"put -r {q(src)} {q(dst)}")
        if workload == "exec-cat":
            cpu = ChildCPU()
            wall, _ = run_cmd(["ssh"] + self.ssh_opts(port) + [self.dest(), f"cat '{src}'"],
                              self.env.client_core, stdout_path=dst)
            return wall, cpu.stop()
        if workload == "exec-cat-up":
            cpu = ChildCPU()
            wall, _ = run_cmd(["ssh"] + self.ssh_opts(port) + [self.dest(), f"cat > '{dst}'"],
                              self.env.client_core, stdin_path=src)
            return wall, cpu.stop()
        raise Failed(workload)

    def latency(self, workload, port, n):
        if workload == "connect-latency":
            t0 = time.monotonic()
            for _ in range(n):
                run_cmd(["ssh"] + self.ssh_opts(port) + [self.dest(), "true"], self.env.client_core)
            return (time.monotonic() - t0) / n
        with self.master(port) as ctl:
            argv = ["ssh", "-S", ctl, "-o", "ControlMaster=no"] + self.ssh_opts(port) + [self.dest(), "true"]
            run_cmd(argv, self.env.client_core)   # warm-up
            t0 = time.monotonic()
            for _ in range(n):
                run_cmd(argv, self.env.client_core)
            return (time.monotonic() - t0) / n

    def fanout(self, port, n):
        """n `ssh -S ctl true` processes at once through one ControlMaster
        (OpenSSH has no one-process API); memory: the sum of their peaks."""
        with self.master(port) as ctl:
            # /usr/bin/time -f %M: ssh's own peak (a child of this Python
            # process would inherit the interpreter's peak RSS through fork).
            argv = ["/usr/bin/time", "-f", "%M", "ssh", "-S", ctl, "-o", "ControlMaster=no"] + \
                self.ssh_opts(port) + [self.dest(), "true"]
            if self.env.client_core is not None:
                argv = ["taskset", "-c", str(self.env.client_core)] + argv
            t0 = time.monotonic()
            procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE) for _ in range(n)]
            rss, bad = 0, 0
            for p in procs:
                err = p.communicate()[1].decode(errors="replace").split()
                rss += int(err[-1]) if err and err[-1].isdigit() else 0
                bad += p.returncode != 0
            secs = time.monotonic() - t0
        if bad:
            raise Failed(f"openssh fanout: {bad} of {n} sessions failed")
        return secs, rss + self._master_rss

    _master_rss = 0

    def master(self, port):
        return _Master(self, port)


class _Master:
    """An `ssh -M -N` ControlMaster for the duration of a with-block; its
    peak RSS (VmHWM) is kept in outer._master_rss when it ends."""

    def __init__(self, outer, port):
        self.outer, self.port = outer, port

    def __enter__(self):
        env = self.outer.env
        self.ctl = os.path.join(env.tmp, f"ctl-{self.port}")
        argv = ["ssh", "-M", "-S", self.ctl, "-N"] + self.outer.ssh_opts(self.port) + [self.outer.dest()]
        if env.client_core is not None:
            argv = ["taskset", "-c", str(env.client_core)] + argv
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while not os.path.exists(self.ctl):
            if time.monotonic() > end or self.p.poll() is not None:
                raise Failed("ssh ControlMaster did not start")
            time.sleep(0.02)
        return self.ctl

    def __exit__(self, *exc):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.outer._master_rss = int(line.split()[1])
        except OSError:
            pass
        self.p.terminate()
        self.p.wait()
        rm(self.ctl)


class OpenSSHTuned(OpenSSH):
    name = "openssh-tuned"
    sftp_flags = ["-B", "261120", "-R", "256"]
    workloads = {"sftp", "tree", "lfp"}


class SshCat(OpenSSH):
    """`ssh host cat` standing in for a transfer, in the SFTP tables: issue 6
    asks for amiko's get and put within 10% of it, so it runs in the same
    rounds as the SFTP clients (this machine's speed drifts by a quarter
    within minutes, so figures from another table do not compare).
    A get is `ssh host cat SRC > DST`, a put `ssh host 'cat > DST' < SRC`."""

    name = "openssh ssh cat"

    def supports(self, workload):
        return workload == "sftp"

    def transfer(self, workload, port, src, dst):
        return super().transfer("exec-cat" if workload == "sftp-get" else "exec-cat-up", port, src, dst)


CLIENTS = [OpenSSH, OpenSSHTuned, Amiko, Libssh2, Libssh, Paramiko, AsyncSSH]


# ---------------------------------------------------------------- tables

class Table:
    """One table of the report: rows of per-round values."""

    def __init__(self, key, title, unit, higher_better=True, note="", fmt="{:.1f}"):
        self.key, self.title, self.unit = key, title, unit
        self.higher_better, self.note, self.fmt = higher_better, note, fmt
        self.rows = {}      # label -> dict(vals=[], algs=str, ccpu=[], scpu=[], err=str)
        self.base = None    # label of the OpenSSH row the ratios are to

    def row(self, label, algs="", base=False):
        if label not in self.rows:
            self.rows[label] = {"vals": [], "algs": algs, "ccpu": [], "scpu": [], "err": ""}
        if base:
            self.base = label
        return self.rows[label]

    def add(self, label, rnd, value, ccpu=None, scpu=None):
        r = self.rows[label]
        while len(r["vals"]) <= rnd:
            r["vals"].append(None)
            r["ccpu"].append(None)
            r["scpu"].append(None)
        r["vals"][rnd], r["ccpu"][rnd], r["scpu"][rnd] = value, ccpu, scpu

    def fail(self, label, msg):
        self.rows[label]["err"] = msg

    def ratio(self, label):
        """Median over rounds of this row against the base row (>1 = better)."""
        if self.base is None or label not in self.rows:
            return None
        mine, base = self.rows[label]["vals"], self.rows[self.base]["vals"]
        rs = []
        for a, b in zip(mine, base):
            if a and b:
                rs.append(a / b if self.higher_better else b / a)
        return statistics.median(rs) if rs else None

    def ratio_to(self, label, other):
        """Median over rounds of @label's figure over @other's, same rounds."""
        if label not in self.rows or other not in self.rows:
            return None
        rs = [a / b for a, b in zip(self.rows[label]["vals"], self.rows[other]["vals"]) if a and b]
        return statistics.median(rs) if rs else None

    def median(self, label):
        vs = [v for v in self.rows[label]["vals"] if v is not None]
        return statistics.median(vs) if vs else None

    def markdown(self):
        out = [f"### {self.title}", ""]
        if self.note:
            out += [self.note, ""]
        out.append(f"| implementation | algorithms | median {self.unit} | min | max | runs | vs OpenSSH |")
        out.append("|---|---|---:|---:|---:|---:|---:|")
        for label, r in self.rows.items():
            vs = [v for v in r["vals"] if v is not None]
            if not vs:
                out.append(f"| {label} | {r['algs']} | {r['err'] or 'failed'} | | | 0 | |")
                continue
            f = self.fmt.format
            ratio = self.ratio(label)
            rtxt = f"{ratio:.2f}x" if ratio is not None else ""
            err = f" ({r['err']})" if r["err"] else ""
            out.append(f"| {label} | {r['algs']} | {f(statistics.median(vs))}{err} | {f(min(vs))} | "
                       f"{f(max(vs))} | {len(vs)} | {rtxt} |")
        out.append("")
        return out


# ---------------------------------------------------------------- workloads

class Bench:
    def __init__(self, args, env):
        self.args, self.env = args, env
        self.quick = args.quick
        self.runs = args.runs or (2 if self.quick else 5)
        self.together_runs = args.pair_runs or (self.runs if self.quick else 11)
        self.size = (128 if self.quick else 1024) * MiB
        self.lfp_size = (16 if self.quick else 256) * MiB
        self.tree_files = 300 if self.quick else 2000
        self.tables = []
        self.packet_text = None
        self.notes = []
        env.slow_big = set()
        serve = AmikoServe.available(args.build)
        self.have_serve = serve is not None
        self.sshd = Sshd(env)
        self.serve = AmikoServe(env) if self.have_serve else None
        wanted = set(args.impl.split(",")) if args.impl else None
        # --quick leaves the Python peers out of the large-file workloads
        # (at 2-15 MiB/s they alone would take minutes) unless --impl names them.
        self.slow_big = set() if (wanted or not self.quick) else {"paramiko", "asyncssh"}
        if self.slow_big:
            self.notes.append("Paramiko and AsyncSSH in workloads 1, 3, 9 and 10 (--quick leaves "
                              "them out there; the full run has them)")
        env.slow_big = self.slow_big
        self.clients = []
        for cls in CLIENTS:
            c = cls(env)
            if wanted and c.name not in wanted and not c.name.startswith("openssh"):
                continue
            if isinstance(c, LibClient) and not os.access(c.prog[0], os.X_OK):
                self.notes.append(f"{c.name}: {c.prog[0]} not built (scripts/deps bench installs "
                                  f"its development files)")
                continue
            self.clients.append(c)

    def servers(self):
        """(label, Server or None) pairs; None: `amiko serve` not built."""
        return [("sshd", self.sshd), ("amiko serve", self.serve)]

    def rounds(self, items, together=()):
        """(round, order) for each run: @items in an order rotated by one per round. Items
        whose label is in @together run first, back to back, rotated among themselves: this
        machine's slow phases last several transfers, so figures compared per round are
        taken seconds apart rather than a round (~70 s with Paramiko's) apart. They also run
        self.together_runs rounds where the rest run self.runs: one slow phase can decide a
        median of five ratios, and eleven rounds of three transfers cost ~3 minutes."""
        first = [i for i in items if i[0] in together]
        rest = [i for i in items if i[0] not in together]
        for rnd in range(max(self.runs, self.together_runs) if first else self.runs):
            order = []
            for group in (first, rest if rnd < self.runs else []):
                k = rnd % len(group) if group else 0
                order += group[k:] + group[:k]
            yield rnd, order

    # --- data
    def make_data(self):
        shm = self.env.shm
        self.src = os.path.join(shm, "src.bin")
        log(f"writing {self.size // MiB} MiB of random data to {self.src}")
        write_random(self.src, self.size)
        self.src_sum = sha256_file(self.src)
        self.tree = os.path.join(shm, "tree")
        per_dir = 100
        for i in range(self.tree_files):
            d = os.path.join(self.tree, f"d{i // per_dir:02d}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i:04d}.bin"), "wb") as f:
                f.write(os.urandom(16384))
        self.tree_sum = sha256_tree(self.tree)

    # --- 1, 3, 9: one file through each client, checksummed
    def one_file(self, table, rows, workload, size, src, src_sum, fresh_server=True, port_of=None,
                 together=()):
        for rnd, order in self.rounds(rows, together):
            for label, client, server in order:
                dst = os.path.join(self.env.shm, "dst.bin")
                rm(dst)
                try:
                    if fresh_server:
                        server.start()
                    port = port_of(server) if port_of else server.port
                    secs, ccpu = client.transfer(workload, port, src, dst)
                    scpu = server.stop() if fresh_server else None
                    if sha256_file(dst) != src_sum:
                        raise Failed("checksum mismatch")
                    table.add(label, rnd, size / MiB / secs, ccpu, scpu)
                    # CPU per GiB in the log: what tells a slow server from a slow client
                    cpu = f", client {ccpu * GiB / size:.2f} CPU s/GiB" if ccpu is not None else ""
                    if scpu is not None:
                        cpu += f", server {scpu * GiB / size:.2f}"
                    log(f"{table.key} {label}: {size / MiB / secs:.1f} MiB/s{cpu}")
                except Failed as e:
                    if fresh_server:
                        server.stop()
                    table.fail(label, "failed")
                    log(f"{table.key} {label}: FAILED: {e}")
                finally:
                    rm(dst)

    def file_rows(self, table, workload, servers=None):
        rows = []
        for c in self.clients:
            if c.supports(workload):
                rows.append((c.name, c, self.sshd))
                table.row(c.name, c.algs(), base=c.name == "openssh")
        for label, srv in self.servers()[1:]:
            for c in self.clients:
                if c.name not in ("amiko", "openssh") or not c.supports(workload):
                    continue
                name = f"{c.name} → {label}"
                table.row(name, c.algs())
                if srv is None:
                    table.fail(name, "not built")
                else:
                    rows.append((name, c, srv))
        return rows

    def w_sftp(self):
        for direction in ("get", "put"):
            t = Table(f"sftp-{direction}", f"1. SFTP {direction} of one {self.size // MiB} MiB file",
                      "MiB/s", note="Against sshd (internal-sftp) unless the row names `amiko serve`; "
                      "time from before connecting to the end of the transfer.")
            rows = self.file_rows(t, "sftp")
            cat = SshCat(self.env)
            t.row(cat.name, cat.algs())
            rows.append((cat.name, cat, self.sshd))
            # the figures: amiko against OpenSSH's sftp and `cat`, in the same minute
            self.one_file(t, rows, f"sftp-{direction}", self.size, self.src, self.src_sum,
                          together=("amiko", "openssh", cat.name))
            r = t.ratio_to("amiko", cat.name) if "amiko" in t.rows else None
            if r is not None:
                t.note += (f" The row `{cat.name}` is `ssh host cat` in the same rounds "
                           f"({'`cat SRC > DST`' if direction == 'get' else '`cat > DST < SRC`'}): "
                           f"amiko's {direction} over it, median of the rounds, is **{r:.2f}**.")
            self.tables.append(t)

    def w_cat(self):
        t = Table("cat", f"3. `cat` of a {self.size // MiB} MiB file through an exec channel", "MiB/s",
                  note="OpenSSH: `ssh host cat FILE > copy`; the libraries read the channel into a file.")
        rows = [(c.name, c, self.sshd) for c in self.clients if c.supports("cat")]
        for c in self.clients:
            if c.supports("cat"):
                t.row(c.name, c.algs(), base=c.name == "openssh")
        for label, srv in self.servers()[1:]:
            for c in self.clients:
                if c.name in ("amiko", "openssh"):
                    name = f"{c.name} → {label}"
                    t.row(name, c.algs())
                    if srv is None:
                        t.fail(name, "not built")
                    else:
                        rows.append((name, c, srv))
        self.one_file(t, rows, "exec-cat", self.size, self.src, self.src_sum)
        self.tables.append(t)

    def w_tree(self):
        n = self.tree_files
        for direction in ("get", "put"):
            t = Table(f"tree-{direction}", f"2. SFTP {direction} of {n} files of 16 KiB in {n // 100} "
                      "directories", "files/s",
                      note="OpenSSH: `get -r` / `put -r`; amiko: amk_sftp_walk + amk_sftp_get per file "
                      "(put: a local walk + amk_sftp_mkdir/amk_sftp_put); Paramiko: listdir + get/put "
                      "per file; AsyncSSH: get/put with recurse=True.")
            rows = []
            for c in self.clients:
                if c.supports("tree"):
                    rows.append((c.name, c, self.sshd))
                    t.row(c.name, c.algs(), base=c.name == "openssh")
            self.sshd.start()
            try:
                for rnd, order in self.rounds(rows):
                    for label, client, server in order:
                        dst = os.path.join(self.env.shm, "tree-copy")
                        rm(dst)
                        try:
                            secs, _ = client.transfer(f"sftp-tree-{direction}", server.port, self.tree, dst)
                            if sha256_tree(dst) != self.tree_sum:
                                raise Failed("tree checksum mismatch")
                            t.add(label, rnd, n / secs)
                            log(f"{t.key} {label}: {n / secs:.0f} files/s")
                        except Failed as e:
                            t.fail(label, "failed")
                            log(f"{t.key} {label}: FAILED: {e}")
                        finally:
                            rm(dst)
            finally:
                self.sshd.stop()
            self.tables.append(t)

    def latency_table(self, key, title, workload, n, note):
        t = Table(key, title, "ms", higher_better=False, note=note, fmt="{:.2f}")
        rows = []
        for c in self.clients:
            if c.supports(key):
                rows.append((c.name, c))
                t.row(c.name, c.algs(), base=c.name == "openssh")
        self.sshd.start()
        try:
            for rnd, order in self.rounds(rows):
                for label, client in order:
                    try:
                        secs = client.latency(workload, self.sshd.port, n)
                        t.add(label, rnd, secs * 1000)
                        log(f"{key} {label}: {secs * 1000:.2f} ms")
                    except Failed as e:
                        t.fail(label, "failed")
                        log(f"{key} {label}: FAILED: {e}")
        finally:
            self.sshd.stop()
        self.tables.append(t)

    def w_connect(self):
        n = 5 if self.quick else 20
        self.latency_table("connect", "4. Connect + authenticate + exec `true` + close, one at a time",
                           "connect-latency", n,
                           f"Mean of {n} in a row per run; OpenSSH: one `ssh host true` process each "
                           "(process start-up included; the Python peers' interpreter start-up is not).")

    def w_live(self):
        n = 20 if self.quick else 100
        self.latency_table("live", "5. exec `true` on an already authenticated connection",
                           "exec-live", n,
                           f"Mean of {n} in a row per run; OpenSSH: `ssh -S ctl host true` through a "
                           "ControlMaster (a process per command, as OpenSSH users do it).")

    def w_fanout(self):
        n = 100 if self.quick else 500
        tt = Table("fanout", f"6. {n} sessions running `true` at once from one process: wall time",
                   "s", higher_better=False, fmt="{:.2f}",
                   note="amiko: one connection, one thread, non-blocking channels; AsyncSSH: "
                   f"asyncio.gather of conn.run; OpenSSH: {n} `ssh -S ctl` processes through one "
                   "ControlMaster (it has no one-process API).")
        tm = Table("fanout-mem", f"6. {n} sessions at once: peak client memory", "MiB",
                   higher_better=False, fmt="{:.1f}",
                   note="Peak RSS of the client process (VmHWM); OpenSSH: the sum of the peaks of "
                   "its processes (master included).")
        rows = []
        for c in self.clients:
            if c.supports("fanout"):
                rows.append((c.name, c))
                tt.row(c.name, c.algs(), base=c.name == "openssh")
                tm.row(c.name, c.algs(), base=c.name == "openssh")
        self.sshd.start()
        try:
            for rnd, order in self.rounds(rows):
                for label, client in order:
                    try:
                        secs, rss = client.fanout(self.sshd.port, n)
                        tt.add(label, rnd, secs)
                        tm.add(label, rnd, rss / 1024)
                        log(f"fanout {label}: {secs:.2f} s, {rss / 1024:.1f} MiB")
                    except Failed as e:
                        tt.fail(label, "failed")
                        tm.fail(label, "failed")
                        log(f"fanout {label}: FAILED: {e}")
        finally:
            self.sshd.stop()
        self.tables += [tt, tm]

    def w_server(self):
        secs = 2 if self.quick else 5
        nidle = 100 if self.quick else 1000
        amiko = next((c for c in self.clients if c.name == "amiko"), None)
        if amiko is None:
            return
        tr = Table("connrate", "7. Server: connections per second (connect + auth + exec `true` + "
                   "close, 8 concurrent clients)", "conn/s",
                   note=f"Client: amiko-bench connrate (8 processes, {secs} s per run) on its own core.")
        tm = Table("idle", f"7. Server: memory per idle authenticated connection ({nidle} connections)",
                   "KiB", higher_better=False, fmt="{:.0f}",
                   note="Proportional set size (PSS) of the server and all its processes with the "
                   "connections open, minus before, divided by the count.")
        rows = []
        for label, srv in self.servers():
            tr.row(label, amiko.algs(), base=label == "sshd")
            tm.row(label, amiko.algs(), base=label == "sshd")
            if srv is None:
                tr.fail(label, "not built")
                tm.fail(label, "not built")
            else:
                rows.append((label, srv))
        for rnd, order in self.rounds(rows):
            for label, srv in order:
                try:
                    srv.start()
                    res, _, _ = amiko.run("connrate", srv.port, "-t", str(secs), n=8)
                    tr.add(label, rnd, res["conns_per_sec"])
                    log(f"connrate {label}: {res['conns_per_sec']:.1f}/s")
                    if rnd < 3:
                        kib = self.idle_memory(amiko, srv, nidle)
                        tm.add(label, rnd, kib)
                        log(f"idle {label}: {kib:.0f} KiB per connection")
                except Failed as e:
                    tr.fail(label, "failed")
                    log(f"server {label}: FAILED: {e}")
                finally:
                    srv.stop()
        self.tables += [tr, tm]

    def idle_memory(self, amiko, srv, n):
        time.sleep(0.3)
        before = pss_kib(descendants(srv.proc.pid))
        argv = amiko.cmd("idle", srv.port, n=n)
        if self.env.client_core is not None:
            argv = ["taskset", "-c", str(self.env.client_core)] + argv
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = p.stdout.readline().decode()
            m = re.search(r"ready n=(\d+)", line)
            if not m or int(m.group(1)) != n:
                raise Failed(f"idle: only {line.strip()}")
            time.sleep(0.5)
            after = pss_kib(descendants(srv.proc.pid))
        finally:
            p.stdin.close()
            p.wait(timeout=120)
        return (after - before) / n

    def w_packet(self):
        exe = os.path.join(self.args.build, "bench", "amiko-bench")
        log("packet layer (amiko-bench packet)")
        try:
            _, out = run_cmd([exe, "packet"], self.env.client_core, timeout=300)
            self.packet_text = out.rstrip()
        except Failed as e:
            self.packet_text = f"failed: {e}"

    def w_lfp(self):
        proxy_exe = os.path.join(self.args.build, "tests", "faultproxy")
        size = self.lfp_size
        src = os.path.join(self.env.shm, "lfp.bin")
        with open(self.src, "rb") as f, open(src, "wb") as o:
            o.write(f.read(size))
        src_sum = sha256_file(src)
        keep = {"openssh", "openssh-tuned", "amiko", "asyncssh", "libssh"}
        for direction in ("get", "put"):
            t = Table(f"lfp-{direction}", f"9. SFTP {direction} of {size // MiB} MiB through a proxy "
                      "adding 50 ms of round-trip delay", "MiB/s",
                      note="tests/tools/faultproxy --c2s --delay-ms 25 --s2c --delay-ms 25 in front of "
                      "the server.")
            rows = []
            for c in self.clients:
                if c.supports("lfp") and c.name in keep:
                    rows.append((c.name, c, self.sshd))
                    t.row(c.name, c.algs(), base=c.name == "openssh")
            for label, srv in self.servers()[1:]:
                for c in self.clients:
                    if c.name == "amiko":
                        t.row(f"amiko → {label}", c.algs())
                        if srv is None:
                            t.fail(f"amiko → {label}", "not built")
                        else:
                            rows.append((f"amiko → {label}", c, srv))
            servers = {id(s): s for _, _, s in rows}
            proxies = {}
            try:
                for s in servers.values():
                    s.start()
                    pf = os.path.join(self.env.tmp, f"proxy-{s.port}")
                    rm(pf)
                    p = subprocess.Popen([proxy_exe, "--listen", "127.0.0.1:0", "--port-file", pf,
                                          "--target", f"127.0.0.1:{s.port}", "--lifetime", "3600",
                                          "--c2s", "--delay-ms", "25", "--s2c", "--delay-ms", "25"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    end = time.monotonic() + 10
                    while not (os.path.exists(pf) and open(pf).read().strip()):
                        if time.monotonic() > end:
                            raise Failed("faultproxy did not start")
                        time.sleep(0.02)
                    proxies[id(s)] = (p, int(open(pf).read()))
                self.one_file(t, rows, f"sftp-{direction}", size, src, src_sum, fresh_server=False,
                              port_of=lambda s: proxies[id(s)][1])
            except Failed as e:
                log(f"lfp: {e}")
            finally:
                for p, _ in proxies.values():
                    p.terminate()
                    p.wait()
                for s in servers.values():
                    s.stop()
            self.tables.append(t)
        rm(src)

    def cpu_tables(self):
        """10: CPU seconds per GiB from the tables of workloads 1 and 3."""
        out = []
        for t in self.tables:
            if t.key not in ("sftp-get", "sftp-put", "cat"):
                continue
            c = Table(f"cpu-{t.key}", f"10. CPU seconds per GiB, {t.title[3:]}", "client CPU s/GiB",
                      higher_better=False, fmt="{:.2f}")
            s = Table(f"scpu-{t.key}", f"10. Server CPU seconds per GiB, {t.title[3:]}",
                      "server CPU s/GiB", higher_better=False, fmt="{:.2f}")
            for label, r in t.rows.items():
                c.row(label, r["algs"], base=label == t.base)
                s.row(label, r["algs"], base=label == t.base)
                if r["err"] and not any(r["vals"]):
                    c.fail(label, r["err"])
                    s.fail(label, r["err"])
                for rnd, (v, cc, sc) in enumerate(zip(r["vals"], r["ccpu"], r["scpu"])):
                    if v and cc is not None:
                        gib = self.size / GiB
                        c.add(label, rnd, cc / gib)
                        s.add(label, rnd, sc / gib if sc is not None else None)
            out += [c, s]
        self.tables += out

    def run(self, selected):
        self.make_data()
        order = ["packet", "sftp", "cat", "tree", "connect", "live", "fanout", "server", "lfp"]
        for w in order:
            if w in selected:
                log(f"== {WORKLOADS[w]}")
                getattr(self, f"w_{w}")()
        if "cpu" in selected:
            self.cpu_tables()


# ---------------------------------------------------------------- report

GEN_START = "<!-- bench:generated:start (bench/run.py rewrites this region; edit outside it) -->"
GEN_END = "<!-- bench:generated:end -->"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 (a missing tool only blanks a line of the report)
        return ""


# What the tree and the machine were when the run started: the report is
# written at the end, by which time HEAD may have moved on.
AT_START = {}


def note_start():
    AT_START["amiko"] = (f"{sh(f'git -C {ROOT} describe --always --dirty')} (branch "
                         f"{sh(f'git -C {ROOT} rev-parse --abbrev-ref HEAD')})")
    AT_START["load"] = open("/proc/loadavg").read().split()[0]


def machine():
    if not AT_START:
        note_start()
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    dpkg = lambda p: sh(f"dpkg-query -W -f='${{Version}}' {p} 2>/dev/null")  # noqa: E731
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; kernel {platform.release()}; "
        f"{sh('. /etc/os-release && echo $PRETTY_NAME')}",
        f"- OpenSSH: {sh('ssh -V 2>&1')}; OpenSSL: {sh('openssl version')}",
        f"- libssh2 {dpkg('libssh2-1-dev') or 'absent'}, libssh {dpkg('libssh-dev') or 'absent'}, "
        f"Paramiko {dpkg('python3-paramiko') or 'absent'}, AsyncSSH {dpkg('python3-asyncssh') or 'absent'}, "
        f"Python {platform.python_version()}",
        f"- amiko: {AT_START['amiko']}, built {cmake_build_type()}",
        f"- load average when starting: {AT_START['load']}",
    ]


def cmake_build_type():
    try:
        with open(os.path.join(ROOT, "build", "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "?"


def chart(bench, tables, name, title, ylabel):
    """A bar chart (gnuplot, PNG) of the medians of @tables' rows."""
    if not shutil.which("gnuplot"):
        return None
    fd, dat = tempfile.mkstemp(prefix="amiko-bench-", suffix=".dat")
    os.close(fd)
    labels = []
    with open(dat, "w") as f:
        rowset = []
        for t in tables:
            for label in t.rows:
                if label not in rowset:
                    rowset.append(label)
        for label in rowset:
            vals = [t.median(label) if label in t.rows else None for t in tables]
            f.write('"' + label.replace("→", "to") + '" ' +
                    " ".join(f"{v:.4f}" if v is not None else "?" for v in vals) + "\n")
            labels.append(label)
    png = os.path.join(HERE, name + ".png")
    cols = ", ".join(
        f"'{dat}' using {i + 2}:xtic(1) title '{t.title.split(' ', 1)[1][:40]}'" if i == 0 else
        f"'' using {i + 2} title '{t.title.split(' ', 1)[1][:40]}'" for i, t in enumerate(tables))
    script = f"""set terminal pngcairo size 900,420 font ',9'
set output '{png}'
set title '{title}'
set ylabel '{ylabel}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30
set key top right
set datafile missing '?'
set yrange [0:*]
set grid ytics
plot {cols}
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    os.unlink(dat)
    if r.returncode != 0:
        log(f"gnuplot {name}: {r.stderr.strip()[:300]}")
        return None
    return os.path.basename(png)


def headline(bench):
    """README's table: one line per workload, amiko next to OpenSSH and the best other peer."""
    by = {t.key: t for t in bench.tables}
    lines = ["| workload | amiko | OpenSSH | amiko vs OpenSSH | best other library |",
             "|---|---:|---:|---:|---|"]

    def line(key, what, unit, me="amiko"):
        t = by.get(key)
        if t is None or me not in t.rows or t.base is None:
            return
        a, o = t.median(me), t.median(t.base)
        if a is None:
            return
        best = None
        for label in t.rows:
            if label in ("amiko", t.base) or "→" in label or label.startswith("openssh"):
                continue
            m = t.median(label)
            if m is not None and (best is None or (m > best[1] if t.higher_better else m < best[1])):
                best = (label, m)
        f = t.fmt.format
        btxt = f"{best[0]} {f(best[1])}" if best else ""
        r = t.ratio(me)
        if me != "amiko":
            btxt = ""
        lines.append(f"| {what} ({unit}) | {f(a)} | {f(o) if o else ''} | "
                     f"{f'{r:.2f}x' if r else ''} | {btxt} |")

    line("sftp-get", "SFTP get, one large file", "MiB/s")
    line("sftp-put", "SFTP put, one large file", "MiB/s")
    for key, what in (("sftp-get", "SFTP get next to `ssh host cat`, same rounds"),
                      ("sftp-put", "SFTP put next to `ssh host 'cat > f'`, same rounds")):
        t = by.get(key)
        if t is None or "amiko" not in t.rows or SshCat.name not in t.rows:
            continue
        a, c, r = t.median("amiko"), t.median(SshCat.name), t.ratio_to("amiko", SshCat.name)
        if a and c and r:
            lines.append(f"| {what} (MiB/s) | {t.fmt.format(a)} | {t.fmt.format(c)} | {r:.2f}x | |")
    line("tree-get", "SFTP get, 16 KiB files", "files/s")
    line("tree-put", "SFTP put, 16 KiB files", "files/s")
    line("cat", "exec `cat`, one large file", "MiB/s")
    line("connect", "connect + auth + exec", "ms")
    line("live", "exec on a live connection", "ms")
    line("fanout", "sessions at once (workload 6)", "s")
    line("fanout-mem", "sessions at once, peak memory", "MiB")
    line("lfp-get", "SFTP get over 50 ms RTT", "MiB/s")
    line("lfp-put", "SFTP put over 50 ms RTT", "MiB/s")
    line("cpu-sftp-get", "client CPU per GiB, SFTP get", "s")
    line("cpu-cat", "client CPU per GiB, exec cat", "s")
    line("sftp-get", "SFTP get, amiko client → `amiko serve`", "MiB/s", me="amiko → amiko serve")
    line("sftp-put", "SFTP put, amiko client → `amiko serve`", "MiB/s", me="amiko → amiko serve")
    line("scpu-sftp-get", "server CPU per GiB, SFTP get (`amiko serve` vs sshd)", "s",
         me="openssh → amiko serve")
    t = by.get("connrate")
    if t is not None:
        a, o, r = t.median("amiko serve"), t.median("sshd"), t.ratio("amiko serve")
        lines.append(f"| server conn/s, 8 clients (`amiko serve` vs sshd) | "
                     f"{t.fmt.format(a) if a else 'not built'} | {t.fmt.format(o) if o else ''} | "
                     f"{f'{r:.2f}x' if r else ''} | |")
    return lines


def pair_runs_text(bench):
    """', 11 for ...' when workload 1's compared three ran more rounds than the rest."""
    if max(bench.runs, bench.together_runs) == bench.runs:
        return ""
    return (f", {bench.together_runs} for workload 1's amiko, OpenSSH sftp and `ssh cat`")


def report(bench, command, started, elapsed, draw=True):
    out = [GEN_START, "",
           f"## {started:%Y-%m-%d %H:%M} UTC: {'quick' if bench.quick else 'full'} run "
           f"({bench.runs} runs per figure{pair_runs_text(bench)}, {elapsed / 60:.1f} min)", "",
           f"Command: `{command}`", ""]
    out += machine()
    out += ["",
            "How to read it: each figure is the median of the runs, with min and max; runs are "
            "interleaved (each round runs every implementation once, in a rotated order; "
            "in workload 1, amiko, OpenSSH's sftp and `ssh cat` run first, back to back, so "
            "that the figures compared per round are taken seconds apart, and run "
            f"{max(bench.runs, bench.together_runs)} rounds). "
            "\"vs OpenSSH\" is the median over rounds of the ratio to OpenSSH's figure in the same "
            "round, turned so that above 1 is better (faster, or less memory/CPU). Files live in "
            "/dev/shm and every transfer is checked against the source's SHA-256. "
            + ("The server runs on core 0 and the clients on core 1 (taskset). " if bench.env.pin else "")
            + f"Cipher: {GCM} wherever the implementation has it, otherwise {CTR} + {HMAC} "
            "(the algorithms column says which).", ""]
    if bench.notes:
        out += ["Not measured: " + "; ".join(bench.notes) + ".", ""]
    if not bench.have_serve:
        out += ["`amiko serve` is not in this build: its rows say \"not built\".", ""]
    out += ["### Summary", ""] + headline(bench) + [""]
    if bench.packet_text:
        out += ["### 8. Packet layer next to `openssl speed` (`amiko-bench packet`)", "", "```",
                bench.packet_text, "```", ""]
    for t in bench.tables:
        out += t.markdown()
    charts = []
    by = {t.key: t for t in bench.tables}
    groups = [("chart-sftp", ["sftp-get", "sftp-put"], "SFTP one file (MiB/s, higher is better)", "MiB/s"),
              ("chart-cat", ["cat"], "exec cat (MiB/s, higher is better)", "MiB/s"),
              ("chart-tree", ["tree-get", "tree-put"], "SFTP small files (files/s)", "files/s"),
              ("chart-latency", ["connect", "live"], "Latency (ms, lower is better)", "ms"),
              ("chart-lfp", ["lfp-get", "lfp-put"], "SFTP over 50 ms RTT (MiB/s)", "MiB/s"),
              ("chart-cpu", ["cpu-sftp-get", "cpu-sftp-put", "cpu-cat"],
               "Client CPU s per GiB (lower is better)", "s/GiB")]
    for name, keys, title, ylabel in groups:
        ts = [by[k] for k in keys if k in by]
        if ts and draw:   # --no-write leaves the committed charts alone
            png = chart(bench, ts, name, title, ylabel)
            if png:
                charts.append(f"![{title}]({png})")
    if charts:
        out += ["### Charts", ""] + [c + "\n" for c in charts]
    out.append(GEN_END)
    return out


def splice(path, start, end, lines, fallback_header):
    """Replaces the region between @start and @end in @path (kept: the rest)."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    body = "\n".join(lines) + "\n" if lines[-1] == end else start + "\n" + "\n".join(lines) + "\n" + end + "\n"
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + body.rstrip("\n") + text[b:]
    else:
        text = fallback_header(text, body)
    with open(path, "w") as f:
        f.write(text)


def write_results(bench, command, started, elapsed):
    lines = report(bench, command, started, elapsed)

    def first_time(text, body):
        # Before the first run: the generated region goes after the file's
        # introduction (its first paragraph), the older hand-written sections stay below.
        m = re.search(r"\n## ", text)
        if m:
            return text[:m.start() + 1] + body + "\n" + text[m.start() + 1:]
        return (text or "# Benchmark results\n\n") + body
    splice(os.path.join(HERE, "RESULTS.md"), GEN_START, GEN_END, lines, first_time)

    readme = [README_START,
              f"Headline figures from `{command}` ({started:%Y-%m-%d}, {bench.runs} runs each"
              f"{pair_runs_text(bench)}, medians; "
              "amiko vs OpenSSH above 1 is better). Full tables, machine and charts: "
              "[bench/RESULTS.md](bench/RESULTS.md).", ""] + headline(bench) + [README_END]
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    if README_START in text and README_END in text:
        a, b = text.index(README_START), text.index(README_END) + len(README_END)
        text = text[:a] + "\n".join(readme) + text[b:]
        with open(path, "w") as f:
            f.write(text)
    else:
        log("README.md has no bench:start/bench:end markers; headline table not written")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(
        prog="bench/run.py",
        description="amiko next to OpenSSH, libssh2, libssh, Paramiko and AsyncSSH (issue #8). "
        "Writes bench/RESULTS.md, bench/chart-*.png and README's headline table.")
    ap.add_argument("--quick", action="store_true",
                    help="smaller sizes and 2 runs per figure: a first look in under 5 minutes")
    ap.add_argument("--runs", type=int, default=0, help="runs per figure (default 5, --quick 2)")
    ap.add_argument("--pair-runs", type=int, default=0,
                    help="rounds of workload 1's amiko, OpenSSH sftp and `ssh cat`, the figures "
                    "issue #6 compares (default 11, --quick: as --runs); at least --runs")
    ap.add_argument("--only", default="",
                    help="comma-separated workloads to run (default all): " + ",".join(WORKLOADS))
    ap.add_argument("--impl", default="",
                    help="comma-separated client implementations besides OpenSSH (default all): "
                    "amiko,libssh2,libssh,paramiko,asyncssh")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory")
    ap.add_argument("--no-write", action="store_true",
                    help="print the tables instead of writing RESULTS.md, charts and README")
    args = ap.parse_args()
    selected = set(w for w in args.only.split(",") if w) or set(WORKLOADS)
    bad = selected - set(WORKLOADS)
    if bad:
        ap.error(f"unknown workload(s): {','.join(sorted(bad))} (known: {','.join(WORKLOADS)})")
    if args.runs < 0 or args.runs > 100:
        ap.error("--runs must be 1..100")
    if args.pair_runs < 0 or args.pair_runs > 100:
        ap.error("--pair-runs must be 1..100")
    args.build = os.path.abspath(args.build)
    if not os.access(os.path.join(args.build, "bench", "amiko-bench"), os.X_OK):
        ap.error(f"no {args.build}/bench/amiko-bench: build first (make build)")
    for tool in ("sshd", "ssh", "sftp", "ssh-keygen"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            ap.error(f"{tool} not found (scripts/deps bench installs OpenSSH)")
    os.environ["PATH"] += ":/usr/sbin"
    shown = list(sys.argv[1:])
    if "--build" in shown and os.environ.get("MAKELEVEL"):   # the Makefile's own --build $(BUILD)
        i = shown.index("--build")
        del shown[i:i + 2]
    command = ("make bench" + (f" BENCH_ARGS='{' '.join(shown)}'" if shown else "")
               if os.environ.get("MAKELEVEL") else "bench/run.py " + " ".join(sys.argv[1:]))
    # SIGTERM/SIGINT end the run through the finally below (servers stopped, temp files removed).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.datetime.utcnow()
    note_start()
    t0 = time.monotonic()
    env = Env(args)
    bench = Bench(args, env)
    try:
        bench.run(selected)
    finally:
        for s in (bench.sshd, bench.serve):
            if s is not None and s.proc is not None:
                s.stop()
        env.cleanup()
    elapsed = time.monotonic() - t0
    if args.no_write:
        print("\n".join(report(bench, command, started, elapsed, draw=False)))
    else:
        write_results(bench, command, started, elapsed)
        log(f"wrote bench/RESULTS.md, charts and README's table ({elapsed / 60:.1f} min)")


if __name__ == "__main__":
    main()
