/*
 * Process lifecycle: spawn, threads, exit, kill, wait, and the reaper that
 * frees a process's threads and memory once none of them can run again.
 *
 * Lock order (extends sched/sched.c): child_wq.lock / thread_wq.lock ->
 * proc_table_lock -> process.lock -> the scheduler's locks. Wake-ups are
 * done with no process lock held.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/errno.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/vmm.h>

#include "user.h"

static spinlock_t proc_table_lock = SPINLOCK_INIT("proc_table");
/* Guarded by proc_table_lock: */
static struct process *procs[PROC_MAX];
static int next_pid = 1;
static int foreground_pid;              /* SYS_setfg; 0: none. Pids are never reused. */

static struct wait_queue reap_wq = WAIT_QUEUE_INIT("reaper");
/*
 * One queue for every wait() and one for every thread_join(): a waker
 * never has to keep a process alive just to reach its queue. Waiters
 * re-check their own condition.
 */
static struct wait_queue child_wq = WAIT_QUEUE_INIT("child_wait");
static struct wait_queue thread_wq = WAIT_QUEUE_INIT("thread_join");
static struct task *reap_list;          /* guarded by reap_wq.lock */

struct process *current_proc(void)
{
	return current_task()->proc;
}

uint32_t proc_count(void)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	uint32_t n = 0;

	for (int i = 0; i < PROC_MAX; i++)
		n += procs[i] != NULL;
	spin_unlock_irqrestore(&proc_table_lock, flags);
	return n;
}

/* Children of parent in the table, alive or not yet waited for. */
static uint32_t children_of(const struct process *parent)
{
	uint32_t n = 0;

	for (int i = 0; i < PROC_MAX; i++)
		n += procs[i] && procs[i]->parent == parent;
	return n;
}

/*
 * A table slot and a pid, or -EAGAIN when the table is full or parent
 * already has PROC_MAX_CHILDREN (the kernel's own test parent has no limit).
 */
static int proc_register(struct process *p, struct process *parent)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	int rc = -EAGAIN;

	if (parent && parent != proc_kernel_parent() && children_of(parent) >= PROC_MAX_CHILDREN) {
		spin_unlock_irqrestore(&proc_table_lock, flags);
		return -EAGAIN;
	}
	for (int i = 0; i < PROC_MAX; i++)
		if (!procs[i]) {
			procs[i] = p;
			p->pid = next_pid++;
			p->parent = parent;
			if (!parent)
				p->flags |= PROC_F_INIT | PROC_F_POWER;
			rc = 0;
			break;
		}
	spin_unlock_irqrestore(&proc_table_lock, flags);
	return rc;
}

static void proc_unregister(struct process *p)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);

	for (int i = 0; i < PROC_MAX; i++)
		if (procs[i] == p)
			procs[i] = NULL;
	spin_unlock_irqrestore(&proc_table_lock, flags);
}

static void proc_free(struct process *p)
{
	proc_unregister(p);
	kfree(p);
}

/* Start a thread of p at entry with rsp and rdi; the caller holds no locks. */
static int proc_start_thread(struct process *p, uint64_t entry, uint64_t rsp, uint64_t rdi,
			     uint64_t affinity)
{
	struct user_start *st = kmalloc(sizeof(*st));
	struct thread_slot *slot = NULL;
	struct task *t;
	uint64_t flags;

	if (!st)
		return -ENOMEM;
	*st = (struct user_start){ entry, rsp, rdi };
	t = task_create(user_task_start, st, p->name, affinity, p->vs, p);
	if (!t) {
		kfree(st);
		return -ENOMEM;
	}
	flags = spin_lock_irqsave(&p->lock);
	for (int i = 0; i < PROC_MAX_THREADS && !slot; i++)
		if (!p->threads[i].tid)
			slot = &p->threads[i];
	if (!slot || p->exiting) {
		spin_unlock_irqrestore(&p->lock, flags);
		kstack_free(t->kstack_top);
		kfree(t);
		kfree(st);
		return p->exiting ? -ESRCH : -EAGAIN;
	}
	*slot = (struct thread_slot){ .tid = t->id, .task = t };
	p->live_threads++;
	p->unreaped_threads++;
	spin_unlock_irqrestore(&p->lock, flags);
	int tid = (int)t->id;   /* t may run, exit and be freed once started */
	sched_start(t);
	return tid;
}

int proc_spawn(const char *name, int argc, char *const argv[], struct process *parent)
{
	return proc_spawn_on(name, argc, argv, parent, CPU_ANY);
}

