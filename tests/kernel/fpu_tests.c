/*
 * test=fpu: two threads on one CPU keep different values in all sixteen
 * XMM registers across yields. The kernel itself never touches XMM
 * registers (-mgeneral-regs-only), so only the scheduler's per-task
 * FXSAVE/FXRSTOR keeps them apart. This file is compiled with SSE allowed.
 */
#include <stdint.h>
#include <kernel/cpu.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/sched.h>

#define FPU_ROUNDS      300
#define XMM_REGS        16

struct fpu_worker {
	uint64_t pattern;
	volatile uint32_t mismatches;
	volatile uint32_t rounds;
};

/* Load every XMM register from in[], yield, store them all to out[]. */
static void xmm_roundtrip(const uint64_t in[2 * XMM_REGS], uint64_t out[2 * XMM_REGS])
{
	__asm__ volatile(
		"movdqu 0x00(%0), %%xmm0\n\t"  "movdqu 0x10(%0), %%xmm1\n\t"
		"movdqu 0x20(%0), %%xmm2\n\t"  "movdqu 0x30(%0), %%xmm3\n\t"
		"movdqu 0x40(%0), %%xmm4\n\t"  "movdqu 0x50(%0), %%xmm5\n\t"
		"movdqu 0x60(%0), %%xmm6\n\t"  "movdqu 0x70(%0), %%xmm7\n\t"
		"movdqu 0x80(%0), %%xmm8\n\t"  "movdqu 0x90(%0), %%xmm9\n\t"
		"movdqu 0xa0(%0), %%xmm10\n\t" "movdqu 0xb0(%0), %%xmm11\n\t"
		"movdqu 0xc0(%0), %%xmm12\n\t" "movdqu 0xd0(%0), %%xmm13\n\t"
		"movdqu 0xe0(%0), %%xmm14\n\t" "movdqu 0xf0(%0), %%xmm15\n\t"
		"pushq %%rbp\n\t"
		"movq %%rsp, %%rbp\n\t"
		"andq $-16, %%rsp\n\t"
		"pushq %1\n\t"
		"pushq %1\n\t"
		"call sched_yield\n\t"
		"popq %1\n\t"
		"popq %1\n\t"
		"movq %%rbp, %%rsp\n\t"
		"popq %%rbp\n\t"
		"movdqu %%xmm0, 0x00(%1)\n\t"  "movdqu %%xmm1, 0x10(%1)\n\t"
		"movdqu %%xmm2, 0x20(%1)\n\t"  "movdqu %%xmm3, 0x30(%1)\n\t"
		"movdqu %%xmm4, 0x40(%1)\n\t"  "movdqu %%xmm5, 0x50(%1)\n\t"
		"movdqu %%xmm6, 0x60(%1)\n\t"  "movdqu %%xmm7, 0x70(%1)\n\t"
		"movdqu %%xmm8, 0x80(%1)\n\t"  "movdqu %%xmm9, 0x90(%1)\n\t"
		"movdqu %%xmm10, 0xa0(%1)\n\t" "movdqu %%xmm11, 0xb0(%1)\n\t"
		"movdqu %%xmm12, 0xc0(%1)\n\t" "movdqu %%xmm13, 0xd0(%1)\n\t"
		"movdqu %%xmm14, 0xe0(%1)\n\t" "movdqu %%xmm15, 0xf0(%1)\n\t"
		: : "r"(in), "b"(out)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void fpu_worker(void *arg)
{
	struct fpu_worker *w = arg;
	uint64_t in[2 * XMM_REGS], out[2 * XMM_REGS];

	for (int r = 0; r < FPU_ROUNDS; r++) {
		for (int i = 0; i < 2 * XMM_REGS; i++)
			in[i] = w->pattern ^ ((uint64_t)r << 16) ^ (uint64_t)i;
		xmm_roundtrip(in, out);
		for (int i = 0; i < 2 * XMM_REGS; i++)
			if (out[i] != in[i]) {
				w->mismatches++;
				break;
			}
		w->rounds++;
	}
}

static const char *test_xmm_state_per_task(void)
{
	static struct fpu_worker a = { .pattern = 0xAAAAAAAA00000000ull };
	static struct fpu_worker b = { .pattern = 0x5555555500000000ull };
	uint64_t cpu = 1ull << (ncpus - 1);
	struct task *ta = kthread_create_on(fpu_worker, &a, "fpu-a", cpu);
	struct task *tb = kthread_create_on(fpu_worker, &b, "fpu-b", cpu);

	KT_ASSERT(ta && tb);
	kthread_join(ta);
	kthread_join(tb);
	kprintf("# fpu: %u + %u rounds on one CPU, %u + %u mismatches\n", a.rounds, b.rounds,
		a.mismatches, b.mismatches);
	if (a.mismatches || b.mismatches)
		return ktest_fail("XMM registers leaked between tasks (%u, %u rounds bad)",
				  a.mismatches, b.mismatches);
	return NULL;
}

KTEST_SUITE(fpu, KTEST_CASE(test_xmm_state_per_task));
