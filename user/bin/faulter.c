/*
 * faulter <case>: commits the one fault named (fault_cases.h) from ring 3.
 * The kernel must kill it with the case's exception; if the process is
 * still alive afterwards it exits FAULTER_SURVIVED.
 */
#include <stdio.h>
#include <string.h>
#include <kestrel.h>
#include "fault_cases.h"

#define KERNEL_IMAGE_ADDR       UINT64_C(0xFFFFFFFF80000000)  /* docs/memory.md */
#define NONCANONICAL_ADDR       UINT64_C(0x0000800000000000)  /* first address past the low half */
#define KBD_DATA_PORT           0x60
#define INT_SYSCALL_LEGACY      0x80
#define RET_OPCODE              0xC3
#define OVERFLOW_FRAME          256     /* bytes of stack each recursion level pins */

/*
 * An address the compiler cannot see through: a constant NULL dereference
 * would be turned into ud2 (-fisolate-erroneous-paths-dereference), which
 * is #UD, not the #PF being tested.
 */
static uintptr_t opaque(uintptr_t addr)
{
	__asm__("" : "+r"(addr));
	return addr;
}

/*
 * Each frame's buffer is handed to the next call, so it stays live across
 * it: no tail call or accumulator rewrite can turn this into a loop. The
 * depth test only gives the recursion a base case; the stack ends first.
 */
static __attribute__((noinline)) uint64_t recurse(volatile uint8_t *up, uint64_t depth)
{
	volatile uint8_t frame[OVERFLOW_FRAME];

	if (depth == UINT64_MAX)
		return 0;
	frame[0] = (uint8_t)depth;
	frame[1] = up ? up[0] : 0;
	return recurse(frame, depth + 1) + frame[1];
}

static void jump_to(uint64_t addr)
{
	__asm__ volatile("jmp *%0" : : "r"(addr) : "memory");
}

static void fault_nxstack(void)
{
	volatile uint8_t code[16] = { RET_OPCODE };
	void (*fn)(void) = (void (*)(void))(uintptr_t)code;

	fn();
}

static void fault_div0(void)
{
	uint32_t q, hi = 0;

	/* An explicit div: C division by zero is UB the compiler may exploit. */
	__asm__ volatile("divl %2" : "=a"(q), "+d"(hi) : "r"((uint32_t)opaque(0)), "0"(1u) : "cc");
	printf("faulter: 1 / 0 = %u\n", q);
}

static void commit(const char *name)
{
	if (!strcmp(name, "null"))
		printf("faulter: read %d\n", *(volatile int *)opaque(0));
	else if (!strcmp(name, "kread"))
		printf("faulter: read %lx\n", *(volatile uint64_t *)opaque(KERNEL_IMAGE_ADDR));
	else if (!strcmp(name, "kwrite"))
		*(volatile uint64_t *)opaque(KERNEL_IMAGE_ADDR) = 0;
	else if (!strcmp(name, "kexec"))
		jump_to(KERNEL_IMAGE_ADDR);
	else if (!strcmp(name, "cli"))
		__asm__ volatile("cli");
	else if (!strcmp(name, "hlt"))
		__asm__ volatile("hlt");
	else if (!strcmp(name, "io")) {
		uint8_t v;
		__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)KBD_DATA_PORT));
		printf("faulter: port 0x60 = %u\n", v);
	} else if (!strcmp(name, "div0"))
		fault_div0();
	else if (!strcmp(name, "ud2"))
		__asm__ volatile("ud2");
	else if (!strcmp(name, "int3"))
		__asm__ volatile("int3");
	else if (!strcmp(name, "intn"))
		__asm__ volatile("int %0" : : "i"(INT_SYSCALL_LEGACY));
	else if (!strcmp(name, "noncanon"))
		jump_to(NONCANONICAL_ADDR);
	else if (!strcmp(name, "stackoverflow"))
		printf("faulter: recursion returned %lu\n", recurse(NULL, 0));
	else if (!strcmp(name, "nxstack"))
		fault_nxstack();
}

int main(int argc, char **argv)
{
	bool known = false;

	if (argc != 2) {
		printf("usage: faulter <case>\n");
		return FAULTER_UNKNOWN_CASE;
	}
	for (int i = 0; i < FAULT_CASES; i++)
		known |= strcmp(fault_cases[i].name, argv[1]) == 0;
	if (!known) {
		printf("faulter: unknown case '%s'\n", argv[1]);
		return FAULTER_UNKNOWN_CASE;
	}
	printf("faulter: %s\n", argv[1]);
	commit(argv[1]);
	printf("faulter: %s did not fault\n", argv[1]);
	return FAULTER_SURVIVED;
}
