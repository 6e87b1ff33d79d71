/*
 * Host tests for arch/x86_64/acpi.c: RSDP search and MADT parsing on tables
 * dumped from QEMU/SeaBIOS (tests/unit/data/, see tools/dump_tables.sh)
 * served at their real physical addresses, corrupted copies of them, and
 * hand-built RSDP/XSDT/MADT blobs for what SeaBIOS never produces.
 */
#include "unit.h"
#include "../../arch/x86_64/acpi.c"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- fake physical memory */

#include "fakemem.h"

/* ---------------------------------------------------------------- table building */

#define TABLE_MAX       4096

struct table {
	uint8_t b[TABLE_MAX];
	size_t n;
};

static void put(struct table *t, const void *p, size_t n)
{
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void put8(struct table *t, uint8_t v) { put(t, &v, 1); }
static void put16(struct table *t, uint16_t v) { put(t, &v, 2); }
static void put32(struct table *t, uint32_t v) { put(t, &v, 4); }
static void put64(struct table *t, uint64_t v) { put(t, &v, 8); }

/* Sets byte `at` so that the len bytes at p sum to 0. */
static void fix_checksum(uint8_t *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)-platform_checksum(p, len);
}

#define SDT_LENGTH      4
#define SDT_CHECKSUM    9
#define RSDP_CHECKSUM   8
#define RSDP_EXT_CHECKSUM 32

static void sdt_begin(struct table *t, const char *sig, uint8_t revision)
{
	t->n = 0;
	put(t, sig, 4);
	put32(t, 0);                    /* length, set by sdt_end */
	put8(t, revision);
	put8(t, 0);
	put(t, "KESTRL", 6);
	put(t, "UNITTEST", 8);
	put32(t, 1);
	put(t, "KTST", 4);
	put32(t, 1);
}

static void sdt_end(struct table *t)
{
	uint32_t len = (uint32_t)t->n;

	memcpy(t->b + SDT_LENGTH, &len, 4);
	fix_checksum(t->b, t->n, SDT_CHECKSUM);
}

/* Re-checksums a loaded table after a test edited it. */
static void sdt_fix(struct region *r)
{
	fix_checksum(r->data, r->len, SDT_CHECKSUM);
}

static void madt_begin(struct table *t, uint8_t revision, uint32_t lapic, uint32_t flags)
{
	sdt_begin(t, "APIC", revision);
	put32(t, lapic);
	put32(t, flags);
}

static void e_lapic(struct table *t, uint8_t uid, uint8_t id, uint32_t flags)
{
	put8(t, MADT_LAPIC); put8(t, 8); put8(t, uid); put8(t, id); put32(t, flags);
}

static void e_ioapic(struct table *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	put8(t, MADT_IOAPIC); put8(t, 12); put8(t, id); put8(t, 0); put32(t, addr);
	put32(t, gsi_base);
}

static void e_iso(struct table *t, uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	put8(t, MADT_ISO); put8(t, 10); put8(t, bus); put8(t, irq); put32(t, gsi); put16(t, flags);
}

static void e_nmi(struct table *t, uint8_t uid, uint16_t flags, uint8_t lint)
{
	put8(t, MADT_LAPIC_NMI); put8(t, 6); put8(t, uid); put16(t, flags); put8(t, lint);
}

static void e_x2apic(struct table *t, uint32_t id, uint32_t flags, uint32_t uid)
{
	put8(t, MADT_X2APIC); put8(t, 16); put16(t, 0); put32(t, id); put32(t, flags);
	put32(t, uid);
}

static void e_x2nmi(struct table *t, uint16_t flags, uint32_t uid, uint8_t lint)
{
	put8(t, MADT_X2APIC_NMI); put8(t, 12); put16(t, flags); put32(t, uid); put8(t, lint);
	put8(t, 0); put16(t, 0);
}

static void e_lapic_addr(struct table *t, uint64_t addr)
{
	put8(t, MADT_LAPIC_ADDR); put8(t, 12); put16(t, 0); put64(t, addr);
}

/* An entry of any type and length (filler bytes 0xEE). */
static void e_raw(struct table *t, uint8_t type, uint8_t len)
{
	put8(t, type); put8(t, len);
	for (int i = 2; i < len; i++)
		put8(t, 0xEE);
}

/* An RSDP; revision 2 adds the XSDT, length 36 and the extended checksum. */
static void make_rsdp(struct table *t, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	t->n = 0;
	put(t, RSDP_SIG, RSDP_SIG_LEN);
	put8(t, 0);
	put(t, "KESTRL", 6);
	put8(t, revision);
	put32(t, rsdt);
	if (revision >= RSDP_REV_XSDT) {
		put32(t, 36);
		put64(t, xsdt);
		put8(t, 0);
		put8(t, 0); put16(t, 0);
	}
	fix_checksum(t->b, RSDP_V1_LEN, RSDP_CHECKSUM);
	if (revision >= RSDP_REV_XSDT)
		fix_checksum(t->b, t->n, RSDP_EXT_CHECKSUM);
}

/* A root table (RSDT: width 4, XSDT: width 8) listing the given tables. */
static void make_root(struct table *t, const char *sig, size_t width, const uint64_t *pa, int n)
{
	sdt_begin(t, sig, 1);
	for (int i = 0; i < n; i++)
		put(t, &pa[i], width);
	sdt_end(t);
}

/* Synthetic machine: RSDP v0 -> RSDT -> the given MADT. */
#define SYN_RSDP        0xF0000ull
#define SYN_RSDT        0x7F00000ull
#define SYN_XSDT        0x7F00800ull
#define SYN_MADT        0x7F01000ull
#define SYN_MADT2       0x7F02000ull

