/*
 * Host tests for drivers/clock_calc.c: the clocksource= word and the order
 * the sources are tried in, CPUID 0x15/0x16 arithmetic (SDM vol. 2A leaves
 * 15H, 16H), the FADT PM timer block and the ACPI HPET table on the QEMU
 * dumps in tests/unit/data/ and on edited copies, HPET capabilities, and
 * wrapping counter arithmetic.
 */
#include "unit.h"
#include "../../drivers/clock_calc.c"

#include <dirent.h>
#include <stdlib.h>

#define DATA_DIR        "tests/unit/data"
#define BLOB_MAX        4096

struct blob {
	uint8_t b[BLOB_MAX];
	size_t n;
};

/* The <addr>-<tag>.bin of dump directory `config`, or a reason. */
static const char *load(const char *config, const char *tag, struct blob *out)
{
	char dir[128], path[384], suffix[32];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof dir, "%s/%s", DATA_DIR, config);
	snprintf(suffix, sizeof suffix, "-%s.bin", tag);
	dp = opendir(dir);
	if (!dp)
		UFAIL("cannot open %s (run from the tree's root)", dir);
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);
		FILE *f;

		if (len < strlen(suffix) || strcmp(d->d_name + len - strlen(suffix), suffix) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		closedir(dp);
		f = fopen(path, "rb");
		if (!f)
			UFAIL("cannot read %s", path);
		out->n = fread(out->b, 1, sizeof out->b, f);
		fclose(f);
		return out->n ? NULL : "empty dump";
	}
	closedir(dp);
	UFAIL("no %s in %s", tag, dir);
}

#define LOAD(config, tag, blob) do { const char *why_ = load(config, tag, blob); \
	if (why_) return why_; } while (0)

