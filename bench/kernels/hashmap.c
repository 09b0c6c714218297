/* hashmap: an open-addressing hash table of 32-bit keys (insert, then
 * lookups that hit and miss): multiplicative hashing, random access. */
#include "kernel.h"
#define CAP (1u << 20)
static uint32_t keys[CAP], vals[CAP];
static NOINLINE void insert(uint32_t k, uint32_t v) {
    uint32_t h = (k * 2654435761u) >> 12;
    for (;;) {
        h &= CAP - 1;
        if (keys[h] == 0) { keys[h] = k; vals[h] = v; return; }
        if (keys[h] == k) { vals[h] += v; return; }
        h++;
    }
}
static NOINLINE uint32_t find(uint32_t k) {
    uint32_t h = (k * 2654435761u) >> 12;
    for (;;) {
        h &= CAP - 1;
        if (keys[h] == k) return vals[h];
        if (keys[h] == 0) return 0;
        h++;
    }
}
uint64_t run(void) {
    uint64_t sum = 0;
    for (int rep = 0; rep < 6; rep++) {
        bench_memset(keys, 0, sizeof keys);
        uint32_t s = 12345 + rep;
        for (int i = 0; i < 600000; i++) insert((xorshift32(&s) & 0xfffff) | 1, i);
        s = 777 + rep;
        for (int i = 0; i < 2000000; i++) sum += find((xorshift32(&s) & 0xfffff) | 1);
    }
    return sum;
}
