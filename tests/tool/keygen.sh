#!/bin/sh
# Tests of `amiko keygen` against the real ssh-keygen (and openssl for
# Ed25519 PEM, which OpenSSH 9.2 does not read). Usage: keygen.sh /path/to/amiko
set -u
AMIKO=$1
dir=$(mktemp -d /tmp/amk-keygen-test-XXXXXX)
trap 'rm -rf "$dir"' EXIT
# puttygen writes its random seed to the passwd entry's ~/.putty, not
# $HOME's, unless PUTTYDIR says where
export PUTTYDIR="$dir"
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

# -l of an encrypted OpenSSH key alone needs no passphrase (the header holds the public key)
"$AMIKO" keygen -q -t ed25519 -N "pass phrase" -C alone -f alone </dev/null
want=$(ssh-keygen -l -f alone.pub | fp)
rm alone.pub
check; [ "$("$AMIKO" keygen -l -f alone </dev/null | fp)" = "$want" ] || fail "-l of an encrypted key alone"

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

# --- -m PPK: a PuTTY key that amiko reads back (and puttygen, when installed)
check; "$AMIKO" keygen -q -t ecdsa -m PPK -N "pass phrase" -C putty -f ppk </dev/null || fail "-m PPK"
check; head -1 ppk | grep -q '^PuTTY-User-Key-File-3: ecdsa-sha2-nistp256$' || fail "-m PPK header"
check; [ "$("$AMIKO" keygen -y -P "pass phrase" -f ppk | cut -d' ' -f1,2)" = "$(cut -d' ' -f1,2 ppk.pub)" ] ||
    fail "-m PPK: -y differs from .pub"
if command -v puttygen >/dev/null 2>&1; then
    check; [ "$(echo "pass phrase" | puttygen ppk -O public-openssh --old-passphrase /dev/stdin | cut -d' ' -f1,2)" = \
             "$(cut -d' ' -f1,2 ppk.pub)" ] || fail "puttygen reads -m PPK"
fi

# --- existing files are not overwritten without a terminal to ask
check; "$AMIKO" keygen -q -N '' -f pw </dev/null >/dev/null 2>&1 && fail "overwrote an existing key"
check; "$AMIKO" keygen -q -N '' -f /nonexistent/dir/k </dev/null >/dev/null 2>&1 && fail "wrote into a missing directory"

# --- -F, -R and -H on known_hosts files, against ssh-keygen on the same files
"$AMIKO" keygen -q -t ecdsa -N '' -C kh1 -f kh_k1 </dev/null
"$AMIKO" keygen -q -t rsa -b 2048 -N '' -C kh2 -f kh_k2 </dev/null
k1=$(cut -d' ' -f1,2 kh_k1.pub)
k2=$(cut -d' ' -f1,2 kh_k2.pub)
cat >kh_src <<EOF
# a comment
a.example.com,b.example.com $k1 first
[a.example.com]:2222 $k2
@revoked a.example.com $k2
*.wild.example.com,!bad.wild.example.com $k1
@cert-authority *.example.com $k2
10.0.0.1 $k1
A.Example.com $k2 mixed case

10.0.0.1 $k2
EOF
kh_hosts="a.example.com b.example.com [a.example.com]:2222 [b.example.com]:2222 x.wild.example.com
bad.wild.example.com 10.0.0.1 [10.0.0.1]:2222 nothere.example.com nothere.example.org"
for h in $kh_hosts; do
    ours=$("$AMIKO" keygen -F "$h" -f kh_src); ours_rc=$?
    theirs=$(ssh-keygen -F "$h" -f kh_src); theirs_rc=$?
    check; [ "$ours_rc" = "$theirs_rc" ] || fail "-F $h: exit $ours_rc, ssh-keygen $theirs_rc"
    check; [ "$ours" = "$theirs" ] || fail "-F $h: printed
