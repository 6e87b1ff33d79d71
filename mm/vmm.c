/*
 * Page tables (Intel SDM vol. 3, ch. 4.5, 4-level paging): the kernel's
 * address space with a direct map of all physical memory and the kernel
 * image mapped section by section with its own permissions, NX on; and the
 * address-space API the rest of the kernel uses.
 */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/msr.h>
#include <arch/stack.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/errno.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/vmm.h>

/* Page-table entry bits (SDM vol. 3, tables 4-15 to 4-20). */
#define PTE_P           (1ull << 0)
#define PTE_W           (1ull << 1)
#define PTE_U           (1ull << 2)
#define PTE_PWT         (1ull << 3)
#define PTE_PCD         (1ull << 4)
#define PTE_PS          (1ull << 7)     /* 2 MiB (PD) or 1 GiB (PDPT) page */
#define PTE_PAT_4K      (1ull << 7)     /* in a 4 KiB PTE: PAT index bit 2 (SDM 11.12.3) */
#define PTE_G           (1ull << 8)
/*
 * Software: a not-present leaf reserved for a zero page on first touch;
 * with P clear the CPU ignores every other bit (SDM vol. 3, 4.5.4, figure
 * 4-11), so the entry keeps the rights the page will get.
 */
#define PTE_DEMAND      (1ull << 9)
/* Software, ignored by the CPU (SDM table 4-19): the frame is not this space's to free. */
#define PTE_SHARED      (1ull << 10)
#define PTE_NX          (1ull << 63)
#define PTE_ADDR        0x000FFFFFFFFFF000ull
#define PT_ENTRIES      512
#define PT_LEVELS       4

#define SIZE_2M         (1ul << 21)
#define SIZE_1G         (1ul << 30)
#define KERNEL_HALF_SLOT 256            /* PML4 slots 256..511 are the kernel's */
#define SLOT_SPAN       (1ull << 39)    /* 512 GiB per PML4 slot */

/* Kernel stacks: slot i = [guard page][KSTACK_PAGES pages] at KSTACK_BASE + i * stride. */
#define KSTACK_BASE     0xFFFFFE0000000000ull   /* PML4 slot 508 */
#define KSTACK_STRIDE   ((KSTACK_PAGES + 1) * PAGE_SIZE)
#define KSTACK_SLOTS    4096
/* Device memory mapped uncached (LAPIC, IOAPIC, HPET): a bump region. */
#define MMIO_BASE       0xFFFFFE8000000000ull   /* PML4 slot 509 */
#define MMIO_SIZE       SLOT_SPAN

struct vm_space kernel_space = { .lock = SPINLOCK_INIT("kernel_space") };
static vmm_shootdown_fn shootdown_hook;
static uint64_t pte_nx;                 /* PTE_NX when EFER.NXE is on, else 0 */
/* After boot no kernel-half PML4 entry is added: every space shares them. */
static bool kernel_half_frozen;
static spinlock_t mmio_lock = SPINLOCK_INIT("mmio");
static uint64_t mmio_next = MMIO_BASE;  /* guarded by mmio_lock */

static spinlock_t kstack_lock = SPINLOCK_INIT("kstack");
/* Guarded by kstack_lock: */
static uint64_t kstack_used[KSTACK_SLOTS / 64];
/*
 * Freed stacks kept mapped for reuse: unmapping one costs a TLB shootdown
 * on every CPU, which made thread creation an IPI storm.
 */
#define KSTACK_CACHE    16
static uint64_t kstack_cache[KSTACK_CACHE];
static int kstack_cached;

extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __data_end[], __kernel_end[];

static uint64_t *table_virt(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR);
}

