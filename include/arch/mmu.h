/* Paging constants and the physical <-> virtual mapping of the kernel. */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>
#include <boot/boot_info.h>

#define PAGE_SHIFT      12
#define PAGE_SIZE       4096ul
#define PAGE_MASK       (~(PAGE_SIZE - 1))

/*
 * Direct map of all physical memory (docs/memory.md). During boot,
 * arch_boot_entry() aliases the boot page tables' identity map of
 * [0, 4 GiB) here, so phys_to_virt() is valid from the first C code on;
 * the VMM then maps all of physical memory.
 */
#define DIRECT_MAP_BASE     0xFFFF800000000000ul
#define PML4_SLOT(va)       (((uint64_t)(va) >> 39) & 0x1FF)

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}

/* Physical address of a direct-map or kernel-image virtual address. */
static inline uint64_t virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)va;

	if (v >= KERNEL_VMA_BASE)
		return v - KERNEL_VMA_BASE;
	return v - DIRECT_MAP_BASE;
}

#endif