$ours
ssh-keygen printed
$theirs"
done
check; "$AMIKO" keygen -F nothere.example.org -f kh_src >/dev/null; [ $? -eq 1 ] || fail "-F not found exits 1"
check; "$AMIKO" keygen -F a.example.com -f kh_missing >/dev/null 2>&1; [ $? -eq 1 ] || fail "-F missing file"
check; "$AMIKO" keygen -F 'bad host' -f kh_src >/dev/null 2>&1; [ $? -eq 2 ] || fail "-F bad host exits 2"
check; "$AMIKO" keygen -F '[a.example.com]:x' -f kh_src >/dev/null 2>&1; [ $? -eq 2 ] || fail "-F bad port exits 2"
check; "$AMIKO" keygen -F a -R b -f kh_src >/dev/null 2>&1; [ $? -eq 2 ] || fail "-F -R exits 2"
check; "$AMIKO" keygen -l -H -f kh_src >/dev/null 2>&1; [ $? -eq 2 ] || fail "-l -H exits 2"
# The file defaults to ~/.ssh/known_hosts.
mkdir -p home/.ssh && cp kh_src home/.ssh/known_hosts
check; [ "$(HOME=$PWD/home "$AMIKO" keygen -F 10.0.0.1)" = "$(ssh-keygen -F 10.0.0.1 -f kh_src)" ] ||
    fail "-F default file"

# -R: byte for byte what ssh-keygen -R leaves, and the same .old backup.
for h in $kh_hosts; do
    cp kh_src kh_ours; cp kh_src kh_theirs; rm -f kh_ours.old kh_theirs.old
    check; "$AMIKO" keygen -R "$h" -f kh_ours >/dev/null 2>&1 || fail "-R $h failed"
    ssh-keygen -R "$h" -f kh_theirs >/dev/null 2>&1
    check; cmp -s kh_ours kh_theirs || fail "-R $h: file differs from ssh-keygen -R"
    if [ -e kh_theirs.old ]; then
        check; cmp -s kh_ours.old kh_src || fail "-R $h: no .old backup"
    else
        check; [ ! -e kh_ours.old ] || fail "-R $h: .old written though nothing was removed"
    fi
done
cp kh_src kh_ours; cp kh_src kh_theirs
check; [ "$("$AMIKO" keygen -R a.example.com -f kh_ours 2>/dev/null)" = \
         "$(ssh-keygen -R a.example.com -f kh_theirs 2>/dev/null | sed 's/kh_theirs/kh_ours/g')" ] ||
    fail "-R prints what ssh-keygen -R prints"
check; "$AMIKO" keygen -R a.example.com -f kh_missing >/dev/null 2>&1 && fail "-R on a missing file"
cp kh_src home/.ssh/known_hosts
check; HOME=$PWD/home "$AMIKO" keygen -R 10.0.0.1 >/dev/null 2>&1 &&
    ! grep -q '^10.0.0.1 ' home/.ssh/known_hosts && [ -e home/.ssh/known_hosts.old ] || fail "-R default file"

# -H: ssh-keygen -F finds every host in amiko's hashed file, with the same keys.
cp kh_src kh_hashed; rm -f kh_hashed.old
check; "$AMIKO" keygen -H -f kh_hashed >/dev/null 2>&1 || fail "-H failed"
check; cmp -s kh_hashed.old kh_src || fail "-H: no .old backup"
check; [ "$(grep -c '^|1|' kh_hashed)" = 6 ] || fail "-H hashed $(grep -c '^|1|' kh_hashed) names, not 6"
check; grep -v '^[@#]' kh_hashed | grep -q '[ab]\.example\.com\|10\.0\.0\.1' && fail "-H left a plain name"
for h in $kh_hosts; do
    # Marker lines stay as they are; compare the keys of all lines found.
    before=$(ssh-keygen -F "$h" -f kh_src | grep -v '^#' | sed 's/^@[a-z-]* //' | awk '{ print $2, $3 }' | sort)
    after=$(ssh-keygen -F "$h" -f kh_hashed | grep -v '^#' | sed 's/^@[a-z-]* //' | awk '{ print $2, $3 }' | sort)
    check; [ "$before" = "$after" ] || fail "-H: ssh-keygen -F $h finds
$after
not
$before"
    check; [ "$("$AMIKO" keygen -F "$h" -f kh_hashed)" = "$(ssh-keygen -F "$h" -f kh_hashed)" ] ||
        fail "-F $h on hashed lines"
done
check; "$AMIKO" keygen -H -f kh_missing >/dev/null 2>&1 && fail "-H on a missing file"

echo "keygen.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
