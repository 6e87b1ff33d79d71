/*
 * Fibers (kestrel/fiber.h): M:N user threads over one worker thread per CPU.
 *
 * Stacks. Fiber stacks are FIBER_STACK_SIZE slots carved from 1 MiB
 * chunks (CHUNK_SLOTS slots) that are mapped once and never unmapped; the
 * lowest page of each slot is unmapped as its guard, and the struct fiber
 * sits at the top. A freed slot goes to its worker's own free list (up to
 * LOCAL_FREE_MAX, no lock: only that worker's thread touches it) or else
 * to the shared one, and is a later fiber's. Which fiber is running is found from the stack pointer:
 * a pointer into a chunk names its slot, any other (main, thread and
 * worker stacks) means "not a fiber".
 *
 * Switching. Every switch goes through the worker's own context on its
 * thread stack (run()): a fiber saves its registers with fiber_switch and
 * resumes the worker, which then does what the fiber asked for once the
 * fiber's context is safely saved (`post`): queue it again (yield),
 * release the wait-queue lock it parked under (park), or finish it (exit).
 * So no other worker can pick up a fiber whose registers are still live.
 *
 * Queues and stealing. Each worker has a FIFO run queue under a mutex. A
 * fiber made ready by a fiber goes to that fiber's worker, by an ordinary
 * thread to the workers in turn, and a pinned one always to its own
 * worker. A worker with an empty queue steals the oldest unpinned fiber of
 * another, tries IDLE_SPINS times, then sleeps on its own futex word
 * (idle_seq). A producer that leaves surplus work (a queue of two or more,
 * or work for a sleeping worker) wakes one sleeper: the sleeper sets
 * `sleeping` before it looks at the queues a last time and the producer
 * queues before it reads `sleeping`, both sequentially consistent, so one
 * of them sees the other and no work is left with every worker asleep.
 *
 * Joining. The exit and the joiner meet in one word of the fiber
 * (finish_exit(), park_joiner()): no wait bucket, two atomic operations.
 *
 * Waiting. fiber_futex_wait queues the fiber on a bucket of its own
 * (hashed by the word's address) after checking the word under the bucket
 * lock, and parks; fiber_futex_wake takes fibers off and makes them ready.
 * An ordinary thread waiting on the same word sleeps in the kernel futex
 * instead, counted in the bucket's kwaiters so a wake reaches it too.
 *
 * Lock order: bucket lock, then a worker's queue lock; the stack cache
 * lock and the init lock are taken alone.
 */
#include <errno.h>
#include <kestrel.h>
#include <kestrel/fiber.h>
#include <kestrel/sync.h>
#include "fiber_switch.h"

#define CHUNK_SLOTS     64
#define CHUNK_BYTES     (CHUNK_SLOTS * FIBER_STACK_SIZE)
#define MAX_CHUNKS      256             /* 16384 fibers alive at once */
#define CACHE_LINE      64
#define STACK_ALIGN     16              /* SysV AMD64 ABI 3.2.2 */
#define IDLE_SPINS      64              /* steal attempts before an idle worker sleeps */
#define MUTEX_SPINS     32              /* fiber_mutex_lock tries before parking */
#define BUCKETS         64              /* a power of two */
#define HASH_MUL        UINT64_C(0x9E3779B97F4A7C15)    /* 2^64 / golden ratio (Knuth) */
#define HASH_SHIFT      58              /* 64 - log2(BUCKETS) */
#define NOT_PINNED      (-1)
#define LOCAL_FREE_MAX  32              /* free slots a worker keeps without a lock */

_Static_assert(1ul << (64 - HASH_SHIFT) == BUCKETS, "HASH_SHIFT");
_Static_assert(FIBER_STACK_SIZE % KESTREL_PAGE_SIZE == 0, "slots are whole pages");

enum post { POST_NONE, POST_YIELD, POST_PARK, POST_JOIN, POST_EXIT };

/* struct fiber.joiner: one of these, or the parked fiber that joins it. */
#define JOINER_NONE     0       /* nobody waits yet */
#define JOINER_THREAD   1       /* an ordinary thread sleeps in SYS_futex on `done` */
#define JOINER_DONE     2       /* the fiber has finished: later joiners do not wait */

