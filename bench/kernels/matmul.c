/* matmul: dense double-precision matrix product (i-k-j order). */
#include "kernel.h"

#define N 320
static double a[N][N], b[N][N], c[N][N];

uint64_t run(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)((i * 7 + j * 3) % 17) * 0.25 - 1.5;
            b[i][j] = (double)((i * 5 + j * 11) % 13) * 0.5 + 0.125;
            c[i][j] = 0.0;
        }
    for (int rep = 0; rep < 24; rep++) {
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double aik = a[i][k];
                for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
            }
        /* feed the result back so each repetition depends on the last */
        for (int i = 0; i < N; i++) a[i][(i + rep) % N] += c[i][i] * 1e-9;
    }
    double sum = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) sum += c[i][j] * (double)((i ^ j) & 3);
    return f64_bits(sum);
}