static unsigned int pt_index(uint64_t va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static uint64_t alloc_table(void)
{
	return pmm_alloc_zeroed_frame();
}

static uint64_t leaf_bits(unsigned int flags)
{
	uint64_t bits = PTE_P;

	if (flags & VM_WRITE)
		bits |= PTE_W;
	if (flags & VM_USER)
		bits |= PTE_U;
	else
		bits |= PTE_G;          /* kernel mappings survive CR3 switches */
	if (!(flags & VM_EXEC))
		bits |= pte_nx;
	if (flags & VM_NOCACHE)
		bits |= PTE_PCD | PTE_PWT;
	else if (flags & VM_WC)
		/* PAT entry 4 is write-combining (cpu_pat_init()); without PAT, uncached. */
		bits |= boot_cpu_info.has_pat ? PTE_PAT_4K : PTE_PCD | PTE_PWT;
	if (flags & VM_SHARED)
		bits |= PTE_SHARED;
	return bits;
}

/*
 * The level-1 entry for va, creating missing tables when `create`. Returns
 * NULL if a table is missing (or cannot be allocated) or a large page
 * covers va. Caller holds vs->lock.
 */
static uint64_t *walk(struct vm_space *vs, uint64_t va, bool create)
{
	uint64_t *table = phys_to_virt(vs->pml4);

	for (int level = PT_LEVELS; level > 1; level--) {
		uint64_t *e = &table[pt_index(va, level)];
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (!create || (level == PT_LEVELS && va >= DIRECT_MAP_BASE &&
					kernel_half_frozen) || !(pa = alloc_table()))
				return NULL;
			/* Permissive upper levels; the leaf decides. */
			*e = pa | PTE_P | PTE_W | (va < USER_SPACE_END ? PTE_U : 0);
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = table_virt(*e);
	}
	return &table[pt_index(va, 1)];
}

/* ------------------------------------------------------------ TLB state */

/*
 * Which CPUs must flush after a change (SDM vol. 3, 4.10): vs->cpus says
 * who has a space in CR3; a CPU running a kernel task on it (lazy) is
 * skipped and catches up through vs->tlb_gen when a task of the space
 * runs there again. With PCIDs each CPU keeps TLB_SLOTS spaces tagged
 * (PCID = slot + 1; 0 is kernel_space), each with the tlb_gen its entries
 * are good for, so a switch back to an unchanged space keeps its entries
 * (CR3 written with CR3_NOFLUSH).
 */
#define CR3_NOFLUSH     (1ull << 63)    /* with CR4.PCIDE: keep the PCID's entries (SDM 4.10.4.1) */
#define TLB_SLOTS       6               /* PCIDs 1..6 on each CPU */

_Static_assert(MAX_CPUS <= 64, "vm_space.cpus is one 64-bit mask");

struct tlb_slot {
	uint64_t space_id;              /* 0: free (kernel_space has id 0 and no slot) */
	uint64_t gen;                   /* the space's tlb_gen these entries are good for */
};

/* Owned by its CPU, touched with interrupts off; `lazy` is read by others. */
struct tlb_cpu {
	struct vm_space *loaded;        /* in CR3; NULL: kernel_space */
	volatile bool lazy;             /* a kernel task runs on `loaded` */
	uint32_t cur;                   /* slot of `loaded` (always 0 without PCIDs) */
	uint32_t victim;                /* next slot to reuse, round robin */
	struct tlb_slot slot[TLB_SLOTS];
	uint64_t cr3_writes;
};

static struct tlb_cpu tlb_cpus[MAX_CPUS];
static bool pcid_on;                    /* decided on the boot CPU in vmm_init() */
static volatile uint64_t next_space_id = 1;

bool vmm_pcid_enabled(void)
{
	return pcid_on;
}

uint64_t vmm_cr3_writes(uint32_t cpu)
{
	return tlb_cpus[cpu].cr3_writes;
}

struct vm_space *vmm_loaded(uint32_t cpu)
{
	struct vm_space *vs = __atomic_load_n(&tlb_cpus[cpu].loaded, __ATOMIC_ACQUIRE);

	return vs ? vs : &kernel_space;
}

void vmm_init_cpu(void)
{
	if (pcid_on && !(read_cr4() & CR4_PCIDE))
		write_cr4(read_cr4() | CR4_PCIDE);      /* CR3[11:0] is 0 here: kernel_space */
}

static void load_cr3(struct tlb_cpu *t, struct vm_space *vs, uint32_t slot, bool keep)
{
	uint64_t cr3 = vs->pml4;

	if (pcid_on)
		cr3 |= (slot + 1) | (keep ? CR3_NOFLUSH : 0);
	write_cr3(cr3);
	t->cr3_writes++;
}

void vmm_activate(struct vm_space *vs)
{
	uint32_t me = cpu_id();
	uint64_t bit = 1ull << me, gen;
	struct tlb_cpu *t = &tlb_cpus[me];
	struct vm_space *prev = t->loaded ? t->loaded : &kernel_space;
	uint32_t s = 0;
	bool keep = false;

	if (vs == &kernel_space) {
		/* Kernel tasks never touch user addresses: stay on the user space. */
		if (prev != &kernel_space)
			__atomic_store_n(&t->lazy, true, __ATOMIC_RELAXED);
		return;
	}
	/*
	 * Announce ourselves, then read the generation: a CPU changing vs
	 * bumps tlb_gen, then reads cpus and lazy. Either it sees us (and
	 * interrupts us) or we see its bump (and flush).
	 */
	if (prev != vs)
		__atomic_fetch_or(&vs->cpus, bit, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t->lazy, false, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	gen = __atomic_load_n(&vs->tlb_gen, __ATOMIC_ACQUIRE);
	if (prev == vs) {
		/* Back from lazy mode: flush if vs changed while we skipped shootdowns. */
		if (t->slot[t->cur].gen != gen) {
			t->slot[t->cur].gen = gen;
			load_cr3(t, vs, t->cur, false);
		}
		return;
	}
	if (pcid_on) {
		for (s = 0; s < TLB_SLOTS; s++)
			if (t->slot[s].space_id == vs->id)
				break;
		if (s < TLB_SLOTS) {
			keep = t->slot[s].gen == gen;
		} else {
			s = t->victim;
			t->victim = (s + 1) % TLB_SLOTS;
		}
	}
	t->slot[s] = (struct tlb_slot){ vs->id, gen };
	t->cur = s;
	t->loaded = vs;
	load_cr3(t, vs, s, keep);
	if (prev != &kernel_space)
		__atomic_fetch_and(&prev->cpus, ~bit, __ATOMIC_SEQ_CST);
}

/* Whether this CPU's CR3 holds vs. Interrupts off. */
static bool loaded_here(struct vm_space *vs)
{
	return (read_cr3() & PTE_ADDR) == vs->pml4;
}

/* This CPU's TLB; caller holds vs->lock (interrupts off). */
static void invalidate(struct vm_space *vs, uint64_t va, uint64_t npages)
{
	if (vs == &kernel_space || loaded_here(vs))
		for (uint64_t i = 0; i < npages; i++)
			invlpg(va + i * PAGE_SIZE);
}

/*
 * After a change to vs and invalidate(), still under vs->lock on the same
 * CPU: bump the generation and return the other CPUs that must flush.
 */
static uint64_t tlb_changed(struct vm_space *vs)
{
	uint32_t me = cpu_id();
	uint64_t targets, old;

	if (vs == &kernel_space) {
		targets = 0;
		for (uint32_t c = 0; c < ncpus; c++)
			if (cpus[c].online)
				targets |= 1ull << c;
		return targets & ~(1ull << me);
	}
	old = __atomic_fetch_add(&vs->tlb_gen, 1, __ATOMIC_SEQ_CST);
	/* This CPU just flushed the range: its entries for vs stay good. */
	struct tlb_cpu *t = &tlb_cpus[me];
	if (t->loaded == vs && t->slot[t->cur].gen == old)
		t->slot[t->cur].gen = old + 1;
	targets = __atomic_load_n(&vs->cpus, __ATOMIC_SEQ_CST) & ~(1ull << me);
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		if ((targets & (1ull << c)) && __atomic_load_n(&tlb_cpus[c].lazy, __ATOMIC_SEQ_CST))
			targets &= ~(1ull << c);
	return targets;
}

/*
 * The other CPUs' TLBs. Called after vs->lock is dropped: the targets must
 * be able to take interrupts, and one may be spinning for this very lock.
 */
static void shootdown(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t targets)
{
	if (shootdown_hook && targets)
		shootdown_hook(vs, va, npages, targets);
}

/* An IPI target: leave vs if it is loaded here (it is being destroyed). */
static void evict_here(void *arg)
{
	struct vm_space *vs = arg;
	uint64_t flags = read_rflags();
	uint32_t me;
	struct tlb_cpu *t;

	irq_disable();
	me = cpu_id();
	t = &tlb_cpus[me];
	if (t->loaded == vs) {
		write_cr3(kernel_space.pml4);   /* PCID 0 */
		t->cr3_writes++;
		t->loaded = NULL;
		t->lazy = false;
		__atomic_fetch_and(&vs->cpus, ~(1ull << me), __ATOMIC_SEQ_CST);
	} else if (loaded_here(vs)) {
		write_cr3(kernel_space.pml4);   /* vmm_switch() users (AP start-up) */
	}
	if (flags & RFLAGS_IF)
		irq_enable();
}

static bool range_ok(uint64_t va, uint64_t npages)
{
	uint64_t end = va + npages * PAGE_SIZE;

	if ((va & ~PAGE_MASK) || npages == 0 || end < va)
		return false;
	/* Must not cross the non-canonical hole. */
	return end <= USER_SPACE_END || va >= DIRECT_MAP_BASE;
}

/*
 * Caller holds vs->lock; returns how many present pages it unmapped.
 * frames, when not NULL, gets each unmapped page's frame but shared ones,
 * *nframes how many; demand-zero reservations are cleared too, counted in
 * *demand.
 */
static uint64_t unmap_locked(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t *frames,
			     uint64_t *nframes, uint64_t *demand)
{
	uint64_t n = 0, owned = 0;

	for (uint64_t i = 0; i < npages; i++) {
		uint64_t *pte = walk(vs, va + i * PAGE_SIZE, false);
		if (pte && (*pte & PTE_P)) {
			if (frames && !(*pte & PTE_SHARED))
				frames[owned++] = *pte & PTE_ADDR;
			*pte = 0;
			n++;
		} else if (pte && (*pte & PTE_DEMAND)) {
			*pte = 0;
			if (demand)
				(*demand)++;
		}
	}
	if (nframes)
		*nframes = owned;
	return n;
}

int vmm_map(struct vm_space *vs, uint64_t va, uint64_t pa, uint64_t npages, unsigned int flags)
{
	uint64_t lflags, bits = leaf_bits(flags), targets = 0;
	int rc = 0;

	if (!range_ok(va, npages) || (pa & ~PAGE_MASK))
		return -EINVAL;
	lflags = spin_lock_irqsave(&vs->lock);
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t *pte = walk(vs, va + i * PAGE_SIZE, false);
		if (pte && (*pte & (PTE_P | PTE_DEMAND))) {
			rc = -EEXIST;
			goto out;
		}
	}
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t *pte = walk(vs, va + i * PAGE_SIZE, true);
		if (!pte) {
			if (unmap_locked(vs, va, i, NULL, NULL, NULL)) {        /* roll back this call */
				invalidate(vs, va, i);
				targets = tlb_changed(vs);
			}
			rc = -ENOMEM;
			goto out;
		}
		*pte = (pa + i * PAGE_SIZE) | bits;
	}
out:
	spin_unlock_irqrestore(&vs->lock, lflags);
	shootdown(vs, va, npages, targets);
	return rc;
}

