/* Threads and shared memories, from C (run by cli/tests/threads.rs).
 *
 * Built as:
 *   wasm2o compile owner.wat  -o owner.o  --header owner.h  --prefix owner
 *   wasm2o compile worker.wat -o worker.o --header worker.h --prefix worker
 *   cc -I runtime-support/include -I. host.c owner.o worker.o libwasm2o_runtime.a -lpthread -ldl -lm
 *
 * One instance of owner.wat defines a 16-page shared memory; NWORKERS
 * instances of worker.wat import it, each driven by its own thread, doing
 * atomic increments of their own counter (page 0) while they also touch
 * scratch pages 2-15. Meanwhile a discard thread keeps calling
 * wasm2o_memory_discard on pages 2-15, and the main thread sleeps in
 * memory.atomic.wait32 until every worker has notified it.
 *
 * Checks: no access crashes or traps (discard never makes one trap), every
 * counter is exact, the sentinel page 1 (never written by anyone after
 * setup) is intact, pages 2-15 read as zeros after a final discard, the
 * host sees the same bytes as the guests, wait returns "not equal" and
 * "timed out" as specified, and an unaligned atomic traps cleanly.
 * Prints "threads: ok" and exits 0 on success. */

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owner.h"
#include "worker.h"

#define NWORKERS 4
#define ITERATIONS 1000000
#define PAGE 65536u
#define DONE_ADDR 0x100u

static wasm2o_memory *memory;
static atomic_int stop_discarding;
static atomic_long discards;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "threads: FAILED at line %d: ", __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

struct worker {
    pthread_t thread;
    wasm2o_instance *inst;
    int32_t id;
    wasm2o_trap_code trap;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;
    w->trap = worker_run(w->inst, w->id, ITERATIONS);
    return NULL;
}

static void *run_discarder(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_discarding)) {
        wasm2o_trap_code t = wasm2o_memory_discard(memory, 2 * PAGE, 14 * PAGE);
        CHECK(t == WASM2O_TRAP_NONE, "discard: %s", wasm2o_last_error());
        atomic_fetch_add(&discards, 1);
    }
    return NULL;
}

static uint8_t sentinel(uint32_t i) { return (uint8_t)(i * 7 + 3); }

int main(void) {
    wasm2o_instance *owner = NULL;
    CHECK(owner_instantiate(NULL, NULL, 0, NULL, &owner) == WASM2O_OK, "owner: %s", wasm2o_last_error());
    memory = wasm2o_instance_memory(owner, 0);
    CHECK(memory != NULL && wasm2o_memory_size(memory) == 16 * PAGE, "owner memory");
    uint8_t *data = wasm2o_memory_data(memory);
    const wasm2o_extern *mem_export = wasm2o_instance_export(owner, "memory");
    CHECK(mem_export != NULL, "owner export");

    /* The sentinel page, written once by the host before any thread runs. */
    for (uint32_t i = 0; i < PAGE; i++) data[PAGE + i] = sentinel(i);

    wasm2o_import imports[] = {{"env", "memory", NULL, NULL, mem_export}};
    struct worker workers[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        workers[i].id = i;
        CHECK(worker_instantiate(NULL, imports, 1, NULL, &workers[i].inst) == WASM2O_OK, "worker %d: %s", i,
              wasm2o_last_error());
        CHECK(wasm2o_memory_data(wasm2o_instance_memory(workers[i].inst, 0)) == data, "one memory, one base");
    }
    wasm2o_instance *waiter = NULL;
    CHECK(worker_instantiate(NULL, imports, 1, NULL, &waiter) == WASM2O_OK, "waiter: %s", wasm2o_last_error());

    /* wait32 on a value that is not there: 1; wait64 with a 1 ms timeout: 2. */
    int32_t r = 0;
    CHECK(worker_wait_checks(waiter, &r) == WASM2O_TRAP_NONE && r == 12, "wait results %d, expected 12", r);
    /* An unaligned atomic traps and the instance stays usable. */
    CHECK(worker_unaligned(waiter, &r) == WASM2O_TRAP_UNALIGNED_ATOMIC, "unaligned atomic");

    pthread_t discarder;
    CHECK(pthread_create(&discarder, NULL, run_discarder, NULL) == 0, "pthread_create");
    for (int i = 0; i < NWORKERS; i++)
        CHECK(pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) == 0, "pthread_create");

    /* Sleeps in memory.atomic.wait32 until all workers bumped `done`. A lost
     * wake-up would hang here (the test harness has a timeout). */
    int32_t woken = 0;
    wasm2o_trap_code t = worker_wait_done(waiter, NWORKERS, &woken);
    CHECK(t == WASM2O_TRAP_NONE, "wait_done trapped: %s", wasm2o_instance_trap(waiter)->message);

    for (int i = 0; i < NWORKERS; i++) {
        pthread_join(workers[i].thread, NULL);
        CHECK(workers[i].trap == WASM2O_TRAP_NONE, "worker %d trapped: %s", i,
              wasm2o_instance_trap(workers[i].inst)->message);
    }
    atomic_store(&stop_discarding, 1);
    pthread_join(discarder, NULL);

    /* Counters: exact, seen by the host through the same pages. */
    for (int i = 0; i < NWORKERS; i++) {
        uint32_t c;
        memcpy(&c, data + 4 * i, 4);
        CHECK(c == ITERATIONS, "counter %d is %" PRIu32 ", expected %d", i, c, ITERATIONS);
    }
    uint32_t done;
    CHECK(wasm2o_memory_read(memory, DONE_ADDR, &done, 4) == WASM2O_TRAP_NONE && done == NWORKERS, "done");
    /* Nothing else in page 0 was written. */
    for (uint32_t i = 4 * NWORKERS; i < PAGE; i++)
        CHECK((i >= DONE_ADDR && i < DONE_ADDR + 4) || data[i] == 0, "page 0 byte %" PRIu32 " changed", i);
    /* The sentinel page is intact. */
    for (uint32_t i = 0; i < PAGE; i++)
        CHECK(data[PAGE + i] == sentinel(i), "sentinel byte %" PRIu32 " changed", i);

    /* Discard really zeroes shared pages, for every instance. */
    CHECK(wasm2o_memory_discard(memory, 2 * PAGE, 14 * PAGE) == WASM2O_TRAP_NONE, "final discard");
    for (uint32_t i = 2 * PAGE; i < 16 * PAGE; i++) CHECK(data[i] == 0, "byte 0x%" PRIx32 " not zero", i);

    for (int i = 0; i < NWORKERS; i++) wasm2o_instance_free(workers[i].inst);
    wasm2o_instance_free(waiter);
    wasm2o_instance_free(owner);
    fprintf(stderr, "threads: %d workers x %d increments, %ld discards, waiter woken %d times\n", NWORKERS,
            ITERATIONS, (long)atomic_load(&discards), woken);
    printf("threads: ok\n");
    return 0;
}
