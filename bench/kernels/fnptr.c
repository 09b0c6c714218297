/* fnptr: a dispatch loop through a table of function pointers
 * (call_indirect in Wasm). */
#include "kernel.h"

typedef uint32_t (*op_fn)(uint32_t, uint32_t);

static NOINLINE uint32_t op0(uint32_t s, uint32_t i) { return s + i; }
static NOINLINE uint32_t op1(uint32_t s, uint32_t i) { return s ^ (i * 2654435761u); }
static NOINLINE uint32_t op2(uint32_t s, uint32_t i) { (void)i; return (s << 5) | (s >> 27); }
static NOINLINE uint32_t op3(uint32_t s, uint32_t i) { (void)i; return s * 1103515245u + 12345u; }
static NOINLINE uint32_t op4(uint32_t s, uint32_t i) { return s - (i ^ 0x5bd1e995u); }
static NOINLINE uint32_t op5(uint32_t s, uint32_t i) { (void)i; return s ^ (s >> 13); }
static NOINLINE uint32_t op6(uint32_t s, uint32_t i) { return s + (s << 3) + i; }
static NOINLINE uint32_t op7(uint32_t s, uint32_t i) { return ~s + (i >> 1); }

static op_fn table[8];

static NOINLINE uint32_t dispatch(uint32_t n) {
    uint32_t s = 0x9747b28c;
    for (uint32_t i = 0; i < n; i++) s = table[(s ^ i) & 7](s, i) + 1;
    return s;
}

uint64_t run(void) {
    op_fn ops[8] = {op0, op1, op2, op3, op4, op5, op6, op7};
    for (int i = 0; i < 8; i++) table[i] = ops[(i * 5 + 3) & 7];
    uint64_t h = 0;
    for (int rep = 0; rep < 4; rep++) h = mix64(h, dispatch(25000000 + rep));
    return h;
}