int proc_spawn_on(const char *name, int argc, char *const argv[], struct process *parent,
		  uint64_t affinity)
{
	struct process *p = kzalloc(sizeof(*p));
	uint64_t entry, rsp;
	int rc;

	if (!p)
		return -ENOMEM;
	spin_init(&p->lock, "process");
	p->mm_lock = (struct mutex)MUTEX_INIT("process_mm");
	strlcpy(p->name, name, sizeof(p->name));
	p->vs = vmm_create();
	if (!p->vs) {
		kfree(p);
		return -ENOMEM;
	}
	rc = user_load_program(p, name, argc, argv, &entry, &rsp);
	if (rc == 0)
		rc = proc_register(p, parent);
	if (rc < 0) {
		vmm_destroy_with_frames(p->vs);
		proc_release_shared(p);
		kfree(p);
		return rc;
	}
	rc = proc_start_thread(p, entry, rsp, 0, affinity);
	if (rc < 0) {
		vmm_destroy_with_frames(p->vs);
		proc_release_shared(p);
		proc_free(p);
		return rc;
	}
	return p->pid;
}

/* Wake everything a thread may be blocked on, so it notices its process exiting. */
static void proc_wake_all(void)
{
	wake_up_all(&thread_wq);
	wake_up_all(&child_wq);
	console_wake_readers();
}

/*
 * Mark p as exiting with status unless it already is, and end its threads'
 * timed sleeps so they notice; true if this call did. The caller then
 * wakes the other waits (proc_wake_all) with no lock held.
 */
static bool proc_mark_exiting(struct process *p, int status)
{
	uint64_t flags = spin_lock_irqsave(&p->lock);
	bool first = !p->exiting;

	if (first) {
		p->exiting = true;
		p->exit_status = status;
		/* Under p->lock a thread's task cannot exit and be freed. */
		for (int i = 0; i < PROC_MAX_THREADS; i++)
			if (p->threads[i].task)
				sleep_cancel(p->threads[i].task);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return first;
}

#define WAIT_PID_NONE   (-2)    /* several waiters: no direct hand-off */

static void reap_later(struct task *t);

/*
 * p's last thread t is exiting: if p's parent sleeps in proc_wait for it
 * (alone), mark p PROC_EXITED and wake the parent, which frees t and p's
 * memory itself; false: the reaper does. Under child_wq.lock, which the
 * waiter holds from its last look to its sleep, so it cannot miss it.
 */
static bool hand_to_parent(struct process *p, struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&child_wq.lock);
	struct process *parent;
	bool direct;

	spin_lock(&proc_table_lock);
	parent = p->parent;
	direct = parent && parent->waiters == 1 &&
		 (parent->wait_pid == -1 || parent->wait_pid == p->pid);
	if (direct) {
		spin_lock(&p->lock);
		if (!p->exiting) {
			p->exiting = true;
			p->exit_status = 0;
		}
		p->last_task = t;
		p->state = PROC_EXITED;
		spin_unlock(&p->lock);
	}
	spin_unlock(&proc_table_lock);
	spin_unlock_irqrestore(&child_wq.lock, flags);
	if (direct)
		wake_up_all(&child_wq);
	return direct;
}

void proc_thread_exit(uint64_t value)
{
	struct task *t = current_task();
	struct process *p = t->proc;
	uint64_t flags = spin_lock_irqsave(&p->lock);
	bool last;

	for (int i = 0; i < PROC_MAX_THREADS; i++)
		if (p->threads[i].task == t) {
			p->threads[i].done = true;
			p->threads[i].value = value;
			p->threads[i].task = NULL;
		}
	p->live_threads--;
	p->cpu_ticks += t->ticks;
	/* The only thread left to free is this one: the parent may take it all. */
	last = p->live_threads == 0 && p->unreaped_threads == 1;
	spin_unlock_irqrestore(&p->lock, flags);
	t->blocks_next = true;          /* whoever we wake may have this CPU */
	wake_up_all(&thread_wq);
	if (last && hand_to_parent(p, t))
		kthread_exit(0);
	reap_later(t);
	kthread_exit(0);
}

/* The reaper frees t once it is off its CPU (and p's memory after its last thread). */
static void reap_later(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&reap_wq.lock);

	t->reap_next = reap_list;
	reap_list = t;
	spin_unlock_irqrestore(&reap_wq.lock, flags);
	wake_up_one(&reap_wq);
}

