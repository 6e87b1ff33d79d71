/*
 * ACPI tables for SMP discovery: RSDP (ACPI 6.x 5.2.5), RSDT/XSDT (5.2.7,
 * 5.2.8) and the MADT (5.2.12), read through the caller's physical memory
 * accessor. Every structure is validated and every oddity reported once;
 * bad checksums and a damaged MADT tail are tolerated (platform.h).
 */
#include <arch/platform.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define RSDP_SIG                "RSD PTR "
#define RSDP_SIG_LEN            8
#define RSDP_V1_LEN             20      /* bytes the first checksum covers */
#define RSDP_REV_XSDT           2       /* ACPI 2.0+: length, XSDT, extended checksum */
#define RSDP_ALIGN              16      /* 5.2.5.1: on a 16-byte boundary */
#define BDA_EBDA_SEGMENT        0x40E   /* BDA word: real-mode segment of the EBDA */
#define EBDA_SCAN_LEN           1024    /* 5.2.5.1: first KiB of the EBDA */
#define BIOS_ROM_START          0xE0000
#define BIOS_ROM_END            0x100000
#define REAL_MODE_SEG_SHIFT     4

#define MADT_PCAT_COMPAT        (1u << 0)       /* MADT flags: dual 8259 present */
#define MADT_CPU_ENABLED        (1u << 0)       /* LAPIC / x2APIC flags */
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
/* The online-capable bit exists since MADT revision 5 (ACPI 6.3); before it was reserved. */
#define MADT_REV_ONLINE_CAPABLE 5
#define MADT_XAPIC_ID_INVALID   0xFF            /* broadcast id, never a CPU */
#define MADT_X2APIC_ID_INVALID  0xFFFFFFFFu
#define MADT_UID8_ALL           0xFF            /* LAPIC NMI: every processor */
#define MADT_ISA_BUS            0               /* 5.2.12.5: bus is always 0, ISA */
#define LAPIC_LINT_MAX          1

enum madt_type {
	MADT_LAPIC              = 0x0,
	MADT_IOAPIC             = 0x1,
	MADT_ISO                = 0x2,  /* interrupt source override */
	MADT_LAPIC_NMI          = 0x4,
	MADT_LAPIC_ADDR         = 0x5,  /* 64-bit local APIC address override */
	MADT_X2APIC             = 0x9,
	MADT_X2APIC_NMI         = 0xA,
};

struct acpi_rsdp {
	char sig[RSDP_SIG_LEN];
	uint8_t checksum;               /* over the first RSDP_V1_LEN bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	/* revision >= RSDP_REV_XSDT only: */
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;           /* over `length` bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout (5.2.5.3)");
_Static_assert(__builtin_offsetof(struct acpi_rsdp, length) == RSDP_V1_LEN, "RSDP v1 part");

struct acpi_sdt {
	char sig[4];
	uint32_t length;                /* whole table, header included */
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_sdt) == 36, "SDT header layout (5.2.6)");

