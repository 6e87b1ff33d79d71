/*
 * The 8254 PIT (Intel 82C54 datasheet), channel 2 only: its gate is in
 * port 0x61, so it counts without ever raising an interrupt. It runs in
 * mode 2 from 65536 and drivers/clock.c reads it back through the latch
 * command like any other reference counter, so a PIT that does not count
 * (QEMU -M ...,pit=off reads all ones) is seen as one and never waited on.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/clock.h>

#define PIT_CH2_DATA            0x42
#define PIT_COMMAND             0x43
#define   PIT_SEL_CH2           (2u << 6)
#define   PIT_ACCESS_LATCH      (0u << 4)       /* counter latch command */
#define   PIT_ACCESS_LOHI       (3u << 4)
#define   PIT_MODE2             (2u << 1)       /* rate generator: reloads itself */
#define PIT_RELOAD_65536        0               /* a count of 0 means 2^16 */
#define PIT_BITS                16
#define PORT_B                  0x61            /* system control port B */
#define   PORTB_GATE2           0x01
#define   PORTB_SPEAKER         0x02

/* The count goes down; its negation goes up, which the calibration wants. */
static uint64_t pit_read(void)
{
	uint8_t lo, hi;

	outb(PIT_COMMAND, PIT_SEL_CH2 | PIT_ACCESS_LATCH);
	lo = inb(PIT_CH2_DATA);
	hi = inb(PIT_CH2_DATA);
	return (uint16_t)-(uint16_t)(hi << 8 | lo);
}

int pit_probe(struct clock_ref *ref)
{
	uint8_t b = inb(PORT_B) & ~PORTB_SPEAKER;

	outb(PORT_B, b & ~PORTB_GATE2);                 /* gate low while programming */
	outb(PIT_COMMAND, PIT_SEL_CH2 | PIT_ACCESS_LOHI | PIT_MODE2);
	outb(PIT_CH2_DATA, PIT_RELOAD_65536 & 0xFF);
	outb(PIT_CH2_DATA, PIT_RELOAD_65536 >> 8);
	outb(PORT_B, b | PORTB_GATE2);                  /* gate high: count */
	*ref = (struct clock_ref){ .source = CLOCK_PIT, .hz = PIT_HZ, .bits = PIT_BITS,
				   .read = pit_read };
	return 0;
}
