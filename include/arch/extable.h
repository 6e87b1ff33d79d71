/*
 * Exception fixups: an instruction that may fault on purpose (probing or
 * copying through an untrusted pointer) is listed with the address to
 * resume at, so a kernel #PF/#GP there returns an error instead of panicking.
 */
#ifndef ARCH_EXTABLE_H
#define ARCH_EXTABLE_H

#ifdef __ASSEMBLER__
#define EX_ENTRY(fault, fixup) \
	.pushsection .ex_table, "a"; \
	.balign 8; \
	.quad fault, fixup; \
	.popsection
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trap_frame;

struct ex_entry {
	uint64_t fault_ip;
	uint64_t fixup_ip;
};

/* If tf->rip has a fixup, resume there and return true. */
bool extable_fixup(struct trap_frame *tf);

/* Reads 8 bytes at addr; 0, or -EFAULT if the read faulted. */
int probe_read_u64(const void *addr, uint64_t *out);
/* Copies len bytes; returns the number NOT copied (0 on success) if a fault stops it. */
size_t copy_bytes_fixup(void *dst, const void *src, size_t len);
#endif

#endif
