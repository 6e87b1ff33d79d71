/* Atomic helpers: every locked instruction the kernel uses lives here. */
#ifndef KERNEL_ATOMIC_H
#define KERNEL_ATOMIC_H

#include <stdint.h>

/* Returns the old value; the store happened iff it equals `expected`. */
static inline uint32_t cmpxchg32(volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
	uint32_t old;

	__asm__ volatile("lock cmpxchgl %2, %1"
			 : "=a"(old), "+m"(*p)
			 : "r"(desired), "0"(expected)
			 : "memory", "cc");
	return old;
}

static inline uint64_t cmpxchg64(volatile uint64_t *p, uint64_t expected, uint64_t desired)
{
	uint64_t old;

	__asm__ volatile("lock cmpxchgq %2, %1"
			 : "=a"(old), "+m"(*p)
			 : "r"(desired), "0"(expected)
			 : "memory", "cc");
	return old;
}

static inline uint32_t xchg32(volatile uint32_t *p, uint32_t v)
{
	__asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline uint64_t fetch_add64(volatile uint64_t *p, uint64_t v)
{
	__asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory", "cc");
	return v;
}

static inline uint32_t fetch_add32(volatile uint32_t *p, uint32_t v)
{
	__asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory", "cc");
	return v;
}

#endif
