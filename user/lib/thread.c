/*
 * Threads: each gets an mmap'ed stack with an unmapped guard page below it,
 * so an overflow faults instead of corrupting a neighbour. The start block
 * (thread.h) at the top of the stack carries fn/arg for thread_entry.S and
 * lets thread_join find the stack once the thread is gone.
 *
 * A joined thread's stack goes to a cache of up to STACK_CACHE_MAX stacks
 * (guard page and all) that the next thread_create takes first, so a
 * create+join cycle in steady state maps and unmaps nothing.
 */
#include <kestrel.h>
#include <kestrel/sync.h>
#include "thread.h"

#define STACK_ALIGN     16      /* SysV AMD64 ABI 3.2.2 */
#define STACK_CACHE_MAX 16      /* stacks kept for reuse: 1 MiB at 64 KiB each */

/* Guards thread_list and the stack cache. */
static mutex_t thread_lock = MUTEX_INITIALIZER;
static struct thread_start *thread_list;   /* threads not yet joined */

/* A cached stack keeps this record where its start block was. */
struct cached_stack {
	void *stack;
	struct cached_stack *next;
};
static struct cached_stack *stack_cache;
static unsigned int stack_cache_count;

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

static struct cached_stack *cache_slot(void *stack)
{
	uintptr_t top = (uintptr_t)stack + KESTREL_THREAD_STACK - sizeof(struct cached_stack);

	return (struct cached_stack *)(top & ~(uintptr_t)(STACK_ALIGN - 1));
}

/* A stack from the cache, or a new one. */
static long stack_get(void **stack)
{
	struct cached_stack *c;

	mutex_lock(&thread_lock);
	c = stack_cache;
	if (c) {
		stack_cache = c->next;
		stack_cache_count--;
	}
	mutex_unlock(&thread_lock);
	if (c) {
		*stack = c->stack;
		return 0;
	}
	return stack_map(KESTREL_THREAD_STACK, stack);
}

/* Back to the cache, or unmapped when it is full. Nothing may run on it any more. */
static void stack_put(void *stack)
{
	struct cached_stack *c = cache_slot(stack);

	mutex_lock(&thread_lock);
	if (stack_cache_count < STACK_CACHE_MAX) {
		*c = (struct cached_stack){ .stack = stack, .next = stack_cache };
		stack_cache = c;
		stack_cache_count++;
		c = NULL;
	}
	mutex_unlock(&thread_lock);
	if (c)
		sys_munmap(stack, KESTREL_THREAD_STACK);
}

long thread_create(thread_fn fn, void *arg)
{
	size_t len = KESTREL_THREAD_STACK;
	struct thread_start *ts;
	uintptr_t top;
	void *stack;
	long tid;

	if ((tid = stack_get(&stack)) < 0)
		return tid;
	top = ((uintptr_t)stack + len - sizeof *ts) & ~(uintptr_t)(STACK_ALIGN - 1);
	ts = (struct thread_start *)top;
	*ts = (struct thread_start){ .fn = fn, .arg = arg, .stack = stack, .stack_len = len };
	/* Under the lock, so a join right after we return finds the stack. */
	mutex_lock(&thread_lock);
	tid = sys_thread_create(thread_entry, ts, ts);
	if (tid >= 0) {
		ts->tid = tid;
		ts->next = thread_list;
		thread_list = ts;
	}
	mutex_unlock(&thread_lock);
	if (tid < 0)
		stack_put(stack);
	return tid;
}

static struct thread_start *thread_unlink(long tid)
{
	struct thread_start **pp, *ts = NULL;

	mutex_lock(&thread_lock);
	for (pp = &thread_list; *pp; pp = &(*pp)->next) {
		if ((*pp)->tid == tid) {
			ts = *pp;
			*pp = ts->next;
			break;
		}
	}
	mutex_unlock(&thread_lock);
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
	if (ts)
		stack_put(ts->stack);       /* ts lives in that stack: read it first */
	return r;
}

void thread_exit(uint64_t value)
{
	sys_thread_exit(value);
}
