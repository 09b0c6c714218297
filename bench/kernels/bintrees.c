/* bintrees: the Benchmarks Game binary-trees with a bump allocator
 * (allocation-heavy, pointer chasing, recursion). */
#include "kernel.h"

struct node { struct node *left, *right; };

#define ARENA_BYTES (24u << 20)
static _Alignas(16) uint8_t arena[ARENA_BYTES];
static size_t top;

static inline struct node *alloc_node(void) {
    struct node *n = (struct node *)(arena + top);
    top += sizeof(struct node);
    return n;
}

static NOINLINE struct node *make(int depth) {
    struct node *n = alloc_node();
    if (depth > 0) {
        n->left = make(depth - 1);
        n->right = make(depth - 1);
    } else {
        n->left = n->right = 0;
    }
    return n;
}

static NOINLINE uint32_t check(const struct node *n) {
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

uint64_t run(void) {
    const int min_depth = 4, max_depth = 17;
    uint64_t h = 0;
    top = 0;
    struct node *long_lived = make(max_depth);
    size_t mark = top;
    for (int d = min_depth; d <= max_depth; d += 2) {
        uint32_t iterations = 1u << (max_depth - d + min_depth), sum = 0;
        for (uint32_t i = 0; i < iterations; i++) {
            top = mark; /* free the previous tree in one go */
            sum += check(make(d));
        }
        h = mix64(h, sum);
    }
    return mix64(h, check(long_lived));
}