uint64_t vmm_unmap_frames(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t *frames)
{
	return vmm_unmap_range(vs, va, npages, frames, NULL);
}

uint64_t vmm_unmap_range(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t *frames,
			 uint64_t *demand)
{
	uint64_t lflags, n, owned = 0, targets = 0;

	if (demand)
		*demand = 0;
	if (!range_ok(va, npages))
		return 0;
	lflags = spin_lock_irqsave(&vs->lock);
	n = unmap_locked(vs, va, npages, frames, &owned, demand);
	if (n) {
		invalidate(vs, va, npages);
		targets = tlb_changed(vs);
	}
	spin_unlock_irqrestore(&vs->lock, lflags);
	shootdown(vs, va, npages, targets);
	return frames ? owned : n;
}

uint64_t vmm_unmap(struct vm_space *vs, uint64_t va, uint64_t npages)
{
	return vmm_unmap_frames(vs, va, npages, NULL);
}

int vmm_protect(struct vm_space *vs, uint64_t va, uint64_t npages, unsigned int flags)
{
	uint64_t lflags, bits = leaf_bits(flags), targets = 0;
	int rc = 0;

	if (!range_ok(va, npages))
		return -EINVAL;
	lflags = spin_lock_irqsave(&vs->lock);
	for (uint64_t i = 0; i < npages && rc == 0; i++) {
		uint64_t *pte = walk(vs, va + i * PAGE_SIZE, false);
		if (!pte || !(*pte & PTE_P))
			rc = -ENOENT;
	}
	if (rc == 0) {
		for (uint64_t i = 0; i < npages; i++) {
			uint64_t *pte = walk(vs, va + i * PAGE_SIZE, false);
			*pte = (*pte & PTE_ADDR) | bits;
		}
		invalidate(vs, va, npages);
		targets = tlb_changed(vs);
	}
	spin_unlock_irqrestore(&vs->lock, lflags);
	shootdown(vs, va, npages, targets);
	return rc;
}

