/* Cost of the host's map, protect and unmap on a `virtual` memory
 * (wasm2o_memory_map / _protect / _unmap) against the raw system calls
 * doing the same on a plain mapping of the same size, in the same process,
 * and the guest's map/protect/unmap imports called from a Wasm loop.
 *
 * Per iteration, on [64 KiB, 64 KiB + len) of the virtual memory (module
 * memmap.wat, `--prefix mm`) and on [64 KiB, 64 KiB + len) of a region
 * reserved PROT_NONE (len + 128 KiB):
 *   map      wasm2o_memory_map(prot 3)    | mmap(PROT_READ|PROT_WRITE, MAP_FIXED|MAP_PRIVATE|MAP_ANONYMOUS)
 *   (not timed: one write per 4 KiB page, so the next two act on resident pages)
 *   protect  _protect(1) + _protect(3)    | mprotect(PROT_READ) + mprotect(PROT_READ|PROT_WRITE)
 *   unmap    wasm2o_memory_unmap          | mmap(PROT_NONE, MAP_FIXED|MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)
 * Both sides run in each iteration, in alternating order (the first call
 * after the previous unmap is the slower one).
 *
 * Then the whole cycle (map rw, protect r, protect rw, unmap; no page
 * touched) n times: from Wasm (export `cycle` calling the imports), from
 * the host API, and with the raw system calls; time per cycle.
 *
 * usage: memmap
 * Prints per size:
 *   "op PAGES MAP_API MAP_RAW PROTECT_API PROTECT_RAW UNMAP_API UNMAP_RAW"  (medians, µs)
 *   "cycle PAGES GUEST HOST_API RAW"  (µs per cycle, median of 5 loops) */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mm.h"
#include "bench_util.h"

#define WASM_PAGE 65536u

static void die_api(const char *what, wasm2o_trap_code code) {
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)code, wasm2o_last_error());
    exit(1);
}

static void die_sys(const char *what) {
    perror(what);
    exit(1);
}

#define API(call, what)                                  \
    do {                                                 \
        wasm2o_trap_code c_ = (call);                    \
        if (c_ != WASM2O_TRAP_NONE) die_api(what, c_);   \
    } while (0)

static void raw_map(uint8_t *p, size_t len) {
    if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != p)
        die_sys("mmap");
}

static void raw_unmap(uint8_t *p, size_t len) {
    if (mmap(p, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != p)
        die_sys("mmap PROT_NONE");
}

static void raw_protect(uint8_t *p, size_t len, int prot) {
    if (mprotect(p, len, prot) != 0) die_sys("mprotect");
}

int main(void) {
    static const struct { uint32_t pages; int iters; } sizes[] = {{1, 2000}, {16, 500}, {1024, 30}};
    wasm2o_instance *inst = NULL;
    if (mm_instantiate(NULL, NULL, 0, NULL, &inst) != WASM2O_OK) {
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
        /* Reserved with 64 KiB of PROT_NONE on both sides, like the range
         * inside the virtual memory: both sides split and re-merge a
         * reserved area rather than replace a whole one. */
        uint8_t *resv = mmap(NULL, len + 2 * WASM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (resv == MAP_FAILED) die_sys("mmap reserve");
        uint8_t *raw = resv + WASM_PAGE;
        uint8_t *vp = base + WASM_PAGE;
        double *t[6];
        for (int k = 0; k < 6; k++) t[k] = calloc((size_t)n, sizeof(double));
        for (int i = 0; i < n; i++) {
            /* Which side goes first alternates: the first call after the
             * previous unmap pays more, noticeably for 1024 pages. */
            int api_first = i % 2 == 0;
            for (int side = 0; side < 2; side++) {
                double a = now_us();
                if (side == !api_first) API(wasm2o_memory_map(mem, WASM_PAGE, len, 3), "wasm2o_memory_map");
                else raw_map(raw, len);
                t[side == !api_first ? 0 : 1][i] = now_us() - a;
            }
            dirty(vp, len, (uint8_t)(i + 1));
            dirty(raw, len, (uint8_t)(i + 1));
            for (int side = 0; side < 2; side++) {
                double a = now_us();
                if (side == !api_first) {
                    API(wasm2o_memory_protect(mem, WASM_PAGE, len, 1), "wasm2o_memory_protect");
                    API(wasm2o_memory_protect(mem, WASM_PAGE, len, 3), "wasm2o_memory_protect");
                } else {
                    raw_protect(raw, len, PROT_READ);
                    raw_protect(raw, len, PROT_READ | PROT_WRITE);
                }
                t[side == !api_first ? 2 : 3][i] = now_us() - a;
            }
            if (vp[0] != (uint8_t)(i + 1) || raw[len - 4096] != (uint8_t)(i + 1)) {
                fprintf(stderr, "contents lost by protect\n");
                return 1;
            }
            for (int side = 0; side < 2; side++) {
                double a = now_us();
                if (side == !api_first) API(wasm2o_memory_unmap(mem, WASM_PAGE, len), "wasm2o_memory_unmap");
                else raw_unmap(raw, len);
                t[side == !api_first ? 4 : 5][i] = now_us() - a;
            }
        }
        printf("op %u", sizes[s].pages);
        for (int k = 0; k < 6; k++) printf(" %.3f", median(t[k], n));
        printf("\n");

        /* whole cycles, no page touched: guest loop, host API, raw */
        double g[5], h[5], r[5];
        for (int rep = 0; rep < 5; rep++) {
            int32_t res = 0;
            double a = now_us();
            wasm2o_trap_code code = mm_cycle(inst, (int32_t)WASM_PAGE, (int32_t)len, n, &res);
            double b = now_us();
            if (code != WASM2O_TRAP_NONE || res != 0) {
                fprintf(stderr, "guest cycle failed: %s\n",
                        code != WASM2O_TRAP_NONE ? wasm2o_instance_trap(inst)->message : "map returned -1");
                return 1;
            }
            g[rep] = (b - a) / n;
            a = now_us();
            for (int i = 0; i < n; i++) {
                API(wasm2o_memory_map(mem, WASM_PAGE, len, 3), "wasm2o_memory_map");
                API(wasm2o_memory_protect(mem, WASM_PAGE, len, 1), "wasm2o_memory_protect");
                API(wasm2o_memory_protect(mem, WASM_PAGE, len, 3), "wasm2o_memory_protect");
                API(wasm2o_memory_unmap(mem, WASM_PAGE, len), "wasm2o_memory_unmap");
            }
            b = now_us();
            h[rep] = (b - a) / n;
            a = now_us();
            for (int i = 0; i < n; i++) {
                raw_map(raw, len);
                raw_protect(raw, len, PROT_READ);
                raw_protect(raw, len, PROT_READ | PROT_WRITE);
                raw_unmap(raw, len);
            }
            b = now_us();
            r[rep] = (b - a) / n;
        }
        printf("cycle %u %.3f %.3f %.3f\n", sizes[s].pages, median(g, 5), median(h, 5), median(r, 5));
        munmap(resv, len + 2 * WASM_PAGE);
        for (int k = 0; k < 6; k++) free(t[k]);
    }
    wasm2o_instance_free(inst);
    return 0;
}
