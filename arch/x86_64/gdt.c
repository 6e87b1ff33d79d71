/* Per-CPU GDT and TSS (Intel SDM vol. 3, 3.4.5 segment descriptors, 8.2.3 64-bit TSS). */
#include <stdint.h>
#include <arch/gdt.h>
#include <arch/msr.h>
#include <arch/x86.h>
#include <kernel/string.h>

/* Descriptor access bytes and flags. */
#define DESC_P          (1ull << 47)
#define DESC_DPL3       (3ull << 45)
#define DESC_S          (1ull << 44)    /* code/data, not system */
#define DESC_CODE       (1ull << 43)
#define DESC_RW         (1ull << 41)    /* readable code / writable data */
#define DESC_L          (1ull << 53)    /* 64-bit code */
#define DESC_DB         (1ull << 54)    /* 32-bit default size (data) */
#define DESC_G          (1ull << 55)    /* 4 KiB granularity */
#define DESC_LIMIT_MAX  (0xFFFFull | (0xFull << 48))
#define DESC_TSS_AVAIL  (0x9ull << 40)  /* 64-bit TSS, available */

#define CODE64(dpl) (DESC_P | (dpl) | DESC_S | DESC_CODE | DESC_RW | DESC_L | DESC_G | DESC_LIMIT_MAX)
#define DATA(dpl)   (DESC_P | (dpl) | DESC_S | DESC_RW | DESC_DB | DESC_G | DESC_LIMIT_MAX)

struct gdt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void gdt_set_tss(struct gdt_table *gdt, struct tss *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;
	uint64_t lo = DESC_P | DESC_TSS_AVAIL | (limit & 0xFFFF) |
		      ((base & 0xFFFFFF) << 16) | ((base >> 24 & 0xFF) << 56);

	gdt->entries[SEL_TSS / 8] = lo;
	gdt->entries[SEL_TSS / 8 + 1] = base >> 32;
}

void gdt_load(struct gdt_table *gdt, struct tss *tss)
{
	struct gdt_ptr ptr = { GDT_ENTRIES * 8 - 1, (uint64_t)gdt };

	memset(gdt, 0, sizeof(*gdt));
	gdt->entries[SEL_KCODE / 8] = CODE64(0);
	gdt->entries[SEL_KDATA / 8] = DATA(0);
	gdt->entries[SEL_UDATA / 8] = DATA(DESC_DPL3);
	gdt->entries[SEL_UCODE / 8] = CODE64(DESC_DPL3);
	tss->iomap_base = sizeof(*tss);
	gdt_set_tss(gdt, tss);

	__asm__ volatile(
		"lgdt %0\n\t"
		"movw %w1, %%ds\n\t"
		"movw %w1, %%es\n\t"
		"movw %w1, %%ss\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"ltr %w3"
		: : "m"(ptr), "r"((uint64_t)SEL_KDATA), "i"(SEL_KCODE), "r"((uint64_t)SEL_TSS)
		: "rax", "memory");
	/*
	 * Null FS/GS selectors (the loader's would point into its own GDT).
	 * Loading a selector rewrites the segment base, and the GS base holds
	 * this CPU's struct cpu, so keep it across the reload.
	 */
	uint64_t gs_base = rdmsr(MSR_GS_BASE);
	__asm__ volatile("movw %w0, %%fs; movw %w0, %%gs" : : "r"(0));
	wrmsr(MSR_GS_BASE, gs_base);
}
