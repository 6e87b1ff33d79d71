/*
 * Threads: each gets an mmap'ed stack with an unmapped guard page below it,
 * so an overflow faults instead of corrupting a neighbour. The start block
 * (thread.h) at the top of the stack carries fn/arg for thread_entry.S and
 * lets thread_join find and unmap the stack once the thread is gone.
 */
#include <kestrel.h>
#include "lock.h"
#include "thread.h"

#define STACK_ALIGN     16      /* SysV AMD64 ABI 3.2.2 */

static ulock_t thread_list_lock = ULOCK_INIT;
static struct thread_start *thread_list;   /* threads not yet joined */

/*
 * Maps len + a page and unmaps the lowest page again: the guard stays a
 * hole even if something else is mapped right below the stack later.
 */
static long stack_map(size_t len, void **stack)
{
	long base = sys_mmap(NULL, len + KESTREL_PAGE_SIZE, PROT_READ | PROT_WRITE);
	long r;

	if (base < 0)
		return base;
	r = sys_munmap((void *)base, KESTREL_PAGE_SIZE);
	if (r < 0) {
		sys_munmap((void *)base, len + KESTREL_PAGE_SIZE);
		return r;
	}
	*stack = (void *)(base + KESTREL_PAGE_SIZE);
	return 0;
}

long thread_create(thread_fn fn, void *arg)
{
	size_t len = KESTREL_THREAD_STACK;
	struct thread_start *ts;
	uintptr_t top;
	void *stack;
	long tid;

	if ((tid = stack_map(len, &stack)) < 0)
		return tid;
	top = ((uintptr_t)stack + len - sizeof *ts) & ~(uintptr_t)(STACK_ALIGN - 1);
	ts = (struct thread_start *)top;
	*ts = (struct thread_start){ .fn = fn, .arg = arg, .stack = stack, .stack_len = len };
	/* Under the lock, so a join right after we return finds the stack. */
	ulock_acquire(&thread_list_lock);
	tid = sys_thread_create(thread_entry, ts, ts);
	if (tid >= 0) {
		ts->tid = tid;
		ts->next = thread_list;
		thread_list = ts;
	}
	ulock_release(&thread_list_lock);
	if (tid < 0)
		sys_munmap(stack, len);
	return tid;
}

static struct thread_start *thread_unlink(long tid)
{
	struct thread_start **pp, *ts = NULL;

	ulock_acquire(&thread_list_lock);
	for (pp = &thread_list; *pp; pp = &(*pp)->next) {
		if ((*pp)->tid == tid) {
			ts = *pp;
			*pp = ts->next;
			break;
		}
	}
	ulock_release(&thread_list_lock);
	return ts;
}

long thread_join(int tid, uint64_t *value)
{
	struct thread_start *ts;
	uint64_t v;
	long r = sys_thread_join(tid, &v);

	if (r < 0)
		return r;
	if (value)
		*value = v;
	/* The thread has exited, so nothing runs on its stack any more. */
	ts = thread_unlink(tid);
	if (ts) {
		void *stack = ts->stack;    /* ts lives in the stack being unmapped */
		size_t len = ts->stack_len;

		sys_munmap(stack, len);
	}
	return r;
}

void thread_exit(uint64_t value)
{
	sys_thread_exit(value);
}
