/*
 * Host tests for the buddy frame allocator (mm/buddy.c): splitting, merging,
 * exhaustion, holes, unaligned zones, misuse, and a randomized run checked
 * against a per-frame model. buddy_check() runs after every step.
 */
#include "unit.h"

#include <stdint.h>

#include "../../mm/buddy.c"

#define MAX_TEST_FRAMES         8192u
#define MAX_RUN                 (1u << BUDDY_MAX_ORDER)  /* frames in a max block */

static struct buddy_frame meta[MAX_TEST_FRAMES];

#define CHECK(b) do { const char *w_ = buddy_check_reason(b); \
	if (w_) UFAIL("%s:%d: buddy_check: %s", __FILE__, __LINE__, w_); } while (0)

static int zone_init(struct buddy *b, uint64_t base, uint64_t npages)
{
	return buddy_init(b, meta, sizeof meta, base, npages);
}

/* ------------------------------------------------------------- block sets */

/* A set of free blocks, in pfn order. */
struct blockset {
	uint64_t n;
	uint64_t pfn[MAX_TEST_FRAMES];
	unsigned order[MAX_TEST_FRAMES];
	uint64_t per_order[BUDDY_NR_ORDERS];
};

static void set_add(struct blockset *s, uint64_t pfn, unsigned order)
{
	s->pfn[s->n] = pfn;
	s->order[s->n] = order;
	s->n++;
	s->per_order[order]++;
}

/* The free blocks the allocator holds, read from its frame metadata. */
static void set_from_buddy(const struct buddy *b, struct blockset *s)
{
	memset(s, 0, sizeof *s);
	for (uint64_t i = 0; i < b->npages; i++)
		if (b->frames[i].state == BUDDY_FRAME_FREE)
			set_add(s, b->base_pfn + i, b->frames[i].order);
}

/*
 * The free blocks a fully merged buddy system must hold for this set of free
 * frames: scanning upwards, the largest naturally aligned all-free run
 * (order <= BUDDY_MAX_ORDER) starting at each uncovered free frame.
 * free[i] says whether frame base + i is free. With no two free buddies left
 * unmerged, every all-free aligned run lies inside one free block, so these
 * are exactly the blocks a correct allocator holds: not just their count.
 */
static void set_canonical(const bool *free, uint64_t base, uint64_t npages,
			  struct blockset *s)
{
	memset(s, 0, sizeof *s);
	for (uint64_t i = 0; i < npages;) {
		unsigned o = 0;

		if (!free[i]) {
			i++;
			continue;
		}
		/* Grow while aligned and the next equal-sized half is free too. */
		while (o < BUDDY_MAX_ORDER && (base + i) % (2ull << o) == 0 &&
		       i + (2ull << o) <= npages) {
			uint64_t j;

			for (j = i + (1ull << o); j < i + (2ull << o) && free[j]; j++)
				;
			if (j != i + (2ull << o))
				break;
			o++;
		}
		set_add(s, base + i, o);
		i += 1ull << o;
	}
}

static bool set_equal(const struct blockset *a, const struct blockset *b)
{
	if (a->n != b->n)
		return false;
	for (uint64_t i = 0; i < a->n; i++)
		if (a->pfn[i] != b->pfn[i] || a->order[i] != b->order[i])
			return false;
	return true;
}

static struct blockset got, want;
static bool free_map[MAX_TEST_FRAMES];

/* Expected blocks after freeing [off, off + len) ranges of a zone. */
static void set_for_ranges(uint64_t base, uint64_t npages,
			   const uint64_t (*r)[2], unsigned nr, struct blockset *s)
{
	memset(free_map, 0, sizeof free_map);
	for (unsigned k = 0; k < nr; k++)
		for (uint64_t i = r[k][0]; i < r[k][0] + r[k][1]; i++)
			free_map[i] = true;
	set_canonical(free_map, base, npages, s);
}

/* ------------------------------------------------------------- set-up */

