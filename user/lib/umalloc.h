/*
 * The allocator core behind malloc (user/lib/umalloc.c). It knows nothing
 * about system calls: the um_sys_* hooks below come from user/lib/malloc.c
 * in programs and from fakes in tests/unit/test_umalloc.c. Not thread-safe
 * on its own; malloc.c holds a lock around every call.
 */
#ifndef USER_LIB_UMALLOC_H
#define USER_LIB_UMALLOC_H

#include <stddef.h>
#include <stdint.h>

#define UMALLOC_ALIGN           16              /* SysV: malloc suits any type, SSE too */
#define UMALLOC_PAGE            4096
#define UMALLOC_MMAP_THRESHOLD  (128 * 1024)    /* blocks this big get their own mapping */
#define UMALLOC_GROW_MIN        (64 * 1024)     /* the heap grows by at least this */
#define UMALLOC_TRIM_THRESHOLD  (256 * 1024)    /* a free heap top this big goes back */

void *umalloc(size_t size);
void ufree(void *p);
void *ucalloc(size_t n, size_t size);
void *urealloc(void *p, size_t size);

struct umalloc_stats {
	size_t heap_bytes;              /* all sbrk regions */
	size_t free_bytes;              /* free heap blocks, headers included */
	size_t free_blocks;
	size_t mapped_bytes;            /* big blocks' mappings */
	size_t regions;
};
void umalloc_stats(struct umalloc_stats *st);
/* NULL when every invariant of the heap holds, else the first one broken. */
const char *umalloc_check(void);

/* Hooks. sbrk: the previous break, or NULL when the heap cannot change. */
void *um_sys_sbrk(intptr_t increment);
/* A zeroed, page-aligned, writable mapping of len bytes, or NULL. */
void *um_sys_map(size_t len);
void um_sys_unmap(void *p, size_t len);
/* Heap corruption or a bad free()/realloc() pointer: must not return. */
__attribute__((noreturn)) void um_sys_corrupt(const char *why, const void *p);

#endif
