/* A C host for examples/memctl/guest.c: memory-control seen from both sides.
 *
 * Built by examples/run-demo.sh:
 *   clang-16 --target=wasm32 ... guest.c -o guest.wasm
 *   wasm2o compile guest.wasm -o memctl.o --header memctl.h --prefix memctl
 *   cc -Iruntime-support/include -I. host.c memctl.o libwasm2o_runtime.a -lpthread -ldl -lm
 *
 * The guest declares `memory 0 no-access=1 read-only=1` in its
 * memory-control section: page 0 catches NULL pointers, page 1 holds its
 * constant tables read-only. This program shows
 *   1. the guest computing with its constant table as usual;
 *   2. a NULL dereference becoming an "access denied" trap at address 0;
 *   3. a write into the constant table becoming a trap at the table's address;
 *   4. the host's checked accessors (wasm2o_memory_read/_write/_discard)
 *      following the same rules;
 *   5. a page allocator whose free_pages discards: the freed memory reads as
 *      zeros and the process's resident set shrinks.
 *
 * What it prints on stdout is compared with expected-output.txt by
 * examples/check-demo.sh, so it prints only what is the same on every run;
 * the raw resident-set sizes go to stderr. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memctl.h"

#define PAGE (64u * 1024u)
#define MIB (1024u * 1024u)

/* Prints a trap from the instance's record of its last trap. */
static void print_trap(const char *what, wasm2o_instance *inst, wasm2o_trap_code code) {
    const wasm2o_trap_info *trap = wasm2o_instance_trap(inst);
    printf("%s trapped: code %" PRIu32 ", %s", what, code, trap->message);
    if (trap->has_address)
        printf(" [memory %" PRIu32 ", address 0x%" PRIx64 "]", trap->memory, trap->address);
    printf("\n");
}

/* Fails the example on a trap nobody expected. */
static int expect_ok(const char *what, wasm2o_instance *inst, wasm2o_trap_code code) {
    if (code != WASM2O_TRAP_NONE) {
        print_trap(what, inst, code);
        printf("unexpected trap, stopping\n");
        return 0;
    }
    return 1;
}

/* Prints the result of a host-side memory call: 0, or a trap code with
 * wasm2o_last_error() saying why. */
static void print_host_call(const char *what, wasm2o_trap_code code) {
    if (code == WASM2O_TRAP_NONE)
        printf("%s: ok\n", what);
    else
        printf("%s: code %" PRIu32 ", %s\n", what, code, wasm2o_last_error());
}

