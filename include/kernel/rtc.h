/* CMOS real-time clock (Motorola MC146818 compatible). */
#ifndef KERNEL_RTC_H
#define KERNEL_RTC_H

#include <stdbool.h>
#include <stdint.h>

struct rtc_time {
	uint16_t year;
	uint8_t month, day, hour, minute, second;
};

/* The clock registers as read, before BCD and 12-hour decoding. */
struct rtc_raw {
	uint8_t second, minute, hour, day, month, year, century;
	uint8_t status_b;
};

#define RTC_STATUS_B_24H        0x02    /* status register B: 24-hour mode */
#define RTC_STATUS_B_BINARY     0x04    /* status register B: binary, not BCD */
#define RTC_HOUR_PM             0x80    /* hour register bit 7 in 12-hour mode */
#define RTC_HOURS_HALF_DAY      12
#define RTC_CENTURY_MIN         19
#define RTC_CENTURY_MAX         30
#define RTC_DEFAULT_CENTURY_YEAR 2000

/* Reads a consistent date and time; returns 0 or -EIO if it never settles. */
int rtc_read(struct rtc_time *t);
/* Raw registers to a date: BCD or binary, 12- or 24-hour (drivers/rtc_decode.c). */
void rtc_decode(const struct rtc_raw *raw, struct rtc_time *t);

#endif
