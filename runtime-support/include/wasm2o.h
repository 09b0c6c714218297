/*
 * wasm2o.h — the runtime of wasm2o, the WebAssembly ahead-of-time compiler.
 *
 * `wasm2o compile m.wasm -o m.o --header m.h --prefix m` produces an object
 * and a header with typed wrappers; link both with libwasm2o_runtime.a
 * (and -lpthread -ldl -lm). Typical use:
 *
 *     #include "m.h"
 *     wasm2o_instance *inst;
 *     if (m_instantiate(env, NULL, 0, NULL, &inst) != WASM2O_OK) {
 *         fprintf(stderr, "%s\n", wasm2o_last_error());
 *         return 1;
 *     }
 *     int32_t r;
 *     wasm2o_trap_code t = m_add(inst, 1, 2, &r);
 *     if (t != WASM2O_TRAP_NONE)
 *         fprintf(stderr, "trap: %s\n", wasm2o_instance_trap(inst)->message);
 *     wasm2o_instance_free(inst);
 *
 * A trap never takes the process down: it comes back as a code, and the
 * instance stays usable. An instance is used by one thread at a time.
 * The runtime installs handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE on
 * first instantiation and passes every fault that is not a Wasm trap to the
 * handler installed before it.
 */
#ifndef WASM2O_H
#define WASM2O_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The module descriptor in a compiled object (`PREFIX_module()`). */
typedef struct wasm2o_module wasm2o_module;
/* An instantiated module. */
typedef struct wasm2o_instance wasm2o_instance;
/* A linear memory (owned by an instance, or shared with importers). */
typedef struct wasm2o_memory wasm2o_memory;
/* An export of an instance, usable as another instance's import. */
typedef struct wasm2o_extern wasm2o_extern;
/* First argument of every host function. */
typedef struct wasm2o_caller wasm2o_caller;

/* Trap codes: 0 means no trap. */
typedef uint32_t wasm2o_trap_code;
enum {
    WASM2O_TRAP_NONE = 0,
    WASM2O_TRAP_UNREACHABLE = 1,
    WASM2O_TRAP_MEMORY_OUT_OF_BOUNDS = 2,
    WASM2O_TRAP_MEMORY_ACCESS_DENIED = 3,
    WASM2O_TRAP_INTEGER_DIVIDE_BY_ZERO = 4,
    WASM2O_TRAP_INTEGER_OVERFLOW = 5,
    WASM2O_TRAP_BAD_CONVERSION_TO_INTEGER = 6,
    WASM2O_TRAP_INDIRECT_CALL_TYPE_MISMATCH = 7,
    WASM2O_TRAP_UNINITIALIZED_ELEMENT = 8,
    WASM2O_TRAP_TABLE_OUT_OF_BOUNDS = 9,
    WASM2O_TRAP_NULL_REFERENCE = 10,
    WASM2O_TRAP_STACK_OVERFLOW = 11,
    WASM2O_TRAP_UNALIGNED_ATOMIC = 12,
    WASM2O_TRAP_HOST_ERROR = 13,
    WASM2O_TRAP_MEMORY_CONTROL_REFUSED = 14,
    WASM2O_TRAP_EXPECTED_SHARED_MEMORY = 15 /* memory.atomic.wait on an unshared memory */
};

typedef enum {
    WASM2O_OK = 0,
    WASM2O_ERR_LINK = 1,     /* unknown import or incompatible import type */
    WASM2O_ERR_TRAP = 2,     /* a segment initialiser or the start function trapped */
    WASM2O_ERR_RESOURCE = 3, /* out of memory or address space */
    WASM2O_ERR_INVALID = 4   /* null argument, not a (compatible) wasm2o module, or one
                                compiled (--cpu) for CPU features this CPU lacks */
} wasm2o_status;

typedef enum {
    WASM2O_I32 = 0,
    WASM2O_I64 = 1,
    WASM2O_F32 = 2,
    WASM2O_F64 = 3,
    WASM2O_FUNCREF = 4,
    WASM2O_EXTERNREF = 5
} wasm2o_valkind;

/* A tagged value for the generic call API. References: 0 is null. */
typedef struct {
    uint32_t kind; /* wasm2o_valkind */
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uintptr_t ref;
    } of;
} wasm2o_val;

