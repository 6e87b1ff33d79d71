/*
 * Futexes, mutexes and condition variables for threads (user/lib/sync.c).
 * A waiter sleeps in the kernel (SYS_futex) instead of spinning or yielding.
 * Fibers have their own, which park the fiber and not its kernel thread
 * (kestrel/fiber.h).
 */
#ifndef USER_KESTREL_SYNC_H
#define USER_KESTREL_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include <kestrel/sys.h>

/*
 * Sleeps while *word == val, at most timeout_ns (0: no limit). 0 when
 * woken (or spuriously: re-check the condition), -EAGAIN when *word !=
 * val, -ETIMEDOUT, -EINTR, -EFAULT, -EINVAL (word not 4-byte aligned).
 */
static inline long futex_wait(uint32_t *word, uint32_t val, uint64_t timeout_ns)
{
	return sys_futex(word, FUTEX_WAIT, val, timeout_ns);
}

/* Wakes up to n sleepers on word (FUTEX_WAKE_ALL: all); returns how many woke. */
static inline long futex_wake(uint32_t *word, uint32_t n)
{
	return sys_futex(word, FUTEX_WAKE, n, 0);
}

/*
 * A mutex in one word (U. Drepper, "Futexes Are Tricky", mutex 3): 0 free,
 * 1 locked, 2 locked and perhaps waited for. Unlock makes a system call
 * only in state 2. Not recursive; any thread may unlock it.
 */
typedef struct {
	uint32_t state;
} mutex_t;

#define MUTEX_INITIALIZER       { 0 }

void mutex_lock(mutex_t *m);
bool mutex_trylock(mutex_t *m);
void mutex_unlock(mutex_t *m);

/*
 * A condition variable: a sequence number bumped by every signal, which
 * waiters sleep on. Wake-ups may be spurious: wait in a loop on the
 * condition, with the mutex held.
 */
typedef struct {
	uint32_t seq;
} cond_t;

#define COND_INITIALIZER        { 0 }

/* Unlocks m, sleeps until signalled, locks m again. */
void cond_wait(cond_t *c, mutex_t *m);
/* The same, at most timeout_ns: -ETIMEDOUT then (m is locked again in every case). */
long cond_timedwait(cond_t *c, mutex_t *m, uint64_t timeout_ns);
void cond_signal(cond_t *c);
void cond_broadcast(cond_t *c);

#endif
