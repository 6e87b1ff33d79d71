/*
 * Mutexes and condition variables on SYS_futex (kestrel/sync.h).
 *
 * The mutex is Drepper's third one ("Futexes Are Tricky", 2011): lock
 * takes 0 -> 1 with a compare-and-swap; a waiter marks the word 2 with an
 * exchange and sleeps while it stays 2; unlock decrements, and only a
 * word that was 2 (somebody may sleep) costs a store of 0 and a wake.
 * A short spin first catches a holder that runs on another CPU and is
 * about to let go.
 */
#include <errno.h>
#include <kestrel/sync.h>

#define MUTEX_SPINS     100     /* tries before sleeping */

enum { M_FREE, M_LOCKED, M_CONTENDED };

bool mutex_trylock(mutex_t *m)
{
	uint32_t expect = M_FREE;

	return __atomic_compare_exchange_n(&m->state, &expect, M_LOCKED, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void mutex_lock(mutex_t *m)
{
	uint32_t c = M_FREE;

	if (__atomic_compare_exchange_n(&m->state, &c, M_LOCKED, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	for (int i = 0; i < MUTEX_SPINS && c == M_LOCKED; i++) {
		__builtin_ia32_pause();
		c = M_FREE;
		if (__atomic_compare_exchange_n(&m->state, &c, M_LOCKED, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
	}
	if (c != M_CONTENDED)
		c = __atomic_exchange_n(&m->state, M_CONTENDED, __ATOMIC_ACQUIRE);
	while (c != M_FREE) {
		futex_wait(&m->state, M_CONTENDED, 0);
		c = __atomic_exchange_n(&m->state, M_CONTENDED, __ATOMIC_ACQUIRE);
	}
}

void mutex_unlock(mutex_t *m)
{
	if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_RELEASE) != M_LOCKED) {
		__atomic_store_n(&m->state, M_FREE, __ATOMIC_RELEASE);
		futex_wake(&m->state, 1);
	}
}

/*
 * A signal between the waiter's read of seq and its sleep changes seq, so
 * the kernel refuses the sleep (-EAGAIN): no wake-up is lost. (Only 2^32
 * signals in that window could fool it.)
 */
long cond_timedwait(cond_t *c, mutex_t *m, uint64_t timeout_ns)
{
	uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
	long r;

	mutex_unlock(m);
	r = futex_wait(&c->seq, seq, timeout_ns);
	mutex_lock(m);
	return r == -ETIMEDOUT ? r : 0;
}

void cond_wait(cond_t *c, mutex_t *m)
{
	cond_timedwait(c, m, 0);
}

void cond_signal(cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	futex_wake(&c->seq, 1);
}

void cond_broadcast(cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	futex_wake(&c->seq, FUTEX_WAKE_ALL);
}
