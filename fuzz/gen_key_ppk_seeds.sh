#!/bin/sh
# Seeds for fuzz_key_ppk written by PuTTY's own puttygen (Debian's
# putty-tools): unencrypted, PPK v3 encrypted with a cheap Argon2id cost
# (so the target decrypts them) and PPK v2 encrypted, for Ed25519, Ed448
# (a type amiko does not load), ECDSA and RSA. The passphrase is the one
# fuzz/fuzz_key_ppk.c answers, "Test Passphrase".
# Run from the repository root: sh fuzz/gen_key_ppk_seeds.sh
set -eu
out=fuzz/corpus/key_ppk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PUTTYDIR="$tmp"   # puttygen's random seed: not the real ~/.putty
echo "Test Passphrase" > "$tmp/pp"
: > "$tmp/empty"
for spec in "ed25519" "ed448" "ecdsa 256" "ecdsa 384" "rsa 2048"; do
    set -- $spec
    t=$1
    bits=${2:+-b $2}
    name=puttygen-$t${2:-}
    # shellcheck disable=SC2086
    puttygen -q -t "$t" $bits -C "$name" --new-passphrase "$tmp/empty" -o "$out/$name-plain.ppk"
    # shellcheck disable=SC2086
    puttygen -q -t "$t" $bits -C "$name v3" --new-passphrase "$tmp/pp" \
        --ppk-param kdf=argon2id,memory=64,passes=1,parallelism=1 -o "$out/$name-v3enc.ppk"
    # shellcheck disable=SC2086
    puttygen -q -t "$t" $bits -C "$name v2" --new-passphrase "$tmp/pp" \
        --ppk-param version=2 -o "$out/$name-v2enc.ppk"
done
