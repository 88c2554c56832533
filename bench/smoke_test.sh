#!/bin/sh
# CTest tool.bench_smoke: the benchmark driver and amiko-bench's network
# subcommands start and refuse bad arguments (exit 2) without touching the
# network. Timing is never checked here; `make bench` measures.
#   bench/smoke_test.sh AMIKO-BENCH SOURCE-DIR
set -u
bench=$1
src=$2
fail=0

expect() {  # expect CODE COMMAND...
    want=$1; shift
    "$@" >/dev/null 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: exit $got (wanted $want): $*"
        fail=1
    fi
}

expect 0 /usr/bin/python3 "$src/bench/run.py" --help
expect 2 /usr/bin/python3 "$src/bench/run.py" --only no-such-workload
expect 0 "$bench" --list
expect 2 "$bench" no-such-benchmark
for cmd in sftp-get sftp-put sftp-tree-get sftp-tree-put exec-cat; do
    expect 2 "$bench" "$cmd"                                  # nothing
    expect 2 "$bench" "$cmd" -p 22 -i /nonexistent only-one   # one positional of two
    expect 2 "$bench" "$cmd" -p 0 -i /nonexistent a b         # port 0
    expect 2 "$bench" "$cmd" -p 70000 -i /nonexistent a b     # port too large
    expect 2 "$bench" "$cmd" -p 22 a b                        # no key
done
for cmd in connect-latency exec-live fanout connrate idle; do
    expect 2 "$bench" "$cmd" -p 22 -i /nonexistent -n 0
    expect 2 "$bench" "$cmd" -p 22 -i /nonexistent -n x
    expect 2 "$bench" "$cmd" -p 22 -i /nonexistent extra
    expect 2 "$bench" "$cmd" -p 22 -i /nonexistent -Z
done
expect 2 "$bench" connrate -p 22 -i /nonexistent -t -1
[ "$fail" -eq 0 ] && echo "bench smoke: ok"
exit "$fail"
