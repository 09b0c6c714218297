/* Instantiation cost of a module with a large data segment, compiled by
 * `wasm2o compile --prefix inst` (see gen_data_module.py).
 *
 * usage: instantiate ITERATIONS
 * Prints "NEW_MEDIAN_US FREE_MEDIAN_US TOUCH_MEDIAN_US": the median time of
 * wasm2o_instance_new, of wasm2o_instance_free, and of reading one byte of
 * every 4 KiB page of the data segment in a fresh instance (what a lazily
 * mapped image costs on first use). Checks the data's first and last bytes
 * through the module's export `get`. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "inst.h"
#include "bench_util.h"

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    double *t_new = calloc((size_t)n, sizeof(double)), *t_free = calloc((size_t)n, sizeof(double));
    double *t_touch = calloc((size_t)n, sizeof(double));
    volatile unsigned sink = 0;
    for (int i = 0; i < n; i++) {
        wasm2o_instance *inst = NULL;
        double t0 = now_us();
        if (inst_instantiate(NULL, NULL, 0, NULL, &inst) != WASM2O_OK) {
            fprintf(stderr, "instantiation failed: %s\n", wasm2o_last_error());
            return 1;
        }
        double t1 = now_us();
        int32_t first = 0, last = 0;
        if (inst_get(inst, (int32_t)DATA_OFFSET, &first) || inst_get(inst, (int32_t)(DATA_OFFSET + DATA_LEN - 1), &last) ||
            first != FIRST_BYTE || last != LAST_BYTE) {
            fprintf(stderr, "data segment not as expected: %d %d\n", first, last);
            return 1;
        }
        const uint8_t *data = wasm2o_memory_data(wasm2o_instance_memory(inst, 0));
        double t2 = now_us();
        for (unsigned off = 0; off < DATA_LEN; off += 4096) sink += data[DATA_OFFSET + off];
        double t3 = now_us();
        wasm2o_instance_free(inst);
        double t4 = now_us();
        t_new[i] = t1 - t0;
        t_touch[i] = t3 - t2;
        t_free[i] = t4 - t3;
    }
    printf("%.3f %.3f %.3f\n", median(t_new, n), median(t_free, n), median(t_touch, n));
    return 0;
}
