/* Sorting small arrays of samples (calibration, benchmarks, tests): kernel/sort.c. */
#ifndef KERNEL_SORT_H
#define KERNEL_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Ascending insertion sort: the arrays are a few dozen samples at most. */
void sort_u64(uint64_t *v, size_t n);

#endif
