/*
 * Host tests for the user malloc core (user/lib/umalloc.c) against a fake
 * sbrk (an arena with a movable break and a limit) and a fake mmap that
 * checks every unmap. After each step the heap's invariants are checked
 * with umalloc_check().
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "../../user/lib/umalloc.c"

#define ARENA_SIZE      (32u << 20)
#define MAX_MAPS        64
#define STRESS_OPS      20000
#define STRESS_SLOTS    256

/* ---- fakes for the hooks */

static unsigned char *arena;
static size_t arena_base;               /* where the break starts (offset) */
static size_t brk_off, brk_limit;
static int map_count, map_fail;
static struct { void *p; size_t len; } maps[MAX_MAPS];
static const char *hook_error;          /* a hook saw a wrong call */
static jmp_buf corrupt_jump;
static bool corrupt_armed;
static const char *corrupt_why;

void *um_sys_sbrk(intptr_t inc)
{
	size_t old = brk_off;

	if (inc < 0 ? (size_t)-inc > brk_off - arena_base : (size_t)inc > brk_limit - brk_off)
		return NULL;
	brk_off += (size_t)inc;
	return arena + old;
}

void *um_sys_map(size_t len)
{
	void *p;

	if (map_fail || map_count == MAX_MAPS)
		return NULL;
	if (len % UMALLOC_PAGE)
		hook_error = "map of a length that is not whole pages";
	p = aligned_alloc(UMALLOC_PAGE, len);
	memset(p, 0, len);
	for (int i = 0; i < MAX_MAPS; i++)
		if (!maps[i].p) {
			maps[i].p = p;
			maps[i].len = len;
			break;
		}
	map_count++;
	return p;
}

void um_sys_unmap(void *p, size_t len)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].p == p) {
			if (maps[i].len != len)
				hook_error = "unmap length differs from the map";
			maps[i].p = NULL;
			map_count--;
			free(p);
			return;
		}
	hook_error = "unmap of something never mapped";
}

void um_sys_corrupt(const char *why, const void *p)
{
	(void)p;
	corrupt_why = why;
	if (corrupt_armed)
		longjmp(corrupt_jump, 1);
	fprintf(stderr, "unexpected heap corruption report: %s\n", why);
	abort();
}

/* Fresh allocator and arena; the break starts at base_off (maybe unaligned). */
static void reset(size_t base_off, size_t limit)
{
	if (!arena)
		arena = aligned_alloc(UMALLOC_PAGE, ARENA_SIZE);
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].p) {
			free(maps[i].p);
			maps[i].p = NULL;
		}
	memset(um_bins, 0, sizeof um_bins);
	um_regions = NULL;
	um_mapped_bytes = 0;
	arena_base = brk_off = base_off;
	brk_limit = limit;
	map_count = map_fail = 0;
	hook_error = NULL;
	corrupt_armed = false;
}

#define CHECK_HEAP() do { const char *w_ = umalloc_check(); \
	if (w_) UFAIL("%s:%d: heap: %s", __FILE__, __LINE__, w_); \
	if (hook_error) UFAIL("%s:%d: %s", __FILE__, __LINE__, hook_error); } while (0)

static void fill(void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(i * 13 + seed);
}

static bool filled(const void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(i * 13 + seed))
			return false;
	return true;
}

static bool heap_all_free(void)
{
	struct umalloc_stats st;

	umalloc_stats(&st);
	return st.free_blocks == st.regions && st.mapped_bytes == 0;
}

/* ---- tests */

static const char *test_alignment_and_contents(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 100, 1000, 4096, 65536 };
	void *p[sizeof sizes / sizeof sizes[0]];

	reset(0, ARENA_SIZE);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		p[i] = umalloc(sizes[i]);
		UASSERT(p[i] != NULL);
		UASSERT_EQ((uintptr_t)p[i] % UMALLOC_ALIGN, 0);
		fill(p[i], sizes[i], (unsigned)i);
		CHECK_HEAP();
	}
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		UASSERT(filled(p[i], sizes[i], (unsigned)i));
		for (size_t j = 0; j < i; j++)
			UASSERT(p[i] != p[j]);          /* malloc(0) too is unique */
	}
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		ufree(p[i]);
		CHECK_HEAP();
	}
	UASSERT(heap_all_free());
	ufree(NULL);
	return NULL;
}

/* Freeing three neighbours in every order leaves one free block. */
static const char *test_coalesce_every_order(void)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};

	for (int o = 0; o < 6; o++) {
		void *p[3], *guard;

		reset(0, ARENA_SIZE);
		for (int i = 0; i < 3; i++)
			p[i] = umalloc(200);
		guard = umalloc(200);           /* keeps the three away from the top */
		for (int i = 0; i < 3; i++) {
			ufree(p[orders[o][i]]);
			CHECK_HEAP();
		}
		struct umalloc_stats st;
		umalloc_stats(&st);
		UASSERT_EQ(st.free_blocks, 2);  /* the merged three, the rest of the heap */
		/* The merged hole is reused for a request that needs all of it. */
		void *big = umalloc(3 * 200);
		UASSERT(big == p[0]);
		ufree(big);
		ufree(guard);
		CHECK_HEAP();
		UASSERT(heap_all_free());
	}
	return NULL;
}

