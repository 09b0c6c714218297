/* A C host for examples/demo/demo.wat, compiled ahead of time by wasm2o.
 *
 * Built by examples/run-demo.sh:
 *   wasm2o compile examples/demo/demo.wat -o demo.o --header demo.h --prefix demo
 *   cc -Iruntime-support/include -I. host.c demo.o libwasm2o_runtime.a -lpthread -ldl -lm
 *
 * It shows the whole C API surface a typical embedder needs: defining an
 * import, instantiating, calling exports through the typed wrappers of the
 * generated header (and once through the generic wasm2o_instance_call),
 * reading and writing linear memory, handling traps, and freeing. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"

/* What the host keeps per instance; reaches the import through `env`. */
struct host_state {
    int log_calls;
};

/* The import "env" "log": [i32 i32] -> []. Its prototype comes from demo.h,
 * so a host function of the wrong type does not compile. */
void demo_import_env_log(wasm2o_caller *caller, int32_t ptr, int32_t len) {
    struct host_state *state = (struct host_state *)wasm2o_caller_env(caller);
    wasm2o_memory *memory = wasm2o_instance_memory(wasm2o_caller_instance(caller), 0);
    /* Wasm i32 addresses are unsigned; check the range before touching it. */
    uint64_t start = (uint32_t)ptr, count = (uint32_t)len;
    state->log_calls++;
    if (start + count > wasm2o_memory_size(memory)) {
        printf("[log] range out of bounds\n");
        return;
    }
    printf("[wasm says] %.*s\n", (int)count, (const char *)wasm2o_memory_data(memory) + start);
}

/* Prints what a trap was, from the instance's record of its last trap. */
static void print_trap(const char *what, wasm2o_instance *inst, wasm2o_trap_code code) {
    const wasm2o_trap_info *trap = wasm2o_instance_trap(inst);
    printf("%s trapped with code %" PRIu32 ": %s", what, code, trap->message);
    if (trap->has_address) {
        printf(" [memory %" PRIu32 ", address 0x%" PRIx64 "]", trap->memory, trap->address);
    }
    printf("\n");
}

/* Stops the demo on a trap nobody expected. */
static int expect_ok(const char *what, wasm2o_instance *inst, wasm2o_trap_code code) {
    if (code != 0) {
        print_trap(what, inst, code);
        return 0;
    }
    return 1;
}

int main(void) {
    struct host_state state = {0};
    wasm2o_instance *inst = NULL;
    wasm2o_memory *memory;
    wasm2o_trap_code code;
    int32_t i, changed, quotient, word;
    double mean;
    char text[] = "compiled ahead of time by wasm2o";
    uint32_t text_addr = 4096, text_len = (uint32_t)strlen(text);

    /* 1. Instantiate: the one import is bound to demo_import_env_log, with
     *    &state as its env. No other imports, default options. */
    if (demo_instantiate(&state, NULL, 0, NULL, &inst) != WASM2O_OK) {
        fprintf(stderr, "instantiation failed: %s\n", wasm2o_last_error());
        return 1;
    }
    printf("instantiated the demo module\n");

    /* 2. Call exports through the typed wrappers. */
    if (!expect_ok("add", inst, demo_add(inst, 2, 40, &i))) return 1;
    printf("add(2, 40) = %" PRId32 "\n", i);
    if (!expect_ok("add", inst, demo_add(inst, INT32_MAX, 1, &i))) return 1;
    printf("add(INT32_MAX, 1) = %" PRId32 " (wraps around)\n", i);
    if (!expect_ok("mean", inst, demo_mean(inst, 1.5, 4.0, &mean))) return 1;
    printf("mean(1.5, 4.0) = %g\n", mean);

    /* The same call through the generic, tagged-value API used by tools. */
    {
        wasm2o_val args[2], result;
        memset(args, 0, sizeof args);
        args[0].kind = WASM2O_I32;
        args[0].of.i32 = 20;
        args[1].kind = WASM2O_I32;
        args[1].of.i32 = 22;
        if (!expect_ok("add", inst, wasm2o_instance_call(inst, "add", args, 2, &result, 1))) return 1;
        printf("wasm2o_instance_call(\"add\", 20, 22) = %" PRId32 "\n", result.of.i32);
    }

    /* 3. The guest writes into its memory and calls back into the host. */
    if (!expect_ok("greet", inst, demo_greet(inst, &i))) return 1;
    printf("greet() wrote %" PRId32 " bytes\n", i);

    /* 4. The host writes into linear memory, the guest transforms it in
     *    place, the host reads the result back: no copies through the API. */
    memory = demo_memory_memory(inst);
    printf("memory is %" PRIu64 " bytes\n", wasm2o_memory_size(memory));
    memcpy(wasm2o_memory_data(memory) + text_addr, text, text_len);
    if (!expect_ok("shout", inst, demo_shout(inst, (int32_t)text_addr, (int32_t)text_len, &changed))) return 1;
    printf("shout() changed %" PRId32 " letters: \"%.*s\"\n", changed, (int)text_len,
           (const char *)wasm2o_memory_data(memory) + text_addr);

    /* 5. Traps are values: the host process is never taken down. */
    code = demo_divide(inst, 7, 0, &quotient);
    if (code == 0) {
        printf("divide(7, 0) did not trap?\n");
        return 1;
    }
    print_trap("divide(7, 0)", inst, code);

    code = demo_peek(inst, 0x10000, &word); /* just past the end of the only page */
    if (code == 0) {
        printf("peek(0x10000) did not trap?\n");
        return 1;
    }
    print_trap("peek(0x10000)", inst, code);

    /* 6. ... and the instance stays usable after a trap. */
    if (!expect_ok("divide", inst, demo_divide(inst, 84, 2, &quotient))) return 1;
    printf("after the traps: divide(84, 2) = %" PRId32 "\n", quotient);
    if (!expect_ok("peek", inst, demo_peek(inst, (int32_t)text_addr, &word))) return 1;
    printf("after the traps: peek(4096) = 0x%08" PRIx32 " (\"%.4s\" little-endian)\n", (uint32_t)word,
           (const char *)wasm2o_memory_data(memory) + text_addr);

    printf("the host's log import was called %d time(s)\n", state.log_calls);

    /* 7. Free the instance (its memory goes with it). */
    wasm2o_instance_free(inst);
    printf("done\n");
    return 0;
}
