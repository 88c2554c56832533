#!/bin/sh
# Seed corpus for fuzz_sftp_server: the request streams OpenSSH's sftp
# client sends, recorded by a wrapper that tees its stdin in front of
# amiko-sftp-server, one file per batch session, each prefixed with the
# fuzzer's mode byte. Run from the repository root after building:
#   sh fuzz/gen_sftp_server_corpus.sh build/amiko-sftp-server
set -eu
server=$(readlink -f "$1")
out=$(pwd)/fuzz/corpus/sftp_server
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/root/dir"
head -c 70000 /dev/urandom > "$tmp/f70k"
echo hello > "$tmp/root/small"
cat > "$tmp/wrap" <<W
#!/bin/sh
tee "\$REC" | "$server" --root "$tmp/root"
W
chmod +x "$tmp/wrap"
n=0
session() {
    n=$((n + 1))
    printf '%s\n' "$@" > "$tmp/batch"
    REC="$tmp/rec" sftp -D "$tmp/wrap" -b "$tmp/batch" > /dev/null 2>&1 || true
    # mode bytes: 0x3f one 256 KiB chunk, 0x02 21-byte chunks, 0xc0 read-only + tiny output
    for mode in 3f 02 c0; do
        { printf "\\x$mode"; cat "$tmp/rec"; } > "$out/session$n-$mode"
    done
}
cd "$tmp"
session "ls -l" "pwd" "cd dir" "ls" "-get missing"
session "put f70k up" "get up down" "reput f70k up" "reget up down" "rm up"
session "mkdir d2" "rename small d2/s" "ln -s d2/s l" "ln d2/s h" "chmod 600 h" "chown 0 h" \
    "df -h" "-rmdir d2" "rm l" "rm h" "rename d2/s small" "rmdir d2"
session "-cd missing" "-ls /missing" "-rm missing" "-mkdir small" "-rename small small" \
    "lls" "-ln -s /etc/passwd lnk" "-rm lnk" "progress" "get -p small p"
