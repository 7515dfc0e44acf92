/* log.c: leveled logging through the device's callback; libzadm never prints by itself. */
#include "config.h"

#include <stdio.h>

#include "internal.h"

void zadm_log(const struct zadm_logger *lg, int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (!lg || !lg->fn || level > lg->level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lg->fn(lg->userdata, level, buf);
}
