/*
 * Host tests of the framebuffer console's hardware-free parts
 * (drivers/fbcon_draw.c) and the loader's VBE mode choice
 * (boot/vbe_choose.c): pixel packing from masks at 32/24/16/15 bpp, format
 * checks, glyph drawing, the text grid and its scrolling, the redraw of
 * changed cells only, and choosing a mode from a VBE mode list.
 */
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "../../drivers/fbcon_draw.c"
#include "../../boot/vbe_choose.c"

#define GUARD 0xA5

static struct boot_framebuffer rgb_fb(uint8_t bpp, uint8_t rp, uint8_t rs, uint8_t gp,
				      uint8_t gs, uint8_t bp, uint8_t bs)
{
	return (struct boot_framebuffer){ .addr = 0xFD000000, .pitch = 1024 * 4, .width = 1024,
		.height = 768, .bpp = bpp, .type = BOOT_FB_TYPE_RGB, .red_pos = rp,
		.red_size = rs, .green_pos = gp, .green_size = gs, .blue_pos = bp,
		.blue_size = bs };
}

static const char *test_pack_32bpp(void)
{
	struct boot_framebuffer fb = rgb_fb(32, 16, 8, 8, 8, 0, 8);
	struct fb_pixfmt f;
	const char *why;

	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	UASSERT_EQ(f.bytes, 4);
	UASSERT_EQ(fb_pack(&f, 0xAA5500), 0x00AA5500);
	UASSERT_EQ(fb_pack(&f, 0xFFFFFF), 0x00FFFFFF);
	/* Blue-green-red order (some GOP modes): the same colour, other bits. */
	fb = rgb_fb(32, 0, 8, 8, 8, 16, 8);
	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	UASSERT_EQ(fb_pack(&f, 0xAA5500), 0x000055AA);
	/* 10 bits per component (30 bpp in 32): scaled, full scale stays full. */
	fb = rgb_fb(32, 20, 10, 10, 10, 0, 10);
	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	UASSERT_EQ(fb_pack(&f, 0xFF0000), 0x3FFu << 20);
	UASSERT_EQ(fb_pack(&f, 0x000080), (128 * 1023 + 127) / 255);
	return NULL;
}

static const char *test_pack_24_16_15bpp(void)
{
	struct boot_framebuffer fb = rgb_fb(24, 16, 8, 8, 8, 0, 8);
	struct fb_pixfmt f;
	const char *why;

	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	UASSERT_EQ(f.bytes, 3);
	UASSERT_EQ(fb_pack(&f, 0x123456), 0x123456);
	fb = rgb_fb(16, 11, 5, 5, 6, 0, 5);             /* RGB 565 */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	UASSERT_EQ(f.bytes, 2);
	UASSERT_EQ(fb_pack(&f, 0xFFFFFF), 0xFFFF);
	UASSERT_EQ(fb_pack(&f, 0xFF0000), 0xF800);
	UASSERT_EQ(fb_pack(&f, 0x00AA00), 42 << 5);      /* 0xAA * 63 / 255 = 42.0 */
	UASSERT_EQ(fb_pack(&f, 0x000055), 10);           /* 0x55 * 31 / 255 = 10.3 */
	fb = rgb_fb(15, 10, 5, 5, 5, 0, 5);             /* RGB 555 */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	UASSERT_EQ(f.bytes, 2);
	UASSERT_EQ(fb_pack(&f, 0xFFFFFF), 0x7FFF);
	return NULL;
}

static const char *test_format_rejects(void)
{
	struct boot_framebuffer fb;
	struct fb_pixfmt f;
	const char *why = NULL;

	fb = rgb_fb(8, 0, 0, 0, 0, 0, 0);
	fb.type = BOOT_FB_TYPE_INDEXED;
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	UASSERT(strstr(why, "indexed"));
	fb = rgb_fb(8, 5, 3, 2, 3, 0, 2);               /* 3:3:2 direct colour, 8 bpp */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	UASSERT(strstr(why, "bits per pixel"));
	fb = rgb_fb(32, 16, 8, 12, 8, 0, 8);            /* green overlaps red */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	UASSERT(strstr(why, "overlap"));
	fb = rgb_fb(16, 11, 8, 5, 6, 0, 5);             /* red past bit 15 */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	fb = rgb_fb(32, 16, 0, 8, 8, 0, 8);             /* no red at all */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	fb = rgb_fb(32, 16, 8, 8, 8, 0, 8);
	fb.pitch = 1023 * 4;
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	UASSERT(strstr(why, "pitch"));
	fb = rgb_fb(32, 16, 8, 8, 8, 0, 8);
	fb.height = 15;
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	fb = rgb_fb(32, 16, 8, 8, 8, 0, 8);
	fb.addr = 0xFFFFFFFFFFF00000ull;                /* wraps */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), -1);
	fb = rgb_fb(32, 16, 8, 8, 8, 0, 8);
	fb.addr = 0x800000000ull;                       /* above 4 GiB is fine */
	UASSERT_EQ(fb_format_check(&fb, &f, &why), 0);
	return NULL;
}

