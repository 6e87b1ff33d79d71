/*
 * xHCI register, TRB and context layouts (eXtensible Host Controller
 * Interface for USB, revision 1.2, "xHCI" below), used by drivers/xhci.c,
 * and the pure helpers of drivers/xhci_calc.c (host-tested by
 * tests/unit/test_usb.c). docs/usb.md describes the driver.
 */
#ifndef KERNEL_XHCI_H
#define KERNEL_XHCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PCI class of an xHCI controller (xHCI 5.2.1). */
#define XHCI_PCI_CLASS          0x0C
#define XHCI_PCI_SUBCLASS       0x03
#define XHCI_PCI_PROGIF         0x30

/* Capability registers (xHCI 5.3). */
#define XHCI_CAPLENGTH          0x00    /* 8 bits */
#define XHCI_HCIVERSION         0x02    /* 16 bits */
#define XHCI_HCSPARAMS1         0x04
#define   HCS1_MAX_SLOTS(v)     ((v) & 0xFF)
#define   HCS1_MAX_PORTS(v)     (((v) >> 24) & 0xFF)
#define XHCI_HCSPARAMS2         0x08
#define XHCI_HCCPARAMS1         0x10
#define   HCC1_AC64             (1u << 0)       /* 64-bit addresses */
#define   HCC1_CSZ              (1u << 2)       /* 64-byte contexts */
#define   HCC1_PPC              (1u << 3)       /* port power control */
#define   HCC1_XECP(v)          (((v) >> 16) & 0xFFFF)  /* in dwords from the base */
#define XHCI_DBOFF              0x14
#define   DBOFF_MASK            0xFFFFFFFCu
#define XHCI_RTSOFF             0x18
#define   RTSOFF_MASK           0xFFFFFFE0u
#define XHCI_CAP_MIN_LEN        0x20    /* what a capability block at least holds */

/* Operational registers, from the base + CAPLENGTH (xHCI 5.4). */
#define XHCI_USBCMD             0x00
#define   USBCMD_RS             (1u << 0)
#define   USBCMD_HCRST          (1u << 1)
#define   USBCMD_INTE           (1u << 2)
#define XHCI_USBSTS             0x04
#define   USBSTS_HCH            (1u << 0)       /* halted */
#define   USBSTS_HSE            (1u << 2)       /* host system error */
#define   USBSTS_EINT           (1u << 3)
#define   USBSTS_PCD            (1u << 4)
#define   USBSTS_CNR            (1u << 11)      /* controller not ready */
#define   USBSTS_HCE            (1u << 12)      /* host controller error */
#define XHCI_PAGESIZE           0x08
#define   PAGESIZE_4K           (1u << 0)
#define XHCI_CRCR               0x18    /* 64 bits */
#define   CRCR_RCS              (1u << 0)
#define XHCI_DCBAAP             0x30    /* 64 bits */
#define XHCI_CONFIG             0x38
#define XHCI_PORTSC(n)          (0x400 + 0x10 * ((n) - 1))      /* ports from 1 */

/* PORTSC (xHCI 5.4.8). */
#define PORTSC_CCS              (1u << 0)       /* device connected */
#define PORTSC_PED              (1u << 1)       /* enabled; writing 1 disables */
#define PORTSC_PR               (1u << 4)       /* port reset */
#define PORTSC_PLS_SHIFT        5
#define PORTSC_PLS_MASK         (0xFu << PORTSC_PLS_SHIFT)
#define PORTSC_PP               (1u << 9)       /* port power */
#define PORTSC_SPEED_SHIFT      10
#define PORTSC_SPEED_MASK       (0xFu << PORTSC_SPEED_SHIFT)
#define PORTSC_PIC_MASK         (3u << 14)
#define PORTSC_CSC              (1u << 17)      /* RW1C change bits 17-23 */
#define PORTSC_PEC              (1u << 18)
#define PORTSC_WRC              (1u << 19)
#define PORTSC_OCC              (1u << 20)
#define PORTSC_PRC              (1u << 21)
#define PORTSC_PLC              (1u << 22)
#define PORTSC_CEC              (1u << 23)
#define PORTSC_CHANGE_BITS      (PORTSC_CSC | PORTSC_PEC | PORTSC_WRC | PORTSC_OCC | \
				 PORTSC_PRC | PORTSC_PLC | PORTSC_CEC)
#define PORTSC_WCE              (1u << 25)
#define PORTSC_WDE              (1u << 26)
#define PORTSC_WOE              (1u << 27)
#define PORTSC_WPR              (1u << 31)      /* warm reset (USB3) */
/* Bits that are written back as read: the rest are RW1C or W1S (xHCI 4.19.1 note). */
#define PORTSC_PRESERVE         (PORTSC_PP | PORTSC_PIC_MASK | PORTSC_WCE | PORTSC_WDE | \
				 PORTSC_WOE)
#define PLS_U0                  0
#define PLS_POLLING             7

