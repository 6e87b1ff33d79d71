/*
 * Ring 3: loading ELF programs from the initrd (every header and segment
 * checked before anything is mapped), the initial stack with argv, the
 * first entry through IRETQ, demand-grown stacks, sbrk/mmap, and killing
 * a process that faults.
 */
#include <stddef.h>
#include <stdint.h>
#include <arch/gdt.h>
#include <arch/mmu.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <boot/elf.h>
#include <kernel/errno.h>
#include <kernel/initrd.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/usercopy.h>
#include <kernel/vmm.h>

#include "user.h"

#define USER_RFLAGS     0x202           /* IF set, IOPL 0 */
#define PF_FLAG_P       0x1
#define PF_FLAG_W       0x2
#define PF_FLAG_I       0x10
#define T_PAGE_FAULT    14

static const void *initrd_blob;
static uint64_t initrd_len;

void user_enter(struct trap_frame *tf) __attribute__((noreturn));

void proc_set_initrd(const void *blob, uint64_t size)
{
	initrd_blob = blob;
	initrd_len = size;
}

bool user_range_ok_addr(uint64_t addr)
{
	return user_range_ok(addr, 1);
}

void user_task_start(void *arg)
{
	struct user_start *st = arg;
	/* On this stack, which ring 3 will not need: entries start at TSS.RSP0. */
	struct trap_frame tf = {
		.rip = st->rip, .rsp = st->rsp, .rdi = st->rdi,
		.cs = SEL_UCODE, .ss = SEL_UDATA, .rflags = USER_RFLAGS,
	};

	kfree(st);
	irq_disable();
	user_enter(&tf);
}

/*
 * Demand-zero pages reserved by sbrk/mmap and not yet touched, over all
 * processes: a reservation must fit in the free frames not already
 * promised (proc_mem_allows), so the fault that takes the frame finds one
 * unless the kernel's own allocations used it up meanwhile.
 */
static volatile uint64_t demand_reserved;

