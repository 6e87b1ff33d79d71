/*
 * Host tests for boot/elf.c: a small valid kernel ELF is built here, then
 * each corruption must be refused with its own reason, and every truncation
 * must be refused without reading past the buffer (run under ASan/UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "../../boot/elf.c"

#define MIB             0x100000ull
#define BOOT_PADDR      KERNEL_PHYS_BASE
#define TEXT_PADDR      (KERNEL_PHYS_BASE + 0x1000)
#define DATA_PADDR      (KERNEL_PHYS_BASE + 0x2000)
#define DATA_MEMSZ      0x3000ull
#define ENTRY64         (KERNEL_VMA_BASE + TEXT_PADDR + 0x10)
#define LIMIT           (8 * MIB)       /* like the loader's staging base */

/* Program header slots of the model kernel. */
enum { PH_BOOT, PH_TEXT, PH_NOTE, PH_DATA, PH_COUNT };

/* A GNU note first, so the scanner has to step over a foreign note. */
struct notes {
	struct elf64_nhdr gnu;
	char gnu_name[4];               /* "GNU" */
	uint32_t gnu_desc;
	struct elf64_nhdr kst;
	char kst_name[8];               /* "Kestrel" */
	uint64_t kst_desc;
} __attribute__((packed));

struct model {
	struct elf64_ehdr eh;
	struct elf64_phdr ph[PH_COUNT];
	struct notes notes;
	unsigned char boot[64], text[64], data[32];
};

/* File layout: no section headers, the file ends with the last segment. */
#define PH_OFF          sizeof(struct elf64_ehdr)
#define NOTE_OFF        (PH_OFF + PH_COUNT * sizeof(struct elf64_phdr))
#define BOOT_OFF        (NOTE_OFF + sizeof(struct notes))
#define TEXT_OFF        (BOOT_OFF + 64)
#define DATA_OFF        (TEXT_OFF + 64)
#define FILE_SIZE       (DATA_OFF + 32)

static struct model m;
static unsigned char file[FILE_SIZE];
static struct elf_kernel_info info;

static struct elf64_phdr phdr(uint32_t type, uint32_t flags, uint64_t off,
			      uint64_t paddr, uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	return (struct elf64_phdr){ .p_type = type, .p_flags = flags, .p_offset = off,
		.p_vaddr = vaddr, .p_paddr = paddr, .p_filesz = filesz,
		.p_memsz = memsz, .p_align = type == PT_NOTE ? 4 : 0x1000 };
}

/* The valid model: .boot identity, text and data in the higher half. */
static void model_init(void)
{
	memset(&m, 0, sizeof m);
	memcpy(m.eh.e_ident, ELF_MAGIC, ELF_MAGIC_LEN);
	m.eh.e_ident[EI_CLASS] = ELFCLASS64;
	m.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m.eh.e_ident[EI_VERSION] = EV_CURRENT;
	m.eh.e_type = ET_EXEC;
	m.eh.e_machine = EM_X86_64;
	m.eh.e_version = EV_CURRENT;
	m.eh.e_entry = BOOT_PADDR;      /* the 32-bit multiboot2 entry; ignored */
	m.eh.e_phoff = PH_OFF;
	m.eh.e_ehsize = sizeof(struct elf64_ehdr);
	m.eh.e_phentsize = sizeof(struct elf64_phdr);
	m.eh.e_phnum = PH_COUNT;
	m.ph[PH_BOOT] = phdr(PT_LOAD, PF_R | PF_W | PF_X, BOOT_OFF, BOOT_PADDR, BOOT_PADDR, 64, 128);
	m.ph[PH_TEXT] = phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_PADDR,
			     KERNEL_VMA_BASE + TEXT_PADDR, 64, 64);
	m.ph[PH_NOTE] = phdr(PT_NOTE, PF_R, NOTE_OFF, 0, 0, sizeof(struct notes), 0);
	m.ph[PH_DATA] = phdr(PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_PADDR,
			     KERNEL_VMA_BASE + DATA_PADDR, 32, DATA_MEMSZ);
	m.notes.gnu = (struct elf64_nhdr){ 4, 4, 3 };
	memcpy(m.notes.gnu_name, "GNU", 4);
	m.notes.kst = (struct elf64_nhdr){ sizeof KESTREL_NOTE_NAME, 8, KESTREL_NOTE_ENTRY64 };
	memcpy(m.notes.kst_name, KESTREL_NOTE_NAME, sizeof KESTREL_NOTE_NAME);
	m.notes.kst_desc = ENTRY64;
	memset(m.boot, 0xB0, sizeof m.boot);
	memset(m.text, 0xC3, sizeof m.text);
	memset(m.data, 0xDA, sizeof m.data);
}

static void model_emit(void)
{
	memcpy(file, &m.eh, sizeof m.eh);
	memcpy(file + PH_OFF, m.ph, sizeof m.ph);
	memcpy(file + NOTE_OFF, &m.notes, sizeof m.notes);
	memcpy(file + BOOT_OFF, m.boot, sizeof m.boot);
	memcpy(file + TEXT_OFF, m.text, sizeof m.text);
	memcpy(file + DATA_OFF, m.data, sizeof m.data);
}

