/* interp: a stack-machine bytecode interpreter with switch dispatch. */
#include "kernel.h"

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, AND, LT, JNZ, JMP, DUP, DROP, HALT };

static int32_t code[64];
static uint32_t locals[8];

/* for (i = N; i != 0; i--) { for (j = 0; j < 40; j++) acc = (acc * 33 ^ j) + (acc >> 7); } */
static int assemble(int32_t *c, uint32_t n) {
    int k = 0;
    c[k++] = PUSH; c[k++] = (int32_t)n; c[k++] = STORE; c[k++] = 0;   /* i = n */
    int outer = k;
    c[k++] = PUSH; c[k++] = 0; c[k++] = STORE; c[k++] = 1;             /* j = 0 */
    int inner = k;
    c[k++] = LOAD; c[k++] = 2; c[k++] = PUSH; c[k++] = 33; c[k++] = MUL;
    c[k++] = LOAD; c[k++] = 1; c[k++] = XOR;
    c[k++] = LOAD; c[k++] = 2; c[k++] = PUSH; c[k++] = 7; c[k++] = SHR; c[k++] = ADD;
    c[k++] = STORE; c[k++] = 2;                                         /* acc = ... */
    c[k++] = LOAD; c[k++] = 1; c[k++] = PUSH; c[k++] = 1; c[k++] = ADD; c[k++] = DUP;
    c[k++] = STORE; c[k++] = 1;                                         /* j++ */
    c[k++] = PUSH; c[k++] = 40; c[k++] = LT; c[k++] = JNZ; c[k++] = inner;
    c[k++] = LOAD; c[k++] = 0; c[k++] = PUSH; c[k++] = 1; c[k++] = SUB; c[k++] = DUP;
    c[k++] = STORE; c[k++] = 0;                                         /* i-- */
    c[k++] = JNZ; c[k++] = outer;
    c[k++] = HALT;
    return k;
}

static NOINLINE uint32_t execute(const int32_t *c, uint32_t *loc) {
    uint32_t stack[32];
    uint32_t sp = 0, pc = 0;
    for (;;) {
        switch (c[pc++]) {
        case PUSH: stack[sp++] = (uint32_t)c[pc++]; break;
        case LOAD: stack[sp++] = loc[c[pc++]]; break;
        case STORE: loc[c[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHR: sp--; stack[sp - 1] >>= stack[sp] & 31; break;
        case AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case JNZ: if (stack[--sp]) pc = (uint32_t)c[pc]; else pc++; break;
        case JMP: pc = (uint32_t)c[pc]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case DROP: sp--; break;
        case HALT: return sp;
        default: return 0xffffffffu;
        }
    }
}

uint64_t run(void) {
    assemble(code, 150000);
    bench_memset(locals, 0, sizeof locals);
    locals[2] = 1;
    uint32_t sp = execute(code, locals);
    return mix64(mix64(0, sp), locals[2]);
}
