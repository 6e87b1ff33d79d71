/*
 * Stage 2, 32-bit C part: the loader's steps in order (loader_main): console,
 * image table and GPT, A20, E820 map, long-mode check, kernel ELF and initrd
 * from the Kestrel partition, ELF checks and loading, struct boot_info, page
 * tables, and the kernel entry (include/boot/boot_info.h). The steps' pieces
 * are in boot/console.c, gpt.c, a20.c, memmap.c, disk.c and rsdp.c
 * (boot/stage2.h).
 */
#include <arch/x86.h>
#include <boot/bootinfo.h>
#include <boot/elf.h>
#include <kernel/string.h>
#include "stage2.h"

/* CPUID */
#define EFLAGS_ID               (1u << 21)
#define CPUID_EXT_MAX           0x80000000u
#define CPUID_EXT_FEATURES      0x80000001u
#define   CPUID_EDX_LM          (1u << 29)

/* 4-level paging with 2 MiB pages (SDM vol. 3, 4.5) */
#define PT_ENTRIES              512
#define PTE_P                   0x1u
#define PTE_W                   0x2u
#define PTE_PS                  0x80u   /* 2 MiB page in a PD entry */
#define IDENTITY_GIB            4
#define PT_INDEX_MASK           (PT_ENTRIES - 1)
#define PML4_SHIFT              39
#define GIB_SHIFT               30      /* also the PDPT index shift */
#define PD_PAGE_SHIFT           21
#define PML4_KERNEL_SLOT        511     /* of KERNEL_VMA_BASE, checked below */
#define PDPT_KERNEL_SLOT        510

static struct boot_info bi;
#define PAGE_ALIGNED            __attribute__((aligned(LOADER_PAGE_SIZE)))
static uint64_t pml4[PT_ENTRIES] PAGE_ALIGNED;
static uint64_t pdpt_low[PT_ENTRIES] PAGE_ALIGNED;      /* [0, 4 GiB) */
static uint64_t pdpt_kernel[PT_ENTRIES] PAGE_ALIGNED;   /* top 2 GiB -> [0, 2 GiB) */
static uint64_t pd[IDENTITY_GIB][PT_ENTRIES] PAGE_ALIGNED;

static uint32_t boot_drive;

static bool cpu_has_cpuid(void)
{
	uint32_t before, after;

	/* CPUID exists if EFLAGS.ID can be toggled. */
	__asm__ volatile("pushfl\n\t"
			 "pushfl\n\t"
			 "popl %0\n\t"
			 "movl %0, %1\n\t"
			 "xorl %2, %1\n\t"
			 "pushl %1\n\t"
			 "popfl\n\t"
			 "pushfl\n\t"
			 "popl %1\n\t"
			 "popfl"
			 : "=&r"(before), "=&r"(after) : "i"(EFLAGS_ID) : "cc");
	return (before ^ after) & EFLAGS_ID;
}

static void long_mode_check(void)
{
	if (!cpu_has_cpuid() || cpuid(CPUID_EXT_MAX, 0).eax < CPUID_EXT_FEATURES ||
	    !(cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EDX_LM))
		die("CPU does not support long mode (x86-64)");
}

struct load_plan {
	uint32_t kernel_file;           /* staging: the ELF file as on disk */
	uint32_t initrd;                /* 0 = none */
	uint64_t end;                   /* first byte after everything we place */
};

/* Is [start, end) all usable RAM? bi.mmap is sorted and disjoint. */
static bool mem_usable(uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < bi.mmap_count && start < end; i++) {
		const struct boot_mmap_entry *e = &bi.mmap[i];

		if (e->type == BOOT_MEM_USABLE && e->base <= start && start - e->base < e->length)
			start = e->base + e->length;
	}
	return start >= end;
}

static bool lba_range_in_partition(const struct stage2_header *h, uint64_t lba, uint64_t bytes)
{
	uint64_t sectors = (bytes + DISK_SECTOR_SIZE - 1) / DISK_SECTOR_SIZE;
	uint64_t part_end = (uint64_t)h->part_lba + h->part_sectors;

	return lba >= h->part_lba && lba <= part_end && sectors <= part_end - lba;
}

static void image_table_check(const struct stage2_header *h)
{
	if (h->version != STAGE2_HDR_VERSION || !(h->flags & STAGE2_F_FILLED))
		die("image table not filled in: build the image with tools/mkimage.py");
	if (h->kernel_size == 0)
		die("no kernel in the image");
	if (!lba_range_in_partition(h, h->kernel_lba, h->kernel_size) ||
	    (h->initrd_size && !lba_range_in_partition(h, h->initrd_lba, h->initrd_size)))
		die("image table corrupt: kernel or initrd outside the Kestrel partition");
}

/* Kernel file at the staging address, initrd on the next page after it. */
static struct load_plan plan_memory(const struct stage2_header *h)
{
	struct load_plan p = { .kernel_file = LOADER_STAGING_ADDR };
	uint64_t end = p.kernel_file + h->kernel_size;

	if (h->initrd_size) {
		end = align_up(end, LOADER_PAGE_SIZE);
		p.initrd = (uint32_t)(end < ADDR_LIMIT_32 ? end : 0);
		end += h->initrd_size;
	}
	p.end = end;
	if (h->kernel_size >= ADDR_LIMIT_32 || h->initrd_size >= ADDR_LIMIT_32 ||
	    end > ADDR_LIMIT_32 || !mem_usable(KERNEL_PHYS_BASE, end))
		die("not enough memory: kernel file (%llu KiB) and initrd (%llu KiB) need "
		    "usable RAM from 1 MiB to %llu KiB", kib_up(h->kernel_size),
		    kib_up(h->initrd_size), kib_up(end));
	return p;
}