struct acpi_madt {
	struct acpi_sdt h;
	uint32_t lapic_addr;
	uint32_t flags;
	/* interrupt controller structures follow */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout (5.2.12)");

struct madt_entry {
	uint8_t type;
	uint8_t length;
} __attribute__((packed));

struct madt_lapic {
	struct madt_entry e;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	struct madt_entry e;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	struct madt_entry e;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	struct madt_entry e;
	uint8_t uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

struct madt_lapic_addr {
	struct madt_entry e;
	uint16_t reserved;
	uint64_t addr;
} __attribute__((packed));

struct madt_x2apic {
	struct madt_entry e;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __attribute__((packed));

struct madt_x2apic_nmi {
	struct madt_entry e;
	uint16_t flags;
	uint32_t uid;
	uint8_t lint;
	uint8_t reserved[3];
} __attribute__((packed));

_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC (5.2.12.2)");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC (5.2.12.3)");
_Static_assert(sizeof(struct madt_iso) == 10, "MADT override (5.2.12.5)");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI (5.2.12.7)");
_Static_assert(sizeof(struct madt_lapic_addr) == 12, "MADT LAPIC address (5.2.12.8)");
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT x2APIC (5.2.12.12)");
_Static_assert(sizeof(struct madt_x2apic_nmi) == 12, "MADT x2APIC NMI (5.2.12.13)");

/* The caller's accessor and log, passed around together. */
struct acpi_env {
	phys_read_fn read;
	void *ctx;
	platform_log_fn log;
};

#define acpi_report(env, fmt, ...) do { \
	if ((env)->log) \
		(env)->log((env)->ctx, "acpi: " fmt "\n", ##__VA_ARGS__); \
} while (0)

/* Where the root tables are, from a valid RSDP. */
struct acpi_roots {
	uint32_t rsdt;
	uint64_t xsdt;                  /* 0: absent or not to be trusted */
};

/* The root table in use: `count` physical addresses of `width` bytes. */
struct acpi_root {
	const uint8_t *entries;
	size_t count;
	size_t width;
	const char *source;             /* platform_info.source when the MADT comes from it */
};

static const void *acpi_read(const struct acpi_env *env, uint64_t pa, size_t len)
{
	if (len == 0 || pa + len < pa)  /* empty or wrapping past 2^64 */
		return NULL;
	return env->read(pa, len, env->ctx);
}

/*
 * Reads the RSDP at pa: the v1 part, plus the extended part when the
 * revision has one and it is readable. *avail = bytes returned.
 */
static const struct acpi_rsdp *acpi_rsdp_read(const struct acpi_env *env, uint64_t pa,
					      size_t *avail)
{
	const struct acpi_rsdp *v1 = acpi_read(env, pa, RSDP_V1_LEN), *v2, *full;

	*avail = RSDP_V1_LEN;
	if (!v1 || v1->revision < RSDP_REV_XSDT)
		return v1;
	v2 = acpi_read(env, pa, sizeof *v2);
	if (!v2)
		return v1;
	*avail = sizeof *v2;
	if (v2->length <= sizeof *v2 || !(full = acpi_read(env, pa, v2->length)))
		return v2;
	*avail = v2->length;
	return full;
}

/* Why the v1 part of an RSDP is unusable, or NULL (5.2.5.3). */
static const char *acpi_rsdp_v1_problem(const struct acpi_rsdp *r, size_t avail)
{
	if (avail < RSDP_V1_LEN)
		return "shorter than 20 bytes";
	if (memcmp(r->sig, RSDP_SIG, RSDP_SIG_LEN) != 0)
		return "bad signature";
	if (platform_checksum(r, RSDP_V1_LEN) != 0)
		return "bad checksum";
	return NULL;
}

/* Why the extended (revision >= 2) part is unusable, or NULL. */
static const char *acpi_rsdp_v2_problem(const struct acpi_rsdp *r, size_t avail)
{
	if (avail < sizeof *r)
		return "extended part not readable";
	if (r->length < sizeof *r)
		return "length shorter than 36 bytes";
	if (r->length > avail)
		return "length runs past readable memory";
	if (platform_checksum(r, r->length) != 0)
		return "bad extended checksum";
	return NULL;
}

/* Fills *roots from an RSDP copy; the XSDT only when the extended part is sound. */
static int acpi_rsdp_decode(const struct acpi_env *env, const void *rsdp, size_t avail,
			    struct acpi_roots *roots)
{
	const struct acpi_rsdp *r = rsdp;
	const char *why = acpi_rsdp_v1_problem(r, avail);

