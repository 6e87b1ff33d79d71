/*
 * Stage 2, 32-bit C part: COM1 + VGA console, A20, E820 map, long-mode check,
 * kernel ELF and initrd from the Kestrel partition, ELF checks and loading,
 * struct boot_info, page tables, and the kernel entry (include/boot/boot_info.h).
 * BIOS services go through bios_int() (boot/stage2.S), one real-mode trip each.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/x86.h>
#include <boot/boot_info.h>
#include <boot/bootinfo.h>
#include <boot/elf.h>
#include <boot/loader.h>
#include <kernel/string.h>

#ifndef KESTREL_VERSION
#error "the Makefile passes -DKESTREL_VERSION"
#endif
#define LOADER_NAME             "Kestrel stage2 " KESTREL_VERSION
#define KIB                     1024u
#define MIB                     0x100000u
#define ADDR_LIMIT_32           0x100000000ull  /* we run in 32-bit mode */

/* BIOS services */
#define INT_VIDEO               0x10
#define INT_DISK                0x13
#define   DISK_RESET            0x00    /* AH */
#define   DISK_EXT_READ         0x42    /* AH, EDD 3.0 */
#define   DISK_RETRIES          3
#define INT_SYSTEM              0x15
#define   SYS_A20_ENABLE        0x2401  /* AX */
#define   SYS_E820              0xE820  /* EAX, ACPI "System Address Map Interfaces" */
#define   E820_SMAP             0x534D4150      /* "SMAP" in EDX in, EAX out */

/* COM1 16550 UART (PC16550D datasheet) */
#define COM1_PORT               0x3F8
#define UART_DATA               0       /* divisor low when DLAB = 1 */
#define UART_IER                1       /* divisor high when DLAB = 1 */
#define UART_FCR                2
#define   FCR_ON_CLEAR_TRIG14   0xC7
#define UART_LCR                3
#define   LCR_8N1               0x03
#define   LCR_DLAB              0x80
#define UART_MCR                4
#define   MCR_DTR_RTS           0x03
#define UART_LSR                5
#define   LSR_THRE              0x20
#define UART_SCR                7
#define UART_DIVISOR            1       /* 115200 baud */
#define UART_TX_SPIN            100000

/* VGA text mode 3, as the BIOS left it; the cursor is in the BIOS data area. */
#define VGA_TEXT_ADDR           0xB8000
#define VGA_COLS                80
#define VGA_ROWS                25
#define VGA_BPP                 16      /* character + attribute */
#define VGA_ATTR_NORMAL         0x07    /* grey on black */
#define VGA_ATTR_ERROR          0x4F    /* white on red */
#define BDA_CURSOR_PAGE0        0x450   /* byte column, byte row */
#define CRTC_INDEX              0x3D4
#define CRTC_DATA               0x3D5
#define   CRTC_CURSOR_HI        0x0E
#define   CRTC_CURSOR_LO        0x0F

/* A20 gate */
#define A20_ALIAS_ADDR          (A20_PROBE_ADDR + MIB)  /* same address with bit 20 set */
#define A20_PATTERN             0x4B413230u
#define A20_POLLS               1000
#define KBC_DATA                0x60
#define KBC_CMD                 0x64    /* write: command; read: status */
#define   KBC_STATUS_IBF        0x02    /* input buffer full: busy */
#define   KBC_WRITE_OUTPUT      0xD1    /* next data byte goes to the output port */
#define   KBC_OUTPUT_A20_ON     0xDF    /* A20 on, CPU reset line inactive */
#define   KBC_NOP               0xFF    /* pulse nothing; USB legacy emulation wants it */
#define KBC_SPIN                100000
#define SYSCTL_PORT_A           0x92    /* "fast A20" */
#define   PORT_A_RESET          0x01
#define   PORT_A_A20            0x02

/* CPUID */
#define EFLAGS_ID               (1u << 21)
#define CPUID_EXT_MAX           0x80000000u
#define CPUID_EXT_FEATURES      0x80000001u
#define   CPUID_EDX_LM          (1u << 29)

