/*
 * Kernel heap. Small objects (<= 2048 bytes) come from slab pages of one
 * size class each: a header at the start of the page, a bitmap of live
 * objects (so a double free is caught, not absorbed) and a free list. Larger
 * requests get whole pages from the frame allocator, recorded in a hash
 * table so kfree() can check them. With KMALLOC_DEBUG, objects carry red
 * zones on both ends and freed memory is poisoned.
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>

#ifndef KMALLOC_DEBUG
#define KMALLOC_DEBUG           1
#endif
#define SLAB_MAGIC              0x51AB51AB51AB51ABull
#define NR_CLASSES              8               /* 16, 32, ..., 2048 */
#define MIN_CLASS_SHIFT         4
#define MAX_SMALL               2048
#define SLAB_MAX_OBJECTS        256
#define REDZONE                 (KMALLOC_DEBUG ? 16 : 0) /* keeps payloads 16-byte aligned */
#define REDZONE_BYTE            0xBB
#define POISON_BYTE             0x6B
#define LARGE_BUCKETS           64

struct slab {
	uint64_t magic;
	struct slab *next;              /* this class's slabs with free objects */
	uint16_t cls;
	uint16_t nr_objects;
	uint16_t nr_free;
	uint16_t first;                 /* offset of object 0 */
	uint32_t stride;                /* object size including red zones */
	int32_t free_head;              /* index of the first free object, -1 if none */
	uint64_t live[SLAB_MAX_OBJECTS / 64];
};

struct large_alloc {
	struct large_alloc *next;
	uint64_t addr;
	unsigned int order;
};

static spinlock_t heap_lock = SPINLOCK_INIT("kmalloc");
/* Guarded by heap_lock: */
static struct slab *partial[NR_CLASSES];
static struct large_alloc *large[LARGE_BUCKETS];
static struct kmalloc_stats stats;

static size_t class_size(int cls)
{
	return (size_t)1 << (cls + MIN_CLASS_SHIFT);
}

static int size_class(size_t size)
{
	int cls = 0;

	while (class_size(cls) < size)
		cls++;
	return cls;
}

/* Object i's payload (after its leading red zone). */
static uint8_t *slab_obj(struct slab *s, int i)
{
	return (uint8_t *)s + s->first + (size_t)i * s->stride + REDZONE;
}

static int32_t *free_link(struct slab *s, int i)
{
	return (int32_t *)slab_obj(s, i);
}

static struct slab *slab_new(int cls)
{
	uint64_t pa = pmm_alloc_frame();
	struct slab *s;

	if (!pa)
		return NULL;
	s = phys_to_virt(pa);
	memset(s, 0, sizeof(*s));
	s->magic = SLAB_MAGIC;
	s->cls = (uint16_t)cls;
	s->stride = (uint32_t)(class_size(cls) + 2 * REDZONE);
	s->first = (sizeof(*s) + 15) & ~15u;
	s->nr_objects = (uint16_t)((PAGE_SIZE - s->first) / s->stride);
	if (s->nr_objects > SLAB_MAX_OBJECTS)
		s->nr_objects = SLAB_MAX_OBJECTS;
	s->nr_free = s->nr_objects;
	for (int i = 0; i < s->nr_objects; i++) {
		if (KMALLOC_DEBUG)
			memset(slab_obj(s, i) - REDZONE, POISON_BYTE, s->stride);
		*free_link(s, i) = i + 1 < s->nr_objects ? i + 1 : -1;
	}
	s->free_head = 0;
	stats.pages++;
	return s;
}

static void *slab_alloc(int cls)
{
	struct slab *s = partial[cls];
	uint8_t *p;
	int i;

	if (!s) {
		s = slab_new(cls);
		if (!s)
			return NULL;
		partial[cls] = s;
	}
	i = s->free_head;
	p = slab_obj(s, i);
	s->free_head = *free_link(s, i);
	s->live[i / 64] |= 1ull << (i % 64);
	if (--s->nr_free == 0)
		partial[cls] = s->next;
	if (KMALLOC_DEBUG) {
		memset(p - REDZONE, REDZONE_BYTE, REDZONE);
		memset(p + class_size(cls), REDZONE_BYTE, REDZONE);
	}
	stats.bytes_in_use += class_size(cls);
	stats.allocations++;
	return p;
}

static bool redzone_intact(const uint8_t *z)
{
	for (int i = 0; i < REDZONE; i++)
		if (z[i] != REDZONE_BYTE)
			return false;
	return true;
}

