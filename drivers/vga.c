/*
 * VGA text console (80x25, mode 3) at physical 0xB8000. Used only when the
 * boot path says the machine is in text mode (UEFI machines have none; a
 * graphics framebuffer is drivers/fbcon.c's) and console= allows it. The
 * text lives in a RAM grid (drivers/fbcon_draw.c, the same one fbcon uses:
 * its cells are VGA text cells); video memory is only written, a cell when
 * it changes and all of it after a scroll, never read.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <arch/mmu.h>
#include <boot/boot_info.h>
#include <kernel/console.h>
#include <kernel/fbcon.h>

#define VGA_TEXT_PHYS   0xB8000
#define VGA_COLS        80
#define VGA_ROWS        25
#define VGA_ATTR        FBCON_ATTR_NORMAL       /* light grey on black */
#define VGA_CRTC_INDEX  0x3D4
#define VGA_CRTC_DATA   0x3D5
#define   CRTC_CURSOR_HI 0x0E
#define   CRTC_CURSOR_LO 0x0F
#define BDA_VIDEO_MODE  0x449           /* BIOS data area: current video mode */
#define VIDEO_MODE_COLOR_TEXT 3
#define VIDEO_MODE_MONO_TEXT  7

static volatile uint16_t *vga_buf;
static struct fbcon_grid vga_grid;              /* guarded by the console lock */
static uint16_t vga_cells[VGA_COLS * VGA_ROWS];
static uint8_t vga_dirty[VGA_ROWS];             /* unused: every change is written at once */

static bool vga_text_mode(const struct boot_info *bi)
{
	enum console_screen want = console_screen(bi);

	if (want == CONSOLE_SCREEN_FB || want == CONSOLE_SCREEN_SERIAL)
		return false;
	if (bi->flags & BOOT_INFO_F_EFI)
		return false;
	if (bi->fb.addr)
		return bi->fb.type == BOOT_FB_TYPE_TEXT && bi->fb.addr == VGA_TEXT_PHYS;
	/* No framebuffer info (our loader): trust the BIOS data area. */
	uint8_t mode = *(volatile uint8_t *)phys_to_virt(BDA_VIDEO_MODE);
	return mode == VIDEO_MODE_COLOR_TEXT || mode == VIDEO_MODE_MONO_TEXT;
}

static void vga_sync_cursor(void)
{
	uint16_t pos = (uint16_t)(vga_grid.row * VGA_COLS + grid_cursor_col(&vga_grid));

	outb(VGA_CRTC_INDEX, CRTC_CURSOR_HI);
	outb(VGA_CRTC_DATA, pos >> 8);
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_LO);
	outb(VGA_CRTC_DATA, pos & 0xFF);
}

static void vga_write_all(void)
{
	for (uint32_t r = 0; r < VGA_ROWS; r++)
		for (uint32_t c = 0; c < VGA_COLS; c++)
			vga_buf[r * VGA_COLS + c] = grid_cell(&vga_grid, r, c);
}

void vga_init(const struct boot_info *bi)
{
	if (!vga_text_mode(bi))
		return;
	vga_buf = phys_to_virt(VGA_TEXT_PHYS);
	grid_init(&vga_grid, vga_cells, vga_dirty, VGA_COLS, VGA_ROWS, VGA_ATTR);
	vga_write_all();
	vga_sync_cursor();
}

void vga_putc(char c)
{
	uint32_t row, col;
	uint64_t scrolls;

	if (!vga_buf)
		return;
	row = vga_grid.row;
	col = vga_grid.col;
	scrolls = vga_grid.scrolls;
	grid_putc(&vga_grid, c);
	if (vga_grid.scrolls != scrolls) {
		vga_write_all();
	} else if (vga_grid.row != row || vga_grid.col != col) {
		/* At most one cell changed: the one the character went to. */
		uint32_t r = vga_grid.row, k = vga_grid.col ? vga_grid.col - 1 : 0;
		if (k < VGA_COLS)
			vga_buf[r * VGA_COLS + k] = grid_cell(&vga_grid, r, k);
	}
	if (c == '\n')
		vga_sync_cursor();
}
