/*
 * Host tests for arch/x86_64/acpi_power.c: \_S5 extraction from QEMU's real
 * DSDTs (tests/unit/data/, dumped by tools/dump_tables.sh) and from
 * hand-made AML, and the power-off decision on real FADTs and corrupted
 * copies of them: hardware-reduced with and without SLEEP_CONTROL_REG,
 * no PM1a block, X_ fields, a DSDT without \_S5.
 */
#include "unit.h"
#include <arch/platform.h>
#include "../../arch/x86_64/acpi_power.c"
#include "fakemem.h"

#define FADT_REVISION           8
#define FADT_CHECKSUM           9
#define BIG_FADT                276     /* ACPI 6.x FADT length */

static uint8_t fadt[BIG_FADT];
static size_t flen;

/* The FADT and DSDT of a dump directory; the FADT copied into fadt[] to edit. */
static const char *load(const char *config, struct region **dsdt)
{
	LOAD(config);
	TAG(f, "FACP");
	TAG(d, "DSDT");
	if (f->len > sizeof fadt)
		UFAIL("FADT of %zu bytes", f->len);
	memset(fadt, 0, sizeof fadt);
	memcpy(fadt, f->data, f->len);
	flen = f->len;
	UASSERT_EQ(acpi_fadt_dsdt(fadt, flen), d->pa);
	*dsdt = d;
	return NULL;
}

static void set32(size_t off, uint32_t v) { memcpy(fadt + off, &v, 4); }

static void set_gas(size_t off, uint8_t space, uint64_t addr)
{
	fadt[off] = space;
	fadt[off + 1] = 8;
	memcpy(fadt + off + ACPI_GAS_ADDRESS, &addr, 8);
}

static struct power_plan plan;

static void decide(const struct region *d)
{
	acpi_power_plan(fadt, flen, d ? d->data : NULL, d ? d->len : 0, &plan);
}

/* ---------------------------------------------------------------- \_S5 */

static const char *s5_qemu_dsdts(void)
{
	static const char *const configs[] = { "pc-smp4", "q35-smp4" };

	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
		struct region *d;
		uint8_t a = 9, b = 9;
		const char *why;

		CHECK(load(configs[i], &d));
		UASSERT_EQ(acpi_s5_find(d->data, d->len, &a, &b, &why), 0);
		UASSERT(why == NULL);
		UASSERT_EQ(a, 0);               /* QEMU: Name (_S5, Package (4) { 0, 0, 0, 0 }) */
		UASSERT_EQ(b, 0);
	}
	return NULL;
}

/* A DSDT header followed by the given AML bytes. */
static size_t aml(uint8_t *buf, const uint8_t *body, size_t n)
{
	memset(buf, 0, 36);
	memcpy(buf, "DSDT", 4);
	memcpy(buf + 36, body, n);
	return 36 + n;
}

static const char *s5_encodings(void)
{
	static const struct {
		uint8_t body[16];
		size_t n;
		int rc;
		uint8_t a, b;
	} cases[] = {
		/* Name (_S5, Package (4) { 5, 5, 0, 0 }) with ByteConsts; PkgLength counts itself. */
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 },
		  14, 0, 5, 5 },
		/* Root prefix, One and Zero, a single element. */
		{ { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x01 }, 10, 0, 1, 0 },
		/* WordConst and DWordConst. */
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x0A, 0x02, 0x0B, 0x07, 0x00, 0x0C, 0x06, 0, 0, 0 },
		  16, 0, 7, 6 },
		/* A two-byte PkgLength (follow count 1): 0x47 0x00 = length 7. */
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x02, 0x0A, 0x03, 0x0A, 0x04 },
		  13, 0, 3, 4 },
		/* SLP_TYP 8 does not fit 3 bits. */
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0A, 0x08, 0x00 }, 11, -EINVAL, 0, 0 },
		/* PkgLength one past the end of the table, then far past it. */
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x01 }, 9, -EINVAL, 0, 0 },
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x30, 0x02, 0x00, 0x00 }, 10, -EINVAL, 0, 0 },
		/* Elements that are not integers (a string). */
		{ { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0D, 'x', 0x00 }, 11, -EINVAL, 0, 0 },
		/* Method (_S5_) needs an interpreter: not a Name, not found. */
		{ { 0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xA4, 0x00 }, 9, -ENOENT, 0, 0 },
		/* "_S5_" cut off right at the end. */
		{ { 0x08, '_', 'S', '5', '_' }, 5, -ENOENT, 0, 0 },
		/* Package cut right after PackageOp. */
		{ { 0x08, '_', 'S', '5', '_', 0x12 }, 6, -EINVAL, 0, 0 },
	};
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = aml(buf, cases[i].body, cases[i].n);
		uint8_t a = 0xAA, b = 0xAA;
		const char *why = NULL;
		uint8_t *exact = malloc(n);     /* exact size: ASan sees any overrun */
		int rc;

		memcpy(exact, buf, n);
		rc = acpi_s5_find(exact, n, &a, &b, &why);
		free(exact);
		if (rc != cases[i].rc)
			UFAIL("case %zu: rc %d, expected %d (%s)", i, rc, cases[i].rc, why ? why : "-");
		if (rc == 0 && (a != cases[i].a || b != cases[i].b))
			UFAIL("case %zu: SLP_TYP %u/%u, expected %u/%u", i, a, b, cases[i].a, cases[i].b);
		if (rc != 0 && !why)
			UFAIL("case %zu: no reason given", i);
	}
	return NULL;
}

