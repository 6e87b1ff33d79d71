/* Internal interface between sched/proc.c and sched/user.c. */
#ifndef SCHED_USER_H
#define SCHED_USER_H

#include <stdbool.h>
#include <stdint.h>

struct process;

/* What a new user thread starts with (freed by the thread itself). */
struct user_start {
	uint64_t rip, rsp, rdi;
};

/* Task body of every user thread: builds the first ring-3 frame. */
void user_task_start(void *arg);
/* Map program `name` from the initrd and its stack with argv into p->vs. */
int user_load_program(struct process *p, const char *name, int argc, char *const argv[],
		      uint64_t *entry, uint64_t *rsp);
bool user_range_ok_addr(uint64_t addr);

#endif
