/*
 * fpu: proves the kernel keeps SSE state per task. Several threads (more
 * than there are CPUs, so they must share one) each hold their own values
 * in xmm0-xmm15 and their own MXCSR rounding mode across a busy loop that
 * yields and gets preempted, then check nothing changed. KTAP; exit status
 * = failures.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <kestrel.h>
#include <ktap.h>

#define XMM_REGS        16
#define XMM_BYTES       16
#define MIN_THREADS     2
#define MAX_THREADS     8
#define RUN_NS          (NSEC_PER_SEC / 2)      /* per thread */
#define SPINS           20000                   /* loop turns with live registers per round */
#define MXCSR_DEFAULT   0x1F80u                 /* exceptions masked, round to nearest */
#define MXCSR_RC_SHIFT  13                      /* rounding control, bits 13-14 */
#define MXCSR_RC_MODES  4

struct sse_state {
	uint8_t xmm[XMM_REGS][XMM_BYTES];
	uint32_t mxcsr;
} __attribute__((aligned(16)));

/* hold_sse's movdqa offsets: register r at 16 * r from the start. */
_Static_assert(offsetof(struct sse_state, xmm) == 0 && XMM_BYTES == 16 && XMM_REGS == 16,
	       "hold_sse layout");

struct fpu_result {
	int index;
	uint64_t rounds;
	uint64_t mismatches;
	char first[96];                 /* the first mismatch, described */
};

static void make_pattern(struct sse_state *s, int index, uint64_t round)
{
	for (int r = 0; r < XMM_REGS; r++)
		for (int b = 0; b < XMM_BYTES; b++)
			s->xmm[r][b] = (uint8_t)(index * 0x35 + r * XMM_BYTES + b + round * 7);
	s->mxcsr = MXCSR_DEFAULT | (uint32_t)(index % MXCSR_RC_MODES) << MXCSR_RC_SHIFT;
}

/*
 * One asm block from load to store, so the compiler cannot touch the SSE
 * registers in between: load want, spin (yielding first when asked), store
 * into got, and put the default MXCSR back.
 */