void proc_exit(int status)
{
	if (proc_mark_exiting(current_proc(), status))
		proc_wake_all();
	proc_thread_exit(0);
}

void proc_check_exit(void)
{
	struct process *p = current_proc();

	if (p && p->exiting)
		proc_thread_exit(0);
}

static struct process *find_alive(int pid)
{
	for (int i = 0; i < PROC_MAX; i++)
		if (procs[i] && procs[i]->pid == pid && procs[i]->state == PROC_ALIVE)
			return procs[i];
	return NULL;
}

/* Is p the ancestor itself or one of its descendants? Under proc_table_lock. */
static bool is_descendant(const struct process *p, const struct process *ancestor)
{
	for (int depth = 0; p && depth <= PROC_MAX; depth++, p = p->parent)
		if (p == ancestor)
			return true;
	return false;
}

/* A NULL killer is the kernel, which may end any process. */
int proc_kill_from(struct process *killer, int pid, int status)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	struct process *p = find_alive(pid);
	int rc = 0;

	if (!p)
		rc = -ESRCH;
	else if (killer && (p->flags & PROC_F_INIT))
		rc = -EPERM;            /* nothing would be left to run */
	else if (killer && !is_descendant(p, killer))
		rc = -EPERM;
	else
		proc_mark_exiting(p, status);   /* p stays in the table while we hold its lock */
	spin_unlock_irqrestore(&proc_table_lock, flags);
	if (rc == 0)
		proc_wake_all();
	return rc;
}

int proc_kill(int pid, int status)
{
	return proc_kill_from(NULL, pid, status);
}

int proc_set_foreground(struct process *caller, int pid)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	struct process *old = foreground_pid ? find_alive(foreground_pid) : NULL;
	struct process *p = pid ? find_alive(pid) : NULL;
	int rc = foreground_pid;

	if (pid && !p)
		rc = -ESRCH;
	else if (p && ((p->flags & PROC_F_INIT) || !is_descendant(p, caller)))
		rc = -EPERM;
	else if (old && !is_descendant(old, caller))
		rc = -EPERM;            /* someone else's program has the console */
	else
		foreground_pid = pid;
	spin_unlock_irqrestore(&proc_table_lock, flags);
	return rc;
}

/* From the console's input path, possibly in an interrupt handler. */
bool proc_interrupt_foreground(void)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	struct process *p = foreground_pid ? find_alive(foreground_pid) : NULL;

	/* SYS_setfg never lets init in; checked again so nothing can end init. */
	if (p && !(p->flags & PROC_F_INIT))
		proc_mark_exiting(p, KESTREL_KILL_INTERRUPT << 8);
	else
		p = NULL;
	spin_unlock_irqrestore(&proc_table_lock, flags);
	if (p)
		proc_wake_all();
	return p != NULL;
}

int proc_setpriv(struct process *caller, int pid, uint32_t privs)
{
	uint32_t want = privs & KESTREL_PRIV_POWER ? PROC_F_POWER : 0;
	uint64_t flags;
	struct process *p;
	int rc = 0;

	if (privs & ~KESTREL_PRIV_ALL)
		return -EINVAL;
	flags = spin_lock_irqsave(&proc_table_lock);
	p = find_alive(pid);
	if (!p)
		rc = -ESRCH;
	else if ((caller->flags & want) != want || !is_descendant(p, caller))
		rc = -EPERM;
	else
		p->flags |= want;
	spin_unlock_irqrestore(&proc_table_lock, flags);
	return rc;
}

/*
 * The last thread is gone: free the memory, then tell the parent (or go).
 * claimed: the parent called this from proc_wait and frees p itself.
 */
static void proc_finish(struct process *p, bool claimed)
{
	struct process *parent;
	uint64_t flags;

	struct process *dead[PROC_MAX];
	struct task *handed[PROC_MAX];
	int ndead = 0, nhanded = 0;

	vmm_destroy_with_frames(p->vs);
	p->vs = NULL;
	proc_release_reservations(p);
	proc_release_shared(p);
	flags = spin_lock_irqsave(&proc_table_lock);
	for (int i = 0; i < PROC_MAX; i++) {
		struct process *c = procs[i];
		if (!c || c->parent != p)
			continue;
		c->parent = NULL;               /* a live orphan frees itself when done */
		if (c->state == PROC_ZOMBIE) {  /* a dead one nobody will wait for */
			procs[i] = NULL;
			dead[ndead++] = c;
		} else if (c->state == PROC_EXITED) {
			/* Handed to us, never claimed: the reaper finishes it (below). */
			handed[nhanded++] = c->last_task;
		}
	}
	spin_lock(&p->lock);
	if (!p->exiting) {
		p->exiting = true;
		p->exit_status = 0;
	}
	p->state = PROC_ZOMBIE;
	spin_unlock(&p->lock);
	parent = p->parent;
	spin_unlock_irqrestore(&proc_table_lock, flags);
	if (p->flags & PROC_F_INIT)
		kprintf("kestrel: init (pid %d) has exited (status 0x%x): no process is left "
			"to start programs\n", p->pid, p->exit_status);
	while (ndead)
		kfree(dead[--ndead]);
	while (nhanded)
		reap_later(handed[--nhanded]);
	if (claimed)
		return;
	if (parent)
		wake_up_all(&child_wq);
	else
		proc_free(p);
}