/* The process's resident set in bytes (/proc/self/statm, second field). */
static uint64_t process_rss(void) {
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* How many bytes of [addr, addr+len) of linear memory are resident, from
 * mincore() on the memory's host mapping (addr and len page-aligned). */
static uint64_t resident_bytes(wasm2o_memory *mem, uint32_t addr, uint32_t len) {
    static unsigned char vec[(64u * MIB) / 4096u];
    long host_page = sysconf(_SC_PAGESIZE);
    size_t pages = len / (size_t)host_page;
    uint64_t n = 0;
    if (pages > sizeof vec || mincore(wasm2o_memory_data(mem) + addr, len, vec) != 0)
        return 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n * (uint64_t)host_page;
}

/* Copies a NUL-terminated string into guest memory at `addr`. */
static int put_string(wasm2o_memory *mem, uint32_t addr, const char *s) {
    return wasm2o_memory_write(mem, addr, s, strlen(s) + 1) == WASM2O_TRAP_NONE;
}

int main(void) {
    wasm2o_instance *inst = NULL;
    wasm2o_memory *mem;
    wasm2o_trap_code code;
    /* Results of the export wrappers (written only when they return 0). */
    int32_t table = 0, rw_data = 0, heap = 0, crc = 0, value = 0, rc = 0;
    int32_t scratch = 0, block = 0, nonzero = 0;
    const char *check = "123456789";
    const int32_t npages = 128; /* 8 MiB */
    uint32_t word = 0;
    uint64_t rss_filled, rss_freed, res;

    if (memctl_instantiate(NULL, NULL, 0, NULL, &inst) != WASM2O_OK) {
        fprintf(stderr, "instantiation failed: %s\n", wasm2o_last_error());
        return 1;
    }
    mem = memctl_memory_memory(inst);
    if (!expect_ok("crc_table_addr", inst, memctl_crc_table_addr(inst, &table)) ||
        !expect_ok("rw_data_addr", inst, memctl_rw_data_addr(inst, &rw_data)) ||
        !expect_ok("heap_addr", inst, memctl_heap_addr(inst, &heap)))
        return 1;
    printf("memory-control example: a C guest built with clang-16, compiled by wasm2o\n");
    printf("memory 0: %" PRIu64 " pages of 64 KiB; 0x0-0xffff no-access, 0x10000-0x1ffff read-only\n",
           wasm2o_memory_size(mem) / PAGE);
    printf("crc_table at 0x%" PRIx32 ", first read-write data at 0x%" PRIx32
           ", page heap from 0x%" PRIx32 "\n",
           (uint32_t)table, (uint32_t)rw_data, (uint32_t)heap);

    /* A page of guest memory for passing strings in. */
    if (!expect_ok("alloc_pages", inst, memctl_alloc_pages(inst, 1, &scratch)))
        return 1;
    if (scratch == 0) {
        printf("alloc_pages(1) failed\n");
        return 1;
    }

    printf("\n1. Computing with the constant table\n");
    put_string(mem, (uint32_t)scratch, check);
    if (!expect_ok("crc32", inst, memctl_crc32(inst, scratch, (int32_t)strlen(check), &crc)))
        return 1;
    printf("crc32(\"%s\") = 0x%08" PRIx32 " (the CRC-32 check value is 0xcbf43926)\n", check,
           (uint32_t)crc);
    put_string(mem, (uint32_t)scratch, "pages");
    if (!expect_ok("setting_value", inst, memctl_setting_value(inst, scratch, &value)))
        return 1;
    printf("setting_value(\"pages\") = %" PRId32 "\n", value);

    printf("\n2. A NULL pointer dereference (page 0 is no-access)\n");
    put_string(mem, (uint32_t)scratch, "colour");
    code = memctl_setting_value(inst, scratch, &value);
    if (code == WASM2O_TRAP_NONE)
        printf("setting_value(\"colour\") = %" PRId32 ": NOT trapped\n", value);
    else
        print_trap("setting_value(\"colour\")", inst, code);

    printf("\n3. A write into the constant table (page 1 is read-only)\n");
    code = memctl_patch_crc_table(inst, 5, 0);
    if (code == WASM2O_TRAP_NONE)
        printf("patch_crc_table(5, 0): NOT trapped\n");
    else
        print_trap("patch_crc_table(5, 0)", inst, code);
    printf("(crc_table[5] is at 0x%" PRIx32 ")\n", (uint32_t)table + 5 * 4);
    put_string(mem, (uint32_t)scratch, check);
    if (!expect_ok("crc32", inst, memctl_crc32(inst, scratch, (int32_t)strlen(check), &crc)))
        return 1;
    printf("crc32(\"%s\") = 0x%08" PRIx32 " afterwards: the table is unchanged\n", check,
           (uint32_t)crc);

    printf("\n4. The host's checked accessors follow the same rules\n");
    print_host_call("wasm2o_memory_read(0x0, 4 bytes)", wasm2o_memory_read(mem, 0, &word, 4));
    word = 0;
    code = wasm2o_memory_read(mem, (uint32_t)table + 4, &word, 4);
    print_host_call("wasm2o_memory_read(crc_table + 4, 4 bytes)", code);
    printf("  crc_table[1] = 0x%08" PRIx32 "\n", word);
    print_host_call("wasm2o_memory_write(crc_table + 4, 4 bytes)",
                    wasm2o_memory_write(mem, (uint32_t)table + 4, &word, 4));
    print_host_call("wasm2o_memory_write(heap page, 4 bytes)",
                    wasm2o_memory_write(mem, (uint32_t)scratch, &word, 4));
    print_host_call("wasm2o_memory_discard(0x10000, 64 KiB)",
                    wasm2o_memory_discard(mem, 0x10000, PAGE));
    print_host_call("wasm2o_memory_discard(heap page + 1, 64 KiB)",
                    wasm2o_memory_discard(mem, (uint32_t)scratch + 1, PAGE));
    print_host_call("wasm2o_memory_discard(heap page, 64 KiB)",
                    wasm2o_memory_discard(mem, (uint32_t)scratch, PAGE));
    word = 1;
    wasm2o_memory_read(mem, (uint32_t)scratch, &word, 4);
    printf("  the heap page reads 0x%08" PRIx32 " after the discard\n", word);

    printf("\n5. Giving memory back: free_pages discards\n");
    if (!expect_ok("alloc_pages", inst, memctl_alloc_pages(inst, npages, &block)))
        return 1;
    if (block == 0) {
        printf("alloc_pages(%" PRId32 ") failed\n", npages);
        return 1;
    }
    printf("alloc_pages(%" PRId32 ") = 0x%" PRIx32 " (%" PRId32 " MiB)\n", npages, (uint32_t)block,
           npages * (int32_t)PAGE / (int32_t)MIB);
    if (!expect_ok("fill", inst, memctl_fill(inst, block, npages * (int32_t)PAGE, 0xa5)))
        return 1;
    if (!expect_ok("count_nonzero", inst,
                   memctl_count_nonzero(inst, block, npages * (int32_t)PAGE, &nonzero)))
        return 1;
    res = resident_bytes(mem, (uint32_t)block, (uint32_t)npages * PAGE);
    rss_filled = process_rss();
    printf("filled with 0xa5: %" PRId32 " non-zero bytes; all of it resident: %s\n", nonzero,
           res == (uint64_t)npages * PAGE ? "yes" : "no");

    if (!expect_ok("free_pages", inst, memctl_free_pages(inst, block, npages, &rc)))
        return 1;
    printf("free_pages(0x%" PRIx32 ", %" PRId32 ") = %" PRId32 "\n", (uint32_t)block, npages, rc);
    res = resident_bytes(mem, (uint32_t)block, (uint32_t)npages * PAGE);
    rss_freed = process_rss();
    printf("after free: none of it resident: %s\n", res == 0 ? "yes" : "no");
    printf("process RSS dropped by at least %d MiB: %s\n", 7,
           rss_filled >= rss_freed + 7ull * MIB ? "yes" : "no");
    fprintf(stderr, "[measured] process RSS %.1f MiB filled, %.1f MiB after free_pages\n",
            (double)rss_filled / MIB, (double)rss_freed / MIB);

    if (!expect_ok("count_nonzero", inst,
                   memctl_count_nonzero(inst, block, npages * (int32_t)PAGE, &nonzero)))
        return 1;
    printf("the freed pages read back as zeros: %s (%" PRId32 " non-zero bytes)\n",
           nonzero == 0 ? "yes" : "no", nonzero);
    if (!expect_ok("alloc_pages", inst, memctl_alloc_pages(inst, npages, &value)))
        return 1;
    printf("alloc_pages(%" PRId32 ") again = 0x%" PRIx32 " (the same pages)\n", npages,
           (uint32_t)value);

    printf("\n6. discard's own checks, from the guest\n");
    code = memctl_discard(inst, block + 1, (int32_t)PAGE);
    if (code == WASM2O_TRAP_NONE)
        printf("discard(0x%" PRIx32 ", 64 KiB): NOT trapped\n", (uint32_t)block + 1);
    else
        print_trap("discard(block + 1, 64 KiB)", inst, code);
    code = memctl_discard(inst, (int32_t)PAGE, (int32_t)PAGE);
    if (code == WASM2O_TRAP_NONE)
        printf("discard(0x10000, 64 KiB): NOT trapped\n");
    else
        print_trap("discard(0x10000, 64 KiB)", inst, code);
    code = memctl_discard(inst, (int32_t)(wasm2o_memory_size(mem)), (int32_t)PAGE);
    if (code == WASM2O_TRAP_NONE)
        printf("discard(end of memory, 64 KiB): NOT trapped\n");
    else
        print_trap("discard(end of memory, 64 KiB)", inst, code);

    wasm2o_instance_free(inst);
    printf("\ndone\n");
    return 0;
}
