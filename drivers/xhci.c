/*
 * xHCI host controller driver for USB boot keyboards (docs/usb.md).
 *
 * At boot, for every PCI function of class 0C/03/30: map BAR0, take the
 * controller from the firmware (USB Legacy Support capability), halt and
 * reset it, give it a device context array, scratchpad buffers, a command
 * ring and one event ring segment on interrupter 0, and run it. Then every
 * root port with a device connected is reset (USB2) or found enabled
 * (USB3), the device gets a slot and an address, and its descriptors are
 * read on the default control endpoint. A HID boot keyboard is configured
 * (SET_CONFIGURATION, SET_PROTOCOL boot, SET_IDLE) with its interrupt IN
 * endpoint, on which one Normal TRB is always queued: each 8-byte report
 * arrives as a Transfer Event and goes to the keyboard layer
 * (kbd_boot_report, kernel/keyboard.c). Anything else is reported and
 * skipped.
 *
 * Set-up polls the event ring with bounded waits (drivers/clock.c time);
 * afterwards events arrive by MSI-X or MSI on VEC_USB (boot CPU), or, for a
 * controller with neither, a kernel thread polls every XHCI_POLL_MS.
 * All DMA memory is below 4 GiB (pmm_alloc_frames_low), reached through
 * the direct map; x86 DMA is cache coherent.
 */
#include <stdarg.h>
#include <stdint.h>
#include <arch/lapic.h>
#include <arch/mmu.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/cmdline.h>
#include <kernel/errno.h>
#include <kernel/format.h>
#include <kernel/kernel.h>
#include <kernel/keyboard.h>
#include <kernel/pci.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/time.h>
#include <kernel/usb.h>
#include <kernel/wait.h>
#include <kernel/xhci.h>

#define XHCI_MAX_CONTROLLERS    4
#define XHCI_MAX_DEVICES        16      /* per controller */
#define XHCI_MAX_SLOTS_USED     32      /* CONFIG.MaxSlotsEn at most */
#define XHCI_RING_TRBS          (PMM_FRAME_SIZE / sizeof(struct xhci_trb))  /* last: link */
#define XHCI_EVENT_TRBS         (PMM_FRAME_SIZE / sizeof(struct xhci_trb))
#define XHCI_SCRATCH_PER_PAGE   (PMM_FRAME_SIZE / sizeof(uint64_t))
#define XHCI_CTL_BUF_LEN        3072    /* control data; the report buffer follows */
#define XHCI_REPORT_OFF         XHCI_CTL_BUF_LEN
#define XHCI_REPORT_MAX         1024    /* largest interrupt packet taken */
#define XHCI_BATCH              16      /* reports handed on per pass */
#define XHCI_NAME_LEN           40
#define XHCI_PATH_LEN           16
#define XHCI_HUB_DESC_MAX       71      /* 7 bytes + two 32-byte port bitmaps (255 ports) */
#define XHCI_HUB_POLL_MS        10      /* between port status reads during a hub port reset */
#define USB_STRING_MAX          255

/* Bounded waits (ms). The spec's figures are far smaller; these are generous ceilings. */
#define XHCI_HANDOFF_MS         1000    /* firmware releasing the controller */
#define XHCI_CNR_MS             1000    /* controller ready after power-on or reset */
#define XHCI_HALT_MS            100     /* xHCI 5.4.1: halts within 16 ms of R/S = 0 */
#define XHCI_RESET_MS           1000    /* HCRST clears */
#define XHCI_RUN_MS             100     /* HCH clears after R/S = 1 */
#define XHCI_PORT_POWER_MS      20      /* power good after PP (USB 2.0 11.11 bPwrOn2PwrGood) */
#define XHCI_PORT_RESET_MS      500     /* PRC after PR (USB 2.0 TDRST is 10-20 ms) */
#define XHCI_RESET_RECOVERY_MS  10      /* USB 2.0 7.1.7.3 TRSTRCY */
#define XHCI_PORT_SETTLE_MS     100     /* after R/S = 1, before ports are read */
#define XHCI_CMD_MS             500     /* command completion */
#define XHCI_CTL_MS             500     /* control transfer (USB 2.0 9.2.6.4: 500 ms / 5 s) */
#define XHCI_POLL_MS            8       /* polling fallback period */
/* Typematic repeat, which HID leaves to the host: a PC's default delay and about 30/s. */
#define KBD_REPEAT_DELAY_MS     500
#define KBD_REPEAT_PERIOD_MS    33

struct xhci_ring {
	volatile struct xhci_trb *trb;
	uint64_t pa;
	uint32_t enq;
	uint32_t cycle;
};

struct xhci;

/* Where a device is: its root port and the hubs between (xHCI 4.3.3, 8.9). */
struct usb_loc {
	uint8_t root_port;
	uint8_t speed;
	uint8_t depth;                  /* hubs above it */
	uint32_t route;                 /* route string: the hub port of tier n in bits 4n+3:4n */
	uint8_t tt_slot, tt_port;       /* the high-speed hub whose TT a LS/FS device uses */
	char path[XHCI_PATH_LEN];       /* "5", "8.1": root port, then each hub's port */
};

struct usb_device {
	struct xhci *hc;
	uint8_t slot, port, speed;      /* port: the root port */
	struct usb_loc loc;
	bool is_hub;
	volatile uint32_t *in_ctx, *out_ctx;
	uint64_t in_pa, out_pa;
	struct xhci_ring ep0, intr;
	volatile uint8_t *buf;  /* control data at 0, the report at XHCI_REPORT_OFF */
	uint64_t buf_pa;
	char name[XHCI_NAME_LEN];

	/* Control transfer in flight; written under hc->lock. */
	volatile bool ctl_done;
	uint8_t ctl_cc;
	uint32_t ctl_residual;
	uint64_t ctl_data_pa, ctl_status_pa;

	/* Keyboard: set up before reports may arrive, then read under hc->lock. */
	bool keyboard;
	bool kbd_stopped;
	bool leds_failed;               /* a LED report failed: no more are sent */
	uint8_t last_rep[KBD_BOOT_REPORT_LEN];  /* the report before, for the repeat */
	uint8_t held;                   /* key repeating while held (0: none) */
	uint64_t repeat_at;             /* time_ns() of its next repeat */
	uint8_t kbd_interface;
	uint8_t kbd_dci;
	uint16_t kbd_len;
	struct kbd_report kstate;       /* the layer's diff state (under its own lock) */
	uint64_t reports;
};

struct xhci {
	const struct pci_dev *pci;
	char bdf[PCI_BDF_LEN];
	volatile uint8_t *base, *op, *rt, *db;
	uint64_t mmio_pa, mmio_size;
	uint32_t hcc1;
	unsigned int max_slots, max_ports, ctx_dwords;
	uint8_t port_major[256];        /* USB major revision of each port (Supported Protocol) */
	volatile uint64_t *dcbaa;
	uint64_t dcbaa_pa;
	uint64_t scratch_pa;            /* the scratchpad array, or 0 */
	unsigned int nscratch;
	struct xhci_ring cmd;
	volatile struct xhci_trb *evt;
	uint64_t evt_pa, erst_pa;
	uint32_t evt_deq, evt_cycle;
	spinlock_t lock;                /* event ring, rings, completion fields */

	volatile bool cmd_done;
	uint64_t cmd_pa;
	uint8_t cmd_cc, cmd_slot;

	struct usb_device *by_slot[256];
	struct usb_device devs[XHCI_MAX_DEVICES];
	bool dev_used[XHCI_MAX_DEVICES];
	const char *irq_how;            /* "MSI-X", "MSI" or NULL: polled */
	volatile bool running;          /* set-up done: interrupts or the poller service it */
	volatile bool port_changed[256];        /* connect changes for the hotplug thread */
	volatile bool hotplug;          /* some port_changed[] set since the last wake-up */
	volatile bool repeat_wake;      /* a key started being held: wake the repeat thread */
	bool dead;                      /* stopped answering; left alone */
	unsigned int keyboards, devices;
};

struct pending_report {
	struct usb_device *d;
	uint8_t rep[KBD_BOOT_REPORT_LEN];
};

static bool leds_registered;
/*
 * Fault injection (usb_fault=commands): the command doorbell is never rung,
 * so every controller looks like one whose command ring does not answer.
 */
static bool fault_commands;
static struct wait_queue repeat_wq = WAIT_QUEUE_INIT("usb_repeat");
static volatile uint32_t repeat_gen;    /* bumped when a key starts being held */
static struct wait_queue hotplug_wq = WAIT_QUEUE_INIT("usb_hotplug");
static volatile uint32_t hotplug_gen;   /* bumped for each batch of connect changes */
static struct xhci controllers[XHCI_MAX_CONTROLLERS];
static unsigned int ncontrollers;
static unsigned int nkeyboards;

unsigned int usb_keyboards(void)
{
	return nkeyboards;
}

/* ------------------------------------------------------------ registers */

static uint32_t rd(volatile uint8_t *b, uint32_t off)
{
	return *(volatile uint32_t *)(b + off);
}

static void wr(volatile uint8_t *b, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(b + off) = v;
}

/* 64-bit registers as two dwords, low first (the high write commits on QEMU's CRCR/ERSTBA). */
static void wr64(volatile uint8_t *b, uint32_t off, uint64_t v)
{
	wr(b, off, (uint32_t)v);
	wr(b, off + 4, (uint32_t)(v >> 32));
}

