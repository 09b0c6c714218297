/* Native contender: calls the kernel's run() directly and times only that
 * call. Prints "CHECKSUM WALL_SECONDS CPU_SECONDS". */
#define _POSIX_C_SOURCE 199309L
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

uint64_t run(void);

static double seconds(struct timespec a, struct timespec b) {
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

int main(void) {
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sum = run();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    printf("%" PRIu64 " %.9f %.9f\n", sum, seconds(t0, t1), seconds(c0, c1));
    return 0;
}