int vmm_reserve(struct vm_space *vs, uint64_t va, uint64_t npages, unsigned int flags)
{
	uint64_t lflags, bits = (leaf_bits(flags) & ~PTE_P) | PTE_DEMAND;
	int rc = 0;

	if (!range_ok(va, npages) || va >= USER_SPACE_END || !(flags & VM_USER))
		return -EINVAL;
	lflags = spin_lock_irqsave(&vs->lock);
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t *pte = walk(vs, va + i * PAGE_SIZE, false);
		if (pte && (*pte & (PTE_P | PTE_DEMAND))) {
			rc = -EEXIST;
			goto out;
		}
	}
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t *pte = walk(vs, va + i * PAGE_SIZE, true);
		if (!pte) {
			unmap_locked(vs, va, i, NULL, NULL, NULL);      /* nothing was present: no flush */
			rc = -ENOMEM;
			goto out;
		}
		*pte = bits;
	}
out:
	spin_unlock_irqrestore(&vs->lock, lflags);
	return rc;
}

/* The leaf for va if it holds a demand-zero reservation, else NULL. Caller holds vs->lock. */
static uint64_t *demand_pte(struct vm_space *vs, uint64_t va)
{
	uint64_t *pte = walk(vs, va, false);

	return pte && (*pte & (PTE_P | PTE_DEMAND)) == PTE_DEMAND ? pte : NULL;
}