static void slab_unlink(struct slab *s)
{
	for (struct slab **pp = &partial[s->cls]; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

/* Caller holds heap_lock. Returns a reason when p is not a live object. */
static const char *slab_free(struct slab *s, uint8_t *p)
{
	uint64_t off = (uint64_t)(p - REDZONE - ((uint8_t *)s + s->first));
	int i = (int)(off / s->stride);

	if (off % s->stride || i >= s->nr_objects)
		return "pointer kmalloc never returned (not an object start)";
	if (!(s->live[i / 64] & (1ull << (i % 64))))
		return "double free";
	if (KMALLOC_DEBUG && (!redzone_intact(p - REDZONE) ||
			      !redzone_intact(p + class_size(s->cls))))
		return "heap overflow: red zone overwritten";
	s->live[i / 64] &= ~(1ull << (i % 64));
	if (KMALLOC_DEBUG)
		memset(p - REDZONE, POISON_BYTE, s->stride);
	*free_link(s, i) = s->free_head;
	s->free_head = i;
	if (s->nr_free++ == 0) {
		s->next = partial[s->cls];
		partial[s->cls] = s;
	}
	stats.bytes_in_use -= class_size(s->cls);
	stats.allocations--;
	/* An empty slab goes back to the frame allocator unless it is the last one. */
	if (s->nr_free == s->nr_objects && (partial[s->cls] != s || s->next)) {
		slab_unlink(s);
		s->magic = 0;
		stats.pages--;
		pmm_free_frame(virt_to_phys(s));
	}
	return NULL;
}

static unsigned int large_bucket(uint64_t addr)
{
	return (unsigned int)((addr >> PAGE_SHIFT) % LARGE_BUCKETS);
}

static void *large_alloc(size_t size)
{
	unsigned int order = 0;
	struct large_alloc *rec;
	uint64_t pa;

	while ((PAGE_SIZE << order) < size)
		order++;
	rec = slab_alloc(size_class(sizeof(*rec)));
	if (!rec)
		return NULL;
	pa = pmm_alloc_frames(order);
	if (!pa) {
		slab_free((struct slab *)((uint64_t)rec & PAGE_MASK), (uint8_t *)rec);
		return NULL;
	}
	rec->addr = (uint64_t)phys_to_virt(pa);
	rec->order = order;
	rec->next = large[large_bucket(rec->addr)];
	large[large_bucket(rec->addr)] = rec;
	stats.pages += 1ull << order;
	stats.bytes_in_use += PAGE_SIZE << order;
	stats.allocations++;
	return (void *)rec->addr;
}

/* Caller holds heap_lock. */
static const char *large_free(uint64_t addr)
{
	for (struct large_alloc **pp = &large[large_bucket(addr)]; *pp; pp = &(*pp)->next) {
		struct large_alloc *rec = *pp;
		if (rec->addr != addr)
			continue;
		*pp = rec->next;
		if (KMALLOC_DEBUG)
			memset((void *)addr, POISON_BYTE, PAGE_SIZE << rec->order);
		pmm_free_frames(virt_to_phys((void *)addr), rec->order);
		stats.pages -= 1ull << rec->order;
		stats.bytes_in_use -= PAGE_SIZE << rec->order;
		stats.allocations--;
		slab_free((struct slab *)((uint64_t)rec & PAGE_MASK), (uint8_t *)rec);
		return NULL;
	}
	return "double free or pointer kmalloc never returned";
}

void *kmalloc(size_t size)
{
	uint64_t flags;
	void *p;

	if (size == 0)
		size = 1;
	flags = spin_lock_irqsave(&heap_lock);
	p = size <= MAX_SMALL ? slab_alloc(size_class(size)) : large_alloc(size);
	spin_unlock_irqrestore(&heap_lock, flags);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *ptr)
{
	uint64_t addr = (uint64_t)ptr, flags;
	const char *why;

	if (!ptr)
		return;
	if (addr < DIRECT_MAP_BASE || addr >= KERNEL_VMA_BASE)
		panic("kfree(%p): not a heap address, called from %pS", ptr,
		      __builtin_return_address(0));
	flags = spin_lock_irqsave(&heap_lock);
	if ((addr & ~PAGE_MASK) == 0) {
		why = large_free(addr);
	} else {
		struct slab *s = (struct slab *)(addr & PAGE_MASK);
		why = s->magic == SLAB_MAGIC ? slab_free(s, ptr) :
		      "pointer kmalloc never returned (no slab there)";
	}
	spin_unlock_irqrestore(&heap_lock, flags);
	if (why)
		panic("kfree(%p): %s, called from %pS", ptr, why, __builtin_return_address(0));
}

void kmalloc_stats(struct kmalloc_stats *st)
{
	uint64_t flags = spin_lock_irqsave(&heap_lock);

	*st = stats;
	spin_unlock_irqrestore(&heap_lock, flags);
}
