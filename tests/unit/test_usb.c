/*
 * Host tests for drivers/usb_desc.c and drivers/xhci_calc.c: configuration
 * descriptors as QEMU's usb-kbd, usb-tablet and usb-storage give them,
 * composite and malformed ones; string descriptors; SETUP packets; xHCI
 * extended capability walks over fake registers (QEMU's layout, a legacy
 * capability, a loop, a list running out of the register block);
 * endpoint intervals, default control packet sizes, scratchpad counts.
 */
#include "unit.h"
#include "../../kernel/format.c"
#include "../../drivers/usb_desc.c"
#include "../../drivers/xhci_calc.c"

#include <stdarg.h>

static char logbuf[512];
static int nlogs;

static void log_fn(void *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(logbuf, sizeof(logbuf), fmt, ap);
	va_end(ap);
	nlogs++;
}

#define CONFIG(total, nintf) 9, USB_DT_CONFIG, (total) & 0xFF, (total) >> 8, nintf, 1, 0, 0xA0, 50
#define INTERFACE(num, alt, neps, c, s, p) 9, USB_DT_INTERFACE, num, alt, neps, c, s, p, 0
#define HID_DESC 9, 0x21, 0x11, 0x01, 0x00, 0x01, 0x22, 0x3F, 0x00
#define ENDPOINT(addr, attr, mps, interval) 7, USB_DT_ENDPOINT, addr, attr, (mps) & 0xFF, \
	(mps) >> 8, interval

/* QEMU 7.2 usb-kbd (hw/usb/dev-hid.c), high-speed configuration. */
static const uint8_t qemu_kbd[] = {
	CONFIG(34, 1), INTERFACE(0, 0, 1, 3, 1, 1), HID_DESC, ENDPOINT(0x81, 3, 8, 7),
};
static const uint8_t qemu_tablet[] = {
	CONFIG(34, 1), INTERFACE(0, 0, 1, 3, 0, 0), HID_DESC, ENDPOINT(0x81, 3, 8, 4),
};
static const uint8_t qemu_storage[] = {
	CONFIG(32, 1), INTERFACE(0, 0, 2, 8, 6, 0x50), ENDPOINT(0x81, 2, 512, 0),
	ENDPOINT(0x02, 2, 512, 0),
};
/* A mouse first, then a keyboard whose OUT endpoint comes before its IN one. */
static const uint8_t composite[] = {
	CONFIG(66, 2),
	INTERFACE(0, 0, 1, 3, 1, 2), HID_DESC, ENDPOINT(0x81, 3, 4, 10),
	INTERFACE(1, 0, 2, 3, 1, 1), HID_DESC, ENDPOINT(0x02, 3, 8, 10),
	ENDPOINT(0x83, 3, 8, 10),
};

static const char *test_qemu_keyboard(void)
{
	struct usb_kbd_info k;

	nlogs = 0;
	UASSERT_EQ(usb_find_boot_keyboard(qemu_kbd, sizeof(qemu_kbd), &k, log_fn, NULL), 0);
	UASSERT_EQ(k.config_value, 1);
	UASSERT_EQ(k.interface, 0);
	UASSERT_EQ(k.ep_addr, 0x81);
	UASSERT_EQ(k.ep_max_packet, 8);
	UASSERT_EQ(k.ep_interval, 7);
	UASSERT_EQ(nlogs, 0);
	return NULL;
}

static const char *test_not_keyboards(void)
{
	struct usb_kbd_info k;
	char buf[24];

	UASSERT_EQ(usb_find_boot_keyboard(qemu_tablet, sizeof(qemu_tablet), &k, log_fn, NULL),
		   -ENOENT);
	UASSERT_EQ(k.ninterfaces, 1);
	UASSERT_STR(usb_class_name(k.first_class, k.first_subclass, k.first_protocol, buf,
				   sizeof(buf)), "HID device (no boot keyboard)");
	UASSERT_EQ(usb_find_boot_keyboard(qemu_storage, sizeof(qemu_storage), &k, log_fn, NULL),
		   -ENOENT);
	UASSERT_STR(usb_class_name(k.first_class, k.first_subclass, k.first_protocol, buf,
				   sizeof(buf)), "mass storage");
	UASSERT_STR(usb_class_name(0xFF, 0x42, 0x01, buf, sizeof(buf)), "class ff/42/01");
	UASSERT_STR(usb_class_name(3, 1, 2, buf, sizeof(buf)), "boot mouse");
	return NULL;
}

static const char *test_composite(void)
{
	struct usb_kbd_info k;

	UASSERT_EQ(usb_find_boot_keyboard(composite, sizeof(composite), &k, log_fn, NULL), 0);
	UASSERT_EQ(k.interface, 1);
	UASSERT_EQ(k.ep_addr, 0x83);
	UASSERT_EQ(k.first_protocol, HID_PROTOCOL_MOUSE);
	UASSERT_EQ(k.ninterfaces, 2);
	return NULL;
}