/* Protocol speed IDs, default mapping (xHCI 7.2.2.1.1, table 7-13). */
#define USB_SPEED_FULL          1
#define USB_SPEED_LOW           2
#define USB_SPEED_HIGH          3
#define USB_SPEED_SUPER         4
#define USB_SPEED_SUPER_PLUS    5

/* Runtime registers, from the base + RTSOFF (xHCI 5.5); interrupter n at 0x20 + 32n. */
#define XHCI_IR0                0x20
#define XHCI_IMAN               0x00
#define   IMAN_IP               (1u << 0)       /* RW1C */
#define   IMAN_IE               (1u << 1)
#define XHCI_IMOD               0x04
#define XHCI_ERSTSZ             0x08
#define XHCI_ERSTBA             0x10    /* 64 bits: written last, low half first */
#define XHCI_ERDP               0x18    /* 64 bits */
#define   ERDP_EHB              (1u << 3)       /* event handler busy, RW1C */

/* Extended capabilities (xHCI 7). */
#define XECP_ID(v)              ((v) & 0xFF)
#define XECP_NEXT(v)            (((v) >> 8) & 0xFF)     /* in dwords */
#define XECP_ID_LEGACY          1
#define XECP_ID_PROTOCOL        2
#define XECP_MAX                64      /* a longer list is a loop */
/* USB Legacy Support (xHCI 7.1). */
#define USBLEGSUP_BIOS_OWNED    (1u << 16)
#define USBLEGSUP_OS_OWNED      (1u << 24)
#define USBLEGCTLSTS            0x04
#define   LEGCTL_SMI_ENABLES    ((1u << 0) | (1u << 4) | (1u << 13) | (1u << 14) | (1u << 15))
#define   LEGCTL_SMI_EVENTS     ((1u << 29) | (1u << 30) | (1u << 31))  /* RW1C */
/* Supported Protocol (xHCI 7.2). */
#define XPROTO_MAJOR(v)         (((v) >> 24) & 0xFF)
#define XPROTO_PORTS            0x08
#define   XPROTO_PORT_OFFSET(v) ((v) & 0xFF)
#define   XPROTO_PORT_COUNT(v)  (((v) >> 8) & 0xFF)

/* TRBs (xHCI 6.4). */
struct xhci_trb {
	uint64_t param;
	uint32_t status;
	uint32_t control;
};
_Static_assert(sizeof(struct xhci_trb) == 16, "TRB size (xHCI 6.4)");

#define TRB_CYCLE               (1u << 0)
#define TRB_ENT                 (1u << 1)
#define TRB_LINK_TC             (1u << 1)       /* link TRB: toggle cycle */
#define TRB_ISP                 (1u << 2)       /* interrupt on short packet */
#define TRB_CHAIN               (1u << 4)
#define TRB_IOC                 (1u << 5)       /* interrupt on completion */
#define TRB_IDT                 (1u << 6)       /* immediate data (setup) */
#define TRB_BSR                 (1u << 9)       /* Address Device: block SET_ADDRESS */
#define TRB_TYPE_SHIFT          10
#define TRB_TYPE(t)             ((uint32_t)(t) << TRB_TYPE_SHIFT)
#define TRB_TYPE_OF(ctl)        (((ctl) >> TRB_TYPE_SHIFT) & 0x3F)
#define TRB_DIR_IN              (1u << 16)      /* data and status stages */
#define TRB_TRT_SHIFT           16              /* setup stage transfer type */
#define   TRT_NO_DATA           0
#define   TRT_OUT_DATA          2
#define   TRT_IN_DATA           3
#define TRB_EP_SHIFT            16              /* endpoint ID (DCI) in commands and events */
#define TRB_SLOT_SHIFT          24
#define TRB_LEN_MASK            0x1FFFF
#define TRB_EVT_LEN_MASK        0xFFFFFF        /* transfer event: residual bytes */
#define TRB_CC(status)          ((status) >> 24)
#define TRB_PORT_ID(param)      (((param) >> 24) & 0xFF)

enum xhci_trb_type {
	TRB_NORMAL = 1, TRB_SETUP = 2, TRB_DATA = 3, TRB_STATUS = 4, TRB_LINK = 6,
	TRB_ENABLE_SLOT = 9, TRB_DISABLE_SLOT = 10, TRB_ADDRESS_DEVICE = 11,
	TRB_CONFIGURE_EP = 12, TRB_EVALUATE_CTX = 13, TRB_RESET_EP = 14,
	TRB_SET_TR_DEQUEUE = 16, TRB_NOOP_CMD = 23,
	TRB_TRANSFER_EVENT = 32, TRB_COMMAND_COMPLETION = 33, TRB_PORT_STATUS_CHANGE = 34,
	TRB_HOST_CONTROLLER_EVENT = 37,
};

/* Completion codes (xHCI 6.4.5, table 6-90), the ones the driver names. */
enum xhci_cc {
	CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_BABBLE = 3, CC_TRANSACTION = 4, CC_TRB = 5,
	CC_STALL = 6, CC_RESOURCE = 7, CC_BANDWIDTH = 8, CC_NO_SLOTS = 9,
	CC_SLOT_NOT_ENABLED = 11, CC_EP_NOT_ENABLED = 12, CC_SHORT_PACKET = 13,
	CC_PARAMETER = 17, CC_CONTEXT_STATE = 19, CC_EVENT_RING_FULL = 21,
};

