/*
 * The kernel log ring (include/kernel/klog.h). Bytes are stored at
 * klog_head % KLOG_SIZE and klog_head only grows: a reader (SYS_dmesg in
 * chunks, gdb on a stopped kernel) names bytes by absolute position and can
 * tell when the writer has lapped it. Every function runs under the console
 * lock (kernel/printk.c), so none of them takes a lock of its own.
 */
#include <stdbool.h>
#include <stdint.h>
#include <kernel/cpu.h>
#include <kernel/format.h>
#include <kernel/klog.h>
#include <kernel/time.h>

_Static_assert((KLOG_SIZE & (KLOG_SIZE - 1)) == 0, "KLOG_SIZE must be a power of two");

#define KLOG_PREFIX_MAX         48      /* "[18446744073709.551615 c63] " and then some */

/* Not static: tools/gdb/kestrel.py (kestrel-dmesg) reads them by name. */
char klog_buf[KLOG_SIZE];
volatile uint64_t klog_head;            /* bytes ever logged */
static bool klog_mid_line;              /* the last byte logged was not '\n' */

static void klog_store(char c)
{
	klog_buf[klog_head % KLOG_SIZE] = c;
	/* The byte before the count: a debugger stopping us in between sees no torn byte. */
	__atomic_store_n(&klog_head, klog_head + 1, __ATOMIC_RELEASE);
}

/*
 * The timestamp and CPU of a new line. time_ns() is 0 until time_init()
 * has calibrated the TSC, and cpu_id() is valid from the first C code on:
 * arch_boot_entry() sets the boot CPU's GS base before serial_init(), and
 * ap_entry() an AP's before it can print.
 */
static void klog_prefix(void)
{
	uint64_t us = time_ns() / NS_PER_US;
	char prefix[KLOG_PREFIX_MAX];
	int n = ksnprintf(prefix, sizeof(prefix), "[%5lu.%06lu c%u] ", us / US_PER_S,
			  us % US_PER_S, cpu_id());

	for (int i = 0; i < n && i < (int)sizeof(prefix) - 1; i++)
		klog_store(prefix[i]);
}

void klog_putc(char c)
{
	if (!klog_mid_line)
		klog_prefix();
	klog_store(c);
	klog_mid_line = c != '\n';
}

void klog_tail(uint64_t max, uint64_t *start, uint64_t *end)
{
	uint64_t head = klog_head;
	uint64_t oldest = head > KLOG_SIZE ? head - KLOG_SIZE : 0;
	uint64_t pos = max < head - oldest ? head - max : oldest;

	/*
	 * Start at a line start: position 0, or just after a '\n'. The byte
	 * before the oldest one is gone, so a line there may be cut: skip it.
	 */
	if (pos > 0 && !(pos > oldest && klog_buf[(pos - 1) % KLOG_SIZE] == '\n')) {
		while (pos < head && klog_buf[pos % KLOG_SIZE] != '\n')
			pos++;
		if (pos < head)
			pos++;
	}
	*start = pos;
	*end = head;
}

size_t klog_read(uint64_t pos, uint64_t end, char *buf, size_t len)
{
	uint64_t head = klog_head;
	size_t n = 0;

	if (head > KLOG_SIZE && pos < head - KLOG_SIZE)
		return 0;               /* overwritten since the reader asked */
	while (n < len && pos + n < end && pos + n < head) {
		buf[n] = klog_buf[(pos + n) % KLOG_SIZE];
		n++;
	}
	return n;
}
