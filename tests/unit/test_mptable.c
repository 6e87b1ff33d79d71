/*
 * Host tests for arch/x86_64/mptable.c: floating pointer search and MP table
 * parsing on tables dumped from QEMU/SeaBIOS (tests/unit/data/, see
 * tools/dump_tables.sh) at their real physical addresses, corrupted copies
 * of them, and hand-built tables for what SeaBIOS never produces.
 */
#include "unit.h"
#include "../../arch/x86_64/mptable.c"

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
	uint16_t count;                 /* entries */
};

static void put(struct table *t, const void *p, size_t n)
{
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void put8(struct table *t, uint8_t v) { put(t, &v, 1); }
static void put16(struct table *t, uint16_t v) { put(t, &v, 2); }
static void put32(struct table *t, uint32_t v) { put(t, &v, 4); }

/* Sets byte `at` so that the len bytes at p sum to 0. */
static void fix_checksum(uint8_t *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)-platform_checksum(p, len);
}

/* Offsets in the floating pointer and the configuration table header. */
#define MPF_CONFIG      4
#define MPF_LENGTH      8
#define MPF_CHECKSUM    10
#define MPF_FEATURE1    11
#define MPF_FEATURE2    12
#define MPC_LENGTH      4
#define MPC_CHECKSUM    7
#define MPC_COUNT       34
#define MPC_HEADER      44

/* Re-checksums a loaded configuration table after a test edited it. */
static void mpc_fix(struct region *r)
{
	uint16_t len;

	memcpy(&len, r->data + MPC_LENGTH, 2);
	fix_checksum(r->data, len, MPC_CHECKSUM);
}

static void mpf_fix(struct region *r)
{
	fix_checksum(r->data, 16, MPF_CHECKSUM);
}

static void set16(struct region *r, size_t at, uint16_t v)
{
	memcpy(r->data + at, &v, 2);
}

static void mpc_begin(struct table *t, uint32_t lapic)
{
	t->n = 0;
	t->count = 0;
	put(t, MPC_SIG, 4);
	put16(t, 0);                    /* base length, set by mpc_end */
	put8(t, 4);
	put8(t, 0);
	put(t, "KESTREL ", 8);
	put(t, "UNIT TEST   ", 12);
	put32(t, 0);
	put16(t, 0);
	put16(t, 0);                    /* entry count, set by mpc_end */
	put32(t, lapic);
	put16(t, 0);
	put8(t, 0);
	put8(t, 0);
}

static void mpc_end(struct table *t)
{
	uint16_t len = (uint16_t)t->n;

	memcpy(t->b + MPC_LENGTH, &len, 2);
	memcpy(t->b + MPC_COUNT, &t->count, 2);
	fix_checksum(t->b, t->n, MPC_CHECKSUM);
}

static void m_cpu(struct table *t, uint8_t id, uint8_t flags)
{
	put8(t, MP_PROCESSOR); put8(t, id); put8(t, 0x14); put8(t, flags);
	put32(t, 0x600); put32(t, 0x201); put32(t, 0); put32(t, 0);
	t->count++;
}

static void m_bus(struct table *t, uint8_t id, const char *type)
{
	put8(t, MP_BUS); put8(t, id); put(t, type, MP_BUS_TYPE_LEN);
	t->count++;
}

static void m_ioapic(struct table *t, uint8_t id, uint8_t flags, uint32_t addr)
{
	put8(t, MP_IOAPIC); put8(t, id); put8(t, 0x11); put8(t, flags); put32(t, addr);
	t->count++;
}

static void m_int(struct table *t, uint8_t type, uint8_t int_type, uint16_t flags,
		  uint8_t bus, uint8_t irq, uint8_t dst, uint8_t pin)
{
	put8(t, type); put8(t, int_type); put16(t, flags); put8(t, bus); put8(t, irq);
	put8(t, dst); put8(t, pin);
	t->count++;
}

/* Synthetic machine: floating pointer at SYN_MPF -> the given table at SYN_MPC. */
#define SYN_MPF         0xF0000ull
#define SYN_MPC         0xF0100ull

