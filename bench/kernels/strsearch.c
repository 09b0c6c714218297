/* strsearch: naive and Horspool substring search in a generated text. */
#include "kernel.h"

#define LEN (2u << 20)
static uint8_t text[LEN];

static NOINLINE uint32_t count_naive(const uint8_t *t, uint32_t n, const uint8_t *p, uint32_t m) {
    uint32_t count = 0;
    for (uint32_t i = 0; i + m <= n; i++) {
        uint32_t j = 0;
        while (j < m && t[i + j] == p[j]) j++;
        count += j == m;
    }
    return count;
}

static NOINLINE uint32_t count_horspool(const uint8_t *t, uint32_t n, const uint8_t *p, uint32_t m) {
    uint32_t shift[256];
    for (int c = 0; c < 256; c++) shift[c] = m;
    for (uint32_t j = 0; j + 1 < m; j++) shift[p[j]] = m - 1 - j;
    uint32_t count = 0;
    for (uint32_t i = 0; i + m <= n; i += shift[t[i + m - 1]]) {
        uint32_t j = m;
        while (j > 0 && t[i + j - 1] == p[j - 1]) j--;
        count += j == 0;
    }
    return count;
}

uint64_t run(void) {
    uint32_t s = 0xfeedface;
    /* a skewed 6-letter alphabet, so prefixes match often */
    static const uint8_t letters[8] = {'a', 'a', 'a', 'b', 'b', 'c', 'd', 'e'};
    for (uint32_t i = 0; i < LEN; i++) text[i] = letters[xorshift32(&s) & 7];
    uint64_t h = 0;
    for (int rep = 0; rep < 14; rep++) {
        uint8_t pat[32];
        uint32_t m = 4 + (uint32_t)rep * 2;
        uint32_t at = xorshift32(&s) % (LEN - m);
        bench_memcpy(pat, text + at, m);
        h = mix64(h, count_naive(text, LEN, pat, m));
        h = mix64(h, count_horspool(text, LEN, pat, m));
    }
    return h;
}
