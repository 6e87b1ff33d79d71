/*
 * I/O APIC (Intel 82093AA datasheet): every pin masked at start-up, then
 * the ISA IRQs we use routed to the boot CPU, with the MADT/MP interrupt
 * source overrides applied (on QEMU the PIT's IRQ 0 arrives on GSI 2).
 * Without one, the 8259s through LINT0 instead (arch/x86_64/pic.c).
 */
#include <stdint.h>
#include <arch/apic_calc.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/platform.h>
#include <kernel/cmdline.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/vmm.h>

#define IOAPIC_MMIO_SIZE        0x20
#define IOREGSEL                0x00    /* register index (bytes into the window) */
#define IOWIN                   0x10    /* register data */
#define IOAPIC_REG_VER          0x01
#define   VER_MAX_REDIR_SHIFT   16
#define IOAPIC_REG_REDTBL       0x10    /* entry n: 0x10 + 2n (low), + 1 (high) */
#define   REDIR_POLARITY_LOW    (1u << 13)
#define   REDIR_TRIGGER_LEVEL   (1u << 15)
#define   REDIR_MASKED          (1u << 16)
#define   REDIR_DEST_SHIFT      24      /* in the high dword: physical APIC id */

struct ioapic {
	volatile uint32_t *regs;
	uint32_t gsi_base;
	uint32_t pins;
};

static struct ioapic ioapics[PLATFORM_MAX_IOAPICS];
static uint32_t nioapic;
static const struct platform_info *platform;
static spinlock_t ioapic_lock = SPINLOCK_INIT("ioapic");
static int64_t other_dest = -1;         /* APIC id of the AP taking device interrupts */

static uint32_t ioapic_read(struct ioapic *io, uint32_t reg)
{
	io->regs[IOREGSEL / 4] = reg;
	return io->regs[IOWIN / 4];
}

static void ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->regs[IOREGSEL / 4] = reg;
	io->regs[IOWIN / 4] = v;
}

static struct ioapic *ioapic_for_gsi(uint32_t gsi)
{
	for (uint32_t i = 0; i < nioapic; i++)
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].pins)
			return &ioapics[i];
	return NULL;
}

/* ISA IRQ -> GSI and MPS INTI flags, after the source overrides. */
static uint32_t isa_to_gsi(uint8_t irq, uint16_t *flags)
{
	*flags = MPS_INTI_POLARITY_BUS | MPS_INTI_TRIGGER_BUS;
	for (uint32_t i = 0; i < platform->noverride; i++)
		if (platform->overrides[i].bus_irq == irq) {
			*flags = platform->overrides[i].flags;
			return platform->overrides[i].gsi;
		}
	return irq;
}

static uint32_t redir_low(uint8_t vector, uint16_t flags, bool masked)
{
	uint32_t low = vector;

	/* ISA ("conforms to the bus") is active high, edge triggered. */
	if ((flags & MPS_INTI_POLARITY_MASK) == MPS_INTI_POLARITY_LOW)
		low |= REDIR_POLARITY_LOW;
	if ((flags & MPS_INTI_TRIGGER_MASK) == MPS_INTI_TRIGGER_LEVEL)
		low |= REDIR_TRIGGER_LEVEL;
	if (masked)
		low |= REDIR_MASKED;
	return low;
}

static int route(uint8_t irq, uint8_t vector, uint32_t dest, bool masked)
{
	uint16_t flags;
	uint32_t gsi = isa_to_gsi(irq, &flags);
	struct ioapic *io = ioapic_for_gsi(gsi);
	uint32_t pin;
	uint64_t f;

	if (!io)
		return -ENOENT;
	pin = gsi - io->gsi_base;
	f = spin_lock_irqsave(&ioapic_lock);
	ioapic_write(io, IOAPIC_REG_REDTBL + 2 * pin, REDIR_MASKED);
	ioapic_write(io, IOAPIC_REG_REDTBL + 2 * pin + 1, dest << REDIR_DEST_SHIFT);
	ioapic_write(io, IOAPIC_REG_REDTBL + 2 * pin, redir_low(vector, flags, masked));
	spin_unlock_irqrestore(&ioapic_lock, f);
	return (int)gsi;
}