/* Zombie orphans left in the table are freed here too (their parent left first). */
static void reaper(void *arg)
{
	(void)arg;
	for (;;) {
		struct task *t;
		uint64_t flags = spin_lock_irqsave(&reap_wq.lock);

		while (!reap_list)
			wq_sleep_locked(&reap_wq);
		t = reap_list;
		reap_list = t->reap_next;
		spin_unlock_irqrestore(&reap_wq.lock, flags);

		struct process *p = t->proc;
		kthread_join(t);
		flags = spin_lock_irqsave(&p->lock);
		bool last = --p->unreaped_threads == 0;
		spin_unlock_irqrestore(&p->lock, flags);
		if (last)
			proc_finish(p, false);
	}
}

/* A zombie child of parent (pid, or any when -1); -ECHILD when it has none. */
static int find_child(struct process *parent, int pid, struct process **zombie)
{
	bool any = false;

	*zombie = NULL;
	for (int i = 0; i < PROC_MAX; i++) {
		struct process *c = procs[i];
		if (!c || c->parent != parent || (pid != -1 && c->pid != pid))
			continue;
		any = true;
		if (c->state == PROC_ZOMBIE || c->state == PROC_EXITED) {
			*zombie = c;
			return 0;
		}
	}
	return any ? 0 : -ECHILD;
}

/*
 * The parent is about to wait for child pid: a child thread still queued
 * on another CPU moves to this one. Under proc_table_lock.
 */
static void pull_child(struct process *parent, int pid)
{
	for (int i = 0; i < PROC_MAX; i++) {
		struct process *c = procs[i];
		if (!c || c->parent != parent || c->pid != pid)
			continue;
		spin_lock(&c->lock);
		for (int k = 0; k < PROC_MAX_THREADS; k++)
			if (c->threads[k].task)
				sched_pull(c->threads[k].task);
		spin_unlock(&c->lock);
		return;
	}
}

bool proc_translate(int pid, uint64_t va, uint64_t *pa)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	struct process *p = find_alive(pid);
	bool found = p && p->vs && vmm_translate(p->vs, va, pa, NULL);

	spin_unlock_irqrestore(&proc_table_lock, flags);
	return found;
}

struct process *proc_kernel_parent(void)
{
	static struct process kernel_parent = { .name = "kernel" };

	return &kernel_parent;
}

int proc_wait(struct process *parent, int pid, int *status, uint64_t *ticks)
{
	struct process *z;
	uint64_t flags = spin_lock_irqsave(&child_wq.lock);
	int rc;

	/* Announce the wait (hand_to_parent): one waiter may get its child directly. */
	parent->wait_pid = parent->waiters++ ? WAIT_PID_NONE : pid;
	for (bool pulled = false;; pulled = true) {
		spin_lock(&proc_table_lock);
		rc = find_child(parent, pid, &z);
		if (z)
			z->parent = NULL;       /* ours now: no one else waits for it */
		else if (rc == 0 && pid != -1 && !pulled)
			pull_child(parent, pid);
		spin_unlock(&proc_table_lock);
		if (rc < 0 || z)
			break;
		if (parent->exiting) {
			rc = -EINTR;
			break;
		}
		wq_sleep_locked(&child_wq);
	}
	parent->waiters--;
	parent->wait_pid = WAIT_PID_NONE;
	spin_unlock_irqrestore(&child_wq.lock, flags);
	if (rc < 0)
		return rc;
	if (z->state == PROC_EXITED) {
		/* Its last thread handed it to us: free the thread, then the rest, here. */
		kthread_join(z->last_task);
		z->unreaped_threads--;
		proc_finish(z, true);
	}
	*status = z->exit_status;
	if (ticks)
		*ticks = z->cpu_ticks;
	rc = z->pid;
	proc_free(z);
	return rc;
}

