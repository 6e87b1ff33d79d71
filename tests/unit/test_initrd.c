/*
 * Host tests for kernel/initrd.c: real archives written by GNU tar (run
 * here, with the flags the Makefile uses for build/initrd.tar) and crafted
 * ones from a small ustar writer, plus corrupted copies: flipped header
 * bytes, bad fields, and truncation at every length. Each blob is copied
 * into a buffer of its exact size so ASan catches any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "../../kernel/initrd.c"

#define TAR_FLAGS       "--format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner"
#define ARCHIVE_MAX     (64 * 1024)
#define INIT_SIZE       1000            /* not a multiple of the block size */
#define HELLO_SIZE      INITRD_BLOCK    /* exactly one block, no padding */

/* A name too long for the 100-byte name field: tar must split it into prefix/name. */
#define LONG_DIR        "a-directory-name-that-is-long-enough/" \
			"another-directory-name-so-that-the-path-needs-the-prefix-field"
#define LONG_PATH       LONG_DIR "/long-file"

struct blob {
	unsigned char *p;
	size_t len;
};

static unsigned char gnu_tar[ARCHIVE_MAX];
static size_t gnu_tar_len;
static unsigned char gnu_tar_dot[ARCHIVE_MAX];      /* made with "tar -C dir ." */
static size_t gnu_tar_dot_len;

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)(i * 31 + seed);
}

static const char *write_file(const char *dir, const char *name, size_t len, unsigned seed)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return "cannot create a file for tar";
	for (size_t i = 0; i < len; i++)
		fputc(pattern(i, seed), f);
	fclose(f);
	return NULL;
}

static const char *run_tar(const char *dir, const char *members, unsigned char *out, size_t *len)
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof cmd, "tar " TAR_FLAGS " -C %s -cf - %s", dir, members);
	p = popen(cmd, "r");
	if (!p)
		return "cannot run tar";
	*len = fread(out, 1, ARCHIVE_MAX, p);
	if (pclose(p) != 0 || *len == 0 || *len == ARCHIVE_MAX)
		return "tar failed or its archive does not fit";
	return NULL;
}

/* Builds both GNU tar archives once (the tests that use them call this first). */
static const char *make_gnu_archives(void)
{
	static bool made;
	char dir[] = "/tmp/kestrel-initrd-XXXXXX", sub[600], cmd[700];
	const char *why;

	if (made)
		return NULL;
	if (!mkdtemp(dir))
		return "mkdtemp failed";
	snprintf(sub, sizeof sub, "%s/%s", dir, LONG_DIR);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
	if (system(cmd) != 0)
		return "mkdir failed";
	if ((why = write_file(dir, "init", INIT_SIZE, 1)) ||
	    (why = write_file(dir, "hello", HELLO_SIZE, 2)) ||
	    (why = write_file(dir, "empty", 0, 3)) ||
	    (why = write_file(dir, LONG_PATH, 77, 4)) ||
	    (why = run_tar(dir, "a-directory-name-that-is-long-enough empty hello init",
			   gnu_tar, &gnu_tar_len)) ||
	    (why = run_tar(dir, ".", gnu_tar_dot, &gnu_tar_dot_len)))
		return why;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return "cleanup failed";
	made = true;
	return NULL;
}

/*
 * An exact-size heap copy of the first len bytes (len may be 0). The
 * previous copy is freed here rather than by the tests, so a test that
 * fails half-way leaks nothing (LeakSanitizer would hide its KTAP line).
 */
static struct blob copy_of(const unsigned char *src, size_t len)
{
	static unsigned char *last;
	struct blob b = { malloc(len ? len : 1), len };

	free(last);
	last = b.p;

	if (len)
		memcpy(b.p, src, len);
	return b;
}

/* Iterates the whole archive; returns the final status and counts entries. */
static int walk(const struct blob *b, int *entries)
{
	struct initrd_iter it;
	struct initrd_entry e;
	int r;

	*entries = 0;
	initrd_iter_init(&it, b->p, b->len);
	while ((r = initrd_next(&it, &e)) > 0)
		(*entries)++;
	return r;
}