static uint32_t cap_read(void *ctx, uint32_t off)
{
	return rd(((struct xhci *)ctx)->base, off);
}

/* Waits until (reg & mask) == want, at most ms; the last read decides. */
static bool wait_reg(volatile uint8_t *b, uint32_t off, uint32_t mask, uint32_t want, uint64_t ms)
{
	uint64_t deadline = time_ns() + ms * NS_PER_MS;

	while ((rd(b, off) & mask) != want) {
		if (time_ns() > deadline)
			return (rd(b, off) & mask) == want;
		cpu_relax();
	}
	return true;
}

static void doorbell(struct xhci *hc, unsigned int slot, uint32_t target)
{
	wr(hc->db, slot * 4, target);
}

/* ------------------------------------------------------------ memory and rings */

static uint64_t dma_page(void)
{
	uint64_t pa = pmm_alloc_frames_low(0);

	if (pa)
		memset(phys_to_virt(pa), 0, PMM_FRAME_SIZE);
	return pa;
}

static void dma_free(uint64_t pa)
{
	if (pa)
		pmm_free_frame(pa);
}

static int ring_init(struct xhci_ring *r)
{
	uint64_t pa = dma_page();
	volatile struct xhci_trb *link;

	if (!pa)
		return -ENOMEM;
	r->trb = phys_to_virt(pa);
	r->pa = pa;
	r->enq = 0;
	r->cycle = 1;
	link = &r->trb[XHCI_RING_TRBS - 1];
	link->param = pa;
	link->control = TRB_TYPE(TRB_LINK) | TRB_LINK_TC;       /* cycle 0: not yet the HC's */
	return 0;
}

/* Writes one TRB (the cycle bit last) and returns its physical address. Caller holds hc->lock. */
static uint64_t ring_push(struct xhci_ring *r, uint64_t param, uint32_t status, uint32_t control)
{
	volatile struct xhci_trb *t = &r->trb[r->enq];
	uint64_t pa = r->pa + r->enq * sizeof(struct xhci_trb);

	t->param = param;
	t->status = status;
	__asm__ volatile("" ::: "memory");     /* x86 keeps stores in order; the compiler must too */
	t->control = (control & ~TRB_CYCLE) | r->cycle;
	if (++r->enq == XHCI_RING_TRBS - 1) {
		volatile struct xhci_trb *link = &r->trb[r->enq];
		link->control = (link->control & ~TRB_CYCLE) | r->cycle;
		r->enq = 0;
		r->cycle ^= 1;
	}
	return pa;
}

/* ------------------------------------------------------------ events */

static void ctl_event(struct usb_device *d, uint64_t param, uint32_t status)
{
	uint8_t cc = (uint8_t)TRB_CC(status);
	char ccbuf[16];

	/* Once it is a keyboard, EP0 carries only the LED reports, which nothing waits for. */
	if (d->keyboard) {
		if (cc != CC_SUCCESS && !d->leds_failed) {
			d->leds_failed = true;
			kprintf("usb: %s: LED report: %s; LEDs no longer set\n", d->name,
				xhci_cc_name(cc, ccbuf, sizeof(ccbuf)));
		}
		return;
	}

	if (param == d->ctl_data_pa && (cc == CC_SUCCESS || cc == CC_SHORT_PACKET)) {
		d->ctl_residual = status & TRB_EVT_LEN_MASK;
		return;                 /* the status stage completes the transfer */
	}
	if (param != d->ctl_status_pa && cc == CC_SUCCESS)
		return;
	d->ctl_cc = cc;
	d->ctl_done = true;
}

/*
 * SET_REPORT(output) with the LED bits as the data stage's immediate data
 * (xHCI 6.4.1.2.2: IDT for OUT data of at most 8 bytes); not waited for.
 * Caller holds hc->lock.
 */
static void kbd_set_leds(struct usb_device *d, uint8_t leds)
{
	if (!d->keyboard || d->kbd_stopped || d->leds_failed || d->hc->dead)
		return;
	ring_push(&d->ep0, usb_setup_packet(USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE,
					    HID_REQ_SET_REPORT, HID_REPORT_OUTPUT << 8,
					    d->kbd_interface, HID_LED_REPORT_LEN),
		  USB_SETUP_LEN, TRB_TYPE(TRB_SETUP) | TRB_IDT | TRT_OUT_DATA << TRB_TRT_SHIFT);
	ring_push(&d->ep0, leds, HID_LED_REPORT_LEN, TRB_TYPE(TRB_DATA) | TRB_IDT);
	ring_push(&d->ep0, 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC | TRB_DIR_IN);
	doorbell(d->hc, d->slot, XHCI_DCI_EP0);
}

/* The keyboard layer's LED listener: every USB keyboard shows the lock state. */
static void xhci_leds(uint8_t leds)
{
	for (unsigned int i = 0; i < ncontrollers; i++) {
		struct xhci *hc = &controllers[i];
		uint64_t flags;

		if (hc->dead)
			continue;
		flags = spin_lock_irqsave(&hc->lock);
		for (unsigned int j = 0; j < XHCI_MAX_DEVICES; j++)
			if (hc->dev_used[j])
				kbd_set_leds(&hc->devs[j], leds);
		spin_unlock_irqrestore(&hc->lock, flags);
	}
}

static void kbd_queue(struct usb_device *d)
{
	ring_push(&d->intr, d->buf_pa + XHCI_REPORT_OFF, d->kbd_len,
		  TRB_TYPE(TRB_NORMAL) | TRB_IOC | TRB_ISP);
	doorbell(d->hc, d->slot, d->kbd_dci);
}

/* One report: copied out for the keyboard layer, and the next TRB queued. */
static bool report_has(const uint8_t rep[KBD_BOOT_REPORT_LEN], uint8_t usage)
{
	for (unsigned int i = KBD_REPORT_KEYS; i < KBD_REPORT_KEYS + KBD_REPORT_NKEYS; i++)
		if (rep[i] == usage)
			return true;
	return false;
}

static bool repeats(uint8_t usage)
{
	return usage > HID_KEY_ERR_UNDEFINED && usage != HID_KEY_CAPSLOCK &&
	       usage != HID_KEY_NUMLOCK && usage != HID_KEY_SCROLLLOCK;
}

/* The key pressed last repeats until it is released (caller holds hc->lock). */
static void track_repeat(struct usb_device *d, const uint8_t rep[KBD_BOOT_REPORT_LEN])
{
	uint8_t newest = 0;

	if (rep[KBD_REPORT_KEYS] == HID_KEY_ERR_ROLLOVER)
		return;         /* a phantom state: nothing changed */
	for (unsigned int i = KBD_REPORT_KEYS; i < KBD_REPORT_KEYS + KBD_REPORT_NKEYS; i++)
		if (repeats(rep[i]) && !report_has(d->last_rep, rep[i]))
			newest = rep[i];
	if (newest) {
		d->held = newest;
		d->repeat_at = time_ns() + KBD_REPEAT_DELAY_MS * NS_PER_MS;
		d->hc->repeat_wake = true;
	} else if (d->held && !report_has(rep, d->held)) {
		d->held = 0;
	}
	memcpy(d->last_rep, rep, KBD_BOOT_REPORT_LEN);
}

static bool kbd_event(struct usb_device *d, uint32_t status, struct pending_report *out)
{
	uint8_t cc = (uint8_t)TRB_CC(status);
	uint32_t residual = status & TRB_EVT_LEN_MASK, n;
	char ccbuf[16];

	if (d->kbd_stopped)
		return false;
	if (cc != CC_SUCCESS && cc != CC_SHORT_PACKET) {
		d->kbd_stopped = true;
		kprintf("usb: %s: keyboard endpoint: %s; keyboard stopped\n", d->name,
			xhci_cc_name(cc, ccbuf, sizeof(ccbuf)));
		return false;
	}
	n = residual < d->kbd_len ? d->kbd_len - residual : 0;
	if (n > KBD_BOOT_REPORT_LEN)
		n = KBD_BOOT_REPORT_LEN;
	memset(out->rep, 0, sizeof(out->rep));
	for (uint32_t i = 0; i < n; i++)
		out->rep[i] = d->buf[XHCI_REPORT_OFF + i];
	out->d = d;
	d->reports++;
	if (n > 0)
		track_repeat(d, out->rep);
	kbd_queue(d);
	return n > 0;
}

static void port_event(struct xhci *hc, unsigned int port)
{
	uint32_t sc;

	if (port == 0 || port > hc->max_ports)
		return;
	sc = rd(hc->op, XHCI_PORTSC(port));
	/*
	 * Acknowledge the changes (RW1C) but the reset ones: port_enable() may be
	 * waiting for PRC on another CPU, and clears every change bit itself.
	 */
	wr(hc->op, XHCI_PORTSC(port), (sc & PORTSC_PRESERVE) |
	   (sc & PORTSC_CHANGE_BITS & ~(PORTSC_PRC | PORTSC_WRC)));
	if (hc->running && (sc & PORTSC_CSC)) {
		hc->port_changed[port] = true;  /* for the hotplug thread */
		hc->hotplug = true;
	}
}

