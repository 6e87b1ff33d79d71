/*
 * sh: the console shell. Reads a line at the "kestrel> " prompt, splits it
 * on spaces and runs a built-in command; `run` starts a program from the
 * initrd and waits for it. Exits when the console cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kestrel.h>

#define PROMPT          "kestrel> "
#define LINE_MAX        256
#define ARGS_MAX        16      /* words on a line, the command included */
#define PS_MAX          256     /* processes shown by ps */
#define STATE_NAMES     3
#define KIB             UINT64_C(1024)
#define MIB             (UINT64_C(1024) * 1024)

struct command {
	const char *name;
	const char *args;
	const char *help;
	void (*run)(int argc, char **argv);
};

static void cmd_help(int argc, char **argv);

/* Splits line in place into at most ARGS_MAX words; returns the count. */
static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == ARGS_MAX - 1)
			return -1;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	argv[argc] = NULL;
	return argc;
}

static bool sysinfo_or_complain(struct kestrel_sysinfo *si)
{
	long r = sysinfo(si);

	if (r < 0)
		printf("sh: sysinfo: %s\n", kestrel_strerror(r));
	return r >= 0;
}

static const char *state_name(uint32_t state)
{
	static const char *const names[STATE_NAMES] = { "run", "sleep", "zombie" };

	return state < STATE_NAMES ? names[state] : "?";
}

static void cmd_ps(int argc, char **argv)
{
	struct kestrel_sysinfo si;
	struct kestrel_proc_info *info = malloc(PS_MAX * sizeof *info);
	long n;

	(void)argc, (void)argv;
	if (!info || !sysinfo_or_complain(&si)) {
		free(info);
		return;
	}
	n = ps(info, PS_MAX);
	if (n < 0)
		printf("sh: ps: %s\n", kestrel_strerror(n));
	else
		printf("%5s %5s %3s %-6s %8s %8s %s\n",
		       "PID", "PPID", "THR", "STATE", "TICKS", "MEM", "NAME");
	for (long i = 0; i < n; i++)
		printf("%5d %5d %3u %-6s %8lu %7luK %.*s\n", info[i].pid, info[i].ppid,
		       info[i].threads, state_name(info[i].state), info[i].cpu_ticks,
		       info[i].mem_pages * si.page_size / KIB, KESTREL_NAME_MAX, info[i].name);
	free(info);
}

static void cmd_cpus(int argc, char **argv)
{
	struct kestrel_sysinfo si;

	(void)argc, (void)argv;
	if (sysinfo_or_complain(&si))
		printf("cpus: %u online\n", si.cpus_online);
}

static void cmd_mem(int argc, char **argv)
{
	struct kestrel_sysinfo si;

	(void)argc, (void)argv;
	if (sysinfo_or_complain(&si))
		printf("mem: %lu MiB total, %lu MiB free\n",
		       si.mem_total_pages * si.page_size / MIB,
		       si.mem_free_pages * si.page_size / MIB);
}

static void cmd_uptime(int argc, char **argv)
{
	struct kestrel_sysinfo si;

	(void)argc, (void)argv;
	if (sysinfo_or_complain(&si))
		printf("up %lu.%03lu s\n", si.uptime_ns / NSEC_PER_SEC,
		       si.uptime_ns % NSEC_PER_SEC / NSEC_PER_MSEC);
}

/* Prints how a finished program ended. */
static void report_status(const char *prog, int status)
{
	if (KESTREL_WAIT_EXITED(status))
		printf("%s exited with status %d\n", prog, KESTREL_WAIT_STATUS(status));
	else
		printf("%s killed: %s\n", prog, kestrel_kill_reason(KESTREL_WAIT_KILLED(status)));
}

