/*
 * test=boot: what every boot path must have delivered once kernel_main runs,
 * and the self-checks of the foundation (descriptor tables, symbols, backtraces).
 */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/trap.h>
#include <boot/boot_info.h>
#include <boot/bootinfo.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/format.h>
#include <kernel/kernel.h>
#include <kernel/ksyms.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/string.h>

#define MIB (1024ul * 1024)
#define MIN_USABLE_MIB 16

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static const char *test_boot_info_valid(void)
{
	const struct boot_info *bi = boot_info();

	KT_ASSERT(bi->magic == BOOT_INFO_MAGIC);
	KT_ASSERT(bootinfo_validate(bi) == 0);
	KT_ASSERT(strcmp(bi->boot_path, BOOT_PATH_LOADER) == 0 ||
		  strcmp(bi->boot_path, BOOT_PATH_GRUB_BIOS) == 0 ||
		  strcmp(bi->boot_path, BOOT_PATH_GRUB_UEFI) == 0);
	return NULL;
}

/* The kernel image must sit inside usable RAM according to the memory map. */
static const char *test_kernel_in_usable_memory(void)
{
	const struct boot_info *bi = boot_info();

	if (bootinfo_usable_bytes(bi) < MIN_USABLE_MIB * MIB)
		return ktest_fail("only %lu bytes usable", bootinfo_usable_bytes(bi));
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->type == BOOT_MEM_USABLE && e->base <= bi->kernel_phys_start &&
		    bi->kernel_phys_end <= e->base + e->length)
			return NULL;
	}
	return ktest_fail("kernel [0x%lx-0x%lx) not in a usable range",
			  bi->kernel_phys_start, bi->kernel_phys_end);
}

static const char *test_cmdline_reached_kernel(void)
{
	char v[16];

	KT_ASSERT(cmdline_get(boot_info()->cmdline, "test", v, sizeof(v)) == 4);
	KT_ASSERT(strcmp(v, "boot") == 0);
	return NULL;
}

static const char *test_idt_loaded(void)
{
	struct desc_ptr p;
	extern const char trap_stubs[];
	const uint8_t *gate;
	uint64_t handler;

	__asm__ volatile("sidt %0" : "=m"(p));
	KT_ASSERT(p.limit == IDT_VECTORS * 16 - 1);
	gate = (const uint8_t *)p.base + T_PF * 16;
	handler = *(const uint16_t *)gate | (uint64_t)*(const uint16_t *)(gate + 6) << 16 |
		  (uint64_t)*(const uint32_t *)(gate + 8) << 32;
	KT_ASSERT(handler == (uint64_t)trap_stubs + T_PF * 16);
	KT_ASSERT(gate[4] == 0);                /* #PF runs on the current stack */
	KT_ASSERT(p.base && ((const uint8_t *)p.base)[T_DF * 16 + 4] == IST_DF);
	return NULL;
}

static const char *test_gdt_and_tss_loaded(void)
{
	struct desc_ptr p;
	uint16_t tr, cs;

	__asm__ volatile("sgdt %0; str %1; mov %%cs, %2" : "=m"(p), "=r"(tr), "=r"(cs));
	KT_ASSERT(p.limit == GDT_ENTRIES * 8 - 1);
	KT_ASSERT(tr == SEL_TSS);
	KT_ASSERT(cs == SEL_KCODE);
	return NULL;
}

static const char *test_symbols_embedded(void)
{
	uint64_t off = 1;
	const char *name = ksym_lookup((uint64_t)kernel_main, &off);

	KT_ASSERT(name && strcmp(name, "kernel_main") == 0 && off == 0);
	KT_ASSERT(ksym_address("kernel_main") == (uint64_t)kernel_main);
	name = ksym_lookup((uint64_t)test_symbols_embedded + 5, &off);
	KT_ASSERT(name && strcmp(name, "test_symbols_embedded") == 0 && off == 5);
	return NULL;
}

static uint64_t bt_frames[8];
static int bt_count;

static __attribute__((noinline)) void ktest_bt_inner(void)
{
	bt_count = backtrace_collect((uint64_t)__builtin_frame_address(0),
				     bt_frames, (int)ARRAY_SIZE(bt_frames));
	__asm__ volatile("" ::: "memory");     /* not a tail call */
}

static __attribute__((noinline)) void ktest_bt_middle(void)
{
	ktest_bt_inner();
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void ktest_bt_outer(void)
{
	ktest_bt_middle();
	__asm__ volatile("" ::: "memory");
}

static const char *test_backtrace_names_callers(void)
{
	const char *want[] = { "ktest_bt_middle", "ktest_bt_outer", "test_backtrace_names_callers" };

	ktest_bt_outer();
	if (bt_count < (int)ARRAY_SIZE(want))
		return ktest_fail("only %d frames", bt_count);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		const char *name = ksym_lookup(bt_frames[i] - 1, NULL);
		if (!name || strcmp(name, want[i]) != 0)
			return ktest_fail("frame %u is %s, expected %s", i + 1,
					  name ? name : "?", want[i]);
	}
	return NULL;
}

static const char *test_kernel_format(void)
{
	char buf[64];

	ksnprintf(buf, sizeof(buf), "%d|%5u|%-4s|%08lx|%c", -42, 7u, "ab", 0xbeefUL, 'z');
	KT_ASSERT(strcmp(buf, "-42|    7|ab  |0000beef|z") == 0);
	return NULL;
}

static const char *test_cpu_identified(void)
{
	KT_ASSERT(boot_cpu_info.vendor[0] != '\0');
	KT_ASSERT(boot_cpu_info.brand[0] != '\0');
	KT_ASSERT(serial_present());
	return NULL;
}

KTEST_SUITE(boot,
	KTEST_CASE(test_boot_info_valid),
	KTEST_CASE(test_kernel_in_usable_memory),
	KTEST_CASE(test_cmdline_reached_kernel),
	KTEST_CASE(test_idt_loaded),
	KTEST_CASE(test_gdt_and_tss_loaded),
	KTEST_CASE(test_symbols_embedded),
	KTEST_CASE(test_backtrace_names_callers),
	KTEST_CASE(test_kernel_format),
	KTEST_CASE(test_cpu_identified));