static const char *test_metadata_and_init(void)
{
	struct buddy b;

	UASSERT_EQ(buddy_metadata_bytes(1), BUDDY_META_BYTES_PER_FRAME);
	UASSERT_EQ(buddy_metadata_bytes(1000), 1000 * BUDDY_META_BYTES_PER_FRAME);
	UASSERT_EQ(buddy_metadata_bytes(0), 0);
	UASSERT_EQ(buddy_metadata_bytes(BUDDY_MAX_FRAMES + 1), 0);

	UASSERT_EQ(buddy_init(&b, meta, 0, 0, 1), -ENOSPC);
	UASSERT_EQ(buddy_init(&b, meta, buddy_metadata_bytes(100) - 1, 0, 100), -ENOSPC);
	UASSERT_EQ(buddy_init(&b, (char *)meta + 1, sizeof meta - 1, 0, 100), -EINVAL);
	UASSERT_EQ(buddy_init(&b, NULL, sizeof meta, 0, 100), -EINVAL);
	UASSERT_EQ(buddy_init(&b, meta, sizeof meta, 0, 0), -EINVAL);
	UASSERT_EQ(buddy_init(&b, meta, sizeof meta, 0, BUDDY_MAX_FRAMES + 1), -EINVAL);
	UASSERT_EQ(buddy_init(&b, meta, sizeof meta, BUDDY_PFN_LIMIT - 10, 11), -ERANGE);
	UASSERT_EQ(buddy_init(&b, meta, sizeof meta, BUDDY_PFN_LIMIT, 1), -ERANGE);

	/* Exactly enough metadata works, and everything starts reserved. */
	UASSERT_EQ(buddy_init(&b, meta, buddy_metadata_bytes(100), 0x80, 100), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_frames(&b), 0);
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++) {
		UASSERT_EQ(buddy_free_blocks(&b, o), 0);
		UASSERT_EQ(buddy_alloc(&b, o), -ENOMEM);
	}
	UASSERT_EQ(buddy_alloc(&b, BUDDY_MAX_ORDER + 1), -EINVAL);
	UASSERT(buddy_contains(&b, 0x80) && buddy_contains(&b, 0x80 + 99));
	UASSERT(!buddy_contains(&b, 0x7f) && !buddy_contains(&b, 0x80 + 100));
	CHECK(&b);
	return NULL;
}

/* ------------------------------------------------------------- split / merge */

static const char *test_split(void)
{
	struct buddy b;

	UASSERT_EQ(zone_init(&b, 0, MAX_RUN), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, MAX_RUN), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 1);

	/* One frame splits the max block into one block of each lower order. */
	UASSERT_EQ(buddy_alloc(&b, 0), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN - 1);
	for (unsigned o = 0; o < BUDDY_MAX_ORDER; o++)
		UASSERT_EQ(buddy_free_blocks(&b, o), 1);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 0);

	/* The next ones come from the smallest blocks, not new splits. */
	UASSERT_EQ(buddy_alloc(&b, 0), 1);
	UASSERT_EQ(buddy_alloc(&b, 1), 2);
	UASSERT_EQ(buddy_alloc(&b, 3), 8);
	CHECK(&b);
	UASSERT_EQ(buddy_free_blocks(&b, 0), 0);
	UASSERT_EQ(buddy_free_blocks(&b, 1), 0);
	UASSERT_EQ(buddy_free_blocks(&b, 2), 1);        /* [4, 8) */
	UASSERT_EQ(buddy_free_blocks(&b, 3), 0);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN - 12);

	/* Freeing in a different order merges all the way back. */
	UASSERT_EQ(buddy_free_checked(&b, 2, 1), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_checked(&b, 0, 0), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_checked(&b, 8, 3), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 0);
	UASSERT_EQ(buddy_free_checked(&b, 1, 0), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 1);
	for (unsigned o = 0; o < BUDDY_MAX_ORDER; o++)
		UASSERT_EQ(buddy_free_blocks(&b, o), 0);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN);
	return NULL;
}

static const char *test_coalesce(void)
{
	enum { NPAGES = 4 * MAX_RUN };
	static bool seen[NPAGES];
	struct buddy b;

	UASSERT_EQ(zone_init(&b, 0, NPAGES), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, NPAGES), 0);
	for (uint64_t i = 0; i < NPAGES; i++) {
		int64_t pfn = buddy_alloc(&b, 0);

		UASSERT(pfn >= 0 && pfn < NPAGES);
		UASSERT(!seen[pfn]);
		seen[pfn] = true;
	}
	CHECK(&b);
	UASSERT_EQ(buddy_free_frames(&b), 0);

	/* Even frames first: no buddy is free, nothing may merge. */
	for (uint64_t p = 0; p < NPAGES; p += 2) {
		UASSERT_EQ(buddy_free_checked(&b, p, 0), 0);
		CHECK(&b);
	}
	UASSERT_EQ(buddy_free_blocks(&b, 0), NPAGES / 2);
	/* Odd frames in a scattered order (3 is odd, so this is a permutation). */
	for (uint64_t k = 0; k < NPAGES / 2; k++) {
		uint64_t p = 2 * ((k * 3) % (NPAGES / 2)) + 1;

		UASSERT_EQ(buddy_free_checked(&b, p, 0), 0);
		CHECK(&b);
	}
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 4);
	for (unsigned o = 0; o < BUDDY_MAX_ORDER; o++)
		UASSERT_EQ(buddy_free_blocks(&b, o), 0);
	UASSERT_EQ(buddy_free_frames(&b), NPAGES);
	return NULL;
}

