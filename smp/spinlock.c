/*
 * Spinlock acquisition and release with the LOCK_DEBUG checks. The fast
 * path is one `lock cmpxchg`; waiting spins on a plain load (no bus
 * locking) with `pause`, and retries the cmpxchg only when the lock looks free.
 */
#include <stddef.h>
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/ksyms.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>

/* Before the TSC is calibrated: ~2^33 cycles, a few seconds on any x86-64. */
#define SPIN_TIMEOUT_DEFAULT    (1ull << 33)

static uint64_t spin_timeout = SPIN_TIMEOUT_DEFAULT;
static volatile uint64_t deadlock_reports;

void spin_set_timeout(uint64_t cycles)
{
	spin_timeout = cycles ? cycles : SPIN_TIMEOUT_DEFAULT;
}

uint64_t spin_deadlock_reports(void)
{
	return deadlock_reports;
}

void spin_init(spinlock_t *l, const char *name)
{
	*l = (spinlock_t)SPINLOCK_INIT(name);
}

void spin_init_level(spinlock_t *l, const char *name, uint32_t level)
{
	*l = (spinlock_t)SPINLOCK_INIT_LEVEL(name, level);
}

/* Levelled locks this CPU holds, for the lock-order check. */
struct held_locks {
	const spinlock_t *lock[LOCK_MAX_HELD];
	uint32_t count;
};
static struct held_locks held[MAX_CPUS];

static void order_check(const spinlock_t *l, uint64_t pc)
{
	struct held_locks *h = &held[cpu_id()];

	if (!LOCK_DEBUG || l->level == LOCK_LEVEL_NONE)
		return;
	for (uint32_t i = 0; i < h->count; i++)
		if (h->lock[i]->level >= l->level)
			panic("lock order: '%s' (level %u) taken at %pS while holding '%s' (level %u, "
			      "taken at %pS)", l->name, l->level, (void *)pc, h->lock[i]->name,
			      h->lock[i]->level, (void *)h->lock[i]->owner_pc);
}

static void order_push(const spinlock_t *l)
{
	struct held_locks *h = &held[cpu_id()];

	if (LOCK_DEBUG && l->level != LOCK_LEVEL_NONE && h->count < LOCK_MAX_HELD)
		h->lock[h->count++] = l;
}

static void order_pop(const spinlock_t *l)
{
	struct held_locks *h = &held[cpu_id()];

	if (!LOCK_DEBUG || l->level == LOCK_LEVEL_NONE)
		return;
	for (uint32_t i = h->count; i-- > 0; )
		if (h->lock[i] == l) {
			h->lock[i] = h->lock[--h->count];
			return;
		}
}

static void print_site(const char *what, uint64_t pc)
{
	uint64_t off;
	const char *name = ksym_lookup(pc, &off);

	if (name)
		kprintf("%s %s+0x%lx", what, name, off);
	else
		kprintf("%s 0x%lx", what, pc);
}

static void report_deadlock(spinlock_t *l, uint64_t pc)
{
	kprintf("spinlock: suspected deadlock on lock '%s': held by CPU %d (",
		l->name, l->owner_cpu);
	print_site("taken at", l->owner_pc);
	kprintf("), CPU %u waiting (", cpu_id());
	print_site("at", pc);
	kprintf(")\n");
	fetch_add64(&deadlock_reports, 1);
}

static void lock_slow(spinlock_t *l, uint64_t pc)
{
	uint64_t start = rdtsc();
	bool reported = false;

	while (!raw_spin_trylock(&l->locked)) {
		while (l->locked) {
			cpu_relax();
			if (LOCK_DEBUG && !reported && rdtsc() - start > spin_timeout) {
				report_deadlock(l, pc);
				reported = true;
			}
		}
	}
}

static void lock_acquired(spinlock_t *l, uint64_t pc)
{
	/* lock_depth also keeps the scheduler from preempting a lock holder. */
	this_cpu()->lock_depth++;
	if (LOCK_DEBUG) {
		l->owner_cpu = (int32_t)cpu_id();
		l->owner_pc = pc;
	}
}

static void lock_check_recursion(spinlock_t *l, uint64_t pc)
{
	if (LOCK_DEBUG && l->locked && l->owner_cpu == (int32_t)cpu_id())
		panic("spinlock '%s': recursive acquisition on CPU %u at %s (held since %s)",
		      l->name, cpu_id(), ksym_lookup(pc, NULL) ? ksym_lookup(pc, NULL) : "?",
		      ksym_lookup(l->owner_pc, NULL) ? ksym_lookup(l->owner_pc, NULL) : "?");
}

static void lock_at(spinlock_t *l, uint64_t pc)
{
	lock_check_recursion(l, pc);
	order_check(l, pc);
	if (!raw_spin_trylock(&l->locked))
		lock_slow(l, pc);
	lock_acquired(l, pc);
	order_push(l);
}

void spin_lock(spinlock_t *l)
{
	lock_at(l, (uint64_t)__builtin_return_address(0));
}

bool spin_trylock(spinlock_t *l)
{
	uint64_t pc = (uint64_t)__builtin_return_address(0);

	lock_check_recursion(l, pc);
	if (!raw_spin_trylock(&l->locked))
		return false;
	/* A trylock cannot deadlock, so it may go against the order; still tracked. */
	lock_acquired(l, pc);
	order_push(l);
	return true;
}

static void unlock_at(spinlock_t *l, uint64_t pc)
{
	if (LOCK_DEBUG) {
		if (!l->locked || l->owner_cpu != (int32_t)cpu_id())
			panic("spinlock '%s': released at %s by CPU %u, but %s",
			      l->name, ksym_lookup(pc, NULL) ? ksym_lookup(pc, NULL) : "?",
			      cpu_id(), l->locked ? "another CPU holds it" : "it is not held");
		l->owner_cpu = SPIN_OWNER_NONE;
	}
	order_pop(l);
	this_cpu()->lock_depth--;
	raw_spin_unlock(&l->locked);
}

void spin_unlock(spinlock_t *l)
{
	unlock_at(l, (uint64_t)__builtin_return_address(0));
}

uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t flags = read_rflags();

	irq_disable();
	lock_at(l, (uint64_t)__builtin_return_address(0));
	return flags;
}

void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
	unlock_at(l, (uint64_t)__builtin_return_address(0));
	if (flags & RFLAGS_IF)
		irq_enable();
}
