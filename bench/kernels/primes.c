/* primes: Miller-Rabin primality tests of 32-bit numbers with 64-bit
 * modular multiplication (i64.mul, i64.rem_u). */
#include "kernel.h"
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return (a * b) % m; }
static uint64_t powmod(uint64_t a, uint64_t e, uint64_t m) {
    uint64_t r = 1;
    a %= m;
    while (e) { if (e & 1) r = mulmod(r, a, m); a = mulmod(a, a, m); e >>= 1; }
    return r;
}
static NOINLINE int is_prime(uint32_t n) {
    if (n < 2) return 0;
    if (n % 2 == 0) return n == 2;
    uint32_t d = n - 1; int s = 0;
    while ((d & 1) == 0) { d >>= 1; s++; }
    static const uint32_t bases[] = {2, 7, 61};
    for (int i = 0; i < 3; i++) {
        uint32_t a = bases[i];
        if (a % n == 0) continue;
        uint64_t x = powmod(a, d, n);
        if (x == 1 || x == n - 1) continue;
        int comp = 1;
        for (int r = 1; r < s; r++) { x = mulmod(x, x, n); if (x == n - 1) { comp = 0; break; } }
        if (comp) return 0;
    }
    return 1;
}
uint64_t run(void) {
    uint64_t h = 0, cnt = 0;
    for (uint32_t n = 1000000001u; n < 1000000001u + 1800000; n += 2) if (is_prime(n)) { cnt++; h = mix64(h, n); }
    return h ^ cnt;
}
