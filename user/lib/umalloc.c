/*
 * malloc core: boundary-tag blocks (Knuth, TAOCP 2.5) in sbrk regions,
 * free blocks in power-of-two size bins, coalesced with both neighbours on
 * free; requests of UMALLOC_MMAP_THRESHOLD and more get a mapping each.
 *
 * A region is [struct um_region][block][block]...[epilogue]. A block header
 * is 16 bytes, so payloads stay 16-byte aligned; the epilogue is a header
 * of size 0 marked used, so the last block has a "next" like any other.
 */
#include <stdbool.h>
#include <string.h>
#include "umalloc.h"

#define UM_USED         0x1ul   /* this block is allocated */
#define UM_PREV_FREE    0x2ul   /* the block before is free: prev_size is valid */
#define UM_MAPPED       0x4ul   /* a big block with a mapping of its own */
#define UM_FLAGS        (UM_USED | UM_PREV_FREE | UM_MAPPED)
#define UM_NBINS        32      /* bin i: sizes [32 << i, 64 << i), the last open-ended */
#define UM_MAX_REQUEST  (SIZE_MAX / 2)  /* keeps every size computation in range */

struct um_block {
	size_t prev_size;               /* boundary tag of a free previous block */
	size_t head;                    /* size (header included) | UM_* flags */
	struct um_block *next;          /* free blocks only: bin links over the payload */
	struct um_block *prev;
};

struct um_region {
	struct um_region *next;         /* older regions */
	size_t size;                    /* bytes, header and epilogue included */
};

#define UM_HDR          offsetof(struct um_block, next)
#define UM_MIN_BLOCK    sizeof(struct um_block)
_Static_assert(UM_HDR % UMALLOC_ALIGN == 0, "payloads stay aligned");
_Static_assert(sizeof(struct um_region) % UMALLOC_ALIGN == 0, "first block aligned");
_Static_assert(UM_MIN_BLOCK % UMALLOC_ALIGN == 0, "block sizes stay aligned");

static struct um_block *um_bins[UM_NBINS];
static struct um_region *um_regions;    /* newest first; the newest ends at the break */
static size_t um_mapped_bytes;

static size_t um_size(const struct um_block *b)
{
	return b->head & ~UM_FLAGS;
}

static struct um_block *um_next(struct um_block *b)
{
	return (struct um_block *)((char *)b + um_size(b));
}