/* Adjacent ranges added separately merge across the seam. */
static const char *test_free_range_merges(void)
{
	struct buddy b;

	UASSERT_EQ(zone_init(&b, 0, MAX_RUN), 0);
	UASSERT_EQ(buddy_free_range(&b, 700, 324), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_range(&b, 1, 699), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, 1), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 1);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN);
	return NULL;
}

/* ------------------------------------------------------------- exhaustion */

static const char *test_exhaustion(void)
{
	enum { NPAGES = 1000 };
	static int64_t pfns[NPAGES];
	static unsigned orders[NPAGES];
	static bool used[NPAGES];
	struct buddy b;
	unsigned n = 0;
	uint64_t total = 0;

	UASSERT_EQ(zone_init(&b, 0, NPAGES), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, NPAGES), 0);
	set_from_buddy(&b, &want);

	/* Mixed orders until even order 0 fails. */
	for (unsigned step = 0;; step++) {
		unsigned order = (step * 7) % 5;
		int64_t pfn = buddy_alloc(&b, order);

		if (pfn == -ENOMEM) {
			pfn = buddy_alloc(&b, 0);
			order = 0;
			if (pfn == -ENOMEM)
				break;
		}
		UASSERT(pfn >= 0 && (uint64_t)pfn + (1u << order) <= NPAGES);
		for (uint64_t i = 0; i < (1u << order); i++) {
			UASSERT(!used[pfn + i]);
			used[pfn + i] = true;
		}
		pfns[n] = pfn;
		orders[n++] = order;
		total += 1u << order;
		CHECK(&b);
	}
	UASSERT_EQ(total, NPAGES);
	UASSERT_EQ(buddy_free_frames(&b), 0);
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
		UASSERT_EQ(buddy_alloc(&b, o), -ENOMEM);
	CHECK(&b);

	/* One block back: it is handed out again, and nothing bigger is. */
	UASSERT_EQ(buddy_free_checked(&b, pfns[n - 1], orders[n - 1]), 0);
	UASSERT_EQ(buddy_free_frames(&b), 1u << orders[n - 1]);
	UASSERT_EQ(buddy_alloc(&b, orders[n - 1] + 1), -ENOMEM);
	UASSERT_EQ(buddy_alloc(&b, 0), pfns[n - 1]);
	UASSERT_EQ(buddy_free_checked(&b, pfns[n - 1], 0), 0);
	UASSERT_EQ(buddy_alloc(&b, orders[n - 1]), pfns[n - 1]);
	UASSERT_EQ(buddy_free_frames(&b), 0);
	CHECK(&b);

	for (unsigned i = 0; i < n; i++) {
		UASSERT_EQ(buddy_free_checked(&b, pfns[i], orders[i]), 0);
		CHECK(&b);
	}
	UASSERT_EQ(buddy_free_frames(&b), NPAGES);
	set_from_buddy(&b, &got);
	UASSERT(set_equal(&got, &want));
	return NULL;
}

/* Free frames that are not contiguous cannot satisfy a large order. */
static const char *test_fragmented_large_order(void)
{
	struct buddy b;

	UASSERT_EQ(zone_init(&b, 0, MAX_RUN), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, MAX_RUN), 0);
	UASSERT_EQ(buddy_alloc(&b, 0), 0);
	UASSERT_EQ(buddy_alloc(&b, BUDDY_MAX_ORDER), -ENOMEM);
	UASSERT_EQ(buddy_alloc(&b, BUDDY_MAX_ORDER - 1), MAX_RUN / 2);
	UASSERT_EQ(buddy_alloc(&b, BUDDY_MAX_ORDER - 1), -ENOMEM);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN / 2 - 1);
	CHECK(&b);
	return NULL;
}

/* ------------------------------------------------------------- holes and zones */

