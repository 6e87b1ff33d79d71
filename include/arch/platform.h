/*
 * What SMP bring-up needs to know about the machine (CPUs, I/O APICs, ISA
 * interrupt overrides, LAPIC NMI wiring), filled from the ACPI MADT
 * (arch/x86_64/acpi.c) or the Intel MP configuration table (arch/x86_64/mptable.c).
 */
#ifndef ARCH_PLATFORM_H
#define ARCH_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLATFORM_MAX_CPUS       64
#define PLATFORM_MAX_IOAPICS    8
#define PLATFORM_MAX_OVERRIDES  24
#define PLATFORM_MAX_NMIS       16

/* platform_nmi.acpi_uid naming every CPU (MADT 0xFF / 0xFFFFFFFF, MP 0xFF). */
#define PLATFORM_UID_ALL        0xFFFFFFFFu

/*
 * MPS INTI flags: the same encoding in MADT entries (ACPI 6.x 5.2.12.5)
 * and in MP table interrupt entries (MP spec 1.4 Table 4-10).
 * "Bus" means "conforms to the bus": edge, active high for ISA.
 */
#define MPS_INTI_POLARITY_MASK  0x3
#define   MPS_INTI_POLARITY_BUS   0x0
#define   MPS_INTI_POLARITY_HIGH  0x1
#define   MPS_INTI_POLARITY_LOW   0x3
#define MPS_INTI_TRIGGER_MASK   0xC
#define   MPS_INTI_TRIGGER_BUS    0x0
#define   MPS_INTI_TRIGGER_EDGE   0x4
#define   MPS_INTI_TRIGGER_LEVEL  0xC

/* Only CPUs that can run are listed; the boot CPU is among them. */
struct platform_cpu {
	uint32_t apic_id;       /* xAPIC id, or x2APIC id when x2apic */
	uint32_t acpi_uid;      /* ACPI processor UID; MP table: = apic_id */
	bool x2apic;            /* from an x2APIC entry (id may exceed 254) */
	bool enabled;           /* false: online-capable only (hot-plug slot,
				   may not answer INIT/SIPI) */
};

struct platform_ioapic {
	uint8_t id;
	uint32_t addr;          /* physical MMIO base */
	uint32_t gsi_base;      /* GSI of pin 0 */
};

/* ISA IRQ bus_irq is wired to gsi; absent IRQs are identity, edge, high. */
struct platform_override {
	uint8_t bus_irq;
	uint32_t gsi;
	uint16_t flags;         /* MPS_INTI_* */
};

/* LAPIC LINT pin `lint` of the CPU(s) `acpi_uid` is wired to NMI. */
struct platform_nmi {
	uint32_t acpi_uid;      /* PLATFORM_UID_ALL: every CPU; MP table: APIC id */
	uint8_t lint;           /* 0 or 1 */
	uint16_t flags;         /* MPS_INTI_* */
};

struct platform_info {
	const char *source;     /* "ACPI MADT (XSDT)", "ACPI MADT (RSDT)", "MP table" */
	uint64_t lapic_addr;    /* physical xAPIC MMIO base */
	bool pic_present;       /* dual 8259 present: mask it (MADT PCAT_COMPAT;
				   always on MP systems, which are PC/AT compatible) */
	bool imcr_present;      /* MP only: IMCR present, firmware left PIC mode on
				   (MP spec 3.6.2.1: write the IMCR to leave it) */
	bool gsi_base_assumed;  /* MP only, several I/O APICs: gsi_base of all but
				   the first assumes MP_IOAPIC_ASSUMED_PINS pins each;
				   the I/O APIC driver should check the real counts */
	uint32_t ncpu;
	uint32_t skipped_cpus;  /* listed but unusable: disabled, or over the limit */
	struct platform_cpu cpus[PLATFORM_MAX_CPUS];
	uint32_t nioapic;
	struct platform_ioapic ioapics[PLATFORM_MAX_IOAPICS];
	uint32_t noverride;
	struct platform_override overrides[PLATFORM_MAX_OVERRIDES];
	uint32_t nnmi;
	struct platform_nmi nmis[PLATFORM_MAX_NMIS];
};

