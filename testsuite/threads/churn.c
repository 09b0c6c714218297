/* Memory-control on a shared memory under threads (run by cli/tests/threads.rs).
 *
 * Built as:
 *   wasm2o compile churn_owner.wat  -o churn_owner.o  --header churn_owner.h  --prefix churn_owner
 *   wasm2o compile churn_worker.wat -o churn_worker.o --header churn_worker.h --prefix churn_worker
 *   cc -I runtime-support/include -I. churn.c churn_owner.o churn_worker.o libwasm2o_runtime.a -lpthread -ldl -lm
 *
 * One instance of churn_owner.wat defines a 16-page shared *virtual* memory
 * (layout in churn_worker.wat). NWORKERS instances of churn_worker.wat
 * import it, each driven by its own thread: they bump their counter in
 * page 0 and stamp page 12 (never churned), and load, store, fill, copy,
 * rmw and cmpxchg in the churn region (pages 4-11), also through
 * wasm2o_memory_read/_write. Meanwhile a churn thread maps (none, read,
 * read-write), protects, unmaps and discards random page ranges of the
 * churn region and maps a host shared buffer over them
 * (wasm2o_memory_map_fd, shared and private), half through the host API
 * and half through the guest's memory-control imports of its own instance.
 *
 * Phase 1 checks: no access crashes; every access in the churn region
 * completes or traps "access denied" at an address in the region (the
 * instance's trap info, or wasm2o_last_error() for host calls); every
 * request succeeds or is refused for the reason its range allows.
 *
 * Phase 2 checks ordering: the churn thread puts page 8 into a known state,
 * then publishes an epoch (atomic store + memory.atomic.notify); a checker
 * thread sleeping in memory.atomic.wait32 wakes, and its accesses must see
 * exactly the new state (trap or value); it acknowledges the same way.
 *
 * At the end: every counter and stamp is exact, the rest of page 0 is
 * zero, the sentinel pages 1 and 13 are intact, pages 14-15 are still
 * unmapped, and the churn region, unmapped and mapped again, reads zeros.
 * Prints "churn: ok" and exits 0 on success. */

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn_owner.h"
#include "churn_worker.h"

#define NWORKERS 4
#define CHURN_OPS 100000
#define ORDER_ROUNDS 400
#define PAGE 0x10000u
#define CHURN_LO (4 * PAGE)
#define CHURN_HI (12 * PAGE)
#define CHURN_PAGES 8
#define STAMPS (12 * PAGE)
#define EPOCH_ADDR 0x200u
#define ACK_ADDR 0x204u
#define PROBE (8 * PAGE)

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "churn: FAILED at line %d: ", __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static wasm2o_memory *memory;
static wasm2o_shared_buffer *buffer;
static atomic_int stop;

