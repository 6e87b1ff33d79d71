/* kernel_main: the boot sequence. The order of the init calls is the documentation. */
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/uaccess.h>
#include <arch/x86.h>
#include <boot/boot_info.h>
#include <boot/bootinfo.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/format.h>
#include <kernel/kernel.h>
#include <kernel/ksyms.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/pci.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/ps2.h>
#include <kernel/rtc.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/time.h>
#include <kernel/usb.h>
#include <kernel/vmm.h>

#define MIB (1024ul * 1024)

static const struct boot_info *the_boot_info;

const struct boot_info *boot_info(void)
{
	return the_boot_info;
}

static const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_USABLE:           return "usable";
	case BOOT_MEM_RESERVED:         return "reserved";
	case BOOT_MEM_ACPI_RECLAIM:     return "ACPI reclaimable";
	case BOOT_MEM_ACPI_NVS:         return "ACPI NVS";
	case BOOT_MEM_BAD:              return "bad";
	default:                        return "unknown";
	}
}

static void print_banner(const struct boot_info *bi)
{
	kprintf("Kestrel %s (%s) x86_64, rev %s\n", KESTREL_VERSION, bi->boot_path, GIT_REV);
	kprintf("cpu: %s, %s (family %u model %u stepping %u)\n", boot_cpu_info.vendor,
		boot_cpu_info.brand, boot_cpu_info.family, boot_cpu_info.model,
		boot_cpu_info.stepping);
	kprintf("boot: loaded by %s%s\n", bi->loader_name[0] ? bi->loader_name : "unknown",
		bi->flags & BOOT_INFO_F_EFI ? ", UEFI firmware" : "");
	kprintf("cmdline: %s\n", bi->cmdline);
}

static void print_memory_map(const struct boot_info *bi)
{
	kprintf("mem: physical memory map (%u entries%s):\n", bi->mmap_count,
		bi->flags & BOOT_INFO_F_MMAP_TRUNC ? ", truncated" : "");
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		kprintf("  [0x%016lx-0x%016lx] %s\n", e->base, e->base + e->length - 1,
			mem_type_name(e->type));
	}
	for (uint32_t i = 0; i < bi->module_count; i++)
		kprintf("mem: module '%s' at [0x%lx-0x%lx)\n", bi->modules[i].name,
			bi->modules[i].start, bi->modules[i].end);
	kprintf("mem: %lu MiB usable\n", bootinfo_usable_bytes(bi) / MIB);
}

static void print_rtc(void)
{
	struct rtc_time t;

	if (rtc_read(&t) == 0)
		kprintf("rtc: %04u-%02u-%02u %02u:%02u:%02u UTC\n", t.year, t.month, t.day,
			t.hour, t.minute, t.second);
	else
		kprintf("rtc: the clock did not settle; no date\n");
}

static void find_initrd(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->module_count; i++)
		if (strcmp(bi->modules[i].name, "initrd") == 0) {
			const struct boot_module *m = &bi->modules[i];
			proc_set_initrd(phys_to_virt(m->start), m->end - m->start);
			kprintf("initrd: %lu KiB\n", (m->end - m->start) / 1024);
			return;
		}
	kprintf("initrd: none; no user programs\n");
}

/* Start the first user program (init=NAME on the command line, else "init"). */
static void start_init(const struct boot_info *bi)
{
	char name[KESTREL_NAME_MAX] = "init";
	char *argv[] = { name };
	int pid;

	if (cmdline_get(bi->cmdline, "init", name, sizeof(name)) <= 0)
		strlcpy(name, "init", sizeof(name));
	pid = proc_spawn(name, 1, argv, NULL);
	if (pid < 0) {
		kprintf("kestrel: cannot start '%s' (error %d); idle\n", name, pid);
		return;
	}
	kprintf("kestrel: started '%s' as pid %d\n", name, pid);
}

/* The rest of boot runs as a thread, so it can sleep and wait like any other. */
static void kernel_init_thread(void *arg)
{
	const struct boot_info *bi = arg;

	proc_init();
	console_input_init();
	i8042_init();
	/* Devices after the IOAPIC, the clock and the scheduler: their waits are bounded in time. */
	pci_init();
	xhci_init();
	ktest_run_from_cmdline(bi->cmdline);
	kprintf("kestrel: boot complete\n");
	start_init(bi);
}

void kernel_main(struct boot_info *bi)
{
	the_boot_info = bi;
	kformat_set_symbolizer(ksym_lookup);
	vga_init(bi);
	cpu_early_init();
	print_banner(bi);
	print_memory_map(bi);
	pmm_init(bi);
	vmm_init(bi);
	time_init();
	sched_init_cpu();
	syscall_init_cpu();
	arch_uaccess_init_cpu();
	kprintf("cpu: SMEP %s, SMAP %s, UMIP %s\n", boot_cpu_info.has_smep ? "on" : "off",
		boot_cpu_info.has_smap ? "on" : "off", boot_cpu_info.has_umip ? "on" : "off");
	smp_init();
	find_initrd(bi);
	print_rtc();
	if (!kthread_create(kernel_init_thread, bi, "kinit"))
		panic("cannot create the init thread");
	sched_idle_loop();
}
