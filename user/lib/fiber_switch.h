/*
 * The frame fiber_switch (fiber_switch.S) leaves on a switched-out fiber's
 * stack, lowest address first; saved_rsp points at its start. Shared with
 * user/lib/fiber.c, which builds the first frame of a new fiber.
 */
#ifndef USER_LIB_FIBER_SWITCH_H
#define USER_LIB_FIBER_SWITCH_H

#define FRAME_MXCSR             0       /* 4 bytes: MXCSR (control bits are callee-saved) */
#define FRAME_FPUCW             4       /* 2 bytes: x87 control word (callee-saved), 2 unused */
#define FRAME_R15               8
#define FRAME_R14               16
#define FRAME_R13               24
#define FRAME_R12               32      /* a new fiber: its struct fiber, for fiber_trampoline */
#define FRAME_RBX               40
#define FRAME_RBP               48
#define FRAME_RET               56      /* a new fiber: fiber_trampoline */
#define FRAME_SIZE              64

/* Reset values (SDM vol. 1, 8.1.5 and 10.2.3.1; the SysV ABI's initial state). */
#define MXCSR_DEFAULT           0x1F80
#define FPUCW_DEFAULT           0x037F

#ifndef __ASSEMBLER__
#include <stdint.h>

struct fiber_frame {
	uint32_t mxcsr;
	uint16_t fpucw, pad;
	uint64_t r15, r14, r13, r12, rbx, rbp, ret;
};

_Static_assert(__builtin_offsetof(struct fiber_frame, mxcsr) == FRAME_MXCSR, "FRAME_MXCSR");
_Static_assert(__builtin_offsetof(struct fiber_frame, fpucw) == FRAME_FPUCW, "FRAME_FPUCW");
_Static_assert(__builtin_offsetof(struct fiber_frame, r15) == FRAME_R15, "FRAME_R15");
_Static_assert(__builtin_offsetof(struct fiber_frame, r12) == FRAME_R12, "FRAME_R12");
_Static_assert(__builtin_offsetof(struct fiber_frame, rbp) == FRAME_RBP, "FRAME_RBP");
_Static_assert(__builtin_offsetof(struct fiber_frame, ret) == FRAME_RET, "FRAME_RET");
_Static_assert(sizeof(struct fiber_frame) == FRAME_SIZE, "FRAME_SIZE");

/* Saves the callee-saved state at *save_rsp and resumes the context saved at next_rsp. */
void fiber_switch(uint64_t *save_rsp, uint64_t next_rsp);
/* A new fiber's first code: fiber_main(r12). */
void fiber_trampoline(void);
#endif

#endif