static bool data_is(const void *data, uint64_t len, size_t want_len, unsigned seed)
{
	const unsigned char *d = data;

	if (len != want_len)
		return false;
	for (size_t i = 0; i < want_len; i++)
		if (d[i] != pattern(i, seed))
			return false;
	return true;
}

/* Offset just past the end marker: where a truncated copy becomes whole. */
static size_t marker_end(const unsigned char *tar, size_t len)
{
	struct blob b = copy_of(tar, len);
	struct initrd_iter it;
	struct initrd_entry e;

	initrd_iter_init(&it, b.p, b.len);
	while (initrd_next(&it, &e) > 0)
		;
	return it.off + 2 * INITRD_BLOCK;
}

static const char *test_gnu_tar_entries(void)
{
	static const struct { const char *name; char type; size_t size; unsigned seed; } want[] = {
		{ "a-directory-name-that-is-long-enough/", INITRD_TYPE_DIR, 0, 0 },
		{ LONG_DIR "/", INITRD_TYPE_DIR, 0, 0 },
		{ LONG_PATH, INITRD_TYPE_FILE, 77, 4 },
		{ "empty", INITRD_TYPE_FILE, 0, 3 },
		{ "hello", INITRD_TYPE_FILE, HELLO_SIZE, 2 },
		{ "init", INITRD_TYPE_FILE, INIT_SIZE, 1 },
	};
	const char *why = make_gnu_archives();
	struct initrd_iter it;
	struct initrd_entry e;
	size_t n = 0;
	int r;

	if (why)
		return why;
	struct blob b = copy_of(gnu_tar, gnu_tar_len);
	initrd_iter_init(&it, b.p, b.len);
	while ((r = initrd_next(&it, &e)) > 0) {
		if (n == sizeof want / sizeof want[0])
			UFAIL("extra entry %s", e.name);
		UASSERT_STR(e.name, want[n].name);
		UASSERT_EQ(e.type, want[n].type);
		if (e.type == INITRD_TYPE_FILE && !data_is(e.data, e.size, want[n].size, want[n].seed))
			UFAIL("%s: wrong data (size %llu)", e.name, (unsigned long long)e.size);
		n++;
	}
	UASSERT_EQ(r, 0);
	UASSERT_EQ(n, sizeof want / sizeof want[0]);
	UASSERT_EQ(initrd_next(&it, &e), 0);    /* stays at the end */
	return NULL;
}

static const char *test_find(void)
{
	const char *why = make_gnu_archives();
	const void *data;
	uint64_t len;

	if (why)
		return why;
	struct blob b = copy_of(gnu_tar, gnu_tar_len);
	UASSERT_EQ(initrd_find(b.p, b.len, "init", &data, &len), 0);
	UASSERT(data_is(data, len, INIT_SIZE, 1));
	UASSERT_EQ(initrd_find(b.p, b.len, "hello", &data, &len), 0);
	UASSERT(data_is(data, len, HELLO_SIZE, 2));
	UASSERT_EQ(initrd_find(b.p, b.len, "./empty", &data, &len), 0);
	UASSERT_EQ(len, 0);
	UASSERT_EQ(initrd_find(b.p, b.len, LONG_PATH, &data, &len), 0);
	UASSERT(data_is(data, len, 77, 4));
	UASSERT_EQ(initrd_find(b.p, b.len, "missing", &data, &len), -ENOENT);
	UASSERT_EQ(initrd_find(b.p, b.len, "ini", &data, &len), -ENOENT);
	UASSERT_EQ(initrd_find(b.p, b.len, "initx", &data, &len), -ENOENT);
	/* A directory is not a file. */
	UASSERT_EQ(initrd_find(b.p, b.len, LONG_DIR "/", &data, &len), -ENOENT);
	return NULL;
}