void ioapic_mask_isa(uint8_t irq, int masked)
{
	uint16_t flags;
	uint32_t gsi;
	struct ioapic *io;
	uint64_t f;

	if (pic_legacy()) {
		pic_mask_irq(irq, masked);
		return;
	}
	gsi = isa_to_gsi(irq, &flags);
	io = ioapic_for_gsi(gsi);
	if (!io)
		return;
	f = spin_lock_irqsave(&ioapic_lock);
	uint32_t reg = IOAPIC_REG_REDTBL + 2 * (gsi - io->gsi_base);
	uint32_t low = ioapic_read(io, reg);
	ioapic_write(io, reg, masked ? low | REDIR_MASKED : low & ~REDIR_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, f);
}

int64_t ioapic_other_dest(void)
{
	return other_dest;
}

void ioapic_init(const struct platform_info *pi, uint32_t bsp_apic_id)
{
	enum irq_dest_choice choice;
	uint32_t dest;

	static const uint8_t isa_irqs[] = { ISA_IRQ_PIT, ISA_IRQ_KBD, ISA_IRQ_COM1 };

	platform = pi;
	for (uint32_t i = 0; i < pi->nioapic; i++) {
		struct ioapic *io = &ioapics[nioapic];
		io->regs = vmm_map_mmio(pi->ioapics[i].addr, IOAPIC_MMIO_SIZE);
		if (!io->regs) {
			kprintf("ioapic: cannot map I/O APIC %u at 0x%x\n", pi->ioapics[i].id,
				pi->ioapics[i].addr);
			continue;
		}
		io->gsi_base = pi->ioapics[i].gsi_base;
		io->pins = ((ioapic_read(io, IOAPIC_REG_VER) >> VER_MAX_REDIR_SHIFT) & 0xFF) + 1;
		for (uint32_t pin = 0; pin < io->pins; pin++)
			ioapic_write(io, IOAPIC_REG_REDTBL + 2 * pin, REDIR_MASKED);
		kprintf("ioapic: id %u at 0x%x, GSIs %u-%u\n", pi->ioapics[i].id, pi->ioapics[i].addr,
			io->gsi_base, io->gsi_base + io->pins - 1);
		nioapic++;
	}
	/*
	 * No I/O APIC (or `noioapic`): the 8259s in virtual-wire mode on the
	 * boot CPU's LINT0, as Linux does without one; the I/O APICs found
	 * keep every pin masked. The same when no CPU's APIC id fits the I/O
	 * APIC's 8-bit destination: LINT0 needs no destination.
	 */
	choice = apic_irq_dest(pi, bsp_apic_id, &dest);
	if (!nioapic || cmdline_has(boot_info()->cmdline, "noioapic") || choice == IRQ_DEST_NONE) {
		pic_legacy_init();
		kprintf("ioapic: %s; ISA IRQs through the 8259s on LINT0 (ExtINT) of the boot "
			"CPU\n", !nioapic ? "no usable I/O APIC" :
			choice == IRQ_DEST_NONE ? "no CPU has an APIC id below 255 (8-bit I/O APIC "
						  "destination, no interrupt remapping)" :
			"noioapic given");
		return;
	}
	if (choice == IRQ_DEST_OTHER) {
		other_dest = dest;
		kprintf("ioapic: boot CPU's APIC id %u does not fit the 8-bit I/O APIC destination "
			"(no interrupt remapping); device interrupts go to APIC id %u\n", bsp_apic_id,
			dest);
	}
	/* Routed, but masked until a driver asks (ioapic_mask_isa). */
	for (unsigned int i = 0; i < sizeof(isa_irqs); i++) {
		int gsi = route(isa_irqs[i], VEC_IRQ_BASE + isa_irqs[i], dest, true);
		if (gsi < 0)
			kprintf("ioapic: ISA IRQ %u has no I/O APIC pin\n", isa_irqs[i]);
		else
			kprintf("ioapic: ISA IRQ %u -> GSI %d -> vector 0x%x\n", isa_irqs[i], gsi,
				VEC_IRQ_BASE + isa_irqs[i]);
	}
}