/* Emit the (possibly corrupted) model and check it with the loader's limit. */
static enum elf_status check(void)
{
	model_emit();
	return elf_check_kernel(file, FILE_SIZE, LIMIT, &info);
}

#define EXPECT(status) do { enum elf_status got_ = check(); \
	if (got_ != (status)) UFAIL("got %d \"%s\", expected %d \"%s\"", got_, \
				    elf_strerror(got_), status, elf_strerror(status)); \
	} while (0)

static const char *valid_kernel(void)
{
	model_init();
	EXPECT(ELF_OK);
	UASSERT_EQ(info.entry64, ENTRY64);
	UASSERT_EQ(info.phys_start, BOOT_PADDR);
	UASSERT_EQ(info.phys_end, DATA_PADDR + DATA_MEMSZ);
	UASSERT_EQ(info.load_count, 3);
	return NULL;
}

static const char *bad_magic(void)
{
	model_init();
	m.eh.e_ident[1] = 'X';
	EXPECT(ELF_EMAGIC);
	UASSERT_STR(elf_strerror(ELF_EMAGIC), "bad ELF magic");
	return NULL;
}

static const char *elf32_class(void)
{
	model_init();
	m.eh.e_ident[EI_CLASS] = 1;     /* ELFCLASS32 */
	EXPECT(ELF_ECLASS);
	UASSERT_STR(elf_strerror(ELF_ECLASS), "not ELF64");
	return NULL;
}

static const char *big_endian(void)
{
	model_init();
	m.eh.e_ident[EI_DATA] = 2;      /* ELFDATA2MSB */
	EXPECT(ELF_EDATA);
	return NULL;
}

static const char *bad_version(void)
{
	model_init();
	m.eh.e_version = 2;
	EXPECT(ELF_EVERSION);
	model_init();
	m.eh.e_ident[EI_VERSION] = 0;
	EXPECT(ELF_EVERSION);
	return NULL;
}

static const char *wrong_machine(void)
{
	model_init();
	m.eh.e_machine = 3;             /* EM_386 */
	EXPECT(ELF_EMACHINE);
	return NULL;
}

static const char *wrong_type(void)
{
	model_init();
	m.eh.e_type = 3;                /* ET_DYN */
	EXPECT(ELF_ETYPE);
	return NULL;
}

static const char *bad_phdr_table(void)
{
	model_init();
	m.eh.e_phentsize = 32;
	EXPECT(ELF_EPHENTSIZE);
	model_init();
	m.eh.e_phnum = 0;
	EXPECT(ELF_ENOPHDR);
	model_init();
	m.eh.e_phnum = 0xFFFF;          /* PN_XNUM */
	EXPECT(ELF_EPHNUM);
	return NULL;
}

static const char *phdr_out_of_bounds(void)
{
	model_init();
	m.eh.e_phoff = FILE_SIZE - sizeof(struct elf64_phdr);
	EXPECT(ELF_EPHBOUNDS);
	model_init();
	m.eh.e_phoff = UINT64_MAX - 8;  /* offset + size wraps */
	EXPECT(ELF_EPHBOUNDS);
	return NULL;
}

static const char *segment_out_of_bounds(void)
{
	model_init();
	m.ph[PH_TEXT].p_offset = FILE_SIZE - 8;
	EXPECT(ELF_ESEGBOUNDS);
	model_init();
	m.ph[PH_TEXT].p_offset = UINT64_MAX - 8;
	EXPECT(ELF_ESEGBOUNDS);
	model_init();
	m.ph[PH_NOTE].p_filesz = FILE_SIZE;
	EXPECT(ELF_ESEGBOUNDS);
	return NULL;
}

static const char *filesz_above_memsz(void)
{
	model_init();
	m.ph[PH_BOOT].p_memsz = 32;
	EXPECT(ELF_EFILESZ);
	return NULL;
}

static const char *overlapping_segments(void)
{
	model_init();
	m.ph[PH_DATA].p_paddr = TEXT_PADDR + 0x20;
	m.ph[PH_DATA].p_vaddr = KERNEL_VMA_BASE + TEXT_PADDR + 0x20;
	EXPECT(ELF_EOVERLAP);
	/* Touching but not overlapping is fine. */
	model_init();
	m.ph[PH_DATA].p_paddr = TEXT_PADDR + 64;
	m.ph[PH_DATA].p_vaddr = KERNEL_VMA_BASE + TEXT_PADDR + 64;
	EXPECT(ELF_OK);
	return NULL;
}

static const char *paddr_below_1mib(void)
{
	model_init();
	m.ph[PH_BOOT].p_paddr = m.ph[PH_BOOT].p_vaddr = 0x8000;
	EXPECT(ELF_ELOWADDR);
	return NULL;
}