/* "tar -C dir ." names members "./init": lookups of "init" must still work. */
static const char *test_find_dot_slash(void)
{
	const char *why = make_gnu_archives();
	const void *data;
	uint64_t len;
	int entries;

	if (why)
		return why;
	struct blob b = copy_of(gnu_tar_dot, gnu_tar_dot_len);
	UASSERT_EQ(walk(&b, &entries), 0);
	UASSERT_EQ(entries, 7);                 /* "./" too */
	UASSERT_EQ(initrd_find(b.p, b.len, "init", &data, &len), 0);
	UASSERT(data_is(data, len, INIT_SIZE, 1));
	UASSERT_EQ(initrd_find(b.p, b.len, LONG_PATH, &data, &len), 0);
	return NULL;
}

/* Every prefix of the archive: truncated before the end marker is -EINVAL. */
static const char *test_truncation_every_length(void)
{
	const char *why = make_gnu_archives();
	size_t whole, init_end = 0;
	const void *data;
	uint64_t len;

	if (why)
		return why;
	whole = marker_end(gnu_tar, gnu_tar_len);
	UASSERT(whole <= gnu_tar_len);
	for (size_t l = 0; l <= gnu_tar_len; l++) {
		struct blob b = copy_of(gnu_tar, l);
		int entries, r = walk(&b, &entries);
		int f = initrd_find(b.p, b.len, "init", &data, &len);

		if (f == 0 && !init_end)
			init_end = l;
		if (l < whole && r != -EINVAL)
			UFAIL("length %zu: walk gave %d, expected -EINVAL", l, r);
		if (l >= whole && (r != 0 || entries != 6))
			UFAIL("length %zu: walk gave %d after %d entries", l, r, entries);
		if (f != 0 && f != -EINVAL)
			UFAIL("length %zu: find gave %d", l, f);
		if (init_end && f != 0)
			UFAIL("length %zu: init found at %zu but not here", l, init_end);
	}
	/* init is the last member: found exactly once its data is whole. */
	UASSERT_EQ(init_end, whole - 2 * INITRD_BLOCK -
		   (INITRD_BLOCK - INIT_SIZE % INITRD_BLOCK));
	return NULL;
}

/* Any changed header byte breaks the checksum or a field: -EINVAL, never a wrong entry. */
static const char *test_header_byte_flips(void)
{
	static const unsigned char masks[] = { 0x01, 0x80 };
	const char *why = make_gnu_archives();

	if (why)
		return why;
	for (size_t m = 0; m < sizeof masks; m++) {
		for (size_t i = 0; i < INITRD_BLOCK; i++) {
			struct blob b = copy_of(gnu_tar, gnu_tar_len);
			int entries, r;

			b.p[i] ^= masks[m];
			r = walk(&b, &entries);
			if (r != -EINVAL || entries != 0)
				UFAIL("byte %zu ^ 0x%x: walk gave %d after %d entries",
				      i, masks[m], r, entries);
		}
	}
	return NULL;
}

/* ---- a small ustar writer for hand-made headers ---- */

static void put_octal(char *field, size_t len, uint64_t v)
{
	snprintf(field, len, "%0*llo", (int)len - 1, (unsigned long long)v);
}

static void seal(struct ustar_header *h)
{
	unsigned sum = 0;
	const unsigned char *p = (const unsigned char *)h;

	memset(h->chksum, ' ', sizeof h->chksum);
	for (size_t i = 0; i < sizeof *h; i++)
		sum += p[i];
	snprintf(h->chksum, sizeof h->chksum, "%06o", sum);
}

