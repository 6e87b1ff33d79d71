/*
 * PCI configuration access and enumeration (include/kernel/pci.h,
 * docs/usb.md). ECAM when the ACPI MCFG table names a window for segment
 * 0 (each bus's 1 MiB mapped uncached on first use, anywhere in the
 * physical address space), else configuration mechanism #1 through ports
 * 0xCF8/0xCFC. Buses are found by following bridges from bus 0.
 */
#include <stdarg.h>
#include <stdint.h>
#include <arch/lapic.h>
#include <arch/mmu.h>
#include <arch/x86.h>
#include <boot/boot_info.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/errno.h>
#include <kernel/format.h>
#include <kernel/kernel.h>
#include <kernel/pci.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/vmm.h>

/* Configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS      0xCF8
#define PCI_CONFIG_DATA         0xCFC
#define   PCI_CONFIG_ENABLE     (1u << 31)
#define   PCI_CONFIG_BUS_SHIFT  16
#define   PCI_CONFIG_DEV_SHIFT  11
#define   PCI_CONFIG_FN_SHIFT   8
#define   PCI_CONFIG_REG_MASK   0xFC

/* MSI message (Intel SDM vol. 3, 10.11.1-2): fixed delivery, edge, physical destination. */
#define MSI_ADDR_BASE           0xFEE00000u
#define MSI_ADDR_DEST_SHIFT     12
#define MSI_DEST_MAX            0xFF    /* 8-bit destination without interrupt remapping */

#define PCI_MAX_FUNCTIONS       128     /* functions kept in the table */
#define ACPI_LENGTH_OFFSET      4

enum pci_access { ACCESS_NONE, ACCESS_PORT, ACCESS_ECAM };

static enum pci_access access;
static struct mcfg_entry mcfg[MCFG_MAX];
static int nmcfg;
static volatile uint8_t *ecam_bus[PCI_MAX_BUSES];       /* mapped on first use */
static bool ecam_failed[PCI_MAX_BUSES];
static spinlock_t port_lock = SPINLOCK_INIT("pci_port");
static spinlock_t ecam_lock = SPINLOCK_INIT("pci_ecam");
static struct pci_dev devs[PCI_MAX_FUNCTIONS];
static size_t ndevs;
static unsigned int nbuses;
static bool bus_seen[PCI_MAX_BUSES];

/* ctx: the device the message is about, or NULL. */
static void pci_log(void *ctx, const char *fmt, ...)
{
	char buf[160], bdf[PCI_BDF_LEN];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ctx)
		kprintf("pci: %s: %s\n", pci_bdf(ctx, bdf), buf);
	else
		kprintf("pci: %s\n", buf);
}

const char *pci_bdf(const struct pci_dev *d, char buf[PCI_BDF_LEN])
{
	ksnprintf(buf, PCI_BDF_LEN, "%02x:%02x.%u", d->bus, d->dev, d->fn);
	return buf;
}

static const struct mcfg_entry *ecam_window(uint8_t bus)
{
	for (int i = 0; i < nmcfg; i++)
		if (bus >= mcfg[i].bus_start && bus <= mcfg[i].bus_end)
			return &mcfg[i];
	return NULL;
}

/* This bus's 1 MiB of ECAM, mapped on first use; NULL when it has none. */
static volatile uint8_t *ecam_bus_base(uint8_t bus)
{
	const struct mcfg_entry *w;
	volatile uint8_t *p;
	uint64_t pa, flags;

	if (ecam_bus[bus] || ecam_failed[bus])
		return ecam_bus[bus];
	w = ecam_window(bus);
	if (!w) {
		ecam_failed[bus] = true;
		return NULL;
	}
	pa = w->base + ((uint64_t)bus << ECAM_BUS_SHIFT);
	p = vmm_map_mmio(pa, ECAM_BUS_SIZE);
	flags = spin_lock_irqsave(&ecam_lock);
	if (!p)
		ecam_failed[bus] = true;
	else if (!ecam_bus[bus])
		ecam_bus[bus] = p;
	p = ecam_bus[bus];
	spin_unlock_irqrestore(&ecam_lock, flags);
	if (!p)
		kprintf("pci: cannot map bus %u's ECAM at 0x%lx; its devices are not seen\n", bus,
			pa);
	return p;
}

static uint32_t port_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return PCI_CONFIG_ENABLE | (uint32_t)bus << PCI_CONFIG_BUS_SHIFT |
	       (uint32_t)dev << PCI_CONFIG_DEV_SHIFT | (uint32_t)fn << PCI_CONFIG_FN_SHIFT |
	       (off & PCI_CONFIG_REG_MASK);
}

