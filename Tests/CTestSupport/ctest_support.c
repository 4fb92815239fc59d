#define _GNU_SOURCE
#include "ctest_support.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

int ts_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int ts_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

/* glibc's own entry points, which our definitions forward to. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread uint64_t count;
static volatile int wrappers_seen;

void ts_allocations_start(void) { count = 0; counting = 1; }
uint64_t ts_allocations_stop(void) { counting = 0; return count; }

int ts_allocation_counting_available(void) {
    wrappers_seen = 0;
    void *p = malloc(16);
    free(p);
    return wrappers_seen;
}

void *malloc(size_t size) {
    wrappers_seen = 1;
    if (counting) count++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (counting) count++;
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size) {
    if (counting) count++;
    return __libc_realloc(ptr, size);
}

void free(void *ptr) { __libc_free(ptr); }

void *memalign(size_t alignment, size_t size) {
    if (counting) count++;
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (counting) count++;
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (counting) count++;
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
