/* CMOS real-time clock (Motorola MC146818 compatible). */
#ifndef KERNEL_RTC_H
#define KERNEL_RTC_H

#include <stdint.h>

struct rtc_time {
	uint16_t year;
	uint8_t month, day, hour, minute, second;
};

/* Reads a consistent date and time; returns 0 or -EIO if it never settles. */
int rtc_read(struct rtc_time *t);

#endif