struct fiber {
	uint64_t rsp;                   /* saved by fiber_switch while switched out */
	fiber_fn fn;
	void *arg;
	uint64_t result;
	struct fiber *next;             /* run queue, wait bucket or free list */
	uint32_t *wait_word;            /* parked on this word (bucket lock) */
	uint32_t done;                  /* atomic: 1 once off its stack for good */
	uint32_t refs;                  /* atomic: the fiber's own, its joiner's */
	uintptr_t joiner;               /* atomic: JOINER_* or the joining fiber */
	int pinned;                     /* a worker, or NOT_PINNED */
	int worker;                     /* running or last ran there */
} __attribute__((aligned(CACHE_LINE)));

struct worker {
	mutex_t lock;                   /* guards head, tail, nr, nr_stealable */
	struct fiber *head, *tail;
	uint32_t nr, nr_stealable;      /* also read without the lock, as hints */
	uint32_t sleeping;              /* atomic: about to sleep or asleep on idle_seq */
	uint32_t idle_seq;              /* futex word: bumped to wake the worker */
	int index;
	/* Owned by the worker thread: */
	uint64_t sched_rsp;             /* the worker's context while a fiber runs */
	enum post post;                 /* what the fiber that switched back asked for */
	void *post_arg;
	struct fiber *current;
	struct fiber *free;             /* this worker's own free slots */
	uint32_t nfree;
	uint64_t runs, steals, sleeps;
} __attribute__((aligned(CACHE_LINE)));

struct bucket {
	mutex_t lock;                   /* guards the rest */
	struct fiber *head, *tail;      /* parked fibers, oldest first */
	uint32_t kwaiters;              /* ordinary threads in the kernel futex */
} __attribute__((aligned(CACHE_LINE)));

static struct worker workers[FIBER_MAX_WORKERS];
static uint32_t nworkers;               /* atomic; futex word until fiber_init publishes it */
static mutex_t init_lock = MUTEX_INITIALIZER;
static uint32_t rr_next;                /* atomic: the next worker for ordinary threads' fibers */

static uintptr_t chunks[MAX_CHUNKS];    /* written before nchunks counts them */
static uint32_t nchunks;                /* atomic */
static mutex_t cache_lock = MUTEX_INITIALIZER;  /* guards free_fibers, carved, chunk growth */
static struct fiber *free_fibers;
static uint32_t carved;                 /* slots of the newest chunk handed out */

static struct bucket buckets[BUCKETS];

void fiber_main(struct fiber *f) __attribute__((noreturn, used));
static long fwake(uint32_t *word, uint32_t n, struct worker *from);

/* ------------------------------------------------------------ stacks */

static struct fiber *slot_fiber(uintptr_t slot)
{
	return (struct fiber *)((slot + FIBER_STACK_SIZE - sizeof(struct fiber)) &
				~(uintptr_t)(CACHE_LINE - 1));
}

fiber_t *fiber_self(void)
{
	uintptr_t sp;
	uint32_t n = __atomic_load_n(&nchunks, __ATOMIC_ACQUIRE);

	__asm__("movq %%rsp, %0" : "=r"(sp));
	for (uint32_t i = n; i-- > 0; ) {
		uintptr_t off = sp - chunks[i];
		if (off < CHUNK_BYTES)
			return slot_fiber(chunks[i] + off / FIBER_STACK_SIZE * FIBER_STACK_SIZE);
	}
	return NULL;
}

/* w: the caller's worker, whose own free slots come first (NULL: a thread). */
static struct fiber *slot_get(struct worker *w)
{
	struct fiber *f;
	uintptr_t slot;

