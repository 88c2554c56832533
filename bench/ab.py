#!/usr/bin/env python3
"""A/B of one-file transfers against a fresh server per transfer, the
variants back to back in each round (rotated), for comparisons that this
machine's drift (a quarter within minutes) would spoil between tables.

usage: bench/ab.py BUILD ROUNDS SIZE_MIB 'label:ENV=V,ENV2=V' ...
  label cat: `ssh host cat SRC > DST`; catup: `ssh host 'cat > DST' < SRC`;
  sftp / sftpput: OpenSSH's sftp get / put; any other label: amiko-bench's
  sftp-get (sftp-put with PUT=1 in its ENV).
  Per variant ENV: BUILD (amiko-bench's build), SBUILD (amiko serve's),
  PUT=1, LFP=1 (50 ms of round trip through faultproxy), PERF=1 (perf
  record of the server into perf-LABEL-ROUND.data here), WARM=MiB (write
  and remove that much in /dev/shm first), CPERF=1 (perf record of amiko's
  client into perf-client-LABEL-ROUND.data here), CSTAT=1 (counts of the
  client's system calls into cstat-LABEL-ROUND.txt here), PSTAT=1 (system calls and
  context switches on each core during the transfer, from `perf stat -a -A`,
  printed per thousand MiB); any AMK_* or AMIKO_* is set in
  the client's environment for that variant. SERVE=1 in the environment:
  `amiko serve` instead of sshd.
Every copy is checked against the source's SHA-256. Prints each
transfer's MiB/s and CPU s per GiB, then the medians."""
import importlib.util
import os
import statistics
import sys
import types