/* Every truncation of QEMU's DSDT: never a read past the end. */
static const char *s5_every_truncation(void)
{
	struct region *d;

	CHECK(load("q35-smp4", &d));
	for (size_t n = 0; n <= d->len; n += n < 40 || n > d->len - 400 ? 1 : 97) {
		uint8_t *copy = malloc(n ? n : 1), a, b;
		const char *why;

		memcpy(copy, d->data, n);
		(void)acpi_s5_find(copy, n, &a, &b, &why);
		free(copy);
	}
	return NULL;
}

/* ---------------------------------------------------------------- the plan */

static const char *plan_qemu(void)
{
	struct region *d;

	CHECK(load("q35-smp4", &d));
	decide(d);
	UASSERT_EQ(plan.method, POWER_PM1);
	UASSERT_EQ(plan.pm1a, 0x604);           /* ICH9 PMBASE 0x600 + 4 */
	UASSERT_EQ(plan.pm1b, 0);
	UASSERT_EQ(plan.slp_typa, 0);
	CHECK(load("pc-smp4", &d));
	decide(d);
	UASSERT_EQ(plan.method, POWER_PM1);
	UASSERT_EQ(plan.pm1a, 0x604);           /* PIIX4 PM at 0x600 + 4 */
	UASSERT_EQ(plan.smi_cmd, 0xB2);
	return NULL;
}

/* Hardware-reduced: SLEEP_CONTROL_REG gets SLP_TYPa << 2 | SLP_EN; PM1 is never touched. */
static const char *plan_hw_reduced(void)
{
	struct region *d;
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0A, 0x05,
				      0x0A, 0x07 };
	uint8_t dsdt[64];
	size_t dl = aml(dsdt, s5, sizeof s5);

	CHECK(load("q35-smp4", &d));
	flen = BIG_FADT;
	fadt[FADT_REVISION] = 6;
	set32(FADT_FLAGS, FADT_F_HW_REDUCED);
	set_gas(FADT_SLEEP_CONTROL, ACPI_GAS_SPACE_IO, 0x1234);
	acpi_power_plan(fadt, flen, dsdt, dl, &plan);
	UASSERT_EQ(plan.method, POWER_SLEEP_REG);
	UASSERT_EQ(plan.sleep_space, ACPI_GAS_SPACE_IO);
	UASSERT_EQ(plan.sleep_addr, 0x1234);
	UASSERT_EQ(plan.slp_typa, 5);
	UASSERT_EQ(plan.sleep_value, 5 << 2 | 0x20);
	UASSERT_EQ(plan.pm1a, 0);
	/* In memory space, anywhere. */
	set_gas(FADT_SLEEP_CONTROL, ACPI_GAS_SPACE_MEMORY, 0x1FED00000ull);
	acpi_power_plan(fadt, flen, dsdt, dl, &plan);
	UASSERT_EQ(plan.method, POWER_SLEEP_REG);
	UASSERT_EQ(plan.sleep_addr, 0x1FED00000ull);
	/* No register: impossible, said so (today's kernel wrote port 0). */
	set_gas(FADT_SLEEP_CONTROL, ACPI_GAS_SPACE_IO, 0);
	acpi_power_plan(fadt, flen, dsdt, dl, &plan);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT_STR(plan.why, "hardware-reduced ACPI (FADT HW_REDUCED_ACPI), but "
			      "SLEEP_CONTROL_REG is empty");
	/* A port number beyond 16 bits, another address space. */
	set_gas(FADT_SLEEP_CONTROL, ACPI_GAS_SPACE_IO, 0x10000);
	acpi_power_plan(fadt, flen, dsdt, dl, &plan);
	UASSERT_EQ(plan.method, POWER_NONE);
	set_gas(FADT_SLEEP_CONTROL, 2 /* PCI configuration space */, 0x1000);
	acpi_power_plan(fadt, flen, dsdt, dl, &plan);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT_STR(plan.why, "FADT SLEEP_CONTROL_REG is neither in memory nor in I/O space");
	/* QEMU's own 244-byte FADT with the flag set: too short for the register. */
	CHECK(load("q35-smp4", &d));
	UASSERT_EQ(flen, 244);
	set32(FADT_FLAGS, FADT_F_HW_REDUCED);
	decide(d);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT_STR(plan.why, "hardware-reduced ACPI (FADT HW_REDUCED_ACPI), but the FADT is too "
			      "short for SLEEP_CONTROL_REG");
	return NULL;
}

