/*
 * Fibers: M:N user-level threads (user/lib/fiber.c). Many fibers run on a
 * few worker threads, one per CPU, each with its own run queue; an idle
 * worker steals from the others and sleeps on a futex when there is
 * nothing to run. Switching fibers is a function call in user space.
 *
 * A fiber that waits (fiber_join, fiber_mutex_lock, fiber_futex_wait)
 * parks itself, and its worker runs other fibers meanwhile. The same calls
 * work from ordinary threads (main, thread_create): they sleep in the
 * kernel instead. Fibers are cooperative: one that computes without
 * yielding keeps its worker (the kernel still preempts the worker).
 *
 * Each fiber has a FIBER_STACK_SIZE stack with an unmapped guard page
 * below; stacks are cached for the next fiber_create and never unmapped.
 * Every fiber must be joined exactly once, which frees it.
 */
#ifndef USER_KESTREL_FIBER_H
#define USER_KESTREL_FIBER_H

#include <stdbool.h>
#include <stdint.h>

#define FIBER_MAX_WORKERS       16
#define FIBER_STACK_SIZE        (16 * 1024ul)   /* guard page and struct fiber included */

typedef struct fiber fiber_t;
typedef uint64_t (*fiber_fn)(void *arg);

/*
 * Starts `workers` worker threads (0: one per CPU online, at most
 * FIBER_MAX_WORKERS). The first fiber_create does this with 0; returns the
 * number of workers, or a negative errno; -EBUSY if already started with
 * another number.
 */
long fiber_init(int workers);
/* Number of workers, 0 before fiber_init. */
int fiber_workers(void);

/*
 * Makes fn(arg) a fiber, ready to run: on the caller's worker when a fiber
 * creates it, spread over the workers otherwise. 0 and *f, or -ENOMEM.
 */
long fiber_create(fiber_t **f, fiber_fn fn, void *arg);
/* The same, pinned to one worker: never stolen, always resumed there. -EINVAL for no such worker. */
long fiber_create_on(fiber_t **f, int worker, fiber_fn fn, void *arg);
/* Waits for f to end, stores fn's return value (unless value is NULL), frees f. */
long fiber_join(fiber_t *f, uint64_t *value);
/* Ends the calling fiber with a value for fiber_join (like returning from fn); outside fibers, thread_exit. */
__attribute__((noreturn)) void fiber_exit(uint64_t value);
/* Lets the other ready fibers of this worker run first; a no-op outside fibers. */
void fiber_yield(void);
/* The calling fiber, or NULL in an ordinary thread. */
fiber_t *fiber_self(void);
/* The worker running the caller (0 to fiber_workers() - 1), -1 outside fibers. */
int fiber_worker(void);

/*
 * Parks the calling fiber while *word == val (0 when woken, -EAGAIN if it
 * differs); an ordinary thread sleeps in the kernel instead. Wake-ups may
 * be spurious: re-check. fiber_futex_wake wakes up to n waiters of either
 * kind (FUTEX_WAKE_ALL: all) and returns how many.
 */
long fiber_futex_wait(uint32_t *word, uint32_t val);
long fiber_futex_wake(uint32_t *word, uint32_t n);

/* A mutex whose waiters park (fibers) or sleep (threads); 0 free, 1 held, 2 contended. */
typedef struct {
	uint32_t state;
} fiber_mutex_t;

#define FIBER_MUTEX_INITIALIZER { 0 }

void fiber_mutex_lock(fiber_mutex_t *m);
bool fiber_mutex_trylock(fiber_mutex_t *m);
void fiber_mutex_unlock(fiber_mutex_t *m);

/* Per-worker counters since fiber_init. */
struct fiber_stats {
	int workers;
	uint64_t runs[FIBER_MAX_WORKERS];       /* times a fiber was switched to */
	uint64_t steals[FIBER_MAX_WORKERS];     /* fibers taken from other workers */
	uint64_t sleeps[FIBER_MAX_WORKERS];     /* futex sleeps while idle */
};

void fiber_stats(struct fiber_stats *st);

#endif
