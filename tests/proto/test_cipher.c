/* The block cipher family against the spec's Appendix B known answers and against libcrypto. */
#include "cipher.h"
#include "digest.h"
#include "hex.h"
#include "kms_message.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

static const char *const PT_HEX = "00112233445566778899aabbccddeeff";

static void expect_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[64];
    int n = hex_decode(hex, want, sizeof want);
    cr_assert_eq((size_t)n, len, "expected value has %d bytes, compared %zu", n, len);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(got[i], want[i], "byte %zu: got %02x, want %02x (want %s)", i, got[i], want[i],
                     hex);
}

static void round_key_bytes(const struct cipher_key *k, unsigned r, uint8_t out[16])
{
    for (int c = 0; c < 4; c++) {
        uint32_t w = k->ek[4 * r + c];
        out[4 * c] = (uint8_t)(w >> 24);
        out[4 * c + 1] = (uint8_t)(w >> 16);
        out[4 * c + 2] = (uint8_t)(w >> 8);
        out[4 * c + 3] = (uint8_t)w;
    }
}

Test(cipher, fips197_c1_aes128)
{
    uint8_t key[16], pt[16], ct[16], back[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    hex_decode(PT_HEX, pt, 16);
    struct cipher_key k;
    cr_assert_eq(cipher_key_expand(&k, key, 16), 0);
    cipher_encrypt_block(&k, pt, ct);
    expect_hex(ct, 16, "69c4e0d86a7b0430d8cdb78070b4c55a"); /* B1 */
    cipher_decrypt_block(&k, ct, back);
    cr_assert_arr_eq(back, pt, 16);
}

Test(cipher, k5_known_answers)
{
    uint8_t z[32] = {0}, pt[16], out[32], iv[16];
    hex_decode(PT_HEX, pt, 16);
    cipher_encrypt_block(&cipher_key_v5, z, out);
    expect_hex(out, 16, "ec7c7e75b1923978eac4b2d2260235d5"); /* B2 */
    cipher_encrypt_block(&cipher_key_v5, pt, out);
    expect_hex(out, 16, "3f06070040b62a7f49b4e1aa9f589b8c"); /* B3 */
    for (int i = 0; i < 16; i++)
        iv[i] = (uint8_t)i;
    cipher_cbc_encrypt(&cipher_key_v5, iv, z, 32, out);
    expect_hex(out, 32,
               "8d77cb43633c62cbe1d15d570c23dc75db70cfa8e44f6b3f338a52c1e329abdf"); /* B4 */
    cipher_cbc_decrypt(&cipher_key_v5, iv, out, 32, out);
    cr_assert_arr_eq(out, z, 32);
}

Test(cipher, v6_key_schedule_tweak)
{
    struct cipher_key k;
    uint8_t rk[16];
    cipher_key_expand(&k, kms_key_k6, 16);
    round_key_bytes(&k, 4, rk);
    expect_hex(rk, 16, "7630e12e111e2b4d3f6a5901edca6094"); /* B5 before */
    round_key_bytes(&k, 6, rk);
    expect_hex(rk, 16, "6adec9456920217355b4904484ea41e7"); /* B6 before */
    round_key_bytes(&k, 8, rk);
    expect_hex(rk, 16, "0bc82943cfb5552a5e7cb9074b5f14cd"); /* B7 before */
    uint8_t z[16] = {0}, out[16];
    cipher_encrypt_block(&k, z, out);
    expect_hex(out, 16, "b4c3c015f6fb320c9b64aecd52fa58c8"); /* B9: standard AES is wrong for V6 */

    cipher_key_tweak_v6(&k);
    round_key_bytes(&k, 4, rk);
    expect_hex(rk, 16, "0530e12e111e2b4d3f6a5901edca6094"); /* B5 after */
    round_key_bytes(&k, 6, rk);
    expect_hex(rk, 16, "63dec9456920217355b4904484ea41e7"); /* B6 after */
    round_key_bytes(&k, 8, rk);
    expect_hex(rk, 16, "efc82943cfb5552a5e7cb9074b5f14cd"); /* B7 after */
    round_key_bytes(&k, 10, rk);
    expect_hex(rk, 16, "a0625e9bb0e59f41fe1ee79cfbba8b8c"); /* B8 */
    cr_assert_arr_eq(k.ek, cipher_key_v6.ek, sizeof k.ek, "built-in V6 schedule differs");
    cr_assert_arr_eq(k.dk, cipher_key_v6.dk, sizeof k.dk);
    cr_assert_eq(k.rounds, cipher_key_v6.rounds);
}

Test(cipher, v6_known_answers)
{
    uint8_t z[32] = {0}, pt[16], out[32], iv[16];
    hex_decode(PT_HEX, pt, 16);
    cipher_encrypt_block(&cipher_key_v6, z, out);
    expect_hex(out, 16, "8ca59de0c483c04aa7026a22d6dd208e"); /* B10 */
    cipher_decrypt_block(&cipher_key_v6, z, out);
    expect_hex(out, 16, "8a1a5b385caaff8dd0ce3913d2cbc26f"); /* B11 */
    cipher_encrypt_block(&cipher_key_v6, pt, out);
    expect_hex(out, 16, "13eaa07470593be35700eb21ff77ad83"); /* B12 */
    for (int i = 0; i < 16; i++)
        iv[i] = (uint8_t)i;
    cipher_cbc_encrypt(&cipher_key_v6, iv, z, 32, out);
    expect_hex(out, 32,
               "ca89ca11b2c4e77a94e806af17136b38dec50093cba24cf8e8ae1ec2e6cd75e7"); /* B13 */
}

Test(cipher, rijndael160_known_answers)
{
    struct cipher_key k;
    uint8_t rk[16], z[16] = {0}, pt[16], out[16];
    cr_assert_eq(cipher_key_expand(&k, kms_key_k4, 20), 0);
    cr_assert_eq(k.rounds, 11);
    round_key_bytes(&k, 1, rk);
    expect_hex(rk, 16, "e4efd2d6db88756e226d85e6c933238e"); /* B14 */
    round_key_bytes(&k, 11, rk);
    expect_hex(rk, 16, "4a7d08d621ed8fd1454df13ba968579d"); /* B15 */
    cr_assert_arr_eq(k.ek, cipher_key_v4.ek, sizeof k.ek, "built-in V4 schedule differs");
    cipher_encrypt_block(&cipher_key_v4, z, out);
    expect_hex(out, 16, "933030f10e2e7782b80915d5778a4957"); /* B16 */
    hex_decode(PT_HEX, pt, 16);
    cipher_encrypt_block(&cipher_key_v4, pt, out);
    expect_hex(out, 16, "175288485474df1d192d3f4c01e1677b"); /* B17 */
    cipher_decrypt_block(&cipher_key_v4, out, out);
    cr_assert_arr_eq(out, pt, 16, "Rijndael-160 decryption is not the inverse");
}

Test(cipher, builtin_k5_schedule_matches_expansion)
{
    struct cipher_key k;
    cipher_key_expand(&k, kms_key_k5, 16);
    cr_assert_arr_eq(k.ek, cipher_key_v5.ek, sizeof k.ek);
    cr_assert_arr_eq(k.dk, cipher_key_v5.dk, sizeof k.dk);
}

Test(cipher, mac4_known_answers)
{
    uint8_t msg[16] = {0}, out[16];
    kms_mac4(msg, 0, out);
    expect_hex(out, 16, "d144963029e2bd12f9970c9f52b27f09"); /* B18 */
    kms_mac4(msg, 16, out);
    expect_hex(out, 16, "2a090d7c1155251ab86445447d060335"); /* B19 */
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    kms_mac4(msg, 15, out);
    expect_hex(out, 16, "d9ced343d1fa93d3a37414a0be533037"); /* B20 */
}

Test(cipher, v6_hmac_key_known_answer)
{
    uint8_t key[16];
    kms_v6_hmac_key(0x01DB5E2A7C3B4000ULL, 0, key);
    expect_hex(key, 16, "4e34f2f6ba6c3ae84f9c918f9ea7249d"); /* B22 */
    kms_v6_hmac_key(0x01dd7cb6c14e2900ULL, 0, key);          /* Appendix C */
    expect_hex(key, 16, "49eb93b23a8f16f83465e8e5475655e4");
}

Test(cipher, tables_follow_from_the_sbox)
{
    for (int x = 0; x < 256; x++) {
        uint8_t s = cipher_sbox[x];
        cr_assert_eq(cipher_inv_sbox[s], x);
        uint8_t s2 = (uint8_t)((s << 1) ^ ((s & 0x80) ? 0x1b : 0));
        uint32_t te = (uint32_t)s2 << 24 | (uint32_t)s << 16 | (uint32_t)s << 8 | (uint8_t)(s2 ^ s);
        cr_assert_eq(cipher_te0[x], te, "TE0[%d]", x);
    }
    /* TD0 is checked through decryption: D(E(x)) == x over many random-ish blocks. */
    uint8_t block[16], ct[16], back[16];
    for (int i = 0; i < 256; i++) {
        for (int j = 0; j < 16; j++)
            block[j] = (uint8_t)(i * 31 + j * 7);
        cipher_encrypt_block(&cipher_key_v5, block, ct);
        cipher_decrypt_block(&cipher_key_v5, ct, back);
        cr_assert_arr_eq(back, block, 16);
    }
}

Test(cipher, aes128_agrees_with_libcrypto)
{
    uint8_t key[16], iv[16], data[64], mine[64], theirs[80];
    for (int round = 0; round < 32; round++) {
        for (int i = 0; i < 16; i++) {
            key[i] = (uint8_t)(round * 13 + i * 29);
            iv[i] = (uint8_t)(round * 7 + i * 3);
        }
        for (int i = 0; i < 64; i++)
            data[i] = (uint8_t)(round + i * 11);
        struct cipher_key k;
        cipher_key_expand(&k, key, 16);
        cipher_cbc_encrypt(&k, iv, data, sizeof data, mine);

        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n1 = 0, n2 = 0;
        cr_assert(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv));
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        cr_assert(EVP_EncryptUpdate(ctx, theirs, &n1, data, sizeof data));
        cr_assert(EVP_EncryptFinal_ex(ctx, theirs + n1, &n2));
        EVP_CIPHER_CTX_free(ctx);
        cr_assert_eq(n1 + n2, 64);
        cr_assert_arr_eq(mine, theirs, 64, "round %d differs from libcrypto", round);
    }
}

Test(cipher, key_expand_rejects_bad_lengths)
{
    struct cipher_key k;
    uint8_t key[32] = {0};
    cr_assert_eq(cipher_key_expand(&k, key, 15), -1);
    cr_assert_eq(cipher_key_expand(&k, key, 0), -1);
    cr_assert_eq(cipher_key_expand(&k, key, 24), 0);
    cr_assert_eq(k.rounds, 12);
}
