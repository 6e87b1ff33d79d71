/* Console drivers behind kprintf: COM1 always, VGA text when the machine has it. */
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

#endif
