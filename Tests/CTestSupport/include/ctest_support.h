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

/* Runs vigil's read-only clock query (`adjtimex` with no modes) in a forked child under the
 * seccomp filter systemd's ProtectClock=yes installs (the @clock system calls fail with EPERM).
 * Returns the query's result (2 synchronised, 1 not, -1 failed) and stores the child's errno in
 * *child_errno, or returns -100 when the filter could not be installed. */
int ts_clock_query_under_clock_filter(int *child_errno);

#endif