static void cmd_run(int argc, char **argv)
{
	long pid, r, fg;
	int status;

	if (argc < 2) {
		printf("usage: run <program> [args]\n");
		return;
	}
	pid = spawn(argv[1], (const char *const *)&argv[1]);
	if (pid < 0) {
		printf("sh: run %s: %s\n", argv[1], kestrel_strerror(pid));
		return;
	}
	/* Ctrl-C on the console now ends the program rather than the line. */
	fg = setfg((int)pid);
	if (fg < 0 && fg != -ESRCH)     /* -ESRCH: it has already ended */
		printf("sh: setfg %ld: %s\n", pid, kestrel_strerror(fg));
	r = wait((int)pid, &status);
	if (fg >= 0)
		setfg((int)fg);
	if (r < 0)
		printf("sh: wait %ld: %s\n", pid, kestrel_strerror(r));
	else
		report_status(argv[1], status);
}

static void cmd_kill(int argc, char **argv)
{
	char *end;
	long pid, r;

	if (argc != 2) {
		printf("usage: kill <pid>\n");
		return;
	}
	pid = strtol(argv[1], &end, 10);
	if (end == argv[1] || *end || pid <= 0 || pid > INT32_MAX) {
		printf("sh: kill: '%s' is not a pid\n", argv[1]);
		return;
	}
	r = kill((int)pid);
	if (r < 0)
		printf("sh: kill %ld: %s\n", pid, kestrel_strerror(r));
}

static void cmd_halt(int argc, char **argv)
{
	long r;

	(void)argc, (void)argv;
	r = halt();
	printf("sh: halt: %s\n", kestrel_strerror(r));
}

static void cmd_reboot(int argc, char **argv)
{
	long r;

	(void)argc, (void)argv;
	r = reboot();
	printf("sh: reboot: %s\n", kestrel_strerror(r));
}

/* The whole kernel log: KLOG_SIZE in include/kernel/klog.h. */
#define DMESG_BUF       (64 * KIB)

static void cmd_dmesg(int argc, char **argv)
{
	char *buf = malloc(DMESG_BUF);
	long n;

	(void)argc, (void)argv;
	if (!buf) {
		printf("sh: dmesg: out of memory\n");
		return;
	}
	n = dmesg(buf, DMESG_BUF);
	if (n < 0)
		printf("sh: dmesg: %s\n", kestrel_strerror(n));
	else
		write(1, buf, (size_t)n);
	free(buf);
}

static const struct command commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "ps", "", "processes: PID PPID THR STATE TICKS MEM NAME", cmd_ps },
	{ "cpus", "", "number of CPUs online", cmd_cpus },
	{ "mem", "", "total and free memory", cmd_mem },
	{ "uptime", "", "time since boot", cmd_uptime },
	{ "dmesg", "", "the kernel log", cmd_dmesg },
	{ "run", "<program> [args]", "run a program and wait for it (Ctrl-C ends it)", cmd_run },
	{ "kill", "<pid>", "kill a process", cmd_kill },
	{ "halt", "", "power off", cmd_halt },
	{ "reboot", "", "reset the machine", cmd_reboot },
	{ NULL, NULL, NULL, NULL },
};

static void cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (const struct command *c = commands; c->name; c++) {
		char usage[LINE_MAX];

		snprintf(usage, sizeof usage, "%s %s", c->name, c->args);
		printf("  %-24s %s\n", usage, c->help);
	}
}

static void execute(char *line)
{
	char *argv[ARGS_MAX];
	int argc = split(line, argv);

	if (argc < 0) {
		printf("sh: too many words (at most %d)\n", ARGS_MAX - 1);
		return;
	}
	if (argc == 0)
		return;
	for (const struct command *c = commands; c->name; c++) {
		if (strcmp(c->name, argv[0]) == 0) {
			c->run(argc, argv);
			return;
		}
	}
	printf("sh: unknown command '%s' (try help)\n", argv[0]);
}

int main(void)
{
	char line[LINE_MAX];
	long n;

	printf("Kestrel shell; type help for the commands.\n");
	for (;;) {
		printf(PROMPT);
		n = readline(line, sizeof line);
		if (n < 0) {
			printf("sh: reading the console: %s\n", kestrel_strerror(n));
			return 1;
		}
		execute(line);
	}
}
