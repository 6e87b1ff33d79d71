/*
 * The 8259A PICs (Intel 8259A datasheet): remapped off the exception
 * vectors (a spurious IRQ 7/15 must not look like #DF or #GP), then fully
 * masked; interrupts come through the IOAPIC. Without one (or with
 * `noioapic`), pic_legacy_init() remaps them to the IOAPIC's ISA vectors
 * and the boot CPU takes their output on LINT0 as ExtINT (virtual wire,
 * MP spec 3.6.2.2), one line enabled at a time by drivers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/x86.h>

#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xA0
#define PIC2_DATA       0xA1
#define ICW1_INIT       0x10
#define ICW1_ICW4       0x01
#define ICW3_SLAVE_AT_IRQ2 0x04
#define ICW3_SLAVE_ID   0x02
#define ICW4_8086       0x01
#define MASK_ALL        0xFF
#define OCW2_EOI        0x20    /* non-specific end of interrupt */
#define OCW3_READ_ISR   0x0B
#define PIC_CASCADE_IRQ 2       /* the slave's INT on the master */
#define PIC_LINES       8
#define PIC_SPURIOUS    7       /* the lowest-priority line of each chip */

static uint16_t pic_mask = 0xFFFF;      /* master low byte, slave high byte */
static bool legacy;

static void pic_program(uint8_t base)
{
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC1_DATA, base);
	io_wait();
	outb(PIC2_DATA, (uint8_t)(base + PIC_LINES));
	io_wait();
	outb(PIC1_DATA, ICW3_SLAVE_AT_IRQ2);
	io_wait();
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	io_wait();
	outb(PIC1_DATA, ICW4_8086);
	io_wait();
	outb(PIC2_DATA, ICW4_8086);
	io_wait();
	outb(PIC1_DATA, (uint8_t)pic_mask);
	outb(PIC2_DATA, (uint8_t)(pic_mask >> 8));
}

void pic_disable(void)
{
	pic_mask = 0xFFFF;
	pic_program(VEC_PIC_BASE);
}

void pic_legacy_init(void)
{
	legacy = true;
	pic_mask = (uint16_t)~(1u << PIC_CASCADE_IRQ);  /* only the cascade open */
	pic_program(VEC_IRQ_BASE);
	lapic_lint0_extint();
}

bool pic_legacy(void)
{
	return legacy;
}

void pic_mask_irq(uint8_t irq, bool masked)
{
	if (irq >= ISA_IRQ_COUNT)
		return;
	pic_mask = masked ? (uint16_t)(pic_mask | 1u << irq) : (uint16_t)(pic_mask & ~(1u << irq));
	if (irq < PIC_LINES)
		outb(PIC1_DATA, (uint8_t)pic_mask);
	else
		outb(PIC2_DATA, (uint8_t)(pic_mask >> 8));
}

static uint8_t pic_isr(uint16_t cmd)
{
	outb(cmd, OCW3_READ_ISR);
	return inb(cmd);
}

bool pic_eoi_vector(unsigned int vector)
{
	unsigned int irq;

	if (!legacy || vector < VEC_IRQ_BASE || vector >= VEC_IRQ_BASE + ISA_IRQ_COUNT)
		return false;
	irq = vector - VEC_IRQ_BASE;
	/* A spurious IRQ 7/15 is not in service (8259A datasheet): no EOI, except the cascade's. */
	if (irq == PIC_SPURIOUS && !(pic_isr(PIC1_CMD) & 1u << PIC_SPURIOUS))
		return true;
	if (irq == PIC_LINES + PIC_SPURIOUS && !(pic_isr(PIC2_CMD) & 1u << PIC_SPURIOUS)) {
		outb(PIC1_CMD, OCW2_EOI);
		return true;
	}
	if (irq >= PIC_LINES)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
	return true;
}
