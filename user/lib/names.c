/*
 * Names for error numbers (include/kernel/errno.h) and for the CPU
 * exceptions that kill a process (Intel SDM Vol. 3A, Table 6-1).
 */
#include <kestrel.h>

#define ARRAY_LEN(a)    (sizeof(a) / sizeof((a)[0]))
#define X86_EXCEPTIONS  32      /* vectors 0-31 are reserved for exceptions */

struct errno_name {
	int err;
	const char *name;
	const char *text;
};

static const struct errno_name errno_names[] = {
	{ EPERM, "EPERM", "operation not permitted" },
	{ ENOENT, "ENOENT", "no such file or program" },
	{ ESRCH, "ESRCH", "no such process or thread" },
	{ EINTR, "EINTR", "interrupted" },
	{ EIO, "EIO", "input/output error" },
	{ E2BIG, "E2BIG", "argument list too long" },
	{ ENOEXEC, "ENOEXEC", "not a valid executable" },
	{ ECHILD, "ECHILD", "no child to wait for" },
	{ EAGAIN, "EAGAIN", "resource temporarily unavailable" },
	{ ENOMEM, "ENOMEM", "out of memory" },
	{ EFAULT, "EFAULT", "bad address" },
	{ EBUSY, "EBUSY", "busy" },
	{ EEXIST, "EEXIST", "already exists" },
	{ EINVAL, "EINVAL", "invalid argument" },
	{ ENOSPC, "ENOSPC", "no space left" },
	{ ERANGE, "ERANGE", "out of range" },
	{ ENOSYS, "ENOSYS", "no such system call" },
	{ ETIMEDOUT, "ETIMEDOUT", "timed out" },
};

static const struct errno_name *errno_lookup(long err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_LEN(errno_names); i++)
		if (errno_names[i].err == err)
			return &errno_names[i];
	return NULL;
}

const char *kestrel_strerror(long err)
{
	const struct errno_name *e = errno_lookup(err);

	return e ? e->text : "unknown error";
}

const char *kestrel_errname(long err)
{
	const struct errno_name *e = errno_lookup(err);

	return e ? e->name : "E?";
}

struct vector_name {
	const char *name;
	const char *text;               /* what kestrel_kill_reason prints */
};

static const struct vector_name vector_names[X86_EXCEPTIONS] = {
	[0] = { "#DE", "#DE divide error" },
	[1] = { "#DB", "#DB debug exception" },
	[2] = { "NMI", "NMI" },
	[3] = { "#BP", "#BP breakpoint" },
	[4] = { "#OF", "#OF overflow" },
	[5] = { "#BR", "#BR bound range exceeded" },
	[6] = { "#UD", "#UD invalid opcode" },
	[7] = { "#NM", "#NM device not available" },
	[8] = { "#DF", "#DF double fault" },
	[9] = { "#CSO", "#CSO coprocessor segment overrun" },
	[10] = { "#TS", "#TS invalid TSS" },
	[11] = { "#NP", "#NP segment not present" },
	[12] = { "#SS", "#SS stack-segment fault" },
	[13] = { "#GP", "#GP general protection fault" },
	[14] = { "#PF", "#PF page fault" },
	[16] = { "#MF", "#MF x87 floating-point error" },
	[17] = { "#AC", "#AC alignment check" },
	[18] = { "#MC", "#MC machine check" },
	[19] = { "#XM", "#XM SIMD floating-point exception" },
	[20] = { "#VE", "#VE virtualization exception" },
	[21] = { "#CP", "#CP control protection exception" },
};

const char *kestrel_vector_name(int vector)
{
	if (vector < 0 || vector >= X86_EXCEPTIONS)
		return "not an exception";
	return vector_names[vector].name ? vector_names[vector].name : "reserved";
}

const char *kestrel_kill_reason(int reason)
{
	int vector = reason - KESTREL_KILL_VECTOR(0);

	if (reason == KESTREL_KILL_BY_USER)
		return "kill()";
	if (reason == KESTREL_KILL_INTERRUPT)
		return "interrupted (Ctrl-C)";
	if (reason == 0)
		return "not killed";
	if (vector < 0 || vector >= X86_EXCEPTIONS)
		return "unknown reason";
	return vector_names[vector].text ? vector_names[vector].text : "reserved exception";
}
