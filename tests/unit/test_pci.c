/*
 * Host tests for drivers/pci_parse.c: the MCFG table QEMU's q35 builds
 * (tests/unit/data/q35-smp4, dumped by tools/dump_tables.sh) and
 * malformed copies of it, BAR decoding, and capability list walks over a
 * fake configuration space, including a list that loops and one that
 * points into the header.
 */
#include "unit.h"
#include "../../drivers/pci_parse.c"

#include <stdarg.h>
#include <stdlib.h>

#define Q35_MCFG "tests/unit/data/q35-smp4/07fe231b-MCFG.bin"

static char logbuf[1024];
static int nlogs;

static void log_fn(void *ctx, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(logbuf);

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(logbuf + used, sizeof(logbuf) - used, fmt, ap);
	va_end(ap);
	used = strlen(logbuf);
	snprintf(logbuf + used, sizeof(logbuf) - used, "\n");
	nlogs++;
}

static void log_reset(void)
{
	logbuf[0] = '\0';
	nlogs = 0;
}

static size_t load(const char *path, uint8_t *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A table of n entries (base, segment, buses) built by hand. */
static size_t build(uint8_t *t, size_t n, const struct mcfg_entry *e, size_t extra)
{
	size_t len = MCFG_ENTRIES_OFFSET + n * MCFG_ENTRY_SIZE + extra;

	memset(t, 0, len);
	memcpy(t, "MCFG", 4);
	put32(t + 4, (uint32_t)len);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = t + MCFG_ENTRIES_OFFSET + i * MCFG_ENTRY_SIZE;
		put64(p, e[i].base);
		p[8] = (uint8_t)e[i].segment;
		p[9] = (uint8_t)(e[i].segment >> 8);
		p[10] = e[i].bus_start;
		p[11] = e[i].bus_end;
	}
	return len;
}

static const char *test_q35_dump(void)
{
	uint8_t t[256];
	struct mcfg_entry e[MCFG_MAX];
	size_t len = load(Q35_MCFG, t, sizeof(t));

	UASSERT(len == 60);
	log_reset();
	UASSERT_EQ(mcfg_parse(t, len, e, MCFG_MAX, log_fn, NULL), 1);
	UASSERT_EQ(nlogs, 0);
	UASSERT_EQ(e[0].base, 0xB0000000);
	UASSERT_EQ(e[0].segment, 0);
	UASSERT_EQ(e[0].bus_start, 0);
	UASSERT_EQ(e[0].bus_end, 255);
	return NULL;
}

static const char *test_short_and_bad_header(void)
{
	uint8_t t[256];
	struct mcfg_entry e[MCFG_MAX];
	size_t len = load(Q35_MCFG, t, sizeof(t));

	log_reset();
	UASSERT_EQ(mcfg_parse(t, 40, e, MCFG_MAX, log_fn, NULL), -EINVAL);
	UASSERT(strstr(logbuf, "shorter than"));
	log_reset();
	UASSERT_EQ(mcfg_parse(t, len - 1, e, MCFG_MAX, log_fn, NULL), -EINVAL);     /* length lies */
	UASSERT_EQ(nlogs, 1);
	t[0] = 'X';
	log_reset();
	UASSERT_EQ(mcfg_parse(t, len, e, MCFG_MAX, log_fn, NULL), -EINVAL);
	UASSERT_EQ(mcfg_parse(t, len, e, MCFG_MAX, NULL, NULL), -EINVAL);   /* no log: silent */
	return NULL;
}

static const char *test_no_entries(void)
{
	uint8_t t[256];
	struct mcfg_entry e[MCFG_MAX];
	size_t len = build(t, 0, NULL, 0);

	log_reset();
	UASSERT_EQ(mcfg_parse(t, len, e, MCFG_MAX, log_fn, NULL), 0);
	UASSERT_EQ(nlogs, 0);
	return NULL;
}

