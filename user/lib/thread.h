/*
 * Layout of the block thread_create puts at the top of each thread stack.
 * Shared by user/lib/thread.c and thread_entry.S: the offsets must match.
 */
#ifndef USER_LIB_THREAD_H
#define USER_LIB_THREAD_H

#define THREAD_START_FN         0
#define THREAD_START_ARG        8

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct thread_start {
	uint64_t (*fn)(void *arg);      /* THREAD_START_FN */
	void *arg;                      /* THREAD_START_ARG */
	/* Below: bookkeeping for thread_join, which unmaps the stack. */
	void *stack;                    /* lowest mapped byte (above the guard page) */
	size_t stack_len;
	long tid;
	struct thread_start *next;      /* live threads, guarded by thread_list_lock */
};

_Static_assert(offsetof(struct thread_start, fn) == THREAD_START_FN, "thread_entry.S");
_Static_assert(offsetof(struct thread_start, arg) == THREAD_START_ARG, "thread_entry.S");

/* The assembly entry point handed to SYS_thread_create. */
void thread_entry(void *start);
#endif

#endif
