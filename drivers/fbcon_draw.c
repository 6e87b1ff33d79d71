/*
 * The framebuffer console's hardware-free parts (include/kernel/fbcon.h):
 * pixel formats from the boot framebuffer's masks, glyph drawing, the text
 * grid (the RAM shadow) and the redraw of the cells that changed. Built into
 * the kernel and included by tests/unit/test_fbcon.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <kernel/fbcon.h>

#define RGB_COMPONENTS          3
#define COMPONENT_MAX           0xFFu   /* 0xRRGGBB: 8 bits each */
#define COMPONENT_SIZE_MAX      16      /* wider components are not drawn */
#define BPP_MAX                 32
#define GLYPH_LEFT_BIT          0x80u   /* a glyph row's bit 7 is its leftmost pixel */
#define GLYPH_ROW_ALL           0xFFu   /* every pixel of a row set (cursor) */
#define CELL_CHAR_MASK          0xFFu

/* CGA/VGA text colours, attribute order (IBM VGA technical reference palette). */
const uint32_t fbcon_cga_rgb[FBCON_COLOURS] = {
	0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
	0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
};

int fb_format_check(const struct boot_framebuffer *fb, struct fb_pixfmt *fmt, const char **why)
{
	const uint8_t pos[RGB_COMPONENTS] = { fb->red_pos, fb->green_pos, fb->blue_pos };
	const uint8_t size[RGB_COMPONENTS] = { fb->red_size, fb->green_size, fb->blue_size };
	uint64_t used = 0;

	if (fb->type == BOOT_FB_TYPE_INDEXED) {
		*why = "indexed (palette) colour is not supported";
		return -1;
	}
	if (fb->type != BOOT_FB_TYPE_RGB) {
		*why = "not a direct-colour framebuffer";
		return -1;
	}
	if (fb->bpp != 15 && fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) {
		*why = "bits per pixel not 15, 16, 24 or 32";
		return -1;
	}
	if (fb->addr == 0) {
		*why = "address 0";
		return -1;
	}
	if (fb->width < FBCON_FONT_W || fb->height < FBCON_FONT_H) {
		*why = "smaller than one character";
		return -1;
	}
	fmt->bytes = (uint8_t)((fb->bpp + 7) / 8);
	if (fb->pitch < (uint64_t)fb->width * fmt->bytes) {
		*why = "pitch shorter than a line of pixels";
		return -1;
	}
	if (fb->addr + (uint64_t)fb->pitch * fb->height < fb->addr) {
		*why = "framebuffer wraps the address space";
		return -1;
	}
	for (int i = 0; i < RGB_COMPONENTS; i++) {
		uint64_t mask;

		if (size[i] == 0 || size[i] > COMPONENT_SIZE_MAX || pos[i] + size[i] > fb->bpp ||
		    pos[i] + size[i] > BPP_MAX) {
			*why = "colour masks outside the pixel or of unsupported width";
			return -1;
		}
		mask = ((1ull << size[i]) - 1) << pos[i];
		if (used & mask) {
			*why = "colour masks overlap";
			return -1;
		}
		used |= mask;
		fmt->pos[i] = pos[i];
		fmt->size[i] = size[i];
	}
	return 0;
}

uint32_t fb_pack(const struct fb_pixfmt *fmt, uint32_t rgb)
{
	uint32_t v = 0;

	for (int i = 0; i < RGB_COMPONENTS; i++) {
		uint32_t c = (rgb >> (8 * (RGB_COMPONENTS - 1 - i))) & COMPONENT_MAX;
		uint32_t max = (1u << fmt->size[i]) - 1;

		/* Round to nearest: 0 stays 0, 0xFF becomes all ones. */
		v |= ((c * max + COMPONENT_MAX / 2) / COMPONENT_MAX) << fmt->pos[i];
	}
	return v;
}

static inline void put_pixel(uint8_t *p, unsigned int bytes, uint32_t v)
{
	switch (bytes) {
	case 4:
		__builtin_memcpy(p, &v, 4);
		break;
	case 3:
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		break;
	default: {
		uint16_t h = (uint16_t)v;
		__builtin_memcpy(p, &h, 2);
	}
	}
}

void fb_draw_glyph(uint8_t *dst, uint32_t pitch, unsigned int bytes, const uint8_t *glyph,
		   uint32_t fg, uint32_t bg, unsigned int underline)
{
	for (unsigned int y = 0; y < FBCON_FONT_H; y++, dst += pitch) {
		unsigned int bits = y >= FBCON_FONT_H - underline ? GLYPH_ROW_ALL : glyph[y];

		if (bytes == 4) {
			/* The common case, one aligned store per pixel. */
			uint32_t row[FBCON_FONT_W];
			for (unsigned int x = 0; x < FBCON_FONT_W; x++)
				row[x] = bits & (GLYPH_LEFT_BIT >> x) ? fg : bg;
			__builtin_memcpy(dst, row, sizeof row);
			continue;
		}
		for (unsigned int x = 0; x < FBCON_FONT_W; x++)
			put_pixel(dst + x * bytes, bytes, bits & (GLYPH_LEFT_BIT >> x) ? fg : bg);
	}
}

void fb_fill(uint8_t *dst, uint32_t pitch, unsigned int bytes, uint32_t width, uint32_t height,
	     uint32_t value)
{
	for (uint32_t y = 0; y < height; y++, dst += pitch)
		for (uint32_t x = 0; x < width; x++)
			put_pixel(dst + (size_t)x * bytes, bytes, value);
}

/* ------------------------------------------------------------ the text grid */

static uint16_t *ring_row(const struct fbcon_grid *g, uint32_t row)
{
	return g->cells + (size_t)((g->top + row) % g->rows) * g->cols;
}