static void *um_payload(struct um_block *b)
{
	return (char *)b + UM_HDR;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static unsigned um_bin(size_t size)
{
	unsigned i = 0;

	for (size >>= 6; size && i < UM_NBINS - 1; size >>= 1)
		i++;
	return i;
}

static void bin_insert(struct um_block *b)
{
	struct um_block **head = &um_bins[um_bin(um_size(b))];

	b->prev = NULL;
	b->next = *head;
	if (*head)
		(*head)->prev = b;
	*head = b;
}

static void bin_remove(struct um_block *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		um_bins[um_bin(um_size(b))] = b->next;
	if (b->next)
		b->next->prev = b->prev;
}

/* First fit in the request's own bin; any block of a higher bin is big enough. */
static struct um_block *bin_find(size_t need)
{
	unsigned i = um_bin(need);

	for (struct um_block *b = um_bins[i]; b; b = b->next)
		if (um_size(b) >= need)
			return b;
	while (++i < UM_NBINS)
		if (um_bins[i])
			return um_bins[i];
	return NULL;
}

/* Block b (flags already clear of UM_USED) joins the free lists; tells its successor. */
static void um_mark_free(struct um_block *b)
{
	struct um_block *n = um_next(b);

	n->prev_size = um_size(b);
	n->head |= UM_PREV_FREE;
	bin_insert(b);
}

/* Merges free block b (not in a bin) with free neighbours; returns the result. */
static struct um_block *um_coalesce(struct um_block *b)
{
	struct um_block *n = um_next(b);

	if (!(n->head & UM_USED)) {
		bin_remove(n);
		b->head += um_size(n);
	}
	if (b->head & UM_PREV_FREE) {
		struct um_block *p = (struct um_block *)((char *)b - b->prev_size);

		bin_remove(p);
		p->head += um_size(b);
		b = p;
	}
	return b;
}

static struct um_block *um_epilogue(void)
{
	return (struct um_block *)((char *)um_regions + um_regions->size - UM_HDR);
}

/*
 * Gives the top of the newest region back with a negative sbrk when free
 * block b ends there and is big, keeping UMALLOC_GROW_MIN of it.
 */
static void um_trim(struct um_block *b)
{
	size_t size = um_size(b), release;
	struct um_block *epi;

	if (um_next(b) != um_epilogue() || size < UMALLOC_TRIM_THRESHOLD)
		return;
	release = (size - UMALLOC_GROW_MIN) & ~(size_t)(UMALLOC_PAGE - 1);
	/* Only if the break is still ours: nobody else called sbrk. */
	if (um_sys_sbrk(0) != (char *)um_regions + um_regions->size ||
	    !um_sys_sbrk(-(intptr_t)release))
		return;
	bin_remove(b);
	b->head -= release;
	um_regions->size -= release;
	epi = um_epilogue();
	epi->head = UM_USED;
	um_mark_free(b);
}

/* Frees heap block b: coalesce, list, maybe trim. */
static void um_release(struct um_block *b)
{
	b->head &= ~UM_USED;
	b = um_coalesce(b);
	um_mark_free(b);
	um_trim(b);
}

/* Sets up fresh memory [start, end) as a region holding one free block. */
static void um_new_region(char *start, char *end)
{
	struct um_region *r = (struct um_region *)start;
	struct um_block *b = (struct um_block *)(start + sizeof *r);

	r->size = (size_t)(end - start);
	r->next = um_regions;
	um_regions = r;
	b->head = r->size - sizeof *r - UM_HDR;
	um_epilogue()->head = UM_USED;
	um_mark_free(b);
}

/*
 * Grows the heap so a block of `need` bytes is free. Contiguous growth turns
 * the old epilogue into the new block's header (and merges with a free top);
 * a break moved by someone else starts a new region. The break is kept on
 * a page boundary so growth and trimming line up.
 */
static bool um_grow(size_t need)
{
	size_t want = (need > UMALLOC_GROW_MIN ? need : UMALLOC_GROW_MIN) +
		      sizeof(struct um_region) + UM_HDR;
	char *brk = um_sys_sbrk(0), *old, *start, *end;
	size_t inc;

	if (!brk)
		return false;
	inc = align_up((uintptr_t)brk + want, UMALLOC_PAGE) - (uintptr_t)brk;
	old = um_sys_sbrk((intptr_t)inc);
	if (!old)
		return false;
	if (um_regions && old == (char *)um_regions + um_regions->size &&
	    inc % UMALLOC_ALIGN == 0) {
		struct um_block *b = um_epilogue();

		um_regions->size += inc;
		b->head = inc | (b->head & UM_PREV_FREE);
		um_epilogue()->head = UM_USED;
		um_mark_free(um_coalesce(b));
		return true;
	}
	/* Only if someone moved the break in between can old differ from brk. */
	start = (char *)align_up((uintptr_t)old, UMALLOC_ALIGN);
	end = (char *)((uintptr_t)(old + inc) & ~(uintptr_t)(UMALLOC_ALIGN - 1));
	if ((size_t)(end - start) < sizeof(struct um_region) + UM_MIN_BLOCK + UM_HDR)
		return false;
	um_new_region(start, end);
	return true;
}

/* Takes free block b (in a bin) for `need` bytes, splitting off the rest. */
static void *um_take(struct um_block *b, size_t need)
{
	size_t rest = um_size(b) - need;

	bin_remove(b);
	if (rest >= UM_MIN_BLOCK) {
		struct um_block *r = (struct um_block *)((char *)b + need);

		r->head = rest;
		b->head = need | UM_USED;
		um_mark_free(r);
	} else {
		b->head |= UM_USED;
		um_next(b)->head &= ~UM_PREV_FREE;
	}
	return um_payload(b);
}

static void *um_map_alloc(size_t need)
{
	size_t len = align_up(need, UMALLOC_PAGE);
	struct um_block *b = um_sys_map(len);

	if (!b)
		return NULL;
	b->prev_size = 0;
	b->head = len | UM_USED | UM_MAPPED;
	um_mapped_bytes += len;
	return um_payload(b);
}

/* Block size for a request, or 0 when the request is too big. */
static size_t um_need(size_t size)
{
	size_t need;

	if (size > UM_MAX_REQUEST)
		return 0;
	need = align_up(size + UM_HDR, UMALLOC_ALIGN);
	return need < UM_MIN_BLOCK ? UM_MIN_BLOCK : need;
}

void *umalloc(size_t size)
{
	size_t need = um_need(size);
	struct um_block *b;

	if (!need)
		return NULL;
	if (need >= UMALLOC_MMAP_THRESHOLD)
		return um_map_alloc(need);
	b = bin_find(need);
	if (!b) {
		if (!um_grow(need))
			return NULL;
		b = bin_find(need);
	}
	return um_take(b, need);
}

/* The block of a pointer malloc returned; anything else is reported. */
static struct um_block *um_owner(void *p, const char *what)
{
	struct um_block *b = (struct um_block *)((char *)p - UM_HDR);

	if ((uintptr_t)p % UMALLOC_ALIGN || !(b->head & UM_USED) ||
	    um_size(b) < UM_MIN_BLOCK || um_size(b) % UMALLOC_ALIGN)
		um_sys_corrupt(what, p);
	return b;
}

void ufree(void *p)
{
	struct um_block *b;

	if (!p)
		return;
	b = um_owner(p, "free(): double free or not a malloc pointer");
	if (b->head & UM_MAPPED) {
		um_mapped_bytes -= um_size(b);
		um_sys_unmap(b, um_size(b));
		return;
	}
	if (um_next(b)->head & UM_PREV_FREE)
		um_sys_corrupt("free(): heap corrupted after the block", p);
	um_release(b);
}

void *ucalloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	p = umalloc(total);
	/* Fresh mappings are zero already; heap blocks may be recycled. */
	if (p && !(((struct um_block *)((char *)p - UM_HDR))->head & UM_MAPPED))
		memset(p, 0, total);
	return p;
}

