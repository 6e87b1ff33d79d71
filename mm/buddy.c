/*
 * Binary buddy allocator over page frames (Knuth, TAOCP vol. 1, 2.5), with
 * intrusive free lists in a caller-supplied metadata array. Why buddy and
 * the API contract: include/kernel/buddy.h. Host-tested by tests/unit/test_buddy.c.
 *
 * Invariants (buddy_check() verifies all of them):
 *  - every frame is RESERVED, or lies in exactly one block: a naturally
 *    aligned run of 2^order frames inside the zone whose first frame is its
 *    head (FREE or ALLOC, carrying the order) and whose other frames are TAIL;
 *  - a FREE head is on free_head[order], and nowhere else;
 *  - no two free buddies of the same order coexist (they would have merged).
 * Only heads are ever updated, so a split or merge costs O(1) and alloc and
 * free O(BUDDY_MAX_ORDER). Blocks are aligned in absolute pfn, not relative to
 * the zone, so a 2 MiB block is 2 MiB aligned in physical memory too.
 */
#include <kernel/buddy.h>
#include <kernel/errno.h>

_Static_assert(sizeof(size_t) >= sizeof(uint64_t),
	       "buddy_metadata_bytes() cannot overflow for BUDDY_MAX_FRAMES");
_Static_assert(BUDDY_MAX_ORDER < 32, "order fits struct buddy_frame.order");

static inline uint64_t order_frames(unsigned order)
{
	return 1ull << order;
}

static inline struct buddy_frame *frame_of(const struct buddy *b, uint64_t pfn)
{
	return &b->frames[pfn - b->base_pfn];
}

/* Is [pfn, pfn + n) inside the zone (n may be 0)? Overflow-safe. */
static bool run_in_zone(const struct buddy *b, uint64_t pfn, uint64_t n)
{
	if (pfn < b->base_pfn || pfn - b->base_pfn > b->npages)
		return false;
	return n <= b->npages - (pfn - b->base_pfn);
}

static void set_tail(struct buddy_frame *f)
{
	f->state = BUDDY_FRAME_TAIL;
	f->order = 0;
	f->next = f->prev = BUDDY_NIL;
}

/* ---------------------------------------------------------------- free lists */

/* Make pfn the head of a free block of this order and push it (LIFO). */
static void list_push(struct buddy *b, uint64_t pfn, unsigned order)
{
	struct buddy_frame *f = frame_of(b, pfn);
	uint32_t idx = (uint32_t)(pfn - b->base_pfn);
	uint32_t old = b->free_head[order];

	f->state = BUDDY_FRAME_FREE;
	f->order = (uint8_t)order;
	f->prev = BUDDY_NIL;
	f->next = old;
	if (old != BUDDY_NIL)
		b->frames[old].prev = idx;
	b->free_head[order] = idx;
	b->nr_free[order]++;
}

/* Unlink the free block headed by pfn; the caller re-marks the head. */
static void list_remove(struct buddy *b, uint64_t pfn, unsigned order)
{
	struct buddy_frame *f = frame_of(b, pfn);

	if (f->prev != BUDDY_NIL)
		b->frames[f->prev].next = f->next;
	else
		b->free_head[order] = f->next;
	if (f->next != BUDDY_NIL)
		b->frames[f->next].prev = f->prev;
	f->next = f->prev = BUDDY_NIL;
	b->nr_free[order]--;
}

static bool is_free_head(const struct buddy *b, uint64_t pfn, unsigned order)
{
	const struct buddy_frame *f;

	if (!run_in_zone(b, pfn, 1))
		return false;
	f = frame_of(b, pfn);
	return f->state == BUDDY_FRAME_FREE && f->order == order;
}

/* ---------------------------------------------------------------- blocks */

/*
 * Free the block [pfn, pfn + 2^order), whose frames are all TAIL or its old
 * head, merging with its buddy while the buddy is a free block of the same
 * order. The buddy of an aligned block differs from it in exactly bit
 * `order`; a buddy outside the zone never merges.
 */
