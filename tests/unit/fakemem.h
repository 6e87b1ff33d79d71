/*
 * Fake physical memory for the platform-table parsers' host tests: blobs
 * (real dumps from tests/unit/data/ or hand-built tables) served at fake
 * physical addresses through a phys_read_fn, each read an exact-size heap
 * copy so ASan catches any byte read past what was asked for; plus a log
 * that captures what the parsers report. Included by test_acpi.c and
 * test_mptable.c, each one translation unit with the code it tests.
 */
#ifndef TESTS_UNIT_FAKEMEM_H
#define TESTS_UNIT_FAKEMEM_H

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>

#define MAX_REGIONS     32
#define LOG_SIZE        32768
#define DATA_DIR        "tests/unit/data"

struct region {
	uint64_t pa;
	size_t len;
	uint8_t *data;          /* exactly len bytes, so ASan sees overruns */
	char tag[16];           /* "RSDP", "APIC", ... from the file name */
};

static struct {
	struct region r[MAX_REGIONS];
	int n;
	void **copies;          /* every buffer read() returned */
	size_t ncopies, capcopies;
	int wrapped;            /* requests whose range wraps past 2^64 */
	char log[LOG_SIZE];
	size_t loglen;
	int nlog;
} fm;

/* Forget everything from the previous test. */
static void fm_reset(void)
{
	for (int i = 0; i < fm.n; i++)
		free(fm.r[i].data);
	for (size_t i = 0; i < fm.ncopies; i++)
		free(fm.copies[i]);
	free(fm.copies);
	memset(&fm, 0, sizeof fm);
}

static struct region *fm_add(uint64_t pa, const void *data, size_t len, const char *tag)
{
	struct region *r;

	for (int i = 0; i < fm.n; i++)
		if (pa < fm.r[i].pa + fm.r[i].len && fm.r[i].pa < pa + len)
			return NULL;    /* overlapping regions: a bug in the test */
	if (fm.n == MAX_REGIONS)
		return NULL;
	r = &fm.r[fm.n++];
	r->pa = pa;
	r->len = len;
	r->data = malloc(len ? len : 1);
	memcpy(r->data, data, len);
	snprintf(r->tag, sizeof r->tag, "%s", tag);
	return r;
}

/*
 * The accessor hands out a fresh heap copy of exactly [pa, pa + len), so
 * ASan flags any byte the parser touches beyond what it asked for.
 */
static __attribute__((unused)) const void *fm_read(uint64_t pa, size_t len, void *ctx)
{
	(void)ctx;
	if (pa + len < pa)
		fm.wrapped++;   /* a naive accessor would compute a bogus range */
	for (int i = 0; i < fm.n; i++) {
		struct region *r = &fm.r[i];
		void *copy;

		if (pa < r->pa || pa - r->pa > r->len || len > r->len - (pa - r->pa))
			continue;
		if (fm.ncopies == fm.capcopies) {
			fm.capcopies = fm.capcopies ? 2 * fm.capcopies : 1024;
			fm.copies = realloc(fm.copies, fm.capcopies * sizeof *fm.copies);
		}
		copy = malloc(len ? len : 1);
		memcpy(copy, r->data + (pa - r->pa), len);
		fm.copies[fm.ncopies++] = copy;
		return copy;
	}
	return NULL;
}

static __attribute__((unused)) void fm_log(void *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	if (fm.loglen < LOG_SIZE)
		fm.loglen += (size_t)vsnprintf(fm.log + fm.loglen, LOG_SIZE - fm.loglen, fmt, ap);
	va_end(ap);
	fm.nlog++;
}

static __attribute__((unused)) bool logged(const char *needle)
{
	return strstr(fm.log, needle) != NULL;
}

/* Loads every <hex address>-<tag>.bin of a dump directory. */
static const char *fm_load(const char *config)
{
	char dir[128], path[384];
	struct dirent *d;
	DIR *dp;

	fm_reset();
	snprintf(dir, sizeof dir, "%s/%s", DATA_DIR, config);
	dp = opendir(dir);
	if (!dp)
		UFAIL("cannot open %s (run from the tree's root)", dir);
	while ((d = readdir(dp))) {
		unsigned long long pa;
		char tag[16];
		static uint8_t buf[65536];
		size_t len;
		FILE *f;

		if (sscanf(d->d_name, "%llx-%15[A-Za-z0-9_].bin", &pa, tag) != 2)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		f = fopen(path, "rb");
		len = f ? fread(buf, 1, sizeof buf, f) : 0;
		if (f)
			fclose(f);
		if (!len || len == sizeof buf || !fm_add(pa, buf, len, tag)) {  /* empty, big */
			closedir(dp);
			UFAIL("cannot load %s", path);
		}
	}
	closedir(dp);
	return NULL;
}

static struct region *fm_tag(const char *tag)
{
	for (int i = 0; i < fm.n; i++)
		if (strcmp(fm.r[i].tag, tag) == 0)
			return &fm.r[i];
	return NULL;
}

#define CHECK(expr) do { const char *why_ = (expr); if (why_) return why_; } while (0)
#define LOAD(config) do { const char *why_ = fm_load(config); if (why_) return why_; } while (0)
#define TAG(var, tag) struct region *var = fm_tag(tag); \
	if (!var) UFAIL("no %s blob loaded", tag)

#endif