static const char *test_bad_entries_skipped(void)
{
	const struct mcfg_entry in[] = {
		{ .base = 0xE0000000, .segment = 1, .bus_start = 0, .bus_end = 255 },
		{ .base = 0, .bus_start = 0, .bus_end = 255 },
		{ .base = 0xE0080000, .bus_start = 0, .bus_end = 255 },         /* not 1 MiB aligned */
		{ .base = 0xE0000000, .bus_start = 9, .bus_end = 3 },
		{ .base = 0xFFFFFFFFFFF00000ull, .bus_start = 0, .bus_end = 255 },  /* wraps */
		{ .base = 0xE0000000, .bus_start = 0, .bus_end = 63 },          /* the good one */
	};
	uint8_t t[512];
	struct mcfg_entry e[MCFG_MAX];
	size_t len = build(t, 6, in, 0);

	log_reset();
	UASSERT_EQ(mcfg_parse(t, len, e, MCFG_MAX, log_fn, NULL), 1);
	UASSERT_EQ(nlogs, 5);
	UASSERT(strstr(logbuf, "entry 0: segment 1 not supported"));
	UASSERT(strstr(logbuf, "entry 1: base 0 is 0 or not 1 MiB aligned"));
	UASSERT(strstr(logbuf, "entry 2: base 0xe0080000"));
	UASSERT(strstr(logbuf, "entry 3: buses 9-3"));
	UASSERT(strstr(logbuf, "entry 4: window"));
	UASSERT_EQ(e[0].base, 0xE0000000);
	UASSERT_EQ(e[0].bus_end, 63);
	return NULL;
}

static const char *test_trailing_and_too_many(void)
{
	struct mcfg_entry in[3];
	uint8_t t[512];
	struct mcfg_entry e[2];
	size_t len;

	for (int i = 0; i < 3; i++)
		in[i] = (struct mcfg_entry){ .base = 0xE0000000ull + ((uint64_t)i << 28),
					     .bus_start = 0, .bus_end = 255 };
	len = build(t, 3, in, 7);
	log_reset();
	UASSERT_EQ(mcfg_parse(t, len, e, 2, log_fn, NULL), 2);
	UASSERT(strstr(logbuf, "7 trailing bytes after 3 entries"));
	UASSERT(strstr(logbuf, "entry 2: more than 2 entries"));
	UASSERT_EQ(e[1].base, 0xF0000000);
	return NULL;
}

static const char *test_bar_decode(void)
{
	struct pci_bar b;

	/* 32-bit memory, 16 KiB, non-prefetchable (what nec-usb-xhci has). */
	UASSERT_EQ(pci_bar_decode(0xFEBF0000, 0xFFFFC000, 0, 0, &b), 0);
	UASSERT(!b.io && !b.mem64 && !b.prefetch);
	UASSERT_EQ(b.base, 0xFEBF0000);
	UASSERT_EQ(b.size, 0x4000);
	/* 64-bit memory above 4 GiB, prefetchable, 1 MiB. */
	UASSERT_EQ(pci_bar_decode(0x0000000C, 0xFFF0000C, 0x8, 0xFFFFFFFF, &b), 0);
	UASSERT(b.mem64 && b.prefetch);
	UASSERT_EQ(b.base, 0x800000000ull);
	UASSERT_EQ(b.size, 0x100000);
	/* 64-bit memory bigger than 4 GiB. */
	UASSERT_EQ(pci_bar_decode(0x4, 0x4, 0x10, 0xFFFFFFFE, &b), 0);
	UASSERT_EQ(b.size, 0x200000000ull);
	/* I/O, 32 ports, upper half reading 0 as x86 chipsets do. */
	UASSERT_EQ(pci_bar_decode(0xC041, 0x0000FFE1, 0, 0, &b), 0);
	UASSERT(b.io);
	UASSERT_EQ(b.base, 0xC040);
	UASSERT_EQ(b.size, 32);
	/* Not implemented, reserved type, holes in the mask. */
	UASSERT_EQ(pci_bar_decode(0, 0, 0, 0, &b), -ENOENT);
	UASSERT_EQ(pci_bar_decode(0x4, 0x4, 0, 0, &b), -ENOENT);
	UASSERT_EQ(pci_bar_decode(0x6, 0xFFFF0006, 0, 0, &b), -EINVAL);
	UASSERT_EQ(pci_bar_decode(0x2, 0xFFFF0002, 0, 0, &b), -EINVAL);
	UASSERT_EQ(pci_bar_decode(0x0, 0xFF0F0000, 0, 0, &b), -EINVAL);
	return NULL;
}