/* Exact-size heap copy, so ASan catches a read past the table. */
static int fadt_parse_exact(const struct blob *b, size_t n, struct pm_timer_block *pm)
{
	uint8_t *copy = malloc(n);
	int rc;

	memcpy(copy, b->b, n);
	rc = fadt_pm_timer(copy, n, pm);
	free(copy);
	return rc;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* ------------------------------------------------------------ clocksource= */

static const char *test_word_parse(void)
{
	UASSERT_EQ(clock_source_parse(NULL), CLOCK_AUTO);
	UASSERT_EQ(clock_source_parse(""), CLOCK_AUTO);
	UASSERT_EQ(clock_source_parse("auto"), CLOCK_AUTO);
	UASSERT_EQ(clock_source_parse("cpuid"), CLOCK_CPUID);
	UASSERT_EQ(clock_source_parse("hpet"), CLOCK_HPET);
	UASSERT_EQ(clock_source_parse("pmtimer"), CLOCK_PMTIMER);
	UASSERT_EQ(clock_source_parse("pit"), CLOCK_PIT);
	UASSERT_EQ(clock_source_parse("PIT"), CLOCK_BAD);
	UASSERT_EQ(clock_source_parse("tsc"), CLOCK_BAD);
	for (int s = 0; s < CLOCK_SOURCES; s++)
		UASSERT_EQ(clock_source_parse(clock_source_word((enum clock_source)s)), s);
	UASSERT_STR(clock_source_name(CLOCK_HPET), "HPET");
	UASSERT_STR(clock_source_name(CLOCK_PMTIMER), "ACPI PM timer");
	UASSERT_STR(clock_source_name(CLOCK_PIT), "PIT channel 2");
	UASSERT_STR(clock_source_name(CLOCK_CPUID), "CPUID 0x15");
	return NULL;
}

static const char *test_order_default(void)
{
	enum clock_source o[CLOCK_SOURCES];
	static const enum clock_source want[] = { CLOCK_CPUID, CLOCK_HPET, CLOCK_PMTIMER, CLOCK_PIT };

	UASSERT_EQ(clock_source_order(CLOCK_AUTO, o), CLOCK_SOURCES);
	for (int i = 0; i < CLOCK_SOURCES; i++)
		UASSERT_EQ(o[i], want[i]);
	UASSERT_EQ(clock_source_order(CLOCK_BAD, o), CLOCK_SOURCES);
	for (int i = 0; i < CLOCK_SOURCES; i++)
		UASSERT_EQ(o[i], want[i]);
	return NULL;
}

/* A forced source goes first; the rest keep their order; none is repeated or lost. */
static const char *test_order_forced(void)
{
	for (int f = 0; f < CLOCK_SOURCES; f++) {
		enum clock_source o[CLOCK_SOURCES];
		int seen = 0, prev = -1;

		UASSERT_EQ(clock_source_order((enum clock_source)f, o), CLOCK_SOURCES);
		UASSERT_EQ(o[0], f);
		for (int i = 0; i < CLOCK_SOURCES; i++)
			seen |= 1 << o[i];
		UASSERT_EQ(seen, (1 << CLOCK_SOURCES) - 1);
		for (int i = 1; i < CLOCK_SOURCES; i++) {
			UASSERT((int)o[i] > prev);
			prev = o[i];
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ CPUID 0x15/0x16 */

static const char *test_cpuid_crystal(void)
{
	/* A Xeon with a 25 MHz crystal and TSC = 25 MHz * 168 / 2 = 2.1 GHz. */
	struct cpuid_tsc_info c = { .max_leaf = 0x16, .den = 2, .num = 168,
				    .crystal_hz = 25000000, .base_mhz = 2100 };

	UASSERT_EQ(cpuid_tsc_hz(&c), 2100000000ull);
	UASSERT_EQ(cpuid_crystal_hz(&c), 25000000);
	UASSERT(cpuid_tsc_problem(&c) == NULL);
	/* 24 MHz crystal, ratio 188/2 (a 2.256 GHz TSC): the exact product, no rounding first. */
	c = (struct cpuid_tsc_info){ .max_leaf = 0x15, .den = 2, .num = 188, .crystal_hz = 24000000 };
	UASSERT_EQ(cpuid_tsc_hz(&c), 2256000000ull);
	/* A ratio that does not divide evenly truncates like the SDM formula. */
	c = (struct cpuid_tsc_info){ .max_leaf = 0x15, .den = 3, .num = 250, .crystal_hz = 19200000 };
	UASSERT_EQ(cpuid_tsc_hz(&c), 19200000ull * 250 / 3);
	return NULL;
}

/* 15H ECX = 0: the TSC runs at the 16H base frequency, and the crystal is unknown. */
static const char *test_cpuid_base_frequency(void)
{
	struct cpuid_tsc_info c = { .max_leaf = 0x16, .den = 2, .num = 300, .base_mhz = 3600 };

	UASSERT_EQ(cpuid_tsc_hz(&c), 3600000000ull);
	UASSERT_EQ(cpuid_crystal_hz(&c), 0);
	c.base_mhz = 0;
	UASSERT_EQ(cpuid_tsc_hz(&c), 0);
	UASSERT(cpuid_tsc_problem(&c) != NULL);
	return NULL;
}

/* What QEMU's TCG gives (max leaf 0xd, or 0x16 of zeros with level=0x16) is refused. */
static const char *test_cpuid_not_enumerated(void)
{
	struct cpuid_tsc_info c = { .max_leaf = 0xd, .den = 2, .num = 168, .crystal_hz = 25000000 };

	UASSERT_EQ(cpuid_tsc_hz(&c), 0);        /* leaf beyond the max: the words are stale */
	UASSERT_EQ(cpuid_crystal_hz(&c), 0);
	UASSERT_STR(cpuid_tsc_problem(&c), "leaf 0x15 not implemented");
	c = (struct cpuid_tsc_info){ .max_leaf = 0x16 };
	UASSERT_EQ(cpuid_tsc_hz(&c), 0);
	UASSERT_STR(cpuid_tsc_problem(&c), "leaf 0x15 does not enumerate the TSC/crystal ratio");
	c = (struct cpuid_tsc_info){ .max_leaf = 0x15, .den = 0, .num = 100, .crystal_hz = 24000000 };
	UASSERT_EQ(cpuid_tsc_hz(&c), 0);        /* no division by zero */
	UASSERT_EQ(cpuid_crystal_hz(&c), 0);
	c = (struct cpuid_tsc_info){ .max_leaf = 0x15, .den = 2, .num = 0, .crystal_hz = 24000000 };
	UASSERT_EQ(cpuid_tsc_hz(&c), 0);
	return NULL;
}

/* ------------------------------------------------------------ FADT PM timer */

static const char *test_fadt_dumps(void)
{
	static const char *const configs[] = { "pc-smp4", "pc-smp2-max8", "q35-smp4" };

	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
		struct pm_timer_block pm = { 0 };
		struct blob b;

		LOAD(configs[i], "FACP", &b);
		UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), 0);
		UASSERT_EQ(pm.port, 0x608);     /* SeaBIOS: PM base 0x600 + 8 */
		UASSERT_EQ(pm.bits, 24);        /* QEMU's TMR_VAL_EXT is clear */
	}
	return NULL;
}

/* ACPI 1.0 FADT (pc): PM_TMR_BLK only; TMR_VAL_EXT makes it 32-bit; a bad length is refused. */
static const char *test_fadt_v1_fields(void)
{
	struct pm_timer_block pm;
	struct blob b;

	LOAD("pc-smp4", "FACP", &b);
	b.b[FADT_FLAGS + 1] |= FADT_TMR_VAL_EXT >> 8;
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), 0);
	UASSERT_EQ(pm.bits, 32);
	b.b[FADT_PM_TMR_LEN] = 2;
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), -ENOSYS);
	b.b[FADT_PM_TMR_LEN] = PM_TMR_BYTES;
	put32(b.b + FADT_PM_TMR_BLK, 0);
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), -ENOENT);
	return NULL;
}

