/*
 * System calls (include/uapi/kestrel/syscall.h): the dispatch table, the
 * console (writes, and reads fed by the COM1 receive interrupt), and the
 * calls that are thin wrappers over sched/proc.c. Every user pointer goes
 * through kernel/usercopy.c; a bad one gives -EFAULT.
 */
#include <stdint.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/errno.h>
#include <kernel/klog.h>
#include <kernel/kmalloc.h>
#include <kernel/pmm.h>
#include <kernel/power.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/time.h>
#include <kernel/usercopy.h>

#define IO_CHUNK        256
#define CONSOLE_RING    1024
#define PS_MAX          PROC_MAX
#define CH_INTERRUPT    0x03    /* Ctrl-C (ASCII ETX) */

typedef int64_t (*syscall_fn)(const struct trap_frame *tf);

/* ------------------------------------------------------------ console input */

static struct wait_queue console_wq = WAIT_QUEUE_INIT("console_input");
/* Guarded by console_wq.lock: */
static char ring[CONSOLE_RING];
static uint32_t ring_head, ring_tail;

void console_wake_readers(void)
{
	wake_up_all(&console_wq);
}

static void ring_put(const char *s, size_t n)
{
	uint64_t flags;

	if (n == 0)
		return;
	flags = spin_lock_irqsave(&console_wq.lock);
	for (size_t i = 0; i < n; i++)
		if (ring_head - ring_tail < CONSOLE_RING)
			ring[ring_head++ % CONSOLE_RING] = s[i];
	spin_unlock_irqrestore(&console_wq.lock, flags);
	wake_up_all(&console_wq);
}

/*
 * Bytes typed on the console: COM1's interrupt and every keyboard
 * (kernel/keyboard.c). A Ctrl-C kills the foreground process (SYS_setfg)
 * and is dropped; with no foreground process it is input like any byte
 * (readline() cancels the line). The kill is done with no lock held.
 */
void console_input(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != CH_INTERRUPT)
			continue;
		ring_put(s + start, i - start);
		start = proc_interrupt_foreground() ? i + 1 : i;
	}
	ring_put(s + start, n - start);
}

/* Drain the UART: a byte left behind would hold its edge-triggered IRQ line high. */
static void console_poll(void)
{
	char buf[16];
	size_t n;
	int c;

	do {
		n = 0;
		while (n < sizeof(buf) && (c = serial_try_getc()) >= 0)
			buf[n++] = (char)(c == '\r' ? '\n' : c);
		if (n)
			console_input(buf, n);
	} while (n == sizeof(buf));
}

void console_input_init(void)
{
	serial_enable_rx_irq(console_poll);
}

static int64_t sys_read(const struct trap_frame *tf)
{
	uint64_t buf = tf->rsi, len = tf->rdx, n = 0, flags;
	struct process *p = current_proc();
	char tmp[IO_CHUNK];

	if (tf->rdi != 0)
		return -EBADF;
	/* Check the buffer before blocking: a bad pointer must not wait for input. */
	if (!user_range_mapped(buf, len, true))
		return -EFAULT;
	if (len == 0)
		return 0;
	if (len > sizeof(tmp))
		len = sizeof(tmp);
	flags = spin_lock_irqsave(&console_wq.lock);
	while (ring_head == ring_tail && !p->exiting)
		wq_sleep_locked(&console_wq);
	while (n < len && ring_tail != ring_head)
		tmp[n++] = ring[ring_tail++ % CONSOLE_RING];
	spin_unlock_irqrestore(&console_wq.lock, flags);
	if (p->exiting)
		return -EINTR;
	return copy_to_user(buf, tmp, n) < 0 ? -EFAULT : (int64_t)n;
}

static int64_t sys_write(const struct trap_frame *tf)
{
	uint64_t buf = tf->rsi, len = tf->rdx;
	char tmp[IO_CHUNK];

	if (tf->rdi != 1 && tf->rdi != 2)
		return -EBADF;
	/* All or nothing: a buffer running into an unmapped page writes nothing. */
	if (!user_range_mapped(buf, len, false))
		return -EFAULT;
	for (uint64_t done = 0; done < len; ) {
		uint64_t n = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
		if (copy_from_user(tmp, buf + done, n) < 0)
			return done ? (int64_t)done : -EFAULT;
		console_write_locked(tmp, n);
		done += n;
	}
	return (int64_t)len;
}

