/*
 * test=mm: frame allocator, page tables and heap, checked from inside the
 * kernel (the allocator logic itself has host tests in tests/unit/).
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/vmm.h>

#define PATTERN         0x5EED5EED00000000ull
#define TEST_USER_VA    0x400000ul
#define TEST_PAGES      16
#define STRESS_ROUNDS   4
#define STRESS_SLOTS    512

extern const char __text_start[], __rodata_start[], __data_start[];

/* Each allocated frame holds the address of the previous one: a list in the frames. */
static const char *test_alloc_every_frame(void)
{
	uint64_t before = pmm_free_count(), head = 0, n = 0, pa;

	while ((pa = pmm_alloc_frame()) != 0) {
		uint64_t *w = phys_to_virt(pa);
		w[0] = head;
		w[1] = PATTERN ^ pa;
		w[PAGE_SIZE / 8 - 1] = ~pa;
		head = pa;
		n++;
	}
	if (pmm_free_count() != 0)
		return ktest_fail("allocator failed with %lu frames still free", pmm_free_count());
	if (n != before)
		return ktest_fail("got %lu frames, %lu were free", n, before);
	for (uint64_t count = 0; head; count++) {
		uint64_t *w = phys_to_virt(head), next = w[0];
		if (w[1] != (PATTERN ^ head) || w[PAGE_SIZE / 8 - 1] != ~head)
			return ktest_fail("frame 0x%lx handed out twice or corrupted", head);
		pmm_free_frame(head);
		head = next;
		if (count > n)
			return ktest_fail("frame list loops");
	}
	if (pmm_free_count() != before)
		return ktest_fail("free count %lu after freeing all, expected %lu",
				  pmm_free_count(), before);
	kprintf("# mm: allocated, checked and freed %lu frames (%lu MiB)\n", n, n >> 8);
	return NULL;
}

static const char *test_high_memory_used(void)
{
	const struct boot_info *bi = boot_info();
	uint64_t top = 0, pa;

	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOT_MEM_USABLE)
			top = bi->mmap[i].base + bi->mmap[i].length;
	if (top <= PMM_LOW_LIMIT + PAGE_SIZE)
		return ktest_skip("no RAM above 4 GiB on this machine");
	pa = pmm_alloc_frame();
	KT_ASSERT(pa >= PMM_LOW_LIMIT);
	*(volatile uint64_t *)phys_to_virt(pa) = PATTERN;
	KT_ASSERT(*(volatile uint64_t *)phys_to_virt(pa) == PATTERN);
	pmm_free_frame(pa);
	return NULL;
}

static const char *test_contiguous_runs(void)
{
	for (unsigned int order = 0; order <= 9; order++) {
		uint64_t pa = pmm_alloc_frames(order);
		if (!pa)
			return ktest_fail("no run of order %u", order);
		if (pa & ((PAGE_SIZE << order) - 1))
			return ktest_fail("order %u run at 0x%lx not aligned", order, pa);
		memset(phys_to_virt(pa), 0xA5, PAGE_SIZE << order);
		pmm_free_frames(pa, order);
	}
	return NULL;
}

static const char *test_kernel_mappings(void)
{
	unsigned int f;
	uint64_t pa;

	KT_ASSERT(!vmm_translate(&kernel_space, 0, NULL, NULL));
	KT_ASSERT(!vmm_translate(&kernel_space, KERNEL_PHYS_BASE, NULL, NULL)); /* identity map gone */
	KT_ASSERT(vmm_translate(&kernel_space, (uint64_t)__text_start, &pa, &f));
	KT_ASSERT(pa == virt_to_phys(__text_start) && (f & VM_EXEC) && !(f & VM_WRITE));
	KT_ASSERT(vmm_translate(&kernel_space, (uint64_t)__rodata_start, NULL, &f));
	KT_ASSERT(!(f & VM_EXEC) && !(f & VM_WRITE));
	KT_ASSERT(vmm_translate(&kernel_space, (uint64_t)__data_start, NULL, &f));
	KT_ASSERT(!(f & VM_EXEC) && (f & VM_WRITE));
	KT_ASSERT(vmm_translate(&kernel_space, (uint64_t)phys_to_virt(0x123456), &pa, &f));
	KT_ASSERT(pa == 0x123456 && !(f & VM_EXEC) && (f & VM_WRITE) && !(f & VM_USER));
	return NULL;
}