static uint32_t next(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static uint8_t sentinel(uint32_t i, uint32_t salt) { return (uint8_t)(i * 7 + salt); }

/* A churn-region access: completed, or "access denied" at an address of
 * the range it touched (which lies in the churn region). */
static int accessed(wasm2o_instance *inst, wasm2o_trap_code t, uint32_t addr, uint32_t len, const char *what) {
    if (t == WASM2O_TRAP_NONE) return 1;
    const wasm2o_trap_info *info = wasm2o_instance_trap(inst);
    CHECK(t == WASM2O_TRAP_MEMORY_ACCESS_DENIED && info->code == t, "%s at 0x%" PRIx32 ": trap %u (%s)", what,
          addr, (unsigned)t, info->message);
    CHECK(info->has_address && info->address >= addr && info->address < (uint64_t)addr + len &&
              info->address >= CHURN_LO && info->address < CHURN_HI,
          "%s at 0x%" PRIx32 ": denied at 0x%" PRIx64, what, addr, info->address);
    return 0;
}

/* The same for a host call of `len` bytes, which reports through
 * wasm2o_last_trap() and wasm2o_last_error(). */
static int host_accessed(wasm2o_trap_code t, uint32_t addr, uint32_t len, const char *what) {
    if (t == WASM2O_TRAP_NONE) return 1;
    const wasm2o_trap_info *info = wasm2o_last_trap();
    CHECK(t == WASM2O_TRAP_MEMORY_ACCESS_DENIED && info->code == t, "host %s at 0x%" PRIx32 ": trap %u (%s)", what,
          addr, (unsigned)t, wasm2o_last_error());
    CHECK(strncmp(wasm2o_last_error(), "access denied", 13) == 0, "host %s: %s", what, wasm2o_last_error());
    CHECK(info->has_address && info->address >= addr && info->address < (uint64_t)addr + len &&
              info->address >= CHURN_LO && info->address < CHURN_HI,
          "host %s at 0x%" PRIx32 ": denied at 0x%" PRIx64, what, addr, info->address);
    return 0;
}

struct worker {
    pthread_t thread;
    wasm2o_instance *inst;
    int32_t id;
    uint32_t count;
    long done, denied;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;
    uint32_t seed = 0x9e3779b9u * (uint32_t)(w->id + 1);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        CHECK(churn_worker_bump(w->inst, w->id) == WASM2O_TRAP_NONE, "bump: %s",
              wasm2o_instance_trap(w->inst)->message);
        w->count++;
        CHECK(churn_worker_stamp(w->inst, w->id, (int32_t)w->count) == WASM2O_TRAP_NONE, "stamp");
        uint32_t r = next(&seed);
        /* Aligned for atomics; sometimes 32 bytes before a page's end, so
         * that fills and copies straddle two pages; never so close to the
         * region's end that an access reaches page 12. */
        uint32_t addr = CHURN_LO + (r % (CHURN_HI - CHURN_LO)) / 4 * 4;
        if ((r >> 24) % 4 == 0) addr = (addr | (PAGE - 1)) - 31;
        if (addr > CHURN_HI - 64) addr = CHURN_HI - 64;
        int32_t v;
        int ok;
        switch ((r >> 28) % 8) {
        case 0: ok = accessed(w->inst, churn_worker_load(w->inst, (int32_t)addr, &v), addr, 4, "load"); break;
        case 1: ok = accessed(w->inst, churn_worker_store(w->inst, (int32_t)addr, w->id), addr, 4, "store"); break;
        case 2: ok = accessed(w->inst, churn_worker_rmw(w->inst, (int32_t)addr, &v), addr, 4, "rmw"); break;
        case 3: ok = accessed(w->inst, churn_worker_cmpxchg(w->inst, (int32_t)addr, &v), addr, 4, "cmpxchg"); break;
        case 4: ok = accessed(w->inst, churn_worker_fill(w->inst, (int32_t)addr, 64), addr, 64, "fill"); break;
        case 5: {
            /* The source may reach into page 12: reading it is harmless. */
            uint32_t src = CHURN_LO + ((addr - CHURN_LO + 3 * PAGE) % (CHURN_HI - CHURN_LO)), n = 64;
            /* Denied at the destination or at the source. */
            wasm2o_trap_code t = churn_worker_copy(w->inst, (int32_t)addr, (int32_t)src, (int32_t)n);
            if (t == WASM2O_TRAP_NONE) {
                ok = 1;
            } else {
                const wasm2o_trap_info *info = wasm2o_instance_trap(w->inst);
                CHECK(t == WASM2O_TRAP_MEMORY_ACCESS_DENIED && info->has_address &&
                          ((info->address >= addr && info->address < addr + n) ||
                           (info->address >= src && info->address < src + n)),
                      "copy: trap %u at 0x%" PRIx64, (unsigned)t, info->address);
                ok = 0;
            }
            break;
        }
        case 6: {
            uint8_t buf[32];
            ok = host_accessed(wasm2o_memory_read(memory, addr, buf, sizeof buf), addr, sizeof buf, "read");
            break;
        }
        default: {
            uint8_t buf[8];
            memset(buf, w->id, sizeof buf);
            ok = host_accessed(wasm2o_memory_write(memory, addr, buf, sizeof buf), addr, sizeof buf, "write");
            break;
        }
        }
        if (ok) w->done++;
        else w->denied++;
    }
    return NULL;
}

