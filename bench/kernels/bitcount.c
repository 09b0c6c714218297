/* bitcount: popcount, count leading/trailing zeros and rotates over
 * 64-bit words (i64.popcnt, i64.clz, i64.ctz, i64.rotl). */
#include "kernel.h"
#define N 4096
static uint64_t w[N];
static NOINLINE uint64_t pass(uint64_t k) {
    uint64_t acc = 0;
    for (int i = 0; i < N; i++) {
        uint64_t x = w[i] ^ k;
        acc += __builtin_popcountll(x);
        acc += x ? __builtin_clzll(x) : 64;
        acc += x ? __builtin_ctzll(x) : 64;
        x = (x << 17) | (x >> 47);
        w[i] = x * 0x9e3779b97f4a7c15ull + (acc >> 3);
    }
    return acc;
}
uint64_t run(void) {
    uint32_t s = 5;
    for (int i = 0; i < N; i++) w[i] = ((uint64_t)xorshift32(&s) << 32) | xorshift32(&s);
    uint64_t h = 0;
    for (int r = 0; r < 30000; r++) h = mix64(h, pass(r));
    return h;
}
