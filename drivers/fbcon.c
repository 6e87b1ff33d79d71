/*
 * Framebuffer text console (docs/console.md): the boot framebuffer (GRUB's
 * multiboot2 tag, GOP on UEFI, or the VBE mode our loader set) as a grid
 * of 8x16 cells, behind kprintf and user writes to fd 1/2.
 *
 * Writers (console_out(), under the console lock) only change the RAM
 * grid (drivers/fbcon_draw.c); pixels are drawn from it, only for cells
 * that changed:
 *  - early (before the scheduler runs threads) at every newline, in the
 *    writer, under the console lock;
 *  - then by the `fbcon` thread, on the boot CPU, woken by its timer tick
 *    when there is output, at most every FBCON_FLUSH_MS, FBCON_SLICE_NS per look,
 *    one row at a time: the console lock is held only to copy a row, never
 *    while drawing;
 *  - after a panic at every character, in the writer, so the report is on
 *    the screen before the CPU stops, white on red.
 * The framebuffer is mapped write-combining (PAT) once the VMM is up; until
 * then a framebuffer below 4 GiB is drawn through the boot identity map,
 * one above it not at all (the grid keeps the text).
 */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <boot/boot_info.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/fbcon.h>
#include <kernel/kernel.h>
#include <kernel/klog.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define FBCON_FLUSH_MS          20      /* the screen lags output by at least this */
/*
 * With nothing to draw the thread sleeps until the boot CPU's timer tick
 * sees output (fbcon_tick()): an idle machine is not woken for the screen.
 * A kick lost to a race costs at most this long.
 */
#define FBCON_WAIT_MS           1000
/*
 * After a flush that took T, the thread sleeps at least FBCON_IDLE_RATIO * T:
 * drawing takes at most 1 / (1 + ratio) of one CPU however much is printed
 * (a full 2560x1600 redraw is ~40 ms under TCG, a few ms on hardware).
 */
#define FBCON_IDLE_RATIO        4
/*
 * One flush of the thread draws for at most this long, then sleeps and goes
 * on where it stopped: while it draws it is runnable, and a thread that
 * yields on its CPU would hand it the rest of a time slice.
 */
/*
 * The thread stays on the boot CPU: it never lands on (and preempts, or
 * takes the yields of) whichever CPU a measured or pinned task runs on.
 */
#define FBCON_CPU_MASK          (1ull << 0)
#define FBCON_SLICE_NS          (2 * NS_PER_MS)
#define ADDR_LIMIT_BOOT_MAP     0x100000000ull  /* the boot page tables map [0, 4 GiB) */
#define CONSOLE_WORD_LEN        16

enum fbcon_mode {
	FBCON_OFF,
	FBCON_SYNC,     /* the writer draws (early boot, panic) */
	FBCON_ASYNC,    /* the fbcon thread draws */
};

static enum fbcon_mode mode;            /* written under the console lock */
static bool in_panic;
static struct boot_framebuffer fbinfo;
static struct fb_pixfmt fmt;
/* Guarded by the console lock: */
static struct fbcon_grid grid;
static uint16_t cells[FBCON_MAX_COLS * FBCON_MAX_ROWS];
static uint8_t dirty[FBCON_MAX_ROWS];
/* Guarded by draw_lock (SYNC mode: by the console lock, there is no thread): */
static struct fbcon_screen screen;
static uint32_t drawn[FBCON_MAX_COLS * FBCON_MAX_ROWS];
static bool mapped;                     /* screen.fb can be written */
static volatile uint32_t draw_lock;     /* raw: taken with the console lock never held */
static volatile bool pending;           /* the grid changed since the last flush */
static bool redraw_all;                 /* panic: pixels may be stale, trust nothing */
static struct task *fbcon_task;         /* the drawing thread, once started */
static volatile bool waiting;           /* it sleeps until fbcon_tick() kicks it */

/* The console= word (docs/console.md): which screen, if any, the kernel draws on. */
enum console_screen console_screen(const struct boot_info *bi)
{
	char word[CONSOLE_WORD_LEN];

	if (cmdline_get(bi->cmdline, "console", word, sizeof word) == CMDLINE_ABSENT)
		return CONSOLE_SCREEN_AUTO;
	if (strcmp(word, "auto") == 0)
		return CONSOLE_SCREEN_AUTO;
	if (strcmp(word, "fb") == 0)
		return CONSOLE_SCREEN_FB;
	if (strcmp(word, "text") == 0)
		return CONSOLE_SCREEN_TEXT;
	if (strcmp(word, "serial") == 0)
		return CONSOLE_SCREEN_SERIAL;
	return CONSOLE_SCREEN_BAD;
}