/* One import: either a host function (`func`, called with a
 * wasm2o_caller whose env is `env`) or an export of another instance
 * (`ext`). Imports are matched by module and name. Imports of module
 * "memory-control" (`discard`, `map`, `unmap`, `protect`, `map_handle`,
 * and `op@N` for memory N) are served by the runtime itself: entries for
 * them are ignored (an unknown operation is WASM2O_ERR_LINK). An
 * imported memory must have exactly the exporter's memory-control
 * attributes; its limits are checked on the read-write part. */
typedef struct {
    const char *module;
    const char *name;
    void *func;
    void *env;
    const wasm2o_extern *ext;
} wasm2o_import;

typedef struct {
    /* Most stack bytes a call into Wasm may use (0 = the thread's stack
     * minus a 256 KiB margin). Deeper recursion traps with
     * WASM2O_TRAP_STACK_OVERFLOW. */
    uint64_t max_stack_bytes;
} wasm2o_options;

/* Details of an instance's last trap. */
typedef struct {
    wasm2o_trap_code code;
    uint32_t memory;      /* memory index of a faulting access */
    int has_address;      /* whether `address` is meaningful */
    uint64_t address;     /* Wasm address of a faulting access */
    const char *message;  /* static text, e.g. "out of bounds memory access", or
                           * "memory-control request refused: unaligned" */
} wasm2o_trap_info;

/* Instantiates `module`: resolves its imports from `imports[0..nimports)`,
 * initialises tables and memories, runs the start function. `options`
 * may be NULL. On success stores the instance in `*out` and returns
 * WASM2O_OK; otherwise `*out` is NULL and wasm2o_last_error() says why.
 *
 *     wasm2o_import imp[] = {{"env", "log", (void *)my_log, my_env, NULL}};
 *     wasm2o_instance *inst;
 *     wasm2o_status s = wasm2o_instance_new(m_module(), imp, 1, NULL, &inst);
 */
wasm2o_status wasm2o_instance_new(const wasm2o_module *module, const wasm2o_import *imports,
                                  size_t nimports, const wasm2o_options *options,
                                  wasm2o_instance **out);

/* Frees an instance (NULL is fine). Memories, tables and functions other
 * instances imported from it stay alive as long as those instances. */
void wasm2o_instance_free(wasm2o_instance *instance);

/* Text of the last failure on this thread (empty if none). Valid until
 * the next failing call on this thread. */
const char *wasm2o_last_error(void);

/* Calls exported function `name` with tagged arguments; writes exactly
 * `nresults` results (which must equal the function's result count).
 * Returns 0 or the trap code; WASM2O_TRAP_HOST_ERROR with
 * wasm2o_last_error() set for a missing export or mismatched arguments. */
wasm2o_trap_code wasm2o_instance_call(wasm2o_instance *instance, const char *name,
                                      const wasm2o_val *args, size_t nargs,
                                      wasm2o_val *results, size_t nresults);

/* Calls function `func_index` (which must be exported) through its array
 * wrapper: `values` holds max(params, results) 64-bit slots, arguments in,
 * results out (f32/f64 as bit patterns). Used by generated wrappers. */
wasm2o_trap_code wasm2o_instance_call_index(wasm2o_instance *instance, uint32_t func_index,
                                            uint64_t *values);

/* The instance's last trap (code 0 if none yet): the last trap of a call
 * into the instance (an export, wasm2o_instance_call). Owned by the
 * instance. Host memory calls (wasm2o_memory_read, _write, _discard, _map,
 * _map_fd, _unmap, _protect) never change it: they belong to no instance,
 * and another thread may be running an instance that uses the memory; see
 * wasm2o_last_trap(). */
const wasm2o_trap_info *wasm2o_instance_trap(const wasm2o_instance *instance);

/* The details of this thread's last failing host memory call
 * (wasm2o_memory_read, _write, _discard, _map, _map_fd, _unmap, _protect,
 * _set_mapping_budget): its code, the Wasm address for an access that was
 * out of bounds or denied (has_address), and the static message, as
 * wasm2o_instance_trap() gives them for a trap in compiled code; `memory`
 * is 0 (the call named its memory). Code 0 if no host memory call failed on
 * this thread yet. Points to thread-local storage, overwritten by the next
 * failing host memory call on the thread; successful calls leave it as it
 * is (test the returned code first).
 *
 *     if (wasm2o_memory_write(mem, addr, buf, n) == WASM2O_TRAP_MEMORY_ACCESS_DENIED)
 *         printf("denied at 0x%llx\n", (unsigned long long)wasm2o_last_trap()->address);
 */