static const char *test_reserved_never_handed_out(void)
{
	enum { BASE = 0x100, NPAGES = 4 * MAX_RUN + 333 };
	static const uint64_t usable[][2] = {   /* offset, length */
		{ 1, 99 }, { 160, 1 }, { 162, 900 }, { 1100, 1024 + 512 },
		{ 2700, 1000 }, { 3800, NPAGES - 3800 - 7 },
	};
	static bool in_use[NPAGES];
	uint64_t total = 0, got_frames = 0;
	struct buddy b;

	UASSERT_EQ(zone_init(&b, BASE, NPAGES), 0);
	for (unsigned k = 0; k < sizeof usable / sizeof usable[0]; k++) {
		UASSERT_EQ(buddy_free_range(&b, BASE + usable[k][0], usable[k][1]), 0);
		total += usable[k][1];
		CHECK(&b);
	}
	UASSERT_EQ(buddy_free_frames(&b), total);
	set_for_ranges(BASE, NPAGES, usable, sizeof usable / sizeof usable[0], &want);
	set_from_buddy(&b, &got);
	UASSERT(set_equal(&got, &want));

	/* Take everything, largest orders first, then check every frame. */
	for (int o = BUDDY_MAX_ORDER; o >= 0; o--) {
		int64_t pfn;

		while ((pfn = buddy_alloc(&b, (unsigned)o)) >= 0) {
			UASSERT_EQ(pfn % (1 << o), 0);
			for (uint64_t p = (uint64_t)pfn; p < (uint64_t)pfn + (1u << o); p++) {
				UASSERT(p >= BASE && p < BASE + NPAGES);
				UASSERT(free_map[p - BASE]);    /* inside a usable range */
				UASSERT(!in_use[p - BASE]);
				in_use[p - BASE] = true;
			}
			got_frames += 1u << o;
		}
		UASSERT_EQ(pfn, -ENOMEM);
		CHECK(&b);
	}
	UASSERT_EQ(got_frames, total);
	UASSERT_EQ(buddy_free_frames(&b), 0);
	return NULL;
}

/* Zone base and size not multiples of the max block: blocks stay aligned in
 * absolute pfn and inside the zone, so fewer large blocks exist. */
static const char *test_unaligned_zone(void)
{
	static const struct { uint64_t base, npages; } zones[] = {
		{ 1, MAX_RUN }, { 0x3, 2 * MAX_RUN + 5 }, { 0x12345, 3001 },
		{ MAX_RUN - 1, 2 }, { 0x7ff, 1 }, { 0x400, MAX_RUN - 1 },
	};

	for (unsigned z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		uint64_t base = zones[z].base, n = zones[z].npages, total = 0;
		const uint64_t all[][2] = { { 0, n } };
		struct buddy b;

		UASSERT_EQ(zone_init(&b, base, n), 0);
		UASSERT_EQ(buddy_free_range(&b, base, n), 0);
		CHECK(&b);
		set_for_ranges(base, n, all, 1, &want);
		set_from_buddy(&b, &got);
		if (!set_equal(&got, &want))
			UFAIL("zone %#llx+%llu: free blocks are not the maximal aligned ones",
			      (unsigned long long)base, (unsigned long long)n);
		for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
			UASSERT_EQ(buddy_free_blocks(&b, o), want.per_order[o]);
		if (base == 1)  /* 1024 frames, but no 1024-aligned run of them */
			UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 0);

		for (int o = BUDDY_MAX_ORDER; o >= 0; o--) {
			int64_t pfn;

			while ((pfn = buddy_alloc(&b, (unsigned)o)) >= 0) {
				UASSERT_EQ((uint64_t)pfn & ((1u << o) - 1), 0);
				UASSERT((uint64_t)pfn >= base &&
					(uint64_t)pfn + (1u << o) <= base + n);
				total += 1u << o;
			}
		}
		UASSERT_EQ(total, n);
		CHECK(&b);
	}
	return NULL;
}

static const char *test_reserve_range(void)
{
	enum { BASE = 0x2000, NPAGES = 2 * MAX_RUN };
	static const uint64_t left[][2] = { { 0, 300 }, { 517, NPAGES - 517 } };
	static struct blockset start;
	struct buddy b;
	int64_t a;

	UASSERT_EQ(zone_init(&b, BASE, NPAGES), 0);
	UASSERT_EQ(buddy_free_range(&b, BASE, NPAGES), 0);
	set_from_buddy(&b, &start);

	/* An unaligned range out of the middle of a max block. */
	UASSERT_EQ(buddy_reserve_range(&b, BASE + 300, 217), 0);
	CHECK(&b);
	UASSERT_EQ(buddy_free_frames(&b), NPAGES - 217);
	set_for_ranges(BASE, NPAGES, left, 2, &want);
	set_from_buddy(&b, &got);
	UASSERT(set_equal(&got, &want));

	/* Reserving again is harmless; touching an allocated frame is refused. */
	UASSERT_EQ(buddy_reserve_range(&b, BASE + 310, 20), 0);
	a = buddy_alloc(&b, 0);
	UASSERT(a >= BASE && (a < BASE + 300 || a >= BASE + 517));
	UASSERT_EQ(buddy_reserve_range(&b, (uint64_t)a, 1), -EBUSY);
	UASSERT_EQ(buddy_reserve_range(&b, BASE, NPAGES), -EBUSY);
	CHECK(&b);
	UASSERT_EQ(buddy_free_frames(&b), NPAGES - 217 - 1);
	UASSERT_EQ(buddy_reserve_range(&b, BASE + NPAGES - 1, 2), -ERANGE);
	UASSERT_EQ(buddy_reserve_range(&b, BASE - 1, 1), -ERANGE);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 0), 0);

	/* Reserved frames are never handed out; a reserved frame cannot be freed. */
	UASSERT_EQ(buddy_free_checked(&b, BASE + 400, 0), -ENOENT);
	for (int64_t p; (p = buddy_alloc(&b, 0)) >= 0;)
		UASSERT(p < BASE + 300 || p >= BASE + 517);
	UASSERT_EQ(buddy_free_frames(&b), 0);
	for (uint64_t p = BASE; p < BASE + NPAGES; p++)
		if (p < BASE + 300 || p >= BASE + 517)
			UASSERT_EQ(buddy_free_checked(&b, p, 0), 0);
	CHECK(&b);

	/* Giving the range back restores the start state. */
	UASSERT_EQ(buddy_free_range(&b, BASE + 300, 217), 0);
	CHECK(&b);
	set_from_buddy(&b, &got);
	UASSERT(set_equal(&got, &start));
	UASSERT_EQ(buddy_free_frames(&b), NPAGES);
	return NULL;
}

