/*
 * badptr: hands every pointer-taking system call each kind of bad pointer
 * (NULL, the kernel half, two non-canonical addresses, an unmapped user
 * page, and an object that starts mapped and runs into an unmapped page).
 * Each call must fail with -EFAULT and the kernel must survive
 * (docs/syscalls.md). KTAP; the exit status is the number of failures.
 */
#include <stdio.h>
#include <string.h>
#include <kestrel.h>
#include <ktap.h>

#define KERNEL_ADDR             UINT64_C(0xFFFFFFFF80000000)    /* kernel image */
#define NONCANON_LOW_ADDR       UINT64_C(0x0000800000000000)    /* just past user space */
#define NONCANON_HIGH_ADDR      UINT64_C(0xDEAD000000000000)
#define BUF_LEN                 64      /* bytes passed with read/write buffers */
#define STRADDLE_BACK           8       /* a straddling buffer starts this far below the hole */
#define HOLE_PAGES              3       /* mapped, hole, mapped */

enum kind { K_NULL, K_KERNEL, K_NONCANON_LOW, K_NONCANON_HIGH, K_UNMAPPED, K_STRADDLE, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"null", "kernel", "noncanon-low", "noncanon-high", "unmapped", "straddle",
};

#define ALL_KINDS               ((1u << K_COUNT) - 1)
#define KIND(k)                 (1u << (k))

/*
 * An unmapped page between two mapped ones: it is the "unmapped" pointer,
 * and an object just below it straddles into it. Being a one-page hole, the
 * bigger mappings made later (thread stacks) cannot land in it.
 */
static char *hole;

struct call {
	const char *name;
	long (*fn)(uintptr_t p);
	unsigned kinds;
	size_t straddle_back;           /* bytes of the object left in the mapped page */
};

static const char *const hello_argv[] = { "hello", NULL };

/* Fills the mapped bytes below the hole with a value, so strings and arrays run on into it. */
static void fill_below_hole(uint64_t v)
{
	memcpy(hole - sizeof v, &v, sizeof v);
}

/* A spawn that unexpectedly worked leaves a child: reap it. */
static long spawn_result(long r)
{
	if (r > 0)
		wait((int)r, NULL);
	return r;
}

static long call_write(uintptr_t p)
{
	return sys_write(1, (const void *)p, BUF_LEN);
}

/* The kernel must check the whole buffer before it waits for console input. */
static long call_read(uintptr_t p)
{
	return sys_read(0, (void *)p, BUF_LEN);
}

static long call_spawn_name(uintptr_t p)
{
	fill_below_hole(UINT64_C(0x7878787878787878));  /* "xxxxxxxx", no NUL */
	return spawn_result(sys_spawn((const char *)p, hello_argv));
}

static long call_spawn_argv(uintptr_t p)
{
	fill_below_hole((uintptr_t)hello_argv[0]);      /* argv[0] fine, argv[1] in the hole */
	return spawn_result(sys_spawn("hello", (const char *const *)p));
}

/* A NULL element would just end argv, so that kind is not tried. */
static long call_spawn_arg(uintptr_t p)
{
	const char *argv[] = { "hello", (const char *)p, NULL };

	fill_below_hole(UINT64_C(0x7878787878787878));
	return spawn_result(sys_spawn("hello", argv));
}

static long call_wait(uintptr_t p)
{
	const char *argv[] = { "hello", "0", NULL };
	long pid = spawn("hello", argv), r;

	if (pid < 0)
		return pid;
	r = sys_wait((int)pid, (int *)p);
	/* Reap the child whether or not the failed call already did. */
	wait((int)pid, NULL);
	return r;
}

static uint64_t thread_quick(void *arg)
{
	return (uintptr_t)arg;
}

static long call_thread_join(uintptr_t p)
{
	long tid = thread_create(thread_quick, NULL), r;

	if (tid < 0)
		return tid;
	r = sys_thread_join((int)tid, (uint64_t *)p);
	thread_join((int)tid, NULL);
	return r;
}

static long call_ps(uintptr_t p)
{
	return sys_ps((struct kestrel_proc_info *)p, 1);
}

static long call_sysinfo(uintptr_t p)
{
	return sys_sysinfo((struct kestrel_sysinfo *)p);
}

/*
 * thread_create's entry and stack are addresses the new thread will use,
 * not objects the kernel reads: only non-user ones can be refused (an
 * unmapped user address is the thread's own fault, in ring 3).
 */
static char thread_stack[KESTREL_PAGE_SIZE] __attribute__((aligned(16)));

static void never_run(void *arg)
{
	(void)arg;
	sys_exit(1);
}

static long call_thread_entry(uintptr_t p)
{
	return sys_thread_create((void (*)(void *))p, NULL, thread_stack + sizeof thread_stack);
}

static long call_thread_stack(uintptr_t p)
{
	return sys_thread_create(never_run, NULL, (void *)p);
}

static long call_dmesg(uintptr_t p)
{
	return sys_dmesg((char *)p, BUF_LEN);
}

/* munmap takes an address, not an object: only non-user addresses are bad. */
static long call_munmap(uintptr_t p)
{
	return sys_munmap((void *)p, KESTREL_PAGE_SIZE);
}

/* The word is read under the kernel's futex lock: a bad one is -EFAULT, never a sleep. */
static long call_futex_wait(uintptr_t p)
{
	return sys_futex((uint32_t *)p, FUTEX_WAIT, 0, 1);
}

/* A wake reads no memory: only addresses outside user space are bad. */
static long call_futex_wake(uintptr_t p)
{
	return sys_futex((uint32_t *)p, FUTEX_WAKE, 1, 0);
}