/* A fake configuration space. */
static uint8_t cfg[PCI_CFG_SIZE];

static uint32_t cfg_read(void *ctx, uint16_t off)
{
	(void)ctx;
	return (uint32_t)cfg[off] | (uint32_t)cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
	       (uint32_t)cfg[off + 3] << 24;
}

static void caps(const uint8_t (*list)[2], int n, uint8_t first)
{
	memset(cfg, 0, sizeof(cfg));
	cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cfg[PCI_CAP_PTR] = first;
	for (int i = 0; i < n; i++) {
		cfg[list[i][0]] = list[i][1];                   /* id */
		cfg[list[i][0] + 1] = i + 1 < n ? list[i + 1][0] : 0;
	}
}

static const char *test_cap_find(void)
{
	/* qemu-xhci: MSI-X at 0x90, PCIe at 0xA0 (as QEMU lays them out). */
	const uint8_t list[][2] = { { 0x90, PCI_CAP_ID_MSIX }, { 0xA0, 0x10 }, { 0x50, PCI_CAP_ID_MSI } };

	caps(list, 3, 0x90);
	log_reset();
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, PCI_CAP_ID_MSIX, log_fn, NULL), 0x90);
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, PCI_CAP_ID_MSI, log_fn, NULL), 0x50);
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, 0x01, log_fn, NULL), 0);
	UASSERT_EQ(nlogs, 0);
	/* Low two bits of the pointers are reserved and ignored. */
	cfg[PCI_CAP_PTR] = 0x93;
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, PCI_CAP_ID_MSIX, log_fn, NULL), 0x90);
	/* No capability list at all. */
	cfg[PCI_STATUS] = 0;
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, PCI_CAP_ID_MSIX, log_fn, NULL), 0);
	UASSERT_EQ(nlogs, 0);
	return NULL;
}

static const char *test_cap_malformed(void)
{
	const uint8_t loop[][2] = { { 0x40, 0x09 }, { 0x60, 0x09 } };

	caps(loop, 2, 0x40);
	cfg[0x61] = 0x40;       /* 0x60 points back at 0x40 */
	log_reset();
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, PCI_CAP_ID_MSI, log_fn, NULL), 0);
	UASSERT_EQ(nlogs, 1);
	UASSERT(strstr(logbuf, "loops"));
	caps(loop, 2, 0x40);
	cfg[0x61] = 0x10;       /* into the header */
	log_reset();
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, PCI_CAP_ID_MSI, log_fn, NULL), 0);
	UASSERT(strstr(logbuf, "points into the header at 0x10"));
	/* Found before the damage: still found. */
	UASSERT_EQ(pci_cap_find(cfg_read, NULL, 0x09, log_fn, NULL), 0x40);
	return NULL;
}

static const char *test_class_names(void)
{
	UASSERT_STR(pci_class_name(0x0C, 0x03), "USB controller");
	UASSERT_STR(pci_class_name(0x06, 0x04), "PCI bridge");
	UASSERT(pci_class_name(0xFF, 0x00) == NULL);
	return NULL;
}

UNIT_MAIN("pci",
	  UTEST(test_q35_dump),
	  UTEST(test_short_and_bad_header),
	  UTEST(test_no_entries),
	  UTEST(test_bad_entries_skipped),
	  UTEST(test_trailing_and_too_many),
	  UTEST(test_bar_decode),
	  UTEST(test_cap_find),
	  UTEST(test_cap_malformed),
	  UTEST(test_class_names))
