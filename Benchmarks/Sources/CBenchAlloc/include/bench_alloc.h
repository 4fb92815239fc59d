/* Heap-call counter for the benchmark binary (single-threaded measurement sections only). */
#ifndef BENCH_ALLOC_H
#define BENCH_ALLOC_H
#include <stdint.h>
/* Number of malloc/calloc/realloc/memalign-family calls since the process started. */
uint64_t bench_heap_calls(void);
#endif
