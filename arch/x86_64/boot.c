/*
 * arch_boot_entry: the first C code on both boot paths. It turns what the
 * loader handed over into the kernel's own struct boot_info (while the
 * boot identity map still reaches it), then calls kernel_main().
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/x86.h>
#include <boot/boot_info.h>
#include <boot/bootinfo.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/fw_cfg.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/string.h>

/* Both loaders identity-map [0, 4 GiB); multiboot2 info lives below it. */
#define BOOT_IDENTITY_LIMIT     0x100000000ul

extern const char __kernel_phys_start[], __kernel_phys_end[];

static struct boot_info kernel_boot_info;
static char fw_cfg_words[BOOT_INFO_CMDLINE_LEN];

static void boot_from_multiboot2(struct boot_info *bi, uint64_t info)
{
	int rc;

	/* The parser never reads past the info's total_size; bound it by the identity map. */
	rc = bootinfo_from_multiboot2(bi, (const void *)info, info, BOOT_IDENTITY_LIMIT - info);
	if (rc < 0)
		panic("malformed multiboot2 boot information at 0x%lx (error %d)", info, rc);
}

static void boot_from_loader(struct boot_info *bi, uint64_t info)
{
	const struct boot_info *src = (const struct boot_info *)info;

	if (src->magic != BOOT_INFO_MAGIC || src->size != sizeof(*src))
		panic("loader's boot_info at 0x%lx: bad magic 0x%x or size %u",
		      info, src->magic, src->size);
	memcpy(bi, src, sizeof(*bi));
	if (bootinfo_validate(bi) < 0)
		panic("loader's boot_info at 0x%lx failed validation", info);
}

/* QEMU test harnesses append words through fw_cfg (docs/testing.md). */
static void boot_append_fw_cfg(struct boot_info *bi)
{
	if (fw_cfg_read_file(FW_CFG_CMDLINE_FILE, fw_cfg_words, sizeof(fw_cfg_words)) <= 0)
		return;
	if (cmdline_append(bi->cmdline, sizeof(bi->cmdline), fw_cfg_words) < 0)
		kprintf("boot: fw_cfg command line does not fit, ignored: %s\n", fw_cfg_words);
}

/*
 * Both loaders identity-map [0, 4 GiB) through PML4 slot 0. Alias that slot
 * at the direct-map base so phys_to_virt() works before the VMM runs. The
 * boot PML4 is reachable through the identity map (CR3 is physical).
 */
static void boot_alias_direct_map(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & PAGE_MASK);

	pml4[PML4_SLOT(DIRECT_MAP_BASE)] = pml4[0];
	write_cr3(read_cr3());
}

void arch_boot_entry(uint32_t magic, uint64_t info)
{
	struct boot_info *bi = &kernel_boot_info;

	percpu_init_bsp();
	boot_alias_direct_map();
	serial_init();
	if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		boot_from_multiboot2(bi, info);
	else if (magic == KESTREL_LOADER_MAGIC)
		boot_from_loader(bi, info);
	else
		panic("unknown boot protocol magic 0x%x", magic);
	bi->kernel_phys_start = (uint64_t)__kernel_phys_start;
	bi->kernel_phys_end = (uint64_t)__kernel_phys_end;
	boot_append_fw_cfg(bi);
	ktest_init(bi->cmdline);
	kernel_main(bi);
}