/* Consumes events; up to max reports are left in out. Caller holds hc->lock. */
static size_t process_events(struct xhci *hc, struct pending_report *out, size_t max)
{
	size_t n = 0;

	while (n < max) {
		volatile struct xhci_trb *ev = &hc->evt[hc->evt_deq];
		uint32_t control = ev->control, status;
		uint64_t param;
		struct usb_device *d;

		if ((control & TRB_CYCLE) != hc->evt_cycle)
			break;
		__asm__ volatile("" ::: "memory");
		param = ev->param;
		status = ev->status;
		switch (TRB_TYPE_OF(control)) {
		case TRB_COMMAND_COMPLETION:
			if (param == hc->cmd_pa && !hc->cmd_done) {
				hc->cmd_cc = (uint8_t)TRB_CC(status);
				hc->cmd_slot = (uint8_t)(control >> TRB_SLOT_SHIFT);
				hc->cmd_done = true;
			}
			break;
		case TRB_TRANSFER_EVENT:
			d = hc->by_slot[(uint8_t)(control >> TRB_SLOT_SHIFT)];
			if (!d)
				break;
			if (((control >> TRB_EP_SHIFT) & 0x1F) == XHCI_DCI_EP0)
				ctl_event(d, param, status);
			else if (d->keyboard && ((control >> TRB_EP_SHIFT) & 0x1F) == d->kbd_dci &&
				 kbd_event(d, status, &out[n]))
				n++;
			break;
		case TRB_PORT_STATUS_CHANGE:
			port_event(hc, TRB_PORT_ID(param));
			break;
		case TRB_HOST_CONTROLLER_EVENT:
			kprintf("usb: xhci %s: host controller event, code %u\n", hc->bdf,
				TRB_CC(status));
			break;
		default:
			break;
		}
		if (++hc->evt_deq == XHCI_EVENT_TRBS) {
			hc->evt_deq = 0;
			hc->evt_cycle ^= 1;
		}
	}
	/* The new dequeue pointer, and EHB cleared so the next event interrupts again. */
	wr(hc->rt, XHCI_IR0 + XHCI_ERDP + 4, (uint32_t)((hc->evt_pa >> 32)));
	wr(hc->rt, XHCI_IR0 + XHCI_ERDP, (uint32_t)(hc->evt_pa + hc->evt_deq *
				sizeof(struct xhci_trb)) | ERDP_EHB);
	return n;
}

/* Drain the event ring; reports go to the keyboard layer outside the controller's lock. */
static void xhci_service(struct xhci *hc)
{
	struct pending_report batch[XHCI_BATCH];
	size_t n;

	do {
		uint64_t flags = spin_lock_irqsave(&hc->lock);
		n = process_events(hc, batch, XHCI_BATCH);
		spin_unlock_irqrestore(&hc->lock, flags);
		for (size_t i = 0; i < n; i++)
			kbd_boot_report(&batch[i].d->kstate, batch[i].rep);
	} while (n == XHCI_BATCH);
	if (__atomic_exchange_n(&hc->repeat_wake, false, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&repeat_gen, 1, __ATOMIC_SEQ_CST);
		wake_up_all(&repeat_wq);
	}
	if (__atomic_exchange_n(&hc->hotplug, false, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&hotplug_gen, 1, __ATOMIC_SEQ_CST);
		wake_up_all(&hotplug_wq);
	}
}

static void xhci_irq(struct trap_frame *tf)
{
	(void)tf;
	for (unsigned int i = 0; i < ncontrollers; i++) {
		struct xhci *hc = &controllers[i];

		if (!hc->running || !hc->irq_how)
			continue;
		wr(hc->rt, XHCI_IR0 + XHCI_IMAN, IMAN_IE | IMAN_IP);
		wr(hc->op, XHCI_USBSTS, USBSTS_EINT);
		xhci_service(hc);
	}
}

static void xhci_poll_thread(void *arg)
{
	(void)arg;
	for (;;) {
		for (unsigned int i = 0; i < ncontrollers; i++)
			if (controllers[i].running && !controllers[i].irq_how)
				xhci_service(&controllers[i]);
		sleep_ms(XHCI_POLL_MS);
	}
}

/* Services the controller until *flag is set, at most ms. */
static bool wait_flag(struct xhci *hc, volatile bool *flag, uint64_t ms)
{
	uint64_t deadline = time_ns() + ms * NS_PER_MS;

	for (;;) {
		xhci_service(hc);
		if (*flag)
			return true;
		if (time_ns() > deadline)
			return false;
		cpu_relax();
	}
}

/* ------------------------------------------------------------ commands and transfers */

static const char *cmd_name(uint32_t type)
{
	switch (type) {
	case TRB_ENABLE_SLOT:           return "Enable Slot";
	case TRB_DISABLE_SLOT:          return "Disable Slot";
	case TRB_ADDRESS_DEVICE:        return "Address Device";
	case TRB_CONFIGURE_EP:          return "Configure Endpoint";
	case TRB_EVALUATE_CTX:          return "Evaluate Context";
	case TRB_RESET_EP:              return "Reset Endpoint";
	case TRB_SET_TR_DEQUEUE:        return "Set TR Dequeue Pointer";
	default:                        return "command";
	}
}

/*
 * Runs one command: its completion code (CC_*), or -ETIMEDOUT, after which
 * the controller is marked dead (a command ring that does not answer
 * cannot be trusted with the next one).
 */
static int xhci_command(struct xhci *hc, uint64_t param, uint32_t control, uint8_t *slot)
{
	uint64_t flags;

	if (hc->dead)
		return -EIO;
	flags = spin_lock_irqsave(&hc->lock);
	hc->cmd_done = false;
	hc->cmd_pa = ring_push(&hc->cmd, param, 0, control);
	spin_unlock_irqrestore(&hc->lock, flags);
	if (!fault_commands)
		doorbell(hc, 0, XHCI_DOORBELL_CMD);
	if (!wait_flag(hc, &hc->cmd_done, XHCI_CMD_MS)) {
		kprintf("usb: xhci %s: %s command not completed in %u ms; controller skipped\n",
			hc->bdf, cmd_name(TRB_TYPE_OF(control)), XHCI_CMD_MS);
		hc->dead = true;
		return -ETIMEDOUT;
	}
	if (slot)
		*slot = hc->cmd_slot;
	return hc->cmd_cc;
}

static uint32_t slot_cmd(uint32_t type, uint8_t slot)
{
	return TRB_TYPE(type) | (uint32_t)slot << TRB_SLOT_SHIFT;
}

/*
 * One control transfer on the default endpoint, data in d->buf: 0 and the
 * bytes moved, -ETIMEDOUT (no answer) or -EIO (*cc says why).
 */
static int usb_control(struct usb_device *d, uint8_t type, uint8_t req, uint16_t value,
		       uint16_t index, uint16_t len, size_t *actual, uint8_t *cc)
{
	struct xhci *hc = d->hc;
	bool in = type & USB_DIR_IN;
	uint32_t trt = len == 0 ? TRT_NO_DATA : in ? TRT_IN_DATA : TRT_OUT_DATA;
	uint64_t flags;

	if (len > XHCI_CTL_BUF_LEN || hc->dead)
		return -EINVAL;
	flags = spin_lock_irqsave(&hc->lock);
	d->ctl_done = false;
	d->ctl_residual = 0;
	d->ctl_data_pa = 0;
	ring_push(&d->ep0, usb_setup_packet(type, req, value, index, len), USB_SETUP_LEN,
		  TRB_TYPE(TRB_SETUP) | TRB_IDT | trt << TRB_TRT_SHIFT);
	if (len)
		d->ctl_data_pa = ring_push(&d->ep0, d->buf_pa, len, TRB_TYPE(TRB_DATA) | TRB_ISP |
					   (in ? TRB_DIR_IN : 0));
	/* The status stage runs opposite to the data stage, IN when there is none. */
	d->ctl_status_pa = ring_push(&d->ep0, 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC |
				     (len && in ? 0 : TRB_DIR_IN));
	spin_unlock_irqrestore(&hc->lock, flags);
	doorbell(hc, d->slot, XHCI_DCI_EP0);
	if (!wait_flag(hc, &d->ctl_done, XHCI_CTL_MS))
		return -ETIMEDOUT;
	*cc = d->ctl_cc;
	if (d->ctl_cc != CC_SUCCESS)
		return -EIO;
	if (actual)
		*actual = len - (d->ctl_residual < len ? d->ctl_residual : len);
	return 0;
}

/* A control request the device must answer; reports the failure in one line. */
static int control_or_report(struct usb_device *d, const char *what, uint8_t type, uint8_t req,
			     uint16_t value, uint16_t index, uint16_t len, size_t *actual)
{
	uint8_t cc = 0;
	char ccbuf[16];
	int rc = usb_control(d, type, req, value, index, len, actual, &cc);

	if (rc == -ETIMEDOUT)
		kprintf("usb: %s: %s: no answer in %u ms; device skipped\n", d->name, what,
			XHCI_CTL_MS);
	else if (rc < 0)
		kprintf("usb: %s: %s: %s; device skipped\n", d->name, what,
			xhci_cc_name(cc, ccbuf, sizeof(ccbuf)));
	return rc;
}

static int get_descriptor(struct usb_device *d, const char *what, uint8_t dtype, uint8_t idx,
			  uint16_t lang, uint16_t len, size_t *actual)
{
	return control_or_report(d, what, USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
				 USB_REQ_GET_DESCRIPTOR, (uint16_t)(dtype << 8 | idx), lang, len,
				 actual);
}

