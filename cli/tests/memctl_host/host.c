/* Host-side memory-control II through the C API (run by
 * cli/tests/memctl_host.rs): file mappings (shared, private, past the end
 * of the file), shared buffers seen by two instances and the host, grants
 * and map_handle, and the mapping budget. Prints "ok" and exits 0, or
 * names the failed check and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "wasm2o.h"

#define P 65536u
static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",  \
                    __FILE__, __LINE__, #cond, wasm2o_last_error());       \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static wasm2o_val i32v(int32_t v) { wasm2o_val x = {WASM2O_I32, {.i32 = v}}; return x; }
static wasm2o_val i64v(int64_t v) { wasm2o_val x = {WASM2O_I64, {.i64 = v}}; return x; }

/* Calls `name`; returns the trap code; *r gets an i32 result if any. */
static wasm2o_trap_code call(wasm2o_instance *inst, const char *name, const wasm2o_val *args,
                             size_t n, int nres, int32_t *r) {
    wasm2o_val res = {0};
    wasm2o_trap_code t = wasm2o_instance_call(inst, name, args, n, &res, nres);
    if (r)
        *r = res.of.i32;
    return t;
}

static int32_t map(wasm2o_instance *i, uint32_t a, uint32_t s, int prot, wasm2o_trap_code *t) {
    wasm2o_val args[] = {i32v(a), i32v(s), i32v(prot)};
    int32_t r = 0;
    *t = call(i, "map", args, 3, 1, &r);
    return r;
}
static wasm2o_trap_code protect(wasm2o_instance *i, uint32_t a, uint32_t s, int prot) {
    wasm2o_val args[] = {i32v(a), i32v(s), i32v(prot)};
    return call(i, "protect", args, 3, 0, NULL);
}
static wasm2o_trap_code unmap(wasm2o_instance *i, uint32_t a, uint32_t s) {
    wasm2o_val args[] = {i32v(a), i32v(s)};
    return call(i, "unmap", args, 2, 0, NULL);
}
static wasm2o_trap_code map_handle(wasm2o_instance *i, uint32_t a, uint32_t s, int prot, int h,
                                   int64_t off) {
    wasm2o_val args[] = {i32v(a), i32v(s), i32v(prot), i32v(h), i64v(off)};
    int32_t r = 0;
    wasm2o_trap_code t = call(i, "map_handle", args, 5, 1, &r);
    if (t == 0 && r != (int32_t)a)
        return 100; /* out of resources (-1) or a wrong address */
    return t;
}
/* The byte at `a` loaded by the guest, or -(trap code). */
static int load8(wasm2o_instance *i, uint32_t a) {
    wasm2o_val args[] = {i32v(a)};
    int32_t r = 0;
    wasm2o_trap_code t = call(i, "load8", args, 1, 1, &r);
    return t ? -(int)t : r;
}
static wasm2o_trap_code store8(wasm2o_instance *i, uint32_t a, int v) {
    wasm2o_val args[] = {i32v(a), i32v(v)};
    return call(i, "store8", args, 2, 0, NULL);
}
static int refused(wasm2o_instance *i, wasm2o_trap_code t, const char *reason) {
    char want[128];
    snprintf(want, sizeof want, "memory-control request refused: %s", reason);
    return t == WASM2O_TRAP_MEMORY_CONTROL_REFUSED && strcmp(wasm2o_instance_trap(i)->message, want) == 0;
}

/* A file of `len` bytes, byte k = k % 251, opened read-write (or read-only). */
static int make_file(const char *path, size_t len, int readonly) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (size_t k = 0; k < len; k++) {
        unsigned char b = (unsigned char)(k % 251);
        if (write(fd, &b, 1) != 1)
            return -1;
    }
    if (readonly) {
        close(fd);
        fd = open(path, O_RDONLY);
    }
    return fd;
}
static int file_byte(int fd, off_t at) {
    unsigned char b;
    return pread(fd, &b, 1, at) == 1 ? b : -1;
}

