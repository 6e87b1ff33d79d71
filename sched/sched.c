/*
 * The scheduler: preemptive round-robin with a fixed time slice from each
 * CPU's LAPIC timer, one run queue per CPU (a task keeps its CPU and its
 * cache), new tasks to the least-loaded allowed CPU, idle CPUs steal from
 * the busiest queue, and a reschedule IPI wakes a halted CPU at once.
 *
 * Lock order (outermost first); a path may skip levels but never go back up:
 *   1. wait_queue.lock (also mutex and semaphore internals), sleep_lock
 *   2. task.lock              (state, affinity, exit status)
 *   3. runqueue.lock          (one at a time; stealing uses trylock only)
 *   4. pmm, kmalloc, vm_space and other leaf locks
 * The console lock is a raw lock below all of these.
 *
 * A switched-out task's context is saved only when context_switch has
 * run; until then task.on_cpu stays set, and a CPU about to run the task
 * waits for it to clear (it may have been woken, or stolen, meanwhile).
 */
#include <stddef.h>
#include <stdint.h>
#include <arch/fpu.h>
#include <arch/lapic.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/fbcon.h>
#include <kernel/format.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/vmm.h>

struct runqueue {
	spinlock_t lock;
	struct task *head, *tail;       /* READY tasks, guarded by lock */
	uint32_t nr_ready;              /* guarded by lock, read racily for load */
	struct task *idle;
	volatile bool need_resched;
};

#define BALANCE_TICKS   8       /* periodic pull balance, staggered across CPUs */
#define BALANCE_GAP     2       /* move only when it evens the loads out */

static bool steal_work(uint32_t me, uint32_t min_gap);

static struct runqueue runqueues[MAX_CPUS];
static uint32_t slice_ticks = DEFAULT_SLICE_TICKS;

uint32_t sched_nr_ready(uint32_t cpu)
{
	return runqueues[cpu].nr_ready;
}

struct task *current_task(void)
{
	return this_cpu()->current;
}

/* Caller holds rq->lock. */
static void rq_push(struct runqueue *rq, struct task *t)
{
	t->rq_cpu = (uint32_t)(rq - runqueues);
	t->rq_next = NULL;
	if (rq->tail)
		rq->tail->rq_next = t;
	else
		rq->head = t;
	rq->tail = t;
	rq->nr_ready++;
}

/* Caller holds rq->lock. Removes t, which follows prev (NULL: t is the head). */
static void rq_unlink(struct runqueue *rq, struct task *prev, struct task *t)
{
	if (prev)
		prev->rq_next = t->rq_next;
	else
		rq->head = t->rq_next;
	if (rq->tail == t)
		rq->tail = prev;
	rq->nr_ready--;
	t->rq_next = NULL;
}

/* Caller holds rq->lock. The first task allowed on `cpu`, or NULL. */
static struct task *rq_take(struct runqueue *rq, uint32_t cpu)
{
	struct task *prev = NULL;

	for (struct task *t = rq->head; t; prev = t, t = t->rq_next) {
		if (!(t->affinity & (1ull << cpu)))
			continue;
		rq_unlink(rq, prev, t);
		return t;
	}
	return NULL;
}

static uint32_t cpu_load(uint32_t cpu)
{
	struct runqueue *rq = &runqueues[cpu];
	struct task *cur = cpus[cpu].current;

	return rq->nr_ready + (cur && !cur->is_idle);
}

/* Least-loaded online CPU in the mask; the task's last CPU wins ties. */
static uint32_t pick_cpu(const struct task *t)
{
	uint32_t best = UINT32_MAX, best_load = UINT32_MAX;

	for (uint32_t c = 0; c < ncpus; c++) {
		if (!cpus[c].online || !runqueues[c].idle || !(t->affinity & (1ull << c)))
			continue;
		uint32_t load = cpu_load(c);
		if (load < best_load || (load == best_load && c == t->cpu)) {
			best = c;
			best_load = load;
		}
	}
	if (best == UINT32_MAX)
		panic("sched: task '%s' may run on no online CPU (affinity 0x%lx)",
		      t->name, t->affinity);
	return best;
}

/* Caller holds t->lock; t is READY and on no queue. */
static void enqueue_on(struct task *t, uint32_t cpu)
{
	struct runqueue *rq = &runqueues[cpu];
	bool kick;

	spin_lock(&rq->lock);
	rq_push(rq, t);
	kick = cpus[cpu].current == rq->idle;
	spin_unlock(&rq->lock);
	/* A halted CPU would otherwise notice the task only at its next tick. */
	if (kick && cpu != cpu_id())
		ipi_send(cpu, VEC_RESCHEDULE);
}

