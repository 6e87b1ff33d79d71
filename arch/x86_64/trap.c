/* Trap dispatch and the exception report (vector names from SDM vol. 3, table 6-1). */
#include <stdint.h>
#include <arch/extable.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/vmm.h>

static const char *const exception_names[T_EXCEPTIONS] = {
	[T_DE] = "#DE Divide Error",
	[T_DB] = "#DB Debug",
	[T_NMI] = "NMI Non-Maskable Interrupt",
	[T_BP] = "#BP Breakpoint",
	[T_OF] = "#OF Overflow",
	[T_BR] = "#BR BOUND Range Exceeded",
	[T_UD] = "#UD Invalid Opcode",
	[T_NM] = "#NM Device Not Available",
	[T_DF] = "#DF Double Fault",
	[9] = "Coprocessor Segment Overrun",
	[T_TS] = "#TS Invalid TSS",
	[T_NP] = "#NP Segment Not Present",
	[T_SS] = "#SS Stack-Segment Fault",
	[T_GP] = "#GP General Protection",
	[T_PF] = "#PF Page Fault",
	[15] = "Reserved (15)",
	[T_MF] = "#MF x87 Floating-Point Error",
	[T_AC] = "#AC Alignment Check",
	[T_MC] = "#MC Machine Check",
	[T_XM] = "#XM SIMD Floating-Point",
	[T_VE] = "#VE Virtualization Exception",
	[T_CP] = "#CP Control Protection",
	[22] = "Reserved (22)", [23] = "Reserved (23)", [24] = "Reserved (24)",
	[25] = "Reserved (25)", [26] = "Reserved (26)", [27] = "Reserved (27)",
	[28] = "#HV Hypervisor Injection",
	[29] = "#VC VMM Communication",
	[30] = "#SX Security Exception",
	[31] = "Reserved (31)",
};

const char *trap_name(unsigned int vector)
{
	if (vector < T_EXCEPTIONS)
		return exception_names[vector];
	return "interrupt";
}

static void trap_describe_pf(const struct trap_frame *tf)
{
	uint32_t e = (uint32_t)tf->error;

	kprintf("  CR2=0x%016lx (%s %s, %s mode%s%s)\n", read_cr2(),
		e & PFERR_P ? "protection violation on" : "not-present page on",
		e & PFERR_I ? "instruction fetch" : e & PFERR_W ? "write" : "read",
		e & PFERR_U ? "user" : "kernel",
		e & PFERR_RSVD ? ", reserved bit set" : "",
		e & PFERR_I ? ", NX" : "");
}

static irq_handler_fn irq_handlers[IDT_VECTORS];
/* Faults in kernel code recovered through the exception table. */
volatile uint64_t kernel_fixups;

void irq_register(unsigned int vector, irq_handler_fn fn)
{
	if (vector < T_EXCEPTIONS || vector >= IDT_VECTORS)
		panic("irq_register: vector %u is not an interrupt vector", vector);
	irq_handlers[vector] = fn;
}

static void irq_dispatch(struct trap_frame *tf)
{
	unsigned int v = (unsigned int)tf->vector;

	/* Spurious interrupts are not in service: no EOI (SDM 10.9). */
	if (v == VEC_SPURIOUS || v == VEC_PIC_BASE + 7 || v == VEC_PIC_BASE + 15)
		return;
	this_cpu()->irqs++;
	/* EOI first: a handler may switch tasks and return much later. */
	if (!pic_eoi_vector(v))
		lapic_eoi();
	if (irq_handlers[v])
		irq_handlers[v](tf);
	else
		kprintf("trap: unexpected interrupt vector %u on CPU %u\n", v, cpu_id());
}

/* A fault in ring 3 ends the process, never the kernel (docs/syscalls.md). */
static void user_exception(struct trap_frame *tf)
{
	if (tf->vector == T_PF && proc_handle_page_fault(read_cr2(), tf->error))
		return;
	irq_enable();
	proc_fault_kill(tf);
}

/* Called from trap_common with interrupts off. */
void trap_dispatch(struct trap_frame *tf)
{
	bool from_user = tf->cs & 3;

	if (tf->vector >= T_EXCEPTIONS) {
		if (from_user)
			this_cpu()->user_ticks += tf->vector == VEC_TIMER;
		irq_dispatch(tf);
		if (from_user)
			proc_check_exit();
		return;
	}
	if (from_user && tf->vector != T_NMI && tf->vector != T_MC) {
		user_exception(tf);
		return;
	}
	if (tf->vector == T_NMI) {
		if (panic_in_progress())
			panic_nmi_stop(tf);
		kprintf("trap: NMI on CPU %u at %pS\n", cpu_id(), (void *)tf->rip);
		return;
	}
	/*
	 * A push into a stack's guard page faults; delivering that #PF needs the
	 * same stack, so the CPU raises #DF, which runs on its IST stack with
	 * CR2 still naming the guard page (SDM vol. 3, 6.15, interrupt 8).
	 */
	if ((tf->vector == T_DF || tf->vector == T_PF) && vmm_is_stack_guard(read_cr2()))
		panic_frame(tf, "kernel stack overflow (guard page at 0x%lx hit, %s)",
			    read_cr2(), trap_name(tf->vector));
	/* The kernel touching a user stack page not yet grown (copy helpers). */
	if (tf->vector == T_PF && read_cr2() < USER_SPACE_END && current_proc() &&
	    proc_handle_page_fault(read_cr2(), tf->error))
		return;
	/* Kernel code that may fault on purpose (probes, user copies). */
	if ((tf->vector == T_PF || tf->vector == T_GP) && extable_fixup(tf)) {
		kernel_fixups++;
		return;
	}
	if (tf->vector == T_PF)
		panic_frame(tf, "%s in %s mode, error 0x%lx", trap_name(T_PF),
			    (tf->cs & 3) ? "user" : "kernel", tf->error);
	panic_frame(tf, "%s (vector %lu), error 0x%lx", trap_name(tf->vector),
		    tf->vector, tf->error);
}

/* The per-vector detail line(s) panic_frame prints after the registers. */
void trap_print_detail(const struct trap_frame *tf)
{
	if (tf->vector == T_PF)
		trap_describe_pf(tf);
}
