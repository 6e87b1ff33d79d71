/* Assembly helpers: symbols with type and size so objdump, gdb and backtraces work. */
#ifndef ARCH_ASM_H
#define ARCH_ASM_H

#ifdef __ASSEMBLER__
#define BEGIN_FUNC(name) \
	.globl name; \
	.type name, @function; \
	name:
#define END_FUNC(name) \
	.size name, . - name
#define BEGIN_LOCAL_FUNC(name) \
	.type name, @function; \
	name:
#endif

#endif
