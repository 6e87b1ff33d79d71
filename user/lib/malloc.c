/*
 * malloc/free/calloc/realloc: the allocator core (umalloc.c) under one
 * lock, with its hooks bound to SYS_sbrk, SYS_mmap and SYS_munmap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>
#include <kestrel/sync.h>
#include "umalloc.h"

/* Heap corruption kills the process with this status, like abort(). */
#define MALLOC_CORRUPT_STATUS   ABORT_STATUS

static mutex_t malloc_lock = MUTEX_INITIALIZER;

void *um_sys_sbrk(intptr_t increment)
{
	long r = sys_sbrk(increment);

	return r < 0 ? NULL : (void *)r;
}

void *um_sys_map(size_t len)
{
	long r = sys_mmap(NULL, len, PROT_READ | PROT_WRITE);

	return r < 0 ? NULL : (void *)r;
}

void um_sys_unmap(void *p, size_t len)
{
	sys_munmap(p, len);
}

void um_sys_corrupt(const char *why, const void *p)
{
	dprintf(STDERR_FILENO, "malloc: %s (%p)\n", why, p);
	sys_exit(MALLOC_CORRUPT_STATUS);
}

void *malloc(size_t size)
{
	void *p;

	mutex_lock(&malloc_lock);
	p = umalloc(size);
	mutex_unlock(&malloc_lock);
	return p;
}

void free(void *p)
{
	mutex_lock(&malloc_lock);
	ufree(p);
	mutex_unlock(&malloc_lock);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	mutex_lock(&malloc_lock);
	p = ucalloc(n, size);
	mutex_unlock(&malloc_lock);
	return p;
}

void *realloc(void *p, size_t size)
{
	void *q;

	mutex_lock(&malloc_lock);
	q = urealloc(p, size);
	mutex_unlock(&malloc_lock);
	return q;
}
