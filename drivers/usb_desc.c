/*
 * USB descriptor decoding (include/kernel/usb.h): pure, no kernel state,
 * host-tested by tests/unit/test_usb.c.
 */
#include <stdint.h>
#include <kernel/errno.h>
#include <kernel/format.h>
#include <kernel/string.h>
#include <kernel/usb.h>

#define LOG(...) do { if (log) log(ctx, __VA_ARGS__); } while (0)
#define ASCII_FIRST_PRINTABLE   0x20
#define ASCII_LAST_PRINTABLE    0x7E

int usb_find_boot_keyboard(const uint8_t *buf, size_t len, struct usb_kbd_info *out,
			   usb_log_fn log, void *ctx)
{
	const struct usb_config_desc *cfg = (const void *)buf;
	const struct usb_interface_desc *intf = NULL;   /* the interface being walked */
	bool keyboard = false;
	size_t off;

	*out = (struct usb_kbd_info){ 0 };
	if (len < USB_CONFIG_DESC_LEN || cfg->bLength < USB_CONFIG_DESC_LEN ||
	    cfg->bDescriptorType != USB_DT_CONFIG) {
		LOG("configuration descriptor header malformed (%zu bytes, type %#x)", len,
		    len >= USB_DESC_HEADER_LEN ? buf[1] : 0);
		return -EINVAL;
	}
	if (cfg->wTotalLength < len)
		len = cfg->wTotalLength;        /* ignore what follows the set */
	out->config_value = cfg->bConfigurationValue;
	for (off = cfg->bLength; off < len; off += buf[off]) {
		uint8_t dlen = buf[off], type;

		if (len - off < USB_DESC_HEADER_LEN || dlen < USB_DESC_HEADER_LEN ||
		    dlen > len - off) {
			LOG("descriptor at byte %zu of %zu has length %u", off, len,
			    len - off < 1 ? 0 : dlen);
			return -EINVAL;
		}
		type = buf[off + 1];
		if (type == USB_DT_INTERFACE) {
			if (dlen < USB_INTERFACE_DESC_LEN) {
				LOG("interface descriptor at byte %zu is %u bytes", off, dlen);
				return -EINVAL;
			}
			intf = (const void *)(buf + off);
			if (intf->bAlternateSetting == 0 && out->ninterfaces++ == 0) {
				out->first_class = intf->bInterfaceClass;
				out->first_subclass = intf->bInterfaceSubClass;
				out->first_protocol = intf->bInterfaceProtocol;
			}
			keyboard = intf->bAlternateSetting == 0 &&
				   intf->bInterfaceClass == USB_CLASS_HID &&
				   intf->bInterfaceSubClass == HID_SUBCLASS_BOOT &&
				   intf->bInterfaceProtocol == HID_PROTOCOL_KEYBOARD;
		} else if (type == USB_DT_ENDPOINT && keyboard) {
			const struct usb_endpoint_desc *ep = (const void *)(buf + off);

			if (dlen < USB_ENDPOINT_DESC_LEN) {
				LOG("endpoint descriptor at byte %zu is %u bytes", off, dlen);
				return -EINVAL;
			}
			if ((ep->bmAttributes & USB_EP_XFER_MASK) == USB_EP_XFER_INT &&
			    (ep->bEndpointAddress & USB_EP_DIR_IN) &&
			    (ep->bEndpointAddress & USB_EP_NUM_MASK) != 0 &&
			    (ep->wMaxPacketSize & USB_EP_MAXP_MASK) != 0) {
				out->interface = intf->bInterfaceNumber;
				out->ep_addr = ep->bEndpointAddress;
				out->ep_max_packet = ep->wMaxPacketSize;
				out->ep_interval = ep->bInterval;
				return 0;
			}
		}
	}
	return -ENOENT;
}

char *usb_string_ascii(const uint8_t *desc, size_t len, char *out, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return out;
	if (len >= USB_DESC_HEADER_LEN && desc[0] <= len && desc[0] >= USB_DESC_HEADER_LEN &&
	    desc[1] == USB_DT_STRING) {
		for (size_t i = USB_DESC_HEADER_LEN; i + 1 < desc[0] && n + 1 < size; i += 2) {
			uint16_t c = (uint16_t)(desc[i] | desc[i + 1] << 8);
			out[n++] = c >= ASCII_FIRST_PRINTABLE && c <= ASCII_LAST_PRINTABLE &&
				   c != '"' ? (char)c : '?';
		}
	}
	out[n] = '\0';
	return out;
}

const char *usb_class_name(uint8_t class, uint8_t subclass, uint8_t protocol,
			   char *buf, size_t size)
{
	if (class == USB_CLASS_HID && subclass == HID_SUBCLASS_BOOT &&
	    protocol == HID_PROTOCOL_KEYBOARD)
		return "boot keyboard";
	if (class == USB_CLASS_HID && subclass == HID_SUBCLASS_BOOT &&
	    protocol == HID_PROTOCOL_MOUSE)
		return "boot mouse";
	if (class == USB_CLASS_HID)
		return "HID device (no boot keyboard)";
	if (class == USB_CLASS_MASS_STORAGE)
		return "mass storage";
	if (class == USB_CLASS_HUB)
		return "hub";
	ksnprintf(buf, size, "class %02x/%02x/%02x", class, subclass, protocol);
	return buf;
}

uint64_t usb_setup_packet(uint8_t type, uint8_t request, uint16_t value, uint16_t index,
			  uint16_t length)
{
	return (uint64_t)type | (uint64_t)request << 8 | (uint64_t)value << 16 |
	       (uint64_t)index << 32 | (uint64_t)length << 48;
}
