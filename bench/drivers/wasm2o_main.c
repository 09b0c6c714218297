/* wasm2o contender: instantiates the kernel compiled by `wasm2o compile
 * --prefix bench` and times only the call of its export `run`.
 * Prints "CHECKSUM WALL_SECONDS CPU_SECONDS". Built once per kernel
 * against that kernel's generated header (bench.h) and object. */
#define _POSIX_C_SOURCE 199309L
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"

static double seconds(struct timespec a, struct timespec b) {
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

int main(void) {
    wasm2o_instance *inst = NULL;
    if (bench_instantiate(NULL, NULL, 0, NULL, &inst) != WASM2O_OK) {
        fprintf(stderr, "instantiation failed: %s\n", wasm2o_last_error());
        return 1;
    }
    struct timespec t0, t1, c0, c1;
    int64_t sum = 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wasm2o_trap_code trap = bench_run(inst, &sum);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    if (trap != WASM2O_TRAP_NONE) {
        fprintf(stderr, "run trapped: %s\n", wasm2o_instance_trap(inst)->message);
        return 1;
    }
    printf("%" PRIu64 " %.9f %.9f\n", (uint64_t)sum, seconds(t0, t1), seconds(c0, c1));
    wasm2o_instance_free(inst);
    return 0;
}
