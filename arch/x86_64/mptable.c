/*
 * Intel MultiProcessor Specification 1.4 tables (chapter 4): the floating
 * pointer and the base MP configuration table, the SMP discovery fallback
 * when there is no ACPI MADT. Read through the caller's memory accessor.
 */
#include <arch/platform.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define MPF_SIG                 "_MP_"
#define MPF_PARAGRAPH           16      /* 4.1: aligned, length counted in 16-byte units */
#define MPF_FEATURE2_IMCRP      0x80    /* 4.1 Table 4-1: IMCR present, PIC mode */
#define MPC_SIG                 "PCMP"
#define BDA_EBDA_SEGMENT        0x40E   /* BDA word: real-mode segment of the EBDA */
#define BDA_BASE_MEM_KIB        0x413   /* BDA word: base memory size in KiB */
/* Real-mode base memory is at most 640 KiB; its last KiB then starts at 639 KiB (4.1). */
#define BASE_MEM_MAX_KIB        640
#define MP_SCAN_LEN             1024    /* first/last KiB searched */
#define BIOS_ROM_START          0xF0000
#define BIOS_ROM_END            0x100000
#define REAL_MODE_SEG_SHIFT     4
#define KIB                     1024u

#define MP_CPU_ENABLED          (1u << 0)       /* processor entry: EN */
#define MP_IOAPIC_ENABLED       (1u << 0)       /* I/O APIC entry: EN */
#define MP_IOAPIC_ALL           0xFF            /* interrupt entry: every I/O APIC */
#define MP_LAPIC_ALL            0xFF            /* broadcast: every CPU, never one CPU's id */
#define MP_BUS_ISA              "ISA   "        /* Table 4-8: blank padded */
#define MP_BUS_TYPE_LEN         6
#define MP_MAX_BUSES            256             /* bus ids are bytes */
#define LAPIC_LINT_MAX          1

enum mp_entry_type { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IO_INT, MP_LOCAL_INT, MP_NTYPES };
/* Table 4-3: the length of each base table entry is fixed by its type. */
static const uint8_t mp_entry_len[MP_NTYPES] = { 20, 8, 8, 8, 8 };

enum mp_int_type { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };     /* Table 4-11 */

struct mp_floating {
	char sig[4];
	uint32_t config;                /* physical address of the table, 0: none */
	uint8_t length;                 /* in 16-byte paragraphs */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature1;               /* != 0: default configuration number */
	uint8_t feature2;
	uint8_t feature3_5[3];
} __attribute__((packed));
_Static_assert(sizeof(struct mp_floating) == MPF_PARAGRAPH, "MP floating pointer (4.1)");

struct mp_config {
	char sig[4];
	uint16_t base_length;           /* header and base entries */
	uint8_t spec_rev;
	uint8_t checksum;               /* over base_length bytes */
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mp_config) == 44, "MP configuration table header (4.2)");

struct mp_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;                  /* MP_CPU_* */
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t id;
	char bus_type[MP_BUS_TYPE_LEN];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;                  /* MP_IOAPIC_* */
	uint32_t addr;
} __attribute__((packed));

