/* Powering the machine off and resetting it (arch/x86_64/power.c). */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

__attribute__((noreturn)) void power_off(void);
__attribute__((noreturn)) void power_reboot(void);

#endif
