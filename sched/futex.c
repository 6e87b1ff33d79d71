/*
 * Futexes: a thread sleeps while a 32-bit word of its address space holds
 * an expected value; another thread changes the word and wakes up to N of
 * its sleepers. The user mutexes and condition variables (user/lib/sync.c)
 * are built on these two calls.
 *
 * Each word hashes, with its address space, to a bucket: a spinlock and a
 * FIFO list of waiters. A waiter reads the word again under the bucket
 * lock and queues itself before dropping it; a waker changes the word
 * before it takes the lock, so a wake-up between the check and the sleep
 * cannot be lost. The sleep itself is a timed sleep (sleep_prepare() in
 * sched/task.c, deadline UINT64_MAX without a timeout), so the timer tick
 * ends it at the deadline and a kill ends it through sleep_cancel() like
 * any sleep of a dying process.
 *
 * The waiter record lives on the waiter's kernel stack. A waker unlinks
 * it under the bucket lock, wakes the task with no bucket lock held (the
 * sleep list lock is on the same level), then sets `done`; a woken waiter
 * does not return before `done`, so the record and the task outlive every
 * use the waker makes of them. The waker keeps interrupts off meanwhile,
 * so that wait is short.
 *
 * Lock order: sleep_lock and a bucket lock are never held together; a
 * bucket lock is a wait-queue-level lock (sched/sched.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/errno.h>
#include <kernel/futex.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/spinlock.h>
#include <kernel/time.h>
#include <kernel/usercopy.h>

#define FUTEX_BUCKETS           64      /* a power of two */
#define FUTEX_WORD_ALIGN        4       /* sizeof(uint32_t): a word never straddles a page */
#define FUTEX_HASH_MUL          UINT64_C(0x9E3779B97F4A7C15)    /* 2^64 / golden ratio */
#define FUTEX_HASH_SHIFT        58      /* 64 - log2(FUTEX_BUCKETS) */

_Static_assert(1ul << (64 - FUTEX_HASH_SHIFT) == FUTEX_BUCKETS, "FUTEX_HASH_SHIFT");

struct futex_waiter {
	/* Guarded by the bucket lock: */
	struct futex_waiter *next, *prev;
	bool queued;
	/* Set at creation: */
	struct task *task;
	struct vm_space *vs;
	uint64_t uaddr;
	/* The waker's own list, after unlinking: */
	struct futex_waiter *wake_next;
	bool done;                      /* atomic: the waker is finished with us */
};

struct futex_bucket {
	spinlock_t lock;
	struct futex_waiter *head, *tail;       /* guarded by lock */
};

static struct futex_bucket buckets[FUTEX_BUCKETS] = {
	[0 ... FUTEX_BUCKETS - 1] = {
		.lock = SPINLOCK_INIT_LEVEL("futex_bucket", LOCK_LEVEL_WAITQUEUE),
	},
};

static uint64_t nr_waiters;             /* atomic */

uint64_t futex_waiters(void)
{
	return __atomic_load_n(&nr_waiters, __ATOMIC_RELAXED);
}

/* Multiplicative hashing (Knuth, TAOCP vol. 3, 6.4): the top bits. */
static struct futex_bucket *bucket_of(const struct vm_space *vs, uint64_t uaddr)
{
	uint64_t key = (uaddr / FUTEX_WORD_ALIGN) ^ ((uint64_t)vs >> 4);

	return &buckets[(key * FUTEX_HASH_MUL) >> FUTEX_HASH_SHIFT];
}

/* Caller holds b->lock. */
static void enqueue(struct futex_bucket *b, struct futex_waiter *w)
{
	w->next = NULL;
	w->prev = b->tail;
	if (b->tail)
		b->tail->next = w;
	else
		b->head = w;
	b->tail = w;
	w->queued = true;
	__atomic_fetch_add(&nr_waiters, 1, __ATOMIC_RELAXED);
}

/* Caller holds b->lock. */
static void dequeue(struct futex_bucket *b, struct futex_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		b->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		b->tail = w->prev;
	w->next = w->prev = NULL;
	w->queued = false;
	__atomic_fetch_sub(&nr_waiters, 1, __ATOMIC_RELAXED);
}

static int check_word(uint64_t uaddr)
{
	if (uaddr % FUTEX_WORD_ALIGN)
		return -EINVAL;
	if (!user_range_ok(uaddr, sizeof(uint32_t)))
		return -EFAULT;
	return 0;
}

int64_t futex_wait(uint64_t uaddr, uint32_t val, uint64_t timeout_ns)
{
	struct task *t = current_task();
	struct futex_waiter w = { .task = t, .vs = t->vs, .uaddr = uaddr };
	struct futex_bucket *b = bucket_of(t->vs, uaddr);
	uint64_t deadline = UINT64_MAX, flags = read_rflags();
	int rc = check_word(uaddr);
	uint32_t cur;

	if (rc < 0)
		return rc;
	if (!t->proc)
		return -EINVAL;         /* kernel threads have no user words */
	if (timeout_ns) {
		uint64_t now = time_ns();
		deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
	}
	for (;;) {
		/*
		 * First with no lock held and interrupts on, so a stack page not
		 * grown yet is grown here and the read under the lock finds it.
		 */
		if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0)
			return -EFAULT;
		if (cur != val)
			return -EAGAIN;
		irq_disable();
		if (!sleep_prepare(deadline)) {
			rc = -EINTR;
			break;
		}
		spin_lock(&b->lock);
		/* Again under the lock: a waker stores the word before it takes it. */
		rc = copy_from_user(&cur, uaddr, sizeof(cur));
		if (rc < 0 || cur != val) {
			spin_unlock(&b->lock);
			if (sleep_abort())
				schedule();
			rc = rc < 0 ? -EFAULT : -EAGAIN;
			break;
		}
		enqueue(b, &w);
		spin_unlock(&b->lock);
		schedule();

		spin_lock(&b->lock);
		bool woken = !w.queued;
		if (!woken)
			dequeue(b, &w);
		spin_unlock(&b->lock);
		if (woken) {
			while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE))
				cpu_relax();
			rc = 0;
			break;
		}
		/* The deadline, a kill, or a stray wake-up: off the sleep list in every case. */
		if (sleep_abort())
			schedule();
		if (__atomic_load_n(&t->proc->exiting, __ATOMIC_ACQUIRE)) {
			rc = -EINTR;
			break;
		}
		if (time_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if (flags & RFLAGS_IF)
			irq_enable();
	}
	if (flags & RFLAGS_IF)
		irq_enable();
	return rc;
}

int64_t futex_wake(uint64_t uaddr, uint32_t n)
{
	struct vm_space *vs = current_task()->vs;
	struct futex_bucket *b = bucket_of(vs, uaddr);
	struct futex_waiter *list = NULL, **tail = &list, *w, *next;
	int64_t woken = 0;
	int rc = check_word(uaddr);
	uint64_t flags;

	if (rc < 0)
		return rc;
	flags = spin_lock_irqsave(&b->lock);
	for (w = b->head; w && woken < n; w = next) {
		next = w->next;
		if (w->vs != vs || w->uaddr != uaddr)
			continue;
		dequeue(b, w);
		w->wake_next = NULL;
		*tail = w;
		tail = &w->wake_next;
		woken++;
	}
	spin_unlock(&b->lock);  /* interrupts stay off: the woken wait for `done` */
	while (list) {
		struct task *t = list->task;
		w = list;
		list = w->wake_next;
		sleep_cancel(t);
		__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);     /* w may vanish now */
	}
	if (flags & RFLAGS_IF)
		irq_enable();
	return woken;
}
