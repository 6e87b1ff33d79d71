/*
 * Stage 2's private interface: the pieces of the 32-bit C loader (boot/
 * loader.c drives them in order) and the helpers they share. Everything
 * here runs in 32-bit protected mode, identity-mapped, below 4 GiB; BIOS
 * services go through bios_int() (boot/stage2.S), one real-mode trip each.
 */
#ifndef BOOT_STAGE2_H
#define BOOT_STAGE2_H

#include <stdbool.h>
#include <stdint.h>
#include <boot/boot_info.h>
#include <boot/loader.h>

#ifndef KESTREL_VERSION
#error "the Makefile passes -DKESTREL_VERSION"
#endif
#define LOADER_NAME             "Kestrel stage2 " KESTREL_VERSION
#define KIB                     1024u
#define MIB                     0x100000u
#define ADDR_LIMIT_32           0x100000000ull  /* we run in 32-bit mode */
#define INT_SYSTEM              0x15            /* BIOS system services (A20, E820) */

/* VGA text mode 3, as the BIOS left it (boot/console.c; boot_info's fb). */
#define VGA_TEXT_ADDR           0xB8000
#define VGA_COLS                80
#define VGA_ROWS                25
#define VGA_BPP                 16      /* character + attribute */

/* GCC treats constant addresses < 4 KiB as null-based (-Warray-bounds). */
static inline void *phys(uint32_t addr)
{
	void *p = (void *)(uintptr_t)addr;

	__asm__("" : "+r"(p));
	return p;
}

/* Real-mode segment:offset of a pointer below 1 MiB. */
static inline uint16_t rm_seg(const void *p)
{
	return (uint16_t)((uintptr_t)p >> 4);
}

static inline uint16_t rm_off(const void *p)
{
	return (uint16_t)((uintptr_t)p & 0xF);
}

static inline uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint64_t kib_up(uint64_t bytes)
{
	return (bytes + KIB - 1) >> 10;
}

/* boot/console.c: COM1 (when present) and the VGA text screen. */
void console_init(void);
/* One progress line: "stage2: ...". */
__attribute__((format(printf, 1, 2)))
void say(const char *fmt, ...);
/* "Kestrel: <why>" in red, then halt for good (no kernel to hand over to). */
__attribute__((format(printf, 1, 2), noreturn))
void die(const char *fmt, ...);

/* The VGA text screen off (its memory is a graphics mode's first bank) and on again. */
void console_text_off(void);
void console_text_on(void);
/* boot/vbe.c: a VBE linear graphics mode into bi->fb, or VGA text (bi->fb unchanged). */
void vbe_setup(struct boot_info *bi, const char *cmdline);

/* boot/a20.c: enable the A20 gate or die. */
void a20_enable(void);
/* boot/memmap.c: the BIOS E820 map into bi, or die. */
void memory_map_read(struct boot_info *bi);
/* boot/disk.c: bytes from lba on, through the bounce buffer, to dest, or die. */
void disk_read(uint32_t drive, uint64_t lba, uint64_t bytes, uint32_t dest);
/* boot/gpt.c: the image table against the GPT's Kestrel entry (or die). */
void gpt_check(uint32_t drive, const struct stage2_header *h);
/* boot/rsdp.c: the ACPI RSDP into bi, when the BIOS has one. */
void rsdp_find(struct boot_info *bi);

#endif
