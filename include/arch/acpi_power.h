/*
 * How to power off through ACPI (ACPI 6.x 4.8.3.2 PM1 control, 4.8.3.7
 * sleep control register, 7.4.2 \_S5): decided from the FADT and DSDT
 * bytes alone by arch/x86_64/acpi_power.c, host-tested in
 * tests/unit/test_acpi_power.c; arch/x86_64/power.c carries it out.
 */
#ifndef ARCH_ACPI_POWER_H
#define ARCH_ACPI_POWER_H

#include <stddef.h>
#include <stdint.h>

/* FADT (ACPI 6.x table 5.9): the offsets used here. */
#define FADT_DSDT               40      /* u32 */
#define FADT_SMI_CMD            48      /* u32 port */
#define FADT_ACPI_ENABLE        52      /* u8 */
#define FADT_PM1A_CNT           64      /* u32 port */
#define FADT_PM1B_CNT           68      /* u32 port */
#define FADT_FLAGS              112     /* u32 */
#define   FADT_F_RESET_REG_SUP  (1u << 10)
#define   FADT_F_HW_REDUCED     (1u << 20)      /* HW_REDUCED_ACPI */
#define FADT_RESET_REG          116     /* GAS */
#define FADT_RESET_VALUE        128     /* u8 */
#define FADT_X_DSDT             140     /* u64 */
#define FADT_X_PM1A_CNT         172     /* GAS */
#define FADT_X_PM1B_CNT         184     /* GAS */
#define FADT_SLEEP_CONTROL      244     /* GAS, ACPI 5.0+ */
#define ACPI_GAS_LEN            12
#define ACPI_GAS_SPACE_MEMORY   0
#define ACPI_GAS_SPACE_IO       1
#define ACPI_GAS_ADDRESS        4       /* u64 within the GAS */

/* PM1 control (4.8.4.2.1) and sleep control register (4.8.3.7) bits. */
#define PM1_SCI_EN              (1u << 0)
#define PM1_SLP_TYP_SHIFT       10
#define PM1_SLP_EN              (1u << 13)
#define SLEEP_CTL_TYP_SHIFT     2
#define SLEEP_CTL_TYP_MASK      0x1Cu
#define SLEEP_CTL_SLP_EN        (1u << 5)
#define SLP_TYP_MAX             7       /* SLP_TYPx is 3 bits wide */

enum power_method {
	POWER_NONE,             /* impossible: why says so */
	POWER_PM1,              /* SLP_TYPx | SLP_EN into PM1a_CNT (and PM1b_CNT) */
	POWER_SLEEP_REG,        /* hardware-reduced: SLP_TYPa | SLP_EN into SLEEP_CONTROL_REG */
};

struct power_plan {
	enum power_method method;
	const char *why;        /* POWER_NONE: one line's worth, no newline */
	uint8_t slp_typa, slp_typb;
	uint16_t pm1a, pm1b;    /* POWER_PM1: I/O ports; pm1b 0 when absent */
	uint16_t smi_cmd;       /* POWER_PM1: where to ask for ACPI mode (0: no need) */
	uint8_t acpi_enable;
	uint8_t sleep_space;    /* POWER_SLEEP_REG: ACPI_GAS_SPACE_* */
	uint64_t sleep_addr;
	uint8_t sleep_value;    /* the byte to write there */
};

/*
 * SLP_TYPa/b of \_S5 from the DSDT's bytes, without an AML interpreter:
 * the object must be `Name (_S5_, Package () { a, b, ... })`, i.e. NameOp
 * (optionally with a root prefix '\'), "_S5_", PackageOp, PkgLength,
 * NumElements, then integers (Zero, One, ByteConst, WordConst,
 * DWordConst), as iasl and QEMU emit it and as many small kernels read it.
 * A _S5_ computed by a method needs an interpreter: not found. 0, or
 * -ENOENT / -EINVAL with *why set.
 */
int acpi_s5_find(const uint8_t *dsdt, size_t len, uint8_t *a, uint8_t *b, const char **why);

/* The DSDT's physical address: X_DSDT when present and non-zero, else DSDT; 0 if none. */
uint64_t acpi_fadt_dsdt(const uint8_t *fadt, size_t flen);

/*
 * What power-off will do. fadt/dsdt may be NULL (not found or unreadable);
 * dsdt is not needed to refuse. Never fails: POWER_NONE carries the reason.
 */
void acpi_power_plan(const uint8_t *fadt, size_t flen, const uint8_t *dsdt, size_t dlen,
		     struct power_plan *p);

#endif