static void block_insert(struct buddy *b, uint64_t pfn, unsigned order)
{
	set_tail(frame_of(b, pfn));
	while (order < BUDDY_MAX_ORDER) {
		uint64_t buddy = pfn ^ order_frames(order);

		if (!is_free_head(b, buddy, order))
			break;
		list_remove(b, buddy, order);
		set_tail(frame_of(b, buddy));
		if (buddy < pfn)
			pfn = buddy;
		order++;
	}
	list_push(b, pfn, order);
}

/* Largest order a block starting at pfn, at most n frames long, can have. */
static unsigned fit_order(uint64_t pfn, uint64_t n)
{
	unsigned align = pfn ? (unsigned)__builtin_ctzll(pfn) : BUDDY_MAX_ORDER;
	unsigned size = 63u - (unsigned)__builtin_clzll(n);
	unsigned order = align < size ? align : size;

	return order < BUDDY_MAX_ORDER ? order : BUDDY_MAX_ORDER;
}

/* Free a run of TAIL frames as the fewest naturally aligned blocks. */
static void run_insert(struct buddy *b, uint64_t pfn, uint64_t n)
{
	while (n) {
		unsigned order = fit_order(pfn, n);

		block_insert(b, pfn, order);
		pfn += order_frames(order);
		n -= order_frames(order);
	}
}

/*
 * Head of the block holding the non-RESERVED frame pfn. The head is pfn
 * rounded down to its order, so try each order from the smallest: every
 * candidate between the head and pfn is a TAIL of the same block.
 */
