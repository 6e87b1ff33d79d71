/* ACPI power-off decisions from table bytes (include/arch/acpi_power.h). */
#include <stdbool.h>
#include <arch/acpi_power.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define ACPI_HDR_LEN            36
#define ACPI_REVISION_OFFSET    8
#define AML_NAME_OP             0x08
#define AML_ROOT_CHAR           0x5C    /* '\' */
#define AML_PACKAGE_OP          0x12
#define AML_ZERO_OP             0x00
#define AML_ONE_OP              0x01
#define AML_BYTE_PREFIX         0x0A
#define AML_WORD_PREFIX         0x0B
#define AML_DWORD_PREFIX        0x0C
#define PKGLEN_FOLLOW_SHIFT     6       /* lead byte bits 7:6: follow bytes */
#define PKGLEN_ONE_BYTE_MASK    0x3F    /* no follow bytes: bits 5:0 are the length */
#define PKGLEN_LEAD_MASK        0x0F    /* with follow bytes: bits 3:0 are the low nibble */
#define PORT_MAX                0xFFFF

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* One AML integer at *p (below end); false if it is something else or cut off. */
static bool aml_integer(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	size_t n;

	if (q >= end)
		return false;
	switch (*q) {
	case AML_ZERO_OP: *v = 0; *p = q + 1; return true;
	case AML_ONE_OP:  *v = 1; *p = q + 1; return true;
	case AML_BYTE_PREFIX:  n = 1; break;
	case AML_WORD_PREFIX:  n = 2; break;
	case AML_DWORD_PREFIX: n = 4; break;
	default: return false;
	}
	if ((size_t)(end - q) < 1 + n)
		return false;
	*v = 0;
	memcpy(v, q + 1, n);            /* little-endian */
	*p = q + 1 + n;
	return true;
}

/* Package at p (just past PackageOp), inside [p, end): its first two elements. */
static int s5_package(const uint8_t *p, const uint8_t *end, uint64_t *a, uint64_t *b,
		      const char **why)
{
	const uint8_t *pkg = p, *pkg_end;
	size_t follow, length;
	uint8_t count;

	if (p >= end)
		goto cut;
	follow = *p >> PKGLEN_FOLLOW_SHIFT;
	if ((size_t)(end - p) < 1 + follow)
		goto cut;
	if (follow == 0) {
		length = *p & PKGLEN_ONE_BYTE_MASK;
	} else {
		length = *p & PKGLEN_LEAD_MASK;
		for (size_t i = 0; i < follow; i++)
			length |= (size_t)p[1 + i] << (4 + 8 * i);
	}
	/* PkgLength counts from its own first byte (ACPI 6.x 20.2.4). */
	if (length < 1 + follow + 1 || length > (size_t)(end - pkg))
		goto cut;
	pkg_end = pkg + length;
	p += 1 + follow;
	count = *p++;
	if (count < 1 || !aml_integer(&p, pkg_end, a)) {
		*why = "\\_S5_ package has no integer SLP_TYPa";
		return -EINVAL;
	}
	*b = 0;
	if (count >= 2 && !aml_integer(&p, pkg_end, b)) {
		*why = "\\_S5_ package's SLP_TYPb is not an integer";
		return -EINVAL;
	}
	return 0;
cut:
	*why = "\\_S5_ package runs past the DSDT or has a bad length";
	return -EINVAL;
}

int acpi_s5_find(const uint8_t *dsdt, size_t len, uint8_t *a, uint8_t *b, const char **why)
{
	const uint8_t *end = dsdt + len;
	int rc = -ENOENT;

	*why = "no Name (_S5_, Package () {...}) in the DSDT (a _S5_ method would need an "
	       "AML interpreter)";
	if (!dsdt || len <= ACPI_HDR_LEN)
		return rc;
	for (const uint8_t *p = dsdt + ACPI_HDR_LEN + 1; p + 4 < end; p++) {
		uint64_t va, vb;

		if (memcmp(p, "_S5_", 4) != 0)
			continue;
		if (!(p[-1] == AML_NAME_OP ||
		      (p[-1] == AML_ROOT_CHAR && p - 2 >= dsdt + ACPI_HDR_LEN && p[-2] == AML_NAME_OP)))
			continue;
		if (p[4] != AML_PACKAGE_OP)
			continue;
		rc = s5_package(p + 5, end, &va, &vb, why);
		if (rc < 0)
			return rc;
		if (va > SLP_TYP_MAX || vb > SLP_TYP_MAX) {
			*why = "\\_S5_ SLP_TYP value does not fit the 3-bit field";
			return -EINVAL;
		}
		*a = (uint8_t)va;
		*b = (uint8_t)vb;
		*why = NULL;
		return 0;
	}
	return rc;
}

