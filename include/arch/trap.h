/*
 * The register frame every interrupt and exception entry builds
 * (arch/x86_64/vectors.S). Offsets are shared with the assembly and
 * checked below.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

/* Exception vectors (Intel SDM vol. 3, table 6-1). */
#define T_DE    0       /* divide error */
#define T_DB    1       /* debug */
#define T_NMI   2
#define T_BP    3       /* breakpoint */
#define T_OF    4
#define T_BR    5
#define T_UD    6       /* invalid opcode */
#define T_NM    7
#define T_DF    8       /* double fault */
#define T_TS    10
#define T_NP    11
#define T_SS    12
#define T_GP    13      /* general protection */
#define T_PF    14      /* page fault */
#define T_MF    16
#define T_AC    17
#define T_MC    18      /* machine check */
#define T_XM    19
#define T_VE    20
#define T_CP    21
#define T_EXCEPTIONS    32
#define IDT_VECTORS     256

/* Page-fault error code bits (SDM vol. 3, 4.7). */
#define PFERR_P (1u << 0)       /* 0: not present, 1: protection violation */
#define PFERR_W    (1u << 1)       /* write access */
#define PFERR_U    (1u << 2)       /* user mode */
#define PFERR_RSVD (1u << 3)       /* reserved bit set in a paging entry */
#define PFERR_I    (1u << 4)       /* instruction fetch */

/* Frame offsets (bytes), in push order reversed: r15 is at the lowest address. */
#define TF_R15      0
#define TF_RAX      (14 * 8)
#define TF_VECTOR   (15 * 8)
#define TF_ERROR    (16 * 8)
#define TF_RIP      (17 * 8)
#define TF_CS       (18 * 8)
#define TF_RFLAGS   (19 * 8)
#define TF_RSP      (20 * 8)
#define TF_SS       (21 * 8)
#define TF_SIZE     (22 * 8)

#ifdef __ASSEMBLER__
/* Push/pop the general registers in struct trap_frame order (r15 lowest). */
.macro PUSH_GPRS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_GPRS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm
#else
#include <stdint.h>
#include <stddef.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error;         /* CPU error code, or 0 */
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(offsetof(struct trap_frame, r15) == TF_R15, "trap_frame.r15");
_Static_assert(offsetof(struct trap_frame, rax) == TF_RAX, "trap_frame.rax");
_Static_assert(offsetof(struct trap_frame, vector) == TF_VECTOR, "trap_frame.vector");
_Static_assert(offsetof(struct trap_frame, error) == TF_ERROR, "trap_frame.error");
_Static_assert(offsetof(struct trap_frame, rip) == TF_RIP, "trap_frame.rip");
_Static_assert(offsetof(struct trap_frame, ss) == TF_SS, "trap_frame.ss");
_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "trap_frame size");

void idt_init(void);
void idt_load(void);
void trap_dispatch(struct trap_frame *tf);
const char *trap_name(unsigned int vector);
void trap_print_detail(const struct trap_frame *tf);

/* Interrupt handlers run with interrupts off, after the EOI. */
typedef void (*irq_handler_fn)(struct trap_frame *tf);
void irq_register(unsigned int vector, irq_handler_fn fn);
/* How many kernel faults the exception table turned into errors. */
extern volatile uint64_t kernel_fixups;
#endif

#endif