int vmm_fault_demand(struct vm_space *vs, uint64_t va)
{
	uint64_t lflags, pa, *pte;
	bool reserved, present;
	int rc = 0;

	va &= PAGE_MASK;
	if (va >= USER_SPACE_END)
		return 0;
	lflags = spin_lock_irqsave(&vs->lock);
	reserved = demand_pte(vs, va) != NULL;
	pte = walk(vs, va, false);
	present = pte && (*pte & PTE_P);
	spin_unlock_irqrestore(&vs->lock, lflags);
	if (present)
		return VMM_FAULT_RETRY;         /* another thread of the space got there first */
	if (!reserved)
		return 0;
	pa = pmm_alloc_zeroed_frame();
	if (!pa)
		return -ENOMEM;
	lflags = spin_lock_irqsave(&vs->lock);
	pte = demand_pte(vs, va);
	if (pte) {
		*pte = pa | (*pte & ~PTE_DEMAND) | PTE_P;
		pa = 0;
		rc = VMM_FAULT_MAPPED;
	} else {
		pte = walk(vs, va, false);
		rc = pte && (*pte & PTE_P) ? VMM_FAULT_RETRY : 0;       /* raced with a fault or unmap */
	}
	spin_unlock_irqrestore(&vs->lock, lflags);
	if (pa)
		pmm_free_frame(pa);
	return rc;
}

static unsigned int entry_flags(uint64_t e)
{
	return (e & PTE_W ? VM_WRITE : 0) | (e & PTE_U ? VM_USER : 0) |
	       (e & pte_nx ? 0 : VM_EXEC) | (e & PTE_PCD ? VM_NOCACHE : 0) |
	       (e & PTE_SHARED ? VM_SHARED : 0);
}

bool vmm_reserved(struct vm_space *vs, uint64_t va, unsigned int *flags)
{
	uint64_t lflags = spin_lock_irqsave(&vs->lock);
	uint64_t *pte = va < USER_SPACE_END ? demand_pte(vs, va & PAGE_MASK) : NULL;

	if (pte && flags)
		*flags = entry_flags(*pte);     /* the rights the page will get */
	spin_unlock_irqrestore(&vs->lock, lflags);
	return pte != NULL;
}

bool vmm_translate(struct vm_space *vs, uint64_t va, uint64_t *pa, unsigned int *flags)
{
	uint64_t lflags = spin_lock_irqsave(&vs->lock);
	uint64_t *table = phys_to_virt(vs->pml4), e = 0;
	bool found = false;

	for (int level = PT_LEVELS; level >= 1; level--) {
		e = table[pt_index(va, level)];
		if (!(e & PTE_P))
			break;
		if (level == 1 || (level <= 3 && (e & PTE_PS))) {
			uint64_t span = 1ull << (PAGE_SHIFT + 9 * (level - 1));
			if (pa)
				*pa = (e & PTE_ADDR & ~(span - 1)) | (va & (span - 1));
			if (flags)
				*flags = entry_flags(e) |
					 (level == 1 && (e & PTE_PAT_4K) ? VM_WC : 0);
			found = true;
			break;
		}
		table = table_virt(e);
	}
	spin_unlock_irqrestore(&vs->lock, lflags);
	return found;
}