/* Map one zeroed user page at va; counts it against p. */
static int map_zero_page(struct process *p, uint64_t va, unsigned int flags)
{
	uint64_t pa = pmm_alloc_zeroed_frame();
	int rc;

	if (!pa)
		return -ENOMEM;
	rc = vmm_map(p->vs, va, pa, 1, flags | VM_USER);
	if (rc < 0) {
		pmm_free_frame(pa);
		return rc;
	}
	__atomic_fetch_add(&p->pages, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Unmap and free every mapped page of [va, va + pages pages): one TLB
 * shootdown per UNMAP_BATCH pages, not one per page (each is a round of
 * IPIs to every CPU), and the frames are freed only after it.
 */
#define UNMAP_BATCH     256

static void unmap_free_range(struct process *p, uint64_t va, uint64_t pages)
{
	uint64_t frames[UNMAP_BATCH];

	while (pages) {
		uint64_t n = pages < UNMAP_BATCH ? pages : UNMAP_BATCH, demand;
		uint64_t found = vmm_unmap_range(p->vs, va, n, frames, &demand);

		for (uint64_t i = 0; i < found; i++)
			pmm_free_frame(frames[i]);
		__atomic_fetch_sub(&p->pages, found + demand, __ATOMIC_RELAXED);
		if (demand) {
			__atomic_fetch_sub(&p->demand_pages, demand, __ATOMIC_RELAXED);
			__atomic_fetch_sub(&demand_reserved, demand, __ATOMIC_RELAXED);
		}
		va += n * PAGE_SIZE;
		pages -= n;
	}
}

static unsigned int segment_flags(uint32_t p_flags)
{
	return (p_flags & PF_W ? VM_WRITE : 0) | (p_flags & PF_X ? VM_EXEC : 0);
}

/* Everything about the file that can be wrong, before anything is mapped. */
static int check_user_elf(const char *name, const void *file, uint64_t size, uint64_t *entry)
{
	enum elf_status st = elf_check_header(file, size, ET_EXEC);
	uint64_t lo, hi, e;
	bool entry_ok = false;

	if (st == ELF_OK)
		st = elf_check_loads(file, size, false, USER_BASE, USER_MMAP_BASE - 1, &lo, &hi);
	if (st != ELF_OK) {
		kprintf("exec: '%s' refused: %s\n", name, elf_strerror(st));
		return -ENOEXEC;
	}
	memcpy(&e, (const uint8_t *)file + offsetof(struct elf64_ehdr, e_entry), sizeof(e));
	for (uint16_t i = 0; i < elf_phnum(file); i++) {
		struct elf64_phdr ph;
		elf_get_phdr(file, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if ((ph.p_vaddr ^ ph.p_offset) & (PAGE_SIZE - 1)) {
			kprintf("exec: '%s' refused: segment at 0x%lx not page-congruent with its "
				"file offset\n", name, ph.p_vaddr);
			return -ENOEXEC;
		}
		if ((ph.p_flags & PF_X) && e >= ph.p_vaddr && e < ph.p_vaddr + ph.p_memsz)
			entry_ok = true;
	}
	if (!entry_ok) {
		kprintf("exec: '%s' refused: entry 0x%lx is not in an executable segment\n", name, e);
		return -ENOEXEC;
	}
	*entry = e;
	return 0;
}

/*
 * Fill one page of a segment: the file bytes that fall in it, zeros around
 * them (only there: the rest is overwritten anyway).
 */
static void fill_page(uint8_t *page, uint64_t va, const uint8_t *file, const struct elf64_phdr *ph)
{
	uint64_t fs = ph->p_vaddr, fe = ph->p_vaddr + ph->p_filesz;
	uint64_t cs = va > fs ? va : fs, ce = va + PAGE_SIZE < fe ? va + PAGE_SIZE : fe;

	if (cs >= ce) {
		memset(page, 0, PAGE_SIZE);
		return;
	}
	memset(page, 0, cs - va);
	memcpy(page + (cs - va), file + ph->p_offset + (cs - ph->p_vaddr), ce - cs);
	memset(page + (ce - va), 0, va + PAGE_SIZE - ce);
}

/* ------------------------------------------------------------ shared text */

/*
 * Read-only segments (text, rodata) of one program are built once and
 * mapped VM_SHARED into each of its processes: the initrd never changes,
 * and nobody can write them. An entry lives while a process maps it, and
 * up to SHARED_IDLE_MAX unused ones stay cached for the next spawn
 * (user_drain_shared drops them, for leak checks).
 */
#define SHARED_SEGS             32
#define SHARED_IDLE_MAX         8

struct shared_seg {
	const void *file;               /* the program in the initrd; NULL: slot free */
	uint16_t index;                 /* its program header */
	uint64_t npages;
	uint32_t refs;                  /* processes mapping it */
	uint64_t last_use;              /* for eviction of idle entries */
	uint64_t *frames;
};

static struct mutex shared_lock = MUTEX_INIT("shared_text");
/* Guarded by shared_lock: */
static struct shared_seg shared_segs[SHARED_SEGS];
static uint64_t shared_clock;

static void shared_free(struct shared_seg *s)
{
	for (uint64_t i = 0; i < s->npages; i++)
		pmm_free_frame(s->frames[i]);
	kfree(s->frames);
	*s = (struct shared_seg){ 0 };
}

/* Under shared_lock: a free slot, evicting the least recently used idle entry if need be. */
static struct shared_seg *shared_slot(void)
{
	struct shared_seg *lru = NULL;

	for (int i = 0; i < SHARED_SEGS; i++) {
		struct shared_seg *s = &shared_segs[i];
		if (!s->file)
			return s;
		if (!s->refs && (!lru || s->last_use < lru->last_use))
			lru = s;
	}
	if (lru)
		shared_free(lru);
	return lru;
}

/* Under shared_lock: keep at most SHARED_IDLE_MAX idle entries. */
static void shared_trim(void)
{
	for (;;) {
		struct shared_seg *lru = NULL;
		int idle = 0;
		for (int i = 0; i < SHARED_SEGS; i++) {
			struct shared_seg *s = &shared_segs[i];
			if (s->file && !s->refs) {
				idle++;
				if (!lru || s->last_use < lru->last_use)
					lru = s;
			}
		}
		if (idle <= SHARED_IDLE_MAX)
			return;
		shared_free(lru);
	}
}

/* The shared copy of segment `index` of file, with a reference; NULL: use a private copy. */
static struct shared_seg *shared_get(const uint8_t *file, uint16_t index, const struct elf64_phdr *ph)
{
	uint64_t start = ph->p_vaddr & PAGE_MASK, npages = (ph->p_vaddr + ph->p_memsz - start +
							     PAGE_SIZE - 1) / PAGE_SIZE;
	struct shared_seg *s = NULL;

	mutex_lock(&shared_lock);
	for (int i = 0; i < SHARED_SEGS && !s; i++)
		if (shared_segs[i].file == file && shared_segs[i].index == index)
			s = &shared_segs[i];
	if (!s && (s = shared_slot())) {
		uint64_t *frames = kmalloc(npages * sizeof(*frames));
		uint64_t n = 0;
		for (; frames && n < npages; n++) {
			if (!(frames[n] = pmm_alloc_frame()))
				break;
			fill_page(phys_to_virt(frames[n]), start + n * PAGE_SIZE, file, ph);
		}
		if (!frames || n < npages) {
			while (frames && n)
				pmm_free_frame(frames[--n]);
			kfree(frames);
			s = NULL;
		} else {
			*s = (struct shared_seg){ file, index, npages, 0, 0, frames };
		}
	}
	if (s) {
		s->refs++;
		s->last_use = ++shared_clock;
	}
	mutex_unlock(&shared_lock);
	return s;
}

void proc_release_shared(struct process *p)
{
	mutex_lock(&shared_lock);
	for (uint32_t i = 0; i < p->nshared; i++)
		p->shared[i]->refs--;
	p->nshared = 0;
	shared_trim();
	mutex_unlock(&shared_lock);
}

void user_drain_shared(void)
{
	mutex_lock(&shared_lock);
	for (int i = 0; i < SHARED_SEGS; i++)
		if (shared_segs[i].file && !shared_segs[i].refs)
			shared_free(&shared_segs[i]);
	mutex_unlock(&shared_lock);
}

uint32_t user_shared_segments(void)
{
	uint32_t n = 0;

	mutex_lock(&shared_lock);
	for (int i = 0; i < SHARED_SEGS; i++)
		n += shared_segs[i].file != NULL;
	mutex_unlock(&shared_lock);
	return n;
}

/* A read-only segment whose pages no other PT_LOAD segment touches can be shared. */
static bool shareable(const uint8_t *file, uint16_t index, const struct elf64_phdr *ph)
{
	uint64_t lo = ph->p_vaddr & PAGE_MASK, hi = ph->p_vaddr + ph->p_memsz;

	if (ph->p_flags & PF_W || !ph->p_memsz)
		return false;
	for (uint16_t i = 0; i < elf_phnum(file); i++) {
		struct elf64_phdr o;
		elf_get_phdr(file, i, &o);
		if (i == index || o.p_type != PT_LOAD || !o.p_memsz)
			continue;
		uint64_t olo = o.p_vaddr & PAGE_MASK, ohi = o.p_vaddr + o.p_memsz;
		if (olo < ((hi + PAGE_SIZE - 1) & PAGE_MASK) && lo < ((ohi + PAGE_SIZE - 1) & PAGE_MASK))
			return false;
	}
	return true;
}

static int map_shared(struct process *p, struct shared_seg *s, const struct elf64_phdr *ph)
{
	uint64_t start = ph->p_vaddr & PAGE_MASK;
	unsigned int flags = segment_flags(ph->p_flags) | VM_USER | VM_SHARED;

	for (uint64_t i = 0; i < s->npages; i++) {
		int rc = vmm_map(p->vs, start + i * PAGE_SIZE, s->frames[i], 1, flags);
		if (rc < 0)
			return rc;      /* the caller destroys the space */
	}
	return 0;
}

/* Build a segment's (already checked) pages: shared when read-only, else this process's own. */
static int load_segment(struct process *p, const uint8_t *file, uint16_t index,
			const struct elf64_phdr *ph, uint64_t *end)
{
	unsigned int flags = segment_flags(ph->p_flags);
	uint64_t start = ph->p_vaddr & PAGE_MASK, stop = ph->p_vaddr + ph->p_memsz;

	if (stop > *end)
		*end = stop;
	if (p->nshared < PROC_MAX_SHARED && shareable(file, index, ph)) {
		struct shared_seg *s = shared_get(file, index, ph);
		if (s) {
			p->shared[p->nshared++] = s;    /* released with the process */
			return map_shared(p, s, ph);
		}
	}
	for (uint64_t va = start; va < stop; va += PAGE_SIZE) {
		uint64_t pa;
		unsigned int old;
		if (vmm_translate(p->vs, va, &pa, &old)) {
			/* Two segments share this page: the union of their rights, then our bytes. */
			vmm_protect(p->vs, va, 1, old | flags | VM_USER);
			uint64_t fs = ph->p_vaddr, fe = ph->p_vaddr + ph->p_filesz;
			uint64_t cs = va > fs ? va : fs, ce = va + PAGE_SIZE < fe ? va + PAGE_SIZE : fe;
			if (cs < ce)
				memcpy((uint8_t *)phys_to_virt(pa & PAGE_MASK) + (cs - va),
				       file + ph->p_offset + (cs - ph->p_vaddr), ce - cs);
			continue;
		}
		/* A page with file bytes is written whole by fill_page: no zeroing first. */
		bool has_file = va < ph->p_vaddr + ph->p_filesz;
		pa = has_file ? pmm_alloc_frame() : pmm_alloc_zeroed_frame();
		if (!pa)
			return -ENOMEM;
		if (has_file)
			fill_page(phys_to_virt(pa), va, file, ph);
		int rc = vmm_map(p->vs, va, pa, 1, flags | VM_USER);
		if (rc < 0) {
			pmm_free_frame(pa);
			return rc;
		}
		__atomic_fetch_add(&p->pages, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/* argc, argv[], NULL, envp NULL, then the strings, at the top of the stack. */
static int setup_stack(struct process *p, int argc, char *const argv[], uint64_t *rsp)
{
	uint64_t strings = 0, sp, ptrs[PROC_MAX_ARGS];
	uint8_t *top;
	uint64_t pa;

	for (uint64_t va = USER_STACK_TOP - USER_STACK_INITIAL; va < USER_STACK_TOP; va += PAGE_SIZE) {
		int rc = map_zero_page(p, va, VM_WRITE);
		if (rc < 0)
			return rc;
	}
	vmm_translate(p->vs, USER_STACK_TOP - PAGE_SIZE, &pa, NULL);
	top = (uint8_t *)phys_to_virt(pa & PAGE_MASK) + PAGE_SIZE;     /* the last page */
	for (int i = 0; i < argc; i++)
		strings += strlen(argv[i]) + 1;
	if (strings + (argc + 3) * 8 + 16 > PAGE_SIZE)
		return -E2BIG;
	sp = USER_STACK_TOP;
	for (int i = argc - 1; i >= 0; i--) {
		size_t n = strlen(argv[i]) + 1;
		sp -= n;
		memcpy(top - (USER_STACK_TOP - sp), argv[i], n);
		ptrs[i] = sp;
	}
	sp &= ~15ul;
	/* argc + argv + NULL + envp NULL; keep rsp 16-byte aligned at _start. */
	if ((argc + 3) % 2)
		sp -= 8;
	sp -= (uint64_t)(argc + 3) * 8;
	uint64_t *w = (uint64_t *)(top - (USER_STACK_TOP - sp));
	w[0] = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		w[1 + i] = ptrs[i];
	w[1 + argc] = 0;
	w[2 + argc] = 0;
	*rsp = sp;
	return 0;
}

int user_load_program(struct process *p, const char *name, int argc, char *const argv[],
		      uint64_t *entry, uint64_t *rsp)
{
	const void *file;
	uint64_t size, end = 0;
	int rc;

	if (!initrd_blob || initrd_find(initrd_blob, initrd_len, name, &file, &size) < 0)
		return -ENOENT;
	rc = check_user_elf(name, file, size, entry);
	if (rc < 0)
		return rc;
	for (uint16_t i = 0; i < elf_phnum(file); i++) {
		struct elf64_phdr ph;
		elf_get_phdr(file, i, &ph);
		if (ph.p_type == PT_LOAD && (rc = load_segment(p, file, i, &ph, &end)) < 0)
			return rc;
	}
	p->brk_start = p->brk = (end + PAGE_SIZE - 1) & PAGE_MASK;
	p->mmap_next = USER_MMAP_BASE;
	return setup_stack(p, argc, argv, rsp);
}

/* ------------------------------------------------------------ faults */

bool proc_handle_page_fault(uint64_t addr, uint64_t error)
{
	struct process *p = current_proc();
	int rc;

	if (!p || (error & PF_FLAG_P))
		return false;           /* no process, or a protection violation */
	if (addr >= USER_BASE && addr < USER_MMAP_END) {
		/* A page sbrk or mmap reserved: its zeroed frame now. */
		rc = vmm_fault_demand(p->vs, addr);
		if (rc == VMM_FAULT_MAPPED) {
			__atomic_fetch_sub(&p->demand_pages, 1, __ATOMIC_RELAXED);
			__atomic_fetch_sub(&demand_reserved, 1, __ATOMIC_RELAXED);
		} else if (rc == -ENOMEM) {
			kprintf("kestrel: process '%s' (pid %d): no free frame for its page at 0x%lx\n",
				p->name, p->pid, addr & PAGE_MASK);
		}
		return rc > 0;
	}
	if (addr < USER_STACK_LOW || addr >= USER_STACK_TOP)
		return false;
	/* Inside the stack region: grow it by the page that was touched. */
	if (vmm_translate(p->vs, addr, NULL, NULL))
		return true;            /* another thread grew it first */
	if (!proc_mem_allows(p, 1))
		return false;
	return map_zero_page(p, addr & PAGE_MASK, VM_WRITE) == 0;
}

void proc_release_reservations(struct process *p)
{
	uint64_t n = __atomic_exchange_n(&p->demand_pages, 0, __ATOMIC_RELAXED);

	__atomic_fetch_sub(&demand_reserved, n, __ATOMIC_RELAXED);
}

uint64_t proc_demand_reserved(void)
{
	return __atomic_load_n(&demand_reserved, __ATOMIC_RELAXED);
}

void proc_fault_kill(const struct trap_frame *tf)
{
	struct process *p = current_proc();
	uint64_t cr2 = read_cr2();

	kprintf("kestrel: process '%s' (pid %d) killed: %s at RIP 0x%lx", p->name, p->pid,
		trap_name((unsigned int)tf->vector), tf->rip);
	if (tf->vector == T_PAGE_FAULT) {
		bool guard = cr2 >= USER_STACK_LOW - PAGE_SIZE && cr2 < USER_STACK_LOW;
		kprintf(", address 0x%lx (%s %s)%s", cr2,
			tf->error & PF_FLAG_P ? "protection violation," : "not present,",
			tf->error & PF_FLAG_I ? "instruction fetch" :
			tf->error & PF_FLAG_W ? "write" : "read",
			guard ? ", stack overflow into the guard page" : "");
	}
	kprintf("\n");
	proc_exit(KESTREL_KILL_VECTOR((int)tf->vector) << 8);
}

/* ------------------------------------------------------------ memory calls */

bool proc_mem_allows(const struct process *p, uint64_t pages)
{
	uint64_t limit = pmm_managed_count() / PROC_MEM_LIMIT_DEN * PROC_MEM_LIMIT_NUM;
	uint64_t mapped = __atomic_load_n(&p->pages, __ATOMIC_RELAXED);
	uint64_t free = pmm_free_count(), promised = __atomic_load_n(&demand_reserved, __ATOMIC_RELAXED);

	/*
	 * Checked before anything is mapped or reserved: a request that cannot
	 * fit fails at once. p->pages counts mapped and reserved pages alike.
	 */
	return pages <= limit && mapped <= limit - pages && promised <= free &&
	       pages <= free - promised;
}

/*
 * Reserve [va, va + pages pages) demand-zero, all or nothing: page tables
 * now, each frame (zeroed) at its first touch (proc_handle_page_fault).
 */
static int map_zero_range(struct process *p, uint64_t va, uint64_t pages, unsigned int flags)
{
	int rc;

	if (!proc_mem_allows(p, pages))
		return -ENOMEM;
	rc = vmm_reserve(p->vs, va, pages, flags | VM_USER);
	if (rc < 0)
		return -ENOMEM;
	__atomic_fetch_add(&p->pages, pages, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->demand_pages, pages, __ATOMIC_RELAXED);
	__atomic_fetch_add(&demand_reserved, pages, __ATOMIC_RELAXED);
	return 0;
}

/* Under mm_lock, so threads of one process never race on the break. */
int64_t proc_sbrk(int64_t increment)
{
	struct process *p = current_proc();
	int64_t rc;

	mutex_lock(&p->mm_lock);
	uint64_t old = p->brk, new = old + (uint64_t)increment;
	uint64_t old_top = (old + PAGE_SIZE - 1) & PAGE_MASK;
	uint64_t new_top = (new + PAGE_SIZE - 1) & PAGE_MASK;

	if ((increment < 0 && new > old) || (increment > 0 && new < old) ||
	    new < p->brk_start || new > p->brk_start + USER_BRK_MAX || new >= USER_MMAP_BASE) {
		rc = -ENOMEM;
	} else if (new_top > old_top &&
		   map_zero_range(p, old_top, (new_top - old_top) / PAGE_SIZE, VM_WRITE) < 0) {
		rc = -ENOMEM;
	} else {
		if (old_top > new_top)
			unmap_free_range(p, new_top, (old_top - new_top) / PAGE_SIZE);
		p->brk = new;
		rc = (int64_t)old;
	}
	mutex_unlock(&p->mm_lock);
	return rc;
}

int64_t proc_mmap(uint64_t len, int prot)
{
	struct process *p = current_proc();
	uint64_t pages = (len + PAGE_SIZE - 1) / PAGE_SIZE, va;
	unsigned int flags = (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
	int64_t rc;

	if (!len || pages > (USER_MMAP_END - USER_MMAP_BASE) / PAGE_SIZE)
		return -EINVAL;
	mutex_lock(&p->mm_lock);
	va = p->mmap_next;
	if (va + (pages + 1) * PAGE_SIZE > USER_MMAP_END) {
		rc = -ENOMEM;
	} else if (map_zero_range(p, va, pages, flags) < 0) {
		rc = -ENOMEM;
	} else {
		p->mmap_next += (pages + 1) * PAGE_SIZE;        /* an unmapped page between mappings */
		rc = (int64_t)va;
	}
	mutex_unlock(&p->mm_lock);
	return rc;
}

int proc_munmap(uint64_t addr, uint64_t len)
{
	struct process *p = current_proc();

	if (!user_range_ok(addr, len))
		return -EFAULT;
	if ((addr & ~PAGE_MASK) || !len)
		return -EINVAL;
	mutex_lock(&p->mm_lock);
	/*
	 * Only three regions ever hold user pages: the program and its break,
	 * the mmap area handed out so far, and the stack. Walking just their
	 * overlap with the request keeps munmap(0, 128 TiB) as fast as a small one.
	 */
	const uint64_t regions[][2] = {
		{ USER_BASE, (p->brk + PAGE_SIZE - 1) & PAGE_MASK },
		{ USER_MMAP_BASE, p->mmap_next },
		{ USER_STACK_LOW, USER_STACK_TOP },
	};
	for (size_t r = 0; r < sizeof(regions) / sizeof(regions[0]); r++) {
		uint64_t lo = addr > regions[r][0] ? addr : regions[r][0];
		uint64_t hi = addr + len < regions[r][1] ? addr + len : regions[r][1];

		lo &= PAGE_MASK;
		if (lo < hi)
			unmap_free_range(p, lo, (hi - lo + PAGE_SIZE - 1) / PAGE_SIZE);
	}
	mutex_unlock(&p->mm_lock);
	return 0;
}