/* Requests and how many succeeded. */
static long ok_map, ok_map_fd, ok_protect, ok_unmap, ok_discard, refused_req;

/* A request's outcome: success, or a refusal / "access denied" its range
 * may get (mapped pages for map, unmapped ones for protect, a guest's
 * protect above the prot the host mapped a file with, pages that are not
 * read-write for discard). Nothing else. */
static int request(wasm2o_trap_code t, const char *message, const char *what) {
    if (t == WASM2O_TRAP_NONE) return 1;
    int fine = (t == WASM2O_TRAP_MEMORY_CONTROL_REFUSED &&
                (strstr(message, "already mapped") || strstr(message, "not mapped") ||
                 (strcmp(what, "protect") == 0 && strstr(message, "above grant")))) ||
               (t == WASM2O_TRAP_MEMORY_ACCESS_DENIED && strcmp(what, "discard") == 0);
    CHECK(fine, "%s: trap %u (%s)", what, (unsigned)t, message);
    refused_req++;
    return 0;
}

static const uint32_t prots[3] = {0, 1, 3};

static void churn(wasm2o_instance *self, uint32_t *seed) {
    uint32_t r = next(seed);
    uint32_t page = r % CHURN_PAGES;
    uint32_t n = 1 + (r >> 8) % 3;
    if (page + n > CHURN_PAGES) n = CHURN_PAGES - page;
    uint32_t addr = CHURN_LO + page * PAGE, len = n * PAGE;
    uint32_t prot = prots[(r >> 12) % 3];
    int guest = (r >> 16) & 1;
    wasm2o_trap_code t;
    const char *msg;
#define GUEST_MSG (wasm2o_instance_trap(self)->message)
    switch ((r >> 20) % 6) {
    case 0: /* map */
        if (guest) {
            int32_t got = 0;
            t = churn_worker_map(self, (int32_t)addr, (int32_t)len, (int32_t)prot, &got);
            msg = GUEST_MSG;
            CHECK(t != WASM2O_TRAP_NONE || got == (int32_t)addr, "map returned %" PRId32, got);
        } else {
            t = wasm2o_memory_map(memory, addr, len, prot);
            msg = wasm2o_last_error();
        }
        ok_map += request(t, msg, "map");
        break;
    case 1: /* map the host buffer, shared or private, host only */
        t = wasm2o_memory_map_fd(memory, addr, len, wasm2o_shared_buffer_fd(buffer), (uint64_t)page * PAGE, prot,
                                 guest ? WASM2O_MAP_SHARED : WASM2O_MAP_PRIVATE);
        ok_map_fd += request(t, wasm2o_last_error(), "map_fd");
        break;
    case 2: /* protect */
        if (guest) {
            t = churn_worker_protect(self, (int32_t)addr, (int32_t)len, (int32_t)prot);
            msg = GUEST_MSG;
        } else {
            t = wasm2o_memory_protect(memory, addr, len, prot);
            msg = wasm2o_last_error();
        }
        ok_protect += request(t, msg, "protect");
        break;
    case 3: /* unmap */
        if (guest) {
            t = churn_worker_unmap(self, (int32_t)addr, (int32_t)len);
            msg = GUEST_MSG;
        } else {
            t = wasm2o_memory_unmap(memory, addr, len);
            msg = wasm2o_last_error();
        }
        ok_unmap += request(t, msg, "unmap");
        break;
    default: /* discard, twice as often */
        if (guest) {
            t = churn_worker_discard(self, (int32_t)addr, (int32_t)len);
            msg = GUEST_MSG;
        } else {
            t = wasm2o_memory_discard(memory, addr, len);
            msg = wasm2o_last_error();
        }
        ok_discard += request(t, msg, "discard");
        break;
    }
#undef GUEST_MSG
}

/* Phase 2: the state of page PROBE after each step, as the checker must
 * see it once it learns the step's epoch. */
