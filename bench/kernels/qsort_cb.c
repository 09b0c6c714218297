/* qsort_cb: a generic quicksort that takes the element size and a
 * comparison function (call_indirect to tiny callees, byte swaps). */
#include "kernel.h"
typedef int (*cmp_fn)(const void *, const void *);
static NOINLINE void swapb(char *a, char *b, size_t n) { while (n--) { char t = *a; *a++ = *b; *b++ = t; } }
static void gsort(char *base, size_t n, size_t sz, cmp_fn cmp) {
    while (n > 1) {
        char *piv = base + (n / 2) * sz;
        swapb(piv, base + (n - 1) * sz, sz);
        piv = base + (n - 1) * sz;
        size_t store = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (cmp(base + i * sz, piv) < 0) { if (i != store) swapb(base + i * sz, base + store * sz, sz); store++; }
        swapb(base + store * sz, piv, sz);
        if (store < n - store - 1) { gsort(base, store, sz, cmp); base += (store + 1) * sz; n = n - store - 1; }
        else { gsort(base + (store + 1) * sz, n - store - 1, sz, cmp); n = store; }
    }
}
typedef struct { uint32_t key; uint32_t pad; double w; } rec;
static int cmp_rec(const void *a, const void *b) {
    uint32_t x = ((const rec *)a)->key, y = ((const rec *)b)->key;
    return (x > y) - (x < y);
}
static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}
#define N 300000
static rec r[N];
static uint32_t u[N];
uint64_t run(void) {
    uint64_t h = 0;
    for (int rep = 0; rep < 2; rep++) {
        uint32_t s = 31 + rep;
        for (int i = 0; i < N; i++) { r[i].key = xorshift32(&s); r[i].w = i; u[i] = xorshift32(&s); }
        gsort((char *)r, N, sizeof(rec), cmp_rec);
        gsort((char *)u, N, sizeof(uint32_t), cmp_u32);
        for (int i = 0; i < N; i += 1000) h = mix64(h, r[i].key ^ u[i] ^ (uint64_t)r[i].w);
    }
    return h;
}