bool fbcon_active(void)
{
	return mode != FBCON_OFF;
}

/*
 * Draw the dirty rows. have_console_lock: SYNC mode, we are the writer, and
 * every dirty row is drawn. Otherwise (the thread) drawing stops once
 * FBCON_SLICE_NS have passed; returns false when rows were left dirty, and
 * the next call starts with the first row not looked at.
 */
static bool flush(bool have_console_lock)
{
	static uint16_t row[FBCON_MAX_COLS];
	static uint32_t next_row;
	uint64_t deadline = have_console_lock ? 0 : time_ns() + FBCON_SLICE_NS;

	if (!mapped)
		return true;
	if (redraw_all) {
		for (uint32_t i = 0; i < grid.cols * grid.rows; i++)
			drawn[i] = FBCON_DRAWN_UNKNOWN;
		redraw_all = false;
	}
	for (uint32_t i = 0; i < grid.rows; i++) {
		uint32_t r = (next_row + i) % grid.rows;
		uint64_t flags = 0;
		uint32_t cursor = FBCON_MAX_COLS;

		if (!__atomic_load_n(&dirty[r], __ATOMIC_RELAXED))
			continue;
		if (deadline && time_ns() > deadline) {
			next_row = r;
			return false;
		}
		if (!have_console_lock)
			flags = console_lock_irqsave();
		dirty[r] = 0;
		for (uint32_t c = 0; c < grid.cols; c++)
			row[c] = grid_cell(&grid, r, c);
		if (grid.row == r)
			cursor = grid_cursor_col(&grid);
		if (!have_console_lock)
			console_unlock_irqrestore(flags);
		screen_update_row(&screen, r, row, cursor);
	}
	next_row = 0;
	return true;
}

static void clear_screen(void)
{
	fb_fill(screen.fb, fbinfo.pitch, fmt.bytes, fbinfo.width, fbinfo.height,
		screen.palette[FBCON_ATTR_NORMAL >> 4]);
	for (uint32_t i = 0; i < grid.cols * grid.rows; i++)
		drawn[i] = FBCON_CELL(' ', FBCON_ATTR_NORMAL);
}

void fbcon_init(const struct boot_info *bi)
{
	enum console_screen want = console_screen(bi);
	const char *why;
	uint32_t cols, rows;

	if (want == CONSOLE_SCREEN_BAD)
		kprintf("console: unknown console= value in '%s'; using console=auto\n", bi->cmdline);
	fbinfo = bi->fb;
	if (!fbinfo.addr || fbinfo.type == BOOT_FB_TYPE_TEXT)
		return;         /* no framebuffer, or VGA text (drivers/vga.c) */
	if (want == CONSOLE_SCREEN_TEXT || want == CONSOLE_SCREEN_SERIAL) {
		kprintf("fbcon: console=%s: framebuffer not used\n",
			want == CONSOLE_SCREEN_TEXT ? "text" : "serial");
		return;
	}
	if (fb_format_check(&fbinfo, &fmt, &why) < 0) {
		kprintf("fbcon: %ux%u %u bpp framebuffer (type %u) at 0x%lx not drawn: %s\n",
			fbinfo.width, fbinfo.height, fbinfo.bpp, fbinfo.type, fbinfo.addr, why);
		return;
	}
	cols = fbinfo.width / FBCON_FONT_W;
	rows = fbinfo.height / FBCON_FONT_H;
	if (cols > FBCON_MAX_COLS)
		cols = FBCON_MAX_COLS;
	if (rows > FBCON_MAX_ROWS)
		rows = FBCON_MAX_ROWS;
	grid_init(&grid, cells, dirty, cols, rows, FBCON_ATTR_NORMAL);
	grid.jump = rows / FBCON_JUMP_DIVISOR ? rows / FBCON_JUMP_DIVISOR : 1;
	/*
	 * Above 4 GiB the boot page tables do not reach the framebuffer: the
	 * grid keeps the text until fbcon_map(). fbcon_late_map (fault
	 * injection, tests/boot/test_screen.py) takes that path for any address.
	 */
	mapped = fbinfo.addr + (uint64_t)fbinfo.pitch * fbinfo.height <= ADDR_LIMIT_BOOT_MAP &&
		 !cmdline_has(bi->cmdline, "fbcon_late_map");
	screen_init(&screen, mapped ? phys_to_virt(fbinfo.addr) : NULL, fbinfo.pitch, &fmt, drawn,
		    cols, rows, fbcon_font);
	if (mapped)
		clear_screen();
	mode = FBCON_SYNC;
	kprintf("fbcon: %ux%u, %u bpp (red %u@%u, green %u@%u, blue %u@%u) at 0x%lx, "
		"%ux%u characters\n", fbinfo.width, fbinfo.height, fbinfo.bpp, fmt.size[0],
		fmt.pos[0], fmt.size[1], fmt.pos[1], fmt.size[2], fmt.pos[2], fbinfo.addr, cols, rows);
}

