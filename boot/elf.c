/*
 * ELF64 checks shared by our loader (-m32), the kernel and host tests
 * (System V gABI: ELF header, program headers, note segments). Every read
 * is bounds-checked first and done with memcpy, so truncated or hostile
 * files and unaligned buffers are safe.
 */
#include <boot/boot_info.h>
#include <boot/elf.h>
#include <kernel/string.h>

static const char *const elf_reasons[ELF_NSTATUS] = {
	[ELF_OK]          = "ok",
	[ELF_ETRUNC]      = "file too small for an ELF header",
	[ELF_EMAGIC]      = "bad ELF magic",
	[ELF_ECLASS]      = "not ELF64",
	[ELF_EDATA]       = "not little endian",
	[ELF_EVERSION]    = "bad ELF version",
	[ELF_EMACHINE]    = "not x86-64",
	[ELF_ETYPE]       = "wrong ELF type (not ET_EXEC)",
	[ELF_EPHENTSIZE]  = "bad program header entry size",
	[ELF_ENOPHDR]     = "no program headers",
	[ELF_EPHNUM]      = "too many program headers",
	[ELF_EPHBOUNDS]   = "program headers out of file bounds",
	[ELF_ESEGBOUNDS]  = "segment out of file bounds",
	[ELF_EFILESZ]     = "segment filesz > memsz",
	[ELF_EADDR]       = "segment address range wraps around",
	[ELF_ELOWADDR]    = "segment below the load area (kernel: paddr below 1 MiB)",
	[ELF_EVADDR]      = "segment vaddr is neither paddr nor KERNEL_VMA_BASE + paddr",
	[ELF_ENOLOAD]     = "no loadable segments",
	[ELF_EOVERLAP]    = "overlapping segments",
	[ELF_ETOOBIG]     = "segments end above the load limit",
	[ELF_EBADNOTE]    = "malformed note",
	[ELF_ENONOTE]     = "no Kestrel entry note",
	[ELF_EENTRY]      = "entry point not in an executable loadable segment",
};

const char *elf_strerror(enum elf_status status)
{
	if ((unsigned)status >= ELF_NSTATUS)
		return "unknown ELF error";
	return elf_reasons[status];
}

/* Is [off, off + len) inside [0, size)? Written so nothing can overflow. */
static bool elf_range_ok(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static const unsigned char *elf_at(const void *file, uint64_t off)
{
	/* Callers checked off against the size of an in-memory file. */
	return (const unsigned char *)file + (uintptr_t)off;
}

enum elf_status elf_check_header(const void *file, uint64_t size, uint16_t type)
{
	struct elf64_ehdr eh;

	if (size < sizeof eh)
		return ELF_ETRUNC;
	memcpy(&eh, file, sizeof eh);
	if (memcmp(eh.e_ident + EI_MAG0, ELF_MAGIC, ELF_MAGIC_LEN) != 0)
		return ELF_EMAGIC;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return ELF_ECLASS;
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return ELF_EDATA;
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return ELF_EVERSION;
	if (eh.e_machine != EM_X86_64)
		return ELF_EMACHINE;
	if (eh.e_type != type)
		return ELF_ETYPE;
	if (eh.e_phentsize != sizeof(struct elf64_phdr))
		return ELF_EPHENTSIZE;
	if (eh.e_phnum == 0)
		return ELF_ENOPHDR;
	/* Also rejects PN_XNUM (0xFFFF, count in section 0): we never need it. */
	if (eh.e_phnum > ELF_MAX_PHNUM)
		return ELF_EPHNUM;
	if (!elf_range_ok(size, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(struct elf64_phdr)))
		return ELF_EPHBOUNDS;
	return ELF_OK;
}

uint16_t elf_phnum(const void *file)
{
	struct elf64_ehdr eh;

	memcpy(&eh, file, sizeof eh);
	return eh.e_phnum;
}

void elf_get_phdr(const void *file, uint16_t index, struct elf64_phdr *out)
{
	struct elf64_ehdr eh;

	memcpy(&eh, file, sizeof eh);
	memcpy(out, elf_at(file, eh.e_phoff + (uint64_t)index * sizeof *out), sizeof *out);
}

/* The checks that concern one PT_LOAD segment on its own. */
static enum elf_status elf_check_load(uint64_t size, const struct elf64_phdr *ph,
				      bool by_paddr, uint64_t min)
{
	uint64_t end;

	if (!elf_range_ok(size, ph->p_offset, ph->p_filesz))
		return ELF_ESEGBOUNDS;
	if (ph->p_filesz > ph->p_memsz)
		return ELF_EFILESZ;
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end) ||
	    __builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end))
		return ELF_EADDR;
	if ((by_paddr ? ph->p_paddr : ph->p_vaddr) < min)
		return ELF_ELOWADDR;
	return ELF_OK;
}

/* Do two non-empty PT_LOAD segments share an address? */
static bool elf_loads_overlap(const void *file, bool by_paddr)
{
	uint16_t n = elf_phnum(file);
	struct elf64_phdr a, b;

	for (uint16_t i = 0; i < n; i++) {
		elf_get_phdr(file, i, &a);
		if (a.p_type != PT_LOAD || a.p_memsz == 0)
			continue;
		uint64_t a_lo = by_paddr ? a.p_paddr : a.p_vaddr;
		for (uint16_t j = i + 1; j < n; j++) {
			elf_get_phdr(file, j, &b);
			if (b.p_type != PT_LOAD || b.p_memsz == 0)
				continue;
			uint64_t b_lo = by_paddr ? b.p_paddr : b.p_vaddr;
			if (a_lo < b_lo + b.p_memsz && b_lo < a_lo + a.p_memsz)
				return true;
		}
	}
	return false;
}

