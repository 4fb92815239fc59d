/* Wraps glibc's allocator entry points so the benchmark can print allocs=N per transform. The
 * counter is a relaxed atomic: the benchmark reads it around a measured section on one thread. */
#include "bench_alloc.h"
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t heap_calls;
#define COUNT() __atomic_fetch_add(&heap_calls, 1, __ATOMIC_RELAXED)

uint64_t bench_heap_calls(void) { return __atomic_load_n(&heap_calls, __ATOMIC_RELAXED); }
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t c, size_t n) { COUNT(); return __libc_calloc(c, n); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
