/*
 * Physical frames: every usable E820/multiboot2 range, minus what boot put
 * there (first MiB, kernel image, modules, the allocator's own metadata),
 * goes to a buddy allocator (mm/buddy.c; why buddy is explained there).
 * Two zones: frames below 4 GiB are reachable through the boot direct-map
 * alias and suit 32-bit DMA; frames above are used once the VMM maps them.
 * ACPI reclaimable and NVS ranges are never usable entries, so never added.
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/x86.h>
#include <kernel/buddy.h>
#include <kernel/errno.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/time.h>

#define LOW_MEMORY_END          0x100000ull     /* first MiB: BDA, EBDA, ROMs */
#define TRAMPOLINE_MIN          0x1000ull       /* not page 0 (real-mode IVT) */
#define MAX_EARLY_RESERVED      (BOOT_INFO_MAX_MODULES + 4)
#define ZONE_LOW                0
#define ZONE_HIGH               1
#define NR_ZONES                2

struct range {
	uint64_t start, end;    /* [start, end), page aligned */
};

static spinlock_t pmm_lock = SPINLOCK_INIT("pmm");
/* Guarded by pmm_lock: */
static struct buddy zones[NR_ZONES];
static bool zone_ready[NR_ZONES];
static bool high_enabled;
/* Set once at boot: */
static uint64_t managed_frames;
static uint64_t trampoline_page;
static struct range early_reserved[MAX_EARLY_RESERVED];
static int nr_early_reserved;

static uint64_t align_up(uint64_t v)
{
	return (v + PMM_FRAME_SIZE - 1) & ~(PMM_FRAME_SIZE - 1);
}

static uint64_t align_down(uint64_t v)
{
	return v & ~(PMM_FRAME_SIZE - 1);
}

static void reserve_early(uint64_t start, uint64_t end)
{
	if (nr_early_reserved == MAX_EARLY_RESERVED)
		panic("pmm: too many early reserved ranges");
	early_reserved[nr_early_reserved++] = (struct range){ align_down(start), align_up(end) };
}

/* The lowest reserved range overlapping [start, end), or NULL. */
static const struct range *reserved_overlap(uint64_t start, uint64_t end)
{
	const struct range *low = NULL;

	for (int i = 0; i < nr_early_reserved; i++) {
		const struct range *r = &early_reserved[i];
		if (start < r->end && r->start < end && (!low || r->start < low->start))
			low = r;
	}
	return low;
}

/* Lowest free, usable, page-aligned run of `bytes` below `limit`; 0 if none. */
static uint64_t find_free_run(const struct boot_info *bi, uint64_t bytes, uint64_t limit)
{
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		uint64_t end = e->base + e->length, start;
		const struct range *r;

		if (e->type != BOOT_MEM_USABLE)
			continue;
		end = end < limit ? align_down(end) : limit;
		start = align_up(e->base < LOW_MEMORY_END ? LOW_MEMORY_END : e->base);
		while (start + bytes <= end && (r = reserved_overlap(start, start + bytes)))
			start = r->end;
		if (start + bytes <= end)
			return start;
	}
	return 0;
}

static uint64_t usable_end(const struct boot_info *bi)
{
	uint64_t end = 0;

	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOT_MEM_USABLE)
			end = bi->mmap[i].base + bi->mmap[i].length;
	return align_down(end);
}

static void zones_init(const struct boot_info *bi)
{
	uint64_t end = usable_end(bi);
	uint64_t low_frames = (end < PMM_LOW_LIMIT ? end : PMM_LOW_LIMIT) / PMM_FRAME_SIZE;
	uint64_t high_frames = end > PMM_LOW_LIMIT ? (end - PMM_LOW_LIMIT) / PMM_FRAME_SIZE : 0;
	size_t low_meta = buddy_metadata_bytes(low_frames);
	size_t high_meta = high_frames ? buddy_metadata_bytes(high_frames) : 0;
	uint64_t meta = find_free_run(bi, align_up(low_meta) + align_up(high_meta), PMM_LOW_LIMIT);

	if (!meta)
		panic("pmm: no room for %zu bytes of frame metadata", low_meta + high_meta);
	reserve_early(meta, meta + align_up(low_meta) + align_up(high_meta));
	if (buddy_init(&zones[ZONE_LOW], phys_to_virt(meta), low_meta, 0, low_frames) < 0)
		panic("pmm: cannot set up the low zone");
	zone_ready[ZONE_LOW] = true;
	if (high_frames) {
		if (buddy_init(&zones[ZONE_HIGH], phys_to_virt(meta + align_up(low_meta)),
			       high_meta, PMM_LOW_LIMIT / PMM_FRAME_SIZE, high_frames) < 0)
			panic("pmm: cannot set up the high zone");
		zone_ready[ZONE_HIGH] = true;
	}
	kprintf("pmm: %lu KiB of frame metadata at 0x%lx\n",
		(align_up(low_meta) + align_up(high_meta)) / 1024, meta);
}