/* One glyph into a guarded buffer; every pixel checked, nothing outside touched. */
static const char *glyph_at(unsigned int bytes)
{
	enum { PITCH = 40, LINES = FBCON_FONT_H + 2 };
	static uint8_t buf[PITCH * LINES];
	uint8_t glyph[FBCON_FONT_H];
	uint32_t fg = bytes == 2 ? 0xF81F : 0xC0FFEE, bg = bytes == 2 ? 0x07E0 : 0x123456;

	for (int y = 0; y < FBCON_FONT_H; y++)
		glyph[y] = (uint8_t)(0x81 ^ (y * 37));
	memset(buf, GUARD, sizeof buf);
	fb_draw_glyph(buf + PITCH + 1, PITCH, bytes, glyph, fg, bg, 0);
	for (int y = 0; y < LINES; y++)
		for (int x = 0; x < PITCH; x++) {
			int px = x - 1, py = y - 1;
			bool inside = py >= 0 && py < FBCON_FONT_H && px >= 0 &&
				      px < (int)(FBCON_FONT_W * bytes);
			if (!inside) {
				if (buf[y * PITCH + x] != GUARD)
					UFAIL("%u bpp: byte (%d,%d) outside the cell written", bytes * 8, x, y);
				continue;
			}
			uint32_t v = (glyph[py] & (0x80 >> (px / bytes))) ? fg : bg;
			uint8_t want = (uint8_t)(v >> (8 * (px % bytes)));
			if (buf[y * PITCH + x] != want)
				UFAIL("%u bytes/pixel: row %d pixel %d byte %d is 0x%02x, expected 0x%02x",
				      bytes, py, px / bytes, px % bytes, buf[y * PITCH + x], want);
		}
	return NULL;
}

static const char *test_glyph_32_24_16(void)
{
	const char *why;

	if ((why = glyph_at(4)) || (why = glyph_at(3)) || (why = glyph_at(2)))
		return why;
	return NULL;
}

static const char *test_glyph_underline(void)
{
	uint32_t buf[FBCON_FONT_H][FBCON_FONT_W];
	uint8_t glyph[FBCON_FONT_H] = { 0 };

	fb_draw_glyph((uint8_t *)buf, sizeof buf[0], 4, glyph, 1, 2, FBCON_CURSOR_ROWS);
	for (int y = 0; y < FBCON_FONT_H; y++)
		for (int x = 0; x < FBCON_FONT_W; x++)
			UASSERT_EQ(buf[y][x], y >= FBCON_FONT_H - FBCON_CURSOR_ROWS ? 1u : 2u);
	return NULL;
}

/* The grid as text: row r, trailing blanks kept. */
static void grid_row_text(const struct fbcon_grid *g, uint32_t r, char *out)
{
	for (uint32_t c = 0; c < g->cols; c++)
		out[c] = (char)(grid_cell(g, r, c) & 0xFF);
	out[g->cols] = '\0';
}

static void grid_puts(struct fbcon_grid *g, const char *s)
{
	while (*s)
		grid_putc(g, *s++);
}

static const char *test_grid_text_and_wrap(void)
{
	uint16_t cells[4 * 3];
	uint8_t dirty[3];
	struct fbcon_grid g;
	char row[8];

	grid_init(&g, cells, dirty, 4, 3, FBCON_ATTR_NORMAL);
	grid_puts(&g, "abcd");
	UASSERT_EQ(g.row, 0);
	UASSERT_EQ(g.col, 4);                   /* pending wrap */
	UASSERT_EQ(grid_cursor_col(&g), 3);
	grid_putc(&g, '\n');                    /* no empty line after a full one */
	UASSERT_EQ(g.row, 1);
	grid_puts(&g, "xy\rZ\tq");
	grid_row_text(&g, 1, row);
	UASSERT_STR(row, "Zy  ");
	UASSERT_EQ(g.row, 2);                   /* tab to column 8 > 4: pending, then wrap */
	grid_row_text(&g, 2, row);
	UASSERT_STR(row, "q   ");
	grid_puts(&g, "\b\bw");
	grid_row_text(&g, 2, row);
	UASSERT_STR(row, "w   ");
	UASSERT_EQ(grid_cell(&g, 0, 0), FBCON_CELL('a', FBCON_ATTR_NORMAL));
	return NULL;
}

