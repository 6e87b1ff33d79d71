/* The in-kernel test runner: KTAP output, exit status through isa-debug-exit. */
#include <stdarg.h>
#include <arch/x86.h>
#include <kernel/cmdline.h>
#include <kernel/format.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#define SUITE_NAME_MAX  32

extern const struct ktest_suite __ktest_suites_start[], __ktest_suites_end[];
static bool active;
static char fail_buf[256];
static char skip_buf[256];

bool ktest_active(void)
{
	return active;
}

const char *ktest_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(fail_buf, sizeof(fail_buf), fmt, ap);
	va_end(ap);
	return fail_buf;
}

const char *ktest_skip(const char *reason)
{
	strlcpy(skip_buf, reason, sizeof(skip_buf));
	return skip_buf;
}

void ktest_exit(unsigned int code)
{
	/* Only QEMU's isa-debug-exit listens here; on hardware this returns. */
	outl(QEMU_DEBUG_EXIT_PORT, code);
	cpu_halt_forever();
}

static const struct ktest_suite *ktest_find(const char *name)
{
	for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static unsigned int ktest_run_suite(const struct ktest_suite *s)
{
	unsigned int failed = 0, skipped = 0;

	kprintf("KTAP version 1\n# suite: %s\n1..%zu\n", s->name, s->count);
	for (size_t i = 0; i < s->count; i++) {
		const char *why = s->cases[i].fn();
		if (why == skip_buf) {
			kprintf("ok %zu %s # SKIP %s\n", i + 1, s->cases[i].name, why);
			skipped++;
		} else if (why) {
			kprintf("not ok %zu %s # %s\n", i + 1, s->cases[i].name, why);
			failed++;
		} else {
			kprintf("ok %zu %s\n", i + 1, s->cases[i].name);
		}
	}
	kprintf("# %s: %zu passed, %u failed, %u skipped\n", s->name,
		s->count - failed - skipped, failed, skipped);
	return failed;
}

static void ktest_list(void)
{
	kprintf("ktest: suites:");
	for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++)
		kprintf(" %s", s->name);
	kprintf("\n");
}

void ktest_init(const char *cmdline)
{
	active = cmdline_has(cmdline, "test");
}

void ktest_run_from_cmdline(const char *cmdline)
{
	char name[SUITE_NAME_MAX];
	const struct ktest_suite *s;

	if (cmdline_get(cmdline, "test", name, sizeof(name)) < 0)
		return;
	active = true;
	s = ktest_find(name);
	if (!s) {
		kprintf("ktest: no suite named '%s'\n", name);
		ktest_list();
		ktest_exit(KTEST_EXIT_FAIL);
	}
	if (s->run) {
		s->run();
		kprintf("ktest: suite '%s' returned\n", name);
		ktest_exit(KTEST_EXIT_FAIL);
	}
	ktest_exit(ktest_run_suite(s) ? KTEST_EXIT_FAIL : KTEST_EXIT_PASS);
}
