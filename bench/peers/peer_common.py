"""Command line shared by the Python benchmark peers (same as amiko-bench's)."""
import argparse
import getpass
import resource
import time


def parse(prog, workloads):
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("workload", choices=workloads)
    p.add_argument("-H", dest="host", default="127.0.0.1")
    p.add_argument("-p", dest="port", type=int, required=True)
    p.add_argument("-u", dest="user", default=getpass.getuser())
    p.add_argument("-i", dest="key", required=True)
    p.add_argument("-c", dest="cipher", default="aes128-gcm@openssh.com")
    p.add_argument("-m", dest="mac", default=None)
    p.add_argument("-n", dest="count", type=int, default=0)
    p.add_argument("args", nargs="*")
    return p.parse_intermixed_args()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Clock:
    """Wall and CPU time from its creation (before connecting)."""

    def __init__(self):
        self.t0, self.c0 = time.monotonic(), cpu()
        self.t1 = self.t0

    def connected(self):
        self.t1 = time.monotonic()

    def result(self, **extra):
        now = time.monotonic()
        fields = {"secs": now - self.t1, "total": now - self.t0, "cpu": cpu() - self.c0}
        fields.update(extra)
        print("RESULT " + " ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in fields.items()), flush=True)


def peak_rss_kib():
    """VmHWM: this image's peak (ru_maxrss would include the forking parent's)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1
