/*
 * Host tests for boot/bootinfo.c: E820 normalization (against a brute-force
 * reference), multiboot2 blobs laid out byte by byte as GRUB writes them,
 * every truncated prefix and corrupted tag, and bootinfo_validate.
 */
#include "unit.h"
#include "../../boot/bootinfo.c"
#include "../../boot/bootinfo_mmap.c"
#include "../../boot/bootinfo_mb2.c"

#include <stdlib.h>

#define PAGE    0x1000ull

/* ---------------------------------------------------------------- helpers */

struct want_entry {
	uint64_t base, length;
	uint32_t type;
};

static const char *check_map(const struct boot_info *bi, const struct want_entry *w, uint32_t n)
{
	if (bi->mmap_count != n)
		UFAIL("mmap_count %u, want %u", bi->mmap_count, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->base != w[i].base || e->length != w[i].length || e->type != w[i].type)
			UFAIL("mmap[%u] = %#llx+%#llx type %u, want %#llx+%#llx type %u", i,
			      (unsigned long long)e->base, (unsigned long long)e->length, e->type,
			      (unsigned long long)w[i].base, (unsigned long long)w[i].length,
			      w[i].type);
	}
	return NULL;
}

#define E(b, l, t) { (b), (l), (t), E820_ATTR_ENABLED }
#define W(b, l, t) { (b), (l), (t) }
#define N(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* Normalizes an E820 array of exactly n entries in its own heap block (ASan). */
static int add_exact(struct boot_info *bi, const struct e820_entry *raw, uint32_t n)
{
	struct e820_entry *copy = malloc(n ? n * sizeof *raw : 1);
	int r;

	memcpy(copy, raw, n * sizeof *raw);
	r = bootinfo_add_e820(bi, copy, n);
	free(copy);
	return r;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---------------------------------------------------------------- E820 */

/* QEMU/SeaBIOS, -m 128M: already sorted and disjoint, passes through. */
static const struct e820_entry seabios_128m[] = {
	E(0x0, 0x9fc00, BOOT_MEM_USABLE),
	E(0x9fc00, 0x400, BOOT_MEM_RESERVED),
	E(0xf0000, 0x10000, BOOT_MEM_RESERVED),
	E(0x100000, 0x7ee0000, BOOT_MEM_USABLE),
	E(0x7fe0000, 0x20000, BOOT_MEM_RESERVED),
	E(0xfeffc000, 0x4000, BOOT_MEM_RESERVED),
	E(0xfffc0000, 0x40000, BOOT_MEM_RESERVED),
};

static const char *test_e820_seabios_passthrough(void)
{
	static struct boot_info bi;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, seabios_128m, N(seabios_128m)), 0);
	UASSERT_EQ(bi.mmap_count, N(seabios_128m));
	for (uint32_t i = 0; i < N(seabios_128m); i++) {
		UASSERT_EQ(bi.mmap[i].base, seabios_128m[i].base);
		UASSERT_EQ(bi.mmap[i].length, seabios_128m[i].length);
		UASSERT_EQ(bi.mmap[i].type, seabios_128m[i].type);
	}
	UASSERT_EQ(bootinfo_usable_bytes(&bi), 0x9fc00 + 0x7ee0000);
	UASSERT_EQ(bi.flags & BOOT_INFO_F_MMAP_TRUNC, 0);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

/* QEMU -m 6G: RAM above 4 GiB, given in BIOS order (high RAM reported last). */
static const char *test_e820_seabios_above_4g(void)
{
	static const struct e820_entry raw[] = {
		E(0x0, 0x9fc00, BOOT_MEM_USABLE),
		E(0x9fc00, 0x400, BOOT_MEM_RESERVED),
		E(0xf0000, 0x10000, BOOT_MEM_RESERVED),
		E(0x100000, 0xbfee0000, BOOT_MEM_USABLE),
		E(0xbffe0000, 0x20000, BOOT_MEM_RESERVED),
		E(0xfeffc000, 0x4000, BOOT_MEM_RESERVED),
		E(0xfffc0000, 0x40000, BOOT_MEM_RESERVED),
		E(0x100000000, 0x140000000, BOOT_MEM_USABLE),
	};
	static const struct want_entry want[] = {
		W(0x0, 0x9fc00, 1), W(0x9fc00, 0x400, 2), W(0xf0000, 0x10000, 2),
		W(0x100000, 0xbfee0000, 1), W(0xbffe0000, 0x20000, 2),
		W(0xfeffc000, 0x4000, 2), W(0xfffc0000, 0x40000, 2),
		W(0x100000000, 0x140000000, 1),
	};
	static struct boot_info bi;
	const char *why;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, raw, N(raw)), 0);
	if ((why = check_map(&bi, want, N(want))))
		return why;
	UASSERT_EQ(bootinfo_usable_bytes(&bi), 0x9fc00ull + 0xbfee0000 + 0x140000000);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

/* Unsorted, overlapping, duplicated: every byte gets the most restrictive type. */
static const char *test_e820_overlaps_most_restrictive(void)
{
	static const struct e820_entry raw[] = {
		E(0x5000000, 0x1000000, BOOT_MEM_RESERVED),     /* inside the RAM below */
		E(0x0, 0x10000000, BOOT_MEM_USABLE),
		E(0x5800000, 0x1000, BOOT_MEM_BAD),             /* inside the reserved hole */
		E(0xe000000, 0x3000000, BOOT_MEM_ACPI_RECLAIM), /* straddles the RAM's end */
		E(0xf000000, 0x100000, BOOT_MEM_ACPI_NVS),      /* inside the reclaim */
		E(0x0, 0x10000000, BOOT_MEM_USABLE),            /* duplicate */
		E(0x9000000, 0x1000, 7),                        /* unknown type -> reserved */
		E(0x9000800, 0x1000, BOOT_MEM_ACPI_NVS),        /* NVS beats reserved */
	};
	static const struct want_entry want[] = {
		W(0x0, 0x5000000, 1),
		W(0x5000000, 0x800000, 2),
		W(0x5800000, 0x1000, 5),
		W(0x5801000, 0x7ff000, 2),
		W(0x6000000, 0x3000000, 1),
		W(0x9000000, 0x800, 2),
		W(0x9000800, 0x1000, 4),
		W(0x9001800, 0x4ffe800, 1),
		W(0xe000000, 0x1000000, 3),
		W(0xf000000, 0x100000, 4),
		/* reclaim inside and above the RAM: one merged entry */
		W(0xf100000, 0x1f00000, 3),
	};
	static struct boot_info bi;
	const char *why;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, raw, N(raw)), 0);
	if ((why = check_map(&bi, want, N(want))))
		return why;
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