	if (why) {
		acpi_report(env, "RSDP: %s", why);
		return -EINVAL;
	}
	roots->rsdt = r->rsdt;
	roots->xsdt = 0;
	if (r->revision < RSDP_REV_XSDT)
		return 0;
	why = acpi_rsdp_v2_problem(r, avail);
	if (why)
		acpi_report(env, "RSDP revision %u: %s, using the RSDT", r->revision, why);
	else
		roots->xsdt = r->xsdt;
	return 0;
}

/* A scan candidate must be entirely valid, the extended part included. */
static bool acpi_rsdp_candidate(const struct acpi_env *env, uint64_t pa)
{
	size_t avail;
	const struct acpi_rsdp *r = acpi_rsdp_read(env, pa, &avail);
	const char *why;

	if (!r || memcmp(r->sig, RSDP_SIG, RSDP_SIG_LEN) != 0)
		return false;
	why = acpi_rsdp_v1_problem(r, avail);
	if (!why && r->revision >= RSDP_REV_XSDT)
		why = acpi_rsdp_v2_problem(r, avail);
	if (why)
		acpi_report(env, "RSDP candidate at %#llx: %s", (unsigned long long)pa, why);
	return !why;
}

static bool acpi_scan(const struct acpi_env *env, uint64_t start, uint64_t end, uint64_t *found)
{
	for (uint64_t pa = start; pa < end; pa += RSDP_ALIGN) {
		if (acpi_rsdp_candidate(env, pa)) {
			*found = pa;
			return true;
		}
	}
	return false;
}

int acpi_find_rsdp(phys_read_fn read, void *ctx, uint64_t *rsdp_pa, platform_log_fn log)
{
	const struct acpi_env env = { read, ctx, log };
	const void *bda = acpi_read(&env, BDA_EBDA_SEGMENT, sizeof(uint16_t));
	uint16_t seg = 0;
	uint64_t ebda;

	if (bda)
		memcpy(&seg, bda, sizeof seg);
	ebda = (uint64_t)seg << REAL_MODE_SEG_SHIFT;
	if (ebda && acpi_scan(&env, ebda, ebda + EBDA_SCAN_LEN, rsdp_pa))
		return 0;
	if (acpi_scan(&env, BIOS_ROM_START, BIOS_ROM_END, rsdp_pa))
		return 0;
	acpi_report(&env, "no RSDP in the EBDA or 0xE0000-0xFFFFF");
	return -ENOENT;
}

/* The OEM id for a message: printable, trailing blanks dropped. */
static void acpi_oem(const struct acpi_sdt *t, char out[sizeof t->oem_id + 1])
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof t->oem_id; i++)
		out[n++] = t->oem_id[i] >= ' ' && t->oem_id[i] < 0x7F ? t->oem_id[i] : '?';
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/*
 * The table at pa if its signature and length are sound (5.2.6). A bad
 * checksum is reported and the table used anyway, as Linux does: firmware
 * that edits a table in place and forgets the checksum is common, and the
 * parsers check every field they use.
 */
static const struct acpi_sdt *acpi_map_table(const struct acpi_env *env, uint64_t pa,
					     const char sig[4])
{
	const struct acpi_sdt *t = acpi_read(env, pa, sizeof *t);
	unsigned long long a = pa;
	uint8_t sum;

	if (!t) {
		acpi_report(env, "%.4s at %#llx: not readable", sig, a);
		return NULL;
	}
	if (memcmp(t->sig, sig, 4) != 0) {
		acpi_report(env, "%.4s at %#llx: bad signature", sig, a);
		return NULL;
	}
	if (t->length < sizeof *t) {
		acpi_report(env, "%.4s at %#llx: length %u shorter than its header", sig, a,
			    t->length);
		return NULL;
	}
	t = acpi_read(env, pa, t->length);
	if (!t) {
		acpi_report(env, "%.4s at %#llx: length runs past readable memory", sig, a);
		return NULL;
	}
	sum = platform_checksum(t, t->length);
	if (sum != 0) {
		char oem[sizeof t->oem_id + 1];

		acpi_oem(t, oem);
		acpi_report(env, "%.4s (OEM '%s') at %#llx: bad checksum (field 0x%02x, bytes "
			    "sum to 0x%02x), used anyway", sig, oem, a, t->checksum, sum);
	}
	return t;
}

static bool acpi_root_open(const struct acpi_env *env, uint64_t pa, const char sig[4],
			   size_t width, const char *source, struct acpi_root *root)
{
	const struct acpi_sdt *t = acpi_map_table(env, pa, sig);

	if (!t)
		return false;
	if ((t->length - sizeof *t) % width)
		acpi_report(env, "%.4s: trailing partial entry ignored", sig);
	root->entries = (const uint8_t *)(t + 1);
	root->count = (t->length - sizeof *t) / width;
	root->width = width;
	root->source = source;
	return true;
}

/* The XSDT when the RSDP offers a valid one (5.2.5.3), else the RSDT. */
static int acpi_root_select(const struct acpi_env *env, const struct acpi_roots *roots,
			    struct acpi_root *root)
{
	if (roots->xsdt) {
		if (acpi_root_open(env, roots->xsdt, "XSDT", sizeof(uint64_t),
				   "ACPI MADT (XSDT)", root))
			return 0;
		acpi_report(env, "falling back to the RSDT");
	}
	if (roots->rsdt && acpi_root_open(env, roots->rsdt, "RSDT", sizeof(uint32_t),
					  "ACPI MADT (RSDT)", root))
		return 0;
	acpi_report(env, "no valid root table (RSDT %#x)", roots->rsdt);
	return -EINVAL;
}

static const char *acpi_root_name(const struct acpi_root *root)
{
	return root->width == sizeof(uint64_t) ? "XSDT" : "RSDT";
}

/* Whether a signature looks like one: four of A-Z, 0-9 and '_' (5.2.6). */
static bool acpi_sig_plausible(const char sig[4])
{
	for (int i = 0; i < 4; i++)
		if (!((sig[i] >= 'A' && sig[i] <= 'Z') || (sig[i] >= '0' && sig[i] <= '9') ||
		      sig[i] == '_'))
			return false;
	return true;
}

/* Root entry i: its address and readable header, or NULL (reported). */
static const struct acpi_sdt *acpi_root_entry(const struct acpi_env *env,
					      const struct acpi_root *root, size_t i,
					      uint64_t *pa)
{
	uint64_t entry = 0;
	const struct acpi_sdt *h;

	/* Little-endian, unaligned: copy the low `width` bytes. */
	memcpy(&entry, root->entries + i * root->width, root->width);
	h = entry ? acpi_read(env, entry, sizeof *h) : NULL;
	if (!h)
		acpi_report(env, "%s entry %zu (%#llx): not readable, skipped",
			    acpi_root_name(root), i, (unsigned long long)entry);
	*pa = entry;
	return h;
}

/*
 * Every table the root lists, checked once, so that each oddity (a pointer
 * to nowhere, no table at the address, a bad length or checksum) is
 * reported exactly once however many lookups follow.
 */
static void acpi_survey(const struct acpi_env *env, const struct acpi_root *root)
{
	for (size_t i = 0; i < root->count; i++) {
		uint64_t pa;
		const struct acpi_sdt *h = acpi_root_entry(env, root, i, &pa);
		char sig[4];

		if (!h)
			continue;
		memcpy(sig, h->sig, sizeof sig);
		if (!acpi_sig_plausible(sig)) {
			acpi_report(env, "%s entry %zu (%#llx): no table there (signature bytes "
				    "%02x %02x %02x %02x), skipped", acpi_root_name(root), i,
				    (unsigned long long)pa, (uint8_t)sig[0], (uint8_t)sig[1],
				    (uint8_t)sig[2], (uint8_t)sig[3]);
			continue;
		}
		acpi_map_table(env, pa, sig);
	}
}

/* First usable table with signature sig in the root: *pa, *table. */
static int acpi_root_find(const struct acpi_env *env, const struct acpi_root *root,
			  const char sig[4], uint64_t *pa, const struct acpi_sdt **table)
{
	for (size_t i = 0; i < root->count; i++) {
		const struct acpi_sdt *h = acpi_root_entry(env, root, i, pa);

		if (h && memcmp(h->sig, sig, 4) == 0 && (*table = acpi_map_table(env, *pa, sig)))
			return 0;
	}
	return -ENOENT;
}

/* First usable table with signature sig listed by the root table: *pa, *table. */
static int acpi_lookup(const struct acpi_env *env, const struct acpi_roots *roots,
		       const char sig[4], uint64_t *pa, const struct acpi_sdt **table,
		       struct acpi_root *root)
{
	int rc = acpi_root_select(env, roots, root);

