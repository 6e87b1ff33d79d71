/*
 * Spinlocks built on `lock cmpxchg` (DESIGN.md section 4): test, then
 * test-and-set, `pause` while spinning; released with a release store.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>
#include <stdbool.h>
#include <kernel/atomic.h>

typedef struct spinlock {
	volatile uint32_t locked;       /* 0 free, 1 held */
	const char *name;
} spinlock_t;

#define SPINLOCK_INIT(n) { .locked = 0, .name = (n) }

static inline bool spin_trylock(spinlock_t *l)
{
	return l->locked == 0 && cmpxchg32(&l->locked, 0, 1) == 0;
}

static inline void spin_lock(spinlock_t *l)
{
	while (!spin_trylock(l))
		while (l->locked)
			__asm__ volatile("pause" ::: "memory");
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Disable interrupts, then lock; returns the previous RFLAGS for restore. */
static inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
	spin_unlock(l);
	__asm__ volatile("pushq %0; popfq" : : "r"(flags) : "memory", "cc");
}

#endif
