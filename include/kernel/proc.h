/*
 * User processes (docs/syscalls.md): an address space, its threads
 * (tasks with proc set), its children, and what its parent's wait() gets.
 */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/spinlock.h>
#include <kernel/wait.h>
#include <uapi/kestrel/syscall.h>

#define PROC_MAX                64      /* process table: spawn fails with -EAGAIN beyond */
#define PROC_MAX_THREADS        32      /* per process: thread_create fails with -EAGAIN */
#define PROC_MAX_SHARED         4       /* shared read-only segments per process (text, rodata) */
#define PROC_MAX_CHILDREN       32      /* live or unwaited children: spawn fails with -EAGAIN */
/*
 * User pages one process may have mapped, as a share of the frames the
 * allocator manages: one program cannot take the memory the kernel and
 * every other process need. Past it, sbrk/mmap/stack growth get -ENOMEM.
 */
#define PROC_MEM_LIMIT_NUM      3
#define PROC_MEM_LIMIT_DEN      4
#define PROC_MAX_ARGS           16
#define PROC_ARG_MAX            128     /* bytes per argument, NUL included */
#define USER_BASE               0x10000ul               /* nothing is mapped below */
#define USER_STACK_TOP          0x00007FFFFFFFF000ul
#define USER_STACK_MAX          (8ul << 20)             /* grows on demand up to this */
#define USER_STACK_LOW          (USER_STACK_TOP - USER_STACK_MAX)
#define USER_STACK_INITIAL      (4 * 4096ul)
#define USER_MMAP_BASE          0x0000100000000000ul
#define USER_MMAP_END           0x0000600000000000ul
#define USER_BRK_MAX            (1ul << 30)

/*
 * PROC_EXITED: its last thread has exited and was handed to the parent
 * waiting for it, which frees the thread and the memory itself (no reaper).
 */
enum proc_state { PROC_ALIVE, PROC_EXITED, PROC_ZOMBIE };

/* process.flags */
#define PROC_F_INIT             0x1     /* the first process: cannot be killed */
#define PROC_F_POWER            0x2     /* may halt and reboot (init, or whom init marks) */

struct thread_slot {
	uint64_t tid;                   /* 0: free */
	struct task *task;
	bool done;
	uint64_t value;
};

struct process {
	spinlock_t lock;                /* guards everything below but pid and name */
	int pid;
	char name[KESTREL_NAME_MAX];
	struct vm_space *vs;
	struct process *parent;         /* NULL once the parent is gone */
	enum proc_state state;
	bool exiting;                   /* exit or kill under way: threads leave */
	int exit_status;                /* wait() status, see syscall.h */
	uint32_t live_threads;          /* not yet exited */
	uint32_t unreaped_threads;      /* tasks not yet freed */
	struct task *last_task;         /* PROC_EXITED: the thread the parent frees */
	/* Under child_wq.lock (sched/proc.c): threads in proc_wait, and the pid one waits for. */
	uint32_t waiters;
	int wait_pid;
	struct thread_slot threads[PROC_MAX_THREADS];
	uint32_t flags;                 /* PROC_F_*; under proc_table_lock */
	struct mutex mm_lock;           /* sbrk, mmap, munmap: one at a time per process */
	uint64_t brk_start, brk;        /* under mm_lock */
	uint64_t mmap_next;             /* under mm_lock */
	uint64_t pages;                 /* user pages mapped or reserved demand-zero (atomic) */
	uint64_t demand_pages;          /* ... of them reserved, not yet touched (atomic) */
	/* The program's read-only segments it maps shared (sched/user.c), set at load. */
	struct shared_seg *shared[PROC_MAX_SHARED];
	uint32_t nshared;
	uint64_t cpu_ticks;             /* of exited threads; live ones add theirs */
};

struct process *current_proc(void);
/* Prints the process table with each thread's state and kernel backtrace. */
void proc_dump(void);
void proc_init(void);
/*
 * Loads `name` from the initrd; returns the pid or a negative errno. A NULL
 * parent makes it init (PROC_F_INIT | PROC_F_POWER), before it can run.
 */
int proc_spawn(const char *name, int argc, char *const argv[], struct process *parent);
/* The same with its first thread pinned (affinity: a CPU bit mask). */
int proc_spawn_on(const char *name, int argc, char *const argv[], struct process *parent,
		  uint64_t affinity);
/* Waits for a child (pid, or -1 for any) of parent; returns its pid. ticks may be NULL. */
int proc_wait(struct process *parent, int pid, int *status, uint64_t *ticks);
/* A parent for processes the kernel itself starts and waits for (tests). */
struct process *proc_kernel_parent(void);
/* Ends the calling thread's process with a wait() status; does not return. */
__attribute__((noreturn)) void proc_exit(int status);
/* Ends only the calling thread. */
__attribute__((noreturn)) void proc_thread_exit(uint64_t value);
int proc_kill(int pid, int status);
/*
 * kill() from user space: killer may end itself and its descendants, never
 * init. A NULL killer is the kernel, which may end any process (proc_kill).
 */
int proc_kill_from(struct process *killer, int pid, int status);
/* SYS_setpriv: caller gives pid (itself or a descendant) privileges it holds. */
int proc_setpriv(struct process *caller, int pid, uint32_t privs);
/* SYS_setfg (include/uapi/kestrel/syscall.h): returns the previous pid or -errno. */
int proc_set_foreground(struct process *caller, int pid);
/* Ctrl-C on the console: kill the foreground process; true if one was alive. */
bool proc_interrupt_foreground(void);
/* Can map `pages` more user pages without passing its limit or free memory? */
bool proc_mem_allows(const struct process *p, uint64_t pages);
/* On the way back to ring 3: leave if the process is going away. */
void proc_check_exit(void);
int proc_thread_create(uint64_t entry, uint64_t arg, uint64_t stack_top);
int proc_thread_join(uint64_t tid, uint64_t *value);
int proc_list(struct kestrel_proc_info *out, int max);
uint32_t proc_count(void);

/*
 * Page-fault help for the user half (error: the #PF error code): the zeroed
 * frame of a demand-zero page, or stack growth; false if not ours to fix.
 */
bool proc_handle_page_fault(uint64_t addr, uint64_t error);
/* Drop p's references to its program's shared segments (once its space is gone). */
void proc_release_shared(struct process *p);
/* Free the cached shared segments no process maps (leak checks); how many exist. */
void user_drain_shared(void);
uint32_t user_shared_segments(void);
/* Physical address of va in live process pid (tests); false if none or unmapped. */
bool proc_translate(int pid, uint64_t va, uint64_t *pa);
/* A dead process's untouched demand-zero reservations go back (proc_finish). */
void proc_release_reservations(struct process *p);
/* Untouched demand-zero pages reserved over all processes (tests). */
uint64_t proc_demand_reserved(void);
/* Kill the current process for a CPU exception in ring 3. */
struct trap_frame;
__attribute__((noreturn)) void proc_fault_kill(const struct trap_frame *tf);

/* Memory calls. */
int64_t proc_sbrk(int64_t increment);
int64_t proc_mmap(uint64_t len, int prot);
int proc_munmap(uint64_t addr, uint64_t len);

/* Initrd set by boot: where spawn finds programs. */
void proc_set_initrd(const void *blob, uint64_t size);
/* Console input (kernel/syscall.c): wake blocked readers (process exit). */
void console_wake_readers(void);

#endif