static const char *plan_refusals(void)
{
	struct region *d;
	static const uint8_t no_s5[] = { 0x10, 0x05, '_', 'S', 'B', '_' };
	uint8_t dsdt[64];
	size_t dl = aml(dsdt, no_s5, sizeof no_s5);

	acpi_power_plan(NULL, 0, NULL, 0, &plan);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT_STR(plan.why, "no FADT");
	CHECK(load("pc-smp4", &d));
	acpi_power_plan(fadt, 100, d->data, d->len, &plan);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT_STR(plan.why, "FADT too short for its Flags field");
	/* No PM1a block at all (what made today's kernel write port 0). */
	set32(FADT_PM1A_CNT, 0);
	decide(d);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT(strstr(plan.why, "names no PM1a control block"));
	/* Unreadable DSDT, a DSDT without \_S5. */
	CHECK(load("pc-smp4", &d));
	acpi_power_plan(fadt, flen, NULL, 0, &plan);
	UASSERT_STR(plan.why, "the FADT's DSDT is not readable");
	acpi_power_plan(fadt, flen, dsdt, dl, &plan);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT(strstr(plan.why, "no Name (_S5_, Package () {...}) in the DSDT"));
	return NULL;
}

/* X_PM1a_CNT_BLK wins over PM1a_CNT_BLK when set; X_DSDT over DSDT. */
static const char *plan_x_fields(void)
{
	struct region *d;

	CHECK(load("q35-smp4", &d));
	set_gas(FADT_X_PM1A_CNT, ACPI_GAS_SPACE_IO, 0xB004);
	decide(d);
	UASSERT_EQ(plan.method, POWER_PM1);
	UASSERT_EQ(plan.pm1a, 0xB004);
	set_gas(FADT_X_PM1A_CNT, ACPI_GAS_SPACE_MEMORY, 0xFED00004);
	decide(d);
	UASSERT_EQ(plan.method, POWER_NONE);
	UASSERT_STR(plan.why, "X_PM1x_CNT_BLK is not in I/O space (unsupported)");
	uint64_t high = 0x212340000ull;
	memcpy(fadt + FADT_X_DSDT, &high, 8);
	UASSERT_EQ(acpi_fadt_dsdt(fadt, flen), high);
	UASSERT_EQ(acpi_fadt_dsdt(fadt, FADT_X_DSDT), d->pa);  /* too short for X_DSDT */
	UASSERT_EQ(acpi_fadt_dsdt(fadt, 20), 0);
	UASSERT_EQ(acpi_fadt_dsdt(NULL, 0), 0);
	return NULL;
}

UNIT_MAIN("acpi_power", UTEST(s5_qemu_dsdts), UTEST(s5_encodings), UTEST(s5_every_truncation),
	  UTEST(plan_qemu), UTEST(plan_hw_reduced), UTEST(plan_refusals), UTEST(plan_x_fields))
