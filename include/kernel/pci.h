/*
 * PCI (docs/usb.md, "PCI"): configuration space through the memory-mapped
 * ECAM windows the ACPI MCFG table describes (PCI Firmware spec 3.2,
 * 4.1.2), else through the port-I/O mechanism #1 (0xCF8/0xCFC, PCI Local
 * Bus spec 3.0, 3.2.2.3.2); every bus reachable from bus 0 through
 * bridges is enumerated once at boot (drivers/pci.c). The table parsing
 * and register decoding below are pure (drivers/pci_parse.c, host-tested
 * by tests/unit/test_pci.c).
 */
#ifndef KERNEL_PCI_H
#define KERNEL_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Configuration space header (PCI Local Bus spec 3.0, 6.1), type 0 and 1. */
#define PCI_VENDOR_ID           0x00    /* 16 bits; 0xFFFF: no function here */
#define   PCI_VENDOR_NONE       0xFFFF
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04    /* 16 bits */
#define   PCI_CMD_IO            (1u << 0)
#define   PCI_CMD_MEMORY        (1u << 1)
#define   PCI_CMD_MASTER        (1u << 2)
#define   PCI_CMD_INTX_DISABLE  (1u << 10)
#define PCI_STATUS              0x06    /* 16 bits */
#define   PCI_STATUS_CAP_LIST   (1u << 4)
#define PCI_CLASS_REV           0x08    /* revision 7:0, prog-if 15:8, subclass 23:16, class 31:24 */
#define PCI_HEADER_TYPE         0x0E    /* 8 bits */
#define   PCI_HEADER_MULTIFN    0x80
#define   PCI_HEADER_TYPE_MASK  0x7F
#define   PCI_HEADER_NORMAL     0x00
#define   PCI_HEADER_BRIDGE     0x01
#define PCI_BAR0                0x10    /* BARs 0-5 (type 0), 0-1 (type 1), 4 bytes apart */
#define   PCI_BAR_IO            (1u << 0)
#define   PCI_BAR_MEM_TYPE_MASK 0x6
#define   PCI_BAR_MEM_32        0x0
#define   PCI_BAR_MEM_1M        0x2     /* "below 1 MiB": reserved since PCI 2.2 */
#define   PCI_BAR_MEM_64        0x4
#define   PCI_BAR_PREFETCH      (1u << 3)
#define   PCI_BAR_MEM_MASK      0xFFFFFFF0u
#define   PCI_BAR_IO_MASK       0xFFFFFFFCu
#define PCI_BRIDGE_BUSES        0x18    /* type 1: primary 7:0, secondary 15:8, subordinate 23:16 */
#define PCI_CAP_PTR             0x34    /* 8 bits, low 2 bits reserved */
#define   PCI_CAP_PTR_MASK      0xFC
#define PCI_INTERRUPT_LINE      0x3C
#define PCI_INTERRUPT_PIN       0x3D
#define PCI_HEADER_END          0x40    /* capabilities start at or after this */
#define PCI_CFG_SIZE            0x100   /* conventional configuration space */
#define PCI_NUM_BARS            6
#define PCI_BRIDGE_NUM_BARS     2

#define PCI_MAX_BUSES           256
#define PCI_MAX_DEVS            32
#define PCI_MAX_FUNCS           8
#define PCI_CAP_MAX             48      /* (0x100 - 0x40) / 4: more means a loop */

/* Capability IDs (PCI Code and ID Assignment spec 1.11, ch. 2). */
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_MSIX         0x11

/* MSI capability (PCI Local Bus spec 3.0, 6.8.1). */
#define PCI_MSI_CTRL            0x02    /* 16 bits */
#define   PCI_MSI_CTRL_ENABLE   (1u << 0)
#define   PCI_MSI_CTRL_MME_MASK (7u << 4)       /* multiple message enable: 0 = one */
#define   PCI_MSI_CTRL_64BIT    (1u << 7)
#define PCI_MSI_ADDR_LO         0x04
#define PCI_MSI_ADDR_HI         0x08    /* 64-bit capable only */
#define PCI_MSI_DATA_32         0x08
#define PCI_MSI_DATA_64         0x0C

/* MSI-X capability (PCI Local Bus spec 3.0, 6.8.2). */
#define PCI_MSIX_CTRL           0x02    /* 16 bits */
#define   PCI_MSIX_CTRL_SIZE_MASK 0x7FF /* table size - 1 */
#define   PCI_MSIX_CTRL_FMASK   (1u << 14)      /* function mask */
#define   PCI_MSIX_CTRL_ENABLE  (1u << 15)
#define PCI_MSIX_TABLE          0x04    /* BIR 2:0, offset 31:3 */
#define   PCI_MSIX_BIR_MASK     0x7
#define PCI_MSIX_ENTRY_SIZE     16
#define PCI_MSIX_ENTRY_ADDR_LO  0x0
#define PCI_MSIX_ENTRY_ADDR_HI  0x4
#define PCI_MSIX_ENTRY_DATA     0x8
#define PCI_MSIX_ENTRY_CTRL     0xC
#define   PCI_MSIX_ENTRY_MASKED (1u << 0)