static const char *test_e820_merges_adjacent_same_type(void)
{
	static const struct e820_entry raw[] = {
		E(0x200000, 0x100000, BOOT_MEM_USABLE),
		E(0x0, 0x100000, BOOT_MEM_USABLE),
		E(0x100000, 0x100000, BOOT_MEM_USABLE),
		E(0x300000, 0x1000, BOOT_MEM_RESERVED),
		E(0x301000, 0x1000, BOOT_MEM_ACPI_RECLAIM),     /* adjacent, different type */
		E(0x303000, 0x1000, BOOT_MEM_ACPI_RECLAIM),     /* same type, not adjacent */
	};
	static const struct want_entry want[] = {
		W(0x0, 0x300000, 1), W(0x300000, 0x1000, 2), W(0x301000, 0x1000, 3),
		W(0x303000, 0x1000, 3),
	};
	static struct boot_info bi;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, raw, N(raw)), 0);
	return check_map(&bi, want, N(want));
}

static const char *test_e820_drops_empty_and_disabled(void)
{
	static const struct e820_entry raw[] = {
		E(0x1000, 0, BOOT_MEM_BAD),                     /* zero length */
		{ 0x2000, 0x1000, BOOT_MEM_RESERVED, 0 },       /* ACPI 3.0: ignore */
		{ 0x2000, 0x1000, BOOT_MEM_USABLE, E820_ATTR_ENABLED | E820_ATTR_NONVOLATILE },
		{ 0x4000, 0x1000, BOOT_MEM_BAD, E820_ATTR_NONVOLATILE },        /* bit 0 clear */
		E(0x5000, 0x1000, BOOT_MEM_USABLE),
	};
	static const struct want_entry want[] = { W(0x2000, 0x1000, 1), W(0x5000, 0x1000, 1) };
	static struct boot_info bi;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, raw, N(raw)), 0);
	return check_map(&bi, want, N(want));
}

static const char *test_e820_empty_input(void)
{
	static const struct e820_entry dead[] = { E(0x1000, 0, 1), { 0, 0x1000, 1, 0 } };
	static struct boot_info bi;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(bootinfo_add_e820(&bi, NULL, 0), 0);
	UASSERT_EQ(bi.mmap_count, 0);
	UASSERT_EQ(add_exact(&bi, dead, N(dead)), 0);
	UASSERT_EQ(bi.mmap_count, 0);
	UASSERT_EQ(bootinfo_add_e820(&bi, NULL, 3), -EINVAL);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	UASSERT_EQ(bootinfo_usable_bytes(&bi), 0);
	return NULL;
}

static const char *test_e820_clamps_at_2_64(void)
{
	static const struct e820_entry raw[] = {
		E(0xFFFFFFFFFFFFF000ull, 0x2000, BOOT_MEM_RESERVED),    /* wraps: clamped */
		E(0x10000, UINT64_MAX, BOOT_MEM_USABLE),                /* to the very top */
	};
	static const struct want_entry want[] = {
		W(0x10000, 0xFFFFFFFFFFFFF000ull - 0x10000, 1),
		W(0xFFFFFFFFFFFFF000ull, 0x1000, 2),
	};
	static struct boot_info bi;
	const char *why;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, raw, N(raw)), 0);
	if ((why = check_map(&bi, want, N(want))))
		return why;
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

/* [0, 2^64) as one entry would need length 2^64: it stays two entries. */
static const char *test_e820_whole_address_space(void)
{
	static const struct e820_entry raw[] = {
		E(0x1, UINT64_MAX, BOOT_MEM_USABLE),
		E(0x0, 0x1, BOOT_MEM_USABLE),
	};
	static struct boot_info bi;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, raw, N(raw)), 0);
	UASSERT_EQ(bi.mmap_count, 2);
	UASSERT_EQ(bi.mmap[0].base, 0);
	UASSERT_EQ(bi.mmap[1].base + bi.mmap[1].length, 0);     /* ends at 2^64 */
	UASSERT_EQ(bi.mmap[0].length + bi.mmap[1].length, 0);   /* together 2^64 */
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	UASSERT(bootinfo_usable_bytes(&bi) == UINT64_MAX);     /* saturated */
	return NULL;
}

/* A second call replaces the map, it does not accumulate. */
static const char *test_e820_second_call_replaces(void)
{
	static const struct e820_entry a[] = { E(0x0, 0x1000, 1), E(0x3000, 0x1000, 2) };
	static const struct e820_entry b[] = { E(0x8000, 0x1000, 1) };
	static const struct want_entry want[] = { W(0x8000, 0x1000, 1) };
	static struct boot_info bi;

	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(add_exact(&bi, a, N(a)), 0);
	UASSERT_EQ(add_exact(&bi, b, N(b)), 0);
	return check_map(&bi, want, N(want));
}

/* n disjoint entries with gaps, alternating types, in reverse order. */
static struct e820_entry *make_fragments(uint32_t n)
{
	struct e820_entry *raw = calloc(n, sizeof *raw);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = n - 1 - i;
		raw[i] = (struct e820_entry)E(k * 2 * PAGE, PAGE, k % 2 ? 2 : 1);
	}
	return raw;
}

