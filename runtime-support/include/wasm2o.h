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
    WASM2O_TRAP_MEMORY_CONTROL_REFUSED = 14
};

typedef enum {
    WASM2O_OK = 0,
    WASM2O_ERR_LINK = 1,     /* unknown import or incompatible import type */
    WASM2O_ERR_TRAP = 2,     /* a segment initialiser or the start function trapped */
    WASM2O_ERR_RESOURCE = 3, /* out of memory or address space */
    WASM2O_ERR_INVALID = 4   /* null argument, or not a (compatible) wasm2o module */
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
 * (`ext`). Imports are matched by module and name. */
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
    const char *message;  /* static text, e.g. "out of bounds memory access" */
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

/* The instance's last trap (code 0 if none yet). Owned by the instance. */
const wasm2o_trap_info *wasm2o_instance_trap(const wasm2o_instance *instance);

/* An export by name, or NULL. Owned by the instance; pass it as
 * wasm2o_import.ext to link another instance against it. */
const wasm2o_extern *wasm2o_instance_export(wasm2o_instance *instance, const char *name);

/* Memory `index` of the instance (imported ones first), or NULL. */
wasm2o_memory *wasm2o_instance_memory(wasm2o_instance *instance, uint32_t index);

/* Base address of a memory's bytes. It never moves, even when the memory
 * grows. */
uint8_t *wasm2o_memory_data(wasm2o_memory *memory);

/* Current size of a memory in bytes. */
uint64_t wasm2o_memory_size(wasm2o_memory *memory);

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