/* ACPI "MCFG" (PCI Firmware spec 3.2, table 4-3): a 36-byte header, 8 reserved bytes, entries. */
#define MCFG_ENTRIES_OFFSET     44
#define MCFG_ENTRY_SIZE         16
#define MCFG_MAX                8       /* entries kept */
#define ECAM_BUS_SHIFT          20      /* 1 MiB of configuration space per bus */
#define ECAM_DEV_SHIFT          15
#define ECAM_FN_SHIFT           12
#define ECAM_BUS_SIZE           (1ull << ECAM_BUS_SHIFT)

/* One ECAM window (a "configuration space base address allocation structure"). */
struct mcfg_entry {
	uint64_t base;          /* physical address of bus 0's space, even if bus_start > 0 */
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

/* Reports one problem: a printf-style message without prefix or newline. */
typedef void (*pci_log_fn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The usable entries of an MCFG table of len bytes (len from its header,
 * checksum already checked) into out[max]; returns how many, or -EINVAL
 * when the table itself is unusable. Each entry that is skipped
 * (segment other than 0, base 0 or not 1 MiB aligned, start bus above end
 * bus, a window that wraps, more than max) and trailing bytes are
 * reported through log (may be NULL).
 */
int mcfg_parse(const void *table, size_t len, struct mcfg_entry *out, size_t max,
	       pci_log_fn log, void *ctx);

/* A decoded base address register. */
struct pci_bar {
	uint64_t base;          /* physical (memory) or port (I/O) address */
	uint64_t size;
	bool io;
	bool mem64;             /* 64-bit memory BAR: it takes the next BAR too */
	bool prefetch;
};

/*
 * A BAR from its value (lo, and hi for the upper half of a 64-bit BAR)
 * and what it reads back after all ones were written (lo_mask, hi_mask):
 * 0; -ENOENT: not implemented (reads back 0); -EINVAL: a reserved memory
 * type or a size mask that is not a power of two.
 */
int pci_bar_decode(uint32_t lo, uint32_t lo_mask, uint32_t hi, uint32_t hi_mask,
		   struct pci_bar *out);

/* Reads an aligned 32-bit configuration register of one function. */
typedef uint32_t (*pci_cfg_read_fn)(void *ctx, uint16_t off);

/*
 * Offset of the first capability `id` in the function's list, 0 when it
 * has none. A malformed list (a pointer into the header or a loop) is
 * reported through log and searched no further.
 */
uint8_t pci_cap_find(pci_cfg_read_fn read, void *ctx, uint8_t id, pci_log_fn log, void *lctx);

/* Class code names for the log ("USB controller", ...), or NULL. */
const char *pci_class_name(uint8_t class, uint8_t subclass);

/* ------------------------------------------------------------ the kernel's bus */

struct pci_dev {
	uint8_t bus, dev, fn;
	uint8_t header;         /* PCI_HEADER_* without the multi-function bit */
	uint16_t vendor, device;
	uint8_t class, subclass, progif, revision;
};

/* Finds the configuration mechanism and enumerates (after vmm_init and the ACPI tables). */
void pci_init(void);
/* "ECAM" or "port I/O" ("none" before pci_init). */
const char *pci_access_name(void);
size_t pci_count(void);
const struct pci_dev *pci_get(size_t i);

uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);

/* Sizes BAR n (decoding is off meanwhile); the pci_bar_decode results. */
int pci_bar(const struct pci_dev *d, unsigned int n, struct pci_bar *out);
/* Maps memory BAR n uncached (anywhere in the 64-bit space); NULL with a log line on failure. */
volatile void *pci_map_bar(const struct pci_dev *d, unsigned int n, struct pci_bar *out);
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id);
/* Sets bits in the command register. */
void pci_enable(const struct pci_dev *d, uint16_t cmd_bits);

/*
 * One interrupt message to `vector` on the boot CPU through MSI-X (entry
 * 0; the table is mapped here) or else MSI, and INTx off. Returns "MSI-X"
 * or "MSI", or NULL when the function has neither (or MSI-X's table
 * cannot be mapped).
 */
const char *pci_msi_enable(const struct pci_dev *d, uint8_t vector);

/* "bb:dd.f" into buf (at least PCI_BDF_LEN bytes). */
#define PCI_BDF_LEN             8
const char *pci_bdf(const struct pci_dev *d, char buf[PCI_BDF_LEN]);

#endif
