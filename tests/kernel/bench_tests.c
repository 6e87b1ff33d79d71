/* test=bench: the benchmark table; each later subsystem adds its rows here. */
#include <stdint.h>
#include <kernel/bench.h>
#include <kernel/kernel.h>
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/vmm.h>

#define MAP_PAGES       1000
#define MAP_VA          0x40000000ul

static void bench_frame(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		pmm_free_frame(pmm_alloc_frame());
}

static void bench_kmalloc_64(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		kfree(kmalloc(64));
}

static void bench_kmalloc_4k(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		kfree(kmalloc(4096));
}

static struct vm_space *map_space;
static uint64_t map_frame;

static void map_setup(void)
{
	map_space = vmm_create();
	map_frame = pmm_alloc_frame();
	if (!map_space || !map_frame)
		panic("bench: out of memory");
}

static void map_teardown(void)
{
	vmm_destroy(map_space);
	pmm_free_frame(map_frame);
}

/* Map 1,000 pages (all onto one frame) and unmap them again. */
static void bench_map_unmap(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		if (vmm_map(map_space, MAP_VA, map_frame, 1, VM_USER | VM_WRITE) < 0)
			panic("bench: map failed");
		for (uint64_t p = 1; p < MAP_PAGES; p++)
			vmm_map(map_space, MAP_VA + p * 4096, map_frame, 1, VM_USER | VM_WRITE);
		if (vmm_unmap(map_space, MAP_VA, MAP_PAGES) != MAP_PAGES)
			panic("bench: unmap failed");
	}
}

static const struct bench benches[] = {
	{ "pmm_alloc_free_frame", "op", 1000, 0, bench_frame, 0 },
	{ "kmalloc_kfree_64", "op", 1000, 0, bench_kmalloc_64, 0 },
	{ "kmalloc_kfree_4096", "op", 1000, 0, bench_kmalloc_4k, 0 },
	{ "vmm_map_unmap_1000_pages", "1000 pages", 1, map_setup, bench_map_unmap, map_teardown },
};

static void bench_all(void)
{
	kprintf("bench: guest TSC cycles, median of %d rounds\n", BENCH_ROUNDS);
	for (unsigned int i = 0; i < ARRAY_SIZE(benches); i++)
		bench_run(&benches[i]);
	ktest_exit(KTEST_EXIT_PASS);
}
KTEST_SUITE_RUN(bench, bench_all);
