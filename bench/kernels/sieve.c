/* sieve: Eratosthenes over a byte array (memory-bound, strided stores). */
#include "kernel.h"

#define N (16u << 20)
static uint8_t composite[N];

uint64_t run(void) {
    uint64_t h = 0;
    for (uint32_t rep = 0; rep < 3; rep++) {
        uint32_t n = N - rep * 4099;
        bench_memset(composite, 0, n);
        for (uint32_t i = 2; (uint64_t)i * i < n; i++)
            if (!composite[i])
                for (uint32_t j = i * i; j < n; j += i) composite[j] = 1;
        uint32_t count = 0, last = 0;
        for (uint32_t i = 2; i < n; i++)
            if (!composite[i]) { count++; last = i; }
        h = mix64(h, count);
        h = mix64(h, last);
    }
    return h;
}
