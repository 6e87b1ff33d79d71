/*
 * The loader's VBE mode choice (include/boot/vbe.h), apart from the BIOS
 * calls so that tests/unit/test_fbcon.c can run it on mode lists.
 */
#include <boot/vbe.h>

static bool masks_ok(const struct boot_framebuffer *fb)
{
	return fb->red_size && fb->green_size && fb->blue_size &&
	       fb->red_pos + fb->red_size <= fb->bpp && fb->green_pos + fb->green_size <= fb->bpp &&
	       fb->blue_pos + fb->blue_size <= fb->bpp;
}

bool vbe_mode_usable(const struct vbe_mode_info *mi, uint16_t vbe_version, uint64_t vram,
		     struct boot_framebuffer *fb)
{
	bool v3 = vbe_version >= VBE_VERSION_3;

	if ((mi->attributes & VBE_ATTR_NEEDED) != VBE_ATTR_NEEDED ||
	    mi->memory_model != VBE_MODEL_DIRECT || mi->phys_base == 0)
		return false;
	if (mi->bpp != 15 && mi->bpp != 16 && mi->bpp != 24 && mi->bpp != 32)
		return false;
	if (mi->width < VBE_MIN_WIDTH || mi->height < VBE_MIN_HEIGHT ||
	    mi->width > VBE_MAX_WIDTH || mi->height > VBE_MAX_HEIGHT)
		return false;
	*fb = (struct boot_framebuffer){
		.addr = mi->phys_base,
		.pitch = v3 && mi->lin_pitch ? mi->lin_pitch : mi->pitch,
		.width = mi->width, .height = mi->height, .bpp = mi->bpp,
		.type = BOOT_FB_TYPE_RGB,
		.red_pos = v3 ? mi->lin_red_pos : mi->red_pos,
		.red_size = v3 ? mi->lin_red_size : mi->red_size,
		.green_pos = v3 ? mi->lin_green_pos : mi->green_pos,
		.green_size = v3 ? mi->lin_green_size : mi->green_size,
		.blue_pos = v3 ? mi->lin_blue_pos : mi->blue_pos,
		.blue_size = v3 ? mi->lin_blue_size : mi->blue_size,
	};
	if (fb->pitch < (uint32_t)fb->width * ((fb->bpp + 7u) / 8) || !masks_ok(fb))
		return false;
	return (uint64_t)fb->pitch * fb->height <= vram;
}

static int depth_rank(uint8_t bpp)
{
	return bpp == 32 ? 3 : bpp == 24 ? 2 : bpp == 16 ? 1 : 0;
}

int vbe_choose(const struct vbe_mode *modes, int n)
{
	int best = VBE_NONE;

	for (int i = 0; i < n; i++) {
		const struct boot_framebuffer *a = &modes[i].fb;
		uint32_t area = a->width * a->height;

		if (best != VBE_NONE) {
			const struct boot_framebuffer *b = &modes[best].fb;
			uint32_t best_area = b->width * b->height;

			if (area < best_area)
				continue;
			if (area == best_area) {
				if (depth_rank(a->bpp) < depth_rank(b->bpp))
					continue;
				if (depth_rank(a->bpp) == depth_rank(b->bpp) &&
				    modes[i].number >= modes[best].number)
					continue;
			}
		}
		best = i;
	}
	return best;
}