/* ------------------------------------------------------------ processes */

static int64_t sys_exit(const struct trap_frame *tf)
{
	proc_exit((int)(tf->rdi & 0xFF));
}

static int64_t sys_spawn(const struct trap_frame *tf)
{
	char name[KESTREL_NAME_MAX];
	char (*args)[PROC_ARG_MAX] = kmalloc(PROC_MAX_ARGS * PROC_ARG_MAX);
	char *argv[PROC_MAX_ARGS];
	int argc = 0, rc = strncpy_from_user(name, tf->rdi, sizeof(name));

	if (!args)
		return -ENOMEM;
	if (rc >= 0 && !tf->rsi)
		rc = -EFAULT;           /* argv is required; argv[0] names the program */
	if (rc >= 0) {
		for (; argc < PROC_MAX_ARGS; argc++) {
			uint64_t ptr;
			if (copy_from_user(&ptr, tf->rsi + 8ul * argc, sizeof(ptr)) < 0) {
				rc = -EFAULT;
				break;
			}
			if (!ptr)
				break;
			int n = strncpy_from_user(args[argc], ptr, PROC_ARG_MAX);
			if (n < 0) {
				rc = n == -ERANGE ? -E2BIG : n;
				break;
			}
			argv[argc] = args[argc];
		}
		if (rc >= 0 && argc == PROC_MAX_ARGS)
			rc = -E2BIG;
	}
	if (rc == -ERANGE)
		rc = -ENOENT;           /* no program has so long a name */
	if (rc >= 0)
		rc = proc_spawn(name, argc, argv, current_proc());
	kfree(args);
	return rc;
}

static int64_t sys_wait(const struct trap_frame *tf)
{
	int status, pid;

	if (!user_range_mapped(tf->rsi, sizeof(int), true))
		return -EFAULT;
	pid = proc_wait(current_proc(), (int)tf->rdi, &status, NULL);
	if (pid < 0)
		return pid;
	return copy_to_user(tf->rsi, &status, sizeof(status)) < 0 ? -EFAULT : pid;
}

static int64_t sys_kill(const struct trap_frame *tf)
{
	return proc_kill_from(current_proc(), (int)tf->rdi, KESTREL_KILL_BY_USER << 8);
}

static int64_t sys_thread_create(const struct trap_frame *tf)
{
	return proc_thread_create(tf->rdi, tf->rsi, tf->rdx);
}

static int64_t sys_thread_exit(const struct trap_frame *tf)
{
	proc_thread_exit(tf->rdi);
}

static int64_t sys_thread_join(const struct trap_frame *tf)
{
	uint64_t value;
	int rc;

	if (!user_range_mapped(tf->rsi, sizeof(value), true))
		return -EFAULT;
	rc = proc_thread_join(tf->rdi, &value);
	if (rc < 0)
		return rc;
	return copy_to_user(tf->rsi, &value, sizeof(value)) < 0 ? -EFAULT : 0;
}

static int64_t sys_ps(const struct trap_frame *tf)
{
	uint64_t count = tf->rsi < PS_MAX ? tf->rsi : PS_MAX;
	struct kestrel_proc_info *info;
	int n;

	if (!user_range_mapped(tf->rdi, count * sizeof(*info), true))
		return -EFAULT;
	info = kmalloc(PS_MAX * sizeof(*info));
	if (!info)
		return -ENOMEM;
	n = proc_list(info, (int)count);
	if (copy_to_user(tf->rdi, info, (size_t)n * sizeof(*info)) < 0)
		n = -EFAULT;
	kfree(info);
	return n;
}

static int64_t sys_sysinfo(const struct trap_frame *tf)
{
	struct kestrel_sysinfo si = {
		.cpus_online = ncpus_online,
		.tick_hz = smp_tick_hz(),
		.uptime_ns = time_ns(),
		.mem_total_pages = pmm_managed_count(),
		.mem_free_pages = pmm_free_count(),
		.page_size = PMM_FRAME_SIZE,
	};

	return copy_to_user(tf->rdi, &si, sizeof(si)) < 0 ? -EFAULT : 0;
}

/* ------------------------------------------------------------ the small ones */

