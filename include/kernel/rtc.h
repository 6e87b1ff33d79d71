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
/* One CMOS register, under cmos_lock (index and data ports are a pair). */
uint8_t cmos_read(uint8_t reg);

#endif