static const char *test_e820_too_many_entries(void)
{
	static struct boot_info bi;
	struct e820_entry *raw;
	int r;

	raw = make_fragments(BOOT_INFO_MAX_MMAP);       /* exactly full: fine */
	bootinfo_init(&bi, BOOT_PATH_LOADER);
	r = bootinfo_add_e820(&bi, raw, BOOT_INFO_MAX_MMAP);
	free(raw);
	UASSERT_EQ(r, 0);
	UASSERT_EQ(bi.mmap_count, BOOT_INFO_MAX_MMAP);
	UASSERT_EQ(bi.flags & BOOT_INFO_F_MMAP_TRUNC, 0);

	raw = make_fragments(300);                      /* more raw entries than slots */
	r = bootinfo_add_e820(&bi, raw, 300);
	free(raw);
	UASSERT_EQ(r, -ENOSPC);
	UASSERT(bi.flags & BOOT_INFO_F_MMAP_TRUNC);
	UASSERT_EQ(bi.mmap_count, BOOT_INFO_MAX_MMAP);
	/* What is kept is the lowest part of the map, exactly. */
	for (uint32_t i = 0; i < BOOT_INFO_MAX_MMAP; i++) {
		UASSERT_EQ(bi.mmap[i].base, i * 2 * PAGE);
		UASSERT_EQ(bi.mmap[i].length, PAGE);
		UASSERT_EQ(bi.mmap[i].type, i % 2 ? 2u : 1u);
	}
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

/* 400 raw pieces that merge into one entry do not overflow the 128 slots. */
static const char *test_e820_many_raw_that_merge(void)
{
	static struct boot_info bi;
	uint32_t n = 400;
	struct e820_entry *raw = calloc(n, sizeof *raw);
	int r;

	for (uint32_t i = 0; i < n; i++)
		raw[i] = (struct e820_entry)E(((i * 7) % n) * PAGE, PAGE, 1);  /* shuffled */
	bootinfo_init(&bi, BOOT_PATH_LOADER);
	bi.flags = BOOT_INFO_F_MMAP_TRUNC;              /* stale flag is cleared */
	r = bootinfo_add_e820(&bi, raw, n);
	free(raw);
	UASSERT_EQ(r, 0);
	UASSERT_EQ(bi.mmap_count, 1);
	UASSERT_EQ(bi.mmap[0].length, n * PAGE);
	UASSERT_EQ(bi.flags & BOOT_INFO_F_MMAP_TRUNC, 0);
	return NULL;
}

#define GRID_UNITS      48      /* where entries may start */
#define GRID_MAX_LEN    12      /* pages */
#define GRID_SPAN       (GRID_UNITS + GRID_MAX_LEN)

static uint32_t ref_rank(uint32_t type)
{
	switch (type) {
	case 1: return 1;
	case 3: return 2;
	case 4: return 4;
	case 5: return 5;
	default: return 3;
	}
}

static const uint32_t ref_type[] = { 0, 1, 3, 2, 4, 5 };

/*
 * Random maps on a grid of GRID_UNITS pages starting at origin, checked
 * page by page against a brute-force "highest rank wins" reference.
 */
static const char *check_random_map(uint64_t origin, uint32_t n)
{
	static struct boot_info bi;
	struct e820_entry raw[24];
	uint32_t want[GRID_SPAN] = { 0 }, got[GRID_SPAN] = { 0 };
	/* Pages past 2^64 do not exist: entries reaching there are clamped. */
	uint64_t limit = (UINT64_MAX - origin) / PAGE + 1;

	if (limit > GRID_SPAN)
		limit = GRID_SPAN;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t start = rng() % GRID_UNITS, len = rng() % GRID_MAX_LEN;
		static const uint32_t types[] = { 1, 1, 1, 2, 3, 4, 5, 9 };
		uint32_t attr = rng() % 8 ? E820_ATTR_ENABLED : 0;

		raw[i] = (struct e820_entry){ origin + start * PAGE, len * PAGE,
					      types[rng() % 8], attr };
		if (!attr)
			continue;
		for (uint64_t u = start; u < start + len && u < limit; u++)
			if (ref_rank(raw[i].type) > want[u])
				want[u] = ref_rank(raw[i].type);
	}
	bootinfo_init(&bi, BOOT_PATH_LOADER);
	if (add_exact(&bi, raw, n) != 0 || bootinfo_validate(&bi) != 0)
		UFAIL("normalize/validate failed");
	for (uint32_t i = 0; i < bi.mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi.mmap[i];
		if (i && e->type == bi.mmap[i - 1].type &&
		    bi.mmap[i - 1].base + bi.mmap[i - 1].length == e->base)
			UFAIL("entries %u and %u not merged", i - 1, i);
		if (e->base < origin || (e->base - origin) % PAGE || e->length % PAGE ||
		    (e->base - origin + e->length) / PAGE > limit)
			UFAIL("entry %u (%#llx+%#llx) off the grid", i,
			      (unsigned long long)e->base, (unsigned long long)e->length);
		for (uint64_t a = e->base - origin; a < e->base - origin + e->length; a += PAGE)
			got[a / PAGE] = e->type;
	}
	for (uint32_t u = 0; u < limit; u++)
		if (got[u] != ref_type[want[u]])
			UFAIL("origin %#llx page %u: type %u, want %u", (unsigned long long)origin,
			      u, got[u], ref_type[want[u]]);
	return NULL;
}

static const char *test_e820_random_vs_reference(void)
{
	/* Near 0 and against the top of the address space (clamping). */
	static const uint64_t origins[] = { 0, 0x100000000ull, 0ull - GRID_UNITS * PAGE };

	for (int round = 0; round < 3000; round++) {
		const char *why = check_random_map(origins[round % 3], 1 + (uint32_t)(rng() % 24));
		if (why)
			return why;
	}
	return NULL;
}

/* ---------------------------------------------------------------- init, validate */

static const char *test_init(void)
{
	static struct boot_info bi;

	memset(&bi, 0xAA, sizeof bi);
	bootinfo_init(&bi, BOOT_PATH_LOADER);
	UASSERT_EQ(bi.magic, BOOT_INFO_MAGIC);
	UASSERT_EQ(bi.version, BOOT_INFO_VERSION);
	UASSERT_EQ(bi.size, sizeof bi);
	UASSERT_STR(bi.boot_path, "kestrel-bios");
	UASSERT_EQ(bi.mmap_count + bi.module_count + bi.flags + bi.rsdp_length, 0);
	UASSERT_EQ(bi.fb.addr, 0);
	UASSERT_EQ(bi.cmdline[0], 0);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	bootinfo_init(&bi, "a-boot-path-name-longer-than-thirty-one-bytes");
	UASSERT_STR(bi.boot_path, "a-boot-path-name-longer-than-th");
	bootinfo_init(&bi, NULL);
	UASSERT_STR(bi.boot_path, "");
	return NULL;
}

