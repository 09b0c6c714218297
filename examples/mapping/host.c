/* A C host for examples/mapping/mapping.wat: memory-control mappings.
 *
 * Built by examples/run-demo.sh:
 *   wasm2o compile examples/mapping/mapping.wat -o mapping.o --header mapping.h --prefix mapping
 *   cc -Iruntime-support/include -I. host.c mapping.o libwasm2o_runtime.a -lpthread -ldl -lm
 *
 * Part 1: the host maps a file read-only into the guest's memory 0; the
 * guest sums its numbers in place (no copy into the sandbox), and a guest
 * write there traps instead of changing the file.
 * Part 2: the guest uses its virtual memory 1 as an arena: map@1 allocates
 * pages, unmap@1 frees them all at once, and touching them afterwards traps.
 *
 * Everything printed is a Wasm address or a computed value, so the output
 * is the same on every run (examples/check-demo.sh compares it). */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mapping.h"

#define PAGE 0x10000u        /* a Wasm page: mappings are in whole pages */
#define COUNT 75000u         /* numbers in the file: 300000 bytes, not page-aligned */
#define FILE_ADDR 0x40000u   /* where memory 0 gets the file (64 KiB-aligned) */

static uint32_t number(uint32_t i) { return i * 2654435761u; } /* spread-out u32s */

/* Prints a trap: code, message and Wasm address from the instance's record
 * of its last trap for calls into Wasm; the host's own memory calls do not
 * update that record (inst == NULL), they say why in wasm2o_last_error(). */
static void print_trap(const char *what, wasm2o_instance *inst, wasm2o_trap_code code) {
    const wasm2o_trap_info *trap = inst ? wasm2o_instance_trap(inst) : NULL;
    printf("%s trapped with code %" PRIu32 ": %s", what, code, trap ? trap->message : wasm2o_last_error());
    if (trap && trap->has_address)
        printf(" [memory %" PRIu32 ", address 0x%" PRIx64 "]", trap->memory, trap->address);
    printf("\n");
}

/* Stops the example on anything unexpected: a trap, or a call that should
 * have trapped and did not. Expected traps are printed. */
static void expect(const char *what, wasm2o_instance *inst, wasm2o_trap_code code, int want_trap) {
    if (code) print_trap(what, inst, code);
    if ((code != 0) == (want_trap != 0)) return;
    if (!code) printf("%s did not trap?\n", what);
    exit(1);
}

/* Writes the numbers to a fresh temporary file and returns it opened
 * read-only: the mapping can then never be writable through this fd. The
 * name is unlinked at once; the open descriptor keeps the file alive. */
static int make_data_file(uint64_t *sum) {
    char path[] = "/tmp/wasm2o-mapping-XXXXXX";
    int fd = mkstemp(path), ro;
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    uint32_t i, n;
    if (f == NULL) { perror("mkstemp"); exit(1); }
    for (*sum = 0, i = 0; i < COUNT; i++) {
        n = number(i); /* little-endian on x86-64 and aarch64, like Wasm */
        *sum += n;
        fwrite(&n, sizeof n, 1, f);
    }
    if (fclose(f) != 0) { perror("write"); exit(1); }
    ro = open(path, O_RDONLY);
    unlink(path);
    if (ro < 0) { perror("open"); exit(1); }
    return ro;
}