static const char *test_grid_scroll(void)
{
	uint16_t cells[5 * 3];
	uint8_t dirty[3];
	struct fbcon_grid g;
	char row[8];

	grid_init(&g, cells, dirty, 5, 3, FBCON_ATTR_NORMAL);
	grid_puts(&g, "one\ntwo\nthree");
	UASSERT_EQ(g.scrolls, 0);
	memset(dirty, 0, sizeof dirty);
	grid_puts(&g, "\nfour");
	UASSERT_EQ(g.scrolls, 1);
	UASSERT_EQ(g.top, 1);
	for (int r = 0; r < 3; r++)
		UASSERT_EQ(dirty[r], 1);
	grid_row_text(&g, 0, row);
	UASSERT_STR(row, "two  ");
	grid_row_text(&g, 1, row);
	UASSERT_STR(row, "three");
	grid_row_text(&g, 2, row);
	UASSERT_STR(row, "four ");
	/* Many scrolls: the ring keeps the last three lines. */
	g.attr = FBCON_ATTR_PANIC;
	for (int i = 0; i < 10; i++) {
		char line[4] = { '\n', (char)('0' + i), 0 };
		grid_puts(&g, line);
	}
	UASSERT_EQ(g.scrolls, 11);
	grid_row_text(&g, 0, row);
	UASSERT_STR(row, "7    ");
	grid_row_text(&g, 1, row);
	UASSERT_STR(row, "8    ");
	grid_row_text(&g, 2, row);
	UASSERT_STR(row, "9    ");
	UASSERT_EQ(grid_cell(&g, 2, 0), FBCON_CELL('9', FBCON_ATTR_PANIC));
	UASSERT_EQ(grid_cell(&g, 2, 1), FBCON_CELL(' ', FBCON_ATTR_PANIC));
	return NULL;
}

static const char *test_grid_jump_scroll(void)
{
	uint16_t cells[3 * 8];
	uint8_t dirty[8];
	struct fbcon_grid g;
	char row[4];

	grid_init(&g, cells, dirty, 3, 8, FBCON_ATTR_NORMAL);
	g.jump = 8 / FBCON_JUMP_DIVISOR;
	for (char c = 'a'; c <= 'h'; c++) {
		char line[3] = { c, c == 'h' ? 0 : '\n', 0 };
		grid_puts(&g, line);
	}
	UASSERT_EQ(g.scrolls, 0);
	UASSERT_EQ(g.row, 7);
	grid_puts(&g, "\ni");           /* two rows at once: c..h, then i, one blank */
	UASSERT_EQ(g.scrolls, 2);
	UASSERT_EQ(g.row, 6);
	grid_row_text(&g, 0, row);
	UASSERT_STR(row, "c  ");
	grid_row_text(&g, 5, row);
	UASSERT_STR(row, "h  ");
	grid_row_text(&g, 6, row);
	UASSERT_STR(row, "i  ");
	grid_row_text(&g, 7, row);
	UASSERT_STR(row, "   ");
	grid_puts(&g, "\nj\nk");         /* j fills the last row, k jumps again */
	UASSERT_EQ(g.scrolls, 4);
	grid_row_text(&g, 0, row);
	UASSERT_STR(row, "e  ");
	grid_row_text(&g, 6, row);
	UASSERT_STR(row, "k  ");
	return NULL;
}

#define SC_COLS 6
#define SC_ROWS 3
#define SC_W    (SC_COLS * FBCON_FONT_W)
#define SC_H    (SC_ROWS * FBCON_FONT_H)

static uint8_t test_font[FBCON_FONT_GLYPHS][FBCON_FONT_H];

/* Draw every dirty row of g on s, as drivers/fbcon.c's flush() does. */
static uint32_t flush(struct fbcon_grid *g, struct fbcon_screen *s)
{
	uint16_t row[SC_COLS];
	uint32_t n = 0;

	for (uint32_t r = 0; r < g->rows; r++) {
		if (!g->dirty[r])
			continue;
		g->dirty[r] = 0;
		for (uint32_t c = 0; c < g->cols; c++)
			row[c] = grid_cell(g, r, c);
		n += screen_update_row(s, r, row, g->row == r ? grid_cursor_col(g) : FBCON_MAX_COLS);
	}
	return n;
}