spec = importlib.util.spec_from_file_location(
    "run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

OPENSSH = {"cat": "exec-cat", "catup": "exec-cat-up", "sftp": "sftp-get", "sftpput": "sftp-put"}


def start_proxy(env, build, target_port):
    """faultproxy adding 25 ms each way in front of @target_port; (process, port)."""
    pf = os.path.join(env.tmp, "pf")
    run.rm(pf)
    proxy = run.subprocess.Popen(
        [os.path.join(build, "tests", "faultproxy"), "--listen", "127.0.0.1:0", "--port-file", pf,
         "--target", f"127.0.0.1:{target_port}", "--lifetime", "3600",
         "--c2s", "--delay-ms", "25", "--s2c", "--delay-ms", "25"],
        stdout=run.subprocess.DEVNULL, stderr=run.subprocess.DEVNULL)
    while not (os.path.exists(pf) and open(pf).read().strip()):
        run.time.sleep(0.05)
    return proxy, int(open(pf).read().strip())


def report_pstat(path, label, rnd, size):
    """Prints the per-core counts of `perf stat -A -x,` in @path per GiB of @size."""
    per = run.GiB / size
    counts = {}
    for line in open(path):
        f = line.strip().split(",")
        if len(f) > 3 and f[0].startswith("CPU") and f[1].replace(".", "").isdigit():
            counts[(f[0], f[3])] = float(f[1]) * per
    print(f"round {rnd} {label}: per GiB " + ", ".join(
        f"{cpu} {ev.split(':')[-1]} {n:.0f}" for (cpu, ev), n in sorted(counts.items())), flush=True)


def one(env, server, amiko, ossh, label, e, build, rnd, src, dst):
    """One transfer of variant @label with its ENV @e: (seconds, client CPU s, server CPU s)."""
    if e.get("WARM"):
        warm = os.path.join(env.shm, "warm.bin")
        run.subprocess.run(["dd", "if=/dev/zero", "of=" + warm, "bs=1M", "count=" + e["WARM"]],
                           stderr=run.subprocess.DEVNULL)
        run.rm(warm)
    env.args.build = e.get("SBUILD", build)
    server.start()
    port, proxy, perf = server.port, None, None
    if e.get("LFP"):
        proxy, port = start_proxy(env, build, server.port)
    if e.get("PERF"):
        perf = run.subprocess.Popen(
            ["perf", "record", "-e", "cpu-clock", "-g", "-p", str(server.proc.pid),
             "-o", f"perf-{label}-{rnd}.data"],
            stdout=run.subprocess.DEVNULL, stderr=run.subprocess.DEVNULL)
        run.time.sleep(0.3)
    pstat = None
    if e.get("PSTAT"):
        pstat = run.subprocess.Popen(
            ["perf", "stat", "-a", "-A", "-x", ",", "-e", "raw_syscalls:sys_enter,context-switches",
             "-o", os.path.join(env.tmp, "pstat")],
            stdout=run.subprocess.DEVNULL, stderr=run.subprocess.DEVNULL)
        run.time.sleep(0.3)
    try:
        if label in OPENSSH:
            secs, ccpu = ossh.transfer(OPENSSH[label], port, src, dst)
        else:
            amiko.prog = [os.path.join(e.get("BUILD", build), "bench", "amiko-bench")]
            if e.get("CPERF"):
                amiko.prog = ["perf", "record", "-q", "-e", "cpu-clock", "-g",
                              "-o", f"perf-client-{label}-{rnd}.data", "--"] + amiko.prog
            if e.get("CSTAT"):
                ev = ",".join(f"syscalls:sys_enter_{n}" for n in (
                    "recvfrom", "sendto", "write", "pwrite64", "read", "pread64", "poll",
                    "epoll_wait")) + ",context-switches"
                amiko.prog = ["perf", "stat", "-x", ",", "-e", ev,
                              "-o", f"cstat-{label}-{rnd}.txt", "--"] + amiko.prog
            extra = {k: v for k, v in e.items() if k.startswith(("AMK_", "AMIKO_"))}
            os.environ.update(extra)
            try:
                secs, ccpu = amiko.transfer("sftp-put" if e.get("PUT") else "sftp-get", port,
                                            src, dst)
            finally:
                for k in extra:
                    del os.environ[k]
    finally:
        if pstat:
            pstat.send_signal(run.signal.SIGINT)
            pstat.wait()
            report_pstat(os.path.join(env.tmp, "pstat"), label, rnd, os.path.getsize(src))
        if perf:
            perf.send_signal(run.signal.SIGINT)
            perf.wait()
        scpu = server.stop()
        if proxy:
            proxy.kill()
            proxy.wait()
    return secs, ccpu, scpu


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    build, rounds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * run.MiB
    variants = []
    for v in sys.argv[4:]:
        label, _, envs = v.partition(":")
        variants.append((label, dict(kv.split("=", 1) for kv in envs.split(",") if kv)))
    env = run.Env(types.SimpleNamespace(build=build))
    env.slow_big = set()
    server = run.AmikoServe(env) if os.environ.get("SERVE") else run.Sshd(env)
    amiko, ossh = run.Amiko(env), run.OpenSSH(env)
    src, dst = os.path.join(env.shm, "src.bin"), os.path.join(env.shm, "dst.bin")
    gib = size / run.GiB
    res = {label: [] for label, _ in variants}
    try:
        run.write_random(src, size)
        src_sum = run.sha256_file(src)
        for rnd in range(rounds):
            k = rnd % len(variants)
            for label, e in variants[k:] + variants[:k]:
                run.rm(dst)
                secs, ccpu, scpu = one(env, server, amiko, ossh, label, e, build, rnd, src, dst)
                if run.sha256_file(dst) != src_sum:
                    sys.exit(f"round {rnd} {label}: the copy differs from the source")
                res[label].append((size / run.MiB / secs, scpu / gib, ccpu / gib))
                print(f"round {rnd} {label}: {res[label][-1][0]:.1f} MiB/s, server "
                      f"{scpu / gib:.2f} s/GiB, client {ccpu / gib:.2f} s/GiB", flush=True)
                run.rm(dst)
    finally:
        env.cleanup()
    for label, _ in variants:
        rates = [x[0] for x in res[label]]
        print(f"{label:20s} median {statistics.median(rates):7.1f} MiB/s  "
              f"[{min(rates):.0f}-{max(rates):.0f}]  "
              f"server {statistics.median(x[1] for x in res[label]):.2f} s/GiB, "
              f"client {statistics.median(x[2] for x in res[label]):.2f} s/GiB")


if __name__ == "__main__":
    main()