static const char *syn_install(const struct table *mpc, uint8_t feature2)
{
	uint8_t mpf[16] = { '_', 'M', 'P', '_' };
	uint32_t cfg = SYN_MPC;

	fm_reset();
	memcpy(mpf + MPF_CONFIG, &cfg, 4);
	mpf[MPF_LENGTH] = 1;
	mpf[9] = 4;                     /* spec revision 1.4 */
	mpf[MPF_FEATURE2] = feature2;
	fix_checksum(mpf, sizeof mpf, MPF_CHECKSUM);
	if (!fm_add(SYN_MPF, mpf, sizeof mpf, "MPFP") || !fm_add(SYN_MPC, mpc->b, mpc->n, "PCMP"))
		UFAIL("cannot install synthetic tables");
	return NULL;
}

#define INSTALL(mpc, f2) CHECK(syn_install(mpc, f2))

static struct platform_info info;

static int parse(uint64_t mpf)
{
	return mp_parse(fm_read, NULL, mpf, &info, fm_log);
}

/* What SeaBIOS builds on QEMU: CPUs 0..ncpu-1, one I/O APIC, IRQ0 -> INTIN2. */
static const char *check_qemu(uint32_t ncpu)
{
	UASSERT_STR(info.source, "MP table");
	UASSERT_EQ(info.lapic_addr, 0xFEE00000);
	UASSERT(info.pic_present);
	UASSERT(!info.imcr_present && !info.gsi_base_assumed);
	UASSERT_EQ(info.ncpu, ncpu);
	UASSERT_EQ(info.skipped_cpus, 0);
	for (uint32_t i = 0; i < ncpu; i++) {
		UASSERT_EQ(info.cpus[i].apic_id, i);
		UASSERT_EQ(info.cpus[i].acpi_uid, i);
		UASSERT(info.cpus[i].enabled && !info.cpus[i].x2apic);
	}
	UASSERT_EQ(info.nioapic, 1);
	UASSERT_EQ(info.ioapics[0].id, 0);
	UASSERT_EQ(info.ioapics[0].addr, 0xFEC00000);
	UASSERT_EQ(info.ioapics[0].gsi_base, 0);
	UASSERT_EQ(info.noverride, 1);
	UASSERT_EQ(info.overrides[0].bus_irq, 0);
	UASSERT_EQ(info.overrides[0].gsi, 2);
	UASSERT_EQ(info.overrides[0].flags, 0);
	UASSERT_EQ(info.nnmi, 1);
	UASSERT_EQ(info.nmis[0].acpi_uid, PLATFORM_UID_ALL);
	UASSERT_EQ(info.nmis[0].lint, 1);
	UASSERT_EQ(info.nmis[0].flags, 0);
	return NULL;
}

/* ---------------------------------------------------------------- floating pointer search */

static const char *find_floating_qemu(void)
{
	static const char *const configs[] = {
		"pc-smp4", "q35-smp4", "pc-smp2-max8", "pc-smp8-noacpi",
	};

	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
		uint64_t pa = 0;

		LOAD(configs[i]);
		TAG(mpf, "MPFP");
		UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
		UASSERT_EQ(pa, mpf->pa);
		UASSERT_EQ(fm.nlog, 0);
	}
	return NULL;
}

/* 4.1: the EBDA first, on 16-byte boundaries only. */
static const char *find_floating_ebda(void)
{
	uint64_t pa = 0;

	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(ebda, "EBDA");
	memcpy(ebda->data + 0x18, mpf->data, 16);               /* misaligned: not found */
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, mpf->pa);
	memcpy(ebda->data + 0x3F0, mpf->data, 16);
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, ebda->pa + 0x3F0);
	UASSERT_EQ(fm.nlog, 0);
	return NULL;
}

/*
 * No EBDA: the last KiB of base memory, whose size the BDA gives (SeaBIOS:
 * 639 KiB, the EBDA being the KiB above), else (0 or > 640) 640 KiB.
 */
