/* quicksort: sorting 32-bit keys (branchy compares, swaps, recursion). */
#include "kernel.h"

#define N (1u << 20)
static uint32_t a[N];

static void insertion(uint32_t *v, int32_t n) {
    for (int32_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        int32_t j = i - 1;
        while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
}

static NOINLINE void quicksort(uint32_t *v, int32_t n) {
    while (n > 16) {
        uint32_t x = v[0], y = v[n / 2], z = v[n - 1];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int32_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            uint32_t t = v[i]; v[i] = v[j]; v[j] = t;
            i++; j--;
        }
        /* recurse into the smaller half, loop on the larger */
        if (j + 1 < n - j - 1) { quicksort(v, j + 1); v += j + 1; n -= j + 1; }
        else { quicksort(v + j + 1, n - j - 1); n = j + 1; }
    }
    insertion(v, n);
}

uint64_t run(void) {
    uint64_t h = 0;
    uint32_t s = 2463534242u;
    for (int rep = 0; rep < 3; rep++) {
        uint32_t mask = rep & 1 ? 0xffffffffu : 0xffffu; /* with and without many duplicates */
        for (uint32_t i = 0; i < N; i++) a[i] = xorshift32(&s) & mask;
        quicksort(a, N);
        for (uint32_t i = 1; i < N; i++)
            if (a[i - 1] > a[i]) return 0; /* not sorted: a wrong checksum */
        for (uint32_t i = 0; i < N; i += 4097) h = mix64(h, a[i]);
    }
    return h;
}
