/* listsort: linked lists: build, bottom-up merge sort, traverse
 * (pointer chasing, unpredictable branches). */
#include "kernel.h"
typedef struct node { struct node *next; uint32_t key; uint32_t val; } node;
#define N 400000
static node pool[N];
static node *merge(node *a, node *b) {
    node head, *t = &head;
    while (a && b) {
        if (a->key <= b->key) { t->next = a; a = a->next; } else { t->next = b; b = b->next; }
        t = t->next;
    }
    t->next = a ? a : b;
    return head.next;
}
static NOINLINE node *msort(node *l) {
    node *bins[32] = {0};
    while (l) {
        node *c = l; l = l->next; c->next = 0;
        int i = 0;
        for (; i < 32 && bins[i]; i++) { c = merge(bins[i], c); bins[i] = 0; }
        if (i == 32) i = 31;
        bins[i] = c;
    }
    node *r = 0;
    for (int i = 0; i < 32; i++) if (bins[i]) r = merge(bins[i], r);
    return r;
}
uint64_t run(void) {
    uint64_t h = 0;
    for (int rep = 0; rep < 5; rep++) {
        uint32_t s = 17 + rep;
        node *l = 0;
        for (int i = 0; i < N; i++) { pool[i].key = xorshift32(&s) % 1000000; pool[i].val = i; pool[i].next = l; l = &pool[i]; }
        l = msort(l);
        uint32_t k = 0;
        for (node *p = l; p; p = p->next) { h += p->val ^ k; k++; }
    }
    return h;
}
