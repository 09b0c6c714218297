/* fib: call-heavy recursion (direct calls, tiny frames). */
#include "kernel.h"

static volatile uint32_t depth = 36;

static NOINLINE uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint64_t run(void) {
    uint64_t h = 0;
    for (uint32_t i = 0; i < 3; i++) h = mix64(h, fib(depth + (i & 1)));
    return h;
}
