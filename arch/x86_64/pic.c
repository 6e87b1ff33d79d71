/*
 * The 8259A PICs (Intel 8259A datasheet): remapped off the exception
 * vectors (a spurious IRQ 7/15 must not look like #DF or #GP), then fully
 * masked; interrupts come through the IOAPIC.
 */
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

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC1_DATA, VEC_PIC_BASE);
	io_wait();
	outb(PIC2_DATA, VEC_PIC_BASE + 8);
	io_wait();
	outb(PIC1_DATA, ICW3_SLAVE_AT_IRQ2);
	io_wait();
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	io_wait();
	outb(PIC1_DATA, ICW4_8086);
	io_wait();
	outb(PIC2_DATA, ICW4_8086);
	io_wait();
	outb(PIC1_DATA, MASK_ALL);
	outb(PIC2_DATA, MASK_ALL);
}
