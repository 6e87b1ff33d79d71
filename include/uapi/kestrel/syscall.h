/*
 * Kestrel system-call ABI, shared by the kernel and user/ (docs/syscalls.md):
 * SYSCALL with rax = number, arguments in rdi rsi rdx r10 r8 r9,
 * result in rax, negative errno (include/kernel/errno.h values) on error.
 * SYSCALL clobbers rcx and r11.
 */
#ifndef UAPI_KESTREL_SYSCALL_H
#define UAPI_KESTREL_SYSCALL_H

#define SYS_exit                0       /* (int status) -> no return; ends the whole process */
#define SYS_write               1       /* (int fd, const void *buf, size_t len) -> bytes; fd 1, 2: console */
#define SYS_read                2       /* (int fd, void *buf, size_t len) -> bytes (>= 1, blocks); fd 0: console */
#define SYS_yield               3       /* () -> 0 */
#define SYS_sleep_ms            4       /* (uint64_t ms) -> 0 */
#define SYS_getpid              5       /* () -> pid */
#define SYS_gettid              6       /* () -> tid */
#define SYS_spawn               7       /* (const char *name, const char *const argv[]) -> pid; argv NULL-terminated */
#define SYS_wait                8       /* (int pid or -1 for any child, int *status) -> pid */
#define SYS_thread_create       9       /* (void (*entry)(void *), void *arg, void *stack_top) -> tid */
#define SYS_thread_exit         10      /* (uint64_t value) -> no return */
#define SYS_thread_join         11      /* (int tid, uint64_t *value) -> 0 */
#define SYS_mmap                12      /* (void *hint (0), size_t len, int prot) -> address; anonymous, zeroed */
#define SYS_munmap              13      /* (void *addr, size_t len) -> 0 */
#define SYS_sbrk                14      /* (intptr_t increment) -> previous break */
#define SYS_clock_ns            15      /* () -> nanoseconds since boot, monotonic */
#define SYS_cpu_id              16      /* () -> id of the CPU running the caller */
#define SYS_kill                17      /* (int pid) -> 0 */
#define SYS_ps                  18      /* (struct kestrel_proc_info *buf, size_t count) -> entries filled */
#define SYS_sysinfo             19      /* (struct kestrel_sysinfo *) -> 0 */
#define SYS_halt                20      /* () -> powers the machine off */
#define SYS_reboot              21      /* () -> resets the machine */
#define SYS_setpriv             22      /* (int pid, unsigned privs) -> 0; see KESTREL_PRIV_* */
#define SYS_dmesg               23      /* (char *buf, size_t len) -> bytes: the newest whole kernel-log lines */
#define SYS_futex               24      /* (uint32_t *uaddr, int op, uint32_t val, uint64_t timeout_ns) -> see FUTEX_* */
#define SYS_setfg               25      /* (int pid or 0) -> previous foreground pid (0: none); Ctrl-C on the console kills it */
#define SYS_COUNT               26

/*
 * SYS_futex operations (docs/syscalls.md). FUTEX_WAIT sleeps while *uaddr
 * == val, at most timeout_ns (relative; 0: no limit): 0 when woken,
 * -EAGAIN (the word differs), -ETIMEDOUT, -EINTR (the process is being
 * killed). FUTEX_WAKE wakes up to val sleepers on uaddr and returns how
 * many. uaddr must be 4-byte aligned (-EINVAL) and in user space (-EFAULT).
 */
#define FUTEX_WAIT              0
#define FUTEX_WAKE              1
#define FUTEX_WAKE_ALL          0x7FFFFFFFu     /* val for FUTEX_WAKE: every sleeper */

/* mmap prot bits */
#define PROT_READ               0x1
#define PROT_WRITE              0x2
#define PROT_EXEC               0x4

/*
 * wait() status: bits 0-7 the exit status; bits 8-15 nonzero when the
 * process was killed: a KESTREL_KILL_* reason (the CPU exception vector + 1,
 * KESTREL_KILL_BY_USER for kill(), KESTREL_KILL_INTERRUPT for Ctrl-C on
 * the console while the process was in the foreground, SYS_setfg).
 */
#define KESTREL_WAIT_EXITED(s)  (((s) & 0xFF00) == 0)
#define KESTREL_WAIT_STATUS(s)  ((s) & 0xFF)
#define KESTREL_WAIT_KILLED(s)  (((s) >> 8) & 0xFF)
#define KESTREL_KILL_VECTOR(v)  ((v) + 1)
#define KESTREL_KILL_BY_USER    0xFF
#define KESTREL_KILL_INTERRUPT  0xFE

#define KESTREL_NAME_MAX        32

#ifndef __ASSEMBLER__
#include <stdint.h>

/* kestrel_proc_info.state */
#define KESTREL_PROC_STATE_RUNNING      0       /* running or ready */
#define KESTREL_PROC_STATE_SLEEPING     1
#define KESTREL_PROC_STATE_ZOMBIE       2       /* ended, not yet waited for */

struct kestrel_proc_info {
	int32_t pid;
	int32_t ppid;
	uint32_t threads;
	uint32_t state;                 /* KESTREL_PROC_STATE_* */
	uint64_t cpu_ticks;             /* timer ticks spent running */
	uint64_t mem_pages;             /* user pages mapped */
	char name[KESTREL_NAME_MAX];
};

struct kestrel_sysinfo {
	uint32_t cpus_online;
	uint32_t tick_hz;
	uint64_t uptime_ns;
	uint64_t mem_total_pages;
	uint64_t mem_free_pages;
	uint64_t page_size;
};
#endif

/*
 * SYS_setpriv: a process holding a privilege may give it to itself or a
 * descendant (init holds them all from the start). -EPERM otherwise,
 * -ESRCH for no such process, -EINVAL for unknown bits.
 */
#define KESTREL_PRIV_POWER      0x1     /* SYS_halt and SYS_reboot */
#define KESTREL_PRIV_ALL        KESTREL_PRIV_POWER

/*
 * SYS_setfg: the console's foreground process, the one Ctrl-C (0x03) typed
 * on the console kills (with KESTREL_KILL_INTERRUPT); while one is alive
 * the 0x03 is not queued as input. pid is 0 (none), the caller or one of
 * its descendants, never init. The caller may replace the foreground only
 * when it is none, dead, or the caller or one of its descendants: -EPERM
 * otherwise, and for a pid that is not the caller's; -ESRCH for no such
 * live process. Returns the previous foreground pid, to restore later.
 */

#endif
