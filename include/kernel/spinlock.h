/*
 * Spinlocks built on `lock cmpxchg` (docs/locking.md): test, then
 * test-and-set, `pause` while spinning; released with a release store.
 * With LOCK_DEBUG (on by default) a lock records its owner CPU and the
 * acquisition site, and the kernel panics on recursive acquisition and on
 * the release of a lock this CPU does not hold, and reports a suspected
 * deadlock (lock, owner, waiter) when a spin lasts too long.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/atomic.h>

#ifndef LOCK_DEBUG
#define LOCK_DEBUG 1
#endif

#define SPIN_OWNER_NONE (-1)

/*
 * Lock levels for the documented lock order (sched/sched.c): a lock may be
 * taken only while every levelled lock this CPU holds has a lower level.
 * LOCK_LEVEL_NONE locks are not checked.
 */
#define LOCK_LEVEL_NONE         0
#define LOCK_LEVEL_WAITQUEUE    1       /* wait queues, sleep list */
#define LOCK_LEVEL_TASK         2       /* task.lock */
#define LOCK_LEVEL_RUNQUEUE     3       /* runqueue.lock */
#define LOCK_MAX_HELD           16      /* per CPU, for the order check */

typedef struct spinlock {
	volatile uint32_t locked;       /* 0 free, 1 held */
	int32_t owner_cpu;              /* debug: SPIN_OWNER_NONE when free */
	uint64_t owner_pc;              /* debug: where it was taken */
	const char *name;
	uint32_t level;                 /* LOCK_LEVEL_* */
} spinlock_t;

#define SPINLOCK_INIT_LEVEL(n, lvl) { .locked = 0, .owner_cpu = SPIN_OWNER_NONE, \
	.owner_pc = 0, .name = (n), .level = (lvl) }
#define SPINLOCK_INIT(n) SPINLOCK_INIT_LEVEL(n, LOCK_LEVEL_NONE)

void spin_init(spinlock_t *l, const char *name);
void spin_init_level(spinlock_t *l, const char *name, uint32_t level);
void spin_lock(spinlock_t *l);
bool spin_trylock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
/* Disable interrupts, then lock; returns the previous RFLAGS for the restore. */
uint64_t spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags);

/* Spin budget before a "suspected deadlock" report, in TSC cycles (0: default). */
void spin_set_timeout(uint64_t cycles);
/* How many suspected-deadlock reports have been printed. */
uint64_t spin_deadlock_reports(void);

/*
 * The bare lock without debug bookkeeping: for the console (the debug
 * reports print through it) and for code that runs before per-CPU state.
 */
static inline bool raw_spin_trylock(volatile uint32_t *lock)
{
	return *lock == 0 && cmpxchg32(lock, 0, 1) == 0;
}

static inline void raw_spin_lock(volatile uint32_t *lock)
{
	while (!raw_spin_trylock(lock))
		while (*lock)
			__asm__ volatile("pause" ::: "memory");
}

static inline void raw_spin_unlock(volatile uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

#endif
