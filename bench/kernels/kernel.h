/* Shared by every kernel: the one entry point and tiny freestanding helpers.
 *
 * Each kernel defines `uint64_t run(void)`: a fixed, deterministic workload
 * that returns a checksum. Built natively it is linked with
 * drivers/native_main.c; built for wasm32 (no libc) it is the export `run`
 * (`-Wl,--export=run`), type [] -> [i64]. memcpy/memset go through the
 * builtins, which clang lowers to memory.copy/memory.fill with
 * -mbulk-memory and to libc calls natively. */
#ifndef BENCH_KERNEL_H
#define BENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#define NOINLINE __attribute__((noinline))

uint64_t run(void);

#define bench_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define bench_memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define bench_memset(d, c, n) __builtin_memset((d), (c), (n))

/* Deterministic pseudo-random numbers (xorshift32). */
static inline uint32_t xorshift32(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Bits of a double, for checksums that must agree exactly. */
static inline uint64_t f64_bits(double d) {
    uint64_t u;
    bench_memcpy(&u, &d, sizeof u);
    return u;
}

/* Mixes a value into a running checksum. */
static inline uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

#endif
