#include "cipher.h"

#include <string.h>

const uint8_t kms_key_k4[20] = {0x05, 0x3D, 0x83, 0x07, 0xF9, 0xE5, 0xF0, 0x88, 0xEB, 0x5E,
                                0xA6, 0x68, 0x6C, 0xF0, 0x37, 0xC7, 0xE4, 0xEF, 0xD2, 0xD6};
const uint8_t kms_key_k5[16] = {0xCD, 0x7E, 0x79, 0x6F, 0x2A, 0xB2, 0x5D, 0xCB,
                                0x55, 0xFF, 0xC8, 0xEF, 0x83, 0x64, 0xC4, 0x70};
const uint8_t kms_key_k6[16] = {0xA9, 0x4A, 0x41, 0x95, 0xE2, 0x01, 0x43, 0x2D,
                                0x9B, 0xCB, 0x46, 0x04, 0x05, 0xD8, 0x4A, 0x21};

static inline uint32_t ror32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << ((32 - n) & 31)); /* n == 0 must not shift by 32 (undefined) */
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sub_word(uint32_t w)
{
    return (uint32_t)cipher_sbox[w >> 24] << 24 | (uint32_t)cipher_sbox[(w >> 16) & 0xff] << 16 |
           (uint32_t)cipher_sbox[(w >> 8) & 0xff] << 8 | cipher_sbox[w & 0xff];
}

int cipher_key_expand(struct cipher_key *key, const uint8_t *bytes, size_t len)
{
    static const uint8_t rcon[15] = {0,    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40,
                                     0x80, 0x1b, 0x36, 0x6c, 0xd8, 0xab, 0x4d};
    if (len != 16 && len != 20 && len != 24 && len != 32)
        return -1;
    unsigned nk = (unsigned)len / 4;
    unsigned total = 4 * (nk + 6 + 1);
    memset(key, 0, sizeof *key);
    key->rounds = nk + 6;
    for (unsigned i = 0; i < nk; i++)
        key->ek[i] = load_be32(bytes + 4 * i);
    for (unsigned i = nk; i < total; i++) {
        uint32_t t = key->ek[i - 1];
        if (i % nk == 0)
            t = sub_word((t << 8) | (t >> 24)) ^ ((uint32_t)rcon[i / nk] << 24);
        else if (nk > 6 && i % nk == 4)
            t = sub_word(t);
        key->ek[i] = key->ek[i - nk] ^ t;
    }
    cipher_key_derive_decrypt(key);
    return 0;
}

void cipher_key_tweak_v6(struct cipher_key *key)
{
    /* Expanded-key bytes 64, 96 and 128 = byte 0 (most significant) of words 16, 24, 32. */
    key->ek[16] ^= 0x73u << 24;
    key->ek[24] ^= 0x09u << 24;
    key->ek[32] ^= 0xE4u << 24;
    cipher_key_derive_decrypt(key);
}

/* InvMixColumns of one column word, via TD0 of the S-box image (TD0 includes InvSubBytes). */
static uint32_t inv_mix_column(uint32_t w)
{
    return cipher_td0[cipher_sbox[w >> 24]] ^ ror32(cipher_td0[cipher_sbox[(w >> 16) & 0xff]], 8) ^
           ror32(cipher_td0[cipher_sbox[(w >> 8) & 0xff]], 16) ^
           ror32(cipher_td0[cipher_sbox[w & 0xff]], 24);
}

void cipher_key_derive_decrypt(struct cipher_key *key)
{
    unsigned nr = key->rounds;
    for (unsigned r = 0; r <= nr; r++) {
        const uint32_t *src = key->ek + 4 * (nr - r);
        uint32_t *dst = key->dk + 4 * r;
        for (unsigned c = 0; c < 4; c++)
            dst[c] = (r == 0 || r == nr) ? src[c] : inv_mix_column(src[c]);
    }
}

#define TE(x, n) ror32(cipher_te0[(x)], (n))
#define TD(x, n) ror32(cipher_td0[(x)], (n))

void cipher_encrypt_block(const struct cipher_key *key, const uint8_t in[16], uint8_t out[16])
{
    const uint32_t *rk = key->ek;
    uint32_t s0 = load_be32(in) ^ rk[0], s1 = load_be32(in + 4) ^ rk[1];
    uint32_t s2 = load_be32(in + 8) ^ rk[2], s3 = load_be32(in + 12) ^ rk[3];
    for (unsigned r = 1; r < key->rounds; r++) {
        rk += 4;
        uint32_t t0 = TE(s0 >> 24, 0) ^ TE((s1 >> 16) & 0xff, 8) ^ TE((s2 >> 8) & 0xff, 16) ^
                      TE(s3 & 0xff, 24) ^ rk[0];
        uint32_t t1 = TE(s1 >> 24, 0) ^ TE((s2 >> 16) & 0xff, 8) ^ TE((s3 >> 8) & 0xff, 16) ^
                      TE(s0 & 0xff, 24) ^ rk[1];
        uint32_t t2 = TE(s2 >> 24, 0) ^ TE((s3 >> 16) & 0xff, 8) ^ TE((s0 >> 8) & 0xff, 16) ^
                      TE(s1 & 0xff, 24) ^ rk[2];
        uint32_t t3 = TE(s3 >> 24, 0) ^ TE((s0 >> 16) & 0xff, 8) ^ TE((s1 >> 8) & 0xff, 16) ^
                      TE(s2 & 0xff, 24) ^ rk[3];
        s0 = t0, s1 = t1, s2 = t2, s3 = t3;
    }
    rk += 4;
    const uint8_t *S = cipher_sbox;
#define FINAL_E(a, b, c, d)                                                                        \
    ((uint32_t)S[(a) >> 24] << 24 | (uint32_t)S[((b) >> 16) & 0xff] << 16 |                        \
     (uint32_t)S[((c) >> 8) & 0xff] << 8 | S[(d)&0xff])
    store_be32(out, FINAL_E(s0, s1, s2, s3) ^ rk[0]);
    store_be32(out + 4, FINAL_E(s1, s2, s3, s0) ^ rk[1]);
    store_be32(out + 8, FINAL_E(s2, s3, s0, s1) ^ rk[2]);
    store_be32(out + 12, FINAL_E(s3, s0, s1, s2) ^ rk[3]);
#undef FINAL_E
}

