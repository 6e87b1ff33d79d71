/*
 * fuzzchild SEED MS THREADS: issues random system calls with adversarial
 * arguments for MS milliseconds from THREADS threads, then exits 0. Any
 * number in range, invalid ones included; arguments drawn from kernel,
 * non-canonical and unmapped addresses, pointers that run off the end of
 * a mapping, huge and negative lengths, random ids and random bits. Being
 * killed by its own faults (a random thread entry, say) is expected: the
 * kernel must report it and go on. The same seed gives the same calls
 * from each thread (their interleaving is the scheduler's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define MAX_THREADS             4
#define EXTRA_NUMBERS           8       /* numbers past SYS_COUNT, and negative ones */
#define SCRATCH_PAGES           2
#define CHECK_CLOCK_EVERY       64      /* calls between looks at the clock */
#define SMALL_INT_RANGE         64
#define LONG_SLEEP_ONE_IN       256     /* sleep_ms: mostly short, sometimes huge */
#define SHORT_SLEEP_MS          3
#define ALLOC_MAX_SHIFT         28      /* valid-looking lengths up to 256 MiB */
#define CONSOLE_WRITE_MAX       32
#define RARE_ONE_IN             64
#define FUTEX_OPS_TRIED         4       /* FUTEX_WAIT, FUTEX_WAKE and two invalid ops */
#define FUTEX_SHORT_NS          3000000 /* futex waits: mostly short, sometimes unbounded */

/* All six argument registers (docs/syscalls.md: rdi rsi rdx r10 r8 r9). */
static long syscall6(long n, long a, long b, long c, long d, long e, long g)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = g;
	long ret;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static const uint64_t interesting[] = {
	0, 1, 2, 0x7F, 0x80, 0xFF, 0x1000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
	UINT64_C(0x100000000), UINT64_C(0x7FFFFFFFFFFFFFFF), UINT64_C(0x8000000000000000),
	UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 40, UINT64_C(1) << 47,
	UINT64_C(0xFFFFFFFF80000000),           /* kernel image */
	UINT64_C(0xFFFF800000000000),           /* direct map */
	UINT64_C(0x0000800000000000),           /* first non-canonical */
	UINT64_C(0xDEAD000000000000),           /* non-canonical */
	UINT64_C(0x10000),                      /* lowest user page, unmapped */
	UINT64_C(0x7FFFFFFFF000),               /* top of user space */
	UINT64_C(0x100000000000),               /* mmap area */
	UINT64_C(0x400000),                     /* our own text */
};
#define NINTERESTING (sizeof(interesting) / sizeof(interesting[0]))

struct fuzzer {
	uint64_t rng;
	uint64_t deadline_ns;
	uint64_t calls;
	char *scratch;                  /* SCRATCH_PAGES mapped, then unmapped */
};

static uint64_t next(struct fuzzer *f)
{
	/* xorshift64* (Vigna): small, fast, and any seed but 0 is fine. */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * UINT64_C(0x2545F4914F6CDD1D);
}

static uint64_t pick_arg(struct fuzzer *f)
{
	uint64_t r = next(f);

	switch (r % 8) {
	case 0: return interesting[(r >> 8) % NINTERESTING];
	case 1: return (r >> 8) % SMALL_INT_RANGE;
	case 2: return (uint64_t)-(int64_t)((r >> 8) % SMALL_INT_RANGE);
	case 3: return (uint64_t)f->scratch + (r >> 8) % (SCRATCH_PAGES * KESTREL_PAGE_SIZE);
	case 4: /* runs off the end of the mapping into the unmapped page after it */
		return (uint64_t)f->scratch + SCRATCH_PAGES * KESTREL_PAGE_SIZE - 1 - (r >> 8) % 16;
	case 5: return UINT64_C(1) << ((r >> 8) % 64);
	case 6: /* lengths a real program might ask for */
		return ((r >> 8) & ((UINT64_C(1) << ((r >> 40) % ALLOC_MAX_SHIFT)) - 1)) + 1;
	default:
		return r;
	}
}

static void fuzz_one(struct fuzzer *f)
{
	int64_t nr = (int64_t)(next(f) % (SYS_COUNT + EXTRA_NUMBERS)) - EXTRA_NUMBERS / 2;
	uint64_t a[6];

	for (int i = 0; i < 6; i++)
		a[i] = pick_arg(f);
	/*
	 * Calls that end the fuzzer at once are rare, not banned: exits, and a
	 * thread started at a random address (it faults, taking the process).
	 */
	if ((nr == SYS_exit || nr == SYS_thread_exit || nr == SYS_thread_create) &&
	    next(f) % RARE_ONE_IN)
		nr = SYS_yield;
	if (nr == SYS_sleep_ms && next(f) % LONG_SLEEP_ONE_IN)
		a[0] %= SHORT_SLEEP_MS;
	/* Console output is slow under emulation: mostly a bad fd, always short. */
	if (nr == SYS_write) {
		a[0] = next(f) % 16 ? 3 + a[0] % 8 : 1;
		a[2] %= CONSOLE_WRITE_MAX;
	}
	/* Console reads block for input that never comes; a kill ends them. */
	if (nr == SYS_read && next(f) % 16)
		a[0] = 1 + a[0] % 8;    /* not fd 0: -EBADF */
	/* Futex waits on a word that holds the value never end by themselves; a kill ends them. */
	if (nr == SYS_futex && next(f) % 16) {
		a[1] %= FUTEX_OPS_TRIED;
		a[3] = a[3] % FUTEX_SHORT_NS + 1;
	}
	syscall6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
	f->calls++;
}

static void fuzz_loop(struct fuzzer *f)
{
	for (;;) {
		for (int i = 0; i < CHECK_CLOCK_EVERY; i++)
			fuzz_one(f);
		if (clock_ns() >= f->deadline_ns)
			return;
	}
}

static uint64_t thread_main(void *arg)
{
	fuzz_loop(arg);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? (uint64_t)strtol(argv[1], NULL, 0) : 1;
	uint64_t ms = argc > 2 ? (uint64_t)strtol(argv[2], NULL, 0) : 1000;
	long nthreads = argc > 3 ? strtol(argv[3], NULL, 0) : 1;
	static struct fuzzer fz[MAX_THREADS];
	long tids[MAX_THREADS];
	long scratch = sys_mmap(NULL, SCRATCH_PAGES * KESTREL_PAGE_SIZE, PROT_READ | PROT_WRITE);

	if (scratch < 0)
		return 1;
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 1;
	for (long i = 0; i < nthreads; i++)
		fz[i] = (struct fuzzer){ .rng = (seed * 2 + 1) ^ (uint64_t)(i + 1) << 32,
					 .deadline_ns = clock_ns() + ms * 1000000ull,
					 .scratch = (char *)scratch };
	for (long i = 1; i < nthreads; i++)
		tids[i] = thread_create(thread_main, &fz[i]);
	fuzz_loop(&fz[0]);
	for (long i = 1; i < nthreads; i++)
		if (tids[i] >= 0)
			thread_join((int)tids[i], NULL);
	return 0;
}
