/*
 * CMOS RTC register values to a date (MC146818A datasheet: BCD or binary,
 * 12- or 24-hour). No hardware here, so the host tests run it
 * (tests/unit/test_rtc.c).
 */
#include <kernel/rtc.h>

static uint8_t bcd(uint8_t v)
{
	return (v & 0x0F) + (v >> 4) * 10;
}

/*
 * In 12-hour mode the hour register counts 12, 1, ..., 11 with bit 7 for
 * PM: 12 AM is midnight (0) and 12 PM is noon (12), so the hour is taken
 * modulo 12 before PM adds 12.
 */
void rtc_decode(const struct rtc_raw *raw, struct rtc_time *t)
{
	bool pm = raw->hour & RTC_HOUR_PM;
	uint8_t hour = raw->hour & (uint8_t)~RTC_HOUR_PM;
	uint8_t year = raw->year, century = raw->century;

	*t = (struct rtc_time){ .second = raw->second, .minute = raw->minute, .hour = hour,
				.day = raw->day, .month = raw->month };
	if (!(raw->status_b & RTC_STATUS_B_BINARY)) {
		t->second = bcd(t->second);
		t->minute = bcd(t->minute);
		t->hour = bcd(t->hour);
		t->day = bcd(t->day);
		t->month = bcd(t->month);
		year = bcd(year);
		century = bcd(century);
	}
	if (!(raw->status_b & RTC_STATUS_B_24H)) {
		t->hour %= RTC_HOURS_HALF_DAY;
		if (pm)
			t->hour += RTC_HOURS_HALF_DAY;
	}
	/* A century register outside 19..30 is absent or garbage: assume 20xx. */
	t->year = (uint16_t)(year + (century >= RTC_CENTURY_MIN && century <= RTC_CENTURY_MAX ?
				     century * 100u : RTC_DEFAULT_CENTURY_YEAR));
}
