/* spmv: sparse matrix (CSR) times vector in double precision: indirect
 * indexed loads, row bounds loaded from memory. */
#include "kernel.h"
#define ROWS 20000
#define NNZ_ROW 24
static uint32_t col[ROWS * NNZ_ROW], rowptr[ROWS + 1];
static double val[ROWS * NNZ_ROW], x[ROWS], y[ROWS];
static NOINLINE void spmv(void) {
    for (int i = 0; i < ROWS; i++) {
        double s = 0;
        for (uint32_t k = rowptr[i]; k < rowptr[i + 1]; k++) s += val[k] * x[col[k]];
        y[i] = s;
    }
}
uint64_t run(void) {
    uint32_t s = 7;
    int k = 0;
    for (int i = 0; i < ROWS; i++) {
        rowptr[i] = k;
        int n = NNZ_ROW - (i % 7);
        for (int j = 0; j < n; j++) { col[k] = xorshift32(&s) % ROWS; val[k] = (double)(xorshift32(&s) % 1000) / 997.0; k++; }
        x[i] = 1.0 + (i % 13) * 0.01;
    }
    rowptr[ROWS] = k;
    for (int it = 0; it < 800; it++) {
        spmv();
        for (int i = 0; i < ROWS; i++) x[i] = y[i] * 1e-3 + 0.5;
    }
    double t = 0; for (int i = 0; i < ROWS; i++) t += y[i];
    return f64_bits(t);
}
