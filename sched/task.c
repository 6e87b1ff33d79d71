/*
 * Kernel threads: creation on a guarded kernel stack, exit, join (which
 * reaps: stack and struct are freed), and timed sleep on a deadline list
 * checked by every CPU's timer tick.
 */
#include <stdint.h>
#include <arch/fpu.h>
#include <arch/x86.h>
#include <arch/extable.h>
#include <kernel/atomic.h>
#include <kernel/cpu.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/time.h>
#include <kernel/vmm.h>
#include <kernel/wait.h>

#define INITIAL_FRAME_WORDS 8   /* 6 callee-saved + trampoline + zero return */

extern const char task_trampoline[];

static volatile uint64_t next_task_id = 1;
/* Tasks sleeping until a deadline, earliest first. */
static spinlock_t sleep_lock = SPINLOCK_INIT_LEVEL("sleep_list", LOCK_LEVEL_WAITQUEUE);
static struct task *sleep_list;         /* guarded by sleep_lock */
/* Joiners wait here for any task to become a zombie. */
static struct wait_queue exit_wq = WAIT_QUEUE_INIT("task_exit");

/*
 * The new task's stack as context_switch expects it: six callee-saved
 * registers (zero), then task_trampoline as the return address, then a
 * zero return address that ends backtraces.
 */
/* What context_switch (arch/x86_64/switch.S) leaves at saved_rsp: r15 r14 r13 r12 rbx rbp, then the return address. */
#define SWITCH_SAVED_REGS       6
#define SWITCH_SLOT_RBP         5
_Static_assert(INITIAL_FRAME_WORDS == SWITCH_SAVED_REGS + 2, "saved registers, return address, zero");

static void task_stack_init(struct task *t)
{
	uint64_t *sp = (uint64_t *)t->kstack_top;

	*--sp = 0;
	*--sp = (uint64_t)task_trampoline;
	for (int i = 0; i < SWITCH_SAVED_REGS; i++)
		*--sp = 0;
	t->saved_rsp = (uint64_t)sp;
}

void task_print_stack(struct task *t)
{
	const uint64_t *sp = (const uint64_t *)t->saved_rsp;
	uint64_t rbp, rip;

	if (t->on_cpu || !sp || probe_read_u64(&sp[SWITCH_SLOT_RBP], &rbp) ||
	    probe_read_u64(&sp[SWITCH_SAVED_REGS], &rip)) {
		kprintf("    (running, or no saved context)\n");
		return;
	}
	backtrace_from(rip, rbp);
}

/* First C code of every kernel thread (from task_trampoline). */
__attribute__((noreturn)) void task_entry(void)
{
	struct task *t = current_task();

	irq_enable();
	t->fn(t->arg);
	kthread_exit(0);
}

struct task *task_create(void (*fn)(void *), void *arg, const char *name, uint64_t affinity,
			 struct vm_space *vs, struct process *proc)
{
	struct task *t = kzalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->kstack_top = kstack_alloc();
	if (!t->kstack_top) {
		kfree(t);
		return NULL;
	}
	t->id = fetch_add64(&next_task_id, 1);
	strlcpy(t->name, name, sizeof(t->name));
	t->vs = vs;
	t->proc = proc;
	t->fn = fn;
	t->arg = arg;
	t->affinity = affinity;
	t->cpu = cpu_id();
	spin_init_level(&t->lock, "task", LOCK_LEVEL_TASK);
	fpu_init_state(t->fpu);
	task_stack_init(t);
	return t;
}

struct task *kthread_create_on(void (*fn)(void *), void *arg, const char *name, uint64_t affinity)
{
	struct task *t = task_create(fn, arg, name, affinity, &kernel_space, NULL);

	if (t)
		sched_start(t);
	return t;
}

struct task *kthread_create(void (*fn)(void *), void *arg, const char *name)
{
	return kthread_create_on(fn, arg, name, CPU_ANY);
}

void kthread_exit(int64_t status)
{
	struct task *t = current_task();

	/* No preemption from here: a zombie switched out early would never wake its joiner. */
	irq_disable();
	t->blocks_next = true;
	spin_lock(&exit_wq.lock);
	spin_lock(&t->lock);
	t->exit_status = status;
	t->state = TASK_ZOMBIE;
	spin_unlock(&t->lock);
	spin_unlock(&exit_wq.lock);
	wake_up_all(&exit_wq);
	schedule();
	panic("kthread_exit: zombie '%s' was scheduled again", t->name);
}