enum elf_status elf_check_loads(const void *file, uint64_t size, bool by_paddr,
				uint64_t min, uint64_t max, uint64_t *lo, uint64_t *hi)
{
	uint16_t n = elf_phnum(file);
	uint64_t span_lo = UINT64_MAX, span_hi = 0;
	bool any = false;
	struct elf64_phdr ph;

	for (uint16_t i = 0; i < n; i++) {
		elf_get_phdr(file, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		enum elf_status s = elf_check_load(size, &ph, by_paddr, min);
		if (s != ELF_OK)
			return s;
		uint64_t addr = by_paddr ? ph.p_paddr : ph.p_vaddr;
		if (addr < span_lo)
			span_lo = addr;
		if (addr + ph.p_memsz > span_hi)
			span_hi = addr + ph.p_memsz;
		any = true;
	}
	if (!any)
		return ELF_ENOLOAD;
	*lo = span_lo;
	*hi = span_hi;
	if (span_hi > max)
		return ELF_ETOOBIG;
	if (elf_loads_overlap(file, by_paddr))
		return ELF_EOVERLAP;
	return ELF_OK;
}

static uint64_t elf_align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/*
 * Walk the notes in p[0, len). Name and descriptor are padded to `align`;
 * the padding after the very last descriptor may be missing.
 */
static enum elf_status elf_scan_notes(const unsigned char *p, uint64_t len, uint64_t align,
				      const char *name, uint32_t type,
				      void *desc, uint32_t desc_len)
{
	uint64_t name_len = strlen(name) + 1;
	uint64_t off = 0;
	struct elf64_nhdr nh;

	while (len - off >= sizeof nh) {
		memcpy(&nh, p + off, sizeof nh);
		off += sizeof nh;
		uint64_t name_off = off;
		uint64_t name_room = elf_align_up(nh.n_namesz, align);
		if (name_room > len - off)
			return ELF_EBADNOTE;
		off += name_room;
		if (nh.n_descsz > len - off)
			return ELF_EBADNOTE;
		uint64_t desc_off = off;
		uint64_t desc_room = elf_align_up(nh.n_descsz, align);
		off += desc_room <= len - off ? desc_room : len - off;
		if (nh.n_type != type || nh.n_namesz != name_len ||
		    memcmp(p + name_off, name, name_len) != 0)
			continue;
		if (nh.n_descsz != desc_len)
			return ELF_EBADNOTE;
		memcpy(desc, p + desc_off, desc_len);
		return ELF_OK;
	}
	return ELF_ENONOTE;
}

/*
 * Find the note (name, type) in the PT_NOTE segments and copy its
 * descriptor, which must be exactly desc_len bytes, to desc.
 */
static enum elf_status elf_find_note(const void *file, uint64_t size, const char *name,
			      uint32_t type, void *desc, uint32_t desc_len)
{
	uint16_t n = elf_phnum(file);
	struct elf64_phdr ph;

	for (uint16_t i = 0; i < n; i++) {
		elf_get_phdr(file, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if (!elf_range_ok(size, ph.p_offset, ph.p_filesz))
			return ELF_ESEGBOUNDS;
		/* gABI: 4-byte alignment; 8 only where the segment says so. */
		uint64_t align = ph.p_align == 8 ? 8 : 4;
		enum elf_status s = elf_scan_notes(elf_at(file, ph.p_offset), ph.p_filesz,
						   align, name, type, desc, desc_len);
		if (s != ELF_ENONOTE)
			return s;
	}
	return ELF_ENONOTE;
}

/* The loader maps a segment either identity or at KERNEL_VMA_BASE + paddr. */
static enum elf_status elf_check_kernel_vaddrs(const void *file, struct elf_kernel_info *out)
{
	uint16_t n = elf_phnum(file);
	struct elf64_phdr ph;

	for (uint16_t i = 0; i < n; i++) {
		elf_get_phdr(file, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_vaddr != ph.p_paddr && ph.p_vaddr != KERNEL_VMA_BASE + ph.p_paddr)
			return ELF_EVADDR;
		out->load_count++;
	}
	return ELF_OK;
}

static bool elf_entry_in_text(const void *file, uint64_t entry)
{
	uint16_t n = elf_phnum(file);
	struct elf64_phdr ph;

	for (uint16_t i = 0; i < n; i++) {
		elf_get_phdr(file, i, &ph);
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    entry >= ph.p_vaddr && entry - ph.p_vaddr < ph.p_memsz)
			return true;
	}
	return false;
}

enum elf_status elf_check_kernel(const void *file, uint64_t size, uint64_t phys_limit,
				 struct elf_kernel_info *out)
{
	enum elf_status s;

	memset(out, 0, sizeof *out);
	s = elf_check_header(file, size, ET_EXEC);
	if (s == ELF_OK)
		s = elf_check_loads(file, size, true, KERNEL_PHYS_BASE, phys_limit,
				    &out->phys_start, &out->phys_end);
	if (s == ELF_OK)
		s = elf_check_kernel_vaddrs(file, out);
	if (s == ELF_OK)
		s = elf_find_note(file, size, KESTREL_NOTE_NAME, KESTREL_NOTE_ENTRY64,
				  &out->entry64, sizeof out->entry64);
	if (s == ELF_OK && !elf_entry_in_text(file, out->entry64))
		s = ELF_EENTRY;
	return s;
}