static const char *test_split_and_reuse(void)
{
	void *a, *b, *c;

	reset(0, ARENA_SIZE);
	a = umalloc(1000);
	b = umalloc(16);
	ufree(a);
	c = umalloc(100);
	UASSERT(c == a);                        /* first fit into the freed block */
	CHECK_HEAP();
	void *d = umalloc(500);                 /* the split-off rest fits it */
	UASSERT((char *)d > (char *)c && (char *)d < (char *)b);
	ufree(b);
	ufree(c);
	ufree(d);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	return NULL;
}

static const char *test_big_blocks_are_mapped(void)
{
	struct umalloc_stats st;
	void *p, *q;

	reset(0, ARENA_SIZE);
	p = umalloc(UMALLOC_MMAP_THRESHOLD);
	UASSERT(p != NULL);
	UASSERT_EQ(map_count, 1);
	UASSERT_EQ((uintptr_t)p % UMALLOC_ALIGN, 0);
	fill(p, UMALLOC_MMAP_THRESHOLD, 3);
	q = umalloc(UMALLOC_MMAP_THRESHOLD - UM_HDR - 64);      /* just below: heap */
	UASSERT_EQ(map_count, 1);
	umalloc_stats(&st);
	UASSERT(st.mapped_bytes >= UMALLOC_MMAP_THRESHOLD);
	ufree(p);
	UASSERT_EQ(map_count, 0);
	ufree(q);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	map_fail = 1;
	UASSERT(umalloc(UMALLOC_MMAP_THRESHOLD) == NULL);
	return NULL;
}

static const char *test_calloc(void)
{
	unsigned char *p;

	reset(0, ARENA_SIZE);
	p = umalloc(300);
	memset(p, 0xAA, 300);
	ufree(p);
	p = ucalloc(30, 10);
	UASSERT(p != NULL);
	for (int i = 0; i < 300; i++)
		UASSERT_EQ(p[i], 0);
	ufree(p);
	UASSERT(ucalloc(SIZE_MAX / 2, 3) == NULL);
	p = ucalloc(1, UMALLOC_MMAP_THRESHOLD * 2);
	UASSERT(p != NULL && p[0] == 0 && p[UMALLOC_MMAP_THRESHOLD * 2 - 1] == 0);
	ufree(p);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	return NULL;
}

static const char *test_realloc(void)
{
	char *p, *q, *guard;

	reset(0, ARENA_SIZE);
	p = urealloc(NULL, 100);
	fill(p, 100, 5);
	guard = umalloc(64);
	ufree(guard);                           /* a free block right after p */
	q = urealloc(p, 150);                   /* grows in place into it */
	UASSERT(q == p);
	UASSERT(filled(q, 100, 5));
	CHECK_HEAP();
	q = urealloc(p, 40);                    /* shrinks in place */
	UASSERT(q == p && filled(q, 40, 5));
	CHECK_HEAP();
	guard = umalloc(64);                    /* now p cannot grow in place */
	q = urealloc(p, 5000);
	UASSERT(q != NULL && q != p && filled(q, 40, 5));
	CHECK_HEAP();
	p = urealloc(q, UMALLOC_MMAP_THRESHOLD * 3);    /* onto a mapping */
	UASSERT(p != NULL && filled(p, 40, 5) && map_count == 1);
	fill(p, UMALLOC_MMAP_THRESHOLD * 3, 6);
	q = urealloc(p, UMALLOC_MMAP_THRESHOLD * 2);    /* stays in its mapping */
	UASSERT(q == p);
	q = urealloc(p, 1000);                          /* back to the heap */
	UASSERT(q != NULL && map_count == 0 && filled(q, 1000, 6));
	CHECK_HEAP();
	UASSERT(urealloc(q, 0) == NULL);                /* frees */
	UASSERT(urealloc(guard, SIZE_MAX) == NULL);     /* too big: guard untouched */
	ufree(guard);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	return NULL;
}

/* The heap grows by sbrk and gives a big free top back. */
static const char *test_grow_and_trim(void)
{
	enum { N = 2000, SIZE = 1000 };
	static void *p[N];
	struct umalloc_stats st;

	reset(0, ARENA_SIZE);
	for (int i = 0; i < N; i++) {
		p[i] = umalloc(SIZE);
		UASSERT(p[i] != NULL);
	}
	umalloc_stats(&st);
	UASSERT_EQ(st.regions, 1);              /* contiguous growth, one region */
	UASSERT(brk_off >= (size_t)N * SIZE);
	CHECK_HEAP();
	for (int i = 0; i < N; i++)
		ufree(p[i]);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	UASSERT(brk_off < UMALLOC_TRIM_THRESHOLD);      /* trimmed */
	UASSERT_EQ(brk_off % UMALLOC_PAGE, 0);
	umalloc_stats(&st);
	UASSERT_EQ(st.heap_bytes, brk_off);
	return NULL;
}