void cipher_decrypt_block(const struct cipher_key *key, const uint8_t in[16], uint8_t out[16])
{
    const uint32_t *rk = key->dk;
    uint32_t s0 = load_be32(in) ^ rk[0], s1 = load_be32(in + 4) ^ rk[1];
    uint32_t s2 = load_be32(in + 8) ^ rk[2], s3 = load_be32(in + 12) ^ rk[3];
    for (unsigned r = 1; r < key->rounds; r++) {
        rk += 4;
        uint32_t t0 = TD(s0 >> 24, 0) ^ TD((s3 >> 16) & 0xff, 8) ^ TD((s2 >> 8) & 0xff, 16) ^
                      TD(s1 & 0xff, 24) ^ rk[0];
        uint32_t t1 = TD(s1 >> 24, 0) ^ TD((s0 >> 16) & 0xff, 8) ^ TD((s3 >> 8) & 0xff, 16) ^
                      TD(s2 & 0xff, 24) ^ rk[1];
        uint32_t t2 = TD(s2 >> 24, 0) ^ TD((s1 >> 16) & 0xff, 8) ^ TD((s0 >> 8) & 0xff, 16) ^
                      TD(s3 & 0xff, 24) ^ rk[2];
        uint32_t t3 = TD(s3 >> 24, 0) ^ TD((s2 >> 16) & 0xff, 8) ^ TD((s1 >> 8) & 0xff, 16) ^
                      TD(s0 & 0xff, 24) ^ rk[3];
        s0 = t0, s1 = t1, s2 = t2, s3 = t3;
    }
    rk += 4;
    const uint8_t *Si = cipher_inv_sbox;
#define FINAL_D(a, b, c, d)                                                                        \
    ((uint32_t)Si[(a) >> 24] << 24 | (uint32_t)Si[((b) >> 16) & 0xff] << 16 |                      \
     (uint32_t)Si[((c) >> 8) & 0xff] << 8 | Si[(d)&0xff])
    store_be32(out, FINAL_D(s0, s3, s2, s1) ^ rk[0]);
    store_be32(out + 4, FINAL_D(s1, s0, s3, s2) ^ rk[1]);
    store_be32(out + 8, FINAL_D(s2, s1, s0, s3) ^ rk[2]);
    store_be32(out + 12, FINAL_D(s3, s2, s1, s0) ^ rk[3]);
#undef FINAL_D
}

void cipher_cbc_encrypt(const struct cipher_key *key, const uint8_t iv[16], const uint8_t *in,
                        size_t len, uint8_t *out)
{
    uint8_t chain[16];
    memcpy(chain, iv, 16);
    for (size_t off = 0; off + 16 <= len; off += 16) {
        for (int i = 0; i < 16; i++)
            chain[i] ^= in[off + i];
        cipher_encrypt_block(key, chain, chain);
        memcpy(out + off, chain, 16);
    }
}

void cipher_cbc_decrypt(const struct cipher_key *key, const uint8_t iv[16], const uint8_t *in,
                        size_t len, uint8_t *out)
{
    uint8_t chain[16], block[16], plain[16];
    memcpy(chain, iv, 16);
    for (size_t off = 0; off + 16 <= len; off += 16) {
        memcpy(block, in + off, 16); /* in may alias out */
        cipher_decrypt_block(key, block, plain);
        for (int i = 0; i < 16; i++)
            out[off + i] = plain[i] ^ chain[i];
        memcpy(chain, block, 16);
    }
}

void kms_mac4(const uint8_t *msg, size_t len, uint8_t out[16])
{
    uint8_t h[16] = {0};
    size_t off = 0;
    for (; off + 16 <= len; off += 16) {
        for (int i = 0; i < 16; i++)
            h[i] ^= msg[off + i];
        cipher_encrypt_block(&cipher_key_v4, h, h);
    }
    /* Last block: the remaining 0..15 bytes, then 0x80, then zeros (always present). */
    size_t rest = len - off;
    for (size_t i = 0; i < rest; i++)
        h[i] ^= msg[off + i];
    h[rest] ^= 0x80;
    cipher_encrypt_block(&cipher_key_v4, h, h);
    memcpy(out, h, 16);
}
