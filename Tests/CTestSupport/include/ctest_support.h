/* C helpers for the tests only: GNU extensions Swift does not see, and a heap-allocation counter. */
#ifndef CTEST_SUPPORT_H
#define CTEST_SUPPORT_H

#include <spawn.h>
#include <stdint.h>

int ts_pipe_cloexec(int fds[2]);
int ts_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/* Allocation counting. malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign are
 * wrapped in this test binary; while counting is on for the calling thread, each call increments
 * that thread's counter. Counting is per thread so parallel tests do not disturb each other. */
void ts_allocations_start(void);
uint64_t ts_allocations_stop(void);
/* Whether the wrappers are active (the executable's malloc interposes libc's). */
int ts_allocation_counting_available(void);

#endif