static const char *test_redraw_changed_cells_only(void)
{
	static uint32_t fb[SC_H][SC_W], fresh[SC_H][SC_W];
	uint32_t drawn[SC_COLS * SC_ROWS], drawn2[SC_COLS * SC_ROWS];
	uint16_t cells[SC_COLS * SC_ROWS], cells2[SC_COLS * SC_ROWS];
	uint8_t dirty[SC_ROWS], dirty2[SC_ROWS];
	struct boot_framebuffer bfb = rgb_fb(32, 16, 8, 8, 8, 0, 8);
	struct fbcon_grid g, g2;
	struct fbcon_screen s, s2;
	struct fb_pixfmt f;
	const char *why;
	const char *text = "hello\nworld\nabc";

	for (int i = 0; i < FBCON_FONT_GLYPHS; i++)
		for (int y = 0; y < FBCON_FONT_H; y++)
			test_font[i][y] = (uint8_t)(i * 7 + y * 13);
	UASSERT_EQ(fb_format_check(&bfb, &f, &why), 0);
	grid_init(&g, cells, dirty, SC_COLS, SC_ROWS, FBCON_ATTR_NORMAL);
	screen_init(&s, (uint8_t *)fb, sizeof fb[0], &f, drawn, SC_COLS, SC_ROWS,
		    (const uint8_t (*)[FBCON_FONT_H])test_font);
	UASSERT_EQ(s.palette[4], 0xAA0000);
	UASSERT_EQ(flush(&g, &s), SC_COLS * SC_ROWS);   /* unknown pixels: everything */
	UASSERT_EQ(flush(&g, &s), 0);
	grid_puts(&g, text);
	/* 'hello' (5) and the cursor's old and new cells where they changed. */
	UASSERT(flush(&g, &s) <= 5 + 5 + 3 + 2);
	UASSERT_EQ(flush(&g, &s), 0);
	grid_putc(&g, 'd');
	UASSERT_EQ(flush(&g, &s), 2);                   /* the 'd', the cursor after it */
	grid_puts(&g, "\nscroll");                      /* scrolls: every row dirty */
	UASSERT_EQ(g.scrolls, 1);
	flush(&g, &s);
	/* Incremental drawing ends where drawing the final grid from scratch does. */
	grid_init(&g2, cells2, dirty2, SC_COLS, SC_ROWS, FBCON_ATTR_NORMAL);
	screen_init(&s2, (uint8_t *)fresh, sizeof fresh[0], &f, drawn2, SC_COLS, SC_ROWS,
		    (const uint8_t (*)[FBCON_FONT_H])test_font);
	grid_puts(&g2, text);
	grid_puts(&g2, "d\nscroll");
	flush(&g2, &s2);
	UASSERT(memcmp(fb, fresh, sizeof fb) == 0);
	/* And the pixels are the font's: row 0 is "world", cell 0 is 'w'. */
	for (int y = 0; y < FBCON_FONT_H; y++)
		for (int x = 0; x < FBCON_FONT_W; x++)
			UASSERT_EQ(fb[y][x], test_font['w'][y] & (0x80 >> x) ? 0xAAAAAAu : 0u);
	return NULL;
}

/* A ModeInfoBlock as SeaBIOS's VGA BIOS returns it for a direct-colour LFB mode. */
static struct vbe_mode_info mode(uint16_t w, uint16_t h, uint8_t bpp)
{
	struct vbe_mode_info mi = { .attributes = VBE_ATTR_NEEDED, .memory_model = VBE_MODEL_DIRECT,
		.width = w, .height = h, .bpp = bpp, .phys_base = 0xFD000000,
		.pitch = (uint16_t)(w * ((bpp + 7) / 8)) };

	mi.lin_pitch = mi.pitch;
	if (bpp == 16) {
		mi.red_pos = 11, mi.red_size = 5, mi.green_pos = 5, mi.green_size = 6;
		mi.blue_size = 5;
	} else if (bpp == 15) {
		mi.red_pos = 10, mi.red_size = 5, mi.green_pos = 5, mi.green_size = 5;
		mi.blue_size = 5;
	} else {
		mi.red_pos = 16, mi.red_size = 8, mi.green_pos = 8, mi.green_size = 8;
		mi.blue_size = 8;
	}
	mi.lin_red_pos = mi.red_pos, mi.lin_red_size = mi.red_size;
	mi.lin_green_pos = mi.green_pos, mi.lin_green_size = mi.green_size;
	mi.lin_blue_pos = mi.blue_pos, mi.lin_blue_size = mi.blue_size;
	return mi;
}

#define VRAM_16M (16ull << 20)