static const char *syn_install(const struct table *madt)
{
	struct table rsdp, rsdt;
	uint64_t list[] = { SYN_MADT };

	fm_reset();
	make_rsdp(&rsdp, 0, SYN_RSDT, 0);
	make_root(&rsdt, "RSDT", 4, list, 1);
	if (!fm_add(SYN_RSDP, rsdp.b, rsdp.n, "RSDP") || !fm_add(SYN_RSDT, rsdt.b, rsdt.n, "RSDT") ||
	    !fm_add(SYN_MADT, madt->b, madt->n, "APIC"))
		UFAIL("cannot install synthetic tables");
	return NULL;
}

#define INSTALL(madt) do { const char *why_ = syn_install(madt); if (why_) return why_; } while (0)

static struct platform_info info;

static int parse(uint64_t rsdp)
{
	return acpi_parse_madt(fm_read, NULL, rsdp, &info, fm_log);
}

/* ---------------------------------------------------------------- checks */

/* The MADT QEMU 7.2 builds for -smp 4 (pc and q35 alike). */
static const char *check_qemu_smp4(const char *source)
{
	static const struct platform_override want[] = {
		{ 0, 2, 0 },
		{ 5, 5, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL },
		{ 9, 9, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL },
		{ 10, 10, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL },
		{ 11, 11, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL },
	};

	UASSERT_STR(info.source, source);
	UASSERT_EQ(info.lapic_addr, 0xFEE00000);
	UASSERT(info.pic_present);
	UASSERT(!info.imcr_present && !info.gsi_base_assumed);
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.skipped_cpus, 0);
	for (uint32_t i = 0; i < 4; i++) {
		UASSERT_EQ(info.cpus[i].apic_id, i);
		UASSERT_EQ(info.cpus[i].acpi_uid, i);
		UASSERT(info.cpus[i].enabled && !info.cpus[i].x2apic);
	}
	UASSERT_EQ(info.nioapic, 1);
	UASSERT_EQ(info.ioapics[0].id, 0);
	UASSERT_EQ(info.ioapics[0].addr, 0xFEC00000);
	UASSERT_EQ(info.ioapics[0].gsi_base, 0);
	UASSERT_EQ(info.noverride, 5);
	for (int i = 0; i < 5; i++) {
		UASSERT_EQ(info.overrides[i].bus_irq, want[i].bus_irq);
		UASSERT_EQ(info.overrides[i].gsi, want[i].gsi);
		UASSERT_EQ(info.overrides[i].flags, want[i].flags);
	}
	UASSERT_EQ(info.nnmi, 1);
	UASSERT_EQ(info.nmis[0].acpi_uid, PLATFORM_UID_ALL);
	UASSERT_EQ(info.nmis[0].lint, 1);
	UASSERT_EQ(info.nmis[0].flags, 0);
	return NULL;
}

/* ---------------------------------------------------------------- RSDP search */

static const char *find_rsdp_qemu(void)
{
	static const char *const configs[] = { "pc-smp4", "q35-smp4", "pc-smp2-max8" };

	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
		uint64_t pa = 0;

		LOAD(configs[i]);
		TAG(rsdp, "RSDP");
		UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), 0);
		UASSERT_EQ(pa, rsdp->pa);
		UASSERT_EQ(fm.nlog, 0);
	}
	return NULL;
}

static const char *find_rsdp_none(void)
{
	uint64_t pa = 0x1234;

	LOAD("pc-smp8-noacpi");
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT_EQ(pa, 0x1234);
	UASSERT(logged("acpi: no RSDP in the EBDA or 0xE0000-0xFFFFF\n"));
	return NULL;
}

/* The EBDA is searched first (5.2.5.1), at 16-byte boundaries only. */
static const char *find_rsdp_ebda(void)
{
	uint64_t pa = 0;

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(ebda, "EBDA");
	memcpy(ebda->data + 0x108, rsdp->data, rsdp->len);     /* misaligned: not found */
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, rsdp->pa);
	memcpy(ebda->data + 0x3E0, rsdp->data, rsdp->len);
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, ebda->pa + 0x3E0);
	UASSERT_EQ(fm.nlog, 0);
	return NULL;
}

static const char *find_rsdp_bad_checksum(void)
{
	uint64_t pa = 0;
	char want[96];

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	rsdp->data[RSDP_CHECKSUM] ^= 1;
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), -ENOENT);
	snprintf(want, sizeof want, "acpi: RSDP candidate at %#llx: bad checksum\n",
		 (unsigned long long)rsdp->pa);
	UASSERT(logged(want));
	/* A bad candidate in the EBDA does not hide a good one in the ROM area. */
	rsdp->data[RSDP_CHECKSUM] ^= 1;
	TAG(ebda, "EBDA");
	memcpy(ebda->data + 0x40, rsdp->data, rsdp->len);
	ebda->data[0x40 + 12] ^= 0x20;                          /* OEM id byte */
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, rsdp->pa);
	snprintf(want, sizeof want, "RSDP candidate at %#llx: bad checksum",
		 (unsigned long long)ebda->pa + 0x40);
	UASSERT(logged(want));
	return NULL;
}

/* Revision 2 candidates also need length >= 36 and the extended checksum. */
static const char *find_rsdp_v2(void)
{
	struct table rsdp;
	uint64_t pa = 0;
	struct region *r;

	fm_reset();
	make_rsdp(&rsdp, 2, SYN_RSDT, SYN_XSDT);
	r = fm_add(0xFFF00, rsdp.b, rsdp.n, "RSDP");
	UASSERT(r);
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, 0xFFF00);
	r->data[RSDP_EXT_CHECKSUM] ^= 1;
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT(logged("RSDP candidate at 0xfff00: bad extended checksum\n"));
	r->data[20] = 35;                                       /* length */
	fix_checksum(r->data, 36, RSDP_EXT_CHECKSUM);
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT(logged("RSDP candidate at 0xfff00: length shorter than 36 bytes\n"));
	r->data[20] = 40;                                       /* beyond the blob */
	fix_checksum(r->data, 36, RSDP_EXT_CHECKSUM);
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT(logged("RSDP candidate at 0xfff00: length runs past readable memory\n"));
	return NULL;
}

