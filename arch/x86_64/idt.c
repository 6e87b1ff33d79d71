/* The IDT: 256 interrupt gates to the stubs in vectors.S (SDM vol. 3, 6.14.1). */
#include <stdint.h>
#include <arch/gdt.h>
#include <arch/trap.h>

#define GATE_INTERRUPT  0x8E    /* present, DPL 0, 64-bit interrupt gate */
#define GATE_DPL3       0x60    /* reachable with `int n` from ring 3 */
#define STUB_SIZE       16      /* must match STUB_ALIGN in vectors.S */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const char trap_stubs[], trap_stubs_end[];
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

static void idt_set(unsigned int vec, uint64_t handler, uint8_t ist, uint8_t attr)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = handler & 0xFFFF,
		.selector = SEL_KCODE,
		.ist = ist,
		.type_attr = attr,
		.offset_mid = (handler >> 16) & 0xFFFF,
		.offset_hi = handler >> 32,
	};
}

void idt_init(void)
{
	for (unsigned int v = 0; v < IDT_VECTORS; v++)
		idt_set(v, (uint64_t)trap_stubs + v * STUB_SIZE, 0, GATE_INTERRUPT);
	/* Faults that can hit on a broken stack get known-good stacks. */
	idt[T_DF].ist = IST_DF;
	idt[T_NMI].ist = IST_NMI;
	idt[T_MC].ist = IST_MC;
	/* int3 from ring 3 raises #BP (debuggers); other `int n` from ring 3 are #GP. */
	idt[T_BP].type_attr |= GATE_DPL3;
	idt_load();
}

void idt_load(void)
{
	struct idt_ptr ptr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(ptr));
}