/* ACPI 6.x 5.2.5: RSDP search areas */
#define BDA_EBDA_SEGMENT        0x40E   /* word: EBDA segment */
#define EBDA_LOW                0x80000 /* a sane EBDA lies in [EBDA_LOW, EBDA_HIGH) */
#define EBDA_HIGH               0xA0000
#define EBDA_SEARCH_LEN         1024
#define BIOS_ROM_START          0xE0000
#define BIOS_ROM_END            0x100000
#define RSDP_ALIGN              16
#define RSDP_SIGNATURE          "RSD PTR "
#define RSDP_SIGNATURE_LEN      8
#define RSDP_REVISION_2         2       /* ACPI 2.0+: XSDT, length, extended checksum */
#define RSDP_V1_LEN             20
#define RSDP_REVISION_OFF       15
#define RSDP_LENGTH_OFF         20
#define RSDP_V2_LEN             36

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

/* EDD 3.0 disk address packet */
struct disk_address_packet {
	uint8_t size;
	uint8_t reserved;
	uint16_t count;                 /* in: sectors wanted; out: sectors read */
	uint16_t offset, segment;       /* buffer, real-mode form */
	uint64_t lba;
} __attribute__((packed));
_Static_assert(sizeof(struct disk_address_packet) == 16, "EDD 3.0 DAP");

/* The BIOS writes into these, so they live in .bss below 1 MiB. */
static struct disk_address_packet dap;
static struct e820_entry e820_buf;
static struct e820_entry e820_raw[BOOT_INFO_MAX_MMAP];
static struct boot_info bi;
#define PAGE_ALIGNED            __attribute__((aligned(LOADER_PAGE_SIZE)))
static uint64_t pml4[PT_ENTRIES] PAGE_ALIGNED;
static uint64_t pdpt_low[PT_ENTRIES] PAGE_ALIGNED;      /* [0, 4 GiB) */
static uint64_t pdpt_kernel[PT_ENTRIES] PAGE_ALIGNED;   /* top 2 GiB -> [0, 2 GiB) */
static uint64_t pd[IDENTITY_GIB][PT_ENTRIES] PAGE_ALIGNED;

static uint32_t boot_drive;
static uint32_t vga_col, vga_row;
static uint8_t vga_attr = VGA_ATTR_NORMAL;
static bool com1_ok;

/* ---------------------------------------------------------------- helpers */

/* GCC treats constant addresses < 4 KiB as null-based (-Warray-bounds). */
static void *phys(uint32_t addr)
{
	void *p = (void *)(uintptr_t)addr;

	__asm__("" : "+r"(p));
	return p;
}

static uint16_t rm_seg(const void *p)
{
	return (uint16_t)((uintptr_t)p >> 4);
}

static uint16_t rm_off(const void *p)
{
	return (uint16_t)((uintptr_t)p & 0xF);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t kib_up(uint64_t bytes)
{
	return (bytes + KIB - 1) >> 10;
}

/* v / 10 without libgcc's __udivdi3 (there is no -m32 libgcc to link). */
static uint64_t div10(uint64_t v, uint32_t *rem)
{
	uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
	uint32_t q_hi = hi / 10, r = hi % 10;
	/* (r:lo) / 10 in 16-bit steps: each dividend is below 10 << 16. */
	uint32_t x = (r << 16) | (lo >> 16);
	uint32_t q_mid = x / 10;

	x = ((x % 10) << 16) | (lo & 0xFFFF);
	*rem = x % 10;
	return ((uint64_t)q_hi << 32) | (q_mid << 16) | (x / 10);
}

/* ---------------------------------------------------------------- console */

static void serial_init(void)
{
	/* A missing UART reads back 0xFF: check the scratch register first. */
	outb(COM1_PORT + UART_SCR, 0x5A);
	if (inb(COM1_PORT + UART_SCR) != 0x5A)
		return;
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DATA, UART_DIVISOR & 0xFF);
	outb(COM1_PORT + UART_IER, UART_DIVISOR >> 8);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, FCR_ON_CLEAR_TRIG14);
	outb(COM1_PORT + UART_MCR, MCR_DTR_RTS);
	com1_ok = true;
}