static const char *find_floating_base_top(void)
{
	static uint8_t low[0x400];
	uint64_t pa = 0;

	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(bda, "BDA");
	TAG(ebda, "EBDA");
	set16(bda, BDA_EBDA_SEGMENT - 0x400, 0);
	memcpy(low + 0x100, mpf->data, 16);
	UASSERT(fm_add(638 * 1024, low, sizeof low, "LOW"));
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, 638 * 1024 + 0x100);
	set16(bda, BDA_BASE_MEM_KIB - 0x400, 0);                /* unknown: 640 KiB */
	memcpy(ebda->data + 0x200, mpf->data, 16);              /* 639 KiB + 0x200 */
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, 639 * 1024 + 0x200);
	set16(bda, BDA_BASE_MEM_KIB - 0x400, 0xFFFF);           /* impossible: 640 KiB */
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, 639 * 1024 + 0x200);
	set16(bda, BDA_BASE_MEM_KIB - 0x400, 512);
	UASSERT(fm_add(511 * 1024, low, sizeof low, "LOW2"));
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, 511 * 1024 + 0x100);
	UASSERT_EQ(fm.nlog, 0);
	return NULL;
}

static const char *find_floating_bad(void)
{
	uint64_t pa = 0;

	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	mpf->data[MPF_CHECKSUM]++;
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT(logged("mp: floating pointer candidate at 0xf5b60: bad checksum\n"));
	UASSERT(logged("mp: no floating pointer in the EBDA, base memory top or BIOS ROM\n"));
	mpf->data[MPF_LENGTH] = 0;
	mpf_fix(mpf);
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT(logged("candidate at 0xf5b60: length 0\n"));
	mpf->data[MPF_LENGTH] = 2;                              /* 32 bytes: past the blob */
	mpf_fix(mpf);
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), -ENOENT);
	UASSERT(logged("candidate at 0xf5b60: length runs past readable memory\n"));
	/* A bad candidate in the EBDA does not hide the good one in the ROM. */
	mpf->data[MPF_LENGTH] = 1;
	mpf_fix(mpf);
	TAG(ebda, "EBDA");
	memcpy(ebda->data + 0x40, mpf->data, 16);
	ebda->data[0x40 + MPF_FEATURE2] = 0x80;
	UASSERT_EQ(mp_find_floating(fm_read, NULL, &pa, fm_log), 0);
	UASSERT_EQ(pa, mpf->pa);
	UASSERT(logged("candidate at 0x9fc40: bad checksum\n"));
	return NULL;
}

/* ---------------------------------------------------------------- QEMU tables */

static const char *parse_qemu_pc(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	UASSERT_EQ(parse(mpf->pa), 0);
	UASSERT_EQ(fm.nlog, 0);
	return check_qemu(4);
}

static const char *parse_qemu_smp8(void)
{
	LOAD("pc-smp8-noacpi");
	TAG(mpf, "MPFP");
	UASSERT_EQ(parse(mpf->pa), 0);
	UASSERT_EQ(fm.nlog, 0);
	return check_qemu(8);
}

/*
 * SeaBIOS lists one processor per package in the MP table; QEMU 7.2's
 * plain -smp N is one socket of N cores, so these tables show one CPU.
 */
static const char *parse_qemu_packages(void)
{
	LOAD("q35-smp4");
	TAG(mpf, "MPFP");
	UASSERT_EQ(parse(mpf->pa), 0);
	CHECK(check_qemu(1));
	LOAD("pc-smp2-max8");
	TAG(mpf2, "MPFP");
	UASSERT_EQ(parse(mpf2->pa), 0);
	UASSERT_EQ(fm.nlog, 0);
	return check_qemu(1);
}

/* ---------------------------------------------------------------- corruptions */

static const char *parse_bad_floating(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	UASSERT_EQ(parse(mpf->pa + 16), -EINVAL);
	UASSERT(logged("mp: floating pointer at 0xf5b70: bad signature\n"));
	UASSERT_EQ(parse(0x12345670), -EINVAL);
	UASSERT(logged("mp: floating pointer at 0x12345670: not readable\n"));
	UASSERT_EQ(parse(UINT64_MAX - 7), -EINVAL);             /* [pa, pa + 16) wraps */
	UASSERT(logged("mp: floating pointer at 0xfffffffffffffff8: not readable\n"));
	UASSERT_EQ(fm.wrapped, 0);
	mpf->data[MPF_FEATURE1] = 5;
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: floating pointer at 0xf5b60: bad checksum\n"));
	UASSERT_EQ(info.ncpu, 0);
	return NULL;
}

