/*
 * Kernel heap (mm/kmalloc.c): size classes 16..2048 bytes on slab pages,
 * whole pages from the frame allocator above that.
 */
#ifndef KERNEL_KMALLOC_H
#define KERNEL_KMALLOC_H

#include <stddef.h>
#include <stdint.h>

/* Memory aligned to 16 bytes (any type, FXSAVE areas included); NULL when out of memory. */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
/* Panics, naming the caller, on a double free or a pointer kmalloc never returned. */
void kfree(void *p);

struct kmalloc_stats {
	uint64_t bytes_in_use;          /* rounded up to the size class / pages */
	uint64_t pages;                 /* slab pages + large-allocation pages */
	uint64_t allocations;           /* live allocations */
};
void kmalloc_stats(struct kmalloc_stats *st);

#endif
