/* levenshtein: edit distance of two 3000-byte strings by dynamic
 * programming over two rows: byte compares, min of three, loop bounds
 * from parameters. */
#include "kernel.h"
#define N 3000
static uint8_t a[N], b[N];
static uint32_t row0[N + 1], row1[N + 1];
static NOINLINE uint32_t lev(const uint8_t *s, int n, const uint8_t *t, int m) {
    uint32_t *p = row0, *q = row1;
    for (int j = 0; j <= m; j++) p[j] = j;
    for (int i = 1; i <= n; i++) {
        q[0] = i;
        uint8_t c = s[i - 1];
        for (int j = 1; j <= m; j++) {
            uint32_t d = p[j - 1] + (c != t[j - 1]);
            uint32_t x = p[j] + 1, y = q[j - 1] + 1;
            if (x < d) d = x;
            if (y < d) d = y;
            q[j] = d;
        }
        uint32_t *tmp = p; p = q; q = tmp;
    }
    return p[m];
}
uint64_t run(void) {
    uint32_t s = 99;
    for (int i = 0; i < N; i++) { a[i] = 'a' + xorshift32(&s) % 4; b[i] = 'a' + xorshift32(&s) % 4; }
    uint64_t h = 0;
    for (int r = 0; r < 24; r++) h = mix64(h, lev(a + r, N - r, b, N - 2 * r));
    return h;
}