void fbcon_map(void)
{
	uint64_t size = (uint64_t)fbinfo.pitch * fbinfo.height, flags;
	uint8_t *va;

	if (mode == FBCON_OFF)
		return;
	va = vmm_map_wc(fbinfo.addr, size);
	if (!va) {
		kprintf("fbcon: cannot map the framebuffer (%lu KiB at 0x%lx)%s\n", size / 1024,
			fbinfo.addr, mapped ? "; drawing uncached" : "; screen not used");
		if (!mapped)
			mode = FBCON_OFF;
		return;
	}
	flags = console_lock_irqsave();
	screen.fb = va;
	if (!mapped) {
		mapped = true;
		clear_screen();
		grid_mark_all(&grid);
		flush(true);
	}
	console_unlock_irqrestore(flags);
	kprintf("fbcon: framebuffer mapped %s at %p\n",
		boot_cpu_info.has_pat ? "write-combining" : "uncached (no PAT)", va);
}

static void fbcon_thread(void *arg)
{
	uint64_t pause_ns = FBCON_FLUSH_MS * NS_PER_MS;

	(void)arg;
	for (;;) {
		uint64_t start;

		sleep_ns(pause_ns);     /* batch output, and the duty-cycle limit */
		pause_ns = FBCON_FLUSH_MS * NS_PER_MS;
		while (!__atomic_load_n(&pending, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&waiting, true, __ATOMIC_SEQ_CST);
			if (!__atomic_load_n(&pending, __ATOMIC_SEQ_CST))
				sleep_ms(FBCON_WAIT_MS);
			__atomic_store_n(&waiting, false, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&pending, false, __ATOMIC_RELEASE);
		start = time_ns();
		raw_spin_lock(&draw_lock);
		if (!flush(false))
			pending = true;         /* rows left: go on after the pause */
		raw_spin_unlock(&draw_lock);
		if ((time_ns() - start) * FBCON_IDLE_RATIO > pause_ns)
			pause_ns = (time_ns() - start) * FBCON_IDLE_RATIO;
	}
}

/*
 * The boot CPU's timer tick (sched_tick(), interrupts off): end the
 * thread's wait when there is something to draw. Repeated every tick until
 * the thread is up, so a kick that comes before it sleeps is not lost.
 */
void fbcon_tick(void)
{
	struct task *t = __atomic_load_n(&fbcon_task, __ATOMIC_ACQUIRE);

	if (t && __atomic_load_n(&waiting, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&pending, __ATOMIC_ACQUIRE))
		sleep_cancel(t);
}

void fbcon_start(void)
{
	struct task *t;
	uint64_t flags;

	if (mode != FBCON_SYNC)
		return;
	flags = console_lock_irqsave();
	mode = FBCON_ASYNC;
	console_unlock_irqrestore(flags);
	t = kthread_create_on(fbcon_thread, NULL, "fbcon", FBCON_CPU_MASK);
	__atomic_store_n(&fbcon_task, t, __ATOMIC_RELEASE);
	if (!t) {
		flags = console_lock_irqsave();
		mode = FBCON_SYNC;
		console_unlock_irqrestore(flags);
		kprintf("fbcon: no thread; drawing at every newline\n");
	}
}

/* Called from console_out() with the console lock held. */
void fbcon_putc(char c)
{
	if (mode == FBCON_OFF)
		return;
	grid_putc(&grid, c);
	if (mode == FBCON_ASYNC) {
		pending = true;
		return;
	}
	if (c == '\n' || in_panic)
		flush(true);
}

/*
 * The panic CPU, console lock forced free: from now on every character is
 * drawn by its writer, white on red. A CPU stopped in the middle of a flush
 * may hold draw_lock and have left cells half drawn: redraw them all.
 */
void fbcon_panic(void)
{
	if (mode == FBCON_OFF)
		return;
	in_panic = true;
	mode = FBCON_SYNC;
	redraw_all = true;
	grid.attr = FBCON_ATTR_PANIC;
}
