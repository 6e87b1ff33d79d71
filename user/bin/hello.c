/*
 * hello: prints its arguments and exits with status atoi(argv[1]) (0
 * without one). The wait-status tests and spawn benchmarks use it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

int main(int argc, char **argv)
{
	printf("hello from pid %ld:", getpid());
	for (int i = 0; i < argc; i++)
		printf(" argv[%d]=\"%s\"", i, argv[i]);
	printf("\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