static void hold_sse(const struct sse_state *want, struct sse_state *got, int do_yield)
{
	uint32_t dflt = MXCSR_DEFAULT;

	__asm__ volatile(
		"ldmxcsr %[wmx]\n\t"
		"movdqa 0(%[w]), %%xmm0\n\t"    "movdqa 16(%[w]), %%xmm1\n\t"
		"movdqa 32(%[w]), %%xmm2\n\t"   "movdqa 48(%[w]), %%xmm3\n\t"
		"movdqa 64(%[w]), %%xmm4\n\t"   "movdqa 80(%[w]), %%xmm5\n\t"
		"movdqa 96(%[w]), %%xmm6\n\t"   "movdqa 112(%[w]), %%xmm7\n\t"
		"movdqa 128(%[w]), %%xmm8\n\t"  "movdqa 144(%[w]), %%xmm9\n\t"
		"movdqa 160(%[w]), %%xmm10\n\t" "movdqa 176(%[w]), %%xmm11\n\t"
		"movdqa 192(%[w]), %%xmm12\n\t" "movdqa 208(%[w]), %%xmm13\n\t"
		"movdqa 224(%[w]), %%xmm14\n\t" "movdqa 240(%[w]), %%xmm15\n\t"
		"test %[yield], %[yield]\n\t"
		"jz 1f\n\t"
		"mov %[sys_yield], %%eax\n\t"
		"syscall\n"
		"1:\n\t"
		"mov %[spins], %%r8\n"
		"2:\n\t"
		"pause\n\t"
		"dec %%r8\n\t"
		"jnz 2b\n\t"
		"movdqa %%xmm0, 0(%[g])\n\t"    "movdqa %%xmm1, 16(%[g])\n\t"
		"movdqa %%xmm2, 32(%[g])\n\t"   "movdqa %%xmm3, 48(%[g])\n\t"
		"movdqa %%xmm4, 64(%[g])\n\t"   "movdqa %%xmm5, 80(%[g])\n\t"
		"movdqa %%xmm6, 96(%[g])\n\t"   "movdqa %%xmm7, 112(%[g])\n\t"
		"movdqa %%xmm8, 128(%[g])\n\t"  "movdqa %%xmm9, 144(%[g])\n\t"
		"movdqa %%xmm10, 160(%[g])\n\t" "movdqa %%xmm11, 176(%[g])\n\t"
		"movdqa %%xmm12, 192(%[g])\n\t" "movdqa %%xmm13, 208(%[g])\n\t"
		"movdqa %%xmm14, 224(%[g])\n\t" "movdqa %%xmm15, 240(%[g])\n\t"
		"stmxcsr %[gmx]\n\t"
		"ldmxcsr %[dmx]"
		: [gmx] "=m"(got->mxcsr)
		: [w] "r"(want->xmm), [g] "r"(got->xmm), [wmx] "m"(want->mxcsr), [dmx] "m"(dflt),
		  [yield] "r"(do_yield), [sys_yield] "i"(SYS_yield), [spins] "i"(SPINS)
		: "rax", "rcx", "r11", "r8", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void note_mismatch(struct fpu_result *res, const struct sse_state *want,
			  const struct sse_state *got)
{
	if (res->mismatches++)
		return;
	if (got->mxcsr != want->mxcsr) {
		snprintf(res->first, sizeof res->first, "round %lu: mxcsr 0x%x, expected 0x%x",
			 res->rounds, got->mxcsr, want->mxcsr);
		return;
	}
	for (int r = 0; r < XMM_REGS; r++)
		if (memcmp(got->xmm[r], want->xmm[r], XMM_BYTES)) {
			snprintf(res->first, sizeof res->first, "round %lu: xmm%d changed",
				 res->rounds, r);
			return;
		}
}

static uint64_t fpu_thread(void *arg)
{
	struct fpu_result *res = arg;
	struct sse_state want, got;
	uint64_t end = clock_ns() + RUN_NS;

	for (res->rounds = 0; clock_ns() < end; res->rounds++) {
		make_pattern(&want, res->index, res->rounds);
		hold_sse(&want, &got, (int)(res->rounds & 1));
		if (got.mxcsr != want.mxcsr || memcmp(got.xmm, want.xmm, sizeof got.xmm))
			note_mismatch(res, &want, &got);
	}
	return res->mismatches;
}

static int thread_count(void)
{
	struct kestrel_sysinfo si;
	int n = sysinfo(&si) < 0 ? MIN_THREADS : (int)si.cpus_online + 1;

	return n < MIN_THREADS ? MIN_THREADS : n > MAX_THREADS ? MAX_THREADS : n;
}

int main(void)
{
	struct fpu_result res[MAX_THREADS + 1];
	long tids[MAX_THREADS];
	int n = thread_count();

	memset(res, 0, sizeof res);
	printf("fpu: %d threads and the main thread, %lu ms each\n", n, RUN_NS / NSEC_PER_MSEC);
	ktap_begin("fpu", n + 1);
	for (int i = 0; i <= n; i++)
		res[i].index = i;
	for (int i = 0; i < n; i++)
		tids[i] = thread_create(fpu_thread, &res[i]);
	fpu_thread(&res[n]);                    /* the main thread takes part too */
	for (int i = 0; i <= n; i++) {
		char name[32];
		long r = i < n ? tids[i] : 0;

		if (i < n && r >= 0)
			r = thread_join((int)tids[i], NULL);
		if (i < n)
			snprintf(name, sizeof name, "thread %d", i);
		else
			snprintf(name, sizeof name, "main thread");
		if (r < 0)
			ktap_result(false, name, "thread_create/join: %s", kestrel_errname(r));
		else
			ktap_result(res[i].mismatches == 0 && res[i].rounds > 0, name,
				    "%lu of %lu rounds wrong; first: %s", res[i].mismatches,
				    res[i].rounds, res[i].rounds ? res[i].first : "no rounds ran");
	}
	return ktap_end();
}