static void valid_sample(struct boot_info *bi)
{
	bootinfo_init(bi, BOOT_PATH_LOADER);
	bootinfo_add_e820(bi, seabios_128m, N(seabios_128m));
	bi->module_count = 1;
	bi->modules[0].start = 0x200000;
	bi->modules[0].end = 0x200000;
	strcpy(bi->modules[0].name, "initrd");
	strcpy(bi->cmdline, "test=smp");
	bi->rsdp_length = 20;
}

/* Each corruption must turn a valid boot_info into -EINVAL. */
static const char *test_validate_rejects(void)
{
	static struct boot_info bi;
	enum { C_MAGIC, C_VERSION, C_SIZE, C_MMAPS, C_MODS, C_UNSORTED, C_OVERLAP, C_EMPTY,
	       C_WRAP, C_TYPE0, C_TYPE6, C_CMDLINE, C_PATH, C_NAME, C_MODNAME, C_MODRANGE,
	       C_RSDP, C_COUNT };

	valid_sample(&bi);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	UASSERT_EQ(bootinfo_validate(NULL), -EINVAL);
	for (int c = 0; c < C_COUNT; c++) {
		valid_sample(&bi);
		switch (c) {
		case C_MAGIC: bi.magic ^= 1; break;
		case C_VERSION: bi.version = 2; break;
		case C_SIZE: bi.size = 4096; break;
		case C_MMAPS: bi.mmap_count = BOOT_INFO_MAX_MMAP + 1; break;
		case C_MODS: bi.module_count = BOOT_INFO_MAX_MODULES + 1; break;
		case C_UNSORTED: bi.mmap[1].base = 0; break;
		case C_OVERLAP: bi.mmap[0].length += 1; break;
		case C_EMPTY: bi.mmap[2].length = 0; break;
		case C_WRAP:
			bi.mmap[bi.mmap_count - 1].length = UINT64_MAX; break;   /* past 2^64 */
		case C_TYPE0: bi.mmap[0].type = 0; break;
		case C_TYPE6: bi.mmap[0].type = 6; break;
		case C_CMDLINE: memset(bi.cmdline, 'x', sizeof bi.cmdline); break;
		case C_PATH: memset(bi.boot_path, 'x', sizeof bi.boot_path); break;
		case C_NAME: memset(bi.loader_name, 'x', sizeof bi.loader_name); break;
		case C_MODNAME: memset(bi.modules[0].name, 'x', sizeof bi.modules[0].name); break;
		case C_MODRANGE: bi.modules[0].end = bi.modules[0].start - 1; break;
		case C_RSDP: bi.rsdp_length = 24; break;
		}
		if (bootinfo_validate(&bi) != -EINVAL)
			UFAIL("corruption %d not detected", c);
	}
	return NULL;
}

/* ---------------------------------------------------------------- multiboot2 */

/* A multiboot2 information structure written the way GRUB lays it out. */
struct mb2_blob {
	uint8_t b[16384];
	size_t len;
	size_t tag;             /* offset of the open tag */
	size_t offs[64];        /* offset of every tag, end tag included */
	uint32_t ntags;
};