/* ------------------------------------------------------------ devices */

static volatile uint32_t *in_ctx(struct usb_device *d, unsigned int idx)
{
	return d->in_ctx + idx * d->hc->ctx_dwords;
}

static volatile uint32_t *out_ctx(struct usb_device *d, unsigned int idx)
{
	return d->out_ctx + idx * d->hc->ctx_dwords;
}

static void clear_input(struct usb_device *d)
{
	memset((void *)d->in_ctx, 0, PMM_FRAME_SIZE);
}

static struct usb_device *dev_alloc(struct xhci *hc)
{
	for (unsigned int i = 0; i < XHCI_MAX_DEVICES; i++)
		if (!hc->dev_used[i]) {
			struct usb_device *d = &hc->devs[i];

			memset(d, 0, sizeof(*d));
			d->hc = hc;
			d->in_pa = dma_page();
			d->out_pa = dma_page();
			d->buf_pa = dma_page();
			if (!d->in_pa || !d->out_pa || !d->buf_pa || ring_init(&d->ep0) < 0 ||
			    ring_init(&d->intr) < 0) {
				dma_free(d->in_pa);
				dma_free(d->out_pa);
				dma_free(d->buf_pa);
				dma_free(d->ep0.pa);
				dma_free(d->intr.pa);
				return NULL;
			}
			d->in_ctx = phys_to_virt(d->in_pa);
			d->out_ctx = phys_to_virt(d->out_pa);
			d->buf = phys_to_virt(d->buf_pa);
			hc->dev_used[i] = true;
			return d;
		}
	return NULL;
}

/* A device that is skipped: slot disabled (stops its endpoints), memory back. */
static void dev_release(struct usb_device *d)
{
	struct xhci *hc = d->hc;
	uint64_t flags;

	if (d->slot) {
		if (!hc->dead)
			xhci_command(hc, 0, slot_cmd(TRB_DISABLE_SLOT, d->slot), NULL);
		flags = spin_lock_irqsave(&hc->lock);
		hc->by_slot[d->slot] = NULL;
		hc->dcbaa[d->slot] = 0;
		spin_unlock_irqrestore(&hc->lock, flags);
	}
	if (hc->dead)
		return;         /* the controller may still write there: keep the memory */
	dma_free(d->in_pa);
	dma_free(d->out_pa);
	dma_free(d->buf_pa);
	dma_free(d->ep0.pa);
	dma_free(d->intr.pa);
	hc->dev_used[d - hc->devs] = false;
}

static int address_device(struct usb_device *d, uint16_t mps0)
{
	volatile uint32_t *slot, *ep0;
	char ccbuf[16];
	int cc;

	clear_input(d);
	in_ctx(d, 0)[XHCI_INPUT_ADD] = INPUT_ADD_SLOT | INPUT_ADD_EP(XHCI_DCI_EP0);
	slot = in_ctx(d, 1);
	slot[0] = (d->loc.route & SLOT_CTX_ROUTE_MASK) | SLOT_CTX_SPEED(d->speed) |
		  SLOT_CTX_ENTRIES(1);
	slot[1] = SLOT_CTX_ROOT_PORT(d->port);
	slot[2] = SLOT_CTX_TT_SLOT(d->loc.tt_slot) | SLOT_CTX_TT_PORT(d->loc.tt_port);
	ep0 = in_ctx(d, 1 + XHCI_DCI_EP0);
	ep0[1] = EP_CTX_CERR(XHCI_CERR_MAX) | EP_CTX_TYPE(EP_TYPE_CONTROL) |
		 EP_CTX_MAX_PACKET(mps0);
	ep0[2] = (uint32_t)d->ep0.pa | EP_CTX_DCS;
	ep0[3] = (uint32_t)(d->ep0.pa >> 32);
	ep0[4] = EP_CTX_AVG_TRB(USB_SETUP_LEN);
	cc = xhci_command(d->hc, d->in_pa, slot_cmd(TRB_ADDRESS_DEVICE, d->slot), NULL);
	if (cc != CC_SUCCESS) {
		if (cc >= 0)
			kprintf("usb: %s: Address Device: %s; device skipped\n", d->name,
				xhci_cc_name((unsigned int)cc, ccbuf, sizeof(ccbuf)));
		return -EIO;
	}
	return 0;
}

/* The default endpoint's real max packet size once the descriptor told it. */
static int update_ep0(struct usb_device *d, uint16_t mps0)
{
	char ccbuf[16];
	int cc;

	clear_input(d);
	in_ctx(d, 0)[XHCI_INPUT_ADD] = INPUT_ADD_EP(XHCI_DCI_EP0);
	for (unsigned int i = 0; i < XHCI_CTX_DWORDS; i++)
		in_ctx(d, 1 + XHCI_DCI_EP0)[i] = out_ctx(d, XHCI_DCI_EP0)[i];
	in_ctx(d, 1 + XHCI_DCI_EP0)[1] = (in_ctx(d, 1 + XHCI_DCI_EP0)[1] &
					  ~EP_CTX_MAX_PACKET_MASK) | EP_CTX_MAX_PACKET(mps0);
	cc = xhci_command(d->hc, d->in_pa, slot_cmd(TRB_EVALUATE_CTX, d->slot), NULL);
	if (cc != CC_SUCCESS) {
		if (cc >= 0)
			kprintf("usb: %s: Evaluate Context: %s; device skipped\n", d->name,
				xhci_cc_name((unsigned int)cc, ccbuf, sizeof(ccbuf)));
		return -EIO;
	}
	return 0;
}

static int configure_interrupt_ep(struct usb_device *d, const struct usb_kbd_info *k)
{
	uint8_t dci = (uint8_t)((k->ep_addr & USB_EP_NUM_MASK) * 2 + 1);
	uint16_t mps = k->ep_max_packet & USB_EP_MAXP_MASK;
	uint32_t burst = d->speed == USB_SPEED_HIGH ?
			 (k->ep_max_packet >> USB_EP_MAXP_MULT_SHIFT) & USB_EP_MAXP_MULT_MASK : 0;
	volatile uint32_t *slot, *ep;
	char ccbuf[16];
	int cc;

	clear_input(d);
	in_ctx(d, 0)[XHCI_INPUT_ADD] = INPUT_ADD_SLOT | INPUT_ADD_EP(dci);
	slot = in_ctx(d, 1);
	for (unsigned int i = 0; i < XHCI_CTX_DWORDS; i++)
		slot[i] = out_ctx(d, 0)[i];
	slot[0] = (slot[0] & ~SLOT_CTX_ENTRIES_MASK) | SLOT_CTX_ENTRIES(dci);
	slot[3] = 0;    /* device address and slot state are the controller's */
	ep = in_ctx(d, 1 + dci);
	ep[0] = EP_CTX_INTERVAL(xhci_interrupt_interval(d->speed, k->ep_interval));
	ep[1] = EP_CTX_CERR(XHCI_CERR_MAX) | EP_CTX_TYPE(EP_TYPE_INTERRUPT_IN) |
		EP_CTX_MAX_BURST(burst) | EP_CTX_MAX_PACKET(mps);
	ep[2] = (uint32_t)d->intr.pa | EP_CTX_DCS;
	ep[3] = (uint32_t)(d->intr.pa >> 32);
	ep[4] = EP_CTX_AVG_TRB(mps) | EP_CTX_MAX_ESIT_LO(mps * (burst + 1));
	cc = xhci_command(d->hc, d->in_pa, slot_cmd(TRB_CONFIGURE_EP, d->slot), NULL);
	if (cc != CC_SUCCESS) {
		if (cc >= 0)
			kprintf("usb: %s: Configure Endpoint: %s; device skipped\n", d->name,
				xhci_cc_name((unsigned int)cc, ccbuf, sizeof(ccbuf)));
		return -EIO;
	}
	d->kbd_dci = dci;
	d->kbd_len = mps < XHCI_REPORT_MAX ? mps : XHCI_REPORT_MAX;
	return 0;
}

/* After a STALL on the default endpoint: Reset Endpoint, then skip to the enqueue pointer. */
static int ep0_recover(struct usb_device *d)
{
	uint64_t deq;
	int cc;

	cc = xhci_command(d->hc, 0, slot_cmd(TRB_RESET_EP, d->slot) |
			  (uint32_t)XHCI_DCI_EP0 << TRB_EP_SHIFT, NULL);
	if (cc != CC_SUCCESS)
		return -EIO;
	deq = (d->ep0.pa + d->ep0.enq * sizeof(struct xhci_trb)) | d->ep0.cycle;
	cc = xhci_command(d->hc, deq, slot_cmd(TRB_SET_TR_DEQUEUE, d->slot) |
			  (uint32_t)XHCI_DCI_EP0 << TRB_EP_SHIFT, NULL);
	return cc == CC_SUCCESS ? 0 : -EIO;
}

