/*
 * The Rijndael block cipher family KMS uses (spec §4): standard AES-128 (V5), KMS-V6 AES (an
 * AES-128 schedule with three tweaked bytes) and Rijndael with a 160-bit key (V4 MAC). All share
 * the AES round function; only the key schedule differs. T-table implementation.
 */
#ifndef KMSLOAD_CIPHER_H
#define KMSLOAD_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#define CIPHER_BLOCK 16
#define CIPHER_MAX_ROUNDS 14

/* Round keys as big-endian column words: word i holds key bytes 4i..4i+3, byte 4i highest. */
struct cipher_key {
    unsigned rounds;
    uint32_t ek[4 * (CIPHER_MAX_ROUNDS + 1)]; /* encryption round keys */
    uint32_t dk[4 * (CIPHER_MAX_ROUNDS + 1)]; /* equivalent-inverse-cipher decryption keys */
};

/* Expands a 16, 20, 24 or 32-byte key (Nk = 4..8, Nr = Nk + 6). Returns 0, or -1 on a bad length.
 */
int cipher_key_expand(struct cipher_key *key, const uint8_t *bytes, size_t len);
/* Applies the KMS-V6 tweak (round keys 4, 6, 8, byte 0) to the finished schedule. */
void cipher_key_tweak_v6(struct cipher_key *key);
/* Recomputes dk from ek (after any change to ek). */
void cipher_key_derive_decrypt(struct cipher_key *key);

void cipher_encrypt_block(const struct cipher_key *key, const uint8_t in[16], uint8_t out[16]);
void cipher_decrypt_block(const struct cipher_key *key, const uint8_t in[16], uint8_t out[16]);
/* CBC over len bytes (a multiple of 16; in and out may be the same buffer). */
void cipher_cbc_encrypt(const struct cipher_key *key, const uint8_t iv[16], const uint8_t *in,
                        size_t len, uint8_t *out);
void cipher_cbc_decrypt(const struct cipher_key *key, const uint8_t iv[16], const uint8_t *in,
                        size_t len, uint8_t *out);

/* V4 MAC (§5.1): CBC-MAC with Rijndael-160 under K4, message padded with 0x80 then zeros. */
void kms_mac4(const uint8_t *msg, size_t len, uint8_t out[16]);

/* Generated tables (cipher_tables.c). */
extern const uint8_t cipher_sbox[256];
extern const uint8_t cipher_inv_sbox[256];
extern const uint32_t cipher_te0[256];
extern const uint32_t cipher_td0[256];
extern const struct cipher_key cipher_key_v4; /* Rijndael-160, K4 */
extern const struct cipher_key cipher_key_v5; /* AES-128, K5 */
extern const struct cipher_key cipher_key_v6; /* KMS-V6 AES, K6 */

/* The raw keys of §4.1, for tests and for re-deriving the schedules above. */
extern const uint8_t kms_key_k4[20];
extern const uint8_t kms_key_k5[16];
extern const uint8_t kms_key_k6[16];

#endif