/* Hand [start, end) to the zone(s) it falls in. */
static void add_free(uint64_t start, uint64_t end)
{
	for (int z = 0; z < NR_ZONES && start < end; z++) {
		uint64_t zend = z == ZONE_LOW ? PMM_LOW_LIMIT : UINT64_MAX;
		uint64_t e = end < zend ? end : zend;

		if (start >= e || !zone_ready[z])
			continue;
		if (buddy_free_range(&zones[z], start / PMM_FRAME_SIZE, (e - start) / PMM_FRAME_SIZE) < 0)
			panic("pmm: cannot add [0x%lx-0x%lx)", start, e);
		managed_frames += (e - start) / PMM_FRAME_SIZE;
		start = e;
	}
}

/* Add a usable range with the early reserved ranges cut out. */
static void add_usable(uint64_t start, uint64_t end)
{
	while (start < end) {
		const struct range *r = reserved_overlap(start, end);

		if (!r) {
			add_free(start, end);
			return;
		}
		if (r->start > start)
			add_free(start, r->start);
		start = r->end;
	}
}

/*
 * Whether [pa, pa + PMM_FRAME_SIZE) is clear of every early reservation
 * other than the blanket one over the first MiB (which only keeps low
 * memory out of the allocator): the kernel image or a module may lie low.
 */
static bool trampoline_page_free(uint64_t pa)
{
	for (int i = 0; i < nr_early_reserved; i++) {
		const struct range *r = &early_reserved[i];

		if (r->start == 0 && r->end == LOW_MEMORY_END)
			continue;
		if (pa < r->end && r->start < pa + PMM_FRAME_SIZE)
			return false;
	}
	return true;
}

static void pick_trampoline_page(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->mmap_count && !trampoline_page; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		uint64_t end = e->base + e->length;

		if (e->type != BOOT_MEM_USABLE)
			continue;
		for (uint64_t pa = align_up(e->base < TRAMPOLINE_MIN ? TRAMPOLINE_MIN : e->base);
		     pa + PMM_FRAME_SIZE <= end && pa + PMM_FRAME_SIZE <= LOW_MEMORY_END;
		     pa += PMM_FRAME_SIZE) {
			if (trampoline_page_free(pa)) {
				trampoline_page = pa;
				break;
			}
		}
	}
	if (!trampoline_page)
		kprintf("pmm: no usable page below 1 MiB for the SMP trampoline\n");
}

void pmm_init(const struct boot_info *bi)
{
	reserve_early(0, LOW_MEMORY_END);
	reserve_early(bi->kernel_phys_start, bi->kernel_phys_end);
	for (uint32_t i = 0; i < bi->module_count; i++)
		reserve_early(bi->modules[i].start, bi->modules[i].end);
	zones_init(bi);
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->type == BOOT_MEM_USABLE)
			add_usable(align_up(e->base), align_down(e->base + e->length));
	}
	pick_trampoline_page(bi);
	kprintf("pmm: %lu frames (%lu MiB) managed, %lu free\n", managed_frames,
		managed_frames * PMM_FRAME_SIZE >> 20, pmm_free_count());
}

void pmm_enable_high_zone(void)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	high_enabled = zone_ready[ZONE_HIGH];
	spin_unlock_irqrestore(&pmm_lock, flags);
}

static uint64_t zone_alloc(int z, unsigned int order)
{
	int64_t pfn;

	if (!zone_ready[z])
		return 0;
	pfn = buddy_alloc(&zones[z], order);
	return pfn < 0 ? 0 : (uint64_t)pfn * PMM_FRAME_SIZE;
}

/*
 * Frames zeroed ahead of time by idle CPUs (sched_idle_loop ->
 * pmm_zero_pool_refill): pmm_alloc_zeroed_frame() takes them first, any
 * other allocation only when the buddy zones are empty. They count as
 * free. A frame being zeroed is `zero_pending`: still free, in nobody's
 * hands; an allocation that finds nothing else waits for it.
 */
#define ZERO_POOL_MAX           64              /* 256 KiB */
#define ZERO_POOL_MIN_FREE      1024            /* refill only while the zones have this many */
#define ZERO_WAIT_MS            1000            /* a zeroing takes microseconds */
/* Guarded by pmm_lock (read racily by pmm_zero_pool_wants): */
static uint64_t zero_pool[ZERO_POOL_MAX];
static uint32_t zero_pool_n, zero_pending;
static uint64_t zero_pool_hits, zero_pool_fills;
/* Set when a refill found the zones low, cleared by the next free: idle CPUs halt meanwhile. */
static volatile bool zero_pool_blocked;

static uint64_t zones_free(void)
{
	uint64_t n = 0;

	for (int z = 0; z < NR_ZONES; z++)
		if (zone_ready[z])
			n += buddy_free_frames(&zones[z]);
	return n;
}

