#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_userauth_server.c: client message
sequences (first byte: configuration flags, then 2-byte length + payload
per message) for every method, with real Ed25519, ECDSA P-256 and RSA
signatures over the target's fixed session identifier (1, then 31 zeros),
made with python3-cryptography. Usage: gen_userauth_server_corpus.py DIR"""
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SID = bytes([1]) + bytes(31)


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def mpint(v):
    if v == 0:
        return s(b"")
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    return s(b)


def req(method, rest=b"", user="fuzz", service="ssh-connection"):
    return bytes([50]) + s(user) + s(service) + s(method) + rest


def password(pw, change=False, new=None):
    rest = bytes([1 if change else 0]) + s(pw)
    if change:
        rest += s(new or "new")
    return req("password", rest)


def pk_blob(kind, key):
    if kind == "ssh-ed25519":
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return s("ssh-ed25519") + s(raw)
    if kind == "ecdsa-sha2-nistp256":
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        pt = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return s("ecdsa-sha2-nistp256") + s("nistp256") + s(pt)
    nums = key.public_key().public_numbers()
    return s("ssh-rsa") + mpint(nums.e) + mpint(nums.n)


def sign(alg, key, data):
    if alg == "ssh-ed25519":
        return s(alg) + s(key.sign(data))
    if alg == "ecdsa-sha2-nistp256":
        r, sv = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return s(alg) + s(mpint(r) + mpint(sv))
    h = hashes.SHA512() if alg == "rsa-sha2-512" else hashes.SHA256()
    return s(alg) + s(key.sign(data, padding.PKCS1v15(), h))


def pubkey(alg, kind, key, signed, flip=False, user="fuzz"):
    head = req("publickey", bytes([1 if signed else 0]) + s(alg) + s(pk_blob(kind, key)),
               user=user)
    if not signed:
        return head
    sig = bytearray(sign(alg, key, s(SID) + head))
    if flip:
        sig[-3] ^= 0x40
    return head + s(bytes(sig))


def kbdint(sub=""):
    return req("keyboard-interactive", s("") + s(sub))


def info_response(*answers):
    return bytes([61]) + struct.pack(">I", len(answers)) + b"".join(s(a) for a in answers)


SERVICE = bytes([5]) + s("ssh-userauth")


def seq(flags, *msgs):
    out = bytes([flags])
    for m in msgs:
        out += struct.pack(">H", len(m)) + m
    return out


def main(d):
    os.makedirs(d, exist_ok=True)
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seeds = {
        "none_password": seq(0, req("none"), password("wrong"), password("pw")),
        "password_change": seq(0, password("pw", True)),
        "pubkey_ed25519": seq(0, req("none"), pubkey("ssh-ed25519", "ssh-ed25519", ed, False),
                              pubkey("ssh-ed25519", "ssh-ed25519", ed, True)),
        "pubkey_ecdsa": seq(0, pubkey("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", p256, True)),
        "pubkey_rsa512": seq(0, pubkey("rsa-sha2-512", "ssh-rsa", rk, False),
                             pubkey("rsa-sha2-512", "ssh-rsa", rk, True)),
        "pubkey_rsa256_bad": seq(0, pubkey("rsa-sha2-256", "ssh-rsa", rk, True, flip=True),
                                 pubkey("ssh-rsa", "ssh-rsa", rk, False)),
        "kbdint": seq(0, kbdint(), info_response("x", "y"), info_response("ok")),
        "kbdint_abandon": seq(0, kbdint("pam"), password("pw")),
        "kbdint_wrong_count": seq(0, kbdint(), info_response("x")),
        "chain": seq(1, req("none"), password("pw"),
                     pubkey("ssh-ed25519", "ssh-ed25519", ed, True), password("pw")),
        "chain_kbdint": seq(1, pubkey("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", p256, True),
                            kbdint(), info_response("a", "b"), info_response("ok")),
        "permit_none": seq(2, req("none"), req("none")),
        "held": seq(4, password("a"), password("b"), password("pw")),
        "partial": seq(0, password("partial"), pubkey("ssh-ed25519", "ssh-ed25519", ed, True)),
        "limit": seq(0, *[password("x%d" % i) for i in range(7)]),
        "changed_user": seq(0, req("none"), req("none", user="root")),
        "no_service": seq(8, req("none")),
        "bad_service": seq(8, bytes([5]) + s("ssh-connection")),
        "service_twice": seq(8, SERVICE, SERVICE),
        "unknown_method": seq(0, req("hostbased", s("x")), req("gssapi-with-mic")),
        "after_success": seq(0, password("pw"), password("pw"), bytes([90]) + s("session")),
        "truncated": seq(0, password("pw")[:-3], bytes([50, 0, 0])),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
