/* System-call entry and the console input behind SYS_read (kernel/syscall.c). */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <stddef.h>

struct trap_frame;

/* STAR/LSTAR/FMASK and EFER.SCE on this CPU (arch/x86_64/cpu.c). */
void syscall_init_cpu(void);
void syscall_dispatch(struct trap_frame *tf);
/* Route COM1's receive interrupt into the console input buffer. */
void console_input_init(void);
/* Queue bytes as if typed on the console; Ctrl-C interrupts the foreground process. */
void console_input(const char *s, size_t n);

#endif