/* Default configurations (no table) are not supported: a clear error. */
static const char *parse_default_config(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	mpf->data[MPF_FEATURE1] = 5;
	mpf_fix(mpf);
	UASSERT_EQ(parse(mpf->pa), -ENOSYS);
	UASSERT(logged("mp: default configuration 5 (no table) not supported\n"));
	mpf->data[MPF_FEATURE1] = 0;
	memset(mpf->data + MPF_CONFIG, 0, 4);
	mpf_fix(mpf);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: floating pointer without a configuration table\n"));
	return NULL;
}

static const char *parse_imcr(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	mpf->data[MPF_FEATURE2] = MPF_FEATURE2_IMCRP;
	mpf_fix(mpf);
	UASSERT_EQ(parse(mpf->pa), 0);
	UASSERT(info.imcr_present);
	return NULL;
}

static const char *parse_bad_checksum(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	mpc->data[MPC_HEADER + 1] = 9;                          /* first CPU's APIC id */
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: configuration table at 0xf5b70: bad checksum\n"));
	UASSERT_EQ(info.ncpu, 0);
	mpc_fix(mpc);
	mpc->data[0] = 'Q';
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: configuration table at 0xf5b70: bad signature\n"));
	return NULL;
}

static const char *parse_truncated(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	set16(mpc, MPC_LENGTH, 0x200);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: configuration table at 0xf5b70: length runs past readable memory\n"));
	set16(mpc, MPC_LENGTH, 40);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: configuration table at 0xf5b70: length 40 shorter than its header\n"));
	UASSERT_EQ(info.ncpu, 0);
	return NULL;
}

/*
 * Every base table length from the header up, memory ending with it and
 * the entry count left at 21: entries wholly inside are kept, and the
 * table is an error unless all 21 fit.
 */
static const char *parse_every_truncation(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	UASSERT_EQ(mpc->len, 260);
	for (uint16_t len = MPC_HEADER; len <= 260; len++) {
		/* 4 processors (20 bytes), then 17 entries of 8 bytes. */
		uint32_t whole = len < 124 ? (len - MPC_HEADER) / 20u : 4 + (len - 124) / 8u;
		int rc;

		set16(mpc, MPC_LENGTH, len);
		mpc->len = len;
		mpc_fix(mpc);
		rc = parse(mpf->pa);
		UASSERT_EQ(rc, len == 260 ? 0 : -EINVAL);
		UASSERT_EQ(info.ncpu, whole < 4 ? whole : 4);
		UASSERT_EQ(info.nioapic, whole >= 7);
		UASSERT_EQ(info.noverride, whole >= 9);         /* entry 9: ISA IRQ0 -> INTIN2 */
		UASSERT_EQ(info.nnmi, whole == 21);
	}
	return NULL;
}

static const char *parse_disabled_cpu(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	mpc->data[MPC_HEADER + 2 * 20 + 3] &= (uint8_t)~MP_CPU_ENABLED;   /* CPU 2 */
	mpc_fix(mpc);
	UASSERT_EQ(parse(mpf->pa), 0);
	UASSERT_EQ(info.ncpu, 3);
	UASSERT_EQ(info.skipped_cpus, 1);
	UASSERT_EQ(info.cpus[0].apic_id, 0);
	UASSERT_EQ(info.cpus[1].apic_id, 1);
	UASSERT_EQ(info.cpus[2].apic_id, 3);
	UASSERT_EQ(fm.nlog, 0);
	for (int i = 0; i < 4; i++)
		mpc->data[MPC_HEADER + i * 20 + 3] = 0;
	mpc_fix(mpc);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: table lists no usable CPU\n"));
	UASSERT_EQ(info.skipped_cpus, 4);
	return NULL;
}