/* wTotalLength ends the walk: a keyboard endpoint beyond it is not seen. */
static const char *test_total_length_bounds(void)
{
	uint8_t d[sizeof(qemu_kbd)];
	struct usb_kbd_info k;

	memcpy(d, qemu_kbd, sizeof(d));
	d[2] = 27;      /* config + interface + HID: no endpoint */
	nlogs = 0;
	UASSERT_EQ(usb_find_boot_keyboard(d, sizeof(d), &k, log_fn, NULL), -ENOENT);
	UASSERT_EQ(nlogs, 0);
	/* A buffer shorter than wTotalLength (truncated read) is walked as far as it goes. */
	UASSERT_EQ(usb_find_boot_keyboard(qemu_kbd, 27, &k, log_fn, NULL), -ENOENT);
	return NULL;
}

static const char *test_malformed(void)
{
	uint8_t d[sizeof(qemu_kbd)];
	struct usb_kbd_info k;

	memcpy(d, qemu_kbd, sizeof(d));
	d[9] = 0;       /* interface bLength 0: would loop forever */
	nlogs = 0;
	UASSERT_EQ(usb_find_boot_keyboard(d, sizeof(d), &k, log_fn, NULL), -EINVAL);
	UASSERT_EQ(nlogs, 1);
	UASSERT(strstr(logbuf, "byte 9"));
	memcpy(d, qemu_kbd, sizeof(d));
	d[27] = 40;     /* endpoint runs past the end */
	UASSERT_EQ(usb_find_boot_keyboard(d, sizeof(d), &k, log_fn, NULL), -EINVAL);
	memcpy(d, qemu_kbd, sizeof(d));
	d[27] = 4;      /* an endpoint descriptor too short to be one */
	UASSERT_EQ(usb_find_boot_keyboard(d, sizeof(d), &k, log_fn, NULL), -EINVAL);
	memcpy(d, qemu_kbd, sizeof(d));
	d[1] = USB_DT_DEVICE;   /* not a configuration */
	UASSERT_EQ(usb_find_boot_keyboard(d, sizeof(d), &k, log_fn, NULL), -EINVAL);
	UASSERT_EQ(usb_find_boot_keyboard(d, 4, &k, NULL, NULL), -EINVAL);
	UASSERT_EQ(usb_find_boot_keyboard(d, 0, &k, NULL, NULL), -EINVAL);
	/* One byte of a next descriptor left over. */
	uint8_t odd[sizeof(qemu_tablet) + 1];
	memcpy(odd, qemu_tablet, sizeof(qemu_tablet));
	odd[2] = sizeof(odd);
	odd[sizeof(qemu_tablet)] = 9;
	UASSERT_EQ(usb_find_boot_keyboard(odd, sizeof(odd), &k, log_fn, NULL), -EINVAL);
	return NULL;
}

static const char *test_strings(void)
{
	const uint8_t s[] = { 14, USB_DT_STRING, 'Q', 0, 'E', 0, 'M', 0, 'U', 0, '"', 0, 0xAC, 0x20 };
	char out[16];

	UASSERT_STR(usb_string_ascii(s, sizeof(s), out, sizeof(out)), "QEMU??");
	UASSERT_STR(usb_string_ascii(s, sizeof(s), out, 3), "QE");
	UASSERT_STR(usb_string_ascii(s, 10, out, sizeof(out)), "");     /* bLength past the end */
	UASSERT_STR(usb_string_ascii(s, 1, out, sizeof(out)), "");
	const uint8_t odd[] = { 5, USB_DT_STRING, 'A', 0, 'B' };
	UASSERT_STR(usb_string_ascii(odd, sizeof(odd), out, sizeof(out)), "A");
	return NULL;
}

static const char *test_setup_packet(void)
{
	/* GET_DESCRIPTOR(configuration 0), 9 bytes: 80 06 00 02 00 00 09 00 on the wire. */
	UASSERT_EQ(usb_setup_packet(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, 9),
		   0x0009000002000680ull);
	UASSERT_EQ(usb_setup_packet(0x21, HID_REQ_SET_PROTOCOL, 0, 1, 0), 0x0000000100000B21ull);
	return NULL;
}

/* ---- xHCI */

static uint32_t regs[0x400];

static uint32_t reg_read(void *ctx, uint32_t off)
{
	(void)ctx;
	return regs[off / 4];
}