void sched_start(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);

	t->state = TASK_READY;
	enqueue_on(t, pick_cpu(t));
	spin_unlock_irqrestore(&t->lock, flags);
}

static bool cpu_idle_now(uint32_t cpu)
{
	return cpus[cpu].current == runqueues[cpu].idle && !runqueues[cpu].nr_ready;
}

/*
 * t waits behind a running task on `busy`: wake an idle CPU that may run
 * t, so it can steal t if that task goes on running (steal_work in
 * sched_idle_loop). Nothing when none is idle.
 */
static void kick_idle_for(const struct task *t, uint32_t busy)
{
	for (uint32_t c = 0; c < ncpus; c++)
		if (c != busy && c != cpu_id() && cpus[c].online && runqueues[c].idle &&
		    (t->affinity & (1ull << c)) && cpu_idle_now(c)) {
			ipi_send(c, VEC_RESCHEDULE);
			return;
		}
}

bool sched_wake(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);
	bool woke = t->state == TASK_SLEEPING;

	if (woke) {
		struct task *waker = current_task();
		uint32_t me = cpu_id(), cpu;
		bool home = (t->affinity & (1ull << t->cpu)) && cpus[t->cpu].online;

		t->state = TASK_READY;
		/*
		 * Back to its own CPU (its cache is there) when that CPU idles, or
		 * is this one and the waker is about to block; else the least
		 * loaded CPU. Queued behind a running task, it gets an idle CPU
		 * to steal it: it must not wait out a slice while CPUs idle.
		 */
		if (home && (cpu_idle_now(t->cpu) || (t->cpu == me && waker && waker->blocks_next)))
			cpu = t->cpu;
		else
			cpu = pick_cpu(t);
		enqueue_on(t, cpu);
		if (!cpu_idle_now(cpu) && !(cpu == me && waker && waker->blocks_next))
			kick_idle_for(t, cpu);
	}
	spin_unlock_irqrestore(&t->lock, flags);
	return woke;
}

static volatile uint64_t pulls;

uint64_t sched_pulls(void)
{
	return pulls;
}

bool sched_pull(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);
	uint32_t me = cpu_id(), from = t->rq_cpu;
	bool moved = false;

	/*
	 * Only from a CPU still idle: t was queued there and the wake-up IPI
	 * is on its way. Behind a running task it is placed for balance.
	 */
	if (t->state == TASK_READY && !t->on_cpu && from != me && from < ncpus &&
	    (t->affinity & (1ull << me)) && cpus[from].current == runqueues[from].idle) {
		struct runqueue *rq = &runqueues[from];
		struct task *prev = NULL, *p;

		spin_lock(&rq->lock);
		/* Still queued there? (steal_work may be carrying it elsewhere.) */
		for (p = rq->head; p && p != t; prev = p, p = p->rq_next)
			;
		if (p) {
			rq_unlink(rq, prev, t);
			moved = true;
		}
		spin_unlock(&rq->lock);
		if (moved) {
			spin_lock(&runqueues[me].lock);
			rq_push(&runqueues[me], t);
			spin_unlock(&runqueues[me].lock);
			__atomic_fetch_add(&pulls, 1, __ATOMIC_RELAXED);
		}
	}
	spin_unlock_irqrestore(&t->lock, flags);
	return moved;
}

/* Runs in the context of the task switched to; prev's context is now saved. */
void sched_finish_switch(struct task *prev)
{
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
}

static void switch_to(struct task *prev, struct task *next)
{
	struct cpu *c = this_cpu();

	/* It may still be switching out on the CPU it ran on before. */
	while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	/*
	 * Only now RUNNING: until its old CPU finished switching it out, that
	 * CPU's schedule() may still look at its state, and RUNNING there
	 * would mean "preempted, queue it again".
	 */
	spin_lock(&next->lock);
	next->state = TASK_RUNNING;
	spin_unlock(&next->lock);
	next->on_cpu = true;
	next->cpu = c->id;
	next->ran_on |= 1ull << c->id;
	c->current = next;
	cpu_set_kernel_stack(c, next->kstack_top);
	c->kernel_rsp = next->kstack_top;
	if (next->vs)
		vmm_activate(next->vs);
	fpu_save(prev->fpu);
	fpu_restore(next->fpu);
	sched_finish_switch(context_switch(prev, next));
}