static void serial_putc(char c)
{
	if (!com1_ok)
		return;
	for (int i = 0; i < UART_TX_SPIN && !(inb(COM1_PORT + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

/* Continue where the BIOS (and stage 1) left the cursor. */
static void vga_init(void)
{
	const uint8_t *cursor = phys(BDA_CURSOR_PAGE0);

	vga_col = cursor[0];
	vga_row = cursor[1];
	if (vga_col >= VGA_COLS || vga_row >= VGA_ROWS)
		vga_col = vga_row = 0;
}

static void vga_newline(void)
{
	uint16_t *text = phys(VGA_TEXT_ADDR);

	vga_col = 0;
	if (++vga_row < VGA_ROWS)
		return;
	vga_row = VGA_ROWS - 1;
	memmove(text, text + VGA_COLS, (VGA_ROWS - 1) * VGA_COLS * sizeof *text);
	for (int i = 0; i < VGA_COLS; i++)
		text[(VGA_ROWS - 1) * VGA_COLS + i] = (uint16_t)(VGA_ATTR_NORMAL << 8 | ' ');
}

static void vga_putc(char c)
{
	volatile uint16_t *text = phys(VGA_TEXT_ADDR);

	if (c == '\n') {
		vga_newline();
		return;
	}
	text[vga_row * VGA_COLS + vga_col] = (uint16_t)(vga_attr << 8 | (uint8_t)c);
	if (++vga_col == VGA_COLS)
		vga_newline();
}

/* Hardware cursor and BDA, so the BIOS or the kernel can carry on from here. */
static void vga_sync_cursor(void)
{
	uint8_t *cursor = phys(BDA_CURSOR_PAGE0);
	uint32_t pos = vga_row * VGA_COLS + vga_col;

	cursor[0] = (uint8_t)vga_col;
	cursor[1] = (uint8_t)vga_row;
	outb(CRTC_INDEX, CRTC_CURSOR_HI);
	outb(CRTC_DATA, (uint8_t)(pos >> 8));
	outb(CRTC_INDEX, CRTC_CURSOR_LO);
	outb(CRTC_DATA, (uint8_t)pos);
}

static void con_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
	vga_putc(c);
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void con_putu(uint64_t v, bool hex, unsigned width)
{
	char digits[24];
	unsigned n = 0;

	do {
		uint32_t d;
		if (hex) {
			d = (uint32_t)v & 0xF;
			v >>= 4;
		} else {
			v = div10(v, &d);
		}
		digits[n++] = "0123456789abcdef"[d];
	} while (v);
	while (n < width && n < sizeof digits)
		digits[n++] = '0';
	while (n)
		con_putc(digits[--n]);
}

/* printf subset: %s %c %u %x %llu %llx, optional zero-padded width. */
static void con_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		unsigned width = 0;
		bool ll = false;

		if (*fmt != '%') {
			con_putc(*fmt);
			continue;
		}
		if (*++fmt == '0')
			fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		if (fmt[0] == 'l' && fmt[1] == 'l') {
			ll = true;
			fmt += 2;
		}
		switch (*fmt) {
		case 'u':
		case 'x':
			con_putu(ll ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned),
				 *fmt == 'x', width);
			break;
		case 's':
			con_puts(va_arg(ap, const char *));
			break;
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case '%':
			con_putc('%');
			break;
		case '\0':
			return;
		default:
			con_putc('?');
		}
	}
}

/* One progress line: "stage2: ...". */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;

	con_puts("stage2: ");
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	vga_sync_cursor();
}

/* "Kestrel: <why>" in red, then halt for good (no kernel to hand over to). */
__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	vga_attr = VGA_ATTR_ERROR;
	con_puts("Kestrel: ");
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	vga_attr = VGA_ATTR_NORMAL;
	con_puts("Kestrel: boot halted\n");
	vga_sync_cursor();
	cpu_halt_forever();
}

/* ---------------------------------------------------------------- A20 */

