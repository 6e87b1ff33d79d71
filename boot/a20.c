/*
 * The A20 gate: stage 2 loads the kernel above 1 MiB, which needs address
 * line 20. The BIOS (INT 15h AX=2401h), then the 8042 keyboard controller's
 * output port, then "fast A20" at port 0x92, each checked by aliasing.
 */
#include <arch/x86.h>
#include "stage2.h"

#define   SYS_A20_ENABLE        0x2401  /* INT_SYSTEM, AX */
/* A20 gate */
#define A20_ALIAS_ADDR          (A20_PROBE_ADDR + MIB)  /* same address with bit 20 set */
#define A20_PATTERN             0x4B413230u
#define A20_POLLS               1000
#define KBC_DATA                0x60
#define KBC_CMD                 0x64    /* write: command; read: status */
#define   KBC_STATUS_IBF        0x02    /* input buffer full: busy */
#define   KBC_WRITE_OUTPUT      0xD1    /* next data byte goes to the output port */
#define   KBC_OUTPUT_A20_ON     0xDF    /* A20 on, CPU reset line inactive */
#define   KBC_NOP               0xFF    /* pulse nothing; USB legacy emulation wants it */
#define KBC_SPIN                100000
#define SYSCTL_PORT_A           0x92    /* "fast A20" */
#define   PORT_A_RESET          0x01
#define   PORT_A_A20            0x02


/* With A20 off, 0x100500 aliases 0x000500: a write to one shows in the other. */
static bool a20_is_on(void)
{
	volatile uint32_t *low = phys(A20_PROBE_ADDR), *alias = phys(A20_ALIAS_ADDR);
	uint32_t saved = *low;
	bool on;

	*low = A20_PATTERN;
	*alias = ~A20_PATTERN;
	on = *low == A20_PATTERN;
	*low = saved;
	return on;
}

/* Some gates take a while to switch: poll before trying the next method. */
static bool a20_settles(void)
{
	for (int i = 0; i < A20_POLLS; i++) {
		if (a20_is_on())
			return true;
		io_wait();
	}
	return false;
}

static bool kbc_wait_ready(void)
{
	for (int i = 0; i < KBC_SPIN; i++) {
		if (!(inb(KBC_CMD) & KBC_STATUS_IBF))
			return true;
		io_wait();
	}
	return false;           /* no 8042 (reads 0xFF) or a stuck one */
}

static void kbc_enable_a20(void)
{
	if (!kbc_wait_ready())
		return;
	outb(KBC_CMD, KBC_WRITE_OUTPUT);
	if (!kbc_wait_ready())
		return;
	outb(KBC_DATA, KBC_OUTPUT_A20_ON);
	if (!kbc_wait_ready())
		return;
	outb(KBC_CMD, KBC_NOP);
	kbc_wait_ready();
}

static void fast_a20_enable(void)
{
	uint8_t v = inb(SYSCTL_PORT_A);

	/* Never write bit 0 as 1: that resets the machine. */
	if (!(v & PORT_A_A20))
		outb(SYSCTL_PORT_A, (uint8_t)((v | PORT_A_A20) & ~PORT_A_RESET));
}

/* BIOS, then keyboard controller, then port 0x92; say which one worked. */
void a20_enable(void)
{
	struct bios_regs r = { .eax = SYS_A20_ENABLE };

	if (a20_is_on()) {
		say("A20 already enabled");
		return;
	}
	bios_int(INT_SYSTEM, &r);
	if (a20_settles()) {
		say("A20 enabled by the BIOS (INT 15h AX=2401h)");
		return;
	}
	kbc_enable_a20();
	if (a20_settles()) {
		say("A20 enabled by the keyboard controller");
		return;
	}
	fast_a20_enable();
	if (a20_settles()) {
		say("A20 enabled by port 0x92 (fast A20)");
		return;
	}
	die("A20 stuck: cannot enable the A20 gate (BIOS, keyboard controller and port 0x92 tried)");
}