static uint32_t cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	off &= ~3u;
	if (access == ACCESS_ECAM) {
		volatile uint8_t *b = ecam_bus_base(bus);
		if (!b)
			return UINT32_MAX;
		return *(volatile uint32_t *)(b + ((uint32_t)dev << ECAM_DEV_SHIFT) +
					      ((uint32_t)fn << ECAM_FN_SHIFT) + off);
	}
	if (access == ACCESS_PORT && off < PCI_CFG_SIZE) {
		uint64_t flags = spin_lock_irqsave(&port_lock);
		outl(PCI_CONFIG_ADDRESS, port_address(bus, dev, fn, off));
		uint32_t v = inl(PCI_CONFIG_DATA);
		spin_unlock_irqrestore(&port_lock, flags);
		return v;
	}
	return UINT32_MAX;
}

static void cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	off &= ~3u;
	if (access == ACCESS_ECAM) {
		volatile uint8_t *b = ecam_bus_base(bus);
		if (b)
			*(volatile uint32_t *)(b + ((uint32_t)dev << ECAM_DEV_SHIFT) +
					       ((uint32_t)fn << ECAM_FN_SHIFT) + off) = v;
	} else if (access == ACCESS_PORT && off < PCI_CFG_SIZE) {
		uint64_t flags = spin_lock_irqsave(&port_lock);
		outl(PCI_CONFIG_ADDRESS, port_address(bus, dev, fn, off));
		outl(PCI_CONFIG_DATA, v);
		spin_unlock_irqrestore(&port_lock, flags);
	}
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	return cfg_read(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	cfg_write(d->bus, d->dev, d->fn, off, v);
}

/*
 * Read-modify-write of the aligned dword. Only used on registers whose
 * neighbours have no write-1-to-clear bits (command, MSI control), and on
 * the status register half never: writing back its read value is harmless
 * for the command register because PCI_STATUS's RW1C bits are written 0.
 */
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	unsigned int shift = (off & 2) * 8;
	uint32_t old = pci_read32(d, off);

	if (off == PCI_COMMAND)
		old &= 0x0000FFFFu;     /* never write status bits back (RW1C) */
	old = (old & ~(0xFFFFu << shift)) | (uint32_t)v << shift;
	pci_write32(d, off, old);
}

void pci_enable(const struct pci_dev *d, uint16_t cmd_bits)
{
	pci_write16(d, PCI_COMMAND, (uint16_t)(pci_read16(d, PCI_COMMAND) | cmd_bits));
}

static uint32_t dev_cfg_read(void *ctx, uint16_t off)
{
	return pci_read32(ctx, off);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	return pci_cap_find(dev_cfg_read, (void *)d, id, pci_log, (void *)d);
}

int pci_bar(const struct pci_dev *d, unsigned int n, struct pci_bar *out)
{
	uint16_t off = (uint16_t)(PCI_BAR0 + 4 * n), cmd;
	unsigned int nbars = d->header == PCI_HEADER_BRIDGE ? PCI_BRIDGE_NUM_BARS : PCI_NUM_BARS;
	uint32_t lo, lo_mask, hi = 0, hi_mask = 0;
	int rc;

	if (n >= nbars)
		return -EINVAL;
	/* Decoding off while the BAR holds all ones (PCI 3.0, 6.2.5.1). */
	cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, (uint16_t)(cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY)));
	lo = pci_read32(d, off);
	pci_write32(d, off, UINT32_MAX);
	lo_mask = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (!(lo & PCI_BAR_IO) && (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_64) {
		if (n + 1 >= nbars) {
			pci_write16(d, PCI_COMMAND, cmd);
			return -EINVAL;
		}
		hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, UINT32_MAX);
		hi_mask = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	pci_write16(d, PCI_COMMAND, cmd);
	rc = pci_bar_decode(lo, lo_mask, hi, hi_mask, out);
	return rc;
}

volatile void *pci_map_bar(const struct pci_dev *d, unsigned int n, struct pci_bar *out)
{
	char bdf[PCI_BDF_LEN];
	void *p;
	int rc = pci_bar(d, n, out);

	if (rc < 0 || out->io || out->base == 0) {
		kprintf("pci: %s: BAR%u is %s\n", pci_bdf(d, bdf), n,
			rc == -ENOENT ? "not implemented" : rc < 0 ? "malformed" :
			out->io ? "I/O space, not memory" : "not assigned an address");
		return NULL;
	}
	p = vmm_map_mmio(out->base, out->size);
	if (!p)
		kprintf("pci: %s: cannot map BAR%u at 0x%lx (%lu KiB)\n", pci_bdf(d, bdf), n,
			out->base, out->size / 1024);
	return p;
}

static bool msi_dest(uint32_t *dest)
{
	*dest = cpus[0].apic_id;        /* the boot CPU */
	return *dest <= MSI_DEST_MAX;
}

