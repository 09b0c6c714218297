/* Helpers shared by the C microbenchmarks in bench/extra: a monotonic
 * clock in microseconds, the median of a sample, and dirtying a range one
 * write per 4 KiB page. Include after the file's feature-test macro. */
#ifndef WASM2O_BENCH_UTIL_H
#define WASM2O_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `v` in place. */
static inline double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void dirty(volatile uint8_t *p, size_t len, uint8_t v) {
    for (size_t off = 0; off < len; off += 4096) p[off] = v;
}

#endif
