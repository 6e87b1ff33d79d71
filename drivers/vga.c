/*
 * VGA text console (80x25, mode 3) at physical 0xB8000. Used only when the
 * boot path says the machine is in text mode: UEFI machines have none.
 * TODO: a framebuffer text console for UEFI (boot_info.fb has the GOP mode);
 * until then serial is the only console there.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <arch/mmu.h>
#include <boot/boot_info.h>
#include <kernel/console.h>

#define VGA_TEXT_PHYS   0xB8000
#define VGA_COLS        80
#define VGA_ROWS        25
#define VGA_ATTR        0x0700          /* light grey on black */
#define VGA_CRTC_INDEX  0x3D4
#define VGA_CRTC_DATA   0x3D5
#define   CRTC_CURSOR_HI 0x0E
#define   CRTC_CURSOR_LO 0x0F
#define BDA_VIDEO_MODE  0x449           /* BIOS data area: current video mode */
#define VIDEO_MODE_COLOR_TEXT 3
#define VIDEO_MODE_MONO_TEXT  7
#define TAB_WIDTH       8

static volatile uint16_t *vga_buf;
static unsigned int vga_row, vga_col;

static bool vga_text_mode(const struct boot_info *bi)
{
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
	uint16_t pos = (uint16_t)(vga_row * VGA_COLS + vga_col);

	outb(VGA_CRTC_INDEX, CRTC_CURSOR_HI);
	outb(VGA_CRTC_DATA, pos >> 8);
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_LO);
	outb(VGA_CRTC_DATA, pos & 0xFF);
}

void vga_init(const struct boot_info *bi)
{
	if (!vga_text_mode(bi))
		return;
	vga_buf = phys_to_virt(VGA_TEXT_PHYS);
	for (int i = 0; i < VGA_COLS * VGA_ROWS; i++)
		vga_buf[i] = VGA_ATTR | ' ';
	vga_row = vga_col = 0;
	vga_sync_cursor();
}

static void vga_scroll(void)
{
	for (int i = 0; i < VGA_COLS * (VGA_ROWS - 1); i++)
		vga_buf[i] = vga_buf[i + VGA_COLS];
	for (int i = 0; i < VGA_COLS; i++)
		vga_buf[(VGA_ROWS - 1) * VGA_COLS + i] = VGA_ATTR | ' ';
	vga_row = VGA_ROWS - 1;
}

void vga_putc(char c)
{
	if (!vga_buf)
		return;
	switch (c) {
	case '\n':
		vga_col = 0;
		vga_row++;
		break;
	case '\r':
		vga_col = 0;
		break;
	case '\t':
		vga_col = (vga_col + TAB_WIDTH) & ~(TAB_WIDTH - 1u);
		break;
	case '\b':
		if (vga_col)
			vga_col--;
		break;
	default:
		vga_buf[vga_row * VGA_COLS + vga_col] = VGA_ATTR | (uint8_t)c;
		vga_col++;
	}
	if (vga_col >= VGA_COLS) {
		vga_col = 0;
		vga_row++;
	}
	if (vga_row >= VGA_ROWS)
		vga_scroll();
	if (c == '\n')
		vga_sync_cursor();
}