uint64_t acpi_fadt_dsdt(const uint8_t *fadt, size_t flen)
{
	if (!fadt)
		return 0;
	if (flen >= FADT_X_DSDT + sizeof(uint64_t) && rd64(fadt + FADT_X_DSDT))
		return rd64(fadt + FADT_X_DSDT);
	return flen >= FADT_DSDT + sizeof(uint32_t) ? rd32(fadt + FADT_DSDT) : 0;
}

/* A PM1 control block's I/O port: X_ GAS when the FADT has one in use, else the 32-bit field. */
static int pm1_port(const uint8_t *fadt, size_t flen, size_t x_off, size_t off, uint16_t *port,
		    const char **why)
{
	uint64_t addr = 0;

	if (flen >= x_off + ACPI_GAS_LEN && (addr = rd64(fadt + x_off + ACPI_GAS_ADDRESS))) {
		if (fadt[x_off] != ACPI_GAS_SPACE_IO) {
			*why = "X_PM1x_CNT_BLK is not in I/O space (unsupported)";
			return -EINVAL;
		}
	} else if (flen >= off + sizeof(uint32_t)) {
		addr = rd32(fadt + off);
	}
	if (addr > PORT_MAX) {
		*why = "PM1x_CNT_BLK is not a 16-bit port";
		return -EINVAL;
	}
	*port = (uint16_t)addr;
	return 0;
}

void acpi_power_plan(const uint8_t *fadt, size_t flen, const uint8_t *dsdt, size_t dlen,
		     struct power_plan *p)
{
	uint32_t flags;

	memset(p, 0, sizeof *p);
	p->method = POWER_NONE;
	if (!fadt) {
		p->why = "no FADT";
		return;
	}
	if (flen < FADT_FLAGS + sizeof(uint32_t)) {
		p->why = "FADT too short for its Flags field";
		return;
	}
	flags = rd32(fadt + FADT_FLAGS);
	if (flags & FADT_F_HW_REDUCED) {
		const uint8_t *gas = fadt + FADT_SLEEP_CONTROL;

		if (flen < FADT_SLEEP_CONTROL + ACPI_GAS_LEN) {
			p->why = "hardware-reduced ACPI (FADT HW_REDUCED_ACPI), but the FADT is too "
				 "short for SLEEP_CONTROL_REG";
			return;
		}
		p->sleep_addr = rd64(gas + ACPI_GAS_ADDRESS);
		p->sleep_space = gas[0];
		if (!p->sleep_addr) {
			p->why = "hardware-reduced ACPI (FADT HW_REDUCED_ACPI), but SLEEP_CONTROL_REG "
				 "is empty";
			return;
		}
		if (p->sleep_space != ACPI_GAS_SPACE_IO && p->sleep_space != ACPI_GAS_SPACE_MEMORY) {
			p->why = "FADT SLEEP_CONTROL_REG is neither in memory nor in I/O space";
			return;
		}
		if (p->sleep_space == ACPI_GAS_SPACE_IO && p->sleep_addr > PORT_MAX) {
			p->why = "FADT SLEEP_CONTROL_REG is not a 16-bit port";
			return;
		}
	} else {
		if (pm1_port(fadt, flen, FADT_X_PM1A_CNT, FADT_PM1A_CNT, &p->pm1a, &p->why) < 0 ||
		    pm1_port(fadt, flen, FADT_X_PM1B_CNT, FADT_PM1B_CNT, &p->pm1b, &p->why) < 0)
			return;
		if (!p->pm1a) {
			p->why = "the FADT names no PM1a control block (PM1a_CNT_BLK and "
				 "X_PM1a_CNT_BLK are 0)";
			return;
		}
	}
	if (!dsdt) {
		p->why = "the FADT's DSDT is not readable";
		return;
	}
	if (acpi_s5_find(dsdt, dlen, &p->slp_typa, &p->slp_typb, &p->why) < 0)
		return;
	if (flags & FADT_F_HW_REDUCED) {
		p->sleep_value = (uint8_t)(((unsigned)p->slp_typa << SLEEP_CTL_TYP_SHIFT &
					    SLEEP_CTL_TYP_MASK) | SLEEP_CTL_SLP_EN);
		p->method = POWER_SLEEP_REG;
		return;
	}
	if (flen >= FADT_ACPI_ENABLE + 1) {
		uint32_t smi = rd32(fadt + FADT_SMI_CMD);

		/* No SMI port, or one past 16 bits: the chipset is taken to be in ACPI mode. */
		p->smi_cmd = smi <= PORT_MAX ? (uint16_t)smi : 0;
		p->acpi_enable = fadt[FADT_ACPI_ENABLE];
	}
	p->method = POWER_PM1;
}