static const char *test_free_range_errors(void)
{
	struct buddy b;

	UASSERT_EQ(zone_init(&b, 100, 50), 0);
	UASSERT_EQ(buddy_free_range(&b, 110, 10), 0);
	UASSERT_EQ(buddy_free_range(&b, 119, 2), -EEXIST);     /* overlaps free */
	UASSERT_EQ(buddy_free_range(&b, 99, 2), -ERANGE);
	UASSERT_EQ(buddy_free_range(&b, 140, 11), -ERANGE);
	UASSERT_EQ(buddy_free_range(&b, 120, UINT64_MAX), -ERANGE);
	UASSERT_EQ(buddy_free_range(&b, UINT64_MAX, 2), -ERANGE);
	UASSERT_EQ(buddy_free_frames(&b), 10);
	CHECK(&b);
	UASSERT_EQ(buddy_alloc(&b, 0), 110);
	UASSERT_EQ(buddy_free_range(&b, 110, 1), -EEXIST);     /* allocated */
	UASSERT_EQ(buddy_free_range(&b, 150, 0), 0);           /* empty, at the end */
	UASSERT_EQ(buddy_free_frames(&b), 9);
	CHECK(&b);
	return NULL;
}

/* ------------------------------------------------------------- misuse */

static const char *test_misuse_double_free(void)
{
	struct buddy b;
	int64_t a, c;

	UASSERT_EQ(zone_init(&b, 0, MAX_RUN), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, MAX_RUN), 0);
	a = buddy_alloc(&b, 2);
	c = buddy_alloc(&b, 2);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 2), 0);
	/* a is now a free head of its own (its buddy c is allocated). */
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 2), -ENOENT);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN - 4);
	CHECK(&b);
	/* After c merges with it, a is inside a bigger free block. */
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)c, 2), 0);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 2), -ENOENT);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)c, 2), -ENOENT);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN);
	UASSERT_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 1);
	CHECK(&b);

	/* The void variant counts misuse and changes nothing. */
	buddy_free(&b, (uint64_t)a, 2);
	UASSERT_EQ(b.bad_frees, 1);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN);
	CHECK(&b);
	UASSERT_STR(buddy_strerror(-ENOENT), "frame not allocated (double free?)");
	return NULL;
}

static const char *test_misuse_wrong_order(void)
{
	struct buddy b;
	int64_t a;

	UASSERT_EQ(zone_init(&b, 0, MAX_RUN), 0);
	UASSERT_EQ(buddy_free_range(&b, 0, MAX_RUN), 0);
	a = buddy_alloc(&b, 2);
	UASSERT(a >= 0);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 1), -EINVAL);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 3), -EINVAL);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 0), -EINVAL);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, BUDDY_MAX_ORDER + 1), -EINVAL);
	/* A frame inside the block is not the block. */
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a + 1, 0), -ENOENT);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a + 2, 1), -ENOENT);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN - 4);
	CHECK(&b);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 2), 0);
	UASSERT_EQ(buddy_free_frames(&b), MAX_RUN);
	CHECK(&b);
	return NULL;
}