static const char *test_out_of_memory(void)
{
	void *p;
	int n = 0;

	reset(0, 256 * 1024);
	while ((p = umalloc(10000)) != NULL)
		n++;
	UASSERT(n >= 20 && n <= 26);
	CHECK_HEAP();
	UASSERT(umalloc(16) != NULL);           /* the leftover still serves small requests */
	CHECK_HEAP();
	return NULL;
}

/* Someone else moves the break: a second region; an unaligned start works. */
static const char *test_regions_and_unaligned_break(void)
{
	void *a, *b, *c;
	struct umalloc_stats st;

	reset(40, ARENA_SIZE);
	a = umalloc(100);
	UASSERT_EQ((uintptr_t)a % UMALLOC_ALIGN, 0);
	b = umalloc(UMALLOC_GROW_MIN - 1000);   /* fills the first region */
	brk_off += 24;                          /* a foreign sbrk */
	c = umalloc(UMALLOC_GROW_MIN - 1000);
	UASSERT(a && b && c);
	UASSERT_EQ((uintptr_t)c % UMALLOC_ALIGN, 0);
	umalloc_stats(&st);
	UASSERT_EQ(st.regions, 2);
	CHECK_HEAP();
	ufree(b);
	ufree(a);
	ufree(c);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	return NULL;
}

static const char *test_bad_free_reported(void)
{
	char *p;

	reset(0, ARENA_SIZE);
	p = umalloc(100);
	umalloc(100);                           /* p is not the top block */
	ufree(p);
	corrupt_armed = true;
	corrupt_why = NULL;
	if (!setjmp(corrupt_jump))
		ufree(p);                       /* double free */
	UASSERT(corrupt_why != NULL);
	corrupt_why = NULL;
	if (!setjmp(corrupt_jump))
		urealloc(p, 10);                /* realloc after free */
	UASSERT(corrupt_why != NULL);
	corrupt_why = NULL;
	p = umalloc(100);
	if (!setjmp(corrupt_jump))
		ufree(p + 8);                   /* not a malloc pointer */
	UASSERT(corrupt_why != NULL);
	corrupt_why = NULL;
	if (!setjmp(corrupt_jump))
		urealloc(p + 16, 10);
	UASSERT(corrupt_why != NULL);
	corrupt_armed = false;
	CHECK_HEAP();
	return NULL;
}

static const char *test_huge_requests(void)
{
	reset(0, ARENA_SIZE);
	UASSERT(umalloc(SIZE_MAX) == NULL);
	UASSERT(umalloc(SIZE_MAX / 2 + 1) == NULL);
	UASSERT(umalloc(SIZE_MAX - UM_HDR) == NULL);
	CHECK_HEAP();
	return NULL;
}

/* Random malloc/free/realloc with content checks (deterministic seed). */
static const char *test_random_stress(void)
{
	static struct { unsigned char *p; size_t len; unsigned seed; } slot[STRESS_SLOTS];
	uint64_t x = 0x2545F4914F6CDD1Dull;

	reset(0, ARENA_SIZE);
	memset(slot, 0, sizeof slot);
	for (int op = 0; op < STRESS_OPS; op++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int s = (int)(x % STRESS_SLOTS);
		size_t len = (x >> 20) % 16 == 0 ? (x >> 24) % (UMALLOC_MMAP_THRESHOLD * 2)
						 : (x >> 24) % 2048;

		if (slot[s].p && !filled(slot[s].p, slot[s].len, slot[s].seed))
			UFAIL("op %d: slot %d lost its contents", op, s);
		if (slot[s].p && (x >> 40) % 3 == 0) {
			unsigned char *q = urealloc(slot[s].p, len);

			if (len && !q)
				UFAIL("op %d: realloc to %zu failed", op, len);
			if (q && !filled(q, len < slot[s].len ? len : slot[s].len, slot[s].seed))
				UFAIL("op %d: realloc lost contents", op);
			slot[s].p = q;
		} else {
			ufree(slot[s].p);
			slot[s].p = umalloc(len);
			if (!slot[s].p)
				UFAIL("op %d: malloc(%zu) failed", op, len);
		}
		slot[s].len = slot[s].p ? len : 0;
		slot[s].seed = (unsigned)op;
		fill(slot[s].p, slot[s].len, slot[s].seed);
		if (op % 16 == 0)
			CHECK_HEAP();
	}
	for (int s = 0; s < STRESS_SLOTS; s++)
		ufree(slot[s].p);
	CHECK_HEAP();
	UASSERT(heap_all_free());
	UASSERT_EQ(map_count, 0);
	return NULL;
}

UNIT_MAIN("umalloc",
	  UTEST(test_alignment_and_contents),
	  UTEST(test_coalesce_every_order),
	  UTEST(test_split_and_reuse),
	  UTEST(test_big_blocks_are_mapped),
	  UTEST(test_calloc),
	  UTEST(test_realloc),
	  UTEST(test_grow_and_trim),
	  UTEST(test_out_of_memory),
	  UTEST(test_regions_and_unaligned_break),
	  UTEST(test_bad_free_reported),
	  UTEST(test_huge_requests),
	  UTEST(test_random_stress))
