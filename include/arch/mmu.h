/* Paging constants and the physical <-> virtual mapping of the kernel. */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>
#include <boot/boot_info.h>

#define PAGE_SHIFT      12
#define PAGE_SIZE       4096ul
#define PAGE_MASK       (~(PAGE_SIZE - 1))

/*
 * TODO: until the direct map exists (memory issue), low physical memory is
 * reached through the boot page tables' alias of [0, 2 GiB) at KERNEL_VMA.
 */
#define BOOT_ALIAS_LIMIT 0x80000000ul

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(pa + KERNEL_VMA_BASE);
}

static inline uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)va - KERNEL_VMA_BASE;
}

#endif
