/*
 * VESA BIOS Extensions (VBE Core Functions Standard 3.0): the structures
 * the BIOS fills in and the loader's mode choice (boot/vbe.c queries and
 * sets the mode, boot/vbe_choose.c chooses it; tests/unit/test_fbcon.c).
 */
#ifndef BOOT_VBE_H
#define BOOT_VBE_H

#include <stdbool.h>
#include <stdint.h>
#include <boot/boot_info.h>

#define INT_VIDEO               0x10
#define VBE_GET_INFO            0x4F00  /* AX: controller information, ES:DI -> vbe_info */
#define VBE_GET_MODE_INFO       0x4F01  /* AX, CX = mode: ES:DI -> vbe_mode_info */
#define VBE_SET_MODE            0x4F02  /* AX, BX = mode | VBE_MODE_LINEAR */
#define VBE_OK                  0x004F  /* AX on success: function supported, successful */
#define VBE_MODE_LINEAR         (1u << 14)      /* BX of 4F02: use the linear framebuffer */
#define VBE_MODE_LIST_END       0xFFFF
#define VBE_SIG_VESA            0x41534556u     /* "VESA", returned */
#define VBE_SIG_VBE2            0x32454256u     /* "VBE2", asks for the VBE 2.0+ fields */
#define VBE_VERSION_3           0x0300

/* ModeAttributes bits (VBE 3.0, 4.4) */
#define VBE_ATTR_SUPPORTED      (1u << 0)
#define VBE_ATTR_COLOUR         (1u << 3)
#define VBE_ATTR_GRAPHICS       (1u << 4)
#define VBE_ATTR_LINEAR         (1u << 7)
#define VBE_ATTR_NEEDED         (VBE_ATTR_SUPPORTED | VBE_ATTR_COLOUR | VBE_ATTR_GRAPHICS | \
				 VBE_ATTR_LINEAR)
#define VBE_MODEL_DIRECT        0x06    /* MemoryModel: direct colour */

/* The loader's choice: the largest mode in [MIN, MAX] (MAX: the console's grid). */
#define VBE_MIN_WIDTH           800
#define VBE_MIN_HEIGHT          600
#define VBE_MAX_WIDTH           2560    /* FBCON_MAX_COLS * 8 */
#define VBE_MAX_HEIGHT          1600    /* FBCON_MAX_ROWS * 16 */
#define VBE_MAX_MODES           128
#define VBE_NONE                (-1)

/* Function 00h: VbeInfoBlock (512 bytes). */
struct vbe_info {
	uint32_t signature;
	uint16_t version;               /* BCD, 0x0300 = 3.0 */
	uint32_t oem_string;            /* real-mode far pointers: offset low, segment high */
	uint32_t capabilities;
	uint32_t mode_list;             /* -> uint16_t modes, VBE_MODE_LIST_END */
	uint16_t total_memory;          /* 64 KiB units */
	uint8_t vbe2[492];              /* OEM fields and scratch space */
} __attribute__((packed));
_Static_assert(sizeof(struct vbe_info) == 512, "VbeInfoBlock");
_Static_assert(__builtin_offsetof(struct vbe_info, mode_list) == 14, "VbeInfoBlock.VideoModePtr");

/* Function 01h: ModeInfoBlock (256 bytes). */
struct vbe_mode_info {
	uint16_t attributes;
	uint8_t win_a, win_b;
	uint16_t granularity, win_size, seg_a, seg_b;
	uint32_t win_func;
	uint16_t pitch;                 /* BytesPerScanLine (banked) */
	uint16_t width, height;
	uint8_t char_w, char_h, planes, bpp, banks, memory_model, bank_size, image_pages;
	uint8_t reserved0;
	uint8_t red_size, red_pos, green_size, green_pos, blue_size, blue_pos;
	uint8_t rsvd_size, rsvd_pos, direct_colour_info;
	uint32_t phys_base;             /* VBE 2.0+: the linear framebuffer */
	uint32_t reserved1;
	uint16_t reserved2;
	uint16_t lin_pitch;             /* VBE 3.0+: LinBytesPerScanLine */
	uint8_t bank_pages, lin_pages;
	uint8_t lin_red_size, lin_red_pos, lin_green_size, lin_green_pos;
	uint8_t lin_blue_size, lin_blue_pos, lin_rsvd_size, lin_rsvd_pos;
	uint32_t max_pixel_clock;
	uint8_t reserved3[190];
} __attribute__((packed));
_Static_assert(sizeof(struct vbe_mode_info) == 256, "ModeInfoBlock");
_Static_assert(__builtin_offsetof(struct vbe_mode_info, pitch) == 16, "ModeInfoBlock.BytesPerScanLine");
_Static_assert(__builtin_offsetof(struct vbe_mode_info, bpp) == 25, "ModeInfoBlock.BitsPerPixel");
_Static_assert(__builtin_offsetof(struct vbe_mode_info, red_size) == 31, "ModeInfoBlock.RedMaskSize");
_Static_assert(__builtin_offsetof(struct vbe_mode_info, phys_base) == 40, "ModeInfoBlock.PhysBasePtr");
_Static_assert(__builtin_offsetof(struct vbe_mode_info, lin_pitch) == 50, "ModeInfoBlock.LinBytesPerScanLine");
_Static_assert(__builtin_offsetof(struct vbe_mode_info, lin_red_size) == 54, "ModeInfoBlock.LinRedMaskSize");

/* One mode as the chooser sees it. */
struct vbe_mode {
	uint16_t number;
	struct boot_framebuffer fb;     /* what boot_info gets if it is chosen */
};

/*
 * The boot_info framebuffer of a mode (VBE 3.0 BIOSes: the linear pitch
 * and masks); false when the mode is not a usable linear direct-colour
 * mode in [VBE_MIN, VBE_MAX] that fits video memory (vram bytes).
 */
bool vbe_mode_usable(const struct vbe_mode_info *mi, uint16_t vbe_version, uint64_t vram,
		     struct boot_framebuffer *fb);
/*
 * Index of the mode to set among modes[0..n): the largest (pixels), at
 * equal size the deepest of 32, 24, 16, 15 bpp, then the lowest number.
 * VBE_NONE for n == 0.
 */
int vbe_choose(const struct vbe_mode *modes, int n);

#endif
