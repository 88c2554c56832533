#!/usr/bin/env python3
"""Seeds for fuzz_packet_open that name every cipher/MAC pair: for each
pair index (0-63, taken modulo the number of pairs the build has, so every
pair gets both), a sealed packet untouched and one with a bit flipped
(which must give AMK_EMAC). The input layout is described at the top of
fuzz/fuzz_packet_open.c.

Run from the repository root: python3 fuzz/gen_packet_open_corpus.py
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "packet_open")
PAYLOAD = b"\x5e" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x20" + bytes(range(32))  # CHANNEL_DATA

for i in range(64):
    seq = (0x01000000 * (i % 5) + i).to_bytes(4, "big")
    for name, flip in (("sealed", b"\xff\xff"), ("flipped", (i * 37 % 300).to_bytes(2, "big"))):
        with open(os.path.join(OUT, "%s-pair%02d" % (name, i)), "wb") as f:
            f.write(bytes([0x80 | i]) + seq + flip + PAYLOAD)