/* The product string in English, or "" (devices need not have one). */
static void product_string(struct usb_device *d, uint8_t index, char *out, size_t size)
{
	size_t n;
	uint16_t lang;
	uint8_t cc = 0;

	out[0] = '\0';
	if (!index)
		return;
	if (usb_control(d, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8, 0,
			USB_STRING_MAX, &n, &cc) == 0 && n >= 4) {
		lang = (uint16_t)(d->buf[2] | d->buf[3] << 8);
		if (usb_control(d, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR,
				(uint16_t)(USB_DT_STRING << 8 | index), lang, USB_STRING_MAX, &n,
				&cc) == 0) {
			usb_string_ascii((const uint8_t *)d->buf, n, out, size);
			return;
		}
	}
	if (cc == CC_STALL)
		ep0_recover(d);
}

static void usb_log(void *ctx, const char *fmt, ...)
{
	struct usb_device *d = ctx;
	char buf[120];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("usb: %s: %s; device skipped\n", d->name, buf);
}

static int setup_hub(struct usb_device *d, const struct usb_device_desc *dd);

/*
 * Everything after the address: descriptors, then a keyboard's or a hub's
 * configuration. 0: a keyboard is running; SETUP_HUB: a hub, kept; < 0:
 * skipped (reported).
 */
#define SETUP_HUB 1
static int setup_device(struct usb_device *d)
{
	struct usb_device_desc dd;
	struct usb_kbd_info k;
	char product[48], cls[24];
	uint16_t total, mps0;
	size_t n;
	uint8_t cc;
	int rc;

	if (get_descriptor(d, "device descriptor", USB_DT_DEVICE, 0, 0, 8, &n) < 0)
		return -EIO;
	mps0 = xhci_ep0_from_desc(d->speed, d->buf[7]);
	if (mps0 != xhci_ep0_max_packet(d->speed) && update_ep0(d, mps0) < 0)
		return -EIO;
	if (get_descriptor(d, "device descriptor", USB_DT_DEVICE, 0, 0, USB_DEVICE_DESC_LEN,
			   &n) < 0)
		return -EIO;
	if (n < USB_DEVICE_DESC_LEN || d->buf[1] != USB_DT_DEVICE) {
		kprintf("usb: %s: device descriptor of %zu bytes, type %#x; device skipped\n",
			d->name, n, d->buf[1]);
		return -EIO;
	}
	memcpy(&dd, (const void *)d->buf, sizeof(dd));
	product_string(d, dd.iProduct, product, sizeof(product));
	if (d->hc->dead)
		return -EIO;
	kprintf("usb: %s: %04x:%04x \"%s\", %s speed, USB %x.%02x\n", d->name, dd.idVendor,
		dd.idProduct, product, xhci_speed_name(d->speed), dd.bcdUSB >> 8,
		dd.bcdUSB & 0xFF);
	if (dd.bDeviceClass == USB_CLASS_HUB)
		return setup_hub(d, &dd);
	if (get_descriptor(d, "configuration descriptor", USB_DT_CONFIG, 0, 0,
			   USB_CONFIG_DESC_LEN, &n) < 0)
		return -EIO;
	total = (uint16_t)(d->buf[2] | d->buf[3] << 8);
	if (total > XHCI_CTL_BUF_LEN)
		total = XHCI_CTL_BUF_LEN;
	if (total < USB_CONFIG_DESC_LEN)
		total = USB_CONFIG_DESC_LEN;
	if (get_descriptor(d, "configuration descriptor", USB_DT_CONFIG, 0, 0, total, &n) < 0)
		return -EIO;
	rc = usb_find_boot_keyboard((const uint8_t *)d->buf, n, &k, usb_log, d);
	if (rc == -ENOENT) {
		kprintf("usb: %s: %s, not a boot keyboard; device skipped\n", d->name,
			k.ninterfaces ? usb_class_name(k.first_class, k.first_subclass,
						       k.first_protocol, cls, sizeof(cls)) :
			"no interfaces");
		return -ENOENT;
	}
	if (rc < 0)
		return rc;
	if (configure_interrupt_ep(d, &k) < 0)
		return -EIO;
	if (control_or_report(d, "SET_CONFIGURATION", USB_DIR_OUT | USB_TYPE_STANDARD |
			      USB_RECIP_DEVICE, USB_REQ_SET_CONFIGURATION, k.config_value, 0, 0,
			      NULL) < 0)
		return -EIO;
	if (control_or_report(d, "SET_PROTOCOL(boot)", USB_DIR_OUT | USB_TYPE_CLASS |
			      USB_RECIP_INTERFACE, HID_REQ_SET_PROTOCOL, HID_PROTOCOL_BOOT,
			      k.interface, 0, NULL) < 0)
		return -EIO;
	/* SET_IDLE is optional for keyboards (HID 1.11, 7.2.4): a STALL is tolerated. */
	rc = usb_control(d, USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE, HID_REQ_SET_IDLE,
			 HID_IDLE_INDEFINITE << 8, k.interface, 0, NULL, &cc);
	if (rc == -ETIMEDOUT) {
		kprintf("usb: %s: SET_IDLE: no answer in %u ms; device skipped\n", d->name,
			XHCI_CTL_MS);
		return -EIO;
	}
	if (rc < 0 && (cc != CC_STALL || ep0_recover(d) < 0)) {
		kprintf("usb: %s: SET_IDLE failed and the endpoint did not recover; device skipped\n",
			d->name);
		return -EIO;
	}
	uint64_t flags = spin_lock_irqsave(&d->hc->lock);
	d->kbd_interface = k.interface;
	d->keyboard = true;
	kbd_queue(d);
	if (leds_registered)
		kbd_set_leds(d, kbd_leds());    /* a keyboard plugged in later catches up */
	spin_unlock_irqrestore(&d->hc->lock, flags);
	kprintf("usb: %s: boot keyboard on interface %u, endpoint %#x (%u-byte reports, "
		"interval %u)\n", d->name, k.interface, k.ep_addr, d->kbd_len, k.ep_interval);
	return 0;
}

/* Reset (USB2) or check (USB3) a connected port; its speed, or -1 (reported). */
static int port_enable(struct xhci *hc, unsigned int port)
{
	uint32_t sc = rd(hc->op, XHCI_PORTSC(port));
	bool usb3 = hc->port_major[port] >= 3;

	if (!(sc & PORTSC_PED)) {
		/* USB3 ports train and enable themselves; one that did not gets a warm reset. */
		wr(hc->op, XHCI_PORTSC(port), (sc & PORTSC_PRESERVE) |
		   (usb3 ? PORTSC_WPR : PORTSC_PR));
		if (!wait_reg(hc->op, XHCI_PORTSC(port), PORTSC_PRC, PORTSC_PRC,
			      XHCI_PORT_RESET_MS)) {
			kprintf("usb: xhci %s port %u: reset not done in %u ms; port skipped\n",
				hc->bdf, port, XHCI_PORT_RESET_MS);
			return -1;
		}
		sleep_ms(XHCI_RESET_RECOVERY_MS);
		sc = rd(hc->op, XHCI_PORTSC(port));
	}
	wr(hc->op, XHCI_PORTSC(port), (sc & PORTSC_PRESERVE) | (sc & PORTSC_CHANGE_BITS));
	if (!(sc & PORTSC_CCS))
		return -1;      /* gone during the reset */
	if (!(sc & PORTSC_PED)) {
		kprintf("usb: xhci %s port %u: not enabled after reset (PORTSC %#x); port skipped\n",
			hc->bdf, port, sc);
		return -1;
	}
	return (int)((sc & PORTSC_SPEED_MASK) >> PORTSC_SPEED_SHIFT);
}

/* A device at loc whose port is enabled: slot, address, set-up; skipped with a line on failure. */
static void attach_device(struct xhci *hc, const struct usb_loc *loc)
{
	struct usb_device *d;
	char ccbuf[16];
	uint8_t slot = 0;
	int cc, rc;

	hc->devices++;
	d = dev_alloc(hc);
	if (!d) {
		kprintf("usb: xhci %s port %s: no memory or device entries left; device skipped\n",
			hc->bdf, loc->path);
		return;
	}
	d->loc = *loc;
	d->port = loc->root_port;
	d->speed = loc->speed;
	ksnprintf(d->name, sizeof(d->name), "xhci %s port %s", hc->bdf, loc->path);
	cc = xhci_command(hc, 0, TRB_TYPE(TRB_ENABLE_SLOT), &slot);
	if (cc != CC_SUCCESS || slot == 0 || slot > hc->max_slots) {
		if (cc >= 0)
			kprintf("usb: %s: Enable Slot: %s (slot %u); device skipped\n", d->name,
				xhci_cc_name((unsigned int)cc, ccbuf, sizeof(ccbuf)), slot);
		dev_release(d);
		return;
	}
	d->slot = slot;
	uint64_t flags = spin_lock_irqsave(&hc->lock);
	hc->dcbaa[slot] = d->out_pa;
	hc->by_slot[slot] = d;
	spin_unlock_irqrestore(&hc->lock, flags);
	if (address_device(d, xhci_ep0_max_packet(d->speed)) < 0) {
		dev_release(d);
		return;
	}
	rc = setup_device(d);
	if (rc < 0) {
		dev_release(d);
	} else if (rc == 0) {
		hc->keyboards++;
		nkeyboards++;
	}
}

static void port_attach(struct xhci *hc, unsigned int port)
{
	struct usb_loc loc = { .root_port = (uint8_t)port };
	int speed = port_enable(hc, port);

	if (speed < 0)
		return;
	loc.speed = (uint8_t)speed;
	ksnprintf(loc.path, sizeof(loc.path), "%u", port);
	attach_device(hc, &loc);
}