static void put(struct mb2_blob *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put8(struct mb2_blob *m, uint8_t v) { put(m, &v, 1); }
static void put16(struct mb2_blob *m, uint16_t v) { put(m, &v, 2); }
static void put32(struct mb2_blob *m, uint32_t v) { put(m, &v, 4); }
static void put64(struct mb2_blob *m, uint64_t v) { put(m, &v, 8); }
static void puts0(struct mb2_blob *m, const char *s) { put(m, s, strlen(s) + 1); }

static void mb_start(struct mb2_blob *m)
{
	memset(m, 0, sizeof *m);
	put32(m, 0);            /* total_size, patched by mb_finish */
	put32(m, 0);            /* reserved */
}

static void tag_open(struct mb2_blob *m, uint32_t type)
{
	while (m->len % 8)
		put8(m, 0);     /* padding; not counted in the previous tag's size */
	m->tag = m->len;
	m->offs[m->ntags++] = m->len;
	put32(m, type);
	put32(m, 0);
}

static void tag_close(struct mb2_blob *m)
{
	uint32_t size = (uint32_t)(m->len - m->tag);

	memcpy(m->b + m->tag + 4, &size, 4);
}

static size_t mb_finish(struct mb2_blob *m)
{
	uint32_t total;

	tag_open(m, MB2_TAG_END);
	tag_close(m);
	total = (uint32_t)m->len;
	memcpy(m->b, &total, 4);
	return m->len;
}

static void tag_string(struct mb2_blob *m, uint32_t type, const char *s)
{
	tag_open(m, type);
	puts0(m, s);
	tag_close(m);
}

static void tag_module(struct mb2_blob *m, uint32_t start, uint32_t end, const char *name)
{
	tag_open(m, MB2_TAG_MODULE);
	put32(m, start);
	put32(m, end);
	puts0(m, name);
	tag_close(m);
}

static void tag_mmap(struct mb2_blob *m, const struct e820_entry *e, uint32_t n,
		     uint32_t entry_size)
{
	tag_open(m, MB2_TAG_MMAP);
	put32(m, entry_size);
	put32(m, 0);            /* entry_version */
	for (uint32_t i = 0; i < n; i++) {
		put64(m, e[i].base);
		put64(m, e[i].length);
		put32(m, e[i].type);
		put32(m, 0);    /* reserved: zero, unlike an ACPI attribute */
		for (uint32_t pad = 24; pad < entry_size; pad++)
			put8(m, 0xEE);
	}
	tag_close(m);
}

static void tag_fb_rgb(struct mb2_blob *m)
{
	tag_open(m, MB2_TAG_FRAMEBUFFER);
	put64(m, 0xfd000000);
	put32(m, 4096);         /* pitch */
	put32(m, 1024);
	put32(m, 768);
	put8(m, 32);            /* bpp */
	put8(m, BOOT_FB_TYPE_RGB);
	put16(m, 0);            /* reserved */
	put8(m, 16); put8(m, 8);        /* red */
	put8(m, 8); put8(m, 8);         /* green */
	put8(m, 0); put8(m, 8);         /* blue */
	tag_close(m);
}

/* An RSDP as SeaBIOS (v1) or OVMF (v2) builds it, checksums included. */
static void make_rsdp(uint8_t *r, bool v2)
{
	uint8_t sum = 0;

	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = v2 ? 2 : 0;
	memcpy(r + 16, &(uint32_t){ 0x07fe1a4e }, 4);   /* RSDT */
	for (int i = 0; i < 20; i++)
		sum += r[i];
	r[8] = (uint8_t)-sum;
	if (v2) {
		memcpy(r + 20, &(uint32_t){ 36 }, 4);
		memcpy(r + 24, &(uint64_t){ 0x7fe14000 }, 8);   /* XSDT */
		sum = 0;
		for (int i = 0; i < 36; i++)
			sum += r[i];
		r[32] = (uint8_t)-sum;
	}
}

static void tag_rsdp(struct mb2_blob *m, bool v2)
{
	uint8_t r[36];

	make_rsdp(r, v2);
	tag_open(m, v2 ? MB2_TAG_ACPI_NEW_RSDP : MB2_TAG_ACPI_OLD_RSDP);
	put(m, r, v2 ? 36 : 20);
	tag_close(m);
}

/* What GRUB 2.06 (BIOS, QEMU -m 128M, one module, gfxpayload) hands over. */
static size_t build_grub_bios(struct mb2_blob *m)
{
	mb_start(m);
	tag_open(m, 21);        /* image load base address */
	put32(m, 0x100000);
	tag_close(m);
	tag_string(m, MB2_TAG_CMDLINE, "console=ttyS0 test=smp");
	tag_string(m, MB2_TAG_LOADER_NAME, "GRUB 2.06-13+deb12u1");
	tag_module(m, 0x135000, 0x13a800, "initrd");
	tag_open(m, 9);         /* ELF sections: unused, skipped */
	put32(m, 2);
	put32(m, 64);
	put32(m, 1);
	for (int i = 0; i < 128; i++)
		put8(m, (uint8_t)i);
	tag_close(m);
	tag_open(m, 4);         /* basic meminfo */
	put32(m, 639);
	put32(m, 129920);
	tag_close(m);
	tag_open(m, 5);         /* boot device: CD */
	put32(m, 0xe0);
	put32(m, 0xffffffff);
	put32(m, 0xffffffff);
	tag_close(m);
	tag_mmap(m, seabios_128m, N(seabios_128m), 24);
	tag_fb_rgb(m);
	tag_rsdp(m, false);
	return mb_finish(m);
}

static const uint64_t MBI_PHYS = 0x10000;

/* Parses len bytes from their own exact heap block so ASan catches any over-read. */
static int parse_exact(struct boot_info *bi, const uint8_t *blob, size_t len, uint64_t avail)
{
	uint8_t *p = malloc(len ? len : 1);
	int r;

	memcpy(p, blob, len);
	r = bootinfo_from_multiboot2(bi, p, MBI_PHYS, avail);
	free(p);
	return r;
}

static const char *test_mb2_grub_bios(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len = build_grub_bios(&m);
	uint8_t rsdp[36];

	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	UASSERT_STR(bi.boot_path, BOOT_PATH_GRUB_BIOS);
	UASSERT_EQ(bi.flags, 0);
	UASSERT_STR(bi.cmdline, "console=ttyS0 test=smp");
	UASSERT_STR(bi.loader_name, "GRUB 2.06-13+deb12u1");
	UASSERT_EQ(bi.module_count, 1);
	UASSERT_EQ(bi.modules[0].start, 0x135000);
	UASSERT_EQ(bi.modules[0].end, 0x13a800);
	UASSERT_STR(bi.modules[0].name, "initrd");
	UASSERT_EQ(bi.mmap_count, N(seabios_128m));
	for (uint32_t i = 0; i < N(seabios_128m); i++) {
		UASSERT_EQ(bi.mmap[i].base, seabios_128m[i].base);
		UASSERT_EQ(bi.mmap[i].length, seabios_128m[i].length);
		UASSERT_EQ(bi.mmap[i].type, seabios_128m[i].type);
	}
	UASSERT_EQ(bootinfo_usable_bytes(&bi), 0x9fc00 + 0x7ee0000);
	UASSERT_EQ(bi.fb.addr, 0xfd000000);
	UASSERT_EQ(bi.fb.pitch, 4096);
	UASSERT_EQ(bi.fb.width, 1024);
	UASSERT_EQ(bi.fb.height, 768);
	UASSERT_EQ(bi.fb.bpp, 32);
	UASSERT_EQ(bi.fb.type, BOOT_FB_TYPE_RGB);
	UASSERT(bi.fb.red_pos == 16 && bi.fb.red_size == 8 && bi.fb.green_pos == 8 &&
		bi.fb.green_size == 8 && bi.fb.blue_pos == 0 && bi.fb.blue_size == 8);
	make_rsdp(rsdp, false);
	UASSERT_EQ(bi.rsdp_length, 20);
	UASSERT_EQ(bi.rsdp_revision, 0);
	UASSERT(memcmp(bi.rsdp, rsdp, 20) == 0);
	/* The copy inside the mbi: after the RSDP tag's 8-byte header. */
	UASSERT_EQ(bi.rsdp_addr, MBI_PHYS + m.offs[m.ntags - 2] + 8);
	UASSERT(memcmp(m.b + (bi.rsdp_addr - MBI_PHYS), "RSD PTR ", 8) == 0);
	/* The kernel passes a large bound: only total_size counts. */
	UASSERT_EQ(parse_exact(&bi, m.b, len, UINT64_MAX), 0);
	return NULL;
}

/* GRUB on OVMF: EFI tags, both RSDP copies, an EFI memory map. */
static size_t build_grub_uefi(struct mb2_blob *m, bool new_rsdp_first)
{
	static const struct e820_entry ovmf[] = {
		E(0x0, 0xa0000, 1), E(0x100000, 0x700000, 1), E(0x800000, 0x8000, 4),
		E(0x808000, 0x3000, 1), E(0x80b000, 0x1000, 4), E(0x80c000, 0x5000, 1),
		E(0x811000, 0xef000, 4), E(0x900000, 0x7e6ac000, 1),
		E(0x7efac000, 0x8000, 3), E(0x7efb4000, 0x24000, 2), E(0x7efd8000, 0x1000, 3),
		E(0x7f000000, 0x1000000, 4), E(0xffc00000, 0x400000, 2),
	};

	mb_start(m);
	tag_string(m, MB2_TAG_CMDLINE, "");
	tag_string(m, MB2_TAG_LOADER_NAME, "GRUB 2.06");
	tag_mmap(m, ovmf, N(ovmf), 24);
	tag_open(m, MB2_TAG_EFI64_SYSTAB);
	put64(m, 0x7f9ee018);
	tag_close(m);
	tag_open(m, MB2_TAG_EFI64_IMAGE);
	put64(m, 0x7e1d3a98);
	tag_close(m);
	tag_rsdp(m, new_rsdp_first);
	tag_rsdp(m, !new_rsdp_first);
	tag_open(m, MB2_TAG_EFI_MMAP);
	put32(m, 48);           /* descriptor size */
	put32(m, 1);            /* descriptor version */
	for (int i = 0; i < 48 * 3; i++)
		put8(m, 0);
	tag_close(m);
	return mb_finish(m);
}

static const char *test_mb2_grub_uefi(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;

	for (int order = 0; order < 2; order++) {
		size_t len = build_grub_uefi(&m, order);
		size_t new_tag = m.offs[order ? 5 : 6];
		uint8_t rsdp[36];

		UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
		UASSERT_EQ(bootinfo_validate(&bi), 0);
		UASSERT(bi.flags & BOOT_INFO_F_EFI);
		UASSERT_STR(bi.boot_path, BOOT_PATH_GRUB_UEFI);
		UASSERT_STR(bi.cmdline, "");
		UASSERT_EQ(bi.mmap_count, 13);
		/* The new RSDP wins whatever the order. */
		make_rsdp(rsdp, true);
		UASSERT_EQ(bi.rsdp_length, 36);
		UASSERT_EQ(bi.rsdp_revision, 2);
		UASSERT(memcmp(bi.rsdp, rsdp, 36) == 0);
		UASSERT_EQ(rd32(m.b + new_tag), MB2_TAG_ACPI_NEW_RSDP);
		UASSERT_EQ(bi.rsdp_addr, MBI_PHYS + new_tag + 8);
	}
	return NULL;
}

/* Each of the EFI tags alone is enough to mark the boot as UEFI. */
static const char *test_mb2_efi_tags_imply_efi(void)
{
	static const uint32_t efi_tags[] = { MB2_TAG_EFI32_SYSTAB, MB2_TAG_EFI64_SYSTAB,
					     MB2_TAG_EFI_MMAP, MB2_TAG_EFI32_IMAGE,
					     MB2_TAG_EFI64_IMAGE };
	static struct mb2_blob m;
	static struct boot_info bi;

	for (uint32_t i = 0; i < N(efi_tags); i++) {
		mb_start(&m);
		tag_open(&m, efi_tags[i]);
		put64(&m, 0x7f9ee018);
		tag_close(&m);
		size_t len = mb_finish(&m);
		UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
		UASSERT(bi.flags & BOOT_INFO_F_EFI);
		UASSERT_STR(bi.boot_path, BOOT_PATH_GRUB_UEFI);
	}
	return NULL;
}

static const char *test_mb2_minimal(void)
{
	static const uint8_t blob[] = { 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0 };
	static struct boot_info bi;

	UASSERT_EQ(parse_exact(&bi, blob, sizeof blob, sizeof blob), 0);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	UASSERT_EQ(bi.mmap_count, 0);
	UASSERT_STR(bi.boot_path, BOOT_PATH_GRUB_BIOS);
	return NULL;
}

/*
 * Every prefix of a real blob is rejected without reading past it: as is
 * (total_size > avail), with total_size patched to the prefix length (the
 * end tag is then missing or cut) and with a huge avail bound.
 */
static const char *test_mb2_every_truncation(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len = build_grub_bios(&m);

	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		int r1, r2 = -EINVAL, r3 = -EINVAL;

		memcpy(p, m.b, cut);
		r1 = bootinfo_from_multiboot2(&bi, cut ? p : NULL, MBI_PHYS, cut);
		if (cut >= 4) {
			uint32_t total = (uint32_t)cut;
			memcpy(p, &total, 4);
			r2 = bootinfo_from_multiboot2(&bi, p, MBI_PHYS, cut);
			r3 = bootinfo_from_multiboot2(&bi, p, MBI_PHYS, UINT64_MAX);
		}
		free(p);
		if (r1 != -EINVAL || r2 != -EINVAL || r3 != -EINVAL)
			UFAIL("prefix %zu of %zu accepted (%d %d %d)", cut, len, r1, r2, r3);
		if (bi.magic != 0 || bootinfo_validate(&bi) != -EINVAL)
			UFAIL("prefix %zu: failed parse left a valid-looking boot_info", cut);
	}
	return NULL;
}