static int64_t sys_yield(const struct trap_frame *tf) { (void)tf; sched_yield(); return 0; }
static int64_t sys_sleep_ms(const struct trap_frame *tf) { sleep_ms(tf->rdi); return 0; }
static int64_t sys_getpid(const struct trap_frame *tf) { (void)tf; return current_proc()->pid; }
static int64_t sys_gettid(const struct trap_frame *tf) { (void)tf; return (int64_t)current_task()->id; }
static int64_t sys_clock_ns(const struct trap_frame *tf) { (void)tf; return (int64_t)time_ns(); }
static int64_t sys_cpu_id(const struct trap_frame *tf) { (void)tf; return cpu_id(); }
static int64_t sys_mmap(const struct trap_frame *tf) { return proc_mmap(tf->rsi, (int)tf->rdx); }
static int64_t sys_munmap(const struct trap_frame *tf) { return proc_munmap(tf->rdi, tf->rsi); }
static int64_t sys_sbrk(const struct trap_frame *tf) { return proc_sbrk((int64_t)tf->rdi); }
/* Only init, or a process init marked (SYS_setpriv), may stop the machine. */
static int64_t sys_halt(const struct trap_frame *tf)
{
	(void)tf;
	if (!(current_proc()->flags & PROC_F_POWER))
		return -EPERM;
	power_off();
}

static int64_t sys_reboot(const struct trap_frame *tf)
{
	(void)tf;
	if (!(current_proc()->flags & PROC_F_POWER))
		return -EPERM;
	power_reboot();
}

static int64_t sys_setpriv(const struct trap_frame *tf)
{
	return proc_setpriv(current_proc(), (int)tf->rdi, (uint32_t)tf->rsi);
}

static int64_t sys_setfg(const struct trap_frame *tf)
{
	return proc_set_foreground(current_proc(), (int)tf->rdi);
}

/* ------------------------------------------------------------ the kernel log */

/*
 * The newest whole lines of the kernel log that fit in len bytes, oldest
 * first. Copied in IO_CHUNK pieces through the stack: the log is read under
 * the console lock, which must not be held across a user copy that may
 * fault. A piece the writer overwrote meanwhile ends the copy early.
 */
static int64_t sys_dmesg(const struct trap_frame *tf)
{
	uint64_t buf = tf->rdi, len = tf->rsi, start, end, done = 0, flags;
	char tmp[IO_CHUNK];

	if (!user_range_mapped(buf, len, true))
		return -EFAULT;
	flags = console_lock_irqsave();
	klog_tail(len, &start, &end);
	console_unlock_irqrestore(flags);
	while (start + done < end) {
		size_t n;

		flags = console_lock_irqsave();
		n = klog_read(start + done, end, tmp, sizeof(tmp));
		console_unlock_irqrestore(flags);
		if (n == 0)
			break;
		if (copy_to_user(buf + done, tmp, n) < 0)
			return -EFAULT;
		done += n;
	}
	return (int64_t)done;
}

static const syscall_fn syscalls[SYS_COUNT] = {
	[SYS_exit] = sys_exit,                  [SYS_write] = sys_write,
	[SYS_read] = sys_read,                  [SYS_yield] = sys_yield,
	[SYS_sleep_ms] = sys_sleep_ms,          [SYS_getpid] = sys_getpid,
	[SYS_gettid] = sys_gettid,              [SYS_spawn] = sys_spawn,
	[SYS_wait] = sys_wait,                  [SYS_thread_create] = sys_thread_create,
	[SYS_thread_exit] = sys_thread_exit,    [SYS_thread_join] = sys_thread_join,
	[SYS_mmap] = sys_mmap,                  [SYS_munmap] = sys_munmap,
	[SYS_sbrk] = sys_sbrk,                  [SYS_clock_ns] = sys_clock_ns,
	[SYS_cpu_id] = sys_cpu_id,              [SYS_kill] = sys_kill,
	[SYS_ps] = sys_ps,                      [SYS_sysinfo] = sys_sysinfo,
	[SYS_halt] = sys_halt,                  [SYS_reboot] = sys_reboot,
	[SYS_setpriv] = sys_setpriv,            [SYS_dmesg] = sys_dmesg,
	[SYS_setfg] = sys_setfg,
};

/* From arch/x86_64/syscall.S, interrupts on. */
void syscall_dispatch(struct trap_frame *tf)
{
	uint64_t nr = tf->rax;

	tf->rax = nr < SYS_COUNT && syscalls[nr] ? (uint64_t)syscalls[nr](tf) : (uint64_t)-ENOSYS;
	proc_check_exit();
}
