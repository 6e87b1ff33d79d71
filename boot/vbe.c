/*
 * Stage 2's graphics mode (VBE 3.0, functions 00h, 01h, 02h through INT
 * 10h): the largest linear direct-colour mode from 800x600 up (32 bpp
 * preferred, boot/vbe_choose.c), handed to the kernel in boot_info.fb.
 * Without VBE or such a mode, or with console=text or console=serial in
 * the image's command line, the machine stays in VGA text mode.
 */
#include <kernel/string.h>
#include <boot/vbe.h>
#include "stage2.h"

#define CONSOLE_KEY             "console="
#define REAL_MODE_SEG_SHIFT     4

/* The BIOS writes into these, so they live in .bss below 1 MiB. */
static struct vbe_info vbe_info;
static struct vbe_mode_info mode_info;
static struct vbe_mode modes[VBE_MAX_MODES];

static uint32_t far_to_linear(uint32_t far)
{
	return ((far >> 16) << REAL_MODE_SEG_SHIFT) + (far & 0xFFFF);
}

static bool vbe_call(uint32_t function, uint32_t bx, uint32_t cx, void *buf)
{
	struct bios_regs r = { .eax = function, .ebx = bx, .ecx = cx };

	if (buf) {
		r.es = rm_seg(buf);
		r.edi = rm_off(buf);
	}
	bios_int(INT_VIDEO, &r);
	return (r.eax & 0xFFFF) == VBE_OK;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(w, s, len) == 0;
}

/*
 * The last console= word (as kernel/cmdline.c reads it, quotes aside: that
 * file divides 64-bit numbers, which -m32 without libgcc cannot link).
 */
static bool text_requested(const char *cmdline)
{
	const size_t keylen = strlen(CONSOLE_KEY);
	bool text = false;

	for (const char *p = cmdline; *p;) {
		const char *w;
		size_t len;

		while (is_blank(*p))
			p++;
		for (w = p; *p && !is_blank(*p); p++)
			;
		len = (size_t)(p - w);
		if (len >= keylen && memcmp(w, CONSOLE_KEY, keylen) == 0)
			text = word_is(w + keylen, len - keylen, "text") ||
			       word_is(w + keylen, len - keylen, "serial");
	}
	return text;
}

/* The usable modes into modes[]; returns their number. */
static int vbe_list_modes(void)
{
	const uint16_t *list = phys(far_to_linear(vbe_info.mode_list));
	uint16_t numbers[VBE_MAX_MODES];
	uint64_t vram = (uint64_t)vbe_info.total_memory << 16;
	int count = 0, n = 0;

	/* Copy the list first: it may live in a buffer that function 01h reuses. */
	while (count < VBE_MAX_MODES && list[count] != VBE_MODE_LIST_END) {
		numbers[count] = list[count];
		count++;
	}
	for (int i = 0; i < count; i++) {
		memset(&mode_info, 0, sizeof mode_info);
		if (vbe_call(VBE_GET_MODE_INFO, 0, numbers[i], &mode_info) &&
		    vbe_mode_usable(&mode_info, vbe_info.version, vram, &modes[n].fb))
			modes[n++].number = numbers[i];
	}
	return n;
}

void vbe_setup(struct boot_info *bi, const char *cmdline)
{
	const struct boot_framebuffer *fb;
	int n, best;

	if (text_requested(cmdline)) {
		say("VBE: not used (console= in the command line); VGA text");
		return;
	}
	memset(&vbe_info, 0, sizeof vbe_info);
	vbe_info.signature = VBE_SIG_VBE2;
	if (!vbe_call(VBE_GET_INFO, 0, 0, &vbe_info) || vbe_info.signature != VBE_SIG_VESA) {
		say("VBE: not supported by this BIOS; VGA text");
		return;
	}
	n = vbe_list_modes();
	best = vbe_choose(modes, n);
	if (best == VBE_NONE) {
		say("VBE %x.%x: no linear direct-colour mode from %ux%u to %ux%u; VGA text",
		    vbe_info.version >> 8, vbe_info.version & 0xFF, VBE_MIN_WIDTH, VBE_MIN_HEIGHT,
		    VBE_MAX_WIDTH, VBE_MAX_HEIGHT);
		return;
	}
	fb = &modes[best].fb;
	say("VBE %x.%x: mode 0x%x, %ux%u %u bpp at 0x%llx (pitch %u), of %u usable",
	    vbe_info.version >> 8, vbe_info.version & 0xFF, modes[best].number, fb->width,
	    fb->height, fb->bpp, fb->addr, fb->pitch, (unsigned)n);
	/* The text screen's memory is the new mode's first bank: stop writing it. */
	console_text_off();
	if (!vbe_call(VBE_SET_MODE, modes[best].number | VBE_MODE_LINEAR, 0, NULL)) {
		console_text_on();
		say("VBE: setting mode 0x%x failed; VGA text", modes[best].number);
		return;
	}
	bi->fb = *fb;
}