const wasm2o_trap_info *wasm2o_last_trap(void);

/* An export by name, or NULL. Owned by the instance; pass it as
 * wasm2o_import.ext to link another instance against it. */
const wasm2o_extern *wasm2o_instance_export(wasm2o_instance *instance, const char *name);

/* Memory `index` of the instance (imported ones first), or NULL. */
wasm2o_memory *wasm2o_instance_memory(wasm2o_instance *instance, uint32_t index);

/* Base address of a memory's bytes. It never moves, even when the memory
 * grows. */
uint8_t *wasm2o_memory_data(wasm2o_memory *memory);

/* Current size of a memory in bytes (memory-control prefix included). */
uint64_t wasm2o_memory_size(wasm2o_memory *memory);

/* Memory-control static protection. A memory declared with
 * `memory N no-access=A read-only=R` is A inaccessible pages, then R
 * read-only pages, then its read-write part (the type's limits); the size
 * counts all of them. Pointers from wasm2o_memory_data() are raw: touching a
 * protected page through them is the host's own crash. The calls below are
 * checked instead, with the rules compiled code follows: first the range
 * against the size (computed without wrap-around; an empty range at the end
 * is fine) -> WASM2O_TRAP_MEMORY_OUT_OF_BOUNDS; then the protection of the
 * whole range -> WASM2O_TRAP_MEMORY_ACCESS_DENIED (reads need
 * offset >= A*64KiB; writes need offset >= (A+R)*64KiB, and nothing in an
 * `immutable` memory is writable). Empty ranges never trap for protection.
 * A failing call touches nothing, returns the trap code and sets
 * wasm2o_last_error() (e.g. "access denied (address 0x10)") and
 * wasm2o_last_trap() (code, address, message); 0 is success.
 * WASM2O_TRAP_HOST_ERROR means a null argument.
 *
 *     uint8_t buf[16];
 *     wasm2o_memory *mem = wasm2o_instance_memory(inst, 0);
 *     if (wasm2o_memory_read(mem, 0x20000, buf, sizeof buf) != WASM2O_TRAP_NONE)
 *         fprintf(stderr, "%s\n", wasm2o_last_error());
 *     wasm2o_memory_write(mem, 0x30000, buf, sizeof buf);
 */
wasm2o_trap_code wasm2o_memory_read(wasm2o_memory *memory, uint64_t offset, void *dst, size_t len);
wasm2o_trap_code wasm2o_memory_write(wasm2o_memory *memory, uint64_t offset, const void *src,
                                     size_t len);

/* The host's memory.discard: zeroes [addr, addr+len) and gives its physical
 * pages back to the system; the size, the limits and the data segments are
 * unaffected and the next access reads zeros. Checks, in order:
 * `addr` or `len` not a multiple of 64 KiB -> WASM2O_TRAP_MEMORY_CONTROL_REFUSED
 * ("memory-control request refused: unaligned"); past the size ->
 * WASM2O_TRAP_MEMORY_OUT_OF_BOUNDS; a non-empty range touching the no-access
 * or read-only part, or any range of an immutable memory ->
 * WASM2O_TRAP_MEMORY_ACCESS_DENIED. `len` 0 with an aligned addr <= size is a
 * no-op. Never fails for lack of resources. Returns 0 or the trap code
 * (wasm2o_last_error() says why).
 *
 *     // free the 1 MiB scratch arena at 0x100000
 *     if (wasm2o_memory_discard(mem, 0x100000, 0x100000) != WASM2O_TRAP_NONE)
 *         fprintf(stderr, "%s\n", wasm2o_last_error());
 */
wasm2o_trap_code wasm2o_memory_discard(wasm2o_memory *memory, uint64_t addr, uint64_t len);