static const char *test_mb2_bad_header(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len = build_grub_bios(&m);
	uint32_t total;

	UASSERT_EQ(bootinfo_from_multiboot2(&bi, NULL, 0, 1 << 20), -EINVAL);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len - 1), -EINVAL);      /* total > avail */
	UASSERT_EQ(parse_exact(&bi, m.b, 7, 7), -EINVAL);              /* no room for header */
	for (total = 0; total < 16; total++) {
		memcpy(m.b, &total, 4);
		UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	}
	return NULL;
}

static void set_size(struct mb2_blob *m, uint32_t tag, uint32_t size)
{
	memcpy(m->b + m->offs[tag] + 4, &size, 4);
}

/* Tag sizes below the header, past total_size or at the edge of it. */
static const char *test_mb2_corrupted_tag_sizes(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len = build_grub_bios(&m);

	for (uint32_t t = 0; t < m.ntags; t++) {
		uint32_t room = (uint32_t)(len - m.offs[t]);
		const uint32_t sizes[] = { 0, 1, 7, room + 1, room + 8, 0x80000000u, UINT32_MAX };

		for (uint32_t s = 0; s < N(sizes); s++) {
			build_grub_bios(&m);
			set_size(&m, t, sizes[s]);
			int r = parse_exact(&bi, m.b, len, len);
			if (r != -EINVAL)
				UFAIL("tag %u (type %u) size %u: got %d", t,
				      rd32(m.b + m.offs[t]), sizes[s], r);
		}
	}
	/* An end tag must have size 8, even when a larger one fits total_size. */
	build_grub_bios(&m);
	set_size(&m, m.ntags - 1, 16);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	memcpy(m.b, &(uint32_t){ (uint32_t)len + 8 }, 4);
	UASSERT_EQ(parse_exact(&bi, m.b, len + 8, len + 8), -EINVAL);
	set_size(&m, m.ntags - 1, 8);
	UASSERT_EQ(parse_exact(&bi, m.b, len + 8, len + 8), 0);     /* trailing slack is fine */
	/* No end tag: the last tag turned into an unknown one. */
	build_grub_bios(&m);
	memcpy(m.b + m.offs[m.ntags - 1], &(uint32_t){ 0x1234 }, 4);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	/* A tag swallowing the end tag exactly (ends at total_size). */
	build_grub_bios(&m);
	set_size(&m, m.ntags - 2, (uint32_t)(len - m.offs[m.ntags - 2]));
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	return NULL;
}