/* ---------------------------------------------------------------- QEMU tables */

static const char *madt_qemu_pc(void)
{
	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	UASSERT_EQ(parse(rsdp->pa), 0);
	UASSERT_EQ(fm.nlog, 0);
	return check_qemu_smp4("ACPI MADT (RSDT)");
}

static const char *madt_qemu_q35(void)
{
	LOAD("q35-smp4");
	TAG(rsdp, "RSDP");
	UASSERT_EQ(parse(rsdp->pa), 0);
	UASSERT_EQ(fm.nlog, 0);
	return check_qemu_smp4("ACPI MADT (RSDT)");
}

/* -smp 2,maxcpus=8: six hot-plug slots listed with neither flag set. */
static const char *madt_qemu_disabled_cpus(void)
{
	LOAD("pc-smp2-max8");
	TAG(rsdp, "RSDP");
	UASSERT_EQ(parse(rsdp->pa), 0);
	UASSERT_EQ(info.ncpu, 2);
	UASSERT_EQ(info.skipped_cpus, 6);
	UASSERT_EQ(info.cpus[0].apic_id, 0);
	UASSERT_EQ(info.cpus[1].apic_id, 1);
	UASSERT_EQ(info.nioapic, 1);
	UASSERT_EQ(fm.nlog, 0);
	return NULL;
}

/* A multiboot2 loader hands over a copy of the RSDP, not its address. */
static const char *madt_from_rsdp_copy(void)
{
	uint8_t copy[20];

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	memcpy(copy, rsdp->data, sizeof copy);
	UASSERT_EQ(acpi_parse_madt_rsdp(fm_read, NULL, copy, sizeof copy, &info, fm_log), 0);
	CHECK(check_qemu_smp4("ACPI MADT (RSDT)"));
	UASSERT_EQ(acpi_parse_madt_rsdp(fm_read, NULL, copy, 19, &info, fm_log), -EINVAL);
	UASSERT(logged("acpi: RSDP: shorter than 20 bytes\n"));
	return NULL;
}

static const char *find_table_qemu(void)
{
	uint64_t pa = 0;

	LOAD("q35-smp4");
	TAG(rsdp, "RSDP");
	static const char *const tags[] = { "FACP", "APIC", "HPET", "MCFG", "WAET" };
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		TAG(t, tags[i]);
		UASSERT_EQ(acpi_find_table(fm_read, NULL, rsdp->pa, tags[i], &pa, fm_log), 0);
		UASSERT_EQ(pa, t->pa);
	}
	UASSERT_EQ(fm.nlog, 0);
	UASSERT_EQ(acpi_find_table(fm_read, NULL, rsdp->pa, "SRAT", &pa, fm_log), -ENOENT);
	UASSERT(logged("acpi: no valid SRAT table\n"));
	UASSERT_EQ(acpi_find_table(fm_read, NULL, 0x1000, "APIC", &pa, fm_log), -EINVAL);
	UASSERT(logged("acpi: RSDP at 0x1000: not readable\n"));
	return NULL;
}

/* ---------------------------------------------------------------- corruptions */

static const char *rsdp_bad_checksum(void)
{
	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	rsdp->data[RSDP_CHECKSUM]++;
	UASSERT_EQ(parse(rsdp->pa), -EINVAL);
	UASSERT(logged("acpi: RSDP: bad checksum\n"));
	UASSERT_EQ(info.ncpu, 0);
	rsdp->data[RSDP_CHECKSUM]--;
	rsdp->data[0] = 'r';
	fix_checksum(rsdp->data, RSDP_V1_LEN, RSDP_CHECKSUM);
	UASSERT_EQ(parse(rsdp->pa), -EINVAL);
	UASSERT(logged("acpi: RSDP: bad signature\n"));
	return NULL;
}

/* The log holds exactly this one line. */
static const char *only_line(const char *line)
{
	if (fm.nlog != 1 || strcmp(fm.log, line) != 0)
		UFAIL("expected exactly one line \"%.150s\", got %d: \"%.250s\"", line, fm.nlog,
		      fm.log);
	return NULL;
}

/* A bad checksum is one warning naming the table, its OEM id and the field; then used. */
static const char *rsdt_bad_checksum(void)
{
	char want[160];

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(rsdt, "RSDT");
	uint8_t field = rsdt->data[SDT_CHECKSUM];
	rsdt->data[SDT_CHECKSUM] = (uint8_t)(field + 0x10);
	UASSERT_EQ(parse(rsdp->pa), 0);
	snprintf(want, sizeof want, "acpi: RSDT (OEM 'BOCHS') at %#llx: bad checksum (field "
		 "0x%02x, bytes sum to 0x10), used anyway\n", (unsigned long long)rsdt->pa,
		 (uint8_t)(field + 0x10));
	CHECK(only_line(want));
	return check_qemu_smp4("ACPI MADT (RSDT)");
}

static const char *madt_bad_checksum(void)
{
	char want[160];

	LOAD("q35-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	uint8_t field = madt->data[SDT_CHECKSUM];
	madt->data[44 + 3] = 7;                                 /* first CPU's APIC id */
	UASSERT_EQ(parse(rsdp->pa), 0);
	snprintf(want, sizeof want, "acpi: APIC (OEM 'BOCHS') at %#llx: bad checksum (field "
		 "0x%02x, bytes sum to 0x07), used anyway\n", (unsigned long long)madt->pa, field);
	CHECK(only_line(want));
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.cpus[0].apic_id, 7);
	/* The other tables are found through the same root, silently (no second line). */
	uint64_t pa;
	UASSERT_EQ(acpi_find_table(fm_read, NULL, rsdp->pa, "APIC", &pa, NULL), 0);
	UASSERT_EQ(pa, madt->pa);
	UASSERT_EQ(fm.nlog, 1);
	return NULL;
}

