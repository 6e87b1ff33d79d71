/*
 * Physical frame allocator (mm/pmm.c): all usable RAM from boot_info in two
 * buddy zones, below and above 4 GiB, under one spinlock.
 */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdbool.h>
#include <stdint.h>
#include <boot/boot_info.h>

#define PMM_FRAME_SIZE  4096ul
#define PMM_LOW_LIMIT   0x100000000ul  /* zone boundary: 4 GiB */

void pmm_init(const struct boot_info *bi);
/* The direct map now covers all RAM: frames above 4 GiB may be handed out. */
void pmm_enable_high_zone(void);

/* 2^order contiguous, naturally aligned frames: physical address, or 0 when out of memory. */
uint64_t pmm_alloc_frames(unsigned int order);
uint64_t pmm_alloc_frame(void);
/* Fault injection: from now on every nth pmm_alloc_frame() fails (0: never). */
void pmm_fail_every(uint64_t n);
/* Like pmm_alloc_frames, but below 4 GiB (page tables before the direct map, DMA). */
uint64_t pmm_alloc_frames_low(unsigned int order);
/* Panics, naming the caller, on a double free or a bad address/order. */
void pmm_free_frames(uint64_t pa, unsigned int order);
void pmm_free_frame(uint64_t pa);

/* One zeroed frame: from the pool idle CPUs fill, else allocated and zeroed now. */
uint64_t pmm_alloc_zeroed_frame(void);
/* Idle CPUs: does the zero pool want a frame; zero one into it (false: nothing done). */
bool pmm_zero_pool_wants(void);
bool pmm_zero_pool_refill(void);
/* Give the pooled frames back (tests); statistics. */
void pmm_zero_pool_drain(void);
void pmm_zero_pool_stats(uint64_t *pooled, uint64_t *hits, uint64_t *fills);

uint64_t pmm_free_count(void);          /* frames, pooled zero frames included */
uint64_t pmm_managed_count(void);       /* frames handed to the allocator at boot */
/* A usable page below 1 MiB kept back for the SMP trampoline. */
uint64_t pmm_trampoline_page(void);

#endif
