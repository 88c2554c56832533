#!/usr/bin/env python3
# Independent from-the-specification computation of one
# chacha20-poly1305@openssh.com packet (OpenSSH PROTOCOL.chacha20poly1305),
# used as the expected value in tests/unit/test_cipher.c
# (test_amk_pkt_chachapoly_independent_vector). Pure Python, no OpenSSL:
# ChaCha20 block function as in RFC 8439 §2.3 but with DJB's original
# 64-bit counter (state words 12-13) and 64-bit nonce (words 14-15);
# Poly1305 as in RFC 8439 §2.5.1.
import struct
def rotl(v,c): return ((v<<c)&0xffffffff)|(v>>(32-c))
def qr(s,a,b,c,d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]^=s[a]; s[d]=rotl(s[d],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]^=s[c]; s[b]=rotl(s[b],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]^=s[a]; s[d]=rotl(s[d],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]^=s[c]; s[b]=rotl(s[b],7)
def block(key, counter, nonce8):
    # DJB original: 64-bit counter words 12,13; 64-bit nonce words 14,15
    st=[0x61707865,0x3320646e,0x79622d32,0x6b206574]+list(struct.unpack('<8I',key))+[counter&0xffffffff,counter>>32]+list(struct.unpack('<2I',nonce8))
    w=st[:]
    for _ in range(10):
        qr(w,0,4,8,12);qr(w,1,5,9,13);qr(w,2,6,10,14);qr(w,3,7,11,15)
        qr(w,0,5,10,15);qr(w,1,6,11,12);qr(w,2,7,8,13);qr(w,3,4,9,14)
    return struct.pack('<16I',*[(a+b)&0xffffffff for a,b in zip(w,st)])
def xor(key,counter,nonce,data):
    out=b''
    for i in range(0,len(data),64):
        ks=block(key,counter+i//64,nonce)
        out+=bytes(x^y for x,y in zip(data[i:i+64],ks))
    return out
def poly(k,m):
    r=int.from_bytes(k[:16],'little')&0x0ffffffc0ffffffc0ffffffc0fffffff
    s=int.from_bytes(k[16:],'little'); p=(1<<130)-5; a=0
    for i in range(0,len(m),16):
        n=int.from_bytes(m[i:i+16]+b'\x01','little'); a=((a+n)*r)%p
    return ((a+s)&((1<<128)-1)).to_bytes(16,'little')
key=bytes((i*7+1)&0xff for i in range(64)); K2=key[:32]; K1=key[32:]
pkt=bytearray((i*3)&0xff for i in range(36)); pkt[0:4]=b'\0\0\0\x20'
nonce=struct.pack('>Q',0x01020304)
el=xor(K1,0,nonce,bytes(pkt[:4])); pk=block(K2,0,nonce)[:32]; eb=xor(K2,1,nonce,bytes(pkt[4:]))
print((el+eb).hex(), poly(pk,el+eb).hex())