static size_t build_one_tag(struct mb2_blob *m, uint32_t type, const void *payload, size_t n)
{
	mb_start(m);
	tag_open(m, type);
	put(m, payload, n);
	tag_close(m);
	return mb_finish(m);
}

static const char *test_mb2_malformed_mmap(void)
{
	static const uint32_t bad_sizes[] = { 0, 8, 16, 20, 23, 28, 36 };
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len;

	for (uint32_t i = 0; i < N(bad_sizes); i++) {
		mb_start(&m);
		tag_mmap(&m, seabios_128m, 2, 24);
		memcpy(m.b + m.offs[0] + 8, &bad_sizes[i], 4);
		len = mb_finish(&m);
		if (parse_exact(&bi, m.b, len, len) != -EINVAL)
			UFAIL("entry_size %u accepted", bad_sizes[i]);
	}
	len = build_one_tag(&m, MB2_TAG_MMAP, &(uint32_t){ 24 }, 4);    /* no entry_version */
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	return NULL;
}

/* entry_size 32 (a future, longer entry) and trailing partial entries. */
static const char *test_mb2_mmap_entry_size_and_tail(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len;

	mb_start(&m);
	tag_mmap(&m, seabios_128m, N(seabios_128m), 32);
	len = mb_finish(&m);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(bi.mmap_count, N(seabios_128m));
	UASSERT_EQ(bi.mmap[3].base, 0x100000);
	UASSERT_EQ(bootinfo_usable_bytes(&bi), 0x9fc00 + 0x7ee0000);

	mb_start(&m);
	tag_mmap(&m, seabios_128m, 2, 24);
	put(&m, "\1\2\3\4\5\6\7\10", 8);        /* 8 stray bytes: not an entry */
	tag_close(&m);
	len = mb_finish(&m);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(bi.mmap_count, 2);
	return NULL;
}

/* Multiboot2 entries have a zero reserved dword: they must not be dropped as ACPI-disabled. */
static const char *test_mb2_mmap_ignores_attr(void)
{
	static const struct e820_entry e[] = { E(0x0, 0x1000, 1) };
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len;

	mb_start(&m);
	tag_mmap(&m, e, 1, 24);
	len = mb_finish(&m);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(bi.mmap_count, 1);
	return NULL;
}

static const char *test_mb2_too_many_mmap_entries(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	struct e820_entry *frag = make_fragments(200);
	size_t len;

	mb_start(&m);
	tag_mmap(&m, frag, 200, 24);
	len = mb_finish(&m);
	free(frag);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT(bi.flags & BOOT_INFO_F_MMAP_TRUNC);
	UASSERT_EQ(bi.mmap_count, BOOT_INFO_MAX_MMAP);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

static const char *test_mb2_short_tags_rejected(void)
{
	static const struct { uint32_t type; size_t need; } t[] = {
		{ MB2_TAG_MODULE, 8 }, { MB2_TAG_FRAMEBUFFER, 24 },
		{ MB2_TAG_ACPI_OLD_RSDP, 20 }, { MB2_TAG_ACPI_NEW_RSDP, 36 },
	};
	static struct mb2_blob m;
	static struct boot_info bi;
	uint8_t payload[64] = { 0 };

	for (uint32_t i = 0; i < N(t); i++) {
		size_t len = build_one_tag(&m, t[i].type, payload, t[i].need - 1);
		if (parse_exact(&bi, m.b, len, len) != -EINVAL)
			UFAIL("type %u with %zu bytes accepted", t[i].type, t[i].need - 1);
		len = build_one_tag(&m, t[i].type, payload, t[i].need);
		if (parse_exact(&bi, m.b, len, len) != 0)
			UFAIL("type %u with %zu bytes rejected", t[i].type, t[i].need);
	}
	/* RGB needs its 6 colour bytes. */
	payload[21] = BOOT_FB_TYPE_RGB;
	size_t len = build_one_tag(&m, MB2_TAG_FRAMEBUFFER, payload, 29);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	/* A module that ends before it starts. */
	len = build_one_tag(&m, MB2_TAG_MODULE, (uint32_t[]){ 0x2000, 0x1000, 0 }, 12);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), -EINVAL);
	return NULL;
}

