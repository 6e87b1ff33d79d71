/*
 * ELF64 structures and the checks every Kestrel ELF consumer shares (System V
 * gABI, "ELF-64 Object File Format" 1.5): our loader (compiled -m32), the
 * kernel (ring-3 loader) and host tests. Fixed-width types only.
 */
#ifndef BOOT_ELF_H
#define BOOT_ELF_H

#include <stdbool.h>
#include <stdint.h>

/* e_ident[] */
#define EI_NIDENT       16
#define EI_MAG0         0               /* "\177ELF" at 0..3 */
#define   ELF_MAGIC     "\177ELF"
#define   ELF_MAGIC_LEN 4
#define EI_CLASS        4
#define   ELFCLASS64    2
#define EI_DATA         5
#define   ELFDATA2LSB   1               /* little endian */
#define EI_VERSION      6
#define   EV_CURRENT    1               /* also e_version */

/* e_type, e_machine */
#define ET_EXEC         2
#define EM_X86_64       62

/* p_type, p_flags */
#define PT_LOAD         1
#define PT_NOTE         4
#define PF_X            0x1
#define PF_W            0x2
#define PF_R            0x4

/* More than any sane kernel or program needs; keeps the overlap check O(n^2) small. */
#define ELF_MAX_PHNUM   64

struct elf64_ehdr {
	unsigned char e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

struct elf64_nhdr {
	uint32_t n_namesz;              /* including the NUL */
	uint32_t n_descsz;
	uint32_t n_type;
};

/* Same layout with -m32 (uint64_t is 4-aligned there) and -m64. */
_Static_assert(sizeof(struct elf64_ehdr) == 64, "elf64_ehdr layout");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phoff) == 32, "elf64_ehdr.e_phoff");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phnum) == 56, "elf64_ehdr.e_phnum");
_Static_assert(sizeof(struct elf64_phdr) == 56, "elf64_phdr layout");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_paddr) == 24, "elf64_phdr.p_paddr");
_Static_assert(sizeof(struct elf64_nhdr) == 12, "elf64_nhdr layout");

/* Why a file was refused; elf_strerror() gives the words. 0 = acceptable. */
enum elf_status {
	ELF_OK = 0,
	ELF_ETRUNC,             /* shorter than an ELF header */
	ELF_EMAGIC,
	ELF_ECLASS,
	ELF_EDATA,
	ELF_EVERSION,
	ELF_EMACHINE,
	ELF_ETYPE,
	ELF_EPHENTSIZE,
	ELF_ENOPHDR,
	ELF_EPHNUM,             /* more than ELF_MAX_PHNUM */
	ELF_EPHBOUNDS,          /* program header table beyond the file */
	ELF_ESEGBOUNDS,         /* segment file range beyond the file */
	ELF_EFILESZ,            /* p_filesz > p_memsz */
	ELF_EADDR,              /* address + size wraps around */
	ELF_ELOWADDR,           /* below the allowed range */
	ELF_EVADDR,             /* kernel: vaddr not paddr or KERNEL_VMA_BASE + paddr */
	ELF_ENOLOAD,
	ELF_EOVERLAP,
	ELF_ETOOBIG,            /* ends above the caller's limit */
	ELF_EBADNOTE,           /* note runs past its segment, or wrong desc size */
	ELF_ENONOTE,
	ELF_EENTRY,             /* entry not inside a loadable segment */
	ELF_NSTATUS
};

/* What elf_check_kernel() learned about an acceptable kernel. */
struct elf_kernel_info {
	uint64_t entry64;       /* from the Kestrel ELF note (virtual) */
	uint64_t phys_start;    /* lowest PT_LOAD p_paddr */
	uint64_t phys_end;      /* highest p_paddr + p_memsz; set for ELF_ETOOBIG too */
	uint32_t load_count;    /* PT_LOAD segments */
};

/*
 * Every function takes the whole file image as (file, size) and reads it
 * with memcpy, so any alignment and any (truncated) size is safe.
 */

/* ident, version, machine x86-64, e_type == type, phdr table inside the file. */
enum elf_status elf_check_header(const void *file, uint64_t size, uint16_t type);
/* Only valid after elf_check_header() returned ELF_OK. */
uint16_t elf_phnum(const void *file);
void elf_get_phdr(const void *file, uint16_t index, struct elf64_phdr *out);

/*
 * PT_LOAD checks: file range inside the file, filesz <= memsz, no wrap,
 * address range (p_paddr if by_paddr, else p_vaddr) inside [min, max], no
 * two segments overlapping there. *lo and *hi get the address span even
 * when the only problem is ELF_ETOOBIG (so callers can say by how much).
 */
enum elf_status elf_check_loads(const void *file, uint64_t size, bool by_paddr,
				uint64_t min, uint64_t max, uint64_t *lo, uint64_t *hi);

/*
 * The kernel contract (include/boot/boot_info.h): ELF64 x86-64 ET_EXEC,
 * PT_LOAD p_paddr in [KERNEL_PHYS_BASE, phys_limit), p_vaddr == p_paddr or
 * KERNEL_VMA_BASE + p_paddr, and a Kestrel entry note pointing into a segment.
 */
enum elf_status elf_check_kernel(const void *file, uint64_t size, uint64_t phys_limit,
				 struct elf_kernel_info *out);

const char *elf_strerror(enum elf_status status);

#endif
