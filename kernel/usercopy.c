/* User-memory access: range checks and fixup-protected copies in SMAP brackets. */
#include <stdint.h>
#include <arch/extable.h>
#include <arch/mmu.h>
#include <arch/uaccess.h>
#include <kernel/errno.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/usercopy.h>
#include <kernel/vmm.h>


bool user_range_ok(uint64_t addr, uint64_t len)
{
	return addr >= USER_BASE && addr + len >= addr && addr + len <= USER_SPACE_END;
}

bool user_range_mapped(uint64_t addr, uint64_t len, bool write)
{
	struct task *t = current_task();

	if (!user_range_ok(addr, len) || !t->vs)
		return false;
	if (len == 0)
		return true;
	for (uint64_t p = addr & PAGE_MASK; p < addr + len; p += PAGE_SIZE) {
		unsigned int flags;
		/* A demand-zero page counts: the copy's first touch faults it in. */
		if ((!vmm_translate(t->vs, p, NULL, &flags) && !vmm_reserved(t->vs, p, &flags)) ||
		    !(flags & VM_USER) || (write && !(flags & VM_WRITE)))
			return false;
	}
	return true;
}

int copy_from_user(void *dst, uint64_t src, size_t len)
{
	size_t left;

	if (!user_range_ok(src, len))
		return -EFAULT;
	arch_user_access_begin();
	left = copy_bytes_fixup(dst, (const void *)src, len);
	arch_user_access_end();
	return left ? -EFAULT : 0;
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
	size_t left;

	if (!user_range_ok(dst, len))
		return -EFAULT;
	arch_user_access_begin();
	left = copy_bytes_fixup((void *)dst, src, len);
	arch_user_access_end();
	return left ? -EFAULT : 0;
}

int strncpy_from_user(char *dst, uint64_t src, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (copy_from_user(&dst[i], src + i, 1) < 0)
			return -EFAULT;
		if (dst[i] == '\0')
			return (int)i;
	}
	dst[max - 1] = '\0';
	return -ERANGE;
}
