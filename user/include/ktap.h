/*
 * KTAP output for the test programs (docs/serial.md): a header and
 * plan, one "ok N name" / "not ok N name # reason" line per case, and the
 * number of failures as the exit status (capped to fit the 8-bit status).
 * Only one thread of a program may report.
 */
#ifndef USER_KTAP_H
#define USER_KTAP_H

#include <stdbool.h>

#define KTAP_MAX_STATUS         255

void ktap_begin(const char *suite, int cases);
/* Reports one case; the reason (printf format) is printed only when !ok. */
bool ktap_result(bool ok, const char *name, const char *reason_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports a case that cannot run here as "ok N name # SKIP reason". */
void ktap_skip(const char *name, const char *reason);
/* Prints "# <suite>: N passed, N failed"; returns the exit status. */
int ktap_end(void);

#endif