/* ------------------------------------------------------------------------
 * Memory-control II: virtual memories and host objects.
 *
 * A memory declared `memory N virtual` (min == max) is reserved whole and
 * every 64 KiB page starts unmapped; its guest maps, unmaps and protects
 * pages with the `memory-control` imports map, unmap, protect and
 * map_handle, and the host with the calls below. Touching an unmapped or
 * protected page is WASM2O_TRAP_MEMORY_ACCESS_DENIED ("access denied"), in
 * compiled code and in the checked calls (wasm2o_memory_read/_write).
 *
 * `prot` is 0 (none), 1 (read) or 3 (read+write). Every request checks, in
 * this order, and a failing one changes nothing:
 *   (1) bad prot, (2) zero length, (3) addr/len/file_offset not a multiple
 *       of 64 KiB -> WASM2O_TRAP_MEMORY_CONTROL_REFUSED ("memory-control
 *       request refused: bad prot" / "zero size" / "unaligned");
 *   (4) [addr, addr+len) past the memory's size (no wrap-around) ->
 *       WASM2O_TRAP_MEMORY_OUT_OF_BOUNDS;
 *   (5) the page states -> refused "already mapped" (map over mapped pages
 *       of a virtual memory), "not mapped" (protect over unmapped pages),
 *       "above grant" (prot above what the mapping allows); in a plain
 *       memory, a range below its read-write part or in an immutable memory
 *       -> WASM2O_TRAP_MEMORY_ACCESS_DENIED;
 *   (6) the memory's mapping budget or the kernel says no -> refused "out
 *       of resources".
 * Each returns 0 or the trap code and sets wasm2o_last_error() (e.g.
 * "memory-control request refused: already mapped") and wasm2o_last_trap().
 * A null memory, a bad descriptor, one not open for reading, a writable
 * shared mapping of a read-only descriptor or bad flags is
 * WASM2O_TRAP_HOST_ERROR. All of this works on shared (threads) memories
 * too, seen by every instance using them. Requests on one memory are
 * serialised; each is one system call, so a racing access of another
 * thread sees the pages before or after it, and an access ordered after
 * it (by an atomic or wait/notify) sees the new state.
 * ------------------------------------------------------------------------ */

/* Flags of file mappings and grants. */
enum {
    WASM2O_MAP_SHARED = 1, /* writes reach the file and every other mapping of it */
    WASM2O_MAP_PRIVATE = 2 /* copy-on-write: the file never changes */
};

/* Maps [file_offset, file_offset+len) of file `fd` at [addr, addr+len) of
 * `memory` with `prot`, shared or private (`flags`). In a virtual memory
 * the pages must be unmapped ("already mapped" otherwise) and become
 * mapped; in a plain memory they must lie in its read-write part and the
 * file replaces their contents. The guest's protect can never raise these
 * pages above `prot`; the host's can raise them up to what `fd` allows.
 * The runtime keeps no reference to `fd`: close it whenever you like.
 * Host pages wholly past the end of the file trap "access denied" when
 * touched (by the guest or by wasm2o_memory_read/_write), never crash the
 * process; the rest of the file's last host page reads as zeros.
 *
 *     int fd = open("table.bin", O_RDONLY);
 *     // 1 MiB of the file, read-only, at 0x100000 of the guest's memory
 *     if (wasm2o_memory_map_fd(mem, 0x100000, 0x100000, fd, 0, 1, WASM2O_MAP_PRIVATE))
 *         fprintf(stderr, "%s\n", wasm2o_last_error());
 *     close(fd);
 */
wasm2o_trap_code wasm2o_memory_map_fd(wasm2o_memory *memory, uint64_t addr, uint64_t len, int fd,
                                      uint64_t file_offset, uint32_t prot, uint32_t flags);

/* The host's `map`: fresh zeroed anonymous pages with `prot` over unmapped
 * pages of a virtual memory (in a plain memory every page is mapped:
 * "already mapped").
 *
 *     wasm2o_memory_map(mem, 0, 0x10000, 3);   // page 0 read-write
 */
wasm2o_trap_code wasm2o_memory_map(wasm2o_memory *memory, uint64_t addr, uint64_t len, uint32_t prot);

/* Unmaps [addr, addr+len): in a virtual memory the pages become unmapped
 * (unmapping unmapped pages is fine) and their memory is freed; in a plain
 * memory they become zeroed read-write anonymous pages again (undoing a
 * file mapping). A shared file keeps what was written to it.
 *
 *     wasm2o_memory_unmap(mem, 0x100000, 0x100000);
 */
wasm2o_trap_code wasm2o_memory_unmap(wasm2o_memory *memory, uint64_t addr, uint64_t len);

/* Changes the protection of mapped pages to `prot`, keeping their
 * contents: "not mapped" if any page of the range is unmapped, "above
 * grant" if a file mapping cannot have `prot` (a shared mapping of a
 * read-only descriptor can never be made writable).
 *
 *     wasm2o_memory_protect(mem, 0x100000, 0x10000, 1);   // now read-only
 */
