/*
 * USB device framework definitions (USB 2.0 spec, chapter 9) and the HID
 * class requests (HID 1.11, 7.2) the keyboard driver uses, with the pure
 * descriptor walk (drivers/usb_desc.c, host-tested by tests/unit/test_usb.c).
 * The host controller driver is drivers/xhci.c (docs/usb.md).
 */
#ifndef KERNEL_USB_H
#define KERNEL_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* bmRequestType (USB 2.0, 9.3.1). */
#define USB_DIR_OUT             0x00
#define USB_DIR_IN              0x80
#define USB_TYPE_STANDARD       0x00
#define USB_TYPE_CLASS          0x20
#define USB_RECIP_DEVICE        0x00
#define USB_RECIP_INTERFACE     0x01

/* Standard requests (USB 2.0, table 9-4). */
#define USB_REQ_GET_DESCRIPTOR  0x06
#define USB_REQ_SET_CONFIGURATION 0x09

/* HID class requests (HID 1.11, 7.2). */
#define HID_REQ_SET_REPORT      0x09
#define   HID_REPORT_OUTPUT     0x02    /* SET_REPORT wValue high byte */
#define HID_LED_REPORT_LEN      1       /* boot keyboard output report: the LED bits */
#define HID_REQ_SET_IDLE        0x0A
#define HID_REQ_SET_PROTOCOL    0x0B
#define   HID_PROTOCOL_BOOT     0
#define HID_IDLE_INDEFINITE     0       /* SET_IDLE duration: report only on change */

/* Hub class (USB 2.0, 11.23-11.24). */
#define USB_RT_HUB_CLASS_IN     (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_DEVICE)
#define USB_RT_PORT_OUT         (USB_DIR_OUT | USB_TYPE_CLASS | 0x03)   /* recipient: other (port) */
#define USB_RT_PORT_IN          (USB_DIR_IN | USB_TYPE_CLASS | 0x03)
#define USB_REQ_GET_STATUS      0x00
#define USB_REQ_CLEAR_FEATURE   0x01
#define USB_REQ_SET_FEATURE     0x03
#define USB_DT_HUB              0x29
#define USB_HUB_DESC_MIN_LEN    7       /* through bHubContrCurrent */
#define USB_HUB_DESC_NPORTS     2       /* byte offsets in the hub descriptor */
#define USB_HUB_DESC_CHARS      3       /* wHubCharacteristics */
#define   HUB_CHAR_TTTT_SHIFT   5       /* TT think time, bits 6:5 */
#define USB_HUB_DESC_PWRGOOD    5       /* bPwrOn2PwrGood, 2 ms units */
#define HUB_FEAT_PORT_RESET     4
#define HUB_FEAT_PORT_POWER     8
#define HUB_FEAT_C_CONNECTION   16
#define HUB_FEAT_C_ENABLE       17
#define HUB_FEAT_C_RESET        20
#define HUB_PORT_CONNECTION     (1u << 0)       /* wPortStatus (11.24.2.7.1) */
#define HUB_PORT_ENABLE         (1u << 1)
#define HUB_PORT_LOW_SPEED      (1u << 9)
#define HUB_PORT_HIGH_SPEED     (1u << 10)
#define HUB_C_PORT_RESET        (1u << 4)       /* wPortChange */
#define USB_HUB_STATUS_LEN      4
#define USB_HUB_PROTOCOL_MTT    2       /* bDeviceProtocol of a multi-TT high-speed hub */

/* Descriptor types (USB 2.0, table 9-5). */
#define USB_DT_DEVICE           0x01
#define USB_DT_CONFIG           0x02
#define USB_DT_STRING           0x03
#define USB_DT_INTERFACE        0x04
#define USB_DT_ENDPOINT         0x05

#define USB_SETUP_LEN           8
#define USB_DEVICE_DESC_LEN     18
#define USB_CONFIG_DESC_LEN     9
#define USB_INTERFACE_DESC_LEN  9
#define USB_ENDPOINT_DESC_LEN   7
#define USB_DESC_HEADER_LEN     2       /* bLength, bDescriptorType */
#define USB_LANGID_EN_US        0x0409

/* Device descriptor (USB 2.0, table 9-8). */
struct usb_device_desc {
	uint8_t bLength, bDescriptorType;
	uint16_t bcdUSB;
	uint8_t bDeviceClass, bDeviceSubClass, bDeviceProtocol, bMaxPacketSize0;
	uint16_t idVendor, idProduct, bcdDevice;
	uint8_t iManufacturer, iProduct, iSerialNumber, bNumConfigurations;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_device_desc) == USB_DEVICE_DESC_LEN, "device descriptor");

