/*
 * QEMU fw_cfg through the legacy I/O ports (QEMU docs/specs/fw_cfg.txt):
 * write a 16-bit selector to 0x510, read bytes from 0x511. The file
 * directory gives each named blob's selector.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/errno.h>
#include <kernel/fw_cfg.h>
#include <kernel/string.h>

#define FW_CFG_PORT_SEL         0x510
#define FW_CFG_PORT_DATA        0x511
#define FW_CFG_SIGNATURE        0x0000  /* reads "QEMU" */
#define FW_CFG_FILE_DIR         0x0019
#define FW_CFG_NAME_LEN         56

struct fw_cfg_file {            /* directory entry, big-endian fields */
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[FW_CFG_NAME_LEN];
} __attribute__((packed));
_Static_assert(sizeof(struct fw_cfg_file) == 64, "fw_cfg directory entry");

static void fw_cfg_select(uint16_t key)
{
	outw(FW_CFG_PORT_SEL, key);
}

static void fw_cfg_read(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

static uint32_t be32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_select(FW_CFG_SIGNATURE);
	fw_cfg_read(sig, sizeof(sig));
	return memcmp(sig, "QEMU", 4) == 0;
}

int fw_cfg_read_file(const char *name, char *buf, size_t len)
{
	uint32_t count;
	struct fw_cfg_file f;

	if (!len || !fw_cfg_present())
		return -ENOENT;
	fw_cfg_select(FW_CFG_FILE_DIR);
	fw_cfg_read(&count, sizeof(count));
	for (uint32_t i = 0; i < be32(count); i++) {
		fw_cfg_read(&f, sizeof(f));
		f.name[FW_CFG_NAME_LEN - 1] = '\0';
		if (strcmp(f.name, name) != 0)
			continue;
		uint32_t size = be32(f.size);
		if (size >= len)
			return -ERANGE;
		fw_cfg_select(__builtin_bswap16(f.select));
		fw_cfg_read(buf, size);
		buf[size] = '\0';
		return (int)size;
	}
	return -ENOENT;
}
