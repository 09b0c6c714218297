/* Cost of wasm2o_memory_discard against a raw madvise(MADV_DONTNEED) on an
 * anonymous private mapping of the same size, in the same process.
 * Before every timed operation the range is dirtied (one write per 4 KiB
 * page), so both give back the same number of resident pages. The module
 * (discard.wat, `--prefix disc`) only defines a memory big enough.
 *
 * usage: discard
 * Prints one line per size: "PAGES DISCARD_MEDIAN_US MADVISE_MEDIAN_US". */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "disc.h"
#include "bench_util.h"

#define WASM_PAGE 65536u

int main(void) {
    static const struct { uint32_t pages; int iters; } sizes[] = {{1, 2000}, {16, 500}, {1024, 30}};
    wasm2o_instance *inst = NULL;
    if (disc_instantiate(NULL, NULL, 0, NULL, &inst) != WASM2O_OK) {
        fprintf(stderr, "instantiation failed: %s\n", wasm2o_last_error());
        return 1;
    }
    wasm2o_memory *mem = wasm2o_instance_memory(inst, 0);
    uint8_t *base = wasm2o_memory_data(mem);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = (size_t)sizes[s].pages * WASM_PAGE;
        int n = sizes[s].iters;
        if (WASM_PAGE + len > wasm2o_memory_size(mem)) {
            fprintf(stderr, "memory too small\n");
            return 1;
        }
        uint8_t *anon = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (anon == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        double *td = calloc((size_t)n, sizeof(double)), *tm = calloc((size_t)n, sizeof(double));
        for (int i = 0; i < n; i++) {
            dirty(base + WASM_PAGE, len, (uint8_t)(i + 1));
            double t0 = now_us();
            wasm2o_trap_code code = wasm2o_memory_discard(mem, WASM_PAGE, len);
            double t1 = now_us();
            if (code != WASM2O_TRAP_NONE || base[WASM_PAGE] != 0 || base[WASM_PAGE + len - 1] != 0) {
                fprintf(stderr, "discard failed: %s\n", wasm2o_last_error());
                return 1;
            }
            dirty(anon, len, (uint8_t)(i + 1));
            double t2 = now_us();
            int rc = madvise(anon, len, MADV_DONTNEED);
            double t3 = now_us();
            if (rc != 0 || anon[0] != 0) {
                perror("madvise");
                return 1;
            }
            td[i] = t1 - t0;
            tm[i] = t3 - t2;
        }
        printf("%u %.3f %.3f\n", sizes[s].pages, median(td, n), median(tm, n));
        munmap(anon, len);
        free(td);
        free(tm);
    }
    wasm2o_instance_free(inst);
    return 0;
}