void schedule(void)
{
	uint64_t flags = read_rflags();
	struct cpu *c;
	struct runqueue *rq;
	struct task *prev, *next;

	irq_disable();
	c = this_cpu();
	rq = &runqueues[c->id];
	prev = c->current;
	rq->need_resched = false;

	spin_lock(&prev->lock);
	spin_lock(&rq->lock);
	if (prev->state == TASK_RUNNING && !prev->is_idle) {
		prev->state = TASK_READY;
		rq_push(rq, prev);
	}
	next = rq_take(rq, c->id);
	if (!next)
		next = rq->idle;
	if (next == prev || next->is_idle)
		next->state = TASK_RUNNING;     /* others: in switch_to, see there */
	next->slice_left = slice_ticks;         /* a fresh slice, also when prev goes on */
	spin_unlock(&rq->lock);
	spin_unlock(&prev->lock);

	if (next != prev)
		switch_to(prev, next);
	if (flags & RFLAGS_IF)
		irq_enable();
}

void sched_yield(void)
{
	schedule();
}

/* Timer interrupt, interrupts off. */
void sched_tick(void)
{
	struct cpu *c = this_cpu();
	struct task *cur = c->current;

	if (!cur)
		return;         /* scheduler not running on this CPU yet */
	cur->ticks++;
	sched_wake_sleepers();
	if (c->id == 0)
		fbcon_tick();   /* wake the screen's drawing thread when there is output */
	/* Busy CPUs pull too, now and then: placement at wake-up is only a guess. */
	if (c->ticks % BALANCE_TICKS == c->id % BALANCE_TICKS && !cur->is_idle)
		steal_work(c->id, BALANCE_GAP);
	if (cur->is_idle) {
		if (runqueues[c->id].nr_ready)
			runqueues[c->id].need_resched = true;
	} else if (cur->slice_left <= 1) {
		cur->slice_left = 0;
		runqueues[c->id].need_resched = true;
	} else {
		cur->slice_left--;
	}
	/* Never preempt a spinlock holder: the next task might want its lock. */
	if (runqueues[c->id].need_resched && c->lock_depth == 0 && !cur->is_idle)
		schedule();
}

/*
 * Take one waiting task from the busiest other CPU if its load exceeds ours
 * by at least min_gap; returns whether one moved. Idle CPUs use a gap of 1
 * (anything waiting), busy ones the periodic balance's gap of 2.
 */
static bool steal_work(uint32_t me, uint32_t min_gap)
{
	uint32_t victim = UINT32_MAX, most = 0, mine = cpu_load(me);
	struct task *t = NULL;

	for (uint32_t c = 0; c < ncpus; c++) {
		uint32_t load = cpu_load(c);
		if (c != me && runqueues[c].nr_ready && load > most) {
			most = load;
			victim = c;
		}
	}
	if (victim == UINT32_MAX || most < mine + min_gap ||
	    !spin_trylock(&runqueues[victim].lock))
		return false;
	t = rq_take(&runqueues[victim], me);
	spin_unlock(&runqueues[victim].lock);
	if (!t)
		return false;
	/* t stays READY; it is on no queue for a moment, which no one can see. */
	spin_lock(&runqueues[me].lock);
	rq_push(&runqueues[me], t);
	spin_unlock(&runqueues[me].lock);
	return true;
}

void sched_idle_loop(void)
{
	uint32_t me = cpu_id();
	struct runqueue *rq = &runqueues[me];

	for (;;) {
		irq_disable();
		if (rq->nr_ready || steal_work(me, 1)) {
			schedule();
			continue;
		}
		/* Nothing to run: zero a frame for the pool, then look again. */
		if (pmm_zero_pool_wants()) {
			irq_enable();
			pmm_zero_pool_refill();
			continue;
		}
		irq_enable_and_halt();
	}
}

static void sched_adopt_boot_context(struct task *idle, uint64_t stack_top)
{
	struct cpu *c = this_cpu();
	struct runqueue *rq = &runqueues[c->id];

	spin_init_level(&rq->lock, "runqueue", LOCK_LEVEL_RUNQUEUE);
	spin_init_level(&idle->lock, "task", LOCK_LEVEL_TASK);
	idle->is_idle = true;
	idle->state = TASK_RUNNING;
	idle->affinity = 1ull << c->id;
	idle->cpu = c->id;
	idle->on_cpu = true;
	idle->kstack_top = stack_top;
	/*
	 * Idle is a kernel task: it keeps whatever user space is loaded (lazy
	 * TLB, see vmm_activate); vmm_destroy() evicts a dying space.
	 */
	idle->vs = &kernel_space;
	fpu_init_state(idle->fpu);
	rq->idle = idle;
	c->current = idle;
	cpu_set_kernel_stack(c, stack_top);
}

static struct task idle_tasks[MAX_CPUS];

/* The boot CPU, and each AP from ap_entry: the current context becomes idle. */
void sched_init_cpu(void)
{
	struct task *idle = &idle_tasks[cpu_id()];

	vmm_init_cpu();

	ksnprintf(idle->name, sizeof(idle->name), "idle/%u", cpu_id());
	sched_adopt_boot_context(idle, this_cpu()->stack_top);
}
