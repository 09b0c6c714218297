/* wasm2c contender: the kernel translated by `wasm2c --module-name bench`
 * and compiled with clang -O2; times only the call of `run`.
 * Prints "CHECKSUM WALL_SECONDS CPU_SECONDS". */
#define _POSIX_C_SOURCE 199309L
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"
#include "wasm-rt-exceptions.h"
#include "wasm-rt-impl.h"

static double seconds(struct timespec a, struct timespec b) {
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

int main(void) {
    wasm_rt_init();
    w2c_bench inst;
    wasm2c_bench_instantiate(&inst);
    struct timespec t0, t1, c0, c1;
    uint64_t sum = 0;
    wasm_rt_trap_t trap = wasm_rt_impl_try();
    if (trap != WASM_RT_TRAP_NONE) {
        fprintf(stderr, "run trapped: %s\n", wasm_rt_strerror(trap));
        return 1;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sum = w2c_bench_run(&inst);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    printf("%" PRIu64 " %.9f %.9f\n", sum, seconds(t0, t1), seconds(c0, c1));
    wasm2c_bench_free(&inst);
    wasm_rt_free();
    return 0;
}
