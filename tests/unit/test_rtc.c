/* Host tests for drivers/rtc_decode.c: BCD and binary, 12- and 24-hour, century. */
#include "unit.h"
#include "../../drivers/rtc_decode.c"

#define BCD(v) ((uint8_t)(((v) / 10) << 4 | ((v) % 10)))

static struct rtc_time decode(uint8_t hour, uint8_t status_b, bool bcd_regs)
{
	struct rtc_raw r = {
		.second = bcd_regs ? BCD(59) : 59, .minute = bcd_regs ? BCD(30) : 30,
		.hour = hour, .day = bcd_regs ? BCD(31) : 31, .month = bcd_regs ? BCD(12) : 12,
		.year = bcd_regs ? BCD(26) : 26, .century = bcd_regs ? BCD(20) : 20,
		.status_b = status_b,
	};
	struct rtc_time t;

	rtc_decode(&r, &t);
	return t;
}

static const char *test_bcd_24h(void)
{
	struct rtc_time t = decode(BCD(23), RTC_STATUS_B_24H, true);

	UASSERT_EQ(t.year, 2026);
	UASSERT_EQ(t.month, 12);
	UASSERT_EQ(t.day, 31);
	UASSERT_EQ(t.hour, 23);
	UASSERT_EQ(t.minute, 30);
	UASSERT_EQ(t.second, 59);
	return NULL;
}

static const char *test_binary_24h(void)
{
	struct rtc_time t = decode(7, RTC_STATUS_B_24H | RTC_STATUS_B_BINARY, false);

	UASSERT_EQ(t.year, 2026);
	UASSERT_EQ(t.hour, 7);
	UASSERT_EQ(t.minute, 30);
	return NULL;
}

/* Every 12-hour register value against the 24-hour hour it means. */
static const char *test_12h_every_hour(void)
{
	for (int h24 = 0; h24 < 24; h24++) {
		int h12 = h24 % 12 == 0 ? 12 : h24 % 12;
		uint8_t pm = h24 >= 12 ? RTC_HOUR_PM : 0;

		UASSERT_EQ(decode((uint8_t)(BCD(h12) | pm), 0, true).hour, h24);
		UASSERT_EQ(decode((uint8_t)(h12 | pm), RTC_STATUS_B_BINARY, false).hour, h24);
	}
	return NULL;
}

static const char *test_midnight_and_noon(void)
{
	UASSERT_EQ(decode(BCD(12), 0, true).hour, 0);                   /* 12 AM */
	UASSERT_EQ(decode(BCD(12) | RTC_HOUR_PM, 0, true).hour, 12);    /* 12 PM */
	UASSERT_EQ(decode(BCD(1) | RTC_HOUR_PM, 0, true).hour, 13);
	return NULL;
}

static const char *test_century_absent(void)
{
	struct rtc_raw r = { .year = BCD(26), .century = 0, .status_b = RTC_STATUS_B_24H,
			     .month = 1, .day = 1 };
	struct rtc_time t;

	rtc_decode(&r, &t);
	UASSERT_EQ(t.year, 2026);
	r.century = BCD(19);
	r.year = BCD(99);
	rtc_decode(&r, &t);
	UASSERT_EQ(t.year, 1999);
	r.century = 0xFF;       /* garbage */
	rtc_decode(&r, &t);
	UASSERT_EQ(t.year, 2099);
	return NULL;
}

UNIT_MAIN("rtc", UTEST(test_bcd_24h), UTEST(test_binary_24h), UTEST(test_12h_every_hour),
	  UTEST(test_midnight_and_noon), UTEST(test_century_absent))
