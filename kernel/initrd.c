/*
 * ustar reader for the initrd (POSIX.1-2008 pax, "ustar Interchange
 * Format"): 512-byte headers with octal fields and a checksum, data padded
 * to 512 bytes, two zero blocks at the end. Every header and every file is
 * bounds-checked against the blob before it is used; nothing is written.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/errno.h>
#include <kernel/initrd.h>
#include <kernel/string.h>

/* The ustar header block, field sizes from the standard. */
struct ustar_header {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];                  /* "ustar\0" (POSIX) or "ustar " (old GNU) */
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};
_Static_assert(sizeof(struct ustar_header) == INITRD_BLOCK, "ustar header is one block");
_Static_assert(offsetof(struct ustar_header, chksum) == 148, "ustar chksum offset");
_Static_assert(offsetof(struct ustar_header, magic) == 257, "ustar magic offset");
_Static_assert(offsetof(struct ustar_header, prefix) == 345, "ustar prefix offset");
_Static_assert(INITRD_PATH_MAX == sizeof(((struct ustar_header *)0)->prefix) + 1 +
	       sizeof(((struct ustar_header *)0)->name), "INITRD_PATH_MAX");

#define USTAR_MAGIC             "ustar"
#define USTAR_MAGIC_LEN         5
#define USTAR_CHKSUM_BLANK      ' '     /* the checksum field counts as spaces */

/*
 * An octal number field: optional leading spaces, at least one octal digit,
 * then only NULs or spaces up to the end of the field. GNU's base-256 form
 * (high bit of the first byte) is for files over 8 GiB and is refused.
 */
static bool ustar_octal(const char *field, size_t len, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;

	while (i < len && field[i] == ' ')
		i++;
	if (i == len || field[i] < '0' || field[i] > '7')
		return false;
	/* At most 12 digits (36 bits): cannot overflow uint64_t. */
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++)
		v = v * 8 + (uint64_t)(field[i] - '0');
	for (; i < len; i++)
		if (field[i] != '\0' && field[i] != ' ')
			return false;
	*out = v;
	return true;
}

/* POSIX sums the bytes as unsigned; some old tars summed them as signed. */
static bool ustar_checksum_ok(const unsigned char *blk, const struct ustar_header *h)
{
	uint64_t want;
	uint64_t usum = 0;
	int64_t ssum = 0;

	if (!ustar_octal(h->chksum, sizeof h->chksum, &want))
		return false;
	for (size_t i = 0; i < INITRD_BLOCK; i++) {
		bool in_field = i >= offsetof(struct ustar_header, chksum) &&
				i < offsetof(struct ustar_header, chksum) + sizeof h->chksum;
		unsigned char c = in_field ? USTAR_CHKSUM_BLANK : blk[i];
		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || (int64_t)want == ssum;
}

static bool block_is_zero(const unsigned char *blk)
{
	for (size_t i = 0; i < INITRD_BLOCK; i++)
		if (blk[i])
			return false;
	return true;
}

/* Joins prefix and name, neither of which need be NUL-terminated. */
static bool ustar_path(const struct ustar_header *h, char *out)
{
	size_t plen = strnlen(h->prefix, sizeof h->prefix);
	size_t nlen = strnlen(h->name, sizeof h->name);
	size_t pos = 0;

	if (nlen == 0)
		return false;
	if (plen) {
		memcpy(out, h->prefix, plen);
		out[plen] = '/';
		pos = plen + 1;
	}
	memcpy(out + pos, h->name, nlen);
	out[pos + nlen] = '\0';
	return true;
}

/* Links, devices, directories and FIFOs have no data blocks (POSIX typeflag). */
static bool ustar_has_data(char type)
{
	return type < '1' || type > '6';
}

void initrd_iter_init(struct initrd_iter *it, const void *blob, uint64_t size)
{
	*it = (struct initrd_iter){ .blob = blob, .size = size, .state = 1 };
}

static int initrd_fail(struct initrd_iter *it)
{
	it->state = -EINVAL;
	return it->state;
}

/*
 * The end marker is two zero blocks; an archive cut inside it or before it
 * is truncated. Anything after the marker (tar's record padding) is ignored.
 */
static int initrd_end(struct initrd_iter *it)
{
	uint64_t next = it->off + INITRD_BLOCK;

	if (it->size - next < INITRD_BLOCK || !block_is_zero(it->blob + next))
		return initrd_fail(it);
	it->state = 0;
	return 0;
}

/* Fills *e from the header at it->off and advances past its data. */
static int initrd_parse(struct initrd_iter *it, const unsigned char *blk,
			struct initrd_entry *e)
{
	struct ustar_header h;
	uint64_t mode, size, data_off = it->off + INITRD_BLOCK, pad;

	memcpy(&h, blk, sizeof h);
	if (memcmp(h.magic, USTAR_MAGIC, USTAR_MAGIC_LEN) != 0 ||
	    (h.magic[USTAR_MAGIC_LEN] != '\0' && h.magic[USTAR_MAGIC_LEN] != ' '))
		return initrd_fail(it);
	if (!ustar_checksum_ok(blk, &h) || !ustar_octal(h.size, sizeof h.size, &size) ||
	    !ustar_octal(h.mode, sizeof h.mode, &mode) || !ustar_path(&h, e->name))
		return initrd_fail(it);
	e->type = h.typeflag ? h.typeflag : INITRD_TYPE_FILE;
	e->mode = (uint32_t)(mode & 07777);
	if (!ustar_has_data(e->type))
		size = 0;
	/* data_off <= it->size was checked by the caller (a whole header fit). */
	if (size > it->size - data_off)
		return initrd_fail(it);
	e->data = it->blob + data_off;
	e->size = size;
	/*
	 * Skip the data and its padding. When the padding is cut off the data
	 * is still whole, so the entry is returned and the next call fails.
	 */
	it->off = data_off + size;
	pad = (INITRD_BLOCK - size % INITRD_BLOCK) % INITRD_BLOCK;
	it->off = pad <= it->size - it->off ? it->off + pad : it->size;
	return 1;
}

int initrd_next(struct initrd_iter *it, struct initrd_entry *e)
{
	const unsigned char *blk;

	if (it->state <= 0)
		return it->state;
	if (it->size - it->off < INITRD_BLOCK)
		return initrd_fail(it);
	blk = it->blob + it->off;
	if (block_is_zero(blk))
		return initrd_end(it);
	return initrd_parse(it, blk, e);
}

/* Archive names may start with "./" (tar -C dir .); callers never write it. */
static const char *initrd_strip_dot(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return name;
}

int initrd_find(const void *blob, uint64_t size, const char *name,
		const void **data, uint64_t *len)
{
	struct initrd_iter it;
	struct initrd_entry e;
	int r;

	initrd_iter_init(&it, blob, size);
	while ((r = initrd_next(&it, &e)) > 0) {
		if (e.type != INITRD_TYPE_FILE ||
		    strcmp(initrd_strip_dot(e.name), initrd_strip_dot(name)) != 0)
			continue;
		*data = e.data;
		*len = e.size;
		return 0;
	}
	return r < 0 ? r : -ENOENT;
}