/* Event Ring Segment Table entry (xHCI 6.5). */
struct xhci_erst_entry {
	uint64_t base;
	uint32_t size;          /* TRBs, 16..4096 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct xhci_erst_entry) == 16, "ERST entry (xHCI 6.5)");

/* Contexts (xHCI 6.2), as dwords; 32 bytes each, or 64 with HCC1_CSZ. */
#define XHCI_CTX_DWORDS         8
#define XHCI_INPUT_DROP         0       /* input control context dword 0 */
#define XHCI_INPUT_ADD          1
#define   INPUT_ADD_SLOT        (1u << 0)
#define   INPUT_ADD_EP(dci)     (1u << (dci))
/* Slot context. */
#define SLOT_CTX_ROUTE_MASK     0xFFFFF                 /* dword 0 */
#define SLOT_CTX_SPEED(s)       ((uint32_t)(s) << 20)
#define SLOT_CTX_ENTRIES(n)     ((uint32_t)(n) << 27)
#define SLOT_CTX_ENTRIES_MASK   (0x1Fu << 27)
#define SLOT_CTX_MTT            (1u << 25)
#define SLOT_CTX_HUB            (1u << 26)
#define SLOT_CTX_ROOT_PORT(p)   ((uint32_t)(p) << 16)   /* dword 1 */
#define SLOT_CTX_NPORTS(n)      ((uint32_t)(n) << 24)
#define SLOT_CTX_TT_SLOT(s)     ((uint32_t)(s))         /* dword 2 */
#define SLOT_CTX_TT_PORT(p)     ((uint32_t)(p) << 8)
#define SLOT_CTX_TTT(t)         ((uint32_t)(t) << 16)
#define XHCI_ROUTE_TIERS        5       /* route string: 5 hub tiers of 4 bits */
#define XHCI_ROUTE_PORT_MAX     15
/* Endpoint context. */
#define EP_CTX_INTERVAL(i)      ((uint32_t)(i) << 16)   /* dword 0 */
#define EP_CTX_CERR(n)          ((uint32_t)(n) << 1)    /* dword 1 */
#define EP_CTX_TYPE(t)          ((uint32_t)(t) << 3)
#define EP_CTX_MAX_BURST(b)     ((uint32_t)(b) << 8)
#define EP_CTX_MAX_PACKET(m)    ((uint32_t)(m) << 16)
#define EP_CTX_MAX_PACKET_MASK  (0xFFFFu << 16)
#define EP_CTX_DCS              1u                      /* dword 2: dequeue cycle state */
#define EP_CTX_AVG_TRB(n)       ((uint32_t)(n))         /* dword 4 */
#define EP_CTX_MAX_ESIT_LO(n)   ((uint32_t)(n) << 16)
#define EP_TYPE_CONTROL         4
#define EP_TYPE_INTERRUPT_IN    7
#define XHCI_CERR_MAX           3
#define XHCI_DCI_EP0            1
#define XHCI_DOORBELL_CMD       0       /* doorbell 0 target: the command ring */

/* DCBAA entries (xHCI 6.1): slot 0 holds the scratchpad array. */
#define XHCI_DCBAA_ENTRIES      256

/* ------------------------------------------------------------ pure helpers */

/* Max Scratchpad Buffers from HCSPARAMS2 (xHCI 5.3.4: Hi 25:21, Lo 31:27). */
unsigned int xhci_scratchpads(uint32_t hcsparams2);

/* Reads the dword at a byte offset into the register block; ctx is the driver's. */
typedef uint32_t (*xhci_read_fn)(void *ctx, uint32_t off);

/*
 * Byte offset of the next extended capability with `id` after `after`
 * (0: from the start, xecp dwords from the base), or 0 when there is
 * none. A list that leaves the mmio_size-byte register block or loops
 * ends the walk; *bad is then set (may be NULL).
 */
uint32_t xhci_ext_cap_find(xhci_read_fn read, void *ctx, uint32_t xecp, uint32_t mmio_size,
			   uint8_t id, uint32_t after, bool *bad);

/* Interrupt endpoint context Interval (2^n x 125 us, xHCI 6.2.3.6) from bInterval at speed. */
uint8_t xhci_interrupt_interval(unsigned int speed, uint8_t binterval);
/* The default control endpoint's max packet size before the device descriptor is read. */
uint16_t xhci_ep0_max_packet(unsigned int speed);
/* bMaxPacketSize0 of a device at speed to bytes (SuperSpeed gives an exponent). */
uint16_t xhci_ep0_from_desc(unsigned int speed, uint8_t bmaxpacketsize0);
/* "full", "low", "high", "super", "super+" or "unknown". */
const char *xhci_speed_name(unsigned int speed);
/* "stall", "transaction error", ... or "code N" into buf. */
const char *xhci_cc_name(unsigned int cc, char *buf, size_t size);

#endif
