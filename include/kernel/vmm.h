/*
 * Address spaces and page tables (mm/vmm.c). The kernel half (PML4 slots
 * 256..511) is created once at boot and shared by every address space.
 */
#ifndef KERNEL_VMM_H
#define KERNEL_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <boot/boot_info.h>
#include <kernel/spinlock.h>

/* Mapping flags for vmm_map / vmm_protect; readable is implied. */
#define VM_WRITE        (1u << 0)
#define VM_EXEC         (1u << 1)
#define VM_USER         (1u << 2)
#define VM_NOCACHE      (1u << 3)       /* MMIO */
#define VM_WC           (1u << 4)       /* write-combining (framebuffers); UC without PAT */
/*
 * A user frame owned elsewhere (a program's shared text, sched/user.c):
 * vmm_unmap_frames() does not hand it back, vmm_destroy_with_frames()
 * does not free it.
 */
#define VM_SHARED       (1u << 5)

#define USER_SPACE_END  0x0000800000000000ul    /* first non-canonical address */

struct vm_space {
	spinlock_t lock;        /* guards the page tables below */
	uint64_t pml4;          /* physical address */
	uint64_t id;            /* unique, never reused: tags this space's PCID on each CPU */
	/*
	 * Bit c: CPU c has this space in CR3 (running one of its tasks, or a
	 * kernel task or idle on it lazily). Set by vmm_activate() before the
	 * CR3 write, cleared when the CPU loads another space.
	 */
	volatile uint64_t cpus;
	/* Bumped after every unmap or protect; a CPU whose copy is older flushes. */
	volatile uint64_t tlb_gen;
};

extern struct vm_space kernel_space;

/* Build the kernel's page tables (direct map, kernel sections) and switch to them. */
void vmm_init(const struct boot_info *bi);

struct vm_space *vmm_create(void);
/* Frees the space's user-half page-table pages (not the frames they mapped). */
void vmm_destroy(struct vm_space *vs);
/* The same, also freeing every frame mapped in the user half (a process's memory). */
void vmm_destroy_with_frames(struct vm_space *vs);

/* Map npages 4 KiB pages va -> pa. -EEXIST if any is mapped, -ENOMEM; nothing changes on error. */
int vmm_map(struct vm_space *vs, uint64_t va, uint64_t pa, uint64_t npages, unsigned int flags);
/* Unmap npages pages (unmapped ones are skipped); returns the number unmapped, shared ones too. */
uint64_t vmm_unmap(struct vm_space *vs, uint64_t va, uint64_t npages);
/*
 * The same, writing each unmapped page's frame to frames (room for npages),
 * read and cleared under the space's lock: free them after it returns, when
 * no CPU can still reach them through its TLB. Returns how many it wrote:
 * VM_SHARED pages are unmapped but not listed.
 */
uint64_t vmm_unmap_frames(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t *frames);
/* The same, also clearing demand-zero reservations; *demand gets how many. */
uint64_t vmm_unmap_range(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t *frames,
			 uint64_t *demand);
/*
 * Reserve npages user pages (flags must have VM_USER): no frame now, a
 * zeroed one on first touch (vmm_fault_demand). -EEXIST if any page is
 * mapped or reserved, -ENOMEM for page tables; nothing changes on error.
 */
int vmm_reserve(struct vm_space *vs, uint64_t va, uint64_t npages, unsigned int flags);
/*
 * A not-present fault at va: VMM_FAULT_MAPPED when va was reserved and now
 * has its zeroed frame, VMM_FAULT_RETRY when it is present already
 * (another CPU faulted it in), 0 when it is neither, -ENOMEM.
 */
#define VMM_FAULT_MAPPED        1
#define VMM_FAULT_RETRY         2
int vmm_fault_demand(struct vm_space *vs, uint64_t va);
/*
 * True if va holds a demand-zero reservation (sbrk/mmap, not yet touched);
 * *flags gets the VM_* rights its frame will be mapped with.
 */
bool vmm_reserved(struct vm_space *vs, uint64_t va, unsigned int *flags);
/* Change the flags of npages mapped pages; -ENOENT if any is not mapped. */
int vmm_protect(struct vm_space *vs, uint64_t va, uint64_t npages, unsigned int flags);
/* Physical address for va (any page size); false if unmapped. *flags gets VM_* bits. */
bool vmm_translate(struct vm_space *vs, uint64_t va, uint64_t *pa, unsigned int *flags);
/* Load vs into CR3 (and nothing else): for a CPU before its scheduler runs. */
void vmm_switch(struct vm_space *vs);
/*
 * The scheduler's switch, interrupts off: a user space is loaded (its
 * PCID kept when the CPU has one and nothing changed since), kernel_space
 * is not: kernel tasks and idle keep the last user space (lazy TLB).
 */
void vmm_activate(struct vm_space *vs);
/* Per-CPU TLB set-up (CR4.PCIDE when the CPU has PCIDs), on each CPU before it schedules. */
void vmm_init_cpu(void);
/* Whether this kernel tags TLB entries with PCIDs (CR4.PCIDE on every CPU). */
bool vmm_pcid_enabled(void);
/* CR3 writes this CPU has made through vmm_activate (statistics, tests). */
uint64_t vmm_cr3_writes(uint32_t cpu);
/* The user space in this CPU's CR3, or &kernel_space (tests). */
struct vm_space *vmm_loaded(uint32_t cpu);

/*
 * Cross-CPU TLB shootdown: the SMP code installs it; until then, and on
 * one CPU, invalidation is local only. Called after the local invlpg,
 * with the CPUs that must flush (a CPU that has vs loaded but runs a
 * kernel task on it lazily is left out: it flushes when it leaves).
 */
typedef void (*vmm_shootdown_fn)(struct vm_space *vs, uint64_t va, uint64_t npages,
				 uint64_t targets);
void vmm_set_shootdown_hook(vmm_shootdown_fn fn);

/* Map device memory uncached in the kernel half; NULL on failure. */
void *vmm_map_mmio(uint64_t pa, uint64_t size);
/* The same, write-combining (a framebuffer: stores are merged, reads are slow). */
void *vmm_map_wc(uint64_t pa, uint64_t size);

/* Kernel stacks with an unmapped guard page below each (KSTACK_PAGES pages). */
#define KSTACK_PAGES    4
#define KSTACK_SIZE     (KSTACK_PAGES * 4096ul)
/* Returns the stack's top (initial RSP), or 0 when out of memory or slots. */
uint64_t kstack_alloc(void);
void kstack_free(uint64_t top);
/* Unmap the stacks kept for reuse (so frame counts can be compared exactly). */
void kstack_drain_cache(void);
/* True if va lies in a guard page (a kernel stack overflowed into it). */
bool vmm_is_stack_guard(uint64_t va);

#endif