/* With A20 off, 0x100500 aliases 0x000500: a write to one shows in the other. */
static bool a20_is_on(void)
{
	volatile uint32_t *low = phys(A20_PROBE_ADDR), *alias = phys(A20_ALIAS_ADDR);
	uint32_t saved = *low;
	bool on;

	*low = A20_PATTERN;
	*alias = ~A20_PATTERN;
	on = *low == A20_PATTERN;
	*low = saved;
	return on;
}

/* Some gates take a while to switch: poll before trying the next method. */
static bool a20_settles(void)
{
	for (int i = 0; i < A20_POLLS; i++) {
		if (a20_is_on())
			return true;
		io_wait();
	}
	return false;
}

static bool kbc_wait_ready(void)
{
	for (int i = 0; i < KBC_SPIN; i++) {
		if (!(inb(KBC_CMD) & KBC_STATUS_IBF))
			return true;
		io_wait();
	}
	return false;           /* no 8042 (reads 0xFF) or a stuck one */
}

static void kbc_enable_a20(void)
{
	if (!kbc_wait_ready())
		return;
	outb(KBC_CMD, KBC_WRITE_OUTPUT);
	if (!kbc_wait_ready())
		return;
	outb(KBC_DATA, KBC_OUTPUT_A20_ON);
	if (!kbc_wait_ready())
		return;
	outb(KBC_CMD, KBC_NOP);
	kbc_wait_ready();
}

static void fast_a20_enable(void)
{
	uint8_t v = inb(SYSCTL_PORT_A);

	/* Never write bit 0 as 1: that resets the machine. */
	if (!(v & PORT_A_A20))
		outb(SYSCTL_PORT_A, (uint8_t)((v | PORT_A_A20) & ~PORT_A_RESET));
}

/* BIOS, then keyboard controller, then port 0x92; say which one worked. */
static void a20_enable(void)
{
	struct bios_regs r = { .eax = SYS_A20_ENABLE };

	if (a20_is_on()) {
		say("A20 already enabled");
		return;
	}
	bios_int(INT_SYSTEM, &r);
	if (a20_settles()) {
		say("A20 enabled by the BIOS (INT 15h AX=2401h)");
		return;
	}
	kbc_enable_a20();
	if (a20_settles()) {
		say("A20 enabled by the keyboard controller");
		return;
	}
	fast_a20_enable();
	if (a20_settles()) {
		say("A20 enabled by port 0x92 (fast A20)");
		return;
	}
	die("A20 stuck: cannot enable the A20 gate (BIOS, keyboard controller and port 0x92 tried)");
}

/* ---------------------------------------------------------------- E820, CPU */

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

static void memory_map_read(void)
{
	uint32_t n = e820_read();

	if (n == 0)
		die("no E820 memory map: the BIOS does not report memory (INT 15h EAX=E820h)");
	if (bootinfo_add_e820(&bi, e820_raw, n) < 0)
		say("E820 map truncated to %u entries", BOOT_INFO_MAX_MMAP);
	if (bi.mmap_count == 0)
		die("no E820 memory map: no usable entries");
	say("E820: %u entries, %u MiB usable", bi.mmap_count,
	    (unsigned)(bootinfo_usable_bytes(&bi) >> 20));
}

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

/* ---------------------------------------------------------------- disk */

static bool disk_read_chunk(uint64_t lba, uint16_t count)
{
	for (int attempt = 0; attempt < DISK_RETRIES; attempt++) {
		struct bios_regs r = { .eax = DISK_EXT_READ << 8, .edx = boot_drive };

		dap = (struct disk_address_packet){ .size = sizeof dap, .count = count,
			.offset = rm_off(phys(BOUNCE_ADDR)), .segment = rm_seg(phys(BOUNCE_ADDR)),
			.lba = lba };
		r.ds = rm_seg(&dap);
		r.esi = rm_off(&dap);
		bios_int(INT_DISK, &r);
		/* The BIOS writes back how many sectors it really read. */
		if (!(r.eflags & EFLAGS_CF) && dap.count == count)
			return true;
		r = (struct bios_regs){ .eax = DISK_RESET << 8, .edx = boot_drive };
		bios_int(INT_DISK, &r);
	}
	return false;
}