void vmm_switch(struct vm_space *vs)
{
	if (!loaded_here(vs))
		write_cr3(vs->pml4);
}

void vmm_set_shootdown_hook(vmm_shootdown_fn fn)
{
	shootdown_hook = fn;
}

struct vm_space *vmm_create(void)
{
	struct vm_space *vs = kzalloc(sizeof(*vs));
	uint64_t *kernel_pml4 = phys_to_virt(kernel_space.pml4);

	if (!vs)
		return NULL;
	vs->lock = (spinlock_t)SPINLOCK_INIT("vm_space");
	vs->id = __atomic_fetch_add(&next_space_id, 1, __ATOMIC_RELAXED);
	/* Below 4 GiB, so that 32-bit code (the AP trampoline) can load it. */
	vs->pml4 = pmm_alloc_frames_low(0);
	if (vs->pml4)
		memset(phys_to_virt(vs->pml4), 0, PAGE_SIZE);
	if (!vs->pml4) {
		kfree(vs);
		return NULL;
	}
	/* Share the kernel half: its PML4 entries never change after boot. */
	memcpy((uint64_t *)phys_to_virt(vs->pml4) + KERNEL_HALF_SLOT,
	       kernel_pml4 + KERNEL_HALF_SLOT, KERNEL_HALF_SLOT * sizeof(uint64_t));
	return vs;
}

static void free_tables(uint64_t table_pa, int level)
{
	uint64_t *t = phys_to_virt(table_pa);

	if (level > 1)
		for (int i = 0; i < PT_ENTRIES; i++)
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
				free_tables(t[i] & PTE_ADDR, level - 1);
	pmm_free_frame(table_pa);
}

/* Free every frame mapped in the user half (the space must not be running anywhere). */
static void free_user_frames(uint64_t table_pa, int level)
{
	uint64_t *t = phys_to_virt(table_pa);

	for (int i = 0; i < PT_ENTRIES; i++) {
		if (!(t[i] & PTE_P))
			continue;
		if (level == 1) {
			if (!(t[i] & PTE_SHARED))
				pmm_free_frame(t[i] & PTE_ADDR);
		}
		else if (!(t[i] & PTE_PS))
			free_user_frames(t[i] & PTE_ADDR, level - 1);
	}
}

void vmm_destroy_with_frames(struct vm_space *vs)
{
	uint64_t *pml4 = phys_to_virt(vs->pml4);

	for (int i = 0; i < KERNEL_HALF_SLOT; i++)
		if (pml4[i] & PTE_P)
			free_user_frames(pml4[i] & PTE_ADDR, PT_LEVELS - 1);
	vmm_destroy(vs);
}

void vmm_destroy(struct vm_space *vs)
{
	uint64_t *pml4 = phys_to_virt(vs->pml4);

	if (vs == &kernel_space)
		panic("vmm_destroy: the kernel's address space");
	/*
	 * No task of vs runs any more, but CPUs may still have it in CR3
	 * lazily (idle, kernel tasks): make each load kernel_space before the
	 * PML4 and the struct go. Nobody loads vs again, so the mask only shrinks.
	 */
	evict_here(vs);
	for (uint64_t m; (m = __atomic_load_n(&vs->cpus, __ATOMIC_SEQ_CST) & ~(1ull << cpu_id()));)
		smp_call((uint32_t)__builtin_ctzll(m), evict_here, vs);
	for (int i = 0; i < KERNEL_HALF_SLOT; i++)
		if (pml4[i] & PTE_P)
			free_tables(pml4[i] & PTE_ADDR, PT_LEVELS - 1);
	pmm_free_frame(vs->pml4);
	kfree(vs);
}

/* ------------------------------------------------------------ boot-time set-up */

/*
 * Highest physical address to direct-map: at least 4 GiB (firmware tables,
 * device memory), and all RAM and ACPI memory above. Reserved ranges high
 * up (QEMU reports a 1 TiB HyperTransport hole at 0xFD00000000) are not RAM
 * and are left out.
 */
static uint64_t direct_map_end(const struct boot_info *bi)
{
	uint64_t end = PMM_LOW_LIMIT;

	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->type != BOOT_MEM_RESERVED && e->base + e->length > end)
			end = e->base + e->length;
	}
	return (end + SIZE_1G - 1) & ~(SIZE_1G - 1);
}

