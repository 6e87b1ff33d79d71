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
#define RTC_CENTURY     0x32    /* ACPI FADT usually names this one */
#define RTC_READ_TRIES  1000
/*
 * An update cycle keeps UIP set for under 2 ms (MC146818A: 1984 us at
 * most); polls cost about a microsecond each (port I/O), so this bound is
 * tens of update cycles. A clock stuck in update (dead battery, no RTC)
 * is reported as unsettled instead of hanging boot.
 */
#define RTC_UIP_POLLS   100000

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

static void rtc_snapshot(struct rtc_raw *r)
{
	r->second = cmos_read(RTC_SECONDS);
	r->minute = cmos_read(RTC_MINUTES);
	r->hour = cmos_read(RTC_HOURS);
	r->day = cmos_read(RTC_DAY);
	r->month = cmos_read(RTC_MONTH);
	r->year = cmos_read(RTC_YEAR);
	r->century = cmos_read(RTC_CENTURY);
}

static bool rtc_wait_not_updating(void)
{
	for (int i = 0; i < RTC_UIP_POLLS; i++) {
		if (!(cmos_read(RTC_STATUS_A) & RTC_UIP))
			return true;
		cpu_relax();
	}
	return false;
}

int rtc_read(struct rtc_time *t)
{
	struct rtc_raw a, b;
	int tries = 0;

	do {
		if (++tries > RTC_READ_TRIES || !rtc_wait_not_updating())
			return -EIO;
		rtc_snapshot(&a);
		rtc_snapshot(&b);
	} while (a.second != b.second || a.minute != b.minute || a.hour != b.hour ||
		 a.day != b.day || a.month != b.month || a.year != b.year ||
		 a.century != b.century);
	a.status_b = cmos_read(RTC_STATUS_B);
	rtc_decode(&a, t);
	return 0;
}
