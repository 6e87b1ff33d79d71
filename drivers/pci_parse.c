/*
 * The pure part of PCI (include/kernel/pci.h): the ACPI MCFG table, BAR
 * sizing arithmetic, the capability list walk and class names. Host-tested
 * by tests/unit/test_pci.c; no kernel state here.
 */
#include <stdint.h>
#include <kernel/errno.h>
#include <kernel/pci.h>
#include <kernel/string.h>

#define ACPI_HEADER_LEN         36      /* ACPI 6.x 5.2.6 */
#define ACPI_LENGTH_OFFSET      4

#define LOG(...) do { if (log) log(ctx, __VA_ARGS__); } while (0)

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

int mcfg_parse(const void *table, size_t len, struct mcfg_entry *out, size_t max,
	       pci_log_fn log, void *ctx)
{
	const uint8_t *t = table;
	size_t n, kept = 0;

	if (len < MCFG_ENTRIES_OFFSET) {
		LOG("MCFG of %zu bytes is shorter than its %u-byte header", len,
		    MCFG_ENTRIES_OFFSET);
		return -EINVAL;
	}
	if (memcmp(t, "MCFG", 4) != 0 || get_le(t + ACPI_LENGTH_OFFSET, 4) != len) {
		LOG("MCFG header is not an MCFG of %zu bytes", len);
		return -EINVAL;
	}
	n = (len - MCFG_ENTRIES_OFFSET) / MCFG_ENTRY_SIZE;
	if ((len - MCFG_ENTRIES_OFFSET) % MCFG_ENTRY_SIZE)
		LOG("MCFG: %zu trailing bytes after %zu entries ignored",
		    (len - MCFG_ENTRIES_OFFSET) % MCFG_ENTRY_SIZE, n);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = t + MCFG_ENTRIES_OFFSET + i * MCFG_ENTRY_SIZE;
		struct mcfg_entry m = {
			.base = get_le(e, 8), .segment = (uint16_t)get_le(e + 8, 2),
			.bus_start = e[10], .bus_end = e[11],
		};
		unsigned long long base = m.base;
		uint64_t end = (uint64_t)(m.bus_end + 1) << ECAM_BUS_SHIFT;

		if (m.segment != 0)
			LOG("MCFG entry %zu: segment %u not supported, skipped", i, m.segment);
		else if (m.base == 0 || (m.base & (ECAM_BUS_SIZE - 1)))
			LOG("MCFG entry %zu: base %#llx is 0 or not 1 MiB aligned, skipped", i, base);
		else if (m.bus_start > m.bus_end)
			LOG("MCFG entry %zu: buses %u-%u, skipped", i, m.bus_start, m.bus_end);
		else if (m.base + end < m.base)
			LOG("MCFG entry %zu: window at %#llx wraps, skipped", i, base);
		else if (kept == max)
			LOG("MCFG entry %zu: more than %zu entries, skipped", i, max);
		else
			out[kept++] = m;
	}
	return (int)kept;
}

int pci_bar_decode(uint32_t lo, uint32_t lo_mask, uint32_t hi, uint32_t hi_mask,
		   struct pci_bar *out)
{
	uint64_t mask;

	*out = (struct pci_bar){ 0 };
	if (lo & PCI_BAR_IO) {
		out->io = true;
		out->base = lo & PCI_BAR_IO_MASK;
		if ((lo_mask & PCI_BAR_IO_MASK) == 0)
			return -ENOENT;
		/* The upper 16 bits may read back 0 (x86 has 64 KiB of ports). */
		mask = lo_mask & PCI_BAR_IO_MASK;
		if ((mask & 0xFFFF0000u) == 0)
			mask |= 0xFFFF0000u;
		mask |= ~(uint64_t)UINT32_MAX;
	} else {
		switch (lo & PCI_BAR_MEM_TYPE_MASK) {
		case PCI_BAR_MEM_32:
			mask = (lo_mask & PCI_BAR_MEM_MASK) | ~(uint64_t)UINT32_MAX;
			out->base = lo & PCI_BAR_MEM_MASK;
			if ((lo_mask & PCI_BAR_MEM_MASK) == 0)
				return -ENOENT;
			break;
		case PCI_BAR_MEM_64:
			out->mem64 = true;
			mask = (uint64_t)hi_mask << 32 | (lo_mask & PCI_BAR_MEM_MASK);
			out->base = (uint64_t)hi << 32 | (lo & PCI_BAR_MEM_MASK);
			if (mask == 0)
				return -ENOENT;
			break;
		default:
			return -EINVAL;
		}
		out->prefetch = lo & PCI_BAR_PREFETCH;
	}
	out->size = ~mask + 1;
	/* The writable bits must be contiguous from the top: size is a power of two. */
	if (out->size == 0 || (out->size & (out->size - 1)))
		return -EINVAL;
	return 0;
}

uint8_t pci_cap_find(pci_cfg_read_fn read, void *ctx, uint8_t id, pci_log_fn log, void *lctx)
{
	uint8_t off;

	if (!((read(ctx, PCI_COMMAND) >> 16) & PCI_STATUS_CAP_LIST))
		return 0;
	off = (uint8_t)(read(ctx, PCI_CAP_PTR) & PCI_CAP_PTR_MASK);
	for (unsigned int i = 0; off; i++) {
		uint32_t v;

		if (off < PCI_HEADER_END || i == PCI_CAP_MAX) {
			if (log)
				log(lctx, "capability list %s at %#x, not searched further",
				    off < PCI_HEADER_END ? "points into the header" : "loops", off);
			return 0;
		}
		v = read(ctx, off);
		if ((v & 0xFF) == id)
			return off;
		off = (uint8_t)((v >> 8) & PCI_CAP_PTR_MASK);
	}
	return 0;
}

const char *pci_class_name(uint8_t class, uint8_t subclass)
{
	static const struct { uint8_t class, subclass; const char *name; } names[] = {
		{ 0x01, 0x01, "IDE controller" }, { 0x01, 0x06, "SATA controller" },
		{ 0x01, 0x08, "NVMe controller" }, { 0x02, 0x00, "Ethernet controller" },
		{ 0x03, 0x00, "VGA controller" }, { 0x04, 0x03, "audio device" },
		{ 0x06, 0x00, "host bridge" }, { 0x06, 0x01, "ISA bridge" },
		{ 0x06, 0x04, "PCI bridge" }, { 0x06, 0x80, "bridge" },
		{ 0x0C, 0x03, "USB controller" }, { 0x0C, 0x05, "SMBus controller" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].class == class && names[i].subclass == subclass)
			return names[i].name;
	return NULL;
}
