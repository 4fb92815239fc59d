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

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <unistd.h>

int ts_clock_query_under_clock_filter(int *child_errno) {
    int fds[2];
    if (pipe(fds) != 0) return -100;
    pid_t pid = fork();
    if (pid < 0) return -100;
    if (pid == 0) {
        int result[2] = {-100, 0};
        /* systemd's @clock group: the calls that set or adjust the clock, adjtimex among them. */
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_adjtimex, 4, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_adjtime, 3, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_settime, 2, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_settimeofday, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        };
        struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0) {
            struct timex tx = {0};
            errno = 0;
            int state = adjtimex(&tx);
            result[0] = state < 0 ? -1 : ((state == TIME_ERROR || (tx.status & STA_UNSYNC)) ? 1 : 2);
            result[1] = errno;
        }
        (void)!write(fds[1], result, sizeof result);
        _exit(0);
    }
    close(fds[1]);
    int result[2] = {-100, 0};
    ssize_t n = read(fds[0], result, sizeof result);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    if (n != (ssize_t)sizeof result) return -100;
    *child_errno = result[1];
    return result[0];
}
