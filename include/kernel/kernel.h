/* Kernel entry points and build identity. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <boot/boot_info.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((noreturn)) void kernel_main(struct boot_info *bi);
/* The boot information kernel_main was given (valid for the kernel's lifetime). */
const struct boot_info *boot_info(void);

#endif