static const char *msix_enable(const struct pci_dev *d, uint8_t cap, uint8_t vector,
			       uint32_t dest)
{
	char bdf[PCI_BDF_LEN];
	uint32_t table = pci_read32(d, cap + PCI_MSIX_TABLE);
	unsigned int bir = table & PCI_MSIX_BIR_MASK;
	uint16_t ctrl = pci_read16(d, cap + PCI_MSIX_CTRL);
	uint32_t size = ((ctrl & PCI_MSIX_CTRL_SIZE_MASK) + 1u) * PCI_MSIX_ENTRY_SIZE;
	struct pci_bar bar;
	volatile uint8_t *t;

	if (pci_bar(d, bir, &bar) < 0 || bar.io || bar.base == 0 ||
	    (table & ~PCI_MSIX_BIR_MASK) + (uint64_t)size > bar.size) {
		kprintf("pci: %s: MSI-X table in BAR%u at +0x%x is not in memory it has\n",
			pci_bdf(d, bdf), bir, table & ~PCI_MSIX_BIR_MASK);
		return NULL;
	}
	t = vmm_map_mmio(bar.base + (table & ~PCI_MSIX_BIR_MASK), size);
	if (!t) {
		kprintf("pci: %s: cannot map the MSI-X table\n", pci_bdf(d, bdf));
		return NULL;
	}
	/* Function masked while entry 0 is written; every other entry stays masked. */
	pci_write16(d, cap + PCI_MSIX_CTRL, (uint16_t)(ctrl | PCI_MSIX_CTRL_FMASK |
						       PCI_MSIX_CTRL_ENABLE));
	for (uint32_t off = 0; off < size; off += PCI_MSIX_ENTRY_SIZE)
		*(volatile uint32_t *)(t + off + PCI_MSIX_ENTRY_CTRL) = PCI_MSIX_ENTRY_MASKED;
	*(volatile uint32_t *)(t + PCI_MSIX_ENTRY_ADDR_LO) = MSI_ADDR_BASE |
							      dest << MSI_ADDR_DEST_SHIFT;
	*(volatile uint32_t *)(t + PCI_MSIX_ENTRY_ADDR_HI) = 0;
	*(volatile uint32_t *)(t + PCI_MSIX_ENTRY_DATA) = vector;
	*(volatile uint32_t *)(t + PCI_MSIX_ENTRY_CTRL) = 0;
	pci_write16(d, cap + PCI_MSIX_CTRL, (uint16_t)((ctrl | PCI_MSIX_CTRL_ENABLE) &
						       ~PCI_MSIX_CTRL_FMASK));
	return "MSI-X";
}

static const char *msi_enable(const struct pci_dev *d, uint8_t cap, uint8_t vector,
			      uint32_t dest)
{
	uint16_t ctrl = pci_read16(d, cap + PCI_MSI_CTRL);
	bool is64 = ctrl & PCI_MSI_CTRL_64BIT;

	pci_write32(d, cap + PCI_MSI_ADDR_LO, MSI_ADDR_BASE | dest << MSI_ADDR_DEST_SHIFT);
	if (is64)
		pci_write32(d, cap + PCI_MSI_ADDR_HI, 0);
	pci_write16(d, cap + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), vector);
	ctrl = (uint16_t)((ctrl & ~PCI_MSI_CTRL_MME_MASK) | PCI_MSI_CTRL_ENABLE);
	pci_write16(d, cap + PCI_MSI_CTRL, ctrl);
	return "MSI";
}

const char *pci_msi_enable(const struct pci_dev *d, uint8_t vector)
{
	uint8_t cap;
	uint32_t dest;
	const char *how = NULL;

	if (!msi_dest(&dest))
		return NULL;
	if ((cap = pci_find_cap(d, PCI_CAP_ID_MSIX)))
		how = msix_enable(d, cap, vector, dest);
	if (!how && (cap = pci_find_cap(d, PCI_CAP_ID_MSI)))
		how = msi_enable(d, cap, vector, dest);
	if (how)
		pci_enable(d, PCI_CMD_INTX_DISABLE);
	return how;
}

/* ------------------------------------------------------------ enumeration */