wasm2o_trap_code wasm2o_memory_protect(wasm2o_memory *memory, uint64_t addr, uint64_t len,
                                       uint32_t prot);

/* Sets the most kernel mappings (runs of pages in one state, gaps
 * included) the memory's pages may cost; requests beyond it are refused
 * "out of resources" (the guest's map returns -1). The default is a
 * quarter of vm.max_map_count; all memories together stay below half of
 * it. Returns 0, or WASM2O_TRAP_HOST_ERROR for a null memory.
 *
 *     wasm2o_memory_set_mapping_budget(mem, 1000);
 */
wasm2o_trap_code wasm2o_memory_set_mapping_budget(wasm2o_memory *memory, uint64_t runs);

/* A memfd-backed buffer of `size` zeroed bytes (a multiple of 64 KiB to be
 * mapped whole) that the host reads and writes through _data() while
 * several instances map it (WASM2O_MAP_SHARED) — data moves without
 * copies. Returns NULL (wasm2o_last_error() says why) on failure. Freeing
 * it does not undo mappings of it, which keep the pages alive.
 *
 *     wasm2o_shared_buffer *buf = wasm2o_shared_buffer_new(1 << 20);
 *     int fd = wasm2o_shared_buffer_fd(buf);
 *     wasm2o_memory_map_fd(mem_a, 0x100000, 1 << 20, fd, 0, 3, WASM2O_MAP_SHARED);
 *     wasm2o_memory_map_fd(mem_b, 0x200000, 1 << 20, fd, 0, 1, WASM2O_MAP_SHARED);
 *     memcpy(wasm2o_shared_buffer_data(buf), frame, frame_len);  // both guests see it
 *     ...
 *     wasm2o_shared_buffer_free(buf);
 */
typedef struct wasm2o_shared_buffer wasm2o_shared_buffer;
wasm2o_shared_buffer *wasm2o_shared_buffer_new(uint64_t size);
/* Its memfd (owned by the buffer; -1 for NULL). */
int wasm2o_shared_buffer_fd(const wasm2o_shared_buffer *buf);
/* The host's own mapping of it (read-write), and its size in bytes. */
uint8_t *wasm2o_shared_buffer_data(const wasm2o_shared_buffer *buf);
uint64_t wasm2o_shared_buffer_size(const wasm2o_shared_buffer *buf);
void wasm2o_shared_buffer_free(wasm2o_shared_buffer *buf);

/* Grants the instance's guest bytes [0, len) of `fd` (a file, a shared
 * buffer's memfd) up to `max_prot`, mapped shared or private (`flags`).
 * Returns the handle (0, 1, 2, ...) the guest passes to
 * `map_handle(addr, size, prot, handle, offset)`, which maps [offset,
 * offset+size) of the object; or -1 with wasm2o_last_error() set (bad
 * max_prot or flags, bad descriptor, not open for reading, a writable
 * shared grant of a read-only descriptor). The runtime keeps its own
 * duplicate of `fd` for the instance's lifetime. The guest can never map
 * what it was not granted ("not granted"), past `len` or with prot above
 * `max_prot` ("above grant"), and its protect can never raise a granted
 * mapping above `max_prot` ("above grant"). For a page-aligned file, pass
 * its size rounded up to 64 KiB to let the guest map all of it.
 *
 *     int h = wasm2o_instance_grant(inst, fd, 4 << 20, 1, WASM2O_MAP_SHARED);
 *     // the guest: map_handle(0x400000, 0x10000, 1, h, 0) maps the first 64 KiB read-only
 */
int32_t wasm2o_instance_grant(wasm2o_instance *instance, int fd, uint64_t len, uint32_t max_prot,
                              uint32_t flags);

/* Inside a host function: the `env` given with its import. */
void *wasm2o_caller_env(wasm2o_caller *caller);

/* Inside a host function: the instance that called it. */
wasm2o_instance *wasm2o_caller_instance(wasm2o_caller *caller);

/* Inside a host function: traps with `code` (0 becomes
 * WASM2O_TRAP_HOST_ERROR). Never returns; the host frames between the
 * Wasm call and here are discarded without cleanup (like longjmp). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void wasm2o_caller_trap(wasm2o_caller *caller, wasm2o_trap_code code);

/* The message of a trap code ("no trap" for 0), as .wast scripts match it. */
const char *wasm2o_trap_message(wasm2o_trap_code code);

#ifdef __cplusplus
}
#endif

#endif /* WASM2O_H */