static int choose_from(const struct vbe_mode_info *infos, int n, struct vbe_mode *out)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (vbe_mode_usable(&infos[i], VBE_VERSION_3, VRAM_16M, &out[k].fb))
			out[k++].number = (uint16_t)(0x100 + i);
	return k;
}

static const char *test_vbe_choice(void)
{
	struct vbe_mode_info list[10];
	struct vbe_mode usable[10];
	int n, best;

	list[0] = mode(640, 480, 32);           /* below 800x600 */
	list[1] = mode(800, 600, 16);
	list[2] = mode(1024, 768, 24);
	list[3] = mode(1024, 768, 32);
	list[4] = mode(1280, 1024, 16);
	list[5] = mode(1280, 1024, 32);
	list[5].attributes &= (uint16_t)~VBE_ATTR_LINEAR;      /* banked only */
	list[6] = mode(1600, 1200, 8);
	list[6].memory_model = 4;               /* packed pixel, palette */
	list[7] = mode(3840, 2160, 32);         /* larger than the console draws */
	list[8] = mode(2560, 1600, 32);
	list[8].lin_pitch = 0;                  /* VBE 3.0 BIOS without it: banked pitch */
	list[9] = mode(1920, 1200, 32);
	n = choose_from(list, 10, usable);
	UASSERT_EQ(n, 6);                       /* 1, 2, 3, 4, 8, 9 */
	best = vbe_choose(usable, n);
	UASSERT_EQ(usable[best].number, 0x108);
	UASSERT_EQ(usable[best].fb.pitch, 2560 * 4);
	UASSERT_EQ(usable[best].fb.type, BOOT_FB_TYPE_RGB);
	UASSERT_EQ(usable[best].fb.red_pos, 16);
	/* Same size: 32 bpp over 24 and 16. */
	n = choose_from(list, 4, usable);
	best = vbe_choose(usable, n);
	UASSERT_EQ(usable[best].number, 0x103);
	UASSERT_EQ(usable[best].fb.bpp, 32);
	/* Larger wins over deeper: 1280x1024x16 over 1024x768x32. */
	n = choose_from(list, 5, usable);
	UASSERT_EQ(usable[vbe_choose(usable, n)].number, 0x104);
	/* Nothing at 800x600 or more: text mode. */
	n = choose_from(list, 1, usable);
	UASSERT_EQ(n, 0);
	UASSERT_EQ(vbe_choose(usable, n), VBE_NONE);
	return NULL;
}

static const char *test_vbe_mode_checks(void)
{
	struct boot_framebuffer fb;
	struct vbe_mode_info mi = mode(1024, 768, 32);

	UASSERT(vbe_mode_usable(&mi, VBE_VERSION_3, VRAM_16M, &fb));
	UASSERT(!vbe_mode_usable(&mi, VBE_VERSION_3, 2ull << 20, &fb));   /* VRAM too small */
	/* VBE 2.0: the banked masks and pitch, not the VBE 3.0 fields. */
	mi.lin_red_pos = 0, mi.lin_blue_pos = 16;
	mi.lin_pitch = 8192;
	UASSERT(vbe_mode_usable(&mi, 0x0200, VRAM_16M, &fb));
	UASSERT_EQ(fb.red_pos, 16);
	UASSERT_EQ(fb.pitch, 4096);
	UASSERT(vbe_mode_usable(&mi, VBE_VERSION_3, VRAM_16M, &fb));
	UASSERT_EQ(fb.red_pos, 0);
	UASSERT_EQ(fb.pitch, 8192);
	mi.phys_base = 0;
	UASSERT(!vbe_mode_usable(&mi, VBE_VERSION_3, VRAM_16M, &fb));
	mi = mode(1024, 768, 32);
	mi.lin_green_size = 0;
	UASSERT(!vbe_mode_usable(&mi, VBE_VERSION_3, VRAM_16M, &fb));
	mi = mode(1024, 768, 32);
	mi.lin_pitch = 1000;                    /* shorter than a line */
	UASSERT(!vbe_mode_usable(&mi, VBE_VERSION_3, VRAM_16M, &fb));
	return NULL;
}

UNIT_MAIN("fbcon",
	  UTEST(test_pack_32bpp),
	  UTEST(test_pack_24_16_15bpp),
	  UTEST(test_format_rejects),
	  UTEST(test_glyph_32_24_16),
	  UTEST(test_glyph_underline),
	  UTEST(test_grid_text_and_wrap),
	  UTEST(test_grid_scroll),
	  UTEST(test_grid_jump_scroll),
	  UTEST(test_redraw_changed_cells_only),
	  UTEST(test_vbe_choice),
	  UTEST(test_vbe_mode_checks))
