/* Kernel symbol table embedded at build time (tools/mksyms.py). */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stdint.h>

/* Name of the function containing addr, offset in *off; NULL if unknown. */
const char *ksym_lookup(uint64_t addr, uint64_t *off);
/* Address of a function by name, 0 if absent. */
uint64_t ksym_address(const char *name);

#endif
