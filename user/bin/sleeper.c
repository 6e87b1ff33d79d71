/* sleeper [ms]: sleeps ms milliseconds (default 1000) and exits 0; forkstorm's child. */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define DEFAULT_MS      1000

int main(int argc, char **argv)
{
	long ms = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_MS;
	long r = sleep_ms(ms < 0 ? 0 : (uint64_t)ms);

	if (r < 0) {
		printf("sleeper: sleep_ms: %s\n", kestrel_strerror(r));
		return 1;
	}
	return 0;
}