static uint64_t *ensure_table(uint64_t *e)
{
	if (!(*e & PTE_P)) {
		uint64_t pa = alloc_table();
		if (!pa)
			panic("vmm: out of memory building the kernel page tables");
		*e = pa | PTE_P | PTE_W;
	}
	return table_virt(*e);
}

/* Direct map with 1 GiB pages where the CPU has them, else 2 MiB pages. */
static void map_direct(uint64_t *pml4, uint64_t end)
{
	uint64_t bits = PTE_P | PTE_W | PTE_G | PTE_PS | pte_nx;

	for (uint64_t pa = 0; pa < end; pa += SIZE_1G) {
		uint64_t va = DIRECT_MAP_BASE + pa;
		uint64_t *pdpt = ensure_table(&pml4[pt_index(va, 4)]);
		if (boot_cpu_info.has_1g_pages) {
			pdpt[pt_index(va, 3)] = pa | bits;
			continue;
		}
		uint64_t *pd = ensure_table(&pdpt[pt_index(va, 3)]);
		for (int i = 0; i < PT_ENTRIES; i++)
			pd[i] = (pa + i * SIZE_2M) | bits;
	}
}

static bool is_static_guard(uint64_t va)
{
	for (int i = 0; i < STATIC_STACK_COUNT; i++)
		if (va >= static_stack_guard(i) && va < static_stack_guard(i) + STACK_GUARD_SIZE)
			return true;
	return false;
}

static void map_kernel_range(const char *start, const char *end, unsigned int flags)
{
	for (uint64_t va = (uint64_t)start; va < (uint64_t)end; va += PAGE_SIZE) {
		if (is_static_guard(va))
			continue;       /* stack guard pages stay unmapped */
		if (vmm_map(&kernel_space, va, virt_to_phys((const void *)va), 1, flags) < 0)
			panic("vmm: cannot map kernel page 0x%lx", va);
	}
}

static void cpu_paging_features(void)
{
	if (boot_cpu_info.has_nx) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
		pte_nx = PTE_NX;
	} else {
		kprintf("vmm: CPU has no NX bit; data will be executable\n");
	}
	/* WP: ring 0 honours read-only pages too; PGE: global kernel pages. */
	write_cr0(read_cr0() | CR0_WP);
	write_cr4(read_cr4() | CR4_PGE);
}

void vmm_init(const struct boot_info *bi)
{
	uint64_t *pml4;
	uint64_t end = direct_map_end(bi);

	cpu_paging_features();
	kernel_space.pml4 = alloc_table();
	if (!kernel_space.pml4)
		panic("vmm: no frame for the kernel PML4");
	pml4 = phys_to_virt(kernel_space.pml4);
	map_direct(pml4, end);
	map_kernel_range(__text_start, __text_end, VM_EXEC);
	map_kernel_range(__rodata_start, __rodata_end, 0);
	map_kernel_range(__data_start, __data_end, VM_WRITE);
	map_kernel_range(__data_end, __kernel_end, 0);          /* .ksyms */
	/* The kernel-half slots used from now on exist, so spaces can share them. */
	ensure_table(&pml4[PML4_SLOT(KSTACK_BASE)]);
	ensure_table(&pml4[PML4_SLOT(MMIO_BASE)]);
	kernel_half_frozen = true;
	/* The boot identity map and the low alias end here. */
	write_cr3(kernel_space.pml4);
	/* PCIDs: CR4.PCIDE needs long mode and CR3[11:0] = 0 (SDM 4.10.1), both true here. */
	pcid_on = boot_cpu_info.has_pcid;
	vmm_init_cpu();
	pmm_enable_high_zone();
	kprintf("vmm: direct map of %lu GiB with %s pages, kernel sections mapped, NX %s, "
		"PCID %s\n", end / SIZE_1G, boot_cpu_info.has_1g_pages ? "1 GiB" : "2 MiB",
		pte_nx ? "on" : "unavailable", pcid_on ? "on" : "off");
}

/* ------------------------------------------------------------ kernel stacks */

static void kstack_release(uint64_t top);