static void part1_file(wasm2o_instance *inst) {
    wasm2o_memory *data = mapping_memory_data(inst);
    uint64_t expected, sum = 0, len = ((uint64_t)COUNT * 4 + PAGE - 1) / PAGE * PAGE;
    uint32_t word = 0;
    int fd = make_data_file(&expected);

    printf("== part 1: a read-only file mapped into memory 0 ==\n");
    printf("host wrote %u numbers (%u bytes) to a file, opened it O_RDONLY\n", COUNT, COUNT * 4);
    /* prot 1 (read): no guest protect can raise it. Private: the file
     * could never change through this mapping anyway (copy-on-write). The
     * length is rounded up to whole pages; the rest of the file's last
     * host page reads as zeros and the guest only reads COUNT numbers. */
    if (wasm2o_memory_map_fd(data, FILE_ADDR, len, fd, 0, 1, WASM2O_MAP_PRIVATE) != 0) {
        fprintf(stderr, "map_fd: %s\n", wasm2o_last_error());
        exit(1);
    }
    close(fd); /* the runtime keeps no reference to it */
    printf("mapped it at 0x%x..0x%" PRIx64 " (%" PRIu64 " pages), read-only\n", FILE_ADDR,
           FILE_ADDR + len, len / PAGE);

    expect("sum", inst, mapping_sum(inst, FILE_ADDR, COUNT, (int64_t *)&sum), 0);
    printf("guest sum = %" PRIu64 ", host sum = %" PRIu64 ": %s\n", sum, expected,
           sum == expected ? "match" : "MISMATCH");
    if (sum != expected) exit(1);

    /* A write anywhere in the mapping is the guest's trap, not a crash. */
    expect("poke(0x40008)", inst, mapping_poke(inst, FILE_ADDR + 8, 42), 1);
    expect("read", NULL, wasm2o_memory_read(data, FILE_ADDR + 8, &word, 4), 0);
    printf("the number at 0x40008 is unchanged: %" PRIu32 " (host: %" PRIu32 ")\n", word, number(2));

    /* Unmapping a plain memory's pages makes them zeroed read-write again. */
    expect("unmap", NULL, wasm2o_memory_unmap(data, FILE_ADDR, len), 0);
    expect("poke", inst, mapping_poke(inst, FILE_ADDR + 8, 42), 0);
    expect("sum", inst, mapping_sum(inst, FILE_ADDR, COUNT, (int64_t *)&sum), 0);
    printf("after unmap the pages are ordinary memory: poke ok, sum = %" PRIu64 "\n", sum);
}

static void part2_arena(wasm2o_instance *inst) {
    wasm2o_memory *arena = mapping_memory_arena(inst);
    int32_t a, b, c;
    int64_t sum = 0;
    uint32_t word = 0;

    printf("== part 2: an arena in the virtual memory 1 (%" PRIu64 " pages, all unmapped) ==\n",
           wasm2o_memory_size(arena) / PAGE);
    expect("arena_alloc", inst, mapping_arena_alloc(inst, 2, &a), 0);
    expect("arena_alloc", inst, mapping_arena_alloc(inst, 3, &b), 0);
    expect("arena_alloc", inst, mapping_arena_alloc(inst, 100, &c), 0);
    printf("arena_alloc(2) = 0x%" PRIx32 ", arena_alloc(3) = 0x%" PRIx32 ", arena_alloc(100) = %" PRId32
           " (does not fit)\n", (uint32_t)a, (uint32_t)b, c);

    /* Fill the first block whole (2 pages of u32s: 1, 2, ..., 32768). */
    expect("arena_fill", inst, mapping_arena_fill(inst, a, 2 * PAGE / 4, 1, 1), 0);
    expect("arena_sum", inst, mapping_arena_sum(inst, a, 2 * PAGE / 4, &sum), 0);
    printf("block 0x%" PRIx32 ": 1..32768 written, guest sum = %" PRId64 "\n", (uint32_t)a, sum);
    expect("arena_fill", inst, mapping_arena_fill(inst, b, 1000, 7, 7), 0);
    expect("read", NULL, wasm2o_memory_read(arena, (uint32_t)b + 4, &word, 4), 0);
    printf("block 0x%" PRIx32 ": 7, 14, ... written, host reads its second word: %" PRIu32 "\n",
           (uint32_t)b, word);

    /* Reset gives the pages back: the next touch is "access denied", for
     * the guest and for the host's checked copies alike. */
    expect("arena_reset", inst, mapping_arena_reset(inst), 0);
    printf("arena_reset()\n");
    expect("arena_sum(0x20000)", inst, mapping_arena_sum(inst, b, 1, &sum), 1);
    expect("wasm2o_memory_read(0x0)", NULL, wasm2o_memory_read(arena, (uint32_t)a, &word, 4), 1);

    /* The arena is reusable, and new pages come back zeroed. */
    expect("arena_alloc", inst, mapping_arena_alloc(inst, 1, &a), 0);
    expect("arena_sum", inst, mapping_arena_sum(inst, a, PAGE / 4, &sum), 0);
    printf("arena_alloc(1) = 0x%" PRIx32 " again, fresh page sums to %" PRId64 "\n", (uint32_t)a, sum);
}

int main(void) {
    wasm2o_instance *inst = NULL;
    /* No host function imports: map@1/unmap@1 are served by the runtime. */
    if (mapping_instantiate(NULL, NULL, 0, NULL, &inst) != WASM2O_OK) {
        fprintf(stderr, "instantiation failed: %s\n", wasm2o_last_error());
        return 1;
    }
    part1_file(inst);
    part2_arena(inst);
    wasm2o_instance_free(inst);
    printf("done\n");
    return 0;
}
