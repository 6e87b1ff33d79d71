/* Model-specific registers (Intel SDM vol. 4). */
#ifndef ARCH_MSR_H
#define ARCH_MSR_H

#define MSR_APIC_BASE           0x0000001B      /* IA32_APIC_BASE */
#define MSR_PAT                 0x00000277      /* IA32_PAT (SDM vol. 3, 11.12.2) */
#define MSR_EFER                0xC0000080      /* extended feature enables */
#define   EFER_SCE              (1u << 0)       /* SYSCALL/SYSRET */
#define   EFER_LME              (1u << 8)       /* long mode enable */
#define   EFER_LMA              (1u << 10)      /* long mode active */
#define   EFER_NXE              (1u << 11)      /* no-execute enable */
#define MSR_STAR                0xC0000081      /* SYSCALL segment selectors */
#define MSR_LSTAR               0xC0000082      /* SYSCALL 64-bit entry RIP */
#define MSR_FMASK               0xC0000084      /* SYSCALL RFLAGS mask */
#define MSR_FS_BASE             0xC0000100
#define MSR_GS_BASE             0xC0000101
#define MSR_KERNEL_GS_BASE      0xC0000102      /* swapped in by swapgs */

#endif