/* Configuration descriptor (USB 2.0, table 9-10). */
struct usb_config_desc {
	uint8_t bLength, bDescriptorType;
	uint16_t wTotalLength;
	uint8_t bNumInterfaces, bConfigurationValue, iConfiguration, bmAttributes, bMaxPower;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_config_desc) == USB_CONFIG_DESC_LEN, "config descriptor");

/* Interface descriptor (USB 2.0, table 9-12). */
struct usb_interface_desc {
	uint8_t bLength, bDescriptorType;
	uint8_t bInterfaceNumber, bAlternateSetting, bNumEndpoints;
	uint8_t bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol, iInterface;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_interface_desc) == USB_INTERFACE_DESC_LEN, "interface descriptor");

/* Endpoint descriptor (USB 2.0, table 9-13). */
struct usb_endpoint_desc {
	uint8_t bLength, bDescriptorType;
	uint8_t bEndpointAddress, bmAttributes;
	uint16_t wMaxPacketSize;
	uint8_t bInterval;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_endpoint_desc) == USB_ENDPOINT_DESC_LEN, "endpoint descriptor");

#define USB_EP_DIR_IN           0x80    /* bEndpointAddress bit 7 */
#define USB_EP_NUM_MASK         0x0F
#define USB_EP_XFER_MASK        0x03    /* bmAttributes 1:0 */
#define USB_EP_XFER_INT         0x03
#define USB_EP_MAXP_MASK        0x07FF  /* wMaxPacketSize 10:0 */
#define USB_EP_MAXP_MULT_SHIFT  11      /* 12:11: extra transactions per microframe (HS) */
#define USB_EP_MAXP_MULT_MASK   0x3

/* Class codes (usb.org "Defined Class Codes"; HID 1.11, 4.2-4.3). */
#define USB_CLASS_HID           0x03
#define   HID_SUBCLASS_BOOT     0x01
#define   HID_PROTOCOL_KEYBOARD 0x01
#define   HID_PROTOCOL_MOUSE    0x02
#define USB_CLASS_MASS_STORAGE  0x08
#define USB_CLASS_HUB           0x09

/* What the keyboard driver needs from a configuration descriptor. */
struct usb_kbd_info {
	uint8_t config_value;   /* for SET_CONFIGURATION */
	uint8_t interface;      /* bInterfaceNumber of the boot keyboard */
	uint8_t ep_addr;        /* interrupt IN endpoint, with USB_EP_DIR_IN */
	uint16_t ep_max_packet; /* wMaxPacketSize as given */
	uint8_t ep_interval;    /* bInterval */
	/* For the log when there is no keyboard: the first interface's class. */
	uint8_t ninterfaces;
	uint8_t first_class, first_subclass, first_protocol;
};

typedef void (*usb_log_fn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Walk a configuration descriptor set (the configuration descriptor and
 * what follows it, len bytes): 0 and *out for the first interface of
 * class HID, subclass boot, protocol keyboard (alternate setting 0) that
 * has an interrupt IN endpoint; -ENOENT when there is none (out still
 * names the first interface); -EINVAL, reported through log, when the
 * set is malformed (a descriptor shorter than 2 bytes or running past
 * the end, a bad configuration header).
 */
int usb_find_boot_keyboard(const uint8_t *buf, size_t len, struct usb_kbd_info *out,
			   usb_log_fn log, void *ctx);

/*
 * A string descriptor (UTF-16LE) to printable ASCII in out[size]
 * (anything else becomes '?'); "" for a malformed one. Returns out.
 */
char *usb_string_ascii(const uint8_t *desc, size_t len, char *out, size_t size);

/* "keyboard", "mouse", "mass storage", "hub", ... for a class triple, or "class x/y/z". */
const char *usb_class_name(uint8_t class, uint8_t subclass, uint8_t protocol,
			   char *buf, size_t size);

/* The 8-byte SETUP packet as the xHCI Setup Stage TRB's immediate data (little endian). */
uint64_t usb_setup_packet(uint8_t type, uint8_t request, uint16_t value, uint16_t index,
			  uint16_t length);

/* Called by the kernel once after PCI enumeration: every xHCI controller (drivers/xhci.c). */
void xhci_init(void);
/* USB boot keyboards working (for tests and the log). */
unsigned int usb_keyboards(void);

#endif