uint64_t pmm_alloc_frames(unsigned int order)
{
	uint64_t start = 0;

	for (;;) {
		uint64_t flags = spin_lock_irqsave(&pmm_lock);
		uint64_t pa = 0;
		bool pending;

		/* Prefer high memory: low frames are scarcer and some users need them. */
		if (high_enabled)
			pa = zone_alloc(ZONE_HIGH, order);
		if (!pa)
			pa = zone_alloc(ZONE_LOW, order);
		if (!pa && order == 0 && zero_pool_n)
			pa = zero_pool[--zero_pool_n];
		pending = !pa && order == 0 && zero_pending;
		spin_unlock_irqrestore(&pmm_lock, flags);
		if (!pending)
			return pa;
		/* The last free frames are being zeroed on an idle CPU: wait for them. */
		if (!start)
			start = rdtsc();
		else if (cycles_to_ns(rdtsc() - start) / NS_PER_MS > ZERO_WAIT_MS)
			return 0;
		cpu_relax();
	}
}

uint64_t pmm_alloc_zeroed_frame(void)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock), pa = 0;

	if (zero_pool_n) {
		pa = zero_pool[--zero_pool_n];
		zero_pool_hits++;
	}
	spin_unlock_irqrestore(&pmm_lock, flags);
	if (pa)
		return pa;
	pa = pmm_alloc_frame();
	if (pa)
		memset(phys_to_virt(pa), 0, PMM_FRAME_SIZE);
	return pa;
}

bool pmm_zero_pool_wants(void)
{
	return !zero_pool_blocked && __atomic_load_n(&zero_pool_n, __ATOMIC_RELAXED) +
	       __atomic_load_n(&zero_pending, __ATOMIC_RELAXED) < ZERO_POOL_MAX;
}

bool pmm_zero_pool_refill(void)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock), pa = 0;

	if (zero_pool_n + zero_pending < ZERO_POOL_MAX && zones_free() > ZERO_POOL_MIN_FREE) {
		if (high_enabled)
			pa = zone_alloc(ZONE_HIGH, 0);
		if (!pa)
			pa = zone_alloc(ZONE_LOW, 0);
		if (pa)
			zero_pending++;
	}
	if (!pa && zones_free() <= ZERO_POOL_MIN_FREE)
		zero_pool_blocked = true;
	spin_unlock_irqrestore(&pmm_lock, flags);
	if (!pa)
		return false;
	memset(phys_to_virt(pa), 0, PMM_FRAME_SIZE);
	flags = spin_lock_irqsave(&pmm_lock);
	zero_pending--;
	zero_pool[zero_pool_n++] = pa;
	zero_pool_fills++;
	spin_unlock_irqrestore(&pmm_lock, flags);
	return true;
}

void pmm_zero_pool_stats(uint64_t *pooled, uint64_t *hits, uint64_t *fills)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	*pooled = zero_pool_n;
	*hits = zero_pool_hits;
	*fills = zero_pool_fills;
	spin_unlock_irqrestore(&pmm_lock, flags);
}

void pmm_zero_pool_drain(void)
{
	for (;;) {
		uint64_t flags = spin_lock_irqsave(&pmm_lock), pa = 0;
		if (zero_pool_n)
			pa = zero_pool[--zero_pool_n];
		spin_unlock_irqrestore(&pmm_lock, flags);
		if (!pa)
			return;
		pmm_free_frame(pa);
	}
}

uint64_t pmm_alloc_frames_low(unsigned int order)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);
	uint64_t pa = zone_alloc(ZONE_LOW, order);

	spin_unlock_irqrestore(&pmm_lock, flags);
	return pa;
}

/* Fault injection (pmm_fail_every): every Nth single-frame allocation fails. */
static uint64_t fail_every, fail_count;

void pmm_fail_every(uint64_t n)
{
	__atomic_store_n(&fail_count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&fail_every, n, __ATOMIC_RELEASE);
}

uint64_t pmm_alloc_frame(void)
{
	uint64_t n = __atomic_load_n(&fail_every, __ATOMIC_ACQUIRE);

	if (n && __atomic_add_fetch(&fail_count, 1, __ATOMIC_RELAXED) % n == 0)
		return 0;
	return pmm_alloc_frames(0);
}

void pmm_free_frames(uint64_t pa, unsigned int order)
{
	int z = pa >= PMM_LOW_LIMIT ? ZONE_HIGH : ZONE_LOW;
	uint64_t flags;
	int rc;

	if (pa & (PMM_FRAME_SIZE - 1))
		panic("pmm_free_frames(0x%lx): not frame aligned, from %pS", pa,
		      __builtin_return_address(0));
	flags = spin_lock_irqsave(&pmm_lock);
	rc = zone_ready[z] ? buddy_free_checked(&zones[z], pa / PMM_FRAME_SIZE, order) : -ERANGE;
	zero_pool_blocked = false;
	spin_unlock_irqrestore(&pmm_lock, flags);
	if (rc < 0)
		panic("pmm_free_frames(0x%lx, order %u): %s, from %pS", pa, order,
		      buddy_strerror(rc), __builtin_return_address(0));
}

void pmm_free_frame(uint64_t pa)
{
	pmm_free_frames(pa, 0);
}

uint64_t pmm_free_count(void)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);
	uint64_t n = zones_free() + zero_pool_n + zero_pending;

	spin_unlock_irqrestore(&pmm_lock, flags);
	return n;
}

uint64_t pmm_managed_count(void)
{
	return managed_frames;
}

uint64_t pmm_trampoline_page(void)
{
	return trampoline_page;
}
