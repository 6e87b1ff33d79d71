/*
 * Binary buddy allocator over 4 KiB page frames: the logic behind mm/pmm.c,
 * free of kernel dependencies so that tests/unit/test_buddy.c runs it on the host.
 *
 * Why buddy rather than a bitmap or a plain free list:
 *  - alloc and free are O(log n) (at most BUDDY_MAX_ORDER split or merge
 *    steps); a bitmap must scan for a free bit, and for a run of 2^k clear
 *    bits, which is O(n) once memory is fragmented;
 *  - it hands out physically contiguous, naturally aligned runs of 2^order
 *    frames, which DMA buffers, 2 MiB pages, multi-page kernel stacks and
 *    page-table pools need; a free list of single frames cannot;
 *  - coalescing is cheap: a block's buddy is found by flipping one bit of its
 *    pfn, so a freed block merges back in O(1) per order, which keeps large
 *    runs available without a compaction pass.
 * The cost is internal fragmentation (requests round up to a power of two)
 * and 12 bytes of metadata per frame (0.3 % of the memory managed).
 *
 * Locking: none inside. Callers serialise every call on one struct buddy
 * (the kernel holds the pmm spinlock, with interrupts off, around them).
 */
#ifndef KERNEL_BUDDY_H
#define KERNEL_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Orders 0 .. 10: the largest block is 1024 frames = 4 MiB. Order 9 (2 MiB,
 * naturally aligned) must exist for large pages; order 10 leaves headroom for
 * big DMA buffers. Larger blocks are rarely satisfiable once memory has been
 * in use, and each extra order adds a split/merge step to every call (Linux
 * settled on the same 4 MiB limit for the same reasons).
 */
#define BUDDY_MAX_ORDER         10u
#define BUDDY_NR_ORDERS         (BUDDY_MAX_ORDER + 1u)

#define BUDDY_FRAME_SHIFT       12u     /* 4 KiB frames */
/* x86-64 physical addresses have at most 52 bits (SDM Vol. 3A, 4.1.4). */
#define BUDDY_PHYS_ADDR_BITS    52u
#define BUDDY_PFN_LIMIT         (1ull << (BUDDY_PHYS_ADDR_BITS - BUDDY_FRAME_SHIFT))

/* Free-list links are 32-bit frame indices; UINT32_MAX ends a list. */
#define BUDDY_NIL               UINT32_MAX
/* Most frames one zone can manage (16 TiB); use several zones beyond that. */
#define BUDDY_MAX_FRAMES        ((uint64_t)UINT32_MAX)

/* Per-frame state. Only block heads carry a meaningful order. */
enum buddy_frame_state {
	BUDDY_FRAME_RESERVED = 0,       /* not managed: hole, firmware, kernel... */
	BUDDY_FRAME_FREE,               /* head of a free block, on its free list */
	BUDDY_FRAME_ALLOC,              /* head of an allocated block */
	BUDDY_FRAME_TAIL,               /* any other frame of a free or allocated block */
};

/*
 * Metadata of one frame, in the caller-supplied array (never in the frame:
 * on the host frames are not memory, in the kernel they may be unmapped).
 */
struct buddy_frame {
	uint32_t next;                  /* free list, frame index or BUDDY_NIL */
	uint32_t prev;
	uint8_t order;                  /* heads (FREE, ALLOC) only */
	uint8_t state;                  /* enum buddy_frame_state */
	uint16_t unused;
};

#define BUDDY_META_BYTES_PER_FRAME 12u
_Static_assert(sizeof(struct buddy_frame) == BUDDY_META_BYTES_PER_FRAME,
	       "buddy_frame size is part of the metadata budget");

/* One zone: frames [base_pfn, base_pfn + npages). Fields are private. */
struct buddy {
	struct buddy_frame *frames;     /* npages entries, index = pfn - base_pfn */
	uint64_t base_pfn;
	uint64_t npages;
	uint64_t free_frames;           /* exact count of frames in free blocks */
	uint64_t nr_free[BUDDY_NR_ORDERS];      /* free blocks per order */
	uint32_t free_head[BUDDY_NR_ORDERS];    /* free lists, BUDDY_NIL if empty */
	uint64_t bad_frees;             /* misuse ignored by buddy_free() */
};

/* Bytes of metadata buddy_init() needs; 0 if npages is 0 or too large. */
size_t buddy_metadata_bytes(uint64_t npages);

/*
 * Set up a zone with every frame RESERVED. meta must be aligned to
 * _Alignof(struct buddy_frame) and hold buddy_metadata_bytes(npages).
 * Returns 0, -EINVAL (bad arguments), -ERANGE (beyond BUDDY_PFN_LIMIT)
 * or -ENOSPC (meta too small).
 */
int buddy_init(struct buddy *b, void *meta, size_t meta_len,
	       uint64_t base_pfn, uint64_t npages);

/*
 * Make frames [pfn, pfn + n) available. They must all be RESERVED.
 * Returns 0, -ERANGE (not inside the zone) or -EEXIST (some frame is
 * already free or allocated); on error nothing changes.
 */
int buddy_free_range(struct buddy *b, uint64_t pfn, uint64_t n);

/*
 * Take frames [pfn, pfn + n) out of use for good (e.g. a firmware table
 * found after the memory map was added). Free frames become RESERVED,
 * RESERVED ones stay so. Returns 0, -ERANGE (not inside the zone) or
 * -EBUSY (some frame is allocated); on error nothing changes.
 */
int buddy_reserve_range(struct buddy *b, uint64_t pfn, uint64_t n);

/* A naturally aligned run of 2^order free frames: its first pfn, or
 * -ENOMEM (no such run exists), or -EINVAL (order > BUDDY_MAX_ORDER). */
int64_t buddy_alloc(struct buddy *b, unsigned order);

/*
 * Give back a block from buddy_alloc() with the same order. Misuse is
 * detected before anything changes:
 *   -EINVAL  order > BUDDY_MAX_ORDER, or the block was allocated with another order
 *   -ERANGE  the run [pfn, pfn + 2^order) is not inside the zone
 *   -ENOENT  pfn is not the start of an allocated block (double free, free of
 *            a reserved frame or of a frame inside a block)
 */
int buddy_free_checked(struct buddy *b, uint64_t pfn, unsigned order);

/* buddy_free_checked() for callers that cannot act on an error: misuse
 * leaves the zone untouched and is counted in bad_frees. */
void buddy_free(struct buddy *b, uint64_t pfn, unsigned order);

/* Short text for a buddy_free_checked() error, for panic messages. */
const char *buddy_strerror(int err);

uint64_t buddy_free_frames(const struct buddy *b);
/* Free blocks of exactly this order (0 for order > BUDDY_MAX_ORDER). */
uint64_t buddy_free_blocks(const struct buddy *b, unsigned order);
bool buddy_contains(const struct buddy *b, uint64_t pfn);

/*
 * Walk the whole zone and check every invariant: free lists well linked,
 * each free block aligned to its order and inside the zone, blocks never
 * overlapping each other or reserved frames, no two free buddies of one
 * order left unmerged, and the counts matching. O(npages). buddy_check()
 * returns 0 or -EINVAL; buddy_check_reason() NULL or the first violation.
 */
int buddy_check(const struct buddy *b);
const char *buddy_check_reason(const struct buddy *b);

#endif