/* bytes from lba on, through the bounce buffer, to physical dest. */
static void disk_read(uint64_t lba, uint64_t bytes, uint32_t dest)
{
	while (bytes) {
		uint32_t n = bytes < BOUNCE_SIZE ? (uint32_t)bytes : BOUNCE_SIZE;
		uint16_t sectors = (uint16_t)((n + DISK_SECTOR_SIZE - 1) / DISK_SECTOR_SIZE);

		if (!disk_read_chunk(lba, sectors))
			die("disk read error at LBA %llu (drive 0x%x)", lba, boot_drive);
		memcpy(phys(dest), phys(BOUNCE_ADDR), n);
		lba += sectors;
		dest += n;
		bytes -= n;
	}
}

/* ---------------------------------------------------------------- image */

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
	disk_read(h->kernel_lba, h->kernel_size, p->kernel_file);
	if (h->initrd_size) {
		say("reading initrd: %llu KiB at LBA %llu", kib_up(h->initrd_size), h->initrd_lba);
		disk_read(h->initrd_lba, h->initrd_size, p->initrd);
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

/* ---------------------------------------------------------------- hand-over */

static uint8_t byte_sum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* Signature, ACPI 1.0 checksum, and for revision 2+ the extended checksum. */
static bool rsdp_valid(const uint8_t *p)
{
	uint32_t len;

	if (memcmp(p, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN) != 0 || byte_sum(p, RSDP_V1_LEN) != 0)
		return false;
	if (p[RSDP_REVISION_OFF] < RSDP_REVISION_2)
		return true;
	memcpy(&len, p + RSDP_LENGTH_OFF, sizeof len);
	return len >= RSDP_V2_LEN && byte_sum(p, RSDP_V2_LEN) == 0;
}

static const uint8_t *rsdp_scan(uint32_t start, uint32_t end)
{
	uint32_t a = (uint32_t)align_up(start, RSDP_ALIGN);

	for (; a + RSDP_V1_LEN <= end; a += RSDP_ALIGN)
		if (rsdp_valid(phys(a)))
			return phys(a);
	return NULL;
}

/* ACPI 6.x 5.2.5.1: first KiB of the EBDA, then the BIOS ROM area. */
static void rsdp_find(void)
{
	const uint16_t *ebda_seg = phys(BDA_EBDA_SEGMENT);
	uint32_t ebda = (uint32_t)*ebda_seg << 4;
	const uint8_t *p = NULL;

	if (ebda >= EBDA_LOW && ebda < EBDA_HIGH)
		p = rsdp_scan(ebda, ebda + EBDA_SEARCH_LEN);
	if (!p)
		p = rsdp_scan(BIOS_ROM_START, BIOS_ROM_END);
	if (!p)
		return;
	bi.rsdp_revision = p[RSDP_REVISION_OFF];
	bi.rsdp_length = bi.rsdp_revision >= RSDP_REVISION_2 ? RSDP_V2_LEN : RSDP_V1_LEN;
	bi.rsdp_addr = (uintptr_t)p;
	memcpy(bi.rsdp, p, bi.rsdp_length);
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
	rsdp_find();
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
	serial_init();
	vga_init();
	say("%s, BIOS drive 0x%x", LOADER_NAME, drive);
	bootinfo_init(&bi, BOOT_PATH_LOADER);
	image_table_check(h);
	a20_enable();
	memory_map_read();
	long_mode_check();
	plan = plan_memory(h);
	image_read(h, &plan);
	kernel_load(phys(plan.kernel_file), h->kernel_size, &ki);
	bootinfo_finish(h, &plan);
	say("entering long mode, kernel entry 0x%llx", ki.entry64);
	boot_enter_long_mode(page_tables_build(), (uint32_t)(uintptr_t)&bi,
			     (uint32_t)ki.entry64, (uint32_t)(ki.entry64 >> 32));
}
