/*
 * Pure xHCI helpers (include/kernel/xhci.h): capability decoding and
 * endpoint parameter arithmetic. No kernel state; host-tested by
 * tests/unit/test_usb.c.
 */
#include <stdint.h>
#include <kernel/format.h>
#include <kernel/xhci.h>

#define HCS2_SPB_HI_SHIFT       21
#define HCS2_SPB_LO_SHIFT       27
#define HCS2_SPB_MASK           0x1F
#define XHCI_INTERVAL_FS_MIN    3       /* 1 ms = 2^3 x 125 us */
#define XHCI_INTERVAL_FS_MAX    10      /* 128 ms: the largest power of two <= 255 ms */
#define XHCI_INTERVAL_HS_MAX    15
#define MICROFRAMES_PER_MS      8
#define HS_BINTERVAL_MAX        16
#define EP0_MAX_LS_FS           8
#define EP0_MAX_HS              64
#define EP0_MAX_SS              512

unsigned int xhci_scratchpads(uint32_t hcsparams2)
{
	return ((hcsparams2 >> HCS2_SPB_HI_SHIFT) & HCS2_SPB_MASK) << 5 |
	       ((hcsparams2 >> HCS2_SPB_LO_SHIFT) & HCS2_SPB_MASK);
}

uint32_t xhci_ext_cap_find(xhci_read_fn read, void *ctx, uint32_t xecp, uint32_t mmio_size,
			   uint8_t id, uint32_t after, bool *bad)
{
	uint32_t off = xecp * 4;

	if (bad)
		*bad = false;
	for (unsigned int i = 0; off; i++) {
		uint32_t v;

		if (i == XECP_MAX || mmio_size < 4 || off > mmio_size - 4) {
			if (bad)
				*bad = true;
			return 0;
		}
		v = read(ctx, off);
		if (off > after && XECP_ID(v) == id)
			return off;
		if (XECP_NEXT(v) == 0)
			return 0;
		off += XECP_NEXT(v) * 4;
	}
	return 0;
}

uint8_t xhci_interrupt_interval(unsigned int speed, uint8_t binterval)
{
	unsigned int frames, n = 0;

	if (speed == USB_SPEED_HIGH || speed >= USB_SPEED_SUPER) {
		/* bInterval 1..16: 2^(bInterval-1) microframes (USB 2.0, 9.6.6). */
		if (binterval == 0)
			binterval = 1;
		if (binterval > HS_BINTERVAL_MAX)
			binterval = HS_BINTERVAL_MAX;
		n = binterval - 1u;
		return (uint8_t)(n > XHCI_INTERVAL_HS_MAX ? XHCI_INTERVAL_HS_MAX : n);
	}
	/* Low and full speed: bInterval in ms, rounded down to a power of two (xHCI 6.2.3.6). */
	frames = (binterval ? binterval : 1u) * MICROFRAMES_PER_MS;
	while ((2u << n) <= frames)
		n++;
	if (n < XHCI_INTERVAL_FS_MIN)
		n = XHCI_INTERVAL_FS_MIN;
	if (n > XHCI_INTERVAL_FS_MAX)
		n = XHCI_INTERVAL_FS_MAX;
	return (uint8_t)n;
}

uint16_t xhci_ep0_max_packet(unsigned int speed)
{
	if (speed == USB_SPEED_HIGH)
		return EP0_MAX_HS;
	if (speed >= USB_SPEED_SUPER)
		return EP0_MAX_SS;
	return EP0_MAX_LS_FS;
}

uint16_t xhci_ep0_from_desc(unsigned int speed, uint8_t bmaxpacketsize0)
{
	if (speed >= USB_SPEED_SUPER)
		return bmaxpacketsize0 < 16 ? (uint16_t)(1u << bmaxpacketsize0) : EP0_MAX_SS;
	if (bmaxpacketsize0 == 8 || bmaxpacketsize0 == 16 || bmaxpacketsize0 == 32 ||
	    bmaxpacketsize0 == 64)
		return bmaxpacketsize0;
	return xhci_ep0_max_packet(speed);
}

const char *xhci_speed_name(unsigned int speed)
{
	switch (speed) {
	case USB_SPEED_FULL:            return "full";
	case USB_SPEED_LOW:             return "low";
	case USB_SPEED_HIGH:            return "high";
	case USB_SPEED_SUPER:           return "super";
	case USB_SPEED_SUPER_PLUS:      return "super+";
	default:                        return "unknown";
	}
}

const char *xhci_cc_name(unsigned int cc, char *buf, size_t size)
{
	switch (cc) {
	case CC_SUCCESS:                return "success";
	case CC_DATA_BUFFER:            return "data buffer error";
	case CC_BABBLE:                 return "babble";
	case CC_TRANSACTION:            return "transaction error";
	case CC_TRB:                    return "TRB error";
	case CC_STALL:                  return "stall";
	case CC_RESOURCE:               return "resource error";
	case CC_BANDWIDTH:              return "bandwidth error";
	case CC_NO_SLOTS:               return "no slots";
	case CC_SLOT_NOT_ENABLED:       return "slot not enabled";
	case CC_EP_NOT_ENABLED:         return "endpoint not enabled";
	case CC_SHORT_PACKET:           return "short packet";
	case CC_PARAMETER:              return "parameter error";
	case CC_CONTEXT_STATE:          return "context state error";
	case CC_EVENT_RING_FULL:        return "event ring full";
	default:
		ksnprintf(buf, size, "code %u", cc);
		return buf;
	}
}