/* Appends a member; returns the new length. */
static size_t add(unsigned char *ar, size_t off, const char *name, char type,
		  const void *data, size_t len)
{
	struct ustar_header h;

	memset(&h, 0, sizeof h);
	memcpy(h.name, name, strnlen(name, sizeof h.name));
	put_octal(h.mode, sizeof h.mode, 0755);
	put_octal(h.uid, sizeof h.uid, 0);
	put_octal(h.gid, sizeof h.gid, 0);
	put_octal(h.size, sizeof h.size, len);
	put_octal(h.mtime, sizeof h.mtime, 0);
	h.typeflag = type;
	memcpy(h.magic, "ustar", 6);
	memcpy(h.version, "00", 2);
	seal(&h);
	memcpy(ar + off, &h, sizeof h);
	off += INITRD_BLOCK;
	memcpy(ar + off, data, len);
	memset(ar + off + len, 0, (INITRD_BLOCK - len % INITRD_BLOCK) % INITRD_BLOCK);
	return off + (len + INITRD_BLOCK - 1) / INITRD_BLOCK * INITRD_BLOCK;
}

static size_t finish(unsigned char *ar, size_t off)
{
	memset(ar + off, 0, 2 * INITRD_BLOCK);
	return off + 2 * INITRD_BLOCK;
}

static struct ustar_header *hdr(unsigned char *ar, size_t off)
{
	return (struct ustar_header *)(ar + off);
}

static bool in_chksum(size_t i)
{
	return i >= offsetof(struct ustar_header, chksum) &&
	       i < offsetof(struct ustar_header, chksum) + sizeof(((struct ustar_header *)0)->chksum);
}

static int find_in(unsigned char *ar, size_t len, const char *name, uint64_t *size)
{
	struct blob b = copy_of(ar, len);
	const void *data;
	int r = initrd_find(b.p, b.len, name, &data, size);

	return r;
}

static const char *test_crafted_valid(void)
{
	static unsigned char ar[8 * INITRD_BLOCK];
	char name[101];
	uint64_t size;
	size_t len;

	/* A name of exactly 100 bytes has no NUL in its field. */
	memset(name, 'n', 100);
	name[100] = '\0';
	len = finish(ar, add(ar, add(ar, 0, name, '0', "abc", 3), "old", '\0', "xy", 2));
	UASSERT_EQ(find_in(ar, len, name, &size), 0);
	UASSERT_EQ(size, 3);
	UASSERT_EQ(find_in(ar, len, "old", &size), 0);      /* typeflag NUL: a file */
	UASSERT_EQ(size, 2);

	/* Old GNU magic "ustar  \0", leading-space octal, signed checksum. */
	len = finish(ar, add(ar, 0, "gnu", '0', "q", 1));
	memcpy(hdr(ar, 0)->magic, "ustar ", 6);
	memcpy(hdr(ar, 0)->version, " ", 2);
	memcpy(hdr(ar, 0)->size, "          1 ", 12);
	hdr(ar, 0)->uname[0] = (char)0xE9;      /* a Latin-1 byte: signed and unsigned sums differ */
	seal(hdr(ar, 0));
	UASSERT_EQ(find_in(ar, len, "gnu", &size), 0);
	UASSERT_EQ(size, 1);
	unsigned want = 0;
	for (size_t i = 0; i < INITRD_BLOCK; i++)
		want += (unsigned)(signed char)(in_chksum(i) ? ' ' : ar[i]);
	snprintf(hdr(ar, 0)->chksum, 8, "%06o", want);
	UASSERT_EQ(find_in(ar, len, "gnu", &size), 0);

	/* Device entries have no data blocks whatever their size field says. */
	len = finish(ar, add(ar, add(ar, 0, "dev", '3', "", 0), "after", '0', "z", 1));
	put_octal(hdr(ar, 0)->size, sizeof hdr(ar, 0)->size, 1000);
	seal(hdr(ar, 0));
	UASSERT_EQ(find_in(ar, len, "after", &size), 0);
	UASSERT_EQ(size, 1);
	UASSERT_EQ(find_in(ar, len, "dev", &size), -ENOENT);

	/* An empty archive is just the end marker. */
	len = finish(ar, 0);
	UASSERT_EQ(find_in(ar, len, "init", &size), -ENOENT);
	return NULL;
}