	if (w && w->free) {
		f = w->free;
		w->free = f->next;
		w->nfree--;
		return f;
	}
	mutex_lock(&cache_lock);
	f = free_fibers;
	if (f) {
		free_fibers = f->next;
		mutex_unlock(&cache_lock);
		return f;
	}
	if (nchunks == 0 || carved == CHUNK_SLOTS) {
		long base = nchunks == MAX_CHUNKS ? -ENOMEM :
			    sys_mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE);
		if (base < 0) {
			mutex_unlock(&cache_lock);
			return NULL;
		}
		chunks[nchunks] = (uintptr_t)base;
		__atomic_store_n(&nchunks, nchunks + 1, __ATOMIC_RELEASE);
		carved = 0;
	}
	slot = chunks[nchunks - 1] + carved++ * FIBER_STACK_SIZE;
	mutex_unlock(&cache_lock);
	/* The guard: an overflow faults instead of running into the slot below. */
	if (sys_munmap((void *)slot, KESTREL_PAGE_SIZE) < 0)
		return NULL;            /* the slot is lost, which is safe */
	return slot_fiber(slot);
}

/* Drops a reference; the last one frees the slot (to w's own list when it has room). */
static void fiber_put(struct fiber *f, struct worker *w)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (w && w->nfree < LOCAL_FREE_MAX) {
		f->next = w->free;
		w->free = f;
		w->nfree++;
		return;
	}
	mutex_lock(&cache_lock);
	f->next = free_fibers;
	free_fibers = f;
	mutex_unlock(&cache_lock);
}

/* ------------------------------------------------------------ workers */

/* A counter only its worker writes, others read (fiber_stats): no locked add needed. */
static void stat_inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static void wake_worker(struct worker *w)
{
	__atomic_fetch_add(&w->idle_seq, 1, __ATOMIC_SEQ_CST);
	futex_wake(&w->idle_seq, 1);
}

/* Some sleeping worker other than `busy` can steal what is waiting. */
static void wake_a_sleeper(const struct worker *busy)
{
	uint32_t n = __atomic_load_n(&nworkers, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++)
		if (&workers[i] != busy && __atomic_load_n(&workers[i].sleeping, __ATOMIC_SEQ_CST)) {
			wake_worker(&workers[i]);
			return;
		}
}

/* Queue f on a worker; from is the worker of the caller (NULL: an ordinary thread). */
static void make_ready(struct fiber *f, struct worker *from)
{
	struct worker *t;
	uint32_t n;

	if (f->pinned != NOT_PINNED)
		t = &workers[f->pinned];
	else if (from)
		t = from;
	else
		t = &workers[__atomic_fetch_add(&rr_next, 1, __ATOMIC_RELAXED) %
			     __atomic_load_n(&nworkers, __ATOMIC_ACQUIRE)];
	f->next = NULL;
	mutex_lock(&t->lock);
	if (t->tail)
		t->tail->next = f;
	else
		t->head = f;
	t->tail = f;
	n = ++t->nr;
	if (f->pinned == NOT_PINNED)
		t->nr_stealable++;
	mutex_unlock(&t->lock);
	/* Queued before `sleeping` is read: pairs with worker_idle(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (t != from && __atomic_load_n(&t->sleeping, __ATOMIC_SEQ_CST))
		wake_worker(t);
	else if (f->pinned == NOT_PINNED && n > 1)
		wake_a_sleeper(t);
}

static struct fiber *pop_local(struct worker *w)
{
	struct fiber *f;

	if (!__atomic_load_n(&w->nr, __ATOMIC_RELAXED))
		return NULL;
	mutex_lock(&w->lock);
	f = w->head;
	if (f) {
		w->head = f->next;
		if (!w->head)
			w->tail = NULL;
		w->nr--;
		if (f->pinned == NOT_PINNED)
			w->nr_stealable--;
	}
	mutex_unlock(&w->lock);
	return f;
}

/* The oldest unpinned fiber of the first other worker that has one. */
static struct fiber *steal(struct worker *w)
{
	uint32_t n = __atomic_load_n(&nworkers, __ATOMIC_ACQUIRE);

	for (uint32_t k = 1; k < n; k++) {
		struct worker *v = &workers[(w->index + k) % n];
		struct fiber *f, *prev = NULL;

		if (!__atomic_load_n(&v->nr_stealable, __ATOMIC_RELAXED) || !mutex_trylock(&v->lock))
			continue;
		for (f = v->head; f && f->pinned != NOT_PINNED; prev = f, f = f->next)
			;
		if (f) {
			if (prev)
				prev->next = f->next;
			else
				v->head = f->next;
			if (v->tail == f)
				v->tail = prev;
			v->nr--;
			v->nr_stealable--;
		}
		mutex_unlock(&v->lock);
		if (f) {
			stat_inc(&w->steals);
			return f;
		}
	}
	return NULL;
}

/* Is there anything w could run? Read after `sleeping` is set. */
static bool work_visible(const struct worker *w)
{
	uint32_t n = __atomic_load_n(&nworkers, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&w->nr, __ATOMIC_SEQ_CST))
		return true;
	for (uint32_t i = 0; i < n; i++)
		if (&workers[i] != w && __atomic_load_n(&workers[i].nr_stealable, __ATOMIC_SEQ_CST))
			return true;
	return false;
}

