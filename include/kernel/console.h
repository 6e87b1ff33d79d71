/*
 * Console drivers behind kprintf: COM1 always, and a screen: the framebuffer
 * console (include/kernel/fbcon.h) or VGA text when the machine is in text mode.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct boot_info;

void serial_init(void);
void serial_putc(char c);
bool serial_present(void);
/* Returns a received byte, or -1 when none is waiting. */
int serial_try_getc(void);
/* Call on_rx from COM1's receive interrupt (IRQ 4); nothing without a UART. */
void serial_enable_rx_irq(void (*on_rx)(void));

void vga_init(const struct boot_info *bi);
void vga_putc(char c);

/* The console= word (drivers/fbcon.c, docs/console.md): which screen to draw on. */
enum console_screen {
	CONSOLE_SCREEN_AUTO,    /* the framebuffer when there is one, else VGA text */
	CONSOLE_SCREEN_FB,      /* the framebuffer only */
	CONSOLE_SCREEN_TEXT,    /* VGA text only (our loader then sets no VBE mode) */
	CONSOLE_SCREEN_SERIAL,  /* no screen: COM1 only */
	CONSOLE_SCREEN_BAD,     /* an unknown value: reported, then as AUTO */
};
enum console_screen console_screen(const struct boot_info *bi);

#endif
