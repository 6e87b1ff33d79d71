/* FPU/SSE state: FXSAVE images per task (SDM vol. 1, 10.5). */
#ifndef ARCH_FPU_H
#define ARCH_FPU_H

#include <stdint.h>

/* Enable SSE on this CPU (CR0.MP, CR4.OSFXSR/OSXMMEXCPT, no EM/TS). */
void fpu_init_cpu(void);
/* The clean state a new task starts with (taken after fninit once). */
void fpu_init_state(uint8_t *area);

static inline void fpu_save(uint8_t *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline void fpu_restore(const uint8_t *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

#endif