/* Each damaged field must make the archive -EINVAL. */
static const char *test_crafted_malformed(void)
{
	static unsigned char ar[8 * INITRD_BLOCK];
	static const struct { const char *what; size_t off; const char *bytes; size_t n; } cases[] = {
		{ "magic", 257, "tsuar", 5 },
		{ "magic terminator", 262, "x", 1 },
		{ "size not octal", 124, "0000000008 ", 11 },
		{ "size trailing junk", 124, "00000000001x", 12 },
		{ "size empty", 124, "\0\0\0\0\0\0\0\0\0\0\0\0", 12 },
		{ "size base-256", 124, "\x80\0\0\0\0\0\0\0\0\0\0\x01", 12 },
		{ "size past the blob", 124, "00000100000 ", 12 },
		{ "size 12 digits", 124, "777777777777", 12 },
		{ "mode not octal", 100, "0000x55", 7 },
		{ "empty name", 0, "\0", 1 },
		{ "checksum not octal", 148, "01234x\0 ", 8 },
	};
	uint64_t size;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = finish(ar, add(ar, 0, "f", '0', "data", 4));

		memcpy(ar + cases[i].off, cases[i].bytes, cases[i].n);
		if (!in_chksum(cases[i].off))
			seal(hdr(ar, 0));
		int r = find_in(ar, len, "f", &size);
		if (r != -EINVAL)
			UFAIL("%s: find gave %d", cases[i].what, r);
	}
	return NULL;
}

static const char *test_bad_checksum(void)
{
	static unsigned char ar[8 * INITRD_BLOCK];
	size_t len = finish(ar, add(ar, 0, "f", '0', "data", 4));
	uint64_t size;

	UASSERT_EQ(find_in(ar, len, "f", &size), 0);
	hdr(ar, 0)->linkname[5] = 'x';          /* content changed, checksum kept */
	UASSERT_EQ(find_in(ar, len, "f", &size), -EINVAL);
	return NULL;
}

/* Garbage after one zero block, a single zero block, no end marker at all. */
static const char *test_end_marker(void)
{
	static unsigned char ar[8 * INITRD_BLOCK];
	size_t off = add(ar, 0, "f", '0', "data", 4);
	size_t len = finish(ar, off);
	uint64_t size;
	int entries;

	ar[off + INITRD_BLOCK + 7] = 1;
	struct blob b = copy_of(ar, len);
	UASSERT_EQ(walk(&b, &entries), -EINVAL);
	UASSERT_EQ(entries, 1);
	UASSERT_EQ(find_in(ar, off + INITRD_BLOCK, "g", &size), -EINVAL);
	UASSERT_EQ(find_in(ar, off, "g", &size), -EINVAL);
	/* A member after a file whose padding is cut off. */
	UASSERT_EQ(find_in(ar, INITRD_BLOCK + 4, "f", &size), 0);
	UASSERT_EQ(find_in(ar, INITRD_BLOCK + 4, "g", &size), -EINVAL);
	return NULL;
}

/* After an error the iterator keeps reporting it. */
static const char *test_error_sticks(void)
{
	static unsigned char ar[4 * INITRD_BLOCK];
	struct initrd_iter it;
	struct initrd_entry e;
	size_t len = finish(ar, add(ar, 0, "f", '0', "data", 4));

	ar[0] ^= 1;
	struct blob b = copy_of(ar, len);
	initrd_iter_init(&it, b.p, b.len);
	UASSERT_EQ(initrd_next(&it, &e), -EINVAL);
	UASSERT_EQ(initrd_next(&it, &e), -EINVAL);
	return NULL;
}

UNIT_MAIN("initrd",
	  UTEST(test_gnu_tar_entries),
	  UTEST(test_find),
	  UTEST(test_find_dot_slash),
	  UTEST(test_truncation_every_length),
	  UTEST(test_header_byte_flips),
	  UTEST(test_crafted_valid),
	  UTEST(test_crafted_malformed),
	  UTEST(test_bad_checksum),
	  UTEST(test_end_marker),
	  UTEST(test_error_sticks))
