/*
 * The Kestrel user library: system calls (include/uapi/kestrel/syscall.h)
 * with C types, threads, error and fault names, and line input. Calls
 * return what the kernel returned: a value >= 0, or a negative errno.
 */
#ifndef USER_KESTREL_H
#define USER_KESTREL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <kestrel/sys.h>

#define KESTREL_PAGE_SIZE       4096ul
/* Usable stack of a thread_create thread; an unmapped guard page lies below it. */
#define KESTREL_THREAD_STACK    (64 * 1024ul)
#define NSEC_PER_MSEC           UINT64_C(1000000)
#define NSEC_PER_SEC            UINT64_C(1000000000)

/* ---- processes */
static inline long spawn(const char *name, const char *const argv[])
{
	return sys_spawn(name, argv);
}

/* Waits for child pid (-1: any); *status gets the wait status unless status is NULL. */
long wait(int pid, int *status);

static inline long kill(int pid) { return sys_kill(pid); }
static inline long getpid(void) { return sys_getpid(); }
static inline long gettid(void) { return sys_gettid(); }
static inline long yield(void) { return sys_yield(); }
static inline long sleep_ms(uint64_t ms) { return sys_sleep_ms(ms); }
static inline uint64_t clock_ns(void) { return (uint64_t)sys_clock_ns(); }
static inline int cpu_id(void) { return (int)sys_cpu_id(); }
static inline long halt(void) { return sys_halt(); }
static inline long reboot(void) { return sys_reboot(); }
/* Give pid (itself or a descendant) privileges the caller holds (KESTREL_PRIV_*). */
static inline long setpriv(int pid, unsigned int privs) { return sys_setpriv(pid, privs); }
/* Make pid (0: none; the caller or a descendant) the one Ctrl-C kills; returns the previous one. */
static inline long setfg(int pid) { return sys_setfg(pid); }

static inline long ps(struct kestrel_proc_info *buf, size_t count)
{
	return sys_ps(buf, count);
}

static inline long sysinfo(struct kestrel_sysinfo *info)
{
	return sys_sysinfo(info);
}

/*
 * The newest whole lines of the kernel log that fit in len bytes, oldest
 * first, each "[seconds.micros cCPU] text\n"; returns the byte count.
 */
static inline long dmesg(char *buf, size_t len)
{
	return sys_dmesg(buf, len);
}

/* ---- console I/O (fd 0 in, fd 1 and 2 out) */
static inline long write(int fd, const void *buf, size_t len)
{
	return sys_write(fd, buf, len);
}

static inline long read(int fd, void *buf, size_t len)
{
	return sys_read(fd, buf, len);
}

/*
 * Reads one line from fd 0 into buf (at most len - 1 bytes, NUL-terminated,
 * without the line end), echoing it to fd 1; handles backspace/DEL, Ctrl-U
 * and CR, LF or CR LF line ends. Returns the line's length or a negative
 * errno when reading fails.
 */
long readline(char *buf, size_t len);

/* ---- threads */
typedef uint64_t (*thread_fn)(void *arg);

/*
 * Starts fn(arg) on a new KESTREL_THREAD_STACK stack in this process;
 * fn's return value is the thread's exit value. Returns the tid.
 */
long thread_create(thread_fn fn, void *arg);
/* Waits for thread tid, stores its exit value (unless value is NULL), frees its stack. */
long thread_join(int tid, uint64_t *value);
/* Ends the calling thread; its stack stays mapped until it is joined. */
__attribute__((noreturn)) void thread_exit(uint64_t value);

/* ---- names for numbers */
/* "bad address" for EFAULT or -EFAULT. */
const char *kestrel_strerror(long err);
/* "EFAULT" for EFAULT or -EFAULT. */
const char *kestrel_errname(long err);
/* "#PF" for 14. */
const char *kestrel_vector_name(int vector);
/* What a KESTREL_WAIT_KILLED() value means: "#PF page fault", "kill()". */
const char *kestrel_kill_reason(int reason);

#endif