/* ------------------------------------------------------------ hubs (USB 2.0, 11.24) */

static int hub_port_status(struct usb_device *hub, unsigned int port, uint16_t *st,
			   uint16_t *change)
{
	size_t n;

	if (control_or_report(hub, "GetPortStatus", USB_RT_PORT_IN, USB_REQ_GET_STATUS, 0,
			      (uint16_t)port, USB_HUB_STATUS_LEN, &n) < 0)
		return -EIO;
	if (n < USB_HUB_STATUS_LEN) {
		kprintf("usb: %s: GetPortStatus(%u) gave %zu bytes; port skipped\n", hub->name,
			port, n);
		return -EIO;
	}
	*st = (uint16_t)(hub->buf[0] | hub->buf[1] << 8);
	*change = (uint16_t)(hub->buf[2] | hub->buf[3] << 8);
	return 0;
}

static int hub_port_feature(struct usb_device *hub, uint8_t req, uint16_t feature,
			    unsigned int port)
{
	return control_or_report(hub, req == USB_REQ_SET_FEATURE ? "SetPortFeature" :
				 "ClearPortFeature", USB_RT_PORT_OUT, req, feature,
				 (uint16_t)port, 0, NULL);
}

/* One downstream port of a hub: reset it and attach what is there. */
static void hub_port_attach(struct usb_device *hub, unsigned int port)
{
	struct usb_loc loc = { .root_port = hub->loc.root_port,
			       .depth = (uint8_t)(hub->loc.depth + 1) };
	uint64_t deadline;
	uint16_t st, change = 0;

	if (hub_port_status(hub, port, &st, &change) < 0 || !(st & HUB_PORT_CONNECTION))
		return;
	ksnprintf(loc.path, sizeof(loc.path), "%s.%u", hub->loc.path, port);
	if (port > XHCI_ROUTE_PORT_MAX) {
		kprintf("usb: xhci %s port %s: hub port above %u cannot be routed; port skipped\n",
			hub->hc->bdf, loc.path, XHCI_ROUTE_PORT_MAX);
		return;
	}
	if (hub_port_feature(hub, USB_REQ_SET_FEATURE, HUB_FEAT_PORT_RESET, port) < 0)
		return;
	deadline = time_ns() + XHCI_PORT_RESET_MS * NS_PER_MS;
	do {
		if (hub_port_status(hub, port, &st, &change) < 0)
			return;
		if (change & HUB_C_PORT_RESET)
			break;
		sleep_ms(XHCI_HUB_POLL_MS);
	} while (time_ns() < deadline);
	if (!(change & HUB_C_PORT_RESET)) {
		kprintf("usb: xhci %s port %s: hub port reset not done in %u ms; port skipped\n",
			hub->hc->bdf, loc.path, XHCI_PORT_RESET_MS);
		return;
	}
	if (hub_port_feature(hub, USB_REQ_CLEAR_FEATURE, HUB_FEAT_C_RESET, port) < 0 ||
	    hub_port_feature(hub, USB_REQ_CLEAR_FEATURE, HUB_FEAT_C_CONNECTION, port) < 0)
		return;
	sleep_ms(XHCI_RESET_RECOVERY_MS);
	if (!(st & HUB_PORT_ENABLE)) {
		kprintf("usb: xhci %s port %s: hub port not enabled after reset; port skipped\n",
			hub->hc->bdf, loc.path);
		return;
	}
	loc.speed = st & HUB_PORT_LOW_SPEED ? USB_SPEED_LOW :
		    st & HUB_PORT_HIGH_SPEED ? USB_SPEED_HIGH : USB_SPEED_FULL;
	loc.route = hub->loc.route | (uint32_t)port << (4 * hub->loc.depth);
	/* A low- or full-speed device below a high-speed hub goes through that hub's TT. */
	if (hub->speed == USB_SPEED_HIGH && loc.speed != USB_SPEED_HIGH) {
		loc.tt_slot = hub->slot;
		loc.tt_port = (uint8_t)port;
	} else {
		loc.tt_slot = hub->loc.tt_slot;
		loc.tt_port = hub->loc.tt_port;
	}
	attach_device(hub->hc, &loc);
}

/* Tell the controller the slot is a hub (Configure Endpoint, slot context only). */
static int hub_slot_context(struct usb_device *d, uint8_t nports, bool mtt, uint8_t ttt)
{
	volatile uint32_t *slot;
	char ccbuf[16];
	int cc;

	clear_input(d);
	in_ctx(d, 0)[XHCI_INPUT_ADD] = INPUT_ADD_SLOT;
	slot = in_ctx(d, 1);
	for (unsigned int i = 0; i < XHCI_CTX_DWORDS; i++)
		slot[i] = out_ctx(d, 0)[i];
	slot[0] |= SLOT_CTX_HUB | (mtt ? SLOT_CTX_MTT : 0);
	slot[1] = (slot[1] & ~SLOT_CTX_NPORTS(0xFFu)) | SLOT_CTX_NPORTS(nports);
	if (d->speed == USB_SPEED_HIGH)
		slot[2] |= SLOT_CTX_TTT(ttt);
	slot[3] = 0;
	cc = xhci_command(d->hc, d->in_pa, slot_cmd(TRB_CONFIGURE_EP, d->slot), NULL);
	if (cc != CC_SUCCESS) {
		if (cc >= 0)
			kprintf("usb: %s: Configure Endpoint (hub): %s; device skipped\n", d->name,
				xhci_cc_name((unsigned int)cc, ccbuf, sizeof(ccbuf)));
		return -EIO;
	}
	return 0;
}

static int setup_hub(struct usb_device *d, const struct usb_device_desc *dd)
{
	uint8_t nports, pwrgood, ttt, config;
	uint16_t chars;
	size_t n;

	if (d->speed >= USB_SPEED_SUPER) {
		kprintf("usb: %s: USB 3 hub: not supported; device skipped\n", d->name);
		return -ENOENT;
	}
	if (d->loc.depth >= XHCI_ROUTE_TIERS) {
		kprintf("usb: %s: hub below %u tiers of hubs cannot be routed; device skipped\n",
			d->name, XHCI_ROUTE_TIERS);
		return -ENOENT;
	}
	if (get_descriptor(d, "configuration descriptor", USB_DT_CONFIG, 0, 0,
			   USB_CONFIG_DESC_LEN, &n) < 0)
		return -EIO;
	config = d->buf[5];
	if (control_or_report(d, "SET_CONFIGURATION", USB_DIR_OUT | USB_TYPE_STANDARD |
			      USB_RECIP_DEVICE, USB_REQ_SET_CONFIGURATION, config, 0, 0, NULL) < 0 ||
	    control_or_report(d, "hub descriptor", USB_RT_HUB_CLASS_IN, USB_REQ_GET_DESCRIPTOR,
			      USB_DT_HUB << 8, 0, XHCI_HUB_DESC_MAX, &n) < 0)
		return -EIO;
	if (n < USB_HUB_DESC_MIN_LEN || d->buf[1] != USB_DT_HUB) {
		kprintf("usb: %s: hub descriptor of %zu bytes, type %#x; device skipped\n",
			d->name, n, d->buf[1]);
		return -EIO;
	}
	nports = d->buf[USB_HUB_DESC_NPORTS];
	chars = (uint16_t)(d->buf[USB_HUB_DESC_CHARS] | d->buf[USB_HUB_DESC_CHARS + 1] << 8);
	pwrgood = d->buf[USB_HUB_DESC_PWRGOOD];
	ttt = (uint8_t)((chars >> HUB_CHAR_TTTT_SHIFT) & 3);
	if (hub_slot_context(d, nports, d->speed == USB_SPEED_HIGH &&
			     dd->bDeviceProtocol == USB_HUB_PROTOCOL_MTT, ttt) < 0)
		return -EIO;
	d->is_hub = true;
	kprintf("usb: %s: hub with %u ports\n", d->name, nports);
	for (unsigned int p = 1; p <= nports; p++)
		if (hub_port_feature(d, USB_REQ_SET_FEATURE, HUB_FEAT_PORT_POWER, p) < 0)
			return d->hc->dead ? -EIO : SETUP_HUB;
	sleep_ms(2u * pwrgood > XHCI_PORT_POWER_MS ? 2u * pwrgood : XHCI_PORT_POWER_MS);
	for (unsigned int p = 1; p <= nports && !d->hc->dead; p++)
		hub_port_attach(d, p);
	return SETUP_HUB;
}

/* ------------------------------------------------------------ hotplug (root ports) */

static bool root_port_used(struct xhci *hc, unsigned int port)
{
	for (unsigned int i = 0; i < XHCI_MAX_DEVICES; i++)
		if (hc->dev_used[i] && hc->devs[i].port == port)
			return true;
	return false;
}