/* A table with a bad checksum, a table with a bad length: the good copy after them is used. */
static const char *madt_bad_then_good(void)
{
	struct table rsdt;
	char want[160];

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	TAG(old, "RSDT");
	uint64_t list[] = { madt->pa, SYN_MADT2 };
	UASSERT(fm_add(SYN_MADT2, madt->data, madt->len, "APIC2"));
	uint32_t len = 20;
	memcpy(madt->data + SDT_LENGTH, &len, 4);
	make_root(&rsdt, "RSDT", 4, list, 2);
	free(old->data);                                        /* grow the RSDT in place */
	old->data = malloc(rsdt.n);
	old->len = rsdt.n;
	memcpy(old->data, rsdt.b, rsdt.n);
	UASSERT_EQ(parse(rsdp->pa), 0);
	snprintf(want, sizeof want, "acpi: APIC at %#llx: length 20 shorter than its header\n",
		 (unsigned long long)madt->pa);
	CHECK(only_line(want));
	return check_qemu_smp4("ACPI MADT (RSDT)");
}

/* The MADT claims more bytes than readable memory holds. */
static const char *madt_truncated(void)
{
	char want[96];
	uint32_t len = 0x1000;

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	memcpy(madt->data + SDT_LENGTH, &len, 4);
	UASSERT_EQ(parse(rsdp->pa), -ENOENT);
	snprintf(want, sizeof want, "acpi: APIC at %#llx: length runs past readable memory\n",
		 (unsigned long long)madt->pa);
	UASSERT(logged(want));
	len = 20;
	memcpy(madt->data + SDT_LENGTH, &len, 4);
	UASSERT_EQ(parse(rsdp->pa), -ENOENT);
	UASSERT(logged("length 20 shorter than its header"));
	/* A valid table header, but no room for the MADT fields (memory goes on). */
	len = 40;
	memcpy(madt->data + SDT_LENGTH, &len, 4);
	fix_checksum(madt->data, len, SDT_CHECKSUM);
	UASSERT_EQ(parse(rsdp->pa), -EINVAL);
	snprintf(want, sizeof want, "acpi: MADT at %#llx: shorter than 44 bytes\n",
		 (unsigned long long)madt->pa);
	UASSERT(logged(want));
	return NULL;
}

/*
 * Every length from the header up, memory ending with the table: never a
 * crash; entries wholly inside are kept, a cut through one is an error.
 */
static const char *madt_every_truncation(void)
{
	/* Where the QEMU -smp 4 MADT's entries end: 4 CPUs, I/O APIC, 5 overrides, NMI. */
	static const uint32_t ends[] = { 52, 60, 68, 76, 88, 98, 108, 118, 128, 138, 144 };

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	UASSERT_EQ(madt->len, 144);
	for (uint32_t len = 36; len <= 144; len++) {
		uint32_t whole = 0;
		int rc, before = fm.nlog;
		bool cut;

		memcpy(madt->data + SDT_LENGTH, &len, 4);
		madt->len = len;
		sdt_fix(madt);
		rc = parse(rsdp->pa);
		if (len < sizeof(struct acpi_madt)) {
			UASSERT_EQ(rc, -EINVAL);
			UASSERT(logged("shorter than 44 bytes"));
			continue;
		}
		while (whole < sizeof ends / sizeof ends[0] && ends[whole] <= len)
			whole++;
		/* The entries before a cut are kept; with no CPU among them, nothing is usable. */
		UASSERT_EQ(rc, whole > 0 ? 0 : -EINVAL);
		/* One line for a cut through an entry, one for "no usable CPU". */
		cut = len != sizeof(struct acpi_madt) && !(whole > 0 && ends[whole - 1] == len);
		UASSERT_EQ(fm.nlog - before, (int)cut + (whole == 0));
		UASSERT_EQ(info.ncpu, whole < 4 ? whole : 4);
		UASSERT_EQ(info.nioapic, whole >= 5);
		UASSERT_EQ(info.noverride, whole <= 5 ? 0 : whole - 5 < 5 ? whole - 5 : 5);
		UASSERT_EQ(info.nnmi, whole == 11);
	}
	return NULL;
}

static const char *madt_entry_length_zero(void)
{
	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	madt->data[44 + 4 * 8 + 1] = 0;                         /* the I/O APIC entry */
	sdt_fix(madt);
	UASSERT_EQ(parse(rsdp->pa), 0);
	CHECK(only_line("acpi: MADT entry type 1 at offset 76: bad length 0 (68 bytes left); "
			"the entries before it are kept\n"));
	UASSERT_EQ(info.ncpu, 4);               /* kept: parsed before the bad entry */
	UASSERT_STR(info.source, "ACPI MADT (RSDT)");
	UASSERT_EQ(info.nioapic, 0);
	UASSERT_EQ(info.noverride, 0);
	madt->data[44 + 4 * 8 + 1] = 12;
	madt->data[44 + 1] = 1;                                 /* first entry, length 1 */
	sdt_fix(madt);
	UASSERT_EQ(parse(rsdp->pa), -EINVAL);
	UASSERT(logged("entry type 0 at offset 44: bad length 1"));
	UASSERT_EQ(info.ncpu, 0);
	return NULL;
}

static const char *madt_entry_past_end(void)
{
	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	madt->data[madt->len - 6 + 1] = 7;                      /* last entry: NMI, 6 bytes */
	sdt_fix(madt);
	UASSERT_EQ(parse(rsdp->pa), 0);
	CHECK(only_line("acpi: MADT entry type 4 at offset 138: bad length 7 (6 bytes left); "
			"the entries before it are kept\n"));
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.noverride, 5);
	UASSERT_EQ(info.nnmi, 0);
	return NULL;
}

/* ---------------------------------------------------------------- XSDT */

