/* Host tests for kernel/sort.c: random arrays against qsort, edge sizes. */
#include "unit.h"
#include "../../kernel/sort.c"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const char *test_matches_qsort(void)
{
	uint64_t a[64], b[64];

	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % 65);
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (uint64_t)(rand() % 50) << (rand() % 40);
		sort_u64(a, n);
		qsort(b, n, sizeof(b[0]), cmp_u64);
		UASSERT(memcmp(a, b, n * sizeof(a[0])) == 0);
	}
	return NULL;
}

static const char *test_empty_and_single(void)
{
	uint64_t v = 5;

	sort_u64(NULL, 0);
	sort_u64(&v, 1);
	UASSERT_EQ(v, 5);
	return NULL;
}

UNIT_MAIN("sort", UTEST(test_matches_qsort), UTEST(test_empty_and_single))