int proc_thread_create(uint64_t entry, uint64_t arg, uint64_t stack_top)
{
	if (!user_range_ok_addr(entry) || !user_range_ok_addr(stack_top - 8))
		return -EFAULT;
	return proc_start_thread(current_proc(), entry, stack_top, arg, CPU_ANY);
}

int proc_thread_join(uint64_t tid, uint64_t *value)
{
	struct process *p = current_proc();
	struct thread_slot *slot = NULL;
	uint64_t flags = spin_lock_irqsave(&thread_wq.lock);
	int rc = 0;

	spin_lock(&p->lock);
	for (int i = 0; i < PROC_MAX_THREADS; i++)
		if (p->threads[i].tid == tid && p->threads[i].task != current_task())
			slot = &p->threads[i];
	/* We are about to wait for it: if it has not started on another CPU, run it here. */
	if (slot && slot->task)
		sched_pull(slot->task);
	spin_unlock(&p->lock);
	if (!slot) {
		spin_unlock_irqrestore(&thread_wq.lock, flags);
		return -ESRCH;
	}
	while (!slot->done && !p->exiting)
		wq_sleep_locked(&thread_wq);
	spin_lock(&p->lock);
	if (slot->done) {
		*value = slot->value;
		slot->tid = 0;
	} else {
		rc = -EINTR;
	}
	spin_unlock(&p->lock);
	spin_unlock_irqrestore(&thread_wq.lock, flags);
	return rc;
}

int proc_list(struct kestrel_proc_info *out, int max)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);
	int n = 0;

	for (int i = 0; i < PROC_MAX && n < max; i++) {
		struct process *p = procs[i];
		if (!p)
			continue;
		struct kestrel_proc_info *e = &out[n++];
		memset(e, 0, sizeof(*e));
		spin_lock(&p->lock);
		e->pid = p->pid;
		e->ppid = p->parent ? p->parent->pid : 0;
		e->threads = p->live_threads;
		e->state = p->state != PROC_ALIVE ? KESTREL_PROC_STATE_ZOMBIE : KESTREL_PROC_STATE_RUNNING;
		e->cpu_ticks = p->cpu_ticks;
		for (int k = 0; k < PROC_MAX_THREADS; k++)
			if (p->threads[k].task)
				e->cpu_ticks += p->threads[k].task->ticks;
		e->mem_pages = p->pages;
		strlcpy(e->name, p->name, sizeof(e->name));
		spin_unlock(&p->lock);
	}
	spin_unlock_irqrestore(&proc_table_lock, flags);
	return n;
}

static const char *const state_names[] = {
	[PROC_ALIVE] = "alive", [PROC_ZOMBIE] = "zombie", [PROC_EXITED] = "exited",
};
static const char *const task_state_names[] = {
	[TASK_RUNNING] = "running", [TASK_READY] = "ready", [TASK_SLEEPING] = "sleeping",
	[TASK_ZOMBIE] = "zombie",
};

/* Every process, its counts and its threads' kernel stacks (a leak report, say). */
void proc_dump(void)
{
	uint64_t flags = spin_lock_irqsave(&proc_table_lock);

	for (int i = 0; i < PROC_MAX; i++) {
		struct process *p = procs[i];
		if (!p)
			continue;
		spin_lock(&p->lock);
		kprintf("proc: pid %d %s: %s%s, parent %d, %u live / %u unreaped threads, "
			"%u waiting\n", p->pid, p->name, state_names[p->state],
			p->exiting ? " exiting" : "", p->parent ? p->parent->pid : 0,
			p->live_threads, p->unreaped_threads, p->waiters);
		for (int k = 0; k < PROC_MAX_THREADS; k++) {
			struct thread_slot *s = &p->threads[k];
			if (!s->tid)
				continue;
			kprintf("  tid %lu: %s", s->tid, s->done ? "done" : "");
			if (s->task) {
				kprintf("%s on CPU %u\n", task_state_names[s->task->state],
					s->task->cpu);
				task_print_stack(s->task);
			} else {
				kprintf("\n");
			}
		}
		spin_unlock(&p->lock);
	}
	spin_unlock_irqrestore(&proc_table_lock, flags);
}

void proc_init(void)
{
	if (!kthread_create(reaper, NULL, "reaper"))
		panic("proc: cannot start the reaper");
}
