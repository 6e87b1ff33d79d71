/*
 * Wait queues, mutexes and counting semaphores (sched/wait.c). A waiter
 * checks its condition and goes to sleep under the wait queue's lock, and a
 * waker changes the condition before it takes that lock, so no wake-up is lost.
 */
#ifndef KERNEL_WAIT_H
#define KERNEL_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/spinlock.h>

struct task;

struct wait_queue {
	spinlock_t lock;
	struct task *head, *tail;       /* guarded by lock */
};

#define WAIT_QUEUE_INIT(n) { .lock = SPINLOCK_INIT_LEVEL(n, LOCK_LEVEL_WAITQUEUE), .head = 0, .tail = 0 }
void wq_init(struct wait_queue *wq, const char *name);
/* Caller holds wq->lock with interrupts off; sleeps, returns with it held again. */
void wq_sleep_locked(struct wait_queue *wq);
/* Wake the first waiter / every waiter; returns how many woke. */
int wake_up_one(struct wait_queue *wq);
int wake_up_all(struct wait_queue *wq);

/* Sleep until cond holds; cond is evaluated under wq->lock. */
#define wait_event(wq, cond) do { \
	uint64_t we_flags_ = spin_lock_irqsave(&(wq)->lock); \
	while (!(cond)) \
		wq_sleep_locked(wq); \
	spin_unlock_irqrestore(&(wq)->lock, we_flags_); \
} while (0)

/* Spin while the holder runs on another CPU, then sleep. */
struct mutex {
	struct wait_queue wq;           /* wq.lock guards owner */
	struct task *volatile owner;
};

#define MUTEX_INIT(n) { .wq = WAIT_QUEUE_INIT(n), .owner = 0 }
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);

struct semaphore {
	struct wait_queue wq;           /* wq.lock guards count */
	volatile int64_t count;
};

void sem_init(struct semaphore *s, int64_t count, const char *name);
void sem_down(struct semaphore *s);
void sem_up(struct semaphore *s);

#endif
