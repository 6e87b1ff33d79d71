/*
 * The fault isolation cases shared by faulter (which commits one) and
 * faults (which checks how the kernel ended it): name and the CPU exception
 * vector (Intel SDM Vol. 3A, Table 6-1) that must kill the process.
 */
#ifndef USER_BIN_FAULT_CASES_H
#define USER_BIN_FAULT_CASES_H

#define VEC_DE          0       /* divide error */
#define VEC_BP          3       /* breakpoint */
#define VEC_UD          6       /* invalid opcode */
#define VEC_GP          13      /* general protection */
#define VEC_PF          14      /* page fault */

/* faulter's exit statuses when the fault does not kill it. */
#define FAULTER_SURVIVED        1
#define FAULTER_UNKNOWN_CASE    2

struct fault_case {
	const char *name;
	int vector;
};

static const struct fault_case fault_cases[] = {
	{ "null", VEC_PF },             /* read address 0: page 0 is never mapped */
	{ "kread", VEC_PF },            /* read the kernel image (supervisor page) */
	{ "kwrite", VEC_PF },
	{ "kexec", VEC_PF },            /* jump into the kernel image */
	{ "cli", VEC_GP },              /* IOPL 0: no interrupt flag changes */
	{ "hlt", VEC_GP },              /* privileged */
	{ "io", VEC_GP },               /* IOPL 0 and no I/O bitmap grant */
	{ "div0", VEC_DE },
	{ "ud2", VEC_UD },
	{ "int3", VEC_BP },             /* vector 3's gate has DPL 3 */
	{ "intn", VEC_GP },             /* int $0x80: a DPL 0 gate */
	{ "noncanon", VEC_GP },         /* jump to a non-canonical address */
	{ "stackoverflow", VEC_PF },    /* recursion into the guard below the stack */
	{ "nxstack", VEC_PF },          /* execute from the NX stack */
};

#define FAULT_CASES     ((int)(sizeof fault_cases / sizeof fault_cases[0]))

#endif
