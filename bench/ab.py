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
  record of the server into /tmp/hang), WARM=MiB (write and remove that
  much in /dev/shm first). SERVE=1 in the environment: `amiko serve`
  instead of sshd.
Prints each transfer's MiB/s and CPU s per GiB, then the medians."""
import importlib.util, os, sys, statistics, types
if len(sys.argv) < 5:
    sys.exit(__doc__)
spec = importlib.util.spec_from_file_location("run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py"))
run = importlib.util.module_from_spec(spec); spec.loader.exec_module(run)
build, rounds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * run.MiB
variants = []
for v in sys.argv[4:]:
    label, _, envs = v.partition(":")
    env = dict(kv.split("=", 1) for kv in envs.split(",") if kv)
    variants.append((label, env))
args = types.SimpleNamespace(build=build)
env = run.Env(args); env.slow_big = set()
sshd = run.AmikoServe(env) if os.environ.get("SERVE") else run.Sshd(env)
amiko = run.Amiko(env); ossh = run.OpenSSH(env)
src = os.path.join(env.shm, "src.bin")
with open(src, "wb") as f:
    chunk = os.urandom(4 * run.MiB)
    for i in range(size // (4 * run.MiB)):
        f.write(run.hashlib.sha256(i.to_bytes(8, "big")).digest() + chunk[32:])
res = {l: [] for l, _ in variants}
try:
    for r in range(rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for label, e in order:
            dst = os.path.join(env.shm, "dst.bin"); run.rm(dst)
            saved = dict(os.environ); os.environ.update(e)
            try:
                if os.environ.get("WARM"):
                    w = os.path.join(env.shm, "warm.bin")
                    run.subprocess.run(["dd", "if=/dev/zero", "of=" + w, "bs=1M", "count=" + os.environ["WARM"]], stderr=run.subprocess.DEVNULL)
                    run.rm(w)
                args.build = e.get("SBUILD", build)
                sshd.start()
                port = sshd.port
                if os.environ.get("LFP"):
                    pf = os.path.join(env.tmp, "pf"); run.rm(pf)
                    proxy = run.subprocess.Popen([os.path.join(build, "tests", "faultproxy"), "--listen", "127.0.0.1:0",
                        "--port-file", pf, "--target", f"127.0.0.1:{sshd.port}", "--lifetime", "3600",
                        "--c2s", "--delay-ms", "25", "--s2c", "--delay-ms", "25"],
                        stdout=run.subprocess.DEVNULL, stderr=run.subprocess.DEVNULL)
                    while not (os.path.exists(pf) and open(pf).read().strip()):
                        run.time.sleep(0.05)
                    port = int(open(pf).read().strip())
                perfp = None
                if os.environ.get("PERF"):
                    perfp = run.subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-p", str(sshd.proc.pid),
                        "-o", f"/tmp/hang/perf-{label}-{r}.data"], stdout=run.subprocess.DEVNULL, stderr=run.subprocess.DEVNULL)
                    run.time.sleep(0.3)
                if label.startswith("catup"):
                    secs, ccpu = ossh.transfer("exec-cat-up", port, src, dst)
                elif label.startswith("sftpput"):
                    secs, ccpu = ossh.transfer("sftp-put", port, src, dst)
                elif label.startswith("cat"):
                    secs, ccpu = ossh.transfer("exec-cat", port, src, dst)
                elif label.startswith("sftp"):
                    secs, ccpu = ossh.transfer("sftp-get", port, src, dst)
                else:
                    amiko.prog = [os.path.join(e.get("BUILD", build), "bench", "amiko-bench")]
                    secs, ccpu = amiko.transfer("sftp-put" if os.environ.get("PUT") else "sftp-get", port, src, dst)
                if perfp:
                    perfp.send_signal(run.signal.SIGINT); perfp.wait()
                scpu = sshd.stop()
                if os.environ.get("LFP"):
                    proxy.kill(); proxy.wait()
            finally:
                os.environ.clear(); os.environ.update(saved)
            mibs = size / run.MiB / secs
            res[label].append((mibs, scpu / (size / run.GiB) if hasattr(run, "GiB") else scpu * run.MiB * 1024 / size))
            print(f"round {r} {label}: {mibs:.1f} MiB/s, server {res[label][-1][1]:.2f} s/GiB, client {ccpu * run.MiB * 1024 / size:.2f} s/GiB", flush=True)
            run.rm(dst)
finally:
    env.cleanup()
for label, _ in variants:
    v = res[label]
    print(f"{label:20s} median {statistics.median(x[0] for x in v):7.1f} MiB/s  [{min(x[0] for x in v):.0f}-{max(x[0] for x in v):.0f}]  server {statistics.median(x[1] for x in v):.2f} s/GiB")