/* Strings: unterminated inside the tag, longer than the field, empty module name. */
static const char *test_mb2_strings_bounded(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	char longline[400];
	size_t len;

	len = build_one_tag(&m, MB2_TAG_CMDLINE, "abc", 3);     /* no NUL in the tag */
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_STR(bi.cmdline, "abc");

	memset(longline, 'w', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	mb_start(&m);
	tag_string(&m, MB2_TAG_CMDLINE, longline);
	tag_string(&m, MB2_TAG_LOADER_NAME, longline);
	tag_module(&m, 0x1000, 0x2000, longline);
	tag_module(&m, 0x3000, 0x3000, "");
	len = mb_finish(&m);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(strlen(bi.cmdline), BOOT_INFO_CMDLINE_LEN - 1);
	UASSERT_EQ(strlen(bi.loader_name), BOOT_INFO_NAME_LEN - 1);
	UASSERT_EQ(strlen(bi.modules[0].name), BOOT_INFO_NAME_LEN - 1);
	UASSERT_STR(bi.modules[1].name, "");
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

static const char *test_mb2_too_many_modules(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	char name[8];
	size_t len;

	mb_start(&m);
	for (uint32_t i = 0; i < BOOT_INFO_MAX_MODULES + 3; i++) {
		snprintf(name, sizeof name, "mod%u", i);
		tag_module(&m, 0x200000 + i * 0x1000, 0x200800 + i * 0x1000, name);
	}
	len = mb_finish(&m);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(bi.module_count, BOOT_INFO_MAX_MODULES);
	UASSERT_STR(bi.modules[BOOT_INFO_MAX_MODULES - 1].name, "mod7");
	UASSERT_EQ(bi.modules[7].start, 0x207000);
	UASSERT_EQ(bootinfo_validate(&bi), 0);
	return NULL;
}

static const char *test_mb2_framebuffer_kinds(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	uint8_t p[40] = { 0 };
	size_t len;

	memcpy(p, &(uint64_t){ 0xb8000 }, 8);
	memcpy(p + 8, &(uint32_t){ 160 }, 4);
	memcpy(p + 12, &(uint32_t){ 80 }, 4);
	memcpy(p + 16, &(uint32_t){ 25 }, 4);
	p[20] = 16;
	p[21] = BOOT_FB_TYPE_TEXT;
	len = build_one_tag(&m, MB2_TAG_FRAMEBUFFER, p, 24);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT(bi.fb.addr == 0xb8000 && bi.fb.width == 80 && bi.fb.height == 25 &&
		bi.fb.pitch == 160 && bi.fb.bpp == 16 && bi.fb.type == BOOT_FB_TYPE_TEXT);

	p[21] = BOOT_FB_TYPE_INDEXED;           /* palette follows: not copied */
	p[24] = 2;
	len = build_one_tag(&m, MB2_TAG_FRAMEBUFFER, p, 32);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT(bi.fb.addr == 0xb8000 && bi.fb.type == BOOT_FB_TYPE_INDEXED);
	UASSERT_EQ(bi.fb.red_size, 0);

	p[21] = 3;                              /* reserved type: not usable */
	len = build_one_tag(&m, MB2_TAG_FRAMEBUFFER, p, 24);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_EQ(bi.fb.addr, 0);
	return NULL;
}

/* Unknown tags of odd sizes are skipped, padding honoured. */
static const char *test_mb2_unknown_tags_skipped(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len;

	mb_start(&m);
	tag_open(&m, 99);
	put(&m, "12345", 5);    /* size 13: next tag at +16 */
	tag_close(&m);
	tag_string(&m, MB2_TAG_CMDLINE, "after=unknown");
	tag_open(&m, 0xFFFFFFFF);
	tag_close(&m);          /* header only */
	len = mb_finish(&m);
	UASSERT_EQ(parse_exact(&bi, m.b, len, len), 0);
	UASSERT_STR(bi.cmdline, "after=unknown");
	return NULL;
}

/*
 * Random byte flips in a real blob: errors are fine, over-reads (ASan) are
 * not. avail is the blob's size, since total_size itself may be flipped.
 */
static const char *test_mb2_fuzz_byte_flips(void)
{
	static struct mb2_blob m;
	static struct boot_info bi;
	size_t len = build_grub_bios(&m);
	int ok = 0;

	for (int round = 0; round < 20000; round++) {
		build_grub_bios(&m);
		for (int k = 0; k < 1 + round % 4; k++)
			m.b[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
		if (parse_exact(&bi, m.b, len, len) == 0) {
			ok++;
			if (bootinfo_validate(&bi) != 0)
				UFAIL("round %d: parse ok but invalid boot_info", round);
		}
	}
	UASSERT(ok > 0);        /* flips inside strings and values still parse */
	return NULL;
}

UNIT_MAIN("bootinfo",
	  UTEST(test_e820_seabios_passthrough),
	  UTEST(test_e820_seabios_above_4g),
	  UTEST(test_e820_overlaps_most_restrictive),
	  UTEST(test_e820_merges_adjacent_same_type),
	  UTEST(test_e820_drops_empty_and_disabled),
	  UTEST(test_e820_empty_input),
	  UTEST(test_e820_clamps_at_2_64),
	  UTEST(test_e820_whole_address_space),
	  UTEST(test_e820_second_call_replaces),
	  UTEST(test_e820_too_many_entries),
	  UTEST(test_e820_many_raw_that_merge),
	  UTEST(test_e820_random_vs_reference),
	  UTEST(test_init),
	  UTEST(test_validate_rejects),
	  UTEST(test_mb2_grub_bios),
	  UTEST(test_mb2_grub_uefi),
	  UTEST(test_mb2_efi_tags_imply_efi),
	  UTEST(test_mb2_minimal),
	  UTEST(test_mb2_every_truncation),
	  UTEST(test_mb2_bad_header),
	  UTEST(test_mb2_corrupted_tag_sizes),
	  UTEST(test_mb2_malformed_mmap),
	  UTEST(test_mb2_mmap_entry_size_and_tail),
	  UTEST(test_mb2_mmap_ignores_attr),
	  UTEST(test_mb2_too_many_mmap_entries),
	  UTEST(test_mb2_short_tags_rejected),
	  UTEST(test_mb2_strings_bounded),
	  UTEST(test_mb2_too_many_modules),
	  UTEST(test_mb2_framebuffer_kinds),
	  UTEST(test_mb2_unknown_tags_skipped),
	  UTEST(test_mb2_fuzz_byte_flips))
