/*
 * Read-only access to the initrd: a POSIX ustar archive (IEEE 1003.1-2008,
 * pax "ustar Interchange Format") lying in memory. kernel/initrd.c; also
 * compiled by host tests, so fixed-width types only.
 */
#ifndef KERNEL_INITRD_H
#define KERNEL_INITRD_H

#include <stdbool.h>
#include <stdint.h>

#define INITRD_BLOCK            512
/* prefix (155) + '/' + name (100): the longest path a ustar header holds. */
#define INITRD_PATH_MAX         256

/* ustar typeflag values (the ones Kestrel cares about). */
#define INITRD_TYPE_FILE        '0'     /* also '\0' in pre-POSIX archives */
#define INITRD_TYPE_DIR         '5'

struct initrd_entry {
	char name[INITRD_PATH_MAX + 1]; /* NUL-terminated, "prefix/name" */
	char type;                      /* INITRD_TYPE_*, '\0' reported as '0' */
	uint32_t mode;                  /* permission bits from the header */
	const void *data;               /* inside the blob */
	uint64_t size;
};

/* Cursor over a blob; the fields are private to kernel/initrd.c. */
struct initrd_iter {
	const unsigned char *blob;
	uint64_t size;
	uint64_t off;                   /* next header */
	int state;                      /* 1 going on, 0 end marker seen, -EINVAL */
};

void initrd_iter_init(struct initrd_iter *it, const void *blob, uint64_t size);

/*
 * Next member in archive order: returns 1 with *e filled, 0 at the end
 * marker (two zero blocks), -EINVAL for a malformed or truncated archive
 * (and again on every later call). Never reads outside the blob.
 */
int initrd_next(struct initrd_iter *it, struct initrd_entry *e);

/*
 * Finds the regular file `name` (a leading "./" in the archive is ignored).
 * Returns 0 with *data and *len set, -ENOENT when there is no such file, or
 * -EINVAL when the archive is malformed before the file is reached.
 */
int initrd_find(const void *blob, uint64_t size, const char *name,
		const void **data, uint64_t *len);

#endif