static const struct call calls[] = {
	{ "write", call_write, ALL_KINDS, STRADDLE_BACK },
	{ "read", call_read, ALL_KINDS, STRADDLE_BACK },
	{ "spawn-name", call_spawn_name, ALL_KINDS, STRADDLE_BACK },
	{ "spawn-argv", call_spawn_argv, ALL_KINDS, STRADDLE_BACK },
	{ "spawn-argv-element", call_spawn_arg, ALL_KINDS & ~KIND(K_NULL), STRADDLE_BACK },
	{ "wait-status", call_wait, ALL_KINDS, sizeof(int) / 2 },
	{ "thread_join-value", call_thread_join, ALL_KINDS, sizeof(uint64_t) / 2 },
	{ "ps", call_ps, ALL_KINDS, STRADDLE_BACK },
	{ "sysinfo", call_sysinfo, ALL_KINDS, STRADDLE_BACK },
	{ "dmesg", call_dmesg, ALL_KINDS, STRADDLE_BACK },
	{ "thread_create-entry", call_thread_entry,
	  KIND(K_NULL) | KIND(K_KERNEL) | KIND(K_NONCANON_LOW) | KIND(K_NONCANON_HIGH), 0 },
	/* A stack *top* at the end of user space is fine: its first push lands below. */
	{ "thread_create-stack", call_thread_stack,
	  KIND(K_NULL) | KIND(K_KERNEL) | KIND(K_NONCANON_HIGH), 0 },
	{ "munmap", call_munmap, KIND(K_KERNEL) | KIND(K_NONCANON_LOW) | KIND(K_NONCANON_HIGH), 0 },
	/* A straddling word would be misaligned (-EINVAL): 4-byte words never straddle pages. */
	{ "futex-wait", call_futex_wait, ALL_KINDS & ~KIND(K_STRADDLE), 0 },
	{ "futex-wake", call_futex_wake,
	  KIND(K_NULL) | KIND(K_KERNEL) | KIND(K_NONCANON_LOW) | KIND(K_NONCANON_HIGH), 0 },
};

#define CALLS   ((int)(sizeof calls / sizeof calls[0]))

static uintptr_t bad_pointer(enum kind k, size_t straddle_back)
{
	switch (k) {
	case K_NULL: return 0;
	case K_KERNEL: return KERNEL_ADDR;
	case K_NONCANON_LOW: return NONCANON_LOW_ADDR;
	case K_NONCANON_HIGH: return NONCANON_HIGH_ADDR;
	case K_UNMAPPED: return (uintptr_t)hole;
	default: return (uintptr_t)hole - straddle_back;
	}
}

static bool make_hole(void)
{
	long base = sys_mmap(NULL, HOLE_PAGES * KESTREL_PAGE_SIZE, PROT_READ | PROT_WRITE), r;

	if (base < 0) {
		printf("badptr: mmap: %s\n", kestrel_strerror(base));
		return false;
	}
	hole = (char *)base + KESTREL_PAGE_SIZE;
	r = sys_munmap(hole, KESTREL_PAGE_SIZE);
	if (r < 0) {
		printf("badptr: munmap: %s\n", kestrel_strerror(r));
		return false;
	}
	return true;
}

/*
 * The other side: a buffer in pages sbrk/mmap reserved but nobody touched
 * yet (demand-zero) is a good pointer. Each call must succeed, and the
 * kernel's copy faults the page in.
 */
#define FRESH_CASES     3
#define FRESH_PAGES     4

static void fresh_buffer_cases(void)
{
	long base = sys_mmap(NULL, FRESH_PAGES * KESTREL_PAGE_SIZE, PROT_READ | PROT_WRITE), r;
	char *b = (char *)base;

	if (base < 0) {
		for (int i = 0; i < FRESH_CASES; i++)
			ktap_result(false, "fresh_mmap", "mmap: %s", kestrel_strerror(base));
		return;
	}
	r = sys_ps((struct kestrel_proc_info *)b, 1);
	ktap_result(r == 1, "ps/fresh_mmap_page", "got %ld, expected 1 entry", r);
	r = sys_sysinfo((struct kestrel_sysinfo *)(b + KESTREL_PAGE_SIZE));
	ktap_result(r == 0, "sysinfo/fresh_mmap_page", "got %ld, expected 0", r);
	r = sys_dmesg(b + 2 * KESTREL_PAGE_SIZE, 2 * KESTREL_PAGE_SIZE);
	ktap_result(r > 0, "dmesg/fresh_mmap_pages", "got %ld, expected bytes", r);
	sys_munmap(b, FRESH_PAGES * KESTREL_PAGE_SIZE);
}

int main(void)
{
	int cases = FRESH_CASES;

	if (!make_hole())
		return KTAP_MAX_STATUS;
	for (int c = 0; c < CALLS; c++)
		cases += __builtin_popcount(calls[c].kinds);
	ktap_begin("badptr", cases);
	for (int c = 0; c < CALLS; c++) {
		for (int k = 0; k < K_COUNT; k++) {
			char name[64];
			long r;

			if (!(calls[c].kinds & KIND(k)))
				continue;
			snprintf(name, sizeof name, "%s/%s", calls[c].name, kind_names[k]);
			r = calls[c].fn(bad_pointer((enum kind)k, calls[c].straddle_back));
			ktap_result(r == -EFAULT, name, "got %ld (%s), expected -EFAULT",
				    r, r < 0 ? kestrel_errname(r) : "success");
		}
	}
	fresh_buffer_cases();
	return ktap_end();
}