static void clear_row(struct fbcon_grid *g, uint32_t row)
{
	uint16_t *cells = ring_row(g, row);

	for (uint32_t c = 0; c < g->cols; c++)
		cells[c] = FBCON_CELL(' ', g->attr);
	g->dirty[row] = 1;
}

void grid_mark_all(struct fbcon_grid *g)
{
	for (uint32_t r = 0; r < g->rows; r++)
		g->dirty[r] = 1;
}

void grid_init(struct fbcon_grid *g, uint16_t *cells, uint8_t *dirty, uint32_t cols,
	       uint32_t rows, uint8_t attr)
{
	*g = (struct fbcon_grid){ .cells = cells, .dirty = dirty, .cols = cols, .rows = rows,
				  .attr = attr, .jump = 1 };
	for (uint32_t r = 0; r < rows; r++)
		clear_row(g, r);
}

uint16_t grid_cell(const struct fbcon_grid *g, uint32_t row, uint32_t col)
{
	return ring_row(g, row)[col];
}

uint32_t grid_cursor_col(const struct fbcon_grid *g)
{
	return g->col < g->cols ? g->col : g->cols - 1;
}

static void newline(struct fbcon_grid *g)
{
	g->col = 0;
	if (g->row + 1 < g->rows) {
		g->row++;
		return;
	}
	/* Scroll: the top `jump` rows become the new, blank bottom rows. */
	g->top = (g->top + g->jump) % g->rows;
	g->scrolls += g->jump;
	for (uint32_t r = g->rows - g->jump; r < g->rows; r++)
		clear_row(g, r);
	g->row = g->rows - g->jump;
	grid_mark_all(g);
}

void grid_putc(struct fbcon_grid *g, char c)
{
	g->dirty[g->row] = 1;           /* the cursor leaves this row's cell */
	switch (c) {
	case '\n':
		newline(g);
		break;
	case '\r':
		g->col = 0;
		break;
	case '\t':
		if (g->col >= g->cols)
			newline(g);
		g->col = (g->col + FBCON_TAB_WIDTH) & ~(FBCON_TAB_WIDTH - 1u);
		if (g->col > g->cols)
			g->col = g->cols;
		break;
	case '\b':
		if (g->col >= g->cols)
			g->col = g->cols - 1;
		else if (g->col)
			g->col--;
		break;
	default:
		if (g->col >= g->cols)
			newline(g);
		ring_row(g, g->row)[g->col++] = FBCON_CELL(c, g->attr);
	}
	g->dirty[g->row] = 1;
}

/* ------------------------------------------------------------ drawing */

void screen_init(struct fbcon_screen *s, uint8_t *fb, uint32_t pitch, const struct fb_pixfmt *fmt,
		 uint32_t *drawn, uint32_t cols, uint32_t rows, const uint8_t (*font)[FBCON_FONT_H])
{
	*s = (struct fbcon_screen){ .fb = fb, .pitch = pitch, .fmt = *fmt, .drawn = drawn,
				    .cols = cols, .font = font };
	for (int i = 0; i < FBCON_COLOURS; i++)
		s->palette[i] = fb_pack(fmt, fbcon_cga_rgb[i]);
	for (size_t i = 0; i < (size_t)cols * rows; i++)
		drawn[i] = FBCON_DRAWN_UNKNOWN;
}

/* A 32 bpp glyph through the row table (same pixels as fb_draw_glyph()). */
static void draw_glyph_lut(struct fbcon_screen *s, uint8_t *dst, const uint8_t *glyph,
			   uint32_t fg, uint32_t bg, unsigned int underline)
{
	if (!s->lut_valid || s->lut_fg != fg || s->lut_bg != bg) {
		for (unsigned int b = 0; b < FBCON_FONT_GLYPHS; b++)
			for (unsigned int x = 0; x < FBCON_FONT_W; x++)
				s->lut[b][x] = b & (GLYPH_LEFT_BIT >> x) ? fg : bg;
		s->lut_fg = fg;
		s->lut_bg = bg;
		s->lut_valid = true;
	}
	for (unsigned int y = 0; y < FBCON_FONT_H; y++, dst += s->pitch)
		__builtin_memcpy(dst, s->lut[y >= FBCON_FONT_H - underline ? GLYPH_ROW_ALL : glyph[y]],
				 sizeof s->lut[0]);
}

uint32_t screen_update_row(struct fbcon_screen *s, uint32_t r, const uint16_t *cells,
			   uint32_t cursor_col)
{
	uint32_t *drawn = s->drawn + (size_t)r * s->cols, n = 0;
	uint8_t *line = s->fb + (size_t)r * FBCON_FONT_H * s->pitch;

	for (uint32_t c = 0; c < s->cols; c++) {
		uint32_t want = cells[c] | (c == cursor_col ? FBCON_DRAWN_CURSOR : 0);
		uint8_t attr = (uint8_t)(cells[c] >> 8);

		uint8_t *dst = line + (size_t)c * FBCON_FONT_W * s->fmt.bytes;
		const uint8_t *glyph = s->font[cells[c] & CELL_CHAR_MASK];
		uint32_t fg = s->palette[attr & 0xF], bg = s->palette[attr >> 4];
		unsigned int underline = want & FBCON_DRAWN_CURSOR ? FBCON_CURSOR_ROWS : 0;

		if (drawn[c] == want)
			continue;
		if (s->fmt.bytes == 4)
			draw_glyph_lut(s, dst, glyph, fg, bg, underline);
		else
			fb_draw_glyph(dst, s->pitch, s->fmt.bytes, glyph, fg, bg, underline);
		drawn[c] = want;
		n++;
	}
	return n;
}