static bool block_of(const struct buddy *b, uint64_t pfn, uint64_t *head)
{
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++) {
		uint64_t h = pfn & ~(order_frames(o) - 1);
		const struct buddy_frame *f;

		if (h < b->base_pfn)
			return false;
		f = frame_of(b, h);
		if ((f->state == BUDDY_FRAME_FREE || f->state == BUDDY_FRAME_ALLOC) &&
		    h + order_frames(f->order) > pfn) {
			*head = h;
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- zone set-up */

size_t buddy_metadata_bytes(uint64_t npages)
{
	if (npages == 0 || npages > BUDDY_MAX_FRAMES)
		return 0;
	return (size_t)npages * sizeof(struct buddy_frame);
}

int buddy_init(struct buddy *b, void *meta, size_t meta_len,
	       uint64_t base_pfn, uint64_t npages)
{
	if (!b || !meta || npages == 0 || npages > BUDDY_MAX_FRAMES)
		return -EINVAL;
	if ((uintptr_t)meta % _Alignof(struct buddy_frame))
		return -EINVAL;
	if (base_pfn >= BUDDY_PFN_LIMIT || npages > BUDDY_PFN_LIMIT - base_pfn)
		return -ERANGE;
	if (meta_len < buddy_metadata_bytes(npages))
		return -ENOSPC;

	b->frames = meta;
	b->base_pfn = base_pfn;
	b->npages = npages;
	b->free_frames = 0;
	b->bad_frees = 0;
	for (unsigned o = 0; o < BUDDY_NR_ORDERS; o++) {
		b->nr_free[o] = 0;
		b->free_head[o] = BUDDY_NIL;
	}
	for (uint64_t i = 0; i < npages; i++) {
		struct buddy_frame *f = &b->frames[i];

		f->next = f->prev = BUDDY_NIL;
		f->order = 0;
		f->state = BUDDY_FRAME_RESERVED;
		f->unused = 0;
	}
	return 0;
}

int buddy_free_range(struct buddy *b, uint64_t pfn, uint64_t n)
{
	if (!run_in_zone(b, pfn, n))
		return -ERANGE;
	for (uint64_t p = pfn; p < pfn + n; p++)
		if (frame_of(b, p)->state != BUDDY_FRAME_RESERVED)
			return -EEXIST;
	for (uint64_t p = pfn; p < pfn + n; p++)
		set_tail(frame_of(b, p));
	run_insert(b, pfn, n);
	b->free_frames += n;
	return 0;
}

/* Does [pfn, end) hold an allocated frame? Skips whole blocks at a time. */
static bool range_has_alloc(const struct buddy *b, uint64_t pfn, uint64_t end)
{
	uint64_t head;

	while (pfn < end) {
		if (frame_of(b, pfn)->state == BUDDY_FRAME_RESERVED) {
			pfn++;
			continue;
		}
		if (!block_of(b, pfn, &head) ||
		    frame_of(b, head)->state == BUDDY_FRAME_ALLOC)
			return true;    /* an orphan TAIL counts as in use */
		pfn = head + order_frames(frame_of(b, head)->order);
	}
	return false;
}

/*
 * Reserve the part of the free block holding pfn that lies below end; put
 * the rest of the block back as smaller blocks. Returns the next pfn to look at.
 */
static uint64_t carve_free_block(struct buddy *b, uint64_t pfn, uint64_t end)
{
	uint64_t head = 0, lo, hi, block_end;
	unsigned order;

	(void)block_of(b, pfn, &head);  /* range_has_alloc() said it exists */
	order = frame_of(b, head)->order;
	block_end = head + order_frames(order);
	list_remove(b, head, order);
	set_tail(frame_of(b, head));

	lo = pfn;
	hi = end < block_end ? end : block_end;
	for (uint64_t p = lo; p < hi; p++)
		frame_of(b, p)->state = BUDDY_FRAME_RESERVED;
	b->free_frames -= hi - lo;
	run_insert(b, head, lo - head);
	run_insert(b, hi, block_end - hi);
	return hi;
}

int buddy_reserve_range(struct buddy *b, uint64_t pfn, uint64_t n)
{
	uint64_t end = pfn + n;

	if (!run_in_zone(b, pfn, n))
		return -ERANGE;
	if (range_has_alloc(b, pfn, end))
		return -EBUSY;
	while (pfn < end) {
		if (frame_of(b, pfn)->state == BUDDY_FRAME_RESERVED)
			pfn++;
		else
			pfn = carve_free_block(b, pfn, end);
	}
	return 0;
}

/* ---------------------------------------------------------------- alloc / free */

int64_t buddy_alloc(struct buddy *b, unsigned order)
{
	unsigned o = order;
	uint64_t pfn;

	if (order > BUDDY_MAX_ORDER)
		return -EINVAL;
	while (o <= BUDDY_MAX_ORDER && b->free_head[o] == BUDDY_NIL)
		o++;
	if (o > BUDDY_MAX_ORDER)
		return -ENOMEM;

	pfn = b->base_pfn + b->free_head[o];
	list_remove(b, pfn, o);
	/* Keep the lower half, free the upper half, until the size fits. */
	while (o > order) {
		o--;
		list_push(b, pfn + order_frames(o), o);
	}
	frame_of(b, pfn)->state = BUDDY_FRAME_ALLOC;
	frame_of(b, pfn)->order = (uint8_t)order;
	b->free_frames -= order_frames(order);
	return (int64_t)pfn;    /* < BUDDY_PFN_LIMIT, so positive */
}

int buddy_free_checked(struct buddy *b, uint64_t pfn, unsigned order)
{
	const struct buddy_frame *f;

	if (order > BUDDY_MAX_ORDER)
		return -EINVAL;
	if (!run_in_zone(b, pfn, order_frames(order)))
		return -ERANGE;
	f = frame_of(b, pfn);
	if (f->state != BUDDY_FRAME_ALLOC)
		return -ENOENT;
	if (f->order != order)
		return -EINVAL;
	b->free_frames += order_frames(order);
	block_insert(b, pfn, order);
	return 0;
}

void buddy_free(struct buddy *b, uint64_t pfn, unsigned order)
{
	if (buddy_free_checked(b, pfn, order) != 0)
		b->bad_frees++;
}

const char *buddy_strerror(int err)
{
	switch (err) {
	case 0:         return "ok";
	case -EINVAL:   return "wrong order";
	case -ERANGE:   return "frame outside the zone";
	case -ENOENT:   return "frame not allocated (double free?)";
	case -ENOMEM:   return "out of memory";
	case -EBUSY:    return "frame in use";
	case -EEXIST:   return "frame already free or in use";
	default:        return "unknown error";
	}
}

uint64_t buddy_free_frames(const struct buddy *b)
{
	return b->free_frames;
}

uint64_t buddy_free_blocks(const struct buddy *b, unsigned order)
{
	return order <= BUDDY_MAX_ORDER ? b->nr_free[order] : 0;
}

bool buddy_contains(const struct buddy *b, uint64_t pfn)
{
	return run_in_zone(b, pfn, 1);
}

/* ---------------------------------------------------------------- checker */

/* Each list: links in range, entries FREE heads of its order, prev links
 * mirror next links, length equals nr_free (bounded, so a cycle ends). */
static const char *check_lists(const struct buddy *b)
{
	for (unsigned o = 0; o < BUDDY_NR_ORDERS; o++) {
		uint32_t prev = BUDDY_NIL;
		uint64_t n = 0;

		for (uint32_t i = b->free_head[o]; i != BUDDY_NIL; i = b->frames[i].next) {
			if (i >= b->npages)
				return "free-list link outside the zone";
			if (++n > b->npages)
				return "free list has a cycle";
			if (b->frames[i].state != BUDDY_FRAME_FREE || b->frames[i].order != o)
				return "free-list entry is not a free block of that order";
			if (b->frames[i].prev != prev)
				return "free-list prev link broken";
			prev = i;
		}
		if (n != b->nr_free[o])
			return "free-block count differs from free-list length";
	}
	return NULL;
}

/* The block headed by frame index i: aligned, inside, made of TAILs, and
 * (if free) not next to a free buddy of its order. */
static const char *check_block(const struct buddy *b, uint64_t i)
{
	const struct buddy_frame *f = &b->frames[i];
	uint64_t pfn = b->base_pfn + i, size;

	if (f->order > BUDDY_MAX_ORDER)
		return "block order out of range";
	size = order_frames(f->order);
	if (pfn & (size - 1))
		return "block not aligned to its order";
	if (size > b->npages - i)
		return "block runs past the end of the zone";
	for (uint64_t j = 1; j < size; j++)
		if (b->frames[i + j].state != BUDDY_FRAME_TAIL)
			return "block overlaps another block or a reserved frame";
	if (f->state == BUDDY_FRAME_FREE && f->order < BUDDY_MAX_ORDER &&
	    is_free_head(b, pfn ^ size, f->order))
		return "two free buddies left unmerged";
	return NULL;
}

/* Tile the zone with RESERVED frames and blocks; count what is free. */
static const char *check_frames(const struct buddy *b)
{
	uint64_t heads[BUDDY_NR_ORDERS] = { 0 }, free = 0;
	const char *why;

	for (uint64_t i = 0; i < b->npages;) {
		const struct buddy_frame *f = &b->frames[i];

		if (f->state == BUDDY_FRAME_RESERVED) {
			i++;
			continue;
		}
		if (f->state == BUDDY_FRAME_TAIL)
			return "tail frame outside any block";
		if (f->state != BUDDY_FRAME_FREE && f->state != BUDDY_FRAME_ALLOC)
			return "bad frame state";
		if ((why = check_block(b, i)) != NULL)
			return why;
		if (f->state == BUDDY_FRAME_FREE) {
			heads[f->order]++;
			free += order_frames(f->order);
		}
		i += order_frames(f->order);
	}
	for (unsigned o = 0; o < BUDDY_NR_ORDERS; o++)
		if (heads[o] != b->nr_free[o])
			return "free blocks in the zone differ from free-list contents";
	if (free != b->free_frames)
		return "free-frame count is wrong";
	return NULL;
}

const char *buddy_check_reason(const struct buddy *b)
{
	const char *why;

	if (!b->frames || b->npages == 0 || b->npages > BUDDY_MAX_FRAMES)
		return "zone not initialised";
	if ((why = check_lists(b)) != NULL)
		return why;
	return check_frames(b);
}

int buddy_check(const struct buddy *b)
{
	return buddy_check_reason(b) ? -EINVAL : 0;
}