/* ACPI 2.0+ FADT (q35): X_PM_TMR_BLK wins over PM_TMR_BLK; memory space is refused. */
static const char *test_fadt_x_block(void)
{
	struct pm_timer_block pm;
	struct blob b;

	LOAD("q35-smp4", "FACP", &b);
	UASSERT(b.n >= FADT_X_PM_TMR_BLK + GAS_LEN);
	put32(b.b + FADT_PM_TMR_BLK, 0xB008);
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), 0);
	UASSERT_EQ(pm.port, 0x608);
	memset(b.b + FADT_X_PM_TMR_BLK + GAS_ADDRESS, 0, 8);    /* X block empty: legacy field */
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), 0);
	UASSERT_EQ(pm.port, 0xB008);
	put32(b.b + FADT_X_PM_TMR_BLK + GAS_ADDRESS, 0xFED40000);
	b.b[FADT_X_PM_TMR_BLK] = GAS_SPACE_MEMORY;
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), -ENOSYS);
	return NULL;
}

/* Truncated copies, a wrong signature and a header length past the buffer are refused. */
static const char *test_fadt_corrupt(void)
{
	struct pm_timer_block pm;
	struct blob b;

	LOAD("q35-smp4", "FACP", &b);
	for (size_t n = 0; n < FADT_FLAGS + 4; n++)
		UASSERT_EQ(fadt_parse_exact(&b, n, &pm), -EINVAL);
	/* Cut inside the X block: the header still claims the full length. */
	UASSERT_EQ(fadt_parse_exact(&b, FADT_X_PM_TMR_BLK + 4, &pm), -EINVAL);
	memcpy(b.b, "FACQ", 4);
	UASSERT_EQ(fadt_parse_exact(&b, b.n, &pm), -EINVAL);
	return NULL;
}

/* ------------------------------------------------------------ HPET */

static const char *test_hpet_dumps(void)
{
	static const char *const configs[] = { "pc-smp4", "pc-smp2-max8", "q35-smp4" };

	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
		struct hpet_table t = { 0 };
		struct blob b;
		uint8_t *copy;
		int rc;

		LOAD(configs[i], "HPET", &b);
		copy = malloc(b.n);
		memcpy(copy, b.b, b.n);
		rc = hpet_table_parse(copy, b.n, &t);
		free(copy);
		UASSERT_EQ(rc, 0);
		UASSERT_EQ(t.base, 0xFED00000ull);
		UASSERT_EQ(t.number, 0);
	}
	return NULL;
}

static const char *test_hpet_corrupt(void)
{
	struct hpet_table t;
	struct blob b;

	LOAD("q35-smp4", "HPET", &b);
	UASSERT_EQ(hpet_table_parse(b.b, HPET_TBL_LEN - 1, &t), -EINVAL);
	b.b[HPET_TBL_BASE] = GAS_SPACE_IO;
	UASSERT_EQ(hpet_table_parse(b.b, b.n, &t), -ENOSYS);
	b.b[HPET_TBL_BASE] = GAS_SPACE_MEMORY;
	memset(b.b + HPET_TBL_BASE + GAS_ADDRESS, 0, 8);
	UASSERT_EQ(hpet_table_parse(b.b, b.n, &t), -EINVAL);
	memcpy(b.b, "HPEU", 4);
	UASSERT_EQ(hpet_table_parse(b.b, b.n, &t), -EINVAL);
	return NULL;
}