static const char *test_misuse_out_of_range(void)
{
	enum { BASE = 0x500, NPAGES = 64 };
	struct buddy b;
	int64_t a;

	UASSERT_EQ(zone_init(&b, BASE, NPAGES), 0);
	UASSERT_EQ(buddy_free_range(&b, BASE, NPAGES), 0);
	a = buddy_alloc(&b, 0);
	UASSERT_EQ(buddy_free_checked(&b, BASE - 1, 0), -ERANGE);
	UASSERT_EQ(buddy_free_checked(&b, BASE + NPAGES, 0), -ERANGE);
	UASSERT_EQ(buddy_free_checked(&b, 0, 0), -ERANGE);
	UASSERT_EQ(buddy_free_checked(&b, UINT64_MAX, 0), -ERANGE);
	UASSERT_EQ(buddy_free_checked(&b, BASE + NPAGES - 4, 3), -ERANGE);
	buddy_free(&b, BASE + NPAGES, 0);
	UASSERT_EQ(b.bad_frees, 1);
	UASSERT_EQ(buddy_free_frames(&b), NPAGES - 1);
	CHECK(&b);
	UASSERT_EQ(buddy_free_checked(&b, (uint64_t)a, 0), 0);
	CHECK(&b);
	return NULL;
}

/* The checker itself must catch broken states, or the other tests prove little. */
static const char *test_check_detects_corruption(void)
{
	struct buddy b;
	uint32_t head;

	for (int kind = 0; kind < 7; kind++) {
		UASSERT_EQ(zone_init(&b, 0, 64), 0);
		UASSERT_EQ(buddy_free_range(&b, 0, 64), 0);
		UASSERT_EQ(buddy_alloc(&b, 0), 0);      /* free blocks of orders 0..5 */
		CHECK(&b);
		head = b.free_head[2];
		switch (kind) {
		case 0: b.free_frames++; break;
		case 1: b.nr_free[3]++; break;
		case 2: b.frames[head].order = 3; break;
		case 3: b.frames[b.free_head[0]].prev = 7; break;
		case 4: b.frames[63].state = BUDDY_FRAME_RESERVED; break;
		case 5: b.frames[0].state = BUDDY_FRAME_TAIL; break;
		case 6: /* split [32, 64) without merging back: two free buddies */
			list_remove(&b, 32, 5);
			list_push(&b, 32, 4);
			list_push(&b, 48, 4);
			break;
		}
		if (buddy_check(&b) == 0)
			UFAIL("corruption %d not detected", kind);
	}
	return NULL;
}

/* ------------------------------------------------------------- randomized */

#define OWN_FREE        0
#define OWN_HOLE        (-1)    /* never added */
#define OWN_LATE        (-2)    /* taken back by buddy_reserve_range() */

struct live { uint64_t pfn; unsigned order; };

static struct rnd_state {
	struct buddy b;
	uint64_t base, npages, rng;
	int32_t owner[MAX_TEST_FRAMES];
	struct live live[MAX_TEST_FRAMES];
	unsigned nlive;
	int32_t next_id;
	struct live last_freed;
	bool have_last_freed;
} R;

static uint64_t rnd(void)     /* xorshift64 */
{
	R.rng ^= R.rng << 13;
	R.rng ^= R.rng >> 7;
	R.rng ^= R.rng << 17;
	return R.rng;
}

static uint64_t model_free(void)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < R.npages; i++)
		n += R.owner[i] == OWN_FREE;
	return n;
}

/* Does the model hold a naturally aligned all-free run of 2^order frames? */
static bool model_has_run(unsigned order)
{
	uint64_t size = 1ull << order;
	uint64_t first = (R.base + size - 1) & ~(size - 1);

	for (uint64_t p = first; p + size <= R.base + R.npages; p += size) {
		uint64_t i = p - R.base, j;

		for (j = 0; j < size && R.owner[i + j] == OWN_FREE; j++)
			;
		if (j == size)
			return true;
	}
	return false;
}

static unsigned random_order(void)
{
	uint64_t r = rnd();

	if (r & 1)
		return (unsigned)((r >> 1) % BUDDY_NR_ORDERS);
	/* Geometric: mostly small orders, as real kernels ask. */
	return (unsigned)__builtin_ctzll((r >> 1) | (1ull << BUDDY_MAX_ORDER));
}

static const char *rnd_alloc(void)
{
	unsigned order = random_order();
	int64_t pfn = buddy_alloc(&R.b, order);
	uint64_t i;

	if (pfn == -ENOMEM) {
		if (model_has_run(order))
			UFAIL("-ENOMEM for order %u with a free aligned run", order);
		return NULL;
	}
	if (pfn < 0)
		UFAIL("alloc order %u: %lld", order, (long long)pfn);
	if ((uint64_t)pfn & ((1ull << order) - 1))
		UFAIL("pfn %#llx not aligned to order %u", (unsigned long long)pfn, order);
	if (!run_in_zone(&R.b, (uint64_t)pfn, 1ull << order))
		UFAIL("pfn %#llx order %u outside zone", (unsigned long long)pfn, order);
	i = (uint64_t)pfn - R.base;
	for (uint64_t j = 0; j < (1ull << order); j++) {
		if (R.owner[i + j] != OWN_FREE)
			UFAIL("frame %#llx handed out but owner %d",
			      (unsigned long long)(pfn + (int64_t)j), R.owner[i + j]);
		R.owner[i + j] = R.next_id;
	}
	R.next_id++;
	R.live[R.nlive++] = (struct live){ (uint64_t)pfn, order };
	return NULL;
}

