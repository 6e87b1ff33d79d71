/*
 * GDT layout (Intel SDM vol. 3, 3.4.5 and 7.2.3). The order of the user
 * segments is fixed by SYSRET: SS = STAR[63:48] + 8, CS = STAR[63:48] + 16.
 */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H

#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x1B    /* 0x18 | RPL 3 */
#define SEL_UCODE       0x23    /* 0x20 | RPL 3 */
#define SEL_TSS         0x28    /* 16-byte system descriptor */
#define GDT_ENTRIES     7

/* Interrupt stack table slots (TSS.IST1..7); 0 means "no IST". */
#define IST_DF          1       /* double fault */
#define IST_NMI         2
#define IST_MC          3       /* machine check */
#define IST_COUNT       3

#ifndef __ASSEMBLER__
#include <stdint.h>

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];        /* RSP0..2: stack on a privilege change */
	uint64_t reserved1;
	uint64_t ist[7];        /* IST1..7 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;    /* beyond the limit: no I/O bitmap */
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout (SDM fig. 7-11)");

struct gdt_table {
	uint64_t entries[GDT_ENTRIES];
} __attribute__((aligned(16)));

/* Fill gdt and tss for one CPU and load GDTR, segment registers and TR. */
void gdt_load(struct gdt_table *gdt, struct tss *tss);
#endif

#endif