static const char *parse_entry_count(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	set16(mpc, MPC_COUNT, 25);
	mpc_fix(mpc);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: 21 entries fit in the table, 25 announced, parsing stopped\n"));
	CHECK(check_qemu(4));                   /* everything before is kept */
	set16(mpc, MPC_COUNT, 9);               /* up to ISA IRQ0 -> INTIN2 */
	mpc_fix(mpc);
	UASSERT_EQ(parse(mpf->pa), 0);
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.noverride, 1);
	UASSERT_EQ(info.nnmi, 0);
	return NULL;
}

static const char *parse_unknown_entry(void)
{
	LOAD("pc-smp4");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	mpc->data[148] = 7;                     /* entry 7: the PCI interrupt */
	mpc_fix(mpc);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: entry 7 at offset 148: unknown type 7, parsing stopped\n"));
	UASSERT_EQ(info.ncpu, 4);
	UASSERT_EQ(info.nioapic, 1);
	UASSERT_EQ(info.noverride, 0);
	mpc->data[148] = MP_PROCESSOR;          /* 20 bytes would run past the end... */
	set16(mpc, MPC_LENGTH, 160);
	mpc->len = 160;
	mpc_fix(mpc);
	UASSERT_EQ(parse(mpf->pa), -EINVAL);
	UASSERT(logged("mp: entry 7 at offset 148: truncated type 0, parsing stopped\n"));
	return NULL;
}

/* ---------------------------------------------------------------- hand-built tables */