static const char *test_address_space_api(void)
{
	uint64_t before, frames[TEST_PAGES], pa;
	struct vm_space *vs;
	unsigned int f;

	/* Warm the heap's slab for struct vm_space so it does not count as a leak. */
	vmm_destroy(vmm_create());
	before = pmm_free_count();
	vs = vmm_create();

	KT_ASSERT(vs);
	for (int i = 0; i < TEST_PAGES; i++) {
		frames[i] = pmm_alloc_frame();
		KT_ASSERT(frames[i]);
		KT_ASSERT(vmm_map(vs, TEST_USER_VA + i * PAGE_SIZE, frames[i], 1, VM_USER | VM_WRITE) == 0);
	}
	KT_ASSERT(vmm_map(vs, TEST_USER_VA, frames[0], 1, VM_USER) == -EEXIST);
	KT_ASSERT(vmm_translate(vs, TEST_USER_VA + 5 * PAGE_SIZE + 123, &pa, &f));
	KT_ASSERT(pa == frames[5] + 123 && (f & VM_USER) && (f & VM_WRITE) && !(f & VM_EXEC));
	KT_ASSERT(vmm_protect(vs, TEST_USER_VA, TEST_PAGES, VM_USER | VM_EXEC) == 0);
	KT_ASSERT(vmm_translate(vs, TEST_USER_VA, NULL, &f) && (f & VM_EXEC) && !(f & VM_WRITE));
	/* The kernel half is shared, the user half private. */
	KT_ASSERT(vmm_translate(vs, (uint64_t)__text_start, NULL, NULL));
	KT_ASSERT(!vmm_translate(&kernel_space, TEST_USER_VA, NULL, NULL));
	KT_ASSERT(vmm_unmap(vs, TEST_USER_VA, TEST_PAGES + 4) == TEST_PAGES);
	KT_ASSERT(!vmm_translate(vs, TEST_USER_VA, NULL, NULL));
	KT_ASSERT(vmm_protect(vs, TEST_USER_VA, 1, VM_USER) == -ENOENT);
	KT_ASSERT(vmm_map(vs, TEST_USER_VA + 1, frames[0], 1, 0) == -EINVAL);
	for (int i = 0; i < TEST_PAGES; i++)
		pmm_free_frame(frames[i]);
	vmm_destroy(vs);
	if (pmm_free_count() != before)
		return ktest_fail("%ld frames leaked", (long)(before - pmm_free_count()));
	return NULL;
}

/* Reserved pages take no frame until faulted, then read zero; unmap clears both kinds. */
#define DEMAND_PAGES    16

static const char *test_demand_zero(void)
{
	uint64_t before, reserved, frames[DEMAND_PAGES], demand, pa;
	struct vm_space *vs;
	unsigned int f;

	vmm_destroy(vmm_create());
	before = pmm_free_count();
	vs = vmm_create();
	KT_ASSERT(vs);
	KT_ASSERT(vmm_reserve(vs, TEST_USER_VA, DEMAND_PAGES, VM_USER | VM_WRITE) == 0);
	reserved = pmm_free_count();
	/* The PML4 and three page tables, no frame per page. */
	if (before - reserved > 4)
		return ktest_fail("reserving %d pages took %lu frames", DEMAND_PAGES,
				  before - reserved);
	KT_ASSERT(!vmm_translate(vs, TEST_USER_VA, NULL, NULL));
	KT_ASSERT(vmm_reserve(vs, TEST_USER_VA + PAGE_SIZE, 1, VM_USER) == -EEXIST);
	KT_ASSERT(vmm_map(vs, TEST_USER_VA, 0x1000, 1, VM_USER) == -EEXIST);
	KT_ASSERT(vmm_fault_demand(vs, TEST_USER_VA + DEMAND_PAGES * PAGE_SIZE) == 0);
	for (int i = 0; i < 3; i++)
		KT_ASSERT(vmm_fault_demand(vs, TEST_USER_VA + i * PAGE_SIZE + 8) == VMM_FAULT_MAPPED);
	KT_ASSERT(vmm_fault_demand(vs, TEST_USER_VA) == VMM_FAULT_RETRY);
	KT_ASSERT(pmm_free_count() == reserved - 3);
	KT_ASSERT(vmm_translate(vs, TEST_USER_VA + PAGE_SIZE, &pa, &f));
	KT_ASSERT((f & VM_USER) && (f & VM_WRITE) && !(f & VM_EXEC));
	for (uint64_t i = 0; i < PAGE_SIZE / 8; i++)
		if (((uint64_t *)phys_to_virt(pa & PAGE_MASK))[i])
			return ktest_fail("a demand-zero page holds 0x%lx at word %lu",
					  ((uint64_t *)phys_to_virt(pa & PAGE_MASK))[i], i);
	KT_ASSERT(vmm_unmap_range(vs, TEST_USER_VA, DEMAND_PAGES, frames, &demand) == 3);
	KT_ASSERT(demand == DEMAND_PAGES - 3);
	KT_ASSERT(vmm_fault_demand(vs, TEST_USER_VA + 5 * PAGE_SIZE) == 0);
	for (int i = 0; i < 3; i++)
		pmm_free_frame(frames[i]);
	vmm_destroy(vs);
	if (pmm_free_count() != before)
		return ktest_fail("%ld frames leaked", (long)(before - pmm_free_count()));
	return NULL;
}

/* Frames the idle CPUs zero ahead come out zeroed, even when they were dirty. */
#define POOL_TEST_FRAMES        64

