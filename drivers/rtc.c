/*
 * CMOS RTC (MC146818A datasheet). The index port 0x70 and data port 0x71
 * are one shared pair, so every access holds cmos_lock, as Linux's
 * cmos_lock guards rtc_cmos_read(). A read is repeated until two
 * consecutive snapshots agree, outside an update cycle.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/errno.h>
#include <kernel/rtc.h>
#include <kernel/spinlock.h>

#define CMOS_INDEX      0x70
#define CMOS_DATA       0x71
#define   CMOS_NMI_OFF  0x80    /* bit 7 of the index disables NMI; keep it clear */
#define RTC_SECONDS     0x00
#define RTC_MINUTES     0x02
#define RTC_HOURS       0x04
#define RTC_DAY         0x07
#define RTC_MONTH       0x08
#define RTC_YEAR        0x09
#define RTC_STATUS_A    0x0A
#define   RTC_UIP       0x80    /* update in progress */
#define RTC_STATUS_B    0x0B
#define   RTC_24H       0x02
#define   RTC_BINARY    0x04
#define RTC_CENTURY     0x32    /* ACPI FADT usually names this one */
#define   HOUR_PM       0x80
#define RTC_READ_TRIES  1000

static spinlock_t cmos_lock = SPINLOCK_INIT("cmos");

static uint8_t cmos_read(uint8_t reg)
{
	uint64_t flags = spin_lock_irqsave(&cmos_lock);
	uint8_t v;

	outb(CMOS_INDEX, reg);
	v = inb(CMOS_DATA);
	spin_unlock_irqrestore(&cmos_lock, flags);
	return v;
}

static uint8_t bcd(uint8_t v)
{
	return (v & 0x0F) + (v >> 4) * 10;
}

static void rtc_snapshot(struct rtc_time *t, uint8_t *century)
{
	t->second = cmos_read(RTC_SECONDS);
	t->minute = cmos_read(RTC_MINUTES);
	t->hour = cmos_read(RTC_HOURS);
	t->day = cmos_read(RTC_DAY);
	t->month = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	*century = cmos_read(RTC_CENTURY);
}

int rtc_read(struct rtc_time *t)
{
	struct rtc_time a, b;
	uint8_t ca, cb, status;
	int tries = 0;

	do {
		if (++tries > RTC_READ_TRIES)
			return -EIO;
		while (cmos_read(RTC_STATUS_A) & RTC_UIP)
			cpu_relax();
		rtc_snapshot(&a, &ca);
		rtc_snapshot(&b, &cb);
	} while (a.second != b.second || a.minute != b.minute || a.hour != b.hour ||
		 a.day != b.day || a.month != b.month || a.year != b.year || ca != cb);

	status = cmos_read(RTC_STATUS_B);
	bool pm = a.hour & HOUR_PM;
	a.hour &= ~HOUR_PM;
	if (!(status & RTC_BINARY)) {
		a.second = bcd(a.second);
		a.minute = bcd(a.minute);
		a.hour = bcd(a.hour);
		a.day = bcd(a.day);
		a.month = bcd(a.month);
		a.year = bcd((uint8_t)a.year);
		ca = bcd(ca);
	}
	if (!(status & RTC_24H) && pm)
		a.hour = (a.hour + 12) % 24;
	a.year += ca >= 19 && ca <= 30 ? ca * 100 : 2000;
	*t = a;
	return 0;
}