static const char *rnd_free(void)
{
	unsigned k;
	struct live l;
	int err;

	if (R.nlive == 0)
		return NULL;
	k = (unsigned)(rnd() % R.nlive);
	l = R.live[k];
	R.live[k] = R.live[--R.nlive];
	if ((err = buddy_free_checked(&R.b, l.pfn, l.order)) != 0)
		UFAIL("free %#llx order %u: %d", (unsigned long long)l.pfn, l.order, err);
	for (uint64_t j = 0; j < (1ull << l.order); j++)
		R.owner[l.pfn - R.base + j] = OWN_FREE;
	R.last_freed = l;
	R.have_last_freed = true;
	return NULL;
}

/* Double free, wrong order, or a hole: must fail and change nothing. */
static const char *rnd_misuse(void)
{
	uint64_t before = buddy_free_frames(&R.b);
	uint64_t pfn = R.base + rnd() % R.npages;
	unsigned order = 0;
	int err;

	if (R.have_last_freed && (rnd() & 1)) {
		pfn = R.last_freed.pfn;
		order = R.last_freed.order;
		if (R.owner[pfn - R.base] > 0)
			return NULL;    /* handed out again since: a valid free */
	} else if (R.nlive && (rnd() & 1)) {
		struct live l = R.live[rnd() % R.nlive];

		pfn = l.pfn;
		order = (l.order + 1 + (unsigned)(rnd() % BUDDY_MAX_ORDER)) % BUDDY_NR_ORDERS;
	} else if (R.owner[pfn - R.base] > 0) {
		return NULL;    /* a random live frame might be a real block head */
	}
	err = buddy_free_checked(&R.b, pfn, order);
	if (err == 0)
		UFAIL("misuse free of %#llx order %u accepted", (unsigned long long)pfn, order);
	if (buddy_free_frames(&R.b) != before)
		UFAIL("misuse free changed the free count");
	return NULL;
}

static const char *rnd_reserve(void)
{
	uint64_t n = 1 + rnd() % 40;
	uint64_t i = rnd() % (R.npages - n + 1);
	bool busy = false;
	int err, expect;

	for (uint64_t j = i; j < i + n; j++)
		busy |= R.owner[j] > 0;
	expect = busy ? -EBUSY : 0;
	err = buddy_reserve_range(&R.b, R.base + i, n);
	if (err != expect)
		UFAIL("reserve [%#llx, +%llu): %d, expected %d",
		      (unsigned long long)(R.base + i), (unsigned long long)n, err, expect);
	if (!busy)
		for (uint64_t j = i; j < i + n; j++)
			if (R.owner[j] == OWN_FREE)
				R.owner[j] = OWN_LATE;
	return NULL;
}

/* Give back a run of late-reserved frames; a run reaching past it must fail. */
static const char *rnd_unreserve(void)
{
	uint64_t i = rnd() % R.npages, j;
	int err;

	while (i < R.npages && R.owner[i] != OWN_LATE)
		i++;
	if (i == R.npages)
		return NULL;
	for (j = i; j < R.npages && R.owner[j] == OWN_LATE; j++)
		;
	if (j < R.npages && R.owner[j] != OWN_HOLE &&
	    buddy_free_range(&R.b, R.base + i, j - i + 1) != -EEXIST)
		UFAIL("free_range over a non-reserved frame accepted");
	if ((err = buddy_free_range(&R.b, R.base + i, j - i)) != 0)
		UFAIL("free_range of a reserved run: %d", err);
	for (; i < j; i++)
		R.owner[i] = OWN_FREE;
	return NULL;
}

/* After every step: invariants, exact count, and the exact free blocks. */
static const char *rnd_verify(void)
{
	const char *why = buddy_check_reason(&R.b);

	if (why)
		return why;
	if (buddy_free_frames(&R.b) != model_free())
		UFAIL("free count %llu, model %llu",
		      (unsigned long long)buddy_free_frames(&R.b),
		      (unsigned long long)model_free());
	for (uint64_t i = 0; i < R.npages; i++)
		free_map[i] = R.owner[i] == OWN_FREE;
	set_canonical(free_map, R.base, R.npages, &want);
	set_from_buddy(&R.b, &got);
	if (!set_equal(&got, &want))
		UFAIL("free blocks differ from the fully merged set");
	return NULL;
}

