#!/usr/bin/python3
"""Per-round ratios of workload 1 from a bench/run.py log (its stderr lines
"[bench HH:MM:SS] sftp-get amiko: 571.1 MiB/s, ..."): amiko over OpenSSH's
sftp and over `ssh cat`, round by round, with sshd's CPU s per GiB beside
each figure. The i-th line of a label is its round i.

usage: bench/round_ratios.py LOG"""
import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r"\] (sftp-get|sftp-put) (.+?): ([\d.]+) MiB/s"
                  r"(?:, client [\d.]+ CPU s/GiB)?(?:, server ([\d.]+))?")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    vals = defaultdict(lambda: defaultdict(list))
    with open(sys.argv[1]) as f:
        for line in f:
            m = LINE.search(line)
            if m:
                vals[m[1]][m[2]].append((float(m[3]), m[4] or "-"))
    for key in ("sftp-get", "sftp-put"):
        v = vals.get(key)
        if not v or "amiko" not in v:
            continue
        a, o, c = v["amiko"], v.get("openssh", []), v.get("openssh ssh cat", [])
        print(f"== {key}: round, MiB/s (sshd CPU s/GiB) of amiko, OpenSSH sftp, ssh cat; "
              "amiko/sftp, amiko/cat")
        rs, rc = [], []
        for i, x in enumerate(a):
            y = o[i] if i < len(o) else None
            z = c[i] if i < len(c) else None
            r1 = x[0] / y[0] if y else None
            r2 = x[0] / z[0] if z else None
            rs += [r1] if r1 else []
            rc += [r2] if r2 else []
            cell = lambda t: f"{t[0]:.1f} ({t[1]})" if t else "-"
            print(f"{i:2d} {cell(x):>15} {cell(y):>15} {cell(z):>15} "
                  f"{r1 or 0:5.2f} {r2 or 0:5.2f}")
        if rs and rc:
            print(f"median amiko/sftp {statistics.median(rs):.2f}, "
                  f"amiko/cat {statistics.median(rc):.2f} ({len(rs)} rounds)")


if __name__ == "__main__":
    main()