/* Hand-made revision 2 RSDP + XSDT in front of the QEMU tables. */
static const char *install_xsdt(struct region **xsdt_out)
{
	struct table rsdp, xsdt;

	LOAD("pc-smp4");
	TAG(rsdt, "RSDT");
	TAG(madt, "APIC");
	TAG(hpet, "HPET");
	uint64_t list[] = { hpet->pa, madt->pa };
	make_root(&xsdt, "XSDT", 8, list, 2);
	make_rsdp(&rsdp, 2, (uint32_t)rsdt->pa, SYN_XSDT);
	if (!fm_add(0xE0000, rsdp.b, rsdp.n, "RSDP2") ||
	    !(*xsdt_out = fm_add(SYN_XSDT, xsdt.b, xsdt.n, "XSDT")))
		UFAIL("cannot install the XSDT");
	return NULL;
}

static const char *xsdt_used(void)
{
	struct region *xsdt;
	uint64_t pa = 0;

	CHECK(install_xsdt(&xsdt));
	UASSERT_EQ(acpi_find_rsdp(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, 0xE0000);
	UASSERT_EQ(parse(0xE0000), 0);
	UASSERT_EQ(fm.nlog, 0);
	CHECK(check_qemu_smp4("ACPI MADT (XSDT)"));
	/* Tables only the RSDT lists are not found through the XSDT. */
	UASSERT_EQ(acpi_find_table(fm_read, NULL, 0xE0000, "FACP", &pa, fm_log), -ENOENT);
	UASSERT_EQ(acpi_find_table(fm_read, NULL, 0xE0000, "HPET", &pa, fm_log), 0);
	TAG(hpet, "HPET");
	UASSERT_EQ(pa, hpet->pa);
	return NULL;
}

/* 64-bit entries near the top of the address space must not wrap. */
static const char *xsdt_entry_wraps(void)
{
	struct region *xsdt;
	struct table t;

	CHECK(install_xsdt(&xsdt));
	TAG(madt, "APIC");
	uint64_t list[] = { 0xFFFFFFFFFFFFFFF0ull, madt->pa };
	make_root(&t, "XSDT", 8, list, 2);
	memcpy(xsdt->data, t.b, t.n);
	UASSERT_EQ(parse(0xE0000), 0);
	UASSERT(logged("acpi: XSDT entry 0 (0xfffffffffffffff0): not readable, skipped\n"));
	UASSERT_EQ(fm.wrapped, 0);
	return check_qemu_smp4("ACPI MADT (XSDT)");
}

static const char *xsdt_bad_falls_back(void)
{
	struct region *xsdt;

	CHECK(install_xsdt(&xsdt));
	/* A bad checksum alone: warned about and used. */
	uint8_t field = xsdt->data[SDT_CHECKSUM];
	char want[160];
	xsdt->data[SDT_CHECKSUM] ^= 0x55;
	UASSERT_EQ(parse(0xE0000), 0);
	snprintf(want, sizeof want, "acpi: XSDT (OEM 'KESTRL') at 0x7f00800: bad checksum (field "
		 "0x%02x, bytes sum to 0x%02x), used anyway\n", (uint8_t)(field ^ 0x55),
		 (uint8_t)((field ^ 0x55) - field));
	CHECK(only_line(want));
	CHECK(check_qemu_smp4("ACPI MADT (XSDT)"));
	xsdt->data[SDT_CHECKSUM] ^= 0x55;
	xsdt->data[0] = 'Y';                                    /* "YSDT" */
	sdt_fix(xsdt);
	UASSERT_EQ(parse(0xE0000), 0);
	UASSERT(logged("acpi: XSDT at 0x7f00800: bad signature\n"));
	UASSERT_STR(info.source, "ACPI MADT (RSDT)");
	return NULL;
}

/* A MADT above 4 GiB, listed by a 64-bit XSDT entry: used like any other. */
static const char *xsdt_table_above_4g(void)
{
	struct region *xsdt;
	struct table t;
	const uint64_t high = 0x240001000ull;                  /* 9 GiB + 4 KiB */

	CHECK(install_xsdt(&xsdt));
	TAG(madt, "APIC");
	TAG(hpet, "HPET");
	UASSERT(fm_add(high, madt->data, madt->len, "APICHI"));
	uint64_t list[] = { hpet->pa, high };
	make_root(&t, "XSDT", 8, list, 2);
	memcpy(xsdt->data, t.b, t.n);
	madt->data[0] = 'X';                                    /* the low copy is not it */
	UASSERT_EQ(parse(0xE0000), 0);
	UASSERT_EQ(fm.nlog, 0);
	return check_qemu_smp4("ACPI MADT (XSDT)");
}

/* XSDT entries pointing nowhere and at garbage: one line each, the MADT still found. */
static const char *xsdt_bad_entry_pointer(void)
{
	struct region *xsdt;
	struct table t;
	static const uint8_t junk[64] = { 0xDE, 0xAD, 0xBE, 0xEF };

	CHECK(install_xsdt(&xsdt));
	TAG(madt, "APIC");
	UASSERT(fm_add(0x7F03000, junk, sizeof junk, "JUNK"));
	uint64_t list[] = { 0x123400000000ull, 0x7F03000, madt->pa };
	make_root(&t, "XSDT", 8, list, 3);
	free(xsdt->data);
	xsdt->data = malloc(t.n);
	xsdt->len = t.n;
	memcpy(xsdt->data, t.b, t.n);
	UASSERT_EQ(parse(0xE0000), 0);
	UASSERT(!strcmp(fm.log, "acpi: XSDT entry 0 (0x123400000000): not readable, skipped\n"
			    "acpi: XSDT entry 1 (0x7f03000): no table there (signature bytes de ad "
			    "be ef), skipped\n"));
	UASSERT_EQ(fm.nlog, 2);
	return check_qemu_smp4("ACPI MADT (XSDT)");
}

/* Several oddities at once: one line each, nothing said twice. */
static const char *oddities_once_each(void)
{
	LOAD("q35-smp4");
	TAG(rsdp, "RSDP");
	TAG(rsdt, "RSDT");
	TAG(madt, "APIC");
	TAG(hpet, "HPET");
	TAG(fadt, "FACP");
	rsdt->data[SDT_CHECKSUM]++;
	hpet->data[SDT_CHECKSUM]++;
	fadt->data[SDT_CHECKSUM]++;
	madt->data[44 + 4 * 8 + 1] = 0;                         /* the I/O APIC entry */
	sdt_fix(madt);
	UASSERT_EQ(parse(rsdp->pa), 0);
	UASSERT_EQ(fm.nlog, 4);
	UASSERT(logged("acpi: RSDT (OEM 'BOCHS') at "));
	UASSERT(logged("acpi: HPET (OEM 'BOCHS') at "));
	UASSERT(logged("acpi: FACP (OEM 'BOCHS') at "));
	UASSERT(logged("acpi: MADT entry type 1 at offset 76: bad length 0"));
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.nioapic, 0);
	return NULL;
}