static const char *test_hpet_caps(void)
{
	uint64_t hz;
	unsigned int bits;

	/* QEMU: 10 ns period (100 MHz), 64-bit counter, vendor 0x8086, 3 timers. */
	UASSERT_EQ(hpet_caps_decode(0x00989680ull << 32 | 0x8086A201u, &hz, &bits), 0);
	UASSERT_EQ(hz, 100000000);
	UASSERT_EQ(bits, 64);
	/* The classic 14.31818 MHz part, 32-bit: 69841279 fs. */
	UASSERT_EQ(hpet_caps_decode(69841279ull << 32 | 0x80868001u, &hz, &bits), 0);
	UASSERT_EQ(hz, 14318179);       /* 10^15 / period, truncated */
	UASSERT_EQ(bits, 32);
	UASSERT_EQ(hpet_caps_decode(0x8086A201u, &hz, &bits), -EINVAL);          /* period 0 */
	UASSERT_EQ(hpet_caps_decode((HPET_MAX_PERIOD_FS + 1) << 32, &hz, &bits), -EINVAL);
	UASSERT_EQ(hpet_caps_decode(HPET_MAX_PERIOD_FS << 32, &hz, &bits), 0);
	UASSERT_EQ(hz, 10000000);
	return NULL;
}

/* ------------------------------------------------------------ arithmetic */

static const char *test_counter_delta(void)
{
	UASSERT_EQ(counter_delta(10, 30, 24), 20);
	UASSERT_EQ(counter_delta(0xFFFFF0, 0x10, 24), 0x20);            /* 24-bit PM timer wraps */
	UASSERT_EQ(counter_delta(0xFFF0, 0x0010, 16), 0x20);            /* PIT */
	UASSERT_EQ(counter_delta(0xFFFFFFF0u, 0x10, 32), 0x20);
	UASSERT_EQ(counter_delta(UINT64_MAX - 1, 3, 64), 5);
	UASSERT_EQ(counter_delta(5, 5, 32), 0);
	/* Bits above the width (a wider read) do not leak into the delta. */
	UASSERT_EQ(counter_delta(0x1000010, 0x2000030, 24), 0x20);
	return NULL;
}

static const char *test_muldiv(void)
{
	UASSERT_EQ(muldiv64(24454240, 100000000, 1000000), 2445424000ull);
	/* The product overflows 64 bits: 2.4e9 * 1e11 / 1e11. */
	UASSERT_EQ(muldiv64(2445424000ull, 100000000000ull, 100000000000ull), 2445424000ull);
	UASSERT_EQ(muldiv64(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX);
	UASSERT_EQ(muldiv64(7, 3, 2), 10);
	UASSERT_EQ(muldiv64(0, 12345, 7), 0);
	UASSERT_EQ(muldiv64(UINT64_MAX, 2, 1), UINT64_MAX);     /* saturates */
	for (uint64_t a = 1; a < (1ull << 40); a = a * 3 + 1)
		UASSERT_EQ(muldiv64(a, 1000003, 999983),
			   (uint64_t)((unsigned __int128)a * 1000003 / 999983));
	return NULL;
}

/* The pit=off symptom: "done" at once gave 0.122 MHz, which must be refused. */
static const char *test_plausible(void)
{
	UASSERT(!tsc_hz_plausible(122000));
	UASSERT(!tsc_hz_plausible(0));
	UASSERT(tsc_hz_plausible(2445424000ull));
	UASSERT(tsc_hz_plausible(TSC_MIN_HZ));
	UASSERT(tsc_hz_plausible(TSC_MAX_HZ));
	UASSERT(!tsc_hz_plausible(TSC_MAX_HZ + 1));
	return NULL;
}

UNIT_MAIN("clock",
	  UTEST(test_word_parse), UTEST(test_order_default), UTEST(test_order_forced),
	  UTEST(test_cpuid_crystal), UTEST(test_cpuid_base_frequency),
	  UTEST(test_cpuid_not_enumerated), UTEST(test_fadt_dumps), UTEST(test_fadt_v1_fields),
	  UTEST(test_fadt_x_block), UTEST(test_fadt_corrupt), UTEST(test_hpet_dumps),
	  UTEST(test_hpet_corrupt), UTEST(test_hpet_caps), UTEST(test_counter_delta),
	  UTEST(test_muldiv), UTEST(test_plausible))