static wasm2o_instance *instantiate(void) {
    wasm2o_instance *inst = NULL;
    if (wasm2o_instance_new(guest_module(), NULL, 0, NULL, &inst) != WASM2O_OK) {
        fprintf(stderr, "instantiate: %s\n", wasm2o_last_error());
        exit(1);
    }
    return inst;
}

static void file_mappings(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    int fd = make_file(path, 2 * P, 0);
    wasm2o_instance *inst = instantiate();
    wasm2o_memory *mem = wasm2o_instance_memory(inst, 0);
    wasm2o_trap_code t;

    /* Shared at page 0 (file page 1), private at pages 2-3 (file pages 0-1). */
    CHECK(wasm2o_memory_map_fd(mem, 0, P, fd, P, 3, WASM2O_MAP_SHARED) == 0);
    CHECK(wasm2o_memory_map_fd(mem, 2 * P, 2 * P, fd, 0, 3, WASM2O_MAP_PRIVATE) == 0);
    CHECK(load8(inst, 0) == (int)(P % 251));
    CHECK(load8(inst, 2 * P + 7) == 7);
    CHECK(store8(inst, 5, 0xaa) == 0);          /* reaches the file */
    CHECK(store8(inst, 2 * P + 5, 0xbb) == 0);  /* copy-on-write */
    CHECK(file_byte(fd, P + 5) == 0xaa);
    CHECK(file_byte(fd, 5) == 5);
    CHECK(load8(inst, 2 * P + 5) == 0xbb);
    /* The guest's view of host mappings: mapped, so map is refused. */
    map(inst, 0, P, 3, &t);
    CHECK(refused(inst, t, "already mapped"));
    /* Host checks, in order. */
    CHECK(wasm2o_memory_map_fd(mem, 4 * P, P, fd, 0, 2, WASM2O_MAP_SHARED) == WASM2O_TRAP_MEMORY_CONTROL_REFUSED);
    CHECK(strstr(wasm2o_last_error(), "bad prot") != NULL);
    CHECK(wasm2o_memory_map_fd(mem, 4 * P, 0, fd, 0, 1, WASM2O_MAP_SHARED) == WASM2O_TRAP_MEMORY_CONTROL_REFUSED);
    CHECK(strstr(wasm2o_last_error(), "zero size") != NULL);
    CHECK(wasm2o_memory_map_fd(mem, 4 * P, P, fd, 4096, 1, WASM2O_MAP_SHARED) == WASM2O_TRAP_MEMORY_CONTROL_REFUSED);
    CHECK(strstr(wasm2o_last_error(), "unaligned") != NULL);
    CHECK(wasm2o_memory_map_fd(mem, 15 * P, 2 * P, fd, 0, 1, WASM2O_MAP_SHARED) == WASM2O_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(wasm2o_memory_map_fd(mem, 4 * P, P, fd, 0, 1, 7) == WASM2O_TRAP_HOST_ERROR);
    CHECK(wasm2o_memory_map_fd(mem, 4 * P, P, -1, 0, 1, WASM2O_MAP_SHARED) == WASM2O_TRAP_HOST_ERROR);
    /* Host protect and unmap. */
    CHECK(wasm2o_memory_protect(mem, 0, P, 1) == 0);
    CHECK(store8(inst, 5, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    CHECK(wasm2o_memory_protect(mem, 0, 2 * P, 1) == WASM2O_TRAP_MEMORY_CONTROL_REFUSED);
    CHECK(strstr(wasm2o_last_error(), "not mapped") != NULL);
    CHECK(wasm2o_memory_unmap(mem, 0, 4 * P) == 0);
    CHECK(load8(inst, 0) == -WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    CHECK(file_byte(fd, P + 5) == 0xaa);

    /* Pages wholly past the end of the file trap "access denied", in
     * compiled code and in the runtime, never a crash; the rest of the
     * last partial host page reads as zeros. */
    CHECK(ftruncate(fd, 70000) == 0);
    CHECK(wasm2o_memory_map_fd(mem, 0, 3 * P, fd, 0, 3, WASM2O_MAP_SHARED) == 0);
    CHECK(load8(inst, 69999) == 69999 % 251);
    CHECK(load8(inst, 70000) == 0);
    CHECK(load8(inst, 2 * P) == -WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    CHECK(wasm2o_instance_trap(inst)->has_address && wasm2o_instance_trap(inst)->address == 2 * P);
    CHECK(store8(inst, 3 * P - 1, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    unsigned char b = 1;
    CHECK(wasm2o_memory_read(mem, 2 * P + 3, &b, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    CHECK(store8(inst, 1, 0x42) == 0 && load8(inst, 1) == 0x42);

    wasm2o_instance_free(inst);
    close(fd);
    unlink(path);
}

static void shared_buffers(void) {
    wasm2o_shared_buffer *buf = wasm2o_shared_buffer_new(2 * P);
    CHECK(buf != NULL && wasm2o_shared_buffer_size(buf) == 2 * P && wasm2o_shared_buffer_fd(buf) >= 0);
    wasm2o_instance *a = instantiate(), *b = instantiate();
    int fd = wasm2o_shared_buffer_fd(buf);
    CHECK(wasm2o_memory_map_fd(wasm2o_instance_memory(a, 0), 0, 2 * P, fd, 0, 3, WASM2O_MAP_SHARED) == 0);
    CHECK(wasm2o_memory_map_fd(wasm2o_instance_memory(b, 0), 8 * P, P, fd, P, 1, WASM2O_MAP_SHARED) == 0);
    CHECK(store8(a, P + 9, 0x5a) == 0);
    CHECK(load8(b, 8 * P + 9) == 0x5a);
    CHECK(wasm2o_shared_buffer_data(buf)[P + 9] == 0x5a);
    wasm2o_shared_buffer_data(buf)[P + 10] = 0x6b;
    CHECK(load8(a, P + 10) == 0x6b && load8(b, 8 * P + 10) == 0x6b);
    /* b mapped it read-only: its guest can neither write nor raise it. */
    CHECK(store8(b, 8 * P + 9, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    CHECK(refused(b, protect(b, 8 * P, P, 3), "above grant"));
    wasm2o_instance_free(a);
    wasm2o_instance_free(b);
    wasm2o_shared_buffer_free(buf);
}

static void grants(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/granted.bin", dir);
    int rw = make_file(path, 4 * P, 0);
    int ro = open(path, O_RDONLY);
    wasm2o_instance *inst = instantiate();
    wasm2o_trap_code t;

    /* A writable shared grant of a read-only descriptor is refused. */
    CHECK(wasm2o_instance_grant(inst, ro, 4 * P, 3, WASM2O_MAP_SHARED) == -1);
    CHECK(wasm2o_instance_grant(inst, ro, 4 * P, 2, WASM2O_MAP_SHARED) == -1);
    CHECK(wasm2o_instance_grant(inst, -1, 4 * P, 1, WASM2O_MAP_SHARED) == -1);
    int h_ro = wasm2o_instance_grant(inst, ro, 2 * P, 1, WASM2O_MAP_SHARED);
    int h_rw = wasm2o_instance_grant(inst, rw, 4 * P, 3, WASM2O_MAP_SHARED);
    int h_priv = wasm2o_instance_grant(inst, ro, 4 * P, 3, WASM2O_MAP_PRIVATE);
    CHECK(h_ro == 0 && h_rw == 1 && h_priv == 2);
    close(ro); /* the runtime keeps its own descriptor */

    CHECK(refused(inst, map_handle(inst, 0, P, 1, 7, 0), "not granted"));
    CHECK(refused(inst, map_handle(inst, 0, P, 1, -1, 0), "not granted"));
    CHECK(refused(inst, map_handle(inst, 0, P, 3, h_ro, 0), "above grant"));   /* prot */
    CHECK(refused(inst, map_handle(inst, 0, 3 * P, 1, h_ro, 0), "above grant")); /* length */
    CHECK(refused(inst, map_handle(inst, 0, P, 1, h_ro, 2 * P), "above grant"));
    CHECK(refused(inst, map_handle(inst, 0, P, 1, h_ro, 0x1000), "unaligned"));
    CHECK(load8(inst, 0) == -WASM2O_TRAP_MEMORY_ACCESS_DENIED); /* nothing mapped */

    CHECK(map_handle(inst, 0, 2 * P, 1, h_ro, 0) == 0);
    CHECK(load8(inst, P + 3) == (int)((P + 3) % 251));
    CHECK(store8(inst, 3, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    /* protect can never raise a granted mapping above its max_prot. */
    CHECK(refused(inst, protect(inst, 0, P, 3), "above grant"));
    CHECK(protect(inst, 0, P, 0) == 0 && load8(inst, 3) == -WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    CHECK(protect(inst, 0, P, 1) == 0 && load8(inst, 3) == 3);
    CHECK(refused(inst, map_handle(inst, P, P, 1, h_rw, 0), "already mapped"));

    /* Shared read-write grant: writes reach the file; private: never. */
    CHECK(map_handle(inst, 4 * P, P, 3, h_rw, 3 * P) == 0);
    CHECK(store8(inst, 4 * P + 1, 0xcd) == 0);
    CHECK(file_byte(rw, 3 * P + 1) == 0xcd);
    CHECK(map_handle(inst, 6 * P, P, 1, h_priv, 0) == 0);
    CHECK(protect(inst, 6 * P, P, 3) == 0);
    CHECK(store8(inst, 6 * P + 2, 0xef) == 0 && load8(inst, 6 * P + 2) == 0xef);
    CHECK(file_byte(rw, 2) == 2);
    /* A mapping of another handle next to it, then unmap all. */
    CHECK(unmap(inst, 0, 16 * P) == 0);
    CHECK(load8(inst, 4 * P + 1) == -WASM2O_TRAP_MEMORY_ACCESS_DENIED);
    map(inst, 0, P, 3, &t);
    CHECK(t == 0);

    wasm2o_instance_free(inst);
    close(rw);
    unlink(path);
}

/* Drives a memory to its mapping budget (lowered to 8 kernel mappings so
 * that 16 pages reach it) through the guest: map returns -1, unmap and
 * protect that would split a mapping are refused "out of resources",
 * nothing changes, and the instance stays usable. */
static void budget(void) {
    wasm2o_instance *inst = instantiate();
    wasm2o_memory *mem = wasm2o_instance_memory(inst, 0);
    wasm2o_trap_code t;
    CHECK(wasm2o_memory_set_mapping_budget(mem, 8) == 0);
    /* Pages 0-2: one mapping; page 1 holds a value. */
    CHECK(map(inst, 0, 3 * P, 3, &t) == 0 && t == 0);
    CHECK(store8(inst, P, 42) == 0);
    uint32_t p = 4;
    int32_t r = 0;
    for (; p < 16; p += 2) {
        r = map(inst, p * P, P, 3, &t);
        CHECK(t == 0);
        if (r == -1)
            break;
        CHECK(r == (int32_t)(p * P));
    }
    CHECK(r == -1 && p < 16);
    CHECK(load8(inst, p * P) == -WASM2O_TRAP_MEMORY_ACCESS_DENIED); /* unchanged */
    CHECK(refused(inst, unmap(inst, P, P), "out of resources"));
    CHECK(refused(inst, protect(inst, P, P, 1), "out of resources"));
    CHECK(wasm2o_memory_protect(mem, P, P, 1) == WASM2O_TRAP_MEMORY_CONTROL_REFUSED);
    CHECK(strstr(wasm2o_last_error(), "out of resources") != NULL);
    CHECK(load8(inst, P) == 42 && store8(inst, P, 43) == 0 && load8(inst, P) == 43);
    /* Freeing mappings gives the budget back. */
    CHECK(unmap(inst, 4 * P, 12 * P) == 0);
    CHECK(map(inst, p * P, P, 3, &t) == (int32_t)(p * P) && t == 0);
    CHECK(load8(inst, P) == 43);
    wasm2o_instance_free(inst);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    file_mappings(dir);
    shared_buffers();
    grants(dir);
    budget();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