/* Everything on a root port went away: keys it held are released, slots disabled. */
static void detach_root_port(struct xhci *hc, unsigned int port)
{
	static const uint8_t released[KBD_BOOT_REPORT_LEN];

	for (unsigned int i = 0; i < XHCI_MAX_DEVICES; i++) {
		struct usb_device *d = &hc->devs[i];
		bool was_keyboard;
		uint64_t flags;

		if (!hc->dev_used[i] || d->port != port)
			continue;
		flags = spin_lock_irqsave(&hc->lock);
		was_keyboard = d->keyboard && !d->kbd_stopped;
		d->keyboard = false;
		hc->by_slot[d->slot] = NULL;    /* no more events reach it */
		spin_unlock_irqrestore(&hc->lock, flags);
		if (was_keyboard) {
			kbd_boot_report(&d->kstate, released);
			hc->keyboards--;
			nkeyboards--;
		}
		kprintf("usb: %s: removed\n", d->name);
		dev_release(d);
	}
}

static void hotplug_port(struct xhci *hc, unsigned int port)
{
	uint32_t sc = rd(hc->op, XHCI_PORTSC(port));

	if (!(sc & PORTSC_CCS)) {
		if (root_port_used(hc, port)) {
			kprintf("usb: xhci %s port %u: disconnected\n", hc->bdf, port);
			detach_root_port(hc, port);
		}
		return;
	}
	if (root_port_used(hc, port))
		return;         /* a bounce on a port whose device is still there */
	kprintf("usb: xhci %s port %u: connected\n", hc->bdf, port);
	port_attach(hc, port);
	kprintf("usb: xhci %s: %u keyboard%s\n", hc->bdf, hc->keyboards,
		hc->keyboards == 1 ? "" : "s");
}

/*
 * Connect changes on root ports after boot, from port_event(): runs the
 * same attach code as boot (it sleeps and waits, so not in the interrupt).
 * The only thread issuing commands once set-up is over.
 */
static void xhci_hotplug_thread(void *arg)
{
	uint32_t seen = 0;

	(void)arg;
	for (;;) {
		wait_event(&hotplug_wq, hotplug_gen != seen);
		seen = hotplug_gen;
		for (unsigned int i = 0; i < ncontrollers; i++) {
			struct xhci *hc = &controllers[i];

			if (!hc->running || hc->dead)
				continue;
			for (unsigned int p = 1; p <= hc->max_ports; p++)
				if (__atomic_exchange_n(&hc->port_changed[p], false, __ATOMIC_SEQ_CST))
					hotplug_port(hc, p);
		}
	}
}

/* ------------------------------------------------------------ typematic repeat */

/*
 * Presses the held key of every keyboard again when its time comes; sleeps
 * until the next one is due, or, with no key held, until one is.
 */
static void xhci_repeat_thread(void *arg)
{
	(void)arg;
	for (;;) {
		uint32_t seen = repeat_gen;
		uint64_t now = time_ns(), next = UINT64_MAX;

		for (unsigned int i = 0; i < ncontrollers; i++) {
			struct xhci *hc = &controllers[i];

			if (!hc->running)
				continue;
			for (unsigned int j = 0; j < XHCI_MAX_DEVICES; j++) {
				struct usb_device *d = &hc->devs[j];
				uint64_t flags = spin_lock_irqsave(&hc->lock);
				uint8_t usage = 0;

				if (hc->dev_used[j] && d->keyboard && d->held) {
					if (now >= d->repeat_at) {
						usage = d->held;
						d->repeat_at = now + KBD_REPEAT_PERIOD_MS * NS_PER_MS;
					}
					if (d->repeat_at < next)
						next = d->repeat_at;
				}
				spin_unlock_irqrestore(&hc->lock, flags);
				if (usage)
					kbd_key(usage, true);
			}
		}
		if (next == UINT64_MAX)
			wait_event(&repeat_wq, repeat_gen != seen);
		else if (next > now)
			sleep_ns(next - now);
	}
}

/* ------------------------------------------------------------ controller */

/* USB Legacy Support (xHCI 4.22.1): ask the firmware to let go, bounded, then take it. */
static void take_ownership(struct xhci *hc)
{
	bool bad;
	uint32_t off = xhci_ext_cap_find(cap_read, hc, HCC1_XECP(hc->hcc1), (uint32_t)hc->mmio_size,
					 XECP_ID_LEGACY, 0, &bad);
	uint32_t v;

	if (bad)
		kprintf("usb: xhci %s: extended capability list is malformed; not walked further\n",
			hc->bdf);
	if (!off)
		return;
	v = rd(hc->base, off);
	wr(hc->base, off, v | USBLEGSUP_OS_OWNED);
	if (v & USBLEGSUP_BIOS_OWNED) {
		if (wait_reg(hc->base, off, USBLEGSUP_BIOS_OWNED, 0, XHCI_HANDOFF_MS)) {
			kprintf("usb: xhci %s: firmware handed the controller over\n", hc->bdf);
		} else {
			kprintf("usb: xhci %s: firmware kept the controller for %u ms; taking it anyway\n",
				hc->bdf, XHCI_HANDOFF_MS);
			wr(hc->base, off, (rd(hc->base, off) & ~USBLEGSUP_BIOS_OWNED) |
			   USBLEGSUP_OS_OWNED);
		}
	}
	/* No more SMIs from the controller; pending SMI events acknowledged (RW1C). */
	v = rd(hc->base, off + USBLEGCTLSTS);
	wr(hc->base, off + USBLEGCTLSTS, (v & ~LEGCTL_SMI_ENABLES) | LEGCTL_SMI_EVENTS);
}

/* Which ports are USB2 and which USB3 (Supported Protocol capabilities, xHCI 7.2). */
static void find_protocols(struct xhci *hc)
{
	uint32_t off = 0;
	bool bad;

	while ((off = xhci_ext_cap_find(cap_read, hc, HCC1_XECP(hc->hcc1),
					(uint32_t)hc->mmio_size, XECP_ID_PROTOCOL, off, &bad))) {
		uint32_t v = rd(hc->base, off), ports = rd(hc->base, off + XPROTO_PORTS);
		unsigned int first = XPROTO_PORT_OFFSET(ports), count = XPROTO_PORT_COUNT(ports);

		for (unsigned int p = first; p < first + count && p <= hc->max_ports; p++)
			if (p)
				hc->port_major[p] = (uint8_t)XPROTO_MAJOR(v);
	}
}

static int reset_controller(struct xhci *hc)
{
	if (!wait_reg(hc->op, XHCI_USBSTS, USBSTS_CNR, 0, XHCI_CNR_MS)) {
		kprintf("usb: xhci %s: not ready after %u ms; controller skipped\n", hc->bdf,
			XHCI_CNR_MS);
		return -ETIMEDOUT;
	}
	if (!(rd(hc->op, XHCI_USBSTS) & USBSTS_HCH)) {
		wr(hc->op, XHCI_USBCMD, rd(hc->op, XHCI_USBCMD) & ~(USBCMD_RS | USBCMD_INTE));
		if (!wait_reg(hc->op, XHCI_USBSTS, USBSTS_HCH, USBSTS_HCH, XHCI_HALT_MS)) {
			kprintf("usb: xhci %s: did not halt in %u ms; controller skipped\n",
				hc->bdf, XHCI_HALT_MS);
			return -ETIMEDOUT;
		}
	}
	wr(hc->op, XHCI_USBCMD, USBCMD_HCRST);
	if (!wait_reg(hc->op, XHCI_USBCMD, USBCMD_HCRST, 0, XHCI_RESET_MS) ||
	    !wait_reg(hc->op, XHCI_USBSTS, USBSTS_CNR, 0, XHCI_CNR_MS)) {
		kprintf("usb: xhci %s: reset not done in %u ms; controller skipped\n", hc->bdf,
			XHCI_RESET_MS);
		return -ETIMEDOUT;
	}
	return 0;
}

static int alloc_structures(struct xhci *hc)
{
	struct xhci_erst_entry *erst;
	volatile uint64_t *array;

	hc->dcbaa_pa = dma_page();
	hc->erst_pa = dma_page();
	hc->evt_pa = dma_page();
	if (!hc->dcbaa_pa || !hc->erst_pa || !hc->evt_pa || ring_init(&hc->cmd) < 0)
		return -ENOMEM;
	hc->dcbaa = phys_to_virt(hc->dcbaa_pa);
	hc->evt = phys_to_virt(hc->evt_pa);
	hc->evt_deq = 0;
	hc->evt_cycle = 1;
	erst = phys_to_virt(hc->erst_pa);
	erst[0] = (struct xhci_erst_entry){ .base = hc->evt_pa, .size = XHCI_EVENT_TRBS };
	if (hc->nscratch) {
		unsigned int order = hc->nscratch > XHCI_SCRATCH_PER_PAGE ? 1 : 0;

		hc->scratch_pa = pmm_alloc_frames_low(order);
		if (!hc->scratch_pa)
			return -ENOMEM;
		array = phys_to_virt(hc->scratch_pa);
		for (unsigned int i = 0; i < hc->nscratch; i++)
			if (!(array[i] = dma_page()))
				return -ENOMEM;
		hc->dcbaa[0] = hc->scratch_pa;
	}
	return 0;
}

