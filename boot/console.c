/*
 * Stage 2's console: every line goes to COM1 (16550, PC16550D datasheet;
 * skipped when no UART answers) and to the VGA text screen, continuing at
 * the BIOS's cursor. A printf subset without 64-bit division (no -m32 libgcc).
 */
#include <stdarg.h>
#include <arch/uart16550.h>
#include <arch/x86.h>
#include <kernel/string.h>
#include "stage2.h"

/* VGA text mode 3, as the BIOS left it; the cursor is in the BIOS data area. */
#define VGA_ATTR_NORMAL         0x07    /* grey on black */
#define VGA_ATTR_ERROR          0x4F    /* white on red */
#define BDA_CURSOR_PAGE0        0x450   /* byte column, byte row */
#define CRTC_INDEX              0x3D4
#define CRTC_DATA               0x3D5
#define   CRTC_CURSOR_HI        0x0E
#define   CRTC_CURSOR_LO        0x0F

static uint32_t vga_col, vga_row;
static uint8_t vga_attr = VGA_ATTR_NORMAL;
static bool com1_ok;
static bool vga_off;

/* v / 10 without libgcc's __udivdi3 (there is no -m32 libgcc to link). */
static uint64_t div10(uint64_t v, uint32_t *rem)
{
	uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
	uint32_t q_hi = hi / 10, r = hi % 10;
	/* (r:lo) / 10 in 16-bit steps: each dividend is below 10 << 16. */
	uint32_t x = (r << 16) | (lo >> 16);
	uint32_t q_mid = x / 10;

	x = ((x % 10) << 16) | (lo & 0xFFFF);
	*rem = x % 10;
	return ((uint64_t)q_hi << 32) | (q_mid << 16) | (x / 10);
}

static void serial_init(void)
{
	/* A missing UART reads back 0xFF: check the scratch register first. */
	outb(COM1_PORT + UART_SCR, 0x5A);
	if (inb(COM1_PORT + UART_SCR) != 0x5A)
		return;
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DATA, UART_DIVISOR & 0xFF);
	outb(COM1_PORT + UART_IER, UART_DIVISOR >> 8);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, FCR_ENABLE | FCR_CLEAR | FCR_TRIG_14);
	outb(COM1_PORT + UART_MCR, MCR_DTR_RTS);
	com1_ok = true;
}

static void serial_putc(char c)
{
	if (!com1_ok)
		return;
	for (int i = 0; i < UART_TX_SPIN && !(inb(COM1_PORT + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

/* Continue where the BIOS (and stage 1) left the cursor. */
static void vga_init(void)
{
	const uint8_t *cursor = phys(BDA_CURSOR_PAGE0);

	vga_col = cursor[0];
	vga_row = cursor[1];
	if (vga_col >= VGA_COLS || vga_row >= VGA_ROWS)
		vga_col = vga_row = 0;
}

static void vga_newline(void)
{
	uint16_t *text = phys(VGA_TEXT_ADDR);

	vga_col = 0;
	if (++vga_row < VGA_ROWS)
		return;
	vga_row = VGA_ROWS - 1;
	memmove(text, text + VGA_COLS, (VGA_ROWS - 1) * VGA_COLS * sizeof *text);
	for (int i = 0; i < VGA_COLS; i++)
		text[(VGA_ROWS - 1) * VGA_COLS + i] = (uint16_t)(VGA_ATTR_NORMAL << 8 | ' ');
}

void console_text_off(void)
{
	vga_off = true;
}

void console_text_on(void)
{
	vga_off = false;
}

static void vga_putc(char c)
{
	volatile uint16_t *text = phys(VGA_TEXT_ADDR);

	if (vga_off)
		return;
	if (c == '\n') {
		vga_newline();
		return;
	}
	text[vga_row * VGA_COLS + vga_col] = (uint16_t)(vga_attr << 8 | (uint8_t)c);
	if (++vga_col == VGA_COLS)
		vga_newline();
}

/* Hardware cursor and BDA, so the BIOS or the kernel can carry on from here. */
static void vga_sync_cursor(void)
{
	uint8_t *cursor = phys(BDA_CURSOR_PAGE0);
	uint32_t pos = vga_row * VGA_COLS + vga_col;

	cursor[0] = (uint8_t)vga_col;
	cursor[1] = (uint8_t)vga_row;
	outb(CRTC_INDEX, CRTC_CURSOR_HI);
	outb(CRTC_DATA, (uint8_t)(pos >> 8));
	outb(CRTC_INDEX, CRTC_CURSOR_LO);
	outb(CRTC_DATA, (uint8_t)pos);
}

static void con_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
	vga_putc(c);
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void con_putu(uint64_t v, bool hex, unsigned width)
{
	char digits[24];
	unsigned n = 0;

	do {
		uint32_t d;
		if (hex) {
			d = (uint32_t)v & 0xF;
			v >>= 4;
		} else {
			v = div10(v, &d);
		}
		digits[n++] = "0123456789abcdef"[d];
	} while (v);
	while (n < width && n < sizeof digits)
		digits[n++] = '0';
	while (n)
		con_putc(digits[--n]);
}

/* printf subset: %s %c %u %x %llu %llx, optional zero-padded width. */
static void con_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		unsigned width = 0;
		bool ll = false;

		if (*fmt != '%') {
			con_putc(*fmt);
			continue;
		}
		if (*++fmt == '0')
			fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		if (fmt[0] == 'l' && fmt[1] == 'l') {
			ll = true;
			fmt += 2;
		}
		switch (*fmt) {
		case 'u':
		case 'x':
			con_putu(ll ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned),
				 *fmt == 'x', width);
			break;
		case 's':
			con_puts(va_arg(ap, const char *));
			break;
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case '%':
			con_putc('%');
			break;
		case '\0':
			return;
		default:
			con_putc('?');
		}
	}
}

void say(const char *fmt, ...)
{
	va_list ap;

	con_puts("stage2: ");
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	vga_sync_cursor();
}

void die(const char *fmt, ...)
{
	va_list ap;

	vga_attr = VGA_ATTR_ERROR;
	con_puts("Kestrel: ");
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	vga_attr = VGA_ATTR_NORMAL;
	con_puts("Kestrel: boot halted\n");
	vga_sync_cursor();
	cpu_halt_forever();
}

void console_init(void)
{
	serial_init();
	vga_init();
}
