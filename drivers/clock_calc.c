/*
 * Time-source arithmetic and table decoding with no hardware access, so
 * the host tests run it (tests/unit/test_clock.c): the clocksource= word,
 * the order the sources are tried in, CPUID 0x15/0x16 (SDM vol. 2A), the
 * ACPI HPET table (IA-PC HPET spec 1.0a), the FADT's PM timer block
 * (ACPI 6.x 5.2.9) and wrapping counter deltas.
 */
#include <kernel/clock.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define CPUID_LEAF_TSC          0x15
#define HZ_PER_MHZ              1000000ull

/* ACPI generic address structure (ACPI 6.x 5.2.3.2). */
#define GAS_SPACE_MEMORY        0
#define GAS_SPACE_IO            1
#define GAS_ADDRESS             4       /* offset of the 64-bit address */
#define GAS_LEN                 12

#define ACPI_HEADER_LEN         36
/* HPET table (HPET spec 3.2.4, table 3): after the header. */
#define HPET_TBL_BASE           40      /* GAS of the register block */
#define HPET_TBL_NUMBER         52
#define HPET_TBL_MIN_TICK       53
#define HPET_TBL_LEN            56
/* General capabilities and ID register (HPET spec 2.3.4). */
#define HPET_CAP_COUNT_SIZE_64  (1ull << 13)
#define HPET_CAP_PERIOD_SHIFT   32              /* bits 63:32, femtoseconds */
#define HPET_MAX_PERIOD_FS      100000000ull    /* 100 ns (spec 2.3.4) */
#define FS_PER_S                1000000000000000ull

/* FADT (ACPI 6.x table 5.9). */
#define FADT_PM_TMR_BLK         76      /* 32-bit I/O port */
#define FADT_PM_TMR_LEN         91      /* must be 4 when PM_TMR_BLK is used */
#define FADT_FLAGS              112
#define   FADT_TMR_VAL_EXT      (1u << 8)       /* 32-bit counter, else 24-bit */
#define FADT_X_PM_TMR_BLK       208     /* GAS, ACPI 2.0+ */
#define PM_TMR_BYTES            4
#define PM_TIMER_BITS           24
#define PM_TIMER_BITS_EXT       32

static const struct {
	const char *word, *name;
} sources[CLOCK_SOURCES] = {
	[CLOCK_CPUID] = { "cpuid", "CPUID 0x15" },
	[CLOCK_HPET] = { "hpet", "HPET" },
	[CLOCK_PMTIMER] = { "pmtimer", "ACPI PM timer" },
	[CLOCK_PIT] = { "pit", "PIT channel 2" },
};

enum clock_source clock_source_parse(const char *word)
{
	if (!word || !*word || strcmp(word, "auto") == 0)
		return CLOCK_AUTO;
	for (int s = 0; s < CLOCK_SOURCES; s++)
		if (strcmp(word, sources[s].word) == 0)
			return (enum clock_source)s;
	return CLOCK_BAD;
}

const char *clock_source_word(enum clock_source s)
{
	return s < CLOCK_SOURCES ? sources[s].word : "auto";
}

const char *clock_source_name(enum clock_source s)
{
	return s < CLOCK_SOURCES ? sources[s].name : "none";
}

size_t clock_source_order(enum clock_source forced, enum clock_source order[CLOCK_SOURCES])
{
	size_t n = 0;

	if (forced < CLOCK_SOURCES)
		order[n++] = forced;
	for (int s = 0; s < CLOCK_SOURCES; s++)
		if ((enum clock_source)s != forced)
			order[n++] = (enum clock_source)s;
	return n;
}

const char *cpuid_tsc_problem(const struct cpuid_tsc_info *c)
{
	if (c->max_leaf < CPUID_LEAF_TSC)
		return "leaf 0x15 not implemented";
	if (!c->den || !c->num)
		return "leaf 0x15 does not enumerate the TSC/crystal ratio";
	if (!c->crystal_hz && !c->base_mhz)
		return "neither leaf 0x15 nor leaf 0x16 states a frequency";
	return NULL;
}

