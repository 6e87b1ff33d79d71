/*
 * hello: prints its arguments and exits with status atoi(argv[1]) (0
 * without one). The wait-status tests and spawn benchmarks use it. A start
 * state other than user/README.md's (argv NULL-terminated, envp right after
 * it, empty) exits with BAD_START_STATE instead, which those tests notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define BAD_START_STATE 99

int main(int argc, char **argv, char **envp)
{
	if (argv[argc] != NULL || envp != argv + argc + 1 || envp[0] != NULL) {
		printf("hello: bad start state: argv[argc] %p, envp %p (want %p), envp[0] %p\n",
		       (void *)argv[argc], (void *)envp, (void *)(argv + argc + 1),
		       envp == argv + argc + 1 ? (void *)envp[0] : NULL);
		return BAD_START_STATE;
	}
	printf("hello from pid %ld:", getpid());
	for (int i = 0; i < argc; i++)
		printf(" argv[%d]=\"%s\"", i, argv[i]);
	printf("\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
