/* Memory accesses that may fault on purpose, each with an exception fixup. */
#include <arch/asm.h>
#include <arch/extable.h>
#include <kernel/errno.h>

	.text
/* int probe_read_u64(const void *addr, uint64_t *out) */
BEGIN_FUNC(probe_read_u64)
1:	movq (%rdi), %rax
	movq %rax, (%rsi)
	xorl %eax, %eax
	ret
2:	movl $-EFAULT, %eax
	ret
	EX_ENTRY(1b, 2b)
END_FUNC(probe_read_u64)

/* size_t copy_bytes_fixup(void *dst, const void *src, size_t len): bytes left */
BEGIN_FUNC(copy_bytes_fixup)
	movq %rdx, %rcx
1:	rep movsb
2:	movq %rcx, %rax
	ret
	EX_ENTRY(1b, 2b)
END_FUNC(copy_bytes_fixup)
