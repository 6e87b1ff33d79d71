/* Exception-fixup lookup: the .ex_table entries the linker gathers (arch/extable.h). */
#include <arch/extable.h>
#include <arch/trap.h>

extern const struct ex_entry __ex_table_start[], __ex_table_end[];

bool extable_fixup(struct trap_frame *tf)
{
	for (const struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if (e->fault_ip == tf->rip) {
			tf->rip = e->fixup_ip;
			return true;
		}
	return false;
}
