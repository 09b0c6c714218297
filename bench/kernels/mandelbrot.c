/* mandelbrot: single-precision escape-time iteration. */
#include "kernel.h"

#define W 800
#define H 600
#define MAX_ITER 500

uint64_t run(void) {
    uint64_t h = 0;
    uint32_t inside = 0, total = 0;
    for (int y = 0; y < H; y++) {
        float ci = (float)y * (2.4f / H) - 1.2f;
        uint32_t row = 0;
        for (int x = 0; x < W; x++) {
            float cr = (float)x * (3.2f / W) - 2.2f;
            float zr = 0.0f, zi = 0.0f, zr2 = 0.0f, zi2 = 0.0f;
            int it = 0;
            while (it < MAX_ITER && zr2 + zi2 <= 4.0f) {
                zi = 2.0f * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                zr2 = zr * zr;
                zi2 = zi * zi;
                it++;
            }
            inside += it == MAX_ITER;
            total += (uint32_t)it;
            row = row * 31 + (uint32_t)it;
        }
        h = mix64(h, row);
    }
    return mix64(mix64(h, inside), total);
}
