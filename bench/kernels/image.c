/* image: a 3x3 blur of an 8-bit image and a tone curve through float
 * (u8 loads, float-to-int conversions with clamping, a histogram). */
#include "kernel.h"
#define W 1024
#define H 768
static uint8_t img[H][W], tmp[H][W];
static uint32_t hist[256];
static NOINLINE void blur(void) {
    for (int y = 1; y < H - 1; y++)
        for (int x = 1; x < W - 1; x++) {
            uint32_t s = img[y-1][x-1] + 2*img[y-1][x] + img[y-1][x+1] + 2*img[y][x-1] + 4*img[y][x] + 2*img[y][x+1]
                       + img[y+1][x-1] + 2*img[y+1][x] + img[y+1][x+1];
            tmp[y][x] = s >> 4;
        }
}
static NOINLINE void tone(float g) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float v = tmp[y][x] * (1.0f / 255.0f);
            v = v * v * g + v * (1.0f - g);
            int q = (int)(v * 255.0f + 0.5f);
            if (q > 255) q = 255;
            if (q < 0) q = 0;
            img[y][x] = q;
            hist[q]++;
        }
}
uint64_t run(void) {
    uint32_t s = 1;
    for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) img[y][x] = xorshift32(&s);
    uint64_t h = 0;
    for (int r = 0; r < 90; r++) { blur(); tone(0.3f + 0.005f * r); h = mix64(h, img[r][r * 3]); }
    for (int i = 0; i < 256; i++) h = mix64(h, hist[i]);
    return h;
}
