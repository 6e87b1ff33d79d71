/* panic() and assert(): report, backtrace, then stop (or exit QEMU under test). */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2)))
void panic(const char *fmt, ...);

struct trap_frame;
/* Panic with a register frame (exceptions): the frame's registers are shown. */
__attribute__((noreturn, format(printf, 2, 3)))
void panic_frame(const struct trap_frame *tf, const char *fmt, ...);

/* NMI handler on the other CPUs while one panics: report, then stop. */
__attribute__((noreturn)) void panic_nmi_stop(const struct trap_frame *tf);

/* How a panicking CPU stops the others (the SMP code sends an NMI). */
void panic_set_stop_hook(void (*fn)(void));

/* True once some CPU has started to panic. */
int panic_in_progress(void);

#define assert(cond) do { if (!(cond)) \
	panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); } while (0)

/* Return addresses up the frame-pointer chain from rbp; returns how many. */
int backtrace_collect(uint64_t rbp, uint64_t *out, int max);
/* Prints "backtrace:" then rip and the symbolized frames up from rbp. */
void backtrace_from(uint64_t rip, uint64_t rbp);

#endif
