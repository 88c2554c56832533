#!/usr/bin/env python3
"""Seeds for fuzz_packet_open that name every cipher/MAC pair: a sealed
packet per pair index (0-47, taken modulo the number of pairs the build
has, so every pair gets at least one), untouched for even indices and with
one bit flipped for odd ones (which must give AMK_EMAC). The input layout
is described at the top of fuzz/fuzz_packet_open.c.

Run from the repository root: python3 fuzz/gen_packet_open_corpus.py
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "packet_open")
PAYLOAD = b"\x5e" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x20" + bytes(range(32))  # CHANNEL_DATA

for i in range(48):
    seq = (0x01000000 * (i % 5) + i).to_bytes(4, "big")
    flip = b"\xff\xff" if i % 2 == 0 else (i * 37 % 300).to_bytes(2, "big")
    data = bytes([0x80 | i]) + seq + flip + PAYLOAD
    with open(os.path.join(OUT, "sealed-pair%02d" % i), "wb") as f:
        f.write(data)