uint64_t kstack_alloc(void)
{
	uint64_t flags = spin_lock_irqsave(&kstack_lock);
	int slot = -1;

	if (kstack_cached) {
		uint64_t top = kstack_cache[--kstack_cached];
		spin_unlock_irqrestore(&kstack_lock, flags);
		return top;
	}
	for (int i = 0; i < KSTACK_SLOTS && slot < 0; i++)
		if (!(kstack_used[i / 64] & (1ull << (i % 64)))) {
			kstack_used[i / 64] |= 1ull << (i % 64);
			slot = i;
		}
	spin_unlock_irqrestore(&kstack_lock, flags);
	if (slot < 0)
		return 0;

	uint64_t base = KSTACK_BASE + (uint64_t)slot * KSTACK_STRIDE + PAGE_SIZE;
	for (int p = 0; p < KSTACK_PAGES; p++) {
		uint64_t pa = pmm_alloc_frame();
		if (!pa || vmm_map(&kernel_space, base + p * PAGE_SIZE, pa, 1, VM_WRITE) < 0) {
			if (pa)
				pmm_free_frame(pa);
			kstack_release(base + KSTACK_SIZE);     /* frees pages 0..p-1 and the slot */
			return 0;
		}
	}
	return base + KSTACK_SIZE;
}

/* Unmap a stack and give back its frames and slot. */
static void kstack_release(uint64_t top)
{
	uint64_t base = top - KSTACK_SIZE;
	uint64_t slot = (base - PAGE_SIZE - KSTACK_BASE) / KSTACK_STRIDE;
	uint64_t flags, frames[KSTACK_PAGES];
	uint64_t n = vmm_unmap_frames(&kernel_space, base, KSTACK_PAGES, frames);

	/* One shootdown for the whole stack, then its frames. */
	for (uint64_t i = 0; i < n; i++)
		pmm_free_frame(frames[i]);
	flags = spin_lock_irqsave(&kstack_lock);
	kstack_used[slot / 64] &= ~(1ull << (slot % 64));
	spin_unlock_irqrestore(&kstack_lock, flags);
}

void kstack_free(uint64_t top)
{
	uint64_t base = top - KSTACK_SIZE;
	uint64_t slot = (base - PAGE_SIZE - KSTACK_BASE) / KSTACK_STRIDE;
	uint64_t flags;
	bool cached = false;

	if (base < KSTACK_BASE || slot >= KSTACK_SLOTS ||
	    base != KSTACK_BASE + slot * KSTACK_STRIDE + PAGE_SIZE ||
	    !(kstack_used[slot / 64] & (1ull << (slot % 64))))
		panic("kstack_free(0x%lx): not a live kernel stack, from %pS", top,
		      __builtin_return_address(0));
	flags = spin_lock_irqsave(&kstack_lock);
	if (kstack_cached < KSTACK_CACHE) {
		kstack_cache[kstack_cached++] = top;
		cached = true;
	}
	spin_unlock_irqrestore(&kstack_lock, flags);
	if (!cached)
		kstack_release(top);
}

void kstack_drain_cache(void)
{
	for (;;) {
		uint64_t flags = spin_lock_irqsave(&kstack_lock), top = 0;
		if (kstack_cached)
			top = kstack_cache[--kstack_cached];
		spin_unlock_irqrestore(&kstack_lock, flags);
		if (!top)
			return;
		kstack_release(top);
	}
}

bool vmm_is_stack_guard(uint64_t va)
{
	if (is_static_guard(va))
		return true;
	if (va >= KSTACK_BASE && va < KSTACK_BASE + (uint64_t)KSTACK_SLOTS * KSTACK_STRIDE)
		return (va - KSTACK_BASE) % KSTACK_STRIDE < PAGE_SIZE;
	return false;
}

/* ------------------------------------------------------------ device memory */

static void *map_device(uint64_t pa, uint64_t size, unsigned int cache)
{
	uint64_t off = pa & ~PAGE_MASK, npages = (off + size + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t flags = spin_lock_irqsave(&mmio_lock), va = mmio_next;

	if (va + npages * PAGE_SIZE > MMIO_BASE + MMIO_SIZE) {
		spin_unlock_irqrestore(&mmio_lock, flags);
		return NULL;
	}
	mmio_next += (npages + 1) * PAGE_SIZE;          /* a hole between mappings */
	spin_unlock_irqrestore(&mmio_lock, flags);
	if (vmm_map(&kernel_space, va, pa & PAGE_MASK, npages, VM_WRITE | cache) < 0)
		return NULL;
	return (void *)(va + off);
}

void *vmm_map_mmio(uint64_t pa, uint64_t size)
{
	return map_device(pa, size, VM_NOCACHE);
}

void *vmm_map_wc(uint64_t pa, uint64_t size)
{
	return map_device(pa, size, VM_WC);
}
