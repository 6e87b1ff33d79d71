/* CPU identification (CPUID, SDM vol. 2A) and the boot CPU's descriptor tables. */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/fpu.h>
#include <arch/gdt.h>
#include <arch/msr.h>
#include <arch/stack.h>
#include <arch/trap.h>
#include <arch/uaccess.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/string.h>

#define CPUID_VENDOR            0x00000000
#define CPUID_FEATURES          0x00000001
#define   CPUID_ECX_PCID        (1u << 17)
#define   CPUID_ECX_X2APIC      (1u << 21)
#define   CPUID_ECX_TSC_DEADLINE (1u << 24)
#define   CPUID_ECX_HYPERVISOR  (1u << 31)
#define CPUID_EXT_FEATURES7     0x00000007
#define   CPUID7_EBX_SMEP       (1u << 7)
#define   CPUID7_EBX_ERMS       (1u << 9)       /* enhanced REP MOVSB/STOSB */
#define   CPUID7_EBX_INVPCID    (1u << 10)
#define   CPUID7_EBX_SMAP       (1u << 20)
#define   CPUID7_ECX_UMIP       (1u << 2)
#define CPUID_TSC_CRYSTAL       0x00000015      /* TSC / core crystal clock ratio */
#define CPUID_FREQUENCY         0x00000016      /* processor base frequency (MHz) */
#define   CPUID16_EAX_MHZ_MASK  0xFFFFu
#define CPUID_EXT_MAX           0x80000000
#define CPUID_EXT_INFO          0x80000001
#define   CPUID_EDX_NX          (1u << 20)
#define   CPUID_EDX_PAT         (1u << 16)      /* in leaf 1 */
#define   CPUID_EDX_PAGE1GB     (1u << 26)
#define CPUID_BRAND0            0x80000002
#define CPUID_BRAND2            0x80000004
#define CPUID_EXT_POWER         0x80000007      /* advanced power management */
#define   CPUID_EDX_INVARIANT_TSC (1u << 8)

struct cpu_info boot_cpu_info;

static void cpu_brand(struct cpu_info *ci)
{
	uint32_t words[12];
	char *s = (char *)words;

	if (cpuid(CPUID_EXT_MAX, 0).eax < CPUID_BRAND2) {
		strlcpy(ci->brand, "unknown", sizeof(ci->brand));
		return;
	}
	for (uint32_t leaf = CPUID_BRAND0; leaf <= CPUID_BRAND2; leaf++) {
		struct cpuid_regs r = cpuid(leaf, 0);
		uint32_t *w = &words[(leaf - CPUID_BRAND0) * 4];
		w[0] = r.eax, w[1] = r.ebx, w[2] = r.ecx, w[3] = r.edx;
	}
	while (*s == ' ')
		s++;
	strlcpy(ci->brand, s, sizeof(ci->brand));
	for (size_t n = strlen(ci->brand); n && ci->brand[n - 1] == ' '; n--)
		ci->brand[n - 1] = '\0';
}

static void cpu_identify(struct cpu_info *ci)
{
	struct cpuid_regs r = cpuid(CPUID_VENDOR, 0);
	uint32_t max = r.eax;

	memcpy(ci->vendor, &r.ebx, 4);
	memcpy(ci->vendor + 4, &r.edx, 4);
	memcpy(ci->vendor + 8, &r.ecx, 4);
	ci->vendor[12] = '\0';

	r = cpuid(CPUID_FEATURES, 0);
	ci->stepping = r.eax & 0xF;
	ci->model = (r.eax >> 4) & 0xF;
	ci->family = (r.eax >> 8) & 0xF;
	if (ci->family == 0xF)
		ci->family += (r.eax >> 20) & 0xFF;
	if (ci->family >= 6)
		ci->model |= ((r.eax >> 16) & 0xF) << 4;
	ci->has_x2apic = r.ecx & CPUID_ECX_X2APIC;
	ci->hypervisor = r.ecx & CPUID_ECX_HYPERVISOR;
	ci->has_tsc_deadline = r.ecx & CPUID_ECX_TSC_DEADLINE;
	ci->has_pat = r.edx & CPUID_EDX_PAT;
	ci->has_pcid = r.ecx & CPUID_ECX_PCID;
	ci->max_leaf = max;

	if (max >= CPUID_EXT_FEATURES7) {
		r = cpuid(CPUID_EXT_FEATURES7, 0);
		ci->has_smep = r.ebx & CPUID7_EBX_SMEP;
		ci->has_smap = r.ebx & CPUID7_EBX_SMAP;
		ci->has_erms = r.ebx & CPUID7_EBX_ERMS;
		ci->has_invpcid = r.ebx & CPUID7_EBX_INVPCID;
		ci->has_umip = r.ecx & CPUID7_ECX_UMIP;
	}
	/* Raw values: drivers/clock_calc.c decides whether they are usable. */
	if (max >= CPUID_TSC_CRYSTAL) {
		r = cpuid(CPUID_TSC_CRYSTAL, 0);
		ci->tsc_ratio_den = r.eax;
		ci->tsc_ratio_num = r.ebx;
		ci->crystal_hz = r.ecx;
	}
	if (max >= CPUID_FREQUENCY)
		ci->base_mhz = cpuid(CPUID_FREQUENCY, 0).eax & CPUID16_EAX_MHZ_MASK;
	if (cpuid(CPUID_EXT_MAX, 0).eax >= CPUID_EXT_INFO) {
		r = cpuid(CPUID_EXT_INFO, 0);
		ci->has_nx = r.edx & CPUID_EDX_NX;
		ci->has_1g_pages = r.edx & CPUID_EDX_PAGE1GB;
	}
	if (cpuid(CPUID_EXT_MAX, 0).eax >= CPUID_EXT_POWER)
		ci->has_invariant_tsc = cpuid(CPUID_EXT_POWER, 0).edx & CPUID_EDX_INVARIANT_TSC;
	cpu_brand(ci);
}


