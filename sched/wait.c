/*
 * Wait queues, and the mutex and semaphore built on them. Sleepers check
 * their condition under the queue's lock and mark themselves sleeping
 * before dropping it; wakers take the same lock, so a wake-up between the
 * check and the sleep cannot be lost (see the lock order in sched.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/sched.h>
#include <kernel/wait.h>

/* How long a mutex waiter spins while the owner runs, before sleeping. */
#define MUTEX_SPIN_LIMIT        2000

void wq_init(struct wait_queue *wq, const char *name)
{
	spin_init_level(&wq->lock, name, LOCK_LEVEL_WAITQUEUE);
	wq->head = wq->tail = NULL;
}

void wq_sleep_locked(struct wait_queue *wq)
{
	struct task *t = current_task();

	t->wq_next = NULL;
	if (wq->tail)
		wq->tail->wq_next = t;
	else
		wq->head = t;
	wq->tail = t;
	spin_lock(&t->lock);
	t->state = TASK_SLEEPING;
	spin_unlock(&t->lock);
	spin_unlock(&wq->lock);         /* interrupts stay off until we sleep */
	schedule();
	spin_lock(&wq->lock);
}

/* Caller holds wq->lock. */
static struct task *wq_pop(struct wait_queue *wq)
{
	struct task *t = wq->head;

	if (t) {
		wq->head = t->wq_next;
		if (!wq->head)
			wq->tail = NULL;
		t->wq_next = NULL;
	}
	return t;
}

static int wake_up(struct wait_queue *wq, bool all)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);
	int n = 0;
	struct task *t;

	while ((t = wq_pop(wq))) {
		if (sched_wake(t))
			n++;
		if (!all && n)
			break;
	}
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}

int wake_up_one(struct wait_queue *wq)
{
	return wake_up(wq, false);
}

int wake_up_all(struct wait_queue *wq)
{
	return wake_up(wq, true);
}

/* ------------------------------------------------------------ mutex */

bool mutex_trylock(struct mutex *m)
{
	struct task *me = current_task();

	return __atomic_compare_exchange_n(&m->owner, &(struct task *){ NULL }, me, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Spin while the owner is running on another CPU: it will likely let go soon. */
static bool mutex_spin(struct mutex *m)
{
	for (int i = 0; i < MUTEX_SPIN_LIMIT; i++) {
		struct task *owner = m->owner;
		if (!owner)
			return mutex_trylock(m);
		if (!owner->on_cpu || owner->cpu == cpu_id())
			return false;
		cpu_relax();
	}
	return false;
}

void mutex_lock(struct mutex *m)
{
	if (mutex_trylock(m) || mutex_spin(m))
		return;
	uint64_t flags = spin_lock_irqsave(&m->wq.lock);
	while (!mutex_trylock(m))
		wq_sleep_locked(&m->wq);
	spin_unlock_irqrestore(&m->wq.lock, flags);
}

void mutex_unlock(struct mutex *m)
{
	__atomic_store_n(&m->owner, NULL, __ATOMIC_RELEASE);
	/* Always through the lock: a waiter may be between its check and its sleep. */
	wake_up_one(&m->wq);
}

/* ------------------------------------------------------------ semaphore */

void sem_init(struct semaphore *s, int64_t count, const char *name)
{
	wq_init(&s->wq, name);
	s->count = count;
}

void sem_down(struct semaphore *s)
{
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	while (s->count <= 0)
		wq_sleep_locked(&s->wq);
	s->count--;
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

void sem_up(struct semaphore *s)
{
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	s->count++;
	spin_unlock_irqrestore(&s->wq.lock, flags);
	wake_up_one(&s->wq);
}