static void scan_bus(uint8_t bus);

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
	uint32_t cr = cfg_read(bus, dev, fn, PCI_CLASS_REV);
	uint8_t header = (uint8_t)(cfg_read(bus, dev, fn, PCI_HEADER_TYPE) >> 16) &
			 PCI_HEADER_TYPE_MASK;
	struct pci_dev d = {
		.bus = bus, .dev = dev, .fn = fn, .header = header,
		.vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
		.class = (uint8_t)(cr >> 24), .subclass = (uint8_t)(cr >> 16),
		.progif = (uint8_t)(cr >> 8), .revision = (uint8_t)cr,
	};
	const char *name = pci_class_name(d.class, d.subclass);
	char bdf[PCI_BDF_LEN];

	kprintf("pci: %s %04x:%04x class %02x%02x%02x%s%s\n", pci_bdf(&d, bdf), d.vendor,
		d.device, d.class, d.subclass, d.progif, name ? " " : "", name ? name : "");
	if (ndevs < PCI_MAX_FUNCTIONS)
		devs[ndevs++] = d;
	else
		kprintf("pci: %s: more than %u functions, not kept\n", bdf, PCI_MAX_FUNCTIONS);
	if (header == PCI_HEADER_BRIDGE) {
		uint8_t secondary = (uint8_t)(cfg_read(bus, dev, fn, PCI_BRIDGE_BUSES) >> 8);
		if (secondary > bus)
			scan_bus(secondary);
		else
			kprintf("pci: %s: bridge to bus %u (not below bus %u), not followed\n",
				bdf, secondary, bus);
	}
}

static void scan_bus(uint8_t bus)
{
	if (bus_seen[bus])
		return;
	bus_seen[bus] = true;
	nbuses++;
	for (uint8_t dev = 0; dev < PCI_MAX_DEVS; dev++) {
		uint32_t id = cfg_read(bus, dev, 0, PCI_VENDOR_ID);
		uint8_t nfn;

		if ((uint16_t)id == PCI_VENDOR_NONE)
			continue;
		nfn = (cfg_read(bus, dev, 0, PCI_HEADER_TYPE) >> 16) & PCI_HEADER_MULTIFN ?
		      PCI_MAX_FUNCS : 1;
		for (uint8_t fn = 0; fn < nfn; fn++) {
			if (fn)
				id = cfg_read(bus, dev, fn, PCI_VENDOR_ID);
			if ((uint16_t)id != PCI_VENDOR_NONE)
				add_function(bus, dev, fn, id);
		}
	}
}

/* Mechanism #1 answers when the address register keeps the enable bit. */
static bool port_access_present(void)
{
	uint32_t old = inl(PCI_CONFIG_ADDRESS), v;

	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE);
	v = inl(PCI_CONFIG_ADDRESS);
	outl(PCI_CONFIG_ADDRESS, old);
	return v == PCI_CONFIG_ENABLE;
}

static void find_mcfg(void)
{
	const struct boot_info *bi = boot_info();
	const uint8_t *t;
	uint64_t pa;

	if (cmdline_has(bi->cmdline, "noacpi")) {
		kprintf("pci: noacpi: MCFG not used\n");
		return;
	}
	if (platform_acpi_table(bi, "MCFG", &pa) < 0)
		return;
	t = phys_to_virt(pa);
	nmcfg = mcfg_parse(t, *(const uint32_t *)(t + ACPI_LENGTH_OFFSET), mcfg, MCFG_MAX,
			   pci_log, NULL);
	if (nmcfg < 0)
		nmcfg = 0;
}

void pci_init(void)
{
	find_mcfg();
	if (nmcfg > 0) {
		access = ACCESS_ECAM;
		/* Bus 0 device 0 (the host bridge) must answer through ECAM. */
		if ((uint16_t)cfg_read(0, 0, 0, PCI_VENDOR_ID) == PCI_VENDOR_NONE &&
		    port_access_present()) {
			access = ACCESS_PORT;
			if ((uint16_t)cfg_read(0, 0, 0, PCI_VENDOR_ID) != PCI_VENDOR_NONE)
				kprintf("pci: ECAM at 0x%lx reads nothing at 00:00.0; using port I/O\n",
					mcfg[0].base);
			else
				access = ACCESS_ECAM;
		}
	} else if (port_access_present()) {
		access = ACCESS_PORT;
	} else {
		kprintf("pci: no MCFG and no port I/O configuration mechanism; no PCI devices\n");
		return;
	}
	scan_bus(0);
	if (access == ACCESS_ECAM)
		kprintf("pci: %zu functions on %u buses, ECAM at 0x%lx (buses %u-%u)\n", ndevs,
			nbuses, mcfg[0].base, mcfg[0].bus_start, mcfg[0].bus_end);
	else
		kprintf("pci: %zu functions on %u buses, port I/O configuration%s\n", ndevs,
			nbuses, nmcfg ? "" : " (no MCFG)");
}

const char *pci_access_name(void)
{
	return access == ACCESS_ECAM ? "ECAM" : access == ACCESS_PORT ? "port I/O" : "none";
}

size_t pci_count(void)
{
	return ndevs;
}

const struct pci_dev *pci_get(size_t i)
{
	return i < ndevs ? &devs[i] : NULL;
}
