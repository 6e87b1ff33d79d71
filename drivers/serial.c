/* COM1 16550 UART at 115200 8N1 (PC16550D datasheet): the first console. */
#include <stdint.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/console.h>

#define COM1_PORT       0x3F8
#define UART_DATA       0       /* RBR/THR; divisor low when DLAB=1 */
#define UART_IER        1       /* interrupt enable; divisor high when DLAB=1 */
#define   IER_RX_AVAILABLE 0x01
#define UART_FCR        2       /* FIFO control */
#define   FCR_ENABLE    0x01
#define   FCR_CLEAR     0x06    /* clear receive and transmit FIFOs */
#define   FCR_TRIG_14   0xC0
#define UART_LCR        3       /* line control */
#define   LCR_8N1       0x03
#define   LCR_DLAB      0x80
#define UART_MCR        4       /* modem control */
#define   MCR_DTR_RTS   0x03
#define   MCR_OUT2      0x08    /* gates the IRQ line on PCs */
#define   MCR_LOOP      0x10
#define UART_LSR        5       /* line status */
#define   LSR_DR        0x01    /* data ready */
#define   LSR_THRE      0x20    /* transmit holding register empty */
#define UART_SCR        7       /* scratch */
#define UART_CLOCK      115200
#define UART_BAUD       115200
#define UART_TX_SPIN    100000  /* give up on a dead UART rather than hang */

static bool com1_ok;

void serial_init(void)
{
	const uint16_t div = UART_CLOCK / UART_BAUD;

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