static void worker_idle(struct worker *w)
{
	__atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
	uint32_t seq = __atomic_load_n(&w->idle_seq, __ATOMIC_SEQ_CST);
	if (!work_visible(w)) {
		stat_inc(&w->sleeps);
		futex_wait(&w->idle_seq, seq, 0);
	}
	__atomic_store_n(&w->sleeping, 0, __ATOMIC_SEQ_CST);
}

/*
 * The joiner and the exit meet in f->joiner: the joiner swaps in itself
 * (or JOINER_THREAD) where JOINER_NONE was, the exit swaps in JOINER_DONE
 * after setting `done` and wakes whatever it found. Whoever comes second
 * sees the other, so the joiner is woken exactly once.
 */
static void finish_exit(struct worker *w, struct fiber *f)
{
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	uintptr_t j = __atomic_exchange_n(&f->joiner, JOINER_DONE, __ATOMIC_ACQ_REL);
	if (j == JOINER_THREAD)
		futex_wake(&f->done, FUTEX_WAKE_ALL);
	else if (j != JOINER_NONE)
		make_ready((struct fiber *)j, w);
	fiber_put(f, w);
}

/* After a fiber f switched out to join `child`: park it there, unless child has finished. */
static void park_joiner(struct worker *w, struct fiber *f, struct fiber *child)
{
	uintptr_t none = JOINER_NONE;

	if (!__atomic_compare_exchange_n(&child->joiner, &none, (uintptr_t)f, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		make_ready(f, w);
}

/* Runs f until it switches back, then does what it asked for. */
static void run(struct worker *w, struct fiber *f)
{
	w->current = f;
	f->worker = w->index;
	stat_inc(&w->runs);
	fiber_switch(&w->sched_rsp, f->rsp);
	w->current = NULL;
	switch (w->post) {
	case POST_YIELD:
		make_ready(f, w);
		break;
	case POST_PARK:
		mutex_unlock(w->post_arg);
		break;
	case POST_JOIN:
		park_joiner(w, f, w->post_arg);
		break;
	case POST_EXIT:
		finish_exit(w, f);
		break;
	case POST_NONE:
		break;
	}
	w->post = POST_NONE;
}

static uint64_t worker_thread(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(&nworkers, __ATOMIC_ACQUIRE))
		futex_wait(&nworkers, 0, 0);
	for (;;) {
		struct fiber *f = pop_local(w);

		for (int i = 0; !f && i < IDLE_SPINS; i++) {
			f = steal(w);
			if (!f) {
				__builtin_ia32_pause();
				f = pop_local(w);
			}
		}
		if (f)
			run(w, f);
		else
			worker_idle(w);
	}
	return 0;
}

long fiber_init(int want)
{
	struct kestrel_sysinfo si;
	long r = 0;
	int started = 0;

	mutex_lock(&init_lock);
	if (nworkers) {
		r = want <= 0 || (uint32_t)want == nworkers ? (long)nworkers : -EBUSY;
		mutex_unlock(&init_lock);
		return r;
	}
	if (want <= 0)
		want = sysinfo(&si) == 0 && si.cpus_online ? (int)si.cpus_online : 1;
	if (want > FIBER_MAX_WORKERS)
		want = FIBER_MAX_WORKERS;
	for (int i = 0; i < want; i++) {
		workers[i].index = i;
		r = thread_create(worker_thread, &workers[i]);
		if (r < 0)
			break;
		started++;
	}
	if (started) {
		/* Workers that failed to start simply do not exist. */
		__atomic_store_n(&nworkers, (uint32_t)started, __ATOMIC_RELEASE);
		futex_wake(&nworkers, FUTEX_WAKE_ALL);
		r = started;
	}
	mutex_unlock(&init_lock);
	return r;
}

int fiber_workers(void)
{
	return (int)__atomic_load_n(&nworkers, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ fibers */

/* Back to the worker, which does `post` once this context is saved. */
static void to_worker(struct fiber *f, enum post post, void *arg)
{
	struct worker *w = &workers[f->worker];

	w->post = post;
	w->post_arg = arg;
	fiber_switch(&f->rsp, w->sched_rsp);
}

static long create(fiber_t **out, int pinned, fiber_fn fn, void *arg)
{
	struct fiber *f, *self;
	struct fiber_frame *fr;
	long r = fiber_workers() ? 0 : fiber_init(0);

	if (r < 0)
		return r;
	if (pinned != NOT_PINNED && (pinned < 0 || pinned >= fiber_workers()))
		return -EINVAL;
	self = fiber_self();
	f = slot_get(self ? &workers[self->worker] : NULL);
	if (!f)
		return -ENOMEM;
	*f = (struct fiber){ .fn = fn, .arg = arg, .refs = 2, .pinned = pinned, .worker = -1 };
	/* The first frame, with a zeroed gap above it where backtraces end. */
	uint64_t *top = (uint64_t *)(((uintptr_t)f & ~(uintptr_t)(STACK_ALIGN - 1)) - STACK_ALIGN);
	top[0] = top[1] = 0;
	fr = (struct fiber_frame *)top - 1;
	*fr = (struct fiber_frame){ .mxcsr = MXCSR_DEFAULT, .fpucw = FPUCW_DEFAULT,
				    .r12 = (uintptr_t)f, .ret = (uintptr_t)fiber_trampoline };
	f->rsp = (uintptr_t)fr;
	*out = f;
	make_ready(f, self ? &workers[self->worker] : NULL);
	return 0;
}

long fiber_create(fiber_t **f, fiber_fn fn, void *arg)
{
	return create(f, NOT_PINNED, fn, arg);
}

long fiber_create_on(fiber_t **f, int worker, fiber_fn fn, void *arg)
{
	return worker < 0 ? -EINVAL : create(f, worker, fn, arg);
}

void fiber_exit(uint64_t value)
{
	struct fiber *f = fiber_self();

	if (!f)
		thread_exit(value);
	f->result = value;
	to_worker(f, POST_EXIT, NULL);
	__builtin_unreachable();
}

void fiber_main(struct fiber *f)
{
	fiber_exit(f->fn(f->arg));
}

long fiber_join(fiber_t *f, uint64_t *value)
{
	struct fiber *self = fiber_self();

	if (f == self)
		return -EINVAL;
	if (!__atomic_load_n(&f->done, __ATOMIC_ACQUIRE)) {
		uintptr_t none = JOINER_NONE;
		if (self)
			to_worker(self, POST_JOIN, f);  /* resumed once f is done */
		else if (__atomic_compare_exchange_n(&f->joiner, &none, JOINER_THREAD, false,
						     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			while (!__atomic_load_n(&f->done, __ATOMIC_ACQUIRE))
				futex_wait(&f->done, 0, 0);
	}
	/* Either way f is done: JOINER_DONE is stored after `done`. */
	if (value)
		*value = f->result;
	/* self->worker is read after the wait: a parked fiber may resume elsewhere. */
	fiber_put(f, self ? &workers[self->worker] : NULL);
	return 0;
}

void fiber_yield(void)
{
	struct fiber *f = fiber_self();

	if (f)
		to_worker(f, POST_YIELD, NULL);
}

int fiber_worker(void)
{
	struct fiber *f = fiber_self();

	return f ? f->worker : -1;
}

void fiber_stats(struct fiber_stats *st)
{
	st->workers = fiber_workers();
	for (int i = 0; i < FIBER_MAX_WORKERS; i++) {
		st->runs[i] = __atomic_load_n(&workers[i].runs, __ATOMIC_RELAXED);
		st->steals[i] = __atomic_load_n(&workers[i].steals, __ATOMIC_RELAXED);
		st->sleeps[i] = __atomic_load_n(&workers[i].sleeps, __ATOMIC_RELAXED);
	}
}

/* ------------------------------------------------------------ waiting */

static struct bucket *bucket_of(const uint32_t *word)
{
	return &buckets[((uintptr_t)word / sizeof(*word) * HASH_MUL) >> HASH_SHIFT];
}

long fiber_futex_wait(uint32_t *word, uint32_t val)
{
	struct fiber *f = fiber_self();
	struct bucket *b = bucket_of(word);
	long r;

	if (!f) {
		mutex_lock(&b->lock);
		b->kwaiters++;
		mutex_unlock(&b->lock);
		r = futex_wait(word, val, 0);
		mutex_lock(&b->lock);
		b->kwaiters--;
		mutex_unlock(&b->lock);
		return r;
	}
	mutex_lock(&b->lock);
	/* A waker stores the word before it takes the lock: checked here, no wake is lost. */
	if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) {
		mutex_unlock(&b->lock);
		return -EAGAIN;
	}
	f->wait_word = word;
	f->next = NULL;
	if (b->tail)
		b->tail->next = f;
	else
		b->head = f;
	b->tail = f;
	to_worker(f, POST_PARK, &b->lock);      /* the worker unlocks b once we are saved */
	return 0;
}

static long fwake(uint32_t *word, uint32_t n, struct worker *from)
{
	struct bucket *b = bucket_of(word);
	struct fiber *list = NULL, **tail = &list, *f, *prev = NULL, *next;
	uint32_t woken = 0, kw;

	mutex_lock(&b->lock);
	for (f = b->head; f && woken < n; f = next) {
		next = f->next;
		if (f->wait_word != word) {
			prev = f;
			continue;
		}
		if (prev)
			prev->next = next;
		else
			b->head = next;
		if (b->tail == f)
			b->tail = prev;
		f->next = NULL;
		*tail = f;
		tail = &f->next;
		woken++;
	}
	kw = b->kwaiters;
	mutex_unlock(&b->lock);
	for (f = list; f; f = next) {
		next = f->next;         /* make_ready reuses the link */
		make_ready(f, from);
	}
	if (woken < n && kw) {
		long k = futex_wake(word, n - woken);
		if (k > 0)
			woken += (uint32_t)k;
	}
	return woken;
}

long fiber_futex_wake(uint32_t *word, uint32_t n)
{
	struct fiber *self = fiber_self();

	return fwake(word, n, self ? &workers[self->worker] : NULL);
}

/* ------------------------------------------------------------ mutex */

enum { FM_FREE, FM_LOCKED, FM_CONTENDED };

bool fiber_mutex_trylock(fiber_mutex_t *m)
{
	uint32_t c = FM_FREE;

	return __atomic_compare_exchange_n(&m->state, &c, FM_LOCKED, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Drepper's mutex 3 (as in user/lib/sync.c), parking instead of sleeping. */
void fiber_mutex_lock(fiber_mutex_t *m)
{
	uint32_t c = FM_FREE;

	if (__atomic_compare_exchange_n(&m->state, &c, FM_LOCKED, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	for (int i = 0; i < MUTEX_SPINS && c == FM_LOCKED; i++) {
		__builtin_ia32_pause();
		c = FM_FREE;
		if (__atomic_compare_exchange_n(&m->state, &c, FM_LOCKED, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
	}
	if (c != FM_CONTENDED)
		c = __atomic_exchange_n(&m->state, FM_CONTENDED, __ATOMIC_ACQUIRE);
	while (c != FM_FREE) {
		fiber_futex_wait(&m->state, FM_CONTENDED);
		c = __atomic_exchange_n(&m->state, FM_CONTENDED, __ATOMIC_ACQUIRE);
	}
}

void fiber_mutex_unlock(fiber_mutex_t *m)
{
	if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_RELEASE) != FM_LOCKED) {
		__atomic_store_n(&m->state, FM_FREE, __ATOMIC_RELEASE);
		fiber_futex_wake(&m->state, 1);
	}
}