/* Unsorted entries, several I/O APICs, every kind of interrupt entry. */
static const char *parse_interrupts(void)
{
	struct table t;
	const uint16_t level_low = MPS_INTI_POLARITY_LOW | MPS_INTI_TRIGGER_LEVEL;

	mpc_begin(&t, 0xFEE00000);
	m_int(&t, MP_IO_INT, MP_INT, 0, 3, 0, 8, 2);            /* before its bus and I/O APIC */
	m_cpu(&t, 1, MP_CPU_ENABLED | 2);
	m_cpu(&t, 1, MP_CPU_ENABLED);                           /* duplicate */
	m_cpu(&t, 0xFF, MP_CPU_ENABLED);                        /* broadcast id */
	m_cpu(&t, 6, MP_CPU_ENABLED);
	m_bus(&t, 0, "PCI   ");
	m_bus(&t, 2, "EISA  ");
	m_bus(&t, 3, MP_BUS_ISA);
	m_ioapic(&t, 8, MP_IOAPIC_ENABLED, 0xFEC00000);
	m_ioapic(&t, 10, 0, 0xFEC02000);                        /* disabled */
	m_ioapic(&t, 9, MP_IOAPIC_ENABLED, 0xFEC01000);
	m_ioapic(&t, 8, MP_IOAPIC_ENABLED, 0xFEC03000);         /* duplicate */
	m_int(&t, MP_IO_INT, MP_INT, level_low, 3, 9, 9, 1);    /* second I/O APIC */
	m_int(&t, MP_IO_INT, MP_INT, 0, 3, 4, MP_IOAPIC_ALL, 4); /* identity: no override */
	m_int(&t, MP_IO_INT, MP_INT, MPS_INTI_TRIGGER_LEVEL, 3, 3, 8, 3);
	m_int(&t, MP_IO_INT, MP_INT, 0, 3, 6, 10, 6);           /* to the disabled one */
	m_int(&t, MP_IO_INT, MP_EXTINT, 0, 3, 0, 8, 0);         /* 8259 through pin 0 */
	m_int(&t, MP_IO_INT, MP_INT, level_low, 0, 7, 8, 19);   /* PCI */
	m_int(&t, MP_IO_INT, MP_INT, 0, 2, 5, 8, 7);            /* EISA */
	m_int(&t, MP_IO_INT, MP_SMI, 0, 3, 11, 8, 12);
	m_int(&t, MP_IO_INT, MP_INT, 0, 3, 0, 8, 5);            /* IRQ0 again */
	m_int(&t, MP_LOCAL_INT, MP_EXTINT, 0, 3, 0, MP_LAPIC_ALL, 0);
	m_int(&t, MP_LOCAL_INT, MP_NMI, MPS_INTI_POLARITY_HIGH, 3, 0, 6, 1);
	m_int(&t, MP_LOCAL_INT, MP_NMI, 0, 3, 0, 1, 2);         /* no LINT2 */
	mpc_end(&t);
	INSTALL(&t, 0);
	UASSERT_EQ(parse(SYN_MPF), 0);
	UASSERT_EQ(info.ncpu, 2);
	UASSERT_EQ(info.cpus[0].apic_id, 1);
	UASSERT_EQ(info.cpus[1].apic_id, 6);
	UASSERT_EQ(info.cpus[1].acpi_uid, 6);
	UASSERT_EQ(info.skipped_cpus, 1);
	UASSERT_EQ(info.nioapic, 2);
	UASSERT_EQ(info.ioapics[0].id, 8);
	UASSERT_EQ(info.ioapics[0].gsi_base, 0);
	UASSERT_EQ(info.ioapics[1].id, 9);
	UASSERT_EQ(info.ioapics[1].addr, 0xFEC01000);
	UASSERT_EQ(info.ioapics[1].gsi_base, MP_IOAPIC_ASSUMED_PINS);
	UASSERT(info.gsi_base_assumed);
	UASSERT_EQ(info.noverride, 3);
	UASSERT_EQ(info.overrides[0].bus_irq, 0);
	UASSERT_EQ(info.overrides[0].gsi, 2);
	UASSERT_EQ(info.overrides[1].bus_irq, 9);
	UASSERT_EQ(info.overrides[1].gsi, MP_IOAPIC_ASSUMED_PINS + 1);
	UASSERT_EQ(info.overrides[1].flags, level_low);
	UASSERT_EQ(info.overrides[2].bus_irq, 3);
	UASSERT_EQ(info.overrides[2].gsi, 3);
	UASSERT_EQ(info.overrides[2].flags, MPS_INTI_TRIGGER_LEVEL);
	UASSERT_EQ(info.nnmi, 1);
	UASSERT_EQ(info.nmis[0].acpi_uid, 6);
	UASSERT_EQ(info.nmis[0].lint, 1);
	UASSERT_EQ(info.nmis[0].flags, MPS_INTI_POLARITY_HIGH);
	UASSERT(platform_nmi_applies(&info.nmis[0], &info.cpus[1]));
	UASSERT(!platform_nmi_applies(&info.nmis[0], &info.cpus[0]));
	UASSERT(logged("mp: duplicate APIC id 1 ignored\n"));
	UASSERT(logged("mp: processor with the broadcast APIC id 0xff skipped\n"));
	UASSERT(logged("mp: I/O APIC 10 at 0xfec02000 disabled, skipped\n"));
	UASSERT(logged("mp: duplicate I/O APIC id 8 ignored\n"));
	UASSERT(logged("mp: ISA IRQ 6: no I/O APIC 10, ignored\n"));
	UASSERT(logged("mp: duplicate assignment of ISA IRQ 0 ignored\n"));
	UASSERT(logged("mp: NMI on LINT2 of APIC 1: no such pin, ignored\n"));
	UASSERT_EQ(fm.nlog, 7);
	return NULL;
}

