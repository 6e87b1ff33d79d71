/*
 * A tiny user-space lock for the library's shared state (heap, thread list).
 * There is no futex, so a waiter yields its CPU instead of spinning long.
 */
#ifndef USER_LIB_LOCK_H
#define USER_LIB_LOCK_H

#include <kestrel/sys.h>

#define ULOCK_SPINS     64      /* pause this often before giving the CPU away */

typedef struct {
	int locked;
} ulock_t;

#define ULOCK_INIT      { 0 }

static inline void ulock_acquire(ulock_t *l)
{
	for (;;) {
		for (int i = 0; i < ULOCK_SPINS; i++) {
			if (!__atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
			    !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
				return;
			__builtin_ia32_pause();
		}
		sys_yield();
	}
}

static inline void ulock_release(ulock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