static void image_read(const struct stage2_header *h, const struct load_plan *p)
{
	say("reading kernel: %llu KiB at LBA %llu", kib_up(h->kernel_size), h->kernel_lba);
	disk_read(boot_drive, h->kernel_lba, h->kernel_size, p->kernel_file);
	if (h->initrd_size) {
		say("reading initrd: %llu KiB at LBA %llu", kib_up(h->initrd_size), h->initrd_lba);
		disk_read(boot_drive, h->initrd_lba, h->initrd_size, p->initrd);
	}
}

/* Check the ELF, copy PT_LOAD segments to p_paddr and clear their .bss. */
static void kernel_load(const void *file, uint64_t size, struct elf_kernel_info *ki)
{
	enum elf_status s = elf_check_kernel(file, size, LOADER_STAGING_ADDR, ki);
	struct elf64_phdr ph;

	if (s == ELF_ETOOBIG)
		die("kernel too large: needs %llu KiB, loader supports %u KiB",
		    kib_up(ki->phys_end - KERNEL_PHYS_BASE),
		    (LOADER_STAGING_ADDR - KERNEL_PHYS_BASE) / KIB);
	if (s != ELF_OK)
		die("bad kernel ELF: %s", elf_strerror(s));
	/* Checked: every segment lies in [1 MiB, staging), below the file. */
	for (uint16_t i = 0; i < elf_phnum(file); i++) {
		elf_get_phdr(file, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		uint32_t dst = (uint32_t)ph.p_paddr;
		memcpy(phys(dst), (const char *)file + (uint32_t)ph.p_offset, (uint32_t)ph.p_filesz);
		memset(phys(dst + (uint32_t)ph.p_filesz), 0, (uint32_t)(ph.p_memsz - ph.p_filesz));
	}
	say("kernel: %u segments at 0x%llx-0x%llx, entry 0x%llx", ki->load_count,
	    ki->phys_start, ki->phys_end, ki->entry64);
}

static void bootinfo_finish(const struct stage2_header *h, const struct load_plan *p)
{
	strlcpy(bi.loader_name, LOADER_NAME, sizeof bi.loader_name);
	bi.boot_drive = boot_drive;
	memcpy(bi.cmdline, h->cmdline, strnlen(h->cmdline, sizeof bi.cmdline - 1));
	if (p->initrd) {
		struct boot_module *m = &bi.modules[bi.module_count++];
		m->start = p->initrd;
		m->end = p->initrd + h->initrd_size;
		strlcpy(m->name, "initrd", sizeof m->name);
	}
	bi.fb = (struct boot_framebuffer){ .addr = VGA_TEXT_ADDR, .pitch = VGA_COLS * VGA_BPP / 8,
		.width = VGA_COLS, .height = VGA_ROWS, .bpp = VGA_BPP, .type = BOOT_FB_TYPE_TEXT };
	rsdp_find(&bi);
	if (bootinfo_validate(&bi) < 0)
		die("internal error: boot_info does not validate");
}

/* [0, 4 GiB) identity and KERNEL_VMA_BASE -> 0 for 2 GiB, all 2 MiB pages. */
static uint32_t page_tables_build(void)
{
	for (uint32_t g = 0; g < IDENTITY_GIB; g++) {
		for (uint32_t i = 0; i < PT_ENTRIES; i++)
			pd[g][i] = ((uint64_t)g << GIB_SHIFT) + ((uint64_t)i << PD_PAGE_SHIFT) +
				   (PTE_P | PTE_W | PTE_PS);
		pdpt_low[g] = (uintptr_t)pd[g] | PTE_P | PTE_W;
	}
	pdpt_kernel[PDPT_KERNEL_SLOT] = (uintptr_t)pd[0] | PTE_P | PTE_W;
	pdpt_kernel[PDPT_KERNEL_SLOT + 1] = (uintptr_t)pd[1] | PTE_P | PTE_W;
	pml4[0] = (uintptr_t)pdpt_low | PTE_P | PTE_W;
	pml4[PML4_KERNEL_SLOT] = (uintptr_t)pdpt_kernel | PTE_P | PTE_W;
	return (uint32_t)(uintptr_t)pml4;
}
_Static_assert((KERNEL_VMA_BASE >> PML4_SHIFT & PT_INDEX_MASK) == PML4_KERNEL_SLOT, "PML4 slot");
_Static_assert((KERNEL_VMA_BASE >> GIB_SHIFT & PT_INDEX_MASK) == PDPT_KERNEL_SLOT, "PDPT slot");

void loader_main(uint32_t drive)
{
	const struct stage2_header *h = &stage2_header;
	struct elf_kernel_info ki;
	struct load_plan plan;

	boot_drive = drive;
	console_init();
	say("%s, BIOS drive 0x%x", LOADER_NAME, drive);
	bootinfo_init(&bi, BOOT_PATH_LOADER);
	image_table_check(h);
	gpt_check(boot_drive, h);
	a20_enable();
	memory_map_read(&bi);
	long_mode_check();
	plan = plan_memory(h);
	image_read(h, &plan);
	kernel_load(phys(plan.kernel_file), h->kernel_size, &ki);
	bootinfo_finish(h, &plan);
	vbe_setup(&bi, bi.cmdline);
	say("entering long mode, kernel entry 0x%llx", ki.entry64);
	boot_enter_long_mode(page_tables_build(), (uint32_t)(uintptr_t)&bi,
			     (uint32_t)ki.entry64, (uint32_t)(ki.entry64 >> 32));
}