/* Pins per I/O APIC assumed by the MP parser (82093AA: 24 redirection entries). */
#define MP_IOAPIC_ASSUMED_PINS  24

/*
 * Physical memory accessor: a pointer to the `len` bytes at physical `pa`
 * (any alignment), valid until the parser returns, or NULL when
 * [pa, pa + len) is not entirely readable. The kernel passes a direct-map
 * lookup, host tests serve blobs at fake addresses.
 */
typedef const void *(*phys_read_fn)(uint64_t pa, size_t len, void *ctx);

/*
 * Reports why something was rejected or ignored: one printf-style line,
 * prefixed "acpi: " or "mp: " and ending in "\n". May be NULL (silent).
 * Receives the same ctx as the accessor.
 */
typedef void (*platform_log_fn)(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * All functions below return 0 or a negative errno and report every
 * failure, and every table or entry they skip, through `log` (CPUs the
 * firmware marks unusable are only counted in skipped_cpus). The parsers
 * clear *out first; on an error they leave in it what was parsed before
 * (source is set once the table itself was found valid), so a caller may
 * still use a partial result when nothing better exists.
 *
 * Lenient where Linux is, and loud about it (one line per oddity): a
 * table with a bad checksum is reported (signature, OEM id, the checksum
 * field) and used; a MADT entry with an impossible length ends the parse
 * and the entries before it are kept.
 */

/* ACPI 6.x 5.2.5.1: RSDP in the EBDA's first KiB or 0xE0000-0xFFFFF. -ENOENT. */
int acpi_find_rsdp(phys_read_fn read, void *ctx, uint64_t *rsdp_pa, platform_log_fn log);

/*
 * Fills *out from the MADT found through the RSDP at rsdp_pa (XSDT when
 * valid, else RSDT). Every table the root lists is checked once first, so
 * each of their problems is reported once. -EINVAL: bad RSDP, no valid
 * root table or no usable CPU; -ENOENT: no valid MADT.
 */
int acpi_parse_madt(phys_read_fn read, void *ctx, uint64_t rsdp_pa,
		    struct platform_info *out, platform_log_fn log);

/* The same from a copy of the RSDP (multiboot2 hands over a copy only). */
int acpi_parse_madt_rsdp(phys_read_fn read, void *ctx, const void *rsdp, size_t rsdp_len,
			 struct platform_info *out, platform_log_fn log);

/*
 * Physical address of the first valid table with signature sig (e.g.
 * "FACP", "HPET"). -EINVAL: bad RSDP or root table; -ENOENT: none valid.
 */
int acpi_find_table(phys_read_fn read, void *ctx, uint64_t rsdp_pa, const char sig[4],
		    uint64_t *pa, platform_log_fn log);
int acpi_find_table_rsdp(phys_read_fn read, void *ctx, const void *rsdp, size_t rsdp_len,
			 const char sig[4], uint64_t *pa, platform_log_fn log);

/*
 * The kernel's accessor (arch/x86_64/platform.c): the direct-map address
 * of [pa, pa + len) when all of it is mapped, below or above 4 GiB; NULL
 * otherwise.
 */
const void *platform_phys_read(uint64_t pa, size_t len);

/* MP spec 1.4 4.1: floating pointer in the EBDA, top of base memory or BIOS ROM. -ENOENT. */
int mp_find_floating(phys_read_fn read, void *ctx, uint64_t *mpf_pa, platform_log_fn log);

/*
 * Fills *out from the MP configuration table of the floating pointer at
 * mpf_pa. -EINVAL: bad pointer, table or entry, no usable CPU; -ENOSYS:
 * a default configuration (no table).
 */
int mp_parse(phys_read_fn read, void *ctx, uint64_t mpf_pa,
	     struct platform_info *out, platform_log_fn log);

/* Whether an NMI entry applies to cpu (the NMI may name all CPUs). */
static inline bool platform_nmi_applies(const struct platform_nmi *nmi,
					const struct platform_cpu *cpu)
{
	return nmi->acpi_uid == PLATFORM_UID_ALL || nmi->acpi_uid == cpu->acpi_uid;
}

/* ACPI and MP checksums: all bytes of the structure sum to 0 (mod 256). */
static inline uint8_t platform_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

#endif