/* A revision 2 RSDP with a bad extended part: its XSDT is not trusted. */
static const char *rsdp_v2_bad_ext_checksum(void)
{
	struct region *xsdt;

	CHECK(install_xsdt(&xsdt));
	TAG(rsdp, "RSDP2");
	rsdp->data[RSDP_EXT_CHECKSUM] ^= 1;
	UASSERT_EQ(parse(0xE0000), 0);
	UASSERT(logged("acpi: RSDP revision 2: bad extended checksum, using the RSDT\n"));
	UASSERT_STR(info.source, "ACPI MADT (RSDT)");
	/* A 20-byte copy of a revision 2 RSDP (v1 tag) also uses the RSDT. */
	rsdp->data[RSDP_EXT_CHECKSUM] ^= 1;
	UASSERT_EQ(acpi_parse_madt_rsdp(fm_read, NULL, rsdp->data, 20, &info, fm_log), 0);
	UASSERT(logged("RSDP revision 2: extended part not readable, using the RSDT\n"));
	UASSERT_STR(info.source, "ACPI MADT (RSDT)");
	UASSERT_EQ(acpi_parse_madt_rsdp(fm_read, NULL, rsdp->data, 36, &info, fm_log), 0);
	UASSERT_STR(info.source, "ACPI MADT (XSDT)");
	return NULL;
}

/* ---------------------------------------------------------------- hand-built MADTs */

/* Enabled, disabled and online-capable xAPIC and x2APIC CPUs, duplicates. */
static const char *madt_cpu_flags(void)
{
	struct table t;

	madt_begin(&t, MADT_REV_ONLINE_CAPABLE, 0xFEE00000, 0);
	e_lapic(&t, 0, 0, MADT_CPU_ENABLED);
	e_lapic(&t, 1, 1, 0);                                   /* unusable */
	e_lapic(&t, 2, 2, MADT_CPU_ONLINE_CAPABLE);
	e_lapic(&t, 3, 0, MADT_CPU_ENABLED);                    /* duplicate id 0 */
	e_lapic(&t, 4, 0xFF, MADT_CPU_ENABLED);                 /* broadcast id */
	e_x2apic(&t, 0x100, MADT_CPU_ENABLED, 0x1000);
	e_x2apic(&t, 0x101, 0, 0x1001);                         /* unusable */
	e_x2apic(&t, 2, MADT_CPU_ENABLED, 0x1002);              /* duplicate id 2 */
	e_x2apic(&t, 0xFFFFFFFF, MADT_CPU_ENABLED, 0x1003);     /* invalid id */
	e_x2apic(&t, 0x102, MADT_CPU_ONLINE_CAPABLE, 0x1004);
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), 0);
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.cpus[0].apic_id, 0);
	UASSERT(info.cpus[0].enabled && !info.cpus[0].x2apic);
	UASSERT_EQ(info.cpus[1].apic_id, 2);
	UASSERT(!info.cpus[1].enabled && !info.cpus[1].x2apic);
	UASSERT_EQ(info.cpus[2].apic_id, 0x100);
	UASSERT_EQ(info.cpus[2].acpi_uid, 0x1000);
	UASSERT(info.cpus[2].enabled && info.cpus[2].x2apic);
	UASSERT_EQ(info.cpus[3].apic_id, 0x102);
	UASSERT(!info.cpus[3].enabled && info.cpus[3].x2apic);
	UASSERT_EQ(info.skipped_cpus, 4);
	UASSERT(logged("acpi: CPU UID 3: duplicate APIC id 0 ignored\n"));
	UASSERT(logged("acpi: CPU UID 4: invalid APIC id 0xff, skipped\n"));
	UASSERT(logged("acpi: CPU UID 4098: duplicate APIC id 2 ignored\n"));
	UASSERT(logged("acpi: CPU UID 4099: invalid APIC id 0xffffffff, skipped\n"));
	UASSERT_EQ(fm.nlog, 4);
	UASSERT(!info.pic_present);
	/* Before MADT revision 5 bit 1 was reserved: such CPUs are not usable. */
	t.b[8] = MADT_REV_ONLINE_CAPABLE - 1;
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), 0);
	UASSERT_EQ(info.ncpu, 3);
	UASSERT_EQ(info.cpus[2].apic_id, 2);    /* no longer a duplicate */
	UASSERT(info.cpus[2].x2apic);
	UASSERT_EQ(info.skipped_cpus, 6);
	return NULL;
}

