/* Time keeping: TSC calibrated against the PIT; delays and timestamps. */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

/* Busy-wait on PIT channel 2 (max 50 ms per call); for calibration only. */
void pit_wait_ms(unsigned int ms);
/* Measures the TSC frequency; call once on the boot CPU. */
void time_init(void);
uint64_t tsc_hz(void);
void udelay(uint64_t us);
void mdelay(uint64_t ms);
/* Nanoseconds since time_init(), monotonic. */
uint64_t time_ns(void);
uint64_t cycles_to_ns(uint64_t cycles);

#endif