/* I/O interrupt (type 3: dst = I/O APIC id, INTIN#) and local interrupt (4: LAPIC id, LINTIN#). */
struct mp_interrupt {
	uint8_t type;
	uint8_t int_type;               /* enum mp_int_type */
	uint16_t flags;                 /* MPS_INTI_* */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_id;
	uint8_t dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry (4.3.1)");
_Static_assert(sizeof(struct mp_bus) == 8, "MP bus entry (4.3.2)");
_Static_assert(sizeof(struct mp_ioapic) == 8, "MP I/O APIC entry (4.3.3)");
_Static_assert(sizeof(struct mp_interrupt) == 8, "MP interrupt entries (4.3.4, 4.3.5)");

struct mp_env {
	phys_read_fn read;
	void *ctx;
	platform_log_fn log;
};

#define mp_report(env, fmt, ...) do { \
	if ((env)->log) \
		(env)->log((env)->ctx, "mp: " fmt "\n", ##__VA_ARGS__); \
} while (0)

static const void *mp_read(const struct mp_env *env, uint64_t pa, size_t len)
{
	if (len == 0 || pa + len < pa)  /* empty or wrapping past 2^64 */
		return NULL;
	return env->read(pa, len, env->ctx);
}

static uint16_t mp_read_bda16(const struct mp_env *env, uint64_t pa)
{
	const void *p = mp_read(env, pa, sizeof(uint16_t));
	uint16_t v = 0;

	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

/* Why the floating pointer at pa is unusable, or NULL; *mpf = it when readable. */
static const char *mp_floating_problem(const struct mp_env *env, uint64_t pa,
				       const struct mp_floating **mpf)
{
	const struct mp_floating *f = mp_read(env, pa, sizeof *f);
	size_t len;

	*mpf = f;
	if (!f)
		return "not readable";
	if (memcmp(f->sig, MPF_SIG, sizeof f->sig) != 0)
		return "bad signature";
	if (f->length == 0)
		return "length 0";
	/* The checksum covers `length` paragraphs; 4.1 only defines length 1. */
	len = (size_t)f->length * MPF_PARAGRAPH;
	f = mp_read(env, pa, len);
	if (!f)
		return "length runs past readable memory";
	if (platform_checksum(f, len) != 0)
		return "bad checksum";
	return NULL;
}

static bool mp_scan(const struct mp_env *env, uint64_t start, uint64_t end, uint64_t *found)
{
	for (uint64_t pa = start; pa < end; pa += MPF_PARAGRAPH) {
		const struct mp_floating *f = mp_read(env, pa, sizeof f->sig);
		const char *why;

		if (!f || memcmp(f->sig, MPF_SIG, sizeof f->sig) != 0)
			continue;
		why = mp_floating_problem(env, pa, &f);
		if (!why) {
			*found = pa;
			return true;
		}
		mp_report(env, "floating pointer candidate at %#llx: %s",
			  (unsigned long long)pa, why);
	}
	return false;
}

int mp_find_floating(phys_read_fn read, void *ctx, uint64_t *mpf_pa, platform_log_fn log)
{
	const struct mp_env env = { read, ctx, log };
	uint64_t ebda = (uint64_t)mp_read_bda16(&env, BDA_EBDA_SEGMENT) << REAL_MODE_SEG_SHIFT;
	uint64_t base_kib = mp_read_bda16(&env, BDA_BASE_MEM_KIB);
	uint64_t top;

	if (base_kib == 0 || base_kib > BASE_MEM_MAX_KIB)      /* BDA absent or garbage */
		base_kib = BASE_MEM_MAX_KIB;
	top = base_kib * KIB - MP_SCAN_LEN;
	if (ebda && mp_scan(&env, ebda, ebda + MP_SCAN_LEN, mpf_pa))
		return 0;
	/* The EBDA may be that last KiB: do not search (and report) twice. */
	if (top != ebda && mp_scan(&env, top, top + MP_SCAN_LEN, mpf_pa))
		return 0;
	if (mp_scan(&env, BIOS_ROM_START, BIOS_ROM_END, mpf_pa))
		return 0;
	mp_report(&env, "no floating pointer in the EBDA, base memory top or BIOS ROM");
	return -ENOENT;
}

/* ---------------------------------------------------------------- configuration table */

struct mp_state {
	const struct mp_env *env;
	struct platform_info *out;
	uint8_t isa_bus[MP_MAX_BUSES / 8];      /* bitmap of bus ids whose type is ISA */
	bool cpus_full_reported;
};

static bool mp_is_isa(const struct mp_state *st, uint8_t bus)
{
	return st->isa_bus[bus / 8] & (1u << (bus % 8));
}

static void mp_bus(struct mp_state *st, const struct mp_bus *e)
{
	if (memcmp(e->bus_type, MP_BUS_ISA, MP_BUS_TYPE_LEN) == 0)
		st->isa_bus[e->id / 8] |= (uint8_t)(1u << (e->id % 8));
}

/*
 * MP tables carry no GSI numbers: an I/O APIC's inputs follow those of the
 * I/O APICs listed before it (as Linux numbers them). Without reading each
 * I/O APIC's version register the pin counts are assumed (see the header).
 */
static void mp_ioapic(struct mp_state *st, const struct mp_ioapic *e)
{
	struct platform_info *out = st->out;

	if (!(e->flags & MP_IOAPIC_ENABLED)) {
		mp_report(st->env, "I/O APIC %u at %#x disabled, skipped", e->id, e->addr);
		return;
	}
	for (uint32_t i = 0; i < out->nioapic; i++) {
		if (out->ioapics[i].id == e->id) {
			mp_report(st->env, "duplicate I/O APIC id %u ignored", e->id);
			return;
		}
	}
	if (out->nioapic == PLATFORM_MAX_IOAPICS) {
		mp_report(st->env, "I/O APIC %u at %#x: more than %d, skipped", e->id, e->addr,
			  PLATFORM_MAX_IOAPICS);
		return;
	}
	out->ioapics[out->nioapic] = (struct platform_ioapic){
		.id = e->id, .addr = e->addr, .gsi_base = out->nioapic * MP_IOAPIC_ASSUMED_PINS,
	};
	out->nioapic++;
	out->gsi_base_assumed = out->nioapic > 1;
}

static void mp_processor(struct mp_state *st, const struct mp_processor *e)
{
	struct platform_info *out = st->out;

	if (!(e->flags & MP_CPU_ENABLED)) {
		out->skipped_cpus++;
		return;
	}
	if (e->apic_id == MP_LAPIC_ALL) {
		mp_report(st->env, "processor with the broadcast APIC id %#x skipped", e->apic_id);
		out->skipped_cpus++;
		return;
	}
	for (uint32_t i = 0; i < out->ncpu; i++) {
		if (out->cpus[i].apic_id == e->apic_id) {
			mp_report(st->env, "duplicate APIC id %u ignored", e->apic_id);
			return;
		}
	}
	if (out->ncpu == PLATFORM_MAX_CPUS) {
		if (!st->cpus_full_reported)
			mp_report(st->env, "more than %d CPUs, the rest are skipped",
				  PLATFORM_MAX_CPUS);
		st->cpus_full_reported = true;
		out->skipped_cpus++;
		return;
	}
	/* No ACPI UIDs here: NMI entries name CPUs by APIC id, so the UID is the id. */
	out->cpus[out->ncpu++] = (struct platform_cpu){
		.apic_id = e->apic_id, .acpi_uid = e->apic_id, .enabled = true,
	};
}

static const struct platform_ioapic *mp_find_ioapic(const struct platform_info *out, uint8_t id)
{
	for (uint32_t i = 0; i < out->nioapic; i++)
		if (id == MP_IOAPIC_ALL || out->ioapics[i].id == id)
			return &out->ioapics[i];
	return NULL;
}

/*
 * An ISA interrupt becomes an override when it does not arrive on the pin
 * of its own number or with flags other than "conforms to the bus", the
 * same rule as MADT overrides (absent = identity, ISA defaults).
 */
static void mp_io_interrupt(struct mp_state *st, const struct mp_interrupt *e)
{
	struct platform_info *out = st->out;
	const struct platform_ioapic *io;
	uint32_t gsi;

	if (e->int_type != MP_INT || !mp_is_isa(st, e->src_bus))
		return;
	io = mp_find_ioapic(out, e->dst_id);
	if (!io) {
		mp_report(st->env, "ISA IRQ %u: no I/O APIC %u, ignored", e->src_irq, e->dst_id);
		return;
	}
	gsi = io->gsi_base + e->dst_pin;
	if (gsi == e->src_irq && e->flags == 0)
		return;
	for (uint32_t i = 0; i < out->noverride; i++) {
		if (out->overrides[i].bus_irq == e->src_irq) {
			mp_report(st->env, "duplicate assignment of ISA IRQ %u ignored", e->src_irq);
			return;
		}
	}
	if (out->noverride == PLATFORM_MAX_OVERRIDES) {
		mp_report(st->env, "ISA IRQ %u: more than %d overrides, skipped", e->src_irq,
			  PLATFORM_MAX_OVERRIDES);
		return;
	}
	out->overrides[out->noverride++] = (struct platform_override){
		.bus_irq = e->src_irq, .gsi = gsi, .flags = e->flags,
	};
}

static void mp_local_interrupt(struct mp_state *st, const struct mp_interrupt *e)
{
	struct platform_info *out = st->out;

	if (e->int_type != MP_NMI)
		return;
	if (e->dst_pin > LAPIC_LINT_MAX) {
		mp_report(st->env, "NMI on LINT%u of APIC %u: no such pin, ignored", e->dst_pin,
			  e->dst_id);
		return;
	}
	if (out->nnmi == PLATFORM_MAX_NMIS) {
		mp_report(st->env, "NMI on LINT%u of APIC %u: more than %d, skipped", e->dst_pin,
			  e->dst_id, PLATFORM_MAX_NMIS);
		return;
	}
	out->nmis[out->nnmi++] = (struct platform_nmi){
		.acpi_uid = e->dst_id == MP_LAPIC_ALL ? PLATFORM_UID_ALL : e->dst_id,
		.lint = e->dst_pin, .flags = e->flags,
	};
}

/*
 * Counts the well-formed entries of the base table (fixed length per type,
 * within base_length). *count = how many precede the first bad one.
 */
static int mp_check_entries(const struct mp_state *st, const struct mp_config *cfg,
			    uint16_t *count)
{
	const uint8_t *p = (const uint8_t *)(cfg + 1);
	size_t off = sizeof *cfg;

	for (*count = 0; *count < cfg->entry_count; (*count)++) {
		uint8_t type;

		if (off >= cfg->base_length) {
			mp_report(st->env, "%u entries fit in the table, %u announced, parsing stopped",
				  *count, cfg->entry_count);
			return -EINVAL;
		}
		type = *p;
		if (type >= MP_NTYPES || mp_entry_len[type] > cfg->base_length - off) {
			mp_report(st->env, "entry %u at offset %zu: %s type %u, parsing stopped",
				  *count, off, type >= MP_NTYPES ? "unknown" : "truncated", type);
			return -EINVAL;
		}
		off += mp_entry_len[type];
		p += mp_entry_len[type];
	}
	return 0;
}

/* Pass 1: what interrupt entries refer to. */
static void mp_topology_entry(struct mp_state *st, const uint8_t *e)
{
	if (*e == MP_BUS)
		mp_bus(st, (const struct mp_bus *)e);
	else if (*e == MP_IOAPIC)
		mp_ioapic(st, (const struct mp_ioapic *)e);
}

/* Pass 2: CPUs and interrupt wiring. */
static void mp_wiring_entry(struct mp_state *st, const uint8_t *e)
{
	if (*e == MP_PROCESSOR)
		mp_processor(st, (const struct mp_processor *)e);
	else if (*e == MP_IO_INT)
		mp_io_interrupt(st, (const struct mp_interrupt *)e);
	else if (*e == MP_LOCAL_INT)
		mp_local_interrupt(st, (const struct mp_interrupt *)e);
}

/* Calls fn for each of the first `count` entries (all checked well-formed). */
static void mp_for_each(struct mp_state *st, const struct mp_config *cfg, uint16_t count,
			void (*fn)(struct mp_state *st, const uint8_t *entry))
{
	const uint8_t *p = (const uint8_t *)(cfg + 1);

	for (uint16_t i = 0; i < count; i++) {
		fn(st, p);
		p += mp_entry_len[*p];
	}
}

/* The base configuration table at pa if its header, length and checksum are sound. */
static const struct mp_config *mp_map_config(const struct mp_env *env, uint64_t pa)
{
	const struct mp_config *cfg = mp_read(env, pa, sizeof *cfg);
	unsigned long long a = pa;

	if (!cfg) {
		mp_report(env, "configuration table at %#llx: not readable", a);
		return NULL;
	}
	if (memcmp(cfg->sig, MPC_SIG, sizeof cfg->sig) != 0) {
		mp_report(env, "configuration table at %#llx: bad signature", a);
		return NULL;
	}
	if (cfg->base_length < sizeof *cfg) {
		mp_report(env, "configuration table at %#llx: length %u shorter than its header",
			  a, cfg->base_length);
		return NULL;
	}
	cfg = mp_read(env, pa, cfg->base_length);
	if (!cfg) {
		mp_report(env, "configuration table at %#llx: length runs past readable memory", a);
		return NULL;
	}
	if (platform_checksum(cfg, cfg->base_length) != 0) {
		mp_report(env, "configuration table at %#llx: bad checksum", a);
		return NULL;
	}
	return cfg;
}

int mp_parse(phys_read_fn read, void *ctx, uint64_t mpf_pa,
	     struct platform_info *out, platform_log_fn log)
{
	const struct mp_env env = { read, ctx, log };
	struct mp_state st = { .env = &env, .out = out };
	const struct mp_floating *mpf;
	const struct mp_config *cfg;
	const char *why = mp_floating_problem(&env, mpf_pa, &mpf);
	uint16_t count;
	int rc;

	memset(out, 0, sizeof *out);
	if (why) {
		mp_report(&env, "floating pointer at %#llx: %s", (unsigned long long)mpf_pa, why);
		return -EINVAL;
	}
	if (mpf->feature1 != 0) {
		mp_report(&env, "default configuration %u (no table) not supported", mpf->feature1);
		return -ENOSYS;
	}
	if (mpf->config == 0) {
		mp_report(&env, "floating pointer without a configuration table");
		return -EINVAL;
	}
	cfg = mp_map_config(&env, mpf->config);
	if (!cfg)
		return -EINVAL;
	out->source = "MP table";
	out->lapic_addr = cfg->lapic_addr;
	out->pic_present = true;        /* the MP spec requires PC/AT compatible hardware */
	out->imcr_present = mpf->feature2 & MPF_FEATURE2_IMCRP;
	rc = mp_check_entries(&st, cfg, &count);
	/*
	 * Buses and I/O APICs first: interrupt entries refer to them. 4.3
	 * sorts entries by type, but a table that does not is still read.
	 */
	mp_for_each(&st, cfg, count, mp_topology_entry);
	mp_for_each(&st, cfg, count, mp_wiring_entry);
	if (!rc && out->ncpu == 0) {
		mp_report(&env, "table lists no usable CPU");
		rc = -EINVAL;
	}
	return rc;
}