static const char *madt_nmi_entries(void)
{
	struct table t;

	madt_begin(&t, 3, 0xFEE00000, MADT_PCAT_COMPAT);
	e_x2apic(&t, 0x200, MADT_CPU_ENABLED, 7);
	e_lapic(&t, 3, 1, MADT_CPU_ENABLED);
	e_x2nmi(&t, MPS_INTI_POLARITY_LOW | MPS_INTI_TRIGGER_LEVEL, 0xFFFFFFFF, 1);
	e_x2nmi(&t, 0, 7, 0);
	e_nmi(&t, 3, MPS_INTI_POLARITY_HIGH, 0);
	e_nmi(&t, 3, 0, 2);                                     /* no LINT2 */
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), 0);
	UASSERT(info.pic_present);
	UASSERT_EQ(info.ncpu, 2);
	UASSERT_EQ(info.cpus[0].apic_id, 0x200);
	UASSERT(info.cpus[0].x2apic);
	UASSERT_EQ(info.nnmi, 3);
	UASSERT_EQ(info.nmis[0].acpi_uid, PLATFORM_UID_ALL);
	UASSERT_EQ(info.nmis[0].lint, 1);
	UASSERT_EQ(info.nmis[0].flags, MPS_INTI_POLARITY_LOW | MPS_INTI_TRIGGER_LEVEL);
	UASSERT_EQ(info.nmis[1].acpi_uid, 7);
	UASSERT_EQ(info.nmis[1].lint, 0);
	UASSERT_EQ(info.nmis[2].acpi_uid, 3);
	UASSERT_EQ(info.nmis[2].flags, MPS_INTI_POLARITY_HIGH);
	UASSERT(logged("acpi: NMI on LINT2 of UID 0x3: no such pin, ignored\n"));
	/* Which CPU each NMI applies to. */
	UASSERT(platform_nmi_applies(&info.nmis[0], &info.cpus[0]));
	UASSERT(platform_nmi_applies(&info.nmis[0], &info.cpus[1]));
	UASSERT(platform_nmi_applies(&info.nmis[1], &info.cpus[0]));
	UASSERT(!platform_nmi_applies(&info.nmis[1], &info.cpus[1]));
	UASSERT(!platform_nmi_applies(&info.nmis[2], &info.cpus[0]));
	UASSERT(platform_nmi_applies(&info.nmis[2], &info.cpus[1]));
	return NULL;
}

/* Address override, unknown and short entries, several I/O APICs, overrides. */
static const char *madt_misc_entries(void)
{
	struct table t;

	madt_begin(&t, 1, 0xFEE00000, MADT_PCAT_COMPAT);
	e_raw(&t, 0x7F, 7);                                     /* unknown: skipped */
	e_lapic(&t, 0, 0, MADT_CPU_ENABLED);
	e_raw(&t, MADT_IOAPIC, 4);                              /* too short: skipped */
	e_ioapic(&t, 4, 0xFEC00000, 0);
	e_ioapic(&t, 5, 0xFEC01000, 24);
	e_ioapic(&t, 4, 0xFEC02000, 48);                        /* duplicate id */
	e_lapic_addr(&t, 0x123456789000ull);
	e_iso(&t, 0, 0, 2, 0);
	e_iso(&t, 0, 0, 5, 0);                                  /* duplicate IRQ 0 */
	e_iso(&t, 1, 3, 3, 0);                                  /* not ISA */
	e_iso(&t, 0, 9, 33, MPS_INTI_POLARITY_LOW | MPS_INTI_TRIGGER_LEVEL);
	e_raw(&t, 0x10, 2);                                     /* minimal unknown */
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), 0);
	UASSERT_EQ(info.lapic_addr, 0x123456789000ull);
	UASSERT_EQ(info.ncpu, 1);
	UASSERT_EQ(info.nioapic, 2);
	UASSERT_EQ(info.ioapics[1].id, 5);
	UASSERT_EQ(info.ioapics[1].addr, 0xFEC01000);
	UASSERT_EQ(info.ioapics[1].gsi_base, 24);
	UASSERT_EQ(info.noverride, 2);
	UASSERT_EQ(info.overrides[0].gsi, 2);
	UASSERT_EQ(info.overrides[1].bus_irq, 9);
	UASSERT_EQ(info.overrides[1].gsi, 33);
	UASSERT_EQ(info.overrides[1].flags, MPS_INTI_POLARITY_LOW | MPS_INTI_TRIGGER_LEVEL);
	UASSERT(logged("acpi: MADT entry type 1 at offset 59: length 4 < 12, skipped\n"));
	UASSERT(logged("acpi: duplicate I/O APIC id 4 ignored\n"));
	UASSERT(logged("acpi: duplicate override of IRQ 0 ignored\n"));
	UASSERT(logged("acpi: override of IRQ 3 on bus 1 (not ISA) ignored\n"));
	UASSERT_EQ(fm.nlog, 4);
	return NULL;
}

/* More entries than platform_info holds: counted, reported once, no overflow. */
static const char *madt_limits(void)
{
	struct table t;

	madt_begin(&t, 1, 0xFEE00000, 0);
	for (int i = 0; i < PLATFORM_MAX_CPUS + 6; i++)
		e_lapic(&t, (uint8_t)i, (uint8_t)i, MADT_CPU_ENABLED);
	for (int i = 0; i < PLATFORM_MAX_IOAPICS + 1; i++)
		e_ioapic(&t, (uint8_t)i, 0xFEC00000 + (uint32_t)i * 0x1000, (uint32_t)i * 24);
	for (int i = 0; i < PLATFORM_MAX_OVERRIDES + 1; i++)
		e_iso(&t, 0, (uint8_t)i, (uint32_t)i + 100, 0);
	for (int i = 0; i < PLATFORM_MAX_NMIS + 1; i++)
		e_nmi(&t, (uint8_t)i, 0, 1);
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), 0);
	UASSERT_EQ(info.ncpu, PLATFORM_MAX_CPUS);
	UASSERT_EQ(info.skipped_cpus, 6);
	UASSERT_EQ(info.cpus[PLATFORM_MAX_CPUS - 1].apic_id, PLATFORM_MAX_CPUS - 1);
	UASSERT_EQ(info.nioapic, PLATFORM_MAX_IOAPICS);
	UASSERT_EQ(info.noverride, PLATFORM_MAX_OVERRIDES);
	UASSERT_EQ(info.nnmi, PLATFORM_MAX_NMIS);
	UASSERT(logged("acpi: more than 64 CPUs, the rest are skipped\n"));
	UASSERT(logged("acpi: I/O APIC 8 at 0xfec08000: more than 8, skipped\n"));
	UASSERT(logged("acpi: override of IRQ 24: more than 24, skipped\n"));
	UASSERT(logged("acpi: NMI on LINT1 of UID 0x10: more than 16, skipped\n"));
	UASSERT_EQ(fm.nlog, 4);
	return NULL;
}