static const char *parse_limits(void)
{
	struct table t;

	mpc_begin(&t, 0xFEE00000);
	for (int i = 0; i < PLATFORM_MAX_CPUS + 3; i++)
		m_cpu(&t, (uint8_t)i, MP_CPU_ENABLED);
	m_bus(&t, 0, MP_BUS_ISA);
	for (int i = 0; i < PLATFORM_MAX_IOAPICS + 1; i++)
		m_ioapic(&t, (uint8_t)(100 + i), MP_IOAPIC_ENABLED, 0xFEC00000 + (uint32_t)i * 0x1000);
	for (int i = 0; i < PLATFORM_MAX_OVERRIDES + 1; i++)
		m_int(&t, MP_IO_INT, MP_INT, MPS_INTI_TRIGGER_LEVEL, 0, (uint8_t)i, 100, (uint8_t)i);
	for (int i = 0; i < PLATFORM_MAX_NMIS + 1; i++)
		m_int(&t, MP_LOCAL_INT, MP_NMI, 0, 0, 0, (uint8_t)i, 1);
	mpc_end(&t);
	INSTALL(&t, 0);
	UASSERT_EQ(parse(SYN_MPF), 0);
	UASSERT_EQ(info.ncpu, PLATFORM_MAX_CPUS);
	UASSERT_EQ(info.skipped_cpus, 3);
	UASSERT_EQ(info.nioapic, PLATFORM_MAX_IOAPICS);
	UASSERT_EQ(info.ioapics[7].gsi_base, 7 * MP_IOAPIC_ASSUMED_PINS);
	UASSERT_EQ(info.noverride, PLATFORM_MAX_OVERRIDES);
	UASSERT_EQ(info.nnmi, PLATFORM_MAX_NMIS);
	UASSERT(logged("mp: more than 64 CPUs, the rest are skipped\n"));
	UASSERT(logged("mp: I/O APIC 108 at 0xfec08000: more than 8, skipped\n"));
	UASSERT(logged("mp: ISA IRQ 24: more than 24 overrides, skipped\n"));
	UASSERT(logged("mp: NMI on LINT1 of APIC 16: more than 16, skipped\n"));
	UASSERT_EQ(fm.nlog, 4);
	return NULL;
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

static const char *check_invariants(int rc)
{
	UASSERT(rc == 0 || rc == -EINVAL);
	UASSERT(info.ncpu <= PLATFORM_MAX_CPUS && info.nioapic <= PLATFORM_MAX_IOAPICS);
	UASSERT(info.noverride <= PLATFORM_MAX_OVERRIDES && info.nnmi <= PLATFORM_MAX_NMIS);
	if (rc == 0)
		UASSERT(info.ncpu > 0);
	for (uint32_t i = 0; i < info.ncpu; i++)
		for (uint32_t j = 0; j < i; j++)
			UASSERT(info.cpus[i].apic_id != info.cpus[j].apic_id);
	for (uint32_t i = 0; i < info.nnmi; i++)
		UASSERT(info.nmis[i].lint <= 1);
	return NULL;
}

/* Random bytes of the table body changed, checksum fixed: never a crash. */
static const char *parse_fuzz(void)
{
	uint8_t orig[512];
	int ok = 0;

	LOAD("pc-smp8-noacpi");
	TAG(mpf, "MPFP");
	TAG(mpc, "PCMP");
	memcpy(orig, mpc->data, mpc->len);
	for (int iter = 0; iter < 3000; iter++) {
		int rc;

		memcpy(mpc->data, orig, mpc->len);
		for (int k = 1 + (int)(rng() % 4); k > 0; k--)
			mpc->data[MPC_COUNT + rng() % (mpc->len - MPC_COUNT)] = (uint8_t)rng();
		mpc_fix(mpc);
		rc = iter % 2 ? parse(mpf->pa) : mp_parse(fm_read, NULL, mpf->pa, &info, NULL);
		CHECK(check_invariants(rc));
		ok += rc == 0;
	}
	UASSERT(ok > 0);
	UASSERT_EQ(fm.wrapped, 0);
	return NULL;
}

UNIT_MAIN("mptable",
	  UTEST(find_floating_qemu),
	  UTEST(find_floating_ebda),
	  UTEST(find_floating_base_top),
	  UTEST(find_floating_bad),
	  UTEST(parse_qemu_pc),
	  UTEST(parse_qemu_smp8),
	  UTEST(parse_qemu_packages),
	  UTEST(parse_bad_floating),
	  UTEST(parse_default_config),
	  UTEST(parse_imcr),
	  UTEST(parse_bad_checksum),
	  UTEST(parse_truncated),
	  UTEST(parse_every_truncation),
	  UTEST(parse_disabled_cpu),
	  UTEST(parse_entry_count),
	  UTEST(parse_unknown_entry),
	  UTEST(parse_interrupts),
	  UTEST(parse_limits),
	  UTEST(parse_fuzz))