	if (rc)
		return rc;
	if (acpi_root_find(env, root, sig, pa, table) == 0)
		return 0;
	acpi_report(env, "no valid %.4s table", sig);
	return -ENOENT;
}

int acpi_find_table_rsdp(phys_read_fn read, void *ctx, const void *rsdp, size_t rsdp_len,
			 const char sig[4], uint64_t *pa, platform_log_fn log)
{
	const struct acpi_env env = { read, ctx, log };
	const struct acpi_sdt *table;
	struct acpi_root root;
	struct acpi_roots roots;
	int rc = acpi_rsdp_decode(&env, rsdp, rsdp_len, &roots);

	return rc ? rc : acpi_lookup(&env, &roots, sig, pa, &table, &root);
}

int acpi_find_table(phys_read_fn read, void *ctx, uint64_t rsdp_pa, const char sig[4],
		    uint64_t *pa, platform_log_fn log)
{
	const struct acpi_env env = { read, ctx, log };
	size_t avail;
	const struct acpi_rsdp *r = acpi_rsdp_read(&env, rsdp_pa, &avail);

	if (!r) {
		acpi_report(&env, "RSDP at %#llx: not readable", (unsigned long long)rsdp_pa);
		return -EINVAL;
	}
	return acpi_find_table_rsdp(read, ctx, r, avail, sig, pa, log);
}

/* ---------------------------------------------------------------- MADT */

struct madt_state {
	const struct acpi_env *env;
	struct platform_info *out;
	bool online_capable_defined;    /* MADT revision >= MADT_REV_ONLINE_CAPABLE */
	bool cpus_full_reported;
};

static void madt_add_cpu(struct madt_state *st, uint32_t apic_id, uint32_t uid,
			 uint32_t flags, bool x2apic, uint32_t invalid_id)
{
	struct platform_info *out = st->out;
	bool enabled = flags & MADT_CPU_ENABLED;

	/* 5.2.12.2: neither enabled nor online-capable means "ignore this entry". */
	if (!enabled && !(st->online_capable_defined && (flags & MADT_CPU_ONLINE_CAPABLE))) {
		out->skipped_cpus++;
		return;
	}
	if (apic_id == invalid_id) {
		acpi_report(st->env, "CPU UID %u: invalid APIC id %#x, skipped", uid, apic_id);
		out->skipped_cpus++;
		return;
	}
	for (uint32_t i = 0; i < out->ncpu; i++) {
		if (out->cpus[i].apic_id == apic_id) {
			acpi_report(st->env, "CPU UID %u: duplicate APIC id %u ignored", uid, apic_id);
			return;
		}
	}
	if (out->ncpu == PLATFORM_MAX_CPUS) {
		if (!st->cpus_full_reported)
			acpi_report(st->env, "more than %d CPUs, the rest are skipped",
				    PLATFORM_MAX_CPUS);
		st->cpus_full_reported = true;
		out->skipped_cpus++;
		return;
	}
	out->cpus[out->ncpu++] = (struct platform_cpu){
		.apic_id = apic_id, .acpi_uid = uid, .x2apic = x2apic, .enabled = enabled,
	};
}

static void madt_lapic(struct madt_state *st, const void *entry)
{
	const struct madt_lapic *e = entry;

	madt_add_cpu(st, e->apic_id, e->uid, e->flags, false, MADT_XAPIC_ID_INVALID);
}

static void madt_x2apic(struct madt_state *st, const void *entry)
{
	const struct madt_x2apic *e = entry;

	madt_add_cpu(st, e->x2apic_id, e->uid, e->flags, true, MADT_X2APIC_ID_INVALID);
}

static void madt_ioapic(struct madt_state *st, const void *entry)
{
	const struct madt_ioapic *e = entry;
	struct platform_info *out = st->out;

	for (uint32_t i = 0; i < out->nioapic; i++) {
		if (out->ioapics[i].id == e->id) {
			acpi_report(st->env, "duplicate I/O APIC id %u ignored", e->id);
			return;
		}
	}
	if (out->nioapic == PLATFORM_MAX_IOAPICS) {
		acpi_report(st->env, "I/O APIC %u at %#x: more than %d, skipped", e->id, e->addr,
			    PLATFORM_MAX_IOAPICS);
		return;
	}
	out->ioapics[out->nioapic++] = (struct platform_ioapic){
		.id = e->id, .addr = e->addr, .gsi_base = e->gsi_base,
	};
}

static void madt_iso(struct madt_state *st, const void *entry)
{
	const struct madt_iso *e = entry;
	struct platform_info *out = st->out;

	if (e->bus != MADT_ISA_BUS) {
		acpi_report(st->env, "override of IRQ %u on bus %u (not ISA) ignored", e->source,
			    e->bus);
		return;
	}
	for (uint32_t i = 0; i < out->noverride; i++) {
		if (out->overrides[i].bus_irq == e->source) {
			acpi_report(st->env, "duplicate override of IRQ %u ignored", e->source);
			return;
		}
	}
	if (out->noverride == PLATFORM_MAX_OVERRIDES) {
		acpi_report(st->env, "override of IRQ %u: more than %d, skipped", e->source,
			    PLATFORM_MAX_OVERRIDES);
		return;
	}
	out->overrides[out->noverride++] = (struct platform_override){
		.bus_irq = e->source, .gsi = e->gsi, .flags = e->flags,
	};
}

static void madt_add_nmi(struct madt_state *st, uint32_t uid, uint8_t lint, uint16_t flags)
{
	struct platform_info *out = st->out;

	if (lint > LAPIC_LINT_MAX) {
		acpi_report(st->env, "NMI on LINT%u of UID %#x: no such pin, ignored", lint, uid);
		return;
	}
	if (out->nnmi == PLATFORM_MAX_NMIS) {
		acpi_report(st->env, "NMI on LINT%u of UID %#x: more than %d, skipped", lint, uid,
			    PLATFORM_MAX_NMIS);
		return;
	}
	out->nmis[out->nnmi++] = (struct platform_nmi){
		.acpi_uid = uid, .lint = lint, .flags = flags,
	};
}

static void madt_lapic_nmi(struct madt_state *st, const void *entry)
{
	const struct madt_lapic_nmi *e = entry;

	madt_add_nmi(st, e->uid == MADT_UID8_ALL ? PLATFORM_UID_ALL : e->uid, e->lint, e->flags);
}

static void madt_x2apic_nmi(struct madt_state *st, const void *entry)
{
	const struct madt_x2apic_nmi *e = entry;

	/* 0xFFFFFFFF means "all processors" here, which is PLATFORM_UID_ALL. */
	madt_add_nmi(st, e->uid, e->lint, e->flags);
}

static void madt_lapic_addr(struct madt_state *st, const void *entry)
{
	const struct madt_lapic_addr *e = entry;

	/* 5.2.12.8: when present, it replaces the 32-bit address of the header. */
	st->out->lapic_addr = e->addr;
}

static const struct madt_handler {
	uint8_t type;
	uint8_t size;                   /* longer entries are allowed (later revisions) */
	void (*parse)(struct madt_state *st, const void *entry);
} madt_handlers[] = {
	{ MADT_LAPIC,      sizeof(struct madt_lapic),      madt_lapic },
	{ MADT_IOAPIC,     sizeof(struct madt_ioapic),     madt_ioapic },
	{ MADT_ISO,        sizeof(struct madt_iso),        madt_iso },
	{ MADT_LAPIC_NMI,  sizeof(struct madt_lapic_nmi),  madt_lapic_nmi },
	{ MADT_LAPIC_ADDR, sizeof(struct madt_lapic_addr), madt_lapic_addr },
	{ MADT_X2APIC,     sizeof(struct madt_x2apic),     madt_x2apic },
	{ MADT_X2APIC_NMI, sizeof(struct madt_x2apic_nmi), madt_x2apic_nmi },
};

/* One entry already known to lie within the table; unknown types are skipped. */
static void madt_entry(struct madt_state *st, const struct madt_entry *e, size_t off)
{
	for (size_t i = 0; i < sizeof madt_handlers / sizeof madt_handlers[0]; i++) {
		const struct madt_handler *h = &madt_handlers[i];

		if (h->type != e->type)
			continue;
		if (e->length < h->size)
			acpi_report(st->env, "MADT entry type %u at offset %zu: length %u < %u, skipped",
				    e->type, off, e->length, h->size);
		else
			h->parse(st, e);
		return;
	}
}

/*
 * The entries in order. At the first one whose length cannot be right (a
 * stray byte, a length below 2, or running past the table) parsing stops
 * and what came before it is kept, as Linux does: the CPUs and I/O APICs
 * listed first are usually sound, and without them a machine with no MP
 * table is left with one CPU and no device interrupts.
 */
static int madt_parse(struct madt_state *st, const struct acpi_madt *madt)
{
	const uint8_t *base = (const uint8_t *)madt;
	size_t off = sizeof *madt, end = madt->h.length;

	st->out->lapic_addr = madt->lapic_addr;
	st->out->pic_present = madt->flags & MADT_PCAT_COMPAT;
	while (off < end) {
		const struct madt_entry *e = (const struct madt_entry *)(base + off);

		if (end - off < sizeof *e) {
			acpi_report(st->env, "MADT: stray byte at offset %zu; the entries before "
				    "it are kept", off);
			break;
		}
		if (e->length < sizeof *e || e->length > end - off) {
			acpi_report(st->env, "MADT entry type %u at offset %zu: bad length %u "
				    "(%zu bytes left); the entries before it are kept", e->type, off,
				    e->length, end - off);
			break;
		}
		madt_entry(st, e, off);
		off += e->length;
	}
	if (st->out->ncpu == 0) {
		acpi_report(st->env, "MADT lists no usable CPU");
		return -EINVAL;
	}
	return 0;
}

int acpi_parse_madt_rsdp(phys_read_fn read, void *ctx, const void *rsdp, size_t rsdp_len,
			 struct platform_info *out, platform_log_fn log)
{
	const struct acpi_env env = { read, ctx, log }, quiet = { read, ctx, NULL };
	struct madt_state st = { .env = &env, .out = out };
	const struct acpi_sdt *table;
	const struct acpi_madt *madt;
	struct acpi_root root;
	struct acpi_roots roots;
	uint64_t pa;
	int rc;

