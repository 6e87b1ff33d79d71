/* The BIOS memory map: INT 15h EAX=E820h (ACPI 6.x, chapter 15), into boot_info. */
#include <boot/bootinfo.h>
#include "stage2.h"

#define   SYS_E820              0xE820  /* INT_SYSTEM, EAX */
#define   E820_SMAP             0x534D4150      /* "SMAP" in EDX in, EAX out */

/* The BIOS writes into these, so they live in .bss below 1 MiB. */
static struct e820_entry e820_buf;
static struct e820_entry e820_raw[BOOT_INFO_MAX_MMAP];

/* INT 15h EAX=E820h until EBX = 0 or CF; returns the number of entries. */
static uint32_t e820_read(void)
{
	uint32_t n = 0, cont = 0;

	do {
		struct bios_regs r = { .eax = SYS_E820, .edx = E820_SMAP,
				       .ecx = sizeof e820_buf, .ebx = cont };

		/* 20-byte BIOSes leave the ACPI 3.0 dword alone: preset "enabled". */
		e820_buf = (struct e820_entry){ .acpi_attr = E820_ATTR_ENABLED };
		r.es = rm_seg(&e820_buf);
		r.edi = rm_off(&e820_buf);
		bios_int(INT_SYSTEM, &r);
		/* CF or no "SMAP": unsupported on the first call, the end on later ones. */
		if ((r.eflags & EFLAGS_CF) || r.eax != E820_SMAP)
			break;
		if (r.ecx >= E820_ENTRY_SIZE_LEGACY)
			e820_raw[n++] = e820_buf;
		cont = r.ebx;
	} while (cont != 0 && n < BOOT_INFO_MAX_MMAP);
	return n;
}

void memory_map_read(struct boot_info *bi)
{
	uint32_t n = e820_read();

	if (n == 0)
		die("no E820 memory map: the BIOS does not report memory (INT 15h EAX=E820h)");
	if (bootinfo_add_e820(bi, e820_raw, n) < 0)
		say("E820 map truncated to %u entries", BOOT_INFO_MAX_MMAP);
	if (bi->mmap_count == 0)
		die("no E820 memory map: no usable entries");
	say("E820: %u entries, %u MiB usable", bi->mmap_count,
	    (unsigned)(bootinfo_usable_bytes(bi) >> 20));
}
