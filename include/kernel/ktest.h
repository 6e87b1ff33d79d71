/*
 * In-kernel tests (HelenOS style): a case returns NULL on pass or a reason.
 * Suites register themselves in the .ktest_suites section and are run by
 * name with `test=<suite>` on the command line, printing KTAP.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stddef.h>

/* isa-debug-exit codes; QEMU exits with status (code << 1) | 1. */
#define QEMU_DEBUG_EXIT_PORT    0xF4
#define KTEST_EXIT_PASS         0x10    /* QEMU status 33 */
#define KTEST_EXIT_FAIL         0x11    /* QEMU status 35 */
#define KTEST_EXIT_PANIC        0x12    /* QEMU status 37 */

struct ktest_case {
	const char *name;
	const char *(*fn)(void);
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
	size_t count;
	/* Optional: run instead of the cases (suites that do not return, e.g. fault). */
	void (*run)(void);
};

#define KTEST_CASE(fn) { #fn, fn }
#define KTEST_SUITE(sname, ...) \
	static const struct ktest_case sname##_cases[] = { __VA_ARGS__ }; \
	static const struct ktest_suite sname##_suite \
	__attribute__((used, section(".ktest_suites"), aligned(8))) = { \
		#sname, sname##_cases, sizeof(sname##_cases) / sizeof(sname##_cases[0]), 0 }
#define KTEST_SUITE_RUN(sname, fn) \
	static const struct ktest_suite sname##_suite \
	__attribute__((used, section(".ktest_suites"), aligned(8))) = { #sname, 0, 0, fn }

/* Formats a failure reason into a per-suite buffer and returns it. */
const char *ktest_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A case that cannot run here: reported "ok N name # SKIP reason", never as a pass. */
const char *ktest_skip(const char *reason);
#define KT_ASSERT(cond) do { if (!(cond)) \
	return ktest_fail("%s:%d: %s", __FILE__, __LINE__, #cond); } while (0)

/* Early in boot: a `test=` word makes panics exit QEMU from now on. */
void ktest_init(const char *cmdline);
/* Runs the suite named by `test=` and exits QEMU; returns if there is none. */
void ktest_run_from_cmdline(const char *cmdline);
bool ktest_active(void);
__attribute__((noreturn)) void ktest_exit(unsigned int code);

#endif
