/*
 * Raw system calls, one inline wrapper per call in <uapi/kestrel/syscall.h>
 * (docs/syscalls.md): rax = number, arguments in rdi rsi rdx r10 r8 r9,
 * result in rax; SYSCALL itself clobbers rcx (return rip) and r11 (rflags).
 * Results are returned as the kernel gave them: negative errno on error.
 */
#ifndef USER_KESTREL_SYS_H
#define USER_KESTREL_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <uapi/kestrel/syscall.h>

/* "memory": the kernel reads and writes user buffers behind the compiler's back. */
static inline long kestrel_syscall0(long n)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(n) : "rcx", "r11", "memory");
	return ret;
}

static inline long kestrel_syscall1(long n, long a)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return ret;
}

static inline long kestrel_syscall2(long n, long a, long b)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long kestrel_syscall3(long n, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((noreturn)) void sys_exit(int status)
{
	kestrel_syscall1(SYS_exit, status);
	__builtin_unreachable();
}

static inline long sys_write(int fd, const void *buf, size_t len)
{
	return kestrel_syscall3(SYS_write, fd, (long)buf, (long)len);
}

static inline long sys_read(int fd, void *buf, size_t len)
{
	return kestrel_syscall3(SYS_read, fd, (long)buf, (long)len);
}

static inline long sys_yield(void)
{
	return kestrel_syscall0(SYS_yield);
}

static inline long sys_sleep_ms(uint64_t ms)
{
	return kestrel_syscall1(SYS_sleep_ms, (long)ms);
}

static inline long sys_getpid(void)
{
	return kestrel_syscall0(SYS_getpid);
}

static inline long sys_gettid(void)
{
	return kestrel_syscall0(SYS_gettid);
}

static inline long sys_spawn(const char *name, const char *const argv[])
{
	return kestrel_syscall2(SYS_spawn, (long)name, (long)argv);
}

static inline long sys_wait(int pid, int *status)
{
	return kestrel_syscall2(SYS_wait, pid, (long)status);
}

/* The new thread starts at entry with rdi = arg and rsp = stack_top (see user/README.md). */
static inline long sys_thread_create(void (*entry)(void *), void *arg, void *stack_top)
{
	return kestrel_syscall3(SYS_thread_create, (long)entry, (long)arg, (long)stack_top);
}

static inline __attribute__((noreturn)) void sys_thread_exit(uint64_t value)
{
	kestrel_syscall1(SYS_thread_exit, (long)value);
	__builtin_unreachable();
}

static inline long sys_thread_join(int tid, uint64_t *value)
{
	return kestrel_syscall2(SYS_thread_join, tid, (long)value);
}

static inline long sys_mmap(void *hint, size_t len, int prot)
{
	return kestrel_syscall3(SYS_mmap, (long)hint, (long)len, prot);
}

static inline long sys_munmap(void *addr, size_t len)
{
	return kestrel_syscall2(SYS_munmap, (long)addr, (long)len);
}

static inline long sys_sbrk(intptr_t increment)
{
	return kestrel_syscall1(SYS_sbrk, increment);
}

static inline long sys_clock_ns(void)
{
	return kestrel_syscall0(SYS_clock_ns);
}

static inline long sys_cpu_id(void)
{
	return kestrel_syscall0(SYS_cpu_id);
}

static inline long sys_kill(int pid)
{
	return kestrel_syscall1(SYS_kill, pid);
}

static inline long sys_ps(struct kestrel_proc_info *buf, size_t count)
{
	return kestrel_syscall2(SYS_ps, (long)buf, (long)count);
}

static inline long sys_sysinfo(struct kestrel_sysinfo *info)
{
	return kestrel_syscall1(SYS_sysinfo, (long)info);
}

static inline long sys_halt(void)
{
	return kestrel_syscall0(SYS_halt);
}

static inline long sys_reboot(void)
{
	return kestrel_syscall0(SYS_reboot);
}

static inline long sys_setpriv(int pid, unsigned int privs)
{
	return kestrel_syscall2(SYS_setpriv, pid, privs);
}

static inline long sys_setfg(int pid)
{
	return kestrel_syscall1(SYS_setfg, pid);
}

static inline long sys_dmesg(char *buf, size_t len)
{
	return kestrel_syscall2(SYS_dmesg, (long)buf, (long)len);
}

#endif