static const char *test_ext_caps(void)
{
	bool bad;

	memset(regs, 0, sizeof(regs));
	/* QEMU: two Supported Protocol capabilities at 0x20 and 0x30 (xECP = 8 dwords). */
	regs[0x20 / 4] = 0x02000402;
	regs[0x28 / 4] = 0x00000405;            /* USB 2: ports 5-8 */
	regs[0x30 / 4] = 0x03000002;
	regs[0x38 / 4] = 0x00000401;            /* USB 3: ports 1-4 */
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 8, sizeof(regs), XECP_ID_PROTOCOL, 0, &bad),
		   0x20);
	UASSERT(!bad);
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 8, sizeof(regs), XECP_ID_PROTOCOL, 0x20, &bad),
		   0x30);
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 8, sizeof(regs), XECP_ID_PROTOCOL, 0x30, &bad),
		   0);
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 8, sizeof(regs), XECP_ID_LEGACY, 0, &bad), 0);
	UASSERT(!bad);
	UASSERT_EQ(XPROTO_MAJOR(regs[0x20 / 4]), 2);
	UASSERT_EQ(XPROTO_PORT_OFFSET(regs[0x28 / 4]), 5);
	UASSERT_EQ(XPROTO_PORT_COUNT(regs[0x28 / 4]), 4);
	/* No capabilities at all. */
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 0, sizeof(regs), XECP_ID_LEGACY, 0, &bad), 0);
	UASSERT(!bad);
	return NULL;
}

static const char *test_ext_caps_malformed(void)
{
	bool bad;

	memset(regs, 0, sizeof(regs));
	regs[0x40 / 4] = XECP_ID_LEGACY | 0x10u << 8;          /* legacy first, next +0x40 */
	regs[0x80 / 4] = XECP_ID_PROTOCOL | 0x00u << 8;
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 0x10, sizeof(regs), XECP_ID_LEGACY, 0, &bad),
		   0x40);
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 0x10, sizeof(regs), XECP_ID_PROTOCOL, 0, &bad),
		   0x80);
	/* A next pointer that leaves a 1 KiB register block. */
	regs[0x80 / 4] = 0x05u | 0xFFu << 8;
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 0x10, 0x400, XECP_ID_PROTOCOL, 0, &bad), 0);
	UASSERT(bad);
	/* xECP beyond the register block. */
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 0x400, sizeof(regs), XECP_ID_LEGACY, 0, &bad),
		   0);
	UASSERT(bad);
	/* A chain longer than XECP_MAX entries is taken as a loop. */
	memset(regs, 0, sizeof(regs));
	for (unsigned int i = 0; i < 0x100; i++)
		regs[i] = 0x0Au | 1u << 8;
	UASSERT_EQ(xhci_ext_cap_find(reg_read, NULL, 1, sizeof(regs), XECP_ID_LEGACY, 0, &bad), 0);
	UASSERT(bad);
	return NULL;
}

static const char *test_intervals(void)
{
	/* Full/low speed: bInterval ms rounded down to 2^n x 125 us, 1 ms .. 128 ms. */
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_FULL, 1), 3);
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_FULL, 10), 6);     /* 8 ms */
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_LOW, 8), 6);
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_FULL, 255), 10);
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_FULL, 0), 3);
	/* High/super speed: bInterval - 1. */
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_HIGH, 7), 6);
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_HIGH, 1), 0);
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_HIGH, 0), 0);
	UASSERT_EQ(xhci_interrupt_interval(USB_SPEED_SUPER, 200), 15);
	return NULL;
}

static const char *test_ep0_and_counts(void)
{
	UASSERT_EQ(xhci_ep0_max_packet(USB_SPEED_LOW), 8);
	UASSERT_EQ(xhci_ep0_max_packet(USB_SPEED_FULL), 8);
	UASSERT_EQ(xhci_ep0_max_packet(USB_SPEED_HIGH), 64);
	UASSERT_EQ(xhci_ep0_max_packet(USB_SPEED_SUPER), 512);
	UASSERT_EQ(xhci_ep0_from_desc(USB_SPEED_FULL, 64), 64);
	UASSERT_EQ(xhci_ep0_from_desc(USB_SPEED_FULL, 7), 8);  /* invalid: the default */
	UASSERT_EQ(xhci_ep0_from_desc(USB_SPEED_SUPER, 9), 512);
	UASSERT_EQ(xhci_ep0_from_desc(USB_SPEED_SUPER, 40), 512);
	UASSERT_EQ(xhci_scratchpads(0x0000000F), 0);                    /* QEMU */
	UASSERT_EQ(xhci_scratchpads(31u << 27), 31);
	UASSERT_EQ(xhci_scratchpads(1u << 21 | 2u << 27), 34);
	UASSERT_EQ(xhci_scratchpads(0xFFFFFFFF), 1023);
	char b[16];
	UASSERT_STR(xhci_cc_name(CC_STALL, b, sizeof(b)), "stall");
	UASSERT_STR(xhci_cc_name(200, b, sizeof(b)), "code 200");
	UASSERT_STR(xhci_speed_name(USB_SPEED_HIGH), "high");
	UASSERT_STR(xhci_speed_name(9), "unknown");
	return NULL;
}

UNIT_MAIN("usb",
	  UTEST(test_qemu_keyboard),
	  UTEST(test_not_keyboards),
	  UTEST(test_composite),
	  UTEST(test_total_length_bounds),
	  UTEST(test_malformed),
	  UTEST(test_strings),
	  UTEST(test_setup_packet),
	  UTEST(test_ext_caps),
	  UTEST(test_ext_caps_malformed),
	  UTEST(test_intervals),
	  UTEST(test_ep0_and_counts))