enum { UNMAPPED, ZERO_RW, VALUE_RW, VALUE_RO, NO_ACCESS, FILE_RO };
static const int sequence[] = {UNMAPPED, ZERO_RW, VALUE_RW, VALUE_RO, NO_ACCESS, VALUE_RW, ZERO_RW, FILE_RO};
#define NSTEPS ((int)(sizeof sequence / sizeof sequence[0]))
static _Atomic int32_t expected_value;

static void set_state(wasm2o_instance *self, int step, int32_t value) {
    uint8_t *buf = wasm2o_shared_buffer_data(buffer);
    switch (step) {
    case 0: /* unmap (from the file mapping of the previous round) */
        CHECK(churn_worker_unmap(self, PROBE, PAGE) == WASM2O_TRAP_NONE, "unmap");
        break;
    case 1: { /* map read-write: zeros */
        int32_t got;
        CHECK(churn_worker_map(self, PROBE, PAGE, 3, &got) == WASM2O_TRAP_NONE && got == PROBE, "map");
        break;
    }
    case 2: /* a host write */
        CHECK(wasm2o_memory_write(memory, PROBE, &value, 4) == WASM2O_TRAP_NONE, "write");
        break;
    case 3: CHECK(wasm2o_memory_protect(memory, PROBE, PAGE, 1) == WASM2O_TRAP_NONE, "protect r"); break;
    case 4: CHECK(churn_worker_protect(self, PROBE, PAGE, 0) == WASM2O_TRAP_NONE, "protect none"); break;
    case 5: CHECK(churn_worker_protect(self, PROBE, PAGE, 3) == WASM2O_TRAP_NONE, "protect rw"); break;
    case 6: CHECK(wasm2o_memory_discard(memory, PROBE, PAGE) == WASM2O_TRAP_NONE, "discard"); break;
    default: /* the host buffer, read-only, shared: its first word */
        memcpy(buf + 4 * PAGE, &value, 4);
        CHECK(wasm2o_memory_unmap(memory, PROBE, PAGE) == WASM2O_TRAP_NONE, "unmap");
        CHECK(wasm2o_memory_map_fd(memory, PROBE, PAGE, wasm2o_shared_buffer_fd(buffer), 4 * PAGE, 1,
                                   WASM2O_MAP_SHARED) == WASM2O_TRAP_NONE,
              "map_fd: %s", wasm2o_last_error());
        break;
    }
}

struct checker {
    wasm2o_instance *inst;
    long checked;
};

static void *run_checker(void *arg) {
    struct checker *c = arg;
    for (int32_t round = 1; round <= ORDER_ROUNDS; round++) {
        CHECK(churn_worker_await(c->inst, EPOCH_ADDR, round) == WASM2O_TRAP_NONE, "await");
        int state = sequence[(round - 1) % NSTEPS];
        int32_t want = atomic_load(&expected_value), got = -1;
        wasm2o_trap_code load = churn_worker_load(c->inst, PROBE, &got);
        wasm2o_trap_code store = churn_worker_store(c->inst, PROBE + 4, 0);
        switch (state) {
        case UNMAPPED:
        case NO_ACCESS:
            CHECK(load == WASM2O_TRAP_MEMORY_ACCESS_DENIED && store == WASM2O_TRAP_MEMORY_ACCESS_DENIED,
                  "round %d: state %d: load %u store %u", round, state, (unsigned)load, (unsigned)store);
            break;
        case ZERO_RW:
            CHECK(load == WASM2O_TRAP_NONE && got == 0 && store == WASM2O_TRAP_NONE, "round %d: zero: %d", round,
                  got);
            break;
        case VALUE_RW:
            CHECK(load == WASM2O_TRAP_NONE && got == want && store == WASM2O_TRAP_NONE, "round %d: rw %d != %d",
                  round, got, want);
            break;
        default: /* VALUE_RO, FILE_RO */
            CHECK(load == WASM2O_TRAP_NONE && got == want && store == WASM2O_TRAP_MEMORY_ACCESS_DENIED,
                  "round %d: ro %d != %d, store %u", round, got, want, (unsigned)store);
            break;
        }
        c->checked++;
        CHECK(churn_worker_publish(c->inst, ACK_ADDR, round) == WASM2O_TRAP_NONE, "ack");
    }
    return NULL;
}

