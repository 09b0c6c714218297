/* fft: iterative radix-2 complex FFT in double precision (bit-reversal
 * permutation, butterflies with strided access). */
#include "kernel.h"
#define LOGN 14
#define N (1 << LOGN)
static double re[N], im[N], wr[N / 2], wi[N / 2];
static NOINLINE void fft(void) {
    for (uint32_t i = 1, j = 0; i < N; i++) {
        uint32_t bit = N >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) { double t = re[i]; re[i] = re[j]; re[j] = t; t = im[i]; im[i] = im[j]; im[j] = t; }
    }
    for (uint32_t len = 2; len <= N; len <<= 1) {
        uint32_t step = N / len;
        for (uint32_t i = 0; i < N; i += len)
            for (uint32_t k = 0; k < len / 2; k++) {
                double cr = wr[k * step], ci = wi[k * step];
                uint32_t a = i + k, b = i + k + len / 2;
                double xr = re[b] * cr - im[b] * ci, xi = re[b] * ci + im[b] * cr;
                re[b] = re[a] - xr; im[b] = im[a] - xi;
                re[a] += xr; im[a] += xi;
            }
    }
}
uint64_t run(void) {
    /* twiddles by rotation recurrence from cos/sin of 2*pi/N */
    double c = 0.99999992646571789, s = -0.00038349518757139556; /* cos, -sin(2pi/16384) */
    wr[0] = 1; wi[0] = 0;
    for (int k = 1; k < N / 2; k++) { wr[k] = wr[k - 1] * c - wi[k - 1] * s; wi[k] = wr[k - 1] * s + wi[k - 1] * c; }
    uint32_t x = 1;
    uint64_t h = 0;
    for (int rep = 0; rep < 400; rep++) {
        for (int i = 0; i < N; i++) { re[i] = (double)(xorshift32(&x) % 1000) * 0.001; im[i] = 0; }
        fft();
        h = mix64(h, f64_bits(re[rep] + im[N - 1 - rep]));
    }
    return h;
}