static int start_controller(struct xhci *hc)
{
	uint32_t slots = hc->max_slots;

	if (!(rd(hc->op, XHCI_PAGESIZE) & PAGESIZE_4K)) {
		kprintf("usb: xhci %s: no 4 KiB page size (PAGESIZE %#x); controller skipped\n",
			hc->bdf, rd(hc->op, XHCI_PAGESIZE));
		return -EINVAL;
	}
	if (alloc_structures(hc) < 0) {
		kprintf("usb: xhci %s: out of memory below 4 GiB; controller skipped\n", hc->bdf);
		return -ENOMEM;
	}
	wr(hc->op, XHCI_CONFIG, (rd(hc->op, XHCI_CONFIG) & ~0xFFu) | slots);
	wr64(hc->op, XHCI_DCBAAP, hc->dcbaa_pa);
	wr64(hc->op, XHCI_CRCR, hc->cmd.pa | CRCR_RCS);
	wr(hc->rt, XHCI_IR0 + XHCI_ERSTSZ, 1);
	wr(hc->rt, XHCI_IR0 + XHCI_ERDP + 4, (uint32_t)(hc->evt_pa >> 32));
	wr(hc->rt, XHCI_IR0 + XHCI_ERDP, (uint32_t)hc->evt_pa);
	wr64(hc->rt, XHCI_IR0 + XHCI_ERSTBA, hc->erst_pa);
	wr(hc->op, XHCI_USBCMD, USBCMD_RS);
	if (!wait_reg(hc->op, XHCI_USBSTS, USBSTS_HCH, 0, XHCI_RUN_MS)) {
		kprintf("usb: xhci %s: did not start in %u ms; controller skipped\n", hc->bdf,
			XHCI_RUN_MS);
		return -ETIMEDOUT;
	}
	return 0;
}

static void scan_ports(struct xhci *hc)
{
	bool powered = false;

	if (hc->hcc1 & HCC1_PPC) {
		for (unsigned int p = 1; p <= hc->max_ports; p++) {
			uint32_t sc = rd(hc->op, XHCI_PORTSC(p));
			if (!(sc & PORTSC_PP)) {
				wr(hc->op, XHCI_PORTSC(p), (sc & PORTSC_PRESERVE) | PORTSC_PP);
				powered = true;
			}
		}
		if (powered)
			sleep_ms(XHCI_PORT_POWER_MS);
	}
	/* Connections are seen only after the link comes up (USB3 training takes tens of ms). */
	sleep_ms(XHCI_PORT_SETTLE_MS);
	for (unsigned int p = 1; p <= hc->max_ports && !hc->dead; p++)
		if (rd(hc->op, XHCI_PORTSC(p)) & PORTSC_CCS)
			port_attach(hc, p);
}

static void xhci_probe(const struct pci_dev *pd)
{
	struct xhci *hc = &controllers[ncontrollers];
	struct pci_bar bar;
	uint32_t caplen, dboff, rtsoff;

	memset(hc, 0, sizeof(*hc));
	hc->pci = pd;
	spin_init(&hc->lock, "xhci");
	pci_bdf(pd, hc->bdf);
	hc->base = pci_map_bar(pd, 0, &bar);
	if (!hc->base) {
		kprintf("usb: xhci %s: no usable BAR0; controller skipped\n", hc->bdf);
		return;
	}
	hc->mmio_pa = bar.base;
	hc->mmio_size = bar.size;
	/* Before the controller runs: setting up MSI-X sizes BAR0 with decoding off. */
	hc->irq_how = pci_msi_enable(pd, VEC_USB);
	pci_enable(pd, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	caplen = rd(hc->base, XHCI_CAPLENGTH) & 0xFF;
	dboff = rd(hc->base, XHCI_DBOFF) & DBOFF_MASK;
	rtsoff = rd(hc->base, XHCI_RTSOFF) & RTSOFF_MASK;
	if (caplen < XHCI_CAP_MIN_LEN || caplen + XHCI_PORTSC(1) > bar.size ||
	    dboff >= bar.size || rtsoff + XHCI_IR0 + 0x20 > bar.size) {
		kprintf("usb: xhci %s: registers outside BAR0 (caplength %#x, dboff %#x, rtsoff %#x, "
			"%lu bytes); controller skipped\n", hc->bdf, caplen, dboff, rtsoff, bar.size);
		return;
	}
	hc->op = hc->base + caplen;
	hc->rt = hc->base + rtsoff;
	hc->db = hc->base + dboff;
	hc->hcc1 = rd(hc->base, XHCI_HCCPARAMS1);
	hc->ctx_dwords = hc->hcc1 & HCC1_CSZ ? 2 * XHCI_CTX_DWORDS : XHCI_CTX_DWORDS;
	hc->max_slots = HCS1_MAX_SLOTS(rd(hc->base, XHCI_HCSPARAMS1));
	if (hc->max_slots > XHCI_MAX_SLOTS_USED)
		hc->max_slots = XHCI_MAX_SLOTS_USED;
	hc->max_ports = HCS1_MAX_PORTS(rd(hc->base, XHCI_HCSPARAMS1));
	if (caplen + XHCI_PORTSC(hc->max_ports) + 4 > bar.size)
		hc->max_ports = (unsigned int)((bar.size - caplen - XHCI_PORTSC(1)) / 0x10);
	hc->nscratch = xhci_scratchpads(rd(hc->base, XHCI_HCSPARAMS2));
	ncontrollers++;         /* from here on the interrupt handler may look at it */

	take_ownership(hc);
	find_protocols(hc);
	if (reset_controller(hc) < 0 || start_controller(hc) < 0) {
		hc->dead = true;
		return;
	}
	kprintf("usb: xhci %s: %04x:%04x, xHCI %x.%02x at 0x%lx, %u ports, %u slots, "
		"%u-byte contexts, %u scratchpad pages, %s\n", hc->bdf, pd->vendor, pd->device,
		rd(hc->base, XHCI_CAPLENGTH) >> 24, (rd(hc->base, XHCI_CAPLENGTH) >> 16) & 0xFF,
		hc->mmio_pa,
		hc->max_ports, hc->max_slots, hc->ctx_dwords * 4, hc->nscratch,
		hc->irq_how ? hc->irq_how : "no MSI: polled");
	scan_ports(hc);
	if (hc->dead) {
		wr(hc->op, XHCI_USBCMD, 0);     /* stop it; its memory stays allocated */
		return;
	}
	/* Interrupts from now on: interrupter 0 enabled, then the controller's master enable. */
	if (hc->irq_how) {
		wr(hc->rt, XHCI_IR0 + XHCI_IMOD, 0);
		wr(hc->rt, XHCI_IR0 + XHCI_IMAN, IMAN_IE | IMAN_IP);
	}
	hc->running = true;
	if (hc->irq_how)
		wr(hc->op, XHCI_USBCMD, rd(hc->op, XHCI_USBCMD) | USBCMD_INTE);
	xhci_service(hc);       /* anything that came before the interrupts were on */
	kprintf("usb: xhci %s: %u device%s connected, %u keyboard%s\n", hc->bdf, hc->devices,
		hc->devices == 1 ? "" : "s", hc->keyboards, hc->keyboards == 1 ? "" : "s");
}

void xhci_init(void)
{
	bool polled = false;
	unsigned int found = 0;
	uint64_t start = time_ns();
	char fault[16];

	if (cmdline_get(boot_info()->cmdline, "usb_fault", fault, sizeof(fault)) > 0) {
		fault_commands = strcmp(fault, "commands") == 0;
		kprintf("usb: fault injection '%s'%s\n", fault, fault_commands ? "" :
			" not known; ignored");
	}

	irq_register(VEC_USB, xhci_irq);
	for (size_t i = 0; i < pci_count(); i++) {
		const struct pci_dev *pd = pci_get(i);
		char bdf[PCI_BDF_LEN];

		if (pd->class != XHCI_PCI_CLASS || pd->subclass != XHCI_PCI_SUBCLASS)
			continue;
		if (pd->progif != XHCI_PCI_PROGIF) {
			kprintf("usb: %s: USB controller with programming interface %#x (not xHCI) "
				"skipped\n", pci_bdf(pd, bdf), pd->progif);
			continue;
		}
		found++;
		if (ncontrollers == XHCI_MAX_CONTROLLERS) {
			kprintf("usb: xhci %s: more than %u controllers; skipped\n", pci_bdf(pd, bdf),
				XHCI_MAX_CONTROLLERS);
			continue;
		}
		xhci_probe(pd);
	}
	for (unsigned int i = 0; i < ncontrollers; i++)
		polled |= controllers[i].running && !controllers[i].irq_how;
	if (polled && !kthread_create(xhci_poll_thread, NULL, "xhci_poll"))
		kprintf("usb: cannot start the polling thread; polled controllers get no input\n");
	/* The lock state on every keyboard now, and whenever it changes. */
	if (ncontrollers && kbd_register_leds(xhci_leds) < 0)
		kprintf("usb: no keyboard LED listener slot left; USB keyboard LEDs stay off\n");
	else if (ncontrollers)
		leds_registered = true;
	if (ncontrollers && !kthread_create(xhci_repeat_thread, NULL, "usb_repeat"))
		kprintf("usb: cannot start the key repeat thread; held keys do not repeat\n");
	if (ncontrollers && !kthread_create(xhci_hotplug_thread, NULL, "usb_hotplug"))
		kprintf("usb: cannot start the hotplug thread; devices plugged in later are not seen\n");
	if (!found)
		kprintf("usb: no xHCI controller\n");
	else
		kprintf("usb: %u xHCI controller%s, %u keyboard%s, set up in %lu ms\n", found,
			found == 1 ? "" : "s", nkeyboards, nkeyboards == 1 ? "" : "s",
			(time_ns() - start) / NS_PER_MS);
}
