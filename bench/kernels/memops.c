/* memops: memcpy/memmove/memset of blocks of varying sizes
 * (memory.copy/memory.fill in Wasm with -mbulk-memory). */
#include "kernel.h"

#define LEN (8u << 20)
static uint8_t src[LEN], dst[LEN];

uint64_t run(void) {
    uint32_t s = 0x2545f491;
    for (uint32_t i = 0; i < LEN; i += 4) {
        uint32_t v = xorshift32(&s);
        bench_memcpy(src + i, &v, 4);
    }
    uint64_t h = 0;
    for (int rep = 0; rep < 60; rep++) {
        /* large block copies and fills */
        bench_memcpy(dst, src + (rep & 255), LEN / 2);
        bench_memset(dst + LEN / 2, rep, LEN / 4);
        /* many medium and small copies of varying size */
        for (int k = 0; k < 20000; k++) {
            uint32_t r = xorshift32(&s);
            uint32_t n = (r & 0x7ff) + 1, from = (r >> 11) % (LEN - 4096), to = (r * 2654435761u) % (LEN - 4096);
            if (k & 1) bench_memcpy(dst + to, src + from, n);
            else bench_memmove(dst + to, dst + from, n);
            if ((k & 7) == 0) bench_memset(dst + from, (int)r, n / 2);
        }
        for (uint32_t i = 0; i < LEN; i += 65521) h = mix64(h, dst[i]);
    }
    return h;
}
