/*
 * Tasks and the scheduler (sched/): preemptive round-robin with one run
 * queue per CPU, work stealing by idle CPUs, and reschedule IPIs to wake
 * halted ones (docs/scheduler.md). The lock order is at the top of
 * sched/sched.c.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#define TASK_OFF_SAVED_RSP      0       /* used by arch/x86_64/switch.S */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/spinlock.h>

#define TASK_NAME_LEN           32
#define FPU_AREA_SIZE           512     /* FXSAVE image */
#define CPU_ANY                 (~0ull) /* affinity: every CPU */
#define DEFAULT_SLICE_TICKS     2

enum task_state {
	TASK_RUNNING,           /* on a CPU */
	TASK_READY,             /* on a run queue */
	TASK_SLEEPING,          /* on a wait queue or the sleep list */
	TASK_ZOMBIE,            /* exited, not yet joined */
};

struct vm_space;
struct process;
struct wait_queue;

struct task {
	uint64_t saved_rsp;             /* TASK_OFF_SAVED_RSP: while switched out */

	/* Set at creation, read-only after: */
	uint64_t id;
	char name[TASK_NAME_LEN];
	uint64_t kstack_top;
	struct vm_space *vs;            /* &kernel_space for kernel threads */
	struct process *proc;           /* NULL for kernel threads */
	void (*fn)(void *);
	void *arg;
	bool is_idle;

	/* Guarded by lock: */
	spinlock_t lock;
	enum task_state state;
	uint64_t affinity;              /* bit n: may run on CPU n */
	int64_t exit_status;

	/* Guarded by the run queue lock of the CPU whose queue holds it: */
	struct task *rq_next;
	uint32_t cpu;                   /* CPU it runs or last ran on */
	uint32_t rq_cpu;                /* whose queue it was last pushed on (sched_pull) */

	/* Guarded by the wait queue's lock (or the sleep list lock) it waits on: */
	struct task *wq_next;
	struct task *reap_next;         /* user threads: the reaper's list */
	uint64_t wake_deadline_ns;

	/* Owned by the CPU running the task: */
	volatile bool on_cpu;           /* its context is live on some CPU */
	uint32_t slice_left;
	volatile uint64_t ticks;        /* timer ticks spent running */
	volatile uint64_t ran_on;       /* bit n: has run on CPU n */
	bool blocks_next;               /* its next step is to block or exit: wake onto its CPU */
	uint8_t fpu[FPU_AREA_SIZE] __attribute__((aligned(16)));
};
_Static_assert(offsetof(struct task, saved_rsp) == TASK_OFF_SAVED_RSP, "task.saved_rsp");

/* Kernel threads. The task must be joined; kthread_join frees it. */
/* Any task: a kernel thread when vs is &kernel_space and proc NULL. Not started. */
struct task *task_create(void (*fn)(void *), void *arg, const char *name, uint64_t affinity,
			 struct vm_space *vs, struct process *proc);
struct task *kthread_create(void (*fn)(void *), void *arg, const char *name);
struct task *kthread_create_on(void (*fn)(void *), void *arg, const char *name, uint64_t affinity);
__attribute__((noreturn)) void kthread_exit(int64_t status);
/* Prints a switched-out task's kernel backtrace (diagnostics). */
void task_print_stack(struct task *t);
int64_t kthread_join(struct task *t);

struct task *current_task(void);
void sched_yield(void);
void sleep_ms(uint64_t ms);
/* End t's timed sleep now, if it is in one (a kill must not wait out a sleep). */
bool sleep_cancel(struct task *t);
/*
 * The parts of a timed sleep, for waits that also sit on a queue of their
 * own (futexes): interrupts off, sleep_prepare(deadline), queue, schedule().
 * A kill or the deadline ends it like a sleep; sleep_abort() undoes it.
 */
bool sleep_prepare(uint64_t deadline_ns);
bool sleep_abort(void);
void sleep_ns(uint64_t ns);

/* Scheduler core (sched/sched.c). */
/* Each CPU, boot CPU first: the running context becomes this CPU's idle task. */
void sched_init_cpu(void);
__attribute__((noreturn)) void sched_idle_loop(void);
void sched_tick(void);                  /* timer interrupt */
void schedule(void);
/* Make a sleeping task runnable; false if it was not sleeping. */
bool sched_wake(struct task *t);
/* Queue a new (or READY) task on the best allowed CPU. */
void sched_start(struct task *t);
/*
 * The caller is about to wait for t: if t is queued on another CPU and has
 * not run yet there, move it to this CPU's queue (it runs as soon as the
 * caller sleeps, with no IPI and no cold CPU). Returns whether it moved.
 */
bool sched_pull(struct task *t);
/* Tasks moved by sched_pull() (statistics, tests). */
uint64_t sched_pulls(void);
void sched_wake_sleepers(void);         /* timer tick, sched/task.c */
uint32_t sched_nr_ready(uint32_t cpu);
/* Internal to sched/: the context switch and the first run of a task. */
struct task *context_switch(struct task *prev, struct task *next);
void sched_finish_switch(struct task *prev);
#endif /* __ASSEMBLER__ */

#endif