static const char *too_large(void)
{
	model_init();
	m.ph[PH_DATA].p_memsz = 64 * MIB;
	EXPECT(ELF_ETOOBIG);
	/* The loader prints how much was needed from these. */
	UASSERT_EQ(info.phys_start, BOOT_PADDR);
	UASSERT_EQ(info.phys_end, DATA_PADDR + 64 * MIB);
	/* Ending exactly at the limit is allowed. */
	model_init();
	m.ph[PH_DATA].p_memsz = LIMIT - DATA_PADDR;
	EXPECT(ELF_OK);
	return NULL;
}

static const char *address_wraps(void)
{
	model_init();
	m.ph[PH_DATA].p_memsz = UINT64_MAX - 0x1000;
	EXPECT(ELF_EADDR);
	return NULL;
}

static const char *vaddr_not_mapped_by_loader(void)
{
	model_init();
	m.ph[PH_TEXT].p_vaddr = 0xFFFF800000000000ull + TEXT_PADDR;
	EXPECT(ELF_EVADDR);
	return NULL;
}

static const char *no_loadable_segments(void)
{
	model_init();
	m.ph[PH_BOOT].p_type = m.ph[PH_TEXT].p_type = m.ph[PH_DATA].p_type = 0;
	EXPECT(ELF_ENOLOAD);
	return NULL;
}

static const char *missing_note(void)
{
	model_init();
	m.notes.kst_name[6] = 'x';      /* "Kestrex" */
	EXPECT(ELF_ENONOTE);
	model_init();
	m.notes.kst.n_type = 2;
	EXPECT(ELF_ENONOTE);
	model_init();
	m.ph[PH_NOTE].p_type = 0;       /* PT_NULL: no note segment at all */
	EXPECT(ELF_ENONOTE);
	return NULL;
}

static const char *malformed_note(void)
{
	model_init();
	m.notes.kst.n_descsz = 4;       /* our note must carry 8 bytes */
	EXPECT(ELF_EBADNOTE);
	model_init();
	m.notes.gnu.n_namesz = 0x7FFFFFFF;
	EXPECT(ELF_EBADNOTE);
	model_init();
	m.notes.kst.n_descsz = 0xFFFFFFF0;
	EXPECT(ELF_EBADNOTE);
	return NULL;
}

static const char *entry_outside_text(void)
{
	model_init();
	m.notes.kst_desc = KERNEL_VMA_BASE + 0x200000;
	EXPECT(ELF_EENTRY);
	model_init();
	m.notes.kst_desc = KERNEL_VMA_BASE + DATA_PADDR;        /* not PF_X */
	EXPECT(ELF_EENTRY);
	return NULL;
}

/* Every proper prefix of the valid file is refused, with exact-size buffers. */
static const char *truncated_everywhere(void)
{
	model_init();
	model_emit();
	for (size_t len = 0; len < FILE_SIZE; len++) {
		unsigned char *copy = malloc(len ? len : 1);
		if (!copy)
			UFAIL("out of memory");
		memcpy(copy, file, len);
		enum elf_status s = elf_check_kernel(copy, len, LIMIT, &info);
		free(copy);
		if (s == ELF_OK)
			UFAIL("accepted a file truncated to %zu of %zu bytes", len, (size_t)FILE_SIZE);
	}
	return NULL;
}

/* Reads go through memcpy: an odd buffer address must work (UBSan alignment). */
static const char *unaligned_buffer(void)
{
	model_init();
	model_emit();
	unsigned char *copy = malloc(FILE_SIZE + 1);
	if (!copy)
		UFAIL("out of memory");
	memcpy(copy + 1, file, FILE_SIZE);
	enum elf_status s = elf_check_kernel(copy + 1, FILE_SIZE, LIMIT, &info);
	free(copy);
	UASSERT_EQ(s, ELF_OK);
	UASSERT_EQ(info.entry64, ENTRY64);
	return NULL;
}

static const char *every_status_has_words(void)
{
	for (int s = 0; s < ELF_NSTATUS; s++) {
		const char *w = elf_strerror((enum elf_status)s);
		UASSERT(w != NULL && w[0] != '\0');
		for (int t = 0; t < s; t++)
			if (strcmp(w, elf_strerror((enum elf_status)t)) == 0)
				UFAIL("statuses %d and %d share \"%s\"", t, s, w);
	}
	UASSERT_STR(elf_strerror(ELF_NSTATUS), "unknown ELF error");
	return NULL;
}

UNIT_MAIN("elf",
	UTEST(valid_kernel),
	UTEST(bad_magic),
	UTEST(elf32_class),
	UTEST(big_endian),
	UTEST(bad_version),
	UTEST(wrong_machine),
	UTEST(wrong_type),
	UTEST(bad_phdr_table),
	UTEST(phdr_out_of_bounds),
	UTEST(segment_out_of_bounds),
	UTEST(filesz_above_memsz),
	UTEST(overlapping_segments),
	UTEST(paddr_below_1mib),
	UTEST(too_large),
	UTEST(address_wraps),
	UTEST(vaddr_not_mapped_by_loader),
	UTEST(no_loadable_segments),
	UTEST(missing_note),
	UTEST(malformed_note),
	UTEST(entry_outside_text),
	UTEST(truncated_everywhere),
	UTEST(unaligned_buffer),
	UTEST(every_status_has_words))