int main(void) {
    wasm2o_instance *owner = NULL;
    CHECK(churn_owner_instantiate(NULL, NULL, 0, NULL, &owner) == WASM2O_OK, "owner: %s", wasm2o_last_error());
    memory = wasm2o_instance_memory(owner, 0);
    CHECK(memory != NULL && wasm2o_memory_size(memory) == 16 * PAGE, "owner memory");
    uint8_t *data = wasm2o_memory_data(memory);
    const wasm2o_extern *mem_export = wasm2o_instance_export(owner, "memory");
    CHECK(mem_export != NULL, "owner export");
    buffer = wasm2o_shared_buffer_new(CHURN_PAGES * PAGE);
    CHECK(buffer != NULL, "buffer: %s", wasm2o_last_error());
    memset(wasm2o_shared_buffer_data(buffer), 0xb5, CHURN_PAGES * PAGE);

    /* Sentinels: page 1 read-write, page 13 read-only; 14-15 stay unmapped. */
    CHECK(wasm2o_memory_map(memory, PAGE, PAGE, 3) == WASM2O_TRAP_NONE, "map 1: %s", wasm2o_last_error());
    CHECK(wasm2o_memory_map(memory, 13 * PAGE, PAGE, 3) == WASM2O_TRAP_NONE, "map 13");
    for (uint32_t i = 0; i < PAGE; i++) data[PAGE + i] = sentinel(i, 3), data[13 * PAGE + i] = sentinel(i, 5);
    CHECK(wasm2o_memory_protect(memory, 13 * PAGE, PAGE, 1) == WASM2O_TRAP_NONE, "protect 13");

    wasm2o_import imports[] = {{"env", "memory", NULL, NULL, mem_export}};
    struct worker workers[NWORKERS];
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < NWORKERS; i++) {
        workers[i].id = i;
        CHECK(churn_worker_instantiate(NULL, imports, 1, NULL, &workers[i].inst) == WASM2O_OK, "worker %d: %s", i,
              wasm2o_last_error());
    }
    wasm2o_instance *self = NULL;
    CHECK(churn_worker_instantiate(NULL, imports, 1, NULL, &self) == WASM2O_OK, "churner: %s", wasm2o_last_error());

    /* Phase 1: churn while the workers run. */
    for (int i = 0; i < NWORKERS; i++)
        CHECK(pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) == 0, "pthread_create");
    uint32_t seed = 12345;
    for (int i = 0; i < CHURN_OPS; i++) churn(self, &seed);
    atomic_store(&stop, 1);
    long done = 0, denied = 0;
    for (int i = 0; i < NWORKERS; i++) {
        pthread_join(workers[i].thread, NULL);
        done += workers[i].done;
        denied += workers[i].denied;
    }
    CHECK(ok_map > 0 && ok_map_fd > 0 && ok_protect > 0 && ok_unmap > 0 && ok_discard > 0 && refused_req > 0,
          "every kind of request ran: map %ld map_fd %ld protect %ld unmap %ld discard %ld refused %ld", ok_map,
          ok_map_fd, ok_protect, ok_unmap, ok_discard, refused_req);
    CHECK(done > 0 && denied > 0, "accesses: %ld done, %ld denied", done, denied);

    /* Phase 2: an access ordered after a request (by wait/notify) sees it. */
    CHECK(wasm2o_memory_unmap(memory, CHURN_LO, CHURN_HI - CHURN_LO) == WASM2O_TRAP_NONE, "unmap");
    CHECK(wasm2o_memory_map_fd(memory, PROBE, PAGE, wasm2o_shared_buffer_fd(buffer), 0, 1, WASM2O_MAP_PRIVATE) ==
              WASM2O_TRAP_NONE,
          "map_fd");
    struct checker checker = {workers[0].inst, 0};
    pthread_t checker_thread;
    CHECK(pthread_create(&checker_thread, NULL, run_checker, &checker) == 0, "pthread_create");
    for (int32_t round = 1; round <= ORDER_ROUNDS; round++) {
        int step = (round - 1) % NSTEPS;
        int32_t value = 0x1000 + round;
        set_state(self, step, value);
        if (step == 2 || step == NSTEPS - 1) atomic_store(&expected_value, value);
        CHECK(churn_worker_publish(self, EPOCH_ADDR, round) == WASM2O_TRAP_NONE, "publish");
        CHECK(churn_worker_await(self, ACK_ADDR, round) == WASM2O_TRAP_NONE, "await ack");
    }
    pthread_join(checker_thread, NULL);
    CHECK(checker.checked == ORDER_ROUNDS, "checked %ld rounds", checker.checked);

    /* Nothing outside the churn region changed. */
    for (int i = 0; i < NWORKERS; i++) {
        uint32_t c, s;
        memcpy(&c, data + 4 * i, 4);
        memcpy(&s, data + STAMPS + 0x1000 * i, 4);
        CHECK(c == workers[i].count && s == workers[i].count, "worker %d: counter %" PRIu32 ", stamp %" PRIu32
              ", expected %" PRIu32, i, c, s, workers[i].count);
    }
    for (uint32_t i = 4 * NWORKERS; i < PAGE; i++)
        CHECK(i == EPOCH_ADDR || i == ACK_ADDR || (i > EPOCH_ADDR && i < ACK_ADDR + 4) || data[i] == 0,
              "page 0 byte 0x%" PRIx32 " changed", i);
    for (uint32_t i = 0; i < PAGE; i++) {
        CHECK(data[PAGE + i] == sentinel(i, 3), "sentinel page 1 byte 0x%" PRIx32 " changed", i);
        CHECK(data[13 * PAGE + i] == sentinel(i, 5), "sentinel page 13 byte 0x%" PRIx32 " changed", i);
        if (i % 0x1000 >= 4 || i / 0x1000 >= NWORKERS)
            CHECK(data[STAMPS + i] == 0, "stamp page byte 0x%" PRIx32 " changed", i);
    }
    uint8_t b;
    CHECK(wasm2o_memory_read(memory, 14 * PAGE, &b, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED, "page 14 mapped");
    CHECK(wasm2o_memory_read(memory, 16 * PAGE - 1, &b, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED, "page 15 mapped");
    CHECK(wasm2o_memory_read(memory, 3 * PAGE, &b, 1) == WASM2O_TRAP_MEMORY_ACCESS_DENIED, "page 3 mapped");
    /* The churn region, unmapped and mapped again, reads zeros. */
    CHECK(wasm2o_memory_unmap(memory, CHURN_LO, CHURN_HI - CHURN_LO) == WASM2O_TRAP_NONE, "final unmap");
    CHECK(wasm2o_memory_map(memory, CHURN_LO, CHURN_HI - CHURN_LO, 1) == WASM2O_TRAP_NONE, "final map");
    for (uint32_t i = CHURN_LO; i < CHURN_HI; i++) CHECK(data[i] == 0, "byte 0x%" PRIx32 " not zero", i);

    for (int i = 0; i < NWORKERS; i++) wasm2o_instance_free(workers[i].inst);
    wasm2o_instance_free(self);
    wasm2o_instance_free(owner);
    wasm2o_shared_buffer_free(buffer);
    fprintf(stderr,
            "churn: %d workers: %ld accesses completed, %ld denied; requests: map %ld, map_fd %ld, protect %ld, "
            "unmap %ld, discard %ld, refused %ld; %d ordered rounds\n",
            NWORKERS, done, denied, ok_map, ok_map_fd, ok_protect, ok_unmap, ok_discard, refused_req, ORDER_ROUNDS);
    printf("churn: ok\n");
    return 0;
}
