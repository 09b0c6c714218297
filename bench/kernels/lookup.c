/* lookup: table-lookup heavy loop (S-box style substitution and a
 * 64K-entry table), like table-driven ciphers and codecs. */
#include "kernel.h"

static uint8_t sbox[256];
static uint16_t big[65536];
static uint32_t mixt[4][256];

uint64_t run(void) {
    uint32_t s = 0x1234abcd;
    for (int i = 0; i < 256; i++) sbox[i] = (uint8_t)i;
    for (int i = 255; i > 0; i--) { /* Fisher-Yates: a permutation */
        int j = (int)(xorshift32(&s) % (uint32_t)(i + 1));
        uint8_t t = sbox[i]; sbox[i] = sbox[j]; sbox[j] = t;
    }
    for (int i = 0; i < 65536; i++) big[i] = (uint16_t)xorshift32(&s);
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 256; i++) mixt[t][i] = xorshift32(&s);
    uint32_t x = 0x01234567, acc = 0;
    for (uint32_t i = 0; i < 20000000; i++) {
        uint32_t y = mixt[0][sbox[x & 0xff]] ^ mixt[1][sbox[(x >> 8) & 0xff]] ^
                     mixt[2][sbox[(x >> 16) & 0xff]] ^ mixt[3][sbox[x >> 24]];
        x = y ^ big[(y ^ i) & 0xffff];
        acc += x;
    }
    return mix64(x, acc);
}
