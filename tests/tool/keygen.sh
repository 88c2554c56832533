#!/bin/sh
# Tests of `amiko keygen` against the real ssh-keygen (and openssl for
# Ed25519 PEM, which OpenSSH 9.2 does not read). Usage: keygen.sh /path/to/amiko
set -u
AMIKO=$1
dir=$(mktemp -d /tmp/amk-keygen-test-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0
checks=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { checks=$((checks + 1)); }
# The fingerprint field of `... -l` output.
fp() { awk '{ print $2 }'; }

# --- the tool itself
check; "$AMIKO" --version | grep -q '^amiko [0-9]' || fail "--version"
check; "$AMIKO" help | grep -q 'keygen' || fail "help lists keygen"
check; "$AMIKO" help keygen 2>&1 | grep -q 'usage: amiko keygen' || fail "help keygen"
check; "$AMIKO" nosuch >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command exits 2"
check; "$AMIKO" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no command exits 2"
check; "$AMIKO" keygen -l >/dev/null 2>&1; [ $? -eq 2 ] || fail "-l without -f exits 2"
check; "$AMIKO" keygen -l -y -f x >/dev/null 2>&1; [ $? -eq 2 ] || fail "-l -y exits 2"
check; "$AMIKO" keygen -t nosuch -N '' -f x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad -t exits 2"
check; "$AMIKO" keygen -t ecdsa -b 300 -N '' -f x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad ecdsa -b"
check; "$AMIKO" keygen -m RFC4716 -N '' -f x >/dev/null 2>&1; [ $? -eq 2 ] || fail "-m RFC4716 private"
check; "$AMIKO" keygen -l -E sha1 -f x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad -E"
check; [ ! -e x ] || fail "a failed command left a file"

# --- generate every type in every format; ssh-keygen reads what we write
for t in "ed25519" "ecdsa -b 256" "ecdsa -b 384" "ecdsa -b 521" "rsa -b 2048" "dsa"; do
    name=$(echo "$t" | tr -d ' -')
    for m in openssh PEM PKCS8; do
        for pass in "" "pass phrase"; do
            f="k_${name}_${m}_$([ -n "$pass" ] && echo enc || echo plain)"
            check
            if ! "$AMIKO" keygen -q -t $t -m $m -N "$pass" -C "c $f" -f "$f" </dev/null; then
                fail "keygen -t $t -m $m"; continue
            fi
            check; [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
            check; [ "$(stat -c %a "$f.pub")" = 644 ] || fail "$f.pub mode"
            ours=$("$AMIKO" keygen -l -f "$f.pub" | fp)
            check; [ "$ours" = "$(ssh-keygen -l -f "$f.pub" | fp)" ] || fail "$f: -l differs"
            check; [ "$("$AMIKO" keygen -l -E md5 -f "$f.pub")" = "$(ssh-keygen -l -E md5 -f "$f.pub")" ] ||
                fail "$f: -l -E md5 line differs"
            if [ "$name" = ed25519 ] && [ "$m" != openssh ]; then
                # Ed25519 as PKCS#8 (also for -m PEM, it has no other form).
                check; openssl pkey -in "$f" -passin "pass:$pass" -noout 2>/dev/null ||
                    fail "$f: openssl cannot read it"
            else
                check; got=$(ssh-keygen -y -P "$pass" -f "$f" | ssh-keygen -l -f - | fp)
                [ "$got" = "$ours" ] || fail "$f: ssh-keygen -y gives $got, not $ours"
            fi
            # amiko keygen -y gives back the .pub line.
            check; [ "$("$AMIKO" keygen -y -P "$pass" -f "$f" | cut -d' ' -f1,2)" = "$(cut -d' ' -f1,2 "$f.pub")" ] ||
                fail "$f: -y differs from .pub"
            if [ -n "$pass" ]; then
                check; "$AMIKO" keygen -y -P "wrong phrase" -f "$f" >/dev/null 2>&1 && fail "$f: wrong -P accepted"
            fi
        done
    done
done

# --- keys ssh-keygen writes, every format, plain and encrypted: amiko reads them
for t in "ed25519" "ecdsa -b 256" "ecdsa -b 521" "rsa -b 2048" "dsa"; do
    name=$(echo "$t" | tr -d ' -')
    for m in RFC4716 PEM PKCS8; do
        [ "$name" = ed25519 ] && [ "$m" != RFC4716 ] && continue
        for pass in "" "pass phrase"; do
            f="s_${name}_${m}_$([ -n "$pass" ] && echo enc || echo plain)"
            ssh-keygen -q -t $t -m $m -N "$pass" -C "s $f" -f "$f" || { fail "ssh-keygen $f"; continue; }
            check; [ "$("$AMIKO" keygen -y -P "$pass" -f "$f" | cut -d' ' -f1,2)" = "$(cut -d' ' -f1,2 "$f.pub")" ] ||
                fail "$f: amiko keygen -y differs from ssh-keygen's .pub"
        done
    done
    # randomart, byte for byte, both hashes
    for h in sha256 md5; do
        check; [ "$("$AMIKO" keygen -l -v -E $h -f "s_${name}_RFC4716_plain.pub")" = \
                 "$(ssh-keygen -l -v -E $h -f "s_${name}_RFC4716_plain.pub")" ] ||
            fail "$name: -lv -E $h differs from ssh-keygen"
    done
    # -l on a private key file without a .pub beside it
    cp "s_${name}_RFC4716_plain" "lonely_$name"
    check; [ "$("$AMIKO" keygen -l -f "lonely_$name" | fp)" = "$(ssh-keygen -l -f "s_${name}_RFC4716_plain.pub" | fp)" ] ||
        fail "$name: -l of a private key"
    # RFC 4716: ours to ssh-keygen -i, ssh-keygen -e to ours
    "$AMIKO" keygen -e -f "s_${name}_RFC4716_plain.pub" > "ours_$name.rfc"
    check; head -1 "ours_$name.rfc" | grep -q -- '---- BEGIN SSH2 PUBLIC KEY ----' || fail "$name: -e header"
    check; [ "$(ssh-keygen -i -f "ours_$name.rfc")" = "$(cut -d' ' -f1,2 "s_${name}_RFC4716_plain.pub")" ] ||
        fail "$name: ssh-keygen -i of our -e"
    ssh-keygen -e -f "s_${name}_RFC4716_plain.pub" > "theirs_$name.rfc"
    check; [ "$("$AMIKO" keygen -i -f "theirs_$name.rfc")" = "$(ssh-keygen -i -f "theirs_$name.rfc")" ] ||
        fail "$name: amiko keygen -i of ssh-keygen -e"
    check; [ "$("$AMIKO" keygen -e -f "s_${name}_RFC4716_plain.pub")" = "$(ssh-keygen -e -f "s_${name}_RFC4716_plain.pub")" ] ||
        fail "$name: -e output differs from ssh-keygen -e"
done

# --- -p: change the passphrase, in place, in any format
"$AMIKO" keygen -q -t ecdsa -N "old phrase" -C pw -f pw </dev/null
for m in openssh PEM PKCS8; do
    check; "$AMIKO" keygen -p -P "old phrase" -N "new phrase" -m $m -f pw >/dev/null || fail "-p -m $m"
    check; ssh-keygen -y -P "new phrase" -f pw >/dev/null 2>&1 || fail "-p -m $m: new passphrase refused"
    check; ssh-keygen -y -P "old phrase" -f pw >/dev/null 2>&1 && fail "-p -m $m: old passphrase still works"
    "$AMIKO" keygen -p -P "new phrase" -N "old phrase" -f pw >/dev/null || fail "-p back"
done
check; "$AMIKO" keygen -p -P "wrong" -N "x" -f pw >/dev/null 2>&1 && fail "-p with a wrong -P"
check; ssh-keygen -y -P "old phrase" -f pw >/dev/null 2>&1 || fail "a failed -p changed the file"
# Remove the passphrase.
check; "$AMIKO" keygen -p -P "old phrase" -N "" -f pw >/dev/null && ssh-keygen -y -P "" -f pw >/dev/null ||
    fail "-p to no passphrase"

# --- existing files are not overwritten without a terminal to ask
check; "$AMIKO" keygen -q -N '' -f pw </dev/null >/dev/null 2>&1 && fail "overwrote an existing key"
check; "$AMIKO" keygen -q -N '' -f /nonexistent/dir/k </dev/null >/dev/null 2>&1 && fail "wrote into a missing directory"

echo "keygen.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