	memset(out, 0, sizeof *out);
	rc = acpi_rsdp_decode(&env, rsdp, rsdp_len, &roots);
	if (!rc)
		rc = acpi_root_select(&env, &roots, &root);
	if (rc)
		return rc;
	/* Each table's problems once, in the survey; the lookup is silent. */
	acpi_survey(&env, &root);
	if (acpi_root_find(&quiet, &root, "APIC", &pa, &table) < 0) {
		acpi_report(&env, "no valid APIC table");
		return -ENOENT;
	}
	/* table holds table->length bytes, checksum verified. */
	if (table->length < sizeof *madt) {
		acpi_report(&env, "MADT at %#llx: shorter than 44 bytes", (unsigned long long)pa);
		return -EINVAL;
	}
	madt = (const struct acpi_madt *)table;
	out->source = root.source;
	st.online_capable_defined = madt->h.revision >= MADT_REV_ONLINE_CAPABLE;
	return madt_parse(&st, madt);
}

int acpi_parse_madt(phys_read_fn read, void *ctx, uint64_t rsdp_pa,
		    struct platform_info *out, platform_log_fn log)
{
	const struct acpi_env env = { read, ctx, log };
	size_t avail;
	const struct acpi_rsdp *r = acpi_rsdp_read(&env, rsdp_pa, &avail);

	if (!r) {
		memset(out, 0, sizeof *out);
		acpi_report(&env, "RSDP at %#llx: not readable", (unsigned long long)rsdp_pa);
		return -EINVAL;
	}
	return acpi_parse_madt_rsdp(read, ctx, r, avail, out, log);
}
