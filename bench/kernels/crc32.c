/* crc32: table-driven CRC-32 (IEEE) over a pseudo-random buffer. */
#include "kernel.h"

#define LEN (1u << 20)
static uint8_t buf[LEN];
static uint32_t table[256];

static NOINLINE uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t n) {
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint64_t run(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t s = 0x12345678;
    for (uint32_t i = 0; i < LEN; i++) buf[i] = (uint8_t)xorshift32(&s);
    uint32_t crc = 0;
    uint64_t h = 0;
    for (int rep = 0; rep < 60; rep++) {
        crc = crc32(crc, buf + (rep & 63), LEN - 64);
        h = mix64(h, crc);
    }
    return h;
}