/* Cuts used heap block b down to `need` bytes, freeing the tail. */
static void um_shrink(struct um_block *b, size_t need)
{
	size_t rest = um_size(b) - need;
	struct um_block *r;

	if (rest < UM_MIN_BLOCK)
		return;
	b->head -= rest;
	r = um_next(b);
	r->head = rest | UM_USED;
	um_release(r);
}

/* Grows used heap block b in place into a free successor; false if it cannot. */
static bool um_extend(struct um_block *b, size_t need)
{
	struct um_block *n = um_next(b);

	if ((n->head & UM_USED) || um_size(b) + um_size(n) < need)
		return false;
	bin_remove(n);
	b->head += um_size(n);
	um_next(b)->head &= ~UM_PREV_FREE;
	um_shrink(b, need);
	return true;
}

/* realloc(p, 0) frees p and returns NULL (as glibc does). */
void *urealloc(void *p, size_t size)
{
	struct um_block *b;
	size_t need;
	void *q;

	if (!p)
		return umalloc(size);
	if (size == 0) {
		ufree(p);
		return NULL;
	}
	b = um_owner(p, "realloc(): not a malloc pointer");
	if (!(need = um_need(size)))
		return NULL;
	if (b->head & UM_MAPPED) {
		if (need <= um_size(b) && need >= UMALLOC_MMAP_THRESHOLD)
			return p;
	} else if (need < UMALLOC_MMAP_THRESHOLD) {
		if (need <= um_size(b)) {
			um_shrink(b, need);
			return p;
		}
		if (um_extend(b, need))
			return p;
	}
	q = umalloc(size);
	if (!q)
		return NULL;
	memcpy(q, p, size < um_size(b) - UM_HDR ? size : um_size(b) - UM_HDR);
	ufree(p);
	return q;
}

void umalloc_stats(struct umalloc_stats *st)
{
	*st = (struct umalloc_stats){ .mapped_bytes = um_mapped_bytes };
	for (struct um_region *r = um_regions; r; r = r->next) {
		st->regions++;
		st->heap_bytes += r->size;
	}
	for (unsigned i = 0; i < UM_NBINS; i++)
		for (struct um_block *b = um_bins[i]; b; b = b->next) {
			st->free_blocks++;
			st->free_bytes += um_size(b);
		}
}

/* Walks one region; counts its free blocks into *free_blocks. */
static const char *um_check_region(struct um_region *r, size_t *free_blocks)
{
	struct um_block *b = (struct um_block *)(r + 1);
	struct um_block *end = (struct um_block *)((char *)r + r->size - UM_HDR);
	bool prev_free = false;
	size_t prev_size = 0;

	if ((uintptr_t)r % UMALLOC_ALIGN || r->size % UMALLOC_ALIGN)
		return "misaligned region";
	for (; b < end; b = um_next(b)) {
		size_t size = um_size(b);
		bool is_free = !(b->head & UM_USED);

		if (size < UM_MIN_BLOCK || size % UMALLOC_ALIGN || size > (size_t)((char *)end - (char *)b))
			return "bad block size";
		if (b->head & UM_MAPPED)
			return "mapped flag on a heap block";
		if (!!(b->head & UM_PREV_FREE) != prev_free || (prev_free && b->prev_size != prev_size))
			return "boundary tag does not match the previous block";
		if (is_free && prev_free)
			return "two free blocks next to each other";
		*free_blocks += is_free;
		prev_free = is_free;
		prev_size = size;
	}
	if (b != end || um_size(end) != 0 || !(end->head & UM_USED))
		return "blocks do not end at the epilogue";
	if (!!(end->head & UM_PREV_FREE) != prev_free || (prev_free && end->prev_size != prev_size))
		return "epilogue tag does not match the last block";
	return NULL;
}

static const char *um_check_bins(size_t heap_free_blocks)
{
	size_t listed = 0;

	for (unsigned i = 0; i < UM_NBINS; i++) {
		struct um_block *prev = NULL;

		for (struct um_block *b = um_bins[i]; b; prev = b, b = b->next) {
			if (++listed > heap_free_blocks)
				return "free list has blocks the heap walk did not see";
			if (b->head & UM_USED)
				return "used block on a free list";
			if (um_bin(um_size(b)) != i)
				return "block in the wrong bin";
			if (b->prev != prev)
				return "broken free list back link";
		}
	}
	return listed == heap_free_blocks ? NULL : "free block missing from the free lists";
}

const char *umalloc_check(void)
{
	size_t free_blocks = 0;
	const char *why;

	for (struct um_region *r = um_regions; r; r = r->next)
		if ((why = um_check_region(r, &free_blocks)))
			return why;
	return um_check_bins(free_blocks);
}