static const char *madt_no_usable_cpu(void)
{
	struct table t;

	madt_begin(&t, 1, 0xFEE00000, 0);
	e_lapic(&t, 0, 0, 0);
	e_ioapic(&t, 0, 0xFEC00000, 0);
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), -EINVAL);
	UASSERT(logged("acpi: MADT lists no usable CPU\n"));
	UASSERT_EQ(info.skipped_cpus, 1);
	UASSERT_EQ(info.nioapic, 1);
	return NULL;
}

/* A stray byte after the last entry (length not a whole entry). */
static const char *madt_stray_byte(void)
{
	struct table t;

	madt_begin(&t, 1, 0xFEE00000, 0);
	e_lapic(&t, 0, 0, MADT_CPU_ENABLED);
	put8(&t, MADT_LAPIC);
	sdt_end(&t);
	INSTALL(&t);
	UASSERT_EQ(parse(SYN_RSDP), 0);
	CHECK(only_line("acpi: MADT: stray byte at offset 52; the entries before it are kept\n"));
	UASSERT_EQ(info.ncpu, 1);
	return NULL;
}

/* Root entries that point nowhere, and a root with a partial entry. */
static const char *root_bad_entries(void)
{
	struct table rsdt;

	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(old, "RSDT");
	TAG(madt, "APIC");
	uint64_t list[] = { 0, 0x40000000, madt->pa };
	make_root(&rsdt, "RSDT", 4, list, 3);
	put8(&rsdt, 0xAA);                                      /* partial entry */
	sdt_end(&rsdt);
	free(old->data);
	old->data = malloc(rsdt.n);
	old->len = rsdt.n;
	memcpy(old->data, rsdt.b, rsdt.n);
	UASSERT_EQ(parse(rsdp->pa), 0);
	UASSERT(logged("acpi: RSDT: trailing partial entry ignored\n"));
	UASSERT(logged("acpi: RSDT entry 0 (0): not readable, skipped\n"));
	UASSERT(logged("acpi: RSDT entry 1 (0x40000000): not readable, skipped\n"));
	return check_qemu_smp4("ACPI MADT (RSDT)");
}

/* ---------------------------------------------------------------- robustness */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The parse result is internally consistent whatever the table said. */
static const char *check_invariants(int rc)
{
	UASSERT(rc == 0 || rc == -EINVAL || rc == -ENOENT);
	UASSERT(info.ncpu <= PLATFORM_MAX_CPUS && info.nioapic <= PLATFORM_MAX_IOAPICS);
	UASSERT(info.noverride <= PLATFORM_MAX_OVERRIDES && info.nnmi <= PLATFORM_MAX_NMIS);
	if (rc == 0)
		UASSERT(info.ncpu > 0 && info.source);
	for (uint32_t i = 0; i < info.ncpu; i++)
		for (uint32_t j = 0; j < i; j++)
			UASSERT(info.cpus[i].apic_id != info.cpus[j].apic_id);
	for (uint32_t i = 0; i < info.nnmi; i++)
		UASSERT(info.nmis[i].lint <= 1);
	return NULL;
}

/* Random bytes of the MADT body changed, checksum fixed: never a crash. */
static const char *madt_fuzz(void)
{
	LOAD("pc-smp4");
	TAG(rsdp, "RSDP");
	TAG(madt, "APIC");
	uint8_t orig[256];
	int ok = 0;
	memcpy(orig, madt->data, madt->len);
	for (int iter = 0; iter < 3000; iter++) {
		const char *why;
		int rc;

		memcpy(madt->data, orig, madt->len);
		for (int k = 1 + (int)(rng() % 4); k > 0; k--)
			madt->data[36 + rng() % (madt->len - 36)] = (uint8_t)rng();
		sdt_fix(madt);
		rc = iter % 2 ? parse(rsdp->pa)
			      : acpi_parse_madt(fm_read, NULL, rsdp->pa, &info, NULL);
		why = check_invariants(rc);
		if (why)
			return why;
		ok += rc == 0;
	}
	UASSERT(ok > 0);                /* some corruptions are harmless */
	return NULL;
}

UNIT_MAIN("acpi",
	  UTEST(find_rsdp_qemu),
	  UTEST(find_rsdp_none),
	  UTEST(find_rsdp_ebda),
	  UTEST(find_rsdp_bad_checksum),
	  UTEST(find_rsdp_v2),
	  UTEST(madt_qemu_pc),
	  UTEST(madt_qemu_q35),
	  UTEST(madt_qemu_disabled_cpus),
	  UTEST(madt_from_rsdp_copy),
	  UTEST(find_table_qemu),
	  UTEST(rsdp_bad_checksum),
	  UTEST(rsdt_bad_checksum),
	  UTEST(madt_bad_checksum),
	  UTEST(madt_bad_then_good),
	  UTEST(madt_truncated),
	  UTEST(madt_every_truncation),
	  UTEST(madt_entry_length_zero),
	  UTEST(madt_entry_past_end),
	  UTEST(xsdt_used),
	  UTEST(xsdt_entry_wraps),
	  UTEST(xsdt_bad_falls_back),
	  UTEST(xsdt_table_above_4g),
	  UTEST(xsdt_bad_entry_pointer),
	  UTEST(oddities_once_each),
	  UTEST(rsdp_v2_bad_ext_checksum),
	  UTEST(madt_cpu_flags),
	  UTEST(madt_nmi_entries),
	  UTEST(madt_misc_entries),
	  UTEST(madt_limits),
	  UTEST(madt_no_usable_cpu),
	  UTEST(madt_stray_byte),
	  UTEST(root_bad_entries),
	  UTEST(madt_fuzz))