uint64_t cpuid_crystal_hz(const struct cpuid_tsc_info *c)
{
	if (c->max_leaf < CPUID_LEAF_TSC || !c->den || !c->num)
		return 0;
	return c->crystal_hz;
}

uint64_t cpuid_tsc_hz(const struct cpuid_tsc_info *c)
{
	if (cpuid_tsc_problem(c))
		return 0;
	if (c->crystal_hz)
		return muldiv64(c->crystal_hz, c->num, c->den);
	/*
	 * 15H ECX = 0 (e.g. Skylake client parts): the SDM's crystal is then
	 * base frequency * den / num, so the TSC runs at the base frequency.
	 */
	return c->base_mhz * HZ_PER_MHZ;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);       /* x86 is little-endian, as ACPI is */
	return v;
}

int hpet_table_parse(const void *table, size_t len, struct hpet_table *out)
{
	const uint8_t *t = table;

	if (len < HPET_TBL_LEN || memcmp(t, "HPET", 4) != 0 || get_le(t + 4, 4) < HPET_TBL_LEN)
		return -EINVAL;
	if (t[HPET_TBL_BASE] != GAS_SPACE_MEMORY)
		return -ENOSYS;
	out->base = get_le(t + HPET_TBL_BASE + GAS_ADDRESS, 8);
	out->number = t[HPET_TBL_NUMBER];
	out->min_tick = (uint16_t)get_le(t + HPET_TBL_MIN_TICK, 2);
	return out->base ? 0 : -EINVAL;
}

int hpet_caps_decode(uint64_t caps, uint64_t *hz, unsigned int *bits)
{
	uint64_t period = caps >> HPET_CAP_PERIOD_SHIFT;

	if (!period || period > HPET_MAX_PERIOD_FS)
		return -EINVAL;
	*hz = FS_PER_S / period;
	*bits = caps & HPET_CAP_COUNT_SIZE_64 ? 64 : 32;
	return 0;
}

int fadt_pm_timer(const void *fadt, size_t len, struct pm_timer_block *out)
{
	const uint8_t *f = fadt;
	uint32_t table_len;
	uint64_t port = 0;

	if (len < FADT_FLAGS + 4 || memcmp(f, "FACP", 4) != 0)
		return -EINVAL;
	table_len = (uint32_t)get_le(f + 4, 4);
	if (table_len < FADT_FLAGS + 4 || table_len > len)
		return -EINVAL;
	/* ACPI 2.0+: X_PM_TMR_BLK wins when it is non-zero (5.2.9, table 5.9). */
	if (table_len >= FADT_X_PM_TMR_BLK + GAS_LEN &&
	    get_le(f + FADT_X_PM_TMR_BLK + GAS_ADDRESS, 8)) {
		if (f[FADT_X_PM_TMR_BLK] != GAS_SPACE_IO)
			return -ENOSYS;         /* memory-mapped PM timer: not supported */
		port = get_le(f + FADT_X_PM_TMR_BLK + GAS_ADDRESS, 8);
	} else {
		port = get_le(f + FADT_PM_TMR_BLK, 4);
		if (port && f[FADT_PM_TMR_LEN] != PM_TMR_BYTES)
			return -ENOSYS;
	}
	if (!port)
		return -ENOENT;
	if (port > UINT16_MAX)
		return -ENOSYS;
	out->port = (uint16_t)port;
	out->bits = get_le(f + FADT_FLAGS, 4) & FADT_TMR_VAL_EXT ? PM_TIMER_BITS_EXT : PM_TIMER_BITS;
	return 0;
}

uint64_t counter_delta(uint64_t from, uint64_t to, unsigned int bits)
{
	uint64_t mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;

	return (to - from) & mask;
}

uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 p = (unsigned __int128)a * b, q = 0, r = 0;

	/* Shift-subtract long division: gcc would call __udivti3 for p / c. */
	for (int i = 127; i >= 0; i--) {
		r = r << 1 | (uint64_t)(p >> i & 1);
		if (r >= c) {
			r -= c;
			q |= (unsigned __int128)1 << i;
		}
	}
	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

bool tsc_hz_plausible(uint64_t hz)
{
	return hz >= TSC_MIN_HZ && hz <= TSC_MAX_HZ;
}