void cpu_early_init(void)
{
	struct cpu *bsp = &cpus[0];

	/* The boot CPU runs on the static stacks of arch/x86_64/entry.S. */
	_Static_assert(IST_COUNT + 1 == STATIC_STACK_COUNT, "a static stack per IST slot");
	bsp->stack_top = static_stack_top(STATIC_STACK_BOOT);
	for (int ist = 1; ist <= IST_COUNT; ist++)
		bsp->tss.ist[ist - 1] = bsp->ist_top[ist - 1] = static_stack_top(ist);
	gdt_load(&bsp->gdt, &bsp->tss);
	idt_init();
	cpu_identify(&boot_cpu_info);
	fpu_init_cpu();
	cpu_pat_init();
}

/* ------------------------------------------------------------ PAT */

/* Memory types in PAT entries (SDM vol. 3, table 11-10). */
#define PAT_UC          0x00ull
#define PAT_WC          0x01ull
#define PAT_WT          0x04ull
#define PAT_WB          0x06ull
#define PAT_UC_MINUS    0x07ull
#define PAT_ENTRY(i, type) ((type) << (8 * (i)))
/*
 * Entries 0-3 and 5-7 keep their power-on types, so PWT/PCD mean what they
 * always did; entry 4 (PTE bit 7 alone) is write-combining. No page used
 * entry 4 before, so the write needs no cache flush (SDM 11.12.4).
 */
#define PAT_VALUE (PAT_ENTRY(0, PAT_WB) | PAT_ENTRY(1, PAT_WT) | PAT_ENTRY(2, PAT_UC_MINUS) | \
		   PAT_ENTRY(3, PAT_UC) | PAT_ENTRY(4, PAT_WC) | PAT_ENTRY(5, PAT_WT) | \
		   PAT_ENTRY(6, PAT_UC_MINUS) | PAT_ENTRY(7, PAT_UC))

void cpu_pat_init(void)
{
	if (boot_cpu_info.has_pat)
		wrmsr(MSR_PAT, PAT_VALUE);
}

/* ------------------------------------------------------------ FPU / SSE */

#define CR0_EM          (1ul << 2)
#define CR0_MP          (1ul << 1)
#define CR0_TS          (1ul << 3)
#define MXCSR_DEFAULT   0x1F80          /* all exceptions masked */
#define FXSAVE_MXCSR    24              /* offset in the FXSAVE image */

static uint8_t fpu_clean[512] __attribute__((aligned(16)));
static bool fpu_clean_ready;

void fpu_init_cpu(void)
{
	uint32_t mxcsr = MXCSR_DEFAULT;

	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	__asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
	if (!fpu_clean_ready) {
		fpu_save(fpu_clean);
		fpu_clean_ready = true;
	}
}

void fpu_init_state(uint8_t *area)
{
	memcpy(area, fpu_clean, sizeof(fpu_clean));
	*(uint32_t *)(area + FXSAVE_MXCSR) = MXCSR_DEFAULT;
}

/* ------------------------------------------------------------ SYSCALL */

#define FMASK_BITS      (RFLAGS_IF | (1ul << 8) /* TF */ | (1ul << 10) /* DF */ | \
			 (1ul << 14) /* NT */ | (1ul << 18) /* AC */)

extern const char syscall_entry[];

/*
 * STAR: SYSCALL loads CS = STAR[47:32], SS = that + 8; SYSRET loads
 * SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16, both with RPL 3, which
 * is why the GDT has user data before user code (arch/gdt.h).
 */
void syscall_init_cpu(void)
{
	wrmsr(MSR_STAR, ((uint64_t)(SEL_UDATA - 8 - 3) << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, FMASK_BITS);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

bool arch_smap_on;

void arch_uaccess_init_cpu(void)
{
	uint64_t cr4 = read_cr4();

	if (boot_cpu_info.has_smep)
		cr4 |= CR4_SMEP;
	if (boot_cpu_info.has_smap)
		cr4 |= CR4_SMAP;
	if (boot_cpu_info.has_umip)
		cr4 |= CR4_UMIP;
	write_cr4(cr4);
	arch_smap_on = boot_cpu_info.has_smap;
}