static const char *test_zero_pool(void)
{
	uint64_t f[POOL_TEST_FRAMES], before = pmm_free_count(), pooled, hits0, hits1, fills;

	pmm_zero_pool_drain();
	KT_ASSERT(pmm_free_count() == before);
	/* Dirty frames back to the allocator: the refill takes them again (last freed, first out). */
	for (int i = 0; i < POOL_TEST_FRAMES; i++) {
		f[i] = pmm_alloc_frame();
		KT_ASSERT(f[i]);
		memset(phys_to_virt(f[i]), 0xA5, PAGE_SIZE);
	}
	for (int i = 0; i < POOL_TEST_FRAMES; i++)
		pmm_free_frame(f[i]);
	for (int i = 0; i < POOL_TEST_FRAMES && pmm_zero_pool_refill(); i++)
		;
	pmm_zero_pool_stats(&pooled, &hits0, &fills);
	KT_ASSERT(pooled > 0);
	KT_ASSERT(pmm_free_count() == before);  /* pooled frames count as free */
	for (int i = 0; i < POOL_TEST_FRAMES; i++) {
		f[i] = pmm_alloc_zeroed_frame();
		KT_ASSERT(f[i]);
		for (uint64_t w = 0; w < PAGE_SIZE / 8; w++)
			if (((uint64_t *)phys_to_virt(f[i]))[w])
				return ktest_fail("zeroed frame 0x%lx holds 0x%lx at word %lu", f[i],
						  ((uint64_t *)phys_to_virt(f[i]))[w], w);
	}
	pmm_zero_pool_stats(&pooled, &hits1, &fills);
	KT_ASSERT(hits1 > hits0);
	for (int i = 0; i < POOL_TEST_FRAMES; i++)
		pmm_free_frame(f[i]);
	KT_ASSERT(pmm_free_count() == before);
	return NULL;
}

static const char *test_kernel_stack_guard(void)
{
	uint64_t before, top;

	/* The first stack creates the region's page tables, which stay. */
	kstack_free(kstack_alloc());
	before = pmm_free_count();
	top = kstack_alloc();

	KT_ASSERT(top);
	KT_ASSERT(vmm_translate(&kernel_space, top - 8, NULL, NULL));
	KT_ASSERT(vmm_translate(&kernel_space, top - KSTACK_SIZE, NULL, NULL));
	KT_ASSERT(!vmm_translate(&kernel_space, top - KSTACK_SIZE - 8, NULL, NULL));
	KT_ASSERT(vmm_is_stack_guard(top - KSTACK_SIZE - 8));
	KT_ASSERT(!vmm_is_stack_guard(top - 8));
	*(volatile uint64_t *)(top - KSTACK_SIZE) = PATTERN;
	kstack_free(top);
	KT_ASSERT(pmm_free_count() == before);
	return NULL;
}

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static const char *test_kmalloc_stress(void)
{
	static uint8_t *slots[STRESS_SLOTS];
	static size_t sizes[STRESS_SLOTS];
	struct kmalloc_stats st0, st1;
	uint64_t frames0 = pmm_free_count();

	kmalloc_stats(&st0);
	for (int round = 0; round < STRESS_ROUNDS; round++) {
		for (int i = 0; i < STRESS_SLOTS; i++) {
			int k = (int)(rng() % STRESS_SLOTS);
			if (slots[k]) {
				for (size_t b = 0; b < sizes[k]; b++)
					if (slots[k][b] != (uint8_t)(k + b))
						return ktest_fail("object %d (size %zu) corrupted at %zu",
								  k, sizes[k], b);
				kfree(slots[k]);
				slots[k] = NULL;
				continue;
			}
			/* Mostly small sizes, some across page boundaries. */
			sizes[k] = rng() % 8 ? 1 + rng() % 2048 : 2049 + rng() % 20000;
			slots[k] = kmalloc(sizes[k]);
			if (!slots[k])
				return ktest_fail("kmalloc(%zu) failed", sizes[k]);
			if ((uint64_t)slots[k] & 15)
				return ktest_fail("kmalloc(%zu) = %p, not 16-byte aligned", sizes[k], slots[k]);
			for (size_t b = 0; b < sizes[k]; b++)
				slots[k][b] = (uint8_t)(k + b);
		}
	}
	for (int k = 0; k < STRESS_SLOTS; k++) {
		kfree(slots[k]);
		slots[k] = NULL;
	}
	kmalloc_stats(&st1);
	KT_ASSERT(st1.allocations == st0.allocations);
	KT_ASSERT(st1.bytes_in_use == st0.bytes_in_use);
	/* Empty slabs go back, but each class may keep one cached page. */
	if (frames0 - pmm_free_count() > 8)
		return ktest_fail("%lu frames not returned", frames0 - pmm_free_count());
	return NULL;
}

KTEST_SUITE(mm,
	KTEST_CASE(test_kernel_mappings),
	KTEST_CASE(test_contiguous_runs),
	KTEST_CASE(test_address_space_api),
	KTEST_CASE(test_demand_zero),
	KTEST_CASE(test_zero_pool),
	KTEST_CASE(test_kernel_stack_guard),
	KTEST_CASE(test_kmalloc_stress),
	KTEST_CASE(test_high_memory_used),
	KTEST_CASE(test_alloc_every_frame));