int64_t kthread_join(struct task *t)
{
	int64_t status;

	sched_pull(t);                  /* not started yet elsewhere: run it here */
	wait_event(&exit_wq, t->state == TASK_ZOMBIE);
	/* Its last context switch may still be under way on its CPU. */
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	status = t->exit_status;
	kstack_free(t->kstack_top);
	kfree(t);
	return status;
}

/*
 * Put the current task on the sleep list until deadline_ns and mark it
 * sleeping; the caller has interrupts off and calls schedule() next (or
 * sleep_abort()). False, and nothing done, if its process is exiting.
 */
bool sleep_prepare(uint64_t deadline_ns)
{
	struct task *t = current_task();
	struct task **pp = &sleep_list;

	spin_lock(&sleep_lock);
	/*
	 * A process killed before this thread got here must not sleep: the
	 * kill set exiting before it looked for sleepers under sleep_lock,
	 * so either it finds this thread in the list or we see exiting.
	 */
	if (t->proc && __atomic_load_n(&t->proc->exiting, __ATOMIC_ACQUIRE)) {
		spin_unlock(&sleep_lock);
		return false;
	}
	t->wake_deadline_ns = deadline_ns;
	while (*pp && (*pp)->wake_deadline_ns <= t->wake_deadline_ns)
		pp = &(*pp)->wq_next;
	t->wq_next = *pp;
	*pp = t;
	spin_lock(&t->lock);
	t->state = TASK_SLEEPING;
	spin_unlock(&t->lock);
	spin_unlock(&sleep_lock);
	return true;
}

/*
 * Undo sleep_prepare() before schedule(): off the sleep list, RUNNING
 * again. If a wake-up (deadline, kill) came first, the task is already
 * READY on a run queue and must call schedule() to settle; returns true then.
 */
bool sleep_abort(void)
{
	struct task *t = current_task();
	bool woken;

	spin_lock(&sleep_lock);
	for (struct task **pp = &sleep_list; *pp; pp = &(*pp)->wq_next)
		if (*pp == t) {
			*pp = t->wq_next;
			break;
		}
	spin_lock(&t->lock);
	woken = t->state == TASK_READY;
	if (t->state == TASK_SLEEPING)
		t->state = TASK_RUNNING;
	spin_unlock(&t->lock);
	spin_unlock(&sleep_lock);
	return woken;
}

void sleep_ns(uint64_t ns)
{
	uint64_t flags = read_rflags();
	uint64_t now = time_ns();

	irq_disable();
	/* A deadline past 2^64 ns would wrap to one in the past. */
	if (sleep_prepare(ns > UINT64_MAX - now ? UINT64_MAX : now + ns))
		schedule();
	if (flags & RFLAGS_IF)
		irq_enable();
}

void sleep_ms(uint64_t ms)
{
	/* A deadline past 2^64 ns (584 years) would wrap to one in the past. */
	sleep_ns(ms > UINT64_MAX / NS_PER_MS / 2 ? UINT64_MAX / 2 : ms * NS_PER_MS);
}

bool sleep_cancel(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&sleep_lock);
	bool found = false;

	for (struct task **pp = &sleep_list; *pp; pp = &(*pp)->wq_next)
		if (*pp == t) {
			*pp = t->wq_next;
			found = true;
			break;
		}
	if (found)
		sched_wake(t);
	spin_unlock_irqrestore(&sleep_lock, flags);
	return found;
}

/* From every CPU's timer tick: wake the sleepers whose deadline passed. */
void sched_wake_sleepers(void)
{
	uint64_t now;

	if (!__atomic_load_n(&sleep_list, __ATOMIC_RELAXED) || !spin_trylock(&sleep_lock))
		return;
	now = time_ns();
	while (sleep_list && sleep_list->wake_deadline_ns <= now) {
		struct task *t = sleep_list;
		sleep_list = t->wq_next;
		sched_wake(t);
	}
	spin_unlock(&sleep_lock);
}
