#!/usr/bin/python3
"""bench/run.py's AsyncSSH peer, through AsyncSSH's fastest public calls:
SFTPClient.get/put (many requests in parallel; recurse=True for trees),
conn.run with stdout redirected to a file, and asyncio.gather for the
fan-out of sessions on one connection.

  asyncssh_bench.py sftp-get|sftp-put|exec-cat|sftp-tree-get|sftp-tree-put OPTS SRC DST
  asyncssh_bench.py connect-latency|exec-live|fanout OPTS -n N
"""
import asyncio
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import asyncssh  # noqa: E402

from peer_common import Clock, parse, peak_rss_kib  # noqa: E402


async def connect(o):
    kw = {"encryption_algs": [o.cipher]}
    if o.mac:
        kw["mac_algs"] = [o.mac]
    return await asyncssh.connect(o.host, o.port, username=o.user, client_keys=[o.key],
                                  known_hosts=None, agent_path=None, config=[], **kw)


async def true(conn):
    r = await conn.run("true", check=True)
    return r.exit_status


async def main():
    o = parse("asyncssh_bench.py", ["sftp-get", "sftp-put", "sftp-tree-get", "sftp-tree-put",
                                     "exec-cat", "connect-latency", "exec-live", "fanout"])
    n = o.count or 20
    if o.workload == "connect-latency":
        t0 = time.monotonic()
        for _ in range(n):
            conn = await connect(o)
            await true(conn)
            conn.close()
            await conn.wait_closed()
        print(f"RESULT secs={(time.monotonic() - t0) / n:.6f} n={n}")
        return
    if o.workload in ("exec-live", "fanout"):
        conn = await connect(o)
        await true(conn)
        t0 = time.monotonic()
        if o.workload == "exec-live":
            for _ in range(n):
                await true(conn)
            print(f"RESULT secs={(time.monotonic() - t0) / n:.6f} n={n}")
        else:
            await asyncio.gather(*(true(conn) for _ in range(n)))
            rss = peak_rss_kib()
            print(f"RESULT secs={time.monotonic() - t0:.6f} n={n} maxrss_kb={rss}")
        conn.close()
        await conn.wait_closed()
        return
    if len(o.args) != 2:
        sys.exit("asyncssh_bench.py: wants SRC DST")
    src, dst = o.args
    clock = Clock()
    conn = await connect(o)
    if o.workload == "exec-cat":
        clock.connected()
        await conn.run(f"cat '{src}'", stdout=dst, encoding=None, check=True)
    else:
        async with conn.start_sftp_client() as sftp:
            clock.connected()
            if o.workload == "sftp-get":
                await sftp.get(src, dst)
            elif o.workload == "sftp-put":
                await sftp.put(src, dst)
            elif o.workload == "sftp-tree-get":
                await sftp.get(src, dst, recurse=True)
            else:
                await sftp.put(src, dst, recurse=True)
    clock.result()
    conn.close()
    await conn.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
