/* COM1 16550 UART at 115200 8N1 (PC16550D datasheet): the first console. */
#include <stdint.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/trap.h>
#include <arch/uart16550.h>
#include <arch/x86.h>
#include <kernel/console.h>


static bool com1_ok;

void serial_init(void)
{
	const uint16_t div = UART_DIVISOR;

	/* A missing UART reads back 0xFF; check the scratch register first. */
	outb(COM1_PORT + UART_SCR, 0x5A);
	if (inb(COM1_PORT + UART_SCR) != 0x5A)
		return;
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DATA, div & 0xFF);
	outb(COM1_PORT + UART_IER, div >> 8);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, FCR_ENABLE | FCR_CLEAR | FCR_TRIG_14);
	outb(COM1_PORT + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	com1_ok = true;
}

bool serial_present(void)
{
	return com1_ok;
}

static void serial_put_raw(char c)
{
	for (int i = 0; i < UART_TX_SPIN; i++) {
		if (inb(COM1_PORT + UART_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

void serial_putc(char c)
{
	if (!com1_ok)
		return;
	if (c == '\n')
		serial_put_raw('\r');
	serial_put_raw(c);
}

int serial_try_getc(void)
{
	if (!com1_ok || !(inb(COM1_PORT + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1_PORT + UART_DATA);
}

static void (*rx_handler)(void);

static void serial_irq(struct trap_frame *tf)
{
	(void)tf;
	if (rx_handler)
		rx_handler();
}

void serial_enable_rx_irq(void (*on_rx)(void))
{
	if (!com1_ok)
		return;
	rx_handler = on_rx;
	irq_register(VEC_IRQ_BASE + ISA_IRQ_COM1, serial_irq);
	outb(COM1_PORT + UART_IER, IER_RX_AVAILABLE);
	ioapic_mask_isa(ISA_IRQ_COM1, 0);
}
