/* lz77: an LZ77-style compressor with a hash of the next four bytes,
 * and its decompressor (byte loads and stores, short overlapping copies). */
#include "kernel.h"
#define N (1 << 18)
static uint8_t src[N], comp[N * 2], out[N];
static uint32_t head[1 << 14];
static NOINLINE uint32_t compress(void) {
    bench_memset(head, 0xff, sizeof head);
    uint32_t i = 0, o = 0;
    while (i + 4 <= N) {
        uint32_t v = src[i] | src[i + 1] << 8 | src[i + 2] << 16 | (uint32_t)src[i + 3] << 24;
        uint32_t h = (v * 2654435761u) >> 18;
        uint32_t cand = head[h];
        head[h] = i;
        uint32_t len = 0;
        if (cand != 0xffffffffu && i - cand < 65535) {
            while (i + len < N && len < 255 && src[cand + len] == src[i + len]) len++;
        }
        if (len >= 4) {
            uint32_t d = i - cand;
            comp[o++] = 1; comp[o++] = d; comp[o++] = d >> 8; comp[o++] = len;
            i += len;
        } else {
            comp[o++] = 0; comp[o++] = src[i++];
        }
    }
    while (i < N) { comp[o++] = 0; comp[o++] = src[i++]; }
    return o;
}
static NOINLINE uint32_t decompress(uint32_t n) {
    uint32_t i = 0, o = 0;
    while (i < n) {
        if (comp[i] == 0) { out[o++] = comp[i + 1]; i += 2; }
        else {
            uint32_t d = comp[i + 1] | comp[i + 2] << 8, len = comp[i + 3];
            for (uint32_t k = 0; k < len; k++) out[o + k] = out[o - d + k];
            o += len; i += 4;
        }
    }
    return o;
}
uint64_t run(void) {
    uint32_t s = 3;
    for (int i = 0; i < N; i++) {
        uint32_t r = xorshift32(&s);
        src[i] = (r & 7) < 5 && i > 64 ? src[i - 1 - (r >> 8) % 48] : (uint8_t)(r >> 16) % 16 + 'a';
    }
    uint64_t h = 0;
    for (int rep = 0; rep < 100; rep++) {
        src[(rep * 7) % N] ^= rep;
        uint32_t n = compress();
        uint32_t m = decompress(n);
        h = mix64(h, n); h = mix64(h, m); h = mix64(h, out[(rep * 1000) % N]);
    }
    return h;
}