/*
 * Phases of 600 steps alternate between mostly allocating (runs the zone
 * dry, so -ENOMEM paths are hit at every order) and mostly freeing (frees
 * back up to the max order).
 */
static const char *rnd_step(unsigned step)
{
	uint64_t r = rnd() % 100;
	uint64_t allocs = (step / 600) % 2 ? 25 : 75;

	if (r < allocs)
		return rnd_alloc();
	if (r < 90)
		return rnd_free();
	if (r < 95)
		return rnd_misuse();
	if (r < 98)
		return rnd_reserve();
	return rnd_unreserve();
}

/* Fail with the seed and step in front of a reason that may live in unit_msg
 * itself (snprintf must not read the buffer it writes). */
static const char *rnd_fail(uint64_t seed, const char *where, unsigned step,
			    const char *why)
{
	char inner[200];

	snprintf(inner, sizeof inner, "%.199s", why);
	UFAIL("seed %#llx %s %u: %.199s", (unsigned long long)seed, where, step, inner);
}

static const char *rnd_run(uint64_t seed, unsigned steps)
{
	static const uint64_t usable[][2] = {  /* holes, and 3 max blocks */
		{ 0, 700 }, { 713, 1337 }, { 2051, 3800 }, { 5900, 97 },
	};
	static struct blockset start;
	const char *why;

	memset(&R, 0, sizeof R);
	R.rng = seed;
	R.base = 0x2345;
	R.npages = 6000;
	R.next_id = 1;
	if (zone_init(&R.b, R.base, R.npages) != 0)
		return "init failed";
	for (uint64_t i = 0; i < R.npages; i++)
		R.owner[i] = OWN_HOLE;
	for (unsigned k = 0; k < sizeof usable / sizeof usable[0]; k++) {
		if (buddy_free_range(&R.b, R.base + usable[k][0], usable[k][1]) != 0)
			return "free_range failed";
		for (uint64_t i = usable[k][0]; i < usable[k][0] + usable[k][1]; i++)
			R.owner[i] = OWN_FREE;
	}
	set_from_buddy(&R.b, &start);

	for (unsigned s = 0; s < steps; s++) {
		if ((why = rnd_step(s)) != NULL || (why = rnd_verify()) != NULL)
			return rnd_fail(seed, "step", s, why);
	}

	/* Free everything; the zone must be exactly as it started. */
	while (R.nlive)
		if ((why = rnd_free()) != NULL || (why = rnd_verify()) != NULL)
			return rnd_fail(seed, "teardown, live", R.nlive, why);
	for (uint64_t i = 0; i < R.npages; i++) {
		if (R.owner[i] != OWN_LATE)
			continue;
		if (buddy_free_range(&R.b, R.base + i, 1) != 0)
			UFAIL("seed %#llx: cannot give back reserved frame",
			      (unsigned long long)seed);
		R.owner[i] = OWN_FREE;
	}
	if ((why = rnd_verify()) != NULL)
		return rnd_fail(seed, "end, step", steps, why);
	set_from_buddy(&R.b, &got);
	if (!set_equal(&got, &start))
		UFAIL("seed %#llx: free blocks differ from the start state",
		      (unsigned long long)seed);
	if (buddy_free_frames(&R.b) != 700 + 1337 + 3800 + 97)
		UFAIL("seed %#llx: free count not restored", (unsigned long long)seed);
	return NULL;
}

static const char *test_random_against_model(void)
{
	static const uint64_t seeds[] = {
		0x1, 0x9E3779B97F4A7C15ull, 0xDEADBEEFCAFEF00Dull, 0x0123456789ABCDEFull,
	};
	const char *why;

	for (unsigned k = 0; k < sizeof seeds / sizeof seeds[0]; k++)
		if ((why = rnd_run(seeds[k], 5000)) != NULL)
			return why;
	return NULL;
}

UNIT_MAIN("buddy",
	UTEST(test_metadata_and_init),
	UTEST(test_split),
	UTEST(test_coalesce),
	UTEST(test_free_range_merges),
	UTEST(test_exhaustion),
	UTEST(test_fragmented_large_order),
	UTEST(test_reserved_never_handed_out),
	UTEST(test_unaligned_zone),
	UTEST(test_reserve_range),
	UTEST(test_free_range_errors),
	UTEST(test_misuse_double_free),
	UTEST(test_misuse_wrong_order),
	UTEST(test_misuse_out_of_range),
	UTEST(test_check_detects_corruption),
	UTEST(test_random_against_model))
